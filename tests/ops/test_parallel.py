"""fukaku.ops._parallel: elementwise work cut among threads gives the one-thread result, bit for bit."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import fukaku as fk
from fukaku.ops import _parallel


@pytest.fixture
def threads(monkeypatch):
    """Three workers and a tiny split threshold, recording which threads ran pieces."""
    monkeypatch.setattr(_parallel, "SPLIT_BYTES", 64)
    monkeypatch.setattr(_parallel.Threads, "count", classmethod(lambda cls: 3))
    seen: set[str] = set()
    split = _parallel.split

    def recording(n, nbytes, work):
        def traced(lo, hi):
            seen.add(threading.current_thread().name)
            work(lo, hi)
        split(n, nbytes, traced)

    monkeypatch.setattr(_parallel, "split", recording)
    return seen


CASES = [
    (np.add, lambda r: (r.standard_normal((7, 3, 4)), r.standard_normal((3, 1)))),           # broadcast, fewer dims
    (np.multiply, lambda r: (r.standard_normal((5, 6)).astype(np.float32), r.standard_normal((1, 6)))),  # size 1
    (np.maximum, lambda r: (r.standard_normal((9, 8)).astype(np.float32), 0)),               # a weak Python scalar
    (np.subtract, lambda r: (2.5, r.standard_normal((4, 5)))),
    (np.less_equal, lambda r: (r.standard_normal((6, 5)), 0)),                               # bool result
    (np.logical_not, lambda r: (r.standard_normal((16, 5)) > 0,)),
    (np.divide, lambda r: (r.integers(1, 9, (6, 7)), r.integers(1, 9, (6, 7)))),           # ints to float64
]


@pytest.mark.parametrize("op, make", CASES, ids=[c[0].__name__ for c in CASES])
def test_ufunc_pieces_equal_one_call(threads, op, make):
    operands = make(np.random.default_rng(0))
    want = op(*operands)
    got = _parallel.ufunc(op, *operands)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    assert any(name.startswith("fukaku-worker") for name in threads)  # some pieces ran on the pool


def test_ufunc_in_place_and_small_inputs(threads):
    x = np.random.default_rng(1).standard_normal((8, 5))
    want = x * 3.0
    out = _parallel.ufunc(np.multiply, x, 3.0, out=x)
    assert out is x
    np.testing.assert_array_equal(x, want)
    threads.clear()
    assert _parallel.ufunc(np.add, np.float64(1.0), 2.0) == 3.0  # 0-d: one plain call
    assert _parallel.ufunc(np.add, np.ones(3), 1.0).tolist() == [2.0, 2.0, 2.0]
    assert not threads


def test_split_covers_the_range_once(monkeypatch):
    monkeypatch.setattr(_parallel.Threads, "count", classmethod(lambda cls: 4))
    for n in (1, 3, 4, 10):
        hits = np.zeros(n, int)

        def work(lo, hi):
            hits[lo:hi] += 1

        _parallel.split(n, _parallel.SPLIT_BYTES, work)
        assert hits.tolist() == [1] * n


def test_a_training_step_is_the_same_on_one_thread(monkeypatch):
    """BatchNorm, ReLU and the residual add with their passes split or not: the same numbers, bit for bit."""
    def step(parallel: bool):
        monkeypatch.setattr(_parallel, "PARALLEL", parallel)
        monkeypatch.setattr(_parallel, "SPLIT_BYTES", 256 if parallel else 1 << 20)
        fk.manual_seed(0)
        net = fk.nn.Sequential(fk.nn.Conv2d(3, 4, 3, padding=1), fk.nn.BatchNorm2d(4), fk.nn.ReLU())
        x = fk.tensor(np.random.default_rng(2).standard_normal((6, 3, 5, 5)).astype(np.float32), requires_grad=True)
        y = net(x) + x.sum(1, keepdim=True)
        (y * y).sum().backward()
        return [y.detach().numpy(), x.grad.numpy()] + [p.grad.numpy() for p in net.parameters()]

    for got, want in zip(step(True), step(False)):
        np.testing.assert_array_equal(got, want)
