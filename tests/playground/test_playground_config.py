"""fukaku.playground.config: every parameter validated, each kind of bad value refused with its field named."""
from __future__ import annotations

import pytest

from fukaku.playground.config import ConfigError, PlaygroundConfig, limits


def test_defaults_are_the_playgrounds():
    c = PlaygroundConfig.from_dict({})
    assert (c.dataset, c.points, c.train_ratio, c.batch_size, c.hidden, c.activation, c.learning_rate) == \
        ("circle", 500, 0.5, 10, (4, 2), "tanh", 0.03)
    assert c.train_points == 250
    assert PlaygroundConfig.from_dict(c.to_dict()) == c  # round trip through JSON values


def test_good_config_normalised():
    c = PlaygroundConfig.from_dict({"dataset": "reg-gauss", "problem": "regression", "points": 2000, "noise": 0.5,
                                    "train_ratio": 0.9, "batch_size": 100, "features": ["sin(x2)", "x1", "x1*x2"],
                                    "hidden": [8] * 6, "activation": "gelu", "learning_rate": 10, "optimizer": "adam",
                                    "regularization": "l1", "regularization_rate": 0.001, "dropout": 0.9,
                                    "batch_norm": True, "seed": 7})
    assert c.features == ("x1", "x1*x2", "sin(x2)")  # canonical order
    assert c.hidden == (8,) * 6 and c.learning_rate == 10.0 and isinstance(c.learning_rate, float)
    assert PlaygroundConfig.from_dict({"hidden": []}).hidden == ()


@pytest.mark.parametrize("bad, field, words", [
    ({"hidden": [4] * 7}, "hidden", "at most 6"),
    ({"hidden": [9]}, "hidden", "between 1 and 8"),
    ({"hidden": [0]}, "hidden", "between 1 and 8"),
    ({"hidden": [2.5]}, "hidden", "integer"),
    ({"hidden": "4,2"}, "hidden", "list"),
    ({"learning_rate": 0}, "learning_rate", "between"),
    ({"learning_rate": 100}, "learning_rate", "between"),
    ({"learning_rate": float("nan")}, "learning_rate", "finite"),
    ({"learning_rate": "0.1"}, "learning_rate", "number"),
    ({"batch_size": 0}, "batch_size", "between 1 and 100"),
    ({"batch_size": 101}, "batch_size", "between"),
    ({"batch_size": True}, "batch_size", "integer"),
    ({"points": 10}, "points", "between 20 and 2000"),
    ({"points": 10**6}, "points", "between"),
    ({"noise": 0.6}, "noise", "between 0 and 0.5"),
    ({"noise": -0.1}, "noise", "between"),
    ({"train_ratio": 1.0}, "train_ratio", "between 0.1 and 0.9"),
    ({"dropout": 1.0}, "dropout", "between"),
    ({"regularization_rate": -1}, "regularization_rate", "between"),
    ({"seed": -1}, "seed", "between"),
    ({"activation": "softmax"}, "activation", "linear, relu"),
    ({"optimizer": "lbfgs"}, "optimizer", "sgd, momentum, adam"),
    ({"regularization": "l3"}, "regularization", "none, l1, l2"),
    ({"dataset": "moons"}, "dataset", "circle"),
    ({"dataset": "reg-plane"}, "dataset", "not a classification data set"),
    ({"dataset": "circle", "problem": "regression"}, "dataset", "not a regression data set"),
    ({"problem": "ranking"}, "problem", "classification, regression"),
    ({"features": []}, "features", "non-empty"),
    ({"features": ["x3"]}, "features", "unknown feature"),
    ({"features": ["x1", "x1"]}, "features", "at most once"),
    ({"batch_norm": "yes"}, "batch_norm", "true or false"),
    ({"layers": 3}, "layers", "unknown parameter"),
])
def test_bad_values_refused_with_the_field(bad, field, words):
    with pytest.raises(ConfigError) as info:
        PlaygroundConfig.from_dict(bad)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ") and words in str(info.value)


def test_not_an_object_refused():
    with pytest.raises(ConfigError, match="JSON object"):
        PlaygroundConfig.from_dict([1, 2])


def test_limits_describe_the_controls():
    lim = limits()
    assert lim["bounds"]["layers"] == [0, 6] and lim["bounds"]["units"] == [1, 8]
    assert "swish" in lim["activations"] and lim["datasets"]["regression"] == ["reg-plane", "reg-gauss"]
