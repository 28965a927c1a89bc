"""The Dirichlet distribution over the probability simplex, as ``torch.distributions.Dirichlet``."""
from __future__ import annotations

from ..ops.activation import one_hot
from ..ops.elementwise import digamma, lgamma, where, xlogy
from ..dtypes import int64
from ..tensor import Size, Tensor, zeros
from . import constraints
from .distribution import Distribution
from .gamma import standard_gamma

__all__ = ["Dirichlet"]


class Dirichlet(Distribution):
    """Dir(α): density Γ(α₀)/Πᵢ Γ(αᵢ) · Πᵢ xᵢ^(αᵢ−1) on the simplex {x ≥ 0, Σᵢ xᵢ = 1}, α₀ = Σᵢ αᵢ.

    Args:
        concentration: α > 0, shape ``(*batch, K)``: the last dim indexes the K components.
        validate_args: see :class:`Distribution`.

    ``rsample`` normalises K independent Gamma(αᵢ, 1) draws, each differentiable by implicit
    reparameterisation, so the draw is differentiable in α (first order).

    Example::

        >>> Dirichlet(fukaku.ones(3)).log_prob(fukaku.tensor([0.2, 0.3, 0.5]))   # log Γ(3) = log 2
        tensor(0.6931)
    """

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration: Tensor, validate_args: bool | None = None) -> None:
        if concentration.dim() < 1:
            raise ValueError(f"Dirichlet: `concentration` parameter must be at least one-dimensional (its last dim "
                             f"indexes the components), got shape {tuple(concentration.shape)}")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Dirichlet:
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = Size(batch_shape)
        new.concentration = self.concentration.expand(tuple(batch_shape) + tuple(self.event_shape))
        return self._expanded(new, batch_shape)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self) -> Tensor:
        """(αᵢ − 1)₊ normalised. Where every αᵢ < 1 the density is unbounded at every vertex; PyTorch
        answers the first vertex (1, 0, …, 0), and so does this."""
        c = self.concentration
        excess = (c - 1).clamp(min=0)
        total = excess.sum(-1, keepdim=True)
        all_below_one = (c < 1).all(-1, keepdim=True)
        interior = excess / where(all_below_one, total + 1, total)
        first_vertex = one_hot(zeros(c.shape[:-1], dtype=int64), c.shape[-1]).to(c.dtype)
        return where(all_below_one, first_vertex, interior)

    @property
    def variance(self) -> Tensor:
        c = self.concentration
        c0 = c.sum(-1, keepdim=True)
        return c * (c0 - c) / (c0.pow(2) * (c0 + 1))

    def rsample(self, sample_shape=Size()) -> Tensor:
        gammas = standard_gamma(self.concentration.expand(self._extended_shape(sample_shape)))
        return gammas / gammas.sum(-1, keepdim=True)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return xlogy(c - 1.0, value).sum(-1) + lgamma(c.sum(-1)) - lgamma(c).sum(-1)

    def entropy(self) -> Tensor:
        c = self.concentration
        k = c.shape[-1]
        c0 = c.sum(-1)
        return lgamma(c).sum(-1) - lgamma(c0) - (k - c0) * digamma(c0) - ((c - 1.0) * digamma(c)).sum(-1)
