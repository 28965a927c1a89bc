"""The output size of a convolution, O = (N − F + 2Q)/s + 1 (seed 004 §3.3), against real ``F.conv2d`` outputs."""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

import fukaku as fk
import fukaku.nn.functional as F

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

WORKED_EXAMPLE = (5, 3, 1, 2)  # N, F, Q, s of seed 004's example: O = (5 − 3 + 2·1)/2 + 1 = 3


def formula(n: int, f: int, q: int, s: int) -> float:
    """Seed 004's O = (N − F + 2Q)/s + 1, as printed (a fraction when s does not divide N − F + 2Q)."""
    return (n - f + 2 * q) / s + 1


def conv_output_shape(n: int, m: int, f: int, q: int, s: int, rng: np.random.Generator) -> tuple[int, int]:
    """(H, W) of ``F.conv2d`` on an ``n × m`` image with an ``f × f`` kernel, padding ``q``, stride ``s``."""
    x = fk.tensor(rng.standard_normal((1, 1, n, m)), dtype=fk.float32)
    w = fk.tensor(rng.standard_normal((1, 1, f, f)), dtype=fk.float32)
    return tuple(F.conv2d(x, w, stride=s, padding=q).shape[2:])


class ConvOutputSize(Experiment, id="conv-output-size", source="seed 004 §3.3"):
    """Output size of a convolution.

    O = (N − F + 2Q)/s + 1 for input size N, kernel F, zero padding Q and stride s; the worked example
    (N, F, Q, s) = (5, 3, 1, 2) gives O = 3. F.conv2d's output has this size in both dimensions for
    every setting of a grid, rounded down where s does not divide N − F + 2Q (PyTorch's rule), and a
    kernel larger than the padded input is refused with a ShapeError.
    """

    def measure(self, ctx: Context) -> Measurement:
        rng = ctx.rng()
        sizes = range(1, 10) if ctx.quick else range(1, 17)
        settings, refused, too_large = [], 0, 0
        for n, f, q, s in itertools.product(sizes, range(1, 6), range(3), range(1, 4)):
            m = n + 3  # a non-square image: the height and the width each follow the formula
            if n + 2 * q < f:  # the kernel does not fit the padded height
                too_large += 1
                try:
                    conv_output_shape(n, m, f, q, s, rng)
                except fk.ShapeError:
                    refused += 1
                continue
            got = conv_output_shape(n, m, f, q, s, rng)
            settings.append((n, m, f, q, s, formula(n, f, q, s), formula(m, f, q, s), *got))
        table = np.array(settings, dtype=np.float64)
        expected = np.floor(table[:, 5:7])
        wrong = np.any(expected != table[:, 7:9], axis=1)
        fractional = np.any(table[:, 5:7] != expected, axis=1)
        n, f, q, s = WORKED_EXAMPLE
        example = conv_output_shape(n, n, f, q, s, rng)
        return Measurement(
            values={"worked example: formula": formula(n, f, q, s), "worked example: F.conv2d output": list(example),
                    "settings checked": len(table), "settings with a mismatch": int(wrong.sum()),
                    "mismatches (N, F, Q, s)": [tuple(int(v) for v in row[[0, 2, 3, 4]]) for row in table[wrong]][:10],
                    "settings where (N − F + 2Q)/s is not an integer (floored)": int(fractional.sum()),
                    "kernel larger than the padded input: settings": too_large,
                    "kernel larger than the padded input: refused with ShapeError": refused},
            plot_data={"table": table, "fractional": fractional})

    def checks(self, m: dict) -> list[Check]:
        return [Check("worked example (5, 3, 1, 2): O by the formula", m["worked example: formula"], "=", 3.0),
                Check("worked example: F.conv2d's output height and width", m["worked example: F.conv2d output"],
                      "=", [3, 3]),
                Check("grid settings where F.conv2d's size ≠ ⌊(N − F + 2Q)/s⌋ + 1",
                      m["settings with a mismatch"], "=", 0),
                Check("grid settings with a non-integer (N − F + 2Q)/s, all floored",
                      m["settings where (N − F + 2Q)/s is not an integer (floored)"], ">", 0),
                Check("kernels larger than the padded input not refused with a ShapeError",
                      m["kernel larger than the padded input: settings"]
                      - m["kernel larger than the padded input: refused with ShapeError"], "=", 0)]

    summary_template = """(5, 3, 1, 2) → O = {m[worked example: formula]:g}; {m[settings with a mismatch]} of
        {m[settings checked]} conv2d shapes differ from ⌊O⌋. Over a grid of input sizes N, kernels F ≤ 5,
        paddings Q ≤ 2 and strides s ≤ 3 (on non-square N × (N + 3) images), F.conv2d's output size equals seed
        004's O = (N − F + 2Q)/s + 1, rounded down in the
        {m[settings where (N − F + 2Q)/s is not an integer (floored)]} settings where the division is not exact;
        {m[kernel larger than the padded input: refused with ShapeError]} of
        {m[kernel larger than the padded input: settings]} settings with a kernel larger than the padded input
        were refused with a ShapeError."""

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        table, fractional = measurement.plot_data["table"], measurement.plot_data["fractional"]

        def draw(fig):
            ax = fig.subplots()
            exact = ~fractional
            ax.scatter(table[exact, 5], table[exact, 7], s=14, label="(N − F + 2Q)/s an integer")
            ax.scatter(table[fractional, 5], table[fractional, 7], s=14, marker="x",
                       label="not an integer: conv2d gives ⌊O⌋")
            top = table[:, 5].max() + 1
            grid = np.linspace(0, top, 200)
            ax.plot(grid, np.floor(grid), "k-", linewidth=0.8, label="⌊O⌋")
            ax.plot(grid, grid, "k:", linewidth=0.8, label="O")
            ax.scatter([3], measurement.values["worked example: F.conv2d output"][:1], s=160, facecolors="none",
                       edgecolors="r", label="worked example (5, 3, 1, 2) → 3")
            ax.set_xlabel("O = (N − F + 2Q)/s + 1 (seed 004)")
            ax.set_ylabel("output height of F.conv2d")
            ax.set_title("Convolution output size: formula vs F.conv2d")
            ax.legend(fontsize=8)

        return save_figure(ctx, self.id, draw)
