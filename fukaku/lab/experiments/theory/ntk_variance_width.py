"""The empirical NTK at initialisation concentrates as the width grows: its variance across random seeds falls as
1/width, toward the deterministic infinite-width kernel (seed 000 §6.1.8)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku.theory.ntk import empirical_ntk, ntk_kernel, ntk_mlp

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ....ops._parallel import blas_threads
from ._common import CONFIG, DEPTH, loglog_slope, sphere_points, width_axis

WIDTHS = {True: (32, 64, 128, 256, 512), False: (32, 64, 128, 256, 512, 1024, 2048)}
SEEDS = {True: 16, False: 64}                         # random networks per width
SLOPE, SLOPE_TOLERANCE = -1.0, 0.25                   # the claim's exponent, and how far a fit may stray


def kernels_across_seeds(x: np.ndarray, width: int, seeds: int, first_seed: int) -> np.ndarray:
    """The empirical NTKs ``(seeds, n, n)`` of ``seeds`` random NTK-parameterised ReLU networks of this width."""
    out = []
    for s in range(seeds):
        fk.manual_seed(first_seed + s)
        model = ntk_mlp([x.shape[1]] + [width] * DEPTH + [1], dtype=fk.float64, **CONFIG)
        out.append(empirical_ntk(model, fk.tensor(x)).numpy())
    return np.stack(out)


class NTKVarianceWidth(Experiment, id="ntk-variance-width", source="seed 000 §6.1.8"):
    """The NTK at initialisation becomes deterministic: its variance across seeds falls as 1/width.

    K(x, x') = ∇_θf(x)ᵀ∇_θf(x') of a network in the NTK parameterisation is a random kernel at finite width; as the
    width n → ∞ it tends to the deterministic Θ(x, x') of the infinite-width recursion, with fluctuations of order
    1/√n, so its variance across random initialisations ∝ 1/n. For ReLU networks with two hidden layers
    (σ_w² = 2, σ_b² = 0.1) on 6 points of the unit sphere, over 16 seeds per width (64 in the full run): the
    log-log slope of the mean entry variance against the width is −1 ± 0.25, and at the widest width the mean
    kernel is within 5% of the analytic Θ (relative Frobenius error).
    """

    def measure(self, ctx: Context) -> Measurement:
        x = sphere_points(ctx.rng())
        widths, seeds = WIDTHS[ctx.quick], SEEDS[ctx.quick]
        limit = ntk_kernel(fk.tensor(x), depth=DEPTH, **CONFIG).numpy()
        upper = np.triu_indices(len(x))
        variances, errors, samples = [], [], {}
        with blas_threads(1):  # small products: one thread is faster, and steady on a busy machine
            for i, width in enumerate(widths):
                k = kernels_across_seeds(x, width, seeds, ctx.seed + 1 + 1000 * (i + 1))
                variances.append(float(k.var(axis=0, ddof=1)[upper].mean()))
                errors.append(float(np.linalg.norm(k.mean(0) - limit) / np.linalg.norm(limit)))
                samples[width] = k[:, 0, 1]
        return Measurement(values={
            "widths": list(widths), "seeds per width": seeds,
            "mean variance of a kernel entry": variances,
            "log-log slope of the variance against the width": loglog_slope(widths, variances),
            "relative error of the mean kernel against the analytic Θ": errors,
            "relative error at the widest width": errors[-1],
            "analytic Θ(x₀, x₁)": float(limit[0, 1]),
        }, plot_data={"samples": samples, "limit": float(limit[0, 1])})

    def checks(self, m: dict) -> list[Check]:
        return [Check("|slope of log variance vs log width − (−1)|",
                      abs(m["log-log slope of the variance against the width"] - SLOPE), "≤", SLOPE_TOLERANCE),
                Check("the mean kernel at the widest width is within 5% of Θ", m["relative error at the widest width"],
                      "≤", 0.05)]

    summary_template = """Var K ∝ width^{m[log-log slope of the variance against the width]:.2f} (claim −1), widths
        {lo}–{hi}. Over {m[seeds per width]} random two-hidden-layer ReLU networks per width the mean variance of a
        kernel entry went {first:.3g} → {last:.3g}; the mean kernel approached the analytic infinite-width Θ, within
        {m[relative error at the widest width]:.1%} at the widest."""

    def summary_values(self, m: dict) -> dict:
        v = m["mean variance of a kernel entry"]
        return {"lo": m["widths"][0], "hi": m["widths"][-1], "first": v[0], "last": v[-1]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        m, samples, limit = measurement.values, measurement.plot_data["samples"], measurement.plot_data["limit"]
        widths, variances = np.array(m["widths"]), np.array(m["mean variance of a kernel entry"])

        def draw(fig):
            left, right = fig.subplots(1, 2)
            slope = m["log-log slope of the variance against the width"]
            left.loglog(widths, variances, "o", label="measured")
            fit = np.exp(np.polyfit(np.log(widths), np.log(variances), 1))
            left.loglog(widths, fit[1] * widths ** slope, "-", label=f"fit: slope {slope:.2f}")
            left.loglog(widths, variances[0] * (widths / widths[0]) ** -1.0, "k--", label="slope −1 (claim)")
            left.set(xlabel="width n", ylabel="mean variance of K(x, x′) across seeds",
                     title="NTK fluctuations ∝ 1/n")
            left.legend(loc="lower left", fontsize=8)
            width_axis(left, widths)
            for w, s in samples.items():
                right.semilogx(np.full(len(s), w), s, ".", alpha=0.5, color="C0")
            right.axhline(limit, color="k", linestyle="--", label=f"analytic Θ = {limit:.3f}")
            right.set(xlabel="width n", ylabel="K(x₀, x₁), one point per seed", title="one kernel entry")
            right.legend(loc="upper right", fontsize=8)
            width_axis(right, widths)

        return save_figure(ctx, self.id, draw, figsize=(10, 4))
