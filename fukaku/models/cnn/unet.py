"""U-Net (Ronneberger, Fischer & Brox 2015): the encoder–decoder with skip connections of seed 000 §6.2.

Seed 000 §6.2 describes it for pixel-wise classification (segmentation): an encoder of convolutions
and poolings that shrinks the image, a decoder that enlarges it again by upsampling, and skip
connections that carry each encoder level's feature map to the decoder level of the same size, so
fine detail (boundaries) reaches the output.

Levels: ``inc`` = DoubleConv(in → w); ``downs[i]`` = 2×2 max pooling then DoubleConv(2ⁱw → 2ⁱ⁺¹w), for
i < ``depth``; ``ups[i]`` = upsampling that halves the channels, concatenation ``[skip, up]`` along
the channels, DoubleConv back to half the channels; ``outc`` = a 1×1 convolution to the class scores.
DoubleConv is (3×3 conv → [BatchNorm] → ReLU) twice. The paper's choices are depth 4 and w = 64 with
unpadded convolutions (the output is smaller than the input and the skips are cropped); here the 3×3
convolutions have padding 1, so the output has the input's size and nothing is cropped (H and W must
be multiples of 2^depth), and BatchNorm is on by default (``batch_norm=False`` gives the paper's
conv → ReLU). The upsampling is the paper's 2×2 transposed convolution ("up-conv"), or bilinear
upsampling followed by a 1×1 convolution.
"""
from __future__ import annotations

from ... import nn
from ...nn.modules.module import Module
from ...ops.shape import cat
from ...tensor import Tensor
from ._util import check_input


class DoubleConv(nn.Sequential):
    """(3×3 conv, padding 1 → [BatchNorm2d] → ReLU) × 2: ``in_channels`` → ``out_channels``, size kept.
    The convolutions have no bias when a BatchNorm follows them."""

    def __init__(self, in_channels: int, out_channels: int, batch_norm: bool = True) -> None:
        layers: list[Module] = []
        for c_in in (in_channels, out_channels):
            layers.append(nn.Conv2d(c_in, out_channels, 3, padding=1, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out_channels))
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class Up(Module):
    """One decoder level: upsample (channels c → c/2), concatenate the skip (c/2 channels), DoubleConv(c → c/2)."""

    def __init__(self, channels: int, batch_norm: bool, upsampling: str) -> None:
        super().__init__()
        half = channels // 2
        if upsampling == "transpose":
            self.up = nn.ConvTranspose2d(channels, half, 2, stride=2)
        else:
            self.up = nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
                                    nn.Conv2d(channels, half, 1))
        self.conv = DoubleConv(2 * half, half, batch_norm)

    def forward(self, input: Tensor, skip: Tensor) -> Tensor:
        return self.conv(cat([skip, self.up(input)], dim=1))


class UNet(Module):
    """``UNet(in_channels=1, num_classes=2, width=64, depth=4, batch_norm=True, upsampling='transpose')``.

    Args:
        in_channels: channels of the input image.
        num_classes: channels of the output: one score map per class (1 for a binary mask with
            ``nn.BCEWithLogitsLoss``).
        width: channels of the first level; level i has width·2ⁱ.
        depth: number of poolings (and of upsamplings).
        batch_norm: a ``BatchNorm2d`` after every 3×3 convolution.
        upsampling: ``'transpose'`` (2×2 transposed convolution, stride 2) or ``'bilinear'``.

    Shape:
        ``(N, in_channels, H, W)`` → ``(N, num_classes, H, W)``; H and W multiples of 2^depth.

    Examples:
        >>> UNet(width=8, depth=2)(fk.randn(2, 1, 16, 16)).shape
        fukaku.Size([2, 2, 16, 16])
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 2, width: int = 64, depth: int = 4,
                 batch_norm: bool = True, upsampling: str = "transpose") -> None:
        super().__init__()
        if upsampling not in ("transpose", "bilinear"):
            raise ValueError(f"UNet: upsampling must be 'transpose' or 'bilinear', got {upsampling!r}")
        if depth < 0 or width < 1:
            raise ValueError(f"UNet: depth must be >= 0 and width >= 1, got depth={depth}, width={width}")
        self.in_channels, self.num_classes, self.width, self.depth = int(in_channels), int(num_classes), width, depth
        self.batch_norm, self.upsampling = bool(batch_norm), upsampling
        self.inc = DoubleConv(in_channels, width, batch_norm)
        self.downs = nn.ModuleList([nn.Sequential(nn.MaxPool2d(2), DoubleConv(width * 2 ** i, width * 2 ** (i + 1),
                                                                              batch_norm))
                                    for i in range(depth)])
        self.ups = nn.ModuleList([Up(width * 2 ** (i + 1), batch_norm, upsampling) for i in reversed(range(depth))])
        self.outc = nn.Conv2d(width, num_classes, 1)

    def forward(self, input: Tensor) -> Tensor:
        check_input("UNet", input, self.in_channels, multiple=2 ** self.depth)
        out, skips = self.inc(input), []
        for down in self.downs:        # contracting path: each level's output is kept for the way up
            skips.append(out)
            out = down(out)
        for up in self.ups:            # expanding path: upsample, concatenate the level's skip, DoubleConv
            out = up(out, skips.pop())
        return self.outc(out)

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, num_classes={self.num_classes}, width={self.width}, "
                f"depth={self.depth}, batch_norm={self.batch_norm}, upsampling={self.upsampling!r}")


__all__ = ["UNet", "DoubleConv"]
