"""Convolution (seed 000 §6.2, seed 001 §9.2) as graph nodes over one N-d engine: im2col and one GEMM.

A convolution with stride s, padding (lo, hi), dilation d and G groups pairs an input x
``(N, C_in, *S)`` with a weight w ``(C_out, C_in/G, *K)`` into y ``(N, C_out, *O)``, along each
spatial dim O = ⌊(S + lo + hi − d(K − 1) − 1)/s⌋ + 1 (lo = hi = P: ⌊(S + 2P − d(K − 1) − 1)/s⌋ + 1).
Its geometry (:class:`ConvGeometry`) is shared by three maps, the trilinear form ⟨conv(x, w), y⟩
read three ways:

* :class:`Convolution`: (x, w) ↦ y, the layer;
* :class:`ConvTranspose`: (y, w) ↦ x-shaped, the adjoint in x: the transposed convolution, and the
  gradient of a convolution with respect to its input;
* :class:`ConvWeight`: (x, y) ↦ w-shaped, the adjoint in w: the gradient with respect to the weight.

The vjp and jvp of each are written with the other two (and itself), so derivatives of every order
are again these nodes. :class:`Im2Col` and :class:`Col2Im` (``F.unfold``, ``F.fold``) are the
column matrix itself and its adjoint.

The engine, for speed with NumPy alone (no Python loop over the batch, the channels or the pixels;
BLAS does the arithmetic):

* *im2col*: the padded input is viewed through ``as_strided`` as its windows ``(N, G, C/G, *K, *O)``
  and copied once into column matrices ``(N, G, C/G·ΠK, ΠO)``; then y = W · cols is one GEMM per
  sample and group (one matmul call), written straight into y's ``(N, C_out, *O)`` layout, and the
  weight gradient is Σₙ gₙ · colsₙᵀ on the same columns.
* *col2im* (the input gradient, and the transposed convolution): the gradient laid out channel-major,
  one GEMM wᵀ · g per group whose column matrices come out kernel tap first, then for each of the ΠK
  taps (the only Python loop) one vectorised strided add of a contiguous slab into the padded sum.
* *wide rows* (col2im only): with stride 1 along the last two dims the sums run over rows as wide as
  the padded input (the extra columns hold zeros), so that a tap's slab and its target are long
  contiguous runs instead of one output row each.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from ..autograd.function import Function
from ..backends import array_module
from ..tensor import Tensor
from .shape import broadcast_to, reshape

__all__: list[str] = []  # the nodes are called by fukaku.nn.functional (conv1d … fold), which checks arguments


# ----------------------------------------------------------------------------- geometry
class _Layout:
    """Where windows sit in a C-contiguous padded buffer of spatial shape ``buffer`` (element strides)."""

    __slots__ = ("buffer", "grid", "plane", "steps", "reach", "offsets")

    def __init__(self, buffer: tuple[int, ...], grid: tuple[int, ...], stride, dilation, taps) -> None:
        self.buffer, self.grid = buffer, grid
        rows = [math.prod(buffer[d + 1:]) for d in range(len(buffer))]
        self.plane = math.prod(buffer)
        self.steps = tuple(s * r for s, r in zip(stride, rows, strict=True))  # between outputs
        self.reach = tuple(d * r for d, r in zip(dilation, rows, strict=True))  # between kernel taps
        self.offsets = [sum(k * r for k, r in zip(tap, self.reach, strict=True)) for tap in taps]


class ConvGeometry:
    """The sizes of one convolution and the layouts its engine works in (immutable).

    Args:
        in_size: the spatial size S of x.
        out_size: the spatial size O of y; at most ⌊(S + lo + hi − d(K − 1) − 1)/s⌋ + 1 (a transposed
            convolution's output_padding can leave input rows that no window reaches).
        kernel, stride, dilation: per spatial dim.
        padding: (lo, hi) per spatial dim, zeros added before and after.
        groups: G; channels are split into G independent groups.
        wide: allow wide rows for col2im (see the module docstring); ``F.fold`` sums exact windows.

    ``windows`` lays out the exact output positions in the padded input (im2col); ``sums`` the
    positions col2im adds back, the wide rows where they pay.
    """

    __slots__ = ("in_size", "out_size", "kernel", "stride", "dilation", "padding", "groups", "padded", "taps",
                 "windows", "sums")

    def __init__(self, in_size: tuple[int, ...], out_size: tuple[int, ...], kernel: tuple[int, ...],
                 stride: tuple[int, ...], padding: tuple[tuple[int, int], ...], dilation: tuple[int, ...],
                 groups: int = 1, wide: bool = True) -> None:
        self.in_size, self.out_size, self.kernel = tuple(in_size), tuple(out_size), tuple(kernel)
        self.stride, self.padding, self.dilation, self.groups = tuple(stride), tuple(padding), tuple(dilation), groups
        self.padded = tuple(n + lo + hi for n, (lo, hi) in zip(in_size, padding, strict=True))
        self.taps = list(itertools.product(*(range(k) for k in self.kernel)))
        self.windows = _Layout(self.padded, self.out_size, self.stride, self.dilation, self.taps)
        # wide rows when stride 1 along the last two dims makes rows of windows contiguous, and they cost
        # at most a quarter more positions than the exact ones
        spare = self.padded[-1] - self.out_size[-1]
        if wide and len(kernel) >= 2 and stride[-1] == stride[-2] == 1 and 0 < 4 * spare <= self.padded[-1]:
            # a wide row of the last window row reads past its plane by less than a row: one spare row
            buffer = self.padded[:-2] + (self.padded[-2] + 1, self.padded[-1])
            self.sums = _Layout(buffer, self.out_size[:-1] + (self.padded[-1],), self.stride, self.dilation, self.taps)
        else:
            self.sums = self.windows

    @property
    def wide(self) -> bool:
        """Whether col2im works on wide rows (and discards their extra columns)."""
        return self.sums is not self.windows

    def flipped(self) -> ConvGeometry | None:
        """With stride 1, the transposed convolution is a convolution of y with the kernel flipped: this
        is its geometry (y's size in, x's size out, padding d(K − 1) − lo before and what reaches S after);
        None when strided or when that padding would be negative."""
        if any(s != 1 for s in self.stride):
            return None
        pads = []
        for n_in, n_out, k, d, (lo, _) in zip(self.in_size, self.out_size, self.kernel, self.dilation, self.padding):
            before = d * (k - 1) - lo
            after = n_in - n_out + d * (k - 1) - before
            if before < 0 or after < 0:
                return None
            pads.append((before, after))
        return ConvGeometry(self.out_size, self.in_size, self.kernel, self.stride, tuple(pads), self.dilation,
                            self.groups)

    def __repr__(self) -> str:
        return (f"ConvGeometry(in_size={self.in_size}, out_size={self.out_size}, kernel={self.kernel}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, groups={self.groups})")


def _strided(xp, base: np.ndarray, offset: int, shape: tuple[int, ...], strides: tuple[int, ...], writeable: bool):
    """``base`` (C-contiguous) seen from element ``offset`` with ``shape`` and element ``strides``."""
    flat = base.reshape(-1)[offset:]
    return xp.lib.stride_tricks.as_strided(flat, shape, tuple(s * base.itemsize for s in strides),
                                           writeable=writeable)


def _crop(g: ConvGeometry) -> tuple[slice, ...]:
    """The input's place in a padded buffer ``(N, C, *buffer)`` or ``(C, N, *buffer)``."""
    return (slice(None), slice(None)) + tuple(slice(lo, lo + n) for (lo, _), n in zip(g.padding, g.in_size))


# ----------------------------------------------------------------------------- cache blocking
#: About the bytes of one batch block's column matrices: an L2 cache's worth (2 MiB here), so that the columns
#: are read by the GEMM while they are still in cache instead of travelling to memory and back.
BLOCK_BYTES = 2 << 20


def _batch_blocks(n: int, per_sample: int) -> tuple[list[tuple[int, int]], int]:
    """Cache blocking: the batch as ⌈N/b⌉ ranges of b samples, b chosen from the bytes of one sample's columns so
    that a block's take about :data:`BLOCK_BYTES`. The engine loops over these few blocks and is vectorised within
    each: it is not a loop over single samples (a block is one sample only when one sample's columns alone
    exceed the budget, and then each iteration is a large GEMM). Returns (the ranges, b)."""
    b = max(1, min(n, BLOCK_BYTES // max(per_sample, 1)))
    return [(i, min(n, i + b)) for i in range(0, n, b)], b


class _Blocks:
    """The reusable buffers of one convolution pass over the batch, block by block (channel-major layouts):

    * ``pad``: the padded input of a block, ``(C, b, *buffer)`` with ``g.sums``'s buffer (its border zero);
    * ``cols``: a block's column matrices, ``(G, C/G·ΠK, b·Πgrid)`` (``grid`` the positions of ``g.sums``:
      the output's, or wide rows), flat so that a smaller last block takes a contiguous prefix;
    * ``grads``: a block of y-shaped values ``(C_out, b, *grid)`` (zeros in the discarded wide columns).

    Each is made on first use and reused by every block."""

    def __init__(self, xp, g: ConvGeometry, n: int, channels: int, dtype) -> None:
        self.xp, self.g, self.channels, self.dtype = xp, g, channels, np.dtype(dtype)
        self.grid = math.prod(g.sums.grid)
        self.ranges, self.size = _batch_blocks(n, channels * len(g.taps) * self.grid * self.dtype.itemsize)
        self._pad = self._cols = self._grads = None
        d = len(g.kernel)
        self.direct = g.kernel == (1,) * d and g.stride == (1,) * d and g.padded == g.in_size

    def columns(self, block: np.ndarray) -> np.ndarray:
        """im2col of ``block`` ``(b, C, *S)``: its columns ``(G, C/G·ΠK, b·Πgrid)``, rows ordered (channel, kernel
        tap) as the weight's, columns (sample, position): one copy into the padded buffer, one of its windows."""
        xp, g = self.xp, self.g
        b, c = block.shape[:2]
        if self._cols is None:
            self._cols = xp.empty(c * len(g.taps) * self.size * self.grid, self.dtype)
        cols = self._cols[:c * len(g.taps) * b * self.grid]
        if self.direct:  # a 1×1 stride-1 convolution without padding: the channel-major input is the matrix
            cols.reshape((c, b) + g.in_size)[...] = block.swapaxes(0, 1)
            return cols.reshape(g.groups, -1, b * self.grid)
        if self._pad is None:
            self._pad = xp.zeros((c, self.size) + g.sums.buffer, self.dtype)
        pad, lay = self._pad, g.sums
        pad[:, :b][_crop(g)] = block.swapaxes(0, 1)
        windows = _strided(xp, pad, 0, (c,) + g.kernel + (b,) + lay.grid,
                           (self.size * lay.plane,) + lay.reach + (lay.plane,) + lay.steps, writeable=False)
        xp.copyto(cols.reshape(windows.shape), windows)
        return cols.reshape(g.groups, -1, b * self.grid)

    def channel_major(self, block: np.ndarray) -> np.ndarray:
        """``block`` ``(b, C_out, *O)`` as the matrices ``(G, C_out/G, b·Πgrid)`` on the column positions."""
        g = self.g
        b, c = block.shape[:2]
        if self._grads is None:
            self._grads = self.xp.zeros((c, self.size) + g.sums.grid, self.dtype)
        target = self._grads[:, :b]
        (target[..., :g.out_size[-1]] if g.wide else target)[...] = block.swapaxes(0, 1)
        return target.reshape(g.groups, c // g.groups, b * self.grid)

    def scatter(self, out: np.ndarray, y: np.ndarray, start: int) -> None:
        """Write a block's result ``out`` ``(G, C_out/G, b·Πgrid)`` into ``y[start:start + b]`` ``(N, C_out, *O)``,
        dropping the wide columns."""
        g = self.g
        c_out = out.shape[0] * out.shape[1]
        b = out.shape[2] // self.grid
        block = out.reshape((c_out, b) + g.sums.grid)
        if g.wide:
            block = block[..., :g.out_size[-1]]
        y[start:start + b] = block.swapaxes(0, 1)


def _convolve(a: np.ndarray, w: np.ndarray, g: ConvGeometry, bias: np.ndarray | None = None) -> np.ndarray:
    """conv(x, w) (+ b) on arrays ``(N, C_in, *S)``, ``(C_out, C_in/G, *K)`` -> ``(N, C_out, *O)``: for each
    block of the batch, im2col and one GEMM per group W · cols, the bias added while the block is in cache."""
    xp = array_module(a, w)
    n, c_out = a.shape[0], w.shape[0]
    blocks = _Blocks(xp, g, n, a.shape[1], a.dtype)
    wm = w.reshape(g.groups, c_out // g.groups, -1)
    y = xp.empty((n, c_out) + g.out_size, a.dtype)
    out = xp.empty(c_out * blocks.size * blocks.grid, a.dtype)
    for start, stop in blocks.ranges:
        cols = blocks.columns(a[start:stop])
        block = out[:c_out * (stop - start) * blocks.grid].reshape(g.groups, c_out // g.groups, -1)
        xp.matmul(wm, cols, out=block)
        if bias is not None:
            block += bias.reshape(g.groups, -1, 1)
        blocks.scatter(block, y, start)
    return y


def _weight_grad(a: np.ndarray, y: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """The adjoint in w on arrays: x ``(N, C_in, *S)``, y ``(N, C_out, *O)`` -> ``(C_out, C_in/G, *K)``,
    Σ over the blocks of the batch of one GEMM per group y · colsᵀ (K = the block's positions)."""
    xp = array_module(a, y)
    n, c_out = y.shape[:2]
    blocks = _Blocks(xp, g, n, a.shape[1], a.dtype)
    out = xp.zeros((g.groups, c_out // g.groups, (a.shape[1] // g.groups) * len(g.taps)), a.dtype)
    for start, stop in blocks.ranges:
        cols = blocks.columns(a[start:stop])
        out += xp.matmul(blocks.channel_major(y[start:stop]), cols.swapaxes(-1, -2))
    return out.reshape((c_out, a.shape[1] // g.groups) + g.kernel)


def _flipped_weight(w: np.ndarray, groups: int) -> np.ndarray:
    """The weight of the convolution that is conv_transpose(·, w) at stride 1: w's channel roles swapped
    within each group and its kernel flipped along every spatial dim."""
    c_out, cg = w.shape[:2]
    spatial = w.shape[2:]
    swapped = w.reshape((groups, c_out // groups, cg) + spatial).swapaxes(1, 2).reshape((groups * cg, -1) + spatial)
    return swapped[(slice(None), slice(None)) + (slice(None, None, -1),) * len(spatial)]


def _tap_major_weight(w: np.ndarray, groups: int) -> np.ndarray:
    """w ``(C_out, C/G, *K)`` as the matrices ``(G, C_out/G, ΠK·C/G)`` with columns ordered (kernel tap,
    channel), the rows of the column matrices :class:`ConvTranspose` makes."""
    c_out, cg = w.shape[:2]
    return w.reshape(groups, c_out // groups, cg, -1).transpose(0, 1, 3, 2).reshape(groups, c_out // groups, -1)


def _add_columns(cols: np.ndarray, g: ConvGeometry, buf: np.ndarray) -> None:
    """col2im, the adjoint of the windows: add ``cols`` viewed ``(G, C/G, b, *K, *grid)`` (``grid`` the positions
    of ``g.sums``) into the channel-major padded sum ``buf`` ``(C, ≥ b, *buffer)``: one vectorised add per kernel
    tap (the only Python loop), a tap's slab and its target running through memory in the same order."""
    xp = array_module(cols)
    lay = g.sums
    groups, cg, b = cols.shape[:3]
    shape = (groups, cg, b) + lay.grid
    strides = (cg * buf.shape[1] * lay.plane, buf.shape[1] * lay.plane, lay.plane) + lay.steps
    for tap, offset in zip(g.taps, lay.offsets, strict=True):
        target = _strided(xp, buf, offset, shape, strides, writeable=True)
        target += cols[(slice(None),) * 3 + tap]


def _col2im(cols: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """col2im of a whole batch (``F.fold``): ``cols`` viewed ``(G, C/G, N, *K, *grid)`` summed into ``(N, C, *S)``."""
    xp = array_module(cols)
    groups, cg, n = cols.shape[:3]
    buf = xp.zeros((groups * cg, n) + g.sums.buffer, cols.dtype)
    _add_columns(cols, g, buf)
    return xp.ascontiguousarray(buf[_crop(g)].swapaxes(0, 1))


def _transpose(y: np.ndarray, w: np.ndarray, g: ConvGeometry, flip: bool | None = None,
               bias: np.ndarray | None = None) -> np.ndarray:
    """conv_transpose(y, w) (+ b) on arrays, by the flipped convolution or by col2im (``flip``; None: the
    flipped convolution at stride 1 when y has at most 1.5× x's channels, see :class:`ConvTranspose`)."""
    d, n, cg = len(g.kernel), y.shape[0], w.shape[1]
    flipped = g.flipped() if flip or (flip is None and 2 * y.shape[1] <= 3 * g.groups * cg) else None
    if flipped is not None:
        return _convolve(y, _flipped_weight(w, g.groups), flipped, bias)
    xp = array_module(y, w)
    c = g.groups * cg
    blocks = _Blocks(xp, g, n, c, y.dtype)
    weight = _tap_major_weight(w, g.groups).transpose(0, 2, 1)  # (G, ΠK·C/G, C_out/G)
    flat = xp.empty(c * len(g.taps) * blocks.size * blocks.grid, y.dtype)
    sums = xp.empty((c, blocks.size) + g.sums.buffer, y.dtype)
    out = xp.empty((n, c) + g.in_size, y.dtype)
    for start, stop in blocks.ranges:
        b = stop - start
        cols = flat[:c * len(g.taps) * b * blocks.grid].reshape(g.groups, -1, b * blocks.grid)
        xp.matmul(weight, blocks.channel_major(y[start:stop]), out=cols)
        # (G, *K, C/G, b, *grid) -> (G, C/G, b, *K, *grid), the axes col2im reads
        view = cols.reshape((g.groups,) + g.kernel + (cg, b) + g.sums.grid).transpose(
            0, d + 1, d + 2, *range(1, d + 1), *range(d + 3, 2 * d + 3))
        sums[:, :b] = 0
        _add_columns(view, g, sums)
        out[start:stop] = sums[:, :b][_crop(g)].swapaxes(0, 1)
    if bias is not None:
        out += bias.reshape((-1,) + (1,) * d)
    return out


def _channel_bias(b: Tensor, spatial: int) -> Tensor:
    """A bias ``(C,)`` shaped to broadcast over ``(N, C, *spatial)``."""
    return reshape(b, (1, b.shape[0]) + (1,) * spatial)


def _bias_grad(grad: Tensor) -> Tensor:
    """The bias gradient: the output gradient summed over the batch and the spatial dims."""
    return grad.sum((0,) + tuple(range(2, grad.ndim)))


def _total(terms: list, shape: tuple[int, ...]) -> Tensor:
    """The sum of a jvp rule's terms (a bias tangent alone is broadcast to the output's shape)."""
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out if tuple(out.shape) == tuple(shape) else broadcast_to(out, shape)


# ----------------------------------------------------------------------------- the three nodes
class _Convolutional(Function):
    """What the three convolution nodes share: the geometry, the bias gradient and the jvp rule."""

    has_bias = False

    def __init__(self, geometry: ConvGeometry) -> None:
        self.geometry = geometry

    def _and_bias(self, grads: tuple, grad: Tensor) -> tuple:
        """The inputs' gradients, followed by the bias's when the node has one."""
        if not self.has_bias:
            return grads
        return (*grads, _bias_grad(grad) if self.needs_input_grad[2] else None)

    def jvp(self, da, db, dbias=None):
        """Each node is bilinear in its two inputs a and b (plus, for two of them, a bias c):
        op(ȧ, b) + op(a, ḃ) (+ ċ)."""
        a, b = self.saved
        g, op = self.geometry, type(self)
        terms = []
        if da is not None:
            terms.append(op.apply(da, b, geometry=g))
        if db is not None:
            terms.append(op.apply(a, db, geometry=g))
        if dbias is not None:
            terms.append(_channel_bias(dbias, len(g.kernel)))
        return _total(terms, self.out_shape)


class Convolution(_Convolutional):
    """y = conv(x, w) (+ b): ``(N, C_in, *S)``, ``(C_out, C_in/G, *K)`` (and ``(C_out,)``) -> ``(N, C_out, *O)``.

    Forward: for each cache-sized block of the batch, im2col and one GEMM per group W · cols, written into
    y's ``(N, C_out, *O)`` layout. Nothing but x and w is kept for the backward pass (the weight gradient
    builds the columns again, block by block, which costs less than reading them back from memory).
    Rules: vjp ∂L/∂x = conv_transpose(g, w) (:class:`ConvTranspose`), ∂L/∂w = :class:`ConvWeight` (x, g),
    ∂L/∂b = Σ g over batch and space; jvp conv(ẋ, w) + conv(x, ẇ) + ḃ.
    """

    def forward(self, x, w, b=None):
        out = _convolve(x._data, w._data, self.geometry, None if b is None else b._data)
        self.save(x, w)
        self.has_bias = b is not None
        self.out_shape = out.shape
        return out

    def vjp(self, grad):
        x, w = self.saved
        needs = self.needs_input_grad
        g = self.geometry
        gx = ConvTranspose.apply(grad, w, geometry=g) if needs[0] else None
        gw = ConvWeight.apply(x, grad, geometry=g) if needs[1] else None
        return self._and_bias((gx, gw), grad)


class ConvTranspose(_Convolutional):
    """x̃ = conv_transpose(y, w) (+ b): the adjoint of x ↦ conv(x, w), ``(N, C_out, *O)`` ->
    ``(N, C_in, *S)`` for a weight ``(C_out, C_in/G, *K)`` — ``F.conv_transpose*d``'s layer, and
    the input gradient of a convolution.

    Forward, two ways to the same sum, whichever moves less memory, each block by block over the batch:

    * at stride 1, when y has at most 1.5× x's channels: the convolution of y with the flipped kernel
      (:meth:`ConvGeometry.flipped`), im2col of y and one GEMM per group, as :class:`Convolution`;
    * otherwise: y laid out channel-major, one GEMM per group wᵀ · y, whose column matrices come out kernel
      tap first, so that col2im (one vectorised add per kernel tap) reads one contiguous block per tap.

    Rules: vjp ∂L/∂y = conv(g, w), ∂L/∂w = :class:`ConvWeight` (g, y), ∂L/∂b = Σ g;
    jvp conv_transpose(ẏ, w) + conv_transpose(y, ẇ) + ḃ.
    """

    def forward(self, y, w, b=None):
        out = _transpose(y._data, w._data, self.geometry, bias=None if b is None else b._data)
        self.save(y, w)
        self.has_bias = b is not None
        self.out_shape = out.shape
        return out

    def vjp(self, grad):
        y, w = self.saved
        needs = self.needs_input_grad
        g = self.geometry
        gy = Convolution.apply(grad, w, geometry=g) if needs[0] else None
        gw = ConvWeight.apply(grad, y, geometry=g) if needs[1] else None
        return self._and_bias((gy, gw), grad)


class ConvWeight(_Convolutional):
    """w̃ = the adjoint of w ↦ conv(x, w) applied to y: ``(N, C_in, *S)``, ``(N, C_out, *O)`` ->
    ``(C_out, C_in/G, *K)``, the weight gradient of a convolution: for each cache-sized block of the batch,
    im2col of x and one GEMM per group y · colsᵀ, summed over the blocks.

    It is bilinear in (x, y): vjp ∂L/∂x = conv_transpose(y, g), ∂L/∂y = conv(x, g);
    jvp conv_weight(ẋ, y) + conv_weight(x, ẏ).
    """

    def forward(self, x, y):
        self.save(x, y)
        out = _weight_grad(x._data, y._data, self.geometry)
        self.out_shape = out.shape
        return out

    def vjp(self, grad):
        x, y = self.saved
        needs = self.needs_input_grad
        g = self.geometry
        gx = ConvTranspose.apply(y, grad, geometry=g) if needs[0] else None
        gy = Convolution.apply(x, grad, geometry=g) if needs[1] else None
        return gx, gy


# ----------------------------------------------------------------------------- unfold / fold
def _unfold(a: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """``F.unfold`` on arrays: x ``(N, C, *S)`` as ``(N, C·ΠK, ΠO)``, rows ordered (channel, kernel tap), one copy
    of the windows of the padded input."""
    xp = array_module(a)
    lay = g.windows
    buf = xp.zeros(a.shape[:2] + lay.buffer, a.dtype)
    buf[_crop(g)] = a
    n, c = a.shape[:2]
    windows = _strided(xp, buf, 0, (n, c) + g.kernel + g.out_size,
                       (c * lay.plane, lay.plane) + lay.reach + lay.steps, writeable=False)
    return xp.ascontiguousarray(windows).reshape(n, c * len(g.taps), -1)


class Im2Col(Function):
    """``F.unfold``: the sliding blocks of x ``(N, C, *S)`` as columns ``(N, C·ΠK, L)`` (rows ordered
    channel, then kernel tap; L = ΠO blocks). Linear: vjp = :class:`Col2Im` of the gradient, jvp =
    the blocks of the tangent."""

    def __init__(self, geometry: ConvGeometry) -> None:
        self.geometry = geometry

    def forward(self, x):
        return _unfold(x._data, self.geometry)

    def vjp(self, grad):
        return Col2Im.apply(grad, geometry=self.geometry)

    def jvp(self, dx):
        return Im2Col.apply(dx, geometry=self.geometry)


class Col2Im(Function):
    """``F.fold``: columns ``(N, C·ΠK, L)`` summed into ``(N, C, *S)``, each block added where it came
    from (overlaps add up): the adjoint of :class:`Im2Col`, whose rules it mirrors."""

    def __init__(self, geometry: ConvGeometry) -> None:
        self.geometry = geometry

    def forward(self, cols):
        g = self.geometry
        a = cols._data
        channels = a.shape[1] // len(g.taps)
        blocks = a.reshape((a.shape[0], 1, channels) + g.kernel + g.sums.grid)  # (N, G = 1, C, *K, *O)
        return _col2im(array_module(a).moveaxis(blocks, 0, 2), g)

    def vjp(self, grad):
        return Im2Col.apply(grad, geometry=self.geometry)

    def jvp(self, dcols):
        return Col2Im.apply(dcols, geometry=self.geometry)
