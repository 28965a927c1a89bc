"""The PIL side of :mod:`fukaku.vision.transforms.functional`: what torchvision does with a PIL image
is Pillow's own operation (``crop``, ``transpose``, ``resize``, ``rotate``, ``ImageOps.expand``),
so it is called here the same way, with the same arguments."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._pil import is_pil_image, require_pil


def assert_pil(img, op: str) -> None:
    if not is_pil_image(img):
        raise TypeError(f"{op}: img should be a PIL Image, got {type(img).__name__}")


def get_dimensions(img) -> list[int]:
    """``[channels, height, width]``."""
    assert_pil(img, "get_dimensions")
    width, height = img.size
    return [len(img.getbands()), height, width]


def parse_fill(fill, img, name: str = "fillcolor") -> dict:
    """``fill`` as Pillow takes it for this image: a number for one band, a tuple of one value per
    band otherwise (integers unless the mode is ``F``)."""
    bands = len(img.getbands())
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and bands > 1:
        fill = tuple([fill] * bands)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = tuple(fill) * bands
        elif len(fill) != bands:
            raise ValueError(f"the number of elements in 'fill' ({len(fill)}) does not match the number of bands of "
                             f"the image ({bands})")
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(x) for x in fill) if isinstance(fill, tuple) else int(fill)
    return {name: fill}


def hflip(img):
    assert_pil(img, "hflip")
    return img.transpose(require_pil("hflip").Transpose.FLIP_LEFT_RIGHT)


def vflip(img):
    assert_pil(img, "vflip")
    return img.transpose(require_pil("vflip").Transpose.FLIP_TOP_BOTTOM)


def crop(img, top: int, left: int, height: int, width: int):
    """Pillow's crop: the part outside the image is zeros."""
    assert_pil(img, "crop")
    return img.crop((left, top, left + width, top + height))


def pad(img, ltrb: Sequence[int], fill=0, padding_mode: str = "constant"):
    """Pad by ``(left, top, right, bottom)`` (negative values crop): ``constant`` with
    ``ImageOps.expand``, the other modes with ``numpy.pad`` (as torchvision)."""
    assert_pil(img, "pad")
    Image = require_pil("pad")
    from PIL import ImageOps

    left, top, right, bottom = (int(p) for p in ltrb)
    if min(left, top, right, bottom) < 0:
        cl, ct, cr, cb = (max(-p, 0) for p in (left, top, right, bottom))
        img = img.crop((cl, ct, img.width - cr, img.height - cb))
        left, top, right, bottom = (max(p, 0) for p in (left, top, right, bottom))
    palette = img.getpalette() if img.mode == "P" else None
    if padding_mode == "constant":
        out = ImageOps.expand(img, border=(left, top, right, bottom), **parse_fill(fill, img, "fill"))
    else:
        array = np.asarray(img)
        widths = ((top, bottom), (left, right)) + (((0, 0),) if array.ndim == 3 else ())
        out = Image.fromarray(np.pad(array, widths, mode=padding_mode))
    if palette is not None:
        out.putpalette(palette)
    return out


def resize(img, size: Sequence[int], interpolation: int):
    """Pillow's resize to ``size = [height, width]`` (Pillow always antialiases)."""
    assert_pil(img, "resize")
    return img.resize((int(size[1]), int(size[0])), interpolation)


def rotate(img, angle: float, interpolation: int, expand: bool, center, fill):
    assert_pil(img, "rotate")
    return img.rotate(angle, interpolation, expand, center, **parse_fill(fill, img))
