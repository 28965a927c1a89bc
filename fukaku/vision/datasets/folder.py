"""Datasets of files sorted into one folder per class (``torchvision.datasets.ImageFolder``)::

    root/dog/xxx.png
    root/dog/nested/xxy.jpeg
    root/cat/123.png

The classes are the sub-folder names, sorted; every file below a class folder (links followed)
whose extension is allowed is a sample of that class.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ...datasets import DatasetFormatError
from .._pil import require_pil
from .vision import VisionDataset

__all__ = ["IMG_EXTENSIONS", "ImageFileError", "has_file_allowed_extension", "is_image_file", "find_classes",
           "make_dataset", "pil_loader", "default_loader", "DatasetFolder", "ImageFolder"]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


class ImageFileError(DatasetFormatError, OSError):
    """An image file Pillow cannot decode (not an image, truncated, a decompression bomb). It is a
    :class:`~fukaku.datasets.DatasetFormatError` naming the file, and an ``OSError`` as Pillow's own
    errors (``PIL.UnidentifiedImageError``) are, so code catching either keeps working."""


def has_file_allowed_extension(filename: str, extensions: str | tuple[str, ...]) -> bool:
    """Whether ``filename`` ends with one of ``extensions`` (case-insensitive)."""
    return filename.lower().endswith(extensions if isinstance(extensions, str) else tuple(extensions))


def is_image_file(filename: str) -> bool:
    return has_file_allowed_extension(filename, IMG_EXTENSIONS)


def find_classes(directory: str | os.PathLike) -> tuple[list[str], dict[str, int]]:
    """The sorted names of the sub-folders of ``directory``, and each one's index.

    Raises:
        FileNotFoundError: ``directory`` has no sub-folder.
    """
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(directory: str | os.PathLike, class_to_idx: dict[str, int] | None = None,
                 extensions: str | tuple[str, ...] | None = None,
                 is_valid_file: Callable[[str], bool] | None = None, allow_empty: bool = False) -> list[tuple[str, int]]:
    """``(path, class_index)`` for every accepted file under each class folder, class by class, paths
    sorted within a folder walk.

    Give exactly one of ``extensions`` and ``is_valid_file``.

    Raises:
        ValueError: both or neither of ``extensions`` and ``is_valid_file``.
        FileNotFoundError: a class without any accepted file (unless ``allow_empty``).
    """
    directory = os.path.expanduser(directory)
    if class_to_idx is None:
        _, class_to_idx = find_classes(directory)
    elif not class_to_idx:
        raise ValueError("'class_to_index' must have at least one entry to collect any samples.")
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the same time")
    if extensions is not None:
        def is_valid_file(path: str) -> bool:
            return has_file_allowed_extension(path, extensions)
    instances, found = [], set()
    for target_class in sorted(class_to_idx):
        class_index = class_to_idx[target_class]
        target_dir = os.path.join(directory, target_class)
        if not os.path.isdir(target_dir):
            continue
        for dirpath, _, filenames in sorted(os.walk(target_dir, followlinks=True)):
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                if is_valid_file(path):
                    instances.append((path, class_index))
                    found.add(target_class)
    empty = set(class_to_idx) - found
    if empty and not allow_empty:
        msg = f"Found no valid file for the classes {', '.join(sorted(empty))}. "
        if extensions is not None:
            msg += f"Supported extensions are: {extensions if isinstance(extensions, str) else ', '.join(extensions)}"
        raise FileNotFoundError(msg)
    return instances


def pil_loader(path: str | os.PathLike) -> Any:
    """The image at ``path``, decoded and converted to RGB.

    Raises:
        ImageFileError: Pillow cannot decode it (the message names the file).
        OSError: the file is missing or cannot be read.
    """
    Image = require_pil("pil_loader")
    with open(path, "rb") as f:
        try:
            image = Image.open(f)
            return image.convert("RGB")
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
            raise ImageFileError(f"image file {os.fspath(path)}: Pillow cannot decode it ({e})") from e


def default_loader(path: str | os.PathLike) -> Any:
    return pil_loader(path)


class DatasetFolder(VisionDataset):
    """Samples from files in one folder per class, read by ``loader``.

    Args:
        root: the folder of class folders.
        loader: reads a sample from its path.
        extensions: the accepted file endings (or give ``is_valid_file``).
        transform: applied to each sample; ``target_transform`` to each class index.
        is_valid_file: decides from a path whether it is a sample.
        allow_empty: accept class folders without any sample.

    Attributes:
        classes: the class names (sorted folder names); ``class_to_idx`` their indices.
        samples: ``(path, class_index)`` pairs (also ``imgs`` on :class:`ImageFolder`);
        targets: the class index of each sample.
    """

    def __init__(self, root: str | os.PathLike, loader: Callable[[str], Any],
                 extensions: tuple[str, ...] | None = None, transform: Callable | None = None,
                 target_transform: Callable | None = None, is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.classes, self.class_to_idx = self.find_classes(self.root)
        self.samples = self.make_dataset(self.root, self.class_to_idx, extensions, is_valid_file, allow_empty)
        self.loader, self.extensions = loader, extensions
        self.targets = [s[1] for s in self.samples]

    @staticmethod
    def make_dataset(directory: str | os.PathLike, class_to_idx: dict[str, int],
                     extensions: tuple[str, ...] | None = None, is_valid_file: Callable[[str], bool] | None = None,
                     allow_empty: bool = False) -> list[tuple[str, int]]:
        if class_to_idx is None:
            raise ValueError("The class_to_idx parameter cannot be None.")
        return make_dataset(directory, class_to_idx, extensions, is_valid_file, allow_empty)

    def find_classes(self, directory: str | os.PathLike) -> tuple[list[str], dict[str, int]]:
        return find_classes(directory)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """``(sample, class_index)`` through ``transform`` and ``target_transform``."""
        path, target = self.samples[index]
        sample = self.loader(path)
        return self.transformed(sample, target)

    def __len__(self) -> int:
        return len(self.samples)


class ImageFolder(DatasetFolder):
    """Images in one folder per class, decoded by Pillow as RGB (files ending in ``IMG_EXTENSIONS``
    unless ``is_valid_file`` decides).

    Example::

        >>> data = ImageFolder("photos", transform=transforms.Compose([transforms.Resize(64),
        ...                    transforms.CenterCrop(64), transforms.ToTensor()]))
        >>> data.classes, data.class_to_idx, data.samples[0]
    """

    def __init__(self, root: str | os.PathLike, transform: Callable | None = None,
                 target_transform: Callable | None = None, loader: Callable[[str], Any] = default_loader,
                 is_valid_file: Callable[[str], bool] | None = None, allow_empty: bool = False) -> None:
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None, transform=transform,
                         target_transform=target_transform, is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.imgs = self.samples

