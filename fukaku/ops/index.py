"""Indexing ops: ``x[key]`` (basic and advanced), gather, scatter_add, index_select, masked_fill.

Indexing and its adjoint come in pairs: the gradient of ``x[key]`` puts the gradient back at
``key`` in zeros of x's shape, adding up indices that repeat; the gradient of that is indexing
again. The same holds for gather and scatter_add.
"""
from __future__ import annotations

import builtins
from types import ModuleType

import numpy as np

from ..autograd.function import Function, constant
from ..backends import array_module, default_module
from ..tensor import Tensor, wrap
from ._util import _norm_dim, fmt, shape_error, tensor_method


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
        if isinstance(k, np.ndarray):
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
                from .shape import pad

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
        from .shape import reshape

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
        from .shape import reshape

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


@tensor_method()
def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """``value`` where ``mask`` is True, ``input`` elsewhere (mask broadcasts)."""
    from .elementwise import where

    xp = array_module(input._data)
    m = mask._data if isinstance(mask, Tensor) else xp.asarray(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill(): expected a bool mask, got {m.dtype}")
    try:
        ok = np.broadcast_shapes(input.shape, m.shape) == input.shape
    except ValueError:
        ok = False
    if not ok:
        raise shape_error("masked_fill", input.shape, m.shape, hint="the mask must broadcast to the input's shape")
    fill = value if isinstance(value, Tensor) else wrap(xp.asarray(value, dtype=input.dtype))
    return where(wrap(m), fill, input)


# ----------------------------------------------------------------------------- embedding
class EmbeddingLookup(Function):
    """Rows of a table: ``weight[index]``. The vjp adds each output row's gradient back into the
    row it came from (repeated indices accumulate) and leaves the ``padding_idx`` row without
    gradient, as PyTorch does; the jvp looks the tangent rows up the same way."""

    def __init__(self, index: np.ndarray, padding_idx: int | None) -> None:
        self.index, self.padding_idx = index, padding_idx

    def forward(self, weight):
        self.weight_shape = weight._data.shape
        return weight._data[self.index]

    def vjp(self, grad):
        if self.padding_idx is not None:
            keep = (self.index != self.padding_idx)[..., None].astype(grad._data.dtype)
            grad = grad * constant(keep)
        return IndexAccumulate.apply(grad, key=(self.index,), basic=False, shape=self.weight_shape)

    def jvp(self, dweight):
        return GetItem.apply(dweight, key=(self.index,), basic=False)


# the functions ``fukaku.ops`` (and so ``fukaku``) exports from this family
__all__ = ["gather", "getitem", "index_select", "masked_fill", "scatter_add"]
