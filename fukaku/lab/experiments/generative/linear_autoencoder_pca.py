"""A linear autoencoder trained on squared error learns the span of the first principal components (seed 004 §3.5,
undercomplete autoencoders), checked against scikit-learn's PCA by principal angles."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku.models.generative import Autoencoder

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ....ops._parallel import blas_threads
from ._common import digits, fit_lbfgs

CODE = 4                          # k: the code width (the digits' 4th and 5th variances differ by a third)
ITERATIONS = 300                  # L-BFGS iterations
SEEDS = {True: 1, False: 5}       # initialisations of the autoencoder (quick, full); the worst one is checked
ANGLE = 1.0                       # degrees: the largest principal angle to the PCA subspace
EXCESS = 1e-3                     # the AE's training error exceeds PCA's by at most this fraction
SAME = 0.005                      # root-mean-square of x̂_AE − x̂_PCA over the test pixels (pixels lie in [0, 1])


def principal_angles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The principal angles (degrees, ascending) between the column spaces of ``a`` and ``b`` (Björck–Golub: the
    arc-cosines of the singular values of Q_aᵀQ_b)."""
    qa, qb = np.linalg.qr(a)[0], np.linalg.qr(b)[0]
    cosines = np.clip(np.linalg.svd(qa.T @ qb, compute_uv=False), -1.0, 1.0)
    return np.sort(np.degrees(np.arccos(cosines)))


class LinearAutoencoderPCA(Experiment, id="linear-autoencoder-pca", source="seed 004 §3.5"):
    """A linear autoencoder spans the PCA subspace.

    An undercomplete autoencoder h = f(x), x̂ = g(h) with linear f and g, trained to minimise the squared error
    ‖x − g(f(x))‖², learns the same subspace as principal component analysis (seed 004 §3.5: dim h < dim x forces
    the code to keep what varies most). With k = 4 codes on the digits (one initialisation in the quick run, five in
    the full run; the worst is checked) the decoder's columns span the first 4 principal components to within 1°
    (every principal angle), the training error is PCA's (within 0.1%), and the two reconstructions of held-out
    images agree (root-mean-square difference ≤ 0.005 per pixel) — although the decoder's columns are not the
    components themselves. (The digits in both runs: on MNIST's 784 pixels 1,000 L-BFGS iterations left the
    subspace 50° away, the error 2% above PCA's.)
    """

    def measure(self, ctx: Context) -> Measurement:
        from sklearn.decomposition import PCA  # the oracle (scikit-learn also ships the digits)

        data = digits(ctx.seed)
        train, test = data.train.astype(np.float64), data.test.astype(np.float64)
        pca = PCA(n_components=CODE).fit(train)
        components = pca.components_.T                                      # (d, k)
        pca_test = pca.inverse_transform(pca.transform(test))
        pca_loss = float(((train - pca.inverse_transform(pca.transform(train))) ** 2).sum(1).mean())
        runs = []
        for seed in range(ctx.seed, ctx.seed + SEEDS[ctx.quick]):         # initialisations
            fk.manual_seed(seed)
            model = Autoencoder([train.shape[1], CODE], activation="identity", dtype=fk.float64)
            with blas_threads(1):
                loss = fit_lbfgs(model, fk.tensor(train), ITERATIONS)
            decoder = model.decoder[0].weight.detach().numpy()              # (d, k): x̂ = W h + b
            with fk.no_grad():
                gap = model(fk.tensor(test)).numpy() - pca_test
            columns = decoder / np.linalg.norm(decoder, axis=0)
            runs.append({"angles": principal_angles(decoder, components), "ratio": loss / pca_loss,
                         "rms": float(np.sqrt((gap ** 2).mean())), "max": float(np.abs(gap).max()),
                         "cos": float(np.abs(columns.T @ components).max()), "decoder": decoder})
        return Measurement(
            values={"data": data.description, "code width k": CODE, "L-BFGS iterations": ITERATIONS,
                    "initialisations": len(runs),
                    "principal angles to the PCA subspace (degrees), first run": runs[0]["angles"].round(4).tolist(),
                    "largest principal angle (degrees)": float(max(r["angles"].max() for r in runs)),
                    "training squared error per image: PCA": pca_loss,
                    "AE error / PCA error": max(r["ratio"] for r in runs),
                    "RMS of x̂_AE − x̂_PCA on the test images": max(r["rms"] for r in runs),
                    # pixels almost never lit in training leave the encoder's weights on them nearly free:
                    "max |x̂_AE − x̂_PCA| on the test images": max(r["max"] for r in runs),
                    "explained variance ratios of the components": pca.explained_variance_ratio_.round(4).tolist(),
                    "largest |cos| between a decoder column and a component": max(r["cos"] for r in runs)},
            plot_data={"decoder": runs[0]["decoder"], "components": components, "side": data.side})

    def checks(self, m: dict) -> list[Check]:
        return [Check("largest principal angle between the decoder's span and PCA's (degrees)",
                      m["largest principal angle (degrees)"], "≤", ANGLE),
                Check("AE training error / PCA's", m["AE error / PCA error"], "≤", 1 + EXCESS),
                Check("RMS of x̂_AE − x̂_PCA on held-out images", m["RMS of x̂_AE − x̂_PCA on the test images"], "≤",
                      SAME)]

    summary_template = """Linear AE vs PCA, k = {m[code width k]}: largest principal angle
        {m[largest principal angle (degrees)]:.3f}°. Trained by L-BFGS on {m[data]} ({runs}), the autoencoder's
        squared error is {m[AE error / PCA error]:.5f} × PCA's and its reconstructions of held-out images differ from
        PCA's by {m[RMS of x̂_AE − x̂_PCA on the test images]:.1e} per pixel (root mean square; at most
        {m[max |x̂_AE − x̂_PCA| on the test images]:.1e}, on pixels training hardly ever lit), while its decoder
        columns are not the components (the best-aligned pair has |cos| =
        {m[largest |cos| between a decoder column and a component]:.3f}): the autoencoder finds the subspace, not
        its basis."""

    def summary_values(self, m: dict) -> dict:
        n = m["initialisations"]
        return {"runs": "one initialisation" if n == 1 else f"the worst of {n} initialisations"}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        decoder, components, side = (measurement.plot_data[key] for key in ("decoder", "components", "side"))

        def draw(fig):
            axes = fig.subplots(2, CODE)
            for j in range(CODE):
                for row, (vectors, name) in enumerate(((components, "PCA component"), (decoder, "decoder column"))):
                    ax = axes[row, j]
                    v = vectors[:, j].reshape(side, side)
                    ax.imshow(v, cmap="RdBu_r", vmin=-np.abs(v).max(), vmax=np.abs(v).max())
                    ax.set(xticks=[], yticks=[], title=f"{name} {j + 1}")
                    ax.title.set_fontsize(8)
            fig.suptitle("same span, different basis")

        return save_figure(ctx, self.id, draw, figsize=(2 * CODE, 4.4))
