"""Byte-level byte-pair encoding, as GPT-2 uses it (Sennrich et al. 2016; Radford et al. 2019; seed 000 §6.4:
"BPE adds exactly one merge per step; byte-level BPE never emits an unknown token").

**Base vocabulary.** Ids 0–255 are the 256 byte values, so every text — any language, emoji, control
characters — is encodable and nothing is ever unknown; the UTF-8 bytes of the text are what is split.

**Pre-tokenisation.** The text is first cut into pre-tokens (merges never cross their boundaries) by
:data:`PATTERN`, GPT-2's rule written with what Python's ``re`` has (it has no ``\\p{L}``/``\\p{N}``
classes)::

    '(?:[sdmt]|ll|ve|re)     contractions: 's 'd 'm 't 'll 've 're
    | ?[^\\W\\d_]+             an optional space and a run of letters  (\\p{L}: word characters less digits and _)
    | ?\\d+                   an optional space and a run of digits   (\\p{N}: Python's \\d, the decimal digits)
    | ?(?:[^\\s\\w]|_)+        an optional space and a run of anything else (punctuation, symbols, emoji, _)
    |\\s+(?!\\S)|\\s+          whitespace; a run followed by a word leaves its last space to that word

Every character matches one of the alternatives, so the pre-tokens concatenate back to the text exactly.
(Python's ``\\w`` counts letters and digits of every script, so Japanese kana and kanji are letters; a
combining mark is "anything else".)

**Training** (:meth:`BPETokenizer.train`): count the pre-tokens (each distinct word once, with its
frequency), split each into bytes, count adjacent pairs weighted by word frequency; then, once per step,
merge the most frequent pair everywhere into a new token (id 256, 257, …). Ties are broken by the
smallest pair of ids ``(left, right)``, compared as a tuple — so training is deterministic. Pair counts are
updated incrementally: only the pairs next to a merge, in the words that hold the merged pair, are
re-counted, and the next best pair comes from a heap with lazy deletion. Training stops early when no pair
is left (every word a single token).

**Encoding** applies the merges to each pre-token in the order they were learnt (the lowest-ranked pair
present first, left to right), which reproduces the training segmentation — a heap over a linked list of the
pre-token's tokens, O(n log n); results are cached per pre-token.
**Decoding** joins the tokens' bytes and decodes UTF-8; ``decode(encode(t)) == t`` for every text. Ids
that split a character (a sequence not produced by ``encode``) decode with U+FFFD in its place.
"""
from __future__ import annotations

import heapq
import re
from collections import Counter
from collections.abc import Iterable

from ..tensor import Tensor
from .base import MAX_VOCAB, Fields, Tokenizer, check_text, encode_words, ids_array, vocab_size_arg

PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+"""
"""GPT-2's pre-tokenisation regex in Python's ``re`` syntax (see the module docstring)."""
PRETOKENIZERS = {"gpt2": PATTERN}
"""Pre-tokenisers by the name a saved tokenizer gives (the file names one; it never holds a regex)."""
MAX_TOKEN_BYTES = 1 << 20
"""The longest token a loaded tokenizer may have, in bytes (a hostile merge list doubling a token 30
times would otherwise ask for a gigabyte)."""
MAX_TOTAL_BYTES = 1 << 26
"""The most bytes all tokens of a loaded tokenizer may hold together."""


def pretokenize(text: str, pretokenizer: str = "gpt2") -> list[str]:
    """The pre-tokens of ``text`` (they concatenate back to ``text``)."""
    return _compiled(pretokenizer).findall(text)


_COMPILED: dict[str, re.Pattern] = {}


def _compiled(name: str) -> re.Pattern:
    if name not in _COMPILED:
        _COMPILED[name] = re.compile(PRETOKENIZERS[name])
    return _COMPILED[name]


class BPETokenizer(Tokenizer, kind="bpe"):
    """Byte-level BPE: 256 byte tokens and, after them, one token per learnt merge.

    Args:
        merges: the merges in the order they were learnt, each a pair of token ids ``(left, right)``;
            merge ``k`` makes token ``256 + k`` and may only use tokens ``< 256 + k``.
        pretokenizer: the pre-tokenisation rule, ``"gpt2"`` (:data:`PATTERN`).

    Examples:
        >>> tok = BPETokenizer.train("low lower lowest", 259)   # three merges
        >>> [tok.id_to_token(i) for i in range(256, 259)]
        ['lo', 'low', ' low']
        >>> tok.decode(tok.encode("slow 🐢")) == "slow 🐢"
        True
    """

    field_names = ("merges", "pretokenizer")

    def __init__(self, merges: Iterable[tuple[int, int]] = (), pretokenizer: str = "gpt2") -> None:
        if pretokenizer not in PRETOKENIZERS:
            raise ValueError(f"BPETokenizer: unknown pretokenizer {pretokenizer!r}; expected one of "
                             f"{', '.join(map(repr, PRETOKENIZERS))}")
        self.pretokenizer = pretokenizer
        self._pattern = _compiled(pretokenizer)
        self.merges: list[tuple[int, int]] = []
        self.ranks: dict[tuple[int, int], int] = {}
        self._bytes: list[bytes] = [bytes([b]) for b in range(256)]
        total = 256
        for k, pair in enumerate(merges):
            if len(self._bytes) >= MAX_VOCAB:
                raise ValueError(f"BPETokenizer: more than {MAX_VOCAB - 256} merges")
            a, b = _pair(pair, k)
            new = 256 + k
            if not (0 <= a < new and 0 <= b < new):
                raise ValueError(f"BPETokenizer: merge {k} ({a}, {b}) uses a token that does not exist yet; merge {k} "
                                 f"makes token {new} and may only use tokens 0–{new - 1}")
            if (a, b) in self.ranks:
                raise ValueError(f"BPETokenizer: merge {k} ({a}, {b}) repeats merge {self.ranks[a, b]}")
            size = len(self._bytes[a]) + len(self._bytes[b])
            total += size
            if size > MAX_TOKEN_BYTES or total > MAX_TOTAL_BYTES:
                raise ValueError(f"BPETokenizer: merge {k} makes a token of {size} bytes (the tokens hold {total} "
                                 f"bytes in all); at most {MAX_TOKEN_BYTES} per token and {MAX_TOTAL_BYTES} in all")
            self.ranks[a, b] = k
            self.merges.append((a, b))
            self._bytes.append(self._bytes[a] + self._bytes[b])
        self._cache: dict[str, tuple[int, ...]] = {}
        self._names: dict[str, int] | None = None

    # ------------------------------------------------------------------ training
    @classmethod
    def train(cls, text: str, vocab_size: int, pretokenizer: str = "gpt2") -> BPETokenizer:
        """Learn ``vocab_size − 256`` merges from ``text``, one per step (fewer when no pair is left).

        Args:
            text: the training text.
            vocab_size: the vocabulary size, the 256 byte tokens included (≥ 256).
            pretokenizer: the pre-tokenisation rule (``"gpt2"``).
        """
        check_text(text, "BPETokenizer.train")
        vocab_size = vocab_size_arg(vocab_size, "BPETokenizer.train", 256)
        if pretokenizer not in PRETOKENIZERS:
            raise ValueError(f"BPETokenizer.train: unknown pretokenizer {pretokenizer!r}")
        counts = Counter(_compiled(pretokenizer).findall(text))
        return cls(learn_merges(counts, vocab_size - 256), pretokenizer)

    # ------------------------------------------------------------------ encoding
    @property
    def vocab_size(self) -> int:
        return len(self._bytes)

    def encode(self, text: str) -> list[int]:
        """The ids of ``text``: its pre-tokens' UTF-8 bytes with the merges applied. Never an unknown token."""
        check_text(text, "BPETokenizer.encode")
        return encode_words(self._pattern.findall(text), self._merge_word, self._cache)

    def _merge_word(self, word: str) -> tuple[int, ...]:
        return self._merge(word.encode("utf-8"))

    def _merge(self, data: bytes) -> tuple[int, ...]:
        """The tokens of one pre-token: apply the merges present in the order they were learnt (lowest rank
        first, left to right within a rank). A heap of (rank, position) over a linked list of the tokens keeps
        this O(n log n) for a pre-token of n bytes (a line of Japanese is one pre-token of hundreds)."""
        ids = list(data)
        n = len(ids)
        if n < 2:
            return tuple(ids)
        ranks = self.ranks
        heap = [(r, i) for i, pair in enumerate(zip(ids, ids[1:])) if (r := ranks.get(pair)) is not None]
        if not heap:
            return tuple(ids)
        heapq.heapify(heap)
        nxt = list(range(1, n + 1))
        nxt[-1] = -1
        prv = list(range(-1, n - 1))
        alive = [True] * n
        while heap:
            r, i = heapq.heappop(heap)
            j = nxt[i]
            if not alive[i] or j < 0 or ranks.get((ids[i], ids[j])) != r:
                continue                    # stale: a neighbour has merged since this entry was pushed
            ids[i] = 256 + r
            alive[j] = False
            k = nxt[i] = nxt[j]
            if k >= 0:
                prv[k] = i
                if (rank := ranks.get((ids[i], ids[k]))) is not None:
                    heapq.heappush(heap, (rank, i))
            h = prv[i]
            if h >= 0 and (rank := ranks.get((ids[h], ids[i]))) is not None:
                heapq.heappush(heap, (rank, h))
        return tuple(t for t, keep in zip(ids, alive) if keep)

    def decode(self, ids: Iterable[int] | Tensor) -> str:
        """The text of ``ids``: their bytes joined and decoded as UTF-8 (U+FFFD where a character is cut)."""
        ids = ids_array(ids, self.vocab_size, "BPETokenizer.decode")
        table = self._bytes
        return b"".join([table[i] for i in ids.tolist()]).decode("utf-8", errors="replace")

    def token_bytes(self, id: int) -> bytes:
        """The bytes of token ``id``."""
        return self._bytes[int(ids_array([id], self.vocab_size, "BPETokenizer.token_bytes")[0])]

    def id_to_token(self, id: int) -> str:
        """Token ``id`` as text; a token that is not whole UTF-8 characters as ``<0xNN>`` per byte."""
        return _name(self.token_bytes(id))

    def token_to_id(self, token: str) -> int | None:
        if self._names is None:
            self._names = {}
            for i, b in enumerate(self._bytes):
                self._names.setdefault(_name(b), i)
        return self._names.get(token)

    # ------------------------------------------------------------------ saving
    def _fields(self) -> dict:
        return {"merges": [list(m) for m in self.merges], "pretokenizer": self.pretokenizer}

    @classmethod
    def _from_fields(cls, f: Fields) -> BPETokenizer:
        pre = f.string("pretokenizer")
        if pre not in PRETOKENIZERS:
            raise f.error("pretokenizer", f"one of {', '.join(map(repr, PRETOKENIZERS))}", pre)
        merges = f.get("merges", list, "a list of [left, right] id pairs")
        if len(merges) > MAX_VOCAB - 256:
            raise f.error("merges", f"at most {MAX_VOCAB - 256} merges", detail=f"got {len(merges)}")
        for k, m in enumerate(merges):
            if not (isinstance(m, list) and len(m) == 2
                    and all(isinstance(i, int) and not isinstance(i, bool) for i in m)):
                raise f.error("merges", "a list of [left, right] id pairs", detail=f"merge {k} is {m!r:.60}")
        return cls(merges, pre)


def _pair(pair, k: int) -> tuple[int, int]:
    try:
        a, b = pair
    except (TypeError, ValueError):
        raise ValueError(f"BPETokenizer: merge {k} must be a pair of token ids, got {pair!r:.60}") from None
    for i in (a, b):
        if isinstance(i, bool) or not isinstance(i, int):
            raise ValueError(f"BPETokenizer: merge {k} must be a pair of integer ids, got {pair!r:.60}")
    return a, b


def _name(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "".join(f"<0x{b:02X}>" for b in data)


def _merge_positions(ids: list[int], a: int, b: int, new: int) -> tuple[list[int], list[int], list[int]]:
    """``ids`` with every occurrence of ``(a, b)`` (left to right, not overlapping) replaced by ``new``; also where
    each occurrence was in ``ids`` and where its new token is in the result. ``list.index`` does the scanning."""
    old_at, i, last = [], 0, len(ids) - 1
    try:
        while True:
            i = ids.index(a, i, last)
            if ids[i + 1] == b:
                old_at.append(i)
                i += 2
            else:
                i += 1
    except ValueError:
        pass
    if not old_at:
        return ids, old_at, []
    out, new_at, previous = [], [], 0
    for p in old_at:
        out.extend(ids[previous:p])
        new_at.append(len(out))
        out.append(new)
        previous = p + 2
    out.extend(ids[previous:])
    return out, old_at, new_at


def learn_merges(word_counts: dict[str, int], num_merges: int) -> list[tuple[int, int]]:
    """BPE's training loop on pre-token counts: ``num_merges`` merges (fewer when no pair is left), each the
    most frequent adjacent pair (weighted by word frequency), ties to the smallest ``(left, right)``.

    Only the words holding the merged pair are visited at each step, and in them only the pairs next to a merge
    are re-counted; the best pair comes from a heap of
    ``(−count, left, right)`` whose stale entries (a count that has since changed) are skipped when popped.
    """
    words = [list(w.encode("utf-8")) for w in word_counts]
    freqs = list(word_counts.values())
    counts: dict[tuple[int, int], int] = {}
    where: dict[tuple[int, int], set[int]] = {}
    for wi, (word, freq) in enumerate(zip(words, freqs)):
        for pair in zip(word, word[1:]):
            counts[pair] = counts.get(pair, 0) + freq
            where.setdefault(pair, set()).add(wi)
    heap = [(-c, a, b) for (a, b), c in counts.items()]
    heapq.heapify(heap)
    merges: list[tuple[int, int]] = []
    while len(merges) < num_merges and heap:
        negative, a, b = heapq.heappop(heap)
        pair = (a, b)
        current = counts.get(pair, 0)
        if current != -negative:          # stale: the count changed after this entry was pushed
            if current > 0:
                heapq.heappush(heap, (-current, a, b))
            continue
        new = 256 + len(merges)
        merges.append(pair)
        changed: dict[tuple[int, int], int] = {}
        for wi in where.pop(pair):
            word = words[wi]
            merged, old_at, new_at = _merge_positions(word, a, b, new)
            if not old_at:                 # the word lost the pair to an earlier merge
                continue
            # only the pairs touching a merge change: the old pairs at p − 1, p, p + 1 of each occurrence p go,
            # the new pairs at q − 1, q of each new token q come; the others are the same pairs as before
            freq, last = freqs[wi], len(word) - 2
            for j in {j for p in old_at for j in (p - 1, p, p + 1) if 0 <= j <= last}:
                p = (word[j], word[j + 1])
                counts[p] -= freq
                changed[p] = 0
            last = len(merged) - 2
            for j in {j for q in new_at for j in (q - 1, q) if 0 <= j <= last}:
                p = (merged[j], merged[j + 1])
                counts[p] = counts.get(p, 0) + freq
                changed[p] = 0
                where.setdefault(p, set()).add(wi)
            words[wi] = merged
        counts.pop(pair, None)
        for p in changed:
            c = counts.get(p, 0)
            if c > 0:
                heapq.heappush(heap, (-c, *p))
            elif p in counts:
                del counts[p]
    return merges
