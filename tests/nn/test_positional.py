"""Positional encodings (fukaku/nn/modules/positional.py) against independent oracles: the sinusoidal table
of PyTorch's own tutorial computed in torch, RoPE as multiplication by e^{i·tθ} in complex numbers and as the
rotation torch code writes it (forward, backward, jvp, second order through the harness), and the relative-
position property that defines RoPE."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku import nn
from tests.conformance import FLOATS, assert_close, check, randn


def _torch_sinusoidal(max_len: int, d_model: int) -> torch.Tensor:
    """The table of PyTorch's "language modeling with nn.Transformer" tutorial, in float64."""
    position = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * (-math.log(10000.0) / d_model))
    pe = torch.zeros(max_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    return pe


def _torch_rope(x: torch.Tensor, offset: int = 0, base: float = 10000.0) -> torch.Tensor:
    """RoPE on (…, T, D) with interleaved pairs, written as torchtune writes it (x viewed as (…, D/2, 2))."""
    t, d = x.shape[-2], x.shape[-1]
    theta = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    angle = torch.arange(offset, offset + t, dtype=torch.float64)[:, None] * theta
    cos, sin = angle.cos().to(x.dtype), angle.sin().to(x.dtype)
    pairs = x.unflatten(-1, (d // 2, 2))
    x0, x1 = pairs[..., 0], pairs[..., 1]
    return torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], -1).flatten(-2)


# ------------------------------------------------------------------------------ sinusoidal
@pytest.mark.parametrize("d_model", [16, 10])
def test_sinusoidal_table_matches_the_pytorch_tutorial(d_model):
    got = nn.modules.positional.sinusoidal_table(50, d_model)
    want = _torch_sinusoidal(50, d_model)
    np.testing.assert_allclose(got, want.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype", FLOATS)
def test_sinusoidal_adds_the_table_and_passes_gradients(dtype):
    layer = nn.SinusoidalPositionalEncoding(8, max_len=20)
    pe = _torch_sinusoidal(20, 8)
    check(lambda x: layer(x, offset=3), lambda x: x + pe[3:8].to(x.dtype), [randn(2, 5, 8)], dtype)


def test_sinusoidal_sequence_first_and_unbatched():
    layer = nn.SinusoidalPositionalEncoding(6, max_len=10, batch_first=False)
    x = randn(4, 3, 6)
    want = x + _torch_sinusoidal(10, 6)[:4, None].numpy()
    assert_close(layer(fk.tensor(x)), want, np.float64)
    assert_close(layer(fk.tensor(x[:, 0])), x[:, 0] + _torch_sinusoidal(10, 6)[:4].numpy(), np.float64)
    assert layer.pe.shape == (10, 6)


def test_dropout_applies_in_training_only():
    layer = nn.SinusoidalPositionalEncoding(4, max_len=8, dropout=0.5)
    x = fk.zeros(64, 8, 4) + 1.0
    fk.manual_seed(0)
    dropped = (layer(x) == 0).float().mean().item()
    assert 0.35 < dropped < 0.65
    layer.eval()
    assert (layer(x) == 0).float().mean().item() < 0.2  # only the table's own zeros (sin 0) remain


# ------------------------------------------------------------------------------ learned
def test_learned_positions_are_an_embedding_of_positions():
    fk.manual_seed(0)
    layer = nn.LearnedPositionalEmbedding(12, 4)
    assert list(layer.state_dict()) == ["weight"] and layer.weight.shape == (12, 4)
    out = layer(fk.zeros(3, 5, dtype=fk.int64), offset=2)
    assert_close(out, layer.weight.detach().numpy()[2:7], np.float32)
    out.sum().backward()
    grad = layer.weight.grad.numpy()
    assert (grad[2:7] == 1).all() and (grad[:2] == 0).all() and (grad[7:] == 0).all()


# ------------------------------------------------------------------------------ RoPE
def test_rope_is_multiplication_by_unit_complex_numbers():
    rope = nn.RotaryPositionalEmbedding(8, max_len=32)
    x = randn(2, 3, 6, 8)
    got = rope(fk.tensor(x), offset=5).numpy()
    z = x[..., 0::2] + 1j * x[..., 1::2]
    theta = 10000.0 ** (-np.arange(0, 8, 2) / 8)
    rotated = z * np.exp(1j * np.arange(5, 11)[:, None] * theta)
    np.testing.assert_allclose(got[..., 0::2], rotated.real, atol=1e-12)
    np.testing.assert_allclose(got[..., 1::2], rotated.imag, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(got, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-12)


@pytest.mark.parametrize("dtype", FLOATS)
def test_rope_conforms_with_torch(dtype):
    rope = nn.RotaryPositionalEmbedding(6, max_len=16)
    check(lambda x: rope(x, offset=2), lambda x: _torch_rope(x, offset=2), [randn(2, 2, 5, 6)], dtype)


def test_rope_scores_depend_on_relative_position_only():
    rope = nn.RotaryPositionalEmbedding(16, max_len=64)
    q, k = fk.tensor(randn(16, seed=1)), fk.tensor(randn(16, seed=2))

    def score(t, s):
        return float((rope(q.reshape(1, 16), offset=t) * rope(k.reshape(1, 16), offset=s)).sum())

    assert score(3, 10) == pytest.approx(score(20, 27), abs=1e-9)
    assert score(0, 5) == pytest.approx(score(40, 45), abs=1e-9)
    assert abs(score(0, 5) - score(0, 6)) > 1e-3  # and it does depend on the offset


def test_rope_offset_equals_slicing_a_longer_sequence():
    rope = nn.RotaryPositionalEmbedding(4, max_len=10)
    x = fk.tensor(randn(1, 7, 4))
    np.testing.assert_allclose(rope(x[:, 4:], offset=4).numpy(), rope(x).numpy()[:, 4:], atol=1e-15)


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("make, x", [
    (lambda: nn.SinusoidalPositionalEncoding(4, max_len=8), fk.zeros(1, 9, 4)),
    (lambda: nn.LearnedPositionalEmbedding(8, 4), fk.zeros(1, 9, dtype=fk.int64)),
    (lambda: nn.RotaryPositionalEmbedding(4, max_len=8), fk.zeros(1, 9, 4)),
])
def test_a_sequence_longer_than_the_table_names_the_lengths_and_the_fix(make, x):
    with pytest.raises(fk.ShapeError, match=r"9 positions.*max_len=8.*max_len >= 9"):
        make()(x)


def test_an_offset_past_the_table_is_refused():
    with pytest.raises(fk.ShapeError, match=r"positions 6 … 8.*max_len >= 9"):
        nn.RotaryPositionalEmbedding(4, max_len=8)(fk.zeros(3, 4), offset=6)


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="head_dim must be even"):
        nn.RotaryPositionalEmbedding(5)
    with pytest.raises(fk.ShapeError, match=r"expected input \(N, T, 8\)"):
        nn.SinusoidalPositionalEncoding(8)(fk.zeros(2, 3, 4))
