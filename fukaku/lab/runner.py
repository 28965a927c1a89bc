"""Run lab experiments: each one timed, each verdict printed on one line, everything written to a report.

A verdict line reads ``holds  softmax-demo  (  0.5 s)  3/3 checks  max rel. error 1.9e-09 ≤ 1e-08, sum 1``;
when a claim does not hold it names the checks that failed, with their measured and claimed values.

``run(["softmax-demo"], quick=True, out_dir="lab-report")`` runs the named experiments (all of them
when ``ids`` is None) and writes ``lab-report/report.html`` and ``lab-report/results.json``. An
experiment that raises does not stop the run: it becomes an ``error`` entry with its traceback.
Before an experiment runs, the figures an earlier run of it left in ``out_dir/figures`` are removed
(:func:`clear_figures`), so the folder never shows a figure the new report does not.
"""
from __future__ import annotations

import glob
import json
import math
import sys
import time
import traceback
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

from . import plotting
from .registry import Check, Context, Experiment, Result, discover

HOLDS, DOES_NOT_HOLD, ERROR = "holds", "does not hold", "error"
_HEADLINE_CHARS = 90


@dataclass
class Outcome:
    """One experiment's entry in a run: what it claims, what it measured, the verdict.

    ``status`` is ``"holds"`` (every check holds), ``"does not hold"`` or ``"error"`` (the experiment
    raised; ``error`` holds the traceback). ``checks``: one dict per :class:`~fukaku.lab.registry.Check`
    (name, measured, relation, expected, holds). ``headline``: the summary's first sentence on one line (for
    an error, the exception). ``figures`` are paths relative to the run's output directory.
    """

    id: str
    title: str
    source: str
    claim: str
    status: str
    seconds: float
    checks: list[dict]
    measured: dict
    summary: str
    headline: str
    figures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class LabRun:
    """A finished run: its outcomes (in run order), settings, and where the report was written."""

    outcomes: list[Outcome]
    out_dir: Path
    quick: bool
    seed: int
    seconds: float
    figures_available: bool
    report_path: Path | None = None
    json_path: Path | None = None

    @property
    def all_hold(self) -> bool:
        return bool(self.outcomes) and all(o.status == HOLDS for o in self.outcomes)

    def counts(self) -> dict[str, int]:
        return {status: sum(o.status == status for o in self.outcomes) for status in (HOLDS, DOES_NOT_HOLD, ERROR)}

    def to_dict(self) -> dict:
        """The run as JSON-ready data (what results.json holds and report.html shows)."""
        import fukaku

        return {
            "fukaku_version": fukaku.__version__,
            "numpy_version": np.__version__,
            "python_version": sys.version.split()[0],
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "quick": self.quick,
            "seed": self.seed,
            "seconds": round(self.seconds, 3),
            "figures_available": self.figures_available,
            "counts": self.counts(),
            "all_hold": self.all_hold,
            "experiments": [asdict(o) for o in self.outcomes],
        }


def select(ids: Sequence[str] | None) -> list[Experiment]:
    """The experiments named by ``ids`` (in that order, duplicates dropped), or all when ``None``.

    Raises ValueError naming every unknown id and the known ones.
    """
    registry = discover()
    if not registry:
        raise ValueError("lab: no experiments are registered (fukaku/lab/experiments/ holds none)")
    if ids is None:
        return list(registry.values())
    if isinstance(ids, str):
        ids = [ids]
    unknown = [i for i in ids if i not in registry]
    if unknown:
        raise ValueError(f"lab: unknown experiment id(s) {', '.join(map(repr, unknown))}; known ids: "
                         f"{', '.join(registry)} (see `fukaku lab list`)")
    if not ids:
        raise ValueError("lab: no experiment selected; name one or more ids, or run them all")
    return [registry[i] for i in dict.fromkeys(ids)]


def run(ids: Sequence[str] | None = None, *, quick: bool = False, out_dir: str | Path = "lab-report",
        seed: int = 0, quiet: bool = False, stream: TextIO | None = None) -> LabRun:
    """Run experiments and write ``out_dir/report.html`` and ``out_dir/results.json``.

    ``ids``: experiment ids, or ``None`` for all. ``quick``: the small variants (seconds each).
    ``seed``: every experiment gets the same seed (``ctx.seed``, and ``fukaku.manual_seed(seed)``
    before it starts), so its numbers do not depend on which experiments ran before it.
    ``quiet``: print nothing; otherwise the one-line verdicts go to ``stream`` (default ``sys.stdout``
    at call time). Returns the :class:`LabRun`.
    """
    from .report import write_report

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"lab.run: seed must be a non-negative integer, got {seed!r}")
    experiments = select(ids)
    if quiet:
        stream = None
    elif stream is None:
        stream = sys.stdout
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"lab.run: the output path {str(out)!r} exists and is not a directory; "
                                 "choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    width = max(len(e.id) for e in experiments)
    previous = _previous_figures(out)
    start = time.perf_counter()
    outcomes = []
    for exp in experiments:
        clear_figures(out, exp.id, previous.get(exp.id, ()))
        outcome = run_one(exp, Context(out_dir=out, quick=quick, seed=int(seed)))
        outcomes.append(outcome)
        if stream is not None:
            print(verdict_line(outcome, width), file=stream, flush=True)
    lab_run = LabRun(outcomes, out, quick, int(seed), time.perf_counter() - start, plotting.available())
    lab_run.report_path, lab_run.json_path = write_report(lab_run)
    if stream is not None:
        counts = lab_run.counts()
        tally = f"{counts[HOLDS]} of {len(outcomes)} hold"
        if counts[DOES_NOT_HOLD] or counts[ERROR]:
            tally += f", {counts[DOES_NOT_HOLD]} do not hold, {counts[ERROR]} error(s)"
        print(f"{tally} ({lab_run.seconds:.1f} s); report: {lab_run.report_path}", file=stream, flush=True)
    return lab_run


def clear_figures(out_dir: str | Path, exp_id: str, listed: Sequence[str] = ()) -> list[Path]:
    """Remove the figures an earlier run of experiment ``exp_id`` left under ``out_dir/figures``: the
    files named after it (``<id>.png``, ``<id>.svg`` ...) and those ``listed`` (paths relative to
    ``out_dir``, as an earlier results.json lists them). Nothing outside ``out_dir/figures`` is
    touched. Returns the removed paths."""
    folder = Path(out_dir) / "figures"
    if not folder.is_dir():
        return []
    inside = folder.resolve()
    candidates = set(folder.glob(f"{glob.escape(exp_id)}.*"))
    for relative in listed:
        path = Path(out_dir) / str(relative)
        if path.resolve().parent == inside:  # a name from an old results.json: never a path out of figures/
            candidates.add(path)
    removed = []
    for path in sorted(candidates):
        if path.is_file():
            path.unlink()
            removed.append(path)
    return removed


# a results.json larger than this is not one the lab wrote (18 experiments write a few hundred KB)
_MAX_RESULTS_BYTES = 16 * 2**20


def _previous_figures(out_dir: Path) -> dict[str, list[str]]:
    """The figures each experiment had in the report already in ``out_dir`` (its results.json), by id.

    The file is read defensively — it is only a hint of which stale figures to remove: anything but a
    report of ours (missing, huge, deeply nested, other shapes) gives no names rather than an error.
    """
    path = out_dir / "results.json"
    try:
        if path.stat().st_size > _MAX_RESULTS_BYTES:
            return {}
        record = json.loads(path.read_text(encoding="utf-8"))
        return {str(e["id"]): [f for f in e["figures"] if isinstance(f, str)]
                for e in record["experiments"] if isinstance(e, dict) and isinstance(e.get("figures"), list)}
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return {}


def run_one(exp: Experiment, ctx: Context) -> Outcome:
    """Run one experiment, timed; an exception (or a malformed result) becomes an ``error`` outcome."""
    import fukaku

    fukaku.manual_seed(ctx.seed)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = exp.run(ctx)
            if not isinstance(result, Result):
                raise TypeError(f"experiment {exp.id!r} returned {type(result).__name__}, expected lab.Result")
            measured = _jsonable(result.measured)
            if not isinstance(measured, dict):
                raise TypeError(f"experiment {exp.id!r}: Result.measured must be a dict, got "
                                f"{type(result.measured).__name__}")
            checks = _check_records(exp.id, result.checks)
            figures = [_relative_figure(Path(p), ctx.out_dir, exp.id) for p in result.figures]
            status = HOLDS if result.holds else DOES_NOT_HOLD
            summary, error = str(result.summary), None
            headline = _first_sentence(summary)
        except Exception as exc:  # noqa: BLE001  (one failing experiment must not end the run)
            status, checks, measured, figures = ERROR, [], {}, []
            summary = f"The experiment raised {type(exc).__name__}."
            headline = f"{type(exc).__name__}: {exc}"
            error = traceback.format_exc()
    seconds = time.perf_counter() - start
    seen = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    return Outcome(exp.id, exp.title, exp.source, exp.claim, status, round(seconds, 4), checks, measured, summary,
                   _one_line(headline), figures, seen, error)


def verdict_line(outcome: Outcome, id_width: int = 0) -> str:
    """The runner's one line for an outcome: status, id, time, checks passed, and the headline, or the
    checks that failed when the claim does not hold."""
    line = f"{outcome.status:<13}  {outcome.id:<{id_width}}  ({outcome.seconds:5.1f} s)  "
    if outcome.status == ERROR:
        return line + outcome.headline
    passed = sum(check["holds"] for check in outcome.checks)
    line += f"{passed}/{len(outcome.checks)} checks  "
    if outcome.status == HOLDS:
        return line + outcome.headline
    return line + _one_line("failed: " + "; ".join(describe_check(c) for c in outcome.checks if not c["holds"]))


def describe_check(check: dict) -> str:
    """``name: measured relation expected`` for a check record, e.g. ``"sum is 1: 1.0002 = 1"``."""
    from .report import format_value

    return (f"{check['name']}: {format_value(check['measured'])} {check['relation']} "
            f"{format_value(check['expected'])}")


def _check_records(exp_id: str, checks) -> list[dict]:
    """The checks of a result as JSON-ready records; an experiment that states none has compared nothing."""
    if not isinstance(checks, (list, tuple)) or not all(isinstance(c, Check) for c in checks):
        raise TypeError(f"experiment {exp_id!r}: Result.checks must be a list of lab.Check, got {checks!r}")
    if not checks:
        raise ValueError(f"experiment {exp_id!r} states no checks, so nothing was compared with the claim; "
                         "return at least one lab.Check from checks()")
    return [{"name": c.name, "measured": _jsonable(c.measured), "relation": c.relation,
             "expected": _jsonable(c.expected), "holds": c.holds} for c in checks]


def _relative_figure(path: Path, out_dir: Path, exp_id: str) -> str:
    if not path.is_file():
        raise FileNotFoundError(f"experiment {exp_id!r} lists figure {str(path)!r}, which was not written")
    try:
        return path.resolve().relative_to(out_dir.resolve()).as_posix()
    except ValueError:
        raise ValueError(f"experiment {exp_id!r}: figure {str(path)!r} is outside the output directory "
                         f"{str(out_dir)!r}; use ctx.figure_path(name)") from None


def _first_sentence(text: str) -> str:
    cut = text.find(". ")
    return text if cut == -1 else text[:cut + 1]


def _one_line(text: str) -> str:
    """``text`` on one line, at most ~90 characters."""
    line = " ".join(text.split())
    return line if len(line) <= _HEADLINE_CHARS else line[:_HEADLINE_CHARS - 1] + "…"


def _jsonable(value):
    """Measured values as JSON data: NumPy scalars/arrays and tensors to Python numbers and lists;
    non-finite floats to the strings "nan", "inf", "-inf" (JSON has no literal for them)."""
    from ..tensor import Tensor

    if isinstance(value, Tensor):
        value = value._data
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else ("nan" if math.isnan(value) else ("inf" if value > 0 else "-inf"))
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return value.as_posix()
    return repr(value)
