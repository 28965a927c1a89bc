"""Imitation learning by behaviour cloning — seed 002 ch. 4 (the fighting game's "ghost" agent learns to play
like a player from recorded (situation, button) pairs).

Behaviour cloning is supervised learning on an expert's decisions: record the (state, action) pairs the expert
produces while acting, and fit a classifier policy π_θ(a|s) by cross-entropy (maximum likelihood of the expert's
actions). The clone then acts by its most likely action (or by sampling). Its weakness is compounding error: a
small mistake leads to states the expert never visited, where the clone was never taught.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import optim
from ..autograd.grad_mode import no_grad
from ..nn.functional import cross_entropy
from ..nn.modules.module import Module
from ..tensor import tensor
from .mdp import FiniteMDP
from .policy_gradient import rollout

__all__ = ["cartpole_expert", "demonstrations", "mdp_demonstrations", "behaviour_cloning", "clone_policy_table"]

# A hand-written CartPole controller: push toward the side the pole falls to, with damping and the cart's own
# position and velocity (a linear state feedback); it balances for the full 500 steps from every start tried.
_CARTPOLE_GAINS = np.array([0.1, 0.5, 3.0, 1.0])


def cartpole_expert(obs: np.ndarray) -> np.ndarray:
    """The actions ``(N,)`` of a hand-written CartPole controller for observations ``(N, 4)``
    (x, ẋ, θ, θ̇): push right (1) when 0.1x + 0.5ẋ + 3θ + θ̇ > 0, else left (0)."""
    return (np.asarray(obs, dtype=np.float64) @ _CARTPOLE_GAINS > 0).astype(np.int64)


def demonstrations(env, expert: Callable[[np.ndarray], np.ndarray], *, seed: int = 0,
                   max_steps: int = 100_000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run ``expert`` (observations ``(N, d)`` → actions ``(N,)``) for one episode in each environment of a vector
    environment and record its decisions.

    Returns:
        ``(observations (M, d), actions (M,), episode returns (N,))`` over the M steps of all the episodes.
    """
    batch = rollout(env, expert, seed=seed, max_steps=max_steps)
    return batch.obs[batch.valid], batch.actions[batch.valid], batch.episode_returns


def mdp_demonstrations(mdp: FiniteMDP, expert: np.ndarray, *, episodes: int, max_steps: int = 200,
                       rng: np.random.Generator | int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The (state, action) pairs an expert's deterministic policy ``(S,)`` visits in ``episodes`` episodes of a
    finite MDP (starts from ``mdp.start``). Returns ``(states (M,), actions (M,))``."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    expert = np.asarray(expert)
    states = []
    for _ in range(episodes):
        s = mdp.sample_start(rng)
        for _ in range(max_steps):
            if mdp.terminal[s]:
                break
            states.append(s)
            s, _, _ = mdp.step(s, int(expert[s]), rng)
    states_arr = np.asarray(states, dtype=np.int64)
    return states_arr, expert[states_arr].astype(np.int64)


def behaviour_cloning(policy: Module, observations: np.ndarray, actions: np.ndarray, *, epochs: int = 20,
                      lr: float = 1e-2, batch_size: int = 256, seed: int = 0) -> list[float]:
    """Fit a classifier ``policy`` (observations → logits) to the expert's ``actions`` by cross-entropy with Adam,
    in shuffled mini-batches. Returns the mean training loss of each epoch.

    Example::

        >>> import fukaku as fk
        >>> policy = fk.nn.Linear(1, 2)
        >>> losses = behaviour_cloning(policy, np.array([[-1.0], [1.0]] * 50), np.array([0, 1] * 50), epochs=30)
        >>> losses[-1] < losses[0]
        True
    """
    observations = np.asarray(observations, dtype=np.float32)
    actions = np.asarray(actions, dtype=np.int64)
    if observations.shape[0] != actions.shape[0] or observations.shape[0] == 0:
        raise ValueError(f"behaviour_cloning: need as many observations as actions (and at least one); got "
                         f"{observations.shape[0]} observations, {actions.shape[0]} actions")
    rng = np.random.default_rng(seed)
    optimizer = optim.Adam(policy.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(actions))
        total = 0.0
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            loss = cross_entropy(policy(tensor(observations[idx])), tensor(actions[idx]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss) * len(idx)
        losses.append(total / len(order))
    return losses


def clone_policy_table(policy: Module, features: np.ndarray) -> np.ndarray:
    """The deterministic tabular policy ``(S,)`` of a cloned classifier: its most likely action on each state's
    feature row (``features`` ``(S, d)``)."""
    with no_grad():
        return policy(tensor(np.asarray(features, dtype=np.float32))).argmax(-1).numpy().astype(np.int64)
