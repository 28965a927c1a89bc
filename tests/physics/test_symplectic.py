"""fukaku.physics.symplectic: leapfrog against its exact shadow energy and area preservation, Euler
against its closed-form energy growth (1 + ω²dt²)ⁿ, both against the exact solution for small dt."""
from __future__ import annotations

import numpy as np
import pytest

import fukaku as fk
from fukaku.physics import euler, leapfrog, leapfrog_shadow_energy, oscillator_energy, oscillator_force

M, K = 1.5, 2.0


def test_leapfrog_bounded_energy_and_shadow_conserved():
    q0, p0 = np.array([1.0, 0.0, -0.3]), np.array([0.0, 1.0, 2.0])
    q, p = leapfrog(q0, p0, 0.1, 5000, oscillator_force(K), M)
    assert q.shape == (5001, 3)
    shadow = leapfrog_shadow_energy(q, p, 0.1, M, K)
    assert np.abs(shadow / shadow[0] - 1).max() < 1e-12
    energy = oscillator_energy(q, p, M, K)
    drift = np.abs(energy / energy[0] - 1).max()
    assert drift < (K / M) * 0.1 ** 2                          # O(ω² dt²), never growing
    assert np.abs(energy[-1000:] / energy[0] - 1).max() == pytest.approx(drift, rel=0.05)


def test_euler_energy_grows_exactly():
    q, p = euler(np.array([1.0]), np.array([0.5]), 0.05, 400, oscillator_force(K), M)
    energy = oscillator_energy(q, p, M, K)[:, 0]
    assert np.allclose(energy / energy[0], (1 + K / M * 0.05 ** 2) ** np.arange(401), rtol=1e-12)


def test_leapfrog_preserves_area_euler_does_not():
    def jacobian(step):
        q, p = step(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 0.3, 1, oscillator_force(K), M)   # the map is linear
        return np.stack([q[1], p[1]])                  # rows (q', p'), columns the unit initial states
    assert np.linalg.det(jacobian(leapfrog)) == pytest.approx(1.0, abs=1e-14)
    assert np.linalg.det(jacobian(euler)) == pytest.approx(1 + K / M * 0.09, abs=1e-14)


def test_both_converge_to_exact_solution_and_leapfrog_is_second_order():
    omega, t = np.sqrt(K / M), 2.0
    errors = {}
    for dt in (0.01, 0.005):
        n = int(round(t / dt))
        q, _ = leapfrog(np.array(1.0), np.array(0.0), dt, n, oscillator_force(K), M)
        errors[dt] = abs(q[-1] - np.cos(omega * t))
    assert errors[0.01] / errors[0.005] == pytest.approx(4, rel=0.05)


def test_runs_on_tensors_differentiably():
    q0 = fk.tensor([1.0], dtype=fk.float64, requires_grad=True)
    q, p = leapfrog(q0, fk.zeros(1, dtype=fk.float64), 0.1, 10)
    q[-1].sum().backward()
    q_np, _ = leapfrog(np.array([1.0]), np.array([0.0]), 0.1, 10)
    assert q0.grad.item() == pytest.approx(q_np[-1, 0], rel=1e-12)   # linear in q0: dq/dq0 = q(q0 = 1)
    with pytest.raises(ValueError, match="dt > 0"):
        euler(np.array(1.0), np.array(0.0), -0.1, 5)
