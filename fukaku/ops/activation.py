"""Activation functions (seed 000 §6.1.3, seed 003, seed 004 §3): ReLU family (threshold, the
saturating hardtanh/relu6), ELU and its scaled forms SELU and CELU, GELU, SiLU, softplus, mish,
the piecewise-linear hardsigmoid/hardswish, softsign, log σ, and the softmax family over a
dimension.

The functions PyTorch has at its top level (``torch.relu``, ``torch.selu``, ``torch.threshold``…)
are defined here; the others call these nodes from :mod:`fukaku.nn.functional.activation`.

ELU follows the corrected form c·(exp(z) − 1) for z < 0 (seed 004 prints c·exp(z − 1): erratum).
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..autograd.function import Function, constant, constant_like
from ..autograd.grad_mode import state
from ..backends import array_module, caching_allocator
from ..tensor import Tensor, wrap
from . import _parallel, _special
from ._special import normal_cdf_float32
from ._util import _norm_dim, in_float32_if_bfloat16, tensor_method
from .elementwise import _floating, _sigmoid, _Unary, erf, exp, sigmoid, tanh
from .inplace import apply_inplace


#: The length of the zero row that :func:`_clamp_at_zero` compares large arrays with, row by row.
ZERO_ROW = 8192


def _clamp_at_zero(a: np.ndarray) -> np.ndarray:
    """max(a, 0). NumPy's ``maximum`` runs its SIMD loop only when both operands are arrays; against the scalar 0
    it is three times slower (1 M float32: 0.31 vs 0.10 ms), so a large contiguous float32/float64 array is
    compared row by row with a cached row of zeros (and its remainder with the scalar). Same values, NaN and
    signed zeros included. One thread: this single fast pass split in two measured no faster (a ResNet-20 step,
    medians of 12: 147.8 ms on one thread, 148.6 ms split)."""
    xp = array_module(a)
    if xp is not np or a.size < ZERO_ROW or a.dtype not in _ZERO_ROWS or not a.flags.c_contiguous:
        return xp.maximum(a, 0)
    zeros = _ZERO_ROWS[a.dtype]
    if zeros is None:
        zeros = _ZERO_ROWS[a.dtype] = xp.zeros(ZERO_ROW, a.dtype)
    out = caching_allocator.empty(a.shape, a.dtype)
    flat, flat_out = a.reshape(-1), out.reshape(-1)
    whole = a.size - a.size % ZERO_ROW
    xp.maximum(flat[:whole].reshape(-1, ZERO_ROW), zeros, out=flat_out[:whole].reshape(-1, ZERO_ROW))
    xp.maximum(flat[whole:], 0, out=flat_out[whole:])
    return out


# the dtypes whose maximum has a SIMD loop, and their rows of zeros (made on first use)
_ZERO_ROWS: dict = {np.dtype(np.float32): None, np.dtype(np.float64): None}


class Relu(_Unary):
    """max(0, x); the derivative is 0 where y <= 0 and 1 elsewhere (0 at x = 0, 1 at NaN, as
    torch's threshold_backward)."""

    saves_output = True

    def forward(self, x):
        return _clamp_at_zero(x._data)

    def derivative(self):
        return constant(_passes(self.output._data, self.output._data.dtype))

    def vjp(self, grad):
        return ReluBackward.apply(grad, self.output)


def _passes(y: np.ndarray, dtype) -> np.ndarray:
    """1 where ReLU's gradient passes (not y <= 0: NaN passes), 0 elsewhere, in ``dtype``. A float mask times the
    gradient is faster than the booleans times it, whose mixed-dtype multiply NumPy runs through a cast buffer
    (1 M float32 out of cache: 0.38 vs 0.46 ms)."""
    return (~(y <= 0)).astype(dtype)


class ReluBackward(Function):
    """ReLU's vjp as one node, PyTorch's ``threshold_backward``: the gradient g where y = relu(x) is not <= 0
    (NaN passes), 0 elsewhere. Linear in g; y only selects, so it gets no gradient (0 almost everywhere).
    A large pass is shared among the threads (:func:`~fukaku.ops._parallel.binary`).
    Rules: vjp ∂L/∂g = ReluBackward(ḡ, y), ∂L/∂y = 0; jvp ReluBackward(ġ, y)."""

    def forward(self, grad, y):
        self.save(y)
        xp = array_module(grad._data, y._data)
        return _parallel.binary(lambda g, out_of_relu, out=None: xp.multiply(
            g, _passes(out_of_relu, out_of_relu.dtype), out=out), grad._data, y._data)

    def vjp(self, grad):
        y = self.saved[0]
        # a zero, not None, for y when it needs one: the engine counts on a gradient along every edge it waits on
        return (ReluBackward.apply(grad, y) if self.needs_input_grad[0] else None,
                constant_like(0, y._data) * grad if self.needs_input_grad[1] else None)

    def jvp(self, dgrad, dy):
        y = self.saved[0]
        return ReluBackward.apply(dgrad, y) if dgrad is not None else constant_like(0, y._data) * dy


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
    """scale·x for x > 0, scale·α(e^{input_scale·x} − 1) otherwise: the node of :func:`elu`
    (scale = input_scale = 1), :func:`selu` (torch's fixed α and scale) and :func:`celu`
    (input_scale = 1/α), as torch's ``elu`` kernel computes all three.

    The derivative is scale·α·input_scale·e^{input_scale·x} for x <= 0 (its value at x = 0 too, as
    torch) and scale elsewhere (NaN included: torch tests x <= 0). Its own derivative is that
    expression's only where x < 0: torch's ``elu_double_backward`` masks x = 0 (and NaN) out, so
    the derivative is a constant there. The exponential is evaluated at x only where x < 0 (at 0
    elsewhere), so that a large positive x or a NaN cannot turn into a 0·inf or 0·NaN = NaN in
    double backward.
    """

    def __init__(self, alpha: float, scale: float = 1.0, input_scale: float = 1.0) -> None:
        self.alpha = alpha
        self.scale = scale
        self.input_scale = input_scale

    def forward(self, x):
        self.save(x)
        xp = array_module(x._data)
        v = x._data
        self.positive = ~(v <= 0)  # NaN takes the linear branch's derivative, as torch
        negative = xp.expm1(xp.minimum(v, 0) * self.input_scale) * (self.alpha * self.scale)
        linear = v if self.scale == 1 else v * self.scale
        return xp.where(self.positive, linear, negative).astype(v.dtype, copy=False)

    def derivative(self):
        (x,) = self.saved
        from .elementwise import Where

        at_zero = self.alpha * self.scale * self.input_scale
        negative = Where.apply(constant(x._data < 0), x, constant_like(0, x._data))
        slope = at_zero * exp(negative if self.input_scale == 1 else negative * self.input_scale)
        slope = Where.apply(constant(x._data == 0), constant_like(at_zero, x._data), slope)
        return Where.apply(constant(self.positive), constant_like(self.scale, x._data), slope)


class Gelu(_Unary):
    """x·Φ(x) (exact, with erf) or its tanh approximation (``approximate='tanh'``)."""

    def __init__(self, approximate: str) -> None:
        self.approximate = approximate
        self._cdf = None  # Φ(x) of an exact float32 forward, kept for a plain backward

    def forward(self, x):
        self.save(x)
        v = x._data
        if self.approximate == "tanh":
            inner = math.sqrt(2.0 / math.pi) * (v + 0.044715 * v ** 3)
            return (0.5 * v * (1.0 + array_module(v).tanh(inner))).astype(v.dtype, copy=False)
        if v.dtype == np.float32:  # Φ in float32 arithmetic, 8× faster than erf's float64
            self._cdf = normal_cdf_float32(v)
            return v * self._cdf
        return (0.5 * v * (1.0 + _special.erf(v * (1.0 / math.sqrt(2.0))))).astype(v.dtype, copy=False)

    def release(self) -> None:
        super().release()
        self._cdf = None

    def derivative(self):
        (x,) = self.saved
        if self._cdf is not None and not state.grad_enabled:  # a plain backward: Φ(x) + xφ(x) on arrays, Φ kept
            v = x._data.reshape(-1)  # 1-d, so that the in-place passes below have arrays (not 0-d scalars)
            slope = v * v
            slope *= np.float32(-0.5)
            array_module(v).exp(slope, out=slope)
            slope *= v * np.float32(1 / math.sqrt(2.0 * math.pi))
            slope += self._cdf.reshape(-1)
            return constant(slope.reshape(x.shape))
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


class ThresholdReplace(_Unary):
    """The node of :func:`threshold`: x where x > ``threshold``, ``value`` elsewhere. The derivative
    is 1 where x > threshold (NaN included, as torch's ``threshold_backward`` tests x <= threshold)
    and 0 elsewhere."""

    def __init__(self, threshold: float, value: float) -> None:
        self.threshold = threshold
        self.value = value

    def forward(self, x):
        v = x._data
        keep = ~(v <= self.threshold)
        self.slope = keep.astype(v.dtype)
        return array_module(v).where(keep, v, self.value).astype(v.dtype, copy=False)

    def derivative(self):
        return constant(self.slope)


class SaturatingLinear(_Unary):
    """The node of ``hardtanh`` and ``relu6`` (:mod:`fukaku.nn.functional`): x clamped to
    [``min_val``, ``max_val``] (relu6 is [0, 6]). The derivative is 0 on the bounds and outside,
    1 strictly inside and at NaN, as torch's ``hardtanh_backward`` (unlike :func:`clamp`, whose
    gradient reaches the bounds)."""

    def __init__(self, min_val: float, max_val: float) -> None:
        self.min_val = min_val
        self.max_val = max_val

    def forward(self, x):
        v = x._data
        self.slope = (~((v <= self.min_val) | (v >= self.max_val))).astype(v.dtype)  # NaN passes, as torch
        return array_module(v).clip(v, self.min_val, self.max_val).astype(v.dtype, copy=False)

    def derivative(self):
        return constant(self.slope)


class PiecewiseLinearSigmoid(_Unary):
    """The node of ``hardsigmoid``: min(max(x + 3, 0), 6) / 6, the piecewise-linear sigmoid of
    MobileNetV3; derivative 1/6 strictly inside (−3, 3), 0 elsewhere (and at NaN). Its second
    derivative is 0 (torch has no double backward for it)."""

    def forward(self, x):
        v = x._data
        xp = array_module(v)
        self.slope = (((v > -3) & (v < 3)) / 6).astype(v.dtype)
        return (xp.minimum(xp.maximum(v + 3, 0), 6) / 6).astype(v.dtype, copy=False)

    def derivative(self):
        return constant(self.slope)


class PiecewiseSwish(_Unary):
    """The node of ``hardswish``: x·min(max(x + 3, 0), 6) / 6 (MobileNetV3). The derivative is
    x/3 + 1/2 strictly inside (−3, 3), 0 for x <= −3 and 1 for x >= 3 (and at NaN), as torch 2.13
    computes it; its own derivative is 1/3 strictly inside and 0 elsewhere (torch's double
    backward)."""

    def forward(self, x):
        self.save(x)
        v = x._data
        xp = array_module(v)
        self.inside = (v > -3) & (v < 3)
        return (v * xp.minimum(xp.maximum(v + 3, 0), 6) / 6).astype(v.dtype, copy=False)

    def derivative(self):
        (x,) = self.saved
        from .elementwise import Where

        outside = (~(x._data <= -3)).astype(x._data.dtype)  # 0 below −3, 1 above 3 and at NaN
        return Where.apply(constant(self.inside), x / 3 + 0.5, constant(outside))


class RationalSign(_Unary):
    """The node of ``softsign``: x / (1 + |x|); derivative 1 / (1 + |x|)²."""

    def forward(self, x):
        self.save(x)
        xp = array_module(x._data)
        return x._data / (1 + xp.abs(x._data))

    def derivative(self):
        from .elementwise import abs as _abs

        (x,) = self.saved
        return 1 / (1 + _abs(x)) ** 2


class TanhSoftplusGate(_Unary):
    """The node of ``mish``: x·tanh(softplus(x)) (Misra 2019); derivative
    tanh(sp) + x·σ(x)·(1 − tanh²(sp)) with sp = softplus(x), as torch's
    ``infinitely_differentiable_mish_backward``."""

    def forward(self, x):
        self.save(x)
        v = x._data
        xp = array_module(v)
        with np.errstate(invalid="ignore"):  # NaN in, NaN out, quietly (as torch)
            return (v * xp.tanh(xp.logaddexp(0, v))).astype(v.dtype, copy=False)

    def derivative(self):
        (x,) = self.saved
        t = tanh(softplus(x))
        return t + x * sigmoid(x) * (1.0 - t * t)


class LogLogistic(_Unary):
    """The node of ``logsigmoid``, log σ(x) = min(x, 0) − log(1 + e^{−|x|}), finite for any x;
    derivative σ(−x). The binary cross-entropy on logits is built on it too."""

    def forward(self, x):
        self.save(x)
        v = x._data
        xp = array_module(v)
        return (xp.minimum(v, 0) - xp.log1p(xp.exp(-xp.abs(v)))).astype(v.dtype, copy=False)

    def derivative(self):
        return sigmoid(-self.saved[0])


class StraightThrough(Function):
    """Returns the fixed array ``value`` (of the input's shape) and passes gradients and
    tangents through unchanged: the straight-through estimator of a hard Gumbel-softmax sample,
    exactly one-hot in value and differentiated as the soft sample it replaces."""

    def __init__(self, value: np.ndarray) -> None:
        self.value = value

    def forward(self, x):
        return self.value

    def vjp(self, grad):
        return grad

    def jvp(self, dx):
        return dx


def _result(input: Tensor, compute: Callable[[Tensor], Tensor], inplace: bool, op: str) -> Tensor:
    """The value of an activation, ``compute(input)``; with ``inplace=True`` written into ``input`` and
    ``input`` returned (torch's in-place variants return their argument), recorded in the graph by
    :func:`fukaku.ops.inplace.apply_inplace` (``op`` names it in errors).

    Every ``inplace`` flag of fukaku goes through here (the activations of this file and of
    :mod:`fukaku.nn.functional.activation`, and dropout), so how an in-place result is recorded
    is decided in one place. The result must fit the input's dtype, as in torch (an integer
    tensor cannot hold a sigmoid in place).
    """
    return apply_inplace(input, op, compute) if inplace else compute(input)


@tensor_method()
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(0, x) elementwise (seed 000 §6.1.3); the gradient at 0 is 0, as torch's."""
    return _result(input, Relu.apply, inplace, "relu_")


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, ``negative_slope``·x otherwise (seed 004 §3: 0.01x)."""
    return _result(input, lambda x: LeakyRelu.apply(x, negative_slope=negative_slope), inplace, "leaky_relu_")


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, α(eˣ − 1) otherwise (Clevert et al. 2015; the corrected form of seed 004 §3)."""
    return _result(input, lambda x: Elu.apply(_floating(x), alpha=alpha), inplace, "elu_")


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(_floating(input), approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """Swish / SiLU, x·σ(x) (seed 000 §6.1.3, without β)."""
    return _result(input, lambda x: Silu.apply(_floating(x)), inplace, "silu_")


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return Log1pExp.apply(_floating(input), beta=beta, threshold=threshold)


# SELU's constants (Klambauer et al. 2017), as torch spells them
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """Self-normalising ELU: scale·(max(0, x) + min(0, α(eˣ − 1))) with α ≈ 1.6733, scale ≈ 1.0507
    (Klambauer et al. 2017)."""
    return _result(input, lambda x: Elu.apply(_floating(x), alpha=SELU_ALPHA, scale=SELU_SCALE), inplace, "selu_")


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """Continuously differentiable ELU: max(0, x) + min(0, α(e^{x/α} − 1)) (Barron 2017); α must not be 0."""
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0 (CELU divides by it: α(e^{x/α} − 1))")
    return _result(input, lambda x: Elu.apply(_floating(x), alpha=alpha, input_scale=1.0 / alpha), inplace, "celu_")


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > ``threshold``, else ``value``, elementwise (relu is threshold(x, 0, 0)); the
    gradient is 1 where x > threshold, else 0."""
    return _result(input, lambda x: ThresholdReplace.apply(x, threshold=threshold, value=value), inplace, "threshold_")


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
        return in_float32_if_bfloat16(self._softmax, x._data)  # Σ e^z of bfloat16 in float32, as torch

    def _softmax(self, a: np.ndarray) -> np.ndarray:
        z = a - a.max(axis=self.dim, keepdims=True) if a.size else a
        e = array_module(a).exp(z)
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
        return in_float32_if_bfloat16(self._log_softmax, x._data)  # Σ e^z of bfloat16 in float32, as torch

    def _log_softmax(self, a: np.ndarray) -> np.ndarray:
        xp = array_module(a)
        z = a - a.max(axis=self.dim, keepdims=True)
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
class Logit(_Unary):
    """The node of :func:`logit`: log(x / (1 − x)), the inverse of the sigmoid; derivative 1 / (x(1 − x))."""

    def forward(self, x):
        self.save(x)
        xp = array_module(x._data)
        return xp.log(x._data / (1 - x._data))

    def derivative(self):
        (x,) = self.saved
        return 1 / (x * (1 - x))


@tensor_method()
def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """log(p / (1 − p)) elementwise, the inverse of :func:`sigmoid`; with ``eps``, p is first clamped
    to [eps, 1 − eps] (so its gradient is 0 outside), as ``torch.logit``."""
    p = _floating(input)
    return Logit.apply(p if eps is None else p.clamp(eps, 1 - eps))


__all__ = ["logit", "relu", "leaky_relu", "elu", "selu", "celu", "threshold", "gelu", "silu", "softplus", "softmax",
           "log_softmax", "one_hot"]
