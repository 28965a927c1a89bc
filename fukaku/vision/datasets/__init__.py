"""Image datasets with torchvision's names and layouts (``torchvision.datasets``).

- :class:`MNIST`, :class:`FashionMNIST`: IDX files in ``root/<Name>/raw``, read with the checks of
  :mod:`fukaku.datasets` and downloaded MD5-verified;
- :class:`CIFAR10`, :class:`CIFAR100`: the python-version batches, parsed by a pickle reader that
  runs no code (:func:`read_cifar_batch`);
- :class:`ImageFolder`, :class:`DatasetFolder`: one folder per class.

Each sample is ``(image, target)`` with the image a PIL image, as in torchvision, so
``transform=transforms.ToTensor()`` ports unchanged. A damaged or hostile file raises
:class:`fukaku.datasets.DatasetFormatError` naming it; missing files raise RuntimeError naming
where they were looked for and suggesting ``download=True``.
"""
from .cifar import CIFAR10, CIFAR100, read_cifar_batch, read_cifar_meta
from .folder import IMG_EXTENSIONS, DatasetFolder, ImageFileError, ImageFolder, default_loader, pil_loader
from .mnist import MNIST, FashionMNIST
from .vision import StandardTransform, VisionDataset

__all__ = ["VisionDataset", "StandardTransform", "MNIST", "FashionMNIST", "CIFAR10", "CIFAR100", "read_cifar_batch",
           "read_cifar_meta", "DatasetFolder", "ImageFolder", "ImageFileError", "IMG_EXTENSIONS", "default_loader",
           "pil_loader"]
