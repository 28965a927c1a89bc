"""Resizing feature maps, under PyTorch's name for it (``torch.nn.functional.interpolate``, the
functional form of :class:`~fukaku.nn.Upsample`), and the pixel and channel shuffles.

``interpolate`` checks its arguments here and resamples one spatial axis at a time through the
graph nodes of :mod:`fukaku.ops.resample` (a gather and a blend forward, their transpose backward).
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np

from ...backends import array_module
from ...errors import ShapeError
from ...ops._util import fmt
from ...ops.resample import channel_shuffle, interpolate_axes, pixel_shuffle, pixel_unshuffle, taps
from ...tensor import Tensor

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle", "pixel_unshuffle",
           "channel_shuffle"]

# each mode, the one-axis rule it applies along every spatial axis, and the input ranks it takes
_MODES = {"nearest": ("nearest", (3, 4, 5)), "nearest-exact": ("nearest-exact", (3, 4, 5)),
          "linear": ("linear", (3,)), "bilinear": ("linear", (4,)), "trilinear": ("linear", (5,))}
_LAYOUT = {3: "(N, C, L)", 4: "(N, C, H, W)", 5: "(N, C, D, H, W)"}


def _per_axis(value, n: int, name: str, input: Tensor) -> list:
    """``value`` (one number or one per spatial axis) as a list of ``n``."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ShapeError(f"interpolate: {name}={tuple(value)} gives {len(value)} sizes for an input of shape "
                             f"{fmt(input.shape)} with {n} spatial dims; give one per spatial dim, or a single number")
        return list(value)
    return [value] * n


def interpolate(input: Tensor, size: int | Sequence[int] | None = None,
                scale_factor: float | Sequence[float] | None = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dims of ``(N, C, L)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)`` inputs to
    ``size``, or by ``scale_factor`` (output size ⌊in · scale⌋), as ``torch.nn.functional.interpolate``.

    Modes: ``'nearest'`` (output j reads input ⌊j · in/out⌋, PyTorch's and OpenCV's rule),
    ``'nearest-exact'`` (⌊(j + ½) · in/out⌋, the centre rule of PIL and scikit-image), and the
    linear family ``'linear'`` (3-d), ``'bilinear'`` (4-d), ``'trilinear'`` (5-d), which blend the two
    nearest samples along each axis. ``align_corners=True`` (linear modes) maps the corner pixels'
    centres onto each other, so corner values are kept; the default False treats pixels as unit
    squares. With ``scale_factor`` given, positions are computed with 1/scale_factor unless
    ``recompute_scale_factor=True``, as in PyTorch (they differ when in · scale is not an integer).

    Differentiable to any order (the map is linear in the input). Not available: ``'bicubic'``,
    ``'area'`` (see adaptive average pooling), ``antialias=True``.

    Shape: ``(N, C, *in)`` → ``(N, C, *out)``.

    Example::

        >>> x = fk.arange(4.0).reshape(1, 1, 2, 2)
        >>> F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)[0, 0, 0]
        tensor([0.0000, 0.3333, 0.6667, 1.0000])
    """
    if mode not in _MODES:
        hint = "; use adaptive average pooling for 'area'" if mode == "area" else ""
        raise NotImplementedError(f"interpolate: mode {mode!r} is not available; the modes are "
                                  f"{', '.join(map(repr, _MODES))}{hint}")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not available; blur the input before "
                                  "downsampling, or use antialias=False")
    rule, ranks = _MODES[mode]
    if rule != "linear" and align_corners is not None:
        raise ValueError("interpolate: align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | trilinear")
    if input.ndim not in ranks:
        wanted = " or ".join(f"{r}-d {_LAYOUT[r]}" for r in ranks)
        raise ShapeError(f"interpolate: mode {mode!r} needs a {wanted} input, got shape {fmt(input.shape)} "
                         f"({input.ndim}-d)" + ("" if input.ndim in _LAYOUT else "; add the batch or channel dim "
                                                "with unsqueeze(0)"))
    if rule == "linear" and not input.is_floating_point():
        raise TypeError(f"interpolate: mode {mode!r} needs a floating-point input, got {input.dtype}; convert it "
                        "with x.float()")
    n = input.ndim - 2
    in_sizes = list(input.shape[2:])
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor"
                         + ("" if size is None else f", got size={size!r} and scale_factor={scale_factor!r}"))
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("interpolate: recompute_scale_factor is not meaningful with an explicit size")
        out_sizes = _per_axis(size, n, "size", input)
        if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in out_sizes):
            raise TypeError(f"interpolate: size must be an int or a tuple of ints, got {size!r}")
        scales: list = [None] * n
    else:
        scales = [float(s) for s in _per_axis(scale_factor, n, "scale_factor", input)]
        if not all(s > 0 and math.isfinite(s) for s in scales):
            raise ValueError(f"interpolate: scale_factor must be positive and finite, got {scale_factor!r}")
        out_sizes = [math.floor(i * s) for i, s in zip(in_sizes, scales)]
        if recompute_scale_factor:
            scales = [None] * n
    out_sizes = [int(s) for s in out_sizes]
    if min(in_sizes) <= 0 or min(out_sizes) <= 0:
        raise ShapeError(f"interpolate: input and output sizes should be greater than 0, got an input of shape "
                         f"{fmt(input.shape)} and an output size {tuple(out_sizes)}"
                         + (f" (scale_factor {scale_factor!r})" if scale_factor is not None else ""))
    xp = array_module(input._data)
    kernel_2d = rule != "linear" and n == 2  # PyTorch's 2-d nearest kernels have their own arithmetic (see taps)
    plan = [(2 + k, taps(xp, rule, i, o, s, bool(align_corners), input._data.dtype, kernel_2d))
            for k, (i, o, s) in enumerate(zip(in_sizes, out_sizes, scales))]
    return interpolate_axes(input, plan)


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Deprecated in PyTorch: :func:`interpolate` with the same arguments (warns, as PyTorch does)."""
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated in PyTorch: ``interpolate(input, size, scale_factor, mode='nearest')``."""
    warnings.warn("nn.functional.upsample_nearest is deprecated. Use nn.functional.interpolate instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated in PyTorch: ``interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)``."""
    warnings.warn("nn.functional.upsample_bilinear is deprecated. Use nn.functional.interpolate instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
