"""An RBM trained by contrastive divergence on binarised 8×8 digits: reconstruction error falls, the exact
likelihood rises above independent pixels, and the free-energy gap between test and train is reported
(seed 000 §6.1.5)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku.models.energy import RBM

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ..generative._common import digits

HIDDEN = 16                    # 2^16 hidden states: log Z exact, so the likelihood is measured, not estimated
QUICK = {"epochs": 8, "batch": 20, "lr": 0.1}
FULL = {"epochs": 40, "batch": 20, "lr": 0.1}
SAMPLE_CHAINS, SAMPLE_STEPS = 16, 500
ERROR_RATIO = 0.7             # the last epoch's reconstruction error is under 70% of the first's


def independent_pixels_log_likelihood(train: np.ndarray, test: np.ndarray) -> float:
    """Mean log-likelihood of ``test`` under independent Bernoulli pixels fitted to ``train`` (add-one smoothed)."""
    p = (train.sum(0) + 1) / (len(train) + 2)
    return float((test * np.log(p) + (1 - test) * np.log(1 - p)).sum(1).mean())


class RBMDigits(Experiment, id="rbm-digits", source="seed 000 §6.1.5"):
    """An RBM learns binarised digits by contrastive divergence.

    An RBM (64 visible, 16 hidden units) is trained with CD-1 — k = 1 step of the text's block Gibbs sampling in
    place of the model moments — on the 8×8 digits binarised at ½. The reconstruction error falls to under 70% of
    its first epoch's value; the exact log-likelihood of held-out digits (log Z by summing over the 2^16 hidden
    states) rises above the untrained model's and above independent pixels; the free-energy gap between test and
    train digits (the overfitting monitor, here equal to the log-likelihood gap) stays under a quarter of the gain.
    """

    def measure(self, ctx: Context) -> Measurement:
        cfg = QUICK if ctx.quick else FULL
        data = digits(ctx.seed)
        train = (data.train > 0.5).astype(np.float32)
        test = (data.test > 0.5).astype(np.float32)
        generator = fk.Generator().manual_seed(ctx.seed + 1)
        rbm = RBM(train.shape[1], HIDDEN, init_std=0.1, generator=generator)
        with fk.no_grad():                          # visible biases at the pixels' log-odds (Hinton's guide)
            p = (train.sum(0) + 1) / (len(train) + 2)
            rbm.visible_bias.copy_(fk.tensor(np.log(p / (1 - p)).astype(np.float32)))
        tr, te = fk.tensor(train), fk.tensor(test)
        with fk.no_grad():
            initial = float(rbm.log_prob(te).mean().item())
        rng = ctx.rng(5)
        errors = []
        for _ in range(cfg["epochs"]):
            order = rng.permutation(len(train))
            batch_errors = [rbm.cd_step(fk.tensor(train[order[i:i + cfg["batch"]]]), lr=cfg["lr"], k=1,
                                        generator=generator)
                            for i in range(0, len(train), cfg["batch"])]
            errors.append(float(np.mean(batch_errors)))
        with fk.no_grad():
            log_z = float(rbm.log_partition().item())
            ll_train = float((-rbm.free_energy(tr)).mean().item()) - log_z
            ll_test = float((-rbm.free_energy(te)).mean().item()) - log_z
            gap = float(rbm.free_energy(te).mean().item() - rbm.free_energy(tr).mean().item())
        samples = rbm.sample(SAMPLE_CHAINS, SAMPLE_STEPS, generator)
        return Measurement(values={
            "data": data.description, "hidden units": HIDDEN, "epochs": cfg["epochs"],
            "reconstruction error per epoch": errors,
            "first epoch's reconstruction error": errors[0], "last epoch's reconstruction error": errors[-1],
            "test log-likelihood, untrained (nats)": initial,
            "train log-likelihood (nats)": ll_train, "test log-likelihood (nats)": ll_test,
            "test log-likelihood, independent pixels (nats)": independent_pixels_log_likelihood(train, test),
            "free-energy gap, mean F(test) − mean F(train)": gap,
            "test reconstruction error": rbm.reconstruction_error(te),
        }, plot_data={"samples": samples.numpy(), "errors": errors})

    def checks(self, m: dict) -> list[Check]:
        return [Check("reconstruction error: last epoch / first epoch", m["last epoch's reconstruction error"]
                      / m["first epoch's reconstruction error"], "<", ERROR_RATIO),
                Check("test log-likelihood gain over the untrained RBM (nats)",
                      m["test log-likelihood (nats)"] - m["test log-likelihood, untrained (nats)"], ">", 1.0),
                Check("test log-likelihood gain over independent pixels (nats)",
                      m["test log-likelihood (nats)"] - m["test log-likelihood, independent pixels (nats)"], ">", 0.0),
                Check("free-energy gap, test − train (nats): under ¼ of the test log-likelihood gain",
                      m["free-energy gap, mean F(test) − mean F(train)"], "<",
                      0.25 * (m["test log-likelihood (nats)"] - m["test log-likelihood, untrained (nats)"]))]

    summary_template = """CD-1 cut the RBM's reconstruction error from {m[first epoch's reconstruction error]:.3f} to
        {m[last epoch's reconstruction error]:.3f}. On {m[data]}, binarised, {m[epochs]} epochs of CD-1 with
        {m[hidden units]} hidden units raised the exact test log-likelihood from
        {m[test log-likelihood, untrained (nats)]:.1f} to {m[test log-likelihood (nats)]:.1f} nats per digit
        (independent pixels: {m[test log-likelihood, independent pixels (nats)]:.1f}; train:
        {m[train log-likelihood (nats)]:.1f}). The free-energy gap, mean F(test) − mean F(train), is
        {m[free-energy gap, mean F(test) − mean F(train)]:.2f} nats, small next to the gain: no overfitting yet."""

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        d = measurement.plot_data

        def draw(fig):
            left, right = fig.subplots(1, 2)
            left.plot(range(1, len(d["errors"]) + 1), d["errors"], "o-")
            left.set(xlabel="epoch", ylabel="reconstruction error (MSE)", title="CD-1 on binarised digits")
            tiles = np.pad(d["samples"].reshape(4, 4, 8, 8), ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=0.5)
            right.imshow(tiles.transpose(0, 2, 1, 3).reshape(40, 40), cmap="gray_r", vmin=0, vmax=1)
            right.set(title=f"samples ({SAMPLE_STEPS} Gibbs steps)")
            right.axis("off")

        return save_figure(ctx, self.id, draw)
