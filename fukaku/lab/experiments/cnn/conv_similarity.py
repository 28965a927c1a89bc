"""Convolution as a similarity measure (seed 001 §9.2): ‖x − w‖² = ‖x‖² − 2xᵀw + ‖w‖², so for normalised
patches a large inner product (the convolution's output) means a small distance."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
import fukaku.nn.functional as F
from fukaku import datasets

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

SIDE = 4           # patch and filter side
BLANK = 0.1        # patches with ‖x‖ ≤ this are background (no direction to compare)


def patches(images: np.ndarray) -> np.ndarray:
    """Every SIDE × SIDE patch of ``(N, 1, H, W)`` images, read directly from the pixels: ``(N, H', W', SIDE²)``."""
    windows = np.lib.stride_tricks.sliding_window_view(images[:, 0], (SIDE, SIDE), axis=(1, 2))
    return windows.reshape(*windows.shape[:3], SIDE * SIDE)


def rank_correlations(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman's rank correlation between ``a[k]`` and ``b[k]`` for every row k. Values equal to 1e-9 are ties
    (they get their mean rank): many digit patches repeat, and float64 rounding must not order copies."""
    from scipy.stats import rankdata

    ra, rb = rankdata(np.round(a, 9), axis=1), rankdata(np.round(b, 9), axis=1)
    ra, rb = ra - ra.mean(axis=1, keepdims=True), rb - rb.mean(axis=1, keepdims=True)
    return (ra * rb).sum(axis=1) / np.sqrt((ra ** 2).sum(axis=1) * (rb ** 2).sum(axis=1))


class ConvAsSimilarity(Experiment, id="conv-as-similarity", source="seed 001 §9.2"):
    """Convolution as similarity.

    A convolution computes the inner product xᵀw of each image patch x with the filter w, and
    ‖x − w‖² = ‖x‖² − 2xᵀw + ‖w‖², so for normalised patches and filters (‖x‖ = ‖w‖ = 1) a larger inner
    product means a smaller distance: over the 4×4 patches of real 8×8 digits, the rank correlation between
    the normalised convolution output xᵀw/‖x‖ and ‖x/‖x‖ − w‖² is −1 for every filter, and the position
    where it peaks in an image is that of the nearest patch. Without normalising the patches the relation
    is lost (rank correlation above −0.5): a bright patch has a large inner product with w and lies far from it.
    """

    def measure(self, ctx: Context) -> Measurement:
        rng = ctx.rng()
        images = datasets.digits(flatten=False, return_tensors=False)[0].astype(np.float64)[:, None]
        order = rng.permutation(len(images))
        n_images, n_filters = (150, 8) if ctx.quick else (1000, 32)
        scene, donors = images[order[:n_images]], images[order[n_images:n_images + n_filters]]
        # filters: one non-blank patch of each donor digit, normalised (‖w‖ = 1)
        donor_patches = patches(donors).reshape(n_filters, -1, SIDE * SIDE)
        picks = [rng.choice(np.flatnonzero(np.linalg.norm(p, axis=1) > 1.0)) for p in donor_patches]
        w = donor_patches[np.arange(n_filters), picks]
        w /= np.linalg.norm(w, axis=1, keepdims=True)
        x = fk.tensor(scene)
        conv = F.conv2d(x, fk.tensor(w.reshape(n_filters, 1, SIDE, SIDE))).numpy()           # xᵀw, (N, K, H', W')
        norm = np.sqrt(F.conv2d(x * x, fk.ones(1, 1, SIDE, SIDE, dtype=fk.float64)).numpy())  # ‖x‖, (N, 1, H', W')
        p = patches(scene)                                                                     # (N, H', W', D)
        dist = ((p[:, None] - w[None, :, None, None]) ** 2).sum(-1)                             # ‖x − w‖²
        identity = np.abs(dist - (norm ** 2 - 2 * conv + 1.0)).max()
        unit = p / np.maximum(np.linalg.norm(p, axis=-1, keepdims=True), 1e-300)
        dist_unit = ((unit[:, None] - w[None, :, None, None]) ** 2).sum(-1)                     # ‖x/‖x‖ − w‖²
        cosine = conv / np.maximum(norm, 1e-300)
        kept = np.broadcast_to(norm > BLANK, conv.shape)                                        # non-blank patches
        per_filter = lambda a: np.stack([a[:, k][kept[:, k]] for k in range(n_filters)])  # noqa: E731
        rho_unit = rank_correlations(per_filter(cosine), per_filter(dist_unit))
        rho_raw = rank_correlations(per_filter(conv), per_filter(dist))
        # in every image, does the convolution peak where the nearest normalised patch is?
        masked_cos = np.where(kept, cosine, -np.inf).reshape(n_images, n_filters, -1)
        masked_dist = np.where(kept, dist_unit, np.inf).reshape(n_images, n_filters, -1)
        has_patch = kept.reshape(n_images, n_filters, -1).any(-1)
        same = (masked_cos.argmax(-1) == masked_dist.argmin(-1))[has_patch]
        best = np.argsort(-per_filter(cosine)[0])[:6]
        return Measurement(
            values={"images, filters": [n_images, n_filters], "non-blank patches per filter": int(kept[:, 0].sum()),
                    "max |‖x − w‖² − (‖x‖² − 2·conv + ‖w‖²)|": float(identity),
                    "normalised: rank correlation(xᵀw/‖x‖, ‖x/‖x‖ − w‖²), largest over filters": float(rho_unit.max()),
                    "raw: rank correlation(xᵀw, ‖x − w‖²), mean over filters": float(rho_raw.mean()),
                    "raw: rank correlation, smallest over filters": float(rho_raw.min()),
                    "images where the normalised conv peaks at the nearest patch": float(same.mean())},
            plot_data={"cos": per_filter(cosine)[0], "dist unit": per_filter(dist_unit)[0],
                       "conv": per_filter(conv)[0], "dist": per_filter(dist)[0], "filter": w[0].reshape(SIDE, SIDE),
                       "best patches": unit[kept[:, 0]][best]})

    def checks(self, m: dict) -> list[Check]:
        key = "normalised: rank correlation(xᵀw/‖x‖, ‖x/‖x‖ − w‖²), largest over filters"
        return [Check("‖x − w‖² = ‖x‖² − 2xᵀw + ‖w‖² with xᵀw from F.conv2d (float64)",
                      m["max |‖x − w‖² − (‖x‖² − 2·conv + ‖w‖²)|"], "≤", 1e-12),
                Check("normalised: rank correlation of inner product and distance, every filter", m[key], "≤",
                      -0.9999),
                Check("share of images where the normalised conv peaks at the nearest patch",
                      m["images where the normalised conv peaks at the nearest patch"], "=", 1.0),
                Check("raw (unnormalised) patches: mean rank correlation (the relation is lost)",
                      m["raw: rank correlation(xᵀw, ‖x − w‖²), mean over filters"], ">", -0.5)]

    summary_template = """Normalised: rank correlation(xᵀw, ‖x − w‖²) =
        {m[normalised: rank correlation(xᵀw/‖x‖, ‖x/‖x‖ − w‖²), largest over filters]:.6f}; raw patches:
        {m[raw: rank correlation(xᵀw, ‖x − w‖²), mean over filters]:.2f}. Over {m[non-blank patches per filter]}
        non-blank 4×4 patches of {m[images, filters][0]} digits and {m[images, filters][1]} unit-norm filters cut
        from other digits, ‖x − w‖² = ‖x‖² − 2xᵀw + ‖w‖² holds with F.conv2d's xᵀw to
        {m[max |‖x − w‖² − (‖x‖² − 2·conv + ‖w‖²)|]:.0e}; with normalised patches the largest convolution output
        is always the nearest patch (in {m[images where the normalised conv peaks at the nearest patch]:.0%} of
        the images), while raw inner products grow with the brightness ‖x‖ of the patch, which also moves it away
        from w."""

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        data = measurement.plot_data

        def draw(fig):
            grid = fig.subfigures(1, 2, width_ratios=[2, 1])
            ax_unit, ax_raw = grid[0].subplots(1, 2)
            ax_unit.scatter(data["cos"], data["dist unit"], s=3)
            ax_unit.set_xlabel("xᵀw / ‖x‖ (normalised conv output)")
            ax_unit.set_ylabel("‖x/‖x‖ − w‖²")
            ax_unit.set_title("normalised: 2 − 2·cos", fontsize=9)
            ax_raw.scatter(data["conv"], data["dist"], s=3, color="#d64")
            ax_raw.set_xlabel("xᵀw (conv output)")
            ax_raw.set_ylabel("‖x − w‖²")
            ax_raw.set_title("raw patches", fontsize=9)
            axes = grid[1].subplots(3, 3)
            shown = [data["filter"], *data["best patches"]]
            for i, ax in enumerate(axes.ravel()):
                ax.set_xticks([])
                ax.set_yticks([])
                if i < len(shown):
                    ax.imshow(shown[i].reshape(SIDE, SIDE), cmap="gray_r")
                    ax.set_title("filter w" if i == 0 else f"match {i}", fontsize=7)
                else:
                    ax.axis("off")

        return save_figure(ctx, self.id, draw, figsize=(10, 3.8))
