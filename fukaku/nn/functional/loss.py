"""Loss functions with ``torch.nn.functional``'s names, signatures, defaults and semantics.

Regression: :func:`mse_loss` (L2 / MSE), :func:`l1_loss` (L1 / MAE), :func:`huber_loss` and
:func:`smooth_l1_loss` (seed 003, "linear regression": MAE is robust to outliers, MSE is pulled
toward them); likelihoods :func:`poisson_nll_loss` (counts) and :func:`gaussian_nll_loss` (a mean
and a variance per prediction).
Binary classification: :func:`binary_cross_entropy` on probabilities, and
:func:`binary_cross_entropy_with_logits` on logits (seed 002 ch. 5: sigmoid + binary cross-entropy);
:func:`soft_margin_loss`, the same loss with ±1 targets.
Multi-class: :func:`cross_entropy` (softmax + cross-entropy, fused: seed 002 P10, ∂L/∂a_j = y_j − t_j),
:func:`nll_loss` on log-probabilities, :func:`kl_div` (seed 002: D(P‖Q) = cross-entropy − entropy),
and the hinge losses :func:`multi_margin_loss` (multi-class hinge) and :func:`hinge_embedding_loss`.
Ranking and metric learning: :func:`margin_ranking_loss`, :func:`cosine_embedding_loss`,
:func:`triplet_margin_loss`.

Every loss takes ``reduction='mean' | 'sum' | 'none'`` (and torch's deprecated ``size_average`` /
``reduce`` flags, which override it with a warning, as in torch).
"""
from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from ... import dtypes
from ...autograd.function import constant, constant_like
from ...autograd.grad_mode import state
from ...backends import array_module
from ...errors import ShapeError
from ...ops._util import fmt, operands
from ...ops.activation import LogLogistic, relu
from ...ops.elementwise import _floating, abs, clamp, exp, log, minimum, sqrt, where
from ...ops.index import gather
from ...ops.loss import BinaryCrossEntropy, SoftmaxCrossEntropy, class_targets
from ...ops.reduce import mean, sum
from ...ops.shape import squeeze, unsqueeze
from ...tensor import Tensor, wrap
from .distance import at_least, pairwise_distance

_REDUCTIONS = ("none", "mean", "sum")


# ------------------------------------------------------------------------------------- argument checks
def _reduction(op: str, size_average: bool | None, reduce: bool | None, reduction: str,
               allowed: tuple[str, ...] = _REDUCTIONS) -> str:
    """The reduction to apply; torch's legacy ``size_average``/``reduce`` flags override it (with a warning)."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = ("mean" if size_average else "sum") if reduce else "none"
        warnings.warn(f"{op}: size_average and reduce args will be deprecated, please use reduction='{reduction}' "
                      "instead.", UserWarning, stacklevel=3)
    if reduction not in allowed:
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction; use one of "
                         + ", ".join(repr(r) for r in allowed))
    return reduction


def _tensor(op: str, name: str, value) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a fukaku.Tensor, got {type(value).__name__}; "
                        f"wrap it with fukaku.tensor(...)")
    return value


def _floating_input(op: str, input) -> Tensor:
    input = _tensor(op, "input", input)
    if not input.is_floating_point():
        raise TypeError(f"{op}: input must be floating point, got {input.dtype}; convert it with .float()")
    return input


def _same_dtype(op: str, input, target) -> tuple[Tensor, Tensor]:
    """A floating input and a target that broadcasts to it, in the input's dtype."""
    input, target = _floating_input(op, input), _tensor(op, "target", target)
    _check_broadcast(op, input, target)
    return input, target if target.dtype == input.dtype else target.to(input.dtype)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    return sum(loss) if reduction == "sum" else mean(loss)


def _check_broadcast(op: str, input: Tensor, target: Tensor) -> None:
    try:
        np.broadcast_shapes(input.shape, target.shape)
    except ValueError:
        raise ShapeError(f"{op}: input of shape {fmt(input.shape)} and target of shape {fmt(target.shape)} do not "
                         "match and cannot broadcast; give the target the input's shape") from None


def _pointwise_pair(op: str, input, target) -> tuple[Tensor, Tensor]:
    """Input and target of a regression loss. Like torch, different shapes broadcast with a warning
    (an (N, 1) prediction against an (N,) target is a classic bug); shapes that cannot broadcast
    raise ShapeError."""
    input, target = _tensor(op, "input", input), _tensor(op, "target", target)
    if input.shape != target.shape:
        _check_broadcast(op, input, target)
        warnings.warn(f"{op}: using a target size ({fmt(target.shape)}) that is different to the input size "
                      f"({fmt(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", UserWarning, stacklevel=3)
    input, target = operands(input, target)
    if not dtypes.is_floating_point(input._data.dtype):
        input, target = input.to(dtypes.get_default_dtype()), target.to(dtypes.get_default_dtype())
    return input, target


def _elementwise_weight(op: str, weight, input: Tensor) -> Tensor:
    weight = _tensor(op, "weight", weight)
    if weight.shape != input.shape:
        raise ShapeError(f"{op}: weight of shape {fmt(weight.shape)} must have the input's shape {fmt(input.shape)} "
                         "(one weight per element)")
    return weight


def _broadcast_weight(op: str, name: str, weight, input: Tensor) -> Tensor:
    """A weight that must broadcast to the input's shape (BCE's ``weight`` and ``pos_weight``)."""
    weight = _tensor(op, name, weight)
    try:
        ok = np.broadcast_shapes(weight.shape, input.shape) == input.shape
    except ValueError:
        ok = False
    if not ok:
        hint = "; one weight per class has shape (C,)" if name == "pos_weight" else ""
        raise ShapeError(f"{op}: {name} of shape {fmt(weight.shape)} does not broadcast to the input's shape "
                         f"{fmt(input.shape)}{hint}")
    return weight if weight.dtype == input.dtype else weight.to(input.dtype)


# ------------------------------------------------------------------------------------- regression
def mse_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error (L2 loss): (input − target)² elementwise, shapes ``(*)``.

    With ``weight`` (the input's shape) the mean is Σ w·(x − y)² / Σ w, as in torch.
    """
    reduction = _reduction("mse_loss", size_average, reduce, reduction)
    input, target = _pointwise_pair("mse_loss", input, target)
    diff = input - target
    loss = diff * diff
    if weight is None:
        return _reduce(loss, reduction)
    weight = _elementwise_weight("mse_loss", weight, input)
    loss = loss * weight
    return sum(loss) / sum(weight) if reduction == "mean" else _reduce(loss, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean absolute error (L1 loss, MAE): |input − target| elementwise, shapes ``(*)``.

    The gradient at input == target is 0 (sign(0)), as in torch. With ``weight`` the mean is
    Σ w·|x − y| / Σ w.
    """
    reduction = _reduction("l1_loss", size_average, reduce, reduction)
    input, target = _pointwise_pair("l1_loss", input, target)
    loss = abs(input - target)
    if weight is None:
        return _reduce(loss, reduction)
    weight = _elementwise_weight("l1_loss", weight, input)
    loss = loss * weight
    return sum(loss) / sum(weight) if reduction == "mean" else _reduce(loss, reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """Huber loss: ½d² where |d| < delta, delta·(|d| − ½delta) elsewhere (d = input − target).

    Quadratic near 0 like MSE, linear in the tails like MAE, so outliers pull on it with a bounded
    force delta. With ``weight`` the mean is mean(w · loss) (torch's choice for this loss).
    """
    reduction = _reduction("huber_loss", None, None, reduction)
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    input, target = _pointwise_pair("huber_loss", input, target)
    loss = _quadratic_then_linear(input - target, delta)
    if weight is not None:
        loss = loss * _elementwise_weight("huber_loss", weight, input)
    return _reduce(loss, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Smooth L1 loss (Girshick 2015): ½d²/β where |d| < β, |d| − ½β elsewhere (d = input − target).

    Huber's loss divided by β = delta: the slope in the tails is 1 whatever β, and β = 0 gives
    the L1 loss. Shapes ``(*)``; different shapes broadcast with a warning, as in torch.
    """
    op = "smooth_l1_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    if beta < 0:
        raise ValueError(f"{op}: smooth_l1_loss does not support negative values for beta, got {beta}")
    input, target = _pointwise_pair(op, input, target)
    diff = input - target
    return _reduce(abs(diff) if beta == 0 else _quadratic_then_linear(diff, beta, per_width=True), reduction)


def _quadratic_then_linear(diff: Tensor, width: float, per_width: bool = False) -> Tensor:
    """½d² for |d| < width, linear beyond with the same value and slope at |d| = width: Huber's
    width·(|d| − ½·width), or with ``per_width`` everything divided by width (smooth L1)."""
    size = abs(diff)
    if per_width:
        return where(size < width, 0.5 * diff * diff / width, size - 0.5 * width)
    return where(size < width, 0.5 * diff * diff, width * (size - 0.5 * width))


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: bool | None = None, eps: float = 1e-8, reduce: bool | None = None,
                     reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of counts ``target`` under Poisson(λ), shapes ``(*)``.

    With ``log_input`` the input is log λ and the loss e^{input} − target·input; otherwise the input
    is λ and the loss λ − target·log(λ + eps). ``full`` adds Stirling's approximation of
    log(target!), target·log target − target + ½log(2π·target), where target > 1 (0 elsewhere).
    The target is differentiated too, as in torch (at target = 0 with ``full`` the gradient is 0
    here, NaN in torch).
    """
    op = "poisson_nll_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    input, target = _same_dtype(op, input, target)
    loss = exp(input) - target * input if log_input else input - target * log(input + eps)
    if full:
        small = constant(target._data <= 1)
        t = where(small, constant_like(1, target._data), target)  # log of 1, not of 0, where it is masked
        stirling = t * log(t) - t + 0.5 * log((2 * math.pi) * t)
        loss = loss + where(small, constant_like(0, target._data), stirling)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of ``target`` under N(input, var): ½(log var + (input − target)²/var)
    (+ ½log 2π with ``full``), shapes ``(*)``.

    ``var`` is the input's shape (one variance per prediction), or that shape with one dimension
    of size 1 or without its last dimension (shared across it), or a float. Variances below
    ``eps`` count as ``eps`` in value, but their gradient passes as if unclamped (torch clamps
    them in place under ``no_grad``); a negative variance raises ValueError.
    """
    op = "gaussian_nll_loss"
    input, target = _same_dtype(op, input, target)
    if isinstance(var, Tensor):
        if (var._data < 0).any():
            raise ValueError(f"{op}: var has negative entry/entries")
    elif isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"{op}: var has negative entry/entries (got {var})")
        var = constant(array_module(input._data).full(input.shape, var, input.dtype))
    else:
        raise TypeError(f"{op}: var must be a fukaku.Tensor or a float, got {type(var).__name__}")
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:  # one variance per row, shared by the last dimension
            var = unsqueeze(var, -1)
        elif not (var.ndim == input.ndim and builtins.sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ShapeError(f"{op}: var is of incorrect size: var of shape {fmt(var.shape)} for input of shape "
                             f"{fmt(input.shape)}; give it the input's shape, the input's shape with one dimension "
                             f"of size 1, or {fmt(input.shape[:-1])}")
    reduction = _reduction(op, None, None, reduction)
    var = at_least(var if var.dtype == input.dtype else var.to(input.dtype), eps)
    diff = input - target
    loss = 0.5 * (log(var) + diff * diff / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy on probabilities ``input`` in [0, 1]; ``target`` of the same shape ``(*)``.

    ``weight`` broadcasts to the input's shape and rescales each element's loss. For logits, use
    :func:`binary_cross_entropy_with_logits`, which is numerically stable.
    """
    op = "binary_cross_entropy"
    reduction = _reduction(op, size_average, reduce, reduction)
    input, target = _floating_input(op, input), _tensor(op, "target", target)
    if target.shape != input.shape:
        raise ShapeError(f"{op}: target of shape {fmt(target.shape)} must have the input's shape {fmt(input.shape)}")
    x = input._data
    if x.size and not ((x >= 0) & (x <= 1)).all():
        bad = x[~((x >= 0) & (x <= 1))]
        raise ValueError(f"{op}: all elements of input should be between 0 and 1 (found {bad.size} outside, e.g. "
                         f"{bad.flat[0]}); pass probabilities such as sigmoid(logits), or pass the logits to "
                         "binary_cross_entropy_with_logits")
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * _broadcast_weight(op, "weight", weight, input)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: bool | None = None, reduce: bool | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable expression, on logits ``input`` ``(*)``.

    loss = (1 − t)·x − (1 + (pos_weight − 1)·t)·log σ(x), the same as −[p·t·log σ(x) + (1 − t)·log σ(−x)]
    with p = pos_weight, but log σ is never formed from a rounded σ, so logits of ±1e4 stay finite.
    ``pos_weight`` (e.g. shape ``(C,)`` for ``(N, C)`` multi-label input) weighs the positive
    class; ``weight`` rescales each element. Both broadcast to the input's shape.
    """
    op = "binary_cross_entropy_with_logits"
    reduction = _reduction(op, size_average, reduce, reduction)
    input, target = _floating_input(op, input), _tensor(op, "target", target)
    if target.shape != input.shape:
        raise ShapeError(f"{op}: target of shape {fmt(target.shape)} must have the input's shape {fmt(input.shape)}")
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    log_sig = LogLogistic.apply(input)
    if pos_weight is not None:
        log_sig = log_sig * ((_broadcast_weight(op, "pos_weight", pos_weight, input) - 1.0) * target + 1.0)
    loss = (1.0 - target) * input - log_sig
    if weight is not None:
        loss = loss * _broadcast_weight(op, "weight", weight, input)
    return _reduce(loss, reduction)


# ------------------------------------------------------------------------------------- class targets
def _class_dim(op: str, input: Tensor) -> int:
    if input.ndim == 0:
        raise ShapeError(f"{op}: input must have a class dimension: (C,), (N, C) or (N, C, d1, ...); got a 0-d tensor")
    dim = 0 if input.ndim == 1 else 1
    if input.shape[dim] == 0:
        raise ShapeError(f"{op}: input of shape {fmt(input.shape)} has no classes (C = 0 in dimension {dim})")
    return dim


def _class_weight(op: str, weight, n_classes: int, dtype: np.dtype) -> np.ndarray | None:
    """Per-class weights ``(C,)`` as an array: like torch, they are constants, not differentiated."""
    if weight is None:
        return None
    weight = _tensor(op, "weight", weight)
    if weight.shape != (n_classes,):
        raise ShapeError(f"{op}: weight of shape {fmt(weight.shape)} must have one entry per class, "
                         f"shape ({n_classes},)")
    if weight.requires_grad and state.grad_enabled:
        raise RuntimeError(f"{op}: the loss is not differentiable with respect to the class weight, so weight must "
                           "not require grad (as in torch); pass weight.detach()")
    return weight._data.astype(dtype, copy=False)


def _check_index_target(op: str, input: Tensor, target: Tensor, dim: int) -> None:
    """Refuse class-index targets of the wrong dtype or shape for an input ``(N, C, d1, ...)``."""
    t = target._data
    expected = input.shape[:dim] + input.shape[dim + 1:]
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: class-index target must be an integer (int64) tensor, got {t.dtype}")
    if t.shape != expected:
        raise ShapeError(f"{op}: expected a class-index target of shape {fmt(expected)} for input of shape "
                         f"{fmt(input.shape)}, got {fmt(t.shape)}")


class _Targets:
    """Class-index targets checked against an input ``(N, C, d1, ...)``: ``safe`` holds the indices
    with ignored positions set to class 0, ``valid`` marks the positions that count."""

    def __init__(self, op: str, input: Tensor, target: Tensor, dim: int, ignore_index: int) -> None:
        _check_index_target(op, input, target, dim)
        self.valid, self.safe = class_targets(op, target._data, input.shape[dim], ignore_index)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
                  ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax + cross-entropy on logits, fused into one numerically stable op.

    Shapes: ``input`` ``(N, C)``, ``(N, C, d1, ..., dK)`` or ``(C,)``; ``target`` either class
    indices (int64) of shape ``(N,)``, ``(N, d1, ..., dK)`` or ``()``, or class probabilities of the
    input's shape. ``weight`` ``(C,)`` rescales each class; positions whose target is
    ``ignore_index`` count for nothing (index targets only); ``label_smoothing`` ε mixes the target
    with the uniform distribution: (1 − ε)·target + ε/C. With 'mean', index targets divide by the
    total weight of the counted targets, probability targets by the number of positions — torch's
    semantics in every combination. Result: a scalar, or ``(N, d1, ...)`` with reduction='none'.
    """
    op = "cross_entropy"
    reduction = _reduction(op, size_average, reduce, reduction)
    input, target = _floating_input(op, input), _tensor(op, "target", target)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    dim = _class_dim(op, input)
    n_classes = input.shape[dim]
    w = _class_weight(op, weight, n_classes, input.dtype)
    wb = None if w is None else w.reshape([n_classes if d == dim else 1 for d in range(input.ndim)])
    params = dict(dim=dim, n_classes=n_classes, eps=float(label_smoothing), reduction=reduction, wb=wb, cache=None)
    if target.shape == input.shape:  # class probabilities, as torch decides
        if not dtypes.is_floating_point(target._data.dtype):
            raise TypeError(f"{op}: a target of the input's shape {fmt(input.shape)} holds class probabilities "
                            f"and must be floating point, got {target.dtype}; class indices have shape "
                            f"{fmt(input.shape[:dim] + input.shape[dim + 1:])}")
        if ignore_index >= 0:
            raise ValueError(f"{op}: ignore_index is not supported for probability targets (got {ignore_index})")
        positions = input._data.size // n_classes
        params.update(index=None, coef=None, smooth=None, scale=1.0 / positions if reduction == "mean" and positions
                      else (float("nan") if reduction == "mean" else 1.0))
        probs = target if target.dtype == input.dtype else target.to(input.dtype)
        return SoftmaxCrossEntropy.apply(input, probs, **params)
    if dtypes.is_floating_point(target._data.dtype):
        raise ShapeError(f"{op}: a floating-point target holds class probabilities and must have the input's shape "
                         f"{fmt(input.shape)}, got {fmt(target.shape)}; for class indices pass an int64 tensor of "
                         f"shape {fmt(input.shape[:dim] + input.shape[dim + 1:])}")
    _check_index_target(op, input, target, dim)
    # the op takes q from this call's targets in its forward pass (index, coef, smooth and scale)
    params.update(index=None, coef=None, smooth=None, scale=1.0, ignore_index=ignore_index)
    return SoftmaxCrossEntropy.apply(input, target, **params)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
             ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices, given log-probabilities ``input``.

    Shapes as :func:`cross_entropy` with index targets: ``input`` ``(N, C, d1, ...)`` or ``(C,)``,
    ``target`` ``(N, d1, ...)`` or ``()``. loss_s = −w_{t_s}·input[s, t_s]; 'mean' divides by
    Σ w_{t_s} over positions that are not ``ignore_index`` (NaN when none counts, as in torch).
    ``nll_loss(log_softmax(x, 1), t)`` equals ``cross_entropy(x, t)``, which is fused and faster.
    """
    op = "nll_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    input, target = _floating_input(op, input), _tensor(op, "target", target)
    dim = _class_dim(op, input)
    w = _class_weight(op, weight, input.shape[dim], input.dtype)
    t = _Targets(op, input, target, dim, ignore_index)
    xp = array_module(input._data, t.safe)
    counted = t.valid.astype(input.dtype)
    w_t = counted if w is None else w[t.safe] * counted
    picked = squeeze(gather(input, dim, wrap(xp.expand_dims(t.safe, dim))), dim)
    loss = picked * constant(-w_t)
    if reduction != "mean":
        return _reduce(loss, reduction)
    total_weight = w_t.sum(dtype=np.float64)  # a count: float16 stops counting at 2048, bfloat16 at 256
    with np.errstate(invalid="ignore", divide="ignore"):  # every target ignored: 0/0 = NaN, as torch
        return sum(loss) / constant(xp.asarray(total_weight, input.dtype))


# ------------------------------------------------------------------------------------- KL divergence
def _xlogy_self(t: Tensor) -> Tensor:
    """t·log t with 0·log 0 = 0 (the entropy term of KL); negative t gives NaN, as torch's xlogy."""
    zero = t._data == 0
    safe = where(constant(zero), constant_like(1, t._data), t)
    return where(constant(zero), constant_like(0, t._data), t * log(safe))


def kl_div(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback–Leibler divergence D(target ‖ exp(input)) with ``input`` as log-probabilities ``(*)``.

    Pointwise t·(log t − input) (or e^t·(t − input) with ``log_target=True``, t then being
    log-probabilities). ``reduction='batchmean'`` divides the sum by the batch size (input.size(0))
    and gives the true KL divergence per sample; 'mean' divides by every element (torch warns
    about it, and so does this).
    """
    op = "kl_div"
    if size_average is None and reduce is None and reduction == "mean":
        warnings.warn("kl_div: reduction 'mean' divides the total loss by both the batch size and the support size. "
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition.",
                      UserWarning, stacklevel=2)
    reduction = _reduction(op, size_average, reduce, reduction, allowed=_REDUCTIONS + ("batchmean",))
    input, target = _floating_input(op, input), _tensor(op, "target", target)
    _check_broadcast(op, input, target)
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    if log_target:
        loss = exp(target) * (target - input)
    else:
        loss = _xlogy_self(target) - target * input
    if reduction == "batchmean":
        total = sum(loss)
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)


# ------------------------------------------------------------------------------------- hinge losses
def check_margin_power(p: int, op: str) -> int:
    """The power ``p`` of the multi-class hinge loss: 1 or 2, the only ones torch supports."""
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 supported, got {p}")
    return p


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                      size_average: bool | None = None, reduce: bool | None = None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss (p = 1, margin = 1: the SVM hinge of Weston & Watkins / Crammer–Singer form).

    Shapes: ``input`` ``(N, C)`` or ``(C,)``, ``target`` class indices ``(N,)`` or ``()``.
    loss_n = Σ_{i ≠ y} w_y·max(0, margin − x[y] + x[i])^p / C. ``weight`` ``(C,)`` rescales by
    the target's class (outside the power, as torch's implementation does).
    """
    op = "multi_margin_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    check_margin_power(p, op)
    input, target = _floating_input(op, input), _tensor(op, "target", target)
    if input.ndim not in (1, 2):
        raise ShapeError(f"{op}: input must be (N, C) or (C,), got shape {fmt(input.shape)}")
    dim = _class_dim(op, input)
    n_classes = input.shape[dim]
    w = _class_weight(op, weight, n_classes, input.dtype)
    t = _Targets(op, input, target, dim, ignore_index=-(2 ** 62))  # no ignore_index for this loss
    xp = array_module(input._data, t.safe)
    index = xp.expand_dims(t.safe, dim)
    at_target = gather(input, dim, wrap(index))
    gap = relu(margin - at_target + input)
    if p == 2:
        gap = gap * gap
    others = xp.ones(input.shape, input.dtype)
    xp.put_along_axis(others, index, 0, dim)
    scale = others if w is None else others * xp.expand_dims(w[t.safe], dim)
    loss = sum(gap * constant(scale / n_classes), dim)
    return _reduce(loss, reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average: bool | None = None,
                         reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Hinge embedding loss: x where target = 1, max(0, margin − x) where target = −1 (shapes ``(*)``).

    ``input`` is usually a distance between two embeddings; target holds 1 (similar) or −1
    (dissimilar). Values other than ±1 get both terms, as in torch.
    """
    op = "hinge_embedding_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    input, target = _floating_input(op, input), _tensor(op, "target", target)
    _check_broadcast(op, input, target)
    zero = constant_like(0, input._data)
    t = target._data
    loss = where(constant(t != 1), clamp(margin - input, min=0), zero) + where(constant(t != -1), input, zero)
    return _reduce(loss, reduction)


# ------------------------------------------------------------------------------------- margin losses
def soft_margin_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
                     reduction: str = "mean") -> Tensor:
    """Two-class logistic loss log(1 + e^{−y·x}) elementwise, targets y = ±1, shapes ``(*)``.

    Computed as −log σ(y·x), which stays finite where e^{−y·x} would overflow. 'mean' divides by
    the number of elements. (The target is differentiated too; torch refuses a target that
    requires grad.)
    """
    op = "soft_margin_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    input, target = _same_dtype(op, input, target)
    return _reduce(-LogLogistic.apply(input * target), reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    """Ranking hinge max(0, −y·(x₁ − x₂) + margin): y = 1 asks x₁ to rank above x₂ by ``margin``,
    y = −1 the reverse. Shapes ``(*)``, the same number of dimensions for all three (they
    broadcast), as torch requires.
    """
    op = "margin_ranking_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    input1, input2, target = (_tensor(op, n, t) for n, t in (("input1", input1), ("input2", input2),
                                                             ("target", target)))
    if not input1.ndim == input2.ndim == target.ndim:
        raise ShapeError(f"{op}: all input tensors should have the same number of dimensions but got shapes "
                         f"input1: {fmt(input1.shape)}, input2: {fmt(input2.shape)}, target: {fmt(target.shape)}")
    gap = _floating(input1) - input2
    return _reduce(clamp(margin - target * gap, min=0), reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average: bool | None = None, reduce: bool | None = None,
                          reduction: str = "mean") -> Tensor:
    """1 − cos(x₁, x₂) where target = 1 (pull together), max(0, cos(x₁, x₂) − margin) where
    target = −1 (push apart), 0 for other targets.

    Shapes: input1, input2 ``(N, D)`` with target ``(N,)``, or ``(D,)`` with a 0-d target.
    cos = x₁·x₂ / √((‖x₁‖² + 1e-12)(‖x₂‖² + 1e-12)), as torch computes it.
    """
    op = "cosine_embedding_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    input1, input2, target = (_tensor(op, n, t) for n, t in (("input1", input1), ("input2", input2),
                                                             ("target", target)))
    if target.ndim not in (0, 1):
        raise ShapeError(f"{op}: 0D or 1D target tensor expected, multi-target not supported (got target of shape "
                         f"{fmt(target.shape)})")
    want = target.ndim + 1
    if input1.ndim != want or input2.ndim != want:
        raise ShapeError(f"{op}: {target.ndim}D target tensor expects {want}D input tensors, but found inputs of "
                         f"shapes {fmt(input1.shape)} and {fmt(input2.shape)}")
    x1, x2 = operands(_floating(input1), input2)
    dim = target.ndim
    squared = [sum(x * x, dim) + 1e-12 for x in (x1, x2)]
    cos = sum(x1 * x2, dim) / sqrt(squared[0] * squared[1])
    zero = constant_like(0, cos._data)
    t = target._data
    loss = where(constant(t == 1), 1 - cos, zero) + where(constant(t == -1), clamp(cos - margin, min=0), zero)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average: bool | None = None,
                        reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Triplet loss (Schroff et al. 2015): max(0, d(a, p) − d(a, n) + margin) with d the
    :func:`~fukaku.nn.functional.pairwise_distance` (p-norm, ε added to the difference).

    ``swap`` uses min(d(a, n), d(p, n)) as the negative distance (Balntas et al. 2016). Shapes:
    ``(N, D)`` each (or ``(D,)``), the same number of dimensions → ``(N,)`` with reduction='none'.
    """
    op = "triplet_margin_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    tensors = [_tensor(op, n, t) for n, t in (("anchor", anchor), ("positive", positive), ("negative", negative))]
    if len({t.ndim for t in tensors}) != 1:
        raise ShapeError(f"{op}: the anchor, positive, and negative tensors are expected to have the same number of "
                         f"dimensions, but got shapes anchor {fmt(anchor.shape)}, positive {fmt(positive.shape)} "
                         f"and negative {fmt(negative.shape)}")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(clamp(margin + d_pos - d_neg, min=0), reduction)
