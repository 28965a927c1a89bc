"""The lab framework: the registry (nested discovery, checks as data, verdicts that follow the checks), the
runner, the report and the CLI. The experiments themselves are tested in test_experiments.py."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

import fukaku as fk
from fukaku import lab
from fukaku.lab import experiments, plotting, registry, report, runner
from fukaku.lab.registry import Check, Context, Experiment, Measurement, Result


# A test experiment: measures the numbers it is given and checks ``x ≤ limit``; each instance is
# registered under its own id.
class _Fake(Experiment, id="zz-fake", source="test"):
    """A fake experiment.

    x is at most the limit.
    """

    def __init__(self, exp_id: str, values: dict, limit: float = 2.0) -> None:
        self.id, self.values, self.limit = exp_id, values, limit

    def measure(self, ctx: Context) -> Measurement:
        return Measurement(self.values)

    def checks(self, m: dict) -> list[Check]:
        return [Check("x is a number", isinstance(m["x"], (float, np.floating)), "=", True),
                Check("x at most the limit", m["x"], "≤", self.limit)]

    summary_template = "x {m[x]:g} ≤ {limit:g}. More words."

    def summary_values(self, m: dict) -> dict:
        return {"limit": self.limit}


class _Raises(_Fake):
    def measure(self, ctx: Context) -> Measurement:
        raise ZeroDivisionError("deliberate failure in a test experiment")


def _fake(monkeypatch, experiment: Experiment) -> None:
    """Register an experiment for this test only (monkeypatch removes it afterwards)."""
    registry.discover()
    monkeypatch.setitem(registry.REGISTRY, experiment.id, experiment)


_MANY_KINDS = {"x": np.float64(1.5), "n": np.int64(3), "v": np.arange(3), "t": fk.tensor([1.0, 2.0]),
               "bad": float("nan"), "big": np.inf, "ok": np.bool_(True)}


# ----------------------------------------------------------------------------- checks and verdicts
def test_a_check_computes_its_verdict_from_the_relation():
    assert Check("error", 1.9e-9, "≤", 1e-8).holds and not Check("error", 2e-8, "≤", 1e-8).holds
    assert Check("count", 0, "=", 0).holds and not Check("converged", False, "=", True).holds
    assert Check("ratio", 0.2, "<", 1).holds and Check("ratio", 1, "≥", 1).holds and not Check("r", 1, ">", 1).holds
    assert not Check("nan is no measurement", float("nan"), "≤", 1.0).holds
    with pytest.raises(TypeError):
        Check("given, not computed", 1, "=", 1, holds=False)
    with pytest.raises(ValueError, match=r"'<=' is not one of < ≤ = ≥ >.*write ≤ for <="):
        Check("x", 1, "<=", 2)


def test_a_results_verdict_follows_its_checks():
    ok, bad = Check("a", 1, "≤", 2), Check("b", 3, "≤", 2)
    assert Result(measured={}, checks=[ok, ok], summary="s").holds
    failing = Result(measured={}, checks=[ok, bad, ok], summary="s")
    assert not failing.holds and failing.failed == [bad]
    assert not Result(measured={}, checks=[], summary="s").holds  # nothing compared: no verdict of "holds"


def test_an_experiment_must_write_every_step():
    class NoChecks(Experiment, id="zz-no-checks", source="s"):
        """T.

        C.
        """

        def measure(self, ctx):
            return Measurement({})

        def summary(self, m):
            return ""

    with pytest.raises(TypeError, match="checks"):
        NoChecks()


# ----------------------------------------------------------------------------- the summary, a template
class _Templated(_Fake):
    """A fake experiment with a longer summary.

    Its summary names measured values, nested ones and a derived value.
    """

    summary_template = """x = {m[x]:.2f} within {m[tolerance, relative]:.0e}; per layer {m[per layer][first]}
        then {m[per layer][last]} (worst {worst}), {m[label]}
            and {{braces}}."""

    def summary_values(self, m: dict) -> dict:
        return {"worst": max(m["per layer"].values())}


def test_a_summary_template_is_filled_from_measured_and_derived_values_on_one_line():
    measured = {"x": 1.2345, "tolerance, relative": 1e-6, "per layer": {"first": 3, "last": 5}, "label": "a  b"}
    # the template's line breaks and indentation read as one space; the values are shown as they are
    assert _Templated("zz-templated", measured).summary(measured) == \
        "x = 1.23 within 1e-06; per layer 3 then 5 (worst 5), a  b and {braces}."
    assert _Fake("zz-fake", {"x": 1.5}, limit=2.0).summary({"x": 1.5}) == "x 1.5 ≤ 2. More words."


def test_a_summary_template_naming_a_missing_value_says_what_there_is():
    with pytest.raises(LookupError, match=r"_Templated: its summary_template names a value that is not there "
                                          r"\(KeyError: 'tolerance, relative'\); m holds the measured values 'x', "
                                          r"'per layer', and summary_values returns 'worst'"):
        _Templated("zz-templated", {}).summary({"x": 1.0, "per layer": {"first": 1}})


def test_an_experiment_without_a_summary_is_refused():
    class NoSummary(Experiment, id="zz-no-summary", source="s"):
        """T.

        C.
        """

        def measure(self, ctx):
            return Measurement({})

        def checks(self, m):
            return []

    message = r"NoSummary has no summary: state it as a class attribute, summary_template = \"\"\"Prose with"
    with pytest.raises(TypeError, match=message):
        NoSummary().summary({})
    with pytest.raises(TypeError, match=message.replace("has no", "is concrete but has no")):
        registry._register(NoSummary)


# ----------------------------------------------------------------------------- discovery
def test_discovery_finds_the_experiments_in_nested_subpackages():
    found = registry.discover()
    assert [e.id for e in lab.list_experiments()] == list(found)
    families = {type(e).__module__.split(".")[3] for e in found.values()}
    assert {"activations", "classical", "deep_nets", "optimization", "playground", "regularization"} <= families
    for exp in found.values():
        module = type(exp).__module__
        assert module.startswith("fukaku.lab.experiments.") and module.count(".") == 4, module  # package.family.file
        assert exp.title and exp.claim and exp.source.startswith("seed")


_NEW_EXPERIMENT = '''
from ...registry import Check, Experiment, Measurement


class NewClaim(Experiment, id="{id}", source="seed 003"):
    """A new claim.

    2 + 2 = 4.
    """

    def measure(self, ctx):
        return Measurement({{"2 + 2": 2 + 2}})

    def checks(self, m):
        return [Check("2 + 2", m["2 + 2"], "=", 4)]

    summary_template = "2 + 2 = {{m[2 + 2]}}."
'''


@pytest.fixture
def extra_experiments(tmp_path, monkeypatch):
    """A folder that joins ``fukaku/lab/experiments/`` for one test: ``add(relative_path, source)`` writes a
    module into it. The registry starts empty and is restored afterwards, with sys.modules."""
    root = tmp_path / "extra"
    root.mkdir()
    monkeypatch.setattr(experiments, "__path__", [*experiments.__path__, str(root)])
    monkeypatch.setattr(registry, "REGISTRY", {})
    before = set(sys.modules)

    def add(relative: str, source: str) -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        for package in list(path.relative_to(root).parents)[:-1]:  # the folders below root are packages
            (root / package / "__init__.py").touch()
        path.write_text(textwrap.dedent(source), encoding="utf-8")

    yield add
    for name in set(sys.modules) - before:
        if name.startswith(f"{experiments.__name__}."):
            del sys.modules[name]


def test_a_new_experiment_is_one_new_file(extra_experiments, tmp_path, capsys):
    extra_experiments("new_family/new_claim.py", _NEW_EXPERIMENT.format(id="zz-new-claim"))
    found = registry.discover()
    assert type(found["zz-new-claim"]).__module__ == "fukaku.lab.experiments.new_family.new_claim"
    assert "softmax-demo" in found  # the shipped experiments are found beside it
    assert lab.cli_main(["list"]) == 0 and "zz-new-claim" in capsys.readouterr().out
    outcome = lab.run(["zz-new-claim"], out_dir=tmp_path / "out", quiet=True).outcomes[0]
    assert outcome.status == "holds" and outcome.checks == [
        {"name": "2 + 2", "measured": 4, "relation": "=", "expected": 4, "holds": True}]


def test_an_id_defined_twice_is_refused(extra_experiments):
    extra_experiments("again/softmax_again.py", _NEW_EXPERIMENT.format(id="softmax-demo"))
    with pytest.raises(ValueError, match=r"'softmax-demo' is defined twice.*SoftmaxDemo.*NewClaim"):
        registry.discover()


def test_an_experiment_without_one_of_its_class_keywords_is_refused(extra_experiments):
    without_source = _NEW_EXPERIMENT.format(id="zz-no-source").replace(', source="seed 003"', "")
    extra_experiments("broken/no_source.py", without_source)
    with pytest.raises(TypeError, match=r"broken\.no_source\.NewClaim does not state source; state id and source "
                                        r"as class keywords and the title and claim as the docstring: "
                                        r"class NewClaim\(Experiment, id=\.\.\., source=\.\.\.\)"):
        registry.discover()


class _Steps:
    """The three steps every experiment writes, for the tests of the class statement."""

    def measure(self, ctx):
        return Measurement({})

    def checks(self, m):
        return []

    def summary(self, m):
        return ""


def test_the_keywords_and_the_docstring_are_class_attributes_and_are_inherited():
    class Base(_Steps, Experiment, id="zz-base", source="seed 003"):
        """A title.

        A claim
        over two lines.

        And a second paragraph.
        """

    class Resourced(Base, source="seed 004"):
        pass

    class Retitled(Base):
        """Another title.

        Another claim."""

    assert (Base.id, Base.title, Base.source) == ("zz-base", "A title", "seed 003")
    assert Base.claim == "A claim over two lines.\n\nAnd a second paragraph."
    assert (Resourced.id, Resourced.title, Resourced.source, Resourced.claim) == \
        ("zz-base", "A title", "seed 004", Base.claim)
    assert (Retitled.id, Retitled.title, Retitled.claim) == ("zz-base", "Another title", "Another claim.")
    assert Base().id == "zz-base"


def test_a_base_without_keywords_keeps_its_docstring_as_documentation():
    class Documented(_Steps, Experiment):
        """Only documentation."""

    assert not hasattr(Documented, "title") and Documented.__doc__ == "Only documentation."


@pytest.mark.parametrize("keywords, doc, message", [
    ({"id": "zz-x", "source": ""}, "T.\n\nC.", r"\.Broken: source= must be a non-empty string, got ''"),
    ({"id": 3, "source": "s"}, "T.\n\nC.", r"\.Broken: id= must be a non-empty string, got 3"),
    ({"id": "zz-x", "source": "s"}, "Only a title.", r"\.Broken: its docstring must be the title, a blank line, "
                                                    r"then the claim; got 'Only a title\.'"),
    ({"id": "zz-x", "source": "s"}, None, r"\.Broken does not state title, claim; state id and source as class "
                                          r"keywords and the title and claim as the docstring"),
    ({"id": "zz-x"}, "T.\n\nC.", r"\.Broken does not state source; state id and source"),
])
def test_an_empty_or_missing_statement_is_a_type_error_naming_the_class(keywords, doc, message):
    with pytest.raises(TypeError, match=message):
        types.new_class("Broken", (Experiment,), keywords, lambda ns: ns.update(__doc__=doc))


def test_metadata_assigned_in_the_class_body_is_refused():
    with pytest.raises(TypeError, match=r"\.InBody assigns id, title in its body; state id and source as class "
                                        r"keywords"):
        class InBody(Experiment):
            id, title = "zz-in-body", "t"


_ABSTRACT_BASE = '''
from abc import abstractmethod

from ...registry import Check, Experiment, Measurement


class CountsToFour(Experiment):
    """A base for experiments: no keywords, and ``count`` left abstract."""

    @abstractmethod
    def count(self) -> int: ...

    def measure(self, ctx):
        return Measurement({{"count": self.count()}})

    def checks(self, m):
        return [Check("count", m["count"], "=", 4)]

    summary_template = "It counted {{m[count]}}."


class TwoPlusTwo(CountsToFour, id="{id}", source="seed 003"):
    """Two plus two.

    2 + 2 = 4.
    """

    def count(self) -> int:
        return 2 + 2
'''


def test_an_abstract_base_needs_no_keywords_and_is_not_registered(extra_experiments, tmp_path):
    extra_experiments("bases/counts_to_four.py", _ABSTRACT_BASE.format(id="zz-two-plus-two"))
    found = registry.discover()
    assert [type(e).__name__ for e in found.values() if type(e).__module__.endswith(".counts_to_four")] == \
        ["TwoPlusTwo"]
    outcome = lab.run(["zz-two-plus-two"], out_dir=tmp_path, quiet=True).outcomes[0]
    assert outcome.status == "holds" and outcome.headline == "It counted 4."


def test_a_concrete_experiment_without_keywords_is_refused_by_discovery(extra_experiments):
    no_keywords = _NEW_EXPERIMENT.format(id="zz-unused").replace(
        'NewClaim(Experiment, id="zz-unused", source="seed 003")', "NewClaim(Experiment)").replace(
        '"""A new claim.\n\n    2 + 2 = 4.\n    """', "")
    extra_experiments("broken/no_keywords.py", no_keywords)
    with pytest.raises(TypeError, match=r"no_keywords\.NewClaim is concrete but states no id, title, source, claim"):
        registry.discover()


def test_select_rejects_unknown_and_empty_ids():
    with pytest.raises(ValueError, match="no-such-experiment.*known ids"):
        runner.select(["softmax-demo", "no-such-experiment"])
    with pytest.raises(ValueError, match="no experiment selected"):
        runner.select([])
    assert [e.id for e in runner.select(["lr-step-decay", "softmax-demo", "lr-step-decay"])] == \
        ["lr-step-decay", "softmax-demo"]


# ----------------------------------------------------------------------------- runner and report
def test_runner_writes_report_and_results_with_errors_as_entries(monkeypatch, tmp_path, capsys):
    _fake(monkeypatch, _Fake("zz-measures", _MANY_KINDS))
    _fake(monkeypatch, _Raises("zz-raises", {}))
    out = tmp_path / "report"
    result = lab.run(["zz-raises", "softmax-demo", "zz-measures"], quick=True, out_dir=out, seed=3)

    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("error") and "zz-raises" in lines[0] and "ZeroDivisionError" in lines[0]
    assert lines[1].startswith("holds") and "softmax-demo" in lines[1] and "3/3 checks  fukaku's softmax" in lines[1]
    assert lines[2].startswith("holds") and lines[2].endswith("2/2 checks  x 1.5 ≤ 2.")  # the summary's first sentence
    assert lines[3].endswith(str(out / "report.html")) and "2 of 3 hold" in lines[3]

    assert result.report_path == out / "report.html" and result.json_path == out / "results.json"
    assert not result.all_hold and result.counts() == {"holds": 2, "does not hold": 0, "error": 1}
    assert sorted(p.name for p in out.iterdir()) == ["figures", "report.html", "results.json"]  # no temp files left

    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert data["quick"] is True and data["seed"] == 3 and data["counts"]["error"] == 1
    assert [e["id"] for e in data["experiments"]] == ["zz-raises", "softmax-demo", "zz-measures"]
    failed, softmax, measured = data["experiments"]
    assert failed["status"] == "error" and failed["measured"] == {} and failed["checks"] == []
    assert "ZeroDivisionError" in failed["error"] and "deliberate failure" in failed["error"]
    assert softmax["status"] == "holds" and softmax["figures"] == ["figures/softmax-demo.png"]
    assert softmax["source"].startswith("seed 003") and softmax["seconds"] >= 0
    assert [c["holds"] for c in softmax["checks"]] == [True, True, True]
    assert measured["measured"] == {"x": 1.5, "n": 3, "v": [0, 1, 2], "t": [1.0, 2.0], "bad": "nan", "big": "inf",
                                    "ok": True}
    assert measured["checks"][1] == {"name": "x at most the limit", "measured": 1.5, "relation": "≤",
                                     "expected": 2.0, "holds": True}
    assert set(softmax) == {"id", "title", "source", "claim", "status", "seconds", "checks", "measured", "summary",
                            "headline", "figures", "warnings", "error"}

    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.count("<section id=") == 3
    assert '<a href="#exp-softmax-demo">' in html  # summary table links to the sections
    assert '<img src="figures/softmax-demo.png"' in html and (out / "figures" / "softmax-demo.png").is_file()
    assert "ZeroDivisionError: deliberate failure" in html and 'class="badge error"' in html
    assert "<td>x at most the limit</td>" in html
    assert "<script" not in html and "http" not in html  # self-contained


def test_a_failing_check_fails_the_experiment_and_the_report_names_it(monkeypatch, tmp_path, capsys):
    _fake(monkeypatch, _Fake("zz-too-big", {"x": 7.25}, limit=2.0))
    result = lab.run(["zz-too-big"], out_dir=tmp_path)
    (outcome,) = result.outcomes
    assert outcome.status == "does not hold" and not result.all_hold
    assert [c["holds"] for c in outcome.checks] == [True, False]
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith("does not hold") and "1/2 checks  failed: x at most the limit: 7.25 ≤ 2" in line

    record = json.loads(result.json_path.read_text(encoding="utf-8"))["experiments"][0]
    assert record["status"] == "does not hold" and record["checks"][1]["holds"] is False
    html = result.report_path.read_text(encoding="utf-8")
    assert "failed: x at most the limit" in html  # in the summary table
    assert ('<tr><td><span class="badge does-not-hold">does not hold</span></td><td>x at most the limit</td>'
            '<td class="num">7.25</td><td>≤</td><td class="num">2</td></tr>') in html
    assert ('<tr><td><span class="badge holds">holds</span></td><td>x is a number</td>') in html


def test_experiment_seed_makes_runs_reproducible(tmp_path, quick_runs):
    experiment = registry.discover()["perceptron-convergence"]
    first = quick_runs("perceptron-convergence")  # seed 0
    fk.randn(10)  # disturb the global generator: the runner reseeds it per experiment
    again = runner.run_one(experiment, Context(tmp_path, quick=True, seed=0))
    assert again.measured == first.measured and again.checks == first.checks
    other = runner.run_one(experiment, Context(tmp_path, quick=True, seed=6))
    assert other.measured["margin γ"] != first.measured["margin γ"]


def test_html_escapes_every_text(monkeypatch, tmp_path):
    evil = '<script>alert("x")</script> & <b>'

    class Evil(_Fake, source=evil):
        __doc__ = f"{evil}\n\n{evil}"

        def checks(self, m):
            return [Check(evil, evil, "=", "not evil")]

        def summary(self, m):
            return evil

    _fake(monkeypatch, Evil("zz-evil", {evil: evil, "list": [evil]}))
    result = lab.run(["zz-evil"], quick=True, out_dir=tmp_path, quiet=True)
    html = result.report_path.read_text(encoding="utf-8")
    assert "<script" not in html and "<b>" not in html
    assert html.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;") >= 10
    assert 'class="badge does-not-hold"' in html
    assert json.loads(result.json_path.read_text(encoding="utf-8"))["experiments"][0]["claim"] == evil


def test_malformed_results_and_stray_figures_become_errors(monkeypatch, tmp_path):
    class ReturnsNone(_Fake):
        def run(self, ctx):
            return None

    class NoMeasurement(_Fake):
        def measure(self, ctx):
            return {"x": 1.0}

    class NoChecks(_Fake):
        def checks(self, m):
            return []

    class MissingFigure(_Fake):
        def plot(self, ctx, measurement):
            return [ctx.figure_path("never-drawn")]

    for experiment in (ReturnsNone("zz-none", {}), NoMeasurement("zz-dict", {}), NoChecks("zz-no-checks", {"x": 1.0}),
                       MissingFigure("zz-missing-figure", {"x": 1.0})):
        _fake(monkeypatch, experiment)
    result = lab.run(["zz-none", "zz-dict", "zz-no-checks", "zz-missing-figure"], out_dir=tmp_path, quiet=True)
    none, plain_dict, no_checks, missing = result.outcomes
    assert none.status == "error" and "expected lab.Result" in none.headline
    assert plain_dict.status == "error" and "expected lab.Measurement" in plain_dict.headline
    assert no_checks.status == "error" and "states no checks" in no_checks.headline
    assert missing.status == "error" and "not written" in missing.error


def test_figures_are_optional(monkeypatch, tmp_path):
    monkeypatch.setattr(plotting, "available", lambda: False)
    result = lab.run(["softmax-demo"], out_dir=tmp_path, quiet=True)
    assert result.outcomes[0].status == "holds" and result.outcomes[0].figures == []
    html = result.report_path.read_text(encoding="utf-8")
    assert "Figures are unavailable" in html and "<img" not in html
    assert json.loads(result.json_path.read_text(encoding="utf-8"))["figures_available"] is False


def test_format_value_and_bad_seed():
    assert report.format_value(0.1 + 0.2) == "0.3"
    assert report.format_value(list(range(20))).endswith("… (20 items)]")
    assert report.format_value({"a": 1.0, "b": [True]}) == "a: 1; b: [True]"
    with pytest.raises(ValueError, match="seed"):
        lab.run(["softmax-demo"], seed=-1, quiet=True)


# ----------------------------------------------------------------------------- CLI
def test_cli_list_prints_every_id(capsys):
    assert lab.cli_main(["list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == list(registry.discover())


def test_cli_run_usage_errors(capsys, tmp_path):
    assert lab.cli_main(["run"]) == 2
    assert "give experiment ids or --all" in capsys.readouterr().err
    assert lab.cli_main(["run", "softmax-demo", "--all"]) == 2
    assert lab.cli_main(["run", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown experiment id(s) 'nope'" in capsys.readouterr().err
    assert lab.cli_main([]) == 2
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    assert lab.cli_main(["run", "lr-step-decay", "--out", str(blocker)]) == 2
    assert "exists and is not a directory" in capsys.readouterr().err
    assert lab.cli_main(["run", "--help"]) == 0
    assert "--quick" in capsys.readouterr().out
    assert not (tmp_path / "report.html").exists()


def test_cli_run_exit_status(monkeypatch, tmp_path, capsys):
    assert lab.cli_main(["run", "lr-step-decay", "--quick", "--out", str(tmp_path), "--seed", "1"]) == 0
    assert json.loads((tmp_path / "lr-step-decay" / "results.json").read_text(encoding="utf-8"))["seed"] == 1
    _fake(monkeypatch, _Fake("zz-fails", {"x": 3.0}))
    assert lab.cli_main(["run", "zz-fails", "--out", str(tmp_path)]) == 1
    _fake(monkeypatch, _Raises("zz-raises", {}))
    assert lab.cli_main(["run", "zz-raises", "--out", str(tmp_path)]) == 1
    assert "report:" in capsys.readouterr().out


def test_python_dash_m_fukaku_lab(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "fukaku.lab", "list"], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)
    assert proc.returncode == 0 and "softmax-demo" in proc.stdout


def test_the_registry_docstring_example_is_a_working_experiment(extra_experiments, tmp_path):
    """The worked example in fukaku/lab/registry.py's docstring, run as it is written there."""
    doc = registry.__doc__
    start = doc.index("    # fukaku/lab/experiments/activations/softmax_sums_to_one.py")
    example = textwrap.dedent(doc[start:doc.index("\n``fukaku lab list``", start)])
    extra_experiments("docs_example/softmax_sums_to_one.py", example)
    outcome = lab.run(["softmax-sums-to-one"], out_dir=tmp_path, quiet=True).outcomes[0]
    assert outcome.status == "holds", outcome.error or outcome.checks
    assert [c["name"] for c in outcome.checks] == ["every probability is positive",
                                                   "every row sums to 1 (float64 rounding)"]
    assert outcome.figures == (["figures/softmax-sums-to-one.png"] if plotting.available() else [])


class _Draws(_Fake):
    """A fake experiment that draws.

    It writes the figure files it is given (no matplotlib needed).
    """

    def __init__(self, exp_id: str, names: list[str]) -> None:
        super().__init__(exp_id, {"x": 1.0})
        self.names = names

    def plot(self, ctx, measurement):
        paths = [ctx.figure_path(name) for name in self.names]
        for path in paths:
            path.write_bytes(b"\x89PNG fake")
        return paths


def test_lab_run_ids_write_into_their_own_folder_beside_the_full_report(monkeypatch, tmp_path, capsys):
    _fake(monkeypatch, _Draws("zz-one", ["zz-one"]))
    _fake(monkeypatch, _Draws("zz-two", ["zz-two"]))
    full = tmp_path / "report.html"
    full.write_text("the report of `lab run --all`", encoding="utf-8")  # stands for a full run's report
    assert lab.cli_main(["run", "zz-one", "--out", str(tmp_path)]) == 0
    own = tmp_path / "zz-one"
    assert (own / "report.html").is_file() and (own / "figures" / "zz-one.png").is_file()
    assert json.loads((own / "results.json").read_text(encoding="utf-8"))["experiments"][0]["figures"] == \
        ["figures/zz-one.png"]
    assert capsys.readouterr().out.rstrip().endswith(str(own / "report.html"))
    assert lab.cli_main(["run", "zz-two", "zz-one", "zz-two", "--out", str(tmp_path)]) == 0
    both = json.loads((tmp_path / "zz-two+zz-one" / "results.json").read_text(encoding="utf-8"))
    assert [e["id"] for e in both["experiments"]] == ["zz-two", "zz-one"]
    assert full.read_text(encoding="utf-8") == "the report of `lab run --all`"
    assert not (tmp_path / "results.json").exists()
    from fukaku.lab.cli import selection_folder

    many = [f"zz-experiment-{i}" for i in range(20)]
    assert selection_folder(many).startswith("zz-experiment-0+19-more-") and len(selection_folder(many)) < 50
    assert selection_folder(many) != selection_folder(many[:-1])


def test_a_rerun_clears_the_stale_figures_of_that_experiment_only(monkeypatch, tmp_path):
    _fake(monkeypatch, _Draws("zz-drawn", ["zz-drawn", "zz-drawn-detail", "zz-drawn-old"]))
    _fake(monkeypatch, _Draws("zz-other", ["zz-other"]))
    lab.run(["zz-drawn", "zz-other"], out_dir=tmp_path, quiet=True)
    figures = tmp_path / "figures"
    (figures / "zz-drawn.svg").write_text("<svg/>")  # an earlier drawing under the id's name, another format
    (figures / "notes.txt").write_text("not a figure of the lab")
    # the experiment now draws fewer figures: the ones it no longer draws must not linger
    _fake(monkeypatch, _Draws("zz-drawn", ["zz-drawn-detail"]))
    result = lab.run(["zz-drawn"], out_dir=tmp_path, quiet=True)
    assert result.outcomes[0].figures == ["figures/zz-drawn-detail.png"]
    assert sorted(p.name for p in figures.iterdir()) == ["notes.txt", "zz-drawn-detail.png", "zz-other.png"]
    # a results.json naming paths outside figures/ never makes the runner delete them
    record = json.loads(result.json_path.read_text(encoding="utf-8"))
    record["experiments"][0]["figures"] = ["../outside.txt", "results.json", "figures/../report.html"]
    result.json_path.write_text(json.dumps(record), encoding="utf-8")
    (tmp_path.parent / "outside.txt").write_text("keep")
    lab.run(["zz-drawn"], out_dir=tmp_path, quiet=True)
    assert (tmp_path.parent / "outside.txt").read_text() == "keep" and (tmp_path / "report.html").is_file()
    assert runner.clear_figures(tmp_path / "nowhere", "zz-drawn") == []


@pytest.mark.parametrize("content", ["[" * 100_000, '{"experiments": [{"id": "zz-drawn", "figures": "abc"}]}',
                                     '{"experiments": [3, null]}', "\xff\xfe not json"])
def test_a_hostile_results_json_neither_crashes_the_run_nor_deletes_other_files(monkeypatch, tmp_path, content):
    _fake(monkeypatch, _Draws("zz-drawn", ["zz-drawn"]))
    (tmp_path / "figures").mkdir(parents=True)
    for name in ("a", "b", "c"):  # "figures": "abc" must not be read as the figure names a, b, c
        (tmp_path / "figures" / name).write_text("keep")
    (tmp_path / "results.json").write_text(content, encoding="utf-8")
    assert lab.run(["zz-drawn"], out_dir=tmp_path, quiet=True).outcomes[0].status == "holds"
    assert all((tmp_path / "figures" / name).read_text() == "keep" for name in ("a", "b", "c"))
