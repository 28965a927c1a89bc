"""Linear warm-up, then cosine annealing (seed 003, learning-rate schedules), against the closed form."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fukaku import optim

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._schedule import REL_TOL, lr_sequence

_BASE_LR, _ETA_MIN, _WARMUP, _T_MAX = 0.1, 1e-4, 5, 95


def _cosine(t: np.ndarray) -> np.ndarray:
    """The closed form of cosine annealing after warm-up: eta_min + (lr − eta_min)(1 + cos(πt/T))/2."""
    return _ETA_MIN + (_BASE_LR - _ETA_MIN) * (1 + np.cos(np.pi * t / _T_MAX)) / 2


def _warmup_then_cosine(opt: optim.Optimizer) -> optim.lr_scheduler.SequentialLR:
    warm = optim.lr_scheduler.LinearLR(opt, start_factor=0.1, end_factor=1.0, total_iters=_WARMUP)
    cosine = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=_T_MAX, eta_min=_ETA_MIN)
    return optim.lr_scheduler.SequentialLR(opt, [warm, cosine], milestones=[_WARMUP])


def _end_error(m: dict) -> float:
    """|lr at T_max / eta_min − 1|: how far the cosine ends from eta_min, relatively."""
    return abs(m["lr at T_max"] / _ETA_MIN - 1.0)


class LrWarmupCosine(Experiment, id="lr-warmup-cosine", source="seed 003 (learning-rate schedules)"):
    """Linear warm-up, then cosine annealing.

    Linear warm-up (about 5 epochs) raises the learning rate linearly to the base rate, reached at the end
    of warm-up; cosine annealing then lowers it along (1 + cos(πt/T))/2 to eta_min, reached at T_max.
    """

    def measure(self, ctx: Context) -> Measurement:
        lrs = lr_sequence(_warmup_then_cosine, _BASE_LR, _WARMUP + _T_MAX + 1)  # up to and including T_max
        steps = np.diff(lrs[:_WARMUP + 1])
        return Measurement(
            values={"base lr": _BASE_LR, "warm-up epochs": _WARMUP, "T_max": _T_MAX, "eta_min": _ETA_MIN,
                    "warm-up lrs": lrs[:_WARMUP + 1].tolist(),
                    "max relative deviation of the warm-up increments": float(np.max(np.abs(steps / steps[0] - 1.0))),
                    "lr at the end of warm-up": float(lrs[_WARMUP]),
                    "max relative deviation from the cosine":
                        float(np.max(np.abs(lrs[_WARMUP:] / _cosine(np.arange(_T_MAX + 1)) - 1.0))),
                    "lr at T_max": float(lrs[_WARMUP + _T_MAX]),
                    "monotone decreasing after warm-up": bool(np.all(np.diff(lrs[_WARMUP:]) < 0)),
                    "relative tolerance": REL_TOL},
            plot_data={"lr per epoch": lrs})

    def checks(self, m: dict) -> list[Check]:
        warmup = m["warm-up lrs"]
        return [Check("first warm-up increment", warmup[1] - warmup[0], ">", 0.0),
                Check("max relative deviation of the warm-up increments",
                      m["max relative deviation of the warm-up increments"], "≤", REL_TOL),
                Check("|lr at the end of warm-up / base lr − 1|", abs(m["lr at the end of warm-up"] / _BASE_LR - 1.0),
                      "≤", REL_TOL),
                Check("max relative deviation from the cosine", m["max relative deviation from the cosine"], "≤",
                      REL_TOL),
                Check("|lr at T_max / eta_min − 1|", _end_error(m), "≤", REL_TOL),
                Check("the rate decreases at every epoch after warm-up", m["monotone decreasing after warm-up"], "=",
                      True)]

    summary_template = """Linear warm-up to {m[lr at the end of warm-up]:.6g} at epoch {m[warm-up epochs]}; cosine
        within {m[max relative deviation from the cosine]:.0e}, ending at {m[lr at T_max]:.6g} = eta_min. The
        warm-up climbs in equal steps of {step:.4g} (deviation
        {m[max relative deviation of the warm-up increments]:.0e}) and reaches {m[lr at the end of warm-up]:.12g}
        = base lr; the cosine follows the closed form and reaches eta_min at T_max (error {end_error:.0e}){end}"""

    def summary_values(self, m: dict) -> dict:
        warmup = m["warm-up lrs"]
        return {"step": warmup[1] - warmup[0], "end_error": _end_error(m),
                "end": "." if m["monotone decreasing after warm-up"] else "; but it does not decrease monotonically."}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        lrs = measurement.plot_data["lr per epoch"]

        def draw(fig):
            ax = fig.subplots()
            t = np.arange(_T_MAX + 1)
            ax.plot(np.arange(len(lrs)), lrs, ".-", label="fukaku SequentialLR(LinearLR, CosineAnnealingLR)")
            ax.plot(_WARMUP + t, _cosine(t), "k:", label="eta_min + (lr − eta_min)(1 + cos(πt/T))/2")
            ax.axvline(_WARMUP, color="gray", linestyle="--", linewidth=1, label=f"end of warm-up (epoch {_WARMUP})")
            ax.set_xlabel("epoch")
            ax.set_ylabel("learning rate")
            ax.set_title(f"warm-up {_WARMUP} epochs, cosine T_max = {_T_MAX}, eta_min = {_ETA_MIN:g}", fontsize=10)
            ax.legend(fontsize=8)
            ax.grid(alpha=0.3)

        return save_figure(ctx, self.id, draw)
