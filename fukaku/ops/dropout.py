"""Inverted dropout (seed 000 §6.1.4) as a graph node that draws its own mask.

The mask is drawn in the op's forward pass, from fukaku's generator, so that everything that changes from one
call to the next happens inside the op: a forward program of :mod:`fukaku.jit` that replays the op draws a fresh
mask, in the order eager mode draws it. The attention op draws its dropout mask the same way
(:class:`fukaku.ops.attention.Attention`).
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function, constant
from ..backends import array_module
from ..tensor import Tensor, default_generator


def keep_mask(shape: tuple[int, ...], p: float, dtype, xp) -> np.ndarray:
    """Inverted dropout's mask: 1/(1 − p) where a unit is kept (probability 1 − p), 0 elsewhere (all 0 for p = 1).
    float32 uniforms are enough to resolve p and take half the time of float64 ones; the host generator draws
    them, and only the boolean mask moves to the array module ``xp``."""
    keep = xp.asarray(default_generator().random(shape, dtype=np.float32) >= p).astype(dtype)
    keep *= dtype.type(1.0 / (1.0 - p) if p < 1 else 0.0)
    return keep


class InvertedDropout(Function):
    """x · m with m = :func:`keep_mask` drawn in the forward pass, in ``mask_shape`` (the input's shape when None;
    a shape with size-1 dims broadcasts one draw over them: a channel's values share it). Rules: ∂/∂x = m, as
    the product with a constant."""

    def __init__(self, p: float, mask_shape: tuple[int, ...] | None = None) -> None:
        self.p, self.mask_shape = p, mask_shape
        self.mask = None

    def forward(self, x: Tensor) -> np.ndarray:
        a = x._data
        self.mask = keep_mask(a.shape if self.mask_shape is None else self.mask_shape, self.p, a.dtype,
                              array_module(a))
        return a * self.mask

    def vjp(self, grad: Tensor) -> Tensor:
        return grad * constant(self.mask)

    def jvp(self, tangent: Tensor) -> Tensor:
        return tangent * constant(self.mask)
