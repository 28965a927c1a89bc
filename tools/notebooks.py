"""Build the tutorial notebooks ``docs/tutorials/NN-name.ipynb`` (English) and ``NN-name.ja.ipynb`` (Japanese)
from one source per tutorial, ``docs/tutorials/src/NN-name.py``.

A source is a Python script in the "percent" format (as Jupytext and VS Code read it). Cells begin with a
marker line:

- ``# %%`` — a code cell, shared by both languages;
- ``# %% [markdown]`` — English prose; every line a comment (``# text``, or ``#`` for a blank line);
- ``# %% [markdown] ja`` — the Japanese translation of the English cell just before it.

The Japanese prose is written wrapped like the English; the notebook joins a line break that falls between two
Japanese characters (:func:`join_japanese_lines`), which Markdown would render as a space.

Each English prose cell must be followed by its Japanese one, so the two notebooks have the same cells in the
same order and share every code cell character for character: running the English notebook checks the code of
both. Notebooks are written without outputs, with deterministic cell ids, so a rebuild of an unchanged source
rewrites nothing and diffs show only what changed.

Usage::

    python tools/notebooks.py            # rebuild every notebook whose source changed
    python tools/notebooks.py --check    # exit 1, naming them, when a notebook differs from its source or
                                         # has none (CI)
"""
from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "docs" / "tutorials"
SOURCES = TUTORIALS / "src"
LANGUAGES = ("en", "ja")
_MARKER = re.compile(r"^# %%(?: \[markdown\](?: (?P<lang>[a-z]+))?)?\s*$")
_KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


class SourceError(ValueError):
    """A tutorial source that does not follow the format of the module docstring; names the file and line."""


@dataclass(frozen=True)
class Cell:
    """One cell of a source: ``kind`` is ``code`` or ``markdown``; ``lang`` is None for code, else en/ja."""

    kind: str
    lang: str | None
    text: str
    line: int


_LIST_ITEM = re.compile(r"\s*([-*+]|\d+\.)\s")
_BLOCK_START = ("#", "|", "!", "```")


def join_japanese_lines(text: str) -> str:
    """``text`` (Markdown) with each line break inside a paragraph that falls between two non-ASCII characters
    removed: Markdown renders a line break as a space, and Japanese puts no space between words. Code fences,
    headings, tables, images and the start of a list item are left as they are."""
    out: list[str] = []
    fenced = False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif (not fenced and out and line.strip() and out[-1].strip()
              and not out[-1].lstrip().startswith(_BLOCK_START) and not line.lstrip().startswith(_BLOCK_START)
              and not _LIST_ITEM.match(line)
              and not out[-1].rstrip()[-1].isascii() and not line.lstrip()[0].isascii()):
            out[-1] = out[-1].rstrip() + line.lstrip()
            continue
        out.append(line)
    return "\n".join(out)


def _uncomment(lines: list[str], path: Path, start: int) -> str:
    """Prose lines ``# text`` / ``#`` without their comment marker."""
    out = []
    for offset, line in enumerate(lines):
        if line == "#" or line.startswith("# "):
            out.append(line[2:])
        elif line.strip():
            raise SourceError(f"{path}:{start + offset}: a markdown cell's lines must start with '# ' "
                              f"(or be '#' alone), got {line!r}")
        else:
            out.append("")
    return "\n".join(out).strip("\n")


def parse(path: Path) -> list[Cell]:
    """The cells of the source at ``path``, checked: text before the first marker, an unknown language, an
    empty cell, or an English prose cell without its Japanese twin right after it is a :class:`SourceError`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    starts = [(i, m) for i, line in enumerate(lines) if (m := _MARKER.match(line))]
    if not starts or any(line.strip() for line in lines[:starts[0][0]]):
        raise SourceError(f"{path}:1: a tutorial source starts with a cell marker ('# %%' or '# %% [markdown]')")
    cells = []
    for (i, match), (end, _) in zip(starts, starts[1:] + [(len(lines), None)]):
        body, line = lines[i + 1:end], i + 1
        if "[markdown]" in lines[i]:
            lang = match.group("lang") or "en"
            if lang not in LANGUAGES:
                raise SourceError(f"{path}:{line}: unknown language {lang!r}; use one of {', '.join(LANGUAGES)}")
            cell = Cell("markdown", lang, _uncomment(body, path, line + 1), line)
        else:
            cell = Cell("code", None, "\n".join(body).strip("\n"), line)
        if not cell.text:
            raise SourceError(f"{path}:{line}: empty cell")
        cells.append(cell)
    for previous, cell in zip([None, *cells], cells):
        english_before = previous is not None and previous.lang == "en"
        if cell.lang == "ja" and not english_before:
            raise SourceError(f"{path}:{cell.line}: a Japanese cell must follow the English cell it translates")
        if english_before and cell.lang != "ja":
            raise SourceError(f"{path}:{previous.line}: this English cell has no Japanese cell right after it")
    if cells[-1].lang == "en":
        raise SourceError(f"{path}:{cells[-1].line}: this English cell has no Japanese cell right after it")
    return cells


def build(cells: list[Cell], lang: str, stem: str) -> nbformat.NotebookNode:
    """The notebook in ``lang``: the shared code cells and that language's prose, no outputs, stable ids."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(_KERNELSPEC), "language_info": {"name": "python"}}
    for cell in cells:
        if cell.kind == "code":
            new = nbformat.v4.new_code_cell(cell.text)
        elif cell.lang == lang:
            new = nbformat.v4.new_markdown_cell(join_japanese_lines(cell.text) if lang == "ja" else cell.text)
        else:
            continue
        new.id = f"{stem}-{len(nb.cells):02d}"  # stable: the same source gives the same file
        nb.cells.append(new)
    nbformat.validate(nb)
    return nb


def notebook_path(source: Path, lang: str) -> Path:
    """``docs/tutorials/NN-name.ipynb`` (English) or ``NN-name.ja.ipynb`` for a source ``src/NN-name.py``."""
    suffix = ".ipynb" if lang == "en" else f".{lang}.ipynb"
    return TUTORIALS / f"{source.stem}{suffix}"


def rendered(source: Path) -> dict[Path, str]:
    """Every notebook of ``source`` and the exact text it should hold."""
    cells = parse(source)
    return {notebook_path(source, lang): nbformat.writes(build(cells, lang, source.stem)) + "\n"
            for lang in LANGUAGES}


def sources() -> list[Path]:
    """The tutorial sources, in order."""
    return sorted(SOURCES.glob("[0-9][0-9]-*.py"))


def stale() -> list[Path]:
    """The notebooks that are missing or differ from what their sources give, then the orphans: notebooks
    in ``docs/tutorials/`` that no source gives (a source renamed or deleted; the site would still show
    them)."""
    expected = {path: text for source in sources() for path, text in rendered(source).items()}
    differ = [path for path, text in expected.items()
              if not path.is_file() or path.read_text(encoding="utf-8") != text]
    return differ + orphans(expected)


def orphans(expected: Iterable[Path]) -> list[Path]:
    """The notebooks of ``docs/tutorials/`` that are not among ``expected`` (the ones the sources give)."""
    return sorted(set(TUTORIALS.glob("*.ipynb")) - set(expected))


def write_all() -> list[Path]:
    """Rebuild the notebooks that changed (atomically); return them."""
    sys.path.insert(0, str(ROOT))
    from fukaku._atomic import atomic_write

    written = []
    for source in sources():
        for path, text in rendered(source).items():
            if path.is_file() and path.read_text(encoding="utf-8") == text:
                continue
            with atomic_write(path, "w", op="tools/notebooks.py") as fh:
                fh.write(text)
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report notebooks that differ from their sources")
    args = parser.parse_args(argv)
    try:
        if args.check:
            out_of_date = stale()
            produced = {notebook_path(source, lang) for source in sources() for lang in LANGUAGES}
            for path in out_of_date:
                why = ("is out of date: run python tools/notebooks.py" if path in produced
                       else f"has no source in {SOURCES.relative_to(ROOT)}: delete it, or restore its source")
                print(f"{path.relative_to(ROOT)} {why}", file=sys.stderr)
            return 1 if out_of_date else 0
        for path in write_all():
            print(f"wrote {path.relative_to(ROOT)}")
    except SourceError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
