"""Batch normalisation (seed 000 §6.1.4; seed 003; seed 004 §3.6): x̂ = (x − μ_B)/√(σ²_B + ε), y = γ·x̂ + β.

μ_B and σ²_B are per feature (channel), over the mini-batch, so a sample's output depends on the
other samples of its batch. Training mode uses the batch statistics and keeps running averages
of them; eval mode normalises with those running (population) statistics. Compare
:class:`~fukaku.nn.LayerNorm` (normalization.py), which normalises each sample by itself.
"""
from __future__ import annotations

from ...errors import ShapeError
from ...tensor import Tensor, empty, ones, tensor, zeros
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module
from .utils import check_size, factory_dtype


class BatchNorm1d(Module):
    """Batch normalisation over ``(N, C)`` or ``(N, C, L)`` inputs, ``C = num_features``.

    * ``momentum``: running ← (1 − momentum)·running + momentum·batch (PyTorch's convention, the
      weight of the *new* statistic); ``momentum=None`` makes it the cumulative average over all
      batches seen (weight 1/num_batches_tracked).
    * ``affine``: learn γ (``weight``, init 1) and β (``bias``, init 0); ``bias=False`` drops β.
    * ``track_running_stats``: keep ``running_mean`` (init 0), ``running_var`` (init 1, updated
      with the unbiased batch variance) and ``num_batches_tracked``; without them, eval mode
      normalises with the batch statistics too.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features = check_size(num_features, "num_features", "BatchNorm1d", minimum=1)
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNorm1d: momentum must be in [0, 1] or None (cumulative average), got {momentum!r}")
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dt = factory_dtype(device, dtype, "BatchNorm1d")
        if affine:
            self.weight = Parameter(empty(self.num_features, dtype=dt))
            if bias:
                self.bias = Parameter(empty(self.num_features, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(self.num_features, dtype=dt))
            self.register_buffer("running_var", ones(self.num_features, dtype=dt))
            self.register_buffer("num_batches_tracked", tensor(0))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (2, 3):
            raise ShapeError(f"BatchNorm1d: expected a 2-d (N, C) or 3-d (N, C, L) input, got shape "
                             f"{tuple(input.shape)} ({input.ndim}-d)")
        if input.shape[1] != self.num_features:
            raise ShapeError(f"BatchNorm1d: input of shape {tuple(input.shape)} has {input.shape[1]} channels in "
                             f"dimension 1, the layer was built for num_features={self.num_features}")
        counting = self.training and self.track_running_stats
        factor = 0.0 if self.momentum is None else self.momentum
        if counting and self.momentum is None:  # cumulative average: the n-th batch gets weight 1/n
            factor = 1.0 / (self.num_batches_tracked.item() + 1)
        # batch statistics in training, and in eval when no running statistics are kept
        use_batch = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        out = F.batch_norm(input, self.running_mean if track else None, self.running_var if track else None,
                           self.weight, self.bias, use_batch, factor, self.eps)
        if counting:  # only once batch_norm has accepted the input, so a bad batch leaves the count alone
            self.num_batches_tracked.add_(1)
        return out

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")
