"""The perceptron never converges on XOR, which is not linearly separable; on AND it does (seed 000 §6.1.1)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku.models import Perceptron

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
_XOR = np.array([-1.0, 1.0, 1.0, -1.0])
_AND = np.array([-1.0, -1.0, -1.0, 1.0])


class PerceptronXor(Experiment, id="perceptron-xor", source="seed 000 §6.1.1"):
    """The perceptron never converges on XOR.

    XOR is not linearly separable, so the perceptron rule keeps making mistakes: no epoch is mistake-free
    (on AND, which is separable, it converges).
    """

    def measure(self, ctx: Context) -> Measurement:
        budget = 1000 if ctx.quick else 100_000
        fit_xor = Perceptron(2, dtype=fk.float64).fit(_X, _XOR, max_epochs=budget, seed=ctx.seed)
        fit_and = Perceptron(2, dtype=fk.float64).fit(_X, _AND, max_epochs=budget, seed=ctx.seed)
        return Measurement(
            values={"epoch budget": budget, "XOR converged": fit_xor.converged, "XOR epochs run": fit_xor.epochs,
                    "XOR fewest mistakes in an epoch": min(fit_xor.mistakes_per_epoch),
                    "XOR total updates": fit_xor.updates, "AND converged": fit_and.converged,
                    "AND epochs": fit_and.epochs, "AND updates": fit_and.updates},
            plot_data={"XOR mistakes per epoch": fit_xor.mistakes_per_epoch,
                       "AND mistakes per epoch": fit_and.mistakes_per_epoch})

    def checks(self, m: dict) -> list[Check]:
        return [Check("XOR: the perceptron converged", m["XOR converged"], "=", False),
                Check("XOR: epochs run (the whole budget)", m["XOR epochs run"], "=", m["epoch budget"]),
                Check("XOR: fewest mistakes in an epoch", m["XOR fewest mistakes in an epoch"], "≥", 1),
                Check("AND (separable): the perceptron converged", m["AND converged"], "=", True)]

    summary_template = """On XOR the perceptron made ≥ {m[XOR fewest mistakes in an epoch]} {mistakes} in each of
        {m[XOR epochs run]} epochs; AND converged in {m[AND epochs]}. On XOR it never converged within the budget
        of {m[epoch budget]} epochs ({m[XOR total updates]} updates in all); on AND it took {m[AND updates]}
        updates in {m[AND epochs]} epochs."""

    def summary_values(self, m: dict) -> dict:
        return {"mistakes": "mistake" if m["XOR fewest mistakes in an epoch"] == 1 else "mistakes"}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        budget, data = measurement.values["epoch budget"], measurement.plot_data

        def draw(fig):
            ax = fig.subplots()
            shown = min(budget, 200)
            and_mistakes = data["AND mistakes per epoch"]
            ax.plot(np.arange(1, shown + 1), data["XOR mistakes per epoch"][:shown], label="XOR")
            ax.plot(np.arange(1, len(and_mistakes) + 1), and_mistakes, "o-", label="AND")
            ax.set_xlabel("epoch")
            ax.set_ylabel("mistakes in the epoch (of 4)")
            ax.set_title(f"perceptron on XOR vs AND (first {shown} of {budget} epochs)", fontsize=10)
            ax.legend()
            ax.grid(alpha=0.3)

        return save_figure(ctx, self.id, draw)
