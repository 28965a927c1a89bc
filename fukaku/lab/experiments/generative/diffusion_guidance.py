"""Classifier-free guidance: its strength w trades the samples' diversity for agreement with the condition
(seed 000 §6.5; Ho & Salimans 2022)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._toy import train_ddpm
from ....ops._parallel import blas_threads

CENTRES = 0.8 * np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=np.float64)  # four overlapping classes
SPREAD = 0.6
WEIGHTS = (0.0, 1.0, 3.0)
QUICK = {"steps": 1000, "per_class": 150}
FULL = {"steps": 6000, "per_class": 1000}
P_UNCOND = 0.2


def quadrants(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n points of four overlapping Gaussian classes (centres 0.8·(±1, ±1), standard deviation 0.6)."""
    label = rng.integers(0, 4, n)
    return (CENTRES[label] + SPREAD * rng.normal(size=(n, 2))).astype(np.float32), label


def bayes_class(points: np.ndarray) -> np.ndarray:
    """The most probable class of each point under the true distribution (equal priors and covariances:
    the nearest centre)."""
    return np.argmin(((points[:, None, :] - CENTRES[None]) ** 2).sum(-1), axis=1)


def spread(points: np.ndarray, labels: np.ndarray) -> float:
    """Diversity: the mean over classes of the samples' standard deviation around their class mean."""
    return float(np.mean([np.sqrt(points[labels == c].var(0).mean()) for c in range(len(CENTRES))]))


class DiffusionGuidance(Experiment, id="diffusion-guidance-tradeoff", source="seed 000 §6.5"):
    """Guidance strength trades diversity for agreement with the condition.

    One DDPM trained with its class label dropped 20 % of the time gives both ε_θ(x_t, t, y) and ε_θ(x_t, t);
    classifier-free guidance samples with ε̃ = (1 + w) ε_θ(x_t, t, y) − w ε_θ(x_t, t). On four overlapping
    Gaussian classes, w = 0 reproduces the classes as they are (the share of samples whose most probable
    class is the asked-for one is within four standard errors of the data's own), and raising w to 1 and 3
    raises that share and shrinks the samples' spread each time.
    """

    def measure(self, ctx: Context) -> Measurement:
        cfg = QUICK if ctx.quick else FULL
        per_class = cfg["per_class"]
        labels = np.repeat(np.arange(len(CENTRES)), per_class)
        with blas_threads(1):
            trained = train_ddpm(quadrants, cfg["steps"], ctx.seed, num_classes=len(CENTRES), p_uncond=P_UNCOND)
            samples = {w: trained.ddpm.sample(len(labels), y=fk.tensor(labels), guidance=w,
                                              generator=fk.Generator().manual_seed(ctx.seed + 1)).numpy()
                       for w in WEIGHTS}
        data, data_labels = quadrants(len(labels), ctx.rng(2))
        agreement = {f"w = {w:g}": float((bayes_class(x) == labels).mean()) for w, x in samples.items()}
        diversity = {f"w = {w:g}": spread(x, labels) for w, x in samples.items()}
        return Measurement(values={
            "Adam steps": cfg["steps"], "samples per class": per_class,
            "agreement (share whose most probable class is the condition)": agreement,
            "diversity (mean within-class standard deviation)": diversity,
            "the data's own agreement": float((bayes_class(data) == data_labels).mean()),
            "the data's own diversity": spread(data, data_labels)},
            plot_data={"samples": samples, "labels": labels})

    def checks(self, m: dict) -> list[Check]:
        agree = m["agreement (share whose most probable class is the condition)"]
        diverse = m["diversity (mean within-class standard deviation)"]
        names = list(agree)
        p, n = m["the data's own agreement"], len(CENTRES) * m["samples per class"]
        checks = [Check("w = 0 reproduces the classes: |agreement − the data's| (within 4 standard errors)",
                        abs(agree[names[0]] - p), "≤", 4 * np.sqrt(2 * p * (1 - p) / n))]
        for lower, higher in zip(names, names[1:]):
            checks += [Check(f"agreement rises from {lower} to {higher}", agree[higher] - agree[lower], ">", 0),
                       Check(f"diversity falls from {lower} to {higher}", diverse[lower] - diverse[higher], ">", 0)]
        return checks

    summary_template = """Agreement {a0:.3f} → {a1:.3f} → {a3:.3f} and spread {d0:.3f} → {d1:.3f} → {d3:.3f} for w = 0, 1, 3.
        A class-conditional DDPM ({m[Adam steps]} Adam steps, labels dropped 20 % of the time) drew
        {m[samples per class]} samples per class of four overlapping Gaussians; the data themselves agree with their
        class {m[the data's own agreement]:.3f} of the time with a spread of {m[the data's own diversity]:.3f}."""

    def summary_values(self, m: dict) -> dict:
        agree = list(m["agreement (share whose most probable class is the condition)"].values())
        diverse = list(m["diversity (mean within-class standard deviation)"].values())
        return {"a0": agree[0], "a1": agree[1], "a3": agree[2], "d0": diverse[0], "d1": diverse[1], "d3": diverse[2]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        samples, labels = measurement.plot_data["samples"], measurement.plot_data["labels"]

        def draw(fig):
            axes = fig.subplots(1, len(samples), sharex=True, sharey=True)
            for ax, (w, x) in zip(axes, samples.items()):
                ax.scatter(x[:, 0], x[:, 1], c=labels, s=2, cmap="tab10", vmax=9)
                ax.set(title=f"guidance w = {w:g}", aspect="equal")

        return save_figure(ctx, self.id, draw)
