"""The log-densities and the KL divergence the VAE needs (seed 000 §6.5), as small functions on tensors, each
summed over the last dimension (the features of one sample), so that a batch ``(N, D)`` gives ``(N,)``:

- :func:`normal_log_prob`: log N(x; μ, diag σ²) = −½ Σ_i [log 2π + log σ_i² + (x_i − μ_i)² / σ_i²];
- :func:`bernoulli_log_prob`: log Bernoulli(x; σ(ℓ)) = Σ_i [x_i log σ(ℓ_i) + (1 − x_i) log(1 − σ(ℓ_i))],
  from the logits ℓ (stable: minus the binary cross-entropy with logits; x may lie anywhere in [0, 1]);
- :func:`normal_kl_standard`: KL(N(μ, diag σ²) ‖ N(0, I)) = ½ Σ_i (μ_i² + σ_i² − 1 − log σ_i²), in closed form.

The variances are passed as log σ² (what an encoder outputs), never σ.
"""
from __future__ import annotations

import math

from ...errors import ShapeError
from ...nn import functional as F
from ...tensor import Tensor

__all__ = ["normal_log_prob", "bernoulli_log_prob", "normal_kl_standard"]

LOG_2PI = math.log(2 * math.pi)


def _same(where: str, a: Tensor, b: Tensor) -> None:
    if a.shape != b.shape:
        raise ShapeError(f"{where}: incompatible shapes {tuple(a.shape)} and {tuple(b.shape)}; pass one "
                         "parameter per feature of x (broadcast them to x's shape first)")


def normal_log_prob(x: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    """log N(x; μ, diag exp(logvar)), summed over the last dimension.

    Args:
        x: values ``(…, D)``.
        mu, logvar: mean and log-variance, broadcastable to ``x``.

    Returns:
        ``(…)``: the log-density of each vector.
    """
    return -0.5 * (LOG_2PI + logvar + (x - mu) ** 2 * (-logvar).exp()).sum(-1)


def bernoulli_log_prob(x: Tensor, logits: Tensor) -> Tensor:
    """log p(x) under independent Bernoulli(σ(logits)) per feature, summed over the last dimension.

    Args:
        x: ``(…, D)``, values in [0, 1] (binary, or grey levels read as probabilities).
        logits: ``(…, D)``, the same shape.

    Returns:
        ``(…)``: −Σ binary_cross_entropy_with_logits(logits, x).
    """
    _same("bernoulli_log_prob", x, logits)
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)


def normal_kl_standard(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(μ, diag exp(logvar)) ‖ N(0, I)) in closed form, summed over the last dimension.

    Args:
        mu, logvar: ``(…, L)``, the same shape.

    Returns:
        ``(…)``: ½ Σ (μ² + σ² − 1 − log σ²) ≥ 0, zero exactly when μ = 0 and σ = 1.
    """
    _same("normal_kl_standard", mu, logvar)
    return 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(-1)
