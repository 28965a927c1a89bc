"""The Bernoulli distribution over {0, 1}, given ``probs`` or ``logits``, as ``torch.distributions.Bernoulli``."""
from __future__ import annotations

import math

from ..autograd import no_grad
from ..nn.functional.loss import binary_cross_entropy_with_logits
from ..ops.elementwise import where
from ..tensor import Size, Tensor, bernoulli, full_like
from . import constraints
from .distribution import Distribution
from .utils import batch_shape_of, broadcast_all, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Bernoulli", "BinaryParameters", "probs_or_logits"]


def probs_or_logits(name: str, probs, logits) -> tuple[str, object]:
    """Which of ``probs`` and ``logits`` was given ("probs" or "logits") and its value: exactly one must be."""
    if (probs is None) == (logits is None):
        raise ValueError(f"{name}: either `probs` or `logits` must be specified, but not both "
                         f"(got probs={'None' if probs is None else '…'}, logits={'None' if logits is None else '…'})")
    return ("probs", probs) if probs is not None else ("logits", logits)


class BinaryParameters:
    """The parameter of a binary variable, given as ``probs`` or as ``logits``: the other is computed on
    first use (a :class:`lazy_property`). Shared by :class:`Bernoulli` and the relaxed Bernoulli."""

    def _set_parameter(self, probs, logits) -> Size:
        """Store the one given (broadcast to a tensor) and return the batch shape it implies."""
        name, value = probs_or_logits(type(self).__name__, probs, logits)
        (param,) = broadcast_all(value)
        setattr(self, name, param)
        self._param = param
        return batch_shape_of(param, value)

    def _expand_parameter(self, new, batch_shape: Size) -> None:
        """Give ``new`` this distribution's parameters expanded to ``batch_shape``."""
        for name in ("probs", "logits"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(batch_shape))
                new._param = getattr(new, name)

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self) -> Size:
        return self._param.shape


class Bernoulli(BinaryParameters, Distribution):
    """1 with probability ``probs`` (or ``sigmoid(logits)``), 0 otherwise.

    Args:
        probs: the probability of 1, in [0, 1].
        logits: its log-odds log(p / (1 − p)); give one of ``probs`` and ``logits``.
        validate_args: see :class:`Distribution`.

    Example::

        >>> Bernoulli(probs=fukaku.tensor(0.3)).log_prob(fukaku.tensor(1.0))
        tensor(-1.2040)
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs: Tensor | float | None = None, logits: Tensor | float | None = None,
                 validate_args: bool | None = None) -> None:
        super().__init__(self._set_parameter(probs, logits), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Bernoulli:
        new = self._get_checked_instance(Bernoulli, _instance)
        batch_shape = Size(batch_shape)
        self._expand_parameter(new, batch_shape)
        return self._expanded(new, batch_shape)

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        p = self.probs
        return where(p == 0.5, full_like(p, math.nan), (p >= 0.5).to(p.dtype))

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()) -> Tensor:
        with no_grad():
            return bernoulli(self.probs.expand(self._extended_shape(sample_shape)))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self) -> Tensor:
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        from ..tensor import arange  # deferred: only enumeration needs it

        values = arange(2, dtype=self._param.dtype).reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values
