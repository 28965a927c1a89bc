"""Large recurrent weights make the Elman network's gradient explode through time, and clipping the gradient's
norm keeps training stable (seed 004 §3.4, seed 000 §6.1.3, seed 001 §9.3; Pascanu et al. 2013)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import fukaku as fk
import fukaku.nn.functional as F
from fukaku import nn, optim

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._memory import CLIP, LastStep, adding_batch, hidden_gradients, log_linear_fit, train
from ....ops._parallel import blas_threads

SCALES = (0.5, 1.0, 2.0, 3.0)  # σ_w: W_hh ~ N(0, σ_w²/H), so its spectral radius is about σ_w
LARGE = 3.0                    # the "large recurrent weights" that training starts from
QUICK = {"steps": 60, "hidden": 32, "batch": 64, "train lag": 30, "train steps": 300}
FULL = {"steps": 200, "hidden": 64, "batch": 128, "train lag": 50, "train steps": 1000}
LR = 0.1          # plain SGD: an adaptive optimiser (Adam) would rescale the exploded gradient itself
EXPLODES = 1e3    # exploding: the gradient grows by more than this from the last step back to the first
HEAD, TAIL = 10, 50  # the initial and the final training loss: means of the first and the last steps


def elman(scale: float, hidden: int, seed: int) -> LastStep:
    """An Elman network (tanh) whose recurrent weights are drawn N(0, scale²/hidden)."""
    fk.manual_seed(seed)
    model = LastStep("Elman", 2, hidden, 1)
    with fk.no_grad():
        nn.init.normal_(model.rnn.weight_hh_l0, 0.0, scale / math.sqrt(hidden))
    return model


def train_elman(clip: float | None, config: dict, seed: int):
    """SGD on the adding problem from recurrent weights of scale LARGE, with the gradient norm clipped or not."""
    model = elman(LARGE, config["hidden"], seed)

    def batch_loss(rng):
        x, y = adding_batch(config["train lag"], 32, rng)
        return F.mse_loss(model(x), y)

    with np.errstate(over="ignore", invalid="ignore"):  # unclipped, the arrays overflow: that is the measurement
        return train(model, batch_loss, config["train steps"], optim.SGD(model.parameters(), lr=LR), seed, clip=clip)


def _finite_max(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else math.nan


class ExplodingGradients(Experiment, id="exploding-gradients",
                         source="seed 004 §3.4, seed 000 §6.1.3, seed 001 §9.3; Pascanu et al. 2013"):
    """Large recurrent weights make gradients explode; clipping keeps training stable.

    The gradient reaching back k steps through an Elman network is a product of k Jacobians W_hᵀ diag(tanh′)
    (seed 001 §9.3): with small recurrent weights it vanishes, with large ones it explodes, which upsets the
    optimisation (seed 004 §3.4). With W_hh ~ N(0, σ_w²/H) the gradient factor per step back grows with σ_w,
    below 1 at σ_w = 0.5 and above 1 at σ_w = 3, where ‖∂L/∂h_{T−k}‖ grows by more than 10³ over the sequence.
    Trained from σ_w = 3 with plain SGD (lr 0.1) on the adding problem, the unclipped network's loss overflows,
    while nn.utils.clip_grad_norm_ at norm 1 keeps every loss finite and the final loss below the initial one,
    though the gradient norms before clipping exceed 10³.
    """

    def measure(self, ctx: Context) -> Measurement:
        config = QUICK if ctx.quick else FULL
        x, y = adding_batch(config["steps"], config["batch"], ctx.seed)
        with blas_threads(1):
            profiles = {scale: hidden_gradients(elman(scale, config["hidden"], ctx.seed).double(), x.double(),
                                                y.double()) for scale in SCALES}
            runs = {"no clipping": train_elman(None, config, ctx.seed), "clipped": train_elman(CLIP, config, ctx.seed)}
        fits = {scale: log_linear_fit(norms) for scale, norms in profiles.items()}
        sigma = lambda scale: f"σ_w = {scale:g}"  # noqa: E731
        values = {"sequence length, hidden units, batch": [config["steps"], config["hidden"], config["batch"]],
                  "gradient factor per step back": {sigma(s): fits[s][0] for s in SCALES},
                  "‖∂L/∂h_{T−k}‖ at the largest k / at k = 0": {sigma(s): float(g[-1] / g[0])
                                                                 for s, g in profiles.items()},
                  "training: lag, SGD steps, learning rate, clip norm": [config["train lag"], config["train steps"],
                                                                         LR, CLIP]}
        for name, run in runs.items():
            values[f"{name}: steps with a non-finite loss"] = int(np.sum(~np.isfinite(run.losses)))
            values[f"{name}: initial loss (mean of the first {HEAD} steps)"] = float(run.losses[:HEAD].mean())
            values[f"{name}: final loss (mean of the last {TAIL} steps)"] = float(run.losses[-TAIL:].mean())
            values[f"{name}: largest finite gradient norm"] = _finite_max(run.grad_norms)
            values[f"{name}: largest finite loss"] = _finite_max(run.losses)
        return Measurement(values=values, plot_data={"profiles": profiles, "runs": runs})

    def checks(self, m: dict) -> list[Check]:
        factor, growth = m["gradient factor per step back"], m["‖∂L/∂h_{T−k}‖ at the largest k / at k = 0"]
        small, large = f"σ_w = {SCALES[0]:g}", f"σ_w = {LARGE:g}"
        factors = [factor[f"σ_w = {s:g}"] for s in SCALES]
        return [Check(f"{small}: gradient factor per step back (vanishes)", factor[small], "<", 1.0),
                Check(f"{large}: gradient factor per step back (explodes)", factor[large], ">", 1.0),
                Check(f"{large}: growth of ‖∂L/∂h_{{T−k}}‖ over the sequence", growth[large], ">", EXPLODES),
                Check("the factor grows with σ_w: its smallest increase between scales", min(np.diff(factors)), ">",
                      0.0),
                Check("no clipping: steps with a non-finite loss", m["no clipping: steps with a non-finite loss"], ">",
                      0),
                Check("clipped: steps with a non-finite loss", m["clipped: steps with a non-finite loss"], "=", 0),
                Check("clipped: final loss / initial loss", m[f"clipped: final loss (mean of the last {TAIL} steps)"] /
                      m[f"clipped: initial loss (mean of the first {HEAD} steps)"], "<", 1.0),
                Check("clipped: the largest gradient norm before clipping (the explosion it contained)",
                      m["clipped: largest finite gradient norm"], ">", EXPLODES)]

    summary_template = """σ_w = {large:g}: {m[no clipping: steps with a non-finite loss]}/{steps} losses overflow
        unclipped; clipped, loss {initial:.2f} → {final:.3f}. Per step back the Elman network's
        gradient is multiplied by {factors} for recurrent weights of scale σ_w = {scales}; at σ_w = {large:g} it grows
        ×{growth:.1e} over {m[sequence length, hidden units, batch][0]} steps. Trained from there with plain SGD
        (lr {lr}), the unclipped network's largest finite loss is {unclipped_max:.1e}, and
        {m[no clipping: steps with a non-finite loss]} of its {steps} losses are not finite; clip_grad_norm_ at
        norm {clip:g} rescales gradients of norm up to {clipped_max:.1e}, and the clipped run has
        {m[clipped: steps with a non-finite loss]} non-finite losses and ends at {final:.3f} (from {initial:.2f}).
        Always answering 1 scores ≈ 0.167: clipping keeps training stable, it does not by itself make the
        Elman network learn the lag."""

    def summary_values(self, m: dict) -> dict:
        factor = m["gradient factor per step back"]
        return {"large": LARGE, "steps": m["training: lag, SGD steps, learning rate, clip norm"][1],
                "scales": ", ".join(f"{s:g}" for s in SCALES),
                "factors": ", ".join(f"×{value:.2f}" for value in factor.values()),
                "growth": m["‖∂L/∂h_{T−k}‖ at the largest k / at k = 0"][f"σ_w = {LARGE:g}"],
                "initial": m[f"clipped: initial loss (mean of the first {HEAD} steps)"],
                "final": m[f"clipped: final loss (mean of the last {TAIL} steps)"], "lr": LR, "clip": CLIP,
                "unclipped_max": m["no clipping: largest finite loss"],
                "clipped_max": m["clipped: largest finite gradient norm"]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        profiles, runs = measurement.plot_data["profiles"], measurement.plot_data["runs"]

        def draw(fig):
            gradient, loss, norm = fig.subplots(1, 3)
            for scale, norms in profiles.items():
                gradient.plot(np.arange(len(norms)), norms, label=f"σ_w = {scale:g}")
            for name, run in runs.items():
                steps = np.arange(1, len(run.losses) + 1)
                loss.plot(steps, run.losses, label=name)
                norm.plot(steps, run.grad_norms, label=f"{name} (before clipping)")
            norm.axhline(CLIP, color="#999", linestyle=":", linewidth=0.8, label=f"clip norm {CLIP:g}")
            gradient.set(xlabel="k (steps back from the last)", ylabel="‖∂L/∂h_{T−k}‖",
                         title="gradient through time, at initialisation")
            loss.set(xlabel="SGD step", ylabel="training MSE (gaps: overflowed)",
                     title=f"training from σ_w = {LARGE:g}")
            norm.set(xlabel="SGD step", ylabel="gradient norm", title="gradient norm per step")
            for ax in (gradient, loss, norm):
                ax.set_yscale("log")
                ax.title.set_fontsize(9)
                ax.legend(fontsize=7)

        return save_figure(ctx, self.id, draw, figsize=(13, 4))
