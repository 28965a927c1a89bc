"""``fukaku run``: unmodified PyTorch programs (examples/) run on fukaku; torch imports resolve to fukaku's
modules; a missing name stops the program with one line naming it and where it was used."""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
POLYNOMIAL = sorted((ROOT / "examples" / "polynomial").glob("*.py"))


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fukaku", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def _final_loss(stdout: str) -> float:
    return float(re.search(r"final loss ([0-9.]+)", stdout).group(1))


def _program(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "main.py"
    path.write_text(textwrap.dedent(source))
    return path


@pytest.mark.parametrize("script", POLYNOMIAL, ids=lambda p: p.stem)
def test_the_polynomial_tutorial_runs_on_fukaku(script):
    done = _run("run", str(script))
    assert done.returncode == 0, done.stderr
    assert _final_loss(done.stdout) < 30  # sin(x) by a cubic: ≈ 9 once fitted; the random start is in the thousands


@pytest.mark.parametrize("script", POLYNOMIAL, ids=lambda p: p.stem)
def test_the_examples_are_pytorch_programs(script):
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert _final_loss(done.stdout) < 30


#: The Transformer examples with their shortened arguments and the largest final loss they may end on: PyTorch
#: ends near 0.7 (language model, 2 epochs; the characters' unigram entropy is ≈ 2.3 nats) and 0.3 (reversal,
#: 400 steps; it starts near ln 13 ≈ 2.6).
TRANSFORMERS = {"transformer_lm.py": (["--epochs", "2"], 1.0), "transformer_reversal.py": (["--steps", "400"], 0.8)}


@pytest.mark.parametrize("name", sorted(TRANSFORMERS))
@pytest.mark.parametrize("on", ["fukaku", "torch"])
def test_the_transformer_examples_learn_on_fukaku_and_on_torch(name, on):
    args, bound = TRANSFORMERS[name]
    script = str(ROOT / "examples" / name)
    done = _run("run", script, *args) if on == "fukaku" else subprocess.run(
        [sys.executable, script, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert _final_loss(done.stdout) < bound


def test_the_digits_classifier_trains_checkpoints_and_reloads():
    pytest.importorskip("sklearn")
    done = _run("run", str(ROOT / "examples" / "digits_classifier.py"), "--epochs", "4")
    assert done.returncode == 0, done.stderr
    assert float(re.search(r"final accuracy ([0-9.]+)", done.stdout).group(1)) > 85
    assert "restored from epoch 4" in done.stdout


def test_a_missing_name_stops_with_one_line_naming_it_and_the_line(tmp_path):
    path = _program(tmp_path, """\
        import torch
        import torch.onnx  # a module fukaku lacks imports fine
        x = torch.ones(2)
        torch.onnx.export(None, x, "model.onnx")
        """)
    done = _run("run", str(path))
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == "fukaku has no torch.onnx.export (main.py:4)\n"


@pytest.mark.parametrize("use, name", [("torch.no_such_function(x)", "torch.no_such_function"),
                                       ("x.no_such_method()", "torch.Tensor.no_such_method"),
                                       ("torch.nn.NoSuchLayer(3)", "torch.nn.NoSuchLayer"),
                                       ("torch.optim.SGD([x], lr=0.1).no_such_option", None)])
def test_missing_names_of_modules_tensors_and_classes(tmp_path, use, name):
    path = _program(tmp_path, f"import torch\nx = torch.ones(2, requires_grad=True)\n{use}\n")
    done = _run("run", str(path))
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("fukaku has no torch.") and lines[0].endswith("(main.py:3)")
    if name is not None:
        assert lines[0] == f"fukaku has no {name} (main.py:3)"


def test_a_bug_of_the_program_itself_keeps_its_traceback(tmp_path):
    path = _program(tmp_path, """\
        import torch
        class Net(torch.nn.Module):
            def forward(self, x):
                return self.layer_that_was_never_made(x)
        Net()(torch.ones(1))
        """)
    done = _run("run", str(path))
    assert done.returncode == 1 and "Traceback" in done.stderr and "layer_that_was_never_made" in done.stderr


def test_torch_imports_resolve_to_fukaku_modules_for_that_process(tmp_path):
    path = _program(tmp_path, """\
        import sys
        import torch, torch.nn as nn, torch.nn.functional as F
        from torch.nn.modules.linear import Linear
        from torch.utils.data import DataLoader
        import fukaku
        assert torch is fukaku and Linear is nn.Linear is fukaku.nn.Linear and F is fukaku.nn.functional
        assert DataLoader is fukaku.utils.data.DataLoader
        assert not hasattr(torch, "no_such_name") and getattr(torch.onnx if False else torch, "zzz", 7) == 7
        print(__name__, sys.argv[1:])
        """)
    done = _run("run", str(path), "--lr", "0.1", "extra")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "__main__ ['--lr', '0.1', 'extra']\n"
    module_form = subprocess.run([sys.executable, "-m", "fukaku.run", str(path)], capture_output=True, text=True)
    assert module_form.returncode == 0 and module_form.stdout.startswith("__main__"), module_form.stderr


def test_exit_status_and_usage(tmp_path):
    assert _run("run", str(_program(tmp_path, "import sys\nsys.exit(3)\n"))).returncode == 3
    missing = _run("run", str(tmp_path / "nope.py"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    assert _run("run").returncode == 2
    assert "run" in _run("--help").stdout
