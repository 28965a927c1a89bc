"""The GRU against the LSTM: three gate blocks instead of four, so a quarter fewer parameters, and about the same
accuracy on a long-memory task (seed 000 §6.1.7 and its checks; seed 004 §3.4)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import nn

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._memory import adding_batch, train_adding
from ....ops._parallel import blas_threads

SIZES = ((2, 32), (10, 20), (128, 256))  # (input size I, hidden size H) whose parameters are counted
BLOCKS = {"Elman": 1, "GRU": 3, "LSTM": 4}  # gate blocks of H(I + H) weights and 2H biases (b_ih and b_hh)
LAYERS = {"Elman": nn.RNN, "GRU": nn.GRU, "LSTM": nn.LSTM}
QUICK = {"lag": 20, "hidden": 32, "steps": 500, "seeds": 1}
FULL = {"lag": 100, "hidden": 32, "steps": 2000, "seeds": 3}
LR, BATCH = 1e-2, 32
CLOSE = 0.2     # a test prediction is right when it is within this of the true sum (targets lie in [0, 2])
SAME = 0.05     # GRU ≈ LSTM: their accuracies differ by at most this
SOLVED = 0.9    # both solve the task: at least this share of the test sums right


def closed_form(cell: str, inputs: int, hidden: int) -> int:
    """Parameters of one layer: blocks · (H(I + H) + 2H); 4 blocks for the LSTM, 3 for the GRU, 1 for Elman."""
    return BLOCKS[cell] * (hidden * (inputs + hidden) + 2 * hidden)


def counted(cell: str, inputs: int, hidden: int) -> int:
    return sum(p.numel() for p in LAYERS[cell](inputs, hidden).parameters())


def accuracy(model: nn.Module | None, lag: int, seed: int) -> float:
    """The share of fresh adding-problem sequences whose predicted sum is within CLOSE of the true one
    (``model=None``: of the baseline that always answers 1, the mean sum)."""
    x, y = adding_batch(lag, 1000, seed)
    with fk.no_grad():
        prediction = fk.ones_like(y) if model is None else model(x)
        return float(((prediction - y).abs() < CLOSE).to(fk.float64).mean())


class GruVsLstm(Experiment, id="gru-vs-lstm", source="seed 000 §6.1.7, seed 004 §3.4"):
    """The GRU matches the LSTM with fewer parameters.

    An LSTM layer has four gate blocks, 4(H(I + H) + 2H) parameters with PyTorch's two bias vectors; the GRU
    merges the forget and input gates into one update gate and drops the cell state (seed 004 §3.4): three
    blocks, 3(H(I + H) + 2H), a quarter fewer. nn.LSTM and nn.GRU hold exactly these counts, and trained alike on
    the adding problem (T = 20 in the quick run, T = 100 in the full run over three seeds; 32 units, Adam) the GRU
    gets at least 90% of the test sums within 0.2, as the LSTM does, their accuracies within 0.05 of each other.
    """

    def measure(self, ctx: Context) -> Measurement:
        config = QUICK if ctx.quick else FULL
        lag, hidden, steps = config["lag"], config["hidden"], config["steps"]
        counts = {f"I = {i}, H = {h}": {cell: {"counted": counted(cell, i, h), "closed form": closed_form(cell, i, h)}
                                        for cell in BLOCKS} for i, h in SIZES}
        acc, mse, seconds, curves = {}, {}, {}, {}
        with blas_threads(1):
            for cell in ("LSTM", "GRU"):
                runs = [train_adding(cell, lag, hidden, steps, BATCH, LR, ctx.seed + s) for s in range(config["seeds"])]
                acc[cell] = [accuracy(run.model, lag, ctx.seed + 10 ** 6 + s) for s, (run, _, _) in enumerate(runs)]
                mse[cell] = [test_mse for _, test_mse, _ in runs]
                seconds[cell] = float(np.mean([run.seconds / steps for run, _, _ in runs]))
                curves[cell] = [run.losses for run, _, _ in runs]
        parameters = {cell: closed_form(cell, 2, hidden) for cell in ("LSTM", "GRU")}
        return Measurement(
            values={"parameter counts": counts,
                    "largest |counted − closed form|": max(abs(c["counted"] - c["closed form"])
                                                           for row in counts.values() for c in row.values()),
                    "adding problem: lag, hidden units, Adam steps, seeds": [lag, hidden, steps, config["seeds"]],
                    "parameters of the recurrent layer": parameters,
                    "GRU / LSTM parameters": parameters["GRU"] / parameters["LSTM"],
                    f"accuracy (share of test sums within {CLOSE})": acc,
                    "mean accuracy": {cell: float(np.mean(values)) for cell, values in acc.items()},
                    "accuracy of the baseline (always 1)": accuracy(None, lag, ctx.seed + 10 ** 6),
                    "test MSE": mse,
                    "seconds per training step": seconds},
            plot_data={"curves": curves})

    def checks(self, m: dict) -> list[Check]:
        mean = m["mean accuracy"]
        return [Check("nn.LSTM, nn.GRU, nn.RNN parameters: largest |counted − closed form|",
                      m["largest |counted − closed form|"], "=", 0),
                Check("GRU / LSTM parameters", m["GRU / LSTM parameters"], "=", 0.75),
                Check("LSTM solves the adding problem: mean accuracy", mean["LSTM"], "≥", SOLVED),
                Check("GRU solves the adding problem: mean accuracy", mean["GRU"], "≥", SOLVED),
                Check("GRU ≈ LSTM: |accuracy difference|", abs(mean["GRU"] - mean["LSTM"]), "≤", SAME)]

    summary_template = """GRU {gru_params} vs LSTM {lstm_params} parameters (×0.75); accuracy {gru:.3f} vs {lstm:.3f}.
        nn.LSTM, nn.GRU and nn.RNN hold exactly blocks · (H(I + H) + 2H) parameters for every size tried (4, 3
        and 1 blocks). On the adding problem at T = {m[adding problem: lag, hidden units, Adam steps, seeds][0]}
        the GRU gets {gru:.1%} of the test sums within {close} (test MSE {gru_mse:.2g}) and the LSTM {lstm:.1%}
        ({lstm_mse:.2g}); always answering 1 gets {m[accuracy of the baseline (always 1)]:.1%}. A GRU training
        step took {gru_s:.1f} ms against the LSTM's {lstm_s:.1f} ms."""

    def summary_values(self, m: dict) -> dict:
        params, mean = m["parameters of the recurrent layer"], m["mean accuracy"]
        seconds = m["seconds per training step"]
        return {"gru_params": params["GRU"], "lstm_params": params["LSTM"], "gru": mean["GRU"], "lstm": mean["LSTM"],
                "close": CLOSE, "gru_mse": float(np.mean(m["test MSE"]["GRU"])),
                "lstm_mse": float(np.mean(m["test MSE"]["LSTM"])), "gru_s": 1e3 * seconds["GRU"],
                "lstm_s": 1e3 * seconds["LSTM"]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        curves, m = measurement.plot_data["curves"], measurement.values
        params = m["parameters of the recurrent layer"]

        def draw(fig):
            ax = fig.subplots()
            for cell, colour in (("LSTM", "#46c"), ("GRU", "#2a7")):
                for i, curve in enumerate(curves[cell]):
                    smooth = np.convolve(curve, np.ones(20) / 20, mode="valid")
                    ax.plot(np.arange(20, len(curve) + 1), smooth, color=colour, alpha=0.8,
                            label=f"{cell} ({params[cell]} parameters)" if i == 0 else None)
            ax.set_yscale("log")
            ax.set(xlabel="Adam step", ylabel="training MSE (moving average of 20)",
                   title=f"adding problem, T = {m['adding problem: lag, hidden units, Adam steps, seeds'][0]}")
            ax.legend(fontsize=8)

        return save_figure(ctx, self.id, draw)
