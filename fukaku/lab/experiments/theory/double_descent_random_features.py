"""Random-features double descent on the 8×8 digits (seed 000 §6.1.9): a fixed random ReLU layer of N features and a
minimum-norm least-squares read-out of the one-hot labels; for a fixed n the test error peaks near N = n (each of
the k outputs is a least-squares problem on the same features: N·k parameters against n·k targets) and falls again
as N grows past it (Belkin, Hsu, Ma & Mandal 2019)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fukaku.theory.double_descent import random_features_sweep

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ....ops._parallel import blas_threads
from ._common import digits_split, integer_log_ticks

CLASSES = 10
QUICK = (200, (0.125, 0.25, 0.5, 0.75, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25, 1.5, 2, 3, 4), 3)   # n, N/n, seeds
FULL = (500, (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2, 1.3, 1.5,
              1.75, 2, 2.5, 3, 4, 6), 5)
WINDOW = (0.8, 1.25)           # the peak's N/n must lie in this window around the threshold N = n
SECOND = 1.0                   # at the largest N the test MSE is below this × the best one for N ≤ n/2


class DoubleDescentRandomFeatures(Experiment, id="double-descent-random-features", source="seed 000 §6.1.9"):
    """Random-features regression on the digits peaks at N = n features.

    A fixed random first layer (nn.Linear's initialisation, frozen) gives N ReLU features of an 8×8 digit; the
    read-out of the one-hot labels is the minimum-norm least-squares solution Φ⁺Y. For n = 200 training images
    (three random layers; full run n = 500, five) and N from n/8 to 4n, the median test MSE is highest at
    N/n within 0.8 … 1.25 of the interpolation threshold N = n, where the training MSE has just reached 0 (it is
    0 for every N > n);
    beyond it the test MSE falls again, below the best one among N ≤ n/2 at the largest N (the second descent),
    the peak standing at least 3 times above that last value.
    """

    def measure(self, ctx: Context) -> Measurement:
        n, ratios, seeds = QUICK if ctx.quick else FULL
        x_train, y_train, x_test, y_test = digits_split(n, ctx.seed)
        widths = [max(1, round(r * n)) for r in ratios]
        with blas_threads(1):
            sweep = random_features_sweep(x_train, y_train, x_test, y_test, widths, CLASSES,
                                          seeds=range(ctx.seed + 1, ctx.seed + 1 + seeds))
        mse, error = np.median(sweep.test_mse, 0), np.median(sweep.test_error, 0)
        peak = int(np.argmax(mse))
        early = sweep.widths <= n / 2
        return Measurement(values={
            "n (training images)": n, "test images": len(y_test), "random layers": seeds,
            "N": [int(w) for w in widths],
            "median test MSE": [round(float(v), 4) for v in mse],
            "median test error": [round(float(v), 4) for v in error],
            "N of the highest test MSE": int(sweep.widths[peak]),
            "peak N / n": float(sweep.widths[peak] / n),
            "peak test MSE": float(mse[peak]), "test error at the peak": float(error[peak]),
            "best test MSE for N ≤ n/2": float(mse[early].min()),
            "test MSE at the largest N": float(mse[-1]), "test error at the largest N": float(error[-1]),
            "largest training MSE for N > n": float(sweep.train_mse[:, sweep.widths > n].max()),
            "median training MSE at N = n": float(np.median(sweep.train_mse[:, sweep.widths == n])),
            "smallest training MSE for N < n": float(sweep.train_mse[:, sweep.widths < n].min()),
        }, plot_data={"sweep": sweep})

    def checks(self, m: dict) -> list[Check]:
        return [Check(f"the peak of the test MSE is near N = n: N/n ≥ {WINDOW[0]}", m["peak N / n"], "≥", WINDOW[0]),
                Check(f"… and N/n ≤ {WINDOW[1]}", m["peak N / n"], "≤", WINDOW[1]),
                Check("the features interpolate beyond N = n: training MSE", m["largest training MSE for N > n"],
                      "≤", 1e-12),
                Check("second descent: test MSE at the largest N / best for N ≤ n/2",
                      m["test MSE at the largest N"] / m["best test MSE for N ≤ n/2"], "<", SECOND),
                Check("the peak stands out: peak test MSE / test MSE at the largest N",
                      m["peak test MSE"] / m["test MSE at the largest N"], "≥", 3.0)]

    summary_template = """Test MSE peaks at N = {m[N of the highest test MSE]} for n = {m[n (training images)]}
        (N/n = {m[peak N / n]:.2f}). Random ReLU features of the 8×8 digits with a minimum-norm read-out (median
        over {m[random layers]} random layers, {m[test images]} test images): the test MSE rises from
        {m[best test MSE for N ≤ n/2]:.3f} (best for N ≤ n/2) to {m[peak test MSE]:.3g} at the threshold (test
        error {m[test error at the peak]:.3f}), where the training MSE has just reached 0 (median
        {m[median training MSE at N = n]:.0e} at N = n, at most {m[largest training MSE for N > n]:.0e} beyond), and
        falls to
        {m[test MSE at the largest N]:.3f} at N = {largest} (test error {m[test error at the largest N]:.3f})."""

    def summary_values(self, m: dict) -> dict:
        return {"largest": m["N"][-1]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        sweep = measurement.plot_data["sweep"]
        n = sweep.n

        def draw(fig):
            mse_ax, error_ax = fig.subplots(1, 2)
            mse = np.median(sweep.test_mse, 0)
            peak = int(np.argmax(mse))
            mse_ax.loglog(sweep.widths, mse, "o-", label=f"test (peak {mse[peak]:.3g} at N = {sweep.widths[peak]})")
            mse_ax.loglog(sweep.widths, np.maximum(np.median(sweep.train_mse, 0), 1e-4), "s--",
                          label="training (< 1e-4 drawn at 1e-4)")
            error_ax.semilogx(sweep.widths, np.median(sweep.test_error, 0), "o-", label="test")
            error_ax.semilogx(sweep.widths, np.median(sweep.train_error, 0), "s--", label="training")
            for ax, label in ((mse_ax, "MSE (summed over the 10 outputs)"), (error_ax, "classification error")):
                ax.axvline(n, color="k", linestyle=":", label=f"N = n = {n}")
                ax.set(xlabel="random ReLU features N", ylabel=f"median {label}")
                integer_log_ticks(ax, [sweep.widths[0], n // 2, n, 2 * n, sweep.widths[-1]])
                ax.legend(fontsize=8)
            mse_ax.set_title("min-norm read-out on 8×8 digits")
            error_ax.set_title("test error")

        return save_figure(ctx, self.id, draw, figsize=(10.0, 4.2))
