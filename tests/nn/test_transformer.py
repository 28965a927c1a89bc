"""The Transformer layers (fukaku/nn/modules/transformer.py) against PyTorch's with identical weights: encoder and
decoder layers in both norm orders (post-LN and pre-LN), relu/gelu/callable activations, batch first or not, with
every mask; the stacks with their final norms; nn.Transformer; forward, backward (inputs and every parameter) and
forward mode; state-dict keys; the causal mask and its detection; errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

import fukaku as fk
from conformance import FLOATS, assert_close, layer_twins, randn
from nn.test_attention import compare_modules

E, H, FF, N, S, T = 8, 2, 16, 2, 5, 4
ACTIVATIONS = {"relu": "relu", "gelu": "gelu"}


def _shape(batch_first, n, length):
    return (n, length, E) if batch_first else (length, n, E)


def _padding(n, length, seed):
    m = np.random.default_rng(seed).random((n, length)) < 0.3
    m[:, 0] = False
    return m


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("norm_first", [False, True], ids=["post-LN", "pre-LN"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["seq-first", "batch-first"])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_matches_torch(activation, batch_first, norm_first, dtype):
    kw = dict(dim_feedforward=FF, dropout=0.0, activation=activation, batch_first=batch_first, norm_first=norm_first)
    ours, theirs = layer_twins("TransformerEncoderLayer", (E, H), kw, dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = [randn(_shape(batch_first, N, S), seed=1)]
    compare_modules(ours, theirs, x, dtype)
    ours.zero_grad(), theirs.zero_grad()
    pad, causal = _padding(N, S, 2), np.triu(np.ones((S, S), bool), 1)
    compare_modules(ours, theirs, x, dtype, lambda m, lib, s: m(s, src_mask=lib.tensor(causal),
                                                                src_key_padding_mask=lib.tensor(pad)))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("norm_first", [False, True], ids=["post-LN", "pre-LN"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["seq-first", "batch-first"])
def test_decoder_layer_matches_torch(batch_first, norm_first, dtype):
    kw = dict(dim_feedforward=FF, dropout=0.0, batch_first=batch_first, norm_first=norm_first, activation="gelu")
    ours, theirs = layer_twins("TransformerDecoderLayer", (E, H), kw, dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = [randn(_shape(batch_first, N, T), seed=1), randn(_shape(batch_first, N, S), seed=2)]
    causal = np.triu(np.ones((T, T), bool), 1)
    memory_mask = np.random.default_rng(3).random((T, S)) < 0.3
    memory_mask[:, 0] = False
    tpad, mpad = _padding(N, T, 4), _padding(N, S, 5)

    def call(m, lib, tgt, mem):
        return m(tgt, mem, tgt_mask=lib.tensor(causal), memory_mask=lib.tensor(memory_mask),
                 tgt_key_padding_mask=lib.tensor(tpad), memory_key_padding_mask=lib.tensor(mpad))
    compare_modules(ours, theirs, x, dtype, call)
    ours.zero_grad(), theirs.zero_grad()
    compare_modules(ours, theirs, x, dtype)


def test_callable_activation_and_no_bias():
    kw = dict(dim_feedforward=FF, dropout=0.0, activation=None, bias=False, batch_first=True)
    torch.manual_seed(0)
    theirs = torch.nn.TransformerEncoderLayer(E, H, **{**kw, "activation": torch.tanh}).double()
    ours = fk.nn.TransformerEncoderLayer(E, H, **{**kw, "activation": fk.tanh}).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert ours.activation_relu_or_gelu == 0 and ours.self_attn.in_proj_bias is None
    compare_modules(ours, theirs, [randn(N, S, E, seed=1)], np.float64)


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-LN", "pre-LN"])
def test_stacks_with_final_norm_and_causal_detection(norm_first):
    torch.manual_seed(0)
    kw = dict(dim_feedforward=FF, dropout=0.0, batch_first=True, norm_first=norm_first)
    t_enc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(E, H, **kw), 3, torch.nn.LayerNorm(E),
                                        enable_nested_tensor=False).double()
    t_dec = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(E, H, **kw), 2, torch.nn.LayerNorm(E)).double()
    f_enc = fk.nn.TransformerEncoder(fk.nn.TransformerEncoderLayer(E, H, **kw), 3, fk.nn.LayerNorm(E),
                                     enable_nested_tensor=False).double()
    f_dec = fk.nn.TransformerDecoder(fk.nn.TransformerDecoderLayer(E, H, **kw), 2, fk.nn.LayerNorm(E)).double()
    for ours, theirs in ((f_enc, t_enc), (f_dec, t_dec)):
        assert list(ours.state_dict()) == list(theirs.state_dict())
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    mask = {lib: lib.nn.Transformer.generate_square_subsequent_mask(S, dtype=lib.float64) for lib in (fk, torch)}
    assert_close(mask[fk], mask[torch])
    x = [randn(N, S, E, seed=1)]
    compare_modules(f_enc, t_enc, x, np.float64, lambda m, lib, s: m(s, mask=mask[lib]))  # detected: causal path
    compare_modules(f_enc, t_enc, x, np.float64, lambda m, lib, s: m(s, mask=mask[lib], is_causal=False))
    f_enc.zero_grad(), t_enc.zero_grad()
    compare_modules(f_dec, t_dec, [randn(N, T, E, seed=2), randn(N, S, E, seed=3)], np.float64,
                    lambda m, lib, t, s: m(t, s, tgt_mask=lib.nn.Transformer.generate_square_subsequent_mask(
                        T, dtype=lib.float64)))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("batch_first", [False, True], ids=["seq-first", "batch-first"])
def test_transformer_matches_torch(batch_first, dtype):
    kw = dict(num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=FF, dropout=0.0, batch_first=batch_first)
    ours, theirs = layer_twins("Transformer", (E, H), kw, dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert type(ours.encoder.layers[0].self_attn.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    x = [randn(_shape(batch_first, N, S), seed=1), randn(_shape(batch_first, N, T), seed=2)]
    spad = _padding(N, S, 3)

    def call(m, lib, src, tgt):
        tgt_mask = lib.nn.Transformer.generate_square_subsequent_mask(T, dtype=src.dtype)
        return m(src, tgt, tgt_mask=tgt_mask, src_key_padding_mask=lib.tensor(spad),
                 memory_key_padding_mask=lib.tensor(spad))
    compare_modules(ours, theirs, x, dtype, call)


def test_transformer_initialisation_is_xavier_on_matrices():
    m = fk.nn.Transformer(16, 4, 1, 1, 32)
    w = m.encoder.layers[0].linear1.weight.detach().numpy()
    bound = np.sqrt(6 / (16 + 32))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert not m.encoder.layers[0].self_attn.in_proj_bias.detach().numpy().any()


def test_unbatched_encoder_layer():
    ours, theirs = layer_twins("TransformerEncoderLayer", (E, H), dict(dim_feedforward=FF, dropout=0.0), np.float64)
    compare_modules(ours, theirs, [randn(S, E, seed=1)], np.float64)


def test_forward_mode_through_a_layer_matches_torch():
    ours, theirs = layer_twins("TransformerEncoderLayer", (E, H), dict(dim_feedforward=FF, dropout=0.0,
                                                                       norm_first=True), np.float64)
    x, v = randn(S, N, E, seed=1), randn(S, N, E, seed=2)
    _, got = fk.autograd.functional.jvp(lambda s: ours(s, is_causal=True, src_mask=fk.nn.Transformer
                                                       .generate_square_subsequent_mask(S, dtype=fk.float64)),
                                        (fk.tensor(x),), (fk.tensor(v),))
    with sdpa_kernel(SDPBackend.MATH):
        _, want = torch.func.jvp(lambda s: theirs(s, is_causal=True, src_mask=torch.nn.Transformer
                                                  .generate_square_subsequent_mask(S, dtype=torch.float64)),
                                 (torch.tensor(x),), (torch.tensor(v),))
    assert_close(got, want, np.float64)


def test_dropout_acts_in_training_only():
    fk.manual_seed(0)
    layer = fk.nn.TransformerEncoderLayer(E, H, FF, dropout=0.5)
    x = fk.randn(S, N, E)
    layer.eval()
    assert np.array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())
    layer.train()
    assert not np.array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())


def test_errors():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        fk.nn.TransformerEncoderLayer(E, H, activation="tanh")
    with pytest.raises(ValueError, match="embed_dim must be divisible by num_heads"):
        fk.nn.TransformerEncoderLayer(10, 4)
    m = fk.nn.Transformer(E, H, 1, 1, FF)
    with pytest.raises(RuntimeError, match=r"batch number of src \(5, 2, 8\) and tgt \(4, 3, 8\)"):
        m(fk.randn(S, N, E), fk.randn(T, 3, E))
    with pytest.raises(RuntimeError, match="must be equal to d_model = 8"):
        m(fk.randn(S, N, E), fk.randn(T, N, 6))
    layer = fk.nn.TransformerEncoderLayer(E, H, FF)
    with pytest.raises(fk.ShapeError, match=r"attn_mask has shape \(4, 4\), but should be \(5, 5\)"):
        layer(fk.randn(S, N, E), src_mask=fk.zeros(T, T))


def test_causal_mask_detection_as_torch():
    from fukaku.nn.modules.transformer import _detect_is_causal_mask as ours
    from torch.nn.modules.transformer import _detect_is_causal_mask as theirs

    for n, size in ((4, None), (4, 4), (4, 5)):
        for make in (lambda lib: lib.nn.Transformer.generate_square_subsequent_mask(n),
                     lambda lib: lib.nn.Transformer.generate_square_subsequent_mask(n) < 0,   # bool, True above
                     lambda lib: lib.zeros(n, n), lambda lib: lib.ones(n, n, dtype=lib.bool).tril()):
            for hint in (None, True, False):
                assert ours(make(fk), hint, size) == theirs(make(torch), hint, size), (n, size, hint)
