"""Batch normalisation (seed 000 §6.1.4; seed 003; seed 004 §3.6): x̂ = (x − μ_B)/√(σ²_B + ε), y = γ·x̂ + β.

μ_B and σ²_B are per feature (channel), over the mini-batch, so a sample's output depends on the
other samples of its batch. Training mode uses the batch statistics and keeps running averages
of them; eval mode normalises with those running (population) statistics. Compare
:class:`~fukaku.nn.LayerNorm` (normalization.py), which normalises each sample by itself.
"""
from __future__ import annotations

from ...errors import ShapeError
from ...tensor import Tensor, ones, tensor, zeros
from ..functional.normalization import tracked_batch_norm
from .module import Module
from .normalization import affine_parameters, reset_affine
from .utils import check_size, factory_kwargs


class _NormBase(Module):
    """What batch and instance normalisation layers hold: γ and β, the running statistics, their
    initialisation (as PyTorch's ``_NormBase``; the instance layers subclass it in instancenorm.py).

    * ``momentum``: running ← (1 − momentum)·running + momentum·batch (PyTorch's convention, the
      weight of the *new* statistic); ``momentum=None`` makes it the cumulative average over all
      batches seen (weight 1/num_batches_tracked).
    * ``affine``: learn γ (``weight``, init 1) and β (``bias``, init 0); ``bias=False`` drops β.
    * ``track_running_stats``: keep ``running_mean`` (init 0), ``running_var`` (init 1, updated
      with the unbiased variance) and ``num_batches_tracked``.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        layer = type(self).__name__
        self.num_features = check_size(num_features, "num_features", layer, minimum=1)
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{layer}: momentum must be in [0, 1] or None (cumulative average), got {momentum!r}")
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        factory = factory_kwargs(device, dtype, layer)
        affine_parameters(self, (self.num_features,), affine, bias, factory)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(self.num_features, **factory))
            self.register_buffer("running_var", ones(self.num_features, **factory))
            self.register_buffer("num_batches_tracked", tensor(0, device=factory["device"]))
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
        reset_affine(self)

    def _check_channels(self, input: Tensor, dim: int) -> None:
        if input.shape[dim] != self.num_features:
            raise ShapeError(f"{type(self).__name__}: input of shape {tuple(input.shape)} has {input.shape[dim]} "
                             f"channels in dimension {dim}, the layer was built for num_features={self.num_features}")

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    """Batch normalisation over ``(N, C, *)`` inputs, ``C = num_features``; subclasses name the input
    ranks they take (``ranks``: rank → layout), as PyTorch's ``_check_input_dim``.

    Training mode normalises with the batch statistics and updates the running ones; eval mode
    normalises with the running statistics, or with the batch's when ``track_running_stats=False``.
    """

    ranks: dict[int, str] = {}

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in self.ranks:
            wanted = " or ".join(f"{r}-d {layout}" for r, layout in self.ranks.items())
            raise ShapeError(f"{type(self).__name__}: expected a {wanted} input, got shape {tuple(input.shape)} "
                             f"({input.ndim}-d)")
        self._check_channels(input, 1)
        counting = self.training and self.track_running_stats
        # batch statistics in training, and in eval when no running statistics are kept
        use_batch = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        # momentum=None: the cumulative average (the n-th batch weighs 1/n), which the op reads from the count. The
        # op advances the count itself, once the input is accepted, so a bad batch leaves it alone
        return tracked_batch_norm(input, self.running_mean if track else None, self.running_var if track else None,
                                  self.weight, self.bias, use_batch, self.momentum if counting else 0.0, self.eps,
                                  self.num_batches_tracked if counting else None)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over ``(N, C)`` or ``(N, C, L)`` inputs, ``C = num_features`` (arguments:
    :class:`_NormBase`)."""

    ranks = {2: "(N, C)", 3: "(N, C, L)"}


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of feature maps ``(N, C, H, W)``: μ and σ² per channel over the batch and
    all positions (Ioffe & Szegedy 2015 §3.2: a convolution's feature map shares its γ and β across
    positions, so its statistics do too). Arguments: :class:`_NormBase`."""

    ranks = {4: "(N, C, H, W)"}


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of volumes ``(N, C, D, H, W)``, per channel over the batch and all
    positions. Arguments: :class:`_NormBase`."""

    ranks = {5: "(N, C, D, H, W)"}
