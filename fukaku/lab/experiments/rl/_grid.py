"""What the tabular RL experiments share: gridworld maps (the default one, random mazes) and a drawing of a
gridworld's values with its policy as arrows."""
from __future__ import annotations

import numpy as np

from fukaku.rl import FiniteMDP
from fukaku.rl.gridworld import DEFAULT_LAYOUT

# the default map with episodes starting anywhere (Q-learning's exploring starts need every state reachable)
LAYOUT = tuple(row.replace("S", ".") for row in DEFAULT_LAYOUT)
_ARROWS = {0: (0.0, -0.3), 1: (0.3, 0.0), 2: (0.0, 0.3), 3: (-0.3, 0.0)}   # up, right, down, left (x, y on screen)


def optimal_action_mask(q_star: np.ndarray, scale: float) -> np.ndarray:
    """(S, A) booleans: the actions that are optimal (within rounding) in each state."""
    return q_star >= q_star.max(1, keepdims=True) - 1e-9 * scale


def random_layout(rows: int, cols: int, rng: np.random.Generator, walls: float = 0.2, pits: int = 3) -> list[str]:
    """A random map: walls with probability ``walls``, ``pits`` pits, the goal in the bottom-right corner, the
    top-left corner free; walls that would cut a free cell off from the goal are removed (a flood fill)."""
    grid = np.where(rng.random((rows, cols)) < walls, "#", ".")
    grid[0, 0], grid[-1, -1] = ".", "G"
    free = np.argwhere(grid == ".")
    for r, c in free[rng.choice(len(free), size=pits, replace=False)]:
        if (r, c) != (0, 0):
            grid[r, c] = "X"
    while True:   # flood from the goal through free cells; open a wall next to the reached region until all connect
        reached = np.zeros(grid.shape, dtype=bool)
        reached[-1, -1] = True
        frontier = [(rows - 1, cols - 1)]
        while frontier:
            r, c = frontier.pop()
            for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                rr, cc = r + dr, c + dc
                if 0 <= rr < rows and 0 <= cc < cols and not reached[rr, cc] and grid[rr, cc] == ".":
                    reached[rr, cc] = True
                    frontier.append((rr, cc))
        cut = (grid == ".") & ~reached
        if not cut.any():
            return ["".join(row) for row in grid]
        walls_next = np.argwhere(grid == "#")
        near = [(r, c) for r, c in walls_next
                if any(0 <= r + dr < rows and 0 <= c + dc < cols and reached[r + dr, c + dc]
                       for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)))]
        r, c = near[rng.integers(len(near))]
        grid[r, c] = "."


def draw_gridworld(ax, mdp: FiniteMDP, values: np.ndarray, policy: np.ndarray | None, title: str,
                   wrong: np.ndarray | None = None) -> None:
    """The gridworld's cells coloured by ``values`` (walls black), the policy's action as an arrow in each
    non-terminal cell (red where ``wrong``), goals and pits labelled."""
    from matplotlib import colormaps   # only here: drawing needs the lab's plotting extra

    cells = np.array(mdp.states)
    shape = cells.max(0) + 1
    image = np.full(tuple(shape), np.nan)
    image[cells[:, 0], cells[:, 1]] = values
    im = ax.imshow(image, cmap=colormaps["viridis"].with_extremes(bad="black"))
    ax.figure.colorbar(im, ax=ax, shrink=0.8, label="value")
    for s, (r, c) in enumerate(cells):
        if mdp.terminal[s]:
            label = "G" if mdp.R[:, s].max() > 0 else "X"
            ax.text(c, r, label, ha="center", va="center", color="white", fontsize=10, fontweight="bold")
        elif policy is not None:
            dx, dy = _ARROWS[int(policy[s])]
            color = "red" if wrong is not None and wrong[s] else "white"
            ax.arrow(c - dx / 2, r - dy / 2, dx, dy, head_width=0.18, length_includes_head=True, color=color)
    ax.set(title=title, xticks=[], yticks=[])
