"""fukaku.distributions.Bernoulli against torch.distributions.Bernoulli, parameterised by probs and by logits."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conformance import FLOATS, assert_close, check, randn, uniform

import fukaku as fk
from fukaku import distributions as fd

TD = torch.distributions


def _value(*shape, seed=3):
    return (np.random.default_rng(seed).random(shape) < 0.5).astype(np.float64)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("param", ["probs", "logits"])
def test_log_prob_entropy_and_moments_match_torch(dtype, param):
    theta = uniform(0.05, 0.95, 2, 3) if param == "probs" else randn(2, 3)
    value = _value(4, 2, 3)

    check(lambda t, v: fd.Bernoulli(**{param: t}).log_prob(v), lambda t, v: TD.Bernoulli(**{param: t}).log_prob(v),
          [theta, value.astype(dtype)], dtype)
    check(lambda t: fd.Bernoulli(**{param: t}).entropy(), lambda t: TD.Bernoulli(**{param: t}).entropy(), [theta], dtype)
    for prop in ("mean", "variance", "probs", "logits", "stddev"):
        check(lambda t, prop=prop: getattr(fd.Bernoulli(**{param: t}), prop),
              lambda t, prop=prop: getattr(TD.Bernoulli(**{param: t}), prop), [theta], dtype)


def test_mode_enumerate_support_and_shapes():
    p = fk.tensor([0.2, 0.5, 0.9])
    assert_close(fd.Bernoulli(p).mode, TD.Bernoulli(torch.tensor([0.2, 0.5, 0.9])).mode)
    d = fd.Bernoulli(logits=fk.zeros(2, 3))
    assert d.batch_shape == (2, 3) and d.param_shape == (2, 3) and d.sample((4,)).shape == (4, 2, 3)
    assert_close(d.enumerate_support(), TD.Bernoulli(logits=torch.zeros(2, 3)).enumerate_support())
    assert d.enumerate_support(expand=False).shape == (2, 1, 1)
    assert d.expand((5, 2, 3)).batch_shape == (5, 2, 3)
    assert fd.Bernoulli(0.3).batch_shape == ()


def test_sampling_frequency_within_standard_errors():
    fk.manual_seed(1)
    p = np.array([0.05, 0.5, 0.8])
    n = 20000
    x = fd.Bernoulli(fk.tensor(p)).sample((n,)).numpy()
    assert set(np.unique(x)) <= {0.0, 1.0}
    assert np.all(np.abs(x.mean(0) - p) < 5 * np.sqrt(p * (1 - p) / n))


def test_probs_or_logits_exactly_one_and_validation():
    with pytest.raises(ValueError, match="either `probs` or `logits`"):
        fd.Bernoulli()
    with pytest.raises(ValueError, match="either `probs` or `logits`"):
        fd.Bernoulli(fk.tensor(0.5), fk.tensor(0.0))
    with pytest.raises(ValueError, match=r"parameter probs .*Bernoulli.*Interval\(lower_bound=0\.0, upper_bound=1\.0\)"):
        fd.Bernoulli(fk.tensor([0.5, 1.5]))
    with pytest.raises(ValueError, match=r"support \(Boolean\(\)\)"):
        fd.Bernoulli(fk.tensor(0.5)).log_prob(fk.tensor(0.5))
    assert math.isclose(float(fd.Bernoulli(fk.tensor(0.5), validate_args=False).log_prob(fk.tensor(0.5))),
                        math.log(0.5), rel_tol=1e-6)
