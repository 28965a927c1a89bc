"""Activation functions with ``torch.nn.functional``'s names and signatures (seed 000 §6.1.3).

The graph nodes are in :mod:`fukaku.ops.activation`, and so are the functions PyTorch also has
at the top level (``relu``, ``leaky_relu``, ``elu``, ``selu``, ``celu``, ``silu``, ``threshold``,
``softmax``…: one object each, re-exported here). This file adds the rest of torch's set
(``relu6``, ``hardtanh``, ``hardsigmoid``, ``hardswish``, ``mish``, ``softsign``, ``logsigmoid``,
``glu``, ``tanhshrink``, ``softmin``, ``gumbel_softmax``), the perceptron's ``step``, ``prelu``
(whose slope is a parameter) and torch's in-place spellings ``relu_``, ``elu_``….

``inplace=True`` goes through one helper, :func:`_result` (defined beside the ops, which use it
too, and imported here): the result is computed out of place, written into ``input``
(``input.copy_(result)``), and ``input`` is returned, as torch's ``relu_`` and its kin return
their argument.
"""
from __future__ import annotations

import warnings

import numpy as np

from ...backends import array_module
from ...errors import ShapeError
from ...ops import activation as A
from ...ops._util import _norm_dim, fmt, named
from ...ops.activation import (_result, celu, elu, gelu, leaky_relu, log_softmax, relu, selu, silu, softmax, softplus,
                               threshold)
from ...ops.elementwise import _floating, sigmoid, tanh, where
from ...ops.reduce import argmax
from ...ops.shape import chunk, reshape
from ...tensor import Tensor, default_generator, wrap

__all__ = ["step", "prelu", "relu", "relu6", "hardtanh", "hardsigmoid", "hardswish", "leaky_relu", "elu", "selu",
           "celu", "silu", "mish", "gelu", "softplus", "softsign", "logsigmoid", "tanhshrink", "threshold", "glu",
           "softmax", "softmin", "log_softmax", "gumbel_softmax",
           "relu_", "hardtanh_", "leaky_relu_", "elu_", "selu_", "celu_", "threshold_"]


# ----------------------------------------------------------------------------- the perceptron, PReLU
def step(input: Tensor) -> Tensor:
    """y = 1 if x ≥ 0 else 0, elementwise, in the input's floating dtype (seed 000 §6.1.1).

    Equal to ``torch.heaviside(x, torch.tensor(1.))``; unlike it, the backward pass gives zeros
    instead of an error.
    """
    return A.Heaviside.apply(_floating(input))


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


# ----------------------------------------------------------------------------- saturating and piecewise-linear
def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """x clamped to [min_val, max_val]; gradient 0 on the bounds and outside, 1 strictly inside.

    Raises ValueError when ``min_val > max_val``, as torch.
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val (got min_val={min_val}, "
                         f"max_val={max_val})")
    return _result(input, lambda x: A.SaturatingLinear.apply(x, min_val=min_val, max_val=max_val), inplace, "hardtanh_")


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(0, x), 6) elementwise: ``hardtanh(x, 0, 6)``, whose gradient it shares (0 at 0 and 6)."""
    return _result(input, lambda x: A.SaturatingLinear.apply(x, min_val=0.0, max_val=6.0), inplace, "relu6_")


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """0 for x ≤ −3, 1 for x ≥ 3, x/6 + 1/2 between (MobileNetV3's piecewise-linear sigmoid)."""
    return _result(input, lambda x: A.PiecewiseLinearSigmoid.apply(_floating(x)), inplace, "hardsigmoid_")


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """0 for x ≤ −3, x for x ≥ 3, x·(x + 3)/6 between (MobileNetV3)."""
    return _result(input, lambda x: A.PiecewiseSwish.apply(_floating(x)), inplace, "hardswish_")


# ----------------------------------------------------------------------------- smooth gates
def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x·tanh(softplus(x)) (Misra 2019)."""
    return _result(input, lambda x: A.TanhSoftplusGate.apply(_floating(x)), inplace, "mish_")


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|) elementwise."""
    return A.RationalSign.apply(_floating(input))


def logsigmoid(input: Tensor) -> Tensor:
    """log σ(x) = −softplus(−x), finite for any x (no σ is rounded to 0 before its log)."""
    return A.LogLogistic.apply(_floating(input))


def tanhshrink(input: Tensor) -> Tensor:
    """x − tanh(x) elementwise."""
    x = _floating(input)
    return x - tanh(x)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit (Dauphin et al. 2017): a ⊙ σ(b), with a and b the two halves of the
    input along ``dim``, which must have an even size.

    Shape: ``(*₁, 2M, *₂)`` → ``(*₁, M, *₂)``.
    """
    if input.ndim == 0:
        raise ShapeError("glu: does not support scalars because halving size must be even; give it a tensor "
                         "with an even-sized dimension")
    d = _norm_dim(dim, input.ndim, "glu")
    if input.shape[d] % 2:
        raise ShapeError(f"glu: halving dimension must be even, but dimension {d} of the input of shape "
                         f"{fmt(input.shape)} has size {input.shape[d]}")
    a, b = chunk(_floating(input), 2, d)
    return a * sigmoid(b)


# ----------------------------------------------------------------------------- softmin, Gumbel-softmax
def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(−x) along ``dim``: probabilities that favour the smallest entries."""
    return softmax(-(input if dtype is None else input.to(dtype)), dim)


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    """A sample of the Gumbel-softmax (concrete) distribution over ``dim`` (Jang et al. 2016;
    Maddison et al. 2016): softmax((logits + g)/τ) with g ~ Gumbel(0, 1) drawn by fukaku's
    generator (``fukaku.manual_seed``).

    With ``hard=True`` the sample is the one-hot vector of its argmax (exactly one-hot), and
    its gradient is the soft sample's (the straight-through estimator). ``eps`` is deprecated
    and ignored, as in torch.

    Example::

        >>> F.gumbel_softmax(logits, tau=0.5, hard=True)   # one-hot rows, differentiable in logits
    """
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    x = _floating(logits)
    xp = array_module(x._data)
    # the host generator draws e ~ Exp(1) in x's precision; g = −log e ~ Gumbel(0, 1)
    dtype = x._data.dtype
    draws = default_generator().standard_exponential(x.shape, dtype=dtype if dtype.itemsize >= 4 else np.float32)
    with np.errstate(divide="ignore"):
        gumbels = -xp.log(xp.asarray(draws))
    y_soft = softmax((x + wrap(gumbels.astype(dtype, copy=False))) / tau, dim)
    if not hard:
        return y_soft
    d = _norm_dim(dim, y_soft.ndim, "gumbel_softmax")
    index = argmax(y_soft, d, keepdim=True)._data
    y_hard = xp.zeros(y_soft.shape, y_soft.dtype)
    xp.put_along_axis(y_hard, index, 1, d)
    return A.StraightThrough.apply(y_soft, value=y_hard)


# ----------------------------------------------------------------------------- torch's in-place spellings
def _in_place(fn, name: str):
    def in_place(input: Tensor, *args, **kwargs) -> Tensor:
        return fn(input, *args, inplace=True, **kwargs)

    return named(in_place, name, f"``{fn.__name__}(input, ..., inplace=True)``: the result written into ``input``, "
                 "which is returned.")


relu_ = _in_place(relu, "relu_")
hardtanh_ = _in_place(hardtanh, "hardtanh_")
leaky_relu_ = _in_place(leaky_relu, "leaky_relu_")
elu_ = _in_place(elu, "elu_")
selu_ = _in_place(selu, "selu_")
celu_ = _in_place(celu, "celu_")
threshold_ = _in_place(threshold, "threshold_")
