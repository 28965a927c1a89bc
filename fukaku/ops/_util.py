"""Helpers shared by the op families: turning operands into tensors, dims, error messages."""
from __future__ import annotations

import builtins

import numpy as np

from .. import dtypes
from ..errors import ShapeError
from ..tensor import _norm_dim, _norm_dims, Tensor, wrap

__all__ = ["lift", "operands", "shape_error", "_norm_dim", "_norm_dims", "fmt"]


def fmt(shape) -> str:
    return str(tuple(shape))


def shape_error(op: str, *shapes, hint: str = "") -> ShapeError:
    listed = " and ".join(fmt(s) for s in shapes)
    return ShapeError(f"{op}: incompatible shapes {listed}" + (f". {hint}" if hint else ""))


def lift(value, like: Tensor) -> Tensor:
    """A non-tensor operand as a tensor, typed the way PyTorch types Python scalars."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (builtins.bool, builtins.int, builtins.float)):
        dt = dtypes.scalar_dtype(value)
        if dtypes.category(dt) <= dtypes.category(like.data.dtype):
            dt = like.data.dtype
        return wrap(np.asarray(value, dtype=dt))
    if isinstance(value, np.generic):
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        return wrap(value)
    return Tensor(value)


def operands(a, b) -> tuple[Tensor, Tensor]:
    """Both operands of a binary op as tensors of one dtype (PyTorch's promotion)."""
    if not isinstance(b, Tensor):
        b = lift(b, a)
    elif not isinstance(a, Tensor):
        a = lift(a, b)
    da, db = a.data.dtype, b.data.dtype
    if da != db:
        target = dtypes.promote(da, a.data.ndim, db, b.data.ndim)
        if da != target:
            a = a.to(target)
        if db != target:
            b = b.to(target)
    return a, b
