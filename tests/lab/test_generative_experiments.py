"""The autoencoder and VAE experiments (fukaku/lab/experiments/generative): their measuring helpers against
independent oracles (SciPy's principal angles, closed forms), the data fallback when MNIST is absent, and verdicts
that follow from the measurements — a measurement that contradicts the claim fails the check it contradicts.
(Each experiment's quick run and its verdict are tested in test_experiments.)"""
from __future__ import annotations


import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku import datasets
from fukaku.lab.experiments.generative import (_common, autoencoder_identity, denoising_autoencoder,
                                               linear_autoencoder_pca, sparse_autoencoder_kl, vae_elbo_bound)
from fukaku.lab.registry import Context
from fukaku.models.generative import VAE

scipy_linalg = pytest.importorskip("scipy.linalg")


def test_principal_angles_match_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((12, 3)), rng.standard_normal((12, 3))
    want = np.sort(np.degrees(scipy_linalg.subspace_angles(a, b)))
    np.testing.assert_allclose(linear_autoencoder_pca.principal_angles(a, b), want, atol=1e-8)
    mixed = a @ rng.standard_normal((3, 3))                       # another basis of the same span
    assert linear_autoencoder_pca.principal_angles(a, mixed).max() < 1e-5


def test_relative_error_is_zero_for_a_copy_and_one_for_the_mean():
    rng = np.random.default_rng(1)
    train, x = rng.standard_normal((50, 4)), rng.standard_normal((20, 4))
    assert _common.relative_error(x, x, train) == 0.0
    assert _common.relative_error(x, np.broadcast_to(train.mean(0), x.shape), train) == pytest.approx(1.0)


def test_noise_images_have_the_pixel_moments_of_the_data():
    rng = np.random.default_rng(2)
    train = np.concatenate([rng.normal(3.0, 2.0, (400, 3)), np.zeros((400, 1))], 1)   # one constant pixel
    noise = autoencoder_identity.noise_like(train, 20000, seed=0)
    np.testing.assert_allclose(noise.mean(0), train.mean(0), atol=0.05)
    np.testing.assert_allclose(noise.std(0), train.std(0), atol=0.05)
    assert (noise[:, 3] == 0).all()


def test_independent_pixels_is_the_bernoulli_log_likelihood_of_the_training_means():
    rng = np.random.default_rng(3)
    train, test = rng.uniform(0.05, 0.95, (100, 6)), (rng.uniform(size=(30, 6)) < 0.5).astype(np.float64)
    p = torch.tensor(train.mean(0))
    want = torch.distributions.Bernoulli(probs=p).log_prob(torch.tensor(test)).sum(1).mean().item()
    assert vae_elbo_bound.independent_pixels(train, test) == pytest.approx(want, rel=1e-10)


def test_full_run_without_mnist_falls_back_to_the_digits_and_says_why(monkeypatch, tmp_path):
    def missing(*args, **kwargs):
        raise FileNotFoundError("no MNIST files here")

    monkeypatch.setattr(datasets, "mnist_split", missing)
    data = _common.images(Context(tmp_path, quick=False))
    assert data.side == 8 and "MNIST skipped: no MNIST files here" in data.description
    assert data.train.shape == (1797 - _common.DIGITS_TEST, 64) and len(data.test_labels) == _common.DIGITS_TEST
    assert 0.0 <= data.train.min() and data.train.max() <= 1.0


def test_vae_pictures_decode_the_grid_and_the_segment_between_two_different_digits():
    fk.manual_seed(0)
    model = VAE(64, 2, (8,))
    mu = np.array([[0.0, 0.0], [0.5, 0.5], [2.0, -1.0]], dtype=np.float32)
    grid, path = vae_elbo_bound.VAEElboBound._pictures(model, mu, np.array([3, 3, 7]))
    assert grid.shape == (vae_elbo_bound.GRID ** 2, 64) and path.shape == (vae_elbo_bound.STEPS, 64)
    with fk.no_grad():
        ends = model.mean(fk.tensor(mu[[0, 2]])).numpy()                # the path runs from image 0 to image 2
    np.testing.assert_allclose(path[[0, -1]], ends, atol=1e-6)


def _checks(experiment, measured: dict, **changes) -> dict[str, bool]:
    changed = {**measured, **changes}
    return {check.name: check.holds for check in experiment.checks(changed)}


def test_linear_pca_verdict_follows_the_angle(quick_runs):
    measured = quick_runs("linear-autoencoder-pca").measured
    experiment = linear_autoencoder_pca.LinearAutoencoderPCA()
    assert all(_checks(experiment, measured).values())
    changed = _checks(experiment, measured, **{"largest principal angle (degrees)": 20.0})
    failed = [name for name, holds in changed.items() if not holds]
    assert failed == ["largest principal angle between the decoder's span and PCA's (degrees)"]


def test_sparse_kl_verdict_follows_the_penalty_and_the_activations(quick_runs):
    measured = quick_runs("sparse-autoencoder-kl").measured
    experiment = sparse_autoencoder_kl.SparseAutoencoderKL()
    negative = _checks(experiment, measured, **{"smallest Ω at ĥ ≠ ρ on the grid": -0.01})
    assert [name for name, holds in negative.items() if not holds] == ["smallest Ω at any other ĥ on the grid"]
    dense = {**measured["mean activation over units (test images)"], "sparse": 0.3}
    failed = [n for n, h in _checks(experiment, measured, **{"mean activation over units (test images)": dense}).items()
              if not h]
    assert failed == ["|mean activation − ρ| of the trained sparse AE"]


def test_identity_verdict_follows_the_errors(quick_runs):
    measured = quick_runs("autoencoder-identity").measured
    experiment = autoencoder_identity.AutoencoderIdentity()
    errors = {key: dict(value) for key, value in measured["relative reconstruction error"].items()}
    errors["k = 64"]["noise images"] = 0.3                                  # it would not copy noise
    failed = [n for n, h in _checks(experiment, measured, **{"relative reconstruction error": errors}).items() if not h]
    assert failed == ["k = 64 ≥ d: relative error on noise images"]


def test_denoising_verdict_follows_the_ratio(quick_runs):
    measured = quick_runs("denoising-autoencoder").measured
    experiment = denoising_autoencoder.DenoisingAutoencoderRemovesNoise()
    ratios = {**measured["denoised / corrupted error"], "masking p = 0.3": 1.2}
    failed = [n for n, h in _checks(experiment, measured, **{"denoised / corrupted error": ratios}).items() if not h]
    assert failed == ["masking p = 0.3: denoised error / corrupted input's"]


def test_vae_verdict_follows_the_bounds(quick_runs):
    measured = quick_runs("vae-elbo-bound").measured
    experiment = vae_elbo_bound.VAEElboBound()
    assert all(_checks(experiment, measured).values())
    bounds = dict(measured["importance-sampled log p(x) by k (nats per image)"])
    bounds["256"] = measured["test ELBO (nats per image)"] - 1.0            # an estimate below the ELBO
    failed = [n for n, h in _checks(experiment, measured, **{"importance-sampled log p(x) by k (nats per image)":
                                                              bounds}).items() if not h]
    assert failed == ["rises with k: estimate at k = 256 − at k = 32", "ELBO ≤ estimate at k = 256: estimate − ELBO"]
    assert measured["test ELBO (nats per image)"] > measured["independent Bernoulli pixels (nats per image)"]
