"""Self-attention sees a set, not a sequence: without positional information, permuting the input tokens permutes
the outputs the same way (seed 000 §6.3, its third check); adding positions breaks the symmetry."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import nn

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

BATCH, LENGTH, D_MODEL, HEADS, LAYERS = 4, 12, 32, 4, 2
PERMUTATIONS = 5
EXACT = 1e-12  # float64: f(Px) and P f(x) agree up to the rounding of sums taken in another order
BROKEN = 1e-2  # with positions added, the outputs of a permuted input differ by at least this


def encoder() -> nn.Module:
    """Two post-LN Transformer encoder layers (the paper's, seed 000 §6.3), float64, dropout off."""
    layer = nn.TransformerEncoderLayer(D_MODEL, HEADS, 4 * D_MODEL, dropout=0.0, batch_first=True)
    return nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False).double().eval()


def deviation(f, x: np.ndarray, perm: np.ndarray) -> float:
    """max |f(x[:, perm]) − f(x)[:, perm]|: how far f is from commuting with the permutation of the tokens."""
    with fk.no_grad():
        return float(np.abs(f(fk.tensor(x[:, perm])).numpy() - f(fk.tensor(x)).numpy()[:, perm]).max())


class PermutationEquivariance(Experiment, id="self-attention-permutation-equivariant",
                              source="seed 000 §6.3, seed 001 §9.4"):
    """Without positional encoding self-attention is permutation-equivariant.

    Self-attention computes every output from the query's own token and the *set* of keys and values: nothing in
    softmax(QKᵀ/√d_k)V depends on where a token stands. So for any permutation P of the tokens, f(PX) = P f(X) —
    for nn.MultiheadAttention and for a stack of Transformer encoder layers (attention, position-wise FFN, layer
    norms), up to float64 rounding (≤ 1e-12). Positional information is what makes order matter: with sinusoidal
    positions added to the tokens the permuted input gives different outputs (by more than 1e-2).
    """

    def measure(self, ctx: Context) -> Measurement:
        fk.manual_seed(ctx.seed)
        rng = ctx.rng()
        x = rng.standard_normal((BATCH, LENGTH, D_MODEL))
        perms = [rng.permutation(LENGTH) for _ in range(PERMUTATIONS)]
        mha = nn.MultiheadAttention(D_MODEL, HEADS, batch_first=True).double()
        stack = encoder()
        positions = nn.SinusoidalPositionalEncoding(D_MODEL, max_len=LENGTH)
        table = fk.tensor(positions.pe.numpy().astype(np.float64))
        models = {"nn.MultiheadAttention": lambda t: mha(t, t, t, need_weights=False)[0],
                  f"{LAYERS} encoder layers": stack,
                  f"{LAYERS} encoder layers, sinusoidal positions added": lambda t: stack(t + table)}
        devs = {name: [deviation(f, x, p) for p in perms] for name, f in models.items()}
        with fk.no_grad():
            out = stack(fk.tensor(x)).numpy()
            out_perm = stack(fk.tensor(x[:, perms[0]])).numpy()
        return Measurement(values={"max |f(PX) − P f(X)| over permutations": {k: max(v) for k, v in devs.items()},
                                   "permutations tried": PERMUTATIONS, "tokens": LENGTH},
                           plot_data={"out": out[0], "out_perm": out_perm[0], "perm": perms[0]})

    def checks(self, m: dict) -> list[Check]:
        dev = m["max |f(PX) − P f(X)| over permutations"]
        return [Check("nn.MultiheadAttention: max |f(PX) − P f(X)|", dev["nn.MultiheadAttention"], "≤", EXACT),
                Check(f"{LAYERS} encoder layers: max |f(PX) − P f(X)|", dev[f"{LAYERS} encoder layers"], "≤", EXACT),
                Check("with positions added: max |f(PX) − P f(X)|",
                      dev[f"{LAYERS} encoder layers, sinusoidal positions added"], ">", BROKEN)]

    summary_template = """Permuting the tokens permutes the outputs: max |f(PX) − P f(X)| = {worst:.1e}.
        Over {m[permutations tried]} random permutations of {m[tokens]} tokens, nn.MultiheadAttention deviates by
        at most {mha:.1e} and {layers} encoder layers by {stack:.1e} (float64 rounding); with sinusoidal positions
        added the same permutations change the outputs by up to {pos:.2f}: order now matters."""

    def summary_values(self, m: dict) -> dict:
        dev = m["max |f(PX) − P f(X)| over permutations"]
        return {"worst": max(dev["nn.MultiheadAttention"], dev[f"{LAYERS} encoder layers"]),
                "mha": dev["nn.MultiheadAttention"], "stack": dev[f"{LAYERS} encoder layers"], "layers": LAYERS,
                "pos": dev[f"{LAYERS} encoder layers, sinusoidal positions added"]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        d = measurement.plot_data

        def draw(fig):
            axes = fig.subplots(1, 3)
            panels = (("f(X)", d["out"]), ("f(PX)", d["out_perm"]), ("P⁻¹ f(PX)", d["out_perm"][np.argsort(d["perm"])]))
            for ax, (title, a) in zip(axes, panels):
                ax.imshow(a, aspect="auto", cmap="coolwarm")
                ax.set(title=title, xlabel="feature", ylabel="token" if ax is axes[0] else None)
        return save_figure(ctx, self.id, draw, figsize=(9, 3.4))
