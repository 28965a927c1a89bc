"""ViT-mini against a CNN on digits: patches as tokens learn to classify images, but with little data the CNN's
built-in locality and weight sharing do as well or better with far fewer parameters (seed 000 §6.2–6.3;
Dosovitskiy et al. 2021)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import nn, optim
from fukaku.models.transformer import ViT
from fukaku.train import fit
from fukaku.utils.data import DataLoader, TensorDataset

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ..cnn._images import ImageSplit, digit_images, mnist_or_digits, test_accuracy
from ..cnn.cnn_vs_mlp import small_cnn
from ....ops._parallel import blas_threads

QUICK = {"epochs": 10, "splits": 1}
FULL = {"epochs": 40, "splits": 3, "mnist_epochs": 10}
BATCH, LR, WEIGHT_DECAY = 32, 3e-3, 0.05
LEARNS = 0.9      # ViT-mini's test accuracy on the digits is at least this
MARGIN = 0.02     # … and the CNN's is at least the ViT's minus this


def vit_for(data: ImageSplit) -> ViT:
    """ViT-mini for the images of ``data``: 4×4 patches of the 8×8 digits (4 tokens and the class token), 7×7 of
    28×28 MNIST (16); d_model 64, 4 heads, 2 pre-LN layers."""
    size = data.x_train.shape[-1]
    return ViT(size, 4 if size == 8 else 7, 10, d_model=64, nhead=4, num_layers=2)


def parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def train(model: nn.Module, data: ImageSplit, epochs: int, seed: int) -> tuple[float, float, list[float]]:
    """AdamW with a cosine schedule; returns the test accuracy, the seconds, and the loss per epoch."""
    loader = DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=BATCH, shuffle=True,
                        generator=fk.Generator().manual_seed(seed))
    adamw = optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    start = time.perf_counter()
    history = fit(model, nn.CrossEntropyLoss(), adamw, loader, epochs=epochs, quiet=True,
                  scheduler=optim.lr_scheduler.CosineAnnealingLR(adamw, epochs))
    seconds = time.perf_counter() - start
    model.eval()
    return test_accuracy(model, data), seconds, [float(v) for v in history.loss]


class ViTVsCNN(Experiment, id="vit-vs-cnn", source="seed 000 §6.2–6.3; Dosovitskiy et al. 2021"):
    """ViT-mini learns digits; the CNN matches it with fewer parameters.

    The Vision Transformer treats an image as a sequence of patches (seed 000 §6.2–6.3: "ViT, patches as
    tokens"): a strided convolution embeds each patch, a class token and learned positions are added, and a
    Transformer encoder mixes them. It learns to classify the 8×8 digits (at least 90 % test accuracy), but it
    has no built-in locality or weight sharing, so on a small data set a CNN does at least as well (within 0.02)
    with far fewer parameters (Dosovitskiy et al.: ViT overtakes CNNs only with much more data). The full run
    repeats it over 3 splits and, with MNIST's files present, on MNIST (8,000 training images).
    """

    def measure(self, ctx: Context) -> Measurement:
        with blas_threads(1):   # small products: a second BLAS thread only waits (and spins on a busy machine)
            return self._measure(ctx)

    def _measure(self, ctx: Context) -> Measurement:
        config = QUICK if ctx.quick else FULL
        runs = {"ViT-mini": [], "CNN": []}
        curves, seconds = {}, {"ViT-mini": [], "CNN": []}
        for split in range(config["splits"]):
            data = digit_images(ctx.seed + split)
            for name, build in (("ViT-mini", lambda: vit_for(data)), ("CNN", small_cnn)):
                fk.manual_seed(ctx.seed + split)
                model = build()
                accuracy, took, losses = train(model, data, config["epochs"], ctx.seed + split)
                runs[name].append(accuracy)
                seconds[name].append(took)
                curves.setdefault(name, losses)
        values = {"8×8 digits: random splits, epochs": [config["splits"], config["epochs"]],
                  "digits: parameters": {"ViT-mini": parameters(vit_for(digit_images(0))),
                                         "CNN": parameters(small_cnn())},
                  "digits: test accuracy, mean over splits": {k: float(np.mean(v)) for k, v in runs.items()},
                  "digits: test accuracy per split": runs,
                  "digits: seconds to train, mean": {k: float(np.mean(v)) for k, v in seconds.items()}}
        data = None if ctx.quick else mnist_or_digits(ctx.seed)
        if data is not None and data.description.startswith("MNIST"):
            mnist = {}
            for name, build in (("ViT-mini", lambda: vit_for(data)), ("CNN", small_cnn_28)):
                fk.manual_seed(ctx.seed)
                model = build()
                mnist[name] = (train(model, data, config["mnist_epochs"], ctx.seed)[0], parameters(model))
            values["MNIST"] = data.description
            values["MNIST: test accuracy"] = {k: v[0] for k, v in mnist.items()}
            values["MNIST: parameters"] = {k: v[1] for k, v in mnist.items()}
        return Measurement(values=values, plot_data={"curves": curves})

    def checks(self, m: dict) -> list[Check]:
        accuracy, count = m["digits: test accuracy, mean over splits"], m["digits: parameters"]
        return [Check("ViT-mini learns the digits: test accuracy", accuracy["ViT-mini"], "≥", LEARNS),
                Check("CNN accuracy vs ViT-mini's − 0.02", accuracy["CNN"], "≥", accuracy["ViT-mini"] - MARGIN),
                Check("CNN parameters vs ViT-mini's", count["CNN"], "<", count["ViT-mini"])]

    summary_template = """Digits: ViT-mini {vit:.3f} with {vit_n:,} parameters, CNN {cnn:.3f} with {cnn_n:,}.
        Trained alike (AdamW, cosine schedule, {epochs} epochs, mean over {splits} split(s)), ViT-mini (4×4 patches,
        2 layers, d_model 64) reaches {vit:.3f} test accuracy on the 8×8 digits in {vit_s:.1f} s and the CNN
        {cnn:.3f} in {cnn_s:.1f} s with {ratio:.1f}× fewer parameters.{mnist}"""

    def summary_values(self, m: dict) -> dict:
        accuracy, count = m["digits: test accuracy, mean over splits"], m["digits: parameters"]
        seconds = m["digits: seconds to train, mean"]
        mnist = ""
        if "MNIST: test accuracy" in m:
            a, c = m["MNIST: test accuracy"], m["MNIST: parameters"]
            mnist = (f" On {m['MNIST']}: ViT-mini {a['ViT-mini']:.4f} ({c['ViT-mini']:,} parameters), CNN "
                     f"{a['CNN']:.4f} ({c['CNN']:,}).")
        return {"vit": accuracy["ViT-mini"], "cnn": accuracy["CNN"], "vit_n": count["ViT-mini"], "cnn_n": count["CNN"],
                "splits": m["8×8 digits: random splits, epochs"][0],
                "epochs": m["8×8 digits: random splits, epochs"][1],
                "vit_s": seconds["ViT-mini"], "cnn_s": seconds["CNN"], "ratio": count["ViT-mini"] / count["CNN"],
                "mnist": mnist}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        curves = measurement.plot_data["curves"]

        def draw(fig):
            ax = fig.subplots()
            for name, colour in (("ViT-mini", "#46c"), ("CNN", "#d64")):
                ax.plot(np.arange(1, len(curves[name]) + 1), curves[name], "o-", color=colour, label=name, ms=3)
            ax.set_yscale("log")
            ax.set(xlabel="epoch", ylabel="training loss", title="8×8 digits, first split")
            ax.legend(fontsize=8)

        return save_figure(ctx, self.id, draw)


def small_cnn_28() -> nn.Sequential:
    """The digits CNN widened for 28×28 MNIST: the same two conv blocks, then a 7×7 feature map into the head."""
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 7 * 7, 10))
