"""fukaku.physics.gift_exchange against P(n) = 2^{−(n+1)} and the exact finite-M count."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.special import comb

from fukaku.physics import gift_exchange, gift_exchange_stationary, wealth_distribution


def test_stationary_forms():
    n = np.arange(12)
    assert np.allclose(gift_exchange_stationary(n), 2.0 ** -(n + 1))
    m, e = 7, 14                          # exact count of arrangements, by scipy's binomials
    want = comb(e - n + m - 2, m - 2) / comb(e + m - 1, m - 1)
    assert np.allclose(gift_exchange_stationary(n, mean=2, agents=m), want)
    assert gift_exchange_stationary(np.arange(15), mean=2, agents=m).sum() == pytest.approx(1.0)
    assert np.allclose(gift_exchange_stationary(n, 1, 100000), 2.0 ** -(n + 1), rtol=1e-3)


def test_simulation_conserves_and_reaches_boltzmann():
    final, recorded = gift_exchange(4000, mean=1, steps=600, rng=1, record_every=10)
    assert final.sum() == 4000 and recorded.sum(axis=1).tolist() == [4000] * 60 and final.min() >= 0
    p = wealth_distribution(recorded[20:], max_n=6)           # after burn-in, pooled over 40 snapshots
    want = 2.0 ** -(np.arange(7) + 1)
    assert np.abs(p - want).max() < 0.01
    start = wealth_distribution(np.ones(4000, dtype=int), max_n=6)
    assert np.abs(start - want).max() > 0.4                    # the start was far from it


def test_wealth_distribution_and_errors():
    assert np.allclose(wealth_distribution([0, 0, 1, 3]), [0.5, 0.25, 0, 0.25])
    with pytest.raises(ValueError, match="at least 2 agents"):
        gift_exchange(1)
    with pytest.raises(ValueError, match="non-negative"):
        gift_exchange(3, initial=[1, -1, 0])
