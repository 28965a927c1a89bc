"""The lab report: ``DIR/results.json`` (machine-readable) and ``DIR/report.html`` (for a reader).

Both are rendered from the same data, :meth:`LabRun.to_dict`. Each experiment's section lists its checks
(what was compared with the claim, the measured value, the claim's value, and whether it holds) above the
measured values; the summary table counts the checks that hold and names those that fail.

The page is meant to be read, on a desktop or a phone:

- **measured values as tables**: single numbers, words and short rows in one name/value table; every dict
  or nested list in a table of its own under its name: a dict of records (dicts of numbers) or a list of
  records as a table with a header, a dict or list of number lists as a grid. Rows stop after 12 cells and
  tables after 12 rows, with a "… N more" note. Numbers are right-aligned in tabular numerals, to 4
  significant digits (the full value shows on hover and stays in results.json); the checks show 10, the
  precision of the comparison that decided the verdict.
- **source labels link to the textbook map** when given its URL: each citation in a source ("seed 000
  §6.1.3, seed 003") links to its row of the map, ``{textbook_map_url}#{anchor}`` (anchors from
  :func:`fukaku.lab.textbook_map.anchor_for`). ``fukaku lab run`` writes the report without links (the
  default, None: no map beside it); the documentation site re-renders it from ``results.json`` with
  :data:`SITE_TEXTBOOK_MAP_URL` and :data:`SITE_TEXTBOOK_MAP_URL_JA`, where the site puts the maps relative
  to ``lab/report.html``. When the map's table (``docs/seeds.md``) cannot be read, the labels stay
  unlinked with a warning: a report is never lost to its links.
- **English and Japanese titles and claims**: a switch at the top shows the titles and claims in English
  (the default) or in Japanese (:func:`fukaku.lab.claims_ja.claim_ja`; an experiment without a
  translation keeps its English). The switch is two radio buttons and CSS — the page has no script — so
  the choice lasts while the page is open; every text carries its ``lang`` attribute, and the source links
  lead to the map in the language shown.
- **narrow screens** (below 40rem): the summary keeps its verdict, experiment and result columns and hides
  the others, a check takes two lines, rows of numbers wrap; a table still too wide scrolls inside its own
  box instead of widening the page; figures scale to the width and open at full size when tapped.

The page is self-contained (inline style, no scripts, no network); figures are ``<img>`` tags with paths
relative to ``DIR``, so the folder can be moved or zipped as a whole. Every piece of text is HTML-escaped.
Both files are rendered before either is written, and each is written atomically: a failure leaves the
previous report whole.
"""
from __future__ import annotations

import json
import math
import re
import struct
import warnings
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from .._atomic import atomic_write

if TYPE_CHECKING:
    from .runner import LabRun

# where the documentation site puts the textbook maps, relative to its copy of the report (lab/report.html)
SITE_TEXTBOOK_MAP_URL = "../textbook-map/"
SITE_TEXTBOOK_MAP_URL_JA = "../ja/textbook-map/"
_SIGNIFICANT_DIGITS = 4
_MAX_ITEMS = 12  # cells of a row of numbers, items of a text list
_MAX_ROWS = 12  # rows of a nested table
_MAX_DEPTH = 4  # deeper nesting is shown as text (format_value)
_NON_FINITE = {"nan", "inf", "-inf"}  # how results.json spells non-finite floats

_STYLE = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK JP", "Hiragino Sans",
       sans-serif; margin: 0; color: #1d1d1f; line-height: 1.5; }
.page { max-width: 64rem; margin: 0 auto; padding: 1rem; }
h1 { margin: .5rem 0 .2rem; font-size: 1.8rem; } h2 { font-size: 1.3rem; margin: .4rem 0; }
.meta { color: #555; margin-top: 0; overflow-wrap: anywhere; }
a { color: #2b4fc7; }
.table-scroll { overflow-x: auto; max-width: 100%; margin: .6rem 0 1rem; }
table { border-collapse: collapse; }
th, td { border-bottom: 1px solid #ddd; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f4f4f6; font-weight: 600; } th[scope="row"] { background: none; font-weight: 500; }
td, th { overflow-wrap: break-word; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.text { white-space: pre-wrap; }
.more, .empty { color: #666; font-style: italic; white-space: nowrap; }
table.nested { margin: 0; font-size: .9rem; }
table.nested th, table.nested td { padding: .15rem .45rem; border-bottom-color: #eee; }
table.nested th { background: #f8f8fa; }
figure.value { margin: .6rem 0 1rem; } figure.value > figcaption { font-weight: 600; }
figure.value > .table-scroll { margin: .2rem 0 0; }
.badge { display: inline-block; padding: .1rem .55rem; border-radius: .8rem; font-weight: 600; font-size: .85rem;
         white-space: nowrap; }
.holds { background: #d6f5dd; color: #11632a; } .does-not-hold { background: #fbd9d9; color: #8c1616; }
.error { background: #ffe8c2; color: #7a4a00; }
section { border-top: 2px solid #e5e5ea; margin-top: 2rem; padding-top: .5rem; }
.claim { background: #f7f7fa; border-left: 4px solid #8e8ee0; padding: .4rem .8rem; }
.source { color: #555; overflow-wrap: anywhere; }
figure { margin: .8rem 0; } figure img { display: block; max-width: 100%; height: auto; border: 1px solid #eee; }
pre { background: #f7f7fa; padding: .6rem; overflow-x: auto; font-size: .85rem; }
code { overflow-wrap: anywhere; }
.note { color: #7a4a00; }
.language-choice { position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden;
                   clip-path: inset(50%); }
.language-switch { display: flex; flex-wrap: wrap; align-items: center; gap: .4rem; margin: .4rem 0; }
.language-switch label { border: 1px solid #8e8ee0; border-radius: 1rem; padding: .1rem .8rem; cursor: pointer; }
#claims-en:checked ~ .page label[for="claims-en"], #claims-ja:checked ~ .page label[for="claims-ja"] {
    background: #8e8ee0; color: #fff; }
#claims-en:focus-visible ~ .page label[for="claims-en"], #claims-ja:focus-visible ~ .page label[for="claims-ja"] {
    outline: 2px solid #2b4fc7; outline-offset: 2px; }
#claims-en:checked ~ .page .translated[lang="ja"], #claims-ja:checked ~ .page .translated[lang="en"] {
    display: none; }
@media (max-width: 40rem) {
  .page { padding: .6rem; } h1 { font-size: 1.5rem; }
  table.summary .secondary { display: none; } table.summary { width: 100%; }
  table.summary td { overflow-wrap: anywhere; }
  th, td { padding: .25rem .4rem; }
  /* a check on two lines: verdict and name, then measured, relation, claim */
  table.checks, table.checks > tbody { display: block; }
  table.checks > tbody > tr { display: flex; flex-wrap: wrap; align-items: baseline; column-gap: .3rem;
                              border-bottom: 1px solid #ddd; padding: .3rem 0; }
  table.checks > tbody > tr:first-child { display: none; }
  table.checks > tbody > tr > td { border: none; padding: .1rem .2rem; }
  table.checks > tbody > tr > td:nth-child(2) { flex: 1 1 0; }
  table.checks > tbody > tr::after { content: ""; flex-basis: 100%; order: 1; }  /* the line break */
  table.checks > tbody > tr > td:nth-child(n+3) { order: 2; }
  /* a row of numbers wraps onto more lines */
  table.row, table.row > tbody, table.row > tbody > tr { display: flex; flex-wrap: wrap; }
}
"""


def write_report(lab_run: LabRun, *, textbook_map_url: str | None = None,
                 textbook_map_url_ja: str | None = None) -> tuple[Path, Path]:
    """Write ``report.html`` and ``results.json`` into ``lab_run.out_dir``; return their paths.

    Both are rendered first, then written (each atomically): a page that fails to render leaves the
    previous pair as it was, never a new ``results.json`` beside an old ``report.html``.

    Args:
        lab_run: a finished run (:func:`fukaku.lab.run` returns one).
        textbook_map_url: the English textbook map, relative to the report; None (the default: a report
            outside the documentation site has no map beside it) leaves source labels unlinked.
        textbook_map_url_ja: the Japanese map, linked while the page shows Japanese; None links the
            English one instead.
    """
    record = lab_run.to_dict()
    out = Path(lab_run.out_dir)
    json_path, html_path = out / "results.json", out / "report.html"
    results = json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    html = render_html(record, textbook_map_url=textbook_map_url, textbook_map_url_ja=textbook_map_url_ja,
                       figure_dir=out)
    _write_atomic(json_path, results)
    _write_atomic(html_path, html)
    return html_path, json_path


def render_html(record: dict, *, textbook_map_url: str | None = None, textbook_map_url_ja: str | None = None,
                figure_dir: str | Path | None = None) -> str:
    """The report page for a run record (the dict that results.json holds).

    Args:
        record: :meth:`fukaku.lab.LabRun.to_dict`, or the parsed ``results.json``.
        textbook_map_url: where source labels link (``{url}#{anchor}``), relative to the page; None (the
            default): no links. The documentation site passes :data:`SITE_TEXTBOOK_MAP_URL`.
        textbook_map_url_ja: the Japanese map, linked while the page shows Japanese; None: the English one.
        figure_dir: the folder the figure paths are relative to (the report's). When given, each PNG gets its
            display size from its pixels and resolution (a figure's text then shows at the same size in every
            figure, and the page does not jump while images load); without it, figures show at their pixel
            size, scaled down to the page's width.

    Examples:
        >>> import json
        >>> record = json.loads(open("lab-report/results.json", encoding="utf-8").read())  # doctest: +SKIP
        >>> html = render_html(record, textbook_map_url=SITE_TEXTBOOK_MAP_URL,  # doctest: +SKIP
        ...                    textbook_map_url_ja=SITE_TEXTBOOK_MAP_URL_JA)
    """
    experiments = record["experiments"]
    counts = record["counts"]
    page = _Page(textbook_map_url, textbook_map_url_ja, [e["id"] for e in experiments],
                 None if figure_dir is None else Path(figure_dir))
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>fukaku lab report</title>", f"<style>{_STYLE}</style>", "</head>", "<body>",
    ]
    if page.has_japanese:
        parts.append('<input type="radio" name="claims-language" id="claims-en" class="language-choice" checked>'
                     '<input type="radio" name="claims-language" id="claims-ja" class="language-choice">')
    parts += ['<div class="page">', "<header>", "<h1>fukaku lab report</h1>",
              f'<p class="meta">{_meta_line(record)}</p>']
    if page.has_japanese:
        parts.append('<p class="language-switch"><span>Titles and claims:</span>'
                     '<label for="claims-en" lang="en">English</label>'
                     '<label for="claims-ja" lang="ja">日本語</label></p>')
    parts += ["</header>",
              f"<p><strong>{counts['holds']} of {len(experiments)}</strong> claims hold"
              + (f"; {counts['does not hold']} do not hold" if counts["does not hold"] else "")
              + (f"; {counts['error']} experiment(s) failed to run" if counts["error"] else "") + ".</p>"]
    if not record["figures_available"]:
        parts.append('<p class="note">Figures are unavailable: matplotlib is not installed '
                     "(<code>pip install matplotlib</code>). The measurements and verdicts are complete.</p>")
    parts.append(page.summary_table(experiments))
    parts.extend(page.section(e) for e in experiments)
    parts += ["</div>", "</body>", "</html>", ""]
    return "\n".join(parts)


class _Page:
    """What the parts of one page share: the map links and the Japanese titles and claims."""

    def __init__(self, map_url: str | None, map_url_ja: str | None, exp_ids: list[str],
                 figure_dir: Path | None) -> None:
        if map_url is not None and _map_table_broken():
            map_url = None
        self.map_url, self.map_url_ja = map_url, (map_url_ja if map_url_ja is not None else map_url)
        self.figure_dir = figure_dir
        self.japanese = _japanese_claims(exp_ids)
        self.has_japanese = bool(self.japanese)

    def title(self, e: dict) -> str:
        """The experiment's title in English and, where the catalogue has it, in Japanese: the page shows one."""
        japanese = self.japanese.get(e["id"])
        if japanese is None:
            return escape(e["title"])
        return (f'<span class="translated" lang="en">{escape(e["title"])}</span>'
                f'<span class="translated" lang="ja">{escape(japanese[0])}</span>')

    def source(self, source: str) -> str:
        """The source label with each of its citations linked to the textbook map (both languages' maps
        when they differ: the page shows the link of the language it shows)."""
        if self.map_url is None:
            return escape(source)
        from .textbook_map import anchor_for

        html = []
        for text, label in _source_citations(source):
            anchor = anchor_for(label) if label is not None else None
            if anchor is None:
                html.append(escape(text))
            elif self.map_url_ja == self.map_url or not self.has_japanese:
                html.append(_link(f"{self.map_url}#{anchor}", text))
            else:
                html.append(f'<span class="translated" lang="en">{_link(f"{self.map_url}#{anchor}", text)}</span>'
                            f'<span class="translated" lang="ja">{_link(f"{self.map_url_ja}#{anchor}", text)}</span>')
        return "".join(html)

    def summary_table(self, experiments: list[dict]) -> str:
        rows = ['<div class="table-scroll"><table class="summary">',
                '<tr><th>verdict</th><th>experiment</th><th class="secondary">source</th>'
                '<th class="secondary">checks</th><th>result</th><th class="secondary">time</th></tr>']
        for e in experiments:
            failed = [c["name"] for c in e["checks"] if not c["holds"]]
            result = escape(e["headline"]) + "".join(f"<br>failed: {escape(name)}" for name in failed)
            passed = f"{sum(c['holds'] for c in e['checks'])}/{len(e['checks'])}" if e["checks"] else "–"
            rows.append(f"<tr><td>{_badge(e['status'])}</td>"
                        f'<td><a href="#{escape(_anchor(e["id"]))}">{self.title(e)}</a>'
                        f"<br><code>{escape(e['id'])}</code></td>"
                        f'<td class="secondary">{self.source(e["source"])}</td>'
                        f'<td class="num secondary">{passed}</td><td>{result}</td>'
                        f'<td class="num secondary">{e["seconds"]:.1f}&nbsp;s</td></tr>')
        rows.append("</table></div>")
        return "\n".join(rows)

    def section(self, e: dict) -> str:
        parts = [f'<section id="{escape(_anchor(e["id"]))}">',
                 f"<h2>{self.title(e)} {_badge(e['status'])}</h2>",
                 f'<p class="source"><code>{escape(e["id"])}</code> · {self.source(e["source"])} · '
                 f"{e['seconds']:.2f}&nbsp;s</p>",
                 f'<p class="claim">{self._claim(e)}</p>']
        if e["checks"]:
            parts.append('<div class="table-scroll"><table class="checks">'
                         "<tr><th>verdict</th><th>check</th><th>measured</th><th></th><th>claim</th></tr>")
            parts.extend(_check_row(c) for c in e["checks"])
            parts.append("</table></div>")
        if e["measured"]:
            parts.append(_measured_html(e["measured"]))
        parts.append(f"<p><strong>Verdict: {escape(e['status'])}.</strong> {escape(e['summary'])}</p>")
        for fig in e["figures"]:
            src = escape(quote(fig))
            size = _display_size(self.figure_dir / fig) if self.figure_dir is not None else None
            dimensions = f' width="{size[0]}" height="{size[1]}"' if size else ""
            parts.append(f'<figure><a href="{src}"><img src="{src}"{dimensions} '
                         f'alt="{escape(e["title"])}: {escape(fig)}" loading="lazy"></a></figure>')
        if e["warnings"]:
            parts.append('<p class="note">Warnings raised while it ran:</p><ul>'
                         + "".join(f"<li>{escape(w)}</li>" for w in e["warnings"]) + "</ul>")
        if e["error"]:
            parts.append(f"<pre>{escape(e['error'])}</pre>")
        parts.append("</section>")
        return "\n".join(parts)

    def _claim(self, e: dict) -> str:
        """The claim in English and, where the catalogue has it, in Japanese: the page shows one."""
        english = f"<strong>Claim.</strong> {escape(e['claim'])}"
        japanese = self.japanese.get(e["id"])
        if japanese is None:
            return english
        return (f'<span class="translated" lang="en">{english}</span>'
                f'<span class="translated" lang="ja"><strong>主張：</strong>{escape(japanese[1])}</span>')


def _map_table_broken() -> bool:
    """Whether the textbook map's table is there but does not parse (a row of ``docs/seeds.md`` without its
    Japanese title), so source labels cannot link to its rows: a warning says why they stay plain. A missing
    table (an installed wheel has no ``docs/``) is not broken: :func:`~fukaku.lab.textbook_map.anchor_for`
    finds no anchor, and the labels stay plain silently."""
    from .textbook_map import parse_seeds

    try:
        parse_seeds()
    except FileNotFoundError:
        return False
    except ValueError as exc:
        warnings.warn(f"lab report: source labels are not linked to the textbook map: {exc}", stacklevel=4)
        return True
    return False


def _japanese_claims(exp_ids: list[str]) -> dict[str, tuple[str, str]]:
    """The Japanese (title, claim) of each id the catalogue translates; ids it lacks are left out."""
    from .claims_ja import claim_ja

    found = {}
    for exp_id in exp_ids:
        try:
            title, claim = claim_ja(exp_id)
        except KeyError:
            continue
        found[exp_id] = (str(title), str(claim))
    return found


# a citation inside a source label: text up to the next comma or semicolon that is not in parentheses
_CITATION_PIECE = re.compile(r"(?:[^,;()]|\([^()]*\))+")


def _source_citations(source: str) -> list[tuple[str, str | None]]:
    """A source label cut into its pieces: ``(text, citation)`` where ``citation`` is the label to look up
    in the textbook map (None for separators). A bare "§3.5" continues the seed before it.

    Examples:
        >>> _source_citations("seed 002 ch. 3 §3.1, §3.5; LeCun et al. 1998")  # doctest: +NORMALIZE_WHITESPACE
        [('seed 002 ch. 3 §3.1', 'seed 002 ch. 3 §3.1'), (', ', None), ('§3.5', 'seed 002 ch. 3 §3.5'),
         ('; ', None), ('LeCun et al. 1998', 'LeCun et al. 1998')]
    """
    pieces: list[tuple[str, str | None]] = []
    seed_prefix = ""
    position = 0
    for match in _CITATION_PIECE.finditer(source):
        if match.start() > position:
            pieces.append((source[position:match.start()], None))
        text = match.group(0)
        lead = len(text) - len(text.lstrip())
        if lead:  # the space after a comma belongs to the separator
            pieces.append((text[:lead], None))
            text = text[lead:]
        if text.startswith("seed "):
            seed_prefix = text.split("§")[0] if "§" in text else text + " "
            citation = text
        elif text.startswith("§") and seed_prefix:
            citation = seed_prefix + text
        else:
            citation = text
        pieces.append((text, citation))
        position = match.end()
    if position < len(source):
        pieces.append((source[position:], None))
    return _merge_separators(pieces)


def _merge_separators(pieces: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    merged: list[tuple[str, str | None]] = []
    for text, citation in pieces:
        if citation is None and merged and merged[-1][1] is None:
            merged[-1] = (merged[-1][0] + text, None)
        else:
            merged.append((text, citation))
    return merged


_CSS_PX_PER_INCH = 96


def _display_size(path: Path) -> tuple[int, int] | None:
    """A PNG's size on the page in CSS px: its pixels at its resolution (``pHYs``), 96 CSS px an inch; None
    for a file that is not a readable PNG (an SVG, a missing file, a header cut off or garbled)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)  # the header chunks; the resolution comes before the image data
    except OSError:
        return None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None  # not a PNG, or one cut off inside its header
    width, height = struct.unpack(">II", head[16:24])
    if width == 0 or height == 0:  # a PNG has neither
        return None
    scale = 1.0
    position = 8
    while position + 8 <= len(head):
        length, kind = struct.unpack(">I4s", head[position:position + 8])
        if kind == b"IDAT":
            break
        if kind == b"pHYs" and position + 17 <= len(head):
            per_metre, _, unit = struct.unpack(">IIB", head[position + 8:position + 17])
            if unit == 1 and per_metre > 0:  # pixels per metre
                scale = _CSS_PX_PER_INCH / (per_metre * 0.0254)
            break
        position += 12 + length
    return round(width * scale), round(height * scale)


def _link(href: str, text: str) -> str:
    return f'<a href="{escape(href)}">{escape(text)}</a>'


def _meta_line(record: dict) -> str:
    mode = "quick" if record["quick"] else "full"
    return escape(f"{record['created']} · fukaku {record['fukaku_version']} · NumPy {record['numpy_version']} · "
                  f"Python {record['python_version']} · {mode} mode · seed {record['seed']} · "
                  f"{record['seconds']:.1f} s in all")


def _badge(status: str) -> str:
    return f'<span class="badge {escape(status.replace(" ", "-"))}">{escape(status)}</span>'


def _check_row(check: dict) -> str:
    """One check as a table row: its verdict, what it compares, and ``measured relation claim``."""
    return (f"<tr><td>{_badge('holds' if check['holds'] else 'does not hold')}</td><td>{escape(check['name'])}</td>"
            f"{_check_cell(check['measured'])}<td>{escape(check['relation'])}</td>"
            f"{_check_cell(check['expected'])}</tr>")


def _check_cell(value) -> str:
    """A compared number at the comparison's precision (10 digits); a list or dict as a nested table, whose
    numbers show 4 digits and the rest on hover."""
    if isinstance(value, (list, dict)) and value:
        return f"<td>{_value_html(value, 1)}</td>"
    return f'<td class="num">{escape(format_value(value))}</td>'


def _anchor(exp_id: str) -> str:
    return "exp-" + exp_id


# ----------------------------------------------------------------------------------------- measured values
def _measured_html(measured: dict) -> str:
    """An experiment's measured values: the single numbers, words and short rows in one name/value table,
    then each dict or nested list in a table of its own, captioned with its name (see :func:`_value_html`)."""
    simple = {k: v for k, v in measured.items() if not _is_compound(v)}
    parts = []
    if simple:
        rows = [f'<tr><th scope="row">{escape(str(k))}</th>{_cell(v, 1)}</tr>' for k, v in simple.items()]
        parts.append('<div class="table-scroll"><table class="measured"><tr><th>measured</th><th>value</th></tr>'
                     + "".join(rows) + "</table></div>")
    parts += [f'<figure class="value"><figcaption>{escape(str(k))}</figcaption>'
              f'<div class="table-scroll">{_value_html(v, 1)}</div></figure>'
              for k, v in measured.items() if _is_compound(v)]
    return "\n".join(parts)


def _is_compound(value) -> bool:
    """A dict, or a list holding lists or dicts: shown as a table of its own."""
    return bool(value) and (isinstance(value, dict) or (isinstance(value, list) and not all(map(_is_scalar, value))))


def _value_html(value, depth: int = 0) -> str:
    """A measured value as HTML: a scalar as text, a list or dict as a table.

    Dicts are key/value tables; a dict of dicts of scalars, or a list of dicts of scalars, a table with a
    header row (the union of their keys; a key a record lacks is a "–"); a list of numbers one row of
    cells; a list of number lists (or a dict of them) a grid. At most ``_MAX_ITEMS`` cells a row and
    ``_MAX_ROWS`` rows; the rest is counted in a "… N more" cell. Below ``_MAX_DEPTH`` levels the value is
    shown as text.
    """
    if isinstance(value, (dict, list)) and not value:
        return '<span class="empty">empty</span>'
    if not isinstance(value, (dict, list)):
        return _scalar_html(value)
    if depth >= _MAX_DEPTH:
        return f'<span class="text">{escape(format_value(value))}</span>'
    if isinstance(value, dict):
        return _dict_html(value, depth)
    return _list_html(value, depth)


def _dict_html(d: dict, depth: int) -> str:
    labels, values = [str(k) for k in d], list(d.values())
    columns = _record_columns(values)
    if columns is not None:  # a dict of records; the side with the shorter labels makes the columns
        records = dict(zip(labels, values))
        if sum(map(len, columns)) > sum(map(len, labels)):
            return _records_html(columns, labels, lambda row, column: records[column].get(row, _MISSING), depth)
        return _records_html(labels, columns, lambda row, column: records[row].get(column, _MISSING), depth)
    if _is_grid(values):  # a dict of number lists: one row per key
        return _grid_html(list(zip(labels, values)))
    rows = [f'<tr><th scope="row">{escape(k)}</th>{_cell(v, depth + 1)}</tr>' for k, v in zip(labels, values)]
    return _nested_table(_limited_rows(rows, len(d)))


def _list_html(items: list, depth: int) -> str:
    if all(_is_scalar(v) for v in items):
        if all(isinstance(v, str) and v not in _NON_FINITE for v in items):  # words: a list in running text
            shown = ", ".join(escape(v) for v in items[:_MAX_ITEMS])
            more = len(items) - _MAX_ITEMS
            return f'<span class="text">{shown}</span>' + (f' <span class="more">… {more} more</span>'
                                                         if more > 0 else "")
        return f'<table class="nested row"><tr>{_row_cells(items)}</tr></table>'
    columns = _record_columns(items)
    if columns is not None:  # a list of records: a table with a header
        return _records_html(None, columns, lambda row, column: items[row].get(column, _MISSING), depth,
                             rows=len(items))
    if _is_grid(items):
        return _grid_html([(None, row) for row in items])
    rows = [f"<tr>{_cell(v, depth + 1)}</tr>" for v in items]
    return _nested_table(_limited_rows(rows, len(items)))


_MISSING = object()  # a record without the column's key


def _records_html(row_labels: list[str] | None, columns: list[str], value, depth: int, rows: int = 0) -> str:
    """A table with a header: ``value(row, column)`` fills each cell; rows are labelled by ``row_labels``,
    or unlabelled (``row_labels`` None: ``rows`` rows, indexed from 0)."""
    shown_columns = columns[:_MAX_ITEMS]
    header = ("<th></th>" if row_labels is not None else "") + "".join(f"<th>{escape(c)}</th>" for c in shown_columns)
    if len(columns) > _MAX_ITEMS:
        header += f'<th class="more">… {len(columns) - _MAX_ITEMS} more</th>'
    keys = row_labels if row_labels is not None else range(rows)
    body = []
    for row in list(keys)[:_MAX_ROWS + 1]:
        cells = "".join('<td class="empty">–</td>' if (v := value(row, c)) is _MISSING else _cell(v, depth + 1)
                        for c in shown_columns)
        body.append("<tr>" + (f'<th scope="row">{escape(row)}</th>' if row_labels is not None else "") + cells
                    + "</tr>")
    return _nested_table([f"<tr>{header}</tr>"] + _limited_rows(body, len(keys)))


def _grid_html(rows: list[tuple[str | None, list]]) -> str:
    """Rows of numbers, each optionally labelled."""
    body = [("<tr>" + (f'<th scope="row">{escape(label)}</th>' if label is not None else "")
             + _row_cells(values) + "</tr>") for label, values in rows[:_MAX_ROWS + 1]]
    return _nested_table(_limited_rows(body, len(rows)))


def _row_cells(values: list) -> str:
    cells = "".join(_cell(v, 0) for v in values[:_MAX_ITEMS])
    if len(values) > _MAX_ITEMS:
        cells += f'<td class="more">… {len(values) - _MAX_ITEMS} more</td>'
    return cells


def _limited_rows(rows: list[str], total: int) -> list[str]:
    if total <= _MAX_ROWS:
        return rows
    return rows[:_MAX_ROWS] + [f'<tr><td class="more" colspan="{_MAX_ITEMS + 2}">… {total - _MAX_ROWS} more rows'
                               "</td></tr>"]


def _nested_table(rows: list[str]) -> str:
    return '<table class="nested">' + "".join(rows) + "</table>"


def _cell(value, depth: int) -> str:
    """A table cell holding ``value``: numbers right-aligned, text left, lists and dicts nested."""
    html = _value_html(value, depth)
    return f'<td class="num">{html}</td>' if _is_number(value) else f"<td>{html}</td>"


def _scalar_html(value) -> str:
    if not _is_number(value):
        return f'<span class="text">{escape(str(value))}</span>'
    short, full = _format_number(value), format_value(value)
    return escape(short) if short == full else f'<span title="{escape(full)}">{escape(short)}</span>'


def _record_columns(values: list) -> list[str] | None:
    """The union of the keys (in order of appearance) when every value is a non-empty dict of scalars, else
    None."""
    if not values or not all(isinstance(v, dict) and v and all(map(_is_scalar, v.values())) for v in values):
        return None
    return [str(k) for k in dict.fromkeys(k for v in values for k in v)]


def _is_grid(values: list) -> bool:
    return bool(values) and all(isinstance(v, list) and v and all(_is_number(x) for x in v) for v in values)


def _is_scalar(value) -> bool:
    return not isinstance(value, (list, dict))


def _is_number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)) or (isinstance(value, str)
                                                                                and value in _NON_FINITE)


def _format_number(value) -> str:
    """A number for a table: floats to ``_SIGNIFICANT_DIGITS`` significant digits (more when fewer would
    show a fraction as a whole number: 0.99996 is ``0.99996``, not ``1``), integers of five digits and more
    with thousands separators; ``"nan"``/``"inf"`` (results.json's spelling) as they are.

    Examples:
        >>> [_format_number(x) for x in (0.123456, 2.0, 1.5e-9, 0.99996, 12345, 175_181_056_000)]
        ['0.1235', '2', '1.5e-09', '0.99996', '12,345', '175,181,056,000']
    """
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if not math.isfinite(value):
        return str(value)
    for digits in range(_SIGNIFICANT_DIGITS, 11):
        text = f"{value:.{digits}g}"
        if "e" in text or "." in text or float(text) == value:
            return text
    return text


def format_value(value) -> str:
    """A measured value as short text: floats to 10 significant digits, long lists elided."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, list):
        shown = ", ".join(format_value(v) for v in value[:_MAX_ITEMS])
        more = f", … ({len(value)} items)" if len(value) > _MAX_ITEMS else ""
        return f"[{shown}{more}]"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {format_value(v)}" for k, v in value.items())
    return str(value)


def _write_atomic(path: Path, text: str) -> None:
    """A reader never sees a half-written report, and an interrupted run leaves the previous one intact."""
    with atomic_write(path, "w", op="lab report") as f:
        f.write(text)


__all__ = ["write_report", "render_html", "format_value", "SITE_TEXTBOOK_MAP_URL", "SITE_TEXTBOOK_MAP_URL_JA"]
