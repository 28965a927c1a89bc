"""U-Net segments shapes on noisy, unevenly lit backgrounds pixel by pixel (seed 000 §6.2; Ronneberger,
Fischer & Brox 2015)."""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import nn, optim
from fukaku.models.cnn import UNet
from fukaku.utils.data import DataLoader, TensorDataset

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._images import train_steps

SIZE = 32                      # images SIZE × SIZE
KINDS = ("circle", "rectangle", "triangle")
RADIUS = (0.12, 0.25)          # a shape's size (circle radius, rectangle half-side, triangle inradius / 0.78), × SIZE
NOISE, CONTRAST, LIGHT = 0.3, (0.6, 1.0), 1.0  # pixel noise σ; shape brightness over the background; ± lighting slope
TRAIN, TEST = 1024, 256
QUICK = {"width": 8, "depth": 2, "steps": 250}
FULL = {"width": 16, "depth": 3, "steps": 600}
BATCH, LR = 16, 1e-2           # Adam, the rate annealed to 0 (cosine)
GOOD = 0.9                     # the claim: mean IoU on held-out images at least this


def shapes(n: int, rng: np.random.Generator, size: int = SIZE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` images of one or two shapes (circle, rectangle or triangle, at random positions, sizes and angles)
    brighter than a background lit by a random linear slope, with Gaussian noise, and their masks.

    Returns ``(images (n, 1, size, size) float32, masks (n, 1, size, size) float32 in {0, 1}, kinds (n,))``:
    ``kinds[i]`` is the index in ``KINDS`` of the image's shape when it has one, −1 when it has two.
    """
    pixel = np.arange(size) + 0.5
    x, y = pixel[None, None, :], pixel[None, :, None]
    mask = np.zeros((n, size, size), dtype=bool)
    second = rng.random(n) < 0.5
    kinds = np.empty(n, dtype=np.int64)
    for slot in range(2):
        kind = rng.integers(0, len(KINDS), n)
        cx, cy = rng.uniform(0.25 * size, 0.75 * size, (2, n, 1, 1))
        r = rng.uniform(RADIUS[0] * size, RADIUS[1] * size, (n, 1, 1))
        angle = rng.uniform(0, math.pi, (n, 1, 1))
        aspect = rng.uniform(0.5, 1.0, (n, 1, 1))
        u = (x - cx) * np.cos(angle) + (y - cy) * np.sin(angle)     # coordinates along the shape's axes
        v = -(x - cx) * np.sin(angle) + (y - cy) * np.cos(angle)
        circle = u ** 2 + v ** 2 <= r ** 2
        rectangle = (np.abs(u) <= r) & (np.abs(v) <= aspect * r)
        triangle = np.ones_like(circle)
        for corner in range(3):                                      # inside three half-planes 120° apart
            normal = angle + 2 * math.pi * corner / 3
            triangle &= (x - cx) * np.cos(normal) + (y - cy) * np.sin(normal) <= 0.78 * r
        drawn = np.select([kind[:, None, None] == 0, kind[:, None, None] == 1], [circle, rectangle], triangle)
        mask |= drawn & (second if slot else np.ones(n, dtype=bool))[:, None, None]
        if slot == 0:
            kinds[:] = kind
    kinds[second] = -1
    slope_x, slope_y = rng.uniform(-LIGHT, LIGHT, (2, n, 1, 1))
    background = 2 * (slope_x * (x / size - 0.5) + slope_y * (y / size - 0.5))
    contrast = rng.uniform(*CONTRAST, (n, 1, 1))
    images = background + contrast * mask + NOISE * rng.standard_normal((n, size, size))
    return images[:, None].astype(np.float32), mask[:, None].astype(np.float32), kinds


def iou(predicted: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Intersection over union of boolean masks ``(N, ...)``, one per image (1 when both are empty)."""
    axes = tuple(range(1, predicted.ndim))
    intersection, union = (predicted & target).sum(axis=axes), (predicted | target).sum(axis=axes)
    return np.where(union > 0, intersection / np.maximum(union, 1), 1.0)


def best_threshold(images: np.ndarray, masks: np.ndarray) -> float:
    """The global intensity threshold with the highest mean IoU on ``images`` (the baseline a U-Net must beat)."""
    candidates = np.quantile(images, np.linspace(0.5, 0.99, 50))
    return float(max(candidates, key=lambda t: iou(images > t, masks).mean()))


class UNetSegmentation(Experiment, id="unet-segmentation", source="seed 000 §6.2; Ronneberger et al. 2015"):
    """U-Net segments generated shapes with IoU ≥ 0.9.

    U-Net (an encoder of convolutions and poolings, a decoder of upsamplings, skip connections between
    them) classifies every pixel, so it segments images (seed 000 §6.2). On generated 32×32 images of
    one or two circles, rectangles or triangles, brighter than a background lit by a random slope, with
    pixel noise, a small U-Net trained on 1,024 images segments 256 held-out ones with mean
    intersection-over-union ≥ 0.9, above the best global brightness threshold (which the uneven light and
    the noise defeat).
    """

    def measure(self, ctx: Context) -> Measurement:
        config = QUICK if ctx.quick else FULL
        rng = ctx.rng()
        x_train, m_train, _ = shapes(TRAIN, rng)
        x_test, m_test, kinds = shapes(TEST, rng)
        fk.manual_seed(ctx.seed)
        model = UNet(in_channels=1, num_classes=1, width=config["width"], depth=config["depth"])
        optimizer = optim.Adam(model.parameters(), lr=LR)
        scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, config["steps"])
        loader = DataLoader(TensorDataset(fk.tensor(x_train), fk.tensor(m_train)), batch_size=BATCH, shuffle=True,
                            generator=fk.Generator().manual_seed(ctx.seed))
        start = time.perf_counter()
        losses = train_steps(model, nn.BCEWithLogitsLoss(), optimizer, scheduler, loader, config["steps"])
        seconds = time.perf_counter() - start
        model.eval()
        with fk.no_grad():
            predicted = model(fk.tensor(x_test)).numpy() > 0
        truth = m_test > 0.5
        scores = iou(predicted, truth)
        threshold = best_threshold(x_train, m_train > 0.5)
        per_kind = {kind: float(scores[kinds == k].mean()) for k, kind in enumerate(KINDS)}
        return Measurement(
            values={"images": f"{SIZE}×{SIZE}, {TRAIN} train / {TEST} held out",
                    "U-Net width, depth, parameters": [config["width"], config["depth"],
                                                       sum(p.numel() for p in model.parameters())],
                    "Adam steps, batch": [config["steps"], BATCH], "seconds to train": seconds,
                    "held-out IoU, mean": float(scores.mean()), "held-out IoU, 10th percentile": float(
                        np.percentile(scores, 10)),
                    "held-out IoU by shape (images with one shape)": per_kind,
                    "held-out IoU, images with two shapes": float(scores[kinds < 0].mean()),
                    "pixel accuracy": float((predicted == truth).mean()),
                    "best global threshold (fitted on the training images): held-out IoU": float(
                        iou(x_test > threshold, truth).mean()),
                    "final training loss (BCE, mean of the last 20 steps)": float(losses[-20:].mean())},
            plot_data={"images": x_test[:6, 0], "truth": truth[:6, 0], "predicted": predicted[:6, 0],
                       "scores": scores[:6], "losses": losses})

    def checks(self, m: dict) -> list[Check]:
        return [Check("held-out IoU, mean", m["held-out IoU, mean"], "≥", GOOD)] + [
            Check(f"held-out IoU of {kind}s, mean", value, "≥", GOOD)
            for kind, value in m["held-out IoU by shape (images with one shape)"].items()] + [
            Check("U-Net IoU, vs the best global threshold's", m["held-out IoU, mean"], ">",
                  m["best global threshold (fitted on the training images): held-out IoU"])]

    summary_template = """Held-out IoU {m[held-out IoU, mean]:.3f} ≥ {good} (global threshold:
        {m[best global threshold (fitted on the training images): held-out IoU]:.3f}). A U-Net of width
        {m[U-Net width, depth, parameters][0]} and depth {m[U-Net width, depth, parameters][1]}
        ({m[U-Net width, depth, parameters][2]:,} parameters), trained for {m[Adam steps, batch][0]} Adam steps
        ({m[seconds to train]:.1f} s) on {m[images]} images, segments the held-out ones with mean IoU
        {m[held-out IoU, mean]:.3f} (by shape: {kinds}; two shapes: {m[held-out IoU, images with two shapes]:.3f};
        pixel accuracy {m[pixel accuracy]:.4f}). No single brightness threshold does: the lighting slope and the
        noise overlap the shapes' brightness."""

    def summary_values(self, m: dict) -> dict:
        by_shape = m["held-out IoU by shape (images with one shape)"]
        return {"good": GOOD, "kinds": ", ".join(f"{kind}s {value:.3f}" for kind, value in by_shape.items())}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        d = measurement.plot_data

        def draw(fig):
            top, bottom = fig.subfigures(2, 1, height_ratios=[2.2, 1])
            axes = top.subplots(2, len(d["images"]))
            for k, (image, truth, predicted, score) in enumerate(zip(d["images"], d["truth"], d["predicted"],
                                                                    d["scores"])):
                axes[0, k].imshow(image, cmap="gray")
                axes[0, k].contour(truth, levels=[0.5], colors="#3c3", linewidths=0.8)
                axes[1, k].imshow(predicted, cmap="gray")
                axes[1, k].contour(truth, levels=[0.5], colors="#3c3", linewidths=0.8)
                axes[1, k].set_title(f"IoU {score:.3f}", fontsize=8)
            for ax in axes.ravel():
                ax.set_xticks([])
                ax.set_yticks([])
            axes[0, 0].set_ylabel("held-out image", fontsize=8)
            axes[1, 0].set_ylabel("U-Net mask", fontsize=8)
            top.suptitle("green: the true outline", fontsize=8)
            ax = bottom.subplots()
            ax.plot(np.arange(1, len(d["losses"]) + 1), d["losses"])
            ax.set_yscale("log")
            ax.tick_params(axis="y", which="minor", labelleft=False)
            ax.set_xlabel("Adam step")
            ax.set_ylabel("training loss (BCE)")

        return save_figure(ctx, self.id, draw, figsize=(10, 6))
