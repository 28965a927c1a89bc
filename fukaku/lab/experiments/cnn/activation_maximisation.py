"""Activation maximisation: the input a unit of a trained CNN responds to most is an edge for a first-layer unit
and a larger, digit-like pattern for deeper units (seed 002 ch. 3 §3.5; Simonyan, Vedaldi & Zisserman 2014)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import nn, optim

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._images import ImageSplit, gabor_fit, mnist_or_digits, random_filters, scaled_tiles, single_edge_share, \
    test_accuracy, train_lenet

TRAIN_STEPS = 600            # LeNet-5's SGD steps (rounded up to whole epochs)
QUICK_ASCENT, ASCENT = 150, 400  # gradient-ascent steps on the inputs
ASCENT_LR = 0.05             # Adam on the input pixels
PENALTY = 0.05               # λ of S(x) − λ‖x‖² (Simonyan et al.'s L2-regularised ascent), standardised pixels
FC_UNITS = 24                # the first units of each fully connected layer are visualised (all conv channels are)
ENERGY = 0.9                 # spatial extent: the fewest pixels holding this share of a pattern's energy
SAME_FILTER = 0.99           # a first-layer unit's optimum is its filter: correlation at least this
NULL_QUANTILE = 95           # "edge-like": Gabor fit above this percentile of random filters
CLASS_LIKE = 5               # output units: at least this many of 10 resemble their own class most (chance: 1)
MORE_THAN_ONE_EDGE = 0.5     # deeper optima: their best single edge holds under half the share it holds in C1
EDGE = "share of the optimum's energy in its best single 5×5 edge (a Gabor function), median"


def receptive_field(layers: list[nn.Module], index: int) -> tuple[int, int]:
    """The input rows (or columns) ``[first, last]`` that output position ``index`` of a stack of convolutions and
    poolings sees, by walking the stack backwards: an output position i of a layer with kernel k, stride s and
    padding p sees its input positions i·s − p … i·s − p + k − 1 (seed 004 §3.3's O = (N − F + 2Q)/s + 1 read
    the other way)."""
    first = last = index
    for layer in reversed(layers):
        kernel, stride, padding = (getattr(layer, name) for name in ("kernel_size", "stride", "padding"))
        kernel, stride, padding = (v[0] if isinstance(v, tuple) else v for v in (kernel, stride, padding))
        first, last = first * stride - padding, last * stride - padding + kernel - 1
    return first, last


def extent(patterns: np.ndarray, share: float = ENERGY) -> np.ndarray:
    """The number of pixels holding ``share`` of each pattern's energy Σx² (the most energetic ones first)."""
    energy = np.sort((patterns ** 2).reshape(len(patterns), -1), axis=1)[:, ::-1]
    cumulative = np.cumsum(energy, axis=1) / energy.sum(axis=1, keepdims=True)
    return (cumulative < share).sum(axis=1) + 1


def correlations(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of every row of ``a`` with every row of ``b`` (both flattened per row)."""
    a = a.reshape(len(a), -1) - a.reshape(len(a), -1).mean(axis=1, keepdims=True)
    b = b.reshape(len(b), -1) - b.reshape(len(b), -1).mean(axis=1, keepdims=True)
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    return a @ b.T


def units(model: nn.Module, size: int) -> dict[str, tuple]:
    """The units visualised, layer by layer: ``name → (activations of a batch (N, units), units, receptive-field
    slice)``. Convolutional units are the channels at the centre of their feature map, before the ReLU; fully
    connected ones (and the class scores) before their activation."""
    features, classifier = model.features, model.classifier
    with fk.no_grad():
        c1 = features[:1](fk.zeros(1, 1, size, size)).shape[-1] // 2
        c3 = features[:4](fk.zeros(1, 1, size, size)).shape[-1] // 2
    convs = [m for m in features if not isinstance(m, nn.ReLU)]

    def window(layers, index):
        first, last = receptive_field(layers, index)
        return slice(max(first, 0), min(last, size - 1) + 1)

    def flat(x):
        return features(x).flatten(1)

    return {"C1 (conv 1)": (lambda x: features[:1](x)[:, :, c1, c1], features[0].out_channels, window(convs[:1], c1)),
            "C3 (conv 2)": (lambda x: features[:4](x)[:, :, c3, c3], features[3].out_channels, window(convs[:3], c3)),
            "F5 (fc 120)": (lambda x: classifier[:1](flat(x))[:, :FC_UNITS], FC_UNITS, slice(0, size)),
            "F6 (fc 84)": (lambda x: classifier[:3](flat(x))[:, :FC_UNITS], FC_UNITS, slice(0, size)),
            "output (class scores)": (lambda x: classifier(flat(x)), classifier[-1].out_features, slice(0, size))}


def maximise(activations, count: int, size: int, steps: int, seed: int) -> np.ndarray:
    """The inputs x_k maximising S_k(x_k) − λ‖x_k‖² for each of ``count`` units at once (one image per unit; the
    images do not interact in eval mode), by Adam's gradient ascent from small noise. ``(count, size, size)``."""
    fk.manual_seed(seed)
    x = (0.01 * fk.randn(count, 1, size, size)).requires_grad_()
    optimizer = optim.Adam([x], lr=ASCENT_LR)
    own = fk.arange(count)
    for _ in range(steps):
        optimizer.zero_grad()
        objective = activations(x)[own, own].sum() - PENALTY * (x * x).sum()
        (-objective).backward()
        optimizer.step()
    return x.detach().numpy()[:, 0].astype(np.float64)


def class_means(data: ImageSplit) -> np.ndarray:
    """Each class's mean training image minus the mean of all of them ``(10, S, S)``: what sets a class apart."""
    x, y = data.x_train.numpy()[:, 0].astype(np.float64), data.y_train.numpy()
    means = np.stack([x[y == c].mean(axis=0) for c in range(10)])
    return means - x.mean(axis=0)


class ActivationMaximisation(Experiment, id="activation-maximisation", source="seed 002 ch. 3 §3.5"):
    """Activation maximisation: edges in the first layer, larger digit-like patterns deeper.

    Gradient ascent on the input finds the image a unit of a trained CNN responds to most (Simonyan et al.
    2014: maximise the unit's pre-activation S(x) − λ‖x‖²). In the first layer this is a simple light/dark
    pattern, deeper it is more complex and, at the class outputs, class-like (seed 002 ch. 3 §3.5, fig. 3.12).
    For LeNet-5 trained on handwritten digits: a first-layer unit's optimum is its own filter (correlation
    ≥ 0.99, the closed form of a linear unit), oriented and edge-like (median Gabor fit r² above the 95th
    percentile of random filters); the optimum's spatial extent (pixels holding 90 % of its energy) grows from
    C1 to C3 to F5; the optima of the fully connected layers and of the outputs are more than one edge (the
    best single 5×5 Gabor function holds less than half the share of their energy it holds in C1; C3's
    share is reported); and at least 5 of the 10 class scores are maximised by a pattern closest to their
    own class's mean digit (chance: 1).
    """

    def measure(self, ctx: Context) -> Measurement:
        data = mnist_or_digits(ctx.seed)
        model, _, train_seconds = train_lenet(data, TRAIN_STEPS, ctx.seed)
        model.requires_grad_(False)  # the weights stay; only the input is optimised
        size = data.x_train.shape[-1]
        steps = QUICK_ASCENT if ctx.quick else ASCENT
        optima, crops = {}, {}
        for k, (layer, (activations, count, window)) in enumerate(units(model, size).items()):
            optima[layer] = maximise(activations, count, size, steps, ctx.seed + k)
            crops[layer] = optima[layer][:, window, window]
        first, output = next(iter(optima)), list(optima)[-1]
        filters = model.features[0].weight.numpy()[:, 0].astype(np.float64)
        same_filter = np.diag(correlations(crops[first], filters))
        r2 = gabor_fit(crops[first])[0]
        null = gabor_fit(random_filters(2000, filters.shape[-1], ctx.seed + 1000))[0]
        to_class = correlations(optima[output], class_means(data))
        return Measurement(
            values={"data": data.description, "LeNet-5 test accuracy": test_accuracy(model, data),
                    "seconds to train LeNet-5": train_seconds, "gradient-ascent steps": steps, "λ": PENALTY,
                    "units visualised per layer": {layer: len(p) for layer, p in optima.items()},
                    "receptive field (pixels, side)": {layer: crop.shape[-1] for layer, crop in crops.items()},
                    "C1: correlation of each optimum with its unit's filter, smallest": float(same_filter.min()),
                    "C1: Gabor fit r² of the optima, median": float(np.median(r2)),
                    f"random 5×5 filters: Gabor fit r², {NULL_QUANTILE}th percentile": float(
                        np.percentile(null, NULL_QUANTILE)),
                    "spatial extent (pixels holding 90% of the energy), median": {
                        layer: float(np.median(extent(p))) for layer, p in optima.items()},
                    EDGE: {
                        layer: float(np.median(single_edge_share(p))) for layer, p in optima.items()},
                    "output units whose optimum is closest to their own class's mean digit": int(
                        (to_class.argmax(axis=1) == np.arange(len(to_class))).sum()),
                    "output units: correlation with their own class's mean digit": np.diag(to_class).round(2).tolist()},
            plot_data={"optima": optima, "crops": crops, "filters": filters})

    def checks(self, m: dict) -> list[Check]:
        size = m["spatial extent (pixels holding 90% of the energy), median"]
        edge = m[EDGE]
        layers = list(size)
        checks = [Check("C1: each unit's optimum is its filter (correlation, smallest)",
                        m["C1: correlation of each optimum with its unit's filter, smallest"], "≥", SAME_FILTER),
                  Check(f"C1: the optima are edge-like: Gabor fit r² (median) vs the {NULL_QUANTILE}th percentile "
                        "of random filters", m["C1: Gabor fit r² of the optima, median"], ">",
                        m[f"random 5×5 filters: Gabor fit r², {NULL_QUANTILE}th percentile"])]
        checks += [Check(f"spatial extent of the optima: {deeper} vs {shallower} (median pixels)", size[deeper], ">",
                         size[shallower]) for shallower, deeper in zip(layers[:2], layers[1:3])]
        checks += [Check(f"share of the optimum in one edge: {layer} vs C1 (median)", edge[layer], "<",
                         edge[layers[0]] * MORE_THAN_ONE_EDGE) for layer in layers[2:]]
        checks += [Check("output units whose optimum is closest to their own class's mean digit (of 10)",
                         m["output units whose optimum is closest to their own class's mean digit"], "≥", CLASS_LIKE)]
        return checks

    summary_template = """Optimum extent {extents} px from C1 to the output; {class_like}/10 class-like. By
        gradient ascent on the input of LeNet-5 trained on {m[data]} (test accuracy {m[LeNet-5 test accuracy]:.3f}):
        each C1 unit's optimum is its own 5×5 filter (correlation ≥
        {m[C1: correlation of each optimum with its unit's filter, smallest]:.3f}), an oriented light/dark edge or
        bar (Gabor fit r² {m[C1: Gabor fit r² of the optima, median]:.2f}; random filters' 95th percentile
        {null:.2f}). Deeper optima spread over more pixels ({extent_by_layer}) and are more than one edge: the best
        single 5×5 edge holds a median {edge_c1:.0%} of a C1 optimum's energy, {edge_c3:.0%} of a C3 one's and
        {edge_beyond:.0%} or less beyond; {class_like} of the 10 class scores are maximised by a pattern closest to
        their own class's mean digit. With only the L2 penalty as a prior, the deeper optima keep high-frequency
        texture around their strokes."""

    def summary_values(self, m: dict) -> dict:
        size, edge = m["spatial extent (pixels holding 90% of the energy), median"], m[EDGE]
        layers = list(size)
        return {"extents": " → ".join(f"{size[layer]:.0f}" for layer in layers),
                "extent_by_layer": ", ".join(f"{layer} {size[layer]:.0f}" for layer in layers),
                "class_like": m["output units whose optimum is closest to their own class's mean digit"],
                "null": m[f"random 5×5 filters: Gabor fit r², {NULL_QUANTILE}th percentile"],
                "edge_c1": edge[layers[0]], "edge_c3": edge[layers[1]],
                "edge_beyond": max(edge[layer] for layer in layers[2:])}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        d, m = measurement.plot_data, measurement.values
        optima, first = d["optima"], next(iter(d["crops"]))
        shown = 10

        def draw(fig):
            from matplotlib import colormaps

            cmap = colormaps["gray"].with_extremes(bad="white")
            left, right = fig.subfigures(1, 2, width_ratios=[2.6, 1])
            rows = left.subplots(len(optima) + 1, 1)
            rows[0].imshow(scaled_tiles(np.concatenate([d["filters"], d["crops"][first]]), cols=len(d["filters"])),
                           cmap=cmap, vmin=-1, vmax=1)
            rows[0].set_title("C1 filters (top) and the optima of their units, receptive field only (bottom)",
                              fontsize=8)
            for ax, (layer, patterns) in zip(rows[1:], optima.items()):
                ax.imshow(scaled_tiles(patterns[:shown], cols=shown), cmap=cmap, vmin=-1, vmax=1)
                ax.set_title(f"{layer}: the input each unit responds to most", fontsize=8)
            for ax in rows:
                ax.set_xticks([])
                ax.set_yticks([])
            ax_size, ax_edge = right.subplots(2, 1)
            layers = [layer.split(" ")[0] for layer in optima]
            ax_size.plot(layers, list(m["spatial extent (pixels holding 90% of the energy), median"].values()),
                         marker="o")
            ax_size.set_ylabel("pixels with 90% of the energy", fontsize=8)
            ax_edge.plot(layers, list(m[EDGE].values()), marker="o", color="#d64")
            ax_edge.set_ylabel("share of the energy in\nits best single 5×5 edge", fontsize=8)
            for ax in (ax_size, ax_edge):
                ax.tick_params(labelsize=7)
                ax.set_title("median over the units", fontsize=8)

        return save_figure(ctx, self.id, draw, figsize=(11, 7))
