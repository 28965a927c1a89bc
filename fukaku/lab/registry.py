'''The lab's registry: what an experiment is, and how the lab finds every one of them.

An experiment states one claim of the textbook (``id`` and ``source`` as keywords of its class statement,
the title and the claim as its docstring) and checks it in separate steps, declared once here by
:class:`Experiment`: ``measure`` runs the code and returns the numbers, ``checks`` compares those numbers
with the claim (each comparison a :class:`Check`, data that the report lists one by one), the summary
says in words what was measured (its first sentence is the headline of the runner's one-line verdict), and
``plot`` draws figures. The verdict is never written in: the claim holds when every check holds.

The summary is data too: ``summary_template``, prose with ``{m[measured name]:.3f}`` fields that
:meth:`str.format` fills from the measured values (white space, line breaks included, reads as one space).
Numbers the template needs that are not measured as such (a constant of the experiment, the worst of
several values, a clause that depends on the outcome) come from ``summary_values``, by name.

Adding an experiment is one new file anywhere under ``fukaku/lab/experiments/`` (in the subpackage
of its chapter or family; name the file after the experiment). The lab imports every module of that
package, nested ones included, and registers each :class:`Experiment` subclass it defines::

    # fukaku/lab/experiments/activations/softmax_sums_to_one.py
    from pathlib import Path

    import fukaku as fk
    import fukaku.nn.functional as F

    from ...plotting import save_figure
    from ...registry import Check, Context, Experiment, Measurement

    ROWS = 1000


    class SoftmaxSumsToOne(Experiment, id="softmax-sums-to-one", source="seed 003 (softmax demo)"):
        """Softmax outputs are probabilities.

        softmax(z) is positive and sums to 1 for any logits z.
        """

        def measure(self, ctx: Context) -> Measurement:
            z = fk.tensor(ctx.rng().normal(0, 10, (ROWS, 5)), dtype=fk.float64)
            p = F.softmax(z, dim=1).numpy()
            return Measurement(values={"smallest probability": float(p.min()),
                                       "max |row sum − 1|": float(abs(p.sum(axis=1) - 1).max())},
                               plot_data={"p": p})

        def checks(self, m: dict) -> list[Check]:
            return [Check("every probability is positive", m["smallest probability"], ">", 0.0),
                    Check("every row sums to 1 (float64 rounding)", m["max |row sum − 1|"], "≤", 1e-12)]

        summary_template = """Rows sum to 1 within {m[max |row sum − 1|]:.0e} over {rows} random logit
            vectors. The smallest probability is {m[smallest probability]:.1e}."""

        def summary_values(self, m: dict) -> dict:                               # optional
            return {"rows": ROWS}

        def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:   # optional
            return save_figure(ctx, self.id, lambda fig: fig.subplots().hist(measurement.plot_data["p"].ravel()))

``fukaku lab list`` then shows it, ``fukaku lab run softmax-sums-to-one`` runs it, and the lab tests
(tests/lab) run it in quick mode without being edited.
'''
from __future__ import annotations

import importlib
import inspect
import operator
import pkgutil
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

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


# The relations a check can state between a measured value and the claim's value.
RELATIONS = {"<": operator.lt, "≤": operator.le, "=": operator.eq, "≥": operator.ge, ">": operator.gt}


@dataclass(frozen=True)
class Check:
    """One comparison of a measurement with the claim: ``measured <relation> expected``.

    ``holds`` is computed from the comparison, never given. A claim with several parts is several
    checks; a part that is a yes/no property compares a measured boolean or count, e.g.
    ``Check("XOR never converges", m["XOR converged"], "=", False)``.

    Args:
        name: what is compared, in words a reader of the report understands.
        measured: the measured value (a number, a boolean or a count).
        relation: one of ``<  ≤  =  ≥  >``.
        expected: the claim's side: a bound, a tolerance or an exact value.

    Examples:
        >>> Check("max relative error vs the printed values", 1.9e-9, "≤", 1e-8).holds
        True
    """

    name: str
    measured: Any
    relation: str
    expected: Any
    holds: bool = field(init=False)

    def __post_init__(self) -> None:
        compare = RELATIONS.get(self.relation)
        if compare is None:
            raise ValueError(f"lab.Check {self.name!r}: relation {self.relation!r} is not one of "
                             f"{' '.join(RELATIONS)} (write ≤ for <=, ≥ for >=, = for ==)")
        object.__setattr__(self, "holds", bool(compare(self.measured, self.expected)))


@dataclass
class Measurement:
    """What :meth:`Experiment.measure` returns.

    ``values``: the named numbers (or short lists/strings) that the report shows and the checks
    compare; ``plot_data``: what only the figures draw (curves, data points, trained models), kept out
    of the report.
    """

    values: dict[str, Any]
    plot_data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Result:
    """What an experiment measured, its checks, and the verdict that follows from them.

    ``measured``: the named values the checks compare; ``checks``: the comparisons with the claim;
    ``summary``: a few sentences comparing measurement and claim, the first a short headline (see
    :meth:`Experiment.summary`); ``figures``: PNG paths written under ``ctx.out_dir``.
    """

    measured: dict
    checks: list[Check]
    summary: str
    figures: list[Path] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        """The verdict: every check holds. With no checks nothing was compared, so the claim does not hold."""
        return bool(self.checks) and all(check.holds for check in self.checks)

    @property
    def failed(self) -> list[Check]:
        """The checks that do not hold (empty when the claim holds)."""
        return [check for check in self.checks if not check.holds]


# What every experiment states about itself: ``id`` and ``source`` as keywords of its class statement,
# ``title`` and ``claim`` as its docstring (so ``help()`` on an experiment shows the claim it checks).
_KEYWORDS = ("id", "source")
_METADATA = ("id", "title", "source", "claim")


class Experiment(ABC):
    """A claim of the textbook, checked by measuring: subclass it in a module under ``lab/experiments/``.

    State ``id`` (unique, kebab-case) and ``source`` (e.g. ``"seed 000 §6.1.1"``) as keywords of the class
    statement, and write the docstring as the title (one line), a blank line, then the claim (the
    textbook's statement, quantified). They become the class attributes ``cls.id``, ``cls.source``,
    ``cls.title`` (its final period dropped) and ``cls.claim`` (one paragraph per paragraph of the
    docstring). Then write the steps :meth:`run` calls in order: :meth:`measure`, :meth:`checks`, the
    summary as :attr:`summary_template` (with :meth:`summary_values` where it needs more than the measured
    values) and :meth:`plot` (optional). The module docstring of :mod:`fukaku.lab.registry` has a complete
    example.

    A subclass of an experiment inherits all four and may restate any of them: a keyword, or a docstring
    (title and claim together). A class with neither keywords nor an experiment above it is a base for
    experiments, its docstring plain documentation: it must leave a method abstract, since discovery
    refuses a concrete experiment without an id. Discovery also refuses an experiment with neither a
    ``summary_template`` nor a :meth:`summary` of its own.

    ``summary_template`` (a class attribute) is prose for :meth:`str.format`: ``{m[name]}`` is the measured
    value ``name`` (``{m[name]:.3f}`` with a format spec, ``{m[name][key]}`` inside a dict, ``{{`` a brace),
    and ``{other}`` a value :meth:`summary_values` returns. White space in it, line breaks and indentation
    included, reads as one space, so it is written as a triple-quoted string of sentences. The first
    sentence is the headline that the runner's one-line verdict and the report's table show: the key
    numbers against the claim's, in at most 90 characters (e.g.
    ``"At γ = 0.0259: 78 mistakes ≤ bound 4379."``); the report shows all of it.

    Raises:
        TypeError: at the class statement, when a keyword is empty or not a string, when the docstring is
            not a title, a blank line and a claim, when some of the four are stated and others missing, or
            when one is assigned in the class body instead.
    """

    id: ClassVar[str]
    title: ClassVar[str]
    source: ClassVar[str]
    claim: ClassVar[str]
    summary_template: ClassVar[str]

    def __init_subclass__(cls, *, id: str | None = None, source: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        in_body = [key for key in _METADATA if key in vars(cls)]
        if in_body:  # a class attribute would silently stand beside the keywords: one way to state them
            raise TypeError(f"{_describe(cls)} assigns {', '.join(in_body)} in its body; {_how_to_state(cls)}")
        for key, value in {"id": id, "source": source}.items():
            if value is None:
                continue
            if not isinstance(value, str) or not value.strip():
                raise TypeError(f"{_describe(cls)}: {key}= must be a non-empty string, got {value!r}")
            setattr(cls, key, value)
        doc = vars(cls).get("__doc__")
        if doc is not None and any(hasattr(cls, key) for key in _KEYWORDS):  # an experiment, not a base
            cls.title, cls.claim = _title_and_claim(cls, doc)
        missing = [key for key in _METADATA if not hasattr(cls, key)]
        if 0 < len(missing) < len(_METADATA):
            raise TypeError(f"{_describe(cls)} does not state {', '.join(missing)}; {_how_to_state(cls)}")

    @abstractmethod
    def measure(self, ctx: Context) -> Measurement:
        """Run the code under test (``ctx.quick``: the small variant; ``ctx.rng()``: seeded) and return
        the numbers the checks need, and what the figures draw."""

    @abstractmethod
    def checks(self, measured: dict) -> list[Check]:
        """The claim as comparisons of the measured values with the textbook's numbers."""

    def summary_values(self, measured: dict) -> dict[str, Any]:
        """The values :attr:`summary_template` names besides ``m``: what the summary says but the
        measurement does not hold as such (a constant of the experiment, the worst of several measured
        values, a clause that depends on the outcome). None by default."""
        return {}

    def summary(self, measured: dict) -> str:
        """A few sentences: what was measured, in the claim's terms; the first is the headline.

        Renders :attr:`summary_template` with ``m=measured`` and the names :meth:`summary_values` returns.

        Raises:
            TypeError: when the experiment has no ``summary_template``.
            LookupError: when the template names a value that is neither measured nor in ``summary_values``.
        """
        template = getattr(self, "summary_template", None)
        if not isinstance(template, str):
            raise TypeError(f"{_describe(type(self))} has no summary: {_how_to_summarise()}")
        values = self.summary_values(measured)
        try:
            return " ".join(template.split()).format(m=measured, **values)
        except (KeyError, IndexError) as exc:
            raise LookupError(f"{_describe(type(self))}: its summary_template names a value that is not there "
                              f"({type(exc).__name__}: {exc}); m holds the measured values "
                              f"{', '.join(map(repr, measured)) or '(none)'}, and summary_values returns "
                              f"{', '.join(map(repr, values)) or '(none)'}") from exc

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        """Figures written with :func:`fukaku.lab.plotting.save_figure`; none by default."""
        return []

    def run(self, ctx: Context) -> Result:
        """Measure, check, describe and plot, in that order."""
        measurement = self.measure(ctx)
        if not isinstance(measurement, Measurement):
            raise TypeError(f"experiment {self.id!r}: measure() returned {type(measurement).__name__}, "
                            "expected lab.Measurement(values={...}, plot_data={...})")
        measured = measurement.values
        return Result(measured=measured, checks=self.checks(measured), summary=self.summary(measured),
                      figures=self.plot(ctx, measurement))


REGISTRY: dict[str, Experiment] = {}


def discover() -> dict[str, Experiment]:
    """Import every module under ``fukaku.lab.experiments`` (subpackages included) and register each
    concrete :class:`Experiment` subclass defined there, in file-tree order. Returns ``{id: experiment}``."""
    from . import experiments

    prefix = f"{experiments.__name__}."
    for info in pkgutil.walk_packages(experiments.__path__, prefix):
        module = importlib.import_module(info.name)
        for cls in vars(module).values():
            if inspect.isclass(cls) and issubclass(cls, Experiment) and cls.__module__ == module.__name__ \
                    and not inspect.isabstract(cls):
                _register(cls)
    return REGISTRY


def _register(cls: type[Experiment]) -> None:
    if not hasattr(cls, "id"):  # it states no keywords (stating only some fails at its class statement)
        raise TypeError(f"{_describe(cls)} is concrete but states no {', '.join(_METADATA)}; state "
                        f"{_how_to_state(cls)}, or leave a method abstract if it is a base for experiments")
    if cls.summary is Experiment.summary and not isinstance(getattr(cls, "summary_template", None), str):
        raise TypeError(f"{_describe(cls)} is concrete but has no summary: {_how_to_summarise()}")
    known = REGISTRY.get(cls.id)
    if known is None:
        REGISTRY[cls.id] = cls()
    elif type(known) is not cls:
        raise ValueError(f"lab: experiment id {cls.id!r} is defined twice: by {type(known).__module__}."
                         f"{type(known).__qualname__} and by {cls.__module__}.{cls.__qualname__}; ids are unique")


def _describe(cls: type) -> str:
    return f"lab: experiment class {cls.__module__}.{cls.__qualname__}"


def _title_and_claim(cls: type, doc: str) -> tuple[str, str]:
    """Split an experiment's docstring into its title (first paragraph) and claim (the rest)."""
    paragraphs = [" ".join(paragraph.split()) for paragraph in re.split(r"\n\s*\n", inspect.cleandoc(doc))]
    paragraphs = [paragraph for paragraph in paragraphs if paragraph]
    if len(paragraphs) < 2:
        raise TypeError(f"{_describe(cls)}: its docstring must be the title, a blank line, then the claim; "
                        f"got {doc.strip()!r}")
    return paragraphs[0].removesuffix("."), "\n\n".join(paragraphs[1:])


def _how_to_state(cls: type) -> str:
    return (f"state id and source as class keywords and the title and claim as the docstring: "
            f"class {cls.__name__}(Experiment, id=..., source=...): \"\"\"Title.\\n\\nClaim.\"\"\"")


def _how_to_summarise() -> str:
    return ('state it as a class attribute, summary_template = """Prose with {m[measured name]:.3f} fields."""'
            " (and def summary_values(self, m) -> dict for values that are not measured)")
