"""Sigmoid + BCE, softmax + CE and linear + squared error follow from the Boltzmann distributions of three
Hamiltonians, and H = u·d with continuous d has no normaliser (seed 002 ch. 5; (5.51) needs the minus sign
in the exponent and (5.55) reads L = +½‖d − ⟨d⟩‖², as the errata say)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as TF

import fukaku as fk
from fukaku.physics import binary_head, gaussian_head, one_hot_head

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

BETA = 1.0
BOXES = (10.0, 20.0, 40.0)        # ∫_{−L}^{L} of the Boltzmann weight over growing boxes


def _differences(fk_out, fk_in, th_out, th_in) -> tuple[float, float]:
    """max |value difference| and max |gradient difference| (of the sum of the outputs, w.r.t. the field)."""
    fk_out.sum().backward()
    th_out.sum().backward()
    return (float(np.abs(fk_out.detach().numpy() - th_out.detach().numpy()).max()),
            float(np.abs(fk_in.grad.numpy() - th_in.grad.numpy()).max()))


def _box_integrals(field: float, energy, grid: int) -> list[float]:
    """Z_L = ∫_{−L}^{L} e^{−H(d)} dd on growing boxes, by the trapezoid rule."""
    out = []
    for box in BOXES:
        d = np.linspace(-box, box, grid)
        w = np.exp(-BETA * energy(d, field))
        out.append(float(((w[1:] + w[:-1]) / 2 * np.diff(d)).sum()))
    return out


class HamiltonianHeads(Experiment, id="hamiltonian-heads", source="seed 002 ch. 5"):
    """Three Hamiltonians give sigmoid/BCE, softmax/CE and linear/squared-error heads.

    With the input as an external field u = 𝕁x + J on the output d, the Boltzmann distribution of H(d) gives
    the activation ⟨d⟩ and the loss KL(data ‖ model): binary d with H = −u d gives σ(u) and binary
    cross-entropy; one-hot d with H = −u·d gives softmax(u) and cross-entropy; continuous d with H = ½‖d − u‖²
    gives a Gaussian, ⟨d⟩ = u and ½‖d − u‖² + const. fukaku.physics computes each head from the Boltzmann
    distribution (not from sigmoid or softmax); on random fields and targets (64 × 5 quick, 4096 × 10 full)
    the activations, losses and the loss gradients equal torch.nn.functional's within 1e-12, the Gaussian
    ⟨d⟩ by quadrature of e^{−H} equals u within 1e-8, and H = u·d's box integral grows without bound while
    the Gaussian's converges.
    """

    def measure(self, ctx: Context) -> Measurement:
        n, k = (64, 5) if ctx.quick else (4096, 10)
        rng = ctx.rng()
        u, soft = rng.normal(0, 2, (n, k)), rng.random((n, k))
        labels = rng.integers(0, k, n)
        values = {"batch": n, "units / classes": k}

        def pair(x):
            return fk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)

        a, b = pair(u)
        values["binary: |⟨d⟩ − sigmoid|, |gradient difference|"] = _differences(
            binary_head(a).mean, a, torch.sigmoid(b), b)
        a, b = pair(u)
        values["binary: |loss − BCE|, |gradient difference|"] = _differences(
            binary_head(a, soft).loss, a, TF.binary_cross_entropy_with_logits(b, torch.tensor(soft)), b)
        a, b = pair(u)
        values["one-hot: |⟨d⟩ − softmax|, |gradient difference|"] = _differences(
            one_hot_head(a).mean * fk.tensor(soft), a, torch.softmax(b, 1) * torch.tensor(soft), b)
        a, b = pair(u)
        values["one-hot: |loss − CE|, |gradient difference|"] = _differences(
            one_hot_head(a, fk.tensor(labels)).loss, a, TF.cross_entropy(b, torch.tensor(labels)), b)
        a, b = pair(u)
        constant = 0.5 * k * math.log(2 * math.pi / BETA)
        values["Gaussian: |loss − (βD/2)·MSE − const|, |gradient difference|"] = _differences(
            gaussian_head(a, soft, BETA).loss, a,
            BETA * k / 2 * TF.mse_loss(b, torch.tensor(soft)) + constant, b)
        # ⟨d⟩ of the Gaussian head by quadrature of the Boltzmann weight, every field entry at once
        grid = np.linspace(-30, 30, 6001)
        weights = np.exp(-BETA * 0.5 * (grid[None, :] - u.reshape(-1, 1)) ** 2)
        quadrature = (weights * grid).sum(1) / weights.sum(1)
        values["Gaussian: max |quadrature ⟨d⟩ − head's ⟨d⟩|"] = float(
            np.abs(quadrature - gaussian_head(u).mean.numpy().ravel()).max())
        # H = u·d (the text's unusable Hamiltonian) vs the Gaussian one: Z over growing boxes
        linear = _box_integrals(0.5, lambda d, f: -f * d, 20001)
        gaussian = _box_integrals(0.5, lambda d, f: 0.5 * (d - f) ** 2, 20001)
        values["H = u·d: Z on boxes L = 10, 20, 40"] = linear
        values["H = ½(d − u)²: Z on boxes L = 10, 20, 40"] = gaussian
        values["H = u·d: Z(40) / Z(20)"] = linear[2] / linear[1]
        values["Gaussian: |Z(40) / Z(20) − 1|"] = abs(gaussian[2] / gaussian[1] - 1)
        return Measurement(values=values, plot_data={"u": u[:, 0]})

    def checks(self, m: dict) -> list[Check]:
        checks = []
        for head in ("binary: |⟨d⟩ − sigmoid|", "binary: |loss − BCE|", "one-hot: |⟨d⟩ − softmax|",
                     "one-hot: |loss − CE|", "Gaussian: |loss − (βD/2)·MSE − const|"):
            value, grad = m[f"{head}, |gradient difference|"]
            checks += [Check(f"{head} (rounding)", value, "≤", 1e-12),
                       Check(f"{head}: its gradient (rounding)", grad, "≤", 1e-12)]
        return checks + [
            Check("Gaussian ⟨d⟩ = u, by quadrature", m["Gaussian: max |quadrature ⟨d⟩ − head's ⟨d⟩|"], "≤", 1e-8),
            Check("H = u·d has no normaliser: Z(40)/Z(20)", m["H = u·d: Z(40) / Z(20)"], ">", 1e3),
            Check("the Gaussian's Z has converged", m["Gaussian: |Z(40) / Z(20) − 1|"], "≤", 1e-12)]

    summary_template = """The three heads equal sigmoid/BCE, softmax/CE, linear/MSE within {worst:.0e}. On {m[batch]}
        × {m[units / classes]} random fields the Boltzmann distributions of H = −u d (binary), −u·d (one-hot) and
        ½‖d − u‖² (Gaussian) gave activations, losses and loss gradients within {worst:.0e} of
        torch.nn.functional's, the Gaussian loss being (βD/2)·MSE + (D/2) log(2π/β); quadrature of e^{{−H}} gave
        ⟨d⟩ = u within {m[Gaussian: max |quadrature ⟨d⟩ − head's ⟨d⟩|]:.0e}. For H = u·d the integral of e^{{−H}}
        grew by {m[H = u·d: Z(40) / Z(20)]:.1e} from the box [−20, 20] to [−40, 40]: no distribution exists."""

    def summary_values(self, m: dict) -> dict:
        return {"worst": max(max(v) for name, v in m.items() if name.endswith("|gradient difference|"))}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        z = np.linspace(-6, 6, 200)

        def draw(fig):
            axes = fig.subplots(1, 2)
            axes[0].plot(z, binary_head(z).mean.numpy(), label="binary: ⟨d⟩ = σ(u)")
            axes[0].plot(z, gaussian_head(z).mean.numpy() / 6, label="Gaussian: ⟨d⟩ = u (÷6)")
            axes[0].plot(z, one_hot_head(np.stack([z, np.zeros_like(z)], 1)).mean.numpy()[:, 0], "--",
                         label="one-hot vs a 0 logit: softmax")
            axes[0].set(xlabel="field u", ylabel="⟨d⟩", title="activations from Boltzmann")
            axes[0].legend(fontsize=7)
            for box in BOXES:
                d = np.linspace(-box, box, 400)
                axes[1].semilogy(d, np.exp(0.5 * d), color="C3", alpha=0.4)
            axes[1].semilogy(z * 5, np.exp(-0.5 * (z * 5 - 0.5) ** 2) + 1e-30, color="C0", label="e^{−½(d−u)²}")
            axes[1].set(xlabel="d", ylabel="Boltzmann weight", title="e^{u d} cannot be normalised")
            axes[1].legend(fontsize=7)

        return save_figure(ctx, self.id, draw, figsize=(9, 3.6))
