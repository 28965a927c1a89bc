"""tools/mutate.py (run on demand, not here): the mutants it makes and its bookkeeping. Each mutant
changes one token of a selected rule and still parses; messages, docstrings, annotations, indices
into the saved inputs and unselected functions are left alone; the mutated file is restored even
when the run is interrupted; the report's kill rate counts the last run of each mutant."""
from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("fukaku_tools_mutate", ROOT / "tools" / "mutate.py")
mutate = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = mutate
_spec.loader.exec_module(mutate)

SOURCE = '''"""A module."""


class Op:
    def vjp(self, grad: "int | None" = None):
        """Doc: 1 + 2."""
        if grad is None or len(self.saved) < 2:
            raise ValueError(f"vjp: bad {1 + 2}")
        return {"∂ü": -grad * 2.0}["∂ü"] + self.saved[0] / 3

    def forward(self, x):
        return x + 1
'''


@pytest.fixture
def source(tmp_path) -> Path:
    (tmp_path / "pkg").mkdir()
    path = tmp_path / "pkg" / "op.py"
    path.write_text(SOURCE)
    return path


def _mutants(root: Path):
    return mutate.mutants_of("op", mutate.Target("pkg/op.py", ("vjp",), ()), root)


def test_each_mutant_changes_one_token_of_the_selected_rule(source):
    ms = _mutants(source.parent.parent)
    assert sorted(m.what for m in ms) == sorted([
        "is → is not", "or → and", "< → <=", "2 → 3", "drop -", "* → /", "2.0 → 4.0", "+ → -", "/ → *", "3 → 4"])
    assert all(m.function == "Op.vjp" for m in ms)
    lines = SOURCE.splitlines()
    for m in ms:
        mutated = mutate._Source(SOURCE).replace(m.start, m.end, m.new)
        ast.parse(mutated)
        changed = [i + 1 for i, (a, b) in enumerate(zip(lines, mutated.splitlines(), strict=True)) if a != b]
        assert changed == [m.line], m.id
        assert m.before == lines[m.line - 1].strip() and m.after == mutated.splitlines()[m.line - 1].strip()
    # columns count characters, not UTF-8 bytes: the multiplication after "∂ü" is found
    times = next(m for m in ms if m.what == "* → /")
    assert times.after == '''return {"∂ü": -grad / 2.0}["∂ü"] + self.saved[0] / 3'''


def test_run_mutant_restores_the_file_when_interrupted(source, monkeypatch):
    runner = mutate.Runner(source.parent.parent)
    m = next(m for m in _mutants(runner.copy) if m.what == "+ → -")
    seen = []

    def interrupted(tests, timeout):
        seen.append(source.read_text())
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "pytest", interrupted)
    with pytest.raises(KeyboardInterrupt):
        runner.run_mutant(m, ("tests",), 1.0)
    assert seen[0] != SOURCE and "self.saved[0] / 3" in seen[0] and '["∂ü"] - self' in seen[0]
    assert source.read_text() == SOURCE
    assert [p.name for p in source.parent.iterdir()] == ["op.py"]  # no temporary file left


def test_summary_counts_the_last_run_of_each_mutant():
    def record(i, status, target="t"):
        return dict(id=f"m{i}", target=target, status=status, function="f", before="a", after="b")

    text = mutate.summarise([record(1, "survived"), record(2, "killed"), record(3, "timeout"), record(1, "killed"),
                             record(4, "survived", "u")])
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines()[1:4]}
    assert rows["t"] == ["3", "3", "0", "100%"]
    assert rows["u"] == ["1", "0", "1", "0%"]
    assert rows["all"] == ["4", "3", "1", "75%"]
    assert "m4" in text and "m1  in" not in text


def test_every_target_names_existing_files_and_rules():
    for name, target in mutate.TARGETS.items():
        assert (ROOT / target.source).is_file(), name
        assert all((ROOT / t).is_file() for t in target.tests), name
        tree = ast.parse((ROOT / target.source).read_text())
        assert mutate._functions(tree, target.functions), f"{name}: no function named {target.functions}"
