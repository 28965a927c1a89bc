"""The lab report page (issue 17, item 5): measured values as tables, source labels linked to the textbook map,
English and Japanese titles and claims, figure sizes; and the figures' legends kept off the data.

The page is parsed back (html.parser) and the numbers in its cells are compared with the values they show; the
layout on real screens is checked in tests/docs/test_screenshots.py.
"""
from __future__ import annotations

import math
import struct
import zlib
from html.parser import HTMLParser

import numpy as np
import pytest

from fukaku import lab
from fukaku.lab import plotting, report
from fukaku.lab import textbook_map as tm
from fukaku.lab.claims_ja import claim_ja
from fukaku.lab.registry import Context
from fukaku.lab.textbook_map import anchor_for

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    """An element of the parsed page: its tag, attributes, children (nodes and text)."""

    def __init__(self, tag: str, attrs: dict) -> None:
        self.tag, self.attrs, self.children = tag, attrs, []

    def text(self, lang: str | None = None) -> str:
        """The text inside; with ``lang``, as the page shows it in that language (the other's spans left out)."""
        return "".join(c if isinstance(c, str) else c.text(lang) for c in self.children
                       if lang is None or isinstance(c, str) or "translated" not in c.attrs.get("class", "")
                       or c.attrs.get("lang") == lang)

    def find_all(self, tag: str, **attrs) -> list[Node]:
        found = []
        for child in self.children:
            if isinstance(child, Node):
                if child.tag == tag and all(child.attrs.get(k.rstrip("_")) == v for k, v in attrs.items()):
                    found.append(child)
                found += child.find_all(tag, **attrs)
        return found

    def rows(self) -> list[list[Node]]:
        """The table's own rows (not those of tables nested in it), each a list of its th/td cells."""
        return [[c for c in tr.children if isinstance(c, Node) and c.tag in ("th", "td")]
                for tr in self._own("tr")]

    def _own(self, tag: str) -> list[Node]:
        found = []
        for child in self.children:
            if isinstance(child, Node) and child.tag != "table":
                found += ([child] if child.tag == tag else []) + child._own(tag)
        return found


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.root = Node("root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_endtag(self, tag):
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    assert builder.stack == [builder.root], "unclosed elements"
    return builder.root


def _experiment(exp_id: str = "zz-report", **fields) -> dict:
    entry = {"id": exp_id, "title": "A test experiment", "source": "seed 000 §6.1.3", "claim": "x is small.",
             "status": "holds", "seconds": 0.5, "checks": [{"name": "x is small", "measured": 0.25, "relation": "≤",
                                                             "expected": 1.0, "holds": True}],
             "measured": {"x": 0.25}, "summary": "x 0.25 ≤ 1.", "headline": "x 0.25 ≤ 1.", "figures": [],
             "warnings": [], "error": None}
    entry.update(fields)
    return entry


def _record(*experiments: dict) -> dict:
    return {"fukaku_version": "0", "numpy_version": np.__version__, "python_version": "3", "quick": True, "seed": 0,
            "created": "2026-01-01T00:00:00+0000", "seconds": 1.0, "figures_available": True,
            "counts": {"holds": len(experiments), "does not hold": 0, "error": 0}, "all_hold": True,
            "experiments": list(experiments)}


def _measured_tables(html: str) -> dict[str, Node]:
    """Each compound measured value's table by its caption, and the name/value table as "" ."""
    page = parse(html)
    tables = {"": t for t in page.find_all("table", class_="measured")}
    for figure in page.find_all("figure", class_="value"):
        caption = figure.find_all("figcaption")[0].text()
        tables[caption] = figure.find_all("table")[0]
    return tables


def _number(cell: Node) -> float:
    text = cell.text().replace(",", "")
    return float(text)


# ----------------------------------------------------------------------------- measured values as tables
def test_single_values_form_a_name_value_table_with_numbers_to_four_digits():
    measured = {"loss": 0.123456789, "steps": 123456, "exact": 2.0, "near one": 0.99996, "tiny": 1.5e-9,
                "diverged": "inf", "name": "tiny-shakespeare", "ok": True, "nothing": [], "row": [1.25, 2.5]}
    tables = _measured_tables(report.render_html(_record(_experiment(measured=measured))))
    assert set(tables) == {""}  # none of these is compound
    rows = {row[0].text(): row[1] for row in tables[""].rows()[1:]}
    assert list(rows) == list(measured)
    for name in ("loss", "steps", "exact", "near one", "tiny"):
        cell = rows[name]
        assert cell.attrs.get("class") == "num"
        shown = _number(cell)
        assert math.isclose(shown, measured[name], rel_tol=5e-4), (name, cell.text())
        if shown != measured[name]:  # the full value is on hover, to the checks' 10 digits
            (span,) = cell.find_all("span")
            assert float(span.attrs["title"]) == pytest.approx(measured[name], rel=1e-9)
    assert rows["loss"].text() == "0.1235" and rows["steps"].text() == "123,456" and rows["exact"].text() == "2"
    assert rows["near one"].text() == "0.99996"  # four digits would round a fraction to a whole 1
    assert rows["diverged"].attrs.get("class") == "num" and rows["diverged"].text() == "inf"
    assert rows["name"].attrs.get("class") is None and rows["name"].text() == "tiny-shakespeare"
    assert rows["nothing"].text() == "empty"
    (row_table,) = rows["row"].find_all("table")
    assert [c.text() for c in row_table.rows()[0]] == ["1.25", "2.5"]


def test_records_become_tables_with_a_header():
    runs = [{"step": 100, "loss": 0.5}, {"step": 200, "loss": 0.25, "note": "best"}]
    by_model = {"VAE": {"test ELBO": -24.76, "sharpness": 0.4606},
                "GAN": {"sharpness": 1.038, "confidence": 0.6892}}
    per_mask = {"no mask": 1e-16, "causal mask": 2.5e-16}
    tables = _measured_tables(report.render_html(_record(_experiment(measured={
        "runs": runs, "table": by_model, "max |row sum − 1|": per_mask}))))

    header, *body = tables["runs"].rows()
    assert [c.text() for c in header] == ["step", "loss", "note"] and all(c.tag == "th" for c in header)
    assert [[c.text() for c in row] for row in body] == [["100", "0.5", "–"], ["200", "0.25", "best"]]

    # a dict of records: the side with the shorter labels (the models) makes the columns
    header, *body = tables["table"].rows()
    assert [c.text() for c in header] == ["", "VAE", "GAN"]
    assert [[c.text() for c in row] for row in body] == [["test ELBO", "-24.76", "–"],
                                                        ["sharpness", "0.4606", "1.038"],
                                                        ["confidence", "–", "0.6892"]]
    assert all(row[0].tag == "th" and row[0].attrs.get("scope") == "row" for row in body)

    rows = tables["max |row sum − 1|"].rows()
    assert [[c.text() for c in row] for row in rows] == [["no mask", "1e-16"], ["causal mask", "2.5e-16"]]


def test_grids_and_long_values_are_cut_with_a_count_of_the_rest():
    grid = {"250": [0.1 * i for i in range(20)], "500": [0.2] * 3}
    matrix = [[i, i + 1] for i in range(30)]
    words = [f"w{i}" for i in range(15)]
    tables = _measured_tables(report.render_html(_record(_experiment(measured={
        "overlap": grid, "pairs": matrix, "examples": words, "long row": list(range(40))}))))

    first, second = tables["overlap"].rows()
    assert first[0].text() == "250" and len(first) == 1 + 12 + 1 and first[-1].text() == "… 8 more"
    assert [_number(c) for c in first[1:-1]] == pytest.approx([0.1 * i for i in range(12)], rel=5e-4)
    assert [c.text() for c in second] == ["500", "0.2", "0.2", "0.2"]

    rows = tables["pairs"].rows()
    assert len(rows) == 12 + 1 and rows[-1][0].text() == "… 18 more rows"
    assert [[c.text() for c in row] for row in rows[:2]] == [["0", "1"], ["1", "2"]]

    simple = {row[0].text(): row[1] for row in tables[""].rows()[1:]}
    assert simple["examples"].text() == ", ".join(words[:12]) + " … 3 more"
    (long_row,) = simple["long row"].find_all("table")
    assert [c.text() for c in long_row.rows()[0]][-2:] == ["11", "… 28 more"]


def test_deep_nesting_ends_as_text():
    deep = {"a": {"b": {"c": {"d": {"e": 1.0}}}}}
    html = report.render_html(_record(_experiment(measured={"deep": deep})))
    assert "d: e: 1" in html  # the fifth level is written as text, as the verdict line writes values


def test_checks_keep_the_comparisons_precision_and_show_lists_as_tables():
    checks = [{"name": "ids", "measured": [1, 2, 4], "relation": "=", "expected": [1, 2, 4], "holds": True},
              {"name": "error", "measured": 1.23456789e-9, "relation": "≤", "expected": 1e-8, "holds": True}]
    table = parse(report.render_html(_record(_experiment(checks=checks)))).find_all("table", class_="checks")[0]
    ids, error = table.rows()[1:]
    assert [c.text() for c in ids[2].find_all("td")] == ["1", "2", "4"]
    assert error[2].text() == "1.23456789e-09" and error[4].text() == "1e-08"


# ----------------------------------------------------------------------------- links to the textbook map
def test_every_citation_in_a_source_links_to_its_row_of_the_map():
    source = "seed 002 ch. 3 §3.1, §3.5, seed 003 (softmax demo); LeCun et al. 1998"
    page = parse(report.render_html(_record(_experiment("softmax-demo", source=source)),  # it has Japanese
                                    textbook_map_url="map/", textbook_map_url_ja="ja/map/"))
    (line,) = page.find_all("p", class_="source")
    links = [(a.text(), a.attrs["href"]) for a in line.find_all("a")]
    expected = {"seed 002 ch. 3 §3.1": anchor_for("seed 002 ch. 3 §3.1"),
                "§3.5": anchor_for("seed 002 ch. 3 §3.5"),
                "seed 003 (softmax demo)": anchor_for("seed 003 (softmax demo)")}
    assert None not in expected.values()
    # each citation twice: the English map's link, and the Japanese map's for the Japanese view
    assert links == [link for text, anchor in expected.items()
                     for link in ((text, f"map/#{anchor}"), (text, f"ja/map/#{anchor}"))]
    english = [a for span in line.find_all("span", class_="translated", lang="en") for a in span.find_all("a")]
    assert [a.attrs["href"] for a in english] == [f"map/#{anchor}" for anchor in expected.values()]
    assert "LeCun" not in " ".join(text for text, _ in links)
    for lang in ("en", "ja"):  # either view reads as the label was written
        assert line.text(lang) == f"softmax-demo · {source} · 0.50\N{NO-BREAK SPACE}s"


def test_labels_link_only_when_given_the_map_and_the_site_urls_point_at_the_sites_maps():
    """A report outside the site has no map beside it: by default its labels are plain text."""
    record = _record(_experiment("softmax-demo", source="seed 000 §6.1.3"))
    plain = report.render_html(record)
    assert "#seed" not in plain and "<a href=\"../" not in plain and "seed 000 §6.1.3" in plain
    site = report.render_html(record, textbook_map_url=report.SITE_TEXTBOOK_MAP_URL,
                              textbook_map_url_ja=report.SITE_TEXTBOOK_MAP_URL_JA)
    anchor = anchor_for("seed 000 §6.1.3")
    assert f'href="../textbook-map/#{anchor}"' in site and f'href="../ja/textbook-map/#{anchor}"' in site


@pytest.fixture
def seeds_table_without_a_japanese_title(tmp_path, monkeypatch):
    """docs/seeds.md with a new row that has no Japanese title (parse_seeds refuses it), as the map reads it."""
    doc = tm.SEEDS_DOC.read_text(encoding="utf-8").replace("| 6.1.9 | double descent |", "| 6.1.10 | new |")
    broken = tmp_path / "seeds.md"
    broken.write_text(doc, encoding="utf-8")
    original = tm.parse_seeds
    monkeypatch.setattr(tm, "parse_seeds", lambda path=broken: original(path))
    with pytest.raises(ValueError, match="SECTION_TITLES_JA"):
        tm.parse_seeds()
    return broken


def test_a_map_table_that_does_not_parse_leaves_the_labels_unlinked_with_a_warning(
        seeds_table_without_a_japanese_title):
    record = _record(_experiment("softmax-demo", source="seed 000 §6.1.3"))
    with pytest.warns(UserWarning, match="not linked to the textbook map.*SECTION_TITLES_JA"):
        html = report.render_html(record, textbook_map_url="map/", textbook_map_url_ja="ja/map/")
    (line,) = parse(html).find_all("p", class_="source")
    assert line.find_all("a") == [] and "seed 000 §6.1.3" in line.text()


def test_a_lab_run_with_a_map_table_that_does_not_parse_writes_its_report(seeds_table_without_a_japanese_title,
                                                                         tmp_path):
    result = lab.run(["softmax-demo"], quick=True, out_dir=tmp_path / "out", quiet=True)
    assert result.report_path.is_file() and result.json_path.is_file()


def test_a_report_that_fails_to_render_leaves_the_previous_report_and_results(tmp_path, monkeypatch):
    out = tmp_path / "out"
    first = lab.run(["softmax-demo"], quick=True, out_dir=out, quiet=True)
    before = {p: p.read_bytes() for p in (first.report_path, first.json_path)}

    def fails(*args, **kwargs):
        raise RuntimeError("render failed")

    monkeypatch.setattr(report, "render_html", fails)
    with pytest.raises(RuntimeError, match="render failed"):
        lab.run(["softmax-demo"], quick=True, out_dir=out, quiet=True, seed=1)
    assert {p: p.read_bytes() for p in before} == before  # neither a new results.json nor a new page


def test_source_citations_cut_a_label_at_commas_and_semicolons_outside_parentheses():
    pieces = report._source_citations('seed 003 (demo "MAE, MSE"), seed 004 §3.3; Ronneberger et al. 2015')
    assert pieces == [('seed 003 (demo "MAE, MSE")', 'seed 003 (demo "MAE, MSE")'), (", ", None),
                      ("seed 004 §3.3", "seed 004 §3.3"), ("; ", None),
                      ("Ronneberger et al. 2015", "Ronneberger et al. 2015")]
    assert "".join(text for text, _ in pieces) == 'seed 003 (demo "MAE, MSE"), seed 004 §3.3; Ronneberger et al. 2015'


# ----------------------------------------------------------------------------- English and Japanese
def test_titles_and_claims_switch_between_english_and_japanese():
    title_ja, claim_text_ja = claim_ja("softmax-demo")
    untranslated = _experiment("zz-untranslated", title="Only English", claim="Said in English only.")
    html = report.render_html(_record(_experiment("softmax-demo", title="Softmax", claim="It sums to one."),
                                      untranslated))
    page = parse(html)
    radios = page.find_all("input", type="radio")
    assert [(r.attrs["id"], "checked" in r.attrs) for r in radios] == [("claims-en", True), ("claims-ja", False)]
    assert [label.attrs["for"] for label in page.find_all("label")] == ["claims-en", "claims-ja"]
    (section,) = [s for s in page.find_all("section") if s.attrs["id"] == "exp-softmax-demo"]
    (claim,) = section.find_all("p", class_="claim")
    (en,) = claim.find_all("span", class_="translated", lang="en")
    (ja,) = claim.find_all("span", class_="translated", lang="ja")
    assert en.text() == "Claim. It sums to one." and ja.text().endswith(claim_text_ja)
    assert [s.text() for s in section.find_all("h2")[0].find_all("span", class_="translated")][:2] == \
        ["Softmax", title_ja]
    # the summary table's titles switch too
    summary = page.find_all("table", class_="summary")[0]
    assert title_ja in summary.text() and "Softmax" in summary.text()
    # an experiment the catalogue lacks keeps its English, shown in both views
    (other,) = [s for s in page.find_all("section") if s.attrs["id"] == "exp-zz-untranslated"]
    for part in other.find_all("h2") + other.find_all("p", class_="claim"):
        assert part.find_all("span", class_="translated") == []
    assert other.find_all("p", class_="claim")[0].text() == "Claim. Said in English only."
    # the switch is CSS: hide what is not in the chosen language
    assert '#claims-ja:checked ~ .page .translated[lang="en"]' in html and "<script" not in html


def test_a_page_without_any_japanese_has_no_switch():
    html = report.render_html(_record(_experiment("zz-untranslated")))
    assert 'type="radio"' not in html and "日本語" not in html


def test_nested_values_and_sources_are_escaped():
    evil = '<script>alert("x")</script>'
    html = report.render_html(_record(_experiment(source=f"seed 000 §6.1.3, {evil}", measured={
        evil: {evil: {evil: 1.0}}, "list": [{evil: evil}], "words": [evil]})))
    assert "<script" not in html and html.count("&lt;script&gt;") >= 6
    parse(html)  # still well nested


# ----------------------------------------------------------------------------- figures
def _png(width: int, height: int, dots_per_metre: int | None) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    physical = chunk(b"pHYs", struct.pack(">IIB", dots_per_metre, dots_per_metre, 1)) if dots_per_metre else b""
    pixels = zlib.compress(b"".join(b"\x00" + bytes(width) for _ in range(height)))
    return b"\x89PNG\r\n\x1a\n" + header + physical + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def test_figures_show_at_their_size_in_css_pixels(tmp_path):
    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "hires.png").write_bytes(_png(300, 150, 5906))  # 150 dpi (5906 dots a metre)
    (figures / "plain.png").write_bytes(_png(64, 32, None))
    (figures / "drawing.svg").write_text("<svg/>")
    entry = _experiment(figures=["figures/hires.png", "figures/plain.png", "figures/drawing.svg",
                                 "figures/missing.png"])
    images = parse(report.render_html(_record(entry), figure_dir=tmp_path)).find_all("img")
    sizes = [(i.attrs.get("width"), i.attrs.get("height")) for i in images]
    assert sizes == [(str(round(300 * 96 / (5906 * 0.0254))), str(round(150 * 96 / (5906 * 0.0254)))),
                     ("64", "32"), (None, None), (None, None)]
    assert sizes[0] == ("192", "96")
    assert all(i.attrs["loading"] == "lazy" for i in images)
    links = [a.attrs["href"] for a in parse(report.render_html(_record(entry))).find_all("a") if a.find_all("img")]
    assert links == entry["figures"]  # a tap opens the figure at full size


def test_a_truncated_or_garbled_png_shows_without_a_size(tmp_path):
    whole = _png(64, 32, None)
    (tmp_path / "cut.png").write_bytes(whole[:20])  # the signature and IHDR's name: no width or height
    (tmp_path / "zero.png").write_bytes(_png(0, 0, None))
    (tmp_path / "garbled.png").write_bytes(whole[:24] + b"\xff" * 40)  # a chunk length past the end
    assert [report._display_size(tmp_path / n) for n in ("cut.png", "zero.png", "garbled.png")] == \
        [None, None, (64, 32)]
    entry = _experiment(figures=["cut.png", "zero.png"])
    images = parse(report.render_html(_record(entry), figure_dir=tmp_path)).find_all("img")
    assert [("width" in i.attrs, i.attrs["src"]) for i in images] == [(False, "cut.png"), (False, "zero.png")]


needs_matplotlib = pytest.mark.skipif(not plotting.available(), reason="matplotlib (the lab extra) is not installed")


@needs_matplotlib
def test_save_figure_writes_at_the_style_resolution(tmp_path):
    (path,) = plotting.save_figure(Context(tmp_path), "small", lambda fig: fig.subplots().plot([0, 1]),
                                   figsize=(4.0, 2.5))
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    assert (width, height) == (4.0 * plotting.DPI, 2.5 * plotting.DPI)
    assert report._display_size(path) == (round(4.0 * 96), round(2.5 * 96))


def _line_points_under(ax, legend, renderer) -> int:
    """How many points of the axes' lines, sampled densely in display space, lie under the legend's box."""
    box = legend.get_window_extent(renderer)
    count = 0
    for line in ax.get_lines():
        xy = line.get_transform().transform(line.get_xydata())
        t = np.linspace(0, 1, 50)[:, None]
        dense = np.concatenate([a + t * (b - a) for a, b in zip(xy[:-1], xy[1:])])
        count += int(np.sum((dense[:, 0] > box.x0) & (dense[:, 0] < box.x1) &
                            (dense[:, 1] > box.y0) & (dense[:, 1] < box.y1)))
    return count


def _figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


@needs_matplotlib
def test_a_legend_over_a_line_moves_to_a_free_place():
    fig = _figure()
    ax = fig.subplots()
    x = np.linspace(0, 1, 30)
    ax.plot(x, 1 - x, label="falling")  # crosses the upper left corner
    ax.plot(x, 0.2 + 0 * x, label="flat")
    ax.legend(loc="upper left")
    fig.draw_without_rendering()
    assert _line_points_under(ax, ax.get_legend(), fig.canvas.get_renderer()) > 0
    assert plotting.keep_legends_off_data(fig) == [ax.get_legend()]
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    assert _line_points_under(ax, ax.get_legend(), renderer) == 0
    legend_box = ax.get_legend().get_window_extent(renderer)
    assert ax.get_window_extent(renderer).contains((legend_box.x0 + legend_box.x1) / 2,
                                                   (legend_box.y0 + legend_box.y1) / 2)  # still inside the axes


@needs_matplotlib
def test_a_legend_with_no_free_place_inside_goes_outside_and_a_clear_one_stays():
    fig = _figure()
    crowded, clear = fig.subplots(1, 2)
    rng = np.random.default_rng(0)
    crowded.scatter(rng.random(2000), rng.random(2000), s=3, label="points everywhere")
    crowded.legend(loc="upper right")
    clear.plot([0, 1], [0, 1], label="diagonal")
    clear.axvspan(0.0, 0.5, alpha=0.2)  # a shaded span across the whole height is background, not data
    clear.legend(loc="upper left")
    fig.draw_without_rendering()
    width_before, plot_before = fig.get_figwidth(), crowded.get_window_extent().width
    assert plotting.keep_legends_off_data(fig) == [crowded.get_legend()]
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    # the figure grew by the legend's width, so the plot kept its size
    legend_width = crowded.get_legend().get_window_extent(renderer).width / fig.dpi
    assert fig.get_figwidth() == pytest.approx(width_before + legend_width, abs=0.2)
    assert crowded.get_window_extent(renderer).width == pytest.approx(plot_before, rel=0.1)
    assert crowded.get_legend().get_window_extent(renderer).x0 >= crowded.get_window_extent(renderer).x1
    assert clear.get_legend()._loc == 2  # "upper left", as its author put it
    # the moved legend stays on the figure: the layout made room for it
    assert crowded.get_legend().get_window_extent(renderer).x1 <= fig.bbox.x1
    assert not crowded.get_legend().get_window_extent(renderer).overlaps(clear.get_window_extent(renderer))


@needs_matplotlib
def test_save_figure_moves_legends_in_the_file_it_writes(tmp_path, monkeypatch):
    """The legend's place when the PNG is written (a spy on savefig), not only what the mover returned."""
    from matplotlib.figure import Figure

    saved = []
    original = Figure.savefig

    def spy(fig, *args, **kwargs):
        fig.draw_without_rendering()
        ax = fig.axes[0]
        saved.append((ax.get_legend()._loc, _line_points_under(ax, ax.get_legend(), fig.canvas.get_renderer())))
        return original(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", spy)

    def draw(fig):
        ax = fig.subplots()
        ax.plot([0, 1], [1, 0], label="falling")  # crosses the upper left corner
        ax.legend(loc="upper left")

    (path,) = plotting.save_figure(Context(tmp_path), "falling", draw)
    assert saved == [(0, 0)]  # matplotlib's "best" found a free place inside, off the line, before the write
    assert path.is_file()
