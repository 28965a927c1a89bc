"""Fully connected layers (seed 000 §6.1.2) and the layers that shape their inputs.

``Linear`` holds W ``(out_features, in_features)`` and b ``(out_features,)`` and computes
a = W h + b for every sample (``F.linear``). ``Identity`` passes its input through (the identity
activation of linear regression, seed 000 §6.1.1), ``Flatten``/``Unflatten`` reshape between
images and feature vectors.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes
from ..ops.shape import flatten, unflatten
from ..tensor import Tensor, empty
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


def factory_dtype(device, dtype, layer: str) -> np.dtype:
    """The dtype a layer creates its parameters in (the default float unless given).

    ``device`` is accepted for PyTorch compatibility; NumPy only computes on the CPU.
    """
    if device is not None and str(device) != "cpu":
        raise ValueError(f"{layer}: fukaku computes on the CPU only, got device={device!r}; "
                         "leave device unset or pass 'cpu'")
    dt = dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"{layer}: parameters must be floating point, got dtype {dt}")
    return dt


def check_size(value, name: str, layer: str, minimum: int = 0) -> int:
    """A layer size argument as an int, refusing non-integers and values below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{layer}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


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


class Flatten(Module):
    """Merge dimensions ``start_dim..end_dim`` into one: ``(N, C, H, W)`` → ``(N, C·H·W)`` by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size``: ``(N, 784)`` → ``(N, 1, 28, 28)`` with
    ``Unflatten(1, (1, 28, 28))`` (one size may be -1)."""

    def __init__(self, dim: int, unflattened_size) -> None:
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)) or not unflattened_size:
            raise TypeError(f"Unflatten: unflattened_size must be a non-empty tuple of ints, got {unflattened_size!r}")
        self.dim = dim
        self.unflattened_size = tuple(int(s) for s in unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        return unflatten(input, self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
