"""The leapfrog (Störmer–Verlet) integrator keeps the oscillator's energy bounded; explicit Euler's energy
grows every step (seed 002 ch. 5's Hamiltonian H = p²/2m + kq²/2)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fukaku.physics import euler, leapfrog, leapfrog_shadow_energy, oscillator_energy, oscillator_force

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

MASS, STIFFNESS, DT = 1.0, 1.0, 0.1
QUICK_STEPS, FULL_STEPS = 5000, 100000     # ≈ 80 and 1600 periods
EULER_STEPS = 5000                          # Euler's energy overflows float64 after ≈ 70000 steps
OSCILLATORS = 16                            # random initial states, integrated together


class SymplecticEnergy(Experiment, id="symplectic-energy", source="seed 002 ch. 5"):
    """A symplectic integrator conserves the oscillator's energy; explicit Euler drifts.

    For H = p²/2m + kq²/2 the leapfrog step (kick p by dt/2, drift q by dt, kick again) preserves phase-space
    area, so its energy error stays O(ω²dt²) for all time (it conserves the nearby shadow energy
    p²/2m + kq²/2·(1 − ω²dt²/4) exactly); explicit Euler multiplies the energy by 1 + ω²dt² every step. At
    dt = 0.1, ω = 1, for 16 random oscillators over 5000 steps (100000 full): leapfrog's relative energy
    error stays below ω²dt²/4 · 1.01 and is no larger in the last tenth than in the first, its shadow energy
    is constant within 1e-10, and Euler's energy grows by (1 + ω²dt²)ⁿ within 1e-9 relative (5000 steps).
    """

    def measure(self, ctx: Context) -> Measurement:
        steps = QUICK_STEPS if ctx.quick else FULL_STEPS
        rng = ctx.rng()
        q0, p0 = rng.normal(size=OSCILLATORS), rng.normal(size=OSCILLATORS)
        force = oscillator_force(STIFFNESS)
        q, p = leapfrog(q0, p0, DT, steps, force, MASS)
        e_leap = oscillator_energy(q, p, MASS, STIFFNESS)
        rel_leap = np.abs(e_leap / e_leap[0] - 1)
        shadow = leapfrog_shadow_energy(q, p, DT, MASS, STIFFNESS)
        q, p = euler(q0, p0, DT, EULER_STEPS, force, MASS)
        e_euler = oscillator_energy(q, p, MASS, STIFFNESS)
        w2dt2 = STIFFNESS / MASS * DT ** 2
        growth = e_euler[-1] / e_euler[0]
        tenth = steps // 10
        return Measurement(values={
            "steps": steps, "dt": DT, "ω²dt²": w2dt2,
            "leapfrog: max relative energy error": float(rel_leap.max()),
            "leapfrog: max relative error, first tenth": float(rel_leap[:tenth].max()),
            "leapfrog: max relative error, last tenth": float(rel_leap[-tenth:].max()),
            "leapfrog: max relative change of the shadow energy": float(np.abs(shadow / shadow[0] - 1).max()),
            "Euler: energy growth E_n / E_0 (smallest over oscillators)": float(growth.min()),
            "Euler: log growth / n log(1 + ω²dt²), worst |ratio − 1|": float(
                np.abs(np.log(growth) / (EULER_STEPS * np.log1p(w2dt2)) - 1).max()),
            "Euler steps": EULER_STEPS,
        }, plot_data={"leapfrog": e_leap[:, 0] / e_leap[0, 0], "euler": e_euler[:, 0] / e_euler[0, 0]})

    def checks(self, m: dict) -> list[Check]:
        return [Check("leapfrog: energy error bounded by ω²dt²/4 (+1%)", m["leapfrog: max relative energy error"],
                      "≤", 1.01 * m["ω²dt²"] / 4),
                Check("leapfrog: no drift (last tenth vs first tenth, +1%)",
                      m["leapfrog: max relative error, last tenth"], "≤",
                      1.01 * m["leapfrog: max relative error, first tenth"]),
                Check("leapfrog: shadow energy conserved", m["leapfrog: max relative change of the shadow energy"],
                      "≤", 1e-10),
                Check("Euler: energy × (1 + ω²dt²) per step", m["Euler: log growth / n log(1 + ω²dt²), worst |ratio − 1|"],
                      "≤", 1e-9),
                Check("Euler: the energy has grown (×)", m["Euler: energy growth E_n / E_0 (smallest over oscillators)"],
                      ">", 10.0)]

    summary_template = """Leapfrog's energy stays within {m[leapfrog: max relative energy error]:.1e}; Euler's grew
        ×{m[Euler: energy growth E_n / E_0 (smallest over oscillators)]:.2g}. {m[steps]} steps of dt = {m[dt]} on
        unit oscillators: the leapfrog error stayed below ω²dt²/4 = {quarter:.2e} and did not drift (last tenth
        {m[leapfrog: max relative error, last tenth]:.2e}, first {m[leapfrog: max relative error, first tenth]:.2e}),
        its shadow energy constant within {m[leapfrog: max relative change of the shadow energy]:.0e}; explicit
        Euler's energy grew over {m[Euler steps]} steps as (1 + ω²dt²)ⁿ within
        {m[Euler: log growth / n log(1 + ω²dt²), worst |ratio − 1|]:.0e}."""

    def summary_values(self, m: dict) -> dict:
        return {"quarter": m["ω²dt²"] / 4}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        d = measurement.plot_data

        def draw(fig):
            ax = fig.subplots()
            ax.semilogy(np.arange(len(d["euler"])) * DT, d["euler"], label="explicit Euler")
            ax.semilogy(np.arange(len(d["leapfrog"])) * DT, d["leapfrog"], label="leapfrog (Störmer–Verlet)")
            ax.set(xlabel="time", ylabel="E(t) / E(0)", title="H = p²/2m + kq²/2")
            ax.legend()

        return save_figure(ctx, self.id, draw)
