"""Policy evaluation, value iteration and policy iteration (seed 002 ch. 4) against closed forms, an
independent linear solve (SciPy), brute force over all deterministic policies, and the γ-contraction."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from fukaku.rl import (bellman_expectation, chain, evaluate_policy, gridworld, policy_evaluation, policy_iteration,
                       value_iteration)

from .test_mdp import random_mdp


def test_chain_values_in_closed_form():
    gamma, n = 0.9, 5
    mdp = chain(n, slip=0.0, gamma=gamma)
    forward = evaluate_policy(mdp, np.zeros(n, dtype=np.int64))
    v_end = 10 / (1 - gamma)
    np.testing.assert_allclose(forward, [gamma ** (n - 1 - s) * v_end for s in range(n)], rtol=1e-12)
    np.testing.assert_allclose(evaluate_policy(mdp, np.ones(n, dtype=np.int64)), 2 / (1 - gamma), rtol=1e-12)


def test_corridor_optimal_value_is_gamma_to_the_distance():
    gamma = 0.8
    result = value_iteration(gridworld(["......G"], gamma=gamma))
    np.testing.assert_allclose(result.value[:6], gamma ** np.arange(5, -1, -1), rtol=1e-9)
    assert result.policy[:6].tolist() == [1] * 6 and result.converged


def test_linear_solve_matches_scipy_and_iteration_converges_at_rate_gamma():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    mdp = random_mdp(6, 3, seed=3, gamma=0.9, action_rewards=True)
    pi = np.random.default_rng(0).dirichlet(np.ones(3), size=6)
    p = np.einsum("sa,sat->st", pi, mdp.T)
    r = np.einsum("sa,sat,sat->s", pi, mdp.T, mdp.R)
    want = scipy_linalg.solve(np.eye(6) - 0.9 * p, r)
    np.testing.assert_allclose(evaluate_policy(mdp, pi), want, rtol=1e-10)
    result = policy_evaluation(mdp, pi, tol=1e-10)
    assert result.converged and np.abs(result.value - want).max() <= 1e-10
    np.testing.assert_allclose(bellman_expectation(mdp, pi, want), want, rtol=1e-10)   # v_π is the fixed point
    res = np.array(result.residuals)
    assert (res[1:] <= 0.9 * res[:-1] * (1 + 1e-9) + 1e-15).all()   # a γ-contraction in the sup norm


@pytest.mark.parametrize("seed", [0, 1])
def test_value_and_policy_iteration_find_the_brute_force_optimum(seed):
    mdp = random_mdp(4, 3, seed=seed, gamma=0.95)
    values = np.stack([evaluate_policy(mdp, np.array(p)) for p in itertools.product(range(3), repeat=4)])
    best = values.max(0)   # an optimal deterministic policy is best in every state at once
    vi, pi = value_iteration(mdp), policy_iteration(mdp)
    np.testing.assert_allclose(vi.value, best, rtol=1e-9)
    np.testing.assert_allclose(pi.value, best, rtol=1e-9)
    np.testing.assert_allclose(evaluate_policy(mdp, vi.policy), best, rtol=1e-9)
    assert pi.converged and pi.residuals[-1] == 0


def test_slippery_gridworld_value_and_policy_iteration_agree():
    mdp = gridworld(slip=0.2)
    vi, pi = value_iteration(mdp), policy_iteration(mdp)
    np.testing.assert_allclose(vi.value, pi.value, atol=1e-9)
    # each method's action is optimal under the other's Q (ties may pick different, equally good actions)
    rows = np.arange(mdp.num_states)
    assert np.all(pi.q[rows, vi.policy] >= pi.q.max(1) - 1e-9)
    assert np.all(vi.q[rows, pi.policy] >= vi.q.max(1) - 1e-9)
