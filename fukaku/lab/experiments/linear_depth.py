"""Depth without nonlinearity buys nothing — seed 002 ch. 1: "a stack of linear layers is one linear
map; nonlinear activations give depth its power".

A network of L linear layers computes x ↦ W_L(⋯(W_1 x + b_1)⋯) + b_L = W x + b with
W = W_L⋯W_1 and b = Σ_l W_L⋯W_{l+1} b_l: one affine map, however deep. So it draws one straight
decision boundary and cannot separate XOR, while one hidden layer with a nonlinearity can.
"""
from __future__ import annotations

import numpy as np

import fukaku as fk
import fukaku.nn.functional as F
from fukaku import nn, optim

from ..plotting import save_figure
from ..registry import Context, Result, experiment

_XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
_XOR_Y = np.array([0.0, 1.0, 1.0, 0.0])


def _deep_linear(sizes: list[int]) -> nn.Sequential:
    """Linear layers of the given widths and no activation between them, float64."""
    return nn.Sequential(*[nn.Linear(a, b, dtype=fk.float64) for a, b in zip(sizes[:-1], sizes[1:])])


def collapse(net: nn.Sequential) -> tuple[np.ndarray, np.ndarray]:
    """The single affine map (W ``(out, in)``, b ``(out,)``) that a stack of ``nn.Linear`` layers computes:
    W ← W_l W, b ← W_l b + b_l, layer by layer."""
    first = net[0]
    W = np.eye(first.in_features)
    b = np.zeros(first.in_features)
    for layer in net:
        W_l, b_l = layer.weight.data, layer.bias.data
        W, b = W_l @ W, W_l @ b + b_l
    return W, b


def _relative_gap(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), np.finfo(np.float64).tiny))


@experiment(
    "deep-linear-one-matrix",
    title="A deep linear network is one matrix",
    source="seed 002 ch. 1",
    claim="A stack of linear layers is one linear map: the product of the weight matrices (with the biases "
          "carried through) reproduces the deep network's outputs.",
)
def deep_linear_one_matrix(ctx: Context) -> Result:
    depths = [2, 5, 10, 20] if ctx.quick else [2, 5, 10, 20, 50, 100]
    rng = ctx.rng()
    X = rng.normal(size=(512, 8))
    gaps, widths = {}, 32
    for depth in depths:
        net = _deep_linear([8] + [widths] * (depth - 1) + [3])
        with fk.no_grad():
            out = net(fk.tensor(X)).numpy()
        W, b = collapse(net)
        gaps[depth] = _relative_gap(X @ W.T + b, out)
    # A width-1 layer anywhere in the stack makes the whole map rank 1: depth cannot undo a bottleneck.
    bottleneck = _deep_linear([8, 32, 1, 32, 3])
    W_bottleneck, _ = collapse(bottleneck)
    rank = int(np.linalg.matrix_rank(W_bottleneck))
    tol = 1e-6
    worst = max(gaps.values())
    holds = bool(worst <= tol and rank == 1)

    def draw(fig):
        ax = fig.subplots()
        ax.semilogy(list(gaps), [max(g, 1e-18) for g in gaps.values()], "o-",
                    label="max |net(x) − (Wx + b)| / max |net(x)|")
        ax.axhline(tol, color="gray", linestyle=":", label=f"tolerance {tol:g}")
        ax.set_xlabel("number of linear layers")
        ax.set_ylabel("relative difference")
        ax.set_title("deep linear network vs its collapsed matrix (float64)")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, which="both")

    return Result(
        measured={"relative gap by depth": {str(k): v for k, v in gaps.items()}, "tolerance": tol,
                  "hidden width": widths, "inputs": int(len(X)),
                  "rank of the collapsed map with a width-1 layer (8 → 32 → 1 → 32 → 3)": rank},
        holds=holds,
        summary=(f"For {len(depths)} depths up to {max(depths)} layers the single matrix W = W_L⋯W_1 with "
                 f"b = Σ W_L⋯W_(l+1) b_l reproduces the network's outputs to {worst:.1e} relative (tolerance {tol:g}); "
                 f"a width-1 layer makes the collapsed map rank {rank}, whatever the depth around it."),
        figures=save_figure(ctx, "deep-linear-one-matrix", draw),
        headline=f"W_L⋯W_1 reproduces outputs to {worst:.1e} ≤ {tol:g} (depths {depths[0]}–{depths[-1]})",
    )


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


@experiment(
    "deep-linear-xor",
    title="A deep linear network cannot fit XOR; one nonlinear hidden layer can",
    source="seed 002 ch. 1",
    claim="However many linear layers are stacked, the network is one linear map and cannot represent XOR "
          "(at most 3 of the 4 points right, accuracy ≤ 75%); nonlinear activations give depth its power: "
          "one hidden layer with tanh fits XOR (100%).",
)
def deep_linear_xor(ctx: Context) -> Result:
    steps = 600 if ctx.quick else 5000
    linear_net = _deep_linear([2, 8, 8, 8, 8, 1])
    linear_losses = _train_xor(linear_net, steps, lr=0.01)
    tanh_net = nn.Sequential(nn.Linear(2, 8, dtype=fk.float64), nn.Tanh(), nn.Linear(8, 1, dtype=fk.float64))
    tanh_losses = _train_xor(tanh_net, steps, lr=0.01)
    X = fk.tensor(_XOR_X)
    with fk.no_grad():
        linear_logits, tanh_logits = linear_net(X).numpy(), tanh_net(X).numpy()
    W, b = collapse(linear_net)
    # Trained on XOR the logits shrink to ~0, so the gap is measured against max(1, |logit|) (log-odds units).
    collapse_gap = float(np.max(np.abs(_XOR_X @ W.T + b - linear_logits)) / max(1.0, np.max(np.abs(linear_logits))))
    linear_acc, tanh_acc = _accuracy(linear_logits), _accuracy(tanh_logits)
    affine_best = best_affine_accuracy(720 if ctx.quick else 3600, 601 if ctx.quick else 3001)
    holds = bool(linear_acc <= 0.75 and affine_best <= 0.75 and tanh_acc == 1.0 and collapse_gap <= 1e-6)

    def draw(fig):
        ax_l, ax_t, ax_c = fig.subplots(1, 3)
        g = np.linspace(-0.5, 1.5, 201)
        gx, gy = np.meshgrid(g, g)
        grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
        with fk.no_grad():
            for ax, net, name in ((ax_l, linear_net, "5 linear layers"), (ax_t, tanh_net, "1 tanh hidden layer")):
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
        ax_c.plot(linear_losses, label="5 linear layers")
        ax_c.plot(tanh_losses, label="1 tanh hidden layer")
        ax_c.axhline(np.log(2), color="gray", linestyle=":", label="ln 2 (chance)")
        ax_c.set_yscale("log")
        ax_c.set_xlabel("Adam step")
        ax_c.set_title("training loss (BCE)", fontsize=10)
        ax_c.legend(fontsize=8)

    return Result(
        measured={"deep linear accuracy": linear_acc, "deep linear final loss": linear_losses[-1],
                  "ln 2": float(np.log(2)),
                  "best accuracy of any affine classifier (grid search)": affine_best,
                  "collapsed-map gap after training": collapse_gap,
                  "tanh hidden layer accuracy": tanh_acc, "tanh final loss": tanh_losses[-1], "Adam steps": steps},
        holds=holds,
        summary=(f"After {steps} Adam steps the 5-layer linear network classifies {linear_acc:.0%} of XOR with loss "
                 f"{linear_losses[-1]:.4f} (ln 2 = {np.log(2):.4f}: it learns nothing), and it is still one affine map "
                 f"(gap {collapse_gap:.1e}); no affine classifier does better than {affine_best:.0%}. One tanh hidden "
                 f"layer of 8 units reaches {tanh_acc:.0%} (loss {tanh_losses[-1]:.2e})."),
        figures=save_figure(ctx, "deep-linear-xor", draw, figsize=(12, 4)),
        headline=(f"deep linear {linear_acc:.0%} ≤ 75% (best affine {affine_best:.0%}); "
                  f"tanh hidden layer {tanh_acc:.0%}"),
    )
