"""``fukaku.lab``: the textbook's claims as experiments that measure, compare and report.

    fukaku lab list
    fukaku lab run perceptron-convergence softmax-demo --quick --out lab-report
    fukaku lab run --all --quick

From Python: ``fukaku.lab.run(ids=None, quick=True)`` returns a :class:`LabRun`;
``list_experiments()`` lists what is registered. Writing an experiment (a subclass of
:class:`Experiment` whose :class:`Check` list decides the verdict): see :mod:`fukaku.lab.registry`.
"""
from __future__ import annotations

from .cli import cli_main
from .registry import Check, Context, Experiment, Measurement, Result, discover
from .runner import LabRun, Outcome, run


def list_experiments() -> list[Experiment]:
    """Every registered experiment, in discovery order (the file tree of ``lab/experiments/``)."""
    return list(discover().values())


__all__ = ["run", "list_experiments", "cli_main", "Check", "Context", "Experiment", "Measurement", "Result",
           "discover", "LabRun", "Outcome"]
