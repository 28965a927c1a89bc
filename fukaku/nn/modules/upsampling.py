"""Upsampling layers: :func:`~fukaku.nn.functional.interpolate` as a Module (U-Net's decoder,
feature pyramids), by a scale factor or to a fixed size. No parameters."""
from __future__ import annotations

from ...tensor import Tensor
from ..functional.vision import interpolate
from .module import Module


class Upsample(Module):
    """Resize ``(N, C, L)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)`` inputs to ``size`` or by
    ``scale_factor`` with ``mode`` ``'nearest'`` (default), ``'nearest-exact'``, ``'linear'``,
    ``'bilinear'`` or ``'trilinear'``; ``align_corners`` and ``recompute_scale_factor`` as in
    :func:`~fukaku.nn.functional.interpolate`.

    Example::

        >>> nn.Upsample(scale_factor=2, mode="nearest")(fk.ones(1, 3, 4, 4)).shape
        fukaku.Size([1, 3, 8, 8])
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """:class:`Upsample` with ``mode='nearest'`` for ``(N, C, H, W)`` inputs."""

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """:class:`Upsample` with ``mode='bilinear'`` and ``align_corners=True`` for ``(N, C, H, W)`` inputs."""

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
