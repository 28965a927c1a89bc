"""Transforms and TransformedDistribution against torch.distributions: forward and inverse maps,
log|det J| (also against a brute-force Jacobian), shapes, caching, equality; and the relaxed
(Concrete / Gumbel-softmax) distributions built on them."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conformance import FLOATS, assert_close, check, randn, uniform

import fukaku as fk
from fukaku import distributions as fd
from fukaku.distributions import transforms as ft

TD = torch.distributions
TT = torch.distributions.transforms

ELEMENTWISE = {  # name: (build(lib-transforms), input sampler)
    "exp": (lambda T: T.ExpTransform(), lambda: randn(2, 3)),
    "sigmoid": (lambda T: T.SigmoidTransform(), lambda: randn(2, 3)),
    "tanh": (lambda T: T.TanhTransform(), lambda: randn(2, 3)),
    "affine": (lambda T: T.AffineTransform(0.5, -2.0), lambda: randn(2, 3)),
    "power": (lambda T: T.PowerTransform(2.0), lambda: uniform(0.5, 2, 2, 3)),  # torch keeps the exponent in float32
    "compose": (lambda T: T.ComposeTransform([T.AffineTransform(1.0, 0.5), T.TanhTransform(), T.AffineTransform(0.0, 3.0)]),
                lambda: randn(2, 3)),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_transforms_match_torch(name, dtype):
    build, sample = ELEMENTWISE[name]
    x = sample()
    check(lambda x: build(ft)(x), lambda x: build(TT)(x), [x], dtype)
    check(lambda x: (lambda t: t.log_abs_det_jacobian(x, t(x)))(build(ft)),
          lambda x: (lambda t: t.log_abs_det_jacobian(x, t(x)))(build(TT)), [x], dtype)
    y = build(TT)(torch.tensor(x)).numpy()
    check(lambda y: build(ft).inv(y), lambda y: build(TT).inv(y), [y], dtype)
    check(lambda y: (lambda t: t.log_abs_det_jacobian(y, t(y)))(build(ft).inv),
          lambda y: (lambda t: t.log_abs_det_jacobian(y, t(y)))(build(TT).inv), [y], dtype)
    t = build(ft)
    assert t.sign == build(TT).sign and t.bijective
    assert repr(t.domain) == repr(build(TT).domain).replace("torch", "fukaku")


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_log_abs_det_jacobian_equals_the_brute_force_jacobian(name):
    build, sample = ELEMENTWISE[name]
    t = build(ft)
    x = fk.tensor(sample()[0], dtype=fk.float64)  # one vector: the Jacobian is diagonal for elementwise maps
    jac = fk.autograd.functional.jacobian(t, x).numpy()
    assert_close(t.log_abs_det_jacobian(x, t(x)), np.log(np.abs(np.diag(jac))))
    assert_close(t.inv(t(x)), x.numpy())


@pytest.mark.parametrize("dtype", FLOATS)
def test_affine_with_event_dim_and_tensor_parameters(dtype):
    loc, scale, x = randn(3), uniform(0.5, 2, 3, seed=1), randn(4, 3, seed=2)
    check(lambda m, s, x: (lambda t: t.log_abs_det_jacobian(x, t(x)))(ft.AffineTransform(m, s, event_dim=1)),
          lambda m, s, x: (lambda t: t.log_abs_det_jacobian(x, t(x)))(TT.AffineTransform(m, s, event_dim=1)),
          [loc, scale, x], dtype)
    t = ft.AffineTransform(fk.zeros(2, 1), fk.ones(3), event_dim=1)
    assert t.forward_shape((5, 1, 3)) == (5, 2, 3) and t.domain.event_dim == 1
    assert repr(t.codomain) == "IndependentConstraint(Real(), 1)"


def test_softmax_transform_and_inverse():
    x = fk.tensor(randn(2, 4))
    y = ft.SoftmaxTransform()(x)
    assert_close(y, TT.SoftmaxTransform()(torch.tensor(randn(2, 4))))
    assert_close(ft.SoftmaxTransform()(ft.SoftmaxTransform().inv(y)), y.numpy())
    assert repr(ft.SoftmaxTransform().codomain) == "Simplex()" and not ft.SoftmaxTransform().bijective


def test_inverse_cache_equality_and_compose_algebra():
    t = ft.ExpTransform()
    assert t.inv.inv is t and t.inv == ft.ExpTransform().inv and t == ft.ExpTransform()
    assert ft.AffineTransform(1.0, 2.0) == ft.AffineTransform(1.0, 2.0) != ft.AffineTransform(1.0, 3.0)
    c = ft.ComposeTransform([ft.ExpTransform(), ft.AffineTransform(0.0, 2.0)])
    x = fk.tensor([0.1, -0.3])
    assert_close(c.inv(c(x)), x.numpy())
    assert_close(c.log_abs_det_jacobian(x, c(x)), (x + math.log(2.0)).numpy())
    assert isinstance(c.inv, ft.ComposeTransform) and c.inv.inv is c
    assert_close(ft.identity_transform(x), x.numpy())
    cached = ft.ExpTransform(cache_size=1)
    y = cached(x)
    assert cached.inv(y) is x  # the remembered pre-image, not log(exp(x))
    assert ft.ExpTransform().with_cache(1)._cache_size == 1
    with pytest.raises(ValueError, match="cache_size"):
        ft.ExpTransform(cache_size=2)


@pytest.mark.parametrize("dtype", FLOATS)
def test_transformed_distribution_matches_torch(dtype):
    loc, scale = randn(2, 3), uniform(0.5, 1.5, 2, 3, seed=1)
    value = uniform(0.2, 3.0, 4, 2, 3, seed=2)

    def build(lib, T, m, s):
        return lib.TransformedDistribution(lib.Normal(m, s), [T.ExpTransform(), T.AffineTransform(1.0, 2.0)])

    check(lambda m, s, v: build(fd, ft, m, s).log_prob(v), lambda m, s, v: build(TD, TT, m, s).log_prob(v),
          [loc, scale, value + 1.0], dtype)
    check(lambda m, s, v: build(fd, ft, m, s).cdf(v), lambda m, s, v: build(TD, TT, m, s).cdf(v),
          [loc, scale, value + 1.0], dtype)
    q = uniform(0.05, 0.95, 2, 3, seed=3)
    check(lambda m, s, q: build(fd, ft, m, s).icdf(q), lambda m, s, q: build(TD, TT, m, s).icdf(q), [loc, scale, q], dtype)
    decreasing = lambda lib, T, m, s: lib.TransformedDistribution(lib.Normal(m, s), T.AffineTransform(0.0, -1.0))  # noqa: E731
    check(lambda m, s, v: decreasing(fd, ft, m, s).cdf(v), lambda m, s, v: decreasing(TD, TT, m, s).cdf(v),
          [loc, scale, randn(2, 3, seed=4)], dtype)
    # an event-level transform on a batch of scalars: the base is reinterpreted, the log-det summed
    vec = lambda lib, T, m, s: lib.TransformedDistribution(lib.Normal(m, s), T.AffineTransform(0.5, 2.0, event_dim=1))  # noqa: E731
    check(lambda m, s, v: vec(fd, ft, m, s).log_prob(v), lambda m, s, v: vec(TD, TT, m, s).log_prob(v),
          [loc, scale, randn(4, 2, 3, seed=5)], dtype)


def test_transformed_distribution_shapes_sampling_and_support():
    fk.manual_seed(0)
    d = fd.TransformedDistribution(fd.Normal(fk.zeros(3), fk.ones(3)), ft.AffineTransform(1.0, 2.0, event_dim=1))
    assert d.batch_shape == () and d.event_shape == (3,) and repr(d.support) == "IndependentConstraint(Real(), 1)"
    assert d.sample((4,)).shape == (4, 3) and d.log_prob(fk.zeros(4, 3)).shape == (4,)
    log_normal = fd.TransformedDistribution(fd.Normal(fk.zeros(2), fk.full((2,), 0.5)), [ft.ExpTransform()])
    assert log_normal.expand((5, 2)).sample().shape == (5, 2) and log_normal.has_rsample
    x = log_normal.sample((20000,)).double().numpy()
    assert (x > 0).all()
    want_mean, want_var = math.exp(0.125), (math.exp(0.25) - 1) * math.exp(0.25)
    assert np.all(np.abs(x.mean(0) - want_mean) < 5 * math.sqrt(want_var / len(x)))
    with pytest.raises(ValueError, match="support"):
        log_normal.log_prob(fk.tensor([-1.0, 1.0]))
    with pytest.raises(ValueError, match="Transform or a list of Transforms"):
        fd.TransformedDistribution(fd.Normal(0.0, 1.0), "exp")
    loc = fk.tensor(0.3, requires_grad=True)
    fd.TransformedDistribution(fd.Normal(loc, 1.0), ft.ExpTransform()).rsample((10,)).sum().backward()
    assert loc.grad is not None and float(loc.grad) > 0


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("param", ["probs", "logits"])
def test_relaxed_bernoulli_matches_torch(dtype, param):
    theta = uniform(0.1, 0.9, 2, 3) if param == "probs" else randn(2, 3)
    temperature, value = uniform(0.3, 2.0, 1), uniform(0.05, 0.95, 4, 2, 3, seed=1)
    check(lambda t, p, v: fd.RelaxedBernoulli(t, **{param: p}).log_prob(v),
          lambda t, p, v: TD.RelaxedBernoulli(t, **{param: p}).log_prob(v), [temperature, theta, value], dtype)
    check(lambda t, p, v: fd.relaxed_bernoulli.LogitRelaxedBernoulli(t, **{param: p}).log_prob(v),
          lambda t, p, v: TD.relaxed_bernoulli.LogitRelaxedBernoulli(t, **{param: p}).log_prob(v), [temperature, theta, randn(4, 2, 3)], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_relaxed_one_hot_categorical_matches_torch(dtype):
    logits, temperature = randn(2, 4), uniform(0.3, 2.0, 1)
    value = uniform(0.1, 1.0, 3, 2, 4, seed=1)
    value = value / value.sum(-1, keepdims=True)
    check(lambda t, p, v=value: fd.RelaxedOneHotCategorical(t, logits=p).log_prob(fk.tensor(v, dtype=p.dtype)),
          lambda t, p, v=value: TD.RelaxedOneHotCategorical(t, logits=p).log_prob(torch.tensor(v, dtype=p.dtype)),
          [temperature, logits], dtype)
    check(lambda t, p, v: fd.relaxed_categorical.ExpRelaxedCategorical(t, logits=p).log_prob(v),
          lambda t, p, v: TD.relaxed_categorical.ExpRelaxedCategorical(t, logits=p).log_prob(v), [temperature, logits, randn(3, 2, 4)], dtype)


def test_relaxed_draws_are_differentiable_and_concentrate_at_low_temperature():
    fk.manual_seed(3)
    n = 20000
    logits = fk.tensor([0.4, -1.0, 1.2], requires_grad=True)
    cold = fd.RelaxedOneHotCategorical(fk.tensor(0.05), logits=logits)
    y = cold.rsample((n,))
    assert y.shape == (n, 3) and y.requires_grad
    assert_close(y.detach().sum(-1), np.ones(n, dtype=np.float32))
    # the argmax of a Gumbel-softmax draw is a categorical draw (at any temperature)
    p = torch.softmax(torch.tensor([0.4, -1.0, 1.2]), -1).numpy()
    freq = np.bincount(y.detach().numpy().argmax(-1), minlength=3) / n
    assert np.all(np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / n))
    assert (y.detach().numpy().max(-1) > 0.9).mean() > 0.9  # near a vertex when cold
    y[:, 2].sum().backward()
    assert logits.grad is not None and float(logits.grad[2]) > 0
    b = fd.RelaxedBernoulli(fk.tensor(0.1), probs=fk.tensor([0.2, 0.7]))
    x = b.sample((n,)).numpy()
    assert ((x > 0) & (x < 1)).all()
    freq = (x > 0.5).mean(0)  # P(σ(logistic + logit p) > ½) = p
    assert np.all(np.abs(freq - [0.2, 0.7]) < 5 * np.sqrt(np.array([0.16, 0.21]) / n))
    assert b.expand((3, 2)).sample().shape == (3, 2) and b.batch_shape == (2,)
    assert fd.RelaxedOneHotCategorical(0.5, probs=fk.ones(2, 3)).expand((4, 2)).sample().shape == (4, 2, 3)
