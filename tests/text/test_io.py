"""fukaku.text.train_tokenizer, from_dict, load: specs, the saved format, and clear refusals naming the file,
the field and what was expected."""
import json

import pytest

import fukaku.text as text
from fukaku.text import TokenizerFormatError, from_dict, load, train_tokenizer

CORPUS = "the cat sat on the mat; the cat ate the rat. 吾輩は猫である 🐢 " * 4
SPECS = ["char", "words:20", "bpe:300", "wordpiece:60", "unigram:40"]


@pytest.mark.parametrize("spec", SPECS)
def test_every_kind_trains_saves_and_loads_to_an_equal_tokenizer(spec, tmp_path):
    tok = train_tokenizer(spec, CORPUS)
    assert tok.kind == spec.split(":")[0]
    d = tok.to_dict()
    assert json.loads(json.dumps(d)) == d                     # JSON-compatible as it is
    assert (d["format"], d["version"], d["kind"]) == ("fukaku.text", 1, tok.kind)
    tok.save(tmp_path / "t.json")
    again = load(tmp_path / "t.json")
    assert type(again) is type(tok) and again == tok
    sample = "the cat sat"
    assert again.encode(sample) == tok.encode(sample)
    assert again.decode(tok.encode(sample)).split() == tok.decode(tok.encode(sample)).split()
    if ":" in spec and spec.split(":")[0] != "unigram":
        assert tok.vocab_size <= int(spec.split(":")[1])
    for i in range(tok.vocab_size):                           # ids and tokens are inverse maps
        assert tok.token_to_id(tok.id_to_token(i)) == i or tok.kind == "bpe"


def test_save_is_atomic_and_utf8(tmp_path):
    tok = train_tokenizer("char", "吾輩は猫")
    tok.save(tmp_path / "c.json")
    assert "\"吾\"" in (tmp_path / "c.json").read_text(encoding="utf-8")   # written as UTF-8, not \\u escapes
    assert list(tmp_path.iterdir()) == [tmp_path / "c.json"]   # no temporary file left behind
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tok.save(tmp_path / "missing" / "c.json")


@pytest.mark.parametrize("spec, match", [("bpe", "needs a vocabulary size"), ("char:10", "takes no size"),
                                         ("gpt:100", "unknown tokenizer spec"), ("bpe:-3", "unknown"),
                                         ("bpe:100", "vocab_size must be in"), ("words:1", "vocab_size")])
def test_bad_specs(spec, match):
    with pytest.raises(ValueError, match=match):
        train_tokenizer(spec, CORPUS)
    with pytest.raises(TypeError):
        train_tokenizer(4000, CORPUS)


def good(kind="bpe"):
    return train_tokenizer({"char": "char", "bpe": "bpe:270", "words": "words:10", "wordpiece": "wordpiece:40",
                            "unigram": "unigram:30"}[kind], CORPUS).to_dict()


@pytest.mark.parametrize("change, match", [
    (lambda d: d.update(version=2), r"field 'version': expected format version 1, got version 2"),
    (lambda d: d.update(version="1"), r"field 'version'"),
    (lambda d: d.update(format="safetensors"), r"field 'format': expected 'fukaku.text'"),
    (lambda d: d.update(kind="sentencepiece"),
     r"field 'kind': expected one of 'bpe', 'char', .*got a string 'sentencepiece'"),
    (lambda d: d.pop("merges"), r"field 'merges' is missing"),
    (lambda d: d.update(merges=[[1, 2], [3]]), r"field 'merges'.*merge 1 is \[3\]"),
    (lambda d: d.update(merges=[[1, 9999]]), r"merge 0 \(1, 9999\) uses a token that does not exist yet"),
    (lambda d: d.update(merges=[[1, True]]), r"field 'merges'"),
    (lambda d: d.update(pretokenizer=".*(a+)+$"), r"field 'pretokenizer': expected one of 'gpt2'"),
    (lambda d: d.update(extra=1), r"unexpected field 'extra'"),
])
def test_bad_dicts_are_refused_naming_the_field(change, match):
    d = good()
    change(d)
    with pytest.raises(TokenizerFormatError, match=match) as info:
        from_dict(d, source="tokenizer file x.json")
    assert str(info.value).startswith("tokenizer file x.json: ")


@pytest.mark.parametrize("kind, change, match", [
    ("char", lambda d: d.update(vocab=["a", "a"]), "entry 1 .* repeats"),
    ("char", lambda d: d.update(vocab=["ab"]), "single characters"),
    ("char", lambda d: d.update(vocab=[]), "non-empty"),
    ("char", lambda d: d.update(vocab=["\ud800"]), "lone surrogate"),
    ("words", lambda d: d.update(unk_token="<nope>"), "field 'unk_token': expected a token of 'vocab'"),
    ("words", lambda d: d.update(lower="yes"), "field 'lower': expected true or false"),
    ("wordpiece", lambda d: d.update(max_input_chars_per_word=0), "max_input_chars_per_word"),
    ("wordpiece", lambda d: d.update(vocab=[1, 2]), "entry 0 is an integer 1"),
    ("unigram", lambda d: d.update(scores=d["scores"][:-1]), "one score per piece"),
    ("unigram", lambda d: d["scores"].__setitem__(0, "x"), "finite numbers"),
    ("unigram", lambda d: d.update(pieces=["<unk>"] + d["pieces"][1:]), "other than '<unk>'"),
])
def test_bad_fields_of_each_kind(kind, change, match):
    d = good(kind)
    change(d)
    with pytest.raises(TokenizerFormatError, match=match):
        from_dict(d)


@pytest.mark.parametrize("payload, match", [
    (b"", "not valid JSON"), (b"\xff\xfe", "not UTF-8"), (b"[1, 2]", "expected a JSON object"),
    (b'{"format": "fukaku.text", "version": NaN}', "not valid JSON"), (b"[" * 100000, "not valid JSON"),
    (b'{"format": "fukaku.text", "version": 1' + b"0" * 5000 + b"}", "not valid JSON"),
])
def test_bad_files_are_refused_naming_the_file(tmp_path, payload, match):
    path = tmp_path / "bad.json"
    path.write_bytes(payload)
    with pytest.raises(TokenizerFormatError, match=match) as info:
        load(path)
    assert str(path) in str(info.value)


def test_pickle_is_not_read(tmp_path):
    import pickle

    path = tmp_path / "tok.pkl"
    path.write_bytes(pickle.dumps(good()))
    with pytest.raises(TokenizerFormatError, match="not"):
        load(path)


def test_public_names():
    for name in ("CharTokenizer", "WordTokenizer", "BPETokenizer", "WordPieceTokenizer", "UnigramTokenizer",
                 "train_tokenizer", "from_dict", "load", "Tokenizer", "TokenizerFormatError"):
        assert name in text.__all__ and hasattr(text, name)
