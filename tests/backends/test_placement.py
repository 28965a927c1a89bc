"""Placing tensors and modules on a device, as PyTorch does: ``.to``/``.cuda``/``.cpu``, ``device=`` on the
creation functions, ``model.to``, the errors for host conversion and for mixing devices, random numbers from
the device's generator, ``fukaku.cuda``'s queries, and checkpoints' ``map_location``."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fukaku as fk
from backends.devicecheck import host
from fukaku import nn


# ----------------------------------------------------------------------------- tensors
def test_to_cuda_and_back_copies_and_keeps_values(cuda):
    x = fk.tensor([[1.5, -2.0], [3.0, 4.25]])
    on = x.to(cuda)
    assert on.device == fk.device("cuda", 0) and str(on.device) == "cuda:0" and on.is_cuda and not on.is_cpu
    assert x.device.type == "cpu"  # the source is untouched
    assert on.to(cuda) is on and on.cuda() is on  # already there: the tensor itself, as torch
    back = on.cpu()
    assert back.device == fk.device("cpu") and back is not x and back.tolist() == x.tolist()
    assert on.tolist() == x.tolist() and on[0, 1].item() == -2.0 and float(on.sum()) == 6.75


def test_to_device_and_dtype_together(cuda):
    x = fk.arange(4)
    y = x.to(cuda, fk.float64)
    assert y.device.type == "cuda" and y.dtype is fk.float64 and y.tolist() == [0.0, 1.0, 2.0, 3.0]
    z = fk.ones(2).to(y)  # another tensor's device and dtype
    assert z.device.type == "cuda" and z.dtype is fk.float64
    assert x.to(fk.device(cuda), copy=True).device.type == "cuda"


def test_gradients_flow_back_across_devices(cuda):
    x = fk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x.to(cuda) ** 2).sum()
    y.backward()
    assert x.grad.device.type == "cpu" and x.grad.tolist() == [2.0, 4.0, 6.0]
    w = fk.tensor([1.0, -1.0], device=cuda, requires_grad=True)
    (w.cpu() * 3).sum().backward()
    assert w.grad.device.type == "cuda" and w.grad.tolist() == [3.0, 3.0]


def test_numpy_and_implicit_conversion_refuse_a_gpu_tensor_as_torch(cuda):
    x = fk.ones(2, device=cuda)
    message = "can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first."
    for convert in (lambda: x.numpy(), lambda: np.asarray(x), lambda: np.array(x)):
        with pytest.raises(TypeError) as e:
            convert()
        assert str(e.value) == message
    assert x.cpu().numpy().tolist() == [1.0, 1.0]


def test_mixing_devices_in_one_op_raises_naming_op_devices_and_fix(cuda):
    a, b = fk.ones(2, device=cuda), fk.ones(2)
    for combine in (lambda: a + b, lambda: b * a, lambda: fk.matmul(a, b), lambda: fk.cat([a, b])):
        with pytest.raises(fk.DeviceError, match=r"Expected all tensors to be on the same device, but found at least "
                                                  r"two devices, (cuda:0 and cpu|cpu and cuda:0)! Move them to one "
                                                  r"device first"):
            combine()
    model = nn.Linear(2, 2).to(cuda)
    with pytest.raises(fk.DeviceError, match=r"^\w+: Expected all tensors to be on the same device"):
        model(fk.ones(1, 2))
    assert (a + 1.5).device.type == "cuda"  # Python numbers are not tensors: they go where the tensor is


CREATORS = {
    "tensor": lambda **k: fk.tensor([1.0, 2.0], **k), "as_tensor": lambda **k: fk.as_tensor([1.0, 2.0], **k),
    "zeros": lambda **k: fk.zeros(2, 3, **k), "ones": lambda **k: fk.ones((2,), **k), "empty": lambda **k: fk.empty(2, **k),
    "full": lambda **k: fk.full((2,), 7.0, **k), "arange": lambda **k: fk.arange(5, **k),
    "linspace": lambda **k: fk.linspace(0, 1, 5, **k), "logspace": lambda **k: fk.logspace(0, 2, 3, **k),
    "eye": lambda **k: fk.eye(3, **k), "rand": lambda **k: fk.rand(2, 2, **k), "randn": lambda **k: fk.randn(2, **k),
    "randint": lambda **k: fk.randint(0, 5, (3,), **k), "randperm": lambda **k: fk.randperm(4, **k),
    "normal": lambda **k: fk.normal(0.0, 1.0, (3,), **k), "FloatTensor": lambda **k: fk.FloatTensor([1.0], **k),
    "zeros_like": lambda **k: fk.zeros_like(fk.ones(2), **k), "rand_like": lambda **k: fk.rand_like(fk.ones(2), **k),
    "randint_like": lambda **k: fk.randint_like(fk.ones(2), 5, **k),
}


@pytest.mark.parametrize("name", CREATORS)
def test_every_creation_function_places_on_the_device(cuda, name):
    out = CREATORS[name](device=cuda)
    ref = CREATORS[name]()
    assert out.device == fk.device("cuda", 0), name
    assert out.shape == ref.shape and out.dtype == ref.dtype
    if name not in ("empty", "rand", "randn", "randint", "randperm", "normal", "rand_like", "randint_like"):
        np.testing.assert_array_equal(host(out), host(ref))


def test_like_functions_and_new_methods_follow_their_tensor(cuda):
    x = fk.ones(2, 3, device=cuda)
    for made in (fk.zeros_like(x), fk.ones_like(x), fk.full_like(x, 2.0), fk.empty_like(x), fk.rand_like(x),
                 fk.randn_like(x), x.new_zeros(4), x.new_ones(1), x.new_full((2,), 3.0), x.new_tensor([1.0])):
        assert made.device.type == "cuda"
    assert fk.zeros_like(x, device="cpu").device.type == "cpu" and x.new_zeros(2, device="cpu").device.type == "cpu"
    assert fk.tensor(x).device.type == "cuda"  # a copy of a GPU tensor stays on the GPU, as torch.tensor(t)
    assert fk.as_tensor(x) is x and fk.as_tensor(fk.ones(2), device=cuda).device.type == "cuda"


def test_random_numbers_come_from_the_seeded_device_generator(cuda):
    fk.manual_seed(3)
    a = fk.rand(1000, device=cuda)
    fk.cuda.manual_seed(3)
    b = fk.rand(1000, device=cuda)
    c = fk.rand(1000, device=cuda)
    assert a.device.type == "cuda" and host(a).tolist() == host(b).tolist() != host(c).tolist()
    assert 0.0 <= float(a.min()) and float(a.max()) < 1.0 and abs(float(a.mean()) - 0.5) < 0.05
    n = fk.randn(4000, device=cuda, dtype=fk.float64)
    assert n.dtype is fk.float64 and abs(float(n.std()) - 1.0) < 0.05
    p = fk.randperm(10, device=cuda)
    assert sorted(host(p).tolist()) == list(range(10)) and p.dtype is fk.int64
    i = fk.randint(2, 5, (100,), device=cuda)
    assert set(host(i).tolist()) <= {2, 3, 4} and i.dtype is fk.int64
    assert fk.bernoulli(fk.full((50,), 0.5, device=cuda)).device.type == "cuda"
    assert fk.multinomial(fk.tensor([0.0, 1.0, 0.0], device=cuda), 2, replacement=True).tolist() == [1, 1]
    with pytest.raises(RuntimeError, match="Expected a 'cuda' device type for generator but found 'cpu'"):
        fk.rand(2, device=cuda, generator=fk.Generator())
    with pytest.raises(fk.DeviceError, match="fukaku's generators draw on the CPU"):
        fk.Generator(cuda)


def test_a_causal_mask_is_made_on_the_device_asked_for(cuda):
    mask = nn.Transformer.generate_square_subsequent_mask(3, device=cuda)
    assert mask.device.type == "cuda" and host(mask)[0].tolist() == [0.0, -np.inf, -np.inf]


# ----------------------------------------------------------------------------- modules
def test_model_to_cuda_moves_parameters_buffers_and_grads_in_place(cuda):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    weight = model[0].weight
    model(fk.randn(5, 3)).sum().backward()
    assert model.to(cuda) is model
    assert model[0].weight is weight  # optimizers keep their references
    for name, t in model.state_dict().items():
        assert t.device.type == "cuda", name
    assert weight.grad.device.type == "cuda"
    assert model.cpu() is model and all(t.device.type == "cpu" for t in model.state_dict().values())
    assert model.cuda() is model and all(t.device.type == "cuda" for t in model.state_dict().values())
    model.to(cuda, fk.float64)
    assert weight.dtype is fk.float64 and weight.device.type == "cuda"
    assert model[1].num_batches_tracked.dtype is fk.int64 and model[1].num_batches_tracked.device.type == "cuda"


def test_layers_are_built_on_the_device_asked_for(cuda):
    """``device=`` at construction, as PyTorch's ``factory_kwargs``: every parameter and buffer is made there, with
    the values the same seed gives on the CPU (fukaku.nn.init draws on the host), and a training step runs there."""
    layers = [nn.Linear(3, 4, device=cuda), nn.Bilinear(2, 3, 4, device=cuda), nn.Conv2d(2, 3, 3, device=cuda),
              nn.ConvTranspose2d(2, 3, 3, device=cuda), nn.BatchNorm2d(3, device=cuda), nn.LayerNorm(4, device=cuda),
              nn.GroupNorm(1, 3, device=cuda), nn.Embedding(5, 4, device=cuda), nn.LSTM(4, 3, device=cuda),
              nn.GRUCell(4, 3, device=cuda), nn.MultiheadAttention(4, 2, device=cuda),
              nn.TransformerEncoderLayer(4, 2, 8, device=cuda), nn.PReLU(device=cuda)]
    for layer in layers:
        for name, t in [*layer.named_parameters(), *layer.named_buffers()]:
            assert t.device.type == "cuda", (type(layer).__name__, name)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, device=cuda), nn.BatchNorm2d(2, device=cuda), nn.ReLU(),
                          nn.Flatten(), nn.Linear(2 * 4 * 4, 3, device=cuda))
    fk.nn.functional.cross_entropy(model(fk.randn(5, 1, 4, 4, device=cuda)),
                                   fk.tensor([0, 1, 2, 0, 1], device=cuda)).backward()
    assert all(p.grad.device.type == "cuda" for p in model.parameters())
    fk.manual_seed(3)
    on_device = nn.Conv2d(2, 3, 3, device=cuda)
    fk.manual_seed(3)
    on_host = nn.Conv2d(2, 3, 3, device="cpu")
    assert on_host.weight.device.type == "cpu"
    for a, b in zip(on_device.parameters(), on_host.parameters(), strict=True):
        assert host(a).tolist() == host(b).tolist()
    with pytest.raises(fk.DeviceError, match=r"Linear: device 'mps' is not available"):
        nn.Linear(2, 2, device="mps")


# ----------------------------------------------------------------------------- fukaku.cuda
def test_cuda_module_reports_the_device(cuda):
    assert fk.cuda.is_available() and fk.cuda.is_initialized()
    assert fk.cuda.device_count() >= 1 and fk.cuda.current_device() == 0
    assert fk.accelerator.is_available() and fk.accelerator.device_count() == fk.cuda.device_count()
    assert fk.accelerator.current_accelerator() == fk.device("cuda")
    fk.cuda.set_device(0)
    fk.cuda.synchronize()
    fk.cuda.synchronize(0)
    fk.cuda.empty_cache()
    assert fk.cuda.memory_allocated() >= 0 and fk.cuda.memory_reserved() >= fk.cuda.memory_allocated()
    fk.cuda.manual_seed_all(1)
    fk.cuda.seed()
    count = fk.cuda.device_count()
    with pytest.raises(fk.DeviceError, match=f"this machine has {count} cuda device"):
        fk.zeros(1, device=f"cuda:{count}")
    with pytest.raises(fk.DeviceError, match="expected a CUDA device"):
        fk.cuda.synchronize("cpu")
    assert fk.get_default_device() == fk.device("cpu")
    with pytest.raises(fk.DeviceError, match="cannot be made the default"):
        fk.set_default_device(cuda)


def test_cuda_calls_reach_the_device_library(standin):
    before = type(standin).synchronizations
    fk.cuda.synchronize()
    assert type(standin).synchronizations == before + 1
    fk.cuda.empty_cache()
    assert standin.memory_pool.freed == 1 and standin.pinned_memory_pool.freed == 1
    fk.cuda.manual_seed(5)
    a = fk.rand(3, device="cuda")
    standin.random.seed(5)
    assert host(a).tolist() == standin.random.random_sample(3).get().astype(np.float32).tolist()


def test_without_a_device_library_cuda_is_refused_as_before():
    if fk.cuda.is_available():
        pytest.skip("a GPU is present: the refusal is for machines without one")
    assert fk.cuda.is_available() is torch.cuda.is_available() is False
    with pytest.raises(fk.DeviceError, match=r"\(fukaku.cuda.is_available\(\) is False\); use device='cpu' \(CuPy "):
        fk.ones(1).to("cuda")


# ----------------------------------------------------------------------------- checkpoints
def test_map_location_places_loaded_tensors(cuda, tmp_path):
    fk.save({"w": fk.arange(3.0, device=cuda), "n": 2}, tmp_path / "c.pt")
    for location in (cuda, fk.device(cuda), {"cpu": cuda}):
        loaded = fk.load(tmp_path / "c.pt", map_location=location)
        assert loaded["w"].device.type == "cuda" and loaded["w"].tolist() == [0.0, 1.0, 2.0] and loaded["n"] == 2
    assert fk.load(tmp_path / "c.pt")["w"].device.type == "cpu"
    assert fk.load(tmp_path / "c.pt", map_location=lambda t, _: t.cuda())["w"].device.type == "cuda"


def test_a_seed_set_before_the_gpu_library_loads_applies_to_it():
    from backends.standin import registered_standin

    fk.manual_seed(11)
    with registered_standin():  # CuPy too is registered only on first use, after the script's manual_seed
        first = host(fk.rand(5, device="cuda")).tolist()
    fk.manual_seed(11)
    with registered_standin():
        assert host(fk.rand(5, device="cuda")).tolist() == first
    fk.manual_seed(12)
    with registered_standin():
        assert host(fk.rand(5, device="cuda")).tolist() != first


def test_a_gpu_tensor_prints_its_device_as_torch(cuda):
    # torch: tensor([1., 2.], device='cuda:0', dtype=torch.float64, requires_grad=True)
    assert repr(fk.tensor([1.0, 2.0], device=cuda)) == "tensor([1., 2.], device='cuda:0')"
    assert repr(fk.tensor([1.0, 2.0], device=cuda, dtype=fk.float64, requires_grad=True)) == \
        "tensor([1., 2.], device='cuda:0', dtype=fukaku.float64, requires_grad=True)"
    assert repr(fk.zeros(0, 3, device=cuda)) == "tensor([], device='cuda:0', size=(0, 3))"
