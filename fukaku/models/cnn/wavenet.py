"""A WaveNet-style dilated causal 1-D CNN for time series (van den Oord et al. 2016) — the
"dilated CNN" of seed 000 §6.2, which widens the receptive field for speech and time series.

Causal: the output at step t depends on the inputs at steps ≤ t only. A :class:`CausalConv1d` pads
(k − 1)·d zeros on the left and none on the right, so y_t = Σ_j w_j x_{t − d(k − 1 − j)}.

Dilated: layer i skips d_i − 1 inputs between kernel taps, d_i = 1, 2, 4, …, 2^{L−1} (repeated over
``num_stacks``), so the receptive field grows exponentially with depth:
R = (k − 1)(1 + Σ_i d_i) + 1 steps (the 1 is the first causal convolution).

Each residual block (the paper's Fig. 4) computes the gated activation z = tanh(W_f ∗ x) ⊙ σ(W_g ∗ x)
(one dilated convolution to 2C channels, split into the filter and gate halves), then a 1×1 convolution
back to the residual stream (x + W_r z) and one to the skip channels (W_s z). The skips of all blocks
are summed, and the head ReLU → 1×1 conv → ReLU → 1×1 conv maps them to the output — e.g. the
one-step-ahead prediction of the series (train y_t against x_{t+1}). Every layer runs over the whole
sequence at once: no loop over time or samples.
"""
from __future__ import annotations

from collections.abc import Sequence

from ... import nn
from ...nn import functional as F
from ...nn.modules.module import Module
from ...tensor import Tensor
from ._util import check_input


class CausalConv1d(nn.Conv1d):
    """``CausalConv1d(in_channels, out_channels, kernel_size, dilation=1, bias=True)``: an ``nn.Conv1d``
    whose input is padded on the left by (kernel_size − 1)·dilation, so output t sees inputs ≤ t only.

    Shape: ``(N, in_channels, L)`` → ``(N, out_channels, L)``. Its parameters are an ``nn.Conv1d``'s
    (``weight``, ``bias``), so its state dict loads into ``torch.nn.Conv1d``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1,
                 bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, kernel_size, dilation=dilation, bias=bias)
        self.causal_padding = (int(kernel_size) - 1) * int(dilation)

    def forward(self, input: Tensor) -> Tensor:
        return super().forward(F.pad(input, (self.causal_padding, 0)))

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, causal_padding={self.causal_padding}"


class WaveNetBlock(Module):
    """``WaveNetBlock(residual_channels, skip_channels, kernel_size=2, dilation=1)``: one gated residual
    block. ``forward(x)`` returns ``(x + W_r z, W_s z)`` with z = tanh(a) ⊙ σ(b), [a; b] = ``dilated(x)``.

    Shape: ``(N, residual_channels, L)`` → ``((N, residual_channels, L), (N, skip_channels, L))``.
    """

    def __init__(self, residual_channels: int, skip_channels: int, kernel_size: int = 2, dilation: int = 1) -> None:
        super().__init__()
        self.dilation = int(dilation)
        self.dilated = CausalConv1d(residual_channels, 2 * residual_channels, kernel_size, dilation=dilation)
        self.residual = nn.Conv1d(residual_channels, residual_channels, 1)
        self.skip = nn.Conv1d(residual_channels, skip_channels, 1)

    def forward(self, input: Tensor) -> tuple[Tensor, Tensor]:
        filt, gate = self.dilated(input).chunk(2, dim=1)
        z = filt.tanh() * gate.sigmoid()
        return input + self.residual(z), self.skip(z)

    def extra_repr(self) -> str:
        return f"dilation={self.dilation}"


class WaveNet(Module):
    """``WaveNet(in_channels=1, out_channels=1, residual_channels=16, skip_channels=16, kernel_size=2,
    num_layers=8, num_stacks=1, dilations=None)``.

    Args:
        in_channels: channels (variables) of the input series.
        out_channels: channels of the output series (e.g. the next value of each variable, or the logits
            of a quantised value).
        residual_channels: channels C of the residual stream.
        skip_channels: channels of the skip connections and of the head.
        kernel_size: taps k of every causal convolution (2 in the paper).
        num_layers: blocks per stack, dilations 1, 2, …, 2^{num_layers − 1}.
        num_stacks: how many times the dilation cycle repeats.
        dilations: an explicit list of dilations instead of the two settings above.

    Shape:
        ``(N, in_channels, L)`` → ``(N, out_channels, L)``; output t depends on inputs 0 … t only,
        and on at most the last :attr:`receptive_field` of them.

    Examples:
        >>> WaveNet(num_layers=4).receptive_field        # (2 − 1)(1 + 1 + 2 + 4 + 8) + 1
        17
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 1, residual_channels: int = 16,
                 skip_channels: int = 16, kernel_size: int = 2, num_layers: int = 8, num_stacks: int = 1,
                 dilations: Sequence[int] | None = None) -> None:
        super().__init__()
        if dilations is None:
            dilations = [2 ** i for i in range(num_layers)] * num_stacks
        dilations = [int(d) for d in dilations]
        if not dilations or min(dilations) < 1 or kernel_size < 1:
            raise ValueError(f"WaveNet: needs at least one block, dilations >= 1 and kernel_size >= 1, "
                             f"got dilations={dilations}, kernel_size={kernel_size}")
        self.in_channels, self.out_channels, self.kernel_size = int(in_channels), int(out_channels), int(kernel_size)
        self.dilations = dilations
        self.causal = CausalConv1d(in_channels, residual_channels, kernel_size)
        self.blocks = nn.ModuleList([WaveNetBlock(residual_channels, skip_channels, kernel_size, d)
                                     for d in dilations])
        self.head = nn.Sequential(nn.ReLU(), nn.Conv1d(skip_channels, skip_channels, 1), nn.ReLU(),
                                  nn.Conv1d(skip_channels, out_channels, 1))

    @property
    def receptive_field(self) -> int:
        """R = (k − 1)(1 + Σ dᵢ) + 1: how many steps, the current one included, output t can see."""
        return (self.kernel_size - 1) * (1 + sum(self.dilations)) + 1

    def forward(self, input: Tensor) -> Tensor:
        check_input("WaveNet", input, self.in_channels, ndim=3)
        x = self.causal(input)
        skips = None
        for block in self.blocks:
            x, s = block(x)
            skips = s if skips is None else skips + s
        return self.head(skips)

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, out_channels={self.out_channels}, kernel_size={self.kernel_size}, "
                f"dilations={self.dilations}, receptive_field={self.receptive_field}")


__all__ = ["CausalConv1d", "WaveNetBlock", "WaveNet"]
