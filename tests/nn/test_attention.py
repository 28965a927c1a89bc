"""Multi-head attention (fukaku/nn/functional/attention.py, nn.MultiheadAttention in fukaku/nn/modules/activation.py)
against PyTorch with identical weights: the function ``F.multi_head_attention_forward`` with the weights as
differentiated inputs (forward, backward, jvp, second order) over every option — packed and separate projections,
bias_k/bias_v, add_zero_attn, key_padding_mask and attn_mask (bool and float, 2-d and 3-d), need_weights with and
without averaging, is_causal, unbatched inputs — and the module: state-dict keys and classes as torch's, torch's
state dict loaded, batch_first, parameter gradients, dropout, errors."""
from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

import fukaku as fk
import fukaku.nn.functional as F
from conformance import FLOATS, TORCH_DTYPE, assert_close, check, layer_twins, randn

TF = torch.nn.functional
L, S, N, E, H = 4, 5, 2, 6, 3


def compare_modules(ours, theirs, arrays, dtype, call=None, seed=3):
    """Run the twin modules on ``arrays`` (each a differentiated input) and compare every output, then the
    gradients of a random weighting of the floating outputs with respect to the inputs and every parameter.
    ``call(module, lib, *tensors)`` runs one (default: ``module(*tensors)``)."""
    call = call or (lambda m, lib, *xs: m(*xs))
    leaves = {lib: [lib.tensor(a.astype(dtype), requires_grad=True) for a in arrays] for lib in (fk, torch)}
    outs = {}
    for lib, m in ((fk, ours), (torch, theirs)):
        out = call(m, lib, *leaves[lib])
        outs[lib] = [o for o in (out if isinstance(out, tuple) else (out,)) if o is not None]
    assert len(outs[fk]) == len(outs[torch])
    for i, (a, b) in enumerate(zip(outs[fk], outs[torch])):
        assert_close(a, b, dtype, f"output {i}")
    rng = np.random.default_rng(seed)
    ws = [randn(tuple(o.shape), seed=rng).astype(dtype) for o in outs[torch]]
    for lib in (fk, torch):
        sum(((o * lib.tensor(w)).sum() for o, w in zip(outs[lib], ws)), lib.tensor(0.0, dtype=TORCH_DTYPE[
            np.dtype(dtype)] if lib is torch else dtype)).backward()
    for i, (a, b) in enumerate(zip(leaves[fk], leaves[torch])):
        assert_close(a.grad, b.grad, dtype, f"gradient of input {i}")
    named = dict(ours.named_parameters())
    assert sorted(named) == sorted(n for n, _ in theirs.named_parameters())
    for name, p in theirs.named_parameters():
        assert_close(named[name].grad, p.grad, dtype, f"gradient of {name}")


# ----------------------------------------------------------------------------- the function
def _math_kernel(lib):
    """For torch, its reference (math) attention kernel, which has forward-mode AD (the CPU flash kernel has
    none); nothing for fukaku."""
    return sdpa_kernel(SDPBackend.MATH) if lib is torch else contextlib.nullcontext()


def _weights(separate=False, bias=True, bias_kv=False, kdim=E, vdim=E, seed=10):
    """The parameters of the function as arrays, in the order of :func:`_mha`'s ``params``."""
    w = {}
    if separate:
        w["q_proj_weight"], w["k_proj_weight"] = randn(E, E, seed=seed), randn(E, kdim, seed=seed + 1)
        w["v_proj_weight"] = randn(E, vdim, seed=seed + 2)
    else:
        w["in_proj_weight"] = randn(3 * E, E, seed=seed)
    if bias:
        w["in_proj_bias"], w["out_proj_bias"] = randn(3 * E, seed=seed + 3), randn(E, seed=seed + 4)
    if bias_kv:
        w["bias_k"], w["bias_v"] = randn(1, 1, E, seed=seed + 5), randn(1, 1, E, seed=seed + 6)
    w["out_proj_weight"] = randn(E, E, seed=seed + 7) * 0.5
    return w


def _mha(lib, names, self_attention=False, masks=(), add_zero_attn=False, **kw):
    """``(query, key, value, *weights) -> (output, weights or nothing)`` in ``lib``; ``masks`` are fixed tensors
    (name, array) passed by keyword."""
    f = F.multi_head_attention_forward if lib is fk else TF.multi_head_attention_forward

    def run(*args):
        n = 1 if self_attention else 3
        p = dict(zip(names, args[n:]))
        q, k, v = args[:1] * 3 if self_attention else args[:3]
        with _math_kernel(lib):
            out, w = f(q, k, v, E, H, p.get("in_proj_weight"), p.get("in_proj_bias"), p.get("bias_k"), p.get("bias_v"),
                       add_zero_attn, 0.0, p["out_proj_weight"], p.get("out_proj_bias"),
                       use_separate_proj_weight="q_proj_weight" in p, q_proj_weight=p.get("q_proj_weight"),
                       k_proj_weight=p.get("k_proj_weight"), v_proj_weight=p.get("v_proj_weight"),
                       **{name: lib.tensor(m) for name, m in masks}, **kw)
        return out if w is None else (out, w)
    return run


def _check_mha(dtype=np.float64, weights=None, shapes=((L, N, E), (S, N, E), (S, N, E)), second=None, **kw):
    weights = weights or _weights()
    names = list(weights)
    inputs = [randn(s, seed=i) for i, s in enumerate(shapes)] + list(weights.values())
    check(_mha(fk, names, **kw), _mha(torch, names, **kw), inputs, dtype,
          second=(dtype == np.float64) if second is None else second)


def _bool(shape, seed, p=0.3):
    m = np.random.default_rng(seed).random(shape) < p
    m[..., 0] = False  # every query keeps a key
    return m


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("need_weights", [True, False])
def test_function_matches_torch(need_weights, dtype):
    _check_mha(dtype, need_weights=need_weights)


@pytest.mark.parametrize("need_weights", [True, False])
def test_self_attention_packed_projection(need_weights):
    _check_mha(shapes=((L, N, E),), self_attention=True, need_weights=need_weights, average_attn_weights=False)


@pytest.mark.parametrize("kind", ["bool", "float"])
@pytest.mark.parametrize("need_weights", [True, False])
def test_masks_match_torch(kind, need_weights):
    kpm, am2, am3 = _bool((N, S), 1), _bool((L, S), 2), _bool((N * H, L, S), 3)
    if kind == "float":
        kpm, am2, am3 = (np.where(m, -np.inf, randn(m.shape, seed=4)) for m in (kpm, am2, am3))
    for masks in ([("key_padding_mask", kpm)], [("attn_mask", am2)], [("attn_mask", am3)],
                  [("key_padding_mask", kpm), ("attn_mask", am2)], [("key_padding_mask", kpm), ("attn_mask", am3)]):
        _check_mha(masks=masks, need_weights=need_weights, second=False)


@pytest.mark.parametrize("need_weights", [True, False])
def test_separate_projections_bias_kv_and_zero_attention(need_weights):
    masks = [("key_padding_mask", _bool((N, S), 1)), ("attn_mask", _bool((L, S), 2))]
    _check_mha(weights=_weights(separate=True, bias_kv=True, kdim=4, vdim=3),
               shapes=((L, N, E), (S, N, 4), (S, N, 3)), masks=masks, add_zero_attn=True, need_weights=need_weights)
    _check_mha(weights=_weights(bias=False), add_zero_attn=True, need_weights=need_weights, second=False)


@pytest.mark.parametrize("need_weights", [True, False])
def test_causal_hint_with_its_mask(need_weights):
    causal = np.triu(np.ones((L, L), bool), 1)
    _check_mha(shapes=((L, N, E),), self_attention=True, masks=[("attn_mask", causal)], is_causal=True,
               need_weights=need_weights, second=False)


def test_unbatched_inputs():
    _check_mha(shapes=((L, E), (S, E), (S, E)), masks=[("key_padding_mask", _bool((S,), 1)),
                                                       ("attn_mask", _bool((H, L, S), 2))])


def test_rows_masked_throughout_as_torch():
    # torch: NaN with need_weights (a plain softmax), zeros without (the sdpa path)
    mask = np.zeros((L, S), bool)
    mask[1] = True
    w = _weights()
    x = [randn(s, seed=i) for i, s in enumerate(((L, N, E), (S, N, E), (S, N, E)))]
    for need_weights in (True, False):
        a = _mha(fk, list(w), masks=[("attn_mask", mask)], need_weights=need_weights)(
            *(fk.tensor(t) for t in x + list(w.values())))
        b = _mha(torch, list(w), masks=[("attn_mask", mask)], need_weights=need_weights)(
            *(torch.tensor(t) for t in x + list(w.values())))
        for u, t in zip(a if need_weights else [a], b if need_weights else [b]):
            assert_close(u, t, np.float64)


# ----------------------------------------------------------------------------- the module
CONFIGS = [dict(), dict(batch_first=True), dict(add_bias_kv=True, add_zero_attn=True), dict(kdim=4, vdim=3),
           dict(bias=False, batch_first=True), dict(kdim=4, vdim=3, add_bias_kv=True, batch_first=True)]


@pytest.mark.parametrize("kw", CONFIGS, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()) or "default")
def test_module_state_dict_and_classes_are_torchs(kw):
    ours, theirs = layer_twins("MultiheadAttention", (E, H), kw, np.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "bias_k",
                 "bias_v"):
        assert (getattr(ours, name) is None) == (getattr(theirs, name) is None), name
    assert type(ours.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert type(ours.out_proj).__module__ == "fukaku.nn.modules.linear"
    assert isinstance(ours.out_proj, fk.nn.Linear)
    assert (ours.head_dim, ours._qkv_same_embed_dim, ours.batch_first) == \
        (theirs.head_dim, theirs._qkv_same_embed_dim, theirs.batch_first)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kw", CONFIGS, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()) or "default")
def test_module_forward_and_gradients_match_torch(kw, dtype):
    ours, theirs = layer_twins("MultiheadAttention", (E, H), kw, dtype)
    bf = kw.get("batch_first", False)
    shape = (lambda n, l, d: (n, l, d)) if bf else (lambda n, l, d: (l, n, d))
    arrays = [randn(shape(N, L, E), seed=1), randn(shape(N, S, kw.get("kdim", E)), seed=2),
              randn(shape(N, S, kw.get("vdim", E)), seed=3)]
    kpm = _bool((N, S), 5)
    for need_weights, average in ((True, True), (True, False), (False, True)):
        compare_modules(ours, theirs, arrays, dtype, lambda m, lib, q, k, v: m(
            q, k, v, key_padding_mask=lib.tensor(kpm), need_weights=need_weights, average_attn_weights=average))
        ours.zero_grad(), theirs.zero_grad()


def test_module_self_attention_causal_batch_first():
    ours, theirs = layer_twins("MultiheadAttention", (E, H), dict(batch_first=True), np.float64)
    causal = np.triu(np.ones((L, L), bool), 1)
    compare_modules(ours, theirs, [randn(N, L, E, seed=1)], np.float64, lambda m, lib, x: m(
        x, x, x, attn_mask=lib.tensor(causal), is_causal=True, need_weights=False))


def test_module_dropout_only_in_training():
    fk.manual_seed(0)
    m = fk.nn.MultiheadAttention(E, H, dropout=0.5, batch_first=True)
    x = fk.randn(N, L, E)
    m.eval()
    a, _ = m(x, x, x)
    b, _ = m(x, x, x)
    assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    m.train()
    _, w = m(x, x, x, average_attn_weights=False)
    zero = w.detach().numpy() == 0
    assert 0.3 < zero.mean() < 0.7  # the returned weights are the dropped ones, as torch's


def test_module_loads_torch_state_dict_and_matches_eval():
    torch.manual_seed(1)
    theirs = torch.nn.MultiheadAttention(8, 4, add_bias_kv=True, batch_first=True).eval()
    ours = fk.nn.MultiheadAttention(8, 4, add_bias_kv=True, batch_first=True).eval()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = randn(2, 5, 8, seed=1).astype(np.float32)
    with torch.no_grad():
        want = theirs(torch.tensor(x), torch.tensor(x), torch.tensor(x))  # torch's inference fast path
    got = ours(fk.tensor(x), fk.tensor(x), fk.tensor(x))
    assert_close(got[0], want[0]), assert_close(got[1], want[1])


# ----------------------------------------------------------------------------- errors
def test_errors_name_the_op_shapes_and_fix():
    with pytest.raises(ValueError, match="embed_dim must be divisible by num_heads.*divisors of 10"):
        fk.nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="greater than 0"):
        fk.nn.MultiheadAttention(0, 1)
    m = fk.nn.MultiheadAttention(E, H)
    x = fk.randn(L, N, E)
    with pytest.raises(fk.ShapeError, match=r"attn_mask has shape \(4, 4\), but should be \(4, 5\)"):
        m(x, fk.randn(S, N, E), fk.randn(S, N, E), attn_mask=fk.zeros(L, L, dtype=fk.bool))
    with pytest.raises(fk.ShapeError, match=r"\(2, 4\) should be \(N, S\) = \(2, 5\)"):
        m(x, fk.randn(S, N, E), fk.randn(S, N, E), key_padding_mask=fk.zeros(N, L, dtype=fk.bool))
    with pytest.raises(TypeError, match="only bool and floating types of attn_mask"):
        m(x, x, x, attn_mask=fk.zeros(L, L, dtype=fk.int64))
    with pytest.raises(fk.ShapeError, match=r"\(4, 2, 5\).*expected embed_dim = 6"):
        m(fk.randn(L, N, 5), x, x)
    with pytest.raises(fk.ShapeError, match=r"key of shape \(5, 2, 6\) does not match value of shape \(4, 2, 6\)"):
        m(x, fk.randn(S, N, E), x)
    with pytest.raises(fk.ShapeError, match="same batch size"):
        m(x, fk.randn(S, 3, E), fk.randn(S, 3, E))
    with pytest.raises(RuntimeError, match="need attn_mask if specifying the is_causal hint"):
        m(x, x, x, is_causal=True)


def test_static_keys_and_values():
    w = _weights()
    names = list(w)
    sk, sv = randn(N * H, S, E // H, seed=20), randn(N * H, S, E // H, seed=21)

    def run(lib):
        f = F.multi_head_attention_forward if lib is fk else TF.multi_head_attention_forward

        def call(q, k, v, static_k, static_v, *params):
            p = dict(zip(names, params))
            with _math_kernel(lib):
                return f(q, k, v, E, H, p["in_proj_weight"], p["in_proj_bias"], None, None, False, 0.0,
                         p["out_proj_weight"], p["out_proj_bias"], static_k=static_k, static_v=static_v,
                         need_weights=False)[0]
        return call
    inputs = [randn(L, N, E, seed=1), randn(S, N, E, seed=2), randn(S, N, E, seed=3), sk, sv, *w.values()]
    check(run(fk), run(torch), inputs, np.float64, second=False)
