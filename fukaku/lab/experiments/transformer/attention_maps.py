"""Attention maps: what a trained attention layer looks at. One attention layer learns to reverse a sequence, and
its weights — drawn as a query × key map — show the anti-diagonal the task needs (seed 000 §6.3; seed 001 §9.4)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
import fukaku.nn.functional as F
from fukaku import nn

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ....ops._parallel import blas_threads

VOCAB, LENGTH, D_MODEL, BATCH, LR = 10, 8, 32, 64, 1e-2
QUICK, FULL = 150, 400  # Adam steps
TEST = 500  # fresh test sequences
ACCURATE = 0.95  # share of test tokens reversed correctly
FOCUSED = 0.8  # mean attention weight on the mirrored position L − 1 − i


class Reverser(nn.Module):
    """Tokens plus learned positions → one single-head nn.MultiheadAttention → a Linear read-out per position. To
    output token L − 1 − i at position i, query i must find key L − 1 − i: only the positions can tell it where."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, D_MODEL)
        self.position = nn.Parameter(fk.randn(LENGTH, D_MODEL) * 0.5)
        self.attention = nn.MultiheadAttention(D_MODEL, 1, batch_first=True)
        self.head = nn.Linear(D_MODEL, VOCAB)

    def forward(self, tokens: fk.Tensor) -> tuple[fk.Tensor, fk.Tensor]:
        h = self.embed(tokens) + self.position
        out, weights = self.attention(h, h, h)
        return self.head(out), weights


class AttentionMaps(Experiment, id="attention-maps", source="seed 000 §6.3, seed 001 §9.4"):
    """A trained attention layer's weights show where it looks.

    Attention is a soft lookup: output i is Σ_j α_ij v_j, and the map α (queries × keys) says which tokens each
    output reads. Trained to reverse sequences of 8 tokens (output i = input L − 1 − i), a single attention head
    with learned positions must look at the mirrored position, so its map becomes the anti-diagonal: after
    training it reverses at least 95% of fresh test tokens correctly and puts on average at least 0.8 of each
    query's weight on key L − 1 − i (1/8 = 0.125 at random). The maps are drawn before and after training.
    """

    def measure(self, ctx: Context) -> Measurement:
        steps = QUICK if ctx.quick else FULL
        fk.manual_seed(ctx.seed)
        rng = ctx.rng()
        model = Reverser()
        opt = fk.optim.Adam(model.parameters(), lr=LR)
        test = rng.integers(0, VOCAB, (TEST, LENGTH))
        mirror = np.arange(LENGTH)[::-1]

        def attention_map() -> np.ndarray:
            with fk.no_grad():
                return model(fk.tensor(test))[1].numpy().mean(0)
        before = attention_map()
        losses = []
        with blas_threads(1):
            for _ in range(steps):
                x = rng.integers(0, VOCAB, (BATCH, LENGTH))
                logits, _ = model(fk.tensor(x))
                loss = F.cross_entropy(logits.reshape(-1, VOCAB), fk.tensor(x[:, ::-1].copy()).reshape(-1))
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(loss.item())
        with fk.no_grad():
            logits, weights = model(fk.tensor(test))
        after = weights.numpy().mean(0)
        accuracy = float((logits.numpy().argmax(-1) == test[:, ::-1]).mean())
        return Measurement(
            values={"Adam steps": steps, "test accuracy (tokens reversed correctly)": accuracy,
                    "mean weight on the mirrored key, after training": float(after[np.arange(LENGTH), mirror].mean()),
                    "mean weight on the mirrored key, at initialisation": float(
                        before[np.arange(LENGTH), mirror].mean()),
                    "final training loss": float(np.mean(losses[-10:]))},
            plot_data={"before": before, "after": after, "losses": losses})

    def checks(self, m: dict) -> list[Check]:
        return [Check("test accuracy", m["test accuracy (tokens reversed correctly)"], "≥", ACCURATE),
                Check("mean weight on key L − 1 − i after training",
                      m["mean weight on the mirrored key, after training"], "≥", FOCUSED)]

    summary_template = """The trained map is the anti-diagonal: {after:.2f} of each query's weight on key L − 1 − i.
        After {m[Adam steps]} Adam steps one attention head reverses {acc:.1%} of fresh test tokens; at
        initialisation it put {before:.2f} there (uniform: {uniform:.3f})."""

    def summary_values(self, m: dict) -> dict:
        return {"after": m["mean weight on the mirrored key, after training"],
                "acc": m["test accuracy (tokens reversed correctly)"],
                "before": m["mean weight on the mirrored key, at initialisation"], "uniform": 1 / LENGTH}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        d = measurement.plot_data

        def draw(fig):
            axes = fig.subplots(1, 2)
            for ax, key, title in zip(axes, ("before", "after"), ("at initialisation", "after training")):
                image = ax.imshow(d[key], cmap="viridis", vmin=0, vmax=1)
                ax.set(title=f"attention weights, {title}", xlabel="key position j", ylabel="query position i")
            fig.colorbar(image, ax=axes, shrink=0.8, label="α_ij (mean over test sequences)")
        return save_figure(ctx, self.id, draw, figsize=(9, 4))
