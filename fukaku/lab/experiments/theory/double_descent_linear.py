"""Linear double descent (seed 000 §6.1.9): the minimum-norm least-squares fit β̂ = X⁺y on the first p of D
isotropic Gaussian features, for a fixed n, has its test error peak at the interpolation threshold p = n; the peak
grows with the label noise σ² and vanishes at σ = 0 (the prefix model of Belkin, Hsu & Xu 2019)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fukaku.theory.double_descent import linear_double_descent

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ....ops._parallel import blas_threads

SIGMAS = (0.0, 0.25, 0.5, 1.0)          # label noise σ; ‖β*‖ = 1
SIZES = {True: (40, 30), False: (100, 100)}   # (n, trials) for the quick and the full run
DEPTH = 3                               # D = 3n features in all; the first n/2 carry the signal (‖β*‖ = 1)
FALL = 0.25                             # past the threshold: median test MSE at p = 2n ≤ this × the one at p = n
VANISH = 0.01                           # σ = 0: median test MSE at p = n ≤ this × ‖β*‖²
Z_LIMIT = 5.0                           # |mean − closed form| / standard error, away from the threshold
FLOOR = 1e-3                            # the plot draws smaller values at this floor (σ = 0 fits exactly)


class DoubleDescentLinear(Experiment, id="double-descent-linear", source="seed 000 §6.1.9"):
    """Linear regression's test error peaks at p = n, grows with σ², and vanishes at σ = 0.

    y = xᵀβ* + σε with x ~ N(0, I_D), D = 3n, β* (‖β*‖ = 1) supported on the first n/2 features; the learner fits
    β̂ = X⁺y on the first p features (ordinary least squares for p < n, the minimum-norm interpolant for p ≥ n;
    the prefix model of Belkin, Hsu & Xu 2019). For n = 40 (30 training sets; full run n = 100, 100 sets) and
    σ = 0, 0.25, 0.5, 1: for every σ > 0 the median test MSE is highest at p = n, and at p = 2n it has fallen to
    at most 0.25 of that peak (the second descent); the peak grows with σ²; at σ = 0 it vanishes (median test MSE
    at p = n at most 0.01 of ‖β*‖²); the training MSE is 0 from p = n on; and away from the threshold (p ≤ n/2,
    p ≥ 2n) the mean test MSE agrees with Belkin, Hsu & Xu's closed form (Theorem 1) within 5 standard errors
    wherever that form is not 0 (where it is, at σ = 0 and n/2 ≤ p < n, the fit is exact).
    """

    def measure(self, ctx: Context) -> Measurement:
        n, trials = SIZES[ctx.quick]
        rng = ctx.rng()
        beta = np.zeros(DEPTH * n)
        beta[:n // 2] = rng.standard_normal(n // 2)
        beta /= np.linalg.norm(beta)
        ps = np.arange(2, DEPTH * n + 1, 2)
        with blas_threads(1):                                # many small SVDs: threads only add overhead
            sweeps = linear_double_descent(n, ps, beta, SIGMAS, trials, ctx.rng(1))
        at_n, at_2n = int(np.nonzero(ps == n)[0][0]), int(np.nonzero(ps == 2 * n)[0][0])
        away = (ps <= n // 2) | (ps >= 2 * n)
        z = []
        for s in sweeps.values():               # where the closed form is 0 (σ = 0, k ≤ p < n) the fit is exact
            compared = away & (s.expected > 0)
            mse = s.test_mse[:, compared]
            z.append(np.abs(mse.mean(0) - s.expected[compared]) / (mse.std(0, ddof=1) / np.sqrt(trials)))
        noisy = [s for s in SIGMAS if s > 0]
        peaks = {s: float(sweeps[s].median_test_mse[at_n]) for s in SIGMAS}
        return Measurement(values={
            "n": n, "training sets per σ": trials, "D": DEPTH * n, "true features": n // 2,
            "σ": list(SIGMAS),
            "p of the highest median test MSE, per σ": {str(s): int(ps[np.argmax(sweeps[s].median_test_mse)])
                                                       for s in SIGMAS},
            "σ > 0: largest |p of the peak − n|": int(max(abs(ps[np.argmax(sweeps[s].median_test_mse)] - n)
                                                         for s in noisy)),
            "median test MSE at p = n, per σ": {str(s): peaks[s] for s in SIGMAS},
            "median test MSE at p = n / σ², per σ > 0": {str(s): peaks[s] / s ** 2 for s in noisy},
            "median test MSE at p = 2n, per σ": {str(s): float(sweeps[s].median_test_mse[at_2n]) for s in SIGMAS},
            "σ > 0: largest median test MSE ratio p = 2n / p = n": max(
                float(sweeps[s].median_test_mse[at_2n]) / peaks[s] for s in noisy),
            "peak grows with σ (neighbouring pairs in order)": int(sum(peaks[b] > peaks[a]
                                                                       for a, b in zip(SIGMAS, SIGMAS[1:]))),
            "pairs of neighbouring σ": len(SIGMAS) - 1,
            "σ = 0: median test MSE at p = n / ‖β*‖²": peaks[0.0],
            "largest training MSE for p ≥ n": float(max(s.train_mse[:, ps >= n].max() for s in sweeps.values())),
            "largest |z| of the mean test MSE against the closed form (p ≤ n/2, p ≥ 2n)": float(max(map(np.max, z))),
        }, plot_data={"ps": ps, "sweeps": sweeps})

    def checks(self, m: dict) -> list[Check]:
        return [Check("σ > 0: the peak of the median test MSE is at p = n (distance)",
                      m["σ > 0: largest |p of the peak − n|"], "=", 0),
                Check("σ > 0: second descent, median test MSE at p = 2n / at p = n",
                      m["σ > 0: largest median test MSE ratio p = 2n / p = n"], "≤", FALL),
                Check("the peak grows with σ²: neighbouring σ whose peak is higher",
                      m["peak grows with σ (neighbouring pairs in order)"], "=", m["pairs of neighbouring σ"]),
                Check("σ = 0: the peak vanishes, median test MSE at p = n / ‖β*‖²",
                      m["σ = 0: median test MSE at p = n / ‖β*‖²"], "≤", VANISH),
                Check("the minimum-norm fit interpolates from p = n on: training MSE",
                      m["largest training MSE for p ≥ n"], "≤", 1e-20),
                Check("Belkin–Hsu–Xu's closed form away from the threshold: largest |z|",
                      m["largest |z| of the mean test MSE against the closed form (p ≤ n/2, p ≥ 2n)"], "≤", Z_LIMIT)]

    summary_template = """Median test MSE at p = n = {m[n]}: {peaks} for σ = {sigmas}. The fit on the first p of
        {m[D]} isotropic Gaussian features ({m[true features]} carry the signal) has its highest median test MSE at
        p = {peak_ps} (per σ); the peak divided by σ² is {ratios} (the same designs and noise draws for every σ, so
        the noise term is exactly ∝ σ²), and at σ = 0 the fit at p = n is exact. Beyond the threshold the median
        falls to at most {m[σ > 0: largest median test MSE ratio p = 2n / p = n]:.3f} of the peak at p = 2n, while
        the training MSE stays 0 (largest {m[largest training MSE for p ≥ n]:.1e}). Away from the threshold the mean
        test MSE matches Belkin, Hsu & Xu's closed form (largest |z| =
        {m[largest |z| of the mean test MSE against the closed form (p ≤ n/2, p ≥ 2n)]:.1f})."""

    def summary_values(self, m: dict) -> dict:
        peaks = m["median test MSE at p = n, per σ"]
        return {"peaks": ", ".join(f"{v:.2g}" for v in peaks.values()),
                "sigmas": ", ".join(f"{float(s):g}" for s in peaks),
                "peak_ps": ", ".join(str(v) for v in m["p of the highest median test MSE, per σ"].values()),
                "ratios": ", ".join(f"{v:.1f}" for v in m["median test MSE at p = n / σ², per σ > 0"].values())}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        ps, sweeps = measurement.plot_data["ps"], measurement.plot_data["sweeps"]
        n = measurement.values["n"]
        peaks = measurement.values["median test MSE at p = n, per σ"]

        def draw(fig):
            mse_ax, norm_ax = fig.subplots(1, 2)
            for sigma, sweep in sweeps.items():
                line, = mse_ax.plot(ps, np.maximum(sweep.median_test_mse, FLOOR), "-",
                                    label=f"σ = {sigma:g}: {peaks[str(sigma)]:.2g} at p = n")
                finite = np.isfinite(sweep.expected)
                mse_ax.plot(ps[finite], np.maximum(sweep.expected[finite], FLOOR), ":", color=line.get_color())
                norm_ax.plot(ps, np.median(sweep.norm, 0), "-", color=line.get_color(), label=f"σ = {sigma:g}")
            for ax in (mse_ax, norm_ax):
                ax.axvline(n, color="k", linestyle="--", linewidth=1)
                ax.set_yscale("log")
                ax.set_xlabel("features used p")
            mse_ax.text(n + 1, FLOOR * 1.5, "p = n", fontsize=8)
            mse_ax.set(ylabel=f"median test MSE (values < {FLOOR:g} drawn at {FLOOR:g})",
                       title=f"test MSE, n = {n} (dotted: closed-form mean)")
            norm_ax.set(ylabel="median ‖β̂‖", title="norm of the fit")
            mse_ax.legend(fontsize=8, loc="upper right")

        return save_figure(ctx, self.id, draw, figsize=(10.0, 4.2))
