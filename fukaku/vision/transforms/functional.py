"""The functions behind the transforms, with the names and arguments of
``torchvision.transforms.functional`` (``import fukaku.vision.transforms.functional as TF``).

Each takes a PIL image or a tensor image ``(..., C, H, W)`` and returns the same kind: a PIL image
goes through Pillow as in torchvision; a tensor goes through fukaku ops (differentiable, one gather
per geometric transform; see :mod:`._functional_tensor`). :func:`batch_crop` is fukaku's own: the
per-sample crops and flips of a batch in one gather, for the ``Batch*`` transforms.
"""
from __future__ import annotations

import numbers
import sys
import warnings
from collections.abc import Sequence
from enum import Enum

import numpy as np

from ...tensor import Tensor, from_numpy
from .._pil import is_pil_image, require_pil
from . import _functional_pil as F_pil
from . import _functional_tensor as F_t

__all__ = ["InterpolationMode", "get_dimensions", "get_image_size", "get_image_num_channels", "to_tensor",
           "pil_to_tensor", "to_pil_image", "normalize", "resize", "crop", "center_crop", "pad", "hflip", "vflip",
           "rotate", "batch_crop"]


class InterpolationMode(Enum):
    """How pixels between samples are computed (torchvision's names; Pillow has them all, tensors
    ``NEAREST``, ``NEAREST_EXACT``, ``BILINEAR`` and ``BICUBIC``)."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# Pillow's resampling constants (Image.Resampling.NEAREST == 0 ...), as torchvision maps them
_PIL_MODES = {InterpolationMode.NEAREST: 0, InterpolationMode.NEAREST_EXACT: 0, InterpolationMode.BILINEAR: 2,
              InterpolationMode.BICUBIC: 3, InterpolationMode.BOX: 4, InterpolationMode.HAMMING: 5,
              InterpolationMode.LANCZOS: 1}
_FROM_INT = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
             4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}


def interpolation_mode(value, op: str) -> InterpolationMode:
    """An :class:`InterpolationMode` from itself, its value (``"bilinear"``) or Pillow's integer."""
    if isinstance(value, InterpolationMode):
        return value
    if isinstance(value, str):
        try:
            return InterpolationMode(value)
        except ValueError:
            pass
    if isinstance(value, int) and not isinstance(value, bool) and value in _FROM_INT:
        return _FROM_INT[value]
    raise TypeError(f"{op}: interpolation should be an InterpolationMode or a corresponding Pillow integer constant "
                    f"(0, 1, 2, 3, 4, 5), got {value!r}")


def _kind(img, op: str) -> str:
    if isinstance(img, Tensor):
        return "tensor"
    if is_pil_image(img):
        return "pil"
    raise TypeError(f"{op}: img should be a PIL Image or a Tensor, got {type(img).__name__}")


# ----------------------------------------------------------------------------- sizes
def get_dimensions(img) -> list[int]:
    """``[channels, height, width]`` of a PIL image or tensor image."""
    return F_t.get_dimensions(img) if _kind(img, "get_dimensions") == "tensor" else F_pil.get_dimensions(img)


def get_image_size(img) -> list[int]:
    """``[width, height]``."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img) -> int:
    return get_dimensions(img)[0]


# ----------------------------------------------------------------------------- conversions
def to_tensor(pic) -> Tensor:
    """A PIL image or ``ndarray`` ``(H, W[, C])`` as a tensor ``(C, H, W)``; uint8 values become
    float32 in [0, 1] (divided by 255), other dtypes keep their values (torchvision's rule).

    Example::

        >>> to_tensor(np.full((2, 2, 3), 255, np.uint8)).shape, float(to_tensor(np.full((2, 2), 51, np.uint8)).max())
        (fukaku.Size([3, 2, 2]), 0.2)
    """
    if not (is_pil_image(pic) or isinstance(pic, np.ndarray)):
        raise TypeError(f"to_tensor: pic should be a PIL Image or ndarray, got {type(pic).__name__}")
    if isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"to_tensor: pic should be 2 or 3 dimensional (H, W[, C]), got {pic.ndim} dimensions")
        array = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        nptype = {"I": np.int32, "I;16" if sys.byteorder == "little" else "I;16B": np.int16, "F": np.float32}
        array = np.array(pic, nptype.get(pic.mode, np.uint8), copy=True)
        if pic.mode == "1":
            array = 255 * array
        array = array.reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    chw = np.ascontiguousarray(array.transpose(2, 0, 1))
    if chw.dtype == np.uint8:
        return from_numpy(chw.astype(np.float32) / np.float32(255))
    return from_numpy(chw)


def pil_to_tensor(pic) -> Tensor:
    """A PIL image as a tensor ``(C, H, W)`` of its own values and dtype (uint8 for most modes)."""
    if not is_pil_image(pic):
        raise TypeError(f"pil_to_tensor: pic should be a PIL Image, got {type(pic).__name__}")
    array = np.array(pic, copy=True)
    array = array.reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    return from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))


def to_pil_image(pic, mode: str | None = None):
    """A tensor ``(C, H, W)`` or ndarray ``(H, W, C)`` (1 to 4 channels) as a PIL image. Float values
    are taken as [0, 1] and become ``uint8(value · 255)`` (truncated, as torchvision), unless
    ``mode='F'``; the mode follows the channels and dtype (``L``, ``LA``, ``RGB``, ``RGBA``, ``I``,
    ``I;16``, ``F``) unless given."""
    Image = require_pil("to_pil_image")
    if isinstance(pic, Tensor):
        if pic.ndim not in (2, 3):
            raise ValueError(f"to_pil_image: pic should be 2 or 3 dimensional, got {pic.ndim} dimensions")
        if pic.ndim == 3 and pic.shape[0] > 4:
            raise ValueError(f"to_pil_image: pic should not have > 4 channels, got {pic.shape[0]} channels; "
                             "tensors are (C, H, W)")
        npimg = pic.detach().numpy()
        npimg = npimg.transpose(1, 2, 0) if npimg.ndim == 3 else npimg
    elif isinstance(pic, np.ndarray):
        npimg = pic
    else:
        raise TypeError(f"to_pil_image: pic should be a Tensor or ndarray, got {type(pic).__name__}")
    if npimg.ndim == 2:
        npimg = npimg[:, :, None]
    if npimg.ndim != 3:
        raise ValueError(f"to_pil_image: pic should be 2 or 3 dimensional, got {npimg.ndim} dimensions")
    if npimg.shape[-1] > 4:
        raise ValueError(f"to_pil_image: pic should not have > 4 channels, got {npimg.shape[-1]} channels")
    if np.issubdtype(npimg.dtype, np.floating) and mode != "F":
        npimg = (npimg * 255).astype(np.uint8)
    channels = npimg.shape[2]
    if channels == 1:
        npimg = npimg[:, :, 0]
        expected = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16" if sys.byteorder == "little" else "I;16B",
                    np.dtype(np.int32): "I", np.dtype(np.float32): "F"}.get(npimg.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"to_pil_image: incorrect mode ({mode}) supplied for input type {npimg.dtype}; should be "
                             f"{expected}")
        mode = expected
    else:
        permitted = {2: ["LA"], 3: ["RGB", "YCbCr", "HSV"], 4: ["RGBA", "CMYK", "RGBX"]}[channels]
        if mode is not None and mode not in permitted:
            raise ValueError(f"to_pil_image: only modes {permitted} are supported for {channels}-channel inputs")
        if mode is None and npimg.dtype == np.uint8:
            mode = permitted[0]
    if mode is None:
        raise TypeError(f"to_pil_image: input type {npimg.dtype} is not supported")
    return Image.fromarray(np.ascontiguousarray(npimg), mode=mode)


# ----------------------------------------------------------------------------- values
def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> Tensor:
    """``(tensor − mean[c]) / std[c]`` for each channel c of a float tensor ``(..., C, H, W)``,
    in the tensor's dtype; differentiable (``inplace=True`` writes into ``tensor``)."""
    return F_t.normalize(tensor, mean, std, inplace)


# ----------------------------------------------------------------------------- geometry
def padding_ltrb(padding, op: str) -> list[int]:
    """torchvision's padding argument: one int (all sides), (left/right, top/bottom) or
    (left, top, right, bottom)."""
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        return [int(padding)] * 4
    if isinstance(padding, (list, tuple)) and all(isinstance(p, numbers.Integral) for p in padding):
        if len(padding) == 1:
            return [int(padding[0])] * 4
        if len(padding) == 2:
            return [int(padding[0]), int(padding[1])] * 2
        if len(padding) == 4:
            return [int(p) for p in padding]
        raise ValueError(f"{op}: padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element "
                         "tuple")
    raise TypeError(f"{op}: padding must be an int or a sequence of ints, got {padding!r}")


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    """Pad the borders by ``padding`` (an int, ``(left/right, top/bottom)`` or
    ``(left, top, right, bottom)``; negative values crop) with ``padding_mode`` ``constant``
    (``fill``: a number, or one per band for PIL images), ``edge``, ``reflect`` (mirror about the
    edge pixel) or ``symmetric`` (mirror including it).

    Example::

        >>> pad(fk.arange(3.).reshape(1, 1, 3), [2, 0], padding_mode="reflect")[0, 0]
        tensor([2., 1., 0., 1., 2., 1., 0.])
    """
    ltrb = padding_ltrb(padding, "pad")
    if padding_mode not in F_t.PADDING_MODES:
        raise ValueError(f"pad: padding_mode should be either constant, edge, reflect or symmetric, got "
                         f"{padding_mode!r}")
    if _kind(img, "pad") == "pil":
        return F_pil.pad(img, ltrb, fill, padding_mode)
    if fill is None:
        fill = 0
    if not isinstance(fill, (int, float)):
        raise TypeError(f"pad: fill must be a number for tensors, got {fill!r}")
    return F_t.pad(img, ltrb, fill, padding_mode)


def crop(img, top: int, left: int, height: int, width: int):
    """The ``height × width`` window at ``(top, left)``; outside the image it is zeros."""
    if _kind(img, "crop") == "pil":
        return F_pil.crop(img, top, left, height, width)
    return F_t.crop(img, top, left, height, width)


def center_crop(img, output_size):
    """The central ``output_size`` window (an int or ``(h, w)``), zero-padded first where the image
    is smaller; the offset is ``round((H − h) / 2)`` (Python's rounding, as torchvision)."""
    if isinstance(output_size, numbers.Number):
        output_size = (int(output_size), int(output_size))
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        output_size = (output_size[0], output_size[0])
    _, image_height, image_width = get_dimensions(img)
    crop_height, crop_width = output_size
    if crop_width > image_width or crop_height > image_height:
        padding_ltrb = [(crop_width - image_width) // 2 if crop_width > image_width else 0,
                        (crop_height - image_height) // 2 if crop_height > image_height else 0,
                        (crop_width - image_width + 1) // 2 if crop_width > image_width else 0,
                        (crop_height - image_height + 1) // 2 if crop_height > image_height else 0]
        img = pad(img, padding_ltrb, fill=0)
        _, image_height, image_width = get_dimensions(img)
        if crop_width == image_width and crop_height == image_height:
            return img
    crop_top = int(round((image_height - crop_height) / 2.0))
    crop_left = int(round((image_width - crop_width) / 2.0))
    return crop(img, crop_top, crop_left, crop_height, crop_width)


def hflip(img):
    """Mirror left to right."""
    return F_pil.hflip(img) if _kind(img, "hflip") == "pil" else F_t.hflip(img)


def vflip(img):
    """Mirror top to bottom."""
    return F_pil.vflip(img) if _kind(img, "vflip") == "pil" else F_t.vflip(img)


def resized_output_size(height: int, width: int, size, max_size: int | None = None) -> list[int]:
    """torchvision's ``_compute_resized_output_size``: ``[new_h, new_w]`` for ``size`` ``[s]`` (the
    shorter edge becomes s, the longer ``int(s · long / short)``, then capped by ``max_size``),
    ``[h, w]``, or None (the longer edge becomes ``max_size``)."""
    short, long = (width, height) if width <= height else (height, width)
    if size is None:
        if not isinstance(max_size, int):
            raise ValueError(f"resize: max_size must be an integer when size is None, but got {max_size}")
        new_short, new_long = int(max_size * short / long), max_size
        new_w, new_h = (new_short, new_long) if width <= height else (new_long, new_short)
    elif len(size) == 1:
        requested = size[0]
        new_short, new_long = requested, int(requested * long / short)
        if max_size is not None:
            if max_size <= requested:
                raise ValueError(f"resize: max_size = {max_size} must be strictly greater than the requested size for "
                                 f"the smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        new_w, new_h = (new_short, new_long) if width <= height else (new_long, new_short)
    else:
        new_w, new_h = size[1], size[0]
    return [new_h, new_w]


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size: int | None = None,
           antialias: bool | None = True):
    """Resize to ``size``: an int (or ``[s]``) makes the shorter edge s and keeps the aspect ratio
    (``int(s · long / short)``), ``(h, w)`` is the exact size, None with ``max_size`` makes the longer
    edge ``max_size``.

    A PIL image is resized by Pillow (always antialiased). A tensor ``(..., H, W)`` is resampled by
    the same filters: bilinear/bicubic with ``antialias=True`` (the default) match Pillow's
    ``resize`` of a float image; without antialias they are torch's ``interpolate(align_corners=False)``;
    ``nearest``/``nearest-exact`` are torch's nearest rules. Integer tensors are rounded back.

    Example::

        >>> resize(fk.zeros(3, 32, 64), 16).shape
        fukaku.Size([3, 16, 32])
    """
    mode = interpolation_mode(interpolation, "resize")
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = [int(size)]
    elif isinstance(size, (list, tuple)):
        if len(size) not in (1, 2):
            raise ValueError(f"resize: size must be an int or a 1 or 2 element tuple/list, not a {len(size)} element "
                             "tuple/list")
        if max_size is not None and len(size) != 1:
            raise ValueError("resize: max_size should only be passed if size specifies the length of the smaller "
                             "edge, i.e. size should be an int or a sequence of length 1")
        size = [int(s) for s in size]
    elif size is not None:
        raise TypeError(f"resize: size should be an int, a sequence of 1 or 2 ints, or None, got {size!r}")
    elif max_size is None:
        raise ValueError("resize: give size, or size=None with max_size")
    _, image_height, image_width = get_dimensions(img)
    output_size = resized_output_size(image_height, image_width, size, max_size)
    if [image_height, image_width] == output_size:
        return img
    if _kind(img, "resize") == "pil":
        if antialias is False:
            warnings.warn("Anti-alias option is always applied for PIL Image input. Argument antialias is ignored.",
                          stacklevel=2)
        return F_pil.resize(img, output_size, _PIL_MODES[mode])
    return F_t.resize(img, output_size, mode.value, bool(antialias))


def rotate(img, angle: float, interpolation=InterpolationMode.NEAREST, expand: bool = False,
           center: Sequence[int] | None = None, fill=None):
    """Rotate by ``angle`` degrees counter-clockwise about ``center`` (pixel coordinates; default
    the image centre). ``expand=True`` enlarges the output to hold the whole rotated image. Pixels
    from outside the image are zeros, or ``fill`` (a number or one per channel). Tensors use
    torchvision's affine grid and grid sampling (``nearest`` or ``bilinear``); PIL images use
    ``Image.rotate``.

    Example::

        >>> x = fk.arange(4.).reshape(1, 2, 2)
        >>> rotate(x, 90.0)[0]                         # counter-clockwise, as np.rot90
        tensor([[1., 3.],
                [0., 2.]])
    """
    mode = interpolation_mode(interpolation, "rotate")
    if not isinstance(angle, (int, float)) or isinstance(angle, bool):
        raise TypeError(f"rotate: angle should be an int or float, got {angle!r}")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError(f"rotate: center should be a sequence (x, y), got {center!r}")
    if _kind(img, "rotate") == "pil":
        return F_pil.rotate(img, angle, _PIL_MODES[mode], expand, center, fill)
    return F_t.rotate(img, float(angle), mode.value, expand, center, fill)


def batch_crop(img: Tensor, top, left, height: int, width: int, hflip=None, vflip=None, padding=0, fill=0,
               padding_mode: str = "constant") -> Tensor:
    """A different window (and flip) for each sample of a batch ``(N, ..., H, W)``, in one gather.

    Sample n is padded by ``padding`` (as :func:`pad`), then its ``height × width`` window at
    ``(top[n], left[n])`` of the padded image is taken, mirrored left-right where ``hflip[n]`` and
    top-bottom where ``vflip[n]``. No Python loop runs over the samples: one index array per axis
    reads every output pixel at once (differentiable, like indexing).

    Args:
        img: a batch ``(N, ..., H, W)``.
        top, left: ``N`` offsets each (ints, in the padded image).
        height, width: the window size.
        hflip, vflip: ``N`` booleans each, or None.
        padding: as :func:`pad`; ``fill`` and ``padding_mode`` too (fill: a number).

    Example::

        >>> x = fk.arange(2 * 3 * 3.).reshape(2, 1, 3, 3)
        >>> batch_crop(x, top=[0, 1], left=[1, 0], height=2, width=2, hflip=[False, True])[:, 0]
        tensor([[[ 1.,  2.],
                 [ 4.,  5.]],
        <BLANKLINE>
                [[13., 12.],
                 [16., 15.]]])
    """
    if not isinstance(img, Tensor):
        raise TypeError(f"batch_crop: img should be a Tensor batch (N, ..., H, W), got {type(img).__name__}")
    ltrb = padding_ltrb(padding, "batch_crop")
    if padding_mode not in F_t.PADDING_MODES:
        raise ValueError(f"batch_crop: padding_mode should be either constant, edge, reflect or symmetric, got "
                         f"{padding_mode!r}")
    as_array = lambda v: v.numpy() if isinstance(v, Tensor) else v  # noqa: E731
    return F_t.batch_crop(img, as_array(top), as_array(left), int(height), int(width),
                          None if hflip is None else as_array(hflip), None if vflip is None else as_array(vflip),
                          ltrb, fill, padding_mode)

