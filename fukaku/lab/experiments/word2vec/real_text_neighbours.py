"""Nearest neighbours of word2vec on real text (tiny-shakespeare, neko.txt) against the neighbours that the texts'
co-occurrence counts give (seed 003: words used alike get similar vectors)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fukaku.text.word2vec import PAD, Word2Vec, text_sentences, window_matrix

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ..recurrent.char_language_model import find_corpora

QUICK = {"characters": {"neko": 150_000}, "default characters": 600_000, "epochs": 3, "vector_size": 50,
         "japanese tokens": "char"}
FULL = {"characters": {}, "default characters": None, "epochs": 5, "vector_size": 100,
        "japanese tokens": "unigram:4000"}
WINDOW, MIN_COUNT, K, PROBES, CANDIDATES = 5, 5, 10, 300, 2000
SHOW = {"tiny-shakespeare": ["king", "thou", "romeo", "father", "love", "night"],
        "neko": ["猫", "主人", "人間", "吾", "先生", "妻"], "Python help topics": ["list", "class", "return", "true"]}
# the measured values, per corpus: report label → key of neighbours()'s result
PER_CORPUS = {"tokens": "tokens", "vocabulary": "vocabulary", "corpus tokens": "corpus tokens",
              "overlap@10 with PPMI neighbours": "overlap", "overlap@10, untrained vectors": "untrained overlap",
              "chance overlap@10": "chance", "candidate neighbours": "candidates",
              "training loss, first → last epoch": "loss", "words per second": "words/s",
              "nearest neighbours": "neighbours", "nearest neighbours by PPMI counting": "counted neighbours"}
SMOOTHING = 0.75  # context-distribution smoothing of the PPMI baseline (Levy, Goldberg & Dagan 2015): SGNS's 0.75


def sentences_of(name: str, text: str, config: dict) -> tuple[list[list[str]], str]:
    """The text as sentences of tokens: English words per paragraph; Japanese (no spaces) as characters or subword
    pieces of a tokenizer trained on it, per line, white space dropped."""
    if name != "neko":
        return text_sentences(text, "words"), "lower-cased words"
    spec = config["japanese tokens"]
    return text_sentences(text, spec), "characters" if spec == "char" else f"{spec.replace(':', ' pieces (')})"


def ppmi_unit_rows(model: Word2Vec, sentences: list[list[str]], rows: int) -> np.ndarray:
    """The ``rows`` most frequent words' rows of positive pointwise mutual information with every word within
    ``WINDOW`` of them (the contexts' counts smoothed to the 0.75 power), scaled to length 1: distributional vectors
    from counting, no training."""
    ids, sentence_ids = model.vocabulary.encode(sentences)
    v = len(model)
    contexts = window_matrix(ids, WINDOW, sentence_ids)
    real = contexts != PAD
    centres = np.broadcast_to(ids[:, None], contexts.shape)[real]
    context_counts = np.bincount(contexts[real], minlength=v).astype(np.float64) ** SMOOTHING
    kept = centres < rows                                              # ids are in order of frequency
    counts = np.bincount(centres[kept] * v + contexts[real][kept], minlength=rows * v).reshape(rows, v)
    totals = np.bincount(centres, minlength=v)[:rows].astype(np.float64)
    with np.errstate(divide="ignore"):
        pmi = np.log(counts * (context_counts.sum() / context_counts)[None, :] / totals[:, None])
    ppmi = np.where(counts > 0, np.maximum(pmi, 0), 0).astype(np.float32)
    norms = np.linalg.norm(ppmi, axis=1, keepdims=True)
    return ppmi / np.where(norms > 0, norms, 1)


def top_k(unit: np.ndarray, probes: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` nearest rows (cosine) to each probe row, the probe itself left out: ``(len(probes), k)`` sets."""
    sims = unit[probes] @ unit.T
    sims[np.arange(len(probes)), probes] = -np.inf
    return np.argpartition(-sims, k, axis=1)[:, :k]


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Mean share of the k neighbours two methods agree on, over the probes."""
    k = a.shape[1]
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(a.tolist(), b.tolist())]))


def neighbours(name: str, text: str, config: dict, seed: int) -> dict:
    """Train skip-gram on ``text`` and compare its nearest neighbours with those of PPMI rows of the same text."""
    sentences, tokens = sentences_of(name, text, config)
    model = Word2Vec(sentences, vector_size=config["vector_size"], window=WINDOW, min_count=MIN_COUNT,
                     epochs=config["epochs"], seed=seed)
    untrained = Word2Vec(vector_size=config["vector_size"], min_count=MIN_COUNT, seed=seed).build_vocab(sentences)
    rows = min(CANDIDATES, len(model))                            # neighbours among the most frequent words
    counted = ppmi_unit_rows(model, sentences, rows)
    probes = np.arange(min(PROBES, rows))
    mine = top_k(model.unit_vectors()[:rows], probes, K)
    theirs = top_k(counted, probes, K)
    shown = [w for w in SHOW.get(name, []) if w in model][:4] or model.words[20:23]
    return {"tokens": tokens, "vocabulary": len(model), "candidates": rows, "corpus tokens": int(model.counts.sum()),
            "words/s": model.words_per_second, "loss": [model.losses[0], model.losses[-1]],
            "overlap": overlap(mine, theirs),
            "untrained overlap": overlap(top_k(untrained.unit_vectors()[:rows], probes, K), theirs),
            "chance": K / (rows - 1),
            "neighbours": {w: [x for x, _ in model.most_similar(w, 5)] for w in shown},
            "counted neighbours": {w: [model.words[j] for j in np.argsort(-(counted @ counted[model.index[w]]))[1:6]]
                                   for w in shown if model.index[w] < rows}}


class RealTextNeighbours(Experiment, id="word2vec-neighbours", source="seed 003 (word2vec), Mikolov et al. 2013"):
    """On real text, word2vec's nearest neighbours are the words used in the same contexts.

    Seed 003: predicting words from their neighbours gives vectors whose closeness reflects how words are used.
    Measured on tiny-shakespeare (words) and neko.txt (characters in the quick run, unigram subword pieces in the
    full run): the 10 nearest neighbours (cosine) of the 300 most frequent words after skip-gram training share at
    least 5 times the chance share with the 10 nearest neighbours by counting — rows of positive pointwise mutual
    information within the same window (Levy & Goldberg 2014: skip-gram with negative sampling factorises shifted
    PMI) — while untrained vectors share no more than 3 times chance. Neighbours are sought among the 2,000 most
    frequent words.
    """

    def measure(self, ctx: Context) -> Measurement:
        config = QUICK if ctx.quick else FULL
        texts, skipped = find_corpora()
        cuts = {name: config["characters"].get(name, config["default characters"]) for name in texts}
        runs = {name: neighbours(name, text[:cuts[name]], config, ctx.seed) for name, text in texts.items()}
        return Measurement(
            values={"corpora": list(runs), "skipped": skipped,
                    "characters used per corpus": {n: cut or "all" for n, cut in cuts.items()},
                    **{label: {n: r[key] for n, r in runs.items()} for label, key in PER_CORPUS.items()}},
            plot_data={"runs": runs})

    def checks(self, m: dict) -> list[Check]:
        checks = []
        for n in m["corpora"]:
            chance = m["chance overlap@10"][n]
            checks += [Check(f"{n}: overlap@10 with PPMI neighbours / chance", m["overlap@10 with PPMI neighbours"][n]
                             / chance, "≥", 5.0),
                       Check(f"{n}: untrained vectors' overlap@10 / chance", m["overlap@10, untrained vectors"][n]
                             / chance, "≤", 3.0),
                       Check(f"{n}: training loss, last epoch / first", m["training loss, first → last epoch"][n][1]
                             / m["training loss, first → last epoch"][n][0], "<", 1.0)]
        return checks

    summary_template = """Neighbours shared with PPMI counting: {headline}. In full: {overlaps}; untrained
        vectors share {untrained}. Nearest neighbours: {shown}. By counting: {counted}. {skipped}"""

    def summary_values(self, m: dict) -> dict:
        chance = m["chance overlap@10"]
        return {"overlaps": ", ".join(f"{v:.0%} ({v / chance[n]:.0f}× chance, {n})"
                                      for n, v in m["overlap@10 with PPMI neighbours"].items()),
                "untrained": ", ".join(f"{v:.1%}" for v in m["overlap@10, untrained vectors"].values()),
                "headline": ", ".join(f"{v / chance[n]:.0f}×" for n, v in m["overlap@10 with PPMI neighbours"].items())
                + f" chance ({', '.join(m['corpora'])})",
                "counted": "; ".join(f"{w} → {' '.join(near)}"
                                     for runs in m["nearest neighbours by PPMI counting"].values()
                                     for w, near in runs.items()),
                "shown": "; ".join(f"{w} → {' '.join(near)}" for runs in m["nearest neighbours"].values()
                                   for w, near in runs.items()),
                "skipped": "".join(f"{name}: {reason}. " for name, reason in m["skipped"].items())}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        runs = measurement.plot_data["runs"]

        def draw(fig):
            ax = fig.subplots()
            names = list(runs)
            bars = (("word2vec (trained)", "overlap"), ("untrained vectors", "untrained overlap"), ("chance", "chance"))
            for k, (label, key) in enumerate(bars):
                xs = [i + 0.25 * k for i in range(len(names))]
                ax.bar(xs, [100 * runs[n][key] for n in names], 0.25, label=label)
            ax.set_xticks([i + 0.25 for i in range(len(names))], names)
            ax.set(ylabel="shared nearest neighbours with PPMI counting (%)",
                   title=f"top-{K} neighbours of the {PROBES} most frequent words")
            ax.legend(fontsize=8)

        return save_figure(ctx, self.id, draw)
