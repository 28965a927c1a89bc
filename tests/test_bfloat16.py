"""bfloat16 through fukaku's ops, against PyTorch 2.13 CPU: each op's output dtype is torch's (bfloat16 in,
bfloat16 out where torch keeps it) and its values agree within bfloat16's precision, and so do its gradients; a
small MLP, CNN, LSTM and transformer layer run forward and backward in bfloat16 with bfloat16 gradients close to
torch's. Long reductions check that sums are accumulated in float32, as torch's CPU kernels do.

bfloat16 arrays have NumPy kind 'V' (ml_dtypes), so every op's floating-point test must go through
``fukaku.dtypes.is_floating_point``; this sweep is what catches a ``kind == "f"`` check that misses it.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fukaku as fk
import fukaku.nn.functional as F

pytest.importorskip("ml_dtypes", reason="fukaku.bfloat16 arrays need the optional ml_dtypes package")

# bfloat16 keeps 8 significant bits (a relative step of 2**-8 ≈ 0.004); an op whose result is rounded once
# may differ from torch's by one step, and a few steps where torch rounds an intermediate (or does not)
RTOL = 2e-2


def _arrays(shapes, seed: int) -> list[np.ndarray]:
    """Standard-normal float32 arrays already rounded to bfloat16, so both libraries start from the same values."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(np.float32).astype(fk.bfloat16).astype(np.float32) for shape in shapes]


def _inputs(lib, arrays, requires_grad: bool = False):
    return [lib.tensor(a).to(lib.bfloat16).requires_grad_(requires_grad) for a in arrays]


def _dtype_name(t) -> str:
    return str(t.dtype).rsplit(".", 1)[-1]


def _assert_close(ours, theirs, what: str) -> None:
    assert _dtype_name(ours) == _dtype_name(theirs), f"{what}: fukaku gives {ours.dtype}, torch {theirs.dtype}"
    expected = theirs.detach().float().numpy() if theirs.is_floating_point() else theirs.detach().numpy()
    got = ours.detach().float().numpy() if ours.is_floating_point() else ours.detach().numpy()
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=RTOL * scale, err_msg=what)


def _targets(lib, n: int, classes: int):
    return lib.tensor(np.random.default_rng(7).integers(0, classes, n))


# name -> (fn(lib, *inputs), input shapes); each fn is called once with fukaku and once with torch
CASES = {
    # elementwise
    "add": (lambda lib, a, b: a + b, [(3, 5), (3, 5)]),
    "mul_scalar": (lambda lib, a: a * 2.5, [(3, 5)]),
    "div": (lambda lib, a, b: a / (b.abs() + 1), [(3, 5), (3, 5)]),
    "pow": (lambda lib, a: a.abs() ** 1.5, [(3, 5)]),
    "exp": (lambda lib, a: a.exp(), [(3, 5)]),
    "log": (lambda lib, a: (a.abs() + 0.1).log(), [(3, 5)]),
    "sqrt": (lambda lib, a: a.abs().sqrt(), [(3, 5)]),
    "rsqrt": (lambda lib, a: (a.abs() + 0.1).rsqrt(), [(3, 5)]),
    "reciprocal": (lambda lib, a: (a.abs() + 0.5).reciprocal(), [(3, 5)]),
    "sin": (lambda lib, a: a.sin(), [(3, 5)]),
    "erf": (lambda lib, a: lib.erf(a), [(3, 5)]),
    "clamp": (lambda lib, a: a.clamp(-0.5, 0.5), [(3, 5)]),
    "where": (lambda lib, a, b: lib.where(a > 0, a, b), [(3, 5), (3, 5)]),
    "lerp": (lambda lib, a, b: lib.lerp(a, b, 0.3), [(3, 5), (3, 5)]),
    "addcmul": (lambda lib, a, b: lib.addcmul(a, a, b, value=0.5), [(3, 5), (3, 5)]),
    "isclose": (lambda lib, a, b: lib.isclose(a, b, atol=1.0), [(3, 5), (3, 5)]),
    "nan_to_num": (lambda lib, a: lib.nan_to_num(lib.cat([a, lib.tensor([np.nan, np.inf, -np.inf]).to(a.dtype)])),
                   [(5,)]),
    # activations
    "relu": (lambda lib, a: lib.nn.functional.relu(a), [(3, 5)]),
    "sigmoid": (lambda lib, a: lib.sigmoid(a), [(3, 5)]),
    "tanh": (lambda lib, a: lib.tanh(a), [(3, 5)]),
    "gelu": (lambda lib, a: lib.nn.functional.gelu(a), [(3, 5)]),
    "gelu_tanh": (lambda lib, a: lib.nn.functional.gelu(a, approximate="tanh"), [(3, 5)]),
    "silu": (lambda lib, a: lib.nn.functional.silu(a), [(3, 5)]),
    "softplus": (lambda lib, a: lib.nn.functional.softplus(a), [(3, 5)]),
    "leaky_relu": (lambda lib, a: lib.nn.functional.leaky_relu(a, 0.1), [(3, 5)]),
    "elu": (lambda lib, a: lib.nn.functional.elu(a), [(3, 5)]),
    "mish": (lambda lib, a: lib.nn.functional.mish(a), [(3, 5)]),
    "hardswish": (lambda lib, a: lib.nn.functional.hardswish(a), [(3, 5)]),
    "softmax": (lambda lib, a: lib.nn.functional.softmax(a, -1), [(3, 5)]),
    "log_softmax": (lambda lib, a: lib.nn.functional.log_softmax(a, -1), [(3, 5)]),
    "softmax_to_float32": (lambda lib, a: lib.nn.functional.softmax(a, -1, dtype=lib.float32), [(3, 5)]),
    # reductions
    "sum": (lambda lib, a: a.sum(), [(40, 50)]),
    "sum_dim": (lambda lib, a: a.sum(1), [(4, 500)]),
    "mean": (lambda lib, a: a.mean(), [(40, 50)]),
    "mean_dim": (lambda lib, a: a.mean(0, keepdim=True), [(400, 5)]),
    "var": (lambda lib, a: a.var(1), [(4, 50)]),
    "std": (lambda lib, a: a.std(), [(4, 50)]),
    "var_mean": (lambda lib, a: lib.var_mean(a, 1)[0], [(4, 50)]),
    "prod": (lambda lib, a: (a.abs() + 0.5).prod(1), [(4, 6)]),
    "max": (lambda lib, a: a.max(), [(4, 6)]),
    "max_dim": (lambda lib, a: a.max(1).values, [(4, 6)]),
    "argmax": (lambda lib, a: a.argmax(1), [(4, 6)]),
    "amin": (lambda lib, a: a.amin(0), [(4, 6)]),
    "logsumexp": (lambda lib, a: lib.logsumexp(a, 1), [(4, 6)]),
    "cumsum": (lambda lib, a: a.cumsum(1), [(4, 6)]),
    "norm": (lambda lib, a: a.norm(), [(4, 6)]),
    "sort": (lambda lib, a: a.sort(1).values, [(4, 6)]),
    "topk": (lambda lib, a: a.topk(2).values, [(4, 6)]),
    # linear algebra
    "matmul": (lambda lib, a, b: a @ b, [(3, 8), (8, 4)]),
    "matmul_vector": (lambda lib, a, b: a @ b, [(3, 8), (8,)]),
    "bmm": (lambda lib, a, b: lib.bmm(a, b), [(2, 3, 8), (2, 8, 4)]),
    "linear": (lambda lib, a, w, b: lib.nn.functional.linear(a, w, b), [(3, 8), (4, 8), (4,)]),
    "einsum": (lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), [(3, 8), (8, 4)]),
    "outer": (lambda lib, a, b: lib.outer(a, b), [(3,), (4,)]),
    # convolution and pooling
    "conv1d": (lambda lib, a, w, b: lib.nn.functional.conv1d(a, w, b, padding=1), [(2, 3, 10), (4, 3, 3), (4,)]),
    "conv2d": (lambda lib, a, w, b: lib.nn.functional.conv2d(a, w, b, stride=2), [(2, 3, 9, 9), (4, 3, 3, 3), (4,)]),
    "conv_transpose2d": (lambda lib, a, w: lib.nn.functional.conv_transpose2d(a, w), [(2, 3, 5, 5), (3, 4, 3, 3)]),
    "max_pool1d": (lambda lib, a: lib.nn.functional.max_pool1d(a, 2), [(2, 3, 10)]),
    "max_pool2d": (lambda lib, a: lib.nn.functional.max_pool2d(a, 2), [(2, 3, 8, 8)]),
    "avg_pool2d": (lambda lib, a: lib.nn.functional.avg_pool2d(a, 2), [(2, 3, 8, 8)]),
    "adaptive_avg_pool2d": (lambda lib, a: lib.nn.functional.adaptive_avg_pool2d(a, 1), [(2, 3, 8, 8)]),
    "adaptive_max_pool2d": (lambda lib, a: lib.nn.functional.adaptive_max_pool2d(a, 3), [(2, 3, 8, 8)]),
    "interpolate_bilinear": (lambda lib, a: lib.nn.functional.interpolate(a, scale_factor=2, mode="bilinear"),
                             [(1, 2, 4, 4)]),
    # normalisations
    "layer_norm": (lambda lib, a, w, b: lib.nn.functional.layer_norm(a, (6,), w, b), [(4, 6), (6,), (6,)]),
    "batch_norm_train": (lambda lib, a, w, b: lib.nn.functional.batch_norm(a, None, None, w, b, training=True),
                         [(8, 3, 4), (3,), (3,)]),
    "group_norm": (lambda lib, a: lib.nn.functional.group_norm(a, 2), [(2, 4, 5)]),
    "normalize": (lambda lib, a: lib.nn.functional.normalize(a, dim=1), [(4, 6)]),
    # losses
    "mse_loss": (lambda lib, a, b: lib.nn.functional.mse_loss(a, b), [(4, 6), (4, 6)]),
    "l1_loss": (lambda lib, a, b: lib.nn.functional.l1_loss(a, b), [(4, 6), (4, 6)]),
    "smooth_l1_loss": (lambda lib, a, b: lib.nn.functional.smooth_l1_loss(a, b), [(4, 6), (4, 6)]),
    "huber_loss": (lambda lib, a, b: lib.nn.functional.huber_loss(a, b), [(4, 6), (4, 6)]),
    "bce_with_logits": (lambda lib, a, b: lib.nn.functional.binary_cross_entropy_with_logits(a, b.sigmoid()),
                        [(4, 6), (4, 6)]),
    "bce": (lambda lib, a, b: lib.nn.functional.binary_cross_entropy(a.sigmoid(), b.sigmoid()), [(4, 6), (4, 6)]),
    "kl_div": (lambda lib, a, b: lib.nn.functional.kl_div(a.log_softmax(1), b.softmax(1), reduction="batchmean"),
               [(4, 6), (4, 6)]),
    # more than 256 targets: a count summed in bfloat16 stops at 256 (257 rounds to 256)
    "nll_loss_300": (lambda lib, a: lib.nn.functional.nll_loss(a.log_softmax(1), _targets(lib, 300, 5)), [(300, 5)]),
    "nll_loss_300_ignore": (lambda lib, a: lib.nn.functional.nll_loss(a.log_softmax(1), _targets(lib, 300, 5),
                                                                        ignore_index=0), [(300, 5)]),
    "nll_loss_300_weighted": (lambda lib, a, w: lib.nn.functional.nll_loss(a.log_softmax(1), _targets(lib, 300, 5),
                                                                         weight=w.abs() + 0.5), [(300, 5), (5,)]),
    "cross_entropy_300": (lambda lib, a: lib.nn.functional.cross_entropy(a, _targets(lib, 300, 5)), [(300, 5)]),
    "cross_entropy_smoothing": (lambda lib, a: lib.nn.functional.cross_entropy(a, _targets(lib, 300, 5),
                                                                             label_smoothing=0.1), [(300, 5)]),
    # embedding, dropout in eval, attention, shape ops
    "embedding": (lambda lib, w: lib.nn.functional.embedding(lib.tensor([[0, 2], [3, 1]]), w), [(4, 6)]),
    "dropout_eval": (lambda lib, a: lib.nn.functional.dropout(a, 0.5, training=False), [(4, 6)]),
    "attention": (lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True),
                  [(2, 4, 5, 8), (2, 4, 5, 8), (2, 4, 5, 8)]),
    "cat": (lambda lib, a, b: lib.cat([a, b], 1), [(3, 4), (3, 2)]),
    "transpose_reshape": (lambda lib, a: a.transpose(0, 1).reshape(-1), [(3, 4)]),
    "cosine_similarity": (lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b), [(4, 6), (4, 6)]),
    # long reductions of positive terms: summed in bfloat16 a running total stalls past 256 (its step there is 2)
    "sum_long": (lambda lib, a: (a.abs() + 1).sum(), [(600,)]),
    "mean_long": (lambda lib, a: (a.abs() + 1).mean(), [(600,)]),
    "cumsum_long": (lambda lib, a: (a.abs() + 1).cumsum(0), [(600,)]),
    "logsumexp_long": (lambda lib, a: lib.logsumexp(a, 0), [(600,)]),
    "log_softmax_long": (lambda lib, a: lib.nn.functional.log_softmax(a, 0), [(600,)]),
    "norm_long": (lambda lib, a: a.norm(), [(600,)]),
    "avg_pool_long": (lambda lib, a: lib.nn.functional.adaptive_avg_pool1d((a.abs() + 1).reshape(1, 1, 600), 1),
                      [(600,)]),
    "layer_norm_long": (lambda lib, a: lib.nn.functional.layer_norm(a.abs(), (600,)), [(2, 600)]),
    "matmul_long": (lambda lib, a, b: (a.abs() + 1) @ (b.abs() + 1), [(2, 600), (600, 2)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_op_keeps_torchs_dtype_and_values(name):
    fn, shapes = CASES[name]
    arrays = _arrays(shapes, seed=sorted(CASES).index(name))
    _assert_close(fn(fk, *_inputs(fk, arrays)), fn(torch, *_inputs(torch, arrays)), name)


# every case with a gradient: each op's backward runs its own formula on the bfloat16 gradient
# nan_to_num's inputs hold infinities; nll_loss refuses a class weight that requires grad, as torch
NOT_DIFFERENTIABLE = {"argmax", "isclose", "nan_to_num", "nll_loss_300_weighted"}
GRADIENT_CASES = [name for name in CASES if name not in NOT_DIFFERENTIABLE]


@pytest.mark.parametrize("name", GRADIENT_CASES)
def test_op_gradient_is_bfloat16_and_matches_torch(name):
    fn, shapes = CASES[name]
    arrays = _arrays(shapes, seed=sorted(CASES).index(name))
    ours, theirs = _inputs(fk, arrays, requires_grad=True), _inputs(torch, arrays, requires_grad=True)
    # a fixed, uneven weighting of the output, so every output element's gradient matters
    out_ours, out_theirs = fn(fk, *ours), fn(torch, *theirs)
    weights = _arrays([tuple(out_theirs.shape)], seed=99)[0]
    (out_ours * _inputs(fk, [weights])[0]).sum().backward()
    (out_theirs * _inputs(torch, [weights])[0]).sum().backward()
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        _assert_close(a.grad, b.grad, f"{name}: gradient of input {i}")


def _mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(10, 16), lib.nn.GELU(), lib.nn.LayerNorm(16), lib.nn.Linear(16, 3))


def _cnn(lib):
    return lib.nn.Sequential(lib.nn.Conv2d(2, 4, 3, padding=1), lib.nn.BatchNorm2d(4), lib.nn.ReLU(),
                             lib.nn.MaxPool2d(2), lib.nn.Flatten(), lib.nn.Dropout(0.0), lib.nn.Linear(4 * 4 * 4, 3))


def _sequence_classifier(lib, body: str):
    """An LSTM or a transformer encoder layer over (N, L, 8), read out by a linear layer into 3 classes."""

    class Classifier(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = (lib.nn.LSTM(8, 8, batch_first=True) if body == "lstm" else
                         lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True))
            self.head = lib.nn.Linear(8, 3)

        def forward(self, x):
            h = self.body(x)
            return self.head(h[0][:, -1] if body == "lstm" else h.mean(1))

    return Classifier()


@pytest.mark.parametrize(("build", "input_shape"), [
    (_mlp, (300, 10)), (_cnn, (6, 2, 8, 8)), (lambda lib: _sequence_classifier(lib, "lstm"), (4, 5, 8)),
    (lambda lib: _sequence_classifier(lib, "transformer"), (4, 5, 8))], ids=["mlp", "cnn", "lstm", "transformer"])
def test_model_trains_in_bfloat16_like_torch(build, input_shape):
    torch.manual_seed(0)
    theirs = build(torch).to(torch.bfloat16)
    ours = build(fk)
    ours.load_state_dict({k: fk.tensor(v.float().numpy()) for k, v in theirs.state_dict().items()})
    ours = ours.to(fk.bfloat16)
    x = _arrays([input_shape], seed=1)[0]
    target = np.random.default_rng(2).integers(0, 3, input_shape[0])
    loss_ours = F.cross_entropy(ours(_inputs(fk, [x])[0]), fk.tensor(target))
    loss_theirs = torch.nn.functional.cross_entropy(theirs(_inputs(torch, [x])[0]), torch.tensor(target))
    _assert_close(loss_ours, loss_theirs, "loss")
    loss_ours.backward()
    loss_theirs.backward()
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters(), strict=True):
        assert p.dtype is fk.bfloat16, name
        _assert_close(p.grad, q.grad, f"gradient of {name}")
    # and an optimizer takes bfloat16 parameters, as torch's does
    fk.optim.SGD(ours.parameters(), lr=0.5, momentum=0.9).step()
    torch.optim.SGD(theirs.parameters(), lr=0.5, momentum=0.9).step()
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters(), strict=True):
        assert p.dtype is fk.bfloat16, name
        _assert_close(p, q, f"{name} after a step")


def test_anomaly_mode_and_forward_mode_take_bfloat16():
    x = fk.tensor([0.0, 1.0], dtype=fk.bfloat16, requires_grad=True)
    with fk.autograd.detect_anomaly(), pytest.raises(RuntimeError, match="nan"), np.errstate(all="ignore"):
        (x / 0 * 0).sum().backward()
    import fukaku.autograd.forward_ad as fwAD
    with fwAD.dual_level():
        dual = fwAD.make_dual(fk.ones(2, dtype=fk.bfloat16), fk.full((2,), 3.0, dtype=fk.bfloat16))
        tangent = fwAD.unpack_dual(dual * 2).tangent
    assert tangent.dtype is fk.bfloat16 and tangent.float().tolist() == [6.0, 6.0]


def test_broadcast_gradient_is_summed_in_float32():
    # the gradient of a broadcast operand sums over the broadcast dims: 600 ones give 600, not bfloat16's stalled 256
    for lib in (fk, torch):
        bias = lib.zeros(3).to(lib.bfloat16).requires_grad_(True)
        (lib.ones(600, 3).to(lib.bfloat16) + bias).sum().backward()
        assert bias.grad.dtype == lib.bfloat16
        assert bias.grad.float().tolist() == [600.0] * 3, lib.__name__
