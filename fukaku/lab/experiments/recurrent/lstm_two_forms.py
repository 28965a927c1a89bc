"""The LSTM as seed 001 writes it (gates from the concatenation [h_{t−1}, x_t]) and as seed 004 §3.4.2 writes it
(separate input matrices W and recurrent matrices U) are one function, and so is ``nn.LSTM`` with the weights
mapped into PyTorch's layout."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import nn

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

GATES = ("f", "i", "o", "c")  # the order both textbooks list them: forget, input, output, candidate cell c̃
TORCH_ORDER = ("i", "f", "c", "o")  # nn.LSTM stacks its rows as input, forget, cell (g), output
QUICK = {"batch": 4, "steps": 20, "inputs": 3, "hidden": 5}
FULL = {"batch": 16, "steps": 100, "inputs": 8, "hidden": 32}
ROUNDING = 1e-12  # float64: what "the same function" allows (ε = 2.2e-16, amplified over the steps)
WRONG = 1e-2      # stacking the gates in the textbooks' order f, i, o, c̃ must change the output by more


def lstm_seed001(x: fk.Tensor, W: dict, b: dict, h: fk.Tensor, c: fk.Tensor) -> tuple[fk.Tensor, fk.Tensor]:
    """Seed 001 §9.3: f_t = σ(W_f [h_{t−1}, x_t] + b_f), likewise i_t, o_t; c̃_t = tanh(W_c [h_{t−1}, x_t] + b_c);
    c_t = f_t ⊙ c_{t−1} + i_t ⊙ c̃_t; h_t = o_t ⊙ tanh(c_t).

    Args:
        x: ``(batch, steps, inputs)``; W: gate → ``(hidden, hidden + inputs)``; b: gate → ``(hidden,)``;
            h, c: the initial states ``(batch, hidden)``.

    Returns:
        every h_t ``(batch, steps, hidden)`` and the last cell state c_T.
    """
    hs = []
    for t in range(x.shape[1]):
        hx = fk.cat([h, x[:, t]], dim=1)
        f, i, o = (fk.sigmoid(hx @ W[g].T + b[g]) for g in "fio")
        c = f * c + i * fk.tanh(hx @ W["c"].T + b["c"])
        h = o * fk.tanh(c)
        hs.append(h)
    return fk.stack(hs, dim=1), c


def lstm_seed004(x: fk.Tensor, W: dict, U: dict, b: dict, h: fk.Tensor, c: fk.Tensor) -> tuple[fk.Tensor, fk.Tensor]:
    """Seed 004 §3.4.2 (eq. 3.4): f_t = σ(W_f x_t + U_f h_{t−1} + b_f), likewise i_t, o_t;
    C̃_t = tanh(W_c x_t + U_c h_{t−1} + b_c); C_t = f_t ⊙ C_{t−1} + i_t ⊙ C̃_t; h_t = o_t ⊙ tanh(C_t).

    Args:
        x: ``(batch, steps, inputs)``; W: gate → ``(hidden, inputs)``; U: gate → ``(hidden, hidden)``;
            b: gate → ``(hidden,)``; h, c: the initial states ``(batch, hidden)``.

    Returns:
        every h_t ``(batch, steps, hidden)`` and the last cell state C_T.
    """
    hs = []
    for t in range(x.shape[1]):
        xt = x[:, t]
        f, i, o = (fk.sigmoid(xt @ W[g].T + h @ U[g].T + b[g]) for g in "fio")
        c = f * c + i * fk.tanh(xt @ W["c"].T + h @ U["c"].T + b["c"])
        h = o * fk.tanh(c)
        hs.append(h)
    return fk.stack(hs, dim=1), c


def concatenated(W: dict, U: dict) -> dict:
    """Seed 004's (W_g, U_g) as seed 001's W_g = [U_g | W_g], acting on [h_{t−1}, x_t]."""
    return {g: fk.cat([U[g], W[g]], dim=1) for g in GATES}


def torch_layout(W: dict, U: dict, b: dict, order=TORCH_ORDER) -> dict:
    """Seed 004's weights as ``nn.LSTM``'s state dict: the gates' rows stacked in ``order`` (PyTorch's i, f, g, o;
    g is the candidate c̃), the whole bias in ``bias_ih_l0`` and zeros in ``bias_hh_l0`` (nn.LSTM adds the two)."""
    bias = fk.cat([b[g] for g in order])
    return {"weight_ih_l0": fk.cat([W[g] for g in order]), "weight_hh_l0": fk.cat([U[g] for g in order]),
            "bias_ih_l0": bias, "bias_hh_l0": fk.zeros_like(bias)}


def nn_lstm(state: dict, inputs: int, hidden: int) -> nn.LSTM:
    """A float64 ``nn.LSTM(inputs, hidden, batch_first=True)`` holding ``state``."""
    layer = nn.LSTM(inputs, hidden, batch_first=True).double()
    layer.load_state_dict(state)
    return layer


def _max_diff(a: fk.Tensor, b: fk.Tensor) -> float:
    return float((a - b).abs().max())


class LstmTwoForms(Experiment, id="lstm-two-forms", source="seed 001 §9.3, seed 004 §3.4.2 (eq. 3.4)"):
    """The two textbook LSTMs and nn.LSTM compute one function.

    Seed 001 writes each LSTM gate as one matrix acting on the concatenation [h_{t−1}, x_t]; seed 004 §3.4.2
    writes it as W x_t + U h_{t−1}, a matrix for the input and one for the recurrent state. With W_g = [U_g | W_g]
    the two are the same function, and nn.LSTM (PyTorch's layout: the gates' rows stacked as i, f, g, o) is that
    function too: on random float64 weights and inputs every hidden state, the last cell state and the gradient
    of a loss with respect to the inputs agree within 1e-12 (rounding), while stacking the gates in the
    textbooks' order f, i, o, c̃ changes the output by more than 0.01.
    """

    def measure(self, ctx: Context) -> Measurement:
        size = QUICK if ctx.quick else FULL
        batch, steps, inputs, hidden = size["batch"], size["steps"], size["inputs"], size["hidden"]
        rng = ctx.rng()
        scale = 1 / np.sqrt(hidden)  # PyTorch's U(−1/√H, 1/√H), but for the biases a wider draw: gates off 0.5

        def draw(*shape, k=scale):
            return fk.tensor(rng.uniform(-k, k, shape), dtype=fk.float64)

        W = {g: draw(hidden, inputs) for g in GATES}
        U = {g: draw(hidden, hidden) for g in GATES}
        b = {g: draw(hidden, k=1.0) for g in GATES}
        x = draw(batch, steps, inputs, k=1.0).requires_grad_()
        h0, c0 = draw(batch, hidden, k=0.5), draw(batch, hidden, k=0.5)
        probe = draw(batch, steps, hidden, k=1.0)  # L = Σ h ⊙ probe: a loss that reads every hidden state

        h001, c001 = lstm_seed001(x, concatenated(W, U), b, h0, c0)
        h004, c004 = lstm_seed004(x, W, U, b, h0, c0)
        layer = nn_lstm(torch_layout(W, U, b), inputs, hidden)
        hnn, (h_last, c_last) = layer(x, (h0.unsqueeze(0), c0.unsqueeze(0)))
        grads = {name: fk.autograd.grad((h * probe).sum(), x)[0] for name, h in
                 (("001", h001), ("004", h004), ("nn", hnn))}
        with fk.no_grad():
            wrong, _ = nn_lstm(torch_layout(W, U, b, order=GATES), inputs, hidden)(x, (h0.unsqueeze(0),
                                                                                       c0.unsqueeze(0)))
        values = {
            "batch, steps, inputs, hidden": [batch, steps, inputs, hidden],
            "max |h (seed 001) − h (seed 004)|": _max_diff(h001, h004),
            "max |c_T (seed 001) − c_T (seed 004)|": _max_diff(c001, c004),
            "max |h (seed 004) − h (nn.LSTM)|": _max_diff(h004, hnn),
            "max |c_T (seed 004) − c_T (nn.LSTM)|": _max_diff(c004, c_last[0]),
            "max |h_T returned by nn.LSTM − its last output|": _max_diff(h_last[0], hnn[:, -1]),
            "max |∂L/∂x (seed 001) − ∂L/∂x (seed 004)|": _max_diff(grads["001"], grads["004"]),
            "max |∂L/∂x (seed 004) − ∂L/∂x (nn.LSTM)|": _max_diff(grads["004"], grads["nn"]),
            "max |h| difference with the gates stacked f, i, o, c̃": _max_diff(wrong, h004),
            "max |h|": float(h004.abs().max()),
        }
        unit = lambda h: h[0, :, 0].detach().numpy()  # noqa: E731 - the first sequence's first hidden unit
        return Measurement(values=values, plot_data={
            "h": {"seed 001 ([h, x])": unit(h001), "seed 004 (W, U)": unit(h004), "nn.LSTM": unit(hnn),
                  "nn.LSTM, gates stacked f, i, o, c̃": unit(wrong)},
            "step difference": {"seed 001 vs seed 004": (h001 - h004).abs().amax(dim=(0, 2)).detach().numpy(),
                                "seed 004 vs nn.LSTM": (h004 - hnn).abs().amax(dim=(0, 2)).detach().numpy(),
                                "gates stacked f, i, o, c̃": (wrong - h004).abs().amax(dim=(0, 2)).detach().numpy()}})

    def checks(self, m: dict) -> list[Check]:
        same = [key for key in m if key.startswith("max |") and key not in
                ("max |h| difference with the gates stacked f, i, o, c̃", "max |h|")]
        return [*(Check(f"{key[4:]} (float64 rounding)", m[key], "≤", ROUNDING) for key in same),
                Check("the gate order matters: max |h| difference with the gates stacked f, i, o, c̃",
                      m["max |h| difference with the gates stacked f, i, o, c̃"], ">", WRONG)]

    summary_template = """Seed 001 vs seed 004 vs nn.LSTM: max |Δh| {worst_h:.1e}, max |Δ∂L/∂x| {worst_grad:.1e}.
        Over {m[batch, steps, inputs, hidden][1]} steps (hidden size {m[batch, steps, inputs, hidden][3]},
        float64) the hidden states, the last cell state and the input gradients of the LSTM written with
        [h_{{t−1}}, x_t] (seed 001), of the one written with separate W and U (seed 004) and of nn.LSTM loaded with
        W_g and U_g stacked in PyTorch's gate order i, f, g, o differ by at most {worst:.1e} (float64's ε is 2.2e-16).
        Stacking them in the order the textbooks list the gates (f, i, o, c̃) instead changes the outputs by
        {m[max |h| difference with the gates stacked f, i, o, c̃]:.2f}, with |h| ≤ {m[max |h|]:.2f}."""

    def summary_values(self, m: dict) -> dict:
        return {"worst": max(value for key, value in m.items() if key.startswith("max |") and " − " in key),
                "worst_h": max(m["max |h (seed 001) − h (seed 004)|"], m["max |h (seed 004) − h (nn.LSTM)|"]),
                "worst_grad": max(m["max |∂L/∂x (seed 001) − ∂L/∂x (seed 004)|"],
                                  m["max |∂L/∂x (seed 004) − ∂L/∂x (nn.LSTM)|"])}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        h, diff = measurement.plot_data["h"], measurement.plot_data["step difference"]

        def draw(fig):
            left, right = fig.subplots(1, 2)
            styles = ["-", "--", ":", "-"]
            for (name, curve), style in zip(h.items(), styles):
                left.plot(np.arange(1, len(curve) + 1), curve, style, label=name,
                          alpha=0.5 if "stacked" in name else 1.0)
            left.set(xlabel="step t", ylabel="h_t, first unit of the first sequence",
                     title="the hidden state, three ways (and a wrong mapping)")
            for name, curve in diff.items():
                right.plot(np.arange(1, len(curve) + 1), np.maximum(curve, 1e-18), label=name)
            right.axhline(ROUNDING, color="#999", linestyle=":", linewidth=0.8)
            right.set(yscale="log", xlabel="step t", ylabel="max |Δh_t| (batch, units)",
                      title="differences (dotted: the 1e-12 tolerance)")
            for ax in (left, right):
                ax.title.set_fontsize(9)
                ax.legend(fontsize=7)

        return save_figure(ctx, self.id, draw, figsize=(10, 4))
