"""The Hopfield network and the CDMA simulator (fukaku/models/energy/hopfield.py, cdma.py) against closed forms,
brute-force enumeration and explicit loops."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import fukaku as fk
from fukaku.errors import ShapeError
from fukaku.models.energy import (HopfieldNetwork, bit_error_rate, cdma_signal, hebbian_weights, hopfield_energy,
                                  hopfield_recall, iterative_detector, matched_filter, noise_std, overlap,
                                  single_user_ber, spreading_codes)


def spins(rng, *shape):
    return rng.choice(np.array([-1.0, 1.0]), size=shape)


def test_hebbian_weights_match_the_sum_over_patterns():
    rng = np.random.default_rng(0)
    xi = spins(rng, 3, 7, 20)                                      # 3 networks of 7 patterns, N = 20
    w = hebbian_weights(fk.tensor(xi)).numpy()
    for r in range(3):
        want = sum(np.outer(p, p) for p in xi[r]) / 20
        np.fill_diagonal(want, 0)
        np.testing.assert_allclose(w[r], want, atol=1e-12)
    assert w.dtype == np.float64 and np.allclose(w, np.swapaxes(w, -1, -2))
    assert hebbian_weights(xi.astype(np.int64)).dtype == fk.float32


def test_energy_is_the_quadratic_form_with_plus_threshold():
    rng = np.random.default_rng(1)
    n = 9
    w = rng.standard_normal((n, n)); w = (w + w.T) / 2; np.fill_diagonal(w, 0)
    theta = rng.standard_normal(n)
    x = spins(rng, 5, n)
    e = hopfield_energy(w, x, theta).numpy()
    want = [-0.5 * sum(w[i, j] * s[i] * s[j] for i in range(n) for j in range(n)) + theta @ s for s in x]
    np.testing.assert_allclose(e, want, atol=1e-12)
    # with W = 0 the energy is +θᵀx (erratum C18: Hopfield's +Σθx), so θ > 0 favours x = −1
    net = HopfieldNetwork(4, dtype=fk.float64)
    net.threshold.copy_(fk.tensor([1.0, 2.0, -1.0, 0.5], dtype=fk.float64))
    assert net.energy(fk.tensor([1.0, 1.0, 1.0, 1.0])).item() == pytest.approx(2.5)
    np.testing.assert_array_equal(net.recall(fk.ones(4)).numpy(), [-1, -1, 1, -1])


def test_single_flip_changes_energy_by_minus_delta_x_times_field():
    rng = np.random.default_rng(2)
    net = HopfieldNetwork(30, dtype=fk.float64).store(spins(rng, 4, 30))
    net.threshold.copy_(fk.tensor(rng.standard_normal(30)))
    x = spins(rng, 30)
    h = net.local_field(x).numpy()
    for i in (0, 7, 29):
        y = x.copy(); y[i] = -y[i]
        de = net.energy(y).item() - net.energy(x).item()
        assert de == pytest.approx(-(y[i] - x[i]) * h[i], abs=1e-12)


def test_async_energy_never_increases_and_ends_at_a_local_minimum():
    rng = np.random.default_rng(3)
    n = 40
    w = rng.standard_normal((n, n)); w = (w + w.T) / 2; np.fill_diagonal(w, 0)   # a random symmetric network
    theta = rng.standard_normal(n)
    r = hopfield_recall(w, spins(rng, 16, n), theta, sweeps=100, generator=rng, track_energy=True)
    assert r.converged
    assert np.diff(r.energies, axis=0).max() <= 1e-12
    x = r.states.numpy()
    h = x @ w - theta
    assert np.all(x * h >= 0)                                      # no single flip lowers the energy


def test_fixed_points_of_a_small_network_are_local_minima_by_enumeration():
    rng = np.random.default_rng(4)
    n = 8
    w = rng.standard_normal((n, n)); w = (w + w.T) / 2; np.fill_diagonal(w, 0)
    states = np.array(list(itertools.product([-1.0, 1.0], repeat=n)))
    e = hopfield_energy(w, states).numpy()
    flips = states[:, None, :] * np.where(np.eye(n, dtype=bool), -1.0, 1.0)        # every single-flip neighbour
    local_min = e <= hopfield_energy(w, flips).numpy().min(1)
    reached = hopfield_recall(w, states, sweeps=50, generator=rng).states.numpy()
    index = ((reached > 0) * (2 ** np.arange(n - 1, -1, -1))).sum(1)
    assert local_min[index].all()
    np.testing.assert_array_equal(hopfield_recall(w, states[local_min], sweeps=3).states.numpy(),
                                  states[local_min])                               # minima do not move


def test_pattern_completion_at_low_load():
    rng = np.random.default_rng(5)
    n, p = 200, 10
    xi = spins(rng, p, n)
    net = HopfieldNetwork(n).store(xi)
    probe = xi * np.where(rng.random((p, n)) < 0.15, -1.0, 1.0)
    m = overlap(xi, net.recall(probe, generator=rng)).numpy()
    assert m.min() == 1.0
    np.testing.assert_array_equal(net.step(xi).numpy(), xi)                       # stored patterns are fixed
    assert set(net.state_dict()) == {"weight", "threshold"}


def test_sync_mode_is_repeated_parallel_steps():
    rng = np.random.default_rng(6)
    n = 50
    net = HopfieldNetwork(n, dtype=fk.float64).store(spins(rng, 12, n))
    x = spins(rng, 4, n)
    want = x
    for _ in range(3):
        want = net.step(want).numpy()
    got = hopfield_recall(net.weight, x, sweeps=3, mode="sync").states.numpy()
    np.testing.assert_array_equal(got, want)


def test_batched_networks_match_one_at_a_time():
    rng = np.random.default_rng(7)
    xi = spins(rng, 3, 6, 60)
    w = hebbian_weights(xi)
    probe = xi * np.where(rng.random(xi.shape) < 0.1, -1.0, 1.0)
    together = hopfield_recall(w, probe, sweeps=10, mode="sync").states.numpy()
    for r in range(3):
        alone = hopfield_recall(w.numpy()[r], probe[r], sweeps=10, mode="sync").states.numpy()
        np.testing.assert_array_equal(together[r], alone)


def test_errors_name_the_problem():
    net = HopfieldNetwork(5)
    with pytest.raises(ValueError, match="−1 and \\+1"):
        net.recall(fk.tensor([0.0, 1.0, 1.0, 0.0, 1.0]))
    with pytest.raises(ShapeError, match="N = 5"):
        net.recall(fk.ones(4))
    with pytest.raises(ShapeError, match=r"\(P, 5\)"):
        net.store(fk.ones(2, 4))
    with pytest.raises(ValueError, match="mode"):
        hopfield_recall(net.weight, fk.ones(5), mode="chaotic")


# --- CDMA -----------------------------------------------------------------------------------------------------

def test_cdma_signal_and_matched_filter_formulas():
    rng = np.random.default_rng(10)
    s = spreading_codes(5, 16, rng).numpy()
    assert s.shape == (5, 16) and set(np.unique(s)) == {-1.0, 1.0}
    b = spins(rng, 8, 5)
    y = cdma_signal(b, s, math.inf).numpy()
    np.testing.assert_allclose(y, np.einsum("bk,kl->bl", b, s) / 4, atol=1e-12)
    z = y @ s.T / 4
    np.testing.assert_array_equal(matched_filter(y, s).numpy(), np.where(z >= 0, 1, -1))
    assert noise_std(10 * math.log10(2.0)) == pytest.approx(0.5)


def test_single_user_ber_matches_q_function():
    rng = np.random.default_rng(11)
    s = spreading_codes(1, 8, rng)
    b = spins(rng, 200_000, 1)
    for snr_db in (0.0, 4.0):
        ber = bit_error_rate(matched_filter(cdma_signal(b, s, snr_db, rng), s), b)
        want = single_user_ber(snr_db)
        assert abs(ber - want) < 5 * math.sqrt(want * (1 - want) / b.size)
    assert single_user_ber(0.0) == pytest.approx(0.0786496, rel=1e-5)             # Q(√2)


def test_orthogonal_codes_have_no_interference():
    h = np.array([[1.0]])
    for _ in range(3):
        h = np.block([[h, h], [h, -h]])                                             # Walsh–Hadamard, 8 × 8
    b = np.array(list(itertools.product([-1.0, 1.0], repeat=8)))
    y = cdma_signal(b, h, math.inf)
    np.testing.assert_array_equal(matched_filter(y, h).numpy(), b)
    np.testing.assert_array_equal(iterative_detector(y, h).numpy(), b)


def test_iterative_detector_never_raises_the_ml_cost_and_is_a_local_minimum():
    rng = np.random.default_rng(12)
    k, length = 10, 16
    s = spreading_codes(k, length, rng).numpy()
    b = spins(rng, 500, k)
    y = cdma_signal(b, s, 6.0, rng).numpy()

    def cost(bits):                                                                 # ‖y − Σ b_k s_k/√L‖²
        return ((y - bits @ s / 4) ** 2).sum(-1)

    mf, it = matched_filter(y, s).numpy(), iterative_detector(y, s, iterations=50, generator=rng).numpy()
    assert np.all(cost(it) <= cost(mf) + 1e-9)
    flips = it[:, None, :] * np.where(np.eye(k, dtype=bool), -1.0, 1.0)
    assert np.all(cost(it)[:, None] <= ((y[:, None] - flips @ s / 4) ** 2).sum(-1) + 1e-9)
    assert bit_error_rate(it, b) < bit_error_rate(mf, b)


def test_store_accumulates_and_forward_is_recall():
    rng = np.random.default_rng(8)
    xi = spins(rng, 6, 40)
    whole = HopfieldNetwork(40, dtype=fk.float64).store(xi)
    parts = HopfieldNetwork(40, dtype=fk.float64).store(xi[:2]).store(xi[2:], accumulate=True)
    np.testing.assert_allclose(parts.weight.numpy(), whole.weight.numpy(), atol=1e-12)
    assert parts.num_patterns == 6 and "num_patterns=6" in repr(parts)
    np.testing.assert_array_equal(whole(fk.tensor(xi)).numpy(), xi)
