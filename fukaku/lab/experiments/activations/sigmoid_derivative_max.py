"""σ' is at most 0.25, attained at 0 (seed 000 §6.1.3, erratum C7), and through a chain of n sigmoids the
gradient is at most 0.25ⁿ (seed 003): the arithmetic behind vanishing gradients."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
import fukaku.nn.functional as F

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._derivative import autograd_derivative

_DEPTH = 10                                  # chains of 1 … _DEPTH sigmoids
_PRINTED_CHAIN = {2: 0.0625, 3: 0.015625}    # seed 003: the gradient through two and three sigmoids at 0
_FORM_TOL = 1e-12


def _sigmoid_chain_gradient(z0: np.ndarray, biases: np.ndarray) -> np.ndarray:
    """d h_n / d z for h_0 = z, h_k = σ(h_{k−1} + b_k) (a chain of n sigmoids with unit weights);
    ``z0`` is ``(B,)``, ``biases`` ``(n, B)``: B independent chains at once."""
    z = fk.tensor(z0, dtype=fk.float64, requires_grad=True)
    h = z
    for b in biases:
        h = F.sigmoid(h + fk.tensor(b, dtype=fk.float64))
    (g,) = fk.autograd.grad(h.sum(), z)
    return g.numpy()


class SigmoidDerivativeMax(Experiment, id="sigmoid-derivative-max", source="seed 000 §6.1.3 (erratum C7), seed 003"):
    """σ' is at most 0.25, and 0.25ⁿ through n sigmoids.

    σ'(z) = σ(z)(1 − σ(z)) has its maximum exactly 0.25, at z = 0 (seed 000 prints "< 0.25": erratum C7,
    the bound is attained). Through a chain of sigmoids the gradient is a product of such factors: 0.25² =
    0.0625 for two and 0.25³ = 0.015625 for three (seed 003), so it vanishes with depth.
    """

    def measure(self, ctx: Context) -> Measurement:
        z = np.linspace(-8.0, 8.0, 16001 if ctx.quick else 160001)  # contains z = 0 exactly
        _, ds = autograd_derivative(F.sigmoid, z)
        i_max = int(np.argmax(ds))
        # σ''(0) by double backward: zero slope at the maximum.
        x0 = fk.zeros(1, dtype=fk.float64, requires_grad=True)
        (d1,) = fk.autograd.grad(F.sigmoid(x0).sum(), x0, create_graph=True)
        (d2,) = fk.autograd.grad(d1.sum(), x0)

        # Chains of n sigmoids whose every pre-activation is 0: h_0 = z = 0, b_1 = 0, b_k = −σ(0) = −0.5.
        at_zero = np.array([_sigmoid_chain_gradient(np.zeros(1), np.array([[0.0]] + [[-0.5]] * (n - 1)))[0]
                            for n in range(1, _DEPTH + 1)])
        bound = 0.25 ** np.arange(1, _DEPTH + 1)
        # Random chains (random input and biases): the product of n factors never exceeds 0.25ⁿ.
        rng = ctx.rng()
        n_chains = 2000 if ctx.quick else 20000
        random_max = np.array([np.max(_sigmoid_chain_gradient(rng.normal(0, 2, n_chains),
                                                              rng.normal(0, 2, (n, n_chains))))
                               for n in range(1, _DEPTH + 1)])
        return Measurement(
            values={"max σ' on the grid": float(ds[i_max]), "argmax z": float(z[i_max]),
                    "σ''(0) (double backward)": float(d2.item()), "grid points": int(z.size),
                    "chain gradient at 0, n = 1…10": at_zero.tolist(),
                    "n = 2 (printed 0.0625)": float(at_zero[1]), "n = 3 (printed 0.015625)": float(at_zero[2]),
                    "max relative error vs 0.25ⁿ": float(np.max(np.abs(at_zero / bound - 1.0))),
                    "max over random chains / 0.25ⁿ": float(np.max(random_max / bound)),
                    "random chains per depth": n_chains},
            plot_data={"z": z, "σ'": ds, "random chain maxima": random_max})

    def checks(self, m: dict) -> list[Check]:
        chain = m["chain gradient at 0, n = 1…10"]
        printed_err = max(abs(chain[n - 1] / v - 1.0) for n, v in _PRINTED_CHAIN.items())
        # The maximum over the grid is 0.25, so σ' ≤ 0.25 at every grid point as well.
        return [Check("max σ' on the grid", m["max σ' on the grid"], "=", 0.25),
                Check("where σ' is largest: z", m["argmax z"], "=", 0.0),
                Check("|σ''(0)| (double backward)", abs(m["σ''(0) (double backward)"]), "≤", 1e-15),
                Check("chains of 2 and 3 sigmoids at 0 vs the printed 0.0625, 0.015625 (max relative error)",
                      printed_err, "≤", _FORM_TOL),
                Check("chains of 1…10 sigmoids at 0 vs 0.25ⁿ (max relative error)", m["max relative error vs 0.25ⁿ"],
                      "≤", _FORM_TOL),
                Check("largest gradient over random chains / 0.25ⁿ", m["max over random chains / 0.25ⁿ"], "≤", 1.0)]

    summary_template = """σ' peaks at {m[max σ' on the grid]:g} at z = {m[argmax z]:g}; chains at 0:
        {m[chain gradient at 0, n = 1…10][1]:g}, {m[chain gradient at 0, n = 1…10][2]:g}; random chains ≤
        {m[max over random chains / 0.25ⁿ]:.3f} × 0.25ⁿ. The bound is attained, not strict (erratum C7):
        autograd's σ''(0) = {m[σ''(0) (double backward)]:g}. Through two and three sigmoids at 0 the gradient is
        as printed, through n ≤ {depth} it is 0.25ⁿ (error {m[max relative error vs 0.25ⁿ]:.0e}), and
        {m[random chains per depth]} random chains per depth never exceed 0.25ⁿ."""

    def summary_values(self, m: dict) -> dict:
        return {"depth": _DEPTH}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        m, data = measurement.values, measurement.plot_data
        z, ds = data["z"], data["σ'"]

        def draw(fig):
            ax_s, ax_c = fig.subplots(1, 2)
            ax_s.plot(z, 1 / (1 + np.exp(-z)), label="σ(z)")
            ax_s.plot(z, ds, label="σ'(z) by autograd")
            ax_s.axhline(0.25, color="gray", linestyle=":", linewidth=1)
            peak = m["max σ' on the grid"]
            ax_s.plot([m["argmax z"]], [peak], "ko", label=f"max {peak:g} at z = {m['argmax z']:g}")
            ax_s.set_xlabel("z")
            ax_s.legend(fontsize=8)
            ax_s.set_title("sigmoid and its derivative")
            n = np.arange(1, _DEPTH + 1)
            ax_c.semilogy(n, m["chain gradient at 0, n = 1…10"], "o-", label="all pre-activations 0 (= 0.25ⁿ)")
            ax_c.semilogy(n, data["random chain maxima"], "s--",
                          label=f"max over {m['random chains per depth']} random chains")
            ax_c.set_xlabel("number of chained sigmoids n")
            ax_c.set_ylabel("|d h_n / d z|")
            ax_c.set_title("gradient through a chain of sigmoids")
            ax_c.legend(fontsize=8)
            ax_c.grid(alpha=0.3, which="both")

        return save_figure(ctx, self.id, draw, figsize=(10, 4))
