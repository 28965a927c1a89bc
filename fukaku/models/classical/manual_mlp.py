"""Backpropagation by hand — seed 000 §6.1.2 (L92–193), with NumPy and no autograd.

The multilayer perceptron of §6.1.2, layer l = 1 … L with W^{(l)} of shape d_l × d_{l−1}:

    h^{(0)} = x,   a^{(l)} = W^{(l)} h^{(l−1)} + b^{(l)},   h^{(l)} = φ^{(l)}(a^{(l)}).

Backpropagation is the chain rule run from the loss back to the input, one layer at a time. With
δ^{(l)} = ∂L/∂a^{(l)}:

    δ^{(L)} = ∇_{h^{(L)}}L ∘ φ'(a^{(L)})
    δ^{(l)} = ((W^{(l+1)})ᵀ δ^{(l+1)}) ∘ φ'(a^{(l)})
    ∇_{W^{(l)}}L = δ^{(l)} (h^{(l−1)})ᵀ,     ∇_{b^{(l)}}L = δ^{(l)}.

:class:`ManualMLP` runs exactly these lines. It works on a batch, with samples as rows (the
textbook's column vectors transposed): A^{(l)} = H^{(l−1)} W^{(l)ᵀ} + b^{(l)}, Δ^{(l−1)} =
(Δ^{(l)} W^{(l)}) ∘ φ'(A^{(l−1)}), and the per-sample products δhᵀ and δ are summed over the batch,
∇W^{(l)} = Δ^{(l)ᵀ} H^{(l−1)}, ∇b^{(l)} = Σ_n δ_n — the gradient of a loss that sums (or, with
``grad_output`` already divided by N, averages) over samples. It is the independent check of the
framework's autograd: same weights, same gradients (and both equal finite differences).

φ must act elementwise for the ∘ form of δ^{(L)} to hold; a softmax output couples its units (its
derivative is a Jacobian), so for softmax + cross-entropy use an identity output and pass the fused
gradient ``(softmax(a) − onehot(y)) / N`` as ``grad_output``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ...errors import ShapeError
from ...ops.elementwise import _sigmoid

_Array = np.ndarray


def _leaky(z: _Array) -> _Array:
    return np.where(z > 0, z, 0.01 * z)


def _elu(z: _Array) -> _Array:
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0)))


def _softplus(z: _Array) -> _Array:
    return np.logaddexp(0, z)


# φ and φ' for each elementwise activation, written out by hand (seed 000 §6.1.3).
_ACTIVATIONS: dict[str, tuple[Callable[[_Array], _Array], Callable[[_Array], _Array]]] = {
    "identity": (lambda z: z, np.ones_like),
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1 - _sigmoid(z))),                 # σ' = σ(1 − σ)
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),                                  # 1 − tanh²
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(z.dtype)),         # 1 for z > 0
    "leaky_relu": (_leaky, lambda z: np.where(z > 0, 1.0, 0.01).astype(z.dtype)),     # α = 0.01
    "elu": (_elu, lambda z: np.where(z > 0, 1.0, np.exp(np.minimum(z, 0))).astype(z.dtype)),  # α = 1
    "softplus": (_softplus, _sigmoid),                                                 # log(1+eᶻ)' = σ
    "silu": (lambda z: z * _sigmoid(z), lambda z: _sigmoid(z) * (1 + z * (1 - _sigmoid(z)))),
}


def _activation(name: str | None, where: str) -> tuple[Callable, Callable]:
    key = "identity" if name is None else name
    if key not in _ACTIVATIONS:
        raise ValueError(f"{where}: activation {name!r} is not one ManualMLP differentiates by hand; choose one of "
                         f"{sorted(_ACTIVATIONS)} (elementwise only — see the module docstring for softmax)")
    return _ACTIVATIONS[key]


class ManualMLP:
    """An MLP whose forward and backward passes are the formulas of seed 000 §6.1.2, in NumPy.

    ``sizes = [d_0, d_1, …, d_L]``; ``activation`` is φ for the hidden layers, ``output_activation``
    φ^{(L)} (None = identity). ``weights[l-1]`` is W^{(l)} ``(d_l, d_{l-1})`` and ``biases[l-1]`` is
    b^{(l)} ``(d_l,)``, initialised as ``torch.nn.Linear`` does (U(±1/√d_{l−1})) from ``seed``, or
    copied from an :class:`~fukaku.models.MLP` by :meth:`from_mlp`.
    """

    def __init__(self, sizes: Sequence[int], activation: str = "relu", output_activation: str | None = None,
                 dtype=np.float64, seed: int | None = None) -> None:
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"ManualMLP: sizes must list at least an input and an output width, all >= 1, got {sizes}")
        self.sizes = sizes
        self.activation, self.output_activation = activation, output_activation
        self._phi = [_activation(activation, "ManualMLP")] * (len(sizes) - 2)
        self._phi.append(_activation(output_activation, "ManualMLP"))
        rng = np.random.default_rng(seed)
        self.dtype = np.dtype(dtype)
        bounds = [1.0 / np.sqrt(d_in) for d_in in sizes[:-1]]
        self.weights = [rng.uniform(-k, k, (d_out, d_in)).astype(self.dtype)
                        for k, d_in, d_out in zip(bounds, sizes[:-1], sizes[1:])]
        self.biases = [rng.uniform(-k, k, d_out).astype(self.dtype) for k, d_out in zip(bounds, sizes[1:])]
        self._h: list[_Array] = []
        self._a: list[_Array] = []
        self.grad_input: _Array | None = None

    @classmethod
    def from_mlp(cls, mlp, dtype=np.float64) -> ManualMLP:
        """A ManualMLP with the same weights as ``mlp`` (an :class:`~fukaku.models.MLP` without
        BatchNorm or dropout, and with activations named as strings), in ``dtype``."""
        from .mlp import MLP

        if not isinstance(mlp, MLP):
            raise TypeError(f"ManualMLP.from_mlp: expected a fukaku.models.MLP, got {type(mlp).__name__}")
        if mlp.batchnorm or mlp.dropout > 0:
            raise ValueError("ManualMLP.from_mlp: the δ-recursion of §6.1.2 has no BatchNorm or dropout; "
                             f"build the MLP with batchnorm=False, dropout=0 (got {mlp.batchnorm}, {mlp.dropout})")
        for name in (mlp.activation, mlp.output_activation):
            if name is not None and not isinstance(name, str):
                raise ValueError("ManualMLP.from_mlp: the MLP's activations must be given by name, got "
                                 f"{name!r}; choose one of {sorted(_ACTIVATIONS)}")
        manual = cls(mlp.sizes, mlp.activation, mlp.output_activation, dtype=dtype)
        manual.weights = [layer.weight._data.astype(manual.dtype) for layer in mlp.linear_layers()]
        manual.biases = [layer.bias._data.astype(manual.dtype) for layer in mlp.linear_layers()]
        return manual

    def forward(self, x: _Array) -> _Array:
        """h^{(L)} for a batch ``x`` ``(N, d_0)`` → ``(N, d_L)``; keeps every a^{(l)} and h^{(l)} for backward."""
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ShapeError(f"ManualMLP.forward: input must be (N, {self.sizes[0]}), got {tuple(x.shape)}")
        h = x.astype(self.dtype, copy=False)
        self._h, self._a = [h], []
        for W, b, (phi, _) in zip(self.weights, self.biases, self._phi):
            a = h @ W.T + b                        # a^{(l)} = W^{(l)} h^{(l−1)} + b^{(l)}
            h = phi(a)                             # h^{(l)} = φ(a^{(l)})
            self._a.append(a)
            self._h.append(h)
        return h

    __call__ = forward

    def backward(self, grad_output: _Array) -> list[tuple[_Array, _Array]]:
        """Gradients [(∇W^{(1)}, ∇b^{(1)}), …, (∇W^{(L)}, ∇b^{(L)})] from ``grad_output`` = ∇_{h^{(L)}}L
        ``(N, d_L)`` of the last :meth:`forward`; also sets ``grad_input`` = ∇_x L ``(N, d_0)``."""
        if not self._a:
            raise RuntimeError("ManualMLP.backward: call forward first — backward needs its a^{(l)} and h^{(l)}")
        grad_output = np.asarray(grad_output, self.dtype)
        if grad_output.shape != self._h[-1].shape:
            raise ShapeError(f"ManualMLP.backward: grad_output must match the output {self._h[-1].shape}, "
                             f"got {grad_output.shape}")
        L = len(self.weights)
        grads: list[tuple[_Array, _Array]] = [None] * L  # type: ignore[list-item]
        delta = grad_output * self._phi[-1][1](self._a[-1])                  # δ^{(L)} = ∇_h L ∘ φ'(a^{(L)})
        for layer in range(L - 1, -1, -1):                                    # l = L … 1 (0-based here)
            grads[layer] = (delta.T @ self._h[layer], delta.sum(axis=0))   # ∇W = δ hᵀ, ∇b = δ (batch summed)
            back = delta @ self.weights[layer]                               # (W^{(l+1)})ᵀ δ^{(l+1)}
            if layer > 0:
                back = back * self._phi[layer - 1][1](self._a[layer - 1])    # ∘ φ'(a^{(l)})
            delta = back
        self.grad_input = delta
        return grads


__all__ = ["ManualMLP"]
