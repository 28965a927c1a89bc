"""Forward against reverse mode (seed 000 §6.1.2): the full gradient of a scalar loss with respect to |θ| parameters
takes one reverse pass (backpropagation), but |θ| forward-mode passes — one Jacobian-vector product per basis
direction — so the cost ratio grows in proportion to |θ|. Both modes give the same gradient."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku.autograd.functional import jacobian

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ....ops._parallel import blas_threads
from ._common import loglog_slope

INPUTS, BATCH = 8, 32                     # the MLP's input size and the batch the loss averages over
WIDTHS = {True: (1, 2, 4, 8, 16, 32), False: (1, 2, 4, 8, 16, 32, 64, 128, 256)}   # hidden widths h: |θ| = 10h + 1
REPEATS = {True: 3, False: 5}             # timings per size; the median is kept
SLOPE = 0.5                               # the log-log slope of the time ratio against |θ| is at least this
AGREE = 1e-12                             # max |g_fwd − g_rev| / max |g_rev| (float64)


def mlp_loss(width: int, rng: np.random.Generator):
    """A scalar loss of a flat parameter vector: the mean squared error of Linear(8, h) → tanh → Linear(h, 1) on a
    fixed batch. Returns ``(loss(θ), θ₀)``, θ₀ float64 of size 10h + 1."""
    x = fk.tensor(rng.standard_normal((BATCH, INPUTS)))
    t = fk.tensor(rng.standard_normal((BATCH, 1)))
    sizes = [width * INPUTS, width, width, 1]
    bounds = np.cumsum([0] + sizes)

    def loss(theta: fk.Tensor) -> fk.Tensor:
        w1, b1, w2, b2 = (theta[lo:hi] for lo, hi in zip(bounds, bounds[1:]))
        hidden = (x @ w1.reshape(width, INPUTS).T + b1).tanh()
        return ((hidden @ w2.reshape(1, width).T + b2 - t) ** 2).mean()

    return loss, fk.tensor(rng.standard_normal(int(bounds[-1])) / np.sqrt(INPUTS))


def full_gradient(loss, theta: fk.Tensor, mode: str) -> tuple[np.ndarray, int, int, float]:
    """∇loss(θ) by ``jacobian(loss, θ, mode=mode)``: ``(gradient, forward evaluations of loss, backward passes,
    seconds)``, the passes counted as they happen (a hook on the loss counts the backward passes)."""
    counts = {"forward": 0, "backward": 0}

    def counted(th: fk.Tensor) -> fk.Tensor:
        counts["forward"] += 1
        out = loss(th)
        if out.requires_grad:
            out.register_hook(lambda grad: counts.__setitem__("backward", counts["backward"] + 1))
        return out

    start = time.perf_counter()
    gradient = jacobian(counted, theta, mode=mode)
    seconds = time.perf_counter() - start
    return gradient.numpy(), counts["forward"], counts["backward"], seconds


class AutodiffModes(Experiment, id="autodiff-modes", source="seed 000 §6.1.2"):
    """A full gradient costs 1 reverse pass but |θ| forward-mode passes.

    For the mean squared error of an MLP Linear(8, h) → tanh → Linear(h, 1) as a function of its flat parameter
    vector θ (|θ| = 10h + 1 from 11 to 321; full run to 2,561), fukaku.autograd.functional.jacobian builds the
    gradient with mode="rev" from one forward evaluation and one backward pass, and with mode="fwd" from |θ|
    forward-mode evaluations (one Jacobian-vector product per basis direction), at every size. The two gradients
    agree to 1e-12 (relative, float64), and the time ratio forward/reverse grows with |θ|: its log-log slope
    against |θ| is at least 0.5 (1 in the limit where the passes' fixed costs no longer matter).
    """

    def measure(self, ctx: Context) -> Measurement:
        rng = ctx.rng()
        rows = []
        with blas_threads(1):
            for width in WIDTHS[ctx.quick]:
                loss, theta = mlp_loss(width, rng)
                runs = {mode: [full_gradient(loss, theta, mode) for _ in range(REPEATS[ctx.quick])]
                        for mode in ("rev", "fwd")}
                g_rev, g_fwd = runs["rev"][0][0], runs["fwd"][0][0]
                rows.append({"size": theta.numel(), "rev": runs["rev"][0][1:3], "fwd": runs["fwd"][0][1:3],
                             "t_rev": float(np.median([r[3] for r in runs["rev"]])),
                             "t_fwd": float(np.median([r[3] for r in runs["fwd"]])),
                             "gap": float(np.abs(g_fwd - g_rev).max() / np.abs(g_rev).max())})
        sizes = np.array([r["size"] for r in rows])
        ratio = np.array([r["t_fwd"] / r["t_rev"] for r in rows])
        slope = loglog_slope(sizes, ratio)
        return Measurement(values={
            "|θ|": sizes.tolist(),
            "reverse: (forward evaluations, backward passes)": [list(r["rev"]) for r in rows],
            "forward mode: forward evaluations": [r["fwd"][0] for r in rows],
            "forward mode: backward passes": sum(r["fwd"][1] for r in rows),
            "sizes where reverse took 1 evaluation and 1 backward pass": sum(r["rev"] == (1, 1) for r in rows),
            "sizes where forward mode took |θ| evaluations": sum(r["fwd"][0] == r["size"] for r in rows),
            "sizes": len(rows),
            "seconds, reverse (median)": [round(r["t_rev"], 5) for r in rows],
            "seconds, forward mode (median)": [round(r["t_fwd"], 5) for r in rows],
            "time ratio forward / reverse": [round(float(v), 2) for v in ratio],
            "log-log slope of the time ratio against |θ|": slope,
            "largest relative gradient difference": max(r["gap"] for r in rows),
        }, plot_data={"sizes": sizes, "t_rev": [r["t_rev"] for r in rows], "t_fwd": [r["t_fwd"] for r in rows],
                      "ratio": ratio})

    def checks(self, m: dict) -> list[Check]:
        return [Check("reverse mode: sizes with 1 forward evaluation and 1 backward pass",
                      m["sizes where reverse took 1 evaluation and 1 backward pass"], "=", m["sizes"]),
                Check("forward mode: sizes with |θ| forward evaluations",
                      m["sizes where forward mode took |θ| evaluations"], "=", m["sizes"]),
                Check("forward mode runs no backward pass", m["forward mode: backward passes"], "=", 0),
                Check("both modes give the same gradient: max relative difference",
                      m["largest relative gradient difference"], "≤", AGREE),
                Check("the time ratio forward / reverse grows with |θ|: log-log slope",
                      m["log-log slope of the time ratio against |θ|"], "≥", SLOPE)]

    summary_template = """|θ| = {largest}: 1 reverse pass against {largest} forward passes, {last_ratio:.0f}× the
        time. For an MLP's loss with |θ| = {sizes} parameters, jacobian(mode="rev") took one
        forward evaluation and one backward pass at every size, jacobian(mode="fwd") took |θ| forward-mode
        evaluations; the time ratio forward/reverse was {ratios}, growing as |θ|^{m[log-log slope of the time ratio
        against |θ|]:.2f}. The two gradients agree to {m[largest relative gradient difference]:.0e} (relative,
        float64)."""

    def summary_values(self, m: dict) -> dict:
        return {"largest": m["|θ|"][-1], "last_ratio": m["time ratio forward / reverse"][-1],
                "sizes": ", ".join(map(str, m["|θ|"])),
                "ratios": ", ".join(f"{v:.3g}" for v in m["time ratio forward / reverse"])}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        d = measurement.plot_data
        passes_rev = [sum(p) for p in measurement.values["reverse: (forward evaluations, backward passes)"]]
        passes_fwd = measurement.values["forward mode: forward evaluations"]

        def draw(fig):
            pass_ax, time_ax = fig.subplots(1, 2)
            pass_ax.loglog(d["sizes"], passes_fwd, "o-", label="forward mode: |θ| jvp passes")
            pass_ax.loglog(d["sizes"], passes_rev, "s-", label="reverse mode: 1 forward + 1 backward")
            pass_ax.set(xlabel="parameters |θ|", ylabel="passes for the full gradient", title="passes")
            pass_ax.legend(fontsize=8)
            time_ax.loglog(d["sizes"], d["t_fwd"], "o-", label="forward mode")
            time_ax.loglog(d["sizes"], d["t_rev"], "s-", label="reverse mode")
            for size, t, r in zip(d["sizes"], d["t_fwd"], d["ratio"]):
                time_ax.annotate(f"{r:.0f}×", (size, t), textcoords="offset points", xytext=(-8, 6), fontsize=7)
            time_ax.set(xlabel="parameters |θ|", ylabel="seconds (median)", title="time (labels: fwd / rev)")
            low, high = time_ax.get_ylim()
            time_ax.set_ylim(low, high * 3)                         # room for the labels
            time_ax.legend(fontsize=8, loc="upper left")

        return save_figure(ctx, self.id, draw, figsize=(10.0, 4.2))
