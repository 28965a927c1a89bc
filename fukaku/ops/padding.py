"""Padding that copies values from inside the tensor: ``F.pad``'s modes reflect, replicate and circular.

Constant padding is :class:`fukaku.ops.shape.Pad`; :func:`fukaku.ops.shape.pad` (``F.pad``) sends the
other modes here. Along each padded dim, output cell i holds input cell ``index[i]``:

* reflect: the mirror image without repeating the edge (``d c b | a b c d | c b a``);
* replicate: the edge repeated (``a a a | a b c d | d d d``);
* circular: the other end, as on a torus (``b c d | a b c d | a b c``).

So padding is linear, and its adjoint sums each output cell's gradient into the input cell it
copies (:class:`BorderPadAdjoint`); the two nodes are each other's vjp, and each is its own jvp.
"""
from __future__ import annotations

import builtins

import numpy as np

from ..autograd.function import Function
from ..backends import array_module, default_module
from ..errors import ShapeError
from ..tensor import Tensor
from ._util import fmt

__all__: list[str] = []  # reached through fukaku.ops.shape.pad (F.pad)

MODES = ("reflect", "replicate", "circular")


def source_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """For a dim of size ``n`` padded by ``before`` and ``after`` cells: the input cell each output cell
    copies (``mode``: reflect, replicate or circular)."""
    i = default_module().arange(-before, n + after)
    if mode == "replicate":
        return i.clip(0, n - 1)
    if mode == "circular":
        return i % n
    period = 2 * (n - 1)  # reflect (a size-1 dim can only be padded by 0)
    i = abs(i) % period if period else i * 0
    return default_module().where(i < n, i, period - i)


class BorderPad(Function):
    """Pad along ``dims`` with the per-dim ``widths`` by copying input cells (:func:`source_index`).
    Linear: vjp = :class:`BorderPadAdjoint`, jvp = the same padding of the tangent."""

    def __init__(self, dims: tuple[int, ...], widths: tuple[tuple[int, int], ...], mode: str) -> None:
        self.dims, self.widths, self.mode = dims, widths, mode

    def forward(self, x):
        a = x._data
        self.in_shape = a.shape
        full = [(0, 0)] * a.ndim
        for d, w in zip(self.dims, self.widths, strict=True):
            full[d] = w
        numpy_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[self.mode]
        return array_module(a).pad(a, full, mode=numpy_mode)

    def vjp(self, grad):
        return BorderPadAdjoint.apply(grad, dims=self.dims, widths=self.widths, mode=self.mode,
                                      sizes=tuple(self.in_shape[d] for d in self.dims))

    def jvp(self, dx):
        return BorderPad.apply(dx, dims=self.dims, widths=self.widths, mode=self.mode)


class BorderPadAdjoint(Function):
    """The adjoint of :class:`BorderPad`: each padded dim folded back to its ``sizes``, every border cell's
    gradient added to the input cell it copied. Per dim: the interior slice, then one vectorised add per
    border cell (the pad width, never the data, sets the loop's length)."""

    def __init__(self, dims: tuple[int, ...], widths: tuple[tuple[int, int], ...], mode: str,
                 sizes: tuple[int, ...]) -> None:
        self.dims, self.widths, self.mode, self.sizes = dims, widths, mode, sizes

    def forward(self, g):
        a = g._data
        xp = array_module(a)
        for d, (before, after), n in zip(self.dims, self.widths, self.sizes, strict=True):
            lead = (slice(None),) * d
            out = xp.array(a[lead + (slice(before, before + n),)])  # a copy of the interior
            index = source_index(n, before, after, self.mode)
            for i in [*range(before), *range(before + n, before + n + after)]:
                out[lead + (builtins.int(index[i]),)] += a[lead + (i,)]
            a = out
        return a

    def vjp(self, grad):
        return BorderPad.apply(grad, dims=self.dims, widths=self.widths, mode=self.mode)

    def jvp(self, dg):
        return BorderPadAdjoint.apply(dg, dims=self.dims, widths=self.widths, mode=self.mode, sizes=self.sizes)


def border_pad(input: Tensor, pad: tuple[int, ...], mode: str) -> Tensor:
    """``F.pad(input, pad, mode)`` for the modes reflect, replicate and circular, with PyTorch's rules:
    ``pad`` = (before, after) pairs from the last dim backwards, 1 to 3 pairs on an input with one or two
    more dims than pairs (an unbatched or a batched ``(N, C, …)``). Negative widths crop first."""
    if mode not in MODES:
        raise NotImplementedError(f"pad: unrecognised padding mode {mode!r}; use 'constant', 'reflect', "
                                  "'replicate' or 'circular'")
    pairs = len(pad) // 2
    if len(pad) % 2 or not 1 <= pairs <= 3 or input.ndim not in (pairs + 1, pairs + 2):
        raise NotImplementedError(
            f"pad: padding of length {len(pad)} in mode {mode!r} is not supported for an input of shape "
            f"{fmt(input.shape)}: non-constant padding pads the last 1, 2 or 3 dims (2, 4 or 6 values) of an input "
            "with one or two more dims (2-d or 3-d input for 2 values, 3-d or 4-d for 4, 4-d or 5-d for 6)")
    dims = tuple(input.ndim - 1 - i for i in range(pairs))
    widths = tuple((pad[2 * i], pad[2 * i + 1]) for i in range(pairs))
    if any(p < 0 for p in pad):  # crop first, as PyTorch does
        key = [slice(None)] * input.ndim
        for d, (before, after) in zip(dims, widths, strict=True):
            key[d] = slice(builtins.max(0, -before), input.shape[d] - builtins.max(0, -after))
        input = input[tuple(key)]
        widths = tuple((builtins.max(0, before), builtins.max(0, after)) for before, after in widths)
    for d, (before, after) in zip(dims, widths, strict=True):
        n = input.shape[d]
        too_wide = (mode == "reflect" and builtins.max(before, after) >= n) or \
            (mode == "circular" and builtins.max(before, after) > n) or (mode == "replicate" and n == 0)
        if too_wide:
            limit = "smaller than" if mode == "reflect" else "at most"
            raise ShapeError(f"pad: padding ({before}, {after}) in mode {mode!r} at dimension {d} of input of shape "
                             f"{fmt(input.shape)}: each width must be {limit} the dimension's size {n}")
    if all(w == (0, 0) for w in widths):
        return input
    return BorderPad.apply(input, dims=dims, widths=widths, mode=mode)
