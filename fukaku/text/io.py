"""Build tokenizers: from a spec and a text (:func:`train_tokenizer`), from a dict (:func:`from_dict`) or a
file (:func:`load`). Loading reads JSON only and checks every field; nothing in a file is executed."""
from __future__ import annotations

import json
import os
import re
from typing import Any

from .base import FORMAT, KINDS, MAX_FILE_BYTES, MAX_VOCAB, VERSION, Fields, Tokenizer, TokenizerFormatError

SPEC = re.compile(r"(?P<kind>[a-z]+)(?::(?P<size>\d{1,9}))?\Z")
SIZED = ("words", "bpe", "wordpiece", "unigram")


def train_tokenizer(spec: str, text: str) -> Tokenizer:
    """Train the tokenizer ``spec`` names on ``text``.

    Args:
        spec: ``"char"``, ``"words:N"``, ``"bpe:N"``, ``"wordpiece:N"`` or ``"unigram:N"``; N is the
            vocabulary size (special tokens and, for BPE, the 256 byte tokens included).
        text: the training text.

    Examples:
        >>> tok = train_tokenizer("bpe:300", "the cat sat on the mat")
        >>> tok.decode(tok.encode("the hat")) == "the hat"
        True
    """
    if not isinstance(spec, str):
        raise TypeError(f"train_tokenizer: spec must be a str such as 'bpe:4000', got {type(spec).__name__}")
    m = SPEC.match(spec.strip())
    kinds = "'char', 'words:N', 'bpe:N', 'wordpiece:N', 'unigram:N'"
    if m is None or m["kind"] not in KINDS:
        raise ValueError(f"train_tokenizer: unknown tokenizer spec {spec!r}; expected one of {kinds}")
    kind, size = m["kind"], m["size"]
    if kind == "char":
        if size is not None:
            raise ValueError(f"train_tokenizer: 'char' takes no size (the text's characters decide it), got {spec!r}")
        return KINDS[kind].train(text)
    if size is None:
        raise ValueError(f"train_tokenizer: {kind!r} needs a vocabulary size, e.g. '{kind}:4000', got {spec!r}")
    return KINDS[kind].train(text, int(size))


def from_dict(d: Any, *, source: str | None = None) -> Tokenizer:
    """Rebuild a tokenizer from :meth:`Tokenizer.to_dict`'s dict, checking every field.

    Args:
        d: the dict (for example ``json.loads`` of a saved file).
        source: how errors name where the dict came from (default ``"tokenizer dict"``).

    Raises:
        TokenizerFormatError: ``d`` is not a tokenizer of this format version (another ``format``, ``version``
            or ``kind``, a missing or ill-typed field, an inconsistent vocabulary); the message names the
            source, the field and what was expected.
    """
    where = source or "tokenizer dict"
    f = Fields(d, where)
    fmt = f.get("format", str, f"{FORMAT!r}")
    if fmt != FORMAT:
        raise f.error("format", f"{FORMAT!r} (a tokenizer saved by fukaku.text)", fmt)
    version = f.get("version", int, f"format version {VERSION}")
    if version != VERSION:
        raise f.error("version", f"format version {VERSION}", version,
                      detail=f"got version {_short(version)}; this fukaku reads version {VERSION} only — use the "
                             "fukaku that wrote the file, or train the tokenizer again")
    kind = f.get("kind", str, f"one of {', '.join(map(repr, sorted(KINDS)))}")
    if kind not in KINDS:
        raise f.error("kind", f"one of {', '.join(map(repr, sorted(KINDS)))}", kind)
    cls = KINDS[kind]
    f.expect_only(("format", "version", "kind", *cls.field_names))
    try:
        return cls._from_fields(f)
    except TokenizerFormatError:
        raise
    except (ValueError, TypeError, OverflowError) as e:  # the constructor's own checks (consistency of the whole)
        raise TokenizerFormatError(f"{where}: not a valid {kind} tokenizer: {e}") from None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "…"


def load(path: str | os.PathLike) -> Tokenizer:
    """Read a tokenizer written by :meth:`Tokenizer.save`.

    The file must be UTF-8 JSON of at most :data:`~fukaku.text.base.MAX_FILE_BYTES` bytes; it is parsed
    as data only and checked as :func:`from_dict` checks a dict.

    Raises:
        TokenizerFormatError: the file is not a valid tokenizer (the message names the file, the field
            and what was expected).
        OSError: the file is missing or cannot be read.
    """
    where = f"tokenizer file {os.fspath(path)}"
    with open(path, "rb") as fh:
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise TokenizerFormatError(f"{where}: more than {MAX_FILE_BYTES} bytes; not a tokenizer file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TokenizerFormatError(f"{where}: not UTF-8 text ({e.reason} at byte {e.start}); expected the JSON "
                                   "that Tokenizer.save writes") from None
    try:
        d = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise TokenizerFormatError(f"{where}: not valid JSON (nested too deeply)") from None
    except ValueError as e:  # JSONDecodeError, a number of more than 4300 digits, NaN/Infinity
        raise TokenizerFormatError(f"{where}: not valid JSON ({e}); expected the JSON that Tokenizer.save "
                                   "writes") from None
    return from_dict(d, source=where)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


__all__ = ["train_tokenizer", "from_dict", "load", "MAX_VOCAB"]
