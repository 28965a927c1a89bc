"""The textbook map: every section of every seed, the modules that cite it, the experiments that check it.

``write_pages(results_json, out_dir)`` writes ``textbook-map.md`` (English) and ``textbook-map.ja.md``
(Japanese) for the documentation site (``make docs`` calls it; ``fukaku lab map`` writes them beside a lab
report, with ``report_url="report.html"`` and no link to the site's table of seeds). Each experiment links
to its section of the lab report, ``{report_url}#exp-<id>``. Nothing on the pages is typed by hand except
the section list itself:

- **sections**: parsed from ``docs/seeds.md``, the canonical table of the seeds and their sections
  (:func:`parse_seeds`; ``tests/test_docs.py`` checks the code's citations against the same parse). Seed 003
  has no numbered sections: its topics are its rows. The Japanese page titles each section with the
  seed's own heading (:data:`SECTION_TITLES_JA`, the one hand-typed list, checked against the table);
- **modules**: every module of fukaku whose text cites the section as "seed NNN §x" / "seed NNN ch. N"
  (:func:`scan_citations`). Private modules (``fukaku.models.classical._descent``) are left out, as are
  the lab's own: their citations are examples, and the experiments have their own column;
- **experiments**: every registered lab experiment whose ``source`` cites the section;
- **verdicts**: the status of each experiment in a lab ``results.json`` (what ``fukaku lab run`` writes),
  "not run" for an experiment the file does not include or when no file is given.

How a citation finds its row. A citation counts once, at the deepest row of the table that contains it:
"seed 000 §6.1.2" at row 6.1.2, "seed 004 §3.6.1" (a sub-section the table names inside row 3.6) at
row 3.6, "seed 002 ch. 3 §3.5" at ch. 3, "seed 004 §3.4.2" at row 3.4.2 (not also at its parent 3.4,
which the page shows just above it). A citation broader than every row — "seed 000 §6.1", "seed 004 §3",
or a seed named alone — counts for the seed as a whole and is listed under the seed's heading. Seed 003
is cited by topic ("seed 003 (softmax demo)"): a citation of it counts for each topic whose terms (the
comma-separated phrases of the topic in ``docs/seeds.md``, e.g. "softmax", "learning-rate schedules")
appear, every word of the term, in the citation's context: the line of code it stands on, or an
experiment's source label and title.

Anchors. Each seed heading has the anchor ``seed-NNN`` and each section ``seed-NNN-<label>`` (dots as
dashes: ``seed-000-6-1-3``, ``seed-002-ch-3``; a seed-003 topic by its first words:
``seed-003-gradient-descent-sgd``). :func:`anchor_for` gives the anchor for a source label, so the
lab report links "seed 000 §6.1.3" to ``<map>#seed-000-6-1-3``. Headings carry their anchors as
``{#id}`` attributes: the site needs Markdown's ``attr_list`` extension.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .._atomic import atomic_write

__all__ = ["write_pages", "anchor_for", "build_map", "render_page", "parse_seeds", "section_labels", "scan_citations",
           "rows_cited", "Seed", "Section", "Citation", "Entry", "TextbookMap", "CITATION", "SECTION_TITLES_JA",
           "SEED_TITLES_JA", "VERDICTS", "SEEDS_DOC", "REPORT_PAGE", "SEEDS_PAGE"]

PACKAGE_DIR = Path(__file__).resolve().parents[1]
SEEDS_DOC = PACKAGE_DIR.parent / "docs" / "seeds.md"
REPORT_PAGE = "lab/report.html"  # the lab report inside the site, relative to the site root (and to the map)
SEEDS_PAGE = "seeds.md"  # the table of seeds inside the site, beside the map

# "seed 000 §6.1.2", "seeds 000 §6.1.1–6.1.4", "seed 002 ch. 2", "seed 002 ch.5", "seed 004 §3"
CITATION = re.compile(r"\bseeds? (\d{3})(?:-\d{3})?(?: (§|ch\. ?)(\d+(?:\.\d+)*))?")

# The Japanese heading of each section, as the seed itself words it (seed 002's chapters are in the
# table already; seed 003's topics follow the notes' headings). Keys are (seed, label) as parse_seeds gives.
SECTION_TITLES_JA: dict[tuple[str, str], str] = {
    ("000", "6.1.1"): "単一ニューロンモデルと線形識別の関係",
    ("000", "6.1.2"): "多層パーセプトロンと誤差逆伝播法",
    ("000", "6.1.3"): "活性化関数と勾配消失・爆発問題",
    ("000", "6.1.4"): "深層学習における標準的な構成要素（テクニック）: ドロップアウト、正規化、残差接続、Weight Decay、早期終了",
    ("000", "6.1.5"): "ボルツマンマシンと深層学習における役割（RBM、DBN）",
    ("000", "6.1.6"): "連想記憶モデル（甘利–ホップフィールド）と通信理論（CDMA）との関連",
    ("000", "6.1.7"): "Elman ネットワークから LSTM への発展と現在の位置づけ（LSTM、GRU）",
    ("000", "6.1.8"): "Neural Tangent Kernel (NTK) とその役割",
    ("000", "6.1.9"): "二重降下現象とその数理的理解",
    ("000", "6.2"): "畳み込みニューラルネットワーク（Neocognitron、AlexNet、U-Net、ResNet、膨張畳み込み、MobileNet）",
    ("000", "6.3"): "Attention の原理と CNN から Transformer への発展",
    ("000", "6.4"): "Transformer を用いた大規模言語モデルの構成法: BERT と GPT、トークン",
    ("000", "6.5"): "生成 AI の全体像と生成モデルの分類（VAE、GAN、VAE-GAN、拡散モデル、フローモデル、CLIP と CCA）",
    ("001", "9.1"): "深層学習とは",
    ("001", "9.2"): "畳み込みニューラルネットワーク（畳み込み、プーリング、正規化、スキップ接続）",
    ("001", "9.3"): "リカレントニューラルネットワーク（打ち切り BPTT、LSTM、双方向、エンコーダ・デコーダ、アテンション）",
    ("001", "9.4"): "Transformer（セルフアテンション、位置の表現、デコーダ）と基盤モデル（BERT、GPT、T5）",
    ("003", "machine-learning basics"): "機械学習の基礎",
    ("003", "linear regression and loss functions (MAE vs MSE)"): "線形回帰と損失関数（MAE と MSE）",
    ("003", "gradient descent and SGD (learning-rate schedules)"):
        "勾配降下法と確率的勾配降下法（SGD）、学習率のスケジュール",
    ("003", "neural networks (computational graphs, the Playground exercise, activations, softmax, "
            "backpropagation, vanishing gradients)"):
        "ニューラルネットワーク（計算グラフ、演習「NN を動かしてみよう」、活性化関数、softmax 関数、誤差逆伝播法、"
        "勾配消失問題）",
    ("003", "self-supervised learning and word2vec"): "自己教師あり学習と単語ベクトル（word2vec）",
    ("003", "subwords, ReLU, layer normalisation, residual networks"):
        "ディープラーニングの進展と主要技術（サブワード分割による OOV 対策、ReLU、Layer Normalization、Residual network）",
    ("004", "3.1"): "はじめに",
    ("004", "3.2"): "深層順伝播型ネットワーク（ネットワークの構成、活性化関数 3.2.2、出力層と損失関数）",
    ("004", "3.3"): "畳み込みニューラルネットワーク（畳み込み演算、検出層、プーリング層、CNN フレームワークの全体像 3.3.5）",
    ("004", "3.4"): "リカレントニューラルネットワーク",
    ("004", "3.4.1"): "伝統的な RNN の構成",
    ("004", "3.4.2"): "LSTM（入力の行列 W と再帰の行列 U）",
    ("004", "3.4.3"): "GRU（更新ゲートとリセットゲート）",
    ("004", "3.5"): "オートエンコーダー（不完全オートエンコーダー、正則化オートエンコーダー）",
    ("004", "3.6"): "深層ニューラルネットワークの学習（勾配降下法 3.6.1、逆伝播法 3.6.2、過学習の抑制 3.6.3）",
    ("004", "3.7"): "本章のまとめ",
}

# A seed whose title in the table has no Japanese part: its cover's wording.
SEED_TITLES_JA = {"002": "京都大学人工知能研究会 KaiRA 会誌（2019）— 深層学習、偏微分、統計力学"}

# How each verdict of results.json reads on the page, by language; an experiment the results lack is "not run".
NOT_RUN = "not run"
# marks every text font has (DejaVu, Noto): colour-emoji marks showed as empty boxes without an emoji font
VERDICTS = {
    "en": {"holds": "✓ holds", "does not hold": "✗ does not hold", "error": "⚠ error", NOT_RUN: "— not run"},
    "ja": {"holds": "✓ 成立", "does not hold": "✗ 不成立", "error": "⚠ エラー", NOT_RUN: "— 未実行"},
}


@dataclass(frozen=True)
class Section:
    """One row of the map: a numbered section or chapter of a seed, or a topic of seed 003.

    ``label``: "6.1.3", "3" (a chapter of seed 002) or the topic's text (seed 003); ``sign``: how the
    seed's table heads its labels, "§" or "ch." ("" for a topic); ``topic``: what the table says the
    section covers; ``subsections``: labels the table names inside the row ("3.6.1").
    """

    seed: str
    label: str
    sign: str
    topic: str
    title_ja: str
    subsections: tuple[str, ...] = ()

    @property
    def numbered(self) -> bool:
        return bool(self.sign)

    @property
    def anchor(self) -> str:
        if not self.numbered:
            return f"seed-{self.seed}-" + "-".join(_words(self.label.split("(")[0], stem=False))
        return f"seed-{self.seed}-{'ch-' if self.sign == 'ch.' else ''}{self.label.replace('.', '-')}"

    def terms(self) -> list[set[str]]:
        """A seed-003 topic's terms, each a set of words that must all appear for a citation to match:
        "gradient descent and SGD (learning-rate schedules)" -> {gradient, descent}, {sgd},
        {learning, rate, schedule}."""
        phrases = re.split(r"[,;()]| and | vs ", self.label)
        return [words for words in (set(_words(p)) for p in phrases) if words]


@dataclass(frozen=True)
class Seed:
    """A seed of ``docs/seeds.md``: its number, its title (as the table gives it) and its rows."""

    number: str
    title: str
    sections: tuple[Section, ...]

    @property
    def anchor(self) -> str:
        return f"seed-{self.number}"

    @property
    def title_ja(self) -> str:
        """The Japanese part of the title ("第6章 ニューラルネットワーク"), else its cover's (SEED_TITLES_JA)."""
        original = self.title.split(" — ")[0]
        return original if _has_japanese(original) else SEED_TITLES_JA.get(self.number, self.title)


@dataclass
class Entry:
    """What the map lists for one row (or for a seed as a whole): citing modules and experiments."""

    modules: set[str] = field(default_factory=set)
    experiments: dict[str, str] = field(default_factory=dict)  # id -> title, in registry order


# ----------------------------------------------------------------------------------------- the sections
def parse_seeds(path: str | Path = SEEDS_DOC) -> dict[str, Seed]:
    """The seeds and their sections, as the table of ``docs/seeds.md`` lists them, by seed number.

    A numbered seed's rows are its table's rows (``| 6.1.3 | topic | ... |``); sub-sections that a row
    names in parentheses ("(3.6.1)") are that row's ``subsections``. Seed 003's rows are the topics of its
    paragraph, separated by semicolons.

    Raises:
        FileNotFoundError: when the table is not there (``docs/`` is beside the package in a checkout,
            not in an installed wheel).
        ValueError: when a seed, a table or a Japanese title is missing: the table's layout changed.
    """
    return _parse_seeds(Path(path).resolve())


@lru_cache(maxsize=4)
def _parse_seeds(path: Path) -> dict[str, Seed]:
    if not path.is_file():
        raise FileNotFoundError(f"textbook map: the table of seeds {str(path)!r} is missing; it is docs/seeds.md "
                                "of a checkout of fukaku")
    text = path.read_text(encoding="utf-8")
    titles = dict(re.findall(r"^\| (\d{3}) \| ([^|]+?) \|", text, re.M))
    seeds = {}
    for block in re.split(r"^\*\*Seed ", text, flags=re.M)[1:]:
        number = block[:3]
        header = re.search(r"^\| *(§|ch\.) *\|(.+)\|$", block, re.M)
        if header is None:  # seed 003: "(no numbered sections; cited as seed 003 with the topic): ..."
            sections = _topics(number, block)
        else:
            columns = [c.strip() for c in header.group(2).split("|")]
            sections = tuple(_row(number, label, header.group(1), [c.strip() for c in cells.split("|")], columns)
                             for label, cells in re.findall(r"^\| (\d+(?:\.\d+)*) \|(.+)\|$", block, re.M))
        if number not in titles or not sections:
            raise ValueError(f"textbook map: seed {number} in {path} has no title in the first table or no sections")
        seeds[number] = Seed(number, titles[number].strip(), sections)
    if not seeds:
        raise ValueError(f"textbook map: {path} lists no seeds (blocks starting **Seed NNN)")
    return seeds


def _row(seed: str, label: str, sign: str, cells: list[str], columns: list[str]) -> Section:
    values = dict(zip(columns, cells))
    topic = values.get("topic", "")
    if "title" in values:  # seed 002: "深層学習入門 — introduction to deep learning" then the topic
        topic = f"{values['title']}: {topic}"
    title_ja = SECTION_TITLES_JA.get((seed, label)) or values.get("title", "").split(" — ")[0]
    if not _has_japanese(title_ja):
        raise ValueError(f"textbook map: section {label} of seed {seed} has no Japanese title; add it to "
                         "SECTION_TITLES_JA in fukaku/lab/textbook_map.py")
    return Section(seed, label, sign, topic, title_ja, tuple(re.findall(r"\((\d+(?:\.\d+)+)\)", topic)))


def _topics(seed: str, block: str) -> tuple[Section, ...]:
    """A seed without a table (seed 003): its topics are the paragraph after "(no numbered sections;
    ...):", split at semicolons that are not inside parentheses."""
    paragraph = " ".join(block.split("\n\n")[0].split())
    if "):" not in paragraph:
        raise ValueError(f"textbook map: seed {seed} in docs/seeds.md has neither a table of sections nor a "
                         "list of topics after '(no numbered sections; ...):'")
    listing = paragraph.split("):", 1)[1].strip().rstrip(".")
    topics, depth, start = [], 0, 0
    for i, char in enumerate(listing + ";"):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == ";" and depth == 0:
            topics.append(listing[start:i].strip())
            start = i + 1
    missing = [t for t in topics if (seed, t) not in SECTION_TITLES_JA]
    if missing:
        raise ValueError(f"textbook map: seed {seed}'s topic(s) {missing} have no Japanese title; add them to "
                         "SECTION_TITLES_JA in fukaku/lab/textbook_map.py")
    return tuple(Section(seed, t, "", t, SECTION_TITLES_JA[(seed, t)]) for t in topics)


def section_labels(seeds: dict[str, Seed] | None = None) -> dict[str, set[str]]:
    """Seed number -> every label a citation may name: the rows and the sub-sections named in them."""
    seeds = parse_seeds() if seeds is None else seeds
    return {number: {label for s in seed.sections for label in (s.label, *s.subsections)}
            for number, seed in seeds.items()}


# ----------------------------------------------------------------------------------- citations to rows
@dataclass(frozen=True)
class Citation:
    """A "seed NNN §x" in the code: where (``path:line``), its text, seed, label (None: the seed alone)
    and the line it stands on."""

    where: str
    text: str
    seed: str
    label: str | None
    line: str


def scan_citations(package_dir: str | Path = PACKAGE_DIR) -> list[Citation]:
    """Every seed citation in the ``*.py`` files under ``package_dir``, in file and line order."""
    package_dir = Path(package_dir)
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        where = path.relative_to(package_dir.parent)
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found.extend(Citation(f"{where}:{lineno}", m.group(0), m.group(1), m.group(3), line)
                         for m in CITATION.finditer(line))
    return found


def rows_cited(seed: str, label: str | None, context: str, seeds: dict[str, Seed]) -> list[Section]:
    """The rows a citation counts for (see the module docstring): the deepest numbered row containing
    ``label``, or the seed-003 topics whose terms all appear in ``context``. Empty for a citation of
    the seed as a whole, or of a seed or section the table does not list."""
    if seed not in seeds:
        return []
    sections = seeds[seed].sections
    if not sections[0].numbered:
        words = set(_words(context))
        return [s for s in sections if any(term <= words for term in s.terms())]
    if label is None:
        return []
    containing = [s for s in sections if label == s.label or label.startswith(s.label + ".")]
    return [max(containing, key=lambda s: len(s.label.split(".")))] if containing else []


def anchor_for(source: str) -> str | None:
    """The map's anchor for a source label: its first citation's row, else its first seed's heading.

    ``anchor_for("seed 000 §6.1.3")`` is ``"seed-000-6-1-3"``; ``"seed 002 ch. 3 §3.5"`` gives
    ``"seed-002-ch-3"``; ``"seed 003 (softmax demo)"`` gives seed 003's topic that names softmax;
    ``"seed 004 §3"`` (broader than any row) gives the seed's heading, ``"seed-004"``. None when the
    label cites no seed of the table, or when the table (``docs/seeds.md``) is not there.
    """
    try:
        seeds = parse_seeds()
    except FileNotFoundError:
        return None
    citations = [m for m in CITATION.finditer(source) if m.group(1) in seeds]
    for match in citations:
        rows = rows_cited(match.group(1), match.group(3), source, seeds)
        if rows:
            return rows[0].anchor
    return seeds[citations[0].group(1)].anchor if citations else None


# ---------------------------------------------------------------------------------------- the map data
@dataclass
class TextbookMap:
    """The map's content: per seed, what cites it as a whole; per row, what cites the row."""

    seeds: dict[str, Seed]
    by_seed: dict[str, Entry]
    by_section: dict[Section, Entry]
    verdicts: dict[str, str]
    run: dict  # the results' "created" and "quick" (empty when no results were given)


def build_map(results_json: str | Path | None = None, *, seeds: dict[str, Seed] | None = None,
              citations: Sequence[Citation] | None = None, experiments: Iterable | None = None) -> TextbookMap:
    """Collect the map from the table, the code's citations, the registry and a lab results file.

    Args:
        results_json: a ``results.json`` of ``fukaku lab run`` (its verdicts are shown), or None.
        seeds, citations, experiments: the table, the citations and the experiments (objects with
            ``id``, ``title``, ``source``) to use instead of the repository's own (for tests).

    Raises:
        FileNotFoundError: when ``results_json`` is given and missing.
        ValueError: when it is not a results file of the lab.
    """
    from .registry import discover

    seeds = parse_seeds() if seeds is None else seeds
    citations = scan_citations() if citations is None else citations
    experiments = discover().values() if experiments is None else experiments
    by_seed = {number: Entry() for number in seeds}
    by_section = {s: Entry() for seed in seeds.values() for s in seed.sections}
    for c in citations:
        module = _module_name(c.where)
        if module == "fukaku.lab" or module.startswith("fukaku.lab.") or "._" in module:
            continue
        for entry in _entries(c.seed, c.label, c.line, seeds, by_seed, by_section):
            entry.modules.add(module)
    for exp in experiments:
        for match in CITATION.finditer(exp.source):
            for entry in _entries(match.group(1), match.group(3), f"{exp.source} {exp.title}", seeds, by_seed,
                                  by_section):
                entry.experiments[exp.id] = exp.title
    verdicts, run = _read_results(results_json)
    return TextbookMap(seeds, by_seed, by_section, verdicts, run)


def _entries(seed: str, label: str | None, context: str, seeds: dict[str, Seed], by_seed: dict[str, Entry],
             by_section: dict[Section, Entry]) -> list[Entry]:
    rows = rows_cited(seed, label, context, seeds)
    if rows:
        return [by_section[s] for s in rows]
    return [by_seed[seed]] if seed in by_seed else []


def _module_name(where: str) -> str:
    """"fukaku/ops/conv.py:12" -> "fukaku.ops.conv"; a package's ``__init__.py`` -> the package."""
    parts = Path(where.rsplit(":", 1)[0]).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _read_results(results_json: str | Path | None) -> tuple[dict[str, str], dict]:
    if results_json is None:
        return {}, {}
    path = Path(results_json)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        verdicts = {str(e["id"]): str(e["status"]) for e in record["experiments"]}
    except FileNotFoundError:
        raise FileNotFoundError(f"textbook map: the lab results {str(path)!r} are missing; run "
                                "`fukaku lab run --all --quick` to write them, or build the map without verdicts "
                                "(results_json=None; `fukaku lab map` without --results)") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"textbook map: {str(path)!r} is not a lab results.json (an object with an "
                         f"'experiments' list of {{'id', 'status', ...}}): {type(exc).__name__}: {exc}") from None
    unknown = sorted(set(verdicts.values()) - set(VERDICTS["en"]))
    if unknown:
        raise ValueError(f"textbook map: {str(path)!r} has unknown status(es) {unknown}; expected one of "
                         f"{sorted(set(VERDICTS['en']) - {NOT_RUN})}")
    return verdicts, {key: record.get(key) for key in ("created", "quick")}


# ------------------------------------------------------------------------------------------- the pages
_TEXT = {
    "en": {
        "title": "Textbook map",
        "intro": "Every section of the five textbook chapters (the seeds: {seeds}), "
                 "the fukaku modules whose docstrings cite it, and the lab experiments that check its claims "
                 "with the verdict of the latest lab run.",
        "generated": "Generated by `fukaku.lab.textbook_map` from docs/seeds.md, the citations in the code and "
                     "the lab's results.json; a citation counts at the deepest section that contains it.",
        "run": "Latest lab run: {created}{quick}. {holds} of {listed} experiments on this page hold, "
               "{failed} do not hold, {errors} raised an error, {not_run} were not run.",
        "quick": " (quick mode)",
        "no_run": "No lab results were given: every experiment shows “not run”. "
                  "`fukaku lab run --all --quick` writes them.",
        "seed": "Seed {number}",
        "whole": "Cited as a whole (or by a part broader than one section)",
        "modules": "Modules",
        "experiments": "Experiments",
        "none": "none yet",
        "header": "| experiment | verdict |",
        "seeds": "the table of seeds",
    },
    "ja": {
        "title": "教科書マップ",
        "intro": "五つの教科書（シード: {seeds}）のすべての節について、その節を docstring で"
                 "引用している fukaku のモジュールと、その節の主張を検証するラボの実験、そして最新の実行結果"
                 "（判定）を示します。",
        "generated": "docs/seeds.md、コード中の引用、ラボの results.json から `fukaku.lab.textbook_map` が"
                     "生成したページです。引用は、それを含む最も深い節に数えます。",
        "run": "最新のラボ実行: {created}{quick}。このページの実験 {listed} 件のうち、成立 {holds} 件、"
               "不成立 {failed} 件、エラー {errors} 件、未実行 {not_run} 件。",
        "quick": "（クイックモード）",
        "no_run": "ラボの結果が与えられていないため、すべての実験が「未実行」です。"
                  "`fukaku lab run --all --quick` で結果を書き出せます。",
        "seed": "シード {number}",
        "whole": "シード全体（または一つの節より広い範囲）としての引用",
        "modules": "モジュール",
        "experiments": "実験",
        "none": "まだありません",
        "header": "| 実験 | 判定 |",
        "seeds": "シードの一覧",
    },
}


def render_page(tmap: TextbookMap, lang: str, *, report_url: str = REPORT_PAGE,
                seeds_url: str | None = SEEDS_PAGE) -> str:
    """The map as Markdown in ``lang`` ("en" or "ja").

    Args:
        tmap: what :func:`build_map` collected.
        lang: "en" or "ja".
        report_url: the lab report, relative to the page: each experiment links to ``{report_url}#exp-<id>``
            (the site's ``lab/report.html`` by default; ``report.html`` for a map written beside a report).
        seeds_url: the table of seeds (the site's ``seeds.md``), or None to name it without a link (a map
            outside the site has no table beside it).
    """
    if lang not in _TEXT:
        raise ValueError(f"textbook map: lang must be one of {sorted(_TEXT)}, got {lang!r}")
    text = _TEXT[lang]
    listed = {i for e in [*tmap.by_seed.values(), *tmap.by_section.values()] for i in e.experiments}
    seeds = f"[{text['seeds']}]({seeds_url})" if seeds_url is not None else f"{text['seeds']}, docs/seeds.md"
    lines = [f"# {text['title']}", "", text["intro"].format(seeds=seeds), "", f"*{text['generated']}*", ""]
    if tmap.run:
        statuses = [tmap.verdicts.get(i, NOT_RUN) for i in listed]
        lines += [text["run"].format(created=tmap.run.get("created") or "?",
                                     quick=text["quick"] if tmap.run.get("quick") else "", listed=len(listed),
                                     holds=statuses.count("holds"), failed=statuses.count("does not hold"),
                                     errors=statuses.count("error"), not_run=statuses.count(NOT_RUN)), ""]
    else:
        lines += [text["no_run"], ""]
    for number, seed in tmap.seeds.items():
        title = seed.title_ja if lang == "ja" else seed.title
        lines += [f"## {text['seed'].format(number=number)} — {title} {{#{seed.anchor}}}", ""]
        whole = tmap.by_seed[number]
        if whole.modules or whole.experiments:
            lines += [f"**{text['whole']}**", "", *_entry(whole, tmap.verdicts, lang, report_url)]
        for section in seed.sections:
            depth = "####" if section.numbered and any(section.label.startswith(s.label + ".")
                                                       for s in seed.sections) else "###"
            heading = _section_heading(section, lang)
            lines += [f"{depth} {heading} {{#{section.anchor}}}", "",
                      *_entry(tmap.by_section[section], tmap.verdicts, lang, report_url)]
    return "\n".join(lines).rstrip() + "\n"


def _section_heading(section: Section, lang: str) -> str:
    name = section.title_ja if lang == "ja" else section.topic
    if not section.numbered:
        return name
    if section.sign == "ch.":
        return f"第{section.label}章 {name}" if lang == "ja" else f"ch. {section.label} {name}"
    return f"§{section.label} {name}"


def _entry(entry: Entry, verdicts: dict[str, str], lang: str, report_url: str) -> list[str]:
    text = _TEXT[lang]
    modules = ", ".join(f"`{m}`" for m in sorted(entry.modules)) or f"*{text['none']}*"
    lines = [f"**{text['modules']}:** {modules}", ""]
    if not entry.experiments:
        return lines + [f"**{text['experiments']}:** *{text['none']}*", ""]
    lines += [f"**{text['experiments']}:**", "", text["header"], "|---|---|"]
    for exp_id, title in entry.experiments.items():
        title = _japanese_title(exp_id, title) if lang == "ja" else title
        verdict = VERDICTS[lang][verdicts.get(exp_id, NOT_RUN)]
        lines.append(f"| [{_escape(title)}]({report_url}#exp-{exp_id}) `{exp_id}` | {verdict} |")
    return lines + [""]


def _japanese_title(exp_id: str, title: str) -> str:
    """The Japanese title of an experiment (:func:`fukaku.lab.claims_ja.claim_ja`); the English one if the
    catalogue has none."""
    from .claims_ja import claim_ja

    try:
        return claim_ja(exp_id)[0]
    except KeyError:
        return title


def write_pages(results_json: Path | None, out_dir: Path, *, report_url: str = REPORT_PAGE,
                seeds_url: str | None = SEEDS_PAGE) -> list[Path]:
    """Write ``textbook-map.md`` and ``textbook-map.ja.md`` into ``out_dir``, both or neither.

    Both pages are rendered first, then written, each to a temporary file that replaces its page only when
    both are complete: a failure leaves both old pages as they were.

    Args:
        results_json: the lab's ``results.json`` whose verdicts the map shows; None: every experiment
            "not run".
        out_dir: an existing directory (the docs source the site is built from).
        report_url, seeds_url: where the pages link the lab report and the table of seeds
            (:func:`render_page`); the defaults are the site's.

    Returns:
        The two paths written, English first.

    Examples:
        >>> write_pages(Path("lab-report/results.json"), Path("build/docs-src"))  # doctest: +SKIP
        [PosixPath('build/docs-src/textbook-map.md'), PosixPath('build/docs-src/textbook-map.ja.md')]
    """
    tmap = build_map(results_json)
    pages = {Path(out_dir) / name: render_page(tmap, lang, report_url=report_url, seeds_url=seeds_url)
             for lang, name in (("en", "textbook-map.md"), ("ja", "textbook-map.ja.md"))}
    with ExitStack() as stack:  # every page written before any replaces its old one
        for path, page in pages.items():
            stack.enter_context(atomic_write(path, "w", op="textbook map")).write(page)
    return list(pages)


# ------------------------------------------------------------------------------------------------ words
def _words(text: str, *, stem: bool = True) -> list[str]:
    """Lower-case words of ``text`` without filler words; ``stem``: a plural's final s dropped and
    -ization spelled -isation, so "computational graphs" matches "computational graph"."""
    words = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in {"the", "and", "vs", "of", "a"}]
    if stem:
        words = [w.replace("ization", "isation") for w in words]
        words = [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words]
    return words


def _escape(text: str) -> str:
    """Text for a Markdown table cell: a pipe would end the cell."""
    return text.replace("|", "\\|")


def _has_japanese(text: str) -> bool:
    return bool(re.search(r"[\u3040-\u30ff\u3400-\u9fff]", text))
