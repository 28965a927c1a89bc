"""Scaled dot-product attention (seed 000 §6.3, seed 001 §9.4) as one fused graph node.

For queries q ``(…, L, E)``, keys k ``(…, S, E)`` and values v ``(…, S, Ev)``:

    A = softmax(s·q kᵀ + B) (over the S keys),  out = D(A) v

with s the scale (1/√E by default), B an additive bias ``(…, L, S)`` (a float mask, or 0/−∞ made from a
boolean mask or the causal mask) and D inverted dropout (a fixed 0 or 1/(1 − p) per entry). A row whose keys
are all masked (B = −∞ everywhere) gives zeros, as PyTorch's ``_safe_softmax`` does, not NaN.

:class:`Attention` is the node. Its forward runs on arrays with NumPy's batched matrix products over the
leading dims (batch, heads) and keeps only the attention probabilities A ``(…, L, S)`` besides the inputs
(and the dropout mask): no per-op intermediates, no second copy of the logits. Its reverse rule is, with
g the output's gradient and A′ = D(A):

    dv = A′ᵀ g,   dA′ = g vᵀ,   dS = A ⊙ (D(dA′) − r),  r_i = Σ_j A′_ij (g_i · v_j) = g_i · out_i,
    dq = s·dS k,  dk = s·dSᵀ q,  dB = dS

(r from the output, L·Ev work instead of L·S, the trick of FlashAttention). A plain backward runs it in
NumPy, in place on one (…, L, S) buffer per block; a backward with ``create_graph=True`` runs the same formulas with
tensor ops, recomputing A from the saved inputs, so the gradient is differentiable again (double backward,
forward over reverse). The forward rule is

    dout = D(A ⊙ (dS − Σ_j A_ij dS_ij)) v + A′ dv,   dS = s(dq kᵀ + q dkᵀ) + dB.

Both NumPy passes can cut the leading (batch) dim into blocks shared among fukaku's worker threads
(:class:`_Blocks`, :data:`SHARE_BLOCKS`).
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function, constant
from ..autograd.grad_mode import state
from ..backends import array_module
from ..tensor import Tensor, wrap
from . import _parallel
from .activation import softmax
from .elementwise import where
from .dropout import keep_mask
from .normalization import _reduce_to
from .reduce import sum as _sum
from .shape import _mT, sum_to

__all__: list[str] = []  # the node is called by fukaku.nn.functional.scaled_dot_product_attention

#: Whether passes are cut into blocks shared among fukaku's worker threads. Off: measured on the 2-vCPU machine at
#: GPT-mini's shape (32, 8, 128, 32), causal, forward / backward: quiet, one pass on BLAS's two threads took
#: 16.8 / 15.0 ms, blocks on two Python threads 18.4 / 22.3 ms (no faster than one thread, 18.8 / 20.0: the
#: softmax's passes are bound by memory); busy (load 6), the blocks took 104 ms against 700 ms, since BLAS's own
#: threads spin against the other processes. Turn it on for a machine shared with other work.
SHARE_BLOCKS = False

#: From how many multiply-adds a pass is cut into blocks when :data:`SHARE_BLOCKS` is on (below, handing blocks to
#: another thread costs more than it saves).
SPLIT_WORK = 1 << 21


def _safe_softmax_(s: np.ndarray) -> np.ndarray:
    """softmax over the last dim of ``s``, in place; a row that is −∞ throughout becomes zeros."""
    xp = array_module(s)
    if not s.shape[-1]:  # no key at all
        return s
    m = s.max(axis=-1, keepdims=True)
    m[m == -np.inf] = 0  # a fully masked row: exp(−∞ − 0) = 0 everywhere, its sum 0
    s -= m
    xp.exp(s, out=s)
    total = s.sum(axis=-1, keepdims=True)
    total[total == 0] = 1
    s /= total
    return s


class Attention(Function):
    """The node of :func:`fukaku.nn.functional.scaled_dot_product_attention`: inputs (q, k, v) or
    (q, k, v, bias); ``scale`` the factor of the logits, ``dropout_p`` the dropout probability of the
    attention weights. With p > 0 the forward pass draws ``keep``, the dropout's scaled mask (0 and 1/(1 − p),
    the logits' shape ``(…, L, S)``: :func:`fukaku.ops.dropout.keep_mask`); otherwise ``keep`` is None. See the
    module docstring."""

    saves_output = True  # the reverse rule's row sums r = g · out read it

    def __init__(self, scale: float, dropout_p: float = 0.0) -> None:
        self.scale, self.dropout_p = scale, dropout_p
        self.keep = self._probs = self._plan = None

    # -- forward ---------------------------------------------------------------------------
    def forward(self, q, k, v, bias=None):
        self.save(*((q, k, v) if bias is None else (q, k, v, bias)))
        qd, kd, vd = q._data, k._data, v._data
        xp = array_module(qd)
        batch = np.broadcast_shapes(qd.shape[:-2], kd.shape[:-2], vd.shape[:-2])
        if self.dropout_p > 0:
            self.keep = keep_mask(batch + (qd.shape[-2], kd.shape[-2]), self.dropout_p, qd.dtype, xp)
        self._plan = _Blocks(xp, batch, qd.shape[-2] * kd.shape[-2] * (qd.shape[-1] + vd.shape[-1]))
        probs = xp.empty(batch + (qd.shape[-2], kd.shape[-2]), qd.dtype)
        out = xp.empty(batch + (qd.shape[-2], vd.shape[-1]), qd.dtype)
        scale = qd.dtype.type(self.scale)
        inputs = (qd, kd, vd, None if bias is None else bias._data, self.keep)

        def task(share):
            for block in share:
                qc, kc, vc, bc, keep = self._plan.take(block, *inputs)
                s = self._plan.take(block, probs)[0]
                # q scaled first: L·E multiplications instead of L·S on the logits
                _matmul_into(xp, qc * scale, kc.swapaxes(-1, -2), s)
                if bc is not None:  # nn.functional checked that it broadcasts to the logits' shape
                    s += bc
                _safe_softmax_(s)
                xp.matmul(s if keep is None else s * keep, vc, out=self._plan.take(block, out)[0])
        self._plan.run(task)
        self._probs = probs
        return out

    def release(self) -> None:
        super().release()
        self._probs = self.keep = self._plan = None

    def _dropped(self, a):
        return a if self.keep is None else a * (constant(self.keep) if isinstance(a, Tensor) else self.keep)

    def _probabilities(self) -> Tensor:
        """A as a tensor: recomputed with tensor ops from the saved inputs when a graph is being recorded
        (so that rules using it differentiate on to q, k and the bias), else the saved array."""
        if not state.grad_enabled:
            return constant(self._probs)
        q, k, _, *bias = self.saved
        s = (q @ _mT(k)) * self.scale
        if bias:
            s = s + bias[0]
        dead = self._probs.sum(axis=-1, keepdims=True) == 0  # rows masked throughout: zeros, as in forward
        if not dead.any():
            return softmax(s, -1)
        zero = wrap(array_module(self._probs).zeros((), self._probs.dtype))
        return where(constant(dead), zero, softmax(where(constant(dead), zero, s), -1))

    # -- reverse mode ------------------------------------------------------------------------
    def vjp(self, grad):
        if state.grad_enabled:
            return self._composed_vjp(grad)
        q, k, v, *bias = self.saved
        needs = self.needs_input_grad
        xp = array_module(grad._data)
        plan, keep_all = self._plan, self.keep
        inputs = (q._data, k._data, v._data, bias[0]._data if bias else None)
        g_all, a_all, out_all = grad._data, self._probs, self.output._data
        scale = q._data.dtype.type(self.scale)
        logits_needed = any(needs[:2]) or (len(needs) > 3 and needs[3])

        def task(share):
            parts = []
            for block in share:
                qc, kc, vc, bc, keep = plan.take(block, *inputs, keep_all)
                g, a, out = plan.take(block, g_all, a_all, out_all)
                dq = dk = dv = db = None
                if needs[2]:
                    dv = _reduce_to(xp.matmul((a if keep is None else a * keep).swapaxes(-1, -2), g), vc.shape)
                if logits_needed:
                    ds = xp.matmul(g, vc.swapaxes(-1, -2))  # dA′, made dS in place
                    if keep is not None:
                        ds *= keep
                    ds -= (g * out).sum(axis=-1, keepdims=True)  # r_i = Σ_j A_ij dA_ij = g_i · out_i
                    ds *= a
                    if needs[0]:
                        dq = _reduce_to(xp.matmul(ds, kc), qc.shape)
                        dq *= scale
                    if needs[1]:
                        dk = _reduce_to(xp.matmul(ds.swapaxes(-1, -2), qc), kc.shape)
                        dk *= scale
                    if bc is not None and needs[3]:
                        db = _reduce_to(ds, bc.shape)
                parts.append((block, (dq, dk, dv, db)))
            return parts
        parts = [p for share in plan.run(task) for p in share]
        grads = tuple(plan.join(parts, i, x) for i, x in enumerate(inputs[:len(needs)]))
        return tuple(None if g is None else wrap(g) for g in grads)

    def _composed_vjp(self, grad: Tensor) -> tuple:
        """The reverse rule with tensor ops (``create_graph=True``): differentiable to any order."""
        q, k, v, *bias = self.saved
        nq, nk, nv, *nb = self.needs_input_grad
        a = self._probabilities()
        ad = self._dropped(a)
        dv = sum_to(_mT(ad) @ grad, v.shape) if nv else None
        dad = self._dropped(grad @ _mT(v))
        ds = a * (dad - _sum(dad * a, -1, keepdim=True))
        dq = sum_to((ds @ k) * self.scale, q.shape) if nq else None
        dk = sum_to((_mT(ds) @ q) * self.scale, k.shape) if nk else None
        grads = (dq, dk, dv)
        if bias:
            grads += (sum_to(ds, bias[0].shape) if nb[0] else None,)
        return grads

    # -- forward mode ------------------------------------------------------------------------
    def jvp(self, dq, dk, dv, dbias=None):
        q, k, v, *_ = self.saved
        a = self._probabilities()
        out = None
        if dq is not None or dk is not None or dbias is not None:
            ds = None
            if dq is not None:
                ds = (dq @ _mT(k)) * self.scale
            if dk is not None:
                term = (q @ _mT(dk)) * self.scale
                ds = term if ds is None else ds + term
            if dbias is not None:
                ds = dbias if ds is None else ds + dbias
            da = a * (ds - _sum(a * ds, -1, keepdim=True))
            out = self._dropped(da) @ v
        if dv is not None:
            term = self._dropped(a) @ dv
            out = term if out is None else out + term
        return out


def _matmul_into(xp, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """a @ b written into ``out``, whose batch dims may be larger than the product's (they broadcast)."""
    if np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) == out.shape[:-2]:
        xp.matmul(a, b, out=out)
    else:
        out[...] = xp.matmul(a, b)


class _Blocks:
    """How a pass over the leading (batch) dim is cut into blocks shared among fukaku's worker threads
    (:mod:`fukaku.ops._parallel`, BLAS single-threaded meanwhile), each block's products and softmax on its own
    core. One block, the whole pass, unless :data:`SHARE_BLOCKS` is on (see there why it is off), and always
    without threads, without a batch dim, or for work too small to share (below :data:`SPLIT_WORK`)."""

    def __init__(self, xp, batch: tuple[int, ...], per_row: int) -> None:
        self.batch = batch
        n = batch[0] if batch else 1
        workers = _parallel.Threads.count() if _parallel.PARALLEL and xp is np else 1
        work = per_row * (math.prod(batch) if batch else 1)
        parts = min(workers, n) if SHARE_BLOCKS and batch and work >= SPLIT_WORK else 1
        edges = [n * i // parts for i in range(parts + 1)]
        self.ranges = [(edges[i], edges[i + 1]) for i in range(parts)]

    def run(self, task) -> list:
        """``task(share)`` for each worker's share of the blocks; one call in this thread for one block."""
        if len(self.ranges) == 1:
            return [task(self.ranges)]
        return _parallel.each(self.ranges, task)

    def take(self, block: tuple[int, int], *arrays) -> list:
        """Each array's rows of ``block`` along the batch's dim 0 — the whole array where it broadcasts along
        that dim (fewer dims, or size 1), or when the pass is one block."""
        lo, hi = block
        if len(self.ranges) == 1:
            return list(arrays)
        rank = len(self.batch) + 2
        return [a if a is None or a.ndim < rank or a.shape[0] == 1 else a[lo:hi] for a in arrays]

    def join(self, parts: list, i: int, like: np.ndarray | None) -> np.ndarray | None:
        """Input ``i``'s gradient from its blocks' parts: stacked along dim 0 where the input was cut, summed
        where it broadcasts along it."""
        pieces = [(block, grads[i]) for block, grads in parts if grads[i] is not None]
        if not pieces:
            return None
        if len(pieces) == 1:
            return pieces[0][1]
        if like.ndim == len(self.batch) + 2 and like.shape[0] != 1:
            return array_module(like).concatenate([g for _, g in sorted(pieces, key=lambda p: p[0])], axis=0)
        total = pieces[0][1].copy()
        for _, g in pieces[1:]:
            total += g
        return total
