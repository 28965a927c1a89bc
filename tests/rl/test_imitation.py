"""Behaviour cloning (seed 002 ch. 4's imitation learning): demonstrations record the expert's decisions, and a
classifier fitted by cross-entropy acts as the expert does."""
from __future__ import annotations

import numpy as np
import pytest

import fukaku as fk
from fukaku import nn
from fukaku.rl import (CartPoleTwin, behaviour_cloning, cartpole_expert, clone_policy_table, demonstrations,
                       evaluate_policy, gridworld, mdp_demonstrations, value_iteration)


def test_demonstrations_record_the_expert_until_each_episode_ends():
    obs, actions, returns = demonstrations(CartPoleTwin(3), cartpole_expert, seed=0)
    assert obs.shape == (1500, 4) and actions.shape == (1500,) and returns.tolist() == [500.0] * 3
    np.testing.assert_array_equal(actions, cartpole_expert(obs))


def test_a_cloned_gridworld_policy_is_as_good_as_the_expert():
    mdp = gridworld(["S...", ".#.#", "...G"], gamma=0.9)
    expert = value_iteration(mdp).policy
    states, actions = mdp_demonstrations(mdp, expert, episodes=20, rng=0)
    assert len(states) > 0 and (actions == expert[states]).all() and not mdp.terminal[states].any()
    features = np.eye(mdp.num_states, dtype=np.float32)
    fk.manual_seed(0)
    clone = nn.Linear(mdp.num_states, 4)
    losses = behaviour_cloning(clone, features[states], actions, epochs=60, lr=0.05, batch_size=32)
    assert losses[-1] < 0.1 * losses[0]
    table = clone_policy_table(clone, features)
    visited = np.unique(states)
    assert (table[visited] == expert[visited]).all()
    start = int(np.flatnonzero(mdp.start)[0])
    assert evaluate_policy(mdp, table)[start] == pytest.approx(evaluate_policy(mdp, expert)[start])


def test_behaviour_cloning_checks_its_data():
    with pytest.raises(ValueError, match="as many observations as actions"):
        behaviour_cloning(nn.Linear(2, 2), np.zeros((3, 2)), np.zeros(2, dtype=np.int64))
