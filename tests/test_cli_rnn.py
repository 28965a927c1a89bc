"""``fukaku train char-lstm`` and ``fukaku generate`` on a tiny text: the checkpoint (vocabulary
included) round trip, exact resume, sampling, and the errors a user can make."""
from __future__ import annotations

import numpy as np
import pytest

import fukaku as fk
from fukaku.cli import main
from fukaku.models.rnn import CharLM

TEXT = "吾輩は猫である。名前はまだ無い。\nどこで生れたかとんと見当がつかぬ。" * 6
TINY = ["--hidden", "8", "--layers", "1", "--embedding", "4", "--seq-len", "8", "--batch-size", "4", "--steps", "3",
        "--quiet"]


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def text(tmp_path):
    path = tmp_path / "neko.txt"
    path.write_text(TEXT, encoding="utf-8")
    return f"text:{path}"


def _train(text, tmp_path, capsys, *extra, name="lm.pt"):
    ckpt = tmp_path / name
    code, out, err = run(["train", "char-lstm", "--data", text, *TINY, "--save", str(ckpt), *extra], capsys)
    assert code == 0, err
    return ckpt, out


def test_train_saves_a_model_with_its_vocabulary_and_generate_continues_the_prompt(text, tmp_path, capsys):
    ckpt, out = _train(text, tmp_path, capsys, "--epochs", "2")
    assert "nats/char" in out and "2 epochs" in out
    state = fk.load(ckpt)
    config = state["config"]
    assert config["model"] == "char-lstm" and sorted(config["lm"]["vocab"]) == sorted(set(TEXT))
    # the validation loss reported is that of the saved model on the held-out tail of the text
    val = state["results"]["val_loss"]
    assert np.isfinite(val) and state["history"]["history"]["val_loss"][-1] == val
    model = CharLM.from_config(config["lm"])
    model.load_state_dict(state["model"])

    code, out, err = run(["generate", str(ckpt), "--prompt", "吾輩は", "--length", "12", "--seed", "3",
                          "--temperature", "0.8", "--top-k", "5"], capsys)
    assert code == 0, err
    sample = out.rstrip("\n")
    assert sample.startswith("吾輩は") and len(sample) == 3 + 12 and set(sample) <= set(TEXT)
    assert sample == model.generate("吾輩は", 12, temperature=0.8, top_k=5, seed=3)  # the same model, the same draw
    assert run(["generate", str(ckpt), "--prompt", "吾輩は", "--length", "12", "--seed", "3",
                "--temperature", "0.8", "--top-k", "5"], capsys)[1] == out  # reproducible with --seed
    greedy = run(["generate", str(ckpt), "--prompt", "猫", "--length", "5", "--temperature", "0"], capsys)[1]
    assert greedy.rstrip("\n") == model.generate("猫", 5, temperature=0)


def test_resume_continues_exactly(text, tmp_path, capsys):
    straight, _ = _train(text, tmp_path, capsys, "--epochs", "2", name="straight.pt")
    resumed, _ = _train(text, tmp_path, capsys, "--epochs", "1", name="resumed.pt")
    _, out = _train(text, tmp_path, capsys, "--epochs", "2", "--resume", name="resumed.pt")
    assert "resuming" in out
    a, b = fk.load(straight)["model"], fk.load(resumed)["model"]
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy(), err_msg=key)
    code, _, err = run(["train", "char-lstm", "--data", text, *TINY, "--lr", "0.01", "--epochs", "3", "--save",
                        str(resumed), "--resume"], capsys)
    assert code == 2 and "lr: 0.002 there, 0.01 now" in err


def test_help(capsys):
    code, out, _ = run(["train", "char-lstm", "--help"], capsys)
    assert code == 0
    for word in ("text:PATH", "--hidden", "--layers", "--seq-len", "--batch-size", "--epochs", "--steps", "--lr",
                 "--clip", "--save", "--resume", "nats/char"):
        assert word in out
    code, out, _ = run(["generate", "--help"], capsys)
    assert code == 0 and all(w in out for w in ("CHECKPOINT", "--prompt", "--temperature", "--top-k", "--length"))
    assert "char-lstm" in run(["train", "--help"], capsys)[1]
    assert "generate" in run(["--help"], capsys)[1]


def test_errors(text, tmp_path, capsys):
    def error(argv):
        code, _, err = run(argv, capsys)
        assert code == 2, err
        return err

    assert "text:PATH" in error(["train", "char-lstm", "--data", "neko.txt"])
    assert "no such file" in error(["train", "char-lstm", "--data", "text:" + str(tmp_path / "missing.txt")])
    assert "--seq-len must be >= 1, got 0" in error(["train", "char-lstm", "--data", text, "--seq-len", "0"])
    assert "--resume needs --save" in error(["train", "char-lstm", "--data", text, "--resume"])
    assert "too few" in error(["train", "char-lstm", "--data", text, "--seq-len", "500"])
    ckpt, _ = _train(text, tmp_path, capsys, "--epochs", "1")
    assert "'Z'" in error(["generate", str(ckpt), "--prompt", "吾Z"])  # a character it never saw, named
    assert "--top-k must be between 1 and" in error(["generate", str(ckpt), "--prompt", "猫", "--top-k", "0"])
    other = tmp_path / "other.pt"
    fk.save({"model": {"w": fk.ones(1)}}, other)
    assert "not a checkpoint of `fukaku train char-lstm`" in error(["generate", str(other)])
    assert "no such checkpoint" in error(["generate", str(tmp_path / "none.pt")])


def test_the_trained_module_computes_the_char_lm_logits():
    """char-lstm trains a CharLM through a subclass that drops the state: the same logits as CharLM's."""
    from fukaku.cli import _NextCharLogits

    fk.manual_seed(0)
    trained = _NextCharLogits(vocab="abcde", embedding_dim=3, hidden_size=6, num_layers=2)
    plain = CharLM.from_config(trained.config)
    plain.load_state_dict(trained.state_dict())
    x = fk.randint(0, 5, (3, 7))
    np.testing.assert_allclose(trained(x).detach().numpy(), plain(x)[0].detach().numpy(), rtol=1e-6, atol=1e-7)
