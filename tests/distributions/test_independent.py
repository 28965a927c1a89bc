"""fukaku.distributions.Independent against torch.distributions.Independent."""
from __future__ import annotations

import pytest
import torch
from conformance import FLOATS, check, randn, uniform

import fukaku as fk
from fukaku import distributions as fd

TD = torch.distributions


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("ndims", [0, 1, 2])
def test_log_prob_and_entropy_sum_the_reinterpreted_dims(dtype, ndims):
    loc, scale, value = randn(2, 3, 4), uniform(0.5, 2.0, 2, 3, 4, seed=1), randn(5, 2, 3, 4, seed=2)
    check(lambda m, s, v: fd.Independent(fd.Normal(m, s), ndims).log_prob(v),
          lambda m, s, v: TD.Independent(TD.Normal(m, s), ndims).log_prob(v), [loc, scale, value], dtype)
    check(lambda m, s: fd.Independent(fd.Normal(m, s), ndims).entropy(),
          lambda m, s: TD.Independent(TD.Normal(m, s), ndims).entropy(), [loc, scale], dtype)
    for prop in ("mean", "variance", "mode"):
        check(lambda m, s, prop=prop: getattr(fd.Independent(fd.Normal(m, s), ndims), prop),
              lambda m, s, prop=prop: getattr(TD.Independent(TD.Normal(m, s), ndims), prop), [loc, scale], dtype)


def test_shapes_support_expand_and_errors():
    base = fd.Normal(fk.zeros(2, 3, 4), fk.ones(2, 3, 4))
    d = fd.Independent(base, 2)
    assert d.batch_shape == (2,) and d.event_shape == (3, 4) and d.has_rsample
    assert d.sample((5,)).shape == (5, 2, 3, 4) and d.log_prob(d.sample()).shape == (2,)
    assert repr(d.support) == "IndependentConstraint(Real(), 2)" and d.support.event_dim == 2
    e = d.expand((6, 2))
    assert e.batch_shape == (6, 2) and e.event_shape == (3, 4) and e.base_dist.batch_shape == (6, 2, 3, 4)
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
        fd.Independent(base, 4)
    b = fd.Independent(fd.Bernoulli(fk.full((2, 3), 0.5)), 1)
    assert not b.has_rsample and b.sample().shape == (2, 3)
    with pytest.raises(ValueError, match="support"):
        b.log_prob(fk.full((2, 3), 0.5))
