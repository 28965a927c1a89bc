"""Analogies by vector offsets (b − a + c) on a corpus whose relations are planted by rule (seed 003: Paris − France +
Italy ≈ Rome)."""
from __future__ import annotations

from itertools import permutations
from pathlib import Path

import numpy as np

from fukaku.text.word2vec import Word2Vec

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

# two relations, each a set of word pairs (x, y) that differ by the same attribute
GENDER = [("king", "queen"), ("man", "woman"), ("prince", "princess"), ("boy", "girl"), ("father", "mother"),
          ("son", "daughter"), ("uncle", "aunt"), ("brother", "sister")]
CAPITAL = [("france", "paris"), ("italy", "rome"), ("japan", "tokyo"), ("germany", "berlin"), ("spain", "madrid"),
           ("egypt", "cairo"), ("china", "beijing"), ("russia", "moscow")]
RELATIONS = {"gender (man : woman)": GENDER, "capital (country : city)": CAPITAL}
# the attribute contexts: what every word on one side of a relation shares with the others on its side
SIDES = {"gender (man : woman)": (["he", "him", "his", "himself", "mr", "sir", "lad", "fellow"],
                                 ["she", "her", "hers", "herself", "mrs", "madam", "lass", "lady"]),
         "capital (country : city)": (["nation", "border", "flag", "citizens", "republic", "province", "army",
                                       "export"],
                                      ["city", "mayor", "streets", "metro", "downtown", "suburb", "traffic",
                                       "avenue"])}
# how many words each pair's topic has (the pair shares them: "crown" for king and queen) and how many of its side's
# words a relation uses: with many topic words and few side words the pair's two words are each other's nearest
# neighbours; with one topic word and eight side words, the words of the same side are nearer
CORPORA = {"8 topic words per pair, 4 side words": (8, 4), "1 topic word per pair, 8 side words": (1, 8)}
SIDE_CORPUS = "1 topic word per pair, 8 side words"   # where c's nearest words are its side's, not its partner
FILLER = 50           # unrelated words that pad every sentence
QUICK = {"sentences": 12_000, "epochs": 4, "vector_size": 32}
FULL = {"sentences": 60_000, "epochs": 5, "vector_size": 64}


def planted_corpus(sentences: int, topics: int, sides: int, rng: np.random.Generator) -> list[list[str]]:
    """Sentences of five words around one word of a relation: two contexts of its side of the relation (its
    attribute: "he" for man, "city" for Rome), one context of its pair's topic (shared by the two words of the pair),
    and a filler word, shuffled; the word itself in the middle. Nothing else links the words: whatever analogies the
    vectors answer come from these co-occurrences alone."""
    words, side_of, topic_of = [], [], []
    for r, (name, pairs) in enumerate(RELATIONS.items()):
        for p, pair in enumerate(pairs):
            for s, word in enumerate(pair):
                words.append(word)
                side_of.append((name, s))
                topic_of.append(f"{name.split()[0]}{p}")
    side_words = {(name, s): SIDES[name][s][:sides] for name in RELATIONS for s in (0, 1)}
    pick = rng.integers(len(words), size=sentences)
    att = rng.integers(sides, size=(sentences, 2))
    top = rng.integers(topics, size=sentences)
    fill = rng.integers(FILLER, size=sentences)
    order = rng.permuted(np.tile(np.arange(4), (sentences, 1)), axis=1)
    out = []
    for i, w, (a0, a1), t, f, o in zip(range(sentences), pick, att, top, fill, order):   # builds the corpus text
        side = side_words[side_of[w]]
        around = [side[a0], side[a1], f"{topic_of[w]}_{t}", f"filler{f}"]
        around = [around[j] for j in o]
        out.append(around[:2] + [words[w]] + around[2:])
    return out


def questions() -> list[tuple[str, str, str, str, str]]:
    """Every question "a : b :: c : d" within a relation, both directions: (relation, a, b, c, d)."""
    out = []
    for name, pairs in RELATIONS.items():
        for (a, b), (c, d) in permutations(pairs, 2):
            out += [(name, a, b, c, d), (name, b, a, d, c)]
    return out


def answer_rate(model: Word2Vec, qs, offset: bool) -> float:
    """Share of questions answered right: the nearest word to b − a + c (``offset``), or to c alone, leaving out
    a, b and c."""
    right = 0
    for _, a, b, c, d in qs:
        guess = model.analogy(a, b, c)[0][0] if offset else next(w for w, _ in model.most_similar(c, 4)
                                                                   if w not in (a, b))
        right += guess == d
    return right / len(qs)


class PlantedAnalogies(Experiment, id="word2vec-analogies", source="seed 003 (word2vec: Paris − France + Italy)"):
    """Vector offsets answer analogies: b − a + c lands on d.

    Seed 003: word2vec learns, from the task of predicting words from their neighbours alone, vectors in which
    "Paris − France + Italy ≈ Rome": relations become offsets although nobody programmed "capital" or "country".
    Measured on corpora where two relations are planted by rule (8 gender pairs such as king/queen, 8
    country/capital pairs such as france/paris: each word co-occurs with its side's words — he/his or she/her,
    nation/border or city/mayor — and with its pair's topic words): skip-gram with negative sampling answers at least
    90% of the 224 questions "a : b :: c : ?" with the word nearest to b − a + c (a, b, c left out), on a corpus
    where each pair has 8 topic words and each side 4 words, and on one with 1 topic word per pair and 8 side words.
    On the second the words of c's side are nearer to c than its partner, so the offset is what finds d: the word
    nearest to c alone answers at most half of the questions there. Untrained vectors answer at chance.
    """

    def measure(self, ctx: Context) -> Measurement:
        config = QUICK if ctx.quick else FULL
        qs = questions()
        offset, alone, by_relation, models = {}, {}, {}, {}
        for k, (name, (topics, sides)) in enumerate(CORPORA.items()):
            corpus = planted_corpus(config["sentences"], topics, sides, ctx.rng(k))
            model = Word2Vec(corpus, vector_size=config["vector_size"], window=2, min_count=1, sample=0,
                             epochs=config["epochs"], seed=ctx.seed)
            offset[name], alone[name] = answer_rate(model, qs, True), answer_rate(model, qs, False)
            by_relation[name] = {r: answer_rate(model, [q for q in qs if q[0] == r], True) for r in RELATIONS}
            models[name] = model
        untrained = Word2Vec(vector_size=config["vector_size"], min_count=1, seed=ctx.seed).build_vocab(corpus)
        shown = (qs[0], qs[1], qs[2 * len(GENDER) * (len(GENDER) - 1)])
        return Measurement(
            values={"questions": len(qs), "corpus words": sum(map(len, corpus)), "epochs": config["epochs"],
                    "vector size": config["vector_size"],
                    "accuracy of b − a + c": offset, "accuracy by relation": by_relation,
                    "accuracy of the nearest word to c alone": alone,
                    "accuracy of b − a + c, untrained vectors": answer_rate(untrained, qs, True),
                    "chance (1 / (words − 3))": 1 / (len(untrained) - 3),
                    "examples": {f"{a} : {b} :: {c} : ?": model.analogy(a, b, c)[0][0] for _, a, b, c, _ in shown},
                    "training loss, first → last epoch": [model.losses[0], model.losses[-1]]},
            plot_data={"model": models[next(iter(CORPORA))]})

    def checks(self, m: dict) -> list[Check]:
        checks = []
        for name in CORPORA:
            checks += [Check(f"{name}: accuracy of b − a + c", m["accuracy of b − a + c"][name], "≥", 0.9),
                       *(Check(f"{name}: accuracy of b − a + c, {r}", v, "≥", 0.8)
                         for r, v in m["accuracy by relation"][name].items())]
        return checks + [Check(f"{SIDE_CORPUS}: accuracy of the nearest word to c alone",
                               m["accuracy of the nearest word to c alone"][SIDE_CORPUS], "≤", 0.5),
                         Check("accuracy of untrained vectors (≤ 5 × chance)",
                               m["accuracy of b − a + c, untrained vectors"], "≤", 5 * m["chance (1 / (words − 3))"])]

    summary_template = """b − a + c answers {offset} of {m[questions]} planted analogies; c alone {alone}. (On the
        corpora with {corpora}.) By relation: {relations}; untrained vectors answer
        {m[accuracy of b − a + c, untrained vectors]:.1%} (chance {m[chance (1 / (words − 3))]:.1%}). Examples: {examples}. Skip-gram with negative sampling,
        {m[vector size]} dimensions, {m[epochs]} epochs over {m[corpus words]:,} words per corpus."""

    def summary_values(self, m: dict) -> dict:
        def both(d):
            return " / ".join(f"{v:.0%}" for v in d.values())

        return {"offset": both(m["accuracy of b − a + c"]), "alone": both(m["accuracy of the nearest word to c alone"]),
                "relations": "; ".join(f"{c}: " + ", ".join(f"{r.split()[0]} {v:.0%}" for r, v in d.items())
                                       for c, d in m["accuracy by relation"].items()),
                "examples": "; ".join(f"{q} {a}" for q, a in m["examples"].items()),
                "corpora": " / ".join(m["accuracy of b − a + c"])}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        model = measurement.plot_data["model"]

        def draw(fig):
            axes = fig.subplots(1, 2)
            for ax, (name, pairs) in zip(axes, RELATIONS.items()):
                unit = model.unit_vectors()
                rows = np.array([[model.index[x], model.index[y]] for x, y in pairs])
                points = unit[rows.reshape(-1)]
                centred = points - points.mean(axis=0)
                _, _, vt = np.linalg.svd(centred, full_matrices=False)
                xy = (centred @ vt[:2].T).reshape(len(pairs), 2, 2)
                for (x, y), (p, q) in zip(pairs, xy):
                    ax.annotate("", q, p, arrowprops=dict(arrowstyle="->", color="tab:blue", alpha=0.6))
                    ax.text(*p, x, fontsize=7)
                    ax.text(*q, y, fontsize=7, color="tab:red")
                ax.scatter(xy[:, :, 0].ravel(), xy[:, :, 1].ravel(), s=4, color="gray")
                ax.set(title=f"{name}: pairs in their top 2 principal directions", xticks=[], yticks=[])
                ax.title.set_fontsize(8)

        return save_figure(ctx, self.id, draw, figsize=(9, 4))
