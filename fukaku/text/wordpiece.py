"""WordPiece, BERT's subword tokenizer (Schuster & Nakajima 2012; Wu et al. 2016; Devlin et al. 2019; seed 000
§6.4: "play", "##ing").

**Pre-tokenisation** (a simplified form of BERT's basic tokenizer): optional lower-casing, then words are
the runs of letters and digits (Python's ``[^\\W_]``); every other character that is not whitespace
(punctuation, symbols, ``_``, emoji) is a word by itself; whitespace separates words and is dropped.

**Encoding** each word, greedy longest match first: take the longest vocabulary entry that is a prefix of
the word, then the longest ``##``-entry (a continuation piece) that is a prefix of the rest, and so on; if
at some point nothing matches, the whole word becomes ``[UNK]`` (as does a word longer than
``max_input_chars_per_word``). **Decoding** joins the pieces, a ``##`` piece glued to the one before and
the others separated by a space (whitespace and case are not restored).

**Training** (:meth:`WordPieceTokenizer.train`), the likelihood-score merge rule: start from the special
tokens and the alphabet — each character seen at the start of a word, and ``##c`` for each character seen
inside one; split every word into these units. Then, once per step, merge the adjacent pair ``(a, b)`` of
highest score

    score(a, b) = count(ab) / (count(a) · count(b)),

the counts weighted by word frequency — the pair whose merge most increases the likelihood of the training
words under a unigram model of the units (a frequent pair of rare units wins over a pair of frequent
units). Ties (scores equal within a relative 1e-12) go to the smallest pair of internal ids (the alphabet
sorted, then the new tokens in order). The new token is ``a`` followed by ``b`` without its ``##``; when that
string is already a token (made from another pair) its id is reused and the vocabulary does not grow.
Training stops at ``vocab_size`` tokens or when no pair is left. When the alphabet alone does not fit, its
most frequent units are kept (ties sorted) and words using the others are left out of training.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from .._checks import check_int
from ..tensor import Tensor
from .base import MAX_VOCAB, Fields, Tokenizer, check_text, encode_words, ids_array, vocab_size_arg
from .bpe import _merge_positions

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
"""BERT's special tokens, ids 0–4 of a trained vocabulary."""
PREFIX = "##"
MAX_WORD_CHARS = 10_000
"""The largest ``max_input_chars_per_word`` a saved tokenizer may set (BERT uses 100)."""
TIE = 1e-12
"""Scores within this relative distance of the best are a tie (``15/(15·36)`` and ``17/(17·36)`` differ in
floating point only by rounding)."""
_WORDS = re.compile(r"[^\W_]+|[^\s\w]|_")


class WordPieceTokenizer(Tokenizer, kind="wordpiece"):
    """BERT's WordPiece: word-initial pieces and ``##`` continuation pieces, greedy longest match first.

    Args:
        vocab: the tokens by id (special tokens included); it must hold ``unk_token``.
        unk_token: the token of a word that cannot be split into pieces of the vocabulary.
        lowercase: lower-case the text first (BERT "uncased").
        max_input_chars_per_word: a longer word becomes ``unk_token`` at once (BERT: 100).

    Examples:
        >>> tok = WordPieceTokenizer(["[UNK]", "play", "##ing", "##s", "p", "##l"])
        >>> [tok.id_to_token(i) for i in tok.encode("playing plays plx")]
        ['play', '##ing', 'play', '##s', '[UNK]']
    """

    field_names = ("vocab", "unk_token", "lowercase", "max_input_chars_per_word")

    def __init__(self, vocab: Sequence[str], unk_token: str = "[UNK]", lowercase: bool = False,
                 max_input_chars_per_word: int = 100) -> None:
        vocab = list(vocab)
        if any(not isinstance(t, str) or not t for t in vocab):
            raise ValueError("WordPieceTokenizer: the vocabulary must be non-empty strings")
        if len(set(vocab)) != len(vocab):
            raise ValueError("WordPieceTokenizer: the vocabulary has repeated tokens")
        if unk_token not in vocab:
            raise ValueError(f"WordPieceTokenizer: unk_token {unk_token!r} is not in the vocabulary")
        check_int(max_input_chars_per_word, "max_input_chars_per_word", "WordPieceTokenizer")
        self.vocab: list[str] = vocab
        self.unk_token, self.lowercase = unk_token, bool(lowercase)
        self.max_input_chars_per_word = max_input_chars_per_word
        self.stoi = {t: i for i, t in enumerate(vocab)}
        self.unk_id = self.stoi[unk_token]
        # no piece longer than the longest word encoded can match: the search never looks further
        self._longest = min(max_input_chars_per_word,
                            max(len(t) - (len(PREFIX) if t.startswith(PREFIX) else 0) for t in vocab))
        self._cache: dict[str, tuple[int, ...]] = {}

    # ------------------------------------------------------------------ encoding
    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def pretokenize(self, text: str) -> list[str]:
        """The words of ``text`` (see the module docstring)."""
        check_text(text, "WordPieceTokenizer")
        return _WORDS.findall(text.lower() if self.lowercase else text)

    def encode(self, text: str) -> list[int]:
        """The piece ids of ``text``'s words; an unsplittable word is one ``[UNK]``."""
        return encode_words(self.pretokenize(text), self._pieces, self._cache)

    def _pieces(self, word: str) -> tuple[int, ...]:
        """Greedy longest match first over one word."""
        n = len(word)
        if n > self.max_input_chars_per_word:
            return (self.unk_id,)
        stoi, out, start = self.stoi, [], 0
        while start < n:
            prefix = PREFIX if start else ""
            for end in range(min(n, start + self._longest), start, -1):
                i = stoi.get(prefix + word[start:end])
                if i is not None:
                    out.append(i)
                    start = end
                    break
            else:
                return (self.unk_id,)
        return tuple(out)

    def decode(self, ids: Iterable[int] | np.ndarray | Tensor) -> str:
        """The pieces joined: a ``##`` piece continues the word before it, other pieces start a new word."""
        ids = ids_array(ids, self.vocab_size, "WordPieceTokenizer.decode")
        parts: list[str] = []
        for i in ids.tolist():
            token = self.vocab[i]
            if token.startswith(PREFIX) and len(token) > len(PREFIX):
                parts.append(token[len(PREFIX):])
            else:
                parts.append(" " + token if parts else token)
        return "".join(parts)

    def id_to_token(self, id: int) -> str:
        return self.vocab[int(ids_array([id], self.vocab_size, "WordPieceTokenizer.id_to_token")[0])]

    def token_to_id(self, token: str) -> int | None:
        return self.stoi.get(token)

    # ------------------------------------------------------------------ training
    @classmethod
    def train(cls, text: str, vocab_size: int, *, lowercase: bool = False,
              specials: Sequence[str] = SPECIALS, unk_token: str = "[UNK]") -> WordPieceTokenizer:
        """Learn a vocabulary of ``vocab_size`` tokens (specials included) with the likelihood-score rule.

        Args:
            text: the training text.
            vocab_size: the largest vocabulary, special tokens included.
            lowercase: lower-case the text first.
            specials: the special tokens, ids ``0 … len(specials) − 1``; must hold ``unk_token``.
        """
        check_text(text, "WordPieceTokenizer.train")
        specials = list(specials)
        if unk_token not in specials:
            raise ValueError(f"WordPieceTokenizer.train: unk_token {unk_token!r} must be one of the specials")
        vocab_size = vocab_size_arg(vocab_size, "WordPieceTokenizer.train", len(specials))
        words = Counter(_WORDS.findall(text.lower() if lowercase else text))
        return cls(specials + learn_wordpieces(words, vocab_size - len(specials), set(specials)), unk_token, lowercase)

    # ------------------------------------------------------------------ saving
    def _fields(self) -> dict:
        return {"vocab": list(self.vocab), "unk_token": self.unk_token, "lowercase": self.lowercase,
                "max_input_chars_per_word": self.max_input_chars_per_word}

    @classmethod
    def _from_fields(cls, f: Fields) -> WordPieceTokenizer:
        vocab = f.strings("vocab", max_len=MAX_VOCAB)
        if any(not t for t in vocab):
            raise f.error("vocab", "non-empty tokens", detail="an entry is the empty string")
        unk = f.string("unk_token")
        if unk not in vocab:
            raise f.error("unk_token", "a token of 'vocab'", unk)
        return cls(vocab, unk, f.boolean("lowercase"), f.integer("max_input_chars_per_word", 1, MAX_WORD_CHARS))


def learn_wordpieces(words: dict[str, int], budget: int, taken: set[str] = frozenset()) -> list[str]:
    """The WordPiece training loop on word counts: at most ``budget`` tokens (alphabet then merges), in order.

    Pair counts live in NumPy arrays (one slot per pair), so each step scores every pair at once; only the
    words holding the merged pair are re-counted.
    """
    alphabet = Counter()
    for w, c in words.items():
        alphabet[w[0]] += c
        for ch in w[1:]:
            alphabet[PREFIX + ch] += c
    units = sorted(alphabet, key=lambda u: (-alphabet[u], u))[:budget]
    units = sorted(u for u in units if u not in taken)
    tokens: list[str] = list(units)
    index = {t: i for i, t in enumerate(tokens)}
    segs: list[list[int]] = []
    freqs: list[int] = []
    for w, c in words.items():
        seg = [index.get(w[0])] + [index.get(PREFIX + ch) for ch in w[1:]]
        if None not in seg:
            segs.append(seg)
            freqs.append(c)
    capacity = max(budget, len(tokens)) + 1
    token_count = np.zeros(capacity, dtype=np.float64)
    pair_of: dict[tuple[int, int], int] = {}
    pair_a, pair_b, pair_count = [], [], []
    where: dict[tuple[int, int], set[int]] = {}
    for wi, (seg, c) in enumerate(zip(segs, freqs)):
        for t in seg:
            token_count[t] += c
        for p in zip(seg, seg[1:]):
            if p not in pair_of:
                pair_of[p] = len(pair_a)
                pair_a.append(p[0])
                pair_b.append(p[1])
                pair_count.append(0)
            pair_count[pair_of[p]] += c
            where.setdefault(p, set()).add(wi)
    a_arr, b_arr = np.array(pair_a, dtype=np.int64), np.array(pair_b, dtype=np.int64)
    counts = np.array(pair_count, dtype=np.float64)

    def slot(p: tuple[int, int]) -> int:
        nonlocal a_arr, b_arr, counts
        s = pair_of.get(p)
        if s is None:
            s = pair_of[p] = len(pair_of)
            if s >= len(counts):  # grow by doubling
                grow = max(16, len(counts))
                a_arr = np.concatenate([a_arr, np.zeros(grow, np.int64)])
                b_arr = np.concatenate([b_arr, np.zeros(grow, np.int64)])
                counts = np.concatenate([counts, np.zeros(grow)])
            a_arr[s], b_arr[s] = p
        return s

    while len(tokens) < budget and len(counts) and counts.max() > 0:
        n = len(pair_of)
        live = counts[:n] > 0
        score = np.where(live, counts[:n] / np.maximum(token_count[a_arr[:n]] * token_count[b_arr[:n]], 1e-300), -1.0)
        best = np.flatnonzero(score >= score.max() * (1 - TIE))  # equal up to rounding: a tie
        best = best[np.lexsort((b_arr[best], a_arr[best]))[0]]  # ties: the smallest (a, b)
        a, b = int(a_arr[best]), int(b_arr[best])
        name = tokens[a] + tokens[b][len(PREFIX):]
        new = index.get(name)
        if new is None:
            new = index[name] = len(tokens)
            tokens.append(name)
            if new >= len(token_count):
                token_count = np.concatenate([token_count, np.zeros(len(token_count))])
        pair = (a, b)
        for wi in where.pop(pair, ()):
            seg = segs[wi]
            merged, old_at, _ = _merge_positions(seg, a, b, new)
            if not old_at:
                continue
            c = freqs[wi]
            for t in seg:
                token_count[t] -= c
            for p in zip(seg, seg[1:]):
                counts[pair_of[p]] -= c
            for t in merged:
                token_count[t] += c
            for p in zip(merged, merged[1:]):
                s = slot(p)  # first: slot() may grow (rebind) the arrays
                counts[s] += c
                where.setdefault(p, set()).add(wi)
            segs[wi] = merged
        counts[pair_of[pair]] = 0
    return tokens
