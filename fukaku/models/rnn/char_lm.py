"""A character-level recurrent language model with sampling — seed 000 §6.1.7 (LSTM), seed 001 §9.3
(recurrent networks over text), seed 004 §3.4.

The model reads characters c_1 … c_t (as ids) and scores the next one: embedding → ``num_layers``
recurrent layers → linear layer to ``vocab_size`` logits at every step, so training is next-character
cross-entropy on ``model(x)[0]`` against x shifted by one (``nn.CrossEntropyLoss`` on
``logits.reshape(-1, V)``; its value in nats/char).

Generation feeds the model its own samples: the prompt is read in one call, then each step draws the
next character from softmax(logits / temperature) restricted to the ``top_k`` largest logits; a
temperature of 0 (or ``top_k=1``) is greedy (argmax). ``generator=`` or ``seed=`` makes it
reproducible. The whole batch of prompts is generated at once (the loop is over steps only).

The vocabulary: the model works on ids and keeps an optional ``vocab`` (a string or sequence of
characters, id i ↔ ``vocab[i]``) for :meth:`CharLM.encode` / :meth:`CharLM.decode` and text prompts.
``model.config`` is a plain dict (constructor arguments, the vocabulary as a string) that
``fukaku.save`` stores beside the state dict, and ``CharLM.from_config(config)`` rebuilds the model::

    fukaku.save({"config": model.config, "model": model.state_dict()}, "char_lm.pt")
    ckpt = fukaku.load("char_lm.pt")
    model = CharLM.from_config(ckpt["config"]); model.load_state_dict(ckpt["model"])
    print(model.generate("吾輩は", 100, temperature=0.8, seed=0))
"""
from __future__ import annotations

from collections.abc import Sequence

from ... import nn
from ...dtypes import int64
from ...nn import functional as F
from ...nn.modules.module import Module
from ...ops.shape import cat
from ...tensor import Generator, Tensor, full_like, multinomial, tensor
from ._util import check_tokens, decode_loop, inference, make_rnn


def sample_logits(logits: Tensor, temperature: float = 1.0, top_k: int | None = None,
                  generator: Generator | None = None) -> Tensor:
    """One id per row of ``logits`` ``(N, V)`` → ``(N,)`` int64, drawn from softmax(logits / temperature)
    over the ``top_k`` largest logits of the row (all of them when None).

    ``temperature=0`` returns the argmax (the limit T → 0), as does ``top_k=1``. Lower temperatures
    sharpen the distribution, higher ones flatten it.
    """
    temperature = float(temperature)
    if not temperature >= 0:
        raise ValueError(f"sample_logits: temperature must be >= 0 (0 is greedy), got {temperature}")
    vocab = logits.shape[-1]
    if top_k is not None and not 1 <= int(top_k) <= vocab:
        raise ValueError(f"sample_logits: top_k must be between 1 and the vocabulary size {vocab}, got {top_k}")
    logits = logits.detach()
    if temperature == 0 or top_k == 1:
        return logits.argmax(-1)
    if top_k is not None and int(top_k) < vocab:
        kept = logits.topk(int(top_k), dim=-1).indices
        logits = full_like(logits, float("-inf")).scatter(-1, kept, logits.gather(-1, kept))
    return multinomial(F.softmax(logits / temperature, dim=-1), 1, generator=generator).squeeze(-1)


class CharLM(Module):
    """``CharLM(vocab_size=None, embedding_dim=64, hidden_size=256, num_layers=2, cell='lstm', dropout=0.0,
    vocab=None)``: embedding → LSTM/GRU/Elman layers → linear, predicting the next character.

    Args:
        vocab_size: V, the number of distinct characters (default ``len(vocab)``).
        embedding_dim: size of a character's embedding.
        hidden_size: H of each recurrent layer.
        num_layers: stacked recurrent layers.
        cell: ``'lstm'``, ``'gru'`` or ``'rnn'``.
        dropout: between recurrent layers and before the output layer.
        vocab: optional characters, id i ↔ ``vocab[i]`` (distinct); enables text in :meth:`encode`,
            :meth:`decode` and :meth:`generate`. :meth:`build_vocab` makes one from a text.

    ``forward(input, state=None)``: ids ``(N, T)`` (batch first) → ``(logits (N, T, V), state)``; the state
    (``(num_layers, N, H)``, a pair for an LSTM) continues the sequence in the next call (detach it
    between chunks for truncated back-propagation through time).

    Submodules: ``embedding``, ``rnn``, ``dropout``, ``fc`` — the state dict of the same PyTorch module.
    """

    def __init__(self, vocab_size: int | None = None, embedding_dim: int = 64, hidden_size: int = 256,
                 num_layers: int = 2, cell: str = "lstm", dropout: float = 0.0,
                 vocab: str | Sequence[str] | None = None) -> None:
        super().__init__()
        if vocab is not None:
            vocab = list(vocab)
            if len(set(vocab)) != len(vocab):
                raise ValueError("CharLM: the characters of vocab must be distinct (use CharLM.build_vocab(text))")
            if vocab_size is not None and int(vocab_size) != len(vocab):
                raise ValueError(f"CharLM: vocab_size={vocab_size} but vocab has {len(vocab)} characters; "
                                 "give one of them")
            vocab_size = len(vocab)
        if vocab_size is None:
            raise ValueError("CharLM: give vocab_size or vocab")
        self.vocab = vocab
        self._index = None if vocab is None else {c: i for i, c in enumerate(vocab)}
        self.vocab_size, self.embedding_dim, self.hidden_size = int(vocab_size), int(embedding_dim), int(hidden_size)
        self.num_layers, self.cell, self.dropout_p = int(num_layers), cell, float(dropout)
        self.embedding = nn.Embedding(self.vocab_size, self.embedding_dim)
        self.rnn = make_rnn("CharLM", cell, self.embedding_dim, self.hidden_size, self.num_layers, dropout)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(self.hidden_size, self.vocab_size)

    # ------------------------------------------------------------------ vocabulary and checkpoints
    @staticmethod
    def build_vocab(text: str) -> str:
        """The distinct characters of ``text``, sorted by code point: a vocabulary for ``vocab=``."""
        return "".join(sorted(set(text)))

    @property
    def config(self) -> dict:
        """The constructor arguments as plain values (the vocabulary as one string, or None): store it in
        a checkpoint beside ``state_dict()`` and rebuild with :meth:`from_config`."""
        return {"vocab_size": self.vocab_size, "embedding_dim": self.embedding_dim,
                "hidden_size": self.hidden_size, "num_layers": self.num_layers, "cell": self.cell,
                "dropout": self.dropout_p, "vocab": None if self.vocab is None else "".join(self.vocab)}

    @classmethod
    def from_config(cls, config: dict) -> "CharLM":
        """A new model (freshly initialised: load the state dict next) from :attr:`config`."""
        return cls(**config)

    def encode(self, text: str) -> Tensor:
        """The ids ``(len(text),)`` int64 of the characters of ``text``; a character outside the vocabulary
        is a ValueError naming it."""
        if self._index is None:
            raise ValueError("CharLM.encode: this model has no vocabulary; build it with vocab=... "
                             "(CharLM.build_vocab(text)) or pass ids")
        unknown = sorted(set(text) - self._index.keys())
        if unknown:
            raise ValueError(f"CharLM.encode: characters not in the vocabulary: {''.join(unknown)!r}; "
                             "remove them from the text or prompt")
        return tensor([self._index[c] for c in text], dtype=int64)

    def decode(self, ids) -> str:
        """The text of a sequence of ids ``(T,)`` (a Tensor or a list)."""
        if self.vocab is None:
            raise ValueError("CharLM.decode: this model has no vocabulary; build it with vocab=...")
        values = ids.tolist() if isinstance(ids, Tensor) else list(ids)
        return "".join(self.vocab[int(i)] for i in values)

    # ------------------------------------------------------------------ the model
    def forward(self, input: Tensor, state=None):
        check_tokens("CharLM", input)
        output, state = self.rnn(self.embedding(input), state)
        return self.fc(self.dropout(output)), state

    sample = staticmethod(sample_logits)

    def generate(self, prompt: str | Tensor | Sequence[int], max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None, generator: Generator | None = None, seed: int | None = None):
        """Continue ``prompt`` by ``max_new_tokens`` sampled characters (in eval mode, without gradients).

        Args:
            prompt: a string (needs ``vocab``), ids ``(P,)`` or a batch of prompts ``(N, P)``; P ≥ 1.
            max_new_tokens: characters to add.
            temperature, top_k: see :func:`sample_logits` (temperature 0 or top_k 1: greedy).
            generator: the random generator to draw from; ``seed`` makes a new one seeded so.

        Returns: the prompt followed by the new characters — a string for a string prompt, else ids
        ``(P + max_new_tokens,)`` or ``(N, P + max_new_tokens)``.
        """
        text = isinstance(prompt, str)
        if text:
            ids = self.encode(prompt)
        else:
            ids = prompt if isinstance(prompt, Tensor) else tensor(list(prompt), dtype=int64)
        single = ids.ndim == 1
        ids = ids.unsqueeze(0) if single else ids
        check_tokens("CharLM.generate", ids, "prompt")
        if ids.shape[1] == 0:
            raise ValueError("CharLM.generate: the prompt is empty; give at least one character")
        if seed is not None:
            generator = Generator().manual_seed(int(seed))
        with inference(self):
            logits, state = self(ids)

            def step(token, state):
                logits, state = self(token, state)
                return logits[:, -1], state, None

            pick = lambda logits: sample_logits(logits, temperature, top_k, generator)  # noqa: E731
            new, _ = decode_loop(step, (logits[:, -1], None), state, max_new_tokens, pick)
        out = cat([ids, new.to(ids.dtype)], 1)
        out = out[0] if single else out
        return self.decode(out) if text else out

    def extra_repr(self) -> str:
        return f"vocab_size={self.vocab_size}, cell={self.cell!r}"


__all__ = ["CharLM", "sample_logits"]
