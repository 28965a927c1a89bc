"""Convolutional layers (seed 000 §6.2, seed 001 §9.2): ``Conv1d/2d/3d`` and ``ConvTranspose1d/2d/3d``.

A convolutional layer shares one small weight across every position of its input (parameter
sharing) and connects each output only to a window of inputs (sparse connectivity), so it commutes
with translations away from the borders. As in PyTorch the weight is ``(out_channels,
in_channels/groups, *kernel_size)`` (``(in_channels, out_channels/groups, *kernel_size)`` for a
transposed layer), the bias ``(out_channels,)``; state-dict keys ``weight`` and ``bias``; both drawn
as PyTorch draws them: W ~ kaiming_uniform(a=√5) = U(−1/√fan_in, 1/√fan_in) and b ~ U(−1/√fan_in,
1/√fan_in), fan_in = weight.shape[1] × Πkernel_size.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from ...tensor import Tensor, empty
from .. import functional as F
from .. import init
from ..functional.conv import _conv_transpose, _convolution, ntuple, transposed_sizes
from ..parameter import Parameter
from .linear import _fan_in_bound
from .module import Module
from .utils import check_size, factory_kwargs

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What the convolutional layers share: arguments, parameters, initialisation, ``extra_repr``."""

    dims = 0
    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None,
                 output_padding=0) -> None:
        super().__init__()
        name, nd = type(self).__name__, self.dims
        self.in_channels = check_size(in_channels, "in_channels", name)
        self.out_channels = check_size(out_channels, "out_channels", name)
        self.groups = check_size(groups, "groups", name, minimum=1)
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels must be divisible by groups, got in_channels={in_channels}, "
                             f"groups={groups}")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels must be divisible by groups, got out_channels={out_channels}, "
                             f"groups={groups}")
        self.kernel_size = ntuple(kernel_size, nd, "kernel_size", name, minimum=1)
        self.stride = ntuple(stride, nd, "stride", name, minimum=1)
        self.dilation = ntuple(dilation, nd, "dilation", name, minimum=1)
        self.output_padding = ntuple(output_padding, nd, "output_padding", name)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of 'same', 'valid'")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = ntuple(padding, nd, "padding", name)
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {PADDING_MODES}, but got padding_mode="
                             f"{padding_mode!r}")
        self.padding_mode = padding_mode
        self._reversed_padding_repeated_twice = self._pad_widths()
        factory = factory_kwargs(device, dtype, name)
        channels = (in_channels, out_channels // groups) if self.transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(empty(*channels, *self.kernel_size, **factory))
        if bias:
            self.bias = Parameter(empty(out_channels, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _pad_widths(self) -> list[int]:
        """The padding as ``F.pad`` takes it (last dim first, (before, after) each), for the non-zero modes;
        'same' puts the odd cell of an even dilated kernel after, as ``F.conv*`` does."""
        widths = []
        for d in reversed(range(self.dims)):
            if self.padding == "valid":
                widths += [0, 0]
            elif self.padding == "same":
                total = self.dilation[d] * (self.kernel_size[d] - 1)
                widths += [total // 2, total - total // 2]
            else:
                widths += [self.padding[d]] * 2
        return widths

    def reset_parameters(self) -> None:
        fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
        if fan_in:  # an empty weight has nothing to draw
            init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = _fan_in_bound(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self.dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self.dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    """The forward pass of Conv1d/2d/3d: padding in ``padding_mode``, then the convolution."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                         device, dtype)

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        op = f"conv{self.dims}d"
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return _convolution(self.dims, padded, weight, bias, self.stride, 0, self.dilation, self.groups, op, self)
        return _convolution(self.dims, input, weight, bias, self.stride, self.padding, self.dilation, self.groups, op,
                            self)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-d convolution over ``(N, C_in, L)`` (or ``(C_in, L)``) -> ``(N, C_out, L_out)``, as ``torch.nn.Conv1d``.

    Args:
        in_channels, out_channels: C_in and C_out.
        kernel_size, stride, dilation: an int or a 1-tuple.
        padding: an int, a 1-tuple, 'valid' or 'same'.
        groups: independent channel groups (in_channels: depthwise).
        bias: whether to add a learned bias.
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.

    L_out = ⌊(L + 2P − D(K − 1) − 1)/S⌋ + 1.
    """

    dims = 1


class Conv2d(_Conv):
    """2-d convolution over images ``(N, C_in, H, W)`` (or ``(C_in, H, W)``), as ``torch.nn.Conv2d``
    (seed 000 §6.2): each output channel is the sum over the input channels of a learned kernel slid over
    the image, plus a bias.

    Args:
        in_channels, out_channels: C_in and C_out.
        kernel_size, stride, dilation: an int or a pair (rows, columns).
        padding: an int, a pair, 'valid' or 'same'.
        groups: independent channel groups (in_channels: depthwise).
        bias: whether to add a learned bias.
        padding_mode: how ``padding`` fills the border: 'zeros', 'reflect', 'replicate' or 'circular'.

    Shape: ``(N, C_out, H_out, W_out)``, each O = ⌊(N + 2P − D(K − 1) − 1)/S⌋ + 1 — e.g. the worked
    example N = 5, K = 3, P = 1, S = 2 gives O = 3.

    Example::

        >>> conv = nn.Conv2d(1, 32, 3, padding=1)
        >>> conv(fk.randn(128, 1, 28, 28)).shape
        fukaku.Size([128, 32, 28, 28])
    """

    dims = 2


class Conv3d(_Conv):
    """3-d convolution over volumes ``(N, C_in, D, H, W)``, as ``torch.nn.Conv3d``; arguments as
    :class:`Conv2d`, with triples."""

    dims = 3


class _ConvTransposeNd(_ConvNd):
    """The forward pass of ConvTranspose1d/2d/3d: ``output_size`` picks ``output_padding``, as in PyTorch."""

    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None,
                 dtype=None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        if isinstance(padding, str):
            raise TypeError(f"{type(self).__name__}: padding must be an int or a tuple of ints, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                         device, dtype, output_padding)

    def _output_padding(self, input: Tensor, output_size: Sequence[int] | None) -> tuple[int, ...]:
        """``self.output_padding``, or the one that makes the output ``output_size`` (spatial dims, or all
        dims), checked against the range of sizes the layer can make."""
        if output_size is None:
            return self.output_padding
        nd = self.dims
        output_size = tuple(int(s) for s in output_size)
        if len(output_size) == input.ndim:
            output_size = output_size[input.ndim - nd:]
        if len(output_size) != nd:
            raise ValueError(f"{type(self).__name__}: output_size must have {nd} or {input.ndim} elements (got "
                             f"{len(output_size)})")
        smallest = transposed_sizes(input.shape[input.ndim - nd:], self.kernel_size, self.stride, self.padding,
                                    (0,) * nd, self.dilation)
        largest = tuple(s + stride - 1 for s, stride in zip(smallest, self.stride))
        if any(not lo <= s <= hi for s, lo, hi in zip(output_size, smallest, largest)):
            raise ValueError(f"{type(self).__name__}: requested an output size of {output_size}, but valid sizes range "
                             f"from {smallest} to {largest} (for an input of {tuple(input.shape[input.ndim - nd:])})")
        return tuple(s - lo for s, lo in zip(output_size, smallest))

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        output_padding = self._output_padding(input, output_size)
        return _conv_transpose(self.dims, input, self.weight, self.bias, self.stride, self.padding, output_padding,
                               self.groups, self.dilation, f"conv_transpose{self.dims}d", self)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-d convolution, as ``torch.nn.ConvTranspose1d``: ``(N, C_in, L)`` -> ``(N, C_out, L_out)``
    with L_out = (L − 1)·S − 2P + D(K − 1) + output_padding + 1; ``forward(input, output_size=None)``."""

    dims = 1


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-d convolution ("deconvolution"), as ``torch.nn.ConvTranspose2d``: a learned upsampling,
    the adjoint of a Conv2d of the same arguments.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias: as
            :class:`Conv2d` (padding is an int or a pair).
        output_padding: cells added after the last row and column (smaller than the stride or dilation).

    ``forward(input, output_size=None)``: ``output_size`` (H, W) chooses output_padding, resolving the
    sizes a strided convolution maps to one. Shape: ``(N, C_out, H_out, W_out)``, each
    (N − 1)·S − 2P + D(K − 1) + output_padding + 1.
    """

    dims = 2


class ConvTranspose3d(_ConvTransposeNd):
    """Transposed 3-d convolution, as ``torch.nn.ConvTranspose3d``; arguments as :class:`ConvTranspose2d`."""

    dims = 3
