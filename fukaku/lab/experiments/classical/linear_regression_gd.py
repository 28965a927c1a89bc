"""An identity neuron trained by gradient descent on the squared loss reaches ordinary least squares
(seed 000 §6.1.1, seed 003); the normal equations are the oracle."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku.models import LinearRegression

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

_TOL = 1e-6


class LinearRegressionGD(Experiment, id="linear-regression-gd", source="seed 000 §6.1.1, seed 003"):
    """Gradient descent on linear regression reaches least squares.

    An identity neuron trained by gradient descent θ ← θ − η∇L on the squared loss reaches the ordinary
    least-squares solution.
    """

    def measure(self, ctx: Context) -> Measurement:
        rng = ctx.rng()
        n, d = (200, 4) if ctx.quick else (2000, 10)
        X = rng.normal(size=(n, d)) @ (np.eye(d) + 0.3 * rng.normal(size=(d, d)))  # correlated features
        beta = rng.normal(size=d)
        y = X @ beta + 0.5 + 0.3 * rng.normal(size=n)
        model = LinearRegression(d, dtype=fk.float64)
        fit = model.fit(X, y, method="gd", tol=1e-10)
        theta = np.concatenate([model.weight._data[0], model.bias._data])
        Xa = np.concatenate([X, np.ones((n, 1))], axis=1)
        theta_ls = np.linalg.solve(Xa.T @ Xa, Xa.T @ y)  # the normal equations
        return Measurement(
            values={"samples": n, "features": d, "steps": fit.iterations, "final max |∂L/∂θ|": fit.grad_max,
                    "max |θ_GD − θ_LS|": float(np.max(np.abs(theta - theta_ls))), "tolerance": _TOL,
                    "MSE (GD)": fit.loss, "MSE (least squares)": float(np.mean((Xa @ theta_ls - y) ** 2)),
                    "converged": fit.converged},
            plot_data={"MSE per step": fit.losses})

    def checks(self, m: dict) -> list[Check]:
        return [Check("gradient descent converged (gradient ≤ 1e-10)", m["converged"], "=", True),
                Check("max |θ_GD − θ_LS|", m["max |θ_GD − θ_LS|"], "≤", _TOL)]

    summary_template = """After {m[steps]} gradient-descent steps, max |θ_GD − θ_LS| = {m[max |θ_GD − θ_LS|]:.1e} ≤
        {m[tolerance]:g}. Gradient descent (step 1/L) reaches the normal-equation solution; the MSE is
        {m[MSE (GD)]:.10f} vs {m[MSE (least squares)]:.10f}."""

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        m, losses = measurement.values, measurement.plot_data["MSE per step"]

        def draw(fig):
            ax = fig.subplots()
            ax.semilogy(np.maximum(np.array(losses) - m["MSE (least squares)"], 1e-18))
            ax.set_xlabel("gradient-descent step")
            ax.set_ylabel("MSE − MSE(least squares)")
            ax.set_title(f"gradient descent → least squares ({m['samples']} samples, {m['features']} features)",
                         fontsize=10)
            ax.grid(alpha=0.3, which="both")

        return save_figure(ctx, self.id, draw)
