"""MobileNet (Howard et al. 2017): the lightweight, depthwise-separable CNN of seed 000 §6.2.

A standard k×k convolution from M to N channels has k²·M·N weights and costs k²·M·N·H·W
multiply-adds. MobileNet factors it into a *depthwise* k×k convolution (one filter per input channel:
``groups = M``, k²·M weights) followed by a *pointwise* 1×1 convolution (M·N weights), each with
BatchNorm and ReLU — about 1/N + 1/k² of the cost (8 to 9 times less for k = 3). The width
multiplier α thins every layer (channels × α).

The network (the paper's Table 1): a 3×3 convolution with 32 filters, then 13 depthwise-separable
blocks with 64, 128, 128, 256, 256, 512 (×6), 1024, 1024 output channels, strides 1, 2, 1, 2, 1, 2,
1, 1, 1, 1, 1, 2, 1, global average pooling and a Linear classifier. For 224×224 images the first
convolution has stride 2; for small images (32×32) ``stem_stride=1``, the default here, keeps enough
resolution (32 → 2 after the four stride-2 blocks).
"""
from __future__ import annotations

from ... import nn
from ...nn import functional as F
from ...nn.modules.module import Module
from ...tensor import Tensor
from ._util import check_input, scaled

# (output channels, stride) of the 13 depthwise-separable blocks of Table 1.
BLOCKS: tuple[tuple[int, int], ...] = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1),
                                       (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))


class DepthwiseSeparableConv2d(Module):
    """``DepthwiseSeparableConv2d(in_channels, out_channels, stride=1, kernel_size=3)``: depthwise k×k
    convolution (``groups=in_channels``, padding k//2) → BatchNorm → ReLU → pointwise 1×1 convolution →
    BatchNorm → ReLU. Neither convolution has a bias (the BatchNorms shift).

    Weights: k²·in + in·out (convolutions) + 2·in + 2·out (BatchNorm), against k²·in·out for a standard
    convolution.

    Shape: ``(N, in_channels, H, W)`` → ``(N, out_channels, ⌈H/stride⌉, ⌈W/stride⌉)`` (odd k).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, kernel_size: int = 3) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel_size, stride=stride, padding=kernel_size // 2,
                                   groups=in_channels, bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, input: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.depthwise(input)))
        return F.relu(self.bn2(self.pointwise(out)))


class MobileNet(Module):
    """``MobileNet(num_classes=10, in_channels=3, width_mult=1.0, stem_stride=1)`` — MobileNet v1.

    Args:
        num_classes: number of output logits.
        in_channels: channels of the input image.
        width_mult: the width multiplier α (the paper uses 1, 0.75, 0.5, 0.25).
        stem_stride: stride of the first 3×3 convolution (2 for 224×224 images as in the paper).

    Shape:
        ``(N, in_channels, H, W)`` → ``(N, num_classes)``.

    State-dict keys: ``features.0.0.weight`` (stem convolution), ``features.0.1.*`` (its BatchNorm),
    ``features.{1…13}.depthwise.weight``, ``.bn1.*``, ``.pointwise.weight``, ``.bn2.*``, ``fc.weight``,
    ``fc.bias``. With α = 1 and 1000 classes the model has the paper's 4.2M parameters.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, width_mult: float = 1.0,
                 stem_stride: int = 1) -> None:
        super().__init__()
        self.num_classes, self.in_channels = int(num_classes), int(in_channels)
        self.width_mult, self.stem_stride = width_mult, int(stem_stride)
        channels = scaled(32, width_mult)
        layers: list[Module] = [nn.Sequential(nn.Conv2d(in_channels, channels, 3, stride=stem_stride, padding=1,
                                                        bias=False),
                                              nn.BatchNorm2d(channels), nn.ReLU(inplace=True))]
        for out, stride in BLOCKS:
            out = scaled(out, width_mult)
            layers.append(DepthwiseSeparableConv2d(channels, out, stride))
            channels = out
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, input: Tensor) -> Tensor:
        check_input("MobileNet", input, self.in_channels)
        return self.fc(self.avgpool(self.features(input)).flatten(1))

    def extra_repr(self) -> str:
        return (f"num_classes={self.num_classes}, in_channels={self.in_channels}, width_mult={self.width_mult}, "
                f"stem_stride={self.stem_stride}")


__all__ = ["DepthwiseSeparableConv2d", "MobileNet"]
