"""MAE vs MSE on data with outliers (seed 003): the MSE fit is pulled toward the outliers, the MAE fit stays
with the bulk of the data."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
import fukaku.nn.functional as F
from fukaku import optim
from fukaku.models import LinearRegression

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

TRUE_SLOPE, TRUE_INTERCEPT = 2.0, 1.0
ROBUST_TOL = 0.1 * TRUE_SLOPE  # "robust": the slope within 10 % of the true one
OUTLIER_SHIFT = 25.0


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


def _clean_slope_error(m: dict) -> float:
    """The larger |slope error| of the MSE and MAE fits on the data without outliers."""
    return max(abs(m["MSE slope (clean)"] - TRUE_SLOPE), abs(m["MAE slope (clean)"] - TRUE_SLOPE))


class MaeVsMse(Experiment, id="mae-vs-mse", source='seed 003 (demo "MAE vs MSE")'):
    """MAE vs MSE with outliers.

    On data with outliers the line fitted by minimising the MSE is pulled toward the outliers, while the
    MAE fit is robust (stays with the bulk of the data).
    """

    def measure(self, ctx: Context) -> Measurement:
        rng = ctx.rng()
        n = 100 if ctx.quick else 1000
        x = rng.uniform(0.0, 10.0, n)
        y_clean = TRUE_SLOPE * x + TRUE_INTERCEPT + rng.normal(0.0, 0.5, n)
        outliers = np.argsort(x)[-n // 10:]  # the 10% of points with the largest x …
        y = y_clean.copy()
        y[outliers] -= OUTLIER_SHIFT  # … pushed far below the line
        X = x[:, None]
        steps = 1500 if ctx.quick else 5000
        fits = {}
        for name, targets in (("clean", y_clean), ("outliers", y)):
            mse = LinearRegression(1, dtype=fk.float64)
            mse.fit(X, targets)  # the MSE minimiser (least squares)
            mae = _fit_mae(X, targets, steps)
            fits[name] = {key: (float(fitted.weight._data[0, 0]), float(fitted.bias._data[0]))
                          for key, fitted in (("MSE", mse), ("MAE", mae))}
        # "Pulled toward the outliers": the mean distance from the outliers to each fitted line.
        to_outliers = {k: float(np.mean(np.abs(y[outliers] - (s * x[outliers] + c))))
                       for k, (s, c) in fits["outliers"].items()}
        return Measurement(
            values={"samples": n, "outliers": int(len(outliers)), "true slope": TRUE_SLOPE,
                    "MSE slope (outliers)": fits["outliers"]["MSE"][0],
                    "MAE slope (outliers)": fits["outliers"]["MAE"][0],
                    "MSE slope (clean)": fits["clean"]["MSE"][0], "MAE slope (clean)": fits["clean"]["MAE"][0],
                    "|slope error| MSE": abs(fits["outliers"]["MSE"][0] - TRUE_SLOPE),
                    "|slope error| MAE": abs(fits["outliers"]["MAE"][0] - TRUE_SLOPE),
                    "robustness tolerance (10% of the slope)": ROBUST_TOL,
                    "mean distance outliers → MSE line": to_outliers["MSE"],
                    "mean distance outliers → MAE line": to_outliers["MAE"], "Adam steps (MAE)": steps},
            plot_data={"x": x, "y": y, "outliers": outliers, "lines with outliers": fits["outliers"]})

    def checks(self, m: dict) -> list[Check]:
        return [Check("with outliers: |slope error| of the MAE fit", m["|slope error| MAE"], "≤", ROBUST_TOL),
                Check("with outliers: |slope error| of the MSE fit, at least 3× the MAE fit's", m["|slope error| MSE"],
                      "≥", 3 * m["|slope error| MAE"]),
                Check("with outliers: |slope error| of the MSE fit, beyond the tolerance", m["|slope error| MSE"], ">",
                      ROBUST_TOL),
                Check("mean distance from the outliers to the MSE line, below the MAE line's",
                      m["mean distance outliers → MSE line"], "<", m["mean distance outliers → MAE line"]),
                Check("clean data: largest |slope error| of the two fits", _clean_slope_error(m), "≤", ROBUST_TOL)]

    summary_template = """With outliers the slope error is {m[|slope error| MSE]:.3f} for MSE vs
        {m[|slope error| MAE]:.3f} for MAE (true slope {m[true slope]:g}). With {m[outliers]} of {m[samples]}
        points pushed {shift:g} below the line, the MSE slope is {m[MSE slope (outliers)]:.3f} and its line
        passes closer to the outliers ({m[mean distance outliers → MSE line]:.1f} vs
        {m[mean distance outliers → MAE line]:.1f}); the MAE slope is {m[MAE slope (outliers)]:.3f} (tolerance
        {m[robustness tolerance (10% of the slope)]:g}). On the clean data both are within {clean_error:.3f} of
        the true slope."""

    def summary_values(self, m: dict) -> dict:
        return {"shift": OUTLIER_SHIFT, "clean_error": _clean_slope_error(m)}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        data = measurement.plot_data
        x, y, outliers = data["x"], data["y"], data["outliers"]

        def draw(fig):
            ax = fig.subplots()
            inliers = np.setdiff1d(np.arange(len(x)), outliers)
            ax.scatter(x[inliers], y[inliers], s=10, color="gray", label="data")
            ax.scatter(x[outliers], y[outliers], s=18, color="red", marker="x", label="outliers")
            xs = np.array([0.0, 10.0])
            ax.plot(xs, TRUE_SLOPE * xs + TRUE_INTERCEPT, "k:", label="true line")
            for key, style in (("MSE", "C0-"), ("MAE", "C2-")):
                s, c = data["lines with outliers"][key]
                ax.plot(xs, s * xs + c, style, linewidth=2, label=f"{key} fit: slope {s:.2f}")
            ax.set_xlabel("x")
            ax.set_ylabel("y")
            ax.set_title("MAE vs MSE on data with outliers", fontsize=10)
            ax.legend(fontsize=8)

        return save_figure(ctx, self.id, draw)
