"""The LSTM of the fused node with its hidden units shared among threads (fukaku/ops/recurrent.py,
``RecurrentSequence._lstm_forward``/``_lstm_bptt``): against PyTorch's ``nn.LSTM`` with the same weights,
for one, two and three parts (uneven ones too), both directions, with and without bias, in float32 and
float64; outputs the user changes in place; inference without a graph; an error in a worker part."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fukaku as fk
from conformance import FLOATS, assert_close, randn
from fukaku.ops import recurrent as R


def _lstms(I: int, H: int, layers: int, bidirectional: bool, bias: bool, dtype):
    """An nn.LSTM of each library with the same weights."""
    ours = fk.nn.LSTM(I, H, num_layers=layers, bidirectional=bidirectional, bias=bias)
    theirs = torch.nn.LSTM(I, H, num_layers=layers, bidirectional=bidirectional, bias=bias)
    with torch.no_grad():
        for k, ((name, p), (name2, q)) in enumerate(zip(ours.named_parameters(), theirs.named_parameters())):
            assert name == name2
            w = randn(tuple(p.shape), seed=10 + k) * 0.4
            q.copy_(torch.tensor(w))
            with fk.no_grad():
                p.copy_(fk.tensor(w.astype(np.float32)))
    if dtype == np.float64:
        ours, theirs = ours.double(), theirs.double()
    return ours, theirs


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("parts", [1, 2, 3])
@pytest.mark.parametrize("bidirectional, bias, T, B", [(False, True, 5, 4), (True, True, 5, 4), (True, False, 5, 4),
                                                        (True, True, 1, 1)])
def test_lstm_in_parts_matches_torch(parts, bidirectional, bias, T, B, dtype, monkeypatch):
    """Outputs, final states and the gradients of the input, the initial states and every weight, against
    torch; H = 7 splits into uneven parts (2, 2, 3 units); one step of one sample too."""
    monkeypatch.setattr(R.RecurrentSequence, "_parts", staticmethod(lambda *a: parts))
    I, H, L = 3, 7, 2
    D = 2 if bidirectional else 1
    ours, theirs = _lstms(I, H, L, bidirectional, bias, dtype)
    x, h0, c0 = randn(T, B, I, seed=1), randn(L * D, B, H, seed=2), randn(L * D, B, H, seed=3)
    up, uh, uc = randn(T, B, D * H, seed=4), randn(L * D, B, H, seed=5), randn(L * D, B, H, seed=6)
    fx, fh, fc = (fk.tensor(a.astype(dtype), requires_grad=True) for a in (x, h0, c0))
    tx, th, tc = (torch.tensor(a.astype(dtype), requires_grad=True) for a in (x, h0, c0))
    out, (h_n, c_n) = ours(fx, (fh, fc))
    want, (h_want, c_want) = theirs(tx, (th, tc))
    for got, exp in ((out, want), (h_n, h_want), (c_n, c_want)):
        assert_close(got, exp.detach().numpy(), dtype)
    ((out * fk.tensor(up.astype(dtype))).sum() + (h_n * fk.tensor(uh.astype(dtype))).sum()
     + (c_n * fk.tensor(uc.astype(dtype))).sum()).backward()
    ((want * torch.tensor(up.astype(dtype))).sum() + (h_want * torch.tensor(uh.astype(dtype))).sum()
     + (c_want * torch.tensor(uc.astype(dtype))).sum()).backward()
    for got, exp in ((fx, tx), (fh, th), (fc, tc)):
        assert_close(got.grad, exp.grad.numpy(), dtype)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert_close(p.grad, q.grad.numpy(), dtype, name)


def test_the_benchmark_size_is_shared_among_the_workers():
    """A step's product of 4H × H × B = 1024 × 256 × 64 is worth splitting; a tiny layer's is not."""
    assert R.RecurrentSequence._parts(2, 1024, 256, 64, 256) == 2
    assert R.RecurrentSequence._parts(2, 20, 5, 3, 5) == 1
    assert R.RecurrentSequence._parts(1, 1024, 256, 64, 256) == 1


def test_outputs_changed_in_place_leave_the_gradients_alone(monkeypatch):
    """The backward reads its own copy of the states: doubling the returned outputs in place (torch allows it)
    changes nothing but the upstream gradient's meaning."""
    monkeypatch.setattr(R.RecurrentSequence, "_parts", staticmethod(lambda *a: 2))
    ours, theirs = _lstms(3, 6, 1, False, True, np.float64)
    x = randn(4, 2, 3, seed=1)
    fx, tx = fk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, _ = ours(fx)
    want, _ = theirs(tx)
    out.mul_(2)
    want.mul_(2)
    (out * out).sum().backward()
    (want * want).sum().backward()
    assert_close(fx.grad, tx.grad.numpy(), np.float64)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert_close(p.grad, q.grad.numpy(), np.float64)


@pytest.mark.parametrize("reverse", [False, True])
def test_inference_in_parts_gives_the_recorded_numbers(reverse, monkeypatch):
    """Without a graph the parts keep one step's gates and two cell states instead of the sequence's: the same
    numbers, bit for bit."""
    monkeypatch.setattr(R.RecurrentSequence, "_parts", staticmethod(lambda *a: 2))
    w = [fk.tensor(randn(*s, seed=k) * 0.5, requires_grad=True) for k, s in enumerate([(24, 3), (24, 6), (24,), (24,)])]
    x, h0, c0 = fk.tensor(randn(5, 2, 3, seed=7)), fk.tensor(randn(2, 6, seed=8)), fk.tensor(randn(2, 6, seed=9))
    recorded = R.RecurrentSequence.apply(x, h0, c0, *w, mode="LSTM", reverse=reverse)
    assert recorded.requires_grad
    with fk.no_grad():
        plain = R.RecurrentSequence.apply(x, h0, c0, *w, mode="LSTM", reverse=reverse)
    np.testing.assert_array_equal(plain.numpy(), recorded.detach().numpy())


def test_an_error_in_a_worker_part_reaches_the_caller():
    """A part that fails breaks the barrier: the others stop waiting and the caller gets the part's error."""
    seen = []

    def body(j, wait):
        seen.append(j)
        if j == 1:
            raise ValueError("part 1 failed")
        for _ in range(3):
            wait()

    with pytest.raises(ValueError, match="part 1 failed"):
        R._in_parts(3, body)
    assert sorted(seen) == [0, 1, 2]


@pytest.mark.parametrize("k", [2, 3])
def test_the_barrier_holds_every_part_until_all_arrive(k):
    """Round after round, no part passes the barrier before every part has finished the round's work."""
    done = np.zeros(k, int)
    early = []

    def body(j, wait):
        for r in range(1, 301):
            done[j] = r
            wait()
            if done.min() < r:
                early.append((j, r))
            wait()  # nobody starts round r + 1 while another still checks round r

    R._in_parts(k, body)
    assert early == [] and done.tolist() == [300] * k
