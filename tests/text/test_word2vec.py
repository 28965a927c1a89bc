"""fukaku.text.word2vec against independent oracles: seed 003's CBOW table and hand-computed pairs, a hand-built
Huffman code and heapq's optimal code length, closed forms of subsampling and the noise distribution, PyTorch
autograd for the gradients of every training step, and planted structure that a small corpus must reveal."""
from __future__ import annotations

import heapq
import math
import os

import numpy as np
import pytest
import torch

from fukaku.text.word2vec import (NA, PAD, Word2Vec, Word2VecFormatError, cbow_pairs, context_windows, huffman_tree,
                                  keep_probabilities, negative_sampling_loss, noise_distribution, skipgram_pairs,
                                  tokenize, window_matrix)

from .conftest import SHAKESPEARE

SEED_003 = "Word2vec is a technique in natural language processing (NLP) for obtaining vector representations of words."
TABLE = [(["NA", "NA", "is", "a"], "word2vec"), (["NA", "word2vec", "a", "technique"], "is"),
         (["word2vec", "is", "technique", "in"], "a"), (["is", "a", "in", "natural"], "technique"),
         (["a", "technique", "natural", "language"], "in")]


# ------------------------------------------------------------------------------------------------- pairs
def test_seed_003_cbow_table():
    rows = context_windows(tokenize(SEED_003), window=2)
    assert rows[:5] == TABLE
    assert len(rows) == 15 and rows[-1] == (["representations", "of", NA, NA], "words")


def test_pairs_by_hand():
    contexts, centres = cbow_pairs([10, 11, 12, 13], window=2)
    assert centres.tolist() == [10, 11, 12, 13]
    assert contexts.tolist() == [[PAD, PAD, 11, 12], [PAD, 10, 12, 13], [10, 11, 13, PAD], [11, 12, PAD, PAD]]
    c, o = skipgram_pairs([10, 11, 12, 13], window=2)
    assert list(zip(c.tolist(), o.tolist())) == [(10, 11), (10, 12), (11, 10), (11, 12), (11, 13), (12, 10),
                                                 (12, 11), (12, 13), (13, 11), (13, 12)]
    # windows stop at sentence ends
    m = window_matrix(np.array([1, 2, 3, 4]), 1, sentence_ids=np.array([0, 0, 1, 1]))
    assert m.tolist() == [[PAD, 2], [1, PAD], [PAD, 4], [3, PAD]]
    with pytest.raises(ValueError, match="window must be a positive integer"):
        cbow_pairs([1, 2], window=0)


# ------------------------------------------------------------------------------------------------- vocabulary
def test_keep_probabilities_closed_form():
    counts = np.array([900, 90, 9, 1])
    f = counts / 1000
    t = 1e-2
    assert np.allclose(keep_probabilities(counts, t), np.minimum(1, (np.sqrt(f / t) + 1) * t / f))
    assert keep_probabilities(counts, t)[0] == pytest.approx((math.sqrt(90) + 1) / 90)
    assert (keep_probabilities(counts, 0) == 1).all()


def test_noise_distribution_and_sampler():
    counts = np.array([1000, 300, 100, 10, 1])
    p = noise_distribution(counts)
    assert np.allclose(p, counts ** 0.75 / (counts ** 0.75).sum())
    model = Word2Vec(vector_size=4, min_count=1, negative=20, seed=3)
    model.build_vocab([[w] * c for w, c in zip("abcde", counts)])
    rows, labels, mask = model._outputs(np.zeros(20_000, dtype=np.int64))
    noise = rows[:, 1:].ravel()
    freq = np.bincount(noise, minlength=5) / noise.size
    assert np.abs(freq - p).max() < 4 * np.sqrt(p * (1 - p) / noise.size).max()
    assert (labels[:, 0] == 1).all() and (labels[:, 1:] == 0).all()
    assert ((mask[:, 1:] == 0) == (rows[:, 1:] == 0)).all()          # a noise word equal to the target is skipped


def test_vocabulary_min_count_and_order():
    model = Word2Vec(vector_size=4, min_count=2)
    model.build_vocab([["b", "a", "b", "c"], ["a", "d", "b"]])
    assert model.words == ["b", "a"] and model.counts.tolist() == [3, 2]
    ids, sentences = model.vocabulary.encode([["a", "x", "b"], ["c"], ["b"]])
    assert ids.tolist() == [1, 0, 0] and sentences.tolist() == [0, 0, 2]


# ------------------------------------------------------------------------------------------------- Huffman
def test_huffman_hand_example():
    # joins: 1+1 → n0 (2); b(2) with n0(2): the inner node first on a tie, b second → n1 (4); n1(4) + a(5) → root
    tree = huffman_tree([5, 2, 1, 1])
    assert [tree.code(w) for w in range(4)] == ["1", "01", "001", "000"]
    assert tree.points[:, 0].tolist() == [2, 2, 2, 2]                # every path starts at the root, V − 2
    assert tree.points[2, :3].tolist() == [2, 1, 0]


def test_huffman_is_an_optimal_prefix_code():
    counts = np.sort(np.random.default_rng(0).integers(1, 500, 200))[::-1]
    tree = huffman_tree(counts)
    codes = [tree.code(w) for w in range(len(counts))]
    assert sum(2.0 ** -len(c) for c in codes) == pytest.approx(1.0)  # a full binary tree
    assert not any(b.startswith(a) for a in codes for b in codes if a != b)
    heap = [int(c) for c in counts]                                  # the cost of an optimal code, by heapq
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        joined = heapq.heappop(heap) + heapq.heappop(heap)
        cost += joined
        heapq.heappush(heap, joined)
    assert int((tree.lengths * counts).sum()) == cost
    assert tree.points.max() == len(counts) - 2


# ------------------------------------------------------------------------------------------------- gradients
def test_sgns_loss_gradient_matches_torch():
    rng = np.random.default_rng(0)
    v, up, un = rng.normal(size=(6, 5)), rng.normal(size=(6, 5)), rng.normal(size=(6, 3, 5))
    loss, dv, dup, dun = negative_sampling_loss(v, up, un)
    tv, tup, tun = (torch.tensor(a, requires_grad=True) for a in (v, up, un))
    tl = -(torch.nn.functional.logsigmoid((tv * tup).sum(-1)).sum()
           + torch.nn.functional.logsigmoid(-(tv[:, None] * tun).sum(-1)).sum())
    tl.backward()
    assert loss == pytest.approx(tl.item(), rel=1e-12)
    for mine, theirs in ((dv, tv), (dup, tup), (dun, tun)):
        np.testing.assert_allclose(mine, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def _torch_step_delta(model, centres, contexts, rows, labels, mask, alpha):
    """The weight changes of one SGD step, −α·∂L/∂θ, by torch autograd on float64 copies of the weights."""
    vin = torch.tensor(model.vectors, dtype=torch.float64, requires_grad=True)
    vout = torch.tensor(model.output, dtype=torch.float64, requires_grad=True)
    real = torch.tensor(contexts != PAD)
    x = vin[torch.tensor(np.where(contexts != PAD, contexts, 0))] * real[..., None]
    u = vout[torch.tensor(rows)]
    lab, msk = torch.tensor(labels, dtype=torch.float64), torch.tensor(mask, dtype=torch.float64)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    if model.sg:
        s = torch.einsum("cwd,cmd->cwm", x, u)
        weight = real[:, :, None] * msk[:, None, :]
        loss = (bce(s, lab[:, None, :].expand_as(s), reduction="none") * weight).sum()
    else:
        h = x.sum(1) / real.sum(1, keepdim=True)
        h.retain_grad()
        s = torch.einsum("cd,cmd->cm", h, u)
        loss = (bce(s, lab, reduction="none") * msk).sum()
    loss.backward()
    grad_in = vin.grad.numpy()
    if not model.sg:   # word2vec.c's CBOW gives every context word the whole error ∂L/∂h, not 1/count of it
        grad_in = np.zeros_like(grad_in)
        per_slot = np.broadcast_to(h.grad.numpy()[:, None, :], (*contexts.shape, grad_in.shape[1]))
        np.add.at(grad_in, contexts[contexts != PAD], per_slot[contexts != PAD])
    return -alpha * grad_in, -alpha * vout.grad.numpy()


@pytest.mark.parametrize("sg,hs", [(True, False), (False, False), (True, True), (False, True)])
def test_training_step_is_sgd_on_the_loss(sg, hs):
    rng = np.random.default_rng(1)
    corpus = [[str(w) for w in rng.integers(0, 12, 30)] for _ in range(5)]
    model = Word2Vec(vector_size=6, window=2, min_count=1, sg=sg, hs=hs, negative=0 if hs else 3, seed=0)
    model.build_vocab(corpus)
    model.output[:] = rng.normal(0, 0.3, model.output.shape)       # away from 0, so every term is non-trivial
    model.vectors[:] = rng.normal(0, 0.3, model.vectors.shape)
    centres = np.array([0, 3, 5, 3])
    contexts = np.array([[1, 2, PAD, 4], [PAD, 0, 7, PAD], [2, 2, 3, 1], [6, PAD, PAD, PAD]])
    rows, labels, mask = model._outputs(centres)
    model._outputs = lambda c, rng=None: (rows, labels, mask)
    alpha = 0.05
    before_in, before_out = model.vectors.copy(), model.output.copy()
    want_in, want_out = _torch_step_delta(model, centres, contexts, rows, labels, mask, alpha)
    model._step(centres, contexts, np.full(4, alpha, dtype=np.float32))
    np.testing.assert_allclose(model.vectors - before_in, want_in, atol=2e-6)
    np.testing.assert_allclose(model.output - before_out, want_out, atol=2e-6)
    assert np.abs(want_in).max() > 1e-3 and np.abs(want_out).max() > 1e-3


# ------------------------------------------------------------------------------------------------- learning
GROUPS = {"animal": ["cat", "dog", "horse", "cow"], "vehicle": ["car", "bus", "train", "boat"]}
TEMPLATES = {"animal": ["the {} eats grass", "a {} sleeps in the barn", "feed the {} hay"],
             "vehicle": ["the {} needs fuel", "a {} drives on the road", "park the {} outside"]}


def planted_corpus(n: int, seed: int = 0) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        group = ["animal", "vehicle"][rng.integers(2)]
        word = GROUPS[group][rng.integers(4)]
        out.append(TEMPLATES[group][rng.integers(3)].format(word).split())
    return out


@pytest.mark.parametrize("sg,hs", [(True, False), (False, False), (True, True)])
def test_a_small_corpus_reveals_its_planted_groups(sg, hs):
    corpus = planted_corpus(3000)
    model = Word2Vec(corpus, vector_size=20, window=3, min_count=1, sg=sg, hs=hs, negative=0 if hs else 5,
                     sample=0, epochs=5, seed=0)
    assert model.losses[-1] < model.losses[0]
    members = set(GROUPS["animal"] + GROUPS["vehicle"])
    for words in GROUPS.values():
        for word in words:
            near = [w for w, _ in model.most_similar(word, k=20) if w in members][:3]
            assert set(near) <= set(words), (word, near)


def test_untrained_vectors_show_no_groups():
    """The check above can fail: vectors before training do not group the words."""
    model = Word2Vec(vector_size=20, window=3, min_count=1, seed=0).build_vocab(planted_corpus(3000))
    members = set(GROUPS["animal"] + GROUPS["vehicle"])
    hits = [set([w for w, _ in model.most_similar(word, k=20) if w in members][:3]) <= set(words)
            for words in GROUPS.values() for word in words]
    assert not all(hits)


def test_most_similar_and_analogy_by_hand():
    model = Word2Vec(vector_size=2, min_count=1).build_vocab([["a", "b", "c", "d", "e"]])
    model.vectors[:] = np.array([[1, 0], [1, 1], [0, 1], [-1, 0], [0.1, 1]], dtype=np.float32)
    near = model.most_similar("c", k=2)
    assert [w for w, _ in near] == ["e", "b"]
    assert near[1][1] == pytest.approx(1 / math.sqrt(2), rel=1e-6)
    # b − a + c on unit vectors, then the nearest of the words other than a, b, c by brute force
    unit = {w: v / np.linalg.norm(v) for w, v in zip(model.words, model.vectors.astype(np.float64))}
    query = unit["b"] - unit["a"] + unit["c"]
    best = max("de", key=lambda w: unit[w] @ query)
    assert [w for w, _ in model.analogy("a", "b", "c", k=2)] == sorted("de", key=lambda w: -unit[w] @ query)
    assert model.analogy("a", "b", "c")[0][0] == best
    assert model.similarity("a", "d") == pytest.approx(-1.0)
    with pytest.raises(KeyError, match="not in the vocabulary"):
        model.most_similar("zebra")


def test_options_checked():
    with pytest.raises(ValueError, match="choose one loss"):
        Word2Vec(hs=True, negative=5)
    with pytest.raises(ValueError, match="negative must be a positive integer"):
        Word2Vec(negative=0)
    with pytest.raises(TypeError, match="got a str"):
        Word2Vec("a b c", min_count=1)
    with pytest.raises(ValueError, match="no word occurs"):
        Word2Vec([["a", "b"]], min_count=5)


# ------------------------------------------------------------------------------------------------- saving
def test_save_load_round_trip_and_refusals(tmp_path):
    model = Word2Vec(planted_corpus(300), vector_size=8, min_count=1, epochs=1, seed=0)
    path = tmp_path / "model.w2v"
    model.save(path)
    back = Word2Vec.load(path)
    assert back.words == model.words and back.config() == model.config()
    np.testing.assert_array_equal(back.vectors, model.vectors)
    np.testing.assert_array_equal(back.output, model.output)
    assert back.most_similar("cat", 3) == model.most_similar("cat", 3)
    back.train(planted_corpus(50), epochs=1)                          # a loaded model trains on
    assert os.listdir(tmp_path) == ["model.w2v"]                      # atomic: no temporary left behind

    from fukaku.serialization import load, save
    good = load(path)
    for change, field in [({"vectors": good["vectors"][:-1]}, "vectors"), ({"format": "x"}, "format"),
                          ({"counts": good["counts"][::-1].copy()}, "counts"),
                          ({"words": good["words"][:-1] + [good["words"][0]]}, "words"),
                          ({"output": good["output"].astype(np.float64)}, "output")]:
        save({**good, **change}, tmp_path / "bad")
        with pytest.raises(Word2VecFormatError, match=field):
            Word2Vec.load(tmp_path / "bad")


# ------------------------------------------------------------------------------------------------- real text
@pytest.mark.shared_data(SHAKESPEARE)
def test_tiny_shakespeare_neighbours(shakespeare):
    sentences = [tokenize(p) for p in shakespeare[:400_000].split("\n\n")]
    model = Word2Vec(sentences, vector_size=50, epochs=2, seed=0)
    near = [w for w, _ in model.most_similar("thou", k=10)]
    assert {"art", "hast", "dost", "wilt", "thy"} & set(near), near


def test_hogwild_workers_learn_too_and_one_worker_is_reproducible():
    corpus = planted_corpus(3000)
    one = [Word2Vec(corpus, vector_size=20, window=3, min_count=1, sample=0, epochs=3, seed=5).vectors
           for _ in range(2)]
    np.testing.assert_array_equal(one[0], one[1])
    model = Word2Vec(corpus, vector_size=20, window=3, min_count=1, sample=0, epochs=3, seed=5, workers=2,
                     batch_words=128)
    members = set(GROUPS["animal"] + GROUPS["vehicle"])
    for words in GROUPS.values():
        for word in words:
            assert set([w for w, _ in model.most_similar(word, k=20) if w in members][:3]) <= set(words)


def test_text_sentences():
    from fukaku.text.word2vec import text_sentences

    assert text_sentences("To be, or not.\n\n  \nThat is it.\nYes") == [["to", "be", "or", "not"],
                                                                        ["that", "is", "it", "yes"]]
    assert text_sentences("吾輩は猫\n\u3000である", "char") == [["吾", "輩", "は", "猫"], ["で", "あ", "る"]]
    pieces = text_sentences("吾輩は猫である。名前はまだ無い。\n" * 30, "unigram:40")
    assert len(pieces) == 30 and "".join(pieces[0]) == "吾輩は猫である。名前はまだ無い。"


# ------------------------------------------------------------------------------------------------- the command
def test_cli_train_and_similar(capsys, tmp_path):
    from fukaku.cli import main

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n\n".join(" ".join(s) for s in planted_corpus(2000)), encoding="utf-8")
    out = tmp_path / "m.w2v"
    assert main(["word2vec", "train", "--data", str(corpus), "--dim", "20", "--window", "3", "--sample", "0",
                 "--min-count", "1", "--epochs", "3", "--out", str(out)]) == 0
    assert "words/s" in capsys.readouterr().out
    assert main(["word2vec", "similar", "--model", str(out), "cat", "-k", "3"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("cat: ") and len(line.split(", ")) == 3
    assert main(["word2vec", "similar", "--model", str(out), "--analogy", "cat", "dog", "car", "-k", "2"]) == 0
    assert capsys.readouterr().out.startswith("dog − cat + car: ")
    assert main(["word2vec", "similar", "--model", str(out), "zebra"]) == 1
    assert "not in the vocabulary" in capsys.readouterr().err
    assert main(["word2vec", "similar", "--model", str(out)]) == 2
    assert main(["word2vec", "train", "--data", str(corpus), "--loss", "hs", "--negative", "3", "--out",
                 str(out)]) == 2


@pytest.mark.parametrize("sg,hs", [(True, False), (False, False), (True, True), (False, True)])
def test_positional_step_equals_the_pairwise_step(sg, hs):
    """Training gathers each position's vector once and sums its updates over the slots it fills; the step must be
    the one that gathers and scatters every (centre, context slot) apart, windows cut at random included."""
    rng = np.random.default_rng(0)
    corpus = [[str(w) for w in rng.integers(0, 30, 200)]]
    models = [Word2Vec(vector_size=8, window=3, min_count=1, sg=sg, hs=hs, negative=0 if hs else 4, seed=0)
              .build_vocab(corpus) for _ in range(2)]
    for m in models:
        m.output[:] = np.random.default_rng(1).normal(0, 0.3, m.output.shape)
    ids = models[0].vocabulary.encode(corpus)[0][:100]
    contexts = window_matrix(ids, 3)
    contexts[rng.random(contexts.shape) < 0.4] = PAD
    contexts[1:, 2] = ids[:-1]                                          # every centre keeps a context
    padded = np.concatenate([np.full(3, PAD), ids, np.full(3, PAD)])
    b, n = 20, 50
    alphas = np.full(n, 0.05, dtype=np.float32)
    pairwise = models[0]._step(ids[b:b + n], contexts[b:b + n], alphas, np.random.default_rng(3))
    positional = models[1]._step(ids[b:b + n], contexts[b:b + n], alphas, np.random.default_rng(3),
                                 padded[b:b + n + 6])
    assert pairwise[1] == positional[1] and pairwise[0] == pytest.approx(positional[0], rel=1e-6)
    np.testing.assert_allclose(models[0].vectors, models[1].vectors, atol=1e-7)
    np.testing.assert_allclose(models[0].output, models[1].output, atol=1e-7)


def test_an_epoch_subsamples_and_reduces_windows_as_word2vec_c():
    """What one epoch trains on: each occurrence kept with keep_probabilities' chance, and each centre's window cut
    to b ~ U{1 … window} words a side."""
    rng = np.random.default_rng(0)
    words = np.where(rng.random(60_000) < 0.5, "a", rng.integers(0, 400, 60_000).astype(str))
    corpus = [list(words[i:i + 60]) for i in range(0, words.size, 60)]
    model = Word2Vec(vector_size=4, window=4, min_count=1, sample=1e-3, seed=0).build_vocab(corpus)
    seen = []
    model._batches = lambda part, contexts, alphas, starts, rng: seen.append((part, contexts)) or (0.0, 0)
    model.train(corpus, epochs=1)
    part = np.concatenate([p for p, _ in seen])
    contexts = np.concatenate([c for _, c in seen])
    a = model.index["a"]
    keep = keep_probabilities(model.counts, 1e-3)[a]
    n = model.counts[a]
    assert abs((part == a).sum() - keep * n) < 4 * math.sqrt(n * keep * (1 - keep))
    # the farthest context on the left is at distance b, and b is uniform on 1 … 4 (centres with both sides)
    inner = (contexts[:, :4] != PAD).any(axis=1) & (contexts[:, 4:] != PAD).any(axis=1)
    farthest = 4 - np.argmax(contexts[:, :4] != PAD, axis=1)           # left side: slot 0 is distance 4
    freq = np.bincount(farthest[inner], minlength=5)[1:] / inner.sum()
    np.testing.assert_allclose(freq, 0.25, atol=0.03)
