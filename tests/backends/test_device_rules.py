"""PyTorch's device rules at the edges: a 0-d CPU tensor goes with a GPU tensor, ``.cuda('cpu')`` is
refused, ``Module.to`` moves all or nothing, and the GPU is asked as little as possible (the device
count once, one read per device for GradScaler's inf check)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fukaku as fk
from backends.devicecheck import host
from fukaku import nn


def test_a_0d_cpu_tensor_goes_with_a_gpu_tensor_as_torch(cuda):
    x = fk.tensor([1.0, -2.0, 3.0], device=cuda, requires_grad=True)
    s = fk.tensor(2.0, requires_grad=True)  # 0-d, on the CPU
    for out in (x * s, s * x, fk.where(x > 0, x, s), fk.maximum(x, fk.tensor(0.0))):
        assert out.device.type == "cuda"
    y = (x * s + s).sum()
    y.backward()
    assert host(y).tolist() == 10.0 and x.grad.device.type == "cuda" and host(x.grad).tolist() == [2.0] * 3
    assert s.grad.device.type == "cpu" and s.grad.item() == 5.0  # sum(x) + 3: the gradient comes back to the CPU
    with pytest.raises(fk.DeviceError, match="Expected all tensors to be on the same device"):
        x + fk.ones(1)  # a 1-element tensor is not 0-d: refused, as in torch
    with pytest.raises(fk.DeviceError, match="Expected all tensors to be on the same device"):
        fk.ones(3) * fk.tensor(2.0, device=cuda)  # a 0-d GPU tensor does not go with a CPU tensor


def test_cuda_with_a_cpu_device_is_refused_as_torch(cuda):
    message = "Invalid device, must be cuda device"
    with pytest.raises(RuntimeError, match=message):
        torch.zeros(1).cuda("cpu")
    with pytest.raises(RuntimeError, match=message):
        torch.nn.Linear(2, 2).cuda("cpu")
    for call in (lambda: fk.zeros(1).cuda("cpu"), lambda: fk.zeros(1).cuda(fk.device("cpu")),
                 lambda: nn.Linear(2, 2).cuda("cpu")):
        with pytest.raises(RuntimeError, match=message):
            call()
    assert fk.zeros(1).cuda(0).device == fk.device("cuda", 0) and nn.Linear(2, 2).cuda("cuda:0").weight.is_cuda


def test_cuda_with_a_cpu_device_is_refused_before_looking_for_a_gpu():
    if fk.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="Invalid device, must be cuda device") as e:
        fk.zeros(1).cuda("cpu")
    assert not isinstance(e.value, fk.DeviceError)
    with pytest.raises(fk.DeviceError):
        fk.zeros(1).cuda()


def test_module_to_moves_all_or_nothing(standin, monkeypatch):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    model(fk.randn(5, 3)).sum().backward()
    before = {name: (t._data, t.grad) for name, t in [*model.named_parameters(), *model.named_buffers()]}
    copy_in = standin.asarray
    calls = []

    def out_of_memory_at_the_fifth(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise MemoryError("Out of memory allocating 64 bytes (stand-in)")
        return copy_in(*args, **kwargs)

    monkeypatch.setattr(standin, "asarray", out_of_memory_at_the_fifth)
    with pytest.raises(MemoryError):
        model.to("cuda")
    for name, t in [*model.named_parameters(), *model.named_buffers()]:
        assert t._data is before[name][0] and t.grad is before[name][1] and t.device.type == "cpu", name
    monkeypatch.setattr(standin, "asarray", copy_in)
    assert all(t.device.type == "cuda" for t in model.to("cuda").state_dict().values())


def test_the_device_count_is_asked_once(standin, monkeypatch):
    runtime = standin.cuda.runtime
    count = runtime.getDeviceCount
    asked = []
    monkeypatch.setattr(runtime, "getDeviceCount", lambda: asked.append(1) or count())
    x = fk.ones(2, device="cuda")
    for _ in range(5):
        fk.zeros_like(x, device="cuda")
        x.new_ones(3, device="cuda:0")
    assert len(asked) <= 1


def test_grad_scaler_reads_the_inf_check_back_once_per_device(standin):
    params = [fk.zeros(4, device="cuda", requires_grad=True) for _ in range(6)]
    opt = fk.optim.SGD(params, lr=1.0)
    scaler = fk.amp.GradScaler("cuda", init_scale=4.0)
    scaler.scale(fk.zeros((), device="cuda"))
    for p in params:
        p.grad = fk.full((4,), 8.0, device="cuda")
    params[3].grad[1] = float("inf")
    reads = type(standin).host_reads
    scaler.unscale_(opt)
    assert type(standin).host_reads == reads + 1  # one bool() for all six gradients
    assert host(params[0].grad).tolist() == [2.0] * 4 and scaler.step(opt) is None  # the inf skips the step
    assert np.isinf(host(params[3].grad)[1])
