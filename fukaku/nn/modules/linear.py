"""Fully connected layers (seed 000 §6.1.2) and the layers that shape their inputs.

``Linear`` holds W ``(out_features, in_features)`` and b ``(out_features,)`` and computes
a = W h + b for every sample (``F.linear``). ``Identity`` passes its input through (the identity
activation of linear regression, seed 000 §6.1.1).
"""
from __future__ import annotations

import math

from ...tensor import Tensor, empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module
from .utils import check_size, factory_dtype


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
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.in_features = check_size(in_features, "in_features", "Linear")
        self.out_features = check_size(out_features, "out_features", "Linear")
        dt = factory_dtype(device, dtype, "Linear")
        self.weight = Parameter(empty(self.out_features, self.in_features, dtype=dt))
        if bias:
            self.bias = Parameter(empty(self.out_features, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.in_features:  # an empty weight has nothing to draw (and no fan-in to scale by)
            init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features) if self.in_features else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
