"""Sorting, selecting and counting: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode,
quantile, nanquantile; unique, unique_consecutive, searchsorted, bucketize, bincount, histc, histogram.

The selecting ops return elements of the input chosen by index, with those int64 ``indices``: sort,
topk, and kthvalue, median, nanmedian and mode along a dim. Their values are a gather of the input
at the indices (:class:`~fukaku.ops.index.Gather`), so the gradient is scattered back to the chosen
elements and the tangent is gathered from them (PyTorch's value_selecting_reduction_backward). The
median of all elements (``median(x)``, ``nanmedian(x)``) has no index: its gradient is shared evenly
between the elements equal to it, as PyTorch's is. quantile is sort, gather and linear
interpolation, so its rules follow from theirs. The counting and bucketing ops (unique,
searchsorted, bucketize, bincount, histc, histogram) have no gradient, as in PyTorch.

Sorting is stable — equal elements keep their order, NaN sorts above +inf — as PyTorch's sort is on
the CPU whether or not ``stable=True`` is passed. Where PyTorch leaves the index of a tied value
unspecified (topk, kthvalue, median and nanmedian along a dim; "not necessarily the first
occurrence", its documentation says) fukaku takes the tie that comes first in that stable order;
mode takes the last occurrence, as PyTorch's CPU kernel does.
"""
from __future__ import annotations

import builtins
import math
from typing import NamedTuple

import numpy as np

from .. import dtypes
from ..backends import array_module, default_module
from ..tensor import Tensor, wrap
from ._util import _norm_dim, accumulate, fmt, shape_error, tensor_method
from .index import Gather
from .reduce import Amax, _tie_weights
from .shape import movedim, reshape


def _values_indices(name: str) -> type:
    """PyTorch's ``torch.return_types.<name>``: a named tuple ``(values, indices)``."""
    result = NamedTuple(name, [("values", Tensor), ("indices", Tensor)])
    result.__doc__ = f"``(values, indices)``, the result of :func:`{name}`."
    return result


SortResult = _values_indices("sort")
TopkResult = _values_indices("topk")
KthvalueResult = _values_indices("kthvalue")
MedianResult = _values_indices("median")
NanmedianResult = _values_indices("nanmedian")
ModeResult = _values_indices("mode")


class HistogramResult(NamedTuple):
    """``(hist, bin_edges)``, the result of :func:`histogram`."""

    hist: Tensor
    bin_edges: Tensor


# ----------------------------------------------------------------------------- helpers
def _argsort(a: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """The stable int64 order of ``a`` along ``axis``: ties keep their order, NaN sorts above
    everything (last ascending, first descending), as in PyTorch."""
    xp = array_module(a)
    if not descending:
        return xp.argsort(a, axis=axis, kind="stable").astype(np.int64, copy=False)
    # a stable ascending sort of the reversed array, reversed: descending, ties still in order
    reversed_order = xp.argsort(xp.flip(a, axis), axis=axis, kind="stable").astype(np.int64, copy=False)
    return (a.shape[axis] - 1) - xp.flip(reversed_order, axis)


def _nonempty_dim(input: Tensor, d: int, op: str) -> None:
    if input._data.shape[d] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size (input of shape "
                         f"{fmt(input._data.shape)}); reduce over a dim that has elements")


def _picked(input: Tensor, d: int, index: np.ndarray, keepdim: bool, result: type):
    """``result(values, indices)`` for the elements of ``input`` at ``index`` (size 1 along ``d``):
    the values a gather, so the gradient flows back to the picked elements; ``d`` dropped unless ``keepdim``."""
    values = Gather.apply(input, dim=d, index=index)
    if not keepdim:
        shape = values._data.shape[:d] + values._data.shape[d + 1:]
        values, index = reshape(values, shape), index.reshape(shape)
    return result(values, wrap(index))


def _as_vector(op, input: Tensor):
    """``op(x, dim)`` on a 0-d ``input`` seen as shape (1,), along dim 0, its two outputs back to 0-d
    (PyTorch accepts dim 0 and -1 for a 0-d tensor)."""
    out = op(reshape(input, (1,)), 0)
    return type(out)(reshape(out[0], ()), wrap(out[1]._data.reshape(())))


# ----------------------------------------------------------------------------- sort, topk, kthvalue
@tensor_method()
def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> SortResult:
    """The values of ``input`` sorted along ``dim`` and the int64 indices they came from.

    Args:
        dim: the dimension to sort (the last by default).
        descending: largest first (NaN first), instead of smallest first (NaN last).
        stable: accepted for PyTorch programs: the sort is always stable (equal values keep their order).

    Returns ``(values, indices)``; the gradient of ``values`` flows back to ``input[indices]``.

    Example::

        >>> fukaku.sort(fukaku.tensor([3., 1., 2., 1.]))
        sort(values=tensor([1., 1., 2., 3.]), indices=tensor([1, 3, 2, 0]))
    """
    if input.ndim == 0:
        _norm_dim(dim, 0, "sort")
        return _as_vector(lambda x, d: sort(x, d, descending), input)
    d = _norm_dim(dim, input.ndim, "sort")
    index = _argsort(input._data, d, descending)
    return SortResult(Gather.apply(input, dim=d, index=index), wrap(index))


@tensor_method()
def argsort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
    """The int64 indices that sort ``input`` along ``dim`` (stable: ties keep their order)."""
    return sort(input, dim, descending).indices


@tensor_method()
def msort(input: Tensor) -> Tensor:
    """``input`` sorted along its first dimension (``sort(input, 0).values``)."""
    return sort(input, 0).values


@tensor_method()
def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> TopkResult:  # noqa: A002
    """The ``k`` largest (``largest=False``: smallest) values along ``dim`` and their int64 indices.

    The values come sorted, largest first (smallest first for ``largest=False``); ``sorted=False``
    leaves the order unspecified in PyTorch, and fukaku gives the sorted one. NaN counts as larger
    than every number. Among tied values the earlier element is taken first (PyTorch does not
    specify which). Raises RuntimeError unless ``0 <= k <= input.size(dim)``.
    """
    if input.ndim == 0:
        _norm_dim(dim, 0, "topk")
        if k not in (0, 1):  # PyTorch returns the element for k = 0 too
            raise RuntimeError(f"topk(): selected index k out of range: k = {k} for a 0-d tensor")
        return _as_vector(lambda x, d: topk(x, 1, d, largest), input)
    d = _norm_dim(dim, input.ndim, "topk")
    n = input._data.shape[d]
    if not 0 <= k <= n:
        raise RuntimeError(f"topk(): selected index k out of range: k = {k} for dimension {d} of size {n} "
                           f"(input of shape {fmt(input._data.shape)})")
    index = _argsort(input._data, d, descending=largest)[(slice(None),) * d + (slice(0, k),)]
    return TopkResult(Gather.apply(input, dim=d, index=index), wrap(index))


@tensor_method()
def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> KthvalueResult:
    """The ``k``-th smallest value along ``dim`` (k counts from 1) and its int64 index; NaN is the
    largest value. The gradient flows back to that element."""
    if input.ndim == 0:
        _norm_dim(dim, 0, "kthvalue")
        if k != 1:
            raise RuntimeError(f"kthvalue(): selected number k out of range: k = {k} for a 0-d tensor")
        return _as_vector(lambda x, d: kthvalue(x, k, d, True), input)
    d = _norm_dim(dim, input.ndim, "kthvalue")
    n = input._data.shape[d]
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}: k = {k}, size {n}")
    index = _argsort(input._data, d, descending=False)[(slice(None),) * d + (slice(k - 1, k),)]
    return _picked(input, d, index, keepdim, KthvalueResult)


# ----------------------------------------------------------------------------- median, mode
class MedianOfAll(Amax):
    """The lower median of all the elements (the ⌊(n−1)/2⌋-th smallest), or of the non-NaN ones with
    ``ignore_nan``; NaN when a NaN is counted, and for an empty input.

    Its rules are those of :class:`~fukaku.ops.reduce.Amax` over every dim (torch's
    evenly_distribute_backward): the gradient is shared evenly between the elements equal to the
    median (between the NaNs when it is NaN); the tangent is their mean tangent (NaN for a NaN median).
    """

    def __init__(self, ignore_nan: bool) -> None:  # Amax's rules read keepdim, and what forward sets
        self.ignore_nan, self.keepdim = ignore_nan, False

    def forward(self, x):
        a = x._data
        xp = array_module(a)
        self.axes, self.in_shape = tuple(range(a.ndim)), a.shape
        flat = a.reshape(-1)
        nan = xp.isnan(flat) if dtypes.is_floating_point(a.dtype) else xp.zeros(flat.shape, bool)
        if self.ignore_nan:
            flat = flat[~nan]
        if flat.size == 0 or (not self.ignore_nan and nan.any()):
            value = xp.asarray(np.nan, a.dtype)
        else:
            k = (flat.size - 1) // 2
            value = xp.partition(flat, k)[k]
        value = xp.asarray(value, a.dtype)
        if dtypes.is_floating_point(a.dtype):
            out = value.reshape((1,) * a.ndim)
            self.w_jvp = _tie_weights(a, out, self.axes, nan_hits=False)
            self.w_vjp = _tie_weights(a, out, self.axes, nan_hits=True)
        return value


def _median_dim(input: Tensor, dim: int, keepdim: bool, ignore_nan: bool, op: str, result: type):
    if input.ndim == 0:
        _norm_dim(dim, 0, op)
        return _as_vector(lambda x, d: _median_dim(x, d, True, ignore_nan, op, result), input)
    d = _norm_dim(dim, input.ndim, op)
    _nonempty_dim(input, d, op)
    a = input._data
    xp = array_module(a)
    order = _argsort(a, d, descending=False)
    n = a.shape[d]
    nans = xp.isnan(a) if dtypes.is_floating_point(a.dtype) else xp.zeros(a.shape, bool)
    nans = nans.sum(axis=d, keepdims=True)
    if ignore_nan:  # the lower median of the non-NaN values; the first NaN where all are NaN
        position = xp.maximum((n - nans - 1) // 2, 0)
    else:  # NaN, at the first NaN, where the row has one
        position = xp.where(nans > 0, n - nans, (n - 1) // 2)
    index = xp.take_along_axis(order, position.astype(np.int64), axis=d)
    return _picked(input, d, index, keepdim, result)


@tensor_method()
def median(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor | MedianResult:
    """The lower median: of all elements (``dim=None``: a 0-d tensor), or along ``dim`` with its
    int64 index (``(values, indices)``). The median of n values is the ⌊(n−1)/2⌋-th smallest (for
    an even n the lower of the two middle values, not their mean); it is NaN where a NaN is present.

    The gradient of the median of all elements is shared evenly between the elements equal to it;
    along a dim it flows to the element at ``indices``.
    """
    if dim is None:
        return MedianOfAll.apply(input, ignore_nan=False)
    return _median_dim(input, dim, keepdim, False, "median", MedianResult)


@tensor_method()
def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor | NanmedianResult:
    """:func:`median` of the values that are not NaN (NaN only where all of them are)."""
    if dim is None:
        return MedianOfAll.apply(input, ignore_nan=True)
    return _median_dim(input, dim, keepdim, True, "nanmedian", NanmedianResult)


def _mode_index(a: np.ndarray, axis: int) -> np.ndarray:
    """For each slice along ``axis``: the index (kept as a size-1 ``axis``) of the last occurrence of its
    most frequent value, the smallest such value on a tie of counts (PyTorch's CPU mode)."""
    xp = array_module(a)
    rows = xp.moveaxis(a, axis, -1)
    order = xp.argsort(rows, axis=-1, kind="stable")
    s = xp.take_along_axis(rows, order, axis=-1)
    change = s[..., 1:] != s[..., :-1]
    edge = xp.ones(s.shape[:-1] + (1,), bool)
    starts, ends = xp.concatenate([edge, change], axis=-1), xp.concatenate([change, edge], axis=-1)
    position = xp.arange(s.shape[-1])
    run_start = accumulate("maximum", xp.where(starts, position, 0), -1)
    length = xp.where(ends, position - run_start + 1, 0)  # each run's length, at its last element
    best = xp.argmax(length, axis=-1)[..., None]  # the first longest run: the smallest value
    return xp.moveaxis(xp.take_along_axis(order, best, axis=-1), -1, axis).astype(np.int64, copy=False)


@tensor_method()
def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> ModeResult:
    """The most frequent value along ``dim`` (the smallest of equally frequent ones) and the int64
    index of its last occurrence; the gradient flows to that element."""
    if input.ndim == 0:
        _norm_dim(dim, 0, "mode")
        return _as_vector(lambda x, d: mode(x, d, True), input)
    d = _norm_dim(dim, input.ndim, "mode")
    _nonempty_dim(input, d, "mode")
    return _picked(input, d, _mode_index(input._data, d), keepdim, ModeResult)


# ----------------------------------------------------------------------------- quantile
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input: Tensor, q, dim, keepdim: bool, interpolation: str, ignore_nan: bool, op: str) -> Tensor:
    """PyTorch's quantile_compute: sort, rank = q·(n − 1) (n counts the non-NaN values for nanquantile;
    a row with a NaN gives NaN for quantile), rounded as ``interpolation`` says, then a gather of the
    neighbouring order statistics and linear interpolation between them."""
    a = input._data
    if a.dtype.kind != "f":
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype, got {a.dtype}")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{op}() interpolation must be one of linear, lower, higher, midpoint or nearest, "
                           f"but got {interpolation}")
    xp = array_module(a)
    if isinstance(q, Tensor):
        qa = q._data
        if qa.ndim > 1:
            raise RuntimeError(f"{op}() q must be a scalar or 1D tensor, got shape {fmt(qa.shape)}")
        if qa.dtype != a.dtype:
            raise RuntimeError(f"{op}() q tensor must be same dtype as the input tensor ({a.dtype}), got {qa.dtype}")
        if not ((qa >= 0) & (qa <= 1)).all():
            raise RuntimeError(f"{op}() q values must be in the range [0, 1]")
    else:
        if not 0 <= q <= 1:
            raise RuntimeError(f"{op}() q must be in the range [0, 1] but got {q}")
        qa = xp.asarray(q, a.dtype)
    if a.size == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty (got shape {fmt(a.shape)})")
    if dim is None:  # the quantiles of all elements: of the flattened tensor
        x, kept = reshape(input, (-1,)), ((1,) * a.ndim if keepdim else ())
    elif a.ndim == 0:
        _norm_dim(dim, 0, op)
        x, kept = reshape(input, (1,)), ()
    else:  # along the last dim
        d = _norm_dim(dim, a.ndim, op)
        x = movedim(input, d, -1)
        kept = a.shape[:d] + ((1,) if keepdim else ()) + a.shape[d + 1:]
    ordered = sort(x, -1).values  # (..., n)
    s = ordered._data
    n = s.shape[-1]
    qs = qa.reshape(-1)  # (nq,)
    nan = xp.isnan(s)
    if ignore_nan:
        count = (n - nan.sum(axis=-1, keepdims=True)).astype(a.dtype)
        ranks = xp.maximum(qs * (count - 1), 0)
    else:
        ranks = xp.where(nan.any(axis=-1, keepdims=True), a.dtype.type(n - 1), qs * a.dtype.type(n - 1))
    ranks = xp.broadcast_to(ranks, s.shape[:-1] + qs.shape).astype(a.dtype)
    if interpolation in ("lower", "higher", "nearest"):
        ranks = {"lower": xp.floor, "higher": xp.ceil, "nearest": xp.round}[interpolation](ranks)
    below = ranks.astype(np.int64)
    last = ordered.ndim - 1
    out = Gather.apply(ordered, dim=last, index=below)
    if interpolation in ("linear", "midpoint"):
        weight = xp.full_like(ranks, 0.5) if interpolation == "midpoint" else (ranks - below).astype(a.dtype)
        above = Gather.apply(ordered, dim=last, index=xp.ceil(ranks).astype(np.int64))
        out = out + wrap(weight) * (above - out)
    if isinstance(q, Tensor) and qa.ndim == 1:
        return movedim(reshape(out, kept + (qs.size,)), -1, 0)
    return reshape(out, kept)


@tensor_method()
def quantile(input: Tensor, q, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The ``q``-quantiles of ``input`` along ``dim`` (of all elements when None).

    Args:
        q: a number in [0, 1], or a 1-d tensor of them (same dtype as ``input``): the quantiles are
            then stacked along a new first dimension.
        interpolation: between the two order statistics around rank q·(n−1): 'linear', 'lower',
            'higher', 'midpoint' or 'nearest' (ties to even, as PyTorch rounds).

    A slice holding a NaN has NaN quantiles (see :func:`nanquantile`). Differentiable: the gradient
    flows to the order statistics, weighted by the interpolation.
    """
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


@tensor_method()
def nanquantile(input: Tensor, q, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """:func:`quantile` of the values that are not NaN (NaN only where all of them are)."""
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


# ----------------------------------------------------------------------------- unique
def _unique_result(output: np.ndarray, inverse: np.ndarray, counts: np.ndarray, return_inverse: bool,
                   return_counts: bool):
    out = [wrap(output)]
    if return_inverse:
        out.append(wrap(inverse.astype(np.int64, copy=False)))
    if return_counts:
        out.append(wrap(counts.astype(np.int64, copy=False)))
    return out[0] if len(out) == 1 else tuple(out)


def _rows(a: np.ndarray, dim: int, op: str) -> np.ndarray:
    """``a`` with ``dim`` moved first and the other dims flattened: one row per slice along ``dim``."""
    if a.shape[dim] and not a.size:
        raise RuntimeError(f"{op}: there are 0 sized dimensions, and they aren't selected, so unique cannot be "
                           f"applied (input of shape {fmt(a.shape)}, dim {dim})")
    xp = array_module(a)
    return xp.moveaxis(a, dim, 0).reshape(a.shape[dim], math.prod(a.shape[:dim] + a.shape[dim + 1:]))


def _from_rows(rows: np.ndarray, like: np.ndarray, dim: int) -> np.ndarray:
    xp = array_module(rows)
    moved = like.shape[dim:dim + 1] + like.shape[:dim] + like.shape[dim + 1:]
    return xp.moveaxis(rows.reshape((rows.shape[0],) + moved[1:]), 0, dim)


@tensor_method()
def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,  # noqa: A002
           dim: int | None = None) -> Tensor | tuple[Tensor, ...]:
    """The distinct values of ``input`` in ascending order (with ``dim``: its distinct slices along ``dim``,
    in lexicographic order). NaNs are all distinct, as in PyTorch.

    Returns the values, or a tuple with ``inverse_indices`` (where each element, or slice, of
    ``input`` went: ``output[inverse] == input``) and ``counts`` when asked for. ``sorted`` is
    accepted for PyTorch programs: the result is always sorted, as PyTorch's is on the CPU. Not
    differentiable.
    """
    a = input._data
    xp = array_module(a)
    if dim is None:
        output, inverse, counts = xp.unique(a.reshape(-1), return_inverse=True, return_counts=True, equal_nan=False)
        return _unique_result(output, inverse.reshape(a.shape), counts, return_inverse, return_counts)
    d = _norm_dim(dim, a.ndim, "unique")
    if a.ndim == 0:
        return unique(input, sorted, return_inverse, return_counts)
    rows = _rows(a, d, "unique")
    if rows.shape[0] == 0:
        output, inverse, counts = rows, xp.zeros(0, np.int64), xp.zeros(0, np.int64)
    else:
        output, inverse, counts = xp.unique(rows, return_inverse=True, return_counts=True, axis=0)
    return _unique_result(_from_rows(output, a, d), inverse.reshape(-1), counts, return_inverse, return_counts)


@tensor_method()
def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None) -> Tensor | tuple[Tensor, ...]:
    """Each run of equal consecutive elements (slices along ``dim``) collapsed to one, in order:
    ``[1, 1, 2, 2, 3, 1]`` gives ``[1, 2, 3, 1]``. The ``inverse`` and ``counts`` options are those
    of :func:`unique`. Not differentiable."""
    a = input._data
    xp = array_module(a)
    if dim is None or a.ndim == 0:
        if dim is not None:
            _norm_dim(dim, 0, "unique_consecutive")
        rows, shape = a.reshape(-1, 1), a.shape
    else:
        d = _norm_dim(dim, a.ndim, "unique_consecutive")
        rows, shape = _rows(a, d, "unique_consecutive"), (a.shape[d],)
    starts = xp.ones(rows.shape[0], bool)
    starts[1:] = (rows[1:] != rows[:-1]).any(axis=1)
    first = xp.flatnonzero(starts)
    inverse = xp.cumsum(starts) - 1
    counts = xp.diff(xp.append(first, rows.shape[0]))
    output = rows[first]
    output = output.reshape(-1) if dim is None or a.ndim == 0 else _from_rows(output, a, d)
    return _unique_result(output, inverse.reshape(shape), counts, return_inverse, return_counts)


# ----------------------------------------------------------------------------- searchsorted, bucketize
def _lexsort_rows(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """The order sorting each row (last axis) by ``primary``, ties by ``secondary``: NumPy's lexsort; where the
    library's lexsort sorts one row only (CuPy), two stable argsorts, the secondary key's first."""
    xp = array_module(primary, secondary)
    if xp is np:
        return xp.lexsort((secondary, primary), axis=-1)
    by_secondary = xp.argsort(secondary, axis=-1, kind="stable")
    then_primary = xp.argsort(xp.take_along_axis(primary, by_secondary, axis=-1), axis=-1, kind="stable")
    return xp.take_along_axis(by_secondary, then_primary, axis=-1)


def _batched_searchsorted(seq: np.ndarray, values: np.ndarray, right: bool) -> np.ndarray:
    """For each row (leading dims) of the sorted ``seq``: the number of its elements below each value
    of the matching row of ``values`` (``right``: below or equal). One lexicographic sort of the
    boundaries and values together, values placed before equal boundaries (after, for ``right``)."""
    xp = array_module(seq, values)
    n = seq.shape[-1]
    keys = xp.concatenate([seq, values], axis=-1)
    is_boundary = xp.concatenate([xp.ones(seq.shape, bool), xp.zeros(values.shape, bool)], axis=-1)
    order = _lexsort_rows(keys, ~is_boundary if right else is_boundary)
    below = xp.cumsum(xp.take_along_axis(is_boundary, order, axis=-1), axis=-1)
    is_value = order >= n  # each row holds values.shape[-1] of them, in sorted order
    out = xp.empty(values.shape, np.int64)
    xp.put_along_axis(out, (order[is_value] - n).reshape(values.shape), below[is_value].reshape(values.shape), axis=-1)
    return out


def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: Tensor | None = None) -> Tensor:
    """Where each value of ``input`` would go in ``sorted_sequence`` to keep it sorted: the number of
    boundaries below it (``right=True`` or ``side='right'``: below or equal).

    Args:
        sorted_sequence: 1-d, or N-d sorted along its last dim with leading dims equal to ``input``'s
            (each row is searched by the matching row of ``input``).
        input: a tensor, or a number (the result is then 0-d).
        out_int32: int32 indices instead of int64.
        sorter: int64 indices that sort an unsorted ``sorted_sequence`` along its last dim.

    Example::

        >>> fukaku.searchsorted(fukaku.tensor([1., 2., 2., 3.]), fukaku.tensor([2., 0., 5.]))
        tensor([1, 0, 4])
    """
    op = "torch.searchsorted()"
    seq = sorted_sequence._data
    xp = array_module(seq)
    values = input._data if isinstance(input, Tensor) else xp.asarray(input)
    if seq.ndim == 0:
        raise RuntimeError(f"{op}: boundaries tensor should have positive dimension, but got 0 dimension")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"{op}: side can only be 'left' or 'right' but got {side}")
        if side == "left" and right:
            raise RuntimeError(f"{op}: side and right can't be set to opposites, got side of left while right was True")
        right = side == "right"
    if sorter is not None:
        order = sorter._data
        if order.shape != seq.shape:
            raise RuntimeError(f"{op}: boundary and sorter must have the same size, but got boundary tensor "
                               f"{list(seq.shape)} and sorter tensor {list(order.shape)}")
        if order.dtype.kind not in "iu":
            raise RuntimeError(f"{op}: sorter must be a tensor of long dtype but got {order.dtype}")
        seq = xp.take_along_axis(seq, order.astype(np.int64, copy=False), axis=-1)
    if seq.ndim > 1 and (values.ndim == 0 or seq.shape[:-1] != values.shape[:-1]):
        raise RuntimeError(f"{op}: boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries "
                           f"tensor and input value tensor must match, but we got boundaries tensor "
                           f"{list(seq.shape)} and input value tensor {list(values.shape)}")
    common = np.result_type(seq, values)
    seq, values = seq.astype(common, copy=False), values.astype(common, copy=False)
    if seq.ndim == 1:
        out = xp.asarray(xp.searchsorted(seq, values, side="right" if right else "left"))
    else:
        out = _batched_searchsorted(seq, values, right)
    return wrap(out.astype(np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each value of ``input`` between the sorted 1-d ``boundaries``: i with
    boundaries[i−1] < x <= boundaries[i] (``right=True``: boundaries[i−1] <= x < boundaries[i]),
    that is, :func:`searchsorted` with the same ``right``."""
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries tensor must be 1 dimension, but got dim({boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# ----------------------------------------------------------------------------- counting: bincount, histc, histogram
@tensor_method()
def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How many times each value 0, 1, …, max(input) occurs in the 1-d non-negative int ``input``
    (int64), or the sum of ``weights`` at each value (float64 for integer weights, else their
    dtype); at least ``minlength`` bins. Not differentiable."""
    a = input._data
    xp = array_module(a)
    if a.dtype.kind not in "iu":
        raise NotImplementedError(f"bincount: only integer tensors are counted, got {a.dtype}")
    if a.ndim != 1 or (a.size and a.min() < 0):
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs (got shape {fmt(a.shape)})")
    if minlength < 0:
        raise RuntimeError(f"bincount: minlength should be >= 0, got {minlength}")
    if weights is None:
        return wrap(xp.bincount(a, minlength=minlength).astype(np.int64, copy=False))
    w = weights._data
    if w.shape != a.shape:
        raise RuntimeError(f"bincount: weights should be 1-d and have the same length as input, got shapes "
                           f"{fmt(w.shape)} and {fmt(a.shape)}")
    out = xp.bincount(a, weights=w, minlength=minlength)
    return wrap(out.astype(w.dtype if w.dtype.kind == "f" else np.float64))


def _linspace(start: float, end: float, steps: int, dtype: np.dtype) -> np.ndarray:
    """PyTorch's linspace values in ``dtype``: start + i·step for the first half, end − (steps−1−i)·step
    for the second, so that both ends are exact."""
    xp = default_module()
    first, last = xp.asarray(start, dtype), xp.asarray(end, dtype)
    i = xp.arange(steps, dtype=dtype)
    step = (last - first) / dtype.type(builtins.max(steps - 1, 1))
    return xp.where(xp.arange(steps) < steps // 2, first + step * i, last - step * (dtype.type(steps - 1) - i))


def _floating_input(input: Tensor, op: str) -> np.ndarray:
    a = input._data
    if not dtypes.is_floating_point(a.dtype):
        raise NotImplementedError(f"{op}: only floating-point tensors are binned, got {a.dtype}; convert with .float()")
    return a


def _bin_count(x: np.ndarray, edges: np.ndarray, weights: np.ndarray | None, linear: bool) -> np.ndarray:
    """The weighted count of ``x`` in each bin between ``edges`` (the last bin includes its right edge;
    values outside the edges, and NaNs, are skipped), in ``x``'s dtype. ``linear``: edges evenly
    spaced, a value's bin found by division, as PyTorch's histc does; else by binary search."""
    xp = array_module(x)
    bins = edges.size - 1
    keep = (x >= edges[0]) & (x <= edges[-1])
    inside = x[keep]
    if linear:
        position = ((inside - edges[0]) * x.dtype.type(bins) / (edges[-1] - edges[0])).astype(np.int64)
    else:
        position = xp.searchsorted(edges, inside, side="right") - 1
    position = xp.minimum(position, bins - 1)
    counted = xp.bincount(position, weights=None if weights is None else weights[keep], minlength=bins)
    return counted.astype(x.dtype)


def _finite_range(lo: float, hi: float, op: str) -> None:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"{op}: range of [{lo}, {hi}] is not finite")


@tensor_method()
def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """The histogram of all elements in ``bins`` equal-width bins over [min, max], in ``input``'s dtype.

    ``min == max`` (the default 0, 0) takes the range of the data; a range of one point is widened
    by 1 on each side. Elements outside the range (and NaNs) are ignored; the last bin includes
    ``max``. Not differentiable.
    """
    a = _floating_input(input, "histc")
    if bins <= 0:
        raise RuntimeError(f"histc: bins must be > 0, but got {bins}")
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    _finite_range(lo, hi, "torch.histc")
    if lo >= hi:
        raise RuntimeError(f"torch.histc: max must be larger than min (got min {lo}, max {hi})")
    edges = _linspace(lo, hi, bins + 1, a.dtype)
    return wrap(_bin_count(a.reshape(-1), edges, None, linear=True))


@tensor_method()
def histogram(input: Tensor, bins, *, range: tuple[float, float] | None = None,  # noqa: A002
              weight: Tensor | None = None, density: bool = False) -> HistogramResult:
    """The histogram of all elements of a floating ``input``: ``(hist, bin_edges)``.

    Args:
        bins: the number of equal-width bins over ``range`` (the data's range when None; a range of
            one point is widened by 0.5 on each side, as NumPy does), or a 1-d tensor of increasing
            bin edges (same dtype as ``input``).
        weight: one weight per element (same shape as ``input``) summed instead of counting 1.
        density: divide by the total and by each bin's width, so that the histogram integrates to 1.

    Elements outside the edges (and NaNs) are ignored; the last bin includes its right edge.
    Not differentiable.
    """
    a = _floating_input(input, "histogram")
    w = None
    if weight is not None:
        w = weight._data
        if w.shape != a.shape:
            raise shape_error("histogram", a.shape, w.shape, hint="weight must have the shape of input")
        w = w.reshape(-1)
    if isinstance(bins, Tensor):
        edges = bins._data
        if edges.ndim != 1 or edges.size == 0:
            raise RuntimeError(f"histogram: bins tensor should be 1-d with at least one edge, got shape "
                               f"{fmt(edges.shape)}")
        if edges.dtype != a.dtype:
            raise RuntimeError(f"histogram: input tensor and bins tensor should have the same dtype, but got input "
                               f"with dtype {a.dtype} and bins with dtype {edges.dtype}")
        linear = False
    else:
        if bins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins}")
        if range is not None:
            lo, hi = float(range[0]), float(range[1])
        elif a.size:
            lo, hi = float(a.min()), float(a.max())
        else:
            lo, hi = 0.0, 1.0
        _finite_range(lo, hi, "torch.histogram")
        if lo > hi:
            raise RuntimeError(f"torch.histogram: min should not exceed max, but got min {lo} max {hi}")
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges, linear = _linspace(lo, hi, bins + 1, a.dtype), False
    hist = _bin_count(a.reshape(-1), edges, w, linear)
    if density:
        xp = array_module(hist)
        with np.errstate(divide="ignore", invalid="ignore"):
            hist = (hist / hist.sum() / xp.diff(edges)).astype(a.dtype, copy=False)
    return HistogramResult(wrap(hist), wrap(edges.copy()))


# the functions ``fukaku.ops`` (and so ``fukaku``) exports from this family
__all__ = ["argsort", "bincount", "bucketize", "histc", "histogram", "kthvalue", "median", "mode", "msort",
           "nanmedian", "nanquantile", "quantile", "searchsorted", "sort", "topk", "unique", "unique_consecutive"]
