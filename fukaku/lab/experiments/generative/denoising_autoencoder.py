"""A denoising autoencoder removes noise (seed 004 §3.5, regularised autoencoders): trained to reconstruct clean
images from corrupted ones, its output on a corrupted held-out image is closer to the clean image than the
corrupted input was — for Gaussian and for masking noise."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku.models.generative import Autoencoder, DenoisingAutoencoder, corrupt

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ....ops._parallel import blas_threads
from ._common import fit_adam, images

NOISES = {"Gaussian σ = 0.3": ("gaussian", 0.3), "masking p = 0.3": ("mask", 0.3)}
HIDDEN = {8: (128, 32), 28: (256, 64)}          # hidden and code widths by image side (digits, MNIST)
TRAINING = {True: {"steps": 1000, "lr": 1e-2, "batch": 64}, False: {"steps": 4000, "lr": 3e-3, "batch": 64}}
REMOVES = 0.5   # error of the denoised image vs the clean one, as a share of the corrupted input's error


def squared_error(a: fk.Tensor, b: fk.Tensor) -> float:
    """Σ_i (a_i − b_i)² per image, averaged over the images."""
    return ((a - b) ** 2).sum(1).mean().item()


class DenoisingAutoencoderRemovesNoise(Experiment, id="denoising-autoencoder", source="seed 004 §3.5"):
    """A denoising autoencoder removes noise.

    A denoising autoencoder is trained to reconstruct x from a corrupted x̃ (seed 004 §3.5, a regularised
    autoencoder: it cannot copy its input, so it learns the data's structure). On the digits (MNIST in the full
    run), for Gaussian noise (σ = 0.3) and masking noise (30% of the pixels set to 0), its output on corrupted
    held-out images has at most half the squared error to the clean images that the corrupted images have, and
    less than the same autoencoder trained on clean images only.
    """

    def measure(self, ctx: Context) -> Measurement:
        data, config = images(ctx), TRAINING[ctx.quick]
        sizes = [data.train.shape[1], *HIDDEN[data.side]]
        clean = fk.tensor(data.test)
        errors, shown = {}, {}
        with blas_threads(1):
            fk.manual_seed(ctx.seed)
            plain = Autoencoder(sizes, output_activation="sigmoid")
            fit_adam(plain, data.train, config["steps"], config["lr"], config["batch"], ctx.seed)
            for name, (noise, level) in NOISES.items():
                fk.manual_seed(ctx.seed)
                model = DenoisingAutoencoder(sizes, noise=noise, level=level, output_activation="sigmoid")
                fit_adam(model, data.train, config["steps"], config["lr"], config["batch"], ctx.seed)
                noisy = corrupt(clean, noise, level, generator=fk.Generator().manual_seed(ctx.seed + 1))
                with fk.no_grad():
                    denoised, plain_out = model(noisy), plain(noisy)
                    errors[name] = {"corrupted input": squared_error(noisy, clean),
                                    "denoising AE": squared_error(denoised, clean),
                                    "AE trained on clean images": squared_error(plain_out, clean),
                                    "denoising AE on clean inputs": squared_error(model(clean), clean)}
                shown[name] = (noisy[:6].numpy(), denoised[:6].numpy())
        return Measurement(
            values={"data": data.description, "layer widths": sizes,
                    "Adam steps, rate, batch": [config["steps"], config["lr"], config["batch"]],
                    "squared error to the clean test images, per image": errors,
                    "denoised / corrupted error": {name: e["denoising AE"] / e["corrupted input"]
                                                   for name, e in errors.items()},
                    "denoising AE / clean-trained AE error": {name: e["denoising AE"] / e["AE trained on clean images"]
                                                              for name, e in errors.items()}},
            plot_data={"clean": data.test[:6], "shown": shown, "side": data.side})

    def checks(self, m: dict) -> list[Check]:
        checks = []
        for name in NOISES:
            checks.append(Check(f"{name}: denoised error / corrupted input's", m["denoised / corrupted error"][name],
                                "≤", REMOVES))
            checks.append(Check(f"{name}: denoising AE error / clean-trained AE's",
                                m["denoising AE / clean-trained AE error"][name], "<", 1.0))
        return checks

    summary_template = """Denoised error ≤ {worst:.0%} of the corrupted input's (Gaussian {g:.0%}, masking {k:.0%}).
        On held-out images of {m[data]} the squared error to the clean image falls from {g_in:.2f} to {g_out:.2f}
        per image under Gaussian noise (σ = 0.3) and from {k_in:.2f} to {k_out:.2f} under masking noise (30%); the
        same autoencoder trained on clean images leaves {g_plain:.2f} and {k_plain:.2f}."""

    def summary_values(self, m: dict) -> dict:
        ratio, errors = m["denoised / corrupted error"], m["squared error to the clean test images, per image"]
        g, k = errors["Gaussian σ = 0.3"], errors["masking p = 0.3"]
        return {"worst": max(ratio.values()), "g": ratio["Gaussian σ = 0.3"], "k": ratio["masking p = 0.3"],
                "g_in": g["corrupted input"], "g_out": g["denoising AE"], "g_plain": g["AE trained on clean images"],
                "k_in": k["corrupted input"], "k_out": k["denoising AE"], "k_plain": k["AE trained on clean images"]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        clean, shown, side = (measurement.plot_data[key] for key in ("clean", "shown", "side"))
        rows = [("clean", clean)] + [(f"{name}\n{kind}", images) for name, pair in shown.items()
                                     for kind, images in zip(("corrupted", "denoised"), pair)]

        def draw(fig):
            axes = fig.subplots(len(rows), len(clean))
            for r, (name, batch) in enumerate(rows):
                for c, image in enumerate(batch):
                    axes[r, c].imshow(np.clip(image.reshape(side, side), 0, 1), cmap="gray_r", vmin=0, vmax=1)
                    axes[r, c].set(xticks=[], yticks=[])
                axes[r, 0].set_ylabel(name, fontsize=7)

        return save_figure(ctx, self.id, draw, figsize=(7, 1.2 * len(rows)))
