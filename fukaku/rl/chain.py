"""The n-chain (Strens, 2000) as a finite MDP: the classic exploration test for tabular reinforcement learning."""
from __future__ import annotations

import numpy as np

from .mdp import FiniteMDP

__all__ = ["chain", "CHAIN_ACTIONS"]

CHAIN_ACTIONS = ("forward", "back")


def chain(n: int = 5, *, slip: float = 0.2, gamma: float = 0.9, small_reward: float = 2.0,
          large_reward: float = 10.0) -> FiniteMDP:
    """The n-chain: states 0 … n−1 in a row; ``forward`` moves one state along (staying at the end earns
    ``large_reward``), ``back`` returns to state 0 and earns ``small_reward``. With probability ``slip`` the other
    action happens. Rewards depend on the transition only (the book's R(s,s')): R(s, 0) = ``small_reward``,
    R(n−1, n−1) = ``large_reward``, 0 otherwise. Episodes start in state 0; no state is terminal.

    ``back`` pays at once, ``forward`` only after n−1 unpaid steps, so an agent that explores little settles for
    ``back``, while for γ close enough to 1 the optimal policy is ``forward`` everywhere.

    Example::

        >>> mdp = chain(5)
        >>> mdp.T.shape, mdp.R.shape
        ((5, 2, 5), (5, 5))
    """
    if n < 2:
        raise ValueError(f"chain: needs n ≥ 2 states, got {n}")
    if not 0.0 <= slip <= 1.0:
        raise ValueError(f"chain: slip is a probability in [0, 1], got {slip}")
    states = np.arange(n)
    ahead = np.minimum(states + 1, n - 1)
    T = np.zeros((n, 2, n))
    np.add.at(T, (states, 0, ahead), 1.0 - slip)        # forward as intended
    np.add.at(T, (states, 0, 0), slip)                  # forward slips back
    np.add.at(T, (states, 1, 0), 1.0 - slip)            # back as intended
    np.add.at(T, (states, 1, ahead), slip)              # back slips forward
    R = np.zeros((n, n))
    R[:, 0] = small_reward
    R[n - 1, n - 1] = large_reward
    start = np.eye(n)[0]
    return FiniteMDP(T=T, R=R, gamma=gamma, start=start, states=list(range(n)), actions=CHAIN_ACTIONS)
