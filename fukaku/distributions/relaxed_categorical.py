"""The relaxed one-hot categorical (Concrete / Gumbel-softmax) distribution on the simplex and its
log-space core, as ``torch.distributions.RelaxedOneHotCategorical`` and ``ExpRelaxedCategorical``."""
from __future__ import annotations

import math

from ..ops.elementwise import log
from ..tensor import Size, Tensor
from . import constraints
from .categorical import Categorical
from .distribution import Distribution
from .relaxed_bernoulli import RelaxedParameters, as_temperature
from .transformed_distribution import TransformedDistribution
from .transforms import ExpTransform
from .utils import clamp_probs, standard_uniform

__all__ = ["ExpRelaxedCategorical", "RelaxedOneHotCategorical"]


class ExpRelaxedCategorical(Distribution):
    """The log of a :class:`RelaxedOneHotCategorical` draw: log softmax((logits + g) / temperature) with
    g standard Gumbel noise (Maddison et al. 2017: its density is stable in log space).

    Args:
        temperature: λ > 0.
        probs, logits: the categorical's parameter over the last dim (give one).
        validate_args: see :class:`Distribution`.
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature: Tensor | float, probs: Tensor | None = None, logits: Tensor | None = None,
                 validate_args: bool | None = None) -> None:
        self._categorical = Categorical(probs, logits)
        self.temperature = as_temperature(temperature, self._categorical._param)
        param = self._categorical._param
        super().__init__(self._categorical.batch_shape, param.shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> ExpRelaxedCategorical:
        new = self._get_checked_instance(ExpRelaxedCategorical, _instance)
        batch_shape = Size(batch_shape)
        new.temperature = self.temperature
        new._categorical = self._categorical.expand(batch_shape)
        return self._expanded(new, batch_shape)

    @property
    def param_shape(self) -> Size:
        return self._categorical.param_shape

    @property
    def logits(self) -> Tensor:
        return self._categorical.logits

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    def rsample(self, sample_shape=Size()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        u = clamp_probs(standard_uniform(shape, self.logits.dtype))
        gumbels = -log(-log(u))
        scores = (self.logits + gumbels) / self.temperature
        return scores - scores.logsumexp(-1, keepdim=True)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        k = self._categorical._num_events
        log_scale = math.lgamma(k) + (k - 1) * log(self.temperature)
        score = self.logits - value * self.temperature
        score = (score - score.logsumexp(-1, keepdim=True)).sum(-1)
        return score + log_scale


class RelaxedOneHotCategorical(RelaxedParameters, TransformedDistribution):
    """The Concrete / Gumbel-softmax distribution on the simplex: softmax((logits + g) / temperature) with
    g standard Gumbel noise (Maddison et al. 2017; Jang et al. 2017), a differentiable relaxation of
    :class:`OneHotCategorical`.

    Args:
        temperature: λ > 0 (small: draws near one-hot vectors).
        probs, logits: the categorical's parameter over the last dim (give one).
        validate_args: see :class:`Distribution`.

    Example::

        >>> d = RelaxedOneHotCategorical(fukaku.tensor(0.5), logits=fukaku.zeros(3))
        >>> d.rsample((2,)).shape       # each row sums to 1
        fukaku.Size([2, 3])
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature: Tensor | float, probs: Tensor | None = None, logits: Tensor | None = None,
                 validate_args: bool | None = None) -> None:
        base = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> RelaxedOneHotCategorical:
        return super().expand(batch_shape, _instance=self._get_checked_instance(RelaxedOneHotCategorical, _instance))
