"""Losses (fukaku.nn.functional and fukaku.nn loss modules) against PyTorch, closed forms and
finite differences.

Each functional case goes through :func:`conformance.check`: forward values and dtypes, the
gradient of every floating input (targets included), forward mode against ``torch.func.jvp``,
second derivatives against torch's double backward and by forward-over-reverse — in float32
(rtol 1e-4) and float64 (rtol 1e-7). Class weights are constants (torch does not differentiate
them), so the test closures hold them. The fused softmax cross-entropy is also checked against
seed 002 P10 (∂L/∂a = y − t, Hessian diag(y) − yyᵀ), with gradcheck, at logits of ±1e4, and for
speed against log_softmax + nll_loss.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import fukaku as fk
import fukaku.nn as nn
import fukaku.nn.functional as F
from fukaku.autograd import gradcheck, gradgradcheck
from fukaku.autograd.functional import hessian, jacobian, jvp

from conformance import FLOATS, check, randn, uniform

pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script.*:DeprecationWarning")

REDUCTIONS = ["mean", "sum", "none"]


def _w(array, lib, dtype):
    """A constant weight for one framework (None stays None)."""
    if array is None:
        return None
    a = np.asarray(array, dtype=dtype)
    return fk.tensor(a) if lib is fk else torch.tensor(a)


def _libs(fk_call, torch_call):
    """(fukaku fn, torch fn) sharing one call pattern: ``call(F, lib, *args)``."""
    return (lambda *a: fk_call(F, fk, *a)), (lambda *a: torch_call(TF, torch, *a))


# ------------------------------------------------------------------------------------------ regression
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_regression_losses(name, weighted, reduction, dtype):
    x = randn(4, 3, seed=1)
    y = x + np.where(uniform(0, 1, 4, 3, seed=2) > 0.5, 1, -1) * uniform(0.1, 2.5, 4, 3, seed=3)  # |x − y| >= 0.1
    if name == "huber_loss":  # keep |x − y| away from the kink at delta = 0.8
        d = x - y
        y = np.where(np.abs(np.abs(d) - 0.8) < 0.05, y + 0.2, y)
    w = uniform(0.5, 2.0, 4, 3, seed=4) if weighted else None
    kw = {"delta": 0.8} if name == "huber_loss" else {}

    def call(mod, lib, a, b):
        return getattr(mod, name)(a, b, reduction=reduction, weight=_w(w, lib, dtype), **kw)

    check(*_libs(call, call), [x, y], dtype)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"])
def test_regression_broadcast_warns_like_torch(name):
    x, y = randn(4, 1, seed=0), randn(4, seed=1)
    with pytest.warns(UserWarning, match="target size"):
        got = getattr(F, name)(fk.tensor(x), fk.tensor(y))
    with pytest.warns(UserWarning):
        want = getattr(TF, name)(torch.tensor(x), torch.tensor(y))
    np.testing.assert_allclose(got.data.numpy(), want.numpy(), rtol=1e-12)
    with pytest.raises(fk.ShapeError, match=rf"{name}.*\(4, 3\).*\(5,\)"):
        getattr(F, name)(fk.randn(4, 3), fk.randn(5))


def test_mae_is_robust_to_outliers_mse_is_not():
    """seed 003-004: fitting a constant, MSE's minimiser is the mean (pulled by an outlier), MAE's the median."""
    y = fk.tensor([1.0, 1.1, 0.9, 1.0, 50.0], dtype=fk.float64)
    c = fk.tensor(np.linspace(0, 20, 2001), dtype=fk.float64)
    grid = c.reshape(-1, 1).expand(2001, 5)
    target = y.reshape(1, 5).expand(2001, 5)
    mse = F.mse_loss(grid, target, reduction="none").mean(1)
    mae = F.l1_loss(grid, target, reduction="none").mean(1)
    assert abs(c.data.numpy()[mse.data.numpy().argmin()] - y.data.numpy().mean()) < 0.011
    assert abs(c.data.numpy()[mae.data.numpy().argmin()] - np.median(y.data.numpy())) < 0.011


# ------------------------------------------------------------------------------------------ binary cross-entropy
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape", [None, (3,), (4, 3)])
def test_binary_cross_entropy(weight_shape, reduction, dtype):
    p = uniform(0.05, 0.95, 4, 3, seed=1)
    t = uniform(0.0, 1.0, 4, 3, seed=2)  # soft labels: the target gets a gradient too
    w = None if weight_shape is None else uniform(0.5, 2.0, *weight_shape, seed=3)

    def call(mod, lib, a, b):
        return mod.binary_cross_entropy(a, b, weight=_w(w, lib, dtype), reduction=reduction)

    check(*_libs(call, call), [p, t], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_binary_cross_entropy_clamps_log_like_torch(dtype):
    """At p = 0 or 1 each log is clamped at −100 and the gradient uses max(p(1 − p), 1e-12)."""
    p = np.array([0.0, 1.0, 0.5, 0.0, 1.0, 1e-30], dtype=dtype)
    t = np.array([1.0, 0.0, 0.5, 0.0, 1.0, 1.0], dtype=dtype)
    a, b = fk.tensor(p, requires_grad=True), torch.tensor(p, requires_grad=True)
    la = F.binary_cross_entropy(a, fk.tensor(t), reduction="sum")
    lb = TF.binary_cross_entropy(b, torch.tensor(t), reduction="sum")
    la.backward()
    lb.backward()
    assert np.isfinite(la.item())
    np.testing.assert_allclose(la.item(), lb.item(), rtol=1e-6)
    np.testing.assert_allclose(a.grad.data.numpy(), b.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weights", ["none", "weight", "pos_weight", "both"])
def test_binary_cross_entropy_with_logits(weights, reduction, dtype):
    x = 3 * randn(5, 3, seed=1)
    t = uniform(0.0, 1.0, 5, 3, seed=2)
    w = uniform(0.5, 2.0, 5, 3, seed=3) if weights in ("weight", "both") else None
    pw = uniform(0.5, 4.0, 3, seed=4) if weights in ("pos_weight", "both") else None  # one per class, broadcast

    def call(mod, lib, a, b):
        return mod.binary_cross_entropy_with_logits(a, b, weight=_w(w, lib, dtype), reduction=reduction,
                                                    pos_weight=_w(pw, lib, dtype))

    check(*_libs(call, call), [x, t], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_bce_with_logits_extreme_logits_stay_finite(dtype):
    x = np.array([-1e4, 1e4, -1e4, 1e4, 0.0], dtype=dtype)
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0], dtype=dtype)
    pw = np.array(3.0, dtype=dtype)
    a, b = fk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    la = F.binary_cross_entropy_with_logits(a, fk.tensor(t), pos_weight=fk.tensor(pw), reduction="sum")
    lb = TF.binary_cross_entropy_with_logits(b, torch.tensor(t), pos_weight=torch.tensor(pw), reduction="sum")
    la.backward()
    lb.backward()
    assert np.isfinite(la.item()) and np.isfinite(a.grad.data.numpy()).all()
    np.testing.assert_allclose(la.item(), lb.item(), rtol=1e-6)
    np.testing.assert_allclose(a.grad.data.numpy(), b.grad.numpy(), rtol=1e-6)


# ------------------------------------------------------------------------------------------ cross-entropy
CE_INDEX_CASES = [
    # (input shape, weighted, ignore_index, label_smoothing)
    ((6, 4), False, -100, 0.0),
    ((6, 4), True, -100, 0.0),
    ((6, 4), False, 2, 0.0),          # ignore_index that is also a valid class
    ((6, 4), True, -1, 0.0),
    ((6, 4), False, -100, 0.2),
    ((6, 4), True, 1, 0.3),           # weights + ignore_index + smoothing together
    ((3, 4, 2, 3), True, 0, 0.1),     # K-dimensional: (N, C, d1, d2)
    ((3, 4, 5), False, -100, 0.0),
    ((5,), False, -100, 0.0),         # unbatched (C,) with a 0-d target
    ((5,), True, -100, 0.25),
]
CE_INDEX_IDS = [f"{s}-w{int(w)}-ign{i}-ls{ls}" for s, w, i, ls in CE_INDEX_CASES]


def _index_target(shape, ignore_index, seed):
    n_classes = shape[0] if len(shape) == 1 else shape[1]
    pos = () if len(shape) == 1 else shape[:1] + shape[2:]
    t = np.random.default_rng(seed).integers(0, n_classes, size=pos)
    if ignore_index < 0 and t.ndim:
        t.reshape(-1)[::4] = ignore_index  # some positions ignored, others kept
    return t


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,weighted,ignore_index,smoothing", CE_INDEX_CASES, ids=CE_INDEX_IDS)
def test_cross_entropy_class_indices(shape, weighted, ignore_index, smoothing, reduction, dtype):
    x = 2 * randn(*shape, seed=1)
    t = _index_target(shape, ignore_index, seed=2)
    n_classes = shape[0] if len(shape) == 1 else shape[1]
    w = uniform(0.5, 2.0, n_classes, seed=3) if weighted else None

    def call(mod, lib, a, b):
        return mod.cross_entropy(a, b, weight=_w(w, lib, dtype), ignore_index=ignore_index, reduction=reduction,
                                 label_smoothing=smoothing)

    check(*_libs(call, call), [x, t], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,weighted,smoothing", [((5, 4), False, 0.0), ((5, 4), True, 0.0),
                                                       ((5, 4), True, 0.2), ((2, 3, 4), True, 0.1),
                                                       ((4,), False, 0.3)])
def test_cross_entropy_probabilities(shape, weighted, smoothing, reduction, dtype):
    """Probability targets: the target is differentiated too (torch does)."""
    dim = 0 if len(shape) == 1 else 1
    x = 2 * randn(*shape, seed=1)
    logits = randn(*shape, seed=2)
    p = np.exp(logits) / np.exp(logits).sum(axis=dim, keepdims=True)
    w = uniform(0.5, 2.0, shape[dim], seed=3) if weighted else None

    def call(mod, lib, a, b):
        return mod.cross_entropy(a, b, weight=_w(w, lib, dtype), reduction=reduction, label_smoothing=smoothing)

    check(*_libs(call, call), [x, p], dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_every_target_ignored_is_nan_or_zero_like_torch(reduction):
    x = randn(3, 4, seed=0)
    t = np.full(3, -100)
    for smoothing in (0.0, 0.2):
        a, b = fk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        la = F.cross_entropy(a, fk.tensor(t), reduction=reduction, label_smoothing=smoothing)
        lb = TF.cross_entropy(b, torch.tensor(t), reduction=reduction, label_smoothing=smoothing)
        np.testing.assert_array_equal(la.data.numpy(), lb.detach().numpy())


def test_cross_entropy_gradient_is_softmax_minus_onehot():
    """seed 002 P10: for L = −Σ t log y, y = softmax(a): ∂L/∂a_j = y_j − t_j, ∂²L/∂a∂a = diag(y) − yyᵀ."""
    a = fk.tensor([2.0, -1.0, 0.5, 0.0], dtype=fk.float64, requires_grad=True)
    t = fk.tensor(2)
    loss = F.cross_entropy(a, t)
    loss.backward()
    y = np.exp(a.data.numpy()) / np.exp(a.data.numpy()).sum()
    np.testing.assert_allclose(a.grad.data.numpy(), y - np.eye(4)[2], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(loss.item(), -np.log(y[2]), rtol=1e-14)
    for mode in ("rev", "fwd"):
        h = hessian(lambda z: F.cross_entropy(z, t), a.detach(), mode=mode)
        np.testing.assert_allclose(h.data.numpy(), np.diag(y) - np.outer(y, y), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("target_kind", ["index", "probs"])
def test_cross_entropy_extreme_logits_stay_finite(target_kind):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, -1e4], [1e4, 1e4, -1e4]], dtype=np.float32)
    t = np.array([1, 1, 2]) if target_kind == "index" else np.array([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0], [0.2, 0.2, 0.6]],
                                                                       dtype=np.float32)
    for smoothing in (0.0, 0.1):
        a, b = fk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        la = F.cross_entropy(a, fk.tensor(t), label_smoothing=smoothing)
        lb = TF.cross_entropy(b, torch.tensor(t), label_smoothing=smoothing)
        la.backward()
        lb.backward()
        assert np.isfinite(la.item()) and np.isfinite(a.grad.data.numpy()).all()
        np.testing.assert_allclose(la.item(), lb.item(), rtol=1e-5)
        np.testing.assert_allclose(a.grad.data.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_fused_cross_entropy_gradcheck(reduction):
    """Reverse and forward mode against central differences, then the second derivatives."""
    x = fk.tensor(randn(3, 4, seed=0), requires_grad=True)
    w = fk.tensor(uniform(0.5, 2.0, 4, seed=1))
    t = fk.tensor(np.array([0, 3, -100]))
    p = fk.tensor(np.random.default_rng(2).dirichlet(np.ones(4), size=3), requires_grad=True)

    def by_index(z):
        return F.cross_entropy(z, t, weight=w, reduction=reduction, label_smoothing=0.15)

    def by_probs(z, q):
        return F.cross_entropy(z, q, weight=w, reduction=reduction, label_smoothing=0.15)

    assert gradcheck(by_index, (x,))
    assert gradcheck(by_probs, (x, p))
    assert gradgradcheck(by_index, (x,))
    assert gradgradcheck(by_probs, (x, p))


def test_fused_cross_entropy_jvp_matches_torch_func_jvp():
    rng = np.random.default_rng(0)
    x, dx = rng.standard_normal((4, 5, 2)), rng.standard_normal((4, 5, 2))
    p = rng.dirichlet(np.ones(5), size=(4, 2)).transpose(0, 2, 1)
    dp = rng.standard_normal((4, 5, 2))
    w = rng.uniform(0.5, 2, 5)
    for reduction in REDUCTIONS:
        _, got = jvp(lambda a, b: F.cross_entropy(a, b, weight=fk.tensor(w), reduction=reduction, label_smoothing=0.1),
                     (fk.tensor(x), fk.tensor(p)), (fk.tensor(dx), fk.tensor(dp)))
        _, want = torch.func.jvp(lambda a, b: TF.cross_entropy(a, b, weight=torch.tensor(w), reduction=reduction,
                                                               label_smoothing=0.1),
                                 (torch.tensor(x), torch.tensor(p)), (torch.tensor(dx), torch.tensor(dp)))
        np.testing.assert_allclose(got.data.numpy(), want.numpy(), rtol=1e-10)


def test_fused_cross_entropy_create_graph_gives_the_same_gradient():
    """With create_graph=True the gradient comes from the differentiable backward op, not the
    fast path: both must agree with each other and with torch, and the third derivative exists."""
    x = randn(6, 4, seed=0)
    t = np.array([0, 1, 2, 3, -100, 1])
    a = fk.tensor(x, requires_grad=True)
    (g_plain,) = fk.autograd.grad(F.cross_entropy(a, fk.tensor(t), label_smoothing=0.1), a)
    (g_graph,) = fk.autograd.grad(F.cross_entropy(a, fk.tensor(t), label_smoothing=0.1), a, create_graph=True)
    b = torch.tensor(x, requires_grad=True)
    (g_torch,) = torch.autograd.grad(TF.cross_entropy(b, torch.tensor(t), label_smoothing=0.1), b, create_graph=True)
    np.testing.assert_allclose(g_plain.data.numpy(), g_torch.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(g_graph.data.numpy(), g_plain.data.numpy(), rtol=1e-12)
    # third order: d/dx Σ (∂/∂x Σ (∂L/∂x)²)
    (h_fk,) = fk.autograd.grad((g_graph * g_graph).sum(), a, create_graph=True)
    (h_t,) = torch.autograd.grad((g_torch * g_torch).sum(), b, create_graph=True)
    (k_fk,) = fk.autograd.grad((h_fk * h_fk).sum(), a)
    (k_t,) = torch.autograd.grad((h_t * h_t).sum(), b)
    np.testing.assert_allclose(h_fk.data.numpy(), h_t.detach().numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(k_fk.data.numpy(), k_t.numpy(), rtol=1e-9, atol=1e-14)


def _best_time(fn, repeats: int = 7) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def test_fused_cross_entropy_is_faster_than_log_softmax_plus_indexing():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((512, 200)).astype(np.float32)
    target = fk.tensor(rng.integers(0, 200, 512))
    rows = np.arange(512)

    def fused():
        x = fk.tensor(logits, requires_grad=True)
        F.cross_entropy(x, target).backward()
        return x.grad

    def composed():
        x = fk.tensor(logits, requires_grad=True)
        (-F.log_softmax(x, 1)[rows, target.data.numpy()].mean()).backward()
        return x.grad

    np.testing.assert_allclose(fused().data.numpy(), composed().data.numpy(), rtol=1e-5, atol=1e-8)
    t_fused, t_composed = _best_time(fused), _best_time(composed)
    assert t_fused < t_composed, f"fused {t_fused * 1e3:.2f} ms vs composed {t_composed * 1e3:.2f} ms"


# ------------------------------------------------------------------------------------------ nll, kl
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,weighted,ignore_index", [((6, 4), False, -100), ((6, 4), True, -100),
                                                        ((6, 4), True, 3), ((3, 4, 2), True, -7), ((4,), True, -100)])
def test_nll_loss(shape, weighted, ignore_index, reduction, dtype):
    logp = randn(*shape, seed=1)
    t = _index_target(shape, ignore_index, seed=2)
    n_classes = shape[0] if len(shape) == 1 else shape[1]
    w = uniform(0.5, 2.0, n_classes, seed=3) if weighted else None

    def call(mod, lib, a, b):
        return mod.nll_loss(a, b, weight=_w(w, lib, dtype), ignore_index=ignore_index, reduction=reduction)

    check(*_libs(call, call), [logp, t], dtype)


def test_nll_of_log_softmax_equals_cross_entropy():
    x, t = fk.tensor(randn(5, 3, seed=0)), fk.tensor(np.array([0, 2, 1, 1, 0]))
    np.testing.assert_allclose(F.nll_loss(F.log_softmax(x, 1), t).item(), F.cross_entropy(x, t).item(), rtol=1e-14)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.filterwarnings("ignore:.*reduction.*'mean'.*:UserWarning")
def test_kl_div(log_target, reduction, dtype):
    logq = np.log(np.random.default_rng(1).dirichlet(np.ones(4), size=3))
    p = np.random.default_rng(2).dirichlet(np.ones(4), size=3)
    target = np.log(p) if log_target else p

    def call(mod, lib, a, b):
        return mod.kl_div(a, b, reduction=reduction, log_target=log_target)

    check(*_libs(call, call), [logq, target], dtype)


def test_kl_div_batchmean_is_the_kl_divergence():
    """seed 001-002: D(P‖Q) = Σ P log(P/Q) = cross-entropy − entropy ≥ 0, and 0 for P = Q."""
    rng = np.random.default_rng(0)
    p, q = rng.dirichlet(np.ones(5), size=4), rng.dirichlet(np.ones(5), size=4)
    got = F.kl_div(fk.tensor(np.log(q)), fk.tensor(p), reduction="batchmean").item()
    want = np.mean(np.sum(p * np.log(p / q), axis=1))
    assert got > 0 and abs(got - want) < 1e-12
    assert abs(F.kl_div(fk.tensor(np.log(p)), fk.tensor(p), reduction="batchmean").item()) < 1e-15
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(fk.tensor(np.log(q)), fk.tensor(p))


# ------------------------------------------------------------------------------------------ hinge losses
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p,margin,weighted,shape", [(1, 1.0, False, (5, 4)), (2, 1.0, False, (5, 4)),
                                                      (1, 0.5, True, (5, 4)), (2, 2.0, True, (5, 4)),
                                                      (1, 1.0, True, (4,))])
def test_multi_margin_loss(p, margin, weighted, shape, reduction, dtype):
    x = randn(*shape, seed=1)
    t = _index_target(shape, 0, seed=2)
    # keep margin − x[y] + x[i] away from the hinge's kink at 0
    x_t = np.take_along_axis(x.reshape(-1, shape[-1]), t.reshape(-1, 1), 1)
    z = margin - x_t + x.reshape(-1, shape[-1])
    x = np.where(np.abs(z) < 0.05, x.reshape(-1, shape[-1]) + 0.1, x.reshape(-1, shape[-1])).reshape(shape)
    w = uniform(0.5, 2.0, shape[-1], seed=3) if weighted else None

    def call(mod, lib, a, b):
        return mod.multi_margin_loss(a, b, p=p, margin=margin, weight=_w(w, lib, dtype), reduction=reduction)

    # torch has neither forward mode nor double backward for this loss: gradcheck covers them below
    check(*_libs(call, call), [x, t], dtype, jvp=False, second=False)


@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_forward_mode_and_second_derivatives(p):
    x = fk.tensor(randn(4, 3, seed=5), requires_grad=True)
    t, w = fk.tensor(np.array([0, 2, 1, 1])), fk.tensor(uniform(0.5, 2, 3, seed=6))
    assert gradcheck(lambda z: F.multi_margin_loss(z, t, p=p, weight=w, reduction="none"), (x,))
    assert gradgradcheck(lambda z: F.multi_margin_loss(z, t, p=p, weight=w), (x,))


def test_multi_margin_p1_is_the_multiclass_hinge():
    """Closed form: Σ_{i≠y} max(0, 1 − s_y + s_i) / C, averaged over samples."""
    s = np.array([[3.0, 1.0, 2.5], [0.0, 0.2, -1.0]])
    y = np.array([0, 2])
    want = np.mean([(max(0, 1 - 3 + 1) + max(0, 1 - 3 + 2.5)) / 3, (max(0, 1 + 1 + 0) + max(0, 1 + 1 + 0.2)) / 3])
    assert abs(F.multi_margin_loss(fk.tensor(s), fk.tensor(y)).item() - want) < 1e-15


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [1.0, 2.0])
def test_hinge_embedding_loss(margin, reduction, dtype):
    x = uniform(0.0, 3.0, 4, 3, seed=1)
    x = np.where(np.abs(x - margin) < 0.05, x + 0.1, x)
    t = np.where(uniform(0, 1, 4, 3, seed=2) > 0.5, 1.0, -1.0).astype(dtype)

    def fk_call(mod, lib, a):
        return mod.hinge_embedding_loss(a, lib.tensor(t), margin=margin, reduction=reduction)

    check(*_libs(fk_call, fk_call), [x], dtype)


# ------------------------------------------------------------------------------------------ smooth L1
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("beta", [0.0, 0.7, 1.0])
def test_smooth_l1_loss(beta, reduction, dtype):
    x = randn(4, 3, seed=1)
    y = x + np.where(uniform(0, 1, 4, 3, seed=2) > 0.5, 1, -1) * uniform(0.1, 2.5, 4, 3, seed=3)
    y = np.where(np.abs(np.abs(x - y) - beta) < 0.05, y + 0.2, y)  # away from the kink at |d| = beta

    def call(mod, lib, a, b):
        return mod.smooth_l1_loss(a, b, reduction=reduction, beta=beta)

    check(*_libs(call, call), [x, y], dtype)


def test_smooth_l1_is_huber_over_beta_and_l1_at_zero():
    x, y = fk.tensor(randn(50, seed=1) * 3), fk.tensor(randn(50, seed=2))
    for beta in (0.3, 1.0, 2.5):
        np.testing.assert_allclose(F.smooth_l1_loss(x, y, beta=beta, reduction="none").numpy(),
                                   F.huber_loss(x, y, delta=beta, reduction="none").numpy() / beta, rtol=1e-14)
    np.testing.assert_array_equal(F.smooth_l1_loss(x, y, beta=0.0).numpy(), F.l1_loss(x, y).numpy())
    with pytest.raises(ValueError, match="negative values for beta"):
        F.smooth_l1_loss(x, y, beta=-1.0)


# ------------------------------------------------------------------------------------------ likelihoods
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input,full", [(True, False), (True, True), (False, False), (False, True)])
def test_poisson_nll_loss(log_input, full, reduction, dtype):
    """Counts 0…; with ``full`` the Stirling term enters where target > 1 (targets shifted off 0,
    where torch's target gradient is NaN). The target is differentiated too, as in torch."""
    counts = np.random.default_rng(4).poisson(2.5, (4, 3)).astype(np.float64) + (0.5 if full else 0.0)
    x = randn(4, 3, seed=1) if log_input else uniform(0.2, 4.0, 4, 3, seed=1)

    def call(mod, lib, a, t):
        return mod.poisson_nll_loss(a, t, log_input=log_input, full=full, eps=1e-6, reduction=reduction)

    check(*_libs(call, call), [x, counts], dtype)


def test_poisson_nll_loss_is_the_negative_log_likelihood():
    """With ``full`` and log λ input, the loss is −log P(k; λ) up to Stirling's error in log k!."""
    lam, k = 2.7, np.arange(2.0, 30.0)
    got = F.poisson_nll_loss(fk.tensor(np.full(k.shape, np.log(lam))), fk.tensor(k), full=True,
                             reduction="none").numpy()
    want = -(k * np.log(lam) - lam - np.array([math.lgamma(v + 1) for v in k]))
    np.testing.assert_allclose(got, want, atol=1 / (12 * k.min()))  # Stirling's error < 1/(12k)


GAUSSIAN_VAR = {"same": (4, 3), "column": (4, 1), "row": (4,), "middle": (1, 3)}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("var_shape", list(GAUSSIAN_VAR) + ["float"])
def test_gaussian_nll_loss(var_shape, full, reduction, dtype):
    x, y = randn(4, 3, seed=1), randn(4, 3, seed=2)

    def call(mod, lib, a, t, *v):
        return mod.gaussian_nll_loss(a, t, v[0] if v else 0.7, full=full, reduction=reduction)

    var = [] if var_shape == "float" else [uniform(0.2, 2.0, *GAUSSIAN_VAR[var_shape], seed=3)]
    check(*_libs(call, call), [x, y, *var], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_gaussian_nll_loss_clamps_var_in_value_only(dtype):
    """Variances below eps count as eps, but the gradient passes as if unclamped: torch clamps in
    place under no_grad. (torch's forward mode does see that clamp, its reverse mode does not;
    fukaku's jvp agrees with its vjp, checked by gradcheck.)"""
    x, y, var = randn(4, 3, seed=1), randn(4, 3, seed=2), uniform(0.0, 1.0, 4, 3, seed=3)
    assert (var < 0.5).any() and (var > 0.5).any()

    def call(mod, lib, a, t, v):
        return mod.gaussian_nll_loss(a, t, v, eps=0.5)

    check(*_libs(call, call), [x, y, var], dtype, jvp=False, fwd_over_rev=False)
    args = tuple(fk.tensor(a.astype(dtype)) for a in (x, y, var))
    loss = lambda a, t, v: F.gaussian_nll_loss(a, t, v, eps=0.5)  # noqa: E731
    for rev, fwd in zip(jacobian(loss, args, mode="rev"), jacobian(loss, args, mode="fwd")):
        np.testing.assert_allclose(fwd.numpy(), rev.numpy(), rtol=1e-5 if dtype == np.float32 else 1e-12)


# ------------------------------------------------------------------------------------------ margins
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_soft_margin_loss(reduction, dtype):
    """torch refuses a target that requires grad, so the ±1 target is a constant here; its
    gradient (fukaku gives one) is checked by finite differences."""
    x = randn(4, 3, seed=1) * 2
    t = np.where(uniform(0, 1, 4, 3, seed=2) > 0.5, 1.0, -1.0).astype(dtype)

    def call(mod, lib, a):
        return mod.soft_margin_loss(a, lib.tensor(t), reduction=reduction)

    check(*_libs(call, call), [x], dtype)
    soft = fk.tensor(uniform(-1, 1, 4, 3, seed=3), requires_grad=True)
    assert gradcheck(lambda a, b: F.soft_margin_loss(a, b), (fk.tensor(x, requires_grad=True), soft))


def test_soft_margin_loss_stays_finite_for_large_margins():
    x = fk.tensor([1e4, -1e4, 50.0], requires_grad=True)
    loss = F.soft_margin_loss(x, fk.tensor([-1.0, 1.0, 1.0]), reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [1e4, 1e4, math.log1p(math.exp(-50.0))], rtol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, -1.0, -1 / (1 + math.exp(50.0))], rtol=1e-6)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.5])
def test_margin_ranking_loss(margin, reduction, dtype):
    x1, x2 = randn(6, seed=1), randn(6, seed=2)
    t = np.array([1.0, -1.0, 1.0, 1.0, -1.0, -1.0])
    x2 = np.where(np.abs(margin - t * (x1 - x2)) < 0.05, x2 + 0.2, x2)  # away from the hinge

    def call(mod, lib, a, b, y):
        return mod.margin_ranking_loss(a, b, y, margin=margin, reduction=reduction)

    check(*_libs(call, call), [x1, x2, t], dtype)
    check(*_libs(call, call), [x1.reshape(2, 3), x2.reshape(2, 3), t.reshape(2, 3)], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.3])
def test_cosine_embedding_loss(margin, reduction, dtype):
    x1, x2 = randn(6, 4, seed=1), randn(6, 4, seed=2)
    t = np.array([1, -1, 1, -1, -1, 1])

    def call(mod, lib, a, b):
        return mod.cosine_embedding_loss(a, b, lib.tensor(t), margin=margin, reduction=reduction)

    check(*_libs(call, call), [x1, x2], dtype)

    def single(mod, lib, a, b):  # (D,) inputs with a 0-d target
        return mod.cosine_embedding_loss(a, b, lib.tensor(-1.0), margin=-0.9, reduction=reduction)

    check(*_libs(single, single), [x1[0], x2[0]], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p,swap", [(2, False), (2, True), (1, True), (3, False)])
def test_triplet_margin_loss(p, swap, reduction, dtype):
    a, pos, neg = randn(5, 4, seed=1), randn(5, 4, seed=2), randn(5, 4, seed=3)

    def call(mod, lib, x, y, z):
        return mod.triplet_margin_loss(x, y, z, margin=1.5, p=p, swap=swap, reduction=reduction)

    check(*_libs(call, call), [a, pos, neg], dtype)
    check(*_libs(call, call), [a[0], pos[0], neg[0]], dtype)


def test_triplet_loss_is_zero_once_the_negative_is_margin_further():
    a = fk.tensor([[0.0, 0.0]])
    near, far = fk.tensor([[1.0, 0.0]]), fk.tensor([[0.0, 3.0]])
    assert F.triplet_margin_loss(a, near, far, margin=1.0).item() == 0.0  # 1 − 3 + 1 < 0
    assert abs(F.triplet_margin_loss(a, far, near, margin=1.0).item() - 3.0) < 1e-5  # 3 − 1 + 1


# ------------------------------------------------------------------------------------------ modules with more inputs
THREE_INPUT_MODULES = [
    ("MarginRankingLoss", {"margin": 0.2}, lambda: (randn(5, seed=1), randn(5, seed=2),
                                                    np.array([1.0, -1.0, 1.0, -1.0, 1.0]))),
    ("CosineEmbeddingLoss", {"margin": 0.1, "reduction": "sum"}, lambda: (randn(5, 3, seed=1), randn(5, 3, seed=2),
                                                                          np.array([1, -1, -1, 1, -1]))),
    ("TripletMarginLoss", {"margin": 2.0, "p": 1.0, "swap": True}, lambda: (randn(5, 3, seed=1), randn(5, 3, seed=2),
                                                                            randn(5, 3, seed=3))),
    ("GaussianNLLLoss", {"full": True, "eps": 1e-3}, lambda: (randn(5, 3, seed=1), randn(5, 3, seed=2),
                                                              uniform(0.5, 2.0, 5, 1, seed=3))),
]


@pytest.mark.parametrize("name,kwargs,inputs", THREE_INPUT_MODULES, ids=[c[0] for c in THREE_INPUT_MODULES])
def test_three_input_modules_match_torch_modules(name, kwargs, inputs):
    fk_loss, t_loss = getattr(nn, name)(**kwargs), getattr(tnn, name)(**kwargs)
    assert repr(fk_loss) == repr(t_loss) and list(fk_loss.state_dict()) == []
    arrays = inputs()
    ours = [fk.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    theirs = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    la, lb = fk_loss(*ours), t_loss(*theirs)
    la.sum().backward()
    lb.sum().backward()
    np.testing.assert_allclose(la.detach().numpy(), lb.detach().numpy(), rtol=1e-12)
    for a, b in zip(ours, theirs):
        if b.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_new_loss_modules_repr_and_options_like_torch():
    for build in (lambda m: m.SmoothL1Loss(beta=0.5), lambda m: m.SoftMarginLoss(), lambda m: m.PoissonNLLLoss(),
                  lambda m: m.GaussianNLLLoss(), lambda m: m.MarginRankingLoss(), lambda m: m.CosineEmbeddingLoss(),
                  lambda m: m.TripletMarginLoss(), lambda m: m.HuberLoss()):
        ours, theirs = build(nn), build(tnn)
        assert repr(ours) == repr(theirs)
        for attr in ("reduction", "beta", "margin", "p", "eps", "swap", "full", "log_input", "delta"):
            assert getattr(ours, attr, None) == getattr(theirs, attr, None), (repr(ours), attr)
    with pytest.raises(ValueError, match="margin to be greater than 0"):
        nn.TripletMarginLoss(margin=0.0)
    with pytest.raises(ValueError, match="reduction"):
        nn.PoissonNLLLoss(reduction="avg")


def test_new_loss_errors_name_the_loss_and_shapes():
    x = fk.randn(4, 3)
    with pytest.raises(fk.ShapeError, match=r"margin_ranking_loss: .*input1: \(4, 3\), input2: \(4,\), target: \(4,\)"):
        F.margin_ranking_loss(x, fk.randn(4), fk.ones(4))
    with pytest.raises(fk.ShapeError, match=r"cosine_embedding_loss: 1D target tensor expects 2D input.*\(4,\)"):
        F.cosine_embedding_loss(fk.randn(4), fk.randn(4), fk.ones(4))
    with pytest.raises(fk.ShapeError, match=r"cosine_embedding_loss: 0D or 1D target"):
        F.cosine_embedding_loss(x, x, fk.ones(4, 1))
    with pytest.raises(fk.ShapeError, match=r"triplet_margin_loss: .*anchor \(4, 3\), positive \(3,\)"):
        F.triplet_margin_loss(x, fk.randn(3), x)
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        F.triplet_margin_loss(x, x, x, margin=-1.0)
    with pytest.raises(fk.ShapeError, match=r"gaussian_nll_loss: var is of incorrect size: var of shape \(4, 2\)"):
        F.gaussian_nll_loss(x, x, fk.ones(4, 2))
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(x, x, fk.tensor([-1.0, 1.0, 1.0]).reshape(1, 3))
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(x, x, -0.5)
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        F.gaussian_nll_loss(x, x, fk.ones(4, 3), reduction="avg")
    with pytest.raises(fk.ShapeError, match=r"poisson_nll_loss: input of shape \(4, 3\) and target of shape \(2,\)"):
        F.poisson_nll_loss(x, fk.ones(2))
    with pytest.raises(fk.ShapeError, match=r"soft_margin_loss: input of shape \(4, 3\) and target of shape \(4,\)"):
        F.soft_margin_loss(x, fk.ones(4))
    with pytest.raises(TypeError, match="floating point"):
        F.soft_margin_loss(fk.tensor([1, 2]), fk.tensor([1.0, -1.0]))


# ------------------------------------------------------------------------------------------ modules
MODULE_CASES = [
    ("MSELoss", {}, "regression"),
    ("L1Loss", {"reduction": "sum"}, "regression"),
    ("HuberLoss", {"delta": 0.5}, "regression"),
    ("BCELoss", {"weight": np.array([1.0, 2.0, 0.5])}, "probs"),
    ("BCEWithLogitsLoss", {"weight": np.array([1.0, 2.0, 0.5]), "pos_weight": np.array([2.0, 1.0, 3.0])}, "logits"),
    ("CrossEntropyLoss", {"weight": np.array([1.0, 2.0, 0.5]), "ignore_index": 1, "label_smoothing": 0.1}, "classes"),
    ("NLLLoss", {"weight": np.array([1.0, 2.0, 0.5]), "reduction": "none"}, "classes"),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, "logprobs"),
    ("MultiMarginLoss", {"p": 2, "margin": 0.7, "weight": np.array([1.0, 2.0, 0.5])}, "classes"),
    ("HingeEmbeddingLoss", {"margin": 2.0}, "signs"),
    ("SmoothL1Loss", {"beta": 0.5, "reduction": "sum"}, "regression"),
    ("SoftMarginLoss", {"reduction": "none"}, "signs"),
    ("PoissonNLLLoss", {"full": True, "eps": 1e-4}, "counts"),
    ("PoissonNLLLoss", {"log_input": False, "reduction": "sum"}, "rates"),
]


def _module_inputs(kind):
    x = randn(4, 3, seed=1)
    targets = {
        "regression": randn(4, 3, seed=2),
        "probs": uniform(0, 1, 4, 3, seed=2),
        "logits": uniform(0, 1, 4, 3, seed=2),
        "classes": np.array([0, 1, 2, 2]),
        "logprobs": np.log(np.random.default_rng(2).dirichlet(np.ones(3), size=4)),
        "signs": np.where(uniform(0, 1, 4, 3, seed=3) > 0.5, 1.0, -1.0),
        "counts": np.random.default_rng(3).poisson(2.0, (4, 3)).astype(np.float64) + 0.5,
        "rates": np.random.default_rng(3).poisson(2.0, (4, 3)).astype(np.float64),
    }
    if kind == "probs":
        x = uniform(0.05, 0.95, 4, 3, seed=1)
    if kind == "rates":
        x = uniform(0.5, 3.0, 4, 3, seed=1)
    return x, targets[kind]


@pytest.mark.parametrize("name,kwargs,kind", MODULE_CASES, ids=[c[0] for c in MODULE_CASES])
def test_modules_match_torch_modules(name, kwargs, kind):
    fk_kw = {k: fk.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    t_kw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    fk_loss, t_loss = getattr(nn, name)(**fk_kw), getattr(tnn, name)(**t_kw)
    assert isinstance(fk_loss, nn.Module)
    assert list(fk_loss.state_dict()) == list(t_loss.state_dict())  # buffers under torch's key names
    x, t = _module_inputs(kind)
    a, b = fk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    la, lb = fk_loss(a, fk.tensor(t)), t_loss(b, torch.tensor(t))
    la.sum().backward()
    lb.sum().backward()
    np.testing.assert_allclose(la.data.numpy(), lb.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.grad.data.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_module_weight_follows_dtype_and_state_dict():
    loss = nn.CrossEntropyLoss(weight=fk.tensor([1.0, 2.0, 3.0]))
    loss.load_state_dict({"weight": fk.tensor([3.0, 2.0, 1.0])})
    np.testing.assert_array_equal(loss.weight.data.numpy(), [3.0, 2.0, 1.0])
    loss.double()
    assert loss.weight.dtype == fk.float64
    with pytest.raises(fk.StateDictError, match="weight"):
        loss.load_state_dict({"weight": fk.tensor([1.0, 2.0])})


def test_legacy_size_average_and_reduce_flags_like_torch():
    x, t = randn(4, 3, seed=0), randn(4, 3, seed=1)
    for size_average, reduce in ((False, None), (None, False), (True, True)):
        with pytest.warns(UserWarning, match="size_average and reduce"):
            got = F.mse_loss(fk.tensor(x), fk.tensor(t), size_average=size_average, reduce=reduce)
        with pytest.warns(UserWarning):
            want = TF.mse_loss(torch.tensor(x), torch.tensor(t), size_average=size_average, reduce=reduce)
        np.testing.assert_allclose(got.data.numpy(), want.numpy(), rtol=1e-12)
        with pytest.warns(UserWarning):
            assert nn.L1Loss(size_average, reduce).reduction == tnn.L1Loss(size_average, reduce).reduction


# ------------------------------------------------------------------------------------------ bad input
def test_bad_input_errors_name_the_loss_and_shapes():
    x, t = fk.randn(4, 3), fk.tensor(np.array([0, 1, 2, 1]))
    with pytest.raises(IndexError, match=r"cross_entropy: target 3 is out of bounds for 3 classes"):
        F.cross_entropy(x, fk.tensor(np.array([0, 3, 1, 1])))
    with pytest.raises(IndexError, match=r"nll_loss: target -1 is out of bounds"):
        F.nll_loss(x, fk.tensor(np.array([0, -1, 1, 1])))
    with pytest.raises(IndexError, match="multi_margin_loss"):
        F.multi_margin_loss(x, fk.tensor(np.array([0, 5, 1, 1])))
    with pytest.raises(fk.ShapeError, match=r"cross_entropy: expected a class-index target of shape \(4,\) for input "
                                            r"of shape \(4, 3\), got \(5,\)"):
        F.cross_entropy(x, fk.tensor(np.array([0, 1, 2, 1, 0])))
    with pytest.raises(fk.ShapeError, match=r"cross_entropy: .*probabilities.*\(4, 3\), got \(4, 2\)"):
        F.cross_entropy(x, fk.rand(4, 2))
    with pytest.raises(TypeError, match="must be floating point"):
        F.cross_entropy(x, fk.tensor(np.zeros((4, 3), dtype=np.int64)))
    with pytest.raises(fk.ShapeError, match=r"cross_entropy: weight of shape \(2,\).*\(3,\)"):
        F.cross_entropy(x, t, weight=fk.ones(2))
    with pytest.raises(RuntimeError, match="weight must not require grad"):
        F.cross_entropy(x, t, weight=fk.ones(3, requires_grad=True))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, t, label_smoothing=1.5)
    with pytest.raises(ValueError, match="ignore_index is not supported for probability targets"):
        F.cross_entropy(x, F.softmax(fk.randn(4, 3), 1), ignore_index=0)
    with pytest.raises(TypeError, match="floating point"):
        F.cross_entropy(t, t)
    with pytest.raises(fk.ShapeError, match="0-d"):
        F.cross_entropy(fk.tensor(1.0), fk.tensor(0))
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        F.cross_entropy(x, t, reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="batchmean")
    with pytest.raises(ValueError, match=r"binary_cross_entropy: all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(fk.tensor([0.5, 1.5]), fk.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(fk.tensor([0.5, float("nan")]), fk.tensor([1.0, 0.0]))
    with pytest.raises(fk.ShapeError, match=r"binary_cross_entropy: target of shape \(4, 1\).*\(4,\)"):
        F.binary_cross_entropy(fk.rand(4), fk.rand(4, 1))
    with pytest.raises(fk.ShapeError, match=r"binary_cross_entropy_with_logits: pos_weight of shape \(4,\)"):
        F.binary_cross_entropy_with_logits(x, fk.rand(4, 3), pos_weight=fk.ones(4))
    with pytest.raises(fk.ShapeError, match=r"mse_loss: weight of shape \(3,\)"):
        F.mse_loss(x, x, weight=fk.ones(3))
    with pytest.raises(TypeError, match="must be a fukaku.Tensor"):
        F.mse_loss(x, [1.0, 2.0])
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        F.multi_margin_loss(x, t, p=3)
