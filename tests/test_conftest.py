"""tests/conftest.py: a test marked ``shared_data`` runs with its files, is skipped without them on a
local run and fails without them when ``CI=true``."""
from __future__ import annotations

import pytest

import conftest
import fukaku.datasets


class _Item:
    """The part of a pytest item the hook reads."""

    def __init__(self, *marks: pytest.MarkDecorator) -> None:
        self.marks = [m.mark for m in marks]

    def iter_markers(self, name: str):
        return (m for m in self.marks if m.name == name)


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "here.gz").write_bytes(b"x")
    monkeypatch.setattr(fukaku.datasets, "shared_data_dir", lambda: tmp_path)
    monkeypatch.delenv("CI", raising=False)
    return tmp_path


@pytest.mark.parametrize("value, expected", [("true", True), ("TRUE", True), ("1", True), ("false", False),
                                             ("", False), (None, False), ("0", False)])
def test_in_ci_reads_the_ci_variable(value, expected):
    assert conftest.in_ci({} if value is None else {"CI": value}) is expected


def test_present_files_run(data_root):
    conftest.pytest_runtest_setup(_Item(pytest.mark.shared_data("mnist/here.gz")))
    conftest.pytest_runtest_setup(_Item(pytest.mark.shared_data()))
    conftest.pytest_runtest_setup(_Item(pytest.mark.slow))  # unmarked tests are left alone


@pytest.mark.parametrize("ci", [False, True])
def test_missing_files_skip_locally_and_fail_in_ci(data_root, monkeypatch, ci):
    if ci:
        monkeypatch.setenv("CI", "true")
    outcome = pytest.fail.Exception if ci else pytest.skip.Exception
    with pytest.raises(outcome, match=r"lacks mnist/absent\.gz") as info:
        conftest.pytest_runtest_setup(_Item(pytest.mark.shared_data("mnist/here.gz", "mnist/absent.gz")))
    assert "here.gz" not in str(info.value)
    assert ("CI=true expects the shared data" in str(info.value)) is ci


@pytest.mark.parametrize("ci", [False, True])
def test_missing_directory_skips_locally_and_fails_in_ci(monkeypatch, ci):
    monkeypatch.setattr(fukaku.datasets, "shared_data_dir", lambda: None)
    monkeypatch.setenv("CI", "true" if ci else "false")
    with pytest.raises(pytest.fail.Exception if ci else pytest.skip.Exception, match="directory .* is absent"):
        conftest.pytest_runtest_setup(_Item(pytest.mark.shared_data()))
