"""Indexing ops: ``x[key]`` (basic and advanced), gather, take, take_along_dim, index_select,
masked_select, nonzero, repeat_interleave, ``x.unfold``; and the out-of-place writes — scatter,
scatter_add, scatter_reduce, index_add, index_copy, index_fill, index_put, put, masked_fill,
masked_scatter — whose in-place twins (``scatter_``, ``index_add_`` …) :mod:`.inplace` builds on them.

Indexing and its adjoint come in pairs: the gradient of ``x[key]`` puts the gradient back at
``key`` in zeros of x's shape, adding up indices that repeat; the gradient of that is indexing
again. The same holds for gather and scatter_add. A write of values at ``key`` sends the gradient
of the written places to the values (indexing) and the rest to the input.
"""
from __future__ import annotations

import builtins
from types import ModuleType

import numpy as np

from .. import dtypes
from ..autograd.function import Function, constant, constant_like
from ..backends import array_module, default_module, device_of_array
from ..tensor import Tensor, wrap
from ._util import _norm_dim, fmt, shape_error, tensor_method, zeros_where_none
from .elementwise import Where
from .shape import broadcast_to, movedim, pad, reshape, sum_to


def _normalize_key(key, xp: ModuleType | None = None):
    """Tensors in a key become arrays, and lists arrays of ``xp`` (the indexed tensor's array
    module; the default one when not given); returns (key, is_basic)."""
    if xp is None:
        xp = default_module()
    if not isinstance(key, tuple):
        key = (key,)
    out, basic = [], True
    for k in key:
        if isinstance(k, Tensor):
            k = k._data
        if isinstance(k, list):
            k = xp.asarray(k)
        if isinstance(k, np.ndarray) or device_of_array(k) is not None:  # a GPU array is no ndarray (CuPy's)
            basic = False
            if k.dtype.kind not in "iub":
                raise IndexError(f"tensors used as indices must be long, int or bool tensors, got {k.dtype}")
        elif isinstance(k, (builtins.bool, np.bool_)):
            basic = False
        out.append(k)
    return tuple(out), basic


class GetItem(Function):
    """``x[key]`` for a normalised ``key``; ``basic`` says it holds only ints, slices, None and
    Ellipsis (a view, whose adjoint can assign instead of accumulate)."""

    def __init__(self, key: tuple, basic: bool) -> None:
        self.key, self.basic = key, basic
        self.is_view = basic  # basic indexing returns a view of x

    def forward(self, x):
        self.in_shape = x._data.shape
        # a trailing Ellipsis makes NumPy return a 0-d view, not a copied scalar, for x[i, j]
        key = self.key + (Ellipsis,) if self.basic and not any(k is Ellipsis for k in self.key) else self.key
        try:
            out = x._data[key]
        except IndexError as e:
            raise IndexError(f"index {self.key!r} is invalid for a tensor of shape {fmt(x._data.shape)}: {e}") from None
        return out if isinstance(out, np.ndarray) else array_module(x._data).asarray(out)

    def vjp(self, grad):
        return IndexAccumulate.apply(grad, key=self.key, basic=self.basic, shape=self.in_shape)

    def jvp(self, dx):
        return GetItem.apply(dx, key=self.key, basic=self.basic)


class IndexAccumulate(Function):
    """zeros(shape) with ``grad`` added at ``key`` (repeated indices accumulate)."""

    def __init__(self, key: tuple, basic: bool, shape: tuple[int, ...]) -> None:
        self.key, self.basic, self.shape = key, basic, shape

    def forward(self, g):
        xp = array_module(g._data)
        out = xp.zeros(self.shape, g._data.dtype)
        if self.basic:
            out[self.key] = g._data
        else:
            xp.add.at(out, self.key, g._data)
        return out

    def vjp(self, grad):
        return GetItem.apply(grad, key=self.key, basic=self.basic)

    def jvp(self, dg):
        return IndexAccumulate.apply(dg, key=self.key, basic=self.basic, shape=self.shape)


class SetItem(Function):
    """``x`` with ``x[key] = value`` done out of place: the node behind ``x[key] = value`` on a tensor in
    the graph. The gradient of ``x`` is the incoming one with the written region zeroed; that of
    ``value`` is the region's gradient, summed over the dimensions ``value`` was broadcast along."""

    def __init__(self, key: tuple, basic: bool) -> None:
        self.key, self.basic = key, basic

    def forward(self, x, value):
        self.shapes = x._data.shape, value._data.shape
        out = x._data.copy()
        try:
            out[self.key] = value._data
        except ValueError:
            raise shape_error("__setitem__", x._data[self.key].shape, value._data.shape,
                              hint="the value must broadcast to the indexed region") from None
        return out

    def vjp(self, grad):
        need_x, need_value = self.needs_input_grad
        g_x = SetItem.apply(grad, grad.new_zeros(()), key=self.key, basic=self.basic) if need_x else None
        g_value = sum_to(GetItem.apply(grad, key=self.key, basic=self.basic), self.shapes[1]) if need_value else None
        return g_x, g_value

    def jvp(self, dx, dvalue):
        return SetItem.apply(*zeros_where_none((dx, dvalue), self.shapes), key=self.key, basic=self.basic)


@tensor_method("__getitem__")
def getitem(input: Tensor, key) -> Tensor:
    """``input[key]`` with NumPy's basic and advanced indexing (int, bool and list indices)."""
    key, basic = _normalize_key(key, array_module(input._data))
    return GetItem.apply(input, key=key, basic=basic)


def _scatter_index(index: np.ndarray, dim: int) -> tuple:
    """Full coordinates for gather/scatter along ``dim``: index there, position elsewhere."""
    grids = list(array_module(index).ogrid[tuple(slice(0, s) for s in index.shape)])  # NumPy 2 gives a tuple
    grids[dim] = index
    return tuple(grids)


def _check_index(op: str, input: Tensor, dim: int, index: Tensor) -> np.ndarray:
    idx = index._data
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}(): expected an int64 index tensor, got {idx.dtype}")
    if idx.ndim != input.ndim:
        raise shape_error(op, input.shape, idx.shape, hint="index and input must have the same number of dimensions")
    for d in range(input.ndim):
        if d != dim and idx.shape[d] > input.shape[d]:
            raise shape_error(op, input.shape, idx.shape, hint=f"index size {idx.shape[d]} exceeds input size "
                              f"{input.shape[d]} in dimension {d}")
    if idx.size and (idx.min() < -input.shape[dim] or idx.max() >= input.shape[dim]):
        raise IndexError(f"{op}(): index out of range for dimension {dim} of size {input.shape[dim]}")
    return idx


class Gather(Function):
    """Pick along ``dim`` by a non-negative ``index`` array; the vjp scatter-adds the gradient back."""

    def __init__(self, dim: int, index: np.ndarray) -> None:
        self.dim, self.index = dim, index

    def forward(self, x):
        self.in_shape = x._data.shape
        return x._data[_scatter_index(self.index, self.dim)]

    def vjp(self, grad):
        zeros = array_module(grad._data).zeros(self.in_shape, grad._data.dtype)
        return ScatterAdd.apply(wrap(zeros), grad,
                                dim=self.dim, index=self.index, out_shape=self.in_shape)

    def jvp(self, dx):
        return Gather.apply(dx, dim=self.dim, index=self.index)


class ScatterAdd(Function):
    """``base`` with the leading ``index.shape`` block of ``src`` added along ``dim`` at a
    non-negative ``index``; the result has ``out_shape`` (the shape of ``base``)."""

    def __init__(self, dim: int, index: np.ndarray, out_shape: tuple[int, ...]) -> None:
        self.dim, self.index, self.out_shape = dim, index, out_shape

    def forward(self, base, src):
        out = base._data.copy()
        src_part = src._data[tuple(slice(0, s) for s in self.index.shape)]
        array_module(out).add.at(out, _scatter_index(self.index, self.dim), src_part)
        self.src_shape = src._data.shape
        return out

    def vjp(self, grad):
        nb, ns = self.needs_input_grad
        g_src = None
        if ns:
            g_src = Gather.apply(grad, dim=self.dim, index=self.index)
            if g_src.shape != self.src_shape:  # src may be larger than index: the rest gets no gradient
                widths = []
                for have, want in reversed(list(zip(g_src.shape, self.src_shape))):
                    widths += [0, want - have]
                g_src = pad(g_src, widths)
        return (grad if nb else None, g_src)

    def jvp(self, dbase, dsrc):
        if dsrc is None:
            return dbase
        base = dbase if dbase is not None else wrap(array_module(dsrc._data).zeros(self.out_shape, dsrc._data.dtype))
        return ScatterAdd.apply(base, dsrc, dim=self.dim, index=self.index, out_shape=self.out_shape)


@tensor_method()
def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """``out[i][j][k] = input[i][index[i][j][k]][k]`` for dim = 1 (torch.gather)."""
    if input.ndim == 0:  # torch allows 0-d input with a 0-d index (which must be 0)
        return reshape(gather(reshape(input, 1), dim, reshape(index, 1)), ())
    d = _norm_dim(dim, input.ndim, "gather")
    idx = _check_index("gather", input, d, index)
    return Gather.apply(input, dim=d, index=_wrap_negative(idx, input.shape[d]))


def _wrap_negative(index: np.ndarray, size: int) -> np.ndarray:
    """Indices counted from the end (-1 is the last of ``size``) as non-negative indices."""
    return array_module(index).where(index < 0, index + size, index)


@tensor_method()
def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """``out = input.clone(); out[i][index[i][j]] += src[i][j]`` for dim = 1 (torch.scatter_add)."""
    if input.ndim == 0:
        return reshape(scatter_add(reshape(input, 1), dim, reshape(index, 1), reshape(src, 1)), ())
    d = _norm_dim(dim, input.ndim, "scatter_add")
    idx = _check_index("scatter_add", input, d, index)
    for k in range(input.ndim):
        if idx.shape[k] > src.shape[k]:
            raise shape_error("scatter_add", idx.shape, src.shape, hint="index must not be larger than src in any dim")
    return ScatterAdd.apply(input, src, dim=d, index=_wrap_negative(idx, input.shape[d]), out_shape=input.shape)


@tensor_method()
def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """Rows (or slices along ``dim``) picked by a 1-d int64 index; repeats allowed."""
    idx = index._data if isinstance(index, Tensor) else array_module(input._data).asarray(index)
    if idx.ndim > 1:
        raise IndexError(f"index_select(): index must be 1-d, got shape {fmt(idx.shape)}")
    if idx.dtype.kind not in "iu" and not (idx.size == 0 and idx.dtype.kind == "f"):
        raise TypeError(f"index_select(): expected an int64 index, got {idx.dtype}")
    d = _norm_dim(dim, input.ndim, "index_select")
    return getitem(input, (slice(None),) * d + (idx.reshape(-1).astype(np.int64),))


def _bool_mask(mask, like: np.ndarray, op: str) -> np.ndarray:
    m = mask._data if isinstance(mask, Tensor) else array_module(like).asarray(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"{op}(): expected a bool mask, got {m.dtype}")
    return m


def _broadcast_mask(op: str, shape: tuple[int, ...], mask_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape the input and its mask broadcast to (PyTorch's out-of-place masked ops broadcast both)."""
    try:
        return tuple(np.broadcast_shapes(shape, mask_shape))
    except ValueError:
        raise shape_error(op, shape, mask_shape, hint="the mask and the input must broadcast together") from None


@tensor_method()
def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """``value`` where the bool ``mask`` is True, ``input`` elsewhere; mask and input broadcast together.

    ``value`` is a number or a 0-d tensor, cast to ``input``'s dtype; a 0-d tensor that requires grad
    gets the sum of the gradient over the filled places.
    """
    m = _bool_mask(mask, input._data, "masked_fill")
    _broadcast_mask("masked_fill", input._data.shape, m.shape)
    return Where.apply(wrap(m), _fill_value(value, input, "masked_fill"), input)


def _fill_value(value, input: Tensor, op: str) -> Tensor:
    """A number or a 0-d tensor as a 0-d tensor of ``input``'s dtype (a tensor stays in the graph)."""
    dtype = input._data.dtype
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"{op} only supports a 0-dimensional value tensor, but got tensor with {value.ndim} "
                               f"dimension(s)")
        return value if value._data.dtype == dtype else value.to(dtype)
    return wrap(array_module(input._data).asarray(value, dtype=dtype))


@tensor_method()
def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of ``input`` where the bool ``mask`` is True, as a 1-d tensor in row-major order
    (mask and input broadcast together); the gradient goes back to those elements."""
    m = _bool_mask(mask, input._data, "masked_select")
    shape = _broadcast_mask("masked_select", input._data.shape, m.shape)
    return getitem(broadcast_to(input, shape), array_module(m).broadcast_to(m, shape))


@tensor_method()
def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """``input`` with the places where ``mask`` is True filled, in row-major order, by the first elements
    of ``source`` (mask and input broadcast together). The gradient of the filled places goes to those
    elements of ``source``, the rest to ``input``."""
    m = _bool_mask(mask, input._data, "masked_scatter")
    if source._data.dtype != input._data.dtype:
        raise TypeError(f"masked_scatter: expected self and source to have same dtypes but got {input._data.dtype} "
                        f"and {source._data.dtype}")
    shape = _broadcast_mask("masked_scatter", input._data.shape, m.shape)
    m = array_module(m).broadcast_to(m, shape)
    count = builtins.int(m.sum())
    if source._data.size < count:
        raise RuntimeError(f"masked_scatter: Number of elements of source ({source._data.size}) < number of ones in "
                           f"mask ({count})")
    return _written(broadcast_to(input, shape), reshape(source, (-1,))[:count], (m,))


def _written(input: Tensor, values: Tensor, key: tuple) -> Tensor:
    """``input`` with ``values`` (broadcast to ``input[key]``) written at the advanced index ``key``,
    out of place: the gradient of the written places goes to ``values``, the rest to ``input``."""
    return SetItem.apply(input, values, key=key, basic=False)


@tensor_method()
def nonzero(input: Tensor, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
    """The int64 coordinates of the non-zero elements in row-major order: shape (n, ndim); with
    ``as_tuple``, one 1-d tensor of coordinates per dimension (a 0-d input counts as 1-d)."""
    a = input._data
    xp = array_module(a)
    if as_tuple:
        return tuple(wrap(c.astype(np.int64)) for c in xp.nonzero(a.reshape(-1) if a.ndim == 0 else a))
    return wrap(xp.argwhere(a).astype(np.int64))


@tensor_method()
def argwhere(input: Tensor) -> Tensor:
    """The (n, ndim) int64 coordinates of the non-zero elements (:func:`nonzero`)."""
    return nonzero(input)


def _int_index(index, op: str, long_only: bool = True) -> np.ndarray:
    """The index's array, refused unless int64 (any integer type unless ``long_only``, as PyTorch's index_* ops)."""
    idx = index._data if isinstance(index, Tensor) else default_module().asarray(index)
    if idx.dtype != np.int64 and (long_only or idx.dtype.kind not in "iu"):
        raise TypeError(f"{op}(): expected a long (int64) tensor for index, but got {idx.dtype}")
    return idx


def _in_range(idx: np.ndarray, size: int, op: str, negative: bool = True) -> None:
    low = -size if negative else 0
    if idx.size and (idx.min() < low or idx.max() >= size):
        bad = idx[(idx < low) | (idx >= size)].reshape(-1)[0]
        raise IndexError(f"{op}(): index {bad} is out of bounds for a dimension of size {size}")


@tensor_method()
def take(input: Tensor, index: Tensor) -> Tensor:
    """The elements of ``input`` seen as 1-d, at ``index`` (negative counts from the end): the result
    has ``index``'s shape."""
    idx = _int_index(index, "take")
    _in_range(idx, input._data.size, "take")
    return getitem(reshape(input, (-1,)), idx)


@tensor_method()
def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """Pick along ``dim`` at ``indices`` (:func:`gather` after broadcasting the other dims of ``input``
    and ``indices`` together); with ``dim=None``, the elements of the flattened tensors."""
    _int_index(indices, "take_along_dim")
    if dim is None:
        return gather(reshape(input, (-1,)), 0, reshape(indices, (-1,)))
    d = _norm_dim(dim, input.ndim, "take_along_dim")
    shape, ishape = input._data.shape, indices._data.shape
    if len(shape) != len(ishape):
        raise shape_error("take_along_dim", shape, ishape, hint="input and indices should have the same number of "
                          "dimensions")
    try:
        common = np.broadcast_shapes(shape[:d] + (1,) + shape[d + 1:], ishape[:d] + (1,) + ishape[d + 1:])
    except ValueError:
        raise shape_error("take_along_dim", shape, ishape, hint=f"all dims but dim {d} must broadcast") from None
    return gather(broadcast_to(input, common[:d] + shape[d:d + 1] + common[d + 1:]), d,
                  broadcast_to(indices, common[:d] + ishape[d:d + 1] + common[d + 1:]))


@tensor_method()
def repeat_interleave(input: Tensor, repeats=None, dim: int | None = None, *, output_size: int | None = None) -> Tensor:
    """Each element (each slice along ``dim``) repeated ``repeats`` times in place: ``[1, 2]`` with 2
    gives ``[1, 1, 2, 2]``. ``repeats`` is an int or a tensor of one count per slice; ``dim=None``
    flattens first. ``repeat_interleave(counts)`` alone repeats the indices 0, 1, … by ``counts``."""
    if repeats is None:
        counts = _counts(input._data, input._data.size, "repeat_interleave")
        return wrap(array_module(counts).repeat(array_module(counts).arange(counts.size), counts))
    x = reshape(input, (-1,)) if dim is None or input.ndim == 0 else input
    d = 0 if dim is None or input.ndim == 0 else _norm_dim(dim, input.ndim, "repeat_interleave")
    n = x._data.shape[d]
    xp = array_module(x._data)
    counts = repeats._data if isinstance(repeats, Tensor) else xp.asarray(builtins.int(repeats))
    counts = _counts(xp.broadcast_to(counts, (n,)) if counts.size == 1 else counts, n, "repeat_interleave")
    index = xp.repeat(xp.arange(n), counts)
    if output_size is not None and output_size != index.size:
        raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {index.size} but got {output_size}")
    return index_select(x, d, wrap(index))


def _counts(counts: np.ndarray, n: int, op: str) -> np.ndarray:
    if counts.dtype.kind not in "iu" or counts.ndim > 1:
        raise TypeError(f"{op}: repeats must be an int or a 0-d or 1-d integer tensor, got dtype {counts.dtype} and "
                        f"shape {fmt(counts.shape)}")
    if counts.size != n:
        raise shape_error(op, counts.shape, (n,), hint=f"repeats must have the same size as input along dim, "
                          f"but got repeats.size(0) = {counts.size} and input.size(dim) = {n}")
    if counts.size and counts.min() < 0:
        raise ValueError(f"{op}: repeats can not be negative")
    return counts.reshape(-1)


# ----------------------------------------------------------------------------- unfold: sliding windows
class SlidingWindows(Function):
    """The windows of ``size`` elements along ``dim``, ``step`` apart, as a new last dim (``x.unfold``):
    a view of the input, whose windows overlap when step < size. The vjp adds each window's gradient
    back where the window came from (:class:`IndexAccumulate`, overlaps adding up); the jvp takes the
    same windows of the tangent."""

    is_view = True

    def __init__(self, dim: int, size: int, step: int) -> None:
        self.dim, self.size, self.step = dim, size, step

    def forward(self, x):
        a = x._data
        self.in_shape = a.shape
        windows = array_module(a).lib.stride_tricks.sliding_window_view(a, self.size, axis=self.dim, writeable=True)
        return windows[(slice(None),) * self.dim + (slice(None, None, self.step),)]

    def vjp(self, grad):
        xp = array_module(grad._data)
        count = (self.in_shape[self.dim] - self.size) // self.step + 1
        # x[..., windows, ...] with this index lays the windows out as (…, count, size, …)
        windows = xp.arange(count)[:, None] * self.step + xp.arange(self.size)
        return IndexAccumulate.apply(movedim(grad, -1, self.dim + 1), key=(slice(None),) * self.dim + (windows,),
                                     basic=False, shape=self.in_shape)

    def jvp(self, dx):
        return SlidingWindows.apply(dx, dim=self.dim, size=self.size, step=self.step)


@tensor_method("unfold")
def _unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """``x.unfold(dimension, size, step)``: the windows of ``size`` elements along ``dimension``, ``step``
    apart, as a new last dim — a view, as in PyTorch: (…, n, …) -> (…, (n − size) // step + 1, …, size)."""
    if input.ndim == 0:
        _norm_dim(dimension, 0, "unfold")
        return reshape(_unfold(reshape(input, (1,)), 0, size, step), (size,))
    d = _norm_dim(dimension, input.ndim, "unfold")
    n = input._data.shape[d]
    if step <= 0:
        raise ValueError(f"unfold: step is {step} but must be > 0")
    if not 0 <= size <= n:
        raise ValueError(f"unfold: maximum size for tensor at dimension {d} is {n} but size is {size}")
    return SlidingWindows.apply(input, dim=d, size=builtins.int(size), step=builtins.int(step))


# ----------------------------------------------------------------------------- writes: scatter, index_*, put
def _scatter_args(op: str, input: Tensor, dim: int, index: Tensor, src: Tensor) -> tuple[int, np.ndarray, Tensor]:
    """The checked dim, the index made non-negative, and the part of ``src`` the index covers (src may be
    larger than index; the rest of it gets no gradient)."""
    d = _norm_dim(dim, input.ndim, op)
    idx = _check_index(op, input, d, index)
    if src._data.dtype != input._data.dtype:
        raise TypeError(f"{op}(): Expected self.dtype to be equal to src.dtype, got {input._data.dtype} and "
                        f"{src._data.dtype}")
    if src.ndim != idx.ndim or any(i > s for i, s in zip(idx.shape, src._data.shape)):
        raise shape_error(op, idx.shape, src._data.shape, hint="index must not be larger than src in any dim")
    part = src if src._data.shape == idx.shape else src[tuple(slice(0, k) for k in idx.shape)]
    return d, _wrap_negative(idx, input._data.shape[d]), part


def _on_vector(fn, input: Tensor, index: Tensor, src):
    """``fn`` on a 0-d ``input`` (and index, src) seen as shape (1,): PyTorch treats 0-d as 1-element 1-d."""
    src = reshape(src, (1,)) if isinstance(src, Tensor) else src
    return reshape(fn(reshape(input, (1,)), 0, reshape(index, (1,)), src), ())


@tensor_method()
def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce: str | None = None) -> Tensor:
    """``input`` with ``src`` written along ``dim`` at ``index``: ``out[i][index[i][j]] = src[i][j]`` for
    dim 1 (``src`` a tensor, or a number: ``value``). Where an index repeats, the last write wins.

    ``reduce='add'`` or ``'multiply'`` combines instead of writing (:func:`scatter_reduce` with 'sum',
    'prod'). The gradient of the written places goes to ``src``; the rest to ``input``.
    """
    if src is not None and not isinstance(src, Tensor):
        src, value = None, src
    if (src is None) == (value is None):
        raise TypeError("scatter(): give either src (a tensor) or value (a number)")
    if input.ndim == 0:
        return _on_vector(lambda x, d, i, s: scatter(x, d, i, s, value=value, reduce=reduce), input, index, src)
    if src is None:
        src = wrap(array_module(input._data).full(index._data.shape, value, dtype=input._data.dtype))
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise ValueError(f"scatter(): reduce argument must be either add or multiply, got {reduce!r}")
        return scatter_reduce(input, dim, index, src, "sum" if reduce == "add" else "prod")
    d, idx, part = _scatter_args("scatter", input, dim, index, src)
    return _written(input, part, _scatter_index(idx, d))


class ScatterReduce(Function):
    """``base`` with ``src`` combined into it along ``dim`` at a non-negative ``index`` by ``reduce``
    (sum, prod, mean, amax, amin), ``base``'s own value included where ``include_self``; places no
    index names keep ``base``. ``src`` has ``index``'s shape.

    The rules are PyTorch's (scatter_reduce_backward, scatter_reduce_jvp): sum and mean are linear;
    prod sends each factor the product of the others (computed without dividing by a zero factor);
    amax and amin share the gradient evenly between the elements equal to the result.
    """

    saves_output = True
    _ufuncs = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}

    def __init__(self, dim: int, index: np.ndarray, reduce: str, include_self: bool) -> None:
        self.dim, self.index, self.reduce, self.include_self = dim, index, reduce, include_self

    def forward(self, base, src):
        self.save(base, src)
        b, s = base._data, src._data
        xp = array_module(b, s)
        at = _scatter_index(self.index, self.dim)
        out = b.copy()
        if not self.include_self:
            out[at] = self._identity(b.dtype)
        try:
            getattr(xp, self._ufuncs[self.reduce]).at(out, at, s)
        except NotImplementedError as e:  # CuPy has no multiply.at
            raise NotImplementedError(f"scatter_reduce(reduce={self.reduce!r}): {xp.__name__} cannot combine "
                                      f"scattered values by {self._ufuncs[self.reduce]} ({e}); move the tensors "
                                      "to the CPU for this op (.cpu()) or use another reduce") from None
        if self.reduce == "mean":
            count = xp.ones(b.shape, b.dtype) if self.include_self else xp.zeros(b.shape, b.dtype)
            xp.add.at(count, at, 1)
            self.count = xp.maximum(count, 1)
            out = out // self.count if b.dtype.kind in "iu" else out / self.count
        return out

    def _identity(self, dtype: np.dtype):
        """The value a reduction starts from where ``base`` is not included."""
        if self.reduce in ("amax", "amin"):
            if dtypes.is_floating_point(dtype):
                return -np.inf if self.reduce == "amax" else np.inf
            info = np.iinfo(dtype)
            return info.min if self.reduce == "amax" else info.max
        return 1 if self.reduce == "prod" else 0

    def _again(self, base: Tensor, src: Tensor, reduce: str | None = None) -> Tensor:
        return ScatterReduce.apply(base, src, dim=self.dim, index=self.index, reduce=reduce or self.reduce,
                                   include_self=self.include_self)

    def _gather(self, t: Tensor) -> Tensor:
        return Gather.apply(t, dim=self.dim, index=self.index)

    def _without_written(self, t: Tensor) -> Tensor:
        """``t`` with the places the index names set to 0 (base's share where base is not included)."""
        return _written(t, constant_like(0, t._data), _scatter_index(self.index, self.dim))

    def _factors(self) -> tuple[Tensor, Tensor]:
        """prod: ∂out/∂base and ∂out[index]/∂src, the product of the other factors, without a division by
        a zero factor (a lone zero factor in src gets the product of the others, computed again)."""
        base, src = self.saved
        b, s = base._data, src._data
        xp = array_module(b)
        one = constant_like(1, b)
        masked_base = Where.apply(constant(b == 0), one, base)
        d_base = self._again(masked_base, src) / masked_base
        zero = s == 0
        zeros_per_place = xp.zeros(b.shape, b.dtype)
        xp.add.at(zeros_per_place, _scatter_index(self.index, self.dim), zero.astype(b.dtype))
        lone_zero = constant(zero & (zeros_per_place[_scatter_index(self.index, self.dim)] == 1))
        others = self._gather(self._again(base, Where.apply(lone_zero, one, src)))
        d_src = Where.apply(lone_zero, others, self._gather(self.output) / Where.apply(constant(zero), one, src))
        return d_base, d_src

    def _hits(self) -> tuple[np.ndarray, np.ndarray]:
        """amax/amin: where base, and where src, equal the result they take part in."""
        base, src = self.saved
        result = self.output._data
        return base._data == result, src._data == result[_scatter_index(self.index, self.dim)]

    def vjp(self, grad):
        need_base, need_src = self.needs_input_grad
        reduce = self.reduce
        if reduce == "sum":
            g_base, g_src = grad, self._gather(grad)
        elif reduce == "mean":
            count = constant(self.count)
            g_base, g_src = grad / count, self._gather(grad / count)
        elif reduce == "prod":
            d_base, d_src = self._factors()
            g_base, g_src = grad * d_base, self._gather(grad) * d_src
        else:  # amax, amin: shared between the ties (PyTorch counts base's even where it is not included)
            base_hit, src_hit = self._hits()
            count = base_hit.astype(grad._data.dtype)
            array_module(count).add.at(count, _scatter_index(self.index, self.dim), src_hit.astype(count.dtype))
            shared = grad / constant(count)
            zero = constant_like(0, grad._data)
            g_base = Where.apply(constant(base_hit), shared, zero)
            g_src = Where.apply(constant(src_hit), self._gather(shared), zero)
        if not self.include_self:
            g_base = self._without_written(g_base)
        return (g_base if need_base else None, g_src if need_src else None)

    def jvp(self, dbase, dsrc):
        base, src = self.saved
        dbase = dbase if dbase is not None else wrap(array_module(base._data).zeros_like(base._data))
        dsrc = dsrc if dsrc is not None else wrap(array_module(src._data).zeros_like(src._data))
        if self.reduce in ("sum", "mean"):  # linear
            return self._again(dbase, dsrc)
        if self.reduce == "prod":
            d_base, d_src = self._factors()
            if not self.include_self:
                d_base = self._without_written(d_base)
            return ScatterAdd.apply(dbase * d_base, dsrc * d_src, dim=self.dim, index=self.index,
                                    out_shape=base._data.shape)
        base_hit, src_hit = self._hits()  # amax, amin: the mean tangent of the ties
        zero = constant_like(0, dbase._data)
        total = self._again(Where.apply(constant(base_hit), dbase, zero), Where.apply(constant(src_hit), dsrc, zero),
                            "sum")
        dtype = dbase._data.dtype
        count = self._again(constant(base_hit.astype(dtype)), constant(src_hit.astype(dtype)), "sum")
        return total / count


_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


@tensor_method()
def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """``input`` with each ``src[i][j]`` combined into ``out[i][index[i][j]]`` (dim 1) by ``reduce``: 'sum',
    'prod', 'mean', 'amax' or 'amin'; ``input``'s own value takes part unless ``include_self=False``.
    Places no index names keep ``input``'s value. Differentiable in ``input`` and ``src``.

    Example::

        >>> fukaku.scatter_reduce(fukaku.zeros(3), 0, fukaku.tensor([0, 0, 2]), fukaku.tensor([1., 2., 3.]), "amax")
        tensor([2., 0., 3.])
    """
    if reduce not in _REDUCTIONS:
        raise ValueError(f"scatter_reduce(): reduce argument must be either sum, prod, mean, amax or amin, "
                         f"got {reduce!r}")
    if input.ndim == 0:
        return _on_vector(lambda x, d, i, s: scatter_reduce(x, d, i, s, reduce, include_self=include_self),
                          input, index, src)
    d, idx, part = _scatter_args("scatter_reduce", input, dim, index, src)
    return ScatterReduce.apply(input, part, dim=d, index=idx, reduce=reduce, include_self=include_self)


def _along(input: Tensor, dim: int, index, op: str, negative: bool) -> tuple[int, np.ndarray, tuple]:
    """index_add/index_copy/index_fill: the dim, the 1-d index checked against it (made non-negative),
    and the key that picks those slices."""
    d = _norm_dim(dim, input.ndim, op)
    idx = _int_index(index, op, long_only=False)
    if idx.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, got shape {fmt(idx.shape)}")
    idx = idx.reshape(-1)
    n = input._data.shape[d] if input.ndim else 1
    _in_range(idx, n, op, negative)
    idx = _wrap_negative(idx, n)
    return d, idx, (slice(None),) * d + (idx,)


def _check_source(op: str, input: Tensor, d: int, idx: np.ndarray, source: Tensor) -> None:
    if source._data.dtype != input._data.dtype:
        raise TypeError(f"{op}(): self ({input._data.dtype}) and source ({source._data.dtype}) must have the same "
                        f"scalar type")
    want = input._data.shape[:d] + (idx.size,) + input._data.shape[d + 1:]
    if source._data.shape != want:
        raise shape_error(op, input._data.shape, source._data.shape, hint=f"source must have the shape of self with "
                          f"dim {d} of size len(index) = {idx.size}, that is {fmt(want)}")


@tensor_method()
def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """``input`` with ``alpha * source[..., i, ...]`` added to the slice ``index[i]`` along ``dim`` (repeated
    indices add up): ``out = input.clone(); out[index[i]] += alpha * source[i]`` for dim 0."""
    if input.ndim == 0:
        return _on_vector(lambda x, d, i, s: index_add(x, d, i, s, alpha=alpha), input,
                          wrap(_int_index(index, "index_add", False)), source)
    d, idx, key = _along(input, dim, index, "index_add", negative=False)
    _check_source("index_add", input, d, idx, source)
    added = IndexAccumulate.apply(source if alpha == 1 else source * alpha, key=key, basic=False,
                                  shape=input._data.shape)
    return input + added


@tensor_method()
def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """``input`` with the slices ``index[i]`` along ``dim`` replaced by ``source``'s slices ``i``."""
    if input.ndim == 0:
        return _on_vector(index_copy, input, wrap(_int_index(index, "index_copy", False)), source)
    d, idx, key = _along(input, dim, index, "index_copy", negative=False)
    _check_source("index_copy", input, d, idx, source)
    return _written(input, source, key)


@tensor_method()
def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """``input`` with the slices ``index`` along ``dim`` (negative counts from the end) set to ``value``,
    a number or a 0-d tensor (which may require grad: it gets the gradient of all the filled places)."""
    if input.ndim == 0:
        return _on_vector(lambda x, d, i, v: index_fill(x, d, i, value), input,
                          wrap(_int_index(index, "index_fill", False)), None)
    d, idx, key = _along(input, dim, index, "index_fill", negative=True)
    key = key[:-1] + (array_module(idx).unique(idx),)  # a slice named twice is filled (and differentiated) once
    return _written(input, _fill_value(value, input, "index_fill"), key)


@tensor_method()
def index_put(input: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """``input`` with ``values`` (broadcast) written at ``input[indices]``, ``indices`` a tuple of int or
    bool index tensors; ``accumulate=True`` adds them instead (repeated indices add up)."""
    if not isinstance(indices, (tuple, list)) or not all(isinstance(i, Tensor) for i in indices):
        raise TypeError("index_put(): indices must be a tuple of tensors (int64 or bool index tensors)")
    if values._data.dtype != input._data.dtype:
        raise TypeError(f"index_put(): Index put requires the source and destination dtypes match, got "
                        f"{input._data.dtype} for the destination and {values._data.dtype} for the source")
    key, _ = _normalize_key(tuple(indices), array_module(input._data))
    try:
        target = array_module(input._data).broadcast_to(input._data, input._data.shape)[key].shape
        np.broadcast_shapes(values._data.shape, target)
    except IndexError as e:
        raise IndexError(f"index_put(): indices {key!r} are invalid for a tensor of shape {fmt(input._data.shape)}: "
                         f"{e}") from None
    except ValueError:
        raise shape_error("index_put", target, values._data.shape, hint="values must broadcast to the indexed "
                          "shape") from None
    if accumulate:
        return input + IndexAccumulate.apply(broadcast_to(values, target), key=key, basic=False,
                                             shape=input._data.shape)
    return _written(input, values, key)


@tensor_method()
def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """``input`` seen as 1-d with ``source``'s elements written (``accumulate``: added) at ``index``
    (negative counts from the end); the result has ``input``'s shape."""
    idx = _int_index(index, "put")
    _in_range(idx, input._data.size, "put")
    if idx.size != source._data.size:
        raise shape_error("put", idx.shape, source._data.shape, hint="index and source need the same number of "
                          "elements")
    flat = index_put(reshape(input, (-1,)), (wrap(idx.reshape(-1)),), reshape(source, (-1,)), accumulate)
    return reshape(flat, input._data.shape)


# ----------------------------------------------------------------------------- embedding
class EmbeddingLookup(Function):
    """Rows of a table: ``weight[index]``. The vjp adds each output row's gradient back into the
    row it came from (repeated indices accumulate) and leaves the ``padding_idx`` row without
    gradient, as PyTorch does; the jvp looks the tangent rows up the same way."""

    def __init__(self, index: np.ndarray, padding_idx: int | None) -> None:
        self.index, self.padding_idx = index, padding_idx

    def forward(self, weight):
        self.weight_shape = weight._data.shape
        check_rows("embedding", self.index, self.weight_shape[0])  # on each call: a replayed program checks too
        return weight._data[self.index]

    def vjp(self, grad):
        if self.padding_idx is not None:
            keep = (self.index != self.padding_idx)[..., None].astype(grad._data.dtype)
            grad = grad * constant(keep)
        return IndexAccumulate.apply(grad, key=(self.index,), basic=False, shape=self.weight_shape)

    def jvp(self, dweight):
        return GetItem.apply(dweight, key=(self.index,), basic=False)


def check_rows(op: str, index: np.ndarray, rows: int) -> None:
    """Refuse indices that name no row of a table of ``rows`` rows (a negative one would wrap around)."""
    if index.size and (index.min() < 0 or index.max() >= rows):
        raise IndexError(f"{op}: index out of range: indices span [{index.min()}, {index.max()}] but the table "
                         f"has {rows} rows (valid indices 0..{rows - 1})")


# the functions ``fukaku.ops`` (and so ``fukaku``) exports from this family
__all__ = ["argwhere", "gather", "getitem", "index_add", "index_copy", "index_fill", "index_put", "index_select",
           "masked_fill", "masked_scatter", "masked_select", "nonzero", "put", "repeat_interleave", "scatter",
           "scatter_add", "scatter_reduce", "take", "take_along_dim"]
