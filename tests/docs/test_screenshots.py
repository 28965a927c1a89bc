"""The lab report and three pages of the docs site (getting started, the textbook map, a concept page; each in
English and Japanese) in headless Chromium at 1280 and 390 px: nothing cut off or overlapping (issue 17, item 5
and its acceptance), with the screenshots kept as artifacts in ``build/screenshots/`` and
``build/screenshots/docs/`` (``$FUKAKU_SCREENSHOTS`` elsewhere); and the checker of tools/screenshots.py catches
a page that is broken, but not mkdocs-material's closed drawer or sticky navigation.

``.ci/run`` installs chromium with apt-get and sets ``FUKAKU_REQUIRE_BROWSER``, so there these tests must run;
elsewhere, without chromium, they skip with that reason.
"""
from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from browser import browser, require_browser  # noqa: F401 (browser: a fixture the tests take)
from docs.tools_loader import ROOT, load_tool
from fukaku import lab
from fukaku.lab.claims_ja import claim_ja

require_browser()

ARTIFACTS = Path(os.environ.get("FUKAKU_SCREENSHOTS", ROOT / "build" / "screenshots"))
screenshots = load_tool("screenshots")

# quick experiments (about 3 s in all) whose pages hold what the report renders: checks with lists and dicts,
# nested dicts of records, long rows, several citations in a source, figures with legends
EXPERIMENTS = ["softmax-demo", "perceptron-convergence", "diffusion-ou-not-heat", "words-vocabulary",
               "transformer-parameter-counts", "bellman-evaluation"]
JAPANESE = {"ja": 'label[for="claims-ja"]'}
# the docs pages the acceptance names: getting started, the textbook map, a concept page; and their Japanese twins
DOCS_PAGES = ["", "textbook-map/", "concepts/cnn/"]


@pytest.fixture(scope="module")
def report_page(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("screenshots") / "lab-report"
    result = lab.run(EXPERIMENTS, quick=True, out_dir=out, quiet=True)
    assert [o.status for o in result.outcomes] == ["holds"] * len(EXPERIMENTS)
    return load_tool("build_docs").write_lab_report(out)  # as the site shows it: its sources linked to the map


def _png_size(path: Path) -> tuple[int, int]:
    return struct.unpack(">II", path.read_bytes()[16:24])


def test_the_report_has_nothing_cut_off_or_overlapping_at_1280_and_390_px(report_page, browser):
    shots = screenshots.take_screenshots(ARTIFACTS, [str(report_page)], variants=JAPANESE, browser=browser)
    assert [(s.width, s.variant) for s in shots] == [(1280, ""), (1280, "ja"), (390, ""), (390, "ja")]
    for shot in shots:
        assert shot.offenders == [], str(shot)
        width, height = _png_size(shot.path)
        assert width == shot.width and height > 2000, (shot.path, width, height)  # the whole page, not the window
    print("\nscreenshots: " + ", ".join(str(s.path) for s in shots))


def test_three_docs_pages_in_both_languages_have_nothing_cut_off_or_overlapping_at_1280_and_390_px(site, browser):
    """``site``: the docs site built once per session (tests/docs/conftest.py)."""
    pages = DOCS_PAGES + [f"ja/{page}" for page in DOCS_PAGES]
    shots = screenshots.take_screenshots(ARTIFACTS / "docs", pages, site=site, browser=browser)
    assert sorted(s.path.name for s in shots) == sorted(
        f"{stem}-{width}.png" for stem in ["index", "textbook-map", "concepts-cnn", "ja", "ja-textbook-map",
                                           "ja-concepts-cnn"] for width in (1280, 390))
    for shot in shots:
        assert shot.offenders == [], str(shot)
        width, height = _png_size(shot.path)
        assert width == shot.width and height > screenshots.VIEWPORT_HEIGHT, (shot.path, width, height)
    print("\nscreenshots: " + ", ".join(str(s.path) for s in shots))


def test_on_a_phone_the_summary_keeps_verdict_and_result_and_tables_scroll_in_their_box(report_page, browser):
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto(report_page.as_uri())
    widths = page.evaluate("""() => [...document.querySelector('table.summary tr').children].map(
        th => [th.textContent, th.getBoundingClientRect().width, th.getBoundingClientRect().right])""")
    shown = [name for name, width, right in widths if width > 0]
    assert shown == ["verdict", "experiment", "result"]
    assert all(right <= 390 for _, width, right in widths if width > 0)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    # a table wider than the phone scrolls inside its own box
    boxes = page.evaluate("""() => [...document.querySelectorAll('.table-scroll')].map(
        box => [box.scrollWidth > box.clientWidth, getComputedStyle(box).overflowX])""")
    assert all(overflow == "auto" for _, overflow in boxes) and any(wider for wider, _ in boxes)
    # figures scale to the width
    images = page.evaluate("() => [...document.images].map(i => i.getBoundingClientRect().right)")
    assert images and max(images) <= 390
    page.close()


def test_the_switch_shows_titles_and_claims_in_japanese(report_page, browser):
    title_ja, claim_text_ja = claim_ja("softmax-demo")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(report_page.as_uri())
    claim = page.locator("#exp-softmax-demo .claim")
    english = claim.inner_text()
    assert english.startswith("Claim. ") and claim_text_ja not in english
    page.click('label[for="claims-ja"]')
    assert claim.inner_text() == f"主張：{claim_text_ja}"
    assert page.locator("#exp-softmax-demo h2 .translated[lang=ja]").is_visible()
    assert page.locator("#exp-softmax-demo h2 .translated[lang=en]").is_hidden()
    assert title_ja in page.locator("table.summary").inner_text()
    # the Japanese view links the Japanese textbook map
    hrefs = page.eval_on_selector_all("#exp-softmax-demo .source a", "links => links.filter(a => a.offsetParent)"
                                      ".map(a => a.getAttribute('href'))")
    assert hrefs and all(h.startswith("../ja/textbook-map/#") for h in hrefs)
    page.keyboard.press("ArrowLeft")  # the radio buttons keep the keyboard focus: back to English
    assert claim.inner_text() == english
    page.close()


_BROKEN = """<!DOCTYPE html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body style="margin: 0">
<h1 style="margin-left: -40px">A title pushed over the left edge</h1>
<div style="width: 900px; white-space: nowrap">A wide row of text that runs on and on, past the right edge of a
phone's screen</div>
<p style="position: absolute; top: 300px; left: 10px; margin: 0">First paragraph</p>
<p style="position: absolute; top: 305px; left: 20px; margin: 0">Second paragraph on top</p>
<div style="width: 60px; overflow: hidden; white-space: nowrap; margin-top: 400px">Text longer than its box</div>
<img src="missing.png" alt="">
</body></html>"""

_FINE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>
<h1>A page that fits</h1>
<p>Paragraph text that wraps inside the viewport at any width, because nothing in it is wider than a word.</p>
<div style="overflow-x: auto"><table><tr><td style="white-space: nowrap">a cell far wider than a phone, scrolled in
its own box ............................................................................</td></tr></table></div>
<span style="position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%)">for screen
readers only</span>
<div style="width: 80px; overflow: hidden; white-space: nowrap; text-overflow: ellipsis">a line cut with an ellipsis
on purpose</div>
<nav style="position: fixed; left: -300px; top: 0; width: 250px">a closed menu off the screen</nav>
<svg width="100" height="40"><text x="0" y="20">chart</text><text x="2" y="22">labels</text></svg>
</body></html>"""


def test_the_checker_names_what_is_cut_off_overlapping_or_missing(tmp_path, browser):
    (tmp_path / "broken.html").write_text(_BROKEN, encoding="utf-8")
    (tmp_path / "fine.html").write_text(_FINE, encoding="utf-8")
    broken, fine = screenshots.take_screenshots(tmp_path / "shots", [str(tmp_path / "broken.html"),
                                                                     str(tmp_path / "fine.html")], widths=[390],
                                                browser=browser)
    # each offender: its kind and the (first 40 characters of the) text it names
    found = {(o["kind"], o["detail"].split('"')[1] if '"' in o["detail"] else o["detail"]) for o in broken.offenders}
    assert found == {("page overflow", "A wide row of text that runs on and on,…"),
                     ("clipped", "A title pushed over the left edge"),
                     ("clipped", "A wide row of text that runs on and on,…"),
                     ("clipped", "Text longer than its box"),
                     ("overlap", "First paragraph"),
                     ("image not loaded", "missing.png")}, broken.offenders
    assert fine.offenders == [], fine.offenders
    assert broken.path.name == f"{tmp_path.name}-broken.html-390.png" and _png_size(broken.path)[0] >= 390


# A page laid out as mkdocs-material lays out its pages: a sticky header; on a desktop a sticky sidebar whose
# navigation scrolls in its own box (scrolled down, as Material scrolls it to the current page) under a sticky
# title; on a phone the same sidebar as a closed drawer fixed beside the screen, in which the open section's
# panel lies over the top-level list; and a footer. {content} is the page's text.
_MATERIAL_LIKE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><style>
body {{ margin: 0; font: 16px/1.5 sans-serif }}
header {{ position: sticky; top: 0; height: 48px; background: #3f51b5; color: white; z-index: 2 }}
.layout {{ display: flex; max-width: 1200px; margin: 24px auto 0 }}
.sidebar {{ position: sticky; top: 48px; align-self: flex-start; width: 240px; height: calc(100vh - 48px) }}
.scrollwrap {{ height: 100%; overflow-y: auto }}
.nav {{ position: relative }}
.nav-title {{ position: sticky; top: 0; margin: 0; background: white; font-weight: bold }}
main {{ flex: 1; min-width: 0; padding: 0 16px }}
pre {{ overflow-x: auto }}
footer {{ background: #222; color: white; padding: 16px }}
@media (max-width: 800px) {{
  .sidebar {{ position: fixed; top: 0; left: -260px; width: 260px; height: 100%; z-index: 3; background: white }}
  .panel {{ position: absolute; inset: 0; background: white }}
}}
</style></head><body>
<header>fukaku 深く</header>
<div class="layout"><div class="sidebar"><div class="scrollwrap"><nav class="nav">
<p class="nav-title">fukaku 深く</p>
<ul>{pages}</ul>
<div class="panel"><p class="nav-title">Concepts</p><ul>{sections}</ul></div>
</nav></div></div>
<main>{content}</main></div>
<footer>Made with Material for MkDocs</footer>
<script>
const scrollNav = () => {{ document.querySelector(".scrollwrap").scrollTop = 400; }};
scrollNav();
addEventListener("resize", scrollNav);  // as Material keeps the current page in view (a full-page shot resizes)
</script>
</body></html>"""
_MATERIAL_PAGES = "".join(f"<li>Page {i}</li>" for i in range(30))
_MATERIAL_SECTIONS = "".join(f"<li>Section {i}</li>" for i in range(10))
_MATERIAL_TEXT = "".join(f"<h2>Heading {i}</h2><p>{'A paragraph of prose that wraps inside the column. ' * 8}</p>"
                         f"<pre><code>print('a line of code too long for a phone, scrolled in its own box')"
                         f"</code></pre>" for i in range(10))


def _material_like(content: str) -> str:
    return _MATERIAL_LIKE.format(pages=_MATERIAL_PAGES, sections=_MATERIAL_SECTIONS, content=content)


def test_the_checker_passes_a_drawer_and_sticky_sidebar_but_not_overlapping_content(tmp_path, browser):
    """The navigation of a Material page is not a defect at either width; text over text in its content is,
    also under a sticky box that sits where the flow puts it; so is text off the screen that is not marked hidden."""
    fine = _material_like(_MATERIAL_TEXT + '<p aria-hidden="true" style="margin-left: -2000px; width: 300px">'
                                           "a panel closed off the screen</p>")
    broken = _material_like("<p>First claim of the page</p><p style='margin-top: -3em'>Second claim printed "
                            "over it</p><div style='position: sticky; top: 0; margin-bottom: -3em; background: "
                            "white'>A sticky note over the text</div><p>Text under the note</p>"
                            '<p style="margin-left: -2000px; width: 300px">A paragraph pushed off the page</p>'
                            + _MATERIAL_TEXT)
    (tmp_path / "fine.html").write_text(fine, encoding="utf-8")
    (tmp_path / "broken.html").write_text(broken, encoding="utf-8")
    shots = screenshots.take_screenshots(tmp_path / "shots", [str(tmp_path / "fine.html"),
                                                              str(tmp_path / "broken.html")], browser=browser)
    assert [s.width for s in shots] == [1280, 390, 1280, 390]
    # what the fine page puts to the test on a desktop: the sidebar's sticky title lies over scrolled links
    page = browser.new_page(viewport={"width": 1280, "height": screenshots.VIEWPORT_HEIGHT})
    page.goto((tmp_path / "fine.html").as_uri())
    assert page.evaluate("""() => {
        const title = document.querySelector(".nav-title").getBoundingClientRect();
        return [...document.querySelectorAll(".nav li")].some((li) => {
            const r = li.getBoundingClientRect();
            return r.top < title.bottom - 4 && r.bottom > title.top + 4; });
    }""")
    page.close()
    for shot in shots:
        if shot.page.endswith("fine.html"):
            assert shot.offenders == [], str(shot)
            assert _png_size(shot.path)[1] > 2 * screenshots.VIEWPORT_HEIGHT  # a page that scrolls
        else:
            # each offender: its kind and the texts it names
            found = sorted((o["kind"], *sorted(o["detail"].split('"')[1::2])) for o in shot.offenders)
            assert found == [("clipped", "A paragraph pushed off the page"),
                             ("overlap", "A sticky note over the text", "Text under the note"),
                             ("overlap", "First claim of the page", "Second claim printed over it")], str(shot)


def test_pages_of_a_site_are_named_by_their_whole_path_and_two_pages_never_share_a_file(tmp_path, browser):
    assert screenshots.shot_name("ja/concepts/cnn/", 390, depth=None) == "ja-concepts-cnn-390.png"
    assert screenshots.shot_name("concepts/cnn/", 390, "ja", depth=None) == "concepts-cnn-390-ja.png"
    assert screenshots.shot_name("", 1280, depth=None) == "index-1280.png"
    assert screenshots.shot_name("/home/me/lab-report/report.html", 390) == "lab-report-report.html-390.png"
    for name in ("a", "b"):
        (tmp_path / name / "report").mkdir(parents=True)
        (tmp_path / name / "report" / "index.html").write_text(_FINE, encoding="utf-8")
    with pytest.raises(ValueError, match="would both be saved as report-index.html-<width>.png"):
        screenshots.take_screenshots(tmp_path / "shots", [str(tmp_path / d / "report" / "index.html")
                                                          for d in ("a", "b")], browser=browser)
    assert not (tmp_path / "shots").exists()


def _command(*args: str) -> subprocess.CompletedProcess:
    """``python tools/screenshots.py ARGS`` in a process of its own (it starts its own browser)."""
    return subprocess.run([sys.executable, str(ROOT / "tools" / "screenshots.py"), *args], capture_output=True,
                          text=True, timeout=300)


def test_the_command_serves_a_site_and_fails_on_a_broken_page(tmp_path):
    site = tmp_path / "site"
    (site / "guide").mkdir(parents=True)
    (site / "guide" / "index.html").write_text(_FINE, encoding="utf-8")
    (site / "broken.html").write_text(_BROKEN, encoding="utf-8")
    out = tmp_path / "shots"
    fine = _command(str(out), "--site", str(site), "guide/", "--width", "390", "--width", "1280")
    assert fine.returncode == 0, fine.stdout + fine.stderr
    assert sorted(p.name for p in out.iterdir()) == ["guide-1280.png", "guide-390.png"]
    assert "2 of 2 screenshots have nothing cut off or overlapping" in fine.stdout
    broken = _command(str(out), "--site", str(site), "broken.html", "--width", "390")
    assert broken.returncode == 1
    assert "FAIL  broken.html at 390 px" in broken.stdout and "page overflow: the page is" in broken.stdout
    missing = _command(str(out), str(tmp_path / "nowhere.html"))
    assert missing.returncode == 2 and "no page" in missing.stderr
    no_switch = _command(str(out), "--site", str(site), "guide/", "--variant", "ja=#no-such-switch")
    assert no_switch.returncode == 2 and "has no element '#no-such-switch' to click" in no_switch.stderr
