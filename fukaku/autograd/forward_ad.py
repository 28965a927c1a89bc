"""Forward-mode automatic differentiation with dual tensors (seed 000 §6.1.2, "forward mode").

A dual tensor carries a tangent ``ẋ`` next to its primal ``x``. Inside a ``dual_level`` every op
that sees a tangent on an input applies its jvp rule, so ``f(x + εẋ) = f(x) + ε J_f(x) ẋ`` is
carried through the program in one forward pass — no backward pass, no double-backward trick.
Mirrors ``torch.autograd.forward_ad``.
"""
from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np

from .. import dtypes
from ..backends import array_module
from ..errors import ShapeError
from ..tensor import Tensor, wrap
from .function import Function
from .grad_mode import state

_levels = itertools.count(1)


class dual_level:
    """``with dual_level():`` — tangents attached with :func:`make_dual` inside it propagate.

    Levels do not nest: forward-over-forward is not supported (use jacobian of a jvp instead).
    """

    def __enter__(self) -> int:
        if state.forward_level:
            raise RuntimeError("dual_level: nested forward-mode levels are not supported")
        state.forward_level = next(_levels)
        return state.forward_level

    def __exit__(self, *exc) -> None:
        state.forward_level = 0


class _Alias(Function):
    """Identity that shares memory: the primal side of a dual tensor."""

    is_view = True

    def forward(self, x: Tensor) -> np.ndarray:
        return x._data.view()

    def vjp(self, grad: Tensor) -> Tensor:
        return grad

    def jvp(self, dx: Tensor) -> Tensor:
        return dx


def make_dual(tensor: Tensor, tangent: Tensor) -> Tensor:
    """A view of ``tensor`` carrying ``tangent`` (same shape) in the current dual level."""
    if not state.forward_level:
        raise RuntimeError("make_dual: must be called inside `with fukaku.autograd.forward_ad.dual_level():`")
    if not isinstance(tangent, Tensor):
        tangent = Tensor(array_module(tensor._data).asarray(tangent, dtype=tensor.dtype))
    if tangent.shape != tensor.shape:
        raise ShapeError(f"make_dual: tangent shape {tuple(tangent.shape)} must equal the primal's {tuple(tensor.shape)}")
    if not dtypes.is_floating_point(tensor.dtype):
        raise TypeError(f"make_dual: expected a floating-point primal, got {tensor.dtype}")
    state.forward_suspended = True
    try:
        dual = _Alias.apply(tensor)
    finally:
        state.forward_suspended = False
    if tangent.dtype != tensor.dtype:
        tangent = wrap(tangent._data.astype(tensor.dtype))
    dual._tangent = (state.forward_level, tangent)
    return dual


class UnpackedDualTensor(NamedTuple):
    primal: Tensor
    tangent: Tensor | None


def unpack_dual(tensor: Tensor) -> UnpackedDualTensor:
    """``(primal, tangent)``; the tangent is None outside the level or when the tensor has none."""
    tangent = tensor._tangent
    level = state.forward_level
    if tangent is None or not level or tangent[0] != level:
        return UnpackedDualTensor(tensor, None)
    state.forward_suspended = True
    try:
        primal = _Alias.apply(tensor)
    finally:
        state.forward_suspended = False
    return UnpackedDualTensor(primal, tangent[1])
