"""Without a bottleneck an autoencoder learns the identity (seed 004 §3.5): with as many codes as inputs it copies
anything, noise included; an undercomplete one cannot."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku.models.generative import Autoencoder

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ....ops._parallel import blas_threads
from ._common import digits, fit_lbfgs, relative_error

WIDTHS = {True: (64, 8), False: (64, 96, 8)}   # code widths on the digits' 64 pixels (quick, full)
ITERATIONS = {True: 150, False: 600}             # L-BFGS iterations
NOISE_IMAGES = 500
COPIES = 1e-6        # relative error of an autoencoder without a bottleneck, on test digits and on noise
MISSES = {"test images": 0.1, "noise images": 0.5}   # an undercomplete one misses at least this share


def noise_like(train: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` images whose pixels are independent normal draws with each pixel's training mean and standard deviation
    (a pixel constant in training stays at its constant): the first two moments of the data, nothing of its
    structure."""
    return train.mean(0) + train.std(0) * np.random.default_rng(seed).standard_normal((n, train.shape[1]))


class AutoencoderIdentity(Experiment, id="autoencoder-identity", source="seed 004 §3.5"):
    """Without a bottleneck an autoencoder learns the identity.

    An autoencoder with no bottleneck and no regulariser can make g(f(x)) = x and learns nothing about the data
    (seed 004 §3.5). Linear autoencoders trained to minimise the squared error on the digits (pixels standardised):
    with a code as wide as the input (and, in the full run, wider) the relative
    reconstruction error Σ‖x − x̂‖² / Σ‖x − x̄‖² is below 1e-6 on held-out digits and on noise images that share
    only each pixel's mean and variance with the digits — it copies whatever it is given. With an 8-unit code
    (undercomplete) it misses at least 10% of the held-out digits' variance and at least half of the noise's.
    """

    def measure(self, ctx: Context) -> Measurement:
        data = digits(ctx.seed)   # both runs: a linear map on MNIST's 784 pixels, 784 wide, is minutes of L-BFGS
        train, test = data.train.astype(np.float64), data.test.astype(np.float64)
        mean, scale = train.mean(0), np.where(train.std(0) > 0, train.std(0), 1.0)
        standardise = lambda a: (a - mean) / scale                          # noqa: E731
        train, test = standardise(train), standardise(test)
        noise = noise_like(train, NOISE_IMAGES, ctx.seed)
        d = train.shape[1]
        widths = WIDTHS[ctx.quick]
        errors, examples = {}, {}
        for k in widths:
            fk.manual_seed(ctx.seed)
            model = Autoencoder([d, k], activation="identity", dtype=fk.float64)
            with blas_threads(1):
                fit_lbfgs(model, fk.tensor(train), ITERATIONS[ctx.quick])
            inputs = {"test images": test, "noise images": noise}
            with fk.no_grad():
                out = {name: model(fk.tensor(x)).numpy() for name, x in inputs.items()}
            errors[f"k = {k}"] = {name: relative_error(x, out[name], train) for name, x in inputs.items()}
            examples[k] = (out["test images"][:4] * scale + mean, out["noise images"][:4] * scale + mean)
        return Measurement(
            values={"data": data.description, "input width d": d, "code widths k": list(widths),
                    "L-BFGS iterations": ITERATIONS[ctx.quick], "noise images": NOISE_IMAGES,
                    "relative reconstruction error": errors},
            plot_data={"examples": examples, "originals": (test[:4] * scale + mean, noise[:4] * scale + mean),
                       "side": data.side})

    def checks(self, m: dict) -> list[Check]:
        d, checks = m["input width d"], []
        for key, errors in m["relative reconstruction error"].items():
            k = int(key.removeprefix("k = "))
            for name, value in errors.items():
                if k >= d:
                    checks.append(Check(f"k = {k} ≥ d: relative error on {name}", value, "≤", COPIES))
                else:
                    checks.append(Check(f"k = {k} < d: relative error on {name}", value, "≥", MISSES[name]))
        return checks

    summary_template = """Code ≥ input copies noise (error {copy:.0e}); an 8-unit code misses {miss:.0%} of it.
        Linear autoencoders trained on {m[data]} (standardised pixels): {details}. The relative error is
        Σ‖x − x̂‖² / Σ‖x − x̄‖²; the noise images share only each pixel's mean and variance with the data."""

    def summary_values(self, m: dict) -> dict:
        d, errors = m["input width d"], m["relative reconstruction error"]
        wide = [e for key, e in errors.items() if int(key.removeprefix("k = ")) >= d]
        narrow = [e for key, e in errors.items() if int(key.removeprefix("k = ")) < d]
        details = "; ".join(f"{key} (d = {d}): {e['test images']:.1e} on held-out images, {e['noise images']:.1e} "
                            "on noise" for key, e in errors.items())
        return {"copy": max(e["noise images"] for e in wide), "miss": min(e["noise images"] for e in narrow),
                "details": details}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        examples, originals, side = (measurement.plot_data[key] for key in ("examples", "originals", "side"))
        rows = [("input", originals)] + [(f"k = {k}", pair) for k, pair in examples.items()]

        def draw(fig):
            axes = fig.subplots(len(rows), 8)
            for r, (name, (held_out, noise)) in enumerate(rows):
                for c, image in enumerate([*held_out, *noise]):
                    ax = axes[r, c]
                    ax.imshow(image.reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
                    ax.set(xticks=[], yticks=[])
                axes[r, 0].set_ylabel(name, fontsize=8)
            axes[0, 1].set_title("held-out digits", fontsize=9)
            axes[0, 5].set_title("noise images", fontsize=9)

        return save_figure(ctx, self.id, draw, figsize=(9, 1.2 * len(rows) + 0.4))
