"""kl_divergence against torch.distributions.kl_divergence for every registered closed form (values and
gradients of every order with respect to both distributions' parameters), the registry's dispatch, and
a Monte Carlo estimate E_p[log p − log q] as an independent oracle."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conformance import FLOATS, assert_close, check, randn, uniform

import fukaku as fk
from fukaku import distributions as fd

TD = torch.distributions


def _kl(build):
    """The pair of functions (fukaku, torch) computing KL(p ‖ q) for ``build(lib, *params) -> (p, q)``."""
    return (lambda *a: fd.kl_divergence(*build(fd, *a)),
            lambda *a: TD.kl_divergence(*build(TD, *a)))


CASES = {
    "normal": (lambda lib, m1, s1, m2, s2: (lib.Normal(m1, s1), lib.Normal(m2, s2)),
               lambda: [randn(3), uniform(0.5, 2, 3, seed=1), randn(2, 1, seed=2), uniform(0.5, 2, 3, seed=3)]),
    "bernoulli_probs": (lambda lib, p, q: (lib.Bernoulli(p), lib.Bernoulli(q)),
                        lambda: [uniform(0.1, 0.9, 4), uniform(0.1, 0.9, 4, seed=1)]),
    "bernoulli_logits": (lambda lib, p, q: (lib.Bernoulli(logits=p), lib.Bernoulli(logits=q)),
                         lambda: [randn(4), randn(4, seed=1)]),
    "categorical": (lambda lib, p, q: (lib.Categorical(logits=p), lib.Categorical(logits=q)),
                    lambda: [randn(2, 5), randn(5, seed=1)]),
    "one_hot": (lambda lib, p, q: (lib.OneHotCategorical(probs=p), lib.OneHotCategorical(probs=q)),
                lambda: [uniform(0.1, 1, 2, 5), uniform(0.1, 1, 2, 5, seed=1)]),
    "independent": (lambda lib, m1, s1, m2, s2: (lib.Independent(lib.Normal(m1, s1), 1),
                                                 lib.Independent(lib.Normal(m2, s2), 1)),
                    lambda: [randn(2, 3), uniform(0.5, 2, 2, 3, seed=1), randn(2, 3, seed=2),
                             uniform(0.5, 2, 2, 3, seed=3)]),
    "uniform": (lambda lib, a, w, c, v: (lib.Uniform(a, a + w), lib.Uniform(a - c, a + w + v)),
                lambda: [randn(3), uniform(0.5, 2, 3, seed=1), uniform(0.1, 1, 3, seed=2), uniform(0.1, 1, 3, seed=3)]),
    "mvn_scale_tril": (lambda lib, m1, a1, m2, a2: (lib.MultivariateNormal(m1, scale_tril=_lower(a1)),
                                                    lib.MultivariateNormal(m2, scale_tril=_lower(a2))),
                       lambda: [randn(2, 3), 0.5 * randn(3, 3, seed=1), randn(3, seed=2), 0.5 * randn(2, 3, 3, seed=3)]),
    "mvn_covariance": (lambda lib, m1, a1, m2, a2: (lib.MultivariateNormal(m1, _spd(a1)),
                                                    lib.MultivariateNormal(m2, precision_matrix=_spd(a2))),
                       lambda: [randn(3), 0.5 * randn(3, 3, seed=1), randn(3, seed=2), 0.5 * randn(3, 3, seed=3)]),
    "beta": (lambda lib, a1, b1, a2, b2: (lib.Beta(a1, b1), lib.Beta(a2, b2)),
             lambda: [uniform(0.5, 4, 3), uniform(0.5, 4, 3, seed=1), uniform(0.5, 4, 3, seed=2), uniform(0.5, 4, 3, seed=3)]),
    "gamma": (lambda lib, c1, r1, c2, r2: (lib.Gamma(c1, r1), lib.Gamma(c2, r2)),
              lambda: [uniform(0.5, 4, 3), uniform(0.5, 2, 3, seed=1), uniform(0.5, 4, 3, seed=2), uniform(0.5, 2, 3, seed=3)]),
    "dirichlet": (lambda lib, c1, c2: (lib.Dirichlet(c1), lib.Dirichlet(c2)),
                  lambda: [uniform(0.5, 4, 2, 4), uniform(0.5, 4, 4, seed=1)]),
    "transformed": (lambda lib, m1, s1, m2, s2: (
        lib.TransformedDistribution(lib.Normal(m1, s1), [lib.ExpTransform(), lib.AffineTransform(1.0, 2.0)]),
        lib.TransformedDistribution(lib.Normal(m2, s2), [lib.ExpTransform(), lib.AffineTransform(1.0, 2.0)])),
        lambda: [randn(3), uniform(0.5, 2, 3, seed=1), randn(3, seed=2), uniform(0.5, 2, 3, seed=3)]),
}
# torch's trigamma (second derivatives of lgamma and digamma) is accurate to ~1e-9 only
LOOSE = {"beta", "gamma", "dirichlet"}


def _tensors(a):
    """The tensor library of ``a``: fukaku or torch."""
    return fk if isinstance(a, fk.Tensor) else torch


def _spd(a):
    return a @ a.mT + _tensors(a).eye(a.shape[-1], dtype=a.dtype)


def _lower(a):
    return a.tril(-1) + _tensors(a).diag_embed(a.diagonal(dim1=-2, dim2=-1).exp())


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_closed_form_matches_torch_with_gradients(name, dtype):
    build, inputs = CASES[name]
    tol = {}
    if dtype == np.float64 and name in LOOSE:
        tol = dict(rtol=1e-6, atol=1e-9)
    elif dtype == np.float32 and name.startswith("mvn"):
        tol = dict(rtol=3e-4)  # solves and Cholesky factorisations in float32
    check(*_kl(build), inputs(), dtype, **tol, fwd_over_rev=not name.startswith("mvn"))


def test_infinite_where_q_misses_p_mass():
    # Bernoulli: q puts no mass on an outcome p can take; Categorical: likewise; Uniform: p's interval not in q's
    pairs = [
        (fd.Bernoulli(fk.tensor([0.5, 0.0, 1.0, 0.3])), fd.Bernoulli(fk.tensor([0.0, 0.0, 1.0, 1.0])),
         TD.Bernoulli(torch.tensor([0.5, 0.0, 1.0, 0.3])), TD.Bernoulli(torch.tensor([0.0, 0.0, 1.0, 1.0]))),
        (fd.Categorical(fk.tensor([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])), fd.Categorical(fk.tensor([0.5, 0.5, 0.0])),
         TD.Categorical(torch.tensor([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])), TD.Categorical(torch.tensor([0.5, 0.5, 0.0]))),
        (fd.Uniform(fk.tensor([0.0, 0.0]), fk.tensor([1.0, 1.0])), fd.Uniform(fk.tensor([-1.0, 0.5]), fk.tensor([2.0, 3.0])),
         TD.Uniform(torch.tensor([0.0, 0.0]), torch.tensor([1.0, 1.0])),
         TD.Uniform(torch.tensor([-1.0, 0.5]), torch.tensor([2.0, 3.0]))),
    ]
    for p, q, tp, tq in pairs:
        assert_close(fd.kl_divergence(p, q), TD.kl_divergence(tp, tq))


def test_monte_carlo_estimate_agrees_with_the_closed_form():
    fk.manual_seed(0)
    p, q = fd.Normal(fk.tensor([0.3, -1.0]), fk.tensor([0.7, 1.5])), fd.Normal(fk.tensor([0.0, 0.5]), fk.tensor([1.0, 0.8]))
    x = p.sample((40000,))
    terms = (p.log_prob(x) - q.log_prob(x)).double().numpy()
    exact = fd.kl_divergence(p, q).double().numpy()
    assert np.all(np.abs(terms.mean(0) - exact) < 5 * terms.std(0) / math.sqrt(len(terms)))


def test_registry_dispatch_prefers_the_most_specific_pair():
    class MyNormal(fd.Normal):
        pass

    d = MyNormal(fk.tensor(0.0), fk.tensor(1.0))
    assert_close(fd.kl_divergence(d, fd.Normal(1.0, 1.0)), np.float32(0.5))  # falls back to (Normal, Normal)

    @fd.register_kl(MyNormal, fd.Normal)
    def _kl_mine(p, q):
        return fk.tensor(42.0)

    assert float(fd.kl_divergence(d, fd.Normal(1.0, 1.0))) == 42.0  # the new, more specific one wins
    assert float(fd.kl_divergence(fd.Normal(0.0, 1.0), d)) == 0.0  # (Normal, MyNormal): still the general one
    with pytest.raises(NotImplementedError, match="Normal.*Bernoulli"):
        fd.kl_divergence(fd.Normal(0.0, 1.0), fd.Bernoulli(0.5))
    with pytest.raises(TypeError, match="subclass of Distribution"):
        fd.register_kl(int, fd.Normal)
    with pytest.raises(NotImplementedError, match="reinterpreted_batch_ndims"):
        fd.kl_divergence(fd.Independent(fd.Normal(fk.zeros(2, 2), fk.ones(2, 2)), 1),
                         fd.Independent(fd.Normal(fk.zeros(2, 2), fk.ones(2, 2)), 2))


def test_mvn_kl_needs_equal_event_shapes_and_transformed_kl_equal_transforms():
    with pytest.raises(ValueError, match="different event shapes"):
        fd.kl_divergence(fd.MultivariateNormal(fk.zeros(2), fk.eye(2)), fd.MultivariateNormal(fk.zeros(3), fk.eye(3)))
    with pytest.raises(NotImplementedError, match="different transforms"):
        fd.kl_divergence(fd.TransformedDistribution(fd.Normal(0.0, 1.0), fd.ExpTransform()),
                         fd.TransformedDistribution(fd.Normal(0.0, 1.0), fd.TanhTransform()))


@pytest.mark.parametrize("name", ["beta", "gamma", "dirichlet", "mvn_scale_tril"])
def test_monte_carlo_estimates_of_the_other_closed_forms(name):
    build, inputs = CASES[name]
    p, q = build(fd, *(fk.tensor(a) for a in inputs()))
    fk.manual_seed(1)
    x = p.sample((20000,))
    terms = (p.log_prob(x) - q.log_prob(x)).numpy()
    exact = fd.kl_divergence(p, q).numpy()
    assert np.all(np.abs(terms.mean(0) - exact) < 5 * terms.std(0) / math.sqrt(len(terms)))
