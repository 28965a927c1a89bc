"""Data augmentation of a whole batch at once, one random draw per sample (fukaku's own; torchvision's
transforms draw once per call, so on a batch every sample gets the same crop or flip).

Apply them to the batches a DataLoader yields, instead of per-sample transforms in the dataset::

    augment = Compose([BatchRandomCrop(32, padding=4), BatchRandomHorizontalFlip()])
    for images, labels in loader:            # images (N, 3, 32, 32)
        images = augment(images)             # a fresh window and flip for each of the N images

Each transform draws all N parameters with one call to fukaku's default generator (so
``fukaku.manual_seed`` repeats them) and applies them with one gather
(:func:`.functional.batch_crop`): no Python loop runs over the samples. The padded image is
never built; the padding mode maps each window position straight to an input pixel.
"""
from __future__ import annotations

import fukaku as fk

from ...tensor import Tensor
from . import functional as F
from .transforms import RandomCrop, RandomFlip

__all__ = ["BatchRandomCrop", "BatchRandomHorizontalFlip", "BatchRandomVerticalFlip"]


def _batch(img, op: str) -> Tensor:
    if not isinstance(img, Tensor) or img.ndim < 3:
        what = f"shape {tuple(img.shape)}" if isinstance(img, Tensor) else type(img).__name__
        raise TypeError(f"{op}: expected a tensor batch (N, C, H, W) or (N, H, W), got {what}")
    return img


class BatchRandomCrop(RandomCrop):
    """:class:`RandomCrop` with its own window for every sample of a batch ``(N, ..., H, W)``.

    Args:
        size: int or ``(h, w)``.
        padding, pad_if_needed, fill, padding_mode: as :class:`RandomCrop` (fill: a number).

    Example::

        >>> x = fk.rand(128, 3, 32, 32)
        >>> BatchRandomCrop(32, padding=4)(x).shape    # 128 different shifts of up to 4 pixels
        fukaku.Size([128, 3, 32, 32])
    """

    @staticmethod
    def get_params(batch_size: int, height: int, width: int,  # type: ignore[override]
                   output_size: tuple[int, int]) -> tuple[Tensor, Tensor]:
        """``(top, left)``: ``batch_size`` offsets each of an ``output_size`` window in a
        ``height × width`` image, drawn uniformly."""
        th, tw = output_size
        if height < th or width < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(height, width)}")
        return fk.randint(0, height - th + 1, (batch_size,)), fk.randint(0, width - tw + 1, (batch_size,))

    def forward(self, img: Tensor) -> Tensor:
        img = _batch(img, "BatchRandomCrop")
        left, top, right, bottom = F.padding_ltrb(0 if self.padding is None else self.padding, "BatchRandomCrop")
        h, w = img.shape[-2] + top + bottom, img.shape[-1] + left + right
        th, tw = self.size
        extra_w = tw - w if self.pad_if_needed and w < tw else 0
        extra_h = th - h if self.pad_if_needed and h < th else 0
        if (extra_w or extra_h) and self.padding_mode in ("reflect", "symmetric") and self.padding is not None:
            # torchvision pads twice; a mirror of a mirror is not one wider mirror: do the first here
            img = F.pad(img, [left, top, right, bottom], self.fill, self.padding_mode)
            left = top = right = bottom = 0
        ltrb = [left + extra_w, top + extra_h, right + extra_w, bottom + extra_h]
        rows, cols = self.get_params(img.shape[0], h + 2 * extra_h, w + 2 * extra_w, self.size)
        return F.batch_crop(img, rows, cols, th, tw, padding=ltrb, fill=self.fill, padding_mode=self.padding_mode)


class _BatchRandomFlip(RandomFlip):
    def forward(self, img: Tensor) -> Tensor:
        img = _batch(img, self.__class__.__name__)
        flips = fk.rand(img.shape[0]) < self.p
        zeros = fk.zeros(img.shape[0], dtype=fk.int64)
        return F.batch_crop(img, zeros, zeros, img.shape[-2], img.shape[-1], **{self._axis: flips})


class BatchRandomHorizontalFlip(_BatchRandomFlip):
    """:class:`RandomHorizontalFlip` drawn for every sample of a batch: each is mirrored left-right
    with probability ``p``, all in one gather."""

    _axis = "hflip"


class BatchRandomVerticalFlip(_BatchRandomFlip):
    """:class:`RandomVerticalFlip` drawn for every sample of a batch (probability ``p`` each)."""

    _axis = "vflip"
