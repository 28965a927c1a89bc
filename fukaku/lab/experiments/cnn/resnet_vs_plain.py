"""Plain networks train worse as they get deeper; the same networks with shortcuts (ResNets) do not
(seed 000 §6.2, seed 003 (residual networks); He et al. 2016 §4.2, Fig. 6)."""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import datasets, nn, optim
from fukaku.models.cnn import cifar_resnet
from fukaku.utils.data import DataLoader, TensorDataset

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._images import train_steps

# He et al. §4.2: SGD, momentum 0.9, weight decay 1e-4, learning rate 0.1 (with a warm-up for the deepest nets);
# here every network gets the same schedule: a linear warm-up over the first tenth of the steps, then a cosine to 0
# (the full run's ResNet-110 still jumps when the rate reaches 0.1, the instability He et al. warm up against).
LR, MOMENTUM, WEIGHT_DECAY, WARMUP = 0.1, 0.9, 1e-4, 0.1
QUICK = {"depths": (20, 56), "widths": (4, 8, 16), "batch": 32, "steps": 200}
FULL = {"depths": (20, 56, 110), "widths": (8, 16, 32), "batch": 64, "steps": 600}
TAIL = 0.2        # the final training loss: the mean mini-batch loss over the last fifth of the steps
TRAINS = 0.25     # "trains": the deepest ResNet's final loss is below this fraction of the initial ln 10
SMOOTH = 10       # the figure's moving average, in steps


def name(depth: int, residual: bool) -> str:
    return f"{'ResNet' if residual else 'plain'}-{depth}"


def training_curve(depth: int, residual: bool, images: fk.Tensor, labels: fk.Tensor, widths, batch: int,
                   steps: int, seed: int) -> tuple[np.ndarray, float]:
    """Train the CIFAR-style network of ``depth`` layers (with or without shortcuts) for ``steps`` SGD steps on
    ``images`` and return its mini-batch training losses and the seconds it took. Every network sees the same
    mini-batches (the loader's generator is seeded) and starts from weights drawn with the same seed."""
    fk.manual_seed(seed)
    model = cifar_resnet(depth, residual=residual, in_channels=images.shape[1], widths=widths)
    optimizer = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    scheduler = optim.lr_scheduler.LambdaLR(optimizer, lambda step: schedule(step, steps))
    loader = DataLoader(TensorDataset(images, labels), batch_size=batch, shuffle=True, drop_last=True,
                        generator=fk.Generator().manual_seed(seed))
    start = time.perf_counter()
    losses = train_steps(model, nn.CrossEntropyLoss(), optimizer, scheduler, loader, steps)
    return losses, time.perf_counter() - start


def schedule(step: int, steps: int) -> float:
    """The learning-rate factor at ``step``: a linear warm-up from 0.1 over the first ``WARMUP`` of the steps,
    then a cosine down to 0."""
    warmup = max(1, int(WARMUP * steps))
    if step < warmup:
        return 0.1 + 0.9 * step / warmup
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / (steps - warmup)))


def final_loss(curve: np.ndarray) -> float:
    """The mean of the last ``TAIL`` of a loss curve (mini-batch losses are noisy)."""
    return float(curve[-max(1, int(TAIL * len(curve))):].mean())


class ResNetVsPlain(Experiment, id="resnet-vs-plain",
                    source="seed 000 §6.2, seed 003 (residual networks); He et al. 2016 Fig. 6"):
    """Deep plain networks train worse than ResNets, and the deep ResNet trains.

    Stacking more layers makes a plain convolutional network (conv–BatchNorm–ReLU blocks, no shortcuts)
    harder to optimise: its training loss is higher than that of the shallower plain network
    (degradation), while the same network with identity shortcuts h⁽ˡ⁺¹⁾ = h⁽ˡ⁾ + F(h⁽ˡ⁾) trains (seed 000
    §6.2: the residual block lets networks of 100+ layers learn; He et al. 2016 Fig. 6). Measured on the
    8×8 digits with the CIFAR networks of He et al. §4.2 (6n + 2 layers, same steps, batches and schedule
    for all; depths 20 and 56 in the quick run, 20, 56 and 110 in the full run): beyond 20 layers the plain
    net ends with the higher training loss at every depth, each deeper plain net trains worse than the
    shallower one, the plain–ResNet gap grows with depth, and the deepest ResNet ends below 0.25·ln 10.
    """

    def measure(self, ctx: Context) -> Measurement:
        config = QUICK if ctx.quick else FULL
        images, labels = datasets.digits(flatten=False)
        images = ((images - images.mean()) / images.std()).unsqueeze(1)  # standardised, as transforms.Normalize
        curves, seconds = {}, {}
        for depth in config["depths"]:
            for residual in (False, True):
                key = name(depth, residual)
                curves[key], seconds[key] = training_curve(depth, residual, images, labels, config["widths"],
                                                           config["batch"], config["steps"], ctx.seed)
        final = {key: final_loss(curve) for key, curve in curves.items()}
        depths = config["depths"]
        gap = {f"plain-{d} − ResNet-{d}": final[name(d, False)] - final[name(d, True)] for d in depths}
        return Measurement(
            values={"task": f"8×8 digits, all {len(labels)} images, standardised",
                    "depths": list(depths), "stage widths": list(config["widths"]),
                    "SGD steps, batch size": [config["steps"], config["batch"]],
                    "initial loss ln 10": math.log(10),
                    "final training loss (mean of the last 20% of mini-batches)": final,
                    "plain − ResNet final loss": gap,
                    "parameters (plain = ResNet, option A shortcuts)": {
                        f"{d} layers": sum(p.numel() for p in cifar_resnet(
                            d, in_channels=1, widths=config["widths"]).parameters()) for d in depths},
                    "seconds to train": {key: round(s, 1) for key, s in seconds.items()}},
            plot_data={"curves": curves})

    def checks(self, m: dict) -> list[Check]:
        final, depths = m["final training loss (mean of the last 20% of mini-batches)"], m["depths"]
        gap = m["plain − ResNet final loss"]
        deep = depths[-1]
        checks = [Check(f"plain-{d} final training loss, vs ResNet-{d}'s", final[name(d, False)], ">",
                        final[name(d, True)]) for d in depths[1:]]
        checks += [Check(f"degradation: plain-{d} final training loss, vs plain-{prev}'s", final[name(d, False)], ">",
                         final[name(prev, False)]) for prev, d in zip(depths, depths[1:])]
        checks += [Check(f"plain − ResNet gap at depth {d}, vs at depth {prev}", gap[f"plain-{d} − ResNet-{d}"], ">",
                         gap[f"plain-{prev} − ResNet-{prev}"]) for prev, d in zip(depths, depths[1:])]
        checks.append(Check(f"ResNet-{deep} trains: final loss / ln 10", final[name(deep, True)] /
                            m["initial loss ln 10"], "<", TRAINS))
        return checks

    summary_template = """Final loss plain-{deep} {plain:.2f} vs ResNet-{deep} {resnet:.2f} (ln 10 = 2.30). After
        {m[SGD steps, batch size][0]} SGD steps of {m[SGD steps, batch size][1]} digits (widths {m[stage widths]}),
        training loss per depth: {per_depth}. Without shortcuts each added depth makes training worse; with them
        the deepest network still trains. He et al.'s Fig. 6 also has the deeper ResNets ending lower than the
        shallower ones, after 64k iterations on CIFAR-10; this small task and budget do not resolve that (a
        ResNet-20 already fits the 1,797 digits, and a deeper network, plain or not, starts more slowly)."""

    def summary_values(self, m: dict) -> dict:
        final, depths = m["final training loss (mean of the last 20% of mini-batches)"], m["depths"]
        deep = depths[-1]
        return {"deep": deep, "plain": final[name(deep, False)], "resnet": final[name(deep, True)],
                "per_depth": "; ".join(f"{d} layers: plain {final[name(d, False)]:.3g}, ResNet "
                                       f"{final[name(d, True)]:.3g}" for d in depths)}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        curves = measurement.plot_data["curves"]
        depths = measurement.values["depths"]
        colours = dict(zip(depths, ["#2a7", "#d64", "#46c", "#a4a"]))
        kernel = np.ones(SMOOTH) / SMOOTH

        def draw(fig):
            axes = fig.subplots(1, 2, sharey=True)
            for ax, residual in zip(axes, (False, True)):
                for d in depths:
                    curve = curves[name(d, residual)]
                    smooth = np.convolve(curve, kernel, mode="valid")
                    ax.plot(np.arange(SMOOTH, len(curve) + 1), smooth, color=colours[d],
                            linestyle="-" if residual else "--", label=name(d, residual))
                ax.axhline(math.log(10), color="#999", linewidth=0.8, linestyle=":")
                ax.set_yscale("log")  # near-zero losses of the fitted nets and the stuck plain ones in one view
                ax.set_xlabel("SGD step")
                ax.set_title("ResNets (identity shortcuts)" if residual else "plain networks", fontsize=9)
                ax.legend(fontsize=8)
            axes[0].set_ylabel(f"training loss (moving average of {SMOOTH} mini-batches)")

        return save_figure(ctx, self.id, draw, figsize=(10, 4))
