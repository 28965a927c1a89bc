"""fukaku.text.UnigramTokenizer: ▁ space marker, Viterbi segmentation, EM (forward–backward) training with
pruning; checked by hand and against brute-force enumeration of every segmentation."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fukaku.text import UnigramTokenizer, from_dict, load, train_tokenizer
from fukaku.text.unigram import SPACE, Lattice, _expected_counts, _removal_loss, split_words, viterbi

SHAKESPEARE, NEKO = "text/tinyshakespeare.txt", "text/neko.txt"


def segmentations(word, pieces):
    """Every way to spell ``word`` with ``pieces`` (brute force)."""
    if not word:
        yield []
        return
    for k in range(1, len(word) + 1):
        if word[:k] in pieces:
            for rest in segmentations(word[k:], pieces):
                yield [word[:k], *rest]


def test_space_marker_and_words():
    assert split_words("Hello world") == ["▁Hello", "▁world"]
    assert split_words(" two  spaces\nnext") == ["▁", "▁two", "▁", "▁spaces", "\n", "next"]


def test_viterbi_by_hand():
    # "ab aab" → words ▁ab, ▁aab. ▁ab: piece ▁ab (−1) beats ▁a + b (−3.5) and ▁ + a + b (−7).
    # ▁aab: ▁a a b = −5.5 beats ▁ a a b = −9; no piece "ab" or "aab" exists.
    tok = UnigramTokenizer(["▁", "a", "b", "▁ab", "▁a"], [-3.0, -2.0, -2.0, -1.0, -1.5])
    assert [tok.id_to_token(i) for i in tok.encode("ab aab")] == ["▁ab", "▁a", "a", "b"]
    assert tok.decode(tok.encode("ab aab")) == "ab aab"


def test_viterbi_is_the_most_probable_segmentation():
    rng = np.random.default_rng(0)
    pieces = ["a", "b", "ab", "ba", "aba", "bab", "abab", "bb"]
    for _ in range(30):
        scores = list(rng.uniform(-6, -0.5, len(pieces)))
        word = "".join(rng.choice(["a", "b"], size=rng.integers(1, 9)))
        index = {p: i + 1 for i, p in enumerate(pieces)}
        best = viterbi(word, index, [0.0, *scores], 4, -100)
        brute = max(segmentations(word, set(pieces)), key=lambda seg: sum(scores[pieces.index(p)] for p in seg))
        assert [pieces[i - 1] for i in best] == brute


def test_expected_counts_equal_brute_force():
    pieces = ["a", "b", "ab", "ba", "aba"]
    logp = list(np.log([0.3, 0.25, 0.2, 0.15, 0.1]))
    words, freqs = ["abab", "aba", "bab"], [3, 2, 1]
    expected, loglik = _expected_counts(words, freqs, pieces, logp, 3)
    want, want_ll = np.zeros(len(pieces)), 0.0
    for word, f in zip(words, freqs):
        segs = list(segmentations(word, set(pieces)))
        probs = np.array([math.exp(sum(logp[pieces.index(p)] for p in s)) for s in segs])
        want_ll += f * math.log(probs.sum())
        for s, pr in zip(segs, probs):
            for p in s:
                want[pieces.index(p)] += f * pr / probs.sum()
    np.testing.assert_allclose(expected, want, rtol=1e-12)
    assert loglik == pytest.approx(want_ll, rel=1e-12)


def test_removal_loss_is_zero_for_an_unused_piece_and_positive_for_a_used_one():
    # Viterbi uses "ab" in every word and never "ba"; removing "ab" costs likelihood, removing "ba" nothing
    pieces, logp = ["a", "b", "ab", "ba"], np.log([0.2, 0.2, 0.5, 0.1])
    lattice = Lattice(["ab", "abab"], [4, 1], {p: i for i, p in enumerate(pieces)}, 2)
    loss = _removal_loss(lattice, pieces, logp, np.ones(4, bool), 2, 2)
    assert loss[3] == 0.0 and loss[2] > 0 and np.isinf(loss[:2]).all()


def test_removal_loss_by_hand():
    # words "ab" ×4: Viterbi counts ab 4 (total 4). Without "ab" its 4 occurrences become a + b: the total grows to
    # 8 and each of a, b is counted 0 + 4 times. loss = 4 · (log 4/4 − (log 4/8 + log 4/8)) = 8 log 2
    pieces, logp = ["a", "b", "ab"], np.log([0.25, 0.25, 0.5])
    lattice = Lattice(["ab"], [4], {p: i for i, p in enumerate(pieces)}, 2)
    loss = _removal_loss(lattice, pieces, logp, np.ones(3, bool), 2, 2)
    assert loss[2] == pytest.approx(8 * math.log(2), rel=1e-12)


def test_vectorised_viterbi_counts_equal_the_word_by_word_viterbi():
    rng = np.random.default_rng(3)
    pieces = ["a", "b", "c", "ab", "bc", "abc", "ca", "bca", "cc"]
    index = {p: i for i, p in enumerate(pieces)}
    words = ["".join(rng.choice(list("abc"), size=rng.integers(1, 12))) for _ in range(60)]
    freqs = rng.integers(1, 5, size=len(words)).tolist()
    for _ in range(5):
        logp = rng.uniform(-5, -0.5, len(pieces))
        want = np.zeros(len(pieces))
        for w, f in zip(words, freqs):
            for i in viterbi(w, index, logp.tolist(), 3, -100.0):
                want[i] += f
        np.testing.assert_array_equal(Lattice(words, freqs, index, 3).viterbi_counts(logp), want)


def test_a_pruned_piece_has_no_expected_count():
    pieces = ["a", "b", "ab"]
    lattice = Lattice(["ab", "aab"], [2, 1], {p: i for i, p in enumerate(pieces)}, 2)
    expected, _ = lattice.expected_counts(np.array([np.log(0.5), np.log(0.5), -np.inf]))
    # without "ab" each word has one segmentation: ab ×2 → a + b, aab ×1 → a + a + b: a 2 + 2, b 2 + 1
    np.testing.assert_allclose(expected, [4.0, 3.0, 0.0])


def test_empty_text_has_no_tokens():
    tok = UnigramTokenizer(["▁", "a"], [-1.0, -1.0])
    assert tok.encode("") == [] and tok.decode([]) == "" and tok.decode(tok.encode(" ")) == " "


def test_unknown_characters_become_unk():
    tok = UnigramTokenizer(["▁", "a"], [-1.0, -1.0])
    ids = tok.encode("a z a")
    assert ids.count(0) == 1 and tok.decode(ids) == "a ⁇ a"


def test_training_keeps_every_character_and_the_frequent_words():
    text = "the cat sat on the mat the cat ate the rat " * 10
    tok = UnigramTokenizer.train(text, 30)
    # 11 characters and 7 distinct words: once the words are pieces, EM gives every other substring an expected
    # count below 0.5 and drops it, so 19 pieces (<unk> included) remain of the 30 allowed
    assert tok.vocab_size == 19 and tok.pieces[0] == "<unk>"
    assert set(text.replace(" ", SPACE)) <= set(tok.pieces)
    assert "▁the" in tok.pieces and "▁cat" in tok.pieces
    assert tok.decode(tok.encode(text)) == text
    assert len(tok.encode(text)) < len(text) / 2
    scores = tok.scores[1:]
    assert scores == sorted(scores, reverse=True)       # ids by decreasing score
    assert math.fsum(math.exp(s) for s in scores) == pytest.approx(1.0, rel=1e-6)  # EM's M-step: probabilities


def test_training_reaches_the_requested_size_on_a_varied_text():
    text = "the quick brown fox jumps over the lazy dog while the dogs sleep and the foxes keep watching " * 3
    tok = UnigramTokenizer.train(text, 40)
    assert tok.vocab_size == 40 and tok.decode(tok.encode(text)) == text


def test_training_with_a_large_budget_keeps_fewer_pieces():
    tok = UnigramTokenizer.train("ab ab", 1000)
    assert tok.vocab_size < 1000 and tok.decode(tok.encode("ab ab")) == "ab ab"


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.text(alphabet=st.characters(blacklist_characters=SPACE, blacklist_categories=("Cs",)), min_size=1,
               max_size=60))
def test_round_trip_on_any_text_of_known_characters(text):
    tok = UnigramTokenizer.train(text + " " + text, 200)
    assert tok.decode(tok.encode(text)) == text


def test_save_load(tmp_path):
    tok = train_tokenizer("unigram:40", "the cat sat on the mat the cat ate the rat " * 5)
    tok.save(tmp_path / "u.json")
    again = load(tmp_path / "u.json")
    assert again == tok and again.encode("the rat") == tok.encode("the rat")
    assert from_dict(tok.to_dict()).pieces == tok.pieces


def test_bad_construction():
    with pytest.raises(ValueError, match="scores"):
        UnigramTokenizer(["a"], [])
    with pytest.raises(ValueError, match="finite"):
        UnigramTokenizer(["a"], [math.nan])
    with pytest.raises(ValueError, match="<unk>"):
        UnigramTokenizer(["<unk>"], [0.0])


@pytest.mark.shared_data(SHAKESPEARE, NEKO)
def test_real_corpora_round_trip_exactly(shakespeare, neko):
    for text in (shakespeare, neko):   # trained on a slice plus every character, so no character is unknown
        every_character = "".join(sorted(set(text) - {"\n", " "}))
        tok = UnigramTokenizer.train(text[:20000] + every_character, 2000 if text is shakespeare else 3500)
        ids = tok.encode(text)
        assert 0 not in ids and tok.decode(ids) == text
