"""The playground's update rate (issue 12): how many times per second the heat-maps of every layer can
be computed for the default network (tanh [4, 2], inputs X1, X2, 500 points, 50 % training), what one
streamed update costs (every layer's maps on the 50 × 50 grid and the output's decision map on the
100 × 100 grid, encoded, as JSON), one training epoch, and a full update as the server makes it while
running (a training slice of half the 40 ms period, then the update): the server sends one every max(40 ms,
that) seconds, so it keeps 25 per second while a full update takes under 40 ms.

The maps come from one vectorised forward pass over both grids, keeping every layer's output
(fukaku.playground.session.Session.maps). Each number is the median of ``--repeats`` timings of
``--calls`` calls. Usage: ``python benchmarks/bench_playground.py [--density 50] [--repeats 7]``.
"""
from __future__ import annotations

import argparse
import json
import os

from bench_core import _median_time as _median_per_call  # benchmarks/ is on the path when run as a script

from fukaku.playground.config import PlaygroundConfig
from fukaku.playground.server import SLICE_SHARE, UPDATES_PER_SECOND
from fukaku.playground.session import OUTPUT_DENSITY, Session

PERIOD = 1 / UPDATES_PER_SECOND   # the server's update period while running


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--density", type=int, default=50, help="grid points per side (default: 50, as served)")
    parser.add_argument("--output-density", type=int, default=OUTPUT_DENSITY,
                        help=f"decision-map points per side (default: {OUTPUT_DENSITY}, as served)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    session = Session(PlaygroundConfig(), density=args.density, output_density=args.output_density)
    session.step(20)
    heat = _median_per_call(session.maps, args.calls, args.repeats)
    update = _median_per_call(lambda: json.dumps(session.snapshot(since=session.epoch)), args.calls, args.repeats)
    epoch = _median_per_call(session.step, max(1, args.calls // 4), args.repeats)

    def full_update():  # as the server's trainer does it while running
        session.advance(PERIOD * SLICE_SHARE)
        json.dumps(session.snapshot(since=session.epoch))

    full = _median_per_call(full_update, max(1, args.calls // 4), args.repeats)
    maps = sum(len(layer) for layer in session.heatmaps())
    print(f"default network tanh [4, 2], 500 points; grid {args.density}x{args.density} ({maps} maps) and decision "
          f"map {args.output_density}x{args.output_density}; {os.cpu_count()} CPUs; load average "
          f"{os.getloadavg()[0]:.2f}")
    print(f"maps of every layer + decision map: {heat * 1e3:7.2f} ms  -> {1 / heat:7.0f} per second (need >= 20)")
    print(f"one streamed update               : {update * 1e3:7.2f} ms  -> {1 / update:7.0f} per second "
          f"({len(json.dumps(session.snapshot(since=session.epoch))) / 1e3:.0f} kB of JSON)")
    print(f"one training epoch                : {epoch * 1e3:7.2f} ms  (250 points, batch 10: 25 SGD steps)")
    print(f"full update (training slice + update): {full * 1e3:5.1f} ms -> {1 / max(PERIOD, full):4.1f} "
          f"updates per second while running (need >= 20)")


if __name__ == "__main__":
    main()
