"""Helpers shared by the dataset builders: seeds, return types, the train/test ``Split``."""
from __future__ import annotations

import math
import os
import stat
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..tensor import Tensor, from_numpy
from ..utils.data._generator import GeneratorLike, as_generator, draw_from


class DatasetFormatError(ValueError):
    """A data file that is truncated, corrupt, larger than allowed, or not the kind of file expected.

    Every file reader of :mod:`fukaku.datasets` raises it (or its subclass
    :class:`~fukaku.datasets.IDXFormatError`) for whatever bytes a file holds, and for nothing else;
    the message names the file and what is wrong. A file that is missing or cannot be read raises
    ``OSError`` as ``open()`` does. Sizes a file declares are checked against the file's size and a
    cap before anything is allocated, so a hostile file costs neither memory nor time.
    """


class Split(NamedTuple):
    """A train/test split: ``x_train, y_train, x_test, y_test`` (Tensors or NumPy arrays)."""

    x_train: Tensor | np.ndarray
    y_train: Tensor | np.ndarray
    x_test: Tensor | np.ndarray
    y_test: Tensor | np.ndarray


def rng_for(seed: GeneratorLike, where: str) -> np.random.Generator:
    """A generator from ``seed`` (int, Generator, or None for fukaku's default generator)."""
    return draw_from(as_generator(seed, where))


def out(arrays: tuple[np.ndarray, ...], return_tensors: bool) -> tuple:
    """The arrays as fukaku Tensors (sharing memory) or as they are."""
    return tuple(from_numpy(np.ascontiguousarray(a)) for a in arrays) if return_tensors else arrays


def holdout_split(x, y, test_fraction: float = 0.2, seed: GeneratorLike = 0, shuffle: bool = True) -> Split:
    """Shuffle (x, y) together and hold out the last ``test_fraction`` as the test set.

    The test set gets ceil(N·test_fraction) samples, the training set the first
    N − that (the Playground and scikit-learn both round this way). Note the field order of the
    returned :class:`Split`, ``(x_train, y_train, x_test, y_test)``, which is not scikit-learn's.

    Args:
        x: inputs ``(N, ...)``, a Tensor or NumPy array.
        y: targets ``(N, ...)``.
        test_fraction: in [0, 1].
        seed: int, ``numpy.random.Generator`` or None (fukaku's default generator).
        shuffle: False keeps the order (first part train, last part test).
    """
    n = len(x)
    if len(y) != n:
        raise ValueError(f"holdout_split: x has {n} samples but y has {len(y)}")
    if not 0.0 <= test_fraction <= 1.0:
        raise ValueError(f"holdout_split: test_fraction must be in [0, 1], got {test_fraction}")
    n_test = math.ceil(round(n * test_fraction, 9))  # round: 0.3 * 10 is 3.0000000000000004
    idx = rng_for(seed, "holdout_split").permutation(n) if shuffle else np.arange(n)
    tr, te = idx[:n - n_test], idx[n - n_test:]
    return Split(x[tr], y[tr], x[te], y[te])


def regular_file_size(f) -> int | None:
    """The size in bytes of an open file if it is a regular file; None for a pipe, device or socket,
    whose size is not known before reading (readers then stop at their cap while reading)."""
    st = os.fstat(f.fileno())
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def _project_root() -> Path:
    return Path(__file__).resolve().parents[2]


def download_root() -> Path:
    """Where :func:`fukaku.datasets.fetch` puts data by default: ``$FUKAKU_DATA``, else
    ``~/.cache/fukaku/data``."""
    env = os.environ.get("FUKAKU_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "fukaku" / "data"


def candidate_dirs(name: str) -> list[Path]:
    """Directories searched for data set ``name`` when no root is given, in order:
    ``$FUKAKU_DATA/name``, ``../shared/data/name`` beside the project (and beside the working
    directory), then ``~/.cache/fukaku/data/name``."""
    dirs = []
    env = os.environ.get("FUKAKU_DATA")
    if env:
        dirs.append(Path(env).expanduser() / name)
    dirs += [_project_root().parent / "shared" / "data" / name, Path.cwd().parent / "shared" / "data" / name,
             Path.home() / ".cache" / "fukaku" / "data" / name]
    unique = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def shared_data_dir() -> Path | None:
    """The shared data directory (``$FUKAKU_DATA`` or ``../shared/data`` beside the project) if it
    exists; tests that need the real data skip when this is None."""
    env = os.environ.get("FUKAKU_DATA")
    for d in ([Path(env).expanduser()] if env else []) + [_project_root().parent / "shared" / "data",
                                                          Path.cwd().parent / "shared" / "data"]:
        if d.is_dir():
            return d
    return None
