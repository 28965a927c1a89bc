"""The playground page's update rate (issue 12): the real server and the page in headless Chromium, the
default network (tanh [4, 2], circle, 500 points) training; counts the snapshots the page receives and
draws (each one repaints every heat-map: the neurons', the output unit's and the 100 × 100 decision map,
and the weight links), the epochs trained, the bytes per update, and how busy the page's main thread is
(Chrome's own TaskDuration and ScriptDuration metrics).

Needs the test extra (playwright) and Debian's chromium. Usage:
``python benchmarks/bench_playground_page.py [--seconds 10] [--repeats 3]``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from playwright.sync_api import sync_playwright

from fukaku.playground.launch import CHROMIUM, CHROMIUM_FLAGS, launched


def _metrics(cdp) -> dict[str, float]:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def _epoch(page) -> int:
    return int(page.text_content("#epoch").replace(",", ""))


def measure(page, cdp, seconds: float) -> dict[str, float]:
    """One window of ``seconds`` with training running: updates, epochs, bytes and main-thread time."""
    frames: list[int] = []
    before, epoch0, start = _metrics(cdp), _epoch(page), time.perf_counter()
    page.frames_seen = frames
    page.wait_for_timeout(seconds * 1000)
    after, elapsed = _metrics(cdp), time.perf_counter() - start
    n = len(frames)
    return {"updates_per_s": n / elapsed, "epochs_per_s": (_epoch(page) - epoch0) / elapsed,
            "kb_per_update": sum(frames) / max(n, 1) / 1e3,
            "busy": (after["TaskDuration"] - before["TaskDuration"]) / elapsed,
            "script_ms_per_update": (after["ScriptDuration"] - before["ScriptDuration"]) / max(n, 1) * 1e3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of one measuring window")
    parser.add_argument("--repeats", type=int, default=3, help="windows; the medians are reported")
    args = parser.parse_args()
    with launched() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_FLAGS))
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.frames_seen = []
        page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: page.frames_seen.append(len(payload))))
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.goto(url)
        page.wait_for_function("() => document.getElementById('test-loss').dataset.value !== ''")
        page.click("#run")
        page.wait_for_timeout(1000)
        runs = [measure(page, cdp, args.seconds) for _ in range(args.repeats)]
        browser.close()
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"playground page, default network (tanh [4, 2], circle, 500 points), {os.cpu_count()} CPUs, "
          f"median of {args.repeats} windows of {args.seconds:g} s")
    print(f"updates drawn : {med['updates_per_s']:6.1f} per second (need >= 20), "
          f"{med['kb_per_update']:.1f} kB each")
    print(f"training      : {med['epochs_per_s']:6.1f} epochs per second")
    print(f"page main thread busy {med['busy'] * 100:.0f} % of the time; script "
          f"{med['script_ms_per_update']:.2f} ms per update")


if __name__ == "__main__":
    main()
