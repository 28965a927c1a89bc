"""A sigmoid neuron trained by maximising the Bernoulli log-likelihood is unregularised logistic regression
(seed 000 §6.1.1); scikit-learn's fit is the independent oracle."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku.models import LogisticRegression

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

_TOL = 1e-4


def _log_likelihood(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> float:
    """ℓ(w, b) = Σ y log σ(z) + (1 − y) log(1 − σ(z)), computed stably as −Σ softplus(−(2y−1)z)."""
    z = X @ w + b
    return float(-np.sum(np.logaddexp(0.0, -(2 * y - 1) * z)))


class LogisticRegressionSklearn(Experiment, id="logistic-regression-sklearn", source="seed 000 §6.1.1"):
    """A sigmoid neuron maximising the log-likelihood is logistic regression.

    A neuron with the sigmoid activation trained by maximising the Bernoulli log-likelihood ℓ(w, b) = Σ y
    log σ(wᵀx + b) + (1 − y) log(1 − σ(wᵀx + b)) equals unregularised logistic regression.
    """

    def measure(self, ctx: Context) -> Measurement:
        try:
            from sklearn.linear_model import LogisticRegression as SkLogisticRegression
        except ImportError as exc:
            raise ImportError(f"{self.id} compares with scikit-learn's fit, the independent oracle: "
                              "pip install scikit-learn") from exc

        rng = ctx.rng()
        n = 300 if ctx.quick else 3000
        # Two overlapping Gaussian classes (not separable, so the unregularised optimum is finite).
        y = (rng.uniform(size=n) < 0.5).astype(np.float64)
        X = rng.normal(size=(n, 2)) + np.where(y[:, None] == 1, [0.8, 0.4], [-0.6, -0.3])
        model = LogisticRegression(2, dtype=fk.float64)
        fit = model.fit(X, y, tol=1e-7, max_iter=200_000)
        w, b = model.weight._data[0].copy(), float(model.bias._data[0])
        sk = SkLogisticRegression(C=np.inf, tol=1e-12, max_iter=100_000).fit(X, y)  # C = ∞: no penalty
        w_sk, b_sk = sk.coef_[0], float(sk.intercept_[0])
        return Measurement(
            values={"samples": n, "fukaku w": w.tolist(), "fukaku b": b, "scikit-learn w": w_sk.tolist(),
                    "scikit-learn b": b_sk, "max |θ − θ_sklearn|": float(max(np.max(np.abs(w - w_sk)), abs(b - b_sk))),
                    "tolerance": _TOL, "log-likelihood (fukaku)": _log_likelihood(X, y, w, b),
                    "log-likelihood (scikit-learn)": _log_likelihood(X, y, w_sk, b_sk),
                    "gradient-descent steps": fit.iterations, "final max |∂(−ℓ/N)/∂θ|": fit.grad_max,
                    "gradient descent converged": fit.converged},
            plot_data={"X": X, "y": y})

    def checks(self, m: dict) -> list[Check]:
        return [Check("gradient descent converged (gradient ≤ 1e-7)", m["gradient descent converged"], "=", True),
                Check("max |θ − θ_sklearn|", m["max |θ − θ_sklearn|"], "≤", _TOL),
                Check("fukaku's log-likelihood, at least scikit-learn's − 1e-8", m["log-likelihood (fukaku)"], "≥",
                      m["log-likelihood (scikit-learn)"] - 1e-8)]

    summary_template = """θ is within {m[max |θ − θ_sklearn|]:.1e} ≤ {m[tolerance]:g} of scikit-learn's θ; ℓ
        {m[log-likelihood (fukaku)]:.8f} vs {m[log-likelihood (scikit-learn)]:.8f}. Gradient descent on −ℓ/N
        stopped after {m[gradient-descent steps]} steps with gradient {m[final max |∂(−ℓ/N)/∂θ|]:.1e}, at the
        maximum of the log-likelihood that scikit-learn's unregularised fit finds."""

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        m, X, y = measurement.values, measurement.plot_data["X"], measurement.plot_data["y"]
        w, b, w_sk, b_sk = m["fukaku w"], m["fukaku b"], m["scikit-learn w"], m["scikit-learn b"]

        def draw(fig):
            ax = fig.subplots()
            ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", s=8, alpha=0.7)
            xs = np.linspace(X[:, 0].min(), X[:, 0].max(), 2)
            ax.plot(xs, -(w[0] * xs + b) / w[1], "g-", linewidth=3, label="fukaku (max log-likelihood)")
            ax.plot(xs, -(w_sk[0] * xs + b_sk) / w_sk[1], "k--", label="scikit-learn, no penalty")
            ax.set_ylim(X[:, 1].min(), X[:, 1].max())
            ax.set_title("decision boundary σ(wᵀx + b) = 0.5", fontsize=10)
            ax.legend(fontsize=8)

        return save_figure(ctx, self.id, draw)
