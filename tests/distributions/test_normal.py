"""fukaku.distributions.Normal against torch.distributions.Normal: densities, moments, gradients of every
order (the conformance harness), reparameterised draws, sampling moments, shapes and validation."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conformance import FLOATS, assert_close, check, randn, uniform

import fukaku as fk
from fukaku import distributions as fd

TD = torch.distributions


def _params(*shape, seed=0):
    return randn(*shape, seed=seed), uniform(0.5, 2.0, *shape, seed=seed + 1)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("method", ["log_prob", "cdf"])
def test_density_and_cdf_match_torch_with_gradients_of_every_order(dtype, method):
    loc, scale = _params(2, 3)
    value = randn(4, 1, 3, seed=5)  # broadcasts against the batch (2, 3)
    check(lambda m, s, v: getattr(fd.Normal(m, s), method)(v),
          lambda m, s, v: getattr(TD.Normal(m, s), method)(v), [loc, scale, value], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_icdf_entropy_and_moments_match_torch(dtype):
    loc, scale = _params(3)
    q = uniform(0.05, 0.95, 3, seed=7)
    check(lambda m, s, p: fd.Normal(m, s).icdf(p), lambda m, s, p: TD.Normal(m, s).icdf(p), [loc, scale, q], dtype)
    check(lambda m, s: fd.Normal(m, s).entropy(), lambda m, s: TD.Normal(m, s).entropy(), [loc, scale], dtype)
    for prop in ("mean", "mode", "variance", "stddev"):
        check(lambda m, s, prop=prop: getattr(fd.Normal(m, s), prop),
              lambda m, s, prop=prop: getattr(TD.Normal(m, s), prop), [loc, scale], dtype)


def test_rsample_is_loc_plus_scale_times_the_default_generators_normal_draws():
    loc = fk.tensor([0.5, -1.0], requires_grad=True)
    scale = fk.tensor([2.0, 0.25], requires_grad=True)
    fk.manual_seed(3)
    z = fd.Normal(loc, scale).rsample((4,))
    fk.manual_seed(3)
    eps = fk.randn(4, 2)
    assert_close(z, (loc + scale * eps).detach().numpy())
    z.sum().backward()
    assert_close(loc.grad, np.full(2, 4.0))
    assert_close(scale.grad, eps.sum(0).numpy())  # ∂z/∂σ = ε: the reparameterisation gradient
    with fk.no_grad():
        assert fd.Normal(loc, scale).sample((3,)).grad_fn is None
    assert fd.Normal(loc, scale).sample((3,)).requires_grad is False


def test_sampling_moments_within_standard_errors():
    fk.manual_seed(0)
    n = 20000
    loc, scale = fk.tensor([-2.0, 0.0, 3.0]), fk.tensor([0.5, 1.0, 4.0])
    x = fd.Normal(loc, scale).sample((n,)).double().numpy()
    sd = scale.double().numpy()
    assert np.all(np.abs(x.mean(0) - loc.numpy()) < 5 * sd / math.sqrt(n))
    assert np.all(np.abs(x.var(0) - sd ** 2) < 5 * sd ** 2 * math.sqrt(2 / n))


def test_shapes_expand_and_python_numbers():
    d = fd.Normal(fk.zeros(2, 1), fk.ones(3))
    assert d.batch_shape == (2, 3) and d.event_shape == ()
    assert d.sample().shape == (2, 3) and d.rsample((5, 4)).shape == (5, 4, 2, 3)
    assert d.log_prob(fk.zeros(7, 2, 3)).shape == (7, 2, 3)
    e = d.expand((6, 2, 3))
    assert e.batch_shape == (6, 2, 3) and e.sample().shape == (6, 2, 3) and isinstance(e, fd.Normal)
    s = fd.Normal(0.0, 1.0)
    assert s.batch_shape == () and s.sample((3,)).shape == (3,) and s.loc.dtype == fk.float32
    assert_close(s.log_prob(fk.tensor(0.0)), np.float32(-0.5 * math.log(2 * math.pi)))
    assert fd.Normal(fk.zeros(2, dtype=fk.float64), 1.0).sample().dtype == fk.float64


def test_validation_names_distribution_argument_and_constraint():
    with pytest.raises(ValueError, match=r"parameter scale .*Normal.*GreaterThan\(lower_bound=0\.0\)"):
        fd.Normal(fk.zeros(2), fk.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"parameter loc .*Real\(\)"):
        fd.Normal(fk.tensor([math.nan]), fk.tensor([1.0]))
    fd.Normal(fk.zeros(2), fk.tensor([1.0, -1.0]), validate_args=False)  # switched off: no check
    d = fd.Normal(fk.zeros(2), fk.ones(2))
    with pytest.raises(ValueError, match="not broadcastable"):
        d.log_prob(fk.zeros(3))
    with pytest.raises(ValueError, match="must be a Tensor"):
        d.log_prob([0.0, 0.0])
    with pytest.raises(ValueError, match=r"Normal\(loc"):
        fd.Normal(0.0, 0.0)
