"""Download MNIST and Fashion-MNIST (``fukaku data fetch mnist|fashion-mnist``) and verify them.

Each file comes from the first mirror that serves it with the right MD5; it is streamed into a
temporary file beside its destination, checked, flushed to disk and renamed into place
(``os.replace``), so a destination path only ever holds a complete, verified file. Files already
present with the right MD5 are not downloaded again. ``mirrors=`` and ``checksums=`` replace the
built-in tables (a local mirror, or ``file://`` URLs in tests: the tests never use the network).
"""
from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from .._atomic import AbandonWrite, atomic_write
from ._common import download_root


class Resource(NamedTuple):
    mirrors: tuple[str, ...]   # base URLs, tried in order
    files: dict[str, str]      # file name -> MD5 hex digest


RESOURCES: dict[str, Resource] = {
    # yann.lecun.com is the canonical source; the other two are the copies torchvision uses.
    "mnist": Resource(
        mirrors=("http://yann.lecun.com/exdb/mnist/", "https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "https://storage.googleapis.com/cvdf-datasets/mnist/"),
        files={"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
               "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
               "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
               "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}),
    "fashion-mnist": Resource(
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                 "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"),
        files={"train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
               "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
               "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
               "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"}),
}

_CHUNK = 1 << 20


class FetchError(RuntimeError):
    """No mirror delivered a file with the expected MD5 (the message lists each attempt)."""


def md5sum(path: str | os.PathLike) -> str:
    """The MD5 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url: str, dest: Path, expected_md5: str, timeout: float) -> str | None:
    """Stream ``url`` to a temporary file beside ``dest``; rename it into place if its MD5 is right.
    Returns None on success, else why it failed; never leaves the temporary file behind."""
    problem = None
    with atomic_write(dest, suffix=".part", op="fetch") as f:
        digest = hashlib.md5(usedforsecurity=False)
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (http/https/file)
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    digest.update(chunk)
                    f.write(chunk)
        except (urllib.error.URLError, OSError, ValueError) as e:
            problem = f"{url}: {e}"
            raise AbandonWrite from e
        got = digest.hexdigest()
        if got != expected_md5:
            problem = f"{url}: MD5 mismatch: expected {expected_md5}, got {got}"
            raise AbandonWrite
    return problem


def fetch(name: str, root: str | os.PathLike | None = None, *, mirrors: Sequence[str] | None = None,
          checksums: Mapping[str, str] | None = None, timeout: float = 60.0,
          log: Callable[[str], None] | None = None) -> dict[str, Path]:
    """Download data set ``name`` (``mnist`` or ``fashion-mnist``) into ``root`` and verify it.

    Args:
        name: a key of ``RESOURCES``.
        root: destination directory (created if needed); default ``$FUKAKU_DATA/name``, else
            ``~/.cache/fukaku/data/name``, where :func:`fukaku.datasets.mnist` looks.
        mirrors: base URLs to try in order instead of the built-in ones (``http(s)://`` or
            ``file://``).
        checksums: ``{file name: MD5}`` to fetch instead of the built-in table.
        timeout: seconds to wait on a connection.
        log: called with one line per file (e.g. ``print``); silent when None.

    Returns:
        ``{file name: path}`` for every file, downloaded or already present.

    Raises:
        FetchError: a file that no mirror delivered with the right MD5; the message names the file
            and each mirror's failure. Nothing partial is left behind.
    """
    if name not in RESOURCES:
        raise ValueError(f"fetch: unknown data set {name!r}; choose one of {', '.join(RESOURCES)}")
    resource = RESOURCES[name]
    bases = tuple(mirrors) if mirrors is not None else resource.mirrors
    files = dict(checksums) if checksums is not None else resource.files
    if not bases:
        raise ValueError("fetch: mirrors is empty; give at least one base URL")
    root = Path(root).expanduser() if root is not None else download_root() / name
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    say = log or (lambda _msg: None)
    paths: dict[str, Path] = {}
    try:
        for fname, md5 in files.items():
            dest = root / fname
            if dest.is_file():
                if md5sum(dest) == md5:
                    say(f"{fname}: present, MD5 ok")
                    paths[fname] = dest
                    continue
                say(f"{fname}: present but its MD5 is wrong; downloading it again")
            failures = []
            for base in bases:
                url = base if base.endswith("/") else base + "/"
                why = _download(url + fname, dest, md5, timeout)
                if why is None:
                    say(f"{fname}: downloaded from {url}, MD5 ok")
                    break
                failures.append(why)
            else:
                raise FetchError(f"fetch {name}: could not get {fname} with MD5 {md5}:\n  " + "\n  ".join(failures))
            paths[fname] = dest
    except BaseException:
        if created and not any(root.iterdir()):
            root.rmdir()  # leave no empty directory behind either
        raise
    return paths
