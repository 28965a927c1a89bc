"""The gamma family of special functions (fukaku/ops/_gamma.py and the ops lgamma, digamma, polygamma of
fukaku/ops/elementwise.py): the NumPy kernels against 40-digit arithmetic (mpmath) and PyTorch's special
values; the ops against PyTorch with the conformance harness (forward, backward, jvp, second order),
and gradcheck / gradgradcheck against central differences."""
from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import torch
from conformance import FLOATS, assert_close, check, uniform

import fukaku as fk
from fukaku.autograd import gradcheck, gradgradcheck
from fukaku.ops import _gamma

mpmath.mp.dps = 40
# points away from the poles: negative non-integers, small, near the minimum of Γ and the root of ψ, large
POINTS = np.concatenate([np.linspace(-7.9, -0.1, 27) + 0.013, np.geomspace(1e-6, 1e5, 40), [1.0, 2.0, 1.4616321449683622]])


def _oracle(f, x):
    return np.array([float(f(mpmath.mpf(float(v)))) for v in x])


def _rel(got, want):
    return np.abs(got - want) / np.maximum(np.abs(want), 1.0)


def test_lgamma_kernel_against_exact_arithmetic():
    want = _oracle(lambda v: mpmath.log(abs(mpmath.gamma(v))), POINTS)
    assert _rel(_gamma.lgamma(POINTS), want).max() < 1e-13


def test_digamma_and_polygamma_kernels_against_exact_arithmetic():
    assert _rel(_gamma.digamma(POINTS), _oracle(mpmath.digamma, POINTS)).max() < 1e-12
    x = POINTS[POINTS > -3]  # the poles' neighbourhoods magnify every rounding: keep to moderate ones
    for n in (1, 2, 3, 5):
        want = _oracle(lambda v, n=n: mpmath.polygamma(n, v), x)
        assert (np.abs(_gamma.polygamma(n, x) - want) / np.abs(want)).max() < 1e-12, n


def test_gammainc_kernel_against_exact_arithmetic():
    a, x = np.meshgrid([0.05, 0.5, 1.0, 2.5, 10.0, 100.0, 1000.0], [1e-3, 0.3, 1.0, 3.0, 10.0, 90.0, 1100.0])
    want = np.vectorize(lambda a, x: float(mpmath.gammainc(a, 0, x, regularized=True)))(a, x)
    assert np.abs(_gamma.gammainc(a, x) - want).max() < 1e-13
    assert _gamma.gammainc(2.0, 0.0) == 0.0 and _gamma.gammainc(2.0, np.inf) == 1.0
    assert np.isnan(_gamma.gammainc(-1.0, 1.0)) and np.isnan(_gamma.gammainc(1.0, -1.0))


def test_special_values_as_torch():
    x = np.array([0.0, -0.0, -1.0, -3.0, 1.0, 2.0, np.inf, np.nan, 1e-300, 1e300])
    t = torch.tensor(x)
    assert_close(fk.lgamma(fk.tensor(x)), torch.lgamma(t))
    assert_close(fk.digamma(fk.tensor(x)), torch.digamma(t))
    finite = x[np.isfinite(x) & (x > 0)]
    for n in (1, 2, 3):
        assert_close(fk.polygamma(n, fk.tensor(finite)), torch.polygamma(n, torch.tensor(finite)), rtol=1e-8)
    assert fk.polygamma(1, fk.tensor(0.0)).item() == math.inf and fk.polygamma(2, fk.tensor(-2.0)).item() == -math.inf


@pytest.mark.parametrize("dtype", FLOATS)
def test_ops_match_torch_with_gradients_of_every_order(dtype):
    x = np.concatenate([uniform(0.2, 6.0, 6), uniform(-2.9, -2.1, 3, seed=1)])  # positive and negative arguments
    tol = dict(rtol=1e-6, atol=1e-9) if dtype == np.float64 else {}  # torch's trigamma: ~1e-9
    check(fk.lgamma, torch.lgamma, [x], dtype, **tol)
    check(fk.digamma, torch.digamma, [x], dtype, **tol)
    for n in (0, 1, 2):
        check(lambda v, n=n: fk.polygamma(n, v), lambda v, n=n: torch.polygamma(n, v), [x], dtype, **tol)
    assert fk.tensor([1, 2]).lgamma().dtype == fk.float32  # integers are promoted, as torch
    assert fk.lgamma(fk.tensor(x, dtype=dtype)).dtype == dtype


def test_tensor_methods_and_in_place_twins():
    x = fk.tensor([0.5, 1.5, 3.0])
    assert_close(x.lgamma(), torch.tensor([0.5, 1.5, 3.0]).lgamma())
    assert_close(x.digamma(), torch.tensor([0.5, 1.5, 3.0]).digamma())
    assert_close(x.polygamma(2), torch.tensor([0.5, 1.5, 3.0]).polygamma(2))
    y = x.clone()
    y.polygamma_(1)
    assert_close(y, torch.polygamma(1, torch.tensor([0.5, 1.5, 3.0])))
    y = x.clone()
    y.lgamma_()
    assert_close(y, torch.tensor([0.5, 1.5, 3.0]).lgamma())
    with pytest.raises(ValueError, match="polygamma: n must be a non-negative integer"):
        fk.polygamma(-1, x)


def test_gradcheck_and_gradgradcheck():
    x = fk.tensor(np.array([0.4, 1.3, 2.7, 7.0, -1.5]), dtype=fk.float64, requires_grad=True)
    for fn in (fk.lgamma, fk.digamma, lambda v: fk.polygamma(1, v), lambda v: fk.polygamma(3, v)):
        assert gradcheck(fn, (x,))
        assert gradgradcheck(fn, (x,))
