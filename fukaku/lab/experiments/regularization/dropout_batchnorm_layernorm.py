"""Inverted dropout keeps the expectation and is the identity in eval mode; BatchNorm normalises each feature
over the batch; LayerNorm's output for a sample does not depend on the batch, BatchNorm's does
(seed 000 §6.1.4, seed 003, seed 004 §3.6)."""
from __future__ import annotations

import math
from pathlib import Path
from statistics import NormalDist

import numpy as np

import fukaku as fk
from fukaku import nn

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

# A measured mean is called consistent with its expectation when every z-score stays below the
# two-sided Bonferroni bound for this family-wise false-alarm rate: a correct layer fails the check
# once in 1000 runs, a biased one (e.g. dropout without the 1/(1 − p) rescaling: z in the hundreds) always.
_FALSE_ALARM = 1e-3
_RATES = (0.2, 0.5, 0.8)
_FLOAT_TOL = 1e-5  # float32 rounding of O(1) values, with room
_Z_BOUND = "dropout: z bound (Bonferroni, false-alarm 1e-3)"
_Z_MEAN = "dropout: max |z| of the mean over masks"
_Z_ZEROS = "dropout: |z| of the zero count"
_SURVIVORS = "dropout: max relative error of survivors vs h/(1 − p)"
_EVAL = "dropout eval: max |out − in|"
_BN_MEAN, _BN_VAR = "BatchNorm: max |batch mean|", "BatchNorm: max |batch var − 1|"
_LN_SHIFT = "LayerNorm: max change of x₀'s output across batches"
_BN_SHIFT = "BatchNorm (train): max change of x₀'s output across batches"
_BN_EVAL_SHIFT = "BatchNorm (eval): max change of x₀'s output across batches"


def _z_bound(tests: int) -> float:
    return NormalDist().inv_cdf(1 - _FALSE_ALARM / (2 * tests))


def _dropout(rng: np.random.Generator, features: int, masks: int) -> tuple[dict, dict]:
    """The mean over ``masks`` independent masks of every feature of a fixed h, per rate: reported numbers,
    and (h, the means) to draw."""
    h = rng.uniform(0.5, 2.0, features) * rng.choice([-1.0, 1.0], features)
    z_max, zero_z, survivor_err, means = {}, {}, {}, {}
    for p in _RATES:
        layer = nn.Dropout(p)
        out = layer(fk.tensor(np.broadcast_to(h, (masks, features)), dtype=fk.float32)).numpy().astype(np.float64)
        mean = out.mean(axis=0)
        # each mean is h·(Bernoulli(1 − p) average)/(1 − p): std |h|·√(p/(1 − p))/√masks
        z_max[str(p)] = float(np.max(np.abs(mean - h) / (np.abs(h) * math.sqrt(p / (1 - p) / masks))))
        zeros = np.count_nonzero(out == 0)
        zero_z[str(p)] = float(abs(zeros - p * out.size) / math.sqrt(out.size * p * (1 - p)))
        kept = out != 0
        survivor_err[p] = float(np.max(np.abs(out / (h / (1 - p)) - 1)[kept]))
        means[p] = mean
    layer = nn.Dropout(0.5).eval()
    x_eval = fk.tensor(rng.standard_normal((64, features)), dtype=fk.float32)
    values = {_Z_MEAN: z_max, _Z_ZEROS: zero_z, _Z_BOUND: _z_bound(len(_RATES) * (features + 1)),
              _SURVIVORS: max(survivor_err.values()), "dropout: masks": masks, "dropout: features": features,
              _EVAL: float(np.max(np.abs(layer(x_eval).numpy() - x_eval.numpy())))}
    return values, {"h": h, "dropout means": means}


def _normalization(rng: np.random.Generator) -> tuple[dict, dict]:
    """BatchNorm's batch statistics, and one sample x₀ normalised in two batches of different composition:
    reported numbers, and x₀'s output rows to draw."""
    with fk.no_grad():  # only forward values are measured; BatchNorm/LayerNorm hold parameters
        batch, width = 64, 16
        x = rng.normal(rng.uniform(-5, 5, width), rng.uniform(0.5, 5, width), (batch, width))
        y = nn.BatchNorm1d(width)(fk.tensor(x, dtype=fk.float32)).numpy().astype(np.float64)

        x0 = rng.normal(0, 1, (1, width))
        batch_a = np.concatenate([x0, rng.normal(0, 1, (batch - 1, width))])
        batch_b = np.concatenate([x0, rng.normal(3, 2, (batch - 1, width))])
        ln, bn = nn.LayerNorm(width), nn.BatchNorm1d(width)
        rows = {name: [layer(fk.tensor(b, dtype=fk.float32)).numpy()[0].astype(np.float64) for b in (batch_a, batch_b)]
                for name, layer in (("LayerNorm", ln), ("BatchNorm", bn))}
        ln_alone = ln(fk.tensor(x0, dtype=fk.float32)).numpy()[0].astype(np.float64)
        bn.eval()  # inference: the running (population) statistics, so no batch dependence
        bn_eval_shift = float(np.max(np.abs(bn(fk.tensor(batch_a, dtype=fk.float32)).numpy()[0]
                                            - bn(fk.tensor(batch_b, dtype=fk.float32)).numpy()[0])))
    values = {_BN_MEAN: float(np.max(np.abs(y.mean(axis=0)))), _BN_VAR: float(np.max(np.abs(y.var(axis=0) - 1))),
              _LN_SHIFT: float(max(np.max(np.abs(rows["LayerNorm"][0] - rows["LayerNorm"][1])),
                                   np.max(np.abs(rows["LayerNorm"][0] - ln_alone)))),
              _BN_SHIFT: float(np.max(np.abs(rows["BatchNorm"][0] - rows["BatchNorm"][1]))),
              _BN_EVAL_SHIFT: bn_eval_shift}
    return values, {"x₀ rows": rows}


class DropoutBatchnormLayernorm(Experiment, id="dropout-batchnorm-layernorm",
                                source="seed 000 §6.1.4, seed 003, seed 004 §3.6"):
    """Inverted dropout, BatchNorm and LayerNorm.

    Inverted dropout keeps the expectation, E[h̃] = h (h̃ = 0 with probability p, else h/(1 − p)), and is
    the identity in eval mode; BatchNorm's output has batch mean 0 and variance 1 per feature; LayerNorm's
    output for a sample does not depend on the other samples of the batch, BatchNorm's does.
    """

    def measure(self, ctx: Context) -> Measurement:
        rng = ctx.rng()
        features, masks = (100, 4000) if ctx.quick else (500, 20000)
        dropout, dropout_data = _dropout(rng, features, masks)
        normalization, normalization_data = _normalization(rng)
        return Measurement({**dropout, **normalization}, plot_data={**dropout_data, **normalization_data})

    def checks(self, m: dict) -> list[Check]:
        z_bound = m[_Z_BOUND]
        return [Check("dropout: max |z| of the mean over masks vs E[h̃] = h", max(m[_Z_MEAN].values()), "≤", z_bound),
                Check("dropout: max |z| of the zero count vs p", max(m[_Z_ZEROS].values()), "≤", z_bound),
                Check(_SURVIVORS, m[_SURVIVORS], "≤", _FLOAT_TOL),
                Check(_EVAL, m[_EVAL], "=", 0.0),
                Check(_BN_MEAN, m[_BN_MEAN], "≤", _FLOAT_TOL),
                Check(_BN_VAR, m[_BN_VAR], "≤", 1e-3),
                Check(_LN_SHIFT, m[_LN_SHIFT], "≤", _FLOAT_TOL),
                Check(f"{_BN_SHIFT} (it depends on the batch)", m[_BN_SHIFT], "≥", 1e3 * _FLOAT_TOL)]

    summary_template = """Dropout mean |z| ≤ {z_mean:.2f} (bound {z_bound:.2f}); x₀ across batches: LN Δ
        {ln_shift:.0e}, BN Δ {bn_shift:.2f}. The z-score compares the dropout mean over {m[dropout: masks]} masks
        with h; the zero fraction differs from p by |z| ≤ {z_zeros:.2f}; in eval mode the output differs from the
        input by at most {eval:g}. BatchNorm's output has |mean| ≤ {bn_mean:.1e} and |var − 1| ≤ {bn_var:.1e}.
        Moving x₀ to another batch changes its LayerNorm output by {ln_shift:.1e} and its BatchNorm output by
        {bn_shift:.2f} (by {bn_eval_shift:g} in eval mode, which uses the running statistics)."""

    def summary_values(self, m: dict) -> dict:
        return {"z_mean": max(m[_Z_MEAN].values()), "z_zeros": max(m[_Z_ZEROS].values()), "z_bound": m[_Z_BOUND],
                "eval": m[_EVAL], "bn_mean": m[_BN_MEAN], "bn_var": m[_BN_VAR], "ln_shift": m[_LN_SHIFT],
                "bn_shift": m[_BN_SHIFT], "bn_eval_shift": m[_BN_EVAL_SHIFT]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        masks, data = measurement.values["dropout: masks"], measurement.plot_data

        def draw(fig):
            ax_drop, ax_norm = fig.subplots(1, 2)
            for p, mean in data["dropout means"].items():
                ax_drop.scatter(data["h"], mean, s=8, label=f"p = {p}")
            lim = np.array([-2.2, 2.2])
            ax_drop.plot(lim, lim, "k--", linewidth=0.8, label="E[h̃] = h")
            ax_drop.set_xlabel("h")
            ax_drop.set_ylabel(f"mean of dropout(h) over {masks} masks")
            ax_drop.set_title("Inverted dropout keeps the mean")
            ax_drop.legend(fontsize=8)
            for (name, (a, b)), marker in zip(data["x₀ rows"].items(), ("o", "s")):
                idx = np.arange(len(a))
                ax_norm.plot(idx, a, marker=marker, linestyle="-", label=f"{name}, batch A")
                ax_norm.plot(idx, b, marker=marker, linestyle=":", fillstyle="none", label=f"{name}, batch B")
            ax_norm.set_xlabel("feature")
            ax_norm.set_ylabel("normalised output of the same sample x₀")
            ax_norm.set_title("x₀ in two different batches")
            ax_norm.legend(fontsize=8)

        return save_figure(ctx, self.id, draw, figsize=(10, 4))
