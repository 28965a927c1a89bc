"""The tutorial notebooks (issue 17, items 2–3): built from their sources, committed without outputs, the same
code in English and Japanese, citations that resolve, and every English notebook runs from top to bottom on
embedded data and ends with a figure.

Executing the English notebook covers the Japanese one: their code cells are asserted identical. Each notebook
runs in a fresh kernel of the interpreter running the tests (so fukaku and its extras are the ones installed
here), headless: matplotlib-inline draws with Agg and sends each figure as image/png. ``FUKAKU_DATA`` points at an
empty directory, so the notebooks that use the shared data when present (05, 06) take their embedded-data path,
the one a machine without ``../shared/data`` takes.
"""
from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest

from docs.tools_loader import load_tool

notebooks = load_tool("notebooks")
build_docs = load_tool("build_docs")

SOURCES = notebooks.sources()
ENGLISH = [notebooks.notebook_path(source, "en") for source in SOURCES]
JAPANESE = [notebooks.notebook_path(source, "ja") for source in SOURCES]
TIMEOUT = 300           # seconds one cell may run (the slowest cell, 07's DDPM training, takes under a minute)
_KANA = re.compile(r"[\u3040-\u30ff]")


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _cells(nb: dict, kind: str) -> list[str]:
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in nb["cells"] if c["cell_type"] == kind]


def test_the_issue_asks_for_at_least_eight_tutorials() -> None:
    assert len(SOURCES) >= 8, [s.name for s in SOURCES]
    assert all(p.is_file() for p in ENGLISH + JAPANESE)


def test_every_notebook_is_built_from_its_current_source() -> None:
    assert notebooks.stale() == [], "run: python tools/notebooks.py"


def test_check_names_an_outdated_notebook_and_one_without_a_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture) -> None:
    """A notebook whose source was renamed or deleted is stale too: the site would still show it."""
    tutorials = tmp_path / "docs" / "tutorials"
    (tutorials / "src").mkdir(parents=True)
    monkeypatch.setattr(notebooks, "ROOT", tmp_path)
    monkeypatch.setattr(notebooks, "TUTORIALS", tutorials)
    monkeypatch.setattr(notebooks, "SOURCES", tutorials / "src")
    monkeypatch.setattr(sys, "path", [*sys.path])  # write_all puts its ROOT on the path
    (tutorials / "src" / "01-x.py").write_text("# %% [markdown]\n# Hello\n# %% [markdown] ja\n# こんにちは\n"
                                               "# %%\nprint(1)\n", encoding="utf-8")
    assert [p.name for p in notebooks.write_all()] == ["01-x.ipynb", "01-x.ja.ipynb"]
    assert notebooks.stale() == [] and notebooks.main(["--check"]) == 0
    (tutorials / "00-renamed.ipynb").write_text((tutorials / "01-x.ipynb").read_text(encoding="utf-8"),
                                                encoding="utf-8")
    (tutorials / "01-x.ja.ipynb").write_text("{}", encoding="utf-8")
    assert notebooks.stale() == [tutorials / "01-x.ja.ipynb", tutorials / "00-renamed.ipynb"]
    capsys.readouterr()
    assert notebooks.main(["--check"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "docs/tutorials/01-x.ja.ipynb is out of date: run python tools/notebooks.py",
        "docs/tutorials/00-renamed.ipynb has no source in docs/tutorials/src: delete it, or restore its source"]


@pytest.mark.parametrize("path", ENGLISH + JAPANESE, ids=lambda p: p.name)
def test_notebooks_are_committed_without_outputs(path: Path) -> None:
    nb = _load(path)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name}: a cell has outputs"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_english_and_japanese_share_every_code_cell(source: Path) -> None:
    en, ja = _load(notebooks.notebook_path(source, "en")), _load(notebooks.notebook_path(source, "ja"))
    assert _cells(en, "code") == _cells(ja, "code")
    assert [c["cell_type"] for c in en["cells"]] == [c["cell_type"] for c in ja["cells"]]
    english, japanese = _cells(en, "markdown"), _cells(ja, "markdown")
    assert all(_KANA.search(text) for text in japanese), "a Japanese cell has no Japanese text"
    assert all(e != j for e, j in zip(english, japanese)), "a prose cell is not translated"
    assert english[0].startswith("# ") and japanese[0].startswith("# "), "each notebook opens with its title"


def test_the_generator_refuses_an_untranslated_cell(tmp_path: Path) -> None:
    """The pairing that keeps the two languages in step is enforced: an English cell without its Japanese twin,
    or a Japanese cell with no English one before it, is an error naming the line."""
    lonely = tmp_path / "01-x.py"
    lonely.write_text("# %% [markdown]\n# Hello\n\n# %%\nprint(1)\n", encoding="utf-8")
    with pytest.raises(notebooks.SourceError, match=r"01-x.py:1: this English cell has no Japanese"):
        notebooks.parse(lonely)
    orphan = tmp_path / "02-x.py"
    orphan.write_text("# %%\nprint(1)\n# %% [markdown] ja\n# こんにちは\n", encoding="utf-8")
    with pytest.raises(notebooks.SourceError, match=r"02-x.py:3: a Japanese cell must follow"):
        notebooks.parse(orphan)
    paired = tmp_path / "03-x.py"
    paired.write_text("# %% [markdown]\n# Hello\n# %% [markdown] ja\n# こんにちは\n# %%\nprint(1)\n", encoding="utf-8")
    en, ja = (notebooks.build(notebooks.parse(paired), lang, "03-x") for lang in ("en", "ja"))
    assert [c.source for c in en.cells] == ["Hello", "print(1)"] and [c.source for c in ja.cells] == ["こんにちは",
                                                                                                    "print(1)"]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_every_seed_citation_resolves(source: Path) -> None:
    """Each notebook cites the seed section it teaches, and the citation names a section of docs/seeds.md."""
    import test_docs

    sections = test_docs._sections()
    text = source.read_text(encoding="utf-8")
    found = list(test_docs.CITATION.finditer(text))
    assert found, f"{source.name} cites no seed section"
    problems = [f"{m.group(0)!r}: {why}" for m in found
                if (why := test_docs._problem(m.group(0), m.group(1), m.group(3), sections))]
    assert not problems, problems


@pytest.mark.parametrize("path", ENGLISH, ids=lambda p: p.stem)
def test_the_notebook_runs_and_ends_with_a_figure(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the site build's executor: headless, a fresh kernel of this interpreter, run in tmp_path
    monkeypatch.setenv("FUKAKU_DATA", str(tmp_path / "no-shared-data"))   # the embedded-data path, as in CI
    (tmp_path / "no-shared-data").mkdir()
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    build_docs.execute_notebook(nb, tmp_path, TIMEOUT)
    print(f"{path.name}: {time.perf_counter() - start:.1f} s")
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    errors = [o for cell in code for o in cell.outputs if o.output_type == "error"]
    assert not errors, errors
    last = code[-1].outputs
    assert any("image/png" in o.get("data", {}) for o in last), f"{path.name}: the last cell shows no figure"


def test_japanese_prose_has_no_line_break_between_japanese_characters() -> None:
    """Markdown renders a line break as a space: the Japanese notebooks join them, and the Japanese pages are
    written without them."""
    text = "日本語の\n文です。`code` と\n`more`\n\n- 項目\n- 次の\n  続き\n```\nコード\nです\n```"
    assert notebooks.join_japanese_lines(text) == ("日本語の文です。`code` と\n`more`\n\n- 項目\n- 次の続き\n"
                                                   "```\nコード\nです\n```")
    pages = sorted((notebooks.ROOT / "docs").rglob("*.ja.md"))
    assert pages
    broken = [p.name for p in pages if notebooks.join_japanese_lines(p.read_text(encoding="utf-8"))
              != p.read_text(encoding="utf-8")]
    assert broken == [], f"join the Japanese line breaks in {broken} (tools/notebooks.py's join_japanese_lines)"
