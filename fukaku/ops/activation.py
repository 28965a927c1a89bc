"""Activation functions (seed 000 §6.1.3, seed 003, seed 004 §3): ReLU family, ELU, GELU, SiLU,
softplus, and the softmax family over a dimension.

ELU follows the corrected form c·(exp(z) − 1) for z < 0 (seed 004 prints c·exp(z − 1): erratum).
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function, constant, constant_like
from ..backends import array_module
from ..tensor import Tensor, wrap
from ._util import _norm_dim, tensor_method
from .elementwise import _floating, _sigmoid, _Unary, erf, exp, sigmoid, tanh


class Relu(_Unary):
    """max(0, x); the derivative is 0 where y <= 0 and 1 elsewhere (0 at x = 0, 1 at NaN, as
    torch's threshold_backward)."""

    saves_output = True

    def forward(self, x):
        return array_module(x._data).maximum(x._data, 0)

    def derivative(self):
        y = self.output._data
        return constant((~(y <= 0)).astype(y.dtype))


class LeakyRelu(_Unary):
    """x for x > 0, ``negative_slope``·x otherwise."""

    def __init__(self, negative_slope: float) -> None:
        self.negative_slope = negative_slope

    def forward(self, x):
        self.slope = array_module(x._data).where(x._data > 0, 1.0, self.negative_slope).astype(x._data.dtype)
        return x._data * self.slope

    def derivative(self):
        return constant(self.slope)


class Elu(_Unary):
    """x for x > 0, α(eˣ − 1) otherwise; derivative α·eˣ for x <= 0 (α at x = 0, as torch).

    The derivative's own derivative is α·eˣ only where x < 0: torch's ``elu_double_backward``
    masks x = 0 (and NaN) out, so the derivative is a constant there. eˣ is evaluated at x only
    where x < 0 (at 0 elsewhere), so that a large positive x or a NaN cannot turn into a
    0·inf or 0·NaN = NaN in double backward.
    """

    def __init__(self, alpha: float) -> None:
        self.alpha = alpha

    def forward(self, x):
        self.save(x)
        xp = array_module(x._data)
        self.positive = ~(x._data <= 0)  # NaN takes the linear branch's derivative 1, as torch
        return xp.where(self.positive, x._data, self.alpha * xp.expm1(xp.minimum(x._data, 0))).astype(x._data.dtype)

    def derivative(self):
        (x,) = self.saved
        from .elementwise import Where

        negative = Where.apply(constant(x._data < 0), x, constant_like(0, x._data))
        slope = self.alpha * exp(negative)
        slope = Where.apply(constant(x._data == 0), constant_like(self.alpha, x._data), slope)
        return Where.apply(constant(self.positive), constant_like(1, x._data), slope)


class Gelu(_Unary):
    """x·Φ(x) (exact, with erf) or its tanh approximation (``approximate='tanh'``)."""

    def __init__(self, approximate: str) -> None:
        self.approximate = approximate

    def forward(self, x):
        self.save(x)
        v = x._data
        if self.approximate == "tanh":
            inner = math.sqrt(2.0 / math.pi) * (v + 0.044715 * v ** 3)
            return (0.5 * v * (1.0 + array_module(v).tanh(inner))).astype(v.dtype, copy=False)
        from ._special import erf as _erf

        return (0.5 * v * (1.0 + _erf(v * (1.0 / math.sqrt(2.0))))).astype(v.dtype, copy=False)

    def derivative(self):
        (x,) = self.saved
        if self.approximate == "tanh":
            k = math.sqrt(2.0 / math.pi)
            th = tanh(k * (x + 0.044715 * x * x * x))
            return 0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * (k * (1.0 + 3 * 0.044715 * x * x))
        cdf = 0.5 * (1.0 + erf(x * (1.0 / math.sqrt(2.0))))
        pdf = exp(-0.5 * x * x) * (1.0 / math.sqrt(2.0 * math.pi))
        return cdf + x * pdf


class Silu(_Unary):
    """Swish / SiLU x·σ(x) (seed 000 §6.1.3, without β)."""

    def forward(self, x):
        self.save(x)
        return x._data * _sigmoid(x._data)

    def derivative(self):
        (x,) = self.saved
        s = sigmoid(x)
        return s * (1.0 + x * (1.0 - s))


class Log1pExp(_Unary):
    """The node of :func:`softplus` (named apart from the layer ``nn.Softplus``):
    (1/β)·log(1 + e^{βx}); linear where βx > threshold (as torch)."""

    def __init__(self, beta: float, threshold: float) -> None:
        self.beta = beta
        self.threshold = threshold

    def forward(self, x):
        self.save(x)
        xp = array_module(x._data)
        bx = self.beta * x._data
        self.linear = bx > self.threshold
        return xp.where(self.linear, x._data, xp.logaddexp(0, bx) / self.beta).astype(x._data.dtype, copy=False)

    def derivative(self):
        (x,) = self.saved
        from .elementwise import Where

        return Where.apply(constant(self.linear), constant_like(1, x._data), sigmoid(self.beta * x))


@tensor_method()
def relu(input: Tensor) -> Tensor:
    return Relu.apply(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return LeakyRelu.apply(input, negative_slope=negative_slope)


def elu(input: Tensor, alpha: float = 1.0) -> Tensor:
    return Elu.apply(_floating(input), alpha=alpha)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(_floating(input), approximate=approximate)


def silu(input: Tensor) -> Tensor:
    return Silu.apply(_floating(input))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return Log1pExp.apply(_floating(input), beta=beta, threshold=threshold)


# ----------------------------------------------------------------------- softmax family
def _sum_keep(t: Tensor, dim: int) -> Tensor:
    from .reduce import sum as _sum

    return _sum(t, dim, keepdim=True)


class NormalizedExp(Function):
    """The node of :func:`softmax`, the normalised exponential (named apart from the layer ``nn.Softmax``):
    softmax(x)_i = e^{x_i} / Σ_j e^{x_j}; vjp y⊙(g − Σ g⊙y), jvp y⊙(ẋ − Σ y⊙ẋ) (seed 002 P10)."""

    saves_output = True

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def forward(self, x):
        z = x._data - x._data.max(axis=self.dim, keepdims=True) if x._data.size else x._data
        e = array_module(x._data).exp(z)
        return e / e.sum(axis=self.dim, keepdims=True)

    def vjp(self, grad):
        y = self.output
        return y * (grad - _sum_keep(grad * y, self.dim))

    def jvp(self, dx):
        y = self.output
        return y * (dx - _sum_keep(dx * y, self.dim))


class LogNormalizedExp(Function):
    """The node of :func:`log_softmax` (named apart from the layer ``nn.LogSoftmax``):
    x − logsumexp(x); vjp g − softmax·Σg, jvp ẋ − Σ softmax⊙ẋ."""

    saves_output = True

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def forward(self, x):
        if not x._data.size:
            return x._data.copy()
        xp = array_module(x._data)
        z = x._data - x._data.max(axis=self.dim, keepdims=True)
        return z - xp.log(xp.exp(z).sum(axis=self.dim, keepdims=True))

    def vjp(self, grad):
        p = exp(self.output)
        return grad - p * _sum_keep(grad, self.dim)

    def jvp(self, dx):
        p = exp(self.output)
        return dx - _sum_keep(p * dx, self.dim)


def _softmax_dim(input: Tensor, dim, op: str) -> int:
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1  # torch's legacy implicit choice
    return _norm_dim(dim, input.ndim, op)


@tensor_method()
def softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """Probabilities along ``dim`` (seed 003 demo: softmax([-5, -3, 0, 1, 10]))."""
    x = _floating(input) if dtype is None else input.to(dtype)
    return NormalizedExp.apply(x, dim=_softmax_dim(x, dim, "softmax"))


@tensor_method()
def log_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    x = _floating(input) if dtype is None else input.to(dtype)
    return LogNormalizedExp.apply(x, dim=_softmax_dim(x, dim, "log_softmax"))


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 indices ``(*)`` to a one-hot int64 tensor ``(*, num_classes)``."""
    idx = tensor._data
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expects an integer (int64) tensor of class indices, got {idx.dtype}")
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes}), got range [{idx.min()}, {idx.max()}]")
    return wrap((idx[..., None] == array_module(idx).arange(num_classes)).astype(np.int64))


# ----------------------------------------------------------------------------- activations
class Heaviside(_Unary):
    """The node of :func:`fukaku.nn.functional.step`: the Heaviside step of the classical perceptron (seed 000 §6.1.1): 1 where x ≥ 0, else 0.

    Its derivative is 0 wherever it exists (and undefined at 0), so the gradient is zero: the
    perceptron learns by its error-correction rule, not by back-propagation. NaN maps to 0, as
    ``torch.heaviside(x, 1)`` does.
    """

    def forward(self, x):
        self.zero = array_module(x._data).zeros((), x._data.dtype)
        return (x._data >= 0).astype(x._data.dtype)

    def derivative(self):
        return constant(self.zero)


# the functions ``fukaku.ops`` (and so ``fukaku``) exports from this family
__all__ = ["relu", "leaky_relu", "elu", "gelu", "silu", "softplus", "softmax", "log_softmax", "one_hot"]
