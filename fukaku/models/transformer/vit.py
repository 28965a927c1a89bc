"""ViT-mini, the Vision Transformer (Dosovitskiy et al. 2021) — seed 000 §6.2–6.3 ("ViT: patches as tokens"),
seed 001 §9.4.

An image is cut into P×P patches; each patch becomes a token by one linear map, written as a convolution with
kernel and stride P (``conv_proj``); a learned class token is put in front, learned position vectors are
added, and a Transformer encoder mixes the tokens. The class token's output, after the final LayerNorm, goes
to a linear head. The layout and the names follow torchvision's ``VisionTransformer`` (``conv_proj``,
``class_token``, ``pos_embedding``, ``heads``) with PyTorch's ``nn.TransformerEncoder`` as the encoder, so a
state dict moves to the same model written with ``torch.nn``.
"""
from __future__ import annotations

from ... import nn
from ...errors import ShapeError
from ...nn.modules.module import Module
from ...nn.parameter import Parameter
from ...ops.shape import cat
from ...tensor import Tensor, randn, zeros

__all__ = ["ViT"]


class ViT(Module):
    """``ViT(image_size, patch_size, num_classes, in_channels=1, d_model=64, nhead=4, num_layers=2,
    dim_feedforward=None, dropout=0.0, norm_first=True, activation='gelu')``.

    Args:
        image_size: the side S of the square input images; ``patch_size`` must divide it.
        patch_size: P; the image gives (S/P)² patch tokens, plus the class token.
        num_classes: outputs of the head.
        in_channels: C of the images ``(N, C, S, S)``.
        d_model, nhead, num_layers, dim_feedforward (default 4·d_model), dropout, activation: the encoder's
            ``nn.TransformerEncoderLayer``\\ s (batch first).
        norm_first: pre-LN layers (ViT's, the default) with a final LayerNorm ``encoder.norm``; ``False``: post-LN
            layers and no final norm.

    Shape: ``(N, C, S, S)`` → logits ``(N, num_classes)``. :meth:`features` gives the encoder's outputs
    ``(N, 1 + (S/P)², d_model)``, the class token first.

    Parameters: ``class_token`` (1, 1, d) zeros, ``pos_embedding`` (1, 1 + (S/P)², d) ~ N(0, 0.02²) as
    torchvision's; ``conv_proj`` (d, C, P, P); ``encoder.layers.*``; ``heads`` (d → num_classes).
    """

    def __init__(self, image_size: int, patch_size: int, num_classes: int, in_channels: int = 1, d_model: int = 64,
                 nhead: int = 4, num_layers: int = 2, dim_feedforward: int | None = None, dropout: float = 0.0,
                 norm_first: bool = True, activation: str = "gelu") -> None:
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"ViT: patch_size {patch_size} must divide image_size {image_size}; pad or resize the "
                             f"images, or pick a patch size among the divisors of {image_size}")
        self.image_size, self.patch_size, self.in_channels = int(image_size), int(patch_size), int(in_channels)
        self.num_patches = (image_size // patch_size) ** 2
        self.class_token = Parameter(zeros(1, 1, d_model))
        self.pos_embedding = Parameter(randn(1, self.num_patches + 1, d_model) * 0.02)
        self.conv_proj = nn.Conv2d(in_channels, d_model, patch_size, stride=patch_size)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward or 4 * d_model, dropout, activation,
                                           batch_first=True, norm_first=norm_first)
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model) if norm_first else None,
                                             enable_nested_tensor=False)
        self.heads = nn.Linear(d_model, num_classes)

    def patch_tokens(self, images: Tensor) -> Tensor:
        """The patch embeddings ``(N, (S/P)², d_model)``, row-major over the patch grid."""
        expected = (self.in_channels, self.image_size, self.image_size)
        if images.dim() != 4 or tuple(images.shape[1:]) != expected:
            raise ShapeError(f"ViT: expected images (N, {', '.join(map(str, expected))}), got shape "
                             f"{tuple(images.shape)}; build the model with in_channels and image_size of the data")
        return self.conv_proj(images).flatten(2).transpose(1, 2)

    def features(self, images: Tensor) -> Tensor:
        tokens = self.patch_tokens(images)
        cls = self.class_token.expand(tokens.shape[0], -1, -1)
        return self.encoder(cat([cls, tokens], dim=1) + self.pos_embedding)

    def forward(self, images: Tensor) -> Tensor:
        return self.heads(self.features(images)[:, 0])
