"""fukaku.set_num_threads / get_num_threads (torch's names) and the lab's blas_threads block: the count reaches
BLAS (threadpoolctl's own reading is the oracle), is restored, and results do not depend on it."""
from __future__ import annotations

import numpy as np
import pytest

import fukaku as fk
from fukaku.ops import _parallel

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads() -> int:
    """The thread count of the BLAS libraries fukaku controls (those loaded when it first looked: NumPy's; a SciPy
    loaded later brings its own, which fukaku leaves alone), read afresh by threadpoolctl."""
    fk.get_num_threads()
    ours = {lib.filepath for lib in _parallel.Threads.blas.lib_controllers}
    return max(info["num_threads"] for info in threadpoolctl.threadpool_info() if info["filepath"] in ours)


@pytest.fixture
def restore_threads():
    before = fk.get_num_threads()
    yield
    fk.set_num_threads(before)


def test_set_num_threads_reaches_blas_and_get_reads_it(restore_threads):
    fk.set_num_threads(1)
    assert fk.get_num_threads() == 1 == _blas_threads()
    fk.set_num_threads(2)
    assert fk.get_num_threads() == 2 == _blas_threads()


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_set_num_threads_refuses_what_is_not_a_positive_int(bad, restore_threads):
    before = fk.get_num_threads()
    with pytest.raises(ValueError, match="set_num_threads"):
        fk.set_num_threads(bad)
    assert fk.get_num_threads() == before


def test_blas_threads_restores_the_count_even_after_an_error(restore_threads):
    fk.set_num_threads(2)
    with pytest.raises(RuntimeError, match="inside"), _parallel.blas_threads(1):
        assert _blas_threads() == 1
        raise RuntimeError("inside")
    assert _blas_threads() == 2


def test_the_thread_count_does_not_change_the_results(restore_threads):
    x = fk.randn(16, 8, 12, 12, generator=fk.Generator().manual_seed(0))
    w = fk.randn(32, 8, 3, 3, generator=fk.Generator().manual_seed(1))
    outs = []
    for n in (1, 2):
        fk.set_num_threads(n)
        outs.append(fk.nn.functional.conv2d(x, w, padding=1)._data)
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-5)


@pytest.fixture
def split_everything(monkeypatch, restore_threads):
    """Every elementwise pass cut in two (_parallel.split), counting the parts handed to the worker thread."""
    fk.set_num_threads(2)
    monkeypatch.setattr(_parallel, "SPLIT_ELEMENTS", 1)
    handed = []
    executor = _parallel.Threads.executor

    def counting(workers):
        pool = executor(workers)

        class Counting:
            def submit(self, fn, *args):
                handed.append(args)
                return pool.submit(fn, *args)

        return Counting()

    monkeypatch.setattr(_parallel.Threads, "executor", counting)
    return handed


@pytest.mark.parametrize("norm", ["batch", "instance", "layer", "group"])
def test_normalisation_split_among_threads_matches_torch(norm, split_everything):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 4, 5, 7)) * 3 + 1
    g = rng.standard_normal(x.shape)
    weight, bias = rng.standard_normal(4), rng.standard_normal(4)
    results = []
    for lib in (fk, torch):
        F = lib.nn.functional
        xt, w, b = (lib.tensor(a, requires_grad=True) for a in (x, weight, bias))
        y = {"batch": lambda: F.batch_norm(xt, None, None, w, b, training=True),
             "instance": lambda: F.instance_norm(xt, weight=w, bias=b),
             "layer": lambda: F.layer_norm(xt, (5, 7)),
             "group": lambda: F.group_norm(xt, 2, w, b)}[norm]()
        y.backward(lib.tensor(g))
        results.append([t.detach().numpy() for t in (y, xt.grad)] + ([] if norm == "layer" else [w.grad.numpy(), b.grad.numpy()]))
    assert split_everything, "no pass was handed to the second thread"
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


def test_relu_and_add_split_among_threads_match_torch(split_everything):
    torch = pytest.importorskip("torch")
    from fukaku.ops.activation import ZERO_ROW

    rng = np.random.default_rng(1)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal(3 * ZERO_ROW + 5).astype(dtype)  # whole zero rows and a remainder
        x[:6] = [0.0, -0.0, np.nan, np.inf, -np.inf, -1.0]
        other, g = rng.standard_normal(x.shape).astype(dtype), rng.standard_normal(x.shape).astype(dtype)
        results = []
        for lib in (fk, torch):
            xt = lib.tensor(x, requires_grad=True)
            y = lib.relu(xt) + lib.tensor(other)
            y.backward(lib.tensor(g))
            results.append((y.detach().numpy(), xt.grad.numpy()))
        (y, dx), (ty, tdx) = results
        np.testing.assert_array_equal(y, ty)
        np.testing.assert_array_equal(dx, tdx)  # NaN passes the gradient, 0 and -0 stop it, as torch
    assert split_everything


@pytest.mark.parametrize("shape,args", [((6, 3, 8, 8), (2,)),              # the 2×2 tiling
                                        ((5, 2, 9, 7), (3, 2, 1)),          # overlapping padded windows
                                        ((4, 9, 10), (3, 1, 1, 2, True))])  # unbatched: split over channels
def test_max_pooling_split_among_threads_matches_torch(shape, args, split_everything):
    """The maxima and their indices, each pass cut into a range of the leading dim per thread, equal torch's, ties
    (rounded values) and a NaN included; so do the gradients sent back to them, to rounding where overlapping
    windows add up theirs (in another order than torch)."""
    torch = pytest.importorskip("torch")
    x = np.round(np.random.default_rng(2).standard_normal(shape), 1)
    x.flat[7] = np.nan
    g = np.random.default_rng(3).standard_normal(torch.nn.functional.max_pool2d(torch.tensor(x), *args).shape)
    results = []
    for lib in (fk, torch):
        xt = lib.tensor(x, requires_grad=True)
        y, indices = lib.nn.functional.max_pool2d(xt, *args, return_indices=True)
        y.backward(lib.tensor(g))
        results.append((y.detach().numpy(), indices.numpy(), xt.grad.numpy()))
    assert split_everything, "no pass was handed to the second thread"
    (y, indices, dx), (ty, tindices, tdx) = results
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_array_equal(indices, tindices)
    np.testing.assert_allclose(dx, tdx, rtol=1e-12, atol=1e-15)
