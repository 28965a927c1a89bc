"""What every tokenizer of :mod:`fukaku.text` has in common: the interface, the saved format and its checks.

A tokenizer maps a text to a list of integer ids and back (seed 000 §6.4: tokens → ids → embeddings).
Every tokenizer has ``vocab_size``, ``encode(text) -> list[int]``, ``decode(ids) -> str``,
``token_to_id``/``id_to_token``, ``to_dict()`` and ``save(path)``.

The saved form is JSON (never pickle: nothing in a file is executed or imported), one object::

    {"format": "fukaku.text", "version": 1, "kind": "bpe", ...the kind's own fields...}

:func:`fukaku.text.from_dict` and :func:`fukaku.text.load` check every field before anything is built
and refuse a corrupt file, another kind or another format version with a :class:`TokenizerFormatError`
that names the file, the field and what was expected.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from .._atomic import atomic_write
from ..tensor import Tensor

FORMAT = "fukaku.text"
VERSION = 1
MAX_VOCAB = 1 << 20
"""The largest vocabulary a tokenizer may have (a saved file claiming more is refused)."""
MAX_FILE_BYTES = 1 << 28
"""The largest tokenizer file :func:`fukaku.text.load` reads (256 MiB)."""

KINDS: dict[str, type[Tokenizer]] = {}
"""Tokenizer classes by the ``kind`` they save; filled by ``class X(Tokenizer, kind=...)``."""


class TokenizerFormatError(ValueError):
    """A saved tokenizer (a file or a dict) that cannot be loaded: the message names the file, the field
    and what was expected."""


class Fields:
    """Typed access to a saved tokenizer's fields; every failure is a :class:`TokenizerFormatError`
    naming ``where`` (the file or "tokenizer dict") and the field."""

    def __init__(self, d: Any, where: str) -> None:
        if not isinstance(d, dict):
            raise TokenizerFormatError(f"{where}: expected a JSON object at the top, got {_kind_of(d)}")
        self.d, self.where = d, where

    def error(self, name: str, expected: str, got: Any = None, *, detail: str | None = None) -> TokenizerFormatError:
        what = detail if detail is not None else f"got {_describe(got)}"
        return TokenizerFormatError(f"{self.where}: field {name!r}: expected {expected}, {what}")

    def get(self, name: str, types: type | tuple[type, ...], expected: str, default: Any = ...) -> Any:
        if name not in self.d:
            if default is not ...:
                return default
            raise TokenizerFormatError(f"{self.where}: field {name!r} is missing (expected {expected})")
        value = self.d[name]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
            raise self.error(name, expected, value)
        return value

    def string(self, name: str, default: Any = ..., *, nonempty: bool = False) -> str:
        value = self.get(name, str, "a non-empty string" if nonempty else "a string", default)
        if isinstance(value, str):
            check_encodable(value, lambda: self.error(name, "valid Unicode text", detail="it holds a lone surrogate"))
            if nonempty and not value:
                raise self.error(name, "a non-empty string", value)
        return value

    def boolean(self, name: str, default: Any = ...) -> bool:
        return self.get(name, bool, "true or false", default)

    def integer(self, name: str, low: int, high: int, default: Any = ...) -> int:
        value = self.get(name, int, f"an integer in [{low}, {high}]", default)
        if isinstance(value, int) and not low <= value <= high:
            raise self.error(name, f"an integer in [{low}, {high}]", value)
        return value

    def strings(self, name: str, *, max_len: int = MAX_VOCAB, distinct: bool = True) -> list[str]:
        """A list of distinct strings (the vocabulary), at most ``max_len`` of them."""
        value = self.get(name, list, "a list of strings")
        if len(value) > max_len:
            raise self.error(name, f"at most {max_len} entries", detail=f"got {len(value)}")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.error(name, "a list of strings", detail=f"entry {i} is {_describe(item)}")
            check_encodable(item, lambda: self.error(name, "valid Unicode text",
                                                     detail=f"entry {i} holds a lone surrogate"))
        if distinct and len(set(value)) != len(value):
            seen: set[str] = set()
            first = next(i for i, t in enumerate(value) if t in seen or seen.add(t))
            raise self.error(name, "distinct entries",
                             detail=f"entry {first} ({value[first]!r}) repeats an earlier one")
        return value

    def expect_only(self, names: Iterable[str]) -> None:
        """Refuse fields this format version does not define (a file of a newer writer, or damaged keys)."""
        extra = sorted(set(self.d) - set(names), key=str)
        if extra:
            raise TokenizerFormatError(f"{self.where}: unexpected field {extra[0]!r} for kind {self.d.get('kind')!r} "
                                       f"(fields of format version {VERSION}: {', '.join(sorted(names))})")


def _as_tuple(types) -> tuple:
    return types if isinstance(types, tuple) else (types,)


def _kind_of(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _describe(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return f"{_kind_of(value)} of {len(value)} entries"
    text = repr(value)
    return f"{_kind_of(value)} {text[:60]}{'…' if len(text) > 60 else ''}"


def check_encodable(text: str, error) -> None:
    """Raise ``error()`` when ``text`` holds a lone surrogate (it cannot be written as UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise error() from None


def check_text(text: Any, who: str) -> str:
    """``text`` as a str that UTF-8 can hold, or a TypeError/ValueError naming ``who``."""
    if not isinstance(text, str):
        raise TypeError(f"{who}: expected the text as a str, got {type(text).__name__}")
    check_encodable(text, lambda: ValueError(f"{who}: the text holds a lone surrogate (not valid Unicode); "
                                             "decode its bytes with errors='replace' first"))
    return text


def ids_array(ids: Any, vocab_size: int, who: str) -> np.ndarray:
    """Token ids (a list, a NumPy array, a fukaku Tensor, any integer iterable) as a 1-D int64 array,
    each checked to be in ``[0, vocab_size)``."""
    if isinstance(ids, Tensor):
        ids = ids._data
    elif not isinstance(ids, np.ndarray):
        ids = list(ids) if not isinstance(ids, (list, tuple)) else ids
        if any(isinstance(i, bool) or not isinstance(i, (int, np.integer)) for i in ids):
            bad = next(i for i in ids if isinstance(i, bool) or not isinstance(i, (int, np.integer)))
            raise TypeError(f"{who}: ids must be integers, got {type(bad).__name__} {bad!r}")
        if any(not -(1 << 63) <= int(i) < (1 << 63) for i in ids):
            raise ValueError(f"{who}: ids must be in [0, {vocab_size}), got one outside int64")
        ids = np.asarray(ids, dtype=np.int64)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{who}: ids must be integers, got an array of {ids.dtype}")
    ids = ids.reshape(-1).astype(np.int64, copy=False)
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        bad = ids[(ids < 0) | (ids >= vocab_size)][0]
        raise ValueError(f"{who}: id {int(bad)} is outside the vocabulary [0, {vocab_size}); the ids must come from "
                         "this tokenizer's encode")
    return ids


CACHE_SIZE = 1 << 17
"""Words (pre-tokens) whose segmentation a subword tokenizer keeps (the cache is emptied when it is full)."""


def encode_words(words: Iterable[str], segment, cache: dict[str, tuple[int, ...]]) -> list[int]:
    """The ids of ``words`` one after another, each word segmented by ``segment(word)`` once and then taken from
    ``cache`` (a text repeats its words: encoding costs a dictionary look-up per word)."""
    ids: list[int] = []
    for word in words:
        tokens = cache.get(word)
        if tokens is None:
            if len(cache) >= CACHE_SIZE:
                cache.clear()
            tokens = cache[word] = tuple(segment(word))
        ids.extend(tokens)
    return ids


class Tokenizer:
    """The interface of every tokenizer; subclasses declare ``kind=`` (the name they save under).

    Subclasses implement ``encode``, ``decode``, ``vocab_size``, ``id_to_token``, ``_fields()`` (their
    saved fields), ``_from_fields(fields)`` (rebuild from checked :class:`Fields`) and
    ``train(text, vocab_size)``.
    """

    kind: ClassVar[str]
    field_names: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, kind: str | None = None, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if kind is not None:
            cls.kind = kind
            KINDS[kind] = cls

    # ------------------------------------------------------------------ the interface
    @property
    def vocab_size(self) -> int:
        raise NotImplementedError

    def __len__(self) -> int:
        return self.vocab_size

    def encode(self, text: str) -> list[int]:
        raise NotImplementedError

    def decode(self, ids: Iterable[int] | np.ndarray | Tensor) -> str:
        raise NotImplementedError

    def id_to_token(self, id: int) -> str:
        """The token of ``id`` as a string (byte tokens that are not whole UTF-8 characters as ``<0xNN>`` …)."""
        raise NotImplementedError

    def token_to_id(self, token: str) -> int | None:
        """The id of ``token`` (as :meth:`id_to_token` writes it), or None when it is not in the vocabulary."""
        raise NotImplementedError

    @classmethod
    def train(cls, text: str, vocab_size: int) -> Tokenizer:
        raise NotImplementedError

    # ------------------------------------------------------------------ saving
    def _fields(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def _from_fields(cls, fields: Fields) -> Tokenizer:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """The tokenizer as a JSON-compatible dict: ``format``, ``version``, ``kind`` and the kind's fields
        (vocabulary, merges, options); :func:`fukaku.text.from_dict` rebuilds it."""
        return {"format": FORMAT, "version": VERSION, "kind": self.kind, **self._fields()}

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_dict` as UTF-8 JSON to ``path``, atomically (a reader sees the old file or the
        whole new one); :func:`fukaku.text.load` reads it back."""
        payload = json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))
        with atomic_write(path, "w", op=f"{type(self).__name__}.save") as fh:
            fh.write(payload)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocab_size={self.vocab_size})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.to_dict() == self.to_dict()

    __hash__ = None


def vocab_size_arg(vocab_size: Any, who: str, minimum: int) -> int:
    """A requested vocabulary size, checked."""
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)):
        raise TypeError(f"{who}: vocab_size must be an integer, got {type(vocab_size).__name__}")
    if not minimum <= vocab_size <= MAX_VOCAB:
        raise ValueError(f"{who}: vocab_size must be in [{minimum}, {MAX_VOCAB}], got {vocab_size}")
    return int(vocab_size)
