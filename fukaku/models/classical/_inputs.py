"""Checks at the boundary of the models' ``fit`` methods: turn what the caller gave (a Tensor, an
ndarray, nested lists) into NumPy arrays of the right shape, or say precisely what is wrong."""
from __future__ import annotations

import numpy as np

from ...errors import ShapeError
from ...tensor import Tensor


def features(X, where: str, in_features: int | None, dtype) -> np.ndarray:
    """``X`` as a finite ``(N, in_features)`` array of ``dtype`` (any width if ``in_features`` is None)."""
    arr = np.asarray(X._data if isinstance(X, Tensor) else X)
    if arr.ndim != 2 or (in_features is not None and arr.shape[1] != in_features):
        width = "D" if in_features is None else str(in_features)
        raise ShapeError(f"{where}: X must have shape (N, {width}) (N samples of {width} features), "
                         f"got {tuple(arr.shape)}; reshape it with X.reshape(len(X), -1)")
    if arr.shape[0] == 0:
        raise ValueError(f"{where}: X has no samples (shape {tuple(arr.shape)})")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{where}: X must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(dtype, copy=False)
    if not np.isfinite(arr).all():
        raise ValueError(f"{where}: X contains NaN or infinite values; clean or impute them first")
    return arr


def targets(y, where: str, n: int) -> np.ndarray:
    """``y`` as an array with ``n`` rows (one target per sample)."""
    arr = np.asarray(y._data if isinstance(y, Tensor) else y)
    if arr.ndim == 0 or arr.shape[0] != n:
        raise ShapeError(f"{where}: y must have one entry per sample of X ({n}), got shape {tuple(arr.shape)}")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{where}: y must be numeric, got dtype {arr.dtype}")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"{where}: y contains NaN or infinite values")
    return arr


def class_labels(y, where: str, n: int, num_classes: int) -> np.ndarray:
    """Integer class labels ``(N,)`` in ``0 … num_classes-1``."""
    arr = targets(y, where, n)
    if arr.ndim != 1:
        raise ShapeError(f"{where}: class labels must be 1-D (N,), got shape {tuple(arr.shape)}")
    if arr.dtype.kind == "f" and not np.array_equal(arr, np.round(arr)):
        raise ValueError(f"{where}: class labels must be whole numbers, got {np.unique(arr)[:5]}")
    arr = arr.astype(np.int64)
    bad = (arr < 0) | (arr >= num_classes)
    if bad.any():
        raise ValueError(f"{where}: labels must lie in 0..{num_classes - 1} (num_classes={num_classes}), "
                         f"got {sorted(set(arr[bad].tolist()))[:5]}")
    return arr
