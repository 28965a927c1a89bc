"""The residual connection (He et al. 2016; seed 000 §6.1.4, seed 003): h⁽ˡ⁺¹⁾ = h⁽ˡ⁾ + F(h⁽ˡ⁾).

The identity path gives the gradient a route around F: ∂h⁽ˡ⁺¹⁾/∂h⁽ˡ⁾ = I + ∂F/∂h⁽ˡ⁾, so a deep
stack of blocks does not multiply the gradient down to zero (seed 000 §6.1.3).
"""
from __future__ import annotations

from ...errors import ShapeError
from ...tensor import Tensor
from .module import Module


class Residual(Module):
    """y = x + fn(x) for a module ``fn`` that keeps the shape of its input (e.g.
    ``Residual(Sequential(Linear(d, d), ReLU(), Linear(d, d)))``).

    fukaku's own wrapper (PyTorch writes the addition in ``forward``); ``fn``'s parameters appear
    in the state dict under ``fn.``.
    """

    def __init__(self, fn: Module) -> None:
        super().__init__()
        if not isinstance(fn, Module):
            raise TypeError(f"Residual: fn must be a Module (the branch F of h + F(h)), got {type(fn).__name__}")
        self.fn = fn

    def forward(self, input: Tensor) -> Tensor:
        out = self.fn(input)
        if tuple(out.shape) != tuple(input.shape):
            # broadcasting would silently turn a shape bug into a wrong model
            raise ShapeError(
                f"Residual: the branch {type(self.fn).__name__} maps shape {tuple(input.shape)} to {tuple(out.shape)}; "
                "h + F(h) needs F(h) to keep h's shape. Make the branch end with as many features as it starts "
                "with, or add a projection outside the residual block"
            )
        return input + out
