"""The categorical distribution over {0, …, K − 1}, given ``probs`` or ``logits``, as
``torch.distributions.Categorical``."""
from __future__ import annotations

import math

from .. import dtypes
from ..autograd import no_grad
from ..ops.elementwise import clamp
from ..ops.index import gather
from ..ops.shape import broadcast_tensors
from ..tensor import Size, Tensor, arange, full, multinomial
from . import constraints
from .bernoulli import probs_or_logits
from .distribution import Distribution
from .utils import lazy_property, logits_to_probs, normalized_logits, probs_to_logits

__all__ = ["Categorical"]


class Categorical(Distribution):
    """Index i with probability ``probs[..., i]``: the last dim of the parameter indexes the K categories,
    the dims before it are the batch.

    Args:
        probs: nonnegative weights (normalised over the last dim to sum to 1).
        logits: unnormalised log-probabilities (normalised with logsumexp); give one of the two.
        validate_args: see :class:`Distribution`.

    ``log_prob(value)`` takes integer indices of shape broadcastable with ``batch_shape``.

    Example::

        >>> Categorical(probs=fukaku.tensor([0.25, 0.75])).log_prob(fukaku.tensor(1))
        tensor(-0.2877)
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs: Tensor | None = None, logits: Tensor | None = None,
                 validate_args: bool | None = None) -> None:
        name, value = probs_or_logits(type(self).__name__, probs, logits)
        if value.dim() < 1:
            raise ValueError(f"{type(self).__name__}: `{name}` parameter must be at least one-dimensional "
                             f"(its last dim indexes the categories), got shape {tuple(value.shape)}")
        if name == "probs":
            self.probs = value / value.sum(-1, keepdim=True)
        else:
            self.logits = normalized_logits(value)
        self._param = self.probs if name == "probs" else self.logits
        self._num_events = self._param.shape[-1]
        batch_shape = self._param.shape[:-1] if self._param.dim() > 1 else Size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Categorical:
        new = self._get_checked_instance(Categorical, _instance)
        batch_shape = Size(batch_shape)
        param_shape = tuple(batch_shape) + (self._num_events,)
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(param_shape)
            new._param = new.probs
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(param_shape)
            new._param = new.logits
        new._num_events = self._num_events
        return self._expanded(new, batch_shape)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits)

    @property
    def param_shape(self) -> Size:
        return self._param.shape

    @property
    def mean(self) -> Tensor:
        return full(self._extended_shape(), math.nan, dtype=self._param.dtype)

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(-1)

    @property
    def variance(self) -> Tensor:
        return full(self._extended_shape(), math.nan, dtype=self._param.dtype)

    def sample(self, sample_shape=Size()) -> Tensor:
        sample_shape = Size(sample_shape)
        n = math.prod(sample_shape) if sample_shape else 1
        with no_grad():
            rows = self.probs.reshape(-1, self._num_events)
            draws = multinomial(rows, n, replacement=True)  # (rows, n)
            return draws.t().reshape(self._extended_shape(sample_shape))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = broadcast_tensors(value, self.logits)
        return gather(log_pmf, -1, value[..., :1]).squeeze(-1)

    def entropy(self) -> Tensor:
        logits = clamp(self.logits, min=dtypes.finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = arange(self._num_events, dtype=dtypes.int64).reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values
