"""Shape ops: reshape/view, permute/transpose, expand/broadcast, sum_to, cat/stack, split/chunk,
flip, roll, pad, repeat, tril/triu, diag. They move values without arithmetic, so each vjp is the
inverse movement of the gradient and each jvp is the same movement of the tangent.
"""
from __future__ import annotations

import builtins
import itertools
import math

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..backends import array_module
from ..errors import ShapeError
from ..tensor import Tensor, wrap
from ._util import _norm_dim, _norm_dims, fmt, shape_error, tensor_method


class _ViewAs(Function):
    """The input's values seen in a target ``shape``, without copying when the layout allows;
    ``op`` names the public call (reshape, view, expand, ...) in errors. Subclasses give the
    array operation (``_view``) and the hint for a shape it cannot take (``_hint``)."""

    is_view = True

    def __init__(self, shape: tuple[int, ...], op: str) -> None:
        self.shape, self.op = shape, op

    def forward(self, x: Tensor) -> np.ndarray:
        self.in_shape = x._data.shape
        try:
            return self._view(x._data)
        except ValueError:
            raise shape_error(self.op, x._data.shape, self.shape, hint=self._hint(x._data)) from None


class Reshape(_ViewAs):
    """Same values in a new ``shape``."""

    def _view(self, a: np.ndarray) -> np.ndarray:
        return a.reshape(self.shape)

    def _hint(self, a: np.ndarray) -> str:
        return f"a tensor of {a.size} elements cannot be viewed as shape {fmt(self.shape)}"

    def vjp(self, grad: Tensor) -> Tensor:
        return reshape(grad, self.in_shape)

    def jvp(self, dx: Tensor) -> Tensor:
        return reshape(dx, self.shape)


def _shape_arg(shape) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, np.ndarray)):
        shape = tuple(shape[0])
    return tuple(builtins.int(s) for s in shape)


def _reshaped(input: Tensor, shape: tuple[int, ...], op: str) -> Tensor:
    if shape == input._data.shape:
        return input
    return Reshape.apply(input, shape=shape, op=op)


@tensor_method()
def reshape(input: Tensor, *shape) -> Tensor:
    """Same values, new shape (one dimension may be -1). ``(N, C*H*W) -> (N, C, H, W)``.

    The shape comes as one tuple or as sizes: ``x.reshape(2, 3)`` and ``x.reshape((2, 3))``.
    """
    return _reshaped(input, _shape_arg(shape), "reshape")


@tensor_method()
def view(input: Tensor, *shape) -> Tensor:
    """Alias of :func:`reshape` (NumPy gives a view whenever the layout allows it)."""
    return _reshaped(input, _shape_arg(shape), "view")


@tensor_method()
def view_as(input: Tensor, other: Tensor) -> Tensor:
    """``input`` viewed with ``other``'s shape."""
    return _reshaped(input, other.shape, "view_as")


@tensor_method()
def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    """``input`` reshaped to ``other``'s shape."""
    return _reshaped(input, other.shape, "reshape_as")


@tensor_method()
def contiguous(input: Tensor) -> Tensor:
    """``input`` itself: every op here accepts any NumPy memory layout, so there is nothing to copy."""
    return input


@tensor_method()
def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one: ``(N, C, H, W) -> (N, C*H*W)`` for start_dim=1."""
    if input.ndim == 0:
        return reshape(input, 1)
    s = _norm_dim(start_dim, input.ndim, "flatten")
    e = _norm_dim(end_dim, input.ndim, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim ({start_dim}) cannot come after end_dim ({end_dim}) "
                         f"for a tensor of shape {fmt(input.shape)}")
    shape = input.shape
    return reshape(input, shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])


@tensor_method()
def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split dimension ``dim`` into ``sizes`` (the inverse of :func:`flatten`)."""
    d = _norm_dim(dim, input.ndim, "unflatten")
    return reshape(input, input.shape[:d] + tuple(sizes) + input.shape[d + 1:])


@tensor_method()
def squeeze(input: Tensor, dim=None) -> Tensor:
    """Drop size-1 dimensions (all of them, or those in ``dim`` that have size 1)."""
    dims = _norm_dims(dim, input.ndim, "squeeze")
    shape = tuple(s for i, s in enumerate(input.shape) if not (i in dims and s == 1))
    return reshape(input, shape)


@tensor_method()
def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dimension at ``dim``."""
    d = _norm_dim(dim, input.ndim + 1, "unsqueeze")
    return reshape(input, input.shape[:d] + (1,) + input.shape[d:])


class Permute(Function):
    """Reorder dimensions by ``dims``; the vjp applies the inverse permutation."""

    is_view = True

    def __init__(self, dims: tuple[int, ...]) -> None:
        self.dims = dims

    def forward(self, x: Tensor) -> np.ndarray:
        return x._data.transpose(self.dims)

    def vjp(self, grad: Tensor) -> Tensor:
        inverse = sorted(range(len(self.dims)), key=self.dims.__getitem__)
        return permute(grad, tuple(inverse))

    def jvp(self, dx: Tensor) -> Tensor:
        return permute(dx, self.dims)


@tensor_method()
def permute(input: Tensor, *dims) -> Tensor:
    """Reorder dimensions: ``permute(x, 0, 2, 3, 1)`` turns NCHW into NHWC."""
    dims = _shape_arg(dims)
    if len(dims) != input.ndim:
        raise shape_error("permute", input.shape, hint=f"got {len(dims)} dims {dims} for a {input.ndim}-d tensor")
    norm = tuple(_norm_dim(d, input.ndim, "permute") for d in dims)
    if sorted(norm) != list(range(input.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of {input.ndim} dimensions")
    if norm == tuple(range(input.ndim)):
        return input
    return Permute.apply(input, dims=norm)


@tensor_method("transpose", "swapaxes")
def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap dimensions ``dim0`` and ``dim1`` (also ``x.swapaxes``)."""
    order = list(range(input.ndim))
    a, b = _norm_dim(dim0, input.ndim, "transpose"), _norm_dim(dim1, input.ndim, "transpose")
    if input.ndim == 0:
        return input
    order[a], order[b] = order[b], order[a]
    return permute(input, order)


@tensor_method()
def t(input: Tensor) -> Tensor:
    """Transpose of a matrix; 0-d and 1-d tensors come back as they are."""
    if input.ndim > 2:
        raise ValueError(f"t(): expects a tensor with <= 2 dimensions, but got {input.ndim}; use transpose() or .mT")
    return transpose(input, 0, -1) if input.ndim == 2 else input


def _mT(input: Tensor) -> Tensor:
    """``x.mT``: the last two dimensions swapped (a batch of matrices transposed)."""
    if input.ndim < 2:
        raise ValueError(f"mT: expects a tensor with >= 2 dimensions, got shape {fmt(input.shape)}")
    return transpose(input, -2, -1)


Tensor.mT = property(_mT)


def _T(input: Tensor) -> Tensor:
    """``x.T``: all dimensions in reverse order."""
    return permute(input, tuple(range(input.ndim))[::-1])


Tensor.T = property(_T)


class BroadcastTo(_ViewAs):
    """Broadcast to ``shape`` without copying."""

    def _view(self, a: np.ndarray) -> np.ndarray:
        return array_module(a).broadcast_to(a, self.shape)

    def _hint(self, a: np.ndarray) -> str:
        return "only size-1 dimensions can be expanded, and new dimensions go in front"

    def vjp(self, grad: Tensor) -> Tensor:
        return sum_to(grad, self.in_shape)

    def jvp(self, dx: Tensor) -> Tensor:
        return broadcast_to(dx, self.shape)


def broadcast_to(input: Tensor, shape, _op: str = "broadcast_to") -> Tensor:
    """Broadcast to ``shape`` without copying; -1 keeps the size of an existing dimension."""
    shape = tuple(builtins.int(s) for s in shape)
    if -1 in shape:
        lead = len(shape) - input.ndim
        if lead < 0:
            raise shape_error(_op, input.shape, shape, hint="the target shape needs at least the tensor's ndim")
        if any(s == -1 for s in shape[:lead]):
            raise shape_error(_op, input.shape, shape, hint="-1 is not allowed for a new leading dimension")
        shape = tuple(input.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    if shape == input._data.shape:
        return input
    return BroadcastTo.apply(input, shape=shape, op=_op)


@tensor_method()
def expand(input: Tensor, *sizes) -> Tensor:
    """Broadcast size-1 dims to ``sizes`` without copying (-1 keeps a size)."""
    sizes = _shape_arg(sizes)
    lead = len(sizes) - input.ndim
    if lead < 0:
        raise shape_error("expand", input.shape, sizes, hint="the number of sizes must be >= the tensor's ndim")
    return broadcast_to(input, sizes, _op="expand")


@tensor_method()
def expand_as(input: Tensor, other: Tensor) -> Tensor:
    """:func:`expand` to ``other``'s shape."""
    return broadcast_to(input, other.shape, _op="expand_as")


class SumTo(Function):
    """Sum a broadcast gradient back down to ``shape`` (the adjoint of broadcasting)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: Tensor) -> np.ndarray:
        self.in_shape = x._data.shape
        lead = x._data.ndim - len(self.shape)
        axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(self.shape) if s == 1 and x._data.shape[i + lead] != 1)
        out = x._data.sum(axis=axes, keepdims=True) if axes else x._data
        return out.reshape(self.shape)

    def vjp(self, grad: Tensor) -> Tensor:
        return broadcast_to(grad, self.in_shape)

    def jvp(self, dx: Tensor) -> Tensor:
        return sum_to(dx, self.shape)


def sum_to(input: Tensor, shape) -> Tensor:
    """Sum over the dimensions that broadcasting added or stretched, to get back ``shape``."""
    shape = tuple(shape)
    if input._data.shape == shape:
        return input
    return SumTo.apply(input, shape=shape)


class Cat(Function):
    """Join the inputs along ``dim``; the vjp hands each input its slice of the gradient."""

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def forward(self, *xs: Tensor) -> np.ndarray:
        arrays = [x._data for x in xs]
        self.shapes = [a.shape for a in arrays]
        try:
            return array_module(*arrays).concatenate(arrays, axis=self.dim)
        except ValueError:
            raise shape_error("cat", *self.shapes, hint=f"all dimensions except dim={self.dim} must match") from None

    def vjp(self, grad: Tensor):
        bounds = list(itertools.accumulate((s[self.dim] for s in self.shapes), initial=0))
        lead = (slice(None),) * self.dim
        return tuple(grad[lead + (slice(a, b),)] for a, b in zip(bounds[:-1], bounds[1:]))

    def jvp(self, *tangents):
        given = next(d for d in tangents if d is not None)
        xp = array_module(given._data)
        parts = [d if d is not None else wrap(xp.zeros(s, given.dtype)) for d, s in zip(tangents, self.shapes)]
        return cat(parts, self.dim)


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    # like torch, skip legacy empty 1-d tensors of shape (0,)
    kept = [x for x in tensors if not (x.ndim == 1 and x.shape[0] == 0)] or tensors[:1]
    ref = kept[0]
    for x in kept[1:]:
        if x.ndim != ref.ndim:
            raise shape_error("cat", ref.shape, x.shape, hint="tensors must have the same number of dimensions")
    target = ref.dtype
    for x in kept[1:]:
        target = dtypes.promote(target, 1, x.dtype, 1)
    kept = [x if x.dtype == target else x.to(target) for x in kept]
    return Cat.apply(*kept, dim=_norm_dim(dim, ref.ndim, "cat"))


def stack(tensors, dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dimension."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    for x in tensors[1:]:
        if x.shape != tensors[0].shape:
            raise shape_error("stack", tensors[0].shape, x.shape, hint="stack expects each tensor to be equal size")
    d = _norm_dim(dim, tensors[0].ndim + 1, "stack")
    return cat([unsqueeze(x, d) for x in tensors], d)


@tensor_method()
def split(input: Tensor, split_size_or_sections, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of ``split_size`` (last may be smaller), or of the listed sizes."""
    d = _norm_dim(dim, input.ndim, "split")
    n = input.shape[d]
    if isinstance(split_size_or_sections, (builtins.int, np.integer)):
        step = builtins.int(split_size_or_sections)
        if step <= 0 and n > 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        sizes = [builtins.min(step, n - i) for i in range(0, n, step)] if n else [0]
    else:
        sizes = [builtins.int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise shape_error("split", input.shape, hint=f"sections {sizes} sum to {sum(sizes)}, but dim {d} has size {n}")
    lead = (slice(None),) * d
    out, start = [], 0
    for s in sizes:
        out.append(input[lead + (slice(start, start + s),)])
        start += s
    return tuple(out)


@tensor_method()
def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into ``chunks`` pieces of size ceil(n/chunks) (fewer if they run out), like torch."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    n = input.shape[_norm_dim(dim, input.ndim, "chunk")]
    if n == 0:  # like torch: `chunks` empty pieces
        return split(input, [0] * chunks, dim)
    return split(input, -(-n // chunks), dim)


@tensor_method()
def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along ``dim``, each without that dimension."""
    d = _norm_dim(dim, input.ndim, "unbind")
    lead = (slice(None),) * d
    return tuple(input[lead + (i,)] for i in range(input.shape[d]))


class Flip(Function):
    """Reverse the order of elements along ``dims``; its own adjoint."""

    def __init__(self, dims: tuple[int, ...]) -> None:
        self.dims = dims

    def forward(self, x: Tensor) -> np.ndarray:
        return array_module(x._data).flip(x._data, self.dims).copy()

    def vjp(self, grad: Tensor) -> Tensor:
        return Flip.apply(grad, dims=self.dims)

    def jvp(self, dx: Tensor) -> Tensor:
        return Flip.apply(dx, dims=self.dims)


@tensor_method()
def flip(input: Tensor, dims) -> Tensor:
    """Reverse the order of elements along ``dims`` (a copy, as in torch)."""
    return Flip.apply(input, dims=_norm_dims(dims, input.ndim, "flip"))


class Roll(Function):
    """Shift elements cyclically by ``shifts`` along ``dims``; the vjp shifts back."""

    def __init__(self, shifts: tuple[int, ...], dims: tuple[int, ...]) -> None:
        self.shifts, self.dims = shifts, dims

    def forward(self, x: Tensor) -> np.ndarray:
        return array_module(x._data).roll(x._data, self.shifts, self.dims)

    def vjp(self, grad: Tensor) -> Tensor:
        return Roll.apply(grad, shifts=tuple(-s for s in self.shifts), dims=self.dims)

    def jvp(self, dx: Tensor) -> Tensor:
        return Roll.apply(dx, shifts=self.shifts, dims=self.dims)


@tensor_method()
def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements cyclically; ``dims=None`` rolls the flattened tensor."""
    if dims is None:
        return reshape(roll(flatten(input), shifts, 0), input.shape)
    shifts = (shifts,) if isinstance(shifts, (builtins.int, np.integer)) else tuple(shifts)
    dims = (dims,) if isinstance(dims, (builtins.int, np.integer)) else tuple(dims)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    return Roll.apply(input, shifts=shifts, dims=tuple(_norm_dim(d, input.ndim, "roll") for d in dims))


class Pad(Function):
    """Constant padding by ``widths`` ((before, after) per dimension); the vjp crops the gradient."""

    def __init__(self, widths: tuple[tuple[int, int], ...], value: float) -> None:
        self.widths, self.value = widths, value

    def forward(self, x: Tensor) -> np.ndarray:
        return array_module(x._data).pad(x._data, self.widths, mode="constant", constant_values=self.value)

    def vjp(self, grad: Tensor) -> Tensor:
        return grad[tuple(slice(a, grad.shape[i] - b) for i, (a, b) in enumerate(self.widths))]

    def jvp(self, dx: Tensor) -> Tensor:
        return Pad.apply(dx, widths=self.widths, value=0)


def pad(input: Tensor, pad, mode: str = "constant", value: float = 0.0) -> Tensor:
    """Constant padding, ``pad = (left_last, right_last, left_2nd_last, right_2nd_last, ...)`` as in torch."""
    if mode != "constant":
        raise NotImplementedError(f"pad: mode {mode!r} is not available yet; only 'constant'")
    pad = tuple(builtins.int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: padding length {len(pad)} must be even and at most 2*ndim = {2 * input.ndim}")
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if any(p < 0 for p in pad):  # negative padding crops, as in torch
        crop = []
        for d, (a, b) in enumerate(widths):
            n = input.shape[d]
            start, stop = builtins.max(0, -a), n - builtins.max(0, -b)
            if stop < start:
                raise ShapeError(f"pad: padding {pad} crops dimension {d} of shape {fmt(input.shape)} below size 0")
            crop.append(slice(start, stop))
        input = input[tuple(crop)]
        widths = [(builtins.max(0, a), builtins.max(0, b)) for a, b in widths]
    if all(w == (0, 0) for w in widths):
        return input
    return Pad.apply(input, widths=tuple(widths), value=value)


@tensor_method()
def repeat(input: Tensor, *sizes) -> Tensor:
    """Tile the tensor: ``repeat(x, 2, 3)`` repeats rows twice and columns three times (like NumPy's tile)."""
    sizes = _shape_arg(sizes)
    if len(sizes) < input.ndim:
        raise ValueError(f"repeat: number of repeat dims {len(sizes)} can not be smaller than the tensor's ndim {input.ndim}")
    x = reshape(input, (1,) * (len(sizes) - input.ndim) + input.shape)
    # interleave a repeat axis in front of each axis, broadcast it, and merge
    inter = reshape(x, tuple(v for s in x.shape for v in (1, s)))
    expanded = broadcast_to(inter, tuple(v for r, s in zip(sizes, x.shape) for v in (r, s)))
    return reshape(expanded, tuple(r * s for r, s in zip(sizes, x.shape)))


class Triangle(Function):
    """tril / triu: keep one triangle of the last two dims, zero the rest."""

    def __init__(self, lower: bool, diagonal: int) -> None:
        self.lower, self.diagonal = lower, diagonal

    def forward(self, x: Tensor) -> np.ndarray:
        xp = array_module(x._data)
        keep = xp.tril if self.lower else xp.triu
        return keep(x._data, self.diagonal)

    def vjp(self, grad: Tensor) -> Tensor:
        return Triangle.apply(grad, lower=self.lower, diagonal=self.diagonal)

    def jvp(self, dx: Tensor) -> Tensor:
        return Triangle.apply(dx, lower=self.lower, diagonal=self.diagonal)


@tensor_method()
def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """Zero the elements above the ``diagonal``-th diagonal of the last two dims."""
    if input.ndim < 2:
        raise ValueError(f"tril: input tensor must have at least 2 dimensions, got shape {fmt(input.shape)}")
    return Triangle.apply(input, lower=True, diagonal=builtins.int(diagonal))


@tensor_method()
def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """Zero the elements below the ``diagonal``-th diagonal of the last two dims."""
    if input.ndim < 2:
        raise ValueError(f"triu: input tensor must have at least 2 dimensions, got shape {fmt(input.shape)}")
    return Triangle.apply(input, lower=False, diagonal=builtins.int(diagonal))


class Diagonal(Function):
    """The ``offset`` diagonal of dims ``dim1``/``dim2`` (default the last two), appended as the last dim."""

    def __init__(self, offset: int, dim1: int = -2, dim2: int = -1) -> None:
        self.offset, self.dim1, self.dim2 = offset, dim1, dim2

    def forward(self, x: Tensor) -> np.ndarray:
        self.in_shape = x._data.shape
        return array_module(x._data).diagonal(x._data, self.offset, self.dim1, self.dim2).copy()

    def vjp(self, grad: Tensor) -> Tensor:
        return DiagEmbed.apply(grad, offset=self.offset, shape=self.in_shape, dim1=self.dim1, dim2=self.dim2)

    def jvp(self, dx: Tensor) -> Tensor:
        return Diagonal.apply(dx, offset=self.offset, dim1=self.dim1, dim2=self.dim2)


class DiagEmbed(Function):
    """Place the last dim of ``v`` on the ``offset`` diagonal of dims ``dim1``/``dim2`` of a zero
    array of ``shape`` (adjoint of Diagonal)."""

    def __init__(self, offset: int, shape: tuple[int, ...], dim1: int = -2, dim2: int = -1) -> None:
        self.offset, self.shape, self.dim1, self.dim2 = offset, shape, dim1, dim2

    def forward(self, v: Tensor) -> np.ndarray:
        xp = array_module(v._data)
        out = xp.zeros(self.shape, v._data.dtype)
        m = xp.moveaxis(out, (self.dim1, self.dim2), (-2, -1))  # a writable view of out
        xp.einsum("...ii->...i", _offset_view(m, self.offset))[...] = v._data
        return out

    def vjp(self, grad: Tensor) -> Tensor:
        return Diagonal.apply(grad, offset=self.offset, dim1=self.dim1, dim2=self.dim2)

    def jvp(self, dv: Tensor) -> Tensor:
        return DiagEmbed.apply(dv, offset=self.offset, shape=self.shape, dim1=self.dim1, dim2=self.dim2)


def _offset_view(m: np.ndarray, offset: int) -> np.ndarray:
    """The square-ish sub-block of ``m`` whose main diagonal is ``m``'s ``offset`` diagonal."""
    rows, cols = m.shape[-2:]
    if offset >= 0:
        k = builtins.max(0, builtins.min(rows, cols - offset))
        return m[..., :k, offset:offset + k]
    k = builtins.max(0, builtins.min(rows + offset, cols))
    return m[..., -offset:-offset + k, :k]


@tensor_method()
def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The ``offset`` diagonal of the 2-d slices over ``dim1`` and ``dim2`` (dims 0 and 1 by default,
    as in torch); the diagonal becomes the last dimension."""
    if input.ndim < 2:
        raise ValueError(f"diagonal: expects a tensor with >= 2 dims, got shape {fmt(input.shape)}")
    d1, d2 = _norm_dim(dim1, input.ndim, "diagonal"), _norm_dim(dim2, input.ndim, "diagonal")
    if d1 == d2:
        raise ValueError(f"diagonal: dim1 and dim2 cannot be the same dimension (got {dim1} and {dim2})")
    return Diagonal.apply(input, offset=builtins.int(offset), dim1=d1, dim2=d2)


@tensor_method()
def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """1-d input: a square matrix with it on a diagonal; 2-d input: that diagonal as a vector."""
    if input.ndim == 1:
        n = input.shape[0] + abs(diagonal)
        return DiagEmbed.apply(input, offset=diagonal, shape=(n, n))
    if input.ndim == 2:
        return Diagonal.apply(input, offset=diagonal)
    raise ValueError(f"diag: expects a 1-d or 2-d tensor, got shape {fmt(input.shape)}")


# NumPy's and PyTorch's other names for the same functions (torch.clip is torch.clamp)
concat = cat

# the functions ``fukaku.ops`` (and so ``fukaku``) exports from this family
__all__ = ["broadcast_to", "cat", "chunk", "diag", "diagonal", "expand", "expand_as", "flatten", "flip", "pad",
           "permute", "repeat", "reshape", "roll", "split", "squeeze", "stack", "t", "transpose", "tril", "triu",
           "unbind", "unflatten", "unsqueeze", "view", "concat"]
