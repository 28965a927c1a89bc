"""The Hopfield and CDMA experiments (fukaku/lab/experiments/energy): their measuring helpers against closed forms
and explicit loops, and verdicts that follow from the measurements — a measurement that contradicts the claim
fails the check it contradicts. (Each experiment's quick run and its verdict are tested in test_experiments.)"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from fukaku.lab.experiments.energy import (cdma_ber, hopfield_capacity, hopfield_energy_descent,
                                           hopfield_pattern_completion, hopfield_spurious_states)


def failed(experiment, values: dict) -> set[str]:
    return {c.name for c in experiment.checks(values) if not c.holds}


def test_crossing_interpolates_the_first_fall_below_the_level():
    alphas = [0.10, 0.12, 0.14, 0.16]
    assert hopfield_capacity.crossing(alphas, [1.0, 0.99, 0.95, 0.5], 0.97) == pytest.approx(0.13)
    assert hopfield_capacity.crossing(alphas, [0.9, 0.8, 0.7, 0.6], 0.97) == 0.10
    assert np.isnan(hopfield_capacity.crossing(alphas, [1.0, 1.0, 0.99, 0.98], 0.97))
    assert hopfield_capacity.steepest_drop(alphas, [1.0, 0.98, 0.9, 0.5]) == pytest.approx(20.0)


def test_overlap_curve_is_one_at_tiny_load_and_small_far_above_capacity():
    rng = np.random.default_rng(0)
    m = hopfield_capacity.overlap_curve(200, [0.01, 0.4], 2, rng)
    assert m[0] == 1.0 and m[1] < 0.5


def test_capacity_verdict_follows_the_measurement():
    exp = hopfield_capacity.HopfieldCapacity()
    good = {"α_c at N = 1000": 0.135, "lowest mean overlap at α ≤ 0.12": 0.985,
            "highest mean overlap at α = 0.2, N ≥ 1000": 0.42, "steepest drop grows with N (pairs in order)": 2,
            "pairs of neighbouring N": 2, "seconds for the N = 1000 sweep": 3.0}
    assert failed(exp, good) == set()
    assert failed(exp, {**good, "α_c at N = 1000": 0.2}) == {"α_c at N = 1000 within 0.02 of 0.138"}
    assert failed(exp, {**good, "steepest drop grows with N (pairs in order)": 1}) == {
        "sharper with N: pairs of neighbouring N whose steepest drop grows"}


def test_three_mixtures_are_the_signed_sums():
    rng = np.random.default_rng(1)
    xi = rng.choice([-1.0, 1.0], size=(4, 30))
    got = hopfield_spurious_states.three_mixtures(xi)
    want = [np.sign(sa * xi[a] + sb * xi[b] + sc * xi[c]) for a, b, c in itertools.combinations(range(4), 3)
            for sa, sb, sc in itertools.product([-1.0, 1.0], repeat=3)]
    np.testing.assert_array_equal(got, want)
    # each component overlap of an odd mixture is 1/2 in expectation: P(sgn(ξa+ξb+ξc) = ξa) = 3/4
    big = rng.choice([-1.0, 1.0], size=(3, 200_000))
    assert np.abs(hopfield_spurious_states.three_mixtures(big)[0] @ big.T / big.shape[1] - 0.5 * np.array(
        [-1, -1, -1])).max() < 0.01


def test_random_networks_are_symmetric_with_zero_diagonal():
    w, theta = hopfield_energy_descent.random_networks(np.random.default_rng(2), 3)
    n = hopfield_energy_descent.N
    assert w.shape == (6, n, n) and theta.shape == (6, 1, n)
    np.testing.assert_array_equal(w, np.swapaxes(w, 1, 2))
    assert not w[:, np.arange(n), np.arange(n)].any()


def test_energy_descent_verdict_follows_the_measurement():
    exp = hopfield_energy_descent.HopfieldEnergyDescent()
    good = {"largest energy increase": 0.0, "runs that reached a fixed point": 10, "runs": 10,
            "updates that lowered the energy": 5, "synchronous runs whose energy rose in a step": 3}
    assert failed(exp, good) == set()
    assert failed(exp, {**good, "largest energy increase": 0.5}) == {
        "largest energy increase over all asynchronous updates"}


def test_pattern_completion_verdict_follows_the_measurement():
    exp = hopfield_pattern_completion.HopfieldPatternCompletion()
    good = {"overlap before recall": 0.7, "mean final overlap": 1.0, "fraction restored exactly": 1.0}
    assert failed(exp, good) == set()
    assert failed(exp, {**good, "mean final overlap": 0.8, "fraction restored exactly": 0.3}) == {
        "mean final overlap", "fraction of probes restored exactly"}


def test_ber_table_against_the_single_user_limit(monkeypatch):
    # at load 1/8 with L = 8 there is one user: every detector is the single-user one, BER = Q(√(2 SNR))
    monkeypatch.setattr(cdma_ber, "LOADS", (0.125,))
    table = cdma_ber.ber_table(8, 1, 40_000, np.random.default_rng(3))
    for i, snr in enumerate(cdma_ber.SNRS_DB):
        q = cdma_ber.single_user_ber(snr)
        for name in ("matched filter", "iterative (asynchronous)", "iterative (parallel)"):
            assert abs(table[name][i, 0] - q) <= 5 * np.sqrt(q * (1 - q) / 40_000) + 1e-4
    assert table["raised"] == 0


def test_cdma_verdict_follows_the_measurement():
    exp = cdma_ber.CdmaBitErrorRate()
    good = {"matched-filter BER rises with load (steps)": 12, "load steps": 12,
            "worst BER ratio iterative / matched filter at moderate load": 0.3,
            "symbols whose ML cost the iterative detector raised": 0,
            "one user at 4 dB: |BER − Q(√(2 SNR))| in standard errors": 1.0}
    assert failed(exp, good) == set()
    assert failed(exp, {**good, "worst BER ratio iterative / matched filter at moderate load": 1.1}) == {
        "iterative detector at moderate load: worst BER ratio to the matched filter"}
