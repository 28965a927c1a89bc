"""``fukaku.backends.cudnn`` (PyTorch's ``torch.backends.cudnn``): the flags scripts set for
reproducibility or speed. fukaku has no cuDNN, so they are recorded and change nothing: NumPy's
CPU kernels are deterministic, and there are no algorithms to benchmark.
"""
from __future__ import annotations

__all__ = ["is_available", "version", "enabled", "benchmark", "deterministic", "allow_tf32"]

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: fukaku does not use cuDNN."""
    return False


def version() -> None:
    """None: no cuDNN library is loaded."""
    return None
