"""An AlexNet-style network (Krizhevsky, Sutskever & Hinton 2012) sized for small images — seed 000 §6.2.

Seed 000 §6.2 names what made AlexNet the breakthrough of ILSVRC 2012 (seed 004 §3.1: top-5 error
26.1% → 15.3%): a large labelled data set, GPUs, the ReLU activation and dropout against overfitting.
The paper adds local response normalisation (LRN) after the first two convolutions (its §3.3) and
overlapping max pooling (3×3 windows, stride 2; its §3.4).

This version keeps the five convolutions and three fully connected layers, the placement of LRN and
the overlapping pooling, and shrinks the first layer for 32×32 inputs (5×5, stride 1, instead of 11×11,
stride 4 on 224×224); ``width`` scales every channel count and ``hidden`` is the width of the two
hidden Linear layers (4096 in the paper). Its layout follows ``torchvision.models.AlexNet``
(``features``, ``avgpool``, ``classifier``), with the LRN layers at indices 2 and 6 of ``features``:

    conv5×5 64 → ReLU → LRN → maxpool 3/2 → conv5×5 192 → ReLU → LRN → maxpool 3/2
    → conv3×3 384 → ReLU → conv3×3 256 → ReLU → conv3×3 256 → ReLU → maxpool 3/2
    → adaptive avgpool to 3×3 → dropout → Linear → ReLU → dropout → Linear → ReLU → Linear

LRN: the paper's b = a / (k + α Σ a²)^β over n = 5 neighbouring channels with k = 2, α = 10⁻⁴, β = 0.75.
``nn.LocalResponseNorm`` divides α by n, so the layer is ``LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2)``.
With ``lrn=False`` the two LRN layers are ``nn.Identity`` (no parameters either way, so the state dict
is the same).
"""
from __future__ import annotations

from ... import nn
from ...nn.modules.module import Module
from ...tensor import Tensor
from ._util import check_input, scaled

_CHANNELS = (64, 192, 384, 256, 256)


class AlexNet(Module):
    """``AlexNet(num_classes=10, in_channels=3, width=1.0, hidden=1024, dropout=0.5, lrn=True)``.

    Args:
        num_classes: number of output logits.
        in_channels: channels of the input image.
        width: multiplier of the channel counts (64, 192, 384, 256, 256).
        hidden: width of the two hidden fully connected layers.
        dropout: probability of the dropout before each hidden Linear layer (paper: 0.5).
        lrn: local response normalisation after the first two convolutions (paper: yes).

    Shape:
        ``(N, in_channels, H, W)`` → ``(N, num_classes)``, for H, W ≥ 15 (32×32 is the intended size; the
        adaptive average pooling makes the classifier's input 3×3 for any size).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, width: float = 1.0, hidden: int = 1024,
                 dropout: float = 0.5, lrn: bool = True) -> None:
        super().__init__()
        c1, c2, c3, c4, c5 = (scaled(c, width) for c in _CHANNELS)
        self.num_classes, self.in_channels, self.width, self.hidden = int(num_classes), int(in_channels), width, hidden
        self.dropout, self.lrn = float(dropout), bool(lrn)

        def norm() -> Module:
            return nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0) if lrn else nn.Identity()

        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 5, padding=2), nn.ReLU(inplace=True), norm(), nn.MaxPool2d(3, 2),
            nn.Conv2d(c1, c2, 5, padding=2), nn.ReLU(inplace=True), norm(), nn.MaxPool2d(3, 2),
            nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c3, c4, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c4, c5, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(3)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(c5 * 9, hidden), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, input: Tensor) -> Tensor:
        check_input("AlexNet", input, self.in_channels)
        pooled = self.avgpool(self.features(input))        # (N, c5, 3, 3) whatever H and W
        return self.classifier(pooled.flatten(1))          # (N, 9·c5) → (N, num_classes)

    def extra_repr(self) -> str:
        return (f"num_classes={self.num_classes}, in_channels={self.in_channels}, width={self.width}, "
                f"hidden={self.hidden}, dropout={self.dropout}, lrn={self.lrn}")


__all__ = ["AlexNet"]
