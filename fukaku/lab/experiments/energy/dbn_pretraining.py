"""Greedy layer-wise RBM pretraining of a deep belief network against random initialisation, with few labels:
accuracy and speed of fine-tuning (seed 000 §6.1.5)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
import fukaku.nn.functional as F
from fukaku import datasets, optim
from fukaku.models.energy import DBN

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ..generative._common import DIGITS_TEST

SIZES = [64, 64, 32]
LABELS = 100                   # labelled training digits for fine-tuning (pretraining sees all 1,437, unlabelled)
QUICK = {"seeds": 2, "pretrain epochs": 20, "fine-tune epochs": 30}
FULL = {"seeds": 8, "pretrain epochs": 20, "fine-tune epochs": 60}
LOSS_TARGET = 0.5              # "converged": the training cross-entropy is at most this
RANDOM_STD = 1 / np.sqrt(64)   # the random baseline's weights: N(0, 1/fan_in)


def binarised_digits(seed: int):
    """The 8×8 digits binarised at ½, the held-out fifth split as in the generative experiments."""
    x, y = datasets.digits(return_tensors=False)
    order = np.random.default_rng(seed).permutation(len(x))
    x = (x > 0.5).astype(np.float32)
    return x[order[DIGITS_TEST:]], y[order[DIGITS_TEST:]], x[order[:DIGITS_TEST]], y[order[:DIGITS_TEST]]


def fine_tune(model: DBN, x: np.ndarray, y: np.ndarray, epochs: int, seed: int) -> list[float]:
    """Adam (lr 0.01) on mini-batches of 32; returns the training cross-entropy after each epoch."""
    opt = optim.Adam(model.parameters(), lr=1e-2)
    rng, xt, yt, losses = np.random.default_rng(seed), fk.tensor(x), fk.tensor(y), []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), 32):
            idx = fk.tensor(order[i:i + 32])
            loss = F.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with fk.no_grad():
            losses.append(float(F.cross_entropy(model(xt), yt).item()))
    return losses


def epochs_to(losses: list[float], target: float) -> int:
    """The first epoch (1-based) whose training loss is ≤ target; len + 1 when none is."""
    hits = np.flatnonzero(np.asarray(losses) <= target)
    return int(hits[0]) + 1 if len(hits) else len(losses) + 1


class DBNPretraining(Experiment, id="dbn-pretraining", source="seed 000 §6.1.5"):
    """Greedy RBM pretraining helps a deep network learn from few labels.

    A deep belief network is a stack of RBMs trained greedily, each on the hidden probabilities of the one below,
    with a softmax head on top; the whole network is then fine-tuned by backpropagation. On the binarised 8×8
    digits (a 64–64–32 sigmoid network, pretrained by CD-1 on all 1,437 unlabelled training digits, fine-tuned on
    100 labelled ones), the pretrained network reaches a higher test accuracy than the same network from a random
    N(0, 1/fan_in) start, averaged over seeds, and its training loss falls below 0.5 in fewer epochs.
    """

    def measure(self, ctx: Context) -> Measurement:
        cfg = QUICK if ctx.quick else FULL
        x, y, x_test, y_test = binarised_digits(ctx.seed)
        runs = {"pretrained": [], "random": []}
        first_layer_errors = []
        for s in range(cfg["seeds"]):
            for kind in runs:
                generator = fk.Generator().manual_seed(ctx.seed + 100 * s + 1)
                model = DBN(SIZES, 10, init_std=0.01 if kind == "pretrained" else RANDOM_STD, generator=generator)
                if kind == "pretrained":
                    history = model.pretrain(fk.tensor(x), epochs=cfg["pretrain epochs"], lr=0.1, generator=generator)
                    first_layer_errors.append((history[0][0], history[0][-1]))
                losses = fine_tune(model, x[:LABELS], y[:LABELS], cfg["fine-tune epochs"], ctx.seed + s)
                with fk.no_grad():
                    accuracy = float((model(fk.tensor(x_test)).argmax(1).numpy() == y_test).mean())
                runs[kind].append({"accuracy": accuracy, "losses": losses,
                                   "epochs to target": epochs_to(losses, LOSS_TARGET)})
        mean = {k: float(np.mean([r["accuracy"] for r in v])) for k, v in runs.items()}
        speed = {k: float(np.mean([r["epochs to target"] for r in v])) for k, v in runs.items()}
        return Measurement(values={
            "seeds": cfg["seeds"], "labelled digits": LABELS, "fine-tune epochs": cfg["fine-tune epochs"],
            "pretrain epochs per layer": cfg["pretrain epochs"],
            "test accuracy, pretrained (mean)": mean["pretrained"], "test accuracy, random init (mean)": mean["random"],
            "test accuracy per seed, pretrained": [r["accuracy"] for r in runs["pretrained"]],
            "test accuracy per seed, random init": [r["accuracy"] for r in runs["random"]],
            "epochs to training loss ≤ 0.5, pretrained (mean)": speed["pretrained"],
            "epochs to training loss ≤ 0.5, random init (mean)": speed["random"],
            "first RBM's reconstruction error, first → last epoch": [float(v) for v in
                                                                     np.mean(first_layer_errors, axis=0)],
        }, plot_data={k: [r["losses"] for r in v] for k, v in runs.items()})

    def checks(self, m: dict) -> list[Check]:
        return [Check("mean test accuracy: pretrained − random init", m["test accuracy, pretrained (mean)"]
                      - m["test accuracy, random init (mean)"], "≥", 0.0),
                Check("mean epochs to training loss ≤ 0.5: pretrained − random init",
                      m["epochs to training loss ≤ 0.5, pretrained (mean)"]
                      - m["epochs to training loss ≤ 0.5, random init (mean)"], "≤", 0.0),
                Check("pretraining lowered the first RBM's reconstruction error (last / first epoch)",
                      m["first RBM's reconstruction error, first → last epoch"][1]
                      / m["first RBM's reconstruction error, first → last epoch"][0], "<", 1.0)]

    summary_template = """Pretraining gave {m[test accuracy, pretrained (mean)]:.1%} test accuracy against
        {m[test accuracy, random init (mean)]:.1%} from random. A 64–64–32 sigmoid DBN on the binarised digits,
        pretrained by CD-1 ({m[pretrain epochs per layer]} epochs per layer, all training digits unlabelled) and
        fine-tuned with Adam on {m[labelled digits]} labelled digits for {m[fine-tune epochs]} epochs, averaged
        over {m[seeds]} seeds; its training loss fell below 0.5 after
        {m[epochs to training loss ≤ 0.5, pretrained (mean)]:.1f} epochs against
        {m[epochs to training loss ≤ 0.5, random init (mean)]:.1f} from a random N(0, 1/fan_in) start."""

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        d = measurement.plot_data

        def draw(fig):
            ax = fig.subplots()
            for kind, color in (("pretrained", "C0"), ("random", "C1")):
                for i, losses in enumerate(d[kind]):
                    ax.plot(range(1, len(losses) + 1), losses, color=color, alpha=0.7,
                            label=("DBN-pretrained" if kind == "pretrained" else "random init") if i == 0 else None)
            ax.axhline(LOSS_TARGET, color="k", ls="--", lw=0.8)
            ax.set(xlabel="fine-tuning epoch", ylabel="training cross-entropy", yscale="log",
                   title=f"fine-tuning on {LABELS} labelled digits")
            ax.legend()

        return save_figure(ctx, self.id, draw)
