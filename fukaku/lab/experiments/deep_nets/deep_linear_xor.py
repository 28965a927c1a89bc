"""A deep linear network cannot fit XOR; one hidden layer with a nonlinearity can (seed 002 ch. 1:
"nonlinear activations give depth its power")."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
import fukaku.nn.functional as F
from fukaku import nn, optim

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._linear_stack import collapse, deep_linear

_XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
_XOR_Y = np.array([0.0, 1.0, 1.0, 0.0])
_LINEAR_CEILING = 0.75  # an affine classifier gets at most 3 of the 4 XOR points right


def _train_xor(net: nn.Module, steps: int, lr: float) -> list[float]:
    """Full-batch Adam on the binary cross-entropy of the four XOR points; returns the loss per step."""
    X, y = fk.tensor(_XOR_X), fk.tensor(_XOR_Y)
    opt = optim.Adam(net.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(net(X).reshape(-1), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _accuracy(logits: np.ndarray) -> float:
    return float(np.mean((logits.reshape(-1) >= 0) == (_XOR_Y == 1)))


def best_affine_accuracy(n_angles: int, n_offsets: int) -> float:
    """The best accuracy on the four XOR points of any classifier 1[wᵀx + b ≥ 0], searched over unit
    directions w (n_angles) and offsets b covering every split of the points (n_offsets), all at once."""
    theta = np.linspace(0.0, 2 * np.pi, n_angles, endpoint=False)
    w = np.stack([np.cos(theta), np.sin(theta)], axis=1)  # (A, 2)
    offsets = np.linspace(-1.5, 1.5, n_offsets)  # |wᵀx| ≤ √2 on the unit square
    scores = (w @ _XOR_X.T)[:, None, :] + offsets[None, :, None]  # (A, B, 4)
    correct = (scores >= 0) == (_XOR_Y == 1)
    return float(correct.mean(axis=2).max())


class DeepLinearXor(Experiment, id="deep-linear-xor", source="seed 002 ch. 1"):
    """A deep linear network cannot fit XOR; one nonlinear hidden layer can.

    However many linear layers are stacked, the network is one linear map and cannot represent XOR (at
    most 3 of the 4 points right, accuracy ≤ 75%); nonlinear activations give depth its power: one hidden
    layer with tanh fits XOR (100%).
    """

    def measure(self, ctx: Context) -> Measurement:
        steps = 600 if ctx.quick else 5000
        linear_net = deep_linear([2, 8, 8, 8, 8, 1])
        linear_losses = _train_xor(linear_net, steps, lr=0.01)
        tanh_net = nn.Sequential(nn.Linear(2, 8, dtype=fk.float64), nn.Tanh(), nn.Linear(8, 1, dtype=fk.float64))
        tanh_losses = _train_xor(tanh_net, steps, lr=0.01)
        with fk.no_grad():
            linear_logits, tanh_logits = linear_net(fk.tensor(_XOR_X)).numpy(), tanh_net(fk.tensor(_XOR_X)).numpy()
        W, b = collapse(linear_net)
        # Trained on XOR the logits shrink to ~0, so the gap is measured against max(1, |logit|) (log-odds units).
        collapse_gap = float(np.max(np.abs(_XOR_X @ W.T + b - linear_logits)) / max(1.0, np.max(np.abs(linear_logits))))
        return Measurement(
            values={"deep linear accuracy": _accuracy(linear_logits), "deep linear final loss": linear_losses[-1],
                    "ln 2": float(np.log(2)),
                    "best accuracy of any affine classifier (grid search)":
                        best_affine_accuracy(720 if ctx.quick else 3600, 601 if ctx.quick else 3001),
                    "collapsed-map gap after training": collapse_gap,
                    "tanh hidden layer accuracy": _accuracy(tanh_logits), "tanh final loss": tanh_losses[-1],
                    "Adam steps": steps},
            plot_data={"networks": {"5 linear layers": linear_net, "1 tanh hidden layer": tanh_net},
                       "losses": {"5 linear layers": linear_losses, "1 tanh hidden layer": tanh_losses}})

    def checks(self, m: dict) -> list[Check]:
        return [Check("accuracy of the deep linear network", m["deep linear accuracy"], "≤", _LINEAR_CEILING),
                Check("best accuracy of any affine classifier",
                      m["best accuracy of any affine classifier (grid search)"], "≤", _LINEAR_CEILING),
                Check("accuracy of one tanh hidden layer", m["tanh hidden layer accuracy"], "=", 1.0),
                Check("the trained deep linear network vs its collapsed map (relative gap)",
                      m["collapsed-map gap after training"], "≤", 1e-6)]

    summary_template = """On XOR the deep linear network scores {m[deep linear accuracy]:.0%} ≤ {ceiling:.0%} (best
        affine {m[best accuracy of any affine classifier (grid search)]:.0%}); one tanh layer
        {m[tanh hidden layer accuracy]:.0%}. After {m[Adam steps]} Adam steps the 5-layer linear network's loss is
        {m[deep linear final loss]:.4f} (ln 2 = {m[ln 2]:.4f}: it learns nothing) and it is still one affine map
        (gap {m[collapsed-map gap after training]:.1e}); a grid search finds no affine classifier that does
        better. The tanh hidden layer of 8 units ends at loss {m[tanh final loss]:.2e}."""

    def summary_values(self, m: dict) -> dict:
        return {"ceiling": _LINEAR_CEILING}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        networks, losses = measurement.plot_data["networks"], measurement.plot_data["losses"]

        def draw(fig):
            *boundary_axes, ax_c = fig.subplots(1, 3)
            g = np.linspace(-0.5, 1.5, 201)
            gx, gy = np.meshgrid(g, g)
            grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
            with fk.no_grad():
                for ax, (name, net) in zip(boundary_axes, networks.items()):
                    p = F.sigmoid(net(fk.tensor(grid))).numpy().reshape(gx.shape)
                    ax.pcolormesh(gx, gy, p, vmin=0.0, vmax=1.0, cmap="RdBu_r", alpha=0.8, shading="auto")
                    if np.ptp(p) > 1e-6:
                        ax.contour(gx, gy, p, levels=[0.5], colors="k", linewidths=1)
                    else:  # a flat 0.5: the boundary would only trace rounding noise
                        ax.text(0.5, 0.5, f"P(y=1) = 0.5 everywhere\n(spread {np.ptp(p):.0e})", ha="center",
                                va="center", fontsize=9, bbox={"facecolor": "white", "alpha": 0.8})
                    ax.scatter(_XOR_X[:, 0], _XOR_X[:, 1], c=_XOR_Y, cmap="RdBu_r", edgecolors="k", s=80)
                    ax.set_title(name, fontsize=10)
                    ax.set_aspect("equal")
            for name, curve in losses.items():
                ax_c.plot(curve, label=name)
            ax_c.axhline(np.log(2), color="gray", linestyle=":", label="ln 2 (chance)")
            ax_c.set_yscale("log")
            ax_c.set_xlabel("Adam step")
            ax_c.set_title("training loss (BCE)", fontsize=10)
            ax_c.legend(fontsize=8)

        return save_figure(ctx, self.id, draw, figsize=(12, 4))
