"""The activations of seed 000 §6.1.3, seed 003 and seed 004 §3.2.2 and their derivatives: autograd against
float64 central differences and the textbook's closed forms, and the ELU erratum of seed 004."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import fukaku as fk
import fukaku.nn.functional as F

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._derivative import autograd_derivative

_FD_STEP = 1e-6
_FD_TOL = 1e-7      # central differences with step 1e-6 in float64: truncation ~1e-12, rounding ~1e-10
_FORM_TOL = 1e-12   # a closed form evaluated in float64: rounding only
_ELU_EPS = 1e-9     # ELU is evaluated this far left of 0 to see whether it meets the linear branch


def _activations() -> dict:
    """The activations of seed 000 §6.1.3, seed 003 and seed 004 §3.2.2 with fukaku's functions."""
    return {
        "sigmoid": F.sigmoid,
        "tanh": F.tanh,
        "ReLU": F.relu,
        "LeakyReLU(0.01)": lambda x: F.leaky_relu(x, 0.01),
        "ELU(1)": lambda x: F.elu(x, 1.0),
        "GELU": F.gelu,
        "SiLU (Swish)": F.silu,
        "softplus": F.softplus,
    }


class ActivationDerivatives(Experiment, id="activation-derivatives", source="seed 000 §6.1.3, seed 003, seed 004 §3"):
    """Activation functions and their derivatives.

    σ' = σ(1 − σ); tanh' = 1 − tanh²; ReLU' = 1 for z > 0, else 0; LeakyReLU is αz (slope α) for z ≤ 0;
    tanh(z) = 2σ(2z) − 1; ELU is c(eᶻ − 1) for z < 0 (seed 004 prints c·exp(z − 1): erratum), continuous
    at 0. The derivatives fukaku's autograd computes for sigmoid, tanh, ReLU, LeakyReLU, ELU, GELU, SiLU
    and softplus are the true derivatives.
    """

    def measure(self, ctx: Context) -> Measurement:
        z = np.linspace(-5.0, 5.0, 1001 if ctx.quick else 10001)
        away_from_kink = np.abs(z) > 1e-3  # ReLU and LeakyReLU have no derivative at 0
        curves, fd_err = {}, {}
        for name, fn in _activations().items():
            y, dy = autograd_derivative(fn, z)
            with fk.no_grad():
                up = fn(fk.tensor(z + _FD_STEP, dtype=fk.float64)).numpy()
                down = fn(fk.tensor(z - _FD_STEP, dtype=fk.float64)).numpy()
            fd = (up - down) / (2 * _FD_STEP)
            fd_err[name] = float(np.max(np.abs(dy - fd)[away_from_kink]))
            curves[name] = (y, dy)

        s, ds = curves["sigmoid"]
        t, dt = curves["tanh"]
        s2 = F.sigmoid(fk.tensor(2 * z, dtype=fk.float64)).numpy()
        # ELU at 0 from the left: the corrected form c(eᶻ − 1) meets the linear branch; the printed c·e^{z−1} does not.
        elu_left = float(F.elu(fk.tensor([-_ELU_EPS], dtype=fk.float64), 1.0).item())
        return Measurement(
            values={"max |autograd − finite difference| per activation": fd_err,
                    "finite-difference tolerance": _FD_TOL,
                    "max |σ' − σ(1−σ)|": float(np.max(np.abs(ds - s * (1 - s)))),
                    "max |tanh' − (1 − tanh²)|": float(np.max(np.abs(dt - (1 - t * t)))),
                    "ReLU' ≠ 1[z>0] (count)": int(np.count_nonzero(curves["ReLU"][1] != (z > 0))),
                    "max |LeakyReLU' − 0.01| for z ≤ 0":
                        float(np.max(np.abs(curves["LeakyReLU(0.01)"][1][z <= 0] - 0.01))),
                    "max |tanh(z) − (2σ(2z) − 1)|": float(np.max(np.abs(t - (2 * s2 - 1)))),
                    "ELU jump at 0 (corrected form)": abs(elu_left - 0.0),
                    "jump at 0 of the printed c·exp(z − 1)": abs(1.0 * math.exp(-_ELU_EPS - 1.0) - 0.0),
                    "grid points": int(z.size)},
            plot_data={"z": z, "curves": curves})

    def checks(self, m: dict) -> list[Check]:
        return [Check("max |autograd − finite difference| over the 8 activations",
                      max(m["max |autograd − finite difference| per activation"].values()), "≤", _FD_TOL),
                Check("max |σ' − σ(1−σ)|", m["max |σ' − σ(1−σ)|"], "≤", _FORM_TOL),
                Check("max |tanh' − (1 − tanh²)|", m["max |tanh' − (1 − tanh²)|"], "≤", _FORM_TOL),
                Check("points where ReLU' ≠ 1[z>0]", m["ReLU' ≠ 1[z>0] (count)"], "=", 0),
                Check("max |LeakyReLU' − 0.01| for z ≤ 0", m["max |LeakyReLU' − 0.01| for z ≤ 0"], "≤", _FORM_TOL),
                Check("max |tanh(z) − (2σ(2z) − 1)|", m["max |tanh(z) − (2σ(2z) − 1)|"], "≤", _FORM_TOL),
                Check(f"ELU's jump at 0 (evaluated {_ELU_EPS:g} to the left)", m["ELU jump at 0 (corrected form)"],
                      "≤", 2 * _ELU_EPS)]

    summary_template = """Autograd's derivatives of all 8 activations match finite differences to {worst_error:.1e}.
        On {m[grid points]} points of [−5, 5] the worst is {worst} (float64 central differences, tolerance
        {m[finite-difference tolerance]:g}); σ' = σ(1−σ), tanh' = 1 − tanh² and tanh(z) = 2σ(2z) − 1 hold to
        {forms:.1e}; ReLU' is the step 1[z>0] everywhere; ELU is continuous at 0 (jump
        {m[ELU jump at 0 (corrected form)]:.1e}), whereas the printed c·exp(z − 1) would jump by
        {m[jump at 0 of the printed c·exp(z − 1)]:.3f}."""

    def summary_values(self, m: dict) -> dict:
        fd_err = m["max |autograd − finite difference| per activation"]
        worst = max(fd_err, key=fd_err.get)
        return {"worst": worst, "worst_error": fd_err[worst],
                "forms": max(m["max |σ' − σ(1−σ)|"], m["max |tanh' − (1 − tanh²)|"],
                             m["max |tanh(z) − (2σ(2z) − 1)|"])}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        z, curves = measurement.plot_data["z"], measurement.plot_data["curves"]

        def draw(fig):
            for ax, (name, (y, dy)) in zip(fig.subplots(2, 4, sharex=True).flat, curves.items()):
                ax.plot(z, y, label="φ(z)")
                ax.plot(z, dy, "--", label="φ'(z), autograd")
                ax.axhline(0, color="gray", linewidth=0.6)
                ax.set_ylim(-1.2, 2.2)
                ax.set_title(name, fontsize=10)
                ax.grid(alpha=0.3)
            fig.axes[0].legend(fontsize=7, loc="upper left")

        return save_figure(ctx, self.id, draw, figsize=(11, 5))
