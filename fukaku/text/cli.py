"""``fukaku tokenizer train|encode|decode``: train a tokenizer on a text file, save it, and use it.

    fukaku tokenizer train --data PATH --kind bpe --vocab-size 4000 --out tok.json
    fukaku tokenizer encode --tokenizer tok.json [TEXT | --file PATH]     (prints the ids, space-separated)
    fukaku tokenizer decode --tokenizer tok.json [IDS...]                 (prints the text)

Without TEXT or --file, ``encode`` reads standard input; without IDS, ``decode`` reads the ids from
standard input (separated by spaces, commas or newlines), so ``encode | decode`` round-trips. The parser
is added to the ``fukaku`` command by :func:`add_parser`; errors are one line on stderr with exit status
1 (a bad file, an id outside the vocabulary) or 2 (a bad combination of options).
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

from ..datasets.text import MAX_TEXT_BYTES, _read_text
from .base import KINDS
from .io import load, train_tokenizer

EXAMPLES = ("Examples: fukaku tokenizer train --data ../shared/data/text/tinyshakespeare.txt --kind bpe --vocab-size "
            "4000 --out tok.json; fukaku tokenizer encode --tokenizer tok.json 'To be, or not to be'; fukaku tokenizer "
            "decode --tokenizer tok.json 398 304 44")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``tokenizer`` (with ``train``, ``encode``, ``decode``) to the subcommands ``sub`` of ``fukaku``."""
    p = sub.add_parser("tokenizer", help="train a tokenizer (char, words, BPE, WordPiece, unigram), encode, decode",
                       description="Train a tokenizer of fukaku.text on a UTF-8 text file and save it as JSON, or "
                       "encode text to ids and decode ids to text with a saved one (read as data only: nothing in "
                       "the file is executed).", epilog=EXAMPLES)
    tsub = p.add_subparsers(dest="tokenizer_command", metavar="{train,encode,decode}")

    t = tsub.add_parser("train", help="train a tokenizer on a text file and save it",
                        description="Train a tokenizer on the UTF-8 text file --data and write it, atomically, to "
                        "--out (JSON; fukaku.text.load reads it). Prints the vocabulary size, the training time and "
                        "the characters per token on the training text.", epilog=EXAMPLES)
    t.add_argument("--data", required=True, metavar="PATH", help="a UTF-8 text file")
    t.add_argument("--kind", required=True, choices=tuple(KINDS), help="char (every character a token), words "
                   "(whitespace words + UNK), bpe (byte-level BPE as GPT-2), wordpiece (BERT), unigram "
                   "(SentencePiece, ▁ marks spaces)")
    t.add_argument("--vocab-size", type=int, default=None, metavar="N",
                   help="the vocabulary size, special and byte tokens included (all kinds but char; bpe: >= 256)")
    t.add_argument("--out", required=True, metavar="PATH", help="the JSON file to write")
    t.set_defaults(handler=cmd_train)

    e = tsub.add_parser("encode", help="print the token ids of a text",
                        description="Encode TEXT (or the file --file, or standard input) with the saved tokenizer and "
                        "print the ids separated by spaces.", epilog=EXAMPLES)
    e.add_argument("--tokenizer", required=True, metavar="PATH", help="a file written by `fukaku tokenizer train`")
    e.add_argument("text", nargs="?", default=None, metavar="TEXT", help="the text (default: standard input)")
    e.add_argument("--file", metavar="PATH", help="encode this UTF-8 text file instead")
    e.set_defaults(handler=cmd_encode)

    d = tsub.add_parser("decode", help="print the text of token ids",
                        description="Decode IDS (or the ids on standard input, separated by spaces, commas or "
                        "newlines) with the saved tokenizer and print the text.", epilog=EXAMPLES)
    d.add_argument("--tokenizer", required=True, metavar="PATH", help="a file written by `fukaku tokenizer train`")
    d.add_argument("ids", nargs="*", metavar="IDS", help="token ids (default: read from standard input)")
    d.set_defaults(handler=cmd_decode)
    p.set_defaults(handler=lambda args: _missing(p))
    return p


def _missing(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _usage_error(message: str) -> Exception:
    from ..cli import UsageError  # deferred: fukaku.cli imports this module while building its parser

    return UsageError(message)


def cmd_train(args) -> int:
    if args.kind == "char":
        if args.vocab_size is not None:
            raise _usage_error("--vocab-size does not apply to --kind char (the text's characters decide it)")
        spec = "char"
    else:
        if args.vocab_size is None:
            raise _usage_error(f"--kind {args.kind} needs --vocab-size N")
        spec = f"{args.kind}:{args.vocab_size}"
    text = _read_text(Path(args.data), MAX_TEXT_BYTES)
    start = time.perf_counter()
    tok = train_tokenizer(spec, text)
    seconds = time.perf_counter() - start
    tok.save(args.out)
    tokens = len(tok.encode(text))
    ratio = f"{len(text) / tokens:.2f} characters per token" if tokens else "no tokens"
    print(f"{args.kind} tokenizer: {tok.vocab_size} tokens, trained on {len(text):,} characters in {seconds:.1f} s; "
          f"{ratio} on that text; saved to {os.fspath(args.out)}")
    return 0


def cmd_encode(args) -> int:
    if args.text is not None and args.file is not None:
        raise _usage_error("give TEXT or --file PATH, not both")
    tok = load(args.tokenizer)
    if args.file is not None:
        text = _read_text(Path(args.file), MAX_TEXT_BYTES)
    elif args.text is not None:
        text = args.text
    else:
        text = sys.stdin.read()
    print(" ".join(map(str, tok.encode(text))))
    return 0


def cmd_decode(args) -> int:
    tok = load(args.tokenizer)
    words = args.ids if args.ids else re.split(r"[\s,]+", sys.stdin.read().strip())
    words = [w for part in words for w in part.replace(",", " ").split()]
    ids = []
    for w in words:
        if not re.fullmatch(r"-?\d{1,18}", w):
            raise ValueError(f"{w!r} is not an integer token id")
        ids.append(int(w))
    sys.stdout.write(tok.decode(ids) + "\n")
    return 0
