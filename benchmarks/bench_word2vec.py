"""word2vec training speed in words per second (issue 13: ≥ 100k words/s for skip-gram with negative sampling).

Trains :class:`fukaku.text.word2vec.Word2Vec` on tiny-shakespeare (lower-cased words per paragraph; ~200k words,
3,323 kept at min_count 5) — or, when the shared data is absent, on a synthetic corpus of the same size drawn from a
Zipf law — and reports, per configuration, the median over ``--repeats`` runs of one epoch each (a fresh model every
run, the vocabulary built outside the timing):

* words/s as word2vec.c counts them: corpus words of the vocabulary per second, before subsampling;
* effective words/s: the centre words left after subsampling (``sample=1e-3``), per second;
* the mean loss per scored output of the epoch (a sanity check that the run trained).

Configurations: ``sgns`` (skip-gram, negative sampling, the target), ``cbow-ns``, ``sg-hs`` (hierarchical softmax),
``cbow-hs``; all with word2vec.c's defaults (100 dimensions, window 5, 5 noise words, ``sample=1e-3``). gensim is
not compared (not a dependency). NumPy's BLAS threads are set by ``--threads`` (2 by default, the machine's cores).

Usage: ``python benchmarks/bench_word2vec.py [--repeats 5] [--threads 2] [--case sgns] [--batch-words 1024]
[--workers 1]`` (``--workers 2``: two Hogwild threads, :class:`Word2Vec`'s ``workers``).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEXT = os.path.join(ROOT, "..", "shared", "data", "text", "tinyshakespeare.txt")
CASES = {"sgns": dict(sg=True, hs=False, negative=5), "cbow-ns": dict(sg=False, hs=False, negative=5),
         "sg-hs": dict(sg=True, hs=True, negative=0), "cbow-hs": dict(sg=False, hs=True, negative=0)}
TARGET = 100_000


def corpus() -> tuple[list[list[str]], str]:
    """tiny-shakespeare's paragraphs as lower-cased words, or a Zipf-distributed stand-in of the same size."""
    from fukaku.text.word2vec import tokenize

    path = os.environ.get("FUKAKU_DATA")
    path = os.path.join(path, "text", "tinyshakespeare.txt") if path else TEXT
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as fh:
            return [tokenize(p) for p in fh.read().split("\n\n")], "tiny-shakespeare"
    rng = np.random.default_rng(0)
    words = rng.zipf(1.1, 200_000) % 20_000
    return [[f"w{w}" for w in words[i:i + 28]] for i in range(0, words.size, 28)], "synthetic Zipf corpus (no data)"


def run_case(sentences, options: dict, batch_words: int, seed: int, workers: int = 1) -> tuple[float, float, float]:
    """One epoch of a fresh model: (words/s as word2vec.c counts, effective words/s after subsampling, loss)."""
    from fukaku.text.word2vec import Word2Vec

    model = Word2Vec(vector_size=100, window=5, min_count=5, epochs=1, seed=seed, batch_words=batch_words,
                     workers=workers, **options)
    model.build_vocab(sentences)
    ids, _ = model.vocabulary.encode(sentences)
    kept = float((model._keep[ids]).sum())                      # expected centre words left after subsampling
    start = time.perf_counter()
    model.train(sentences, epochs=1)
    seconds = time.perf_counter() - start
    return ids.size / seconds, kept / seconds, model.losses[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads")
    parser.add_argument("--case", choices=[*CASES, "all"], default="all")
    parser.add_argument("--batch-words", type=int, default=1024)
    parser.add_argument("--workers", type=int, default=1, help="Hogwild training threads")
    args = parser.parse_args()
    from fukaku.ops._parallel import blas_threads

    sentences, name = corpus()
    print(f"# {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, NumPy {np.__version__}, "
          f"{args.threads} BLAS threads; corpus: {name}, {sum(map(len, sentences)):,} words; "
          f"batch_words {args.batch_words}, {args.workers} worker(s); medians of {args.repeats} one-epoch runs")
    print(f"{'case':10} {'words/s':>10} {'effective/s':>12} {'loss':>7}  target")
    cases = list(CASES) if args.case == "all" else [args.case]
    with blas_threads(args.threads):
        for case in cases:
            runs = [run_case(sentences, CASES[case], args.batch_words, seed, args.workers)
                    for seed in range(args.repeats)]
            wps, eff, loss = (statistics.median(r[i] for r in runs) for i in range(3))
            verdict = (f"≥ {TARGET:,}: {'met' if wps >= TARGET else 'NOT met'}") if case == "sgns" else ""
            print(f"{case:10} {wps:10,.0f} {eff:12,.0f} {loss:7.3f}  {verdict}")


if __name__ == "__main__":
    main()
