"""CLIP in miniature (Radford et al. 2021) — seed 000 §6.5: two encoders map an image and a text into one space;
with L2-normalised embeddings the similarity s_ij = ⟨f(x_i), g(t_j)⟩ / τ of every image with every text of a
batch of N pairs is trained by the symmetric InfoNCE loss

    L = −(1/N) Σ_i log softmax_j(s_ij)[i]  −  (1/N) Σ_j log softmax_i(s_ij)[j],

image → text plus text → image. The text writes the sum of the two terms (so at random initialisation, when
every s_ij is about equal, L ≈ 2 log N); the original CLIP averages them (½, erratum C6), ≈ log N.
:func:`clip_loss` gives either (``reduction='mean'``, CLIP's, by default; ``'sum'``, the text's). The
temperature is learned as CLIP does it: a parameter ``logit_scale`` = log(1/τ), initialised at log(1/0.07) and
clamped to at most log 100 so that 1/τ ≤ 100.

Zero-shot classification (:meth:`CLIP.zero_shot`): embed one prompt per class ("a red circle"), and give each
image the class whose prompt embedding is most similar to its own — no classifier is trained.

The encoders are any Modules: :class:`TextEncoder` embeds tokens and averages them over the non-padding positions,
optionally after Transformer encoder layers; an image encoder can be an MLP or a :class:`ViT`.
"""
from __future__ import annotations

import math

from ... import nn
from ...nn import functional as F
from ...nn.modules.module import Module
from ...nn.parameter import Parameter
from ...tensor import Tensor, arange, tensor

__all__ = ["CLIP", "TextEncoder", "clip_loss"]

MAX_LOGIT_SCALE = math.log(100.0)   # CLIP clips 1/τ at 100


def clip_loss(logits_per_image: Tensor, reduction: str = "mean") -> Tensor:
    """The symmetric InfoNCE loss of an (N, N) similarity matrix whose diagonal holds the true pairs.

    Args:
        logits_per_image: s_ij = ⟨image i, text j⟩ / τ.
        reduction: ``'mean'``: ½(L_image→text + L_text→image), CLIP's (erratum C6); ``'sum'``: the two terms
            added, the text's form (≈ 2 log N at random initialisation).
    """
    if logits_per_image.dim() != 2 or logits_per_image.shape[0] != logits_per_image.shape[1]:
        raise ValueError(f"clip_loss: logits_per_image must be square (N images × N texts), got shape "
                         f"{tuple(logits_per_image.shape)}; pair every image with one text")
    if reduction not in ("mean", "sum"):
        raise ValueError(f"clip_loss: reduction must be 'mean' (CLIP's ½) or 'sum' (the text's), got {reduction!r}")
    target = arange(logits_per_image.shape[0])
    total = F.cross_entropy(logits_per_image, target) + F.cross_entropy(logits_per_image.mT, target)
    return total / 2 if reduction == "mean" else total


class TextEncoder(Module):
    """``TextEncoder(vocab_size, d_model, num_layers=0, nhead=2, max_len=64, padding_idx=0)``: token embeddings
    (plus learned positions and ``num_layers`` ``nn.TransformerEncoderLayer``\\ s when ``num_layers > 0``),
    averaged over the positions that are not ``padding_idx``. ``forward(tokens (N, T)) → (N, d_model)``.
    With ``num_layers = 0`` it is a bag of words: the mean of the tokens' embeddings."""

    def __init__(self, vocab_size: int, d_model: int, num_layers: int = 0, nhead: int = 2, max_len: int = 64,
                 padding_idx: int = 0) -> None:
        super().__init__()
        self.padding_idx, self.max_len = padding_idx, max_len
        self.embedding = nn.Embedding(vocab_size, d_model, padding_idx=padding_idx)
        if num_layers:
            self.position = nn.Embedding(max_len, d_model)
            layer = nn.TransformerEncoderLayer(d_model, nhead, 4 * d_model, dropout=0.0, batch_first=True,
                                               norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        else:
            self.position = self.encoder = None

    def forward(self, tokens: Tensor) -> Tensor:
        if tokens.dim() != 2:
            raise ValueError(f"TextEncoder: tokens must be (N, T) token ids, got shape {tuple(tokens.shape)}")
        keep = tokens != self.padding_idx
        h = self.embedding(tokens)
        if self.encoder is not None:
            if tokens.shape[1] > self.max_len:
                raise ValueError(f"TextEncoder: sequences of {tokens.shape[1]} tokens are longer than the position "
                                 f"table ({self.max_len}); build it with max_len ≥ {tokens.shape[1]}")
            h = self.encoder(h + self.position(arange(tokens.shape[1])), src_key_padding_mask=~keep)
        weights = keep.to(h.dtype).unsqueeze(-1)
        return (h * weights).sum(1) / weights.sum(1).clamp(min=1.0)


class CLIP(Module):
    """``CLIP(image_encoder, text_encoder, image_features, text_features, embed_dim, temperature=0.07)``.

    Args:
        image_encoder, text_encoder: Modules giving ``(N, image_features)`` and ``(N, text_features)``.
        embed_dim: the joint space; linear projections (no bias, as CLIP's) map both encoders into it.
        temperature: τ at initialisation; ``logit_scale`` = log(1/τ) is learned, clamped to ≤ log 100.

    ``forward(images, texts) → (logits_per_image, logits_per_text)``, both (N, N), one the transpose of the
    other, as OpenAI's CLIP; train with :func:`clip_loss` on ``logits_per_image``.
    """

    def __init__(self, image_encoder: Module, text_encoder: Module, image_features: int, text_features: int,
                 embed_dim: int, temperature: float = 0.07) -> None:
        super().__init__()
        if not temperature > 0:
            raise ValueError(f"CLIP: temperature must be positive, got {temperature}")
        self.visual, self.text = image_encoder, text_encoder
        self.image_projection = nn.Linear(image_features, embed_dim, bias=False)
        self.text_projection = nn.Linear(text_features, embed_dim, bias=False)
        self.logit_scale = Parameter(tensor(math.log(1.0 / temperature)))

    def encode_image(self, images: Tensor) -> Tensor:
        """L2-normalised image embeddings (N, embed_dim)."""
        return F.normalize(self.image_projection(self.visual(images)), dim=-1)

    def encode_text(self, texts: Tensor) -> Tensor:
        """L2-normalised text embeddings (N, embed_dim)."""
        return F.normalize(self.text_projection(self.text(texts)), dim=-1)

    def scale(self) -> Tensor:
        """1/τ = exp(logit_scale), with logit_scale clamped to at most log 100."""
        return self.logit_scale.clamp(max=MAX_LOGIT_SCALE).exp()

    def forward(self, images: Tensor, texts: Tensor) -> tuple[Tensor, Tensor]:
        logits = self.scale() * self.encode_image(images) @ self.encode_text(texts).mT
        return logits, logits.mT

    def zero_shot(self, images: Tensor, class_prompts: Tensor) -> Tensor:
        """The class of each image (N,): the index of the most similar of the ``class_prompts`` (C prompts, one
        per class, as token ids (C, T))."""
        return (self.encode_image(images) @ self.encode_text(class_prompts).mT).argmax(-1)
