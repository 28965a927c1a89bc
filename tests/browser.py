"""The one gate for tests that drive Debian's chromium with Playwright (the playground's end-to-end tests,
the screenshots of the lab report and the docs): call :func:`require_chromium` at module level."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from fukaku.playground.launch import CHROMIUM


def require_chromium() -> None:
    """Skip the calling test module without chromium, or fail it where CI requires the browser."""
    if Path(CHROMIUM).exists():
        return
    why = "Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)"
    if os.environ.get("FUKAKU_REQUIRE_BROWSER"):   # set by .ci/run: there these tests must run
        pytest.fail(why, pytrace=False)
    pytest.skip(why, allow_module_level=True)
