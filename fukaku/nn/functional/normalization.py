"""Batch, layer, group and instance normalisation (seed 000 §6.1.4; seed 004 §3.6), checked at the
API boundary; local response normalisation (AlexNet); and ``normalize`` (vectors to unit p-norm).

Batch, layer, group and instance normalisation differ only in the axes μ and σ² are taken over,
and all four run on one graph node, :class:`fukaku.ops.normalization.Normalize`. Local response
normalisation and ``normalize`` are composed of differentiable ops.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..._checks import check_int
from ...errors import ShapeError
from ...ops._util import fmt
from ...ops.elementwise import _floating, clamp, rsqrt
from ...ops.normalization import is_mixed_precision, normalize_over
from ...ops.reduce import norm
from ...ops.shape import cat, reshape
from ...tensor import Tensor


def _channel_param(t: Tensor | None, channels: int, name: str, op: str, x: Tensor) -> None:
    if t is not None and t.numel() != channels:
        raise ShapeError(f"{op}: {name} of shape {fmt(t.shape)} should have {channels} elements, one per channel "
                         f"of the input of shape {fmt(x.shape)} (channels are dimension 1)")


def _check_affine_dtype(x: Tensor, weight: Tensor | None, bias: Tensor | None, op: str) -> None:
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and t.dtype != x.dtype and not is_mixed_precision(x, t):
            raise TypeError(f"{op}: {name} has dtype {t.dtype} but the input has dtype {x.dtype}; convert one of them "
                            "(x.float() / x.double(), or model.float() / model.double())")


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
    return tracked_batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def tracked_batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
                       weight: Tensor | None, bias: Tensor | None, training: bool, momentum: float | None, eps: float,
                       num_batches_tracked: Tensor | None = None) -> Tensor:
    """:func:`batch_norm` for the ``BatchNorm`` layers (internal API): in training, the op also advances
    ``num_batches_tracked``, and ``momentum=None`` takes the cumulative average (weight 1/n for the n-th batch)."""
    x = _floating(input)
    if x.ndim < 2:
        raise ShapeError(f"batch_norm: expected an input of shape (N, C) or (N, C, *), got shape {fmt(x.shape)}")
    channels = x.shape[1]
    _check_channel_args(x, "batch_norm", training, running_mean=running_mean, running_var=running_var, weight=weight,
                        bias=bias)
    if not training:
        return _with_running_stats(x, running_mean, running_var, weight, bias, eps, "batch_norm", "training=True")
    weight, bias = _per_channel(weight, _channel_shape(x)), _per_channel(bias, _channel_shape(x))
    count = x.numel() // channels if channels else 0
    if count <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input of shape "
                         f"{fmt(x.shape)}: use a batch of 2 or more samples, or call model.eval()")
    if momentum is None and num_batches_tracked is None and (running_mean is not None or running_var is not None):
        raise ValueError("batch_norm: momentum must be a number to update running statistics; momentum=None (the "
                         "cumulative average) is the BatchNorm layers', which count their batches")
    # the running statistics and the count are updated inside the op, by its forward pass
    return normalize_over(x, (0,) + tuple(range(2, x.ndim)), eps, weight, bias, running_mean=running_mean,
                          running_var=running_var, momentum=momentum, counter=num_batches_tracked)


def _with_running_stats(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None,
                        bias: Tensor | None, eps: float, op: str, instead: str) -> Tensor:
    """γ·(x − running_mean)/√(running_var + ε) + β per channel c (dim 1) of x, γ, β and the running
    statistics ``(C,)``: the inference form of batch and instance normalisation. As PyTorch's kernel,
    it folds the per-channel terms into one scale a = γ/√(running_var + ε) and one shift
    b = β − running_mean·a first, so the input is read once: y = a·x + b."""
    if running_mean is None or running_var is None:
        raise ValueError(f"{op}: running_mean and running_var are required to normalise with running statistics; "
                         f"pass {instead} to normalise with the input's statistics")
    scale = rsqrt(running_var + eps)
    if weight is not None:
        scale = scale * weight
    shift = -(running_mean * scale)
    if bias is not None:
        shift = shift + bias
    return x * reshape(scale, _channel_shape(x)) + reshape(shift, _channel_shape(x))


def _channel_shape(x: Tensor) -> tuple[int, ...]:
    """(C, 1, …, 1): a per-channel parameter's shape broadcasting against x = (N, C, *) from the right."""
    return (x.shape[1],) + (1,) * (x.ndim - 2)


def _per_channel(t: Tensor | None, shape: tuple[int, ...]) -> Tensor | None:
    return None if t is None else reshape(t, shape)


def _check_channel_args(x: Tensor, op: str, updating: bool, **tensors: Tensor | None) -> None:
    """Each of ``tensors`` (γ, β, running statistics) has one element per channel of ``x``; γ and β
    have x's dtype; running statistics about to be updated in place (``updating``) need no grad."""
    for name, t in tensors.items():
        _channel_param(t, x.shape[1], name, op, x)
        if updating and name.startswith("running") and t is not None and t.requires_grad:
            raise RuntimeError(f"{op}: {name} must not require grad (it is updated in place); pass a buffer "
                               "such as fukaku.zeros(C)")
    _check_affine_dtype(x, tensors.get("weight"), tensors.get("bias"), op)


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Instance normalisation (Ulyanov et al. 2016): the BatchNorm formula with μ and the biased σ²
    taken per sample *and* per channel, over the spatial dims alone, so every feature map is
    normalised by itself (style transfer, GANs):

        y[n, c] = γ_c·(x[n, c] − μ_nc)/√(σ²_nc + ε) + β_c

    ``use_input_stats=True`` uses those statistics; running statistics, when given, are updated in
    place as in PyTorch with the batch average of the instance statistics (the unbiased variance
    for ``running_var``): running ← (1 − momentum)·running + momentum·mean_n(statistic_nc).
    ``use_input_stats=False`` normalises with the running statistics instead (``InstanceNorm*d`` in
    eval mode with ``track_running_stats=True``).

    Shapes: input ``(N, C, *)`` with at least one spatial dim; weight, bias and running statistics
    ``(C,)`` or None.
    """
    x = _floating(input)
    if x.ndim < 3:
        raise ShapeError(f"instance_norm: expected an input of shape (N, C, *) with at least one spatial dim, got "
                         f"shape {fmt(x.shape)}; an unbatched (C, L) input becomes (1, C, L) with unsqueeze(0)")
    _check_channel_args(x, "instance_norm", use_input_stats, running_mean=running_mean, running_var=running_var,
                        weight=weight, bias=bias)
    if not use_input_stats:
        return _with_running_stats(x, running_mean, running_var, weight, bias, eps, "instance_norm",
                                   "use_input_stats=True")
    weight, bias = _per_channel(weight, _channel_shape(x)), _per_channel(bias, _channel_shape(x))
    count = math.prod(x.shape[2:])
    if count <= 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when training, got input of shape "
                         f"{fmt(x.shape)}: each (sample, channel) needs several values to normalise")
    return normalize_over(x, tuple(range(2, x.ndim)), eps, weight, bias, running_mean=running_mean,
                          running_var=running_var, momentum=momentum, batch_mean=True)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Group normalisation (Wu & He 2018): the channels of each sample split into ``num_groups``
    groups of C/G consecutive channels, μ and the biased σ² taken per sample and group (over its
    channels and spatial positions), then a per-channel γ and β:

        y[n, c] = γ_c·(x[n, c] − μ_ng)/√(σ²_ng + ε) + β_c,   g = c // (C/G)

    Independent of the batch, like layer normalisation (G = 1 is LayerNorm over (C, *) with
    per-channel γ, β), and G = C is instance normalisation.

    Shapes: input ``(N, C, *)``; weight and bias ``(C,)`` or None.
    """
    x = _floating(input)
    if x.ndim < 2:
        raise ShapeError(f"group_norm: expected an input of shape (N, C, *), got shape {fmt(x.shape)}")
    n, channels = x.shape[0], x.shape[1]
    if isinstance(num_groups, bool) or not isinstance(num_groups, (int, np.integer)) or num_groups < 1 \
            or channels % num_groups:
        raise ShapeError(f"group_norm: num_groups={num_groups!r} must be a positive integer dividing the {channels} "
                         f"channels of the input of shape {fmt(x.shape)} (dimension 1)")
    _check_channel_args(x, "group_norm", False, weight=weight, bias=bias)
    g = int(num_groups)
    per_group = channels // g * math.prod(x.shape[2:])
    if per_group <= 1:
        raise ValueError(f"group_norm: expected more than 1 value per group, got input of shape {fmt(x.shape)} with "
                         f"num_groups={g}: use fewer groups")
    # (N, G, C/G, S): μ and σ² over the last two dims; γ and β as (G, C/G, 1) broadcast against it
    grouped = reshape(x, (n, g, channels // g, math.prod(x.shape[2:])))
    shape = (g, channels // g, 1)
    y = normalize_over(grouped, (2, 3), eps, _per_channel(weight, shape), _per_channel(bias, shape))
    return reshape(y, x.shape)


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """Local response normalisation across channels (Krizhevsky et al. 2012, AlexNet), as PyTorch
    computes it: each value divided by a power of the mean square of its ``size`` neighbouring
    channels,

        b_c = a_c / (k + α/n · Σ_{c' = c − ⌊n/2⌋}^{c + ⌊(n−1)/2⌋} a_{c'}²)^β,   n = size

    (channels outside 0…C−1 count as zeros). Composed of differentiable ops: a sum of ``size``
    shifted slices of the zero-padded squares, no loop over channels or pixels.

    Shapes: input ``(N, C, *)`` with at least 3 dims → the same.
    """
    if input.ndim < 3:
        raise ShapeError(f"local_response_norm: expected an input of shape (N, C, *) with 3 or more dims, got shape "
                         f"{fmt(input.shape)}")
    check_int(size, "size", "local_response_norm")
    x = _floating(input)
    if x.numel() == 0:
        return x
    channels = x.shape[1]
    square = x * x
    before, after = size // 2, (size - 1) // 2
    padded = cat([square.new_zeros((x.shape[0], before) + x.shape[2:]), square,
                  square.new_zeros((x.shape[0], after) + x.shape[2:])], dim=1)
    window = padded[:, :channels]
    for shift in range(1, size):  # over the window's taps, not the channels
        window = window + padded[:, shift:shift + channels]
    return x / ((window / size) * alpha + k) ** beta


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
    return normalize_over(x, tuple(range(x.ndim - k, x.ndim)), eps, weight, bias)


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
