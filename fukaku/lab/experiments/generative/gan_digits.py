"""A DCGAN trained on the 8×8 digits draws digits a classifier recognises, every class among them (seed 000 §6.5;
issue 13's quality score for GAN samples)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import datasets, optim
from fukaku.models.generative.gan import DCGANDiscriminator, DCGANGenerator, gan_step

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._judge import probabilities, train_classifier
from ....ops._parallel import blas_threads

QUICK = {"steps": 1200, "samples": 500, "classifier_epochs": 15}
FULL = {"steps": 4000, "samples": 2000, "classifier_epochs": 60}
LATENT, BATCH, LR = 32, 64, 2e-3
CONFIDENT = 0.75   # the judge's mean confidence in the samples
PRESENT = 0.02     # each class gets at least this share of the judge's decisions (a tenth each if balanced)


def train_dcgan(x: np.ndarray, steps: int, seed: int) -> tuple[DCGANGenerator, dict[str, list[float]]]:
    """A DCGAN trained on the flattened 8×8 digits ``x`` (N, 64) for ``steps`` Adam steps of D then G (non-saturating
    loss); the generator (in eval mode) and both loss curves."""
    fk.manual_seed(seed)
    generator, rng = fk.Generator().manual_seed(seed + 7919), np.random.default_rng(seed + 1)
    G, D = DCGANGenerator(LATENT, 8, 32), DCGANDiscriminator(8, 32)
    opt_g = optim.Adam(G.parameters(), lr=LR, betas=(0.5, 0.999))
    opt_d = optim.Adam(D.parameters(), lr=LR, betas=(0.5, 0.999))
    images, losses = x.reshape(-1, 1, 8, 8), {"D": [], "G": []}
    for _ in range(steps):
        real = fk.tensor(images[rng.integers(0, len(images), BATCH)])
        d_loss, g_loss = gan_step(G, D, opt_g, opt_d, real, fk.randn(BATCH, LATENT, generator=generator))
        losses["D"].append(d_loss)
        losses["G"].append(g_loss)
    return G.eval(), losses


def draw(G: DCGANGenerator, n: int, seed: int) -> np.ndarray:
    """n samples of the generator, flattened (n, 64)."""
    with fk.no_grad():
        return G(fk.randn(n, LATENT, generator=fk.Generator().manual_seed(seed + 1))).numpy().reshape(n, -1)


class GanDigits(Experiment, id="gan-digits", source="seed 000 §6.5"):
    """A DCGAN draws recognisable digits of every class.

    A DCGAN (transposed-convolution generator, convolutional discriminator, non-saturating loss, Adam with
    β₁ = 0.5) trained on the 8×8 digits draws samples that a classifier trained on real digits only judges
    with a mean confidence (its largest class probability) of at least 0.75, and its decisions spread over
    all ten classes, each receiving at least 2 % of the samples (no class dropped).
    """

    def measure(self, ctx: Context) -> Measurement:
        cfg = QUICK if ctx.quick else FULL
        x, y = datasets.digits(return_tensors=False)
        x, y = x.astype(np.float32), y.astype(np.int64)
        with blas_threads(1):
            judge = train_classifier(x, y, 10, cfg["classifier_epochs"], ctx.seed)
            G, losses = train_dcgan(x, cfg["steps"], ctx.seed)
            samples = draw(G, cfg["samples"], ctx.seed)
        p, real_p = probabilities(judge, samples), probabilities(judge, x)
        shares = np.bincount(p.argmax(1), minlength=10) / len(p)
        return Measurement(values={
            "Adam steps": cfg["steps"], "samples": cfg["samples"],
            "the judge's mean confidence in the samples": float(p.max(1).mean()),
            "the judge's mean confidence in real digits": float(real_p.max(1).mean()),
            "share of the samples per class": shares.tolist(), "smallest class share": float(shares.min()),
            "classes among the judge's decisions": int((shares > 0).sum())},
            plot_data={"samples": samples, "losses": losses})

    def checks(self, m: dict) -> list[Check]:
        return [Check("the judge's mean confidence in the samples", m["the judge's mean confidence in the samples"],
                      "≥", CONFIDENT),
                Check("every class present: smallest share of the judge's decisions", m["smallest class share"],
                      "≥", PRESENT)]

    summary_template = """The judge is {m[the judge's mean confidence in the samples]:.3f} confident in DCGAN digits, every class present.
        After {m[Adam steps]} Adam steps the DCGAN's {m[samples]} samples were judged with a mean confidence of
        {m[the judge's mean confidence in the samples]:.3f} (real digits: {m[the judge's mean confidence in real digits]:.3f});
        the rarest class got {m[smallest class share]:.1%} of the decisions."""

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        samples, losses = measurement.plot_data["samples"], measurement.plot_data["losses"]

        def draw(fig):
            grid = fig.add_gridspec(2, 8)
            for i in range(16):
                ax = fig.add_subplot(grid[i // 8, i % 8])
                ax.imshow(samples[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
                ax.axis("off")

        def draw_losses(fig):
            ax = fig.subplots()
            for name, values in losses.items():
                ax.plot(np.convolve(values, np.ones(25) / 25, mode="valid"), label=f"{name} loss (moving average)")
            ax.set(xlabel="Adam step", ylabel="loss")
            ax.legend()

        return save_figure(ctx, self.id, draw) + save_figure(ctx, f"{self.id}-losses", draw_losses)
