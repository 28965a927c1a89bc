"""Parameter counts of dense and convolutional layers: sparse connectivity and parameter sharing (seed 004 §3.3)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import nn
from fukaku.autograd.functional import jacobian

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

N = M = 32  # 1-D: N inputs, M outputs ('same' padding keeps M = N)
K = 3       # kernel size
# 2-D layers (L input channels, P kernels of side 2n + 1) on square images of these sides
LAYERS_2D = {"LeNet C1 (L=1, P=6, 5×5)": (1, 6, 2), "(L=3, P=16, 3×3)": (3, 16, 1), "(L=16, P=32, 3×3)": (16, 32, 1)}
SIDES = (8, 12, 16)


def weights(module: nn.Module) -> int:
    """The number of weights of a layer (its ``weight`` tensor; the biases are counted apart)."""
    return module.weight.numel()


def jacobian_structure(layer: nn.Module, n: int) -> tuple[int, int, int]:
    """∂y/∂x of a 1-D layer at a random input: (nonzero entries, most nonzeros in one row, distinct nonzero values)."""
    x = fk.randn(1, 1, n, dtype=fk.float64) if isinstance(layer, nn.Conv1d) else fk.randn(1, n, dtype=fk.float64)
    jac = jacobian(lambda v: layer(v), x).detach().numpy().reshape(-1, n)
    nonzero = jac != 0
    return int(nonzero.sum()), int(nonzero.sum(axis=1).max()), len(np.unique(jac[nonzero]))


class ConvParameterCounts(Experiment, id="conv-parameter-counts", source="seed 004 §3.3"):
    """Parameter counts: dense vs convolutional layers.

    For N inputs and M outputs a dense layer has N·M independent weights and every output depends on every
    input; a convolution with kernel size K connects each output to K inputs (sparse connectivity: K·M
    connections, fewer at the zero-padded borders) and shares one kernel across positions (parameter
    sharing: K weights, the K distinct entries of ∂y/∂x). With L input channels and P kernels of side
    2n + 1 a conv layer has (2n + 1)²·L·P weights (+ P biases), whatever the image size, while the dense
    layer with the same input and output sizes has (L·H·W)·(P·H·W).
    """

    def measure(self, ctx: Context) -> Measurement:
        fk.manual_seed(ctx.seed)
        dense, conv = nn.Linear(N, M, dtype=fk.float64), nn.Conv1d(1, 1, K, padding=K // 2, dtype=fk.float64)
        dense_nonzero, dense_row, _ = jacobian_structure(dense, N)
        conv_nonzero, conv_row, conv_distinct = jacobian_structure(conv, N)
        counts_2d, mismatches = {}, 0
        sides = SIDES[:2] if ctx.quick else SIDES
        for name, (channels, kernels, n) in LAYERS_2D.items():
            layer = nn.Conv2d(channels, kernels, 2 * n + 1, padding=n)
            closed = (2 * n + 1) ** 2 * channels * kernels
            mismatches += int(weights(layer) != closed) + int(layer.bias.numel() != kernels)
            row = {"conv weights": weights(layer), "closed form (2n+1)²·L·P": closed}
            for side in sides:
                inputs, outputs = channels * side * side, kernels * side * side
                if inputs * outputs <= 2_000_000:  # small enough to build: count a real nn.Linear
                    row[f"dense weights at {side}×{side}"] = weights(nn.Linear(inputs, outputs))
                    mismatches += int(row[f"dense weights at {side}×{side}"] != inputs * outputs)
                else:
                    row[f"dense weights at {side}×{side} (closed form)"] = inputs * outputs
            counts_2d[name] = row
        return Measurement(
            values={"1-D: dense weights": weights(dense), "1-D: conv weights": weights(conv),
                    "1-D: dense ∂y/∂x nonzeros": dense_nonzero, "1-D: dense inputs per output": dense_row,
                    "1-D: conv ∂y/∂x nonzeros": conv_nonzero, "1-D: conv inputs per output (most)": conv_row,
                    "1-D: conv distinct values in ∂y/∂x": conv_distinct,
                    "1-D: closed form of the conv nonzeros K·M − (K² − 1)/4": K * M - (K * K - 1) // 4,
                    "2-D weight counts": counts_2d, "2-D: counts differing from the closed forms": mismatches,
                    "N, M, K": [N, M, K]},
            plot_data={"conv jacobian": jacobian(lambda v: conv(v), fk.randn(1, 1, N, dtype=fk.float64))
                       .detach().numpy().reshape(N, N),
                       "dense jacobian": dense.weight.detach().numpy()})

    def checks(self, m: dict) -> list[Check]:
        return [Check("1-D dense layer: weights = N·M", m["1-D: dense weights"], "=", N * M),
                Check("1-D dense layer: every output depends on all N inputs", m["1-D: dense ∂y/∂x nonzeros"], "=",
                      N * M),
                Check("1-D conv: weights = K (parameter sharing)", m["1-D: conv weights"], "=", K),
                Check("1-D conv: distinct nonzero values of ∂y/∂x = K (one shared kernel)",
                      m["1-D: conv distinct values in ∂y/∂x"], "=", K),
                Check("1-D conv: inputs per output ≤ K (sparse connectivity)", m["1-D: conv inputs per output (most)"],
                      "=", K),
                Check("1-D conv: connections = K·M less the padded borders' (K² − 1)/4",
                      m["1-D: conv ∂y/∂x nonzeros"], "=", m["1-D: closed form of the conv nonzeros K·M − (K² − 1)/4"]),
                Check("2-D: weight and bias counts differing from (2n+1)²·L·P, P and (L·H·W)·(P·H·W)",
                      m["2-D: counts differing from the closed forms"], "=", 0)]

    summary_template = """N = M = {N}, K = {K}: dense {m[1-D: dense weights]} weights, conv {m[1-D: conv weights]};
        {m[1-D: conv ∂y/∂x nonzeros]} of {NM} connections. The dense layer's Jacobian is full; the convolution's
        has at most {m[1-D: conv inputs per output (most)]} nonzeros per output (K·M = {KM} connections, less the
        zero-padded borders) and only {m[1-D: conv distinct values in ∂y/∂x]} distinct values: its K weights. In
        2-D, LeNet's first layer has {lenet_conv} weights at every image size, the dense layer with its input and
        output sizes {lenet_dense:,} at {dense_side}; every count equals its closed form."""

    def summary_values(self, m: dict) -> dict:
        lenet = m["2-D weight counts"]["LeNet C1 (L=1, P=6, 5×5)"]
        dense = next(k for k in lenet if k.startswith("dense"))
        return {"N": N, "K": K, "NM": N * M, "KM": K * M, "lenet_conv": lenet["conv weights"],
                "lenet_dense": lenet[dense], "dense_side": dense.split(" at ")[1]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        data, counts = measurement.plot_data, measurement.values["2-D weight counts"]

        def draw(fig):
            ax_dense, ax_conv, ax_counts = fig.subplots(1, 3)
            for ax, name in ((ax_dense, "dense"), (ax_conv, "conv")):
                jac = data[f"{name} jacobian"]
                limit = np.abs(jac).max()
                ax.imshow(jac, cmap="coolwarm", vmin=-limit, vmax=limit)
                ax.set_title(f"{name}: ∂y/∂x ({N}×{N})", fontsize=9)
                ax.set_xlabel("input")
                ax.set_ylabel("output")
            for name, row in counts.items():
                sides = [int(k.split(" at ")[1].split("×")[0]) for k in row if k.startswith("dense")]
                dense = [v for k, v in row.items() if k.startswith("dense")]
                line = ax_counts.plot(sides, dense, marker="o", label=f"dense, {name}")[0]
                ax_counts.plot(sides, [row["conv weights"]] * len(sides), marker="s", linestyle="--",
                               color=line.get_color())
            ax_counts.set_yscale("log")
            ax_counts.set_xlabel("image side H = W")
            ax_counts.set_ylabel("weights (dashed: conv)")
            ax_counts.set_title("2-D layers", fontsize=9)
            ax_counts.legend(fontsize=6)

        return save_figure(ctx, self.id, draw, figsize=(11, 3.8))
