"""A playground training session: the data, the network, the optimizer and the curves of one browser tab.

``Session.step()`` trains one epoch (one pass over the training points in mini-batches, as a step of
TensorFlow Playground); ``advance(seconds)`` trains epochs for about that long; ``snapshot()`` gives
what the page draws: epoch, train and test loss curves, the output's decision map on a fine grid
(``OUTPUT_DENSITY``), one heat-map per neuron on the coarser grid (``DENSITY``), the weights, and the
per-layer gradient norms (the gradient-flow panel). Each session counts the CPU time its training used
(``cpu_seconds``), so the server can stop one that exceeds its budget. Nothing is written to disk.
"""
from __future__ import annotations

import base64
import threading
import time
from typing import Any

import numpy as np

from .. import datasets, optim, tensor
from ..models.rnn._util import inference
from .config import PlaygroundConfig
from .network import PlaygroundNet, grid, grid_outputs, heatmaps, loss_fn

DENSITY = 50          # heat-map grid: DENSITY × DENSITY points over [−6, 6]²
OUTPUT_DENSITY = 100  # the output's decision map: OUTPUT_DENSITY × OUTPUT_DENSITY points over [−6, 6]²
HISTORY = 1000        # the curves keep the last HISTORY epochs


def encode_map(values: np.ndarray) -> str:
    """A heat-map for the page: values clipped to [−1, 1], scaled to int8 (−127 … 127), base64 (the page
    reads it with ``new Int8Array(Uint8Array.from(atob(s), c => c.charCodeAt(0)).buffer)`` / 127)."""
    return base64.b64encode(np.round(np.clip(values, -1, 1) * 127).astype(np.int8).tobytes()).decode("ascii")


class Session:
    """One playground setup being trained. Every public method holds the session's lock, but fukaku's grad
    mode is process-wide: two sessions must not compute in two threads at once (the server runs one
    computation at a time, see :meth:`~fukaku.playground.server.SessionManager.compute`)."""

    def __init__(self, config: PlaygroundConfig, density: int = DENSITY, output_density: int = OUTPUT_DENSITY) -> None:
        self.lock = threading.RLock()
        self.density, self.output_density = density, output_density
        self.grid = grid(density)
        # both grids in one array, so one forward pass gives every layer's maps and the fine decision map
        self._points = np.concatenate([self.grid, grid(output_density)])
        self.cpu_seconds = 0.0
        self.reset(config)

    # ------------------------------------------------------------------ state
    def reset(self, config: PlaygroundConfig | None = None) -> None:
        """Start again (new data when the config changed, fresh weights, epoch 0)."""
        with self.lock:
            self.config = config = config or self.config
            x_tr, y_tr, x_te, y_te = datasets.playground(config.dataset, n=config.points, noise=config.noise,
                                                         seed=config.seed, test_fraction=1 - config.train_ratio,
                                                         return_tensors=False)
            self.x_train, self.y_train = x_tr, y_tr.reshape(-1, 1)
            self.x_test, self.y_test = x_te, y_te.reshape(-1, 1)
            self.model = PlaygroundNet(config)
            params = self.model.parameters()
            lr = config.learning_rate
            self.optimizer = {"sgd": lambda: optim.SGD(params, lr=lr),
                              "momentum": lambda: optim.SGD(params, lr=lr, momentum=0.9),
                              "adam": lambda: optim.Adam(params, lr=lr)}[config.optimizer]()
            self.rng = np.random.default_rng(config.seed)
            self.epoch = 0
            self.train_loss: list[float] = []
            self.test_loss: list[float] = []
            # per epoch, aligned with the losses: the mean norm of each linear layer's weight gradient over
            # the epoch's batches, input side first (None at epoch 0)
            self.grad_norms: list[list[float] | None] = []
            self._record()

    def _regularization(self):
        c = self.config
        if c.regularization == "none" or c.regularization_rate == 0:
            return None
        weights = [m.weight for m in self.model.linears()]
        if c.regularization == "l1":
            return c.regularization_rate * sum(w.abs().sum() for w in weights)
        return c.regularization_rate * 0.5 * sum((w * w).sum() for w in weights)  # the Playground's ½w²

    def step(self, epochs: int = 1) -> None:
        """Train ``epochs`` passes over the training points, in shuffled mini-batches of ``batch_size``."""
        with self.lock:
            start = time.thread_time()
            model, opt, b = self.model, self.optimizer, self.config.batch_size
            model.train()
            n = len(self.x_train)
            for _ in range(epochs):
                order = self.rng.permutation(n)
                norms = []
                for i in range(0, n, b):
                    idx = order[i:i + b]
                    if self.config.batch_norm and len(idx) < 2:
                        continue  # batch norm needs two points in a batch
                    opt.zero_grad()
                    loss = loss_fn(model(tensor(self.x_train[idx])), tensor(self.y_train[idx]))
                    penalty = self._regularization()
                    (loss if penalty is None else loss + penalty).backward()
                    norms.append([float(np.linalg.norm(m.weight.grad.numpy())) for m in model.linears()])
                    opt.step()
                self.epoch += 1
                self._record(np.mean(norms, axis=0).tolist() if norms else None)
            self.cpu_seconds += time.thread_time() - start

    def advance(self, seconds: float, max_epochs: int = 1000) -> int:
        """Train whole epochs for at most about ``seconds`` of wall time (at least one epoch): another epoch
        starts only when one more, as long as the last, would end in time. Returns how many were trained."""
        done, now = 0, time.perf_counter()
        deadline = now + seconds
        while done < max_epochs:
            self.step()
            done += 1
            last, now = now, time.perf_counter()
            if now + (now - last) > deadline:
                break
        return done

    def losses(self) -> tuple[float, float]:
        """The current (train, test) loss ½(out − target)², averaged over the points, in eval mode."""
        with self.lock, inference(self.model):
            out = [float(loss_fn(self.model(tensor(x)), tensor(y)).item())
                   for x, y in ((self.x_train, self.y_train), (self.x_test, self.y_test))]
        return out[0], out[1]

    def _record(self, grad_norms: list[float] | None = None) -> None:
        train, test = self.losses()
        self.train_loss.append(train)
        self.test_loss.append(test)
        self.grad_norms.append(grad_norms)
        del self.train_loss[:-HISTORY], self.test_loss[:-HISTORY], self.grad_norms[:-HISTORY]

    # ------------------------------------------------------------------ views
    def data(self) -> dict[str, Any]:
        """The points for the page: train and test, ``[[x1, x2], …]`` and their labels."""
        with self.lock:
            return {"train": {"x": self.x_train.tolist(), "y": self.y_train[:, 0].tolist()},
                    "test": {"x": self.x_test.tolist(), "y": self.y_test[:, 0].tolist()}}

    def maps(self) -> tuple[list[np.ndarray], np.ndarray]:
        """``(layers, output)`` from one vectorised pass over both grids: every layer's heat-maps on the
        ``density`` grid (as :meth:`heatmaps`) and the output on the ``output_density`` grid
        ``(output_density, output_density)``, same orientation (x1 left to right, x2 from +6 down to −6)."""
        with self.lock:
            outputs, n, d = grid_outputs(self.model, self._points), len(self.grid), self.density
            return [o[:n].T.reshape(-1, d, d) for o in outputs], outputs[-1][n:, 0].reshape(self.output_density, -1)

    def heatmaps(self) -> list[np.ndarray]:
        """Every layer's heat-maps on the grid (see :func:`~fukaku.playground.network.heatmaps`)."""
        with self.lock:
            return heatmaps(self.model, self.grid, self.density)

    def snapshot(self, since: int = 0) -> dict[str, Any]:
        """What the page draws, as JSON: the loss and gradient-norm curves from epoch ``since`` on, heat-maps (base64 int8,
        see :func:`encode_map`; ``layers[l][u]`` is unit u of layer l, features first, output last, each
        ``density``²; ``output``: the output's decision map, ``output_density``², row-major as the others),
        the weights of each linear layer ``(out, in)``, and the gradient norms per layer. ``curve.from``
        is the epoch of the first curve point sent (``since``, or 0 when ``since`` is past the next epoch)."""
        with self.lock:
            maps, output = self.maps()
            since = 0 if since > self.epoch + 1 else since  # past the end (after a reset): the whole curve
            first = max(0, since - (self.epoch + 1 - len(self.test_loss)))
            return {"epoch": self.epoch, "train_loss": self.train_loss[-1], "test_loss": self.test_loss[-1],
                    "curve": {"from": self.epoch + 1 - len(self.test_loss) + first,
                              "train": self.train_loss[first:], "test": self.test_loss[first:]},
                    "grad_norms": self.grad_norms[first:],
                    "density": self.density,
                    "layers": [[encode_map(unit) for unit in layer] for layer in maps],
                    "output_density": self.output_density, "output": encode_map(output),
                    "weights": [m.weight.detach().numpy().tolist() for m in self.model.linears()],
                    "biases": [m.bias.detach().numpy().tolist() for m in self.model.linears()],
                    "cpu_seconds": round(self.cpu_seconds, 3)}


__all__ = ["Session", "encode_map", "DENSITY", "OUTPUT_DENSITY"]
