"""``fukaku word2vec train|similar``: train word vectors on a text file and query them.

    fukaku word2vec train --data PATH [--tokens words|char|unigram:4000] [--arch sg|cbow] [--loss ns|hs] --out m.w2v
    fukaku word2vec similar --model m.w2v WORD [WORD ...] [-k 10]        (the nearest words of each WORD)
    fukaku word2vec similar --model m.w2v --analogy A B C [-k 5]         (the words nearest to B − A + C)

The parser is added to the ``fukaku`` command by :func:`add_parser` (through :mod:`fukaku.text.cli`); errors are one
line on stderr with exit status 1 (a bad file, an unknown word) or 2 (a bad combination of options).
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from ..datasets.text import MAX_TEXT_BYTES, _read_text
from .cli import _missing, _usage_error
from .word2vec import Word2Vec, text_sentences

NEGATIVE = 5   # noise words per pair, as word2vec.c

EXAMPLES = ("Examples: fukaku word2vec train --data ../shared/data/text/tinyshakespeare.txt --out shakespeare.w2v; "
            "fukaku word2vec similar --model shakespeare.w2v king thou; fukaku word2vec similar --model "
            "shakespeare.w2v --analogy man king woman; fukaku word2vec train --data ../shared/data/text/neko.txt "
            "--tokens unigram:4000 --out neko.w2v")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``word2vec`` (with ``train`` and ``similar``) to the subcommands ``sub`` of ``fukaku``."""
    p = sub.add_parser("word2vec", help="train word vectors (skip-gram or CBOW) on a text file, query neighbours",
                       description="Train word2vec (fukaku.text.word2vec) on a UTF-8 text file and save the model, "
                       "or print the nearest words and analogies of a saved one.", epilog=EXAMPLES)
    wsub = p.add_subparsers(dest="word2vec_command", metavar="{train,similar}")
    t = wsub.add_parser("train", help="train a model on a text file and save it", epilog=EXAMPLES,
                        description="Train on the UTF-8 text file --data and write the model, atomically, to --out "
                        "(fukaku.save's checked .npz: Word2Vec.load reads it). Prints the vocabulary, the speed and "
                        "the loss of each epoch.")
    t.add_argument("--data", required=True, metavar="PATH", help="a UTF-8 text file")
    t.add_argument("--tokens", default="words", metavar="KIND",
                   help="words (lower-cased words per paragraph, the default), char, or a tokenizer spec such as "
                   "unigram:4000 or bpe:2000 trained on the text (for text without spaces: Japanese)")
    t.add_argument("--arch", choices=("sg", "cbow"), default="sg", help="skip-gram (default) or CBOW")
    t.add_argument("--loss", choices=("ns", "hs"), default="ns",
                   help="negative sampling (default) or hierarchical softmax")
    t.add_argument("--dim", type=int, default=100, help="vector size (100)")
    t.add_argument("--window", type=int, default=5, help="largest context distance (5)")
    t.add_argument("--min-count", type=int, default=5, help="drop words seen fewer times (5)")
    t.add_argument("--negative", type=int, default=None, help=f"noise words per pair with --loss ns ({NEGATIVE})")
    t.add_argument("--sample", type=float, default=1e-3, help="subsampling threshold of frequent words (1e-3; 0: off)")
    t.add_argument("--epochs", type=int, default=5, help="passes over the text (5)")
    t.add_argument("--alpha", type=float, default=None, help="starting learning rate (0.025 sg, 0.05 cbow)")
    t.add_argument("--workers", type=int, default=1, help="training threads (1)")
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--out", required=True, metavar="PATH", help="the model file to write")
    t.set_defaults(handler=cmd_train)

    s = wsub.add_parser("similar", help="print the nearest words of words, or an analogy", epilog=EXAMPLES,
                        description="Print the -k words nearest (cosine) to each WORD, or with --analogy A B C the "
                        "words nearest to B − A + C (\"A is to B as C is to ?\"), from a saved model.")
    s.add_argument("--model", required=True, metavar="PATH", help="a file written by `fukaku word2vec train`")
    s.add_argument("words", nargs="*", metavar="WORD")
    s.add_argument("--analogy", nargs=3, metavar=("A", "B", "C"))
    s.add_argument("-k", type=int, default=10, help="how many words to print (10)")
    s.set_defaults(handler=cmd_similar)
    p.set_defaults(handler=lambda args: _missing(p))
    return p


def cmd_train(args) -> int:
    if args.loss == "hs" and args.negative is not None:
        raise _usage_error("--negative applies to --loss ns only")
    text = _read_text(Path(args.data), MAX_TEXT_BYTES)
    start = time.perf_counter()
    sentences = text_sentences(text, args.tokens)
    model = Word2Vec(vector_size=args.dim, window=args.window, min_count=args.min_count, sg=args.arch == "sg",
                     hs=args.loss == "hs", negative=0 if args.loss == "hs" else (NEGATIVE if args.negative is None else args.negative), sample=args.sample,
                     alpha=args.alpha, epochs=args.epochs, seed=args.seed, workers=args.workers)
    model.build_vocab(sentences)
    model.train(sentences)
    model.save(args.out)
    losses = " ".join(f"{x:.3f}" for x in model.losses)
    print(f"{model!r}: {int(model.counts.sum()):,} corpus tokens, {args.epochs} epochs in "
          f"{time.perf_counter() - start:.1f} s ({model.words_per_second:,.0f} words/s); loss per epoch {losses}; "
          f"saved to {os.fspath(args.out)}")
    return 0


def cmd_similar(args) -> int:
    if bool(args.words) == bool(args.analogy):
        raise _usage_error("give WORDs or --analogy A B C (one of the two)")
    if args.k < 1:
        raise _usage_error(f"-k must be at least 1, got {args.k}")
    model = Word2Vec.load(args.model)
    queries = [(" ".join(args.analogy[1:2]) + " − " + args.analogy[0] + " + " + args.analogy[2],
                lambda: model.analogy(*args.analogy, k=args.k))] if args.analogy else \
        [(w, lambda w=w: model.most_similar(w, k=args.k)) for w in args.words]
    for label, query in queries:
        try:
            near = query()
        except KeyError as e:
            raise ValueError(e.args[0]) from None
        print(f"{label}: " + ", ".join(f"{w} {s:.3f}" for w, s in near))
    return 0
