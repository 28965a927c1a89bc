"""The softmax demo of seed 003: fukaku's softmax against the numbers the notes print."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
import fukaku.nn.functional as F

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

# The numbers seed 003 prints for its softmax demo (9 significant digits).
_SOFTMAX_INPUT = [-5.0, -3.0, 0.0, 1.0, 10.0]
_SOFTMAX_PRINTED = [3.05849905e-07, 2.25994211e-06, 4.53921506e-05, 1.23388658e-04, 9.99828653e-01]
# Printed to 9 significant digits, each value carries a relative rounding error of at most 5e-9;
# 1e-8 allows that twice over and nothing more.
_SOFTMAX_RTOL = 1e-8


class SoftmaxDemo(Experiment, id="softmax-demo", source="seed 003 (softmax demo)"):
    """Softmax of [-5, -3, 0, 1, 10].

    softmax([-5, -3, 0, 1, 10]) = [3.05849905e-07 2.25994211e-06 4.53921506e-05 1.23388658e-04
    9.99828653e-01], and the probabilities sum to 1.
    """

    def measure(self, ctx: Context) -> Measurement:
        x = fk.tensor(_SOFTMAX_INPUT, dtype=fk.float64)
        p = F.softmax(x, dim=0).numpy()
        rel_err = np.abs(p / np.array(_SOFTMAX_PRINTED) - 1.0)
        # The same logits in float32, as a network would compute them: agreement to float32 precision.
        p32 = F.softmax(x.float(), dim=0).numpy().astype(np.float64)
        return Measurement({"softmax": p.tolist(), "max relative error vs printed": float(rel_err.max()),
                            "tolerance (relative)": _SOFTMAX_RTOL, "sum": float(p.sum()),
                            "float32 max relative error vs float64": float(np.max(np.abs(p32 / p - 1.0)))})

    def checks(self, m: dict) -> list[Check]:
        return [Check("max relative error vs the printed values", m["max relative error vs printed"], "≤",
                      _SOFTMAX_RTOL),
                Check("|sum of the probabilities − 1|", abs(m["sum"] - 1.0), "≤", 1e-12),
                Check("float32 vs float64: max relative error", m["float32 max relative error vs float64"], "≤",
                      1e-6)]

    summary_template = """fukaku's softmax matches the printed values to {m[max relative error vs printed]:.1e} ≤
        {m[tolerance (relative)]:g} and sums to {m[sum]:.15g}. The error is relative, the largest over the five
        values, and the tolerance twice the 9-digit printing precision; in float32 the values agree with float64
        to {m[float32 max relative error vs float64]:.1e}."""

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        p = np.array(measurement.values["softmax"])

        def draw(fig):
            ax = fig.subplots()
            idx = np.arange(len(p))
            ax.bar(idx, p, color="#6a6ad0", label="fukaku softmax (float64)")
            ax.plot(idx, _SOFTMAX_PRINTED, "k_", markersize=28, markeredgewidth=2, label="seed 003 (printed)")
            ax.set_yscale("log")
            ax.set_xticks(idx, [f"{v:g}" for v in _SOFTMAX_INPUT])
            ax.set_xlabel("logit")
            ax.set_ylabel("probability (log scale)")
            ax.set_title("softmax([-5, -3, 0, 1, 10])")
            ax.legend(loc="upper left")

        return save_figure(ctx, self.id, draw)
