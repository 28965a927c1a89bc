"""The playground's network, built from a :class:`~fukaku.playground.config.PlaygroundConfig`.

``Features(2 → F) → [Linear → (BatchNorm1d) → activation → (Dropout)] × layers → Linear(→ 1) → (Tanh)``,
an ``nn.Sequential`` whose state-dict keys are PyTorch's, initialised as TensorFlow Playground does
(weights U(−0.5, 0.5), biases 0.1; seed 003, EXERCISE). Classification ends in tanh (targets ±1),
regression in the linear output; both train on ½(out − target)² (the Playground's loss).

:func:`layer_outputs` runs the whole heat-map grid through the network in one pass and returns every
layer's output, so the page can draw the decision map and one small map per neuron from it.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import nn, stack, tensor
from ..models.rnn._util import inference
from ..lab.experiments.playground.exercise import half_squared_error
from ..tensor import Tensor
from .config import PlaygroundConfig

# the activation modules; "linear" is the identity (no module), as in the lab's replay of the exercise
ACTIVATION_MODULES: dict[str, Callable[[], nn.Module] | None] = {
    "linear": None, "relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU, "swish": nn.SiLU, "gelu": nn.GELU}
DOMAIN = 6.0  # the Playground's input square [−6, 6]²
loss_fn = half_squared_error


class Features(nn.Module):
    """The Playground's input features of the points ``(N, 2)``: ``(N, len(names))``, in ``names``' order
    among X1, X2, X1², X2², X1X2, sin X1, sin X2."""

    def __init__(self, names: tuple[str, ...] = ("x1", "x2")) -> None:
        super().__init__()
        self.names = tuple(names)

    def forward(self, input: Tensor) -> Tensor:
        x1, x2 = input[:, 0], input[:, 1]
        columns = {"x1": lambda: x1, "x2": lambda: x2, "x1^2": lambda: x1 * x1, "x2^2": lambda: x2 * x2,
                   "x1*x2": lambda: x1 * x2, "sin(x1)": x1.sin, "sin(x2)": x2.sin}
        return stack([columns[name]() for name in self.names], dim=1)

    def extra_repr(self) -> str:
        return ", ".join(self.names)


class PlaygroundNet(nn.Sequential):
    """The network of a playground config (see the module docstring). ``layer_ends`` are the indices of
    the modules whose outputs are the layers drawn: the features, each hidden layer, the output."""

    def __init__(self, config: PlaygroundConfig) -> None:
        modules: list[nn.Module] = [Features(config.features)]
        ends, width, make = [0], len(config.features), ACTIVATION_MODULES[config.activation]
        for units in config.hidden:
            modules.append(nn.Linear(width, units))
            if config.batch_norm:
                modules.append(nn.BatchNorm1d(units))
            if make is not None:
                modules.append(make())
            if config.dropout > 0:
                modules.append(nn.Dropout(config.dropout))
            ends.append(len(modules) - 1)
            width = units
        modules.append(nn.Linear(width, 1))
        if config.problem == "classification":
            modules.append(nn.Tanh())
        ends.append(len(modules) - 1)
        super().__init__(*modules)
        self.layer_ends = tuple(ends)
        rng = np.random.default_rng(config.seed)
        for m in self:
            if isinstance(m, nn.Linear):  # the Playground's initialisation
                nn.init.uniform_(m.weight, -0.5, 0.5, generator=rng)
                nn.init.constant_(m.bias, 0.1)

    def linears(self) -> list[nn.Linear]:
        """The linear layers, input side first (the weights the page draws as links)."""
        return [m for m in self if isinstance(m, nn.Linear)]

    def layer_outputs(self, points: Tensor) -> list[Tensor]:
        """Every drawn layer's output for ``points (N, 2)``: ``[features (N, F), hidden… (N, units), output
        (N, 1)]``, from one forward pass (run it in eval mode without a graph, as :func:`grid_outputs` does, for heat-maps)."""
        outputs, h = [], points
        for i, m in enumerate(self):
            h = m(h)
            if i in self.layer_ends:
                outputs.append(h)
        return outputs


def grid(density: int) -> np.ndarray:
    """The heat-map grid: ``density²`` points ``(density², 2)`` float32 covering [−6, 6]², row-major with
    x1 along a row (left to right) and x2 from top (+6) to bottom (−6), as an image is drawn."""
    xs = np.linspace(-DOMAIN, DOMAIN, density, dtype=np.float32)
    gx, gy = np.meshgrid(xs, xs[::-1])
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def grid_outputs(model: PlaygroundNet, points: np.ndarray) -> list[np.ndarray]:
    """Every drawn layer's output at ``points (N, 2)``: ``[features (N, F), hidden… (N, units), output (N, 1)]``
    float32 arrays, from one vectorised forward pass in eval mode without a graph (the model's mode is kept)."""
    with inference(model):
        outputs = model.layer_outputs(tensor(points))
    return [o.numpy() for o in outputs]


def heatmaps(model: PlaygroundNet, points: np.ndarray, density: int) -> list[np.ndarray]:
    """Per-layer heat-maps of ``model`` on ``points = grid(density)``: one ``(units, density, density)``
    float32 array per drawn layer (features, hidden layers, output), computed in one vectorised pass."""
    return [o.T.reshape(-1, density, density) for o in grid_outputs(model, points)]


__all__ = ["PlaygroundNet", "Features", "grid", "grid_outputs", "heatmaps", "loss_fn", "ACTIVATION_MODULES"]
