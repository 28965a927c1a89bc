"""The documentation site (issue 17, items 1 and 4): ``make docs``'s build (tools/build_docs.py) runs
strict on a fresh folder, its API reference holds every public name of fukaku, broken links and
anchors fail it, the ``fukaku.x.y`` names the pages write resolve, and the concept pages' code runs.

The full build runs once per session, in the ``site`` fixture of tests/docs/conftest.py (shared with the
docs pages' screenshots of test_screenshots.py).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from docs.tools_loader import ROOT, load_tool

build_docs = load_tool("build_docs")

# the pages whose ```python blocks are examples to run (C's getting-started test runs index.md's)
EXAMPLE_PAGES = sorted((ROOT / "docs" / "concepts").glob("*.md")) + [ROOT / "docs" / "pytorch.md"]


def test_the_strict_build_makes_every_part_of_the_site(site: Path, modules: list[str]) -> None:
    expected = ["index.html", "ja/index.html", "textbook-map/index.html", "ja/textbook-map/index.html",
                "lab/index.html", "lab/report.html", "lab/results.json", "pytorch/index.html",
                "concepts/autodiff/index.html", "ja/concepts/autodiff/index.html", "api/index.html"]
    expected += [build_docs.api_path(m).removesuffix(".md") + "/index.html" for m in modules]
    copied = site.parent / "build" / "docs-src" / "tutorials"  # the notebooks as the build copied them
    tutorials = sorted(p.stem for p in copied.glob("*.ipynb") if ".ja." not in p.name)
    assert tutorials, "no tutorial notebook in the site"
    expected += [f"tutorials/{stem}/index.html" for stem in tutorials]
    expected += [f"ja/tutorials/{stem}/index.html" for stem in tutorials]
    assert [p for p in expected if not (site / p).is_file()] == []
    # notebooks rendered as pages with their cells (in both languages), not copied as JSON
    for stem in tutorials:
        for page in (site / "tutorials" / stem / "index.html", site / "ja" / "tutorials" / stem / "index.html"):
            html = page.read_text(encoding="utf-8")
            assert html.lstrip().lower().startswith("<!doctype html>") and "jp-Cell" in html, page
    # the header offers the other language, and the Japanese page is Japanese
    assert 'hreflang="ja"' in (site / "index.html").read_text(encoding="utf-8")
    assert '<html lang="ja"' in (site / "ja" / "index.html").read_text(encoding="utf-8")


def test_the_site_report_links_its_sources_to_the_site_maps(site: Path) -> None:
    """``fukaku lab run`` writes the report unlinked (no map beside it); the site's copy is rendered again
    with the links to its maps, and the map's experiments link back to the report."""
    from fukaku.lab.textbook_map import anchor_for

    report = (site / "lab" / "report.html").read_text(encoding="utf-8")
    lab_run = (site.parent / "lab-report" / "report.html").read_text(encoding="utf-8")
    anchor = anchor_for(json.loads((site / "lab" / "results.json").read_text(encoding="utf-8"))
                        ["experiments"][0]["source"])
    assert f'href="../textbook-map/#{anchor}"' in report and f'href="../ja/textbook-map/#{anchor}"' in report
    assert "textbook-map" not in lab_run
    assert (site / "textbook-map" / "index.html").is_file() and f'id="{anchor}"' in \
        (site / "textbook-map" / "index.html").read_text(encoding="utf-8")


def test_a_figure_the_lab_run_lacks_stops_the_build_naming_the_experiments_to_run(tmp_path: Path) -> None:
    from fukaku.lab.registry import discover

    figures = build_docs.figure_references(ROOT / "docs")
    assert figures, "no page shows a lab figure"
    drawers = build_docs.experiments_for_figures(figures, list(discover()))
    lab_report = tmp_path / "lab-report"
    (lab_report / "figures").mkdir(parents=True)
    (lab_report / "results.json").write_text("{}", encoding="utf-8")
    with pytest.raises(FileNotFoundError, match="lacks") as failure:
        build_docs.prepare_sources(tmp_path / "docs-src", lab_report, [], execute=False)
    message = str(failure.value)
    assert all(figure in message for figure in figures) and all(exp_id in message for exp_id in drawers)
    assert f"--out {lab_report}" in message
    assert not (tmp_path / "docs-src").exists()  # refused before any work


def test_every_public_name_of_fukaku_is_in_the_api_reference(site: Path, modules: list[str]) -> None:
    documented = build_docs.documented_names(site)
    assert build_docs.missing_from_reference(documented, modules) == {}
    # the core names a reader looks for, under the paths PyTorch uses
    for name in ["fukaku.tensor", "fukaku.Tensor", "fukaku.nn.Linear", "fukaku.nn.functional.conv2d",
                 "fukaku.optim.Adam", "fukaku.optim.lr_scheduler.StepLR", "fukaku.utils.data.DataLoader",
                 "fukaku.autograd.grad", "fukaku.rl.gridworld", "fukaku.nn.ZeroPad2d"]:
        assert name in documented


def test_the_comparer_reports_a_name_the_reference_lacks(tmp_path: Path) -> None:
    """A fake reference page that documents every public name of fukaku.linalg but one."""
    import fukaku.linalg

    names = build_docs.public_names(fukaku.linalg)
    assert len(names) > 3
    page = tmp_path / "site" / "api" / "fukaku" / "linalg" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text("".join(f'<h2 id="fukaku.linalg.{n}">{n}</h2>' for n in names[1:]), encoding="utf-8")
    documented = build_docs.documented_names(tmp_path / "site")
    assert build_docs.missing_from_reference(documented, ["fukaku.linalg"]) == {"fukaku.linalg": [names[0]]}
    page.write_text("".join(f'<h2 id="fukaku.linalg.{n}">{n}</h2>' for n in names), encoding="utf-8")
    assert build_docs.missing_from_reference(build_docs.documented_names(tmp_path / "site"), ["fukaku.linalg"]) == {}


def test_which_modules_are_public(modules: list[str]) -> None:
    for name in ["fukaku", "fukaku.nn", "fukaku.nn.functional", "fukaku.nn.init", "fukaku.optim",
                 "fukaku.optim.lr_scheduler", "fukaku.utils.data", "fukaku.autograd", "fukaku.autograd.functional",
                 "fukaku.distributions", "fukaku.vision", "fukaku.vision.transforms", "fukaku.models",
                 "fukaku.text", "fukaku.theory", "fukaku.rl", "fukaku.distributed", "fukaku.lab", "fukaku.linalg",
                 "fukaku.random", "fukaku.cuda"]:
        assert name in modules
    # implementation files whose names the package re-exports, private modules, the experiments
    for name in ["fukaku.nn.modules", "fukaku.nn.modules.conv", "fukaku.tensor", "fukaku.ops.elementwise",
                 "fukaku._atomic", "fukaku.__main__", "fukaku.lab.experiments.cnn.learned_filters"]:
        assert name not in modules
    assert not [m for m in modules if m.startswith("fukaku.lab.experiments") or "._" in m]


def test_public_names_without_all_leave_out_imports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "docs_probe.py").write_text(
        "import math\nfrom os import path as ospath\ntry:\n    from json import dumps\nexcept ImportError:\n"
        "    dumps = None\nCONSTANT = 3\n_hidden = 1\n\ndef helper():\n    return math.pi\n\nclass Thing:\n    pass\n",
        encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    import docs_probe

    assert sorted(build_docs.public_names(docs_probe)) == ["CONSTANT", "Thing", "helper"]


def _mini_site(tmp_path: Path, page: str) -> subprocess.CompletedProcess:
    """mkdocs with the repository's configuration on a one-page site."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text(page, encoding="utf-8")
    (docs / "other.md").write_text("# Other\n\n## A section\n", encoding="utf-8")
    settings = build_docs.site_config(docs, tmp_path / "site", [])
    settings["nav"] = [{"Home": "index.md"}, {"Other": "other.md"}]
    config = tmp_path / "mkdocs.yml"
    config.write_text(json.dumps(settings), encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config)],
                          capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})


@pytest.mark.parametrize("link, fails", [("other.md#a-section", False), ("missing.md", True),
                                         ("other.md#no-such-section", True), ("#nowhere", True)])
def test_a_broken_link_or_anchor_fails_the_build(tmp_path: Path, link: str, fails: bool) -> None:
    done = _mini_site(tmp_path, f"# Home\n\nSee [there]({link}).\n")
    assert (done.returncode != 0) == fails, done.stderr[-2000:]
    if fails:
        assert link.split("#")[-1] in done.stderr  # the warning names what is broken


def test_stale_api_names_are_found(tmp_path: Path) -> None:
    (tmp_path / "page.md").write_text(
        "Use `fukaku.nn.Linear` and `fukaku.nn.functional.conv2d(x, w)`; not `fukaku.nn.Linaer` nor\n"
        "```python\nimport fukaku.optim.nosuchmodule\n```\nProse fukaku.nn.Nothing outside code is not checked.\n",
        encoding="utf-8")
    assert build_docs.stale_api_names(tmp_path) == ["page.md: fukaku.nn.Linaer",
                                                    "page.md: fukaku.optim.nosuchmodule"]


def test_stale_api_names_written_with_the_fk_alias_are_found(tmp_path: Path) -> None:
    (tmp_path / "page.md").write_text(
        "```python\nimport fukaku as fk\nscaler = fk.amp.GradScalar()\nx = fk.randn(3)\n```\n"
        "Use `fk.amp.GradScaler` and `fk.nn.Linear`; `xfk.nothing` and `self.fk.nothing` are other names.\n",
        encoding="utf-8")
    assert build_docs.stale_api_names(tmp_path) == ["page.md: fk.amp.GradScalar"]


def test_every_api_name_the_written_pages_name_resolves() -> None:
    assert build_docs.stale_api_names(ROOT / "docs") == []


def test_figures_map_to_the_experiments_that_draw_them() -> None:
    ids = ["gan-digits", "gan", "softmax-demo"]
    assert build_docs.experiments_for_figures(["gan-digits-losses.png", "softmax-demo.png"], ids) == \
        ["gan-digits", "softmax-demo"]
    with pytest.raises(ValueError, match="no lab experiment"):
        build_docs.experiments_for_figures(["mystery.png"], ids)


def _python_blocks(page: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", page.read_text(encoding="utf-8"), re.S | re.M)


@pytest.mark.parametrize("page", EXAMPLE_PAGES, ids=lambda p: p.name)
def test_the_examples_of_a_page_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page's ```python blocks run in order in one namespace, as a reader pastes them (in a
    scratch folder: some save files)."""
    blocks = _python_blocks(page)
    assert blocks, f"{page.name} has no python example"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": f"docs_example_{page.stem}"}
    for number, block in enumerate(blocks, 1):
        exec(compile(block, f"{page.name}, example {number}", "exec"), namespace)  # noqa: S102


def test_executed_notebooks_give_the_japanese_twin_the_english_outputs(tmp_path: Path) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    def notebook(prose: str, code: str) -> nbformat.NotebookNode:
        return new_notebook(cells=[new_markdown_cell(prose), new_code_cell(code)],
                            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                     "language": "python"}})

    nbformat.write(notebook("# Sum", "print(20 + 22)"), tmp_path / "01-sum.ipynb")
    nbformat.write(notebook("# 和", "print(20 + 22)"), tmp_path / "01-sum.ja.ipynb")
    nbformat.write(notebook("# Product", "print(6 * 7)"), tmp_path / "02-product.ipynb")
    nbformat.write(notebook("# 積", "print(6 * 8)"), tmp_path / "02-product.ja.ipynb")  # other code: run itself
    written = build_docs.execute_notebooks(tmp_path)
    assert sorted(p.name for p in written) == ["01-sum.ipynb", "01-sum.ja.ipynb", "02-product.ipynb",
                                               "02-product.ja.ipynb"]

    def printed(name: str) -> str:
        cell = nbformat.read(tmp_path / name, as_version=4).cells[1]
        return "".join(o.get("text", "") for o in cell.outputs)

    assert [printed(n) for n in ["01-sum.ipynb", "01-sum.ja.ipynb", "02-product.ipynb", "02-product.ja.ipynb"]] \
        == ["42\n", "42\n", "42\n", "48\n"]
    assert nbformat.read(tmp_path / "01-sum.ja.ipynb", as_version=4).cells[0].source == "# 和"


def test_executed_notebooks_keep_their_figures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A figure a notebook draws is in its outputs as image/png, whatever MPLBACKEND the caller has (Agg here,
    which alone would put no figure in the notebook), and the caller's MPLBACKEND is restored."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    monkeypatch.setenv("MPLBACKEND", "Agg")
    nbformat.write(new_notebook(cells=[new_code_cell(
        "import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0])\nplt.show()")]), tmp_path / "figure.ipynb")
    build_docs.execute_notebooks(tmp_path)
    outputs = nbformat.read(tmp_path / "figure.ipynb", as_version=4).cells[0].outputs
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert os.environ["MPLBACKEND"] == "Agg"
