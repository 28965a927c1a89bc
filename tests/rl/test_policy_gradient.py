"""Policy gradients: Categorical's log_prob/sample/entropy semantics against torch.distributions, the REINFORCE
loss and its gradient against the same formula in PyTorch with identical weights, rollouts' bookkeeping, and
short training runs that learn."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku import nn, optim
from fukaku.distributions import Categorical
from fukaku.rl import (CartPoleTwin, Rollout, cartpole_expert, evaluate_policy_return, reinforce_loss, rollout,
                       train_actor_critic, train_reinforce)

from ..conformance import assert_close


def test_categorical_matches_torch_distributions():
    logits = np.random.default_rng(0).normal(size=(5, 3))
    actions = np.array([0, 2, 1, 1, 0])
    ours, theirs = Categorical(logits=fk.tensor(logits)), torch.distributions.Categorical(logits=torch.tensor(logits))
    assert_close(ours.log_prob(fk.tensor(actions)), theirs.log_prob(torch.tensor(actions)))
    assert_close(ours.entropy(), theirs.entropy())
    assert_close(ours.probs, theirs.probs)
    assert tuple(ours.sample().shape) == tuple(theirs.sample().shape) == (5,)
    assert tuple(ours.sample((7,)).shape) == (7, 5) and ours.sample().dtype == fk.int64
    fk.manual_seed(0)
    draws = Categorical(logits=fk.tensor(logits[0])).sample((40_000,)).numpy()
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 40_000, theirs.probs[0].numpy(), atol=0.01)


def _twins(seed: int = 0):
    fk.manual_seed(seed)
    ours = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    return ours, theirs


def _batch(seed: int = 1) -> Rollout:
    rng = np.random.default_rng(seed)
    t, n = 6, 3
    valid = np.arange(t)[:, None] < np.array([6, 4, 2])[None, :]
    ends = valid & ~np.vstack([valid[1:], np.zeros((1, n), bool)])
    return Rollout(obs=rng.normal(size=(t, n, 4)).astype(np.float32), actions=rng.integers(0, 2, (t, n)),
                   rewards=rng.normal(size=(t, n)) * valid, valid=valid, terminated=ends,
                   truncated=np.zeros((t, n), bool))


@pytest.mark.parametrize("baseline", ["none", "mean", "normalize"])
def test_reinforce_loss_and_gradient_match_torch(baseline):
    ours, theirs = _twins()
    batch, gamma = _batch(), 0.9
    # PyTorch: the same estimator written out, with the returns as direct discounted sums per episode
    g = np.zeros(batch.rewards.shape)
    for i in range(batch.rewards.shape[1]):
        r = batch.rewards[batch.valid[:, i], i]
        g[:len(r), i] = [sum(gamma ** (k - t) * r[k] for k in range(t, len(r))) for t in range(len(r))]
    g = g[batch.valid]
    if baseline != "none":
        g = g - g.mean()
    if baseline == "normalize":
        g = g / (g.std() + 1e-8)
    obs = torch.tensor(batch.obs[batch.valid])
    dist = torch.distributions.Categorical(logits=theirs(obs))
    want = -(dist.log_prob(torch.tensor(batch.actions[batch.valid])) * torch.tensor(g, dtype=torch.float32)).sum() / 3
    want.backward()
    got = reinforce_loss(ours, batch, gamma, baseline)
    got.backward()
    assert_close(got, want, rtol=1e-5)                # float32, as PyTorch programs run it
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-6, what=name)


def test_rollout_masks_finished_episodes():
    env = CartPoleTwin(5)
    fk.manual_seed(0)
    policy = nn.Linear(4, 2)
    batch = rollout(env, policy, seed=3)
    lengths = batch.valid.sum(0)
    assert batch.valid.shape[0] == lengths.max()
    np.testing.assert_array_equal(batch.episode_returns, lengths)             # reward 1 per step
    np.testing.assert_array_equal((batch.terminated | batch.truncated).sum(0), np.ones(5))
    assert (batch.valid == (np.arange(len(batch.valid))[:, None] < lengths)).all()


def test_reinforce_and_actor_critic_learn_cartpole_quickly():
    env = CartPoleTwin(16)
    fk.manual_seed(0)
    policy = nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 2))
    history = train_reinforce(policy, optim.Adam(policy.parameters(), lr=0.02), env, iterations=12, seed=0)
    assert np.mean(history.mean_returns[-3:]) > 2 * np.mean(history.mean_returns[:3])
    fk.manual_seed(0)
    actor = nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 2))
    critic = nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 1))
    history = train_actor_critic(actor, critic, optim.Adam([*actor.parameters(), *critic.parameters()], lr=0.01),
                                 env, iterations=12, n_steps=20, seed=0)
    assert np.mean(history.mean_returns[-3:]) > 1.5 * np.mean(history.mean_returns[:3])
    assert history.env_steps == sorted(history.env_steps)


def test_evaluation_counts_episodes():
    class Expert(nn.Module):
        def forward(self, obs):
            return fk.tensor(np.eye(2)[cartpole_expert(obs.numpy())] * 20.0, dtype=fk.float32)

    returns = evaluate_policy_return(Expert(), CartPoleTwin(8), 20, greedy=True)
    assert returns.shape == (20,) and (returns == 500).all()
