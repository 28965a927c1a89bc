"""Build the documentation site (``make docs``): ``python tools/build_docs.py [--site DIR]``.

The repository's ``docs/`` holds only what people write. Everything generated goes into a build copy,
``build/docs-src/`` (ignored by git), and ``mkdocs build --strict`` turns that copy into ``site/``:

1. ``docs/`` is copied to ``build/docs-src/``;
2. the API reference: one page per public module (:func:`public_modules`), ``api/fukaku/nn.md`` for
   ``fukaku.nn``, holding a ``::: fukaku.nn`` directive that mkdocstrings fills from the docstrings,
   and the names its static reader cannot show, read from the live module (:func:`names_read_live`);
3. the textbook map (EN and JA) from the lab's ``results.json``
   (:func:`fukaku.lab.textbook_map.write_pages`);
4. the tutorial notebooks, executed with nbclient (``--no-execute`` renders them without outputs); a
   Japanese notebook has the same code cells as its English twin, so it receives the English run's
   outputs instead of a second run;
5. the lab report folder (``results.json``, ``figures/``) as ``lab/``, its ``report.html`` rendered again
   from ``results.json`` with the source labels linked to the site's textbook map: the concept pages show
   its figures (``lab/figures/<experiment-id>….png``), so the figures are generated, never committed; a
   figure the lab run lacks (checked first, naming the experiments that draw it), or a ``fukaku.x.y`` (or
   ``fk.x.y``, the alias the pages import) written in a page's code that does not resolve
   (:func:`stale_api_names`), stops the build here;
6. ``mkdocs build --strict`` with ``build/mkdocs.yml``: the repository's ``mkdocs.yml`` with ``docs_dir``
   pointing at the copy and the generated nav; broken links, anchors and nav entries fail the build;
   then every public name must have its entry in the reference (:func:`missing_from_reference`).

Which modules are public (the rule the API reference and its test share):

- no part of the dotted name starts with ``_`` (``fukaku._atomic``, ``fukaku.__main__`` are private);
- not under ``fukaku.lab.experiments`` (each experiment is documented by the lab report and the
  textbook map, its code is not an API);
- it has public names (:func:`public_names`: ``__all__`` where the module defines it, else the names of
  ``dir()`` without a leading ``_`` that are neither modules nor bound by an ``import`` statement of the
  module itself), or it is a package without any (``fukaku.vision``: its page introduces its submodules);
- its parent package does not re-export every one of its public names (the same objects): a module
  such as ``fukaku.nn.modules.conv``, whose names ``fukaku.nn.modules`` — and so ``fukaku.nn`` —
  exports, is an implementation file documented on the package's page, as PyTorch documents
  ``torch.nn.Conv2d`` rather than ``torch.nn.modules.conv.Conv2d``. The top package is always public.
"""
from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "fukaku"
# modules that are content rather than API (see the module docstring)
EXCLUDED_PREFIXES = ("fukaku.lab.experiments",)
API_DIR = "api"  # the reference's folder inside the docs
LAB_DIR = "lab"  # the lab report's folder inside the docs
TUTORIALS_DIR = "tutorials"


# ---- which modules and names are public --------------------------------------------------------------

def candidate_modules(package_dir: Path = ROOT / PACKAGE) -> list[str]:
    """Every module of the package that no ``_`` part and no excluded prefix hides, in dotted form."""
    names = []
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        if any(part.startswith("_") for part in parts) or name.startswith(EXCLUDED_PREFIXES):
            continue
        names.append(name)
    return names


def _imported_names(module: ModuleType) -> set[str]:
    """The names the module's own ``import`` statements bind (outside functions and classes)."""
    source = inspect.getsource(module)
    names: set[str] = set()
    pending: list[ast.AST] = list(ast.parse(source).body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            pending.extend(ast.iter_child_nodes(node))  # imports under `if`/`try` blocks count too
    return names


def public_names(module: ModuleType) -> list[str]:
    """The names a module offers its users, submodules left out (they have pages of their own).

    ``__all__`` where the module defines it; otherwise the names of ``dir(module)`` that have no
    leading ``_`` and that the module defines itself (not bound by one of its ``import`` statements).
    A name of ``__all__`` the module lacks is kept, so the reference's test reports it.
    """
    if hasattr(module, "__all__"):
        names = list(dict.fromkeys(module.__all__))
    else:
        imported = _imported_names(module)
        names = [n for n in dir(module) if not n.startswith("_") and n not in imported]
    return [n for n in names if not inspect.ismodule(getattr(module, n, None))]


def _reexported_by_parent(module: ModuleType) -> bool:
    parent_name, _, _ = module.__name__.rpartition(".")
    parent = importlib.import_module(parent_name)
    offered = set(public_names(parent))
    return all(name in offered and getattr(parent, name) is getattr(module, name, None)
               for name in public_names(module))


def public_modules() -> list[str]:
    """The modules the API reference documents, one page each (the rule is in this file's docstring)."""
    chosen = []
    for name in candidate_modules():
        module = importlib.import_module(name)
        names = public_names(module)
        introduces_submodules = not names and hasattr(module, "__path__")
        if name == PACKAGE or introduces_submodules or (names and not _reexported_by_parent(module)):
            chosen.append(name)
    return chosen


def documented_names(site_dir: Path) -> set[str]:
    """The dotted names the built API reference documents: the heading ids mkdocstrings gives each
    object (``id="fukaku.nn.Linear"``) on the English reference pages of ``site_dir``."""
    found: set[str] = set()
    for page in (site_dir / API_DIR).rglob("*.html"):
        found.update(re.findall(rf'\bid="({PACKAGE}(?:\.\w+)*)"', page.read_text(encoding="utf-8")))
    return found


def missing_from_reference(documented: set[str], modules: Sequence[str]) -> dict[str, list[str]]:
    """The public names of each module (:func:`public_names`) that ``documented`` lacks as
    ``module.name``, by module; empty when the reference is complete."""
    missing = {}
    for name in modules:
        absent = [n for n in public_names(importlib.import_module(name)) if f"{name}.{n}" not in documented]
        if absent:
            missing[name] = absent
    return missing


# code in a page: a fenced block or an inline span; in it, a dotted name of the package, written in full
# or with the alias the pages import it as (`import fukaku as fk`)
ALIAS = "fk"
_CODE = re.compile(r"```.*?```|`[^`\n]+`", re.S)
_DOTTED_NAME = re.compile(rf"(?<![\w./-])(?:{PACKAGE}|{ALIAS})(?:\.[A-Za-z_]\w*)+")


def resolves(dotted: str) -> bool:
    """Whether ``fukaku.a.b.c`` names something: the longest importable module prefix, then
    attributes. Private modules are never imported (``fukaku.__main__`` would run the CLI)."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        if any(part.startswith("_") for part in parts[1:split]):
            continue
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attribute in parts[split:]:
                obj = getattr(obj, attribute)
        except AttributeError:
            return False
        return True
    return False


def stale_api_names(docs_dir: Path) -> list[str]:
    """Every ``fukaku.x.y`` (or ``fk.x.y``: ``fk`` is ``fukaku``) written as code in the Markdown pages under
    ``docs_dir`` that does not resolve (:func:`resolves`), as ``"page: name"`` spelled as the page spells it.
    The API pages are left out: they are made from the live package, and a value they show
    (``FORMAT = 'fukaku.word2vec'``) is no name."""
    stale = []
    for page in sorted(docs_dir.rglob("*.md")):
        if page.is_relative_to(docs_dir / API_DIR):
            continue
        names = {n for span in _CODE.findall(page.read_text(encoding="utf-8")) for n in _DOTTED_NAME.findall(span)}
        stale += [f"{page.relative_to(docs_dir).as_posix()}: {n}" for n in sorted(names)
                  if not resolves(PACKAGE + n.removeprefix(ALIAS) if n.startswith(ALIAS + ".") else n)]
    return stale


# ---- the build copy ----------------------------------------------------------------------------------

def names_read_live(modules: Sequence[str]) -> dict[str, tuple[list[str], list[str]]]:
    """The public names of each module that mkdocstrings' static reader (griffe) cannot render well,
    by module: ``(unseen, bare)``.

    griffe reads the source without running it. It does not see a name bound by a tuple assignment
    (``HOLDS, ERROR = ...``) or made by a factory at import time (``ZeroPad1d``), and takes a function
    for the submodule it shares a name with (``fukaku.rl.gridworld``, ``fukaku.tensor``): those are
    *unseen*. A function or class made by a call (``add = tensor_method(...)``) it shows as a bare
    assignment without its docstring: those are *bare*. The reference reads both from the live module.
    """
    import griffe

    package = griffe.load(PACKAGE, search_paths=[str(ROOT)], resolve_aliases=False)
    found = {}
    for name in modules:
        static = package if name == PACKAGE else package[name.removeprefix(PACKAGE + ".")]
        live = importlib.import_module(name)
        unseen, bare = [], []
        for public in public_names(live):
            member = static.members.get(public)
            try:
                if member is None or member.is_module:
                    unseen.append(public)
                elif member.is_attribute:
                    obj = getattr(live, public)
                    if (inspect.isroutine(obj) or inspect.isclass(obj)) and inspect.getdoc(obj):
                        bare.append(public)
            except griffe.AliasResolutionError:  # an alias of something griffe did not find
                unseen.append(public)
        if unseen or bare:
            found[name] = (unseen, bare)
    return found


def _live_entry(module: ModuleType, name: str) -> str:
    """One name of a module as Markdown read from the live object: a heading whose id is the dotted
    name (as mkdocstrings gives), the signature of a callable, its docstring, or a value's repr."""
    obj = getattr(module, name)
    lines = [f"### `{name}` {{#{module.__name__}.{name} }}", ""]
    if callable(obj):
        try:
            signature = str(inspect.signature(obj))
        except (TypeError, ValueError):  # some builtins and C types have none
            signature = "(...)"
        lines += ["```python", f"{name}{signature}", "```", ""]
        doc = inspect.getdoc(obj)
        lines += [doc or "(no docstring)", ""]
    else:
        value = repr(obj)
        lines += [f"`{name} = {value if len(value) <= 100 else value[:97] + '...'}`", ""]
    return "\n".join(lines)


def api_page(module: str, unseen: Sequence[str] = (), bare: Sequence[str] = ()) -> str:
    """The Markdown of one reference page: a title, the mkdocstrings directive (without the ``bare``
    names), and the names the static reader misses or shows bare (:func:`names_read_live`), read from
    the live module."""
    directive = f"::: {module}\n"
    if bare:  # the other names, explicitly: a filter would also hide methods of the same name
        shown = [n for n in public_names(importlib.import_module(module)) if n not in bare and n not in unseen]
        directive += f"    options:\n      members: {json.dumps(shown)}\n"
    page = f"# `{module}`\n\n{directive}"
    live_names = [*unseen, *bare]
    if live_names:
        live = importlib.import_module(module)
        page += ("\n## More names of this module\n\nRead from the imported module: names made at import "
                 "time (by a function call or a tuple assignment) or sharing their name with a submodule, "
                 "which the reader of the source cannot show above with their docstrings.\n\n"
                 + "\n".join(_live_entry(live, n) for n in live_names))
    return page


def api_path(module: str) -> str:
    """A module's reference page inside the docs: ``api/fukaku/nn/init.md`` for ``fukaku.nn.init``.

    Folders, not dotted file names: the i18n plugin reads ``fukaku.nn.md`` as page ``fukaku`` in the
    language ``nn`` (Norwegian Nynorsk), as it reads ``index.ja.md`` as Japanese.
    """
    return f"{API_DIR}/{module.replace('.', '/')}.md"


def write_api_pages(docs_dir: Path, modules: Sequence[str]) -> list[Path]:
    """Write ``api/<module>.md`` for each module and ``api/index.md`` listing them, grouped by the
    top-level subpackage; returns the pages written."""
    pages = []
    live = names_read_live(modules)
    for module in modules:
        page = docs_dir / api_path(module)
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(api_page(module, *live.get(module, ((), ()))), encoding="utf-8")
        pages.append(page)
    lines = ["# API reference", "",
             "Generated from the docstrings: one page per public module. A module whose names its package",
             "re-exports (`fukaku.nn.modules.conv`) is documented on the package's page (`fukaku.nn`), as",
             "PyTorch documents `torch.nn.Conv2d`. `fukaku.lab.experiments` is documented by the",
             "[lab report](../lab/report.html) and the [textbook map](../textbook-map.md).", "",
             "| module | what it holds |", "|---|---|"]
    for module in modules:
        paragraph = (inspect.getdoc(importlib.import_module(module)) or "").strip().split("\n\n")[0]
        sentence = " ".join(paragraph.split()).split(". ")[0].rstrip(".")
        summary = sentence.replace("|", "\\|") + "." if sentence else ""  # escaped: a table cell
        link = Path(api_path(module)).relative_to(API_DIR).as_posix()
        lines.append(f"| [`{module}`]({link}) | {summary} |")
    index = docs_dir / API_DIR / "index.md"
    index.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [index, *pages]


def _code_cells(notebook) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def execute_notebook(notebook, folder: Path, timeout: int) -> None:
    """Run ``notebook`` in a fresh kernel of this interpreter, in ``folder``, its figures drawn headless
    by matplotlib-inline (Agg, sent to the notebook as image/png; a plain ``MPLBACKEND=Agg`` would put
    no figure in the notebook, a desktop backend would need a display)."""
    from nbclient import NotebookClient

    previous = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # the kernel inherits it
    try:
        NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(folder)}}).execute()
    finally:
        if previous is None:
            del os.environ["MPLBACKEND"]
        else:
            os.environ["MPLBACKEND"] = previous


def execute_notebooks(folder: Path, *, timeout: int = 600) -> list[Path]:
    """Execute every English notebook of ``folder`` in place (:func:`execute_notebook`); a Japanese twin
    (``NAME.ja.ipynb``) whose code cells equal the English ones receives the English outputs, one with
    other code is executed itself. Returns the notebooks written."""
    import nbformat

    written = []
    for english in sorted(p for p in folder.glob("*.ipynb") if not p.name.endswith(".ja.ipynb")):
        notebook = nbformat.read(english, as_version=4)
        execute_notebook(notebook, folder, timeout)
        nbformat.write(notebook, english)
        written.append(english)
        japanese = english.with_name(english.name.removesuffix(".ipynb") + ".ja.ipynb")
        if not japanese.exists():
            continue
        twin = nbformat.read(japanese, as_version=4)
        if _code_cells(twin) == _code_cells(notebook):
            runs = iter(cell for cell in notebook.cells if cell.cell_type == "code")
            for cell in twin.cells:
                if cell.cell_type == "code":
                    ran = next(runs)
                    cell.outputs, cell.execution_count = ran.outputs, ran.execution_count
        else:
            execute_notebook(twin, folder, timeout)
        nbformat.write(twin, japanese)
        written.append(japanese)
    return written


def figure_references(docs_dir: Path) -> set[str]:
    """The lab figures (``lab/figures/NAME.png``) the Markdown pages show, by file name."""
    pattern = re.compile(rf"\b{LAB_DIR}/figures/([\w.-]+\.(?:png|svg))")
    found: set[str] = set()
    for page in docs_dir.rglob("*.md"):
        if page.is_relative_to(docs_dir / LAB_DIR):
            continue
        found.update(pattern.findall(page.read_text(encoding="utf-8")))
    return found


def experiments_for_figures(figures: Iterable[str], experiment_ids: Iterable[str]) -> list[str]:
    """The experiments that draw the figures: a figure's name starts with its experiment's id (the
    lab's convention, ``save_figure(ctx, self.id, …)``); the longest matching id wins."""
    ids = sorted(experiment_ids, key=len, reverse=True)
    needed = []
    for figure in sorted(figures):
        owner = next((i for i in ids if figure.startswith(i)), None)
        if owner is None:
            raise ValueError(f"build_docs: no lab experiment id starts the figure name {figure!r}; a figure "
                             f"a page shows must be one the lab draws (lab/figures/<experiment-id>….png)")
        if owner not in needed:
            needed.append(owner)
    return needed


def prepare_sources(out_dir: Path, lab_report: Path, modules: Sequence[str], *, execute: bool = True) -> Path:
    """Fill ``out_dir`` (emptied first) with the site's sources: the written pages, the API pages of
    ``modules``, the textbook map, the tutorials (executed when ``execute``) and the lab report.

    Raises:
        FileNotFoundError: when ``lab_report`` has no ``results.json``, or lacks a figure a page shows (the
            message names the experiments that draw them); checked before ``out_dir`` is touched.
        LookupError: when a page names a ``fukaku.x.y`` that does not resolve (:func:`stale_api_names`).
    """
    from fukaku.lab.registry import discover
    from fukaku.lab.textbook_map import write_pages

    results = lab_report / "results.json"
    if not results.is_file():
        raise FileNotFoundError(f"build_docs: {results} is missing; run the lab first: "
                                f"python -m fukaku lab run --all --quick --out {lab_report}")
    missing = sorted(f for f in figure_references(ROOT / "docs") if not (lab_report / "figures" / f).is_file())
    if missing:
        drawers = experiments_for_figures(missing, list(discover()))
        raise FileNotFoundError(f"build_docs: the pages show lab figures that {lab_report} lacks: "
                                f"{', '.join(missing)}, drawn by the experiment(s) {', '.join(drawers)}, which "
                                "did not draw them there (not run, an error, or matplotlib missing: its report.html "
                                f"says); run the lab: python -m fukaku lab run --all --quick --out {lab_report}")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    shutil.copytree(ROOT / "docs", out_dir)
    write_api_pages(out_dir, modules)
    write_pages(results, out_dir)
    shutil.copytree(lab_report, out_dir / LAB_DIR)
    write_lab_report(out_dir / LAB_DIR)
    write_lab_page(out_dir, results)
    stale = stale_api_names(out_dir)
    if stale:
        raise LookupError("build_docs: the pages name what fukaku does not have (rename or remove them): "
                          + "; ".join(stale))
    if execute and (out_dir / TUTORIALS_DIR).is_dir():
        execute_notebooks(out_dir / TUTORIALS_DIR)
    return out_dir


def _notebook_title(path: Path) -> str:
    """The first Markdown heading of a notebook (its nav title), else its file name."""
    import nbformat

    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def _grouped_api_nav(modules: Sequence[str]) -> list:
    """The reference's nav entries, one section per subpackage of fukaku (``fukaku.nn`` holds
    ``fukaku.nn``, ``fukaku.nn.functional`` …), a plain entry where the subpackage has one page."""
    groups: dict[str, list[str]] = {}
    for module in modules:
        groups.setdefault(".".join(module.split(".")[:2]), []).append(module)
    return [{group: api_path(members[0])} if len(members) == 1 else {group: [{m: api_path(m)} for m in members]}
            for group, members in groups.items()]


def site_nav(nav: list, docs_src: Path, modules: Sequence[str]) -> list:
    """mkdocs.yml's ``nav`` with its two generated sections filled in: "Tutorials" (the English
    notebooks of the copy, in file-name order) and "API reference" (its index, then one page per module)."""
    notebooks = sorted(p for p in (docs_src / TUTORIALS_DIR).glob("*.ipynb") if not p.name.endswith(".ja.ipynb"))
    generated = {
        "Tutorials": [{_notebook_title(p): f"{TUTORIALS_DIR}/{p.name}"} for p in notebooks],
        "API reference": [f"{API_DIR}/index.md", *_grouped_api_nav(modules)],
    }
    filled = []
    for entry in nav:
        (title, target), = entry.items()
        if target == "generated":
            if not generated[title]:
                continue  # no notebooks: no empty section
            target = generated[title]
        filled.append({title: target})
    return filled


def write_lab_report(lab_dir: Path) -> Path:
    """``lab_dir/report.html`` rendered again from ``lab_dir/results.json`` for the site: its source labels
    link to the site's textbook maps (``fukaku lab run`` leaves them unlinked: no map beside it)."""
    from fukaku.lab.report import SITE_TEXTBOOK_MAP_URL, SITE_TEXTBOOK_MAP_URL_JA, render_html

    record = json.loads((lab_dir / "results.json").read_text(encoding="utf-8"))
    page = lab_dir / "report.html"
    page.write_text(render_html(record, textbook_map_url=SITE_TEXTBOOK_MAP_URL,
                                textbook_map_url_ja=SITE_TEXTBOOK_MAP_URL_JA, figure_dir=lab_dir), encoding="utf-8")
    return page


def write_lab_page(docs_src: Path, results_json: Path) -> Path:
    """``lab/index.md``: what the lab report is, its verdict counts, and the link to ``report.html``."""
    record = json.loads(results_json.read_text(encoding="utf-8"))
    experiments = record.get("experiments", [])
    rows = "\n".join(f"| {status} | {count} |" for status, count in record.get("counts", {}).items())
    page = docs_src / LAB_DIR / "index.md"
    page.write_text(
        "# Lab report\n\n"
        "The lab runs one experiment per checkable claim of the seeds and gives each a verdict. This site "
        f"shows the run of {record.get('created', 'an unknown date')} ({len(experiments)} experiments"
        f"{', quick mode' if record.get('quick') else ''}).\n\n"
        "| verdict | experiments |\n|---|---:|\n" + rows + "\n\n"
        "[Open the full report](report.html) — the claims, the measured values, the checks and the "
        "figures; the [textbook map](../textbook-map.md) gives each seed section's experiments.\n",
        encoding="utf-8")
    return page


def site_config(docs_src: Path, site_dir: Path, modules: Sequence[str]) -> dict:
    """The repository's mkdocs.yml for this build: its folders, the generated nav, and the Japanese
    nav titles of the tutorials (each Japanese notebook's first heading)."""
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    config["docs_dir"], config["site_dir"] = str(docs_src.resolve()), str(site_dir.resolve())
    config["hooks"] = [str(ROOT / hook) for hook in config.get("hooks", [])]  # relative to the repository
    config["nav"] = site_nav(config["nav"], docs_src, modules)
    i18n = next(p["i18n"] for p in config["plugins"] if isinstance(p, dict) and "i18n" in p)
    japanese = next(language for language in i18n["languages"] if language["locale"] == "ja")
    for english in sorted((docs_src / TUTORIALS_DIR).glob("*.ipynb")):
        twin = english.with_name(english.name.removesuffix(".ipynb") + ".ja.ipynb")
        if not english.name.endswith(".ja.ipynb") and twin.exists():
            japanese["nav_translations"][_notebook_title(english)] = _notebook_title(twin)
    return config


def build_site(docs_src: Path, site_dir: Path, modules: Sequence[str]) -> None:
    """``mkdocs build --strict`` of ``docs_src`` into ``site_dir`` with :func:`site_config`, written
    beside ``docs_src``."""
    config = docs_src.parent / "mkdocs.yml"
    config.write_text(json.dumps(site_config(docs_src, site_dir, modules), ensure_ascii=False, indent=1) + "\n",
                      encoding="utf-8")
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # mkdocs-material's banner about its successor
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--config-file", str(config)],
                   check=True, cwd=ROOT, env=environment)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the documentation site with mkdocs (strict).")
    parser.add_argument("--lab-report", type=Path, default=ROOT / "lab-report",
                        help="the lab's output folder (results.json, report.html, figures/)")
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build",
                        help="where the generated sources go (docs-src/) with their mkdocs.yml")
    parser.add_argument("--site", type=Path, default=ROOT / "site", help="the built site")
    parser.add_argument("--no-execute", action="store_true",
                        help="render the tutorial notebooks without running them")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    modules = public_modules()
    try:
        docs_src = prepare_sources(args.build_dir / "docs-src", args.lab_report, modules,
                                   execute=not args.no_execute)
        build_site(docs_src, args.site, modules)
    except (FileNotFoundError, LookupError, ValueError) as exc:  # what a page or the lab run lacks
        print(exc, file=sys.stderr)
        return 1
    except subprocess.CalledProcessError:
        print("docs: mkdocs build --strict failed; its warnings above name each broken link, anchor or page",
              file=sys.stderr)
        return 1
    missing = missing_from_reference(documented_names(args.site), modules)
    if missing:
        print("docs: the API reference lacks public names: " + "; ".join(
            f"{module}: {', '.join(names)}" for module, names in missing.items()), file=sys.stderr)
        return 1
    print(f"docs: built {args.site} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
