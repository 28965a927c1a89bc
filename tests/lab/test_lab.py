"""The lab framework (registry, runner, report, CLI) and the experiments of the G1 modules
(activations, classical, schedules, linear_depth): each runs in quick mode and its claim holds."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fukaku as fk
from fukaku import lab
from fukaku.lab import plotting, registry, report, runner
from fukaku.lab.registry import Context, Experiment, Result

G1_EXPERIMENTS = ["softmax-demo", "activation-derivatives", "sigmoid-derivative-max", "perceptron-convergence",
                  "perceptron-xor", "logistic-regression-sklearn", "linear-regression-gd", "mae-vs-mse",
                  "lr-step-decay", "lr-warmup-cosine", "deep-linear-one-matrix", "deep-linear-xor"]
NEEDS_SKLEARN = {"logistic-regression-sklearn"}


def _fake(monkeypatch, exp_id: str, run, title: str = "a fake experiment", claim: str = "a claim",
          source: str = "test") -> None:
    """Register an experiment for this test only (monkeypatch removes it afterwards)."""
    registry.discover()
    monkeypatch.setitem(registry.REGISTRY, exp_id, Experiment(exp_id, title, claim, source, run))


def _measure_two(ctx: Context) -> Result:
    return Result(measured={"x": np.float64(1.5), "n": np.int64(3), "v": np.arange(3), "t": fk.tensor([1.0, 2.0]),
                            "bad": float("nan"), "big": np.inf, "ok": np.bool_(True)},
                  holds=True, summary="It holds. More words.", headline="x 1.5 ≤ 2")


def _raises(ctx: Context) -> Result:
    raise ZeroDivisionError("deliberate failure in a test experiment")


# ----------------------------------------------------------------------------- registry
def test_discover_registers_every_g1_experiment():
    found = registry.discover()
    assert set(G1_EXPERIMENTS) <= set(found)
    ids = [e.id for e in lab.list_experiments()]
    assert ids == list(found) and len(ids) == len(set(ids))
    for exp in found.values():
        assert exp.title and exp.claim and exp.source.startswith("seed") and callable(exp.run)


def test_registering_an_id_twice_is_refused():
    registry.discover()
    with pytest.raises(ValueError, match="softmax-demo"):
        registry.experiment("softmax-demo", title="t", claim="c", source="s")(_measure_two)
    assert registry.REGISTRY["softmax-demo"].run is not _measure_two


def test_select_rejects_unknown_and_empty_ids():
    with pytest.raises(ValueError, match="no-such-experiment.*known ids"):
        runner.select(["softmax-demo", "no-such-experiment"])
    with pytest.raises(ValueError, match="no experiment selected"):
        runner.select([])
    assert [e.id for e in runner.select(["lr-step-decay", "softmax-demo", "lr-step-decay"])] == \
        ["lr-step-decay", "softmax-demo"]


# ----------------------------------------------------------------------------- runner and report
def test_runner_writes_report_and_results_with_errors_as_entries(monkeypatch, tmp_path, capsys):
    _fake(monkeypatch, "zz-measures", _measure_two)
    _fake(monkeypatch, "zz-raises", _raises)
    out = tmp_path / "report"
    result = lab.run(["zz-raises", "softmax-demo", "zz-measures"], quick=True, out_dir=out, seed=3)

    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("error") and "zz-raises" in lines[0] and "ZeroDivisionError" in lines[0]
    assert lines[1].startswith("holds") and "softmax-demo" in lines[1] and " s)" in lines[1]
    assert lines[2].startswith("holds") and lines[2].endswith("x 1.5 ≤ 2")
    assert lines[3].endswith(str(out / "report.html")) and "2 of 3 hold" in lines[3]

    assert result.report_path == out / "report.html" and result.json_path == out / "results.json"
    assert not result.all_hold and result.counts() == {"holds": 2, "does not hold": 0, "error": 1}
    assert sorted(p.name for p in out.iterdir()) == ["figures", "report.html", "results.json"]  # no temp files left

    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert data["quick"] is True and data["seed"] == 3 and data["counts"]["error"] == 1
    assert [e["id"] for e in data["experiments"]] == ["zz-raises", "softmax-demo", "zz-measures"]
    failed, softmax, measured = data["experiments"]
    assert failed["status"] == "error" and failed["measured"] == {} and "ZeroDivisionError" in failed["error"]
    assert "deliberate failure" in failed["error"]
    assert softmax["status"] == "holds" and softmax["figures"] == ["figures/softmax-demo.png"]
    assert softmax["source"].startswith("seed 003") and softmax["seconds"] >= 0
    assert measured["measured"] == {"x": 1.5, "n": 3, "v": [0, 1, 2], "t": [1.0, 2.0], "bad": "nan", "big": "inf",
                                    "ok": True}
    assert set(softmax) == {"id", "title", "source", "claim", "status", "seconds", "measured", "summary",
                            "headline", "figures", "warnings", "error"}

    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.count("<section id=") == 3
    assert '<a href="#exp-softmax-demo">' in html  # summary table links to the sections
    assert '<img src="figures/softmax-demo.png"' in html and (out / "figures" / "softmax-demo.png").is_file()
    assert "ZeroDivisionError: deliberate failure" in html and 'class="badge error"' in html
    assert "<script" not in html and "http" not in html  # self-contained


def test_experiment_seed_makes_runs_reproducible(tmp_path):
    first = runner.run_one(registry.discover()["perceptron-convergence"], Context(tmp_path, quick=True, seed=5))
    fk.randn(10)  # disturb the global generator: the runner reseeds it per experiment
    second = runner.run_one(registry.discover()["perceptron-convergence"], Context(tmp_path, quick=True, seed=5))
    assert first.measured == second.measured
    other = runner.run_one(registry.discover()["perceptron-convergence"], Context(tmp_path, quick=True, seed=6))
    assert other.measured["margin γ"] != first.measured["margin γ"]


def test_html_escapes_every_text(monkeypatch, tmp_path):
    evil = '<script>alert("x")</script> & <b>'

    def run(ctx):
        return Result(measured={evil: evil, "list": [evil]}, holds=False, summary=evil, headline=evil)

    _fake(monkeypatch, "zz-evil", run, title=evil, claim=evil, source=evil)
    result = lab.run(["zz-evil"], quick=True, out_dir=tmp_path, quiet=True)
    html = result.report_path.read_text(encoding="utf-8")
    assert "<script" not in html and "<b>" not in html
    assert html.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;") >= 7
    assert 'class="badge does-not-hold"' in html
    assert json.loads(result.json_path.read_text(encoding="utf-8"))["experiments"][0]["claim"] == evil


def test_malformed_results_and_stray_figures_become_errors(monkeypatch, tmp_path):
    _fake(monkeypatch, "zz-none", lambda ctx: None)
    _fake(monkeypatch, "zz-missing-figure",
          lambda ctx: Result(measured={}, holds=True, summary="s", figures=[ctx.figure_path("never-drawn")]))
    result = lab.run(["zz-none", "zz-missing-figure"], out_dir=tmp_path, quiet=True)
    none, missing = result.outcomes
    assert none.status == "error" and "expected lab.Result" in none.headline
    assert missing.status == "error" and "not written" in missing.error


def test_figures_are_optional(monkeypatch, tmp_path):
    monkeypatch.setattr(plotting, "available", lambda: False)
    result = lab.run(["softmax-demo"], out_dir=tmp_path, quiet=True)
    assert result.outcomes[0].status == "holds" and result.outcomes[0].figures == []
    html = result.report_path.read_text(encoding="utf-8")
    assert "Figures are unavailable" in html and "<img" not in html
    assert json.loads(result.json_path.read_text(encoding="utf-8"))["figures_available"] is False


def test_verdict_follows_the_measurement(monkeypatch, tmp_path):
    """A softmax that is off by 0.1% in its logits must fail the 1e-8 comparison with the printed values."""
    import fukaku.nn.functional as F

    real = F.softmax
    monkeypatch.setattr(F, "softmax", lambda x, dim=None: real(x * 1.001, dim=dim))
    outcome = runner.run_one(registry.discover()["softmax-demo"], Context(tmp_path, quick=True))
    assert outcome.status == "does not hold"
    assert outcome.measured["max relative error vs printed"] > 1e-3


def test_format_value_and_bad_seed():
    assert report.format_value(0.1 + 0.2) == "0.3"
    assert report.format_value(list(range(20))).endswith("… (20 items)]")
    assert report.format_value({"a": 1.0, "b": [True]}) == "a: 1; b: [True]"
    with pytest.raises(ValueError, match="seed"):
        lab.run(["softmax-demo"], seed=-1, quiet=True)


# ----------------------------------------------------------------------------- CLI
def test_cli_list_prints_every_id(capsys):
    assert lab.cli_main(["list"]) == 0
    out = capsys.readouterr().out
    for exp_id in G1_EXPERIMENTS:
        assert any(line.split()[0] == exp_id for line in out.splitlines())


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
    assert json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))["seed"] == 1
    _fake(monkeypatch, "zz-raises", _raises)
    assert lab.cli_main(["run", "zz-raises", "--out", str(tmp_path)]) == 1
    assert "report:" in capsys.readouterr().out


def test_python_dash_m_fukaku_lab(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "fukaku.lab", "list"], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)
    assert proc.returncode == 0 and "softmax-demo" in proc.stdout


# ----------------------------------------------------------------------------- the experiments
@pytest.mark.parametrize("exp_id", G1_EXPERIMENTS)
def test_g1_experiment_holds_in_quick_mode(exp_id, tmp_path):
    if exp_id in NEEDS_SKLEARN:
        pytest.importorskip("sklearn", reason="the oracle of this experiment is scikit-learn (optional extra)")
    outcome = runner.run_one(registry.discover()[exp_id], Context(Path(tmp_path), quick=True, seed=0))
    assert outcome.error is None, outcome.error
    assert outcome.status == "holds", (outcome.summary, outcome.measured)
    assert outcome.measured and outcome.summary and outcome.headline
    assert outcome.warnings == []
    for fig in outcome.figures:
        assert (tmp_path / fig).stat().st_size > 1000
    if plotting.available():
        assert outcome.figures
