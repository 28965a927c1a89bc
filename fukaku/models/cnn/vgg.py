"""VGG-style networks (Simonyan & Zisserman 2015) — seed 002 ch. 3's "AlexNet, VGG, GoogLeNet, ResNet".

VGG keeps one idea of seed 004 §3.3's conv/pool framework and pushes it to depth: stacks of 3×3
convolutions (padding 1, so the size is kept; two 3×3 layers see a 5×5 window with fewer parameters)
between 2×2 max poolings that halve H and W, channels doubling 64 → 128 → 256 → 512, then fully
connected layers. The configurations are the paper's Table 1: A (11 weight layers), B (13), D (16),
E (19); ``batch_norm=True`` inserts ``BatchNorm2d`` after every convolution (the later "vgg16_bn").

Layout and state-dict keys follow ``torchvision.models.VGG``: ``features`` (conv, [bn], ReLU, …,
maxpool), ``avgpool`` (adaptive, to ``pool_size × pool_size``) and ``classifier``
(Linear → ReLU → Dropout → Linear → ReLU → Dropout → Linear). Sized for small images: with 32×32
inputs the five poolings leave 1×1, so ``pool_size=1`` and ``hidden=512`` by default (torchvision: 7 and
4096 for 224×224); ``width`` scales every channel count.
"""
from __future__ import annotations

from collections.abc import Sequence

from ... import nn
from ...errors import ShapeError
from ...nn.modules.module import Module
from ...tensor import Tensor
from ._util import check_input, scaled

# Table 1 of the paper: numbers are 3×3 convolutions with that many output channels, "M" a 2×2 max pooling.
CONFIGS: dict[str, list[int | str]] = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
}


class VGG(Module):
    """``VGG(config='vgg11', num_classes=10, in_channels=3, width=1.0, batch_norm=False, hidden=512,
    dropout=0.5, pool_size=1)``.

    Args:
        config: a name of :data:`CONFIGS` (``'vgg11'``, ``'vgg13'``, ``'vgg16'``, ``'vgg19'``) or a list of
            channel counts and ``'M'`` (max pooling).
        num_classes: number of output logits.
        in_channels: channels of the input image.
        width: multiplier of every convolution's channel count.
        batch_norm: a ``BatchNorm2d`` after every convolution (the convolutions then still have biases,
            as in torchvision).
        hidden: width of the two hidden fully connected layers.
        dropout: dropout probability after each hidden fully connected layer.
        pool_size: side of the adaptive average pooling's output.

    Shape:
        ``(N, in_channels, H, W)`` → ``(N, num_classes)``, H and W at least 2^(number of poolings).
    """

    def __init__(self, config: str | Sequence[int | str] = "vgg11", num_classes: int = 10, in_channels: int = 3,
                 width: float = 1.0, batch_norm: bool = False, hidden: int = 512, dropout: float = 0.5,
                 pool_size: int = 1) -> None:
        super().__init__()
        if isinstance(config, str):
            if config not in CONFIGS:
                raise ValueError(f"VGG: unknown config {config!r}; choose one of {sorted(CONFIGS)} or pass a list "
                                 "such as [64, 'M', 128, 'M']")
            self.config_name, config = config, CONFIGS[config]
        else:
            self.config_name = None
        config = list(config)
        if not any(isinstance(v, int) for v in config) or any(v != "M" and not isinstance(v, int) for v in config):
            raise ValueError(f"VGG: config must list channel counts (int) and 'M' with at least one convolution, "
                             f"got {config}")
        self.num_classes, self.in_channels, self.width = int(num_classes), int(in_channels), width
        self.batch_norm, self.hidden, self.dropout, self.pool_size = bool(batch_norm), hidden, float(dropout), pool_size
        self.poolings = config.count("M")
        layers: list[Module] = []
        channels = in_channels
        for v in config:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
                continue
            out = scaled(v, width)
            layers.append(nn.Conv2d(channels, out, 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out))
            layers.append(nn.ReLU(inplace=True))
            channels = out
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(pool_size)
        self.classifier = nn.Sequential(
            nn.Linear(channels * pool_size * pool_size, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, input: Tensor) -> Tensor:
        check_input("VGG", input, self.in_channels)
        if min(input.shape[2:]) < 2 ** self.poolings:
            raise ShapeError(f"VGG: input of shape {tuple(input.shape)} is too small for {self.poolings} 2×2 max "
                             f"poolings (each halves H and W); use images of at least {2 ** self.poolings}×"
                             f"{2 ** self.poolings}")
        return self.classifier(self.avgpool(self.features(input)).flatten(1))

    def extra_repr(self) -> str:
        name = f"{self.config_name!r}, " if self.config_name else ""
        return (f"{name}num_classes={self.num_classes}, in_channels={self.in_channels}, width={self.width}, "
                f"batch_norm={self.batch_norm}")


def vgg11(**kwargs) -> VGG:
    """VGG configuration A (8 convolutions + 3 Linear = 11 weight layers); keywords go to :class:`VGG`."""
    return VGG("vgg11", **kwargs)


def vgg13(**kwargs) -> VGG:
    """VGG configuration B (13 weight layers); keywords go to :class:`VGG`."""
    return VGG("vgg13", **kwargs)


def vgg16(**kwargs) -> VGG:
    """VGG configuration D (16 weight layers); keywords go to :class:`VGG`."""
    return VGG("vgg16", **kwargs)


def vgg19(**kwargs) -> VGG:
    """VGG configuration E (19 weight layers); keywords go to :class:`VGG`."""
    return VGG("vgg19", **kwargs)


__all__ = ["VGG", "vgg11", "vgg13", "vgg16", "vgg19"]
