"""fukaku.distributions.Uniform against torch.distributions.Uniform."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conformance import FLOATS, assert_close, check, randn, uniform

import fukaku as fk
from fukaku import distributions as fd

TD = torch.distributions


@pytest.mark.parametrize("dtype", FLOATS)
def test_densities_and_moments_match_torch(dtype):
    low = randn(3, seed=1)
    high = low + uniform(0.5, 3.0, 3, seed=2)
    value = low + (high - low) * uniform(0.05, 0.95, 4, 3, seed=3)
    for method in ("log_prob", "cdf"):
        check(lambda a, b, v, m=method: getattr(fd.Uniform(a, b), m)(v),
              lambda a, b, v, m=method: getattr(TD.Uniform(a, b), m)(v), [low, high, value], dtype)
    q = uniform(0.0, 1.0, 3, seed=4)
    check(lambda a, b, p: fd.Uniform(a, b).icdf(p), lambda a, b, p: TD.Uniform(a, b).icdf(p), [low, high, q], dtype)
    check(lambda a, b: fd.Uniform(a, b).entropy(), lambda a, b: TD.Uniform(a, b).entropy(), [low, high], dtype)
    for prop in ("mean", "variance", "stddev"):
        check(lambda a, b, prop=prop: getattr(fd.Uniform(a, b), prop),
              lambda a, b, prop=prop: getattr(TD.Uniform(a, b), prop), [low, high], dtype)


def test_outside_the_support_has_log_prob_minus_inf_without_validation():
    d = fd.Uniform(fk.tensor([0.0]), fk.tensor([2.0]), validate_args=False)
    t = TD.Uniform(torch.tensor([0.0]), torch.tensor([2.0]), validate_args=False)
    v = [-1.0, 0.0, 1.0, 2.0, 3.0]
    assert_close(d.log_prob(fk.tensor(v).unsqueeze(-1)), t.log_prob(torch.tensor(v).unsqueeze(-1)))
    assert_close(d.cdf(fk.tensor(v).unsqueeze(-1)), t.cdf(torch.tensor(v).unsqueeze(-1)))
    assert math.isnan(float(d.mode))


def test_rsample_gradient_and_sampling_moments():
    low = fk.tensor([-1.0, 2.0], requires_grad=True)
    high = fk.tensor([1.0, 6.0], requires_grad=True)
    fk.manual_seed(5)
    n = 20000
    x = fd.Uniform(low, high).rsample((n,))
    fk.manual_seed(5)
    u = fk.rand(n, 2)
    x.sum().backward()
    assert_close(high.grad, u.sum(0).numpy(), rtol=1e-5)  # ∂x/∂high = u
    assert_close(low.grad, (n - u.sum(0)).numpy(), rtol=1e-5)  # ∂x/∂low = 1 − u
    xs = x.detach().double().numpy()
    width = np.array([2.0, 4.0])
    assert np.all((xs >= [-1.0, 2.0]) & (xs < [1.0, 6.0]))
    assert np.all(np.abs(xs.mean(0) - [0.0, 4.0]) < 5 * width / math.sqrt(12 * n))
    assert np.all(np.abs(xs.var(0) - width ** 2 / 12) < 5 * width ** 2 / math.sqrt(180 * n))  # Var(s²) = σ⁴·(4/5)/n


def test_shapes_and_validation():
    d = fd.Uniform(fk.zeros(3, 1), fk.ones(4))
    assert d.batch_shape == (3, 4) and d.sample((2,)).shape == (2, 3, 4)
    assert d.expand((5, 3, 4)).rsample().shape == (5, 3, 4)
    assert fd.Uniform(0.0, 1.0).batch_shape == ()
    with pytest.raises(ValueError, match=r"parameter low .*Uniform.*LessThan"):
        fd.Uniform(fk.tensor([1.0]), fk.tensor([0.0]))
    with pytest.raises(ValueError, match=r"support \(Interval"):
        fd.Uniform(0.0, 1.0).log_prob(fk.tensor(1.5))
