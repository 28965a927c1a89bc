"""The activations of fukaku.nn.functional and their layers against PyTorch.

Every function goes through :func:`conformance.check` (forward, vjp, jvp, second derivatives
reverse-over-reverse and forward-over-reverse) in float32 and float64: on inputs away from its
kinks, over a wide range, and at the kinks and NaN themselves, where torch's conventions (which
side a kink's gradient takes) must be met exactly. ``inplace=True`` is checked on tensors that do
not require grad: the same object comes back, holding torch's values. Gumbel-softmax draws from
fukaku's generator, so it is checked by its distribution (the Gumbel-max trick) and by the
gradient of the soft sample behind the same noise.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import fukaku as fk
import fukaku.nn as nn
import fukaku.nn.functional as F
from conformance import FLOATS, assert_close, away_from, check, randn
from fukaku.autograd import gradcheck, gradgradcheck

# name: (fukaku function, torch function, kinks to keep away from, input scale)
ACTIVATIONS = {
    "relu6": (F.relu6, TF.relu6, (0.0, 6.0), 4.0),
    "hardtanh": (F.hardtanh, TF.hardtanh, (-1.0, 1.0), 1.5),
    "hardtanh(-2, 0.5)": (lambda x: F.hardtanh(x, -2.0, 0.5), lambda x: TF.hardtanh(x, -2.0, 0.5), (-2.0, 0.5), 1.5),
    "hardsigmoid": (F.hardsigmoid, TF.hardsigmoid, (-3.0, 3.0), 3.0),
    "hardswish": (F.hardswish, TF.hardswish, (-3.0, 3.0), 3.0),
    "softsign": (F.softsign, TF.softsign, (0.0,), 1.0),
    "logsigmoid": (F.logsigmoid, TF.logsigmoid, (), 2.0),
    "selu": (F.selu, TF.selu, (0.0,), 1.0),
    "celu": (F.celu, TF.celu, (0.0,), 1.0),
    "celu(0.7)": (lambda x: F.celu(x, 0.7), lambda x: TF.celu(x, 0.7), (0.0,), 1.0),
    "mish": (F.mish, TF.mish, (), 2.0),
    "threshold": (lambda x: F.threshold(x, 0.3, -2.0), lambda x: TF.threshold(x, 0.3, -2.0), (0.3,), 1.0),
    "tanhshrink": (F.tanhshrink, TF.tanhshrink, (), 1.0),
    "glu": (F.glu, TF.glu, (), 1.0),
    "glu(dim=0)": (lambda x: F.glu(x, 0), lambda x: TF.glu(x, 0), (), 1.0),
    "softmin(dim=1)": (lambda x: F.softmin(x, 1), lambda x: TF.softmin(x, 1), (), 1.0),
    "softmin(dim=0, float64)": (lambda x: F.softmin(x, 0, dtype=fk.float64),
                                lambda x: TF.softmin(x, 0, dtype=torch.float64), (), 1.0),
    "normalize": (F.normalize, TF.normalize, (), 1.0),
    "normalize(p=1, dim=0)": (lambda x: F.normalize(x, 1, 0), lambda x: TF.normalize(x, 1.0, 0), (0.0,), 1.0),
    "normalize(p=3, dim=-1)": (lambda x: F.normalize(x, 3, -1), lambda x: TF.normalize(x, 3.0, -1), (0.0,), 1.0),
}
# torch has no double backward for hardsigmoid: its second derivative is checked below instead
NO_TORCH_SECOND = {"hardsigmoid"}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_matches_torch(name, dtype):
    fk_fn, torch_fn, kinks, scale = ACTIVATIONS[name]
    x = away_from(randn(4, 6, seed=1) * scale, kinks, gap=0.05)
    check(fk_fn, torch_fn, [x], dtype, second=name not in NO_TORCH_SECOND)


ELEMENTWISE = [n for n in ACTIVATIONS if not n.startswith(("glu", "softmin", "normalize"))]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_activation_at_kinks_nan_and_far_out(name, dtype):
    """The kinks themselves (which side's slope torch takes), NaN, and |x| up to 30."""
    fk_fn, torch_fn, _, _ = ACTIVATIONS[name]
    x = np.array([-30.0, -3.0, -2.0, -1.0, 0.0, 0.3, 0.5, 1.0, 3.0, 6.0, 30.0, np.nan])
    check(fk_fn, torch_fn, [x], dtype, second=name not in NO_TORCH_SECOND)


def test_mish_second_derivative_is_finite_where_torchs_float32_overflows():
    """torch's float32 double backward of mish gives NaN at x = 100 (e^100 overflows); the true
    second derivative there is 0, which fukaku gives in both precisions."""
    for dtype in (fk.float32, fk.float64):
        x = fk.tensor([100.0, -100.0], dtype=dtype, requires_grad=True)
        (g,) = fk.autograd.grad(F.mish(x).sum(), x, create_graph=True)
        (gg,) = fk.autograd.grad(g.sum(), x)
        np.testing.assert_allclose(g.detach().numpy(), [1.0, 0.0], rtol=0, atol=1e-30)
        assert np.isfinite(gg.numpy()).all()
        np.testing.assert_allclose(gg.numpy(), [0.0, 0.0], rtol=0, atol=1e-30)


def test_piecewise_linear_second_derivatives_by_finite_differences():
    """hardsigmoid's second derivative is 0 and hardswish's 1/3 inside (−3, 3) (torch lacks the
    former); gradcheck compares reverse and forward mode with central differences."""
    x = fk.tensor(away_from(randn(3, 5, seed=2) * 3, (-3.0, 3.0), gap=0.05), dtype=fk.float64, requires_grad=True)
    for fn in (F.hardsigmoid, F.hardswish, F.softsign, F.mish, F.selu, F.celu, F.logsigmoid):
        assert gradcheck(fn, (x,))
        assert gradgradcheck(fn, (x,))
    (g,) = fk.autograd.grad(F.hardswish(x).sum(), x, create_graph=True)
    (gg,) = fk.autograd.grad(g.sum(), x)
    inside = np.abs(x.detach().numpy()) < 3
    np.testing.assert_allclose(gg.numpy(), np.where(inside, 1 / 3, 0.0), rtol=1e-15)


def test_selu_and_celu_closed_forms():
    """SELU = λ·ELU(α) with Klambauer et al.'s constants; CELU(α) = α·ELU₁(x/α) for x < 0, x above."""
    x = np.linspace(-4, 4, 81)
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    xs = fk.tensor(x)
    np.testing.assert_allclose(F.selu(xs).numpy(), scale * np.where(x > 0, x, alpha * np.expm1(x)), rtol=1e-15)
    np.testing.assert_allclose(F.celu(xs, 0.5).numpy(), np.where(x > 0, x, 0.5 * np.expm1(x / 0.5)), rtol=1e-15)
    with pytest.raises(ValueError, match="alpha cannot be 0"):
        F.celu(xs, 0.0)


# ----------------------------------------------------------------------------- inplace=
INPLACE = {
    "relu": (lambda x, ip: F.relu(x, inplace=ip), lambda x, ip: TF.relu(x, inplace=ip)),
    "relu6": (lambda x, ip: F.relu6(x, inplace=ip), lambda x, ip: TF.relu6(x, inplace=ip)),
    "hardtanh": (lambda x, ip: F.hardtanh(x, -0.5, 2.0, ip), lambda x, ip: TF.hardtanh(x, -0.5, 2.0, ip)),
    "hardsigmoid": (lambda x, ip: F.hardsigmoid(x, ip), lambda x, ip: TF.hardsigmoid(x, ip)),
    "hardswish": (lambda x, ip: F.hardswish(x, ip), lambda x, ip: TF.hardswish(x, ip)),
    "leaky_relu": (lambda x, ip: F.leaky_relu(x, 0.2, ip), lambda x, ip: TF.leaky_relu(x, 0.2, ip)),
    "elu": (lambda x, ip: F.elu(x, 0.5, ip), lambda x, ip: TF.elu(x, 0.5, ip)),
    "selu": (lambda x, ip: F.selu(x, ip), lambda x, ip: TF.selu(x, ip)),
    "celu": (lambda x, ip: F.celu(x, 0.7, ip), lambda x, ip: TF.celu(x, 0.7, ip)),
    "silu": (lambda x, ip: F.silu(x, ip), lambda x, ip: TF.silu(x, ip)),
    "mish": (lambda x, ip: F.mish(x, ip), lambda x, ip: TF.mish(x, ip)),
    "threshold": (lambda x, ip: F.threshold(x, 0.1, 5.0, ip), lambda x, ip: TF.threshold(x, 0.1, 5.0, ip)),
    "dropout(eval)": (lambda x, ip: F.dropout(x, 0.5, False, ip), lambda x, ip: TF.dropout(x, 0.5, False, ip)),
    "dropout(p=1)": (lambda x, ip: F.dropout(x, 1.0, True, ip), lambda x, ip: TF.dropout(x, 1.0, True, ip)),
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_writes_into_the_input_and_returns_it(name):
    fk_fn, torch_fn = INPLACE[name]
    data = randn(3, 4, seed=5) * 3
    x, xt = fk.tensor(data.copy()), torch.tensor(data.copy())
    out, out_t = fk_fn(x, True), torch_fn(xt, True)
    assert out is x and out_t is xt
    assert_close(x, xt, np.float64, f"{name}(inplace=True)")
    fresh, fresh_t = fk.tensor(data.copy()), torch.tensor(data.copy())
    assert (fk_fn(fresh, False) is fresh) == (torch_fn(fresh_t, False) is fresh_t)  # eval dropout: the input
    np.testing.assert_array_equal(fresh.numpy(), data)  # out of place leaves the input alone


def test_inplace_training_dropout_zeroes_the_input_itself():
    fk.manual_seed(3)
    x = fk.ones(2000, dtype=fk.float64)
    y = F.dropout(x, 0.25, training=True, inplace=True)
    assert y is x
    values = set(np.unique(x.numpy()).tolist())
    assert values == {0.0, 1 / 0.75}


def test_inplace_modules_and_in_place_spellings():
    data = randn(5, seed=6)
    for layer in (nn.ReLU(True), nn.ReLU6(True), nn.Hardtanh(inplace=True), nn.Hardsigmoid(True),
                  nn.Hardswish(True), nn.LeakyReLU(inplace=True), nn.ELU(inplace=True), nn.SELU(True),
                  nn.CELU(inplace=True), nn.SiLU(True), nn.Mish(True), nn.Threshold(0.0, 1.0, True),
                  nn.Dropout(inplace=True).eval()):
        x = fk.tensor(data.copy())
        assert layer(x) is x, type(layer).__name__
    for name in ("relu_", "hardtanh_", "leaky_relu_", "elu_", "selu_", "celu_"):
        x, xt = fk.tensor(data.copy()), torch.tensor(data.copy())
        assert getattr(F, name)(x) is x
        getattr(TF, name)(xt)
        assert_close(x, xt, np.float64, name)
    x, xt = fk.tensor(data.copy()), torch.tensor(data.copy())
    F.threshold_(x, 0.2, -1.0)
    TF.threshold_(xt, 0.2, -1.0)
    assert_close(x, xt, np.float64, "threshold_")


def test_inplace_needs_a_result_of_the_inputs_dtype():
    x = fk.tensor([-1, 0, 2])
    assert F.relu(x, inplace=True) is x and x.tolist() == [0, 0, 2]  # integer relu stays integer
    with pytest.raises(TypeError, match="can't be cast to the desired output type int64"):
        F.hardsigmoid(fk.tensor([-1, 0, 2]), inplace=True)


# ----------------------------------------------------------------------------- Gumbel-softmax
def test_gumbel_softmax_hard_samples_follow_softmax_of_the_logits():
    """The Gumbel-max trick: argmax(logits + g) ~ Categorical(softmax(logits)), each draw one-hot
    (exactly) and in the soft sample's argmax. 20,000 rows; tolerance 5 binomial σ."""
    fk.manual_seed(0)
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    n = 20_000
    batch = fk.tensor(np.tile(logits, (n, 1)))
    hard = F.gumbel_softmax(batch, tau=0.7, hard=True).numpy()
    assert set(np.unique(hard).tolist()) == {0.0, 1.0} and (hard.sum(1) == 1).all()
    freq = hard.mean(0)
    p = np.exp(logits)
    assert (np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / n)).all(), freq
    fk.manual_seed(0)
    soft = F.gumbel_softmax(batch, tau=0.7).numpy()  # the same noise: the same argmax
    np.testing.assert_allclose(soft.sum(1), 1, rtol=1e-12)
    np.testing.assert_array_equal(soft.argmax(1), hard.argmax(1))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("hard", [False, True])
def test_gumbel_softmax_gradient_is_the_soft_samples(hard, dtype):
    """Behind the same noise g (recovered from the soft sample: log y = (x + g)/τ − c per row), the
    gradient of the sample — hard (straight-through) or soft — is torch's softmax((x + g)/τ)
    gradient; along dim 0 too."""
    tau = 0.5
    logits = randn(3, 5, dtype=dtype, seed=7)
    for dim in (-1, 0):
        fk.manual_seed(11)
        soft = F.gumbel_softmax(fk.tensor(logits), tau=tau, dim=dim).numpy().astype(np.float64)
        noise = tau * np.log(soft) - logits  # g − τc: the row constant c does not change a softmax

        def torch_fn(x, noise=noise, dim=dim):
            y = torch.softmax((x + torch.tensor(noise, dtype=x.dtype)) / tau, dim)
            if not hard:
                return y
            one_hot = torch.zeros_like(y).scatter_(dim, y.argmax(dim, keepdim=True), 1.0)
            return one_hot - y.detach() + y

        def fk_fn(x, dim=dim):
            fk.manual_seed(11)
            return F.gumbel_softmax(x, tau=tau, hard=hard, dim=dim)

        check(fk_fn, torch_fn, [logits], dtype, rtol=1e-3 if dtype == np.float32 else 1e-6, second=not hard)


def test_gumbel_softmax_eps_is_deprecated():
    with pytest.warns(UserWarning, match="deprecated"):
        F.gumbel_softmax(fk.randn(2, 3), eps=1e-3)


# ----------------------------------------------------------------------------- normalize
def test_normalize_rows_have_unit_norm_and_small_vectors_are_divided_by_eps():
    x = fk.tensor(np.array([[3.0, 4.0], [1e-14, 0.0], [0.0, 0.0]]), requires_grad=True)
    y = F.normalize(x)
    np.testing.assert_allclose(y.detach().numpy(), [[0.6, 0.8], [0.01, 0.0], [0.0, 0.0]], rtol=1e-12)
    xt = torch.tensor(x.detach().numpy(), requires_grad=True)
    g = randn(3, 2, seed=1)
    y.backward(fk.tensor(g))
    TF.normalize(xt).backward(torch.tensor(g))
    assert_close(x.grad, xt.grad, np.float64, "normalize gradient below eps")
    out = fk.zeros(3, 2, dtype=fk.float64)
    assert F.normalize(x.detach(), out=out) is out
    np.testing.assert_allclose(out.numpy(), y.detach().numpy())


# ----------------------------------------------------------------------------- errors
def test_activation_errors_name_the_function():
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(fk.randn(3), 2.0, 1.0)
    with pytest.raises(ValueError, match=r"max_val \(1.0\) must be greater than min_val \(1.0\)"):
        nn.Hardtanh(1.0, 1.0)
    with pytest.raises(fk.ShapeError, match=r"glu: halving dimension must be even.*\(2, 3\).*size 3"):
        F.glu(fk.randn(2, 3))
    with pytest.raises(fk.ShapeError, match="scalars"):
        F.glu(fk.tensor(1.0))
    with pytest.raises(IndexError, match="glu: dimension out of range"):
        nn.GLU(dim=2)(fk.randn(2, 4))
    with pytest.warns(FutureWarning, match="min_value"):
        assert nn.Hardtanh(min_value=-2.0).min_val == -2.0


# ----------------------------------------------------------------------------- the layers
LAYERS = [
    (lambda m: m.ReLU6(), (0.0, 6.0)), (lambda m: m.Hardtanh(-2.0, 0.5), (-2.0, 0.5)),
    (lambda m: m.Hardsigmoid(), (-3.0, 3.0)), (lambda m: m.Hardswish(), (-3.0, 3.0)), (lambda m: m.SELU(), (0.0,)),
    (lambda m: m.CELU(0.8), (0.0,)), (lambda m: m.Mish(), ()), (lambda m: m.Softsign(), ()),
    (lambda m: m.LogSigmoid(), ()), (lambda m: m.Tanhshrink(), ()), (lambda m: m.Threshold(0.5, -1.0), (0.5,)),
    (lambda m: m.GLU(), ()), (lambda m: m.GLU(1), ()), (lambda m: m.Softmin(dim=1), ()),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("i", range(len(LAYERS)))
def test_layer_matches_torch_layer(i, dtype):
    build, kinks = LAYERS[i]
    x = away_from(randn(3, 4, 6, seed=i) * 3, kinks, gap=0.05).astype(dtype)
    ours, theirs = build(nn), build(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []
    xf, xt = fk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_f, out_t = ours(xf), theirs(xt)
    assert_close(out_f, out_t, dtype, "forward")
    up = randn(tuple(out_t.shape), dtype=dtype, seed=9)
    out_f.backward(fk.tensor(up))
    out_t.backward(torch.tensor(up))
    assert_close(xf.grad, xt.grad, dtype, "input gradient")


REPRS = [
    lambda m: m.ReLU6(), lambda m: m.ReLU6(inplace=True), lambda m: m.Hardtanh(), lambda m: m.Hardtanh(-2.0, 3.0, True),
    lambda m: m.Hardsigmoid(), lambda m: m.Hardsigmoid(inplace=True), lambda m: m.Hardswish(True), lambda m: m.SELU(),
    lambda m: m.SELU(inplace=True), lambda m: m.CELU(), lambda m: m.CELU(0.5, True), lambda m: m.Mish(True),
    lambda m: m.Softsign(), lambda m: m.LogSigmoid(), lambda m: m.Tanhshrink(), lambda m: m.Threshold(0.1, 20),
    lambda m: m.Threshold(0.1, 20, inplace=True), lambda m: m.GLU(), lambda m: m.GLU(dim=1), lambda m: m.Softmin(1),
    lambda m: m.Softmin(), lambda m: m.LeakyReLU(0.2, True), lambda m: m.ELU(inplace=True), lambda m: m.SiLU(True),
    lambda m: m.Dropout(0.3, inplace=True),
]


@pytest.mark.parametrize("i", range(len(REPRS)))
def test_repr_matches_torch(i):
    assert repr(REPRS[i](nn)) == repr(REPRS[i](torch.nn))


def test_layers_are_exported_under_torchs_module_paths():
    from fukaku.nn.modules import activation

    for name in ("ReLU6", "Hardtanh", "Hardsigmoid", "Hardswish", "SELU", "CELU", "Mish", "Softsign", "LogSigmoid",
                 "Tanhshrink", "Threshold", "GLU", "Softmin"):
        assert getattr(nn, name) is getattr(activation, name) and name in nn.__all__
    assert issubclass(nn.ReLU6, nn.Hardtanh) and nn.ReLU6().min_val == 0.0 and nn.ReLU6().max_val == 6.0
    for name in ("relu6", "hardtanh", "hardsigmoid", "hardswish", "softsign", "logsigmoid", "selu", "celu", "mish",
                 "glu", "threshold", "tanhshrink", "softmin", "gumbel_softmax", "normalize"):
        assert callable(getattr(F, name)) and name in F.__all__, name
    assert fk.selu is not None and fk.celu is not None and fk.threshold is not None  # torch.selu & co.
    assert math.isclose(F.softmin(fk.tensor([0.0, math.log(3.0)]), 0)[0].item(), 0.75, rel_tol=1e-6)
