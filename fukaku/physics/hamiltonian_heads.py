"""Output layers from Hamiltonians (seed 002 ch. 5): the input enters as an external field u = 𝕁x + J on
the output's degree of freedom d, the Boltzmann distribution of H(d) gives the activation ⟨d⟩, and the
loss is the KL divergence from the data's distribution (its cross-entropy, which differs by the data's
entropy, a constant). Three Hamiltonians give the three usual heads:

- binary d ∈ {0, 1}, H = −u d → ⟨d⟩ = σ(βu), the loss binary cross-entropy;
- one-hot d, H = −u·d → ⟨d⟩ = softmax(βu), the loss cross-entropy;
- continuous d, H = ½‖d − u‖² → a Gaussian N(u, I/β): ⟨d⟩ = u (a linear output), the loss the squared
  error times β/2 plus a constant (the text's (5.55) should read L = +½‖d − ⟨d⟩‖²).

H = u·d with continuous d has no ground state and Z = ∫ e^{β u·d} dd diverges: it defines no head.
Each head here computes ⟨d⟩ and the loss from the Boltzmann distribution itself (sigmoid and softmax are
not called), so comparing them with torch.nn.functional checks the derivation.
"""
from __future__ import annotations

import math
from typing import NamedTuple

from ..nn.functional import one_hot
from ..ops.reduce import sum as _sum
from ..ops.shape import stack
from ..tensor import Tensor, as_tensor, zeros_like
from .boltzmann import boltzmann_distribution, boltzmann_log_probs, float_tensor

__all__ = ["HeadOutput", "binary_head", "one_hot_head", "gaussian_head"]


class HeadOutput(NamedTuple):
    """What a Hamiltonian head returns: the activation ⟨d⟩ and, given a target, the loss (else None)."""

    mean: Tensor
    loss: Tensor | None


def binary_head(field, target=None, beta: float = 1.0) -> HeadOutput:
    """The binary head: d ∈ {0, 1} with H = −u d, so p(d) ∝ e^{βud}.

    Args:
        field: the external field u = 𝕁x + J, shape (N, *) — any shape; each entry is one unit d.
        target: the data's probability that d = 1 (0/1 labels or soft targets), shape of ``field``.
        beta: the inverse temperature.

    Returns:
        ⟨d⟩ = p(d = 1) (= σ(βu)), and the cross-entropy −E_data[log p(d)] averaged over the entries
        (= ``binary_cross_entropy_with_logits(βu, target)``; the KL divergence plus the data's entropy).
    """
    u = float_tensor(field)
    energies = stack([zeros_like(u), -u], dim=-1)                # ε(d = 0) = 0, ε(d = 1) = −u
    mean = boltzmann_distribution(energies, beta)[..., 1]        # ⟨d⟩ = Σ_d d p(d) = p(1)
    if target is None:
        return HeadOutput(mean, None)
    t = float_tensor(target)
    log_p = boltzmann_log_probs(energies, beta)
    data = stack([1 - t, t], dim=-1)                              # the data's distribution over d
    return HeadOutput(mean, -_sum(data * log_p, dim=-1).mean())


def one_hot_head(field, target=None, beta: float = 1.0) -> HeadOutput:
    """The one-hot head: d is one of the K unit vectors, H = −u·d, so p(d = e_k) ∝ e^{βu_k}.

    Args:
        field: u = 𝕁x + J, shape (N, K) (or (K,)).
        target: class indices, shape (N,) (an integer tensor), or the data's probabilities, shape (N, K).
        beta: the inverse temperature.

    Returns:
        ⟨d⟩ = (p(e_1), …, p(e_K)) (= softmax(βu)), and −E_data[log p(d)] averaged over the batch
        (= ``cross_entropy(βu, target)``).
    """
    u = float_tensor(field)
    mean = boltzmann_distribution(-u, beta, dim=-1)              # ε(e_k) = −u_k, ⟨d⟩_k = p(e_k)
    if target is None:
        return HeadOutput(mean, None)
    t = target if isinstance(target, Tensor) else as_tensor(target)
    data = one_hot(t, u.shape[-1]).to(u.dtype) if not t.is_floating_point() else t
    return HeadOutput(mean, -_sum(data * boltzmann_log_probs(-u, beta, dim=-1), dim=-1).mean())


def gaussian_head(field, target=None, beta: float = 1.0) -> HeadOutput:
    """The Gaussian head: continuous d ∈ ℝ^D with H = ½‖d − u‖², so p(d) = N(d; u, I/β).

    Args:
        field: u = 𝕁x + J, shape (N, D).
        target: the data's d, shape (N, D).
        beta: the inverse temperature.

    Returns:
        ⟨d⟩ = u (the linear output), and the negative log-likelihood −log p(target) averaged over the
        batch: (β/2)‖target − u‖² + (D/2) log(2π/β), i.e. (βD/2) × ``mse_loss(u, target)`` + a constant.
    """
    u = float_tensor(field)
    if target is None:
        return HeadOutput(u, None)
    t = float_tensor(target)
    dims = u.shape[-1] if u.dim() else 1
    energy = 0.5 * _sum((t - u) ** 2, dim=-1) if u.dim() else 0.5 * (t - u) ** 2
    return HeadOutput(u, (beta * energy).mean() + 0.5 * dims * math.log(2 * math.pi / beta))
