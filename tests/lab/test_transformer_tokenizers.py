"""The measuring code of the tokenizer experiments (bpe-compression, words-vocabulary) against independent
oracles — closed forms, hand counts — and verdicts that turn when a measurement is broken. (Their quick runs and
verdicts are tested in test_experiments.)"""
from __future__ import annotations

import pytest

from fukaku.lab.experiments.transformer import bpe_compression, words_vocabulary
from fukaku.text import BPETokenizer

TEXT = ("It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want "
        "of a wife. 吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。 ") * 30


def test_compression_curve_by_hand():
    run = bpe_compression.compression_curve(TEXT, [256, 260, 300, 380])
    held = TEXT[int(len(TEXT) * 0.9):]
    # with the bytes only, one token per UTF-8 byte: characters per token = characters / bytes, exactly
    assert run["ratios"][256] == len(held) / len(held.encode())
    assert run["bytes per character"] == len(held.encode()) / len(held)
    assert run["ratios"][256] < run["ratios"][260] < run["ratios"][300] < run["ratios"][380]
    assert run["exact"] and run["unknown"] == 0 and run["prefix"] and run["reached"] == 380
    # the tokenizer of each size is the first merges of the largest: what an independent training gives
    alone = BPETokenizer.train(TEXT[:int(len(TEXT) * 0.9)], 300)
    assert run["ratios"][300] == len(held) / len(alone.encode(held))


def _bpe_values(**changes) -> dict:
    experiment = bpe_compression.BpeCompression()
    values = {"corpora": ["english"], "vocabulary sizes": [256, 1000],
              "merges trained separately for the second size = the first merges of the largest": True,
              "held-out text and an unseen probe decode back exactly": True,
              "|bytes-only characters per token − 1/(bytes per character)|": 0.0,
              "vocabulary reached": {"english": 1000},
              "vocabulary sizes where characters per token did not grow": {"english": []},
              "largest vocabulary / bytes-only characters per token": {"english": 2.5}}
    values.update(changes)
    return experiment, values


@pytest.mark.parametrize("change", [
    {"merges trained separately for the second size = the first merges of the largest": False},
    {"held-out text and an unseen probe decode back exactly": False},
    {"|bytes-only characters per token − 1/(bytes per character)|": 0.01},
    {"vocabulary reached": {"english": 999}},
    {"vocabulary sizes where characters per token did not grow": {"english": [1000]}},
    {"largest vocabulary / bytes-only characters per token": {"english": 1.5}}])
def test_bpe_compression_verdict_turns_with_each_broken_measurement(change):
    experiment, good = _bpe_values()
    assert all(c.holds for c in experiment.checks(good))
    experiment, bad = _bpe_values(**change)
    assert sum(not c.holds for c in experiment.checks(bad)) == 1


def test_a_bpe_that_drops_bytes_is_caught(monkeypatch):
    decode = BPETokenizer.decode
    monkeypatch.setattr(BPETokenizer, "decode", lambda self, ids: decode(self, ids).replace("猫", ""))
    assert not bpe_compression.compression_curve(TEXT, [256, 300])["exact"]


def test_seed003_table():
    table = words_vocabulary.seed003_table()
    assert table["table"] == words_vocabulary.TABLE == {"alice": 1, "like": 2, "bob": 3, "UNK": 4}
    assert table["ids"] == [1, 2, 4] and table["multi-hot"] == [1, 1, 0, 1]


def test_out_of_vocabulary_by_hand():
    text = "a b c a b a " * 9 + "a b zz yy "   # the held-out tenth holds the two unseen words
    run = words_vocabulary.out_of_vocabulary(text, {"words": 10, "bpe": 270})
    held = text[int(len(text) * 0.9):].split()
    assert run["word UNK share"] == sum(w not in "abc" for w in held) / len(held) > 0
    assert run["character unseen share"] > 0                      # "z" and "y" never occur in training
    assert run["BPE ids outside the vocabulary"] == 0 and run["BPE round trip exact"]


def test_words_vocabulary_verdict_turns_when_the_table_is_wrong(monkeypatch):
    experiment = words_vocabulary.WordsVocabulary()
    good = {"vocabulary of 'Alice likes Bob'": dict(words_vocabulary.TABLE), "ids of 'Alice likes cat'": [1, 2, 4],
            "multi-hot of 'Alice likes cat' (ids 1–4)": [1, 1, 0, 1], "BPE ids outside the vocabulary": 0,
            "BPE decodes the held-out text exactly": True, "corpora": ["english"],
            "held-out words that are UNK": {"english": 0.2}}
    assert all(c.holds for c in experiment.checks(good))
    for key, value in (("ids of 'Alice likes cat'", [1, 2, 3]), ("vocabulary of 'Alice likes Bob'", {"alice": 0}),
                       ("held-out words that are UNK", {"english": 0.0})):
        bad = {**good, key: value}
        assert sum(not c.holds for c in experiment.checks(bad)) == 1
