"""fukaku.rl's finite MDPs (seed 002 ch. 4): the arrays T(s'|s,a) and R(s,s') of the gridworld and the n-chain
against their definitions written cell by cell, and the policy quantities P_π, r_π, Q against explicit sums."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from fukaku.rl import FiniteMDP, chain, gridworld


def random_mdp(s: int = 4, a: int = 3, seed: int = 0, gamma: float = 0.9, action_rewards: bool = False) -> FiniteMDP:
    rng = np.random.default_rng(seed)
    t = rng.random((s, a, s)) ** 3
    r = rng.normal(size=(s, a, s) if action_rewards else (s, s))
    return FiniteMDP(T=t / t.sum(-1, keepdims=True), R=r, gamma=gamma)


@pytest.mark.parametrize("action_rewards", [False, True])
def test_policy_quantities_are_the_bellman_sums(action_rewards):
    mdp = random_mdp(action_rewards=action_rewards)
    pi = np.random.default_rng(1).dirichlet(np.ones(3), size=4)
    v = np.random.default_rng(2).normal(size=4)
    S, A = range(4), range(3)
    rew = (lambda s, a, t: mdp.R[s, a, t]) if action_rewards else (lambda s, a, t: mdp.R[s, t])
    p = [[sum(pi[s, a] * mdp.T[s, a, t] for a in A) for t in S] for s in S]
    r = [sum(pi[s, a] * mdp.T[s, a, t] * rew(s, a, t) for a in A for t in S) for s in S]
    q = [[sum(mdp.T[s, a, t] * (rew(s, a, t) + mdp.gamma * v[t]) for t in S) for a in A] for s in S]
    np.testing.assert_allclose(mdp.policy_transition(pi), p, rtol=1e-12)
    np.testing.assert_allclose(mdp.policy_reward(pi), r, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(mdp.q_values(v), q, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(mdp.as_policy(np.array([2, 0, 1, 1])), np.eye(3)[[2, 0, 1, 1]])


def test_bad_arguments_name_the_argument_and_the_shape():
    t = np.full((2, 1, 2), 0.5)
    with pytest.raises(ValueError, match=r"T must have shape \(S, A, S\)"):
        FiniteMDP(T=np.ones((2, 2)), R=np.zeros((2, 2)), gamma=0.5)
    with pytest.raises(ValueError, match="probability distribution"):
        FiniteMDP(T=t * 2, R=np.zeros((2, 2)), gamma=0.5)
    with pytest.raises(ValueError, match=r"R must have shape \(S, S\) = \(2, 2\)"):
        FiniteMDP(T=t, R=np.zeros((3, 3)), gamma=0.5)
    with pytest.raises(ValueError, match="0 ≤ γ < 1"):
        FiniteMDP(T=t, R=np.zeros((2, 2)), gamma=1.0)
    with pytest.raises(ValueError, match=r"an \(S, A\) = \(2, 1\) array"):
        FiniteMDP(T=t, R=np.zeros((2, 2)), gamma=0.5).as_policy(np.ones((2, 2)))


def test_gridworld_moves_walls_slips_and_goals():
    mdp = gridworld(["S.#", "..G"], slip=0.2, goal_reward=1.0, step_reward=-0.1)
    index = {cell: i for i, cell in enumerate(mdp.states)}
    up, right, down, left = range(4)
    moves = {up: (-1, 0), right: (0, 1), down: (1, 0), left: (0, -1)}

    def land(cell, d):
        r, c = cell[0] + moves[d][0], cell[1] + moves[d][1]
        return index.get((r, c), index[cell])     # off the map or into the wall: stay

    want = np.zeros_like(mdp.T)
    for cell, a in itertools.product(mdp.states, range(4)):
        s = index[cell]
        if cell == (1, 2):                          # the goal absorbs
            want[s, a, s] = 1.0
            continue
        for d, p in ((a, 0.8), ((a + 1) % 4, 0.1), ((a - 1) % 4, 0.1)):
            want[s, a, land(cell, d)] += p
    np.testing.assert_allclose(mdp.T, want, atol=1e-15)
    goal = index[(1, 2)]
    assert mdp.terminal.tolist() == [s == goal for s in range(mdp.num_states)]
    assert mdp.R[index[(1, 1)], goal] == 1.0 and mdp.R[index[(0, 0)], index[(0, 1)]] == -0.1
    assert mdp.R[goal, goal] == 0.0
    assert mdp.start.tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]   # 'S'
    with pytest.raises(ValueError, match="unknown cell"):
        gridworld(["S.?"])


def test_chain_is_strens_n_chain():
    mdp = chain(4, slip=0.2, small_reward=2.0, large_reward=10.0)
    forward, back = 0, 1
    for s in range(4):
        ahead = min(s + 1, 3)
        want_f, want_b = np.zeros(4), np.zeros(4)
        want_f[ahead] += 0.8
        want_f[0] += 0.2
        want_b[0] += 0.8
        want_b[ahead] += 0.2
        np.testing.assert_allclose(mdp.T[s, forward], want_f)
        np.testing.assert_allclose(mdp.T[s, back], want_b)
    r = mdp.expected_reward()
    assert r[3, forward] == pytest.approx(0.8 * 10 + 0.2 * 2) and r[1, back] == pytest.approx(0.8 * 2)
    assert r[0, forward] == pytest.approx(0.2 * 2)


def test_step_samples_the_transition_probabilities():
    mdp = random_mdp(3, 2, seed=4)
    rng = np.random.default_rng(0)
    draws = np.array([mdp.step(1, 0, rng)[0] for _ in range(20_000)])
    freq = np.bincount(draws, minlength=3) / len(draws)
    np.testing.assert_allclose(freq, mdp.T[1, 0], atol=0.015)
