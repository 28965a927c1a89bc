"""The graph nodes of the losses whose rules are their own: binary cross-entropy on probabilities
and the fused softmax cross-entropy with its differentiable backward (log σ, which the logit form
of binary cross-entropy uses, is :class:`fukaku.ops.activation.LogLogistic`).

The loss functions users call, with their argument checks, are in :mod:`fukaku.nn.functional.loss`.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .. import dtypes
from ..autograd.function import Function, constant
from ..backends import array_module
from ..tensor import Tensor
from .activation import log_softmax, softmax
from .elementwise import clamp, log
from .reduce import sum


# ------------------------------------------------------------------------------------- binary cross-entropy
class BinaryCrossEntropy(Function):
    """−[t·log x + (1 − t)·log(1 − x)] elementwise, each log clamped at −100 as in torch, so that
    x = 0 or 1 gives a large finite loss instead of inf.

    The gradients are torch's: (x − t) / max(x(1 − x), 1e-12) for x (finite at the clamped ends)
    and log(1 − x) − log x for t. They are written with tensor ops, so they differentiate again.
    """

    def forward(self, x: Tensor, t: Tensor) -> np.ndarray:
        self.save(x, t)
        xp = array_module(x._data)
        with np.errstate(divide="ignore"):
            log_x = xp.maximum(xp.log(x._data), -100)
            log_1mx = xp.maximum(xp.log1p(-x._data), -100)
        return (-(t._data * log_x + (1 - t._data) * log_1mx)).astype(x._data.dtype, copy=False)

    def _dx(self) -> Tensor:
        x, t = self.saved
        return (x - t) / clamp(x * (1.0 - x), min=1e-12)

    def _dt(self) -> Tensor:
        x, _ = self.saved
        return log(1.0 - x) - log(x)

    def vjp(self, grad: Tensor):
        nx, nt = self.needs_input_grad
        return (grad * self._dx() if nx else None, grad * self._dt() if nt else None)

    def jvp(self, dx, dt):
        out = dx * self._dx() if dx is not None else None
        if dt is not None:
            term = dt * self._dt()
            out = term if out is None else out + term
        return out


# ------------------------------------------------------------------------------------- fused softmax cross-entropy
@dataclass(kw_only=True, eq=False, repr=False)  # declared parameters; identity and repr stay Function's
class _CrossEntropyRule:
    """What the fused op and its backward share: their parameters and the effective target q.

    At every position s the loss is loss_s = −Σ_c q_{s,c}·log softmax(z)_{s,c}, and its gradient is
    the textbook's ∂L/∂z = y − t (seed 000 §6.1.2, seed 004 §3.2) in general form:

        ∂loss_s/∂z = softmax(z)·Q_s − q_s,   Q_s = Σ_c q_{s,c},

    which for a plain one-hot target (q = onehot(t), Q = 1) is softmax(z) − onehot(t). The weights,
    ``ignore_index``, label smoothing ε and probability targets only change q, built in one place,
    :meth:`_target`, for the fast NumPy path and the differentiable tensor path alike:

    * class indices t:   q = (1 − ε)·w_t·onehot(t) + (ε/C)·w, zero at ignored positions;
    * probabilities P:   q = w ⊙ ((1 − ε)·P + ε/C).

    Reductions: 'mean' divides by Σ w_t over counted positions (indices) or by the number of
    positions (probabilities), as torch does; ``scale`` holds that factor (1 otherwise).

    Args:
        dim: the class dimension of the logits.
        n_classes: C.
        eps: the label smoothing ε.
        reduction: 'none', 'mean' or 'sum'.
        scale: the factor of the reduction ('mean': 1 / the divisor above; 1 otherwise).
        wb: class weights shaped to broadcast along ``dim``, or None.
        index: class indices with ``dim`` kept (size 1), or None for probability targets.
        coef: (1 − ε)·w_t, zero at ignored positions, shaped as ``index``.
        smooth: ε/C at counted positions, zero elsewhere, shaped as ``index``; None when ε = 0.
        cache: (e^{z}, Σ_c e^{z}) with z = x − max x, from the forward pass, or None.
        ignore_index: for class-index targets, passed as the op's second input: the index that counts for
            nothing. The forward pass then sets ``index``, ``coef``, ``smooth`` and ``scale`` from the call's
            targets (:meth:`_take_index_targets`), so everything that depends on the data is computed inside
            the op (what a static forward program of ``fukaku.jit`` replays). None otherwise.
    """

    dim: int
    n_classes: int
    eps: float
    reduction: str
    scale: float
    wb: np.ndarray | None = None
    index: np.ndarray | None = None
    coef: np.ndarray | None = None
    smooth: np.ndarray | None = None
    cache: tuple[np.ndarray, np.ndarray] | None = None
    ignore_index: int | None = None

    def _params(self) -> dict:
        """The constructor's arguments, for the backward op built from this one."""
        return {field.name: getattr(self, field.name) for field in fields(self)}

    def _take_index_targets(self, target: np.ndarray, dtype: np.dtype) -> None:
        """``index``, ``coef``, ``smooth`` and ``scale`` from class indices ``target`` (the positions' shape)."""
        valid, safe = class_targets("cross_entropy", target, self.n_classes, self.ignore_index)
        xp, dim = array_module(target), self.dim
        counted = valid.astype(dtype)
        w_t = counted if self.wb is None else self.wb.reshape(-1)[safe] * counted
        if self.reduction == "mean":
            total_weight = w_t.sum(dtype=np.float64)  # a count: float16 stops counting at 2048, bfloat16 at 256
            self.scale = 1.0 / total_weight if total_weight != 0 else float("nan")  # nothing counted: NaN, as torch
        self.smooth = xp.expand_dims(counted * (self.eps / self.n_classes), dim) if self.eps > 0 else None
        self.index = xp.expand_dims(safe, dim)
        self.coef = xp.expand_dims(((1.0 - self.eps) * w_t).astype(dtype), dim)

    # ---------------------------------------------------------------- the effective target, once
    def _target(self, probs: np.ndarray | Tensor | None = None, times: np.ndarray | None = None) -> tuple:
        """q in two parts, q = hit·onehot(t) + spread, and Q = Σ_c q, each times ``times`` if given.

        Index targets give ``hit`` = (1 − ε)·w_t per position and ``spread`` = (ε/C)·w (None when
        ε = 0; a column broadcasting over the classes when there are no weights), so that q stays
        sparse; probability targets give ``hit`` = None and the dense ``spread``. ``probs`` (P) and
        the results are arrays on the fast path and tensors on the differentiable one; ``times``
        (arrays only) is the upstream gradient per position, folded into the per-position factors
        so that the fast path does not scale a full-size q again.
        """
        if self.index is not None:
            hit, column = self.coef, self.smooth
            if times is not None:
                hit = times * hit
                column = None if column is None else times * column
            if column is None:
                return hit, None, hit
            if self.wb is None:  # the column broadcasts over the C classes
                return hit, column, hit + column * self.n_classes
            return hit, column * self.wb, hit + column * self.wb.sum()  # Σ_c (ε/C)·w_c
        keep, uniform = 1.0 - self.eps, self.eps / self.n_classes
        if times is not None:
            keep, uniform = times * keep, times * uniform
        spread = keep * probs
        if self.eps:
            spread = spread + uniform
        if self.wb is not None:
            spread = spread * self.wb
        if isinstance(spread, Tensor):
            return None, spread, sum(spread, self.dim, keepdim=True)
        return None, spread, spread.sum(self.dim, keepdims=True)

    def _target_tensors(self, x: Tensor, probs: list[Tensor]) -> tuple[Tensor, Tensor]:
        """q (dense: its one-hot part written out) and Q as tensors, for the differentiable rules;
        q depends on P, not on x."""
        hit, spread, total = self._target(probs[0] if probs else None)
        if hit is None:
            return spread, total
        q = array_module(x._data).zeros(x.shape, x.dtype)
        if spread is not None:
            q += spread
        _add_onehot(q, self.index, hit, self.dim)
        return constant(q), constant(total)

    def _dq_dp(self, t: Tensor) -> Tensor:
        """``t`` times ∂q/∂P = (1 − ε)·w, elementwise: q is linear in the probability targets P."""
        t = (1.0 - self.eps) * t
        return t if self.wb is None else t * self.wb

    # ---------------------------------------------------------------- per position
    def _per_position(self, g: np.ndarray | Tensor) -> np.ndarray | Tensor:
        """The upstream gradient g as one factor per position (``dim`` kept, size 1) times the
        reduction's scale; an array or a tensor."""
        if self.reduction == "none":
            g = g.reshape(g.shape[:self.dim] + (1,) + g.shape[self.dim:])
        return g * self.scale

    def _positions(self, per_class: Tensor) -> Tensor:
        """Σ over classes, then the reduction (per position, or one scaled total)."""
        total = sum(per_class, self.dim)
        return total if self.reduction == "none" else sum(total) * self.scale

    # ---------------------------------------------------------------- the gradient, fast path
    def _exp(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(e^{z}, Σ_c e^{z}) with z = x − max x: softmax(z) = e^{z} / Σ_c e^{z}."""
        if self.cache is not None:
            return self.cache
        e = array_module(x).exp(x - x.max(axis=self.dim, keepdims=True))
        return e, e.sum(axis=self.dim, keepdims=True)

    def _grad_np(self, g: np.ndarray, x: np.ndarray, probs: np.ndarray | None) -> np.ndarray:
        """g_s·(softmax(z)·Q − q) on arrays (g: shape () or the positions' shape): softmax(z) − onehot(t)
        for a plain target. One full-size multiply, and a scatter for q's one-hot part."""
        e, se = self._exp(x)
        hit, spread, total = self._target(probs, times=self._per_position(g))
        # softmax(z)·Q − q with q = hit·onehot(t) + spread; a plain target has hit = Q = 1 and no spread
        grad = e * (total / se)  # softmax(z)·Q, softmax's division done on the per-position column
        if spread is not None:
            grad -= spread
        if hit is not None:
            _add_onehot(grad, self.index, -hit, self.dim)  # − hit·onehot(t): a scatter at the targets
        return grad.astype(x.dtype, copy=False)

    def release(self) -> None:
        super().release()
        self.cache = None


def class_targets(op: str, target: np.ndarray, n_classes: int, ignore_index: int) -> tuple[np.ndarray, np.ndarray]:
    """``(valid, safe)`` of class indices: the positions that count (not ``ignore_index``), and the indices
    with ignored positions set to class 0 (int64). An index outside 0..C−1 that is not ignored raises."""
    valid = target != ignore_index
    bad = valid & ((target < 0) | (target >= n_classes))
    if bad.any():
        raise IndexError(f"{op}: target {target[bad].flat[0]} is out of bounds for {n_classes} classes (valid "
                         f"targets: 0 to {n_classes - 1}, or ignore_index={ignore_index})")
    return valid, array_module(target).where(valid, target, 0).astype(np.int64, copy=False)


def _add_onehot(a: np.ndarray, index: np.ndarray, values: np.ndarray, dim: int) -> None:
    """a += onehot(index)·values along ``dim``, in place: onehot has a single 1 per position, so
    this is a scatter, not a full-size add."""
    xp = array_module(a)
    xp.put_along_axis(a, index, xp.take_along_axis(a, index, dim) + values, dim)


class SoftmaxCrossEntropy(_CrossEntropyRule, Function):
    """Fused log-softmax + cross-entropy (+ weights, ignore_index, label smoothing, reduction).

    Inputs: logits x, and the target: probabilities P of x's shape, or class indices (with
    ``ignore_index`` set; they get no gradient). The forward pass subtracts the max, exponentiates
    once and takes the loss as Q·log Σ_c e^{z} − Σ_c q·z (= −Σ_c q·log softmax(z)): no probability
    is rounded to 0 before its log is taken, so logits of ±1e4 give finite losses. It keeps e^{z}
    for the backward pass, which is one multiply (softmax·Q) and a scatter at the targets.
    Parameters: see :class:`_CrossEntropyRule`.
    """

    def forward(self, x: Tensor, *probs: Tensor) -> np.ndarray:
        if self.ignore_index is not None:  # the second input holds class indices, not probabilities
            self._take_index_targets(probs[0]._data, x._data.dtype)
            probs = ()
        self.save(x, *probs)
        xd, dim = x._data, self.dim
        if dtypes.is_bfloat16(xd.dtype):  # accumulated in float32 and rounded once, as torch
            xd = xd.astype(np.float32)
        xp = array_module(xd)
        z = xd - xd.max(axis=dim, keepdims=True)
        e = xp.exp(z)
        se = e.sum(axis=dim, keepdims=True)
        self.cache = (e, se)
        hit, spread, total = self._target(probs[0]._data if probs else None)
        # −Σ_c q·log softmax(z) = Q·log Σ_c e^{z} − Σ_c q·z: no full-size log softmax is formed
        q_dot_z = 0.0 if hit is None else hit * xp.take_along_axis(z, self.index, dim)
        if spread is not None:
            q_dot_z = q_dot_z + (spread * z).sum(axis=dim, keepdims=True)
        per = (total * xp.log(se) - q_dot_z).squeeze(dim)
        if self.reduction == "none":
            return per.astype(x._data.dtype, copy=False)
        return xp.asarray(per.sum() * self.scale, dtype=x._data.dtype)

    def vjp(self, grad: Tensor):
        x, *probs = self.saved
        needs = self.needs_input_grad
        dx = SoftmaxCrossEntropyBackward.apply(grad, x, *probs, **self._params()) if needs[0] else None
        if len(needs) == 1:
            return dx
        # ∂loss/∂P = −(∂q/∂P)·log softmax(x)
        dp = self._per_position(grad) * self._dq_dp(-log_softmax(x, self.dim)) if needs[1] else None
        return dx, dp

    def jvp(self, dx, *dprobs):
        x, *probs = self.saved
        out = None
        if dx is not None:
            ones = constant(array_module(x._data).ones(self._out_shape(x), x.dtype))
            slope = SoftmaxCrossEntropyBackward.apply(ones, x, *probs, **self._params())
            # slope already carries the mean's scale: only sum over classes and positions
            out = sum(slope * dx, self.dim)
            if self.reduction != "none":
                out = sum(out)
        if dprobs and dprobs[0] is not None:
            term = self._positions(self._dq_dp(dprobs[0]) * -log_softmax(x, self.dim))
            out = term if out is None else out + term
        return out

    def _out_shape(self, x: Tensor) -> tuple[int, ...]:
        return x.shape[:self.dim] + x.shape[self.dim + 1:] if self.reduction == "none" else ()


class SoftmaxCrossEntropyBackward(_CrossEntropyRule, Function):
    """The gradient of :class:`SoftmaxCrossEntropy` as an op of (g, x[, P]): g_s·(softmax(x)·Q − q).

    Its forward is the fast NumPy formula; its own vjp and jvp (the second derivatives) are
    written with tensor ops, so gradients of gradients keep working to any order:
    ∂/∂g: softmax·Q − q; ∂/∂x: g·Q·softmax-Jacobian; ∂/∂P: g·(softmax·ΣΔq − Δq) with Δq = (∂q/∂P)·ΔP.
    """

    def forward(self, g: Tensor, x: Tensor, *probs: Tensor) -> np.ndarray:
        self.save(g, x, *probs)
        return self._grad_np(g._data, x._data, probs[0]._data if probs else None)

    def vjp(self, grad: Tensor):
        g, x, *probs = self.saved
        needs = self.needs_input_grad
        y = softmax(x, self.dim)
        q, total = self._target_tensors(x, probs)
        grad_dot_y = sum(grad * y, self.dim, keepdim=True)
        gs = self._per_position(g)
        out = [None] * len(needs)
        if needs[0]:  # linear in g, with slope y·Q − q (y − onehot(t) for a plain target): ∂L/∂z itself
            out[0] = self._positions(grad * (y * total - q))
        if needs[1]:
            out[1] = gs * total * y * (grad - grad_dot_y)
        if len(needs) > 2 and needs[2]:
            out[2] = gs * self._dq_dp(grad_dot_y - grad)
        return tuple(out)

    def jvp(self, dg, dx, *dprobs):
        g, x, *probs = self.saved
        out = None
        if dg is not None:
            out = SoftmaxCrossEntropyBackward.apply(dg, x, *probs, **self._params())
        y = softmax(x, self.dim)
        gs = self._per_position(g)
        if dx is not None:
            _, total = self._target_tensors(x, probs)
            term = gs * total * y * (dx - sum(y * dx, self.dim, keepdim=True))
            out = term if out is None else out + term
        if dprobs and dprobs[0] is not None:
            dq = self._dq_dp(dprobs[0])
            term = gs * (y * sum(dq, self.dim, keepdim=True) - dq)
            out = term if out is None else out + term
        return out
