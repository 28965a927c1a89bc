"""Image grids and image files (``torchvision.utils``): :func:`make_grid` tiles a batch into one
image, :func:`save_image` writes it as PNG (or any format Pillow knows) atomically."""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .._atomic import atomic_write
from ..backends import array_module
from ..tensor import Tensor, wrap
from ._pil import require_pil

__all__ = ["make_grid", "save_image"]


def make_grid(tensor: Tensor | list[Tensor], nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range: tuple[float, float] | None = None, scale_each: bool = False,
              pad_value: float = 0.0) -> Tensor:
    """Tile a batch of images into one image, ``nrow`` per row, as ``torchvision.utils.make_grid``.

    Args:
        tensor: ``(B, C, H, W)``, a list of ``(C, H, W)`` images of one size, or one image
            ``(C, H, W)`` / ``(H, W)``. One-channel images are repeated to 3 channels.
        nrow: images per row (the number of columns).
        padding: pixels of ``pad_value`` around and between the images.
        normalize: rescale to [0, 1]: clamp to ``value_range`` (default: the minimum and maximum of
            the values) and map it linearly onto [0, 1].
        value_range: ``(low, high)`` for ``normalize``.
        scale_each: with ``normalize``, use each image's own minimum and maximum.
        pad_value: the value of the padding.

    Returns:
        ``(C, rows · (H + padding) + padding, cols · (W + padding) + padding)`` with
        ``cols = min(nrow, B)`` and ``rows = ceil(B / cols)``; a batch of one image is returned as that
        image (normalised, 3 channels), unpadded. The images are laid out row by row; the grid is
        built with one reshape, not a loop over the images.

    Example::

        >>> make_grid(fk.rand(10, 1, 28, 28), nrow=5).shape
        fukaku.Size([3, 62, 152])
    """
    if isinstance(tensor, list):
        for t in tensor:
            if not isinstance(t, Tensor):
                raise TypeError(f"make_grid: tensor or list of tensors expected, got a list containing "
                                f"{type(t).__name__}")
        shapes = {tuple(t.shape) for t in tensor}
        if len(shapes) > 1:
            raise ValueError(f"make_grid: the images of a list must share one shape, got {sorted(shapes)}")
        array = np.stack([t.detach().numpy() for t in tensor]) if tensor else None
        if array is None:
            raise ValueError("make_grid: the list of images is empty")
    elif isinstance(tensor, Tensor):
        array = tensor.detach().numpy()
    else:
        raise TypeError(f"make_grid: tensor or list of tensors expected, got {type(tensor).__name__}")
    xp = array_module(array)
    if array.ndim == 2:
        array = array[None]
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4:
        raise ValueError(f"make_grid: expected images (B, C, H, W), (C, H, W) or (H, W), got shape {array.shape}")
    if array.shape[1] == 1:
        array = xp.concatenate([array] * 3, axis=1)
    if normalize:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
        array = array.astype(array.dtype if array.dtype.kind == "f" else np.float32)
        axes = (1, 2, 3) if scale_each else (0, 1, 2, 3)
        if value_range is not None:
            low, high = (xp.asarray(v, dtype=array.dtype) for v in value_range)
        else:
            low, high = array.min(axis=axes, keepdims=True), array.max(axis=axes, keepdims=True)
        array = (xp.clip(array, low, high) - low) / xp.maximum(high - low, array.dtype.type(1e-5))
    if array.shape[0] == 1:
        return wrap(xp.ascontiguousarray(array[0]))
    n, c, h, w = array.shape
    cols = min(nrow, n)
    rows = int(math.ceil(n / cols))
    cells = xp.full((rows * cols, c, h + padding, w + padding), pad_value, dtype=array.dtype)
    cells[:n, :, padding:, padding:] = array  # each cell: padding above and left of its image
    grid = cells.reshape(rows, cols, c, h + padding, w + padding).transpose(2, 0, 3, 1, 4)
    grid = grid.reshape(c, rows * (h + padding), cols * (w + padding))
    out = xp.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value, dtype=array.dtype)
    out[:, :grid.shape[1], :grid.shape[2]] = grid  # and one more strip below and right of the last ones
    return wrap(out)


def save_image(tensor: Tensor | list[Tensor], fp: str | os.PathLike | BinaryIO, format: str | None = None,
               **kwargs) -> None:
    """Save an image or a grid of images (``make_grid(tensor, **kwargs)``) to ``fp``, as
    ``torchvision.utils.save_image``: values in [0, 1] become ``uint8(clamp(v · 255 + 0.5, 0, 255))``.

    A path is written atomically (a temporary file beside it, renamed into place: a reader sees the
    old file or the whole new one). The format comes from ``format`` or the file's extension
    (``.png``: PNG, lossless).

    Args:
        tensor: what :func:`make_grid` takes.
        fp: a file name or a binary file object.
        format: Pillow's format name (``"PNG"``); needed for a file object without a name.
        **kwargs: :func:`make_grid`'s options (``nrow``, ``padding``, ``normalize`` …).

    Example::

        >>> save_image(fk.rand(16, 3, 32, 32), "samples.png", nrow=4)
    """
    Image = require_pil("save_image")
    grid = make_grid(tensor, **kwargs).numpy()
    xp = array_module(grid)
    hwc = xp.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    image = Image.fromarray(xp.ascontiguousarray(hwc[:, :, 0] if hwc.shape[2] == 1 else hwc))
    if not isinstance(fp, (str, os.PathLike)):
        image.save(fp, format=format)
        return
    path = Path(fp)
    if format is None:
        format = Image.registered_extensions().get(path.suffix.lower())
        if format is None:
            raise ValueError(f"save_image: unknown file extension {path.suffix!r} of {os.fspath(path)!r}; give "
                             "format= (e.g. 'PNG') or use a name ending in .png")
    with atomic_write(path, op="save_image") as fh:
        image.save(fh, format=format)
