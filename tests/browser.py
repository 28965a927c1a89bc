"""The one gate for tests that drive Debian's chromium with Playwright (the playground's end-to-end tests,
the screenshots of the lab report and the docs), and their shared ``browser`` fixture.

A test module calls :func:`require_browser` at module level, then imports the ``browser`` fixture
(``from browser import browser, require_browser``).
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from fukaku.playground.launch import CHROMIUM, CHROMIUM_FLAGS


def require_browser() -> None:
    """Skip the calling test module without chromium or Playwright, or fail it where CI requires the browser
    (``FUKAKU_REQUIRE_BROWSER``, set by ``.ci/run``, which installs both)."""
    if not Path(CHROMIUM).exists():
        why = "Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)"
    elif importlib.util.find_spec("playwright") is None:
        why = "playwright (the test extra) is not installed: pip install -e '.[test]'"
    else:
        return
    if os.environ.get("FUKAKU_REQUIRE_BROWSER"):   # set by .ci/run: there these tests must run
        pytest.fail(why, pytrace=False)
    pytest.skip(why, allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, headless, launched by Playwright once per test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_FLAGS))
        yield launched
        launched.close()
