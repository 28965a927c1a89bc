"""``fukaku lab list``, ``fukaku lab run ID... | --all [--quick] [--out DIR] [--seed N]`` and
``fukaku lab map [--results FILE] [--out DIR]``.

``fukaku.cli`` delegates ``fukaku lab ...`` here; ``python -m fukaku.lab ...`` is the same command.
``run --all`` writes the full report into DIR; ``run ID...`` into a folder of its own, ``DIR/ID``
(``DIR/ID1+ID2`` for several), so it never overwrites the full report. Exit status of ``run``: 0
when every claim holds, 1 when one does not hold or an experiment raised, 2 for a usage error.
``map`` writes the textbook map (:mod:`fukaku.lab.textbook_map`) as DIR/textbook-map.md and
DIR/textbook-map.ja.md, with the verdicts of a results.json (by default DIR/results.json, when there); its
experiments link to DIR/report.html. The report of ``run`` leaves its source labels unlinked: only the
documentation site (``make docs``) has the map for them to link to.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path

from .registry import discover
from .runner import run, select


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fukaku lab", description="Run the textbook's claims as experiments "
                                     "and report what was measured.")
    sub = parser.add_subparsers(dest="command", metavar="{list,run,map}")
    sub.add_parser("list", help="list the experiments (id, source, title)",
                   description="List the registered experiments: id, seed section, title.")
    p = sub.add_parser("run", help="run experiments and write report.html and results.json",
                       description="Run experiments; print one line per experiment with its verdict, then "
                                   "the report's path. --all writes DIR/report.html and DIR/results.json; "
                                   "ids write into DIR/ID/ (DIR/ID1+ID2/ for several), beside the full report. "
                                   "Figures an earlier run of an experiment left there are removed first. "
                                   "Exit status 0 when every claim holds.")
    p.add_argument("ids", nargs="*", metavar="ID", help="experiment ids (see `fukaku lab list`)")
    p.add_argument("--all", action="store_true", help="run every experiment")
    p.add_argument("--quick", action="store_true", help="small variants (a few seconds each)")
    p.add_argument("--out", default="lab-report", metavar="DIR",
                   help="output directory (default: lab-report); ids write into a folder of their own in it")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default: 0)")
    m = sub.add_parser("map", help="write the textbook map (every seed section, its modules and experiments)",
                       description="Write textbook-map.md and textbook-map.ja.md into DIR: every section of every "
                                   "seed, the modules that cite it, the experiments that check it and their "
                                   "verdicts in a results.json (none: every experiment 'not run').")
    m.add_argument("--results", metavar="FILE", help="a results.json of `fukaku lab run` (default: "
                   "DIR/results.json when it exists)")
    m.add_argument("--out", default="lab-report", metavar="DIR", help="output directory (default: lab-report)")
    return parser


def selection_folder(ids: Sequence[str]) -> str:
    """The folder name of a run of some experiments: the id, or the ids joined by ``+`` (in the order
    given, duplicates dropped); a long selection is named by its first id, the count and a hash."""
    ids = list(dict.fromkeys(ids))
    name = "+".join(ids)
    if len(name) <= 100:
        return name
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    return f"{ids[0]}+{len(ids) - 1}-more-{digest}"


def cli_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``fukaku lab``; returns the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # --help and usage errors: argparse has printed the message
        return int(exc.code or 0)
    if args.command == "list":
        experiments = discover().values()
        id_width = max((len(e.id) for e in experiments), default=0)
        source_width = max((len(e.source) for e in experiments), default=0)
        for e in experiments:
            print(f"{e.id:<{id_width}}  {e.source:<{source_width}}  {e.title}")
        return 0
    if args.command == "run":
        if args.all == bool(args.ids):
            print("fukaku lab run: give experiment ids or --all (not both); `fukaku lab list` shows the ids",
                  file=sys.stderr)
            return 2
        if args.seed < 0:
            print(f"fukaku lab run: --seed must be >= 0, got {args.seed}", file=sys.stderr)
            return 2
        ids = None if args.all else args.ids
        try:
            select(ids)
        except ValueError as exc:  # unknown ids
            print(f"fukaku {exc}", file=sys.stderr)
            return 2
        base = Path(args.out)
        if base.exists() and not base.is_dir():
            print(f"fukaku lab run: the output path {args.out!r} exists and is not a directory; choose another --out",
                  file=sys.stderr)
            return 2
        out = base if ids is None else base / selection_folder(ids)
        try:
            lab_run = run(ids, quick=args.quick, out_dir=out, seed=args.seed)
        except OSError as exc:  # the output directory cannot be created or written
            print(f"fukaku lab run: cannot write the report to {args.out!r}: {exc}", file=sys.stderr)
            return 2
        return 0 if lab_run.all_hold else 1
    if args.command == "map":
        return _write_map(args.results, Path(args.out))
    parser.print_help(sys.stderr)
    return 2


def _write_map(results: str | None, out: Path) -> int:
    """``fukaku lab map``: the textbook map pages into ``out``; exit status 2 when they cannot be written."""
    from .textbook_map import write_pages

    results_path = Path(results) if results is not None else out / "results.json"
    try:
        out.mkdir(parents=True, exist_ok=True)
        # beside a report: its experiments link to report.html, and the table of seeds is only in the site
        paths = write_pages(results_path if results is not None or results_path.is_file() else None, out,
                            report_url="report.html", seeds_url=None)
    except (OSError, ValueError) as exc:  # no docs/seeds.md, a missing or malformed results file, an unwritable DIR
        print(f"fukaku lab map: {exc}", file=sys.stderr)
        return 2
    print("\n".join(map(str, paths)))
    return 0
