"""A KV cache makes autoregressive decoding cheaper without changing what is decoded (seed 000 §6.4, seed 001 §9.4:
the decoder generates one token at a time under the causal mask)."""
from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku.models.transformer import GPT

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ....ops._parallel import blas_threads

QUICK = {"layers": 2, "d_model": 64, "heads": 4, "lengths": (16, 48, 96), "repeats": 3}
FULL = {"layers": 4, "d_model": 128, "heads": 4, "lengths": (16, 64, 128, 256, 384), "repeats": 5}
VOCAB, PROMPT, BATCH = 65, 8, 4
SAME = 1e-4      # float32 logits of the cached and the recomputed pass agree within this
FASTER = 2.0     # at the longest length the cache is at least this many times faster


def logit_gap(model: GPT, ids: fk.Tensor) -> float:
    """The largest |difference| between the logits of one pass over ``ids`` and those of the prompt followed
    by one position at a time through a KV cache."""
    with fk.no_grad():
        full = model(ids).numpy()
        cache = model.new_cache()
        steps = [model(ids[:, :PROMPT], cache)] + [model(ids[:, t:t + 1], cache) for t in range(PROMPT, ids.shape[1])]
    return float(np.abs(np.concatenate([s.numpy() for s in steps], 1) - full).max())


def decoding_seconds(model: GPT, prompt: fk.Tensor, new: int, repeats: int) -> dict[str, float]:
    """Median seconds to generate ``new`` tokens greedily with and without the cache (interleaved)."""
    times: dict[str, list[float]] = {"cache": [], "recompute": []}
    for _ in range(repeats):
        for name in times:
            start = time.perf_counter()
            model.generate(prompt, new, temperature=0, use_cache=name == "cache")
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


class KVCacheDecoding(Experiment, id="kv-cache-decoding", source="seed 000 §6.4, seed 001 §9.4"):
    """Caching keys and values decodes the same tokens in time linear in the length.

    Under the causal mask the keys and values of earlier positions never change as tokens are appended, so a
    decoder may keep them (a KV cache) and run only the new position through the network at each step: O(t)
    work for the t-th token instead of recomputing all t positions, O(T²) instead of O(T³) attention work over
    T tokens, with identical outputs. Measured on a randomly initialised GPT-mini (batch 4, an 8-token prompt):
    the logits of the cached passes equal those of one full pass within 1e-4 (float32), greedy decoding gives
    the same tokens both ways, and generating the longest length takes at least 2× less time with the cache
    (the gap widens with the length; lengths up to 96 in the quick run, 384 in the full one).
    """

    def measure(self, ctx: Context) -> Measurement:
        config = QUICK if ctx.quick else FULL
        lengths = config["lengths"]
        fk.manual_seed(ctx.seed)
        model = GPT(vocab_size=VOCAB, context_length=PROMPT + max(lengths), n_layer=config["layers"],
                    n_head=config["heads"], d_model=config["d_model"]).eval()
        rng = ctx.rng()
        ids = fk.tensor(rng.integers(0, VOCAB, (BATCH, PROMPT + max(lengths))))
        prompt = ids[:, :PROMPT]
        with blas_threads(1):  # small GEMMs: a second BLAS thread only adds waiting on a busy machine
            same = bool((model.generate(prompt, max(lengths), temperature=0) ==
                         model.generate(prompt, max(lengths), temperature=0, use_cache=False)).all())
            seconds = {n: decoding_seconds(model, prompt, n, config["repeats"]) for n in lengths}
        longest = seconds[max(lengths)]
        return Measurement(
            values={"layers, d_model, heads": [config["layers"], config["d_model"], config["heads"]],
                    "batch, prompt tokens": [BATCH, PROMPT],
                    "max |cached − full| logit": logit_gap(model, ids),
                    "greedy tokens identical": same,
                    "ms per generated token (cache)": {n: 1e3 * s["cache"] / n for n, s in seconds.items()},
                    "ms per generated token (recompute)": {n: 1e3 * s["recompute"] / n for n, s in seconds.items()},
                    "speed-up at the longest length": longest["recompute"] / longest["cache"],
                    "longest length": max(lengths)},
            plot_data={"seconds": seconds})

    def checks(self, m: dict) -> list[Check]:
        return [Check("max |cached − full| logit", m["max |cached − full| logit"], "≤", SAME),
                Check("greedy tokens identical with and without the cache", m["greedy tokens identical"], "=", True),
                Check(f"speed-up generating {m['longest length']} tokens", m["speed-up at the longest length"], "≥",
                      FASTER)]

    summary_template = """The cache is {m[speed-up at the longest length]:.1f}× faster at {m[longest length]} tokens
        with logits within {m[max |cached − full| logit]:.1e}. Per generated token the cache costs {cache}
        ms and recomputing the prefix {recompute} ms (by length); greedy decoding gave
        {same} tokens both ways."""

    def summary_values(self, m: dict) -> dict:
        fmt = lambda d: ", ".join(f"{v:.2f} at {n}" for n, v in d.items())  # noqa: E731
        return {"cache": fmt(m["ms per generated token (cache)"]),
                "recompute": fmt(m["ms per generated token (recompute)"]),
                "same": "the same" if m["greedy tokens identical"] else "different"}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        seconds = measurement.plot_data["seconds"]

        def draw(fig):
            ax = fig.subplots()
            lengths = list(seconds)
            for name, colour in (("cache", "#2a7"), ("recompute", "#d64")):
                ax.plot(lengths, [seconds[n][name] for n in lengths], "o-", color=colour,
                        label="KV cache" if name == "cache" else "recompute the prefix")
            ax.set(xlabel="tokens generated", ylabel="seconds", title="greedy decoding, GPT-mini")
            ax.legend(fontsize=8)

        return save_figure(ctx, self.id, draw)
