"""The KL sparsity penalty of seed 004 §3.5 vanishes exactly at the target activation ρ = 0.05 and is positive
elsewhere; a sparse autoencoder trained with it holds each code unit's mean activation at ρ."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku.models.generative import SparseAutoencoder, kl_sparsity

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ....ops._parallel import blas_threads
from ._common import fit_adam, images

RHO = 0.05                 # the text's target activation
UNITS = 100                # sigmoid code units (overcomplete on the 64 pixels of the digits)
WEIGHT = 3.0               # η per 64 pixels: the penalty's weight grows with the reconstruction error's d terms
GRID = np.round(np.linspace(0.005, 0.995, 199), 6)   # mean activations ĥ at which Ω is evaluated (ρ among them)
TRAINING = {True: {"steps": 800, "lr": 1e-2, "batch": 128}, False: {"steps": 4000, "lr": 5e-3, "batch": 128}}
CLOSE = 0.01               # |mean over units of ĥ_j − ρ| after training
EACH = 0.03                # max_j |ĥ_j − ρ| after training
DENSE = 0.2                # without the penalty the units' mean activation is at least this


class SparseAutoencoderKL(Experiment, id="sparse-autoencoder-kl", source="seed 004 §3.5"):
    """The KL sparsity penalty is zero at ĥ = ρ, and training holds each unit's mean activation at ρ.

    A sparse autoencoder adds ηΩ to the reconstruction error, Ω = Σ_j ρ log(ρ/ĥ_j) + (1 − ρ) log((1 − ρ)/(1 − ĥ_j))
    with ĥ_j the batch mean of the sigmoid code unit j and ρ = 0.05 (seed 004 §3.5). Ω is 0 when ĥ_j = ρ and
    positive for every other ĥ_j in (0, 1) (evaluated on a grid of 199 values). Trained on the digits (MNIST in the
    full run) with 100 code units and η = 3 per 64 pixels, the units' mean activation on held-out images is within
    0.01 of ρ and each unit's within 0.03, where the same autoencoder without the penalty keeps its units on (mean
    activation ≥ 0.2).
    """

    def measure(self, ctx: Context) -> Measurement:
        grid = np.array([kl_sparsity(fk.full((2, 1), float(r), dtype=fk.float64), RHO).item() for r in GRID])
        at_rho = kl_sparsity(fk.full((2, UNITS), RHO, dtype=fk.float64), RHO).item()
        data, config = images(ctx), TRAINING[ctx.quick]
        test = fk.tensor(data.test)
        means, errors, curves = {}, {}, {}
        eta = WEIGHT * data.train.shape[1] / 64
        for name, weight in (("sparse", eta), ("no penalty", 0.0)):
            fk.manual_seed(ctx.seed)
            model = SparseAutoencoder([data.train.shape[1], UNITS], penalty="kl", weight=weight, rho=RHO)
            with blas_threads(1):
                curves[name] = fit_adam(model, data.train, config["steps"], config["lr"], config["batch"], ctx.seed)
            with fk.no_grad():
                means[name] = model.encode(test).mean(0).numpy().astype(np.float64)
                errors[name] = model.reconstruction_error(test).mean().item()
        sparse = means["sparse"]
        off = np.abs(GRID - RHO) > 1e-9
        return Measurement(
            values={"data": data.description, "ρ": RHO, "code units": UNITS, "η": eta,
                    "Adam steps, rate, batch": [config["steps"], config["lr"], config["batch"]],
                    "Ω at ĥ = ρ": at_rho, "smallest Ω at ĥ ≠ ρ on the grid": float(grid[off].min()),
                    "ĥ of the grid's smallest Ω": float(GRID[np.argmin(grid)]),
                    "Ω at ĥ = 0.5 (one unit)": float(grid[np.argmin(np.abs(GRID - 0.5))]),
                    "mean activation over units (test images)": {k: float(v.mean()) for k, v in means.items()},
                    "max_j |ĥ_j − ρ|, sparse": float(np.abs(sparse - RHO).max()),
                    "test squared error per image": errors},
            plot_data={"grid": grid, "means": means})

    def checks(self, m: dict) -> list[Check]:
        mean = m["mean activation over units (test images)"]
        return [Check("Ω at ĥ = ρ", m["Ω at ĥ = ρ"], "=", 0.0),
                Check("smallest Ω at any other ĥ on the grid", m["smallest Ω at ĥ ≠ ρ on the grid"], ">", 0.0),
                Check("|mean activation − ρ| of the trained sparse AE", abs(mean["sparse"] - RHO), "≤", CLOSE),
                Check("max_j |ĥ_j − ρ| of the trained sparse AE", m["max_j |ĥ_j − ρ|, sparse"], "≤", EACH),
                Check("mean activation without the penalty", mean["no penalty"], "≥", DENSE)]

    summary_template = """Ω = 0 at ĥ = ρ = {m[ρ]}; trained units' mean activation {sparse:.4f} (no penalty:
        {dense:.2f}).
        On a grid of 199 mean activations Ω is smallest at ĥ = {m[ĥ of the grid's smallest Ω]}, its smallest value
        elsewhere {m[smallest Ω at ĥ ≠ ρ on the grid]:.1e} (one unit at ĥ = 0.5: {m[Ω at ĥ = 0.5 (one unit)]:.3f}).
        With η = {m[η]:g} the {m[code units]} sigmoid units of an autoencoder trained on {m[data]} are active
        {sparse:.4f} on average on held-out images, every unit within {m[max_j |ĥ_j − ρ|, sparse]:.3f} of ρ; the
        penalty costs reconstruction: {err_sparse:.2f} squared error per image against {err_dense:.2f} without it."""

    def summary_values(self, m: dict) -> dict:
        mean, errors = m["mean activation over units (test images)"], m["test squared error per image"]
        return {"sparse": mean["sparse"], "dense": mean["no penalty"], "err_sparse": errors["sparse"],
                "err_dense": errors["no penalty"]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        grid, means = measurement.plot_data["grid"], measurement.plot_data["means"]

        def draw(fig):
            left, right = fig.subplots(1, 2)
            left.plot(GRID, grid, color="#46c")
            left.axvline(RHO, color="#999", ls="--", label=f"ρ = {RHO}")
            left.set(xlabel="mean activation ĥ of a unit", ylabel="KL(ρ ‖ ĥ)", yscale="log",
                     title="the sparsity penalty of one unit")
            left.legend(fontsize=8)
            bins = np.linspace(0, 1, 51)
            for (name, values), colour in zip(means.items(), ("#c44", "#999")):
                right.hist(values, bins=bins, color=colour, alpha=0.7, label=name)
            right.axvline(RHO, color="#46c", ls="--")
            right.set(xlabel="mean activation ĥ_j on held-out images", ylabel="code units", title="trained units")
            right.legend(fontsize=8)

        return save_figure(ctx, self.id, draw, figsize=(10, 4))
