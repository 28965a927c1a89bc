"""fukaku.physics.mean_field: the mean-field chain is an MLP; exact marginalisation against Monte Carlo
and brute-force sums; the gap is second order in the couplings."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku import nn
from fukaku.physics import exact_forward, mean_field_forward


def _layers(sizes, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    return [(fk.tensor(scale * rng.normal(size=(b, a))), fk.tensor(scale * rng.normal(size=b)))
            for a, b in zip(sizes[:-1], sizes[1:])]


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_mean_field_is_a_sigmoid_mlp_like_torch():
    layers = [nn.Linear(3, 4).double(), nn.Linear(4, 2).double()]
    tl = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Sigmoid(), torch.nn.Linear(4, 2), torch.nn.Sigmoid()).double()
    tl.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in
                        {"0.weight": layers[0].weight, "0.bias": layers[0].bias,
                         "2.weight": layers[1].weight, "2.bias": layers[1].bias}.items()})
    x = np.random.default_rng(1).normal(size=(5, 3))
    assert np.allclose(mean_field_forward(x, layers).detach().numpy(), tl(torch.tensor(x)).detach().numpy(), atol=1e-14)


def test_exact_equals_brute_force_sum_two_hidden_layers():
    layers = _layers([2, 3, 2, 1], seed=2)
    w = [(a.numpy(), b.numpy()) for a, b in layers]
    x = np.array([[0.3, -1.0], [2.0, 0.5]])
    want = np.zeros((2, 1))
    for h1 in itertools.product([0, 1], repeat=3):          # the test's oracle: an explicit sum
        for h2 in itertools.product([0, 1], repeat=2):
            p1 = _sigmoid(x @ w[0][0].T + w[0][1])
            p1 = np.prod(np.where(np.array(h1), p1, 1 - p1), axis=1)
            p2 = _sigmoid(np.array(h1) @ w[1][0].T + w[1][1])
            p2 = np.prod(np.where(np.array(h2), p2, 1 - p2))
            want += (p1 * p2)[:, None] * _sigmoid(np.array(h2) @ w[2][0].T + w[2][1])
    assert np.allclose(exact_forward(x, layers).numpy(), want, rtol=1e-12)


def test_exact_against_ancestral_sampling():
    layers = _layers([3, 6, 2], scale=1.5, seed=3)
    w = [(a.numpy(), b.numpy()) for a, b in layers]
    x = np.array([[0.5, -0.2, 1.0]])
    rng = np.random.default_rng(0)
    h = (rng.random((200000, 6)) < _sigmoid(x @ w[0][0].T + w[0][1])).astype(float)
    mc = _sigmoid(h @ w[1][0].T + w[1][1])
    exact = exact_forward(x, layers).numpy()[0]
    assert np.all(np.abs(mc.mean(0) - exact) < 5 * mc.std(0) / np.sqrt(len(mc)))
    assert np.abs(exact - mean_field_forward(x, layers).numpy()[0]).max() > 10 * mc.std(0).max() / np.sqrt(len(mc))


def test_gap_is_second_order_in_the_couplings():
    x = np.random.default_rng(4).normal(size=(8, 3))
    gaps = [np.abs((exact_forward(x, ls) - mean_field_forward(x, ls)).numpy()).max()
            for ls in (_layers([3, 5, 2], s, seed=5) for s in (0.1, 0.05))]
    assert gaps[0] / gaps[1] == pytest.approx(8, rel=0.1)     # O(w³): var(h) ∝ w², its effect on d ∝ w


def test_exact_is_differentiable():
    layers = [nn.Linear(2, 3).double(), nn.Linear(3, 1).double()]
    exact_forward(np.ones((1, 2)), layers).sum().backward()
    assert layers[0].weight.grad is not None and np.isfinite(layers[0].weight.grad.numpy()).all()


def test_errors():
    with pytest.raises(ValueError, match="at least one hidden layer"):
        exact_forward(np.ones((1, 2)), _layers([2, 1]))
    with pytest.raises(ValueError, match="≤ 12 units"):
        exact_forward(np.ones((1, 2)), _layers([2, 13, 1]))
