"""fukaku.physics.max_entropy: the numerical argmax of log W against the Boltzmann form."""
from __future__ import annotations

import math

import numpy as np
import pytest

from fukaku.physics import (boltzmann_beta, boltzmann_occupations, log_multiplicity, max_entropy_occupations)

LEVELS = np.arange(6.0)


def test_log_multiplicity_counts_arrangements():
    n = np.array([3, 2, 1])
    assert float(log_multiplicity(n)) == pytest.approx(math.log(math.factorial(6) / (6 * 2 * 1)))
    big = np.array([400.0, 300.0, 300.0])
    assert float(log_multiplicity(big, stirling=True)) == pytest.approx(-(big * np.log(big / 1000)).sum())


def test_boltzmann_beta_matches_mean_energy():
    beta = boltzmann_beta(LEVELS, 1.0)
    assert boltzmann_occupations(LEVELS, beta) @ LEVELS == pytest.approx(1.0, abs=1e-12)
    assert boltzmann_beta(LEVELS, 3.5) < 0 < beta                   # above the levels' average: β < 0
    with pytest.raises(ValueError, match="strictly between"):
        boltzmann_beta(LEVELS, 6.0)


@pytest.mark.parametrize("mean", [0.6, 1.0, 2.0])
def test_stirling_form_maximiser_is_boltzmann(mean):
    n_total = 1000.0
    n = max_entropy_occupations(LEVELS, n_total, mean * n_total, stirling=True)
    assert_constraints(n, n_total, mean * n_total)
    want = boltzmann_occupations(LEVELS, boltzmann_beta(LEVELS, mean), n_total)
    assert np.allclose(n, want, rtol=1e-9)
    # and it is a maximum: feasible perturbations (in the null space of the constraints) lower log W
    rng = np.random.default_rng(0)
    a = np.stack([np.ones(6), LEVELS])
    null = np.linalg.svd(a)[2][2:]
    moves = rng.normal(size=(50, 4)) @ null
    assert np.all(log_multiplicity(n + moves, stirling=True) < log_multiplicity(n, stirling=True))


def test_exact_log_w_maximiser_approaches_boltzmann_as_1_over_n():
    gaps = []
    for n_total in (1e2, 1e3, 1e4, 1e5):
        n = max_entropy_occupations(LEVELS, n_total, n_total)
        assert_constraints(n, n_total, n_total)
        want = boltzmann_occupations(LEVELS, boltzmann_beta(LEVELS, 1.0), n_total)
        gaps.append(np.abs(n / want - 1).max())
    ratios = np.array(gaps[:-1]) / np.array(gaps[1:])
    assert gaps[0] > 1e-2 and np.allclose(ratios, 10, rtol=0.05)      # the gap falls as 1/N


def assert_constraints(n, total, energy):
    assert n.sum() == pytest.approx(total, rel=1e-12) and n @ LEVELS == pytest.approx(energy, rel=1e-12)


def test_too_few_levels_refused():
    with pytest.raises(ValueError, match="at least 3 levels"):
        max_entropy_occupations([0.0, 1.0], 10, 5)
