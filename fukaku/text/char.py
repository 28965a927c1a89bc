"""Character tokens: every distinct character of the training text is one token (seed 003: character level
has no out-of-vocabulary word, but its units carry less meaning; seed 000 §6.4)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ..datasets.text import _tokens
from ..tensor import Tensor
from .base import MAX_VOCAB, Fields, Tokenizer, check_text, ids_array


class CharTokenizer(Tokenizer, kind="char"):
    """One token per character: id ``i`` is ``chars[i]``.

    :meth:`train` takes the sorted set of the text's characters (by code point), as nanoGPT's
    ``sorted(set(text))`` does; the char-LSTM's :class:`~fukaku.datasets.TextCorpus` uses the same
    code-point reading of the text. There is no UNK: encoding a character outside the vocabulary raises
    a ``ValueError`` naming it. Decoding is exact: ``decode(encode(t)) == t``.

    Args:
        chars: the vocabulary, distinct single characters, a string or a sequence of them.

    Examples:
        >>> tok = CharTokenizer.train("hello")
        >>> tok.encode("hell"), tok.decode([3, 2])
        ([1, 0, 2, 2], 'ol')
    """

    def __init__(self, chars: str | Sequence[str]) -> None:
        chars = list(chars)
        if not chars:
            raise ValueError("CharTokenizer: the vocabulary is empty; give at least one character")
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(f"CharTokenizer: each vocabulary entry must be one character, got {c!r}")
        if len(set(chars)) != len(chars):
            raise ValueError("CharTokenizer: the vocabulary has repeated characters")
        self.chars: list[str] = chars
        self._codes = _tokens("".join(chars), "char", False)           # code point of each id (uint32)
        self._order = np.argsort(self._codes, kind="stable")           # ids sorted by code point
        self._sorted = self._codes[self._order]
        self._index = {c: i for i, c in enumerate(chars)}

    @classmethod
    def train(cls, text: str, vocab_size: int | None = None) -> CharTokenizer:
        """The sorted set of ``text``'s characters (``vocab_size`` is not used: the text decides it)."""
        check_text(text, "CharTokenizer.train")
        codes = np.unique(_tokens(text, "char", False))
        if codes.size == 0:
            raise ValueError("CharTokenizer.train: the text is empty; it has no characters to learn")
        return cls(codes.astype("<u4").tobytes().decode("utf-32-le"))

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        """The id of each character of ``text``; a character outside the vocabulary raises ``ValueError``."""
        return self.encode_array(text).tolist()

    def encode_array(self, text: str) -> np.ndarray:
        """:meth:`encode` as an int64 NumPy array (one vectorised pass, no Python list)."""
        codes = _tokens(check_text(text, "CharTokenizer.encode"), "char", False)
        where = np.minimum(np.searchsorted(self._sorted, codes), len(self._sorted) - 1)
        unknown = self._sorted[where] != codes
        if unknown.any():
            at = int(np.flatnonzero(unknown)[0])
            missing = sorted(set(chr(c) for c in codes[unknown].tolist()))
            raise ValueError(f"CharTokenizer.encode: {len(missing)} character(s) of the text are not in the vocabulary "
                             f"of {self.vocab_size}, the first {text[at]!r} (U+{ord(text[at]):04X}) at position {at}: "
                             f"{''.join(missing[:20])!r}; train the tokenizer on a text that has them")
        return self._order[where].astype(np.int64)

    def decode(self, ids: Iterable[int] | np.ndarray | Tensor) -> str:
        """The characters of ``ids`` joined; an id outside ``[0, vocab_size)`` raises ``ValueError``."""
        ids = ids_array(ids, self.vocab_size, "CharTokenizer.decode")
        return self._codes[ids].astype("<u4").tobytes().decode("utf-32-le")

    def id_to_token(self, id: int) -> str:
        return self.chars[int(ids_array([id], self.vocab_size, "CharTokenizer.id_to_token")[0])]

    def token_to_id(self, token: str) -> int | None:
        return self._index.get(token)

    def _fields(self) -> dict:
        return {"vocab": list(self.chars)}

    field_names = ("vocab",)

    @classmethod
    def _from_fields(cls, f: Fields) -> CharTokenizer:
        chars = f.strings("vocab", max_len=MAX_VOCAB)
        if not chars:
            raise f.error("vocab", "a non-empty list of characters", chars)
        for i, c in enumerate(chars):
            if len(c) != 1:
                raise f.error("vocab", "a list of single characters", detail=f"entry {i} is {c!r}")
        return cls(chars)
