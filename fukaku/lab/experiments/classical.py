"""The single neuron of seed 000 §6.1.1 and the regression losses of seed 003, run as experiments.

- the perceptron converges on linearly separable data within Novikoff's bound (R/γ)², with a
  mistake count that does not depend on η (zero initial weights), and never converges on XOR;
- the sigmoid neuron trained by maximising the Bernoulli log-likelihood is unregularised logistic
  regression (scikit-learn's fit is the oracle);
- the identity neuron trained by gradient descent on the squared loss reaches least squares;
- MAE vs MSE on data with outliers (seed 003): the MSE fit is pulled toward the outliers.

The models are :mod:`fukaku.models`; these experiments only generate data, measure and compare.
"""
from __future__ import annotations

import numpy as np

import fukaku as fk
import fukaku.nn.functional as F
from fukaku import optim
from fukaku.models import LinearRegression, LogisticRegression, Perceptron, margin, novikoff_bound

from ..plotting import save_figure
from ..registry import Context, Result, experiment


def separable_data(rng: np.random.Generator, n: int, gamma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """``n`` points ``(n, 2)`` of [−1, 1]² labelled ±1 by a random unit separator u = (w, b) (bias absorbed),
    keeping only points at distance ≥ ``gamma`` from it in the augmented space: (X, y, w, b)."""
    u = rng.normal(size=3)
    u[2] *= 0.3  # a boundary that crosses the square
    u /= np.linalg.norm(u)
    X = np.empty((0, 2))
    while len(X) < n:  # rejection sampling, a vectorised batch at a time
        cand = rng.uniform(-1.0, 1.0, size=(4 * n, 2))
        score = cand @ u[:2] + u[2]
        X = np.concatenate([X, cand[np.abs(score) >= gamma]])
    X = X[:n]
    y = np.where(X @ u[:2] + u[2] > 0, 1.0, -1.0)
    return X, y, u[:2], float(u[2])


@experiment(
    "perceptron-convergence",
    title="The perceptron converges within Novikoff's bound (R/γ)²",
    source="seed 000 §6.1.1",
    claim="On linearly separable data the perceptron's error-correction rule reaches zero training errors "
          "after finitely many updates; the number of mistakes is at most (R/γ)², R = max‖x̃_i‖, γ the margin "
          "of a unit-norm separator (bias absorbed), and from zero initial weights it does not depend on η.",
)
def perceptron_convergence(ctx: Context) -> Result:
    rng = ctx.rng()
    n = 500 if ctx.quick else 5000
    gammas = [0.2, 0.1, 0.05, 0.025] if ctx.quick else [0.2, 0.1, 0.05, 0.025, 0.0125, 0.00625]
    runs = []
    for target in gammas:
        X, y, w, b = separable_data(rng, n, target)
        fit = Perceptron(2, dtype=fk.float64).fit(X, y, max_epochs=10_000, lr=1.0, seed=ctx.seed)
        runs.append({"gamma": margin(X, y, w, b), "bound": novikoff_bound(X, y, w, b), "mistakes": fit.updates,
                     "epochs": fit.epochs, "converged": fit.converged, "data": (X, y, w, b)})
    # η-independence on the hardest data set: same visits, same mistakes, weights scaled by η.
    X, y, w, b = runs[-1]["data"]
    etas = [0.01, 1.0, 100.0]
    by_eta = []
    for eta in etas:
        model = Perceptron(2, dtype=fk.float64)
        fit = model.fit(X, y, max_epochs=10_000, lr=eta, seed=ctx.seed)
        by_eta.append((fit.updates, np.concatenate([model.weight.data[0], model.bias.data]) / eta))
    same_count = len({count for count, _ in by_eta}) == 1
    scaled_weight_gap = max(float(np.max(np.abs(v - by_eta[1][1]) / np.max(np.abs(by_eta[1][1])))) for _, v in by_eta)

    within = all(r["converged"] and r["mistakes"] <= r["bound"] for r in runs)
    holds = bool(within and same_count and scaled_weight_gap <= 1e-9)
    hardest = runs[-1]

    def draw(fig):
        ax_d, ax_b = fig.subplots(1, 2)
        Xh, yh, wh, bh = hardest["data"]
        model = Perceptron(2, dtype=fk.float64)
        model.fit(Xh, yh, max_epochs=10_000, lr=1.0, seed=ctx.seed)
        ax_d.scatter(Xh[:, 0], Xh[:, 1], c=yh, cmap="RdBu_r", s=8)
        xs = np.array([-1.0, 1.0])
        for (ww, bb), style, label in (((wh, bh), "k--", "planted separator"),
                                       ((model.weight.data[0], model.bias.data[0]), "g-", "perceptron")):
            ax_d.plot(xs, -(ww[0] * xs + bb) / ww[1], style, label=label)
        ax_d.set_xlim(-1, 1)
        ax_d.set_ylim(-1, 1)
        ax_d.set_aspect("equal")
        ax_d.set_title(f"γ = {hardest['gamma']:.3g}: {hardest['mistakes']} mistakes", fontsize=10)
        ax_d.legend(fontsize=8, loc="lower left")
        bounds = [r["bound"] for r in runs]
        ax_b.loglog(bounds, [r["mistakes"] for r in runs], "o", label="measured mistakes")
        line = np.array([min(bounds) / 2, max(bounds) * 2])
        ax_b.loglog(line, line, "k:", label="mistakes = (R/γ)²")
        ax_b.set_xlabel("Novikoff bound (R/γ)²")
        ax_b.set_ylabel("mistakes until convergence")
        ax_b.set_title(f"{len(runs)} data sets, margins {gammas[0]:g} … {gammas[-1]:g}", fontsize=10)
        ax_b.legend(fontsize=8)
        ax_b.grid(alpha=0.3, which="both")

    return Result(
        measured={"points per data set": n,
                  "margin γ": [r["gamma"] for r in runs], "bound (R/γ)²": [r["bound"] for r in runs],
                  "mistakes": [r["mistakes"] for r in runs], "epochs": [r["epochs"] for r in runs],
                  "all converged": all(r["converged"] for r in runs),
                  "mistakes for η = 0.01, 1, 100": [count for count, _ in by_eta],
                  "max relative gap of w̃/η across η": scaled_weight_gap},
        holds=holds,
        summary=(f"On {len(runs)} separable data sets of {n} points (margins {hardest['gamma']:.3g} to "
                 f"{runs[0]['gamma']:.3g}) the perceptron converged every time, with "
                 + ", ".join(f"{r['mistakes']} ≤ {r['bound']:.0f}" for r in runs)
                 + f" mistakes vs bound; with η = 0.01, 1 and 100 it made {by_eta[0][0]}, {by_eta[1][0]} and "
                   f"{by_eta[2][0]} mistakes and w̃/η agrees to {scaled_weight_gap:.1e}."),
        figures=save_figure(ctx, "perceptron-convergence", draw, figsize=(10, 4.2)),
        headline=f"mistakes {hardest['mistakes']} ≤ bound {hardest['bound']:.0f} (γ = {hardest['gamma']:.3g}); "
                 f"same count for η = 0.01, 1, 100",
    )


@experiment(
    "perceptron-xor",
    title="The perceptron never converges on XOR",
    source="seed 000 §6.1.1",
    claim="XOR is not linearly separable, so the perceptron rule keeps making mistakes: no epoch is "
          "mistake-free (on AND, which is separable, it converges).",
)
def perceptron_xor(ctx: Context) -> Result:
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    xor = np.array([-1.0, 1.0, 1.0, -1.0])
    and_ = np.array([-1.0, -1.0, -1.0, 1.0])
    budget = 1000 if ctx.quick else 100_000
    fit_xor = Perceptron(2, dtype=fk.float64).fit(X, xor, max_epochs=budget, seed=ctx.seed)
    fit_and = Perceptron(2, dtype=fk.float64).fit(X, and_, max_epochs=budget, seed=ctx.seed)
    fewest = min(fit_xor.mistakes_per_epoch)
    holds = bool(not fit_xor.converged and fit_xor.epochs == budget and fewest >= 1 and fit_and.converged)

    def draw(fig):
        ax = fig.subplots()
        shown = min(budget, 200)
        ax.plot(np.arange(1, shown + 1), fit_xor.mistakes_per_epoch[:shown], label="XOR")
        ax.plot(np.arange(1, fit_and.epochs + 1), fit_and.mistakes_per_epoch, "o-", label="AND")
        ax.set_xlabel("epoch")
        ax.set_ylabel("mistakes in the epoch (of 4)")
        ax.set_title(f"perceptron on XOR vs AND (first {shown} of {budget} epochs)", fontsize=10)
        ax.legend()
        ax.grid(alpha=0.3)

    return Result(
        measured={"epoch budget": budget, "XOR converged": fit_xor.converged, "XOR epochs run": fit_xor.epochs,
                  "XOR fewest mistakes in an epoch": fewest, "XOR total updates": fit_xor.updates,
                  "AND converged": fit_and.converged, "AND epochs": fit_and.epochs, "AND updates": fit_and.updates},
        holds=holds,
        summary=(f"In {budget} epochs on XOR the perceptron made at least {fewest} mistake(s) in every epoch "
                 f"({fit_xor.updates} updates in all) and never converged; on AND it converged after "
                 f"{fit_and.updates} updates in {fit_and.epochs} epochs."),
        figures=save_figure(ctx, "perceptron-xor", draw),
        headline=(f"XOR: ≥ {fewest} mistake{'s' if fewest != 1 else ''} in each of {fit_xor.epochs} epochs; "
                  f"AND converges in {fit_and.epochs}"),
    )


def _log_likelihood(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> float:
    """ℓ(w, b) = Σ y log σ(z) + (1 − y) log(1 − σ(z)), computed stably as −Σ softplus(−(2y−1)z)."""
    z = X @ w + b
    return float(-np.sum(np.logaddexp(0.0, -(2 * y - 1) * z)))


@experiment(
    "logistic-regression-sklearn",
    title="A sigmoid neuron maximising the log-likelihood is logistic regression",
    source="seed 000 §6.1.1",
    claim="A neuron with the sigmoid activation trained by maximising the Bernoulli log-likelihood "
          "ℓ(w, b) = Σ y log σ(wᵀx + b) + (1 − y) log(1 − σ(wᵀx + b)) equals unregularised logistic regression.",
)
def logistic_regression_sklearn(ctx: Context) -> Result:
    try:
        from sklearn.linear_model import LogisticRegression as SkLogisticRegression
    except ImportError as exc:
        raise ImportError("logistic-regression-sklearn compares with scikit-learn's fit, the independent oracle: "
                          "pip install scikit-learn") from exc

    rng = ctx.rng()
    n = 300 if ctx.quick else 3000
    # Two overlapping Gaussian classes (not separable, so the unregularised optimum is finite).
    y = (rng.uniform(size=n) < 0.5).astype(np.float64)
    X = rng.normal(size=(n, 2)) + np.where(y[:, None] == 1, [0.8, 0.4], [-0.6, -0.3])
    model = LogisticRegression(2, dtype=fk.float64)
    fit = model.fit(X, y, tol=1e-7, max_iter=200_000)
    w, b = model.weight.data[0].copy(), float(model.bias.data[0])
    sk = SkLogisticRegression(C=np.inf, tol=1e-12, max_iter=100_000).fit(X, y)  # C = ∞: no penalty
    w_sk, b_sk = sk.coef_[0], float(sk.intercept_[0])
    gap = float(max(np.max(np.abs(w - w_sk)), abs(b - b_sk)))
    ll, ll_sk = _log_likelihood(X, y, w, b), _log_likelihood(X, y, w_sk, b_sk)
    tol = 1e-4
    holds = bool(fit.converged and gap <= tol and ll >= ll_sk - 1e-8)

    def draw(fig):
        ax = fig.subplots()
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", s=8, alpha=0.7)
        xs = np.linspace(X[:, 0].min(), X[:, 0].max(), 2)
        ax.plot(xs, -(w[0] * xs + b) / w[1], "g-", linewidth=3, label="fukaku (max log-likelihood)")
        ax.plot(xs, -(w_sk[0] * xs + b_sk) / w_sk[1], "k--", label="scikit-learn, no penalty")
        ax.set_ylim(X[:, 1].min(), X[:, 1].max())
        ax.set_title("decision boundary σ(wᵀx + b) = 0.5", fontsize=10)
        ax.legend(fontsize=8)

    return Result(
        measured={"samples": n, "fukaku w": w.tolist(), "fukaku b": b, "scikit-learn w": w_sk.tolist(),
                  "scikit-learn b": b_sk, "max |θ − θ_sklearn|": gap, "tolerance": tol,
                  "log-likelihood (fukaku)": ll, "log-likelihood (scikit-learn)": ll_sk,
                  "gradient-descent steps": fit.iterations, "final max |∂(−ℓ/N)/∂θ|": fit.grad_max},
        holds=holds,
        summary=(f"Gradient descent on −ℓ/N stopped after {fit.iterations} steps with gradient {fit.grad_max:.1e}; "
                 f"its weights match scikit-learn's unregularised fit to {gap:.1e} (tolerance {tol:g}), and the "
                 f"log-likelihoods are {ll:.8f} vs {ll_sk:.8f}."),
        figures=save_figure(ctx, "logistic-regression-sklearn", draw),
        headline=f"max |θ − θ_sklearn| = {gap:.1e} ≤ {tol:g}; ℓ {ll:.6f} vs {ll_sk:.6f}",
    )


@experiment(
    "linear-regression-gd",
    title="Gradient descent on linear regression reaches least squares",
    source="seed 000 §6.1.1, seed 003",
    claim="An identity neuron trained by gradient descent θ ← θ − η∇L on the squared loss reaches the ordinary "
          "least-squares solution.",
)
def linear_regression_gd(ctx: Context) -> Result:
    rng = ctx.rng()
    n, d = (200, 4) if ctx.quick else (2000, 10)
    X = rng.normal(size=(n, d)) @ (np.eye(d) + 0.3 * rng.normal(size=(d, d)))  # correlated features
    beta = rng.normal(size=d)
    y = X @ beta + 0.5 + 0.3 * rng.normal(size=n)
    model = LinearRegression(d, dtype=fk.float64)
    fit = model.fit(X, y, method="gd", tol=1e-10)
    theta = np.concatenate([model.weight.data[0], model.bias.data])
    Xa = np.concatenate([X, np.ones((n, 1))], axis=1)
    theta_ls = np.linalg.solve(Xa.T @ Xa, Xa.T @ y)  # the normal equations
    gap = float(np.max(np.abs(theta - theta_ls)))
    loss_ls = float(np.mean((Xa @ theta_ls - y) ** 2))
    tol = 1e-6
    holds = bool(fit.converged and gap <= tol)

    def draw(fig):
        ax = fig.subplots()
        excess = np.maximum(np.array(fit.losses) - loss_ls, 1e-18)
        ax.semilogy(excess)
        ax.set_xlabel("gradient-descent step")
        ax.set_ylabel("MSE − MSE(least squares)")
        ax.set_title(f"gradient descent → least squares ({n} samples, {d} features)", fontsize=10)
        ax.grid(alpha=0.3, which="both")

    return Result(
        measured={"samples": n, "features": d, "steps": fit.iterations, "final max |∂L/∂θ|": fit.grad_max,
                  "max |θ_GD − θ_LS|": gap, "tolerance": tol, "MSE (GD)": fit.loss, "MSE (least squares)": loss_ls},
        holds=holds,
        summary=(f"After {fit.iterations} steps of gradient descent (step 1/L) the weights equal the normal-equation "
                 f"solution to {gap:.1e} (tolerance {tol:g}); the MSE is {fit.loss:.10f} vs {loss_ls:.10f}."),
        figures=save_figure(ctx, "linear-regression-gd", draw),
        headline=f"max |θ_GD − θ_LS| = {gap:.1e} ≤ {tol:g} after {fit.iterations} steps",
    )


def _fit_mae(X: np.ndarray, y: np.ndarray, steps: int) -> LinearRegression:
    """A line ``LinearRegression(1)`` minimising the mean absolute error: the training loop of seed 003
    (forward → L1 loss → backward → Adam step) with a cosine-annealed learning rate, since the L1
    subgradient does not shrink near the optimum and only a decaying step settles there."""
    model = LinearRegression(1, dtype=fk.float64)
    opt = optim.Adam(model.parameters(), lr=0.5)
    schedule = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    inputs, targets = fk.tensor(X), fk.tensor(y[:, None])
    for _ in range(steps):
        opt.zero_grad()
        F.l1_loss(model(inputs), targets).backward()
        opt.step()
        schedule.step()
    return model


@experiment(
    "mae-vs-mse",
    title="MAE vs MSE with outliers",
    source="seed 003 (demo \"MAE vs MSE\")",
    claim="On data with outliers the line fitted by minimising the MSE is pulled toward the outliers, while the "
          "MAE fit is robust (stays with the bulk of the data).",
)
def mae_vs_mse(ctx: Context) -> Result:
    rng = ctx.rng()
    n = 100 if ctx.quick else 1000
    true_slope, true_intercept = 2.0, 1.0
    x = rng.uniform(0.0, 10.0, n)
    y_clean = true_slope * x + true_intercept + rng.normal(0.0, 0.5, n)
    outliers = np.argsort(x)[-n // 10:]  # the 10% of points with the largest x …
    y = y_clean.copy()
    y[outliers] -= 25.0  # … pushed far below the line
    X = x[:, None]
    steps = 1500 if ctx.quick else 5000
    fits = {}
    for name, targets in (("clean", y_clean), ("outliers", y)):
        mse = LinearRegression(1, dtype=fk.float64)
        mse.fit(X, targets)  # the MSE minimiser (least squares)
        mae = _fit_mae(X, targets, steps)
        fits[name] = {k: (float(m.weight.data[0, 0]), float(m.bias.data[0])) for k, m in (("MSE", mse), ("MAE", mae))}
    slope_err = {k: abs(fits["outliers"][k][0] - true_slope) for k in ("MSE", "MAE")}
    clean_err = {k: abs(fits["clean"][k][0] - true_slope) for k in ("MSE", "MAE")}
    # "Pulled toward the outliers": the mean distance from the outliers to each fitted line.
    to_outliers = {k: float(np.mean(np.abs(y[outliers] - (s * x[outliers] + c))))
                   for k, (s, c) in fits["outliers"].items()}
    robust_tol = 0.1 * true_slope
    holds = bool(slope_err["MAE"] <= robust_tol and slope_err["MSE"] >= 3 * slope_err["MAE"]
                 and slope_err["MSE"] > robust_tol and to_outliers["MSE"] < to_outliers["MAE"]
                 and max(clean_err.values()) <= robust_tol)

    def draw(fig):
        ax = fig.subplots()
        inliers = np.setdiff1d(np.arange(n), outliers)
        ax.scatter(x[inliers], y[inliers], s=10, color="gray", label="data")
        ax.scatter(x[outliers], y[outliers], s=18, color="red", marker="x", label="outliers")
        xs = np.array([0.0, 10.0])
        ax.plot(xs, true_slope * xs + true_intercept, "k:", label="true line")
        for key, style in (("MSE", "C0-"), ("MAE", "C2-")):
            s, c = fits["outliers"][key]
            ax.plot(xs, s * xs + c, style, linewidth=2, label=f"{key} fit: slope {s:.2f}")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title("MAE vs MSE on data with outliers", fontsize=10)
        ax.legend(fontsize=8)

    return Result(
        measured={"samples": n, "outliers": int(len(outliers)), "true slope": true_slope,
                  "MSE slope (outliers)": fits["outliers"]["MSE"][0],
                  "MAE slope (outliers)": fits["outliers"]["MAE"][0],
                  "MSE slope (clean)": fits["clean"]["MSE"][0], "MAE slope (clean)": fits["clean"]["MAE"][0],
                  "|slope error| MSE": slope_err["MSE"], "|slope error| MAE": slope_err["MAE"],
                  "robustness tolerance (10% of the slope)": robust_tol,
                  "mean distance outliers → MSE line": to_outliers["MSE"],
                  "mean distance outliers → MAE line": to_outliers["MAE"], "Adam steps (MAE)": steps},
        holds=holds,
        summary=(f"With {len(outliers)} of {n} points pushed 25 below the line, the MSE slope is "
                 f"{fits['outliers']['MSE'][0]:.3f} (error {slope_err['MSE']:.3f}) and its line passes closer to the "
                 f"outliers ({to_outliers['MSE']:.1f} vs {to_outliers['MAE']:.1f}); the MAE slope is "
                 f"{fits['outliers']['MAE'][0]:.3f} (error {slope_err['MAE']:.3f}, tolerance {robust_tol:g}). On the "
                 f"clean data both are within {max(clean_err.values()):.3f} of the true slope {true_slope:g}."),
        figures=save_figure(ctx, "mae-vs-mse", draw),
        headline=f"slope error MSE {slope_err['MSE']:.2f} vs MAE {slope_err['MAE']:.3f} (true slope {true_slope:g})",
    )
