"""A CNN classifies digits more accurately than multilayer perceptrons with more parameters (seed 004 §3.3,
seed 001 §9.2; LeCun et al. 1998)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import nn, optim
from fukaku.models import MLP
from fukaku.models.cnn import LeNet5
from fukaku.train import fit
from fukaku.utils.data import DataLoader, TensorDataset

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._images import DIGITS_TEST, ImageSplit, digit_images, mnist_or_digits, test_accuracy

HIDDEN = (100, 300, 1000)   # the MLPs' hidden widths (one hidden ReLU layer), as in LeCun et al. 1998's comparison
SPLITS_QUICK, SPLITS = 3, 5  # random train/test splits of the 8×8 digits
DIGITS_EPOCHS, MNIST_EPOCHS = 40, 10
BATCH, LR = 32, 2e-3        # Adam, the rate annealed to 0 over the epochs (cosine), the same for every network


def small_cnn() -> nn.Sequential:
    """The CNN for 8×8 digits: conv 3×3 (16) → BatchNorm → ReLU → 2×2 max pool → conv 3×3 (32) → BatchNorm →
    ReLU → 2×2 max pool → Linear(128 → 10): 6,186 parameters, fewer than any of the MLPs."""
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 2 * 2, 10))


def parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def train(model: nn.Module, data: ImageSplit, epochs: int, seed: int) -> tuple[float, float]:
    """Train ``model`` on ``data`` (images flattened for an MLP) by Adam; return its test accuracy and seconds."""
    flat = isinstance(model, MLP)
    x_train = data.x_train.flatten(1) if flat else data.x_train
    loader = DataLoader(TensorDataset(x_train, data.y_train), batch_size=BATCH, shuffle=True,
                        generator=fk.Generator().manual_seed(seed))
    adam = optim.Adam(model.parameters(), lr=LR)
    start = time.perf_counter()
    fit(model, nn.CrossEntropyLoss(), adam, loader, epochs=epochs, quiet=True,
        scheduler=optim.lr_scheduler.CosineAnnealingLR(adam, epochs))
    seconds = time.perf_counter() - start
    model.eval()
    if flat:
        data = data._replace(x_test=data.x_test.flatten(1))
    return test_accuracy(model, data), seconds


def compare(data: ImageSplit, networks: dict, epochs: int, seed: int) -> dict[str, tuple[float, int, float]]:
    """Every network of ``networks`` (name → constructor) trained on ``data``: name → (test accuracy, parameters,
    seconds)."""
    results = {}
    for name, build in networks.items():
        fk.manual_seed(seed)
        model = build()
        accuracy, seconds = train(model, data, epochs, seed)
        results[name] = (accuracy, parameters(model), seconds)
    return results


def mlps(inputs: int, batchnorm: bool = False) -> dict:
    """The MLPs compared, name → constructor: one hidden ReLU layer of each width of ``HIDDEN``."""
    suffix = " (BatchNorm)" if batchnorm else ""
    return {f"MLP {inputs}-{h}-10{suffix}": (lambda h=h: MLP([inputs, h, 10], batchnorm=batchnorm)) for h in HIDDEN}


class CNNVsMLP(Experiment, id="cnn-vs-mlp", source="seed 004 §3.3, seed 001 §9.2; LeCun et al. 1998"):
    """A CNN beats MLPs on digits with fewer parameters.

    Sparse connectivity and parameter sharing (seed 004 §3.3; seed 001 §9.2: the weights are shared within
    a channel, so few parameters are learned) suit images: a convolutional network classifies handwritten
    digits more accurately than multilayer perceptrons with many more parameters. On the 8×8 digits (mean
    over 3 random splits in the quick run, 5 in the full run) a 6,186-parameter CNN has a higher test
    accuracy than MLPs with one hidden layer of 100, 300 or 1,000 units (7,710 to 77,010 parameters; both
    kinds with BatchNorm, trained alike), and in the full run, with MNIST's files present (t10k split
    8,000/2,000), LeNet-5 (61,706 parameters) beats MLPs of 79,510 to 795,010 parameters (neither with
    BatchNorm, as in LeCun et al. 1998).
    """

    def measure(self, ctx: Context) -> Measurement:
        splits = SPLITS_QUICK if ctx.quick else SPLITS
        digits_networks = {"CNN": small_cnn, **mlps(64, batchnorm=True)}
        runs = [compare(digit_images(ctx.seed + split), digits_networks, DIGITS_EPOCHS, ctx.seed + split)
                for split in range(splits)]
        values = {"8×8 digits: train / test images": [1797 - DIGITS_TEST, DIGITS_TEST], "random splits": splits,
                  "epochs (digits, MNIST)": [DIGITS_EPOCHS, MNIST_EPOCHS],
                  "digits: parameters": {name: runs[0][name][1] for name in digits_networks},
                  "digits: test accuracy, mean over splits": {
                      name: float(np.mean([run[name][0] for run in runs])) for name in digits_networks},
                  "digits: test accuracy per split": {name: [run[name][0] for run in runs] for name in digits_networks},
                  "digits: seconds to train, mean": {
                      name: float(np.mean([run[name][2] for run in runs])) for name in digits_networks}}
        data = None if ctx.quick else mnist_or_digits(ctx.seed)
        if data is not None and data.description.startswith("MNIST"):  # the full run, with MNIST's files present
            mnist = compare(data, {"LeNet-5": LeNet5, **mlps(784)}, MNIST_EPOCHS, ctx.seed)
            values["MNIST"] = data.description
            values["MNIST: parameters"] = {name: result[1] for name, result in mnist.items()}
            values["MNIST: test accuracy"] = {name: result[0] for name, result in mnist.items()}
            values["MNIST: seconds to train"] = {name: result[2] for name, result in mnist.items()}
        return Measurement(values=values)

    def checks(self, m: dict) -> list[Check]:
        checks = []
        for data, cnn in (("digits", "CNN"), ("MNIST", "LeNet-5")):
            if f"{data}: parameters" not in m:
                continue
            accuracy = m[f"{data}: test accuracy, mean over splits" if data == "digits" else f"{data}: test accuracy"]
            count = m[f"{data}: parameters"]
            rivals = [name for name in count if name != cnn]
            best = max(rivals, key=lambda name: accuracy[name])
            checks += [Check(f"{data}: {cnn} test accuracy, vs the best MLP's ({best})", accuracy[cnn], ">",
                             accuracy[best]),
                       Check(f"{data}: {cnn} parameters, vs the smallest MLP's", count[cnn], "<",
                             min(count[name] for name in rivals))]
        return checks

    summary_template = """Digits: CNN {cnn:.3f} with {cnn_count:,} parameters vs best MLP {best:.3f} with
        {best_count:,}. On the 8×8 digits (mean over {m[random splits]} random splits, {test_images} test images
        each) the CNN reaches {cnn:.3f} test accuracy with {cnn_count:,} parameters; the MLPs: {mlps}.{mnist}"""

    def summary_values(self, m: dict) -> dict:
        accuracy, count = m["digits: test accuracy, mean over splits"], m["digits: parameters"]
        best = max((name for name in accuracy if name != "CNN"), key=lambda name: accuracy[name])
        if "MNIST: test accuracy" in m:
            mnist, mcount = m["MNIST: test accuracy"], m["MNIST: parameters"]
            on_mnist = f" On {m['MNIST']}: " + ", ".join(f"{name} {mnist[name]:.4f} ({mcount[name]:,})"
                                                        for name in mnist) + "."
        else:
            on_mnist = " (The full run with MNIST's files present adds LeNet-5 against MLPs on MNIST.)"
        return {"cnn": accuracy["CNN"], "cnn_count": count["CNN"], "best": accuracy[best], "best_count": count[best],
                "test_images": m["8×8 digits: train / test images"][1],
                "mlps": ", ".join(f"{name} {accuracy[name]:.3f} ({count[name]:,})" for name in accuracy if name != "CNN"),
                "mnist": on_mnist}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        m = measurement.values
        panels = [("digits", "digits: test accuracy, mean over splits", "CNN")]
        if "MNIST: test accuracy" in m:
            panels.append(("MNIST", "MNIST: test accuracy", "LeNet-5"))

        def draw(fig):
            for ax, (data, key, cnn) in zip(np.atleast_1d(fig.subplots(1, len(panels))), panels):
                accuracy, count = m[key], m[f"{data}: parameters"]
                for name in accuracy:
                    ax.scatter(count[name], accuracy[name], s=40, color="#d64" if name == cnn else "#46c",
                               marker="*" if name == cnn else "o", zorder=3)
                    ax.annotate(name, (count[name], accuracy[name]), fontsize=7, xytext=(4, -10),
                                textcoords="offset points")
                ax.set_xscale("log")
                ax.tick_params(axis="x", which="minor", labelbottom=False)
                ax.set_xlabel("parameters")
                ax.set_ylabel("test accuracy")
                ax.set_title(f"{data}: CNN (star) vs MLPs", fontsize=9)
                ax.grid(alpha=0.3)

        return save_figure(ctx, self.id, draw, figsize=(5.5 * len(panels), 4))
