"""A class-conditional DDPM draws digits that a separately trained classifier recognises as the asked-for
class, every class present (seed 000 §6.5; issue 13's quality score)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import datasets
from fukaku.models.generative.diffusion import DDPM, EpsilonMLP, NoiseSchedule

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._judge import probabilities, train_classifier
from ._toy import fit_ddpm
from ....ops._parallel import blas_threads

QUICK = {"steps": 1400, "hidden": 256, "blocks": 2, "T": 100, "per_class": 25, "classifier_epochs": 15, "classes": 4}
FULL = {"steps": 4000, "hidden": 256, "blocks": 3, "T": 200, "per_class": 50, "classifier_epochs": 60, "classes": 10}
HELD_OUT = 360
SCORE = 0.8          # confidence-weighted accuracy the samples must reach


class DiffusionDigits(Experiment, id="diffusion-digits", source="seed 000 §6.5"):
    """A conditional DDPM draws recognisable digits of every class.

    A DDPM whose noise network sees the class (an MLP on the 8×8 digits scaled to [−1, 1], cosine schedule,
    labels dropped 10 % of the time) samples digits of each asked-for class. A classifier trained on real
    digits only (and tested on held-out ones) judges them: its probability for the asked-for class,
    averaged over the samples (confidence-weighted accuracy), is at least 0.8, and all ten classes appear
    among its decisions. The quick run asks the same of the digits 0–3 only, which a smaller budget learns.
    """

    def measure(self, ctx: Context) -> Measurement:
        cfg = QUICK if ctx.quick else FULL
        classes = cfg["classes"]
        x, y = datasets.digits(return_tensors=False)
        kept = y < classes
        x, y = x[kept].astype(np.float32), y[kept].astype(np.int64)
        order = ctx.rng().permutation(len(x))
        held_out = HELD_OUT * classes // 10
        train, test = order[held_out:], order[:held_out]
        with blas_threads(1):
            judge = train_classifier(x[train], y[train], classes, cfg["classifier_epochs"], ctx.seed)
            judge_accuracy = float((probabilities(judge, x[test]).argmax(1) == y[test]).mean())
            fk.manual_seed(ctx.seed)
            generator, rng = fk.Generator().manual_seed(ctx.seed + 7919), ctx.rng(1)
            ddpm = DDPM(EpsilonMLP(64, cfg["hidden"], cfg["blocks"], num_classes=classes),
                        NoiseSchedule.cosine(cfg["T"]), p_uncond=0.1)
            pixels = x * 2 - 1

            def sample_batch(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
                batch = train[rng.integers(0, len(train), n)]
                return pixels[batch], y[batch]

            losses = fit_ddpm(ddpm, sample_batch, cfg["steps"], generator, rng, batch=128, lr=2e-3)
            labels = np.repeat(np.arange(classes), cfg["per_class"])
            samples = ((ddpm.sample(len(labels), y=fk.tensor(labels), generator=generator).numpy() + 1) / 2).clip(0, 1)
        p = probabilities(judge, samples)
        decided = p.argmax(1)
        return Measurement(values={
            "classes (digits 0 to classes − 1)": classes,
            "Adam steps, T": [cfg["steps"], cfg["T"]], "samples per class": cfg["per_class"],
            "the judge's accuracy on held-out real digits": judge_accuracy,
            "confidence-weighted accuracy (mean p(asked class))": float(p[np.arange(len(labels)), labels].mean()),
            "accuracy (judge's decision = asked class)": float((decided == labels).mean()),
            "classes among the judge's decisions": int(len(np.unique(decided))),
            "per-class accuracy": [float((decided[labels == c] == c).mean()) for c in range(classes)],
            "final training loss (mean of the last 100 steps)": float(np.mean(losses[-100:]))},
            plot_data={"samples": samples, "labels": labels})

    def checks(self, m: dict) -> list[Check]:
        return [Check("the judge knows real digits: held-out accuracy", m["the judge's accuracy on held-out real digits"],
                      "≥", 0.9),
                Check("samples recognised: confidence-weighted accuracy",
                      m["confidence-weighted accuracy (mean p(asked class))"], "≥", SCORE),
                Check("every class present among the judge's decisions", m["classes among the judge's decisions"],
                      "=", m["classes (digits 0 to classes − 1)"])]

    summary_template = """Samples score {m[confidence-weighted accuracy (mean p(asked class))]:.3f} confidence-weighted accuracy, all classes present.
        A class-conditional DDPM trained {m[Adam steps, T][0]} Adam steps (T = {m[Adam steps, T][1]}) on the 8×8
        digits 0 to {last} drew {m[samples per class]} samples per class; a classifier trained on real digits
        ({m[the judge's accuracy on held-out real digits]:.3f} on held-out ones) gave the asked-for class a mean
        probability of {m[confidence-weighted accuracy (mean p(asked class))]:.3f} and decided it for
        {m[accuracy (judge's decision = asked class)]:.1%} of the samples, finding
        {m[classes among the judge's decisions]} classes."""

    def summary_values(self, m: dict) -> dict:
        return {"last": m["classes (digits 0 to classes − 1)"] - 1}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        samples, labels = measurement.plot_data["samples"], measurement.plot_data["labels"]
        classes = int(labels.max()) + 1
        per_class = len(labels) // classes
        shown = min(per_class, 10)

        def draw(fig):
            axes = fig.subplots(classes, shown, squeeze=False)
            for c in range(classes):
                for j in range(shown):
                    axes[c][j].imshow(samples[c * per_class + j].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
                    axes[c][j].axis("off")

        return save_figure(ctx, self.id, draw)
