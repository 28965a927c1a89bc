"""Batch and layer normalisation (seed 000 §6.1.4; seed 004 §3.6), checked at the API boundary,
and ``normalize`` (vectors to unit p-norm).

Batch and layer normalisation run on one graph node, :class:`fukaku.ops.normalization.Normalize`;
``normalize`` is composed of the norm, a clamp and a division.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...errors import ShapeError
from ...ops._util import fmt
from ...ops.elementwise import _floating, clamp, rsqrt
from ...ops.normalization import normalize_over
from ...ops.reduce import norm
from ...ops.shape import reshape
from ...tensor import Tensor, bump_version


def _channel_param(t: Tensor | None, channels: int, name: str, op: str, x: Tensor) -> None:
    if t is not None and t.numel() != channels:
        raise ShapeError(f"{op}: {name} of shape {fmt(t.shape)} should have {channels} elements, one per channel "
                         f"of the input of shape {fmt(x.shape)} (channels are dimension 1)")


def _check_affine_dtype(x: Tensor, weight: Tensor | None, bias: Tensor | None, op: str) -> None:
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and t.dtype != x.dtype:
            raise TypeError(f"{op}: {name} has dtype {t.dtype} but the input has dtype {x.dtype}; convert one of them "
                            "(x.float() / x.double(), or model.float() / model.double())")


def _moving_average_(running: Tensor, value: np.ndarray, momentum: float) -> None:
    """running ← (1 − momentum)·running + momentum·value, in place (a buffer: no graph)."""
    data = running._data
    data *= 1.0 - momentum
    data += momentum * value.reshape(data.shape)
    bump_version(running)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation (Ioffe & Szegedy 2015; seed 000 §6.1.4), per channel c of an input
    ``(N, C)`` or ``(N, C, L)`` (any ``(N, C, *)``):

        x̂ = (x − μ_B)/√(σ_B² + ε),   y = γ·x̂ + β

    ``training=True``: μ_B and the biased σ_B² come from the mini-batch (over N and the trailing
    dims), and running statistics, when given, are updated in place as in PyTorch:
    running ← (1 − momentum)·running + momentum·batch statistic, with the *unbiased* batch
    variance for ``running_var``. ``training=False``: the running statistics normalise (the
    population statistics used at inference, seed 004 §3.6). ``weight`` (γ) and ``bias`` (β) are
    ``(C,)`` or None.
    """
    x = _floating(input)
    if x.ndim < 2:
        raise ShapeError(f"batch_norm: expected an input of shape (N, C) or (N, C, *), got shape {fmt(x.shape)}")
    channels = x.shape[1]
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var"), (weight, "weight"), (bias, "bias")):
        _channel_param(t, channels, name, "batch_norm", x)
    _check_affine_dtype(x, weight, bias, "batch_norm")
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var")):
        if training and t is not None and t.requires_grad:
            raise RuntimeError(f"batch_norm: {name} must not require grad (it is updated in place); pass a buffer "
                               "such as fukaku.zeros(C)")
    param_shape = (channels,) + (1,) * (x.ndim - 2)  # broadcasts against (N, C, *) from the right
    weight = None if weight is None else reshape(weight, param_shape)
    bias = None if bias is None else reshape(bias, param_shape)
    if training:
        count = x.numel() // channels if channels else 0
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input of shape "
                             f"{fmt(x.shape)}: use a batch of 2 or more samples, or call model.eval()")
        y, mean, var = normalize_over(x, (0,) + tuple(range(2, x.ndim)), eps, weight, bias)
        if running_mean is not None:
            _moving_average_(running_mean, mean, momentum)
        if running_var is not None:
            _moving_average_(running_var, var * (count / (count - 1)), momentum)
        return y
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: running_mean and running_var are required when training=False; pass "
                         "training=True to normalise with the batch statistics")
    y = (x - reshape(running_mean, param_shape)) * rsqrt(reshape(running_var, param_shape) + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def normalized_shape_tuple(normalized_shape) -> tuple[int, ...]:
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Layer normalisation (Ba et al. 2016; seed 000 §6.1.4, seed 003): the BatchNorm formula with
    μ and the biased σ² taken over the features of each sample, i.e. the trailing dimensions
    ``normalized_shape``, so a sample's output does not depend on the rest of the batch.

    Shapes: input ``(*, *normalized_shape)``; weight and bias ``normalized_shape`` or None.
    """
    shape = normalized_shape_tuple(normalized_shape)
    x = _floating(input)
    k = len(shape)
    if k == 0 or k > x.ndim or tuple(x.shape[x.ndim - k:]) != shape:
        raise ShapeError(
            f"layer_norm: given normalized_shape={shape}, expected an input of shape "
            f"(*, {', '.join(map(str, shape))}), "
            f"got shape {fmt(x.shape)}: normalized_shape names the trailing (feature) dimensions"
        )
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and tuple(t.shape) != shape:
            raise ShapeError(f"layer_norm: {name} of shape {fmt(t.shape)} must have normalized_shape {shape}")
    _check_affine_dtype(x, weight, bias, "layer_norm")
    return normalize_over(x, tuple(range(x.ndim - k, x.ndim)), eps, weight, bias)[0]


def normalize(input: Tensor, p: float = 2.0, dim: int | Sequence[int] = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """Each vector along ``dim`` divided by its p-norm: v / max(‖v‖_p, ε), as
    ``torch.nn.functional.normalize``.

    The floor ε is a clamp in the graph, so where ‖v‖_p < ε the gradient does not flow through the
    norm (v/ε is linear in v there). ``out``, when given, receives the result and is returned.
    Shapes: any → the same; e.g. rows of ``(N, D)`` to unit length with the default ``dim=1``.

    Example::

        >>> F.normalize(fk.tensor([[3.0, 4.0]]))   # [[0.6, 0.8]]
    """
    result = input / clamp(norm(input, p, dim, keepdim=True), min=eps)
    return result if out is None else out.copy_(result)
