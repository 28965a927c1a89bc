"""How far back the gradient reaches: ‖∂L/∂h_{T−k}‖ against k for the Elman network, the LSTM and the GRU
(seed 000 §6.1.7 and its checks; seed 001 §9.3: the product Π W_hᵀ f'(h_{t−i}) of truncated BPTT)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._memory import LastStep, adding_batch, hidden_gradients, log_linear_fit, set_forget_bias, \
    train_adding
from ....ops._parallel import blas_threads

QUICK = {"steps": 60, "hidden": 32, "batch": 64, "train lag": 20, "train steps": 400}
FULL = {"steps": 200, "hidden": 64, "batch": 128, "train lag": 50, "train steps": 1500}
EXPONENTIAL = 0.95  # Elman's decay is exponential: R² of the straight line through log ‖∂L/∂h_{T−k}‖ vs k
ELMAN, LSTM, LSTM_DEFAULT, GRU = "Elman", "LSTM, forget bias 1", "LSTM, PyTorch's init", "GRU"
TRAINED_ELMAN, TRAINED_LSTM = "Elman, trained", "LSTM, trained"


def at_init(name: str, hidden: int, seed: int) -> LastStep:
    """The untrained float64 network ``name`` (PyTorch's initialisation; the LSTM also with forget bias 1)."""
    fk.manual_seed(seed)
    model = LastStep(name.split(",")[0], 2, hidden, 1)
    if name == LSTM:
        set_forget_bias(model.rnn, 1.0)
    return model.double()


def _trained_elman(trained: float, init: float) -> str:
    """What training did to the Elman network's gradient, in words, from its factor per step before and after."""
    if trained > 1:
        return ("its recurrent weights grew until the gradient explodes instead, the other face of the same product "
                "of Jacobians (see exploding-gradients)")
    if trained > init:
        return f"its gradient decays more slowly than at initialisation (×{init:.3f}), but it did not learn the lag"
    return (f"its gradient decays faster still than at initialisation (×{init:.3f}): training opened no path back "
            "through time")


class GradientDecay(Experiment, id="gradient-decay", source="seed 000 §6.1.7, seed 001 §9.3"):
    """The Elman network's gradient decays exponentially through time; the LSTM's more slowly.

    Back-propagating from a loss on the last state h_T, the gradient ‖∂L/∂h_{T−k}‖ of an Elman network shrinks by
    a constant factor per step (a product of k Jacobians W_hᵀ diag(tanh′), seed 001 §9.3): a straight line on a
    log scale (R² ≥ 0.95), with a factor below 1. The LSTM's cell state c_t = f_t ⊙ c_{t−1} + … carries the
    gradient by the forget gates instead, so with forget gates near 1 it decays more slowly per step: at
    initialisation with forget-gate bias 1, and more slowly still once trained on the adding problem. Measured
    on adding-problem sequences, in float64 (60 steps, 32 units in the quick run; 200 steps, 64 units in the
    full run).
    """

    def measure(self, ctx: Context) -> Measurement:
        config = QUICK if ctx.quick else FULL
        steps, hidden, batch, lag = config["steps"], config["hidden"], config["batch"], config["train lag"]
        x, y = adding_batch(steps, batch, ctx.seed)
        profiles = {}
        with blas_threads(1):
            for name in (ELMAN, LSTM, LSTM_DEFAULT, GRU):
                profiles[name] = hidden_gradients(at_init(name, hidden, ctx.seed), x.double(), y.double())
            x_lag, y_lag = adding_batch(lag, batch, ctx.seed + 1)
            trained_mse = {}
            for name, cell, forget in ((TRAINED_ELMAN, "Elman", None), (TRAINED_LSTM, "LSTM", 1.0)):
                run, trained_mse[name], _ = train_adding(cell, lag, hidden, config["train steps"], 32, 1e-2, ctx.seed,
                                                         forget_bias=forget)
                profiles[name] = hidden_gradients(run.model.double(), x_lag.double(), y_lag.double())
        fits = {name: log_linear_fit(norms) for name, norms in profiles.items()}
        return Measurement(
            values={"sequence length, hidden units, batch": [steps, hidden, batch],
                    "gradient factor per step back (fit of log ‖∂L/∂h_{T−k}‖)": {n: f[0] for n, f in fits.items()},
                    "R² of the log-linear fit": {n: f[1] for n, f in fits.items()},
                    "‖∂L/∂h_{T−k}‖ at the largest k / at k = 0": {n: float(g[-1] / g[0]) for n, g in profiles.items()},
                    "trained on the adding problem: lag, steps": [lag, config["train steps"]],
                    "trained: test MSE": trained_mse},
            plot_data={"profiles": profiles})

    def checks(self, m: dict) -> list[Check]:
        factor, r2 = m["gradient factor per step back (fit of log ‖∂L/∂h_{T−k}‖)"], m["R² of the log-linear fit"]
        return [Check("Elman: the decay is exponential (R² of log-norm vs k)", r2[ELMAN], "≥", EXPONENTIAL),
                Check("Elman: gradient factor per step back", factor[ELMAN], "<", 1.0),
                Check("LSTM (forget bias 1) at init: factor per step, vs Elman's", factor[LSTM], ">", factor[ELMAN]),
                Check("trained LSTM: factor per step, vs at initialisation (training opens the forget gates)",
                      factor[TRAINED_LSTM], ">", factor[LSTM])]

    summary_template = """Gradient per step back at init: Elman ×{elman:.3f}, LSTM (forget bias 1) ×{lstm:.3f}.
        Over {m[sequence length, hidden units, batch][0]} steps the Elman network's ‖∂L/∂h_{{T−k}}‖ falls on a
        straight line on a log scale (R² {r2:.3f}), by ×{elman_total:.1e} in all; the LSTM with forget-gate bias 1
        keeps ×{lstm_total:.1e}; the GRU decays by ×{gru:.3f} per step. With PyTorch's default initialisation the
        LSTM's forget gates start at σ(0) = 0.5 and its gradient decays by ×{lstm_default:.3f} per step, against
        Elman's ×{elman:.3f}: the slower decay is not there at birth but comes from forget gates near 1, which the
        bias sets or training learns (trained on the adding problem, test MSE {lstm_mse:.4f}, the LSTM's factor is
        ×{t_lstm:.3f}). The trained Elman network (test MSE {elman_mse:.3f}; always answering 1 scores ≈ 0.167)
        ends with ×{t_elman:.3f} per step: {elman_trained}."""

    def summary_values(self, m: dict) -> dict:
        factor, total = m["gradient factor per step back (fit of log ‖∂L/∂h_{T−k}‖)"], \
            m["‖∂L/∂h_{T−k}‖ at the largest k / at k = 0"]
        return {"elman": factor[ELMAN], "lstm": factor[LSTM], "gru": factor[GRU], "lstm_default": factor[LSTM_DEFAULT],
                "t_elman": factor[TRAINED_ELMAN], "t_lstm": factor[TRAINED_LSTM],
                "r2": m["R² of the log-linear fit"][ELMAN], "elman_total": total[ELMAN], "lstm_total": total[LSTM],
                "lstm_mse": m["trained: test MSE"][TRAINED_LSTM], "elman_mse": m["trained: test MSE"][TRAINED_ELMAN],
                "elman_trained": _trained_elman(factor[TRAINED_ELMAN], factor[ELMAN])}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        profiles = measurement.plot_data["profiles"]
        factor = measurement.values["gradient factor per step back (fit of log ‖∂L/∂h_{T−k}‖)"]

        def draw(fig):
            init, trained = fig.subplots(1, 2)
            for name, norms in profiles.items():
                ax = trained if "trained" in name else init
                k = np.arange(len(norms))
                line, = ax.plot(k, norms, label=f"{name} (×{factor[name]:.3f} per step)")
                if name == ELMAN:
                    fit = norms[0] * factor[name] ** k
                    ax.plot(k, fit, "--", color=line.get_color(), linewidth=0.8, label="exponential fit")
            for ax, title in ((init, "at initialisation"), (trained, "after training on the adding problem")):
                ax.set_yscale("log")
                ax.set(xlabel="k (steps back from the last)", ylabel="‖∂L/∂h_{T−k}‖", title=title)
                ax.title.set_fontsize(9)
                ax.legend(fontsize=7)

        return save_figure(ctx, self.id, draw, figsize=(10, 4))
