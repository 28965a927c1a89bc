"""The perceptron converges on linearly separable data within Novikoff's bound (R/γ)², with a mistake count
that does not depend on η from zero initial weights (seed 000 §6.1.1)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku.models import Perceptron, margin, novikoff_bound

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

_ETAS = [0.01, 1.0, 100.0]


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


class PerceptronConvergence(Experiment, id="perceptron-convergence", source="seed 000 §6.1.1"):
    """The perceptron converges within Novikoff's bound (R/γ)².

    On linearly separable data the perceptron's error-correction rule reaches zero training errors after
    finitely many updates; the number of mistakes is at most (R/γ)², R = max‖x̃_i‖, γ the margin of a
    unit-norm separator (bias absorbed), and from zero initial weights it does not depend on η.
    """

    def measure(self, ctx: Context) -> Measurement:
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
        by_eta = []
        for eta in _ETAS:
            model = Perceptron(2, dtype=fk.float64)
            fit = model.fit(X, y, max_epochs=10_000, lr=eta, seed=ctx.seed)
            by_eta.append((fit.updates, np.concatenate([model.weight._data[0], model.bias._data]) / eta))
        scaled_weight_gap = max(float(np.max(np.abs(v - by_eta[1][1]) / np.max(np.abs(by_eta[1][1]))))
                                for _, v in by_eta)
        return Measurement(
            values={"points per data set": n,
                    "margin γ": [r["gamma"] for r in runs], "bound (R/γ)²": [r["bound"] for r in runs],
                    "mistakes": [r["mistakes"] for r in runs], "epochs": [r["epochs"] for r in runs],
                    "all converged": all(r["converged"] for r in runs),
                    "mistakes for η = 0.01, 1, 100": [count for count, _ in by_eta],
                    "max relative gap of w̃/η across η": scaled_weight_gap},
            plot_data={"hardest data": runs[-1]["data"], "target margins": gammas})

    def checks(self, m: dict) -> list[Check]:
        over_bound = sum(mistakes > bound for mistakes, bound in zip(m["mistakes"], m["bound (R/γ)²"]))
        return [Check("every data set is learnt with zero training errors", m["all converged"], "=", True),
                Check("data sets with more mistakes than (R/γ)²", over_bound, "=", 0),
                Check("different mistake counts for η = 0.01, 1, 100", len(set(m["mistakes for η = 0.01, 1, 100"])),
                      "=", 1),
                Check("max relative gap of w̃/η across η", m["max relative gap of w̃/η across η"], "≤", 1e-9)]

    summary_template = """At γ = {margin:.3g}: {mistakes} mistakes ≤ bound {bound:.0f}; η = 0.01, 1, 100 give {by_eta}.
        On {data_sets} separable data sets of {m[points per data set]} points (margins {margin:.3g} to
        {largest_margin:.3g}) the perceptron converged every time, with {per_data_set} mistakes vs bound; across η
        the weights w̃/η agree to {m[max relative gap of w̃/η across η]:.1e}."""

    def summary_values(self, m: dict) -> dict:
        gammas, bounds, mistakes = m["margin γ"], m["bound (R/γ)²"], m["mistakes"]
        return {"margin": gammas[-1], "largest_margin": gammas[0], "mistakes": mistakes[-1], "bound": bounds[-1],
                "by_eta": ", ".join(str(k) for k in m["mistakes for η = 0.01, 1, 100"]), "data_sets": len(gammas),
                "per_data_set": ", ".join(f"{k} ≤ {bound:.0f}" for k, bound in zip(mistakes, bounds))}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        m, data = measurement.values, measurement.plot_data
        X, y, w, b = data["hardest data"]
        gammas = data["target margins"]

        def draw(fig):
            ax_d, ax_b = fig.subplots(1, 2)
            model = Perceptron(2, dtype=fk.float64)
            model.fit(X, y, max_epochs=10_000, lr=1.0, seed=ctx.seed)
            ax_d.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", s=8)
            xs = np.array([-1.0, 1.0])
            for (ww, bb), style, label in (((w, b), "k--", "planted separator"),
                                           ((model.weight._data[0], model.bias._data[0]), "g-", "perceptron")):
                ax_d.plot(xs, -(ww[0] * xs + bb) / ww[1], style, label=label)
            ax_d.set_xlim(-1, 1)
            ax_d.set_ylim(-1, 1)
            ax_d.set_aspect("equal")
            ax_d.set_title(f"γ = {m['margin γ'][-1]:.3g}: {m['mistakes'][-1]} mistakes", fontsize=10)
            ax_d.legend(fontsize=8, loc="lower left")
            bounds = m["bound (R/γ)²"]
            ax_b.loglog(bounds, m["mistakes"], "o", label="measured mistakes")
            line = np.array([min(bounds) / 2, max(bounds) * 2])
            ax_b.loglog(line, line, "k:", label="mistakes = (R/γ)²")
            ax_b.set_xlabel("Novikoff bound (R/γ)²")
            ax_b.set_ylabel("mistakes until convergence")
            ax_b.set_title(f"{len(bounds)} data sets, margins {gammas[0]:g} … {gammas[-1]:g}", fontsize=10)
            ax_b.legend(fontsize=8)
            ax_b.grid(alpha=0.3, which="both")

        return save_figure(ctx, self.id, draw, figsize=(10, 4.2))
