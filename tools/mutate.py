"""Mutation testing of fukaku's critical rules: do the tests notice a small wrong change?

Each mutant changes one token in one rule — an operator (``+`` → ``-``, ``*`` → ``/``, ``<`` → ``<=``,
``+=`` → ``-=``), a constant (``1`` → ``2``, ``True`` → ``False``), a dropped unary minus or ``not`` —
and the tests mapped to that source file run with ``pytest -x``. A failing run *kills* the mutant; a
passing run means the mutant *survived*: either the tests cannot see that change, or the change is
equivalent (it computes the same thing). Only the rules below are mutated: the vjp/jvp of the core
ops, the optimizers' updates, the normalisation statistics, the loss gradients and the
DataLoader's order (see :data:`TARGETS`).

The checkout is never touched: the repository's files (tracked and untracked-but-not-ignored, as
they are in the working tree) are copied into a temporary directory, mutants are written there
atomically and the original is written back after each run (in a ``finally``, so Ctrl-C or SIGTERM
restore it too), and pytest runs there with ``PYTHONPATH`` pointing at the copy. One pytest process
runs at a time.

Usage (on demand only; it is not part of the test suite)::

    python tools/mutate.py --list                        # the mutants, without running anything
    python tools/mutate.py                               # every target (hours on two cores)
    python tools/mutate.py --target elementwise --sample 40 --seed 1
    python tools/mutate.py --results /tmp/m.jsonl --resume   # continue an interrupted run
    python tools/mutate.py --summary /tmp/m.jsonl        # the report of a finished (or partial) run

The report lists killed/survived per mutant, the kill rate per target and overall, and each
surviving mutant's line before and after; docs/mutation.md holds the last report with a reason for
every survivor.
"""
from __future__ import annotations

import argparse
import ast
import bisect
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tokenize
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPS_RULES = ("vjp", "jvp", "derivative")
GRADCHECK = "tests/ops/test_gradcheck.py"  # every op against finite differences: fast, and kills most mutants


@dataclass(frozen=True)
class Target:
    """Where to mutate (functions of ``source`` named in ``functions``, ``"*"`` for every one) and
    which tests must notice (run in order, so the fast broad ones first)."""

    source: str
    functions: tuple[str, ...]
    tests: tuple[str, ...]


TARGETS: dict[str, Target] = {
    "elementwise": Target("fukaku/ops/elementwise.py", OPS_RULES, (GRADCHECK, "tests/ops/test_elementwise.py")),
    "activation": Target("fukaku/ops/activation.py", OPS_RULES,
                         (GRADCHECK, "tests/ops/test_activation.py", "tests/nn/test_activation.py")),
    "normalization": Target("fukaku/ops/normalization.py", ("*",),
                            (GRADCHECK, "tests/ops/test_normalization.py", "tests/nn/test_layers.py")),
    "loss": Target("fukaku/ops/loss.py",
                   OPS_RULES + ("_dx", "_dt", "_dq_dp", "_per_position", "_positions", "_grad_np", "_add_onehot"),
                   (GRADCHECK, "tests/nn/test_loss.py")),
    "reduce": Target("fukaku/ops/reduce.py", OPS_RULES, (GRADCHECK, "tests/ops/test_reduce.py")),
    "linalg": Target("fukaku/ops/linalg.py", OPS_RULES, (GRADCHECK, "tests/ops/test_linalg.py")),
    "sgd": Target("fukaku/optim/sgd.py", ("_update_group",), ("tests/optim/test_optimizers.py",)),
    "adam": Target("fukaku/optim/adam.py", ("_update_group",), ("tests/optim/test_optimizers.py",)),
    "effective_grad": Target("fukaku/optim/optimizer.py", ("effective_grad",), ("tests/optim/test_optimizers.py",)),
    "sampler": Target("fukaku/utils/data/sampler.py", ("_index_array", "__iter__", "_batches", "__len__"),
                      ("tests/utils/test_data.py",)),
}

BINOPS = {ast.Add: [("+", "-")], ast.Sub: [("-", "+")], ast.Mult: [("*", "/")], ast.Div: [("/", "*")],
          ast.FloorDiv: [("//", "/")], ast.Mod: [("%", "//")], ast.Pow: [("**", "*")]}
CMPOPS = {ast.Lt: "<=", ast.LtE: "<", ast.Gt: ">=", ast.GtE: ">", ast.Eq: "!=", ast.NotEq: "==",
          ast.Is: "is not", ast.IsNot: "is", ast.In: "not in", ast.NotIn: "in"}


@dataclass
class Mutant:
    id: str          # file:line:col:what — stable while the file is unchanged
    target: str
    file: str
    line: int
    function: str    # Class.method or function holding the change
    what: str        # e.g. "* → /"
    start: tuple[int, int]  # (line, char column) of the replaced span, 1-based line
    end: tuple[int, int]
    new: str
    before: str = ""  # the source line, before and after
    after: str = ""


# ----------------------------------------------------------------------------- generating mutants
class _Source:
    """A file's text with char/byte column conversion and its operator tokens."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self.tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline)
                       if t.type in (tokenize.OP, tokenize.NAME)]
        self.starts = [t.start for t in self.tokens]

    def char(self, line: int, byte_col: int) -> tuple[int, int]:
        return line, len(self.lines[line - 1].encode()[:byte_col].decode())

    def start(self, node: ast.AST) -> tuple[int, int]:
        return self.char(node.lineno, node.col_offset)

    def end(self, node: ast.AST) -> tuple[int, int]:
        return self.char(node.end_lineno, node.end_col_offset)

    def tokens_between(self, a: tuple[int, int], b: tuple[int, int], strings) -> list[tokenize.TokenInfo]:
        found = []
        for t in self.tokens[bisect.bisect_left(self.starts, a):]:
            if t.end > b:
                break
            if t.string in strings:
                found.append(t)
        return found

    def replace(self, start: tuple[int, int], end: tuple[int, int], new: str) -> str:
        lines = list(self.lines)
        (l0, c0), (l1, c1) = start, end
        lines[l0 - 1:l1] = [lines[l0 - 1][:c0] + new + lines[l1 - 1][c1:]]
        return "".join(lines)


def _skipped(tree: ast.AST) -> set[int]:
    """ids of nodes not to mutate: messages, raise and assert statements, annotations, indices into
    the saved inputs."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        parts: list[ast.AST] = []
        if isinstance(node, (ast.Raise, ast.Assert, ast.JoinedStr)):
            parts = [node]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"shape_error", "warn"}:
            parts = [node]
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr in {
                "saved", "needs_input_grad"}:
            parts = [node.slice]  # self.saved[0] → [1] only trades a rule for an IndexError
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            parts = [a for a in (node.returns, *(x.annotation for x in ast.walk(node.args) if isinstance(x, ast.arg)))
                     if a is not None]
        for part in parts:
            skip.update(id(n) for n in ast.walk(part))
    return skip


def _functions(tree: ast.AST, names: tuple[str, ...]) -> list[tuple[str, ast.AST]]:
    """The (qualified name, def) of the selected functions, outermost first (nested defs are inside)."""
    found: list[tuple[str, ast.AST]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                qual = prefix + child.name
                if "*" in names or child.name in names:
                    found.append((qual, child))
                    continue
                visit(child, qual + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)
    visit(tree, "")
    return found


def _constant(value) -> str | None:
    if isinstance(value, bool):
        return repr(not value)
    if isinstance(value, int):
        return repr(value + 1)
    if isinstance(value, float):
        return repr(value * 2 if value not in (0.0, 1.0) else value + 1)
    return None


def _mutations(src: _Source, node: ast.AST) -> list[tuple[tuple[int, int], tuple[int, int], str, str]]:
    """(start, end, replacement, description) for every mutation of ``node`` itself."""
    out = []
    if isinstance(node, (ast.BinOp, ast.AugAssign)):
        left, right = (node.left, node.right) if isinstance(node, ast.BinOp) else (node.target, node.value)
        suffix = "" if isinstance(node, ast.BinOp) else "="
        for old, new in BINOPS.get(type(node.op), []):
            for t in src.tokens_between(src.end(left), src.start(right), {old + suffix})[:1]:
                out.append((t.start, t.end, new + suffix, f"{old + suffix} → {new + suffix}"))
    elif isinstance(node, ast.Compare):
        prev = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            toks = src.tokens_between(src.end(prev), src.start(right), {"<", "<=", ">", ">=", "==", "!=", "is",
                                                                         "not", "in"})
            if toks and type(op) in CMPOPS:
                old = " ".join(t.string for t in toks)
                out.append((toks[0].start, toks[-1].end, CMPOPS[type(op)], f"{old} → {CMPOPS[type(op)]}"))
            prev = right
    elif isinstance(node, ast.BoolOp):
        old, new = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
        for a, b in zip(node.values, node.values[1:]):
            for t in src.tokens_between(src.end(a), src.start(b), {old})[:1]:
                out.append((t.start, t.end, new, f"{old} → {new}"))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
        old = "-" if isinstance(node.op, ast.USub) else "not"
        toks = src.tokens_between(src.start(node), src.start(node.operand), {old})
        if toks:
            out.append((toks[0].start, src.start(node.operand), "", f"drop {old}"))
    elif isinstance(node, ast.Constant) and (new := _constant(node.value)) is not None:
        out.append((src.start(node), src.end(node), new, f"{ast.get_source_segment(src.text, node)} → {new}"))
    return out


def mutants_of(name: str, target: Target, root: Path = ROOT) -> list[Mutant]:
    """Every mutant of ``target`` that parses and changes the program."""
    text = (root / target.source).read_text()
    src, tree = _Source(text), ast.parse(text)
    original = ast.dump(tree)
    skip = _skipped(tree)
    result, seen = [], set()
    for qual, fn in _functions(tree, target.functions):
        body = fn.body[1:] if ast.get_docstring(fn) else fn.body
        for node in (n for stmt in body for n in ast.walk(stmt)):
            if id(node) in skip or id(node) in seen:
                continue
            seen.add(id(node))
            for start, end, new, what in _mutations(src, node):
                mutated = src.replace(start, end, new)
                try:
                    if ast.dump(ast.parse(mutated)) == original:
                        continue
                except SyntaxError:
                    continue
                line = start[0]
                after = mutated.splitlines()[line - 1] if start[0] == end[0] else ""
                result.append(Mutant(f"{target.source}:{line}:{start[1]}:{what}", name, target.source, line, qual,
                                     what, start, end, new, src.lines[line - 1].strip(), after.strip()))
    return sorted(result, key=lambda m: (m.start, m.what))


# ----------------------------------------------------------------------------- running them
def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.mutate-tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def copy_repository(dest: Path) -> None:
    """The working tree's tracked and untracked-not-ignored files, as they are now, copied to ``dest``."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


class Runner:
    """Runs pytest in the copy, one process at a time, killing its process group on timeout."""

    def __init__(self, copy: Path) -> None:
        self.copy = copy
        self.env = dict(os.environ, PYTHONPATH=str(copy), PYTHONDONTWRITEBYTECODE="1")
        self.env.pop("PYTEST_ADDOPTS", None)

    def check_isolation(self) -> None:
        where = subprocess.run([sys.executable, "-c", "import fukaku; print(fukaku.__file__)"], cwd=self.copy,
                               env=self.env, capture_output=True, text=True, check=True).stdout.strip()
        if not Path(where).resolve().is_relative_to(self.copy.resolve()):
            raise SystemExit(f"mutate: fukaku imports from {where}, not from the copy {self.copy}: refusing to run")

    def pytest(self, tests: tuple[str, ...], timeout: float) -> tuple[str, float, str]:
        """(``"passed"`` | ``"failed"`` | ``"timeout"``, seconds, the first failing test or error line)."""
        for cache in self.copy.rglob("__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)
        cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:warnings", "--ff", "-rfE", "--tb=no", *tests]
        began = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=self.copy, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return "timeout", time.monotonic() - began, f"over {timeout:.0f} s"
        finally:
            if proc.poll() is None:  # interrupted: never leave a pytest behind
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        seconds = time.monotonic() - began
        if proc.returncode == 0:
            return "passed", seconds, ""
        why = re.findall(r"^(?:FAILED|ERROR) (\S+)", out, re.M) or [out.strip().splitlines()[-1] if out.strip() else ""]
        return "failed", seconds, why[0]

    def run_mutant(self, m: Mutant, tests: tuple[str, ...], timeout: float) -> tuple[str, float, str]:
        path = self.copy / m.file
        original = path.read_text()
        src = _Source(original)
        try:
            _write_atomically(path, src.replace(m.start, m.end, m.new))
            return self.pytest(tests, timeout)
        finally:
            _write_atomically(path, original)
            assert path.read_text() == original, f"mutate: could not restore {path}"


def _raise_on_sigterm(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def summarise(results: list[dict]) -> str:
    """Kill rates per target and overall, then the survivors (the last record of each mutant counts)."""
    results = list({r["id"]: r for r in results}.values())
    lines, by_target = [], {}
    for r in results:
        by_target.setdefault(r["target"], []).append(r)
    total_killed = 0
    lines.append(f"{'target':<16}{'mutants':>8}{'killed':>8}{'survived':>9}{'kill rate':>11}")
    for name, rs in sorted(by_target.items()):
        killed = sum(r["status"] != "survived" for r in rs)
        total_killed += killed
        lines.append(f"{name:<16}{len(rs):>8}{killed:>8}{len(rs) - killed:>9}{killed / len(rs):>10.0%}")
    if results:
        lines.append(f"{'all':<16}{len(results):>8}{total_killed:>8}{len(results) - total_killed:>9}"
                     f"{total_killed / len(results):>10.0%}")
    survivors = [r for r in results if r["status"] == "survived"]
    if survivors:
        lines.append("\nsurvivors:")
        for r in survivors:
            lines.append(f"  {r['id']}  in {r['function']}\n      {r['before']}\n   →  {r['after']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--target", action="append", choices=sorted(TARGETS), help="only these targets (repeatable)")
    ap.add_argument("--match", help="only mutants whose id contains this text")
    ap.add_argument("--survivors-of", type=Path, metavar="RESULTS", help="only mutants that survived in RESULTS")
    ap.add_argument("--sample", type=int, help="run a random sample of this many mutants")
    ap.add_argument("--seed", type=int, default=0, help="of the sample")
    ap.add_argument("--list", action="store_true", help="print the mutants and exit")
    ap.add_argument("--results", type=Path, default=Path(tempfile.gettempdir()) / "fukaku-mutate.jsonl",
                    help="JSON lines, one per mutant run, appended as they finish")
    ap.add_argument("--resume", action="store_true", help="skip mutants already in --results")
    ap.add_argument("--summary", type=Path, help="print the report of a results file and exit")
    ap.add_argument("--timeout", type=float, help="seconds per mutant (default: 3x the clean run, at least 60)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary copy")
    args = ap.parse_args(argv)

    if args.summary:
        print(summarise([json.loads(x) for x in args.summary.read_text().splitlines() if x.strip()]))
        return 0
    names = args.target or list(TARGETS)
    mutants = [m for n in names for m in mutants_of(n, TARGETS[n]) if not args.match or args.match in m.id]
    if args.survivors_of:
        last = {r["id"]: r for r in map(json.loads, filter(str.strip, args.survivors_of.read_text().splitlines()))}
        mutants = [m for m in mutants if m.id in last and last[m.id]["status"] == "survived"]
    if args.sample is not None and args.sample < len(mutants):
        mutants = sorted(random.Random(args.seed).sample(mutants, args.sample), key=lambda m: (m.target, m.line))
    done = set()
    if args.resume and args.results.exists():
        done = {json.loads(x)["id"] for x in args.results.read_text().splitlines() if x.strip()}
    todo = [m for m in mutants if m.id not in done]
    if args.list:
        for m in mutants:
            print(f"{m.id}  [{m.function}]  {m.before}")
        print(f"{len(mutants)} mutants", file=sys.stderr)
        return 0

    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    copy = Path(tempfile.mkdtemp(prefix="fukaku-mutate-"))
    try:
        copy_repository(copy)
        runner = Runner(copy)
        runner.check_isolation()
        timeouts = {}
        for name in dict.fromkeys(m.target for m in todo):
            status, seconds, why = runner.pytest(TARGETS[name].tests, timeout=1800)
            if status != "passed":
                print(f"mutate: skipping {name}: its tests fail before any mutation ({why})", flush=True)
                continue
            timeouts[name] = args.timeout or max(60.0, 3 * seconds)
            print(f"clean run of {name}: {seconds:.0f} s, timeout per mutant {timeouts[name]:.0f} s", flush=True)
        results = []
        todo = [m for m in todo if m.target in timeouts]
        with args.results.open("a") as log:
            for k, m in enumerate(todo, 1):
                status, seconds, why = runner.run_mutant(m, TARGETS[m.target].tests, timeouts[m.target])
                status = {"passed": "survived", "failed": "killed"}.get(status, status)
                record = dict(asdict(m), status=status, seconds=round(seconds, 1), killed_by=why)
                results.append(record)
                log.write(json.dumps(record, ensure_ascii=False) + "\n")
                log.flush()
                print(f"[{k}/{len(todo)}] {status:<8} {seconds:5.0f} s  {m.id}  {why}", flush=True)
        everything = [json.loads(x) for x in args.results.read_text().splitlines() if x.strip()]
        wanted = {m.id for m in mutants}
        print(summarise([r for r in everything if r["id"] in wanted]))
    except KeyboardInterrupt:
        print("mutate: interrupted; the mutated file in the copy was restored", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"mutate: the copy is kept at {copy}", file=sys.stderr)
        else:
            shutil.rmtree(copy, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
