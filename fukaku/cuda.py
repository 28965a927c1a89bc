"""``fukaku.cuda`` (PyTorch's ``torch.cuda``): fukaku has no CUDA backend, and says so.

The queries answer as PyTorch does on a machine without a GPU (``is_available()`` is False,
``device_count()`` 0), and the calls a portable script makes unconditionally — seeding, emptying
the cache, synchronising — are valid no-ops, so such a script runs on the CPU unchanged. Asking
for a CUDA device raises :class:`fukaku.DeviceError`.
"""
from __future__ import annotations

from ._device import check_device

__all__ = ["is_available", "device_count", "is_initialized", "manual_seed", "manual_seed_all", "seed", "seed_all",
           "synchronize", "empty_cache", "current_device"]


def is_available() -> bool:
    """False: fukaku computes with NumPy on the CPU."""
    return False


def device_count() -> int:
    """0: no CUDA device is visible to fukaku."""
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """A no-op (there is no CUDA generator to seed); the seed is still checked to be an int."""
    int(seed)


def manual_seed_all(seed: int) -> None:
    """A no-op, like :func:`manual_seed`."""
    int(seed)


def seed() -> None:
    """A no-op: there is no CUDA generator."""


def seed_all() -> None:
    """A no-op: there is no CUDA generator."""


def synchronize(device=None) -> None:
    """Nothing to wait for: fukaku's ops finish before they return. A device, when given, must be the
    CPU (a CUDA device raises :class:`fukaku.DeviceError`)."""
    if device is not None:
        check_device(f"cuda:{device}" if isinstance(device, int) else device, "cuda.synchronize")


def empty_cache() -> None:
    """A no-op: fukaku keeps no device memory cache."""


def current_device() -> int:
    """Raises :class:`fukaku.DeviceError`: there is no current CUDA device."""
    check_device("cuda", "cuda.current_device")
    return -1  # not reached
