"""The NTK and NNGP experiments (fukaku/lab/experiments/theory/ntk_*.py, nngp_*.py): their measuring helpers against
closed forms and fukaku's own models, and verdicts that follow from the measurements — a measurement that
contradicts the claim fails the check it contradicts. (Each experiment's quick run is tested in
test_experiments.)"""
from __future__ import annotations

import math

import numpy as np
import pytest

import fukaku as fk
from fukaku.lab.experiments.theory import (_common, nngp_gaussian_outputs, ntk_change_width, ntk_linearization,
                                           ntk_variance_width)
from fukaku.theory.ntk import ntk_mlp


def failed(experiment, values: dict) -> set[str]:
    return {c.name for c in experiment.checks(values) if not c.holds}


def test_loglog_slope_recovers_a_power_law_and_points_lie_on_the_sphere():
    widths = np.array([8, 32, 128, 512])
    assert _common.loglog_slope(widths, 3.0 * widths ** -0.5) == pytest.approx(-0.5, abs=1e-12)
    x = _common.sphere_points(np.random.default_rng(0), 5, 4)
    assert x.shape == (5, 4)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-14)


def test_kernels_across_seeds_are_symmetric_positive_and_reproducible():
    x = _common.sphere_points(np.random.default_rng(1), 4)
    k = ntk_variance_width.kernels_across_seeds(x, 16, 3, first_seed=7)
    assert k.shape == (3, 4, 4)
    np.testing.assert_allclose(k, np.swapaxes(k, 1, 2), rtol=1e-12)
    assert (np.linalg.eigvalsh(k) > -1e-10).all()
    np.testing.assert_array_equal(k, ntk_variance_width.kernels_across_seeds(x, 16, 3, first_seed=7))
    assert not np.allclose(k[0], k[1])  # different seeds, different networks


def test_variance_verdict_follows_the_measurement():
    exp = ntk_variance_width.NTKVarianceWidth()
    good = {"log-log slope of the variance against the width": -0.97, "relative error at the widest width": 0.02}
    assert failed(exp, good) == set()
    assert failed(exp, {**good, "log-log slope of the variance against the width": -0.5}) == {
        "|slope of log variance vs log width − (−1)|"}


def test_training_without_steps_leaves_the_kernel_and_loss_alone_and_training_moves_both():
    x, y = ntk_change_width.regression_task(np.random.default_rng(2))
    assert x.shape == (ntk_change_width.POINTS, 3) and y.shape == (ntk_change_width.POINTS, 1)
    assert ntk_change_width.train_and_compare(x, y, 16, seed=3, lr=0.05, steps=0) == (0.0, 1.0)
    change, loss_ratio = ntk_change_width.train_and_compare(x, y, 16, seed=3, lr=0.05, steps=30)
    assert change > 0.01 and loss_ratio < 0.5


def test_change_verdict_follows_the_measurement():
    exp = ntk_change_width.NTKChangeWidth()
    good = {"log-log slope of the change against the width": -0.8, "largest final/initial training loss": 0.05,
            "relative NTK change at the widest width": 0.02}
    assert failed(exp, good) == set()
    assert failed(exp, {**good, "log-log slope of the change against the width": -0.2}) == {
        "the change falls at least as fast as 1/√width: log-log slope"}
    assert failed(exp, {**good, "largest final/initial training loss": 0.5}) == {
        "every network fitted its data: final/initial loss"}


def test_linearised_model_follows_the_flow_formula_and_gaps_are_relative_to_training():
    angles, y, test_angles = ntk_linearization.circle_task(np.random.default_rng(3))
    x, xt = ntk_linearization.circle(angles), ntk_linearization.circle(test_angles)
    f = ntk_linearization.three_predictions(x, y, xt, width=8, seed=4, lr=0.002, steps=250)
    assert set(f) == {"network", "linearised", "kernel", "initial"}
    assert ntk_linearization.relative_gap(f["linearised"], f["kernel"], f) < 1e-3  # GD → flow as η → 0
    assert ntk_linearization.relative_gap(f["network"], f["linearised"], f) > 1e-3  # narrow: not linear
    assert ntk_linearization.relative_gap(f["linearised"], f["initial"], f) == pytest.approx(1.0)


def test_linearization_verdict_follows_the_measurement():
    exp = ntk_linearization.NTKLinearization()
    good = {"log-log slope of network vs linearised": -0.5, "network vs kernel at the widest width": 0.01,
            "largest linearised vs kernel": 1e-3}
    assert failed(exp, good) == set()
    assert failed(exp, {**good, "log-log slope of network vs linearised": 0.1}) == {
        "network–linearisation disagreement falls with width: log-log slope"}
    assert failed(exp, {**good, "largest linearised vs kernel": 0.2}) == {
        "linearised model = gradient-flow formula (up to the step size), every width"}


def test_batched_networks_compute_what_ntk_mlp_computes():
    x = _common.sphere_points(np.random.default_rng(5), 3)
    weights = nngp_gaussian_outputs.draw_weights(3, 6, 4, fk.Generator().manual_seed(6))
    f, given = nngp_gaussian_outputs.batched_forward(x, weights)
    assert f.shape == (4, 3) and given.shape == (4, 3, 3)
    cfg = _common.CONFIG
    for net in (0, 3):
        model = ntk_mlp([3, 6, 6, 1], dtype=fk.float64, **cfg)
        model.load_state_dict({f"{2 * i}.{name}": t[net] if name == "weight" else t[net, :, 0]
                               for i, (w, b) in enumerate(weights) for name, t in (("weight", w), ("bias", b))})
        with fk.no_grad():
            np.testing.assert_allclose(model(fk.tensor(x)).numpy()[:, 0], f[net], rtol=1e-12)
            hidden = model[:-1](fk.tensor(x)).numpy()
        want = cfg["weight_variance"] / 6 * hidden @ hidden.T + cfg["bias_variance"]
        np.testing.assert_allclose(given[net], want, rtol=1e-12)


def test_excess_kurtosis_of_known_distributions():
    rng = np.random.default_rng(7)
    samples = np.stack([rng.normal(size=400_000), rng.laplace(size=400_000)], axis=1)
    np.testing.assert_allclose(nngp_gaussian_outputs.excess_kurtosis(samples), [0.0, 3.0], atol=0.1)


def test_gaussian_verdict_follows_the_measurement():
    exp = nngp_gaussian_outputs.NNGPGaussianOutputs()
    slope = f"log-log slope of the excess kurtosis, widths ≥ {nngp_gaussian_outputs.ASYMPTOTIC}"
    good = {"excess kurtosis at the narrowest width": 100.0, "excess kurtosis at the widest width": 0.2, slope: -0.95,
            "covariance error at the widest width": 0.003, "covariance error at width 1 / at the widest": 30.0}
    assert failed(exp, good) == set()
    assert failed(exp, {**good, "excess kurtosis at the widest width": 2.0}) == {
        "Gaussian when wide: |excess kurtosis| at the widest width"}
    assert failed(exp, {**good, "covariance error at the widest width": 0.1,
                        "covariance error at width 1 / at the widest": 1.0}) == {
        "covariance within 2% of the NNGP kernel at the widest width",
        "covariance approaches the kernel: error at width 1 / at the widest"}
    assert math.isclose(nngp_gaussian_outputs.excess_kurtosis(np.array([[1.0], [-1.0]]))[0], -2.0)
