"""∂log Z/∂w_ij = E_P[x_i x_j]: the Boltzmann machine is an exponential family whose log-partition function
generates its moments (seed 000 §6.1.5; the −Σ b x sign of erratum C18)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku.models.energy import BoltzmannMachine
from fukaku.models.energy.boltzmann import binary_states

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

QUICK_UNITS, FULL_UNITS = 8, 14
STEP = 1e-5          # central-difference step on each w_ij and b_i


def log_z_batch(weights: np.ndarray, biases: np.ndarray, states: np.ndarray) -> np.ndarray:
    """log Z for a batch of machines at once, as the text writes the energy: −Σ_{i<j} w_ij x_i x_j − Σ b_i x_i
    (upper triangle of each W only). weights (P, n, n), biases (P, n), states (S, n) → (P,)."""
    upper = np.triu(weights, 1)
    logits = np.einsum("si,pij,sj->ps", states, upper, states, optimize=True) + biases @ states.T
    top = logits.max(1, keepdims=True)
    return (top + np.log(np.exp(logits - top).sum(1, keepdims=True)))[:, 0]


class BoltzmannLogZGradient(Experiment, id="boltzmann-logz-gradient", source="seed 000 §6.1.5 (C18)"):
    """The gradient of log Z is the model's moment.

    A Boltzmann machine on binary units, P(x) = exp(−E(x)) / Z with E(x) = −Σ_{i<j} w_ij x_i x_j − Σ_i b_i x_i,
    is an exponential family with log-partition A = log Z, so ∂log Z/∂w_ij = E_P[x_i x_j] and ∂log Z/∂b_i = E_P[x_i]
    — which is why its likelihood gradient is data moments − model moments and needs the model's expectations
    (MCMC in general). On a random machine small enough to enumerate (8 units quick, 14 full), central finite
    differences of the enumerated log Z and fukaku's autograd of it both equal the enumerated moments.
    """

    def measure(self, ctx: Context) -> Measurement:
        n = QUICK_UNITS if ctx.quick else FULL_UNITS
        bm = BoltzmannMachine(n, init_std=0.7, generator=fk.Generator().manual_seed(ctx.seed + 11))
        with fk.no_grad():
            bm.bias.copy_(fk.tensor(ctx.rng(3).normal(0, 0.7, n)))
        w, b = bm.weight.detach().numpy(), bm.bias.detach().numpy()
        states = binary_states(n)
        xx, x1 = (m.numpy() for m in bm.moments())
        iu = np.triu_indices(n, 1)
        pairs = len(iu[0])
        # every perturbed machine at once: +h and −h on each pair weight, then on each bias
        dw = np.zeros((pairs, n, n))
        dw[np.arange(pairs), iu[0], iu[1]] = STEP
        fd_w = (log_z_batch(w + dw, np.broadcast_to(b, (pairs, n)), states)
                - log_z_batch(w - dw, np.broadcast_to(b, (pairs, n)), states)) / (2 * STEP)
        db = STEP * np.eye(n)
        fd_b = (log_z_batch(np.broadcast_to(w, (n, n, n)), b + db, states)
                - log_z_batch(np.broadcast_to(w, (n, n, n)), b - db, states)) / (2 * STEP)
        log_z = bm.log_partition()
        log_z.backward()
        g = bm.weight.grad.numpy()
        auto_w = (g + g.T)[iu]                  # the pair's one weight is two entries of the matrix W
        auto_b = bm.bias.grad.numpy()
        return Measurement(values={
            "units": n, "pair weights": pairs,
            "log Z": float(log_z.item()),
            "log Z, textbook energy": float(log_z_batch(w[None], b[None], states)[0]),
            "max |finite difference − ⟨x_i x_j⟩|": float(np.abs(fd_w - xx[iu]).max()),
            "max |finite difference − ⟨x_i⟩|": float(np.abs(fd_b - x1).max()),
            "max |autograd − ⟨x_i x_j⟩|": float(np.abs(auto_w - xx[iu]).max()),
            "max |autograd − ⟨x_i⟩|": float(np.abs(auto_b - x1).max()),
            "range of ⟨x_i x_j⟩": [float(xx[iu].min()), float(xx[iu].max())],
        }, plot_data={"moment": xx[iu], "fd": fd_w})

    def checks(self, m: dict) -> list[Check]:
        return [Check("log Z of the model = log Z of the textbook energy",
                      abs(m["log Z"] - m["log Z, textbook energy"]), "≤", 1e-10),
                Check("finite differences vs ⟨x_i x_j⟩ (central difference, h = 1e-5)",
                      m["max |finite difference − ⟨x_i x_j⟩|"], "≤", 1e-7),
                Check("finite differences vs ⟨x_i⟩", m["max |finite difference − ⟨x_i⟩|"], "≤", 1e-7),
                Check("autograd vs ⟨x_i x_j⟩ (float64)", m["max |autograd − ⟨x_i x_j⟩|"], "≤", 1e-12),
                Check("autograd vs ⟨x_i⟩ (float64)", m["max |autograd − ⟨x_i⟩|"], "≤", 1e-12),
                Check("the moments are not trivial (largest ⟨x_i x_j⟩)", m["range of ⟨x_i x_j⟩"][1], ">", 0.05)]

    summary_template = """∂log Z/∂w_ij equals E_P[x_i x_j] within {m[max |finite difference − ⟨x_i x_j⟩|]:.0e}.
        On a random {m[units]}-unit Boltzmann machine, central differences of the enumerated log Z over all
        {m[pair weights]} pair weights match the enumerated moments (which range over
        {m[range of ⟨x_i x_j⟩][0]:.3f}–{m[range of ⟨x_i x_j⟩][1]:.3f}); for the biases within
        {m[max |finite difference − ⟨x_i⟩|]:.0e}. fukaku's autograd of log Z gives the same moments within
        {m[max |autograd − ⟨x_i x_j⟩|]:.0e}."""

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        d = measurement.plot_data

        def draw(fig):
            ax = fig.subplots()
            ax.plot(d["moment"], d["fd"], "o")
            lim = [0, max(d["moment"].max(), d["fd"].max()) * 1.05]
            ax.plot(lim, lim, "k--", lw=0.8, label="y = x")
            ax.set(xlabel="E_P[x_i x_j] (enumerated)", ylabel="∂log Z/∂w_ij (finite differences)",
                   title="the gradient of log Z is the moment")
            ax.legend()

        return save_figure(ctx, self.id, draw)
