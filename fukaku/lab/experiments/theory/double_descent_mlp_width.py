"""Model-wise double descent of MLPs (seed 000 §6.1.9): one-hidden-layer ReLU networks of growing width, trained to
fit a classification task with noisy labels, have their test error peak near the interpolation threshold
#params ≈ n·#outputs and fall again beyond it (Belkin, Hsu, Ma & Mandal 2019; Nakkiran et al. 2019)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fukaku import datasets
from fukaku.theory.double_descent import mlp_width_sweep, noisy_labels

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ....ops._parallel import blas_threads
from ._common import digits_split, integer_log_ticks

CLASSES = 10
NOISE = 0.2                      # the fraction of training labels replaced by another class
LR = 2e-3                        # Adam, full batch, on the squared error to the one-hot labels
QUICK = dict(n=200, widths=(4, 8, 12, 16, 20, 24, 28, 32, 40, 64, 128), steps=1500, repeats=1)
FULL = dict(n=500, widths=(4, 8, 12, 16, 20, 24, 32, 40, 48, 64, 128, 256), steps=3000, repeats=2)
FULL_DIGITS = dict(n=400, widths=(4, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 128, 256), steps=3000, repeats=2)
WINDOW = (0.5, 2.0)              # the peak's #params / (n·k) must lie in this window
FALL = 0.75                      # test MSE at the largest width ≤ this × the peak
RISE = 1.3                       # the peak ≥ this × the best test MSE of the narrower networks


def pooled_mnist(n: int, seed: int) -> tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST-8k (the t10k images: the first 8,000 for training, the last 2,000 for testing), ``n`` random training
    images of the 8,000, each averaged over 2×2 blocks to 14×14 (196 inputs), standardised with the training
    mean and standard deviation. Raises FileNotFoundError without the files."""
    x_train, y_train, x_test, y_test = datasets.mnist_split(flatten=False, return_tensors=False)
    pick = np.random.default_rng(seed).permutation(len(y_train))[:n]

    def pool(images: np.ndarray) -> np.ndarray:
        return images.reshape(len(images), 14, 2, 14, 2).mean((2, 4)).reshape(len(images), -1)

    train, test = pool(x_train[pick]), pool(x_test)
    mean, std = train.mean(), train.std()
    return (f"MNIST-8k ({n} of the first 8,000 t10k images for training, the last 2,000 for testing; 14×14 by "
            "2×2 averaging)", (train - mean) / std, y_train[pick], (test - mean) / std, y_test)


class DoubleDescentMLPWidth(Experiment, id="double-descent-mlp-width", source="seed 000 §6.1.9"):
    """MLP width sweep: the test error peaks near #params ≈ n·#outputs.

    One-hidden-layer ReLU MLPs of widths 4 … 128 are trained (fukaku nn, Adam lr 2e-3, full batch, 1,500 steps, the
    squared error to one-hot labels) on n = 200 8×8 digits of which 20% carry a wrong label, one initialisation
    per width (full run: n = 500 MNIST-8k images averaged to 14×14, widths 4 … 256, 3,000 steps, two
    initialisations; the 8×8 digits, n = 400, when MNIST's files are missing). The mean test MSE on clean test
    labels peaks at a width whose parameter count is 0.5 … 2 times n·k (the interpolation threshold, k = 10
    outputs), at least 1.3 times the best narrower network's; beyond it the test MSE falls again, to at most 0.75
    of the peak at the largest width, which fits the noisy labels exactly (training error 0) and has a lower test
    error than the peak's width.
    """


    def measure(self, ctx: Context) -> Measurement:
        config, note = (QUICK, "") if ctx.quick else (FULL, "")
        data = None
        if not ctx.quick:
            try:
                data = pooled_mnist(config["n"], ctx.seed)
            except FileNotFoundError:
                config, note = FULL_DIGITS, " (MNIST's files were not found: the 8×8 digits instead)"
        if data is None:
            x_train, y_train, x_test, y_test = digits_split(config["n"], ctx.seed)
            data = (f"8×8 digits ({config['n']} random training images, the other {len(y_test)} for testing)",
                    x_train, y_train, x_test, y_test)
        description, x_train, y_train, x_test, y_test = data
        labels, changed = noisy_labels(y_train, NOISE, CLASSES, ctx.rng(1))
        with blas_threads(1):
            sweep = mlp_width_sweep(x_train.astype(np.float32), labels, x_test.astype(np.float32), y_test,
                                    config["widths"], CLASSES, steps=config["steps"], lr=LR,
                                    repeats=config["repeats"], seed=ctx.seed)
        mse, error, train_error = sweep.test_loss.mean(0), sweep.test_error.mean(0), sweep.train_error.mean(0)
        peak = int(np.argmax(mse))
        fitted = np.nonzero(sweep.train_error.max(0) == 0)[0]
        threshold = sweep.threshold_parameters
        return Measurement(values={
            "data": description + note, "n": sweep.n, "outputs k": CLASSES, "label noise": NOISE,
            "labels changed": int(changed.sum()), "Adam steps": config["steps"], "initialisations": config["repeats"],
            "widths": [int(w) for w in sweep.widths], "parameters": [int(p) for p in sweep.parameters],
            "n·k": threshold, "width at n·k parameters": sweep.threshold_width,
            "mean test MSE": [round(float(v), 4) for v in mse],
            "mean test error": [round(float(v), 4) for v in error],
            "mean training error (noisy labels)": [round(float(v), 4) for v in train_error],
            "width of the highest test MSE": int(sweep.widths[peak]),
            "peak #params / (n·k)": float(sweep.parameters[peak] / threshold),
            "peak test MSE": float(mse[peak]),
            "best test MSE of the narrower networks": float(mse[:peak].min()) if peak else float("nan"),
            "test MSE at the largest width": float(mse[-1]),
            "test error at the peak": float(error[peak]), "test error at the largest width": float(error[-1]),
            "training error at the largest width": float(sweep.train_error[:, -1].max()),
            "narrowest width fitting every training label": int(sweep.widths[fitted[0]]) if len(fitted) else None,
            "seconds training": sweep.seconds,
        }, plot_data={"sweep": sweep})

    def checks(self, m: dict) -> list[Check]:
        rise = m["peak test MSE"] / m["best test MSE of the narrower networks"]
        return [Check(f"peak near the threshold: #params / (n·k) ≥ {WINDOW[0]}", m["peak #params / (n·k)"], "≥",
                      WINDOW[0]),
                Check(f"… and ≤ {WINDOW[1]}", m["peak #params / (n·k)"], "≤", WINDOW[1]),
                Check("a peak: its test MSE / the best narrower network's", rise if np.isfinite(rise) else 0.0, "≥",
                      RISE),
                Check("second descent: test MSE at the largest width / at the peak",
                      m["test MSE at the largest width"] / m["peak test MSE"], "≤", FALL),
                Check("the largest width fits the noisy labels: training error",
                      m["training error at the largest width"], "=", 0.0),
                Check("test error at the largest width / at the peak",
                      m["test error at the largest width"] / m["test error at the peak"], "<", 1.0)]

    summary_template = """Test MSE peaks at width {m[width of the highest test MSE]}, {m[peak #params / (n·k)]:.2f}·n·k
        parameters. On {m[data]}, {m[label noise]:.0%} of the labels wrong, one-hidden-layer ReLU MLPs were trained by
        Adam ({m[Adam steps]:,} full-batch steps on the squared error, {m[initialisations]} initialisations per width);
        n·k = {m[n·k]:,} parameters is width {m[width at n·k parameters]:.1f}. The mean test MSE rises from
        {m[best test MSE of the narrower networks]:.3f} (best narrower network) to {m[peak test MSE]:.3f} and falls
        to {m[test MSE at the largest width]:.3f} at width {largest}, whose test error is
        {m[test error at the largest width]:.3f} against {m[test error at the peak]:.3f} at the peak. {fitting}"""

    def summary_values(self, m: dict) -> dict:
        fitted = m["narrowest width fitting every training label"]
        if fitted is None:
            fitting = ("No width fitted every noisy label within the training budget, so the interpolation "
                       "threshold was never crossed: more steps are needed for the peak to show.")
        elif fitted > 2 * m["width at n·k parameters"]:
            fitting = (f"Only width {fitted} and wider fitted every noisy label within the {m['Adam steps']} steps, "
                       "more than twice the threshold width: with this training budget the peak sits where the "
                       "networks first interpolate (the effective model complexity of Nakkiran et al.), not at n·k.")
        else:
            fitting = (f"Width {fitted} was the narrowest to fit every noisy label: the peak sits where the networks "
                       "begin to interpolate the noise.")
        return {"largest": m["widths"][-1], "fitting": fitting}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        sweep = measurement.plot_data["sweep"]
        params, threshold = sweep.parameters, sweep.threshold_parameters

        def draw(fig):
            mse_ax, error_ax = fig.subplots(1, 2)
            mse = sweep.test_loss.mean(0)
            peak = int(np.argmax(mse))
            mse_ax.semilogx(params, mse, "o-",
                            label=f"test (clean labels; peak {mse[peak]:.2f} at width {sweep.widths[peak]})")
            mse_ax.semilogx(params, sweep.train_loss.mean(0), "s--", label="training (noisy labels)")
            error_ax.semilogx(params, sweep.test_error.mean(0), "o-", label="test (clean labels)")
            error_ax.semilogx(params, sweep.train_error.mean(0), "s--", label="training (noisy labels)")
            for ax, label in ((mse_ax, "squared error"), (error_ax, "classification error")):
                ax.axvline(threshold, color="k", linestyle=":", label=f"n·k = {threshold:,}")
                ax.set(xlabel="parameters (hidden widths " + f"{sweep.widths[0]} … {sweep.widths[-1]})",
                       ylabel=f"mean {label}")
                integer_log_ticks(ax, params)
                ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
            mse_ax.set_title(f"MLP width sweep, n = {sweep.n}, {NOISE:.0%} label noise", fontsize=10)
            error_ax.set_title("test error", fontsize=10)

        return save_figure(ctx, self.id, draw, figsize=(10.0, 4.2))
