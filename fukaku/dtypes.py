"""The dtypes fukaku supports and PyTorch's type-promotion rules over them.

A dtype is a plain ``numpy.dtype``: ``fukaku.float32 == numpy.dtype('float32')``.
Promotion follows PyTorch, not NumPy: ``int64 + float32 -> float32`` (NumPy says float64),
Python scalars never widen a tensor of their own category (``float32 * 2.0 -> float32``), and a
0-d tensor only decides the result when it is of a higher category than every dimensioned one.
"""
from __future__ import annotations

import builtins

import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
float16 = np.dtype(np.float16)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
bool_ = np.dtype(np.bool_)
float = float32  # noqa: A001  (torch.float is float32)
double = float64
long = int64
int = int32  # noqa: A001  (torch.int is int32)

_default_float = float32


def get_default_dtype() -> np.dtype:
    """The dtype of floating-point tensors made from Python floats (float32 unless changed)."""
    return _default_float


def set_default_dtype(dtype) -> None:
    """Set the dtype used for Python floats and float creation functions (float32 or float64)."""
    global _default_float
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating-point dtypes are allowed, got {dtype}")
    _default_float = dtype


def category(dtype: np.dtype) -> int:
    """0 for bool, 1 for integers, 2 for floating point."""
    kind = dtype.kind
    return 2 if kind in "fc" else (0 if kind == "b" else 1)


def is_floating_point(dtype: np.dtype) -> bool:
    return dtype.kind == "f"


def scalar_dtype(value) -> np.dtype:
    """The dtype ``fukaku.tensor(value)`` gives a Python scalar."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, (builtins.int, np.integer)):
        return int64
    return _default_float


def promote(a_dtype: np.dtype, a_ndim: int, b_dtype: np.dtype, b_ndim: int) -> np.dtype:
    """Result dtype of a binary op on two tensors, by PyTorch's rules (0-d tensors rank lower)."""
    if a_dtype == b_dtype:
        return a_dtype
    ca, cb = category(a_dtype), category(b_dtype)
    if ca != cb:
        return a_dtype if ca > cb else b_dtype
    if (a_ndim == 0) != (b_ndim == 0):
        return b_dtype if a_ndim == 0 else a_dtype
    return np.promote_types(a_dtype, b_dtype)
