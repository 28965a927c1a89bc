"""``fukaku.accelerator`` (PyTorch's ``torch.accelerator``): fukaku has no accelerator.

Scripts that pick their device with ``torch.accelerator.current_accelerator() if
torch.accelerator.is_available() else 'cpu'`` choose the CPU.
"""
from __future__ import annotations

from ._device import device

__all__ = ["is_available", "device_count", "current_accelerator"]


def is_available() -> bool:
    """False: fukaku computes with NumPy on the CPU."""
    return False


def device_count() -> int:
    return 0


def current_accelerator(check_available: bool = False) -> device | None:
    """None: there is no accelerator."""
    return None
