"""Standard components against over-fitting and for stable training (seed 000 §6.1.4, seed 004 §3.6):
inverted dropout, BatchNorm and LayerNorm, weight decay and early stopping — each property the
textbook states, measured on fukaku's layers, optimizers and training loop.
"""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

import fukaku as fk
from fukaku import nn, optim, train
from fukaku.utils.data import DataLoader, TensorDataset

from ..plotting import save_figure
from ..registry import Context, Result, experiment

# A measured mean is called consistent with its expectation when every z-score stays below the
# two-sided Bonferroni bound for this family-wise false-alarm rate: a correct layer fails the check
# once in 1000 runs, a biased one (e.g. dropout without the 1/(1 − p) rescaling: z in the hundreds) always.
_FALSE_ALARM = 1e-3


def _z_bound(tests: int) -> float:
    return NormalDist().inv_cdf(1 - _FALSE_ALARM / (2 * tests))


@experiment(
    "dropout-batchnorm-layernorm",
    title="Inverted dropout, BatchNorm and LayerNorm",
    source="seed 000 §6.1.4, seed 003, seed 004 §3.6",
    claim=("Inverted dropout keeps the expectation, E[h̃] = h (h̃ = 0 with probability p, else h/(1 − p)), and is "
           "the identity in eval mode; BatchNorm's output has batch mean 0 and variance 1 per feature; LayerNorm's "
           "output for a sample does not depend on the other samples of the batch, BatchNorm's does."),
)
def dropout_batchnorm_layernorm(ctx: Context) -> Result:
    rng = ctx.rng()
    features, masks = (100, 4000) if ctx.quick else (500, 20000)
    rates = (0.2, 0.5, 0.8)
    # ---- dropout: the mean over `masks` independent masks of every feature of a fixed h
    h = rng.uniform(0.5, 2.0, features) * rng.choice([-1.0, 1.0], features)
    z_max, zero_z, survivor_err, means = {}, {}, {}, {}
    for p in rates:
        layer = nn.Dropout(p)
        out = layer(fk.tensor(np.broadcast_to(h, (masks, features)), dtype=fk.float32)).numpy().astype(np.float64)
        mean = out.mean(axis=0)
        # each mean is h·(Bernoulli(1 − p) average)/(1 − p): std |h|·√(p/(1 − p))/√masks
        z_max[p] = float(np.max(np.abs(mean - h) / (np.abs(h) * math.sqrt(p / (1 - p) / masks))))
        zeros = np.count_nonzero(out == 0)
        zero_z[p] = float(abs(zeros - p * out.size) / math.sqrt(out.size * p * (1 - p)))
        kept = out != 0
        survivor_err[p] = float(np.max(np.abs(out / (h / (1 - p)) - 1)[kept]))
        means[p] = mean
    z_limit = _z_bound(len(rates) * (features + 1))
    layer = nn.Dropout(0.5).eval()
    x_eval = fk.tensor(rng.standard_normal((64, features)), dtype=fk.float32)
    eval_diff = float(np.max(np.abs(layer(x_eval).numpy() - x_eval.numpy())))

    with fk.no_grad():  # only forward values are measured; BatchNorm/LayerNorm hold parameters
        # ---- BatchNorm (training mode): per-feature batch statistics of the output
        batch, width = 64, 16
        x = rng.normal(rng.uniform(-5, 5, width), rng.uniform(0.5, 5, width), (batch, width))
        bn = nn.BatchNorm1d(width)
        y = bn(fk.tensor(x, dtype=fk.float32)).numpy().astype(np.float64)
        bn_mean = float(np.max(np.abs(y.mean(axis=0))))
        bn_var = float(np.max(np.abs(y.var(axis=0) - 1)))

        # ---- batch dependence: one sample x0 in two batches of different composition
        x0 = rng.normal(0, 1, (1, width))
        batch_a = np.concatenate([x0, rng.normal(0, 1, (batch - 1, width))])
        batch_b = np.concatenate([x0, rng.normal(3, 2, (batch - 1, width))])
        ln = nn.LayerNorm(width)
        bn = nn.BatchNorm1d(width)
        rows = {}
        for name, layer in (("LayerNorm", ln), ("BatchNorm", bn)):
            rows[name] = [layer(fk.tensor(b, dtype=fk.float32)).numpy()[0].astype(np.float64)
                          for b in (batch_a, batch_b)]
        ln_alone = ln(fk.tensor(x0, dtype=fk.float32)).numpy()[0].astype(np.float64)
        ln_diff = float(max(np.max(np.abs(rows["LayerNorm"][0] - rows["LayerNorm"][1])),
                            np.max(np.abs(rows["LayerNorm"][0] - ln_alone))))
        bn_diff = float(np.max(np.abs(rows["BatchNorm"][0] - rows["BatchNorm"][1])))
        bn.eval()  # inference: the running (population) statistics, so no batch dependence
        bn_eval_diff = float(np.max(np.abs(bn(fk.tensor(batch_a, dtype=fk.float32)).numpy()[0]
                                          - bn(fk.tensor(batch_b, dtype=fk.float32)).numpy()[0])))

    float_tol = 1e-5  # float32 rounding of O(1) values, with room
    checks = {
        f"dropout mean over masks within the z-bound {z_limit:.2f} (p = {', '.join(map(str, rates))})":
            max(z_max.values()) <= z_limit and max(zero_z.values()) <= z_limit,
        "dropout survivors are exactly h/(1 − p)": max(survivor_err.values()) <= float_tol,
        "dropout in eval mode is the identity": eval_diff == 0.0,
        "BatchNorm output: batch mean 0, variance 1": bn_mean <= float_tol and bn_var <= 1e-3,
        "LayerNorm: the sample's output is the same in every batch": ln_diff <= float_tol,
        "BatchNorm (training): the sample's output changes with the batch": bn_diff >= 1e3 * float_tol,
    }
    holds = all(checks.values())

    def draw(fig):
        ax_drop, ax_norm = fig.subplots(1, 2)
        for p, mean in means.items():
            ax_drop.scatter(h, mean, s=8, label=f"p = {p}")
        lim = np.array([-2.2, 2.2])
        ax_drop.plot(lim, lim, "k--", linewidth=0.8, label="E[h̃] = h")
        ax_drop.set_xlabel("h")
        ax_drop.set_ylabel(f"mean of dropout(h) over {masks} masks")
        ax_drop.set_title("Inverted dropout keeps the mean")
        ax_drop.legend(fontsize=8)
        idx = np.arange(width)
        for (name, (a, b)), marker in zip(rows.items(), ("o", "s")):
            ax_norm.plot(idx, a, marker=marker, linestyle="-", label=f"{name}, batch A")
            ax_norm.plot(idx, b, marker=marker, linestyle=":", fillstyle="none", label=f"{name}, batch B")
        ax_norm.set_xlabel("feature")
        ax_norm.set_ylabel("normalised output of the same sample x₀")
        ax_norm.set_title("x₀ in two different batches")
        ax_norm.legend(fontsize=8)

    failed = [k for k, ok in checks.items() if not ok]
    summary = (f"Over {masks} masks the dropout mean differs from h by |z| ≤ {max(z_max.values()):.2f} "
               f"(bound {z_limit:.2f}), the zero fraction from p by |z| ≤ {max(zero_z.values()):.2f}; "
               f"in eval mode the output differs from the input by at most {eval_diff:g}. BatchNorm's output has "
               f"|mean| ≤ {bn_mean:.1e} and |var − 1| ≤ {bn_var:.1e}. Moving x₀ to another batch changes its "
               f"LayerNorm output by "
               f"{ln_diff:.1e} and its BatchNorm output by {bn_diff:.2f} (by {bn_eval_diff:g} in eval mode, which "
               f"uses the running statistics)." + (f" Failed: {'; '.join(failed)}." if failed else ""))
    return Result(
        measured={"dropout: max |z| of the mean over masks": {str(p): v for p, v in z_max.items()},
                  "dropout: |z| of the zero count": {str(p): v for p, v in zero_z.items()},
                  "dropout: z bound (Bonferroni, false-alarm 1e-3)": z_limit,
                  "dropout: max relative error of survivors vs h/(1 − p)": max(survivor_err.values()),
                  "dropout: masks": masks, "dropout: features": features,
                  "dropout eval: max |out − in|": eval_diff,
                  "BatchNorm: max |batch mean|": bn_mean, "BatchNorm: max |batch var − 1|": bn_var,
                  "LayerNorm: max change of x₀'s output across batches": ln_diff,
                  "BatchNorm (train): max change of x₀'s output across batches": bn_diff,
                  "BatchNorm (eval): max change of x₀'s output across batches": bn_eval_diff,
                  "checks": checks},
        holds=holds, summary=summary,
        figures=save_figure(ctx, "dropout-batchnorm-layernorm", draw, figsize=(10, 4)),
        headline=(f"dropout max |z| {max(z_max.values()):.1f} ≤ {z_limit:.1f}; x₀ across batches: LN Δ {ln_diff:.0e}, "
                  f"BN Δ {bn_diff:.2f}"),
    )


# ------------------------------------------------------------------------ weight decay and early stopping
def _overfitting_data(rng: np.random.Generator, n_train: int, n_val: int, n_test: int):
    """y = sin(3x) + N(0, 0.3²) on x ~ U(−1, 1): few noisy points that a 64×64 MLP can memorise."""

    def draw(n):
        x = rng.uniform(-1, 1, (n, 1))
        return fk.tensor(x, dtype=fk.float32), fk.tensor(np.sin(3 * x) + rng.normal(0, 0.3, (n, 1)), dtype=fk.float32)

    return draw(n_train), draw(n_val), draw(n_test)


def _regressor(seed: int) -> nn.Module:
    fk.manual_seed(seed)
    return nn.Sequential(nn.Linear(1, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1))


def _parameter_norm(model: nn.Module) -> float:
    return float(math.sqrt(sum(float((p.detach().numpy().astype(np.float64) ** 2).sum()) for p in model.parameters())))


@experiment(
    "weight-decay-early-stopping",
    title="Weight decay and early stopping on an over-fitting regression",
    source="seed 000 §6.1.4, seed 004 §3.6",
    claim=("Weight decay (L_total = L + λ‖w‖²) shrinks the weights: the trained ‖θ‖ is smaller than without it. "
           "Early stopping (stop after `patience` epochs without validation improvement, keep the best model) "
           "returns the checkpoint of the validation minimum, which generalises at least as well as the model "
           "trained to the end."),
)
def weight_decay_early_stopping(ctx: Context) -> Result:
    epochs, patience = (1200, 50) if ctx.quick else (3000, 200)
    decay = 1e-3  # Adam's weight_decay adds decay·θ to the gradient: λ = decay/2 in L + λ‖θ‖²
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = _overfitting_data(ctx.rng(), 20, 20, 500)
    train_loader = DataLoader(TensorDataset(x_tr, y_tr), batch_size=len(x_tr))  # full batch: deterministic
    val = DataLoader(TensorDataset(x_va, y_va), batch_size=len(x_va))
    test = DataLoader(TensorDataset(x_te, y_te), batch_size=len(x_te))
    loss_fn = nn.MSELoss()

    def run(weight_decay: float, callbacks=()):
        model = _regressor(ctx.seed)  # the same initial weights for every run
        opt = optim.Adam(model.parameters(), lr=0.01, weight_decay=weight_decay)
        history = train.fit(model, loss_fn, opt, train_loader, val, epochs=epochs, callbacks=callbacks, metrics=(),
                            quiet=True)
        return model, history

    plain, plain_hist = run(0.0)
    decayed, decayed_hist = run(decay)
    stopper = train.EarlyStopping(patience=patience, restore_best=True)
    stopped, stopped_hist = run(0.0, [stopper])

    val_curve = np.array(stopped_hist.val_loss)
    returned_val = train.evaluate(stopped, loss_fn, val, metrics=())["loss"]
    test_loss = {name: train.evaluate(model, loss_fn, test, metrics=())["loss"]
                 for name, model in (("trained to the end", plain), ("weight decay", decayed),
                                     ("early stopping", stopped))}
    norms = {"no weight decay": _parameter_norm(plain), f"weight decay {decay:g}": _parameter_norm(decayed)}
    best_epoch = int(np.argmin(val_curve))
    checks = {
        "weight decay gives a smaller ‖θ‖": norms[f"weight decay {decay:g}"] < norms["no weight decay"],
        "the over-fitting run's validation loss rises after its minimum (the problem over-fits)":
            plain_hist.val_loss[-1] > 1.2 * min(plain_hist.val_loss),
        "early stopping returns the validation-minimum checkpoint":
            abs(returned_val - val_curve.min()) <= 1e-6 * max(1.0, val_curve.min())
            and stopper.best_epoch == best_epoch,
        "the early-stopped model's test loss ≤ the model trained to the end":
            test_loss["early stopping"] <= test_loss["trained to the end"],
    }
    holds = all(checks.values())

    def draw(fig):
        ax_curve, ax_fit = fig.subplots(1, 2)
        ax_curve.plot(plain_hist.loss, label="train (no decay)")
        ax_curve.plot(plain_hist.val_loss, label="validation (no decay)")
        ax_curve.plot(decayed_hist.val_loss, label=f"validation (decay {decay:g})")
        ax_curve.axvline(best_epoch, color="k", linestyle="--", linewidth=0.8, label=f"best epoch {best_epoch}")
        if stopper.stopped_epoch is not None:
            ax_curve.axvline(stopper.stopped_epoch, color="gray", linestyle=":", linewidth=0.8,
                             label=f"stopped at {stopper.stopped_epoch}")
        ax_curve.set_yscale("log")
        ax_curve.set_xlabel("epoch")
        ax_curve.set_ylabel("MSE")
        ax_curve.set_title("Learning curves")
        ax_curve.legend(fontsize=7)
        grid = np.linspace(-1, 1, 200)[:, None]
        with fk.no_grad():
            for name, model in (("trained to the end", plain), ("weight decay", decayed),
                                ("early stopping", stopped)):
                ax_fit.plot(grid, model.eval()(fk.tensor(grid, dtype=fk.float32)).numpy(), label=name)
        ax_fit.plot(grid, np.sin(3 * grid), "k:", label="sin(3x)")
        ax_fit.scatter(x_tr.numpy(), y_tr.numpy(), s=12, color="k", label="training points")
        ax_fit.set_xlabel("x")
        ax_fit.set_title("Fitted functions")
        ax_fit.legend(fontsize=7)

    failed = [k for k, ok in checks.items() if not ok]
    summary = (f"Weight decay {decay:g} ends at ‖θ‖ = {norms[f'weight decay {decay:g}']:.2f} against "
               f"{norms['no weight decay']:.2f} without. Early stopping (patience {patience}) stopped at epoch "
               f"{stopper.stopped_epoch} and returned epoch {stopper.best_epoch}'s weights, whose validation loss is "
               f"{returned_val:.4f}; the recorded curve's minimum is {val_curve.min():.4f} (epoch {best_epoch}); "
               f"test loss {test_loss['early stopping']:.3f} "
               f"against {test_loss['trained to the end']:.3f} after all {epochs} epochs "
               f"({test_loss['weight decay']:.3f} with weight decay)."
               + (f" Failed: {'; '.join(failed)}." if failed else ""))
    return Result(
        measured={"parameter norm ‖θ‖": norms, "test MSE": test_loss,
                  "validation MSE of the returned model": returned_val,
                  "minimum of the recorded validation curve": float(val_curve.min()),
                  "best epoch": stopper.best_epoch, "stopped epoch": stopper.stopped_epoch,
                  "validation MSE at the end without early stopping": plain_hist.val_loss[-1],
                  "epochs": epochs, "patience": patience, "Adam weight_decay": decay,
                  "training points": len(x_tr), "checks": checks},
        holds=holds, summary=summary,
        figures=save_figure(ctx, "weight-decay-early-stopping", draw, figsize=(10, 4)),
        headline=(f"‖θ‖ {norms[f'weight decay {decay:g}']:.1f} < {norms['no weight decay']:.1f}; early-stopped test "
                  f"{test_loss['early stopping']:.3f} ≤ {test_loss['trained to the end']:.3f}"),
    )
