"""Truncated BPTT (fukaku.nn.utils.bptt): the forward pass carries the state across chunks exactly,
the gradient stops at every chunk boundary, and the per-chunk optimizer steps are those of the
hand-written loop.

The recurrent models are small Modules written here from tensor ops: an Elman network (state h)
and a two-part state ``(h, c)`` shaped like an LSTM's, so tuple states are exercised too.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import fukaku as fk
from fukaku import nn, optim
from fukaku.nn.utils import detach_state, truncated_bptt
from fukaku.nn.utils.bptt import BPTTResult
from tests.conformance import assert_close


class Elman(nn.Module):
    """h_t = tanh(h_{t−1} W + x_t U + b); returns (all h_t, h_T), as nn.RNN does (time-major)."""

    def __init__(self, n_in: int = 3, n_h: int = 4, pair: bool = False) -> None:
        super().__init__()
        g = fk.Generator().manual_seed(0)
        self.W = nn.Parameter(fk.randn(n_h, n_h, generator=g, dtype=fk.float64) * 0.5)
        self.U = nn.Parameter(fk.randn(n_in, n_h, generator=g, dtype=fk.float64) * 0.5)
        self.b = nn.Parameter(fk.randn(n_h, generator=g, dtype=fk.float64) * 0.1)
        self.pair, self.n_h = pair, n_h

    def forward(self, x, state=None):
        zeros = fk.zeros(x.shape[1], self.n_h, dtype=x.dtype)
        if self.pair:  # (h, c): c is a leaky sum of the h's that feeds back, like an LSTM's cell
            h, c = state if state is not None else (zeros, zeros)
        else:
            h, c = (state if state is not None else zeros), None
        outs = []
        for x_t in x.unbind(0):
            pre = h @ self.W + x_t @ self.U + self.b
            h = fk.tanh(pre if c is None else pre + 0.5 * c)
            if c is not None:
                c = 0.8 * c + h
            outs.append(h)
        return fk.stack(outs), (h if c is None else (h, c))


def _data(steps: int = 10, batch: int = 2, n_in: int = 3, seed: int = 1):
    rng = np.random.default_rng(seed)
    return fk.tensor(rng.normal(size=(steps, batch, n_in))), fk.tensor(rng.normal(size=(steps, batch, 4)))


def _mse(out, y):
    return ((out - y) ** 2).mean()


@pytest.mark.parametrize("pair", [False, True], ids=["h", "(h, c)"])
@pytest.mark.parametrize("k", [1, 3, 4, 10, 25])
def test_carried_state_equals_the_full_sequence_state(k, pair):
    model = Elman(pair=pair)
    x, y = _data()
    result = truncated_bptt(model, x, y, _mse, k=k)
    _, full = model(x)
    for got, want in zip(*(s if pair else (s,) for s in (result.state, full))):
        assert_close(got, want.detach().numpy())
        assert not got.requires_grad
    assert result.steps == [min(k, 10 - i) for i in range(0, 10, k)]


@pytest.mark.parametrize("pair", [False, True], ids=["h", "(h, c)"])
def test_gradients_stop_at_chunk_boundaries(pair):
    """Only the last chunk's steps carry loss: the inputs of earlier chunks get exactly zero gradient
    (full BPTT gives them a non-zero one), and the weights' gradient is the last chunk's alone, run
    from the state the earlier chunks reached."""
    model = Elman(pair=pair)
    x, y = _data()
    weight = fk.zeros(10, 2, 4, dtype=fk.float64)
    weight[8:] = 1.0  # k = 4: chunks [0, 4), [4, 8), [8, 10)

    def weighted(out, w):
        return (out * w).sum()

    xs = x.clone().requires_grad_()
    truncated_bptt(model, xs, weight, weighted, k=4)
    assert np.all(xs.grad.numpy()[:8] == 0)
    assert np.abs(xs.grad.numpy()[8:]).min() > 0
    got = [p.grad.numpy().copy() for p in model.parameters()]

    # the manual computation: the state at step 8 as a constant, then the last two steps
    model.zero_grad()
    with fk.no_grad():
        _, s8 = model(x[:8])
    out, _ = model(x[8:], s8)
    weighted(out, weight[8:]).backward()
    for g, p in zip(got, model.parameters()):
        assert_close(g, p.grad.numpy())

    # full BPTT does reach the earlier inputs
    xf = x.clone().requires_grad_()
    weighted(model(xf)[0], weight).backward()
    assert np.abs(xf.grad.numpy()[:8]).max() > 1e-3


def test_accumulated_gradient_is_the_sum_of_chunk_gradients():
    """Without an optimizer the chunks' gradients add up: the sum, over chunks, of the gradient of
    each chunk's loss from the (constant) state the full forward pass has at the chunk's start."""
    model = Elman()
    x, y = _data(steps=9)
    result = truncated_bptt(model, x, y, _mse, k=4)
    got = [p.grad.numpy().copy() for p in model.parameters()]
    want = [np.zeros_like(g) for g in got]
    losses = []
    for start in (0, 4, 8):
        model.zero_grad()
        with fk.no_grad():
            state = model(x[:start])[1] if start else None
        out, _ = model(x[start:start + 4], state)
        loss = _mse(out, y[start:start + 4])
        loss.backward()
        losses.append(loss.item())
        for w, p in zip(want, model.parameters()):
            w += p.grad.numpy()
    for g, w in zip(got, want):
        assert_close(g, w)
    np.testing.assert_allclose(result.losses, losses, rtol=1e-12)
    assert result.loss == pytest.approx((4 * losses[0] + 4 * losses[1] + losses[2]) / 9)
    # k ≥ T is full BPTT
    model.zero_grad()
    truncated_bptt(model, x, y, _mse, k=9)
    full = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    _mse(model(x)[0], y).backward()
    for f, p in zip(full, model.parameters()):
        assert_close(f, p.grad.numpy())


@pytest.mark.parametrize("max_grad_norm", [None, 0.05])
def test_optimizer_steps_once_per_chunk(max_grad_norm):
    """The helper's weights after one pass equal those of the hand-written loop of the module docstring."""
    x, y = _data(steps=7)
    a, b = Elman(pair=True), Elman(pair=True)
    opt_a, opt_b = optim.SGD(a.parameters(), lr=0.3), optim.SGD(b.parameters(), lr=0.3)
    result = truncated_bptt(a, x, y, _mse, opt_a, k=3, max_grad_norm=max_grad_norm)
    state, losses = None, []
    for xc, yc in zip(x.split(3), y.split(3)):
        out, state = b(xc, state)
        loss = _mse(out, yc)
        opt_b.zero_grad()
        loss.backward()
        if max_grad_norm is not None:
            nn.utils.clip_grad_norm_(b.parameters(), max_grad_norm)
        opt_b.step()
        state = (state[0].detach(), state[1].detach())
        losses.append(loss.item())
    for p, q in zip(a.parameters(), b.parameters()):
        assert_close(p, q.detach().numpy())
    np.testing.assert_allclose(result.losses, losses, rtol=1e-12)
    assert result.steps == [3, 3, 1]


def test_batch_first_and_no_targets_and_continuing():
    model = Elman()
    x, _ = _data(steps=6)
    xb = x.transpose(0, 1)

    def time_major(x, state):  # the model is time-major; the data batch-first
        out, h = model(x.transpose(0, 1), state)
        return out.transpose(0, 1), h

    first = truncated_bptt(time_major, xb[:, :4], None, lambda out: out.pow(2).mean(), k=3, batch_first=True)
    second = truncated_bptt(time_major, xb[:, 4:], None, lambda out: out.pow(2).mean(), k=3, batch_first=True,
                            state=first.state)
    assert first.steps == [3, 1] and second.steps == [2]
    assert_close(second.state, model(x)[1].detach().numpy())


def test_detach_state_keeps_the_structure():
    Pair = namedtuple("Pair", "h c")
    w = fk.ones(2, requires_grad=True)
    h, c = w * 2, w * 3
    out = detach_state({"layers": [Pair(h, c), (h,)], "none": None})
    p = out["layers"][0]
    assert isinstance(p, Pair) and isinstance(out["layers"], list) and isinstance(out["layers"][1], tuple)
    assert out["none"] is None
    for t in (p.h, p.c, out["layers"][1][0]):
        assert not t.requires_grad and t.grad_fn is None
    assert np.shares_memory(p.h.numpy(), h.detach().numpy())  # the values are shared, not copied
    assert detach_state(None) is None
    with pytest.raises(TypeError, match="detach_state.*str"):
        detach_state("h")


def test_bad_arguments():
    model = Elman()
    x, y = _data()
    with pytest.raises(ValueError, match="positive int, got 0"):
        truncated_bptt(model, x, y, _mse, k=0)
    with pytest.raises(ValueError, match=r"\(10, 2, 3\) and targets \(9, 2, 4\).*dim 0"):
        truncated_bptt(model, x, y[:9], _mse, k=2)
    assert isinstance(truncated_bptt(model, x[:2], y[:2], _mse, k=2), BPTTResult)


def test_with_nn_lstm_against_pytorch():
    """nn.LSTM (state (h, c)) trained by truncated_bptt with Adam and clipping ends with the weights of
    the same loop in PyTorch, from the same initial weights."""
    import torch

    fk.manual_seed(0)
    lstm, head = nn.LSTM(3, 5, num_layers=2), nn.Linear(5, 2)
    t_lstm, t_head = torch.nn.LSTM(3, 5, num_layers=2), torch.nn.Linear(5, 2)
    for mine, theirs in ((lstm, t_lstm), (head, t_head)):
        theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in mine.state_dict().items()})

    def model(x, state):
        out, state = lstm(x, state)
        return head(out), state

    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(11, 2, 3)).astype(np.float32), rng.normal(size=(11, 2, 2)).astype(np.float32)
    params = list(lstm.parameters()) + list(head.parameters())
    result = truncated_bptt(model, fk.tensor(x), fk.tensor(y), _mse, optim.Adam(params, lr=0.01), k=4,
                            max_grad_norm=0.5, parameters=params)
    t_params = list(t_lstm.parameters()) + list(t_head.parameters())
    t_opt, state, losses = torch.optim.Adam(t_params, lr=0.01), None, []
    for xc, yc in zip(torch.tensor(x).split(4), torch.tensor(y).split(4)):
        out, state = t_lstm(xc, state)
        loss = ((t_head(out) - yc) ** 2).mean()
        t_opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(t_params, 0.5)
        t_opt.step()
        state = tuple(s.detach() for s in state)
        losses.append(loss.item())
    np.testing.assert_allclose(result.losses, losses, rtol=1e-5)
    for p, q in zip(params, t_params):
        assert_close(p, q.detach())
    assert isinstance(result.state, tuple) and len(result.state) == 2
    for s, t in zip(result.state, state):
        assert_close(s, t)
