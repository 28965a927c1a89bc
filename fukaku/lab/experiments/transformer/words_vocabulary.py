"""Seed 003's word vocabulary with UNK ("Alice likes Bob"), and out-of-vocabulary words against characters and
byte-level BPE on held-out text (seed 003: subwords against OOV; seed 000 §6.4)."""
from __future__ import annotations

from pathlib import Path

from fukaku.text import BPETokenizer, CharTokenizer, WordTokenizer

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ..recurrent.char_language_model import find_corpora

TRAIN_SENTENCE, TEST_SENTENCE = "Alice likes Bob", "Alice likes cat"
TABLE = {"alice": 1, "like": 2, "bob": 3, "UNK": 4}                     # seed 003's printed vocabulary
IDS, MULTI_HOT = [1, 2, 4], [1, 1, 0, 1]                                 # and its printed encoding of the test sentence
HELD_OUT = 0.1
QUICK = {"characters": 200_000, "words": 2_000, "bpe": 1_000}
FULL = {"characters": None, "words": 10_000, "bpe": 4_000}


def seed003_table() -> dict:
    """Seed 003's example as fukaku.text computes it: the vocabulary of "Alice likes Bob" (lower-cased,
    lemmatised, numbered from 1 in order of appearance, UNK last) and the encoding of "Alice likes cat"."""
    tok = WordTokenizer.train(TRAIN_SENTENCE, lower=True, lemmatize=True, order="first", pad_token="<pad>",
                              unk_last=True)
    table = {("UNK" if t == tok.unk_token else t): i for i, t in enumerate(tok.vocab) if t != tok.pad_token}
    return {"table": table, "ids": tok.encode(TEST_SENTENCE), "multi-hot": tok.multi_hot(TEST_SENTENCE)[1:].tolist(),
            "decoded": tok.decode(tok.encode(TEST_SENTENCE))}


def out_of_vocabulary(text: str, config: dict) -> dict:
    """Share of held-out tokens that are unknown (or cannot be encoded) for words, characters and byte-level BPE
    trained on the first 90% of ``text``."""
    split = int(len(text) * (1 - HELD_OUT))
    train, held = text[:split], text[split:]
    words = WordTokenizer.train(train, config["words"])
    ids = words.encode(held)
    chars = CharTokenizer.train(train)
    unseen = [c for c in held if chars.token_to_id(c) is None]
    bpe = BPETokenizer.train(train, config["bpe"])
    bpe_ids = bpe.encode(held)
    return {"held-out words": len(ids), "word UNK share": ids.count(words.unk_id) / max(len(ids), 1),
            "word examples": sorted({w for w in held.split() if words.token_to_id(w) is None})[:8],
            "character unseen share": len(unseen) / max(len(held), 1), "unseen characters": sorted(set(unseen))[:8],
            "BPE ids outside the vocabulary": sum(1 for i in bpe_ids if not 0 <= i < bpe.vocab_size),
            "BPE unknown share": sum(1 for i in bpe_ids if not 0 <= i < bpe.vocab_size) / max(len(bpe_ids), 1),
            "BPE round trip exact": bpe.decode(bpe_ids) == held}


class WordsVocabulary(Experiment, id="words-vocabulary", source="seed 003 (subwords against OOV), seed 000 §6.4"):
    """A word vocabulary maps unseen words to UNK; byte-level subwords never do.

    Seed 003's toy vocabulary from "Alice likes Bob" (lower-cased, lemmatised) is {alice: 1, like: 2, bob: 3,
    UNK: 4}, and "Alice likes cat" encodes as ids [1, 2, 4] with the multi-hot vector [1, 1, 0, 1]: "cat" is out
    of vocabulary. On real text the same happens at scale: a vocabulary of the training text's most frequent
    words (2,000 in the quick run, 10,000 in the full run; tiny-shakespeare and neko.txt, 90% for training)
    leaves a share of the held-out words as UNK, while byte-level BPE encodes every held-out token and decodes
    the text back exactly. (neko.txt has no spaces, so its "words" are whole phrases and nearly all are UNK;
    character level leaves out only the characters the training text never used.)
    """

    def measure(self, ctx: Context) -> Measurement:
        config = QUICK if ctx.quick else FULL
        texts, skipped = find_corpora()
        cut = config["characters"]
        runs = {name: out_of_vocabulary(text if cut is None else text[:cut], config) for name, text in texts.items()}
        table = seed003_table()
        return Measurement(
            values={"vocabulary of 'Alice likes Bob'": table["table"], "ids of 'Alice likes cat'": table["ids"],
                    "multi-hot of 'Alice likes cat' (ids 1–4)": table["multi-hot"],
                    "decoded": table["decoded"], "corpora": list(runs), "skipped": skipped,
                    "word vocabulary, BPE vocabulary": [config["words"], config["bpe"]],
                    "characters used per corpus": cut or "all",
                    "held-out words that are UNK": {n: r["word UNK share"] for n, r in runs.items()},
                    "examples of UNK words": {n: r["word examples"] for n, r in runs.items()},
                    "held-out characters never seen in training": {n: r["character unseen share"]
                                                                   for n, r in runs.items()},
                    "BPE ids outside the vocabulary": sum(r["BPE ids outside the vocabulary"] for r in runs.values()),
                    "BPE decodes the held-out text exactly": all(r["BPE round trip exact"] for r in runs.values())},
            plot_data={"runs": runs})

    def checks(self, m: dict) -> list[Check]:
        checks = [Check("vocabulary of 'Alice likes Bob' = seed 003's table", m["vocabulary of 'Alice likes Bob'"],
                        "=", TABLE),
                  Check("ids of 'Alice likes cat'", m["ids of 'Alice likes cat'"], "=", IDS),
                  Check("multi-hot of 'Alice likes cat'", m["multi-hot of 'Alice likes cat' (ids 1–4)"], "=",
                        MULTI_HOT),
                  Check("byte-level BPE: held-out ids outside the vocabulary", m["BPE ids outside the vocabulary"],
                        "=", 0),
                  Check("byte-level BPE decodes the held-out text exactly", m["BPE decodes the held-out text exactly"],
                        "=", True)]
        checks += [Check(f"{name}: share of held-out words that are UNK", m["held-out words that are UNK"][name],
                         ">", 0.0) for name in m["corpora"]]
        return checks

    summary_template = """'Alice likes cat' → ids {m[ids of 'Alice likes cat']}, multi-hot
        {m[multi-hot of 'Alice likes cat' (ids 1–4)]}, as seed 003. The vocabulary of "Alice likes Bob" is
        {m[vocabulary of 'Alice likes Bob']} and "cat" decodes as "{m[decoded]}". On held-out text, a vocabulary of
        the {words:,} most frequent training words leaves {unk} of the words UNK (e.g. {examples}); the characters
        never seen in training are {chars}; byte-level BPE with {bpe:,} tokens encodes every held-out token and
        decodes the text back exactly. {skipped}"""

    def summary_values(self, m: dict) -> dict:
        words, bpe = m["word vocabulary, BPE vocabulary"]
        unk = ", ".join(f"{v:.1%} ({n})" for n, v in m["held-out words that are UNK"].items())
        examples = "; ".join(f"{n}: {', '.join(v[:4])}" for n, v in m["examples of UNK words"].items())
        chars = ", ".join(f"{v:.3%} ({n})" for n, v in m["held-out characters never seen in training"].items())
        skipped = "".join(f"{name}: {reason}. " for name, reason in m["skipped"].items())
        return {"words": words, "bpe": bpe, "unk": unk, "examples": examples, "chars": chars, "skipped": skipped}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        runs = measurement.plot_data["runs"]

        def draw(fig):
            ax = fig.subplots()
            names = list(runs)
            width = 0.25
            bars = (("words (UNK)", "word UNK share"),
                    ("characters (never seen in training)", "character unseen share"),
                    ("byte-level BPE (ids outside the vocabulary)", "BPE unknown share"))
            for k, (label, key) in enumerate(bars):
                xs, heights = [i + k * width for i in range(len(names))], [100 * runs[n][key] for n in names]
                ax.bar(xs, heights, width, label=label)
                for x, h in zip(xs, heights):
                    ax.annotate(f"{h:.3g}%", (x, h), ha="center", va="bottom", fontsize=7)
            ax.set_xticks([i + width for i in range(len(names))], names)
            ax.set(ylabel="held-out tokens that are unknown (%)", title="out of vocabulary on held-out text",
                   ylim=(0, 125))
            ax.legend(fontsize=8)

        return save_figure(ctx, self.id, draw)
