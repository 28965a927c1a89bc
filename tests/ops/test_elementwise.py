"""Conformance of fukaku's elementwise ops and activations with PyTorch.

Every case runs through :func:`conformance.check`: forward values and dtypes, reverse mode with a
random upstream gradient, forward mode (jvp) and second derivatives, in float32 and float64.
Inputs avoid kinks except in the tests that pin the kink conventions to torch's.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import fukaku as fk
import fukaku.nn.functional as FF

from conformance import FLOATS, away_from, check, randn, shape_error_raised, torch_dtype_to_numpy, uniform

# degenerate inputs (log 0, 0/0, N - correction <= 0, NaN) warn in NumPy and torch by design
pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:.*degrees of freedom:UserWarning"),
              pytest.mark.filterwarnings("ignore:.*torch.jit.script.*:DeprecationWarning")]

# ---------------------------------------------------------------------------------- binary arithmetic
BROADCAST_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 1, 4), (2, 4)),
    ((2, 3), ()),
    ((), (4,)),
    ((), ()),
    ((1, 3), (2, 1)),
    ((0, 3), (3,)),
    ((2, 1, 3), (1, 5, 1)),
]

BINARY = {
    "add": (fk.add, torch.add),
    "sub": (fk.sub, torch.sub),
    "mul": (fk.mul, torch.mul),
    "div": (fk.div, torch.div),
    "maximum": (fk.maximum, torch.maximum),
    "minimum": (fk.minimum, torch.minimum),
    "op+": (lambda a, b: a + b, lambda a, b: a + b),
    "op-": (lambda a, b: a - b, lambda a, b: a - b),
    "op*": (lambda a, b: a * b, lambda a, b: a * b),
    "op/": (lambda a, b: a / b, lambda a, b: a / b),
    "add_alpha": (lambda a, b: fk.add(a, b, alpha=2.5), lambda a, b: torch.add(a, b, alpha=2.5)),
    "sub_alpha": (lambda a, b: fk.sub(a, b, alpha=-0.5), lambda a, b: torch.sub(a, b, alpha=-0.5)),
    "method_add": (lambda a, b: a.add(b), lambda a, b: a.add(b)),
    "method_mul": (lambda a, b: a.mul(b), lambda a, b: a.mul(b)),
    "method_div": (lambda a, b: a.div(b), lambda a, b: a.div(b)),
}


def _operands(sa, sb, seed=0):
    a = randn(*sa, seed=seed)
    b = randn(*sb, seed=seed + 1)
    b = np.where(np.abs(b) < 0.3, 0.3 + np.abs(b), b)  # keep divisors away from 0
    return a, b


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize("name", list(BINARY))
def test_binary(name, shapes, dtype):
    f, t = BINARY[name]
    a, b = _operands(*shapes)
    check(f, t, [a, b], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "maximum", "minimum"])
def test_binary_one_side_requires_grad(name, dtype):
    """Only the first operand is a leaf; the other is a constant tensor (int or float)."""
    f, t = BINARY[name]
    a = randn(3, 4)
    b = np.array([1, 2, -3, 4])
    check(f, t, [a, b], dtype)
    check(lambda x: f(fk.tensor(b.astype(dtype)), x), lambda x: t(torch.tensor(b.astype(dtype)), x), [a], dtype)


SCALAR_OPS = {
    "t+2.0": (lambda x: x + 2.0,) * 2,
    "2.0+t": (lambda x: 2.0 + x,) * 2,
    "t-3": (lambda x: x - 3,) * 2,
    "3-t": (lambda x: 3 - x,) * 2,
    "t*2.0": (lambda x: x * 2.0,) * 2,
    "-1.5*t": (lambda x: -1.5 * x,) * 2,
    "t/4": (lambda x: x / 4,) * 2,
    "2/t": (lambda x: 2 / x,) * 2,
    "-t": (lambda x: -x,) * 2,
    "neg": (fk.neg, torch.neg),
    "t**2": (lambda x: x ** 2,) * 2,
    "t**3": (lambda x: x ** 3,) * 2,
    "t**-2": (lambda x: x ** -2,) * 2,
    "t**1": (lambda x: x ** 1,) * 2,
    "t**0": (lambda x: x ** 0,) * 2,
    "pow(t,2.0)": (lambda x: fk.pow(x, 2.0), lambda x: torch.pow(x, 2.0)),
    "square": (fk.square, torch.square),
    "reciprocal": (fk.reciprocal, torch.reciprocal),
    "2.0**t": (lambda x: 2.0 ** x,) * 2,
    "pow(3,t)": (lambda x: fk.pow(3, x), lambda x: torch.pow(3, x)),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(3, 4), (), (0, 2), (1, 5)], ids=str)
@pytest.mark.parametrize("name", list(SCALAR_OPS))
def test_scalar_operand(name, shape, dtype):
    f, t = SCALAR_OPS[name]
    x = away_from(randn(*shape, seed=3), (0.0,), 0.3)
    check(f, t, [x], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("p", [0.5, 1.5, -0.5, 2.5, 1 / 3])
def test_pow_fractional_positive_base(p, dtype):
    x = uniform(0.3, 3.0, 2, 5)
    check(lambda a: a ** p, lambda a: a ** p, [x], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 1, 4), (2, 4)), ((2, 3), ()), ((), (4,))], ids=str)
def test_pow_tensor_tensor(shapes, dtype):
    base = uniform(0.3, 3.0, *shapes[0], seed=1)
    expo = randn(*shapes[1], seed=2)
    check(fk.pow, torch.pow, [base, expo], dtype)
    check(lambda a, b: a ** b, lambda a, b: a ** b, [base, expo], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_pow_tensor_tensor_special_points(dtype):
    """Zero base with exponents 0, positive, 2, and integral exponents of negative bases."""
    base = np.array([0.0, 0.0, 0.0, -2.0, -1.5, 2.0, 0.0])
    expo = np.array([0.0, 1.0, 2.0, 2.0, 3.0, 0.0, 3.0])
    # second derivatives at a zero base are NaN in torch (0·log 0 inside its double backward);
    # fukaku keeps its zero-base convention there, so only first order is compared
    check(fk.pow, torch.pow, [base, expo], dtype, second=False)
    # at exponent 0 torch (and fukaku) mask d(grad_base)/d(exponent) to 0 while d(grad_exp)/d(base)
    # is 1/base: the Hessian is not symmetric there, so forward-over-reverse (which reads the other
    # half of it) is left out
    check(fk.pow, torch.pow, [base[3:6], expo[3:6]], dtype, fwd_over_rev=False)


@pytest.mark.parametrize("dtype", FLOATS)
def test_pow_scalar_special_points(dtype):
    """x ** 2 at 0, x ** 0 at 0 (derivative 0), x ** 3 at negative values."""
    x = np.array([0.0, -1.0, 2.0, -0.5])
    for p in (0, 1, 2, 3, 2.0):
        check(lambda a: a ** p, lambda a: a ** p, [x], dtype)


# ---------------------------------------------------------------------------------- unary math
def _domain(name, shape, seed=0):
    x = randn(*shape, seed=seed)
    if name in ("log", "sqrt", "rsqrt"):
        return np.abs(x) + 0.2
    if name == "log1p":
        return np.abs(x) - 0.5
    if name in ("abs", "sign"):
        return away_from(x, (0.0,), 0.05)
    return x


UNARY = {
    "exp": (fk.exp, torch.exp),
    "log": (fk.log, torch.log),
    "log1p": (fk.log1p, torch.log1p),
    "sqrt": (fk.sqrt, torch.sqrt),
    "rsqrt": (fk.rsqrt, torch.rsqrt),
    "abs": (fk.abs, torch.abs),
    "sign": (fk.sign, torch.sign),
    "sin": (fk.sin, torch.sin),
    "cos": (fk.cos, torch.cos),
    "tanh": (fk.tanh, torch.tanh),
    "sigmoid": (fk.sigmoid, torch.sigmoid),
    "erf": (fk.erf, torch.erf),
    "neg": (fk.neg, torch.neg),
    "method_exp": (lambda x: x.exp(), lambda x: x.exp()),
    "method_abs": (lambda x: abs(x), lambda x: abs(x)),
    "method_sqrt": (lambda x: x.sqrt(), lambda x: x.sqrt()),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(3, 4), (), (0, 3), (1, 5), (2, 1, 3)], ids=str)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary(name, shape, dtype):
    f, t = UNARY[name]
    check(f, t, [_domain(name.replace("method_", ""), shape)], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_unary_wide_range(dtype):
    """Tails: sigmoid/tanh/erf saturate, exp of large negatives underflows."""
    x = np.array([-30.0, -8.0, -3.0, -0.5, 0.0, 0.5, 3.0, 8.0, 30.0])
    for name in ("sigmoid", "tanh", "erf", "sin", "cos"):
        check(*UNARY[name], [x], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_unary_kinks(dtype):
    """abs'(0) = 0, sign' = 0, sqrt'(0) = inf: torch's conventions."""
    x = np.array([0.0, -0.0, 1.0, -2.0])
    check(fk.abs, torch.abs, [x], dtype)
    check(fk.sign, torch.sign, [x], dtype)
    check(fk.sqrt, torch.sqrt, [np.array([0.0, 1.0, 4.0])], dtype, second=False)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "erf", "rsqrt", "log1p"])
def test_unary_on_int_gives_default_float(name):
    f, t = UNARY[name]
    x = np.array([1, 2, 3], dtype=np.int64)
    check(f, t, [x])


@pytest.mark.parametrize("name", ["abs", "sign", "neg"])
def test_unary_on_int_keeps_int(name):
    f, t = UNARY[name]
    check(f, t, [np.array([-2, 0, 3], dtype=np.int64)])


# ---------------------------------------------------------------------------------- activations
ACTIVATIONS = {
    "relu": (FF.relu, TF.relu),
    "relu_fn": (fk.relu, torch.relu),
    "leaky_relu": (FF.leaky_relu, TF.leaky_relu),
    "leaky_relu_0.2": (lambda x: FF.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    "leaky_relu_neg": (lambda x: FF.leaky_relu(x, negative_slope=-0.3), lambda x: TF.leaky_relu(x, negative_slope=-0.3)),
    "elu": (FF.elu, TF.elu),
    "elu_0.5": (lambda x: FF.elu(x, alpha=0.5), lambda x: TF.elu(x, alpha=0.5)),
    "gelu": (FF.gelu, TF.gelu),
    "gelu_tanh": (lambda x: FF.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    "silu": (FF.silu, TF.silu),
    "softplus": (FF.softplus, TF.softplus),
    "softplus_beta2": (lambda x: FF.softplus(x, beta=2.0), lambda x: TF.softplus(x, beta=2.0)),
    "softplus_thr1": (lambda x: FF.softplus(x, beta=1.5, threshold=1.0),
                      lambda x: TF.softplus(x, beta=1.5, threshold=1.0)),
    "sigmoid": (FF.sigmoid, torch.sigmoid),
    "tanh": (FF.tanh, torch.tanh),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(4, 5), (), (0, 3), (2, 1, 3)], ids=str)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation(name, shape, dtype):
    f, t = ACTIVATIONS[name]
    x = away_from(2.0 * randn(*shape, seed=5), (0.0, 1.0 / 1.5), 0.05)
    check(f, t, [x], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_wide_range(name, dtype):
    x = np.array([-100.0, -40.0, -12.0, -4.0, -1.0, -0.25, 0.25, 1.0, 4.0, 12.0, 19.0, 21.0, 40.0, 100.0])
    f, t = ACTIVATIONS[name]
    check(f, t, [x], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["relu", "leaky_relu", "leaky_relu_0.2", "elu", "elu_0.5", "gelu", "gelu_tanh",
                                  "silu", "softplus"])
def test_activation_at_zero(name, dtype):
    """relu'(0) = 0, leaky_relu'(0) = slope, elu'(0) = alpha: the kink conventions of torch."""
    f, t = ACTIVATIONS[name]
    check(f, t, [np.array([0.0, -0.0, 1.0, -1.0])], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_softplus_at_threshold(dtype):
    """βx exactly at the threshold uses the log branch (torch: linear only when βx > threshold)."""
    x = np.array([10.0, 20.0, 5.0, 1.0])
    check(lambda a: FF.softplus(a, beta=2.0, threshold=20.0), lambda a: TF.softplus(a, beta=2.0, threshold=20.0),
          [x], dtype)


def test_relu_int():
    check(FF.relu, TF.relu, [np.array([-2, 0, 3], dtype=np.int64)])


# ---------------------------------------------------------------------------------- clamp
CLAMPS = {
    "min": (lambda x: fk.clamp(x, min=-0.5), lambda x: torch.clamp(x, min=-0.5)),
    "max": (lambda x: fk.clamp(x, max=0.7), lambda x: torch.clamp(x, max=0.7)),
    "both": (lambda x: fk.clamp(x, -0.5, 0.7), lambda x: torch.clamp(x, -0.5, 0.7)),
    "method": (lambda x: x.clamp(min=-1, max=1), lambda x: x.clamp(min=-1, max=1)),
    "clip": (lambda x: fk.clip(x, -0.2, 0.2), lambda x: torch.clip(x, -0.2, 0.2)),
    "min>max": (lambda x: fk.clamp(x, 0.5, -0.5), lambda x: torch.clamp(x, 0.5, -0.5)),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(4, 5), (), (0, 3)], ids=str)
@pytest.mark.parametrize("name", list(CLAMPS))
def test_clamp(name, shape, dtype):
    f, t = CLAMPS[name]
    x = away_from(randn(*shape, seed=7), (-1.0, -0.5, -0.2, 0.2, 0.5, 0.7, 1.0), 0.02)
    check(f, t, [x], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_clamp_at_boundary(dtype):
    """The gradient passes where x equals a bound (torch's mask is min <= x <= max)."""
    x = np.array([-0.5, 0.75, 0.0, -1.0, 1.0])
    check(lambda a: fk.clamp(a, -0.5, 0.75), lambda a: torch.clamp(a, -0.5, 0.75), [x], dtype)
    check(lambda a: fk.clamp(a, min=-0.5), lambda a: torch.clamp(a, min=-0.5), [x], dtype)
    check(lambda a: fk.clamp(a, max=0.75), lambda a: torch.clamp(a, max=0.75), [x], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_clamp_tensor_bounds(dtype):
    x = away_from(randn(3, 4), (0.0,), 0.05)
    lo = np.full((4,), -0.5)
    hi = np.array([0.5, 1.0, 0.2, 2.0])
    check(lambda a, l, h: fk.clamp(a, l, h), lambda a, l, h: torch.clamp(a, l, h), [x, lo, hi], dtype)
    check(lambda a, l: fk.clamp(a, min=l), lambda a, l: torch.clamp(a, min=l), [x, lo], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_clamp_tensor_bounds_ties(dtype):
    """Ties and crossed bounds with tensor min/max: torch's clamp_backward masks for vjp, and its
    clamp_jvp (which gives a tie on a one-sided clamp to the bound's tangent) for jvp."""
    x = np.array([-1.0, 0.0, 1.0, 2.0, -3.0, 0.5])
    lo = np.array([0.0, 0.0, 0.0, 1.0, -3.0, 1.0])
    hi = np.array([1.0, 1.0, 0.5, 1.0, -3.0, 0.0])
    check(lambda a, l, h: fk.clamp(a, l, h), lambda a, l, h: torch.clamp(a, l, h), [x, lo, hi], dtype)
    check(lambda a, l: fk.clamp(a, min=l), lambda a, l: torch.clamp(a, min=l), [x, lo], dtype)
    check(lambda a, h: fk.clamp(a, max=h), lambda a, h: torch.clamp(a, max=h), [x, hi], dtype)
    check(lambda a: fk.clamp(a, min=fk.tensor(lo.astype(dtype))), lambda a: torch.clamp(a, min=torch.tensor(lo.astype(dtype))),
          [x], dtype)
    check(lambda a: fk.clamp(a, max=fk.tensor(hi.astype(dtype))), lambda a: torch.clamp(a, max=torch.tensor(hi.astype(dtype))),
          [x], dtype)


def test_clamp_tensor_bounds_promotion():
    x = np.array([-1.0, 0.5, 2.0], np.float32)
    check(lambda a, l: fk.clamp(a, min=l), lambda a, l: torch.clamp(a, min=l), [x, np.array(0.0)])
    check(lambda a, l: fk.clamp(a, min=l), lambda a, l: torch.clamp(a, min=l), [x, np.zeros(3)])
    check(lambda a, l: fk.clamp(a, min=l), lambda a, l: torch.clamp(a, min=l), [np.array([-1, 0, 2]), np.array(0.5)])


def test_clamp_int():
    x = np.array([-3, 0, 2, 7], dtype=np.int64)
    check(lambda a: fk.clamp(a, -1, 3), lambda a: torch.clamp(a, -1, 3), [x])
    check(lambda a: fk.clamp(a, min=1.5), lambda a: torch.clamp(a, min=1.5), [x])
    check(lambda a: fk.clamp(a, max=0.5), lambda a: torch.clamp(a, max=0.5), [x])


# ---------------------------------------------------------------------------------- maximum / minimum
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_extremum_ties(name, dtype):
    """On ties torch splits the gradient in half between the two inputs."""
    f, t = BINARY[name]
    a = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]])
    b = np.array([[1.0, 3.0, 3.0], [0.0, -2.0, 4.0]])
    check(f, t, [a, b], dtype)
    check(f, t, [a, np.array(3.0)], dtype)  # broadcast tie against a 0-d tensor
    check(f, t, [a, np.array([1.0, 2.0, 3.0])], dtype)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_extremum_int_and_mixed(name):
    f, t = BINARY[name]
    check(f, t, [np.array([1, 5, -3]), np.array([2, 5, -4])])
    check(f, t, [np.array([1.5, 5.0, -3.0], np.float32), np.array([2, 5, -4])])


def test_max_min_of_two_tensors():
    a, b = randn(3, 4, seed=1), randn(4, seed=2)
    check(fk.max, torch.max, [a, b], np.float64)
    check(fk.min, torch.min, [a, b], np.float64)


# ---------------------------------------------------------------------------------- where
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4), (3, 4)), ((3, 1), (1, 4), (4,)), ((2, 3), (), (2, 3)),
                                    ((), (3,), (3,)), ((0, 2), (2,), (0, 2))], ids=str)
def test_where(shapes, dtype):
    sc, sa, sb = shapes
    cond = np.random.default_rng(4).random(sc) > 0.5
    a, b = randn(*sa, seed=1), randn(*sb, seed=2)
    check(fk.where, torch.where, [cond, a, b], dtype)
    check(lambda c, x, y: x.where(c, y), lambda c, x, y: x.where(c, y), [cond, a, b], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_where_scalar_operands(dtype):
    cond = np.array([True, False, True, False])
    x = randn(4)
    check(lambda c, a: fk.where(c, a, 0.0), lambda c, a: torch.where(c, a, 0.0), [cond, x], dtype)
    check(lambda c, a: fk.where(c, 2, a), lambda c, a: torch.where(c, 2, a), [cond, x], dtype)
    check(lambda c: fk.where(c, 1.0, 0.0), lambda c: torch.where(c, 1.0, 0.0), [cond])
    check(lambda c: fk.where(c, 1, 0), lambda c: torch.where(c, 1, 0), [cond])


def test_where_mixed_dtypes():
    cond = np.array([True, False, True])
    check(fk.where, torch.where, [cond, np.array([1.0, 2.0, 3.0], np.float32), np.array([4, 5, 6])])
    check(fk.where, torch.where, [cond, np.array([1.0, 2.0, 3.0], np.float32), np.array([4.0, 5.0, 6.0])])


# ---------------------------------------------------------------------------------- comparisons
COMPARE = ["eq", "ne", "lt", "le", "gt", "ge"]
OPERATORS = {"eq": "__eq__", "ne": "__ne__", "lt": "__lt__", "le": "__le__", "gt": "__gt__", "ge": "__ge__"}


@pytest.mark.parametrize("name", COMPARE)
def test_comparisons(name):
    f, t = getattr(fk, name), getattr(torch, name)
    a = np.array([[1.0, 2.0, 3.0], [4.0, 2.0, 0.0]], np.float32)
    b = np.array([2.0, 2.0, 1.0], np.float32)
    check(f, t, [a, b], backward=False)
    check(f, t, [a, np.array([1, 2, 3])], backward=False)  # float vs int
    check(lambda x: f(x, 2.0), lambda x: t(x, 2.0), [a], backward=False)
    check(lambda x: f(x, 2), lambda x: t(x, 2), [np.array([1, 2, 3])], backward=False)
    op = OPERATORS[name]
    check(lambda x, y: getattr(x, op)(y), lambda x, y: getattr(x, op)(y), [a, b], backward=False)
    check(lambda x: getattr(x, op)(2.0), lambda x: getattr(x, op)(2.0), [a], backward=False)
    check(lambda x, y: getattr(x, name)(y), lambda x, y: getattr(x, name)(y), [a, b], backward=False)
    check(f, t, [np.zeros((0, 3)), np.zeros(3)], backward=False)


def test_comparison_result_does_not_require_grad():
    x = fk.tensor([1.0, 2.0], requires_grad=True)
    assert not (x > 1.0).requires_grad
    assert (x > 1.0).dtype == fk.bool


# ---------------------------------------------------------------------------------- dtype promotion
PROMOTION = [
    # (description, fukaku thunk, torch thunk)
    ("f32*2.0", lambda m: m.ones(3, dtype=m.float32) * 2.0),
    ("f32*2", lambda m: m.ones(3, dtype=m.float32) * 2),
    ("f64*2.0", lambda m: m.ones(3, dtype=m.float64) * 2.0),
    ("i64*2.5", lambda m: m.ones(3, dtype=m.int64) * 2.5),
    ("i64+1", lambda m: m.ones(3, dtype=m.int64) + 1),
    ("i32+1", lambda m: m.ones(3, dtype=m.int32) + 1),
    ("i32+i64", lambda m: m.ones(3, dtype=m.int32) + m.ones(3, dtype=m.int64)),
    ("i64+f32", lambda m: m.ones(3, dtype=m.int64) + m.ones(3, dtype=m.float32)),
    ("f32+i64", lambda m: m.ones(3, dtype=m.float32) + m.ones(3, dtype=m.int64)),
    ("f32(3)+f64(0d)", lambda m: m.ones(3, dtype=m.float32) + m.tensor(1.0, dtype=m.float64)),
    ("f64(0d)+f32(3)", lambda m: m.tensor(1.0, dtype=m.float64) + m.ones(3, dtype=m.float32)),
    ("f32(0d)+f64(0d)", lambda m: m.tensor(1.0, dtype=m.float32) + m.tensor(1.0, dtype=m.float64)),
    ("i64(3)+f32(0d)", lambda m: m.ones(3, dtype=m.int64) + m.tensor(1.0, dtype=m.float32)),
    ("f32(3)+f64(3)", lambda m: m.ones(3, dtype=m.float32) * m.ones(3, dtype=m.float64)),
    ("i64(3)/i64(3)", lambda m: m.ones(3, dtype=m.int64) / m.full((3,), 2, dtype=m.int64)),
    ("i64/2", lambda m: m.arange(3) / 2),
    ("2/i64", lambda m: 2 / (m.arange(3) + 1)),
    ("i64**2", lambda m: m.arange(3) ** 2),
    ("i64**0.5", lambda m: m.arange(3) ** 0.5),
    ("2.0**i64", lambda m: 2.0 ** m.arange(3)),
    ("2**i64", lambda m: 2 ** m.arange(3)),
    ("f32**f64(0d)", lambda m: m.ones(3, dtype=m.float32) ** m.tensor(2.0, dtype=m.float64)),
    ("bool+bool", lambda m: m.tensor([True, False]) + m.tensor([True, True])),
    ("bool*2.0", lambda m: m.tensor([True, False]) * 2.0),
    ("bool+1", lambda m: m.tensor([True, False]) + 1),
    ("maximum(f32,i64)", lambda m: m.maximum(m.ones(3, dtype=m.float32), m.arange(3))),
    ("f32 where f64(0d)", lambda m: m.where(m.tensor([True, False]), m.ones(2, dtype=m.float32),
                                             m.tensor(0.0, dtype=m.float64))),
    ("exp(i64)", lambda m: m.exp(m.arange(3))),
    ("sum(i32)", lambda m: m.ones(3, dtype=m.int32).sum()),
    ("sum(bool)", lambda m: m.tensor([True, False, True]).sum()),
    ("f32==f64", lambda m: m.ones(3, dtype=m.float32) == m.ones(3, dtype=m.float64)),
    ("i64<2.5", lambda m: m.arange(3) < 2.5),
    ("f32+np.ones(3)", "numpy"),
]


@pytest.mark.parametrize("case", PROMOTION, ids=[c[0] for c in PROMOTION])
def test_promotion(case):
    name, fn = case
    if fn == "numpy":
        a = fk.ones(3, dtype=fk.float32) + np.ones(3)
        b = torch.ones(3, dtype=torch.float32) + torch.from_numpy(np.ones(3))  # what torch does with an ndarray
        with pytest.warns(DeprecationWarning):
            c = torch.ones(3, dtype=torch.float32) + np.ones(3)
        assert c.dtype == b.dtype == torch.float64
        ra = np.ones(3) + fk.ones(3, dtype=fk.float32)
        assert isinstance(ra, fk.Tensor) and ra.dtype == np.float64
    else:
        a, b = fn(fk), fn(torch)
    assert isinstance(a, fk.Tensor)
    assert a.dtype == torch_dtype_to_numpy(b.dtype), f"{name}: {a.dtype} vs torch {b.dtype}"
    np.testing.assert_allclose(a.data.numpy(), b.numpy())


@pytest.mark.parametrize("shape", [(3,), (2, 3)], ids=str)
def test_promotion_gradient_dtype(shape):
    """The gradient of a float32 leaf mixed with float64 comes back float32, like torch."""
    a64 = randn(*shape)
    check(lambda x, y: x * y, lambda x, y: x * y, [a64.astype(np.float32), a64], None)
    check(lambda x, y: x + y, lambda x, y: x + y, [a64.astype(np.float32), np.array(2.0)], None)


# ---------------------------------------------------------------------------------- rounding division
@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_div_rounding_mode(mode):
    a = np.array([7.0, -7.0, 7.5, -7.5, 0.0])
    b = np.array([2.0, 2.0, -2.0, -2.0, 3.0])
    check(lambda x, y: fk.div(x, y, rounding_mode=mode), lambda x, y: torch.div(x, y, rounding_mode=mode), [a, b],
          np.float64, backward=False)
    ai, bi = np.array([7, -7, 7, -7, 0]), np.array([2, 2, -2, -2, 3])
    check(lambda x, y: fk.div(x, y, rounding_mode=mode), lambda x, y: torch.div(x, y, rounding_mode=mode), [ai, bi])
    check(lambda x, y: x // y, lambda x, y: x // y, [ai, bi])


# ---------------------------------------------------------------------------------- composites
@pytest.mark.parametrize("dtype", FLOATS)
def test_composite_expression(dtype):
    """Several ops in one graph, broadcasting between them: every rule and the engine together."""
    def f(m, F):
        def fn(x, w, b):
            h = F.gelu(x @ w + b) if m is fk else F.gelu(x @ w + b)
            z = m.tanh(h) * m.sigmoid(h - 0.5) + h ** 2 / (1.0 + m.exp(-h))
            return m.logsumexp(z, 1) + m.where(z.sum(1) > 0, m.sqrt(z.abs() + 1.0).mean(1), m.clamp(z, -1, 1).sum(1))
        return fn

    x, w, b = randn(4, 3, seed=1), randn(3, 5, seed=2), randn(5, seed=3)
    check(f(fk, FF), f(torch, TF), [x, w, b], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_where_gradient_of_unselected_branch(dtype):
    """where(x > 0, log(x), 0): the unselected log(x) is nan/-inf; its gradient is masked as in torch."""
    x = np.array([-1.0, 0.0, 0.5, 2.0])
    check(lambda a: fk.where(a > 0, fk.log(a.abs() + 1e-3), 0.0), lambda a: torch.where(a > 0, torch.log(a.abs() + 1e-3), 0.0),
          [x], dtype)
    check(lambda a: fk.where(a > 0, fk.sqrt(a), a), lambda a: torch.where(a > 0, torch.sqrt(a), a),
          [np.array([-1.0, 0.5, 2.0])], dtype)


# ---------------------------------------------------------------------------------- NaN conventions
NAN = float("nan")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["abs", "sign", "sigmoid", "tanh", "exp"])
def test_unary_nan(name, dtype):
    """sign(NaN) = 0 and abs'(NaN) = 0 in torch (sgn); the rest propagate NaN."""
    check(*UNARY[name], [np.array([NAN, 1.0, -2.0])], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "gelu", "silu", "softplus"])
def test_activation_nan(name, dtype):
    """relu'(NaN) = 1 and elu'(NaN) = 1 (torch tests x <= 0), leaky_relu'(NaN) = slope."""
    check(*ACTIVATIONS[name], [np.array([NAN, 1.0, -2.0])], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_extremum_nan(name, dtype):
    """A NaN on either side: the result is NaN and, in reverse mode, both inputs get the gradient."""
    f, t = BINARY[name]
    check(f, t, [np.array([NAN, 1.0, 2.0, NAN]), np.array([1.0, NAN, 2.0, NAN])], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_clamp_nan(dtype):
    x = np.array([NAN, 0.5, 2.0])
    check(lambda a: fk.clamp(a, 0.0, 1.0), lambda a: torch.clamp(a, 0.0, 1.0), [x], dtype)


# ================================================================================== issue 7: elementwise math
# Every op below runs through the harness against torch 2.13 (forward, vjp, jvp, second order) in float32 and
# float64; the inputs respect each op's domain (``uniform``) and stay off its kinks (``away_from``).
INF = float("inf")


def _inside(lo, hi):
    return lambda shape, seed: uniform(lo, hi, *shape, seed=seed)


def _normal(scale=1.0):
    return lambda shape, seed: scale * randn(*shape, seed=seed)


MATH_UNARY = {  # name: (fukaku, torch, inputs of a shape)
    "acos": (fk.acos, torch.acos, _inside(-0.95, 0.95)),
    "asin": (fk.asin, torch.asin, _inside(-0.95, 0.95)),
    "atan": (fk.atan, torch.atan, _normal(2.0)),
    "acosh": (fk.acosh, torch.acosh, _inside(1.1, 4.0)),
    "asinh": (fk.asinh, torch.asinh, _normal(2.0)),
    "atanh": (fk.atanh, torch.atanh, _inside(-0.95, 0.95)),
    "sinh": (fk.sinh, torch.sinh, _normal(2.0)),
    "cosh": (fk.cosh, torch.cosh, _normal(2.0)),
    "tan": (fk.tan, torch.tan, _inside(-1.4, 1.4)),
    "trunc": (fk.trunc, torch.trunc, _normal(3.0)),
    "frac": (fk.frac, torch.frac, _normal(3.0)),
    "exp2": (fk.exp2, torch.exp2, _normal(3.0)),
    "expm1": (fk.expm1, torch.expm1, _normal(2.0)),
    "log2": (fk.log2, torch.log2, _inside(0.1, 5.0)),
    "log10": (fk.log10, torch.log10, _inside(0.1, 5.0)),
    "erfc": (fk.erfc, torch.erfc, _normal(2.0)),
    "erfinv": (fk.erfinv, torch.erfinv, _inside(-0.97, 0.97)),
    "sinc": (fk.sinc, torch.sinc, _normal(2.0)),
    "deg2rad": (fk.deg2rad, torch.deg2rad, _normal(90.0)),
    "rad2deg": (fk.rad2deg, torch.rad2deg, _normal(2.0)),
    "nan_to_num": (fk.nan_to_num, torch.nan_to_num, _normal()),
}
# the NumPy names and Tensor methods PyTorch has, each checked like its function
MATH_UNARY_FORMS = {
    "arccos": (fk.arccos, torch.arccos, "acos"),
    "arcsin": (fk.arcsin, torch.arcsin, "asin"),
    "arctan": (fk.arctan, torch.arctan, "atan"),
    "arccosh": (fk.arccosh, torch.arccosh, "acosh"),
    "arcsinh": (fk.arcsinh, torch.arcsinh, "asinh"),
    "arctanh": (fk.arctanh, torch.arctanh, "atanh"),
    "fix": (fk.fix, torch.fix, "trunc"),
    **{f"x.{name}()": ((lambda n: lambda x: getattr(x, n)())(name),) * 2 + (name,) for name in MATH_UNARY},
    **{f"x.{name}()": ((lambda n: lambda x: getattr(x, n)())(name),) * 2 + (domain,)
       for name, domain in [("arccos", "acos"), ("arcsin", "asin"), ("arctan", "atan"), ("arccosh", "acosh"),
                            ("arcsinh", "asinh"), ("arctanh", "atanh"), ("fix", "trunc")]},
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(3, 4), (), (0, 3), (2, 1, 3)], ids=str)
@pytest.mark.parametrize("name", list(MATH_UNARY))
def test_math_unary(name, shape, dtype):
    f, t, inputs = MATH_UNARY[name]
    check(f, t, [inputs(shape, 0)], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", list(MATH_UNARY_FORMS))
def test_math_unary_aliases_and_methods(name, dtype):
    f, t, domain = MATH_UNARY_FORMS[name]
    check(f, t, [MATH_UNARY[domain][2]((2, 3), 1)], dtype, second=False)


def test_aliases_are_the_functions():
    for alias, name in [("arccos", "acos"), ("arcsin", "asin"), ("arctan", "atan"), ("arccosh", "acosh"),
                        ("arcsinh", "asinh"), ("arctanh", "atanh"), ("arctan2", "atan2"), ("fix", "trunc"),
                        ("absolute", "abs"), ("multiply", "mul"), ("subtract", "sub"), ("negative", "neg"),
                        ("true_divide", "div")]:
        assert getattr(fk, alias) is getattr(fk, name), alias
        assert getattr(fk.Tensor, alias) is getattr(fk.Tensor, name), alias
        assert alias in fk.__all__ and hasattr(torch.Tensor, alias)


@pytest.mark.parametrize("name", ["absolute", "negative"])
def test_existing_alias_methods_unary(name):
    check(lambda x: getattr(x, name)(), lambda x: getattr(x, name)(), [away_from(randn(2, 3))], np.float64)


@pytest.mark.parametrize("name", ["multiply", "subtract", "true_divide"])
def test_existing_alias_methods_binary(name):
    a, b = _operands((2, 3), (3,))
    check(lambda x, y: getattr(x, name)(y), lambda x, y: getattr(x, name)(y), [a, b], np.float64)


# special values: each op at NaN, ±inf, ±0 and the ends of its domain, every derivative as torch's
MATH_EDGES = {
    "acos": [-1.0, 1.0, 1.5, -0.0, 0.0, NAN],
    "asin": [-1.0, 1.0, -1.5, -0.0, 0.0, NAN],
    "atan": [-INF, INF, -0.0, 0.0, NAN, 1e30],
    "acosh": [1.0, 0.5, INF, NAN, 1e30],
    "asinh": [-INF, INF, -0.0, 0.0, NAN, -1e30],
    "atanh": [-1.0, 1.0, 2.0, -0.0, NAN],
    "sinh": [-INF, INF, -0.0, 100.0, NAN],
    "cosh": [-INF, INF, 0.0, -100.0, NAN],
    "tan": [0.0, -0.0, NAN, 1.5707963, 3.0],
    "trunc": [-2.5, 2.5, -0.5, -0.0, INF, -INF, NAN],
    "frac": [-2.5, 2.5, -0.5, -0.0, 3.0, INF, NAN],
    "exp2": [-INF, INF, -200.0, 200.0, 0.0, NAN],
    "expm1": [-INF, INF, -1e-10, 1e-10, -0.0, NAN, 100.0],
    "log2": [0.0, -0.0, -1.0, INF, 1.0, NAN],
    "log10": [0.0, -0.0, -1.0, INF, 1.0, NAN],
    "erfc": [-INF, INF, -0.0, 10.0, 30.0, -6.0, NAN],
    "erfinv": [-1.0, 1.0, 1.5, -0.0, 0.0, NAN, 1e-30, 0.999999],
    "sinc": [0.0, -0.0, 1.0, -2.0, 0.5, 1e-20, INF, NAN],
    "deg2rad": [-INF, INF, -0.0, 180.0, NAN],
    "rad2deg": [-INF, INF, -0.0, 3.0, NAN],
    "nan_to_num": [NAN, INF, -INF, -0.0, 1.0],
}
# Where torch's second derivative is itself a convention (0·inf inside its double backward), only the
# first order is held to it: sinc″(0) (torch: NaN, fukaku: 0, the truth: −π²/3) and tan at its float32 pole.
MATH_EDGES_FIRST_ORDER = {"sinc", "tan"}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", list(MATH_EDGES))
def test_math_unary_special_values(name, dtype):
    f, t, _ = MATH_UNARY[name]
    check(f, t, [np.array(MATH_EDGES[name])], dtype, second=name not in MATH_EDGES_FIRST_ORDER)


def test_math_unary_signed_zero():
    """-0.0 keeps its sign through the odd functions and trunc (torch does too)."""
    x = fk.tensor([-0.0, 0.0])
    for name in ["asin", "atan", "asinh", "atanh", "sinh", "tan", "trunc", "expm1", "erfinv", "deg2rad", "rad2deg"]:
        got = getattr(fk, name)(x).numpy()
        want = getattr(torch, name)(torch.tensor([-0.0, 0.0])).numpy()
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want), err_msg=name)
        np.testing.assert_array_equal(np.signbit(got), [True, False], err_msg=name)


@pytest.mark.parametrize("name", ["acos", "asin", "atan", "acosh", "asinh", "atanh", "sinh", "cosh", "tan", "exp2",
                                  "expm1", "log2", "log10", "erfc", "erfinv", "sinc", "deg2rad", "rad2deg"])
def test_math_unary_on_int_gives_default_float(name):
    f, t, _ = MATH_UNARY[name]
    check(f, t, [np.array([-1, 0, 1, 2], dtype=np.int64)])
    fk.set_default_dtype(fk.float64)
    try:
        assert f(fk.tensor([0, 1])).dtype == fk.float64
    finally:
        fk.set_default_dtype(fk.float32)


@pytest.mark.parametrize("name", ["trunc", "fix", "nan_to_num"])
def test_math_unary_on_int_keeps_int(name):
    f, t = getattr(fk, name), getattr(torch, name)
    check(f, t, [np.array([-2, 0, 3], dtype=np.int64)])


def test_frac_is_input_minus_trunc():
    """frac(x) = x − trunc(x) with the sign of x; torch rejects integer input, fukaku gives zeros."""
    x = np.array([-2.75, -0.25, 0.0, 0.5, 7.125])
    np.testing.assert_array_equal(fk.frac(fk.tensor(x)).numpy(), [-0.75, -0.25, 0.0, 0.5, 0.125])
    assert np.array_equal(fk.frac(fk.tensor([3, -4])).numpy(), [0, 0])


# ---------------------------------------------------------------------------------- binary math
def _fmod_operands(sa, sb, seed=0):
    a, b = _operands(sa, sb, seed)
    return 3.0 * a, b


def _positive_second(sa, sb, seed=0):
    return randn(*sa, seed=seed), uniform(0.2, 3.0, *sb, seed=seed + 1)


def _positive_first(sa, sb, seed=0):
    return uniform(0.3, 3.0, *sa, seed=seed), randn(*sb, seed=seed + 1)


MATH_BINARY = {  # name: (fukaku, torch, operands of two shapes)
    "atan2": (fk.atan2, torch.atan2, _operands),
    "arctan2": (fk.arctan2, torch.arctan2, _operands),
    "hypot": (fk.hypot, torch.hypot, _operands),
    "logaddexp": (fk.logaddexp, torch.logaddexp, lambda sa, sb: (3 * randn(*sa), 3 * randn(*sb, seed=1))),
    "logaddexp2": (fk.logaddexp2, torch.logaddexp2, lambda sa, sb: (3 * randn(*sa), 3 * randn(*sb, seed=1))),
    "fmod": (fk.fmod, torch.fmod, _fmod_operands),
    "copysign": (fk.copysign, torch.copysign, _operands),
    "xlogy": (fk.xlogy, torch.xlogy, _positive_second),
    "float_power": (fk.float_power, torch.float_power, _positive_first),
    "x.atan2(y)": (lambda a, b: a.atan2(b), lambda a, b: a.atan2(b), _operands),
    "x.arctan2(y)": (lambda a, b: a.arctan2(b), lambda a, b: a.arctan2(b), _operands),
    "x.hypot(y)": (lambda a, b: a.hypot(b), lambda a, b: a.hypot(b), _operands),
    "x.logaddexp(y)": (lambda a, b: a.logaddexp(b), lambda a, b: a.logaddexp(b), _operands),
    "x.logaddexp2(y)": (lambda a, b: a.logaddexp2(b), lambda a, b: a.logaddexp2(b), _operands),
    "x.fmod(y)": (lambda a, b: a.fmod(b), lambda a, b: a.fmod(b), _fmod_operands),
    "x.copysign(y)": (lambda a, b: a.copysign(b), lambda a, b: a.copysign(b), _operands),
    "x.xlogy(y)": (lambda a, b: a.xlogy(b), lambda a, b: a.xlogy(b), _positive_second),
    "x.float_power(y)": (lambda a, b: a.float_power(b), lambda a, b: a.float_power(b), _positive_first),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize("name", [n for n in MATH_BINARY if not n.startswith("x.")])
def test_math_binary(name, shapes, dtype):
    f, t, operands = MATH_BINARY[name]
    check(f, t, list(operands(*shapes)), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", [n for n in MATH_BINARY if n.startswith("x.")])
def test_math_binary_methods(name, dtype):
    f, t, operands = MATH_BINARY[name]
    check(f, t, list(operands((2, 3), (3,))), dtype, second=False)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp", "logaddexp2", "fmod", "copysign", "xlogy",
                                  "float_power"])
def test_math_binary_one_side_requires_grad(name, dtype):
    f, t, operands = MATH_BINARY[name]
    a, b = operands((3, 4), (4,))
    check(lambda x: f(x, fk.tensor(b.astype(dtype))), lambda x: t(x, torch.tensor(b.astype(dtype))), [a], dtype)
    check(lambda y: f(fk.tensor(a.astype(dtype)), y), lambda y: t(torch.tensor(a.astype(dtype)), y), [b], dtype)


MATH_BINARY_EDGES = {  # name: (a, b) special values, and whether torch's second order is followed there
    "atan2": ([0.0, -0.0, 0.0, -0.0, 1.0, -1.0, INF, -INF, INF, NAN, 2.0],
              [0.0, 0.0, -0.0, -0.0, INF, -INF, 1.0, 1.0, INF, 1.0, -3.0]),
    "hypot": ([3.0, INF, -INF, NAN, INF, 1e200, 1e-200, 0.0],
              [4.0, NAN, 2.0, INF, 1.0, 1e200, 1e-200, 5.0]),
    "logaddexp": ([INF, -INF, INF, NAN, -INF, 700.0, -700.0, 1.0],
                  [INF, -INF, -INF, 1.0, 2.0, 700.0, -700.0, 1.0]),
    "logaddexp2": ([INF, -INF, INF, NAN, -INF, 1000.0, -1000.0, 1.0],
                   [INF, -INF, -INF, 1.0, 2.0, 1000.0, -1000.0, 1.0]),
    "fmod": ([5.5, -5.5, 5.5, -5.5, 1.0, -0.0, INF, 1.0, NAN, 7.0],
             [2.0, 2.0, -2.0, -2.0, 0.0, 3.0, 2.0, INF, 1.0, 0.5]),
    "copysign": ([1.0, 1.0, -2.0, 0.0, -0.0, INF, NAN, 3.0],
                 [-0.0, 0.0, 1.0, -1.0, 1.0, -1.0, -1.0, NAN]),
    "xlogy": ([0.0, 0.0, 0.0, 0.0, 1.0, 2.0, -1.0, NAN, 0.0],
              [0.0, -1.0, 2.0, NAN, 0.0, INF, 3.0, 1.0, INF]),
    "float_power": ([0.0, 0.0, 2.0, -2.0, -2.0, 1.0, INF, 4.0],
                    [0.0, 2.0, 0.0, 2.0, 0.5, NAN, 2.0, -0.5]),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", list(MATH_BINARY_EDGES))
def test_math_binary_special_values(name, dtype):
    """Forward and first derivatives at NaN, ±inf, ±0 and the singular points, as torch's."""
    f, t, _ = MATH_BINARY[name]
    a, b = (np.array(v) for v in MATH_BINARY_EDGES[name])
    check(f, t, [a, b], dtype, second=False, jvp=name != "atan2")


@pytest.mark.parametrize("dtype", FLOATS)
def test_atan2_at_the_origin(dtype):
    """torch's reverse mode gives 0 to both inputs at (0, 0), and fukaku's jvp follows the same rule
    (torch's forward mode gives NaN there: its own two modes disagree, so the jvp is compared away from it)."""
    a, b = np.array([0.0, -0.0, 1.0, 0.5]), np.array([0.0, 0.0, 2.0, -1.0])
    check(fk.atan2, torch.atan2, [a, b], dtype, jvp=False, second=False)
    _, tangent = fk.autograd.functional.jvp(fk.atan2, (fk.tensor(a), fk.tensor(b)),
                                            (fk.ones(4, dtype=fk.float64), fk.ones(4, dtype=fk.float64)))
    np.testing.assert_allclose(tangent.numpy(), [0.0, 0.0, (2.0 - 1.0) / 5.0, (-1.0 - 0.5) / 1.25])


MATH_BINARY_PROMOTION = [  # (name, a, b): int/int, int/float, float32/float64, 0-d, Python numbers
    ("atan2", np.array([1, -2, 0]), np.array([2, 3, -1])),
    ("atan2", np.array([1, -2, 0]), np.array([2.0, 3.0, -1.0], np.float32)),
    ("atan2", np.array([1.0, 2.0], np.float32), np.array([2.0, 3.0])),
    ("atan2", np.array([1.0, 2.0], np.float32), np.array(2.0)),
    ("hypot", np.array([1.0, 2.0], np.float32), np.array([2.0, 3.0])),
    ("logaddexp", np.array([1.0, 2.0], np.float32), np.array(2.0)),
    ("fmod", np.array([7, -7, 5]), np.array([2, 2, -3])),
    ("fmod", np.array([7, -7, 5]), 2),
    ("fmod", np.array([7, -7, 5]), 2.5),
    ("fmod", np.array([7.5, -7.5], np.float32), np.array([2, -2])),
    ("fmod", np.array([7.5, -7.5]), 2),
    ("copysign", np.array([1, -2, 3]), np.array([-1, 1, -1])),
    ("copysign", np.array([1, -2, 3]), -1.0),
    ("copysign", np.array([1.0, -2.0], np.float32), np.array(-1.0)),
    ("xlogy", np.array([1, 0, 3]), np.array([2, 0, 4])),
    ("xlogy", 2, np.array([0.5, 1.5])),
    ("xlogy", np.array([0.5, 1.5]), 2),
    ("xlogy", np.array([0.5, 1.5], np.float32), np.array([2.0, 3.0])),
    ("float_power", np.array([1, 2, 3]), np.array([2, 3, 0])),
    ("float_power", np.array([1.5, 2.0], np.float32), 2),
    ("float_power", np.array([1.5, 2.0], np.float32), -0.5),
    ("float_power", 2, np.array([0.5, 1.5], np.float32)),
    ("float_power", np.array([1.5, 2.0], np.float32), np.array([2.0, 0.5], np.float32)),
]


@pytest.mark.parametrize("case", MATH_BINARY_PROMOTION, ids=lambda c: c if isinstance(c, str) else "")
def test_math_binary_promotion(case):
    """Result dtypes as torch's (integers become the default float except in fmod; float_power is always
    float64), and gradients come back in each input's own dtype."""
    name, a, b = case
    f, t, _ = MATH_BINARY[name]
    check(f, t, [a, b], None)


def test_math_binary_shape_errors():
    for name in ["atan2", "hypot", "logaddexp", "fmod", "copysign", "xlogy"]:
        shape_error_raised(lambda: getattr(fk, name)(fk.ones(2, 3), fk.ones(4)), name, (2, 3), (4,))


def test_fmod_integer_division_by_zero():
    with pytest.raises(ZeroDivisionError, match="fmod"):
        fk.fmod(fk.tensor([1, 2]), 0)
    with pytest.raises(RuntimeError):
        torch.fmod(torch.tensor([1, 2]), 0)


def test_fmod_sign_of_dividend_remainder_of_divisor():
    a, b = fk.tensor([5.0, -5.0, 5.0, -5.0]), fk.tensor([3.0, 3.0, -3.0, -3.0])
    np.testing.assert_array_equal(fk.fmod(a, b).numpy(), [2.0, -2.0, 2.0, -2.0])
    np.testing.assert_array_equal(fk.remainder(a, b).numpy(), [2.0, 1.0, -1.0, -2.0])


# ---------------------------------------------------------------------------------- lerp, addcmul, addcdiv
LERP_WEIGHTS = [0.0, 0.3, 0.5, 0.7, 1.0, -1.0, 2.0]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("weight", LERP_WEIGHTS)
def test_lerp_scalar_weight(weight, dtype):
    start, end = randn(3, 4, seed=1), randn(4, seed=2)
    check(lambda s, e: fk.lerp(s, e, weight), lambda s, e: torch.lerp(s, e, weight), [start, end], dtype)
    check(lambda s, e: s.lerp(e, weight), lambda s, e: s.lerp(e, weight), [start, end], dtype, second=False)


def test_lerp_scalar_weight_is_exact_at_the_ends():
    """Weight 0 gives start and weight 1 gives end, bit for bit (torch's two-sided formula)."""
    start, end = fk.tensor([0.1, 1e8, -3.3]), fk.tensor([7.7, -1e-8, 2.9])
    np.testing.assert_array_equal(fk.lerp(start, end, 0.0).numpy(), start.numpy())
    np.testing.assert_array_equal(fk.lerp(start, end, 1.0).numpy(), end.numpy())


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4), (3, 4)), ((3, 1), (4,), (2, 1, 1)), ((), (3,), ()),
                                    ((2, 3), (2, 3), (3,))], ids=str)
def test_lerp_tensor_weight(shapes, dtype):
    ss, se, sw = shapes
    weight = away_from(uniform(-0.5, 1.5, *sw, seed=3), (0.5, -0.5), 0.02)
    check(fk.lerp, torch.lerp, [randn(*ss, seed=1), randn(*se, seed=2), weight], dtype)


def test_lerp_weight_promotion():
    """A 0-d float64 weight does not promote float32 ends (torch)."""
    start, end = np.array([1.0, 2.0], np.float32), np.array([3.0, -1.0], np.float32)
    check(fk.lerp, torch.lerp, [start, end, np.array(0.25)], None)
    check(lambda s, e: fk.lerp(s, e, fk.tensor(0.75, dtype=fk.float64)),
          lambda s, e: torch.lerp(s, e, torch.tensor(0.75, dtype=torch.float64)), [start, end], None)


ADDC = {
    "addcmul": (fk.addcmul, torch.addcmul),
    "addcdiv": (fk.addcdiv, torch.addcdiv),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("value", [1, 0.5, -2])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4), (3, 4)), ((4,), (3, 1), (1, 4)), ((), (2, 3), ())], ids=str)
@pytest.mark.parametrize("name", list(ADDC))
def test_addcmul_addcdiv(name, shapes, value, dtype):
    f, t = ADDC[name]
    s0, s1, s2 = shapes
    x, t1, t2 = randn(*s0, seed=1), randn(*s1, seed=2), away_from(randn(*s2, seed=3), (0.0,), 0.3)
    check(lambda a, b, c: f(a, b, c, value=value), lambda a, b, c: t(a, b, c, value=value), [x, t1, t2], dtype)
    check(lambda a, b, c: getattr(a, name)(b, c, value=value), lambda a, b, c: getattr(a, name)(b, c, value=value),
          [x, t1, t2], dtype, second=False)


def test_addcmul_addcdiv_dtypes():
    i = np.array([1, 2, 3])
    check(lambda a, b, c: fk.addcmul(a, b, c, value=2), lambda a, b, c: torch.addcmul(a, b, c, value=2), [i, i, i])
    check(fk.addcmul, torch.addcmul, [np.array([1.0, 2.0], np.float32), np.array([1.0, 2.0]), np.array([3, 4])])
    check(fk.addcdiv, torch.addcdiv, [np.array([1.0, 2.0], np.float32), np.array([1.0, 2.0]), np.array([3.0, 4.0])])
    check(fk.addcdiv, torch.addcdiv, [np.array([1, 2]), np.array([1.0, 2.0], np.float32),
                                      np.array([3.0, 4.0], np.float32)])
    with pytest.raises(RuntimeError, match="addcdiv"):
        fk.addcdiv(fk.tensor([1.0]), fk.tensor([1]), fk.tensor([2]))
    with pytest.raises(RuntimeError):
        torch.addcdiv(torch.tensor([1.0]), torch.tensor([1]), torch.tensor([2]))


# ---------------------------------------------------------------------------------- clamp_min, clamp_max
CLAMP_ONE_SIDED = {
    "clamp_min": (lambda x: fk.clamp_min(x, -0.5), lambda x: torch.clamp_min(x, -0.5)),
    "clamp_max": (lambda x: fk.clamp_max(x, 0.7), lambda x: torch.clamp_max(x, 0.7)),
    "x.clamp_min": (lambda x: x.clamp_min(0.2), lambda x: x.clamp_min(0.2)),
    "x.clamp_max": (lambda x: x.clamp_max(-0.2), lambda x: x.clamp_max(-0.2)),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", list(CLAMP_ONE_SIDED))
def test_clamp_one_sided(name, dtype):
    x = away_from(randn(4, 5, seed=7), (-0.5, -0.2, 0.2, 0.7), 0.02)
    check(*CLAMP_ONE_SIDED[name], [x], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_clamp_one_sided_tensor_bounds(dtype):
    x = np.array([[-1.0, 0.0, 1.0, 2.0], [0.5, -0.5, 3.0, 1.0]])
    bound = np.array([0.0, 0.5, 1.0, 1.0])
    check(fk.clamp_min, torch.clamp_min, [x, bound], dtype)
    check(fk.clamp_max, torch.clamp_max, [x, bound], dtype)
    check(lambda a: fk.clamp_min(fk.tensor([1, 5]), a), lambda a: torch.clamp_min(torch.tensor([1, 5]), a),
          [np.array([2.0, 2.0])], dtype)


def test_clamp_one_sided_int():
    x = np.array([-3, 0, 2, 7])
    check(lambda a: fk.clamp_min(a, 1), lambda a: torch.clamp_min(a, 1), [x])
    check(lambda a: fk.clamp_max(a, 1.5), lambda a: torch.clamp_max(a, 1.5), [x])


# ---------------------------------------------------------------------------------- heaviside, nan_to_num
@pytest.mark.parametrize("dtype", FLOATS)
def test_heaviside(dtype):
    x = np.array([[-1.5, 0.0, -0.0, 2.0, NAN, INF, -INF]])
    check(fk.heaviside, torch.heaviside, [x, np.array([0.5])], dtype, backward=False, jvp=False)
    check(fk.heaviside, torch.heaviside, [x, np.array([[0.25], [0.75]])], dtype, backward=False, jvp=False)
    check(lambda a, v: a.heaviside(v), lambda a, v: a.heaviside(v), [x, np.array(0.5)], dtype,
          backward=False, jvp=False)


def test_heaviside_int_and_no_gradient():
    check(fk.heaviside, torch.heaviside, [np.array([-1, 0, 2]), np.array([7])])
    y = fk.heaviside(fk.tensor([-1.0, 0.0, 1.0], requires_grad=True), fk.tensor(0.5))
    assert not y.requires_grad  # torch defines no derivative for heaviside


NAN_TO_NUM = {
    "default": ({}, [NAN, INF, -INF, -0.0, 1.5]),
    "custom": (dict(nan=2.0, posinf=1e3, neginf=-1e3), [NAN, INF, -INF, -2.5]),
    "posinf_only": (dict(posinf=7.0), [NAN, INF, -INF, 3.0]),
    "beyond_float32": (dict(posinf=1e300, neginf=-1e300), [INF, -INF, 1.0]),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", list(NAN_TO_NUM))
def test_nan_to_num(name, dtype):
    """Replaced entries get a zero gradient (torch: grad · isfinite(x))."""
    kw, x = NAN_TO_NUM[name]
    check(lambda a: fk.nan_to_num(a, **kw), lambda a: torch.nan_to_num(a, **kw), [np.array(x)], dtype)
    check(lambda a: a.nan_to_num(**kw), lambda a: a.nan_to_num(**kw), [np.array(x)], dtype, second=False)


# ---------------------------------------------------------------------------------- isclose, allclose, equal
CLOSE_CASES = {
    "default": ([1.0, 1e-9, INF, -INF, INF, NAN, 100.0, 0.0], [1.000001, 0.0, INF, -INF, -INF, NAN, 100.01, 1e-7]),
    "broadcast": ([[1.0, 2.0], [3.0, 4.0]], [1.0, 2.00001]),
    "zero_d": ([1.0, 1.001], 1.0),
}
CLOSE_KW = [{}, dict(equal_nan=True), dict(rtol=1e-3), dict(atol=0.5), dict(rtol=0.0, atol=0.0),
            dict(rtol=0.0, atol=0.0, equal_nan=True)]


@pytest.mark.parametrize("kw", CLOSE_KW, ids=str)
@pytest.mark.parametrize("name", list(CLOSE_CASES))
@pytest.mark.parametrize("dtype", FLOATS)
def test_isclose_allclose(name, kw, dtype):
    a, b = (np.asarray(v, dtype) for v in CLOSE_CASES[name])
    check(lambda x, y: fk.isclose(x, y, **kw), lambda x, y: torch.isclose(x, y, **kw), [a, b], dtype)
    check(lambda x, y: x.isclose(y, **kw), lambda x, y: x.isclose(y, **kw), [a, b], dtype)
    got = fk.allclose(fk.tensor(a), fk.tensor(b), **kw)
    assert isinstance(got, bool) and got == torch.allclose(torch.tensor(a), torch.tensor(b), **kw)
    assert fk.tensor(a).allclose(fk.tensor(b), **kw) == got


def test_isclose_integers_and_errors():
    """Integers are compared in the default float dtype (so rtol applies), as torch."""
    a, b = np.array([1, 2, 100]), np.array([2, 2, 101])
    for kw in [{}, dict(rtol=0.6, atol=0.0), dict(atol=1.0)]:
        check(lambda x, y: fk.isclose(x, y, **kw), lambda x, y: torch.isclose(x, y, **kw), [a, b])
    assert fk.allclose(fk.tensor(a), fk.tensor(b), atol=1.0)
    with pytest.raises(ValueError, match="rtol"):
        fk.isclose(fk.ones(2), fk.ones(2), rtol=-1.0)
    shape_error_raised(lambda: fk.isclose(fk.ones(2, 3), fk.ones(4)), "isclose", (2, 3), (4,))


def test_isclose_has_no_gradient():
    x = fk.tensor([1.0, 2.0], requires_grad=True)
    out = fk.isclose(x, x * 1.0000001)
    assert out.dtype == fk.bool and not out.requires_grad


EQUAL_CASES = [
    ([1.0, 2.0], [1.0, 2.0]),
    ([1.0, 2.0], [1.0, 2.5]),
    ([1.0, 2.0], [1.0]),  # shapes differ: no broadcasting
    ([[1.0, 2.0]], [1.0, 2.0]),
    ([NAN], [NAN]),
    ([INF, -0.0], [INF, 0.0]),
    ([], []),
]


@pytest.mark.parametrize("case", EQUAL_CASES, ids=str)
def test_equal(case):
    a, b = (np.array(v) for v in case)
    want = torch.equal(torch.tensor(a), torch.tensor(b))
    got = fk.equal(fk.tensor(a), fk.tensor(b))
    assert isinstance(got, bool) and got == want
    assert fk.tensor(a).equal(fk.tensor(b)) == want


def test_equal_across_dtypes():
    for a, b in [([1, 2], [1.0, 2.0]), ([1.5], [1]), ([True], [1]), ([1.0], [1.0 + 1e-7])]:
        want = torch.equal(torch.tensor(a), torch.tensor(b))
        assert fk.equal(fk.tensor(a), fk.tensor(b)) == want, (a, b)


# ---------------------------------------------------------------------------------- signbit, isreal, is*inf
PREDICATES = ["signbit", "isreal", "isneginf", "isposinf"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
@pytest.mark.parametrize("name", PREDICATES)
def test_predicates(name, dtype):
    x = np.array([-0.0, 0.0, -INF, INF, NAN, -NAN, 1.5, -2.0])
    if dtype in (np.int64, np.bool_):
        x = np.array([-3, 0, 2, 1]).astype(dtype)
    check(getattr(fk, name), getattr(torch, name), [x.astype(dtype)], backward=False)
    check(lambda a: getattr(a, name)(), lambda a: getattr(a, name)(), [x.astype(dtype)], backward=False)
    check(getattr(fk, name), getattr(torch, name), [np.zeros((0, 2), dtype)], backward=False)


def test_predicates_have_no_gradient():
    x = fk.tensor([-1.0, 2.0], requires_grad=True)
    for name in PREDICATES:
        out = getattr(fk, name)(x)
        assert out.dtype == fk.bool and not out.requires_grad, name
