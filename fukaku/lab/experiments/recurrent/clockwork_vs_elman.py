"""A Clockwork RNN generates a long-period signal that an Elman network of as many parameters does not (seed 002
ch. 4; Koutník, Greff, Gomez & Schmidhuber 2014, §4.1 sequence generation)."""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import nn
from fukaku.models.rnn.clockwork import ClockworkRNN

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._training import adam_steps
from ....ops._parallel import blas_threads

HARMONICS = 4         # the signal: harmonics 1, 2, 4, 8 of one period spanning the whole sequence, amplitudes 1/(1+j)
PEAK = 0.8            # the signal is scaled to max |y| = 0.8 (inside tanh's range)
MODULES, UNITS = 8, 8  # Clockwork RNN: 8 modules of 8 units, periods 1, 2, 4, …, 128
CLIP = 1.0
QUICK = {"length": 160, "steps": 100, "elman learning rates": (3e-3, 1e-2, 3e-2)}
FULL = {"length": 320, "steps": 1000, "elman learning rates": (1e-3, 3e-3, 1e-2, 3e-2)}
CW_LR = 1e-2
GENERATES = 0.05      # "generates the signal": normalised MSE (MSE / variance of the signal) at most this


def long_period_signal(length: int, rng: np.random.Generator) -> np.ndarray:
    """One period of a signal of period ``length``: the sum of harmonics 1, 2, 4, 8 of 2π/length with
    amplitudes 1, 1/2, 1/3, 1/4 and random phases, scaled to max |y| = 0.8. Returns float32 ``(length,)``."""
    t = np.arange(length)
    phases = rng.uniform(0, 2 * math.pi, HARMONICS)
    y = sum(np.sin(2 * math.pi * 2 ** j * t / length + phases[j]) / (1 + j) for j in range(HARMONICS))
    return (PEAK * y / np.abs(y).max()).astype(np.float32)


class SignalGenerator(nn.Module):
    """A recurrent layer (``ClockworkRNN`` or ``nn.RNN``, batch first) and a linear read-out of every state."""

    def __init__(self, recurrent: nn.Module, hidden: int) -> None:
        super().__init__()
        self.recurrent = recurrent
        self.readout = nn.Linear(hidden, 1)

    def forward(self, x: fk.Tensor) -> fk.Tensor:
        return self.readout(self.recurrent(x)[0])


def clockwork(seed: int) -> SignalGenerator:
    fk.manual_seed(seed)
    return SignalGenerator(ClockworkRNN(1, MODULES * UNITS, periods=MODULES, batch_first=True), MODULES * UNITS)


def elman(hidden: int, seed: int) -> SignalGenerator:
    fk.manual_seed(seed)
    return SignalGenerator(nn.RNN(1, hidden, batch_first=True), hidden)


def effective_parameters(model: SignalGenerator) -> int:
    """Parameters that act on the output: every entry, except the Clockwork RNN's recurrent weights outside its
    block-triangular mask (held at 0, never used)."""
    count = sum(p.numel() for p in model.parameters())
    if isinstance(model.recurrent, ClockworkRNN):
        mask = model.recurrent.recurrent_mask
        count -= mask.numel() - int(mask.sum().item())
    return count


def elman_hidden_for(parameters: int) -> int:
    """The smallest Elman hidden size H whose network (H² + 4H + 1 parameters with both biases and the read-out,
    one input) has at least ``parameters``."""
    return math.ceil(-2 + math.sqrt(3 + parameters))


def train(model: SignalGenerator, target: np.ndarray, steps: int, lr: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Adam (a constant rate) on the MSE between the output at every step and ``target``; the input is all zeros
    (the network runs on its own dynamics, as Koutník et al.'s generation task has no input). Returns the
    normalised MSE (MSE / variance of the target) before each step, the final output and the seconds it took."""
    x = fk.zeros(1, len(target), 1)
    y = fk.tensor(target).reshape(1, -1, 1)
    start = time.perf_counter()
    with blas_threads(1):                      # small GEMMs: a second BLAS thread costs more than it gives
        losses = adam_steps(model, lambda step: ((model(x) - y) ** 2).mean(), steps, lr, CLIP, cosine=False)
    seconds = time.perf_counter() - start
    with fk.no_grad():
        output = model(x).reshape(-1).numpy()
    return losses / float(target.var()), output, seconds


def normalised_mse(output: np.ndarray, target: np.ndarray) -> float:
    return float(((output - target) ** 2).mean() / target.var())


class ClockworkVsElman(Experiment, id="clockwork-vs-elman",
                       source="seed 002 ch. 4; Koutník et al. 2014 §4.1"):
    """A Clockwork RNN generates a long-period signal; an Elman network of as many parameters does not.

    The Clockwork RNN splits an Elman network's hidden units into modules that update only every T_i steps
    (T_i = 1, 2, 4, …), slow modules feeding fast ones; the slow modules keep long-range time, so it learns
    to generate long-period sequences far better than an Elman network of the same size (Koutník et al. 2014,
    §4.1; seed 002 ch. 4 names it as the recurrent network of a game agent). Measured on generating, from no
    input, one period of a signal spanning 160 steps (320 in the full run) made of harmonics 1, 2, 4 and 8:
    after the same Adam steps the Clockwork RNN (8 modules of 8 units) reaches a normalised MSE ≤ 0.05 and
    below the best Elman network (at least as many parameters, best of several learning rates).
    """

    def measure(self, ctx: Context) -> Measurement:
        config = QUICK if ctx.quick else FULL
        target = long_period_signal(config["length"], ctx.rng())
        steps = config["steps"]
        cw = clockwork(ctx.seed)
        cw_parameters = effective_parameters(cw)
        hidden = elman_hidden_for(cw_parameters)
        cw_curve, cw_output, cw_seconds = train(cw, target, steps, CW_LR)
        elman_runs = {}
        for lr in config["elman learning rates"]:
            model = elman(hidden, ctx.seed)
            elman_runs[lr] = (*train(model, target, steps, lr), effective_parameters(model))
        best = min(elman_runs, key=lambda lr: normalised_mse(elman_runs[lr][1], target))
        el_curve, el_output, el_seconds, el_parameters = elman_runs[best]
        active = cw.recurrent.active(config["length"]).numpy()
        return Measurement(
            values={"signal": f"one period of {config['length']} steps, harmonics 1, 2, 4, 8",
                    "Adam steps": steps,
                    "Clockwork RNN: modules × units, periods": [MODULES, UNITS, list(cw.recurrent.periods)],
                    "Elman hidden units": hidden,
                    "parameters": {"Clockwork RNN": cw_parameters, "Elman": el_parameters},
                    "learning rate": {"Clockwork RNN": CW_LR, "Elman (best)": best},
                    "normalised MSE (MSE / signal variance)": {
                        "Clockwork RNN": normalised_mse(cw_output, target),
                        "Elman (best learning rate)": normalised_mse(el_output, target)},
                    "Elman normalised MSE by learning rate": {
                        f"{lr:g}": normalised_mse(run[1], target) for lr, run in elman_runs.items()},
                    "MSE": {"Clockwork RNN": float(((cw_output - target) ** 2).mean()),
                            "Elman (best learning rate)": float(((el_output - target) ** 2).mean())},
                    "signal variance (MSE of predicting the mean)": float(target.var()),
                    "output's standard deviation / the signal's": {
                        "Clockwork RNN": float(cw_output.std() / target.std()),
                        "Elman (best learning rate)": float(el_output.std() / target.std())},
                    "Clockwork RNN: units updated per step (mean fraction)": float(active.mean()),
                    "seconds to train": {"Clockwork RNN": round(cw_seconds, 1), "Elman": round(el_seconds, 1)}},
            plot_data={"target": target, "outputs": {"Clockwork RNN": cw_output, f"Elman (lr {best:g})": el_output},
                       "curves": {"Clockwork RNN": cw_curve, f"Elman (lr {best:g})": el_curve}})

    def checks(self, m: dict) -> list[Check]:
        nmse, parameters = m["normalised MSE (MSE / signal variance)"], m["parameters"]
        return [Check("Clockwork RNN generates the signal: normalised MSE", nmse["Clockwork RNN"], "≤", GENERATES),
                Check("Clockwork RNN normalised MSE, vs the best Elman network's", nmse["Clockwork RNN"], "<",
                      nmse["Elman (best learning rate)"]),
                Check("Clockwork RNN parameters, vs Elman's", parameters["Clockwork RNN"], "≤", parameters["Elman"])]

    summary_template = """Normalised MSE: Clockwork RNN {cw:.3g} vs Elman {el:.3g} (≤ {bound} claimed). Both
        generate, from no input, {m[signal]}, trained for {m[Adam steps]} Adam steps: the Clockwork RNN
        ({modules} modules × {units} units, periods {periods}; {m[parameters][Clockwork RNN]:,} parameters,
        {active:.0%} of its units updated per step) reaches MSE {m[MSE][Clockwork RNN]:.2g}; the Elman network
        ({m[Elman hidden units]} units, {m[parameters][Elman]:,} parameters) reaches at best
        {m[MSE][Elman (best learning rate)]:.2g} (learning rates {rates}; normalised {by_rate}), against
        {m[signal variance (MSE of predicting the mean)]:.2g} for a constant output. An Elman network's state
        forgets within a few steps, so from no input it settles to a fixed point and outputs about the mean (its
        output varies {el_spread:.2g} times as much as the signal, in standard deviation);
        the Clockwork RNN's slow modules change only every {slow} steps and serve as a clock that the fast ones
        read."""

    def summary_values(self, m: dict) -> dict:
        nmse = m["normalised MSE (MSE / signal variance)"]
        modules, units, periods = m["Clockwork RNN: modules × units, periods"]
        by_rate = m["Elman normalised MSE by learning rate"]
        return {"el_spread": m["output's standard deviation / the signal's"]["Elman (best learning rate)"],
                "cw": nmse["Clockwork RNN"], "el": nmse["Elman (best learning rate)"], "bound": GENERATES,
                "modules": modules, "units": units, "slow": " or ".join(map(str, periods[-2:])),
                "periods": ", ".join(map(str, periods)),
                "active": m["Clockwork RNN: units updated per step (mean fraction)"],
                "rates": ", ".join(by_rate),
                "by_rate": ", ".join(f"{value:.3g}" for value in by_rate.values())}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        d = measurement.plot_data

        def draw(fig):
            left, right = fig.subplots(1, 2, width_ratios=[1.6, 1])
            left.plot(d["target"], color="#222", linewidth=2.5, alpha=0.35, label="target")
            for (name, output), colour in zip(d["outputs"].items(), ("#d64", "#46c")):
                left.plot(output, color=colour, linewidth=1.2, label=name)
            left.set_xlabel("step t")
            left.set_ylabel("output")
            left.set_title("generated from no input", fontsize=9)
            left.legend(fontsize=8)
            for (name, curve), colour in zip(d["curves"].items(), ("#d64", "#46c")):
                right.plot(np.arange(1, len(curve) + 1), curve, color=colour, label=name)
            right.set_yscale("log")
            right.set_xlabel("Adam step")
            right.set_ylabel("MSE / signal variance")
            right.legend(fontsize=8)

        return save_figure(ctx, self.id, draw, figsize=(11, 4))
