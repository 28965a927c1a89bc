"""Sampling cost: a normalizing flow draws a sample in one pass through its layers, a diffusion model in T
passes of its network (seed 000 §6.5, the flow-vs-diffusion table)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku.models.generative.diffusion import DDPM, EpsilonMLP, NoiseSchedule
from fukaku.models.generative.flows import AffineCoupling, RealNVP

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ....ops._parallel import blas_threads

T = 100
SAMPLES = 1000
REPEATS = {True: 3, False: 7}   # quick, full: timings whose median is kept
FASTER = 5.0                    # the flow samples at least this many times faster


def counted(modules: list[fk.nn.Module]) -> list[int]:
    """A one-element counter of the forward calls of ``modules``, kept up to date by forward hooks."""
    calls = [0]

    def hook(module, inputs, output):
        calls[0] += 1

    for module in modules:
        module.register_forward_hook(hook)
    return calls


def median_seconds(draw, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        draw()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


class FlowVsDiffusion(Experiment, id="flow-vs-diffusion-sampling", source="seed 000 §6.5"):
    """A flow samples in one pass, a diffusion model in T.

    The text's table sets flows against diffusion: a flow maps noise to data with one pass of f⁻¹ through its
    layers, while DDPM's ancestral sampler calls its noise network once per step, T times. Counted with
    forward hooks on 2-D models of similar size (Real NVP with 8 couplings of 64 units; an ε-MLP of 128 units,
    T = 100), drawing 1,000 samples runs each coupling network exactly once for the flow and the ε-network
    exactly T times for the diffusion model, and the flow is at least 5× faster by the clock.
    """

    def measure(self, ctx: Context) -> Measurement:
        fk.manual_seed(ctx.seed)
        flow = RealNVP(2, 8, 64).eval()
        ddpm = DDPM(EpsilonMLP(2, 128), NoiseSchedule.linear(T)).eval()
        couplings = [m.net for m in flow.layers if isinstance(m, AffineCoupling)]
        flow_calls, ddpm_calls = counted(couplings), counted([ddpm.model])
        generator = fk.Generator().manual_seed(ctx.seed + 1)
        with blas_threads(1):
            flow.sample(SAMPLES, generator=generator)
            ddpm.sample(SAMPLES, generator=generator)
            passes = {"flow: calls per coupling network": flow_calls[0] / len(couplings),
                      "diffusion: calls of the ε-network": ddpm_calls[0]}
            repeats = REPEATS[ctx.quick]
            seconds = {"flow": median_seconds(lambda: flow.sample(SAMPLES, generator=generator), repeats),
                       "diffusion (ancestral, T = 100)": median_seconds(
                           lambda: ddpm.sample(SAMPLES, generator=generator), repeats)}
        parameters = {"flow": sum(p.numel() for p in flow.parameters()),
                      "diffusion": sum(p.numel() for p in ddpm.parameters())}
        return Measurement(values={"network passes for one batch of samples": passes, "T": T,
                                   f"seconds to draw {SAMPLES} samples (median)": seconds,
                                   "diffusion / flow time": seconds["diffusion (ancestral, T = 100)"] / seconds["flow"],
                                   "parameters": parameters},
                           plot_data={"seconds": seconds})

    def checks(self, m: dict) -> list[Check]:
        passes = m["network passes for one batch of samples"]
        return [Check("flow: each coupling network runs once", passes["flow: calls per coupling network"], "=", 1),
                Check("diffusion: the ε-network runs T times", passes["diffusion: calls of the ε-network"], "=", m["T"]),
                Check("diffusion / flow sampling time", m["diffusion / flow time"], "≥", FASTER)]

    summary_template = """The flow samples in 1 pass, the diffusion model in {m[T]}: {m[diffusion / flow time]:.0f}× slower.
        Drawing 1,000 samples took {flow_ms:.1f} ms with Real NVP ({m[parameters][flow]} parameters) and
        {ddpm_ms:.1f} ms with DDPM's ancestral sampler ({m[parameters][diffusion]} parameters), medians of
        repeated draws."""

    def summary_values(self, m: dict) -> dict:
        seconds = list(m[f"seconds to draw {SAMPLES} samples (median)"].values())
        return {"flow_ms": 1e3 * seconds[0], "ddpm_ms": 1e3 * seconds[1]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        seconds = measurement.plot_data["seconds"]

        def draw(fig):
            ax = fig.subplots()
            ax.bar(list(seconds), [1e3 * s for s in seconds.values()], color=["#2a7", "#46c"])
            ax.set(ylabel=f"ms to draw {SAMPLES} samples", yscale="log", title="sampling cost")

        return save_figure(ctx, self.id, draw)
