"""gradcheck / gradgradcheck of every differentiable op against float64 central differences.

``fukaku.autograd.gradcheck`` compares the reverse-mode Jacobian (vjp with unit vectors) AND the
forward-mode Jacobian (jvp with unit vectors) with (f(x + εe_k) − f(x − εe_k)) / 2ε, so each case
below checks both rules of the op. Inputs are small (at most a dozen or so elements) and kept away
from kinks: relu/abs/leaky_relu/elu away from 0, distinct values for max/min/maximum, clamp inputs
away from the bounds, positive bases for pow/log/sqrt, well-conditioned matrices for det/inverse.

``gradgradcheck`` checks reverse-over-reverse second derivatives for a subset of smooth ops.
Finally, a deliberately wrong custom Function must make gradcheck RAISE, so the checker can fail.
"""
from __future__ import annotations

import numpy as np
import pytest

import fukaku as fk
import fukaku.nn.functional as F
from fukaku.autograd import Function, GradcheckError, gradcheck, gradgradcheck


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def T(a) -> fk.Tensor:
    """A float64 leaf that requires grad."""
    return fk.tensor(np.asarray(a, dtype=np.float64), dtype=fk.float64, requires_grad=True)


def C(a, dtype=None) -> fk.Tensor:
    """A constant (no grad) tensor."""
    return fk.tensor(np.asarray(a) if dtype is None else np.asarray(a, dtype=dtype))


def randn(*shape, seed: int = 0) -> fk.Tensor:
    return T(_rng(seed).standard_normal(shape))


def away(*shape, seed: int = 0, lo: float = 0.3, hi: float = 1.5) -> fk.Tensor:
    """Random values with |x| in [lo, hi] and random signs: away from the kink at 0."""
    r = _rng(seed)
    mag = r.uniform(lo, hi, shape)
    sign = np.where(r.random(shape) < 0.5, -1.0, 1.0)
    return T(mag * sign)


def positive(*shape, seed: int = 0, lo: float = 0.5, hi: float = 2.0) -> fk.Tensor:
    return T(_rng(seed).uniform(lo, hi, shape))


def distinct(*shape, seed: int = 0) -> fk.Tensor:
    """A random permutation of well separated values (gaps of 0.37): no ties anywhere."""
    n = int(np.prod(shape))
    vals = (np.arange(n) - n / 2) * 0.37
    return T(_rng(seed).permutation(vals).reshape(shape))


def well_conditioned(n: int, batch=(), seed: int = 0) -> fk.Tensor:
    """I·2 + small noise: far from singular, det > 0."""
    r = _rng(seed)
    return T(2.0 * np.eye(n) + 0.3 * r.standard_normal(tuple(batch) + (n, n)))


def _svd_gauged(a: fk.Tensor, full: bool):
    """linalg.svd with each pair's sign fixed by U's first row (a smooth function away from sign flips)."""
    u, s, vh = fk.linalg.svd(a, full_matrices=full)
    signs = fk.sign(u[..., :1, :])
    k = s.shape[-1]
    row_signs = signs[..., :k].mT
    if vh.shape[-2] > k:
        row_signs = fk.cat([row_signs, fk.sign(vh[..., k:, :1])], -2)
    return u * signs, s, vh * row_signs


def _eigh_gauged(a: fk.Tensor):
    values, vectors = fk.linalg.eigh(a)
    return values, vectors * fk.sign(vectors[..., :1, :])


# --------------------------------------------------------------------------- cases
# Each case: id -> () -> (func, inputs). Factories keep inputs fresh for every test.
CASES: dict[str, callable] = {}


def case(name):
    def deco(fn):
        assert name not in CASES, name
        CASES[name] = fn
        return fn
    return deco


# ---- arithmetic (with broadcasting and Python scalars)
case("add")(lambda: (lambda a, b: a + b, (randn(2, 3), randn(2, 3, seed=1))))
case("add_broadcast")(lambda: (lambda a, b: fk.add(a, b), (randn(2, 3), randn(3, seed=1))))
case("add_alpha")(lambda: (lambda a, b: fk.add(a, b, alpha=2.5), (randn(2, 3), randn(2, 1, seed=1))))
case("add_scalar")(lambda: (lambda a: 1.5 + a, (randn(2, 3),)))
case("sub")(lambda: (lambda a, b: a - b, (randn(2, 3), randn(2, 3, seed=1))))
case("sub_broadcast")(lambda: (lambda a, b: fk.sub(a, b), (randn(3), randn(2, 3, seed=1))))
case("rsub_scalar")(lambda: (lambda a: 2.0 - a, (randn(2, 3),)))
case("mul")(lambda: (lambda a, b: a * b, (randn(2, 3), randn(2, 3, seed=1))))
case("mul_broadcast")(lambda: (lambda a, b: a * b, (randn(2, 1), randn(1, 3, seed=1))))
case("div")(lambda: (lambda a, b: a / b, (randn(2, 3), away(2, 3, seed=1, lo=0.5))))
case("div_broadcast")(lambda: (lambda a, b: fk.div(a, b), (randn(2, 3), away(3, seed=1, lo=0.5))))
case("rdiv_scalar")(lambda: (lambda b: 2.0 / b, (away(2, 3, lo=0.5),)))
case("neg")(lambda: (lambda a: -a, (randn(2, 3),)))
case("neg_fn")(lambda: (lambda a: fk.neg(a), (randn(2, 3),)))

# ---- pow: scalar exponents and tensor exponents, positive bases
case("pow_scalar_2")(lambda: (lambda a: a ** 2, (randn(2, 3),)))
case("pow_scalar_3_int")(lambda: (lambda a: fk.pow(a, 3), (randn(2, 3),)))
case("pow_scalar_half")(lambda: (lambda a: a ** 0.5, (positive(2, 3),)))
case("pow_scalar_neg")(lambda: (lambda a: a ** -1.5, (positive(2, 3),)))
case("pow_scalar_1")(lambda: (lambda a: a ** 1, (randn(2, 3),)))
case("pow_tensor_exp")(lambda: (lambda a, b: a ** b, (positive(2, 3), randn(2, 3, seed=1))))
case("pow_tensor_exp_broadcast")(lambda: (lambda a, b: fk.pow(a, b), (positive(2, 3), randn(3, seed=1))))
case("pow_scalar_base")(lambda: (lambda b: 2.0 ** b, (randn(2, 3),)))
case("pow_tensor_base_const_exp")(lambda: (lambda a: fk.pow(a, C(np.array([0.5, 2.0, -1.0]))),
                                           (positive(2, 3),)))

# ---- unary math
case("exp")(lambda: (fk.exp, (randn(2, 3),)))
case("log")(lambda: (fk.log, (positive(2, 3),)))
case("log1p")(lambda: (fk.log1p, (positive(2, 3, lo=-0.5, hi=2.0),)))
case("sqrt")(lambda: (fk.sqrt, (positive(2, 3),)))
case("rsqrt")(lambda: (fk.rsqrt, (positive(2, 3),)))
case("abs")(lambda: (fk.abs, (away(2, 3),)))
case("sin")(lambda: (fk.sin, (randn(2, 3),)))
case("cos")(lambda: (fk.cos, (randn(2, 3),)))
case("tanh")(lambda: (fk.tanh, (randn(2, 3),)))
case("sigmoid")(lambda: (fk.sigmoid, (randn(2, 3),)))
case("erf")(lambda: (fk.erf, (randn(2, 3),)))
case("square")(lambda: (fk.square, (randn(2, 3),)))
case("reciprocal")(lambda: (fk.reciprocal, (away(2, 3, lo=0.5),)))
case("asin")(lambda: (fk.asin, (away(2, 3, lo=0.1, hi=0.9),)))
case("acos")(lambda: (fk.acos, (away(2, 3, lo=0.1, hi=0.9),)))
case("atan")(lambda: (fk.atan, (randn(2, 3),)))
case("asinh")(lambda: (fk.asinh, (randn(2, 3),)))
case("acosh")(lambda: (fk.acosh, (positive(2, 3, lo=1.2, hi=3.0),)))
case("atanh")(lambda: (fk.atanh, (away(2, 3, lo=0.1, hi=0.9),)))
case("sinh")(lambda: (fk.sinh, (randn(2, 3),)))
case("cosh")(lambda: (fk.cosh, (randn(2, 3),)))
case("tan")(lambda: (fk.tan, (away(2, 3, lo=0.1, hi=1.3),)))
case("trunc")(lambda: (fk.trunc, (T([[-1.7, -0.4, 0.3], [1.5, 2.2, -2.6]]),)))
case("frac")(lambda: (fk.frac, (T([[-1.7, -0.4, 0.3], [1.5, 2.2, -2.6]]),)))
case("exp2")(lambda: (fk.exp2, (randn(2, 3),)))
case("expm1")(lambda: (fk.expm1, (randn(2, 3),)))
case("log2")(lambda: (fk.log2, (positive(2, 3),)))
case("log10")(lambda: (fk.log10, (positive(2, 3),)))
case("erfc")(lambda: (fk.erfc, (randn(2, 3),)))
case("erfinv")(lambda: (fk.erfinv, (away(2, 3, lo=0.05, hi=0.9),)))
case("sinc")(lambda: (fk.sinc, (randn(2, 3),)))
case("deg2rad")(lambda: (fk.deg2rad, (randn(2, 3),)))
case("rad2deg")(lambda: (fk.rad2deg, (randn(2, 3),)))
case("nan_to_num")(lambda: (fk.nan_to_num, (randn(2, 3),)))
case("atan2")(lambda: (fk.atan2, (randn(2, 3), randn(3, seed=1))))
case("hypot")(lambda: (fk.hypot, (randn(2, 3), randn(2, 1, seed=1))))
case("logaddexp")(lambda: (fk.logaddexp, (randn(2, 3), randn(3, seed=1))))
case("logaddexp2")(lambda: (fk.logaddexp2, (randn(2, 3), randn(2, 1, seed=1))))
case("fmod")(lambda: (fk.fmod, (T([[5.3, -5.3, 1.1], [-0.4, 3.9, 7.7]]), T([2.1, 1.7, -0.9]))))
case("copysign")(lambda: (fk.copysign, (away(2, 3), randn(3, seed=1))))
case("xlogy")(lambda: (fk.xlogy, (randn(2, 3), positive(3, seed=1))))
case("float_power")(lambda: (fk.float_power, (positive(2, 3), randn(3, seed=1))))
case("lerp_scalar_weight")(lambda: (lambda a, b: fk.lerp(a, b, 0.3), (randn(2, 3), randn(3, seed=1))))
case("lerp_scalar_weight_large")(lambda: (lambda a, b: fk.lerp(a, b, 0.8), (randn(2, 3), randn(3, seed=1))))
case("lerp_tensor_weight")(lambda: (fk.lerp, (randn(2, 3), randn(3, seed=1), T([[0.2, 0.7, 1.3], [-0.4, 0.1, 0.9]]))))
case("addcmul")(lambda: (lambda a, b, c: fk.addcmul(a, b, c, value=0.5),
                         (randn(2, 3), randn(3, seed=1), randn(2, 1, seed=2))))
case("addcdiv")(lambda: (lambda a, b, c: fk.addcdiv(a, b, c, value=-2),
                         (randn(2, 3), randn(3, seed=1), away(2, 1, seed=2, lo=0.5))))

# ---- activations
case("relu")(lambda: (F.relu, (away(2, 3),)))
case("leaky_relu")(lambda: (lambda x: F.leaky_relu(x, 0.1), (away(2, 3),)))
case("elu")(lambda: (F.elu, (away(2, 3),)))
case("elu_alpha")(lambda: (lambda x: F.elu(x, alpha=0.7), (away(2, 3, seed=3),)))
# celu scales the exponent by 1/α: α = 0.5 makes it 2, α = 1 leaves it 1
case("celu_alpha_half")(lambda: (lambda x: F.celu(x, alpha=0.5), (away(2, 3, seed=4),)))
case("gelu")(lambda: (F.gelu, (randn(2, 3),)))
case("gelu_tanh")(lambda: (lambda x: F.gelu(x, approximate="tanh"), (randn(2, 3),)))
case("silu")(lambda: (F.silu, (randn(2, 3),)))
case("softplus")(lambda: (F.softplus, (randn(2, 3),)))
case("softplus_beta")(lambda: (lambda x: F.softplus(x, beta=2.0), (randn(2, 3),)))
case("softplus_threshold")(lambda: (lambda x: F.softplus(x, beta=1.0, threshold=1.0),
                                    (T([[-1.0, 0.2, 0.7], [1.6, 2.5, -0.4]]),)))

# ---- clamp, maximum, minimum, where
case("clamp")(lambda: (lambda x: fk.clamp(x, -0.5, 0.5),
                       (T([[-1.2, -0.3, 0.1], [0.4, 0.9, -0.8]]),)))
case("clamp_min")(lambda: (lambda x: fk.clamp(x, min=0.0), (away(2, 3),)))
case("clamp_max")(lambda: (lambda x: x.clamp(max=0.2), (T([[-1.2, -0.3, 0.1], [0.4, 0.9, -0.8]]),)))
case("clamp_min_fn")(lambda: (lambda x: fk.clamp_min(x, -0.5), (T([[-1.2, -0.3, 0.1], [0.4, 0.9, -0.8]]),)))
case("clamp_max_tensor")(lambda: (lambda x, m: x.clamp_max(m),
                                  (T([[-1.2, -0.3, 0.1], [0.4, 0.9, -0.8]]), T([0.2, -0.6, 0.5]))))
case("clamp_tensor_bounds")(lambda: (lambda x: fk.clamp(x, min=C(np.full(3, -0.5)), max=C(np.full(3, 0.5))),
                                     (T([[-1.2, -0.3, 0.1], [0.4, 0.9, -0.8]]),)))
case("maximum")(lambda: (fk.maximum, (T([[0.1, 2.0, -1.0], [0.5, -0.3, 0.9]]),
                                       T([[0.6, 1.0, -2.0], [-0.5, 0.4, 1.2]]))))
case("minimum")(lambda: (fk.minimum, (T([[0.1, 2.0, -1.0], [0.5, -0.3, 0.9]]),
                                       T([[0.6, 1.0, -2.0], [-0.5, 0.4, 1.2]]))))
case("maximum_broadcast")(lambda: (fk.maximum, (T([[0.1, 2.0, -1.0], [0.5, -0.3, 0.9]]), T([0.35, 0.45, -0.1]))))
case("where")(lambda: (lambda a, b: fk.where(C(np.array([[True, False, True], [False, False, True]])), a, b),
                       (randn(2, 3), randn(2, 3, seed=1))))
case("where_broadcast")(lambda: (lambda a, b: fk.where(C(np.array([True, False, True])), a, b),
                                 (randn(2, 3), randn(2, 1, seed=1))))

# ---- reductions
case("sum_all")(lambda: (lambda x: x.sum(), (randn(2, 3),)))
case("sum_dim")(lambda: (lambda x: fk.sum(x, 1), (randn(2, 3),)))
case("sum_dim_keepdim")(lambda: (lambda x: fk.sum(x, 0, keepdim=True), (randn(2, 3),)))
case("sum_dims_tuple")(lambda: (lambda x: fk.sum(x, (0, 2)), (randn(2, 3, 2),)))
case("mean_all")(lambda: (lambda x: x.mean(), (randn(2, 3),)))
case("mean_dim")(lambda: (lambda x: fk.mean(x, -1), (randn(2, 3),)))
case("mean_keepdim")(lambda: (lambda x: fk.mean(x, 0, keepdim=True), (randn(2, 3),)))
case("var_all")(lambda: (lambda x: fk.var(x), (randn(2, 3),)))
case("var_dim")(lambda: (lambda x: fk.var(x, 1), (randn(2, 3),)))
case("var_biased_keepdim")(lambda: (lambda x: fk.var(x, 0, unbiased=False, keepdim=True), (randn(2, 3),)))
case("std_all")(lambda: (lambda x: fk.std(x), (randn(2, 3),)))
case("std_dim")(lambda: (lambda x: fk.std(x, 1, correction=0), (randn(2, 3),)))
case("max_all")(lambda: (lambda x: fk.max(x), (distinct(2, 3),)))
case("min_all")(lambda: (lambda x: fk.min(x), (distinct(2, 3),)))
# Regression guard: max/min(x, dim), gather and scatter_add all go through index._scatter_index,
# which once failed under NumPy 2 (np.ogrid returns a tuple: "'tuple' object does not support
# item assignment"). These cases caught it.
case("max_dim_values")(lambda: (lambda x: fk.max(x, 1).values, (distinct(2, 3),)))
case("max_dim0_keepdim")(lambda: (lambda x: fk.max(x, 0, keepdim=True)[0], (distinct(2, 3),)))
case("min_dim_values")(lambda: (lambda x: fk.min(x, dim=1).values, (distinct(2, 3),)))
case("min_dim_method")(lambda: (lambda x: x.min(0)[0], (distinct(2, 3, seed=4),)))
case("amax")(lambda: (lambda x: fk.amax(x, 1), (distinct(2, 3),)))
case("amax_dims")(lambda: (lambda x: fk.amax(x, (0, 2)), (distinct(2, 3, 2),)))
case("amin")(lambda: (lambda x: fk.amin(x, 0, keepdim=True), (distinct(2, 3),)))
case("logsumexp_all")(lambda: (lambda x: fk.logsumexp(x), (randn(2, 3),)))
case("logsumexp_dim")(lambda: (lambda x: fk.logsumexp(x, 1), (randn(2, 3),)))
case("logsumexp_keepdim")(lambda: (lambda x: fk.logsumexp(x, 0, keepdim=True), (randn(2, 3),)))
case("prod_all")(lambda: (lambda x: fk.prod(x), (away(2, 3, lo=0.5),)))
case("prod_dim")(lambda: (lambda x: fk.prod(x, 1), (away(2, 3, lo=0.5),)))
case("prod_dim_keepdim")(lambda: (lambda x: fk.prod(x, 0, keepdim=True), (away(2, 3, lo=0.5),)))
case("prod_with_zero")(lambda: (lambda x: fk.prod(x, 1), (T([[0.0, 1.5, -0.7], [0.8, 0.0, 0.0]]),)))
case("cumsum_neg_dim")(lambda: (lambda x: fk.cumsum(x, -1), (randn(2, 3),)))
case("prod_all_with_zero")(lambda: (lambda x: fk.prod(x), (T([[0.0, 1.5, -0.7], [0.8, 1.2, 0.9]]),)))
case("max_dim_neg")(lambda: (lambda x: fk.max(x, -1).values, (distinct(2, 3, seed=2),)))
case("gather_negative_index")(lambda: (lambda x: fk.gather(x, 1, C(np.array([[-1, 0], [-2, -1]]))), (randn(2, 3),)))
case("cumsum_dim0")(lambda: (lambda x: fk.cumsum(x, 0), (randn(2, 3),)))
case("cumsum_dim1")(lambda: (lambda x: x.cumsum(1), (randn(2, 3),)))
case("norm_fro")(lambda: (lambda x: fk.norm(x), (randn(2, 3),)))
case("norm_fro_named")(lambda: (lambda x: fk.norm(x, "fro"), (randn(2, 3),)))
case("norm_2_dim")(lambda: (lambda x: fk.norm(x, 2, dim=1), (randn(2, 3),)))
case("norm_1")(lambda: (lambda x: fk.norm(x, 1), (away(2, 3),)))
case("norm_1_dim")(lambda: (lambda x: fk.norm(x, 1, dim=0), (away(2, 3),)))
case("norm_inf")(lambda: (lambda x: fk.norm(x, float("inf")), (distinct(2, 3),)))
case("norm_inf_dim")(lambda: (lambda x: fk.norm(x, float("inf"), dim=1),
                              (T([[0.3, -1.4, 0.8], [2.1, -0.6, 1.0]]),)))
case("norm_p3")(lambda: (lambda x: fk.norm(x, 3), (away(2, 3),)))
case("nansum")(lambda: (lambda x: fk.nansum(x + C([[0.0, np.nan, 0.0], [0.0, 0.0, 0.0]]), 1), (randn(2, 3),)))
case("nanmean")(lambda: (lambda x: fk.nanmean(x + C([[0.0, np.nan, 0.0], [0.0, 0.0, 0.0]]), 1), (randn(2, 3),)))
case("cumprod")(lambda: (lambda x: fk.cumprod(x, 1), (away(2, 3),)))
case("cumprod_with_zeros")(lambda: (lambda x: fk.cumprod(x, 1), (T([[0.7, 0.0, -1.2, 0.0], [0.0, 1.5, 0.9, -0.4]]),)))
case("cummax_values")(lambda: (lambda x: fk.cummax(x, 1).values, (distinct(2, 3),)))
case("cummin_values")(lambda: (lambda x: x.cummin(0)[0], (distinct(3, 2),)))
case("logcumsumexp")(lambda: (lambda x: fk.logcumsumexp(x, -1), (randn(2, 3),)))
case("std_mean")(lambda: (lambda x: fk.std_mean(x, 1), (randn(2, 3),)))
case("var_mean")(lambda: (lambda x: fk.var_mean(x, 0, correction=0), (randn(2, 3),)))
case("aminmax")(lambda: (lambda x: fk.aminmax(x, dim=1), (distinct(2, 3),)))
case("trapezoid_dx")(lambda: (lambda y: fk.trapezoid(y, dx=0.5), (randn(2, 3),)))
case("trapezoid_x")(lambda: (fk.trapezoid, (randn(2, 3), randn(3, seed=1))))
case("diff_prepend")(lambda: (lambda x, p: fk.diff(x, 2, dim=0, prepend=p), (randn(2, 3), randn(1, 3, seed=1))))

# ---- shapes
case("reshape")(lambda: (lambda x: x.reshape(3, 2), (randn(2, 3),)))
case("reshape_fn_infer")(lambda: (lambda x: fk.reshape(x, (-1,)), (randn(2, 3),)))
case("view")(lambda: (lambda x: x.view(6, 1), (randn(2, 3),)))
case("flatten")(lambda: (lambda x: fk.flatten(x, 1), (randn(2, 3, 2),)))
case("permute")(lambda: (lambda x: x.permute(2, 0, 1), (randn(2, 3, 2),)))
case("permute_fn")(lambda: (lambda x: fk.permute(x, (1, 2, 0)), (randn(2, 3, 2),)))
case("transpose")(lambda: (lambda x: fk.transpose(x, 0, 2), (randn(2, 3, 2),)))
case("T")(lambda: (lambda x: x.T, (randn(2, 3),)))
case("mT")(lambda: (lambda x: x.mT, (randn(2, 3, 2),)))
case("expand")(lambda: (lambda x: x.expand(2, 3), (randn(1, 3),)))
case("expand_new_dim")(lambda: (lambda x: fk.expand(x, (2, 2, 3)), (randn(2, 1, 3),)))
case("broadcast_to")(lambda: (lambda x: fk.broadcast_to(x, (2, 3)), (randn(3),)))
case("squeeze")(lambda: (lambda x: fk.squeeze(x), (randn(2, 1, 3),)))
case("squeeze_dim")(lambda: (lambda x: x.squeeze(1), (randn(2, 1, 3),)))
case("unsqueeze")(lambda: (lambda x: fk.unsqueeze(x, 1), (randn(2, 3),)))
case("unsqueeze_neg")(lambda: (lambda x: x.unsqueeze(-1), (randn(2, 3),)))
case("cat")(lambda: (lambda a, b: fk.cat([a, b], 0), (randn(2, 3), randn(1, 3, seed=1))))
case("cat_dim1")(lambda: (lambda a, b, c: fk.cat((a, b, c), dim=1),
                          (randn(2, 1), randn(2, 3, seed=1), randn(2, 2, seed=2))))
case("stack")(lambda: (lambda a, b: fk.stack([a, b]), (randn(2, 3), randn(2, 3, seed=1))))
case("stack_dim_last")(lambda: (lambda a, b: fk.stack([a, b], dim=-1), (randn(2, 3), randn(2, 3, seed=1))))
case("split_size")(lambda: (lambda x: fk.split(x, 2, dim=1), (randn(2, 3),)))
case("split_sections")(lambda: (lambda x: x.split([1, 2], 1), (randn(2, 3),)))
case("chunk")(lambda: (lambda x: fk.chunk(x, 2, dim=1), (randn(2, 3),)))
case("chunk_dim0")(lambda: (lambda x: x.chunk(3, 0), (randn(3, 2),)))
case("unbind")(lambda: (lambda x: fk.unbind(x, 1), (randn(2, 3),)))
case("repeat")(lambda: (lambda x: x.repeat(2, 3), (randn(2, 2),)))
case("repeat_new_dim")(lambda: (lambda x: fk.repeat(x, 2, 1, 2), (randn(2, 3),)))
case("flip")(lambda: (lambda x: fk.flip(x, 0), (randn(2, 3),)))
case("flip_neg_dim")(lambda: (lambda x: fk.flip(x, -1), (randn(2, 3),)))
case("transpose_neg")(lambda: (lambda x: x.transpose(-1, -2), (randn(2, 3),)))
case("flip_dims")(lambda: (lambda x: x.flip((0, 1)), (randn(2, 3),)))
case("roll")(lambda: (lambda x: fk.roll(x, 1, 1), (randn(2, 3),)))
case("roll_multi")(lambda: (lambda x: fk.roll(x, (1, -1), (0, 1)), (randn(2, 3),)))
case("roll_flat")(lambda: (lambda x: fk.roll(x, 2), (randn(2, 3),)))
case("pad_last")(lambda: (lambda x: F.pad(x, (1, 2)), (randn(2, 3),)))
case("pad_two_dims_value")(lambda: (lambda x: F.pad(x, (0, 1, 2, 1), value=3.0), (randn(2, 3),)))
case("tril")(lambda: (lambda x: fk.tril(x), (randn(3, 3),)))
case("tril_offset")(lambda: (lambda x: fk.tril(x, -1), (randn(3, 3),)))
case("triu")(lambda: (lambda x: fk.triu(x), (randn(2, 3),)))
case("triu_offset")(lambda: (lambda x: x.triu(1), (randn(3, 3),)))
case("diag_vec_to_mat")(lambda: (lambda x: fk.diag(x), (randn(3),)))
case("diag_vec_offset")(lambda: (lambda x: fk.diag(x, 1), (randn(3),)))
case("diag_mat_to_vec")(lambda: (lambda x: fk.diag(x), (randn(3, 3),)))
case("diag_mat_offset")(lambda: (lambda x: fk.diag(x, -1), (randn(3, 4),)))
case("diagonal")(lambda: (lambda x: fk.diagonal(x, 1), (randn(3, 3),)))
# issue 7: shape functions
case("movedim")(lambda: (lambda x: fk.movedim(x, (0, 1), (2, 0)), (randn(2, 3, 2),)))
case("narrow")(lambda: (lambda x: fk.narrow(x, 1, 1, 2), (randn(2, 3),)))
case("select")(lambda: (lambda x: x.select(1, -1), (randn(2, 3),)))
case("tile")(lambda: (lambda x: fk.tile(x, (2, 1, 2)), (randn(2, 3),)))
case("rot90")(lambda: (lambda x: fk.rot90(x, 1), (randn(2, 3),)))
case("rot90_k3")(lambda: (lambda x: x.rot90(3, (1, 0)), (randn(2, 3),)))
case("fliplr")(lambda: (fk.fliplr, (randn(2, 3),)))
case("hstack")(lambda: (lambda a, b: fk.hstack([a, b]), (randn(2, 3), randn(2, 1, seed=1))))
case("vstack")(lambda: (lambda a, b: fk.vstack([a, b]), (randn(3), randn(2, 3, seed=1))))
case("dstack")(lambda: (lambda a, b: fk.dstack([a, b]), (randn(2, 3), randn(2, 3, seed=1))))
case("column_stack")(lambda: (lambda a, b: fk.column_stack([a, b]), (randn(2), randn(2, 2, seed=1))))
case("meshgrid_xy")(lambda: (lambda a, b: fk.meshgrid(a, b, indexing="xy"), (randn(2), randn(3, seed=1))))
case("broadcast_tensors")(lambda: (lambda a, b: fk.broadcast_tensors(a, b), (randn(2, 1), randn(3, seed=1))))
case("diag_embed")(lambda: (lambda x: fk.diag_embed(x, 1, 0, 2), (randn(2, 3),)))
case("atleast_3d")(lambda: (fk.atleast_3d, (randn(3),)))
case("unflatten")(lambda: (lambda x: x.unflatten(1, (-1, 2)), (randn(2, 4),)))
case("H_mH")(lambda: (lambda x, y: (x.H, y.mH), (randn(2, 3), randn(2, 2, 3, seed=1))))
# issue 7: sorting and selecting (distinct values: no tie for a difference to cross)
case("sort")(lambda: (lambda x: fk.sort(x, 0, descending=True).values, (distinct(3, 2),)))
case("msort")(lambda: (fk.msort, (distinct(3, 2),)))
case("topk")(lambda: (lambda x: fk.topk(x, 2, largest=False).values, (distinct(2, 3),)))
case("kthvalue")(lambda: (lambda x: fk.kthvalue(x, 2, 0, keepdim=True).values, (distinct(3, 2),)))
case("median_all")(lambda: (fk.median, (distinct(2, 3),)))
case("median_dim")(lambda: (lambda x: fk.median(x, -1).values, (distinct(2, 4),)))
case("nanmedian_all")(lambda: (fk.nanmedian, (distinct(3, 3),)))
case("quantile_linear")(lambda: (lambda x: fk.quantile(x, C(np.array([0.3, 0.75])), dim=1), (distinct(2, 5),)))
case("quantile_midpoint")(lambda: (lambda x: fk.quantile(x, 0.4, interpolation="midpoint"), (distinct(2, 3),)))
case("nanquantile")(lambda: (lambda x: fk.nanquantile(x, 0.6, dim=0, keepdim=True), (distinct(3, 2),)))

# ---- indexing
case("getitem_int")(lambda: (lambda x: x[1], (randn(2, 3),)))
case("getitem_slice")(lambda: (lambda x: x[:, 1:], (randn(2, 3),)))
case("getitem_step_neg")(lambda: (lambda x: x[::-1, ::2], (randn(3, 3),)))
case("getitem_none_ellipsis")(lambda: (lambda x: x[..., None, 0], (randn(2, 3),)))
case("getitem_mixed_basic")(lambda: (lambda x: x[1, 1:3], (randn(2, 3),)))
case("getitem_adv_repeats")(lambda: (lambda x: x[C(np.array([0, 1, 0, 0]))], (randn(2, 3),)))
case("getitem_adv_list")(lambda: (lambda x: x[[1, 1, 0]], (randn(2, 3),)))
case("getitem_adv_two_arrays")(lambda: (lambda x: x[C(np.array([0, 1, 1, 0])), C(np.array([2, 2, 0, 2]))],
                                        (randn(2, 3),)))
case("getitem_adv_slice_mix")(lambda: (lambda x: x[:, C(np.array([2, 0, 2]))], (randn(2, 3),)))
case("getitem_adv_2d_index")(lambda: (lambda x: x[C(np.array([[0, 2], [2, 2]]))], (randn(3),)))
case("getitem_bool_mask")(lambda: (lambda x: x[C(np.array([[True, False, True], [False, True, True]]))],
                                   (randn(2, 3),)))
case("getitem_adv_negative")(lambda: (lambda x: x[[-1, 0, -1]], (randn(2, 3),)))
case("getitem_adv_negative_cols")(lambda: (lambda x: x[:, C(np.array([-1, -3, -1]))], (randn(2, 3),)))
case("gather")(lambda: (lambda x: fk.gather(x, 1, C(np.array([[0, 0, 2], [1, 2, 1]]))), (randn(2, 3),)))
case("gather_dim0")(lambda: (lambda x: x.gather(0, C(np.array([[1, 0, 1], [1, 1, 0], [0, 0, 0]]))), (randn(2, 3),)))
case("scatter_add_both")(lambda: (lambda a, s: fk.scatter_add(a, 1, C(np.array([[0, 0, 2], [1, 2, 1]])), s),
                                  (randn(2, 3), randn(2, 3, seed=1))))
case("scatter_add_src_larger")(lambda: (lambda a, s: fk.scatter_add(a, 0, C(np.array([[1, 0], [1, 1]])), s),
                                        (randn(2, 3), randn(3, 3, seed=1))))
case("index_select")(lambda: (lambda x: fk.index_select(x, 1, C(np.array([2, 0, 2]))), (randn(2, 3),)))
case("index_select_dim0")(lambda: (lambda x: x.index_select(0, C(np.array([1, 1, 0]))), (randn(2, 3),)))
case("masked_fill")(lambda: (lambda x: fk.masked_fill(x, C(np.array([[True, False, False], [False, True, False]])), 0.5),
                             (randn(2, 3),)))
case("masked_fill_broadcast")(lambda: (lambda x: x.masked_fill(C(np.array([False, True, False])), -1.0),
                                       (randn(2, 3),)))
# issue 7: indexing and writes (scatter, index_*, put, masked_*), unfold
case("masked_fill_tensor_value")(lambda: (lambda x, v: fk.masked_fill(x, C(np.array([[True, False, True]])), v),
                                          (randn(2, 3), randn(seed=1))))
case("masked_select")(lambda: (lambda x: fk.masked_select(x, C(np.array([True, False, True]))), (randn(2, 3),)))
case("masked_scatter")(lambda: (lambda x, s: fk.masked_scatter(x, C(np.array([True, False, True])), s),
                                (randn(2, 3), randn(5, seed=1))))
case("take")(lambda: (lambda x: fk.take(x, C(np.array([[5, 0], [-1, 5]]))), (randn(2, 3),)))
case("take_along_dim")(lambda: (lambda x: fk.take_along_dim(x, C(np.array([[2, 0, 2]])), 1), (randn(2, 3),)))
case("repeat_interleave")(lambda: (lambda x: fk.repeat_interleave(x, C(np.array([2, 0, 1])), 1), (randn(2, 3),)))
case("unfold_overlapping")(lambda: (lambda x: x.unfold(1, 3, 1), (randn(2, 5),)))
case("scatter_src")(lambda: (lambda x, s: fk.scatter(x, 1, C(np.array([[2, 0], [1, 2]])), s),
                             (randn(2, 3), randn(2, 2, seed=1))))
case("scatter_value")(lambda: (lambda x: fk.scatter(x, 0, C(np.array([[1, 0, 1]])), 0.5), (randn(2, 3),)))
case("scatter_multiply")(lambda: (lambda x, s: fk.scatter(x, 1, C(np.array([[0, 0], [2, 0]])), s, reduce="multiply"),
                                  (randn(2, 3), randn(2, 2, seed=1))))
for _reduce in ["sum", "prod", "mean", "amax", "amin"]:
    for _self in (True, False):
        case(f"scatter_reduce_{_reduce}_{'with' if _self else 'without'}_self")(
            lambda r=_reduce, i=_self: (lambda x, s: fk.scatter_reduce(x, 1, C(np.array([[0, 0, 2], [1, 1, 1]])), s, r,
                                                                       include_self=i),
                                        (randn(2, 3), randn(2, 3, seed=1))))
case("scatter_reduce_prod_zero")(lambda: (lambda x, s: fk.scatter_reduce(x, 0, C(np.array([0, 0, 1])), s, "prod"),
                                          (T([0.0, 1.5]), T([2.0, 0.0, -0.7]))))
case("index_add")(lambda: (lambda x, s: fk.index_add(x, 0, C(np.array([1, 0, 1])), s, alpha=2.0),
                           (randn(2, 3), randn(3, 3, seed=1))))
case("index_copy")(lambda: (lambda x, s: fk.index_copy(x, 1, C(np.array([2, 0])), s), (randn(2, 3), randn(2, 2, seed=1))))
case("index_fill_tensor_value")(lambda: (lambda x, v: fk.index_fill(x, 1, C(np.array([2, -3])), v),
                                         (randn(2, 3), randn(seed=1))))
case("index_put")(lambda: (lambda x, v: fk.index_put(x, (C(np.array([1, 0])), C(np.array([2, 2]))), v),
                           (randn(2, 3), randn(2, seed=1))))
case("index_put_accumulate")(lambda: (lambda x, v: fk.index_put(x, (C(np.array([1, 1])),), v, accumulate=True),
                                      (randn(2, 3), randn(3, seed=1))))
case("put")(lambda: (lambda x, s: fk.put(x, C(np.array([4, 0, -1])), s), (randn(2, 3), randn(3, seed=1))))

# ---- softmax family
case("softmax_last")(lambda: (lambda x: F.softmax(x, dim=-1), (randn(2, 3),)))
case("softmax_dim0")(lambda: (lambda x: fk.softmax(x, 0), (randn(2, 3),)))
case("log_softmax_last")(lambda: (lambda x: F.log_softmax(x, dim=-1), (randn(2, 3),)))
case("log_softmax_dim0")(lambda: (lambda x: fk.log_softmax(x, 0), (randn(2, 3),)))

# ---- linear algebra
case("einsum_matmul")(lambda: (lambda a, b: fk.einsum("ij,jk->ik", a, b), (randn(2, 3), randn(3, 2, seed=1))))
case("einsum_trace_like_sum")(lambda: (lambda a: fk.einsum("ij->", a), (randn(2, 3),)))
case("einsum_transpose")(lambda: (lambda a: fk.einsum("ij->ji", a), (randn(2, 3),)))
case("einsum_outer")(lambda: (lambda a, b: fk.einsum("i,j->ij", a, b), (randn(2), randn(3, seed=1))))
case("einsum_batched")(lambda: (lambda a, b: fk.einsum("bij,bjk->bik", a, b),
                                (randn(2, 2, 3), randn(2, 3, 2, seed=1))))
case("einsum_ellipsis")(lambda: (lambda a, b: fk.einsum("...ij,jk->...ik", a, b),
                                 (randn(2, 2, 3), randn(3, 2, seed=1))))
case("einsum_implicit")(lambda: (lambda a, b: fk.einsum("ij,jk", a, b), (randn(2, 3), randn(3, 2, seed=1))))
case("einsum_three")(lambda: (lambda a, b, c: fk.einsum("i,ij,j->", a, b, c),
                              (randn(2), randn(2, 3, seed=1), randn(3, seed=2))))
case("einsum_sum_only_operand")(lambda: (lambda a, b: fk.einsum("ij,k->i", a, b), (randn(2, 3), randn(2, seed=1))))
case("outer")(lambda: (fk.outer, (randn(2), randn(3, seed=1))))
case("dot")(lambda: (fk.dot, (randn(3), randn(3, seed=1))))
case("mm")(lambda: (fk.mm, (randn(2, 3), randn(3, 2, seed=1))))
case("bmm")(lambda: (fk.bmm, (randn(2, 2, 3), randn(2, 3, 2, seed=1))))
case("det")(lambda: (fk.det, (well_conditioned(3),)))
case("det_batched")(lambda: (fk.det, (well_conditioned(2, batch=(2,)),)))
case("det_negative")(lambda: (fk.det, (T([[0.5, 2.0], [1.5, -0.3]]),)))
case("inverse")(lambda: (fk.inverse, (well_conditioned(3),)))
case("inverse_batched")(lambda: (fk.inverse, (well_conditioned(2, batch=(2,)),)))
case("trace")(lambda: (fk.trace, (randn(3, 3),)))
case("trace_rect")(lambda: (fk.trace, (randn(2, 3),)))
case("mv")(lambda: (fk.mv, (randn(2, 3), randn(3, seed=1))))
case("addmm")(lambda: (lambda c, a, b: fk.addmm(c, a, b, beta=0.5, alpha=2.0), (randn(2), randn(2, 3, seed=1),
                                                                                randn(3, 2, seed=2))))
case("addmv")(lambda: (fk.addmv, (randn(2), randn(2, 3, seed=1), randn(3, seed=2))))
case("addbmm")(lambda: (fk.addbmm, (randn(2, 2), randn(2, 2, 3, seed=1), randn(2, 3, 2, seed=2))))
case("baddbmm")(lambda: (lambda c, a, b: fk.baddbmm(c, a, b, alpha=-1.0), (randn(2, 2, 2), randn(2, 2, 3, seed=1),
                                                                            randn(2, 3, 2, seed=2))))
case("kron")(lambda: (fk.kron, (randn(2, 1), randn(2, 3, seed=1))))
case("cross")(lambda: (lambda a, b: fk.cross(a, b, dim=1), (randn(2, 3), randn(2, 3, seed=1))))
case("tensordot")(lambda: (lambda a, b: fk.tensordot(a, b, ([1, 0], [0, 2])), (randn(2, 3), randn(3, 2, 2, seed=1))))
case("cdist_p2")(lambda: (fk.cdist, (randn(2, 3), randn(3, 3, seed=1))))
case("cdist_p1")(lambda: (lambda a, b: fk.cdist(a, b, 1.0), (randn(2, 3), randn(3, 3, seed=1))))
case("cdist_inf")(lambda: (lambda a, b: fk.cdist(a, b, float("inf")), (T([[0.1, 1.3, -0.4], [0.9, -0.2, 0.5]]),
                                                                         T([[0.6, 0.2, 0.35]]))))
case("dist")(lambda: (lambda a, b: fk.dist(a, b, 3), (randn(2, 3), randn(3, seed=1))))
case("slogdet")(lambda: (lambda a: fk.slogdet(a).logabsdet, (T([[0.5, 2.0], [1.5, -0.3]]),)))
case("matrix_power")(lambda: (lambda a: fk.matrix_power(a, 3), (randn(2, 2, 2),)))
case("matrix_power_negative")(lambda: (lambda a: fk.matrix_power(a, -2), (well_conditioned(2),)))
case("linalg_solve")(lambda: (fk.linalg.solve, (well_conditioned(3), randn(3, 2, seed=1))))
case("linalg_solve_vector_batched")(lambda: (fk.linalg.solve, (well_conditioned(2, batch=(2,)), randn(2, seed=1))))
case("linalg_svd")(lambda: (lambda a: _svd_gauged(a, False), (randn(3, 2),)))
# full matrices: only the first min(m, n) columns of U / rows of Vh are differentiated (the rest are not
# determined by A; torch's convention), so finite differences see only those
case("linalg_svd_wide_full")(lambda: (lambda a: [t[..., :2, :] if i == 2 else t for i, t in
                                                 enumerate(_svd_gauged(a, True))], (randn(2, 3),)))
case("linalg_svdvals")(lambda: (fk.linalg.svdvals, (randn(2, 3),)))
case("linalg_eigh")(lambda: (lambda a: _eigh_gauged(a + a.mT), (randn(3, 3),)))
case("linalg_qr")(lambda: (fk.linalg.qr, (randn(3, 2),)))
case("linalg_qr_wide")(lambda: (fk.linalg.qr, (randn(2, 3),)))
case("linalg_cholesky")(lambda: (lambda a: fk.linalg.cholesky(a @ a.mT + C(np.eye(3))), (randn(3, 3),)))
case("linalg_pinv")(lambda: (fk.linalg.pinv, (randn(3, 2),)))
case("linalg_lstsq")(lambda: (lambda a, b: fk.linalg.lstsq(a, b).solution, (randn(3, 2), randn(3, seed=1))))
case("linalg_multi_dot")(lambda: (lambda a, b, c: fk.linalg.multi_dot([a, b, c]),
                                  (randn(2), randn(2, 3, seed=1), randn(3, 2, seed=2))))
case("linalg_vector_norm")(lambda: (lambda x: fk.linalg.vector_norm(x, 3, dim=1), (away(2, 3),)))
case("linalg_matrix_norm_nuc")(lambda: (lambda x: fk.linalg.matrix_norm(x, "nuc"), (randn(2, 3),)))
case("linalg_matrix_norm_2")(lambda: (lambda x: fk.linalg.matrix_norm(x, 2), (randn(3, 2),)))

# matmul, every rank combination (1-d, 2-d, batched, broadcast batch dims)
MATMUL_SHAPES = {
    "1d@1d": ((3,), (3,)),
    "1d@2d": ((3,), (3, 2)),
    "2d@1d": ((2, 3), (3,)),
    "2d@2d": ((2, 3), (3, 2)),
    "1d@3d": ((3,), (2, 3, 2)),
    "3d@1d": ((2, 2, 3), (3,)),
    "2d@3d": ((2, 3), (2, 3, 2)),
    "3d@2d": ((2, 2, 3), (3, 2)),
    "3d@3d": ((2, 2, 3), (2, 3, 2)),
    "3d@3d_bcast": ((1, 2, 3), (2, 3, 2)),
    "4d@3d_bcast": ((2, 1, 2, 3), (2, 3, 1)),
    "4d@1d": ((2, 1, 2, 3), (3,)),
}
for _name, (_sa, _sb) in MATMUL_SHAPES.items():
    case(f"matmul_{_name}")(lambda sa=_sa, sb=_sb: (lambda a, b: a @ b, (randn(*sa), randn(*sb, seed=1))))
case("matmul_one_requires_grad")(lambda: (lambda a: fk.matmul(a, C(np.arange(6.0).reshape(3, 2))), (randn(2, 3),)))
case("mul_with_constant_input")(lambda: (lambda a, b: a * b + b, (randn(2, 3), C(np.arange(6.0).reshape(2, 3)))))
case("matmul_with_constant_input")(lambda: (lambda a, b: a @ b, (C(np.arange(6.0).reshape(2, 3)), randn(3, 2))))
case("rmatmul_const_left")(lambda: (lambda b: fk.matmul(C(np.arange(6.0).reshape(2, 3)), b), (randn(3),)))

# ---- composites (chain rule across several ops)
case("composite_mlp")(lambda: (lambda x, w, b: F.log_softmax(F.gelu(x @ w + b), dim=-1).sum(0),
                               (randn(2, 3), randn(3, 2, seed=1), randn(2, seed=2))))
case("composite_layernorm")(lambda: (lambda x: (x - x.mean(-1, keepdim=True)) * fk.rsqrt(fk.var(x, -1, unbiased=False, keepdim=True) + 1e-5),
                                     (randn(2, 3),)))
case("composite_shared_input")(lambda: (lambda x: x * x.exp() + fk.sin(x) * x, (randn(2, 3),)))


@pytest.mark.parametrize("name", list(CASES))
def test_gradcheck(name):
    """Reverse- and forward-mode Jacobians of the op match central differences (float64)."""
    func, inputs = CASES[name]()
    assert all(x.dtype == np.float64 for x in inputs if x.requires_grad)
    assert gradcheck(func, inputs)


# --------------------------------------------------------------------------- gradgradcheck
GG_CASES: dict[str, callable] = {
    "tanh": lambda: (fk.tanh, (randn(2, 3),)),
    "sigmoid": lambda: (fk.sigmoid, (randn(2, 3),)),
    "exp": lambda: (fk.exp, (randn(2, 3),)),
    "log": lambda: (fk.log, (positive(2, 3),)),
    "sin": lambda: (fk.sin, (randn(2, 3),)),
    "pow_scalar": lambda: (lambda x: x ** 3, (randn(2, 3),)),
    "relu_cubed": lambda: (lambda x: F.relu(x) * F.relu(x) * x, (away(2, 3),)),  # through ReluBackward's rules
    "pow_scalar_frac": lambda: (lambda x: x ** 1.5, (positive(2, 3),)),
    "pow_tensor": lambda: (lambda a, b: a ** b, (positive(2, 3), randn(2, 3, seed=1))),
    "mul_div": lambda: (lambda a, b: a * b / (b * b + 1.0), (randn(2, 3), randn(2, 3, seed=1))),
    "matmul": lambda: (lambda a, b: a @ b, (randn(2, 3), randn(3, 2, seed=1))),
    "matmul_batched": lambda: (lambda a, b: a @ b, (randn(2, 2, 3), randn(3, seed=1))),
    "softmax": lambda: (lambda x: F.softmax(x, dim=-1), (randn(2, 3),)),
    "log_softmax": lambda: (lambda x: F.log_softmax(x, dim=1), (randn(2, 3),)),
    "logsumexp": lambda: (lambda x: fk.logsumexp(x, 1), (randn(2, 3),)),
    "det": lambda: (fk.det, (well_conditioned(3),)),
    "inverse": lambda: (fk.inverse, (well_conditioned(2),)),
    "gelu": lambda: (F.gelu, (randn(2, 3),)),
    "gelu_tanh": lambda: (lambda x: F.gelu(x, approximate="tanh"), (randn(2, 3),)),
    "silu": lambda: (F.silu, (randn(2, 3),)),
    "softplus": lambda: (F.softplus, (randn(2, 3),)),
    "var": lambda: (lambda x: fk.var(x, 1), (randn(2, 3),)),
    "std": lambda: (lambda x: fk.std(x), (randn(2, 3),)),
    "norm_fro": lambda: (lambda x: fk.norm(x), (randn(2, 3),)),
    "einsum": lambda: (lambda a, b: fk.einsum("ij,jk->ik", a, b), (randn(2, 3), randn(3, 2, seed=1))),
    "erf": lambda: (fk.erf, (randn(2, 3),)),
    "sqrt": lambda: (fk.sqrt, (positive(2, 3),)),
    "asin": lambda: (fk.asin, (away(2, 3, lo=0.1, hi=0.9),)),
    "acosh": lambda: (fk.acosh, (positive(2, 3, lo=1.2, hi=3.0),)),
    "tan": lambda: (fk.tan, (away(2, 3, lo=0.1, hi=1.3),)),
    "expm1": lambda: (fk.expm1, (randn(2, 3),)),
    "erfinv": lambda: (fk.erfinv, (away(2, 3, lo=0.05, hi=0.9),)),
    "sinc": lambda: (fk.sinc, (randn(2, 3),)),
    "atan2": lambda: (fk.atan2, (randn(2, 3), randn(3, seed=1))),
    "hypot": lambda: (fk.hypot, (randn(2, 3), randn(2, 1, seed=1))),
    "logaddexp": lambda: (fk.logaddexp, (randn(2, 3), randn(3, seed=1))),
    "logaddexp2": lambda: (fk.logaddexp2, (randn(2, 3), randn(3, seed=1))),
    "xlogy": lambda: (fk.xlogy, (randn(2, 3), positive(3, seed=1))),
    "float_power": lambda: (fk.float_power, (positive(2, 3), randn(3, seed=1))),
    "lerp_tensor_weight": lambda: (fk.lerp, (randn(2, 3), randn(3, seed=1), T([[0.2, 0.7, 1.3], [-0.4, 0.1, 0.9]]))),
    # index / shape ops composed with a nonlinearity, so their gradients are not constant
    "getitem_adv_sq": lambda: (lambda x: x[C(np.array([0, 1, 0]))] ** 2, (randn(2, 3),)),
    "getitem_basic_sq": lambda: (lambda x: x[:, 1:] * x[:, :2], (randn(2, 3),)),
    "gather_sq": lambda: (lambda x: fk.gather(x, 1, C(np.array([[0, 0, 2], [1, 2, 1]]))) ** 2, (randn(2, 3),)),
    "scatter_add_sq": lambda: (lambda a, s: fk.scatter_add(a, 1, C(np.array([[0, 0], [1, 2]])), s) ** 2,
                               (randn(2, 3), randn(2, 2, seed=1))),
    "max_dim_sq": lambda: (lambda x: fk.max(x, 1).values ** 2, (distinct(2, 3),)),
    "amax_sq": lambda: (lambda x: fk.amax(x, 0) ** 2, (distinct(2, 3),)),
    "cat_pad_sq": lambda: (lambda a, b: F.pad(fk.cat([a, b], 1), (1, 1)) ** 2, (randn(2, 2), randn(2, 1, seed=1))),
    "cumsum_roll_flip": lambda: (lambda x: fk.cumsum(fk.roll(fk.flip(x, 1), 1, 0), 1) ** 2, (randn(2, 3),)),
    "where_maximum": lambda: (lambda a, b: fk.where(C(np.array([True, False, True])), a * b, fk.maximum(a, b) ** 2),
                              (T([[0.1, 2.0, -1.0], [0.5, -0.3, 0.9]]), T([[0.6, 1.0, -2.0], [-0.5, 0.4, 1.2]]))),
    "tril_matmul": lambda: (lambda a: fk.tril(a) @ fk.triu(a), (randn(3, 3),)),
    "einsum_ellipsis": lambda: (lambda a, b: fk.einsum("...ij,jk->...ik", a, b), (randn(2, 2, 3), randn(3, 2, seed=1))),
    "det_batched": lambda: (fk.det, (well_conditioned(2, batch=(2,)),)),
    "inverse_batched": lambda: (fk.inverse, (well_conditioned(2, batch=(2,)),)),
    "elu": lambda: (F.elu, (away(2, 3),)),
    "softmax_dim0": lambda: (lambda x: fk.softmax(x, 0), (randn(2, 3),)),
    # issue 7: reductions, scans and linear algebra
    "cumprod_with_zeros": lambda: (lambda x: fk.cumprod(x, 1), (T([[0.7, 0.0, -1.2, 0.0], [0.0, 1.5, 0.9, -0.4]]),)),
    "logcumsumexp": lambda: (lambda x: fk.logcumsumexp(x, 1), (randn(2, 3),)),
    "nanmean_sq": lambda: (lambda x: fk.nanmean(x + C([[0.0, np.nan, 0.0], [0.0, 0.0, 0.0]]), 1) ** 2, (randn(2, 3),)),
    "trapezoid_x": lambda: (fk.trapezoid, (randn(2, 3), randn(3, seed=1))),
    "cdist_p2": lambda: (fk.cdist, (randn(2, 3), randn(3, 3, seed=1))),
    "cdist_p3": lambda: (lambda a, b: fk.cdist(a, b, 3.0), (randn(2, 3), randn(3, 3, seed=1))),
    "slogdet": lambda: (lambda a: fk.slogdet(a).logabsdet, (well_conditioned(3),)),
    "linalg_solve": lambda: (fk.linalg.solve, (well_conditioned(2), randn(2, 2, seed=1))),
    "linalg_svd": lambda: (lambda a: _svd_gauged(a, False), (randn(3, 2),)),
    "linalg_eigh": lambda: (lambda a: _eigh_gauged(a + a.mT), (randn(3, 3),)),
    "linalg_qr": lambda: (fk.linalg.qr, (randn(3, 2),)),
    "linalg_cholesky": lambda: (lambda a: fk.linalg.cholesky(a @ a.mT + C(np.eye(2))), (randn(2, 2),)),
    "linalg_pinv": lambda: (fk.linalg.pinv, (randn(2, 3),)),
    # issue 7: sorting and writes, composed with a nonlinearity where the op itself is piecewise linear
    "sort_sq": lambda: (lambda x: fk.sort(x, 1).values ** 2, (distinct(2, 3),)),
    "quantile_sq": lambda: (lambda x: fk.quantile(x, 0.3, dim=0) ** 2, (distinct(4, 2),)),
    "unfold_sq": lambda: (lambda x: x.unfold(0, 2, 1) ** 2, (randn(4, 2),)),
    "scatter_reduce_prod": lambda: (lambda x, s: fk.scatter_reduce(x, 1, C(np.array([[0, 0, 2], [1, 1, 1]])), s,
                                                                   "prod"), (randn(2, 3), randn(2, 3, seed=1))),
    "scatter_reduce_prod_zero": lambda: (lambda x, s: fk.scatter_reduce(x, 0, C(np.array([0, 0, 1])), s, "prod",
                                                                        include_self=False),
                                         (T([0.0, 1.5]), T([2.0, 0.0, -0.7]))),
    "index_put_accumulate_sq": lambda: (lambda x, v: fk.index_put(x, (C(np.array([1, 1])),), v * v, accumulate=True),
                                        (randn(2, 3), randn(3, seed=1))),
}


@pytest.mark.parametrize("name", list(GG_CASES))
def test_gradgradcheck(name):
    """Second derivatives (reverse-over-reverse) match differences of the first derivative."""
    func, inputs = GG_CASES[name]()
    assert gradgradcheck(func, inputs)


# --------------------------------------------------------------------------- the checker can fail
class _SquareRight(Function):
    """y = x² with correct rules; the two subclasses below break one rule each."""

    def forward(self, x):
        self.save(x)
        return x.data.numpy() ** 2

    def vjp(self, grad):
        (x,) = self.saved
        return grad * 2.0 * x

    def jvp(self, dx):
        (x,) = self.saved
        return dx * 2.0 * x


class _SquareWrongVjp(_SquareRight):
    """Reverse rule deliberately wrong (3x instead of 2x), forward rule right."""

    def vjp(self, grad):
        (x,) = self.saved
        return grad * 3.0 * x


class _SquareWrongJvp(_SquareRight):
    """Reverse rule right, forward rule deliberately wrong (missing factor 2)."""

    def jvp(self, dx):
        (x,) = self.saved
        return dx * x


class _MulWrongSecondInput(Function):
    """a·b whose gradient for b is wrong (uses b instead of a): only input 1 is wrong."""

    def forward(self, a, b):
        self.save(a, b)
        return a.data.numpy() * b.data.numpy()

    def vjp(self, grad):
        a, b = self.saved
        return grad * b, grad * b

    def jvp(self, da, db):
        a, b = self.saved
        out = da * b if da is not None else None
        if db is not None:
            out = db * a if out is None else out + db * a
        return out


def test_custom_function_right_passes():
    """Sanity: a correct custom Function passes gradcheck in both modes."""
    assert gradcheck(_SquareRight.apply, (randn(2, 3),))


def test_gradcheck_raises_on_wrong_vjp():
    """A wrong reverse rule is caught, and the message names reverse mode."""
    with pytest.raises(GradcheckError, match="reverse"):
        gradcheck(_SquareWrongVjp.apply, (randn(2, 3),))


def test_gradcheck_wrong_vjp_returns_false_without_raise():
    assert gradcheck(_SquareWrongVjp.apply, (randn(2, 3),), raise_exception=False) is False


def test_gradcheck_wrong_vjp_passes_when_reverse_not_checked():
    """Only the forward rule is checked: the (correct) jvp passes."""
    assert gradcheck(_SquareWrongVjp.apply, (randn(2, 3),), check_backward_ad=False)


def test_gradcheck_raises_on_wrong_jvp():
    """A wrong forward rule is caught too, and the message names forward mode."""
    with pytest.raises(GradcheckError, match="forward"):
        gradcheck(_SquareWrongJvp.apply, (randn(2, 3),))
    assert gradcheck(_SquareWrongJvp.apply, (randn(2, 3),), check_forward_ad=False)


def test_gradcheck_names_the_wrong_input():
    """With two inputs, only the wrong one (input 1) is reported."""
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(_MulWrongSecondInput.apply, (randn(2, 3), randn(2, 3, seed=1)))


def test_gradcheck_wrong_rule_inside_composite():
    """A wrong rule buried in a larger graph is still caught."""
    with pytest.raises(GradcheckError):
        gradcheck(lambda x, w: fk.tanh(_SquareWrongVjp.apply(x @ w)).sum(1), (randn(2, 3), randn(3, 2, seed=1)))


def test_gradcheck_wrong_rule_in_second_of_tuple_outputs():
    """Tuple outputs (as split/chunk return) are all checked, not only the first."""
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: (x * 2.0, _SquareWrongVjp.apply(x)), (randn(2, 3),))
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: (x * 2.0, _SquareWrongJvp.apply(x)), (randn(2, 3),))


def test_gradcheck_rejects_float32_inputs():
    x = fk.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    with pytest.raises(GradcheckError, match="float64"):
        gradcheck(fk.exp, (x,))


def test_gradgradcheck_catches_wrong_second_derivative():
    """A rule whose first derivative is right but whose vjp is not differentiable correctly
    (half of x² taken as a constant) passes gradcheck but must fail gradgradcheck."""

    class _CubeHalfDetachedVjp(Function):
        # y = x³; vjp = 3·x·stop(x)·g: right value 3x²·g, but its derivative is 3x·g, not 6x·g.
        def forward(self, x):
            self.save(x)
            return x.data.numpy() ** 3

        def vjp(self, grad):
            (x,) = self.saved
            return grad * 3.0 * x * fk.tensor(x.data.numpy())

        def jvp(self, dx):
            (x,) = self.saved
            return dx * 3.0 * x * x

    assert gradcheck(_CubeHalfDetachedVjp.apply, (randn(2, 3),))
    with pytest.raises(GradcheckError):
        gradgradcheck(_CubeHalfDetachedVjp.apply, (randn(2, 3),))


# --------------------------------------------------------------------------- outputs that do not depend on the input
# torch semantics (strict=False): a derivative through no path is zero, not an error.

def test_jacobian_rev_of_constant_output_is_zero():
    """functional.jacobian(mode='rev') of an output independent of x is zeros (as mode='fwd' and torch)."""
    from fukaku.autograd import functional as AF

    x = randn(2)
    const = lambda x: fk.ones(3, dtype=fk.float64)  # noqa: E731
    assert np.array_equal(AF.jacobian(const, x, mode="fwd").data.numpy(), np.zeros((3, 2)))
    assert np.array_equal(AF.jacobian(const, x, mode="rev").data.numpy(), np.zeros((3, 2)))


def test_vjp_of_constant_output_is_zero():
    """functional.vjp of an output independent of x gives a zero vector-Jacobian product (torch)."""
    from fukaku.autograd import functional as AF

    _, g = AF.vjp(lambda x: fk.ones(3, dtype=fk.float64), randn(2), C(np.ones(3)))
    assert np.array_equal(g.data.numpy(), np.zeros(2))


def test_gradcheck_with_a_constant_output():
    """gradcheck of a tuple output where one part is constant (torch passes)."""
    assert gradcheck(lambda x: (x * 2.0, fk.ones(2, dtype=fk.float64)), (randn(2, 3),))


@pytest.mark.parametrize("name", ["mul_scalar", "reshape", "sum"])
def test_gradgradcheck_linear_op(name):
    """The gradient of a linear op is constant; its second derivative is 0 (torch passes)."""
    func = {"mul_scalar": lambda x: x * 2.0, "reshape": lambda x: x.reshape(3, 2), "sum": lambda x: x.sum(0)}[name]
    assert gradgradcheck(func, (randn(2, 3),))


def test_hessian_of_linear_function_is_zero():
    from fukaku.autograd import functional as AF

    h = AF.hessian(lambda x: (x * 3.0).sum(), randn(3))
    assert np.array_equal(h.data.numpy(), np.zeros((3, 3)))
