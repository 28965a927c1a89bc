"""Images the PyTorch way: ``torchvision``'s datasets, transforms and utilities under fukaku, so that
tutorial code ports by writing ``fukaku.vision`` for ``torchvision``::

    from fukaku.vision import datasets, transforms
    from fukaku.vision.utils import make_grid, save_image

    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train = datasets.MNIST("data", train=True, download=True, transform=tf)

- :mod:`.datasets`: ``MNIST``, ``FashionMNIST`` (IDX files, checksum-verified download),
  ``CIFAR10``/``CIFAR100`` (the python-version batches, read by a pickle parser that runs no code),
  ``ImageFolder``/``DatasetFolder``.
- :mod:`.transforms`: torchvision's v1 transforms on PIL images and tensors, plus batch
  augmentation that draws per sample and applies one gather per batch.
- :mod:`.utils`: ``make_grid`` and ``save_image`` (PNG via Pillow, written atomically).

Pillow is needed for PIL images (``pip install pillow``); tensor transforms work without it.
"""
from . import datasets, transforms, utils

__all__ = ["datasets", "transforms", "utils"]
