"""The perceptron — seed 000 §6.1.1 (L7–91).

A single neuron with the step activation is a linear classifier: for labels y ∈ {−1, +1},

    f(x) = sign(wᵀx + b)        (sign(0) = +1, the step's "≥ 0" convention)

Rosenblatt's learning rule corrects errors and nothing else: visiting the samples in turn, it
changes the weights ONLY when sample i is misclassified (y_i(wᵀx_i + b) ≤ 0):

    w ← w + η y_i x_i,     b ← b + η y_i.

(The Marr–Albus cerebellar theory reads the same way: a synapse changes only when the climbing
fibre signals an error.) The convergence theorem: on linearly separable data the rule reaches zero
training errors after finitely many updates. Novikoff's bound makes it quantitative [NT]: with the
bias absorbed (x̃ = (x, 1), w̃ = (w, b)), zero initial weights, R = max_i ‖x̃_i‖ and γ the margin of
any unit-norm separator u (γ = min_i y_i uᵀx̃_i > 0),

    number of updates ≤ (R/γ)²,

and the count does not depend on η (from w̃ = 0, every w̃ is η times a sum of y_i x̃_i). On data that
no hyperplane separates — XOR — the rule never stops making mistakes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...errors import ShapeError
from ...nn import functional as F
from ...nn.modules.module import Module
from ...nn.parameter import Parameter
from ...tensor import Tensor, bump_version, wrap, zeros
from . import _inputs


@dataclass
class PerceptronFit:
    """What :meth:`Perceptron.fit` did: ``updates`` (= mistakes, the count the convergence theorem
    bounds), ``epochs`` run, ``converged`` (an epoch went by with no mistake) and the mistakes made
    in each epoch."""

    converged: bool
    epochs: int
    updates: int
    mistakes_per_epoch: list[int] = field(default_factory=list)


class Perceptron(Module):
    """Rosenblatt's perceptron ``f(x) = sign(wᵀx + b)`` for labels ±1 (seed 000 §6.1.1).

    ``weight`` is ``(1, in_features)`` and ``bias`` ``(1,)``, the layout of ``nn.Linear(in_features, 1)``,
    so the state dict moves to a linear layer (and to ``torch.nn.Linear``) unchanged. Both start at
    zero — the textbook's starting point, and the one Novikoff's bound assumes — and are learnt by
    the error-correction rule in :meth:`fit`, not by gradients (``requires_grad`` is False).

    Input ``(N, in_features)`` → output ``(N,)`` of −1.0 / +1.0.
    """

    def __init__(self, in_features: int, dtype=None) -> None:
        super().__init__()
        if int(in_features) < 1:
            raise ValueError(f"Perceptron: in_features must be >= 1, got {in_features}")
        self.in_features = int(in_features)
        self.weight = Parameter(zeros(1, self.in_features, dtype=dtype), requires_grad=False)
        self.bias = Parameter(zeros(1, dtype=dtype), requires_grad=False)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}"

    def decision_function(self, input: Tensor) -> Tensor:
        """The score wᵀx + b, ``(N, in_features)`` → ``(N,)``."""
        if input.ndim != 2 or input.shape[1] != self.in_features:
            raise ShapeError(f"Perceptron: input must have shape (N, {self.in_features}), got {tuple(input.shape)}")
        return F.linear(input, self.weight, self.bias).reshape(-1)

    def forward(self, input: Tensor) -> Tensor:
        """sign(wᵀx + b) ∈ {−1, +1}, ``(N, in_features)`` → ``(N,)``; a score of exactly 0 gives +1."""
        score = self.decision_function(input)
        return wrap(np.where(score._data >= 0, 1.0, -1.0).astype(score.dtype))

    predict = forward

    def fit(self, X, y, max_epochs: int = 100, lr: float = 1.0, shuffle: bool = True,
            seed: int | None = 0) -> PerceptronFit:
        """Train by the error-correction rule until an epoch has no mistake, or ``max_epochs``.

        ``X``: ``(N, in_features)``; ``y``: ``(N,)`` of −1/+1. Each epoch visits the samples once, in a
        fresh random order when ``shuffle`` (``numpy.random.default_rng(seed).permutation`` per epoch),
        else in the given order. Training continues from the current weights (zero after
        construction). The weights change in place only after the inputs have been checked.

        Why a loop: an update changes w, and w decides whether the *next* sample is a mistake, so
        the updates are inherently sequential. The loop below runs once per mistake, not once per
        sample: between two mistakes the scores of the samples still to visit are computed
        vectorised with the current w, and the scan jumps to the first one that is misclassified —
        the same visits and the same weights as the sample-by-sample rule.
        """
        where = "Perceptron.fit"
        if int(max_epochs) < 1:
            raise ValueError(f"{where}: max_epochs must be >= 1, got {max_epochs}")
        if not lr > 0:
            raise ValueError(f"{where}: lr (η) must be > 0, got {lr}")
        dtype = self.weight.dtype
        Xa = _augment(_inputs.features(X, where, self.in_features, dtype))
        y = _pm1_labels(y, where, len(Xa)).astype(dtype)
        w = np.concatenate([self.weight._data[0], self.bias._data])  # w̃ = (w, b)
        rng = np.random.default_rng(seed)
        mistakes_per_epoch = []
        for _ in range(int(max_epochs)):
            order = rng.permutation(len(Xa)) if shuffle else np.arange(len(Xa))
            mistakes_per_epoch.append(_epoch(w, Xa[order], y[order], dtype.type(lr)))
            if mistakes_per_epoch[-1] == 0:
                break
        self.weight._data[0] = w[:-1]
        self.bias._data[:] = w[-1:]
        bump_version(self.weight)
        bump_version(self.bias)
        return PerceptronFit(converged=mistakes_per_epoch[-1] == 0, epochs=len(mistakes_per_epoch),
                             updates=int(sum(mistakes_per_epoch)), mistakes_per_epoch=mistakes_per_epoch)


def _epoch(w: np.ndarray, X: np.ndarray, y: np.ndarray, lr) -> int:
    """One pass of the rule over ``(X, y)`` in order, updating ``w`` (= w̃) in place; returns the mistakes."""
    n, start, mistakes = len(y), 0, 0
    window = 32  # grows while no mistake turns up, so a clean stretch costs a few large mat-vecs
    while start < n:
        stop = min(n, start + window)
        wrong = np.flatnonzero(y[start:stop] * (X[start:stop] @ w) <= 0)
        if wrong.size == 0:
            start, window = stop, window * 2
            continue
        i = start + wrong[0]
        w += lr * y[i] * X[i]  # w ← w + η y_i x_i and b ← b + η y_i at once (bias absorbed)
        mistakes += 1
        start, window = i + 1, 32
    return mistakes


def _augment(X: np.ndarray) -> np.ndarray:
    """x̃ = (x, 1): the bias becomes the last weight."""
    return np.concatenate([X, np.ones((len(X), 1), X.dtype)], axis=1)


def _pm1_labels(y, where: str, n: int) -> np.ndarray:
    arr = _inputs.targets(y, where, n)
    if arr.ndim != 1:
        raise ShapeError(f"{where}: y must be 1-D (N,), got shape {tuple(arr.shape)}")
    bad = np.setdiff1d(np.unique(arr), [-1, 1])
    if bad.size:
        raise ValueError(f"{where}: labels must be -1 or +1 (seed 000 §6.1.1), got {bad[:5].tolist()}; "
                         "map 0/1 labels with y = 2 * y - 1")
    return arr


# ---------------------------------------------------------------------------- the convergence bound
def _unit_separator(X: np.ndarray, y: np.ndarray, weight, bias) -> tuple[np.ndarray, np.ndarray, float]:
    """Augmented inputs, labels and the margin γ = min_i y_i uᵀx̃_i of u = (w, b)/‖(w, b)‖."""
    Xa = _augment(X)
    w, b = np.asarray(weight, np.float64).reshape(-1), np.asarray(bias, np.float64).reshape(-1)
    if w.size != X.shape[1] or b.size != 1:
        raise ShapeError(f"margin: for X of shape {tuple(X.shape)} the weight needs {X.shape[1]} entries and the "
                         f"bias 1, got shapes {np.shape(weight)} and {np.shape(bias)}")
    u = np.concatenate([w, b])
    norm = np.linalg.norm(u)
    if norm == 0:
        raise ValueError("margin: the separator (w, b) is zero and separates nothing")
    return Xa, y, float(np.min(y * (Xa @ u)) / norm)


def margin(X, y, weight, bias) -> float:
    """γ of the separator (w, b) with the bias absorbed and (w, b) scaled to unit norm:
    min_i y_i (wᵀx_i + b)/‖(w, b)‖. Positive iff (w, b) separates the data (seed 000 §6.1.1 [NT]).

    ``X``: ``(N, d)``; ``y``: ``(N,)`` of ±1; ``weight``: ``(d,)`` or ``(1, d)``; ``bias``: scalar or ``(1,)``.
    """
    X = _inputs.features(X, "margin", None, np.float64)
    return _unit_separator(X, _pm1_labels(y, "margin", len(X)).astype(np.float64), weight, bias)[2]


def novikoff_bound(X, y, weight, bias) -> float:
    """Novikoff's bound (R/γ)² on the perceptron's number of updates from zero weights, with
    R = max_i ‖(x_i, 1)‖ and γ = :func:`margin` of the given separator (w, b).

    Any separator gives a valid bound, since its γ is at most the best margin γ*; the tightest uses
    the maximum-margin separator (:func:`max_margin`). Raises ValueError if (w, b) does not separate.
    """
    X = _inputs.features(X, "novikoff_bound", None, np.float64)
    Xa, _, gamma = _unit_separator(X, _pm1_labels(y, "novikoff_bound", len(X)).astype(np.float64), weight, bias)
    if gamma <= 0:
        raise ValueError(f"novikoff_bound: (w, b) does not separate the data (margin {gamma:.3g} <= 0); the "
                         "bound holds only for linearly separable data and a separator of it")
    radius = float(np.max(np.linalg.norm(Xa, axis=1)))
    return (radius / gamma) ** 2


@dataclass
class MaxMargin:
    """The maximum-margin separator with the bias absorbed: ``weight`` ``(d,)``, ``bias``, its margin
    ``gamma`` (exact for this (w, b)), and ``gamma_upper``, a certified upper bound on the best margin
    γ*: ``gamma <= γ* <= gamma_upper``, so the gap measures how far the solver is from γ*."""

    weight: np.ndarray
    bias: float
    gamma: float
    gamma_upper: float


def max_margin(X, y) -> MaxMargin:
    """The separator u (bias absorbed, unit norm) that maximises γ = min_i y_i uᵀx̃_i — the γ* that
    makes Novikoff's bound tightest.

    It is the hard-margin linear SVM *without a free intercept* on x̃ = (x, 1) (scikit-learn's SVC
    leaves its intercept unpenalised, a different margin): minimise ½‖v‖² subject to
    z_iᵀv ≥ 1 with z_i = y_i x̃_i; then γ* = 1/‖v*‖. The problem has only d + 1 unknowns, and is
    solved with SciPy's SLSQP (SciPy comes with the scikit-learn extra).

    Both returned numbers are certified, not trusted from the solver: ``gamma`` is the exact
    margin of the returned (w, b), so gamma ≤ γ*; and for any weights λ ≥ 0 summing to 1,
    γ* ≤ ‖Σ λ_i z_i‖ (the optimal u has uᵀz_i ≥ γ* for every i), so the KKT multipliers of the
    active constraints (non-negative least squares for v = Σ α_i z_i, λ = α/Σα) give
    ``gamma_upper`` ≥ γ*. At the optimum the two agree. Raises ValueError when no hyperplane
    separates the data.
    """
    try:
        from scipy.optimize import minimize, nnls
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("max_margin needs SciPy: pip install scipy (or fukaku's scikit-learn extra)") from exc
    X = _inputs.features(X, "max_margin", None, np.float64)
    y = _pm1_labels(y, "max_margin", len(X)).astype(np.float64)
    Z = y[:, None] * _augment(X)
    start = np.linalg.lstsq(Z, np.ones(len(Z)), rcond=None)[0]  # z_iᵀv = 1 for all i, in least squares
    res = minimize(lambda v: (0.5 * v @ v, v), start, jac=True, method="SLSQP",
                   constraints=[{"type": "ineq", "fun": lambda v: Z @ v - 1.0, "jac": lambda v: Z}],
                   options={"maxiter": 1000, "ftol": 1e-15})
    v = res.x
    norm = np.linalg.norm(v)
    scores = Z @ v
    gamma = float(np.min(scores) / norm) if norm > 0 else -np.inf
    if not gamma > 0:
        raise ValueError(f"max_margin: the data are not linearly separable (best margin found {gamma:.3g}); "
                         "no hyperplane has all points on the correct side")
    active = scores <= np.min(scores) * (1 + 1e-6)
    alpha = nnls(Z[active].T, v)[0]
    lam = alpha / alpha.sum() if alpha.sum() > 0 else np.eye(int(active.sum()))[0]
    return MaxMargin(weight=v[:-1] / norm, bias=float(v[-1] / norm), gamma=gamma,
                     gamma_upper=float(np.linalg.norm(Z[active].T @ lam)))


__all__ = ["Perceptron", "PerceptronFit", "margin", "novikoff_bound", "max_margin", "MaxMargin"]
