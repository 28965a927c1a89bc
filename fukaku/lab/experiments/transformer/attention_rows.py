"""Attention weights are probabilities: each query's weights over the keys are non-negative and sum to 1, masked
keys get exactly 0 (seed 000 §6.3, its first check)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
import fukaku.nn.functional as F
from fukaku import nn

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

BATCH, HEADS, LENGTH, DIM = 8, 4, 24, 16
SCALE = 1.5  # spread of the queries and keys: logits of a few units, so rows range from flat to peaked


def weights(q: fk.Tensor, k: fk.Tensor, **masks) -> np.ndarray:
    """The attention matrix A = softmax(q kᵀ/√d + mask) that ``F.scaled_dot_product_attention`` applies, read out by
    attending over the identity: with V = I, A V = A."""
    eye = fk.eye(k.shape[-2], dtype=q.dtype).expand(*k.shape[:-1], k.shape[-2])
    return F.scaled_dot_product_attention(q, k, eye, **masks).numpy()


class AttentionRowsSumToOne(Experiment, id="attention-rows-sum-to-one", source="seed 000 §6.3, seed 001 §9.4"):
    """Attention rows sum to 1.

    The weights α_i = softmax_i(qᵀk_i/√d_k) that attention puts on the keys are probabilities: every weight is ≥ 0
    and each query's weights sum to 1 (seed 000 §6.3), so the output Σ α_i v_i is a convex combination of the
    values. With a mask, excluded keys get weight exactly 0 and the rest still sum to 1. Measured on
    F.scaled_dot_product_attention (no mask, a random boolean mask, the causal mask) and on the weights
    nn.MultiheadAttention returns, in float32: |row sum − 1| ≤ 1e-5.
    """

    def measure(self, ctx: Context) -> Measurement:
        rng = ctx.rng()
        q, k = (fk.tensor(rng.normal(0, SCALE, (BATCH, HEADS, LENGTH, DIM)).astype(np.float32)) for _ in range(2))
        keep = rng.random((BATCH, 1, LENGTH, LENGTH)) > 0.5
        keep[..., 0] = True  # every query keeps a key
        cases = {"no mask": weights(q, k), "random boolean mask": weights(q, k, attn_mask=fk.tensor(keep)),
                 "causal mask": weights(q, k, is_causal=True)}
        mha = nn.MultiheadAttention(HEADS * DIM, HEADS, batch_first=True)
        x = fk.tensor(rng.normal(0, 1, (BATCH, LENGTH, HEADS * DIM)).astype(np.float32))
        with fk.no_grad():
            cases["nn.MultiheadAttention (per head)"] = mha(x, x, x, average_attn_weights=False)[1].numpy()
        causal_excluded = ~np.tri(LENGTH, dtype=bool)
        return Measurement(
            values={"max |row sum − 1|": {name: float(np.abs(a.sum(-1) - 1).max()) for name, a in cases.items()},
                    "smallest weight": {name: float(a.min()) for name, a in cases.items()},
                    "largest weight on a masked key": {
                        "random boolean mask": float(np.abs(cases["random boolean mask"][np.broadcast_to(
                            ~keep, cases["random boolean mask"].shape)]).max()),
                        "causal mask": float(np.abs(cases["causal mask"][..., causal_excluded]).max())},
                    "largest weight (how peaked a row can be)": float(cases["no mask"].max()),
                    "rows checked": sum(a.size // a.shape[-1] for a in cases.values())},
            plot_data={"maps": {name: a[0, 0] for name, a in cases.items()}})

    def checks(self, m: dict) -> list[Check]:
        rows, smallest, masked = m["max |row sum − 1|"], m["smallest weight"], m["largest weight on a masked key"]
        return [*(Check(f"{name}: max |row sum − 1| (float32)", rows[name], "≤", 1e-5) for name in rows),
                Check("smallest weight of any case", min(smallest.values()), "≥", 0.0),
                *(Check(f"{name}: largest weight on an excluded key", masked[name], "=", 0.0) for name in masked)]

    summary_template = """Rows sum to 1 within {worst:.1e} in all {m[rows checked]} rows; masked keys get 0.
        Without a mask, with a random boolean mask, with the causal mask and in nn.MultiheadAttention's returned
        weights, no weight is negative (smallest {low:.1e}) and rows can be peaked (largest weight
        {m[largest weight (how peaked a row can be)]:.3f}) yet still sum to 1."""

    def summary_values(self, m: dict) -> dict:
        return {"worst": max(m["max |row sum − 1|"].values()), "low": min(m["smallest weight"].values())}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        maps = measurement.plot_data["maps"]

        def draw(fig):
            axes = fig.subplots(1, len(maps))
            for ax, (name, a) in zip(axes, maps.items()):
                ax.imshow(a, cmap="viridis", vmin=0, vmax=1)
                ax.set_title(name, fontsize=7)
                ax.set(xlabel="key", ylabel="query" if ax is axes[0] else None)
        return save_figure(ctx, self.id, draw, figsize=(10, 3))
