"""Seed 000's table of VAE against GAN, measured: likelihood, sample sharpness, sample quality and the stability
of training, on the 8×8 digits over several seeds (seed 000 §6.5)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku.models.generative import VAE

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._common import digits, fit_adam
from ._judge import probabilities, train_classifier
from .gan_digits import draw, train_dcgan
from ....ops._parallel import blas_threads

QUICK = {"seeds": 2, "vae_steps": 500, "gan_steps": 500, "samples": 200, "k": 16, "classifier_epochs": 10}
FULL = {"seeds": 3, "vae_steps": 4000, "gan_steps": 4000, "samples": 2000, "k": 128, "classifier_epochs": 60}
LATENT = 8
LATE = 0.25   # the last quarter of training, where the stability of the objective is read


def sharpness(images: np.ndarray) -> float:
    """Mean squared difference between neighbouring pixels (horizontal and vertical) of 8×8 images (N, 64):
    edges make it large, blur small."""
    x = images.reshape(-1, 8, 8)
    return float(((x[:, 1:, :] - x[:, :-1, :]) ** 2).mean() + ((x[:, :, 1:] - x[:, :, :-1]) ** 2).mean())


def late_wobble(losses: np.ndarray | list[float]) -> float:
    """How much a training objective still moves late in training: the standard deviation over the last
    quarter of the steps of its change from step to step, over the mean absolute level there."""
    late = np.asarray(losses)[-max(2, int(len(losses) * LATE)):]
    return float(np.diff(late).std() / np.abs(late).mean())


class VaeVsGan(Experiment, id="vae-vs-gan-table", source="seed 000 §6.5 (VAE vs GAN table)"):
    """The VAE has a likelihood and trains stably; the GAN's samples are sharper.

    Seed 000 tabulates the two: the VAE gives an explicit likelihood (its ELBO, below log p(x)) and trains
    stably, but its samples are blurry; the GAN has no likelihood and an unstable, adversarial training, but
    its samples are sharp. Trained on the 8×8 digits over several seeds (a VAE with an 8-D latent space, a
    DCGAN): the VAE's samples E[x | z] have less edge energy than the real digits and than the GAN's samples;
    the VAE's objective moves less from step to step late in training than the GAN generator's; and the
    likelihood column is measured for the VAE (test ELBO and importance-sampled log p(x)) and empty for the
    GAN. The judge's confidence in the samples and its spread across seeds are reported beside them.
    """

    def measure(self, ctx: Context) -> Measurement:
        cfg = QUICK if ctx.quick else FULL
        data = digits(ctx.seed)
        rows: dict[str, dict[str, list[float]]] = {"VAE": {}, "GAN": {}}

        def record(model: str, name: str, value: float) -> None:
            rows[model].setdefault(name, []).append(value)

        x, y = fk.datasets.digits(return_tensors=False)
        with blas_threads(1):
            judge = train_classifier(x.astype(np.float32), y.astype(np.int64), 10, cfg["classifier_epochs"], ctx.seed)
            for seed in range(ctx.seed, ctx.seed + cfg["seeds"]):
                fk.manual_seed(seed)
                vae = VAE(64, LATENT, hidden=(128,))
                vae_losses = fit_adam(vae, data.train, cfg["vae_steps"], 3e-3, 128, seed)
                test = fk.tensor(data.test)
                generator = fk.Generator().manual_seed(seed + 1)
                with fk.no_grad():
                    record("VAE", "test ELBO (nats per image)", float(vae.elbo(test, generator).mean()))
                    record("VAE", "importance-sampled log p(x)",
                           float(vae.log_likelihood(test, cfg["k"], generator).mean()))
                    vae_samples = vae.sample(cfg["samples"], generator).numpy()
                G, gan_losses = train_dcgan(data.train, cfg["gan_steps"], seed)
                gan_samples = draw(G, cfg["samples"], seed)
                for model, samples, losses in (("VAE", vae_samples, vae_losses), ("GAN", gan_samples, gan_losses["G"])):
                    record(model, "sharpness (edge energy) / the real digits'", sharpness(samples) / sharpness(data.test))
                    record(model, "the judge's mean confidence", float(probabilities(judge, samples).max(1).mean()))
                    record(model, "late wobble of the training objective", late_wobble(losses))
        table = {model: {name: float(np.mean(values)) for name, values in columns.items()}
                 for model, columns in rows.items()}
        spread = {model: float(np.std(columns["the judge's mean confidence"])) for model, columns in rows.items()}
        return Measurement(values={
            "seeds": cfg["seeds"], "Adam steps (VAE, GAN)": [cfg["vae_steps"], cfg["gan_steps"]],
            "table (means over seeds)": table, "per seed": rows,
            "spread of the judge's confidence across seeds": spread,
            "likelihood": {"VAE": "explicit: ELBO ≤ log p(x), estimated above", "GAN": "none: an implicit model"}},
            plot_data={"vae": vae_samples, "gan": gan_samples})

    def checks(self, m: dict) -> list[Check]:
        vae, gan = m["table (means over seeds)"]["VAE"], m["table (means over seeds)"]["GAN"]
        sharp, wobble = "sharpness (edge energy) / the real digits'", "late wobble of the training objective"
        return [Check("VAE samples are blurrier than real digits: edge energy ratio", vae[sharp], "<", 1.0),
                Check("GAN samples are sharper than the VAE's: edge energy ratio GAN − VAE", gan[sharp] - vae[sharp],
                      ">", 0.0),
                Check("VAE trains more stably: late wobble GAN / VAE", gan[wobble] / vae[wobble], ">", 1.0),
                Check("the VAE's likelihood is measured: importance-sampled log p(x) − ELBO (nats)",
                      vae["importance-sampled log p(x)"] - vae["test ELBO (nats per image)"], "≥", 0.0)]

    summary_template = """VAE samples: {vae_sharp:.2f}× real edge energy, GAN's {gan_sharp:.2f}×; GAN wobbles {wobble:.0f}× more.
        Edge energy is the mean squared difference of neighbouring pixels, against the real test digits'; the
        wobble is the step-to-step movement of the training objective late in training. Over {m[seeds]} seeds on the 8×8 digits the VAE measured a test ELBO of {elbo:.1f} nats and an
        importance-sampled log p(x) of {logp:.1f} (the GAN has none). The judge's mean confidence was {vae_conf:.3f}
        in the VAE's samples and {gan_conf:.3f} in the GAN's (spread across seeds {vae_spread:.3f} and
        {gan_spread:.3f})."""

    def summary_values(self, m: dict) -> dict:
        vae, gan = m["table (means over seeds)"]["VAE"], m["table (means over seeds)"]["GAN"]
        sharp, wobble = "sharpness (edge energy) / the real digits'", "late wobble of the training objective"
        spread = m["spread of the judge's confidence across seeds"]
        return {"vae_sharp": vae[sharp], "gan_sharp": gan[sharp], "wobble": gan[wobble] / vae[wobble],
                "elbo": vae["test ELBO (nats per image)"], "logp": vae["importance-sampled log p(x)"],
                "vae_conf": vae["the judge's mean confidence"], "gan_conf": gan["the judge's mean confidence"],
                "vae_spread": spread["VAE"], "gan_spread": spread["GAN"]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        vae, gan = measurement.plot_data["vae"], measurement.plot_data["gan"]

        def draw_samples(fig):
            axes = fig.subplots(2, 10)
            for row, (name, samples) in enumerate((("VAE", vae), ("GAN", gan))):
                for j in range(10):
                    axes[row][j].imshow(samples[j].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
                    axes[row][j].axis("off")
                axes[row][0].set_title(name, fontsize=8, loc="left")

        return save_figure(ctx, self.id, draw_samples)
