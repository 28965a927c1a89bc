"""The reinforcement-learning experiments (fukaku/lab/experiments/rl): their measuring helpers against explicit
loops and closed forms, the CartPole experiments' fallback without gymnasium, and verdicts that follow from the
measurements (each experiment's quick run and its verdict are tested in test_experiments)."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from fukaku.lab import runner
from fukaku.lab.experiments.rl import (_cartpole, _grid, actor_critic_cartpole, bellman_evaluation,
                                       behaviour_cloning, discounted_return, q_learning_gridworld,
                                       reinforce_cartpole, value_policy_iteration)
from fukaku.lab.registry import Context
from fukaku.rl import CartPoleTwin, gridworld, value_iteration


def failed(experiment, values: dict) -> set[str]:
    return {c.name for c in experiment.checks(values) if not c.holds}


def test_direct_sum_is_the_definition():
    r = np.random.default_rng(0).normal(size=(2, 9))
    want = [[sum(0.7 ** (k - t) * row[k] for k in range(t, 9)) for t in range(9)] for row in r]
    np.testing.assert_allclose(discounted_return.direct_sum(r, 0.7), want, rtol=1e-12)


def test_bellman_error_curve_shrinks_by_gamma_and_reaches_the_solve():
    mdp = bellman_evaluation.random_mdp(20, 3, 0.8, np.random.default_rng(0))
    errors, sweeps = bellman_evaluation.error_curve(mdp, np.full((20, 3), 1 / 3))
    assert len(errors) == sweeps + 1 and errors[-1] <= 1e-10
    assert bellman_evaluation.worst_rate(errors) <= 0.8 + 1e-6
    assert bellman_evaluation.worst_rate(np.array([1.0, 0.9, 0.5])) == pytest.approx(0.9)


def test_epsilon_greedy_optimum_is_q_star_at_epsilon_zero():
    mdp = gridworld(_grid.LAYOUT, gamma=0.9, slip=0.1)
    np.testing.assert_allclose(q_learning_gridworld.epsilon_greedy_optimum(mdp, 0.0, sweeps=600),
                               value_iteration(mdp).q, atol=1e-12)


def test_random_layouts_connect_every_free_cell_to_the_goal():
    for seed in range(3):
        layout = _grid.random_layout(8, 8, np.random.default_rng(seed))
        mdp = gridworld(layout, gamma=0.9, pit_reward=0.0)
        assert layout[-1][-1] == "G" and layout[0][0] == "."
        v = value_iteration(mdp).value
        assert (v[~mdp.terminal] > 0).all()    # every free cell reaches the goal


def test_cartpole_verdicts_follow_the_mode_and_the_measurement():
    rf = reinforce_cartpole.ReinforceCartPole()
    assert failed(rf, {"quick run": True, "trained / random mean return": 3.0}) == set()
    assert failed(rf, {"quick run": True, "trained / random mean return": 1.5}) != set()
    assert failed(rf, {"quick run": False, "mean return over 100 evaluation episodes": 200.0}) == set()
    assert failed(rf, {"quick run": False, "mean return over 100 evaluation episodes": 150.0}) != set()
    ac = actor_critic_cartpole.ActorCriticCartPole()
    assert failed(ac, {"quick run": False, "actor-critic: mean return over 100 evaluation episodes": 120.0}) != set()


def test_tabular_verdicts_follow_the_measurement():
    vpi = value_policy_iteration.ValuePolicyIteration()
    good = {"largest value difference": 1e-12, "states with a non-optimal action (all MDPs)": 0, "all converged": True}
    assert failed(vpi, good) == set()
    assert failed(vpi, {**good, "states with a non-optimal action (all MDPs)": 2}) != set()
    ql = q_learning_gridworld.QLearningGridworld()
    good = {"Q-learning: largest final gap": 0.0, "Q-learning: smallest share of optimal actions": 1.0,
            "ε-greedy optimum's greedy policy is optimal": True, "SARSA: smallest share of optimal actions": 0.9}
    assert failed(ql, good) == set()
    assert failed(ql, {**good, "Q-learning: largest final gap": 0.1}) != set()
    bc = behaviour_cloning.BehaviourCloning()
    good = {"CartPole: clone / expert": 0.99,
            "gridworld: clone's V(s₀) / expert's, with the most demonstrations (worst run)": 1.0,
            "gridworld: clone agrees with the expert on the visited states (worst)": 1.0}
    assert failed(bc, good) == set()
    assert failed(bc, {**good, "CartPole: clone / expert": 0.5}) == {"CartPole: clone's mean return / expert's"}


def test_cartpole_experiments_fall_back_to_the_twin_without_gymnasium(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "gymnasium", None)
    env, description = _cartpole.environment(3)
    assert isinstance(env, CartPoleTwin) and "pip install 'fukaku[rl]'" in description
    outcome = runner.run_one(reinforce_cartpole.ReinforceCartPole(), Context(tmp_path, quick=True, seed=0))
    assert outcome.error is None and outcome.status == "holds", outcome.summary
    assert "twin" in outcome.measured["environment"]
