"""Atomic file writes: a reader sees the old file or the complete new one, never half of either.

Every writer in fukaku (checkpoints, downloads, lab figures and reports, graph drawings) goes
through :func:`atomic_write`: write to a temporary file beside the target, flush it to disk,
rename it over the target (``os.replace`` is atomic on one file system), then make the rename
durable. An exception — or a ``return`` that abandons the write — removes the temporary file and
leaves the target as it was. The new file gets the permissions ``open()`` would give it: 0o666 less
the umask in force at the time of the write.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["atomic_write", "AbandonWrite"]

# The temporary file is created as open() creates a file: mode 0o666, less the process's umask at the
# time of the write (the kernel applies it), not mkstemp's owner-only 0o600
_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
          | getattr(os, "O_BINARY", 0))


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
    fd, tmp = _create_temporary(directory, f".{target.name}.", suffix)
    try:
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


def _create_temporary(directory: Path, prefix: str, suffix: str) -> tuple[int, str]:
    """A new file ``directory/prefix<random>suffix`` opened for writing, with the permissions the umask
    gives new files (``O_EXCL``: never one that exists)."""
    for _ in range(100):
        path = os.path.join(directory, f"{prefix}{secrets.token_hex(4)}{suffix}")
        try:
            return os.open(path, _FLAGS, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"atomic_write: no unused temporary name in {os.fspath(directory)!r} after 100 tries")


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX; Windows cannot open a directory)."""
    if os.name != "posix":
        return
    dfd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
