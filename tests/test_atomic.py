"""fukaku._atomic.atomic_write: the one writer behind checkpoints, downloads, figures and drawings."""
from __future__ import annotations

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
    import os

    with atomic_write(tmp_path / "a.bin") as fh:
        fh.write(b"x")
    with open(tmp_path / "b.bin", "wb") as fh:
        fh.write(b"x")
    assert os.stat(tmp_path / "a.bin").st_mode == os.stat(tmp_path / "b.bin").st_mode
