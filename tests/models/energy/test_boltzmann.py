"""fukaku.models.energy.BoltzmannMachine against independent oracles: log Z and moments by a plain itertools
enumeration of the energy as the text writes it (−Σ_{i<j} w_ij x_i x_j − Σ b_i x_i), ∂log Z/∂w_ij by central
finite differences and by autograd, Gibbs moments against the exact ones, and ML training that matches the data
moments."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import fukaku as fk
from fukaku.models.energy import BoltzmannMachine
from fukaku.models.energy.boltzmann import binary_states


def textbook_energy(x, w, b):
    n = len(x)
    return -sum(w[i][j] * x[i] * x[j] for i in range(n) for j in range(i + 1, n)) - sum(b[i] * x[i] for i in range(n))


def oracle(w, b):
    """log Z, E[x xᵀ], E[x] by a loop over the states (the test's own, independent of the model's code)."""
    n = len(b)
    states = [np.array(s, float) for s in itertools.product((0, 1), repeat=n)]
    weights = [math.exp(-textbook_energy(s, w, b)) for s in states]
    z = sum(weights)
    xx = sum(p * np.outer(s, s) for p, s in zip(weights, states)) / z
    x = sum(p * s for p, s in zip(weights, states)) / z
    return math.log(z), xx, x


def machine(n=5, seed=0, std=0.8):
    g = fk.Generator().manual_seed(seed)
    bm = BoltzmannMachine(n, init_std=std, generator=g)
    with fk.no_grad():
        bm.bias.copy_(fk.tensor(np.random.default_rng(seed).normal(0, 0.7, n)))
    return bm


def test_weight_is_symmetric_with_zero_diagonal_and_float64():
    bm = BoltzmannMachine(4, weight=np.arange(16.0).reshape(4, 4))
    w = bm.weight.detach().numpy()
    assert np.array_equal(w, w.T) and np.all(np.diag(w) == 0)
    assert w[0, 1] == 1.0 and w[1, 0] == 1.0        # the upper triangle is kept
    assert bm.weight.dtype == fk.float64


def test_energy_matches_textbook_form_and_bias_sign():
    bm = machine()
    w, b = bm.weight.detach().numpy(), bm.bias.detach().numpy()
    x = binary_states(5)
    expected = np.array([textbook_energy(s, w, b) for s in x])
    np.testing.assert_allclose(bm.energy(fk.tensor(x)).detach().numpy(), expected, atol=1e-12)
    # C18: with W = 0 a positive bias lowers the energy of x_i = 1
    bm0 = BoltzmannMachine(1, bias=[2.0])
    assert bm0.energy(fk.tensor([[1.0]])).item() == -2.0


def test_binary_states_are_all_distinct_vectors():
    s = binary_states(4)
    assert s.shape == (16, 4) and len({tuple(r) for r in s}) == 16


def test_log_partition_and_moments_against_enumeration_oracle():
    bm = machine(6, seed=3)
    log_z, xx, x = oracle(bm.weight.detach().numpy(), bm.bias.detach().numpy())
    assert bm.log_partition().item() == pytest.approx(log_z, abs=1e-12)
    mxx, mx = bm.moments()
    np.testing.assert_allclose(mxx.numpy(), xx, atol=1e-12)
    np.testing.assert_allclose(mx.numpy(), x, atol=1e-12)
    assert bm.probabilities().sum() == pytest.approx(1.0, abs=1e-12)
    lp = bm.log_prob(fk.tensor(binary_states(6)))
    assert math.fsum(np.exp(lp.detach().numpy())) == pytest.approx(1.0, abs=1e-12)


def test_dlogz_dw_is_the_pair_moment_by_finite_differences_and_autograd():
    bm = machine(5, seed=1)
    w, b = bm.weight.detach().numpy(), bm.bias.detach().numpy()
    xx, x = (m.numpy() for m in bm.moments())
    h = 1e-5
    for i, j in [(0, 1), (2, 4), (1, 3)]:
        wp, wm = w.copy(), w.copy()
        wp[i, j] += h
        wm[i, j] -= h                        # the text's w_ij: one parameter per pair (upper triangle)
        fd = (oracle(wp, b)[0] - oracle(wm, b)[0]) / (2 * h)
        assert fd == pytest.approx(xx[i, j], abs=1e-8)
    lz = bm.log_partition()
    lz.backward()
    g = bm.weight.grad.numpy()
    assert np.array_equal(g, g.T) and np.all(np.diag(g) == 0)       # an optimizer step keeps W's structure
    np.testing.assert_allclose(g + g.T - np.diag(np.diag(g + g.T)), xx - np.diag(np.diag(xx)), atol=1e-12)
    np.testing.assert_allclose(bm.bias.grad.numpy(), x, atol=1e-12)


def test_gibbs_moments_converge_to_exact_moments():
    bm = machine(5, seed=2)
    xx, x = (m.numpy() for m in bm.moments())
    sxx, sx = bm.sample_moments(chains=2000, sweeps=60, burn_in=10, generator=fk.Generator().manual_seed(5))
    # 120k correlated samples: standard error ≈ 0.5/√(120k/τ) ≲ 0.004
    assert np.abs(sxx.numpy() - xx).max() < 0.02
    assert np.abs(sx.numpy() - x).max() < 0.02
    state = bm.gibbs(7, sweeps=3, generator=fk.Generator().manual_seed(0))
    assert tuple(state.shape) == (7, 5) and set(np.unique(state.numpy())) <= {0.0, 1.0}


def test_ml_training_with_exact_moments_matches_data_moments():
    rng = np.random.default_rng(0)
    data = (rng.random((200, 5)) < np.array([0.9, 0.2, 0.5, 0.7, 0.3])).astype(float)
    flip = rng.random(200) < 0.15
    data[:, 1] = np.where(flip, 1 - data[:, 0] * data[:, 2], data[:, 0] * data[:, 2])   # a noisy correlation
    bm = BoltzmannMachine(5, init_std=0.0)
    for _ in range(600):
        gap = bm.fit_step(fk.tensor(data), lr=1.0)
    dxx, dx = bm.data_moments(fk.tensor(data))
    mxx, mx = bm.moments()
    off = ~np.eye(5, dtype=bool)
    assert gap < 1e-3
    assert np.abs(dxx.numpy() - mxx.numpy())[off].max() < 1e-3 and np.abs(dx.numpy() - mx.numpy()).max() < 1e-3
    w = bm.weight.detach().numpy()
    assert np.array_equal(w, w.T) and np.all(np.diag(w) == 0)


def test_sampled_ml_gradient_approximates_exact_gradient():
    bm = machine(4, seed=4)
    data = fk.tensor((np.random.default_rng(1).random((50, 4)) < 0.5).astype(float))
    dw, db = bm.ml_gradient(data)
    sw, sb = bm.ml_gradient(data, model="gibbs", chains=2000, sweeps=40, burn_in=10,
                            generator=fk.Generator().manual_seed(2))
    assert np.abs(sw.numpy() - dw.numpy()).max() < 0.03 and np.abs(sb.numpy() - db.numpy()).max() < 0.03


def test_autograd_training_with_an_optimizer_keeps_w_symmetric_and_zero_diagonal():
    data = fk.tensor((np.random.default_rng(3).random((30, 4)) < 0.6).astype(float))
    bm = machine(4, seed=6)
    opt = fk.optim.SGD(bm.parameters(), lr=0.5, weight_decay=0.01)
    first = None
    for _ in range(50):
        loss = -bm.log_prob(data).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    w = bm.weight.detach().numpy()
    assert np.array_equal(w, w.T) and np.all(np.diag(w) == 0)
    assert loss.item() < first


@pytest.mark.parametrize("call, match", [
    (lambda: BoltzmannMachine(0), "num_units"),
    (lambda: BoltzmannMachine(3, weight=np.zeros((2, 2))), "weight must have shape"),
    (lambda: BoltzmannMachine(3, bias=np.zeros(4)), "bias must have shape"),
    (lambda: BoltzmannMachine(3).energy(fk.zeros(2, 4)), r"\(\.\.\., 3\)"),
    (lambda: BoltzmannMachine(3).ml_gradient(fk.zeros(2, 3), model="mcmc"), "'exact' or 'gibbs'"),
    (lambda: BoltzmannMachine(3).gibbs(0), "chains must be positive"),
    (lambda: BoltzmannMachine(3).gibbs(2, sweeps=-1), "sweeps"),
    (lambda: binary_states(25), "Gibbs"),
])
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
