"""A GAN on the 8-Gaussian ring drops modes: its samples sit on a few of the modes while others get none,
and the set covered changes over training (seed 000 §6.5: mode collapse)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import optim
from fukaku.models.generative.gan import MLPDiscriminator, MLPGenerator, gan_step

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._toy import MODES, eight_gaussians, nearest_mode, on_mode
from ....ops._parallel import blas_threads

QUICK = {"steps": 1200, "seeds": 2}
FULL = {"steps": 4000, "seeds": 4}
EVERY, DRAWN, BATCH, LATENT = 100, 2000, 256, 2
G_LR, D_LR = 5e-3, 1e-3     # the generator moves faster than the discriminator: the imbalance that collapses it
COVERED = 0.02              # a mode is covered when at least this share of the samples sits on it
GOOD = 0.25                 # data-like samples: at least this share sits on some mode (2× one mode's own share)
COLLAPSED = 2               # mode collapse: such a checkpoint covering at most this many of the 8 modes


def coverage(samples: np.ndarray) -> tuple[int, float]:
    """(modes covered, share of the samples sitting on some mode)."""
    centre, on = nearest_mode(samples), on_mode(samples)
    shares = np.bincount(centre[on], minlength=8) / len(samples)
    return int((shares >= COVERED).sum()), float(on.mean())


def train(steps: int, seed: int) -> tuple[list[tuple[int, int, float]], np.ndarray]:
    """Train the GAN; (step, modes covered, share on modes) every EVERY steps, and the last samples."""
    fk.manual_seed(seed)
    generator, rng = fk.Generator().manual_seed(seed + 7919), np.random.default_rng(seed + 1)
    G, D = MLPGenerator(LATENT, 2, 128, 3), MLPDiscriminator(2, 128, 3)
    opt_g = optim.Adam(G.parameters(), lr=G_LR, betas=(0.5, 0.999))
    opt_d = optim.Adam(D.parameters(), lr=D_LR, betas=(0.5, 0.999))
    history, samples = [], None
    for step in range(1, steps + 1):
        real = fk.tensor(eight_gaussians(BATCH, rng)[0])
        gan_step(G, D, opt_g, opt_d, real, fk.randn(BATCH, LATENT, generator=generator))
        if step % EVERY == 0:
            with fk.no_grad():
                samples = G(fk.randn(DRAWN, LATENT, generator=generator)).numpy()
            history.append((step, *coverage(samples)))
    return history, samples


class GanModeDropping(Experiment, id="gan-mode-dropping", source="seed 000 §6.5"):
    """A GAN drops modes of the data.

    GAN training is unstable and prone to mode collapse (seed 000 §6.5): the generator can put its samples on
    a few modes that fool the current discriminator, and the others get none. A GAN trained on the
    8-Gaussian ring with its generator learning 5× faster than its discriminator is watched every 100 steps:
    in at least one seed it reaches a checkpoint where a quarter or more of its samples sit on modes (within
    three standard deviations of a centre; twice the share of one mode of the data) while at most 2 of the 8
    modes are covered (holding at least 2 % of the samples each). The DDPM of ``diffusion-2d-samples``
    covers all 8 on the same data. How many modes each seed covers over time, and at the end, is reported.
    """

    def measure(self, ctx: Context) -> Measurement:
        cfg = QUICK if ctx.quick else FULL
        with blas_threads(1):
            runs = {seed: train(cfg["steps"], seed) for seed in range(ctx.seed, ctx.seed + cfg["seeds"])}
        worst = {}
        for seed, (history, _) in runs.items():
            good = [(covered, on) for _, covered, on in history if on >= GOOD]
            worst[f"seed {seed}"] = min(covered for covered, _ in good) if good else 8
        return Measurement(values={
            "Adam steps, seeds": [cfg["steps"], cfg["seeds"]],
            "(step, modes covered, share on modes) per seed": {f"seed {s}": h for s, (h, _) in runs.items()},
            "fewest modes covered at a good checkpoint, per seed": worst,
            "modes covered at the end, per seed": {f"seed {s}": h[-1][1] for s, (h, _) in runs.items()}},
            plot_data={"runs": runs})

    def checks(self, m: dict) -> list[Check]:
        return [Check(f"a seed reaches a checkpoint with ≥ {GOOD:.0%} of the samples on modes and at most {COLLAPSED} "
                      "modes covered: fewest modes covered at such a checkpoint, over the seeds",
                      min(m["fewest modes covered at a good checkpoint, per seed"].values()), "≤", COLLAPSED)]

    summary_template = """The GAN collapsed onto {fewest} of 8 modes with at least a quarter of its samples on them.
        Trained {m[Adam steps, seeds][0]} Adam steps on the 8-Gaussian ring ({m[Adam steps, seeds][1]} seeds),
        checkpoints where at least 25 % of the samples sat on modes covered at fewest
        {m[fewest modes covered at a good checkpoint, per seed]} modes; at the end the seeds covered
        {m[modes covered at the end, per seed]}."""

    def summary_values(self, m: dict) -> dict:
        return {"fewest": min(m["fewest modes covered at a good checkpoint, per seed"].values())}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        runs = measurement.plot_data["runs"]

        def draw(fig):
            axes = fig.subplots(1, 2)
            for seed, (history, samples) in runs.items():
                steps, covered, on = zip(*history)
                axes[0].plot(steps, covered, "o-", label=f"seed {seed}: modes covered")
                axes[0].plot(steps, np.array(on) * 8, ":", label=f"seed {seed}: 8 × share on modes")
            axes[0].set(xlabel="Adam step", ylabel="modes", title="modes covered over training")
            axes[0].legend(fontsize=7)
            last = runs[min(runs)][1]
            axes[1].scatter(last[:, 0], last[:, 1], s=2, alpha=0.4)
            axes[1].scatter(*MODES.T, marker="x", color="k")
            axes[1].set(title="samples at the end (first seed)", aspect="equal")

        return save_figure(ctx, self.id, draw)
