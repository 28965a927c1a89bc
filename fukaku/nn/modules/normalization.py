"""Layer normalisation (seed 000 §6.1.4; seed 003; seed 004 §3.6).

x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β with the biased σ², μ and σ² taken per sample over its
features — independent of the batch, the same in training and eval. Batch normalisation, which
takes them per feature over the mini-batch, is in batchnorm.py (PyTorch's file names).
"""
from __future__ import annotations

from ...tensor import Tensor, empty
from .. import functional as F
from ..functional.normalization import normalized_shape_tuple
from .. import init
from ..parameter import Parameter
from .module import Module
from .utils import factory_dtype


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
        dt = factory_dtype(device, dtype, "LayerNorm")
        if elementwise_affine:
            self.weight = Parameter(empty(*shape, dtype=dt))
            if bias:
                self.bias = Parameter(empty(*shape, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")
