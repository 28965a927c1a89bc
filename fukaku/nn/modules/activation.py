"""Activation layers (seed 000 §6.1.1 and §6.1.3, seed 003, seed 004 §3): each wraps the function
of the same name in :mod:`fukaku.nn.functional`.

* ``Step``: the perceptron's Heaviside step, 1 if z ≥ 0 else 0 (§6.1.1); zero gradient.
* ``Sigmoid`` σ(z) = 1/(1 + e^{−z}) (logistic regression; σ' ≤ 0.25) and ``Tanh``.
* ``ReLU`` max(0, z); ``LeakyReLU`` αz for z < 0 with α fixed; ``PReLU`` with α learned (§6.1.3).
* ``ELU`` α(e^z − 1) for z ≤ 0 — the corrected form (seed 004 prints c·exp(z − 1): erratum).
* ``SiLU`` (Swish, z·σ(z), no β), ``GELU`` z·Φ(z), ``Softplus`` (1/β)·log(1 + e^{βz}).
* ``Softmax`` and ``LogSoftmax`` over a dimension (the classification head, §6.1.2).

The ``inplace`` flags are accepted for PyTorch compatibility: fukaku's autograd records no
in-place op, so these layers always return a new tensor (with the same values).
"""
from __future__ import annotations

from ...tensor import Tensor, empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module
from .utils import check_size, factory_dtype


def _inplace_repr(inplace: bool) -> str:
    return "inplace=True" if inplace else ""


class Step(Module):
    """Heaviside step (seed 000 §6.1.1): 1 where z ≥ 0, else 0; shape unchanged. fukaku's own
    layer (PyTorch has ``torch.heaviside``); its gradient is zero."""

    def forward(self, input: Tensor) -> Tensor:
        return F.step(input)


class Sigmoid(Module):
    """σ(z) = 1/(1 + e^{−z}), elementwise; shape unchanged."""

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(z) = 2σ(2z) − 1, elementwise; shape unchanged."""

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class ReLU(Module):
    """max(0, z), elementwise; shape unchanged."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class LeakyReLU(Module):
    """z for z > 0, ``negative_slope``·z otherwise (seed 004 §3: 0.01z); shape unchanged."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class PReLU(Module):
    """z for z > 0, a·z otherwise, with learnable slopes a (He et al. 2015).

    ``num_parameters=1`` shares one slope; ``num_parameters=C`` learns one per channel of an
    input ``(N, C, *)``. Slopes start at ``init`` (0.25). State-dict key ``weight``, shape
    ``(num_parameters,)``.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None) -> None:
        super().__init__()
        self.num_parameters = check_size(num_parameters, "num_parameters", "PReLU", minimum=1)
        self.init = float(init)
        self.weight = Parameter(empty(self.num_parameters, dtype=factory_dtype(device, dtype, "PReLU")))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    """z for z > 0, α(e^z − 1) otherwise (Clevert et al. 2015; the corrected form of seed 004 §3)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class SiLU(Module):
    """Swish / SiLU, z·σ(z) (seed 000 §6.1.3, without β); shape unchanged."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.silu(input)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


Swish = SiLU  # the textbook's name (seed 000 §6.1.3, seed 003)


class GELU(Module):
    """z·Φ(z) with Φ the standard normal CDF; ``approximate='tanh'`` for the tanh formula."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """(1/β)·log(1 + e^{βz}), and z itself where βz > ``threshold`` (for numerical stability)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """e^{z_i}/Σ_j e^{z_j} along ``dim`` (for logits ``(N, C)`` use ``dim=1``); shape unchanged."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """z_i − log Σ_j e^{z_j} along ``dim``, computed stably; shape unchanged."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
