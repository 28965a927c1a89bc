"""The stand-in GPU (tests/backends/standin.py) enforces CuPy's rules, so that the device tests can fail:
host arrays are refused as operands, results stay on the device, NumPy functions on device arrays run
only where CuPy has the function, and an op that computes on the host is caught by the comparison."""
from __future__ import annotations

import numpy as np
import pytest

import fukaku as fk
from backends import standin as standin_module
from backends.devicecheck import assert_device_matches_cpu
from backends.standin import HostDeviceArray
from fukaku.autograd import Function


def test_functions_and_operators_refuse_host_operands(standin):
    d = standin.asarray(np.arange(3.0))
    host = np.ones(3)
    for combine in (lambda: d + host, lambda: host * d, lambda: standin.add(d, host), lambda: standin.maximum(host, d),
                    lambda: standin.concatenate([d, host]), lambda: standin.matmul(d, host)):
        with pytest.raises(TypeError, match="Unsupported type <class 'numpy.ndarray'>"):
            combine()
    assert isinstance(d + 1.5, HostDeviceArray) and isinstance(d * np.float32(2), HostDeviceArray)


def test_results_stay_on_the_device_and_reductions_are_0d_arrays(standin):
    d = standin.asarray(np.arange(6.0).reshape(2, 3))
    for out in (d.sum(), standin.max(d), d[0, 1], standin.linalg.norm(d), standin.add.reduce(d, axis=None), d.mean()):
        assert type(out) is HostDeviceArray and out.ndim == 0
    assert all(type(o) is HostDeviceArray for o in standin.nonzero(d > 2))
    assert type(standin.ogrid[0:2, 0:3][1]) is HostDeviceArray
    back = standin.asnumpy(d)
    assert type(back) is np.ndarray and back.tolist() == d.tolist()
    copy = standin.asarray(back)
    back[0, 0] = 99.0  # asarray copied: device memory is separate from the host's
    assert copy[0, 0] == 0.0


def test_numpy_functions_on_device_arrays_run_only_where_cupy_has_them(standin, monkeypatch):
    d = standin.asarray(np.arange(4.0))
    out = np.cumsum(d)  # CuPy's __array_function__: cupy.cumsum
    assert type(out) is HostDeviceArray and out.tolist() == [0.0, 1.0, 3.0, 6.0]
    monkeypatch.setattr(standin_module, "NOT_IN_CUPY", standin_module.NOT_IN_CUPY | {"cumsum"})
    with pytest.raises(TypeError, match="CuPy has no cupy.cumsum"):
        np.cumsum(d)
    with pytest.raises(AttributeError):
        standin.broadcast_shapes  # noqa: B018  (CuPy lacks it: fukaku uses NumPy's shape arithmetic)
    with pytest.raises(AttributeError):
        standin.linalg.LinAlgError  # noqa: B018


def test_host_indices_are_copied_in_and_counted(standin):
    d = standin.asarray(np.arange(5.0))
    before = type(standin).implicit_transfers
    assert d[np.array([4, 0])].tolist() == [4.0, 0.0]
    d[np.array([1])] = np.array([7.0])
    assert type(standin).implicit_transfers == before + 3 and d[1] == 7.0  # an index, an index and a value
    assert d[standin.asarray(np.array([2]))].tolist() == [2.0] and type(standin).implicit_transfers == before + 3


class _HostDouble(Function):
    """2·x computed on the host: the kind of op the device tests exist to catch."""

    def forward(self, x):
        return fk.backends.to_host(x._data) * 2

    def vjp(self, grad):
        return grad * 2


class _HostConstant(Function):
    """x + a host array: refused on a device, as CuPy refuses it."""

    def forward(self, x):
        return x._data + np.ones(x._data.shape, x._data.dtype)

    def vjp(self, grad):
        return grad


class _ImplicitHost(Function):
    """2·x of ``np.asarray(x)``: a host copy CuPy refuses to make implicitly."""

    def forward(self, x):
        return np.asarray(x._data) * 2

    def vjp(self, grad):
        return grad * 2


def test_an_op_that_leaves_the_device_is_caught(standin):
    x = [np.arange(3.0)]
    assert_device_matches_cpu(lambda t: t * 2, x, "cuda")  # the right op passes
    with pytest.raises(AssertionError, match="an output is on cpu, expected cuda"):
        assert_device_matches_cpu(_HostDouble.apply, x, "cuda")
    with pytest.raises(TypeError, match="Unsupported type"):
        assert_device_matches_cpu(_HostConstant.apply, x, "cuda")
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        assert_device_matches_cpu(_ImplicitHost.apply, x, "cuda")


def test_a_device_array_is_not_a_numpy_array_and_host_reads_are_counted(standin):
    d = standin.asarray(np.arange(4.0))
    assert not isinstance(d, np.ndarray)  # as CuPy's: an isinstance(x, np.ndarray) branch must not take it
    for convert in (np.asarray, np.array, np.ascontiguousarray):
        with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed. Please use `.get"):
            convert(d)
    before = type(standin).host_reads
    assert d.get().tolist() == [0.0, 1.0, 2.0, 3.0] and float(d[1]) == 1.0 and bool(d[2]) and d[3].item() == 3.0
    assert type(standin).host_reads == before + 4
    view = d.reshape(2, 2).T
    assert type(view) is HostDeviceArray and view.shape == (2, 2) and view.dtype == np.float64
    view *= 2  # in place, through the view: the array written to is the view itself, as CuPy's
    assert type(view) is HostDeviceArray and standin.asnumpy(d).tolist() == [0.0, 2.0, 4.0, 6.0]


def test_the_device_stays_usable_after_the_standin_leaves():
    with standin_module.registered_standin():
        assert fk.ones(1, device="cuda").device.type == "cuda"
    assert fk.backends.DEVICE_MODULES.get("cuda") is None or fk.cuda.is_available()


def test_cupy_feature_gaps_fail_as_on_cupy(standin):
    d = standin.asarray(np.arange(4.0))
    with pytest.raises(TypeError, match="Wrong arguments"):
        standin.subtract(1.0, d, out=d, where=d > 1)
    with pytest.raises(NotImplementedError, match="cupy_maximum.accumulate"):
        standin.maximum.accumulate(d)
    with pytest.raises(NotImplementedError, match="cupy_maximum.accumulate"):
        np.maximum.accumulate(d)
    with pytest.raises(NotImplementedError, match="cupy_multiply.at"):
        standin.multiply.at(d, standin.asarray(np.array([0])), 2.0)
    with pytest.raises(AttributeError):
        d.flags.writeable  # noqa: B018
    for call in (lambda: standin.lib.stride_tricks.as_strided(d, (2,), (8,), writeable=False),
                 lambda: standin.lexsort((d, d), axis=-1), lambda: d.max(initial=0), lambda: standin.max(d, initial=0)):
        with pytest.raises(TypeError, match="unexpected keyword argument"):
            call()
    # what CuPy does offer still works
    standin.maximum.at(d, standin.asarray(np.array([0, 0])), 7.0)
    assert d.get().tolist() == [7.0, 1.0, 2.0, 3.0]
    assert standin.add.accumulate(d).get().tolist() == [7.0, 8.0, 10.0, 13.0]


@pytest.mark.parametrize("ufunc", ["maximum", "minimum", "logaddexp"])
def test_the_log_step_scan_equals_numpy_accumulate(standin, ufunc):
    from fukaku.ops._util import accumulate

    a = np.random.default_rng(0).standard_normal((3, 13, 2))
    a[1, 4:7, 0] = 0.5  # ties
    got = accumulate(ufunc, standin.asarray(a), 1).get()
    np.testing.assert_allclose(got, getattr(np, ufunc).accumulate(a, axis=1), rtol=1e-12)


def test_scatter_reduce_prod_says_why_it_cannot_run_on_cupy(cuda):
    base = fk.ones(3, device=cuda)
    with pytest.raises(NotImplementedError, match=r"scatter_reduce\(reduce='prod'\).*\.cpu\(\)"):
        base.scatter_reduce(0, fk.tensor([0, 0], device=cuda), fk.tensor([2.0, 3.0], device=cuda), "prod")
