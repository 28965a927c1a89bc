"""``detect_anomaly``: find the op that first produced NaN or Inf, forward or backward.

Inside ``with fukaku.autograd.detect_anomaly():`` every op checks its output, and every vjp its
gradients; the first non-finite value raises a ``RuntimeError`` naming the op and, for the
backward pass, the forward line that created the node.
"""
from __future__ import annotations

import numpy as np

from .grad_mode import state


def _finite(arr: np.ndarray) -> bool:
    return arr.dtype.kind not in "fc" or bool(np.isfinite(arr).all())


def check_forward(op: type, inputs, data: np.ndarray) -> None:
    if _finite(data):
        return
    bad = "nan" if np.isnan(data).any() else "inf"
    inputs_ok = all(_finite(t.data) for t in inputs)
    origin = "from finite inputs" if inputs_ok else "(its inputs already contained NaN/Inf)"
    raise RuntimeError(f"detect_anomaly: forward of {op.__name__} produced {bad} values {origin}; "
                       f"input shapes {[tuple(t.shape) for t in inputs]}")


def check_backward(fn, input_grads) -> None:
    for i, g in enumerate(input_grads):
        if g is not None and not _finite(g.data):
            bad = "nan" if np.isnan(g.data).any() else "inf"
            where = "".join(fn._stack[-4:]) if fn._stack else "(unknown)\n"
            raise RuntimeError(
                f"detect_anomaly: function '{fn.name}Backward' returned {bad} values in its {i}th output.\n"
                f"The forward call that created it:\n{where}"
            )


class detect_anomaly:
    """Context manager: raise at the first op whose output or gradient is NaN/Inf. Slows every op."""

    def __init__(self, check_nan: bool = True) -> None:
        self.enable = check_nan

    def __enter__(self) -> None:
        self.prev = state.anomaly
        state.anomaly = self.enable

    def __exit__(self, *exc) -> None:
        state.anomaly = self.prev


class set_detect_anomaly(detect_anomaly):
    """``set_detect_anomaly(mode)`` as a context manager, like torch."""

    def __init__(self, mode: bool) -> None:
        super().__init__(mode)
