"""Downloading and unpacking data files (``torchvision.datasets.utils``), through fukaku's verified
fetcher: a file is streamed into a temporary file beside its destination, its MD5 checked, and
renamed into place, so a destination only ever holds a complete, verified file."""
from __future__ import annotations

import os
import tarfile
from pathlib import Path

from ...datasets import FetchError, md5sum
from ...datasets._fetch import _download

__all__ = ["check_integrity", "download_url", "extract_archive", "download_and_extract_archive"]


def check_integrity(fpath: str | os.PathLike, md5: str | None = None) -> bool:
    """Whether ``fpath`` is a file and, if ``md5`` is given, has that MD5."""
    if not os.path.isfile(fpath):
        return False
    return md5 is None or md5sum(fpath) == md5


def download_url(url: str, root: str | os.PathLike, filename: str | None = None, md5: str | None = None,
                 timeout: float = 60.0) -> Path:
    """Download ``url`` to ``root/filename`` (default: the URL's last part) unless a file with that
    MD5 is there; the download is checked against ``md5`` (required: only verified files are kept)
    before it is renamed into place.

    Raises:
        FetchError: the download failed or its MD5 differs (nothing is left behind).
    """
    if md5 is None:
        raise ValueError("download_url: give md5=; fukaku keeps only downloads it has verified")
    root = Path(root).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    dest = root / (filename or url.rstrip("/").rsplit("/", 1)[-1])
    if check_integrity(dest, md5):
        print(f"Using downloaded and verified file: {dest}")
        return dest
    print(f"Downloading {url} to {dest}")
    problem = _download(url, dest, md5, timeout)
    if problem is not None:
        raise FetchError(f"download_url: could not get {url} with MD5 {md5}: {problem}")
    return dest


def extract_archive(from_path: str | os.PathLike, to_path: str | os.PathLike | None = None,
                    remove_finished: bool = False) -> Path:
    """Unpack a tar archive (``.tar``, ``.tar.gz``, ``.tgz``) into ``to_path`` (default: its directory)
    with tarfile's ``data`` filter: no member may land outside ``to_path``, be a device or link out
    of it, or keep set-uid bits."""
    from_path = Path(from_path)
    to_path = Path(to_path) if to_path is not None else from_path.parent
    with tarfile.open(from_path, "r:*") as archive:
        archive.extractall(to_path, filter="data")
    if remove_finished:
        from_path.unlink()
    return to_path


def download_and_extract_archive(url: str, download_root: str | os.PathLike, extract_root: str | os.PathLike | None = None,
                                 filename: str | None = None, md5: str | None = None,
                                 remove_finished: bool = False) -> None:
    """:func:`download_url` then :func:`extract_archive` (into ``extract_root``, default
    ``download_root``)."""
    archive = download_url(url, download_root, filename, md5)
    print(f"Extracting {archive} to {extract_root or download_root}")
    extract_archive(archive, extract_root or download_root, remove_finished)
