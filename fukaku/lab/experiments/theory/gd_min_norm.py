"""Gradient descent's implicit bias (seed 000 §6.1.9): on an over-parameterised least-squares problem, gradient
descent from zero converges to the minimum-norm interpolant X⁺y; from any other start it converges to another
interpolant, X⁺y plus the start's component in the null space of X, which the gradients never touch."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fukaku.theory.double_descent import gradient_descent_least_squares, gradient_descent_limit, \
    min_norm_least_squares

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ....ops._parallel import blas_threads

SIZES = {True: (40, 100, 2000), False: (100, 300, 3000)}   # (n, p, steps) of the quick and the full run
REACHED = 1e-6               # ‖β_T − X⁺y‖ / ‖X⁺y‖ from zero
KEPT = 1e-6                  # from β₀: |‖β_T − X⁺y‖ − ‖(I − X⁺X)β₀‖| / ‖(I − X⁺X)β₀‖
RECORD = 20                  # distance recorded every this many steps


class GDMinNorm(Experiment, id="gd-min-norm", source="seed 000 §6.1.9"):
    """Gradient descent from zero converges to the minimum-norm solution X⁺y.

    On y = Xβ + ε with X ∈ R^{n×p}, p > n (n = 40, p = 100, 2,000 steps; full run n = 100, p = 300, 3,000 steps),
    full-batch gradient descent on ‖Xβ − y‖²/(2n) (fukaku's autograd and optim.SGD, step 1/λ_max, float64) started
    at β₀ = 0 ends within 1e-6 (relative) of X⁺y, the interpolant of least norm — the implicit regularisation of
    gradient descent. Started at a random β₀ it also interpolates but does not reach X⁺y: its distance to X⁺y
    converges to ‖(I − X⁺X)β₀‖, the start's component in the null space of X (within 1e-6, relative), and its
    norm is larger.
    """

    def measure(self, ctx: Context) -> Measurement:
        n, p, steps = SIZES[ctx.quick]
        rng = ctx.rng()
        X = rng.standard_normal((n, p))
        y = X @ (rng.standard_normal(p) / np.sqrt(p)) + 0.5 * rng.standard_normal(n)
        b0 = rng.standard_normal(p)
        with blas_threads(1):
            target = min_norm_least_squares(X, y).numpy()
            limit = gradient_descent_limit(X, y, b0).numpy()        # X⁺y + (I − X⁺X)β₀
            zero = gradient_descent_least_squares(X, y, steps, target=target, record_every=RECORD)
            start = gradient_descent_least_squares(X, y, steps, init=b0, target=limit, record_every=RECORD)
        null_part = float(np.linalg.norm(limit - target))
        scale = float(np.linalg.norm(target))
        to_target = float(np.linalg.norm(start.beta.numpy() - target))
        return Measurement(values={
            "n": n, "p": p, "steps": steps, "step size": zero.lr,
            "‖X⁺y‖": scale,
            "from 0: ‖β_T − X⁺y‖ / ‖X⁺y‖": zero.distances[-1] / scale,
            "from 0: ‖β_T‖": float(np.linalg.norm(zero.beta.numpy())),
            "from β₀: ‖β_T − X⁺y‖": to_target,
            "‖(I − X⁺X)β₀‖ (the null-space part of β₀)": null_part,
            "from β₀: |‖β_T − X⁺y‖ − ‖(I − X⁺X)β₀‖| / ‖(I − X⁺X)β₀‖": abs(to_target - null_part) / null_part,
            "from β₀: ‖β_T − (X⁺y + (I − X⁺X)β₀)‖ / ‖X⁺y‖": start.distances[-1] / scale,
            "from β₀: ‖β_T‖": float(np.linalg.norm(start.beta.numpy())),
            "largest final training loss": max(zero.loss, start.loss),
        }, plot_data={"steps": zero.recorded, "zero": zero.distances, "start": start.distances,
                      "null": null_part, "scale": scale})

    def checks(self, m: dict) -> list[Check]:
        return [Check("from 0: relative distance to X⁺y", m["from 0: ‖β_T − X⁺y‖ / ‖X⁺y‖"], "≤", REACHED),
                Check("from β₀: distance to X⁺y stays ‖(I − X⁺X)β₀‖ (relative gap)",
                      m["from β₀: |‖β_T − X⁺y‖ − ‖(I − X⁺X)β₀‖| / ‖(I − X⁺X)β₀‖"], "≤", KEPT),
                Check("from β₀: X⁺y is not reached, distance / ‖X⁺y‖", m["from β₀: ‖β_T − X⁺y‖"] / m["‖X⁺y‖"],
                      ">", 0.1),
                Check("both interpolate: final training loss", m["largest final training loss"], "≤", 1e-12),
                Check("the solution from 0 has the smaller norm: ‖β_T‖ from 0 / from β₀",
                      m["from 0: ‖β_T‖"] / m["from β₀: ‖β_T‖"], "<", 1.0)]

    summary_template = """From 0, GD ends {m[from 0: ‖β_T − X⁺y‖ / ‖X⁺y‖]:.1e} (relative) from X⁺y. On a least-squares
        problem with n = {m[n]} equations and p = {m[p]} unknowns, {m[steps]} full-batch steps of size
        {m[step size]:.3g} interpolate the data from either start (training loss ≤
        {m[largest final training loss]:.0e}). From a random β₀ the distance to X⁺y converges to
        {m[from β₀: ‖β_T − X⁺y‖]:.4f}, the norm of β₀'s null-space part ‖(I − X⁺X)β₀‖ =
        {m[‖(I − X⁺X)β₀‖ (the null-space part of β₀)]:.4f}, so that solution has norm {m[from β₀: ‖β_T‖]:.3f}
        against {m[from 0: ‖β_T‖]:.3f} from zero: the gradients Xᵀ(Xβ − y) never leave the row space of X."""

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        d = measurement.plot_data

        def draw(fig):
            ax = fig.subplots()
            ax.semilogy(d["steps"], d["zero"] / d["scale"], label="from β₀ = 0: ‖β_t − X⁺y‖")
            ax.semilogy(d["steps"], d["start"] / d["scale"], "--",
                        label="from a random β₀: ‖β_t − (X⁺y + (I − X⁺X)β₀)‖")
            ax.axhline(d["null"] / d["scale"], color="grey", linestyle=":",
                       label=f"from β₀, ‖β_t − X⁺y‖ → ‖(I − X⁺X)β₀‖ = {d['null'] / d['scale']:.1f}·‖X⁺y‖")
            ax.set(xlabel="gradient-descent step", ylabel="distance / ‖X⁺y‖",
                   title=f"GD on least squares, n = {measurement.values['n']}, p = {measurement.values['p']}")
            ax.legend(loc="center right", fontsize=8)

        return save_figure(ctx, self.id, draw)
