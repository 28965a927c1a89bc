"""The lab report: ``DIR/results.json`` (machine-readable) and ``DIR/report.html`` (for a reader).

Both are rendered from the same data, :meth:`LabRun.to_dict`. Each experiment's section lists its checks
(what was compared with the claim, the measured value, the claim's value, and whether it holds) above the
measured values; the summary table counts the checks that hold and names those that fail. The HTML page
is self-contained (inline style, no scripts, no network); figures are ``<img>`` tags with paths relative to
``DIR``, so the folder can be moved or zipped as a whole. Every piece of text is HTML-escaped. Files are
written atomically.
"""
from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from .._atomic import atomic_write

if TYPE_CHECKING:
    from .runner import LabRun

_MAX_LIST_ITEMS = 12

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #1d1d1f; line-height: 1.45; }
h1 { margin-bottom: .2rem; } .meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: .6rem 0 1rem; }
th, td { border-bottom: 1px solid #ddd; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f4f4f6; } td.num { font-variant-numeric: tabular-nums; font-family: ui-monospace, monospace; }
.badge { display: inline-block; padding: .1rem .55rem; border-radius: .8rem; font-weight: 600; font-size: .85rem;
         white-space: nowrap; }
.holds { background: #d6f5dd; color: #11632a; } .does-not-hold { background: #fbd9d9; color: #8c1616; }
.error { background: #ffe8c2; color: #7a4a00; }
section { border-top: 2px solid #e5e5ea; margin-top: 2rem; padding-top: .5rem; }
.claim { background: #f7f7fa; border-left: 4px solid #8e8ee0; padding: .4rem .8rem; }
.source { color: #555; } figure { margin: .8rem 0; } img { max-width: 100%; border: 1px solid #eee; }
pre { background: #f7f7fa; padding: .6rem; overflow-x: auto; font-size: .85rem; }
.note { color: #7a4a00; }
"""


def write_report(lab_run: LabRun) -> tuple[Path, Path]:
    """Write ``report.html`` and ``results.json`` into ``lab_run.out_dir``; return their paths."""
    record = lab_run.to_dict()
    out = Path(lab_run.out_dir)
    json_path, html_path = out / "results.json", out / "report.html"
    _write_atomic(json_path, json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    _write_atomic(html_path, render_html(record))
    return html_path, json_path


def render_html(record: dict) -> str:
    """The report page for a run record (the dict that results.json holds)."""
    experiments = record["experiments"]
    counts = record["counts"]
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>fukaku lab report</title>", f"<style>{_STYLE}</style>", "</head>", "<body>",
        "<h1>fukaku lab report</h1>",
        f'<p class="meta">{_meta_line(record)}</p>',
        f"<p><strong>{counts['holds']} of {len(experiments)}</strong> claims hold"
        + (f"; {counts['does not hold']} do not hold" if counts["does not hold"] else "")
        + (f"; {counts['error']} experiment(s) failed to run" if counts["error"] else "") + ".</p>",
    ]
    if not record["figures_available"]:
        parts.append('<p class="note">Figures are unavailable: matplotlib is not installed '
                     "(<code>pip install matplotlib</code>). The measurements and verdicts are complete.</p>")
    parts.append(_summary_table(experiments))
    parts.extend(_section(e) for e in experiments)
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def _meta_line(record: dict) -> str:
    mode = "quick" if record["quick"] else "full"
    return escape(f"{record['created']} · fukaku {record['fukaku_version']} · NumPy {record['numpy_version']} · "
                  f"Python {record['python_version']} · {mode} mode · seed {record['seed']} · "
                  f"{record['seconds']:.1f} s in all")


def _badge(status: str) -> str:
    return f'<span class="badge {escape(status.replace(" ", "-"))}">{escape(status)}</span>'


def _summary_table(experiments: list[dict]) -> str:
    rows = ["<table>", "<tr><th>verdict</th><th>experiment</th><th>source</th><th>checks</th><th>result</th>"
            "<th>time</th></tr>"]
    for e in experiments:
        failed = [c["name"] for c in e["checks"] if not c["holds"]]
        result = escape(e["headline"]) + "".join(f"<br>failed: {escape(name)}" for name in failed)
        passed = f"{sum(c['holds'] for c in e['checks'])}/{len(e['checks'])}" if e["checks"] else "–"
        rows.append(f"<tr><td>{_badge(e['status'])}</td>"
                    f'<td><a href="#{escape(_anchor(e["id"]))}">{escape(e["title"])}</a><br>'
                    f"<code>{escape(e['id'])}</code></td>"
                    f"<td>{escape(e['source'])}</td><td class=\"num\">{passed}</td><td>{result}</td>"
                    f'<td class="num">{e["seconds"]:.1f}&nbsp;s</td></tr>')
    rows.append("</table>")
    return "\n".join(rows)


def _section(e: dict) -> str:
    parts = [f'<section id="{escape(_anchor(e["id"]))}">',
             f"<h2>{escape(e['title'])} {_badge(e['status'])}</h2>",
             f'<p class="source"><code>{escape(e["id"])}</code> · {escape(e["source"])} · '
             f"{e['seconds']:.2f} s</p>",
             f'<p class="claim"><strong>Claim.</strong> {escape(e["claim"])}</p>']
    if e["checks"]:
        parts.append("<table><tr><th>verdict</th><th>check</th><th>measured</th><th></th><th>claim</th></tr>")
        parts.extend(_check_row(c) for c in e["checks"])
        parts.append("</table>")
    if e["measured"]:
        parts.append("<table><tr><th>measured</th><th>value</th></tr>")
        parts.extend(f'<tr><td>{escape(str(k))}</td><td class="num">{escape(format_value(v))}</td></tr>'
                     for k, v in e["measured"].items())
        parts.append("</table>")
    parts.append(f"<p><strong>Verdict: {escape(e['status'])}.</strong> {escape(e['summary'])}</p>")
    for fig in e["figures"]:
        parts.append(f'<figure><img src="{escape(quote(fig))}" alt="{escape(e["title"])}: {escape(fig)}" '
                     'loading="lazy">'
                     "</figure>")
    if e["warnings"]:
        parts.append('<p class="note">Warnings raised while it ran:</p><ul>'
                     + "".join(f"<li>{escape(w)}</li>" for w in e["warnings"]) + "</ul>")
    if e["error"]:
        parts.append(f"<pre>{escape(e['error'])}</pre>")
    parts.append("</section>")
    return "\n".join(parts)


def _check_row(check: dict) -> str:
    """One check as a table row: its verdict, what it compares, and ``measured relation claim``."""
    return (f"<tr><td>{_badge('holds' if check['holds'] else 'does not hold')}</td><td>{escape(check['name'])}</td>"
            f'<td class="num">{escape(format_value(check["measured"]))}</td><td>{escape(check["relation"])}</td>'
            f'<td class="num">{escape(format_value(check["expected"]))}</td></tr>')


def _anchor(exp_id: str) -> str:
    return "exp-" + exp_id


def format_value(value) -> str:
    """A measured value as short text: floats to 10 significant digits, long lists elided."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, list):
        shown = ", ".join(format_value(v) for v in value[:_MAX_LIST_ITEMS])
        more = f", … ({len(value)} items)" if len(value) > _MAX_LIST_ITEMS else ""
        return f"[{shown}{more}]"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {format_value(v)}" for k, v in value.items())
    return str(value)


def _write_atomic(path: Path, text: str) -> None:
    """A reader never sees a half-written report, and an interrupted run leaves the previous one intact."""
    with atomic_write(path, "w", op="lab report") as f:
        f.write(text)
