"""Stirling's approximation log n! ≈ n log n − n, which turns log W = log N!/Π n_i! into an entropy
−Σ n_i log(n_i/N) and so yields the Boltzmann distribution (seed 002 ch. 5)."""
from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ..ops._gamma import lgamma

__all__ = ["log_factorial", "stirling_log_factorial", "stirling_error"]


def log_factorial(n: npt.ArrayLike) -> np.ndarray:
    """log n! = log Γ(n + 1), exact to rounding for any real n ≥ 0 (elementwise, float64)."""
    return lgamma(np.asarray(n, dtype=np.float64) + 1)


def stirling_log_factorial(n: npt.ArrayLike, correction: bool = False) -> np.ndarray:
    """Stirling's approximation of log n!: n log n − n, the text's form (0 log 0 = 0), or with
    ``correction=True`` n log n − n + ½ log(2πn), whose error falls as 1/(12 n)."""
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(n > 0, n * np.log(np.where(n > 0, n, 1.0)) - n, 0.0)
        if correction:
            value = value + np.where(n > 0, 0.5 * np.log(2 * np.pi * np.where(n > 0, n, 1.0)), 0.0)
    return value


def stirling_error(n: npt.ArrayLike, correction: bool = False, relative: bool = False) -> np.ndarray:
    """log n! − Stirling's value: ≈ ½ log(2πn) for the text's form (so its relative error → 0 as n grows),
    ≈ 1/(12 n) with ``correction=True``. ``relative=True`` divides by log n! (n ≥ 2).

    Examples:
        >>> round(float(stirling_error(100, correction=True)), 7)    # ≈ 1 / 1200
        0.0008333
    """
    exact = log_factorial(n)
    error = exact - stirling_log_factorial(n, correction)
    return error / exact if relative else error
