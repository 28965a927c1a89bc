"""Helpers shared by the distributions, under ``torch.distributions.utils``' names: ``broadcast_all``,
``lazy_property``, ``logits_to_probs``, ``probs_to_logits``, ``clamp_probs``; and fukaku's own
``sum_rightmost`` and ``standard_normal`` / ``standard_uniform`` (draws for a shape, outside the graph).
"""
from __future__ import annotations

import numbers
from functools import update_wrapper

from .. import dtypes
from ..autograd import enable_grad
from ..ops.activation import log_softmax, softmax
from ..ops.elementwise import clamp, log, log1p, sigmoid
from ..ops.shape import broadcast_tensors
from ..tensor import Size, Tensor, rand, randn, tensor

__all__ = ["broadcast_all", "lazy_property", "logits_to_probs", "probs_to_logits", "clamp_probs", "sum_rightmost",
           "batch_shape_of", "standard_normal", "standard_uniform"]


def broadcast_all(*values) -> tuple[Tensor, ...]:
    """The values broadcast to one shape, numbers made tensors: of the first tensor's dtype, or the
    default dtype when all are numbers (as ``torch.distributions.utils.broadcast_all``).

    Raises:
        ValueError: a value is neither a tensor nor a number.
    """
    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number or fukaku.Tensor.")
    first = next((v for v in values if isinstance(v, Tensor)), None)
    dtype = first.dtype if first is not None and first.is_floating_point() else dtypes.get_default_dtype()
    tensors = [v if isinstance(v, Tensor) else tensor(float(v), dtype=dtype) for v in values]
    return tuple(broadcast_tensors(*tensors))


class lazy_property:  # noqa: N801  (PyTorch's name)
    """A property computed on first access and stored on the instance (with gradients enabled, so that
    ``probs`` computed from ``logits`` stays differentiable); validation skips lazy parameters not yet
    computed."""

    def __init__(self, wrapped) -> None:
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        with enable_grad():
            value = self.wrapped(instance)
        instance.__dict__[self.wrapped.__name__] = value
        return value


def clamp_probs(probs: Tensor) -> Tensor:
    """``probs`` clamped to [eps, 1 − eps] (eps of its dtype), so that their logs stay finite."""
    eps = dtypes.finfo(probs.dtype).eps
    return clamp(probs, eps, 1 - eps)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Probabilities from logits: the sigmoid for a binary variable, else the softmax over the last dim."""
    return sigmoid(logits) if is_binary else softmax(logits, dim=-1)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Logits from probabilities (clamped first): log p − log(1 − p) for a binary variable, else log p."""
    p = clamp_probs(probs)
    return log(p) - log1p(-p) if is_binary else log(p)


def normalized_logits(logits: Tensor) -> Tensor:
    """``logits − logsumexp(logits)`` over the last dim: log-probabilities."""
    return log_softmax(logits, dim=-1)


def sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """``value`` summed over its ``dim`` rightmost dims (``dim = 0``: unchanged)."""
    if dim == 0:
        return value
    return value.reshape(*value.shape[:value.dim() - dim], -1).sum(-1)


def batch_shape_of(param: Tensor, *given) -> Size:
    """The batch shape a distribution's constructor arguments ``given`` imply: ``Size()`` when all are
    Python numbers (as PyTorch), else the shape of the broadcast parameter ``param``."""
    return Size() if all(isinstance(g, numbers.Number) for g in given) else param.shape


def standard_normal(shape, dtype) -> Tensor:
    """N(0, 1) draws of ``shape`` from fukaku's default generator, outside the graph."""
    return randn(Size(shape), dtype=dtype)


def standard_uniform(shape, dtype) -> Tensor:
    """U[0, 1) draws of ``shape`` from fukaku's default generator, outside the graph."""
    return rand(Size(shape), dtype=dtype)
