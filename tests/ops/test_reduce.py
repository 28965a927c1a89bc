"""Conformance of fukaku's reductions and softmax family with PyTorch.

Each case goes through :func:`conformance.check` (forward, backward, jvp, second derivatives) in
float32 and float64, over dims given as None, ints, negative ints and tuples, with and without
keepdim, on ordinary, 0-d, size-1 and empty shapes.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import fukaku as fk
import fukaku.nn.functional as FF

from conformance import FLOATS, assert_close, check, randn, shape_error_raised

# degenerate inputs (log 0, 0/0, N - correction <= 0, NaN) warn in NumPy and torch by design
pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:.*degrees of freedom:UserWarning"),
              pytest.mark.filterwarnings("ignore:.*torch.jit.script.*:DeprecationWarning")]

SHAPE_DIMS = [
    ((3, 4), None),
    ((3, 4), 0),
    ((3, 4), -1),
    ((2, 3, 4), (0, 2)),
    ((2, 3, 4), (-1, -3)),
    ((2, 3, 4), 1),
    ((5,), 0),
    ((1, 4), 0),
    ((), None),
    ((), 0),
    ((2, 3), ()),
]
SHAPE_DIMS_IDS = [f"{s}-dim{d}" for s, d in SHAPE_DIMS]


def _call(fn, dim, **kw):
    """``fn(x, **kw)`` when dim is None, else ``fn(x, dim, **kw)``."""
    if dim is None:
        return lambda x: fn(x, **kw)
    return lambda x: fn(x, dim, **kw)


# ---------------------------------------------------------------------------------- sum / mean / var / std
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape,dim", SHAPE_DIMS, ids=SHAPE_DIMS_IDS)
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_mean(name, shape, dim, keepdim, dtype):
    f, t = getattr(fk, name), getattr(torch, name)
    x = randn(*shape)
    if dim is None:
        check(lambda a: f(a, dim=None, keepdim=keepdim), lambda a: t(a, dim=None, keepdim=keepdim), [x], dtype)
        if not keepdim:
            check(f, t, [x], dtype)
            check(lambda a: getattr(a, name)(), lambda a: getattr(a, name)(), [x], dtype)
    else:
        check(lambda a: f(a, dim, keepdim=keepdim), lambda a: t(a, dim, keepdim=keepdim), [x], dtype)
        check(lambda a: getattr(a, name)(dim=dim, keepdim=keepdim),
              lambda a: getattr(a, name)(dim=dim, keepdim=keepdim), [x], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, None, (0, 1)], ids=str)
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_mean_empty(name, dim, dtype):
    f, t = getattr(fk, name), getattr(torch, name)
    check(_call(f, dim), _call(t, dim), [np.zeros((0, 3))], dtype)


@pytest.mark.parametrize("src", [np.int64, np.int32, np.bool_])
def test_sum_integer_and_bool(src):
    x = np.array([[1, 0, 3], [2, 5, 0]]).astype(src)
    check(fk.sum, torch.sum, [x])
    check(lambda a: fk.sum(a, 1), lambda a: torch.sum(a, 1), [x])
    check(lambda a: fk.cumsum(a, 1), lambda a: torch.cumsum(a, 1), [x])


@pytest.mark.parametrize("dtype", FLOATS)
def test_sum_mean_dtype_argument(dtype):
    x = randn(3, 4).astype(np.float32)
    check(lambda a: fk.sum(a, 1, dtype=fk.float64), lambda a: torch.sum(a, 1, dtype=torch.float64), [x], None)
    check(lambda a: fk.mean(a, 0, dtype=fk.float64), lambda a: torch.mean(a, 0, dtype=torch.float64), [x], None)
    check(lambda a: fk.mean(a, dtype=fk.float64), lambda a: torch.mean(a, dtype=torch.float64),
          [np.arange(6).reshape(2, 3)], None)


VAR_KW = [
    {},
    {"unbiased": True},
    {"unbiased": False},
    {"correction": 0},
    {"correction": 1},
    {"correction": 2},
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kw", VAR_KW, ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape,dim", [((4, 5), None), ((4, 5), 1), ((4, 5), -2), ((2, 3, 4), (0, 2)),
                                       ((6,), 0)], ids=str)
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std(name, shape, dim, keepdim, kw, dtype):
    f, t = getattr(fk, name), getattr(torch, name)
    x = randn(*shape, seed=2)
    if dim is None:
        check(lambda a: f(a, **kw), lambda a: t(a, **kw), [x], dtype)
    else:
        check(lambda a: f(a, dim, keepdim=keepdim, **kw), lambda a: t(a, dim, keepdim=keepdim, **kw), [x], dtype)
        check(lambda a: getattr(a, name)(dim, keepdim=keepdim, **kw),
              lambda a: getattr(a, name)(dim, keepdim=keepdim, **kw), [x], dtype)


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_positional_unbiased(name):
    """torch.var(x, False) means unbiased=False (the legacy overload), not dim=False."""
    f, t = getattr(fk, name), getattr(torch, name)
    x = randn(3, 4, seed=1)
    check(lambda a: f(a, False), lambda a: t(a, False), [x], np.float64)
    check(lambda a: f(a, True), lambda a: t(a, True), [x], np.float64)
    check(lambda a: f(a, 1, False, True), lambda a: t(a, 1, False, True), [x], np.float64)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_degenerate(name, dtype):
    """Constant inputs (std's gradient is 0 there, as torch), too few elements (nan / inf)."""
    f, t = getattr(fk, name), getattr(torch, name)
    # d/du of std's vjp at a constant input: torch's is nan (its 0/0 before the mask), fukaku's 0
    wrt_upstream = name == "var"
    check(f, t, [np.full((4,), 1.5)], dtype, second_wrt_upstream=wrt_upstream)
    check(lambda a: f(a, 1), lambda a: t(a, 1), [np.array([[1.0, 1.0], [2.0, 3.0]])], dtype,
          second_wrt_upstream=wrt_upstream)
    # N - correction <= 0: nan (0/0) or inf; only the forward values are pinned down
    check(f, t, [np.array([2.0])], dtype, backward=False, jvp=False)
    check(lambda a: f(a, correction=2), lambda a: t(a, correction=2), [np.array([1.0, 2.0])], dtype,
          backward=False, jvp=False)
    check(f, t, [np.array(3.0)], dtype, backward=False, jvp=False)
    check(lambda a: f(a, 0), lambda a: t(a, 0), [np.zeros((0, 3))], dtype, backward=False, jvp=False)


# ---------------------------------------------------------------------------------- max / min / amax / amin
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(3, 4), (5,), (), (2, 1, 3)], ids=str)
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_full(name, shape, dtype):
    f, t = getattr(fk, name), getattr(torch, name)
    x = randn(*shape, seed=3)
    check(f, t, [x], dtype)
    check(lambda a: getattr(a, name)(), lambda a: getattr(a, name)(), [x], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_full_ties(name, dtype):
    """A full max/min with ties shares the gradient evenly (torch's evenly_distribute_backward)."""
    f, t = getattr(fk, name), getattr(torch, name)
    check(f, t, [np.array([[1.0, 3.0, 3.0], [-2.0, 3.0, -2.0]])], dtype)
    check(f, t, [np.array([[1.0, -3.0, -3.0], [-2.0, 3.0, -3.0]])], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape,dim", [((3, 4), 0), ((3, 4), 1), ((3, 4), -1), ((2, 3, 4), -2), ((5,), 0),
                                       ((1, 4), 0), ((), 0), ((0, 3), 1)], ids=str)
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_dim(name, shape, dim, keepdim, dtype):
    f, t = getattr(fk, name), getattr(torch, name)
    x = randn(*shape, seed=4)
    check(lambda a: f(a, dim, keepdim), lambda a: t(a, dim, keepdim), [x], dtype)
    check(lambda a: f(a, dim=dim, keepdim=keepdim), lambda a: t(a, dim=dim, keepdim=keepdim), [x], dtype)
    check(lambda a: getattr(a, name)(dim, keepdim=keepdim), lambda a: getattr(a, name)(dim, keepdim=keepdim),
          [x], dtype)


def test_max_min_dim_returns_named_tuple():
    r = fk.max(fk.tensor([[1.0, 5.0], [7.0, 2.0]]), 1)
    values, indices = r
    assert r.values is values and r.indices is indices
    np.testing.assert_array_equal(indices.data.numpy(), [1, 0])
    assert indices.dtype == fk.int64


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_dim_ties(name, dim, dtype):
    """Ties along dim: the index of the first extremum, and the whole gradient goes there."""
    f, t = getattr(fk, name), getattr(torch, name)
    x = np.array([[2.0, 2.0, -1.0, 2.0], [-1.0, 0.0, -1.0, 0.0], [2.0, 0.0, -1.0, 2.0]])
    check(lambda a: f(a, dim), lambda a: t(a, dim), [x], dtype)
    check(lambda a: f(a, dim, keepdim=True), lambda a: t(a, dim, keepdim=True), [x], dtype)


def test_max_min_int():
    x = np.array([[3, 1, 3], [0, -2, 5]])
    for name in ("max", "min", "amax", "amin", "argmax", "argmin"):
        f, t = getattr(fk, name), getattr(torch, name)
        check(f, t, [x])
        check(lambda a: f(a, 1), lambda a: t(a, 1), [x])
        check(lambda a: f(a, 0, keepdim=True), lambda a: t(a, 0, keepdim=True), [x])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape,dim", [((3, 4), None), ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), (0, 2)),
                                       ((2, 3, 4), (-1, 1)), ((), None), ((1, 4), 0), ((2, 3), ())], ids=str)
@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin(name, shape, dim, keepdim, dtype):
    f, t = getattr(fk, name), getattr(torch, name)
    x = randn(*shape, seed=5)
    if dim is None:
        check(lambda a: f(a, keepdim=keepdim), lambda a: t(a, keepdim=keepdim), [x], dtype)
    else:
        check(lambda a: f(a, dim, keepdim), lambda a: t(a, dim, keepdim), [x], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin_ties(name, dtype):
    """amax/amin share the gradient evenly between tied extrema (fwd and reverse)."""
    f, t = getattr(fk, name), getattr(torch, name)
    x = np.array([[2.0, 2.0, -1.0, 2.0], [-1.0, 0.0, -1.0, 0.0]])
    for dim in (0, 1, (0, 1), None):
        if dim is None:
            check(f, t, [x], dtype)
        else:
            check(lambda a: f(a, dim), lambda a: t(a, dim), [x], dtype)


@pytest.mark.parametrize("name", ["amax", "amin", "max", "min"])
def test_reduce_empty_along_nonempty_dim(name):
    """Reducing a (0, 3) tensor over dim 1 is fine (an empty result); over dim 0 it is an error."""
    f, t = getattr(fk, name), getattr(torch, name)
    check(lambda a: f(a, 1), lambda a: t(a, 1), [np.zeros((0, 3))], np.float64)
    with pytest.raises((RuntimeError, IndexError, ValueError)):
        f(fk.zeros(0, 3), 0)
    with pytest.raises((RuntimeError, IndexError, ValueError)):
        f(fk.zeros(0, 3))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape,dim", [((3, 4), None), ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), 1), ((), None),
                                       ((), 0), ((0, 3), 1)], ids=str)
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin(name, shape, dim, keepdim):
    f, t = getattr(fk, name), getattr(torch, name)
    x = randn(*shape, seed=6)
    check(lambda a: f(a, dim, keepdim), lambda a: t(a, dim, keepdim), [x], np.float32)
    check(lambda a: f(a, dim=dim, keepdim=keepdim), lambda a: t(a, dim=dim, keepdim=keepdim), [x], np.float64)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin_ties(name):
    f, t = getattr(fk, name), getattr(torch, name)
    x = np.array([[2.0, 2.0, -1.0, 2.0], [-1.0, 0.0, -1.0, 0.0]])
    for dim in (None, 0, 1):
        check(lambda a: f(a, dim), lambda a: t(a, dim), [x])


# ---------------------------------------------------------------------------------- logsumexp
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape,dim", [((3, 4), 0), ((3, 4), -1), ((2, 3, 4), (0, 2)), ((5,), 0), ((), 0),
                                       ((1, 4), 0), ((0, 3), 0), ((0, 3), 1)], ids=str)
def test_logsumexp(shape, dim, keepdim, dtype):
    x = 3.0 * randn(*shape, seed=7)
    # over an empty dim the result is the constant -inf: fukaku's tangent is 0, torch's jvp divides 0 by 0
    jvp = not (x.size == 0 and shape[dim] == 0)
    check(lambda a: fk.logsumexp(a, dim, keepdim), lambda a: torch.logsumexp(a, dim, keepdim), [x], dtype, jvp=jvp)
    check(lambda a: a.logsumexp(dim, keepdim=keepdim), lambda a: a.logsumexp(dim, keepdim=keepdim), [x], dtype,
          jvp=jvp)


@pytest.mark.parametrize("dtype", FLOATS)
def test_logsumexp_extreme(dtype):
    x = np.array([[1000.0, 1000.0, -5.0], [-1000.0, -1001.0, -1002.0]])
    check(lambda a: fk.logsumexp(a, 1), lambda a: torch.logsumexp(a, 1), [x], dtype)
    y = np.array([[-np.inf, 0.0, 1.0], [np.inf, 0.0, 1.0]])
    check(lambda a: fk.logsumexp(a, 1), lambda a: torch.logsumexp(a, 1), [y], dtype, backward=False)


def test_logsumexp_int():
    check(lambda a: fk.logsumexp(a, 0), lambda a: torch.logsumexp(a, 0), [np.array([1, 2, 3])])


# ---------------------------------------------------------------------------------- prod
PROD_INPUTS = {
    "no_zero": np.array([[1.5, -2.0, 0.5, 3.0], [0.7, 1.2, -0.9, 2.0], [-1.1, 0.4, 2.2, -0.6]]),
    "one_zero": np.array([[1.5, 0.0, 0.5, 3.0], [0.7, 1.2, -0.9, 2.0], [-1.1, 0.4, 2.2, -0.6]]),
    "two_zeros_same_row": np.array([[1.5, 0.0, 0.5, 0.0], [0.7, 1.2, -0.9, 2.0], [-1.1, 0.4, 2.2, -0.6]]),
    "zeros_spread": np.array([[0.0, 2.0, 0.5, 3.0], [0.7, 0.0, -0.9, 2.0], [-1.1, 0.4, 2.2, 0.0]]),
    "three_zeros_row": np.array([[0.0, 0.0, 0.5, 0.0], [0.7, 1.2, -0.9, 2.0], [-1.1, 0.4, 2.2, -0.6]]),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, False), (-1, True), (0, True)], ids=str)
@pytest.mark.parametrize("case", list(PROD_INPUTS))
def test_prod(case, dim, keepdim, dtype):
    x = PROD_INPUTS[case]
    if dim is None:
        check(fk.prod, torch.prod, [x], dtype)
        check(lambda a: a.prod(), lambda a: a.prod(), [x], dtype)
    else:
        check(lambda a: fk.prod(a, dim, keepdim), lambda a: torch.prod(a, dim, keepdim), [x], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_prod_shapes(dtype):
    check(fk.prod, torch.prod, [np.array(2.5)], dtype)
    check(lambda a: fk.prod(a, 0), lambda a: torch.prod(a, 0), [np.array(2.5)], dtype)
    check(lambda a: fk.prod(a, 0), lambda a: torch.prod(a, 0), [np.array([0.0])], dtype)
    check(lambda a: fk.prod(a, 1), lambda a: torch.prod(a, 1), [np.zeros((0, 3))], dtype)
    check(lambda a: fk.prod(a, 0), lambda a: torch.prod(a, 0), [np.zeros((0, 3))], dtype)
    check(fk.prod, torch.prod, [np.zeros((0, 3))], dtype)
    check(lambda a: fk.prod(a, 1), lambda a: torch.prod(a, 1), [randn(2, 1, 3)], dtype)
    check(lambda a: fk.prod(a, 1), lambda a: torch.prod(a, 1), [np.array([[0.0, 0.0], [2.0, 0.0]])], dtype)


def test_prod_int():
    x = np.array([[1, 2, 3], [0, 4, 5]])
    check(fk.prod, torch.prod, [x])
    check(lambda a: fk.prod(a, 1), lambda a: torch.prod(a, 1), [x])
    check(lambda a: fk.prod(a, 1), lambda a: torch.prod(a, 1), [x.astype(np.int32)])
    check(lambda a: fk.prod(a, 1), lambda a: torch.prod(a, 1), [x.astype(bool)])


# ---------------------------------------------------------------------------------- cumsum
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,dim", [((3, 4), 0), ((3, 4), 1), ((3, 4), -1), ((2, 3, 4), -2), ((5,), 0),
                                       ((), 0), ((0, 3), 0), ((0, 3), 1), ((1, 4), 0)], ids=str)
def test_cumsum(shape, dim, dtype):
    x = randn(*shape, seed=8)
    check(lambda a: fk.cumsum(a, dim), lambda a: torch.cumsum(a, dim), [x], dtype)
    check(lambda a: a.cumsum(dim=dim), lambda a: a.cumsum(dim=dim), [x], dtype)


def test_cumsum_dtype_argument():
    x = randn(3, 4).astype(np.float32)
    check(lambda a: fk.cumsum(a, 1, dtype=fk.float64), lambda a: torch.cumsum(a, 1, dtype=torch.float64), [x])
    check(lambda a: fk.cumsum(a, 0, dtype=fk.float32), lambda a: torch.cumsum(a, 0, dtype=torch.float32),
          [np.arange(6).reshape(2, 3)])


# ---------------------------------------------------------------------------------- norm
INF = float("inf")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 1)], ids=str)
@pytest.mark.parametrize("p", [1, 2, INF, -INF, "fro", 3, 1.5, 0.5], ids=str)
def test_norm(p, dim, keepdim, dtype):
    x = randn(3, 4, seed=9)
    if p == "fro" and dim is not None and not isinstance(dim, tuple):
        pass  # torch accepts 'fro' over one dim as the 2-norm
    if dim is None:
        if keepdim:
            check(lambda a: fk.norm(a, p, keepdim=True), lambda a: torch.norm(a, p, keepdim=True), [x], dtype)
        else:
            check(lambda a: fk.norm(a, p), lambda a: torch.norm(a, p), [x], dtype)
            check(lambda a: a.norm(p), lambda a: a.norm(p), [x], dtype)
    else:
        check(lambda a: fk.norm(a, p, dim, keepdim), lambda a: torch.norm(a, p, dim, keepdim), [x], dtype)
        check(lambda a: a.norm(p=p, dim=dim, keepdim=keepdim), lambda a: a.norm(p=p, dim=dim, keepdim=keepdim),
              [x], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_norm_default_and_shapes(dtype):
    check(fk.norm, torch.norm, [randn(2, 3, 4)], dtype)
    check(fk.norm, torch.norm, [np.array(-2.0)], dtype)
    check(lambda a: fk.norm(a, dim=1), lambda a: torch.norm(a, dim=1), [randn(2, 3, 4)], dtype)
    check(lambda a: fk.norm(a, 2, 0), lambda a: torch.norm(a, 2, 0), [np.zeros((0, 3))], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("p", [1, 2, INF, "fro", 3, 0.5], ids=str)
def test_norm_at_zero(p, dtype):
    """A zero vector: torch defines the gradient as 0 (not NaN)."""
    x = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.0]])
    check(lambda a: fk.norm(a, p, 1), lambda a: torch.norm(a, p, 1), [x], dtype, second=p in (1, INF))


@pytest.mark.parametrize("dtype", FLOATS)
def test_norm_inf_ties(dtype):
    x = np.array([[1.0, -3.0, 3.0], [2.0, 0.5, -2.0]])
    check(lambda a: fk.norm(a, INF, 1), lambda a: torch.norm(a, INF, 1), [x], dtype)
    check(lambda a: fk.norm(a, INF), lambda a: torch.norm(a, INF), [x], dtype)


def test_norm_p0():
    x = np.array([[0.0, 1.5, 0.0], [1.0, -2.0, 3.0]])
    check(lambda a: fk.norm(a, 0), lambda a: torch.norm(a, 0), [x], np.float32)
    check(lambda a: fk.norm(a, 0, 1), lambda a: torch.norm(a, 0, 1), [x], np.float64)


# ---------------------------------------------------------------------------------- softmax family
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,dim", [((3, 4), 0), ((3, 4), 1), ((3, 4), -1), ((2, 3, 4), 1), ((5,), 0),
                                       ((), 0), ((0, 3), 1), ((0, 3), 0), ((1, 4), 0)], ids=str)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax(name, shape, dim, dtype):
    f, t = getattr(FF, name), getattr(TF, name)
    x = 2.0 * randn(*shape, seed=10)
    check(lambda a: f(a, dim), lambda a: t(a, dim), [x], dtype)
    check(lambda a: f(a, dim=dim), lambda a: t(a, dim=dim), [x], dtype)
    check(lambda a: getattr(fk, name)(a, dim), lambda a: getattr(torch, name)(a, dim), [x], dtype)
    check(lambda a: getattr(a, name)(dim), lambda a: getattr(a, name)(dim), [x], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_extreme(name, dtype):
    f, t = getattr(FF, name), getattr(TF, name)
    x = np.array([[1000.0, 0.0, -1000.0], [-5.0, -3.0, 10.0], [50.0, 50.0, 50.0]])
    check(lambda a: f(a, 1), lambda a: t(a, 1), [x], dtype)
    y = np.array([[-np.inf, 0.0, 1.0], [-np.inf, -np.inf, 2.0]])
    check(lambda a: f(a, 1), lambda a: t(a, 1), [y], dtype, backward=False)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_dtype_argument(name):
    f, t = getattr(FF, name), getattr(TF, name)
    x = randn(2, 3).astype(np.float32)
    check(lambda a: f(a, 1, dtype=fk.float64), lambda a: t(a, 1, dtype=torch.float64), [x])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("p", [-1, -2.5, -INF], ids=str)
def test_norm_negative_p(p, dtype):
    x = randn(3, 4, seed=11)
    check(lambda a: fk.norm(a, p, 1), lambda a: torch.norm(a, p, 1), [x], dtype)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "var"])
def test_repeated_dim_is_an_error(name):
    with pytest.raises(RuntimeError):
        getattr(torch, name)(torch.ones(2, 3), (0, 0))
    with pytest.raises(RuntimeError):
        getattr(fk, name)(fk.ones(2, 3), (0, -2))


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "amax", "logsumexp", "norm", "prod", "cumsum",
                                  "softmax", "log_softmax", "max", "argmax"])
def test_dim_out_of_range(name):
    with pytest.raises(IndexError):
        getattr(torch, name)(torch.ones(2, 3), dim=2)
    with pytest.raises(IndexError):
        getattr(fk, name)(fk.ones(2, 3), dim=2)


@pytest.mark.parametrize("dtype", FLOATS)
def test_reductions_chain_second_order(dtype):
    """A normalisation layer's arithmetic: mean/var/std/softmax/logsumexp composed in one graph."""
    def f(m, F):
        def fn(x, g):
            mu = x.mean(-1, keepdim=True)
            sd = x.std(-1, keepdim=True, unbiased=False)
            y = (x - mu) / (sd + 1e-5) * g
            return F.log_softmax(y, -1).sum(0) + m.logsumexp(y, 0) + y.norm(dim=0) + y.prod(0) + y.cumsum(0)[-1]
        return fn

    check(f(fk, FF), f(torch, TF), [randn(4, 5, seed=2), randn(5, seed=3)], dtype)


NAN = float("nan")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["max", "min", "amax", "amin"])
def test_max_min_nan(name, dtype):
    """NaN is the extremum. Full max/min share the gradient between the NaNs (tangent NaN);
    amax/amin give NaN gradients for the slice; max(x, dim) picks the first NaN's index."""
    f, t = getattr(fk, name), getattr(torch, name)
    x = np.array([[1.0, NAN, 2.0, NAN], [1.0, 3.0, 3.0, 0.0]])
    check(f, t, [x], dtype)
    check(lambda a: f(a, 1), lambda a: t(a, 1), [x], dtype)
    check(lambda a: f(a, 0), lambda a: t(a, 0), [x], dtype)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin_nan(name):
    f, t = getattr(fk, name), getattr(torch, name)
    x = np.array([[1.0, NAN, 2.0, NAN], [1.0, 3.0, 3.0, 0.0]])
    for dim in (None, 0, 1):
        check(lambda a: f(a, dim), lambda a: t(a, dim), [x])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("p", [1, 2, INF, 3], ids=str)
def test_norm_nan(p, dtype):
    x = np.array([[NAN, 0.5, -1.0], [1.0, 2.0, -2.0]])
    check(lambda a: fk.norm(a, p, 1), lambda a: torch.norm(a, p, 1), [x], dtype)


# ---------------------------------------------------------------------------------- NumPy's axis= / keepdims=
# (name, call with the NumPy spellings, the same call with torch's) — torch accepts both spellings
ALIASED = [
    ("sum", dict(axis=1, keepdims=True)), ("mean", dict(axis=-1)), ("prod", dict(axis=0, keepdims=True)),
    ("std", dict(axis=1, keepdims=True)), ("var", dict(axis=(0, 1))), ("amax", dict(axis=0, keepdims=True)),
    ("amin", dict(axis=1)), ("logsumexp", dict(axis=1, keepdims=True)), ("nansum", dict(axis=0)),
    ("nanmean", dict(axis=1, keepdims=True)), ("cumsum", dict(axis=1)), ("cumprod", dict(axis=0)),
    ("logcumsumexp", dict(axis=1)), ("diff", dict(axis=0)), ("argmax", dict(axis=1, keepdims=True)),
    ("argmin", dict(axis=0)), ("count_nonzero", dict(axis=1)),
]


@pytest.mark.parametrize("name,kw", ALIASED, ids=[n for n, _ in ALIASED])
def test_numpy_axis_keepdims_aliases(name, kw):
    """``axis=``/``keepdims=`` mean ``dim=``/``keepdim=``, in the function and the method forms."""
    x = randn(3, 4, seed=12)
    f, t = getattr(fk, name), getattr(torch, name)
    check(lambda a: f(a, **kw), lambda a: t(a, **kw), [x], np.float64, second=False)
    check(lambda a: getattr(a, name)(**kw), lambda a: getattr(a, name)(**kw), [x], np.float32, second=False)
    spelled = {{"axis": "dim", "keepdims": "keepdim"}[k]: v for k, v in kw.items()}
    np.testing.assert_array_equal(f(fk.tensor(x), **kw).numpy(), f(fk.tensor(x), **spelled).numpy())


@pytest.mark.parametrize("name", ["max", "min", "cummax", "cummin"])
def test_numpy_axis_on_value_index_pairs(name):
    x = randn(3, 4, seed=13)
    check(lambda a: getattr(a, name)(axis=1), lambda a: getattr(a, name)(axis=1), [x], np.float64, second=False)
    r = getattr(fk.tensor(x), name)(axis=0)
    assert r.values.shape == r.indices.shape == ((4,) if name in ("max", "min") else (3, 4))
    if name in ("max", "min"):
        kept = getattr(fk, name)(fk.tensor(x), axis=0, keepdims=True)
        assert kept.values.shape == (1, 4) and kept.indices.dtype == fk.int64


def test_numpy_aliases_elsewhere():
    x = randn(2, 3, seed=14)
    for fk_fn, th_fn in [(lambda m, a: m.all(a > 0, axis=1, keepdims=True), None),
                         (lambda m, a: m.any(a > 0, axis=0), None),
                         (lambda m, a: m.aminmax(a, axis=1, keepdims=True), None),
                         (lambda m, a: m.std_mean(a, axis=1, keepdims=True), None),
                         (lambda m, a: m.var_mean(a, axis=0), None),
                         (lambda m, a: m.trapezoid(a, axis=0), None)]:
        check(lambda a: fk_fn(fk, a), lambda a: fk_fn(torch, a), [x], np.float64, second=False)


@pytest.mark.parametrize("name", ["sum", "amax", "cumsum"])
def test_name_and_alias_together_is_an_error(name):
    for kw in (dict(dim=0, axis=0),) + ((dict(dim=0, keepdim=True, keepdims=True),) if name != "cumsum" else ()):
        with pytest.raises(TypeError):
            getattr(torch, name)(torch.ones(2, 3), **kw)
        with pytest.raises(TypeError):
            getattr(fk, name)(fk.ones(2, 3), **kw)


def test_keepdims_only_where_the_function_keeps_dims():
    """cumsum has no keepdim, so no keepdims alias either (a TypeError, as in torch)."""
    with pytest.raises(TypeError):
        torch.cumsum(torch.ones(2), 0, keepdims=True)
    with pytest.raises(TypeError):
        fk.cumsum(fk.ones(2), 0, keepdims=True)


# ---------------------------------------------------------------------------------- nansum / nanmean
NAN_X = np.array([[1.5, NAN, -0.5, 2.0], [NAN, NAN, NAN, NAN], [0.3, -1.2, NAN, 0.8]])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, 1, -1, (0, 1), ()], ids=str)
@pytest.mark.parametrize("name", ["nansum", "nanmean"])
def test_nansum_nanmean(name, dim, keepdim, dtype):
    """NaN is skipped; a slice of NaNs only sums to 0 and has mean NaN (and NaN gradients in nanmean,
    as torch: its nansum multiplies the infinite gradient by 0)."""
    f, t = getattr(fk, name), getattr(torch, name)
    rows = NAN_X if name == "nansum" or dim not in (1, -1, None, (0, 1), ()) else NAN_X[[0, 2]]
    check(lambda a: f(a, dim, keepdim), lambda a: t(a, dim, keepdim), [rows], dtype)
    check(lambda a: getattr(a, name)(dim, keepdim=keepdim), lambda a: getattr(a, name)(dim, keepdim=keepdim),
          [randn(3, 4, seed=15)], dtype, second=False)


@pytest.mark.parametrize("dtype", FLOATS)
def test_nanmean_of_nans_only(dtype):
    check(lambda a: fk.nanmean(a, 1), lambda a: torch.nanmean(a, 1), [NAN_X], dtype, second=False)
    check(lambda a: fk.nanmean(a), lambda a: torch.nanmean(a), [np.full((2, 2), NAN)], dtype, second=False)


def test_nansum_nanmean_dtypes_and_shapes():
    ints = np.array([[1, 2], [3, 4]])
    check(fk.nansum, torch.nansum, [ints])
    check(lambda a: fk.nansum(a, 0), lambda a: torch.nansum(a, 0), [ints.astype(bool)])
    check(lambda a: fk.nansum(a, 1, dtype=fk.float64), lambda a: torch.nansum(a, 1, dtype=torch.float64),
          [NAN_X.astype(np.float32)])
    check(lambda a: fk.nanmean(a, dtype=fk.float64), lambda a: torch.nanmean(a, dtype=torch.float64),
          [NAN_X.astype(np.float32)])
    check(lambda a: fk.nansum(a, 0), lambda a: torch.nansum(a, 0), [np.zeros((0, 3))], np.float64)
    check(lambda a: fk.nanmean(a, 0), lambda a: torch.nanmean(a, 0), [np.zeros((0, 3))], np.float64, backward=False)
    check(fk.nanmean, torch.nanmean, [np.array(NAN)], np.float64, second=False)
    check(fk.nansum, torch.nansum, [np.array(2.5)], np.float32)
    with pytest.raises(RuntimeError):
        torch.nanmean(torch.tensor([1, 2]), dtype=torch.float32)
    with pytest.raises(TypeError):
        fk.nanmean(fk.tensor([1, 2]), dtype=fk.float32)


# ---------------------------------------------------------------------------------- cumprod
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("case", list(PROD_INPUTS))
def test_cumprod(case, dim, dtype):
    """Zeros (one, several in a row, spread) get torch's gradient, second derivatives included."""
    x = PROD_INPUTS[case]
    check(lambda a: fk.cumprod(a, dim), lambda a: torch.cumprod(a, dim), [x], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_cumprod_shapes_and_dtypes(dtype):
    x = randn(2, 3, 4, seed=16)
    check(lambda a: a.cumprod(dim=-2), lambda a: a.cumprod(dim=-2), [x], dtype)
    check(lambda a: fk.cumprod(a, 0), lambda a: torch.cumprod(a, 0), [np.array(-1.5)], dtype)
    check(lambda a: fk.cumprod(a, 0), lambda a: torch.cumprod(a, 0), [np.zeros((0, 3))], dtype)
    check(lambda a: fk.cumprod(a, 1), lambda a: torch.cumprod(a, 1), [np.zeros((0, 3))], dtype)
    check(lambda a: fk.cumprod(a, 0), lambda a: torch.cumprod(a, 0), [np.array([0.0])], dtype)
    check(lambda a: fk.cumprod(a, 0), lambda a: torch.cumprod(a, 0), [np.array([0.0, 0.0, 0.0])], dtype)
    check(lambda a: fk.cumprod(a, 0, dtype=fk.float64), lambda a: torch.cumprod(a, 0, dtype=torch.float64),
          [randn(3, seed=1).astype(np.float32)], None)


def test_cumprod_int_and_bool():
    x = np.array([[1, 2, 3], [0, 4, 5]])
    for a in (x, x.astype(np.int32), x.astype(bool)):
        check(lambda t: fk.cumprod(t, 1), lambda t: torch.cumprod(t, 1), [a])
    check(lambda t: fk.cumprod(t, 0), lambda t: torch.cumprod(t, 0), [np.array(3)])


def test_cumprod_long_with_zeros_first_order_is_linear_time():
    """A first derivative over a long dim with zeros does not build the (n, n) omitted products."""
    x = np.ones(20000)
    x[[5, 7000]] = 0.0
    x[1:4] = [2.0, -0.5, 3.0]
    a = fk.tensor(x, requires_grad=True)
    fk.cumprod(a, 0).sum().backward()
    want = torch.tensor(x, requires_grad=True)
    torch.cumprod(want, 0).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), want.grad.numpy(), rtol=1e-12)


# ---------------------------------------------------------------------------------- cummax / cummin
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,dim", [((3, 4), 0), ((3, 4), 1), ((3, 4), -1), ((2, 3, 4), -2), ((5,), 0),
                                       ((), 0), ((0, 3), 0), ((0, 3), 1), ((1, 4), 0)], ids=str)
@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_cummin(name, shape, dim, dtype):
    f, t = getattr(fk, name), getattr(torch, name)
    x = randn(*shape, seed=17)
    check(lambda a: f(a, dim), lambda a: t(a, dim), [x], dtype)
    check(lambda a: getattr(a, name)(dim=dim), lambda a: getattr(a, name)(dim=dim), [x], dtype, second=False)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_cummin_ties_and_nan(name, dtype):
    """Ties take the later index (the gradient goes there); from a NaN on, NaN with the latest NaN's index."""
    f, t = getattr(fk, name), getattr(torch, name)
    x = np.array([[1.0, 3.0, 3.0, 2.0, 3.0, 0.0], [1.0, 0.0, 0.0, 2.0, 0.0, -1.0], [1.0, NAN, 3.0, NAN, 5.0, -4.0]])
    for dim in (0, 1):
        check(lambda a: f(a, dim), lambda a: t(a, dim), [x], dtype)
    r = f(fk.tensor(x), 1)
    assert type(r).__name__ == "MaxResult" and r.indices.dtype == fk.int64


def test_cummax_cummin_int():
    x = np.array([[3, 1, 3], [0, -2, 5]])
    for name in ("cummax", "cummin"):
        check(lambda a: getattr(fk, name)(a, 1), lambda a: getattr(torch, name)(a, 1), [x])
        check(lambda a: getattr(fk, name)(a, 0), lambda a: getattr(torch, name)(a, 0), [x])


# ---------------------------------------------------------------------------------- logcumsumexp
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,dim", [((3, 4), 0), ((3, 4), 1), ((3, 4), -1), ((2, 3, 4), -2), ((5,), 0),
                                       ((), 0), ((0, 3), 0), ((0, 3), 1), ((1, 4), 0)], ids=str)
def test_logcumsumexp(shape, dim, dtype):
    x = 2.0 * randn(*shape, seed=18)
    jvp = not (x.size == 0 and shape[dim] == 0)  # torch's jvp takes a max over the empty dim and fails
    check(lambda a: fk.logcumsumexp(a, dim), lambda a: torch.logcumsumexp(a, dim), [x], dtype, jvp=jvp)
    check(lambda a: a.logcumsumexp(dim), lambda a: a.logcumsumexp(dim), [x], dtype, second=False, jvp=jvp)


@pytest.mark.parametrize("dtype", FLOATS)
def test_logcumsumexp_extreme(dtype):
    """Values a thousand apart: no overflow in the value, the gradient or the tangent. torch's jvp
    underflows here (it scales by the largest value), so the tangent is checked against its closed
    form Σ_{i≤j} ẋ_i exp(x_i − y_j) instead."""
    x = np.array([[1000.0, -1000.0, 999.0, 0.0], [-1000.0, -1001.0, 1000.0, 1000.0]])
    check(lambda a: fk.logcumsumexp(a, 1), lambda a: torch.logcumsumexp(a, 1), [x], dtype, jvp=False,
          fwd_over_rev=False)
    tangent = randn(2, 4, seed=3).astype(dtype)
    _, got = fk.autograd.functional.jvp(lambda a: fk.logcumsumexp(a, 1), fk.tensor(x.astype(dtype)),
                                        fk.tensor(tangent))
    y = np.logaddexp.accumulate(x, axis=1)
    upto = np.arange(4)[:, None] <= np.arange(4)[None, :]  # i ≤ j
    weight = np.where(upto, np.exp(np.where(upto, x[:, :, None] - y[:, None, :], 0.0)), 0.0)
    want = np.einsum("rij,ri->rj", weight, tangent)
    assert_close(got, want.astype(dtype), dtype)


def test_logcumsumexp_rejects_integers():
    with pytest.raises(TypeError):
        fk.logcumsumexp(fk.tensor([1, 2]), 0)


# ---------------------------------------------------------------------------------- count_nonzero, all, any
@pytest.mark.parametrize("dim", [None, 0, 1, -1, (0, 1), (), (1, -3)], ids=str)
def test_count_nonzero(dim):
    x = np.array([[[0.0, 1.5], [0.0, 0.0], [2.0, -1.0]]])
    check(lambda a: fk.count_nonzero(a, dim), lambda a: torch.count_nonzero(a, dim), [x])
    check(lambda a: a.count_nonzero(dim=dim), lambda a: a.count_nonzero(dim=dim), [x.astype(bool)])


def test_count_nonzero_shapes():
    check(fk.count_nonzero, torch.count_nonzero, [np.array(0.0)])
    check(lambda a: fk.count_nonzero(a, 0), lambda a: torch.count_nonzero(a, 0), [np.array(3)])
    check(lambda a: fk.count_nonzero(a, 1), lambda a: torch.count_nonzero(a, 1), [np.zeros((0, 3))])
    with pytest.raises(RuntimeError):
        fk.count_nonzero(fk.ones(2, 3), (0, 0))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2), (), (-1, 1, 0)], ids=str)
@pytest.mark.parametrize("name", ["all", "any"])
def test_all_any_dims(name, dim, keepdim):
    """dim as an int or a tuple (an empty tuple reduces nothing, as torch); numbers and bools."""
    x = np.array([[[0.0, 1.0], [2.0, 3.0], [0.0, 0.0]], [[1.0, 1.0], [4.0, 0.0], [5.0, 6.0]]])
    f, t = getattr(fk, name), getattr(torch, name)
    for a in (x, x.astype(bool)):
        if dim is None:
            check(lambda v: f(v), lambda v: t(v), [a])
        else:
            check(lambda v: f(v, dim, keepdim), lambda v: t(v, dim, keepdim), [a])
            check(lambda v: getattr(v, name)(dim=dim, keepdim=keepdim),
                  lambda v: getattr(v, name)(dim=dim, keepdim=keepdim), [a])
    with pytest.raises(RuntimeError):
        f(fk.tensor(x), (0, -3))
    check(lambda v: f(v, 0), lambda v: t(v, 0), [np.array(2.0)])


# ---------------------------------------------------------------------------------- std_mean / var_mean / aminmax
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kw", [{}, {"correction": 0}, {"correction": 2}, {"unbiased": False}, {"keepdim": True}],
                         ids=str)
@pytest.mark.parametrize("dim", [None, 1, -1, (0, 2)], ids=str)
@pytest.mark.parametrize("name", ["std_mean", "var_mean"])
def test_std_var_mean(name, dim, kw, dtype):
    f, t = getattr(fk, name), getattr(torch, name)
    x = randn(2, 3, 4, seed=19)
    if dim is None:
        check(lambda a: f(a, **kw), lambda a: t(a, **kw), [x], dtype)
    else:
        check(lambda a: f(a, dim, **kw), lambda a: t(a, dim, **kw), [x], dtype)


@pytest.mark.parametrize("name", ["std_mean", "var_mean"])
def test_std_var_mean_legacy_unbiased(name):
    f, t = getattr(fk, name), getattr(torch, name)
    x = randn(3, 4, seed=20)
    check(lambda a: f(a, False), lambda a: t(a, False), [x], np.float64, second=False)
    check(lambda a: f(a, 1, False, True), lambda a: t(a, 1, False, True), [x], np.float64, second=False)
    assert isinstance(f(fk.tensor(x)), tuple)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape,dim", [((3, 4), None), ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), 1), ((), None),
                                       ((), 0), ((1, 4), 0), ((0, 3), 1)], ids=str)
def test_aminmax(shape, dim, keepdim, dtype):
    x = randn(*shape, seed=21)
    check(lambda a: fk.aminmax(a, dim=dim, keepdim=keepdim), lambda a: torch.aminmax(a, dim=dim, keepdim=keepdim),
          [x], dtype)
    check(lambda a: a.aminmax(dim=dim), lambda a: a.aminmax(dim=dim), [x], dtype, second=False)


@pytest.mark.parametrize("dtype", FLOATS)
def test_aminmax_ties_and_int(dtype):
    """Ties share the gradient evenly (as amin/amax); named fields min and max; dim is keyword-only."""
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    for dim in (None, 0, 1):
        check(lambda a: fk.aminmax(a, dim=dim), lambda a: torch.aminmax(a, dim=dim), [x], dtype)
    check(lambda a: fk.aminmax(a, dim=0), lambda a: torch.aminmax(a, dim=0), [np.array([[1, 2], [3, 0]])])
    r = fk.aminmax(fk.tensor(x))
    assert r.min is r[0] and r.max is r[1]
    with pytest.raises(TypeError):
        fk.aminmax(fk.tensor(x), 1)


# ---------------------------------------------------------------------------------- trapezoid
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_trapezoid(dim, dtype):
    y = randn(3, 4, seed=22)
    xs = np.sort(randn(y.shape[dim], seed=23))
    check(lambda a: fk.trapezoid(a, dim=dim), lambda a: torch.trapezoid(a, dim=dim), [y], dtype)
    check(lambda a: fk.trapezoid(a, dx=0.25, dim=dim), lambda a: torch.trapezoid(a, dx=0.25, dim=dim), [y], dtype)
    check(lambda a, b: fk.trapezoid(a, b, dim=dim), lambda a, b: torch.trapezoid(a, b, dim=dim), [y, xs], dtype)
    full = np.cumsum(np.abs(randn(3, 4, seed=24)), axis=dim)
    check(lambda a, b: fk.trapezoid(a, b, dim=dim), lambda a, b: torch.trapezoid(a, b, dim=dim), [y, full], dtype)
    check(lambda a, b: fk.trapz(a, b, dim=dim), lambda a, b: torch.trapz(a, b, dim=dim), [y, full], dtype,
          second=False)


@pytest.mark.parametrize("dtype", FLOATS)
def test_trapezoid_shapes(dtype):
    check(lambda a: fk.trapezoid(a), lambda a: torch.trapezoid(a), [randn(5, seed=25)], dtype)
    check(lambda a: fk.trapezoid(a), lambda a: torch.trapezoid(a), [randn(3, 1, seed=25)], dtype)
    check(lambda a: fk.trapezoid(a), lambda a: torch.trapezoid(a), [np.zeros((3, 0))], dtype)
    check(lambda a: fk.trapezoid(a, dim=0), lambda a: torch.trapezoid(a, dim=0), [randn(4, 2, 3, seed=25)], dtype)
    # x of fewer dims than y broadcasts from the right; a column x along dim 0
    check(lambda a, b: fk.trapezoid(a, b, dim=0), lambda a, b: torch.trapezoid(a, b, dim=0),
          [randn(3, 4, seed=26), np.arange(3.0)[:, None] ** 2], dtype)
    check(lambda a, b: fk.trapezoid(a, b), lambda a, b: torch.trapezoid(a, b),
          [randn(2, 3, 4, seed=26), np.cumsum(np.ones((3, 4)), 1)], dtype)


def test_trapezoid_integers_and_errors():
    check(fk.trapezoid, torch.trapezoid, [np.array([1, 2, 4])])
    check(lambda a: fk.trapezoid(a, dx=2), lambda a: torch.trapezoid(a, dx=2), [np.array([[1, 2, 4]])])
    with pytest.raises(IndexError):
        fk.trapezoid(fk.tensor(1.0))
    with pytest.raises(TypeError):
        fk.trapezoid(fk.ones(3), fk.ones(3), dx=1.0)
    shape_error_raised(lambda: fk.trapezoid(fk.ones(2, 3), fk.ones(4)), "trapezoid", (2, 3), (4,))


# ---------------------------------------------------------------------------------- diff
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n", [1, 2, 3, 5, 0])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_diff(dim, n, dtype):
    x = randn(3, 4, seed=27)
    check(lambda a: fk.diff(a, n, dim), lambda a: torch.diff(a, n, dim), [x], dtype)
    check(lambda a: a.diff(n=n, dim=dim), lambda a: a.diff(n=n, dim=dim), [x], dtype, second=False)


@pytest.mark.parametrize("dtype", FLOATS)
def test_diff_prepend_append(dtype):
    x, p, q = randn(3, 4, seed=28), randn(3, 2, seed=29), randn(3, 1, seed=30)
    check(lambda a, b, c: fk.diff(a, 2, prepend=b, append=c), lambda a, b, c: torch.diff(a, 2, prepend=b, append=c),
          [x, p, q], dtype)
    check(lambda a, b: fk.diff(a, 1, 0, append=b), lambda a, b: torch.diff(a, 1, 0, append=b),
          [x, randn(2, 4, seed=31)], dtype)
    check(lambda a, b: fk.diff(a, 0, prepend=b), lambda a, b: torch.diff(a, 0, prepend=b), [x, p], dtype)


def test_diff_integers_bools_and_errors():
    check(lambda a: fk.diff(a, 2), lambda a: torch.diff(a, 2), [np.array([1, 4, 9, 16])])
    check(lambda a: fk.diff(a), lambda a: torch.diff(a), [np.array([True, False, False, True])])
    check(lambda a: fk.diff(a, 2, 0), lambda a: torch.diff(a, 2, 0), [np.array([[True, False], [False, False],
                                                                                 [True, True]])])
    for bad in (lambda m: m.diff(m.tensor(1.0)), lambda m: m.diff(m.ones(3), -1),
                lambda m: m.diff(m.ones(3), prepend=m.tensor(1.0))):
        with pytest.raises(RuntimeError):
            bad(torch)
        with pytest.raises(RuntimeError):
            bad(fk)


_AXIS_CALLS = {
    "cat": lambda m, x: m.cat([x, x], axis=1), "stack": lambda m, x: m.stack([x, x], axis=1),
    "squeeze": lambda m, x: x[:1].squeeze(axis=0), "unsqueeze": lambda m, x: x.unsqueeze(axis=1),
    "softmax": lambda m, x: x.softmax(axis=1), "log_softmax": lambda m, x: x.log_softmax(axis=0),
    "argsort": lambda m, x: x.argsort(axis=1), "sort": lambda m, x: x.sort(axis=0).values,
    "gather": lambda m, x: x.gather(axis=1, index=m.tensor([[0, 2], [1, 1]])),
    "index_select": lambda m, x: x.index_select(axis=1, index=m.tensor([2, 0])),
    "topk": lambda m, x: x.topk(2, axis=1).values, "narrow": lambda m, x: x.narrow(axis=1, start=1, length=2),
    "chunk": lambda m, x: x.chunk(3, axis=1)[1], "unbind": lambda m, x: x.unbind(axis=1)[2],
    "repeat_interleave": lambda m, x: x.repeat_interleave(2, axis=0),
    "median": lambda m, x: x.median(axis=1).values, "kthvalue": lambda m, x: x.kthvalue(2, axis=1).values,
    "quantile": lambda m, x: x.quantile(0.25, axis=1), "cumsum": lambda m, x: x.cumsum(axis=1),
    "sum": lambda m, x: x.sum(axis=0, keepdims=True), "max": lambda m, x: x.max(axis=1).values,
}


@pytest.mark.parametrize("name", list(_AXIS_CALLS))
def test_numpy_axis_is_accepted_wherever_torch_accepts_it(name):
    x = randn(2, 3, seed=21)
    call = _AXIS_CALLS[name]
    check(lambda a: call(fk, a), lambda a: call(torch, a), [x], np.float64, second=False, jvp=False)
