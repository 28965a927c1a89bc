"""Shared fixtures of the lab tests: each experiment's quick run, done once per session and reused by every
test that only reads its outcome (the quick runs are most of the lab suite's time)."""
from __future__ import annotations

from pathlib import Path

import pytest

from fukaku.lab import registry, runner
from fukaku.lab.registry import Context


class QuickRuns:
    """``quick_runs(exp_id)``: the outcome of the experiment's quick run with seed 0, run on first use and
    kept; its figures are under ``out_dir``."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self._outcomes: dict[str, runner.Outcome] = {}

    def __call__(self, exp_id: str) -> runner.Outcome:
        if exp_id not in self._outcomes:
            experiment = registry.discover()[exp_id]
            self._outcomes[exp_id] = runner.run_one(experiment, Context(self.out_dir, quick=True, seed=0))
        return self._outcomes[exp_id]


@pytest.fixture(scope="session")
def quick_runs(tmp_path_factory) -> QuickRuns:
    return QuickRuns(tmp_path_factory.mktemp("lab-quick"))
