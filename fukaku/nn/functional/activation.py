"""Activation functions with ``torch.nn.functional``'s names (seed 000 §6.1.3).

The elementwise ones are ops of :mod:`fukaku.ops.activation` (also ``fukaku.relu``, ``x.relu()``…),
re-exported here; this file adds the perceptron's ``step`` and ``prelu``, whose slope is a parameter.
"""
from __future__ import annotations

from ...errors import ShapeError
from ...ops._util import fmt
from ...ops.activation import Heaviside, elu, gelu, leaky_relu, log_softmax, relu, silu, softmax, softplus
from ...ops.elementwise import _floating, where
from ...ops.shape import reshape
from ...tensor import Tensor

__all__ = ["step", "prelu", "elu", "gelu", "leaky_relu", "log_softmax", "relu", "silu", "softmax", "softplus"]


def step(input: Tensor) -> Tensor:
    """y = 1 if x ≥ 0 else 0, elementwise, in the input's floating dtype (seed 000 §6.1.1).

    Equal to ``torch.heaviside(x, torch.tensor(1.))``; unlike it, the backward pass gives zeros
    instead of an error.
    """
    return Heaviside.apply(_floating(input))


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """Parametric ReLU (He et al. 2015; seed 000 §6.1.3): x for x > 0, a·x otherwise, a learnable.

    ``weight`` has one element (a slope shared by every channel) or ``C`` elements, one per
    channel of an input ``(N, C, *)`` (dimension 1, as in PyTorch; a 1-d input has one channel).
    Differentiable in the input and in the slopes (the slope's gradient is Σ g·x over x ≤ 0).
    """
    x = _floating(input)
    n = weight.numel()
    if n == 1:
        a = reshape(weight, ())
    else:
        channels = x.shape[1] if x.ndim >= 2 else 1
        if n != channels:
            raise ShapeError(
                f"prelu: weight of shape {fmt(weight.shape)} has {n} slopes but the input of shape "
                f"{fmt(x.shape)} has {channels} channel(s) in dimension 1; use PReLU(num_parameters={channels}) "
                "or a single shared slope (num_parameters=1)"
            )
        a = reshape(weight, (n,) + (1,) * (x.ndim - 2))
    return where(x > 0, x, a * x)
