"""GPT-mini: a decoder-only Transformer language model — seed 000 §6.4 (GPT: next-token prediction,
prompting), seed 001 §9.4 (the decoder's causal self-attention, pre-LN blocks).

The model reads token ids x_1 … x_T and scores the next token at every position::

    h = wte(x) + positions                       (learned, sinusoidal, or none when RoPE rotates q and k)
    h = h + attn(ln_1(h))      × n_layer         causal multi-head self-attention (pre-LN, as GPT-2)
    h = h + mlp(ln_2(h))                         Linear(d, 4d) → GELU → Linear(4d, d)
    logits = lm_head(ln_f(h))                    (N, T, vocab_size)

Attention is ``F.scaled_dot_product_attention(q, k, v, is_causal=True)``: position t sees positions ≤ t
only, so one forward pass trains all T next-token predictions at once (cross-entropy of ``logits[:, :-1]``
against ``x[:, 1:]``, or of ``model(x)`` against the targets ``y = x`` shifted by one).

**Tied head** (the default, as GPT-2): ``lm_head.weight`` *is* ``wte.weight`` — the score of token v is
the dot product of the final state with v's own embedding. It saves ``vocab_size · d_model`` parameters
and, at character level, trains at least as well; ``tie_weights=False`` gives a separate head. The state
dict lists both keys, as PyTorch's does for a tied module.

Initialisation as GPT-2: weights N(0, 0.02), biases 0, and the two projections that write into the
residual stream (``attn.proj``, ``mlp.proj``) N(0, 0.02/√(2·n_layer)), so the residual's variance does not
grow with depth.

**Generation** (:meth:`GPT.generate`) feeds the model its own samples: greedy (``temperature=0``),
temperature, top-k and top-p (nucleus) sampling, reproducible with ``seed=`` or ``generator=``. With
``use_cache=True`` (the default) a :class:`fukaku.nn.KVCache` keeps every layer's keys and values, so a
step runs one position through the model instead of the whole prefix — the same logits as the full
recomputation (tests/models/test_gpt.py checks it). When the sequence outgrows the context, the window
slides: the model sees the last ``context_length`` tokens (recomputed per step, the cache no longer helps).

Checkpoints: ``model.config`` is a :class:`GPTConfig`; ``config.to_dict()`` is plain values for
``fukaku.save`` and ``GPT.from_config(d)`` rebuilds the model::

    fukaku.save({"config": model.config.to_dict(), "model": model.state_dict()}, "gpt.pt")
    ckpt = fukaku.load("gpt.pt")
    model = GPT.from_config(ckpt["config"]); model.load_state_dict(ckpt["model"])
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

from ... import nn
from ...dtypes import int64
from ...errors import ShapeError
from ...nn import functional as F
from ...nn import init
from ...nn.modules.module import Module
from ...ops.shape import cat
from ...tensor import Generator, Tensor, ones, tensor
from ..rnn._util import check_tokens, decode_loop, inference
from .sampling import sample_tokens

POSITIONAL = ("learned", "sinusoidal", "rope")


@dataclass
class GPTConfig:
    """The sizes of a GPT. Defaults: the GPT-mini of issue 11 (4 layers, d_model 128, 4 heads, context 128).

    Args:
        vocab_size: V, the number of distinct tokens.
        context_length: the longest sequence the model reads (the positional table's length).
        n_layer: Transformer blocks.
        n_head: attention heads per block (``d_model`` divisible by it).
        d_model: width of the residual stream.
        dropout: after the embeddings, on the attention weights, and on each block's two outputs.
        positional: ``'learned'`` (GPT's), ``'sinusoidal'`` (Vaswani et al.) or ``'rope'`` (rotary, on q and k).
        tie_weights: the output layer shares the token embedding's weight.
        bias: biases in the linear layers and LayerNorms.
        mlp_ratio: the MLP's hidden width is ``mlp_ratio · d_model``.
    """

    vocab_size: int
    context_length: int = 128
    n_layer: int = 4
    n_head: int = 4
    d_model: int = 128
    dropout: float = 0.0
    positional: str = "learned"
    tie_weights: bool = True
    bias: bool = True
    mlp_ratio: int = 4

    def __post_init__(self) -> None:
        for name in ("vocab_size", "context_length", "n_layer", "n_head", "d_model", "mlp_ratio"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"GPTConfig: {name} must be an integer >= 1, got {value!r}")
        if self.d_model % self.n_head:
            raise ValueError(f"GPTConfig: d_model={self.d_model} is not divisible by n_head={self.n_head}; choose "
                             f"n_head among the divisors of d_model (e.g. {math.gcd(self.d_model, self.n_head)})")
        if self.positional not in POSITIONAL:
            raise ValueError(f"GPTConfig: positional must be one of {POSITIONAL}, got {self.positional!r}")
        if self.positional == "rope" and (self.d_model // self.n_head) % 2:
            raise ValueError(f"GPTConfig: RoPE needs an even head size, got d_model / n_head = "
                             f"{self.d_model // self.n_head}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"GPTConfig: dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict:
        """Plain values, for a checkpoint (``GPT.from_config`` takes them back)."""
        return dataclasses.asdict(self)


class CausalSelfAttention(Module):
    """Multi-head causal self-attention with one fused ``qkv`` projection ``Linear(d, 3d)`` and the output
    projection ``proj``; RoPE on q and k when the model uses it. ``forward(x, cache=None, layer=0)``:
    ``(N, T, d)`` → ``(N, T, d)``; with a :class:`KVCache`, x holds the positions after the cached ones."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.n_head, self.d_model = config.n_head, config.d_model
        self.head_dim = config.d_model // config.n_head
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model, bias=config.bias)
        self.proj = nn.Linear(config.d_model, config.d_model, bias=config.bias)
        self.dropout_p = config.dropout
        self.resid_dropout = nn.Dropout(config.dropout)
        self.rope = (nn.RotaryPositionalEmbedding(self.head_dim, config.context_length)
                     if config.positional == "rope" else None)

    def forward(self, x: Tensor, cache: nn.KVCache | None = None, layer: int = 0) -> Tensor:
        n, t, d = x.shape
        q, k, v = self.qkv(x).reshape(n, t, 3, self.n_head, self.head_dim).permute(2, 0, 3, 1, 4).unbind(0)
        past = 0 if cache is None else cache.length(layer)
        if self.rope is not None:
            q, k = self.rope(q, offset=past), self.rope(k, offset=past)
        if cache is not None:
            k, v = cache.update(layer, k, v)
        dropout = self.dropout_p if self.training else 0.0
        if past == 0:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=True)
        elif t == 1:  # one new position sees every cached one
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout)
        else:  # new positions past + i see positions ≤ past + i
            mask = ones(t, past + t, device=x.device).tril(past).bool()
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)
        return self.resid_dropout(self.proj(y.transpose(1, 2).reshape(n, t, d)))


class MLP(Module):
    """``Linear(d, mlp_ratio·d)`` (``fc``) → GELU → ``Linear(mlp_ratio·d, d)`` (``proj``) → dropout."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(config.d_model, config.mlp_ratio * config.d_model, bias=config.bias)
        self.gelu = nn.GELU()
        self.proj = nn.Linear(config.mlp_ratio * config.d_model, config.d_model, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.proj(self.gelu(self.fc(x))))


class Block(Module):
    """A pre-LN Transformer decoder block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.d_model, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.d_model, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: Tensor, cache: nn.KVCache | None = None, layer: int = 0) -> Tensor:
        x = x + self.attn(self.ln_1(x), cache, layer)
        return x + self.mlp(self.ln_2(x))


class GPT(Module):
    """``GPT(config=None, **sizes)``: GPT-mini, a causal Transformer language model (see the module's text).

    Build it from a :class:`GPTConfig` or from its fields: ``GPT(vocab_size=65)`` is the issue's GPT-mini
    (4 layers, d_model 128, 4 heads, context 128); ``GPT(config, dropout=0.1)`` overrides a field.

    ``forward(idx, cache=None)``: ids ``(N, T)``, T ≤ ``context_length`` (counting the cached positions) →
    logits ``(N, T, vocab_size)``. A token outside ``[0, vocab_size)`` or a sequence longer than the
    context is an error naming it.

    Submodules (state-dict keys): ``wte`` (token embedding), ``wpe`` (learned positions; absent for RoPE;
    a parameter-free table for sinusoidal), ``drop``, ``blocks.{i}.ln_1 / attn.qkv / attn.proj / ln_2 /
    mlp.fc / mlp.proj``, ``ln_f``, ``lm_head`` (weight tied to ``wte.weight`` by default).
    """

    def __init__(self, config: GPTConfig | None = None, **sizes) -> None:
        super().__init__()
        if config is None:
            config = GPTConfig(**sizes)
        elif sizes:
            config = dataclasses.replace(config, **sizes)
        self.config = config
        c = config
        self.wte = nn.Embedding(c.vocab_size, c.d_model)
        if c.positional == "learned":
            self.wpe = nn.LearnedPositionalEmbedding(c.context_length, c.d_model)
        elif c.positional == "sinusoidal":
            self.wpe = nn.SinusoidalPositionalEncoding(c.d_model, c.context_length)
        else:
            self.wpe = None
        self.drop = nn.Dropout(c.dropout)
        self.blocks = nn.ModuleList([Block(c) for _ in range(c.n_layer)])
        self.ln_f = nn.LayerNorm(c.d_model, bias=c.bias)
        self.lm_head = nn.Linear(c.d_model, c.vocab_size, bias=False)
        self.reset_parameters()
        if c.tie_weights:
            self.lm_head.weight = self.wte.weight

    @classmethod
    def from_config(cls, config: dict | GPTConfig) -> "GPT":
        """A new model (freshly initialised: load the state dict next) from a config or its ``to_dict()``."""
        return cls(config if isinstance(config, GPTConfig) else GPTConfig(**config))

    def reset_parameters(self) -> None:
        """GPT-2's initialisation: N(0, 0.02) weights, zero biases, the residual projections scaled by 1/√(2·n_layer)."""
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                init.zeros_(p)
            elif name.endswith("weight") and p.ndim == 2:
                residual = name.endswith("attn.proj.weight") or name.endswith("mlp.proj.weight")
                init.normal_(p, 0.0, 0.02 / math.sqrt(2 * self.config.n_layer) if residual else 0.02)
            else:  # LayerNorm gains
                init.ones_(p)

    def num_parameters(self) -> int:
        """Distinct parameters (a tied weight counted once)."""
        return sum(p.numel() for p in self.parameters())

    def _check_ids(self, idx: Tensor, offset: int, what: str) -> None:
        check_tokens("GPT", idx, what)
        c = self.config
        if offset + idx.shape[1] > c.context_length:
            where = f"{offset} cached + {idx.shape[1]} new tokens" if offset else f"{idx.shape[1]} tokens"
            raise ShapeError(f"GPT: {what} of {where} exceed the context of {c.context_length} tokens; crop it to "
                             f"the last {c.context_length - offset} tokens or build the model with "
                             f"context_length >= {offset + idx.shape[1]}")
        if idx.numel():
            low, high = int(idx.min()), int(idx.max())
            if low < 0 or high >= c.vocab_size:
                bad = low if low < 0 else high
                raise ValueError(f"GPT: {what} holds token id {bad}, outside the vocabulary [0, {c.vocab_size}); "
                                 "encode it with the model's own tokenizer")

    def forward(self, idx: Tensor, cache: nn.KVCache | None = None) -> Tensor:
        return self.lm_head(self.ln_f(self.features(idx, cache)))

    def features(self, idx: Tensor, cache: nn.KVCache | None = None) -> Tensor:
        """The residual stream after the last block ``(N, T, d_model)``, before ``ln_f`` and the head."""
        offset = 0 if cache is None else cache.length(0)
        self._check_ids(idx, offset, "input")
        h = self.wte(idx)
        if isinstance(self.wpe, nn.LearnedPositionalEmbedding):
            h = h + self.wpe(idx, offset)
        elif self.wpe is not None:
            h = self.wpe(h, offset)
        h = self.drop(h)
        for i, block in enumerate(self.blocks):
            h = block(h, cache, i)
        return h

    def _last_logits(self, idx: Tensor, cache: nn.KVCache | None) -> Tensor:
        """The logits ``(N, V)`` of the last position only (the head is not applied to the others)."""
        return self.lm_head(self.ln_f(self.features(idx, cache)[:, -1]))

    def new_cache(self) -> nn.KVCache:
        """An empty :class:`fukaku.nn.KVCache` for this model's layers and context."""
        return nn.KVCache(self.config.n_layer, max_len=self.config.context_length)

    def generate(self, prompt_ids: Tensor | Sequence[int], max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None, generator: Generator | None = None,
                 seed: int | None = None, use_cache: bool = True) -> Tensor:
        """Continue ``prompt_ids`` by ``max_new_tokens`` tokens (eval mode, no gradients).

        Args:
            prompt_ids: ids ``(P,)`` (a tensor or a list) or a batch ``(N, P)``; 1 ≤ P ≤ ``context_length``,
                every id in ``[0, vocab_size)``.
            max_new_tokens: tokens to add.
            temperature: 0 is greedy (argmax); otherwise sample from softmax(logits / temperature).
            top_k: sample among the k most likely tokens only.
            top_p: then among the fewest most likely tokens whose probability sums to at least top_p.
            generator, seed: the random generator to draw from; ``seed`` makes a new one seeded so.
            use_cache: decode incrementally with a :class:`KVCache` (same tokens, faster).

        Returns: the prompt followed by the new tokens, ``(P + max_new_tokens,)`` or ``(N, P + max_new_tokens)``.
        """
        ids = prompt_ids if isinstance(prompt_ids, Tensor) else tensor(list(prompt_ids), dtype=int64)
        single = ids.ndim == 1
        ids = ids.unsqueeze(0) if single else ids
        if ids.ndim != 2 or ids.shape[1] == 0:
            raise ValueError(f"GPT.generate: the prompt must be 1 to {self.config.context_length} token ids (P,) or "
                             f"(N, P), got shape {tuple(ids.shape)}")
        self._check_ids(ids, 0, "the prompt")
        if int(max_new_tokens) < 0:
            raise ValueError(f"GPT.generate: max_new_tokens must be >= 0, got {max_new_tokens}")
        if seed is not None:
            generator = Generator().manual_seed(int(seed))
        context = self.config.context_length
        cache = self.new_cache() if use_cache else None
        with inference(self):
            def step(token: Tensor, state):  # state: every token so far, and the cache while it holds
                tokens, cache = state
                token = token.to(tokens.dtype)
                tokens = cat([tokens, token], 1)
                if cache is not None and len(cache) == context:
                    cache = None  # the window slides from here on: positions shift, the cache no longer holds
                logits = self._last_logits(token, cache) if cache is not None else self._last_logits(
                    tokens[:, -context:], None)  # else the full recomputation over the last `context` tokens
                return logits, (tokens, cache), None

            pick = lambda logits: sample_tokens(logits, temperature, top_k, top_p, generator)  # noqa: E731
            new, _ = decode_loop(step, (self._last_logits(ids, cache), None), (ids, cache), max_new_tokens, pick)
        out = cat([ids, new.to(ids.dtype)], 1)
        return out[0] if single else out

    def extra_repr(self) -> str:
        c = self.config
        return (f"vocab_size={c.vocab_size}, context_length={c.context_length}, n_layer={c.n_layer}, "
                f"n_head={c.n_head}, d_model={c.d_model}, positional={c.positional!r}, tie_weights={c.tie_weights}")


__all__ = ["GPT", "GPTConfig"]
