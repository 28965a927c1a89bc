"""Dropout (Srivastava et al. 2014; seed 000 §6.1.4, seed 004 §3.6), the inverted form.

In training each unit is dropped with probability p and the survivors are scaled by 1/(1 − p),
h̃ = 0 w.p. p, else h/(1 − p), so E[h̃] = h and the layer is the identity at test time
(``model.eval()``) without any rescaling there.
"""
from __future__ import annotations

from ...tensor import Tensor
from ..functional.dropout import check_probability, dropout
from .module import Module


class Dropout(Module):
    """Inverted dropout with drop probability ``p``; any shape → the same shape.

    Masks come from fukaku's generator (``fukaku.manual_seed``). ``inplace=True`` writes the
    result into the input and returns it.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.p = check_probability(p, "Dropout")
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
