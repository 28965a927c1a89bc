"""Sparse autoencoders — seed 004 §3.5: the regularised loss ℓ(x, g(f(x))) + ηΩ(h) with a sparsity penalty on
the codes h, either the L1 norm Ω = ‖h‖₁, or, for sigmoid codes, the KL divergence of each unit's mean
activation ĥ_j (over the batch) from a small target ρ = 0.05:

    Ω = Σ_j KL(ρ ‖ ĥ_j) = Σ_j ρ log(ρ / ĥ_j) + (1 − ρ) log((1 − ρ) / (1 − ĥ_j)),

zero exactly when every ĥ_j = ρ and positive otherwise, so training drives each unit to be active (near 1) on a
fraction ρ of the inputs.
"""
from __future__ import annotations

from collections.abc import Sequence

from ...errors import ShapeError
from ...nn import ReLU
from ...tensor import Tensor
from ..classical.mlp import ActivationSpec
from .autoencoder import Autoencoder

__all__ = ["SparseAutoencoder", "kl_sparsity", "l1_sparsity"]

PENALTIES = ("l1", "kl")
EPS = 1e-6  # ĥ is kept in [EPS, 1 − EPS], so that a unit stuck at 0 or 1 gives a large, finite penalty


def _codes(where: str, codes: Tensor) -> None:
    if codes.dim() != 2:
        raise ShapeError(f"{where}: codes must be a batch (N, k) of N code vectors, got shape {tuple(codes.shape)}")


def kl_sparsity(codes: Tensor, rho: float = 0.05) -> Tensor:
    """Σ_j KL(ρ ‖ ĥ_j), ĥ_j the mean of code unit j over the batch (seed 004 §3.5).

    Args:
        codes: ``(N, k)`` activations in (0, 1), e.g. sigmoid codes.
        rho: the target mean activation ρ, in (0, 1) (the text's 0.05).

    Returns:
        A scalar: Σ_j [ρ log(ρ/ĥ_j) + (1 − ρ) log((1 − ρ)/(1 − ĥ_j))]; 0 when every ĥ_j = ρ, positive
        otherwise (ĥ is clamped to [1e-6, 1 − 1e-6]).

    Examples:
        >>> kl_sparsity(fk.full((10, 3), 0.05)).item()
        0.0
    """
    _codes("kl_sparsity", codes)
    if not 0.0 < rho < 1.0:
        raise ValueError(f"kl_sparsity: rho must lie in (0, 1), got {rho}")
    mean = codes.mean(0).clamp(EPS, 1 - EPS)
    return (rho * (rho / mean).log() + (1 - rho) * ((1 - rho) / (1 - mean)).log()).sum()


def l1_sparsity(codes: Tensor) -> Tensor:
    """‖h‖₁ = Σ_j |h_j|, averaged over the batch ``codes`` ``(N, k)``: a scalar (seed 004 §3.5)."""
    _codes("l1_sparsity", codes)
    return codes.abs().sum(1).mean()


class SparseAutoencoder(Autoencoder):
    """A sparse autoencoder (seed 004 §3.5): the loss ℓ + ηΩ(h) with Ω = ‖h‖₁ (``penalty="l1"``) or
    Ω = Σ_j KL(ρ ‖ ĥ_j) over sigmoid codes (``penalty="kl"``, :func:`kl_sparsity`).

    Args:
        sizes: as :class:`Autoencoder` (``[d, …, k]``; sparse codes may be overcomplete, k ≥ d).
        penalty: ``"l1"`` or ``"kl"``.
        weight: η, the penalty's weight in the loss.
        rho: ρ of the KL penalty (the text's 0.05).
        code_activation: default ``"sigmoid"`` for ``"kl"`` (required: the KL needs codes in (0, 1)) and
            ``nn.ReLU`` for ``"l1"`` (non-negative codes that can be exactly 0).
        **kwargs: the other options of :class:`Autoencoder` (activation, output_activation, reconstruction …).

    Examples:
        >>> ae = SparseAutoencoder([64, 100], penalty="kl", weight=1.0, rho=0.05)
        >>> ae.loss(fk.rand(32, 64)).backward()
    """

    def __init__(self, sizes: Sequence[int], penalty: str = "kl", weight: float = 1.0, rho: float = 0.05,
                 code_activation: ActivationSpec | str = "default", **kwargs) -> None:
        if penalty not in PENALTIES:
            raise ValueError(f"SparseAutoencoder: penalty must be one of {PENALTIES}, got {penalty!r}")
        if code_activation == "default":
            code_activation = "sigmoid" if penalty == "kl" else ReLU
        if penalty == "kl" and code_activation != "sigmoid":
            raise ValueError("SparseAutoencoder: the KL penalty compares mean activations with rho, so the codes "
                             f"must lie in (0, 1): use code_activation='sigmoid', got {code_activation!r}")
        if not 0.0 < rho < 1.0:
            raise ValueError(f"SparseAutoencoder: rho must lie in (0, 1), got {rho}")
        if weight < 0:
            raise ValueError(f"SparseAutoencoder: weight must be >= 0, got {weight}")
        super().__init__(sizes, code_activation=code_activation, **kwargs)
        self.kind, self.weight, self.rho = penalty, float(weight), float(rho)

    def penalty(self, inputs: Tensor, codes: Tensor) -> Tensor:
        return kl_sparsity(codes, self.rho) if self.kind == "kl" else l1_sparsity(codes)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, penalty={self.kind!r}, weight={self.weight}, rho={self.rho}"
