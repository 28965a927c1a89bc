"""Gibbs sampling of a Boltzmann machine converges to its enumerated moments (seed 000 §6.1.5)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku.models.energy import BoltzmannMachine

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

QUICK = {"units": 10, "chains": 400, "sweeps": (5, 20, 80, 320)}
FULL = {"units": 15, "chains": 2000, "sweeps": (5, 20, 80, 320, 1280)}
BURN_IN = 20
TOLERANCE = 0.01     # the longest run's largest |sampled − exact| moment


class BoltzmannGibbsMoments(Experiment, id="boltzmann-gibbs-moments", source="seed 000 §6.1.5"):
    """Gibbs estimates converge to the exact moments.

    The model term of a Boltzmann machine's likelihood gradient, E_P[x_i x_j], is estimated by MCMC: Gibbs sampling
    draws each unit in turn from P(x_i = 1 | rest) = σ(Σ_j w_ij x_j + b_i), whose stationary distribution is P.
    On a random machine small enough to enumerate (10 units quick, 15 full), parallel chains averaged over more
    and more sweeps approach the enumerated E_P[x_i x_j] and E_P[x_i]: the error falls with the number of
    samples, roughly as its inverse square root, to below 0.01.
    """

    def measure(self, ctx: Context) -> Measurement:
        cfg = QUICK if ctx.quick else FULL
        n = cfg["units"]
        bm = BoltzmannMachine(n, init_std=0.5, generator=fk.Generator().manual_seed(ctx.seed + 5))
        with fk.no_grad():
            bm.bias.copy_(fk.tensor(ctx.rng(1).normal(-0.3, 0.7, n)))
        xx, x1 = (m.numpy() for m in bm.moments())
        generator = fk.Generator().manual_seed(ctx.seed + 17)
        state = bm.gibbs(cfg["chains"], BURN_IN, generator)
        errors, acc_xx, acc_x, done = [], np.zeros((n, n)), np.zeros(n), 0
        for target in cfg["sweeps"]:                      # one run, its running averages read at each length
            for _ in range(target - done):
                state = bm.gibbs(state, 1, generator)
                s = state.numpy()
                acc_xx += s.T @ s / len(s)
                acc_x += s.mean(0)
            done = target
            errors.append(float(max(np.abs(acc_xx / done - xx).max(), np.abs(acc_x / done - x1).max())))
        samples = [cfg["chains"] * s for s in cfg["sweeps"]]
        slope = float(np.polyfit(np.log(samples), np.log(errors), 1)[0])
        return Measurement(values={
            "units": n, "chains": cfg["chains"], "sweeps": list(cfg["sweeps"]), "samples": samples,
            "largest |sampled − exact| moment": errors, "longest run's error": errors[-1],
            "shortest run's error": errors[0], "log-log slope of error vs samples": slope,
            "largest pair moment": float(xx[np.triu_indices(n, 1)].max()),
        }, plot_data={})

    def checks(self, m: dict) -> list[Check]:
        return [Check("longest run: largest |sampled − exact| moment", m["longest run's error"], "≤", TOLERANCE),
                Check("the error falls from the shortest to the longest run (ratio)",
                      m["longest run's error"] / m["shortest run's error"], "<", 0.5),
                Check("log-log slope of error vs samples (Monte Carlo: about −½)",
                      m["log-log slope of error vs samples"], "<", -0.25)]

    summary_template = """Gibbs moments reach the enumerated ones within {m[longest run's error]:.4f}.
        {m[chains]} parallel chains on a random {m[units]}-unit Boltzmann machine (after {burn_in} sweeps of
        burn-in) were averaged over {first} to {last} sweeps; the largest error of E[x_i x_j]
        and E[x_i] fell from {m[shortest run's error]:.4f} to {m[longest run's error]:.4f}, a log-log slope of
        {m[log-log slope of error vs samples]:.2f} against the number of samples (−½ for independent ones)."""

    def summary_values(self, m: dict) -> dict:
        return {"burn_in": BURN_IN, "first": m["sweeps"][0], "last": m["sweeps"][-1]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        v = measurement.values

        def draw(fig):
            ax = fig.subplots()
            ax.loglog(v["samples"], v["largest |sampled − exact| moment"], "o-", label="Gibbs")
            s = np.array(v["samples"], float)
            ax.loglog(s, v["shortest run's error"] * np.sqrt(s[0] / s), "k--", lw=0.8, label="∝ 1/√samples")
            ax.set(xlabel="samples (chains × sweeps)", ylabel="largest |sampled − exact| moment",
                   title="Gibbs moments → enumerated moments")
            ax.legend()

        return save_figure(ctx, self.id, draw)
