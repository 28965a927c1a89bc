"""The recurrent family (fukaku/ops/recurrent.py): the cells against PyTorch's (``torch.rnn_tanh_cell`` …)
with every derivative the harness checks, and the fused sequence node :class:`RecurrentSequence`
against central differences and against the same recurrence composed of tensor ops
(:func:`recurrent_reference`), in every mode (incl. the textbook GRU), both directions, with projections
and variable-length (packed) batches; and the errors of the paths it does not take (double backward,
forward mode)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fukaku as fk
from conformance import FLOATS, assert_close, check, randn
from fukaku.autograd.gradcheck import gradcheck, gradgradcheck
from fukaku.nn.functional.recurrent import recurrent, recurrent_reference
from fukaku.ops.recurrent import RecurrentSequence, gate_count

B, I, H = 3, 4, 5


# ----------------------------------------------------------------------------- cells
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["rnn_tanh_cell", "rnn_relu_cell"])
def test_elman_cells_match_torch(name, dtype):
    x, h = randn(B, I, seed=1), randn(B, H, seed=2)
    w_ih, w_hh, b_ih, b_hh = randn(H, I, seed=3), randn(H, H, seed=4), randn(H, seed=5), randn(H, seed=6)
    pre = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    assert np.abs(pre).min() > 1e-2  # away from relu's kink, where rounding could pick either side
    check(getattr(fk, name), getattr(torch, name), [x, h, w_ih, w_hh, b_ih, b_hh], dtype,
          second=dtype == np.float64)


@pytest.mark.parametrize("dtype", FLOATS)
def test_lstm_cell_matches_torch(dtype):
    x, h, c = randn(B, I, seed=1), randn(B, H, seed=2), randn(B, H, seed=3)
    w = [randn(4 * H, I, seed=4), randn(4 * H, H, seed=5), randn(4 * H, seed=6), randn(4 * H, seed=7)]
    check(lambda x, h, c, *w: fk.lstm_cell(x, (h, c), *w), lambda x, h, c, *w: torch.lstm_cell(x, (h, c), *w),
          [x, h, c, *w], dtype, second=dtype == np.float64)


@pytest.mark.parametrize("dtype", FLOATS)
def test_gru_cell_matches_torch(dtype):
    x, h = randn(B, I, seed=1), randn(B, H, seed=2)
    w = [randn(3 * H, I, seed=4), randn(3 * H, H, seed=5), randn(3 * H, seed=6), randn(3 * H, seed=7)]
    check(fk.gru_cell, torch.gru_cell, [x, h, *w], dtype, second=dtype == np.float64)


def test_cells_without_bias_match_torch():
    x, h, c = randn(B, I, seed=1), randn(B, H, seed=2), randn(B, H, seed=3)
    check(lambda x, h, c, a, b: fk.lstm_cell(x, (h, c), a, b), lambda x, h, c, a, b: torch.lstm_cell(x, (h, c), a, b),
          [x, h, c, randn(4 * H, I, seed=4), randn(4 * H, H, seed=5)], np.float64, second=False)
    check(fk.gru_cell, torch.gru_cell, [x, h, randn(3 * H, I, seed=4), randn(3 * H, H, seed=5)], np.float64,
          second=False)


def test_lstm_cell_with_projection_is_the_projected_lstm():
    x, h, c = randn(B, I, seed=1), randn(B, 2, seed=2), randn(B, H, seed=3)
    w_ih, w_hh, w_hr = randn(4 * H, I, seed=4), randn(4 * H, 2, seed=5), randn(2, H, seed=6)
    h2, c2 = fk.lstm_cell(fk.tensor(x), (fk.tensor(h), fk.tensor(c)), fk.tensor(w_ih), fk.tensor(w_hh),
                          w_hr=fk.tensor(w_hr))
    g = x @ w_ih.T + h @ w_hh.T
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    i, f, gg, o = sig(g[:, :H]), sig(g[:, H:2 * H]), np.tanh(g[:, 2 * H:3 * H]), sig(g[:, 3 * H:])
    c_want = f * c + i * gg
    assert_close(c2, c_want, np.float64)
    assert_close(h2, (o * np.tanh(c_want)) @ w_hr.T, np.float64)


# ----------------------------------------------------------------------------- the fused sequence node
def _weights(mode: str, in_size: int, proj: int, bias: bool, dtype, seed: int):
    G = gate_count(mode) * H
    P = proj or H
    w = [randn(G, in_size, seed=seed) * 0.5, randn(G, P, seed=seed + 1) * 0.5]
    if bias:
        w += [randn(G, seed=seed + 2) * 0.5, randn(G, seed=seed + 3) * 0.5]
    if proj:
        w.append(randn(proj, H, seed=seed + 4) * 0.5)
    return [fk.tensor(a.astype(dtype), requires_grad=True) for a in w]


CASES = [("RNN_TANH", {}), ("RNN_RELU", {}), ("LSTM", {}), ("LSTM", {"proj": 2}), ("GRU", {}), ("GRU_TEXTBOOK", {}),
         ("LSTM", {"bias": False}), ("GRU_TEXTBOOK", {"bias": False})]


@pytest.mark.parametrize("batch_sizes", [None, (3, 3, 2, 1)], ids=["dense", "packed"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("mode, kw", CASES, ids=[f"{m}{''.join(f'-{k}{v}' for k, v in kw.items())}" for m, kw in CASES])
def test_fused_layers_match_the_composed_recurrence(mode, kw, bidirectional, batch_sizes):
    proj, bias = kw.get("proj", 0), kw.get("bias", True)
    P, D, L, T = proj or H, 2 if bidirectional else 1, 2, 4
    weights = [_weights(mode, I if layer == 0 else P * D, proj, bias, np.float64, seed=10 * (layer * D + d))
               for layer in range(L) for d in range(D)]
    x = randn(T, B, I, seed=1)
    if batch_sizes is not None:  # padded positions hold garbage that must not matter
        for t, b in enumerate(batch_sizes):
            x[t, b:] = 1e3
    x = fk.tensor(x, requires_grad=True)
    h0 = fk.tensor(randn(L * D, B, P, seed=2), requires_grad=True)
    c0 = fk.tensor(randn(L * D, B, H, seed=3), requires_grad=True) if mode == "LSTM" else None
    args = (x, h0, c0, weights, mode, bias, L, 0.0, False, bidirectional, batch_sizes)
    got, want = recurrent(*args), recurrent_reference(*args)
    leaves = [x, h0] + ([c0] if c0 is not None else []) + [w for ws in weights for w in ws]
    us = [randn(tuple(t.shape), seed=20 + k) for k, t in enumerate(want) if t is not None]
    grads_got = fk.autograd.grad([t for t in got if t is not None], leaves, [fk.tensor(u) for u in us])
    grads_want = fk.autograd.grad([t for t in want if t is not None], leaves, [fk.tensor(u) for u in us])
    for k, (a, b) in enumerate(zip(got, want)):
        if b is not None:
            assert_close(a, b.detach().numpy(), np.float64, f"output {k}")
    for k, (a, b) in enumerate(zip(grads_got, grads_want)):
        assert_close(a, b.numpy(), np.float64, f"gradient {k}")


@pytest.mark.parametrize("mode, kw", [("LSTM", {"proj": 2}), ("GRU", {}), ("GRU_TEXTBOOK", {}), ("RNN_TANH", {})])
@pytest.mark.parametrize("reverse, batch_sizes", [(False, None), (True, (2, 2, 1))])
def test_fused_node_gradients_match_central_differences(mode, kw, reverse, batch_sizes):
    proj = kw.get("proj", 0)
    P, T, Bn = proj or H, 3, 2
    w = _weights(mode, I, proj, True, np.float64, seed=5)
    x = fk.tensor(randn(T, Bn, I, seed=1), requires_grad=True)
    h0 = fk.tensor(randn(Bn, P, seed=2), requires_grad=True)
    states = [h0] + ([fk.tensor(randn(Bn, H, seed=3), requires_grad=True)] if mode == "LSTM" else [])

    def f(*inputs):
        return RecurrentSequence.apply(*inputs, mode=mode, bias=True, proj=bool(proj), reverse=reverse,
                                       batch_sizes=batch_sizes)

    assert gradcheck(f, [x, *states, *w], check_forward_ad=False)


def test_fused_float32_matches_float64():
    w64 = _weights("LSTM", I, 0, True, np.float64, seed=1)
    w32 = [fk.tensor(w.detach().numpy().astype(np.float32), requires_grad=True) for w in w64]
    outs = []
    for dtype, w in ((np.float64, w64), (np.float32, w32)):
        x = fk.tensor(randn(6, B, I, seed=1).astype(dtype))
        h0, c0 = fk.zeros(1, B, H, dtype=dtype), fk.zeros(1, B, H, dtype=dtype)
        out, h_n, c_n = recurrent(x, h0, c0, [w], "LSTM")
        assert out.dtype == dtype
        out.sum().backward()
        outs.append((out.detach().numpy(), w[0].grad.numpy()))
    assert_close(outs[1][0], outs[0][0], np.float32)
    assert_close(outs[1][1], outs[0][1], np.float32)


@pytest.mark.parametrize("mode, kw", [("LSTM", {"proj": 2}), ("GRU", {}), ("GRU_TEXTBOOK", {}), ("RNN_RELU", {})])
def test_fused_node_second_derivatives_match_central_differences(mode, kw):
    """With create_graph=True the vjp recomputes the layer with cell ops; gradgradcheck checks it."""
    proj = kw.get("proj", 0)
    P, T, Bn = proj or H, 3, 2
    w = _weights(mode, I, proj, True, np.float64, seed=5)
    x = fk.tensor(randn(T, Bn, I, seed=1), requires_grad=True)
    states = [fk.tensor(randn(Bn, P, seed=2), requires_grad=True)] + \
        ([fk.tensor(randn(Bn, H, seed=3), requires_grad=True)] if mode == "LSTM" else [])

    def f(*inputs):
        return RecurrentSequence.apply(*inputs, mode=mode, bias=True, proj=bool(proj), reverse=True,
                                       batch_sizes=(2, 1, 1))

    assert gradgradcheck(f, [x, *states, *w[:2]] + [t.detach() for t in w[2:]])


def test_forward_mode_through_the_fused_node_names_the_fix():
    w = _weights("RNN_TANH", I, 0, True, np.float64, seed=1)
    x = fk.tensor(randn(3, B, I, seed=1))

    def f(x):
        return RecurrentSequence.apply(x, fk.zeros(B, H, dtype=fk.float64), *w, mode="RNN_TANH")

    with pytest.raises(RuntimeError, match="no forward-mode rule.*fused = False"):
        fk.autograd.functional.jvp(f, x, fk.ones_like(x))
    # the functional path takes the composed recurrence by itself and matches it
    def g(x):
        return recurrent(x, fk.zeros(1, B, H, dtype=fk.float64), None, [w], "RNN_TANH")[0]

    def g_ref(x):
        return recurrent_reference(x, fk.zeros(1, B, H, dtype=fk.float64), None, [w], "RNN_TANH")[0]

    v = fk.tensor(randn(3, B, I, seed=2))
    assert_close(fk.autograd.functional.jvp(g, x, v)[1], fk.autograd.functional.jvp(g_ref, x, v)[1].detach().numpy(),
                 np.float64)


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="unknown mode 'LSTM2'"):
        recurrent(fk.zeros(2, 1, 3), fk.zeros(1, 1, 4), None, [[fk.zeros(4, 3), fk.zeros(4, 4)]], "LSTM2")


@pytest.mark.parametrize("mode, kw", CASES, ids=[f"{m}{''.join(f'-{k}{v}' for k, v in kw.items())}" for m, kw in CASES])
def test_inference_without_a_graph_computes_the_same(mode, kw):
    """Under no_grad the node keeps one step's scratch instead of the whole sequence's gates: same results."""
    proj, bias = kw.get("proj", 0), kw.get("bias", True)
    P = proj or H
    w = [_weights(mode, I, proj, bias, np.float64, seed=3)]
    x = fk.tensor(randn(4, B, I, seed=1))
    h0 = fk.tensor(randn(1, B, P, seed=2))
    c0 = fk.tensor(randn(1, B, H, seed=3)) if mode == "LSTM" else None
    for batch_sizes in (None, (3, 2, 2, 1)):
        recorded = recurrent(x, h0, c0, w, mode, bias, batch_sizes=batch_sizes)
        with fk.no_grad():
            plain = recurrent(x, h0, c0, w, mode, bias, batch_sizes=batch_sizes)
        assert not plain[0].requires_grad
        for a, b in zip(plain, recorded):
            if b is not None:
                np.testing.assert_array_equal(a.numpy(), b.detach().numpy())


def test_products_shared_among_threads_give_the_one_thread_result(monkeypatch):
    """Large enough products are split (by columns or rows) among fukaku's worker threads (BLAS single-threaded):
    the same numbers as one thread, forward and backward."""
    from fukaku.ops import _parallel
    from fukaku.ops.recurrent import _Products

    if _Products(np).workers < 2:
        pytest.skip("one BLAS thread (or no threadpoolctl): nothing is split")
    Hs = 64
    w = [fk.tensor(randn(4 * Hs, 16, seed=1) * 0.2, requires_grad=True),
         fk.tensor(randn(4 * Hs, Hs, seed=2) * 0.2, requires_grad=True)]
    x = randn(3, 64, 16, seed=3)
    results = []
    for parallel in (True, False):
        monkeypatch.setattr(_parallel, "PARALLEL", parallel)
        xt = fk.tensor(x, requires_grad=True)
        out, h_n, c_n = recurrent(xt, fk.zeros(1, 64, Hs, dtype=fk.float64), fk.zeros(1, 64, Hs, dtype=fk.float64),
                                  [w], "LSTM", bias=False)
        grads = fk.autograd.grad((out * out).sum(), [xt, *w])
        results.append([out.detach().numpy()] + [g.numpy() for g in grads])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", FLOATS)
def test_swap_leading_dims_is_a_contiguous_transpose(dtype):
    from fukaku.ops.recurrent import SwapLeadingDims

    check(SwapLeadingDims.apply, lambda x: x.transpose(0, 1), [randn(3, 2, 4, seed=1)], dtype)
    out = SwapLeadingDims.apply(fk.tensor(randn(3, 2, 4, seed=1)))
    assert out._data.flags.c_contiguous
    # a batch-first layer's output is contiguous (NumPy's matmul leaves BLAS on transposed 3-d operands)
    lstm_out, _ = fk.nn.LSTM(4, 5, batch_first=True)(fk.randn(2, 3, 4))
    assert lstm_out._data.flags.c_contiguous
