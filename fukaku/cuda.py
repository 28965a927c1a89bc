"""``fukaku.cuda`` (PyTorch's ``torch.cuda``): the GPU, through CuPy.

fukaku computes on an NVIDIA GPU when CuPy is installed (the extra ``cuda``: ``pip install
'fukaku[cuda]'``, which brings ``cupy-cuda12x``) and sees at least one device; then
``is_available()`` is True and ``tensor.to("cuda")``, ``model.to("cuda")`` and ``device="cuda"``
place tensors there. Without a GPU the queries answer as PyTorch's do on such a machine
(``is_available()`` False, ``device_count()`` 0), and the calls a portable script makes
unconditionally — seeding, emptying the cache, synchronising — are valid no-ops, so the script runs
on the CPU unchanged; asking for a CUDA device raises :class:`fukaku.DeviceError`.

Example::

    >>> device = "cuda" if fukaku.cuda.is_available() else "cpu"
    >>> model = fukaku.nn.Linear(4, 2).to(device)
    >>> model(fukaku.randn(3, 4, device=device)).device.type == device
    True
"""
from __future__ import annotations

import os

from . import backends
from ._device import DeviceError, check_device, device

__all__ = ["is_available", "device_count", "is_initialized", "current_device", "set_device", "manual_seed",
           "manual_seed_all", "seed", "seed_all", "synchronize", "empty_cache", "memory_allocated",
           "memory_reserved"]


def _cupy():
    """The module serving CUDA devices (CuPy), or None without a GPU."""
    return backends.device_module("cuda")


def _index(dev, op: str) -> int:
    """The ordinal of a CUDA device given as None (the current one), an int, a string or a device."""
    asked = device("cuda", dev) if dev is None or isinstance(dev, int) else dev
    checked = check_device(asked, f"cuda.{op}")
    if checked.type != "cuda":
        raise DeviceError(f"cuda.{op}: expected a CUDA device, got '{checked}'")
    return checked.index


def is_available() -> bool:
    """True when CuPy is installed and sees at least one GPU."""
    return _cupy() is not None


def device_count() -> int:
    """The number of GPUs CuPy sees (0 without CuPy or a GPU)."""
    cupy = _cupy()
    return 0 if cupy is None else int(cupy.cuda.runtime.getDeviceCount())


def is_initialized() -> bool:
    """Whether the CUDA backend is in use (CuPy loaded and a GPU seen)."""
    return is_available()


def current_device() -> int:
    """The ordinal of the current GPU (raises :class:`fukaku.DeviceError` without one)."""
    return _index(None, "current_device")


def set_device(dev) -> None:
    """Make ``dev`` (an int, ``'cuda:1'`` or a device) the current GPU: ``device='cuda'`` means it."""
    _cupy().cuda.Device(_index(dev, "set_device")).use()


def manual_seed(seed: int) -> None:
    """Seed the current GPU's generator (what ``fukaku.rand(..., device='cuda')`` draws from); a no-op
    without a GPU, the seed still checked to be an int."""
    seed = int(seed)
    cupy = _cupy()
    if cupy is not None:
        with cupy.cuda.Device(current_device()):
            cupy.random.seed(seed % 2 ** 64)


def manual_seed_all(seed: int) -> None:
    """Seed every GPU's generator (``fukaku.manual_seed`` does this too); a no-op without a GPU."""
    seed = int(seed)
    if _cupy() is not None:
        backends.seed_devices(seed % 2 ** 64)


def seed() -> None:
    """Seed the current GPU's generator from the operating system's entropy (a no-op without a GPU)."""
    manual_seed(int.from_bytes(os.urandom(8), "little"))


def seed_all() -> None:
    """Seed every GPU's generator from the operating system's entropy (a no-op without a GPU)."""
    manual_seed_all(int.from_bytes(os.urandom(8), "little"))


def synchronize(device=None) -> None:
    """Wait until every kernel queued on the GPU (the current one unless given) has finished — needed
    before timing GPU work, since fukaku's GPU ops return as soon as their kernels are queued. Without
    a GPU there is nothing to wait for; a device, when given, must then be the CPU (a CUDA device
    raises :class:`fukaku.DeviceError`)."""
    cupy = _cupy()
    if cupy is None:
        if device is not None:
            check_device(f"cuda:{device}" if isinstance(device, int) else device, "cuda.synchronize")
        return
    cupy.cuda.Device(_index(device, "synchronize")).synchronize()


def empty_cache() -> None:
    """Return the GPU memory CuPy's pools hold but no array uses to the driver (a no-op without a GPU)."""
    cupy = _cupy()
    if cupy is not None:
        cupy.get_default_memory_pool().free_all_blocks()
        cupy.get_default_pinned_memory_pool().free_all_blocks()


def memory_allocated(device=None) -> int:
    """Bytes of GPU memory held by live arrays (CuPy's memory pool ``used_bytes``); 0 without a GPU."""
    cupy = _cupy()
    if cupy is None:
        return 0
    with cupy.cuda.Device(_index(device, "memory_allocated")):
        return int(cupy.get_default_memory_pool().used_bytes())


def memory_reserved(device=None) -> int:
    """Bytes of GPU memory CuPy's pool has taken from the driver (``total_bytes``); 0 without a GPU."""
    cupy = _cupy()
    if cupy is None:
        return 0
    with cupy.cuda.Device(_index(device, "memory_reserved")):
        return int(cupy.get_default_memory_pool().total_bytes())
