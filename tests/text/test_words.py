"""fukaku.text.WordTokenizer: whitespace words, vocabulary and UNK; seed 003's "Alice likes Bob" table."""
import pytest

from fukaku.text import WordTokenizer, from_dict, train_tokenizer
from fukaku.text.words import lemma


def test_seed003_alice_likes_bob_table():
    """Seed 003: {alice: 1, like: 2, bob: 3, UNK: 4}; "Alice likes cat" → ids [1, 2, 4], multi-hot [1, 1, 0, 1]."""
    tok = WordTokenizer.train("Alice likes Bob", lower=True, lemmatize=True, order="first", pad_token="<pad>",
                              unk_last=True)
    table = {t: tok.token_to_id(t) for t in ("alice", "like", "bob", "<unk>")}
    assert table == {"alice": 1, "like": 2, "bob": 3, "<unk>": 4}
    assert tok.encode("Alice likes cat") == [1, 2, 4]
    assert tok.multi_hot("Alice likes cat")[1:].tolist() == [1, 1, 0, 1]
    assert tok.decode([1, 2, 4]) == "alice like <unk>"


def test_frequency_order_and_size():
    tok = train_tokenizer("words:3", "a b b c c c d")
    assert tok.vocab == ["<unk>", "c", "b"]            # UNK first, then the most frequent
    assert tok.encode("c b a zzz") == [1, 2, 0, 0]
    assert train_tokenizer("words:10", "b a a b c").vocab == ["<unk>", "a", "b", "c"]  # ties sorted


def test_first_appearance_order_keeps_the_most_frequent():
    tok = WordTokenizer.train("z y y x x x", 3, order="first")
    assert tok.vocab == ["<unk>", "y", "x"]


def test_whitespace_is_any_run_and_decode_joins_with_spaces():
    tok = WordTokenizer.train("one  two\nthree\tfour")
    assert tok.decode(tok.encode("one\n\ntwo   three")) == "one two three"


@pytest.mark.parametrize("word, expected", [("likes", "like"), ("cats", "cat"), ("bus", "bus"), ("class", "class"),
                                            ("this", "this"), ("virus", "virus"), ("bob", "bob")])
def test_toy_lemmatiser(word, expected):
    assert lemma(word) == expected


def test_save_load_round_trip(tmp_path):
    from fukaku.text import load

    tok = WordTokenizer.train("Alice likes Bob", lower=True, lemmatize=True, pad_token="<pad>")
    tok.save(tmp_path / "w.json")
    again = load(tmp_path / "w.json")
    assert again == tok and again.encode("ALICE likes bob") == tok.encode("alice like bob")
    assert from_dict(tok.to_dict()).pad_id == 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="order"):
        WordTokenizer.train("a b", order="random")
    with pytest.raises(ValueError, match="vocab_size"):
        WordTokenizer.train("a b", 1)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        WordTokenizer(["a", "b"])
    with pytest.raises(ValueError, match="whitespace"):
        WordTokenizer(["<unk>", "a b"])
