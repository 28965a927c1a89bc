"""The multilayer perceptron — seed 000 §6.1.2 (L92–193), with the components of §6.1.4.

Layer l = 1 … L computes a^{(l)} = W^{(l)} h^{(l−1)} + b^{(l)} and h^{(l)} = φ^{(l)}(a^{(l)}), h^{(0)} = x.
The hidden φ is a nonlinearity (ReLU, tanh, … §6.1.3); the output φ^{(L)} is the identity for
regression and for logits (pair with ``nn.CrossEntropyLoss``/``BCEWithLogitsLoss``), or a sigmoid /
softmax when probabilities are wanted. §6.1.4 adds BatchNorm (x̂ = (x − μ_B)/√(σ_B² + ε), y = γx̂ + β)
and inverted dropout to a hidden layer.

Each hidden layer is ``Linear → [BatchNorm1d] → activation → [Dropout]`` (torchvision's MLP order);
the last is ``Linear → [output activation]``. :class:`MLP` is an ``nn.Sequential`` of exactly these
modules, numbered 0, 1, 2, …, so its state dict has the keys of the same ``torch.nn.Sequential``
(``0.weight``, ``0.bias``, ``1.running_mean``, …) and weights move between the two unchanged.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from ... import nn
from ...nn.modules.container import Sequential
from ...nn.modules.module import Module

# Activations by name, as nn modules (seed 000 §6.1.3; seed 004 §3).
_HIDDEN: dict[str, Callable[[], Module]] = {
    "relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU,
    "gelu": nn.GELU, "silu": nn.SiLU, "softplus": nn.Softplus, "identity": nn.Identity,
}
_OUTPUT: dict[str, Callable[[], Module]] = {
    "identity": nn.Identity, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
    "softmax": lambda: nn.Softmax(dim=1), "log_softmax": lambda: nn.LogSoftmax(dim=1),
}

ActivationSpec = str | Callable[[], Module] | None


def _make(spec: ActivationSpec, table: dict[str, Callable[[], Module]], what: str) -> Module | None:
    if spec is None:
        return None
    if isinstance(spec, str):
        if spec not in table:
            raise ValueError(f"MLP: unknown {what} {spec!r}; choose one of {sorted(table)} or pass a function "
                             "returning a Module, e.g. lambda: nn.LeakyReLU(0.2)")
        return table[spec]()
    module = spec()
    if not isinstance(module, Module):
        raise TypeError(f"MLP: {what} must be a name or a function returning an nn.Module, got {type(module).__name__}")
    return module


class MLP(Sequential):
    """``MLP(sizes, activation='relu', dropout=0.0, batchnorm=False, output_activation=None)``.

    ``sizes = [d_0, d_1, …, d_L]``: input width, hidden widths, output width (at least two entries).
    ``activation``: a name (``'relu'``, ``'tanh'``, ``'sigmoid'``, ``'leaky_relu'``, ``'elu'``,
    ``'gelu'``, ``'silu'``, ``'softplus'``, ``'identity'``) or a function returning a Module.
    ``dropout``: probability p of the inverted dropout after each hidden activation (0 = none).
    ``batchnorm``: a ``BatchNorm1d`` between each hidden Linear and its activation.
    ``output_activation``: None (logits / regression output), ``'sigmoid'``, ``'softmax'``,
    ``'log_softmax'``, ``'tanh'``, ``'identity'``, or a function returning a Module.
    ``bias`` and ``dtype`` go to every ``nn.Linear``.

    Input ``(N, d_0)`` → output ``(N, d_L)``.
    """

    def __init__(self, sizes: Sequence[int], activation: ActivationSpec = "relu", dropout: float = 0.0,
                 batchnorm: bool = False, output_activation: ActivationSpec = None, bias: bool = True,
                 dtype=None) -> None:
        super().__init__()
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"MLP: sizes must list the input width, any hidden widths and the output width "
                             f"(at least 2 entries, all >= 1), got {list(sizes)}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MLP: dropout must be a probability in [0, 1), got {dropout}")
        if activation is None:
            raise ValueError("MLP: activation must not be None; use 'identity' for a deep linear network")
        self.sizes, self.activation, self.output_activation = sizes, activation, output_activation
        self.dropout, self.batchnorm = float(dropout), bool(batchnorm)
        for d_in, d_out in zip(sizes[:-2], sizes[1:-1]):
            self.append(nn.Linear(d_in, d_out, bias=bias, dtype=dtype))
            if batchnorm:
                self.append(nn.BatchNorm1d(d_out, dtype=dtype))
            self.append(_make(activation, _HIDDEN, "activation"))
            if dropout > 0:
                self.append(nn.Dropout(dropout))
        self.append(nn.Linear(sizes[-2], sizes[-1], bias=bias, dtype=dtype))
        out = _make(output_activation, _OUTPUT, "output_activation")
        if out is not None:
            self.append(out)

    def linear_layers(self) -> list[nn.Linear]:
        """The L ``nn.Linear`` layers, first to last (W^{(1)} … W^{(L)})."""
        return [m for m in self if isinstance(m, nn.Linear)]


__all__ = ["MLP"]
