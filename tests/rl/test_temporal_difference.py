"""Tabular Q-learning and SARSA (seed 002 ch. 4) reach the optimal policy of small MDPs with fixed seeds."""
from __future__ import annotations

import numpy as np
import pytest

from fukaku.rl import chain, epsilon_greedy, evaluate_policy, gridworld, q_learning, sarsa, value_iteration


def test_q_learning_on_a_tiny_chain_converges_to_q_star():
    mdp = chain(3, slip=0.1, gamma=0.8)
    best = value_iteration(mdp)
    # step sizes α/n^0.6 (Robbins–Monro): Q → Q*; a constant step keeps fluctuating around it
    result = q_learning(mdp, episodes=300, max_steps=50, alpha=1.0, alpha_exponent=0.6, epsilon=0.3, rng=0)
    assert result.policy.tolist() == best.policy.tolist() == [0, 0, 0]
    np.testing.assert_allclose(result.q, best.q, rtol=0.05)


@pytest.mark.parametrize("learn", [q_learning, sarsa])
def test_the_greedy_policy_is_optimal_on_a_small_gridworld(learn):
    mdp = gridworld(["...", ".#.", "X.G"], gamma=0.9, slip=0.0)
    best = value_iteration(mdp)
    result = learn(mdp, episodes=400, alpha=0.5, epsilon=0.2, rng=1, exploring_starts=True)
    np.testing.assert_allclose(evaluate_policy(mdp, result.policy), best.value, atol=1e-9)
    assert len(result.episode_returns) == 400 and max(result.episode_lengths) <= 200


def test_epsilon_greedy_explores_and_breaks_ties_at_random():
    rng = np.random.default_rng(0)
    greedy = [epsilon_greedy(np.array([0.0, 1.0, 1.0]), 0.0, rng) for _ in range(400)]
    assert set(greedy) == {1, 2}
    explore = np.bincount([epsilon_greedy(np.array([5.0, 0.0, 0.0]), 0.3, rng) for _ in range(6000)], minlength=3)
    np.testing.assert_allclose(explore / 6000, [0.8, 0.1, 0.1], atol=0.02)
    with pytest.raises(ValueError, match="alpha"):
        q_learning(chain(), episodes=1, alpha=0.0)
