"""Shared fixtures of the documentation tests: the site, built once per session as ``make docs`` builds it,
for the build's own checks (test_site.py) and the docs pages' screenshots (test_screenshots.py).

The build (about a minute here) runs on a small lab run: only the experiments whose figures the pages
show, in quick mode, so the suite does not run the whole lab. The notebooks are rendered without being
executed: tests/docs/test_notebooks.py executes them.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from docs.tools_loader import ROOT, load_tool

build_docs = load_tool("build_docs")


@pytest.fixture(scope="session")
def modules() -> list[str]:
    """The public modules of fukaku, as the API reference lists them."""
    return build_docs.public_modules()


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, modules: list[str]) -> Path:
    """The site built as ``make docs`` builds it, from a fresh folder and a small quick lab run."""
    from fukaku.lab.runner import run, select

    tmp = tmp_path_factory.mktemp("docs")
    figures = build_docs.figure_references(ROOT / "docs")
    ids = build_docs.experiments_for_figures(figures, [e.id for e in select(None)]) or ["softmax-demo"]
    run(ids, quick=True, out_dir=tmp / "lab-report")
    docs_src = build_docs.prepare_sources(tmp / "build" / "docs-src", tmp / "lab-report", modules, execute=False)
    build_docs.build_site(docs_src, tmp / "site", modules)
    return tmp / "site"
