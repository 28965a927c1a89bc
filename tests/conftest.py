"""Suite-wide test configuration: tests that read the shared data directory.

A test that needs files of the shared data directory (``../shared/data`` beside the project, or
``$FUKAKU_DATA``; see :func:`fukaku.datasets.shared_data_dir`) says so with a marker::

    @pytest.mark.shared_data("mnist/t10k-images-idx3-ubyte.gz")   # these files, relative to it
    @pytest.mark.shared_data()                                     # the directory itself

When they are missing the test is skipped, with the reason, on a local run; with ``CI=true`` in the
environment (continuous integration, where the data is provisioned) it fails instead, so that a
missing checkout of ``../shared`` cannot turn the data tests into silent skips.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest


def in_ci(environ=os.environ) -> bool:
    """Whether ``CI`` is set to true (``true``/``1``, any case), as CI services set it."""
    return environ.get("CI", "").strip().lower() in {"true", "1"}


def missing_shared_data(paths: tuple[str, ...], root: Path | None) -> str | None:
    """Why the shared data ``paths`` (relative to ``root``, the shared data directory or None when
    there is none) cannot be used, or None when all are there."""
    if root is None:
        return "the shared data directory (../shared/data or $FUKAKU_DATA) is absent"
    absent = [p for p in paths if not (root / p).is_file()]
    if absent:
        return f"the shared data directory {root} lacks {', '.join(absent)}"
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "shared_data(*paths): the test reads these files of the shared data "
                                       "directory; skipped without them, failed without them when CI=true")


def pytest_runtest_setup(item: pytest.Item) -> None:
    marks = list(item.iter_markers("shared_data"))
    if not marks:
        return
    from fukaku.datasets import shared_data_dir

    why = missing_shared_data(tuple(p for m in marks for p in m.args), shared_data_dir())
    if why is None:
        return
    if in_ci():
        pytest.fail(f"{why}; CI=true expects the shared data (check out ../shared or set FUKAKU_DATA)",
                    pytrace=False)
    pytest.skip(f"{why} (set CI=true to make this a failure)")
