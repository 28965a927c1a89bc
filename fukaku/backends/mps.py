"""``fukaku.backends.mps`` (PyTorch's ``torch.backends.mps``): Apple's Metal backend is not part of fukaku."""
from __future__ import annotations

__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    """False: fukaku computes with NumPy on the CPU (``device='mps'`` raises fukaku.DeviceError)."""
    return False


def is_built() -> bool:
    """False: fukaku is not built with MPS support."""
    return False
