"""fukaku.nn layers against PyTorch, and the properties seed 000 §6.1.4 states for them.

Conformance: for every layer, torch's state dict is loaded into ours (``strict=True``, so the key
names must match), both run on the same input, and outputs, the input's gradient and every
parameter's gradient must agree (float32 rtol 1e-4, float64 rtol 1e-7); then the reverse direction
(our state dict loaded into a fresh torch layer) must give the same outputs. The functional forms
also go through the conformance harness (forward, vjp, jvp and second derivatives).
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
from conformance import FLOATS, assert_close, check, randn
from fukaku.autograd import gradcheck, gradgradcheck

TORCH_DTYPE = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


# ----------------------------------------------------------------------------- helpers
def torch_state_to_fk(module: torch.nn.Module) -> dict:
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def fk_state_to_torch(module: nn.Module) -> dict:
    return {k: torch.from_numpy(np.array(v.data.numpy())) for k, v in module.state_dict().items()}


def run_pair(ours: nn.Module, theirs: torch.nn.Module, x: np.ndarray, dtype, upstream_seed: int = 3):
    """Forward + backward in both; returns (our out, torch out), having compared input and
    parameter gradients."""
    xf = fk.tensor(x, requires_grad=x.dtype.kind == "f")
    xt = torch.from_numpy(x.copy()).requires_grad_(x.dtype.kind == "f")
    out_f, out_t = ours(xf), theirs(xt)
    assert_close(out_f, out_t, dtype, "forward output")
    up = np.random.default_rng(upstream_seed).standard_normal(tuple(out_t.shape)).astype(dtype)
    ours.zero_grad()
    theirs.zero_grad()
    out_f.backward(fk.tensor(up))
    out_t.backward(torch.from_numpy(up))
    if x.dtype.kind == "f":
        assert_close(xf.grad, xt.grad, dtype, "input gradient")
    theirs_params = dict(theirs.named_parameters())
    ours_params = dict(ours.named_parameters())
    assert ours_params.keys() == theirs_params.keys()
    for name, p in ours_params.items():
        want = theirs_params[name].grad
        assert p.grad is not None or want is None, f"parameter {name} got no gradient"
        assert_close(p.grad, want, dtype, f"gradient of {name}")
    return out_f, out_t


def conform(make_fk, make_torch, x: np.ndarray, dtype, train: bool = True, steps: int = 1) -> None:
    """torch → ours and ours → torch through the state dicts, then ``steps`` forward/backward passes."""
    theirs = make_torch().to(TORCH_DTYPE[np.dtype(dtype)])
    ours = make_fk().to(dtype)
    ours.load_state_dict(torch_state_to_fk(theirs), strict=True)
    ours.train(train)
    theirs.train(train)
    for _ in range(steps):
        run_pair(ours, theirs, x, dtype)
    for key, value in theirs.state_dict().items():  # buffers (running statistics) moved alike
        assert_close(ours.state_dict()[key], value, dtype, f"state {key}")
    # the reverse direction: our state into a fresh torch layer, strict
    fresh = make_torch().to(TORCH_DTYPE[np.dtype(dtype)])
    fresh.load_state_dict(fk_state_to_torch(ours), strict=True)
    fresh.train(train)
    ours_eval = ours.train(False)(fk.tensor(x))
    fresh_eval = fresh.train(False)(torch.from_numpy(x.copy()))
    assert_close(ours_eval, fresh_eval, dtype, "output after ours -> torch state dict")


class TorchResidual(torch.nn.Module):
    def __init__(self, fn: torch.nn.Module) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return x + self.fn(x)


# ----------------------------------------------------------------------------- layers vs torch
LAYERS = {
    "linear": (lambda: nn.Linear(5, 3), lambda: torch.nn.Linear(5, 3), (4, 5)),
    "linear-nobias": (lambda: nn.Linear(5, 3, bias=False), lambda: torch.nn.Linear(5, 3, bias=False), (4, 5)),
    "linear-3d": (lambda: nn.Linear(5, 3), lambda: torch.nn.Linear(5, 3), (2, 4, 5)),
    "linear-1d": (lambda: nn.Linear(5, 3), lambda: torch.nn.Linear(5, 3), (5,)),
    "identity": (lambda: nn.Identity(7), lambda: torch.nn.Identity(7), (3, 4)),
    "flatten": (lambda: nn.Flatten(), lambda: torch.nn.Flatten(), (2, 3, 4)),
    "flatten-0-1": (lambda: nn.Flatten(0, 1), lambda: torch.nn.Flatten(0, 1), (2, 3, 4)),
    "unflatten": (lambda: nn.Unflatten(1, (2, 3)), lambda: torch.nn.Unflatten(1, (2, 3)), (4, 6)),
    "sigmoid": (lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid(), (4, 5)),
    "tanh": (lambda: nn.Tanh(), lambda: torch.nn.Tanh(), (4, 5)),
    "relu": (lambda: nn.ReLU(), lambda: torch.nn.ReLU(), (4, 5)),
    "leaky-relu": (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2), (4, 5)),
    "prelu": (lambda: nn.PReLU(), lambda: torch.nn.PReLU(), (4, 5)),
    "prelu-channels": (lambda: nn.PReLU(4, init=0.1), lambda: torch.nn.PReLU(4, init=0.1), (3, 4, 5)),
    "elu": (lambda: nn.ELU(0.7), lambda: torch.nn.ELU(0.7), (4, 5)),
    "silu": (lambda: nn.SiLU(), lambda: torch.nn.SiLU(), (4, 5)),
    "gelu": (lambda: nn.GELU(), lambda: torch.nn.GELU(), (4, 5)),
    "gelu-tanh": (lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh"), (4, 5)),
    "softplus": (lambda: nn.Softplus(2.0, 3.0), lambda: torch.nn.Softplus(2.0, 3.0), (4, 5)),
    "softmax": (lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1), (4, 5)),
    "log-softmax": (lambda: nn.LogSoftmax(dim=-1), lambda: torch.nn.LogSoftmax(dim=-1), (2, 4, 5)),
    "layernorm": (lambda: nn.LayerNorm(5), lambda: torch.nn.LayerNorm(5), (4, 5)),
    "layernorm-2d": (lambda: nn.LayerNorm((4, 5)), lambda: torch.nn.LayerNorm((4, 5)), (3, 4, 5)),
    "layernorm-noaffine": (lambda: nn.LayerNorm(5, elementwise_affine=False),
                           lambda: torch.nn.LayerNorm(5, elementwise_affine=False), (4, 5)),
    "layernorm-nobias": (lambda: nn.LayerNorm(5, bias=False), lambda: torch.nn.LayerNorm(5, bias=False), (4, 5)),
    "residual": (lambda: nn.Residual(nn.Sequential(nn.Linear(5, 5), nn.Tanh(), nn.Linear(5, 5))),
                 lambda: TorchResidual(torch.nn.Sequential(torch.nn.Linear(5, 5), torch.nn.Tanh(),
                                                           torch.nn.Linear(5, 5))), (4, 5)),
    "groupnorm": (lambda: nn.GroupNorm(2, 4), lambda: torch.nn.GroupNorm(2, 4), (3, 4, 5, 2)),
    "groupnorm-nc": (lambda: nn.GroupNorm(2, 6), lambda: torch.nn.GroupNorm(2, 6), (3, 6)),
    "groupnorm-noaffine": (lambda: nn.GroupNorm(4, 4, affine=False), lambda: torch.nn.GroupNorm(4, 4, affine=False),
                           (2, 4, 3)),
    "groupnorm-nobias": (lambda: nn.GroupNorm(1, 4, bias=False), lambda: torch.nn.GroupNorm(1, 4, bias=False),
                         (2, 4, 3, 3)),
    "instancenorm2d": (lambda: nn.InstanceNorm2d(4), lambda: torch.nn.InstanceNorm2d(4), (2, 4, 3, 5)),
    "instancenorm1d-unbatched": (lambda: nn.InstanceNorm1d(4, affine=True),
                                 lambda: torch.nn.InstanceNorm1d(4, affine=True), (4, 6)),
    "instancenorm3d": (lambda: nn.InstanceNorm3d(3, affine=True), lambda: torch.nn.InstanceNorm3d(3, affine=True),
                       (2, 3, 2, 3, 2)),
    "local-response-norm": (lambda: nn.LocalResponseNorm(3, alpha=0.5, beta=0.75, k=1.5),
                            lambda: torch.nn.LocalResponseNorm(3, alpha=0.5, beta=0.75, k=1.5), (2, 5, 3, 2)),
    "local-response-norm-even-3d": (lambda: nn.LocalResponseNorm(4, alpha=2.0, k=2.0),
                                    lambda: torch.nn.LocalResponseNorm(4, alpha=2.0, k=2.0), (2, 6, 3)),
    "pixelshuffle": (lambda: nn.PixelShuffle(2), lambda: torch.nn.PixelShuffle(2), (2, 8, 3, 2)),
    "pixelunshuffle": (lambda: nn.PixelUnshuffle(2), lambda: torch.nn.PixelUnshuffle(2), (2, 3, 4, 6)),
    "upsample-bilinear": (lambda: nn.Upsample(scale_factor=1.5, mode="bilinear"),
                          lambda: torch.nn.Upsample(scale_factor=1.5, mode="bilinear"), (2, 3, 4, 5)),
    "upsample-nearest-exact": (lambda: nn.Upsample(size=(5, 3), mode="nearest-exact"),
                               lambda: torch.nn.Upsample(size=(5, 3), mode="nearest-exact"), (2, 3, 4, 6)),
    "upsample-recompute": (lambda: nn.Upsample(scale_factor=1.3, mode="bilinear", recompute_scale_factor=True),
                           lambda: torch.nn.Upsample(scale_factor=1.3, mode="bilinear", recompute_scale_factor=True),
                           (2, 3, 4, 6)),
    "upsample-trilinear-align": (lambda: nn.Upsample(scale_factor=(1.5, 0.5, 2), mode="trilinear", align_corners=True),
                                 lambda: torch.nn.Upsample(scale_factor=(1.5, 0.5, 2), mode="trilinear",
                                                           align_corners=True), (1, 2, 2, 4, 3)),
    "upsampling-bilinear2d": (lambda: nn.UpsamplingBilinear2d(size=(5, 3)),
                              lambda: torch.nn.UpsamplingBilinear2d(size=(5, 3)), (2, 3, 4, 4)),
    "upsampling-nearest2d": (lambda: nn.UpsamplingNearest2d(scale_factor=2),
                             lambda: torch.nn.UpsamplingNearest2d(scale_factor=2), (2, 3, 3, 2)),
    "cnn": (lambda: nn.Sequential(nn.BatchNorm2d(3), nn.ReLU(), nn.Upsample(scale_factor=2), nn.GroupNorm(1, 3),
                                  nn.Dropout2d(0.0), nn.LocalResponseNorm(2)),
            lambda: torch.nn.Sequential(torch.nn.BatchNorm2d(3), torch.nn.ReLU(), torch.nn.Upsample(scale_factor=2),
                                        torch.nn.GroupNorm(1, 3), torch.nn.Dropout2d(0.0),
                                        torch.nn.LocalResponseNorm(2)), (4, 3, 2, 3)),
    "mlp": (lambda: nn.Sequential(nn.Flatten(), nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.LayerNorm(8),
                                  nn.Linear(8, 3), nn.LogSoftmax(1)),
            lambda: torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 8), torch.nn.BatchNorm1d(8),
                                        torch.nn.ReLU(), torch.nn.LayerNorm(8), torch.nn.Linear(8, 3),
                                        torch.nn.LogSoftmax(1)), (5, 2, 3)),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(name, dtype):
    make_fk, make_torch, shape = LAYERS[name]
    torch.manual_seed(0)
    fk.manual_seed(0)
    conform(make_fk, make_torch, randn(shape, dtype=dtype), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_layer_parameters_are_perturbed_not_default(dtype):
    """LayerNorm/PReLU start at constants, which would hide a mix-up of weight and bias: randomise them."""
    theirs = torch.nn.Sequential(torch.nn.LayerNorm(5), torch.nn.PReLU(5)).to(TORCH_DTYPE[np.dtype(dtype)])
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn_like(p))
    ours = nn.Sequential(nn.LayerNorm(5), nn.PReLU(5)).to(dtype)
    ours.load_state_dict(torch_state_to_fk(theirs))
    run_pair(ours, theirs, randn((4, 5), dtype=dtype), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_channel_norm_parameters_are_perturbed_not_default(dtype):
    """The same for the per-channel γ and β of BatchNorm2d, InstanceNorm2d and GroupNorm (a tanh between
    them: a per-channel normalisation right after a per-channel affine map would cancel its gradient)."""
    def build(m):
        return m.Sequential(m.BatchNorm2d(4), m.Tanh(), m.InstanceNorm2d(4, affine=True), m.Tanh(), m.GroupNorm(2, 4))

    theirs = build(torch.nn).to(TORCH_DTYPE[np.dtype(dtype)])
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn_like(p))
    ours = build(nn).to(dtype)
    ours.load_state_dict(torch_state_to_fk(theirs))
    run_pair(ours, theirs, randn((3, 4, 3, 2), dtype=dtype), dtype)


# ----------------------------------------------------------------------------- BatchNorm1d/2d/3d, InstanceNorm
BN_CONFIGS = {
    "default": dict(),
    "momentum-none": dict(momentum=None),
    "momentum-0.3": dict(momentum=0.3, eps=1e-3),
    "no-affine": dict(affine=False),
    "no-bias": dict(bias=False),
    "no-running-stats": dict(track_running_stats=False),
}


BN_LAYERS = {2: "BatchNorm1d", 3: "BatchNorm1d", 4: "BatchNorm2d", 5: "BatchNorm3d"}


BN_CASES = [(config, shape) for config in BN_CONFIGS for shape in ((8, 4), (6, 4, 5), (3, 4, 3, 2))] + [
    ("default", (2, 4, 2, 3, 2)), ("no-bias", (2, 4, 2, 3, 2))]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("config, shape", BN_CASES,
                         ids=[f"{c}-{'-'.join(map(str, s))}" for c, s in BN_CASES])
def test_batchnorm_matches_torch(config, shape, dtype):
    """Training steps on different batches (running statistics compared after each), then eval;
    BatchNorm1d, 2d and 3d by the input's rank."""
    running_statistics_match_torch(BN_LAYERS[len(shape)], BN_CONFIGS[config], shape, dtype, counts_batches=True)


IN_CONFIGS = {
    "default": dict(),
    "affine": dict(affine=True),
    "running-stats": dict(track_running_stats=True),
    "affine-running-stats": dict(affine=True, track_running_stats=True, momentum=0.3, eps=1e-3),
    "momentum-none": dict(track_running_stats=True, momentum=None),  # PyTorch takes it as 0: no update
}


IN_CASES = [("default", "InstanceNorm1d", (3, 4, 5)), ("affine", "InstanceNorm1d", (4, 5)),
            ("running-stats", "InstanceNorm2d", (2, 4, 3, 2)), ("affine-running-stats", "InstanceNorm2d", (4, 3, 2)),
            ("affine-running-stats", "InstanceNorm1d", (3, 4, 5)), ("momentum-none", "InstanceNorm3d", (2, 4, 2, 2, 3))]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("config, layer, shape", IN_CASES,
                         ids=[f"{c}-{'-'.join(map(str, s))}" for c, _, s in IN_CASES])
def test_instancenorm_matches_torch(config, layer, shape, dtype):
    """Instance statistics in training (running statistics, when tracked, updated with their batch
    average and compared after each step), then eval with the running ones."""
    running_statistics_match_torch(layer, IN_CONFIGS[config], shape, dtype, counts_batches=False)


def running_statistics_match_torch(layer: str, kwargs: dict, shape: tuple, dtype, counts_batches: bool) -> None:
    """Four training steps of ``nn.<layer>(4, **kwargs)`` and torch's on batches with different
    statistics (outputs, gradients and every buffer compared after each), one eval step, then our
    state dict loaded into a fresh torch layer. ``counts_batches``: num_batches_tracked advances
    (BatchNorm) or stays 0 (InstanceNorm, as in torch)."""
    theirs = getattr(torch.nn, layer)(4, **kwargs).to(TORCH_DTYPE[np.dtype(dtype)])
    if theirs.weight is not None:
        with torch.no_grad():
            theirs.weight.copy_(torch.linspace(0.5, 2.0, 4))
            if theirs.bias is not None:
                theirs.bias.copy_(torch.linspace(-1.0, 1.0, 4))
    ours = getattr(nn, layer)(4, **kwargs).to(dtype)
    ours.load_state_dict(torch_state_to_fk(theirs), strict=True)
    for step in range(4):
        x = randn(shape, dtype=dtype, seed=step) * (1 + step) + step  # batches with different statistics
        run_pair(ours, theirs, x, dtype)
        for key, value in theirs.state_dict().items():
            got = ours.state_dict()[key]
            if key == "num_batches_tracked":
                assert got.item() == value.item() == (step + 1 if counts_batches else 0)
            else:
                assert_close(got, value, dtype, f"{key} after step {step + 1}")
    ours.eval()
    theirs.eval()
    run_pair(ours, theirs, randn(shape, dtype=dtype, seed=9), dtype)
    fresh = getattr(torch.nn, layer)(4, **kwargs).to(TORCH_DTYPE[np.dtype(dtype)])
    fresh.load_state_dict(fk_state_to_torch(ours), strict=True)
    x = randn(shape, dtype=dtype, seed=10)
    assert_close(ours(fk.tensor(x)), fresh.eval()(torch.from_numpy(x)), dtype, "eval after ours -> torch")


def test_batchnorm_momentum_none_is_cumulative_average():
    bn = nn.BatchNorm1d(3, momentum=None).double()
    batches = [randn((10, 3), dtype=np.float64, seed=s) * (s + 1) for s in range(5)]
    for b in batches:
        bn(fk.tensor(b))
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([b.mean(0) for b in batches], axis=0), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), np.mean([b.var(0, ddof=1) for b in batches], axis=0),
                               rtol=1e-12)


def test_functional_batch_norm_refuses_momentum_none_for_running_statistics():
    """Only the layers, which count their batches, can take the cumulative average; the running statistics stay."""
    mean, var = fk.zeros(3), fk.ones(3)
    with pytest.raises(ValueError, match="momentum must be a number"):
        F.batch_norm(fk.randn(4, 3), mean, var, training=True, momentum=None)
    assert np.array_equal(mean.numpy(), np.zeros(3)) and np.array_equal(var.numpy(), np.ones(3))


def test_batchnorm_train_statistics_are_zero_one():
    """seed 000 §6.1.4: in training the batch is normalised to mean 0 and (biased) variance 1 per feature."""
    x = fk.tensor(randn((64, 5), dtype=np.float64) * 3 + 7)
    y = nn.BatchNorm1d(5).double()(x).detach().numpy()
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(0), 1, rtol=1e-4)  # eps = 1e-5 over variance 9


def test_batchnorm_depends_on_batch_layernorm_does_not():
    """seed 000 §6.1.4: LayerNorm's output for a sample is unchanged by the rest of the batch (and
    by evaluating it alone); BatchNorm's in training changes."""
    fk.manual_seed(0)
    x = randn((8, 6), dtype=np.float64)
    other = x.copy()
    other[1:] = randn((7, 6), dtype=np.float64, seed=1) * 4 + 2
    ln = nn.LayerNorm(6).double()
    bn = nn.BatchNorm1d(6).double()
    ln_a, ln_b, ln_alone = (ln(fk.tensor(v)).detach().numpy() for v in (x, other, x[:1]))
    np.testing.assert_array_equal(ln_a[0], ln_b[0])
    np.testing.assert_array_equal(ln_a[0], ln_alone[0])
    bn_a, bn_b = (bn(fk.tensor(v)).detach().numpy() for v in (x, other))
    assert np.abs(bn_a[0] - bn_b[0]).max() > 0.1
    bn.eval()  # with running statistics a sample's output no longer depends on the batch
    bn_a, bn_b = (bn(fk.tensor(v)).detach().numpy() for v in (x, other))
    np.testing.assert_array_equal(bn_a[0], bn_b[0])


def test_batchnorm_bad_input_leaves_state_alone():
    bn = nn.BatchNorm1d(3)
    before = {k: v.numpy().copy() for k, v in bn.state_dict().items()}
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(fk.randn(1, 3))
    with pytest.raises(fk.ShapeError, match=r"\(4, 2\)"):
        bn(fk.randn(4, 2))
    with pytest.raises(fk.ShapeError, match="2-d .* or 3-d"):
        bn(fk.randn(2, 3, 4, 5))
    for k, v in bn.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=k)
    bn.eval()
    assert bn(fk.randn(1, 3)).shape == (1, 3)  # eval mode takes single samples


def test_batchnorm_load_state_dict_errors_name_the_key():
    bn = nn.BatchNorm1d(3)
    state = torch_state_to_fk(torch.nn.BatchNorm1d(4))
    with pytest.raises(fk.StateDictError, match="running_mean.*\\(4,\\).*\\(3,\\)"):
        bn.load_state_dict(state)
    state = torch_state_to_fk(torch.nn.BatchNorm1d(3))
    del state["num_batches_tracked"]
    with pytest.raises(fk.StateDictError, match="num_batches_tracked"):
        bn.load_state_dict(state)


# ----------------------------------------------------------------------------- functional conformance
@pytest.mark.parametrize("dtype", FLOATS)
def test_functional_linear(dtype):
    x, w, b = randn((2, 4, 5), dtype=dtype), randn((3, 5), dtype=dtype, seed=1), randn((3,), dtype=dtype, seed=2)
    check(F.linear, TF.linear, [x, w, b], dtype, second=True)
    check(F.linear, TF.linear, [x[0, 0], w, b], dtype, second=True)
    check(lambda x, w: F.linear(x, w), lambda x, w: TF.linear(x, w), [x[0], w], dtype, second=True)
    # a strided (…, in) input: the batch of products, not the one-GEMM path
    check(lambda x, w, b: F.linear(x.transpose(0, 1), w, b), lambda x, w, b: TF.linear(x.transpose(0, 1), w, b),
          [x, w, b], dtype, second=True)


@pytest.mark.parametrize("dtype", FLOATS)
def test_functional_prelu(dtype):
    x = randn((3, 4, 5), dtype=dtype)
    check(F.prelu, TF.prelu, [x, np.array([0.3, -0.2, 0.1, 2.0])], dtype, second=True)
    check(F.prelu, TF.prelu, [x, np.array([0.25])], dtype, second=True)
    check(F.prelu, TF.prelu, [x[0, 0], np.array([0.25])], dtype, second=True)


@pytest.mark.parametrize("dtype", FLOATS)
def test_functional_batch_norm(dtype):
    x, w, b = randn((6, 4, 3), dtype=dtype), randn((4,), dtype=dtype, seed=1), randn((4,), dtype=dtype, seed=2)
    rm, rv = randn((4,), dtype=dtype, seed=3), np.linspace(0.5, 2, 4).astype(dtype)
    check(lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
          lambda x, w, b: TF.batch_norm(x, None, None, w, b, True), [x, w, b], dtype, second=True)
    check(lambda x: F.batch_norm(x, None, None, training=True, eps=0.1),
          lambda x: TF.batch_norm(x, None, None, training=True, eps=0.1), [x[:, :, 0]], dtype, second=True)
    check(lambda x, w, b: F.batch_norm(x, fk.tensor(rm), fk.tensor(rv), w, b),
          lambda x, w, b: TF.batch_norm(x, torch.from_numpy(rm), torch.from_numpy(rv), w, b), [x, w, b], dtype,
          second=True)
    # torch cannot double-differentiate batch_norm with a bias and no weight: compare first order,
    # and check the second order against finite differences
    check(lambda x, b: F.batch_norm(x, None, None, None, b, True),
          lambda x, b: TF.batch_norm(x, None, None, None, b, True), [x, b], dtype, second=False)


@pytest.mark.parametrize("dtype", FLOATS)
def test_functional_layer_norm(dtype):
    x, w, b = randn((3, 4, 5), dtype=dtype), randn((4, 5), dtype=dtype, seed=1), randn((4, 5), dtype=dtype, seed=2)
    check(lambda x, w, b: F.layer_norm(x, (4, 5), w, b), lambda x, w, b: TF.layer_norm(x, (4, 5), w, b),
          [x, w, b], dtype, second=True)
    check(lambda x, w: F.layer_norm(x, 5, w, eps=0.1), lambda x, w: TF.layer_norm(x, (5,), w, eps=0.1),
          [x, w[0]], dtype, second=True)
    check(lambda x: F.layer_norm(x, [5]), lambda x: TF.layer_norm(x, [5]), [x], dtype, second=True)


def test_normalisation_second_derivatives_by_finite_differences():
    x = fk.tensor(randn((5, 3), dtype=np.float64), requires_grad=True)
    b = fk.tensor(randn((3,), dtype=np.float64, seed=1), requires_grad=True)
    w = fk.tensor(randn((3,), dtype=np.float64, seed=2), requires_grad=True)
    gradcheck(lambda x, b: F.batch_norm(x, None, None, None, b, True), (x, b))
    gradgradcheck(lambda x, b: F.batch_norm(x, None, None, None, b, True), (x, b))
    gradgradcheck(lambda x, w: F.layer_norm(x, 3, w) * x, (x, w))


@pytest.mark.parametrize("dtype", FLOATS)
def test_functional_embedding(dtype):
    idx = np.array([[0, 2, 2], [4, 0, 1]])
    weight = randn((5, 3), dtype=dtype)
    for pad in (None, 2, -1):
        check(lambda w: F.embedding(fk.tensor(idx), w, padding_idx=pad),
              lambda w: TF.embedding(torch.from_numpy(idx), w, padding_idx=pad), [weight], dtype, second=True)


def test_functional_names_exported():
    for name in ("linear", "step", "prelu", "dropout", "batch_norm", "layer_norm", "embedding", "relu", "elu",
                 "leaky_relu", "gelu", "silu", "softplus", "softmax", "log_softmax", "sigmoid", "tanh", "one_hot",
                 "pad", "dropout1d", "dropout2d", "dropout3d", "group_norm", "instance_norm", "local_response_norm",
                 "interpolate", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "upsample"):
        assert callable(getattr(F, name)), name
        assert name in F.__all__


# ----------------------------------------------------------------------------- Step (perceptron)
@pytest.mark.parametrize("dtype", FLOATS)
def test_step_is_heaviside_with_zero_gradient(dtype):
    x = np.array([-2.0, -1e-30, 0.0, -0.0, 1e-30, 3.0, np.nan], dtype=dtype)
    xf = fk.tensor(x, requires_grad=True)
    y = nn.Step()(xf)
    want = torch.heaviside(torch.from_numpy(x), torch.tensor(1.0, dtype=TORCH_DTYPE[np.dtype(dtype)]))
    np.testing.assert_array_equal(y.detach().numpy(), want.numpy())
    assert y.dtype == np.dtype(dtype)
    y.sum().backward()
    np.testing.assert_array_equal(xf.grad.numpy(), np.zeros_like(x))
    assert F.step(fk.tensor([-1, 0, 2])).tolist() == [0.0, 1.0, 1.0]  # integers give the default float


# ----------------------------------------------------------------------------- Dropout
def test_dropout_expectation_and_zero_fraction():
    """seed 000 §6.1.4: E[h̃] = h, and a fraction p of the units is zero (tolerances: 5 binomial σ)."""
    fk.manual_seed(0)
    n, p, h = 200_000, 0.3, 1.7
    x = fk.full((n,), h, dtype=fk.float64)
    y = F.dropout(x, p, training=True).numpy()
    kept = y != 0
    zero_fraction = 1 - kept.mean()
    assert abs(zero_fraction - p) < 5 * math.sqrt(p * (1 - p) / n)
    sigma_mean = h * math.sqrt(p / (1 - p) / n)  # std of the mean of n values h·Bernoulli(1−p)/(1−p)
    assert abs(y.mean() - h) < 5 * sigma_mean
    np.testing.assert_allclose(y[kept], h / (1 - p), rtol=1e-15)


@pytest.mark.parametrize("dtype", FLOATS)
def test_dropout_gradient_is_mask_over_keep_probability(dtype):
    fk.manual_seed(1)
    p = 0.4
    x = randn((50, 20), dtype=dtype)
    xf = fk.tensor(x, requires_grad=True)
    y = nn.Dropout(p)(xf)
    mask = (y.detach().numpy() != 0).astype(dtype)
    g = randn((50, 20), dtype=dtype, seed=1)
    y.backward(fk.tensor(g))
    # torch's inverted dropout with the same mask
    xt = torch.from_numpy(x).requires_grad_(True)
    yt = xt * torch.from_numpy(mask) / (1 - p)
    yt.backward(torch.from_numpy(g))
    assert_close(y, yt, dtype, "dropout output")
    assert_close(xf.grad, xt.grad, dtype, "dropout gradient")


def test_dropout_tangent_and_second_derivative_match_torch_with_the_same_mask():
    """The dropout node (InvertedDropout) draws its mask in its forward pass; its jvp is the tangent times that
    mask, and its vjp is differentiable again (the Hessian of sum(dropout(x)²) is 2·mask² on the diagonal)."""
    p, x = 0.3, randn((6, 5), dtype=np.float64)
    t = randn((6, 5), dtype=np.float64, seed=2)
    fk.manual_seed(4)
    y, dy = fk.autograd.functional.jvp(lambda v: F.dropout(v, p), fk.tensor(x), fk.tensor(t))
    mask = torch.from_numpy((y.numpy() != 0).astype(np.float64) / (1 - p))
    _, dyt = torch.func.jvp(lambda v: v * mask, (torch.from_numpy(x),), (torch.from_numpy(t),))
    assert_close(dy, dyt, np.float64, "dropout tangent")
    xf, xt = fk.tensor(x, requires_grad=True), torch.from_numpy(x).requires_grad_(True)
    fk.manual_seed(4)
    (g,) = fk.autograd.grad((F.dropout(xf, p) ** 2).sum(), xf, create_graph=True)
    (gt,) = torch.autograd.grad(((xt * mask) ** 2).sum(), xt, create_graph=True)
    g.sum().backward()
    gt.sum().backward()
    assert_close(xf.grad, xt.grad, np.float64, "dropout second derivative")


def test_dropout_eval_identity_and_edge_probabilities():
    x = fk.randn(30, 4, requires_grad=True)
    layer = nn.Dropout(0.5).eval()
    assert layer(x) is x
    assert F.dropout(x, 0.0) is x
    assert F.dropout(x, 0.9, training=False) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).detach().numpy(), np.zeros((30, 4), np.float32))
    for bad in (-0.1, 1.5, "0.5"):
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.Dropout(bad)


def test_dropout_masks_follow_the_seed():
    x = fk.ones(1000)
    fk.manual_seed(5)
    a = F.dropout(x, 0.5).numpy()
    fk.manual_seed(5)
    b = F.dropout(x, 0.5).numpy()
    c = F.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


@pytest.mark.parametrize("layer, shape", [("Dropout2d", (300, 60, 3, 4)), ("Dropout1d", (300, 60, 5)),
                                          ("Dropout1d", (60, 5)), ("Dropout3d", (300, 60, 2, 2, 3)),
                                          ("Dropout3d", (60, 2, 2, 3))])
def test_channel_dropout_zeroes_whole_channels_and_scales_the_rest(layer, shape):
    """Each channel of each sample is all zeros or all h/(1 − p); the fraction dropped is p and the
    mean is kept (tolerances: 5 binomial σ over the channels drawn)."""
    fk.manual_seed(0)
    p, h = 0.3, 1.7
    y = getattr(nn, layer)(p)(fk.full(shape, h, dtype=fk.float64)).numpy()
    channels = y.reshape(-1, math.prod(shape[-3 if layer == "Dropout3d" else (-2 if layer == "Dropout2d" else -1):]))
    dropped = (channels == 0).all(axis=1)
    assert np.logical_or(dropped, np.isclose(channels, h / (1 - p), rtol=1e-15).all(axis=1)).all()
    n = len(channels)
    assert abs(dropped.mean() - p) < 5 * math.sqrt(p * (1 - p) / n)
    assert abs(y.mean() - h) < 5 * h * math.sqrt(p / (1 - p) / n)
    if len(shape) == {"Dropout1d": 3, "Dropout2d": 4, "Dropout3d": 5}[layer]:  # batched: samples draw apart
        per_sample = dropped.reshape(shape[0], shape[1])
        assert (per_sample != per_sample[:1]).any(axis=1).mean() > 0.9


@pytest.mark.parametrize("dtype", FLOATS)
def test_dropout2d_gradient_is_channel_mask_over_keep_probability(dtype):
    fk.manual_seed(2)
    p = 0.5
    x = randn((6, 5, 3, 2), dtype=dtype)
    xf = fk.tensor(x, requires_grad=True)
    y = F.dropout2d(xf, p)
    kept = y.detach().numpy().reshape(6, 5, -1).any(axis=2)
    assert 0 < kept.mean() < 1
    g = randn((6, 5, 3, 2), dtype=dtype, seed=1)
    y.backward(fk.tensor(g))
    mask = kept[:, :, None, None].astype(dtype) / (1 - p)
    np.testing.assert_allclose(y.detach().numpy(), x * mask, rtol=1e-6)
    np.testing.assert_allclose(xf.grad.numpy(), g * mask, rtol=1e-6)


def test_channel_dropout_eval_inplace_seed_and_rank_checks():
    x = fk.randn(4, 3, 5, 5)
    assert nn.Dropout2d(0.5).eval()(x) is x
    assert F.dropout3d(x, 0.0) is x
    y = fk.ones(2, 8, 3)
    assert F.dropout1d(y, 0.5, inplace=True) is y
    assert set(np.unique(y.numpy())) <= {0.0, 2.0}
    fk.manual_seed(3)
    a = F.dropout2d(fk.ones(8, 16, 2, 2)).numpy()
    fk.manual_seed(3)
    np.testing.assert_array_equal(a, F.dropout2d(fk.ones(8, 16, 2, 2)).numpy())
    with pytest.warns(UserWarning, match="interpreted as shape \\(N, C, L\\)"):
        assert F.dropout2d(fk.ones(2, 3, 4)).shape == (2, 3, 4)
    with pytest.warns(UserWarning, match="5-D input to dropout2d"):
        F.dropout2d(fk.ones(2, 3, 4, 1, 1))
    with pytest.raises(fk.ShapeError, match=r"dropout1d.*\(2, 3, 4, 5\)"):
        F.dropout1d(fk.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(1.5)


# ----------------------------------------------------------------------------- Embedding
@pytest.mark.parametrize("dtype", FLOATS)
def test_embedding_matches_torch_padding_row_gets_no_gradient(dtype):
    idx = np.array([[1, 0, 3, 3], [0, 0, 2, 9]])
    theirs = torch.nn.Embedding(10, 4, padding_idx=0).to(TORCH_DTYPE[np.dtype(dtype)])
    ours = nn.Embedding(10, 4, padding_idx=0).to(dtype)
    ours.load_state_dict(torch_state_to_fk(theirs))
    run_pair(ours, theirs, idx, dtype)
    np.testing.assert_array_equal(ours.weight.grad.numpy()[0], 0)
    assert ours.weight.grad.numpy()[3].any()  # repeated indices accumulate (checked against torch above)
    fresh = torch.nn.Embedding(10, 4, padding_idx=0).to(TORCH_DTYPE[np.dtype(dtype)])
    fresh.load_state_dict(fk_state_to_torch(ours))
    assert_close(ours(fk.tensor(idx)), fresh(torch.from_numpy(idx)), dtype, "ours -> torch")


def test_embedding_init_and_errors():
    fk.manual_seed(0)
    emb = nn.Embedding(2000, 50, padding_idx=-1)
    assert emb.padding_idx == 1999
    w = emb.weight.detach().numpy()
    np.testing.assert_array_equal(w[-1], 0)
    assert abs(w[:-1].mean()) < 0.01 and abs(w[:-1].std() - 1) < 0.01  # N(0, 1), 99,950 draws
    with pytest.raises(IndexError, match="out of range"):
        emb(fk.tensor([0, 2000]))
    with pytest.raises(IndexError, match="out of range"):
        emb(fk.tensor([-1]))
    with pytest.raises(TypeError, match="integer"):
        emb(fk.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(5, 2, padding_idx=5)
    table = fk.tensor([[1.0, 2.0], [3.0, 4.0]])
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(fk.tensor([1, 0])).detach().numpy(), [[3.0, 4.0], [1.0, 2.0]])


# ----------------------------------------------------------------------------- init, dtype, repr
def test_linear_default_init_is_torchs():
    """kaiming_uniform(a=√5) is U(−1/√in, 1/√in) (std 1/√(3·in)); the bias U(−1/√in, 1/√in)."""
    fk.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert abs(b.std() - bound / math.sqrt(3)) < 0.1 * bound
    assert w.dtype == np.float32
    assert nn.Linear(2, 3, dtype=fk.float64).weight.dtype == np.float64
    assert nn.Linear(3, 2, bias=False).bias is None
    empty = nn.Linear(0, 2)  # as torch: no weights to draw, the bias bound 1/√0 taken as 0
    assert empty.weight.shape == (2, 0) and empty.bias.tolist() == [0.0, 0.0]
    assert empty(fk.ones(3, 0)).tolist() == [[0.0, 0.0]] * 3


def test_constant_initialisations():
    assert nn.PReLU(3).weight.tolist() == [0.25] * 3
    bn = nn.BatchNorm1d(2)
    assert bn.weight.tolist() == [1, 1] and bn.bias.tolist() == [0, 0]
    assert bn.running_mean.tolist() == [0, 0] and bn.running_var.tolist() == [1, 1]
    assert bn.num_batches_tracked.item() == 0 and bn.num_batches_tracked.dtype == np.int64
    ln = nn.LayerNorm((2, 3))
    assert ln.weight.shape == (2, 3) and ln.weight.detach().numpy().all() and not ln.bias.detach().numpy().any()
    gn = nn.GroupNorm(2, 4)
    assert gn.weight.tolist() == [1] * 4 and gn.bias.tolist() == [0] * 4
    inorm = nn.InstanceNorm2d(3)  # PyTorch's defaults: no affine map, no running statistics
    assert inorm.weight is None and inorm.running_mean is None and not list(inorm.parameters())
    bn = nn.BatchNorm2d(2, dtype=fk.float64)
    assert bn.weight.dtype == np.float64 and bn.running_var.dtype == np.float64


REPRS = [
    lambda m: m.Linear(2, 3), lambda m: m.Linear(2, 3, bias=False), lambda m: m.Identity(), lambda m: m.Flatten(),
    lambda m: m.Unflatten(1, (2, 5)), lambda m: m.Sigmoid(), lambda m: m.Tanh(), lambda m: m.ReLU(),
    lambda m: m.ReLU(inplace=True), lambda m: m.LeakyReLU(0.2), lambda m: m.PReLU(4), lambda m: m.ELU(alpha=0.5),
    lambda m: m.SiLU(), lambda m: m.GELU("tanh"), lambda m: m.Softplus(2.0), lambda m: m.Softmax(dim=1),
    lambda m: m.LogSoftmax(dim=-1), lambda m: m.Dropout(0.25), lambda m: m.BatchNorm1d(3),
    lambda m: m.BatchNorm1d(3, momentum=None, affine=False),
    lambda m: m.BatchNorm1d(3, track_running_stats=False, bias=False),
    lambda m: m.LayerNorm(4), lambda m: m.LayerNorm((2, 3), elementwise_affine=False), lambda m: m.Embedding(10, 3),
    lambda m: m.Embedding(10, 3, padding_idx=-2),
    lambda m: m.BatchNorm2d(3), lambda m: m.BatchNorm3d(3, affine=False, momentum=None), lambda m: m.InstanceNorm1d(3),
    lambda m: m.InstanceNorm2d(3, affine=True, track_running_stats=True), lambda m: m.GroupNorm(2, 4),
    lambda m: m.GroupNorm(1, 3, affine=False), lambda m: m.LocalResponseNorm(5),
    lambda m: m.LocalResponseNorm(2, alpha=0.5, beta=0.5, k=2.0), lambda m: m.Dropout1d(0.2), lambda m: m.Dropout2d(),
    lambda m: m.Dropout3d(0.1, inplace=True), lambda m: m.PixelShuffle(3), lambda m: m.PixelUnshuffle(2),
    lambda m: m.Upsample(scale_factor=2), lambda m: m.Upsample(size=(3, 4), mode="bilinear"),
    lambda m: m.Upsample(scale_factor=(2, 3)), lambda m: m.UpsamplingNearest2d(scale_factor=2),
    lambda m: m.UpsamplingBilinear2d(size=5),
]


@pytest.mark.parametrize("i", range(len(REPRS)))
def test_repr_matches_torch(i):
    assert repr(REPRS[i](nn)) == repr(REPRS[i](torch.nn))


def test_state_dict_keys_match_torch():
    def build(m):
        return m.Sequential(m.Linear(4, 8), m.BatchNorm1d(8), m.PReLU(), m.LayerNorm(8), m.Embedding(5, 8),
                            m.Dropout(), m.Linear(8, 2, bias=False), m.Bilinear(2, 3, 4), m.EmbeddingBag(6, 2),
                            m.Bilinear(1, 1, 1, bias=False))

    assert list(build(nn).state_dict()) == list(build(torch.nn).state_dict())
    assert list(nn.Residual(nn.Linear(3, 3)).state_dict()) == ["fn.weight", "fn.bias"]


def test_state_dict_keys_match_torch_for_image_layers():
    def build(m):
        return m.Sequential(m.BatchNorm2d(3), m.BatchNorm3d(3, affine=False), m.InstanceNorm2d(3),
                            m.InstanceNorm1d(3, affine=True, track_running_stats=True), m.GroupNorm(1, 3),
                            m.GroupNorm(3, 3, bias=False), m.LocalResponseNorm(2), m.Dropout2d(), m.PixelShuffle(2),
                            m.Upsample(scale_factor=2), m.BatchNorm2d(3, track_running_stats=False))

    assert list(build(nn).state_dict()) == list(build(torch.nn).state_dict())
    assert [n for n, _ in build(nn).named_buffers()] == [n for n, _ in build(torch.nn).named_buffers()]


def test_sequential_repr_shows_parameter_counts():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.BatchNorm1d(3), nn.Linear(3, 1))
    text = repr(model)
    assert "Linear(in_features=2, out_features=3, bias=True)  # 9 params" in text
    assert ("BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
            "  # 6 params") in text
    assert "# 19 params in all" in text
    assert model.num_parameters() == 19


# ----------------------------------------------------------------------------- errors
def test_errors_name_layer_and_shapes():
    with pytest.raises(fk.ShapeError, match=r"linear: input of shape \(2, 4\).*\(3, 5\).*in_features = 5"):
        nn.Linear(5, 3)(fk.randn(2, 4))
    with pytest.raises(TypeError, match="dtype"):
        nn.Linear(5, 3)(fk.randn(2, 5, dtype=fk.float64))
    with pytest.raises(fk.ShapeError, match=r"layer_norm.*\(4,\).*\(2, 5\)"):
        nn.LayerNorm(4)(fk.randn(2, 5))
    with pytest.raises(fk.ShapeError, match=r"prelu.*\(3,\).*\(2, 4\)"):
        nn.PReLU(3)(fk.randn(2, 4))
    with pytest.raises(fk.ShapeError, match=r"Residual.*\(2, 3\).*\(2, 4\)"):
        nn.Residual(nn.Linear(3, 4))(fk.randn(2, 3))
    with pytest.raises(TypeError, match="Module"):
        nn.Residual(lambda x: x)
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(-1, 3)
    with pytest.raises(fk.DeviceError, match="Linear: device 'cuda' is not available"):
        nn.Linear(2, 3, device="cuda")
    assert nn.Linear(2, 3, device="cpu:0").weight.device == fk.device("cpu")
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")


# ----------------------------------------------------------------------------- residual
def test_residual_adds_identity_path_to_the_jacobian():
    """seed 000 §6.1.4: h⁽ˡ⁺¹⁾ = h⁽ˡ⁾ + F(h⁽ˡ⁾), so ∂h⁽ˡ⁺¹⁾/∂h⁽ˡ⁾ = I + ∂F/∂h."""
    fk.manual_seed(0)
    branch = nn.Sequential(nn.Linear(4, 4), nn.Tanh()).double()
    block = nn.Residual(branch)
    x = fk.randn(4, dtype=fk.float64)
    jac_block = fk.autograd.functional.jacobian(block, x).numpy()
    jac_branch = fk.autograd.functional.jacobian(branch, x).numpy()
    np.testing.assert_allclose(jac_block, np.eye(4) + jac_branch, rtol=1e-12, atol=1e-12)
