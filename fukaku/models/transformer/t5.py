"""T5-style text-to-text (Raffel et al. 2020) — seed 001 §9.4: one encoder–decoder for many tasks, the task named
by an instruction at the start of the input text ("task instruction + input → output").

:class:`TextToText` wraps a :class:`TransformerSeq2Seq` (pre-LN) over one character vocabulary shared by inputs
and outputs, with ``<pad>``, ``<s>`` (start) and ``</s>`` (end) as ids 0, 1, 2: strings in, strings out.
:func:`synthetic_examples` makes the three toy tasks it is tested and measured on, mixed in one stream —
``"reverse: 3141" → "1413"``, ``"sort: 3141" → "1134"``, ``"add: 27+38" → "65"``. (T5 itself uses SentencePiece
pieces and shares one embedding matrix among encoder, decoder and output; a character vocabulary keeps the toy
tasks exact.)
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...nn import functional as F
from ...nn.modules.module import Module
from ...tensor import Tensor, tensor
from .seq2seq import TransformerSeq2Seq

__all__ = ["TextToText", "synthetic_examples", "TASKS"]

SPECIALS = ("<pad>", "<s>", "</s>")
PAD, BOS, EOS = 0, 1, 2
TASKS = ("reverse", "sort", "add")
DIGITS_ALPHABET = "0123456789+: " + "abcdefghijklmnopqrstuvwxyz"   # digits, the prefixes' letters, ':' '+' ' '


def synthetic_examples(n: int, rng: np.random.Generator, tasks: Sequence[str] = TASKS,
                       lengths: tuple[int, int] = (2, 6)) -> list[tuple[str, str]]:
    """``n`` (input, target) pairs, the task of each drawn uniformly from ``tasks``: ``reverse`` and ``sort`` a
    string of ``lengths[0]`` … ``lengths[1]`` digits, ``add`` two numbers of up to max(1, ``lengths[1] // 2``)
    digits each."""
    unknown = set(tasks) - set(TASKS)
    if unknown:
        raise ValueError(f"synthetic_examples: unknown task(s) {sorted(unknown)}; choose among {TASKS}")
    examples = []
    for task in rng.choice(list(tasks), n):
        if task == "add":
            top = 10 ** max(1, lengths[1] // 2)
            a, b = (int(v) for v in rng.integers(0, top, 2))
            examples.append((f"add: {a}+{b}", str(a + b)))
            continue
        digits = "".join(map(str, rng.integers(0, 10, rng.integers(lengths[0], lengths[1] + 1))))
        examples.append((f"{task}: {digits}", digits[::-1] if task == "reverse" else "".join(sorted(digits))))
    return examples


class TextToText(Module):
    """``TextToText(alphabet=DIGITS_ALPHABET, d_model=64, nhead=4, num_layers=2, dim_feedforward=None,
    dropout=0.0, max_len=64)``: a character-level T5-style model.

    - :meth:`encode` turns strings into padded ids ``(N, L)`` (``add_special=True`` wraps them in ``<s>`` …
      ``</s>``); :meth:`decode` turns ids back into strings, stopping at ``</s>``.
    - ``forward(inputs (N, S), targets (N, T)) → logits (N, T, V)``, teacher-forced;
      :meth:`loss` (texts, targets as strings) is the mean cross-entropy over the target characters and ``</s>``.
    - :meth:`generate` answers a list of input strings by greedy decoding.
    Submodule ``model``: the :class:`TransformerSeq2Seq`.
    """

    def __init__(self, alphabet: str = DIGITS_ALPHABET, d_model: int = 64, nhead: int = 4, num_layers: int = 2,
                 dim_feedforward: int | None = None, dropout: float = 0.0, max_len: int = 64) -> None:
        super().__init__()
        if len(set(alphabet)) != len(alphabet):
            raise ValueError("TextToText: the alphabet has repeated characters")
        self.alphabet, self.max_len = alphabet, int(max_len)
        self.vocab_size = len(SPECIALS) + len(alphabet)
        self._index = {c: i + len(SPECIALS) for i, c in enumerate(alphabet)}
        self.model = TransformerSeq2Seq(self.vocab_size, self.vocab_size, d_model, nhead, num_layers, num_layers,
                                        dim_feedforward, dropout, max_len + 2, norm_first=True, padding_idx=PAD,
                                        bos_token=BOS, eos_token=EOS)

    def encode(self, texts: Sequence[str], add_special: bool = False) -> Tensor:
        """Padded ids ``(N, longest)`` of ``texts``; a character outside the alphabet is a ``ValueError``."""
        rows = []
        for text in texts:
            missing = sorted(set(text) - set(self._index))
            if missing:
                raise ValueError(f"TextToText: characters {missing} of {text!r} are not in the alphabet "
                                 f"{self.alphabet!r}")
            ids = [self._index[c] for c in text]
            rows.append([BOS, *ids, EOS] if add_special else ids)
        longest = max(len(r) for r in rows)
        if longest > self.max_len + 2:
            raise ValueError(f"TextToText: a text of {longest} tokens is longer than max_len={self.max_len}; build "
                             f"the model with a larger max_len")
        out = np.full((len(rows), longest), PAD, dtype=np.int64)
        for i, r in enumerate(rows):
            out[i, :len(r)] = r
        return tensor(out)

    def decode(self, ids: Tensor) -> list[str]:
        """Strings of the ids (N, L), each up to its first ``</s>``, special tokens dropped."""
        texts = []
        for row in ids.tolist():
            row = row[:row.index(EOS)] if EOS in row else row
            texts.append("".join(self.alphabet[i - len(SPECIALS)] for i in row if i >= len(SPECIALS)))
        return texts

    def forward(self, inputs: Tensor, targets: Tensor) -> Tensor:
        return self.model(inputs, targets)

    def loss(self, texts: Sequence[str], targets: Sequence[str]) -> Tensor:
        """Teacher-forced cross-entropy of ``targets`` given ``texts`` (padding skipped)."""
        target = self.encode(targets, add_special=True)
        logits = self(self.encode(texts), target[:, :-1])
        return F.cross_entropy(logits.flatten(0, 1), target[:, 1:].flatten(), ignore_index=PAD)

    def generate(self, texts: Sequence[str], max_length: int | None = None) -> list[str]:
        """Greedy answers to ``texts``."""
        ids = self.model.greedy_decode(self.encode(texts), max_length or self.max_len)
        return self.decode(ids)
