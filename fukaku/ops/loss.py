"""The graph nodes of the losses whose rules are their own: binary cross-entropy on probabilities,
log σ for the logit form, and the fused softmax cross-entropy with its differentiable backward.

The loss functions users call, with their argument checks, are in :mod:`fukaku.nn.functional.loss`.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function, constant
from ..tensor import Tensor
from .activation import log_softmax, softmax
from .elementwise import _Unary, clamp, log, sigmoid
from .reduce import sum
from .shape import unsqueeze


# ------------------------------------------------------------------------------------- binary cross-entropy
class BinaryCrossEntropy(Function):
    """−[t·log x + (1 − t)·log(1 − x)] elementwise, each log clamped at −100 as in torch, so that
    x = 0 or 1 gives a large finite loss instead of inf.

    The gradients are torch's: (x − t) / max(x(1 − x), 1e-12) for x (finite at the clamped ends)
    and log(1 − x) − log x for t. They are written with tensor ops, so they differentiate again.
    """

    def forward(self, x: Tensor, t: Tensor) -> np.ndarray:
        self.save(x, t)
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x.data), -100)
            log_1mx = np.maximum(np.log1p(-x.data), -100)
        return (-(t.data * log_x + (1 - t.data) * log_1mx)).astype(x.data.dtype, copy=False)

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


class LogLogistic(_Unary):
    """log σ(x) = min(x, 0) − log(1 + e^{−|x|}), finite for any x; derivative σ(−x)."""

    def forward(self, x: Tensor) -> np.ndarray:
        self.save(x)
        v = x.data
        return (np.minimum(v, 0) - np.log1p(np.exp(-np.abs(v)))).astype(v.dtype, copy=False)

    def derivative(self) -> Tensor:
        return sigmoid(-self.saved[0])


# ------------------------------------------------------------------------------------- fused softmax cross-entropy
class _CrossEntropyRule:
    """What the fused op and its backward share: the effective target distribution q.

    For every position s, loss_s = −Σ_c q_{s,c}·log softmax(x)_{s,c}, with
    * class indices:   q = (1 − ε)·w_t·onehot(t) + (ε/C)·w, zero at ignored positions;
    * probabilities P: q = w ⊙ ((1 − ε)·P + ε/C).
    Then ∂loss_s/∂x = softmax·Q_s − q with Q_s = Σ_c q_{s,c}: for one-hot t and no weights,
    softmax − onehot (seed 002 P10). Reductions: 'mean' divides by Σ w_t over counted positions
    (indices) or by the number of positions (probabilities), as torch does.
    """

    # set in _prepare_cross_entropy; read by both Functions
    dim: int
    n_classes: int
    eps: float
    reduction: str
    scale: float
    wb: np.ndarray | None       # class weights shaped to broadcast along dim, or None
    index: np.ndarray | None    # class indices, keepdim shape, or None for probability targets
    coef: np.ndarray | None     # (1 − ε)·w_t, zero where ignored, keepdim shape
    smooth: np.ndarray | None   # (ε/C) where counted, keepdim shape; None when ε = 0
    cache: tuple | None         # (e^{x − max}, Σ e^{x − max}) from the forward pass

    def _w(self):
        return 1.0 if self.wb is None else self.wb

    def _w_tensor(self, dtype: np.dtype) -> Tensor:
        return constant(np.ones((), dtype) if self.wb is None else self.wb)

    # ---------------------------------------------------------------- numpy (fast paths)
    def _q_np(self, x: np.ndarray, probs: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """q (or None for index targets, whose q is sparse) and Q, as arrays."""
        if self.index is not None:
            total = self.coef
            if self.smooth is not None:
                total = total + self.smooth * (self.n_classes if self.wb is None else self.wb.sum())
            return None, total
        q = ((1.0 - self.eps) * probs + self.eps / self.n_classes) * self._w()
        return q, q.sum(axis=self.dim, keepdims=True)

    def _exp(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.cache is not None:
            return self.cache
        e = np.exp(x - x.max(axis=self.dim, keepdims=True))
        return e, e.sum(axis=self.dim, keepdims=True)

    def _grad_np(self, g: np.ndarray, x: np.ndarray, probs: np.ndarray | None) -> np.ndarray:
        """∂L/∂x times the upstream gradient g (shape () or the positions' shape): g_s·(softmax·Q − q)."""
        e, se = self._exp(x)
        gs = (g if self.reduction != "none" else np.expand_dims(g, self.dim)) * self.scale
        q, total = self._q_np(x, probs)
        dx = e * (gs * total / se)
        if q is not None:
            dx -= gs * q
        else:
            at_target = np.take_along_axis(dx, self.index, self.dim)
            np.put_along_axis(dx, self.index, at_target - gs * self.coef, self.dim)
            if self.smooth is not None:
                dx -= gs * self.smooth * self._w()
        return dx.astype(x.dtype, copy=False)

    # ---------------------------------------------------------------- tensor ops (differentiable)
    def _gs(self, g: Tensor) -> Tensor:
        return (unsqueeze(g, self.dim) if self.reduction == "none" else g) * self.scale

    def _q(self, x: Tensor, probs: Tensor | None) -> tuple[Tensor, Tensor]:
        if self.index is not None:
            q = np.zeros(x.shape, x.dtype)
            np.put_along_axis(q, self.index, self.coef, self.dim)
            if self.smooth is not None:
                q += self.smooth * self._w()
            return constant(q), constant(q.sum(axis=self.dim, keepdims=True))
        q = ((1.0 - self.eps) * probs + self.eps / self.n_classes) * self._w_tensor(x.dtype)
        return q, sum(q, self.dim, keepdim=True)

    def _positions(self, per_class: Tensor) -> Tensor:
        """Σ over classes, then the reduction (per position, or one scaled total)."""
        total = sum(per_class, self.dim)
        return total if self.reduction == "none" else sum(total) * self.scale

    def release(self) -> None:
        super().release()
        self.cache = None

    def _params(self) -> dict:
        return {k: getattr(self, k) for k in ("dim", "n_classes", "eps", "reduction", "scale", "wb", "index",
                                              "coef", "smooth", "cache")}


class SoftmaxCrossEntropy(_CrossEntropyRule, Function):
    """Fused log-softmax + cross-entropy (+ weights, ignore_index, label smoothing, reduction).

    The forward pass subtracts the max, exponentiates once and reads the target's log-probability
    with log-sum-exp: no probability is rounded to 0 before its log is taken, so logits of ±1e4
    give finite losses. It keeps e^{x − max} for the backward pass, which is one multiply
    (softmax·Q) and a scatter at the targets. Inputs: logits x, and for probability targets P.
    """

    def forward(self, x: Tensor, *probs: Tensor) -> np.ndarray:
        self.save(x, *probs)
        xd, dim = x.data, self.dim
        m = xd.max(axis=dim, keepdims=True)
        z = xd - m
        e = np.exp(z)
        se = e.sum(axis=dim, keepdims=True)
        lse = np.log(se)
        self.cache = (e, se)
        if self.index is not None:
            per = -self.coef * (np.take_along_axis(z, self.index, dim) - lse)
            if self.smooth is not None:
                per -= self.smooth * ((z - lse) * self._w()).sum(axis=dim, keepdims=True)
        else:
            q, _ = self._q_np(xd, probs[0].data)
            per = -(q * (z - lse)).sum(axis=dim, keepdims=True)
        per = np.squeeze(per, dim)
        if self.reduction == "none":
            return per.astype(xd.dtype, copy=False)
        return np.asarray(per.sum() * self.scale, dtype=xd.dtype)

    def vjp(self, grad: Tensor):
        x, *probs = self.saved
        needs = self.needs_input_grad
        dx = SoftmaxCrossEntropyBackward.apply(grad, x, *probs, **self._params()) if needs[0] else None
        if len(needs) == 1:
            return dx
        # ∂loss/∂P = −(1 − ε)·w·log softmax(x)
        dp = None
        if needs[1]:
            dp = self._gs(grad) * (-(1.0 - self.eps)) * self._w_tensor(x.dtype) * log_softmax(x, self.dim)
        return dx, dp

    def jvp(self, dx, *dprobs):
        x, *probs = self.saved
        out = None
        if dx is not None:
            ones = constant(np.ones(self._out_shape(x), x.dtype))
            slope = SoftmaxCrossEntropyBackward.apply(ones, x, *probs, **self._params())
            # slope already carries the mean's scale: only sum over classes and positions
            out = sum(slope * dx, self.dim)
            if self.reduction != "none":
                out = sum(out)
        if dprobs and dprobs[0] is not None:
            term = self._positions((-(1.0 - self.eps)) * self._w_tensor(x.dtype) * log_softmax(x, self.dim) * dprobs[0])
            out = term if out is None else out + term
        return out

    def _out_shape(self, x: Tensor) -> tuple[int, ...]:
        return x.shape[:self.dim] + x.shape[self.dim + 1:] if self.reduction == "none" else ()


class SoftmaxCrossEntropyBackward(_CrossEntropyRule, Function):
    """The gradient of :class:`SoftmaxCrossEntropy` as an op of (g, x[, P]): g_s·(softmax(x)·Q − q).

    Its forward is the fast NumPy formula; its own vjp and jvp (the second derivatives) are
    written with tensor ops, so gradients of gradients keep working to any order:
    ∂/∂x: g·Q·softmax-Jacobian; ∂/∂P: g·(1 − ε)·w·(softmax − onehot); linear in g.
    """

    def forward(self, g: Tensor, x: Tensor, *probs: Tensor) -> np.ndarray:
        self.save(g, x, *probs)
        return self._grad_np(g.data, x.data, probs[0].data if probs else None)

    def vjp(self, grad: Tensor):
        g, x, *probs = self.saved
        needs = self.needs_input_grad
        p = softmax(x, self.dim)
        q, total = self._q(x, probs[0] if probs else None)
        grad_dot_p = sum(grad * p, self.dim, keepdim=True)
        gs = self._gs(g)
        out = [None] * len(needs)
        if needs[0]:
            out[0] = self._positions(grad * (p * total - q))
        if needs[1]:
            out[1] = gs * total * p * (grad - grad_dot_p)
        if len(needs) > 2 and needs[2]:
            out[2] = gs * (1.0 - self.eps) * self._w_tensor(x.dtype) * (grad_dot_p - grad)
        return tuple(out)

    def jvp(self, dg, dx, *dprobs):
        g, x, *probs = self.saved
        out = None
        if dg is not None:
            out = SoftmaxCrossEntropyBackward.apply(dg, x, *probs, **self._params())
        p = softmax(x, self.dim)
        gs = self._gs(g)
        if dx is not None:
            _, total = self._q(x, probs[0] if probs else None)
            term = gs * total * p * (dx - sum(p * dx, self.dim, keepdim=True))
            out = term if out is None else out + term
        if dprobs and dprobs[0] is not None:
            dq = (1.0 - self.eps) * self._w_tensor(x.dtype) * dprobs[0]
            term = gs * (p * sum(dq, self.dim, keepdim=True) - dq)
            out = term if out is None else out + term
        return out
