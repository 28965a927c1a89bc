"""Byte-level BPE: one merge per step, no unknown token, and how many characters a token covers as the vocabulary
grows, for English (tiny-shakespeare) and Japanese (neko.txt) (seed 000 §6.4; Sennrich et al. 2016; GPT-2)."""
from __future__ import annotations

import time
from pathlib import Path

from fukaku.text import BPETokenizer

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ..recurrent.char_language_model import find_corpora

HELD_OUT = 0.1                       # the last tenth of each text is what the compression is measured on
QUICK = {"characters": 120_000, "sizes": [256, 300, 400, 600, 1000]}
FULL = {"characters": None, "sizes": [256, 300, 500, 1000, 2000, 4000, 8000]}
PROBE = "Unseen: 🐢🦉 naïve Ωμέγα 한국어 \u0301\x00 吾輩は猫である。名前はまだ無い。"
COMPRESSION = 2.0                    # the largest vocabulary's characters per token over the bytes-only split's


def compression_curve(text: str, sizes: list[int]) -> dict:
    """Train BPE on the first 90% of ``text`` up to ``max(sizes)`` tokens; measure on the last 10% the characters
    per token of the tokenizer at each size (merge lists are prefixes of one another: one merge per step)."""
    split = int(len(text) * (1 - HELD_OUT))
    train, held = text[:split], text[split:]
    start = time.perf_counter()
    full = BPETokenizer.train(train, max(sizes))
    seconds = time.perf_counter() - start
    ratios, exact, unknown = {}, True, 0
    for size in sizes:
        tok = BPETokenizer(full.merges[:size - 256])
        ids = tok.encode(held)
        ratios[size] = len(held) / len(ids)
        exact &= tok.decode(ids) == held and tok.decode(tok.encode(PROBE)) == PROBE
        unknown += sum(1 for i in ids if not 0 <= i < tok.vocab_size)
    smaller = BPETokenizer.train(train, sizes[1])           # trained on its own: the first merges again
    return {"ratios": ratios, "bytes per character": len(held.encode("utf-8")) / len(held), "exact": exact,
            "unknown": unknown, "prefix": smaller.merges == full.merges[:sizes[1] - 256],
            "reached": full.vocab_size, "seconds": seconds, "held-out characters": len(held)}


class BpeCompression(Experiment, id="bpe-compression",
                     source="seed 000 §6.4; Sennrich et al. 2016 (BPE); Radford et al. 2019 (GPT-2's byte-level BPE)"):
    """Byte-level BPE compresses text one merge at a time and never meets an unknown token.

    BPE adds exactly one merge per step: the vocabulary of size V + 1 is that of size V with one token more (the
    most frequent adjacent pair merged). Byte-level BPE starts from the 256 bytes, so it never emits an unknown
    token: every text, Japanese and emoji included, encodes and decodes back exactly. Trained on 90% of
    tiny-shakespeare (English) and of neko.txt (Japanese) and measured on the held-out 10%: with only the bytes
    a token is 1/(bytes per character) of a character (1 for ASCII English, about 1/3 for Japanese, 3 UTF-8 bytes
    per kana or kanji); the characters per token grow with every vocabulary size, to at least twice the bytes-only
    figure at the largest vocabulary (1,000 tokens on 120,000 characters in the quick run, 8,000 on the whole
    texts in the full run). A corpus whose file is absent is skipped and said so; without tiny-shakespeare,
    Python's help topics stand in for the English text.
    """

    def measure(self, ctx: Context) -> Measurement:
        config = QUICK if ctx.quick else FULL
        texts, skipped = find_corpora()
        cut = config["characters"]
        runs = {name: compression_curve(text if cut is None else text[:cut], config["sizes"])
                for name, text in texts.items()}
        return Measurement(
            values={"corpora": list(runs), "skipped": skipped, "vocabulary sizes": config["sizes"],
                    "characters used per corpus": cut or "all",
                    "held-out characters": {n: r["held-out characters"] for n, r in runs.items()},
                    "characters per token (held out), by vocabulary size": {
                        n: {str(s): round(v, 4) for s, v in r["ratios"].items()} for n, r in runs.items()},
                    "UTF-8 bytes per character (held out)": {n: r["bytes per character"] for n, r in runs.items()},
                    "|bytes-only characters per token − 1/(bytes per character)|": max(
                        abs(r["ratios"][config["sizes"][0]] - 1 / r["bytes per character"]) for r in runs.values()),
                    "vocabulary sizes where characters per token did not grow": {
                        n: [s for a, s in zip(config["sizes"], config["sizes"][1:]) if r["ratios"][s] <= r["ratios"][a]]
                        for n, r in runs.items()},
                    "largest vocabulary / bytes-only characters per token": {
                        n: r["ratios"][config["sizes"][-1]] / r["ratios"][config["sizes"][0]] for n, r in runs.items()},
                    "vocabulary reached": {n: r["reached"] for n, r in runs.items()},
                    "merges trained separately for the second size = the first merges of the largest": all(
                        r["prefix"] for r in runs.values()),
                    "held-out text and an unseen probe decode back exactly": all(r["exact"] for r in runs.values()),
                    "ids outside the vocabulary": sum(r["unknown"] for r in runs.values()),
                    "seconds to train the largest vocabulary": {n: round(r["seconds"], 2) for n, r in runs.items()}},
            plot_data={"runs": runs, "sizes": config["sizes"]})

    def checks(self, m: dict) -> list[Check]:
        largest = m["vocabulary sizes"][-1]
        prefix = m["merges trained separately for the second size = the first merges of the largest"]
        checks = [Check("one merge per step: a smaller vocabulary's merges are the larger's first ones", prefix, "=",
                        True),
                  Check("never unknown: held-out text and unseen probe round-trip exactly",
                        m["held-out text and an unseen probe decode back exactly"], "=", True),
                  Check("bytes only: characters per token = 1 / (UTF-8 bytes per character)",
                        m["|bytes-only characters per token − 1/(bytes per character)|"], "≤", 1e-12)]
        for name in m["corpora"]:
            checks += [Check(f"{name}: vocabulary of {largest} reached, one token per merge",
                             m["vocabulary reached"][name], "=", largest),
                       Check(f"{name}: sizes where characters per token did not grow",
                             len(m["vocabulary sizes where characters per token did not grow"][name]), "=", 0),
                       Check(f"{name}: characters per token at {largest} tokens / bytes only",
                             m["largest vocabulary / bytes-only characters per token"][name], "≥", COMPRESSION)]
        return checks

    summary_template = """Characters per token at {first} → {largest} tokens: {headline}. Measured on the held-out
        tenth of each text ({bytes}); every size adds exactly one merge, held-out text and an unseen probe of emoji,
        accents, Korean and a NUL byte decode back exactly, and no id falls outside the vocabulary. Training the
        {largest}-token vocabulary took {seconds}. {skipped}"""

    def summary_values(self, m: dict) -> dict:
        sizes, ratios = m["vocabulary sizes"], m["characters per token (held out), by vocabulary size"]
        headline = ", ".join(f"{n} {ratios[n][str(sizes[0])]:.2f} → {ratios[n][str(sizes[-1])]:.2f}"
                             for n in m["corpora"])
        bytes_ = ", ".join(f"{n}: {b:.2f} UTF-8 bytes per character"
                           for n, b in m["UTF-8 bytes per character (held out)"].items())
        seconds = ", ".join(f"{n} {s:.2f} s" for n, s in m["seconds to train the largest vocabulary"].items())
        skipped = "".join(f"{name}: {reason}. " for name, reason in m["skipped"].items())
        return {"first": sizes[0], "largest": sizes[-1], "headline": headline, "bytes": bytes_, "seconds": seconds,
                "skipped": skipped}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        runs, sizes = measurement.plot_data["runs"], measurement.plot_data["sizes"]

        def draw(fig):
            ax = fig.subplots()
            for (name, run), colour in zip(runs.items(), ("#46c", "#d64", "#2a7")):
                ax.plot(sizes, [run["ratios"][s] for s in sizes], "o-", color=colour, label=name)
                ax.axhline(1 / run["bytes per character"], color=colour, linestyle=":", linewidth=0.8)
            ax.set_xscale("log")
            ax.minorticks_off()
            ax.set_xticks(sizes, [str(s) for s in sizes], fontsize=7)
            ax.set(xlabel="vocabulary size (256 bytes + merges)", ylabel="characters per token (held out)",
                   title="byte-level BPE: compression against vocabulary size")
            ax.legend(fontsize=8)

        return save_figure(ctx, self.id, draw)
