"""Recurrent layers: a whole sequence of one layer and direction as one graph node, and the cells.

Seed 000 §6.1.7 and seed 004 §3.4 define the recurrences; PyTorch's equations and parameter layouts
are followed exactly (gate order LSTM i, f, g, o; GRU r, z, n):

* Elman (``RNN_TANH``/``RNN_RELU``): h' = act(W_ih x + b_ih + W_hh h + b_hh)
* LSTM: i, f, g, o = σ, σ, tanh, σ of (W_ih x + b_ih + W_hh h + b_hh);  c' = f ⊙ c + i ⊙ g;
  h' = o ⊙ tanh(c'), projected h' = W_hr h' when ``proj_size > 0``
* GRU (PyTorch's, the default): r, z = σ(W_i{r,z} x + b_i{r,z} + W_h{r,z} h + b_h{r,z});
  n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn));  h' = (1 − z) ⊙ n + z ⊙ h
* GRU, textbook variant (``GRU_TEXTBOOK``, seed 004; Cho et al. 2014): the reset gate is applied to the
  state *before* the recurrent product: n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn), the rest equal.

:class:`RecurrentSequence` is the fused node the layers use: its forward projects the inputs of all
time steps in one GEMM, then loops over time with one GEMM per step for all gates (two for the textbook
GRU, whose candidate needs r first) and whole-array gate nonlinearities; its vjp is back-propagation
through time written in NumPy over the saved gates, accumulating the weight gradients with one GEMM each
at the end over the stacked (T·B, ·) arrays. Those rules are not written with tensor ops; a backward with
``create_graph=True`` therefore runs the layer again as a graph of cell ops (:func:`composed_layer`) and
differentiates that (slower, differentiable to any order), and the node has no forward-mode rule: under
forward-mode AD the layers take the composed path from the start
(:func:`fukaku.nn.functional.recurrent.recurrent_reference`, also chosen by ``layer.fused = False``).

The LSTM without projection and without variable lengths (the common case) takes a faster path
(:meth:`RecurrentSequence._lstm_forward`, :meth:`RecurrentSequence._lstm_bptt`): the gates in the
transposed (gates, batch) layout, one GEMM per step for the input and the recurrent product together, and
the hidden units shared among fukaku's threads, each running its units' GEMM rows and cell update
through the whole sequence with one barrier per step (instead of a hand-off per product, and the
elementwise work on one thread).

The cells (:func:`rnn_tanh_cell`, :func:`rnn_relu_cell`, :func:`lstm_cell`, :func:`gru_cell`, as
``torch.lstm_cell`` …) are compositions of tensor ops: one step, differentiable to any order.
"""
from __future__ import annotations

import threading

import numpy as np

from ..autograd.engine import grad as _grad
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ..backends import array_module
from ..tensor import Tensor, wrap
from . import _parallel
from .activation import relu
from .elementwise import sigmoid, tanh
from .linear import Affine
from .shape import cat, stack

__all__ = ["rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell"]

MODES = ("RNN_TANH", "RNN_RELU", "LSTM", "GRU", "GRU_TEXTBOOK")


def gate_count(mode: str) -> int:
    """How many blocks of ``hidden_size`` rows the weights of ``mode`` stack (gate_size / hidden_size)."""
    return {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3, "GRU_TEXTBOOK": 3}[mode]


def _sigmoid_(a: np.ndarray) -> np.ndarray:
    """σ(a) in place, as ½ tanh(a/2) + ½ (no overflow for large |a|, one transcendental pass)."""
    xp = array_module(a)
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


#: From how many multiply-adds on a product's rows are shared among threads (below, handing half of them to
#: another thread costs more than it saves: a product of 2²⁰ takes some 50 µs on one core).
_SPLIT_MACS = 1 << 20


class _Products:
    """The matrix products of one pass of a layer: BLAS single-threaded meanwhile, each product's rows shared
    among fukaku's worker threads instead (:mod:`fukaku.ops._parallel`; one thread without threadpoolctl).

    A recurrence makes many small products (64 × 256 by 256 × 1024 per step): OpenBLAS's own threads
    spin-wait between them, and against another busy process on the machine they ran 50× slower than one
    thread (measured: 49 ms against 0.9 ms per product). Python threads wait without spinning.
    """

    def __init__(self, xp) -> None:
        self.xp = xp
        self.workers = _parallel.Threads.count() if _parallel.PARALLEL and xp is np else 1
        self._limit = None

    def __enter__(self) -> "_Products":
        if self.workers > 1:
            self._limit = _parallel.Threads.blas.limit(limits=1)
        return self

    def __exit__(self, *exc) -> None:
        if self._limit is not None:
            self._limit.restore_original_limits()

    def mm(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """a @ b (2-d), into ``out`` when given. Shared among the threads along the longer side of the result:
        a step's product (64 rows × 1024 gate columns) keeps its 64 rows whole in each thread, which BLAS's
        kernels run faster than half as many rows (measured: 1.1–1.4× per product)."""
        xp, (m, n), k = self.xp, (a.shape[0], b.shape[1]), self.workers
        if k < 2 or max(m, n) < 2 * k or m * a.shape[1] * n < _SPLIT_MACS:
            return xp.matmul(a, b, out=out)
        if out is None:
            out = xp.empty((m, n), xp.result_type(a, b))
        length = max(m, n)
        spans = [(i * length // k, (i + 1) * length // k) for i in range(k)]

        def part(lo: int, hi: int) -> None:
            if m >= n:
                xp.matmul(a[lo:hi], b, out=out[lo:hi])
            else:
                xp.matmul(a, b[:, lo:hi], out=out[:, lo:hi])

        pool = _parallel.Threads.executor(k - 1)
        futures = [pool.submit(part, *span) for span in spans[1:]]
        part(*spans[0])
        for f in futures:
            f.result()
        return out


def _in_parts(k: int, body) -> None:
    """``body(j, wait)`` for j < k: part 0 in the caller's thread, the others on fukaku's worker threads (BLAS is
    single-threaded meanwhile, see :class:`_Products`); ``wait()`` is a barrier among the k parts (a no-op for
    k = 1). An error in one part breaks the barrier, so the others stop too; the first real error is raised."""
    if k == 1:
        body(0, lambda: None)
        return
    barrier = threading.Barrier(k)

    def run(j: int) -> None:
        try:
            body(j, barrier.wait)
        except BaseException:
            barrier.abort()
            raise

    pool = _parallel.Threads.executor(k - 1)
    futures = [pool.submit(run, j) for j in range(1, k)]
    errors = []
    try:
        run(0)
    except BaseException as e:  # noqa: BLE001 - re-raised below, after the other parts stopped
        errors.append(e)
    for f in futures:
        try:
            f.result()
        except BaseException as e:  # noqa: BLE001
            errors.append(e)
    if errors:
        raise next((e for e in errors if not isinstance(e, threading.BrokenBarrierError)), errors[0])


class RecurrentSequence(Function):
    """One layer and direction of a recurrent network over a whole (padded) sequence, as one node.

    Inputs, in this order: ``x`` (T, B, I), ``h0`` (B, P), ``c0`` (B, H) for LSTM only, ``w_ih`` (G, I),
    ``w_hh`` (G, P), then ``b_ih``, ``b_hh`` (G,) when ``bias``, then ``w_hr`` (P, H) when ``proj``
    (LSTM with ``proj_size``; P = H otherwise). ``reverse`` runs t = T−1 … 0.

    ``batch_sizes`` (a sequence of T non-increasing ints, as in a PackedSequence) makes the batch
    variable-length: at step t only rows ``:batch_sizes[t]`` advance; the others keep their state, so
    each row's final state is the one after its last step, also in reverse (a row starts at its own
    last element). Outputs of inactive rows are 0.

    The output is one flat array: the outputs (T, B, P), then the final h (B, P), then the final c
    (B, H) for LSTM — split by :func:`fukaku.nn.functional.recurrent.recurrent`.
    """

    def __init__(self, mode: str, bias: bool = True, proj: bool = False, reverse: bool = False,
                 batch_sizes: tuple[int, ...] | None = None) -> None:
        self.mode, self.bias, self.proj, self.reverse, self.batch_sizes = mode, bias, proj, reverse, batch_sizes
        self._cache = None

    # -- inputs ---------------------------------------------------------------------------
    def _split(self, inputs):
        """(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr) from the positional inputs (None where absent)."""
        it = iter(inputs)
        x, h0 = next(it), next(it)
        c0 = next(it) if self.mode == "LSTM" else None
        w_ih, w_hh = next(it), next(it)
        b_ih, b_hh = (next(it), next(it)) if self.bias else (None, None)
        w_hr = next(it) if self.proj else None
        return x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr

    def _steps(self, T: int):
        return range(T - 1, -1, -1) if self.reverse else range(T)

    # -- forward --------------------------------------------------------------------------
    def forward(self, *inputs):
        self.save(*inputs)
        with _Products(array_module(inputs[0]._data)) as products:
            return self._forward(products, inputs)

    def _forward(self, products: _Products, inputs) -> np.ndarray:
        mm = products.mm
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = [None if t is None else t._data for t in self._split(inputs)]
        xp = array_module(x)
        mode = self.mode
        T, B, I = x.shape
        G, P = w_hh.shape
        H = G // gate_count(mode)
        dt = x.dtype
        bs = self.batch_sizes
        if mode == "LSTM" and w_hr is None and bs is None and T > 0:
            record = state.grad_enabled and any(t.requires_grad for t in inputs)
            return self._lstm_forward(products, x, h0, c0, w_ih, w_hh, b_ih, b_hh, record)
        # the input projection of every step at once (one GEMM); b_hh folds in except GRU's b_hn
        gi = mm(x.reshape(T * B, I), w_ih.T).reshape(T, B, G)
        b_hn = None
        if b_ih is not None:
            gi += b_ih
            if mode == "GRU":
                gi[..., :2 * H] += b_hh[:2 * H]
                b_hn = b_hh[2 * H:]
            else:
                gi += b_hh
        n_out = T * B * P
        flat = (xp.zeros if bs is not None else xp.empty)(n_out + B * P + (B * H if mode == "LSTM" else 0), dt)
        out = flat[:n_out].reshape(T, B, P)
        h = flat[n_out:n_out + B * P].reshape(B, P)  # the running state, which ends as the final h
        h[...] = h0
        c = None
        # what the backward reads, per step (the gates are kept anyway); without a graph to record, one
        # step's scratch instead
        record = state.grad_enabled and any(t.requires_grad for t in inputs)
        S = T if record else 1
        padded = xp.zeros if bs is not None else xp.empty  # read by whole-sequence GEMMs: rows past a must be 0
        hprev = xp.empty((T, B, P), dt) if record else None
        gates = gi  # each step's gates are computed in place of its input projection
        scratch = xp.empty((B, G), dt)  # one step's recurrent product
        cache = {"gates": gates, "hprev": hprev, "gi_shape": (T, B, G)}
        w_hhT = w_hh.T
        if mode == "LSTM":
            c = flat[n_out + B * P:].reshape(B, H)
            c[...] = c0
            cache["cprev"] = cprev = xp.empty((T, B, H), dt) if record else None
            cache["tc"] = tcs = xp.empty((S, B, H), dt)
            if w_hr is not None:
                cache["m"] = ms = padded((S, B, H), dt)
        elif mode == "GRU":
            cache["ghn"] = ghns = xp.empty((S, B, H), dt)
        elif mode == "GRU_TEXTBOOK":
            cache["rh"] = rhs = padded((S, B, H), dt)
            w_rzT, w_nT = w_hh[:2 * H].T, w_hh[2 * H:].T
        for t in self._steps(T):
            a = B if bs is None else bs[t]
            s = t if record else 0
            if record:
                hprev[t] = h
            ha = h[:a]
            g = gates[t, :a]
            if mode == "RNN_TANH" or mode == "RNN_RELU":
                g += mm(ha, w_hhT, out=scratch[:a])
                if mode == "RNN_TANH":
                    xp.tanh(g, out=g)
                else:
                    xp.maximum(g, 0, out=g)
                hn = g
            elif mode == "LSTM":
                g += mm(ha, w_hhT, out=scratch[:a])
                _sigmoid_(g[:, :2 * H])
                xp.tanh(g[:, 2 * H:3 * H], out=g[:, 2 * H:3 * H])
                _sigmoid_(g[:, 3 * H:])
                ca = c[:a]
                if record:
                    cprev[t, :a] = ca
                ca *= g[:, H:2 * H]
                ca += g[:, :H] * g[:, 2 * H:3 * H]
                tc = tcs[s, :a]
                xp.tanh(ca, out=tc)
                if w_hr is None:
                    hn = g[:, 3 * H:] * tc
                else:
                    m = ms[s, :a]
                    xp.multiply(g[:, 3 * H:], tc, out=m)
                    hn = mm(m, w_hr.T)
            elif mode == "GRU":
                gh = mm(ha, w_hhT, out=scratch[:a])
                g[:, :2 * H] += gh[:, :2 * H]
                _sigmoid_(g[:, :2 * H])
                ghn = ghns[s, :a]
                ghn[...] = gh[:, 2 * H:]
                if b_hn is not None:
                    ghn += b_hn
                n = g[:, 2 * H:]
                rg = xp.multiply(g[:, :H], ghn, out=gh[:, 2 * H:])
                n += rg
                xp.tanh(n, out=n)
                hn = ha - n
                hn *= g[:, H:2 * H]
                hn += n
            else:  # GRU_TEXTBOOK
                g[:, :2 * H] += mm(ha, w_rzT, out=scratch[:a, :2 * H])
                _sigmoid_(g[:, :2 * H])
                rh = rhs[s, :a]
                xp.multiply(g[:, :H], ha, out=rh)
                n = g[:, 2 * H:]
                n += mm(rh, w_nT, out=scratch[:a, 2 * H:])
                xp.tanh(n, out=n)
                hn = ha - n
                hn *= g[:, H:2 * H]
                hn += n
            out[t, :a] = hn
            if bs is None or a == B:
                h[...] = hn
            else:
                h[:a] = hn
        self._cache = cache if record else None
        return flat

    # -- LSTM: the gates in the (gates, batch) layout, the hidden units shared among threads ------------
    @staticmethod
    def _parts(workers: int, G: int, P: int, B: int, H: int) -> int:
        """Among how many threads the hidden units of a step are shared: all the workers when a step's product
        is worth it (as :data:`_SPLIT_MACS`) and each gets at least two units, else one."""
        return workers if workers > 1 and G * P * B >= _SPLIT_MACS and H >= 2 * workers else 1

    def _lstm_forward(self, products: _Products, x, h0, c0, w_ih, w_hh, b_ih, b_hh, record: bool) -> np.ndarray:
        """The LSTM without projection and without batch_sizes, its hidden units shared among k threads.

        Thread j owns the units ``lo:hi``: each step it computes the pre-activations of their four gates as one
        (4·Hk, B) block with one GEMM, W_j [x_t, 1, h]ᵀ — the rows of [W_ih, b_ih + b_hh, W_hh] permuted once
        so that a part's gates are adjacent (in the order i, f, o, g), the gates in the transposed (gates,
        batch) layout, where the step's product runs faster than h W_hhᵀ; ``xh`` (T, B, I + 1 + P) holds each
        step's [x_t, 1, h before the step] — then the cell update of its units, and writes its columns of h
        (into the output and into the next step's row of ``xh``); one barrier per step (the next product reads
        the whole h). The rows of σ's gates are scaled by ½ (exact) so that one tanh over the block gives
        σ(a) = ½ tanh(a/2) + ½ and tanh(g) at once. The backward gets [∂W_ih, ∂b, ∂W_hh] as one GEMM over ``xh``.
        """
        xp = products.xp
        T, B, I = x.shape
        G, P = w_hh.shape
        H = G // 4
        dt = x.dtype
        k = self._parts(products.workers, G, P, B, H)
        bounds = [j * H // k for j in range(k + 1)]
        perm = xp.concatenate([xp.arange(q * H + bounds[j], q * H + bounds[j + 1])
                               for j in range(k) for q in (0, 1, 3, 2)])
        half = xp.full((G, 1), 0.5, dt)
        half[2 * H:3 * H] = 1
        half = half[perm]
        off = I + (b_ih is not None)  # where h starts in a row of xh
        K = off + P
        W = xp.empty((G, K), dt)
        xp.multiply(w_ih[perm], half, out=W[:, :I])
        xp.multiply(w_hh[perm], half, out=W[:, off:])
        if b_ih is not None:
            xp.multiply((b_ih + b_hh)[perm], half[:, 0], out=W[:, I])
        steps = list(self._steps(T))
        xh = xp.empty((T, B, K), dt)
        xh[:, :, :I] = x
        if b_ih is not None:
            xh[:, :, I] = 1
        xh[steps[0], :, off:] = h0
        n_out = T * B * P
        flat = xp.empty(n_out + B * P + B * H, dt)
        out = flat[:n_out].reshape(T, B, P)
        # per step (n, in the order run): the activated gates (G, B), c before the step (after it: cs[n + 1]),
        # tanh c; without a graph to record, one step's (two for c)
        gates = xp.empty((T if record else 1, G, B), dt)
        cs = xp.empty((T + 1 if record else 2, H, B), dt)
        cs[0] = c0.T
        tcs = xp.empty((T if record else 1, H, B), dt)

        def part(j: int, wait) -> None:
            lo, hi = bounds[j], bounds[j + 1]
            Hk, r0, r1 = hi - lo, 4 * lo, 4 * hi
            W_j = W[r0:r1]
            h = xp.empty((Hk, B), dt)
            ig = xp.empty((Hk, B), dt)
            for n, t in enumerate(steps):
                s = n if record else 0
                g = gates[s, r0:r1]
                xp.matmul(W_j, xh[t].T, out=g)
                xp.tanh(g, out=g)
                sig = g[:3 * Hk]
                sig *= 0.5
                sig += 0.5
                i, f, o, gg = g[:Hk], g[Hk:2 * Hk], g[2 * Hk:3 * Hk], g[3 * Hk:]
                cn = cs[n + 1 if record else (n + 1) % 2, lo:hi]
                xp.multiply(f, cs[n if record else n % 2, lo:hi], out=cn)
                xp.multiply(i, gg, out=ig)
                cn += ig
                tc = tcs[s, lo:hi]
                xp.tanh(cn, out=tc)
                xp.multiply(o, tc, out=h)
                out[t, :, lo:hi] = h.T
                if n + 1 < T:
                    xh[steps[n + 1], :, off + lo:off + hi] = h.T
                wait()

        _in_parts(k, part)
        flat[n_out:n_out + B * P].reshape(B, P)[...] = out[steps[-1]]
        flat[n_out + B * P:].reshape(B, H)[...] = cs[T if record else T % 2].T
        self._cache = {"perm": perm, "bounds": bounds, "gates": gates, "cs": cs, "tc": tcs, "xh": xh} \
            if record else None
        return flat

    def _lstm_bptt(self, products: _Products, grad: Tensor) -> tuple:
        """BPTT of :meth:`_lstm_forward`, the hidden units shared among the same k threads: thread j turns the
        gradient at its units' h and c into its gates' pre-activation gradients (step t's columns of the (G, T·B)
        array ∂A), then multiplies them by its rows of W_hh, a (P, B) part of the next ∂h; one barrier per step,
        after which each thread sums the parts at its units (two buffers of parts, by step parity, so that none
        is overwritten while read). Then ∂A [x, 1, h before] is [∂W_ih, ∂b, ∂W_hh] in one GEMM, and ∂x = ∂Aᵀ W_ih."""
        mm, xp = products.mm, products.xp
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, _ = [None if t is None else t._data for t in self._split(self.saved)]
        cache = self._cache
        perm, bounds, gates, cs, tcs, xh = (cache[k] for k in ("perm", "bounds", "gates", "cs", "tc", "xh"))
        k = len(bounds) - 1
        T, B, I = x.shape
        G, P = w_hh.shape
        H = G // 4
        dt = x.dtype
        steps = list(self._steps(T))
        g_flat = grad._data
        n_out = T * B * P
        dout = g_flat[:n_out].reshape(T, B, P)
        dh_T = g_flat[n_out:n_out + B * P].reshape(B, P)
        dc_T = g_flat[n_out + B * P:].reshape(B, H)
        wh = w_hh[perm]
        # ∂L/∂(pre-activations), permuted rows; step t in columns t·B:(t+1)·B. Rows an odd number of cache
        # lines apart: a step's block (4·Hk rows of B) would otherwise fall into a quarter of the L1 cache's sets
        # (rows 25,600 bytes apart) and take twice as long to write
        lines = -(-T * B * dt.itemsize // 64) | 1
        dA = xp.empty((G, lines * 64 // dt.itemsize), dt)[:, :T * B]
        parts = xp.empty((2, k, P, B), dt)
        dc0 = xp.empty((H, B), dt)

        def part(j: int, wait) -> None:
            lo, hi = bounds[j], bounds[j + 1]
            Hk, r0, r1 = hi - lo, 4 * lo, 4 * hi
            whT_j = wh[r0:r1].T
            dc = xp.ascontiguousarray(dc_T[:, lo:hi].T)
            dh = xp.empty((Hk, B), dt)
            tmp = xp.empty((Hk, B), dt)
            der = xp.empty((4 * Hk, B), dt)
            dd = xp.empty((4 * Hk, B), dt)
            for n in range(T - 1, -1, -1):
                t = steps[n]
                dh[...] = dout[t, :, lo:hi].T
                if n == T - 1:
                    dh += dh_T[:, lo:hi].T
                else:
                    for pp in parts[(n + 1) % 2]:
                        dh += pp[lo:hi]
                g = gates[n, r0:r1]
                i, f, o, gg = g[:Hk], g[Hk:2 * Hk], g[2 * Hk:3 * Hk], g[3 * Hk:]
                tc = tcs[n, lo:hi]
                # ∂c += ∂h ⊙ o ⊙ (1 − tanh²c)
                xp.multiply(tc, tc, out=tmp)
                xp.subtract(1, tmp, out=tmp)
                tmp *= o
                tmp *= dh
                dc += tmp
                # the activations' derivatives: s(1 − s) for σ, 1 − g² for tanh
                ds = der[:3 * Hk]
                xp.subtract(1, g[:3 * Hk], out=ds)
                ds *= g[:3 * Hk]
                dg = der[3 * Hk:]
                xp.multiply(gg, gg, out=dg)
                xp.subtract(1, dg, out=dg)
                xp.multiply(gg, dc, out=dd[:Hk])
                xp.multiply(cs[n, lo:hi], dc, out=dd[Hk:2 * Hk])
                xp.multiply(tc, dh, out=dd[2 * Hk:3 * Hk])
                xp.multiply(i, dc, out=dd[3 * Hk:])
                d = dA[r0:r1, t * B:(t + 1) * B]
                xp.multiply(dd, der, out=d)
                dc *= f
                xp.matmul(whT_j, d, out=parts[n % 2, j])
                wait()
            dc0[lo:hi] = dc

        _in_parts(k, part)
        needs = self.needs_input_grad
        grads = {"h0": wrap(xp.ascontiguousarray(parts[0].sum(0).T)), "c0": wrap(xp.ascontiguousarray(dc0.T))}
        unperm = xp.empty_like(perm)
        unperm[perm] = xp.arange(G)
        if needs[0]:
            grads["x"] = wrap(mm(dA.T, w_ih[perm]).reshape(T, B, I))
        if any(needs[3:]):
            dW = mm(dA, xh.reshape(T * B, xh.shape[2]))[unperm]  # [∂W_ih, ∂b, ∂W_hh]
            off = xh.shape[2] - P
            grads["w_ih"] = wrap(xp.ascontiguousarray(dW[:, :I]))
            grads["w_hh"] = wrap(xp.ascontiguousarray(dW[:, off:]))
            if b_ih is not None:
                grads["b_ih"] = wrap(dW[:, I].copy())
                grads["b_hh"] = wrap(dW[:, I].copy())
        order = ["x", "h0", "c0", "w_ih", "w_hh"] + (["b_ih", "b_hh"] if self.bias else [])
        return tuple(grads.get(name) if need else None for name, need in zip(order, needs))

    def release(self) -> None:
        super().release()
        self._cache = None

    # -- reverse mode: back-propagation through time in NumPy ------------------------------
    def vjp(self, grad):
        if state.grad_enabled:  # create_graph=True: the gradient must be differentiable itself
            return self._composed_vjp(grad)
        with _Products(array_module(grad._data)) as products:
            return self._bptt(products, grad)

    def _bptt(self, products: _Products, grad: Tensor) -> tuple:
        """Back-propagation through time over the saved gates, in NumPy."""
        if "perm" in self._cache:
            return self._lstm_bptt(products, grad)
        mm = products.mm
        inputs = self.saved
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = [None if t is None else t._data for t in self._split(inputs)]
        cache = self._cache
        xp = array_module(x)
        mode = self.mode
        T, B, G = cache["gi_shape"]
        I = x.shape[2]
        P = w_hh.shape[1]
        H = G // gate_count(mode)
        dt = x.dtype
        bs = self.batch_sizes
        g_flat = grad._data
        n_out = T * B * P
        dout = g_flat[:n_out].reshape(T, B, P)
        dh = g_flat[n_out:n_out + B * P].reshape(B, P).copy()
        gates, hprev = cache["gates"], cache["hprev"]
        # every step writes its rows of these; rows past batch_sizes[t] must read 0 in the final GEMMs
        per_step = xp.empty if bs is None else xp.zeros
        dgi = per_step((T, B, G), dt)  # ∂L/∂(pre-activations), the input-projection side
        dc = None
        if mode == "LSTM":
            dc = g_flat[n_out + B * P:].reshape(B, H).copy()
            cprev, tcs = cache["cprev"], cache["tc"]
            if w_hr is not None:
                ms = cache["m"]
                dhs = per_step((T, B, P), dt)  # ∂L/∂h per step, for ∂L/∂W_hr
        elif mode == "GRU":
            ghns = cache["ghn"]
            dgh = per_step((T, B, G), dt)  # the recurrent side differs in its n block: r ⊙ ∂n
        elif mode == "GRU_TEXTBOOK":
            w_rz, w_n = w_hh[:2 * H], w_hh[2 * H:]
        for t in reversed(self._steps(T)):
            a = B if bs is None else bs[t]
            dha = dh[:a]
            dha += dout[t, :a]
            g = gates[t, :a]
            d = dgi[t, :a]
            if mode == "RNN_TANH":
                xp.multiply(g, g, out=d)
                xp.subtract(1, d, out=d)
                d *= dha
                mm(d, w_hh, out=dh[:a])
            elif mode == "RNN_RELU":
                xp.multiply(dha, g > 0, out=d)
                mm(d, w_hh, out=dh[:a])
            elif mode == "LSTM":
                i, f, gg, o = g[:, :H], g[:, H:2 * H], g[:, 2 * H:3 * H], g[:, 3 * H:]
                tc = tcs[t, :a]
                if w_hr is not None:
                    dhs[t, :a] = dha
                    dm = mm(dha, w_hr)
                else:
                    dm = dha
                dca = dc[:a]
                # ∂c += ∂m ⊙ o ⊙ (1 − tanh²c)
                tmp = tc * tc
                xp.subtract(1, tmp, out=tmp)
                tmp *= o
                tmp *= dm
                dca += tmp
                # pre-activation gradients: σ' = s(1 − s), tanh' = 1 − g²
                xp.multiply(dca, gg, out=d[:, :H])
                d[:, :H] *= i
                d[:, :H] *= 1 - i
                xp.multiply(dca, cprev[t, :a], out=d[:, H:2 * H])
                d[:, H:2 * H] *= f
                d[:, H:2 * H] *= 1 - f
                xp.multiply(gg, gg, out=d[:, 2 * H:3 * H])
                xp.subtract(1, d[:, 2 * H:3 * H], out=d[:, 2 * H:3 * H])
                d[:, 2 * H:3 * H] *= dca
                d[:, 2 * H:3 * H] *= i
                xp.multiply(dm, tc, out=d[:, 3 * H:])
                d[:, 3 * H:] *= o
                d[:, 3 * H:] *= 1 - o
                dca *= f
                mm(d, w_hh, out=dh[:a])
            else:  # the two GRUs
                r, z, n = g[:, :H], g[:, H:2 * H], g[:, 2 * H:]
                hp = hprev[t, :a]
                dz = hp - n
                dz *= dha
                dn = d[:, 2 * H:]
                xp.multiply(n, n, out=dn)
                xp.subtract(1, dn, out=dn)
                dn *= 1 - z
                dn *= dha  # ∂L/∂(n's pre-activation)
                xp.multiply(dz, z, out=d[:, H:2 * H])
                d[:, H:2 * H] *= 1 - z
                if mode == "GRU":
                    dgt = dgh[t, :a]
                    xp.multiply(dn, r, out=dgt[:, 2 * H:])
                    dr = dn * ghns[t, :a]
                    xp.multiply(dr, r, out=d[:, :H])
                    d[:, :H] *= 1 - r
                    dgt[:, :2 * H] = d[:, :2 * H]
                    dha *= z
                    dha += mm(dgt, w_hh)
                else:
                    drh = mm(dn, w_n)
                    dr = drh * hp
                    xp.multiply(dr, r, out=d[:, :H])
                    d[:, :H] *= 1 - r
                    dha *= z
                    drh *= r
                    dha += drh
                    dha += mm(d[:, :2 * H], w_rz)
        needs = self.needs_input_grad
        dgi2 = dgi.reshape(T * B, G)
        grads = {}
        grads["x"] = wrap(mm(dgi2, w_ih).reshape(T, B, I)) if needs[0] else None
        grads["h0"] = wrap(dh)
        grads["c0"] = wrap(dc) if dc is not None else None
        grads["w_ih"] = wrap(mm(dgi2.T, x.reshape(T * B, I)))
        hprev2 = hprev.reshape(T * B, P)
        if mode == "GRU":
            dgh2 = dgh.reshape(T * B, G)
            grads["w_hh"] = wrap(mm(dgh2.T, hprev2))
            db_hh = dgh2.sum(0) if b_ih is not None else None
        elif mode == "GRU_TEXTBOOK":
            w = xp.empty((G, P), dt)
            mm(dgi2[:, :2 * H].T, hprev2, out=w[:2 * H])
            mm(dgi2[:, 2 * H:].T, cache["rh"].reshape(T * B, H), out=w[2 * H:])
            grads["w_hh"] = wrap(w)
            db_hh = None
        else:
            grads["w_hh"] = wrap(mm(dgi2.T, hprev2))
            db_hh = None
        if b_ih is not None:
            db_ih = dgi2.sum(0)
            grads["b_ih"] = wrap(db_ih)
            grads["b_hh"] = wrap(db_ih.copy() if db_hh is None else db_hh)
        if w_hr is not None:
            grads["w_hr"] = wrap(mm(dhs.reshape(T * B, P).T, ms.reshape(T * B, H)))
        order = ["x", "h0"] + (["c0"] if mode == "LSTM" else []) + ["w_ih", "w_hh"] + \
            (["b_ih", "b_hh"] if self.bias else []) + (["w_hr"] if self.proj else [])
        return tuple(grads[k] if need else None for k, need in zip(order, needs))

    def _composed_vjp(self, grad: Tensor) -> tuple:
        """The vjp as a graph of tensor ops, for a backward with ``create_graph=True``: the layer is run
        again with the cells (:func:`composed_layer`) on stand-ins of the saved inputs and differentiated
        with ``create_graph=True``; the stand-ins are then joined to the inputs' graph (an identity node
        each), so the result differentiates on to the inputs as any gradient made with ``create_graph``
        does — without the inner backward walking the graph above the inputs. Costs a second, slower
        forward pass; taken only when asked for."""
        inputs = self.saved
        stand_ins = [_stand_in(t) for t in inputs]
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = self._split(stand_ins)
        out, h, c = composed_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, self.mode, self.reverse,
                                   self.batch_sizes)
        flat = cat([out.reshape(-1), h.reshape(-1)] + ([] if c is None else [c.reshape(-1)]), 0)
        wanted = [k for k, need in enumerate(self.needs_input_grad) if need]
        found = _grad([flat], [stand_ins[k] for k in wanted], [grad], create_graph=True, allow_unused=True)
        grads = [None] * len(inputs)
        for k, g in zip(wanted, found):
            grads[k] = g
        for s, t in zip(stand_ins, inputs):
            if s.grad_fn is not None:  # from now on, gradients reaching the stand-in flow on to the input
                s.grad_fn.next_functions = (t.grad_fn if t.grad_fn is not None else t,)
        return tuple(grads)

    def jvp(self, *tangents):
        raise RuntimeError(
            f"{self.name} (the fused recurrent layer) has no forward-mode rule; the recurrent layers take the "
            "composed path by themselves under forward-mode AD — set fused = False on the layer, or call "
            "fukaku.nn.functional.recurrent.recurrent_reference, to run the recurrence with tensor ops")


class _StandIn(Function):
    """The identity, as the node that makes a stand-in of a saved input (see
    :meth:`RecurrentSequence._composed_vjp`): cut off while the stand-in's graph is differentiated
    (``next_functions`` is ``(None,)``, so that walk stops here), joined to the input afterwards."""

    def vjp(self, grad):
        return grad

    def jvp(self, dx):
        return dx


def _stand_in(t: Tensor) -> Tensor:
    """A tensor with ``t``'s data; when ``t`` requires grad, a non-leaf whose node is a :class:`_StandIn`."""
    s = wrap(t._data)
    if t.requires_grad:
        node = _StandIn()
        node.needs_input_grad = (True,)
        node.next_functions = (None,)
        s.requires_grad = True
        s.grad_fn = node
    return s


def composed_layer(x: Tensor, h: Tensor, c: Tensor | None, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
                   b_hh: Tensor | None, w_hr: Tensor | None, mode: str, reverse: bool = False,
                   batch_sizes=None) -> tuple[Tensor, Tensor, Tensor | None]:
    """What :class:`RecurrentSequence` computes, with the cells in a Python loop over time: (outputs
    (T, B, P), final h, final c or None). A graph of tensor ops (slower; differentiable to any order, in
    reverse and forward mode); rows past ``batch_sizes[t]`` keep their state and output 0, as there."""
    T, B = x.shape[0], x.shape[1]
    bs = [B] * T if batch_sizes is None else [int(b) for b in batch_sizes]
    per_step = [None] * T
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        a = bs[t]
        x_t, h_a = x[t, :a], h[:a]
        if mode == "LSTM":
            h_new, c_new = lstm_cell(x_t, (h_a, c[:a]), w_ih, w_hh, b_ih, b_hh, w_hr)
            c = c_new if a == B else cat([c_new, c[a:]], 0)
        elif mode == "GRU" or mode == "GRU_TEXTBOOK":
            h_new = gru_cell(x_t, h_a, w_ih, w_hh, b_ih, b_hh, textbook=mode == "GRU_TEXTBOOK")
        else:
            h_new = (rnn_tanh_cell if mode == "RNN_TANH" else rnn_relu_cell)(x_t, h_a, w_ih, w_hh, b_ih, b_hh)
        h = h_new if a == B else cat([h_new, h[a:]], 0)
        if a == B:
            per_step[t] = h_new
        else:
            xp = array_module(h_new._data)
            per_step[t] = cat([h_new, wrap(xp.zeros((B - a,) + tuple(h_new.shape[1:]), h_new._data.dtype))], 0)
    return stack(per_step, 0), h, c


class SwapLeadingDims(Function):
    """(T, B, …) → (B, T, …) as a new C-contiguous array (a layer's batch-first output): NumPy's matmul
    falls back from BLAS to a slow loop on the transposed view (12× slower for a Linear head on an LSTM's
    outputs), so the copy pays for itself at the first product. vjp and jvp: the swap again (a view)."""

    def forward(self, x):
        return array_module(x._data).ascontiguousarray(x._data.swapaxes(0, 1))

    def vjp(self, grad):
        return grad.transpose(0, 1)

    def jvp(self, dx):
        return dx.transpose(0, 1)


# ----------------------------------------------------------------------------- cells (one step)
def _gates(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None) -> Tensor:
    """W_ih x + b_ih + W_hh h + b_hh, as two affine nodes and one add."""
    return Affine.apply(*([input, w_ih] if b_ih is None else [input, w_ih, b_ih])) + \
        Affine.apply(*([hx, w_hh] if b_hh is None else [hx, w_hh, b_hh]))


def rnn_tanh_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
                  b_hh: Tensor | None = None) -> Tensor:
    """One Elman step, h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (seed 000 §6.1.7), as ``torch.rnn_tanh_cell``.

    Shape: input (B, I), hx (B, H), w_ih (H, I), w_hh (H, H) → (B, H).
    """
    return tanh(_gates(input, hx, w_ih, w_hh, b_ih, b_hh))


def rnn_relu_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
                  b_hh: Tensor | None = None) -> Tensor:
    """One Elman step with ReLU, h' = relu(W_ih x + b_ih + W_hh h + b_hh), as ``torch.rnn_relu_cell``."""
    return relu(_gates(input, hx, w_ih, w_hh, b_ih, b_hh))


def lstm_cell(input: Tensor, hx, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
              b_hh: Tensor | None = None, w_hr: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One LSTM step, as ``torch.lstm_cell``: ``hx = (h, c)`` → ``(h', c')``.

    i, f, g, o = σ, σ, tanh, σ of (W_ih x + b_ih + W_hh h + b_hh) (gate order i, f, g, o, PyTorch's);
    c' = f ⊙ c + i ⊙ g; h' = o ⊙ tanh(c'), then W_hr h' when ``w_hr`` (proj_size) is given.

    Shape: input (B, I), h (B, P), c (B, H), w_ih (4H, I), w_hh (4H, P) → (B, P), (B, H).
    """
    h, c = hx
    i, f, g, o = _gates(input, h, w_ih, w_hh, b_ih, b_hh).chunk(4, -1)
    c2 = sigmoid(f) * c + sigmoid(i) * tanh(g)
    h2 = sigmoid(o) * tanh(c2)
    if w_hr is not None:
        h2 = Affine.apply(h2, w_hr)
    return h2, c2


def gru_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None, textbook: bool = False) -> Tensor:
    """One GRU step, as ``torch.gru_cell``; gate order r, z, n (PyTorch's).

    r, z = σ(W_i{r,z} x + b_i{r,z} + W_h{r,z} h + b_h{r,z});  h' = (1 − z) ⊙ n + z ⊙ h, with
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)) (PyTorch's, the default) or, with ``textbook=True``
    (seed 004, Cho et al. 2014), n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn): the reset gate scales the
    state before the recurrent product instead of after it.

    Shape: input (B, I), hx (B, H), w_ih (3H, I), w_hh (3H, H) → (B, H).
    """
    H = hx.shape[-1]
    gi = Affine.apply(*([input, w_ih] if b_ih is None else [input, w_ih, b_ih]))
    gi_r, gi_z, gi_n = gi.chunk(3, -1)
    if textbook:
        w_rz, w_n = w_hh[:2 * H], w_hh[2 * H:]
        b_rz, b_n = (None, None) if b_hh is None else (b_hh[:2 * H], b_hh[2 * H:])
        gh_r, gh_z = Affine.apply(*([hx, w_rz] if b_rz is None else [hx, w_rz, b_rz])).chunk(2, -1)
        r, z = sigmoid(gi_r + gh_r), sigmoid(gi_z + gh_z)
        rh = r * hx
        n = tanh(gi_n + Affine.apply(*([rh, w_n] if b_n is None else [rh, w_n, b_n])))
    else:
        gh_r, gh_z, gh_n = Affine.apply(*([hx, w_hh] if b_hh is None else [hx, w_hh, b_hh])).chunk(3, -1)
        r, z = sigmoid(gi_r + gh_r), sigmoid(gi_z + gh_z)
        n = tanh(gi_n + r * gh_n)
    return n + z * (hx - n)
