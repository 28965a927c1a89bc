"""The relaxed (Concrete) Bernoulli distribution on (0, 1) and its logit-space core, as
``torch.distributions.RelaxedBernoulli`` and ``LogitRelaxedBernoulli``."""
from __future__ import annotations

import numbers

from ..ops.activation import softplus
from ..ops.elementwise import log, log1p
from ..tensor import Size, Tensor, tensor
from . import constraints
from .bernoulli import BinaryParameters
from .distribution import Distribution
from .transformed_distribution import TransformedDistribution
from .transforms import SigmoidTransform
from .utils import broadcast_all, clamp_probs, standard_uniform

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli", "RelaxedParameters", "as_temperature"]


def as_temperature(temperature, like: Tensor) -> Tensor:
    """The temperature as a tensor of ``like``'s dtype (PyTorch wants a tensor; a number is accepted here)."""
    if isinstance(temperature, numbers.Number):
        return tensor(float(temperature), dtype=like.dtype)
    return temperature


class LogitRelaxedBernoulli(BinaryParameters, Distribution):
    """The logit of a :class:`RelaxedBernoulli` draw: (logits + log u − log(1 − u)) / temperature with
    u ~ U(0, 1) (Maddison et al. 2017, the "BinConcrete" in logit space, where its density is stable).

    Args:
        temperature: λ > 0; as λ → 0 the sigmoid of a draw approaches a Bernoulli draw.
        probs, logits: the Bernoulli's parameter (give one).
        validate_args: see :class:`Distribution`.
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    has_rsample = True

    def __init__(self, temperature: Tensor | float, probs: Tensor | float | None = None,
                 logits: Tensor | float | None = None, validate_args: bool | None = None) -> None:
        batch_shape = self._set_parameter(probs, logits)
        self.temperature = as_temperature(temperature, self._param)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> LogitRelaxedBernoulli:
        new = self._get_checked_instance(LogitRelaxedBernoulli, _instance)
        batch_shape = Size(batch_shape)
        new.temperature = self.temperature
        self._expand_parameter(new, batch_shape)
        return self._expanded(new, batch_shape)

    def rsample(self, sample_shape=Size()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        probs = clamp_probs(self.probs.expand(shape))
        u = clamp_probs(standard_uniform(shape, probs.dtype))
        return (log(u) - log1p(-u) + log(probs) - log1p(-probs)) / self.temperature

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        diff = logits - value * self.temperature
        return log(self.temperature) + diff - 2 * softplus(diff)


class RelaxedParameters:
    """``temperature``, ``logits`` and ``probs`` of a relaxed distribution, read from its base distribution."""

    @property
    def temperature(self) -> Tensor:
        return self.base_dist.temperature

    @property
    def logits(self) -> Tensor:
        return self.base_dist.logits

    @property
    def probs(self) -> Tensor:
        return self.base_dist.probs


class RelaxedBernoulli(RelaxedParameters, TransformedDistribution):
    """A continuous relaxation of the Bernoulli on (0, 1): σ of a :class:`LogitRelaxedBernoulli` draw
    (Maddison et al. 2017; Jang et al. 2017). Differentiable draws (``rsample``), unlike the Bernoulli's.

    Args:
        temperature: λ > 0 (small: draws near 0 or 1).
        probs, logits: the Bernoulli's parameter (give one).
        validate_args: see :class:`Distribution`.

    Example::

        >>> d = RelaxedBernoulli(fukaku.tensor(0.5), probs=fukaku.tensor([0.3]))
        >>> d.rsample().shape
        fukaku.Size([1])
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature: Tensor | float, probs: Tensor | float | None = None,
                 logits: Tensor | float | None = None, validate_args: bool | None = None) -> None:
        base = LogitRelaxedBernoulli(temperature, probs, logits)
        super().__init__(base, SigmoidTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> RelaxedBernoulli:
        return super().expand(batch_shape, _instance=self._get_checked_instance(RelaxedBernoulli, _instance))
