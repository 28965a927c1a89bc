"""What linear and logistic regression share: one layer of neurons z = Wx + b (seed 000 §6.1.1), its
weights starting at zero, in ``nn.Linear``'s layout and state-dict keys."""
from __future__ import annotations

from ...errors import ShapeError
from ...nn import functional as F
from ...nn.modules.module import Module
from ...nn.parameter import Parameter
from ...tensor import Tensor, zeros


class AffineNeurons(Module):
    """``weight`` ``(outputs, in_features)`` and ``bias`` ``(outputs,)``, both zero; the base of the
    regressions, whose losses are convex, so zero is as good a start as any."""

    def __init__(self, in_features: int, outputs: int, dtype=None) -> None:
        super().__init__()
        self.in_features = int(in_features)
        self.weight = Parameter(zeros(outputs, self.in_features, dtype=dtype))
        self.bias = Parameter(zeros(outputs, dtype=dtype))

    def affine(self, input: Tensor) -> Tensor:
        """z = Wx + b, ``(N, in_features)`` → ``(N, outputs)``; any other input shape is refused."""
        if input.ndim != 2 or input.shape[1] != self.in_features:
            raise ShapeError(f"{type(self).__name__}: input must have shape (N, {self.in_features}), "
                             f"got {tuple(input.shape)}")
        return F.linear(input, self.weight, self.bias)
