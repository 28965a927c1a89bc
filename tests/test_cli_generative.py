"""``fukaku train vae`` and ``fukaku sample`` (fukaku/cli_generative.py) on the digits: the checkpoint round trip,
the reported test ELBO against a recomputation from the saved weights, the sample grid's size, and the errors."""
from __future__ import annotations

import re

import numpy as np
import pytest

import fukaku as fk
from fukaku import datasets
from fukaku.cli_generative import (bits_per_pixel, evaluate_elbo, from_logit_space, grey_levels, load_checkpoint,
                                    to_logit_space)
from tests.test_cli_rnn import run

pytest.importorskip("sklearn")   # the digits ship with scikit-learn
TINY = ["--epochs", "2", "--hidden", "32", "--k", "5", "--quiet"]


def test_train_vae_saves_a_checkpoint_whose_test_elbo_is_the_reported_one(tmp_path, capsys):
    ckpt = tmp_path / "vae.pt"
    code, out, err = run(["train", "vae", "--data", "digits", *TINY, "--seed", "3", "--save", str(ckpt)], capsys)
    assert code == 0, err
    reported = float(re.search(r"test ELBO (-?[\d.]+) nats/image", out).group(1))
    model, config = load_checkpoint(str(ckpt))
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


def test_sample_refuses_what_is_not_a_generative_checkpoint(tmp_path, capsys):
    other = tmp_path / "mlp.pt"
    fk.save({"config": {"model": "mlp"}, "model": {}}, other)
    code, _, err = run(["sample", str(other)], capsys)
    assert code == 2 and "not a checkpoint of `fukaku train vae|ddpm|gan|realnvp|rbm`" in err
    code, _, err = run(["sample", str(tmp_path / "missing.pt")], capsys)
    assert code == 2 and "no such checkpoint" in err


STEPPED_TINY = {"ddpm": ["--hidden", "32", "--blocks", "1", "--diffusion-steps", "10"],
                "gan": ["--latent", "8", "--channels", "8"],
                "realnvp": ["--hidden", "16", "--couplings", "2"],
                "rbm": ["--hidden", "16", "--k", "2"]}


@pytest.mark.parametrize("kind", ["ddpm", "gan", "realnvp", "rbm"])
def test_train_and_sample_each_stepped_model(kind, tmp_path, capsys):
    pil = pytest.importorskip("PIL.Image")
    ckpt, grid = tmp_path / f"{kind}.pt", tmp_path / "grid.png"
    code, out, err = run(["train", kind, "--data", "digits", "--steps", "20", *STEPPED_TINY[kind], "--quiet",
                          "--save", str(ckpt)], capsys)
    assert code == 0, err
    model, config = load_checkpoint(str(ckpt))
    assert config["model"] == kind and config["steps"] == 20 and config["image_shape"] == [1, 8, 8]
    extra = ["--label", "3", "--guidance", "1", "--ddim-steps", "5"] if kind == "ddpm" else []
    code, out, err = run(["sample", str(ckpt), "--n", "6", "--nrow", "3", "--out", str(grid), "--seed", "2", *extra],
                         capsys)
    assert code == 0, err
    with pil.open(grid) as image:
        assert image.size == (3 * (8 + 2) + 2, 2 * (8 + 2) + 2)


def test_realnvp_reports_the_test_bits_per_pixel_of_its_checkpoint(tmp_path, capsys):
    ckpt = tmp_path / "flow.pt"
    code, out, err = run(["train", "realnvp", "--data", "digits", "--steps", "30", *STEPPED_TINY["realnvp"],
                          "--seed", "4", "--quiet", "--save", str(ckpt)], capsys)
    assert code == 0, err
    reported = float(re.search(r"test bits per pixel ([\d.]+)", out).group(1))
    flow, _ = load_checkpoint(str(ckpt))
    x, y = datasets.digits(return_tensors=False)
    x_test = datasets.holdout_split(x, y, test_fraction=0.2, seed=4)[2].astype(np.float32)
    assert bits_per_pixel(flow, x_test, grey_levels("digits"), 4) == pytest.approx(reported, abs=1e-3)
    # the dequantised logit space inverts back to the pixels' grey levels
    y_space, _ = to_logit_space(x_test[:5], 17, np.random.default_rng(0))
    back = from_logit_space(y_space)
    assert np.all((back >= x_test[:5] * 16 / 17 - 1e-6) & (back <= (x_test[:5] * 16 + 1) / 17 + 1e-6))


@pytest.mark.parametrize("argv, message", [
    (["train", "ddpm", "--data", "digits", "--p-uncond", "1"], "--p-uncond must be in [0, 1)"),
    (["train", "gan", "--data", "digits", "--latent", "0"], "--latent must be >= 1"),
    (["train", "realnvp", "--data", "digits", "--lr", "-1"], "--lr must be a finite number > 0"),
])
def test_stepped_models_refuse_bad_options(argv, message, capsys):
    code, _, err = run(argv, capsys)
    assert code == 2 and message in err


def test_sample_refuses_ddpm_options_for_other_models_and_bad_labels(tmp_path, capsys):
    gan, ddpm = tmp_path / "gan.pt", tmp_path / "ddpm.pt"
    for kind, path in (("gan", gan), ("ddpm", ddpm)):
        assert run(["train", kind, "--data", "digits", "--steps", "2", *STEPPED_TINY[kind], "--quiet", "--save",
                    str(path)], capsys)[0] == 0
    code, _, err = run(["sample", str(gan), "--label", "1"], capsys)
    assert code == 2 and "are for DDPM checkpoints" in err
    code, _, err = run(["sample", str(ddpm), "--label", "10"], capsys)
    assert code == 2 and "--label must be a class from 0 to 9" in err
    code, _, err = run(["sample", str(ddpm), "--ddim-steps", "11"], capsys)
    assert code == 2 and "--ddim-steps must be 1 to 10" in err
