"""Atomic file writes: a reader sees the old file or the complete new one, never half of either.

Every writer in fukaku (checkpoints, downloads, lab figures and reports, graph drawings) goes
through :func:`atomic_write`: write to a temporary file beside the target, flush it to disk,
rename it over the target (``os.replace`` is atomic on one file system), then make the rename
durable. An exception — or a ``return`` that abandons the write — removes the temporary file and
leaves the target as it was.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["atomic_write", "AbandonWrite"]

# mkstemp creates files readable by their owner only; a written file gets the permissions that
# open() would give it (0o666 less the process's umask), read once here
_UMASK = os.umask(0)
os.umask(_UMASK)


class AbandonWrite(Exception):
    """Raise inside :func:`atomic_write` to drop the new content quietly (the target is kept)."""


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", *, suffix: str = ".tmp",
                 op: str = "write") -> Iterator[IO]:
    """Open a temporary file for writing; on a clean exit it replaces ``path`` atomically.

    Args:
        path: the file to create or replace; its directory must exist.
        mode: ``"wb"`` (bytes) or ``"w"`` (UTF-8 text).
        suffix: the temporary file's suffix (``.part`` for downloads).
        op: the caller's name, for the error when the directory is missing.

    Example::

        with atomic_write("model.npz") as fh:
            fh.write(payload)
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write: mode must be 'wb' or 'w', got {mode!r}")
    target = Path(path)
    directory = target.parent
    if not directory.is_dir():
        raise FileNotFoundError(f"{op}: the directory {os.fspath(directory)!r} of {os.fspath(path)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=directory)
    try:
        if hasattr(os, "fchmod"):  # POSIX
            os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except AbandonWrite:
        return
    finally:
        # on success tmp was renamed away; on any failure (a SIGKILL runs no handler, but leaves
        # the target intact) the temporary file must not stay behind
        if os.path.exists(tmp):
            os.unlink(tmp)
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX; Windows cannot open a directory)."""
    if os.name != "posix":
        return
    dfd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
