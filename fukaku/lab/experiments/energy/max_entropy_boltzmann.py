"""Maximising log W = log N!/Π n_i! under fixed N and E gives the Boltzmann occupations (seed 002 ch. 5):
exactly with Stirling's approximation, and ever more closely (as 1/N) with the exact log n!."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fukaku.physics import (boltzmann_beta, boltzmann_occupations, max_entropy_occupations, stirling_error)

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

LEVELS = np.arange(6.0)          # ε_i = 0 … 5 (the gift exchange's units, truncated)
MEAN = 1.0                       # E / N
QUICK_N = (1e2, 1e3, 1e4, 1e5)
FULL_N = (1e2, 1e3, 1e4, 1e5, 1e6, 1e7)


class MaxEntropyBoltzmann(Experiment, id="max-entropy-boltzmann", source="seed 002 ch. 5"):
    """The most probable occupation under fixed N and E is Boltzmann's.

    N particles over levels ε_i, n_i in level i, can be arranged in W = N!/Π n_i! ways. Maximising log W under
    Σ n_i = N and Σ n_i ε_i = E, with Stirling's log n! ≈ n log n − n, gives n_i = N e^{−βε_i}/Z, β being the
    multiplier of the energy. Maximised numerically (Newton's method from the projected uniform occupation),
    over six levels at mean energy 1: the Stirling form's maximiser equals the Boltzmann occupations within
    1e-9 relative; with the exact log n! the maximiser's relative distance to them falls as 1/N (log-log slope
    −1 ± 0.1) and is below 1e-3 at N = 10⁵, as Stirling's relative error vanishes.
    """

    def measure(self, ctx: Context) -> Measurement:
        sizes = QUICK_N if ctx.quick else FULL_N
        beta = boltzmann_beta(LEVELS, MEAN)
        stirling_gap, exact_gap, betas = [], [], []
        for n in sizes:
            want = boltzmann_occupations(LEVELS, beta, n)
            stirling_gap.append(float(np.abs(max_entropy_occupations(LEVELS, n, MEAN * n, stirling=True) / want - 1).max()))
            exact = max_entropy_occupations(LEVELS, n, MEAN * n)
            exact_gap.append(float(np.abs(exact / want - 1).max()))
            betas.append(float(-np.polyfit(LEVELS, np.log(exact), 1)[0]))
        slope = float(np.polyfit(np.log10(sizes), np.log10(exact_gap), 1)[0])
        return Measurement(values={
            "N": [int(n) for n in sizes], "β of the Boltzmann occupations": beta,
            "Stirling form: max relative |n − Boltzmann|": stirling_gap,
            "exact log W: max relative |n − Boltzmann|": exact_gap,
            "log-log slope of the exact gap against N": slope,
            "exact gap at N = 1e5": exact_gap[list(sizes).index(1e5)],
            "β fitted to the exact maximiser": betas,
            "Stirling's relative error of log N!": [float(stirling_error(n, relative=True)) for n in sizes],
        }, plot_data={"sizes": sizes, "exact": exact_gap, "stirling": stirling_gap})

    def checks(self, m: dict) -> list[Check]:
        return [Check("Stirling form: maximiser = Boltzmann (relative)",
                      max(m["Stirling form: max relative |n − Boltzmann|"]), "≤", 1e-9),
                Check("exact log W: gap falls as 1/N (|slope + 1|)",
                      abs(m["log-log slope of the exact gap against N"] + 1), "≤", 0.1),
                Check("exact log W: gap at N = 10⁵", m["exact gap at N = 1e5"], "≤", 1e-3),
                Check("exact log W: fitted β → Boltzmann's β (largest N)",
                      abs(m["β fitted to the exact maximiser"][-1] - m["β of the Boltzmann occupations"]), "≤", 1e-3)]

    summary_template = """argmax log W is Boltzmann's within {stirling:.0e} (Stirling), {exact:.0e} (exact, N =
        10⁵). Over six levels at mean energy 1 (β = {m[β of the Boltzmann occupations]:.4f}) the numerically maximised
        Stirling form gave e^{{−βε}}/Z to rounding; with the exact log n! the relative distance fell from
        {first:.1e} at N = 100 with a log-log slope of {m[log-log slope of the exact gap against N]:.3f}, i.e. as
        1/N, while Stirling's relative error of log N! fell too."""

    def summary_values(self, m: dict) -> dict:
        return {"stirling": max(m["Stirling form: max relative |n − Boltzmann|"]),
                "exact": m["exact gap at N = 1e5"], "first": m["exact log W: max relative |n − Boltzmann|"][0]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        d = measurement.plot_data

        def draw(fig):
            ax = fig.subplots()
            ax.loglog(d["sizes"], d["exact"], "o-", label="exact log n!: max |n/n_Boltzmann − 1|")
            ax.loglog(d["sizes"], np.maximum(d["stirling"], 1e-17), "s-", label="Stirling form")
            ax.loglog(d["sizes"], d["exact"][0] * d["sizes"][0] / np.asarray(d["sizes"]), "k--", label="∝ 1/N")
            ax.set(xlabel="N", ylabel="relative gap", title="argmax log W vs the Boltzmann occupations")
            ax.legend()

        return save_figure(ctx, self.id, draw)
