"""Layer and group normalisation (seed 000 §6.1.4; seed 003; seed 004 §3.6), and local response
normalisation (AlexNet).

x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β with the biased σ², μ and σ² taken per sample — over its
features (LayerNorm) or over each group of channels (GroupNorm) — independent of the batch, the
same in training and eval. Batch normalisation, which takes them per feature over the
mini-batch, is in batchnorm.py, instance normalisation in instancenorm.py (PyTorch's file names).
"""
from __future__ import annotations

from ...errors import ShapeError
from ...tensor import Tensor, empty
from .. import functional as F
from ..functional.normalization import normalized_shape_tuple
from .. import init
from ..parameter import Parameter
from .module import Module
from .utils import check_size, factory_kwargs


def affine_parameters(module: Module, shape: tuple[int, ...], affine: bool, bias: bool, factory: dict) -> None:
    """Give a normalisation layer its γ (``weight``) and β (``bias``) of ``shape`` — or None for each
    it does not learn — initialised to 1 and 0 (:func:`reset_affine`); ``factory``: their device and dtype
    (:func:`~fukaku.nn.modules.utils.factory_kwargs`)."""
    module.register_parameter("weight", Parameter(empty(*shape, **factory)) if affine else None)
    module.register_parameter("bias", Parameter(empty(*shape, **factory)) if affine and bias else None)
    reset_affine(module)


def reset_affine(module: Module) -> None:
    """γ ← 1, β ← 0: a normalisation layer starts as the plain normalisation."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class LayerNorm(Module):
    """Layer normalisation over the trailing dims ``normalized_shape`` of an input
    ``(*, *normalized_shape)``; output of the same shape.

    ``elementwise_affine`` learns γ (``weight``, init 1) and, with ``bias=True``, β (``bias``,
    init 0), each of shape ``normalized_shape``.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        shape = normalized_shape_tuple(normalized_shape)
        if not shape or any(s < 1 for s in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be one or more positive sizes, "
                             f"got {normalized_shape!r}")
        self.normalized_shape = shape
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        affine_parameters(self, shape, elementwise_affine, bias, factory_kwargs(device, dtype, "LayerNorm"))

    def reset_parameters(self) -> None:
        reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        """(x − E[x]) / √(Var[x] + eps) · γ + β, with the mean and the biased variance over each sample's
        trailing ``normalized_shape`` dims; γ and β are ``weight`` and ``bias`` where learned."""
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Group normalisation (Wu & He 2018) of ``(N, C, *)`` inputs, ``C = num_channels``: each
    sample's channels split into ``num_groups`` groups normalised by their own μ and σ² (over the
    group's channels and positions), then a per-channel γ (``weight``, init 1) and β (``bias``,
    init 0) when ``affine``. Batch-independent: works with batches of one (detection, segmentation).
    ``GroupNorm(1, C)`` normalises each sample as a whole; ``GroupNorm(C, C)`` each channel.
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_groups = check_size(num_groups, "num_groups", "GroupNorm", minimum=1)
        self.num_channels = check_size(num_channels, "num_channels", "GroupNorm", minimum=1)
        if self.num_channels % self.num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.eps = eps
        self.affine = affine
        affine_parameters(self, (self.num_channels,), affine, bias, factory_kwargs(device, dtype, "GroupNorm"))

    def reset_parameters(self) -> None:
        reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim >= 2 and input.shape[1] != self.num_channels:
            raise ShapeError(f"GroupNorm: input of shape {tuple(input.shape)} has {input.shape[1]} channels in "
                             f"dimension 1, the layer was built for num_channels={self.num_channels}")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class LocalResponseNorm(Module):
    """Local response normalisation across channels (Krizhevsky et al. 2012 §3.3, AlexNet's
    "brightness normalisation"): b_c = a_c / (k + α/n·Σ a_{c'}²)^β over the ``size`` = n channels
    around c (:func:`fukaku.nn.functional.local_response_norm`). No parameters; ``(N, C, *)`` → same.
    AlexNet used n = 5, α = 10⁻⁴·n (PyTorch divides α by n), β = 0.75, k = 2.
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size = check_size(size, "size", "LocalResponseNorm", minimum=1)
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
