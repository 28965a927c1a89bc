"""Pooling (seed 001 §9.2, seed 004 §3.3) with ``torch.nn.functional``'s names: max, average,
adaptive and unpooling over the last 1 or 2 dims of an input ``(N, C, L)`` / ``(N, C, H, W)``, or
unbatched ``(C, L)`` / ``(C, H, W)``.

A pooling layer summarises each window of its input by one number — the largest (max pooling) or
the mean (average pooling) — so the feature map shrinks (2×2 windows with stride 2 halve H and W
and keep C) and small shifts of a feature inside a window leave the output unchanged. Along each
pooled dim the output has

    out = ⌊(size + 2·padding − dilation·(kernel_size − 1) − 1) / stride⌋ + 1

positions (⌈ ⌉ with ``ceil_mode``, when the last window starts inside the input or its left
padding). These functions check their arguments and compute that geometry; the graph nodes are
in :mod:`fukaku.ops.pooling`.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ...errors import ShapeError
from ...ops._util import fmt
from ...ops.pooling import MaxUnpool, Windows, adaptive_avg_pool, adaptive_max_pool, avg_pool, max_pool
from ...tensor import Tensor

__all__ = ["max_pool1d", "max_pool2d", "max_pool1d_with_indices", "max_pool2d_with_indices", "avg_pool1d",
           "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices", "max_unpool1d", "max_unpool2d"]

_FORMULA = "out = ⌊(size + 2·padding − dilation·(kernel_size − 1) − 1) / stride⌋ + 1"


# ----------------------------------------------------------------------------- arguments
def _ints(value, n: int, name: str, op: str) -> tuple[int, ...]:
    """An int, or a sequence of 1 or n ints, as n ints (PyTorch's ``_pair`` and its checks)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return (int(value),) * n
    if isinstance(value, Sequence) and len(value) in (1, n) and \
            all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in value):
        return tuple(int(v) for v in value) * (n // len(value))
    raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")


def _planes(op: str, input: Tensor, n: int, floating: bool = False) -> None:
    """``input`` must be ``(C, *spatial)`` or ``(N, C, *spatial)`` with n spatial dims, all but the batch
    non-empty, of a dtype the op takes."""
    shape = tuple(input.shape)
    letters = ("L",) if n == 1 else ("H", "W")
    if input.ndim not in (n + 1, n + 2) or 0 in shape[input.ndim - n - 1:]:
        raise ShapeError(f"{op}: expected an input of shape (N, C, {', '.join(letters)}) or unbatched (C, "
                         f"{', '.join(letters)}) with non-empty C, {' and '.join(letters)} (N may be 0), got shape "
                         f"{fmt(shape)}")
    if input._data.dtype.kind in "bc" or (floating and not input.is_floating_point()):
        raise TypeError(f"{op}: not implemented for dtype {input.dtype}; convert the input with .float()")


def _windows(op: str, input: Tensor, n: int, kernel_size, stride, padding, dilation, ceil_mode: bool) -> Windows:
    """The checked pooling geometry of ``input``'s last n dims, PyTorch's output size included."""
    kernel = _ints(kernel_size, n, "kernel_size", op)
    step = kernel if stride is None or (isinstance(stride, Sequence) and len(stride) == 0) else \
        _ints(stride, n, "stride", op)
    pad = _ints(padding, n, "padding", op)
    dil = _ints(dilation, n, "dilation", op)
    for name, values, low in (("kernel_size", kernel, 1), ("stride", step, 1), ("dilation", dil, 1),
                              ("padding", pad, 0)):
        if min(values) < low:
            raise ValueError(f"{op}: {name} must be {'non-negative' if low == 0 else 'positive'}, got {values}")
    if any(p > k // 2 for p, k in zip(pad, kernel)):  # PyTorch's rule, whatever the dilation
        raise ShapeError(f"{op}: padding {pad} should be at most half the kernel_size {kernel} (padding ≤ "
                         f"kernel_size // 2), for the input of shape {fmt(input.shape)}; use less padding or a larger "
                         "kernel_size")
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dil))
    size = tuple(input.shape[input.ndim - n:])
    out = tuple(_out_size(*args, ceil_mode) for args in zip(size, kernel, step, pad, dil))
    if min(out) < 1:
        raise ShapeError(f"{op}: kernel_size {kernel} (effective {span} with dilation {dil}) is larger than the "
                         f"padded input {tuple(s + 2 * p for s, p in zip(size, pad))} of the input of shape "
                         f"{fmt(input.shape)}: {_FORMULA} gives {out} with size {size}, padding {pad}, stride "
                         f"{step}; use a smaller kernel_size or more padding")
    return Windows(size, kernel, step, pad, dil, out)


def _out_size(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size along one dim (``pooling_output_shape``)."""
    reach = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (reach + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1  # the last window must start inside the input or its left padding
    return out


def _output_size(op: str, input: Tensor, n: int, output_size) -> tuple[int, ...]:
    """An adaptive pooling's target: an int or n ints, None keeping the input's size."""
    given = (output_size,) * n if not isinstance(output_size, Sequence) else tuple(output_size)
    if len(given) == 1:
        given *= n
    size = tuple(input.shape[input.ndim - n:])
    if len(given) != n or not all(o is None or (isinstance(o, (int, np.integer)) and not isinstance(o, bool))
                                  for o in given):
        raise TypeError(f"{op}: output_size must be an int or a tuple of {n} ints (or None), got {output_size!r}")
    out = tuple(s if o is None else int(o) for s, o in zip(size, given))
    if min(out) < 1:
        raise ShapeError(f"{op}: output_size {out} must be positive, for the input of shape {fmt(input.shape)}")
    return out


# ----------------------------------------------------------------------------- max pooling
def _max_pool(op: str, n: int, input: Tensor, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    _planes(op, input, n)
    return max_pool(input, _windows(op, input, n, kernel_size, stride, padding, dilation, ceil_mode),
                    bool(return_indices))


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The largest element of each window of ``kernel_size`` along L, windows ``stride`` apart
    (default: ``kernel_size``), the input padded with −inf by ``padding`` on both sides, elements
    ``dilation`` apart within a window.

    Shape: (N, C, L) → (N, C, L_out), or (C, L) → (C, L_out), L_out from the formula of this module.
    With ``return_indices``, also returns the int64 position in L of each picked element (for
    :func:`max_unpool1d`). Ties pick the first largest element and its gradient flows there alone;
    a NaN in a window is its maximum.

    Example::

        >>> F.max_pool1d(fukaku.tensor([[1., 3., 2., 5.]]), 2)
        tensor([[3., 5.]])
    """
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The largest element of each ``kernel_size`` window over (H, W) (an int or (kH, kW)), windows
    ``stride`` apart (default: ``kernel_size``), the input padded with −inf by ``padding``, elements
    ``dilation`` apart within a window; ``ceil_mode`` keeps a last, partial window.

    Shape: (N, C, H, W) → (N, C, H_out, W_out), or (C, H, W) → (C, H_out, W_out), each size from the
    formula of this module. With ``return_indices``, also returns the int64 flat index h·W + w of each
    picked element in its plane (for :func:`max_unpool2d`). Ties pick the first largest element in
    row-major order and its gradient flows there alone; a NaN in a window is its maximum.

    Example::

        >>> x = fukaku.randn(8, 32, 28, 28)
        >>> F.max_pool2d(x, 2).shape         # halves H and W, keeps C
        fukaku.Size([8, 32, 14, 14])
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
                            return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """:func:`max_pool1d` returning (values, indices) whatever ``return_indices`` says, as PyTorch."""
    return _max_pool("max_pool1d_with_indices", 1, input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
                            return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """:func:`max_pool2d` returning (values, indices) whatever ``return_indices`` says, as PyTorch."""
    return _max_pool("max_pool2d_with_indices", 2, input, kernel_size, stride, padding, dilation, ceil_mode, True)


# ----------------------------------------------------------------------------- average pooling
def _avg_pool(op: str, n: int, input: Tensor, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override) -> Tensor:
    _planes(op, input, n)
    if divisor_override is not None and (not isinstance(divisor_override, (int, np.integer)) or divisor_override == 0):
        raise ValueError(f"{op}: divisor_override must be a non-zero int, got {divisor_override!r}")
    windows = _windows(op, input, n, kernel_size, stride, padding, 1, ceil_mode)
    return avg_pool(input, windows, bool(count_include_pad), divisor_override)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """The mean of each window of ``kernel_size`` along L, windows ``stride`` apart (default:
    ``kernel_size``), the input padded with zeros by ``padding``. ``count_include_pad`` counts the
    padding in the window's size; without it a window averages over its elements inside the input.

    Shape: (N, C, L) → (N, C, L_out), or (C, L) → (C, L_out), L_out from the formula of this module
    (dilation 1). Integer inputs give the integer mean rounded toward zero, as PyTorch.
    """
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """The mean of each ``kernel_size`` window over (H, W), windows ``stride`` apart (default:
    ``kernel_size``), the input padded with zeros by ``padding``. The window's sum is divided by
    ``divisor_override`` when given, else by the window's size (padding included with
    ``count_include_pad``, else only its elements inside the input).

    Shape: (N, C, H, W) → (N, C, H_out, W_out), or (C, H, W) → (C, H_out, W_out), from the formula of
    this module (dilation 1).

    Example::

        >>> F.avg_pool2d(fukaku.ones(1, 1, 4, 4), 3, stride=1, padding=1, count_include_pad=False)[0, 0, 0]
        tensor([1., 1., 1., 1.])
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


# ----------------------------------------------------------------------------- adaptive pooling
def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """The mean over ``output_size`` windows along L, window o covering [⌊o·L/out⌋, ⌈(o+1)·L/out⌉)
    (they overlap when out does not divide L). Shape: (N, C, L) → (N, C, out), or (C, L) → (C, out)."""
    _planes("adaptive_avg_pool1d", input, 1, floating=True)
    return adaptive_avg_pool(input, _output_size("adaptive_avg_pool1d", input, 1, output_size))


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """The mean over an ``output_size`` (an int, or (H_out, W_out) where None keeps that size) grid of
    windows, window o covering [⌊o·size/out⌋, ⌈(o+1)·size/out⌉) along each dim: any H×W becomes
    H_out×W_out (``output_size=1`` is global average pooling).

    Shape: (N, C, H, W) → (N, C, H_out, W_out), or (C, H, W) → (C, H_out, W_out).
    """
    _planes("adaptive_avg_pool2d", input, 2, floating=True)
    return adaptive_avg_pool(input, _output_size("adaptive_avg_pool2d", input, 2, output_size))


def _adaptive_max(op: str, n: int, input: Tensor, output_size, return_indices: bool):
    _planes(op, input, n, floating=True)
    return adaptive_max_pool(input, _output_size(op, input, n, output_size), bool(return_indices))


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """The largest element of ``output_size`` windows along L (placed as in :func:`adaptive_avg_pool1d`);
    with ``return_indices``, also the int64 positions of the picked elements.
    Shape: (N, C, L) → (N, C, out), or (C, L) → (C, out)."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """The largest element of each window of an ``output_size`` grid over (H, W) (placed as in
    :func:`adaptive_avg_pool2d`); with ``return_indices``, also the int64 flat indices h·W + w of the
    picked elements. Shape: (N, C, H, W) → (N, C, H_out, W_out), or (C, H, W) → (C, H_out, W_out)."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size, return_indices: bool = False):
    """:func:`adaptive_max_pool1d` returning (values, indices) whatever ``return_indices`` says."""
    return _adaptive_max("adaptive_max_pool1d_with_indices", 1, input, output_size, True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size, return_indices: bool = False):
    """:func:`adaptive_max_pool2d` returning (values, indices) whatever ``return_indices`` says."""
    return _adaptive_max("adaptive_max_pool2d_with_indices", 2, input, output_size, True)


# ----------------------------------------------------------------------------- unpooling
def _max_unpool(op: str, n: int, input: Tensor, indices: Tensor, kernel_size, stride, padding, output_size) -> Tensor:
    _planes(op, input, n, floating=True)
    if not isinstance(indices, Tensor) or indices._data.dtype != np.int64:
        raise TypeError(f"{op}: indices must be an int64 tensor (the indices max pooling returned), got "
                        f"{getattr(indices, 'dtype', type(indices).__name__)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise ShapeError(f"{op}: indices of shape {fmt(indices.shape)} must have the shape of the input, "
                         f"{fmt(input.shape)}")
    kernel = _ints(kernel_size, n, "kernel_size", op)
    step = kernel if stride is None else _ints(stride, n, "stride", op)
    pad = _ints(padding, n, "padding", op)
    size = tuple(input.shape[input.ndim - n:])
    default = tuple((s - 1) * st + k - 2 * p for s, st, k, p in zip(size, step, kernel, pad))
    if output_size is None:
        out = default
    else:
        out = tuple(int(o) for o in output_size)
        if len(out) in (n + 1, n + 2):
            out = out[len(out) - n:]
        if len(out) != n:
            raise ValueError(f"{op}: output_size should be a sequence of {n} or {n + 2} elements, got {output_size!r}")
        for d, (o, want, st) in enumerate(zip(out, default, step)):
            if not want - st < o < want + st:
                raise ValueError(f"{op}: invalid output_size {out} (dim {d} must be between {want - st} and "
                                 f"{want + st}, exclusive: the default (size − 1)·stride + kernel_size − 2·padding "
                                 f"= {want} ± stride)")
    if min(out) < 1:
        raise ShapeError(f"{op}: output size {out} from (size − 1)·stride + kernel_size − 2·padding with size {size}, "
                         f"stride {step}, kernel_size {kernel}, padding {pad} must be positive")
    index = indices._data
    plane = math.prod(out)
    if index.size and (index.min() < 0 or index.max() >= plane):
        bad = index[(index < 0) | (index >= plane)].reshape(-1)[0]
        raise IndexError(f"{op}: found an invalid max index {bad}: an output plane of shape {out} has "
                         f"{plane} elements")
    return MaxUnpool.apply(input, index=index, size=out)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """A partial inverse of :func:`max_pool1d`: zeros of length L_out = (L − 1)·stride + kernel_size
    − 2·padding (or the last entry of ``output_size``) with each input value put back at its index
    from ``max_pool1d(..., return_indices=True)``. Shape: (N, C, L) → (N, C, L_out), or (C, L) → (C, L_out)."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """A partial inverse of :func:`max_pool2d`: zeros of (H_out, W_out) = (size − 1)·stride +
    kernel_size − 2·padding per dim (or ``output_size``, within a stride of that) with each input value
    put back at its flat index from ``max_pool2d(..., return_indices=True)``; the rest stays 0.

    Shape: (N, C, H, W) → (N, C, H_out, W_out), or (C, H, W) → (C, H_out, W_out).

    Example::

        >>> y, idx = F.max_pool2d(x, 2, return_indices=True)
        >>> F.max_unpool2d(y, idx, 2).shape == x.shape    # for even H and W
        True
    """
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)
