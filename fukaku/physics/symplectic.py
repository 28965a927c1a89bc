"""A symplectic integrator beside explicit Euler, on the harmonic oscillator H = p²/2m + kq²/2.

The leapfrog (Störmer–Verlet, kick–drift–kick) step preserves phase-space area, so its energy error stays
bounded (O(dt²), oscillating; it conserves a nearby "shadow" energy exactly for this H) however long it
runs, while explicit Euler multiplies the energy by exactly 1 + (k/m) dt² every step and spirals outwards.
The integrators use only arithmetic, so they run on NumPy arrays or fukaku tensors (differentiably), with
a batch of oscillators in one call.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..ops.shape import stack as _stack
from ..tensor import Tensor

__all__ = ["oscillator_energy", "oscillator_force", "leapfrog", "euler", "leapfrog_shadow_energy"]


def oscillator_energy(q, p, mass: float = 1.0, stiffness: float = 1.0):
    """H = p²/(2m) + k q²/2 (elementwise)."""
    return p * p / (2 * mass) + stiffness * q * q / 2


def oscillator_force(stiffness: float = 1.0) -> Callable:
    """The force −∂H/∂q = −k q of the oscillator, as a function of q."""
    return lambda q: -stiffness * q


def leapfrog_shadow_energy(q, p, dt: float, mass: float = 1.0, stiffness: float = 1.0):
    """The quantity the leapfrog step conserves exactly for the oscillator (at whole steps):
    p²/(2m) + k q²/2 (1 − ω² dt²/4), ω² = k/m — within O(dt²) of H."""
    return p * p / (2 * mass) + stiffness * q * q / 2 * (1 - stiffness / mass * dt * dt / 4)


def _trajectory(qs: list, ps: list):
    if isinstance(qs[0], Tensor):
        return _stack(qs), _stack(ps)
    return np.stack(qs), np.stack(ps)


def _check(dt: float, steps: int, mass: float) -> None:
    if not dt > 0 or steps < 0 or not mass > 0:
        raise ValueError(f"integrator: need dt > 0, steps ≥ 0 and mass > 0, got dt={dt}, steps={steps}, mass={mass}")


def leapfrog(q0, p0, dt: float, steps: int, force: Callable | None = None, mass: float = 1.0):
    """Störmer–Verlet (kick–drift–kick): p ← p + F(q) dt/2, q ← q + p dt/m, p ← p + F(q) dt/2.

    Args:
        q0, p0: the initial positions and momenta (arrays or tensors of one shape: a batch of systems).
        dt: the time step.
        steps: the number of steps.
        force: F(q) = −∂V/∂q; default the oscillator's −q (k = 1).
        mass: m.

    Returns:
        (q, p) trajectories, shape (steps + 1, *q0.shape), the initial state first.
    """
    _check(dt, steps, mass)
    force = force or oscillator_force()
    q, p = q0, p0
    qs, ps = [q], [p]
    f = force(q)
    for _ in range(steps):
        p = p + 0.5 * dt * f
        q = q + dt * p / mass
        f = force(q)
        p = p + 0.5 * dt * f
        qs.append(q)
        ps.append(p)
    return _trajectory(qs, ps)


def euler(q0, p0, dt: float, steps: int, force: Callable | None = None, mass: float = 1.0):
    """Explicit Euler: q ← q + p dt/m and p ← p + F(q) dt, both from the old state (not symplectic).

    Arguments and returns as :func:`leapfrog`.
    """
    _check(dt, steps, mass)
    force = force or oscillator_force()
    q, p = q0, p0
    qs, ps = [q], [p]
    for _ in range(steps):
        q, p = q + dt * p / mass, p + dt * force(q)
        qs.append(q)
        ps.append(p)
    return _trajectory(qs, ps)
