"""Training a wide network is training its linearisation, which is kernel regression with the NTK (seed 000 §6.1.8,
erratum C4): the wide network, its linearised model and the closed-form gradient-flow prediction agree better as
the width grows."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import optim
from fukaku.theory.ntk import LinearizedModel, empirical_ntk, gradient_flow_prediction, ntk_kernel, ntk_mlp

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ....ops._parallel import blas_threads
from ._common import CONFIG, loglog_slope, width_axis

DEPTH = 1                                               # one hidden layer: wide networks stay cheap to train
TRAIN, TEST = 12, 60                                    # points on the unit circle
WIDTHS = {True: (16, 64, 256, 1024), False: (16, 64, 256, 1024, 4096, 16384)}
SEEDS = {True: 2, False: 4}
STEPS = {True: 200, False: 1000}
STEP_SCALE = 0.5                                        # η = STEP_SCALE / λ_max(Θ(X, X))
FALLS = -0.3                                            # the disagreement's log-log slope at most this (theory −½)
DISCRETE = 0.01                                         # linearised model vs gradient flow: the steps' own error


def circle(angles: np.ndarray) -> np.ndarray:
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def circle_task(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training angles, their targets y = sin 2α + ½ cos 3α, and a grid of test angles."""
    angles = np.sort(rng.uniform(-np.pi, np.pi, TRAIN))
    return angles, np.sin(2 * angles) + 0.5 * np.cos(3 * angles), np.linspace(-np.pi, np.pi, TEST)


def gradient_descent(model, x: fk.Tensor, y: fk.Tensor, lr: float, steps: int) -> None:
    """``steps`` full-batch steps of plain gradient descent on ½‖f(X) − y‖²."""
    opt = optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * ((model(x) - y) ** 2).sum()).backward()
        opt.step()


def three_predictions(x, y, xt, width: int, seed: int, lr: float, steps: int) -> dict[str, np.ndarray]:
    """The test outputs after ``steps`` steps of the network, of its linearised model (both by gradient descent
    from the same initialisation) and of the gradient-flow formula with the initial empirical NTK, and f_0."""
    fk.manual_seed(seed)
    net = ntk_mlp([x.shape[1]] + [width] * DEPTH + [1], dtype=fk.float64, **CONFIG)
    lin = LinearizedModel(net)
    inputs, targets, tests = fk.tensor(x), fk.tensor(y[:, None]), fk.tensor(xt)
    with fk.no_grad():
        f0, f0t = net(inputs), net(tests)
    n = len(x)
    both = empirical_ntk(net, fk.cat([inputs, tests]))  # each point's Jacobian once: K(X, X) and K(tests, X) in it
    kernel = gradient_flow_prediction(both[:n, :n], targets, steps, lr=lr, f0_train=f0, kernel_test=both[n:, :n],
                                      f0_test=f0t)
    gradient_descent(lin, inputs, targets, lr, steps)
    gradient_descent(net, inputs, targets, lr, steps)
    with fk.no_grad():
        return {"network": net(tests).numpy()[:, 0], "linearised": lin(tests).numpy()[:, 0],
                "kernel": kernel.numpy()[:, 0], "initial": f0t.numpy()[:, 0]}


def relative_gap(a: np.ndarray, b: np.ndarray, f: dict) -> float:
    """RMS(a − b) over the test points, relative to the RMS change training made, RMS(f_lin,T − f_0)."""
    return float(np.sqrt(np.mean((a - b) ** 2)) / np.sqrt(np.mean((f["linearised"] - f["initial"]) ** 2)))


class NTKLinearization(Experiment, id="ntk-linearization", source="seed 000 §6.1.8"):
    """A wide network trains like its linearisation, i.e. like kernel regression with its NTK.

    Gradient descent on ½‖f(X) − y‖² (12 points on the unit circle, one-hidden-layer ReLU networks in the NTK
    parameterisation, the same step at every width): the network, its linearised model f_0 + ∇_θf_0·(θ − θ_0)
    trained the same way, and the closed-form gradient-flow prediction with the initial empirical NTK (erratum C4:
    f_t = f_0 + K(x, X) K⁻¹ (I − e^{−ηKt})(y − f_0(X))) agree better with the width: at 60 test points the
    network–linearisation disagreement (RMS, relative to the change training made) falls with a log-log slope
    ≤ −0.3 (theory: O(1/√width)), and the network–kernel disagreement is ≤ 5% at the widest width. The linearised
    model and the formula agree within 1% at every width (only the step size separates gradient descent from
    gradient flow).
    """

    def measure(self, ctx: Context) -> Measurement:
        angles, y, test_angles = circle_task(ctx.rng())
        x, xt = circle(angles), circle(test_angles)
        lam = np.linalg.eigvalsh(ntk_kernel(fk.tensor(x), depth=DEPTH, **CONFIG).numpy())
        lr, steps = STEP_SCALE / float(lam[-1]), STEPS[ctx.quick]
        widths, seeds = WIDTHS[ctx.quick], SEEDS[ctx.quick]
        gaps = {"network vs linearised": [], "network vs kernel": [], "linearised vs kernel": []}
        curves = {}
        with blas_threads(1):
            for i, width in enumerate(widths):
                runs = [three_predictions(x, y, xt, width, ctx.seed + 1 + 1000 * (i + 1) + s, lr, steps)
                        for s in range(seeds)]
                for name in gaps:
                    a, b = name.split(" vs ")
                    gaps[name].append(float(np.mean([relative_gap(f[a], f[b], f) for f in runs])))
                curves[width] = runs[0]
        return Measurement(values={
            "widths": list(widths), "networks per width": seeds, "gradient-descent steps": steps, "step η": lr,
            **{f"relative RMS {name}": v for name, v in gaps.items()},
            "log-log slope of network vs linearised": loglog_slope(widths, gaps["network vs linearised"]),
            "network vs kernel at the widest width": gaps["network vs kernel"][-1],
            "largest linearised vs kernel": max(gaps["linearised vs kernel"]),
        }, plot_data={"curves": curves, "angles": angles, "y": y, "test angles": test_angles})

    def checks(self, m: dict) -> list[Check]:
        return [Check("network–linearisation disagreement falls with width: log-log slope",
                      m["log-log slope of network vs linearised"], "≤", FALLS),
                Check("network–kernel prediction disagreement at the widest width",
                      m["network vs kernel at the widest width"], "≤", 0.05),
                Check("linearised model = gradient-flow formula (up to the step size), every width",
                      m["largest linearised vs kernel"], "≤", DISCRETE)]

    summary_template = """Net vs linearised gap ∝ width^{m[log-log slope of network vs linearised]:.2f} (theory −½),
        widths {lo}–{hi}. After {m[gradient-descent steps]} gradient-descent steps the network and its linearised model
        differed by {first:.1%} of the change training made at width {lo} and {last:.1%} at width {hi}; the network and
        the closed-form NTK prediction (erratum C4) by {m[network vs kernel at the widest width]:.1%} at the widest.
        The linearised model followed the formula within {m[largest linearised vs kernel]:.1e} (relative) at every
        width."""

    def summary_values(self, m: dict) -> dict:
        gap = m["relative RMS network vs linearised"]
        return {"lo": m["widths"][0], "hi": m["widths"][-1], "first": gap[0], "last": gap[-1]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        m, data = measurement.values, measurement.plot_data
        widths = np.array(m["widths"])
        ends = (int(widths[0]), int(widths[-1]))

        def draw(fig):
            axes = fig.subplots(1, 3)
            for ax, width in zip(axes[:2], ends):
                f = data["curves"][width]
                ax.plot(data["test angles"], f["initial"], color="grey", linewidth=1, label="f₀ (initial)")
                ax.plot(data["test angles"], f["network"], "C0-", label="network")
                ax.plot(data["test angles"], f["linearised"], "C1--", label="linearised")
                ax.plot(data["test angles"], f["kernel"], "k:", label="NTK formula")
                ax.plot(data["angles"], data["y"], "ko", markersize=4, label="training points")
                ax.set(xlabel="angle α of x = (cos α, sin α)", ylabel="f_T(x)", title=f"width {width}")
            fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper left", ncol=5, fontsize=8)
            ax = axes[2]
            for name, style, size in (("network vs linearised", "o-", 9), ("network vs kernel", "s--", 5),
                                      ("linearised vs kernel", "^:", 6)):
                ax.plot(widths, m[f"relative RMS {name}"], style, markersize=size, label=name)
            ax.plot(widths, m["relative RMS network vs linearised"][0] * (widths / widths[0]) ** -0.5, "k-",
                    linewidth=0.8, label="∝ 1/√width")
            ax.set_yscale("log")
            width_axis(ax, widths)
            ax.set(xlabel="width n", ylabel="RMS gap / RMS change by training", title="disagreement at test points")
            ax.legend(loc="center left", fontsize=7)

        return save_figure(ctx, self.id, draw, figsize=(13, 4.4))
