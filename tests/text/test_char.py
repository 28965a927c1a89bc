"""fukaku.text.CharTokenizer: the sorted set of the text's characters, exact round trip, clear errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fukaku as fk
from fukaku.datasets import TextCorpus
from fukaku.text import CharTokenizer, from_dict, train_tokenizer

SHAKESPEARE, NEKO = "text/tinyshakespeare.txt", "text/neko.txt"


def test_vocabulary_is_the_sorted_set_of_characters():
    tok = train_tokenizer("char", "hello, wörld 🐢")
    assert tok.chars == sorted(set("hello, wörld 🐢"))
    assert tok.vocab_size == len(set("hello, wörld 🐢"))
    assert tok.encode("hello") == [tok.chars.index(c) for c in "hello"]
    assert tok.decode([tok.chars.index("🐢"), tok.chars.index("ö")]) == "🐢ö"


def test_same_characters_as_the_char_lstm_corpus():
    text = "To be, or not to be: that is the question.\n吾輩は猫である。"
    assert set(CharTokenizer.train(text).chars) == set(TextCorpus(text, level="char").vocab.itos[1:])


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(st.text(min_size=1))
def test_round_trip_on_any_text(text):
    tok = CharTokenizer.train(text)
    ids = tok.encode(text)
    assert len(ids) == len(text) and tok.decode(ids) == text
    assert max(ids) < tok.vocab_size


def test_decode_accepts_arrays_and_tensors():
    tok = CharTokenizer("abc")
    assert tok.decode(np.array([2, 0])) == "ca" == tok.decode(fk.tensor([2, 0]))
    assert tok.encode_array("cab").tolist() == [2, 0, 1]


def test_any_vocabulary_order_works():
    tok = CharTokenizer("zay")
    assert tok.encode("yaz") == [2, 1, 0] and tok.decode([0, 1, 2]) == "zay"


def test_unknown_character_is_named():
    tok = CharTokenizer.train("abc")
    with pytest.raises(ValueError, match=r"'é' \(U\+00E9\) at position 1"):
        tok.encode("aéb")


@pytest.mark.parametrize("ids, match", [([3], "outside the vocabulary"), ([-1], "outside"), ([0.5], "integers"),
                                        ([True], "integers")])
def test_bad_ids_are_refused(ids, match):
    with pytest.raises((ValueError, TypeError), match=match):
        CharTokenizer("abc").decode(ids)


def test_bad_construction():
    with pytest.raises(ValueError, match="empty"):
        CharTokenizer.train("")
    with pytest.raises(ValueError, match="repeated"):
        CharTokenizer("aba")
    with pytest.raises(ValueError, match="one character"):
        CharTokenizer(["ab"])
    with pytest.raises(TypeError, match="str"):
        CharTokenizer.train(b"abc")


def test_to_dict_round_trip():
    tok = CharTokenizer.train("to be or not")
    d = tok.to_dict()
    assert d["kind"] == "char" and d["version"] == 1 and d["vocab"] == tok.chars
    assert from_dict(d) == tok


@pytest.mark.shared_data(SHAKESPEARE, NEKO)
def test_exact_round_trip_on_the_real_corpora(shakespeare, neko):
    for text in (shakespeare, neko):
        tok = train_tokenizer("char", text)
        assert tok.decode(tok.encode(text)) == text
