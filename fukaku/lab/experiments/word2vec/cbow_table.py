"""Seed 003's CBOW table: the windows of its example sentence, generated, against the table it prints."""
from __future__ import annotations

from pathlib import Path

from fukaku.text.word2vec import NA, context_windows, skipgram_pairs, tokenize

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

SENTENCE = ("Word2vec is a technique in natural language processing (NLP) for obtaining vector representations of "
            "words.")
WINDOW = 2
# seed 003's table as printed (周辺単語(入力) | 疑似ラベル), its first five rows ("以下同様のため省略": the rest omitted)
PRINTED = [(["NA", "NA", "is", "a"], "word2ec"),
           (["NA", "word2vec", "a", "technique"], "is"),
           (["word2vec", "is", "technique", "in"], "a"),
           (["is", "a", "in", "natural"], "technique"),
           (["a", "technique", "natural", "language"], "in")]
# the one printed cell that is a typo: row 1's label "word2ec" is the sentence's first word, "word2vec" (the
# sentence and rows 2 and 3 of the same table spell it word2vec)
ERRATA = {(0, "label"): ("word2ec", "word2vec")}


def cells(rows: list[tuple[list[str], str]]) -> dict[tuple[int, str], str]:
    """A table's cells by (row, column): columns ``context 1`` … ``context 4`` and ``label``."""
    out = {}
    for r, (context, label) in enumerate(rows):
        out |= {(r, f"context {j + 1}"): word for j, word in enumerate(context)}
        out[(r, "label")] = label
    return out


def compare(generated: list[tuple[list[str], str]]) -> dict:
    """Cell-by-cell comparison of the generated windows with the printed table (its rows only)."""
    mine, printed = cells(generated[:len(PRINTED)]), cells(PRINTED)
    differ = sorted(key for key in printed if mine.get(key) != printed[key])
    errata = [key for key in differ if key in ERRATA and mine.get(key) == ERRATA[key][1]]
    return {"cells": len(printed), "equal": len(printed) - len(differ), "errata": errata,
            "other differences": [(key, mine.get(key), printed[key]) for key in differ if key not in errata]}


class CbowTable(Experiment, id="word2vec-cbow-table", source="seed 003 (word2vec: CBOW example)"):
    """Seed 003's CBOW table is what a window of 2 generates.

    Seed 003 makes word2vec's pseudo-labels from raw text: for "Word2vec is a technique in natural language
    processing (NLP) for obtaining vector representations of words." (lower-cased) with window size 2, CBOW takes the
    two words on each side as the input and the centre word as the label, NA past the ends: [NA, NA, is, a] →
    word2vec; [NA, word2vec, a, technique] → is; [word2vec, is, technique, in] → a; [is, a, in, natural] →
    technique; [a, technique, natural, language] → in (the rest omitted). Skip-gram reads the same pairs the other
    way: centre → each context word.
    """

    def measure(self, ctx: Context) -> Measurement:
        tokens = tokenize(SENTENCE)
        rows = context_windows(tokens, WINDOW)
        result = compare(rows)
        index = {t: i for i, t in enumerate(dict.fromkeys(tokens))}
        centres, contexts = skipgram_pairs([index[t] for t in tokens], WINDOW)
        skipgram = sorted(zip(centres.tolist(), contexts.tolist()))
        cbow = sorted((index[label], index[w]) for context, label in rows for w in context if w != NA)
        return Measurement(
            values={"tokens": len(tokens), "rows generated": len(rows),
                    "generated rows shown by seed 003": [f"[{', '.join(c)}] → {label}" for c, label in rows[:5]],
                    "printed cells": result["cells"], "cells equal to the printed table": result["equal"],
                    "printed typos (cell → corrected)": {f"row {r + 1} {col}": f"{ERRATA[(r, col)][0]} → "
                                                         f"{ERRATA[(r, col)][1]}" for r, col in result["errata"]},
                    "cells that differ otherwise": len(result["other differences"]),
                    "NA slots": sum(c.count(NA) for c, _ in rows),
                    "skip-gram pairs": len(skipgram),
                    "skip-gram pairs = CBOW pairs reversed": skipgram == cbow},
            plot_data={"rows": rows[:len(PRINTED)], "differ": result["errata"] + [k for k, _, _ in
                                                                                 result["other differences"]]})

    def checks(self, m: dict) -> list[Check]:
        return [Check("printed cells the generated table reproduces, apart from the seed's typos",
                      m["cells equal to the printed table"] + len(m["printed typos (cell → corrected)"]), "=",
                      m["printed cells"]),
                Check("cells that differ from the printed table other than a known typo",
                      m["cells that differ otherwise"], "=", 0),
                Check("one row per word", m["rows generated"], "=", m["tokens"]),
                Check("NA slots (2 + 1 at each end of a 15-word sentence)", m["NA slots"], "=", 2 * (1 + 2)),
                Check("skip-gram pairs (4 per word less the NA slots)", m["skip-gram pairs"], "=",
                      4 * m["tokens"] - m["NA slots"]),
                Check("skip-gram pairs are the CBOW pairs reversed", m["skip-gram pairs = CBOW pairs reversed"], "=",
                      True)]

    summary_template = """{m[cells equal to the printed table]} of {m[printed cells]} printed cells match; the
        other is the seed's typo {typos}. Generated: {rows}; {m[rows generated]} rows in all, one per word, with
        {m[NA slots]} NA slots ({where}); skip-gram's {m[skip-gram pairs]} pairs are the same pairs reversed."""

    def summary_values(self, m: dict) -> dict:
        typos = m["printed typos (cell → corrected)"]
        return {"typos": ", ".join(typos.values()) or "(none)", "where": ", ".join(typos) or "no typo",
                "rows": "; ".join(m["generated rows shown by seed 003"])}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        rows, differ = measurement.plot_data["rows"], set(measurement.plot_data["differ"])

        def draw(fig):
            ax = fig.subplots()
            ax.axis("off")
            text = [[", ".join(c), label] for c, label in rows]
            table = ax.table(cellText=text, colLabels=["context (input), window 2", "centre (pseudo-label)"],
                             loc="center", cellLoc="center")
            table.scale(1, 1.6)
            for (r, col), cell in table.get_celld().items():
                if r > 0 and col == 1 and (r - 1, "label") in differ:
                    cell.set_facecolor("#ffe0b0")
            ax.set_title("seed 003's CBOW table, generated (orange: the printed cell is a typo)", fontsize=9)

        return save_figure(ctx, self.id, draw, figsize=(6.4, 2.8))
