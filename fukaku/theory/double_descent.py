"""Double descent as code (seed 000 §6.1.9): the test error of a model that can interpolate its n training points
rises to a peak at the interpolation threshold (p = n parameters for a linear model, #params ≈ n·#outputs for a
network) and falls again beyond it, where the minimum-norm interpolant β̂ = X⁺y is the solution chosen.

- :func:`min_norm_least_squares`: β̂ = X⁺y for any p against a fixed n (ordinary least squares for p < n, the
  minimum-norm interpolant for p ≥ n), with :func:`fukaku.linalg.pinv`.
- :func:`linear_double_descent` and :func:`prefix_model_risk`: the "prefix" model of Belkin, Hsu & Xu (2019):
  isotropic Gaussian features x ∈ R^D, y = xᵀβ* + σε, a learner that sees the first p features; the measured
  test MSE across p and its closed form (their Theorem 1).
- :func:`gradient_descent_least_squares` and :func:`gradient_descent_limit`: gradient descent on the squared
  loss (fukaku autograd and :class:`fukaku.optim.SGD`) converges to X⁺y from β₀ = 0 — the implicit bias — and
  to X⁺y + (I − X⁺X)β₀ from any other start: the component in the null space of X is never touched.
- :func:`random_relu_features` and :func:`random_features_sweep`: a fixed random first layer, ReLU features and
  a minimum-norm read-out, across the number of features N for fixed n (Belkin, Hsu, Ma & Mandal 2019).
- :class:`ParallelMLPs` and :func:`mlp_width_sweep`: one-hidden-layer MLPs of several widths trained side by
  side (each exactly as if alone) on a classification task with label noise (Nakkiran et al. 2019).

References:
    M. Belkin, D. Hsu, S. Ma, S. Mandal, "Reconciling modern machine-learning practice and the classical
    bias–variance trade-off", PNAS 116 (32), 2019. M. Belkin, D. Hsu, J. Xu, "Two models of double descent for
    weak features", SIAM J. Math. Data Sci. 2 (4), 2020 (arXiv:1903.07571, 2019). T. Hastie, A. Montanari,
    S. Rosset, R. Tibshirani, "Surprises in high-dimensional ridgeless least squares interpolation", Ann. Statist.
    50 (2), 2022 (arXiv:1903.08560, 2019). P. Nakkiran, G. Kaplun, Y. Bansal, T. Yang, B. Barak, I. Sutskever,
    "Deep double descent: where bigger models and more data hurt", ICLR 2020 (arXiv:1912.02292).
"""
from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

import fukaku as fk
from fukaku import nn, optim
from fukaku.tensor import Tensor

__all__ = ["min_norm_least_squares", "prefix_model_risk", "LinearSweep", "linear_double_descent", "GDPath",
           "gradient_descent_least_squares", "gradient_descent_limit", "random_relu_features", "RFSweep",
           "random_features_sweep", "noisy_labels", "mlp_parameter_count", "ParallelMLPs", "WidthSweep",
           "mlp_width_sweep"]


def _float64(x) -> Tensor:
    """``x`` (a Tensor or array-like) as a float64 tensor, outside any graph."""
    if isinstance(x, Tensor):
        return x.detach().to(fk.float64)
    return fk.tensor(np.asarray(x, dtype=np.float64))


def _labels(y) -> np.ndarray:
    """Integer class labels (a Tensor or array-like) as an int64 NumPy array."""
    return np.asarray(y.numpy() if isinstance(y, Tensor) else y).astype(np.int64)


# ------------------------------------------------------------------------------------------------ linear models
def min_norm_least_squares(X, y, rtol: float | None = None) -> Tensor:
    """The minimum-norm least-squares solution β̂ = X⁺y (seed 000 §6.1.9).

    For p < n (and X of full column rank) it is the ordinary least-squares fit (XᵀX)⁻¹Xᵀy; for p ≥ n it is the
    interpolant Xβ = y of smallest ‖β‖, Xᵀ(XXᵀ)⁻¹y — the solution gradient descent from zero reaches.

    Args:
        X: the design, ``(…, n, p)`` (a batch of designs is solved at once).
        y: the targets, ``(…, n)`` or ``(…, n, k)`` for k outputs.
        rtol: singular values below ``rtol · s_max`` count as zero (default ε·max(n, p), as
            :func:`fukaku.linalg.pinv`).

    Returns:
        β̂ ``(…, p)`` or ``(…, p, k)``, with the dtype of ``X`` (a Tensor; array-likes become float64).

    Examples:
        >>> X = fk.tensor([[1.0, 1.0]], dtype=fk.float64)       # one equation, two unknowns
        >>> min_norm_least_squares(X, fk.tensor([2.0], dtype=fk.float64))
        tensor([1.0000, 1.0000], dtype=fukaku.float64)
    """
    X = X if isinstance(X, Tensor) else _float64(X)
    y = y if isinstance(y, Tensor) else _float64(y).to(X.dtype)
    if X.ndim < 2 or y.ndim not in (X.ndim - 1, X.ndim) or y.shape[X.ndim - 2] != X.shape[-2]:
        raise fk.ShapeError(f"min_norm_least_squares: X {tuple(X.shape)} and y {tuple(y.shape)} do not match; X is "
                            "(…, n, p) and y is (…, n) or (…, n, k) with the same n")
    pinv = fk.linalg.pinv(X, rtol=rtol)
    if y.ndim == X.ndim - 1:
        return (pinv @ y.unsqueeze(-1)).squeeze(-1)
    return pinv @ y


def prefix_model_risk(p: int, n: int, beta, sigma: float) -> float:
    """The expected test MSE E[(y − xᵀβ̂)²] of the minimum-norm least-squares fit on the first p features.

    The model of Belkin, Hsu & Xu (2019, Theorem 1): x ~ N(0, I_D), y = xᵀβ* + σε, n training points, β̂ = X_T⁺y
    with T the first p coordinates. With ‖β_T‖² the signal the learner sees and ‖β_Tᶜ‖² the signal it misses
    (which acts as extra noise)::

        p ≤ n − 2:  (‖β_Tᶜ‖² + σ²) (1 + p / (n − p − 1))
        p ≥ n + 2:  ‖β_T‖² (1 − n/p) + (‖β_Tᶜ‖² + σ²) (1 + n / (p − n − 1))
        otherwise:  ∞ (the peak at the interpolation threshold p = n, seed 000 §6.1.9)

    With no effective noise (‖β_Tᶜ‖² + σ² = 0) the noise terms vanish everywhere, the peak included.

    Args:
        p: the number of features used (0 ≤ p ≤ D).
        n: the number of training points.
        beta: β* ``(D,)``.
        sigma: the label noise's standard deviation.
    """
    beta = np.asarray(beta.numpy() if isinstance(beta, Tensor) else beta, dtype=np.float64)
    if not 0 <= p <= beta.shape[-1]:
        raise ValueError(f"prefix_model_risk: p = {p} must be within 0 … D = {beta.shape[-1]}")
    seen, missed = float(beta[:p] @ beta[:p]), float(beta[p:] @ beta[p:])
    noise = missed + sigma ** 2
    if p <= n - 2:
        return noise * (1 + p / (n - p - 1))
    if p >= n + 2:
        return seen * (1 - n / p) + noise * (1 + n / (p - n - 1))
    return noise if noise == 0 else math.inf


@dataclass
class LinearSweep:
    """What :func:`linear_double_descent` measured: ``test_mse`` and ``train_mse`` ``(trials, len(ps))``, the
    closed form ``expected`` ``(len(ps),)`` (:func:`prefix_model_risk`), and the norms ‖β̂‖ ``(trials, len(ps))``."""

    ps: np.ndarray
    n: int
    sigma: float
    test_mse: np.ndarray
    train_mse: np.ndarray
    norm: np.ndarray
    expected: np.ndarray

    @property
    def median_test_mse(self) -> np.ndarray:
        """The median over trials (the mean is infinite next to p = n)."""
        return np.median(self.test_mse, axis=0)


def linear_double_descent(n: int, ps: Sequence[int], beta, sigmas: Sequence[float], trials: int,
                          rng: np.random.Generator) -> dict[float, LinearSweep]:
    """Fit β̂ = X_T⁺y on the first p features for each p in ``ps``, for a fixed n and each noise level σ
    (seed 000 §6.1.9).

    The prefix model of Belkin, Hsu & Xu (2019): each trial draws X ∈ R^{n×D} with N(0, 1) entries and ε ~ N(0, I_n),
    and y = Xβ* + σε for every σ — the same designs and noise draws at every σ, so that only the noise level
    changes (and one pseudo-inverse per p serves them all). The test MSE is exact, not sampled: for isotropic
    Gaussian x it is E_x[(y − x_Tᵀβ̂)²] = ‖β̂ − β*_T‖² + ‖β*_Tᶜ‖² + σ², the quantity :func:`prefix_model_risk` gives
    in expectation. All trials are solved at once (a batch of pseudo-inverses per p).

    Args:
        n: the training points.
        ps: the numbers of features to sweep (each ≤ D = len(beta)).
        beta: β* ``(D,)``: e.g. nonzero on its first k coordinates only, so that every p ≥ k is well specified.
        sigmas: the label-noise levels σ.
        trials: independent training sets.
        rng: draws X and ε.

    Returns:
        ``{σ: LinearSweep}``.
    """
    beta = np.asarray(beta, dtype=np.float64)
    depth = beta.shape[0]
    sigmas = [float(s) for s in sigmas]
    X = fk.tensor(rng.standard_normal((trials, n, depth)))
    y = (X @ fk.tensor(beta)).unsqueeze(-1) + fk.tensor(rng.standard_normal((trials, n, 1)) * np.array(sigmas))
    test, train, norm = [], [], []
    for p in ps:
        if not 1 <= p <= depth:
            raise ValueError(f"linear_double_descent: p = {p} must be within 1 … D = {depth}")
        Xp = X[..., :p]
        b = min_norm_least_squares(Xp, y)                                  # (trials, p, σ)
        err = b - fk.tensor(beta[:p]).unsqueeze(-1)
        test.append((err * err).sum(-2).numpy() + float(beta[p:] @ beta[p:]) + np.array(sigmas) ** 2)
        residual = Xp @ b - y
        train.append((residual * residual).mean(-2).numpy())
        norm.append(fk.linalg.vector_norm(b, dim=-2).numpy())
    ps = np.asarray(ps)
    test, train, norm = (np.stack(a, 1) for a in (test, train, norm))   # (trials, len(ps), σ)
    return {sigma: LinearSweep(ps, n, sigma, test[..., i], train[..., i], norm[..., i],
                               np.array([prefix_model_risk(int(p), n, beta, sigma) for p in ps]))
            for i, sigma in enumerate(sigmas)}


# ------------------------------------------------------------------------------------------- implicit bias of GD
@dataclass
class GDPath:
    """What :func:`gradient_descent_least_squares` returns: the final β, ``distances`` ‖β_t − target‖ at the
    ``recorded`` steps (``target`` = X⁺y unless given), the final training loss and the step size used."""

    beta: Tensor
    recorded: np.ndarray
    distances: np.ndarray
    loss: float
    lr: float


def gradient_descent_limit(X, y, init=None) -> Tensor:
    """Where gradient descent on ½‖Xβ − y‖² converges from β₀ = ``init``: X⁺y + (I − X⁺X)β₀ (seed 000 §6.1.9).

    Each gradient Xᵀ(Xβ − y) lies in the row space of X, so the component of β₀ in the null space of X is
    never changed, and the row-space component converges to X⁺y's. From β₀ = 0 the limit is X⁺y, the
    minimum-norm solution: the implicit bias of gradient descent.
    """
    X, y = _float64(X), _float64(y)
    if init is None:
        return min_norm_least_squares(X, y)
    b0 = _float64(init)
    return min_norm_least_squares(X, y - X @ b0) + b0  # X⁺(y − Xβ₀) + β₀: one pseudo-inverse


def gradient_descent_least_squares(X, y, steps: int, lr: float | None = None, init=None, target=None,
                                   record_every: int = 1) -> GDPath:
    """Full-batch gradient descent on the squared loss L(β) = ‖Xβ − y‖² / (2n), with fukaku's autograd and
    :class:`fukaku.optim.SGD`, from β₀ = ``init`` (zero by default), in float64 (seed 000 §6.1.9).

    Args:
        X: ``(n, p)``; y: ``(n,)``.
        steps: gradient steps.
        lr: the step size; default 1/λ_max(XᵀX/n), inside the stable range (0, 2/λ_max).
        init: β₀ ``(p,)``; zero by default.
        target: the point whose distance is recorded; X⁺y by default.
        record_every: record the distance every this many steps (the start and the end always).

    Returns:
        :class:`GDPath`.

    Examples:
        >>> g = np.random.default_rng(0)
        >>> X, y = g.standard_normal((10, 30)), g.standard_normal(10)
        >>> path = gradient_descent_least_squares(X, y, steps=3000)
        >>> bool(path.distances[-1] < 1e-6 * path.distances[0])       # → X⁺y, the minimum-norm interpolant
        True
    """
    X, y = _float64(X), _float64(y)
    n, p = X.shape
    if y.shape != (n,):
        raise fk.ShapeError(f"gradient_descent_least_squares: X {tuple(X.shape)} needs y of shape ({n},), got "
                            f"{tuple(y.shape)}")
    if lr is None:
        lr = float(n / fk.linalg.matrix_norm(X, ord=2).item() ** 2)
    target = min_norm_least_squares(X, y) if target is None else _float64(target)
    beta = nn.Parameter(fk.zeros(p, dtype=fk.float64) if init is None else _float64(init).clone())
    optimizer = optim.SGD([beta], lr=lr)
    recorded, distances = [], []

    def record(step: int) -> None:
        recorded.append(step)
        distances.append(fk.linalg.vector_norm(beta.detach() - target).item())

    record(0)
    for step in range(1, steps + 1):
        optimizer.zero_grad()
        residual = X @ beta - y
        loss = (residual * residual).sum() / (2 * n)
        loss.backward()
        optimizer.step()
        if step % record_every == 0 or step == steps:
            record(step)
    with fk.no_grad():
        residual = X @ beta - y
        final = float((residual * residual).sum().item() / (2 * n))
    return GDPath(beta.detach(), np.array(recorded), np.array(distances), final, lr)


# ---------------------------------------------------------------------------------------------- random features
def random_relu_features(in_features: int, n_features: int, seed: int = 0) -> nn.Sequential:
    """A fixed random first layer with ReLU features: ``nn.Sequential(Linear(in, N), ReLU())``, frozen.

    The layer is drawn as PyTorch draws an ``nn.Linear`` (U(±1/√in) weights and biases) by a generator seeded
    with ``seed``, and its parameters do not require grad: only a read-out on top of it is fitted
    (random-features regression, seed 000 §6.1.9; Belkin, Hsu, Ma & Mandal 2019).
    """
    with fk.random.fork_rng():
        fk.manual_seed(seed)
        layer = nn.Linear(in_features, n_features, dtype=fk.float64)
    layer.requires_grad_(False)
    return nn.Sequential(layer, nn.ReLU())


@dataclass
class RFSweep:
    """What :func:`random_features_sweep` measured, per number of features N (rows: seeds, columns: N): the
    test and training MSE (squared error per example, summed over the one-hot outputs), the test and training
    classification error, and the read-out's norm."""

    widths: np.ndarray
    n: int
    test_mse: np.ndarray
    train_mse: np.ndarray
    test_error: np.ndarray
    train_error: np.ndarray
    norm: np.ndarray


def random_features_sweep(x_train, y_train, x_test, y_test, widths: Sequence[int], n_classes: int,
                          seeds: Sequence[int] = (0,)) -> RFSweep:
    """Random ReLU features with a minimum-norm read-out of one-hot targets, for each number of features N.

    For every seed one layer of max(widths) random ReLU features is drawn (:func:`random_relu_features`); the
    model with N features uses its first N (nested models, as the prefix model of :func:`linear_double_descent`),
    and its read-out A ``(N, k)`` is Φ_N⁺ Y. Each of the k outputs is a separate least-squares problem on the
    same features, so the interpolation threshold is N = n (N·k parameters against n·k targets), where the test
    error peaks (seed 000 §6.1.9).

    Args:
        x_train, x_test: inputs ``(n, d)`` and ``(m, d)``.
        y_train, y_test: int labels in ``[0, n_classes)``.
        widths: the numbers of features N.
        n_classes: k.
        seeds: one random first layer per seed.
    """
    x_train, x_test = _float64(x_train), _float64(x_test)
    labels_train, labels_test = _labels(y_train), _labels(y_test)
    eye = np.eye(n_classes)
    Y_train, Y_test = fk.tensor(eye[labels_train]), fk.tensor(eye[labels_test])
    rows = {key: [] for key in ("test_mse", "train_mse", "test_error", "train_error", "norm")}
    for seed in seeds:
        features = random_relu_features(x_train.shape[1], max(widths), seed)
        with fk.no_grad():
            phi_train, phi_test = features(x_train), features(x_test)
        row = {key: [] for key in rows}
        for width in widths:
            readout = min_norm_least_squares(phi_train[:, :width], Y_train)
            for split, phi, Y, labels in (("train", phi_train, Y_train, labels_train),
                                          ("test", phi_test, Y_test, labels_test)):
                out = phi[:, :width] @ readout
                row[f"{split}_mse"].append(((out - Y) ** 2).sum(1).mean().item())
                row[f"{split}_error"].append(float((out.argmax(1).numpy() != labels).mean()))
            row["norm"].append(fk.linalg.matrix_norm(readout).item())
        for key in rows:
            rows[key].append(row[key])
    return RFSweep(np.asarray(widths), len(labels_train), **{key: np.array(value) for key, value in rows.items()})


# ---------------------------------------------------------------------------------------------- MLP width sweep
def noisy_labels(labels, fraction: float, n_classes: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Label noise: a random ``fraction`` of the labels replaced by a uniformly drawn *other* class.

    Returns:
        ``(noisy labels, mask of the changed ones)`` as NumPy arrays.
    """
    labels = _labels(labels)
    changed = np.zeros(len(labels), dtype=bool)
    changed[rng.permutation(len(labels))[:round(fraction * len(labels))]] = True
    shift = rng.integers(1, n_classes, size=len(labels))
    return np.where(changed, (labels + shift) % n_classes, labels), changed


def mlp_parameter_count(in_features: int, width: int, out_features: int) -> int:
    """The parameters of Linear(in, width) → ReLU → Linear(width, out): (in + 1)·width + (width + 1)·out."""
    return (in_features + 1) * width + (width + 1) * out_features


class ParallelMLPs(nn.Module):
    """K one-hidden-layer ReLU MLPs of different widths, computed and trained side by side as one module.

    MLP i is ``Linear(in, widths[i]) → ReLU → Linear(widths[i], out)``, initialised as PyTorch initialises
    those layers. Their hidden units are stored one after the other: ``w1 (Σwidths, in)`` and ``b1`` make one
    wide first layer, and ``w2 (K·out, Σwidths)`` is block-diagonal — a fixed mask keeps each MLP's outputs
    reading its own hidden units only, so the entries off the blocks are zero, get a zero gradient and stay
    zero. The output is ``(K, batch, out)``. Trained on the sum of the K losses, each MLP gets exactly the
    gradient it would get alone, and an elementwise optimizer (SGD, Adam) updates it exactly as alone: a width
    sweep at the cost of one network of width Σwidths.

    Args:
        in_features, out_features: the sizes of every MLP's input and output.
        widths: the hidden width of each MLP.
        seed: seeds the initialisation (the global generator's state is left as it was).
    """

    def __init__(self, in_features: int, widths: Sequence[int], out_features: int, seed: int = 0) -> None:
        super().__init__()
        self.in_features, self.out_features, self.widths = in_features, out_features, tuple(int(w) for w in widths)
        if not self.widths or min(self.widths) < 1:
            raise ValueError(f"ParallelMLPs: widths must be positive, got {widths!r}")
        k, total = len(self.widths), sum(self.widths)
        self.offsets = tuple(int(o) for o in np.cumsum((0,) + self.widths))
        w1, b1 = np.zeros((total, in_features)), np.zeros(total)
        w2, mask = np.zeros((k * out_features, total)), np.zeros((k * out_features, total))
        b2 = np.zeros(k * out_features)
        with fk.random.fork_rng():
            fk.manual_seed(seed)
            for i, (width, lo, hi) in enumerate(zip(self.widths, self.offsets, self.offsets[1:])):
                first, second = nn.Linear(in_features, width), nn.Linear(width, out_features)
                rows = slice(i * out_features, (i + 1) * out_features)
                w1[lo:hi], b1[lo:hi] = first.weight.detach().numpy(), first.bias.detach().numpy()
                w2[rows, lo:hi], b2[rows] = second.weight.detach().numpy(), second.bias.detach().numpy()
                mask[rows, lo:hi] = 1
        dtype = fk.get_default_dtype()
        self.w1, self.b1 = nn.Parameter(fk.tensor(w1, dtype=dtype)), nn.Parameter(fk.tensor(b1, dtype=dtype))
        self.w2, self.b2 = nn.Parameter(fk.tensor(w2, dtype=dtype)), nn.Parameter(fk.tensor(b2, dtype=dtype))
        self.register_buffer("mask", fk.tensor(mask, dtype=dtype))

    def forward(self, x: Tensor) -> Tensor:
        """``x (batch, in)`` → ``(K, batch, out)``."""
        hidden = nn.functional.relu(nn.functional.linear(x, self.w1, self.b1))
        out = nn.functional.linear(hidden, self.w2 * self.mask, self.b2)
        return out.reshape(x.shape[0], len(self.widths), self.out_features).transpose(0, 1)

    def mlp(self, i: int) -> nn.Sequential:
        """MLP i on its own, with its current weights: ``nn.Sequential(Linear, ReLU, Linear)``."""
        width, lo, hi = self.widths[i], self.offsets[i], self.offsets[i + 1]
        rows = slice(i * self.out_features, (i + 1) * self.out_features)
        model = nn.Sequential(nn.Linear(self.in_features, width, dtype=self.w1.dtype), nn.ReLU(),
                              nn.Linear(width, self.out_features, dtype=self.w1.dtype))
        with fk.no_grad():
            model[0].weight.copy_(self.w1[lo:hi])
            model[0].bias.copy_(self.b1[lo:hi])
            model[2].weight.copy_(self.w2[rows, lo:hi])
            model[2].bias.copy_(self.b2[rows])
        return model

    def parameter_counts(self) -> list[int]:
        """The parameters of each MLP (:func:`mlp_parameter_count`), the zero blocks not counted."""
        return [mlp_parameter_count(self.in_features, w, self.out_features) for w in self.widths]


@dataclass
class WidthSweep:
    """What :func:`mlp_width_sweep` measured per width (arrays ``(repeats, len(widths))``, one row per
    initialisation): the final training error on the (noisy) training labels, the test error on the clean test
    labels, the final losses, and the test error along training (``(len(curve_steps), repeats, len(widths))``);
    ``parameters`` per width; ``in_features`` the input size."""

    widths: np.ndarray
    parameters: np.ndarray
    n: int
    n_classes: int
    in_features: int
    train_error: np.ndarray
    test_error: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    curve_steps: np.ndarray
    test_error_curve: np.ndarray
    seconds: float

    @property
    def threshold_parameters(self) -> int:
        """n·#outputs: the parameter count at the interpolation threshold (seed 000 §6.1.9)."""
        return self.n * self.n_classes

    @property
    def threshold_width(self) -> float:
        """The (fractional) width whose MLP has n·#outputs parameters."""
        return (self.threshold_parameters - self.n_classes) / (self.in_features + 1 + self.n_classes)


def mlp_width_sweep(x_train, y_train, x_test, y_test, widths: Sequence[int], n_classes: int, *, steps: int,
                    lr: float = 1e-3, loss: str = "mse", batch_size: int | None = None, repeats: int = 1,
                    seed: int = 0, record_every: int | None = None) -> WidthSweep:
    """Train one-hidden-layer ReLU MLPs of each width (fukaku nn + :class:`fukaku.optim.Adam`) and measure
    their test error: the model-wise double descent of seed 000 §6.1.9, its threshold near #params ≈ n·k.

    All widths (``repeats`` initialisations of each) train at once as a :class:`ParallelMLPs` (each exactly as
    alone), by Adam on the mean squared
    error to the one-hot targets (``loss="mse"``, as Belkin et al. 2019) or on the cross-entropy
    (``loss="cross_entropy"``, as Nakkiran et al. 2019), full-batch unless ``batch_size`` is given.

    Args:
        x_train, y_train: the training set; the labels may carry noise (:func:`noisy_labels`).
        x_test, y_test: clean test data.
        widths: hidden widths.
        n_classes: k.
        steps: optimizer steps.
        lr: Adam's step size.
        loss: ``"mse"`` or ``"cross_entropy"``.
        batch_size: mini-batches (drawn with ``seed``) instead of the full batch.
        repeats: independent initialisations of each width.
        seed: the initialisation and the batches.
        record_every: also record the test error every this many steps (default: 10 points).
    """
    if loss not in ("mse", "cross_entropy"):
        raise ValueError(f"mlp_width_sweep: loss must be 'mse' or 'cross_entropy', got {loss!r}")
    x_train, x_test = (x if isinstance(x, Tensor) else fk.tensor(np.asarray(x, dtype=np.float32))
                       for x in (x_train, x_test))
    labels_train, labels_test = fk.tensor(_labels(y_train)), fk.tensor(_labels(y_test))
    n = len(labels_train)
    model = ParallelMLPs(x_train.shape[1], list(widths) * repeats, n_classes, seed=seed).to(x_train.dtype)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    onehot = nn.functional.one_hot(labels_train, n_classes).to(x_train.dtype)
    rng = np.random.default_rng(seed + 1)
    record_every = record_every or max(1, steps // 10)

    def losses(out: Tensor, labels: Tensor, targets: Tensor | None) -> Tensor:
        """The loss of each of the K MLPs, ``(K,)``."""
        if loss == "mse":
            return ((out - targets) ** 2).sum(-1).mean(-1)
        k = out.shape[0]
        flat = nn.functional.cross_entropy(out.reshape(-1, n_classes), labels.repeat(k), reduction="none")
        return flat.reshape(k, -1).mean(-1)

    def evaluate(x: Tensor, labels: Tensor) -> tuple[np.ndarray, np.ndarray]:
        with fk.no_grad():
            out = model(x)
            target = nn.functional.one_hot(labels, n_classes).to(out.dtype) if loss == "mse" else None
            error = (out.argmax(-1) != labels).to(fk.float64).mean(-1)
            return error.numpy(), losses(out, labels, target).numpy()

    curve_steps, curve = [], []
    start = time.perf_counter()
    for step in range(1, steps + 1):
        index = None if batch_size is None else fk.tensor(rng.choice(n, size=batch_size, replace=False))
        x, labels, targets = ((x_train, labels_train, onehot) if index is None
                              else (x_train[index], labels_train[index], onehot[index]))
        optimizer.zero_grad()
        losses(model(x), labels, targets).sum().backward()
        optimizer.step()
        if step % record_every == 0 or step == steps:
            curve_steps.append(step)
            curve.append(evaluate(x_test, labels_test)[0])
    seconds = time.perf_counter() - start
    shape = (repeats, len(widths))
    train_error, train_loss = (a.reshape(shape) for a in evaluate(x_train, labels_train))
    test_error, test_loss = (a.reshape(shape) for a in evaluate(x_test, labels_test))
    counts = np.asarray(model.parameter_counts()[:len(widths)])
    return WidthSweep(np.asarray(widths), counts, n, n_classes, model.in_features, train_error, test_error, train_loss,
                      test_loss, np.asarray(curve_steps), np.stack(curve).reshape(-1, *shape), seconds)
