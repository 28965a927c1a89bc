"""The parameters of a playground session, validated: every value the page may send is checked here,
on the server, and a bad one is refused with a :class:`ConfigError` naming the field, the value and
the allowed range (the server answers it with HTTP 422).

The defaults are TensorFlow Playground's (seed 003, EXERCISE): circle, 500 points, no noise, 50 %
training data, batch 10, inputs X1 and X2, two hidden layers [4, 2] of tanh units, SGD at 0.03.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from ..datasets._playground import GENERATORS
from ..lab.experiments.playground.exercise import BATCH, LR

CLASSIFY = ("circle", "xor", "gauss", "spiral")
REGRESS = ("reg-plane", "reg-gauss")
assert set(CLASSIFY + REGRESS) == set(GENERATORS)
FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")
ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid", "leaky_relu", "elu", "swish", "gelu")
OPTIMIZERS = ("sgd", "momentum", "adam")
REGULARIZATIONS = ("none", "l1", "l2")
PROBLEMS = ("classification", "regression")

# Bounds. Chosen so that one session stays a small, quick job: TensorFlow Playground's own limits for
# layers and units, points and batch as its sliders allow (with some room), rates that cannot overflow.
LIMITS: dict[str, tuple[float, float]] = {
    "layers": (0, 6), "units": (1, 8), "points": (20, 2000), "noise": (0.0, 0.5), "train_ratio": (0.1, 0.9),
    "batch_size": (1, 100), "learning_rate": (1e-5, 10.0), "regularization_rate": (0.0, 10.0),
    "dropout": (0.0, 0.9), "seed": (0, 2**31 - 1),
}


class ConfigError(ValueError):
    """A playground parameter out of range or of the wrong kind; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class PlaygroundConfig:
    """One playground setup. Build it from the page's JSON with :meth:`from_dict`, which validates
    everything; ``to_dict()`` gives it back as JSON.

    Args:
        dataset: ``circle``, ``xor``, ``gauss``, ``spiral`` (classification) or ``reg-plane``,
            ``reg-gauss`` (regression); must agree with ``problem``.
        points: number of points, 20 to 2000.
        noise: 0 to 0.5 (the Playground's Noise slider / 100).
        train_ratio: share of points used for training, 0.1 to 0.9.
        batch_size: 1 to 100 points per SGD step.
        features: the input features, a non-empty subset of :data:`FEATURES`.
        hidden: hidden-layer widths, at most 6 layers of 1 to 8 units (``[]``: no hidden layer).
        activation: one of :data:`ACTIVATIONS` (``swish`` is x·σ(x)).
        learning_rate: 1e-5 to 10.
        optimizer: ``sgd``, ``momentum`` (SGD with momentum 0.9) or ``adam``.
        regularization: ``none``, ``l1`` or ``l2`` (on the weights, not the biases, as the Playground).
        regularization_rate: 0 to 10.
        dropout: probability 0 to 0.9 after each hidden activation.
        batch_norm: BatchNorm1d after each hidden linear layer.
        problem: ``classification`` (targets ±1, tanh output) or ``regression`` (linear output).
        seed: seeds the data and the initial weights.
    """

    dataset: str = "circle"
    points: int = 500
    noise: float = 0.0
    train_ratio: float = 0.5
    batch_size: int = BATCH
    features: tuple[str, ...] = ("x1", "x2")
    hidden: tuple[int, ...] = (4, 2)
    activation: str = "tanh"
    learning_rate: float = LR
    optimizer: str = "sgd"
    regularization: str = "none"
    regularization_rate: float = 0.0
    dropout: float = 0.0
    batch_norm: bool = False
    problem: str = "classification"
    seed: int = 0

    @classmethod
    def from_dict(cls, data: Any) -> PlaygroundConfig:
        """Validate ``data`` (a JSON object; missing fields take the defaults) into a config.

        Raises:
            ConfigError: an unknown field, a value of the wrong type, out of range or not among the choices.
        """
        if not isinstance(data, dict):
            raise ConfigError("config", f"expected a JSON object of parameters, got {type(data).__name__}")
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ConfigError(unknown[0], f"unknown parameter; the parameters are {', '.join(names)}")
        d = {**cls().to_dict(), **data}
        problem = _choice(d, "problem", PROBLEMS)
        dataset = _choice(d, "dataset", CLASSIFY + REGRESS)
        expected = CLASSIFY if problem == "classification" else REGRESS
        if dataset not in expected:
            raise ConfigError("dataset", f"{dataset!r} is not a {problem} data set; choose one of {', '.join(expected)}"
                              f" or set problem to {'regression' if problem == 'classification' else 'classification'}")
        features = d["features"]
        if not isinstance(features, (list, tuple)) or not features:
            raise ConfigError("features", f"expected a non-empty list of {', '.join(FEATURES)}, got {features!r}")
        for name in features:
            if name not in FEATURES:
                raise ConfigError("features", f"unknown feature {name!r}; choose among {', '.join(FEATURES)}")
        if len(set(features)) != len(features):
            raise ConfigError("features", f"each feature at most once, got {list(features)!r}")
        hidden = d["hidden"]
        if not isinstance(hidden, (list, tuple)):
            raise ConfigError("hidden", f"expected a list of layer widths such as [4, 2], got {hidden!r}")
        lo, hi = LIMITS["layers"]
        if len(hidden) > hi:
            raise ConfigError("hidden", f"at most {hi:g} hidden layers, got {len(hidden)}")
        for width in hidden:
            _integer({"hidden": width}, "hidden", "units")
        return cls(dataset=dataset, points=_integer(d, "points"), noise=_number(d, "noise"),
                   train_ratio=_number(d, "train_ratio"), batch_size=_integer(d, "batch_size"),
                   features=tuple(f for f in FEATURES if f in features), hidden=tuple(int(w) for w in hidden),
                   activation=_choice(d, "activation", ACTIVATIONS), learning_rate=_number(d, "learning_rate"),
                   optimizer=_choice(d, "optimizer", OPTIMIZERS),
                   regularization=_choice(d, "regularization", REGULARIZATIONS),
                   regularization_rate=_number(d, "regularization_rate"), dropout=_number(d, "dropout"),
                   batch_norm=_boolean(d, "batch_norm"), problem=problem, seed=_integer(d, "seed"))

    def to_dict(self) -> dict[str, Any]:
        """The config as JSON-ready values (lists for the tuples)."""
        d = dataclasses.asdict(self)
        d["features"], d["hidden"] = list(self.features), list(self.hidden)
        return d

    @property
    def train_points(self) -> int:
        """How many of the points are for training (the rest are the test set)."""
        return int(self.points * self.train_ratio)


def _choice(d: dict, name: str, choices: tuple[str, ...]) -> str:
    value = d[name]
    if value not in choices:
        raise ConfigError(name, f"{value!r} is not one of {', '.join(choices)}")
    return value


def _range(name: str, value: float, limit: str) -> None:
    lo, hi = LIMITS[limit]
    if not lo <= value <= hi:
        raise ConfigError(name, f"must be between {lo:g} and {hi:g}, got {value!r}")


def _integer(d: dict, name: str, limit: str | None = None) -> int:
    value = d[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(name, f"expected an integer, got {value!r}")
    _range(name, value, limit or name)
    return value


def _number(d: dict, name: str) -> float:
    value = d[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(name, f"expected a finite number, got {value!r}")
    _range(name, value, name)
    return float(value)


def _boolean(d: dict, name: str) -> bool:
    value = d[name]
    if not isinstance(value, bool):
        raise ConfigError(name, f"expected true or false, got {value!r}")
    return value


def limits() -> dict[str, Any]:
    """The choices and bounds of every parameter, for the page to build its controls from."""
    return {"datasets": {"classification": list(CLASSIFY), "regression": list(REGRESS)},
            "features": list(FEATURES), "activations": list(ACTIVATIONS), "optimizers": list(OPTIMIZERS),
            "regularizations": list(REGULARIZATIONS), "problems": list(PROBLEMS),
            "bounds": {k: list(v) for k, v in LIMITS.items()}}


__all__ = ["PlaygroundConfig", "ConfigError", "limits", "FEATURES", "ACTIVATIONS", "OPTIMIZERS", "LIMITS"]
