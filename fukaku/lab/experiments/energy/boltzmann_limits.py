"""The Boltzmann distribution's limits: β → ∞ keeps the ground state, β → 0 is uniform, and p_i/p_j =
e^{−β(ε_i − ε_j)} at every β (seed 002 ch. 5; the high-temperature limit is β → 0, as the errata say)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku.physics import boltzmann_distribution, log_partition_function

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

RATIO_BETAS = (0.1, 0.5, 1.0, 2.0, 5.0)
COLD = 40.0               # "zero temperature": β = COLD / gap, so the excited states weigh ≤ (K − 1) e^{−40}
HOT_BETA = 1e-9


class BoltzmannLimits(Experiment, id="boltzmann-limits", source="seed 002 ch. 5"):
    """The Boltzmann distribution goes from the ground state (β → ∞) to uniform (β → 0).

    p_i = e^{−βε_i}/Z with β = 1/(k_B T): as β → ∞ (T → 0) all probability goes to the lowest level, as β → 0
    (T → ∞) every level becomes equally likely, and at any β the ratio of two levels' probabilities is
    e^{−β(ε_i − ε_j)}, independent of the other levels. On random levels (6 quick, 40 full), fukaku's
    distribution leaves the excited levels at most (K − 1) e^{−β·gap} when β·gap = 40, is uniform
    within 1e-8 at β = 1e-9, its log-ratios equal −βΔε within 1e-12, its entropy falls monotonically with β, and
    its mean energy equals −∂log Z/∂β (autograd).
    """

    def measure(self, ctx: Context) -> Measurement:
        k = 6 if ctx.quick else 40
        levels = np.sort(ctx.rng().uniform(0, 3, k))
        gap = float(levels[1] - levels[0])
        cold_beta = COLD / gap
        cold = boltzmann_distribution(levels, cold_beta).numpy()
        hot = boltzmann_distribution(levels, HOT_BETA).numpy()
        ratio_error = 0.0
        for beta in RATIO_BETAS:
            log_p = np.log(boltzmann_distribution(levels, beta).numpy())
            ratio_error = max(ratio_error, float(np.abs((log_p[:, None] - log_p[None, :])
                                                        + beta * (levels[:, None] - levels[None, :])).max()))
        betas = np.concatenate([[0.0], np.geomspace(1e-3, 1e3, 60)])
        probs = boltzmann_distribution(fk.tensor(levels).unsqueeze(0), fk.tensor(betas).unsqueeze(1)).numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            entropy = -np.where(probs > 0, probs * np.log(np.where(probs > 0, probs, 1)), 0).sum(1)
        beta_t = fk.tensor(1.3, dtype=fk.float64, requires_grad=True)
        log_partition_function(levels, beta_t).backward()
        mean_energy = float(boltzmann_distribution(levels, 1.3).numpy() @ levels)
        return Measurement(values={
            "levels": k, "gap ε_1 − ε_0": gap,
            "β_cold = 40 / gap": cold_beta, "ground-state probability at β_cold": float(cold[0]),
            "1 − p_0 at β_cold": float(1 - cold[0]),
            "bound (K − 1) e^{−β gap}": float((k - 1) * np.exp(-COLD)),
            "max |p_i − 1/K| at β = 1e-9": float(np.abs(hot - 1 / k).max()),
            "max |log(p_i/p_j) + β(ε_i − ε_j)|": ratio_error,
            "largest entropy increase along β": float(np.diff(entropy).max()),
            "entropy at β = 0 minus log K": float(entropy[0] - np.log(k)),
            "|⟨ε⟩ + ∂log Z/∂β| at β = 1.3": abs(mean_energy + beta_t.grad.item()),
        }, plot_data={"betas": betas[1:], "probs": probs[1:], "levels": levels})

    def checks(self, m: dict) -> list[Check]:
        return [Check("β → ∞: 1 − p_0 within (K − 1) e^{−β gap}", m["1 − p_0 at β_cold"], "≤",
                      m["bound (K − 1) e^{−β gap}"]),
                Check("β → ∞: ground-state probability", m["ground-state probability at β_cold"], ">", 1 - 1e-12),
                Check("β → 0: uniform", m["max |p_i − 1/K| at β = 1e-9"], "≤", 1e-8),
                Check("ratio = e^{−βΔε} (rounding)", m["max |log(p_i/p_j) + β(ε_i − ε_j)|"], "≤", 1e-12),
                Check("entropy never rises with β", m["largest entropy increase along β"], "≤", 1e-12),
                Check("entropy at β = 0 is log K", abs(m["entropy at β = 0 minus log K"]), "≤", 1e-12),
                Check("⟨ε⟩ = −∂log Z/∂β", m["|⟨ε⟩ + ∂log Z/∂β| at β = 1.3"], "≤", 1e-12)]

    summary_template = """At β·gap = 40 p_0 = {m[ground-state probability at β_cold]:.12f}; at β = 1e-9 uniform within
        {m[max |p_i − 1/K| at β = 1e-9]:.0e}. Over {m[levels]} random levels with gap {m[gap ε_1 − ε_0]:.3f} the
        excited states kept 1 − p_0 = {m[1 − p_0 at β_cold]:.1e} of the mass (bound
        {m[bound (K − 1) e^{−β gap}]:.1e}); log p_i − log p_j equalled −β(ε_i − ε_j) within
        {m[max |log(p_i/p_j) + β(ε_i − ε_j)|]:.0e} for β from 0.1 to 5; the entropy fell monotonically from log K,
        and the mean energy equalled −∂log Z/∂β within {m[|⟨ε⟩ + ∂log Z/∂β| at β = 1.3]:.0e}."""

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        d = measurement.plot_data

        def draw(fig):
            ax = fig.subplots()
            for i, e in enumerate(d["levels"]):
                ax.semilogx(d["betas"], d["probs"][:, i], label=f"ε = {e:.2f}" if i < 8 else None)
            ax.set(xlabel="β = 1/(k_B T)", ylabel="p_i", title="Boltzmann distribution from hot to cold")
            ax.legend(fontsize=7)

        return save_figure(ctx, self.id, draw)
