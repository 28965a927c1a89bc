"""The reverse-mode engine: graph walking, accumulation, freeing, higher order, errors."""
import gc
import tracemalloc

import numpy as np
import pytest

import fukaku as fk
from fukaku.autograd import grad


def test_leaf_gradients_accumulate_across_backward_calls():
    x = fk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    (3 * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1, 2, 3]) + 3)


def test_shared_subexpression_sums_all_paths():
    # y = x·x + x: dy/dx = 2x + 1 — two paths into x through the same node
    x = fk.tensor(3.0, requires_grad=True)
    a = x * x
    y = a + a * 0 + x
    y.backward()
    assert x.grad.item() == pytest.approx(7.0)


def test_chain_of_100000_ops_backpropagates_iteratively():
    x = fk.tensor([1.0], dtype=fk.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.000001
    y.sum().backward()
    assert x.grad.item() == pytest.approx(1.000001 ** 100_000, rel=1e-9)


def _unrolled_rnn(steps: int, hidden: int = 16):
    fk.manual_seed(0)
    w = (fk.randn(hidden, hidden) * 0.1).requires_grad_()
    u = (fk.randn(4, hidden) * 0.1).requires_grad_()
    xs = fk.randn(steps, 2, 4)
    h = fk.zeros(2, hidden)
    for s in range(steps):
        h = (xs[s] @ u + h @ w).tanh()
    return (h * h).sum(), w, u


def test_rnn_unrolled_2000_steps_backpropagates_and_frees_intermediates():
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        loss, w, u = _unrolled_rnn(2000)
        during = tracemalloc.get_traced_memory()[0]
        loss.backward()
        del loss
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert w.grad is not None and np.isfinite(w.grad.numpy()).all()
    graph = during - baseline
    assert graph > 1_000_000  # the graph held thousands of saved activations
    # what is left is the parameters, their gradients and small bookkeeping
    assert after - baseline < 0.1 * graph


def test_backward_twice_without_retain_graph_raises_and_retain_graph_allows_it():
    x = fk.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-6)
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_nonscalar_backward_needs_gradient_and_says_what_to_pass():
    x = fk.ones(3, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="gradient=fukaku.ones_like"):
        y.backward()
    y.backward(fk.tensor([1.0, 10.0, 100.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2, 20, 200])


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        fk.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError, match="float"):
        fk.arange(3).requires_grad_()


def test_no_grad_and_set_grad_enabled_stop_recording():
    x = fk.ones(2, requires_grad=True)
    with fk.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    with fk.set_grad_enabled(False):
        assert not fk.is_grad_enabled()
        with fk.enable_grad():
            z = x * 2
    assert z.requires_grad and fk.is_grad_enabled()

    @fk.no_grad()
    def f(t):
        return t * 3

    assert not f(x).requires_grad


def test_grad_returns_without_touching_dot_grad_and_reports_unused():
    x = fk.tensor([1.0, 2.0], requires_grad=True)
    unused = fk.tensor([5.0], requires_grad=True)
    y = (x ** 3).sum()
    (gx,) = grad(y, x, retain_graph=True)
    np.testing.assert_allclose(gx.numpy(), 3 * np.array([1.0, 4.0]))
    assert x.grad is None
    with pytest.raises(RuntimeError, match="allow_unused"):
        grad(y, [x, unused], retain_graph=True)
    gx2, gu = grad(y, [x, unused], allow_unused=True)
    assert gu is None


def test_grad_wrt_intermediate_tensor():
    x = fk.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    (gh,) = grad(y, h)
    np.testing.assert_allclose(gh.numpy(), 2 * h.detach().numpy())


def test_second_derivative_and_hessian_vector_product():
    x = fk.tensor([0.5, -1.0, 2.0], dtype=fk.float64, requires_grad=True)
    y = (x.sin() * x ** 2).sum()
    (g,) = grad(y, x, create_graph=True)
    xv = x.detach().numpy()
    np.testing.assert_allclose(g.detach().numpy(), np.cos(xv) * xv ** 2 + 2 * xv * np.sin(xv))
    (h,) = grad(g.sum(), x)
    d2 = -np.sin(xv) * xv ** 2 + 4 * xv * np.cos(xv) + 2 * np.sin(xv)
    np.testing.assert_allclose(h.numpy(), d2, rtol=1e-12)


def test_gradient_penalty_differentiates_through_a_gradient_norm():
    fk.manual_seed(1)
    w = fk.randn(3, 3, dtype=fk.float64, requires_grad=True)
    x = fk.randn(4, 3, dtype=fk.float64, requires_grad=True)
    out = (x @ w).tanh().sum()
    (gx,) = grad(out, x, create_graph=True)
    penalty = (gx * gx).sum()
    penalty.backward()
    assert w.grad is not None and w.grad.shape == (3, 3)

    def penalty_of(wv):
        xx = x.detach().requires_grad_()
        o = (xx @ wv).tanh().sum()
        (g2,) = grad(o, xx, create_graph=True)
        return (g2 * g2).sum()

    assert fk.autograd.gradcheck(penalty_of, (w.detach().requires_grad_(),), check_forward_ad=False)


def test_in_place_change_of_a_saved_tensor_is_detected_and_names_the_op():
    w = fk.tensor([1.0, 2.0], requires_grad=True)
    x = fk.tensor([3.0, 4.0])
    y = (w * x).sum()
    x.mul_(2)
    with pytest.raises(RuntimeError, match="Mul.*modified by an in-place operation"):
        y.backward()


def test_in_place_on_a_view_bumps_the_shared_version():
    w = fk.tensor([1.0, 2.0], requires_grad=True)
    x = fk.tensor([[3.0, 4.0]])
    y = (w * x).sum()
    x[0][0] = 10.0
    with pytest.raises(RuntimeError, match="in-place"):
        y.backward()


def test_in_place_on_tensor_requiring_grad_is_refused_outside_no_grad():
    w = fk.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w.add_(1)
    with fk.no_grad():
        w -= 0.5 * fk.ones(2)
    np.testing.assert_allclose(w.detach().numpy(), [0.5, 0.5])


def test_optimizer_update_between_forward_and_backward_is_detected():
    w = fk.ones(2, requires_grad=True)
    loss = (w * w).sum()
    with fk.no_grad():
        w.sub_(0.1)
    with pytest.raises(RuntimeError, match="version"):
        loss.backward()


def test_hooks_and_retain_grad():
    x = fk.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    seen = []
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    x.register_hook(lambda g: g * 10)
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [4.0, 8.0])
    np.testing.assert_allclose(seen[0], [4.0, 8.0])
    np.testing.assert_allclose(x.grad.numpy(), [80.0, 160.0])


def test_detect_anomaly_names_the_forward_op():
    x = fk.tensor([-1.0, 1.0], requires_grad=True)
    with fk.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="Log produced nan"):
            x.log()


def test_detect_anomaly_names_the_backward_op():
    x = fk.tensor([0.0, 1.0], requires_grad=True)
    with fk.autograd.detect_anomaly():
        y = x.sqrt().sum()  # finite forward, infinite derivative at 0
        with pytest.raises(RuntimeError, match="SqrtBackward.*inf"):
            y.backward()


def test_leaf_grads_do_not_alias_each_other():
    a = fk.ones(3, requires_grad=True)
    b = fk.ones(3, requires_grad=True)
    (a + b).sum().backward()
    a.grad.zero_()
    np.testing.assert_allclose(b.grad.numpy(), [1, 1, 1])


def test_mixed_dtype_gradient_keeps_the_leaf_dtype():
    a = fk.ones(3, requires_grad=True)  # float32
    b = fk.ones(3, dtype=fk.float64, requires_grad=True)
    y = (a * b).sum()
    assert y.dtype == fk.float64
    y.backward()
    assert a.grad.dtype == fk.float32 and b.grad.dtype == fk.float64


def test_outputs_that_feed_each_other_are_each_run_once():
    # y2 is computed from y1: y1's node must wait for y2's gradient before it runs
    x = fk.tensor([1.0, 2.0], requires_grad=True)
    y1 = x * 2
    y2 = y1 * 3
    fk.autograd.backward([y1, y2], [fk.ones(2), fk.ones(2)])
    np.testing.assert_allclose(x.grad.numpy(), [8.0, 8.0])


def test_hooks_retained_and_captured_gradients_compose_and_anomaly_mode_changes_nothing():
    def run(observe: bool, anomaly: bool):
        x = fk.tensor([0.5, -1.5], dtype=fk.float64, requires_grad=True)
        h = x.tanh()
        y = (h * h * x).sum()
        seen = []
        if observe:
            h.retain_grad()
            h.register_hook(lambda g: g * 2)  # replaces the gradient that flows on ...
            h.register_hook(lambda g: seen.append(g.detach().numpy().copy()))  # ... which the next hook sees
        with fk.autograd.set_detect_anomaly(anomaly):
            gh, gx = grad(y, [h, x])
        return gh.numpy(), gx.numpy(), (h.grad.numpy() if observe else None), seen

    plain_gh, plain_gx, _, _ = run(observe=False, anomaly=False)
    for anomaly in (False, True):
        gh, gx, retained, seen = run(observe=True, anomaly=anomaly)
        np.testing.assert_allclose(gh, 2 * plain_gh)  # autograd.grad returns the hooked gradient
        np.testing.assert_allclose(retained, 2 * plain_gh)
        np.testing.assert_allclose(seen[0], 2 * plain_gh)
        xv = np.array([0.5, -1.5])
        local = (1 - np.tanh(xv) ** 2)  # dh/dx
        np.testing.assert_allclose(gx, plain_gx + plain_gh * local, rtol=1e-12)  # the extra gh flows into x
        np.testing.assert_allclose(run(observe=False, anomaly=anomaly)[1], plain_gx)


def test_with_nothing_observing_the_loop_calls_the_bare_vjp():
    # the fast path of every training step: no hook, retain_grad, captured target or anomaly check
    from fukaku.autograd import engine

    x = fk.ones(2, requires_grad=True)
    y = (x * 2).sum()
    assert engine._node_step([y.grad_fn], {}, {}, create_graph=False) is engine._vjp
    y.register_hook(lambda g: g)
    assert engine._node_step([y.grad_fn], {}, {}, create_graph=False) is not engine._vjp
