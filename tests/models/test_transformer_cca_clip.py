"""fukaku.models.transformer: linear CCA, the parameter count, CLIP-mini — against independent oracles.

CCA: Björck–Golub's QR algorithm (singular values of Q_xᵀQ_y) and the defining properties of the canonical
variates (unit variance, uncorrelated within a side, corr(Xa_j, Yb_j) = ρ_j). Parameter count: the published
totals (BERT-base 109,482,240, GPT-3 174,604,259,328) and PyTorch modules of the same small configurations.
CLIP: the loss against PyTorch's cross-entropy written out, the forward against the same model in PyTorch with
the same state dict, the temperature's clamp, and real learning on a tiny paired task.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as tF

import fukaku as fk
from conformance import assert_close
from fukaku import optim
from fukaku.models import MLP
from fukaku.models.transformer import (BERT_BASE, CCA, CLIP, GPT3, TextEncoder, TransformerConfig,
                                       canonical_correlations, clip_loss, parameter_count)
from models.test_cnn import load_from_torch, one_torch_thread  # noqa: F401 (autouse fixture: one torch thread)
from models.test_transformer_models import one_numpy_blas_thread  # noqa: F401 (autouse fixture: one BLAS thread)


# ============================================================================ CCA
def planted(n: int = 3000, seed: int = 0, rho=(0.9, 0.6, 0.3)):
    rng = np.random.default_rng(seed)
    rho = np.array(rho)
    u = rng.standard_normal((n, len(rho)))
    v = rho * u + np.sqrt(1 - rho ** 2) * rng.standard_normal(u.shape)
    x = np.concatenate([u, rng.standard_normal((n, 2))], 1) @ rng.standard_normal((5, 5))
    y = np.concatenate([v, rng.standard_normal((n, 1))], 1) @ rng.standard_normal((4, 4))
    return x, y


def qr_correlations(x, y):
    qx = np.linalg.qr(x - x.mean(0))[0]
    qy = np.linalg.qr(y - y.mean(0))[0]
    return np.linalg.svd(qx.T @ qy, compute_uv=False)


def test_cca_correlations_agree_with_the_qr_algorithm_and_the_planted_values():
    x, y = planted()
    result = canonical_correlations(fk.tensor(x), fk.tensor(y))
    np.testing.assert_allclose(result.correlations.numpy(), qr_correlations(x, y), rtol=0, atol=1e-10)
    np.testing.assert_allclose(result.correlations.numpy()[:3], [0.9, 0.6, 0.3], atol=0.05)
    assert result.x_weights.shape == (5, 4) and result.y_weights.shape == (4, 4)


def test_cca_variates_are_white_within_a_side_and_correlated_pairwise():
    x, y = planted(seed=1)
    result = canonical_correlations(fk.tensor(x), fk.tensor(y), n_components=3)
    u = (x - x.mean(0)) @ result.x_weights.numpy()
    v = (y - y.mean(0)) @ result.y_weights.numpy()
    n = len(x)
    np.testing.assert_allclose(u.T @ u / (n - 1), np.eye(3), atol=1e-10)
    np.testing.assert_allclose(v.T @ v / (n - 1), np.eye(3), atol=1e-10)
    np.testing.assert_allclose(u.T @ v / (n - 1), np.diag(result.correlations.numpy()), atol=1e-10)


def test_cca_of_a_linear_function_is_perfectly_correlated_and_the_class_interface():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((200, 3))
    y = x[:, :2] @ rng.standard_normal((2, 2)) + 5.0
    cca = CCA(n_components=2).fit(fk.tensor(x), fk.tensor(y))
    np.testing.assert_allclose(cca.correlations_.numpy(), [1.0, 1.0], atol=1e-9)
    u, v = cca.transform(fk.tensor(x), fk.tensor(y))
    np.testing.assert_allclose(u.numpy(), v.numpy(), atol=1e-8)       # y determines x's variates exactly
    np.testing.assert_allclose(cca.transform(fk.tensor(x)).numpy(), u.numpy())


def test_cca_is_sklearns_when_it_is_installed():
    cross_decomposition = pytest.importorskip("sklearn.cross_decomposition", reason="scikit-learn not installed")
    x, y = planted(n=1000, seed=3)
    ours = CCA(2).fit(fk.tensor(x), fk.tensor(y))
    theirs = cross_decomposition.CCA(2, max_iter=5000, tol=1e-12).fit(x, y)
    a, b = theirs.transform(x, y)
    want = [abs(np.corrcoef(a[:, j], b[:, j])[0, 1]) for j in range(2)]
    np.testing.assert_allclose(ours.correlations_.numpy(), want, atol=1e-6)


def test_cca_errors_name_the_problem():
    x = fk.randn(10, 3)
    with pytest.raises(ValueError, match="pair their rows"):
        canonical_correlations(x, fk.randn(9, 2))
    with pytest.raises(ValueError, match="n_components"):
        canonical_correlations(x, fk.randn(10, 2), n_components=3)
    with pytest.raises(ValueError, match="matrix"):
        canonical_correlations(fk.randn(10), fk.randn(10, 2))
    with pytest.raises(RuntimeError, match="fit"):
        CCA().transform(x)


# ============================================================================ parameter count
def test_parameter_count_of_bert_base_and_gpt3():
    bert, gpt3 = parameter_count(BERT_BASE), parameter_count(GPT3)
    assert bert["total"] == 109_482_240                    # bert-base-uncased's BertModel, pooler included
    assert bert["layers"] == 12 * 7_087_872
    assert gpt3["total"] == 174_604_259_328
    assert gpt3["layers"] == 96 * (12 * 12288 ** 2 + 13 * 12288)
    assert abs(bert["total"] / 110e6 - 1) < 0.01 and abs(gpt3["total"] / 175e9 - 1) < 0.01
    heads = parameter_count(TransformerConfig(**{**BERT_BASE.__dict__, "mlm_head": True, "nsp_head": True,
                                                 "head_bias": True}))
    assert heads["total"] - bert["total"] == 622_650 + 1_538


def count(*modules) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


@pytest.mark.parametrize("d, f, layers", [(16, 32, 2), (12, 48, 3)])
def test_parameter_count_matches_pytorch_modules_of_small_configurations(d, f, layers):
    v, p, s = 50, 20, 2
    layer = tnn.TransformerEncoderLayer(d, 4, f, batch_first=True)
    encoder = tnn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
    bert = [tnn.Embedding(v, d), tnn.Embedding(p, d), tnn.Embedding(s, d), tnn.LayerNorm(d), encoder,
            tnn.Linear(d, d)]
    config = TransformerConfig(v, d, layers, f, max_positions=p, type_vocab_size=s, embedding_norm=True, pooler=True)
    assert parameter_count(config)["total"] == count(*bert)
    gpt = [tnn.Embedding(v, d), tnn.Embedding(p, d), encoder, tnn.LayerNorm(d)]  # head tied: no new parameters
    config = TransformerConfig(v, d, layers, f, max_positions=p, final_norm=True)
    assert parameter_count(config)["total"] == count(*gpt)
    untied = TransformerConfig(v, d, layers, f, max_positions=p, final_norm=True, tied_head=False, head_bias=True)
    assert parameter_count(untied)["total"] == count(*gpt, tnn.Linear(d, v))
    transformer = tnn.Transformer(d, 4, layers, 1, f, batch_first=True)
    seq2seq = [tnn.Embedding(v, d), transformer]
    config = TransformerConfig(v, d, layers, f, num_decoder_layers=1, final_norm=True)
    assert parameter_count(config)["total"] == count(*seq2seq)


def test_parameter_count_refuses_an_empty_model():
    with pytest.raises(ValueError, match="positive"):
        parameter_count(TransformerConfig(10, 0, 1))


# ============================================================================ CLIP
def test_clip_loss_is_the_symmetric_cross_entropy_written_in_pytorch():
    logits = np.random.default_rng(0).standard_normal((6, 6))
    got = fk.tensor(logits, requires_grad=True)
    want = torch.tensor(logits, requires_grad=True)
    target = torch.arange(6)
    reference = tF.cross_entropy(want, target) + tF.cross_entropy(want.T, target)
    loss = clip_loss(got, reduction="sum")
    assert_close(loss, reference)
    assert_close(clip_loss(got), reference / 2)
    loss.backward()
    reference.backward()
    assert_close(got.grad, want.grad)


def test_clip_loss_at_equal_logits_is_log_n_per_direction():
    n = 32
    assert float(clip_loss(fk.zeros(n, n), "sum")) == pytest.approx(2 * math.log(n))
    assert float(clip_loss(fk.zeros(n, n))) == pytest.approx(math.log(n))
    with pytest.raises(ValueError, match="square"):
        clip_loss(fk.zeros(3, 4))
    with pytest.raises(ValueError, match="reduction"):
        clip_loss(fk.zeros(3, 3), "none")


class TorchTextEncoder(tnn.Module):
    def __init__(self, vocab, d):
        super().__init__()
        self.embedding = tnn.Embedding(vocab, d, padding_idx=0)

    def forward(self, tokens):
        keep = (tokens != 0).float().unsqueeze(-1)
        return (self.embedding(tokens) * keep).sum(1) / keep.sum(1).clamp(min=1)


class TorchCLIP(tnn.Module):
    """The same CLIP-mini, as PyTorch code writes it (OpenAI's CLIP: normalise, scale by exp(logit_scale))."""

    def __init__(self):
        super().__init__()
        self.visual = tnn.Sequential(tnn.Linear(10, 16), tnn.ReLU(), tnn.Linear(16, 8))
        self.text = TorchTextEncoder(7, 6)
        self.image_projection = tnn.Linear(8, 5, bias=False)
        self.text_projection = tnn.Linear(6, 5, bias=False)
        self.logit_scale = tnn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def forward(self, images, texts):
        a = tF.normalize(self.image_projection(self.visual(images)), dim=-1)
        b = tF.normalize(self.text_projection(self.text(texts)), dim=-1)
        return self.logit_scale.clamp(max=math.log(100)).exp() * a @ b.T


def tiny_clip() -> CLIP:
    return CLIP(MLP([10, 16, 8]), TextEncoder(7, 6), 8, 6, 5)


def test_clip_forward_and_gradients_match_pytorch_with_the_same_state_dict():
    torch.manual_seed(0)
    ref = TorchCLIP()
    model = tiny_clip()
    load_from_torch(model, ref)
    rng = np.random.default_rng(0)
    images = rng.standard_normal((4, 10)).astype(np.float32)
    texts = np.array([[1, 2, 3, 0], [4, 5, 0, 0], [6, 6, 6, 6], [1, 0, 0, 0]])
    logits, logits_t = model(fk.tensor(images), fk.tensor(texts))
    want = ref(torch.tensor(images), torch.tensor(texts))
    assert_close(logits, want)
    assert_close(logits_t, want.T)
    clip_loss(logits).backward()
    ((tF.cross_entropy(want, torch.arange(4)) + tF.cross_entropy(want.T, torch.arange(4))) / 2).backward()
    params = dict(model.named_parameters())
    for name, p in ref.named_parameters():
        assert_close(params[name].grad, p.grad, what=name)
    assert float(model.logit_scale) == pytest.approx(math.log(1 / 0.07))


def test_clip_embeddings_are_unit_vectors_and_the_temperature_is_clamped():
    model = tiny_clip()
    emb = model.encode_image(fk.randn(3, 10))
    np.testing.assert_allclose(emb.norm(dim=-1).detach().numpy(), 1.0, rtol=1e-6)
    with fk.no_grad():
        model.logit_scale.fill_(10.0)
    assert float(model.scale()) == pytest.approx(100.0)
    logits, _ = model(fk.randn(3, 10), fk.tensor([[1, 2], [3, 0], [4, 5]]))
    clip_loss(logits).backward()
    assert float(model.logit_scale.grad) == 0.0                  # beyond the clamp the temperature stops moving
    with pytest.raises(ValueError, match="temperature"):
        CLIP(MLP([2, 2]), TextEncoder(3, 2), 2, 2, 2, temperature=0.0)


def test_clip_learns_a_paired_task_and_classifies_zero_shot():
    """8 classes: an image is its class's random prototype plus noise, its caption two tokens naming it (shared
    words: class c is described by words c // 2 + 1 and c % 2 + 5). Trained contrastively, the model
    classifies fresh images by their class prompts far above chance (1/8)."""
    rng = np.random.default_rng(0)
    prototypes = rng.standard_normal((8, 10)) * 2

    def batch(n):
        c = rng.integers(0, 8, n)
        images = prototypes[c] + 0.5 * rng.standard_normal((n, 10))
        return fk.tensor(images, dtype=fk.float32), fk.tensor(np.stack([c // 2 + 1, c % 2 + 5], 1)), c

    fk.manual_seed(0)
    model = CLIP(MLP([10, 32, 16]), TextEncoder(7, 16), 16, 16, 8)
    adam = optim.Adam(model.parameters(), lr=1e-2)
    images, captions, _ = batch(32)
    with fk.no_grad():
        first = float(clip_loss(model(images, captions)[0]))
    for _ in range(150):
        images, captions, _ = batch(32)
        loss = clip_loss(model(images, captions)[0])
        adam.zero_grad()
        loss.backward()
        adam.step()
    prompts = fk.tensor(np.stack([np.arange(8) // 2 + 1, np.arange(8) % 2 + 5], 1))
    images, _, labels = batch(400)
    with fk.no_grad():
        accuracy = float((model.zero_shot(images, prompts).numpy() == labels).mean())
    assert float(loss) < first - 1.0
    assert accuracy > 0.9


def test_text_encoder_averages_over_real_tokens_only():
    encoder = TextEncoder(5, 3)
    tokens = fk.tensor([[1, 2, 0], [3, 0, 0]])
    table = encoder.embedding.weight.detach().numpy()
    np.testing.assert_allclose(encoder(tokens).detach().numpy(),
                               [(table[1] + table[2]) / 2, table[3]], rtol=1e-6)
    with pytest.raises(ValueError, match="token ids"):
        encoder(fk.tensor([1, 2]))


def test_text_encoder_with_transformer_layers_ignores_padding():
    fk.manual_seed(0)
    encoder = TextEncoder(9, 8, num_layers=1, nhead=2, max_len=6)
    short = encoder(fk.tensor([[3, 4, 5]]))
    padded = encoder(fk.tensor([[3, 4, 5, 0, 0, 0]]))
    np.testing.assert_allclose(padded.detach().numpy(), short.detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="position table"):
        encoder(fk.ones(1, 7, dtype=fk.int64))
