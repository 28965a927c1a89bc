"""word2vec (Mikolov et al. 2013; seed 003: self-supervised word vectors): CBOW (context → centre) and skip-gram
(centre → context), trained with negative sampling or hierarchical softmax, in NumPy.

The pieces, each usable alone:

- :func:`tokenize`: lower-cased words (``\\w+``, with inner apostrophes), the tokens of seed 003's example;
  :func:`text_sentences`: a text as sentences of words, characters or subword pieces (for Japanese);
- :func:`context_windows`, :func:`cbow_pairs`, :func:`skipgram_pairs`: the pseudo-labelled data of seed 003 — each
  centre word with the ``window`` words on each side, ``NA`` past either end of the sentence (seed 003's CBOW
  table, window 2);
- :class:`Vocabulary`: the words seen at least ``min_count`` times, most frequent first, with their counts;
- :func:`keep_probabilities`: subsampling of frequent words, word2vec.c's formula
  ``keep(w) = (√(f(w)/t) + 1) · t/f(w)`` (f the word's share of the corpus, t = ``sample``);
- :func:`noise_distribution`: the negative-sampling noise, unigram counts to the power 0.75, normalised;
- :func:`huffman_tree`: the codes and inner-node paths of hierarchical softmax, built as word2vec.c builds them;
- :class:`Word2Vec`: training and queries — ``most_similar``, ``analogy`` (b − a + c), ``save``/``load``.

**Training** is word2vec.c's stochastic gradient descent with a learning rate decaying linearly from ``alpha`` to
``min_alpha`` over all epochs, vectorised over a batch of centre words at once (no Python loop over words or
pairs): each centre's window is drawn reduced (word2vec.c's random ``b``), frequent words are subsampled before
the windows are made, and the updates of a batch are summed into the weight rows with one scatter-add. As in
word2vec.c a skip-gram step uses each context word as the input and predicts the centre (the same pairs as
centre → context, read the other way). Where it differs from word2vec.c, and why:

- the contexts of one centre share its ``negative`` noise words (Ji et al. 2016, "Parallelizing word2vec in shared
  and distributed memory"), so a window is a small matrix–matrix product instead of one dot product per pair; each
  pair is still scored against ``negative`` words drawn from the unigram^0.75 noise, and the expected gradient is
  word2vec.c's;
- the updates of ``batch_words`` centres are computed from the same weights and summed (word2vec.c applies them
  one pair at a time); a row updated more than 32 times in one batch moves by 32 times its mean update;
- σ is computed exactly (word2vec.c reads it from a table and treats scores beyond ±6 as saturated).

Speed: tiny-shakespeare's ~190k words train at 100k–300k words per second on two cores, as busy as the machine is
(``benchmarks/bench_word2vec.py``); ``workers=2`` runs two Hogwild threads.

Example::

    >>> from fukaku.text.word2vec import Word2Vec
    >>> corpus = [["the", "king", "rules"], ["the", "queen", "rules"]] * 200
    >>> model = Word2Vec(corpus, vector_size=16, min_count=1, epochs=5, seed=0)
    >>> model.vectors.shape, model.index["king"] < len(model.words)
    ((4, 16), True)
"""
from __future__ import annotations

import math
import os
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from .._checks import check_int
from ..ops.elementwise import _sigmoid   # σ in place, in four passes; exactly 0 far in the negative tail

__all__ = ["NA", "tokenize", "text_sentences", "context_windows", "window_matrix", "cbow_pairs", "skipgram_pairs",
           "Vocabulary", "keep_probabilities", "noise_distribution", "huffman_tree", "HuffmanTree",
           "negative_sampling_loss", "Word2Vec", "Word2VecFormatError", "FORMAT", "VERSION"]

NA = "NA"
"""Seed 003's padding word: the context slot of a window that reaches past either end of the sentence."""
PAD = -1
"""The padding id in the arrays of :func:`window_matrix` and :func:`cbow_pairs` (``NA`` as an id)."""
FORMAT, VERSION = "fukaku.word2vec", 1
WORD = re.compile(r"\w+(?:'\w+)*")
ROW_CAP = 32          # a row updated more often in one batch moves by ROW_CAP × its mean update (see Word2Vec)


# ----------------------------------------------------------------------------------------------- windows and pairs
def tokenize(text: str, lower: bool = True) -> list[str]:
    """The words of ``text``: runs of letters, digits and underscores, with inner apostrophes kept (``o'er``),
    lower-cased by default; punctuation and white space separate them (seed 003: "lower-cased").

    Examples:
        >>> tokenize("Word2vec is a technique in natural language processing (NLP).")[:4]
        ['word2vec', 'is', 'a', 'technique']
    """
    if not isinstance(text, str):
        raise TypeError(f"word2vec.tokenize: expected the text as a str, got {type(text).__name__}")
    return WORD.findall(text.lower() if lower else text)


def text_sentences(text: str, tokens: str = "words") -> list[list[str]]:
    r"""A text as word2vec's sentences.

    Args:
        text: the corpus.
        tokens: ``"words"``: the :func:`tokenize` words of each paragraph (blocks separated by blank lines);
            ``"char"``, or a :func:`fukaku.text.train_tokenizer` spec such as ``"unigram:4000"`` or ``"bpe:2000"``: a
            tokenizer of that kind is trained on ``text`` and each line becomes the sequence of its tokens, white
            space dropped — for text without spaces between words (Japanese: neko.txt).

    Examples:
        >>> text_sentences("To be, or not.\n\nThat is it.")
        [['to', 'be', 'or', 'not'], ['that', 'is', 'it']]
        >>> text_sentences("吾輩は猫\nである", "char")
        [['吾', '輩', 'は', '猫'], ['で', 'あ', 'る']]
    """
    if not isinstance(tokens, str):
        raise TypeError(f"word2vec.text_sentences: tokens must be a str such as 'words' or 'unigram:4000', got "
                        f"{type(tokens).__name__}")
    if tokens == "words":
        return [words for words in (tokenize(p) for p in re.split(r"\n\s*\n", text)) if words]
    from .io import train_tokenizer

    tok = train_tokenizer(tokens, text)
    out = []
    for line in text.splitlines():
        pieces = [tok.id_to_token(i).replace("\u2581", "") for i in tok.encode(line)]   # ▁: the unigram space mark
        pieces = [p for p in pieces if p.strip()]
        if pieces:
            out.append(pieces)
    return out


def _window(window: Any, who: str) -> int:
    return check_int(window, "window", who, why=" (words on each side of the centre)")


def window_matrix(ids: np.ndarray, window: int, sentence_ids: np.ndarray | None = None) -> np.ndarray:
    """The context of every position of ``ids``: an ``(N, 2·window)`` int64 array whose row ``i`` holds the ids at
    ``i − window … i − 1, i + 1 … i + window`` (left to right), :data:`PAD` (−1) where that position is outside the
    sequence or, when ``sentence_ids`` is given, in another sentence.

    Args:
        ids: ``(N,)`` non-negative integer ids.
        window: words on each side of the centre.
        sentence_ids: ``(N,)`` non-decreasing sentence numbers; windows do not cross sentences.
    """
    window = _window(window, "word2vec.window_matrix")
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    n = ids.size
    offsets = np.concatenate([np.arange(-window, 0), np.arange(1, window + 1)])
    where = np.arange(n)[:, None] + offsets[None, :]
    inside = (where >= 0) & (where < n)
    where = np.clip(where, 0, max(n - 1, 0))
    if sentence_ids is not None:
        sentence_ids = np.asarray(sentence_ids).reshape(-1)
        if sentence_ids.shape != ids.shape:
            raise ValueError(f"word2vec.window_matrix: sentence_ids has shape {sentence_ids.shape}, ids {ids.shape}; "
                             "give one sentence number per id")
        inside &= sentence_ids[where] == sentence_ids[:, None]
    return np.where(inside, ids[where] if n else where, PAD)


def cbow_pairs(ids: Sequence[int] | np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """CBOW's training pairs (context → centre): ``(contexts, centres)`` with ``contexts`` the ``(N, 2·window)``
    :func:`window_matrix` (:data:`PAD` = −1 for seed 003's ``NA``) and ``centres`` the ``(N,)`` ids themselves.

    Examples:
        >>> contexts, centres = cbow_pairs([7, 8, 9], window=1)
        >>> contexts.tolist(), centres.tolist()
        ([[-1, 8], [7, 9], [8, -1]], [7, 8, 9])
    """
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    return window_matrix(ids, window), ids.copy()


def skipgram_pairs(ids: Sequence[int] | np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Skip-gram's training pairs (centre → context): ``(centres, contexts)``, one pair per context word that
    exists (no ``NA``), in order of centre, then context position left to right.

    Examples:
        >>> skipgram_pairs([7, 8, 9], window=1)[0].tolist(), skipgram_pairs([7, 8, 9], window=1)[1].tolist()
        ([7, 8, 8, 9], [8, 7, 9, 8])
    """
    contexts, centres = cbow_pairs(ids, window)
    real = contexts != PAD
    return np.broadcast_to(centres[:, None], contexts.shape)[real], contexts[real]


def context_windows(tokens: Sequence[str], window: int = 2, pad: str = NA) -> list[tuple[list[str], str]]:
    """Seed 003's CBOW table: for every word of ``tokens``, its ``2·window`` context words (``pad`` past either end)
    and the word itself, the pseudo-label.

    Examples:
        >>> context_windows(tokenize("Word2vec is a technique in natural language"))[0]
        (['NA', 'NA', 'is', 'a'], 'word2vec')
    """
    tokens = list(tokens)
    index = {t: i for i, t in enumerate(dict.fromkeys(tokens))}
    words = list(index)
    contexts, centres = cbow_pairs([index[t] for t in tokens], window)
    return [([pad if j == PAD else words[j] for j in row], words[c]) for row, c in zip(contexts.tolist(),
                                                                                        centres.tolist())]


# ----------------------------------------------------------------------------------------------------- vocabulary
class Vocabulary:
    """The words kept for training, most frequent first (ties in sorted order), with their corpus counts.

    Args:
        words: the words, by id.
        counts: how often each occurs in the training corpus (positive integers).
    """

    def __init__(self, words: Sequence[str], counts: Sequence[int] | np.ndarray) -> None:
        words = list(words)
        counts = np.asarray(counts, dtype=np.int64).reshape(-1)
        if any(not isinstance(w, str) or not w for w in words):
            raise ValueError("word2vec.Vocabulary: every word must be a non-empty str")
        if len(set(words)) != len(words):
            raise ValueError("word2vec.Vocabulary: the words repeat")
        if counts.shape != (len(words),) or (counts.size and counts.min() < 1):
            raise ValueError(f"word2vec.Vocabulary: expected {len(words)} positive counts, got shape {counts.shape}"
                             f"{'' if not counts.size else f' with minimum {counts.min()}'}")
        self.words, self.counts = words, counts
        self.index = {w: i for i, w in enumerate(words)}

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], min_count: int = 5, max_size: int | None = None) -> Vocabulary:
        """The words of ``sentences`` seen at least ``min_count`` times (the ``max_size`` most frequent of them)."""
        check_int(min_count, "min_count", "word2vec.Vocabulary.build")
        counter: Counter = Counter()
        for sentence in sentences:
            counter.update(sentence)
        kept = sorted(((w, c) for w, c in counter.items() if c >= min_count), key=lambda wc: (-wc[1], wc[0]))
        if max_size is not None:
            kept = kept[:max_size]
        if not kept:
            raise ValueError(f"word2vec.Vocabulary.build: no word occurs {min_count} times or more "
                             f"({len(counter)} distinct words); lower min_count or give more text")
        return cls([w for w, _ in kept], [c for _, c in kept])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def encode(self, sentences: Iterable[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """The ids of the known words of ``sentences`` one after another, and the sentence number of each (words
        outside the vocabulary are dropped, as word2vec.c drops them)."""
        get = self.index.get
        ids: list[int] = []
        lengths: list[int] = []
        for sentence in sentences:
            known = [i for i in map(get, sentence) if i is not None]
            ids.extend(known)
            lengths.append(len(known))
        return (np.asarray(ids, dtype=np.int64),
                np.repeat(np.arange(len(lengths), dtype=np.int64), np.asarray(lengths, dtype=np.int64)))


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """word2vec.c's subsampling: the probability of keeping each occurrence of a word,
    ``min(1, (√(f/t) + 1) · t/f)`` with ``f`` the word's share of the corpus and ``t = sample``; 1 everywhere when
    ``sample`` is 0. (The paper writes the discard probability as ``1 − √(t/f)``; the code adds ``t/f``.)

    Examples:
        >>> keep_probabilities(np.array([1, 99]), 0.01).round(4).tolist()
        [1.0, 0.1106]
    """
    counts = np.asarray(counts, dtype=np.float64)
    if sample < 0:
        raise ValueError(f"word2vec: sample must be ≥ 0 (0 turns subsampling off), got {sample}")
    if sample == 0:
        return np.ones_like(counts)
    f = counts / counts.sum()
    return np.minimum(1.0, (np.sqrt(f / sample) + 1) * sample / f)


def noise_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """Negative sampling's noise distribution: ``counts ** power``, normalised (Mikolov et al. 2013: 0.75)."""
    weights = np.asarray(counts, dtype=np.float64) ** power
    return weights / weights.sum()


class HuffmanTree:
    """Hierarchical softmax's binary tree: for word ``w``, ``codes[w, :lengths[w]]`` are the bits from the root down
    and ``points[w, :lengths[w]]`` the inner nodes passed (ids in ``[0, V − 1)``, the root is ``V − 2``); padded
    with 0 past each length."""

    def __init__(self, codes: np.ndarray, points: np.ndarray, lengths: np.ndarray) -> None:
        self.codes, self.points, self.lengths = codes, points, lengths

    def code(self, word: int) -> str:
        """The code of ``word`` as a string of 0s and 1s."""
        return "".join(map(str, self.codes[word, :self.lengths[word]].tolist()))


def huffman_tree(counts: Sequence[int] | np.ndarray) -> HuffmanTree:
    """The Huffman tree of ``counts`` (sorted from the most frequent down, as a :class:`Vocabulary` is), built as
    word2vec.c's ``CreateBinaryTree``: repeatedly join the two least frequent nodes (a leaf before an inner node
    only when strictly less frequent); the second of the two gets code 1. Frequent words get short codes: the
    expected code length is the minimum over prefix codes.

    Examples:
        >>> tree = huffman_tree([5, 2, 1, 1])
        >>> [tree.code(w) for w in range(4)]
        ['1', '01', '001', '000']
    """
    counts = np.asarray(counts, dtype=np.int64).reshape(-1)
    v = counts.size
    if v < 2:
        raise ValueError(f"word2vec.huffman_tree: hierarchical softmax needs at least 2 words, got {v}")
    if np.any(counts[:-1] < counts[1:]):
        raise ValueError("word2vec.huffman_tree: counts must be sorted from the most frequent down (as a Vocabulary)")
    count = np.concatenate([counts, np.full(v, np.iinfo(np.int64).max // 4, dtype=np.int64)]).tolist()
    binary = [0] * (2 * v)
    parent = [0] * (2 * v)
    pos1, pos2 = v - 1, v
    for a in range(v - 1):  # the construction walks the vocabulary once (word2vec.c's two-pointer merge)
        picks = []
        for _ in range(2):
            if pos1 >= 0 and count[pos1] < count[pos2]:
                picks.append(pos1)
                pos1 -= 1
            else:
                picks.append(pos2)
                pos2 += 1
        count[v + a] = count[picks[0]] + count[picks[1]]
        parent[picks[0]] = parent[picks[1]] = v + a
        binary[picks[1]] = 1
    # every word's path at once, one tree level per step: walk up to the root (2v − 2), then reverse
    binary_of, parent_of = np.asarray(binary, dtype=np.int64), np.asarray(parent, dtype=np.int64)
    node, root = np.arange(v), 2 * v - 2
    lengths = np.zeros(v, dtype=np.int64)
    codes_up, points_up = [], []                          # column k: the k-th step up from each word
    while np.any(active := node != root):
        lengths += active
        codes_up.append(np.where(active, binary_of[node], 0))
        node = np.where(active, parent_of[node], root)
        points_up.append(np.where(active, node - v, 0))
    from_root = lengths[:, None] - 1 - np.arange(len(codes_up))[None, :]  # root-first order: the walk reversed
    on_path = from_root >= 0
    step = np.maximum(from_root, 0)
    code_arr = np.where(on_path, np.take_along_axis(np.stack(codes_up, 1), step, 1), 0)
    point_arr = np.where(on_path, np.take_along_axis(np.stack(points_up, 1), step, 1), 0)
    return HuffmanTree(code_arr, point_arr, lengths)


# -------------------------------------------------------------------------------------------------- the gradients
def negative_sampling_loss(v: np.ndarray, u_pos: np.ndarray, u_neg: np.ndarray
                           ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """The skip-gram negative-sampling loss of one batch of pairs and its gradients (Mikolov et al. 2013, eq. 4):
    ``L = −Σ_b [log σ(u_pos,b · v_b) + Σ_k log σ(−u_neg,bk · v_b)]``.

    Args:
        v: ``(B, d)`` input vectors; u_pos: ``(B, d)`` output vectors of the true words; u_neg: ``(B, K, d)`` output
            vectors of the noise words.

    Returns:
        ``(L, dL/dv, dL/du_pos, dL/du_neg)``: the reference gradient that training's batched step is tested against.
    """
    s_pos = np.einsum("bd,bd->b", v, u_pos)
    s_neg = np.einsum("bd,bkd->bk", v, u_neg)
    loss = float(np.logaddexp(0, -s_pos).sum() + np.logaddexp(0, s_neg).sum())
    g_pos = _sigmoid(s_pos) - 1                      # dL/ds_pos = σ(s) − 1
    g_neg = _sigmoid(s_neg)                          # dL/ds_neg = σ(s)
    dv = g_pos[:, None] * u_pos + np.einsum("bk,bkd->bd", g_neg, u_neg)
    return loss, dv, g_pos[:, None] * v, g_neg[:, :, None] * v[:, None, :]


def _scatter_add(weights: np.ndarray, rows: np.ndarray, updates: np.ndarray, cap: int | None = None,
                 uses: np.ndarray | None = None) -> None:
    """``weights[rows[i]] += updates[i]`` for every i, repeated rows summed: the rows are sorted once, each run of
    equal rows is summed with ``np.add.reduceat``, and each distinct row is written once.

    With ``cap``, a row updated ``n > cap`` times moves by ``cap/n`` of the sum (``cap`` times the mean update);
    ``uses[i]`` says how many updates ``updates[i]`` already sums (1 each by default)."""
    if rows.size == 0:
        return
    rows = rows.astype(np.int32, copy=False)                      # a vocabulary is < 2³¹ words; int32 sorts faster
    order = np.argsort(rows)
    ordered = rows[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    sums = np.add.reduceat(updates[order], starts, axis=0)
    if cap is not None:
        n = np.diff(np.append(starts, rows.size)) if uses is None else np.add.reduceat(uses[order], starts)
        if n.max() > cap:
            sums *= np.minimum(1.0, cap / n).astype(sums.dtype)[:, None]
    weights[ordered[starts]] += sums


# ---------------------------------------------------------------------------------------------------- the model
class Word2VecFormatError(ValueError):
    """A saved word2vec model that cannot be loaded: the message names the file, the field and what was expected."""


class Word2Vec:
    """word2vec: word vectors learned by predicting words from their neighbours (Mikolov et al. 2013; seed 003).

    The parameter names are gensim's (``gensim.models.Word2Vec``), the defaults word2vec.c's.

    Args:
        sentences: a corpus to train on at once (sentences, each a list of words; :func:`text_sentences` makes them
            from a text); or None, then call :meth:`build_vocab` and :meth:`train` (give those lists, not
            generators: each reads the corpus).
        vector_size: dimensions of the word vectors.
        window: the largest distance between the centre and a context word (each centre draws its window
            uniformly from 1 … ``window``, as word2vec.c).
        min_count: words seen fewer times are dropped.
        max_vocab: keep at most this many words (the most frequent).
        sg: True for skip-gram (centre → context), False for CBOW (context → centre, the mean of the contexts).
        hs: True for hierarchical softmax over a Huffman tree.
        negative: noise words per pair for negative sampling (0 with ``hs=True`` turns it off).
        ns_exponent: the power of the unigram counts in the noise distribution.
        sample: the subsampling threshold t of frequent words (0: off).
        alpha, min_alpha: the learning rate decays linearly from ``alpha`` to ``min_alpha`` over all epochs;
            ``alpha`` defaults to 0.025 for skip-gram and 0.05 for CBOW (word2vec.c).
        epochs: passes over the corpus.
        seed: the random seed (initialisation, subsampling, windows, noise words).
        workers: threads training one shared model at once, each on its share of the batches, without locks
            (Hogwild, as word2vec.c's threads; NumPy releases the GIL in its array loops, but the gain depends on
            how busy the cores are). With more than one the result depends on the threads' timing, not on ``seed``
            alone.
        batch_words: centre words per vectorised update. Their updates are summed, and a row updated more than
            32 times in one batch (a frequent word, a node near the root of the Huffman tree) moves by 32 times its
            mean update instead, a bound standing in for the feedback of word2vec.c's one-pair-at-a-time updates;
            larger batches run faster, and with learning rates above word2vec.c's, a smaller one keeps training
            stable (a diverging run stops with a FloatingPointError that says so).

    Attributes:
        vectors: ``(V, vector_size)`` float32, the input vectors (word2vec.c's ``syn0``), row ``index[word]``.
        index: word → row; ``words``: the words by row; ``counts``: their corpus counts.
        output: the output weights (``syn1neg``: one row per word; ``syn1`` with ``hs``: one per inner node).
        losses: each epoch's mean loss per scored output; ``words_per_second``: the last :meth:`train`'s speed.

    Examples:
        >>> corpus = [["a", "b", "c"], ["a", "b", "d"]] * 100
        >>> m = Word2Vec(corpus, vector_size=8, window=1, min_count=1, epochs=2, seed=0)
        >>> [w for w, _ in m.most_similar("c", k=3)][0] in {"a", "b", "d"}
        True
    """

    def __init__(self, sentences: Iterable[Sequence[str]] | None = None, *, vector_size: int = 100, window: int = 5,
                 min_count: int = 5, max_vocab: int | None = None, sg: bool = True, hs: bool = False,
                 negative: int = 5, ns_exponent: float = 0.75, sample: float = 1e-3, alpha: float | None = None,
                 min_alpha: float = 1e-4, epochs: int = 5, seed: int = 1, batch_words: int = 1024,
                 workers: int = 1) -> None:
        check_int(vector_size, "vector_size", "Word2Vec")
        if not hs:
            check_int(negative, "negative", "Word2Vec", why=" when hs=False (one of the two losses is needed)")
        if hs and negative:
            raise ValueError("Word2Vec: choose one loss: hs=True with negative=0 (hierarchical softmax), or hs=False "
                             "with negative ≥ 1 (negative sampling)")
        check_int(epochs, "epochs", "Word2Vec")
        check_int(batch_words, "batch_words", "Word2Vec")
        self.vector_size, self.window = int(vector_size), _window(window, "Word2Vec")
        self.min_count, self.max_vocab = min_count, max_vocab
        self.sg, self.hs, self.negative = bool(sg), bool(hs), int(negative)
        self.ns_exponent, self.sample = float(ns_exponent), float(sample)
        self.alpha = float(alpha if alpha is not None else (0.025 if sg else 0.05))
        self.min_alpha, self.epochs, self.seed = float(min_alpha), int(epochs), int(seed)
        self.batch_words, self.workers = int(batch_words), check_int(workers, "workers", "Word2Vec")
        self.vocabulary: Vocabulary | None = None
        self.vectors = np.zeros((0, self.vector_size), dtype=np.float32)
        self.output = np.zeros((0, self.vector_size), dtype=np.float32)
        self.losses: list[float] = []
        self.words_per_second = 0.0
        self._rng = np.random.default_rng(self.seed)
        if sentences is not None:
            sentences = _sentences(sentences)          # a generator is read once, for both steps
            self.build_vocab(sentences)
            self.train(sentences)

    # -------------------------------------------------------------------------------------------- vocabulary
    @property
    def words(self) -> list[str]:
        return [] if self.vocabulary is None else self.vocabulary.words

    @property
    def index(self) -> dict[str, int]:
        return {} if self.vocabulary is None else self.vocabulary.index

    @property
    def counts(self) -> np.ndarray:
        return np.zeros(0, dtype=np.int64) if self.vocabulary is None else self.vocabulary.counts

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def __len__(self) -> int:
        return len(self.words)

    def __getitem__(self, word: str) -> np.ndarray:
        """The vector of ``word``."""
        return self.vectors[self._id(word)]

    def build_vocab(self, sentences: Iterable[Sequence[str]]) -> Word2Vec:
        """Count the words of ``sentences``, keep those seen ``min_count`` times, and initialise the weights as
        word2vec.c: input vectors uniform in ±0.5/vector_size, output vectors 0."""
        self.vocabulary = Vocabulary.build(_sentences(sentences), self.min_count, self.max_vocab)
        v, d = len(self.vocabulary), self.vector_size
        self.vectors = ((self._rng.random((v, d)) - 0.5) / d).astype(np.float32)
        rows = v - 1 if self.hs else v
        if self.hs and v < 2:
            raise ValueError("Word2Vec: hierarchical softmax needs at least 2 words in the vocabulary")
        self.output = np.zeros((rows, d), dtype=np.float32)
        self._prepare()
        return self

    def _prepare(self) -> None:
        vocab = self.vocabulary
        self._keep = keep_probabilities(vocab.counts, self.sample)
        if self.hs:
            tree = huffman_tree(vocab.counts)
            self._tree = tree
            self._labels = (1 - tree.codes).astype(np.float32)          # word2vec.c: g = (1 − code − f)·α
            self._path_mask = (np.arange(tree.codes.shape[1])[None, :] < tree.lengths[:, None]).astype(np.float32)
        else:
            self._cdf = np.cumsum(noise_distribution(vocab.counts, self.ns_exponent))
            self._cdf[-1] = 1.0

    # -------------------------------------------------------------------------------------------- training
    def train(self, sentences: Iterable[Sequence[str]], epochs: int | None = None) -> Word2Vec:
        """Train on ``sentences`` (after :meth:`build_vocab`) for ``epochs`` (default: the constructor's) passes.

        The learning rate decays linearly from ``alpha`` to ``min_alpha`` over the ``epochs`` passes of this call;
        :attr:`losses` gets each epoch's mean loss per scored output, :attr:`words_per_second` the speed (corpus
        words of the vocabulary, before subsampling, per second — word2vec.c's count).
        """
        if self.vocabulary is None:
            raise RuntimeError("Word2Vec.train: build the vocabulary first (Word2Vec(sentences) or build_vocab)")
        epochs = self.epochs if epochs is None else int(epochs)
        ids, sentence_ids = self.vocabulary.encode(_sentences(sentences))
        if ids.size == 0:
            raise ValueError("Word2Vec.train: the sentences hold no word of the vocabulary")
        total = epochs * ids.size
        done, start = 0, time.perf_counter()
        for _ in range(epochs):
            loss, scored = self._epoch(ids, sentence_ids, done, total)
            done += ids.size
            self.losses.append(loss / max(scored, 1))
        self.words_per_second = done / max(time.perf_counter() - start, 1e-9)
        return self

    def _epoch(self, ids: np.ndarray, sentence_ids: np.ndarray, done: int, total: int) -> tuple[float, int]:
        rng = self._rng
        block = 1 << 18
        loss, scored = 0.0, 0
        for lo in range(0, ids.size, block):  # blocks bound the memory of the window arrays
            part, sent = ids[lo:lo + block], sentence_ids[lo:lo + block]
            position = lo + np.arange(part.size)
            kept = rng.random(part.size) < self._keep[part]
            part, sent, position = part[kept], sent[kept], position[kept]
            contexts = window_matrix(part, self.window, sent)
            reduced = rng.integers(1, self.window + 1, part.size)       # word2vec.c: window − (rand % window)
            distance = np.abs(np.concatenate([np.arange(-self.window, 0), np.arange(1, self.window + 1)]))
            contexts[distance[None, :] > reduced[:, None]] = PAD
            progress = (done + position) / (total + 1)
            alphas = np.maximum(self.alpha - (self.alpha - self.min_alpha) * progress, self.min_alpha)
            starts = np.arange(0, part.size, self.batch_words)
            if self.workers == 1:
                results = [self._batches(part, contexts, alphas, starts, rng)]
            else:   # Hogwild (word2vec.c's threads): each worker a contiguous share of the batches, one shared model
                shares = np.array_split(starts, self.workers)
                rngs = rng.spawn(self.workers)
                with ThreadPoolExecutor(self.workers) as pool:
                    results = list(pool.map(lambda k: self._batches(part, contexts, alphas, shares[k], rngs[k]),
                                            range(self.workers)))
            loss += sum(r[0] for r in results)
            scored += sum(r[1] for r in results)
        return loss, scored

    def _batches(self, part: np.ndarray, contexts: np.ndarray, alphas: np.ndarray, starts: np.ndarray,
                 rng: np.random.Generator) -> tuple[float, int]:
        """Train on the batches of ``part`` beginning at ``starts``; the summed loss and number of scored outputs."""
        loss, scored = 0.0, 0
        w = self.window
        padded = np.concatenate([np.full(w, PAD), part, np.full(w, PAD)])   # padded[b + k] = part[b − w + k]
        for b in starts.tolist():
            s = slice(b, b + self.batch_words)
            with np.errstate(over="ignore", invalid="ignore"):
                batch_loss, batch_scored = self._step(part[s], contexts[s], alphas[s].astype(np.float32), rng,
                                                      padded[b:b + self.batch_words + 2 * w])
            if not math.isfinite(batch_loss):
                raise FloatingPointError(
                    f"Word2Vec.train: the loss became {batch_loss} (the updates diverged) at learning rate "
                    f"{float(alphas[b]):.4g} with batch_words={self.batch_words}; lower alpha or batch_words "
                    "(word2vec.c's alpha is 0.025 for skip-gram, 0.05 for CBOW)")
            loss += batch_loss
            scored += batch_scored
        return loss, scored

    def _outputs(self, centres: np.ndarray, rng: np.random.Generator | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The output rows each centre is scored against, their labels and mask: the centre and ``negative`` noise
        words (labels 1, 0 … 0), or the inner nodes of the centre's Huffman path (labels 1 − code)."""
        if self.hs:
            return self._tree.points[centres], self._labels[centres], self._path_mask[centres]
        rng = self._rng if rng is None else rng
        noise = np.searchsorted(self._cdf, rng.random((centres.size, self.negative)), side="right")
        rows = np.concatenate([centres[:, None], noise], axis=1)
        labels = np.zeros(rows.shape, dtype=np.float32)
        labels[:, 0] = 1
        mask = np.ones(rows.shape, dtype=np.float32)
        mask[:, 1:] = noise != centres[:, None]                           # word2vec.c skips a noise word = target
        return rows, labels, mask

    def _step(self, centres: np.ndarray, contexts: np.ndarray, alphas: np.ndarray,
              rng: np.random.Generator | None = None, around: np.ndarray | None = None) -> tuple[float, int]:
        """One vectorised SGD step over a batch of centre words and their (reduced, subsampled) windows.

        ``around``: when the centres are consecutive words of a sequence, its ids from ``window`` before the first
        centre to ``window`` after the last (:data:`PAD` past its ends), of which ``contexts`` is the masked window
        matrix. The context vectors are then gathered once per position and their updates summed per position before
        the scatter (a word is a context of up to ``2·window`` centres); the result is the same."""
        real = contexts != PAD
        if around is None:
            has_context = real.any(axis=1)
            if not has_context.all():
                centres, contexts, alphas, real = centres[has_context], contexts[has_context], alphas[has_context], \
                    real[has_context]
        if centres.size == 0:
            return 0.0, 0
        rows, labels, mask = self._outputs(centres, rng)
        u = self.output[rows]                                            # (C, M, d)
        n, slots = centres.size, contexts.shape[1]
        if around is None:
            x = self.vectors[np.where(real, contexts, 0)]                # (C, 2w, d)
        else:          # slot j of centre i is position i + shift[j] of ``around``
            shift = np.concatenate([np.arange(slots // 2), np.arange(slots // 2 + 1, slots + 1)])
            near = self.vectors[np.maximum(around, 0)]
            x = np.stack([near[k:k + n] for k in shift.tolist()], axis=1)
        realf = real.astype(np.float32)
        if self.sg:   # every context word (the input) is scored against the centre's outputs
            scores = np.matmul(x, u.transpose(0, 2, 1))                  # (C, 2w, M)
            f = _sigmoid(scores, out=scores)
            both = realf[:, :, None] * mask[:, None, :]
            g = (labels[:, None, :] - f) * both * alphas[:, None, None]
            loss = -(np.log(np.where(labels[:, None, :] > 0, f, 1 - f) + 1e-12) * both).sum()
            grad_x = np.matmul(g, u)                                     # (C, 2w, d)
            grad_u = np.matmul(g.transpose(0, 2, 1), x)                  # (C, M, d)
            scored = both.sum()
        else:         # CBOW: the mean of the context vectors is scored; each context gets the whole error
            count = np.maximum(realf.sum(axis=1, keepdims=True), 1)
            h = np.einsum("cw,cwd->cd", realf, x) / count                # (C, d)
            scores = np.einsum("cd,cmd->cm", h, u)
            f = _sigmoid(scores, out=scores)
            g = (labels - f) * mask * alphas[:, None]
            loss = -(np.log(np.where(labels > 0, f, 1 - f) + 1e-12) * mask).sum()
            neu1e = np.einsum("cm,cmd->cd", g, u)
            grad_x = neu1e[:, None, :] * realf[:, :, None]
            grad_u = g[:, :, None] * h[:, None, :]
            scored = mask.sum()
        live = ((mask > 0) & real.any(axis=1, keepdims=True)).reshape(-1)   # centres with a context
        _scatter_add(self.output, rows.reshape(-1)[live], grad_u.reshape(-1, self.vector_size)[live], ROW_CAP)
        if around is None:
            _scatter_add(self.vectors, contexts[real], grad_x[real], ROW_CAP)
        else:          # sum each position's updates over the slots it fills, then scatter once per position
            summed = np.zeros((n + slots, self.vector_size), dtype=np.float32)
            uses = np.zeros(n + slots, dtype=np.int64)
            for j, k in enumerate(shift.tolist()):                      # a loop over the 2·window slots
                summed[k:k + n] += grad_x[:, j]
                uses[k:k + n] += real[:, j]
            used = uses > 0
            _scatter_add(self.vectors, around[used], summed[used], ROW_CAP, uses[used])
        return float(loss), int(scored)

    # -------------------------------------------------------------------------------------------- queries
    def _id(self, word: str) -> int:
        i = self.index.get(word)
        if i is None:
            raise KeyError(f"Word2Vec: {word!r} is not in the vocabulary ({len(self)} words, "
                           f"min_count={self.min_count}); check `word in model` first")
        return i

    def unit_vectors(self) -> np.ndarray:
        """The vectors scaled to length 1 (zero vectors stay 0): cosine similarity is their dot product."""
        norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
        return self.vectors / np.where(norms > 0, norms, 1)

    def similarity(self, a: str, b: str) -> float:
        """The cosine similarity of the vectors of ``a`` and ``b``."""
        va, vb = self.vectors[self._id(a)], self.vectors[self._id(b)]
        norms = np.linalg.norm(va) * np.linalg.norm(vb)
        return float(va @ vb / norms) if norms > 0 else 0.0

    def _nearest(self, unit: np.ndarray, query: np.ndarray, exclude: list[int], k: int) -> list[tuple[str, float]]:
        """The ``k`` words whose ``unit`` vectors are nearest to ``query`` by cosine, leaving out ``exclude``."""
        check_int(k, "k", "Word2Vec")
        norm = np.linalg.norm(query)
        sims = unit @ (query / norm if norm > 0 else query)
        sims[exclude] = -np.inf
        k = min(int(k), len(self) - len(set(exclude)))
        top = np.argpartition(-sims, k - 1)[:k] if k < sims.size else np.arange(sims.size)
        top = top[np.argsort(-sims[top], kind="stable")][:k]
        return [(self.words[i], float(sims[i])) for i in top]

    def most_similar(self, word: str, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` words whose vectors are closest to ``word``'s by cosine similarity, most similar first, with
        the similarity; the word itself is left out."""
        i, unit = self._id(word), self.unit_vectors()
        return self._nearest(unit, unit[i], [i], k)

    def analogy(self, a: str, b: str, c: str, k: int = 1) -> list[tuple[str, float]]:
        """"``a`` is to ``b`` as ``c`` is to ?": the ``k`` words nearest to b − a + c (3CosAdd on unit vectors, as
        word2vec.c's ``word-analogy``), leaving out a, b and c. Seed 003: Paris − France + Italy ≈ Rome is
        ``analogy("france", "paris", "italy")``."""
        ia, ib, ic = self._id(a), self._id(b), self._id(c)
        unit = self.unit_vectors()
        return self._nearest(unit, unit[ib] - unit[ia] + unit[ic], [ia, ib, ic], k)

    # -------------------------------------------------------------------------------------------- saving
    def config(self) -> dict[str, Any]:
        """The constructor's arguments (what :meth:`load` rebuilds the model with)."""
        return {"vector_size": self.vector_size, "window": self.window, "min_count": self.min_count,
                "max_vocab": self.max_vocab, "sg": self.sg, "hs": self.hs, "negative": self.negative,
                "ns_exponent": self.ns_exponent, "sample": self.sample, "alpha": self.alpha,
                "min_alpha": self.min_alpha, "epochs": self.epochs, "seed": self.seed, "batch_words": self.batch_words,
                "workers": self.workers}

    def save(self, path: str | os.PathLike) -> None:
        """Write the model (configuration, vocabulary with counts, input and output weights) to ``path`` with
        :func:`fukaku.save` — an ``.npz`` container with a JSON structure and a SHA-256 digest, written atomically,
        never a pickle."""
        from ..serialization import save

        if self.vocabulary is None:
            raise RuntimeError("Word2Vec.save: the model has no vocabulary yet (build_vocab or train it first)")
        save({"format": FORMAT, "version": VERSION, "config": self.config(), "words": list(self.words),
              "counts": self.counts.copy(), "vectors": self.vectors, "output": self.output,
              "losses": [float(x) for x in self.losses]}, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Word2Vec:
        """Read a model written by :meth:`save`, checking every field.

        Raises:
            Word2VecFormatError: the file is not a word2vec model of this format version (the message names the
                file, the field and what was expected); :class:`fukaku.serialization.CheckpointError` when the
                container itself is damaged.
        """
        from ..serialization import load

        where = f"word2vec file {os.fspath(path)}"
        d = load(path)

        def bad(field: str, expected: str, got: Any) -> Word2VecFormatError:
            text = repr(got) if not isinstance(got, np.ndarray) else f"an array of {got.dtype} {got.shape}"
            return Word2VecFormatError(f"{where}: field {field!r}: expected {expected}, got {text[:80]}")

        if not isinstance(d, dict):
            raise Word2VecFormatError(f"{where}: expected a dict saved by Word2Vec.save, got {type(d).__name__}")
        fields = {"format", "version", "config", "words", "counts", "vectors", "output", "losses"}
        if set(d) != fields:
            raise Word2VecFormatError(f"{where}: expected the fields {sorted(fields)}, got {sorted(d, key=str)}")
        if d["format"] != FORMAT:
            raise bad("format", repr(FORMAT), d["format"])
        if d["version"] != VERSION:
            raise bad("version", f"format version {VERSION}", d["version"])
        config = d["config"]
        if not isinstance(config, dict) or set(config) != set(cls().config()):
            raise bad("config", f"a dict of {sorted(cls().config())}", config)
        try:
            model = cls(**config)
        except (TypeError, ValueError) as e:
            raise Word2VecFormatError(f"{where}: field 'config': {e}") from None
        words, counts = d["words"], d["counts"]
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise bad("words", "a list of strings", words)
        if not isinstance(counts, np.ndarray) or counts.dtype.kind not in "iu" or counts.shape != (len(words),):
            raise bad("counts", f"an integer array of shape ({len(words)},)", counts)
        if counts.size and np.any(counts[:-1] < counts[1:]):
            raise bad("counts", "counts sorted from the most frequent down", counts)
        try:
            model.vocabulary = Vocabulary(words, counts)
        except ValueError as e:
            raise Word2VecFormatError(f"{where}: field 'words'/'counts': {e}") from None
        v, dim = len(words), model.vector_size
        for name, rows in (("vectors", v), ("output", v - 1 if model.hs else v)):
            arr = d[name]
            if not isinstance(arr, np.ndarray) or arr.dtype != np.float32 or arr.shape != (rows, dim):
                raise bad(name, f"a float32 array of shape ({rows}, {dim})", arr)
            if not np.isfinite(arr).all():
                raise bad(name, "finite numbers", "NaN or infinity")
        if not isinstance(d["losses"], list) or not all(isinstance(x, float) for x in d["losses"]):
            raise bad("losses", "a list of numbers", d["losses"])
        model.vectors, model.output, model.losses = d["vectors"], d["output"], list(d["losses"])
        model._prepare()
        return model

    def __repr__(self) -> str:
        kind = "skip-gram" if self.sg else "CBOW"
        loss = "hierarchical softmax" if self.hs else f"negative sampling ({self.negative})"
        return f"Word2Vec({len(self)} words × {self.vector_size}, {kind}, {loss}, window {self.window})"


def _sentences(sentences: Iterable[Sequence[str]]) -> list[Sequence[str]]:
    """The corpus as a list of sentences (a generator is read once); a flat list of words is one sentence."""
    if isinstance(sentences, str):
        raise TypeError("Word2Vec: expected sentences (lists of words), got a str; split it first, e.g. "
                        "[tokenize(line) for line in text.splitlines()]")
    sentences = list(sentences)
    if sentences and all(isinstance(s, str) for s in sentences):
        return [sentences]
    for i, s in enumerate(sentences):
        if isinstance(s, str) or not all(isinstance(w, str) for w in s):
            raise TypeError(f"Word2Vec: sentence {i} must be a list of str words, got {type(s).__name__}")
    return sentences

