"""How many parameters a Transformer has, in closed form from its configuration — seed 000 §6.4 ("BERT-base
has 110M parameters, GPT-3 175B").

One layer of width d with a feed-forward width f (PyTorch's ``nn.TransformerEncoderLayer``, BERT's and GPT's
blocks alike) holds

- self-attention: W_Q, W_K, W_V, W_O, each d×d with a bias d: 4d² + 4d;
- feed-forward: d×f + f and f×d + d: 2df + f + d;
- two LayerNorms, a gain and a bias each: 4d;

so 4d² + 2df + 9d + f, which is 12d² + 13d when f = 4d. A decoder layer with cross-attention
(``nn.TransformerDecoderLayer``) adds one more attention and one more LayerNorm: 4d² + 6d.
Around the layers: token embeddings V·d, learned positions P·d (none for sinusoidal ones), segment
embeddings S·d (BERT's token types), a LayerNorm after the embeddings (BERT: 2d) or after the last layer
(GPT-2/3: 2d), BERT's pooler (d² + d), and an output head, which is free when it is tied to the token
embeddings (GPT) except for an optional bias.

:func:`parameter_count` adds these up by part. For BERT-base (V = 30,522, P = 512, S = 2, d = 768, f = 3,072,
12 layers, embedding LayerNorm, pooler; no pre-training heads) it gives 109,482,240 — "110M"; the MLM head
(dense d² + d, LayerNorm 2d, tied decoder with a bias V) adds 622,650 and NSP 2d + 2 = 1,538. For GPT-3
175B (V = 50,257, P = 2,048, d = 12,288, f = 4d, 96 layers, final LayerNorm, tied head without bias) it gives
174,604,259,328 — "175B"; of it the 96 layers hold 173,961,510,912 (99.6 %).
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["TransformerConfig", "parameter_count", "BERT_BASE", "GPT3"]


@dataclass(frozen=True)
class TransformerConfig:
    """What fixes a Transformer's parameter count.

    Args:
        vocab_size: V, rows of the token embedding (0: no embeddings, e.g. ``nn.Transformer`` alone).
        d_model: d.
        num_layers: layers of self-attention and feed-forward (BERT's encoder layers, GPT's decoder-only blocks).
        dim_feedforward: f, the feed-forward width (default 4d).
        max_positions: P, rows of a learned position table (0 for sinusoidal or rotary positions).
        type_vocab_size: S, segment embeddings (BERT: 2; 0 for none).
        num_decoder_layers: decoder layers with cross-attention (an encoder–decoder; 0 for none).
        embedding_norm: a LayerNorm right after the embeddings (BERT).
        final_norm: a LayerNorm after the last layer (pre-LN models: GPT-2/3; nn.Transformer's encoder and
            decoder norms count one each when there are decoder layers).
        pooler: BERT's pooler, d×d + d on the first token.
        mlm_head: BERT's masked-LM transform: dense d×d + d, LayerNorm 2d (its decoder is the tied head).
        nsp_head: BERT's next-sentence head, d×2 + 2.
        tied_head: the output head shares the token embeddings' weights (else it adds V·d).
        head_bias: the output head has a bias of V.
        num_heads: the heads of the attention (it does not change the count; kept to name the configuration).
    """

    vocab_size: int
    d_model: int
    num_layers: int
    dim_feedforward: int | None = None
    max_positions: int = 0
    type_vocab_size: int = 0
    num_decoder_layers: int = 0
    embedding_norm: bool = False
    final_norm: bool = False
    pooler: bool = False
    mlm_head: bool = False
    nsp_head: bool = False
    tied_head: bool = True
    head_bias: bool = False
    num_heads: int = field(default=1, compare=False)

    @property
    def feedforward(self) -> int:
        return 4 * self.d_model if self.dim_feedforward is None else self.dim_feedforward


def parameter_count(config: TransformerConfig) -> dict[str, int]:
    """The parameters of ``config``, by part, and their ``'total'``.

    Parts: ``'token embeddings'``, ``'position embeddings'``, ``'segment embeddings'``, ``'embedding
    LayerNorm'``, ``'layers'`` (self-attention and feed-forward: 4d² + 2df + 9d + f each), ``'decoder layers'``
    (with cross-attention: 8d² + 2df + 15d + f each), ``'final LayerNorm'``, ``'pooler'``, ``'MLM transform'``,
    ``'NSP head'``, ``'output head'``.

    Examples:
        >>> parameter_count(BERT_BASE)["total"]
        109482240
        >>> parameter_count(GPT3)["total"]
        174604259328
    """
    d, f, v = config.d_model, config.feedforward, config.vocab_size
    if min(d, f, config.num_layers + config.num_decoder_layers) <= 0 or v < 0:
        raise ValueError(f"parameter_count: d_model, dim_feedforward and the number of layers must be positive and "
                         f"vocab_size at least 0, got {config}")
    attention, feedforward, norm = 4 * d * d + 4 * d, 2 * d * f + f + d, 2 * d
    final_norms = int(config.final_norm) * (2 if config.num_decoder_layers and config.num_layers else 1)
    parts = {
        "token embeddings": v * d,
        "position embeddings": config.max_positions * d,
        "segment embeddings": config.type_vocab_size * d,
        "embedding LayerNorm": norm if config.embedding_norm else 0,
        "layers": config.num_layers * (attention + feedforward + 2 * norm),
        "decoder layers": config.num_decoder_layers * (2 * attention + feedforward + 3 * norm),
        "final LayerNorm": final_norms * norm,
        "pooler": d * d + d if config.pooler else 0,
        "MLM transform": d * d + d + norm if config.mlm_head else 0,
        "NSP head": 2 * d + 2 if config.nsp_head else 0,
        "output head": (0 if config.tied_head else v * d) + (v if config.head_bias else 0),
    }
    parts["total"] = sum(parts.values())
    return parts


# BERT-base (Devlin et al. 2019; bert-base-uncased's configuration): the encoder with its pooler, no
# pre-training heads — 109,482,240 parameters.
BERT_BASE = TransformerConfig(vocab_size=30522, d_model=768, num_layers=12, dim_feedforward=3072, max_positions=512,
                              type_vocab_size=2, embedding_norm=True, pooler=True, num_heads=12)
# GPT-3 175B (Brown et al. 2020, table 2.1): 96 pre-LN blocks of width 12,288, context 2,048, GPT-2's byte-level
# BPE vocabulary, a final LayerNorm and the output head tied to the token embeddings — 174,604,259,328.
GPT3 = TransformerConfig(vocab_size=50257, d_model=12288, num_layers=96, max_positions=2048, final_norm=True,
                         num_heads=96)
