"""fukaku.distributions.Categorical, OneHotCategorical and OneHotCategoricalStraightThrough against torch."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from conformance import FLOATS, assert_close, check, randn, uniform

import fukaku as fk
from fukaku import distributions as fd

TD = torch.distributions


def _theta(param, *shape):
    return uniform(0.1, 1.0, *shape) if param == "probs" else randn(*shape)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("param", ["probs", "logits"])
def test_categorical_matches_torch(dtype, param):
    theta = _theta(param, 2, 4)  # probs need not be normalised: both libraries normalise them
    index = np.random.default_rng(0).integers(0, 4, (5, 2))
    check(lambda t, i: fd.Categorical(**{param: t}).log_prob(i), lambda t, i: TD.Categorical(**{param: t}).log_prob(i),
          [theta, index], dtype)
    check(lambda t: fd.Categorical(**{param: t}).entropy(), lambda t: TD.Categorical(**{param: t}).entropy(),
          [theta], dtype)
    for prop in ("probs", "logits", "mean", "variance"):
        check(lambda t, prop=prop: getattr(fd.Categorical(**{param: t}), prop),
              lambda t, prop=prop: getattr(TD.Categorical(**{param: t}), prop), [theta], dtype)
    t = theta.astype(dtype)
    assert_close(fd.Categorical(**{param: fk.tensor(t)}).mode, TD.Categorical(**{param: torch.tensor(t)}).mode)


@pytest.mark.parametrize("dtype", FLOATS)
def test_one_hot_categorical_matches_torch(dtype):
    logits = randn(3, 4)
    value = np.eye(4)[np.random.default_rng(1).integers(0, 4, (2, 3))]
    check(lambda t, v: fd.OneHotCategorical(logits=t).log_prob(v), lambda t, v: TD.OneHotCategorical(logits=t).log_prob(v),
          [logits, value.astype(dtype)], dtype, second=False, jvp=False)  # value: a one-hot, not differentiated
    for prop in ("mean", "variance", "mode", "probs"):
        check(lambda t, prop=prop: getattr(fd.OneHotCategorical(logits=t), prop),
              lambda t, prop=prop: getattr(TD.OneHotCategorical(logits=t), prop), [logits], dtype)
    check(lambda t: fd.OneHotCategorical(logits=t).entropy(), lambda t: TD.OneHotCategorical(logits=t).entropy(),
          [logits], dtype)
    d = fd.OneHotCategorical(logits=fk.tensor(logits))
    assert_close(d.enumerate_support(), TD.OneHotCategorical(logits=torch.tensor(logits)).enumerate_support())


def test_sampling_frequencies_within_standard_errors():
    fk.manual_seed(2)
    p = np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]])
    n = 20000
    idx = fd.Categorical(fk.tensor(p)).sample((n,)).numpy()
    assert idx.shape == (n, 2) and idx.dtype == np.int64
    freq = np.stack([(idx == k).mean(0) for k in range(3)], -1)
    assert np.all(np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / n))
    onehot = fd.OneHotCategorical(fk.tensor(p)).sample((n,)).numpy()
    assert onehot.shape == (n, 2, 3) and np.all(onehot.sum(-1) == 1)
    assert np.all(np.abs(onehot.mean(0) - p) < 5 * np.sqrt(p * (1 - p) / n))


def test_shapes_expand_and_enumerate_support():
    d = fd.Categorical(logits=fk.zeros(2, 3, 5))
    assert d.batch_shape == (2, 3) and d.event_shape == () and d.param_shape == (2, 3, 5)
    assert d.sample((4,)).shape == (4, 2, 3)
    assert d.enumerate_support().shape == (5, 2, 3) and d.enumerate_support(False).shape == (5, 1, 1)
    assert d.expand((7, 2, 3)).sample().shape == (7, 2, 3)
    assert fd.Categorical(fk.ones(4)).batch_shape == ()
    o = fd.OneHotCategorical(logits=fk.zeros(2, 5))
    assert o.batch_shape == (2,) and o.event_shape == (5,) and o.sample((3,)).shape == (3, 2, 5)
    assert o.expand((4, 2)).sample().shape == (4, 2, 5)


def test_straight_through_rsample_passes_the_gradient_of_probs():
    logits = fk.tensor([0.3, -0.2, 1.0], requires_grad=True)
    d = fd.OneHotCategoricalStraightThrough(logits=logits)
    z = d.rsample()
    assert_close(z.detach().sum(), np.float32(1.0))
    (z * fk.tensor([1.0, 2.0, 3.0])).sum().backward()
    probs = torch.softmax(torch.tensor([0.3, -0.2, 1.0]), -1)
    w = torch.tensor([1.0, 2.0, 3.0])
    assert_close(logits.grad, probs * (w - (probs * w).sum()))


def test_validation():
    with pytest.raises(ValueError, match=r"parameter probs .*Categorical.*Simplex\(\)"):
        fd.Categorical(probs=fk.tensor([0.5, -0.5, 1.0]))
    with pytest.raises(ValueError, match=r"IntegerInterval\(lower_bound=0, upper_bound=2\)"):
        fd.Categorical(probs=fk.ones(3)).log_prob(fk.tensor(3))
    with pytest.raises(ValueError, match="at least one-dimensional"):
        fd.Categorical(probs=fk.tensor(1.0))
    with pytest.raises(ValueError, match=r"OneHot\(\)"):
        fd.OneHotCategorical(probs=fk.ones(3)).log_prob(fk.tensor([1.0, 1.0, 0.0]))
