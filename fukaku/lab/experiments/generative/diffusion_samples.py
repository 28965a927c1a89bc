"""A DDPM trained on 2-D data samples that data: low MMD to fresh data, every mode of the 8-Gaussian ring
covered and the samples gathered on the modes, by the ancestral sampler (T network passes) and by DDIM in
fewer (seed 000 §6.5)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._toy import eight_gaussians, mmd, nearest_mode, on_mode, train_ddpm
from ....ops._parallel import blas_threads

QUICK = {"steps": 1200, "samples": 1000}
FULL = {"steps": 6000, "samples": 2000}
DDIM_STEPS = 20
CLOSE = 0.1        # samples "match": their MMD to the data is at most this share of pure noise's MMD
COVERED = 0.05     # a mode is covered when it gets at least this share of the samples (1/8 = 0.125 each)
GATHERED = 0.7     # samples on a mode (_toy.on_mode: within 3σ) at least; the data: 98.9 %, a uniform ring: 35 %
# random Fourier features of x (EpsilonMLP's): without them the MLP samples a uniform ring, which the MMD and the
# per-mode shares alone do not tell from the 8 modes (measured: 34 % of the samples on a mode after 6,000 steps)
FOURIER_FEATURES, FOURIER_SCALE = 32, 3.0


class DiffusionSamples(Experiment, id="diffusion-2d-samples", source="seed 000 §6.5"):
    """DDPM samples on 2-D toy data match the data.

    A DDPM (an MLP ε_θ(x_t, t), T = 100, L_simple) trained on the 8-Gaussian ring generates, by ancestral
    sampling (T network passes), points whose squared MMD to fresh data is at most a tenth of that of
    standard-normal noise, with each of the 8 modes receiving at least 5 % of the samples (no mode
    dropped) and at least 70 % of all samples within three standard deviations of a mode (the data: 98.9 %; a
    ring without modes: 35 %); DDIM's deterministic sampler with 20 steps does the same with a fifth of the
    passes. ε_θ reads random Fourier features of x (see :class:`~fukaku.models.generative.EpsilonMLP`).
    """

    def measure(self, ctx: Context) -> Measurement:
        cfg = QUICK if ctx.quick else FULL
        with blas_threads(1):
            trained = train_ddpm(eight_gaussians, cfg["steps"], ctx.seed, fourier_features=FOURIER_FEATURES,
                                 fourier_scale=FOURIER_SCALE)
            generator = fk.Generator().manual_seed(ctx.seed + 1)
            n = cfg["samples"]
            samples = {"ancestral (T = 100 passes)": trained.ddpm.sample(n, generator=generator).numpy(),
                       f"DDIM, η = 0 ({DDIM_STEPS} passes)": trained.ddpm.sample_ddim(
                           n, steps=DDIM_STEPS, generator=generator).numpy()}
        rng = ctx.rng(2)
        data, _ = eight_gaussians(n, rng)
        references = {"fresh data (the floor)": eight_gaussians(n, rng)[0],
                      "standard-normal noise": rng.normal(size=(n, 2)).astype(np.float32)}
        distance = {name: mmd(x, data) for name, x in {**samples, **references}.items()}
        shares = {name: (np.bincount(nearest_mode(x), minlength=8) / n).tolist() for name, x in samples.items()}
        return Measurement(values={
            "Adam steps": cfg["steps"], "samples": n, "squared MMD to the data": distance,
            "MMD / noise's MMD": {name: distance[name] / distance["standard-normal noise"] for name in samples},
            "share of samples per mode": shares, "smallest mode share": {k: min(v) for k, v in shares.items()},
            "share within 3σ of a mode": {name: float(on_mode(x).mean()) for name, x in {**samples, **references}.items()},
            "final training loss (mean of the last 100 steps)": float(np.mean(trained.losses[-100:]))},
            plot_data={"samples": samples, "data": data})

    def checks(self, m: dict) -> list[Check]:
        return [check for name in m["MMD / noise's MMD"] for check in (
            Check(f"{name}: MMD / noise's MMD", m["MMD / noise's MMD"][name], "≤", CLOSE),
            Check(f"{name}: smallest share of a mode", m["smallest mode share"][name], "≥", COVERED),
            Check(f"{name}: share within 3σ of a mode", m["share within 3σ of a mode"][name], "≥", GATHERED))]

    summary_template = """Samples match the data: MMD {ancestral:.4f} against noise's {noise:.4f}; {ancestral_on:.0%} on
        a mode. A DDPM trained {m[Adam steps]} Adam steps on the 8-Gaussian ring sampled {m[samples]} points by
        ancestral sampling (squared MMD {ancestral:.4f}; the smallest mode got {ancestral_share:.1%} of them;
        {ancestral_on:.1%} within 3σ of a mode) and by DDIM with 20 steps ({ddim:.4f}; {ddim_share:.1%};
        {ddim_on:.1%}); fresh data scores {floor:.4f} ({data_on:.1%} on a mode), standard-normal noise
        {noise:.4f}."""

    def summary_values(self, m: dict) -> dict:
        d, share, on = m["squared MMD to the data"], m["smallest mode share"], m["share within 3σ of a mode"]
        ancestral, ddim = list(m["MMD / noise's MMD"])
        return {"ancestral": d[ancestral], "ddim": d[ddim], "floor": d["fresh data (the floor)"],
                "noise": d["standard-normal noise"], "ancestral_share": share[ancestral], "ddim_share": share[ddim],
                "ancestral_on": on[ancestral], "ddim_on": on[ddim], "data_on": on["fresh data (the floor)"]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        samples, data = measurement.plot_data["samples"], measurement.plot_data["data"]

        def draw(fig):
            axes = fig.subplots(1, 1 + len(samples), sharex=True, sharey=True)
            for ax, (name, x) in zip(axes, {"data": data, **samples}.items()):
                ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.5)
                ax.set(title=name, aspect="equal")

        return save_figure(ctx, self.id, draw)
