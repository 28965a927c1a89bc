"""Shape ops: reshape/view, permute/transpose/movedim, expand/broadcast, sum_to, cat/stack and
hstack/vstack/dstack, split/chunk, narrow/select, flip/rot90, roll, pad, repeat/tile, tril/triu,
diag/diagonal/diag_embed, meshgrid, atleast_nd. They move values without arithmetic, so each vjp is
the inverse movement of the gradient and each jvp is the same movement of the tangent.

The ops that PyTorch makes views — reshape where the layout allows, permute and everything built on
it (transpose, movedim, ``.T``, ``.mT``, ``.H``), expand, narrow, select, diagonal — return views
here too: they share memory and the version counter with their input (``is_view``), so an in-place
op on one writes through to its base.
"""
from __future__ import annotations

import builtins
import itertools
import math
import warnings

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..backends import array_module, default_module
from ..errors import ShapeError
from ..tensor import Tensor, wrap
from ._util import _norm_dim, _norm_dims, dim_aliases, fmt, in_float32_if_bfloat16, shape_error, tensor_method
from .padding import border_pad


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
    """Split dimension ``dim`` into ``sizes`` (the inverse of :func:`flatten`); one size may be -1.
    ``(N, C*H*W) -> (N, C, H, W)`` for ``unflatten(x, 1, (C, H, W))``."""
    d = _norm_dim(dim, input.ndim, "unflatten")
    sizes = tuple(builtins.int(s) for s in sizes)
    shape = input._data.shape
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes:  # the size of one dim is inferred
        bad = sizes.count(-1) > 1 or known == 0 or shape[d] % known
    else:
        bad = known != shape[d]
    if bad:
        raise shape_error("unflatten", shape, hint=f"sizes {list(sizes)} don't multiply up to the size of dim {d} "
                          f"({shape[d]}); at most one size may be -1")
    return reshape(input, shape[:d] + sizes + shape[d + 1:])


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


@tensor_method("transpose", "swapaxes", "swapdims")
def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap dimensions ``dim0`` and ``dim1`` (a view; also ``swapaxes`` and ``swapdims``)."""
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


def _H(input: Tensor) -> Tensor:
    """``x.H``: the conjugate transpose of a matrix, its transpose for real tensors (a 0-d tensor itself)."""
    if input.ndim not in (0, 2):
        raise ValueError(f"tensor.H is only supported on matrices (2-D tensors), got a {input.ndim}-D tensor; "
                         "for batches of matrices use tensor.mH")
    return transpose(input, 0, 1) if input.ndim == 2 else input


Tensor.H = property(_H)
Tensor.mH = property(_mT, doc="``x.mH``: the last two dimensions swapped (the conjugate transpose of a batch of "
                              "matrices; real tensors need no conjugation).")


@tensor_method("movedim", "moveaxis")
def movedim(input: Tensor, source, destination) -> Tensor:
    """Move the dims ``source`` (an int or a sequence) to the positions ``destination``; the other dims
    keep their order. A view: ``movedim(x, 1, -1)`` turns NCHW into NHWC."""
    src = (source,) if isinstance(source, (builtins.int, np.integer)) else tuple(source)
    dst = (destination,) if isinstance(destination, (builtins.int, np.integer)) else tuple(destination)
    if len(src) != len(dst):
        raise ValueError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should contain "
                         f"the same number of dims as destination ({list(dst)} dims)")
    n = input.ndim
    src = [_norm_dim(d, n, "movedim") for d in src]
    dst = [_norm_dim(d, n, "movedim") for d in dst]
    for name, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise ValueError(f"movedim: repeated dim in `{name}` ({dims})")
    if n == 0:
        return input
    order = [d for d in range(n) if d not in src]
    for to, frm in sorted(zip(dst, src)):
        order.insert(to, frm)
    return permute(input, order)


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
        out = in_float32_if_bfloat16(lambda a: a.sum(axis=axes, keepdims=True), x._data) if axes else x._data
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


@dim_aliases
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


@dim_aliases
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


def _copy(input: Tensor) -> Tensor:
    """A new tensor with ``input``'s values, in the graph: the flip over no dimension."""
    return Flip.apply(input, dims=())


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
    """Padding, ``pad = (left_last, right_last, left_2nd_last, right_2nd_last, ...)`` as in torch: constant
    here; the modes reflect, replicate and circular in :mod:`fukaku.ops.padding`."""
    pad = tuple(builtins.int(p) for p in pad)
    if mode != "constant":
        if value not in (None, 0):
            raise ValueError(f"pad: padding mode {mode!r} doesn't take a value argument (got value={value})")
        return border_pad(input, pad, mode)
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
    x = reshape(input, (1,) * (len(sizes) - input.ndim) + input._data.shape)
    if all(r == 1 for r in sizes):
        return _copy(x)  # nothing to repeat, but a new tensor all the same, as in torch
    # interleave a repeat axis in front of each axis, broadcast it, and merge
    inter = reshape(x, tuple(v for s in x.shape for v in (1, s)))
    expanded = broadcast_to(inter, tuple(v for r, s in zip(sizes, x.shape) for v in (r, s)))
    out = reshape(expanded, tuple(r * s for r, s in zip(sizes, x.shape)))
    # the merge copies unless a repeat axis met a size-1 axis: then it is still a broadcast view of the input,
    # and torch's repeat always returns a new, writable tensor
    return _copy(out) if array_module(out._data).may_share_memory(out._data, input._data) else out


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
    """The ``offset`` diagonal of dims ``dim1``/``dim2`` (default the last two), appended as the last dim:
    a writable view of the input, as PyTorch's diagonal (``copy=True``: a new array, as torch.diag)."""

    is_view = True

    def __init__(self, offset: int, dim1: int = -2, dim2: int = -1, copy: bool = False) -> None:
        self.offset, self.dim1, self.dim2, self.copy = offset, dim1, dim2, copy

    def forward(self, x: Tensor) -> np.ndarray:
        self.in_shape = x._data.shape
        xp = array_module(x._data)
        block = _offset_view(xp.moveaxis(x._data, (self.dim1, self.dim2), (-2, -1)), self.offset)
        out = xp.einsum("...ii->...i", block)  # unlike xp.diagonal's, this view is writable
        return out.copy() if self.copy else out

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
        return Diagonal.apply(input, offset=diagonal, copy=True)
    raise ValueError(f"diag: expects a 1-d or 2-d tensor, got shape {fmt(input.shape)}")


@tensor_method()
def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices with the last dim of ``input`` on their ``offset`` diagonal, zero elsewhere, over the new
    dims ``dim1`` and ``dim2`` of the result (the last two by default): (…, n) -> (…, n+|offset|, n+|offset|)."""
    if input.ndim == 0:
        raise IndexError("diag_embed: expects a tensor with at least 1 dimension, got a 0-d tensor")
    n = input.ndim + 1
    d1, d2 = _norm_dim(dim1, n, "diag_embed"), _norm_dim(dim2, n, "diag_embed")
    if d1 == d2:
        raise ValueError(f"diag_embed: diagonal dimensions cannot be identical {dim1}, {dim2}")
    size = input._data.shape[-1] + abs(builtins.int(offset))
    shape = list(input._data.shape[:-1])
    for d in sorted((d1, d2)):
        shape.insert(d, size)
    return DiagEmbed.apply(input, offset=builtins.int(offset), shape=tuple(shape), dim1=d1, dim2=d2)


# ----------------------------------------------------------------------------- more shape functions
@tensor_method()
def ravel(input: Tensor) -> Tensor:
    """All elements in one dimension (a view when the layout allows)."""
    return reshape(input, (-1,))


@tensor_method()
def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:
    """The view of ``length`` elements of ``input`` along ``dim`` from ``start`` (negative counts from
    the end; a 0-d int tensor is accepted)."""
    if input.ndim == 0:
        raise ValueError("narrow() cannot be applied to a 0-dim tensor.")
    d = _norm_dim(dim, input.ndim, "narrow")
    n, start, length = input._data.shape[d], builtins.int(start), builtins.int(length)
    if not -n <= start <= n:
        raise IndexError(f"narrow(): start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    if length < 0:
        raise ValueError(f"narrow(): length must be non-negative, got {length}")
    if start < 0:
        start += n
    if start + length > n:
        raise ValueError(f"narrow(): start ({start}) + length ({length}) exceeds dimension size ({n}) of dim {d} "
                         f"in a tensor of shape {fmt(input._data.shape)}")
    return input[(slice(None),) * d + (slice(start, start + length),)]


@tensor_method()
def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The view ``input[..., index, ...]`` at ``index`` of ``dim``, without that dim."""
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _norm_dim(dim, input.ndim, "select")
    n, i = input._data.shape[d], builtins.int(index)
    if not -n <= i < n:
        raise IndexError(f"select(): index {i} out of range for tensor of size {list(input._data.shape)} "
                         f"at dimension {d}")
    return input[(slice(None),) * d + (i,)]


@tensor_method()
def tile(input: Tensor, *dims) -> Tensor:
    """:func:`repeat` with ``dims`` padded with leading 1s to the tensor's ndim: ``tile(x, (2,))``
    doubles the last dimension of a matrix."""
    dims = _shape_arg(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


@tensor_method()
def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by 90° ``k`` times in the plane of ``dims``, from the first dim towards the second."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise ValueError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise ValueError(f"rot90: expected total dims >= 2, but got total dims = {input.ndim}")
    if dims[0] == dims[1] or abs(dims[0] - dims[1]) == input.ndim:
        raise ValueError(f"rot90: expected rotation dims to be different, but got dim0 = {dims[0]} and "
                         f"dim1 = {dims[1]}")
    a, b = (_norm_dim(d, input.ndim, "rot90") for d in dims)
    k = builtins.int(k) % 4
    if k == 1:
        return transpose(flip(input, b), a, b)
    if k == 2:
        return flip(input, (a, b))
    if k == 3:
        return transpose(flip(input, a), a, b)
    return _copy(input)  # as in torch


@tensor_method()
def fliplr(input: Tensor) -> Tensor:
    """Reverse the columns (dim 1) of a tensor with at least 2 dims."""
    if input.ndim < 2:
        raise ValueError(f"fliplr: Input must be >= 2-d, got shape {fmt(input._data.shape)}")
    return flip(input, 1)


@tensor_method()
def flipud(input: Tensor) -> Tensor:
    """Reverse the rows (dim 0) of a tensor with at least 1 dim."""
    if input.ndim < 1:
        raise ValueError("flipud: Input must be >= 1-d, got a 0-d tensor")
    return flip(input, 0)


def _at_least(tensors: tuple, ndim: int):
    """Each tensor with size-1 dims added up to ``ndim`` dims, as torch.atleast_{ndim}d: one tensor in, one out;
    several (or a list), a tuple."""
    many = len(tensors) != 1 or isinstance(tensors[0], (list, tuple))
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    out = tuple(reshape(t, _at_least_shape(t._data.shape, ndim)) for t in tensors)
    return out if many else out[0]


def _at_least_shape(shape: tuple[int, ...], ndim: int) -> tuple[int, ...]:
    if len(shape) >= ndim:
        return shape
    if len(shape) == 0:
        return (1,) * ndim
    if len(shape) == 1:  # (n,) -> (1, n) or (1, n, 1)
        return ((1,) + shape + (1,))[:ndim]
    return shape + (1,)  # (m, n) -> (m, n, 1)


def atleast_1d(*tensors) -> Tensor | tuple[Tensor, ...]:
    """The tensor itself if it has a dimension, else its one element as shape (1,); several tensors, or a
    list, give a tuple."""
    return _at_least(tensors, 1)


def atleast_2d(*tensors) -> Tensor | tuple[Tensor, ...]:
    """Tensors with at least 2 dims: a 0-d one as (1, 1), a 1-d (n,) as (1, n)."""
    return _at_least(tensors, 2)


def atleast_3d(*tensors) -> Tensor | tuple[Tensor, ...]:
    """Tensors with at least 3 dims: 0-d as (1, 1, 1), (n,) as (1, n, 1), (m, n) as (m, n, 1)."""
    return _at_least(tensors, 3)


def _stacking(tensors, op: str) -> list[Tensor]:
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op} expects a non-empty TensorList")
    return tensors


def hstack(tensors) -> Tensor:
    """Join along dim 1 (along dim 0 for 1-d tensors); 0-d tensors count as 1-d."""
    parts = atleast_1d(_stacking(tensors, "hstack"))
    return cat(parts, 0 if parts[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Join along dim 0, 1-d tensors of n elements taken as rows (1, n)."""
    return cat(atleast_2d(_stacking(tensors, "vstack")), 0)


def dstack(tensors) -> Tensor:
    """Join along dim 2 (depth) after :func:`atleast_3d`."""
    return cat(atleast_3d(_stacking(tensors, "dstack")), 2)


def column_stack(tensors) -> Tensor:
    """Join as columns: 0-d and 1-d tensors become columns (n, 1), the others are joined along dim 1."""
    parts = [reshape(t, (t._data.size, 1)) if t.ndim <= 1 else t for t in _stacking(tensors, "column_stack")]
    return hstack(parts)


def meshgrid(*tensors, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids of 0-d or 1-d tensors: output i holds tensor i's values along dim i, expanded
    over the others (views, as in torch). ``indexing='xy'`` swaps the first two dims (Cartesian
    order); 'ij' (matrix order) is the default, with PyTorch's warning when it is not given."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if not tensors:
        raise ValueError("meshgrid expects a non-empty TensorList")
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f'meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    for t in tensors:
        if t.ndim > 1:
            raise ValueError(f"meshgrid: expected 0D or 1D tensors, got one of shape {fmt(t._data.shape)}")
        if t._data.dtype != tensors[0]._data.dtype:
            raise TypeError(f"meshgrid expects all tensors to have the same dtype, got {tensors[0]._data.dtype} "
                            f"and {t._data.dtype}")
    position = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        position[0], position[1] = 1, 0
    sizes = [t._data.size for t in tensors]
    shape = [0] * len(tensors)
    for p, n in zip(position, sizes):
        shape[p] = n
    lone = [1] * len(tensors)
    return tuple(broadcast_to(reshape(t, lone[:p] + [n] + lone[p + 1:]), shape)
                 for t, p, n in zip(tensors, position, sizes))


def _triangle_indices(row: int, col: int, offset: int, lower: bool, dtype) -> Tensor:
    if row < 0 or col < 0:
        raise ValueError(f"{'tril' if lower else 'triu'}_indices: row and col must be non-negative, got {row} "
                         f"and {col}")
    xp = default_module()
    pick = xp.tril_indices if lower else xp.triu_indices
    return wrap(xp.stack(pick(row, offset, col)).astype(np.int64 if dtype is None else np.dtype(dtype)).reshape(2, -1))


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None) -> Tensor:
    """The (2, N) int64 coordinates of the lower triangle of a row×col matrix (on and below the
    ``offset`` diagonal), row by row."""
    return _triangle_indices(row, col, offset, True, dtype)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None) -> Tensor:
    """The (2, N) int64 coordinates of the upper triangle (on and above the ``offset`` diagonal), row by row."""
    return _triangle_indices(row, col, offset, False, dtype)


def broadcast_shapes(*shapes) -> tuple[int, ...]:
    """The shape that tensors of ``shapes`` (each a sequence of ints, or an int) broadcast to."""
    shapes = [(builtins.int(s),) if isinstance(s, (builtins.int, np.integer)) else tuple(s) for s in shapes]
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise shape_error("broadcast_shapes", *shapes, hint="shapes broadcast when, from the right, each pair of "
                          "sizes is equal or one of them is 1") from None


def broadcast_tensors(*tensors) -> tuple[Tensor, ...]:
    """The tensors expanded to their common broadcast shape (views, no copies)."""
    shapes = [t._data.shape for t in tensors]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise shape_error("broadcast_tensors", *shapes, hint="shapes broadcast when, from the right, each pair of "
                          "sizes is equal or one of them is 1") from None
    return tuple(broadcast_to(t, shape, _op="broadcast_tensors") for t in tensors)


# NumPy's and PyTorch's other names for the same functions (torch.clip is torch.clamp)
concat = cat
swapaxes = swapdims = transpose
moveaxis = movedim

# the functions ``fukaku.ops`` (and so ``fukaku``) exports from this family
__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "broadcast_shapes", "broadcast_tensors", "broadcast_to", "cat",
           "chunk", "column_stack", "diag", "diag_embed", "diagonal", "dstack", "expand", "expand_as", "flatten",
           "flip", "fliplr", "flipud", "hstack", "meshgrid", "movedim", "narrow", "pad", "permute", "ravel", "repeat",
           "reshape", "roll", "rot90", "select", "split", "squeeze", "stack", "t", "tile", "transpose", "tril",
           "tril_indices", "triu", "triu_indices", "unbind", "unflatten", "unsqueeze", "view", "vstack", "concat",
           "swapaxes", "swapdims", "moveaxis"]
