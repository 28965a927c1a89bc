"""Pre-LN against post-LN as the stack deepens: trained alike (same Adam learning rate, no warm-up), the paper's
post-LN Transformer stops learning as layers are added while the pre-LN one, with its normalisation-free residual
path, keeps training (seed 001 §9.4: pre-LN as used today; Xiong et al. 2020)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import fukaku as fk
import fukaku.nn.functional as F
from fukaku import nn

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ....ops._parallel import blas_threads

VOCAB, LENGTH, D_MODEL, HEADS, FF, BATCH = 16, 16, 32, 4, 64, 32
LAG = 3  # the task: the token LAG positions back (attention must find it; the first LAG targets are 0)
LR = 1e-2  # Adam, constant from the first step: no warm-up
QUICK = {"depths": (1, 8), "steps": 120, "seeds": 1}
FULL = {"depths": (1, 2, 4, 8, 12), "steps": 300, "seeds": 2}
TAIL = 20  # the final loss is the mean of the last TAIL steps
TRAINED = 0.5  # a shallow stack has trained when its final loss is at most this share of chance, log(VOCAB)
LEARNS = 0.6  # the deepest pre-LN stack, still learning at the end of the quick run, is at most this share of it
GAP = 0.5  # nats: at the deepest stack post-LN's final loss exceeds pre-LN's by at least this


class LagLM(nn.Module):
    """Tokens and learned positions → a causal Transformer encoder stack (``norm_first`` chooses pre- or post-LN;
    pre-LN with the final LayerNorm that pre-LN stacks end with) → logits over the vocabulary."""

    def __init__(self, depth: int, norm_first: bool) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, D_MODEL)
        self.position = nn.Parameter(fk.randn(LENGTH, D_MODEL) * 0.1)
        layer = nn.TransformerEncoderLayer(D_MODEL, HEADS, FF, dropout=0.0, batch_first=True, norm_first=norm_first)
        self.stack = nn.TransformerEncoder(layer, depth, nn.LayerNorm(D_MODEL) if norm_first else None,
                                           enable_nested_tensor=False)
        self.head = nn.Linear(D_MODEL, VOCAB)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(LENGTH))

    def forward(self, tokens: fk.Tensor) -> fk.Tensor:
        return self.head(self.stack(self.embed(tokens) + self.position, mask=self.mask, is_causal=True))


def lag_batch(rng: np.random.Generator) -> tuple[fk.Tensor, fk.Tensor]:
    x = rng.integers(0, VOCAB, (BATCH, LENGTH))
    y = np.roll(x, LAG, axis=1)
    y[:, :LAG] = 0
    return fk.tensor(x), fk.tensor(y)


def train(depth: int, norm_first: bool, steps: int, seed: int) -> list[float]:
    """Training losses (nats per token) of one stack; a non-finite loss ends the run (diverged)."""
    fk.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = LagLM(depth, norm_first)
    opt = fk.optim.Adam(model.parameters(), lr=LR)
    losses = []
    for _ in range(steps):
        x, y = lag_batch(rng)
        loss = F.cross_entropy(model(x).reshape(-1, VOCAB), y.reshape(-1))
        losses.append(loss.item())
        if not math.isfinite(losses[-1]):
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
    return losses


def final(losses: list[float]) -> float:
    tail = losses[-TAIL:]
    return float(np.mean(tail)) if all(math.isfinite(v) for v in tail) else math.inf


class PreLnVsPostLn(Experiment, id="pre-ln-vs-post-ln", source="seed 001 §9.4, seed 000 §6.3"):
    """Pre-LN trains deep stacks that post-LN cannot at the same learning rate.

    The Transformer of seed 000 §6.3 normalises after each residual sum (post-LN: X' = LN(X + MHA(X))); the one
    used today (seed 001 §9.4) normalises before each sublayer (pre-LN: X' = X + MHA(LN(X))), which keeps an
    identity path from input to output. Xiong et al. (2020) show that post-LN's gradients near the output are
    large at initialisation, so it needs a learning-rate warm-up, and the deeper the stack the worse. Trained alike
    on a causal lag task (predict the token 3 back; 16 symbols, chance log 16 = 2.77 nats) with Adam at lr 1e-2 and
    no warm-up: shallow stacks of both kinds train (final loss ≤ 0.5·log 16), and at the deepest stack (8 layers
    quick, 12 full) pre-LN still learns (final loss ≤ 0.6·log 16) while post-LN's final loss stays at least 0.5
    nats above pre-LN's.
    """

    def measure(self, ctx: Context) -> Measurement:
        config = QUICK if ctx.quick else FULL
        curves = {}
        with blas_threads(1):
            for depth in config["depths"]:
                for name, norm_first in (("post-LN", False), ("pre-LN", True)):
                    curves[(depth, name)] = [train(depth, norm_first, config["steps"], ctx.seed + s)
                                             for s in range(config["seeds"])]
        finals = {name: {depth: float(np.mean([final(c) for c in curves[(depth, name)]])) for depth in config["depths"]}
                  for name in ("post-LN", "pre-LN")}
        return Measurement(
            values={"depths": list(config["depths"]), "Adam steps (lr 1e-2, no warm-up), seeds": [config["steps"],
                                                                                                  config["seeds"]],
                    "chance level log(vocabulary)": math.log(VOCAB),
                    f"final training loss (mean of the last {TAIL} steps)": finals,
                    "diverged runs": sum(not math.isfinite(c[-1]) for runs in curves.values() for c in runs)},
            plot_data={"curves": {f"{name}, {depth} layers": runs[0] for (depth, name), runs in curves.items()}})

    def checks(self, m: dict) -> list[Check]:
        finals, chance = m[f"final training loss (mean of the last {TAIL} steps)"], m["chance level log(vocabulary)"]
        shallow, deep = m["depths"][0], m["depths"][-1]
        return [Check(f"post-LN, {shallow} layers: final loss / chance", finals["post-LN"][shallow] / chance, "≤",
                      TRAINED),
                Check(f"pre-LN, {shallow} layers: final loss / chance", finals["pre-LN"][shallow] / chance, "≤",
                      TRAINED),
                Check(f"pre-LN, {deep} layers: final loss / chance", finals["pre-LN"][deep] / chance, "≤", LEARNS),
                Check(f"{deep} layers: post-LN final loss − pre-LN final loss (nats)",
                      finals["post-LN"][deep] - finals["pre-LN"][deep], "≥", GAP)]

    summary_template = """At {deep} layers post-LN ends at {post:.2f} nats, pre-LN at {pre:.2f} (chance {chance:.2f}).
        Same task, Adam lr 1e-2 without warm-up, {steps} steps: final losses by depth {depths} are post-LN
        {post_all} and pre-LN {pre_all}. Post-LN stops learning as the stack deepens; pre-LN keeps training."""

    def summary_values(self, m: dict) -> dict:
        finals = m[f"final training loss (mean of the last {TAIL} steps)"]
        deep = m["depths"][-1]
        return {"deep": deep, "post": finals["post-LN"][deep], "pre": finals["pre-LN"][deep],
                "chance": m["chance level log(vocabulary)"], "steps": m["Adam steps (lr 1e-2, no warm-up), seeds"][0],
                "depths": m["depths"], "post_all": [round(v, 2) for v in finals["post-LN"].values()],
                "pre_all": [round(v, 2) for v in finals["pre-LN"].values()]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        curves, chance = measurement.plot_data["curves"], measurement.values["chance level log(vocabulary)"]

        def draw(fig):
            ax = fig.subplots()
            depths = measurement.values["depths"]
            from matplotlib import colormaps

            colours = {d: colormaps["viridis"](0.85 * i / max(1, len(depths) - 1)) for i, d in enumerate(depths)}
            for label, curve in curves.items():
                name, depth = label.split(", ")[0], int(label.split(", ")[1].split()[0])
                smooth = np.convolve(curve, np.ones(10) / 10, mode="valid")
                ax.plot(np.arange(10, len(curve) + 1), smooth, ls="-" if name == "pre-LN" else "--",
                        color=colours[depth], label=label)
            ax.axhline(chance, color="grey", lw=0.8, ls=":", label="chance (log 16)")
            ax.set(xlabel="Adam step (lr 1e-2, no warm-up)", ylabel="training loss (nats, moving average of 10)",
                   title="pre-LN vs post-LN as depth grows")
            ax.legend(fontsize=7)
        return save_figure(ctx, self.id, draw)
