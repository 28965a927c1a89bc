"""torchvision's transforms (``torchvision.transforms``, the v1 API): callables on a PIL image or a
tensor image ``(..., C, H, W)``, chained with :class:`Compose`.

As in torchvision, the transforms with parameters are modules (:class:`fukaku.nn.Module`), so they
also sit in an ``nn.Sequential``; the random ones draw from fukaku's default generator, so
``fukaku.manual_seed(s)`` makes a pipeline repeat. A random transform of a batch ``(N, C, H, W)``
draws once and applies the same crop, flip or angle to every sample, as torchvision does; the
``Batch*`` transforms of :mod:`.batch` draw one per sample.
"""
from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import fukaku as fk

from ...nn import Module
from ...tensor import Tensor
from . import functional as F
from .functional import InterpolationMode, interpolation_mode

__all__ = ["Compose", "ToTensor", "PILToTensor", "ToPILImage", "Normalize", "Resize", "CenterCrop", "Pad", "Lambda",
           "RandomCrop", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation"]


def setup_size(size, error_msg: str) -> tuple[int, int]:
    """``(h, w)`` from an int, a one-element sequence or ``(h, w)``."""
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return int(size[0]), int(size[0])
    if not isinstance(size, Sequence) or len(size) != 2:
        raise ValueError(error_msg)
    return int(size[0]), int(size[1])


class Compose:
    """Apply ``transforms`` one after the other.

    Example::

        >>> preprocess = Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])
    """

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return self.__class__.__name__ + "(" + "".join(f"\n    {t}" for t in self.transforms) + "\n)"


class ToTensor:
    """PIL image or ndarray ``(H, W, C)`` → tensor ``(C, H, W)``; uint8 becomes float32 in [0, 1]."""

    def __call__(self, pic) -> Tensor:
        return F.to_tensor(pic)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class PILToTensor:
    """PIL image → tensor ``(C, H, W)`` of its own dtype and values (no scaling)."""

    def __call__(self, pic) -> Tensor:
        return F.pil_to_tensor(pic)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class ToPILImage:
    """Tensor ``(C, H, W)`` or ndarray ``(H, W, C)`` → PIL image (see :func:`.functional.to_pil_image`)."""

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def __call__(self, pic):
        return F.to_pil_image(pic, self.mode)

    def __repr__(self) -> str:
        return self.__class__.__name__ + ("(" if self.mode is None else f"(mode={self.mode}") + ")"


class Lambda:
    """A user function as a transform."""

    def __init__(self, lambd: Callable) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class Normalize(Module):
    """``(x − mean[c]) / std[c]`` per channel of a float tensor ``(..., C, H, W)``.

    Args:
        mean: one value per channel (or one for all).
        std: one value per channel (or one for all), none zero.
        inplace: write into the input.

    Example::

        >>> Normalize((0.5,), (0.5,))(fk.ones(1, 2, 2))[0, 0, 0].item()
        1.0
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        super().__init__()
        self.mean, self.std, self.inplace = mean, std, inplace

    def forward(self, tensor: Tensor) -> Tensor:
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(mean={self.mean}, std={self.std})"


class Resize(Module):
    """Resize to ``size`` (an int: the shorter edge, keeping the aspect ratio; ``(h, w)``: exactly).

    Args:
        size: int, ``[s]``, ``(h, w)``, or None with ``max_size``.
        interpolation: an :class:`InterpolationMode` (default bilinear).
        max_size: the longest the longer edge may become.
        antialias: for tensors, filter when shrinking as Pillow does (default True).
    """

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size: int | None = None,
                 antialias: bool | None = True) -> None:
        super().__init__()
        if size is not None and not isinstance(size, (int, Sequence)):
            raise TypeError(f"Size should be int or sequence, got {type(size).__name__}")
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size, self.max_size, self.antialias = size, max_size, antialias
        self.interpolation = interpolation_mode(interpolation, "Resize")

    def forward(self, img):
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(size={self.size}, interpolation={self.interpolation.value}, "
                f"max_size={self.max_size}, antialias={self.antialias})")


class CenterCrop(Module):
    """The central ``size`` window (an int or ``(h, w)``); zero-padded where the image is smaller."""

    def __init__(self, size) -> None:
        super().__init__()
        self.size = setup_size(size, "Please provide only two dimensions (h, w) for size.")

    def forward(self, img):
        return F.center_crop(img, self.size)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(size={self.size})"


class Pad(Module):
    """Pad the borders (see :func:`.functional.pad`).

    Args:
        padding: an int, ``(left/right, top/bottom)`` or ``(left, top, right, bottom)``.
        fill: the constant (a number; for PIL images also one per band).
        padding_mode: ``constant``, ``edge``, ``reflect`` or ``symmetric``.
    """

    def __init__(self, padding, fill=0, padding_mode: str = "constant") -> None:
        super().__init__()
        if not isinstance(padding, (numbers.Number, tuple, list)):
            raise TypeError(f"Pad: got inappropriate padding arg {padding!r}")
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError(f"Pad: got inappropriate fill arg {fill!r}")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        if isinstance(padding, Sequence) and len(padding) not in (1, 2, 4):
            raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element "
                             "tuple")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def forward(self, img):
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(padding={self.padding}, fill={self.fill}, "
                f"padding_mode={self.padding_mode})")


class RandomCrop(Module):
    """A ``size`` window at a random position, after optional padding.

    Args:
        size: int or ``(h, w)``.
        padding: padded onto every border first (as :class:`Pad`); the CIFAR recipe is
            ``RandomCrop(32, padding=4)``.
        pad_if_needed: pad an image smaller than ``size`` (on both sides, as torchvision).
        fill, padding_mode: as :class:`Pad`.

    The offsets are drawn with ``fukaku.randint`` from the default generator. A batch gets one
    window for all its samples (use :class:`BatchRandomCrop` for one each).
    """

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0,
                 padding_mode: str = "constant") -> None:
        super().__init__()
        self.size = setup_size(size, "Please provide only two dimensions (h, w) for size.")
        self.padding, self.pad_if_needed, self.fill, self.padding_mode = padding, pad_if_needed, fill, padding_mode

    @staticmethod
    def get_params(img, output_size: tuple[int, int]) -> tuple[int, int, int, int]:
        """``(top, left, h, w)`` of a random ``output_size`` window of ``img``."""
        _, h, w = F.get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")
        if w == tw and h == th:
            return 0, 0, h, w
        i = int(fk.randint(0, h - th + 1, size=(1,)).item())
        j = int(fk.randint(0, w - tw + 1, size=(1,)).item())
        return i, j, th, tw

    def forward(self, img):
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = F.get_dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = F.pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = F.pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        i, j, h, w = self.get_params(img, self.size)
        return F.crop(img, i, j, h, w)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(size={self.size}, padding={self.padding})"


class RandomFlip(Module):
    """The base of the flips: a probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = p

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(p={self.p})"


class RandomHorizontalFlip(RandomFlip):
    """Mirror left-right with probability ``p`` (drawn with ``fukaku.rand``)."""

    def forward(self, img):
        return F.hflip(img) if fk.rand(1).item() < self.p else img


class RandomVerticalFlip(RandomFlip):
    """Mirror top-bottom with probability ``p``."""

    def forward(self, img):
        return F.vflip(img) if fk.rand(1).item() < self.p else img


def setup_angle(x, name: str) -> list[float]:
    if isinstance(x, numbers.Number):
        if x < 0:
            raise ValueError(f"If {name} is a single number, it must be positive.")
        return [-float(x), float(x)]
    if not isinstance(x, Sequence) or len(x) != 2:
        raise ValueError(f"{name} should be a number or a sequence of 2 numbers, got {x!r}")
    return [float(d) for d in x]


class RandomRotation(Module):
    """Rotate by an angle drawn uniformly from ``degrees``, counter-clockwise.

    Args:
        degrees: a number d (the range (−d, d)) or ``(min, max)``.
        interpolation: ``NEAREST`` (default) or ``BILINEAR`` for tensors; any for PIL images.
        expand: enlarge the output to hold the whole rotated image.
        center: ``(x, y)`` to rotate about; default the image centre.
        fill: the value for pixels from outside the image (a number or one per channel).
    """

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand: bool = False,
                 center: Sequence[int] | None = None, fill=0) -> None:
        super().__init__()
        self.degrees = setup_angle(degrees, "degrees")
        if center is not None and (not isinstance(center, Sequence) or len(center) != 2):
            raise ValueError(f"center should be a sequence of 2 numbers, got {center!r}")
        if fill is None:
            fill = 0
        elif not isinstance(fill, (Sequence, numbers.Number)):
            raise TypeError("Fill should be either a sequence or a number.")
        self.interpolation = interpolation_mode(interpolation, "RandomRotation")
        self.expand, self.center, self.fill = expand, center, fill

    @staticmethod
    def get_params(degrees: Sequence[float]) -> float:
        """An angle drawn uniformly from ``[degrees[0], degrees[1]]``."""
        return float(fk.empty(1).uniform_(float(degrees[0]), float(degrees[1])).item())

    def forward(self, img):
        fill = self.fill
        if isinstance(img, Tensor):
            channels = F.get_dimensions(img)[0]
            fill = [float(fill)] * channels if isinstance(fill, (int, float)) else [float(f) for f in fill]
        angle = self.get_params(self.degrees)
        return F.rotate(img, angle, self.interpolation, self.expand, self.center, fill)

    def __repr__(self) -> str:
        s = (f"{self.__class__.__name__}(degrees={self.degrees}, interpolation={self.interpolation.value}, "
             f"expand={self.expand}")
        if self.center is not None:
            s += f", center={self.center}"
        return s + f", fill={self.fill})"
