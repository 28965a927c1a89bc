"""Deep networks at initialisation (seed 000 §6.1.3): how the gradient travels back through 30 layers,
and ReLU units that a large negative bias kills for good.

The textbook's proxy: ∂L/∂W⁽ˡ⁾ ∝ Π_{k>l} W⁽ᵏ⁾ᵀ φ'(a⁽ᵏ⁾), so φ' ≤ 0.25 (sigmoid) makes the gradient vanish
geometrically toward the input, a product of factors ≫ 1 makes it explode, and the countermeasures
(the ReLU family with He initialisation, BatchNorm, residual connections) keep it from vanishing.
A ReLU whose pre-activation is negative on every input passes no gradient, so nothing can revive it;
LeakyReLU and PReLU keep a slope for z ≤ 0 and always pass some gradient.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

import fukaku as fk
from fukaku import datasets, nn, optim

from ..plotting import save_figure
from ..registry import Context, Result, experiment

# --------------------------------------------------------------------------------- vanishing / exploding
DEPTH = 30  # Linear layers, the last one the output layer (seed 000's check asks for 20–50)
LARGE_INIT_STD = 4.0  # "large-variance init": W ~ N(0, 4²/fan_in), 16× the Xavier/LeCun variance


def _linear(width: int, init: str) -> nn.Linear:
    """A ``width → width`` Linear with zero bias and the named weight initialisation."""
    layer = nn.Linear(width, width)
    nn.init.zeros_(layer.bias)
    if init == "xavier":
        nn.init.xavier_normal_(layer.weight)
    elif init == "he":
        nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    elif init == "large":
        nn.init.normal_(layer.weight, 0.0, LARGE_INIT_STD / math.sqrt(width))
    # "default": PyTorch's kaiming_uniform(a=√5) as Linear draws it, Var[w] = 1/(3·fan_in)
    return layer


def _plain(activation: Callable[[], nn.Module], init: str, batchnorm: bool = False):
    """Builder of an MLP of DEPTH Linear layers: (Linear [→ BatchNorm1d] → φ) × (DEPTH−1), then Linear."""

    def build(width: int) -> tuple[nn.Module, list[nn.Linear]]:
        layers, linears = [], []
        for _ in range(DEPTH - 1):
            lin = _linear(width, init)
            linears.append(lin)
            layers += [lin, nn.BatchNorm1d(width), activation()] if batchnorm else [lin, activation()]
        linears.append(_linear(width, init))
        return nn.Sequential(*layers, linears[-1]), linears

    return build


def _residual(width: int) -> tuple[nn.Module, list[nn.Linear]]:
    """(DEPTH−1) pre-activation residual blocks h ← h + W·ReLU(h) (He et al. 2016), then the output Linear."""
    blocks, linears = [], []
    for _ in range(DEPTH - 1):
        lin = _linear(width, "default")
        linears.append(lin)
        blocks.append(nn.Residual(nn.Sequential(nn.ReLU(), lin)))
    linears.append(_linear(width, "default"))
    return nn.Sequential(*blocks, linears[-1]), linears


_LARGE = f"tanh, large init (σ_w = {LARGE_INIT_STD:g}/√fan_in)"
# name → builder(width) -> (model, its Linear layers from input to output)
_NETWORKS = {
    "sigmoid, Xavier init": _plain(nn.Sigmoid, "xavier"),
    "tanh, Xavier init": _plain(nn.Tanh, "xavier"),
    "ReLU, He init": _plain(nn.ReLU, "he"),
    "sigmoid + BatchNorm": _plain(nn.Sigmoid, "default", batchnorm=True),
    "ReLU + BatchNorm": _plain(nn.ReLU, "default", batchnorm=True),
    "ReLU, residual": _residual,
    _LARGE: _plain(nn.Tanh, "large"),
}


def _layer_gradient_norms(build, width: int, batch: int, seed: int) -> np.ndarray:
    """‖∂L/∂W⁽ˡ⁾‖_F for l = 1..DEPTH at initialisation, ``(DEPTH,)``.

    L = Σ(out ⊙ r)/N with a fixed random r: a linear read-out, so the backward signal entering the top
    layer has the same size for every network and the profile shows only what backpropagation does to it.
    """
    fk.manual_seed(seed)
    model, linears = build(width)
    rng = np.random.default_rng(seed)
    x = fk.tensor(rng.standard_normal((batch, width)), dtype=fk.get_default_dtype())
    r = fk.tensor(rng.standard_normal((batch, width)), dtype=fk.get_default_dtype())
    loss = (model(x) * r).sum() / batch
    loss.backward()
    return np.array([np.linalg.norm(lin.weight.grad.numpy().astype(np.float64)) for lin in linears])


@experiment(
    "vanishing-gradients",
    title=f"Vanishing and exploding gradients in a {DEPTH}-layer MLP",
    source="seed 000 §6.1.3",
    claim=(f"At initialisation the per-layer gradient norm ‖∂L/∂W⁽ˡ⁾‖ of a {DEPTH}-layer MLP decays geometrically "
           "toward the input with sigmoid (first/last layer < 10⁻³), more slowly with tanh, stays about constant "
           "with ReLU + He init (within ×10 across layers); BatchNorm and residual connections keep it from "
           "vanishing (no layer below 1/10 of the output layer); a large-variance init makes it explode "
           "(first/last > 10³)."),
)
def vanishing_gradients(ctx: Context) -> Result:
    width, batch, seeds = (64, 128, 3) if ctx.quick else (128, 256, 6)
    log_norms = {}
    for name, build in _NETWORKS.items():
        runs = [_layer_gradient_norms(build, width, batch, ctx.seed + 1000 * s) for s in range(seeds)]
        log_norms[name] = np.mean(np.log10(runs), axis=0)  # geometric mean over seeds

    first_over_last = {n: float(10 ** (g[0] - g[-1])) for n, g in log_norms.items()}
    # the geometric-mean factor by which the norm changes per layer going down toward the input
    per_layer = {n: float(10 ** ((g[0] - g[-1]) / (DEPTH - 1))) for n, g in log_norms.items()}
    spread = {n: float(10 ** (g.max() - g.min())) for n, g in log_norms.items()}
    min_over_last = {n: float(10 ** (g.min() - g[-1])) for n, g in log_norms.items()}
    # straightness of the sigmoid decay: R² of a line through log-norm vs layer
    layers = np.arange(1, DEPTH + 1)
    g_sig = log_norms["sigmoid, Xavier init"]
    fit = np.polyval(np.polyfit(layers, g_sig, 1), layers)
    r2_sigmoid = float(1 - np.sum((g_sig - fit) ** 2) / np.sum((g_sig - g_sig.mean()) ** 2))

    countermeasures = ["sigmoid + BatchNorm", "ReLU + BatchNorm", "ReLU, residual"]
    checks = {
        "sigmoid vanishes geometrically (first/last < 1e-3, log-linear R² > 0.95)":
            first_over_last["sigmoid, Xavier init"] < 1e-3 and r2_sigmoid > 0.95,
        "tanh decays more slowly than sigmoid (per-layer factor closer to 1)":
            abs(math.log(per_layer["tanh, Xavier init"])) < abs(math.log(per_layer["sigmoid, Xavier init"])),
        "ReLU + He stays within ×10 across layers": spread["ReLU, He init"] < 10,
        "BatchNorm and residual: no layer below 1/10 of the output layer":
            all(min_over_last[n] >= 0.1 for n in countermeasures),
        "large init explodes (first/last > 1e3)": first_over_last[_LARGE] > 1e3,
    }
    holds = all(checks.values())

    def draw(fig):
        ax = fig.subplots()
        for name, g in log_norms.items():
            ax.plot(layers, 10 ** g, marker=".", label=name)
        ax.set_yscale("log")
        ax.set_xlabel("layer l (1 = input side)")
        ax.set_ylabel("‖∂L/∂W⁽ˡ⁾‖ (geometric mean over seeds)")
        ax.set_title(f"Gradient norm per layer at initialisation, {DEPTH} layers, width {width}")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7, loc="lower right")

    sig, tanh = per_layer["sigmoid, Xavier init"], per_layer["tanh, Xavier init"]
    bn_relu = per_layer["ReLU + BatchNorm"]
    failed = [k for k, ok in checks.items() if not ok]
    summary = (f"Going one layer toward the input the gradient norm is multiplied by {sig:.3f} with sigmoid "
               f"(first/last {first_over_last['sigmoid, Xavier init']:.1e}; σ' ≤ 0.25 is the textbook's bound), "
               f"by {tanh:.3f} with tanh, and by {per_layer[_LARGE]:.2f} with the large init (first/last "
               f"{first_over_last[_LARGE]:.1e}). ReLU + He varies by ×{spread['ReLU, He init']:.1f} "
               f"across layers. With BatchNorm or residual connections no layer falls below "
               f"{min(min_over_last[n] for n in countermeasures):.2f} of the output layer; ReLU + BatchNorm grows "
               f"by ×{bn_relu:.2f} per layer toward the input (BatchNorm's gradient growth at init, Yang et al. "
               f"2019)." + (f" Failed: {'; '.join(failed)}." if failed else ""))
    return Result(
        measured={"depth": DEPTH, "width": width, "batch": batch, "seeds": seeds,
                  "first/last layer gradient norm": first_over_last,
                  "per-layer factor toward the input": per_layer,
                  "max/min across layers": spread,
                  "min layer / output layer": min_over_last,
                  "sigmoid log-linear fit R²": r2_sigmoid,
                  "log10 gradient norm per layer": {n: np.round(g, 3).tolist() for n, g in log_norms.items()},
                  "checks": checks},
        holds=holds,
        summary=summary,
        figures=save_figure(ctx, "vanishing-gradients", draw, figsize=(8, 5)),
        headline=(f"per layer: sigmoid ×{sig:.2f}, tanh ×{tanh:.2f}, ReLU+He spread ×{spread['ReLU, He init']:.1f}, "
                  f"large init first/last {first_over_last[_LARGE]:.0e}"),
    )


# --------------------------------------------------------------------------------------------- dead ReLUs
DEAD_BIAS = -4.0  # the hidden bias: on the Playground's circle (|x| ≤ 5) it exceeds |w·x| for most units
HIDDEN = 32

_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "ReLU": nn.ReLU,
    "LeakyReLU(0.01)": lambda: nn.LeakyReLU(0.01),
    "PReLU (per unit, a₀ = 0.25)": lambda: nn.PReLU(HIDDEN, 0.25),
}


def _hidden_unit_gradients(model: nn.Sequential, loss_fn, x: fk.Tensor, target: fk.Tensor) -> np.ndarray:
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

    grad0, inactive0 = _hidden_unit_gradients(model, loss_fn, x, target), inactive()
    w0 = np.concatenate([model[0].weight.detach().numpy(), model[0].bias.detach().numpy()[:, None]], axis=1).copy()
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(x), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    grad1, inactive1 = _hidden_unit_gradients(model, loss_fn, x, target), inactive()
    w1 = np.concatenate([model[0].weight.detach().numpy(), model[0].bias.detach().numpy()[:, None]], axis=1)
    zero0, zero1 = grad0 == 0, grad1 == 0
    with fk.no_grad():
        accuracy = float(((model(x).numpy() > 0) == (target.numpy() > 0.5)).mean())
    return {"zero_grad_init": zero0, "zero_grad_end": zero1, "inactive_init": inactive0, "inactive_end": inactive1,
            "recovered": int(np.count_nonzero(zero0 & ~zero1)),
            "dead_moved": float(np.abs(w1 - w0)[zero0].max()) if zero0.any() else 0.0,
            "losses": np.array(losses), "accuracy": accuracy}


@experiment(
    "dead-relu",
    title="Dead ReLUs after a large negative bias, and LeakyReLU/PReLU",
    source="seed 000 §6.1.3, seed 003",
    claim=(f"ReLU passes no gradient for z ≤ 0: with a large negative bias ({DEAD_BIAS:g}) at least half the hidden "
           "units get exactly zero gradient over the whole data set and never recover (their weights never move) "
           "however long the net trains; with LeakyReLU or PReLU no unit has zero gradient and the net trains "
           "(training loss falls at least 5×, median over seeds)."),
)
def dead_relu(ctx: Context) -> Result:
    n, steps, seeds = (200, 300, 5) if ctx.quick else (500, 1500, 10)
    x, y = datasets.classify_circle(n, noise=0.0, seed=ctx.seed)
    target = (y > 0).float().reshape(-1, 1)
    runs = {name: [_train_with_bias(make, x, target, steps, ctx.seed + s) for s in range(seeds)]
            for name, make in _ACTIVATIONS.items()}

    def mean(name: str, key: str) -> float:
        return float(np.mean([r[key].mean() if isinstance(r[key], np.ndarray) else r[key] for r in runs[name]]))

    measured = {}
    for name, rs in runs.items():
        measured[name] = {
            "zero-gradient units at init (fraction)": mean(name, "zero_grad_init"),
            "zero-gradient units after training (fraction)": mean(name, "zero_grad_end"),
            "units inactive on all data at init (fraction)": mean(name, "inactive_init"),
            "units inactive on all data after training (fraction)": mean(name, "inactive_end"),
            "training loss at start (median over seeds)": float(np.median([r["losses"][0] for r in rs])),
            "training loss at end (median over seeds)": float(np.median([r["losses"][-1] for r in rs])),
            "training accuracy at end": mean(name, "accuracy"),
            "final/initial training loss (median over seeds)":
                float(np.median([r["losses"][-1] / r["losses"][0] for r in rs])),
            # a net whose every unit is negative on all points is linear in x (slope a): it cannot fit the circle
            "seeds stalled with every unit negative on all points":
                sum(bool(r["inactive_end"].all() and r["losses"][-1] > r["losses"][0] / 5) for r in rs),
        }
    measured["ReLU"].update({"zero-gradient units that recovered (total)": sum(r["recovered"] for r in runs["ReLU"]),
                             "max |change| of a zero-gradient unit's weights":
                                 max(r["dead_moved"] for r in runs["ReLU"])})
    relu = measured["ReLU"]
    others = [m for name, m in measured.items() if name != "ReLU"]
    # the dead-unit checks must hold in every seed; training is judged by the median seed (see the stalls)
    checks = {
        "ReLU: ≥ 50 % of units have zero gradient at init (every seed)":
            bool(min(r["zero_grad_init"].mean() for r in runs["ReLU"]) >= 0.5),
        "ReLU: no zero-gradient unit recovers, their weights never move":
            relu["zero-gradient units that recovered (total)"] == 0
            and relu["max |change| of a zero-gradient unit's weights"] == 0.0,
        "LeakyReLU/PReLU: no unit has zero gradient, before or after training":
            all(not r["zero_grad_init"].any() and not r["zero_grad_end"].any()
                for name, rs in runs.items() if name != "ReLU" for r in rs),
        "LeakyReLU/PReLU: the training loss falls at least 5× (median over seeds)":
            all(m["final/initial training loss (median over seeds)"] <= 1 / 5 for m in others),
    }
    holds = all(checks.values())

    def draw(fig):
        ax_bar, ax_loss = fig.subplots(1, 2)
        names = list(runs)
        pos = np.arange(len(names))
        for shift, key, label in ((-0.2, "zero-gradient units at init (fraction)", "at init"),
                                  (0.2, "zero-gradient units after training (fraction)", f"after {steps} steps")):
            bars = ax_bar.bar(pos + shift, [measured[k][key] for k in names], 0.4, label=label)
            ax_bar.bar_label(bars, labels=[f"{measured[k][key]:.0%}" for k in names], fontsize=8)
        ax_bar.set_xticks(pos, [k.split(" (")[0] for k in names])
        ax_bar.set_ylim(0, 1)
        ax_bar.set_ylabel("fraction of hidden units with zero gradient")
        ax_bar.set_title(f"Dead units (hidden bias {DEAD_BIAS:g})")
        ax_bar.legend()
        for name, rs in runs.items():
            ax_loss.plot(np.median([r["losses"] for r in rs], axis=0), label=name)
        ax_loss.set_yscale("log")
        ax_loss.set_xlabel("Adam step (full batch)")
        ax_loss.set_ylabel(f"training BCE (median over {seeds} seeds)")
        ax_loss.set_title("Training loss on the circle")
        ax_loss.grid(alpha=0.3, which="both")
        ax_loss.legend(fontsize=8)

    failed = [k for k, ok in checks.items() if not ok]
    leaky_loss = max(m["training loss at end (median over seeds)"] for m in others)
    dead_moved = relu["max |change| of a zero-gradient unit's weights"]
    leaky = measured["LeakyReLU(0.01)"]
    leaky_dead = max(m[k] for m in others for k in ("zero-gradient units at init (fraction)",
                                                     "zero-gradient units after training (fraction)"))
    stalls = {name: m["seeds stalled with every unit negative on all points"] for name, m in measured.items()
              if name != "ReLU" and m["seeds stalled with every unit negative on all points"]}
    stalled = "".join(f" {name.split(' (')[0]} stalled in {k} of {seeds} seeds with every unit negative on all points: "
                      "not dead (the gradient is nonzero) but linear in the input, which cannot fit the circle."
                      for name, k in stalls.items())
    start, end = "training loss at start (median over seeds)", "training loss at end (median over seeds)"
    inactive0 = "units inactive on all data at init (fraction)"
    inactive1 = "units inactive on all data after training (fraction)"
    summary = (f"With hidden biases at {DEAD_BIAS:g}, {relu['zero-gradient units at init (fraction)']:.0%} of the ReLU "
               f"units get exactly zero gradient over all {n} circle points; after {steps} Adam steps "
               f"{relu['zero-gradient units after training (fraction)']:.0%} are dead, "
               f"{relu['zero-gradient units that recovered (total)']} recovered and their weights moved by "
               f"{dead_moved:g}; the ReLU net's median loss goes from {relu[start]:.3f} to {relu[end]:.3f}. "
               f"LeakyReLU and PReLU have {leaky_dead:.0%} zero-gradient units and train to median losses of at "
               f"most {leaky_loss:.2g}; with LeakyReLU the share of units negative on every point goes from "
               f"{leaky[inactive0]:.0%} to {leaky[inactive1]:.0%}." + stalled
               + (f" Failed: {'; '.join(failed)}." if failed else ""))
    measured.update({"points": n, "steps": steps, "seeds": seeds, "hidden units": HIDDEN,
                     "hidden bias at init": DEAD_BIAS, "checks": checks})
    return Result(
        measured=measured, holds=holds, summary=summary,
        figures=save_figure(ctx, "dead-relu", draw, figsize=(10, 4)),
        headline=(f"ReLU dead {relu['zero-gradient units after training (fraction)']:.0%} "
                  f"({relu['zero-gradient units that recovered (total)']} recovered); Leaky/PReLU "
                  f"{leaky_dead:.0%} dead, "
                  f"median loss ≤ {leaky_loss:.2g}"),
    )
