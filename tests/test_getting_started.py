"""The getting-started pages (docs/index.md, docs/index.ja.md): every Python example runs as printed."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fukaku.lab.registry import discover

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = ["index.md", "index.ja.md"]
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.M | re.S)


def blocks(page: str, language: str) -> list[str]:
    """The fenced code blocks of ``language`` in a page of docs/, in order."""
    return [code for lang, code in FENCE.findall((DOCS / page).read_text(encoding="utf-8")) if lang == language]


def without_comments(code: str) -> str:
    return "\n".join(line.split("#")[0].rstrip() for line in code.splitlines())


def _examples() -> list[tuple[str, int]]:
    return [(page, i) for page in PAGES for i in range(len(blocks(page, "python")))]


def test_both_languages_show_the_same_code() -> None:
    """The Japanese page translates the prose and the comments, never the code."""
    for language in ("python", "sh"):
        en, ja = ([without_comments(b) for b in blocks(page, language)] for page in PAGES)
        assert en == ja and len(en) >= 4, language


@pytest.mark.parametrize("page, index", _examples())
def test_the_example_runs(page: str, index: int, tmp_path: Path, monkeypatch) -> None:
    """A block that imports torch is a PyTorch script: it runs under ``fukaku run`` and prints what the page
    says it prints; every other block runs as it stands (its asserts check its numbers)."""
    code = blocks(page, "python")[index]
    monkeypatch.chdir(tmp_path)
    if re.search(r"^import torch$", code, re.M):
        script = tmp_path / "fit_line.py"
        script.write_text(code, encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(DOCS.parent)}
        done = subprocess.run([sys.executable, "-m", "fukaku.run", str(script)], capture_output=True, text=True,
                              timeout=120, env=env)
        assert done.returncode == 0, done.stderr
        promised = re.search(r"fukaku run fit_line\.py\s+# (.+)", (DOCS / page).read_text(encoding="utf-8"))
        assert promised and done.stdout.strip() == promised.group(1)
    else:
        exec(compile(code, f"{page}[{index}]", "exec"), {"__name__": "__main__"})


def test_the_lab_commands_name_registered_experiments() -> None:
    registered = discover()
    for page in PAGES:
        for block in blocks(page, "sh"):
            for line in block.splitlines():
                if line.startswith("fukaku lab run") and "--all" not in line:
                    ids = [word for word in line.split("#")[0].split()[3:] if not word.startswith("--")]
                    assert ids and all(i in registered for i in ids), line
