"""fukaku.playground.network against the same network built in PyTorch with the same weights (the oracle)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conformance import assert_close

import fukaku as fk
from fukaku.playground.config import ACTIVATIONS, PlaygroundConfig
from fukaku.playground.network import PlaygroundNet, grid, heatmaps

_TORCH_ACT = {"linear": None, "relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
              "leaky_relu": torch.nn.LeakyReLU, "elu": torch.nn.ELU, "swish": torch.nn.SiLU, "gelu": torch.nn.GELU}
_TORCH_FEATURE = {"x1": lambda a, b: a, "x2": lambda a, b: b, "x1^2": lambda a, b: a ** 2, "x2^2": lambda a, b: b ** 2,
                  "x1*x2": lambda a, b: a * b, "sin(x1)": lambda a, b: torch.sin(a), "sin(x2)": lambda a, b: torch.sin(b)}


class TorchFeatures(torch.nn.Module):
    def __init__(self, names):
        super().__init__()
        self.names = names

    def forward(self, x):
        return torch.stack([_TORCH_FEATURE[f](x[:, 0], x[:, 1]) for f in self.names], dim=1)


def torch_twin(c: PlaygroundConfig) -> torch.nn.Module:
    """The same architecture written directly in PyTorch."""
    layers, width = [TorchFeatures(c.features)], len(c.features)
    for units in c.hidden:
        layers.append(torch.nn.Linear(width, units))
        if c.batch_norm:
            layers.append(torch.nn.BatchNorm1d(units))
        if _TORCH_ACT[c.activation]:
            layers.append(_TORCH_ACT[c.activation]())
        if c.dropout:
            layers.append(torch.nn.Dropout(c.dropout))
        width = units
    layers.append(torch.nn.Linear(width, 1))
    if c.problem == "classification":
        layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("extra", [{}, {"features": ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"],
                                        "hidden": [8, 3, 5], "batch_norm": True, "dropout": 0.3},
                                   {"hidden": [], "problem": "regression", "dataset": "reg-plane"}])
def test_forward_matches_torch(activation, extra):
    c = PlaygroundConfig.from_dict({"activation": activation, **extra})
    model = PlaygroundNet(c)
    ours = model.state_dict()
    rng = np.random.default_rng(1)
    for k, v in ours.items():  # non-trivial batch-norm statistics, so eval mode is exercised
        if k.endswith("running_var"):
            v._data[...] = rng.uniform(0.5, 2, v.shape)
        elif k.endswith("running_mean"):
            v._data[...] = rng.normal(size=v.shape)
    twin = torch_twin(c)
    twin.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in ours.items()})
    x = rng.uniform(-6, 6, (64, 2)).astype(np.float32)
    model.eval(), twin.eval()
    with fk.no_grad(), torch.no_grad():
        want = twin(torch.from_numpy(x)).numpy()
        assert_close(model(fk.tensor(x)), want, np.float32, "playground network")
        maps = heatmaps(model, x, 8)  # an 8 × 8 "grid" of these 64 points: the maps are the layers' outputs
    assert_close(maps[-1].reshape(-1), want[:, 0], np.float32, "output heat-map")
    assert [m.shape[0] for m in maps] == [len(c.features), *c.hidden, 1]


def test_initialisation_is_the_playgrounds_and_seeded():
    c = PlaygroundConfig.from_dict({"hidden": [8, 8]})
    a, b = PlaygroundNet(c), PlaygroundNet(c)
    for la, lb in zip(a.linears(), b.linears()):
        w = la.weight.detach().numpy()
        assert np.abs(w).max() <= 0.5 and w.std() > 0.1
        assert np.all(la.bias.detach().numpy() == np.float32(0.1))
        np.testing.assert_array_equal(w, lb.weight.detach().numpy())
    other = PlaygroundNet(PlaygroundConfig.from_dict({"hidden": [8, 8], "seed": 1}))
    assert not np.array_equal(other.linears()[0].weight.detach().numpy(), a.linears()[0].weight.detach().numpy())


def test_grid_layout():
    g = grid(5)
    assert g.shape == (25, 2) and g.dtype == np.float32
    np.testing.assert_array_equal(g[0], [-6, 6])      # top left
    np.testing.assert_array_equal(g[4], [6, 6])       # top right: x1 runs along a row
    np.testing.assert_array_equal(g[-1], [6, -6])     # bottom right
    model = PlaygroundNet(PlaygroundConfig.from_dict({"features": ["x1", "sin(x2)"]}))
    x1_map, sin_x2_map = heatmaps(model, g, 5)[0]
    np.testing.assert_allclose(x1_map[2], np.linspace(-6, 6, 5))
    np.testing.assert_allclose(sin_x2_map[:, 0], np.sin(np.linspace(6, -6, 5)), atol=1e-6)
    assert not math.isnan(float(x1_map.sum()))
