"""Helpers shared by the CNN models: the output-size formula and the input check.

The formula is seed 004 §3.3's O = (N − F + 2Q)/s + 1 (with dilation d the kernel spans
d(F − 1) + 1 inputs, and the division floors, as in PyTorch).
"""
from __future__ import annotations

from ...errors import ShapeError
from ...tensor import Tensor


def conv_output_size(size: int, kernel_size: int, padding: int = 0, stride: int = 1, dilation: int = 1) -> int:
    """O = ⌊(N − d(F − 1) − 1 + 2Q)/s⌋ + 1: the length of a convolution's or pooling's output along one axis."""
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def check_input(model: str, input: Tensor, channels: int, ndim: int = 4, multiple: int = 1,
                size: int | None = None) -> None:
    """Raise a ShapeError naming ``model`` when ``input`` is not ``(N, channels, *spatial)``, when a spatial
    size is not a multiple of ``multiple``, or (with ``size``) when the image is not ``size × size``."""
    layout = "(N, C, L)" if ndim == 3 else "(N, C, H, W)"
    shape = tuple(input.shape)
    if len(shape) != ndim or shape[1] != channels:
        raise ShapeError(f"{model}: expected input {layout} with C = {channels}, got shape {shape}; "
                         f"pass a batch of {channels}-channel {'sequences' if ndim == 3 else 'images'} "
                         "(add a batch dimension with x.unsqueeze(0))")
    spatial = shape[2:]
    if size is not None and spatial != (size,) * (ndim - 2):
        raise ShapeError(f"{model}: built for {size}×{size} inputs, got shape {shape}; build the model with "
                         f"input_size={spatial[0]} or resize the images")
    if any(s % multiple for s in spatial):
        raise ShapeError(f"{model}: the spatial sizes {spatial} of input {shape} must be multiples of {multiple} "
                         f"(each of the {multiple.bit_length() - 1} poolings halves them); pad or crop the input")


def scaled(channels: int, width: float) -> int:
    """``channels`` times the width multiplier, rounded, at least 1."""
    return max(1, int(round(channels * width)))
