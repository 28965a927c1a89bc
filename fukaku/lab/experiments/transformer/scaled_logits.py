"""Why attention divides by √d_k: for queries and keys with independent unit-variance entries, q·k has variance
d_k, so unscaled logits grow with the head size and the softmax saturates; q·k/√d_k keeps variance 1 (seed 000
§6.3, its second check)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import fukaku as fk
import fukaku.nn.functional as F

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

DIMS = (4, 16, 64, 256, 1024)
KEYS = 16  # keys per query for the softmax statistics
QUICK, FULL = 400, 4000  # queries per d_k (each against KEYS keys: KEYS logits per query)
TOLERANCE = 0.15  # |variance of the scaled logits − 1|
SLOPE = 0.05  # |slope of log Var(q·k) against log d_k − 1|: the unscaled variance grows as d_k
SATURATED = 0.9  # mean largest softmax weight that counts as a saturated (near one-hot) softmax


def logit_statistics(d: int, queries: int, rng: np.random.Generator) -> dict:
    """Variances of q·k and of q·k/√d for unit-normal q, k in R^d, and the mean largest softmax weight of each,
    over ``queries`` queries with KEYS keys each. The scaled softmax is the one F.scaled_dot_product_attention
    applies (read out with the identity as values)."""
    q = fk.tensor(rng.standard_normal((queries, 1, d)))
    k = fk.tensor(rng.standard_normal((queries, KEYS, d)))
    raw = (q @ k.mT).numpy()[:, 0]
    eye = fk.eye(KEYS, dtype=fk.float64).expand(queries, KEYS, KEYS)
    scaled_weights = F.scaled_dot_product_attention(q, k, eye).numpy()[:, 0]  # softmax(q·k/√d)
    raw_weights = F.softmax(fk.tensor(raw), -1).numpy()
    return {"var unscaled": float(raw.var()), "var scaled": float((raw / math.sqrt(d)).var()),
            "max weight unscaled": float(raw_weights.max(-1).mean()),
            "max weight scaled": float(scaled_weights.max(-1).mean())}


class ScaledLogitsVariance(Experiment, id="attention-scaling-variance", source="seed 000 §6.3, seed 001 §9.4"):
    """The √d_k scaling keeps the attention logits' variance ≈ 1.

    For q, k ∈ R^{d_k} with independent entries of mean 0 and variance 1, q·k = Σ q_j k_j has variance d_k, so the
    unscaled logits spread as the head grows and softmax(q·k) saturates towards one key (a near one-hot row whose
    gradient vanishes); dividing by √d_k, as softmax(QKᵀ/√d_k)V does, keeps the variance at 1 for every d_k.
    Measured for d_k = 4 … 1024 on random unit-normal queries and keys: the scaled variance is within 0.15 of 1
    while the unscaled one grows as d_k (log-log slope within 0.05 of 1); at d_k = 1024 the unscaled softmax puts on
    average
    more than 0.9 on its largest key (saturated) while the scaled one does not.
    """

    def measure(self, ctx: Context) -> Measurement:
        queries = QUICK if ctx.quick else FULL
        rng = ctx.rng()
        stats = {d: logit_statistics(d, queries, rng) for d in DIMS}
        return Measurement(values={
            "d_k": list(DIMS), "queries × keys per d_k": [queries, KEYS],
            "variance of q·k": [stats[d]["var unscaled"] for d in DIMS],
            "slope of log Var(q·k) against log d_k": float(np.polyfit(np.log(DIMS), np.log(
                [stats[d]["var unscaled"] for d in DIMS]), 1)[0]),
            "variance of q·k/√d_k": [stats[d]["var scaled"] for d in DIMS],
            "mean largest softmax weight, unscaled": [stats[d]["max weight unscaled"] for d in DIMS],
            "mean largest softmax weight, scaled": [stats[d]["max weight scaled"] for d in DIMS]})

    def checks(self, m: dict) -> list[Check]:
        scaled = m["variance of q·k/√d_k"]
        slope = m["slope of log Var(q·k) against log d_k"]
        return [Check("largest |variance of q·k/√d_k − 1| over d_k", max(abs(v - 1) for v in scaled), "≤",
                      TOLERANCE),
                Check("unscaled variance ∝ d_k: |log-log slope − 1|", abs(slope - 1), "≤", SLOPE),
                Check(f"unscaled softmax at d_k = {DIMS[-1]}: mean largest weight",
                      m["mean largest softmax weight, unscaled"][-1], "≥", SATURATED),
                Check(f"scaled softmax at d_k = {DIMS[-1]}: mean largest weight",
                      m["mean largest softmax weight, scaled"][-1], "<", SATURATED)]

    summary_template = """Var(q·k/√d_k) ∈ [{lo:.2f}, {hi:.2f}] for d_k = 4…1024; Var(q·k) grows as d_k.
        Unscaled, the logits' variance is {first:.1f} at d_k = 4 and {last:.0f} at d_k = 1024 (log-log slope
        {m[slope of log Var(q·k) against log d_k]:.3f}), and the softmax over {keys} keys puts on average
        {sat:.2f} on its largest key at d_k = 1024; scaled, it puts {ok:.2f} there, as at d_k = 4 ({ok4:.2f})."""

    def summary_values(self, m: dict) -> dict:
        scaled = m["variance of q·k/√d_k"]
        unscaled, scaled_max = m["mean largest softmax weight, unscaled"], m["mean largest softmax weight, scaled"]
        return {"lo": min(scaled), "hi": max(scaled), "first": m["variance of q·k"][0],
                "last": m["variance of q·k"][-1], "keys": KEYS, "sat": unscaled[-1], "ok": scaled_max[-1],
                "ok4": scaled_max[0]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        m = measurement.values

        def draw(fig):
            left, right = fig.subplots(1, 2)
            left.loglog(m["d_k"], m["variance of q·k"], "o-", label="q·k")
            left.loglog(m["d_k"], m["variance of q·k/√d_k"], "s-", label="q·k/√d_k")
            left.set(xlabel="d_k", ylabel="variance of the logits", title="logit variance")
            left.legend(fontsize=8)
            right.semilogx(m["d_k"], m["mean largest softmax weight, unscaled"], "o-", label="softmax(q·k)")
            right.semilogx(m["d_k"], m["mean largest softmax weight, scaled"], "s-", label="softmax(q·k/√d_k)")
            right.axhline(1 / KEYS, color="grey", lw=0.8, ls=":", label=f"uniform (1/{KEYS})")
            right.set(xlabel="d_k", ylabel="mean largest weight", title=f"saturation over {KEYS} keys", ylim=(0, 1.05))
            right.legend(fontsize=8)
        return save_figure(ctx, self.id, draw, figsize=(9, 3.6))
