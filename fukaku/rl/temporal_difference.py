"""Tabular temporal-difference control on a finite MDP (seed 002 ch. 4): Q-learning and SARSA with ε-greedy
exploration.

Both learn Q(s, a) from sampled transitions (s, a, r, s') without knowing T or R:

- Q-learning (off-policy): Q(s,a) ← Q(s,a) + α [r + γ max_a' Q(s',a') − Q(s,a)], converging to Q* whatever the
  exploring policy, as long as every pair keeps being visited;
- SARSA (on-policy): Q(s,a) ← Q(s,a) + α [r + γ Q(s',a') − Q(s,a)] with a' the action actually taken next,
  converging to the value of the ε-greedy policy it follows (to Q* as ε → 0).

Episodes are sequential by nature (each step needs the previous one), so the loop runs over steps; each step
is a handful of scalar updates.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .mdp import FiniteMDP

__all__ = ["TDResult", "epsilon_greedy", "q_learning", "sarsa"]


@dataclass
class TDResult:
    """What :func:`q_learning` and :func:`sarsa` return: the learned ``q`` ``(S, A)``, its greedy ``policy``
    ``(S,)``, and per episode the undiscounted return and the number of steps."""

    q: np.ndarray
    policy: np.ndarray
    episode_returns: list[float] = field(default_factory=list)
    episode_lengths: list[int] = field(default_factory=list)


def epsilon_greedy(q_row: np.ndarray, epsilon: float, rng: np.random.Generator) -> int:
    """An action drawn ε-greedily from one row Q(s, ·): uniformly at random with probability ε, else a greedy
    action (ties broken at random, so an all-zero start explores)."""
    if rng.random() < epsilon:
        return int(rng.integers(len(q_row)))
    best = np.flatnonzero(q_row == q_row.max())
    return int(best[0] if len(best) == 1 else rng.choice(best))


def _td_control(mdp: FiniteMDP, on_policy: bool, episodes: int, alpha: float, epsilon: float, max_steps: int,
                rng: np.random.Generator | int | None, q0: np.ndarray | None, exploring_starts: bool,
                alpha_exponent: float) -> TDResult:
    if episodes < 0 or not 0.0 < alpha <= 1.0 or not 0.0 <= epsilon <= 1.0 or max_steps < 1 \
            or not 0.0 <= alpha_exponent <= 1.0:
        raise ValueError(f"{'sarsa' if on_policy else 'q_learning'}: need episodes ≥ 0, 0 < alpha ≤ 1, "
                         f"0 ≤ epsilon ≤ 1, max_steps ≥ 1, 0 ≤ alpha_exponent ≤ 1; got {episodes}, {alpha}, "
                         f"{epsilon}, {max_steps}, {alpha_exponent}")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    q = np.zeros((mdp.num_states, mdp.num_actions)) if q0 is None else np.array(q0, dtype=np.float64)
    visits = np.zeros(q.shape)
    live = np.flatnonzero(~mdp.terminal)
    gamma = mdp.gamma
    returns, lengths = [], []
    for _ in range(episodes):
        s = int(rng.choice(live)) if exploring_starts else mdp.sample_start(rng)
        a = epsilon_greedy(q[s], epsilon, rng)
        total, steps = 0.0, 0
        while steps < max_steps and not mdp.terminal[s]:
            s_next, r, done = mdp.step(s, a, rng)
            a_next = epsilon_greedy(q[s_next], epsilon, rng)
            if done:
                target = r
            elif on_policy:
                target = r + gamma * q[s_next, a_next]
            else:
                target = r + gamma * q[s_next].max()
            visits[s, a] += 1
            step = alpha if alpha_exponent == 0.0 else alpha / visits[s, a] ** alpha_exponent
            q[s, a] += step * (target - q[s, a])
            total += r
            steps += 1
            s, a = s_next, a_next
        returns.append(total)
        lengths.append(steps)
    return TDResult(q=q, policy=mdp.greedy(q), episode_returns=returns, episode_lengths=lengths)


def q_learning(mdp: FiniteMDP, *, episodes: int, alpha: float = 0.1, epsilon: float = 0.1, max_steps: int = 200,
               rng: np.random.Generator | int | None = None, q0: np.ndarray | None = None,
               exploring_starts: bool = False, alpha_exponent: float = 0.0) -> TDResult:
    """Tabular Q-learning with ε-greedy exploration.

    Args:
        mdp: the environment (only sampled: :meth:`FiniteMDP.step`).
        episodes: episodes to run; each starts from ``mdp.start`` (or, with ``exploring_starts``, from a uniformly
            drawn non-terminal state) and ends in a terminal state or after ``max_steps`` steps.
        alpha: the step size α; with ``alpha_exponent`` ω > 0 the n-th update of a pair (s, a) uses α / n^ω
            (ω ∈ (1/2, 1] meets the Robbins–Monro conditions under which Q-learning converges to Q*).
        epsilon: the exploration probability ε.
        rng: a NumPy generator or a seed.
        q0: the initial Q (zeros by default); passing the previous result's ``q`` continues training.

    Example::

        >>> from fukaku.rl import gridworld
        >>> q_learning(gridworld(["S.G"], gamma=0.9), episodes=50, rng=0).policy.tolist()[:2]
        [1, 1]
    """
    return _td_control(mdp, False, episodes, alpha, epsilon, max_steps, rng, q0, exploring_starts, alpha_exponent)


def sarsa(mdp: FiniteMDP, *, episodes: int, alpha: float = 0.1, epsilon: float = 0.1, max_steps: int = 200,
          rng: np.random.Generator | int | None = None, q0: np.ndarray | None = None,
          exploring_starts: bool = False, alpha_exponent: float = 0.0) -> TDResult:
    """Tabular SARSA (on-policy TD control) with ε-greedy exploration; arguments as :func:`q_learning`."""
    return _td_control(mdp, True, episodes, alpha, epsilon, max_steps, rng, q0, exploring_starts, alpha_exponent)
