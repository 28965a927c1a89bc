"""Whitespace words with a vocabulary and an UNK token (seed 003, "subwords against OOV": the toy vocabulary
of "Alice likes Bob" is {alice: 1, like: 2, bob: 3, UNK: 4}, and "Alice likes cat" is ids [1, 2, 4], multi-hot
[1, 1, 0, 1]; seed 000 §6.4: word tokens)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ..datasets.text import UNK, Vocab
from ..tensor import Tensor
from .base import MAX_VOCAB, Fields, Tokenizer, check_text, ids_array, vocab_size_arg

ORDERS = ("frequency", "first")


def lemma(word: str) -> str:
    """The toy lemmatiser of :class:`WordTokenizer` (``lemmatize=True``): a word of four or more characters
    ending in a single ``s`` (not ``ss``, ``us`` or ``is``) loses it — ``likes → like``, ``cats → cat``,
    while ``bus``, ``class``, ``this`` stay. A stand-in for a dictionary lemmatiser, enough for seed 003's
    example; it is documented as a toy, not English morphology."""
    if len(word) >= 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


class WordTokenizer(Tokenizer, kind="words"):
    """Whitespace-separated words; words outside the vocabulary become the UNK token.

    Args:
        vocab: the tokens by id; it must hold ``unk_token`` (and ``pad_token`` when given).
        unk_token: the token of out-of-vocabulary words.
        pad_token: an optional padding token (never produced by :meth:`encode`); seed 003 numbers the
            words from 1, which is id 0 kept for padding.
        lower: lower-case the text before looking words up.
        lemmatize: apply :func:`lemma` to each word (after lower-casing).

    Decoding joins the tokens with single spaces: the original spacing, case and unknown words are lost.

    Examples:
        Seed 003's table:

        >>> tok = WordTokenizer.train("Alice likes Bob", lower=True, lemmatize=True, order="first",
        ...                           pad_token="<pad>", unk_last=True)
        >>> tok.vocab
        ['<pad>', 'alice', 'like', 'bob', '<unk>']
        >>> tok.encode("Alice likes cat"), tok.multi_hot("Alice likes cat")[1:].tolist()
        ([1, 2, 4], [1, 1, 0, 1])
    """

    field_names = ("vocab", "unk_token", "pad_token", "lower", "lemmatize")

    def __init__(self, vocab: Sequence[str], unk_token: str = UNK, pad_token: str | None = None, lower: bool = False,
                 lemmatize: bool = False) -> None:
        vocab = list(vocab)
        if any(not isinstance(t, str) for t in vocab):
            raise TypeError("WordTokenizer: the vocabulary must be strings")
        if len(set(vocab)) != len(vocab):
            raise ValueError("WordTokenizer: the vocabulary has repeated tokens")
        for name, token in (("unk_token", unk_token), ("pad_token", pad_token)):
            if token is not None and token not in vocab:
                raise ValueError(f"WordTokenizer: {name} {token!r} is not in the vocabulary")
        if unk_token == pad_token:
            raise ValueError("WordTokenizer: unk_token and pad_token must differ")
        for t in vocab:
            if t not in (unk_token, pad_token) and (not t or t != "".join(t.split())):
                raise ValueError(f"WordTokenizer: vocabulary word {t!r} is empty or holds whitespace; whitespace "
                                 "separates words")
        self.vocab: list[str] = vocab
        self.unk_token, self.pad_token = unk_token, pad_token
        self.lower, self.lemmatize = bool(lower), bool(lemmatize)
        self.stoi = {t: i for i, t in enumerate(vocab)}
        self.unk_id = self.stoi[unk_token]
        self.pad_id = None if pad_token is None else self.stoi[pad_token]
        self._itos = np.array(vocab + [""], dtype=object)[:-1]  # an object array even when all tokens are equal

    @classmethod
    def train(cls, text: str, vocab_size: int | None = None, *, lower: bool = False, lemmatize: bool = False,
              order: str = "frequency", unk_token: str = UNK, pad_token: str | None = None,
              unk_last: bool = False) -> WordTokenizer:
        """The vocabulary of ``text``'s words: the ``vocab_size`` − (special tokens) most frequent (ties in
        sorted order), all of them when ``vocab_size`` is None.

        Args:
            order: ``"frequency"`` (most frequent first, ties sorted) or ``"first"`` (in order of first appearance).
            pad_token: a padding token put at id 0.
            unk_last: put the UNK token after the words (seed 003's table) instead of first.
        """
        check_text(text, "WordTokenizer.train")
        if order not in ORDERS:
            raise ValueError(f"WordTokenizer.train: order must be one of {ORDERS}, got {order!r}")
        specials = 1 + (pad_token is not None)
        words = cls._words(text, lower, lemmatize)
        if vocab_size is not None:
            vocab_size = vocab_size_arg(vocab_size, "WordTokenizer.train", specials + 1)
        if words:  # the most frequent words, ties in sorted order (datasets.Vocab's rule)
            keep = Vocab(words, max_vocab=None if vocab_size is None else vocab_size - specials + 1,
                         unk_token=unk_token).itos[1:]
        else:
            keep = []
        keep = [w for w in keep if w != pad_token]
        if order == "first":
            kept = set(keep)
            keep = [w for w in dict.fromkeys(words) if w in kept]
        vocab = ([] if pad_token is None else [pad_token]) + ([] if unk_last else [unk_token]) + keep
        if unk_last:
            vocab.append(unk_token)
        return cls(vocab, unk_token, pad_token, lower, lemmatize)

    @staticmethod
    def _words(text: str, lower: bool, lemmatize: bool) -> list[str]:
        words = (text.lower() if lower else text).split()
        return [lemma(w) for w in words] if lemmatize else words

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def tokenize(self, text: str) -> list[str]:
        """The words of ``text`` as looked up (lower-cased and lemmatised when so configured)."""
        return self._words(check_text(text, "WordTokenizer.tokenize"), self.lower, self.lemmatize)

    def encode(self, text: str) -> list[int]:
        """The id of each whitespace word of ``text``; unknown words get the UNK id."""
        get, unk = self.stoi.get, self.unk_id
        return [get(w, unk) for w in self.tokenize(text)]

    def decode(self, ids: Iterable[int] | np.ndarray | Tensor) -> str:
        """The tokens of ``ids`` joined with single spaces."""
        return " ".join(self._itos[ids_array(ids, self.vocab_size, "WordTokenizer.decode")].tolist())

    def multi_hot(self, text: str) -> np.ndarray:
        """A ``(vocab_size,)`` int64 vector with 1 at the id of every word of ``text`` (seed 003's multi-hot)."""
        out = np.zeros(self.vocab_size, dtype=np.int64)
        out[self.encode(text)] = 1
        return out

    def id_to_token(self, id: int) -> str:
        return self.vocab[int(ids_array([id], self.vocab_size, "WordTokenizer.id_to_token")[0])]

    def token_to_id(self, token: str) -> int | None:
        return self.stoi.get(token)

    def _fields(self) -> dict:
        return {"vocab": list(self.vocab), "unk_token": self.unk_token, "pad_token": self.pad_token,
                "lower": self.lower, "lemmatize": self.lemmatize}

    @classmethod
    def _from_fields(cls, f: Fields) -> WordTokenizer:
        vocab = f.strings("vocab", max_len=MAX_VOCAB)
        unk = f.string("unk_token")
        pad = f.get("pad_token", (str, type(None)), "a string or null")
        if pad is not None:
            pad = f.string("pad_token")
        for name, token in (("unk_token", unk), ("pad_token", pad)):
            if token is not None and token not in vocab:
                raise f.error(name, "a token of 'vocab'", token)
        return cls(vocab, unk, pad, f.boolean("lower"), f.boolean("lemmatize"))
