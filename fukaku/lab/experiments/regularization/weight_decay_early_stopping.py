"""Weight decay shrinks the weights, and early stopping returns the checkpoint of the validation minimum,
which generalises at least as well as training to the end (seed 000 §6.1.4, seed 004 §3.6)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import nn, optim, train
from fukaku.utils.data import DataLoader, TensorDataset

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

DECAY = 1e-3  # Adam's weight_decay adds decay·θ to the gradient: λ = decay/2 in L + λ‖θ‖²
_PLAIN, _DECAYED = "no weight decay", f"weight decay {DECAY:g}"
_RETURNED = "validation MSE of the returned model"
_CURVE_MIN = "minimum of the recorded validation curve"


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


class WeightDecayEarlyStopping(Experiment, id="weight-decay-early-stopping", source="seed 000 §6.1.4, seed 004 §3.6"):
    """Weight decay and early stopping on an over-fitting regression.

    Weight decay (L_total = L + λ‖w‖²) shrinks the weights: the trained ‖θ‖ is smaller than without it.
    Early stopping (stop after `patience` epochs without validation improvement, keep the best model)
    returns the checkpoint of the validation minimum, which generalises at least as well as the model
    trained to the end.
    """

    def measure(self, ctx: Context) -> Measurement:
        epochs, patience = (1200, 50) if ctx.quick else (3000, 200)
        (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = _overfitting_data(ctx.rng(), 20, 20, 500)
        train_loader = DataLoader(TensorDataset(x_tr, y_tr), batch_size=len(x_tr))  # full batch: deterministic
        val = DataLoader(TensorDataset(x_va, y_va), batch_size=len(x_va))
        test = DataLoader(TensorDataset(x_te, y_te), batch_size=len(x_te))
        loss_fn = nn.MSELoss()

        def run(weight_decay: float, callbacks=()):
            model = _regressor(ctx.seed)  # the same initial weights for every run
            opt = optim.Adam(model.parameters(), lr=0.01, weight_decay=weight_decay)
            history = train.fit(model, loss_fn, opt, train_loader, val, epochs=epochs, callbacks=callbacks,
                                metrics=(), quiet=True)
            return model, history

        plain, plain_hist = run(0.0)
        decayed, decayed_hist = run(DECAY)
        stopper = train.EarlyStopping(patience=patience, restore_best=True)
        stopped, stopped_hist = run(0.0, [stopper])
        models = {"trained to the end": plain, "weight decay": decayed, "early stopping": stopped}
        val_curve = np.array(stopped_hist.val_loss)
        return Measurement(
            values={"parameter norm ‖θ‖": {_PLAIN: _parameter_norm(plain), _DECAYED: _parameter_norm(decayed)},
                    "test MSE": {name: train.evaluate(model, loss_fn, test, metrics=())["loss"]
                                 for name, model in models.items()},
                    _RETURNED: train.evaluate(stopped, loss_fn, val, metrics=())["loss"],
                    _CURVE_MIN: float(val_curve.min()),
                    "best epoch": stopper.best_epoch, "stopped epoch": stopper.stopped_epoch,
                    "validation MSE at the end without early stopping": plain_hist.val_loss[-1],
                    "epochs": epochs, "patience": patience, "Adam weight_decay": DECAY,
                    "training points": len(x_tr),
                    "epoch of the recorded validation minimum": int(np.argmin(val_curve)),
                    "minimum validation MSE without early stopping": min(plain_hist.val_loss)},
            plot_data={"histories": (plain_hist, decayed_hist), "models": models, "training points": (x_tr, y_tr)})

    def checks(self, m: dict) -> list[Check]:
        norms, test = m["parameter norm ‖θ‖"], m["test MSE"]
        return [Check("‖θ‖ with weight decay, below ‖θ‖ without", norms[_DECAYED], "<", norms[_PLAIN]),
                Check("the problem over-fits: final validation MSE without early stopping, above 1.2 × its minimum",
                      m["validation MSE at the end without early stopping"], ">",
                      1.2 * m["minimum validation MSE without early stopping"]),
                Check("|validation MSE of the returned model − the curve's minimum|",
                      abs(m[_RETURNED] - m[_CURVE_MIN]), "≤", 1e-6 * max(1.0, m[_CURVE_MIN])),
                Check("early stopping's best epoch, the epoch of the validation minimum", m["best epoch"], "=",
                      m["epoch of the recorded validation minimum"]),
                Check("test MSE of the early-stopped model, at most that of the model trained to the end",
                      test["early stopping"], "≤", test["trained to the end"])]

    summary_template = """‖θ‖ {decayed_norm:.1f} with weight decay vs {plain_norm:.1f} without; test loss
        {m[test MSE][early stopping]:.3f} early-stopped vs {m[test MSE][trained to the end]:.3f}. Weight decay
        {m[Adam weight_decay]:g} ends at ‖θ‖ = {decayed_norm:.2f} against {plain_norm:.2f} without. Early stopping
        (patience {m[patience]}) stopped at epoch {m[stopped epoch]} and returned epoch {m[best epoch]}'s weights,
        whose validation loss is {returned:.4f}; the recorded curve's minimum is {curve_min:.4f} (epoch
        {m[epoch of the recorded validation minimum]}); trained for all {m[epochs]} epochs the model's test loss is
        {m[test MSE][trained to the end]:.3f} ({m[test MSE][weight decay]:.3f} with weight decay)."""

    def summary_values(self, m: dict) -> dict:
        norms = m["parameter norm ‖θ‖"]
        return {"decayed_norm": norms[_DECAYED], "plain_norm": norms[_PLAIN], "returned": m[_RETURNED],
                "curve_min": m[_CURVE_MIN]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        m, data = measurement.values, measurement.plot_data
        plain_hist, decayed_hist = data["histories"]
        x_tr, y_tr = data["training points"]

        def draw(fig):
            ax_curve, ax_fit = fig.subplots(1, 2)
            best_epoch, stopped_epoch = m["epoch of the recorded validation minimum"], m["stopped epoch"]
            ax_curve.plot(plain_hist.loss, label="train (no decay)")
            ax_curve.plot(plain_hist.val_loss, label="validation (no decay)")
            ax_curve.plot(decayed_hist.val_loss, label=f"validation (decay {DECAY:g})")
            ax_curve.axvline(best_epoch, color="k", linestyle="--", linewidth=0.8, label=f"best epoch {best_epoch}")
            if stopped_epoch is not None:
                ax_curve.axvline(stopped_epoch, color="gray", linestyle=":", linewidth=0.8,
                                 label=f"stopped at {stopped_epoch}")
            ax_curve.set_yscale("log")
            ax_curve.set_xlabel("epoch")
            ax_curve.set_ylabel("MSE")
            ax_curve.set_title("Learning curves")
            ax_curve.legend(fontsize=7)
            grid = np.linspace(-1, 1, 200)[:, None]
            with fk.no_grad():
                for name, model in data["models"].items():
                    ax_fit.plot(grid, model.eval()(fk.tensor(grid, dtype=fk.float32)).numpy(), label=name)
            ax_fit.plot(grid, np.sin(3 * grid), "k:", label="sin(3x)")
            ax_fit.scatter(x_tr.numpy(), y_tr.numpy(), s=12, color="k", label="training points")
            ax_fit.set_xlabel("x")
            ax_fit.set_title("Fitted functions")
            ax_fit.legend(fontsize=7)

        return save_figure(ctx, self.id, draw, figsize=(10, 4))
