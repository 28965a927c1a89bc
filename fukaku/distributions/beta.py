"""The beta distribution on [0, 1], as ``torch.distributions.Beta`` (a two-component Dirichlet)."""
from __future__ import annotations

from ..ops.shape import stack
from ..tensor import Size, Tensor
from . import constraints
from .dirichlet import Dirichlet
from .distribution import Distribution
from .utils import batch_shape_of, broadcast_all

__all__ = ["Beta"]


class Beta(Distribution):
    """Beta(α, β): density x^(α−1)(1 − x)^(β−1)/B(α, β) on [0, 1]; it is the first component of
    Dirichlet((α, β)), which does the work.

    Args:
        concentration1: α > 0 (the first shape parameter).
        concentration0: β > 0 (the second).
        validate_args: see :class:`Distribution`.

    ``rsample`` is differentiable in α and β (implicit reparameterisation of the Gamma draws, first order).

    Example::

        >>> Beta(2.0, 2.0).mean
        tensor(0.5000)
    """

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1: Tensor | float, concentration0: Tensor | float,
                 validate_args: bool | None = None) -> None:
        c1, c0 = broadcast_all(concentration1, concentration0)
        self._dirichlet = Dirichlet(stack([c1, c0], -1), validate_args=False)  # Beta checks its own arguments
        super().__init__(batch_shape_of(c1, concentration1, concentration0), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Beta:
        new = self._get_checked_instance(Beta, _instance)
        batch_shape = Size(batch_shape)
        new._dirichlet = self._dirichlet.expand(batch_shape)
        return self._expanded(new, batch_shape)

    @property
    def concentration1(self) -> Tensor:
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self) -> Tensor:
        return self._dirichlet.concentration[..., 1]

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self) -> Tensor:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=Size()) -> Tensor:
        return self._dirichlet.rsample(sample_shape)[..., 0]

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return self._dirichlet.log_prob(stack([value, 1.0 - value], -1))

    def entropy(self) -> Tensor:
        return self._dirichlet.entropy()

    def __repr__(self) -> str:
        c1, c0 = self.concentration1, self.concentration0
        show = (lambda t: t if t.numel() == 1 else t.size())
        return f"Beta(concentration1: {show(c1)}, concentration0: {show(c0)})"
