"""The gamma family of special functions in pure NumPy: ``lgamma``, ``digamma``, ``polygamma`` and the
regularised lower incomplete gamma function ``gammainc`` (NumPy has none of them; SciPy is not a
dependency).

Each kernel works in float64 on a flat copy of its input and returns the input's floating dtype
(float64 for integers), like :mod:`fukaku.ops._special`. Loops run over recurrence steps or series
terms, never over elements.

- ``lgamma(x) = log|Γ(x)|``: for x ≥ 0.5 the recurrence Γ(x + 1) = xΓ(x) lifts x to z ≥ 8, where
  Stirling's series (seven Bernoulli terms) is accurate to about 1e-15; for x < 0.5 the reflection
  Γ(x)Γ(1 − x) = π / sin(πx). Poles (0, −1, −2 …) give +inf, as PyTorch.
- ``digamma(x) = ψ(x) = Γ′(x)/Γ(x)``: ψ(x + 1) = ψ(x) + 1/x up to z ≥ 10, then the asymptotic
  series; ψ(x) = ψ(1 − x) − π/tan(πx) for x < 0.5. ψ(±0) = ∓inf and NaN at negative integers, as
  PyTorch.
- ``polygamma(n, x) = ψ⁽ⁿ⁾(x) = (−1)ⁿ⁺¹ n! ζ(n + 1, x)`` for n ≥ 1, with the Hurwitz zeta function
  summed directly up to z ≥ n + 12 and finished by its Euler–Maclaurin tail; at the poles
  (x = 0, −1, …) ±inf with the sign of the limit from the right, (−1)ⁿ⁺¹.
- ``gammainc(a, x) = P(a, x) = γ(a, x)/Γ(a)``: the power series for x < a + 1, else 1 − Q with Q
  from Lentz's continued fraction (*Numerical Recipes*, 3rd ed., §6.2), to about 1e-14.
"""
from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ..backends import array_module
from ._special import float64_flat

__all__ = ["lgamma", "digamma", "polygamma", "gammainc", "gammainc_grad_a", "standard_gamma_grad"]

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
# Bernoulli numbers B₂ₖ, k = 1 … 8
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)


def _sin_pi_abs(x: np.ndarray) -> np.ndarray:
    """|sin(πx)|, exact at the integers (|sin πx| has period 1, and the fraction of x is exact)."""
    xp = array_module(x)
    return xp.sin(math.pi * (x - xp.floor(x)))


def _lift(z: np.ndarray, bound: float, term) -> tuple[np.ndarray, np.ndarray]:
    """The recurrences' common step: raise each entry of ``z`` by 1 until it reaches ``bound``, summing
    ``term`` of the values passed on the way; returns (lifted z, the sums). Loops over steps, not elements."""
    xp = array_module(z)
    z = z.copy()
    total = xp.zeros_like(z)
    low = z < bound
    while low.any():
        total[low] += term(z[low])
        z[low] += 1.0
        low = z < bound
    return z, total


def _lgamma_positive(z: np.ndarray) -> np.ndarray:
    """log Γ(z) for finite z ≥ 0.5."""
    xp = array_module(z)
    z, log_product = _lift(z, 8.0, xp.log)  # log Γ(z) = log Γ(z + k) − Σ log(z + i)
    inv = 1.0 / z
    inv2 = inv * inv
    series = xp.zeros_like(z)
    for k in range(7, 0, -1):  # Σ B₂ₖ / (2k(2k − 1) z²ᵏ⁻¹), Horner in 1/z²
        series = series * inv2 + _BERNOULLI[k - 1] / (2 * k * (2 * k - 1))
    return (z - 0.5) * xp.log(z) - z + _HALF_LOG_2PI + series * inv - log_product


def lgamma(x: npt.ArrayLike) -> np.ndarray:
    """log|Γ(x)| elementwise; +inf at 0, the negative integers and ±inf; NaN stays NaN."""
    flat, shape, out_dtype = float64_flat(x, "lgamma")
    xp = array_module(flat)
    out = xp.full(flat.shape, np.inf)
    out[xp.isnan(flat)] = np.nan
    finite = xp.isfinite(flat)
    pole = finite & (flat <= 0) & (flat == xp.floor(flat))
    right = finite & (flat >= 0.5)
    out[right] = _lgamma_positive(flat[right])
    left = finite & (flat < 0.5) & ~pole
    if left.any():
        v = flat[left]
        with np.errstate(divide="ignore"):
            out[left] = math.log(math.pi) - xp.log(_sin_pi_abs(v)) - _lgamma_positive(1.0 - v)
    return out.reshape(shape).astype(out_dtype, copy=False)


def _digamma_positive(z: np.ndarray) -> np.ndarray:
    """ψ(z) for finite z ≥ 0.5."""
    xp = array_module(z)
    z, shift = _lift(z, 10.0, xp.reciprocal)  # ψ(z) = ψ(z + k) − Σ 1/(z + i)
    inv2 = 1.0 / (z * z)
    series = xp.zeros_like(z)
    for k in range(7, 0, -1):  # Σ B₂ₖ / (2k z²ᵏ)
        series = series * inv2 + _BERNOULLI[k - 1] / (2 * k)
    return xp.log(z) - 0.5 / z - series * inv2 - shift


def digamma(x: npt.ArrayLike) -> np.ndarray:
    """ψ(x) = d/dx log Γ(x) elementwise: ψ(0) = −inf, ψ(−0) = +inf, NaN at negative integers and −inf,
    +inf at +inf (PyTorch's values)."""
    flat, shape, out_dtype = float64_flat(x, "digamma")
    xp = array_module(flat)
    out = xp.full(flat.shape, np.nan)
    out[flat == np.inf] = np.inf
    zero = flat == 0
    out[zero] = xp.where(xp.signbit(flat[zero]), np.inf, -np.inf)
    finite = xp.isfinite(flat) & ~zero
    right = finite & (flat >= 0.5)
    out[right] = _digamma_positive(flat[right])
    left = finite & (flat < 0.5) & (flat != xp.floor(flat))
    if left.any():
        v = flat[left]
        # tan(πv) has period 1: reduce v to [−½, ½] first, so that tan is accurate near the poles
        out[left] = _digamma_positive(1.0 - v) - math.pi / xp.tan(math.pi * (v - xp.round(v)))
    return out.reshape(shape).astype(out_dtype, copy=False)


def _hurwitz_zeta(s: int, q: np.ndarray) -> np.ndarray:
    """ζ(s, q) = Σₖ (q + k)⁻ˢ for an integer s ≥ 2 and finite q that is not a non-positive integer."""
    # lift q to where the tail's terms shrink fast, ((s + 2j)/(2πq))² ≪ 1: ⌈s + 12 − min q⌉ steps
    q, total = _lift(q, s + 12.0, lambda v: v ** -s)
    # Euler–Maclaurin tail: q¹⁻ˢ/(s − 1) + q⁻ˢ/2 + Σⱼ B₂ⱼ/(2j)! · s(s+1)…(s+2j−2) · q⁻ˢ⁻²ʲ⁺¹
    inv = 1.0 / q
    term = q ** -s * inv  # q^(−s−1)
    tail = q ** (1.0 - s) / (s - 1) + 0.5 * q ** -s
    rising = float(s)  # s(s+1)…(s+2j−2)
    factorial = 2.0  # (2j)!
    for j in range(1, len(_BERNOULLI) + 1):
        tail += (_BERNOULLI[j - 1] / factorial * rising) * term
        term = term * inv * inv
        rising *= (s + 2 * j - 1) * (s + 2 * j)
        factorial *= (2 * j + 1) * (2 * j + 2)
    return total + tail


def polygamma(n: int, x: npt.ArrayLike) -> np.ndarray:
    """ψ⁽ⁿ⁾(x), the n-th derivative of the digamma function, elementwise (n = 0 is :func:`digamma`)."""
    if n == 0:
        return digamma(x)
    if n < 0:
        raise ValueError(f"polygamma: n must be a non-negative integer, got {n}")
    flat, shape, out_dtype = float64_flat(x, "polygamma")
    xp = array_module(flat)
    sign = 1.0 if n % 2 else -1.0  # (−1)ⁿ⁺¹
    out = xp.full(flat.shape, np.nan)
    out[flat == np.inf] = 0.0
    finite = xp.isfinite(flat)
    pole = finite & (flat <= 0) & (flat == xp.floor(flat))
    out[pole] = sign * np.inf
    regular = finite & ~pole
    out[regular] = sign * math.factorial(n) * _hurwitz_zeta(n + 1, flat[regular])
    return out.reshape(shape).astype(out_dtype, copy=False)


def _lower_series(a: np.ndarray, x: np.ndarray, iterations: int) -> np.ndarray:
    """P(a, x) by its power series P = xᵃe⁻ˣ/Γ(a) · Σₖ xᵏ/(a(a+1)…(a+k)), for finite a > 0, x > 0 (fast for
    x < a + 1, where it is used)."""
    xp = array_module(a, x)
    term = 1.0 / a
    total = term.copy()
    denominator = a.copy()
    for _ in range(iterations):
        denominator = denominator + 1.0
        term = term * x / denominator
        total += term
        if (xp.abs(term) <= xp.abs(total) * 1e-17).all():
            break
    return total * xp.exp(a * xp.log(x) - x - lgamma(a))


def _upper_fraction(a: np.ndarray, x: np.ndarray, iterations: int) -> np.ndarray:
    """Q(a, x) = 1 − P(a, x) by its continued fraction (modified Lentz), for finite a > 0, x > 0 (fast
    for x ≥ a + 1, where it is used)."""
    xp = array_module(a, x)
    tiny = 1e-300
    b = x + 1.0 - a
    c = xp.full(a.shape, 1.0 / tiny)
    d = 1.0 / xp.where(xp.abs(b) < tiny, tiny, b)
    h = d.copy()
    for i in range(1, iterations + 1):
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = xp.where(xp.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = xp.where(xp.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        delta = d * c
        h = h * delta
        if (xp.abs(delta - 1.0) <= 1e-16).all():
            break
    return xp.exp(a * xp.log(x) - x - lgamma(a)) * h


def _iterations(a: np.ndarray) -> int:
    """Enough terms for the series and the continued fraction: both need O(√a) of them near x ≈ a."""
    return 200 + int(12 * math.sqrt(float(a.max()))) if a.size else 0


def gammainc(a: npt.ArrayLike, x: npt.ArrayLike) -> np.ndarray:
    """P(a, x) = γ(a, x)/Γ(a), the regularised lower incomplete gamma function, for a > 0, x ≥ 0 (the
    CDF of Gamma(a, 1) at x); broadcasts ``a`` with ``x``; float64. NaN outside the domain."""
    xp = array_module(a, x)
    a, x = xp.broadcast_arrays(xp.asarray(a, dtype=np.float64), xp.asarray(x, dtype=np.float64))
    shape = a.shape
    a, x = a.reshape(-1), x.reshape(-1)
    out = xp.full(a.shape, np.nan)
    ok = (a > 0) & (x >= 0) & xp.isfinite(a)
    out[ok & (x == 0)] = 0.0
    out[ok & (x == np.inf)] = 1.0
    inner = ok & (x > 0) & xp.isfinite(x)
    series = inner & (x < a + 1.0)
    if series.any():
        out[series] = _lower_series(a[series], x[series], _iterations(a[series]))
    fraction = inner & (x >= a + 1.0)
    if fraction.any():
        out[fraction] = 1.0 - _upper_fraction(a[fraction], x[fraction], _iterations(a[fraction]))
    return out.reshape(shape)


def gammainc_grad_a(alpha: npt.ArrayLike, z: npt.ArrayLike) -> np.ndarray:
    """∂P(α, z)/∂α for z > 0, in float64 (broadcast shapes): a central difference (step 1e-5·max(α, 1)) of the
    branch that is accurate at (α, z), the series for P when z < α + 1, the continued fraction for Q = 1 − P
    otherwise, so both tails keep their relative accuracy."""
    xp = array_module(alpha, z)
    a, x = xp.broadcast_arrays(xp.asarray(alpha, dtype=np.float64), xp.asarray(z, dtype=np.float64))
    shape = a.shape
    a, x = a.reshape(-1), x.reshape(-1)
    out = xp.zeros(a.shape)
    h = 1e-5 * xp.maximum(a, 1.0)
    low = x < a + 1.0
    if low.any():
        al, xl, hl = a[low], x[low], h[low]
        n = _iterations(al + hl)
        out[low] = (_lower_series(al + hl, xl, n) - _lower_series(al - hl, xl, n)) / (2 * hl)
    high = ~low
    if high.any():
        ah, xh, hh = a[high], x[high], h[high]
        n = _iterations(ah + hh)
        out[high] = -(_upper_fraction(ah + hh, xh, n) - _upper_fraction(ah - hh, xh, n)) / (2 * hh)
    return out.reshape(shape)


def standard_gamma_grad(alpha: npt.ArrayLike, z: npt.ArrayLike) -> np.ndarray:
    """dz/dα for a Gamma(α, 1) draw z held at a fixed quantile: −(∂P(α, z)/∂α) / p(z; α), the implicit
    reparameterisation gradient (Figurnov et al. 2018), in float64 (broadcast shapes); ∂P/∂α by
    :func:`gammainc_grad_a`, p(z; α) = z^(α−1) e^(−z) / Γ(α)."""
    xp = array_module(alpha, z)
    a, x = xp.broadcast_arrays(xp.asarray(alpha, dtype=np.float64), xp.asarray(z, dtype=np.float64))
    return -gammainc_grad_a(a, x) / xp.exp((a - 1.0) * xp.log(x) - x - lgamma(a))
