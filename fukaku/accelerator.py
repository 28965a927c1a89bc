"""``fukaku.accelerator`` (PyTorch's ``torch.accelerator``): the GPU when CuPy sees one, else none.

Scripts that pick their device with ``torch.accelerator.current_accelerator() if
torch.accelerator.is_available() else 'cpu'`` choose ``cuda`` where :func:`fukaku.cuda.is_available`
is True (CuPy with at least one GPU, docs/gpu.md) and the CPU everywhere else.
"""
from __future__ import annotations

from . import cuda
from ._device import device

__all__ = ["is_available", "device_count", "current_accelerator"]


def is_available() -> bool:
    """True when a CUDA GPU is usable through CuPy (:func:`fukaku.cuda.is_available`)."""
    return cuda.is_available()


def device_count() -> int:
    """The number of CUDA GPUs CuPy sees; 0 without one."""
    return cuda.device_count()


def current_accelerator(check_available: bool = False) -> device | None:
    """``device('cuda')`` when a GPU is usable, else None (``check_available`` as PyTorch: None then too)."""
    return device("cuda") if cuda.is_available() else None
