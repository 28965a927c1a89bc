"""Depth without nonlinearity buys nothing (seed 002 ch. 1): a deep linear network is one matrix, and a
width-1 layer anywhere makes that matrix rank 1."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._linear_stack import collapse, deep_linear

_TOL = 1e-6
_WIDTH = 32


def _relative_gap(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), np.finfo(np.float64).tiny))


def _worst_gap(m: dict) -> float:
    """The largest relative gap between a network and its collapsed map, over the depths."""
    return max(m["relative gap by depth"].values())


class DeepLinearOneMatrix(Experiment, id="deep-linear-one-matrix", source="seed 002 ch. 1"):
    """A deep linear network is one matrix.

    A stack of linear layers is one linear map: the product of the weight matrices (with the biases
    carried through) reproduces the deep network's outputs.
    """

    def measure(self, ctx: Context) -> Measurement:
        depths = [2, 5, 10, 20] if ctx.quick else [2, 5, 10, 20, 50, 100]
        rng = ctx.rng()
        X = rng.normal(size=(512, 8))
        gaps = {}
        for depth in depths:
            net = deep_linear([8] + [_WIDTH] * (depth - 1) + [3])
            with fk.no_grad():
                out = net(fk.tensor(X)).numpy()
            W, b = collapse(net)
            gaps[str(depth)] = _relative_gap(X @ W.T + b, out)
        # A width-1 layer anywhere in the stack makes the whole map rank 1: depth cannot undo a bottleneck.
        W_bottleneck, _ = collapse(deep_linear([8, 32, 1, 32, 3]))
        return Measurement({"relative gap by depth": gaps, "tolerance": _TOL, "hidden width": _WIDTH,
                            "inputs": int(len(X)),
                            "rank of the collapsed map with a width-1 layer (8 → 32 → 1 → 32 → 3)":
                                int(np.linalg.matrix_rank(W_bottleneck))})

    def checks(self, m: dict) -> list[Check]:
        return [Check("largest relative gap between the network and W_L⋯W_1 over the depths",
                      _worst_gap(m), "≤", _TOL),
                Check("rank of the collapsed map with a width-1 layer",
                      m["rank of the collapsed map with a width-1 layer (8 → 32 → 1 → 32 → 3)"], "=", 1)]

    summary_template = """W_L⋯W_1 reproduces the outputs to {worst_gap:.1e} ≤ {m[tolerance]:g} at depths
        {shallowest}–{deepest}. The gap is relative, the largest over {depths} depths, for the single matrix
        W = W_L⋯W_1 with b = Σ W_L⋯W_(l+1) b_l; a width-1 layer makes the collapsed map rank
        {m[rank of the collapsed map with a width-1 layer (8 → 32 → 1 → 32 → 3)]}, whatever the depth around it."""

    def summary_values(self, m: dict) -> dict:
        depths = [int(d) for d in m["relative gap by depth"]]
        return {"worst_gap": _worst_gap(m), "shallowest": depths[0], "deepest": depths[-1], "depths": len(depths)}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        gaps = measurement.values["relative gap by depth"]

        def draw(fig):
            ax = fig.subplots()
            ax.semilogy([int(d) for d in gaps], [max(g, 1e-18) for g in gaps.values()], "o-",
                        label="max |net(x) − (Wx + b)| / max |net(x)|")
            ax.axhline(_TOL, color="gray", linestyle=":", label=f"tolerance {_TOL:g}")
            ax.set_xlabel("number of linear layers")
            ax.set_ylabel("relative difference")
            ax.set_title("deep linear network vs its collapsed matrix (float64)")
            ax.legend(fontsize=8)
            ax.grid(alpha=0.3, which="both")

        return save_figure(ctx, self.id, draw)
