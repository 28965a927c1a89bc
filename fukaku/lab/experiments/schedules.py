"""Learning-rate schedules of seed 003: step decay (×0.1 at milestones) and linear warm-up followed by
cosine annealing, run through ``fukaku.optim.lr_scheduler`` and measured epoch by epoch."""
from __future__ import annotations

import numpy as np

from fukaku import nn, optim, zeros

from ..plotting import save_figure
from ..registry import Context, Result, experiment

_REL_TOL = 1e-9  # the schedulers update recursively (as PyTorch does): rounding, nothing more


def _lr_sequence(make_scheduler, base_lr: float, epochs: int) -> np.ndarray:
    """The learning rate used in each of ``epochs`` epochs: one optimizer step, then one scheduler step,
    per epoch — the order PyTorch prescribes."""
    param = nn.Parameter(zeros(1))
    opt = optim.SGD([param], lr=base_lr)
    scheduler = make_scheduler(opt)
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()  # no gradient: the parameter stays; the call keeps the step order of a real loop
        scheduler.step()
    return np.array(lrs)


@experiment(
    "lr-step-decay",
    title="Step decay: ×0.1 at each milestone",
    source="seed 003 (learning-rate schedules)",
    claim="Step decay keeps the learning rate constant and multiplies it by 0.1 at each milestone.",
)
def lr_step_decay(ctx: Context) -> Result:
    base_lr, epochs, milestones = 0.1, 100, [30, 60, 80]
    lrs = _lr_sequence(lambda opt: optim.lr_scheduler.MultiStepLR(opt, milestones=milestones, gamma=0.1),
                       base_lr, epochs)
    ratios = lrs[1:] / lrs[:-1]  # ratios[e - 1] = lr(e) / lr(e − 1)
    at_milestones = [float(ratios[m - 1]) for m in milestones]
    elsewhere = np.delete(ratios, [m - 1 for m in milestones])
    drop_err = max(abs(r / 0.1 - 1.0) for r in at_milestones)
    flat_err = float(np.max(np.abs(elsewhere - 1.0)))
    holds = bool(drop_err <= _REL_TOL and flat_err <= _REL_TOL and abs(lrs[0] / base_lr - 1.0) <= _REL_TOL)

    def draw(fig):
        ax = fig.subplots()
        ax.step(np.arange(epochs), lrs, where="post")
        for m in milestones:
            ax.axvline(m, color="gray", linestyle=":", linewidth=1)
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("learning rate")
        ax.set_title(f"MultiStepLR(milestones={milestones}, gamma=0.1), base lr {base_lr:g}", fontsize=10)
        ax.grid(alpha=0.3, which="both")

    return Result(
        measured={"base lr": base_lr, "milestones": milestones, "lr(e)/lr(e−1) at the milestones": at_milestones,
                  "max |ratio − 1| between milestones": flat_err, "lr in the last epoch": float(lrs[-1]),
                  "relative tolerance": _REL_TOL},
        holds=holds,
        summary=(f"Over {epochs} epochs the rate stays at {base_lr:g} until epoch {milestones[0]} and changes by "
                 + ", ".join(f"×{r:.12g}" for r in at_milestones)
                 + f" at epochs {milestones} and by nothing else (max |ratio − 1| = {flat_err:.0e}), ending at "
                   f"{lrs[-1]:.3g}."),
        figures=save_figure(ctx, "lr-step-decay", draw),
        headline=f"ratios at milestones {[round(r, 12) for r in at_milestones]}, flat elsewhere (±{flat_err:.0e})",
    )


@experiment(
    "lr-warmup-cosine",
    title="Linear warm-up, then cosine annealing",
    source="seed 003 (learning-rate schedules)",
    claim="Linear warm-up (about 5 epochs) raises the learning rate linearly to the base rate, reached at the end "
          "of warm-up; cosine annealing then lowers it along (1 + cos(πt/T))/2 to eta_min, reached at T_max.",
)
def lr_warmup_cosine(ctx: Context) -> Result:
    base_lr, eta_min, warmup, t_max = 0.1, 1e-4, 5, 95
    epochs = warmup + t_max + 1  # up to and including the end of the cosine

    def make(opt):
        warm = optim.lr_scheduler.LinearLR(opt, start_factor=0.1, end_factor=1.0, total_iters=warmup)
        cosine = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=t_max, eta_min=eta_min)
        return optim.lr_scheduler.SequentialLR(opt, [warm, cosine], milestones=[warmup])

    lrs = _lr_sequence(make, base_lr, epochs)
    steps = np.diff(lrs[:warmup + 1])
    warmup_linearity = float(np.max(np.abs(steps / steps[0] - 1.0)))
    peak_err = abs(lrs[warmup] / base_lr - 1.0)
    t = np.arange(t_max + 1)
    cosine = eta_min + (base_lr - eta_min) * (1 + np.cos(np.pi * t / t_max)) / 2
    cosine_err = float(np.max(np.abs(lrs[warmup:] / cosine - 1.0)))
    end_err = abs(lrs[warmup + t_max] / eta_min - 1.0)
    decreasing = bool(np.all(np.diff(lrs[warmup:]) < 0))
    holds = bool(steps[0] > 0 and warmup_linearity <= _REL_TOL and peak_err <= _REL_TOL and cosine_err <= _REL_TOL
                 and end_err <= _REL_TOL and decreasing)

    def draw(fig):
        ax = fig.subplots()
        ax.plot(np.arange(epochs), lrs, ".-", label="fukaku SequentialLR(LinearLR, CosineAnnealingLR)")
        ax.plot(warmup + t, cosine, "k:", label="eta_min + (lr − eta_min)(1 + cos(πt/T))/2")
        ax.axvline(warmup, color="gray", linestyle="--", linewidth=1, label=f"end of warm-up (epoch {warmup})")
        ax.set_xlabel("epoch")
        ax.set_ylabel("learning rate")
        ax.set_title(f"warm-up {warmup} epochs, cosine T_max = {t_max}, eta_min = {eta_min:g}", fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)

    return Result(
        measured={"base lr": base_lr, "warm-up epochs": warmup, "T_max": t_max, "eta_min": eta_min,
                  "warm-up lrs": lrs[:warmup + 1].tolist(),
                  "max relative deviation of the warm-up increments": warmup_linearity,
                  "lr at the end of warm-up": float(lrs[warmup]),
                  "max relative deviation from the cosine": cosine_err,
                  "lr at T_max": float(lrs[warmup + t_max]), "monotone decreasing after warm-up": decreasing,
                  "relative tolerance": _REL_TOL},
        holds=holds,
        summary=(f"The warm-up climbs in equal steps of {steps[0]:.4g} (deviation {warmup_linearity:.0e}) and reaches "
                 f"{lrs[warmup]:.12g} = base lr at epoch {warmup}; the cosine then follows the closed form to "
                 f"{cosine_err:.0e} and ends at {lrs[warmup + t_max]:.6g} = eta_min at T_max "
                 f"(error {end_err:.0e})" + ("." if decreasing else "; but it does not decrease monotonically.")),
        figures=save_figure(ctx, "lr-warmup-cosine", draw),
        headline=(f"linear to {lrs[warmup]:.6g} at epoch {warmup}; cosine within {max(cosine_err, 1e-17):.0e}, "
                  f"{lrs[warmup + t_max]:.3g} = eta_min at T_max"),
    )

