"""Fixtures of the tokenizer tests: the shared corpora (tests needing them are marked ``shared_data`` and skip
without them), read once."""
from __future__ import annotations

import pytest

SHAKESPEARE = "text/tinyshakespeare.txt"
NEKO = "text/neko.txt"


def _read(relative: str) -> str:
    from fukaku.datasets import shared_data_dir

    return (shared_data_dir() / relative).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def shakespeare() -> str:
    return _read(SHAKESPEARE)


@pytest.fixture(scope="session")
def neko() -> str:
    return _read(NEKO)
