"""The playground page end to end: the real server (``python -m fukaku playground``) in a subprocess, the
page in headless Chromium (Debian's ``chromium``, driven by Playwright for Python).

Checks issue 12's acceptance: the default network (tanh [4, 2]) trains on the circle to a test loss below
0.1 within 30 s; the guided tour's four steps show what seed 003 says (a linear network stays near chance
on the circle, more linear units do not help, a nonlinear activation solves it, the suggested spiral setup
reaches a test loss of 0.2 or less); the setup lives in the URL; the controls rebuild the network; a
1280×800 screenshot is kept as an artifact (``$FUKAKU_TEST_ARTIFACTS``, default ``build/test-artifacts``)
and the page's parts do not overlap in it.

``.ci/run`` installs chromium with apt-get and sets ``FUKAKU_REQUIRE_BROWSER``, so there these tests must run;
elsewhere, without chromium, they skip with that reason.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from browser import browser, require_browser  # noqa: F401 (browser: a fixture the tests take)
from fukaku.playground.launch import launched

require_browser()
pytest.importorskip("uvicorn", reason="the playground extra is not installed")

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("FUKAKU_TEST_ARTIFACTS", ROOT / "build" / "test-artifacts"))
LINEAR_FLOOR = 0.4   # a linear network on the circle stays near 0.5 (answering 0): as the lab's exercise


@pytest.fixture(scope="module")
def server():
    with launched() as url:
        yield url


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # a refused request shows in the console as a failed resource; the page reports those itself
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and
            not m.text.startswith("Failed to load resource") else None)
    page.errors = errors
    yield page
    context.close()
    assert not errors, f"the page reported errors: {errors}"


def _open(page, server, fragment: str = "") -> None:
    page.goto(server + fragment)
    page.wait_for_function("() => document.getElementById('test-loss').dataset.value !== ''")


def _loss(page, which: str = "test") -> float:
    return float(page.get_attribute(f"#{which}-loss", "data-value"))


def _epoch(page) -> int:
    return int(page.text_content("#epoch").replace(",", ""))


def _wait_loss(page, below: float, seconds: float) -> float:
    """Wait until the shown test loss is at most ``below``; returns the seconds it took."""
    start = time.monotonic()
    page.wait_for_function(f"() => {{ const v = document.getElementById('test-loss').dataset.value;"
                           f" return v !== '' && Number(v) <= {below}; }}",
                           timeout=seconds * 1000, polling=100)
    return time.monotonic() - start


def _wait_epochs(page, epochs: int, seconds: float = 60) -> None:
    page.wait_for_function(f"() => Number(document.getElementById('epoch').textContent.replace(',', '')) >= {epochs}",
                           timeout=seconds * 1000, polling=100)


def test_playground_default_network_learns_the_circle(page, server):
    _open(page, server)
    assert page.input_value("#activation") == "tanh" and page.input_value("#learning_rate") == "0.03"
    units = page.eval_on_selector_all("#hidden-columns .node-column", "cs => cs.map(c => c.querySelectorAll('.node').length)")
    assert units == [4, 2]
    assert page.locator(".dataset.selected").get_attribute("data-dataset") == "circle"
    assert _epoch(page) == 0 and _loss(page) > 0.3
    page.click("#run")
    took = _wait_loss(page, 0.1, 30)
    print(f"\ndefault tanh [4, 2] on the circle: test loss <= 0.1 after {took:.1f} s, epoch {_epoch(page)}")
    assert page.get_attribute("#run", "aria-label") == "Pause"
    page.click("#run")
    page.wait_for_function("() => document.getElementById('run').getAttribute('aria-label') === 'Run'")
    # the weights are drawn as links, one per weight: 2·4 + 4·2 + 2·1
    assert page.locator("#links path").count() == 18
    widths = page.eval_on_selector_all("#links path", "ps => ps.map(p => Number(p.getAttribute('stroke-width')))")
    assert all(w > 0 for w in widths) and len(set(widths)) > 1


def test_playground_guided_tour_shows_what_the_seed_says(page, server):
    _open(page, server)
    page.click("#tour-toggle")
    assert page.is_visible("#tour")
    results = {}
    for step in (1, 2):   # linear networks stay near chance on the circle
        page.click(f"#tour-steps button[data-step='{step}']")
        page.click("#tour-apply")   # the page shows nothing of the previous run from here on
        _wait_epochs(page, 150)
        results[step] = _loss(page)
        assert results[step] > LINEAR_FLOOR, f"step {step}: a linear network reached {results[step]}"
        assert "as the seed says" in page.text_content("#tour-status")
    assert page.input_value("#activation") == "linear"
    page.click("#tour-steps button[data-step='3']")   # a nonlinear activation solves it
    page.click("#tour-apply")
    page.wait_for_function("() => document.getElementById('activation').value === 'tanh'")
    results[3] = _wait_loss(page, 0.1, 30)
    page.wait_for_function("() => document.getElementById('tour-status').textContent.includes('solved')")
    page.click("#tour-steps button[data-step='4']")   # the spiral, with the setup the tour suggests
    page.click("#tour-apply")
    page.wait_for_function("() => document.querySelector('.dataset.selected').dataset.dataset === 'spiral'")
    results[4] = _wait_loss(page, 0.2, 60)
    page.wait_for_function("() => document.getElementById('tour-status').textContent.includes('goal of step 4')")
    assert "tour=4" in page.url and "dataset=spiral" in page.url
    print(f"\ntour: step 1 test loss {results[1]:.3f}, step 2 {results[2]:.3f} (after 150 epochs); "
          f"step 3 <= 0.1 after {results[3]:.1f} s; step 4 (spiral) <= 0.2 after {results[4]:.1f} s")


def test_playground_setup_lives_in_the_url(page, server):
    _open(page, server, "#dataset=xor&hidden=3&activation=relu&features=x1,x2,x1*x2&show_test=1&learning_rate=0.01")
    assert page.input_value("#activation") == "relu" and page.input_value("#learning_rate") == "0.01"
    assert page.locator(".dataset.selected").get_attribute("data-dataset") == "xor"
    assert page.is_checked("#show-test")
    active = page.eval_on_selector_all("#feature-column .node:not(.inactive)", "ns => ns.map(n => n.dataset.feature)")
    assert active == ["x1", "x2", "x1*x2"]
    assert page.locator("#links path").count() == 3 * 3 + 3
    page.select_option("#activation", "sigmoid")
    page.wait_for_function("() => location.hash.includes('activation=sigmoid')")
    page.reload()
    page.wait_for_function("() => document.getElementById('test-loss').dataset.value !== ''")
    assert page.input_value("#activation") == "sigmoid"
    assert page.locator(".dataset.selected").get_attribute("data-dataset") == "xor"


def test_playground_refused_setup_falls_back_to_the_defaults(page, server):
    _open(page, server, "#hidden=9,9")
    page.wait_for_selector("#message.error")
    assert "hidden" in page.text_content("#message") and "refused" in page.text_content("#message")
    units = page.eval_on_selector_all("#hidden-columns .node-column", "cs => cs.map(c => c.querySelectorAll('.node').length)")
    assert units == [4, 2] and "hidden=4%2C2" in page.url


def test_playground_controls_rebuild_the_network(page, server):
    _open(page, server)
    page.click("#add-layer")
    page.wait_for_function("() => document.querySelectorAll('#hidden-columns .node-column').length === 3")
    page.click("#feature-column .node[data-feature='sin(x1)']")
    page.wait_for_function("() => location.hash.includes('sin%28x1%29')")
    page.click("#hidden-columns .node-column:nth-child(1) button[aria-label^='Add a unit']")
    units = page.eval_on_selector_all("#hidden-columns .node-column", "cs => cs.map(c => c.querySelectorAll('.node').length)")
    assert units == [5, 2, 2]
    assert page.locator("#links path").count() == 3 * 5 + 5 * 2 + 2 * 2 + 2
    page.select_option("#problem", "regression")
    page.wait_for_function("() => document.querySelector('.dataset.selected').dataset.dataset === 'reg-plane'")
    assert page.locator(".dataset").count() == 2
    page.click("#step")   # one epoch, and the server's snapshot says so
    page.wait_for_function("() => document.getElementById('epoch').textContent === '000,001'")
    # the gradient-flow panel: one line per linear layer, drawn
    assert page.locator("#grad-legend span").count() == 4
    page.click("#step")
    page.wait_for_function("() => document.getElementById('epoch').textContent === '000,002'")
    drawn = page.evaluate("""() => { const c = document.getElementById('grad-chart');
        return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 3 && v > 0); }""")
    assert drawn


def test_playground_exports_the_trained_network(page, server):
    _open(page, server)
    page.click("#step")
    page.wait_for_function("() => document.getElementById('epoch').textContent === '000,001'")
    script = page.request.get(server.rstrip("/") + page.get_attribute("#export-script", "href"))
    assert script.ok and "torch" in script.text()
    checkpoint = page.request.get(server.rstrip("/") + page.get_attribute("#export-checkpoint", "href"))
    assert checkpoint.ok and len(checkpoint.body()) > 100


def _overlap(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and \
        a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def test_playground_screenshot_1280x800(page, server):
    _open(page, server, "#dataset=spiral&features=x1,x2,sin(x1),sin(x2)&hidden=8,8&tour=4&show_test=1")
    page.click("#run")
    _wait_loss(page, 0.2, 60)
    page.click("#run")
    page.wait_for_function("() => document.getElementById('run').getAttribute('aria-label') === 'Run'")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "playground-1280x800.png"
    page.screenshot(path=str(shot))
    from PIL import Image
    with Image.open(shot) as image:
        assert image.size == (1280, 800)
    boxes = {name: page.locator(selector).bounding_box() for name, selector in
             {"data": ".column.data", "network": ".column.network", "output": ".column.output",
              "tour": "#tour", "controls": ".controls"}.items()}
    for a, b in [("data", "network"), ("network", "output"), ("data", "output"), ("controls", "network")]:
        assert not _overlap(boxes[a], boxes[b]), f"{a} and {b} overlap: {boxes[a]} {boxes[b]}"
    nodes = page.eval_on_selector_all(".node canvas, .heatmap-frame, #grad-chart, #regenerate", """els => els.map(e => {
        const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; })""")
    assert all(n["x"] >= 0 and n["x"] + n["width"] <= 1280 and n["y"] + n["height"] <= 800 for n in nodes)
    assert not any(_overlap(boxes["tour"], n) for n in nodes), "the tour covers part of the network or output"
    print(f"\nscreenshot: {shot}")
