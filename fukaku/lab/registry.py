"""The lab's registry: each experiment measures something, states the textbook's claim and where
it comes from, and computes a verdict from its measurements (never from a hard-coded number).

An experiment is a function ``run(ctx: Context) -> Result`` registered with :func:`experiment`::

    @experiment("softmax-demo", title="Softmax of [-5, -3, 0, 1, 10]", source="seed 003",
                claim="softmax([-5,-3,0,1,10]) = [3.06e-07 2.26e-06 4.54e-05 1.23e-04 9.9983e-01]")
    def softmax_demo(ctx):
        ...measure...
        return Result(measured={...}, holds=..., summary="...", figures=[ctx.figure_path("softmax")])

Experiment modules live in ``fukaku/lab/experiments/`` and are discovered automatically.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Context:
    """What an experiment gets: where to put figures, whether to run the quick variant, a seed."""

    out_dir: Path
    quick: bool = False
    seed: int = 0

    def figure_path(self, name: str) -> Path:
        """A path for a PNG figure of this run (``out_dir/figures/<name>.png``); the directory exists."""
        folder = self.out_dir / "figures"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{name}.png"

    def rng(self, offset: int = 0) -> np.random.Generator:
        return np.random.default_rng(self.seed + offset)


@dataclass
class Result:
    """What an experiment measured and whether the claim holds.

    ``measured``: named numbers (or short lists/strings) the verdict is computed from;
    ``holds``: the verdict; ``summary``: one or two sentences comparing measurement and claim;
    ``figures``: PNG paths written under ``ctx.out_dir``; ``headline``: optional, a few words for the
    runner's one-line verdict (e.g. ``"mistakes 37 ≤ bound 112"``); the summary's first sentence
    stands in when it is empty.
    """

    measured: dict
    holds: bool
    summary: str
    figures: list[Path] = field(default_factory=list)
    headline: str = ""


@dataclass(frozen=True)
class Experiment:
    id: str
    title: str
    claim: str
    source: str
    run: Callable[[Context], Result]


REGISTRY: dict[str, Experiment] = {}


def experiment(id: str, *, title: str, claim: str, source: str):  # noqa: A002
    """Register ``run(ctx) -> Result`` under ``id`` (ids are unique, kebab-case)."""

    def register(run: Callable[[Context], Result]) -> Callable[[Context], Result]:
        if id in REGISTRY:
            raise ValueError(f"lab: experiment id {id!r} is registered twice")
        REGISTRY[id] = Experiment(id, title, claim, source, run)
        return run

    return register


def discover() -> dict[str, Experiment]:
    """Import every module of ``fukaku.lab.experiments`` so their experiments register."""
    from . import experiments

    for info in pkgutil.iter_modules(experiments.__path__):
        importlib.import_module(f"{experiments.__name__}.{info.name}")
    return REGISTRY
