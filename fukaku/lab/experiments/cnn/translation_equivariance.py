"""Convolution is translation-equivariant away from the borders; max pooling is so only for shifts by its stride
(seed 004 §3.3)."""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

import fukaku as fk
import fukaku.nn.functional as F

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

FLOAT64_TOL = 1e-12
KERNEL, PAD, CROP, MARGIN = 5, 2, 24, 4  # a 5×5 kernel, 'same' zero padding, 24×24 views of a 32×32 scene
POOL_BREAK = 0.1  # a 1-pixel shift changes the pooled map by more than this fraction of its norm


def view(scene: np.ndarray, dy: int, dx: int) -> fk.Tensor:
    """The CROP × CROP window of the scene with its content moved down by dy and right by dx:
    g(x)[i, j] = x[i − dy, j − dx]."""
    return fk.tensor(scene[:, :, MARGIN - dy:MARGIN - dy + CROP, MARGIN - dx:MARGIN - dx + CROP])


def conv_differences(scene: np.ndarray, weight: fk.Tensor, dy: int, dx: int) -> tuple[np.ndarray, np.ndarray]:
    """|f(g(x)) − g(f(x))| for f = ReLU(conv2d(·, padding=2)), on the positions both define, and the mask of those
    whose receptive field lies inside the image for both (the interior); ``(N, C, CROP − dy, CROP − dx)`` each."""
    f = lambda x: F.relu(F.conv2d(x, weight, padding=PAD)).numpy()  # noqa: E731
    shifted_then_conv = f(view(scene, dy, dx))[..., dy:, dx:]
    conv_then_shifted = f(view(scene, 0, 0))[..., :CROP - dy, :CROP - dx]
    rows, cols = np.arange(dy, CROP)[:, None], np.arange(dx, CROP)[None, :]
    inside = (rows >= PAD + dy) & (rows < CROP - PAD) & (cols >= PAD + dx) & (cols < CROP - PAD)
    return np.abs(shifted_then_conv - conv_then_shifted), np.broadcast_to(inside, shifted_then_conv.shape)


def pooled_difference(scene: np.ndarray, weight: fk.Tensor, dy: int, dx: int) -> float:
    """For P = maxpool2×2 ∘ ReLU ∘ conv2d (no padding, so no border effect): the smallest
    ‖P(g(x)) − P(x) shifted by (a, b)‖ / ‖P(x)‖ over pooled shifts a, b ∈ {0, 1} — zero when P is equivariant."""
    pool = lambda x: F.max_pool2d(F.relu(F.conv2d(x, weight)), 2).numpy()  # noqa: E731
    moved, still = pool(view(scene, dy, dx)), pool(view(scene, 0, 0))
    size = moved.shape[-1]
    errors = []
    for a, b in itertools.product((0, 1), repeat=2):
        reference = still[..., 1 - a:size - a, 1 - b:size - b]
        errors.append(np.linalg.norm(moved[..., 1:, 1:] - reference) / np.linalg.norm(reference))
    return float(min(errors))


class ConvTranslationEquivariance(Experiment, id="conv-translation-equivariance", source="seed 004 §3.3"):
    """Translation equivariance of convolution, and where pooling breaks it.

    Convolution is equivariant to translation, f(g(x)) = g(f(x)) (seed 004 §3.3): moving the input moves
    the feature map by the same amount, exactly (float64, within 1e-12) at every position whose receptive
    field lies inside the image; at the borders the zero padding breaks it. After 2×2 max pooling the map
    is equivariant to shifts by 2 pixels (it moves by one pooled unit) but not to 1-pixel shifts: no shift
    of the pooled map matches, the relative difference exceeds 0.1.
    """

    def measure(self, ctx: Context) -> Measurement:
        rng = ctx.rng()
        scene = rng.standard_normal((2 if ctx.quick else 8, 3, 32, 32))
        weight = fk.tensor(rng.standard_normal((6, 3, KERNEL, KERNEL)) / KERNEL)
        interior, border = 0.0, 0.0
        for dy, dx in itertools.product(range(4), repeat=2):
            diff, inside = conv_differences(scene, weight, dy, dx)
            interior = max(interior, float(diff[inside].max()))
            if not inside.all():
                border = max(border, float(diff[~inside].max()))
        by_two = {f"({dy}, {dx})": pooled_difference(scene, weight, dy, dx) for dy, dx in [(2, 0), (0, 2), (2, 2)]}
        by_one = {f"({dy}, {dx})": pooled_difference(scene, weight, dy, dx) for dy, dx in [(1, 0), (0, 1), (1, 1)]}
        diff, inside = conv_differences(scene, weight, 1, 2)
        return Measurement(
            values={"conv: max |f(g(x)) − g(f(x))| in the interior": interior,
                    "conv: max |f(g(x)) − g(f(x))| at the borders (zero padding)": border,
                    "max pool, shifts by 2: relative difference (best pooled shift)": by_two,
                    "max pool, shifts by 1: relative difference (best pooled shift)": by_one,
                    "shifts (dy, dx) for the conv": "0 … 3 each", "images": len(scene)},
            plot_data={"difference map": diff[0].max(axis=0), "interior": inside[0, 0]})

    def checks(self, m: dict) -> list[Check]:
        by_two = m["max pool, shifts by 2: relative difference (best pooled shift)"]
        by_one = m["max pool, shifts by 1: relative difference (best pooled shift)"]
        return [Check("conv: max |f(g(x)) − g(f(x))| where the receptive field is inside the image",
                      m["conv: max |f(g(x)) − g(f(x))| in the interior"], "≤", FLOAT64_TOL),
                Check("conv: max |f(g(x)) − g(f(x))| at the borders (zero padding breaks it)",
                      m["conv: max |f(g(x)) − g(f(x))| at the borders (zero padding)"], ">", 0.1),
                Check("max pool: largest relative difference for shifts by 2", max(by_two.values()), "≤", FLOAT64_TOL),
                Check("max pool: smallest relative difference for 1-pixel shifts", min(by_one.values()), ">",
                      POOL_BREAK)]

    summary_template = """Conv: interior error {m[conv: max |f(g(x)) − g(f(x))| in the interior]:.0e}; max pool:
        1-pixel shifts differ by ≥ {by_one_min:.2f}. Moving a 24 × 24 view of a random 3-channel scene by 0 … 3
        pixels in each direction moves the output of ReLU(conv 5 × 5) by the same amount to float64 rounding
        wherever the receptive field is inside the image; at the borders, where the zero padding stands in for
        the scene, they differ by up to {m[conv: max |f(g(x)) − g(f(x))| at the borders (zero padding)]:.2f}.
        After 2 × 2 max pooling, shifts by 2 pixels move the pooled map by one unit exactly, while for 1-pixel
        shifts the best pooled shift still leaves a relative difference of {by_one_min:.2f} … {by_one_max:.2f}."""

    def summary_values(self, m: dict) -> dict:
        by_one = m["max pool, shifts by 1: relative difference (best pooled shift)"].values()
        return {"by_one_min": min(by_one), "by_one_max": max(by_one)}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        data, m = measurement.plot_data, measurement.values

        def draw(fig):
            ax_map, ax_pool = fig.subplots(1, 2)
            shown = ax_map.imshow(data["difference map"], cmap="magma")
            ax_map.contour(data["interior"].astype(float), levels=[0.5], colors="c", linewidths=1)
            fig.colorbar(shown, ax=ax_map, shrink=0.8)
            ax_map.set_title("|f(g(x)) − g(f(x))|, shift (1, 2)\ncyan: receptive field inside the image", fontsize=9)
            labels, values = [], []
            for name, key in (("by 2", "max pool, shifts by 2: relative difference (best pooled shift)"),
                              ("by 1", "max pool, shifts by 1: relative difference (best pooled shift)")):
                for shift, value in m[key].items():
                    labels.append(f"{shift}\n{name}")
                    values.append(max(value, 1e-17))
            ax_pool.bar(range(len(values)), values, color=["#4a8"] * 3 + ["#d64"] * 3)
            ax_pool.set_yscale("log")
            ax_pool.axhline(POOL_BREAK, color="k", linestyle=":", linewidth=0.8)
            ax_pool.set_xticks(range(len(values)), labels, fontsize=7)
            ax_pool.set_ylabel("relative difference, best pooled shift")
            ax_pool.set_title("2×2 max pool: equivariant to shifts by 2 only", fontsize=9)

        return save_figure(ctx, self.id, draw, figsize=(9, 4))
