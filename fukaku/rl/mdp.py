"""Finite Markov decision processes as arrays — seed 002 ch. 4.

The book's MDP is the tuple (s, a, T(s'|s,a), R(s,s')): states s, actions a, the transition probability
T(s'|s,a) of landing in s' after taking a in s, and the reward R(s,s') received on that transition, with a
discount factor γ. With S states and A actions, :class:`FiniteMDP` holds T as an ``(S, A, S)`` array (each
``T[s, a]`` a distribution over s') and R as ``(S, S)`` (the book's R(s,s')) or ``(S, A, S)`` (a reward that also
depends on the action). A policy π(a|s) is an ``(S, A)`` array of probabilities (a deterministic policy may be
given as an ``(S,)`` array of actions); under it the chain moves by P_π(s, s') = Σ_a π(a|s) T(s'|s,a) and earns
r_π(s) = Σ_a π(a|s) Σ_s' T(s'|s,a) R(s,s') in expectation, so the Bellman equation
V_π(s) = Σ_a π(a|s) Σ_s' T(s'|s,a)[R(s,s') + γ V_π(s')] reads v = r_π + γ P_π v in matrix form.

Host-side arrays throughout (tabular MDPs are small; every operation is one array expression over all states
and actions).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["FiniteMDP"]


@dataclass
class FiniteMDP:
    """A finite MDP (seed 002 ch. 4) with the book's notation: T(s'|s,a), R(s,s'), discount γ.

    Args:
        T: transition probabilities, shape ``(S, A, S)``; ``T[s, a, s']`` = T(s'|s,a), each ``T[s, a]`` sums to 1.
        R: rewards, shape ``(S, S)`` (R(s,s'), the book's form) or ``(S, A, S)`` (R(s,a,s')).
        gamma: the discount factor γ, 0 ≤ γ < 1.
        terminal: optional ``(S,)`` booleans marking absorbing states where an episode ends (sampling stops
            there; their own transitions should be self-loops with reward 0 so that values are unaffected).
        start: optional distribution ``(S,)`` of the first state of an episode (uniform over non-terminal
            states by default).
        states: optional names of the states (a gridworld names them by their ``(row, column)``).
        actions: optional names of the actions.

    Raises:
        ValueError: naming the argument, its shape and what it should be.

    Example::

        >>> mdp = FiniteMDP(T=np.array([[[1.0]]]), R=np.array([[1.0]]), gamma=0.5)   # one state, reward 1
        >>> float(mdp.expected_reward()[0, 0])
        1.0
    """

    T: np.ndarray
    R: np.ndarray
    gamma: float
    terminal: np.ndarray | None = None
    start: np.ndarray | None = None
    states: Sequence | None = None
    actions: Sequence[str] | None = None
    _r: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.T = np.asarray(self.T, dtype=np.float64)
        self.R = np.asarray(self.R, dtype=np.float64)
        if self.T.ndim != 3 or self.T.shape[0] != self.T.shape[2]:
            raise ValueError(f"FiniteMDP: T must have shape (S, A, S) with T[s, a, s'] = T(s'|s,a), got {self.T.shape}")
        s, a, _ = self.T.shape
        if (self.T < 0).any() or not np.allclose(self.T.sum(-1), 1.0, atol=1e-8):
            raise ValueError("FiniteMDP: every T[s, a] must be a probability distribution over s' (nonnegative, "
                             f"summing to 1); worst row sum {self.T.sum(-1).flat[np.abs(self.T.sum(-1) - 1).argmax()]}")
        if self.R.shape not in ((s, s), (s, a, s)):
            raise ValueError(f"FiniteMDP: R must have shape (S, S) = {(s, s)} (the book's R(s,s')) or "
                             f"(S, A, S) = {(s, a, s)}, got {self.R.shape}")
        if not 0.0 <= self.gamma < 1.0:
            raise ValueError(f"FiniteMDP: the discount γ must satisfy 0 ≤ γ < 1 (so that values are finite and "
                             f"I − γP_π is invertible), got {self.gamma}")
        self.terminal = np.zeros(s, dtype=bool) if self.terminal is None else np.asarray(self.terminal, dtype=bool)
        if self.terminal.shape != (s,):
            raise ValueError(f"FiniteMDP: terminal must have shape (S,) = ({s},), got {self.terminal.shape}")
        if self.start is None:
            live = ~self.terminal if (~self.terminal).any() else np.ones(s, dtype=bool)
            self.start = live / live.sum()
        self.start = np.asarray(self.start, dtype=np.float64)
        if self.start.shape != (s,) or not np.isclose(self.start.sum(), 1.0):
            raise ValueError(f"FiniteMDP: start must be a distribution of shape ({s},), got shape "
                             f"{self.start.shape} summing to {self.start.sum():.4g}")
        r3 = self.R if self.R.ndim == 3 else self.R[:, None, :]
        self._r = (self.T * r3).sum(-1)

    @property
    def num_states(self) -> int:
        """S, the number of states."""
        return self.T.shape[0]

    @property
    def num_actions(self) -> int:
        """A, the number of actions."""
        return self.T.shape[1]

    def expected_reward(self) -> np.ndarray:
        """r(s, a) = Σ_s' T(s'|s,a) R(s,s'), shape ``(S, A)``."""
        return self._r

    def as_policy(self, policy: np.ndarray) -> np.ndarray:
        """π as an ``(S, A)`` array of probabilities; an ``(S,)`` array of actions becomes its one-hot rows.

        Raises:
            ValueError: for another shape, or rows that are not distributions.
        """
        policy = np.asarray(policy)
        s, a = self.num_states, self.num_actions
        if policy.shape == (s,) and np.issubdtype(policy.dtype, np.integer):
            if policy.min() < 0 or policy.max() >= a:
                raise ValueError(f"FiniteMDP: a deterministic policy holds actions in [0, {a}), got {policy}")
            return np.eye(a)[policy]
        if policy.shape != (s, a):
            raise ValueError(f"FiniteMDP: a policy is an (S, A) = {(s, a)} array of probabilities π(a|s), or an "
                             f"(S,) = ({s},) integer array of actions; got shape {policy.shape}, dtype {policy.dtype}")
        if (policy < 0).any() or not np.allclose(policy.sum(-1), 1.0):
            raise ValueError("FiniteMDP: each row π(·|s) of a policy must be a probability distribution")
        return policy.astype(np.float64)

    def policy_transition(self, policy: np.ndarray) -> np.ndarray:
        """P_π(s, s') = Σ_a π(a|s) T(s'|s,a), shape ``(S, S)``."""
        return np.einsum("sa,sat->st", self.as_policy(policy), self.T)

    def policy_reward(self, policy: np.ndarray) -> np.ndarray:
        """r_π(s) = Σ_a π(a|s) Σ_s' T(s'|s,a) R(s,s'), shape ``(S,)``."""
        return (self.as_policy(policy) * self._r).sum(-1)

    def q_values(self, v: np.ndarray) -> np.ndarray:
        """Q(s, a) = Σ_s' T(s'|s,a)[R(s,s') + γ v(s')] for a value function v of shape ``(S,)``; shape ``(S, A)``."""
        return self._r + self.gamma * self.T @ np.asarray(v, dtype=np.float64)

    def greedy(self, q: np.ndarray) -> np.ndarray:
        """The deterministic policy argmax_a Q(s, a), shape ``(S,)`` (ties go to the lowest action)."""
        return np.asarray(q).argmax(-1)

    def sample_start(self, rng: np.random.Generator) -> int:
        """A first state drawn from ``start``."""
        return int(rng.choice(self.num_states, p=self.start))

    def step(self, s: int, a: int, rng: np.random.Generator) -> tuple[int, float, bool]:
        """One transition from state ``s`` under action ``a``: s' ~ T(·|s,a), the reward R(s,s') and whether s' is
        terminal."""
        s_next = int(np.searchsorted(np.cumsum(self.T[s, a]), rng.random() * self.T[s, a].sum(), side="right"))
        s_next = min(s_next, self.num_states - 1)
        reward = self.R[s, a, s_next] if self.R.ndim == 3 else self.R[s, s_next]
        return s_next, float(reward), bool(self.terminal[s_next])
