"""The tensor side of :mod:`fukaku.vision.transforms.functional`: images ``(..., C, H, W)`` (or
``(H, W)``) as fukaku tensors.

Every geometric transform is one gather: index arrays say which input pixel each output pixel
reads (a crop, a flip, a padding mode, a rotation's nearest or four bilinear neighbours), and the
image is indexed once with them (``img[..., rows, cols]``); constant fill is a ``where`` on a mask.
Resizing multiplies by a resampling matrix along each axis (``Wh @ img @ Wwᵀ``). All of it is made
of fukaku ops, so a transform of a tensor that requires grad is differentiable, as torchvision's
tensor transforms are. The index and weight arrays come from the image's array module.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

import fukaku as fk

from ...backends import array_module, default_module
from ...errors import ShapeError
from ...tensor import Tensor, wrap

PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


def assert_image_tensor(img: Tensor, op: str) -> None:
    if not isinstance(img, Tensor):
        raise TypeError(f"{op}: expected a tensor image, got {type(img).__name__}")
    if img.ndim < 2:
        raise ShapeError(f"{op}: a tensor image has shape (..., H, W) with at least 2 dimensions, got shape "
                         f"{tuple(img.shape)}")


def get_dimensions(img: Tensor) -> list[int]:
    """``[channels, height, width]`` of a tensor image (1 channel for ``(H, W)``)."""
    assert_image_tensor(img, "get_dimensions")
    channels = 1 if img.ndim == 2 else img.shape[-3]
    return [channels, img.shape[-2], img.shape[-1]]


def _fill_tensor(fill, img: Tensor, op: str) -> Tensor:
    """``fill`` (a number, or one per channel) in the image's dtype, shaped to broadcast against
    ``(..., C, H, W)``; a float fill of an integer image is truncated, as torch casts it."""
    xp = array_module(img._data)
    values = xp.asarray(fill if isinstance(fill, (list, tuple)) else [fill], dtype=np.float64)
    channels = get_dimensions(img)[0]
    if values.ndim != 1 or len(values) not in (1, channels):
        raise ValueError(f"{op}: fill {fill!r} must be a number or one value per channel ({channels} channels)")
    return wrap(values.astype(img._data.dtype).reshape((-1, 1, 1) if img.ndim >= 3 else (1, 1)))


# ----------------------------------------------------------------------------- index maps
def axis_source(n: int, before: int, after: int, mode: str, op: str, xp=None):
    """Which input index each output index reads along an axis of ``n`` pixels padded by ``before``
    and ``after`` (negative values crop), under padding ``mode``; and, for ``constant``, which
    outputs are inside the input (None when all are).

    ``reflect`` mirrors about the edge pixel (``2 1 | 0 1 2``, pad < n), ``symmetric`` repeats it
    (``1 0 | 0 1 2``, pad ≤ n), ``edge`` repeats the edge pixel, ``constant`` marks the outside.
    """
    xp = default_module() if xp is None else xp
    size = n + before + after
    if size < 0:
        raise ShapeError(f"{op}: padding ({before}, {after}) crops an axis of {n} pixels below size 0")
    src = xp.arange(size, dtype=np.int64) - before
    if mode == "constant" or n == 0:
        if mode != "constant" and size:
            raise ShapeError(f"{op}: padding mode {mode!r} cannot pad an empty axis; use padding_mode='constant'")
        inside = (src >= 0) & (src < n)
        return xp.clip(src, 0, max(n - 1, 0)), (None if bool(inside.all()) else inside)
    if mode == "edge":
        return xp.clip(src, 0, n - 1), None
    limit = n - 1 if mode == "reflect" else n
    if max(before, after) > limit:
        bound = "less than" if mode == "reflect" else "at most"
        raise ShapeError(f"{op}: padding ({before}, {after}) with padding_mode={mode!r} must be {bound} the "
                         f"axis size {n}; use 'edge' or 'constant' for wider padding")
    if mode == "reflect":
        src = xp.where(src < 0, -src, src)
        return xp.where(src >= n, 2 * (n - 1) - src, src), None
    if mode == "symmetric":
        src = xp.where(src < 0, -src - 1, src)
        return xp.where(src >= n, 2 * n - 1 - src, src), None
    raise ValueError(f"{op}: padding_mode must be one of {', '.join(PADDING_MODES)}, got {mode!r}")


def gather(img: Tensor, rows, cols, row_inside=None, col_inside=None, fill=0) -> Tensor:
    """``img[..., rows[:, None], cols[None, :]]`` in one indexing, with ``fill`` where a row or
    column is marked outside the image."""
    out = img[..., rows[:, None], cols[None, :]]
    if row_inside is None and col_inside is None:
        return out
    xp = array_module(img._data)
    inside = ((xp.ones(len(rows), dtype=bool) if row_inside is None else row_inside)[:, None]
              & (xp.ones(len(cols), dtype=bool) if col_inside is None else col_inside)[None, :])
    return fk.where(wrap(inside), out, _fill_tensor(fill, img, "pad"))


# ----------------------------------------------------------------------------- crops, flips, padding
def crop(img: Tensor, top: int, left: int, height: int, width: int) -> Tensor:
    """``img[..., top:top+height, left:left+width]`` (a view); parts outside the image are zeros."""
    assert_image_tensor(img, "crop")
    h, w = img.shape[-2:]
    if height < 0 or width < 0:
        raise ValueError(f"crop: height and width must be non-negative, got ({height}, {width})")
    if top >= 0 and left >= 0 and top + height <= h and left + width <= w:
        return img[..., top:top + height, left:left + width]
    return pad(img, [-left, -top, left + width - w, top + height - h], 0, "constant")


def pad(img: Tensor, ltrb: Sequence[int], fill=0, padding_mode: str = "constant") -> Tensor:
    """Pad (or, with negative values, crop) the last two axes by ``(left, top, right, bottom)``."""
    assert_image_tensor(img, "pad")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"pad: padding_mode should be one of {', '.join(PADDING_MODES)}, got {padding_mode!r}")
    left, top, right, bottom = (int(p) for p in ltrb)
    xp = array_module(img._data)
    rows, row_inside = axis_source(img.shape[-2], top, bottom, padding_mode, "pad", xp)
    cols, col_inside = axis_source(img.shape[-1], left, right, padding_mode, "pad", xp)
    return gather(img, rows, cols, row_inside, col_inside, fill)


def hflip(img: Tensor) -> Tensor:
    assert_image_tensor(img, "hflip")
    return img.flip(-1)


def vflip(img: Tensor) -> Tensor:
    assert_image_tensor(img, "vflip")
    return img.flip(-2)


def batch_crop(img: Tensor, top, left, height: int, width: int, hflip=None, vflip=None,
               padding: Sequence[int] = (0, 0, 0, 0), fill=0, padding_mode: str = "constant") -> Tensor:
    """Per-sample windows of a batch ``(N, ..., H, W)``, taken with one gather: sample ``n`` is
    padded by ``padding`` (left, top, right, bottom), cropped to ``height × width`` at
    ``(top[n], left[n])`` of the padded image, and flipped where ``hflip[n]`` / ``vflip[n]``."""
    assert_image_tensor(img, "batch_crop")
    if img.ndim < 3:
        raise ShapeError(f"batch_crop: expected a batch (N, ..., H, W), got shape {tuple(img.shape)}")
    xp = array_module(img._data)
    n, h, w = img.shape[0], img.shape[-2], img.shape[-1]
    pl, pt, pr, pb = (int(p) for p in padding)
    top = xp.asarray(top, dtype=np.int64).reshape(-1)
    left = xp.asarray(left, dtype=np.int64).reshape(-1)
    for name, v, limit in (("top", top, h + pt + pb - height), ("left", left, w + pl + pr - width)):
        if v.shape != (n,):
            raise ShapeError(f"batch_crop: {name} has shape {tuple(v.shape)}; give one offset per sample, ({n},)")
        if v.size and (v.min() < 0 or v.max() > limit):
            raise ValueError(f"batch_crop: {name} offsets must lie in [0, {limit}] for a {height}×{width} window of "
                             f"the padded {h + pt + pb}×{w + pl + pr} image, got [{v.min()}, {v.max()}]")
    rows_map, row_inside = axis_source(h, pt, pb, padding_mode, "batch_crop", xp)
    cols_map, col_inside = axis_source(w, pl, pr, padding_mode, "batch_crop", xp)
    r = xp.arange(height)[None, :]
    c = xp.arange(width)[None, :]
    if vflip is not None:
        r = xp.where(xp.asarray(vflip, dtype=bool).reshape(n, 1), height - 1 - r, r)
    if hflip is not None:
        c = xp.where(xp.asarray(hflip, dtype=bool).reshape(n, 1), width - 1 - c, c)
    rows = top[:, None] + r  # (N, height) positions in the padded image
    cols = left[:, None] + c
    flat = img.reshape(n, -1, h, w)  # (N, M, H, W): the middle axes as one
    m = flat.shape[1]
    key = (xp.arange(n)[:, None, None, None], xp.arange(m)[None, :, None, None],
           rows_map[rows][:, None, :, None], cols_map[cols][:, None, None, :])
    out = flat[key]
    if row_inside is not None or col_inside is not None:
        inside = ((xp.ones_like(rows, dtype=bool) if row_inside is None else row_inside[rows])[:, :, None]
                  & (xp.ones_like(cols, dtype=bool) if col_inside is None else col_inside[cols])[:, None, :])
        if isinstance(fill, (list, tuple)):
            raise TypeError(f"batch_crop: fill must be a number for tensors, got {fill!r}")
        out = fk.where(wrap(inside[:, None]), out, wrap(xp.asarray(fill).astype(img._data.dtype)))
    return out.reshape(*img.shape[:-2], height, width)


# ----------------------------------------------------------------------------- resampling
def _as_float(img: Tensor) -> tuple[Tensor, object]:
    """The image in a floating dtype for interpolation (float32 for integer images), and the dtype to
    return (torchvision rounds back to an integer dtype)."""
    if img.dtype.is_floating_point:
        return img, None
    return img.to(fk.float32), img.dtype


def _back(img: Tensor, out_dtype) -> Tensor:
    if out_dtype is None:
        return img
    return img.round().to(out_dtype)  # torch.round: half to even, as torchvision


def _aa_filter(kind: str, x, xp):
    """PIL's (and torch's antialiased) filters: triangle for bilinear, Keys a = −0.5 for bicubic."""
    x = xp.abs(x)
    if kind == "bilinear":
        return xp.where(x < 1, 1 - x, 0.0)
    a = -0.5
    return xp.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                    xp.where(x < 2, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, 0.0))


def resize_weights(in_size: int, out_size: int, mode: str, antialias: bool, xp=None):
    """The ``(out_size, in_size)`` matrix that resamples one axis, float64.

    ``bilinear``/``bicubic`` with ``antialias`` follow PIL's ``ImagingResample`` (and torch's
    ``_upsample_*_aa``): output pixel i centred at ``c = (i + ½)·s`` in the input (s = in/out)
    takes the filter, widened by s when shrinking, at every input pixel centre within its support,
    normalised to sum 1. Without antialias, bilinear is the same filter not widened (torch's
    ``align_corners=False`` rule with clamped borders), and bicubic is torch's: Keys a = −0.75 at
    the four pixels around ``c − ½``, indices clamped to the border.
    """
    xp = default_module() if xp is None else xp
    scale = in_size / out_size
    i = xp.arange(out_size, dtype=np.float64)[:, None]
    j = xp.arange(in_size, dtype=np.float64)[None, :]
    if mode == "bicubic" and not antialias:
        src = scale * (i[:, 0] + 0.5) - 0.5
        x0 = xp.floor(src)
        t = src - x0
        a = -0.75
        near = lambda d: ((a + 2) * d - (a + 3)) * d * d + 1  # noqa: E731  |d| < 1
        far = lambda d: ((a * d - 5 * a) * d + 8 * a) * d - 4 * a  # noqa: E731  1 ≤ |d| < 2
        taps = [far(t + 1), near(t), near(1 - t), far(2 - t)]
        weights = xp.zeros((out_size, in_size))
        rows = xp.arange(out_size)
        for k, wk in enumerate(taps):  # four taps: a loop over the kernel, not the pixels
            idx = xp.clip(x0 + k - 1, 0, in_size - 1).astype(np.int64)
            xp.add.at(weights, (rows, idx), wk)
        return weights
    support = (1.0 if mode == "bilinear" else 2.0) * (scale if antialias and scale >= 1 else 1.0)
    invscale = 1 / scale if antialias and scale >= 1 else 1.0
    centre = scale * (i + 0.5)
    lo = xp.maximum(xp.trunc(centre - support + 0.5), 0)
    hi = xp.minimum(xp.trunc(centre + support + 0.5), in_size)
    weights = _aa_filter(mode, (j - centre + 0.5) * invscale, xp) * ((j >= lo) & (j < hi))
    total = weights.sum(axis=1, keepdims=True)
    return weights / xp.where(total == 0, 1, total)


def nearest_index(in_size: int, out_size: int, exact: bool, xp=None):
    """torch's nearest rules: output j reads ⌊j·s⌋ (``nearest``) or ⌊(j + ½)·s⌋ (``nearest-exact``),
    s = in/out computed in float32 as torch does, clamped to the last pixel."""
    xp = default_module() if xp is None else xp
    if out_size == in_size:
        return xp.arange(out_size)
    scale = np.float32(in_size) / np.float32(out_size)
    j = xp.arange(out_size, dtype=np.float64)
    src = (j + 0.5) * np.float64(scale) if exact else (j.astype(np.float32) * scale)
    return xp.minimum(xp.floor(src.astype(np.float32)).astype(np.int64), in_size - 1)


def resize(img: Tensor, size: Sequence[int], interpolation: str = "bilinear", antialias: bool = True) -> Tensor:
    """Resample the last two axes to ``size = [height, width]`` (torchvision's tensor rules)."""
    assert_image_tensor(img, "resize")
    oh, ow = (int(s) for s in size)
    if oh <= 0 or ow <= 0:
        raise ValueError(f"resize: the output size must be positive, got {[oh, ow]}")
    h, w = img.shape[-2:]
    xp = array_module(img._data)
    if interpolation in ("nearest", "nearest-exact"):
        exact = interpolation == "nearest-exact"
        return img[..., nearest_index(h, oh, exact, xp)[:, None], nearest_index(w, ow, exact, xp)[None, :]]
    if interpolation not in ("bilinear", "bicubic"):
        raise ValueError(f"resize: interpolation {interpolation!r} is not available for tensors; use nearest, "
                         "nearest-exact, bilinear or bicubic (or a PIL image for box, hamming and lanczos)")
    x, out_dtype = _as_float(img)
    dtype = x._data.dtype
    wh = wrap(resize_weights(h, oh, interpolation, antialias, xp).astype(dtype))
    ww = wrap(resize_weights(w, ow, interpolation, antialias, xp).T.astype(dtype))
    out = fk.matmul(fk.matmul(wh, x), ww)
    if interpolation == "bicubic" and out_dtype == fk.uint8:
        out = out.clamp(0, 255)
    return _back(out, out_dtype)


# ----------------------------------------------------------------------------- affine sampling
def inverse_affine_matrix(center: Sequence[float], angle: float, translate: Sequence[float], scale: float,
                          shear: Sequence[float]) -> list[float]:
    """torchvision's ``_get_inverse_affine_matrix``: the 2×3 matrix mapping output pixel coordinates
    (relative to the image centre) to input ones, for a rotation by ``angle`` degrees (clockwise in
    these y-down coordinates; rotate() passes −angle), a scale, a shear and a translation about
    ``center``."""
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    matrix = [x / scale for x in (d, -b, 0.0, -c, a, 0.0)]
    matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty) + cx
    matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty) + cy
    return matrix


def affine_output_size(matrix: Sequence[float], w: int, h: int) -> tuple[int, int]:
    """``(width, height)`` that holds the whole transformed image (``expand=True``), as torchvision
    computes it: the corners' bounding box, truncated to 1e-4 before rounding outwards."""
    pts = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0], [0.5 * w, 0.5 * h, 1.0],
                    [0.5 * w, -0.5 * h, 1.0]], dtype=np.float32)
    theta = np.asarray(matrix, dtype=np.float32).reshape(2, 3)
    new = pts @ theta.T
    half = np.array([0.5 * w, 0.5 * h], dtype=np.float32)
    lo, hi = new.min(axis=0) + half, new.max(axis=0) + half
    tol = np.float32(1e-4)
    size = np.ceil(np.trunc(hi / tol) * tol) - np.floor(np.trunc(lo / tol) * tol)
    return int(size[0]), int(size[1])


def affine_sample(img: Tensor, matrix: Sequence[float], interpolation: str, fill, expand: bool = False) -> Tensor:
    """Sample ``img`` at the points ``matrix`` maps the output pixel centres to (torchvision's affine
    grid and ``grid_sample(align_corners=False, padding_mode='zeros')``), with ``nearest`` (round
    half to even) or ``bilinear`` interpolation; where ``fill`` is given, pixels from outside the
    image are blended towards it by the sampled in-image mask, as torchvision does."""
    assert_image_tensor(img, "rotate")
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"rotate: interpolation must be nearest or bilinear for tensors, got {interpolation!r}")
    xp = array_module(img._data)
    h, w = img.shape[-2:]
    ow, oh = affine_output_size(matrix, w, h) if expand else (w, h)
    m = [float(v) for v in matrix]
    x = xp.arange(ow, dtype=np.float64)[None, :] - (ow - 1) / 2
    y = xp.arange(oh, dtype=np.float64)[:, None] - (oh - 1) / 2
    ix = m[0] * x + m[1] * y + m[2] + (w - 1) / 2  # grid_sample's unnormalised input coordinates
    iy = m[3] * x + m[4] * y + m[5] + (h - 1) / 2
    x_img, out_dtype = _as_float(img)
    dtype = x_img._data.dtype
    if interpolation == "nearest":
        cx, cy = xp.rint(ix).astype(np.int64), xp.rint(iy).astype(np.int64)
        inside = (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)
        outside = wrap(xp.zeros((), dtype)) if fill is None else _fill_tensor(fill, x_img, "rotate")
        out = fk.where(wrap(inside), x_img[..., xp.clip(cy, 0, h - 1), xp.clip(cx, 0, w - 1)], outside)
        return _back(out, out_dtype)
    x0, y0 = xp.floor(ix), xp.floor(iy)
    out, mask = None, xp.zeros(ix.shape)
    for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):  # the four neighbours: a loop over the kernel
        cx, cy = x0 + dx, y0 + dy
        weight = (1 - xp.abs(ix - cx)) * (1 - xp.abs(iy - cy)) * ((cx >= 0) & (cx < w) & (cy >= 0) & (cy < h))
        mask = mask + weight
        term = x_img[..., xp.clip(cy, 0, h - 1).astype(np.int64), xp.clip(cx, 0, w - 1).astype(np.int64)] \
            * wrap(weight.astype(dtype))
        out = term if out is None else out + term
    if fill is not None:
        mask_t = wrap(mask.astype(dtype))
        out = out * mask_t + (1.0 - mask_t) * _fill_tensor(fill, x_img, "rotate")
    return _back(out, out_dtype)


def rotate(img: Tensor, angle: float, interpolation: str = "nearest", expand: bool = False,
           center: Sequence[int] | None = None, fill=None) -> Tensor:
    """Rotate by ``angle`` degrees counter-clockwise about ``center`` (default: the image centre)."""
    assert_image_tensor(img, "rotate")
    center_f = [0.0, 0.0]
    if center is not None:
        h, w = img.shape[-2:]
        center_f = [float(c) - s * 0.5 for c, s in zip(center, (w, h), strict=True)]
    matrix = inverse_affine_matrix(center_f, -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    return affine_sample(img, matrix, interpolation, fill, expand)


# ----------------------------------------------------------------------------- values
def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> Tensor:
    """``(tensor − mean[c]) / std[c]`` per channel of a float tensor ``(..., C, H, W)``."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"normalize: img should be a tensor image, got {type(tensor).__name__}")
    if not tensor.is_floating_point():
        raise TypeError(f"normalize: input tensor should be a float tensor, got {tensor.dtype}; convert it with "
                        "ToTensor() or .float() first")
    if tensor.ndim < 3:
        raise ShapeError(f"normalize: expected a tensor image of size (..., C, H, W), got shape "
                         f"{tuple(tensor.shape)}")
    xp = array_module(tensor._data)
    dtype = tensor._data.dtype
    m = xp.asarray(mean, dtype=dtype)
    s = xp.asarray(std, dtype=dtype)
    if bool((s == 0).any()):
        raise ValueError(f"normalize: std evaluated to zero after conversion to {tensor.dtype}, leading to "
                         "division by zero")
    channels = tensor.shape[-3]
    for name, v in (("mean", m), ("std", s)):
        if v.ndim > 1 or v.size not in (1, channels):
            raise ShapeError(f"normalize: {name} has {v.size} values for {channels} channels (shape "
                             f"{tuple(tensor.shape)}); give one per channel or a single one")
    m, s = wrap(m.reshape(-1, 1, 1)), wrap(s.reshape(-1, 1, 1))
    if inplace:
        return tensor.sub_(m).div_(s)
    return (tensor - m) / s
