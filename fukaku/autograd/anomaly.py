"""``detect_anomaly``: find the op that first produced NaN or Inf, forward or backward.

Inside ``with fukaku.autograd.detect_anomaly():`` every op checks its output, and every vjp its
gradients; the first non-finite value raises a ``RuntimeError`` naming the op and, for the
backward pass, the forward line that created the node.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..backends import array_module
from .grad_mode import state


def _nonfinite(arr: np.ndarray) -> str | None:
    """``'nan'`` or ``'inf'`` when ``arr`` holds such a value (NaN is named first), else ``None``."""
    if not (dtypes.is_floating_point(arr.dtype) or arr.dtype.kind == "c"):
        return None
    xp = array_module(arr)
    if xp.isfinite(arr).all():
        return None
    return "nan" if xp.isnan(arr).any() else "inf"


def check_forward(op: type, inputs, data: np.ndarray) -> None:
    bad = _nonfinite(data)
    if bad is None:
        return
    inputs_ok = all(_nonfinite(t._data) is None for t in inputs)
    origin = "from finite inputs" if inputs_ok else "(its inputs already contained NaN/Inf)"
    raise RuntimeError(f"detect_anomaly: forward of {op.__name__} produced {bad} values {origin}; "
                       f"input shapes {[tuple(t.shape) for t in inputs]}")


def check_backward(fn, input_grads) -> None:
    for i, g in enumerate(input_grads):
        bad = None if g is None else _nonfinite(g._data)
        if bad is not None:
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
