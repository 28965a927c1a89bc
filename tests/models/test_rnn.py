"""fukaku.models.rnn against PyTorch 2.13 and against formulas written out.

Each model is written again in PyTorch below (the ``Torch*`` classes, the way PyTorch code writes them), the
PyTorch model's state dict is loaded into the fukaku model (same keys, same order), and outputs and one
backward's input-free parameter gradients are compared (float32, tolerance ~1e-5). The attention modules are
compared with their scores written out in NumPy/PyTorch (Bahdanau vᵀtanh(W_q q + W_k k + b), Luong q·k and
qᵀWk), their weights sum to 1 and padded positions get weight 0. Sampling: temperature 0 and top-k 1 are the
argmax, a seed reproduces, and sample frequencies match softmax(logits / T) (chi-square). Seq2seq: greedy
decoding equals a step-by-step PyTorch decoder, and a tiny reversal task is learnt.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as tnn

import fukaku as fk
from conformance import assert_close, randn
from fukaku.models import rnn
from models.test_cnn import load_from_torch, one_torch_thread  # noqa: F401 (autouse fixture: one torch thread)
from test_random import chi_square_fits

pytestmark = pytest.mark.filterwarnings("ignore")


# ============================================================================ helpers
def compare_grads(model, ref: tnn.Module) -> None:
    """Every parameter's gradient of the fukaku model against the PyTorch model's, by name."""
    params = dict(model.named_parameters())
    assert list(params) == [name for name, _ in ref.named_parameters()]
    for name, p in ref.named_parameters():
        if p.grad is None:
            assert params[name].grad is None or not params[name].grad.detach().numpy().any(), name
        else:
            assert_close(params[name].grad, p.grad, what=f"gradient of {name}")


def backward_both(yf, yt, seed: int = 1) -> None:
    """Backward of Σ u·y in both frameworks with the same random u."""
    u = np.random.default_rng(seed).standard_normal(tuple(yt.shape)).astype(np.float32)
    (yf * fk.tensor(u)).sum().backward()
    (yt * torch.tensor(u)).sum().backward()


def tokens(n: int, t: int, vocab: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, vocab, (n, t))


# ============================================================================ attention
class TorchBahdanau(tnn.Module):
    """Additive attention written out: score_j = vᵀ tanh(W_q q + W_k k_j + b)."""

    def __init__(self, dq: int, dk: int, hidden: int, bias: bool = True):
        super().__init__()
        self.W_q = tnn.Linear(dq, hidden, bias=False)
        self.W_k = tnn.Linear(dk, hidden, bias=bias)
        self.v = tnn.Linear(hidden, 1, bias=False)

    def forward(self, q, k, v=None, mask=None):
        v = k if v is None else v
        single = q.dim() == 2
        q = q.unsqueeze(1) if single else q
        scores = self.v(torch.tanh(self.W_q(q).unsqueeze(2) + self.W_k(k).unsqueeze(1))).squeeze(-1)
        if mask is not None:
            scores = scores.masked_fill(mask.unsqueeze(1), float("-inf"))
        w = scores.softmax(-1)
        ctx = w @ v
        return (ctx.squeeze(1), w.squeeze(1)) if single else (ctx, w)


def numpy_bahdanau(att, q, k):
    """The weights of one query per batch row, from the formula on NumPy arrays."""
    wq, wk, v = (att.W_q.weight.detach().numpy(), att.W_k.weight.detach().numpy(), att.v.weight.detach().numpy()[0])
    b = att.W_k.bias.detach().numpy() if att.W_k.bias is not None else 0.0
    s = np.tanh((q @ wq.T)[:, None, :] + k @ wk.T + b) @ v            # (N, S)
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("bias", [True, False])
def test_bahdanau_formula_and_torch(bias):
    att = rnn.BahdanauAttention(5, 7, 6, bias=bias)
    ref = TorchBahdanau(5, 7, 6, bias=bias)
    load_from_torch(att, ref)
    q, k = randn(3, 5, dtype=np.float32), randn(3, 4, 7, dtype=np.float32, seed=1)
    vals = randn(3, 4, 2, dtype=np.float32, seed=2)
    ctx, w = att(fk.tensor(q), fk.tensor(k))
    w_np = numpy_bahdanau(att, q.astype(np.float64), k.astype(np.float64))
    assert_close(w, w_np.astype(np.float32), what="Bahdanau weights vs the formula")
    assert_close(ctx, np.einsum("ns,nsd->nd", w_np, k).astype(np.float32), what="context Σ α_j k_j")
    # separate values, gradients against PyTorch
    qf, kf, vf = (fk.tensor(a, requires_grad=True) for a in (q, k, vals))
    qt, kt, vt = (torch.tensor(a, requires_grad=True) for a in (q, k, vals))
    (cf, wf), (ct, wt) = att(qf, kf, vf), ref(qt, kt, vt)
    assert_close(cf, ct, what="context")
    assert_close(wf, wt, what="weights")
    backward_both(cf, ct)
    for a, b, name in ((qf, qt, "query"), (kf, kt, "keys"), (vf, vt, "values")):
        assert_close(a.grad, b.grad, what=f"gradient of the {name}")
    compare_grads(att, ref)


@pytest.mark.parametrize("score", ["dot", "general"])
@pytest.mark.parametrize("scale", [False, True])
def test_luong_formula(score, scale):
    dq, dk = 6, (6 if score == "dot" else 4)
    att = rnn.LuongAttention(dq, dk, score=score, scale=scale)
    q, k = randn(3, dq, dtype=np.float64), randn(3, 5, dk, dtype=np.float64, seed=1)
    att = att.double()
    ctx, w = att(fk.tensor(q), fk.tensor(k))
    kk = k if score == "dot" else k @ att.W.weight.detach().numpy().T           # W k_j: qᵀ W k
    s = np.einsum("nd,nsd->ns", q, kk) / (np.sqrt(dq) if scale else 1.0)
    e = np.exp(s - s.max(-1, keepdims=True))
    w_np = e / e.sum(-1, keepdims=True)
    assert_close(w, w_np, what=f"Luong {score} weights")
    assert_close(ctx, np.einsum("ns,nsd->nd", w_np, k), what="context")
    assert np.allclose(w.detach().numpy().sum(-1), 1.0)


@pytest.mark.parametrize("make", [lambda: rnn.BahdanauAttention(4, 4, 5), lambda: rnn.LuongAttention(4),
                                  lambda: rnn.LuongAttention(4, score="general")])
def test_attention_mask_batched_and_sums(make):
    att = make()
    q, k = fk.tensor(randn(2, 3, 4, dtype=np.float32)), fk.tensor(randn(2, 5, 4, dtype=np.float32, seed=1))
    mask = fk.tensor(np.array([[False] * 5, [False, False, False, True, True]]))
    ctx, w = att(q, k, key_padding_mask=mask)
    assert tuple(ctx.shape) == (2, 3, 4) and tuple(w.shape) == (2, 3, 5)
    wn = w.detach().numpy()
    assert np.allclose(wn.sum(-1), 1.0, atol=1e-6)
    assert (wn[1, :, 3:] == 0).all() and (wn[1, :, :3] > 0).all()
    # the padded keys do not matter at all
    k2 = k.detach().numpy().copy()
    k2[1, 3:] = 100.0
    ctx2, w2 = att(q, fk.tensor(k2), key_padding_mask=mask)
    assert_close(ctx2[1], ctx[1], what="context with changed padding")
    # T queries at once equal T single queries
    for t in range(3):
        c1, w1 = att(q[:, t], k, key_padding_mask=mask)
        assert_close(c1, ctx[:, t], what="one query")
        assert_close(w1, w[:, t], what="one query's weights")


def test_attention_errors():
    att = rnn.BahdanauAttention(4, 6, 5)
    with pytest.raises(fk.ShapeError, match="BahdanauAttention.*query"):
        att(fk.randn(2, 5), fk.randn(2, 3, 6))
    with pytest.raises(fk.ShapeError, match="keys"):
        att(fk.randn(2, 4), fk.randn(3, 3, 6))
    with pytest.raises(fk.ShapeError, match="key_padding_mask"):
        att(fk.randn(2, 4), fk.randn(2, 3, 6), key_padding_mask=fk.zeros(2, 4).bool())
    with pytest.raises(ValueError, match="general"):
        rnn.LuongAttention(4, 5)
    with pytest.raises(ValueError, match="score"):
        rnn.LuongAttention(4, score="concat")


# ============================================================================ PyTorch twins of the models
TORCH_CELLS = {"lstm": tnn.LSTM, "gru": tnn.GRU, "rnn": tnn.RNN}


def torch_rnn(cell, input_size, hidden, layers=1, bidirectional=False):
    return TORCH_CELLS[cell](input_size, hidden, num_layers=layers, batch_first=True, bidirectional=bidirectional)


def torch_join(state, layers):
    """(L·D, N, H) → (L, N, D·H), forward features first."""
    def join(h):
        d = h.shape[0] // layers
        return h.reshape(layers, d, h.shape[1], h.shape[2]).transpose(1, 2).reshape(layers, h.shape[1], -1)
    return tuple(join(s) for s in state) if isinstance(state, tuple) else join(state)


def torch_top(state):
    return (state[0] if isinstance(state, tuple) else state)[-1]


class TorchEncoder(tnn.Module):
    def __init__(self, input_size, hidden, layers=1, cell="lstm", bidirectional=True, vocab_size=None,
                 padding_idx=None):
        super().__init__()
        self.layers = layers
        if vocab_size is not None:
            self.embedding = tnn.Embedding(vocab_size, input_size, padding_idx=padding_idx)
        self.rnn = torch_rnn(cell, input_size, hidden, layers, bidirectional)

    def forward(self, x, lengths=None):
        x = self.embedding(x) if hasattr(self, "embedding") else x
        if lengths is None:
            out, state = self.rnn(x)
        else:
            packed = tnn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            out, state = self.rnn(packed)
            out, _ = tnn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return out, torch_join(state, self.layers)


class TorchClassifier(tnn.Module):
    def __init__(self, input_size, hidden, classes, layers=1, cell="lstm", bidirectional=False, vocab_size=None):
        super().__init__()
        self.encoder = TorchEncoder(input_size, hidden, layers, cell, bidirectional, vocab_size)
        self.dropout = tnn.Dropout(0.0)
        self.fc = tnn.Linear(hidden * (2 if bidirectional else 1), classes)

    def forward(self, x, lengths=None):
        return self.fc(self.dropout(torch_top(self.encoder(x, lengths)[1])))


class TorchTagger(TorchClassifier):
    def forward(self, x, lengths=None):
        return self.fc(self.dropout(self.encoder(x, lengths)[0]))


class TorchCharLM(tnn.Module):
    def __init__(self, vocab, emb, hidden, layers, cell):
        super().__init__()
        self.embedding = tnn.Embedding(vocab, emb)
        self.rnn = torch_rnn(cell, emb, hidden, layers)
        self.dropout = tnn.Dropout(0.0)
        self.fc = tnn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        out, state = self.rnn(self.embedding(x), state)
        return self.fc(self.dropout(out)), state


class TorchLuong(tnn.Module):
    def __init__(self, size, score):
        super().__init__()
        if score == "general":
            self.W = tnn.Linear(size, size, bias=False)

    def forward(self, q, k, mask=None):
        kk = self.W(k) if hasattr(self, "W") else k
        scores = q @ kk.transpose(1, 2)                                  # (N, T, S)
        if mask is not None:
            scores = scores.masked_fill(mask.unsqueeze(1), float("-inf"))
        w = scores.softmax(-1)
        return w @ k, w


class TorchSeq2Seq(tnn.Module):
    """Both seq2seq models written plainly: Sutskever (attention=None), Bahdanau, Luong dot/general."""

    def __init__(self, src_vocab, tgt_vocab, emb, hidden, layers=1, cell="lstm", bidirectional=False,
                 attention=None):
        super().__init__()
        self.attention_type = attention
        self.encoder = TorchEncoder(emb, hidden, layers, cell, bidirectional, vocab_size=src_vocab)
        size = hidden * (2 if bidirectional else 1)
        self.tgt_embedding = tnn.Embedding(tgt_vocab, emb)
        self.decoder = torch_rnn(cell, emb + (size if attention == "bahdanau" else 0), size, layers)
        if attention == "bahdanau":
            self.attention = TorchBahdanau(size, size, size)
        elif attention is not None:
            self.attention = TorchLuong(size, attention)
            self.combine = tnn.Linear(2 * size, size, bias=False)
        self.dropout = tnn.Dropout(0.0)
        self.out = tnn.Linear(2 * size if attention == "bahdanau" else size, tgt_vocab)

    def decode(self, tgt, state, keys, mask):
        e = self.tgt_embedding(tgt)
        if self.attention_type is None:
            s, state = self.decoder(e, state)
            return self.out(s), state, None
        if self.attention_type == "bahdanau":
            outs, ws = [], []
            for t in range(tgt.shape[1]):
                c, w = self.attention(torch_top(state), keys, keys, mask)
                s, state = self.decoder(torch.cat([e[:, t], c], -1).unsqueeze(1), state)
                outs.append(self.out(torch.cat([s[:, 0], c], -1)))
                ws.append(w)
            return torch.stack(outs, 1), state, torch.stack(ws, 1)
        s, state = self.decoder(e, state)
        c, w = self.attention(s, keys, mask)
        return self.out(torch.tanh(self.combine(torch.cat([c, s], -1)))), state, w

    def forward(self, src, tgt, src_lengths=None):
        keys, state = self.encoder(src, src_lengths)
        mask = None
        if src_lengths is not None:
            mask = torch.arange(src.shape[1])[None] >= torch.as_tensor(src_lengths)[:, None]
        logits, _, w = self.decode(tgt, state, keys, mask)
        return logits, w

    def greedy(self, src, max_length, bos, eos):
        with torch.no_grad():
            keys, state = self.encoder(src)
            token = torch.full((src.shape[0], 1), bos)
            out, ws = [], []
            done = torch.zeros(src.shape[0], dtype=torch.bool)
            for _ in range(max_length):
                logits, state, w = self.decode(token, state, keys, None)
                nxt = logits[:, -1].argmax(-1).masked_fill(done, eos)
                done = done | (nxt == eos)
                out.append(nxt)
                ws.append(w)
                if done.all():
                    break
                token = nxt[:, None]
            return torch.stack(out, 1), (None if ws[0] is None else torch.cat(ws, 1))


# ============================================================================ equivalence with PyTorch
def compare_outputs(model, ref, args_f, args_t, pick=lambda y: y):
    """Forward both models, compare the (picked) outputs, backward both, compare all parameter gradients."""
    model.zero_grad()
    ref.zero_grad()
    yf, yt = pick(model(*args_f)), pick(ref(*args_t))
    assert_close(yf, yt, what="output")
    backward_both(yf, yt)
    compare_grads(model, ref)
    return yf, yt


@pytest.mark.parametrize("cell,bidirectional,layers", [("lstm", False, 1), ("gru", True, 2), ("rnn", True, 1),
                                                        ("lstm", True, 2)])
def test_classifier_and_tagger_match_torch(cell, bidirectional, layers):
    x = tokens(3, 6, 11)
    for fk_cls, t_cls in ((rnn.SequenceClassifier, TorchClassifier), (rnn.SequenceTagger, TorchTagger)):
        torch.manual_seed(0)
        ref = t_cls(5, 4, 3, layers, cell, bidirectional, vocab_size=11)
        model = fk_cls(5, 4, 3, num_layers=layers, cell=cell, bidirectional=bidirectional, vocab_size=11)
        load_from_torch(model, ref)
        y, _ = compare_outputs(model, ref, (fk.tensor(x),), (torch.tensor(x),))
        assert tuple(y.shape) == ((3, 3) if fk_cls is rnn.SequenceClassifier else (3, 6, 3))


def test_classifier_features_and_lengths_match_torch():
    """Float features and a padded batch with lengths in any order (packed inside)."""
    x, lengths = randn(3, 5, 2, dtype=np.float32), [3, 5, 2]
    torch.manual_seed(1)
    for fk_cls, t_cls in ((rnn.SequenceClassifier, TorchClassifier), (rnn.SequenceTagger, TorchTagger)):
        ref = t_cls(2, 4, 3, 1, "lstm", True)
        model = fk_cls(2, 4, 3, cell="lstm", bidirectional=True)
        load_from_torch(model, ref)
        compare_outputs(model, ref, (fk.tensor(x), lengths), (torch.tensor(x), torch.tensor(lengths)))
        # padding after a sequence's end changes nothing
        x2 = x.copy()
        x2[2, 2:] = 50.0
        assert_close(model(fk.tensor(x2), lengths), model(fk.tensor(x), lengths), what="padding ignored")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_encoder_matches_torch(cell):
    x = tokens(2, 5, 9)
    torch.manual_seed(2)
    ref = TorchEncoder(3, 4, 2, cell, True, vocab_size=9)
    model = rnn.RNNEncoder(3, 4, 2, cell, True, vocab_size=9)
    load_from_torch(model, ref)
    (of, sf), (ot, st) = model(fk.tensor(x)), ref(torch.tensor(x))
    assert_close(of, ot, what="outputs")
    for a, b in zip(sf if cell == "lstm" else [sf], st if cell == "lstm" else [st]):
        assert_close(a, b, what="joined final state")
        assert tuple(a.shape) == (2, 2, 8)
    # the joined state: the last layer's forward half is the output's last step, the backward half its first
    h = sf[0] if cell == "lstm" else sf
    assert_close(h[-1, :, :4], of[:, -1, :4], what="forward half")
    assert_close(h[-1, :, 4:], of[:, 0, 4:], what="backward half")
    assert model.output_size == 8


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_char_lm_matches_torch_and_continues_state(cell):
    x = tokens(2, 7, 10)
    torch.manual_seed(3)
    ref = TorchCharLM(10, 4, 6, 2, cell)
    model = rnn.CharLM(10, embedding_dim=4, hidden_size=6, num_layers=2, cell=cell)
    load_from_torch(model, ref)
    compare_outputs(model, ref, (fk.tensor(x),), (torch.tensor(x),), pick=lambda y: y[0])
    with fk.no_grad():
        full, _ = model(fk.tensor(x))
        a, state = model(fk.tensor(x[:, :3]))
        b, _ = model(fk.tensor(x[:, 3:]), state)
    assert_close(fk.cat([a, b], 1), full, what="two chunks with the state carried = one call")


# ============================================================================ sampling
def test_sampling_greedy_limits_and_seed():
    logits = fk.tensor(randn(6, 9, dtype=np.float32))
    argmax = logits.argmax(-1)
    assert (rnn.sample_logits(logits, temperature=0) == argmax).all()
    assert (rnn.sample_logits(logits, temperature=1.5, top_k=1) == argmax).all()
    a = rnn.sample_logits(logits, 1.0, generator=fk.Generator().manual_seed(5))
    b = rnn.sample_logits(logits, 1.0, generator=fk.Generator().manual_seed(5))
    assert (a == b).all() and a.dtype == fk.int64 and tuple(a.shape) == (6,)
    # top-k keeps only the k largest logits of each row
    many = rnn.sample_logits(logits.repeat(200, 1), 1.0, top_k=3, generator=fk.Generator().manual_seed(0))
    top3 = np.argsort(-logits.numpy(), -1)[:, :3]
    drawn = many.numpy().reshape(200, 6)
    assert all(np.isin(drawn[:, i], top3[i]).all() for i in range(6))
    with pytest.raises(ValueError, match="temperature"):
        rnn.sample_logits(logits, -1.0)
    with pytest.raises(ValueError, match="top_k"):
        rnn.sample_logits(logits, 1.0, top_k=10)


@pytest.mark.parametrize("temperature,top_k", [(1.0, None), (0.5, None), (2.0, 3)])
def test_sampling_distribution(temperature, top_k):
    """Frequencies of 20 000 draws against softmax(logits / T) over the top k (chi-square; the others never)."""
    z = np.array([1.0, 0.2, -0.5, 0.7, -1.5, 0.0], dtype=np.float32)
    n = 20_000
    draws = rnn.sample_logits(fk.tensor(np.tile(z, (n, 1))), temperature, top_k,
                              generator=fk.Generator().manual_seed(1)).numpy()
    keep = np.argsort(-z)[:top_k] if top_k else np.arange(len(z))
    p = np.zeros(len(z))
    e = np.exp(z[keep] / temperature)
    p[keep] = e / e.sum()
    assert chi_square_fits(np.bincount(draws, minlength=len(z)), n * p)


def test_char_lm_generate_and_vocabulary(tmp_path):
    text = "hello world, hold the door"
    vocab = rnn.CharLM.build_vocab(text)
    fk.manual_seed(0)
    model = rnn.CharLM(vocab=vocab, embedding_dim=4, hidden_size=8, num_layers=1)
    assert model.vocab_size == len(vocab) and model.decode(model.encode("hold")) == "hold"
    out = model.generate("he", 10, temperature=0.8, top_k=4, seed=3)
    assert isinstance(out, str) and len(out) == 12 and out.startswith("he") and set(out) <= set(vocab)
    assert out == model.generate("he", 10, temperature=0.8, top_k=4, seed=3)             # a seed reproduces
    # temperature 0: greedy — each new id is the argmax after feeding the text so far
    ids = model.generate(model.encode("wo"), 5, temperature=0)
    with fk.no_grad():
        logits, _ = model(ids[:-1].unsqueeze(0))
    assert (logits[0, 1:].argmax(-1) == ids[2:]).all()
    # a batch of prompts at once, ids in and ids out; same as one at a time with temperature 0
    batch = fk.stack([model.encode("he"), model.encode("wo")])
    both = model.generate(batch, 5, temperature=0)
    assert tuple(both.shape) == (2, 7) and (both[1] == ids).all()
    # the checkpoint: config (with the vocabulary) and the state dict through fukaku.save / load
    fk.save({"config": model.config, "model": model.state_dict()}, tmp_path / "lm.pt")
    ckpt = fk.load(tmp_path / "lm.pt")
    again = rnn.CharLM.from_config(ckpt["config"])
    again.load_state_dict(ckpt["model"])
    assert again.generate("he", 10, temperature=0.8, top_k=4, seed=3) == out
    with pytest.raises(ValueError, match="not in the vocabulary: 'z'"):
        model.generate("zz", 3)
    with pytest.raises(ValueError, match="empty"):
        model.generate("", 3)
    with pytest.raises(ValueError, match="vocab"):
        rnn.CharLM(10).encode("a")


# ============================================================================ seq2seq
SEQ2SEQ_CASES = [(None, "lstm", False), (None, "gru", True), ("bahdanau", "lstm", False), ("bahdanau", "gru", True),
                 ("dot", "lstm", True), ("general", "rnn", False)]


def make_seq2seq(attention, cell, bidirectional, layers=1, seed=4):
    torch.manual_seed(seed)
    ref = TorchSeq2Seq(7, 8, 3, 4, layers, cell, bidirectional, attention)
    if attention is None:
        model = rnn.Seq2Seq(7, 8, 3, 4, layers, cell, bidirectional)
    else:
        model = rnn.Seq2SeqAttention(7, 8, 3, 4, layers, cell, bidirectional, attention=attention)
    load_from_torch(model, ref)
    return model, ref


@pytest.mark.parametrize("attention,cell,bidirectional", SEQ2SEQ_CASES)
def test_seq2seq_teacher_forcing_matches_torch(attention, cell, bidirectional):
    model, ref = make_seq2seq(attention, cell, bidirectional, layers=2 if cell == "lstm" else 1)
    src, tgt = tokens(3, 5, 7), tokens(3, 4, 8, seed=1)
    compare_outputs(model, ref, (fk.tensor(src), fk.tensor(tgt)), (torch.tensor(src), torch.tensor(tgt)),
                    pick=lambda y: y[0] if isinstance(y, tuple) else y)
    if attention is not None:
        _, wf = model(fk.tensor(src), fk.tensor(tgt), return_attention=True)
        _, wt = ref(torch.tensor(src), torch.tensor(tgt))
        assert_close(wf, wt, what="attention weights")
        assert tuple(wf.shape) == (3, 4, 5)


def test_seq2seq_attention_src_lengths_match_torch():
    model, ref = make_seq2seq("bahdanau", "lstm", True)
    src, tgt, lengths = tokens(3, 5, 7), tokens(3, 4, 8, seed=1), [5, 2, 3]
    compare_outputs(model, ref, (fk.tensor(src), fk.tensor(tgt), lengths),
                    (torch.tensor(src), torch.tensor(tgt), torch.tensor(lengths)),
                    pick=lambda y: y[0] if isinstance(y, tuple) else y)         # logits and all gradients
    _, wf = model(fk.tensor(src), fk.tensor(tgt), lengths, return_attention=True)
    _, wt = ref(torch.tensor(src), torch.tensor(tgt), torch.tensor(lengths))
    assert_close(wf, wt, what="weights")
    w = wf.detach().numpy()
    assert (w[1, :, 2:] == 0).all() and (w[2, :, 3:] == 0).all() and np.allclose(w.sum(-1), 1, atol=1e-6)


@pytest.mark.parametrize("attention,cell,bidirectional", SEQ2SEQ_CASES[::2] + [("dot", "lstm", True)])
def test_greedy_decode_matches_torch(attention, cell, bidirectional):
    model, ref = make_seq2seq(attention, cell, bidirectional)
    src = tokens(4, 5, 7, seed=2)
    got = model.greedy_decode(fk.tensor(src), 6, bos_token=0, eos_token=None, **(
        {"return_attention": True} if attention else {}))
    want, wt = ref.greedy(torch.tensor(src), 6, 0, -1)
    toks = got[0] if attention else got
    assert toks.dtype == fk.int64 and tuple(toks.shape) == (4, 6)
    np.testing.assert_array_equal(toks.numpy(), want.numpy())
    if attention:
        assert_close(got[1], wt, what="decoding attention weights")
    assert model.training                                        # the mode is restored


def test_greedy_decode_end_token():
    """Every sequence stops at its first end token (later positions repeat it); decoding stops early once all
    have ended, else runs max_length steps; without an end token it always runs max_length steps."""
    model, ref = make_seq2seq(None, "lstm", False)
    src = fk.tensor(tokens(5, 5, 7, seed=3))
    f = model.greedy_decode(src, 8, bos_token=0).numpy()
    assert f.shape == (5, 8)
    ended_all = []
    for eos in np.unique(f):                                   # each token the free run produces, as the end token
        out = model.greedy_decode(src, 8, bos_token=0, eos_token=int(eos)).numpy()
        first = [np.flatnonzero(row == eos)[0] if (row == eos).any() else None for row in f]
        for row, frow, stop in zip(out, f, first):
            np.testing.assert_array_equal(row[:stop], frow[:len(row)][:stop])
            if stop is not None:
                assert (row[stop:] == eos).all()
        everyone = all(stop is not None for stop in first)
        assert out.shape[1] == (max(first) + 1 if everyone else 8)
        ended_all.append(everyone)
    assert any(ended_all) and not all(ended_all)               # both cases were exercised
    with pytest.raises(ValueError, match="bos_token"):
        model.greedy_decode(src, 3)


@pytest.mark.parametrize("attention", [None, "bahdanau", "dot"])
def test_seq2seq_learns_reversal(attention):
    """Reverse sequences of 4 symbols from {0, 1, 2} (81 sequences, all of them) with teacher forcing; greedy
    decoding then gets (nearly) every sequence right (untrained: none)."""
    fk.manual_seed(0)
    grid = np.stack(np.meshgrid(*[np.arange(3)] * 4, indexing="ij"), -1).reshape(-1, 4)
    src = fk.tensor(grid + 2)                                   # ids 2..4; 0 = BOS, 1 = EOS
    tgt = fk.tensor(np.concatenate([np.zeros((81, 1), int), grid[:, ::-1] + 2, np.ones((81, 1), int)], 1))
    options = dict(cell="gru", bos_token=0, eos_token=1)
    model = (rnn.Seq2Seq(5, 5, 8, 16, **options) if attention is None
             else rnn.Seq2SeqAttention(5, 5, 8, 16, attention=attention, **options))
    opt = fk.optim.Adam(model.parameters(), lr=0.03)
    loss_fn = fk.nn.CrossEntropyLoss()
    for _ in range(60):
        opt.zero_grad()
        loss = loss_fn(model(src, tgt[:, :-1]).reshape(-1, 5), tgt[:, 1:].reshape(-1))
        loss.backward()
        opt.step()
    out = model.greedy_decode(src, 6).numpy()
    assert out.shape[1] <= 6
    out = np.pad(out, ((0, 0), (0, 6 - out.shape[1])), constant_values=-1)       # stopped early: all ended
    exact = (out[:, :5] == tgt.numpy()[:, 1:]).all(1).mean()
    assert exact > 0.95, (exact, float(loss))


# ============================================================================ errors
def test_model_errors():
    with pytest.raises(ValueError, match="cell must be one of"):
        rnn.SequenceClassifier(3, 4, 2, cell="transformer")
    with pytest.raises(fk.ShapeError, match=r"SequenceClassifier|RNNEncoder.*\(N, T, 3\)"):
        rnn.SequenceClassifier(3, 4, 2)(fk.randn(2, 5, 4))
    with pytest.raises(fk.ShapeError, match="token ids"):
        rnn.SequenceTagger(3, 4, 2, vocab_size=10)(fk.randn(2, 5))
    with pytest.raises(fk.ShapeError, match="Seq2Seq.*src"):
        rnn.Seq2Seq(5, 5, 3, 4)(fk.randn(2, 5), fk.zeros(2, 3).long())
    with pytest.raises(ValueError, match="attention must be one of"):
        rnn.Seq2SeqAttention(5, 5, attention="luong")
    with pytest.raises(ValueError, match="vocab_size"):
        rnn.CharLM(5, vocab="abc")
