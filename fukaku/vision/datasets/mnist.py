"""MNIST and Fashion-MNIST as torchvision serves them (``torchvision.datasets.MNIST``).

The files sit where torchvision puts them, ``root/MNIST/raw/`` (``root/FashionMNIST/raw/``): the
IDX files ``{train,t10k}-{images-idx3,labels-idx1}-ubyte``, raw or ``.gz``. They are read by
:func:`fukaku.datasets.mnist` (every size checked before allocating, gzip inflated incrementally:
a corrupt or hostile file is a :class:`~fukaku.datasets.DatasetFormatError` naming it) and
downloaded by :func:`fukaku.datasets.fetch` (each file MD5-verified, written atomically).
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from ...datasets import FASHION_MNIST_CLASSES, RESOURCES, fashion_mnist, fetch, mnist
from ...tensor import Tensor
from .._pil import require_pil
from .vision import SplitDataset

__all__ = ["MNIST", "FashionMNIST"]


def _renamed(old: str, new: str) -> property:
    """torchvision's deprecated alias ``old`` of attribute ``new``, warning when read."""
    def get(self) -> Tensor:
        warnings.warn(f"{old} has been renamed {new}", stacklevel=2)
        return getattr(self, new)
    return property(get, doc=f"Deprecated: {new}.")


class MNIST(SplitDataset):
    """The MNIST digits: 60,000 training and 10,000 test images, 28×28 grey, labels 0–9.

    Args:
        root: the directory holding ``MNIST/raw/`` (it is created by ``download``).
        train: the training set (``train-*`` files) or the test set (``t10k-*``).
        transform: applied to each PIL image (mode ``L``), e.g. ``transforms.ToTensor()``.
        target_transform: applied to each label (an int).
        download: fetch the files into ``root/MNIST/raw`` unless they are there.

    Attributes:
        data: uint8 tensor ``(N, 28, 28)``.
        targets: int64 tensor ``(N,)``.
        classes: the class names; ``class_to_idx`` maps them to labels.

    Raises:
        RuntimeError: the files of the split are not in ``raw_folder`` (the message names it and
            suggests ``download=True``).
        DatasetFormatError: a file that is not a valid IDX file of MNIST's layout.

    Example::

        >>> train = MNIST("data", train=True, download=True, transform=transforms.ToTensor())
        >>> image, label = train[0]          # a (1, 28, 28) float tensor in [0, 1] and an int
    """

    mirrors = list(RESOURCES["mnist"].mirrors)
    resources = list(RESOURCES["mnist"].files.items())
    training_file = "training.pt"
    test_file = "test.pt"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]
    _fetch_name = "mnist"
    _reader = staticmethod(mnist)

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def processed_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, "processed")

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def _stems(self) -> list[str]:
        prefix = "train" if self.train else "t10k"
        return [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]

    def _find(self, stem: str) -> Path | None:
        for name in (stem, stem + ".gz"):
            if (Path(self.raw_folder) / name).is_file():
                return Path(self.raw_folder) / name
        return None

    def missing_files(self) -> list[str]:
        """The split's two files that are in ``raw_folder`` neither raw nor as ``.gz``."""
        return [os.path.join(self.raw_folder, f"{stem}[.gz]") for stem in self._stems() if self._find(stem) is None]

    def _check_exists(self) -> bool:
        return not self.missing_files()

    def load(self) -> None:
        self.data, self.targets = self._reader(self.raw_folder, train=self.train, normalize=False, return_tensors=True)

    def download(self) -> None:
        """Fetch the four ``.gz`` files into ``raw_folder`` from the first mirror that serves each with
        the right MD5 (nothing is fetched when this split's files are there)."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        fetch(self._fetch_name, self.raw_folder, mirrors=self.mirrors, checksums=dict(self.resources), log=print)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """``(image, label)``: a PIL image (mode ``L``) through ``transform``, an int through
        ``target_transform``."""
        image = require_pil(self.__class__.__name__).fromarray(self.data.numpy()[index], mode="L")
        target = int(self.targets.numpy()[index])
        return self.transformed(image, target)

    train_labels = _renamed("train_labels", "targets")
    test_labels = _renamed("test_labels", "targets")
    train_data = _renamed("train_data", "data")
    test_data = _renamed("test_data", "data")


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: MNIST's format and sizes, ten kinds of clothing (``classes``); files in
    ``root/FashionMNIST/raw``. Arguments as :class:`MNIST`."""

    mirrors = list(RESOURCES["fashion-mnist"].mirrors)
    resources = list(RESOURCES["fashion-mnist"].files.items())
    classes = list(FASHION_MNIST_CLASSES)
    _fetch_name = "fashion-mnist"
    _reader = staticmethod(fashion_mnist)
