"""The double-descent and autodiff-modes experiments (fukaku/lab/experiments/theory): their measuring helpers against
PyTorch and closed forms, their quick runs' key numbers, and verdicts that follow from the measurements — a
measurement that contradicts the claim fails the check it contradicts. (test_experiments runs each quick run.)"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from fukaku.lab.experiments.theory import (_common, autodiff_modes, double_descent_linear, double_descent_mlp_width,
                                           double_descent_random_features, gd_min_norm)


def failed(experiment, values: dict) -> set[str]:
    return {c.name for c in experiment.checks(values) if not c.holds}


# ------------------------------------------------------------------------------------------- measuring helpers
def test_full_gradient_counts_the_passes_and_matches_torch():
    loss, theta = autodiff_modes.mlp_loss(3, np.random.default_rng(0))
    assert theta.numel() == 10 * 3 + 1
    g_rev, forward_rev, backward_rev, _ = autodiff_modes.full_gradient(loss, theta, "rev")
    g_fwd, forward_fwd, backward_fwd, _ = autodiff_modes.full_gradient(loss, theta, "fwd")
    assert (forward_rev, backward_rev) == (1, 1) and (forward_fwd, backward_fwd) == (31, 0)
    # the same loss in PyTorch: the same batch (the same draws) and the same flat parameter layout
    rng = np.random.default_rng(0)
    x, t = torch.from_numpy(rng.standard_normal((32, 8))), torch.from_numpy(rng.standard_normal((32, 1)))
    th = torch.from_numpy(theta.numpy()).requires_grad_(True)
    w1, b1, w2, b2 = th[:24].reshape(3, 8), th[24:27], th[27:30].reshape(1, 3), th[30:]
    ((torch.tanh(x @ w1.T + b1) @ w2.T + b2 - t) ** 2).mean().backward()
    np.testing.assert_allclose(g_rev, th.grad.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g_fwd, th.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_digits_split_is_disjoint_and_standardised():
    x_train, y_train, x_test, y_test = _common.digits_split(300, seed=4)
    assert x_train.shape == (300, 64) and len(y_test) == 1797 - 300 == len(x_test)
    assert abs(x_train.mean()) < 1e-6 and x_train.std() == pytest.approx(1.0, rel=1e-5)
    rows = {row.tobytes() for row in x_train}
    assert sum(row.tobytes() in rows for row in x_test) < 5                      # (the digits hold a few duplicates)
    again = _common.digits_split(300, seed=4)
    np.testing.assert_array_equal(again[1], y_train)


def test_pooled_mnist_averages_two_by_two_blocks():
    try:
        description, x_train, y_train, x_test, y_test = double_descent_mlp_width.pooled_mnist(50, seed=0)
    except FileNotFoundError:
        pytest.skip("MNIST's files are not here")
    from fukaku import datasets
    raw = datasets.mnist_split(flatten=False, return_tensors=False)
    assert x_train.shape == (50, 196) and x_test.shape == (2000, 196) and "MNIST-8k" in description
    pick = np.random.default_rng(0).permutation(8000)[:50]
    pooled = raw[0][pick][:, :2, :2].mean((1, 2))                                 # the first 2×2 block
    mean, std = (raw[0][pick].reshape(50, 14, 2, 14, 2).mean((2, 4)).mean(),
                 raw[0][pick].reshape(50, 14, 2, 14, 2).mean((2, 4)).std())
    np.testing.assert_allclose(x_train[:, 0], (pooled - mean) / std, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(y_train, raw[1][pick])


# ------------------------------------------------------------------------------------------- the quick runs
def test_quick_linear_run_peaks_at_n_for_every_noisy_sigma(quick_runs):
    m = quick_runs("double-descent-linear").measured
    n = m["n"]
    assert all(p == n for s, p in m["p of the highest median test MSE, per σ"].items() if float(s) > 0)
    ratios = list(m["median test MSE at p = n / σ², per σ > 0"].values())
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-3)   # the same draws for every σ: the peak ∝ σ² (+ σ²)


def test_quick_random_features_and_autodiff_runs(quick_runs):
    rf = quick_runs("double-descent-random-features").measured
    assert rf["N of the highest test MSE"] == rf["n (training images)"]
    modes = quick_runs("autodiff-modes").measured
    assert modes["forward mode: forward evaluations"] == modes["|θ|"]
    assert modes["reverse: (forward evaluations, backward passes)"] == [[1, 1]] * len(modes["|θ|"])
    ratio = modes["time ratio forward / reverse"]
    assert ratio[-1] > ratio[0]


# ------------------------------------------------------------------------------------------ verdicts follow data
def test_linear_verdict_follows_the_measurement():
    exp = double_descent_linear.DoubleDescentLinear()
    good = {"σ > 0: largest |p of the peak − n|": 0, "σ > 0: largest median test MSE ratio p = 2n / p = n": 0.1,
            "peak grows with σ (neighbouring pairs in order)": 3, "pairs of neighbouring σ": 3,
            "σ = 0: median test MSE at p = n / ‖β*‖²": 1e-28, "largest training MSE for p ≥ n": 1e-27,
            "largest |z| of the mean test MSE against the closed form (p ≤ n/2, p ≥ 2n)": 2.0}
    assert failed(exp, good) == set()
    assert failed(exp, {**good, "σ > 0: largest |p of the peak − n|": 4}) == {
        "σ > 0: the peak of the median test MSE is at p = n (distance)"}
    assert failed(exp, {**good, "σ = 0: median test MSE at p = n / ‖β*‖²": 0.5}) == {
        "σ = 0: the peak vanishes, median test MSE at p = n / ‖β*‖²"}
    assert failed(exp, {**good, "peak grows with σ (neighbouring pairs in order)": 2}) == {
        "the peak grows with σ²: neighbouring σ whose peak is higher"}


def test_gd_verdict_follows_the_measurement():
    exp = gd_min_norm.GDMinNorm()
    good = {"from 0: ‖β_T − X⁺y‖ / ‖X⁺y‖": 1e-15, "from β₀: |‖β_T − X⁺y‖ − ‖(I − X⁺X)β₀‖| / ‖(I − X⁺X)β₀‖": 1e-15,
            "from β₀: ‖β_T − X⁺y‖": 9.0, "‖X⁺y‖": 1.0, "largest final training loss": 1e-30,
            "from 0: ‖β_T‖": 1.0, "from β₀: ‖β_T‖": 9.1}
    assert failed(exp, good) == set()
    # a descent that has not converged (too few steps) is neither at X⁺y nor an interpolant
    assert failed(exp, {**good, "from 0: ‖β_T − X⁺y‖ / ‖X⁺y‖": 0.05, "largest final training loss": 1e-3}) == {
        "from 0: relative distance to X⁺y", "both interpolate: final training loss"}
    # an update that left the row space (e.g. weight decay) would pull the start's null-space part in
    assert failed(exp, {**good, "from β₀: |‖β_T − X⁺y‖ − ‖(I − X⁺X)β₀‖| / ‖(I − X⁺X)β₀‖": 0.3}) == {
        "from β₀: distance to X⁺y stays ‖(I − X⁺X)β₀‖ (relative gap)"}


def test_random_features_verdict_follows_the_measurement():
    exp = double_descent_random_features.DoubleDescentRandomFeatures()
    good = {"peak N / n": 1.0, "largest training MSE for N > n": 1e-28, "test MSE at the largest N": 0.2,
            "best test MSE for N ≤ n/2": 0.45, "peak test MSE": 30.0}
    assert failed(exp, good) == set()
    assert failed(exp, {**good, "peak N / n": 2.0}) == {"… and N/n ≤ 1.25"}
    assert failed(exp, {**good, "test MSE at the largest N": 0.5, "peak test MSE": 1.0}) == {
        "second descent: test MSE at the largest N / best for N ≤ n/2",
        "the peak stands out: peak test MSE / test MSE at the largest N"}


def test_mlp_width_verdict_and_summary_follow_the_measurement():
    exp = double_descent_mlp_width.DoubleDescentMLPWidth()
    good = {"peak #params / (n·k)": 1.05, "peak test MSE": 1.3, "best test MSE of the narrower networks": 0.65,
            "test MSE at the largest width": 0.65, "training error at the largest width": 0.0,
            "test error at the largest width": 0.24, "test error at the peak": 0.4}
    assert failed(exp, good) == set()
    assert failed(exp, {**good, "peak #params / (n·k)": 4.0}) == {"… and ≤ 2.0"}
    # no peak: the test MSE only falls with width (e.g. no label noise, or too short a training)
    assert failed(exp, {**good, "peak #params / (n·k)": 0.1, "peak test MSE": 0.9,
                        "best test MSE of the narrower networks": float("nan")}) == {
        "peak near the threshold: #params / (n·k) ≥ 0.5", "a peak: its test MSE / the best narrower network's"}
    base = {"widths": [4, 128], "width at n·k parameters": 26.5, "Adam steps": 1500}
    assert "never crossed" in exp.summary_values({**base, "narrowest width fitting every training label": None})[
        "fitting"]
    assert "effective model complexity" in exp.summary_values(
        {**base, "narrowest width fitting every training label": 128})["fitting"]


def test_autodiff_verdict_follows_the_measurement():
    exp = autodiff_modes.AutodiffModes()
    good = {"sizes where reverse took 1 evaluation and 1 backward pass": 6, "sizes": 6,
            "sizes where forward mode took |θ| evaluations": 6, "forward mode: backward passes": 0,
            "largest relative gradient difference": 3e-16, "log-log slope of the time ratio against |θ|": 0.95}
    assert failed(exp, good) == set()
    # a "forward mode" that secretly backpropagates once per column
    assert failed(exp, {**good, "forward mode: backward passes": 600}) == {"forward mode runs no backward pass"}
    assert failed(exp, {**good, "log-log slope of the time ratio against |θ|": 0.1}) == {
        "the time ratio forward / reverse grows with |θ|: log-log slope"}


@pytest.mark.parametrize("experiment, stated", [
    (double_descent_linear.DoubleDescentLinear, ["n = 40 (30 training sets", "at most 0.25 of that peak",
                                                 "at most 0.01 of ‖β*‖²", "within 5 standard errors"]),
    (gd_min_norm.GDMinNorm, ["n = 40, p = 100, 2,000 steps", "within 1e-6 (relative) of X⁺y"]),
    (double_descent_random_features.DoubleDescentRandomFeatures, ["n = 200 training images (three",
                                                                  "0.8 … 1.25", "at least 3 times"]),
    (double_descent_mlp_width.DoubleDescentMLPWidth, ["Adam lr 2e-3", "1,500 steps", "n = 200", "20%",
                                                      "0.5 … 2 times n·k", "at least 1.3 times", "at most 0.75"]),
    (autodiff_modes.AutodiffModes, ["from 11 to 321", "to 1e-12", "at least 0.5"]),
])
def test_a_docstring_claim_states_the_constants_its_checks_use(experiment, stated):
    for text in stated:
        assert text in f"{experiment.title} {experiment.claim}", (text, experiment.claim)
