"""The word2vec experiments (word2vec-cbow-table, word2vec-analogies, word2vec-neighbours): their measuring code
against hand computations, and verdicts that turn when a measurement is broken. (Their quick runs and verdicts are
tested in test_experiments.)"""
from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from fukaku.lab.experiments.word2vec import cbow_table, planted_analogies, real_text_neighbours
from fukaku.text import word2vec
from fukaku.text.word2vec import Word2Vec


# ------------------------------------------------------------------------------------------------- CBOW table
def test_cbow_table_compared_cell_by_cell():
    result = cbow_table.compare(word2vec.context_windows(word2vec.tokenize(cbow_table.SENTENCE), 2))
    assert result == {"cells": 25, "equal": 24, "errata": [(0, "label")], "other differences": []}
    # the printed table against itself: every cell equal, the typo included
    assert cbow_table.compare(cbow_table.PRINTED)["equal"] == 25


def test_cbow_table_quick_run(quick_runs):
    measured = quick_runs("word2vec-cbow-table").measured
    assert measured["generated rows shown by seed 003"][0] == "[NA, NA, is, a] → word2vec"
    assert measured["printed typos (cell → corrected)"] == {"row 1 label": "word2ec → word2vec"}


@pytest.mark.parametrize("broken", ["no padding", "window 1", "centre in the context"])
def test_cbow_table_verdict_turns_with_a_broken_generator(monkeypatch, broken, tmp_path):
    windows = word2vec.context_windows

    def wrong(tokens, window=2, pad=word2vec.NA):
        if broken == "no padding":
            return [([w for w in c if w != pad], label) for c, label in windows(tokens, window, pad)]
        if broken == "window 1":
            return windows(tokens, 1, pad)
        return [(c[:2] + [label] + c[2:3], label) for c, label in windows(tokens, window, pad)]

    monkeypatch.setattr(cbow_table, "context_windows", wrong)
    from fukaku.lab.registry import Context

    result = cbow_table.CbowTable().run(Context(tmp_path, quick=True))
    assert not result.holds


# ------------------------------------------------------------------------------------------------- analogies
def test_planted_corpus_follows_its_rule():
    corpus = planted_analogies.planted_corpus(500, 4, 6, np.random.default_rng(0))
    sides = planted_analogies.SIDES
    for sentence in corpus:
        assert len(sentence) == 5
        word = sentence[2]
        relation = next(n for n, pairs in planted_analogies.RELATIONS.items() if any(word in p for p in pairs))
        side = next(i for p in planted_analogies.RELATIONS[relation] for i, w in enumerate(p) if w == word)
        around = sentence[:2] + sentence[3:]
        assert sum(w in sides[relation][side][:6] for w in around) == 2
        assert not any(w in sides[relation][1 - side] for w in around)
        assert sum(w.startswith(relation.split()[0]) for w in around) == 1           # the pair's topic word
    assert len(planted_analogies.questions()) == 2 * 2 * 8 * 7


def test_answer_rate_on_exact_offsets():
    """One-hot vectors, each word of a relation's second side shifted by the relation's own axis: b − a + c is
    nearest to d for every question; and since d is also c's only non-orthogonal word, c alone finds it too, while
    untrained (random) vectors do not."""
    words = [w for pairs in planted_analogies.RELATIONS.values() for p in pairs for w in p]
    model = Word2Vec(vector_size=40, min_count=1).build_vocab([words])
    qs = planted_analogies.questions()
    assert planted_analogies.answer_rate(model, qs, offset=True) < 0.2
    model.vectors[:] = 0
    for r, pairs in enumerate(planted_analogies.RELATIONS.values()):
        for i, (x, y) in enumerate(pairs):
            model.vectors[model.index[x], 8 * r + i] = 1
            model.vectors[model.index[y], [8 * r + i, 16 + r]] = 1
    assert planted_analogies.answer_rate(model, qs, offset=True) == 1.0
    assert planted_analogies.answer_rate(model, qs, offset=False) == 1.0


def _analogy_values(**changes):
    names = list(planted_analogies.CORPORA)
    values = {"accuracy of b − a + c": {n: 1.0 for n in names},
              "accuracy by relation": {n: {r: 1.0 for r in planted_analogies.RELATIONS} for n in names},
              "accuracy of the nearest word to c alone": {names[0]: 1.0, names[1]: 0.0},
              "accuracy of b − a + c, untrained vectors": 0.0, "chance (1 / (words − 3))": 0.005}
    values.update(changes)
    return values


@pytest.mark.parametrize("change", [
    {"accuracy of b − a + c": {n: 0.85 for n in planted_analogies.CORPORA}},
    {"accuracy of the nearest word to c alone": {n: 0.9 for n in planted_analogies.CORPORA}},
    {"accuracy by relation": {n: {r: 0.5 for r in planted_analogies.RELATIONS} for n in planted_analogies.CORPORA}},
    {"accuracy of b − a + c, untrained vectors": 0.5}])
def test_analogy_verdict_turns(change):
    experiment = planted_analogies.PlantedAnalogies()
    assert all(c.holds for c in experiment.checks(_analogy_values()))
    assert not all(c.holds for c in experiment.checks(_analogy_values(**change)))


# ------------------------------------------------------------------------------------------------- neighbours
def test_ppmi_rows_by_hand():
    sentences = [["a", "b", "a", "c"], ["b", "c", "b"]]
    model = Word2Vec(vector_size=4, min_count=1).build_vocab(sentences)
    rows = real_text_neighbours.ppmi_unit_rows(model, sentences, len(model))
    pairs = Counter()
    for s in sentences:
        for i, w in enumerate(s):
            for j in range(max(0, i - real_text_neighbours.WINDOW), min(len(s), i + real_text_neighbours.WINDOW + 1)):
                if j != i:
                    pairs[w, s[j]] += 1
    words = model.words
    context = {c: sum(n for (_, cc), n in pairs.items() if cc == c) ** 0.75 for c in words}
    total_context = sum(context.values())
    want = np.zeros((len(words), len(words)))
    for i, w in enumerate(words):
        row_total = sum(n for (ww, _), n in pairs.items() if ww == w)
        for j, c in enumerate(words):
            if pairs[w, c]:
                want[i, j] = max(0.0, math.log(pairs[w, c] / row_total / (context[c] / total_context)))
    want /= np.linalg.norm(want, axis=1, keepdims=True)
    np.testing.assert_allclose(rows, want, rtol=1e-5, atol=1e-6)


def test_top_k_and_overlap_by_hand():
    unit = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]], dtype=np.float32)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    near = real_text_neighbours.top_k(unit, np.array([0, 2]), 1)
    assert near.tolist() == [[1], [3]]
    assert real_text_neighbours.overlap(np.array([[1, 2], [3, 0]]), np.array([[2, 5], [6, 7]])) == 0.25


def _neighbour_values(**changes):
    values = {"corpora": ["english"], "chance overlap@10": {"english": 0.005},
              "overlap@10 with PPMI neighbours": {"english": 0.08}, "overlap@10, untrained vectors": {"english": 0.005},
              "training loss, first → last epoch": {"english": [0.5, 0.45]}}
    values.update(changes)
    return values


@pytest.mark.parametrize("change", [{"overlap@10 with PPMI neighbours": {"english": 0.02}},
                                    {"overlap@10, untrained vectors": {"english": 0.02}},
                                    {"training loss, first → last epoch": {"english": [0.5, 0.6]}}])
def test_neighbour_verdict_turns(change):
    experiment = real_text_neighbours.RealTextNeighbours()
    assert all(c.holds for c in experiment.checks(_neighbour_values()))
    assert sum(not c.holds for c in experiment.checks(_neighbour_values(**change))) == 1


def test_neighbours_without_the_shared_data(monkeypatch, tmp_path):
    """Without the shared data the English text is Python's help topics and neko.txt is skipped, with the reason."""
    monkeypatch.setenv("FUKAKU_DATA", str(tmp_path))
    from fukaku.lab.registry import Context

    result = real_text_neighbours.RealTextNeighbours().run(Context(tmp_path, quick=True))
    assert result.holds, result.summary
    assert result.measured["corpora"] == ["Python help topics"]
    assert set(result.measured["skipped"]) == {"tiny-shakespeare", "neko"}
    assert "skipped" in result.summary
