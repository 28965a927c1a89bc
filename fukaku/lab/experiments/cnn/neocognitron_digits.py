"""The Neocognitron (Add-if-Silent, no labels, linear read-out) next to LeNet-5 trained by backpropagation,
on the 8×8 digits (seed 002 ch. 3 §3.2–3.3, seed 000 §6.2)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import datasets, nn, optim
from fukaku.models import LinearRegression
from fukaku.models.cnn import LeNet5
from fukaku.models.cnn.neocognitron import Neocognitron
from fukaku.train import fit
from fukaku.utils.data import DataLoader, TensorDataset

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

TEST = 540           # held-out digits (30 %), the rest train both models
ABOVE_CHANCE = 0.8   # "well above chance": 8× the 10 % of guessing
UPSAMPLE = 4         # LeNet-5 wants 32×32 images: each pixel of the 8×8 digits repeated 4×4 (no new information)
QUICK_EPOCHS, EPOCHS, SPLITS = 12, 20, 5  # LeNet-5's training; the full run averages 5 random splits
BATCH, LR = 32, 2e-3  # Adam, the rate annealed to 0 over the epochs (cosine), on standardised inputs


def pixel_readout_accuracy(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray) -> float:
    """Test accuracy of the Neocognitron's read-out (least squares on one-hot labels) fitted to the raw pixels."""
    readout = LinearRegression(train_x.shape[1], 10, dtype=fk.float64)
    readout.fit(train_x, np.eye(10)[train_y])
    return float((readout.predict(fk.tensor(test_x)).argmax(1).numpy() == test_y).mean())


def one_split(images: np.ndarray, labels: np.ndarray, order: np.ndarray, seed: int, epochs: int) -> dict:
    """Train both models on ``order[TEST:]`` and test them on ``order[:TEST]``: accuracies, times, and what the
    figure draws."""
    test, train = fk.tensor(order[:TEST]), fk.tensor(order[TEST:])
    x, y = fk.tensor(images[:, None]), fk.tensor(labels)

    fk.manual_seed(seed)
    neo = Neocognitron()
    start = time.perf_counter()
    planes = neo.grow(x[train])                     # unsupervised: the images only
    grow_seconds = time.perf_counter() - start
    neo.fit_readout(x[train], y[train])             # the labels: a linear read-out only

    big = np.repeat(np.repeat(images, UPSAMPLE, axis=1), UPSAMPLE, axis=2)[:, None]
    big = fk.tensor((big - big[order[TEST:]].mean()) / big[order[TEST:]].std())  # as transforms.Normalize would
    fk.manual_seed(seed)
    lenet = LeNet5(input_size=8 * UPSAMPLE)
    loader = DataLoader(TensorDataset(big[train], y[train]), batch_size=BATCH, shuffle=True)
    adam = optim.Adam(lenet.parameters(), lr=LR)
    start = time.perf_counter()
    history = fit(lenet, nn.CrossEntropyLoss(), adam, loader, epochs=epochs, quiet=True,
                  scheduler=optim.lr_scheduler.CosineAnnealingLR(adam, epochs))
    backprop_seconds = time.perf_counter() - start
    lenet.eval()
    with fk.no_grad():
        neo_accuracy = float((neo(x[test]).argmax(1) == y[test]).float().mean())
        lenet_accuracy = float((lenet(big[test]).argmax(1) == y[test]).float().mean())
    flat = images.reshape(len(images), -1).astype(np.float64)
    return {"neocognitron": neo_accuracy, "lenet": lenet_accuracy, "grow seconds": grow_seconds,
            "backprop seconds": backprop_seconds, "planes": planes,
            "pixels": pixel_readout_accuracy(flat[order[TEST:]], labels[order[TEST:]], flat[order[:TEST]],
                                             labels[order[:TEST]]),
            "lenet parameters": sum(p.numel() for p in lenet.parameters()),
            "filters": neo.s_layers[0].weight.numpy()[:, 0], "loss": history.loss}


def tile(filters: np.ndarray, cols: int = 8) -> np.ndarray:
    """Square filters ``(K, k, k)`` side by side, ``cols`` to a row, one NaN pixel between them (the figure draws
    NaN in the colour map's "bad" colour)."""
    count, k = len(filters), filters.shape[-1]
    rows = -(-count // cols)
    canvas = np.full((rows * (k + 1) - 1, min(count, cols) * (k + 1) - 1), np.nan)
    for i, f in enumerate(filters):
        r, c = divmod(i, cols)
        canvas[r * (k + 1):r * (k + 1) + k, c * (k + 1):c * (k + 1) + k] = f
    return canvas


class NeocognitronDigits(Experiment, id="neocognitron-digits", source="seed 002 ch. 3 §3.2–3.3, seed 000 §6.2"):
    """The Neocognitron next to LeNet-5 on the 8×8 digits.

    The Neocognitron (S-layers = convolution, C-layers = max pooling) learns its features without labels,
    in one pass over the training images by the Add-if-Silent rule, and with a linear read-out classifies
    held-out digits well above chance (accuracy ≥ 0.8, chance 0.1); learning is fast (the one pass takes
    less time than backpropagation's training), but it is not as strong as LeNet-5, the same alternation of
    convolution and pooling trained by backpropagation (higher test accuracy on every one of 5 random
    train/test splits in the full run, on one in the quick run) (seed 002 ch. 3).
    """

    def measure(self, ctx: Context) -> Measurement:
        images, labels = datasets.digits(flatten=False, return_tensors=False)
        splits, epochs = (1, QUICK_EPOCHS) if ctx.quick else (SPLITS, EPOCHS)
        runs = [one_split(images, labels, ctx.rng(split).permutation(len(images)), ctx.seed + split, epochs)
                for split in range(splits)]
        per_split = {key: [run[key] for run in runs] for key in runs[0] if key not in ("filters", "loss")}
        mean = {key: float(np.mean(values)) for key, values in per_split.items()}
        return Measurement(
            values={"train / test digits": [len(images) - TEST, TEST], "random splits": splits, "chance": 0.1,
                    "Neocognitron: thresholds θ per S-layer": [layer.threshold for layer in Neocognitron().s_layers],
                    "Neocognitron: cell planes grown per S-layer (first split)": runs[0]["planes"],
                    "Neocognitron: seconds to grow (one pass per layer, no labels)": mean["grow seconds"],
                    "Neocognitron: test accuracy": mean["neocognitron"],
                    "Neocognitron: test accuracy per split": per_split["neocognitron"],
                    "LeNet-5 (backprop): epochs": epochs,
                    "LeNet-5 (backprop): seconds to train": mean["backprop seconds"],
                    "LeNet-5 (backprop): test accuracy": mean["lenet"],
                    "LeNet-5 (backprop): test accuracy per split": per_split["lenet"],
                    "LeNet-5 (backprop): parameters": runs[0]["lenet parameters"],
                    "the same read-out on raw pixels: test accuracy": mean["pixels"]},
            plot_data={"filters": runs[0]["filters"], "loss": runs[0]["loss"]})

    def checks(self, m: dict) -> list[Check]:
        return [Check("Neocognitron: test accuracy, well above chance (0.1)", m["Neocognitron: test accuracy"], "≥",
                      ABOVE_CHANCE),
                Check("LeNet-5 (backprop) test accuracy, vs the Neocognitron's", m["LeNet-5 (backprop): test accuracy"],
                      ">", m["Neocognitron: test accuracy"]),
                Check("random splits on which LeNet-5 is not more accurate than the Neocognitron",
                      sum(lenet <= neo for lenet, neo in zip(m["LeNet-5 (backprop): test accuracy per split"],
                                                            m["Neocognitron: test accuracy per split"])), "=", 0),
                Check("Add-if-Silent's one pass, seconds, vs backprop training's",
                      m["Neocognitron: seconds to grow (one pass per layer, no labels)"], "<",
                      m["LeNet-5 (backprop): seconds to train"])]

    summary_template = """Neocognitron {m[Neocognitron: test accuracy]:.3f} vs LeNet-5
        {m[LeNet-5 (backprop): test accuracy]:.3f} test accuracy (chance 0.1). Add-if-Silent grew {planes} cell
        planes in one unlabelled pass over {m[train / test digits][0]} digits
        ({m[Neocognitron: seconds to grow (one pass per layer, no labels)]:.2f} s); with a least-squares read-out
        it reaches {m[Neocognitron: test accuracy]:.3f} on {m[train / test digits][1]} held-out digits{over} (the
        same read-out on raw pixels: {m[the same read-out on raw pixels: test accuracy]:.3f}). LeNet-5 trained by
        backpropagation for {m[LeNet-5 (backprop): epochs]} epochs ({m[LeNet-5 (backprop): seconds to train]:.1f}
        s) reaches {m[LeNet-5 (backprop): test accuracy]:.3f}."""

    def summary_values(self, m: dict) -> dict:
        splits = m["random splits"]
        return {"planes": " + ".join(str(p) for p in m["Neocognitron: cell planes grown per S-layer (first split)"]),
                "over": "" if splits == 1 else f", mean over {splits} random splits"}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        filters, loss, m = measurement.plot_data["filters"], measurement.plot_data["loss"], measurement.values

        def draw(fig):
            left, right = fig.subfigures(1, 2, width_ratios=[1.2, 1])
            ax_filters = left.subplots()
            from matplotlib import colormaps

            ax_filters.imshow(tile(filters, cols=5), cmap=colormaps["gray_r"].with_extremes(bad="#9bc"))
            ax_filters.set_xticks([])
            ax_filters.set_yticks([])
            ax_filters.set_title(f"U_S1 cell planes grown by Add-if-Silent ({len(filters)}, 3×3)", fontsize=9)
            ax_acc, ax_loss = right.subplots(2, 1)
            names = ["chance", "read-out on pixels", "Neocognitron", "LeNet-5"]
            values = [0.1, m["the same read-out on raw pixels: test accuracy"], m["Neocognitron: test accuracy"],
                      m["LeNet-5 (backprop): test accuracy"]]
            ax_acc.barh(names, values, color=["#bbb", "#999", "#6a6ad0", "#d64"])
            for i, v in enumerate(values):
                ax_acc.text(v, i, f" {v:.3f}", va="center", fontsize=7)
            ax_acc.set_xlim(0, 1.15)
            ax_acc.set_xlabel("test accuracy")
            ax_loss.plot(np.arange(1, len(loss) + 1), loss, marker=".")
            ax_loss.set_xlabel("epoch")
            ax_loss.set_ylabel("LeNet-5 training loss")

        return save_figure(ctx, self.id, draw, figsize=(10, 4.5))
