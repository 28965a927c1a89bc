"""Dropout (seed 000 §6.1.4): inverted dropout built from tensor ops."""
from __future__ import annotations

import numpy as np

from ...autograd.function import constant
from ...backends import array_module
from ...ops.activation import _result
from ...ops.elementwise import _floating
from ...tensor import Tensor, default_generator


# ----------------------------------------------------------------------------- dropout (seed 000 §6.1.4)
def check_probability(p: float, op: str) -> float:
    if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p!r}")
    return float(p)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout (seed 000 §6.1.4): in training each element becomes 0 with probability
    ``p`` and is scaled by 1/(1 − p) otherwise, so E[h̃] = h; outside training it is the identity.

    The mask is drawn from fukaku's generator (``fukaku.manual_seed`` makes it reproducible).
    With ``inplace=True`` the result is written into ``input``, which is returned (through
    :func:`fukaku.ops.activation._result`, like every ``inplace`` flag).
    Shape: any → the same.
    """
    p = check_probability(p, "dropout")
    return _result(input, lambda x: _dropped(x, p, training), inplace, "dropout_")


def _dropped(input: Tensor, p: float, training: bool) -> Tensor:
    if not training or p == 0.0 or input.numel() == 0:
        return input
    x = _floating(input)
    xp = array_module(x._data)
    if p == 1.0:
        return x * constant(xp.zeros((), x.dtype))
    # float32 uniforms are enough to resolve p and take half the time of float64 ones; the host
    # generator draws them, and only the boolean mask moves to x's array module
    keep = xp.asarray(default_generator().random(x.shape, dtype=np.float32) >= p)
    mask = keep.astype(x.dtype)
    mask *= x.dtype.type(1.0 / (1.0 - p))
    return x * constant(mask)
