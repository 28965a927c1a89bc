"""Hostile files for ``fukaku.text.load`` (issue 11), as tests/fuzz/test_fuzz_checkpoints.py does for
checkpoints: whatever bytes a saved tokenizer holds — truncated, bytes flipped, values of the wrong type, huge
numbers, another format version, another kind — loading either refuses it with a ``TokenizerFormatError``
naming the file, or gives a valid tokenizer that encodes and decodes (exactly, where its kind promises it);
never another exception, never a hang.

Seeded mutations of one valid file per kind, then Hypothesis: arbitrary bytes, and JSON trees near the valid
ones.
"""
from __future__ import annotations

import copy
import json
import signal
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fukaku.text import (BPETokenizer, CharTokenizer, Tokenizer, TokenizerFormatError, UnigramTokenizer,
                         WordPieceTokenizer, WordTokenizer, load, train_tokenizer)

CORPUS = "the cat sat on the mat; the cat ate the rat. 吾輩は猫である。 🐢 naïve " * 3
SPECS = {"char": "char", "words": "words:12", "bpe": "bpe:290", "wordpiece": "wordpiece:50", "unigram": "unigram:40"}
SAMPLE = "the rat sat. 猫 🐢 x\n"
LIMIT_S = 10          # a load and a round trip that take longer count as a hang
SETTINGS = settings(max_examples=150, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ODD_VALUES = [None, True, False, 0, -1, 1.5, 2 ** 64, -(10 ** 30), 10 ** 400, 1e308, "", "x", "\u2581", [], {}, [[]],
              [0, 0], ["a", "a"], [[0, 0]] * 3, "char", "bpe", {"format": "fukaku.text"}]


@pytest.fixture(scope="module")
def valid() -> dict[str, dict]:
    return {kind: train_tokenizer(spec, CORPUS).to_dict() for kind, spec in SPECS.items()}


class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: int):
    def stop(signum, frame):
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def usable(tok: Tokenizer) -> None:
    """A loaded tokenizer must work: ids in range, decode gives text, and the round trip its kind promises."""
    assert tok.vocab_size >= 1
    ids = tok.encode(SAMPLE) if not isinstance(tok, CharTokenizer) else []
    assert all(0 <= i < tok.vocab_size for i in ids)
    assert isinstance(tok.decode(ids), str)
    assert isinstance(tok.decode(list(range(min(tok.vocab_size, 50)))), str)
    if isinstance(tok, BPETokenizer):                 # every text, exactly
        assert tok.decode(ids) == SAMPLE
    elif isinstance(tok, CharTokenizer):              # every text of its characters, exactly
        text = "".join(tok.chars[:20]) * 2
        assert tok.decode(tok.encode(text)) == text
    elif isinstance(tok, UnigramTokenizer) and "\u2581" in tok.pieces:
        chars = [p for p in tok.pieces[1:] if len(p) == 1 and p not in "\u2581 "]
        text = " ".join(chars[:10])
        assert tok.decode(tok.encode(text)) == text
    elif isinstance(tok, (WordTokenizer, WordPieceTokenizer)):
        tok.encode(" ".join(tok.vocab[:20]))


def outcome(path: Path) -> str:
    """'loaded' or 'refused'; anything else fails the test."""
    with time_limit(LIMIT_S):
        try:
            tok = load(path)
        except TokenizerFormatError as e:
            assert str(path) in str(e), f"the error does not name the file: {e}"
            return "refused"
        usable(tok)
        return "loaded"


# ------------------------------------------------------------------ seeded mutations
def mutate_bytes(rng: np.random.Generator, data: bytes) -> tuple[str, bytes]:
    how = rng.choice(["truncate", "flip", "insert", "delete", "duplicate"])
    n = len(data)
    i = int(rng.integers(0, n))
    if how == "truncate":
        return how, data[:i]
    if how == "flip":
        out = bytearray(data)
        for j in rng.integers(0, n, size=int(rng.integers(1, 4))):
            out[j] ^= 1 << int(rng.integers(0, 8))
        return how, bytes(out)
    if how == "insert":
        return how, data[:i] + rng.bytes(int(rng.integers(1, 8))) + data[i:]
    if how == "delete":
        return how, data[:i] + data[i + int(rng.integers(1, 16)):]
    return how, data[:i] + data[i:i + 20] + data[i:]


def paths(tree, prefix=()):
    yield prefix
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(tree, list):
        for k in range(min(len(tree), 4)):
            yield from paths(tree[k], prefix + (k,))
        if len(tree) > 4:
            yield from paths(tree[-1], prefix + (len(tree) - 1,))


def mutate_tree(rng: np.random.Generator, d: dict, kinds: list[str]) -> tuple[str, dict]:
    d = copy.deepcopy(d)
    how = rng.choice(["value", "version", "kind", "drop", "huge", "trim"])
    if how == "trim":      # the last entries of a list dropped: often still a valid (smaller) tokenizer
        name = max((k for k in d if isinstance(d[k], list)), key=lambda k: len(d[k]))
        del d[name][len(d[name]) - int(rng.integers(1, 4)):]
    elif how == "version":
        d["version"] = int(rng.choice([0, 2, 99, -1, 2 ** 70]))
    elif how == "kind":
        d["kind"] = str(rng.choice([k for k in kinds if k != d["kind"]] + ["sentencepiece"]))
    elif how == "drop":
        d.pop(str(rng.choice(sorted(d))))
    else:
        where = [p for p in paths(d) if p]
        path = where[int(rng.integers(0, len(where)))]
        node = d
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = (ODD_VALUES[int(rng.integers(0, len(ODD_VALUES)))] if how == "value"
                          else int(rng.choice([2 ** 31, 2 ** 63, 10 ** 20, -(2 ** 63)])))
    return how, d


@pytest.mark.parametrize("kind", SPECS)
def test_seeded_mutations_are_refused_or_load_to_a_working_tokenizer(kind, valid, tmp_path):
    rng = np.random.default_rng(sorted(SPECS).index(kind))
    data = json.dumps(valid[kind], ensure_ascii=False).encode()
    counts = {"loaded": 0, "refused": 0}
    for n in range(150):
        if n % 2:
            how, payload = mutate_bytes(rng, data)
        else:
            how, tree = mutate_tree(rng, valid[kind], list(SPECS))
            payload = json.dumps(tree, ensure_ascii=False).encode()
        path = tmp_path / f"{kind}-{n}.json"
        path.write_bytes(payload)
        try:
            counts[outcome(path)] += 1
        except Exception as e:   # name the variant
            raise AssertionError(f"{kind} variant {n} ({how}) went wrong: {type(e).__name__}: {e}\n"
                                 f"{payload[:300]!r}") from e
    assert counts["refused"] >= 40 and counts["loaded"] >= 3, counts   # neither side vacuous


def test_crafted_files(valid, tmp_path):
    crafted = {
        "doubling merges (a 2**30-byte token)": {**valid["bpe"], "merges": [[0, 0]] + [[256 + k, 256 + k]
                                                                                       for k in range(29)]},
        "a merge using itself": {**valid["bpe"], "merges": [[256, 1]]},
        "bpe fields under kind char": {**valid["bpe"], "kind": "char"},
        "char fields under kind bpe": {**valid["char"], "kind": "bpe"},
        "another version": {**valid["unigram"], "version": 2},
        "huge version": {**valid["unigram"], "version": 10 ** 18},
        "a 2,000-character piece": {**valid["unigram"], "pieces": ["a" * 2000] + valid["unigram"]["pieces"][1:]},
        "NaN score": {**valid["unigram"], "scores": [float("nan")] + valid["unigram"]["scores"][1:]},
        "a score too large for a float": {**valid["unigram"], "scores": [10 ** 400] + valid["unigram"]["scores"][1:]},
        "huge word limit": {**valid["wordpiece"], "max_input_chars_per_word": 10 ** 12},
    }
    for name, d in crafted.items():
        path = tmp_path / "crafted.json"
        path.write_text(json.dumps(d, allow_nan=True))
        assert outcome(path) == "refused", name
    many = tmp_path / "many.json"   # more merges than the vocabulary may have: refused by their count
    many.write_text('{"format": "fukaku.text", "version": 1, "kind": "bpe", "pretokenizer": "gpt2", "merges": ['
                    + "[1,2]," * (1 << 20) + "[1,2]]}")
    assert outcome(many) == "refused"
    deep = tmp_path / "deep.json"
    deep.write_text('{"format": "fukaku.text", "version": 1, "kind": "char", "vocab": ' + "[" * 50000 + "]" * 50000
                    + "}")
    assert outcome(deep) == "refused"
    big = tmp_path / "big.json"
    big.write_text('{"format": "fukaku.text", "version": 1' + "0" * 100000 + "}")
    assert outcome(big) == "refused"


# ------------------------------------------------------------------ Hypothesis
@SETTINGS
@given(st.binary(max_size=400))
def test_arbitrary_bytes(tmp_path, data):
    path = tmp_path / "any.json"
    path.write_bytes(data)
    outcome(path)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children,
                                                                                      max_size=4), max_leaves=12)


@SETTINGS
@given(kind=st.sampled_from(sorted(SPECS)), field=st.text(max_size=12), value=JSON, data=st.data())
def test_json_near_a_valid_tokenizer(tmp_path, valid, kind, field, value, data):
    d = copy.deepcopy(valid[kind])
    fields = sorted(d) + [field]
    d[data.draw(st.sampled_from(fields))] = value
    path = tmp_path / "near.json"
    path.write_text(json.dumps(d))
    outcome(path)


def test_the_judge_is_not_vacuous(valid, tmp_path, monkeypatch):
    """A loader that raised something else, forgot the file's name or returned a broken tokenizer is caught."""
    path = tmp_path / "t.json"
    path.write_text(json.dumps(valid["bpe"]))
    assert outcome(path) == "loaded"
    import fukaku.text.io as io_module

    monkeypatch.setattr(io_module, "from_dict", lambda d, source=None: (_ for _ in ()).throw(KeyError("merges")))
    with pytest.raises(KeyError):
        outcome(path)
    monkeypatch.setattr(io_module, "from_dict", lambda d, source=None: (_ for _ in ()).throw(
        TokenizerFormatError("field 'merges': bad")))
    with pytest.raises(AssertionError, match="does not name the file"):
        outcome(path)
    broken = BPETokenizer.train(CORPUS, 270)
    broken._bytes[ord("x")] = b"!"   # decodes the sample's "x" as "!"
    monkeypatch.setattr(io_module, "from_dict", lambda d, source=None: broken)
    with pytest.raises(AssertionError):
        outcome(path)
