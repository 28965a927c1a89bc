"""fukaku.models against independent oracles: scikit-learn (perceptron, logistic and linear
regression), PyTorch (MLP layout and outputs), float64 finite differences and fukaku's autograd
(ManualMLP's hand-written δ-recursion), closed forms (least squares, Novikoff's bound); and the
accuracy targets of issue 3 on digits and on MNIST (the MNIST test needs the shared files: see tests/conftest.py).
"""
import warnings

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku import nn
from fukaku.models import (MLP, LinearRegression, LogisticRegression, ManualMLP, Perceptron, margin, max_margin,
                           novikoff_bound)

sklearn = pytest.importorskip("sklearn")
from sklearn.linear_model import LinearRegression as SkLinearRegression  # noqa: E402
from sklearn.linear_model import LogisticRegression as SkLogisticRegression  # noqa: E402
from sklearn.linear_model import Perceptron as SkPerceptron  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402


def separable(n=300, d=4, gap=0.3, seed=0):
    """Points labelled ±1 by a random hyperplane, with the points within ``gap`` of it removed."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    s = X @ rng.normal(size=d) + 0.5
    keep = np.abs(s) > gap
    return X[keep], np.sign(s[keep])


def xor(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-5, 5, (n, 2))
    return X, np.sign(X[:, 0] * X[:, 1])


# ---------------------------------------------------------------------------- perceptron
def reference_perceptron(X, y, max_epochs, lr, shuffle, seed):
    """The rule of seed 000 §6.1.1 written sample by sample, as the textbook states it."""
    w, b = np.zeros(X.shape[1]), 0.0
    rng = np.random.default_rng(seed)
    updates = 0
    for _ in range(max_epochs):
        mistakes = 0
        for i in (rng.permutation(len(X)) if shuffle else range(len(X))):
            if y[i] * (w @ X[i] + b) <= 0:
                w, b = w + lr * y[i] * X[i], b + lr * y[i]
                mistakes += 1
        updates += mistakes
        if mistakes == 0:
            return w, b, updates, True
    return w, b, updates, False


def test_perceptron_equals_scikit_learn_in_order():
    X, y = separable()
    model = Perceptron(4, dtype=np.float64)
    fit = model.fit(X, y, max_epochs=100, shuffle=False)
    assert fit.converged and fit.mistakes_per_epoch[-1] == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = SkPerceptron(shuffle=False, tol=None, max_iter=fit.epochs, eta0=1.0).fit(X, y)
    np.testing.assert_allclose(model.weight.data.numpy(), sk.coef_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(model.bias.data.numpy(), sk.intercept_, rtol=0, atol=1e-12)
    assert np.array_equal(model(fk.tensor(X)).numpy(), y)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_perceptron_equals_sample_by_sample_rule_with_shuffling(seed):
    X, y = separable(n=500, d=3, gap=0.05, seed=seed)
    model = Perceptron(3, dtype=np.float64)
    fit = model.fit(X, y, max_epochs=200, lr=0.5, shuffle=True, seed=seed)
    w, b, updates, converged = reference_perceptron(X, y, 200, 0.5, True, seed)
    assert (fit.updates, fit.converged) == (updates, converged)
    np.testing.assert_allclose(model.weight.data.numpy()[0], w, rtol=0, atol=1e-12)
    np.testing.assert_allclose(model.bias.data.numpy()[0], b, rtol=0, atol=1e-12)


def test_perceptron_updates_within_novikoff_bound_and_independent_of_lr():
    X, y = separable(n=400, d=5, gap=0.2, seed=3)
    fits, weights = [], []
    for lr in (1.0, 0.01):
        model = Perceptron(5, dtype=np.float64)
        fits.append(model.fit(X, y, max_epochs=1000, lr=lr, seed=7))
        weights.append(np.r_[model.weight.data.numpy()[0], model.bias.data.numpy()] / lr)
    assert fits[0].converged and fits[0].updates == fits[1].updates  # zero start: η only scales w̃
    np.testing.assert_allclose(weights[0], weights[1], rtol=1e-9)
    best = max_margin(X, y)
    assert 0 < best.gamma <= best.gamma_upper <= best.gamma * (1 + 1e-8)
    bound = novikoff_bound(X, y, best.weight, best.bias)
    radius = np.max(np.linalg.norm(np.c_[X, np.ones(len(X))], axis=1))
    assert bound == pytest.approx((radius / best.gamma) ** 2)
    assert fits[0].updates <= bound
    # the perceptron's own separator is valid too, with a smaller margin and so a looser bound
    own = weights[0]
    assert 0 < margin(X, y, own[:-1], own[-1]) <= best.gamma_upper
    assert novikoff_bound(X, y, own[:-1], own[-1]) >= bound * (1 - 1e-9)


def test_max_margin_matches_a_large_c_linear_svm():
    # LinearSVC without intercept on x̃ = (x, 1) approaches the same hard-margin problem as C grows
    X, y = separable(n=200, d=3, gap=0.2, seed=5)
    best = max_margin(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        svc = LinearSVC(loss="hinge", fit_intercept=False, C=1e4, tol=1e-10, max_iter=1_000_000)
        v = svc.fit(np.c_[X, np.ones(len(X))], y).coef_[0]
    sk_gamma = margin(X, y, v[:-1], v[-1])
    assert sk_gamma <= best.gamma_upper * (1 + 1e-9)
    assert best.gamma == pytest.approx(sk_gamma, rel=1e-4)


def test_perceptron_never_converges_on_xor():
    X, y = xor()
    fit = Perceptron(2).fit(X, y, max_epochs=30)
    assert not fit.converged and fit.epochs == 30
    assert min(fit.mistakes_per_epoch) > 0
    with pytest.raises(ValueError, match="not linearly separable"):
        max_margin(X, y)
    with pytest.raises(ValueError, match="does not separate"):
        novikoff_bound(X, y, [1.0, 0.0], 0.0)


def test_perceptron_rejects_bad_input_without_changing_weights():
    X, y = separable(n=50, d=2)
    model = Perceptron(2)
    model.fit(X, y, max_epochs=1)
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"2 \* y - 1"):
        model.fit(X, (y > 0).astype(int))
    with pytest.raises(fk.ShapeError, match=r"\(N, 2\)"):
        model.fit(X[:, :1], y)
    with pytest.raises(fk.ShapeError, match="one entry per sample"):
        model.fit(X, y[:-1])
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.fit(bad, y)
    for key, value in model.state_dict().items():
        assert np.array_equal(value.numpy(), before[key].numpy())


def test_perceptron_weights_move_to_torch_linear():
    X, y = separable(n=80, d=3)
    model = Perceptron(3)
    model.fit(X, y)
    layer = torch.nn.Linear(3, 1)
    layer.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in model.state_dict().items()})
    x = X.astype(np.float32)
    expected = np.where(layer(torch.from_numpy(x)).detach().numpy()[:, 0] >= 0, 1.0, -1.0)
    assert np.array_equal(model(fk.tensor(x)).numpy(), expected)


# ---------------------------------------------------------------------------- logistic regression
def logistic_data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    p = 1 / (1 + np.exp(-(X @ np.array([1.5, -2.0, 0.5]) + 0.3)))
    return X, (rng.random(n) < p).astype(np.int64)


def test_logistic_regression_equals_unregularised_scikit_learn():
    X, y = logistic_data()
    model = LogisticRegression(3, dtype=np.float64)
    fit = model.fit(X, y, tol=1e-9)
    assert fit.converged
    sk = SkLogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(model.weight.data.numpy(), sk.coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(model.bias.data.numpy(), sk.intercept_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(model.predict_proba(fk.tensor(X)).numpy(), sk.predict_proba(X)[:, 1], atol=1e-7)
    assert np.array_equal(model.predict(fk.tensor(X)).numpy(), sk.predict(X))
    # the maximised objective is the Bernoulli log-likelihood of §6.1.1
    p = sk.predict_proba(X)[:, 1]
    assert -fit.loss * len(X) == pytest.approx(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)), rel=1e-9)


def test_multinomial_logistic_regression_equals_scikit_learn():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 240)
    X = rng.normal(size=(240, 3)) + np.eye(3)[y]
    model = LogisticRegression(3, num_classes=3, dtype=np.float64)
    assert model.fit(X, y, tol=1e-9).converged
    sk = SkLogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(model.predict_proba(fk.tensor(X)).numpy(), sk.predict_proba(X), atol=1e-7)
    # softmax weights are defined up to a shift shared by the classes
    diff = sk.coef_ - model.weight.data.numpy()
    np.testing.assert_allclose(diff - diff.mean(axis=0), 0, atol=1e-6)


def test_logistic_regression_l2_equals_scikit_learn_c():
    X, y = logistic_data(seed=2)
    C = 0.5
    model = LogisticRegression(3, dtype=np.float64)
    assert model.fit(X, y, l2=1 / (2 * C * len(X)), tol=1e-10).converged
    sk = SkLogisticRegression(C=C, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(model.weight.data.numpy(), sk.coef_, atol=1e-7)
    np.testing.assert_allclose(model.bias.data.numpy(), sk.intercept_, atol=1e-7)


def test_logistic_regression_adam_reaches_the_same_optimum():
    X, y = logistic_data(seed=4)
    gd, adam = LogisticRegression(3, dtype=np.float64), LogisticRegression(3, dtype=np.float64)
    gd.fit(X, y, tol=1e-9)
    adam.fit(X, y, optimizer="adam", lr=0.05, max_iter=3000, tol=1e-7)
    np.testing.assert_allclose(adam.weight.data.numpy(), gd.weight.data.numpy(), atol=1e-4)


def test_logistic_regression_rejects_bad_labels_without_changing_weights():
    X, y = logistic_data()
    model = LogisticRegression(3)
    with pytest.raises(ValueError, match=r"0\.\.1"):
        model.fit(X, y + 1)
    with pytest.raises(ValueError, match="optimizer"):
        model.fit(X, y, optimizer="lbfgs")
    assert not model.weight.data.numpy().any() and not model.bias.data.numpy().any()


# ---------------------------------------------------------------------------- linear regression
def test_linear_regression_closed_form_and_gd_equal_scikit_learn():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 4))
    Y = X @ rng.normal(size=(4, 2)) + np.array([0.7, -1.0]) + 0.1 * rng.normal(size=(150, 2))
    sk = SkLinearRegression().fit(X, Y)
    closed = LinearRegression(4, 2, dtype=np.float64)
    assert closed.fit(X, Y) is None
    np.testing.assert_allclose(closed.weight.data.numpy(), sk.coef_, atol=1e-10)
    np.testing.assert_allclose(closed.bias.data.numpy(), sk.intercept_, atol=1e-10)
    gd = LinearRegression(4, 2, dtype=np.float64)
    fit = gd.fit(X, Y, method="gd", tol=1e-10)
    assert fit.converged and fit.losses[-1] < fit.losses[0]
    np.testing.assert_allclose(gd.weight.data.numpy(), sk.coef_, atol=1e-8)
    np.testing.assert_allclose(gd.bias.data.numpy(), sk.intercept_, atol=1e-8)
    np.testing.assert_allclose(gd.predict(fk.tensor(X)).numpy(), sk.predict(X), atol=1e-8)


def test_linear_regression_rank_deficient_gives_minimum_norm_solution():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 1))
    X = np.c_[x, 2 * x]  # collinear columns
    y = 3 * x[:, 0] + 1
    model = LinearRegression(2, dtype=np.float64)
    model.fit(X, y)
    theta = np.linalg.pinv(np.c_[X, np.ones(50)]) @ y
    np.testing.assert_allclose(np.r_[model.weight.data.numpy()[0], model.bias.data.numpy()], theta, atol=1e-10)


def test_diverging_gradient_descent_restores_the_weights():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(40, 2)), rng.normal(size=40)
    model = LinearRegression(2, dtype=np.float64)
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError, match="lower lr"):
        model.fit(X, y, method="gd", lr=1e3, max_iter=500)
    assert not model.weight.data.numpy().any() and not model.bias.data.numpy().any()
    with pytest.raises(fk.ShapeError, match=r"\(N,\) or \(N, 1\)"):
        model.fit(X, np.zeros((40, 2)))


# ---------------------------------------------------------------------------- MLP
def torch_mlp(sizes, batchnorm, dropout, output):
    layers = []
    for d_in, d_out in zip(sizes[:-2], sizes[1:-1]):
        layers.append(torch.nn.Linear(d_in, d_out))
        if batchnorm:
            layers.append(torch.nn.BatchNorm1d(d_out))
        layers.append(torch.nn.Tanh())
        if dropout:
            layers.append(torch.nn.Dropout(dropout))
    layers.append(torch.nn.Linear(sizes[-2], sizes[-1]))
    if output == "softmax":
        layers.append(torch.nn.Softmax(dim=1))
    return torch.nn.Sequential(*layers).double()


@pytest.mark.parametrize("batchnorm,dropout,output", [(False, 0.0, None), (True, 0.2, "softmax"), (True, 0.0, None)])
def test_mlp_has_torch_sequential_keys_and_outputs(batchnorm, dropout, output):
    sizes = [5, 7, 6, 3]
    fk.manual_seed(0)
    model = MLP(sizes, activation="tanh", dropout=dropout, batchnorm=batchnorm, output_activation=output,
                dtype=np.float64)
    ref = torch_mlp(sizes, batchnorm, dropout, output)
    assert list(model.state_dict()) == list(ref.state_dict())
    ref.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(8, 5))
    if not dropout:  # train mode: batch statistics, and the gradients
        xf, xt = fk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, out_t = model(xf), ref(xt)
        np.testing.assert_allclose(out.detach().numpy(), out_t.detach().numpy(), atol=1e-12)
        (out * out).sum().backward()
        (out_t * out_t).sum().backward()
        grads = dict(ref.named_parameters())
        for name, p in model.named_parameters():
            np.testing.assert_allclose(p.grad.numpy(), grads[name].grad.numpy(), atol=1e-10, err_msg=name)
        np.testing.assert_allclose(xf.grad.numpy(), xt.grad.numpy(), atol=1e-10)
    model.eval()
    ref.eval()
    with torch.no_grad(), fk.no_grad():
        np.testing.assert_allclose(model(fk.tensor(x)).numpy(), ref(torch.tensor(x)).numpy(), atol=1e-12)


def test_mlp_rejects_bad_configurations():
    with pytest.raises(ValueError, match="at least 2 entries"):
        MLP([4])
    with pytest.raises(ValueError, match="unknown activation 'swishy'"):
        MLP([4, 3, 2], activation="swishy")
    with pytest.raises(ValueError, match="dropout"):
        MLP([4, 3, 2], dropout=1.0)
    model = MLP([4, 3, 2], activation=lambda: nn.LeakyReLU(0.2))
    assert isinstance(model[1], nn.LeakyReLU) and len(model.linear_layers()) == 2


# ---------------------------------------------------------------------------- ManualMLP (seed 000 §6.1.2)
def finite_difference(loss, arrays, h=1e-6):
    """Central differences of ``loss()`` with respect to every entry of every array (float64)."""
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            old = a[idx]
            a[idx] = old + h
            up = loss()
            a[idx] = old - h
            down = loss()
            a[idx] = old
            g[idx] = (up - down) / (2 * h)
        grads.append(g)
    return grads


def rel_err(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)


@pytest.mark.parametrize("activation,output", [("sigmoid", "sigmoid"), ("tanh", None), ("relu", None),
                                               ("leaky_relu", "tanh"), ("elu", None), ("softplus", None),
                                               ("silu", "sigmoid")])
def test_manual_backprop_equals_autograd_and_finite_differences(activation, output):
    fk.manual_seed(1)
    mlp = MLP([4, 6, 5, 3], activation=activation, output_activation=output, dtype=np.float64)
    manual = ManualMLP.from_mlp(mlp)
    rng = np.random.default_rng(2)
    X, T = rng.normal(size=(7, 4)), rng.normal(size=(7, 3))
    # L = ½ Σ (h^{(L)} − t)², so ∇_{h^{(L)}} L = h^{(L)} − t
    out = manual.forward(X)
    grads = manual.backward(out - T)
    xt = fk.tensor(X, requires_grad=True)
    ((mlp(xt) - fk.tensor(T)) ** 2).sum().mul(0.5).backward()
    np.testing.assert_allclose(out, mlp(fk.tensor(X)).detach().numpy(), atol=1e-13)
    arrays = [a for W, b in zip(manual.weights, manual.biases) for a in (W, b)]
    numeric = finite_difference(lambda: 0.5 * np.sum((manual.forward(X) - T) ** 2), arrays + [X])
    auto = [p.grad.numpy() for layer in mlp.linear_layers() for p in (layer.weight, layer.bias)]
    by_hand = [g for pair in grads for g in pair]
    for hand, ag, num in zip(by_hand + [manual.grad_input], auto + [xt.grad.numpy()], numeric):
        assert rel_err(hand, ag) <= 1e-12
        assert rel_err(hand, num) <= 1e-6


def test_manual_backprop_softmax_cross_entropy_equals_torch():
    fk.manual_seed(3)
    mlp = MLP([5, 8, 4], activation="relu", dtype=np.float64)
    manual = ManualMLP.from_mlp(mlp)
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(9, 5)), rng.integers(0, 4, 9)
    logits = manual.forward(X)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    grads = manual.backward((p - np.eye(4)[y]) / len(X))  # fused softmax + mean cross-entropy
    ref = torch_mlp([5, 8, 4], False, 0.0, None)
    ref[1] = torch.nn.ReLU()
    ref.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in mlp.state_dict().items()})
    torch.nn.functional.cross_entropy(ref(torch.tensor(X)), torch.tensor(y)).backward()
    for (gW, gb), layer in zip(grads, (ref[0], ref[2])):
        np.testing.assert_allclose(gW, layer.weight.grad.numpy(), atol=1e-14)
        np.testing.assert_allclose(gb, layer.bias.grad.numpy(), atol=1e-14)


def test_manual_mlp_errors():
    with pytest.raises(ValueError, match="BatchNorm or dropout"):
        ManualMLP.from_mlp(MLP([3, 4, 2], batchnorm=True))
    with pytest.raises(ValueError, match="elementwise only"):
        ManualMLP([3, 4, 2], output_activation="softmax")
    manual = ManualMLP([3, 4, 2], seed=0)
    with pytest.raises(RuntimeError, match="call forward first"):
        manual.backward(np.zeros((1, 2)))
    with pytest.raises(fk.ShapeError, match=r"\(N, 3\)"):
        manual.forward(np.zeros((2, 4)))
    manual.forward(np.zeros((2, 3)))
    with pytest.raises(fk.ShapeError, match="grad_output"):
        manual.backward(np.zeros((3, 2)))


# ---------------------------------------------------------------------------- accuracy targets (issue 3)
def digits_split():
    from fukaku.datasets import digits, holdout_split

    x, y = digits(return_tensors=False)
    return holdout_split(x, y, test_fraction=0.2, seed=0)  # 80/20 split, seed 0


def test_mlp_on_digits_reaches_97_percent_within_30_epochs():
    """Issue 3's target ("97 % within 60 s") in units no machine changes: the work is counted, not
    timed — 30 epochs of Adam on the 64-128-10 MLP, i.e. 1,350 steps over 43,110 samples. How many
    seconds an epoch takes is measured against PyTorch by benchmarks/bench_train.py."""
    from fukaku.train import accuracy, evaluate, fit
    from fukaku.utils.data import DataLoader, TensorDataset

    split = digits_split()
    fk.manual_seed(0)
    model = MLP([64, 128, 10])
    assert model.num_parameters() == 64 * 128 + 128 + 128 * 10 + 10  # the work per sample is this network's
    loader = DataLoader(TensorDataset(split.x_train, split.y_train), batch_size=32, shuffle=True,
                        generator=np.random.default_rng(0))
    batch_sizes = []  # every forward/backward pass fit makes goes through the loss

    def loss_fn(output, target):
        batch_sizes.append(len(target))
        return nn.functional.cross_entropy(output, target)

    fit(model, loss_fn, fk.optim.Adam(model.parameters(), lr=1e-3), loader, epochs=30, metrics=(), quiet=True)
    assert len(split.x_train) == 1437 and len(loader) == 45
    assert len(batch_sizes) == 30 * 45 and sum(batch_sizes) == 30 * 1437
    test = evaluate(model, None, DataLoader(TensorDataset(split.x_test, split.y_test), batch_size=512), [accuracy])
    assert test["accuracy"] >= 0.97


def test_softmax_regression_on_digits_reaches_95_percent():
    split = digits_split()
    model = LogisticRegression(64, num_classes=10)
    model.fit(split.x_train, split.y_train, optimizer="adam", lr=0.01, max_iter=300)
    assert np.mean(model.predict(fk.tensor(split.x_test)).numpy() == split.y_test) >= 0.95


@pytest.mark.shared_data("mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz")  # tests/conftest.py
def test_mlp_on_mnist_8k_2k_reaches_95_percent():
    from fukaku.datasets import mnist_split
    from fukaku.train import accuracy, evaluate, fit
    from fukaku.utils.data import DataLoader, TensorDataset

    split = mnist_split(n_train=8000, n_test=2000)  # t10k: first 8,000 train / last 2,000 test
    fk.manual_seed(0)
    model = MLP([784, 256, 10])
    loader = DataLoader(TensorDataset(split.x_train, split.y_train), batch_size=32, shuffle=True,
                        generator=np.random.default_rng(0))
    fit(model, nn.CrossEntropyLoss(), fk.optim.Adam(model.parameters(), lr=1e-3), loader, epochs=20, quiet=True)
    test = evaluate(model, None, DataLoader(TensorDataset(split.x_test, split.y_test), batch_size=1000), [accuracy])
    assert test["accuracy"] >= 0.95
