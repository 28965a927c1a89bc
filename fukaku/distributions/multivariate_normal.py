"""The multivariate normal distribution N(loc, Σ), as ``torch.distributions.MultivariateNormal``."""
from __future__ import annotations

import math

from ..linalg import cholesky, inv, solve
from ..ops.elementwise import log
from ..ops.shape import broadcast_shapes
from ..tensor import Size, Tensor
from . import constraints
from .distribution import Distribution
from .utils import lazy_property, standard_normal

__all__ = ["MultivariateNormal"]


def batch_mahalanobis(scale_tril: Tensor, x: Tensor) -> Tensor:
    """‖L⁻¹x‖² over the last dim of ``x`` for the lower-triangular factors ``scale_tril`` (…, n, n),
    broadcasting their batch dims: the squared Mahalanobis distance xᵀΣ⁻¹x for Σ = LLᵀ. Only the lower
    triangle of L is read (as a triangular solve would), so the upper one gets no gradient."""
    y = solve(scale_tril.tril(), x.unsqueeze(-1)).squeeze(-1)
    return (y * y).sum(-1)


def half_log_det(scale_tril: Tensor) -> Tensor:
    """½ log det Σ = Σᵢ log Lᵢᵢ for Σ = LLᵀ."""
    return log(scale_tril.diagonal(dim1=-2, dim2=-1)).sum(-1)


class MultivariateNormal(Distribution):
    """The normal distribution over vectors, with mean ``loc`` and covariance Σ given by exactly one of
    ``covariance_matrix`` Σ, ``precision_matrix`` Σ⁻¹ or ``scale_tril`` L (lower triangular with a
    positive diagonal, Σ = LLᵀ). Σ and Σ⁻¹ are factored once by Cholesky; every method works from L.

    Args:
        loc: the mean, shape ``(*batch, n)``.
        covariance_matrix, precision_matrix, scale_tril: shape ``(*batch, n, n)``; the batch dims
            broadcast with ``loc``'s.
        validate_args: see :class:`Distribution`.

    ``rsample`` is loc + Lε with ε ~ N(0, I), differentiable in loc and in the matrix.

    Example::

        >>> d = MultivariateNormal(fukaku.zeros(2), scale_tril=fukaku.eye(2))
        >>> d.log_prob(fukaku.zeros(2))   # −log 2π
        tensor(-1.8379)
    """

    arg_constraints = {"loc": constraints.real_vector, "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite, "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc: Tensor, covariance_matrix: Tensor | None = None, precision_matrix: Tensor | None = None,
                 scale_tril: Tensor | None = None, validate_args: bool | None = None) -> None:
        if loc.dim() < 1:
            raise ValueError(f"MultivariateNormal: loc must be at least one-dimensional, got shape {tuple(loc.shape)}")
        given = [(name, m) for name, m in (("covariance_matrix", covariance_matrix),
                                           ("precision_matrix", precision_matrix), ("scale_tril", scale_tril))
                 if m is not None]
        if len(given) != 1:
            raise ValueError("MultivariateNormal: exactly one of covariance_matrix or precision_matrix or "
                             f"scale_tril may be specified (got {[name for name, _ in given] or 'none'})")
        name, matrix = given[0]
        if matrix.dim() < 2:
            raise ValueError(f"MultivariateNormal: {name} must be at least two-dimensional, with optional leading "
                             f"batch dimensions; got shape {tuple(matrix.shape)}")
        n = loc.shape[-1]
        if tuple(matrix.shape[-2:]) != (n, n):
            raise ValueError(f"MultivariateNormal: {name} of shape {tuple(matrix.shape)} does not match loc of shape "
                             f"{tuple(loc.shape)}: its last two dims must be ({n}, {n})")
        batch_shape = broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1]))
        setattr(self, name, matrix.expand(tuple(batch_shape) + (n, n)))
        self.loc = loc.expand(tuple(batch_shape) + (n,))
        super().__init__(batch_shape, (n,), validate_args=validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = matrix
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = cholesky(matrix)
        else:
            self._unbroadcasted_scale_tril = cholesky(inv(matrix))

    def expand(self, batch_shape, _instance=None) -> MultivariateNormal:
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = tuple(Size(batch_shape))
        n = self.event_shape[0]
        new.loc = self.loc.expand(batch_shape + (n,))
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(batch_shape + (n, n)))
        return self._expanded(new, batch_shape)

    def _matrix_shape(self) -> tuple[int, ...]:
        return tuple(self._batch_shape) + tuple(self._event_shape) * 2

    @lazy_property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        return (L @ L.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        return inv(L @ L.mT).expand(self._matrix_shape())

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(self._extended_shape())

    def rsample(self, sample_shape=Size()) -> Tensor:
        eps = standard_normal(self._extended_shape(sample_shape), self.loc.dtype)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        m = batch_mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        n = self._event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + m) - half_log_det(self._unbroadcasted_scale_tril)

    def entropy(self) -> Tensor:
        n = self._event_shape[0]
        h = 0.5 * n * (1.0 + math.log(2 * math.pi)) + half_log_det(self._unbroadcasted_scale_tril)
        return h if len(self._batch_shape) == 0 else h.expand(self._batch_shape)
