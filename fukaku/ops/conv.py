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

The engine, for speed with NumPy alone (no Python loop over single samples, the channels or the pixels;
BLAS does the arithmetic), works on channel-major layouts, block by block over the batch:

* *cache blocking*: the batch is cut into ⌈N/b⌉ blocks of b samples, b chosen from the bytes of one
  sample's column matrix so that a block's columns (about :data:`BLOCK_BYTES`) are still in cache when
  the GEMM reads them; a loop over these few blocks, vectorised within each, with reused buffers. No
  column matrix outlives its block: the weight gradient builds the columns again (cheaper than keeping
  them, tens of MB per layer, and reading them back from memory).
* *im2col*: a block ``(b, C, *S)`` is copied once into a zero-bordered channel-major buffer
  ``(C, b, *padded)``, viewed through ``as_strided`` as its windows ``(C, *K, b, *O)`` and copied once
  into the column matrices ``(G, C/G·ΠK, b·ΠO)``; y = W · cols is one GEMM per group for the whole
  block, copied out into y's ``(N, C_out, *O)`` layout; the weight gradient is Σ_blocks g · colsᵀ, one
  GEMM per group and block whose inner dimension is the block's positions. When a sample's columns have
  no more rows than y has channels (a first layer), per-sample columns ``(b, G, C/G·ΠK, ΠO)`` instead:
  the GEMMs write y's block in place and the weight gradient reads it in place.
* *position-major rows* (:class:`_Rows`), for ungrouped layers with enough channels (:func:`_by_rows`): the
  block copied once into a channels-last buffer ``(b, *padded, C)``, whose windows ``(b, *O, *K, C)`` are
  copied into rows ``(b·ΠO, ΠK·C)``; y = rows · W and the weight gradient gᵀ · rows. Same arithmetic, but
  the GEMM's M is the positions rather than C_out, which BLAS runs up to twice as fast for 16–64 channels.
* *the transposed convolution* (also the input gradient): at stride 1, the convolution with the
  flipped kernel (the same im2col and GEMM); otherwise col2im: the gradient laid out channel-major,
  one GEMM wᵀ · g per group whose column matrices come out kernel tap first, then for each of the ΠK
  taps (a loop over kernel offsets) one vectorised strided add of a contiguous slab into the padded sum.
* *threads*: with threadpoolctl installed and BLAS on W > 1 threads, the blocks of a pass are shared
  among W Python threads, each running whole blocks with single-threaded BLAS (NumPy releases the GIL in
  matmul and in large copies), so that the copies use the cores as well as the GEMMs, and BLAS's own
  threads, which spin on the cores for a while after each call, stay asleep.
* *wide rows*: with stride 1 along the last two dims, a window row runs over whole rows of the buffer
  (rows of S values and max(lo, hi) zeros that pad both this row and the next), so that each tap's
  column row is one contiguous run of the buffer; the few extra columns are computed and dropped.
"""
from __future__ import annotations

import functools
import itertools
import math
import threading
from collections.abc import Callable

import numpy as np

from ..autograd.function import Function
from ..backends import array_module, caching_allocator
from ..tensor import Tensor
from . import _parallel
from ._parallel import Threads, each
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
        wide: allow wide rows (see the module docstring); ``F.unfold`` and ``F.fold`` take exact windows.

    ``windows`` lays out the exact output positions in the padded input (``F.unfold``); ``sums`` the
    positions the engine's column matrices hold (im2col and col2im), the wide rows where they pay.
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
        # at most a quarter more positions than the exact ones. Consecutive rows share their padding: a row
        # holds its S values and max(lo, hi) zeros, which serve as the right padding of this row and the left
        # padding of the next (a window reaching past its row's end reads at most min(lo, hi) ≤ lo cells of
        # the next row, all zeros), unless the output row is longer than that pitch
        (lo, hi), n = self.padding[-1], self.in_size[-1]
        pitch = n + max(lo, hi) if self.out_size[-1] <= n + max(lo, hi) else self.padded[-1]
        spare = pitch - self.out_size[-1]
        if wide and len(kernel) >= 2 and stride[-1] == stride[-2] == 1 and 0 < 4 * spare <= pitch:
            # a wide row of the last window row reads past its plane by less than a row: one spare row
            buffer = self.padded[:-2] + (self.padded[-2] + 1, pitch)
            self.sums = _Layout(buffer, self.out_size[:-1] + (pitch,), self.stride, self.dilation, self.taps)
        else:
            self.sums = self.windows

    @property
    def wide(self) -> bool:
        """Whether the engine works on wide rows (and discards their extra columns)."""
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
        return conv_geometry(self.out_size, self.in_size, self.kernel, self.stride, tuple(pads), self.dilation,
                            self.groups)

    def __repr__(self) -> str:
        return (f"ConvGeometry(in_size={self.in_size}, out_size={self.out_size}, kernel={self.kernel}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, groups={self.groups})")


@functools.lru_cache(maxsize=512)
def conv_geometry(in_size: tuple[int, ...], out_size: tuple[int, ...], kernel: tuple[int, ...],
                  stride: tuple[int, ...], padding: tuple[tuple[int, int], ...], dilation: tuple[int, ...],
                  groups: int = 1, wide: bool = True) -> ConvGeometry:
    """The :class:`ConvGeometry` of these sizes, made once and shared (it is immutable): a network's layers ask for
    the same few geometries on every step, and making one (its layouts' offsets) costs tens of microseconds."""
    return ConvGeometry(in_size, out_size, kernel, stride, padding, dilation, groups, wide)


def _strided(xp, base: np.ndarray, offset: int, shape: tuple[int, ...], strides: tuple[int, ...], writeable: bool):
    """``base`` (C-contiguous) seen from element ``offset`` with ``shape`` and element ``strides``; read-only
    unless ``writeable`` where the library has read-only views (NumPy; CuPy's ``as_strided`` takes no flag)."""
    flat = base.reshape(-1)[offset:]
    flag = {"writeable": writeable} if xp is np else {}
    return xp.lib.stride_tricks.as_strided(flat, shape, tuple(s * base.itemsize for s in strides), **flag)


def _crop(g: ConvGeometry) -> tuple[slice, ...]:
    """The input's place in a padded buffer ``(N, C, *buffer)`` or ``(C, N, *buffer)``."""
    return (slice(None), slice(None)) + tuple(slice(lo, lo + n) for (lo, _), n in zip(g.padding, g.in_size))


# ----------------------------------------------------------------------------- cache blocking, threads
#: About the bytes of one batch block's column matrices: an L2 cache's worth (2 MiB here), so that the columns
#: are read by the GEMM while they are still in cache instead of travelling to memory and back.
BLOCK_BYTES = 2 << 20

#: From how many bytes of column matrices on a pass is cut into at least as many blocks as there are threads
#: (see :func:`~fukaku.ops._parallel.each`).
PARALLEL_BYTES = 256 << 10

#: Whether ungrouped convolutions (and their weight gradients) may run on position-major rows (:class:`_Rows`)
#: rather than on channel-major columns (:class:`_Blocks`), which grouped ones always use; see :func:`_by_rows`.
ROWS = True


def _batch_blocks(n: int, per_sample: int, workers: int = 1) -> tuple[list[tuple[int, int]], int]:
    """Cache blocking: the batch as about N/b ranges of b samples, b chosen from the bytes of one sample's columns
    so that a block's take about :data:`BLOCK_BYTES`; with ``workers`` threads and at least :data:`PARALLEL_BYTES`
    in all, the count of blocks rounded up to a multiple of ``workers``; the sizes evened out (they differ by at
    most one sample), so that the threads get equal shares. The engine loops over these few blocks and is
    vectorised within each: it is not a loop over single samples (a block is one sample only when one sample's
    columns alone exceed the budget, and then each iteration is a large GEMM). Returns (the ranges, the largest
    block's size)."""
    count = -(-n // max(1, min(n, BLOCK_BYTES // max(per_sample, 1))))
    if workers > 1 and n * per_sample >= PARALLEL_BYTES:
        count = min(n, -(-count // workers) * workers)
    return [(i * n // count, (i + 1) * n // count) for i in range(count)], -(-n // count)


class _Scratch(threading.local):
    """Each thread's work buffers, kept from one pass to the next: one flat buffer per role ("pad", "cols", ...),
    grown to the largest request, so that the block buffers of every convolution come from memory already
    mapped and in cache instead of fresh pages (first-touch page faults cost as much as the copies into them).
    Holds a few MB per thread (about :data:`BLOCK_BYTES` for the column matrices)."""

    def __init__(self) -> None:
        self.buffers: dict = {}
        self.zeroed: dict = {}  # role -> the layout whose never-written cells (a padding border) are still zero

    def take(self, xp, role: str, shape: tuple[int, ...], dtype, zeros=None) -> np.ndarray:
        """A C-contiguous ``shape`` array of ``dtype`` on this thread's ``role`` buffer, valid until the thread asks
        for that role again. ``zeros``: a key of the layout of cells that the caller never writes (its padding)
        and reads as zeros; the buffer is zero-filled unless its last use had the same shape, dtype and key."""
        dtype = np.dtype(dtype)
        nbytes = math.prod(shape) * dtype.itemsize
        key = (xp, role)
        buf = self.buffers.get(key)
        if buf is None or buf.nbytes < nbytes:
            buf = self.buffers[key] = xp.empty(max(nbytes, 1), np.dtype("uint8"))
            self.zeroed.pop(key, None)
        out = buf[:nbytes].view(dtype).reshape(shape)
        layout = None if zeros is None else (shape, dtype, zeros)
        if layout is not None and self.zeroed.get(key) != layout:
            out.fill(0)
        self.zeroed[key] = layout
        return out


_scratch = _Scratch()


class _Blocks:
    """The reusable buffers of one thread's share of a convolution pass, block by block (channel-major layouts):

    * ``pad``: the padded input of a block, ``(C, b, *buffer)`` with ``g.sums``'s buffer (its border zero);
    * ``cols``: a block's column matrices, ``(G, C/G·ΠK, b·Πgrid)`` (``grid`` the positions of ``g.sums``:
      the output's, or wide rows), flat so that a smaller last block takes a contiguous prefix;
    * ``grads``: a block of y-shaped values ``(C_out, b, *grid)`` (zeros in the discarded wide columns).

    Each is made on first use and reused by every block. ``plan`` gives the blocks of a pass."""

    def __init__(self, xp, g: ConvGeometry, size: int, dtype) -> None:
        self.xp, self.g, self.size, self.dtype = xp, g, size, np.dtype(dtype)
        self.grid = math.prod(g.sums.grid)
        self._pad = self._cols = self._grads = None
        d = len(g.kernel)
        self.direct = g.kernel == (1,) * d and g.stride == (1,) * d and g.padded == g.in_size

    @staticmethod
    def plan(xp, g: ConvGeometry, n: int, channels: int, dtype, exact: bool = False) -> tuple[list[tuple[int, int]], int]:
        """The blocks of a pass whose column matrices have ``channels``·ΠK rows (on the output's positions when
        ``exact``, else on ``g.sums``'s): (ranges, block size). For a GPU library (``xp`` not NumPy) the whole
        batch is one block: cache blocking and threads are the CPU's, and on a GPU each block costs kernel
        launches (a ResNet-20 step on an H200 spent most of its time launching the blocks' small GEMMs)."""
        if xp is not np:
            return [(0, n)], n
        positions = math.prod(g.out_size if exact else g.sums.grid)
        return _batch_blocks(n, channels * len(g.taps) * positions * np.dtype(dtype).itemsize,
                             Threads.count() if _parallel.PARALLEL else 1)

    def columns(self, block: np.ndarray) -> np.ndarray:
        """im2col of ``block`` ``(b, C, *S)``: its columns ``(G, C/G·ΠK, b·Πgrid)``, rows ordered (channel, kernel
        tap) as the weight's, columns (sample, position): one copy into the padded buffer, one of its windows."""
        xp, g = self.xp, self.g
        b, c = block.shape[:2]
        if self._cols is None:
            self._cols = _scratch.take(xp, "cols", (c * len(g.taps) * self.size * self.grid,), self.dtype)
        cols = self._cols[:c * len(g.taps) * b * self.grid]
        if self.direct:  # a 1×1 stride-1 convolution without padding: the channel-major input is the matrix
            cols.reshape((c, b) + g.in_size)[...] = block.swapaxes(0, 1)
            return cols.reshape(g.groups, -1, b * self.grid)
        if self._pad is None:
            self._pad = _scratch.take(xp, "pad", (c, self.size) + g.sums.buffer, self.dtype, zeros=_crop(g))
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
            self._grads = _scratch.take(self.xp, "grads", (c, self.size) + g.sums.grid, self.dtype,
                                        zeros=g.out_size[-1])
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


class _Rows:
    """Position-major im2col, the engine of ungrouped convolutions: a block ``(b, C, *S)`` copied once into a
    zero-bordered channels-last buffer ``(b, *padded, C)``, whose windows ``(b, *O, *K, C)`` are copied once into
    the rows ``(b·ΠO, ΠK·C)``: a row per output position, columns ordered (kernel tap, channel). The GEMMs then
    run with the positions, the large dimension, as their M (rows · W and gᵀ · rows), which BLAS's kernels favour
    over a product whose M is C_out (twice as fast here for 16-channel layers). Buffers are made on first use and
    reused by every block of one thread's share."""

    def __init__(self, xp, g: ConvGeometry, size: int, channels: int, dtype) -> None:
        self.xp, self.g, self.size, self.channels, self.dtype = xp, g, size, channels, np.dtype(dtype)
        self.positions = math.prod(g.out_size)
        self._pad = self._rows = None

    def columns(self, block: np.ndarray) -> np.ndarray:
        """The rows ``(b·ΠO, ΠK·C)`` of ``block`` ``(b, C, *S)``."""
        xp, g, c = self.xp, self.g, self.channels
        b = block.shape[0]
        if self._pad is None:
            self._pad = _scratch.take(xp, "pad", (self.size,) + g.padded + (c,), self.dtype, zeros=g.padding)
            self._rows = _scratch.take(xp, "cols", (self.size * self.positions, len(g.taps) * c), self.dtype)
        pad = self._pad[:b]
        inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(g.padding, g.in_size, strict=True))
        pad[(slice(None),) + inner] = xp.moveaxis(block, 1, -1)
        planes = [math.prod(g.padded[d + 1:]) * c for d in range(len(g.padded))]
        shape = (b,) + g.out_size + g.kernel + (c,)
        strides = ((math.prod(g.padded) * c,) + tuple(s * p for s, p in zip(g.stride, planes, strict=True))
                   + tuple(d * p for d, p in zip(g.dilation, planes, strict=True)) + (1,))
        if g.dilation[-1] == 1:  # the last kernel dim's taps and the channels: one contiguous run of the buffer
            shape, strides = shape[:-2] + (g.kernel[-1] * c,), strides[:-2] + (1,)
        windows = _strided(xp, pad, 0, shape, strides, writeable=False)
        rows = self._rows[:b * self.positions]
        xp.copyto(rows.reshape(windows.shape), windows)
        return rows


def _rows_weight(w: np.ndarray) -> np.ndarray:
    """w ``(C_out, C_in, *K)`` as the matrix ``(ΠK·C_in, C_out)`` that multiplies :class:`_Rows`' rows."""
    c_out, c_in = w.shape[:2]
    return array_module(w).ascontiguousarray(w.reshape(c_out, c_in, -1).transpose(2, 1, 0)).reshape(-1, c_out)


def _convolve_rows(a: np.ndarray, w: np.ndarray, g: ConvGeometry, bias: np.ndarray | None) -> np.ndarray:
    """An ungrouped conv(x, w) (+ b) by :class:`_Rows`: for each block, one GEMM rows · W ``(b·ΠO, C_out)``, the
    bias added while the block is in cache, copied out into y's ``(N, C_out, *O)`` layout."""
    xp = array_module(a, w)
    (n, c_in), c_out = a.shape[:2], w.shape[0]
    ranges, size = _Blocks.plan(xp, g, n, c_in, a.dtype, exact=True)
    wm = _rows_weight(w)
    y = caching_allocator.empty((n, c_out) + g.out_size, a.dtype, xp)

    def task(share):
        rows = _Rows(xp, g, size, c_in, a.dtype)
        out = _scratch.take(xp, "out", (size * rows.positions, c_out), a.dtype)
        for start, stop in share:  # a few cache-sized blocks of the batch (see _batch_blocks)
            block = out[:(stop - start) * rows.positions]
            xp.matmul(rows.columns(a[start:stop]), wm, out=block)
            if bias is not None:
                block += bias
            y[start:stop].reshape(stop - start, c_out, -1)[...] = block.reshape(stop - start, -1, c_out).swapaxes(1, 2)

    each(ranges, task)
    return y


def _weight_grad_rows(a: np.ndarray, y: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """An ungrouped convolution's weight gradient by :class:`_Rows`: Σ over the blocks of g · rows, g laid out
    ``(C_out, b·ΠO)``, the rows ``(b·ΠO, ΠK·C_in)``; then reordered from (tap, channel) to w's (channel, tap)."""
    xp = array_module(a, y)
    (n, c_out), c_in = y.shape[:2], a.shape[1]
    ranges, size = _Blocks.plan(xp, g, n, c_in, a.dtype, exact=True)

    def task(share):
        rows = _Rows(xp, g, size, c_in, a.dtype)
        grads = _scratch.take(xp, "grads", (c_out, size, rows.positions), a.dtype)
        out = xp.zeros((c_out, len(g.taps) * c_in), a.dtype)
        for start, stop in share:  # a few cache-sized blocks of the batch (see _batch_blocks)
            b = stop - start
            grads[:, :b] = y[start:stop].reshape(b, c_out, -1).swapaxes(0, 1)
            out += grads[:, :b].reshape(c_out, -1) @ rows.columns(a[start:stop])
        return out

    out, *others = each(ranges, task)
    for part in others:
        out += part
    return xp.ascontiguousarray(out.reshape(c_out, len(g.taps), c_in).swapaxes(1, 2)).reshape(
        (c_out, c_in) + g.kernel)


def _per_sample(g: ConvGeometry, c_in: int, c_out: int) -> bool:
    """Whether a pass works on per-sample column matrices ``(b, G, C/G·ΠK, ΠO)`` instead of channel-major ones:
    when a sample's columns have no more rows than y has channels (a first layer: 1 channel in, 32 out), so that
    the GEMM writes y in place and the weight gradient reads it in place, rather than copying y, the larger."""
    return c_in * len(g.taps) <= c_out


def _by_rows(g: ConvGeometry, c_in: int, c_out: int, weight_grad: bool = False) -> bool:
    """Whether a pass runs on :class:`_Rows`: an ungrouped convolution whose GEMM gains more from having the
    positions as its M than the channels-last copies cost — measured on a ResNet's layers (2-core x86, OpenBLAS,
    float32): the convolution with at least 32 output channels (rows · W with N = C_out), the weight gradient
    with rows of at least 256 values (g · rows with N = C_in·ΠK). Below, the channel-major engine is as fast or
    faster (the 16-channel layers' forward pass: 3.4 vs 4.5 ms; their weight gradient, cols · gᵀ: 2.45 vs
    3.0 ms; 32 channels: 1.85 vs 1.88 ms; 64: 1.47 vs 1.29 ms, rows faster)."""
    if not ROWS or g.groups != 1 or _per_sample(g, c_in, c_out):
        return False
    return c_in * len(g.taps) >= 256 if weight_grad else c_out >= 32


def _convolve(a: np.ndarray, w: np.ndarray, g: ConvGeometry, bias: np.ndarray | None = None) -> np.ndarray:
    """conv(x, w) (+ b) on arrays ``(N, C_in, *S)``, ``(C_out, C_in/G, *K)`` -> ``(N, C_out, *O)``: for each
    block of the batch, im2col and one GEMM per group W · cols, the bias added while the block is in cache."""
    xp = array_module(a, w)
    (n, c_in), c_out = a.shape[:2], w.shape[0]
    if _by_rows(g, c_in, c_out):
        return _convolve_rows(a, w, g, bias)
    per_sample = _per_sample(g, c_in, c_out)
    ranges, size = _Blocks.plan(xp, g, n, c_in, a.dtype, exact=per_sample)
    wm = xp.ascontiguousarray(w).reshape(g.groups, c_out // g.groups, -1)  # BLAS-ready whatever w's strides
    y = caching_allocator.empty((n, c_out) + g.out_size, a.dtype, xp)
    shift = None if bias is None else bias.reshape(g.groups, -1, 1)

    def task(share):
        blocks = _Blocks(xp, g, size, a.dtype)
        out = None if per_sample else _scratch.take(xp, "out", (c_out * size * blocks.grid,), a.dtype)
        for start, stop in share:  # a few cache-sized blocks of the batch (see _batch_blocks)
            if per_sample:  # (b, G, C/G·ΠK, ΠO) columns: the GEMMs write y's block in place
                block = y[start:stop].reshape(stop - start, g.groups, c_out // g.groups, -1)
                xp.matmul(wm, _unfold(a[start:stop], g).reshape(stop - start, g.groups, -1, block.shape[-1]),
                          out=block)
                if shift is not None:
                    block += shift
                continue
            cols = blocks.columns(a[start:stop])
            block = out[:c_out * (stop - start) * blocks.grid].reshape(g.groups, c_out // g.groups, -1)
            xp.matmul(wm, cols, out=block)
            if shift is not None:
                block += shift
            blocks.scatter(block, y, start)

    each(ranges, task)
    return y


def _weight_grad(a: np.ndarray, y: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """The adjoint in w on arrays: x ``(N, C_in, *S)``, y ``(N, C_out, *O)`` -> ``(C_out, C_in/G, *K)``,
    Σ over the blocks of the batch of one GEMM per group, wᵀ's = cols · yᵀ (K = the block's positions): with the
    column matrix first, OpenBLAS runs these long-K products up to twice as fast as y · colsᵀ (one thread, a
    ResNet's first layer, 27 × 67 k by 67 k × 16: 1.4 vs 2.0 ms)."""
    xp = array_module(a, y)
    (n, c_out), c_in = y.shape[:2], a.shape[1]
    if _by_rows(g, c_in, c_out, weight_grad=True):
        return _weight_grad_rows(a, y, g)
    per_sample = _per_sample(g, c_in, c_out)
    ranges, size = _Blocks.plan(xp, g, n, c_in, a.dtype, exact=per_sample)

    def task(share):
        blocks = _Blocks(xp, g, size, a.dtype)
        out = xp.zeros((g.groups, (c_in // g.groups) * len(g.taps), c_out // g.groups), a.dtype)  # wᵀ per group
        for start, stop in share:  # a few cache-sized blocks of the batch (see _batch_blocks)
            if per_sample:  # y's block read in place, one GEMM per sample and group, summed over the block
                b = stop - start
                cols = _unfold(a[start:stop], g).reshape(b, g.groups, -1, math.prod(g.out_size))
                grads = y[start:stop].reshape(b, g.groups, c_out // g.groups, -1)
                out += xp.add.reduce(xp.matmul(cols, grads.swapaxes(-1, -2)), axis=0)
                continue
            cols = blocks.columns(a[start:stop])
            out += xp.matmul(cols, blocks.channel_major(y[start:stop]).swapaxes(-1, -2))
        return out

    out, *others = each(ranges, task)
    for part in others:
        out += part
    return xp.ascontiguousarray(out.swapaxes(-1, -2)).reshape((c_out, c_in // g.groups) + g.kernel)


def _flipped_weight(w: np.ndarray, groups: int) -> np.ndarray:
    """The weight of the convolution that is conv_transpose(·, w) at stride 1: w's channel roles swapped
    within each group and its kernel flipped along every spatial dim."""
    c_out, cg = w.shape[:2]
    spatial = w.shape[2:]
    swapped = w.reshape((groups, c_out // groups, cg) + spatial).swapaxes(1, 2).reshape((groups * cg, -1) + spatial)
    flipped = swapped[(slice(None), slice(None)) + (slice(None, None, -1),) * len(spatial)]
    return array_module(w).ascontiguousarray(flipped)  # a view with negative strides would keep matmul off BLAS


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
    flipped convolution wherever it exists, at stride 1, see :class:`ConvTranspose`)."""
    d, n, cg = len(g.kernel), y.shape[0], w.shape[1]
    flipped = g.flipped() if flip is None or flip else None
    if flipped is not None:
        return _convolve(y, _flipped_weight(w, g.groups), flipped, bias)
    xp = array_module(y, w)
    c = g.groups * cg
    ranges, size = _Blocks.plan(xp, g, n, c, y.dtype)
    weight = xp.ascontiguousarray(_tap_major_weight(w, g.groups).transpose(0, 2, 1))  # (G, ΠK·C/G, C_out/G)
    out = caching_allocator.empty((n, c) + g.in_size, y.dtype, xp)

    def task(share):
        blocks = _Blocks(xp, g, size, y.dtype)
        flat = _scratch.take(xp, "out", (c * len(g.taps) * size * blocks.grid,), y.dtype)
        sums = _scratch.take(xp, "sums", (c, size) + g.sums.buffer, y.dtype)
        for start, stop in share:  # a few cache-sized blocks of the batch (see _batch_blocks)
            b = stop - start
            cols = flat[:c * len(g.taps) * b * blocks.grid].reshape(g.groups, -1, b * blocks.grid)
            xp.matmul(weight, blocks.channel_major(y[start:stop]), out=cols)
            # (G, *K, C/G, b, *grid) -> (G, C/G, b, *K, *grid), the axes col2im reads
            view = cols.reshape((g.groups,) + g.kernel + (cg, b) + g.sums.grid).transpose(
                0, d + 1, d + 2, *range(1, d + 1), *range(d + 3, 2 * d + 3))
            sums[:, :b] = 0
            _add_columns(view, g, sums)
            out[start:stop] = sums[:, :b][_crop(g)].swapaxes(0, 1)

    each(ranges, task)
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
    compute: Callable[..., np.ndarray]  # (a, b, geometry[, bias=...]) -> the output array

    def __init__(self, geometry: ConvGeometry) -> None:
        self.geometry = geometry

    def forward(self, a, b, bias=None):
        extra = {} if bias is None else {"bias": bias._data}
        out = self.compute(a._data, b._data, self.geometry, **extra)
        self.save(a, b)
        self.has_bias = bias is not None
        self.out_shape = out.shape
        return out

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


class _Filter(_Convolutional):
    """What Convolution and ConvTranspose share: a filter w applied to a signal a (plus a bias), whose
    input gradient is the other one of the pair (:attr:`adjoint`) applied to the upstream gradient and
    whose weight gradient is :class:`ConvWeight` of the signal and that gradient, in the pair's order."""

    adjoint: type[_Filter]
    input_first: bool

    def vjp(self, grad):
        a, w = self.saved
        needs = self.needs_input_grad
        g = self.geometry
        ga = self.adjoint.apply(grad, w, geometry=g) if needs[0] else None
        gw = ConvWeight.apply(*((a, grad) if self.input_first else (grad, a)), geometry=g) if needs[1] else None
        return self._and_bias((ga, gw), grad)


class Convolution(_Filter):
    """y = conv(x, w) (+ b): ``(N, C_in, *S)``, ``(C_out, C_in/G, *K)`` (and ``(C_out,)``) -> ``(N, C_out, *O)``.

    Forward: for each cache-sized block of the batch, im2col and one GEMM per group W · cols, written into
    y's ``(N, C_out, *O)`` layout. Nothing but x and w is kept for the backward pass (the weight gradient
    builds the columns again, block by block, which costs less than reading them back from memory).
    Rules: vjp ∂L/∂x = conv_transpose(g, w) (:class:`ConvTranspose`), ∂L/∂w = :class:`ConvWeight` (x, g),
    ∂L/∂b = Σ g over batch and space; jvp conv(ẋ, w) + conv(x, ẇ) + ḃ.
    """

    compute = staticmethod(_convolve)
    input_first = True  # the weight gradient is ConvWeight(x, g)


class ConvTranspose(_Filter):
    """x̃ = conv_transpose(y, w) (+ b): the adjoint of x ↦ conv(x, w), ``(N, C_out, *O)`` ->
    ``(N, C_in, *S)`` for a weight ``(C_out, C_in/G, *K)`` — ``F.conv_transpose*d``'s layer, and
    the input gradient of a convolution.

    Forward, two ways to the same sum, whichever moves less memory, each block by block over the batch:

    * at stride 1: the convolution of y with the flipped kernel (:meth:`ConvGeometry.flipped`), im2col of y and
      one GEMM per group, as :class:`Convolution` (faster than col2im here even when y has twice x's channels);
    * otherwise: y laid out channel-major, one GEMM per group wᵀ · y, whose column matrices come out kernel
      tap first, so that col2im (one vectorised add per kernel tap) reads one contiguous block per tap.

    Rules: vjp ∂L/∂y = conv(g, w), ∂L/∂w = :class:`ConvWeight` (g, y), ∂L/∂b = Σ g;
    jvp conv_transpose(ẏ, w) + conv_transpose(y, ẇ) + ḃ.
    """

    compute = staticmethod(_transpose)
    input_first = False  # the weight gradient is ConvWeight(g, y)


Convolution.adjoint, ConvTranspose.adjoint = ConvTranspose, Convolution


class ConvWeight(_Convolutional):
    """w̃ = the adjoint of w ↦ conv(x, w) applied to y: ``(N, C_in, *S)``, ``(N, C_out, *O)`` ->
    ``(C_out, C_in/G, *K)``, the weight gradient of a convolution: for each cache-sized block of the batch,
    im2col of x and one GEMM per group y · colsᵀ, summed over the blocks.

    It is bilinear in (x, y): vjp ∂L/∂x = conv_transpose(y, g), ∂L/∂y = conv(x, g);
    jvp conv_weight(ẋ, y) + conv_weight(x, ẏ).
    """

    compute = staticmethod(_weight_grad)

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
