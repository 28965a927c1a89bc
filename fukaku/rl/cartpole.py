"""CartPole-v1 environments: gymnasium's (the optional extra ``rl``) and a NumPy twin of its dynamics.

Policy-gradient training here talks to a *vector* environment with gymnasium's API: ``reset(seed=...)``
returns ``(obs, info)`` with ``obs`` of shape ``(num_envs, 4)``, and ``step(actions)`` returns
``(obs, reward, terminated, truncated, info)``, one entry per environment. :func:`make_cartpole` builds
gymnasium's own vectorised CartPole-v1; :class:`CartPoleTwin` integrates the same equations (Barto, Sutton &
Anderson's cart-pole, Euler steps of 0.02 s, the pole failing past ±12° or the cart past ±2.4, the episode
truncated at 500 steps, reward 1 per step) so the lab's CartPole experiments also run where gymnasium is not
installed.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["require_gymnasium", "make_cartpole", "CartPoleTwin"]

CARTPOLE_MAX_STEPS = 500


def require_gymnasium():
    """``import gymnasium``, or an ImportError that says how to install it."""
    try:
        import gymnasium
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("fukaku.rl: this needs gymnasium, the optional extra for reinforcement learning: "
                          "pip install 'fukaku[rl]'") from exc
    return gymnasium


def make_cartpole(num_envs: int = 1, *, backend: str = "gymnasium"):
    """``num_envs`` CartPole-v1 environments stepped together.

    Args:
        num_envs: how many environments (one row of ``obs`` each).
        backend: ``"gymnasium"`` (its vectorised CartPole-v1; needs ``pip install 'fukaku[rl]'``), ``"twin"``
            (:class:`CartPoleTwin`, NumPy only) or ``"auto"`` (gymnasium when installed, else the twin).

    Raises:
        ImportError: with ``backend="gymnasium"`` when gymnasium is missing, naming ``pip install 'fukaku[rl]'``.
    """
    if backend not in ("gymnasium", "twin", "auto"):
        raise ValueError(f"make_cartpole: backend must be 'gymnasium', 'twin' or 'auto', got {backend!r}")
    if backend == "twin":
        return CartPoleTwin(num_envs)
    try:
        gym = require_gymnasium()
    except ImportError:
        if backend == "auto":
            return CartPoleTwin(num_envs)
        raise
    return gym.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="vector_entry_point")


class CartPoleTwin:
    """CartPole-v1 for ``num_envs`` environments in NumPy, with gymnasium's equations and constants and its vector
    API (``reset``, ``step``, ``num_envs``). It does not reset an environment by itself: after one ends, its rows
    are meaningless until the next ``reset`` (the trainers here mask them, as they mask gymnasium's autoreset
    step)."""

    gravity, masscart, masspole, length, force_mag, tau = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
    theta_threshold, x_threshold = 12 * 2 * np.pi / 360, 2.4

    def __init__(self, num_envs: int = 1) -> None:
        self.num_envs = int(num_envs)
        self.state = np.zeros((self.num_envs, 4))
        self.steps = np.zeros(self.num_envs, dtype=np.int64)
        self._rng = np.random.default_rng()

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[np.ndarray, dict]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.state = self._rng.uniform(-0.05, 0.05, size=(4, self.num_envs)).T   # gymnasium's draw, seed for seed
        self.steps[:] = 0
        return self.state.astype(np.float32), {}

    def step(self, actions) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        x, x_dot, theta, theta_dot = self.state.T
        force = np.where(np.asarray(actions) == 1, self.force_mag, -self.force_mag)
        cos, sin = np.cos(theta), np.sin(theta)
        total_mass = self.masspole + self.masscart
        polemass_length = self.masspole * self.length
        temp = (force + polemass_length * theta_dot ** 2 * sin) / total_mass
        theta_acc = (self.gravity * sin - cos * temp) / (
            self.length * (4.0 / 3.0 - self.masspole * cos ** 2 / total_mass))
        x_acc = temp - polemass_length * theta_acc * cos / total_mass
        self.state = np.stack([x + self.tau * x_dot, x_dot + self.tau * x_acc,
                               theta + self.tau * theta_dot, theta_dot + self.tau * theta_acc], axis=1)
        self.steps += 1
        x, theta = self.state[:, 0], self.state[:, 2]
        terminated = (np.abs(x) > self.x_threshold) | (np.abs(theta) > self.theta_threshold)
        truncated = self.steps >= CARTPOLE_MAX_STEPS
        return (self.state.astype(np.float32), np.ones(self.num_envs, dtype=np.float32), terminated, truncated, {})

    def close(self) -> None:
        """Nothing to release (gymnasium's API)."""
