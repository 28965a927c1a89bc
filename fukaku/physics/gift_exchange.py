"""The gift-exchange economy of seed 002 ch. 5: M agents share E units (mean E/M); in each exchange one
agent hands one unit, if it has any, to another. The total is conserved, every arrangement becomes equally
likely, and the share of agents holding n units tends to the Boltzmann form P(n) = (1 − q) qⁿ with
q = m/(1 + m) for mean m — for m = 1, β = ln 2 and P(n) = 2^{−(n+1)}."""
from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from .stirling import log_factorial

__all__ = ["gift_exchange", "wealth_distribution", "gift_exchange_stationary"]


def gift_exchange(agents: int, mean: int = 1, steps: int = 1000, rng: np.random.Generator | int | None = None,
                  initial: npt.ArrayLike | None = None, record_every: int = 0) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Simulate the exchange, vectorised over agents: each step pairs all agents at random and in every
    pair a random one of the two gives one unit to the other if it has one (⌊M/2⌋ exchanges per step).

    Each pair's move is a symmetric walk of its split, so the uniform distribution over arrangements of E
    units among M agents is stationary, as for one exchange at a time.

    Args:
        agents: M ≥ 2.
        mean: units per agent at the start (every agent starts with ``mean`` units) unless ``initial``.
        steps: the number of steps (rounds of ⌊M/2⌋ exchanges).
        rng: a NumPy generator or seed.
        initial: the starting holdings (non-negative integers, length M) instead of ``mean`` each.
        record_every: if > 0, also return the holdings every ``record_every`` steps.

    Returns:
        the final holdings (int64, length M, summing to E); with ``record_every``, also the recorded
        holdings (shape ``(steps // record_every, M)``).

    Examples:
        >>> h = gift_exchange(1000, mean=1, steps=200, rng=0)
        >>> int(h.sum()), bool(h.min() >= 0)
        (1000, True)
    """
    if agents < 2:
        raise ValueError(f"gift_exchange: need at least 2 agents to exchange, got {agents}")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    holdings = (np.full(agents, mean, dtype=np.int64) if initial is None
                else np.array(initial, dtype=np.int64).reshape(-1))
    if holdings.shape != (agents,) or holdings.min() < 0:
        raise ValueError(f"gift_exchange: initial holdings must be {agents} non-negative integers, "
                         f"got shape {holdings.shape}")
    pairs = agents // 2
    records = []
    for step in range(steps):
        order = rng.permutation(agents)[:2 * pairs].reshape(2, pairs)
        flip = rng.random(pairs) < 0.5
        giver = np.where(flip, order[0], order[1])
        taker = np.where(flip, order[1], order[0])
        moves = holdings[giver] > 0                       # an empty-handed giver gives nothing
        holdings[giver[moves]] -= 1                       # the agents of distinct pairs are distinct
        holdings[taker[moves]] += 1
        if record_every and (step + 1) % record_every == 0:
            records.append(holdings.copy())
    if record_every:
        return holdings, np.array(records, dtype=np.int64).reshape(-1, agents)
    return holdings


def wealth_distribution(holdings: npt.ArrayLike, max_n: int | None = None) -> np.ndarray:
    """The share of agents holding n = 0, 1, …, max_n units (pooled over every row of ``holdings``)."""
    h = np.asarray(holdings, dtype=np.int64).reshape(-1)
    counts = np.bincount(h, minlength=(max_n or h.max()) + 1)
    return counts[: (max_n if max_n is not None else h.max()) + 1] / h.size


def gift_exchange_stationary(n: npt.ArrayLike, mean: float = 1.0, agents: int | None = None) -> np.ndarray:
    """The stationary share P(n) of agents holding n units.

    With ``agents=None`` the Boltzmann (M → ∞) form (1 − q) qⁿ, q = m/(1 + m): 2^{−(n+1)} for m = 1, i.e.
    e^{−β n}/Z with β = ln 2. With M agents and E = m M units, the exact count over uniformly likely
    arrangements, C(E − n + M − 2, M − 2) / C(E + M − 1, M − 1).
    """
    n = np.asarray(n, dtype=np.float64)
    if agents is None:
        q = mean / (1 + mean)
        return (1 - q) * q ** n
    total = int(round(mean * agents))
    if not math.isclose(total, mean * agents):
        raise ValueError(f"gift_exchange_stationary: mean × agents must be a whole number of units, got {mean * agents}")

    def log_binomial(a, b):
        return log_factorial(a) - log_factorial(b) - log_factorial(a - b)

    valid = (n >= 0) & (n <= total)
    nn = np.where(valid, n, 0)
    return np.where(valid, np.exp(log_binomial(total - nn + agents - 2, agents - 2)
                                  - log_binomial(total + agents - 1, agents - 1)), 0.0)
