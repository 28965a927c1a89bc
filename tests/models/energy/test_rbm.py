"""fukaku.models.energy.RBM against independent oracles: the conditionals and the free energy against brute-force
enumeration of the joint E(v, h) written as the text does (with PyTorch computing the sigmoid), log Z against
the full double enumeration, the exact log-likelihood gradient (autograd of log P) against persistent-CD
estimates, annealed importance sampling of log Z against enumeration, and CD-1 training that lowers the
reconstruction error."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku.models.energy import RBM


def small_rbm(nv=4, nh=3, seed=0, std=1.0):
    rbm = RBM(nv, nh, init_std=std, generator=fk.Generator().manual_seed(seed))
    rng = np.random.default_rng(seed + 100)
    with fk.no_grad():
        rbm.visible_bias.copy_(fk.tensor(rng.normal(0, 0.5, nv).astype(np.float32)))
        rbm.hidden_bias.copy_(fk.tensor(rng.normal(0, 0.5, nh).astype(np.float32)))
    return rbm


def params(rbm):
    return (rbm.weight.detach().numpy().astype(float), rbm.visible_bias.detach().numpy().astype(float),
            rbm.hidden_bias.detach().numpy().astype(float))


def states(n):
    return np.array(list(itertools.product((0.0, 1.0), repeat=n)))


def joint(rbm):
    """Unnormalised p(v, h) = exp(−E(v, h)) over every (v, h), as a (2^nv, 2^nh) table."""
    w, b, c = params(rbm)
    vs, hs = states(rbm.num_visible), states(rbm.num_hidden)
    e = -np.einsum("vi,ij,hj->vh", vs, w, hs) - (vs @ b)[:, None] - (hs @ c)[None, :]
    return vs, hs, np.exp(-e)


def test_conditionals_equal_the_exact_ones_from_the_joint():
    rbm = small_rbm()
    vs, hs, p = joint(rbm)
    p_h_given_v = p / p.sum(1, keepdims=True)                      # rows: v
    exact_h = p_h_given_v @ hs                                     # P(h_j = 1 | v)
    got = rbm.hidden_probs(fk.tensor(vs.astype(np.float32))).detach().numpy()
    np.testing.assert_allclose(got, exact_h, atol=1e-6)
    p_v_given_h = p / p.sum(0, keepdims=True)
    exact_v = (p_v_given_h.T @ vs)
    got_v = rbm.visible_probs(fk.tensor(hs.astype(np.float32))).detach().numpy()
    np.testing.assert_allclose(got_v, exact_v, atol=1e-6)
    w, b, c = params(rbm)
    np.testing.assert_allclose(got, torch.sigmoid(torch.tensor(vs @ w + c)).numpy(), atol=1e-6)


def test_free_energy_log_partition_and_log_prob():
    rbm = small_rbm(5, 3, seed=1)
    vs, hs, p = joint(rbm)
    v32 = fk.tensor(vs.astype(np.float32))
    np.testing.assert_allclose(rbm.free_energy(v32).detach().numpy(), -np.log(p.sum(1)), atol=1e-5)
    assert rbm.log_partition().item() == pytest.approx(np.log(p.sum()), abs=1e-5)
    assert np.exp(rbm.log_prob(v32).detach().numpy().astype(float)).sum() == pytest.approx(1.0, abs=1e-5)
    wide = small_rbm(3, 6, seed=2)                                  # enumeration over the visible side
    _, _, p2 = joint(wide)
    assert wide.log_partition().item() == pytest.approx(np.log(p2.sum()), abs=1e-5)
    h = fk.tensor(hs[:2].astype(np.float32))
    e = rbm.energy(v32[:2], h).detach().numpy()
    np.testing.assert_allclose(np.exp(-e), np.diag(p[:2][:, [0, 1]]), rtol=1e-5)


def test_persistent_cd_approximates_the_exact_likelihood_gradient():
    rbm = small_rbm(4, 3, seed=3, std=0.7)
    rng = np.random.default_rng(0)
    data = fk.tensor((rng.random((40, 4)) < [0.8, 0.3, 0.6, 0.1]).astype(np.float32))
    nll = -rbm.log_prob(data).mean()
    nll.backward()
    exact = [-p.grad.numpy() for p in (rbm.weight, rbm.visible_bias, rbm.hidden_bias)]
    big = fk.tensor(np.repeat(data.numpy(), 100, axis=0))          # 4000 chains: small Monte Carlo error
    g = fk.Generator().manual_seed(1)
    for _ in range(30):                                            # burn in the persistent chains
        rbm.cd_gradient(big, k=1, persistent=True, generator=g)
    est = [np.zeros_like(e) for e in exact]
    for _ in range(20):
        for acc, part in zip(est, rbm.cd_gradient(big, k=1, persistent=True, generator=g)):
            acc += part.numpy() / 20
    for e, s in zip(exact, est):
        np.testing.assert_allclose(s, e, atol=0.02)


def test_cd1_training_lowers_reconstruction_error():
    rng = np.random.default_rng(0)
    protos = (rng.random((3, 16)) < 0.5).astype(np.float32)
    data = protos[rng.integers(0, 3, 300)]
    data = np.where(rng.random(data.shape) < 0.05, 1 - data, data).astype(np.float32)
    rbm = RBM(16, 8, generator=fk.Generator().manual_seed(0))
    v = fk.tensor(data)
    before = rbm.reconstruction_error(v)
    g = fk.Generator().manual_seed(0)
    for _ in range(200):
        rbm.cd_step(v, lr=0.1, k=1, generator=g)
    after = rbm.reconstruction_error(v)
    assert after < 0.5 * before
    s = rbm.sample(10, steps=50, generator=g)
    assert tuple(s.shape) == (10, 16) and set(np.unique(s.numpy())) <= {0.0, 1.0}
    p, h = rbm.sample_hidden(v[:5], generator=g)
    assert tuple(p.shape) == tuple(h.shape) == (5, 8)


def test_gradients_flow_through_free_energy():
    rbm = small_rbm()
    v = fk.tensor(states(4).astype(np.float32))
    rbm.free_energy(v).sum().backward()
    w, b, c = params(rbm)
    ph = torch.sigmoid(torch.tensor(states(4) @ w + c)).numpy()
    np.testing.assert_allclose(rbm.weight.grad.numpy(), -states(4).T @ ph, atol=1e-5)
    np.testing.assert_allclose(rbm.visible_bias.grad.numpy(), -states(4).sum(0), atol=1e-5)


def test_ais_log_partition_matches_enumeration():
    rbm = small_rbm(12, 10, seed=0, std=1.0)
    exact = rbm.log_partition().item()
    est, log_w = rbm.ais_log_partition(200, 1000, generator=fk.Generator().manual_seed(1))
    assert log_w.shape == (200,)
    assert abs(est - exact) < 0.05
    est0, _ = rbm.ais_log_partition(200, 1000, base_bias=np.zeros(12), generator=fk.Generator().manual_seed(2))
    assert abs(est0 - exact) < 0.1
    independent = RBM(5, 3, init_std=0.0)                      # W = 0: the base model is the model, weights all 1
    with fk.no_grad():
        independent.visible_bias.copy_(fk.tensor([0.5, -1.0, 2.0, 0.0, 0.3]))
    est1, log_w1 = independent.ais_log_partition(10, 5)
    assert np.all(log_w1 == 0) and est1 == pytest.approx(independent.log_partition().item(), abs=1e-5)


@pytest.mark.parametrize("call, match", [
    (lambda: RBM(0, 3), "num_visible"),
    (lambda: RBM(3, -1), "num_hidden"),
    (lambda: RBM(4, 2).hidden_probs(fk.zeros(2, 3)), r"v must have shape \(batch, 4\)"),
    (lambda: RBM(4, 2).visible_probs(fk.zeros(2, 4)), r"h must have shape \(batch, 2\)"),
    (lambda: RBM(4, 2).cd_gradient(fk.zeros(2, 4), k=0), "k must be a positive integer"),
    (lambda: RBM(4, 2).gibbs(fk.zeros(2, 4), steps=-1), "steps"),
    (lambda: RBM(4, 2).sample(0), "num_samples"),
    (lambda: RBM(4, 2).ais_log_partition(0), "num_chains"),
    (lambda: RBM(4, 2).ais_log_partition(5, 1), "num_betas"),
    (lambda: RBM(4, 2).ais_log_partition(5, 10, base_bias=np.zeros(3)), "base_bias"),
])
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
