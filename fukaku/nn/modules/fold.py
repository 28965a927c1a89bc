"""Sliding blocks as columns and back: ``Unfold`` (im2col) and ``Fold`` (col2im), as ``torch.nn``'s.

``Unfold`` turns every kH×kW block of an image into a column, so a convolution becomes one matrix
product (seed 000 §6.2): ``W.view(C_out, -1) @ Unfold(k)(x)``; ``Fold`` sums columns back into
images, overlapping blocks adding up (the adjoint, which is also Unfold's gradient).
"""
from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from .module import Module

__all__ = ["Fold", "Unfold"]


class Unfold(Module):
    """``(N, C, H, W)`` -> ``(N, C·kH·kW, L)``: each sliding block a column (:func:`fukaku.nn.functional.unfold`).

    Args:
        kernel_size, dilation, padding, stride: ints or pairs, kept as given.
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """``(N, C·kH·kW, L)`` -> ``(N, C, *output_size)``: columns summed into images
    (:func:`fukaku.nn.functional.fold`).

    Args:
        output_size: the image size (H, W) (an int for both).
        kernel_size, dilation, padding, stride: ints or pairs, kept as given.
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
