"""Define-by-run against define-then-run (seed 000 §6.1.2): the same MLP training step run eagerly — the
graph built and walked anew on every step — and traced once with :func:`fukaku.jit.trace`: the loss function
(model and cross-entropy) as a forward program, the step as a backward program, so that a replay runs the
recorded ops of the forward pass without the modules' and the functional layer's Python, and takes the
backward pass from its program instead of walking the graph; the optimizer's update runs as eagerly.

What a replay saves is interpretive work per op (module calls and argument checks, finding the graph's order,
dicts of gradients, a Tensor and an op object for each array of the backward pass), not arithmetic: its share
of a step shrinks as the layers widen and the matrix products grow. Widths sweep from a few units
(overhead-bound) to thousands (GEMM-bound); each time is the median CPU time of interleaved repeats (eager,
traced, eager, …), which load on the machine barely moves, and the two twins — built from the same seed,
fed the same batches — must end with bitwise the same parameters, or the speed would not be worth having.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import fukaku as fk

from ....ops._parallel import blas_threads
from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

QUICK_WIDTHS = (16, 128, 1024)
FULL_WIDTHS = (8, 32, 128, 512, 2048)
REPEATS = {True: 5, False: 9}   # interleaved timings per width; the median is kept
BATCH, CLASSES, HIDDEN_LAYERS = 64, 10, 2
WORK_PER_SAMPLE = {True: 1024, False: 4096}  # steps per timing = this / width: long enough timings to measure
FASTER = 1.0                    # the smallest model's replay beats eager…
VANISHED = 0.1                  # …and at the largest the speed-up is within 10 % of none


def mlp(lib, width: int, seed: int):
    """``HIDDEN_LAYERS`` ReLU layers of ``width`` units on ``width`` inputs, ``CLASSES`` outputs, in ``lib``
    (fukaku or torch: the benchmark builds the same network in both)."""
    lib.manual_seed(seed)
    layers = []
    for _ in range(HIDDEN_LAYERS):
        layers += [lib.nn.Linear(width, width), lib.nn.ReLU()]
    return lib.nn.Sequential(*layers, lib.nn.Linear(width, CLASSES))


def training_step(lib, model, loss_fn: Callable | None = None) -> Callable:
    """One Adam step on a batch ``(x, y)``: zero_grad, the loss (cross-entropy of the model's output unless
    ``loss_fn(x, y)`` is given), backward, step; returns the loss."""
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = loss_fn or (lambda x, y: lib.nn.functional.cross_entropy(model(x), y))

    def step(x, y):
        optimizer.zero_grad()
        loss = loss_fn(x, y)
        loss.backward()
        optimizer.step()
        return loss

    return step


def batches(lib, width: int, count: int, rng: np.random.Generator) -> list:
    return [(lib.tensor(rng.standard_normal((BATCH, width)).astype(np.float32)),
             lib.tensor(rng.integers(0, CLASSES, BATCH))) for _ in range(count)]


def interleaved_step_seconds(steps: dict[str, Callable[[int], None]], repeats: int, count: int) -> dict[str, float]:
    """Median CPU seconds per step of each ``steps[name](i)`` (step i of a timing), timed ``count`` steps at a
    time, the entries in turn ``repeats`` times. CPU time of this process (one BLAS thread), not wall time: other
    processes on a busy machine delay the steps without adding to it, and interleaving evens out the rest."""
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, run in steps.items():
            start = time.process_time()
            for i in range(count):
                run(i)
            times[name].append((time.process_time() - start) / count)
    return {name: float(np.median(t)) for name, t in times.items()}


def compare_at(width: int, repeats: int, seed: int, work: int = WORK_PER_SAMPLE[False]) -> dict:
    """Eager and traced twins of one width: seconds per step (timings of ``work / width`` steps), and whether
    their parameters end identical."""
    count = max(2, work // width)
    data = batches(fk, width, count, np.random.default_rng(seed))
    eager_model, traced_model = mlp(fk, width, seed), mlp(fk, width, seed)
    loss = fk.jit.trace(lambda x, y: fk.nn.functional.cross_entropy(traced_model(x), y), data[0])  # a forward pass
    eager, step = training_step(fk, eager_model), training_step(fk, traced_model, loss)
    eager(*data[0])
    traced = fk.jit.trace(step, data[0])  # the trace is a step too: both twins have taken one
    seconds = interleaved_step_seconds({"eager": lambda i: eager(*data[i]), "traced": lambda i: traced(*data[i])},
                                       repeats, count)
    same = all(np.array_equal(a.detach().numpy(), b.detach().numpy())
               for a, b in zip(eager_model.parameters(), traced_model.parameters()))
    program = traced.backward_programs[0]
    return {"width": width, "parameters": sum(p.numel() for p in eager_model.parameters()),
            "eager": seconds["eager"], "traced": seconds["traced"], "same": same,
            "forward ops": len(loss.forward_program.ops), "flat": program.flat_nodes, "rule": program.rule_nodes}


class DefineThenRun(Experiment, id="define-then-run", source="seed 000 §6.1.2"):
    """Define-then-run removes the per-op interpretive overhead.

    A static graph, defined once and then run, skips the work a define-by-run framework repeats on every step to
    build and walk its graph. That work is per op, not per number: the advantage is largest for small models and
    vanishes as the arithmetic grows. Measured on MLP training steps (Adam, batch 64, two hidden ReLU layers)
    from a few units to thousands, eager against fukaku.jit.trace (the loss as a forward program, the step's
    backward pass as a backward program), the traced steps leaving bitwise the same parameters.
    """

    def measure(self, ctx: Context) -> Measurement:
        widths = QUICK_WIDTHS if ctx.quick else FULL_WIDTHS
        with blas_threads(1):  # one core for both: the comparison is of interpretive work, not of threading
            rows = [compare_at(width, REPEATS[ctx.quick], ctx.seed, WORK_PER_SAMPLE[ctx.quick]) for width in widths]
        speedups = [r["eager"] / r["traced"] for r in rows]
        return Measurement(
            values={"widths": list(widths), "parameters": [r["parameters"] for r in rows],
                    "eager CPU ms per step (median)": [round(r["eager"] * 1e3, 4) for r in rows],
                    "traced CPU ms per step (median)": [round(r["traced"] * 1e3, 4) for r in rows],
                    "speed-up (eager / traced)": [round(s, 3) for s in speedups],
                    "speed-up at the smallest width": speedups[0],
                    "speed-up at the largest width": speedups[-1],
                    "|speed-up − 1| at the largest width": abs(speedups[-1] - 1.0),
                    "forward ops replayed": rows[0]["forward ops"],
                    "backward nodes replayed flat / by rule": [f"{r['flat']}/{r['rule']}" for r in rows],
                    "widths whose traced parameters equal eager's bitwise": sum(r["same"] for r in rows),
                    "widths compared": len(rows)},
            plot_data={"rows": rows})

    def checks(self, m: dict) -> list[Check]:
        return [Check("traced steps leave bitwise eager's parameters (widths)",
                      m["widths whose traced parameters equal eager's bitwise"], "=", m["widths compared"]),
                Check("speed-up at the smallest width", m["speed-up at the smallest width"], ">", FASTER),
                Check("speed-up at the smallest width > at the largest", m["speed-up at the smallest width"], ">",
                      m["speed-up at the largest width"]),
                Check("|speed-up − 1| at the largest width (vanished)", m["|speed-up − 1| at the largest width"], "≤",
                      VANISHED)]

    summary_template = """Tracing speeds a training step up {m[speed-up at the smallest width]:.2f}× at width
        {smallest} and {m[speed-up at the largest width]:.2f}× at width {largest}. Eager and traced steps take
        {eager} and {traced} CPU ms (median of interleaved repeats) at widths {widths}; the replays run the forward
        pass from its recorded program ({m[forward ops replayed]} ops) and take the backward pass from another
        (nodes flat / by rule: {nodes}), and every width's traced twin ends with bitwise the parameters of the eager
        one."""

    def summary_values(self, m: dict) -> dict:
        return {"smallest": m["widths"][0], "largest": m["widths"][-1], "widths": m["widths"],
                "eager": m["eager CPU ms per step (median)"], "traced": m["traced CPU ms per step (median)"],
                "nodes": m["backward nodes replayed flat / by rule"][0]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        rows = measurement.plot_data["rows"]
        widths = [r["width"] for r in rows]

        def draw(fig) -> None:
            times, ratio = fig.subplots(1, 2)
            times.loglog(widths, [r["eager"] * 1e3 for r in rows], "o-", label="define-by-run (eager)")
            times.loglog(widths, [r["traced"] * 1e3 for r in rows], "s-", label="define-then-run (traced)")
            times.set(xlabel="width (units per layer)", ylabel="CPU ms per training step (median)", title="time per step")
            times.legend()
            ratio.semilogx(widths, [r["eager"] / r["traced"] for r in rows], "o-")
            ratio.axhline(1.0, color="grey", lw=0.8)
            ratio.set(xlabel="width (units per layer)", ylabel="eager / traced", title="speed-up of tracing")

        return save_figure(ctx, self.id, draw, figsize=(9.6, 3.8))
