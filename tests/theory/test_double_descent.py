"""fukaku.theory.double_descent against independent oracles: NumPy's pinv and scikit-learn's LinearRegression /
Ridge(α → 0) for the minimum-norm solution, Monte Carlo for Belkin, Hsu & Xu's closed-form risk, the null-space
decomposition for gradient descent's limit, and PyTorch (Adam) for the width sweep's side-by-side training."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku import nn
from fukaku.theory import double_descent as dd


def _design(n: int, p: int, seed: int = 0, k: int | None = None):
    g = np.random.default_rng(seed)
    X = g.standard_normal((n, p))
    y = g.standard_normal(n if k is None else (n, k))
    return X, y


# ------------------------------------------------------------------------------------------ minimum-norm solution
@pytest.mark.parametrize("n, p", [(30, 10), (20, 20), (15, 40)])
def test_min_norm_least_squares_is_the_pseudo_inverse_solution(n, p):
    X, y = _design(n, p, seed=p)
    beta = dd.min_norm_least_squares(fk.tensor(X), fk.tensor(y))
    assert beta.dtype == fk.float64 and beta.shape == (p,)
    np.testing.assert_allclose(beta.numpy(), np.linalg.pinv(X) @ y, rtol=1e-9, atol=1e-10)


def test_under_parameterised_is_ordinary_least_squares():
    from sklearn.linear_model import LinearRegression

    X, y = _design(50, 8, seed=1, k=3)
    beta = dd.min_norm_least_squares(X, y)            # array-likes are accepted, as float64
    assert beta.shape == (8, 3)
    reference = LinearRegression(fit_intercept=False).fit(X, y).coef_.T
    np.testing.assert_allclose(beta.numpy(), reference, rtol=1e-9, atol=1e-12)


def test_over_parameterised_is_the_ridgeless_limit_and_interpolates_with_the_least_norm():
    from sklearn.linear_model import Ridge

    X, y = _design(12, 40, seed=2)
    beta = dd.min_norm_least_squares(X, y).numpy()
    ridge = Ridge(alpha=1e-10, fit_intercept=False, solver="svd").fit(X, y).coef_
    np.testing.assert_allclose(beta, ridge, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(X @ beta, y, atol=1e-10)                       # interpolates
    np.testing.assert_allclose(beta, X.T @ np.linalg.solve(X @ X.T, y), rtol=1e-8)  # lies in the row space
    other = beta + np.linalg.svd(X)[2][-1]                                    # + a null-space direction
    np.testing.assert_allclose(X @ other, y, atol=1e-10)
    assert np.linalg.norm(other) > np.linalg.norm(beta)


def test_min_norm_least_squares_batches_and_names_bad_shapes():
    g = np.random.default_rng(3)
    X, y = g.standard_normal((4, 10, 25)), g.standard_normal((4, 10))
    beta = dd.min_norm_least_squares(fk.tensor(X), fk.tensor(y)).numpy()
    for i in range(4):
        np.testing.assert_allclose(beta[i], np.linalg.pinv(X[i]) @ y[i], rtol=1e-9, atol=1e-12)
    with pytest.raises(fk.ShapeError, match=r"min_norm_least_squares.*\(10, 25\).*\(9,\)"):
        dd.min_norm_least_squares(X[0], y[0, :9])


# --------------------------------------------------------------------------------------- the linear sweep
def test_prefix_model_risk_matches_monte_carlo_on_both_sides_of_the_threshold():
    n, sigma = 20, 0.5
    beta = np.random.default_rng(4).standard_normal(60) / np.sqrt(60)         # signal on every feature
    ps = [5, 12, 35, 60]
    sweep = dd.linear_double_descent(n, ps, beta, [sigma], trials=4000, rng=np.random.default_rng(5))[sigma]
    np.testing.assert_allclose(sweep.test_mse.mean(0), sweep.expected, rtol=0.05)
    np.testing.assert_allclose(sweep.expected, [dd.prefix_model_risk(p, n, beta, sigma) for p in ps])
    assert dd.prefix_model_risk(n, n, beta, sigma) == np.inf
    assert dd.prefix_model_risk(60, n, beta, sigma) == pytest.approx(                # the closed form by hand
        (beta @ beta) * (1 - n / 60) + sigma ** 2 * (1 + n / (60 - n - 1)))
    with pytest.raises(ValueError, match="p = 61"):
        dd.prefix_model_risk(61, n, beta, sigma)


def test_linear_sweep_peaks_at_p_equals_n_and_interpolates_beyond():
    n, k = 24, 8
    beta = np.zeros(72)
    beta[:k] = 1 / np.sqrt(k)                         # k true features: every p ≥ k is well specified
    ps = list(range(4, 73, 4))
    sweeps = dd.linear_double_descent(n, ps, beta, [0.0, 0.5], trials=40, rng=np.random.default_rng(6))
    noisy, clean = sweeps[0.5], sweeps[0.0]
    assert noisy.ps[np.argmax(noisy.median_test_mse)] == n
    assert noisy.ps[np.argmax(np.median(noisy.norm, 0))] == n                    # ‖β̂‖ explodes there too
    assert noisy.train_mse[:, noisy.ps >= n].max() < 1e-20                         # interpolation from p = n on
    assert noisy.train_mse[:, noisy.ps < n].min() > 0
    assert clean.median_test_mse[list(ps).index(n)] < 1e-20                        # σ = 0: no peak at all
    assert dd.prefix_model_risk(n, n, beta, 0.0) == 0.0


# -------------------------------------------------------------------------------------- gradient descent's bias
def test_gradient_descent_from_zero_converges_to_the_min_norm_solution():
    X, y = _design(10, 30, seed=7)
    path = dd.gradient_descent_least_squares(X, y, steps=3000, record_every=100)
    np.testing.assert_allclose(path.beta.numpy(), np.linalg.pinv(X) @ y, atol=1e-9)
    assert path.distances[0] == pytest.approx(np.linalg.norm(np.linalg.pinv(X) @ y))
    assert path.distances[-1] < 1e-9 and np.all(np.diff(path.distances) <= 1e-15)  # monotone in this step size
    assert path.loss < 1e-20 and path.recorded[-1] == 3000 and len(path.recorded) == 31
    assert path.lr == pytest.approx(10 / np.linalg.norm(X, 2) ** 2)


def test_gradient_descent_from_a_nonzero_start_keeps_its_null_space_component():
    X, y = _design(10, 30, seed=8)
    b0 = np.random.default_rng(9).standard_normal(30)
    pinv = np.linalg.pinv(X)
    expected = pinv @ y + (np.eye(30) - pinv @ X) @ b0
    np.testing.assert_allclose(dd.gradient_descent_limit(X, y, b0).numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(dd.gradient_descent_limit(X, y).numpy(), pinv @ y, atol=1e-12)
    path = dd.gradient_descent_least_squares(X, y, steps=3000, init=b0, record_every=3000)
    np.testing.assert_allclose(path.beta.numpy(), expected, atol=1e-9)
    assert path.distances[-1] == pytest.approx(np.linalg.norm((np.eye(30) - pinv @ X) @ b0), rel=1e-8)


def test_gradient_descent_in_the_under_parameterised_case_reaches_ordinary_least_squares():
    X, y = _design(40, 6, seed=10)
    path = dd.gradient_descent_least_squares(X, y, steps=500, init=np.ones(6), record_every=500)
    np.testing.assert_allclose(path.beta.numpy(), np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-9)
    with pytest.raises(fk.ShapeError, match="gradient_descent_least_squares"):
        dd.gradient_descent_least_squares(X, y[:5], steps=1)


# ---------------------------------------------------------------------------------------------- random features
def test_random_relu_features_are_fixed_seeded_and_non_negative():
    x = fk.randn(7, 5, dtype=fk.float64)
    state = fk.random.get_rng_state()
    features = dd.random_relu_features(5, 40, seed=3)
    assert np.array_equal(fk.random.get_rng_state().numpy(), state.numpy())        # the global stream untouched
    assert not any(p.requires_grad for p in features.parameters())
    phi = features(x)
    assert phi.shape == (7, 40) and not phi.requires_grad and phi.numpy().min() >= 0
    np.testing.assert_array_equal(phi.numpy(), dd.random_relu_features(5, 40, seed=3)(x).numpy())
    assert not np.array_equal(phi.numpy(), dd.random_relu_features(5, 40, seed=4)(x).numpy())
    weight, bias = (p.numpy() for p in features[0].parameters())
    np.testing.assert_allclose(phi.numpy(), np.maximum(x.numpy() @ weight.T + bias, 0), rtol=1e-12)


def test_random_features_sweep_interpolates_from_n_features_on():
    g = np.random.default_rng(11)
    n, m, k = 30, 50, 3
    x_train, x_test = g.standard_normal((n, 6)), g.standard_normal((m, 6))
    y_train, y_test = g.integers(0, k, n), g.integers(0, k, m)
    widths = [5, 15, 29, 30, 31, 60, 120]
    sweep = dd.random_features_sweep(x_train, y_train, x_test, y_test, widths, k, seeds=(0, 1))
    assert sweep.test_mse.shape == sweep.train_error.shape == sweep.norm.shape == (2, len(widths)) and sweep.n == n
    at_least_n = sweep.widths >= n
    assert sweep.train_mse[:, at_least_n].max() < 1e-16 and sweep.train_error[:, at_least_n].max() == 0
    assert sweep.train_mse[:, ~at_least_n].min() > 1e-3
    assert np.all(np.diff(sweep.train_mse, axis=1)[:, :3] < 0)                    # more features fit better
    # the read-out is Φ_N⁺ Y (NumPy's pinv as the oracle), the N-feature model the first N features
    phi = dd.random_relu_features(6, 120, seed=1)(fk.tensor(x_train)).numpy()
    readout = np.linalg.pinv(phi[:, :60]) @ np.eye(k)[y_train]
    assert sweep.norm[1, widths.index(60)] == pytest.approx(np.linalg.norm(readout), rel=1e-8)
    phi_test = dd.random_relu_features(6, 120, seed=1)(fk.tensor(x_test)).numpy()[:, :60]
    assert sweep.test_error[1, widths.index(60)] == pytest.approx(np.mean((phi_test @ readout).argmax(1) != y_test))


# ---------------------------------------------------------------------------------------------- MLP width sweep
def test_noisy_labels_change_the_stated_fraction_to_other_classes():
    labels = np.repeat(np.arange(10), 100)
    noisy, changed = dd.noisy_labels(labels, 0.2, 10, np.random.default_rng(12))
    assert changed.sum() == 200 and np.array_equal(noisy != labels, changed)
    counts = np.bincount((noisy[changed] - labels[changed]) % 10, minlength=10)
    assert counts[0] == 0 and counts[1:].min() > 8                                 # every other class is drawn


def test_parallel_mlps_compute_each_mlp_and_count_its_parameters():
    fk.manual_seed(0)
    models = dd.ParallelMLPs(6, [1, 3, 8], 4, seed=5)
    x = fk.randn(9, 6)
    out = models(x)
    assert out.shape == (3, 9, 4)
    for i, width in enumerate((1, 3, 8)):
        alone = models.mlp(i)
        np.testing.assert_allclose(out[i].detach().numpy(), alone(x).detach().numpy(), rtol=1e-5, atol=1e-6)
        assert models.parameter_counts()[i] == sum(p.numel() for p in alone.parameters()) == \
            dd.mlp_parameter_count(6, width, 4)
    fk.manual_seed(5)                                   # initialised as nn.Linear layers drawn from `seed`
    first = nn.Linear(6, 1)
    np.testing.assert_array_equal(models.mlp(0)[0].weight.detach().numpy(), first.weight.detach().numpy())
    with pytest.raises(ValueError, match="widths must be positive"):
        dd.ParallelMLPs(6, [0, 2], 4)


def test_side_by_side_training_is_training_each_mlp_alone_in_torch():
    g = np.random.default_rng(13)
    x, labels = g.standard_normal((16, 5)).astype(np.float32), g.integers(0, 3, 16)
    models = dd.ParallelMLPs(5, [2, 7], 3, seed=1)
    initial = [models.mlp(i) for i in range(2)]
    optimizer = fk.optim.Adam(models.parameters(), lr=0.05)
    target = np.eye(3, dtype=np.float32)[labels]
    for _ in range(5):
        optimizer.zero_grad()
        ((models(fk.tensor(x)) - fk.tensor(target)) ** 2).sum(-1).mean(-1).sum().backward()
        optimizer.step()
    assert np.all(models.w2.detach().numpy()[models.mask.numpy() == 0] == 0)      # the blocks stay apart
    for i, start in enumerate(initial):
        reference = torch.nn.Sequential(torch.nn.Linear(5, models.widths[i]), torch.nn.ReLU(),
                                        torch.nn.Linear(models.widths[i], 3))
        reference.load_state_dict({k: torch.from_numpy(v.detach().numpy()) for k, v in start.state_dict().items()})
        adam = torch.optim.Adam(reference.parameters(), lr=0.05)
        for _ in range(5):
            adam.zero_grad()
            ((reference(torch.from_numpy(x)) - torch.from_numpy(target)) ** 2).sum(-1).mean().backward()
            adam.step()
        for ours, theirs in zip(models.mlp(i).parameters(), reference.parameters()):
            np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_mlp_width_sweep_measures_every_width_and_repeat(loss):
    g = np.random.default_rng(14)
    x_train, x_test = g.standard_normal((20, 4)).astype(np.float32), g.standard_normal((30, 4)).astype(np.float32)
    y_train, y_test = g.integers(0, 3, 20), g.integers(0, 3, 30)
    sweep = dd.mlp_width_sweep(x_train, y_train, x_test, y_test, [1, 64], 3, steps=300, lr=0.02, loss=loss,
                               repeats=2, record_every=100)
    assert sweep.test_error.shape == sweep.train_loss.shape == (2, 2)
    assert sweep.test_error_curve.shape == (3, 2, 2) and list(sweep.curve_steps) == [100, 200, 300]
    np.testing.assert_array_equal(sweep.parameters, [dd.mlp_parameter_count(4, w, 3) for w in (1, 64)])
    assert sweep.train_error[:, 1].max() == 0 < sweep.train_error[:, 0].min()     # the wide one fits noise
    assert sweep.threshold_parameters == 60 and sweep.threshold_width == pytest.approx((60 - 3) / 8)
    np.testing.assert_allclose(sweep.test_error_curve[-1], sweep.test_error)
    with pytest.raises(ValueError, match="loss must be"):
        dd.mlp_width_sweep(x_train, y_train, x_test, y_test, [1], 3, steps=1, loss="hinge")
