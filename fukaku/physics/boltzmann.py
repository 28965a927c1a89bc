"""The Boltzmann distribution p_i = e^{−β ε_i} / Z over energy levels ε_i at inverse temperature β
(seed 002 ch. 5): β → ∞ (T → 0) leaves only the ground state, β → 0 (T → ∞; the text's "high
temperature" limit) gives the uniform distribution, and p_i / p_j = e^{−β (ε_i − ε_j)}."""
from __future__ import annotations

from ..ops.activation import log_softmax, softmax
from ..ops.reduce import logsumexp
from ..dtypes import float64
from ..tensor import Tensor, as_tensor

__all__ = ["boltzmann_distribution", "log_partition_function", "boltzmann_log_probs"]


def float_tensor(x) -> Tensor:
    """``x`` as a floating tensor: float64 unless it is a floating tensor already."""
    t = x if isinstance(x, Tensor) else as_tensor(x, dtype=float64)
    return t if t.is_floating_point() else t.double()


def _scaled(energies, beta) -> Tensor:
    """−β ε as a floating tensor (float64 unless ``energies`` is a floating tensor already)."""
    e = float_tensor(energies)
    if not isinstance(beta, Tensor) and beta == float("inf"):
        raise ValueError("boltzmann_distribution: beta = inf is the ground-state limit; pass a large finite "
                         "beta (the distribution is then one-hot on the lowest energy, ties shared)")
    return e * -beta


def boltzmann_distribution(energies, beta: float | Tensor = 1.0, dim: int = -1) -> Tensor:
    """The probabilities p_i = exp(−β ε_i) / Σ_j exp(−β ε_j) along ``dim`` (seed 002 ch. 5).

    Computed as a softmax of −β ε, so it is stable for any energies (the lowest energy is factored out
    of Z) and differentiable in the energies and in β.

    Args:
        energies: the energy levels ε (a tensor or array-like; a batch of level sets along other dims).
        beta: the inverse temperature β = 1/(k_B T) ≥ 0 (a number or a tensor broadcasting with
            ``energies``); β = 0 gives the uniform distribution.
        dim: the dimension over which the states run.

    Shape:
        same as ``energies``; sums to 1 along ``dim``.

    Examples:
        >>> boltzmann_distribution([0.0, 1.0], beta=0.0)
        tensor([0.5000, 0.5000], dtype=fukaku.float64)
    """
    return softmax(_scaled(energies, beta), dim=dim)


def boltzmann_log_probs(energies, beta: float | Tensor = 1.0, dim: int = -1) -> Tensor:
    """log p_i = −β ε_i − log Z along ``dim``, stable where p_i underflows (a log-softmax of −β ε)."""
    return log_softmax(_scaled(energies, beta), dim=dim)


def log_partition_function(energies, beta: float | Tensor = 1.0, dim: int = -1) -> Tensor:
    """log Z = log Σ_i exp(−β ε_i) along ``dim`` (a log-sum-exp, stable for any energies).

    Its derivative in β is −⟨ε⟩, the mean energy, and in ε_i it is −β p_i.

    Examples:
        >>> log_partition_function([0.0, 0.0, 0.0], beta=2.0)     # log 3
        tensor(1.0986, dtype=fukaku.float64)
    """
    return logsumexp(_scaled(energies, beta), dim=dim)
