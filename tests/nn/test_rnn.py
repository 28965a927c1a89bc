"""The recurrent layers (fukaku/nn/modules/rnn.py) against PyTorch with identical weights.

``nn.RNN`` (tanh, relu), ``nn.LSTM`` (incl. proj_size), ``nn.GRU`` over every combination of
num_layers {1, 2} × bidirectional × batch_first × bias × initial states given or not, plus unbatched
and packed variable-length input: outputs, final states and the gradients of every parameter, of the
input and of the initial states (float64 tight, float32 to ~1e-5). The cells likewise. Dropout between
layers: equal to torch in eval mode, applied with the right statistics in training. The textbook GRU
(``reset_after=False``) against its equations written with plain tensor ops. State dicts both ways,
``repr``, ``all_weights``, errors that name the layer and the shapes.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence as torch_pack

import fukaku as fk
import fukaku.nn as nn
from conformance import FLOATS, assert_close, layer_twins, randn
from fukaku.nn.utils.rnn import pack_padded_sequence

TORCH_DTYPE = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}
T, B, I, H = 5, 3, 4, 6
KINDS = {"rnn-tanh": ("RNN", {}), "rnn-relu": ("RNN", {"nonlinearity": "relu"}), "lstm": ("LSTM", {}),
         "gru": ("GRU", {})}


def _states(layer: str, shape_h, shape_c, dtype, lib, seed=7):
    """Initial states (h, or (h, c) for LSTM) in ``lib`` as leaves that require grad."""
    h = lib.tensor(randn(shape_h, seed=seed).astype(dtype), requires_grad=True)
    if layer != "LSTM":
        return h, [h]
    c = lib.tensor(randn(shape_c, seed=seed + 1).astype(dtype), requires_grad=True)
    return (h, c), [h, c]


def _loss(out, state, lib_is_torch: bool, seed=3):
    """A scalar that weighs every output and final state with fixed random weights."""
    lib = torch if lib_is_torch else fk
    parts = [out] + (list(state) if isinstance(state, tuple) else [state])
    total = 0
    for i, p in enumerate(parts):
        w = lib.tensor(randn(tuple(p.shape), seed=seed + i).astype(np.float64)).to(p.dtype)
        total = total + (p * w).sum()
    return total


def _compare(ours, theirs, x_np, dtype, hx_shapes=None, unpack=None, pack=None):
    """Run both layers on ``x_np`` (and initial states of ``hx_shapes`` when given), compare the outputs,
    the final states and every gradient."""
    layer = type(ours).__name__
    x_fk = fk.tensor(x_np, requires_grad=True)
    x_th = torch.tensor(x_np, requires_grad=True)
    in_fk, in_th = (pack(x_fk, fk), pack(x_th, torch)) if pack else (x_fk, x_th)
    leaves_fk, leaves_th = [x_fk], [x_th]
    if hx_shapes is not None:
        hx_fk, l_fk = _states(layer, *hx_shapes, dtype, fk)
        hx_th, l_th = _states(layer, *hx_shapes, dtype, torch)
        out_fk, st_fk = ours(in_fk, hx_fk)
        out_th, st_th = theirs(in_th, hx_th)
        leaves_fk += l_fk
        leaves_th += l_th
    else:
        out_fk, st_fk = ours(in_fk)
        out_th, st_th = theirs(in_th)
    if pack:
        assert isinstance(out_fk, fk.nn.utils.rnn.PackedSequence)
        np.testing.assert_array_equal(out_fk.batch_sizes.numpy(), out_th.batch_sizes.numpy())
        out_fk, out_th = out_fk.data, out_th.data
    assert_close(out_fk, out_th, dtype, "output")
    for i, (a, b) in enumerate(zip(st_fk if isinstance(st_fk, tuple) else [st_fk],
                                   st_th if isinstance(st_th, tuple) else [st_th])):
        assert_close(a, b, dtype, f"final state {i}")
    _loss(out_fk, st_fk, False).backward()
    _loss(out_th, st_th, True).backward()
    for i, (a, b) in enumerate(zip(leaves_fk, leaves_th)):
        assert_close(a.grad, b.grad, dtype, f"gradient of input/state {i}")
    named = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        assert_close(named[name].grad, p.grad, dtype, f"gradient of {name}")


# num_layers, bidirectional, batch_first, bias, initial states given: the 8 rows of a two-level orthogonal
# array (columns a, b, c, a^b, a^c of all (a, b, c)), so every pair of options meets in every combination
CONFIGS = [(1 + a, bool(b), bool(c), not (a ^ b), bool(a ^ c)) for a, b, c in itertools.product((0, 1), repeat=3)]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("num_layers, bidirectional, batch_first, bias, given", CONFIGS,
                         ids=[f"L{c[0]}{'-bi' if c[1] else ''}{'-bf' if c[2] else ''}{'' if c[3] else '-nobias'}"
                              f"{'-hx' if c[4] else ''}" for c in CONFIGS])
def test_layer_matches_torch_float64(kind, num_layers, bidirectional, batch_first, bias, given):
    layer, extra = KINDS[kind]
    kw = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, bias=bias, **extra)
    ours, theirs = layer_twins(layer, (I, H), kw, np.float64)
    x = randn((B, T, I) if batch_first else (T, B, I), seed=1)
    D = 2 if bidirectional else 1
    hx = ((num_layers * D, B, H), (num_layers * D, B, H)) if given else None
    _compare(ours, theirs, x, np.float64, hx)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("num_layers, bidirectional", [(1, False), (2, True)])
def test_layer_matches_torch_float32(kind, num_layers, bidirectional):
    layer, extra = KINDS[kind]
    ours, theirs = layer_twins(layer, (I, H), dict(num_layers=num_layers, bidirectional=bidirectional, **extra),
                         np.float32)
    D = 2 if bidirectional else 1
    _compare(ours, theirs, randn(T, B, I, seed=1).astype(np.float32), np.float32,
             ((num_layers * D, B, H), (num_layers * D, B, H)))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("num_layers, bidirectional, batch_first, given",
                         [(1, False, False, False), (2, True, False, True), (2, False, True, True),
                          (1, True, True, False)])
def test_lstm_proj_size_matches_torch(num_layers, bidirectional, batch_first, given, dtype):
    P = 3
    ours, theirs = layer_twins("LSTM", (I, H), dict(num_layers=num_layers, bidirectional=bidirectional,
                                              batch_first=batch_first, proj_size=P), dtype)
    assert tuple(ours.weight_hr_l0.shape) == (P, H) and tuple(ours.weight_hh_l0.shape) == (4 * H, P)
    D = 2 if bidirectional else 1
    x = randn((B, T, I) if batch_first else (T, B, I), seed=1).astype(dtype)
    _compare(ours, theirs, x, dtype, ((num_layers * D, B, P), (num_layers * D, B, H)) if given else None)


@pytest.mark.parametrize("kind", [*KINDS, "lstm-proj"])
@pytest.mark.parametrize("batch_first, given", [(False, False), (True, True)])
def test_unbatched_input_matches_torch(kind, batch_first, given):
    layer, extra = KINDS.get(kind, ("LSTM", {"proj_size": 2}))
    ours, theirs = layer_twins(layer, (I, H), dict(num_layers=2, bidirectional=True, batch_first=batch_first, **extra),
                         np.float64)
    P = extra.get("proj_size", H)
    out, _ = ours(fk.tensor(randn(T, I, seed=1)))
    assert tuple(out.shape) == (T, 2 * P)
    _compare(ours, theirs, randn(T, I, seed=1), np.float64, ((4, P), (4, H)) if given else None)


def _packer(lengths, enforce_sorted):
    def pack(x, lib):
        fn = torch_pack if lib is torch else pack_padded_sequence
        return fn(x, lengths, enforce_sorted=enforce_sorted)
    return pack


@pytest.mark.parametrize("kind", [*KINDS, "lstm-proj"])
@pytest.mark.parametrize("num_layers, bidirectional, given", [(1, False, False), (2, True, True)])
def test_packed_variable_length_batches_match_torch(kind, num_layers, bidirectional, given):
    layer, extra = KINDS.get(kind, ("LSTM", {"proj_size": 2}))
    ours, theirs = layer_twins(layer, (I, H), dict(num_layers=num_layers, bidirectional=bidirectional, **extra),
                         np.float64)
    P = extra.get("proj_size", H)
    D = 2 if bidirectional else 1
    lengths = [3, 5, 1, 4]  # unsorted: h_n comes back in this order, hx is read in it
    x = randn(T, 4, I, seed=1)
    _compare(ours, theirs, x, np.float64, ((num_layers * D, 4, P), (num_layers * D, 4, H)) if given else None,
             pack=_packer(lengths, enforce_sorted=False))


def test_packed_sorted_float32_lstm():
    ours, theirs = layer_twins("LSTM", (I, H), dict(bidirectional=True), np.float32)
    _compare(ours, theirs, randn(T, 3, I, seed=2).astype(np.float32), np.float32,
             pack=_packer([5, 3, 2], enforce_sorted=True))


# ----------------------------------------------------------------------------- cells
CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}), ("GRUCell", {})]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched, given", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("cell, extra", CELLS, ids=["rnn-tanh", "rnn-relu", "lstm", "gru"])
def test_cell_matches_torch(cell, extra, batched, given, bias, dtype):
    ours, theirs = layer_twins(cell, (I, H), dict(bias=bias, **extra), dtype)
    shape_x, shape_h = ((B, I), (B, H)) if batched else ((I,), (H,))
    x = randn(shape_x, seed=1).astype(dtype)
    x_fk, x_th = fk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    leaves_fk, leaves_th = [x_fk], [x_th]
    args_fk, args_th = [x_fk], [x_th]
    if given:
        lstm = cell == "LSTMCell"
        hx_fk, l_fk = _states("LSTM" if lstm else "RNN", shape_h, shape_h, dtype, fk)
        hx_th, l_th = _states("LSTM" if lstm else "RNN", shape_h, shape_h, dtype, torch)
        args_fk.append(hx_fk)
        args_th.append(hx_th)
        leaves_fk += l_fk
        leaves_th += l_th
    out_fk, out_th = ours(*args_fk), theirs(*args_th)
    outs_fk = list(out_fk) if isinstance(out_fk, tuple) else [out_fk]
    outs_th = list(out_th) if isinstance(out_th, tuple) else [out_th]
    for a, b in zip(outs_fk, outs_th):
        assert_close(a, b, dtype, "cell output")
    _loss(outs_fk[0], tuple(outs_fk[1:]), False).backward()
    _loss(outs_th[0], tuple(outs_th[1:]), True).backward()
    for a, b in zip(leaves_fk, leaves_th):
        assert_close(a.grad, b.grad, dtype, "input/state gradient")
    named = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        assert_close(named[name].grad, p.grad, dtype, f"gradient of {name}")


# ----------------------------------------------------------------------------- dropout between layers
@pytest.mark.parametrize("kind", KINDS)
def test_dropout_is_ignored_in_eval_mode(kind):
    layer, extra = KINDS[kind]
    ours, theirs = layer_twins(layer, (I, H), dict(num_layers=3, dropout=0.5, **extra), np.float64)
    ours.eval()
    theirs.eval()
    _compare(ours, theirs, randn(T, B, I, seed=1), np.float64)


def test_dropout_between_layers_drops_with_probability_p_and_rescales():
    """Layer 1 is made the identity on layer 0's (non-negative) outputs: relu(W_ih y) with W_ih = I and
    no recurrence, so the layer's output is exactly dropout(layer 0's output)."""
    p, n = 0.3, 24
    rnn = nn.RNN(n, n, num_layers=2, nonlinearity="relu", dropout=p, dtype=fk.float64)
    with fk.no_grad():
        rnn.weight_ih_l1.copy_(fk.eye(n, dtype=fk.float64))
        rnn.weight_hh_l1.zero_()
        rnn.bias_ih_l1.zero_()
        rnn.bias_hh_l1.zero_()
        rnn.bias_ih_l0.fill_(1.0)  # layer 0's outputs mostly positive
    x = fk.tensor(randn(40, 8, n, seed=1))
    rnn.eval()
    y0, _ = rnn(x)  # eval: no dropout, so this is layer 0's output
    fk.manual_seed(0)
    rnn.train()
    y, _ = rnn(x)
    y0, y = y0.detach().numpy(), y.detach().numpy()
    positive = y0 > 1e-6
    dropped = (y == 0) & positive
    fraction = dropped.sum() / positive.sum()
    assert abs(fraction - p) < 0.03, fraction
    kept = positive & ~dropped
    np.testing.assert_allclose(y[kept], y0[kept] / (1 - p), rtol=1e-12)
    # two training passes draw different masks
    y2, _ = rnn(x)
    assert not np.array_equal(y2.detach().numpy(), y)


def test_dropout_with_one_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.2)


# ----------------------------------------------------------------------------- the textbook GRU
def _textbook_gru_step(x, h, w_ih, w_hh, b_ih, b_hh):
    """Seed 004's GRU written out with plain tensor ops: h̃ = tanh(W x + U (r ⊙ h) + b)."""
    Hh = h.shape[-1]
    W_r, W_z, W_n = w_ih[:Hh], w_ih[Hh:2 * Hh], w_ih[2 * Hh:]
    U_r, U_z, U_n = w_hh[:Hh], w_hh[Hh:2 * Hh], w_hh[2 * Hh:]
    r = fk.sigmoid(x @ W_r.T + b_ih[:Hh] + h @ U_r.T + b_hh[:Hh])
    z = fk.sigmoid(x @ W_z.T + b_ih[Hh:2 * Hh] + h @ U_z.T + b_hh[Hh:2 * Hh])
    h_tilde = fk.tanh(x @ W_n.T + (r * h) @ U_n.T + b_ih[2 * Hh:] + b_hh[2 * Hh:])
    return (1 - z) * h_tilde + z * h


@pytest.mark.parametrize("bidirectional", [False, True])
def test_textbook_gru_follows_its_equations(bidirectional):
    gru = nn.GRU(I, H, num_layers=2, bidirectional=bidirectional, reset_after=False, dtype=fk.float64)
    x = fk.tensor(randn(T, B, I, seed=1))
    h0 = fk.tensor(randn(2 * (2 if bidirectional else 1), B, H, seed=2), requires_grad=True)
    out, h_n = gru(x, h0)
    # the same network, written with the step function
    D = 2 if bidirectional else 1
    layer_in = x
    finals = []
    for layer in range(2):
        outs = []
        for d in range(D):
            sfx = "_reverse" if d else ""
            w = [getattr(gru, f"{n}_l{layer}{sfx}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            h = h0[layer * D + d]
            steps = range(T - 1, -1, -1) if d else range(T)
            per = [None] * T
            for t in steps:
                h = _textbook_gru_step(layer_in[t], h, *w)
                per[t] = h
            outs.append(fk.stack(per))
            finals.append(h)
        layer_in = fk.cat(outs, 2) if D == 2 else outs[0]
    assert_close(out, layer_in.detach().numpy(), np.float64, "output")
    assert_close(h_n, fk.stack(finals).detach().numpy(), np.float64, "h_n")
    # gradients: the fused BPTT against autograd through the written-out equations
    u = fk.tensor(randn(tuple(out.shape), seed=5))
    params = list(gru.parameters())
    g_fused = fk.autograd.grad((out * u).sum() + h_n.sum(), params + [h0])
    g_eq = fk.autograd.grad((layer_in * u).sum() + fk.stack(finals).sum(), params + [h0])
    for a, b in zip(g_fused, g_eq):
        assert_close(a, b.numpy(), np.float64, "gradient")
    # and it differs from torch's GRU with the same weights
    torch_like = nn.GRU(I, H, num_layers=2, bidirectional=bidirectional, dtype=fk.float64)
    torch_like.load_state_dict(gru.state_dict())
    assert not np.allclose(torch_like(x, h0)[0].detach().numpy(), out.detach().numpy())


@pytest.mark.parametrize("bias", [True, False])
def test_textbook_gru_cell_follows_its_equations(bias):
    cell = nn.GRUCell(I, H, bias=bias, reset_after=False, dtype=fk.float64)
    x, h = fk.tensor(randn(B, I, seed=1)), fk.tensor(randn(B, H, seed=2))
    zero = fk.zeros(3 * H, dtype=fk.float64)
    want = _textbook_gru_step(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih if bias else zero,
                              cell.bias_hh if bias else zero)
    assert_close(cell(x, h), want.detach().numpy(), np.float64)
    assert "reset_after=False" in repr(cell)


# ----------------------------------------------------------------------------- double backward, forward mode
@pytest.mark.parametrize("kind, fused", [("lstm", True), ("gru", True), ("rnn-tanh", False)])
def test_second_derivatives_match_torch(kind, fused):
    """Double backward: the fused node recomputes its layer with cell ops under create_graph=True;
    ``fused = False`` runs that composed graph from the start."""
    layer, extra = KINDS[kind]
    ours, theirs = layer_twins(layer, (I, H), dict(num_layers=2, bidirectional=True, **extra), np.float64)
    ours.fused = fused
    x_np, h_np = randn(3, 2, I, seed=1), randn(4, 2, H, seed=2)
    results = []
    for lib, model in ((fk, ours), (torch, theirs)):
        x, h0 = lib.tensor(x_np, requires_grad=True), lib.tensor(h_np, requires_grad=True)
        hx = (h0, h0 * 0.5) if layer == "LSTM" else h0
        out = model(x, hx)[0]
        w = model.weight_hh_l0
        gx, gw = lib.autograd.grad((out ** 2).sum(), (x, w), create_graph=True)
        second = lib.autograd.grad((gx ** 2).sum() + (gw * gw).sum(), (x, h0, w, model.bias_ih_l1_reverse))
        results.append([gx, gw, *second])
    for k, (a, b) in enumerate(zip(*results)):
        assert_close(a, b, np.float64, f"derivative {k}")


def test_forward_mode_takes_the_composed_path():
    ours, theirs = layer_twins("LSTM", (I, H), dict(bidirectional=True), np.float64)
    x, v = randn(2, 2, I, seed=1), randn(2, 2, I, seed=2)
    _, tangent = fk.autograd.functional.jvp(lambda x: ours(x)[0], fk.tensor(x), fk.tensor(v))
    _, want = torch.func.jvp(lambda x: theirs(x)[0], (torch.tensor(x),), (torch.tensor(v),))
    assert_close(tangent, want, np.float64)


# ----------------------------------------------------------------------------- state dicts, repr, API
@pytest.mark.parametrize("layer, kw", [("RNN", dict(num_layers=2, nonlinearity="relu")),
                                       ("LSTM", dict(num_layers=2, bidirectional=True, proj_size=3)),
                                       ("GRU", dict(bias=False, batch_first=True, dropout=0.1, num_layers=2))])
def test_state_dicts_move_both_ways_and_repr_matches(layer, kw):
    ours, theirs = layer_twins(layer, (I, H), kw, np.float32)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    fresh = getattr(torch.nn, layer)(I, H, **kw)
    fresh.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()}, strict=True)
    x = randn((B, T, I) if kw.get("batch_first") else (T, B, I), seed=1).astype(np.float32)
    ours.eval()
    fresh.eval()
    assert_close(ours(fk.tensor(x))[0], fresh(torch.from_numpy(x))[0], np.float32)
    assert [[tuple(p.shape) for p in ws] for ws in ours.all_weights] == \
        [[tuple(p.shape) for p in ws] for ws in theirs.all_weights]
    ours.flatten_parameters()  # accepted, a no-op


@pytest.mark.parametrize("cell, kw", [("RNNCell", dict(nonlinearity="relu")), ("LSTMCell", dict(bias=False)),
                                      ("GRUCell", {})])
def test_cell_repr_and_state_dict_keys_match(cell, kw):
    ours, theirs = layer_twins(cell, (I, H), kw, np.float32)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_initialisation_is_uniform_within_one_over_sqrt_hidden():
    lstm = nn.LSTM(8, 64, num_layers=2, bidirectional=True, proj_size=16)
    bound = 1 / np.sqrt(64)
    values = np.concatenate([p.detach().numpy().ravel() for p in lstm.parameters()])
    assert values.min() >= -bound and values.max() <= bound
    assert values.min() < -0.9 * bound and values.max() > 0.9 * bound
    assert abs(values.mean()) < 0.01 * bound * 10


def test_constructor_arguments_are_checked_as_torch():
    with pytest.raises(ValueError, match="proj_size has to be smaller"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="only supported for LSTM"):
        nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout should be a number"):
        nn.RNN(3, 4, dropout=1.5)


# ----------------------------------------------------------------------------- errors
def test_wrong_input_size_names_the_layer_and_the_shapes():
    with pytest.raises(fk.ShapeError, match=r"LSTM: input of shape \(5, 2, 4\).*input_size=3"):
        nn.LSTM(3, 4)(fk.randn(5, 2, 4))
    with pytest.raises(fk.ShapeError, match=r"GRU: expected a 2-d .* or 3-d input, got shape \(2, 3, 4, 5\)"):
        nn.GRU(5, 4)(fk.randn(2, 3, 4, 5))
    with pytest.raises(fk.ShapeError, match=r"GRUCell: input of shape \(2, 4\)"):
        nn.GRUCell(3, 4)(fk.randn(2, 4))


def test_wrong_hidden_state_names_the_layer_and_the_shapes():
    with pytest.raises(fk.ShapeError, match=r"LSTM: expected h_0 of shape \(2, 2, 4\).*got \(2, 3, 4\)"):
        nn.LSTM(3, 4, num_layers=2)(fk.randn(5, 2, 3), (fk.randn(2, 3, 4), fk.randn(2, 2, 4)))
    with pytest.raises(fk.ShapeError, match=r"LSTM: expected c_0 of shape \(1, 2, 4\).*got \(1, 2, 3\)"):
        nn.LSTM(3, 4)(fk.randn(5, 2, 3), (fk.randn(1, 2, 4), fk.randn(1, 2, 3)))
    with pytest.raises(fk.ShapeError, match=r"RNN: expected h_0 of shape \(2, 2, 4\)"):
        nn.RNN(3, 4, bidirectional=True)(fk.randn(5, 2, 3), fk.randn(1, 2, 4))
    with pytest.raises(fk.ShapeError, match=r"unbatched 2-D input, hx should also be 2-D"):
        nn.GRU(3, 4)(fk.randn(5, 3), fk.randn(1, 1, 4))
    with pytest.raises(fk.ShapeError, match=r"LSTMCell: hidden state c of shape \(2, 5\)"):
        nn.LSTMCell(3, 4)(fk.randn(2, 3), (fk.randn(2, 4), fk.randn(2, 5)))


def test_input_dtype_must_match_the_weights():
    with pytest.raises(ValueError, match="does not match weight dtype"):
        nn.GRU(3, 4)(fk.randn(5, 2, 3, dtype=fk.float64))


def test_cell_state_rank_must_match_the_input():
    with pytest.raises(fk.ShapeError, match=r"GRUCell: unbatched 1-D input expects a 1-D hidden state h, got shape"):
        nn.GRUCell(3, 4)(fk.randn(3), fk.randn(1, 4))
    with pytest.raises(fk.ShapeError, match=r"RNNCell: batched 2-D input expects a 2-D hidden state h"):
        nn.RNNCell(3, 4)(fk.randn(2, 3), fk.randn(4))
