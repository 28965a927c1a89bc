"""fukaku.autocast against torch.autocast("cpu"): the region's state, each autocast op's output dtype and
values, gradients in the parameters' own dtype (float32 master weights), the cast cache, threads."""
from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest
import torch

import fukaku as fk
import fukaku.nn.functional as F
from fukaku.amp.autocast_mode import LOWER, policy_of
from fukaku.autograd import Function
from fukaku.ops.linalg import MatMul
from fukaku.ops.linear import Affine

LOW_DTYPES = ["float16", "bfloat16"]  # CPU autocast supports both (bfloat16 is its default)
# one rounding to the low dtype of each input and of the result: a few ulps of the low dtype, relative
TOLERANCE = {"float16": 4e-3, "bfloat16": 3e-2}


def _pair(*shape, seed=0):
    """The same standard-normal float32 array as a fukaku and a torch tensor that require grad."""
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return fk.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _dtype(t: torch.Tensor) -> str:
    return str(t.dtype).removeprefix("torch.")


def _close(ours: fk.Tensor, theirs: torch.Tensor, low: str) -> None:
    assert str(ours.dtype).removeprefix("fukaku.") == _dtype(theirs)
    expected = theirs.detach().float().numpy()
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(ours.detach().float().numpy(), expected, atol=TOLERANCE[low] * scale, rtol=0)


# ---------------------------------------------------------------------------------------------- the region
def test_defaults_and_state_follow_torch():
    assert fk.get_autocast_dtype("cpu") is fk.bfloat16 and torch.get_autocast_dtype("cpu") == torch.bfloat16
    assert fk.get_autocast_dtype("cuda") is fk.float16 and torch.get_autocast_dtype("cuda") == torch.float16
    assert not fk.is_autocast_enabled("cpu")
    with fk.autocast("cpu"):
        assert fk.is_autocast_enabled("cpu") and not fk.is_autocast_enabled("cuda")
        with fk.autocast("cpu", enabled=False):
            assert not fk.is_autocast_enabled("cpu")
        with fk.autocast("cpu", dtype=fk.float16):
            assert fk.get_autocast_dtype("cpu") is fk.float16
        assert fk.is_autocast_enabled("cpu") and fk.get_autocast_dtype("cpu") is fk.bfloat16
    assert not fk.is_autocast_enabled("cpu") and Function._autocast is None  # the hook is gone again
    assert fk.amp.autocast is fk.autocast and fk.amp.is_autocast_available("cpu")


def test_enabled_false_region_runs_in_float32():
    x, w = fk.randn(3, 4), fk.randn(5, 4)
    with fk.autocast("cpu"):
        assert F.linear(x, w).dtype is fk.bfloat16
        with fk.autocast("cpu", enabled=False):
            assert F.linear(x, w).dtype is fk.float32


def test_decorator_opens_a_region_per_call():
    @fk.autocast("cpu", dtype=fk.float16)
    def project(x, w):
        assert fk.is_autocast_enabled("cpu")
        return x @ w

    assert project(fk.randn(2, 3), fk.randn(3, 4)).dtype is fk.float16
    assert not fk.is_autocast_enabled("cpu")


def test_region_is_per_thread():
    seen = {}

    def other():
        seen["enabled"] = fk.is_autocast_enabled("cpu")
        seen["dtype"] = (fk.randn(2, 3) @ fk.randn(3, 2)).dtype

    with fk.autocast("cpu"):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert seen == {"enabled": False, "dtype": fk.float32}


def test_unsupported_requests_warn_or_raise_as_torch():
    with pytest.warns(UserWarning, match="CPU autocast supports"):
        region = fk.autocast("cpu", dtype=fk.float64)
    with region:
        assert not fk.is_autocast_enabled("cpu")
    with pytest.warns(UserWarning, match="CUDA is not available"):
        region = fk.autocast("cuda")
    with region:
        assert not fk.is_autocast_enabled("cuda")
    with pytest.raises(RuntimeError, match="unsupported autocast device_type 'tpu'"):
        fk.autocast("tpu")
    with pytest.raises(ValueError, match="device_type of type str"):
        fk.autocast(fk.device("cpu"))


def test_a_failing_region_restores_the_state():
    with pytest.raises(ZeroDivisionError), fk.autocast("cpu"):
        raise ZeroDivisionError
    assert not fk.is_autocast_enabled("cpu") and Function._autocast is None


# ---------------------------------------------------------------------------------------------- op policies
# (name, fukaku call, torch call, input shapes): ops of CPU autocast's lower-precision list
LOWER_OPS = [
    ("linear", lambda m, x, w, b: m.nn.functional.linear(x, w, b), [(6, 8), (5, 8), (5,)]),
    ("matmul", lambda m, a, b: a @ b, [(3, 6, 8), (8, 4)]),
    ("mm", lambda m, a, b: m.mm(a, b), [(6, 8), (8, 4)]),
    ("bmm", lambda m, a, b: m.bmm(a, b), [(3, 6, 8), (3, 8, 4)]),
    ("conv1d", lambda m, x, w, b: m.nn.functional.conv1d(x, w, b, padding=1), [(2, 3, 9), (4, 3, 3), (4,)]),
    ("conv2d", lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, stride=2), [(2, 3, 7, 7), (4, 3, 3, 3), (4,)]),
    ("conv_transpose2d", lambda m, x, w: m.nn.functional.conv_transpose2d(x, w, stride=2), [(2, 4, 5, 5), (4, 3, 3, 3)]),
    ("sdpa", lambda m, q, k, v: m.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True),
     [(2, 2, 5, 8), (2, 2, 5, 8), (2, 2, 5, 8)]),
    ("einsum", lambda m, a, b: m.einsum("bij,bjk->bik", a, b), [(2, 3, 4), (2, 4, 5)]),
]


@pytest.mark.parametrize("low", LOW_DTYPES)
@pytest.mark.parametrize("name,call,shapes", LOWER_OPS, ids=[op[0] for op in LOWER_OPS])
def test_lower_precision_ops_match_torch(name, call, shapes, low):
    pairs = [_pair(*s, seed=i) for i, s in enumerate(shapes)]
    with fk.autocast("cpu", dtype=getattr(fk, low)):
        ours = call(fk, *[p[0] for p in pairs])
    with torch.autocast("cpu", dtype=getattr(torch, low)):
        theirs = call(torch, *[p[1] for p in pairs])
    _close(ours, theirs, low)
    # gradients flow back through the casts to the float32 inputs, in float32, as torch's
    ours.float().square().sum().backward()
    theirs.float().square().sum().backward()
    for (a, b) in pairs:
        assert a.grad.dtype is fk.float32
        _close(a.grad, b.grad, low)


@pytest.mark.parametrize("low", ["bfloat16"])  # torch's CPU LSTM (oneDNN) has no float16 kernel to compare with
def test_lstm_runs_in_the_low_dtype(low):
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(4, 3, batch_first=True)
    ours = fk.nn.LSTM(4, 3, batch_first=True)
    ours.load_state_dict({k: fk.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((2, 5, 4)).astype(np.float32)
    with fk.autocast("cpu", dtype=getattr(fk, low)):
        out = ours(fk.tensor(x))[0]
    with torch.autocast("cpu", dtype=getattr(torch, low)):
        expected = theirs(torch.tensor(x))[0]
    _close(out, expected, low)


def test_float32_list_casts_half_inputs_up():
    logits, target = _pair(6, 5)[0].half(), fk.tensor([0, 1, 2, 3, 4, 0])
    with fk.autocast("cpu"):
        loss = F.cross_entropy(logits, target)
        product = fk.prod(fk.rand(4).half())
    with torch.autocast("cpu"):
        expected = torch.nn.functional.cross_entropy(torch.tensor(logits.detach().numpy()),
                                                     torch.tensor(target.numpy()))
        expected_product = torch.prod(torch.rand(4).half())
    assert loss.dtype is fk.float32 and expected.dtype == torch.float32
    assert product.dtype is fk.float32 and expected_product.dtype == torch.float32
    # F.cross_entropy derives its 1/N mean factor in the input's dtype before the (float32) node: one float16 rounding
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=float(np.finfo(np.float16).eps))


@pytest.mark.parametrize("low", LOW_DTYPES)
def test_cat_promotes_to_the_widest_input(low):
    a, b = fk.randn(3).to(getattr(fk, low)), fk.randn(2)
    with fk.autocast("cpu", dtype=getattr(fk, low)):
        assert fk.cat([a, b]).dtype is fk.float32
        assert fk.cat([a, a]).dtype is getattr(fk, low)
    with torch.autocast("cpu", dtype=getattr(torch, low)):
        assert torch.cat([torch.randn(3).to(getattr(torch, low)), torch.randn(2)]).dtype == torch.float32


def test_ops_off_the_lists_and_ineligible_inputs_are_left_alone():
    with fk.autocast("cpu"):
        assert fk.dot(fk.randn(3), fk.randn(3)).dtype is fk.float32      # dot, mv: not autocast on the CPU
        assert fk.mv(fk.randn(2, 3), fk.randn(3)).dtype is fk.float32
        assert (fk.randn(3) * 2).exp().dtype is fk.float32
        x64 = fk.randn(2, 3, dtype=fk.float64)
        assert F.linear(x64, fk.randn(4, 3, dtype=fk.float64)).dtype is fk.float64  # float64 is never cast
        assert (fk.arange(6).reshape(2, 3) @ fk.arange(6).reshape(3, 2)).dtype is fk.int64
    with torch.autocast("cpu"):
        assert torch.dot(torch.randn(3), torch.randn(3)).dtype == torch.float32
        assert torch.nn.functional.linear(torch.randn(2, 3, dtype=torch.float64),
                                          torch.randn(4, 3, dtype=torch.float64)).dtype == torch.float64


def test_policy_table_answers_per_device():
    assert policy_of(Affine, "cpu") == LOWER and policy_of(Affine, "cuda") == LOWER
    assert policy_of(MatMul, "cpu", op="dot") is None and policy_of(MatMul, "cuda", op="dot") == "promote"
    from fukaku.ops.activation import NormalizedExp
    from fukaku.ops.loss import BinaryCrossEntropy
    assert policy_of(NormalizedExp, "cpu") is None and policy_of(NormalizedExp, "cuda") == "fp32"
    assert policy_of(BinaryCrossEntropy, "cpu") == "fp32" and policy_of(BinaryCrossEntropy, "cuda") == "banned"


# ---------------------------------------------------------------------------------------------- master weights
@pytest.mark.parametrize("low", LOW_DTYPES)
def test_parameters_keep_float32_and_get_float32_gradients(low):
    torch.manual_seed(0)
    theirs = torch.nn.Linear(8, 5)
    ours = fk.nn.Linear(8, 5)
    ours.load_state_dict({k: fk.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32)
    target = np.array([0, 1, 2, 3])
    with fk.autocast("cpu", dtype=getattr(fk, low)):
        loss = F.cross_entropy(ours(fk.tensor(x)).float(), fk.tensor(target))
    with torch.autocast("cpu", dtype=getattr(torch, low)):
        expected = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(target))
    loss.backward()
    expected.backward()
    assert ours.weight.dtype is fk.float32
    for name in ("weight", "bias"):
        _close(getattr(ours, name).grad, getattr(theirs, name).grad, low)


def test_a_parameters_cast_is_cached_within_the_region_and_follows_in_place_updates():
    w = fk.randn(4, 3, requires_grad=True)
    x = fk.randn(2, 3)
    with fk.autocast("cpu"):
        first, second = F.linear(x, w), F.linear(x, w)
        assert first.grad_fn.next_functions[0].next_functions[1].rounded is \
            second.grad_fn.next_functions[0].next_functions[1].rounded  # one cast array, a node per use
        with fk.no_grad():
            w.mul_(2.0)
        third = F.linear(x, w)  # the in-place update makes a new cast
        np.testing.assert_allclose(third.detach().float().numpy(), 2 * first.detach().float().numpy(), rtol=1e-2)
    (first.float().sum() + second.float().sum()).backward()
    # the gradient is rounded to bfloat16 before its cast back to float32, as in torch: a bfloat16 tolerance
    np.testing.assert_allclose(w.grad.numpy(), 2 * np.broadcast_to(x.numpy().sum(0), (4, 3)),
                               rtol=TOLERANCE["bfloat16"], atol=TOLERANCE["bfloat16"])
    with fk.autocast("cpu", cache_enabled=False):
        a, b = F.linear(x, w), F.linear(x, w)
        cast_a, cast_b = (out.grad_fn.next_functions[0].next_functions[1] for out in (a, b))
        assert type(cast_a).__name__ == type(cast_b).__name__ == "Cast" and cast_a is not cast_b  # no cache


def test_bad_input_inside_a_region_leaves_it_usable():
    with fk.autocast("cpu"):
        with pytest.raises(fk.ShapeError):
            fk.randn(2, 3) @ fk.randn(4, 5)
        assert (fk.randn(2, 3) @ fk.randn(3, 5)).dtype is fk.bfloat16


def test_backward_inside_the_region_still_gives_float32_gradients():
    w = fk.randn(4, 3, requires_grad=True)
    with fk.autocast("cpu"), warnings.catch_warnings():
        warnings.simplefilter("error")
        F.linear(fk.randn(2, 3), w).float().sum().backward()
    assert w.grad.dtype is fk.float32


# ---------------------------------------------------------------------------------------------- a model
def _chain(lib, layers, x, target):
    """Conv → ReLU → max-pool → Linear → LayerNorm → attention → Linear → cross-entropy, every
    intermediate kept."""
    conv, first, norm, last = layers
    F_ = lib.nn.functional
    seen = {}
    seen["conv"] = h = conv(x)
    seen["relu"] = h = F_.relu(h)
    seen["pool"] = h = F_.max_pool2d(h, 2)
    seen["linear"] = h = first(h.flatten(1))
    seen["layer_norm"] = h = norm(h)
    q = h.reshape(h.shape[0], 2, 4, 4)
    seen["attention"] = h = F_.scaled_dot_product_attention(q, q, q, is_causal=True)
    seen["logits"] = h = last(h.flatten(1))
    seen["loss"] = F_.cross_entropy(h, target)
    return seen


def _layers(lib):
    return (lib.nn.Conv2d(3, 4, 3), lib.nn.Linear(36, 32), lib.nn.LayerNorm(32), lib.nn.Linear(32, 5))


@pytest.mark.parametrize("low", LOW_DTYPES)
def test_a_model_under_autocast_matches_torch_dtype_by_dtype(low):
    torch.manual_seed(0)
    theirs = _layers(torch)
    ours = _layers(fk)
    for a, b in zip(ours, theirs, strict=True):
        a.load_state_dict({k: fk.tensor(v.detach().numpy()) for k, v in b.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    target = np.array([1, 3])
    with fk.autocast("cpu", dtype=getattr(fk, low)):
        got = _chain(fk, ours, fk.tensor(x), fk.tensor(target))
    with torch.autocast("cpu", dtype=getattr(torch, low)):
        expected = _chain(torch, theirs, torch.tensor(x), torch.tensor(target))
    for name in expected:
        _close(got[name], expected[name], low)
    got["loss"].backward()
    expected["loss"].backward()
    for a, b in zip(ours, theirs, strict=True):
        for (name, p), q in zip(a.named_parameters(), b.parameters(), strict=True):
            assert p.grad.dtype is fk.float32, name
            _close(p.grad, q.grad, low)


@pytest.mark.parametrize("low", LOW_DTYPES)
def test_ops_off_the_lists_keep_the_low_dtype(low):
    x = fk.randn(3, 4).to(getattr(fk, low))
    with fk.autocast("cpu", dtype=getattr(fk, low)):
        outputs = {"softmax": F.softmax(x, -1), "gelu": F.gelu(x), "exp": x.exp()}
    with torch.autocast("cpu", dtype=getattr(torch, low)):
        t = torch.tensor(x.float().numpy()).to(getattr(torch, low))
        expected = {"softmax": torch.softmax(t, -1), "gelu": torch.nn.functional.gelu(t), "exp": t.exp()}
    for name in expected:
        _close(outputs[name], expected[name], low)
