"""Long-range memory: the adding problem and the copy task as the lag T grows, for the Elman network, the LSTM
and the GRU (seed 000 §6.1.7 and its checks; seed 001 §9.3; seed 004 §3.4)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._memory import CELLS, SYMBOLS, train_adding, train_copy
from ....ops._parallel import blas_threads

# Adam at lr 1e-2 on fresh batches of 32 sequences, hidden size 32, gradients clipped to norm 1 (_memory.CLIP).
# The number of steps grows with the lag: the gated networks sit on the baseline's plateau for a while first.
QUICK = {"lags": (5, 20), "hidden": 32, "batch": 32, "lr": 1e-2, "adding steps": {5: 600, 20: 400},
         "copy lags": ()}  # the copy task takes thousands of steps per lag to learn: the full run only
FULL = {"lags": (10, 50, 100, 200), "hidden": 32, "batch": 32, "lr": 1e-2,
        "adding steps": {10: 1000, 50: 1500, 100: 2000, 200: 3000},
        "copy lags": (10, 50, 100, 200), "copied": 2, "copy hidden": 32, "copy lr": 1e-2,
        "copy steps": {10: 2000, 50: 2000, 100: 2000, 200: 4000}}
SOLVED_MSE = 0.01      # the adding problem is solved: test MSE below this (the bar at T = 100)
LEARNS = 0.1           # Elman learns the shortest lag: its MSE below this fraction of the baseline's
NEAR_BASELINE = 0.5    # Elman fails: its MSE stays above this fraction of the baseline's (≈ 1/6)
RECALLS = 0.9          # the copy task is solved: this share of the recalled symbols right
FORGETS = 0.5          # Elman fails the copy task: at most this share right (chance is 1/SYMBOLS)
FORGET_BIAS = 1.0      # the LSTM's forget gates start at σ(1) ≈ 0.73 (Gers et al. 2000; Jozefowicz et al. 2015)
# On the copy task an LSTM started so stayed at chance (26% recalled) at T = 50, 100 and 200 after 1000 steps, while
# the GRU recalled everything: there the LSTM gets the chrono initialisation, made for long lags, instead. With it
# the LSTM recalled 68% at T = 200 after 2000 steps and 100% after 4000, hence the longer run at that lag.


def lag(T: int) -> str:
    return f"T = {T}"


def tabulate(config: dict, mse: dict, baseline: dict, recall: dict, seconds: dict) -> dict:
    """The measured values of a run of ``config`` from its numbers by cell and lag (``{cell: {"T = 10": …}}``)."""
    lags, copy_lags = config["lags"], config["copy lags"]
    values = {"lags T": list(lags), "hidden units, batch, learning rate": [config["hidden"], config["batch"],
                                                                         config["lr"]],
              "training steps": {lag(T): config["adding steps"][T] for T in lags},
              "adding problem: test MSE": mse,
              "adding problem: baseline MSE (always 1)": baseline,
              "adding problem: MSE / baseline": {cell: {key: value / baseline[key] for key, value in row.items()}
                                                 for cell, row in mse.items()},
              "copy task lags T": list(copy_lags)}
    if copy_lags:
        values.update({"copy task: symbols copied, alphabet": [config["copied"], SYMBOLS],
                       "copy task: hidden units, learning rate": [config["copy hidden"], config["copy lr"]],
                       "copy task: training steps": {lag(T): config["copy steps"][T] for T in copy_lags},
                       "copy task: share of recalled symbols right": recall,
                       "copy task: chance": 1 / SYMBOLS})
    values["seconds to train"] = seconds
    return values


class AddingCopyTasks(Experiment, id="adding-copy-tasks", source="seed 000 §6.1.7, seed 001 §9.3, seed 004 §3.4"):
    """Elman forgets over long lags; LSTM and GRU remember.

    On the adding problem (the sum of the two values marked among T, Hochreiter & Schmidhuber 1997) and on the
    copy task (recall two symbols after T blank steps), an Elman network learns a short lag but collapses as T
    grows, while the LSTM and the GRU keep succeeding (seed 000 §6.1.7). Measured with one recurrent layer of 32
    units, Adam with lr 1e-2 and clipping at norm 1, fresh sequences every step; the LSTM's forget gates start at
    σ(1) on the adding problem, and on the copy task with the chrono initialisation (Tallec & Ollivier 2018: forget
    biases log U(1, L − 1) for sequences of length L, input biases their negatives). Adding problem, at T = 10,
    50, 100, 200 in the full run and T = 5, 20 in the quick run: the LSTM and the GRU reach a test MSE below 0.01
    at every lag; the Elman network gets below 0.1 of the baseline MSE (always answering 1, ≈ 1/6) at the
    shortest lag and stays above 0.5 of it at every longer one. Copy task, full run only, T = 10, 50, 100, 200: the
    LSTM and the GRU recall at least 90% of the symbols at every lag, the Elman network at most 50% beyond the
    shortest (chance: 25%).
    """

    def measure(self, ctx: Context) -> Measurement:
        config = QUICK if ctx.quick else FULL
        lags, copy_lags, hidden, batch, lr = (config[key] for key in ("lags", "copy lags", "hidden", "batch", "lr"))
        mse, baseline, recall, seconds, curves = {}, {}, {}, {}, {}
        with blas_threads(1):
            for cell in CELLS:
                forget = FORGET_BIAS if cell == "LSTM" else None
                mse[cell], recall[cell], seconds[cell] = {}, {}, {}
                for T in lags:
                    run, mse[cell][lag(T)], baseline[lag(T)] = train_adding(
                        cell, T, hidden, config["adding steps"][T], batch, lr, ctx.seed, forget_bias=forget)
                    seconds[cell][f"adding, {lag(T)}"] = round(run.seconds, 1)
                    curves[cell, T] = run.losses
                for T in copy_lags:
                    run, recall[cell][lag(T)] = train_copy(cell, T, config["copied"], config["copy hidden"],
                                                           config["copy steps"][T], batch, config["copy lr"],
                                                           ctx.seed, chrono=cell == "LSTM")
                    seconds[cell][f"copy, {lag(T)}"] = round(run.seconds, 1)
        return Measurement(values=tabulate(config, mse, baseline, recall, seconds), plot_data={"curves": curves})


    def checks(self, m: dict) -> list[Check]:
        lags, copy_lags = m["lags T"], m["copy task lags T"]
        ratio, mse = m["adding problem: MSE / baseline"], m["adding problem: test MSE"]
        short = lag(lags[0])
        checks = [Check(f"Elman learns the adding problem at {short}: MSE / baseline", ratio["Elman"][short], "<",
                        LEARNS)]
        checks += [Check(f"Elman fails the adding problem at {lag(T)}: MSE / baseline", ratio["Elman"][lag(T)], ">",
                         NEAR_BASELINE) for T in lags[1:]]
        checks += [Check(f"{cell} solves the adding problem at {lag(T)}: test MSE", mse[cell][lag(T)], "<",
                         SOLVED_MSE) for cell in ("LSTM", "GRU") for T in lags]
        if copy_lags:
            recall = m["copy task: share of recalled symbols right"]
            checks += [Check(f"Elman fails the copy task at {lag(T)}: share recalled", recall["Elman"][lag(T)], "≤",
                             FORGETS) for T in copy_lags[1:]]
            checks += [Check(f"{cell} solves the copy task at {lag(T)}: share recalled", recall[cell][lag(T)], "≥",
                             RECALLS) for cell in ("LSTM", "GRU") for T in copy_lags]
        return checks

    summary_template = """At {longest}: MSE Elman {elman:.3f}, LSTM {lstm:.4f}, GRU {gru:.4f} (baseline {base:.3f}).
        Adding problem, test MSE per lag: {adding}. The Elman network's MSE is {elman_short:.2f} of the baseline's
        at the shortest lag and at least {elman_long:.2f} of it at the longer ones; the largest MSE of the gated
        networks over all lags is {gated_worst:.2g}. {copy}"""

    def summary_values(self, m: dict) -> dict:
        lags, mse = m["lags T"], m["adding problem: test MSE"]
        longest = lag(lags[-1])
        per_lag = lambda table, keys, fmt: "; ".join(  # noqa: E731
            f"{lag(T)}: " + ", ".join(f"{cell} {table[cell][lag(T)]:{fmt}}" for cell in CELLS) for T in keys)
        if m["copy task lags T"]:
            copied, alphabet = m["copy task: symbols copied, alphabet"]
            recall = m["copy task: share of recalled symbols right"]
            copy = (f"Copy task (recall {copied} symbols of {alphabet} after T blanks), share recalled: "
                    f"{per_lag(recall, m['copy task lags T'], '.2f')}.")
            stuck = [lag(T) for T in m["copy task lags T"] if recall["LSTM"][lag(T)] < RECALLS]
            if stuck:  # measured, not assumed: say plainly where the claim's LSTM half fails
                steps = m["copy task: training steps"]
                copy += (" Within its training steps the LSTM recalls less than the claim's "
                         f"{RECALLS:.0%} at " + ", ".join(f"{key} ({recall['LSTM'][key]:.0%} after {steps[key]} steps)"
                                                         for key in stuck) +
                         ": LSTMs leave the copy task's memoryless plateau slowly (Arjovsky et al. 2016, Fig. 1), "
                         "and there this part of the claim does not hold at this budget.")
        else:
            copy = "The copy task, thousands of steps per lag and cell, runs in the full run only."
        ratio = m["adding problem: MSE / baseline"]["Elman"]
        return {"elman_short": ratio[lag(lags[0])], "elman_long": min(ratio[lag(T)] for T in lags[1:]),
                "gated_worst": max(mse[cell][lag(T)] for cell in ("LSTM", "GRU") for T in lags),
                "longest": longest, "elman": mse["Elman"][longest], "lstm": mse["LSTM"][longest],
                "gru": mse["GRU"][longest], "base": m["adding problem: baseline MSE (always 1)"][longest],
                "adding": per_lag(mse, lags, ".3g"), "copy": copy}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        m, curves = measurement.values, measurement.plot_data["curves"]
        lags, copy_lags = m["lags T"], m["copy task lags T"]
        colours = {"Elman": "#d64", "LSTM": "#46c", "GRU": "#2a7"}
        baseline = float(np.mean(list(m["adding problem: baseline MSE (always 1)"].values())))

        def draw(fig):
            axes = fig.subplots(1, 3 if copy_lags else 2)
            adding, training = axes[0], axes[-1]
            for cell, colour in colours.items():
                adding.plot(lags, [m["adding problem: test MSE"][cell][lag(T)] for T in lags], "o-", color=colour,
                            label=cell)
                curve = curves[cell, lags[-1]]
                smooth = np.convolve(curve, np.ones(20) / 20, mode="valid")
                training.plot(np.arange(20, len(curve) + 1), smooth, color=colour, label=cell)
                if copy_lags:
                    axes[1].plot(copy_lags, [m["copy task: share of recalled symbols right"][cell][lag(T)]
                                             for T in copy_lags], "o-", color=colour, label=cell)
            for ax in (adding, training):
                ax.axhline(baseline, color="#999", linestyle=":", linewidth=0.8, label="baseline (always 1)")
                ax.axhline(SOLVED_MSE, color="#999", linestyle="--", linewidth=0.8, label=f"MSE {SOLVED_MSE}")
                ax.set_yscale("log")
            adding.set(xlabel="lag T", ylabel="test MSE", title="adding problem")
            training.set(xlabel="Adam step", ylabel="training MSE (moving average of 20)",
                         title=f"adding problem, T = {lags[-1]}")
            if copy_lags:
                axes[1].axhline(m["copy task: chance"], color="#999", linestyle=":", linewidth=0.8, label="chance")
                axes[1].set(xlabel="lag T (blank steps)", ylabel="share of recalled symbols right",
                            title="copy task", ylim=(0, 1.05))
            for ax in axes:
                ax.title.set_fontsize(9)
                ax.legend(fontsize=7)

        return save_figure(ctx, self.id, draw, figsize=(13 if copy_lags else 9, 4))
