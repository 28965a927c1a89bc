"""Dead ReLUs (seed 000 §6.1.3, seed 003): a ReLU whose pre-activation is negative on every input passes no
gradient, so nothing can revive it; LeakyReLU and PReLU keep a slope for z ≤ 0 and always pass some gradient."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import datasets, nn, optim

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

DEAD_BIAS = -4.0  # the hidden bias: on the Playground's circle (|x| ≤ 5) it exceeds |w·x| for most units
HIDDEN = 32
LOSS_DROP = 5.0   # "the net trains": the median training loss falls at least this many times

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "ReLU": nn.ReLU,
    "LeakyReLU(0.01)": lambda: nn.LeakyReLU(0.01),
    "PReLU (per unit, a₀ = 0.25)": lambda: nn.PReLU(HIDDEN, 0.25),
}
_LEAKY = [name for name in ACTIVATIONS if name != "ReLU"]

_START, _END = "training loss at start (median over seeds)", "training loss at end (median over seeds)"
_ZERO_INIT, _ZERO_END = "zero-gradient units at init (fraction)", "zero-gradient units after training (fraction)"
_INACTIVE_INIT = "units inactive on all data at init (fraction)"
_INACTIVE_END = "units inactive on all data after training (fraction)"
_RATIO = "final/initial training loss (median over seeds)"
_STALLED = "seeds stalled with every unit negative on all points"
_RECOVERED = "zero-gradient units that recovered (total)"
_DEAD_MOVED = "max |change| of a zero-gradient unit's weights"
_FEWEST_DEAD = "zero-gradient units at init, fewest over seeds (fraction)"


def hidden_unit_gradients(model: nn.Sequential, loss_fn, x: fk.Tensor, target: fk.Tensor) -> np.ndarray:
    """Σ over the whole data of |∂L/∂w_j| + |∂L/∂b_j| for each hidden unit j, ``(HIDDEN,)``."""
    model.zero_grad()
    loss_fn(model(x), target).backward()
    hidden = model[0]
    return np.abs(hidden.weight.grad.numpy()).sum(axis=1) + np.abs(hidden.bias.grad.numpy())


def _train_with_bias(make_act, x, target, steps: int, seed: int) -> dict:
    """A 2–HIDDEN–1 net whose hidden biases start at DEAD_BIAS, trained full-batch with Adam."""
    fk.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, HIDDEN), make_act(), nn.Linear(HIDDEN, 1))
    nn.init.constant_(model[0].bias, DEAD_BIAS)
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = optim.Adam(model.parameters(), lr=0.01)

    def inactive() -> np.ndarray:  # pre-activation ≤ 0 on every input
        with fk.no_grad():
            return ~(model[0](x).numpy() > 0).any(axis=0)

    grad0, inactive0 = hidden_unit_gradients(model, loss_fn, x, target), inactive()
    w0 = np.concatenate([model[0].weight.detach().numpy(), model[0].bias.detach().numpy()[:, None]], axis=1).copy()
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(x), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    grad1, inactive1 = hidden_unit_gradients(model, loss_fn, x, target), inactive()
    w1 = np.concatenate([model[0].weight.detach().numpy(), model[0].bias.detach().numpy()[:, None]], axis=1)
    zero0, zero1 = grad0 == 0, grad1 == 0
    with fk.no_grad():
        accuracy = float(((model(x).numpy() > 0) == (target.numpy() > 0.5)).mean())
    return {"zero_grad_init": zero0, "zero_grad_end": zero1, "inactive_init": inactive0, "inactive_end": inactive1,
            "recovered": int(np.count_nonzero(zero0 & ~zero1)),
            "dead_moved": float(np.abs(w1 - w0)[zero0].max()) if zero0.any() else 0.0,
            "losses": np.array(losses), "accuracy": accuracy}


def _summarise(runs: list[dict]) -> dict:
    """One activation's runs (one per seed) as reported numbers: means and medians over the seeds."""

    def mean(key: str) -> float:
        return float(np.mean([r[key].mean() if isinstance(r[key], np.ndarray) else r[key] for r in runs]))

    return {_ZERO_INIT: mean("zero_grad_init"), _ZERO_END: mean("zero_grad_end"),
            _INACTIVE_INIT: mean("inactive_init"), _INACTIVE_END: mean("inactive_end"),
            _START: float(np.median([r["losses"][0] for r in runs])),
            _END: float(np.median([r["losses"][-1] for r in runs])),
            "training accuracy at end": mean("accuracy"),
            _RATIO: float(np.median([r["losses"][-1] / r["losses"][0] for r in runs])),
            # a net whose every unit is negative on all points is linear in x (slope a): it cannot fit the circle
            _STALLED: sum(bool(r["inactive_end"].all() and r["losses"][-1] > r["losses"][0] / LOSS_DROP) for r in runs)}


def _leaky_extremes(m: dict) -> tuple[float, float]:
    """Over LeakyReLU and PReLU: the largest zero-gradient fraction (at init or after training) and the
    largest final training loss (median over seeds)."""
    others = [m[name] for name in _LEAKY]
    return max(o[k] for o in others for k in (_ZERO_INIT, _ZERO_END)), max(o[_END] for o in others)


class DeadRelu(Experiment, id="dead-relu", source="seed 000 §6.1.3, seed 003"):
    """Dead ReLUs after a large negative bias, and LeakyReLU/PReLU.

    ReLU passes no gradient for z ≤ 0: with a large negative bias (−4) at least half the hidden units get
    exactly zero gradient over the whole data set and never recover (their weights never move) however
    long the net trains; with LeakyReLU or PReLU no unit has zero gradient and the net trains (training
    loss falls at least 5×, median over seeds).
    """

    def measure(self, ctx: Context) -> Measurement:
        n, steps, seeds = (200, 300, 5) if ctx.quick else (500, 1500, 10)
        x, y = datasets.classify_circle(n, noise=0.0, seed=ctx.seed)
        target = (y > 0).float().reshape(-1, 1)
        runs = {name: [_train_with_bias(make, x, target, steps, ctx.seed + s) for s in range(seeds)]
                for name, make in ACTIVATIONS.items()}
        measured = {name: _summarise(rs) for name, rs in runs.items()}
        relu = runs["ReLU"]
        measured["ReLU"].update({_RECOVERED: sum(r["recovered"] for r in relu),
                                 _DEAD_MOVED: max(r["dead_moved"] for r in relu),
                                 # the dead-unit claim must hold in every seed, not only on average
                                 _FEWEST_DEAD: min(float(r["zero_grad_init"].mean()) for r in relu)})
        measured.update({"points": n, "steps": steps, "seeds": seeds, "hidden units": HIDDEN,
                         "hidden bias at init": DEAD_BIAS})
        return Measurement(measured, plot_data={
            "median loss curves": {name: np.median([r["losses"] for r in rs], axis=0) for name, rs in runs.items()}})

    def checks(self, m: dict) -> list[Check]:
        relu = m["ReLU"]
        # a mean fraction over seeds is 0 exactly when no unit of any seed has zero gradient;
        # training is judged by the median seed (the summary names the seeds that stall)
        return [Check(f"ReLU: {_FEWEST_DEAD}", relu[_FEWEST_DEAD], "≥", 0.5),
                Check(f"ReLU: {_RECOVERED}", relu[_RECOVERED], "=", 0),
                Check(f"ReLU: {_DEAD_MOVED}", relu[_DEAD_MOVED], "=", 0.0),
                *(Check(f"{name}: zero-gradient units before or after training (fraction, the larger)",
                        max(m[name][_ZERO_INIT], m[name][_ZERO_END]), "=", 0.0) for name in _LEAKY),
                *(Check(f"{name}: {_RATIO}", m[name][_RATIO], "≤", 1 / LOSS_DROP) for name in _LEAKY)]

    summary_template = """ReLU: {relu_dead:.0%} of units dead, {relu_recovered} recovered; Leaky/PReLU: {leaky_dead:.0%}
        dead, median loss ≤ {leaky_loss:.2g}. With hidden biases at {m[hidden bias at init]:g}, {relu_dead_init:.0%}
        of the ReLU units get exactly zero gradient over all {m[points]} circle points; after {m[steps]} Adam steps
        the dead units' weights moved by {relu_moved:g} and the ReLU net's median loss goes from
        {relu_start:.3f} to {relu_end:.3f}. With LeakyReLU the share of units negative on every point goes from
        {leaky_inactive_init:.0%} to {leaky_inactive_end:.0%}, and they still pass gradient.{stalled}"""

    def summary_values(self, m: dict) -> dict:
        relu, leaky = m["ReLU"], m["LeakyReLU(0.01)"]
        leaky_dead, leaky_loss = _leaky_extremes(m)
        stalled = "".join(f" {name.split(' (')[0]} stalled in {m[name][_STALLED]} of {m['seeds']} seeds with every "
                          "unit negative on all points: not dead (the gradient is nonzero) but linear in the input, "
                          "which cannot fit the circle." for name in _LEAKY if m[name][_STALLED])
        return {"relu_dead": relu[_ZERO_END], "relu_dead_init": relu[_ZERO_INIT], "relu_recovered": relu[_RECOVERED],
                "relu_moved": relu[_DEAD_MOVED], "relu_start": relu[_START], "relu_end": relu[_END],
                "leaky_dead": leaky_dead, "leaky_loss": leaky_loss, "leaky_inactive_init": leaky[_INACTIVE_INIT],
                "leaky_inactive_end": leaky[_INACTIVE_END], "stalled": stalled}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        m, curves = measurement.values, measurement.plot_data["median loss curves"]

        def draw(fig):
            ax_bar, ax_loss = fig.subplots(1, 2)
            names = list(ACTIVATIONS)
            pos = np.arange(len(names))
            for shift, key, label in ((-0.2, _ZERO_INIT, "at init"), (0.2, _ZERO_END, f"after {m['steps']} steps")):
                bars = ax_bar.bar(pos + shift, [m[k][key] for k in names], 0.4, label=label)
                ax_bar.bar_label(bars, labels=[f"{m[k][key]:.0%}" for k in names], fontsize=8)
            ax_bar.set_xticks(pos, [k.split(" (")[0] for k in names])
            ax_bar.set_ylim(0, 1)
            ax_bar.set_ylabel("fraction of hidden units with zero gradient")
            ax_bar.set_title(f"Dead units (hidden bias {DEAD_BIAS:g})")
            ax_bar.legend()
            for name, curve in curves.items():
                ax_loss.plot(curve, label=name)
            ax_loss.set_yscale("log")
            ax_loss.set_xlabel("Adam step (full batch)")
            ax_loss.set_ylabel(f"training BCE (median over {m['seeds']} seeds)")
            ax_loss.set_title("Training loss on the circle")
            ax_loss.grid(alpha=0.3, which="both")
            ax_loss.legend(fontsize=8)

        return save_figure(ctx, self.id, draw, figsize=(10, 4))
