"""Gamma, Beta and Dirichlet against torch.distributions: densities, entropies, moments (values and
gradients of every order in the parameters), the implicit reparameterisation gradient of rsample
(against 40-digit arithmetic and against torch's approximation), and sampling moments."""
from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import torch
from conformance import FLOATS, assert_close, check, uniform

import fukaku as fk
from fukaku import distributions as fd
from fukaku.distributions.gamma import standard_gamma

TD = torch.distributions
# torch's trigamma (in the second derivatives of lgamma) is accurate to ~1e-9 only
F64 = dict(rtol=1e-6, atol=1e-9)


def _tol(dtype):
    return F64 if dtype == np.float64 else dict(rtol=2e-4, atol=1e-5)


def _props(names, build_fk, build_torch, inputs, dtype, **kw):
    for prop in names:
        def fk_fn(*a, prop=prop):
            out = getattr(build_fk(*a), prop)
            return out() if callable(out) else out

        def torch_fn(*a, prop=prop):
            out = getattr(build_torch(*a), prop)
            return out() if callable(out) else out

        check(fk_fn, torch_fn, inputs, dtype, **_tol(dtype), **kw)


@pytest.mark.parametrize("dtype", FLOATS)
def test_gamma_matches_torch(dtype):
    c, r, v = uniform(0.5, 4, 2, 3), uniform(0.5, 2, 3, seed=1), uniform(0.1, 5, 4, 2, 3, seed=2)
    check(lambda c, r, v: fd.Gamma(c, r).log_prob(v), lambda c, r, v: TD.Gamma(c, r).log_prob(v), [c, r, v], dtype,
          **_tol(dtype))
    _props(["entropy", "mean", "variance", "mode", "stddev"], fd.Gamma, TD.Gamma, [c, r], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_gamma_cdf_matches_torch_and_its_gradients(dtype):
    c, r, v = uniform(0.5, 4, 5), uniform(0.5, 2, 5, seed=1), uniform(0.1, 5, 5, seed=2)
    # torch has no derivative of igamma in the concentration: compare the rate and value gradients only
    check(lambda r, v, c=c: fd.Gamma(fk.tensor(c, dtype=r.dtype), r).cdf(v),
          lambda r, v, c=c: TD.Gamma(torch.tensor(c, dtype=r.dtype), r).cdf(v), [r, v], dtype,
          **_tol(dtype), jvp=False, second=False)  # torch: no forward mode for igamma
    ct = fk.tensor(c, requires_grad=True)
    fd.Gamma(ct, fk.tensor(r)).cdf(fk.tensor(v)).sum().backward()
    h = 1e-6
    numeric = (torch.special.gammainc(torch.tensor(c + h), torch.tensor(r * v))
               - torch.special.gammainc(torch.tensor(c - h), torch.tensor(r * v))) / (2 * h)
    assert_close(ct.grad, numeric, rtol=1e-6, atol=1e-9)


def test_gamma_cdf_in_the_far_tail_is_one_with_a_zero_concentration_gradient():
    """Where the density underflows to 0 the concentration gradient is ∂P/∂α itself, never 0/0."""
    c = fk.tensor([1.0, 3.0], dtype=fk.float64, requires_grad=True)
    p = fd.Gamma(c, 1.0).cdf(fk.tensor([800.0, 1000.0], dtype=fk.float64))
    p.sum().backward()
    np.testing.assert_array_equal(p.detach().numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(np.abs(c.grad.numpy()), [0.0, 0.0])
    expected = torch.special.gammainc(torch.tensor([1.0, 3.0], dtype=torch.float64), torch.tensor([800.0, 1000.0],
                                                                                                dtype=torch.float64))
    assert_close(p, expected, rtol=0, atol=0)


@pytest.mark.parametrize("dtype", FLOATS)
def test_beta_matches_torch(dtype):
    a, b, v = uniform(0.5, 4, 2, 3), uniform(0.5, 4, 3, seed=1), uniform(0.05, 0.95, 4, 2, 3, seed=2)
    check(lambda a, b, v: fd.Beta(a, b).log_prob(v), lambda a, b, v: TD.Beta(a, b).log_prob(v), [a, b, v], dtype,
          **_tol(dtype))
    _props(["entropy", "mean", "variance", "concentration1", "concentration0"], fd.Beta, TD.Beta, [a, b], dtype)
    m = uniform(1.5, 4, 2, 3)  # the mode is interior when both concentrations exceed 1
    _props(["mode"], fd.Beta, TD.Beta, [m, m + 0.5], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_dirichlet_matches_torch(dtype):
    c = uniform(0.5, 4, 2, 4)
    v = uniform(0.1, 1, 3, 2, 4, seed=2)
    v = v / v.sum(-1, keepdims=True)
    # the value is on the simplex: differentiate with respect to the concentration only
    check(lambda c, v=v: fd.Dirichlet(c).log_prob(fk.tensor(v, dtype=c.dtype)),
          lambda c, v=v: TD.Dirichlet(c).log_prob(torch.tensor(v, dtype=c.dtype)), [c], dtype, **_tol(dtype))
    _props(["entropy", "mean", "variance"], fd.Dirichlet, TD.Dirichlet, [c], dtype)
    _props(["mode"], fd.Dirichlet, TD.Dirichlet, [c + 1.0], dtype, second=False)
    below_one = np.array([[0.5, 0.3, 0.9], [2.0, 0.5, 3.0], [0.2, 0.8, 1.5]], dtype=dtype)  # a row of all αᵢ < 1
    assert_close(fd.Dirichlet(fk.tensor(below_one)).mode, TD.Dirichlet(torch.tensor(below_one)).mode)


def _exact_standard_gamma_grad(a: float, z: float) -> float:
    mpmath.mp.dps = 40
    a, z = mpmath.mpf(a), mpmath.mpf(z)
    dp = mpmath.diff(lambda s: mpmath.gammainc(s, 0, z, regularized=True), a)
    return float(-dp / (z ** (a - 1) * mpmath.exp(-z) / mpmath.gamma(a)))


def test_standard_gamma_implicit_gradient_against_exact_arithmetic_and_torch():
    alpha = np.array([0.05, 0.3, 1.0, 2.5, 10.0, 150.0])
    a = fk.tensor(np.repeat(alpha, 50), dtype=fk.float64, requires_grad=True)
    fk.manual_seed(7)
    z = standard_gamma(a)
    z.sum().backward()
    g, zs = a.grad.numpy(), z.detach().numpy()
    picks = np.arange(0, len(g), 37)
    exact = np.array([_exact_standard_gamma_grad(a.detach().numpy()[i], zs[i]) for i in picks])
    np.testing.assert_allclose(g[picks], exact, rtol=1e-7)
    # torch's own gradient is an approximation (~1e-3 relative)
    np.testing.assert_allclose(g, torch._standard_gamma_grad(torch.tensor(a.detach().numpy()), torch.tensor(zs)).numpy(),
                               rtol=3e-3)


def _mean_within(values: np.ndarray, want, k: float = 5.0) -> None:
    """The sample mean of ``values`` (draws along dim 0) is within k standard errors of ``want``."""
    se = values.std(0) / math.sqrt(len(values))
    assert np.all(np.abs(values.mean(0) - want) < k * se + 1e-12), (values.mean(0), want, se)


def test_gamma_rsample_gradients_are_unbiased_and_moments_hold():
    n = 20000
    alpha, beta = np.array([0.4, 3.0]), np.array([2.0, 0.5])
    c = fk.tensor(np.tile(alpha, (n, 1)), dtype=fk.float64, requires_grad=True)
    r = fk.tensor(np.tile(beta, (n, 1)), dtype=fk.float64, requires_grad=True)
    fk.manual_seed(11)
    z = fd.Gamma(c, r).rsample()
    (z * z).sum().backward()  # E[z²] = α(α+1)/β²: d/dα = (2α+1)/β², d/dβ = −2α(α+1)/β³
    _mean_within(c.grad.numpy(), (2 * alpha + 1) / beta ** 2)
    _mean_within(r.grad.numpy(), -2 * alpha * (alpha + 1) / beta ** 3)
    zs = z.detach().numpy()
    _mean_within(zs, alpha / beta)
    _mean_within((zs - alpha / beta) ** 2, alpha / beta ** 2)


def test_beta_and_dirichlet_rsample_gradients_are_unbiased_and_moments_hold():
    n = 20000
    alpha = np.array([0.7, 2.0, 5.0])
    c = fk.tensor(np.tile(alpha, (n, 1)), dtype=fk.float64, requires_grad=True)
    fk.manual_seed(12)
    y = fd.Dirichlet(c).rsample()
    assert_close(y.detach().sum(-1), np.ones(n))
    y[:, 0].sum().backward()  # E[y₀] = α₀/Σα: d/dαⱼ = (δ₀ⱼΣα − α₀)/(Σα)²
    total = alpha.sum()
    _mean_within(c.grad.numpy(), (np.eye(3)[0] * total - alpha[0]) / total ** 2)
    ys = y.detach().numpy()
    _mean_within(ys, alpha / total)
    _mean_within((ys - alpha / total) ** 2, alpha * (total - alpha) / (total ** 2 * (total + 1)))
    a = fk.full((n,), 2.0, dtype=fk.float64, requires_grad=True)
    b = fk.full((n,), 3.0, dtype=fk.float64, requires_grad=True)
    x = fd.Beta(a, b).rsample()
    x.sum().backward()  # E[x] = a/(a+b): d/da = b/(a+b)², d/db = −a/(a+b)²
    _mean_within(a.grad.numpy(), 3.0 / 25)
    _mean_within(b.grad.numpy(), -2.0 / 25)
    _mean_within(x.detach().numpy(), 0.4)


def test_shapes_expand_and_validation():
    g = fd.Gamma(fk.ones(2, 1), fk.ones(3))
    assert g.batch_shape == (2, 3) and g.sample((4,)).shape == (4, 2, 3) and g.expand((5, 2, 3)).rsample().shape == (5, 2, 3)
    assert fd.Gamma(1.0, 1.0).batch_shape == () and fd.Gamma(2.0, 1.0).sample().dim() == 0
    b = fd.Beta(fk.ones(3), 2.0)
    assert b.batch_shape == (3,) and b.sample((2,)).shape == (2, 3) and b.expand((4, 3)).sample().shape == (4, 3)
    d = fd.Dirichlet(fk.ones(2, 4))
    assert d.batch_shape == (2,) and d.event_shape == (4,) and d.sample((3,)).shape == (3, 2, 4)
    assert d.expand((5, 2)).rsample().shape == (5, 2, 4) and d.log_prob(d.sample()).shape == (2,)
    with pytest.raises(ValueError, match=r"parameter concentration .*Gamma.*GreaterThan"):
        fd.Gamma(fk.tensor([-1.0]), fk.tensor([1.0]))
    with pytest.raises(ValueError, match=r"parameter concentration0 .*Beta.*GreaterThan"):
        fd.Beta(fk.tensor([1.0]), fk.tensor([0.0]))
    with pytest.raises(ValueError, match=r"parameter concentration .*Dirichlet.*IndependentConstraint\(GreaterThan"):
        fd.Dirichlet(fk.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"support \(Simplex\(\)\)"):
        fd.Dirichlet(fk.ones(3)).log_prob(fk.tensor([0.5, 0.5, 0.5]))
    with pytest.raises(ValueError, match=r"support \(Interval"):
        fd.Beta(1.0, 1.0).log_prob(fk.tensor(1.5))
    with pytest.raises(ValueError, match="at least one-dimensional"):
        fd.Dirichlet(fk.tensor(1.0))


def test_rsample_forward_mode_tangent_equals_the_reverse_mode_gradient():
    c = fk.tensor([0.5, 2.0, 7.0], dtype=fk.float64)
    fk.manual_seed(9)
    _, tangent = fk.autograd.functional.jvp(lambda c: fd.Gamma(c, 2.0).rsample(), (c,), (fk.ones(3, dtype=fk.float64),))
    leaf = c.clone().requires_grad_(True)
    fk.manual_seed(9)
    fd.Gamma(leaf, 2.0).rsample().sum().backward()
    assert_close(tangent, leaf.grad.numpy())
    assert float(tangent.abs().min()) > 0
