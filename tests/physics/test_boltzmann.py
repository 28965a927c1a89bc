"""fukaku.physics.boltzmann against the closed form e^{−βε}/Z and torch (softmax/logsumexp of −βε)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from conformance import assert_close, check, randn

import fukaku as fk
from fukaku.physics import boltzmann_distribution, boltzmann_log_probs, log_partition_function


def test_closed_form_and_limits():
    e = np.array([0.3, 1.0, 2.5, 0.3])
    for beta in (0.0, 0.5, 2.0):
        w = np.exp(-beta * e)
        assert_close(boltzmann_distribution(e, beta), w / w.sum())
        assert_close(log_partition_function(e, beta), np.log(w.sum()))
    assert_close(boltzmann_distribution(e, 0.0), np.full(4, 0.25))                # β → 0: uniform
    assert_close(boltzmann_distribution(e, 1e4), np.array([0.5, 0, 0, 0.5]))      # β → ∞: ground states
    p = boltzmann_distribution(e, 1.7).numpy()
    assert p[1] / p[2] == pytest.approx(np.exp(-1.7 * (1.0 - 2.5)), rel=1e-12)      # e^{−βΔε}


def test_stable_for_huge_energies_and_batched():
    e = np.array([[1e4, 1e4 + 1.0], [-1e4, -1e4 - 2.0]])
    p = boltzmann_distribution(e, 1.0, dim=1).numpy()
    assert np.isfinite(p).all()
    assert_close(p[0], np.array([1, np.exp(-1)]) / (1 + np.exp(-1)))
    assert_close(boltzmann_log_probs(e, 1.0, dim=1), np.log(p))


def test_against_torch_with_gradients():
    e = randn(3, 5)
    check(lambda t: boltzmann_distribution(t, 1.3, dim=1), lambda t: torch.softmax(-1.3 * t, dim=1), [e])
    check(lambda t, b: log_partition_function(t, b, dim=1), lambda t, b: torch.logsumexp(-b * t, dim=1),
          [e, np.array([[0.7], [1.1], [2.0]])])


def test_mean_energy_is_minus_dlogz_dbeta():
    e = fk.tensor([0.0, 1.0, 3.0], dtype=fk.float64)
    beta = fk.tensor(0.8, dtype=fk.float64, requires_grad=True)
    log_partition_function(e, beta).backward()
    p = boltzmann_distribution(e, 0.8).numpy()
    assert beta.grad.item() == pytest.approx(-(p @ e.numpy()), rel=1e-12)


def test_infinite_beta_is_refused():
    with pytest.raises(ValueError, match="ground-state"):
        boltzmann_distribution([0.0, 1.0], float("inf"))
