"""The GAN game's own generator loss saturates early in training; the non-saturating loss does not
(seed 000 §6.5; Goodfellow et al. 2014, §3)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku.models.generative.gan import MLPDiscriminator, MLPGenerator, discriminator_loss, generator_loss

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._toy import eight_gaussians
from ....ops._parallel import blas_threads

D_STEPS = {True: 200, False: 1000}   # quick, full: steps training D against the untrained G
BATCH = 512
CONFIDENT = 0.1     # D "rejects the fakes": mean D(G(z)) below this
STRONGER = 10.0     # the non-saturating gradient is at least this many times the minimax one


def gradient_norm(loss: fk.Tensor, params: list[fk.Tensor]) -> float:
    grads = fk.autograd.grad(loss, params, retain_graph=True)
    return float(np.sqrt(sum(float((g * g).sum()) for g in grads)))


class GanSaturation(Experiment, id="gan-saturating-loss", source="seed 000 §6.5"):
    """The minimax generator loss saturates; the non-saturating one does not.

    In min_G max_D E[log D(x)] + E[log(1 − D(G(z)))] the generator's term log(1 − D(G(z))) has the gradient
    −D(G(z)) with respect to D's logit: when D confidently rejects the fakes, as early in training, it
    vanishes. The non-saturating loss −log D(G(z)) has the gradient −(1 − D(G(z))) there (Goodfellow et al.,
    §3). With D trained against an untrained G on the 8-Gaussian ring until mean D(G(z)) < 0.1, the autograd
    gradients with respect to the logits equal those closed forms, and the non-saturating loss gives G a
    gradient at least 10× larger than the minimax loss.
    """

    def measure(self, ctx: Context) -> Measurement:
        fk.manual_seed(ctx.seed)
        generator = fk.Generator().manual_seed(ctx.seed + 7919)
        G, D = MLPGenerator(2, 2, 64, 2), MLPDiscriminator(2, 64, 2)
        opt = fk.optim.Adam(D.parameters(), lr=1e-3)
        rng, history = ctx.rng(), []
        with blas_threads(1):
            for _ in range(D_STEPS[ctx.quick]):
                real = fk.tensor(eight_gaussians(BATCH, rng)[0])
                with fk.no_grad():
                    fake = G(fk.randn(BATCH, 2, generator=generator))
                loss = discriminator_loss(D(real), D(fake))
                opt.zero_grad()
                loss.backward()
                opt.step()
                history.append(float(loss))
            logits = D(G(fk.randn(BATCH, 2, generator=generator)))
            p_fake = fk.sigmoid(logits)
            params = list(G.parameters())
            norms = {kind: gradient_norm(generator_loss(logits, kind), params) for kind in ("non_saturating", "minimax")}
            by_logit = {kind: fk.autograd.grad(generator_loss(logits, kind), [logits], retain_graph=True)[0].detach().numpy()
                        for kind in ("non_saturating", "minimax")}
        p = p_fake.detach().numpy().astype(np.float64)
        closed = {"non_saturating": -(1 - p) / BATCH, "minimax": -p / BATCH}
        return Measurement(values={
            "D training steps": D_STEPS[ctx.quick], "mean D(G(z))": float(p.mean()),
            "‖∇_G loss‖": norms, "non-saturating / minimax gradient": norms["non_saturating"] / norms["minimax"],
            "max |∂loss/∂logit − closed form| (relative)": float(max(
                np.abs(by_logit[k] - closed[k]).max() / np.abs(closed[k]).max() for k in closed))},
            plot_data={"p": p, "history": history})

    def checks(self, m: dict) -> list[Check]:
        return [Check("D rejects the fakes: mean D(G(z))", m["mean D(G(z))"], "<", CONFIDENT),
                Check("∂loss/∂logit matches −D(G(z)) and −(1 − D(G(z))): relative error",
                      m["max |∂loss/∂logit − closed form| (relative)"], "≤", 1e-5),
                Check("non-saturating / minimax gradient norm", m["non-saturating / minimax gradient"], "≥", STRONGER)]

    summary_template = """The non-saturating loss gives G a {m[non-saturating / minimax gradient]:.0f}× larger gradient when D wins.
        After {m[D training steps]} steps D scores the fakes {m[mean D(G(z))]:.3f} on average; the minimax loss
        log(1 − D(G(z))) then passes G a gradient of norm {minimax:.2e}, the non-saturating −log D(G(z)) one of
        {ns:.2e}; both match their closed forms −D and −(1 − D) with respect to the logit."""

    def summary_values(self, m: dict) -> dict:
        return {"minimax": m["‖∇_G loss‖"]["minimax"], "ns": m["‖∇_G loss‖"]["non_saturating"]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        p = measurement.plot_data["p"]

        def draw(fig):
            ax = fig.subplots()
            grid = np.linspace(1e-3, 1 - 1e-3, 200)
            ax.plot(grid, grid, label="minimax: |∂/∂logit| = D(G(z))")
            ax.plot(grid, 1 - grid, label="non-saturating: |∂/∂logit| = 1 − D(G(z))")
            ax.hist(p, bins=30, density=True, alpha=0.3, label="D(G(z)) of the fakes after training D")
            ax.set(xlabel="D(G(z))", ylabel="gradient magnitude per sample", xscale="log")
            ax.legend(fontsize=8)

        return save_figure(ctx, self.id, draw)
