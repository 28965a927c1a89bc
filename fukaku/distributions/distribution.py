"""The base class of every distribution, as ``torch.distributions.Distribution``.

Shapes: a distribution holds a batch of independent distributions (``batch_shape``), each over
events of ``event_shape``; ``sample(sample_shape)`` has shape ``sample_shape + batch_shape +
event_shape`` and ``log_prob(value)`` has the batch shape broadcast with ``value``'s leading dims.
"""
from __future__ import annotations

from ..autograd import no_grad
from ..tensor import Size, Tensor
from . import constraints
from .utils import lazy_property

__all__ = ["Distribution"]


class Distribution:
    """A batch of probability distributions with PyTorch's interface.

    Args:
        batch_shape: the shape of the batch of distributions.
        event_shape: the shape of one draw of one distribution.
        validate_args: check the parameters against ``arg_constraints`` now and every value given to
            ``log_prob``/``cdf``/``icdf`` against ``support`` (a ValueError names the distribution, the
            argument and the constraint); ``None`` follows :meth:`set_default_validate_args` (on by default,
            as PyTorch, off under ``python -O``).

    Subclasses set ``arg_constraints``, ``support``, ``has_rsample`` and implement what they can of
    ``rsample``/``sample``, ``log_prob``, ``cdf``, ``icdf``, ``entropy``, ``mean``, ``mode``, ``variance``
    and ``expand``.
    """

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turn argument validation on or off for distributions created without ``validate_args``."""
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args: expected True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args: bool | None = None) -> None:
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._check_parameters()

    def _check_parameters(self) -> None:
        """Raise ValueError for the first parameter outside its constraint."""
        for param, constraint in self.arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue  # a placeholder: it cannot be checked alone
            if param not in self.__dict__ and isinstance(getattr(type(self), param, None), lazy_property):
                continue  # a lazily computed parameter (probs given logits) is valid by construction
            value = getattr(self, param)
            if not bool(constraint.check(value).all()):
                raise ValueError(f"Expected parameter {param} ({type(value).__name__} of shape {tuple(value.shape)}) "
                                 f"of distribution {self!r} to satisfy the constraint {constraint!r}, "
                                 f"but found invalid values:\n{value}")

    # ------------------------------------------------------------------------- shapes
    @property
    def batch_shape(self) -> Size:
        """The shape over which the parameters are batched."""
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        """The shape of a single sample (without batching)."""
        return self._event_shape

    def _extended_shape(self, sample_shape=Size()) -> Size:
        """``sample_shape + batch_shape + event_shape``: the shape of ``sample(sample_shape)``."""
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def expand(self, batch_shape, _instance=None) -> Distribution:
        """A distribution of the same kind with its parameters expanded (not copied) to ``batch_shape``;
        parameters are not checked again."""
        raise NotImplementedError(f"{type(self).__name__} does not implement expand")

    def _expanded(self, new: Distribution, batch_shape) -> Distribution:
        """The end of every ``expand``: ``new`` gets ``batch_shape``, this event shape and this validation
        flag, its (expanded) parameters unchecked; returns it."""
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _get_checked_instance(self, cls: type, _instance):
        """The instance ``expand`` fills: ``_instance``, or a new ``cls`` (a subclass that overrides
        ``__init__`` must override ``expand`` too)."""
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(f"Subclass {type(self).__name__} of {cls.__name__} that defines a custom "
                                      f"__init__ method must also define a custom .expand() method.")
        return self.__new__(type(self)) if _instance is None else _instance

    # ------------------------------------------------------------------------- constraints
    @property
    def arg_constraints(self) -> dict[str, constraints.Constraint]:
        """The constraint each parameter must satisfy, by name."""
        raise NotImplementedError

    @property
    def support(self) -> constraints.Constraint:
        """The constraint the samples satisfy."""
        raise NotImplementedError

    # ------------------------------------------------------------------------- moments
    @property
    def mean(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no mean")

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement mode")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no variance")

    @property
    def stddev(self) -> Tensor:
        """The standard deviation, ``variance.sqrt()``."""
        return self.variance.sqrt()

    # ------------------------------------------------------------------------- sampling
    def sample(self, sample_shape=Size()) -> Tensor:
        """Draws of shape ``sample_shape + batch_shape + event_shape``, outside the graph (no gradient)."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()) -> Tensor:
        """Reparameterised draws: differentiable with respect to the parameters (``has_rsample``)."""
        raise NotImplementedError(f"{type(self).__name__} has no rsample (has_rsample is False); use sample()")

    # ------------------------------------------------------------------------- densities
    def log_prob(self, value: Tensor) -> Tensor:
        """The log of the density (or mass) at ``value``."""
        raise NotImplementedError

    def cdf(self, value: Tensor) -> Tensor:
        """The cumulative distribution function at ``value``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement cdf")

    def icdf(self, value: Tensor) -> Tensor:
        """The inverse of the cumulative distribution function at ``value``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement icdf")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """Every value of a discrete support along a new leading dim (``expand=False``: batch dims of size 1)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement enumerate_support")

    def entropy(self) -> Tensor:
        """The entropy, of shape ``batch_shape``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement entropy")

    def perplexity(self) -> Tensor:
        """``exp(entropy())``."""
        return self.entropy().exp()

    def _validate_sample(self, value) -> None:
        """Raise ValueError when ``value`` does not end in ``event_shape``, does not broadcast with
        ``batch_shape + event_shape``, or lies outside ``support``."""
        if not isinstance(value, Tensor):
            raise ValueError(f"{type(self).__name__}: the value argument to log_prob must be a Tensor, "
                             f"got {type(value).__name__}")
        event_start = value.dim() - len(self._event_shape)
        if tuple(value.shape[event_start:]) != tuple(self._event_shape):
            raise ValueError(f"{type(self).__name__}: the right-most size of value must match event_shape: "
                             f"{tuple(value.shape)} vs {tuple(self._event_shape)}.")
        expected = tuple(self._batch_shape) + tuple(self._event_shape)
        for i, j in zip(reversed(tuple(value.shape)), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"{type(self).__name__}: value is not broadcastable with batch_shape+event_shape: "
                                 f"{tuple(value.shape)} vs {expected}.")
        support = self.support
        if not bool(support.check(value).all()):
            raise ValueError(f"Expected value argument ({type(value).__name__} of shape {tuple(value.shape)}) "
                             f"to be within the support ({support!r}) of the distribution {self!r}, "
                             f"but found invalid values:\n{value}")

    def __repr__(self) -> str:
        shown = [k for k in self.arg_constraints if k in self.__dict__]
        args = ", ".join(f"{k}: {self.__dict__[k] if self.__dict__[k].numel() == 1 else self.__dict__[k].size()}"
                         for k in shown)
        return f"{type(self).__name__}({args})"
