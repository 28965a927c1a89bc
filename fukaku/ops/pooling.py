"""Pooling as graph nodes (seed 001 §9.2, seed 004 §3.3): max and average over windows of the
trailing dims, adaptive average, and max unpooling.

A pooling window slides over the last n dims of its input; :class:`Windows` holds its geometry
(kernel, stride, padding, dilation and the output size) and gives, for each offset inside the
window, the strided view of the (padded) input that this offset reads at every output position.
Each op is a short loop over the kernel's offsets of whole-array operations — never a loop over the
batch, the channels or the pixels; max pooling's large passes are shared among the threads, a range of the
leading dim each.

Max pooling records, per window, the offset of its first largest element (``arg``). Its output is
the input gathered at those offsets (:class:`WindowGather`); the adjoint :class:`WindowScatter`
puts a gradient back there, adding up where windows overlap, and its own adjoint is the gather
again, so derivatives of every order follow. Average pooling is linear: :class:`AvgPool` and
:class:`AvgPoolTranspose` are each other's vjp. Adaptive average pooling multiplies each pooled dim
by a fixed averaging matrix (:class:`AdaptiveAvgPool`; its vjp, the transposed matrices); adaptive
max pooling lays its windows out side by side (an indexing node) and max-pools them.
:class:`MaxUnpool` writes values at flat per-plane indices; its vjp gathers there
(:class:`fukaku.ops.index.Gather`).

The functions users call, which check their arguments, are in :mod:`fukaku.nn.functional.pooling`.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..backends import array_module, caching_allocator, default_module
from ..tensor import Tensor, wrap
from . import _parallel
from ._util import in_float32_if_bfloat16
from .index import Gather, GetItem
from .reduce import _differentiating
from .shape import reshape


# ----------------------------------------------------------------------------- window geometry
@dataclass(frozen=True)
class Windows:
    """Where the pooling windows sit along the last ``len(kernel)`` dims of an array.

    Along each pooled dim, output position o reads the input at o·stride − padding + i·dilation for
    the offsets i = 0 … kernel − 1; positions outside the input are padding. ``size`` is the input's
    extent along the pooled dims and ``out`` the output's (checked and computed by the caller:
    :mod:`fukaku.nn.functional.pooling` applies PyTorch's output-size formula).
    """

    size: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    out: tuple[int, ...]

    @property
    def span(self) -> tuple[int, ...]:
        """The effective kernel size, dilation·(kernel − 1) + 1, per dim."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation))

    @property
    def extent(self) -> tuple[int, ...]:
        """The length of the padded buffer the windows read, per dim: left padding, the input, and as
        much right padding as the last window reaches (ceil_mode's last window may overhang it)."""
        return tuple(max(p + s, (o - 1) * st + sp)
                     for s, p, o, st, sp in zip(self.size, self.padding, self.out, self.stride, self.span))

    @property
    def padded(self) -> bool:
        """Whether some window reaches outside the input."""
        return self.extent != self.size

    @property
    def overlapping(self) -> bool:
        """Whether an input element can fall in more than one window."""
        return any(st < sp for st, sp in zip(self.stride, self.span))

    @property
    def tiling(self) -> bool:
        """Whether the windows cover the input exactly once (kernel == stride, no dilation gaps, no
        padding, nothing left over): the common 2×2 pooling."""
        return not self.padded and all(st == k == sp and o * k == s for s, k, st, sp, o in
                                       zip(self.size, self.kernel, self.stride, self.span, self.out))

    def offsets(self) -> list[tuple[int, ...]]:
        """The offsets inside a window in row-major order (the order PyTorch scans a window in)."""
        return list(itertools.product(*(range(k) for k in self.kernel)))

    def view(self, buffer: np.ndarray, offset: tuple[int, ...]) -> np.ndarray:
        """The elements of a padded ``buffer`` that ``offset`` reads at every output position: a strided
        view shaped (…, *out)."""
        return buffer[(Ellipsis,) + tuple(slice(i * d, i * d + (o - 1) * st + 1, st)
                                          for i, d, o, st in zip(offset, self.dilation, self.out, self.stride))]

    def crop(self, buffer: np.ndarray) -> np.ndarray:
        """The input's region of a padded buffer (a view; the buffer itself when unpadded, so that a
        leaf can adopt it as its ``.grad`` without a copy)."""
        if not self.padded:
            return buffer
        return buffer[(Ellipsis,) + tuple(slice(p, p + s) for p, s in zip(self.padding, self.size))]

    def pad(self, a: np.ndarray, fill) -> np.ndarray:
        """``a`` inside a buffer of the padded extent filled with ``fill`` (``a`` itself when no window
        reaches outside it)."""
        if not self.padded:
            return a
        buffer = array_module(a).full(a.shape[:a.ndim - len(self.size)] + self.extent, fill, dtype=a.dtype)
        self.crop(buffer)[...] = a
        return buffer

    def buffer(self, a: np.ndarray) -> np.ndarray:
        """A buffer of the padded extent for the windows' values ``a`` (shaped (…, *out)) to be
        scattered into: zeros, or uninitialised when the windows tile it (every element written once). It
        comes from the caching allocator: a gradient the size of a layer's input, in fresh pages every step
        otherwise (their first touches cost more than the scatter)."""
        xp = array_module(a)
        buffer = caching_allocator.empty(a.shape[:a.ndim - len(self.out)] + self.extent, a.dtype, xp)
        if not self.tiling:
            buffer.fill(0)
        return buffer

    def positions(self) -> list[np.ndarray]:
        """Per pooled dim, the (out, kernel) int64 table of the input position each output position
        reads at each offset (negative or ≥ size in the padding)."""
        xp = default_module()
        return [(xp.arange(o, dtype=np.int64) * st - p)[:, None] + xp.arange(k, dtype=np.int64) * d
                for o, st, p, k, d in zip(self.out, self.stride, self.padding, self.kernel, self.dilation)]

    def first_inside(self) -> np.ndarray:
        """Per output position, the first offset (row-major) whose element lies inside the input:
        where PyTorch's max pooling starts its scan, and the index it reports for a window whose
        elements are all −inf."""
        xp = default_module()
        first = xp.zeros((), np.int64)
        for o, st, p, k, d in zip(self.out, self.stride, self.padding, self.kernel, self.dilation):
            before = xp.maximum(p - xp.arange(o, dtype=np.int64) * st, 0)  # padding elements before the input
            first = first[..., None] * k + xp.minimum(-(-before // d), k - 1)
        return first


# ----------------------------------------------------------------------------- helpers on arrays
def _finite(a: np.ndarray) -> bool:
    """Whether every element of ``a`` is finite (a sum is finite only then), so multiplying by a 0/1
    mask selects exactly; otherwise 0·inf would leak NaN into unselected places."""
    return not dtypes.is_floating_point(a.dtype) or bool(array_module(a).isfinite(array_module(a).sum(a)))


def _select(a: np.ndarray, mask: np.ndarray, finite: bool, out: np.ndarray) -> np.ndarray:
    """``a`` where ``mask``, 0 elsewhere, written into ``out`` (``finite``: :func:`_finite` of ``a``)."""
    xp = array_module(a)
    if finite:
        return xp.multiply(a, mask, out=out)
    out[...] = 0
    xp.copyto(out, a, where=mask)
    return out


def window_max(a: np.ndarray, windows: Windows, with_arg: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The largest element of each window of ``a`` and, with ``with_arg``, its offset in the window
    (row-major), as PyTorch finds it: the first largest element, a NaN taking the place of the
    largest (the last NaN when there are several), and the first element inside the input when every
    element is −inf. Padding never wins.

    One pass per offset: a comparison, a maximum, and the offset recorded where the comparison holds
    (offsets grow, so ``arg = max(arg, j·better)``), each into a buffer allocated once (fresh
    temporaries of this size cost page faults, more than the arithmetic); a large input's passes are
    shared among the threads, a range of the leading dim each (:func:`_by_leading_rows`).
    """
    xp = array_module(a)
    lowest = -np.inf if dtypes.is_floating_point(a.dtype) else np.iinfo(a.dtype).min  # bfloat16's kind is 'V'
    buffer = windows.pad(a, lowest)
    views = [windows.view(buffer, offset) for offset in windows.offsets()]
    values = xp.empty_like(views[0])  # the input's memory layout (channels-last stays so): aligned passes
    kind = np.dtype("u1") if len(views) <= 256 else np.dtype(np.int64)  # the offsets' type: small if it can be
    arg = xp.empty_like(values, dtype=kind) if with_arg else None

    def rows(lo: int, hi: int) -> None:
        best = values[lo:hi]
        best[...] = views[0][lo:hi]
        if arg is None:
            for v in views[1:]:
                xp.maximum(best, v[lo:hi], out=best)
            return
        where = arg[lo:hi]
        where[...] = 0
        better = xp.empty_like(best, dtype=bool)
        step = better.view(kind) if kind.itemsize == 1 else xp.empty_like(where)  # j where better, else 0
        for j, v in enumerate(views[1:], 1):
            xp.greater(v[lo:hi], best, out=better)
            xp.maximum(best, v[lo:hi], out=best)
            xp.maximum(where, xp.multiply(better, kind.type(j), out=step), out=where)

    _by_leading_rows(values, len(windows.out), buffer.size, rows)
    if not with_arg:
        return values, None
    if dtypes.is_floating_point(a.dtype) and xp.isnan(values).any():
        arg = _nan_arg(views, kind)
    if any(windows.padding):
        none_above = values == lowest
        if none_above.any():
            arg = xp.where(none_above, windows.first_inside(), arg).astype(kind)
    return values, arg


def _by_leading_rows(out: np.ndarray, pooled: int, elements: int, rows: Callable[[int, int], None]) -> None:
    """``rows(lo, hi)`` over ranges of ``out``'s first dim, which each write ``out[lo:hi]`` from the same rows of
    the windows: one range per thread (:func:`~fukaku.ops._parallel.split`) when that dim is a leading one (batch
    or channels, never a pooled dim, whose windows may overlap) and the pass of ``elements`` values is a NumPy
    one large enough to share; else one call over all of it."""
    if out.ndim == pooled or array_module(out) is not np:
        rows(0, out.shape[0])
    else:
        _parallel.split(out.shape[0], elements, rows)


def _nan_arg(views: list[np.ndarray], kind) -> np.ndarray:
    """:func:`window_max`'s offsets by PyTorch's rule ``v > best or isnan(v)``, for inputs with NaN."""
    xp = array_module(views[0])
    best = views[0].copy()
    arg = xp.zeros(best.shape, kind)
    for j, v in enumerate(views[1:], 1):
        take = (v > best) | xp.isnan(v)
        best = xp.where(take, v, best)
        arg[take] = j
    return arg


def flat_indices(arg: np.ndarray, positions: list[np.ndarray], size: tuple[int, ...]) -> np.ndarray:
    """PyTorch's max-pooling indices: for the offset ``arg`` of each window, the flat index of the
    element it picked within its plane (h·W + w in 2-d). ``positions`` are the (out, kernel) tables of
    input positions per pooled dim (:meth:`Windows.positions`), ``size`` the plane's shape."""
    xp = array_module(arg)
    n = len(positions)
    rest = arg.astype(np.int64)
    flat, scale = None, 1
    for d in reversed(range(n)):
        table = positions[d]
        rest, i = xp.divmod(rest, table.shape[1])
        o = xp.arange(table.shape[0]).reshape((-1,) + (1,) * (n - 1 - d))
        term = table[o, i] * scale
        flat = term if flat is None else flat + term
        scale *= size[d]
    return flat


# ----------------------------------------------------------------------------- linear maps over windows
class _WindowMap(Function):
    """A linear map between a pooled tensor (…, *size) and its windows (…, *out), fixed by the
    parameters named in ``fields``: its vjp is the adjoint map (``adjoint``), its jvp the map itself
    (``linear``), each built with the same parameters — so derivatives of every order are these nodes
    again. The pairs are tied up below their classes."""

    linear: type[_WindowMap]
    adjoint: type[_WindowMap]
    fields: tuple[str, ...]

    def _same(self, node: type[_WindowMap], t: Tensor) -> Tensor:
        return node.apply(t, **{name: getattr(self, name) for name in self.fields})

    def vjp(self, grad):
        return self._same(self.adjoint, grad)

    def jvp(self, tangent):
        return self._same(self.linear, tangent)


# ----------------------------------------------------------------------------- max pooling
class WindowGather(_WindowMap):
    """The element at offset ``arg`` of every window: (…, *size) → (…, *out). Its adjoint is
    :class:`WindowScatter`."""

    fields = ("windows", "arg")

    def __init__(self, windows: Windows, arg: np.ndarray) -> None:
        self.windows, self.arg = windows, arg

    def forward(self, x):
        w = self.windows
        xp = array_module(x._data)
        buffer = w.pad(x._data, 0)  # padding is never picked: its fill does not matter
        finite = _finite(x._data)
        out, picked = (xp.empty(self.arg.shape, x._data.dtype) for _ in range(2))
        hit = xp.empty(self.arg.shape, bool)
        for j, offset in enumerate(w.offsets()):
            xp.equal(self.arg, j, out=hit)
            _select(w.view(buffer, offset), hit, finite, out=out if j == 0 else picked)
            if j:
                out += picked
        return out


class MaxPool(WindowGather):
    """Max pooling: the largest element of every window, picked at the offsets ``arg`` that
    :func:`window_max` finds together with the values, in one sweep: in the forward pass (the offsets
    only ``with_arg``, when a gradient or a tangent needs them), or before it when the caller returns
    the indices and passes ``arg`` and ``values`` in. Gradients flow to the picked elements
    (:class:`WindowScatter`); tangents are gathered from them."""

    def __init__(self, windows: Windows, with_arg: bool = False, arg: np.ndarray | None = None,
                 values: np.ndarray | None = None) -> None:
        super().__init__(windows, arg)
        self.with_arg, self.values = with_arg, values

    def forward(self, x):
        if self.values is None:
            values, self.arg = window_max(x._data, self.windows, self.with_arg)
            return values
        values, self.values = self.values, None
        return values


class WindowScatter(_WindowMap):
    """Each window's value put back at offset ``arg`` of its window, into zeros of the input's shape:
    (…, *out) → (…, *size), adding up where windows overlap: the adjoint of :class:`WindowGather`."""

    fields = ("windows", "arg")

    def __init__(self, windows: Windows, arg: np.ndarray) -> None:
        self.windows, self.arg = windows, arg

    def forward(self, g):
        w, a = self.windows, g._data
        xp = array_module(a)
        buffer = w.buffer(a)
        finite = _finite(a)
        views = [w.view(buffer, offset) for offset in w.offsets()]

        def rows(lo: int, hi: int) -> None:
            arg, grad = self.arg[lo:hi], a[lo:hi]
            hit = xp.empty(arg.shape, bool)
            picked = xp.empty(arg.shape, a.dtype) if w.overlapping else None
            for j, view in enumerate(views):
                xp.equal(arg, j, out=hit)
                if w.overlapping:  # windows share elements: add up
                    view[lo:hi] += _select(grad, hit, finite, out=picked)
                else:
                    _select(grad, hit, finite, out=view[lo:hi])

        _by_leading_rows(a, len(w.out), buffer.size, rows)
        return w.crop(buffer)


WindowGather.linear, WindowGather.adjoint = WindowGather, WindowScatter  # MaxPool's rules are WindowGather's
WindowScatter.linear, WindowScatter.adjoint = WindowScatter, WindowGather


def max_pool(input: Tensor, windows: Windows, return_indices: bool = False):
    """Max pooling of ``input`` over ``windows`` (its last ``len(windows.size)`` dims); with
    ``return_indices``, also PyTorch's flat per-plane int64 indices of the picked elements."""
    return _max_node(input, windows, return_indices, windows.positions(), windows.size)


def _max_node(input: Tensor, windows: Windows, return_indices: bool, positions: list[np.ndarray],
              size: tuple[int, ...]):
    """The :class:`MaxPool` node over ``input``'s ``windows``, and with ``return_indices`` the flat
    indices within planes of ``size`` of the elements it picked (read in ``positions``). The offsets
    of the maxima are only computed when a gradient, a tangent or the indices need them."""
    if not return_indices:  # the whole pooling inside the op, from this call's input
        return MaxPool.apply(input, windows=windows, with_arg=_differentiating(input))
    values, arg = window_max(input._data, windows, True)
    out = MaxPool.apply(input, windows=windows, with_arg=True, arg=arg, values=values)
    return out, wrap(flat_indices(arg, positions, size))


def adaptive_windows(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's adaptive pooling windows along one dim: window o covers [⌊o·size/out⌋, ⌈(o+1)·size/out⌉)."""
    o = default_module().arange(out, dtype=np.int64)
    return o * size // out, ((o + 1) * size + out - 1) // out


def _divides(size: tuple[int, ...], out: tuple[int, ...]) -> bool:
    return all(s % o == 0 for s, o in zip(size, out))


def _even_windows(size: tuple[int, ...], out: tuple[int, ...]) -> Windows:
    """The adaptive windows when ``out`` divides ``size``: kernel = stride = size / out."""
    k = tuple(s // o for s, o in zip(size, out))
    return Windows(size, k, k, (0,) * len(k), (1,) * len(k), out)


def adaptive_max_pool(input: Tensor, out: tuple[int, ...], return_indices: bool = False):
    """Adaptive max pooling of the last ``len(out)`` dims to ``out`` (with PyTorch's flat indices
    when ``return_indices``). When ``out`` divides the input it is plain max pooling; otherwise the
    windows, whose lengths vary, are laid out side by side at the longest length (a shorter window
    repeats its last element, which never changes the first maximum) and max-pooled."""
    size = tuple(input.shape[input.ndim - len(out):])
    if _divides(size, out):
        return max_pool(input, _even_windows(size, out), return_indices)
    xp = default_module()
    tables = []
    for s, o in zip(size, out):
        start, end = adaptive_windows(s, o)
        k = int((end - start).max())
        tables.append(xp.minimum(start[:, None] + xp.arange(k), end[:, None] - 1))
    expanded = GetItem.apply(input, key=(Ellipsis, *xp.ix_(*(t.reshape(-1) for t in tables))), basic=False)
    k = tuple(t.shape[1] for t in tables)
    windows = Windows(tuple(o * kk for o, kk in zip(out, k)), k, k, (0,) * len(k), (1,) * len(k), out)
    return _max_node(expanded, windows, return_indices, tables, size)


# ----------------------------------------------------------------------------- average pooling
def avg_divisor(windows: Windows, count_include_pad: bool, divisor_override: int | None) -> float | np.ndarray:
    """What each window's sum is divided by, as PyTorch: ``divisor_override``; else the window's
    size clipped to the padded input (``count_include_pad``) or to the input alone (never empty: a
    window starts inside the input or reaches into it, padding being at most half the kernel).
    A number when every window has the same."""
    if divisor_override:
        return float(divisor_override)
    xp = default_module()
    divisor = xp.ones((), np.float64)
    for s, k, st, p, o in zip(windows.size, windows.kernel, windows.stride, windows.padding, windows.out):
        start = xp.arange(o, dtype=np.int64) * st - p
        end = xp.minimum(start + k, s + p)
        count = end - start if count_include_pad else xp.minimum(end, s) - xp.maximum(start, 0)
        divisor = divisor[..., None] * count
    return float(divisor.flat[0]) if (divisor == divisor.flat[0]).all() else divisor


class AvgPool(_WindowMap):
    """The sum over every window divided by ``divisor`` (a number or an array shaped like the output's
    pooled dims). Integer inputs are summed exactly and divided rounding toward zero, as PyTorch.
    Its adjoint is :class:`AvgPoolTranspose`."""

    fields = ("windows", "divisor")

    def __init__(self, windows: Windows, divisor: float | np.ndarray) -> None:
        self.windows, self.divisor = windows, divisor

    def forward(self, x):
        a, w = x._data, self.windows
        xp = array_module(a)
        buffer = w.pad(a, 0)
        views = [w.view(buffer, offset) for offset in w.offsets()]
        if a.dtype.kind in "iu":
            total = views[0].astype(np.int64)
            for v in views[1:]:
                total += v
            return xp.trunc(total / self.divisor).astype(a.dtype)
        # a bfloat16 window is summed in float32 and rounded once, as torch
        total = views[0].astype(np.float32) if dtypes.is_bfloat16(a.dtype) else views[0].copy()
        for v in views[1:]:
            total += v
        total /= xp.asarray(self.divisor, total.dtype)
        return total.astype(a.dtype, copy=False)


class AvgPoolTranspose(_WindowMap):
    """The adjoint of :class:`AvgPool`: each window's value divided by ``divisor`` and spread over the
    window's elements, adding up where windows overlap, (…, *out) → (…, *size)."""

    fields = ("windows", "divisor")

    def __init__(self, windows: Windows, divisor: float | np.ndarray) -> None:
        self.windows, self.divisor = windows, divisor

    def forward(self, g):
        a, w = g._data, self.windows
        share = a / array_module(a).asarray(self.divisor, a.dtype)
        buffer = w.buffer(a)
        for offset in w.offsets():
            target = w.view(buffer, offset)
            if w.overlapping:
                target += share
            else:
                target[...] = share
        return w.crop(buffer)


AvgPool.linear, AvgPool.adjoint = AvgPool, AvgPoolTranspose
AvgPoolTranspose.linear, AvgPoolTranspose.adjoint = AvgPoolTranspose, AvgPool


def avg_pool(input: Tensor, windows: Windows, count_include_pad: bool = True,
             divisor_override: int | None = None) -> Tensor:
    """Average pooling of ``input`` over ``windows`` (its last ``len(windows.size)`` dims)."""
    return AvgPool.apply(input, windows=windows, divisor=avg_divisor(windows, count_include_pad, divisor_override))


class AdaptiveAvgPool(Function):
    """Each of the last ``len(matrices)`` dims multiplied by its (out, in) matrix: row o averages
    window o, whose length varies. Linear: the vjp applies the transposed matrices."""

    def __init__(self, matrices: tuple[np.ndarray, ...]) -> None:
        self.matrices = matrices

    def forward(self, x):
        xp = array_module(x._data)
        n = len(self.matrices)

        def pool(a):
            for d, m in enumerate(self.matrices):
                axis = a.ndim - n + d
                a = xp.moveaxis(xp.moveaxis(a, axis, -1) @ xp.asarray(m.T, a.dtype), -1, axis)
            return a

        return in_float32_if_bfloat16(pool, x._data)

    def vjp(self, grad):
        return AdaptiveAvgPool.apply(grad, matrices=tuple(m.T for m in self.matrices))

    def jvp(self, dx):
        return AdaptiveAvgPool.apply(dx, matrices=self.matrices)


def adaptive_avg_pool(input: Tensor, out: tuple[int, ...]) -> Tensor:
    """Adaptive average pooling of the last ``len(out)`` dims to ``out``: plain average pooling when
    ``out`` divides the input, averaging matrices otherwise."""
    size = tuple(input.shape[input.ndim - len(out):])
    if _divides(size, out):
        return AvgPool.apply(input, windows=_even_windows(size, out), divisor=float(math.prod(size) // math.prod(out)))
    xp = default_module()
    matrices = []
    for s, o in zip(size, out):
        start, end = adaptive_windows(s, o)
        cols = xp.arange(s)
        inside = (cols >= start[:, None]) & (cols < end[:, None])
        matrices.append(inside / (end - start)[:, None])
    return AdaptiveAvgPool.apply(input, matrices=tuple(matrices))


# ----------------------------------------------------------------------------- max unpooling
class MaxUnpool(Function):
    """Zeros of the pooled dims ``size`` with the input's values written at ``index``, the flat
    per-plane positions max pooling reported (a position named twice keeps the last value). The vjp
    gathers the gradient at ``index``; linear, so the jvp is itself."""

    def __init__(self, index: np.ndarray, size: tuple[int, ...]) -> None:
        self.index, self.size = index, size

    def _flat(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return shape[:len(shape) - len(self.size)] + (-1,)

    def forward(self, x):
        a = x._data
        xp = array_module(a)
        lead = a.shape[:a.ndim - len(self.size)]
        out = xp.zeros(lead + (math.prod(self.size),), a.dtype)
        xp.put_along_axis(out, self.index.reshape(self._flat(a.shape)), a.reshape(self._flat(a.shape)), axis=-1)
        self.in_shape = a.shape
        return out.reshape(lead + self.size)

    def vjp(self, grad):
        flat = reshape(grad, self._flat(grad.shape))
        index = self.index.reshape(self._flat(self.in_shape))
        return reshape(Gather.apply(flat, dim=flat.ndim - 1, index=index), self.in_shape)

    def jvp(self, dx):
        return MaxUnpool.apply(dx, index=self.index, size=self.size)
