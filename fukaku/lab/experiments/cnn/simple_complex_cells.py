"""Simple cells respond to an orientation at one position, complex cells at any position (Hubel & Wiesel;
seed 002 ch. 3)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from fukaku.autograd.grad_mode import no_grad
from fukaku.models.cnn.cells import ComplexCells, SimpleCells, bar_images

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

SIZE, KERNEL, ORIENTATIONS = 32, 9, 8   # 32×32 visual field, 9×9 receptive fields, 8 orientations
BAR_LENGTH, BAR_WIDTH = 9.0, 2.0
CELL = (12, 12)                          # the simple cell measured: its receptive field is centred on pixel (16, 16)
SELECTIVE = 0.1                          # response to the orthogonal bar below this fraction of the peak
ELSEWHERE = 0.25                         # simple cell: its bar 8 px away evokes below this fraction (only the bar's end
                                         # reaches into the receptive field, along the bar's own axis)
INVARIANT = 0.8                          # complex cell: weakest peak over positions above this fraction of strongest
COMPLEX_SELECTIVE = 0.25                 # complex cell: orthogonal bar below this fraction of the peak (the bar's ends
                                         # excite other positions' cells a little)
COMPLEX_TOLERANCE = 5.0                  # degrees: a bar centred between pixels is drawn blurred across rows, which
                                         # moves the 0° and 90° peaks by up to two 2.5° steps


def responses(simple: SimpleCells, complex_: ComplexCells, angles: np.ndarray, center) -> tuple[np.ndarray, np.ndarray]:
    """Simple cell ``CELL`` of every plane and the complex cell of every plane, for bars at ``angles`` centred on
    ``center``: ``(len(angles), ORIENTATIONS)`` each."""
    with no_grad():
        s = simple(bar_images(SIZE, angles, [center], BAR_LENGTH, BAR_WIDTH))
        return s.numpy()[:, :, CELL[0], CELL[1]].astype(np.float64), complex_(s).numpy().astype(np.float64)


def angular_error(a, b) -> np.ndarray:
    """The difference of two orientations, in degrees, modulo 180° (0 … 90)."""
    d = np.abs(np.degrees(np.asarray(a) - np.asarray(b))) % 180
    return np.minimum(d, 180 - d)


class SimpleComplexCells(Experiment, id="simple-complex-cells", source="seed 002 ch. 3 §3.1"):
    """Simple cells respond to one orientation at one position, complex cells at any position.

    Simple cells (oriented filters: a + strip flanked by − strips, tiling the field, then rectified)
    respond to a bar of their orientation at their position: the orientation tuning curve of each of 8
    cells peaks within the 2.5° spacing of the curve at its filter's orientation, the orthogonal bar
    evokes below 0.1 of the peak, the same bar outside the receptive field evokes nothing, and at 8 other
    positions of a 3 × 3 grid 8 px apart below 0.25 of the peak. A complex
    cell, the maximum of its orientation's simple cells over all positions, responds to the bar wherever
    it lies: at 9 positions across the field (fractional ones included) its tuning curve peaks within 5° of
    the same orientation, the orthogonal bar evokes below 0.25 of the peak, and its weakest peak is above
    0.8 of its strongest.
    """

    def measure(self, ctx: Context) -> Measurement:
        simple, complex_ = SimpleCells(ORIENTATIONS, KERNEL), ComplexCells()
        preferred = simple.angles.numpy()
        angles = np.radians(np.arange(0, 180, 2.5))
        field = (CELL[0] + KERNEL // 2, CELL[1] + KERNEL // 2)  # the centre of the cell's receptive field
        tuning, _ = responses(simple, complex_, angles, field)
        peak_index = tuning.argmax(axis=0)
        peak = tuning.max(axis=0)
        orthogonal = np.array([tuning[np.argmin(angular_error(angles, p + math.pi / 2)), k]
                               for k, p in enumerate(preferred)])
        outside, _ = responses(simple, complex_, angles, (field[0], field[1] + KERNEL + 2))
        # position tuning of the simple cell: its preferred bar moved across its receptive field
        offsets = np.arange(-8, 8.5, 0.5)
        plane = 2  # the 45° cell: moved along the x axis the bar crosses the receptive field
        sweep = np.stack([responses(simple, complex_, [preferred[plane]], (field[0], field[1] + o))[0][0]
                          for o in offsets])
        # complex cells: the bar at 9 positions over the field (fractional ones included)
        rng = ctx.rng()
        positions = [(r + rng.uniform(-0.5, 0.5), c + rng.uniform(-0.5, 0.5)) for r in (8, 16, 24) for c in (8, 16, 24)]
        complex_tuning = np.stack([responses(simple, complex_, angles, p)[1] for p in positions])  # (P, angles, K)
        complex_peak_error = angular_error(angles[complex_tuning.argmax(axis=1)], preferred[None])
        complex_peaks = complex_tuning.max(axis=1)                                                  # (P, K)
        orthogonal_index = [np.argmin(angular_error(angles, p + math.pi / 2)) for p in preferred]
        complex_orthogonal = complex_tuning[:, orthogonal_index, np.arange(len(preferred))] / complex_peaks
        own = int(np.argmin([abs(p[0] - field[0]) + abs(p[1] - field[1]) for p in positions]))
        simple_at_positions = np.stack([[responses(simple, complex_, [theta], p)[0][0, k] for k, theta in
                                         enumerate(preferred)] for p in positions])  # (P, K), each cell's own bar
        elsewhere = np.delete(simple_at_positions, own, axis=0).max(axis=0) / simple_at_positions[own]
        return Measurement(
            values={"filter orientations (°)": np.degrees(preferred).round(1).tolist(),
                    "simple cells: |preferred − filter orientation| (°), largest": float(
                        angular_error(angles[peak_index], preferred).max()),
                    "simple cells: orthogonal / peak response, largest": float((orthogonal / peak).max()),
                    "simple cells: largest response to bars outside the receptive field": float(outside.max()),
                    "simple cells: peak response": float(peak.min()),
                    "simple cells: strongest response at the 8 other positions / at their own, largest": float(
                        elsewhere.max()),
                    "complex cells: |preferred − filter orientation| (°), largest over positions": float(
                        complex_peak_error.max()),
                    "complex cells: orthogonal / peak response, largest over positions": float(
                        complex_orthogonal.max()),
                    "complex cells: weakest / strongest peak over positions, smallest": float(
                        (complex_peaks.min(axis=0) / complex_peaks.max(axis=0)).min())},
            plot_data={"filters": simple.weight.numpy()[:, 0], "angles": np.degrees(angles), "tuning": tuning,
                       "outside": outside, "offsets": offsets, "sweep": sweep[:, plane], "plane": plane,
                       "complex": complex_tuning[:, :, plane], "positions": positions,
                       "preferred": np.degrees(preferred)})

    def checks(self, m: dict) -> list[Check]:
        return [Check("simple cells: preferred orientation within the 2.5° spacing of the filter's",
                      m["simple cells: |preferred − filter orientation| (°), largest"], "≤", 2.5),
                Check("simple cells: orthogonal bar / preferred bar",
                      m["simple cells: orthogonal / peak response, largest"], "<", SELECTIVE),
                Check("simple cells: response to a bar outside the receptive field",
                      m["simple cells: largest response to bars outside the receptive field"], "=", 0.0),
                Check("complex cells: preferred orientation at every position, within 5°",
                      m["complex cells: |preferred − filter orientation| (°), largest over positions"], "≤",
                      COMPLEX_TOLERANCE),
                Check("complex cells: orthogonal bar / preferred bar, at every position",
                      m["complex cells: orthogonal / peak response, largest over positions"], "<", COMPLEX_SELECTIVE),
                Check("complex cells: weakest / strongest peak over 9 positions",
                      m["complex cells: weakest / strongest peak over positions, smallest"], ">", INVARIANT),
                Check("simple cells: their bar at the 8 other positions / at their own",
                      m["simple cells: strongest response at the 8 other positions / at their own, largest"], "<",
                      ELSEWHERE)]

    summary_template = """Simple: orthogonal/peak ≤ {m[simple cells: orthogonal / peak response, largest]:.3f};
        complex: ≥ {m[complex cells: weakest / strongest peak over positions, smallest]:.2f} of its peak anywhere.
        Eight Gabor simple cells (9 × 9, orientations {m[filter orientations (°)]}°) have tuning curves peaking
        within {m[simple cells: |preferred − filter orientation| (°), largest]:g}° of their filter's orientation;
        their bar moved elsewhere evokes at most
        {m[simple cells: strongest response at the 8 other positions / at their own, largest]:.2f} of their
        response (0 once it is outside the receptive field). The complex cells (maximum over positions) keep their
        preferred orientation within
        {m[complex cells: |preferred − filter orientation| (°), largest over positions]:g}° and their orthogonal
        response below {m[complex cells: orthogonal / peak response, largest over positions]:.2f} of the peak at 9
        positions across the 32 × 32 field."""

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        d = measurement.plot_data

        def draw(fig):
            top, bottom = fig.subfigures(2, 1, height_ratios=[1, 2.2])
            for ax, f, theta in zip(top.subplots(1, len(d["filters"])), d["filters"], d["preferred"]):
                ax.imshow(f, cmap="coolwarm", vmin=-np.abs(f).max(), vmax=np.abs(f).max())
                ax.set_title(f"{theta:g}°", fontsize=8)
                ax.set_xticks([])
                ax.set_yticks([])
            top.suptitle("simple-cell filters (even Gabor, mean removed)", fontsize=9)
            ax_simple, ax_position, ax_complex = bottom.subplots(1, 3)
            for k in range(d["tuning"].shape[1]):
                ax_simple.plot(d["angles"], d["tuning"][:, k], label=f"{d['preferred'][k]:g}°")
            ax_simple.plot(d["angles"], d["outside"].max(axis=1), "k:", label="bar outside the field")
            ax_simple.set_xlabel("bar orientation (°)")
            ax_simple.set_ylabel("simple-cell response")
            ax_simple.set_title("simple cells: orientation tuning", fontsize=9)
            ax_simple.legend(fontsize=6, ncol=2)
            ax_position.plot(d["offsets"], d["sweep"], marker=".")
            ax_position.set_xlabel("bar offset from the receptive-field centre (px)")
            ax_position.set_ylabel("response")
            ax_position.set_title(f"{d['preferred'][d['plane']]:g}° simple cell: one position", fontsize=9)
            for p, curve in zip(d["positions"], d["complex"]):
                ax_complex.plot(d["angles"], curve, linewidth=0.8, label=f"({p[0]:.1f}, {p[1]:.1f})")
            ax_complex.set_xlabel("bar orientation (°)")
            ax_complex.set_title(f"{d['preferred'][d['plane']]:g}° complex cell: any position", fontsize=9)
            ax_complex.legend(fontsize=5, title="bar centre", title_fontsize=6)

        return save_figure(ctx, self.id, draw, figsize=(11, 5.5))
