"""The Boltzmann distribution as the most probable occupation (seed 002 ch. 5): N particles (the text's M
agents) spread over levels ε_i with n_i in level i can be arranged in W = N! / Π n_i! ways; maximising
log W under fixed Σ n_i = N and Σ n_i ε_i = E gives, with Stirling's log n! ≈ n log n − n, exactly
n_i = N e^{−β ε_i} / Z, β being the Lagrange multiplier of the energy. Here log W is maximised numerically
(Newton's method on the constraint surface), either in the text's Stirling form or with the exact
log n! = log Γ(n + 1) (n taken as real), whose maximiser approaches the Boltzmann form as N grows."""
from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ..ops._gamma import digamma, polygamma
from .stirling import log_factorial

__all__ = ["log_multiplicity", "boltzmann_beta", "boltzmann_occupations", "max_entropy_occupations"]


def log_multiplicity(occupations: npt.ArrayLike, stirling: bool = False) -> np.ndarray:
    """log W = log N! − Σ_i log n_i! of occupations n (along the last axis; N = Σ n_i).

    ``stirling=True`` gives the text's approximation N log N − Σ n_i log n_i (the entropy times N).
    """
    n = np.asarray(occupations, dtype=np.float64)
    total = n.sum(axis=-1)
    if stirling:
        with np.errstate(divide="ignore", invalid="ignore"):
            xlogx = np.where(n > 0, n * np.log(np.where(n > 0, n, 1.0)), 0.0)
            return np.where(total > 0, total * np.log(np.where(total > 0, total, 1.0)), 0.0) - xlogx.sum(axis=-1)
    return log_factorial(total) - log_factorial(n).sum(axis=-1)


def boltzmann_occupations(energies: npt.ArrayLike, beta: float, total: float = 1.0) -> np.ndarray:
    """N e^{−β ε_i} / Z: the Boltzmann form of the occupations (float64, stable for any β)."""
    x = -beta * np.asarray(energies, dtype=np.float64)
    w = np.exp(x - x.max())
    return total * w / w.sum()


def boltzmann_beta(energies: npt.ArrayLike, mean_energy: float, iterations: int = 200) -> float:
    """The β at which the Boltzmann distribution over ``energies`` has mean energy ``mean_energy``.

    The mean energy falls monotonically with β, so bisection finds it (negative β when the mean is above
    the levels' average). Raises ValueError when ``mean_energy`` is not strictly between the lowest and
    the highest level.
    """
    e = np.asarray(energies, dtype=np.float64)
    if not e.min() < mean_energy < e.max():
        raise ValueError(f"boltzmann_beta: mean energy {mean_energy} must lie strictly between the lowest "
                         f"({e.min()}) and the highest ({e.max()}) level")
    scale = 1.0 / (e.max() - e.min())
    lo, hi = -1.0, 1.0
    while boltzmann_occupations(e, lo) @ e < mean_energy and lo > -1e6:
        lo *= 2
    while boltzmann_occupations(e, hi) @ e > mean_energy and hi < 1e6:
        hi *= 2
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        if boltzmann_occupations(e, mid) @ e > mean_energy:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-15 * scale:
            break
    return 0.5 * (lo + hi)


def _feasible_start(e: np.ndarray, constraints: np.ndarray, total: float, energy: float) -> np.ndarray:
    """A strictly interior point of {n : Σ n = N, Σ n ε = E} that is not the answer: the uniform occupation
    projected onto the constraints, moved towards an interior point (the Boltzmann form, also feasible) only
    as far as needed to keep every n_i above half of that point's value."""
    target = np.array([total, energy])
    uniform = np.full_like(e, total / e.size)
    projected = uniform + constraints.T @ np.linalg.solve(constraints @ constraints.T, target - constraints @ uniform)
    interior = boltzmann_occupations(e, boltzmann_beta(e, energy / total), total)
    mix = 1.0
    while np.any(mix * projected + (1 - mix) * interior <= 0.5 * interior) and mix > 1e-6:
        mix *= 0.5
    return mix * projected + (1 - mix) * interior


def max_entropy_occupations(energies: npt.ArrayLike, total: float, energy: float, stirling: bool = False,
                            tol: float = 1e-12, max_iter: int = 100) -> np.ndarray:
    """The occupations n that maximise log W = log N!/Π n_i! subject to Σ n_i = N and Σ n_i ε_i = E.

    log W is concave in n (log Γ(n + 1) is convex), so Newton's method on the constraint surface, started
    from a feasible point and with a backtracking step, converges to the unique maximiser (the start is not the Boltzmann form: the uniform occupation projected
    onto the constraints, pulled inside the domain when needed). The n_i are
    real numbers (log n! = log Γ(n + 1)); ``stirling=True`` maximises the text's N log N − Σ n_i log n_i
    instead, whose maximiser is the Boltzmann form exactly.

    Args:
        energies: the levels ε_i (1-D).
        total: N, the number of particles (or the text's agents).
        energy: E, the total energy; E/N strictly between the lowest and the highest level.
        stirling: maximise the Stirling form instead of the exact log W.
        tol: stop when the Newton step is below ``tol`` × N.
        max_iter: at most this many Newton steps.

    Returns:
        the maximising occupations (float64, same length as ``energies``); compare with
        :func:`boltzmann_occupations` at :func:`boltzmann_beta`.

    Examples:
        >>> n = max_entropy_occupations([0, 1, 2, 3], total=1000, energy=800, stirling=True)
        >>> bool(np.allclose(n, boltzmann_occupations([0, 1, 2, 3], boltzmann_beta([0, 1, 2, 3], 0.8), 1000)))
        True
    """
    e = np.asarray(energies, dtype=np.float64)
    if e.ndim != 1 or e.size < 3:
        raise ValueError(f"max_entropy_occupations: energies must be 1-D with at least 3 levels (two "
                         f"constraints leave nothing to maximise otherwise), got shape {e.shape}")
    constraints = np.stack([np.ones_like(e), e])                     # A n = (N, E)
    n = _feasible_start(e, constraints, total, energy)

    def objective(n):
        return log_multiplicity(n, stirling)

    def in_domain(n):
        return bool(np.all(n > 0)) if stirling else bool(np.all(n > -1))

    k = e.size
    kkt = np.zeros((k + 2, k + 2))
    kkt[:k, k:], kkt[k:, :k] = constraints.T, constraints
    for _ in range(max_iter):
        if stirling:
            grad, curvature = -(np.log(n) + 1), 1 / n
        else:
            grad, curvature = -digamma(n + 1), polygamma(1, n + 1)
        kkt[:k, :k] = np.diag(curvature)                             # −Hessian, positive definite
        step = np.linalg.solve(kkt, np.concatenate([grad, np.zeros(2)]))[:k]
        t, current = 1.0, objective(n)
        while (not in_domain(n + t * step) or objective(n + t * step) < current - 1e-12 * abs(current)) and t > 1e-10:
            t *= 0.5
        n = n + t * step
        if np.abs(t * step).max() < tol * total:
            break
    return n
