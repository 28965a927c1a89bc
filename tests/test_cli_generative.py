"""``fukaku train vae`` and ``fukaku sample`` (fukaku/cli_generative.py) on the digits: the checkpoint round trip,
the reported test ELBO against a recomputation from the saved weights, the sample grid's size, and the errors."""
from __future__ import annotations

import re

import numpy as np
import pytest

import fukaku as fk
from fukaku import datasets
from fukaku.cli_generative import evaluate_elbo, load_vae
from tests.test_cli_rnn import run

pytest.importorskip("sklearn")   # the digits ship with scikit-learn
TINY = ["--epochs", "2", "--hidden", "32", "--k", "5", "--quiet"]


def test_train_vae_saves_a_checkpoint_whose_test_elbo_is_the_reported_one(tmp_path, capsys):
    ckpt = tmp_path / "vae.pt"
    code, out, err = run(["train", "vae", "--data", "digits", *TINY, "--seed", "3", "--save", str(ckpt)], capsys)
    assert code == 0, err
    reported = float(re.search(r"test ELBO (-?[\d.]+) nats/image", out).group(1))
    model, config = load_vae(str(ckpt))
    assert config["latent"] == 2 and config["hidden"] == [32] and config["image_shape"] == [1, 8, 8]
    x, y = datasets.digits(return_tensors=False)
    _, _, x_test, _ = datasets.holdout_split(x, y, test_fraction=0.2, seed=3)   # the split train vae used
    assert evaluate_elbo(model, x_test.astype(np.float32), 3) == pytest.approx(reported, abs=1e-3)
    assert fk.load(ckpt)["results"]["test_elbo"] == pytest.approx(reported, abs=1e-3)
    assert "importance-sampled log p(x)" in out and "k = 5" in out


def test_sample_writes_a_grid_of_n_images(tmp_path, capsys):
    pil = pytest.importorskip("PIL.Image")
    ckpt, grid = tmp_path / "vae.pt", tmp_path / "grid.png"
    assert run(["train", "vae", "--data", "digits", *TINY, "--save", str(ckpt)], capsys)[0] == 0
    code, out, err = run(["sample", str(ckpt), "--n", "12", "--nrow", "4", "--out", str(grid), "--seed", "1"], capsys)
    assert code == 0, err
    with pil.open(grid) as image:
        assert image.size == (4 * (8 + 2) + 2, 3 * (8 + 2) + 2)      # make_grid: 4 columns, 3 rows, padding 2
    again = tmp_path / "again.png"
    run(["sample", str(ckpt), "--n", "12", "--nrow", "4", "--out", str(again), "--seed", "1"], capsys)
    assert grid.read_bytes() == again.read_bytes()                     # --seed makes it reproducible


@pytest.mark.parametrize("argv, message", [
    (["train", "vae", "--data", "digits", "--lr", "0"], "--lr must be a finite number > 0"),
    (["train", "vae", "--data", "digits", "--hidden", "a,b"], "--hidden takes comma-separated widths"),
    (["train", "vae", "--data", "digits", "--latent", "0"], "--latent must be >= 1"),
])
def test_bad_options_are_refused_with_status_2(argv, message, capsys):
    code, _, err = run(argv, capsys)
    assert code == 2 and message in err


def test_sample_refuses_what_is_not_a_vae_checkpoint(tmp_path, capsys):
    other = tmp_path / "mlp.pt"
    fk.save({"config": {"model": "mlp"}, "model": {}}, other)
    code, _, err = run(["sample", str(other)], capsys)
    assert code == 2 and "not a checkpoint of `fukaku train vae`" in err
    code, _, err = run(["sample", str(tmp_path / "missing.pt")], capsys)
    assert code == 2 and "no such checkpoint" in err
