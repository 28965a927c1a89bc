"""At initialisation a wide network's outputs form a Gaussian process with the NNGP kernel (seed 000 §6.1.8): over many
random networks the outputs' excess kurtosis falls to 0 as the width grows, and their covariance tends to the
analytic kernel of the arc-cosine recursion."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku.theory.ntk import nngp_kernel

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ....ops._parallel import blas_threads
from ._common import CONFIG, DEPTH, loglog_slope, sphere_points, width_axis

POINTS = 3                                              # inputs on the unit sphere of R^3
WIDTHS = {True: (1, 2, 4, 8, 16, 32, 64, 128), False: (1, 2, 4, 8, 16, 32, 64, 128, 256)}
NETWORKS = {True: 4000, False: 20000}                   # independent random networks per width
ASYMPTOTIC = 8                                          # the 1/width law is fitted on widths from this one up,
RESOLVED = 4.0                                          # where the kurtosis is ≥ this many standard errors
SLOPE, SLOPE_TOLERANCE = -1.0, 0.4                      # excess kurtosis ∝ 1/width (Yaida 2020)
CHUNK_ELEMENTS = 1 << 22                                # weights drawn at once, at most
BINS = 60                                               # histogram bins on [−4, 4]


def draw_weights(d: int, width: int, nets: int, generator: fk.Generator) -> list[tuple[fk.Tensor, fk.Tensor]]:
    """(W, b) of every layer for ``nets`` independent networks, stacked along dim 0: W ``(nets, out, in)`` and b
    ``(nets, out, 1)``, standard normal as ``nn.Linear(parameterization="ntk")`` draws them."""
    sizes = [d] + [width] * DEPTH + [1]
    return [(fk.randn(nets, fan_out, fan_in, generator=generator, dtype=fk.float64),
             fk.randn(nets, fan_out, 1, generator=generator, dtype=fk.float64))
            for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]


def batched_forward(x: np.ndarray, weights) -> tuple[np.ndarray, np.ndarray]:
    """The outputs ``(nets, m)`` at the inputs x ``(m, d)`` of the networks :func:`draw_weights` drew — the
    computation of ``ntk_mlp`` with ReLU, h ↦ σ_w/√fan_in · W h + σ_b b — and each network's output covariance
    given its hidden layers, E[f(x)f(x′) | hidden] = σ_w²/n · φ(x)·φ(x′) + σ_b² ``(nets, m, m)`` (the last layer's
    randomness integrated out exactly)."""
    sw, sb = math.sqrt(CONFIG["weight_variance"]), math.sqrt(CONFIG["bias_variance"])
    h = fk.tensor(x.T)                                   # (d, m): the inputs as columns
    with fk.no_grad():
        for i, (w, b) in enumerate(weights):
            if i:
                h = h.relu()
                last = h
            h = sw / math.sqrt(w.shape[2]) * (w @ h) + sb * b
    a = last.numpy()
    given = CONFIG["weight_variance"] / a.shape[1] * np.einsum("sjm,sjk->smk", a, a) + CONFIG["bias_variance"]
    return h.numpy()[:, 0, :], given


def sample(x: np.ndarray, width: int, nets: int, generator: fk.Generator) -> tuple[np.ndarray, np.ndarray]:
    """:func:`batched_forward` for ``nets`` random networks, drawn a chunk at a time."""
    chunk = max(1, min(nets, CHUNK_ELEMENTS // (width * max(width, x.shape[1]))))
    parts = [batched_forward(x, draw_weights(x.shape[1], width, min(chunk, nets - start), generator))
             for start in range(0, nets, chunk)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def excess_kurtosis(f: np.ndarray) -> np.ndarray:
    """E[f⁴]/E[f²]² − 3 per column (the outputs have mean 0 by symmetry): 0 for a Gaussian."""
    return (f ** 4).mean(0) / (f ** 2).mean(0) ** 2 - 3


class NNGPGaussianOutputs(Experiment, id="nngp-gaussian-outputs", source="seed 000 §6.1.8"):
    """At initialisation the outputs of a wide network are Gaussian, with the NNGP covariance.

    Over many independent random networks (two hidden ReLU layers, σ_w² = 2, σ_b² = 0.1, the NTK parameterisation),
    the output at a fixed input is a sum of many independent contributions, so as the width n grows it becomes
    Gaussian (kurtosis → 3, excess kurtosis ∝ 1/n) and the outputs at several inputs form a Gaussian process whose
    covariance is the analytic NNGP kernel. Over 4000 networks per width (20000 in the full run), widths 1 … 128
    (256): the excess kurtosis at the narrowest width is ≥ 5, at the widest ≤ 0.5, and on widths ≥ 8 where it is
    resolved (≥ 4 standard errors of a Gaussian sample's) it falls with a log-log slope of −1 ± 0.4; the
    covariance (the last layer integrated out exactly, the rest averaged over the networks) is within 2% of the
    NNGP kernel at the widest width and at least 5 times closer than at width 1.
    """

    def measure(self, ctx: Context) -> Measurement:
        x = sphere_points(ctx.rng(), POINTS)
        limit = nngp_kernel(fk.tensor(x), depth=DEPTH, **CONFIG).numpy()
        generator = fk.Generator().manual_seed(ctx.seed + 1)   # apart from ctx.rng()'s NumPy stream
        widths, nets = WIDTHS[ctx.quick], NETWORKS[ctx.quick]
        kurtosis, errors, histograms = [], [], {}
        with blas_threads(1):
            for width in widths:
                f, given = sample(x, width, nets, generator)
                kurtosis.append(float(excess_kurtosis(f).mean()))
                errors.append(float(np.linalg.norm(given.mean(0) - limit) / np.linalg.norm(limit)))
                histograms[width] = f[:, 0] / math.sqrt(limit[0, 0])
        noise = math.sqrt(24 / nets)                       # a Gaussian sample's standard error of the excess kurtosis
        tail = [i for i, w in enumerate(widths) if w >= ASYMPTOTIC and kurtosis[i] >= RESOLVED * noise]
        return Measurement(values={
            "widths": list(widths), "networks per width": nets,
            "excess kurtosis (mean over the inputs)": kurtosis,
            "excess kurtosis at the narrowest width": kurtosis[0],
            "excess kurtosis at the widest width": kurtosis[-1],
            "widths the slope is fitted on": [widths[i] for i in tail],
            f"log-log slope of the excess kurtosis, widths ≥ {ASYMPTOTIC}":
                loglog_slope([widths[i] for i in tail], [kurtosis[i] for i in tail]) if len(tail) > 1 else 0.0,
            "relative error of the covariance against the NNGP kernel": errors,
            "covariance error at the widest width": errors[-1],
            "covariance error at width 1 / at the widest": errors[0] / errors[-1],
            "standard error of a Gaussian sample's excess kurtosis": noise,
        }, plot_data={"histograms": histograms})

    def checks(self, m: dict) -> list[Check]:
        return [Check("non-Gaussian when narrow: excess kurtosis at the narrowest width",
                      m["excess kurtosis at the narrowest width"], "≥", 5.0),
                Check("Gaussian when wide: |excess kurtosis| at the widest width",
                      abs(m["excess kurtosis at the widest width"]), "≤", 0.5),
                Check(f"excess kurtosis ∝ 1/width: |slope − (−1)| on widths ≥ {ASYMPTOTIC}",
                      abs(m[f"log-log slope of the excess kurtosis, widths ≥ {ASYMPTOTIC}"] - SLOPE), "≤",
                      SLOPE_TOLERANCE),
                Check("covariance within 2% of the NNGP kernel at the widest width",
                      m["covariance error at the widest width"], "≤", 0.02),
                Check("covariance approaches the kernel: error at width 1 / at the widest",
                      m["covariance error at width 1 / at the widest"], "≥", 5.0)]

    summary_template = """Excess kurtosis {m[excess kurtosis at the narrowest width]:.3g} →
        {m[excess kurtosis at the widest width]:.2f} from width {lo} to {hi} (Gaussian: 0). Over
        {m[networks per width]} random networks per width it fell as width^{slope:.2f} over widths {fitted} (theory
        −1; fitted where it exceeds 4 times a Gaussian sample's standard error,
        {m[standard error of a Gaussian sample's excess kurtosis]:.2f}), and the outputs' covariance came within
        {m[covariance error at the widest width]:.2%} of the analytic NNGP kernel (error {first:.1%} at width
        {lo})."""

    def summary_values(self, m: dict) -> dict:
        fitted = m["widths the slope is fitted on"]
        return {"lo": m["widths"][0], "hi": m["widths"][-1],
                "fitted": f"{fitted[0]}–{fitted[-1]}" if fitted else "none",
                "slope": m[f"log-log slope of the excess kurtosis, widths ≥ {ASYMPTOTIC}"],
                "first": m["relative error of the covariance against the NNGP kernel"][0]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        m, histograms = measurement.values, measurement.plot_data["histograms"]
        widths = np.array(m["widths"])
        shown = [w for w in (widths[0], 4, widths[-1]) if w in histograms]

        def draw(fig):
            left, middle, right = fig.subplots(1, 3)
            grid = np.linspace(-4, 4, 200)
            for w in shown:
                h = histograms[w]  # a density over all the samples: the mass beyond ±4 is not drawn
                left.hist(h, bins=BINS, range=(-4, 4), weights=np.full(len(h), BINS / (8 * len(h))), histtype="step",
                          linewidth=1.2, label=f"width {w}")
            left.plot(grid, np.exp(-grid ** 2 / 2) / math.sqrt(2 * math.pi), "k--", label="N(0, 1)")
            left.set_yscale("log")
            left.set(xlabel="f(x₀)/√K_NNGP(x₀, x₀)", ylabel="density", title="output at one input")
            left.legend(loc="upper right", fontsize=7)
            kurt = np.array(m["excess kurtosis (mean over the inputs)"])
            middle.plot(widths, np.abs(kurt), "o-", label="|excess kurtosis|")
            middle.plot(widths, kurt[widths == ASYMPTOTIC][0] * ASYMPTOTIC / widths, "k--", label="∝ 1/width")
            middle.axhline(m["standard error of a Gaussian sample's excess kurtosis"], color="grey", linestyle=":",
                           label="sampling error")
            middle.set_yscale("log")
            width_axis(middle, widths)
            middle.set(xlabel="width n", ylabel="E[f⁴]/E[f²]² − 3", title="kurtosis → 3")
            middle.legend(loc="lower left", fontsize=7)
            right.plot(widths, m["relative error of the covariance against the NNGP kernel"], "s-")
            right.set_yscale("log")
            width_axis(right, widths)
            right.set(xlabel="width n", ylabel="‖Cov − K_NNGP‖_F / ‖K_NNGP‖_F", title="covariance → NNGP kernel")

        return save_figure(ctx, self.id, draw, figsize=(13, 4))
