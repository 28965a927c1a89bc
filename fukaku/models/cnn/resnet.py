"""Residual networks for small images (He, Zhang, Ren & Sun 2016, "Deep Residual Learning", §4.2) and
their "plain" twins without shortcuts — seed 000 §6.2, seed 001 §9.2, seed 003 (residual networks).

Seed 000 §6.2 writes the residual block h⁽ˡ⁺¹⁾ = h⁽ˡ⁾ + F(h⁽ˡ⁾): the identity path lets the error flow
back unchanged (seed 001 §9.2), so networks of 100+ layers train. The paper's CIFAR-10 networks
(§4.2): a 3×3 convolution with 16 filters, then three stages of n blocks on 32×32, 16×16 and 8×8
feature maps with 16, 32 and 64 filters (the first block of stages 2 and 3 subsamples with stride 2),
global average pooling and a 10-way Linear layer — 6n + 2 weighted layers: ResNet-20, 32, 44, 56, 110
and 1202 for n = 3, 5, 7, 9, 18, 200. Batch normalisation follows every convolution, before the ReLU
(§3.4); the weights start from He initialisation.

Shortcuts (§3.3): where a block changes the shape,
- **option A** (the paper's choice on CIFAR, the default here): the identity, subsampled by the stride
  and padded with zero channels (half before, half after) — no parameters, so a ResNet has exactly as
  many parameters as its plain twin;
- **option B**: a 1×1 convolution with the stride and a BatchNorm (torchvision's ``downsample``);
all other shortcuts are the identity.

The plain networks (``residual=False``) are the same stacks with the additions removed; §4.2 shows
plain-56 training worse than plain-20 while ResNet-56 trains better than ResNet-20.

:class:`Bottleneck` is the 1×1 → 3×3 → 1×1 block of §4.1 (Fig. 5 right), four times as many output
channels as its ``planes``, with the stride on the 3×3 convolution as torchvision puts it; a CIFAR
network of them has 9n + 2 layers. Module names and state-dict keys are torchvision's (``conv1``,
``bn1``, ``layer1.0.conv1.weight``, ``layer2.0.downsample.0.weight`` …, ``fc.weight``).
"""
from __future__ import annotations

from collections.abc import Sequence

from ... import nn
from ...nn import functional as F
from ...nn.modules.module import Module
from ...tensor import Tensor
from ._util import check_input


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """A 3×3 convolution with padding 1 and no bias (a BatchNorm follows it)."""
    return nn.Conv2d(in_planes, out_planes, 3, stride=stride, padding=1, bias=False)


class ZeroPadShortcut(Module):
    """Option A shortcut (§3.3): x subsampled by ``stride`` and padded with zero channels from ``in_planes``
    to ``out_planes`` (half of them before, half after). No parameters."""

    def __init__(self, in_planes: int, out_planes: int, stride: int) -> None:
        super().__init__()
        if out_planes < in_planes:
            raise ValueError(f"ZeroPadShortcut: cannot pad {in_planes} channels down to {out_planes}; "
                             "use the projection shortcut (option B)")
        self.in_planes, self.out_planes, self.stride = in_planes, out_planes, stride

    def forward(self, input: Tensor) -> Tensor:
        extra = self.out_planes - self.in_planes
        x = input[:, :, ::self.stride, ::self.stride] if self.stride > 1 else input
        return F.pad(x, (0, 0, 0, 0, extra // 2, extra - extra // 2)) if extra else x

    def extra_repr(self) -> str:
        return f"{self.in_planes}, {self.out_planes}, stride={self.stride}"


def _shortcut(kind: str, in_planes: int, out_planes: int, stride: int) -> Module | None:
    """The shortcut of a block mapping ``in_planes`` to ``out_planes`` channels: None for the identity."""
    if stride == 1 and in_planes == out_planes:
        return None
    if kind == "A":
        return ZeroPadShortcut(in_planes, out_planes, stride)
    return nn.Sequential(nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False), nn.BatchNorm2d(out_planes))


class _Block(Module):
    """What both blocks share: y = ReLU(F(x) + shortcut(x)), or ReLU(F(x)) without the shortcut."""

    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int, shortcut: str, residual: bool) -> None:
        super().__init__()
        if shortcut not in ("A", "B"):
            raise ValueError(f"{type(self).__name__}: shortcut must be 'A' (zero padding) or 'B' (projection), "
                             f"got {shortcut!r}")
        self.in_planes, self.planes, self.stride = in_planes, planes, stride
        self.shortcut, self.residual = shortcut, bool(residual)
        self.build(in_planes, planes, stride)  # the layers of F first, so the state dict lists them first
        out = planes * self.expansion
        self.downsample = _shortcut(shortcut, in_planes, out, stride) if residual else None

    def build(self, in_planes: int, planes: int, stride: int) -> None:  # create the layers of F
        raise NotImplementedError

    def branch(self, input: Tensor) -> Tensor:  # the residual function F, ending with a BatchNorm
        raise NotImplementedError

    def forward(self, input: Tensor) -> Tensor:
        out = self.branch(input)
        if self.residual:
            out = out + (input if self.downsample is None else self.downsample(input))
        return F.relu(out)

    def extra_repr(self) -> str:
        return (f"{self.in_planes}, {self.planes}, stride={self.stride}"
                + (f", shortcut={self.shortcut!r}" if self.residual else ", residual=False"))


class BasicBlock(_Block):
    """``BasicBlock(in_planes, planes, stride=1, shortcut='A', residual=True)``: two 3×3 convolutions with
    BatchNorm, ReLU between them, the shortcut added before the last ReLU (Fig. 2 of the paper).

    Shape: ``(N, in_planes, H, W)`` → ``(N, planes, ⌈H/stride⌉, ⌈W/stride⌉)``.
    """

    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int = 1, shortcut: str = "A",
                 residual: bool = True) -> None:
        super().__init__(in_planes, planes, stride, shortcut, residual)

    def build(self, in_planes: int, planes: int, stride: int) -> None:
        self.conv1 = conv3x3(in_planes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)

    def branch(self, input: Tensor) -> Tensor:
        return self.bn2(self.conv2(F.relu(self.bn1(self.conv1(input)))))


class Bottleneck(_Block):
    """``Bottleneck(in_planes, planes, stride=1, shortcut='A', residual=True)``: 1×1 (reduce to ``planes``)
    → 3×3 (with the stride) → 1×1 (expand to 4·``planes``), each followed by BatchNorm, ReLU after the
    first two; the shortcut is added before the last ReLU (§4.1, Fig. 5 right).

    Shape: ``(N, in_planes, H, W)`` → ``(N, 4·planes, ⌈H/stride⌉, ⌈W/stride⌉)``.
    """

    expansion = 4

    def __init__(self, in_planes: int, planes: int, stride: int = 1, shortcut: str = "A",
                 residual: bool = True) -> None:
        super().__init__(in_planes, planes, stride, shortcut, residual)

    def build(self, in_planes: int, planes: int, stride: int) -> None:
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)

    def branch(self, input: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(input)))
        out = F.relu(self.bn2(self.conv2(out)))
        return self.bn3(self.conv3(out))


_BLOCKS = {"basic": BasicBlock, "bottleneck": Bottleneck}


class ResNet(Module):
    """``ResNet(block='basic', layers=(3, 3, 3), num_classes=10, in_channels=3, widths=(16, 32, 64),
    shortcut='A', residual=True)`` — the CIFAR network of §4.2 (6n + 2 layers for ``layers=(n, n, n)``
    of basic blocks, 9n + 2 for bottlenecks).

    Args:
        block: ``'basic'``/:class:`BasicBlock` or ``'bottleneck'``/:class:`Bottleneck`.
        layers: the number of blocks of each stage.
        num_classes: number of output logits.
        in_channels: channels of the input image.
        widths: the ``planes`` of each stage (the stem convolution has ``widths[0]`` filters); stages after
            the first subsample with stride 2.
        shortcut: ``'A'`` (identity + zero padding, the paper's CIFAR choice) or ``'B'`` (1×1 projection).
        residual: ``False`` builds the plain network: the same layers without any shortcut.

    Shape:
        ``(N, in_channels, H, W)`` → ``(N, num_classes)``.

    Examples:
        >>> resnet20().depth, plain56().depth
        (20, 56)
    """

    def __init__(self, block: str | type[_Block] = "basic", layers: Sequence[int] = (3, 3, 3), num_classes: int = 10,
                 in_channels: int = 3, widths: Sequence[int] = (16, 32, 64), shortcut: str = "A",
                 residual: bool = True) -> None:
        super().__init__()
        block = _BLOCKS.get(block, block) if isinstance(block, str) else block
        if not (isinstance(block, type) and issubclass(block, _Block)):
            raise ValueError(f"ResNet: block must be 'basic', 'bottleneck', BasicBlock or Bottleneck, got {block!r}")
        layers, widths = [int(n) for n in layers], [int(w) for w in widths]
        if len(layers) != len(widths) or not layers or min(layers) < 1:
            raise ValueError(f"ResNet: layers {layers} and widths {widths} must be non-empty lists of the same "
                             "length, at least one block per stage")
        self.block, self.layers, self.widths = block, layers, widths
        self.num_classes, self.in_channels = int(num_classes), int(in_channels)
        self.shortcut, self.residual = shortcut, bool(residual)
        self.conv1 = conv3x3(in_channels, widths[0])
        self.bn1 = nn.BatchNorm2d(widths[0])
        planes_in = widths[0]
        for i, (n, planes) in enumerate(zip(layers, widths)):
            blocks = []
            for j in range(n):
                blocks.append(block(planes_in, planes, 2 if (i > 0 and j == 0) else 1, shortcut, residual))
                planes_in = planes * block.expansion
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(planes_in, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    @property
    def depth(self) -> int:
        """The number of weighted layers on the main path: 2 + (2 or 3 per block) — 6n + 2 or 9n + 2."""
        return 2 + (3 if self.block is Bottleneck else 2) * sum(self.layers)

    def stages(self) -> list[nn.Sequential]:
        """The stages ``layer1``, ``layer2``, … in order."""
        return [getattr(self, f"layer{i + 1}") for i in range(len(self.layers))]

    def forward(self, input: Tensor) -> Tensor:
        check_input(type(self).__name__, input, self.in_channels)
        out = F.relu(self.bn1(self.conv1(input)))
        for stage in self.stages():
            out = stage(out)
        return self.fc(self.avgpool(out).flatten(1))

    def extra_repr(self) -> str:
        kind = "ResNet" if self.residual else "plain"
        return (f"{kind}-{self.depth}, block={self.block.__name__}, layers={self.layers}, widths={self.widths}, "
                f"num_classes={self.num_classes}" + (f", shortcut={self.shortcut!r}" if self.residual else ""))


def cifar_resnet(depth: int, block: str | type[_Block] = "basic", residual: bool = True, **kwargs) -> ResNet:
    """The CIFAR network of §4.2 with ``depth`` weighted layers: 6n + 2 for basic blocks, 9n + 2 for
    bottlenecks (n blocks in each of the three stages). ``residual=False`` gives the plain network;
    other keywords go to :class:`ResNet`."""
    per_block = 3 if (block == "bottleneck" or block is Bottleneck) else 2
    n, rest = divmod(depth - 2, 3 * per_block)
    if rest or n < 1:
        raise ValueError(f"cifar_resnet: depth {depth} is not {3 * per_block}n + 2 for {block!r} blocks; "
                         f"try {3 * per_block * max(1, n) + 2}")
    return ResNet(block, (n, n, n), residual=residual, **kwargs)


def resnet20(**kwargs) -> ResNet:
    """ResNet-20 (n = 3) of §4.2, 0.27M parameters; keywords go to :class:`ResNet`."""
    return cifar_resnet(20, **kwargs)


def resnet32(**kwargs) -> ResNet:
    """ResNet-32 (n = 5) of §4.2; keywords go to :class:`ResNet`."""
    return cifar_resnet(32, **kwargs)


def resnet44(**kwargs) -> ResNet:
    """ResNet-44 (n = 7) of §4.2; keywords go to :class:`ResNet`."""
    return cifar_resnet(44, **kwargs)


def resnet56(**kwargs) -> ResNet:
    """ResNet-56 (n = 9) of §4.2, 0.85M parameters; keywords go to :class:`ResNet`."""
    return cifar_resnet(56, **kwargs)


def resnet110(**kwargs) -> ResNet:
    """ResNet-110 (n = 18) of §4.2, 1.7M parameters; keywords go to :class:`ResNet`."""
    return cifar_resnet(110, **kwargs)


def plain20(**kwargs) -> ResNet:
    """The plain 20-layer network of §4.2: ResNet-20 without shortcuts."""
    return cifar_resnet(20, residual=False, **kwargs)


def plain32(**kwargs) -> ResNet:
    """The plain 32-layer network of §4.2: ResNet-32 without shortcuts."""
    return cifar_resnet(32, residual=False, **kwargs)


def plain44(**kwargs) -> ResNet:
    """The plain 44-layer network of §4.2: ResNet-44 without shortcuts."""
    return cifar_resnet(44, residual=False, **kwargs)


def plain56(**kwargs) -> ResNet:
    """The plain 56-layer network of §4.2: ResNet-56 without shortcuts (it trains worse than plain-20)."""
    return cifar_resnet(56, residual=False, **kwargs)


def plain110(**kwargs) -> ResNet:
    """The plain 110-layer network: ResNet-110 without shortcuts."""
    return cifar_resnet(110, residual=False, **kwargs)


__all__ = ["BasicBlock", "Bottleneck", "ZeroPadShortcut", "ResNet", "cifar_resnet",
           "resnet20", "resnet32", "resnet44", "resnet56", "resnet110",
           "plain20", "plain32", "plain44", "plain56", "plain110"]
