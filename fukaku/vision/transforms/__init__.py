"""Image transforms with torchvision's names (``torchvision.transforms``): conversions
(:class:`ToTensor`, :class:`PILToTensor`, :class:`ToPILImage`), :class:`Normalize`, geometry
(:class:`Resize`, :class:`CenterCrop`, :class:`Pad`, :class:`RandomCrop`,
:class:`RandomHorizontalFlip`, :class:`RandomVerticalFlip`, :class:`RandomRotation`),
:class:`Compose` and :class:`Lambda`; their functions in :mod:`.functional`; and fukaku's batch
augmentation (:class:`BatchRandomCrop`, :class:`BatchRandomHorizontalFlip`,
:class:`BatchRandomVerticalFlip`: one random draw per sample, one gather per batch).

Example::

    from fukaku.vision import transforms
    train_tf = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(),
                                   transforms.ToTensor(), transforms.Normalize((0.49, 0.48, 0.45), (0.25, 0.24, 0.26))])
"""
from . import functional
from .batch import BatchRandomCrop, BatchRandomHorizontalFlip, BatchRandomVerticalFlip
from .functional import InterpolationMode
from .transforms import (CenterCrop, Compose, Lambda, Normalize, Pad, PILToTensor, RandomCrop, RandomHorizontalFlip,
                         RandomRotation, RandomVerticalFlip, Resize, ToPILImage, ToTensor)

__all__ = ["Compose", "ToTensor", "PILToTensor", "ToPILImage", "Normalize", "Resize", "CenterCrop", "Pad", "Lambda",
           "RandomCrop", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation", "InterpolationMode",
           "BatchRandomCrop", "BatchRandomHorizontalFlip", "BatchRandomVerticalFlip", "functional"]
