"""2×2 pooling halves the height and the width and keeps the channels (seed 004 §3.3)."""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import datasets, nn

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement


def block_reduce(x: np.ndarray, reduce) -> np.ndarray:
    """The oracle: ``reduce`` over each non-overlapping 2×2 block of ``(N, C, H, W)`` (a trailing odd row or
    column dropped), by reshaping — no pooling code involved."""
    n, c, h, w = x.shape
    blocks = x[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2)
    return reduce(blocks, axis=(3, 5))


class PoolingHalvesSize(Experiment, id="pooling-halves-size", source="seed 004 §3.3"):
    """2×2 pooling halves H and W and keeps C.

    Max and average pooling over 2×2 neighbourhoods (stride 2) turn an (N, C, H, W) map into
    (N, C, H/2, W/2): the width and the height are halved, the number of channels (the depth) is kept
    (seed 004 §3.3); each output is the maximum or the mean of its 2×2 block (exactly, in float64), and
    an odd H or W is rounded down (PyTorch's default, ceil_mode=False).
    """

    def measure(self, ctx: Context) -> Measurement:
        rng = ctx.rng()
        pools = {"nn.MaxPool2d(2)": (nn.MaxPool2d(2), np.max), "nn.AvgPool2d(2)": (nn.AvgPool2d(2), np.mean)}
        channels, sides = ((1, 3, 16), range(2, 10)) if not ctx.quick else ((1, 16), range(2, 8))
        shapes_wrong, channels_changed, cases, odd_cases = 0, 0, 0, 0
        value_error = {name: 0.0 for name in pools}
        for c, h, w in itertools.product(channels, sides, sides):
            x = rng.standard_normal((2, c, h, w))
            for name, (layer, reduce) in pools.items():
                out = layer(fk.tensor(x)).numpy()
                cases += 1
                odd_cases += (h % 2) or (w % 2)
                shapes_wrong += out.shape != (2, c, h // 2, w // 2)
                channels_changed += out.shape[1] != c
                if out.shape == (2, c, h // 2, w // 2):
                    value_error[name] = max(value_error[name], float(np.max(np.abs(out - block_reduce(x, reduce)))))
        try:
            image = datasets.digits(flatten=False, return_tensors=False)[0][0].astype(np.float64)
        except ImportError:
            image = rng.random((8, 8))
        pyramids = {}
        for name, (layer, _) in pools.items():
            pyramids[name] = [image]
            for _ in range(3):
                pyramids[name].append(layer(fk.tensor(pyramids[name][-1][None, None])).numpy()[0, 0])
        return Measurement(
            values={"(layer, C, H, W) cases": cases, "cases with an odd H or W": int(odd_cases),
                    "shapes ≠ (N, C, ⌊H/2⌋, ⌊W/2⌋)": int(shapes_wrong), "channel counts changed": int(channels_changed),
                    "max |output − 2×2 block max/mean| (float64)": value_error},
            plot_data={"pyramids": pyramids})

    def checks(self, m: dict) -> list[Check]:
        errors = m["max |output − 2×2 block max/mean| (float64)"]
        return [Check("outputs whose shape is not (N, C, ⌊H/2⌋, ⌊W/2⌋)", m["shapes ≠ (N, C, ⌊H/2⌋, ⌊W/2⌋)"], "=", 0),
                Check("outputs with another number of channels", m["channel counts changed"], "=", 0),
                Check("max pooling: max |output − block maximum|", errors["nn.MaxPool2d(2)"], "=", 0.0),
                Check("average pooling: max |output − block mean|", errors["nn.AvgPool2d(2)"], "≤", 1e-15),
                Check("odd sizes covered (rounded down)", m["cases with an odd H or W"], ">", 0)]

    summary_template = """{m[(layer, C, H, W) cases]} pooled maps: {m[shapes ≠ (N, C, ⌊H/2⌋, ⌊W/2⌋)]} with a wrong
        shape, {m[channel counts changed]} with other channels. Max and average pooling with 2 × 2 windows halve H
        and W (rounding odd sizes down, in the {m[cases with an odd H or W]} cases with one) and keep C; every
        output is its block's maximum (exactly, error
        {m[max |output − 2×2 block max/mean| (float64)][nn.MaxPool2d(2)]:g}) or mean (error
        {m[max |output − 2×2 block max/mean| (float64)][nn.AvgPool2d(2)]:.0e})."""

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        pyramids = measurement.plot_data["pyramids"]

        def draw(fig):
            axes = fig.subplots(len(pyramids), len(next(iter(pyramids.values()))))
            for row, (name, pyramid) in zip(axes, pyramids.items()):
                for ax, level in zip(row, pyramid):
                    ax.imshow(level, cmap="gray_r", vmin=0, vmax=pyramid[0].max())
                    ax.set_title(f"{level.shape[0]}×{level.shape[1]}", fontsize=8)
                    ax.set_xticks([])
                    ax.set_yticks([])
                row[0].set_ylabel(name, fontsize=8)
            fig.suptitle("A digit pooled 2×2 again and again: H and W halve each time", fontsize=10)

        return save_figure(ctx, self.id, draw, figsize=(7, 4))
