"""CDMA multi-user detection, the Hopfield network's twin — seed 000 §6.1.6 (L412–472).

K users share one channel. User k spreads its bit b_k ∈ {±1} over L chips with a random code s_k ∈ {±1}^L;
the receiver sees the sum (seed 000 writes r = Σ_μ a_μ s^μ + n)

    y = Σ_k b_k s_k / √L + n,     n ~ N(0, σ² I),   σ² = 1 / (2 · SNR)

(codes normalised to unit energy, SNR = E_b/N_0 per user, so one user alone has BER = Q(√(2 SNR))). The
matched filter correlates with each code, z = S y / √L = R b + S n / √L with R = S Sᵀ / L, and decides
b̂ = sgn(z): the other users' overlaps R_kl (k ≠ l) leak in as multiple-access interference that grows with the
load β = K/L. Maximum-likelihood detection minimises ‖y − Σ b_k s_k/√L‖² = bᵀRb − 2zᵀb + const, which is a
Hopfield energy −½ bᵀWb + θᵀb with W = −(R − diag R) (the code overlaps play the role of w_ij) and θ = −z:
bit estimation is associative recall. :func:`iterative_detector` runs that network's dynamics from the
matched filter's decisions (each update is one step of interference cancellation, b_k ← sgn(z_k − Σ_{l≠k}
R_kl b_l)), asynchronously (the energy never increases) or in parallel (parallel interference cancellation).

Vectorised over symbols: bits ``(B, K)``, signals ``(B, L)``.
"""
from __future__ import annotations

import math

import numpy as np

from ..._generator import resolve_generator
from ...errors import ShapeError
from ...tensor import Tensor, wrap
from .hopfield import _array, _check_spins, hopfield_recall

__all__ = ["spreading_codes", "cdma_signal", "noise_std", "matched_filter", "iterative_detector",
           "bit_error_rate", "single_user_ber"]


def spreading_codes(num_users: int, length: int, generator: np.random.Generator | None = None) -> Tensor:
    """Random ±1 spreading codes, one row per user: ``(num_users, length)`` float64."""
    if int(num_users) < 1 or int(length) < 1:
        raise ValueError(f"spreading_codes: num_users and length must be >= 1, got {num_users}, {length}")
    rng = resolve_generator(generator, "spreading_codes")
    return wrap(rng.choice(np.array([-1.0, 1.0]), size=(int(num_users), int(length))))


def _codes_bits(codes, bits, where: str) -> tuple[np.ndarray, np.ndarray]:
    s, b = np.asarray(_array(codes, "codes", where), dtype=np.float64), _array(bits, "bits", where)
    if s.ndim != 2:
        raise ShapeError(f"{where}: codes must be (K, L), got {tuple(s.shape)}")
    if b.shape[-1] != s.shape[0]:
        raise ShapeError(f"{where}: bits {tuple(b.shape)} must end in K = {s.shape[0]} users (codes {tuple(s.shape)})")
    return s, b


def cdma_signal(bits, codes, snr_db: float, generator: np.random.Generator | None = None) -> Tensor:
    """The received chips y = Σ_k b_k s_k / √L + n with n ~ N(0, I / (2·SNR)), SNR = 10^(snr_db/10) = E_b/N_0.

    Shape: bits ``(B, K)`` of ±1 (or ``(K,)``), codes ``(K, L)`` → ``(B, L)`` (or ``(L,)``); ``snr_db = inf`` is
    noiseless.
    """
    where = "cdma_signal"
    s, b = _codes_bits(codes, bits, where)
    _check_spins(b, "bits", where)
    y = np.asarray(b, dtype=np.float64) @ s / math.sqrt(s.shape[1])
    if math.isfinite(snr_db):
        rng = resolve_generator(generator, where)
        y = y + rng.standard_normal(y.shape) * noise_std(snr_db)
    return wrap(y)


def noise_std(snr_db: float) -> float:
    """σ = 1/√(2 · SNR) per chip for SNR = E_b/N_0 = 10^(snr_db/10)."""
    return 1.0 / math.sqrt(2.0 * 10.0 ** (snr_db / 10.0))


def _correlate(y, codes, where: str) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(_array(codes, "codes", where), dtype=np.float64)
    r = np.asarray(_array(y, "signal", where), dtype=np.float64)
    if s.ndim != 2 or r.shape[-1] != s.shape[1]:
        raise ShapeError(f"{where}: signal {tuple(r.shape)} must end in the code length L of codes (K, L) = "
                         f"{tuple(s.shape)}")
    return s, r @ s.T / math.sqrt(s.shape[1])


def _sign(z: np.ndarray) -> np.ndarray:
    return np.where(z >= 0, 1.0, -1.0)


def matched_filter(y, codes) -> Tensor:
    """The conventional detector b̂ = sgn(S y / √L) (a tie gives +1): ``(B, L)``, ``(K, L)`` → ``(B, K)``."""
    _, z = _correlate(y, codes, "matched_filter")
    return wrap(_sign(z))


def iterative_detector(y, codes, iterations: int = 10, mode: str = "async",
                       generator: np.random.Generator | None = None) -> Tensor:
    """Hopfield-network detection: from the matched filter's b̂, run b_k ← sgn(z_k − Σ_{l≠k} R_kl b_l).

    This is the Hopfield dynamics with W = −(R − diag R), θ = −z, whose energy is the ML cost bᵀRb − 2zᵀb up to
    a constant: ``mode="async"`` (users in random order; the cost never increases — successive interference
    cancellation repeated) or ``"sync"`` (parallel interference cancellation, all users at once).

    Shape: ``(B, L)``, ``(K, L)`` → ``(B, K)``.
    """
    s, z = _correlate(y, codes, "iterative_detector")
    r = s @ s.T / s.shape[1]
    w = -(r - np.diag(np.diag(r)))
    start = _sign(z)
    return hopfield_recall(w, start, threshold=-z, sweeps=iterations, mode=mode, block_size=1,
                           generator=generator).states


def bit_error_rate(estimate, bits) -> float:
    """The fraction of bits decided wrongly."""
    e, b = _array(estimate, "estimate", "bit_error_rate"), _array(bits, "bits", "bit_error_rate")
    if e.shape != b.shape:
        raise ShapeError(f"bit_error_rate: estimate {tuple(e.shape)} and bits {tuple(b.shape)} differ")
    return float(np.mean(e != b))


def single_user_ber(snr_db: float) -> float:
    """The single-user (no interference) BER of antipodal signalling, Q(√(2 SNR)) = ½ erfc(√SNR)."""
    return 0.5 * math.erfc(math.sqrt(10.0 ** (snr_db / 10.0)))
