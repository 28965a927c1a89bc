"""``Tensor.register_post_accumulate_grad_hook`` and ``engine.queue_callback``, with PyTorch as the oracle.

Data-parallel training starts reducing a parameter's gradient from this hook while the rest of the
backward pass still runs, and waits for the reductions in a queued callback at the end of the pass.
"""
import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku.autograd.engine import queue_callback


def _two_layers(L, w1, w2, x):
    """w2 · relu(w1 · x), summed, with w1 used twice (its gradient arrives along two edges)."""
    return ((w2 @ (w1 @ x).relu()).sum() + (w1 * w1).sum())


def _record(L):
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=s) for s in ((3, 4), (2, 3), (4, 5))]
    w1, w2 = (L.tensor(a, requires_grad=True) for a in arrays[:2])
    x = L.tensor(arrays[2])
    events = []

    def hook(name):
        def run(t):  # what each parameter's .grad holds when its hook fires, and which others are set yet
            events.append((name, t.grad.numpy().copy(), w1.grad is None, w2.grad is None))
        return run

    w1.register_post_accumulate_grad_hook(hook("w1"))
    w2.register_post_accumulate_grad_hook(hook("w2"))
    _two_layers(L, w1, w2, x).backward()
    return events, w1, w2


def test_hooks_fire_once_per_leaf_with_the_complete_gradient_in_torch_order():
    ours, fw1, fw2 = _record(fk)
    theirs, tw1, tw2 = _record(torch)
    assert [e[0] for e in ours] == [e[0] for e in theirs] == ["w2", "w1"]
    for (_, g, *_), (_, tg, *_) in zip(ours, theirs):
        np.testing.assert_allclose(g, tg, rtol=1e-12)
    # w2's hook runs while w1's gradient is still being computed: the overlap data parallelism uses
    assert ours[0][2:] == theirs[0][2:] == (True, False)
    np.testing.assert_allclose(fw1.grad.numpy(), tw1.grad.numpy(), rtol=1e-12)


def test_hook_runs_again_each_backward_and_sees_the_accumulated_grad():
    seen = {}
    for L in (fk, torch):
        w = L.tensor([1.0, 2.0], requires_grad=True)
        out = []
        w.register_post_accumulate_grad_hook(lambda t: out.append(t.grad.tolist()))
        (w * 3).sum().backward()
        (w * w).sum().backward()
        seen[L.__name__] = out
    assert seen["fukaku"] == seen["torch"] == [[3.0, 3.0], [5.0, 7.0]]


def test_hook_may_change_grad_in_place_and_handle_removes_it():
    w = fk.tensor([1.0, 2.0], requires_grad=True)

    def halve(t):
        t.grad.mul_(0.5)

    handle = w.register_post_accumulate_grad_hook(halve)
    (w * 4).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0]
    handle.remove()
    w.grad = None
    (w * 4).sum().backward()
    assert w.grad.tolist() == [4.0, 4.0]


def test_not_run_by_autograd_grad_nor_for_leaves_outside_inputs():
    calls = []
    a = fk.tensor([1.0], requires_grad=True)
    b = fk.tensor([2.0], requires_grad=True)
    a.register_post_accumulate_grad_hook(lambda t: calls.append("a"))
    b.register_post_accumulate_grad_hook(lambda t: calls.append("b"))
    fk.autograd.grad((a * b).sum(), a)
    assert calls == []
    (a * b).sum().backward(inputs=[b])
    assert calls == ["b"] and a.grad is None and b.grad.tolist() == [1.0]


def test_register_hook_runs_before_accumulation():
    w = fk.tensor([1.0, 1.0], requires_grad=True)
    w.register_hook(lambda g: g * 10)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    (w * 2).sum().backward()
    assert seen == [[20.0, 20.0]]


def test_errors_as_pytorch():
    for L in (fk, torch):
        x = L.tensor([1.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="non-leaf"):
            (x * 2).register_post_accumulate_grad_hook(lambda t: None)
        with pytest.raises(RuntimeError, match="doesn't require"):
            L.tensor([1.0]).register_post_accumulate_grad_hook(lambda t: None)
        x = L.tensor([1.0], requires_grad=True)
        x.register_post_accumulate_grad_hook(lambda t: t.grad * 2)
        with pytest.raises(RuntimeError, match="should return None"):
            (x * 2).sum().backward()


def test_queue_callback_runs_after_every_grad_is_set():
    w1 = fk.tensor([1.0], requires_grad=True)
    w2 = fk.tensor([3.0], requires_grad=True)
    order = []
    w2.register_post_accumulate_grad_hook(
        lambda t: queue_callback(lambda: order.append(("end", w1.grad.tolist(), w2.grad.tolist()))))
    (w1 * w2 * 2).sum().backward()
    assert order == [("end", [6.0], [2.0])]
    with pytest.raises(RuntimeError, match="during backward"):
        queue_callback(lambda: None)


def test_a_callback_stays_with_the_backward_of_its_own_thread():
    """Thread A's backward starts first and waits in its hook; thread B's backward starts, queues a callback from
    its hook and waits there until A's backward has ended. With one shared stack of queues, B's queue would be the
    innermost when A ends, and A would run B's callback (and drop B's queue)."""
    import threading

    a_inside, b_queued, a_done = threading.Event(), threading.Event(), threading.Event()
    ran = []

    def a_hook(t):
        a_inside.set()
        assert b_queued.wait(10)

    def b_hook(t):
        queue_callback(lambda: ran.append(threading.current_thread().name))
        b_queued.set()
        assert a_done.wait(10)

    def run(hook, after=None):
        if after is not None:
            assert after.wait(10)
        w = fk.tensor([1.0, 2.0], requires_grad=True)
        w.register_post_accumulate_grad_hook(hook)
        (w * 3).sum().backward()

    a = threading.Thread(target=run, args=(a_hook,), name="A")
    b = threading.Thread(target=run, args=(b_hook, a_inside), name="B")
    a.start()
    b.start()
    a.join(20)
    a_done.set()
    b.join(20)
    assert ran == ["B"]
