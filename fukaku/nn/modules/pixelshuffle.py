"""Sub-pixel rearrangements (Shi et al. 2016): ``PixelShuffle`` turns r² channels into an r×r block
of pixels (upsampling by a learned convolution followed by a shuffle), ``PixelUnshuffle`` the
reverse. No parameters; the functions are in :mod:`fukaku.ops.resample`."""
from __future__ import annotations

from typing import Callable, ClassVar

from ...tensor import Tensor
from ..functional.vision import pixel_shuffle, pixel_unshuffle
from .module import Module


class _SubPixel(Module):
    """Either rearrangement: ``rearrange(input, r)`` with the one option r, kept under torch's name for
    it (``factor_name``, which ``repr`` shows too)."""

    rearrange: ClassVar[Callable[[Tensor, int], Tensor]]
    factor_name: ClassVar[str]

    def forward(self, input: Tensor) -> Tensor:
        return self.rearrange(input, getattr(self, self.factor_name))

    def extra_repr(self) -> str:
        return f"{self.factor_name}={getattr(self, self.factor_name)}"


class PixelShuffle(_SubPixel):
    """``(*, C·r², H, W)`` → ``(*, C, H·r, W·r)`` with ``r = upscale_factor``: channel c·r² + i·r + j
    of pixel (h, w) becomes channel c of pixel (h·r + i, w·r + j). After a convolution to C·r² channels
    it is the sub-pixel convolution, a learned upsampling by r."""

    rearrange = staticmethod(pixel_shuffle)
    factor_name = "upscale_factor"

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor


class PixelUnshuffle(_SubPixel):
    """``(*, C, H·r, W·r)`` → ``(*, C·r², H, W)`` with ``r = downscale_factor``: the inverse of
    :class:`PixelShuffle` with the same r (H and W must be multiples of r)."""

    rearrange = staticmethod(pixel_unshuffle)
    factor_name = "downscale_factor"

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor
