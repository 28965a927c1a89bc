"""The TensorFlow Playground exercise of seed 003, steps 1–4, replayed with fukaku.

The Playground trains a small MLP on 2-D points (inputs x₁, x₂) with a tanh output unit, targets ±1
and the loss ½(out − target)² averaged over the points, by mini-batch SGD (learning rate 0.03,
batch 10) on half the points, and shows the test loss and the decision boundary. Its weights start
at U(−0.5, 0.5) and its biases at 0.1; this replay does the same.

1. one hidden layer with the linear activation on the circle: a linear model, it cannot separate a disc
   from the ring around it (test loss stays near 0.5, that of predicting 0 for every point);
2. more linear units and layers: still a linear map, still ≈ 0.5;
3. relu, sigmoid or tanh: nonlinear boundaries enclose the disc (test loss near 0);
4. the spiral: tune the network for the lowest test loss.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import fukaku as fk
import fukaku.nn.functional as F
from fukaku import datasets, nn, optim
from fukaku.train import evaluate, fit
from fukaku.utils.data import DataLoader, TensorDataset

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

LR, BATCH = 0.03, 10  # the Playground's defaults

_ACTIVATIONS: dict[str, Callable[[], nn.Module] | None] = {
    "linear": None, "tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}

# steps 1–3 on the circle: (step, hidden sizes, activation)
_CIRCLE = [("step 1", [4], "linear"), ("step 2", [8, 8], "linear"),
           ("step 3", [4], "tanh"), ("step 3", [4], "relu"), ("step 3", [4], "sigmoid")]
# step 4, tuning on the spiral: (hidden sizes, activation, learning rate); seed 003's replica used the first two
_SPIRAL = [([8, 8], "tanh", LR), ([16, 16, 16], "relu", LR), ([16, 16, 16], "relu", 0.1)]

LINEAR_FLOOR = 0.4      # a linear model on the circle cannot get much below 0.5 (= predicting 0)
NONLINEAR_FACTOR = 4.0  # "≪": the nonlinear test loss is at most a quarter of the linear one
SPIRAL_LEVEL = 0.25     # seed 003's replica reached 0.17–0.22 after 300 epochs; chance is 0.5

_LINEAR, _NONLINEAR, _SPIRAL_KIND = "linear (steps 1–2)", "nonlinear (step 3)", "spiral (step 4)"
_BEST, _MEDIAN = "best test loss over seeds", "median test loss over seeds"


@dataclass(frozen=True)
class _Budget:
    """How much a run trains. Sigmoid units at lr 0.03 need ≈ 6000 SGD steps to enclose the disc (tanh and
    relu ≈ 2000), more than the quick variant can afford in seconds: the quick variant leaves sigmoid out."""

    points: int            # circle points (half for training)
    circle_epochs: int
    circle_seeds: int
    activations: tuple[str, ...]
    spiral_points: int
    spiral_epochs: int
    spiral_seeds: int
    spiral: tuple          # the step-4 candidates tried


_QUICK = _Budget(200, 200, 2, ("linear", "tanh", "relu"), 500, 60, 1, (_SPIRAL[2],))
_FULL = _Budget(500, 300, 5, ("linear", "tanh", "relu", "sigmoid"), 500, 300, 3, tuple(_SPIRAL))


def playground_net(hidden: list[int], activation: str) -> nn.Sequential:
    """2 → hidden… → 1 with ``activation`` between layers and a tanh output, initialised as the Playground."""
    make = _ACTIVATIONS[activation]
    layers, width = [], 2
    for size in hidden:
        layers.append(nn.Linear(width, size))
        if make is not None:  # "linear" is the identity activation
            layers.append(make())
        width = size
    model = nn.Sequential(*layers, nn.Linear(width, 1), nn.Tanh())
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.uniform_(layer.weight, -0.5, 0.5)
            nn.init.constant_(layer.bias, 0.1)
    return model


def half_squared_error(output: fk.Tensor, target: fk.Tensor) -> fk.Tensor:
    """The Playground's loss: ½(out − target)², averaged over the points. ``(N, 1)``, ``(N, 1)`` → scalar."""
    return 0.5 * F.mse_loss(output, target)


def _train(name: str, hidden: list[int], activation: str, n: int, epochs: int, seed: int, lr: float = LR) -> dict:
    """One Playground run: n points, half for training; returns the test-loss curve and the final losses."""
    x_tr, y_tr, x_te, y_te = datasets.playground(name, n=n, noise=0.0, seed=seed, test_fraction=0.5)
    y_tr, y_te = y_tr.reshape(-1, 1), y_te.reshape(-1, 1)
    fk.manual_seed(seed)
    model = playground_net(hidden, activation)
    train = DataLoader(TensorDataset(x_tr, y_tr), batch_size=BATCH, shuffle=True, generator=np.random.default_rng(seed))
    test = DataLoader(TensorDataset(x_te, y_te), batch_size=len(x_te))
    history = fit(model, half_squared_error, optim.SGD(model.parameters(), lr=lr), train, test, epochs=epochs,
                  metrics=(), quiet=True)
    train_all = DataLoader(TensorDataset(x_tr, y_tr), batch_size=len(x_tr))
    with fk.no_grad():
        accuracy = float(np.mean(np.sign(model.eval()(x_te).numpy()) == y_te.numpy()))
    return {"test": history.val_loss[-1], "train": evaluate(model, half_squared_error, train_all, metrics=())["loss"],
            "accuracy": accuracy, "curve": np.array(history.val_loss), "model": model,
            "points": (x_te.numpy(), y_te.numpy()[:, 0])}


def _median_run(runs: list[dict]) -> dict:
    """The run with the median test loss (the one drawn), so a lucky or unlucky seed is not the picture."""
    return sorted(runs, key=lambda r: r["test"])[(len(runs) - 1) // 2]


def _best_linear(m: dict) -> float:
    """The lowest test loss any linear network reached on the circle (steps 1–2)."""
    return min(m[_BEST][k] for k in m["networks"][_LINEAR])


class PlaygroundExercise(Experiment, id="playground", source="seed 003 (Playground exercise)"):
    """TensorFlow Playground exercise, steps 1–4.

    With the Playground's settings (lr 0.03, batch 10, 50 % training data, tanh output, loss ½(out −
    target)²): on the circle a hidden layer with the linear activation cannot separate the classes (test
    loss ≥ 0.4 in every run, ≈ 0.5), and more linear units do not help; relu, sigmoid and tanh draw
    nonlinear boundaries that do (test loss ≤ 1/4 of the best linear one; seed 003's replica: linear ≈
    0.50, tanh [4] ≈ 0.02, relu [4] ≈ 0.014); on the spiral a tuned network reaches a low test loss (≤
    0.25; replica: tanh [8, 8] ≈ 0.22, relu [16, 16, 16] ≈ 0.17).
    """

    def measure(self, ctx: Context) -> Measurement:
        budget = _QUICK if ctx.quick else _FULL
        runs: dict[str, list[dict]] = {}
        kinds: dict[str, list[str]] = {_LINEAR: [], _NONLINEAR: [], _SPIRAL_KIND: []}
        for step, hidden, act in _CIRCLE:
            if act not in budget.activations:
                continue
            key = f"{step}: circle {act} {hidden}"
            runs[key] = [_train("circle", hidden, act, budget.points, budget.circle_epochs, ctx.seed + s)
                         for s in range(budget.circle_seeds)]
            kinds[_LINEAR if act == "linear" else _NONLINEAR].append(key)
        for hidden, act, lr in budget.spiral:
            key = f"step 4: spiral {act} {hidden} lr {lr:g}"
            runs[key] = [_train("spiral", hidden, act, budget.spiral_points, budget.spiral_epochs, ctx.seed + s, lr=lr)
                         for s in range(budget.spiral_seeds)]
            kinds[_SPIRAL_KIND].append(key)
        # Steps 1–3 are claims about what an architecture can and cannot learn, so each is judged by its best
        # run over the seeds (a Playground user regenerates a stuck run): even the best linear run must stay
        # high, and the best nonlinear run must separate. Step 4's tuning picks the candidate with the lowest
        # median test loss. Medians and every run's loss are reported alongside.
        median = {k: float(np.median([r["test"] for r in rs])) for k, rs in runs.items()}
        return Measurement(
            values={_BEST: {k: float(min(r["test"] for r in rs)) for k, rs in runs.items()}, _MEDIAN: median,
                    "test loss of every run": {k: [round(r["test"], 4) for r in rs] for k, rs in runs.items()},
                    "test accuracy of every run": {k: [r["accuracy"] for r in rs] for k, rs in runs.items()},
                    "training loss (median over seeds)": {k: float(np.median([r["train"] for r in rs]))
                                                          for k, rs in runs.items()},
                    "tuned spiral network": min(kinds[_SPIRAL_KIND], key=median.get),
                    "not run (quick variant)": [a for a in _FULL.activations if a not in budget.activations],
                    "budget": {"circle points": budget.points, "circle epochs": budget.circle_epochs,
                               "circle seeds": budget.circle_seeds, "spiral points": budget.spiral_points,
                               "spiral epochs": budget.spiral_epochs, "spiral seeds": budget.spiral_seeds,
                               "learning rate (steps 1–3)": LR, "batch size": BATCH},
                    "networks": kinds},
            plot_data={"runs": runs})

    def checks(self, m: dict) -> list[Check]:
        best, networks, tuned = m[_BEST], m["networks"], m["tuned spiral network"]
        linear_best = _best_linear(m)
        return [*(Check(f"{key}: best test loss (a linear model cannot separate)", best[key], "≥", LINEAR_FLOOR)
                  for key in networks[_LINEAR]),
                *(Check(f"{key}: best test loss, at most 1/4 of the best linear one", best[key],
                        "≤", linear_best / NONLINEAR_FACTOR) for key in networks[_NONLINEAR]),
                Check(f"{tuned}: median test loss of the tuned network", m[_MEDIAN][tuned], "≤", SPIRAL_LEVEL)]

    summary_template = """Test loss on the circle: linear ≥ {linear_floor:.2f}, nonlinear ≤ {nonlinear_worst:.3f}; on
        the spiral, tuned {tuned_median:.3f}. On the circle the best linear runs end at test loss {linear_best}
        (steps 1–2); the best {nonlinear_names} runs at {nonlinear_best} (step 3; medians {nonlinear_medians}); the
        tuned spiral network ({tuned}) reaches a median {tuned_median:.3f} (step 4). {m[budget][circle seeds]}
        seeds on the circle ({m[budget][circle points]} points, {m[budget][circle epochs]} epochs),
        {m[budget][spiral seeds]} on the spiral ({m[budget][spiral points]} points, {m[budget][spiral epochs]}
        epochs).{left_out}"""

    def summary_values(self, m: dict) -> dict:
        best, median = m[_BEST], m[_MEDIAN]
        linear, nonlinear, tuned = m["networks"][_LINEAR], m["networks"][_NONLINEAR], m["tuned spiral network"]
        left_out = m["not run (quick variant)"]

        def losses(by_network: dict, networks: list[str]) -> str:
            return ", ".join(f"{by_network[k]:.3f}" for k in networks)

        return {"linear_floor": _best_linear(m), "nonlinear_worst": max(best[k] for k in nonlinear),
                "tuned": tuned.split(": ")[1], "tuned_median": median[tuned], "linear_best": losses(best, linear),
                "nonlinear_names": ", ".join(k.split()[3] for k in nonlinear),
                "nonlinear_best": losses(best, nonlinear), "nonlinear_medians": losses(median, nonlinear),
                "left_out": f" Quick variant: {', '.join(left_out)} not run (too slow at lr 0.03; the full run "
                            "measures it)." if left_out else ""}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        m, runs = measurement.values, measurement.plot_data["runs"]

        def draw_boundaries(fig):
            shown = [*m["networks"][_LINEAR], *m["networks"][_NONLINEAR], m["tuned spiral network"]]
            grid = np.linspace(-6, 6, 121)
            gx, gy = np.meshgrid(grid, grid)
            points = fk.tensor(np.stack([gx.ravel(), gy.ravel()], axis=1), dtype=fk.float32)
            for ax in fig.subplots(2, 3).flat:
                ax.set_axis_off()
            for ax, key in zip(fig.axes, shown):
                run = _median_run(runs[key])
                with fk.no_grad():
                    out = run["model"].eval()(points).numpy().reshape(gx.shape)
                ax.set_axis_on()
                ax.contourf(gx, gy, out, levels=np.linspace(-1, 1, 21), cmap="RdBu", alpha=0.8)
                x, y = run["points"]
                ax.scatter(x[:, 0], x[:, 1], c=y, cmap="RdBu", vmin=-1.5, vmax=1.5, s=6, edgecolors="k",
                           linewidths=0.2)
                ax.set_title(f"{key}\ntest loss {run['test']:.3f}", fontsize=8)
                ax.set_xticks([])
                ax.set_yticks([])

        def draw_curves(fig):
            ax = fig.subplots()
            for key, rs in runs.items():  # the best run of each network solid, its other seeds faint
                ordered = sorted(rs, key=lambda r: r["test"])
                line, = ax.plot(ordered[0]["curve"], label=key)
                for r in ordered[1:]:
                    ax.plot(r["curve"], color=line.get_color(), alpha=0.25, linewidth=0.8)
            ax.set_yscale("log")
            ax.set_xlabel("epoch")
            ax.set_ylabel("test loss ½(out − target)²")
            ax.set_title("Playground test loss per epoch (best seed solid, other seeds faint)")
            ax.grid(alpha=0.3, which="both")
            ax.legend(fontsize=7)

        return (save_figure(ctx, "playground-boundaries", draw_boundaries, figsize=(10, 7))
                + save_figure(ctx, "playground-test-loss", draw_curves, figsize=(8, 4.5)))
