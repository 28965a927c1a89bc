"""Fully connected layers (seed 000 §6.1.2) and the layers that shape their inputs.

``Linear`` holds W ``(out_features, in_features)`` and b ``(out_features,)`` and computes
a = W h + b for every sample (``F.linear``). ``Identity`` passes its input through (the identity
activation of linear regression, seed 000 §6.1.1). ``Bilinear`` computes x₁ᵀ A x₂ + b from two inputs.
"""
from __future__ import annotations

import math

from ...tensor import Tensor, empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module
from .utils import check_size, factory_kwargs


def _weight_and_bias(layer: Module, weight_shape: tuple[int, ...], bias: bool, device, dtype) -> None:
    """Register ``layer.weight`` of ``weight_shape`` and ``layer.bias`` ``(weight_shape[0],)`` (or
    None), uninitialised, then draw them with ``layer.reset_parameters()``."""
    factory = factory_kwargs(device, dtype, type(layer).__name__)
    layer.weight = Parameter(empty(*weight_shape, **factory))
    if bias:
        layer.bias = Parameter(empty(weight_shape[0], **factory))
    else:
        layer.register_parameter("bias", None)
    layer.reset_parameters()


def _fan_in_bound(fan_in: int) -> float:
    """1/√fan_in, the bound of torch's uniform bias (0 for an empty layer, which has nothing to draw)."""
    return 1.0 / math.sqrt(fan_in) if fan_in else 0.0


class Identity(Module):
    """y = x. Any constructor arguments are ignored, as in PyTorch (handy as a placeholder)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """y = x Wᵀ + b: input ``(*, in_features)`` → ``(*, out_features)``.

    Initialised as PyTorch does: W ~ kaiming_uniform(a=√5), i.e. U(−1/√in, 1/√in), and
    b ~ U(−1/√in, 1/√in). State-dict keys ``weight`` and ``bias``.

    ``parameterization="ntk"`` (keyword-only; fukaku's own, PyTorch has no such option) is the neural
    tangent kernel's parameterisation (seed 000 §6.1.8): W ~ N(0, 1) and b ~ N(0, 1), and the layer
    computes y = (σ_w/√in_features)·x Wᵀ + σ_b·b with ``sigma_w`` = σ_w and ``sigma_b`` = σ_b. The
    function class is the same, but gradient descent sees every weight at scale 1, so the NTK has a
    limit as the width grows (:mod:`fukaku.theory.ntk`). The state-dict keys are unchanged.
    """

    # class-level defaults: a Linear saved before the option existed loads as the standard layer
    parameterization, sigma_w, sigma_b = "standard", 1.0, 1.0

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None, *,
                 parameterization: str = "standard", sigma_w: float = 1.0, sigma_b: float = 1.0) -> None:
        super().__init__()
        if parameterization not in ("standard", "ntk"):
            raise ValueError(f"Linear: parameterization must be 'standard' or 'ntk', got {parameterization!r}")
        if parameterization == "standard" and (sigma_w != 1.0 or sigma_b != 1.0):
            raise ValueError("Linear: sigma_w and sigma_b scale the NTK parameterisation only; "
                             "pass parameterization='ntk' with them")
        self.parameterization, self.sigma_w, self.sigma_b = parameterization, float(sigma_w), float(sigma_b)
        self.in_features = check_size(in_features, "in_features", "Linear")
        self.out_features = check_size(out_features, "out_features", "Linear")
        _weight_and_bias(self, (self.out_features, self.in_features), bias, device, dtype)

    def reset_parameters(self) -> None:
        if self.parameterization == "ntk":  # W, b ~ N(0, 1); the forward applies σ_w/√in and σ_b
            init.normal_(self.weight)
            if self.bias is not None:
                init.normal_(self.bias)
            return
        if self.in_features:  # an empty weight has nothing to draw (and no fan-in to scale by)
            init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = _fan_in_bound(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def parameter_scales(self) -> tuple[float, float]:
        """``(s_w, s_b)`` with y = s_w·x Wᵀ + s_b·b: ``(1, 1)``, or ``(σ_w/√in_features, σ_b)`` in the NTK
        parameterisation (s_w = 0 for an empty layer)."""
        if self.parameterization != "ntk":
            return 1.0, 1.0
        return (self.sigma_w / math.sqrt(self.in_features) if self.in_features else 0.0), self.sigma_b

    def forward(self, input: Tensor) -> Tensor:
        if self.parameterization == "ntk":
            s_w, s_b = self.parameter_scales()
            bias = None if self.bias is None else self.bias * s_b
            if input.numel() < self.weight.numel():  # scale the smaller operand: a wide layer on a small batch
                return F.linear(input * s_w, self.weight, bias)
            return F.linear(input, self.weight * s_w, bias)
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        text = f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        if self.parameterization == "ntk":
            text += f", parameterization='ntk', sigma_w={self.sigma_w:g}, sigma_b={self.sigma_b:g}"
        return text


class Bilinear(Module):
    """y = x₁ᵀ A x₂ + b: inputs ``(*, in1_features)`` and ``(*, in2_features)`` → ``(*, out_features)``.

    Weight A ``(out_features, in1_features, in2_features)`` and bias b ``(out_features,)``, both
    initialised U(−1/√in1, 1/√in1) as PyTorch does. State-dict keys ``weight`` and ``bias``.
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.in1_features = check_size(in1_features, "in1_features", "Bilinear")
        self.in2_features = check_size(in2_features, "in2_features", "Bilinear")
        self.out_features = check_size(out_features, "out_features", "Bilinear")
        _weight_and_bias(self, (self.out_features, self.in1_features, self.in2_features), bias, device, dtype)

    def reset_parameters(self) -> None:
        bound = _fan_in_bound(self.in1_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class NonDynamicallyQuantizableLinear(Linear):
    """A :class:`Linear` under PyTorch's name for the output projection of :class:`~fukaku.nn.MultiheadAttention`
    (``out_proj``): the same layer, a distinct class so that the path
    ``nn.modules.linear.NonDynamicallyQuantizableLinear`` of a checkpoint's module tree exists here too."""
