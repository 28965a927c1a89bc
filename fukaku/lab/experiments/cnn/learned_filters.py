"""The first-layer filters a CNN learns are edge- and bar-like, unlike its random initial filters; its
feature maps show where each pattern occurs (seed 001 §9.2, seed 002 ch. 3 §3.1, §3.5)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._images import gabor_fit, mnist_or_digits, orientation_coherence, random_filters, scaled_tiles, test_accuracy, \
    train_lenet

QUICK_STEPS, STEPS, SEEDS = 600, 1250, 3  # SGD steps (whole epochs); the full run trains 3 networks (seeds) and also
                                         # one without weight decay
NULL_FILTERS = 2000                      # random 5×5 filters (PyTorch's default init): the null distribution
NULL_QUANTILE = 95                       # "edge-like": above this percentile of random filters
LEARNED = 0.95                           # the network has learned its task: test accuracy at least this


class LearnedFilters(Experiment, id="learned-filters", source="seed 001 §9.2, seed 002 ch. 3 §3.1, §3.5"):
    """A CNN's learned first-layer filters are edge- and bar-like.

    A convolutional layer learns its filters from the data (seed 001 §9.2: each channel learns a different
    filter that finds a pattern, and its feature map shows where the pattern occurs). Trained on
    handwritten digits, LeNet-5's first-layer 5×5 filters become oriented edge and bar detectors, like the
    simple cells that CNNs were modelled on (seed 002 ch. 3 §3.1): the median share of a filter that its best
    fitting oriented Gabor function explains (r²) exceeds the 95th percentile of random filters drawn as the
    layer is initialised and the same filters' at initialisation, while the network reaches test accuracy
    ≥ 0.95. (The coherence of the filters' gradient orientations is reported beside it.)
    """

    def measure(self, ctx: Context) -> Measurement:
        data = mnist_or_digits(ctx.seed)
        steps, seeds = (QUICK_STEPS, [ctx.seed]) if ctx.quick else (STEPS, [ctx.seed + i for i in range(SEEDS)])
        initial, trained, accuracies, seconds = [], [], [], []
        for seed in seeds:
            model, first, took = train_lenet(data, steps, seed)
            initial.append(first)
            trained.append(model.features[0].weight.detach().numpy()[:, 0])
            accuracies.append(test_accuracy(model, data))
            seconds.append(took)
            if seed == seeds[0]:
                digit = data.x_test[:1]
                with fk.no_grad():
                    maps = model.features[:2](digit).numpy()[0]  # C1 after its ReLU: the feature maps
        initial, trained = np.concatenate(initial), np.concatenate(trained)
        r2_initial, _ = gabor_fit(initial)
        r2_trained, fitted = gabor_fit(trained)
        null = random_filters(NULL_FILTERS, trained.shape[-1], ctx.seed + 1000)
        r2_null = gabor_fit(null)[0]
        coherence_null = orientation_coherence(null)
        values = {
            "data": data.description, "SGD steps (rounded up to whole epochs), networks (seeds)": [steps, len(seeds)],
            "LeNet-5 test accuracy": float(np.mean(accuracies)),
            "first-layer filters": f"{len(trained)} of 5×5",
            "Gabor fit r², trained filters": r2_trained.round(3).tolist(),
            "Gabor fit r², median: trained": float(np.median(r2_trained)),
            "Gabor fit r², median: the same filters at initialisation": float(np.median(r2_initial)),
            f"Gabor fit r², random filters ({NULL_FILTERS}): median": float(np.median(r2_null)),
            f"Gabor fit r², random filters: {NULL_QUANTILE}th percentile": float(np.percentile(r2_null, NULL_QUANTILE)),
            "orientation coherence, median: trained": float(np.median(orientation_coherence(trained))),
            "orientation coherence, median: at initialisation": float(np.median(orientation_coherence(initial))),
            f"orientation coherence, random filters: {NULL_QUANTILE}th percentile": float(
                np.percentile(coherence_null, NULL_QUANTILE)),
            "seconds to train (per network)": float(np.mean(seconds))}
        if not ctx.quick:  # what the weight decay does: the same training without it
            plain, first, _ = train_lenet(data, steps, ctx.seed, weight_decay=0.0)
            values["without weight decay: Gabor fit r², median"] = float(np.median(gabor_fit(
                plain.features[0].weight.detach().numpy()[:, 0])[0]))
            values["without weight decay: test accuracy"] = test_accuracy(plain, data)
        count = len(trained) // len(seeds)
        return Measurement(values=values, plot_data={
            "initial": initial[:count], "trained": trained[:count], "fitted": fitted[:count],
            "r2": r2_trained[:count], "digit": digit.numpy()[0, 0], "maps": maps})

    def checks(self, m: dict) -> list[Check]:
        return [Check(f"Gabor fit r² (median), vs the {NULL_QUANTILE}th percentile of random filters",
                      m["Gabor fit r², median: trained"], ">",
                      m[f"Gabor fit r², random filters: {NULL_QUANTILE}th percentile"]),
                Check("Gabor fit r² (median), vs the same filters at initialisation",
                      m["Gabor fit r², median: trained"], ">",
                      m["Gabor fit r², median: the same filters at initialisation"]),
                Check("LeNet-5 has learned the task: test accuracy", m["LeNet-5 test accuracy"], "≥", LEARNED)]

    summary_template = """Gabor fit r² of learned filters {m[Gabor fit r², median: trained]:.2f} vs
        {m[Gabor fit r², median: the same filters at initialisation]:.2f} at init (random 95%: {null95:.2f}).
        LeNet-5 trained on {m[data]} for {steps} steps (test accuracy {m[LeNet-5 test accuracy]:.3f}): a single Gabor
        function explains a median {m[Gabor fit r², median: trained]:.0%} of a first-layer 5×5 filter, against
        {m[Gabor fit r², median: the same filters at initialisation]:.0%} for the same filters at initialisation
        and at most {null95:.0%} for 95 % of random filters; the gradient orientations' coherence is
        {m[orientation coherence, median: trained]:.2f} (at initialisation
        {m[orientation coherence, median: at initialisation]:.2f}): oriented edges and bars, as the simple
        cells.{without_decay}"""

    def summary_values(self, m: dict) -> dict:
        without_decay = ""
        if "without weight decay: Gabor fit r², median" in m:
            without_decay = (f" Trained without weight decay for as long, the filters keep much of their random "
                             f"start (median r² {m['without weight decay: Gabor fit r², median']:.2f}, test accuracy "
                             f"{m['without weight decay: test accuracy']:.3f}): the decay removes what the data never "
                             "push on.")
        return {"null95": m[f"Gabor fit r², random filters: {NULL_QUANTILE}th percentile"],
                "steps": m["SGD steps (rounded up to whole epochs), networks (seeds)"][0],
                "without_decay": without_decay}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        d = measurement.plot_data

        def draw(fig):
            from matplotlib import colormaps

            cmap = colormaps["coolwarm"].with_extremes(bad="white")
            left, right = fig.subfigures(1, 2, width_ratios=[1, 1.25])
            for ax, key, title in zip(left.subplots(3, 1), ("initial", "trained", "fitted"),
                                      ("C1 filters at initialisation", "C1 filters after training",
                                       "the best fitting Gabor function of each")):
                ax.imshow(scaled_tiles(d[key], cols=len(d[key])), cmap=cmap, vmin=-1, vmax=1)
                ax.set_title(title, fontsize=9)
                ax.set_xticks([])
                ax.set_yticks([])
            left.axes[2].set_xlabel("r² = " + ", ".join(f"{r:.2f}" for r in d["r2"]), fontsize=8)
            axes = right.subplots(2, 4)
            axes[0, 0].imshow(d["digit"], cmap="gray_r")
            axes[0, 0].set_title("test digit", fontsize=8)
            for ax, fmap, k in zip(axes.ravel()[1:], d["maps"], range(len(d["maps"]))):
                ax.imshow(fmap, cmap="magma")
                ax.set_title(f"feature map {k}", fontsize=8)
            for ax in axes.ravel():
                ax.set_xticks([])
                ax.set_yticks([])
            axes.ravel()[-1].set_visible(len(d["maps"]) >= 7)
            right.suptitle("C1 feature maps (ReLU(conv)) of a test digit: where each pattern occurs", fontsize=9)

        return save_figure(ctx, self.id, draw, figsize=(10, 4.5))
