"""fukaku._atomic.atomic_write: the one writer behind checkpoints, downloads, figures and drawings."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from fukaku._atomic import AbandonWrite, atomic_write


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_clean_exit_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with atomic_write(target) as fh:
        fh.write(b"new content")
        assert target.read_bytes() == b"old"  # nothing visible until the rename
    assert target.read_bytes() == b"new content" and _leftovers(tmp_path) == []


def test_text_mode_writes_utf8(tmp_path: Path) -> None:
    with atomic_write(tmp_path / "a.txt", "w") as fh:
        fh.write("深く")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "深く"


def test_an_error_keeps_the_old_file_and_removes_the_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_write(target) as fh:
            fh.write(b"half")
            raise RuntimeError("boom")
    assert target.read_bytes() == b"old" and _leftovers(tmp_path) == []


def test_abandoning_keeps_the_old_file_quietly(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    with atomic_write(target, suffix=".part") as fh:
        fh.write(b"unverified")
        raise AbandonWrite
    assert not target.exists() and _leftovers(tmp_path) == []


def test_a_missing_directory_names_the_caller(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"fukaku\.save: the directory .*nope"):
        with atomic_write(tmp_path / "nope" / "x.npz", op="fukaku.save"):
            pass


def test_only_write_modes_are_accepted(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mode"):
        with atomic_write(tmp_path / "x", "a"):
            pass


def test_the_file_gets_the_permissions_open_would_give(tmp_path: Path) -> None:
    """Not mkstemp's owner-only 0600: a report or a figure is as readable as any file written with open()."""
    with atomic_write(tmp_path / "a.bin") as fh:
        fh.write(b"x")
    with open(tmp_path / "b.bin", "wb") as fh:
        fh.write(b"x")
    assert os.stat(tmp_path / "a.bin").st_mode == os.stat(tmp_path / "b.bin").st_mode


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize("umask", [0o077, 0o027, 0o002])
def test_files_and_checkpoints_follow_the_umask_of_the_moment(tmp_path: Path, umask: int) -> None:
    """The umask in force when the file is written, not the one fukaku was imported under."""
    import fukaku as fk

    previous = os.umask(umask)
    try:
        with atomic_write(tmp_path / "a.bin") as fh:
            fh.write(b"x")
        fk.save({"w": fk.ones(2), "epoch": 3}, tmp_path / "ckpt.npz")
        fd = os.open(tmp_path / "plain", os.O_CREAT | os.O_WRONLY, 0o666)
        os.close(fd)
    finally:
        os.umask(previous)
    expected = 0o666 & ~umask
    assert os.stat(tmp_path / "plain").st_mode & 0o777 == expected  # what the system gives a new file
    assert os.stat(tmp_path / "a.bin").st_mode & 0o777 == expected
    assert os.stat(tmp_path / "ckpt.npz").st_mode & 0o777 == expected
    assert _leftovers(tmp_path) == []
