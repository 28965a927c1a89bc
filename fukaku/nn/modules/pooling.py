"""Pooling layers (seed 001 §9.2, seed 004 §3.3; the C-cells of the Neocognitron, seed 002 ch. 3):
max, average, adaptive and unpooling over the last 1 or 2 dims, with PyTorch's names, arguments and
``repr``. They hold no parameters; each is a thin Module over a function of
:mod:`fukaku.nn.functional.pooling`, which checks the arguments and states the output-size formula.
"""
from __future__ import annotations

from ...tensor import Tensor
from ..functional.pooling import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d, adaptive_max_pool2d,
                                  avg_pool1d, avg_pool2d, max_pool1d, max_pool2d, max_unpool1d, max_unpool2d)
from .module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
           "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "MaxUnpool1d", "MaxUnpool2d"]


def _single(value) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _pair(value) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


class _PoolNd(Module):
    """A pooling layer's window settings, kept as given (an int or a tuple; ``stride`` defaults to
    ``kernel_size``), as PyTorch keeps and shows them."""

    def __init__(self, kernel_size, stride, padding, ceil_mode: bool) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _MaxPoolNd(_PoolNd):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.dilation = dilation
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, dilation={self.dilation}, ceil_mode={self.ceil_mode}"


class MaxPool1d(_MaxPoolNd):
    """The largest element of each window along L (:func:`fukaku.nn.functional.max_pool1d`):
    (N, C, L) or (C, L) → L_out = ⌊(L + 2·padding − dilation·(kernel_size − 1) − 1)/stride⌋ + 1.
    With ``return_indices=True`` the forward returns (output, indices) for :class:`MaxUnpool1d`."""

    def forward(self, input: Tensor):
        return max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)


class MaxPool2d(_MaxPoolNd):
    """The largest element of each window over (H, W) (:func:`fukaku.nn.functional.max_pool2d`):
    ``MaxPool2d(2)`` halves H and W and keeps the channels. (N, C, H, W) or (C, H, W) → each size
    ⌊(size + 2·padding − dilation·(kernel_size − 1) − 1)/stride⌋ + 1. With ``return_indices=True``
    the forward returns (output, indices) for :class:`MaxUnpool2d`."""

    def forward(self, input: Tensor):
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)


class AvgPool1d(_PoolNd):
    """The mean of each window along L (:func:`fukaku.nn.functional.avg_pool1d`); the sizes are kept
    as 1-tuples, as PyTorch does."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__(_single(kernel_size), _single(stride if stride is not None else kernel_size),
                         _single(padding), ceil_mode)
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)


class AvgPool2d(_PoolNd):
    """The mean of each window over (H, W) (:func:`fukaku.nn.functional.avg_pool2d`), the sum divided
    by ``divisor_override`` when given."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                          self.divisor_override)


class _AdaptivePoolNd(Module):
    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePoolNd):
    """Average pooling to a fixed length ``output_size`` whatever the input's L
    (:func:`fukaku.nn.functional.adaptive_avg_pool1d`)."""

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptivePoolNd):
    """Average pooling to a fixed (H_out, W_out) whatever the input's H and W
    (:func:`fukaku.nn.functional.adaptive_avg_pool2d`); ``AdaptiveAvgPool2d(1)`` is global average
    pooling, the head of ResNet."""

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_avg_pool2d(input, self.output_size)


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max pooling to a fixed length ``output_size`` (:func:`fukaku.nn.functional.adaptive_max_pool1d`);
    with ``return_indices=True`` the forward returns (output, indices)."""

    def forward(self, input: Tensor):
        return adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max pooling to a fixed (H_out, W_out) (:func:`fukaku.nn.functional.adaptive_max_pool2d`); with
    ``return_indices=True`` the forward returns (output, indices)."""

    def forward(self, input: Tensor):
        return adaptive_max_pool2d(input, self.output_size, self.return_indices)


class _MaxUnpoolNd(Module):
    """Unpooling's settings as tuples of ``_sizes`` (one per pooled dim), as PyTorch keeps them."""

    _sizes = staticmethod(_single)
    extra_repr = _PoolNd.extra_repr

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size = self._sizes(kernel_size)
        self.stride = self._sizes(stride if stride is not None else kernel_size)
        self.padding = self._sizes(padding)


class MaxUnpool1d(_MaxUnpoolNd):
    """Undo :class:`MaxPool1d` where it can: each value back at its index, zeros elsewhere
    (:func:`fukaku.nn.functional.max_unpool1d`). ``forward(input, indices, output_size=None)``."""

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        return max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool2d(_MaxUnpoolNd):
    """Undo :class:`MaxPool2d` where it can: each value back at its flat index in its plane, zeros
    elsewhere (:func:`fukaku.nn.functional.max_unpool2d`). ``forward(input, indices, output_size=None)``."""

    _sizes = staticmethod(_pair)

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        return max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)
