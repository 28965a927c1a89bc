"""The base of the image datasets (``torchvision.datasets.VisionDataset``): a root, and the
transforms applied to each sample and target."""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ...utils.data import Dataset


def apply_transforms(transform: Callable | None, target_transform: Callable | None, input: Any,
                     target: Any) -> tuple[Any, Any]:
    """``(transform(input), target_transform(target))``, each where given."""
    if transform is not None:
        input = transform(input)
    if target_transform is not None:
        target = target_transform(target)
    return input, target


class StandardTransform:
    """``transform`` on the input and ``target_transform`` on the target of a sample."""

    def __init__(self, transform: Callable | None = None, target_transform: Callable | None = None) -> None:
        self.transform, self.target_transform = transform, target_transform

    def __call__(self, input: Any, target: Any) -> tuple[Any, Any]:
        return apply_transforms(self.transform, self.target_transform, input, target)

    def __repr__(self) -> str:
        body = [self.__class__.__name__]
        for title, t in (("Transform: ", self.transform), ("Target transform: ", self.target_transform)):
            if t is not None:
                lines = repr(t).splitlines()
                body += [f"{title}{lines[0]}"] + ["{}{}".format(" " * len(title), line) for line in lines[1:]]
        return "\n".join(body)


class VisionDataset(Dataset):
    """A map-style dataset of images under ``root``.

    Args:
        root: the data directory (``~`` is expanded in a str), or None.
        transforms: a function of ``(image, target)`` returning both; or instead
        transform: a function of the image (e.g. ``transforms.ToTensor()``), and
        target_transform: a function of the target.
    """

    _repr_indent = 4

    def __init__(self, root: str | os.PathLike | None = None, transforms: Callable | None = None,
                 transform: Callable | None = None, target_transform: Callable | None = None) -> None:
        self.root = os.path.expanduser(root) if isinstance(root, str) else root
        has_separate = transform is not None or target_transform is not None
        if transforms is not None and has_separate:
            raise ValueError("Only transforms or transform/target_transform can be passed as argument")
        self.transform, self.target_transform = transform, target_transform
        self.transforms = StandardTransform(transform, target_transform) if has_separate else transforms

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def transformed(self, input: Any, target: Any) -> tuple[Any, Any]:
        """A sample through the dataset's current ``transform`` and ``target_transform``."""
        return apply_transforms(self.transform, self.target_transform, input, target)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        body = [f"Number of datapoints: {len(self)}"]
        if self.root is not None:
            body.append(f"Root location: {self.root}")
        body += self.extra_repr().splitlines()
        if self.transforms is not None:
            body += repr(self.transforms).splitlines()
        return "\n".join([f"Dataset {self.__class__.__name__}"] + [" " * self._repr_indent + line for line in body])


class SplitDataset(VisionDataset):
    """A dataset of a training or test split stored as files under ``root`` that :meth:`download`
    fetches: the constructor downloads when asked, names the files that are missing, then loads.

    Subclasses define :meth:`missing_files`, :meth:`load` (setting ``data`` and ``targets``) and
    :meth:`download`.
    """

    def __init__(self, root: str | os.PathLike, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        missing = self.missing_files()
        if missing:
            raise RuntimeError(f"Dataset not found: {self.__class__.__name__} needs {', '.join(missing)}. You can use "
                               "download=True to download it")
        self.load()

    def missing_files(self) -> list[str]:
        """The files of this split that are not on disk."""
        raise NotImplementedError

    def load(self) -> None:
        raise NotImplementedError

    def download(self) -> None:
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"
