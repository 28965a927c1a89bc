"""The VAE's evidence lower bound lies below the importance-sampled log-likelihood, which rises with the number of
samples (seed 000 §6.5 and its checks); the trained VAE's test ELBO, its 2-D latent space decoded as a grid of
digits, and an interpolation between two digits."""
from __future__ import annotations

from pathlib import Path
from statistics import NormalDist

import numpy as np

import fukaku as fk
from fukaku.models.generative import VAE

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ....ops._parallel import blas_threads
from ._common import fit_adam, images

LATENT = 2                      # a 2-D latent space, drawn as a grid of decoded images
HIDDEN = {8: (128,), 28: (256,)}
TRAINING = {True: {"steps": 1500, "lr": 3e-3, "batch": 128}, False: {"steps": 8000, "lr": 1e-3, "batch": 128}}
KS = (1, 4, 32, 256)            # importance samples per estimate of log p(x)
REPEATS = {1: 48, 4: 32, 32: 16, 256: 4}   # independent estimates averaged for each k (ELBO: as for k = 1)
EVALUATED = {True: None, False: 500}   # test images the bounds are measured on (None: all)
SAME = 4.0                      # |E[IS, k = 1] − E[ELBO]| within this many standard errors
GRID, STEPS = 15, 10            # the latent grid's side, the interpolation's images


def independent_pixels(train: np.ndarray, test: np.ndarray) -> float:
    """The mean test log-likelihood (nats per image) of independent Bernoulli pixels with the training means: the
    best a model that ignores z can do (a VAE whose decoder outputs a constant)."""
    p = np.clip(train.mean(0), 1e-4, 1 - 1e-4)
    return float((test * np.log(p) + (1 - test) * np.log(1 - p)).sum(1).mean())


class VAEElboBound(Experiment, id="vae-elbo-bound", source="seed 000 §6.5"):
    """The ELBO is a lower bound on log p(x), and importance sampling tightens it.

    A VAE maximises ELBO(x) = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)) with q = N(μ, diag σ²) and z = μ + σ ⊙ ε
    (seed 000 §6.5); ELBO ≤ log p(x). Trained on the digits (MNIST in the full run) with a 2-D latent space and a
    Bernoulli decoder, on held-out images: the importance-sampled estimate log (1/k) Σ p(x, z_i)/q(z_i|x) equals the
    ELBO in expectation at k = 1 (within 4 standard errors), rises with k (k = 1, 4, 32, 256) and lies above the
    ELBO for every k > 1; the ELBO beats the best model that ignores z (independent Bernoulli pixels). The full run
    draws the decoded latent grid and an interpolation between two digits.
    """

    def measure(self, ctx: Context) -> Measurement:
        data, config = images(ctx), TRAINING[ctx.quick]
        fk.manual_seed(ctx.seed)
        model = VAE(data.train.shape[1], LATENT, HIDDEN[data.side])
        chosen = slice(None) if EVALUATED[ctx.quick] is None else slice(0, EVALUATED[ctx.quick])
        test, labels = data.test[chosen], data.test_labels[chosen]
        x = fk.tensor(test)
        generator = fk.Generator().manual_seed(ctx.seed + 1)
        with blas_threads(1):
            losses = fit_adam(model, data.train, config["steps"], config["lr"], config["batch"], ctx.seed)
            with fk.no_grad():
                elbo = np.array([model.elbo(x, generator).mean().item() for _ in range(REPEATS[1])])
                bounds = {k: np.array([model.log_likelihood(x, k, generator).mean().item() for _ in range(REPEATS[k])])
                          for k in KS}
                mu, _ = model.encode(x)
                grid, path = self._pictures(model, mu.numpy(), labels)
        standard_error = lambda v: float(v.std(ddof=1) / np.sqrt(len(v)))   # noqa: E731
        return Measurement(
            values={"data": data.description, "test images evaluated": len(test), "latent dimensions": LATENT,
                    "hidden widths": list(HIDDEN[data.side]),
                    "Adam steps, rate, batch": [config["steps"], config["lr"], config["batch"]],
                    "final training loss (−ELBO, mean of the last 100 steps)": float(losses[-100:].mean()),
                    "test ELBO (nats per image)": float(elbo.mean()),
                    "test ELBO standard error": standard_error(elbo),
                    "importance-sampled log p(x) by k (nats per image)": {str(k): float(v.mean())
                                                                         for k, v in bounds.items()},
                    "standard errors by k": {str(k): standard_error(v) for k, v in bounds.items()},
                    "repeats by k": {str(k): REPEATS[k] for k in KS},
                    "independent Bernoulli pixels (nats per image)": independent_pixels(data.train, test)},
            plot_data={"grid": grid, "path": path, "mu": mu.numpy(), "labels": labels, "side": data.side})

    @staticmethod
    def _pictures(model: VAE, mu: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """E[x | z] on a GRID × GRID grid of z at the normal quantiles 0.03 … 0.97 (so that the grid covers p(z)
        evenly), and on STEPS points of the segment between the codes μ of the first two test images whose labels
        differ."""
        quantiles = [NormalDist().inv_cdf(q) for q in np.linspace(0.03, 0.97, GRID)]
        z = np.array([[a, b] for b in quantiles[::-1] for a in quantiles])
        first = 0
        second = int(np.argmax(labels != labels[first]))
        t = np.linspace(0, 1, STEPS)[:, None]
        line = (1 - t) * mu[first] + t * mu[second]
        with fk.no_grad():
            return (model.mean(fk.tensor(z.astype(np.float32))).numpy(),
                    model.mean(fk.tensor(line.astype(np.float32))).numpy())

    def checks(self, m: dict) -> list[Check]:
        bound, se = m["importance-sampled log p(x) by k (nats per image)"], m["standard errors by k"]
        elbo, elbo_se = m["test ELBO (nats per image)"], m["test ELBO standard error"]
        checks = [Check("k = 1 equals the ELBO in expectation: |difference| / its standard error",
                        abs(bound["1"] - elbo) / np.hypot(se["1"], elbo_se), "≤", SAME)]
        for small, large in zip(KS, KS[1:]):
            checks.append(Check(f"rises with k: estimate at k = {large} − at k = {small}",
                                bound[str(large)] - bound[str(small)], ">", 0.0))
        checks += [Check(f"ELBO ≤ estimate at k = {k}: estimate − ELBO", bound[str(k)] - elbo, ">", 0.0)
                   for k in KS[1:]]
        checks.append(Check("test ELBO − log-likelihood of independent Bernoulli pixels",
                            elbo - m["independent Bernoulli pixels (nats per image)"], ">", 0.0))
        return checks

    summary_template = """Test ELBO {m[test ELBO (nats per image)]:.2f} ≤ log p(x) ≈ {best:.2f} (k = {kmax}) nats per
        image. Trained on {m[data]} ({m[latent dimensions]}-D latent, Bernoulli decoder), the importance-sampled
        estimate on {m[test images evaluated]} held-out images is {estimates}; at k = 1 it matches the ELBO
        ({m[test ELBO (nats per image)]:.3f} ± {m[test ELBO standard error]:.3f}). Independent Bernoulli pixels, the
        best a model ignoring z can do, get {m[independent Bernoulli pixels (nats per image)]:.2f}."""

    def summary_values(self, m: dict) -> dict:
        bound, se = m["importance-sampled log p(x) by k (nats per image)"], m["standard errors by k"]
        estimates = ", ".join(f"{bound[str(k)]:.3f} ± {se[str(k)]:.3f} at k = {k}" for k in KS)
        return {"best": bound[str(KS[-1])], "kmax": KS[-1], "estimates": estimates}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        grid, path, mu, labels, side = (measurement.plot_data[key] for key in ("grid", "path", "mu", "labels", "side"))

        def tile(batch: np.ndarray, columns: int) -> np.ndarray:
            """The images side by side, ``columns`` per row, each framed by one blank pixel."""
            rows, size = len(batch) // columns, side + 2
            framed = np.pad(batch.reshape(rows, columns, side, side), ((0, 0), (0, 0), (1, 1), (1, 1)))
            return framed.transpose(0, 2, 1, 3).reshape(rows * size, columns * size)

        def draw(fig):
            spec = fig.add_gridspec(2, 2, height_ratios=(5, 1))
            left, right, bottom = fig.add_subplot(spec[0, 0]), fig.add_subplot(spec[0, 1]), fig.add_subplot(spec[1, :])
            left.imshow(tile(grid, GRID), cmap="gray_r", vmin=0, vmax=1)
            left.set(xticks=[], yticks=[], title="E[x | z] over the latent grid (normal quantiles)")
            points = right.scatter(mu[:, 0], mu[:, 1], c=labels, cmap="tab10", s=6)
            fig.colorbar(points, ax=right, ticks=range(10), label="digit")
            right.set(xlabel="μ₁", ylabel="μ₂", title="codes μ(x) of held-out images")
            bottom.imshow(tile(path, STEPS), cmap="gray_r", vmin=0, vmax=1)
            bottom.set(xticks=[], yticks=[], title="interpolation between two held-out digits' codes")

        return save_figure(ctx, self.id, draw, figsize=(11, 7))
