"""discounted_returns: the recursion G_t = r_{t+1} + γ G_{t+1} (seed 002 ch. 4) against the direct sum
Σ_k γ^k r_{t+k+1}, with episode ends, bootstrapping, batches and tensors."""
from __future__ import annotations

import numpy as np
import pytest

import fukaku as fk
from fukaku.rl import discounted_returns


def direct(rewards: np.ndarray, gamma: float, bootstrap: float = 0.0) -> np.ndarray:
    t = len(rewards)
    return np.array([sum(gamma ** (k - s) * rewards[k] for k in range(s, t)) + gamma ** (t - s) * bootstrap
                     for s in range(t)])


@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.99, 1.0])
def test_recursion_equals_the_direct_sum_over_a_batch(gamma):
    r = np.random.default_rng(0).normal(size=(3, 17))
    got = discounted_returns(r, gamma)
    np.testing.assert_allclose(got, np.stack([direct(row, gamma) for row in r]), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(discounted_returns(r.T, gamma, dim=0), got.T, rtol=1e-12)


def test_episode_ends_cut_the_sum_and_bootstrap_continues_it():
    r = np.arange(1.0, 7.0)
    dones = np.array([False, True, False, False, False, False])
    got = discounted_returns(r, 0.9, dones=dones, bootstrap=np.float64(5.0))
    np.testing.assert_allclose(got[:2], direct(r[:2], 0.9))
    np.testing.assert_allclose(got[2:], direct(r[2:], 0.9, bootstrap=5.0))


def test_tensor_in_tensor_out():
    g = discounted_returns(fk.tensor([[1.0, 1.0, 1.0]]), 0.5)
    assert isinstance(g, fk.Tensor) and g.dtype == fk.float32 and not g.requires_grad
    np.testing.assert_allclose(g.numpy(), [[1.75, 1.5, 1.0]])
    with pytest.raises(ValueError, match="time axis"):
        discounted_returns(np.float64(1.0), 0.5)
