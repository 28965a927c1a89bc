"""MNIST and Fashion-MNIST from IDX files (LeCun's format), ``.gz`` or raw.

An IDX file is a 4-byte magic number ``00 00 TT DD`` (TT the element type, DD the number of
dimensions), DD big-endian uint32 sizes, then the elements in row-major order, big-endian. The
reader checks every part of that and names the file and what is wrong: a file cut short says how
many bytes the header promises and how many are there.

Only the MNIST *test* set (t10k, 10,000 images) is in the shared data; :func:`mnist_split` gives
the convention used with it in this project: the first 8,000 images train, the last 2,000 test.
"""
from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from ._common import Split, candidate_dirs, out

# element type code -> (big-endian NumPy dtype), from the IDX format description
_IDX_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                         "Bag", "Ankle boot")


class IDXFormatError(ValueError):
    """An IDX file that is truncated, corrupt, or not the kind of file expected."""


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != b"\x1f\x8b":  # not gzip-compressed (whatever the file is called)
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as e:
        raise IDXFormatError(f"IDX file {path}: the gzip stream is truncated or corrupt ({e}); delete the file and "
                             "download it again") from None


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed) into a native-endian NumPy array.

    Raises:
        IDXFormatError: bad magic number, unknown element type, missing dimensions, or a data section
            shorter or longer than the dimensions say (the message names the file and both sizes).
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise IDXFormatError(f"IDX file {path}: only {len(data)} bytes; an IDX file starts with a 4-byte magic "
                             "number")
    if data[0] != 0 or data[1] != 0:
        raise IDXFormatError(f"IDX file {path}: bad magic number 0x{data[:4].hex()} (expected 0x0000TTDD: two zero "
                             "bytes, type, dimensions); this is not an IDX file")
    code, ndim = data[2], data[3]
    if code not in _IDX_TYPES:
        raise IDXFormatError(f"IDX file {path}: unknown element type 0x{code:02x} in magic number 0x{data[:4].hex()} "
                             f"(known: {', '.join(f'0x{c:02x}' for c in _IDX_TYPES)})")
    if ndim == 0:
        raise IDXFormatError(f"IDX file {path}: magic number 0x{data[:4].hex()} declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXFormatError(f"IDX file {path}: truncated header: expected {header} bytes for {ndim} dimensions, "
                             f"got {len(data)}")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_TYPES[code]
    expected = math.prod(dims) * dtype.itemsize  # Python ints: a corrupt header cannot overflow
    got = len(data) - header
    if got != expected:
        what = "truncated" if got < expected else "has trailing bytes"
        shape = "×".join(map(str, dims))
        raise IDXFormatError(f"IDX file {path}: {what}: dimensions {shape} of {dtype.name} need {expected} data bytes, "
                             f"got {got}")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def _find_file(directory: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):  # prefer the uncompressed file: no decompression
        if (directory / name).is_file():
            return directory / name
    return None


def _resolve_dir(name: str, root, stem: str) -> Path:
    if root is not None:
        return Path(root).expanduser()
    dirs = candidate_dirs(name)
    for d in dirs:
        if _find_file(d, stem) is not None:
            return d
    for d in dirs:  # a directory with the other split: _load then says what is there and what is not
        if any(_find_file(d, f"{p}-images-idx3-ubyte") for p in ("train", "t10k")):
            return d
    tried = ", ".join(str(d) for d in dirs)
    raise FileNotFoundError(f"{name}: no {stem}[.gz] found (looked in {tried}); pass root=DIR, set $FUKAKU_DATA, "
                            f"or download with `fukaku data fetch {name}`")


def _load(name: str, root, train: bool, flatten: bool, normalize: bool, return_tensors: bool):
    prefix = "train" if train else "t10k"
    img_stem, lbl_stem = f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"
    directory = _resolve_dir(name, root, img_stem)
    img_path, lbl_path = _find_file(directory, img_stem), _find_file(directory, lbl_stem)
    for stem, p in ((img_stem, img_path), (lbl_stem, lbl_path)):
        if p is None:
            hint = (" (only the test set is there: use train=False, or mnist_split() for the 8,000/2,000 "
                    "convention)") if train and _find_file(directory, "t10k-images-idx3-ubyte") else ""
            raise FileNotFoundError(f"{name}: {stem}[.gz] not found in {directory}{hint}; download it with "
                                    f"`fukaku data fetch {name}`")
    images, labels = read_idx(img_path), read_idx(lbl_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise IDXFormatError(f"IDX file {img_path}: expected images, uint8 of 3 dimensions (magic 0x00000803), got "
                             f"{images.dtype} of shape {images.shape}")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise IDXFormatError(f"IDX file {lbl_path}: expected labels, uint8 of 1 dimension (magic 0x00000801), got "
                             f"{labels.dtype} of shape {labels.shape}")
    if len(images) != len(labels):
        raise IDXFormatError(f"{name}: {img_path.name} has {len(images)} images but {lbl_path.name} has "
                             f"{len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise IDXFormatError(f"IDX file {lbl_path}: label {int(labels.max())} is outside the classes 0-9")
    x = images.astype(np.float32) / 255.0 if normalize else images
    if flatten:
        x = x.reshape(len(x), -1)
    return out((x, labels.astype(np.int64)), return_tensors)


def mnist(root: str | os.PathLike | None = None, train: bool = True, flatten: bool = False,
          normalize: bool = True, return_tensors: bool = True):
    """MNIST digits from IDX files in ``root``.

    Args:
        root: directory with ``{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]``; default: the
            first of ``$FUKAKU_DATA/mnist``, ``../shared/data/mnist``, ``~/.cache/fukaku/data/mnist``
            that has the files.
        train: the 60,000 training images (``train-*``) or the 10,000 test images (``t10k-*``).
        flatten: images ``(N, 784)`` instead of ``(N, 28, 28)``.
        normalize: float32 in [0, 1] (pixel / 255); False keeps uint8 0–255.

    Returns:
        ``(images (N, 28, 28), labels (N,) int64)`` as Tensors (NumPy arrays if not return_tensors).
    """
    return _load("mnist", root, train, flatten, normalize, return_tensors)


def fashion_mnist(root: str | os.PathLike | None = None, train: bool = True, flatten: bool = False,
                  normalize: bool = True, return_tensors: bool = True):
    """Zalando's Fashion-MNIST (same format as :func:`mnist`; classes in ``FASHION_MNIST_CLASSES``);
    the default root is searched for a ``fashion-mnist`` directory."""
    return _load("fashion-mnist", root, train, flatten, normalize, return_tensors)


def mnist_split(root: str | os.PathLike | None = None, n_train: int = 8000, n_test: int = 2000,
                flatten: bool = True, normalize: bool = True, return_tensors: bool = True) -> Split:
    """The MNIST *test* set split for experiments without the training files: the first ``n_train``
    images for training, the last ``n_test`` for testing (8,000/2,000 by default). Report numbers
    obtained this way as "MNIST t10k, first 8,000 train / last 2,000 test".

    Returns:
        :class:`Split` with images ``(n, 784)`` (``(n, 28, 28)`` if not flatten) and int64 labels.
    """
    x, y = mnist(root, train=False, flatten=flatten, normalize=normalize, return_tensors=False)
    if n_train < 0 or n_test < 0 or n_train + n_test > len(x):
        raise ValueError(f"mnist_split: n_train={n_train} + n_test={n_test} must be non-negative and at most the "
                         f"{len(x)} images of the test set")
    return Split(*out((x[:n_train], y[:n_train], x[len(x) - n_test:], y[len(y) - n_test:]), return_tensors))
