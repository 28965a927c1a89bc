"""The normal (Gaussian) distribution N(loc, scale²), as ``torch.distributions.Normal``."""
from __future__ import annotations

import math

from ..ops.elementwise import erf, erfinv, log
from ..tensor import Size, Tensor
from . import constraints
from .distribution import Distribution
from .utils import batch_shape_of, broadcast_all, standard_normal

__all__ = ["Normal"]


class Normal(Distribution):
    """The normal distribution with mean ``loc`` and standard deviation ``scale`` (batched by broadcasting).

    Args:
        loc: the mean μ.
        scale: the standard deviation σ > 0.
        validate_args: see :class:`Distribution`.

    ``rsample`` is μ + σ·ε with ε ~ N(0, 1): the reparameterisation trick of seed 000 §6.5 (the VAE's
    encoder samples its code this way), differentiable in μ and σ.

    Example::

        >>> m = Normal(fukaku.tensor([0.0]), fukaku.tensor([1.0]))
        >>> m.log_prob(fukaku.tensor([0.0]))     # −log √(2π)
        tensor([-0.9189])
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc: Tensor | float, scale: Tensor | float, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(batch_shape_of(self.loc, loc, scale), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Normal:
        new = self._get_checked_instance(Normal, _instance)
        batch_shape = Size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        return self._expanded(new, batch_shape)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale.pow(2)

    def rsample(self, sample_shape=Size()) -> Tensor:
        eps = standard_normal(self._extended_shape(sample_shape), self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return -((value - self.loc) ** 2) / (2 * self.variance) - log(self.scale) - 0.5 * math.log(2 * math.pi)

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + erf((value - self.loc) / (self.scale * math.sqrt(2))))

    def icdf(self, value: Tensor) -> Tensor:
        return self.loc + self.scale * erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self) -> Tensor:
        return 0.5 + 0.5 * math.log(2 * math.pi) + log(self.scale)
