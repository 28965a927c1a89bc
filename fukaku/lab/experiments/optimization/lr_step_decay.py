"""Step decay (seed 003, learning-rate schedules): the learning rate is constant and multiplied by 0.1 at each
milestone."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fukaku import optim

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._schedule import REL_TOL, lr_sequence

_BASE_LR, _EPOCHS, _MILESTONES, _GAMMA = 0.1, 100, [30, 60, 80], 0.1


class LrStepDecay(Experiment, id="lr-step-decay", source="seed 003 (learning-rate schedules)"):
    """Step decay: ×0.1 at each milestone.

    Step decay keeps the learning rate constant and multiplies it by 0.1 at each milestone.
    """

    def measure(self, ctx: Context) -> Measurement:
        lrs = lr_sequence(lambda opt: optim.lr_scheduler.MultiStepLR(opt, milestones=_MILESTONES, gamma=_GAMMA),
                          _BASE_LR, _EPOCHS)
        ratios = lrs[1:] / lrs[:-1]  # ratios[e - 1] = lr(e) / lr(e − 1)
        elsewhere = np.delete(ratios, [m - 1 for m in _MILESTONES])
        return Measurement(
            values={"base lr": _BASE_LR, "milestones": _MILESTONES,
                    "lr(e)/lr(e−1) at the milestones": [float(ratios[m - 1]) for m in _MILESTONES],
                    "max |ratio − 1| between milestones": float(np.max(np.abs(elsewhere - 1.0))),
                    "lr in the last epoch": float(lrs[-1]), "relative tolerance": REL_TOL,
                    "lr in the first epoch": float(lrs[0])},
            plot_data={"lr per epoch": lrs})

    def checks(self, m: dict) -> list[Check]:
        drop_err = max(abs(r / _GAMMA - 1.0) for r in m["lr(e)/lr(e−1) at the milestones"])
        return [Check("|lr(e)/lr(e−1) / 0.1 − 1| at the milestones, largest", drop_err, "≤", REL_TOL),
                Check("max |lr(e)/lr(e−1) − 1| between milestones", m["max |ratio − 1| between milestones"], "≤",
                      REL_TOL),
                Check("|lr in the first epoch / base lr − 1|", abs(m["lr in the first epoch"] / _BASE_LR - 1.0), "≤",
                      REL_TOL)]

    summary_template = """The rate changes by {ratios} at epochs {m[milestones]} and by nothing else
        (±{m[max |ratio − 1| between milestones]:.0e}). Over {epochs} epochs it stays at {m[base lr]:g} until
        epoch {m[milestones][0]} and ends at {m[lr in the last epoch]:.3g}."""

    def summary_values(self, m: dict) -> dict:
        return {"ratios": ", ".join(f"×{r:.12g}" for r in m["lr(e)/lr(e−1) at the milestones"]), "epochs": _EPOCHS}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        lrs = measurement.plot_data["lr per epoch"]

        def draw(fig):
            ax = fig.subplots()
            ax.step(np.arange(_EPOCHS), lrs, where="post")
            for milestone in _MILESTONES:
                ax.axvline(milestone, color="gray", linestyle=":", linewidth=1)
            ax.set_yscale("log")
            ax.set_xlabel("epoch")
            ax.set_ylabel("learning rate")
            ax.set_title(f"MultiStepLR(milestones={_MILESTONES}, gamma={_GAMMA:g}), base lr {_BASE_LR:g}", fontsize=10)
            ax.grid(alpha=0.3, which="both")

        return save_figure(ctx, self.id, draw)
