"""DDPM's forward process is an Ornstein–Uhlenbeck process, not the heat equation; the heat equation is the
variance-exploding process (seed 000 §6.5, erratum C10)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku.models.generative.diffusion import NoiseSchedule

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

T = 1000
STARTS = (-2.0, 0.5, 3.0)                   # the starting points x_0 (1-D), each carried by many walkers
QUICK, FULL = 4000, 40000                   # walkers per starting point
CHECKED = (50, 200, 400, 700, T)
SIGMAS = 5.0          # "matches": within this many standard errors (plus DISCRETE)
DISCRETE = 0.02       # allowance for T discrete steps against the continuous-time closed forms
FAR = 20.0            # "does not match": off by more than this many standard errors


def closed_forms(x0: float, cumulative_beta: float) -> dict[str, tuple[float, float]]:
    """Mean and variance at time t of the two continuous processes driven by β(t), B = ∫β: the
    Ornstein–Uhlenbeck process dx = −½β x dt + √β dW (mean x0·e^{−B/2}, variance 1 − e^{−B}) and the heat
    equation ∂p/∂t = ½β ∂²p/∂x², i.e. dx = √β dW (mean x0, variance B)."""
    return {"Ornstein–Uhlenbeck": (x0 * np.exp(-cumulative_beta / 2), 1 - np.exp(-cumulative_beta)),
            "heat equation": (x0, cumulative_beta)}


def walk(schedule: NoiseSchedule, walkers: int, generator: fk.Generator, shrink: bool) -> dict[int, np.ndarray]:
    """Run the walkers from STARTS for T steps: x_t = √(1 − β_t) x_{t−1} + √β_t ε (DDPM, variance-preserving)
    when ``shrink``, else x_t = x_{t−1} + √β_t ε (variance-exploding); the positions at the checked steps,
    shaped (len(STARTS), walkers)."""
    x = fk.tensor(np.repeat(np.array(STARTS, dtype=np.float32)[:, None], walkers, axis=1))
    seen = {}
    for step in range(T):
        noise = fk.randn(*x.shape, generator=generator)
        beta = float(schedule.betas[step])
        x = (np.sqrt(1 - beta) * x if shrink else x) + np.sqrt(beta) * noise
        if step + 1 in CHECKED:
            seen[step + 1] = x.numpy().astype(np.float64)
    return seen


class DiffusionVpVsVe(Experiment, id="diffusion-ou-not-heat", source="seed 000 §6.5 (C10)"):
    """DDPM's forward process is an Ornstein–Uhlenbeck process, not the heat equation.

    The text likens DDPM's noising to heat diffusion. Its step x_t = √(1 − β_t) x_{t−1} + √β_t ε shrinks as it
    adds noise: it is the Ornstein–Uhlenbeck process dx = −½β x dt + √β dW, whose mean decays as x0·e^{−B/2}
    and whose variance tends to 1 (B = ∫β) — variance-preserving. The heat equation ∂p/∂t = ½β ∂²p/∂x² keeps the
    mean and lets the variance grow as B without bound: that is the variance-exploding process
    x_t = x_{t−1} + √β_t ε (erratum C10). Walkers from three starting points show each chain matching its own
    closed form (within 5 standard errors plus 0.02 for T = 1000 discrete steps) and the DDPM chain missing
    the heat equation's moments by more than 20 standard errors.
    """

    def measure(self, ctx: Context) -> Measurement:
        walkers = QUICK if ctx.quick else FULL
        schedule = NoiseSchedule.linear(T)
        cumulative = np.cumsum(schedule.betas)
        generator = fk.Generator().manual_seed(ctx.seed + 7919)
        chains = {"DDPM (variance-preserving)": walk(schedule, walkers, generator, shrink=True),
                  "variance-exploding": walk(schedule, walkers, generator, shrink=False)}
        worst, table = {}, {}
        for chain, seen in chains.items():
            for form in ("Ornstein–Uhlenbeck", "heat equation"):
                errors = []
                for t, positions in seen.items():
                    for i, x0 in enumerate(STARTS):
                        mean, variance = closed_forms(x0, cumulative[t - 1])[form]
                        slack = DISCRETE * max(1.0, abs(mean))
                        n = positions.shape[1]
                        errors.append(max(max(0.0, abs(positions[i].mean() - mean) - slack) / np.sqrt(variance / n),
                                          max(0.0, abs(positions[i].var() - variance) - DISCRETE * variance)
                                          / (variance * np.sqrt(2 / (n - 1)))))
                        table.setdefault(chain, {}).setdefault(f"t = {t}, x0 = {x0:g}", {
                            "mean": float(positions[i].mean()), "variance": float(positions[i].var())})
                worst[f"{chain} vs {form}"] = float(max(errors))
        end = {form: {f"x0 = {x0:g}": closed_forms(x0, cumulative[-1])[form] for x0 in STARTS}
               for form in ("Ornstein–Uhlenbeck", "heat equation")}
        return Measurement(values={"walkers per start": walkers, "B = Σβ at T": float(cumulative[-1]),
                                   "worst mismatch (standard errors, after the discretisation allowance)": worst,
                                   "moments of the chains": table, "closed forms at T (mean, variance)": end},
                           plot_data={"chains": chains, "cumulative": cumulative})

    def checks(self, m: dict) -> list[Check]:
        worst = m["worst mismatch (standard errors, after the discretisation allowance)"]
        return [Check("DDPM chain vs Ornstein–Uhlenbeck", worst["DDPM (variance-preserving) vs Ornstein–Uhlenbeck"],
                      "≤", SIGMAS),
                Check("variance-exploding chain vs the heat equation",
                      worst["variance-exploding vs heat equation"], "≤", SIGMAS),
                Check("DDPM chain vs the heat equation (must miss)",
                      worst["DDPM (variance-preserving) vs heat equation"], ">", FAR)]

    summary_template = """DDPM's chain is Ornstein–Uhlenbeck ({ou:.1f} SE off), not the heat equation ({heat:.0f} SE off).
        These are the worst mismatches, in standard errors, over every checked step and start. {m[walkers per start]} walkers from each of x0 = −2, 0.5, 3 ran T = 1000 steps of
        the linear schedule (B = Σβ = {m[B = Σβ at T]:.2f}). At T the DDPM walkers have variance ≈ 1 and mean ≈ 0, as
        the Ornstein–Uhlenbeck process predicts, where the heat equation would keep the means and reach variance
        {m[B = Σβ at T]:.2f}; the variance-exploding chain matches the heat equation (worst {ve:.1f} standard
        errors)."""

    def summary_values(self, m: dict) -> dict:
        w = m["worst mismatch (standard errors, after the discretisation allowance)"]
        return {"ou": w["DDPM (variance-preserving) vs Ornstein–Uhlenbeck"],
                "heat": w["DDPM (variance-preserving) vs heat equation"], "ve": w["variance-exploding vs heat equation"]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        chains, cumulative = measurement.plot_data["chains"], measurement.plot_data["cumulative"]

        def draw(fig):
            axes = fig.subplots(1, 2)
            for ax, (name, seen) in zip(axes, chains.items()):
                ts = sorted(seen)
                for i, x0 in enumerate(STARTS):
                    ax.plot(ts, [seen[t][i].var() for t in ts], "o", label=f"x0 = {x0:g}: variance")
                ax.plot(np.arange(1, T + 1), 1 - np.exp(-cumulative), "-", label="OU: 1 − e^{−B}")
                ax.plot(np.arange(1, T + 1), cumulative, "--", label="heat: B")
                ax.set(title=name, xlabel="t", ylabel="variance", yscale="log")
                ax.legend(fontsize=7)

        return save_figure(ctx, self.id, draw)
