"""Full-page screenshots of HTML pages at several widths, checked for text that is cut off or overlaps.

Each page is opened in headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright, launched as
the playground's tests launch it: :mod:`fukaku.playground.launch`), at each width (default 1280 and 390 px,
a desktop and a phone), its images loaded (lazy ones too), and saved as a full-page PNG. One script in the
page (:data:`LAYOUT_CHECK`) then lists the offenders:

- **page overflow**: the page is wider than the viewport (``document.scrollingElement.scrollWidth`` beyond
  the viewport's width), with the elements that stick out;
- **clipped**: a piece of text whose box crosses the viewport's left or right edge, or the edge of an
  ancestor that hides its overflow. Text inside a box that scrolls (``overflow: auto``/``scroll``) can be
  scrolled to and is not clipped; nor is text in a fixed-position panel off the screen (a closed menu), a
  deliberately truncated line (``text-overflow: ellipsis``) or visually hidden text for screen readers (a
  clipping box of 2 px or less);
- **overlap**: two visible pieces of text (headings, paragraphs, table cells, captions, labels …) whose
  boxes overlap by more than 2 px both ways, as the reader sees the page at scroll 0 (fixed elements where
  the viewport puts them, not where a full-page stitch draws them); text inside inline SVG (a chart's own
  labels) is left out;
- **image not loaded**: an ``<img>`` whose file did not load.

Text the reader cannot see is in none of these checks: hidden text (``display``, ``visibility``, opacity 0),
text in an **off-canvas** box (a closed navigation drawer: a box taken out of the flow, moved by a transform,
or marked ``inert``/``aria-hidden``, that lies wholly beside the viewport), and, for overlaps, the part of a
line scrolled out of its scroll box. A **stuck** sticky box (a header or a list's title that stays put while
content scrolls under its opaque background, as in a scrolled sidebar) is a layer of its own: its text is
checked against itself, not against what passes under it. A sticky box at its place in the flow is text like
any other, so a sticky header that covers the page at scroll 0 still counts.

Usage::

    python tools/screenshots.py OUT_DIR lab-report/report.html                 # files (file:// URLs)
    python tools/screenshots.py OUT_DIR --site site lab/report.html textbook-map/ ja/textbook-map/
    python tools/screenshots.py OUT_DIR report.html --variant ja='label[for="claims-ja"]' --width 390

``--site DIR`` serves DIR over HTTP on a free port of 127.0.0.1 (directory URLs such as ``textbook-map/``
resolve to their ``index.html``) and the pages are paths inside it. ``--variant NAME=SELECTOR`` adds a
screenshot of each page after clicking SELECTOR (the lab report's Japanese claims). PNGs are named
``<page>-<width>[-<variant>].png``, ``<page>`` being a site page's whole path (``ja-textbook-map``) or a
file's last two path parts (``lab-report-report.html``). Exit status: 0 when no page has an offender, 1 when
one has (each is printed), 2 for a usage error (two pages that would share a PNG name among them) or when
Chromium or Playwright is missing.
"""
from __future__ import annotations

import argparse
import http.server
import re
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

DEFAULT_WIDTHS = (1280, 390)
VIEWPORT_HEIGHT = 800
MAX_SCREENSHOT_HEIGHT = 30_000  # px; a longer page is checked whole but its PNG shows the top this tall

# Runs in the page; returns a list of offenders, each {kind, detail}. Tolerances: 1 px for edges (sub-pixel
# rounding), 2 px both ways for overlaps (adjacent lines' boxes may touch).
LAYOUT_CHECK = r"""
() => {
  const EDGE = 1, OVERLAP = 2, HIDDEN = 2;
  const viewport = document.documentElement.clientWidth;
  const scroller = document.scrollingElement || document.documentElement;
  const offenders = [];
  const describe = (el) => {
    let name = el.tagName.toLowerCase();
    if (el.id) name += "#" + el.id;
    if (typeof el.className === "string" && el.className.trim())
      name += "." + el.className.trim().split(/\s+/).join(".");
    const text = (el.textContent || "").replace(/\s+/g, " ").trim();
    return text ? `<${name}> "${text.length > 40 ? text.slice(0, 39) + "…" : text}"` : `<${name}>`;
  };
  const box = (r) => `${Math.round(r.left)}–${Math.round(r.right)} × ${Math.round(r.top + scrollY)}–` +
                     `${Math.round(r.bottom + scrollY)}`;

  // the sticky boxes that are stuck: moved from their place in the flow (found by setting each to static
  // for a moment: a sticky box keeps its room in the flow, so nothing else moves)
  const stuck = new Set();
  for (const el of document.body.querySelectorAll("*")) {
    if (getComputedStyle(el).position !== "sticky") continue;
    const at = el.getBoundingClientRect();
    const [value, priority] = [el.style.getPropertyValue("position"), el.style.getPropertyPriority("position")];
    el.style.setProperty("position", "static", "important");
    const flow = el.getBoundingClientRect();
    if (value) el.style.setProperty("position", value, priority); else el.style.removeProperty("position");
    if (Math.abs(at.top - flow.top) > EDGE || Math.abs(at.left - flow.left) > EDGE) stuck.add(el);
  }
  // a box wholly beside the viewport (1 px may peek in); a zero-width box shows its overflow, so it is not
  const beside = (r) => r.width > EDGE && (r.right <= EDGE || r.left >= viewport - EDGE);

  // what limits an element's text: the scroll boxes, the boxes that hide overflow, a fixed panel, an
  // off-canvas box, the stuck sticky box it moves with (its layer)
  const limits = new Map();
  const limitsOf = (el) => {
    if (limits.has(el)) return limits.get(el);
    const parent = el.parentElement;
    const up = parent ? limitsOf(parent) : {scrolls: false, fixed: false, ellipsis: false, srOnly: false,
                                            offCanvas: false, layer: null, clippers: [], scrollBoxes: []};
    const result = {...up, clippers: [...up.clippers]};
    const style = getComputedStyle(el);
    if (style.position === "fixed") result.fixed = true;
    if (style.textOverflow === "ellipsis") result.ellipsis = true;
    if (stuck.has(el)) result.layer = el;
    if ((style.position === "fixed" || style.position === "absolute" || style.transform !== "none" || el.inert
         || el.getAttribute("aria-hidden") === "true") && beside(el.getBoundingClientRect()))
      result.offCanvas = true;
    const ox = style.overflowX, oy = style.overflowY;
    if (ox === "auto" || ox === "scroll" || oy === "auto" || oy === "scroll") {
      result.scrolls = true;
      result.clippers = [];  // what lies outside a scroll box is reached by scrolling it
      result.scrollBoxes = [...up.scrollBoxes, el];
    } else if (ox === "hidden" || ox === "clip" || oy === "hidden" || oy === "clip" || style.clipPath !== "none"
               || (style.clip && style.clip !== "auto")) {
      const r = el.getBoundingClientRect();
      if (r.width <= HIDDEN || r.height <= HIDDEN) result.srOnly = true;
      result.clippers.push(el);
    }
    limits.set(el, result);
    return result;
  };

  // the part of a line's box inside the visible area of every scroll box around it (null: scrolled out)
  const seenPart = (r, scrollBoxes) => {
    let {left, top, right, bottom} = r;
    for (const s of scrollBoxes) {
      const b = s.getBoundingClientRect();
      left = Math.max(left, b.left + s.clientLeft);
      top = Math.max(top, b.top + s.clientTop);
      right = Math.min(right, b.left + s.clientLeft + s.clientWidth);
      bottom = Math.min(bottom, b.top + s.clientTop + s.clientHeight);
    }
    return right - left > OVERLAP && bottom - top > OVERLAP ? {left, top, right, bottom} : null;
  };

  // every visible piece of text, as the boxes of its lines
  const pieces = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.nodeValue.trim()) continue;
    const el = node.parentElement;
    if (!el || el.closest("script, style, noscript, template, svg")) continue;
    if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    const limit = limitsOf(el);
    if (limit.srOnly || limit.offCanvas) continue;
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) {
      if (r.width < 1 || r.height < 1) continue;
      pieces.push({node, el, r, limit, seen: seenPart(r, limit.scrollBoxes)});
    }
  }

  for (const {el, r, limit} of pieces) {
    if (limit.ellipsis) continue;
    const cut = limit.clippers.find((c) => {
      const b = c.getBoundingClientRect();
      return r.left < b.left - EDGE || r.right > b.right + EDGE || r.top < b.top - EDGE || r.bottom > b.bottom + EDGE;
    });
    if (cut) {
      offenders.push({kind: "clipped", detail: `${describe(el)} at ${box(r)} is cut off by ${describe(cut)}`});
    } else if (!limit.scrolls && !limit.fixed &&
               (r.left < -EDGE || r.right > viewport + EDGE || r.top + scrollY < -EDGE)) {
      offenders.push({kind: "clipped", detail: `${describe(el)} at ${box(r)} crosses the viewport (0–${viewport})`});
    }
  }

  // overlaps: sweep the seen parts of the line boxes from top to bottom; a stuck sticky box covers what
  // scrolls under it on purpose, so only pieces of one layer are compared
  const seen = pieces.filter((p) => p.seen).sort((a, b) => a.seen.top - b.seen.top);
  for (let i = 0; i < seen.length; i++) {
    const a = seen[i];
    for (let j = i + 1; j < seen.length && seen[j].seen.top < a.seen.bottom - OVERLAP; j++) {
      const b = seen[j];
      if (a.node === b.node || a.limit.layer !== b.limit.layer) continue;
      const w = Math.min(a.seen.right, b.seen.right) - Math.max(a.seen.left, b.seen.left);
      const h = Math.min(a.seen.bottom, b.seen.bottom) - Math.max(a.seen.top, b.seen.top);
      if (w > OVERLAP && h > OVERLAP)
        offenders.push({kind: "overlap", detail: `${describe(a.el)} and ${describe(b.el)} overlap at ${box(a.seen)}`});
    }
  }

  if (scroller.scrollWidth > viewport + EDGE) {
    // name the outermost elements that stick out of the viewport (their parents fit)
    const wide = [...document.body.querySelectorAll("*")].filter((el) => {
      const r = el.getBoundingClientRect();
      const p = el.parentElement.getBoundingClientRect();
      return r.right > viewport + EDGE && p.right <= viewport + EDGE && !limitsOf(el).fixed;
    }).slice(0, 3).map((el) => `${describe(el)} to ${Math.round(el.getBoundingClientRect().right)} px`);
    offenders.push({kind: "page overflow", detail: `the page is ${scroller.scrollWidth} px wide in a ` +
                    `${viewport} px viewport` + (wide.length ? `: ${wide.join("; ")}` : "")});
  }
  for (const img of document.images) {
    if (img.complete && img.naturalWidth === 0 && img.getAttribute("src"))
      offenders.push({kind: "image not loaded", detail: img.getAttribute("src")});
  }
  return offenders;
}
"""

# Loads every image (lazy ones are otherwise skipped by a full-page screenshot) and waits for the fonts.
_LOAD_EVERYTHING = """
async () => {
  for (const img of document.images) img.loading = "eager";
  await Promise.all([...document.images].map((img) => img.complete ? null :
    new Promise((done) => { img.addEventListener("load", done); img.addEventListener("error", done); })));
  await document.fonts.ready;
}
"""


@dataclass
class Shot:
    """One screenshot: which page, at which width and in which variant; the PNG; what the check found."""

    page: str
    width: int
    variant: str
    path: Path
    offenders: list[dict] = field(default_factory=list)

    def __str__(self) -> str:
        head = f"{self.page} at {self.width} px{f' ({self.variant})' if self.variant else ''}: {self.path}"
        if not self.offenders:
            return f"ok    {head}"
        return "\n".join([f"FAIL  {head}"] + [f"      {o['kind']}: {o['detail']}" for o in self.offenders])


def shot_name(page: str, width: int, variant: str = "", *, depth: int | None = 2) -> str:
    """The PNG's file name for a page: the last ``depth`` parts of its path (all with ``None``, as for a page
    of a served site), the width and the variant, e.g. ``lab-report-report.html-390-ja.png`` for
    ``/home/me/lab-report/report.html``, ``ja-concepts-cnn-1280.png`` for the site's ``ja/concepts/cnn/``
    (``depth=None``), ``index-390.png`` for the site's root ``""``."""
    return f"{_stem(page, depth)}-{width}{'-' + variant if variant else ''}.png"


def _stem(page: str, depth: int | None) -> str:
    parts = [p for p in re.sub(r"^[a-z]+://[^/]*", "", page).split("/") if p]
    return re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(parts[-depth:] if depth else parts)).strip("-") or "index"


@contextmanager
def served(directory: str | Path) -> Iterator[str]:
    """Serve ``directory`` over HTTP on a free port of 127.0.0.1 while the block runs; yields the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002  (the base class's signature)
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def check_page(page, url: str, width: int, path: Path, *, click: str | None = None) -> list[dict]:
    """Open ``url`` in a Playwright ``page`` ``width`` px wide, click ``click`` (a selector) if given, save a
    full-page screenshot to ``path`` and return the offenders of :data:`LAYOUT_CHECK`, checked at scroll 0 (a
    click may have scrolled the page)."""
    page.set_viewport_size({"width": width, "height": VIEWPORT_HEIGHT})
    page.goto(url, wait_until="load")
    if click:
        if page.locator(click).count() == 0:
            raise ValueError(f"screenshots: {url} has no element {click!r} to click (check the --variant selector)")
        page.locator(click).click()
    page.evaluate(_LOAD_EVERYTHING)
    height = page.evaluate("() => document.scrollingElement.scrollHeight")
    clip = None
    if height > MAX_SCREENSHOT_HEIGHT:
        clip = {"x": 0, "y": 0, "width": width, "height": MAX_SCREENSHOT_HEIGHT}
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True, clip=clip)
    page.evaluate("() => window.scrollTo(0, 0)")
    return page.evaluate(LAYOUT_CHECK)


def take_screenshots(out_dir: str | Path, pages: Sequence[str], *, site: str | Path | None = None,
                     widths: Sequence[int] = DEFAULT_WIDTHS, variants: dict[str, str] | None = None,
                     browser=None) -> list[Shot]:
    """Screenshot and check every page at every width, plainly and in every variant.

    Args:
        out_dir: where the PNGs go (created).
        pages: HTML files, ``http(s)://`` or ``file://`` URLs, or with ``site`` paths inside it.
        site: a built site to serve over HTTP (pages are then relative to it, and their PNGs are named by
            the whole path: ``concepts/cnn/`` and ``ja/concepts/cnn/`` are two files).
        widths: viewport widths in CSS px.
        variants: name -> a selector to click before the screenshot (e.g. a language switch).
        browser: a Playwright ``Browser`` to use; by default Debian's chromium is launched for the call.

    Returns:
        one :class:`Shot` per page, width and variant (the plain view is the variant ``""``).

    Raises:
        RuntimeError: Playwright or Debian's chromium is not installed.
        FileNotFoundError: a page file (or the site) does not exist.
        ValueError: a page has no element a variant's selector names, or two pages would get one PNG name.
    """
    out = Path(out_dir)
    views = [("", None)] + sorted((variants or {}).items())
    depth = None if site is not None else 2
    stems: dict[str, str] = {}
    for page in pages:
        stem = _stem(page, depth)
        other = stems.setdefault(stem, page)
        if other != page:
            raise ValueError(f"screenshots: the pages {other!r} and {page!r} would both be saved as "
                             f"{stem}-<width>.png; shoot them in two calls, into separate folders")
    with _base_url(site) as base, _browser(browser) as chromium:
        urls = [_url(base, page) for page in pages]
        context = chromium.new_context()
        try:
            tab = context.new_page()
            shots = []
            for page, url in zip(pages, urls):
                for width in widths:
                    for variant, click in views:
                        path = out / shot_name(page, width, variant, depth=depth)
                        offenders = check_page(tab, url, width, path, click=click)
                        shots.append(Shot(page, width, variant, path, offenders))
        finally:
            context.close()
    return shots


@contextmanager
def _browser(browser) -> Iterator:
    """``browser`` as it is, or Debian's chromium launched headless for the block."""
    if browser is not None:
        yield browser
        return
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise RuntimeError("screenshots: Playwright is not installed (pip install playwright; the test extra "
                           "has it)") from None
    from fukaku.playground.launch import CHROMIUM, CHROMIUM_FLAGS

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"screenshots: Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_FLAGS))
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def _base_url(site: str | Path | None) -> Iterator[str | None]:
    if site is None:
        yield None
        return
    if not Path(site).is_dir():
        raise FileNotFoundError(f"screenshots: the site {str(site)!r} is not a directory; build it first")
    with served(site) as url:
        yield url


def _url(base: str | None, page: str) -> str:
    if base is not None:
        return base + page.lstrip("/")
    if re.match(r"^(https?|file)://", page):
        return page
    path = Path(page)
    if not path.is_file():
        raise FileNotFoundError(f"screenshots: no page {page!r}; give an HTML file, a URL, or --site DIR")
    return path.resolve().as_uri()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/screenshots.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", metavar="OUT_DIR", help="where the PNGs go")
    parser.add_argument("pages", nargs="+", metavar="PAGE", help="HTML files or URLs; with --site, paths in it")
    parser.add_argument("--site", metavar="DIR", help="serve this built site over HTTP; pages are paths in it")
    parser.add_argument("--width", type=int, action="append", metavar="PX",
                        help=f"viewport width (repeatable; default {' and '.join(map(str, DEFAULT_WIDTHS))})")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=SELECTOR",
                        help="also shoot each page after clicking SELECTOR (repeatable)")
    args = parser.parse_args(argv)
    variants = {}
    for spec in args.variant:
        name, sep, selector = spec.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z0-9_-]+", name) or not selector:
            parser.error(f"--variant wants NAME=SELECTOR (NAME of letters, digits, - and _), got {spec!r}")
        variants[name] = selector
    if any(w < 100 for w in args.width or ()):
        parser.error("--width is in CSS px and at least 100")
    try:
        shots = take_screenshots(args.out_dir, args.pages, site=args.site, widths=args.width or DEFAULT_WIDTHS,
                                 variants=variants)
    except (RuntimeError, FileNotFoundError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    for shot in shots:
        print(shot)
    failed = sum(bool(s.offenders) for s in shots)
    print(f"{len(shots) - failed} of {len(shots)} screenshots have nothing cut off or overlapping")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
