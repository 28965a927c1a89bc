"""``fukaku tokenizer train|encode|decode`` (fukaku/text/cli.py, registered in fukaku/cli.py)."""
import io
import json

import pytest

from fukaku.cli import main
from fukaku.text import load

TEXT = "To be, or not to be, that is the question. 吾輩は猫である。 🐢\n" * 20


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("kind, size", [("bpe", "300"), ("char", None), ("words", "20"), ("wordpiece", "80"),
                                        ("unigram", "60")])
def test_train_encode_decode(capsys, tmp_path, corpus, kind, size):
    out_path = tmp_path / "tok.json"
    argv = ["tokenizer", "train", "--data", str(corpus), "--kind", kind, "--out", str(out_path)]
    status, out, err = run(capsys, *argv, *(["--vocab-size", size] if size else []))
    assert status == 0, err
    tok = load(out_path)
    assert f"{kind} tokenizer: {tok.vocab_size} tokens" in out and "characters per token" in out
    status, out, _ = run(capsys, "tokenizer", "encode", "--tokenizer", str(out_path), "To be, or not")
    assert status == 0 and [int(i) for i in out.split()] == tok.encode("To be, or not")
    status, out, _ = run(capsys, "tokenizer", "decode", "--tokenizer", str(out_path), *out.split())
    assert status == 0 and out == tok.decode(tok.encode("To be, or not")) + "\n"


def test_bpe_round_trip_through_files_and_stdin(capsys, tmp_path, corpus, monkeypatch):
    tok_path = tmp_path / "tok.json"
    assert run(capsys, "tokenizer", "train", "--data", str(corpus), "--kind", "bpe", "--vocab-size", "280",
               "--out", str(tok_path))[0] == 0
    status, ids, _ = run(capsys, "tokenizer", "encode", "--tokenizer", str(tok_path), "--file", str(corpus))
    assert status == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(ids))
    status, out, _ = run(capsys, "tokenizer", "decode", "--tokenizer", str(tok_path))
    assert status == 0 and out == TEXT + "\n"
    monkeypatch.setattr("sys.stdin", io.StringIO("吾輩は🐢"))
    status, ids, _ = run(capsys, "tokenizer", "encode", "--tokenizer", str(tok_path))
    assert status == 0 and load(tok_path).decode([int(i) for i in ids.split()]) == "吾輩は🐢"
    assert run(capsys, "tokenizer", "decode", "--tokenizer", str(tok_path), "256,257", "258")[0] == 0


def test_errors_are_one_line_with_a_status(capsys, tmp_path, corpus):
    tok_path = tmp_path / "tok.json"
    run(capsys, "tokenizer", "train", "--data", str(corpus), "--kind", "char", "--out", str(tok_path))
    status, _, err = run(capsys, "tokenizer", "decode", "--tokenizer", str(tok_path), "0", "99999")
    assert status == 1 and "id 99999 is outside the vocabulary" in err
    status, _, err = run(capsys, "tokenizer", "decode", "--tokenizer", str(tok_path), "1", "x2")
    assert status == 1 and "'x2' is not an integer token id" in err
    status, _, err = run(capsys, "tokenizer", "encode", "--tokenizer", str(tok_path), "Zebra")
    assert status == 1 and "'Z'" in err and "not in the vocabulary" in err
    status, _, err = run(capsys, "tokenizer", "train", "--data", str(corpus), "--kind", "bpe", "--out", "x.json")
    assert status == 2 and "--vocab-size" in err
    status, _, err = run(capsys, "tokenizer", "train", "--data", str(corpus), "--kind", "char", "--vocab-size", "9",
                         "--out", "x.json")
    assert status == 2 and "does not apply" in err
    status, _, err = run(capsys, "tokenizer", "encode", "--tokenizer", str(tok_path), "a", "--file", str(corpus))
    assert status == 2 and "not both" in err
    status, _, err = run(capsys, "tokenizer", "train", "--data", str(tmp_path / "none.txt"), "--kind", "char",
                         "--out", "x.json")
    assert status == 1 and "none.txt" in err
    assert run(capsys, "tokenizer")[0] == 2
    assert run(capsys, "tokenizer", "train", "--kind", "gpt")[0] == 2          # argparse: usage error


def test_corrupt_or_foreign_tokenizer_files(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "fukaku.text", "version": 7, "kind": "bpe"}))
    status, _, err = run(capsys, "tokenizer", "encode", "--tokenizer", str(bad), "hi")
    assert status == 1 and str(bad) in err and "version" in err
    bad.write_bytes(b"\x80\x04pickle")
    status, _, err = run(capsys, "tokenizer", "decode", "--tokenizer", str(bad), "1")
    assert status == 1 and "not UTF-8" in err
    status, _, err = run(capsys, "tokenizer", "encode", "--tokenizer", str(tmp_path / "missing.json"), "hi")
    assert status == 1 and "missing.json" in err


def test_listed_in_fukaku_help(capsys):
    assert main(["--help"]) == 0
    assert "tokenizer" in capsys.readouterr().out
