"""``fukaku train gpt`` and ``fukaku generate`` on GPT checkpoints, on a tiny text: the checkpoint (config,
weights, tokenizer) round trip, the reported losses against a recomputation, sampling, and the errors."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

import fukaku as fk
from fukaku.cli_gpt import evaluate_nats, load_gpt
from tests.test_cli_rnn import run

TEXT = ("First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n" * 20
        + "吾輩は猫である。名前はまだ無い。\n" * 10)
TINY = ["--layers", "1", "--d-model", "16", "--heads", "2", "--context", "16", "--batch-size", "4", "--steps", "4",
        "--quiet"]


@pytest.fixture
def text(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text(TEXT, encoding="utf-8")
    return f"text:{path}"


@pytest.mark.parametrize("tokenizer", ["char", "bpe:300"])
def test_train_saves_config_weights_and_tokenizer_and_generate_continues(text, tmp_path, capsys, tokenizer):
    ckpt = tmp_path / "gpt.pt"
    code, out, err = run(["train", "gpt", "--data", text, "--tokenizer", tokenizer, *TINY, "--save", str(ckpt)],
                         capsys)
    assert code == 0, err
    assert "nats/token" in out and "nats/char" in out and "4 steps" in out
    state = fk.load(ckpt)
    assert state["config"]["model"] == "gpt" and state["config"]["gpt"]["d_model"] == 16
    assert isinstance(state["config"]["tokenizer"], str) and json.loads(state["config"]["tokenizer"])
    model, tok = load_gpt(state, str(ckpt))
    # the final validation loss reported is the saved model's on the held-out tail, per token and per character
    val_text = TEXT[-int(len(TEXT) * 0.1):]
    val_ids = np.asarray(tok.encode(val_text))
    nats = evaluate_nats(model, val_ids, 16)
    assert state["results"]["val_nats_per_token"] == pytest.approx(nats, rel=1e-5)
    assert state["results"]["val_nats_per_char"] == pytest.approx(nats * len(val_ids) / len(val_text), rel=1e-5)
    assert f"{nats:.4f} nats/token" in out
    assert json.loads(state["results"]["curve"])[-1]["step"] == 4

    argv = ["generate", str(ckpt), "--prompt", "Speak", "--length", "10", "--seed", "3", "--top-k", "5",
            "--top-p", "0.9", "--temperature", "0.8"]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    want = model.generate(tok.encode("Speak"), 10, temperature=0.8, top_k=5, top_p=0.9, seed=3)
    assert out.rstrip("\n") == tok.decode(want.tolist()) and out.startswith("Speak")
    assert run(argv, capsys)[1] == out  # reproducible with --seed


def test_char_level_nats_per_char_equal_nats_per_token(text, tmp_path, capsys):
    code, out, err = run(["train", "gpt", "--data", text, *TINY, "--threads", "1"], capsys)
    assert code == 0, err
    line = [ln for ln in out.splitlines() if "validation (all" in ln][0]
    per_token, per_char = (float(w) for w in (line.split(" nats/token")[0].split()[-1],
                                              line.split(" nats/char")[0].split()[-1]))
    assert per_token == per_char and 0 < per_token < math.log(len(set(TEXT))) + 0.5


def test_periodic_reports_during_a_timed_run(text, capsys):
    code, out, err = run(["train", "gpt", "--data", text, *TINY[:-3], "--minutes", "0.02", "--eval-every", "0.2"],
                         capsys)
    assert code == 0, err
    assert sum(1 for ln in out.splitlines() if ln.startswith("step ")) >= 1


@pytest.mark.parametrize("argv, message", [
    (["--data", "nofile.txt"], "text:PATH"),
    (["--d-model", "10", "--heads", "4"], "--d-model 10 must be divisible by --heads 4"),
    (["--steps", "2", "--minutes", "1"], "--minutes or --steps"),
    (["--lr", "-1"], "--lr must be a finite number > 0"),
    (["--threads", "0"], "--threads must be >= 1"),
    (["--tokenizer", "zip:3"], "--tokenizer 'zip:3'"),
    (["--context", "100000"], "too few for --context 100000"),
])
def test_bad_options_are_refused_with_status_2(text, capsys, argv, message):
    base = ["train", "gpt", "--data", text]
    code, out, err = run(base + argv if argv[0] != "--data" else ["train", "gpt"] + argv, capsys)
    assert code == 2 and message in err


def test_generate_refuses_bad_prompts_and_options(text, tmp_path, capsys):
    ckpt = tmp_path / "gpt.pt"
    assert run(["train", "gpt", "--data", text, *TINY, "--save", str(ckpt)], capsys)[0] == 0
    for argv, message in ((["--prompt", "Zebra€"], "cannot be encoded"), (["--prompt", "a" * 17], "17 tokens"),
                          (["--top-p", "1.5"], "--top-p must be in (0, 1]"), (["--top-k", "0"], "--top-k"),
                          (["--prompt", ""], "--prompt is empty")):
        code, _, err = run(["generate", str(ckpt), *argv], capsys)
        assert code == 2 and message in err, (argv, err)


def test_top_p_is_refused_for_char_lstm_checkpoints(text, tmp_path, capsys):
    ckpt = tmp_path / "lm.pt"
    assert run(["train", "char-lstm", "--data", text, "--hidden", "4", "--layers", "1", "--embedding", "2",
                "--seq-len", "4", "--batch-size", "2", "--steps", "1", "--epochs", "1", "--quiet", "--save",
                str(ckpt)], capsys)[0] == 0
    code, _, err = run(["generate", str(ckpt), "--prompt", "S", "--top-p", "0.5"], capsys)
    assert code == 2 and "--top-p applies to GPT checkpoints" in err
    code, out, err = run(["generate", str(ckpt), "--prompt", "S", "--length", "3"], capsys)
    assert code == 0 and out.startswith("S"), err
