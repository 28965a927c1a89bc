"""The unigram language-model tokenizer of SentencePiece, with the ``▁`` space marker (Kudo 2018, "Subword
regularization"; Kudo & Richardson 2018; seed 000 §6.4, seed 003: SentencePiece).

**Normalisation.** Spaces become ``▁`` (U+2581) and a ``▁`` is put in front of the text (SentencePiece's
dummy prefix), so a word and the space before it are one unit: ``"Hello world" → "▁Hello▁world"``. The
normalised text is cut into words — a ``▁`` and the characters up to the next ``▁`` or newline; a newline
alone; a run before the first ``▁`` of a line — and pieces never cross a word boundary.

**Model.** Each piece ``x`` has a log-probability ``score(x)``; a segmentation of a word is a sequence of
pieces that spells it, with probability ``Π p(xᵢ)``. **Encoding** takes the most probable segmentation
(Viterbi, by dynamic programming over the word's characters); a character that no piece holds becomes
``<unk>`` (id 0), at a score 10 below the lowest piece. **Decoding** joins the pieces, turns ``▁`` back
into spaces and drops the dummy prefix's space; ``<unk>`` decodes as ``⁇`` (U+2047). The round trip
is exact for every text whose characters are all in the vocabulary (every character of the training
text is, when the vocabulary is large enough to hold them) and that holds no ``▁`` of its own.

**Training** (:meth:`UnigramTokenizer.train`):

1. Seed vocabulary: every character of the training words (always kept: there is no unknown character in
   the training text), and the substrings of 2 to ``max_piece_length`` characters seen at least twice, the
   ``seed_factor × vocab_size`` with the largest count × length; initial scores log(count / total).
2. EM, ``em_iterations`` times per round. E-step: for every word, the forward–backward algorithm over its
   lattice of pieces gives each piece's expected count (weighted by the word's frequency). M-step:
   ``p(x) = expected count / total``; pieces expected less than 0.5 times are dropped (characters excepted).
3. Pruning: segment every word by Viterbi; for each piece, the loss of removing it is the drop in corpus
   log-likelihood when its occurrences are segmented instead by the best split of the piece into the other
   pieces. Keep the pieces of largest loss — ``shrink`` (0.75) of them per round, characters always — and
   go back to 2 until ``vocab_size − 1`` pieces remain (``<unk>`` is the last one).
4. Ids: ``<unk>`` 0, then the pieces by decreasing score (ties in sorted order).
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from ..tensor import Tensor
from .base import MAX_VOCAB, Fields, Tokenizer, check_text, encode_words, ids_array, vocab_size_arg

SPACE = "\u2581"
"""▁, SentencePiece's space marker."""
UNK_PIECE = "<unk>"
UNK_TEXT = "\u2047"
"""⁇, what ``<unk>`` decodes to (as SentencePiece)."""
UNK_PENALTY = 10.0
MAX_PIECE_CHARS = 1024
"""The longest piece a saved tokenizer may hold (training makes pieces of at most ``max_piece_length``, 16)."""
_WORDS = re.compile(f"{SPACE}[^{SPACE}\\n]*|\\n|[^{SPACE}\\n]+")


def normalize(text: str) -> str:
    """``text`` with spaces as ``▁`` and a leading ``▁`` (the dummy prefix)."""
    return SPACE + text.replace(" ", SPACE)


def split_words(text: str) -> list[str]:
    """The words of ``text`` after :func:`normalize` (they concatenate back to it)."""
    return _WORDS.findall(normalize(text))


class UnigramTokenizer(Tokenizer, kind="unigram"):
    """SentencePiece's unigram model: pieces with log-probabilities, Viterbi segmentation, ``▁`` for spaces.

    Args:
        pieces: the pieces by id from id 1 (id 0 is ``<unk>``); distinct, non-empty, none equal to ``<unk>``.
        scores: the log-probability of each piece (finite numbers).

    Examples:
        >>> tok = UnigramTokenizer(["▁", "a", "b", "▁ab", "▁a"], [-3.0, -2.0, -2.0, -1.0, -1.5])
        >>> [tok.id_to_token(i) for i in tok.encode("ab aab")]
        ['▁ab', '▁a', 'a', 'b']
        >>> tok.decode(tok.encode("ab aab"))
        'ab aab'
    """

    field_names = ("pieces", "scores")

    def __init__(self, pieces: Sequence[str], scores: Sequence[float]) -> None:
        pieces, scores = list(pieces), [float(s) for s in scores]
        if len(pieces) != len(scores):
            raise ValueError(f"UnigramTokenizer: {len(pieces)} pieces but {len(scores)} scores")
        if any(not isinstance(p, str) or not p or p == UNK_PIECE for p in pieces):
            raise ValueError(f"UnigramTokenizer: pieces must be non-empty strings other than {UNK_PIECE!r}")
        if len(set(pieces)) != len(pieces):
            raise ValueError("UnigramTokenizer: the pieces have repeats")
        if not all(math.isfinite(s) for s in scores):
            raise ValueError("UnigramTokenizer: every score must be a finite number")
        self.pieces: list[str] = [UNK_PIECE, *pieces]
        self.scores: list[float] = [0.0, *scores]
        self._index = {p: i for i, p in enumerate(self.pieces) if i}
        self._longest = max((len(p) for p in pieces), default=1)
        self._unk_score = (min(scores) if scores else 0.0) - UNK_PENALTY
        self._cache: dict[str, tuple[int, ...]] = {}

    @property
    def vocab_size(self) -> int:
        return len(self.pieces)

    # ------------------------------------------------------------------ encoding
    def encode(self, text: str) -> list[int]:
        """The ids of the most probable segmentation of each word of ``text`` (Viterbi)."""
        check_text(text, "UnigramTokenizer.encode")
        if not text:  # no dummy prefix for nothing (as SentencePiece)
            return []
        return encode_words(split_words(text), self._viterbi, self._cache)

    def _viterbi(self, word: str) -> list[int]:
        return viterbi(word, self._index, self.scores, self._longest, self._unk_score)

    def decode(self, ids: Iterable[int] | np.ndarray | Tensor) -> str:
        """The pieces joined, ``▁`` as a space, without the dummy prefix's leading space."""
        ids = ids_array(ids, self.vocab_size, "UnigramTokenizer.decode")
        pieces = self.pieces
        text = "".join([UNK_TEXT if i == 0 else pieces[i] for i in ids.tolist()]).replace(SPACE, " ")
        return text[1:] if text.startswith(" ") else text

    def id_to_token(self, id: int) -> str:
        return self.pieces[int(ids_array([id], self.vocab_size, "UnigramTokenizer.id_to_token")[0])]

    def token_to_id(self, token: str) -> int | None:
        return 0 if token == UNK_PIECE else self._index.get(token)

    # ------------------------------------------------------------------ training
    @classmethod
    def train(cls, text: str, vocab_size: int, *, max_piece_length: int = 16, shrink: float = 0.75,
              em_iterations: int = 2, seed_factor: int = 10) -> UnigramTokenizer:
        """Learn ``vocab_size − 1`` pieces (plus ``<unk>``) by EM with pruning (see the module docstring)."""
        check_text(text, "UnigramTokenizer.train")
        vocab_size = vocab_size_arg(vocab_size, "UnigramTokenizer.train", 2)
        if not 0 < shrink < 1:
            raise ValueError(f"UnigramTokenizer.train: shrink must be in (0, 1), got {shrink}")
        words = Counter(split_words(text))
        pieces, scores = learn_unigram(words, vocab_size - 1, max_piece_length, shrink, em_iterations, seed_factor)
        return cls(pieces, scores)

    # ------------------------------------------------------------------ saving
    def _fields(self) -> dict:
        return {"pieces": self.pieces[1:], "scores": self.scores[1:]}

    @classmethod
    def _from_fields(cls, f: Fields) -> UnigramTokenizer:
        pieces = f.strings("pieces", max_len=MAX_VOCAB - 1)
        for i, p in enumerate(pieces):
            if not p or p == UNK_PIECE:
                raise f.error("pieces", f"non-empty pieces other than {UNK_PIECE!r}", detail=f"entry {i} is {p!r}")
            if len(p) > MAX_PIECE_CHARS:
                raise f.error("pieces", f"pieces of at most {MAX_PIECE_CHARS} characters",
                              detail=f"entry {i} has {len(p)}")
        scores = f.get("scores", list, "a list of finite numbers, one per piece")
        if len(scores) != len(pieces):
            raise f.error("scores", f"one score per piece ({len(pieces)})", detail=f"got {len(scores)}")
        for i, s in enumerate(scores):
            if isinstance(s, bool) or not isinstance(s, (int, float)) or not _finite(s):
                raise f.error("scores", "a list of finite numbers", detail=f"entry {i} is {s!r:.40}")
        return cls(pieces, scores)


def _finite(x: int | float) -> bool:
    """Whether ``x`` is a finite float (an integer too large for a float is not)."""
    try:
        return math.isfinite(x)
    except OverflowError:
        return False


def viterbi(word: str, index: dict[str, int], scores: Sequence[float], longest: int,
            unk_score: float) -> list[int]:
    """The most probable segmentation of ``word`` into pieces of ``index`` (ids), ``<unk>`` (id 0) for a
    character no piece covers; ties go to the earlier-found (longer last piece)."""
    n = len(word)
    best = [0.0] + [-math.inf] * n
    back = [(0, 0)] * (n + 1)
    for end in range(1, n + 1):
        top, arg = -math.inf, None
        for start in range(max(0, end - longest), end):
            if best[start] == -math.inf:
                continue
            i = index.get(word[start:end])
            if i is not None:
                s = best[start] + scores[i]
                if s > top:
                    top, arg = s, (start, i)
        if arg is None and best[end - 1] > -math.inf:  # no piece ends here: the last character is unknown
            top, arg = best[end - 1] + unk_score, (end - 1, 0)
        best[end], back[end] = top, arg
    out, end = [], n
    while end > 0:
        start, i = back[end]
        out.append(i)
        end = start
    return out[::-1]


class Lattice:
    """Every way to spell every training word with the pieces, as one array of edges (word, start node, end node,
    piece); the forward–backward and Viterbi passes then run over all words at once, one character position at a
    time (NumPy), instead of word by word in Python.

    Node ``first[w] + j`` is position j of word w (0 … len). Built once from the seed vocabulary; a pruned piece
    is given the score −inf, which removes its edges.
    """

    def __init__(self, words: Sequence[str], freqs: Sequence[int], index: dict[str, int], longest: int) -> None:
        gs, ge, piece, wid, local = [], [], [], [], []
        first, offset = [], 0
        prefixes = {p[:k] for p in index for k in range(1, len(p) + 1)}
        for w, word in enumerate(words):
            n = len(word)
            first.append(offset)
            for a in range(n):
                for b in range(a + 1, min(n, a + longest) + 1):
                    sub = word[a:b]
                    if sub not in prefixes:       # no piece starts with it: none longer either
                        break
                    i = index.get(sub)
                    if i is not None:
                        gs.append(offset + a)
                        ge.append(offset + b)
                        piece.append(i)
                        wid.append(w)
                        local.append(a)
            offset += n + 1
        self.first = np.array(first, dtype=np.int64)
        self.last = self.first + np.array([len(w) for w in words], dtype=np.int64)
        self.freq = np.asarray(freqs, dtype=np.float64)
        self.nodes = offset
        gs, ge, piece = np.array(gs, np.int64), np.array(ge, np.int64), np.array(piece, np.int64)
        wid, lstart = np.array(wid, np.int64), np.array(local, np.int64)
        lend = ge - self.first[wid] if len(ge) else ge
        self.gs, self.ge, self.piece, self.wid = gs, ge, piece, wid
        # forward order: by local end position, then end node (a group per node), then start (ties as viterbi())
        self.fwd = np.lexsort((lstart, ge, lend))
        self.fwd_groups = self._groups(lend[self.fwd], ge[self.fwd])
        # backward order: by local start position, then start node
        self.bwd = np.lexsort((ge, gs, lstart))
        self.bwd_groups = self._groups(lstart[self.bwd], gs[self.bwd])[::-1]

    @staticmethod
    def _groups(position: np.ndarray, node: np.ndarray) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
        """For each position (ascending): the slice [lo, hi) of sorted edges, the group starts (relative to
        lo) of equal ``node`` within it, and those nodes."""
        out = []
        bounds = np.flatnonzero(np.diff(position)) + 1
        for lo, hi in zip(np.concatenate([[0], bounds]), np.concatenate([bounds, [len(position)]])):
            if hi > lo:
                starts = np.concatenate([[0], np.flatnonzero(np.diff(node[lo:hi])) + 1])
                out.append((int(lo), int(hi), starts, node[lo:hi][starts]))
        return out

    def _pass(self, score: np.ndarray, order: np.ndarray, groups, source: np.ndarray, init: np.ndarray,
              viterbi: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """One sweep: value[node] = logsumexp (or max) over its group's edges of value[source] + score."""
        value = np.full(self.nodes, -np.inf)
        value[init] = 0.0
        back = np.full(self.nodes, -1, dtype=np.int64) if viterbi else None
        edge_score, edge_source = score[self.piece[order]], source[order]
        for lo, hi, starts, nodes in groups:
            v = value[edge_source[lo:hi]] + edge_score[lo:hi]
            top = np.maximum.reduceat(v, starts)
            if viterbi:
                sizes = np.diff(np.concatenate([starts, [hi - lo]]))
                first = np.where(v == np.repeat(top, sizes), np.arange(hi - lo), hi - lo)
                back[nodes] = order[lo + np.minimum.reduceat(first, starts)]
                value[nodes] = top
                continue
            safe = np.where(np.isfinite(top), top, 0.0)
            sizes = np.diff(np.concatenate([starts, [hi - lo]]))
            with np.errstate(divide="ignore"):
                value[nodes] = safe + np.log(np.add.reduceat(np.exp(v - np.repeat(safe, sizes)), starts))
        return value, back

    def expected_counts(self, logp: np.ndarray) -> tuple[np.ndarray, float]:
        """E-step: each piece's expected count over all words (weighted by frequency), and the log-likelihood."""
        alpha, _ = self._pass(logp, self.fwd, self.fwd_groups, self.gs, self.first)
        beta, _ = self._pass(logp, self.bwd, self.bwd_groups, self.ge, self.last)
        z = alpha[self.last]
        ok = np.isfinite(z)
        with np.errstate(invalid="ignore"):
            post = np.exp(alpha[self.gs] + logp[self.piece] + beta[self.ge] - z[self.wid])
        post = np.where(ok[self.wid] & np.isfinite(post), post, 0.0) * self.freq[self.wid]
        return np.bincount(self.piece, weights=post, minlength=len(logp)), float((self.freq[ok] * z[ok]).sum())

    def viterbi_counts(self, logp: np.ndarray) -> np.ndarray:
        """How often each piece occurs in the most probable segmentations of the words (weighted by frequency)."""
        _, back = self._pass(logp, self.fwd, self.fwd_groups, self.gs, self.first, viterbi=True)
        counts = np.zeros(len(logp))
        node, weight = self.last.copy(), self.freq.copy()
        active = (node != self.first) & (back[node] >= 0)
        while active.any():
            edge = back[node[active]]
            np.add.at(counts, self.piece[edge], weight[active])
            node[active] = self.gs[edge]
            active = (node != self.first) & (back[node] >= 0)
        return counts


def _expected_counts(words: list[str], freqs: list[int], pieces: list[str], logp: list[float],
                     longest: int) -> tuple[np.ndarray, float]:
    """E-step on a list of pieces: each piece's expected count over all words, and the log-likelihood."""
    lattice = Lattice(words, freqs, {p: i for i, p in enumerate(pieces)}, longest)
    return lattice.expected_counts(np.asarray(logp, dtype=np.float64))


def frequent_substrings(words: dict[str, int], longest: int) -> Counter:
    """The substrings of 2 to ``longest`` characters seen at least twice (weighted by word frequency), with their
    counts. Level by level: a substring is extended by one character only where it was itself seen twice (a
    longer one cannot be more frequent than its prefix), so a text of long unique lines costs little."""
    found: Counter = Counter()
    positions = [(w, i) for w in words for i in range(len(w) - 1)]
    for k in range(2, longest + 1):
        level: Counter = Counter()
        for w, i in positions:
            level[w[i:i + k]] += words[w]
        frequent = {s: c for s, c in level.items() if c >= 2}
        found.update(frequent)
        positions = [(w, i) for w, i in positions if i + k < len(w) and w[i:i + k] in frequent]
        if not positions:
            break
    return found


def learn_unigram(words: dict[str, int], size: int, max_piece_length: int = 16, shrink: float = 0.75,
                  em_iterations: int = 2, seed_factor: int = 10) -> tuple[list[str], list[float]]:
    """The unigram training loop on word counts: ``size`` pieces (fewer when the text has fewer candidates)
    and their log-probabilities, by decreasing score."""
    word_list, freqs = list(words), list(words.values())
    chars = Counter()
    for w, f in words.items():
        for ch in w:
            chars[ch] += f
    subs = frequent_substrings(words, max_piece_length)
    required = sorted(chars, key=lambda c: (-chars[c], c))[:size]
    if len(required) < len(chars):  # too many characters: words with the others are left out
        kept = set(required)
        pairs = [(w, f) for w, f in zip(word_list, freqs) if kept.issuperset(w)]
        word_list, freqs = [w for w, _ in pairs], [f for _, f in pairs]
    alphabet = set(required)
    candidates = sorted((s for s, c in subs.items() if c >= 2 and alphabet.issuperset(s)),
                        key=lambda s: (-subs[s] * len(s), s))[:max(seed_factor * size, 1)]
    pieces = required + candidates
    counts = np.array([chars[c] for c in required] + [subs[s] for s in candidates], dtype=np.float64)
    logp = np.log(counts / counts.sum())
    lattice = Lattice(word_list, freqs, {p: i for i, p in enumerate(pieces)}, max_piece_length)
    required_mask = np.arange(len(pieces)) < len(required)
    alive = np.ones(len(pieces), dtype=bool)
    while True:
        for _ in range(em_iterations):
            expected, _ = lattice.expected_counts(logp)
            alive &= required_mask | (expected >= 0.5)
            total = float(expected[alive].sum())
            with np.errstate(divide="ignore"):
                logp = np.where(alive, np.log(np.maximum(expected, 1e-12) / total), -np.inf)
        if alive.sum() <= size:
            break
        target = max(size, int(alive.sum() * shrink))
        loss = _removal_loss(lattice, pieces, logp, alive, len(required), max_piece_length)
        optional = [k for k in np.flatnonzero(alive & ~required_mask).tolist()]
        optional.sort(key=lambda k: (-loss[k], pieces[k]))
        alive = required_mask.copy()
        alive[optional[:target - len(required)]] = True
        logp = np.where(alive, logp, -np.inf)
    kept = np.flatnonzero(alive).tolist()
    kept.sort(key=lambda k: (-logp[k], pieces[k]))
    return [pieces[k] for k in kept], [float(logp[k]) for k in kept]


def _removal_loss(lattice: Lattice, pieces: list[str], logp: np.ndarray, alive: np.ndarray, n_required: int,
                  longest: int) -> np.ndarray:
    """How much the corpus log-likelihood (Viterbi) drops when each piece is removed and its occurrences are
    segmented into the other pieces instead (SentencePiece's pruning criterion); +inf for the characters."""
    vfreq = lattice.viterbi_counts(logp)
    index = {pieces[k]: k for k in np.flatnonzero(alive).tolist()}
    scores = logp.tolist()
    unk = float(logp[alive].min()) - UNK_PENALTY
    total = vfreq.sum()
    loss = np.full(len(pieces), np.inf)
    for k in np.flatnonzero(alive).tolist():
        if k < n_required:
            continue
        if vfreq[k] == 0:
            loss[k] = 0.0
            continue
        piece = pieces[k]
        del index[piece]  # the best split of the piece without itself
        alternative = viterbi(piece, index, scores, longest, unk)
        index[piece] = k
        new_total = total + vfreq[k] * (len(alternative) - 1)
        logprob_piece = math.log(vfreq[k]) - math.log(total)
        logprob_alt = sum(math.log(vfreq[a] + vfreq[k]) - math.log(new_total) for a in alternative)
        loss[k] = vfreq[k] * (logprob_piece - logprob_alt)
    return loss
