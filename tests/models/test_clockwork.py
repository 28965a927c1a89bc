"""The Clockwork RNN (fukaku/models/rnn/clockwork.py) against the paper's definition written out
naively here — a loop over modules that updates only the modules whose clock ticks — plus the mask
structure, the held states and finite-difference gradients in float64."""
from __future__ import annotations

import numpy as np
import pytest

import fukaku as fk
from fukaku.autograd import gradcheck
from fukaku.models.rnn.clockwork import ClockworkRNN
from tests.conformance import assert_close


def naive_clockwork(x: np.ndarray, w_ih, w_hh, b, periods, h0=None, t0: int = 0, f=np.tanh) -> np.ndarray:
    """Koutník et al. 2014, eq. (1)–(2), module by module: at step t each module i with
    (t0 + t) mod T_i = 0 computes f(W_Hi · h + W_Ii · x_t) from the modules j with T_j ≥ T_i;
    the others keep their state. x is (T, N, I); returns every state (T, N, H)."""
    steps, batch, _ = x.shape
    g, H = len(periods), w_hh.shape[0]
    k = H // g
    h = np.zeros((batch, H)) if h0 is None else h0.copy()
    out = []
    for t in range(steps):
        new = h.copy()
        for i, period in enumerate(periods):
            if (t0 + t) % period:
                continue
            rows = slice(i * k, (i + 1) * k)
            pre = x[t] @ w_ih[rows].T + b[rows]
            for j, other in enumerate(periods):
                if other >= period:  # slower or equal modules feed module i
                    cols = slice(j * k, (j + 1) * k)
                    pre = pre + h[:, cols] @ w_hh[rows, cols].T
            new[:, rows] = f(pre)
        h = new
        out.append(h)
    return np.stack(out)


def _arrays(cw: ClockworkRNN):
    b = (cw.bias_ih + cw.bias_hh).detach().numpy() if cw.bias_ih is not None else np.zeros(cw.hidden_size)
    return cw.weight_ih.detach().numpy(), cw.weight_hh.detach().numpy(), b


def test_default_periods_and_mask_structure():
    cw = ClockworkRNN(2, 12, periods=3)
    assert cw.periods == (1, 2, 4) and cw.module_size == 4
    m = cw.recurrent_mask.numpy()
    blocks = m.reshape(3, 4, 3, 4)
    for i in range(3):
        for j in range(3):
            assert np.all(blocks[i, :, j, :] == (1 if j >= i else 0)), (i, j)  # block-upper-triangular
    np.testing.assert_array_equal(cw.weight_hh.detach().numpy() * (1 - m), 0)  # zero outside the mask
    assert "recurrent_mask" not in cw.state_dict()
    assert set(cw.state_dict()) == {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}
    # unsorted periods: the rule "j feeds i iff T_j ≥ T_i", not the position, decides
    u = ClockworkRNN(1, 3, periods=[4, 1, 2]).recurrent_mask.numpy()
    np.testing.assert_array_equal(u, [[1, 0, 0], [1, 1, 1], [1, 0, 1]])


def test_active_table():
    cw = ClockworkRNN(1, 3, periods=[1, 2, 3])
    np.testing.assert_array_equal(cw.active(7).numpy().astype(int),
                                  [[1, 1, 1], [1, 0, 0], [1, 1, 0], [1, 0, 1], [1, 1, 0], [1, 0, 0], [1, 1, 1]])
    np.testing.assert_array_equal(cw.active(2, t0=3).numpy(), cw.active(5).numpy()[3:])


@pytest.mark.parametrize("periods, nonlinearity, bias", [
    ([1, 2, 4, 8], "tanh", True), ([1, 3, 5], "relu", True), ([2, 2, 5], "tanh", False), ([3, 1], "tanh", True)])
def test_matches_the_naive_per_module_loop(periods, nonlinearity, bias):
    fk.manual_seed(0)
    cw = ClockworkRNN(3, 2 * len(periods), periods, nonlinearity=nonlinearity, bias=bias, dtype=fk.float64)
    with fk.no_grad():  # a full W_hh: the entries outside the mask must have no effect
        cw.weight_hh.copy_(fk.randn(cw.hidden_size, cw.hidden_size, dtype=fk.float64))
    x = np.random.default_rng(1).normal(size=(11, 2, 3))
    h0 = np.random.default_rng(2).normal(size=(2, cw.hidden_size))
    f = np.tanh if nonlinearity == "tanh" else (lambda z: np.maximum(z, 0))
    out, h_n = cw(fk.tensor(x), fk.tensor(h0[None]), t0=1)
    want = naive_clockwork(x, *_arrays(cw), periods, h0=h0, t0=1, f=f)
    assert_close(out, want)
    assert_close(h_n, want[-1:])


def test_inactive_modules_hold_their_state_exactly():
    cw = ClockworkRNN(2, 8, periods=[1, 2, 4, 8])
    out = cw(fk.randn(17, 3, 2))[0].detach().numpy()
    active = cw.active(17).numpy()
    for t in range(1, 17):
        held = ~active[t]
        np.testing.assert_array_equal(out[t][:, held], out[t - 1][:, held])  # bit for bit
        assert np.all(out[t][:, active[t]] != out[t - 1][:, active[t]])
    # the slowest module (T = 8) changes only at steps 0, 8 and 16
    changes = np.nonzero(np.any(out[1:, :, 6:] != out[:-1, :, 6:], axis=(1, 2)))[0] + 1
    assert changes.tolist() == [8, 16]


def test_chunks_with_t0_continue_the_sequence():
    cw = ClockworkRNN(1, 6, periods=[1, 2, 3])
    x = fk.randn(10, 2, 1)
    full, h_full = cw(x)
    a, h = cw(x[:4])
    b, h2 = cw(x[4:], h, t0=4)
    assert_close(fk.cat([a, b]), full.detach().numpy())
    assert_close(h2, h_full.detach().numpy())


def test_shapes_batch_first_and_unbatched():
    cw = ClockworkRNN(3, 4, periods=[1, 2], batch_first=True)
    x = fk.randn(2, 5, 3)
    out, h_n = cw(x)
    assert out.shape == (2, 5, 4) and h_n.shape == (1, 2, 4)
    cw.batch_first = False
    tm, _ = cw(x.transpose(0, 1))
    assert_close(out, tm.transpose(0, 1).detach().numpy())
    single, h1 = cw(x[1].clone(), fk.zeros(1, 4))
    assert single.shape == (5, 4) and h1.shape == (1, 4)
    assert_close(single, tm[:, 1].detach().numpy())


def test_gradients_by_finite_differences():
    """Reverse and forward mode against central differences, for the input, h0 and every parameter."""
    fk.manual_seed(3)
    cw = ClockworkRNN(2, 6, periods=[1, 2, 3], dtype=fk.float64)
    names = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    saved = dict(cw._parameters)

    def f(x, h0, *params):  # the layer as a function of its parameters
        cw._parameters.update(zip(names, params))
        return cw(x, h0)

    x = fk.randn(7, 2, 2, dtype=fk.float64, requires_grad=True)
    h0 = fk.randn(1, 2, 6, dtype=fk.float64, requires_grad=True)
    try:
        assert gradcheck(f, [x, h0] + [saved[n].detach().clone().requires_grad_() for n in names])
    finally:
        cw._parameters.update(saved)


def test_masked_weights_get_no_gradient():
    cw = ClockworkRNN(1, 6, periods=[1, 2, 4])
    cw(fk.randn(9, 2, 1))[0].sum().backward()
    outside = cw.recurrent_mask.numpy() == 0
    assert np.all(cw.weight_hh.grad.numpy()[outside] == 0)
    assert np.all(cw.weight_hh.grad.numpy()[~outside] != 0)


def test_errors_name_the_layer_and_the_shapes():
    with pytest.raises(ValueError, match=r"hidden_size=10 does not split into 3 equal modules.*divisible by 3"):
        ClockworkRNN(1, 10, periods=[1, 2, 4])
    with pytest.raises(ValueError, match="positive ints"):
        ClockworkRNN(1, 4, periods=[1, 0])
    with pytest.raises(ValueError, match="nonlinearity 'sigmoid'"):
        ClockworkRNN(1, 4, periods=2, nonlinearity="sigmoid")
    cw = ClockworkRNN(3, 4, periods=2)
    with pytest.raises(fk.ShapeError, match=r"ClockworkRNN: input has 2 features \(shape \(5, 1, 2\)\).*input_size=3"):
        cw(fk.randn(5, 1, 2))
    with pytest.raises(fk.ShapeError, match=r"expected hx of shape \(1, 2, 4\), got \(2, 4\)"):
        cw(fk.randn(5, 2, 3), fk.zeros(2, 4))
    with pytest.raises(fk.ShapeError, match="2-d .* or 3-d input"):
        cw(fk.randn(3))
    assert repr(cw) == "ClockworkRNN(3, 4, periods=[1, 2])"
