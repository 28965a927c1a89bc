"""MNIST and Fashion-MNIST from IDX files (LeCun's format), ``.gz`` or raw.

An IDX file is a 4-byte magic number ``00 00 TT DD`` (TT the element type, DD the number of
dimensions), DD big-endian uint32 sizes, then the elements in row-major order, big-endian. The
reader checks every part of that and names the file and what is wrong: a file cut short says how
many bytes the header promises and how many are there.

Any byte sequence gives either the array its header describes or an :class:`IDXFormatError`
(a :class:`~fukaku.datasets.DatasetFormatError`): the sizes the header declares are checked against
the file's size and ``max_bytes`` before anything is allocated, and a gzip file is inflated a chunk
at a time into the array and stopped as soon as it yields more bytes than the header allows, so a
gzip bomb (a small file declaring 5 labels that inflates to gigabytes) is refused after a few
kilobytes of inflation.

Only the MNIST *test* set (t10k, 10,000 images) is in the shared data; :func:`mnist_split` gives
the convention used with it in this project: the first 8,000 images train, the last 2,000 test.
"""
from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .._checks import check_int
from ._common import DatasetFormatError, Split, candidate_dirs, out, regular_file_size

# element type code -> (big-endian NumPy dtype), from the IDX format description
_IDX_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                         "Bag", "Ankle boot")

MAX_IDX_BYTES = 1 << 31
"""Default cap on the data section an IDX file may declare (2 GiB; MNIST's largest file holds 47 MB).
``read_idx(path, max_bytes=...)`` reads a larger genuine file."""

_MAX_DIMS = 32  # every NumPy supports 32 dimensions (NumPy 2 allows 64); real IDX files have 1 to 4
# zlib's deflate never expands more than 1032:1 (zlib technical details, "maximum compression
# factor"): a gzip file of n bytes cannot hold more than 1032·n bytes, whatever its header says
_DEFLATE_MAX_RATIO = 1032
_CHUNK = 1 << 20  # inflate and read a MiB at a time


class IDXFormatError(DatasetFormatError):
    """An IDX file that is truncated, corrupt, too large, or not the kind of file expected."""


def _read_into(f: BinaryIO, view: memoryview) -> int:
    """Fill ``view`` from ``f`` a chunk at a time; the number of bytes read (short at end of file)."""
    got = 0
    while got < len(view):
        n = f.readinto(view[got:got + _CHUNK])
        if not n:
            break
        got += n
    return got


def _parse_idx(f: BinaryIO, path: Path, file_size: int | None, gz: bool, max_bytes: int) -> np.ndarray:
    """Read one IDX file from ``f`` (raw, or the inflating reader of a gzip file), checking each size
    it declares before allocating for it."""
    where = f"IDX file {path}"
    magic = f.read(4)
    if len(magic) < 4:
        raise IDXFormatError(f"{where}: only {len(magic)} bytes; an IDX file starts with a 4-byte magic number")
    if magic[0] != 0 or magic[1] != 0:
        raise IDXFormatError(f"{where}: bad magic number 0x{magic.hex()} (expected 0x0000TTDD: two zero bytes, type, "
                             "dimensions); this is not an IDX file")
    code, ndim = magic[2], magic[3]
    if code not in _IDX_TYPES:
        raise IDXFormatError(f"{where}: unknown element type 0x{code:02x} in magic number 0x{magic.hex()} "
                             f"(known: {', '.join(f'0x{c:02x}' for c in _IDX_TYPES)})")
    if not 1 <= ndim <= _MAX_DIMS:
        raise IDXFormatError(f"{where}: magic number 0x{magic.hex()} declares {ndim} dimensions; an IDX file "
                             f"has 1 to {_MAX_DIMS}")
    header = 4 + 4 * ndim
    sizes = f.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise IDXFormatError(f"{where}: truncated header: expected {header} bytes for {ndim} dimensions, "
                             f"got {4 + len(sizes)}")
    dims = struct.unpack(f">{ndim}I", sizes)
    dtype = _IDX_TYPES[code]
    shape = "×".join(map(str, dims))
    expected = math.prod(dims) * dtype.itemsize  # Python ints: a corrupt header cannot overflow
    if not gz and file_size is not None and file_size - header != expected:  # all known before reading data
        what = "truncated" if file_size - header < expected else "has trailing bytes"
        raise IDXFormatError(f"{where}: {what}: dimensions {shape} of {dtype.name} need {expected} data bytes, "
                             f"got {file_size - header}")
    if expected > max_bytes:
        raise IDXFormatError(f"{where}: dimensions {shape} of {dtype.name} declare {expected} data bytes, more than "
                             f"max_bytes={max_bytes}; pass a larger max_bytes= to read_idx if the file is genuine")
    if math.prod(d for d in dims if d) * dtype.itemsize > np.iinfo(np.intp).max:
        raise IDXFormatError(f"{where}: dimensions {shape} are too large for an array, even with no elements")
    if gz and file_size is not None and expected > _DEFLATE_MAX_RATIO * file_size:
        raise IDXFormatError(f"{where}: truncated or corrupt: dimensions {shape} of {dtype.name} need {expected} data "
                             f"bytes, but a gzip file of {file_size} bytes inflates to at most "
                             f"{_DEFLATE_MAX_RATIO * file_size}")
    array = np.empty(dims, dtype=dtype)
    got = _read_into(f, memoryview(array.reshape(-1).view(np.uint8)))
    if got < expected:
        raise IDXFormatError(f"{where}: truncated: dimensions {shape} of {dtype.name} need {expected} data bytes, "
                             f"got {got}")
    if f.read(1):  # one byte past the data: a gzip bomb stops here, a few kilobytes into its stream
        what = (f"inflates to more than the {header + expected} bytes its header declares (stopped reading there)"
                if gz else "has trailing bytes")
        raise IDXFormatError(f"{where}: {what}: dimensions {shape} of {dtype.name} need {expected} data bytes")
    return array.astype(dtype.newbyteorder("="), copy=False)


def read_idx(path: str | os.PathLike, *, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed) into a native-endian NumPy array.

    Whatever the file holds, the result is the array its header describes or an
    :class:`IDXFormatError`; memory use is bounded by the declared size (at most ``max_bytes``),
    never by what a compressed stream would inflate to.

    Args:
        path: the file; gzip compression is recognised by its first two bytes, not by the name.
        max_bytes: the largest data section accepted (default :data:`MAX_IDX_BYTES`, 2 GiB).

    Raises:
        IDXFormatError: bad magic number, unknown element type, missing or too many dimensions, a data
            section shorter or longer than the dimensions say (the message names the file and both
            sizes), a declared size above ``max_bytes`` or above what the gzip file can inflate to,
            or a truncated or corrupt gzip stream.
        OSError: the file is missing or cannot be read.
    """
    path = Path(path)
    max_bytes = check_int(max_bytes, "max_bytes", "read_idx", minimum=0)
    with open(path, "rb") as raw:
        file_size = regular_file_size(raw)
        gz = raw.read(2) == b"\x1f\x8b"  # gzip's magic; an IDX file starts with 00 00
        raw.seek(0)
        if not gz:
            return _parse_idx(raw, path, file_size, False, max_bytes)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as f:
                return _parse_idx(f, path, file_size, True, max_bytes)
        except (gzip.BadGzipFile, EOFError, zlib.error) as e:  # raised by the gzip layer only
            raise IDXFormatError(f"IDX file {path}: the gzip stream is truncated or corrupt ({e}); delete the file "
                                 "and download it again") from None


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
        raise IDXFormatError(f"{name} in {directory}: {img_path.name} has {len(images)} images but {lbl_path.name} "
                             f"has {len(labels)} labels")
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

    Raises:
        IDXFormatError: a file :func:`read_idx` refuses, images that are not uint8 of 3 dimensions,
            labels that are not uint8 of 1 dimension or outside 0-9, or counts that differ.
        FileNotFoundError: the files are not there (the message says where it looked).
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
