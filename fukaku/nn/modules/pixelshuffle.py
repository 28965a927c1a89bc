"""Sub-pixel rearrangements (Shi et al. 2016): ``PixelShuffle`` turns r² channels into an r×r block
of pixels (upsampling by a learned convolution followed by a shuffle), ``PixelUnshuffle`` the
reverse. No parameters; the functions are in :mod:`fukaku.ops.resample`."""
from __future__ import annotations

from ...tensor import Tensor
from ..functional.vision import pixel_shuffle, pixel_unshuffle
from .module import Module


class PixelShuffle(Module):
    """``(*, C·r², H, W)`` → ``(*, C, H·r, W·r)`` with ``r = upscale_factor``."""

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """``(*, C, H·r, W·r)`` → ``(*, C·r², H, W)`` with ``r = downscale_factor``."""

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
