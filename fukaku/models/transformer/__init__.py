"""Transformers — seed 000 §6.3–6.5 (attention, the Transformer, BERT, GPT, T5, ViT, CLIP), seed 001
§9.4 — built from ``fukaku.nn``'s attention, positional encodings and KV cache, batch first.

- :class:`GPT` with :class:`GPTConfig` — GPT-mini, a decoder-only causal language model (pre-LN blocks,
  tied head, learned / sinusoidal / rotary positions); ``generate`` with greedy, temperature, top-k and
  top-p sampling and a KV cache (``gpt.py``);
- :func:`sample_tokens`, :func:`nucleus_filter` — choosing the next token (``sampling.py``).
- :class:`CLIP`, :class:`TextEncoder`, :func:`clip_loss` — CLIP-mini: two encoders, symmetric InfoNCE with a
  learned temperature, zero-shot classification (``clip.py``);
- :class:`CCA`, :func:`canonical_correlations` — linear CCA in closed form, beside CLIP (``cca.py``);
- :class:`TransformerSeq2Seq` — the encoder–decoder (``nn.Transformer``) with greedy decoding (``seq2seq.py``);
  :class:`TextToText` — T5-style text-to-text with task prefixes, :func:`synthetic_examples` (``t5.py``);
- :class:`BertModel`, :class:`BertForPreTraining` (MLM + NSP), :class:`BertForSequenceClassification`,
  :func:`mask_tokens` (15 %, 80/10/10) — BERT-mini (``bert.py``);
- :class:`ViT` — ViT-mini: patches by a strided convolution, class token, learned positions (``vit.py``);
- :func:`parameter_count` of a :class:`TransformerConfig`; :data:`BERT_BASE` (109,482,240) and :data:`GPT3`
  (174,604,259,328) (``counting.py``).
"""
from .gpt import GPT, GPTConfig
from .sampling import nucleus_filter, sample_tokens
from .cca import CCA, CCAResult, canonical_correlations
from .clip import CLIP, TextEncoder, clip_loss
from .counting import BERT_BASE, GPT3, TransformerConfig, parameter_count
from .bert import BertEmbeddings, BertForPreTraining, BertForSequenceClassification, BertModel, mask_tokens
from .seq2seq import TransformerSeq2Seq
from .t5 import TASKS, TextToText, synthetic_examples
from .vit import ViT

__all__ = ["GPT", "GPTConfig", "nucleus_filter", "sample_tokens"]
__all__ += ["CLIP", "TextEncoder", "clip_loss", "CCA", "CCAResult", "canonical_correlations", "BERT_BASE", "GPT3",
            "TransformerConfig", "parameter_count", "BertEmbeddings", "BertModel", "BertForPreTraining",
            "BertForSequenceClassification", "mask_tokens", "TransformerSeq2Seq", "TextToText", "synthetic_examples",
            "TASKS", "ViT"]
