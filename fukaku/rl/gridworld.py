"""A gridworld as a finite MDP (seed 002 ch. 4): walls, a goal, pits, and an optional slip probability."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .mdp import FiniteMDP

__all__ = ["gridworld", "GRID_ACTIONS"]

GRID_ACTIONS = ("up", "right", "down", "left")
_MOVES = np.array([(-1, 0), (0, 1), (1, 0), (0, -1)])

DEFAULT_LAYOUT = (     # every free cell reaches the goal; the short ways pass next to pits
    "S..#....",
    ".#...#X.",
    "...X.#..",
    ".#.#...#",
    "...#.X.G",
)


def gridworld(layout: Sequence[str] = DEFAULT_LAYOUT, *, slip: float = 0.0, gamma: float = 0.95,
              goal_reward: float = 1.0, pit_reward: float = -1.0, step_reward: float = 0.0) -> FiniteMDP:
    """A gridworld MDP from a map of characters.

    Each string of ``layout`` is a row: ``.`` a free cell, ``#`` a wall, ``G`` a goal (entering it earns
    ``goal_reward`` and ends the episode), ``X`` a pit (``pit_reward``, ends the episode), ``S`` the start (if no
    cell is ``S``, episodes start uniformly on the free cells). The actions are up, right, down, left
    (:data:`GRID_ACTIONS`); a move into a wall or off the map leaves the agent where it is. With probability
    ``slip`` the agent slips to one of the two perpendicular directions (``slip/2`` each). Every other transition
    earns ``step_reward``. The rewards depend on the transition only: R(s,s'), the book's form.

    Args:
        layout: rows of equal length.
        slip: the slip probability, 0 ≤ slip ≤ 1.
        gamma: the discount γ.
        goal_reward, pit_reward, step_reward: R(s,s') for entering a goal, entering a pit, any other move.

    Returns:
        a :class:`FiniteMDP` whose ``states`` are the ``(row, column)`` of the non-wall cells (row-major order) and
        whose goals and pits are terminal (absorbing, reward 0).

    Example::

        >>> mdp = gridworld(["S.G"], gamma=0.9)
        >>> mdp.num_states, mdp.num_actions
        (3, 4)
    """
    rows = [str(row) for row in layout]
    if not rows or len({len(row) for row in rows}) != 1 or not rows[0]:
        raise ValueError(f"gridworld: layout must be non-empty rows of equal length, got lengths "
                         f"{[len(row) for row in rows]}")
    grid = np.array([list(row) for row in rows])
    unknown = set(grid.ravel()) - set(".#GXS")
    if unknown:
        raise ValueError(f"gridworld: unknown cell character(s) {sorted(unknown)}; use . # G X S")
    if not 0.0 <= slip <= 1.0:
        raise ValueError(f"gridworld: slip is a probability in [0, 1], got {slip}")
    cells = np.argwhere(grid != "#")                                # (S, 2) in row-major order
    index = -np.ones(grid.shape, dtype=np.int64)
    index[cells[:, 0], cells[:, 1]] = np.arange(len(cells))
    kind = grid[cells[:, 0], cells[:, 1]]
    terminal = (kind == "G") | (kind == "X")
    # where each (cell, direction) move lands: blocked by walls and the border
    target = cells[:, None, :] + _MOVES[None, :, :]                  # (S, 4, 2)
    inside = ((target >= 0) & (target < grid.shape)).all(-1)
    clipped = np.where(inside[..., None], target, 0)
    landing = np.where(inside, index[clipped[..., 0], clipped[..., 1]], -1)
    landing = np.where(landing < 0, np.arange(len(cells))[:, None], landing)   # (S, 4): next state per direction
    # action a moves in direction a with 1 − slip, in a ± 1 (the perpendiculars) with slip/2 each
    s_count, a_count = len(cells), len(GRID_ACTIONS)
    T = np.zeros((s_count, a_count, s_count))
    states = np.arange(s_count)[:, None]
    for offset, p in ((0, 1.0 - slip), (1, slip / 2), (-1, slip / 2)):
        direction = (np.arange(a_count) + offset) % a_count          # (A,)
        np.add.at(T, (states, np.arange(a_count)[None, :], landing[:, direction]), p)
    ends = np.flatnonzero(terminal)
    T[ends] = 0.0
    T[ends, :, ends] = 1.0                                           # goals and pits absorb
    R = np.full((s_count, s_count), float(step_reward))
    R[:, kind == "G"] = goal_reward
    R[:, kind == "X"] = pit_reward
    R[terminal] = 0.0
    start_cells = kind == "S"
    start = start_cells / start_cells.sum() if start_cells.any() else None
    return FiniteMDP(T=T, R=R, gamma=gamma, terminal=terminal, start=start,
                     states=[tuple(int(x) for x in c) for c in cells], actions=GRID_ACTIONS)
