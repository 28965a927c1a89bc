"""Devices (fukaku/_device.py, cuda.py, accelerator.py, backends/mps.py and cudnn.py): fukaku.device
behaves as torch.device; without a GPU every device= and .to(...) accepts the CPU and refuses the rest
with one error, fukaku.DeviceError, and the cuda/mps/accelerator probes answer as PyTorch on a CPU-only
machine. (What a GPU makes possible is tested in tests/backends/, on the stand-in GPU and on a real one;
the tests below that expect no GPU skip where one is present.)"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku import nn

WITHOUT_GPU = pytest.mark.skipif(fk.cuda.is_available() or torch.cuda.is_available(),
                                 reason="expects a machine without a GPU (tests/backends/ covers the GPU)")
CUDA_MESSAGE = (r"device 'cuda' is not available: fukaku has no GPU backend on this machine "
                r"\(fukaku.cuda.is_available\(\) is False\); use device='cpu'")


# ----------------------------------------------------------------------------- fukaku.device
@pytest.mark.parametrize("args, kwargs", [
    (("cpu",), {}), (("cpu:0",), {}), (("cuda",), {}), (("cuda:1",), {}), (("cuda", 1), {}), (("mps",), {}),
    ((), {"type": "cuda", "index": 1}), (("meta",), {}), (("cpu", 0), {}),
])
def test_device_objects_match_torch(args, kwargs):
    ours, ref = fk.device(*args, **kwargs), torch.device(*args, **kwargs)
    assert repr(ours) == repr(ref) and str(ours) == str(ref)
    assert (ours.type, ours.index) == (ref.type, ref.index)
    assert fk.device(ours) == ours and hash(fk.device(str(ours))) == hash(ours)


def test_device_equality_is_as_torch():
    pairs = [("cpu", "cpu"), ("cpu", "cpu:0"), ("cuda:0", "cuda:0"), ("cuda", "cpu")]
    for a, b in pairs:
        assert (fk.device(a) == fk.device(b)) == (torch.device(a) == torch.device(b))
    # a device never equals a string, in either library
    assert (fk.device("cpu") == "cpu") == (torch.device("cpu") == "cpu") == ("cpu" == fk.device("cpu")) is False


@pytest.mark.parametrize("args", [("foo",), ("CPU",), ("cuda:x",), ("cuda:-1",), ("cpu", -1), ("cuda:1", 2), (1.5,)])
def test_malformed_devices_raise_torchs_error_types(args):
    with pytest.raises(Exception) as want:
        torch.device(*args)
    with pytest.raises(want.type) as got:
        fk.device(*args)
    if want.type is RuntimeError:
        assert str(got.value) == str(want.value)


def test_tensors_are_on_the_cpu():
    x = fk.zeros(2)
    assert x.device == fk.device("cpu") and repr(x.device) == repr(torch.zeros(2).device) == "device(type='cpu')"
    assert x.is_cuda is False and x.is_cpu is True and x.cpu() is x
    assert fk.get_default_device() == fk.device("cpu")


# ----------------------------------------------------------------------------- device= everywhere
CREATORS = {
    "tensor": lambda L, **k: L.tensor([1.0, 2.0], **k),
    "as_tensor": lambda L, **k: L.as_tensor([1.0, 2.0], **k),
    "zeros": lambda L, **k: L.zeros(2, 3, **k), "ones": lambda L, **k: L.ones((2,), **k),
    "empty": lambda L, **k: L.empty(2, **k), "full": lambda L, **k: L.full((2,), 7.0, **k),
    "zeros_like": lambda L, **k: L.zeros_like(L.ones(2), **k), "ones_like": lambda L, **k: L.ones_like(L.ones(2), **k),
    "empty_like": lambda L, **k: L.empty_like(L.ones(2), **k),
    "full_like": lambda L, **k: L.full_like(L.ones(2), 3.0, **k),
    "rand_like": lambda L, **k: L.rand_like(L.ones(2), **k), "randn_like": lambda L, **k: L.randn_like(L.ones(2), **k),
    "randint_like": lambda L, **k: L.randint_like(L.ones(2), 5, **k),
    "arange": lambda L, **k: L.arange(5, **k), "linspace": lambda L, **k: L.linspace(0, 1, 5, **k),
    "logspace": lambda L, **k: L.logspace(0, 2, 3, **k), "eye": lambda L, **k: L.eye(3, **k),
    "rand": lambda L, **k: L.rand(2, 2, **k), "randn": lambda L, **k: L.randn(2, **k),
    "randint": lambda L, **k: L.randint(0, 5, (3,), **k), "randperm": lambda L, **k: L.randperm(4, **k),
    "normal": lambda L, **k: L.normal(0.0, 1.0, (3,), **k),
    "FloatTensor": lambda L, **k: L.FloatTensor([1.0], **k), "LongTensor": lambda L, **k: L.LongTensor(2, 3, **k),
}


@pytest.mark.parametrize("name", CREATORS)
def test_every_creation_function_takes_device_cpu(name):
    for device in ("cpu", fk.device("cpu"), "cpu:0", None):
        out = CREATORS[name](fk, device=device)
        assert out.device == fk.device("cpu")
        assert out.shape == CREATORS[name](torch, device=str(device) if device is not None else None).shape


@WITHOUT_GPU
@pytest.mark.parametrize("name", CREATORS)
def test_every_creation_function_refuses_cuda_with_one_error(name):
    with pytest.raises(fk.DeviceError, match=f"{name}: " + CUDA_MESSAGE):
        CREATORS[name](fk, device="cuda")
    with pytest.raises(fk.DeviceError, match="device 'mps' is not available.*fukaku.backends.mps.is_available"):
        CREATORS[name](fk, device=fk.device("mps"))


@WITHOUT_GPU
def test_device_error_is_a_runtime_error_and_what_torch_raises_for_cuda():
    assert issubclass(fk.DeviceError, RuntimeError)
    with pytest.raises(AssertionError):  # torch without CUDA
        torch.zeros(1, device="cuda")
    with pytest.raises(AssertionError):  # so handlers written for torch catch fukaku's too
        fk.zeros(1, device="cuda")


# ----------------------------------------------------------------------------- Tensor.to / cuda / cpu
def test_to_takes_every_form_torch_takes():
    x, tx = fk.tensor([1.5, -2.0]), torch.tensor([1.5, -2.0])
    forms = [((fk.float64,), (torch.float64,), {}), (("cpu",), ("cpu",), {}),
             (("cpu", fk.int64), ("cpu", torch.int64), {}),
             ((fk.device("cpu"), fk.float16), (torch.device("cpu"), torch.float16), {}),
             ((fk.zeros(1, dtype=fk.int32),), (torch.zeros(1, dtype=torch.int32),), {}),
             ((), (), {"dtype": "float64", "device": "cpu", "non_blocking": True}),
             ((fk.float64, False, True), (torch.float64, False, True), {})]
    for ours_args, their_args, kwargs in forms:
        their_kwargs = {k: (getattr(torch, v) if k == "dtype" else v) for k, v in kwargs.items()}
        ours, ref = x.to(*ours_args, **kwargs), tx.to(*their_args, **their_kwargs)
        assert str(ours.dtype).removeprefix("fukaku.") == str(ref.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    assert x.to("cpu") is x and x.to(fk.float32) is x and x.to(x) is x  # nothing to change: the tensor itself
    copied = x.to(copy=True)
    assert copied is not x and copied.numpy() is not x.numpy() and copied.tolist() == x.tolist()
    with pytest.raises(TypeError):
        x.to("cpu", "float32")
    with pytest.raises(TypeError):
        tx.to("cpu", "float32")


@WITHOUT_GPU
def test_to_a_gpu_and_cuda_raise_the_device_error():
    x = fk.ones(2)
    for call in (lambda: x.to("cuda"), lambda: x.to(fk.device("cuda", 0), fk.float64), lambda: x.to(device="mps"),
                 lambda: x.to(0), lambda: x.cuda(), lambda: x.cuda(1)):
        with pytest.raises(fk.DeviceError, match="is not available"):
            call()


def test_to_keeps_the_graph_through_a_dtype_change():
    x = fk.tensor([1.0, 2.0], requires_grad=True)
    (x.to("cpu", fk.float64) * 3).sum().backward()
    assert x.grad.dtype is fk.float32 and x.grad.tolist() == [3.0, 3.0]
    y = fk.tensor([1.0, 2.0], requires_grad=True)
    (y.to(copy=True) * 2).sum().backward()  # a copy stays in the graph too
    assert y.grad.tolist() == [2.0, 2.0]


# ----------------------------------------------------------------------------- Module.to / cpu / cuda
def test_module_to_casts_parameters_and_buffers_as_torch():
    ours, ref = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    assert ours.to("cpu") is ours and ours.cpu() is ours and ref.cpu() is ref
    ours.to("cpu", fk.float64)
    ref.to("cpu", torch.float64)
    for (name, p), (_, q) in zip(ours.state_dict().items(), ref.state_dict().items()):
        assert str(p.dtype).removeprefix("fukaku.") == str(q.dtype).removeprefix("torch."), name
    ours.to(dtype=fk.float32)
    assert ours.weight.dtype is fk.float32 and ours.num_batches_tracked.dtype is fk.int64
    ours.to(fk.ones(1, dtype=fk.float64))
    assert ours.weight.dtype is fk.float64


@WITHOUT_GPU
def test_module_to_refuses_integer_dtypes_and_gpus():
    with pytest.raises(TypeError):
        torch.nn.Linear(2, 2).to(torch.int64)
    with pytest.raises(TypeError, match="floating-point or complex"):
        nn.Linear(2, 2).to(fk.int64)
    for call in (lambda m: m.cuda(), lambda m: m.to("cuda"), lambda m: m.to(device="cuda:1")):
        with pytest.raises(fk.DeviceError, match="device 'cuda(:1)?' is not available"):
            call(nn.Linear(2, 2))


# ----------------------------------------------------------------------------- the probes
@WITHOUT_GPU
def test_cuda_module_answers_as_torch_without_a_gpu():
    assert fk.cuda.is_available() is torch.cuda.is_available() is False
    assert fk.cuda.device_count() == torch.cuda.device_count() == 0
    assert fk.cuda.manual_seed(1) is None and fk.cuda.manual_seed_all(1) is None
    fk.cuda.synchronize()
    fk.cuda.empty_cache()
    with pytest.raises(fk.DeviceError):
        fk.cuda.current_device()
    with pytest.raises(fk.DeviceError):
        fk.cuda.synchronize("cuda:0")


@WITHOUT_GPU
def test_backends_and_accelerator_probes():
    assert fk.backends.mps.is_available() is torch.backends.mps.is_available() is False
    assert fk.backends.cudnn.benchmark is False and fk.backends.cudnn.deterministic is False
    assert not fk.backends.cudnn.is_available()
    fk.backends.cudnn.benchmark = True  # settable, as scripts do; it changes nothing here
    fk.backends.cudnn.benchmark = False
    assert fk.accelerator.is_available() is torch.accelerator.is_available() is False
    assert fk.accelerator.current_accelerator() is None and fk.accelerator.device_count() == 0
    assert fk.backends.array_module(np.ones(1)) is np  # the array seam is untouched


def test_default_device_and_device_context():
    fk.set_default_device("cpu")
    with pytest.raises(fk.DeviceError):
        fk.set_default_device("cuda")
    with fk.device("cpu"):
        assert fk.zeros(1).device == fk.device("cpu")
    with pytest.raises(fk.DeviceError):
        with fk.device("cuda"):
            pass
