"""Strided convolution is the stride-1 convolution sampled every s positions (seed 004 §3.3, fig. 3.9)."""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

import fukaku as fk
import fukaku.nn.functional as F
from fukaku import datasets

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

FLOAT64_TOL = 1e-12  # the two outputs sum the same products, possibly in another order


class StridedConvSubsampling(Experiment, id="strided-conv-subsampling", source="seed 004 §3.3"):
    """Strided convolution is a subsampled convolution.

    A convolution with stride s equals the stride-1 convolution sampled every s positions,
    S_s(i, j) = S_1((i − 1)s + 1, (j − 1)s + 1) (seed 004 §3.3, fig. 3.9): F.conv2d(x, w, stride=s) =
    F.conv2d(x, w)[..., ::s, ::s] in shape and, in float64, in value (within 1e-12), for every stride,
    kernel size and padding of a grid, with several input and output channels.
    """

    def measure(self, ctx: Context) -> Measurement:
        rng = ctx.rng()
        x = fk.tensor(rng.standard_normal((2, 3, 13, 11)))  # float64; odd, non-square sizes
        strides, kernels, paddings = (1, 2, 3, 4), (1, 2, 3, 5), (0, 1, 2)
        worst, shape_mismatches, settings = 0.0, 0, 0
        for s, k, q in itertools.product(strides, kernels, paddings):
            w = fk.tensor(rng.standard_normal((4, 3, k, k)))
            strided = F.conv2d(x, w, stride=s, padding=q).numpy()
            subsampled = F.conv2d(x, w, padding=q).numpy()[..., ::s, ::s]
            settings += 1
            if strided.shape != subsampled.shape:
                shape_mismatches += 1
                continue
            worst = max(worst, float(np.max(np.abs(strided - subsampled))))
        # the figure: a digit, its stride-1 feature map and the stride-2 output
        try:
            image = datasets.digits(flatten=False, return_tensors=False)[0][0].astype(np.float64)
        except ImportError:  # scikit-learn missing: draw a random image instead
            image = rng.random((8, 8))
        edge = fk.tensor(np.array([[[[-1.0, 0.0, 1.0]] * 3]]))  # a vertical-edge detector
        img = fk.tensor(image[None, None])
        return Measurement(
            values={"settings (stride × kernel × padding)": settings, "shape mismatches": shape_mismatches,
                    "max |strided − subsampled|": worst, "strides": list(strides), "kernel sizes": list(kernels),
                    "paddings": list(paddings)},
            plot_data={"image": image, "stride 1": F.conv2d(img, edge, padding=1).numpy()[0, 0],
                       "stride 2": F.conv2d(img, edge, stride=2, padding=1).numpy()[0, 0]})

    def checks(self, m: dict) -> list[Check]:
        return [Check("settings where the shapes differ", m["shape mismatches"], "=", 0),
                Check("max |conv(stride s) − conv(stride 1)[::s, ::s]| (float64)", m["max |strided − subsampled|"],
                      "≤", FLOAT64_TOL)]

    summary_template = """conv(stride s) = conv(stride 1)[::s, ::s] within {m[max |strided − subsampled|]:.0e} in
        {m[settings (stride × kernel × padding)]} settings. Strides {m[strides]}, kernels {m[kernel sizes]} and
        paddings {m[paddings]} on a 2 × 3 × 13 × 11 float64 input with 4 output channels: {m[shape mismatches]}
        shape mismatches, and the values agree to float64 rounding, so a stride-s convolution computes exactly the
        stride-1 outputs it keeps (1/s² of them)."""

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        data = measurement.plot_data

        def draw(fig):
            ax_img, ax_one, ax_two = fig.subplots(1, 3)
            limit = np.abs(data["stride 1"]).max()
            ax_img.imshow(data["image"], cmap="gray_r")
            ax_img.set_title("input (a digit)", fontsize=9)
            ax_one.imshow(data["stride 1"], cmap="coolwarm", vmin=-limit, vmax=limit)
            rows, cols = np.meshgrid(np.arange(0, 8, 2), np.arange(0, 8, 2), indexing="ij")
            ax_one.scatter(cols, rows, s=40, facecolors="none", edgecolors="k")
            ax_one.set_title("stride 1 (vertical edges); ○ kept by stride 2", fontsize=9)
            ax_two.imshow(data["stride 2"], cmap="coolwarm", vmin=-limit, vmax=limit)
            ax_two.set_title("stride 2 = the circled values", fontsize=9)
            for ax in (ax_img, ax_one, ax_two):
                ax.set_xticks([])
                ax.set_yticks([])

        return save_figure(ctx, self.id, draw, figsize=(9, 3.2))
