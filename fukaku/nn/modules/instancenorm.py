"""Instance normalisation (Ulyanov et al. 2016): each feature map of each sample normalised by its
own mean and variance over its spatial positions — batch normalisation's formula with the
statistics taken per (sample, channel). Used in style transfer and generative models, where
the contrast of one image should not depend on the rest of its batch.

PyTorch's defaults differ from BatchNorm's: no γ/β (``affine=False``) and no running statistics
(``track_running_stats=False``), so training and eval behave alike unless asked otherwise.
"""
from __future__ import annotations

import warnings

from ...errors import ShapeError
from ...tensor import Tensor
from .. import functional as F
from .batchnorm import _NormBase


class _InstanceNorm(_NormBase):
    """Instance normalisation over ``(N, C, *spatial)`` or unbatched ``(C, *spatial)`` inputs;
    subclasses set ``spatial`` (the number of spatial dims) and ``layout``.

    With ``track_running_stats=True`` training updates ``running_mean``/``running_var`` with the batch
    average of the instance statistics and eval mode normalises with them, as in PyTorch (which never
    advances ``num_batches_tracked`` here, and takes ``momentum=None`` as 0: no update).
    """

    spatial = 0
    layout = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input: Tensor) -> Tensor:
        batched = self.spatial + 2
        if input.ndim not in (batched - 1, batched):
            raise ShapeError(f"{type(self).__name__}: expected a {batched - 1}-d (C, {self.layout}) or {batched}-d "
                             f"(N, C, {self.layout}) input, got shape {tuple(input.shape)} ({input.ndim}-d)")
        channel_dim = input.ndim - self.spatial - 1
        if input.shape[channel_dim] != self.num_features:
            if self.affine:
                self._check_channels(input, channel_dim)
            warnings.warn(f"{type(self).__name__}: input's size at dim={channel_dim} does not match num_features. You "
                          "can silence this warning by not passing in num_features, which is not used because "
                          "affine=False", stacklevel=2)
        x = input if input.ndim == batched else input.unsqueeze(0)
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats,
                              0.0 if self.momentum is None else self.momentum, self.eps)
        return out if input.ndim == batched else out.squeeze(0)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of ``(N, C, L)`` or ``(C, L)`` sequences, per sample and channel over L."""

    spatial, layout = 1, "L"


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of ``(N, C, H, W)`` or ``(C, H, W)`` feature maps, per sample and channel
    over H and W."""

    spatial, layout = 2, "H, W"


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` volumes, per sample and channel
    over D, H and W."""

    spatial, layout = 3, "D, H, W"
