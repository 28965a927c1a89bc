"""The RBM's factorised conditionals P(h_j = 1 | v) = σ(Σ_i w_ij v_i + c_j) are the exact conditionals of its
joint distribution (seed 000 §6.1.5)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku.models.energy import RBM
from fukaku.models.energy.boltzmann import binary_states

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

QUICK, FULL = (6, 4), (10, 8)    # (visible, hidden) units: small enough to enumerate every (v, h)


class RBMConditionals(Experiment, id="rbm-conditionals", source="seed 000 §6.1.5"):
    """The RBM's conditionals are the exact ones.

    With no connections inside a layer, E(v, h) = −Σ w_ij v_i h_j − Σ b_i v_i − Σ c_j h_j makes the hidden units
    independent given v, with P(h_j = 1 | v) = σ(Σ_i w_ij v_i + c_j), and symmetrically P(v_i = 1 | h) =
    σ(Σ_j w_ij h_j + b_i) — the block Gibbs sampler of the text. Enumerating the joint P(v, h) of a random RBM
    (6 × 4 quick, 10 × 8 full) and conditioning it gives the same marginals as the sigmoids, and P(h | v) is the
    product of its marginals; the free energy F(v) = −log Σ_h exp(−E(v, h)) has its closed form.
    """

    def measure(self, ctx: Context) -> Measurement:
        nv, nh = QUICK if ctx.quick else FULL
        rbm = RBM(nv, nh, init_std=1.0, generator=fk.Generator().manual_seed(ctx.seed + 3))
        rng = ctx.rng(9)
        with fk.no_grad():
            rbm.visible_bias.copy_(fk.tensor(rng.normal(0, 0.5, nv).astype(np.float32)))
            rbm.hidden_bias.copy_(fk.tensor(rng.normal(0, 0.5, nh).astype(np.float32)))
        w, b, c = (p.detach().numpy().astype(np.float64) for p in (rbm.weight, rbm.visible_bias, rbm.hidden_bias))
        vs, hs = binary_states(nv), binary_states(nh)
        neg_e = np.einsum("vi,ij,hj->vh", vs, w, hs) + (vs @ b)[:, None] + (hs @ c)[None, :]
        joint = np.exp(neg_e - neg_e.max())
        joint /= joint.sum()                                    # P(v, h), (2^nv, 2^nh)
        p_h_v = joint / joint.sum(1, keepdims=True)            # P(h | v), rows v
        p_v_h = joint / joint.sum(0, keepdims=True)            # P(v | h), columns h
        exact_h, exact_v = p_h_v @ hs, p_v_h.T @ vs             # P(h_j = 1 | v), P(v_i = 1 | h)
        model_h = rbm.hidden_probs(fk.tensor(vs.astype(np.float32))).detach().numpy()
        model_v = rbm.visible_probs(fk.tensor(hs.astype(np.float32))).detach().numpy()
        product = np.prod(np.where(hs[None, :, :] == 1, exact_h[:, None, :], 1 - exact_h[:, None, :]), axis=2)
        free = rbm.free_energy(fk.tensor(vs.astype(np.float32))).detach().numpy()
        exact_free = -(np.log(np.exp(neg_e - neg_e.max()).sum(1)) + neg_e.max())
        return Measurement(values={
            "visible": nv, "hidden": nh, "joint states": int(joint.size),
            "max |σ(vW + c) − P(h_j = 1 | v)|": float(np.abs(model_h - exact_h).max()),
            "max |σ(hWᵀ + b) − P(v_i = 1 | h)|": float(np.abs(model_v - exact_v).max()),
            "max |P(h | v) − Π_j P(h_j | v)|": float(np.abs(product - p_h_v).max()),
            "max |F(v) − enumerated free energy|": float(np.abs(free - exact_free).max()),
            "spread of P(h_j = 1 | v)": [float(exact_h.min()), float(exact_h.max())],
        }, plot_data={"exact": exact_h.ravel(), "model": model_h.ravel()})

    def checks(self, m: dict) -> list[Check]:
        return [Check("P(h_j = 1 | v): sigmoid vs enumeration (float32 model)", m["max |σ(vW + c) − P(h_j = 1 | v)|"],
                      "≤", 1e-6),
                Check("P(v_i = 1 | h): sigmoid vs enumeration (float32 model)", m["max |σ(hWᵀ + b) − P(v_i = 1 | h)|"],
                      "≤", 1e-6),
                Check("hidden units independent given v (float64)", m["max |P(h | v) − Π_j P(h_j | v)|"], "≤", 1e-12),
                Check("free energy vs enumeration (float32 model)", m["max |F(v) − enumerated free energy|"],
                      "≤", 1e-4),
                Check("the conditionals are not trivial (spread of P(h_j = 1 | v))",
                      m["spread of P(h_j = 1 | v)"][1] - m["spread of P(h_j = 1 | v)"][0], ">", 0.5)]

    summary_template = """The RBM's sigmoid conditionals match enumeration within {worst:.0e}. On a random
        {m[visible]} × {m[hidden]} RBM, conditioning the enumerated joint over all {m[joint states]} (v, h) pairs
        gives P(h_j = 1 | v) within {m[max |σ(vW + c) − P(h_j = 1 | v)|]:.0e} and P(v_i = 1 | h) within
        {m[max |σ(hWᵀ + b) − P(v_i = 1 | h)|]:.0e} of the sigmoids (float32); P(h | v) factorises over the hidden
        units within {m[max |P(h | v) − Π_j P(h_j | v)|]:.0e}, and the free energy's closed form holds within
        {m[max |F(v) − enumerated free energy|]:.0e}."""

    def summary_values(self, m: dict) -> dict:
        return {"worst": max(m["max |σ(vW + c) − P(h_j = 1 | v)|"], m["max |σ(hWᵀ + b) − P(v_i = 1 | h)|"])}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        d = measurement.plot_data

        def draw(fig):
            ax = fig.subplots()
            ax.plot(d["exact"], d["model"], ".", ms=3)
            ax.plot([0, 1], [0, 1], "k--", lw=0.8)
            ax.set(xlabel="P(h_j = 1 | v) by enumerating the joint", ylabel="σ(Σ_i w_ij v_i + c_j)",
                   title="RBM conditionals are exact")

        return save_figure(ctx, self.id, draw)
