"""fukaku.text.WordPieceTokenizer: greedy longest match first with ## pieces, [UNK], and the likelihood-score
training rule, on small corpora worked out by hand."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fukaku.text import WordPieceTokenizer, from_dict, load, train_tokenizer
from fukaku.text.wordpiece import SPECIALS, learn_wordpieces

SHAKESPEARE = "text/tinyshakespeare.txt"


def pieces(tok, text):
    return [tok.id_to_token(i) for i in tok.encode(text)]


def test_greedy_longest_match_first():
    # BERT's docstring example: "unaffable" → un ##aff ##able, although "u" + "##n" also spell the start
    tok = WordPieceTokenizer(["[UNK]", "un", "##aff", "##able", "u", "##n", "a", "##a", "##f", "##b"])
    assert pieces(tok, "unaffable") == ["un", "##aff", "##able"]
    assert pieces(tok, "unaf") == ["un", "##a", "##f"]          # longest available at each position
    assert pieces(tok, "unx") == ["[UNK]"]                      # one piece missing: the whole word is UNK
    assert pieces(tok, "x unaffable") == ["[UNK]", "un", "##aff", "##able"]


def test_greedy_is_not_optimal_and_that_is_the_rule():
    # "abc" with pieces ab, ##c missing but a, ##bc present: greedy takes "ab" first and fails → [UNK]
    tok = WordPieceTokenizer(["[UNK]", "ab", "a", "##bc"])
    assert pieces(tok, "abc") == ["[UNK]"]


def test_punctuation_is_split_and_whitespace_dropped():
    tok = WordPieceTokenizer(["[UNK]", "hi", ",", "there", "!", "##s"], lowercase=True)
    assert pieces(tok, "Hi,  THERES!") == ["hi", ",", "there", "##s", "!"]
    assert tok.decode(tok.encode("Hi,  THERES!")) == "hi , theres !"


def test_long_words_are_unknown():
    tok = WordPieceTokenizer(["[UNK]", "a", "##a"], max_input_chars_per_word=5)
    assert pieces(tok, "aaaaa aaaaaa") == ["a", "##a", "##a", "##a", "##a", "[UNK]"]


def test_training_likelihood_rule_by_hand():
    """Words hug×10 pug×5 pun×12 bun×4 hugs×5 (the Hugging Face course's corpus). Units: h 15, p 17, b 4,
    ##u 36, ##g 20, ##n 16, ##s 5. score(##g, ##s) = 5 / (20·5) = 1/20 is the best → "##gs". Then ##g 15,
    ##gs 5 and every pair holds ##u: (h,##u) 15/(15·36), (p,##u) 17/(17·36), (b,##u) 4/(4·36), (##u,##g)
    15/(36·15), (##u,##n) 16/(36·16), (##u,##gs) 5/(36·5) — all 1/36, a tie; the smallest ids win:
    alphabet sorted ##g 0, ##n 1, ##s 2, ##u 3, b 4, h 5, p 6, ##gs 7 → (##u, ##g) = (3, 0) → "##ug"."""
    words = {"hug": 10, "pug": 5, "pun": 12, "bun": 4, "hugs": 5}
    alphabet = ["##g", "##n", "##s", "##u", "b", "h", "p"]
    assert learn_wordpieces(words, 7) == alphabet
    assert learn_wordpieces(words, 9) == alphabet + ["##gs", "##ug"]


def test_likelihood_prefers_a_pair_of_rare_units_over_a_frequent_pair():
    # "ab" occurs 10 times but a and b are everywhere (score 10/(30·30)); "xy" occurs twice, x and y only there
    # (score 2/(2·2) = 0.5): frequency-BPE would merge a-b, WordPiece merges x-y
    words = {"ab": 10, "aa": 5, "bb": 5, "xy": 2}
    merged = learn_wordpieces(words, 7)[6:]
    assert merged == ["xy"]


def test_three_letter_word_by_hand():
    # a ##b ##c, all scores 1/(1·1): ids ##b 0, ##c 1, a 2 → (##b, ##c) = (0, 1) is the smallest → "##bc";
    # then (a, ##bc) → "abc"
    assert learn_wordpieces({"abc": 1}, 10) == ["##b", "##c", "a", "##bc", "abc"]


@pytest.mark.parametrize("seed", range(5))
def test_every_token_is_two_earlier_tokens_joined_and_none_repeats(seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    words = {"".join(rng.choice(list("abcab"), size=rng.integers(1, 7))): int(rng.integers(1, 5))
             for _ in range(40)}
    tokens = learn_wordpieces(words, 60)
    assert len(set(tokens)) == len(tokens)
    alphabet = {w[0] for w in words} | {"##" + c for w in words for c in w[1:]}
    for k, t in enumerate(tokens):
        if t in alphabet:
            continue
        earlier = tokens[:k]
        assert any(t == a + b[2:] for a in earlier for b in earlier if b.startswith("##")), t


def test_trained_tokenizer_has_bert_specials_and_encodes_its_text():
    text = "playing played plays player playing replay"
    tok = train_tokenizer("wordpiece:40", text)
    assert tok.vocab[:5] == list(SPECIALS) and tok.vocab_size <= 40
    ids = tok.encode(text)
    assert tok.unk_id not in ids and tok.decode(ids) == text
    assert pieces(tok, "playz") == ["[UNK]"]   # z was never seen


def test_save_load(tmp_path):
    tok = WordPieceTokenizer.train("some text for a tokenizer, some more text", 60, lowercase=True)
    tok.save(tmp_path / "wp.json")
    assert load(tmp_path / "wp.json") == tok
    assert from_dict(tok.to_dict()).encode("Some TEXT") == tok.encode("some text")


def test_bad_construction():
    with pytest.raises(ValueError, match="unk_token"):
        WordPieceTokenizer(["a"])
    with pytest.raises(ValueError, match="repeated"):
        WordPieceTokenizer(["[UNK]", "a", "a"])
    with pytest.raises(ValueError, match="vocab_size"):
        WordPieceTokenizer.train("abc", 3)


@pytest.mark.shared_data(SHAKESPEARE)
def test_shakespeare_encodes_without_unknown_words(shakespeare):
    tok = train_tokenizer("wordpiece:2000", shakespeare)
    ids = tok.encode(shakespeare)
    assert tok.unk_id not in ids
    assert tok.decode(ids).split() == " ".join(tok.pretokenize(shakespeare)).split()


@settings(max_examples=80, deadline=None, derandomize=True, database=None)
@given(st.text(max_size=80))
def test_trained_on_a_text_it_encodes_that_text_without_unk(text):
    """Every character of the training words is in the alphabet, so no word of the text is unknown, and decoding
    gives the pre-tokenised words joined by spaces."""
    tok = WordPieceTokenizer.train(text, 2000)
    ids = tok.encode(text)
    assert tok.unk_id not in ids
    assert tok.decode(ids) == " ".join(tok.pretokenize(text))
