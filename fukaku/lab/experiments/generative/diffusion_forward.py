"""DDPM's forward process in one step: iterating q(x_t | x_{t−1}) t times gives the closed form
N(√ᾱ_t x_0, (1 − ᾱ_t) I) with ᾱ_t = Π(1 − β_s), and x_T is pure noise (seed 000 §6.5; erratum C5)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku.models.generative.diffusion import NoiseSchedule

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._toy import eight_gaussians

T = 100
QUICK, FULL = 4000, 40000     # points carried through the chain
CHECKED = (1, 10, 30, 60, T)  # steps t at which the chain is compared with the closed form
SIGMAS = 5.0                  # a moment is "equal" within this many standard errors


def chain_moments(schedule: NoiseSchedule, x0: np.ndarray, generator: fk.Generator) -> dict[int, dict[str, float]]:
    """Run x_t = √(1 − β_t) x_{t−1} + √β_t ε from x_0 and, at each checked t, the moments of the residual
    r = x_t − √ᾱ_t x_0, which the closed form says is N(0, (1 − ᾱ_t) I): its mean in units of its standard
    error, its variance over 1 − ᾱ_t, and that ratio's standard error."""
    x, n, out = fk.tensor(x0), len(x0), {}
    for step in range(T):
        x = schedule.q_step(x, fk.full((n,), step, dtype=fk.int64), fk.randn(n, 2, generator=generator))
        t = step + 1
        if t in CHECKED:
            a = schedule.alpha_bars[step]
            r = x.numpy().astype(np.float64) - np.sqrt(a) * x0
            sd = np.sqrt(1 - a)
            out[t] = {"ᾱ_t": float(a), "mean / standard error": float(np.abs(r.mean(0)).max() / (sd / np.sqrt(n))),
                      "variance / (1 − ᾱ_t)": float(r.var(0).mean() / (1 - a)),
                      "standard error of that ratio": float(np.sqrt(2 / (2 * n - 1))),
                      "variance / (1 − Π β_s), the lost minus sign": float(
                          r.var(0).mean() / (1 - np.prod(schedule.betas[:t])))}
    return out


class DiffusionForwardClosedForm(Experiment, id="diffusion-forward-closed-form", source="seed 000 §6.5 (C5)"):
    """Iterating the forward process matches its closed form.

    DDPM noises data step by step, q(x_t | x_{t−1}) = N(√(1 − β_t) x_{t−1}, β_t I). Then x_t given x_0 is
    N(√ᾱ_t x_0, (1 − ᾱ_t) I) with ᾱ_t = Π_{s≤t} (1 − β_s) — the text's Π β_s lost the minus sign (erratum
    C5) — so training can jump to any t in one draw, and after T steps x_T is a standard Gaussian,
    independent of x_0. Run on the 8-Gaussian ring with the linear and the cosine schedule (T = 100), the
    chain's residual x_t − √ᾱ_t x_0 has mean 0 and variance 1 − ᾱ_t within five standard errors at every
    checked t; x_T has mean 0, covariance I and no correlation with x_0.
    """

    def measure(self, ctx: Context) -> Measurement:
        n = QUICK if ctx.quick else FULL
        x0, _ = eight_gaussians(n, ctx.rng())
        generator = fk.Generator().manual_seed(ctx.seed + 7919)
        schedules = {"linear": NoiseSchedule.linear(T), "cosine": NoiseSchedule.cosine(T)}
        moments = {name: chain_moments(s, x0, generator) for name, s in schedules.items()}
        x_t = schedules["linear"].q_sample(fk.tensor(x0), fk.full((n,), T - 1, dtype=fk.int64),
                                           fk.randn(n, 2, generator=generator)).numpy().astype(np.float64)
        return Measurement(values={
            "points": n, "T": T, "moments of x_t − √ᾱ_t x_0": moments,
            "worst |variance ratio − 1| in standard errors": max(
                abs(m["variance / (1 − ᾱ_t)"] - 1) / m["standard error of that ratio"]
                for by_t in moments.values() for m in by_t.values()),
            "worst |mean| in standard errors": max(m["mean / standard error"]
                                                   for by_t in moments.values() for m in by_t.values()),
            "x_T: |mean| (largest coordinate)": float(np.abs(x_t.mean(0)).max()),
            "x_T: largest |covariance − I|": float(np.abs(np.cov(x_t.T) - np.eye(2)).max()),
            "x_T: largest |correlation with x_0|": float(max(abs(np.corrcoef(x_t[:, i], x0[:, i])[0, 1]) for i in (0, 1))),
            "standard error of a mean, of a covariance at n": float(1 / np.sqrt(n)),
            "variance ratio at t = 10 with Π β_s": moments["linear"][10]["variance / (1 − Π β_s), the lost minus sign"],
        }, plot_data={"moments": moments})

    def checks(self, m: dict) -> list[Check]:
        se = m["standard error of a mean, of a covariance at n"]
        return [Check("chain vs closed form: worst |variance ratio − 1| (standard errors)",
                      m["worst |variance ratio − 1| in standard errors"], "≤", SIGMAS),
                Check("chain vs closed form: worst |mean| (standard errors)", m["worst |mean| in standard errors"],
                      "≤", SIGMAS),
                Check("x_T ≈ N(0, I): |mean|", m["x_T: |mean| (largest coordinate)"], "≤", SIGMAS * se),
                Check("x_T ≈ N(0, I): |covariance − I|", m["x_T: largest |covariance − I|"], "≤", SIGMAS * np.sqrt(2) * se),
                Check("x_T forgets x_0: |correlation|", m["x_T: largest |correlation with x_0|"], "≤", SIGMAS * se)]

    summary_template = """The chain matches N(√ᾱ_t x_0, (1 − ᾱ_t) I) within {m[worst |variance ratio − 1| in standard errors]:.1f}
        standard errors. {m[points]} points of the 8-Gaussian ring went through T = {m[T]} forward steps under the
        linear and the cosine schedule; at t = 1, 10, 30, 60 and 100 the residual x_t − √ᾱ_t x_0 had a mean within
        {m[worst |mean| in standard errors]:.1f} standard errors of 0 and a variance within
        {m[worst |variance ratio − 1| in standard errors]:.1f} standard errors of 1 − ᾱ_t. With the text's Π β_s
        in place of Π(1 − β_s) the predicted variance at t = 10 would be off by a factor
        {m[variance ratio at t = 10 with Π β_s]:.3f}. x_T has mean {m[x_T: |mean| (largest coordinate)]:.3f},
        covariance within {m[x_T: largest |covariance − I|]:.3f} of I and correlation
        {m[x_T: largest |correlation with x_0|]:.3f} with x_0."""

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        moments = measurement.plot_data["moments"]

        def draw(fig):
            ax = fig.subplots()
            for name, by_t in moments.items():
                ts = sorted(by_t)
                ax.plot(ts, [1 - by_t[t]["ᾱ_t"] for t in ts], "-", label=f"1 − ᾱ_t ({name})")
                ax.plot(ts, [by_t[t]["variance / (1 − ᾱ_t)"] * (1 - by_t[t]["ᾱ_t"]) for t in ts], "o",
                        label=f"chain's residual variance ({name})")
            ax.set(xlabel="t", ylabel="variance", title="iterated q(x_t | x_{t−1}) vs the closed form")
            ax.legend()

        return save_figure(ctx, self.id, draw)
