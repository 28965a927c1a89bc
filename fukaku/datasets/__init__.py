"""Data sets for the textbook's experiments (issue 3): the TensorFlow Playground's 2-D sets
(seed 003), scikit-learn's 8×8 digits, MNIST / Fashion-MNIST from IDX files with a verified
downloader, synthetic sequence tasks, and a text-corpus loader.

Every file reader raises :class:`DatasetFormatError` (a ``ValueError``) naming the file and what is
wrong, whatever bytes the file holds: a truncated, corrupt or hostile file (a gzip bomb, a header
declaring terabytes) is refused before memory or time is spent on it.

Every builder returns fukaku Tensors (``return_tensors=False``: NumPy arrays); random ones take
``seed=`` (an int, a ``numpy.random.Generator``, or None for fukaku's default generator).
"""
from ._common import DatasetFormatError, Split, download_root, holdout_split, shared_data_dir
from ._digits import digits
from ._fetch import RESOURCES, FetchError, fetch, md5sum
from ._idx import (FASHION_MNIST_CLASSES, MAX_IDX_BYTES, MNIST_CLASSES, IDXFormatError, fashion_mnist, mnist,
                   mnist_split, read_idx)
from ._playground import (GENERATORS, binary_labels, classify_circle, classify_gauss, classify_spiral, classify_xor,
                         playground, regress_gaussian, regress_plane)
from .sequence import adding_problem, copy_task, noisy_sine, reverse_task
from .text import MAX_TEXT_BYTES, UNK, TextCorpus, Vocab, next_token_windows

__all__ = ["Split", "holdout_split", "download_root", "shared_data_dir", "digits", "fetch", "FetchError", "RESOURCES",
           "md5sum", "DatasetFormatError", "read_idx", "IDXFormatError", "MAX_IDX_BYTES", "mnist", "fashion_mnist",
           "mnist_split", "MNIST_CLASSES", "FASHION_MNIST_CLASSES", "playground", "GENERATORS", "classify_circle",
           "classify_xor", "classify_gauss", "classify_spiral", "regress_plane", "regress_gaussian", "binary_labels",
           "adding_problem", "copy_task", "reverse_task", "noisy_sine", "TextCorpus", "Vocab", "UNK", "MAX_TEXT_BYTES",
           "next_token_windows"]
