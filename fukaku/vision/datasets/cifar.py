"""CIFAR-10 and CIFAR-100 from their python-version batches (``torchvision.datasets.CIFAR10``).

The batches (``cifar-10-batches-py/data_batch_1`` … ``_5``, ``test_batch``, ``batches.meta``) are
pickles. They are read by :func:`~fukaku.vision.datasets._pickle.load_plain_pickle`, an interpreter
of the few pickle opcodes they use that imports and calls nothing: a hostile or damaged file is a
:class:`~fukaku.datasets.DatasetFormatError` naming it, never code that runs. The archive is
downloaded MD5-verified and unpacked with tarfile's ``data`` filter.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ...datasets import DatasetFormatError
from .._pil import require_pil
from ._pickle import MAX_PICKLE_BYTES, load_plain_pickle
from .utils import download_and_extract_archive
from .vision import SplitDataset

__all__ = ["CIFAR10", "CIFAR100", "read_cifar_batch", "read_cifar_meta"]

_PIXELS = 3 * 32 * 32


def _field(batch: dict, key: str, path: Path) -> Any:
    if key not in batch:
        keys = ", ".join(sorted(map(str, batch)))[:200]
        raise DatasetFormatError(f"CIFAR batch {path}: no {key!r} entry (it has: {keys})")
    return batch[key]


def _as_dict(value: Any, path: Path, what: str) -> dict:
    """The pickled dict with text keys (``b"data"`` and ``"data"`` alike)."""
    if not isinstance(value, dict):
        raise DatasetFormatError(f"CIFAR {what} {path}: holds a {type(value).__name__}, not a dict")
    out = {}
    for k, v in value.items():
        if not isinstance(k, (bytes, str)):
            raise DatasetFormatError(f"CIFAR {what} {path}: a key of type {type(k).__name__}")
        out[k.decode("latin-1") if isinstance(k, bytes) else k] = v
    return out


def read_cifar_batch(path: str | os.PathLike, labels_key: str = "labels", num_classes: int = 10, *,
                     max_bytes: int = MAX_PICKLE_BYTES) -> tuple[np.ndarray, np.ndarray]:
    """One python-version CIFAR batch: ``(data uint8 (N, 32, 32, 3), labels int64 (N,))``.

    The file is a pickled dict with ``data`` (uint8 ``(N, 3072)``: 1,024 red, then green, then blue
    values of each 32×32 image, row by row) and ``labels_key`` (a list of N ints in
    ``[0, num_classes)``); other entries (``filenames``, ``batch_label``) are ignored. It is read
    without executing the pickle.

    Args:
        path: the batch file.
        labels_key: ``labels`` (CIFAR-10), ``fine_labels`` or ``coarse_labels`` (CIFAR-100).
        num_classes: labels must be below it.
        max_bytes: the largest file accepted (default 1 GiB).

    Raises:
        DatasetFormatError: a file that is not such a pickle, or whose data or labels have another
            type, shape or range; the message names the file.
    """
    path = Path(path)
    batch = _as_dict(load_plain_pickle(path, max_bytes=max_bytes), path, "batch")
    data = _field(batch, "data", path)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != _PIXELS:
        what = f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DatasetFormatError(f"CIFAR batch {path}: 'data' is a {what}; expected uint8 of shape (N, {_PIXELS})")
    labels = _field(batch, labels_key, path)
    if isinstance(labels, np.ndarray):
        if labels.ndim != 1 or labels.dtype.kind not in "iu":
            raise DatasetFormatError(f"CIFAR batch {path}: {labels_key!r} is a {labels.dtype} array of shape "
                                     f"{labels.shape}; expected N integers")
        labels = labels.astype(np.int64)
    elif isinstance(labels, list) and all(type(v) is int for v in labels):
        if labels and not -2 ** 63 <= min(labels) <= max(labels) < 2 ** 63:
            raise DatasetFormatError(f"CIFAR batch {path}: a label in {labels_key!r} does not fit in int64")
        labels = np.array(labels, dtype=np.int64)
    else:
        raise DatasetFormatError(f"CIFAR batch {path}: {labels_key!r} is not a list of ints")
    if len(labels) != len(data):
        raise DatasetFormatError(f"CIFAR batch {path}: {len(data)} images but {len(labels)} labels")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise DatasetFormatError(f"CIFAR batch {path}: labels range over [{labels.min()}, {labels.max()}], outside "
                                 f"the classes 0-{num_classes - 1}")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def read_cifar_meta(path: str | os.PathLike, key: str, num_classes: int, *,
                    max_bytes: int = MAX_PICKLE_BYTES) -> list[str]:
    """The class names of a CIFAR meta file (``batches.meta``: ``label_names``; ``meta``:
    ``fine_label_names``), read without executing the pickle.

    Raises:
        DatasetFormatError: not a dict holding ``key``: a list of ``num_classes`` names.
    """
    path = Path(path)
    names = _as_dict(load_plain_pickle(path, max_bytes=max_bytes), path, "meta file").get(key)
    if not isinstance(names, list) or len(names) != num_classes or not all(isinstance(n, (bytes, str)) for n in names):
        raise DatasetFormatError(f"CIFAR meta file {path}: {key!r} is not a list of {num_classes} names")
    return [n.decode("latin-1") if isinstance(n, bytes) else n for n in names]


class CIFAR10(SplitDataset):
    """CIFAR-10: 50,000 training and 10,000 test colour images of 32×32 pixels in 10 classes.

    Args:
        root: the directory holding ``cifar-10-batches-py/`` (the unpacked archive).
        train: the five ``data_batch_*`` files, or ``test_batch``.
        transform: applied to each PIL image (mode ``RGB``).
        target_transform: applied to each label (an int).
        download: fetch ``cifar-10-python.tar.gz`` (MD5-verified) into ``root`` and unpack it,
            unless the batches are there.

    Attributes:
        data: uint8 ``numpy.ndarray`` ``(N, 32, 32, 3)`` (height, width, channel; as torchvision).
        targets: list of N int labels.
        classes: the names from the meta file; ``class_to_idx`` maps them to labels.

    Raises:
        RuntimeError: a batch or the meta file is missing (the message names it and suggests
            ``download=True``).
        DatasetFormatError: a file that is not a CIFAR batch (damaged, hostile, another layout).

    Unlike torchvision, existing batches are not MD5-checked on every load: they are parsed
    strictly instead (the archive is verified when downloaded).

    Example::

        >>> train = CIFAR10("data", train=True, download=True, transform=transforms.ToTensor())
        >>> image, label = train[0]          # (3, 32, 32) float in [0, 1], an int
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [["data_batch_1", "c99cafc152244af753f735de768cd75f"],
                  ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
                  ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
                  ["data_batch_4", "634d18415352ddbe9f4d8ea9dda3e0c4"],
                  ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"]]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names", "md5": "5ff9c542aee3614f3951f8cda6e48888"}
    labels_key = "labels"
    num_classes = 10

    def load(self) -> None:
        parts = [read_cifar_batch(self._folder() / name, self.labels_key, self.num_classes)
                 for name, _ in (self.train_list if self.train else self.test_list)]
        self.data = np.concatenate([d for d, _ in parts]) if len(parts) > 1 else np.ascontiguousarray(parts[0][0])
        self.targets = [int(t) for _, labels in parts for t in labels.tolist()]
        self._load_meta()

    def _folder(self) -> Path:
        return Path(self.root) / self.base_folder

    def missing_files(self) -> list[str]:
        names = [n for n, _ in (self.train_list if self.train else self.test_list)] + [self.meta["filename"]]
        return [str(self._folder() / n) for n in names if not (self._folder() / n).is_file()]

    def _load_meta(self) -> None:
        self.classes = read_cifar_meta(self._folder() / self.meta["filename"], self.meta["key"], self.num_classes)
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def _check_integrity(self) -> bool:
        """Whether every batch of both splits and the meta file are present (not MD5-checked)."""
        names = [n for n, _ in self.train_list + self.test_list] + [self.meta["filename"]]
        return all((self._folder() / n).is_file() for n in names)

    def download(self) -> None:
        """Fetch the archive (MD5-verified) into ``root`` and unpack it, unless the files are there."""
        if self._check_integrity():
            print("Files already downloaded and verified")
            return
        download_and_extract_archive(self.url, self.root, filename=self.filename, md5=self.tgz_md5)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """``(image, label)``: a PIL image (mode ``RGB``) through ``transform``, an int through
        ``target_transform``."""
        image = require_pil(self.__class__.__name__).fromarray(self.data[index])
        target = self.targets[index]
        return self.transformed(image, target)



class CIFAR100(CIFAR10):
    """CIFAR-100: CIFAR-10's format with 100 fine classes (``targets``: the fine labels). Files in
    ``root/cifar-100-python/`` (``train``, ``test``, ``meta``); arguments as :class:`CIFAR10`."""

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {"filename": "meta", "key": "fine_label_names", "md5": "7973b15100ade9c7d40fb424638fde48"}
    labels_key = "fine_labels"
    num_classes = 100
