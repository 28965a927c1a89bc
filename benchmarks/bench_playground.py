"""The playground's update rate (issue 12): how many times per second the heat-maps of every layer can
be computed for the default network (tanh [4, 2], inputs X1, X2, 500 points, 50 % training), and
what one streamed update costs (heat-maps + encoding + JSON), next to one training epoch.

The heat-maps come from one vectorised forward pass over the whole grid, keeping every layer's
output (fukaku.playground.network.heatmaps). Each number is the median of ``--repeats`` timings of
``--calls`` calls. Usage: ``python benchmarks/bench_playground.py [--density 50] [--repeats 7]``.
"""
from __future__ import annotations

import argparse
import json
import os

from bench_core import _median_time as _median_per_call  # benchmarks/ is on the path when run as a script

from fukaku.playground.config import PlaygroundConfig
from fukaku.playground.session import Session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--density", type=int, default=50, help="grid points per side (default: 50, as served)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    session = Session(PlaygroundConfig(), density=args.density)
    session.step(20)
    heat = _median_per_call(session.heatmaps, args.calls, args.repeats)
    update = _median_per_call(lambda: json.dumps(session.snapshot(since=session.epoch)), args.calls, args.repeats)
    epoch = _median_per_call(session.step, max(1, args.calls // 4), args.repeats)
    maps = sum(len(layer) for layer in session.heatmaps())
    print(f"default network tanh [4, 2], 500 points; grid {args.density}x{args.density} ({maps} maps); "
          f"{os.cpu_count()} CPUs")
    print(f"heat-maps of every layer: {heat * 1e3:7.2f} ms  -> {1 / heat:7.0f} per second (need >= 20)")
    print(f"one streamed update     : {update * 1e3:7.2f} ms  -> {1 / update:7.0f} per second "
          f"({len(json.dumps(session.snapshot(since=session.epoch))) / 1e3:.0f} kB of JSON)")
    print(f"one training epoch      : {epoch * 1e3:7.2f} ms  (250 points, batch 10: 25 SGD steps)")


if __name__ == "__main__":
    main()
