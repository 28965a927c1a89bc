"""The physics experiments' verdicts are computed: breaking the component a claim is about turns the check
that measures it to "does not hold" (seed 002 ch. 5)."""
from __future__ import annotations

import numpy as np

import fukaku.physics as physics
from fukaku.lab import registry
from fukaku.lab.experiments.energy import boltzmann_limits, gift_exchange, mean_field_gap, symplectic_energy
from fukaku.lab.registry import Context


def _failed(exp_id: str, tmp_path) -> set[str]:
    experiment = registry.discover()[exp_id]
    measurement = experiment.measure(Context(tmp_path, quick=True, seed=0))
    return {check.name for check in experiment.checks(measurement.values) if not check.holds}


def test_untouched_all_hold(tmp_path):
    for exp_id in ("boltzmann-limits", "gift-exchange", "symplectic-energy", "mean-field-gap"):
        assert _failed(exp_id, tmp_path) == set(), exp_id


def test_lost_minus_sign_breaks_the_limits(tmp_path, monkeypatch):
    # the text's (5.51) without the minus sign: p ∝ e^{+βε}, whose β → ∞ limit is the highest level
    monkeypatch.setattr(boltzmann_limits, "boltzmann_distribution",
                        lambda e, beta=1.0, dim=-1: physics.boltzmann_distribution(e, -beta, dim))
    failed = _failed("boltzmann-limits", tmp_path)
    assert {"β → ∞: ground-state probability", "ratio = e^{−βΔε} (rounding)"} <= failed


def test_no_exchanges_no_boltzmann(tmp_path, monkeypatch):
    # every snapshot still the start: one unit each
    monkeypatch.setattr(gift_exchange, "gift_exchange",
                        lambda agents, mean, steps, rng, record_every: (None, np.ones((40, agents), dtype=np.int64)))
    assert "P(n) = 2^{−(n+1)}: max deviation" in _failed("gift-exchange", tmp_path)


def test_euler_in_place_of_leapfrog_drifts(tmp_path, monkeypatch):
    monkeypatch.setattr(symplectic_energy, "leapfrog", physics.euler)
    failed = _failed("symplectic-energy", tmp_path)
    assert {"leapfrog: energy error bounded by ω²dt²/4 (+1%)", "leapfrog: no drift (last tenth vs first tenth, +1%)"} <= failed


def test_mean_field_as_exact_is_caught(tmp_path, monkeypatch):
    monkeypatch.setattr(mean_field_gap, "exact_forward", physics.mean_field_forward)
    failed = _failed("mean-field-gap", tmp_path)
    assert {"exact = Monte Carlo (standard errors)", "the gap at s = 1 is real (standard errors)"} <= failed
