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

from conformance import FLOATS, check, randn

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
