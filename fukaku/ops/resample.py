"""Resampling: interpolation along the spatial dims (nearest and linear, one axis at a time), and
the pixel and channel shuffles (rearrangements made of a reshape, a permute and a reshape).

Interpolation is separable: along each spatial axis, output sample j reads at most two input
samples, ``y_j = w_lo[j]·x[lo[j]] + w_hi[j]·x[hi[j]]`` (nearest: one sample, weight 1), so bilinear
and trilinear interpolation are the 1-d map applied axis after axis. The map is linear in x:
:class:`Interpolate` gathers and blends (its forward and its jvp), and its ``adjoint`` form adds
each output's gradient back onto the samples it read (the transpose, its vjp) — a gather and blend
too, over the transposed taps; each form's vjp is the other, so derivatives of every order stay
within the pair. Which samples and weights an axis
uses (PyTorch's index arithmetic, ``mode``, ``align_corners``, ``scale_factor``) is decided once,
by :func:`taps`, from the sizes alone.

The argument checks of ``interpolate`` live with it in :mod:`fukaku.nn.functional.vision`.
"""
from __future__ import annotations

from types import ModuleType

import numpy as np

from .._checks import check_int
from ..autograd.function import Function
from ..backends import array_module
from ..errors import ShapeError
from ..tensor import Tensor
from ._util import fmt
from .shape import permute, reshape

__all__ = ["pixel_shuffle", "pixel_unshuffle", "channel_shuffle"]


# ----------------------------------------------------------------------------- interpolation along one axis
class Taps:
    """A linear map along one axis in which every output reads a few input samples: output j is
    ``Σ_k weight[k, j]·x[index[k, j]]`` (``weight`` None: all ones). An interpolation has 1 tap
    (nearest) or 2 (linear: the sample below the position and the one above).

    Its transpose (:meth:`transposed`, the vjp) is a map of the same form, from ``size_out`` samples
    back to the ``size_in`` ones: input i receives every output that read it, so its taps are those
    outputs (padded with weight 0 to the largest count; a few for an interpolation), and both
    directions run as gathers, never as scattered additions.
    """

    __slots__ = ("index", "weight", "size_in", "_transposed", "_cast")

    def __init__(self, index, weight, size_in: int) -> None:
        self.index, self.weight, self.size_in = index, weight, size_in
        self._transposed = None
        self._cast = {}

    def weights(self, dtype, dim: int, ndim: int):
        """The weights in ``dtype``, shaped ``(K, n, 1, …)`` to broadcast along ``dim`` of an ``ndim``-d array."""
        if self.weight is None:
            return None
        key = (np.dtype(dtype), ndim - dim)
        if key not in self._cast:
            self._cast[key] = self.weight.astype(dtype).reshape(self.weight.shape + (1,) * (ndim - dim - 1))
        return self._cast[key]

    def transposed(self) -> Taps:
        if self._transposed is None:
            xp = array_module(self.index)
            k, n = self.index.shape
            source = self.index.reshape(-1)
            target = xp.tile(xp.arange(n), k)
            weight = xp.ones(k * n) if self.weight is None else self.weight.reshape(-1)
            # one entry per (input i, output j) pair that carries weight, sorted by i then j
            kept = weight != 0
            key = source[kept] * n + target[kept]
            order = xp.argsort(key, kind="stable")
            key, first = xp.unique(key[order], return_index=True)
            summed = xp.add.reduceat(weight[kept][order], first)
            source, target = key // n, key % n
            counts = xp.bincount(source, minlength=self.size_in)
            rank = xp.arange(len(source)) - (xp.cumsum(counts) - counts)[source]
            index = xp.zeros((int(counts.max()), self.size_in), xp.int64)
            weights = xp.zeros(index.shape, summed.dtype)
            index[rank, source], weights[rank, source] = target, summed
            every_one = bool((weights == 1).all())
            self._transposed = Taps(index, None if every_one else weights, n)
            self._transposed._transposed = self
        return self._transposed


def _blend(a: np.ndarray, dim: int, taps: Taps) -> np.ndarray:
    """``Σ_k weight[k]·a[index[k]]`` along ``dim``: one gather and one multiply-add per tap."""
    xp = array_module(a)
    weight = taps.weights(a.dtype, dim, a.ndim)
    out = xp.take(a, taps.index[0], axis=dim)
    if weight is not None:
        out *= weight[0]  # the order of PyTorch's kernel: w0·x0, then + w1·x1
    buffer = xp.empty_like(out) if len(taps.index) > 1 else None
    for k in range(1, len(taps.index)):  # over the taps (2 for linear), not the samples
        xp.take(a, taps.index[k], axis=dim, out=buffer)
        if weight is not None:
            buffer *= weight[k]
        out += buffer
    return out


class Interpolate(Function):
    """The map of :class:`Taps` along ``dim`` — or, with ``adjoint=True``, its transpose (each output
    gradient added, weighted, onto the samples it was read from). Both are linear, so each one's jvp
    is itself applied to the tangent and its vjp is the other one."""

    def __init__(self, dim: int, taps: Taps, adjoint: bool = False) -> None:
        self.dim, self.taps, self.adjoint = dim, taps, adjoint

    def forward(self, x: Tensor) -> np.ndarray:
        return _blend(x._data, self.dim, self.taps.transposed() if self.adjoint else self.taps)

    def vjp(self, grad: Tensor) -> Tensor:
        return Interpolate.apply(grad, dim=self.dim, taps=self.taps, adjoint=not self.adjoint)

    def jvp(self, dx: Tensor) -> Tensor:
        return Interpolate.apply(dx, dim=self.dim, taps=self.taps, adjoint=self.adjoint)


def taps(xp: ModuleType, mode: str, size_in: int, size_out: int, scale: float | None, align_corners: bool,
         dtype, kernel_2d: bool = False) -> Taps | None:
    """The samples and weights of one axis resized from ``size_in`` to ``size_out``, with the index
    arithmetic of PyTorch's CPU kernels (ATen UpSample.h, UpSampleKernel.cpp), or None where the
    axis is left as it is.

    Output j sits at the input position ``p = j·ratio`` (nearest, and linear with align_corners) or
    ``p = max((j + ½)·ratio − ½, 0)`` (linear, nearest-exact), ``ratio = 1/scale`` when a scale
    factor was given, else ``size_in/size_out`` (they differ once the output size has been rounded
    down); align_corners maps corner centres onto each other, ``ratio = (size_in − 1)/(size_out − 1)``.
    Nearest reads ``floor(p)`` (nearest-exact ``floor(p + ½)``); linear blends ``floor(p)`` and the
    next sample with weights ``1 − λ`` and ``λ = p − floor(p)`` (the last sample with itself).

    Args:
        xp: the array module the indices are built with.
        mode: ``'nearest'``, ``'nearest-exact'`` or ``'linear'`` (one axis of bilinear/trilinear).
        scale: the user's ``scale_factor`` for this axis, or None.
        align_corners: (linear only) see above.
        dtype: the input's dtype. Positions are computed in float32 unless it is float64 (PyTorch's
            opmath type) and rounded to float32 before the floor, as ``floorf`` does there, so that
            every floor lands on the sample PyTorch's does.
        kernel_2d: (nearest modes) follow PyTorch's kernel for 2 spatial dims, which computes in
            float32 whatever the dtype and, for 'nearest', copies an axis whose size is kept and
            reads ⌊j/2⌋ on an axis whose size doubles, whatever the scale factor (its 1-d and 3-d
            kernels apply the formula throughout).
    """
    shortcuts = kernel_2d and mode == "nearest"
    if size_out == size_in and (mode == "linear" or shortcuts):
        return None  # PyTorch copies an axis whose size is kept (whatever the scale factor)
    if shortcuts and size_out == 2 * size_in:
        return Taps(xp.arange(size_out)[None] // 2, None, size_in)
    real = np.float64 if np.dtype(dtype) == np.float64 and not kernel_2d else np.float32
    if align_corners:
        ratio = real(size_in - 1) / real(size_out - 1) if size_out > 1 else real(0)
    else:
        ratio = real(1.0 / scale) if scale else real(size_in) / real(size_out)
    j = xp.arange(size_out, dtype=real)
    if mode == "nearest" or align_corners:
        position = j * ratio
    else:
        # PyTorch's build contracts ratio·(j + ½) − ½ into one fused multiply-add: for float32 the
        # float64 product is exact, so one rounding at the end gives the fused result
        centre = (ratio.astype(np.float64) * (j + real(0.5)).astype(np.float64) - 0.5).astype(real)
        position = xp.maximum(centre, real(0))
    floor = xp.floor((position + real(0.5) if mode == "nearest-exact" else position).astype(np.float32))
    lo = xp.minimum(floor.astype(np.int64), size_in - 1)
    if mode != "linear":
        return None if size_out == size_in and bool((lo == j).all()) else Taps(lo[None], None, size_in)
    w_hi = xp.clip(position - lo, real(0), real(1)).astype(real)
    return Taps(xp.stack([lo, lo + (lo < size_in - 1)]), xp.stack([real(1) - w_hi, w_hi]), size_in)


def interpolate_axes(input: Tensor, plan: list[tuple[int, Taps | None]]) -> Tensor:
    """``input`` resampled along each ``(dim, taps)`` of ``plan``, the last axis first (PyTorch's
    kernel blends the innermost axis first, so the roundings agree)."""
    out = input
    for dim, t in reversed(plan):
        if t is not None:
            out = Interpolate.apply(out, dim=dim, taps=t)
    return out


# ----------------------------------------------------------------------------- pixel and channel shuffles

def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Rearrange ``(*, C·r², H, W)`` into ``(*, C, H·r, W·r)`` (Shi et al. 2016, sub-pixel
    convolution): the r² channels of each output channel become an r×r block of pixels,
    ``out[c, h·r + i, w·r + j] = in[c·r² + i·r + j, h, w]``. A reshape, a permute and a reshape, so its
    derivatives are the inverse rearrangement. Inverse: :func:`pixel_unshuffle`.

    Example::

        >>> F.pixel_shuffle(fk.arange(8.0).reshape(1, 4, 1, 2), 2).shape
        fukaku.Size([1, 1, 2, 4])
    """
    r = check_int(upscale_factor, "upscale_factor", "pixel_shuffle")
    if input.ndim < 3:
        raise ShapeError(f"pixel_shuffle: expected an input of shape (*, C·r², H, W) with at least 3 dims, got shape "
                         f"{fmt(input.shape)}")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise ShapeError(f"pixel_shuffle: the channel dim (-3) of the input of shape {fmt(input.shape)} has {c} "
                         f"channels, not divisible by upscale_factor² = {r * r}; give the layer before it a multiple "
                         f"of {r * r} output channels")
    k = len(lead)
    x = reshape(input, (*lead, c // (r * r), r, r, h, w))
    x = permute(x, (*range(k), k, k + 3, k + 1, k + 4, k + 2))
    return reshape(x, (*lead, c // (r * r), h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """Rearrange ``(*, C, H·r, W·r)`` into ``(*, C·r², H, W)``, the inverse of :func:`pixel_shuffle`:
    each r×r block of pixels becomes r² channels."""
    r = check_int(downscale_factor, "downscale_factor", "pixel_unshuffle")
    if input.ndim < 3:
        raise ShapeError(f"pixel_unshuffle: expected an input of shape (*, C, H·r, W·r) with at least 3 dims, got "
                         f"shape {fmt(input.shape)}")
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise ShapeError(f"pixel_unshuffle: height and width of the input of shape {fmt(input.shape)} must be "
                         f"divisible by downscale_factor = {r}; crop or pad the input to a multiple of {r}")
    k = len(lead)
    x = reshape(input, (*lead, c, h // r, r, w // r, r))
    x = permute(x, (*range(k), k, k + 2, k + 4, k + 1, k + 3))
    return reshape(x, (*lead, c * r * r, h // r, w // r))


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleave the channels of ``groups`` groups (ShuffleNet, Zhang et al. 2018): ``(N, C, *)``
    viewed as ``(N, groups, C/groups, *)``, its dims 1 and 2 swapped, flattened back; channel
    ``g·(C/groups) + i`` moves to ``i·groups + g``."""
    g = check_int(groups, "groups", "channel_shuffle")
    if input.ndim < 3:
        raise ShapeError(f"channel_shuffle: expected an input of shape (N, C, *) with more than 2 dims, got shape "
                         f"{fmt(input.shape)}")
    n, c, *rest = input.shape
    if c % g:
        raise ShapeError(f"channel_shuffle: the {c} channels of the input of shape {fmt(input.shape)} do not split "
                         f"into groups={g} groups of equal size; use a number of groups that divides {c}")
    x = reshape(input, (n, g, c // g, *rest))
    x = permute(x, (0, 2, 1, *range(3, x.ndim)))
    return reshape(x, input.shape)
