"""What a prompt gives a GPT: the model continues a prompt it has never seen by reading it (seed 000 §6.4: in-context
prompting; seed 001 §9.4)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import nn
from fukaku.models.transformer import GPT

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ....ops._parallel import blas_threads

QUICK = {"length": 8, "vocab": 10, "steps": 80, "layers": 2, "d_model": 32, "heads": 2}
FULL = {"length": 16, "vocab": 20, "steps": 400, "layers": 2, "d_model": 64, "heads": 4}
BATCH, LR, TESTS = 32, 1e-2, 500
COPIED = 0.95   # share of the prompt's tokens reproduced (chance: 1/vocab)


def episodes(rng: np.random.Generator, n: int, length: int, vocab: int) -> np.ndarray:
    """``n`` sequences ``x | x``: ``length`` random tokens in ``[0, vocab)``, the separator ``vocab``, the same
    tokens again ``(n, 2·length + 1)``."""
    x = rng.integers(0, vocab, (n, length))
    return np.concatenate([x, np.full((n, 1), vocab), x], 1)


def train_copier(config: dict, seed: int) -> tuple[GPT, np.ndarray]:
    """A GPT trained (AdamW) to continue ``x |`` with ``x``, the loss on the second half; returns it and its
    training losses."""
    length, vocab = config["length"], config["vocab"]
    rng = np.random.default_rng(seed)
    fk.manual_seed(seed)
    model = GPT(vocab_size=vocab + 1, context_length=2 * length + 1, n_layer=config["layers"],
                n_head=config["heads"], d_model=config["d_model"])
    opt = fk.optim.AdamW(model.parameters(), lr=LR)
    losses = np.empty(config["steps"])
    for step in range(config["steps"]):
        batch = fk.tensor(episodes(rng, BATCH, length, vocab))
        logits = model(batch[:, :-1])[:, length:]   # the positions that predict the copy
        loss = nn.functional.cross_entropy(logits.reshape(-1, vocab + 1), batch[:, length + 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses[step] = loss.item()
    return model, losses


def copy_accuracy(model: GPT, config: dict, seed: int) -> float:
    """The share of tokens of fresh sequences that greedy decoding reproduces after the prompt ``x |``."""
    length, vocab = config["length"], config["vocab"]
    test = episodes(np.random.default_rng(seed), TESTS, length, vocab)
    out = model.generate(fk.tensor(test[:, :length + 1]), length, temperature=0)[:, length + 1:].numpy()
    return float((out == test[:, length + 1:]).mean())


class GptPromptCopy(Experiment, id="gpt-prompt-copy", source="seed 000 §6.4, seed 001 §9.4"):
    """A GPT continues a prompt by reading it.

    Prompting (seed 000 §6.4: in-context, few-shot) works because a causal Transformer attends to every earlier
    token: what the prompt shows, the model can use without any change of its weights. Trained on sequences
    ``x | x`` whose x is drawn afresh each time (so no x can be memorised), GPT-mini continues a prompt ``x |`` it
    has never seen with x itself: at least 95% of the tokens right (chance: 1 in 10; 8 tokens in the quick run,
    16 tokens of 20 symbols in the full one), while before training it gets about chance.
    """

    def measure(self, ctx: Context) -> Measurement:
        config = QUICK if ctx.quick else FULL
        with blas_threads(1):
            fk.manual_seed(ctx.seed)
            untrained = GPT(vocab_size=config["vocab"] + 1, context_length=2 * config["length"] + 1,
                            n_layer=config["layers"], n_head=config["heads"], d_model=config["d_model"])
            before = copy_accuracy(untrained, config, ctx.seed + 1)
            start = time.perf_counter()
            model, losses = train_copier(config, ctx.seed)
            seconds = time.perf_counter() - start
            after = copy_accuracy(model, config, ctx.seed + 1)
        return Measurement(
            values={"tokens to copy, symbols": [config["length"], config["vocab"]],
                    "AdamW steps, batch": [config["steps"], BATCH],
                    "share of tokens copied before training": before,
                    "share of tokens copied after training": after,
                    "chance": 1 / config["vocab"],
                    "final training loss": float(losses[-10:].mean()),
                    "seconds to train": round(seconds, 1)},
            plot_data={"losses": losses})

    def checks(self, m: dict) -> list[Check]:
        return [Check("share of tokens copied after training", m["share of tokens copied after training"], "≥",
                      COPIED),
                Check("before training: at most twice chance", m["share of tokens copied before training"], "≤",
                      2 * m["chance"])]

    summary_template = """The trained GPT copies {m[share of tokens copied after training]:.1%} of an unseen prompt.
        Before training it copied {m[share of tokens copied before training]:.1%} (chance {m[chance]:.0%}); the
        training took {m[seconds to train]} s, its final loss {m[final training loss]:.3f} nats/token."""

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        losses = measurement.plot_data["losses"]

        def draw(fig):
            ax = fig.subplots()
            ax.plot(np.arange(1, len(losses) + 1), losses, color="#46c")
            ax.set_yscale("log")
            ax.set(xlabel="AdamW step", ylabel="loss on the copied half (nats/token)", title="x | x episodes")

        return save_figure(ctx, self.id, draw)
