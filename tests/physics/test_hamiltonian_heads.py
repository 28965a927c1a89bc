"""fukaku.physics.hamiltonian_heads against torch.nn.functional (forward, gradients, second order)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from conformance import assert_close, check, randn, uniform

import fukaku as fk
from fukaku.physics import binary_head, gaussian_head, one_hot_head


@pytest.mark.parametrize("beta", [1.0, 2.5])
def test_binary_head_is_sigmoid_and_bce(beta):
    u, t = randn(4, 3), uniform(0, 1, 4, 3, seed=1)
    check(lambda a: binary_head(a, beta=beta).mean, lambda a: torch.sigmoid(beta * a), [u])
    check(lambda a, b: binary_head(a, b, beta).loss,
          lambda a, b: TF.binary_cross_entropy_with_logits(beta * a, b), [u, t])


@pytest.mark.parametrize("beta", [1.0, 0.5])
def test_one_hot_head_is_softmax_and_ce(beta):
    u, labels = randn(5, 4), np.array([0, 3, 1, 1, 2])
    check(lambda a: one_hot_head(a, beta=beta).mean, lambda a: torch.softmax(beta * a, dim=1), [u])
    got = one_hot_head(fk.tensor(u, requires_grad=True), fk.tensor(labels), beta)
    want = TF.cross_entropy(beta * torch.tensor(u), torch.tensor(labels))
    assert got.loss.item() == pytest.approx(want.item(), rel=1e-12)
    soft = uniform(0.1, 1, 5, 4, seed=2)
    soft /= soft.sum(1, keepdims=True)
    check(lambda a, q: one_hot_head(a, q, beta).loss, lambda a, q: TF.cross_entropy(beta * a, q), [u, soft])


def test_gaussian_head_is_linear_and_squared_error():
    u, t = randn(6, 3), randn(6, 3, seed=4)
    out = gaussian_head(u)
    assert_close(out.mean, u)
    for beta in (1.0, 3.0):
        const = 1.5 * math.log(2 * math.pi / beta)
        check(lambda a, b: gaussian_head(a, b, beta).loss,
              lambda a, b: beta * 1.5 * TF.mse_loss(a, b) + const, [u, t])
        nll = -torch.distributions.Normal(torch.tensor(u), beta ** -0.5).log_prob(torch.tensor(t)).sum(1).mean()
        assert gaussian_head(u, t, beta).loss.item() == pytest.approx(nll.item(), rel=1e-12)


def test_no_target_no_loss():
    assert binary_head([0.0]).loss is None and one_hot_head([[0.0, 1.0]]).loss is None
