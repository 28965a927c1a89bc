"""Text corpora for language models: characters or whitespace words, a vocabulary with an UNK
token, and (input, target) windows for next-token prediction (seed 003: vocabularies, UNK, OOV;
character level has no OOV for the characters it has seen).

Works on any UTF-8 text, e.g. ``shared/data/text/tinyshakespeare.txt`` (English, character or word
level) and ``neko.txt`` (Japanese, character level: it has no spaces between words).

A text file is read whole after its size is checked against ``max_bytes`` (default
:data:`MAX_TEXT_BYTES`, 1 GiB); bytes that are not UTF-8, or a text without a token, raise
:class:`~fukaku.datasets.DatasetFormatError` naming the file and what is wrong. Words are kept as
Python strings (never a fixed-width NumPy string array, where one long word would make every word
as wide as it), so memory stays proportional to the file's size whatever it holds.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ..tensor import Tensor
from .._checks import check_int
from ._common import DatasetFormatError, out, regular_file_size

UNK = "<unk>"
MAX_TEXT_BYTES = 1 << 30
"""Default cap on the size of a text file :class:`TextCorpus` reads (1 GiB; ``max_bytes=`` changes it)."""
_CHUNK = 1 << 20


def _read_text(path: Path, max_bytes: int) -> str:
    """A UTF-8 text file, newlines translated as ``open()`` does (``\\r\\n`` and ``\\r`` become ``\\n``)."""
    with open(path, "rb") as f:
        size = regular_file_size(f)
        if size is not None and size > max_bytes:
            raise DatasetFormatError(f"text file {path}: {size} bytes, more than max_bytes={max_bytes}; pass a larger "
                                     "max_bytes= if the file is genuine")
        data = bytearray()  # a chunk at a time (read(max_bytes) would allocate max_bytes at once), at most
        while len(data) <= max_bytes and (chunk := f.read(min(_CHUNK, max_bytes + 1 - len(data)))):
            data += chunk  # one byte past the cap: a pipe or device has no size to check first
    if len(data) > max_bytes:
        raise DatasetFormatError(f"text file {path}: more than max_bytes={max_bytes} bytes; pass a larger max_bytes= "
                                 "if the file is genuine")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DatasetFormatError(f"text file {path}: not UTF-8: {e.reason} at byte {e.start} "
                                 f"(0x{data[e.start:e.end].hex()}); re-encode the file as UTF-8") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _tokens(text: str, level: str, lower: bool) -> np.ndarray:
    """The text as an array of tokens: code points (uint32) for ``char``, ``str`` objects for ``word``."""
    if lower:
        text = text.lower()
    if level == "char":
        # one vectorised pass: UTF-32 gives one 4-byte code point per character
        return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    return _object_array(text.split())


def _object_array(strings: list[str]) -> np.ndarray:
    """Strings as a 1-D object array: not ``dtype=str``, whose fixed width pads every string to the
    longest one (one 1 MB word among a million short ones would need 4 TB)."""
    array = np.empty(len(strings), dtype=object)
    array[:] = strings
    return array


def _names(distinct: np.ndarray) -> list[str]:
    """Distinct tokens from :func:`_tokens` as strings (code points become characters)."""
    return [chr(c) for c in distinct.tolist()] if distinct.dtype == np.uint32 else [str(t) for t in distinct.tolist()]


class Vocab:
    """Tokens ↔ ids. Id 0 is the UNK token; then tokens by decreasing frequency (ties in sorted
    order), keeping those seen at least ``min_freq`` times, at most ``max_vocab`` ids in all.

    Args:
        tokens: a token sequence to count, or, when ``counts`` is given, the distinct tokens.
        counts: how often each of ``tokens`` occurs.

    Attributes:
        itos: list of tokens, ``itos[id]``.
        stoi: dict token → id; tokens not in it encode as ``unk_index``.
    """

    def __init__(self, tokens: Sequence[str], counts: Sequence[int] | None = None, min_freq: int = 1,
                 max_vocab: int | None = None, unk_token: str = UNK) -> None:
        min_freq = check_int(min_freq, "min_freq", "Vocab")
        if max_vocab is not None:
            max_vocab = check_int(max_vocab, "max_vocab", "Vocab", minimum=2)
        tokens = [str(t) for t in tokens]
        if counts is None:  # a plain token sequence: count it
            distinct, counts = np.unique(_object_array(tokens), return_counts=True)
            tokens = distinct.tolist()
        counts = np.asarray(counts, dtype=np.int64)
        order = np.lexsort((_object_array(tokens), -counts))  # frequency desc, then token
        kept = [tokens[i] for i in order if counts[i] >= min_freq and tokens[i] != unk_token]
        if max_vocab is not None:
            kept = kept[:max_vocab - 1]
        self.unk_token = unk_token
        self.unk_index = 0
        self.itos: list[str] = [unk_token, *kept]
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(self.itos)}
        self._itos_array = np.array(self.itos, dtype=object)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def lookup(self, tokens: np.ndarray) -> np.ndarray:
        """Ids of an array of tokens (UNK for unknown ones), mapping each distinct token once."""
        uniq, inverse = np.unique(tokens, return_inverse=True)
        return self._ids_of_distinct(_names(uniq))[inverse.reshape(-1)]

    def _ids_of_distinct(self, names: list[str]) -> np.ndarray:
        return np.array([self.stoi.get(t, self.unk_index) for t in names], dtype=np.int64)

    def decode_tokens(self, ids) -> list[str]:
        ids = np.asarray(ids._data if isinstance(ids, Tensor) else ids, dtype=np.int64).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise IndexError(f"Vocab: ids must be in [0, {len(self)}), got min {ids.min()}, max {ids.max()}")
        return self._itos_array[ids].tolist()


class TextCorpus:
    """A text as token ids with its vocabulary.

    Args:
        source: the text itself (``str``) or a path to a UTF-8 file (``pathlib.Path`` or any
            ``os.PathLike``; a plain ``str`` is always taken as text, use :meth:`from_file` for a
            path given as a string).
        level: ``'char'`` (every character a token) or ``'word'`` (whitespace-separated words;
            punctuation stays attached, as in a plain ``str.split()``).
        min_freq: tokens seen fewer times become UNK.
        max_vocab: at most this many ids, UNK included (the rarest tokens become UNK).
        lower: lower-case the text first.
        unk_token: the token of id 0.
        max_bytes: the largest file read (default :data:`MAX_TEXT_BYTES`, 1 GiB).

    Attributes:
        vocab: the :class:`Vocab`.
        ids: the whole text encoded, int64 ``(num_tokens,)``.

    Raises:
        DatasetFormatError: the file is larger than ``max_bytes``, is not UTF-8, or has no token
            (the message names the file); the same error, without a file, for a text without tokens.
        OSError: the file is missing or cannot be read.
    """

    def __init__(self, source: str | os.PathLike, level: str = "char", min_freq: int = 1,
                 max_vocab: int | None = None, lower: bool = False, unk_token: str = UNK,
                 max_bytes: int = MAX_TEXT_BYTES) -> None:
        if level not in ("char", "word"):
            raise ValueError(f"TextCorpus: level must be 'char' or 'word', got {level!r}")
        where = "TextCorpus"
        if isinstance(source, os.PathLike):
            where = f"TextCorpus: text file {source}"
            source = _read_text(Path(source), check_int(max_bytes, "max_bytes", "TextCorpus", minimum=0))
        elif not isinstance(source, str):
            raise TypeError(f"TextCorpus: source must be the text (str) or a path (os.PathLike), got "
                            f"{type(source).__name__}")
        self.level, self.lower = level, lower
        tokens = _tokens(source, level, lower)
        if tokens.size == 0:
            raise DatasetFormatError(f"{where}: the text has no tokens" + (" (only whitespace)" if source else ""))
        uniq, inverse, counts = np.unique(tokens, return_inverse=True, return_counts=True)  # one sort for both
        names = _names(uniq)
        self.vocab = Vocab(names, counts, min_freq=min_freq, max_vocab=max_vocab, unk_token=unk_token)
        self.ids: np.ndarray = self.vocab._ids_of_distinct(names)[inverse.reshape(-1)]

    @classmethod
    def from_file(cls, path: str | os.PathLike, **kwargs) -> TextCorpus:
        """Read a UTF-8 text file (see the class for the keyword arguments)."""
        return cls(Path(path), **kwargs)

    def __len__(self) -> int:
        return len(self.ids)

    def encode(self, text: str, return_tensors: bool = False):
        """Token ids of ``text`` (int64 ``(num_tokens,)``), unknown tokens as UNK (id 0)."""
        tokens = _tokens(text, self.level, self.lower)
        ids = self.vocab.lookup(tokens) if tokens.size else np.empty(0, np.int64)
        return out((ids,), return_tensors)[0]

    def decode(self, ids: Iterable[int] | np.ndarray | Tensor) -> str:
        """The text of ``ids``: characters joined, or words joined by single spaces."""
        return ("" if self.level == "char" else " ").join(self.vocab.decode_tokens(ids))

    def windows(self, seq_len: int, stride: int | None = None, return_tensors: bool = True):
        """Next-token training pairs cut from the corpus: see :func:`next_token_windows`."""
        return next_token_windows(self.ids, seq_len, stride, return_tensors)


def windows_at(ids: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """``ids[s : s + length]`` for each start s, as one array ``(len(starts), length)`` (one gather: the random
    batches of a language model, where :func:`next_token_windows` cuts regular ones)."""
    return ids[np.asarray(starts)[:, None] + np.arange(length)]


def next_token_windows(ids, seq_len: int, stride: int | None = None, return_tensors: bool = True):
    """Cut a token-id sequence into (input, target) windows, the target shifted by one token.

    Window k starts at k·stride: input ``ids[s : s + seq_len]``, target ``ids[s + 1 : s + seq_len + 1]``.
    ``stride`` defaults to ``seq_len`` (non-overlapping windows); a tail too short for a window
    is dropped.

    Returns:
        ``x (M, seq_len)`` and ``y (M, seq_len)`` int64, M = (len(ids) − seq_len − 1) // stride + 1.
    """
    ids = np.asarray(ids._data if isinstance(ids, Tensor) else ids, dtype=np.int64).reshape(-1)
    seq_len = check_int(seq_len, "seq_len", "next_token_windows")
    stride = seq_len if stride is None else check_int(stride, "stride", "next_token_windows")
    if len(ids) < seq_len + 1:
        raise ValueError(f"next_token_windows: {len(ids)} tokens are too few for one window of seq_len={seq_len} "
                         "(needs seq_len + 1)")
    spans = np.lib.stride_tricks.sliding_window_view(ids, seq_len + 1)[::stride]  # (M, seq_len + 1), a view
    return out((spans[:, :-1].copy(), spans[:, 1:].copy()), return_tensors)
