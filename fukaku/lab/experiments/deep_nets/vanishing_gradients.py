"""Vanishing and exploding gradients at initialisation (seed 000 §6.1.3).

The textbook's proxy: ∂L/∂W⁽ˡ⁾ ∝ Π_{k>l} W⁽ᵏ⁾ᵀ φ'(a⁽ᵏ⁾), so φ' ≤ 0.25 (sigmoid) makes the gradient vanish
geometrically toward the input, a product of factors ≫ 1 makes it explode, and the countermeasures
(the ReLU family with He initialisation, BatchNorm, residual connections) keep it from vanishing.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import nn

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

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


SIGMOID, TANH, RELU_HE = "sigmoid, Xavier init", "tanh, Xavier init", "ReLU, He init"
LARGE = f"tanh, large init (σ_w = {LARGE_INIT_STD:g}/√fan_in)"
COUNTERMEASURES = ["sigmoid + BatchNorm", "ReLU + BatchNorm", "ReLU, residual"]
# name → builder(width) -> (model, its Linear layers from input to output)
NETWORKS = {
    SIGMOID: _plain(nn.Sigmoid, "xavier"),
    TANH: _plain(nn.Tanh, "xavier"),
    RELU_HE: _plain(nn.ReLU, "he"),
    "sigmoid + BatchNorm": _plain(nn.Sigmoid, "default", batchnorm=True),
    "ReLU + BatchNorm": _plain(nn.ReLU, "default", batchnorm=True),
    "ReLU, residual": _residual,
    LARGE: _plain(nn.Tanh, "large"),
}


def layer_gradient_norms(build, width: int, batch: int, seed: int) -> np.ndarray:
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


class VanishingGradients(Experiment, id="vanishing-gradients", source="seed 000 §6.1.3"):
    """Vanishing and exploding gradients in a 30-layer MLP.

    At initialisation the per-layer gradient norm ‖∂L/∂W⁽ˡ⁾‖ of a 30-layer MLP decays geometrically toward
    the input with sigmoid (first/last layer < 10⁻³), more slowly with tanh, stays about constant with
    ReLU + He init (within ×10 across layers); BatchNorm and residual connections keep it from vanishing
    (no layer below 1/10 of the output layer); a large-variance init makes it explode (first/last > 10³).
    """

    def measure(self, ctx: Context) -> Measurement:
        width, batch, seeds = (64, 128, 3) if ctx.quick else (128, 256, 6)
        log_norms = {}
        for name, build in NETWORKS.items():
            runs = [layer_gradient_norms(build, width, batch, ctx.seed + 1000 * s) for s in range(seeds)]
            log_norms[name] = np.mean(np.log10(runs), axis=0)  # geometric mean over seeds
        # straightness of the sigmoid decay: R² of a line through log-norm vs layer
        layers = np.arange(1, DEPTH + 1)
        g_sig = log_norms[SIGMOID]
        fit = np.polyval(np.polyfit(layers, g_sig, 1), layers)
        return Measurement(
            values={"depth": DEPTH, "width": width, "batch": batch, "seeds": seeds,
                    "first/last layer gradient norm": {n: float(10 ** (g[0] - g[-1])) for n, g in log_norms.items()},
                    # the geometric-mean factor by which the norm changes per layer going down toward the input
                    "per-layer factor toward the input":
                        {n: float(10 ** ((g[0] - g[-1]) / (DEPTH - 1))) for n, g in log_norms.items()},
                    "max/min across layers": {n: float(10 ** (g.max() - g.min())) for n, g in log_norms.items()},
                    "min layer / output layer": {n: float(10 ** (g.min() - g[-1])) for n, g in log_norms.items()},
                    "sigmoid log-linear fit R²":
                        float(1 - np.sum((g_sig - fit) ** 2) / np.sum((g_sig - g_sig.mean()) ** 2)),
                    "log10 gradient norm per layer": {n: np.round(g, 3).tolist() for n, g in log_norms.items()}},
            plot_data={"log10 gradient norm per layer": log_norms})

    def checks(self, m: dict) -> list[Check]:
        first_over_last, per_layer = m["first/last layer gradient norm"], m["per-layer factor toward the input"]
        return [Check("sigmoid: first/last layer gradient norm", first_over_last[SIGMOID], "<", 1e-3),
                Check("sigmoid: the decay is geometric (R² of log-norm vs layer)", m["sigmoid log-linear fit R²"],
                      ">", 0.95),
                Check("tanh: |log of the per-layer factor|, below sigmoid's", abs(math.log(per_layer[TANH])), "<",
                      abs(math.log(per_layer[SIGMOID]))),
                Check("ReLU + He: max/min across layers", m["max/min across layers"][RELU_HE], "<", 10),
                *(Check(f"{name}: smallest layer / output layer", m["min layer / output layer"][name], "≥", 0.1)
                  for name in COUNTERMEASURES),
                Check("large init: first/last layer gradient norm", first_over_last[LARGE], ">", 1e3)]

    summary_template = """Gradient per layer: sigmoid ×{sigmoid:.2f}, tanh ×{tanh:.2f}, large init ×{large:.2f};
        ReLU + He spread ×{relu_he_spread:.1f}. Going one layer toward the input the gradient norm is multiplied by
        {sigmoid:.3f} with sigmoid (first/last {sigmoid_first_over_last:.1e}; σ' ≤ 0.25 is the textbook's bound),
        by {tanh:.3f} with tanh, and by {large:.2f} with the large init (first/last {large_first_over_last:.1e});
        ReLU + He varies by that spread across layers. With BatchNorm or residual connections no layer falls below
        {countermeasures_min:.2f} of the output layer; ReLU + BatchNorm grows by
        ×{m[per-layer factor toward the input][ReLU + BatchNorm]:.2f} per layer toward the input (BatchNorm's
        gradient growth at init, Yang et al. 2019)."""

    def summary_values(self, m: dict) -> dict:
        first_over_last, per_layer = m["first/last layer gradient norm"], m["per-layer factor toward the input"]
        return {"sigmoid": per_layer[SIGMOID], "tanh": per_layer[TANH], "large": per_layer[LARGE],
                "sigmoid_first_over_last": first_over_last[SIGMOID], "large_first_over_last": first_over_last[LARGE],
                "relu_he_spread": m["max/min across layers"][RELU_HE],
                "countermeasures_min": min(m["min layer / output layer"][n] for n in COUNTERMEASURES)}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        log_norms, width = measurement.plot_data["log10 gradient norm per layer"], measurement.values["width"]

        def draw(fig):
            ax = fig.subplots()
            for name, g in log_norms.items():
                ax.plot(np.arange(1, DEPTH + 1), 10 ** g, marker=".", label=name)
            ax.set_yscale("log")
            ax.set_xlabel("layer l (1 = input side)")
            ax.set_ylabel("‖∂L/∂W⁽ˡ⁾‖ (geometric mean over seeds)")
            ax.set_title(f"Gradient norm per layer at initialisation, {DEPTH} layers, width {width}")
            ax.grid(alpha=0.3, which="both")
            ax.legend(fontsize=7, loc="lower right")

        return save_figure(ctx, self.id, draw, figsize=(8, 5))
