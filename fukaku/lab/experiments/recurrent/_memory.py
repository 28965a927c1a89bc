"""What the memory experiments of the recurrent family share: the networks (one recurrent layer and a linear
read-out), training them on the adding problem and the copy task with fresh sequences every step, and the
gradient ‖∂L/∂h_{T−k}‖ as it travels back k steps."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import fukaku as fk
import fukaku.nn.functional as F
from fukaku import datasets, nn, optim

CELLS = {"Elman": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}  # the Elman network is nn.RNN with tanh
CLIP = 1.0        # clip_grad_norm_ bound of every training run here (Pascanu et al. 2013)
TEST_SIZE = 1000  # held-out sequences each test error is measured on
SYMBOLS = 4       # copy task: the alphabet (chance: 1/4 of the recalled symbols right)


class LastStep(nn.Module):
    """Many-to-one (seed 001 §9.3: a sequence read from its last state): a one-layer recurrent layer, batch
    first, and a Linear read-out of h_T. ``cell`` is ``"Elman"`` (nn.RNN, tanh), ``"LSTM"`` or ``"GRU"``."""

    def __init__(self, cell: str, inputs: int, hidden: int, outputs: int) -> None:
        super().__init__()
        self.rnn = CELLS[cell](inputs, hidden, batch_first=True)
        self.head = nn.Linear(hidden, outputs)

    def forward(self, x: fk.Tensor) -> fk.Tensor:
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


class EveryStep(nn.Module):
    """Many-to-many on token ids: one-hot tokens → a one-layer recurrent layer → Linear logits at every step."""

    def __init__(self, cell: str, vocabulary: int, hidden: int) -> None:
        super().__init__()
        self.vocabulary = vocabulary
        self.rnn = CELLS[cell](vocabulary, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocabulary)

    def forward(self, tokens: fk.Tensor) -> fk.Tensor:
        out, _ = self.rnn(F.one_hot(tokens, self.vocabulary).to(fk.get_default_dtype()))
        return self.head(out)


def set_forget_bias(lstm: nn.LSTM, value: float) -> None:
    """Start every forget gate of a one-layer ``lstm`` at σ(value) (Gers et al. 2000; Jozefowicz et al. 2015
    use 1): ``bias_ih_l0`` holds ``value`` in its forget rows (PyTorch's gate order i, f, g, o), ``bias_hh_l0``
    zero there."""
    hidden = lstm.hidden_size
    with fk.no_grad():
        lstm.bias_ih_l0[hidden:2 * hidden] = value
        lstm.bias_hh_l0[hidden:2 * hidden] = 0.0


def chrono_init(lstm: nn.LSTM, lag: int) -> None:
    """The chrono initialisation of Tallec & Ollivier 2018 for dependencies up to ``lag`` steps: forget-gate biases
    b_f = log u with u ~ U(1, lag − 1) (memory times spread up to the lag) and input-gate biases b_i = −b_f, in
    ``bias_ih_l0`` of a one-layer ``lstm`` (``bias_hh_l0`` zero there)."""
    hidden = lstm.hidden_size
    with fk.no_grad():
        forget = fk.empty(hidden).uniform_(1.0, max(lag - 1, 2)).log()
        lstm.bias_ih_l0[hidden:2 * hidden] = forget
        lstm.bias_ih_l0[:hidden] = -forget
        lstm.bias_hh_l0[:2 * hidden] = 0.0


@dataclass
class Run:
    """One training run: its per-step training losses, gradient norms before clipping, and wall time."""

    model: nn.Module
    losses: np.ndarray
    grad_norms: np.ndarray
    seconds: float


def train(model: nn.Module, batch_loss: Callable[[np.random.Generator], fk.Tensor], steps: int,
          optimizer: optim.Optimizer, seed: int, clip: float | None = CLIP) -> Run:
    """``steps`` updates of ``model``, each on a fresh batch: ``batch_loss(rng)`` draws one and returns its loss;
    the gradient's joint norm is clipped to ``clip`` (``None``: not clipped) before the step."""
    rng = np.random.default_rng(seed)
    parameters = [p for p in model.parameters() if p.requires_grad]
    losses, norms = np.empty(steps), np.empty(steps)
    start = time.perf_counter()
    for step in range(steps):
        loss = batch_loss(rng)
        optimizer.zero_grad()
        loss.backward()
        norm = (nn.utils.clip_grad_norm_(parameters, clip) if clip is not None
                else nn.utils.get_total_norm([p.grad for p in parameters]))
        optimizer.step()
        losses[step], norms[step] = float(loss), float(norm)
    return Run(model, losses, norms, time.perf_counter() - start)


def adding_batch(T: int, size: int, seed) -> tuple[fk.Tensor, fk.Tensor]:
    return datasets.adding_problem(size, T, seed=seed)


def adding_mse(model: nn.Module, T: int, seed: int) -> tuple[float, float]:
    """The test MSE of ``model`` on TEST_SIZE fresh adding-problem sequences of length ``T``, and the baseline's:
    always predicting 1, the mean of the target (≈ 1/6)."""
    x, y = adding_batch(T, TEST_SIZE, seed)
    with fk.no_grad():
        mse = float(((model(x) - y) ** 2).mean())
    return mse, float(((y - 1) ** 2).mean())


def train_adding(cell: str, T: int, hidden: int, steps: int, batch: int, lr: float, seed: int,
                 forget_bias: float | None = None) -> tuple[Run, float, float]:
    """Train ``LastStep(cell)`` on the adding problem of length ``T`` with Adam; returns the run, its test MSE
    and the baseline MSE on the same test sequences."""
    fk.manual_seed(seed)
    model = LastStep(cell, 2, hidden, 1)
    if forget_bias is not None:
        set_forget_bias(model.rnn, forget_bias)

    def batch_loss(rng):
        x, y = adding_batch(T, batch, rng)
        return F.mse_loss(model(x), y)

    run = train(model, batch_loss, steps, optim.Adam(model.parameters(), lr=lr), seed)
    return (run, *adding_mse(model, T, seed + 10 ** 6))


def copy_batch(T: int, copied: int, size: int, seed) -> tuple[fk.Tensor, fk.Tensor]:
    """Copy-task sequences: ``copied`` symbols, T blanks (the lag), the go marker, then the recall steps."""
    return datasets.copy_task(size, copied, num_symbols=SYMBOLS, delay=T, seed=seed)


def recall_logits(model: EveryStep, x: fk.Tensor, copied: int) -> fk.Tensor:
    return model(x)[:, -copied:]


def train_copy(cell: str, T: int, copied: int, hidden: int, steps: int, batch: int, lr: float, seed: int,
               chrono: bool = False) -> tuple[Run, float]:
    """Train ``EveryStep(cell)`` on the copy task with lag ``T`` (cross-entropy on the recall steps, Adam; an LSTM
    with ``chrono``: initialised by :func:`chrono_init` for the whole sequence's length); returns the run and the
    share of recalled symbols right on TEST_SIZE fresh sequences."""
    fk.manual_seed(seed)
    model = EveryStep(cell, SYMBOLS + 2, hidden)
    if chrono:
        chrono_init(model.rnn, 2 * copied + T + 1)

    def batch_loss(rng):
        x, y = copy_batch(T, copied, batch, rng)
        logits = recall_logits(model, x, copied)
        return F.cross_entropy(logits.reshape(-1, SYMBOLS + 2), y[:, -copied:].reshape(-1))

    run = train(model, batch_loss, steps, optim.Adam(model.parameters(), lr=lr), seed)
    x, y = copy_batch(T, copied, TEST_SIZE, seed + 10 ** 6)
    with fk.no_grad():
        right = recall_logits(model, x, copied).argmax(dim=-1) == y[:, -copied:]
    return run, float(right.to(fk.float64).mean())


def hidden_gradients(model: LastStep, x: fk.Tensor, y: fk.Tensor) -> np.ndarray:
    """‖∂L/∂h_{T−k}‖ for k = 0 … T−1 (the norm over the batch and the units), L = the MSE of ``model`` on
    ``(x, y)``. The layer is stepped one step at a time, so every h_t is a tensor of the graph and autograd
    gives the total derivative through all later steps (for the LSTM, through h and the cell state c)."""
    state, hs = None, []
    for t in range(x.shape[1]):
        _, state = model.rnn(x[:, t:t + 1], state)
        hs.append(state[0] if isinstance(state, tuple) else state)
    loss = F.mse_loss(model.head(hs[-1][0]), y)
    grads = fk.autograd.grad(loss, hs)
    return np.array([float(g.norm()) for g in grads])[::-1].copy()


def log_linear_fit(norms: np.ndarray) -> tuple[float, float]:
    """Fit log10 ‖g_k‖ = a + b·k: returns the factor per step 10^b and the fit's R² (1: exactly exponential)."""
    k, logs = np.arange(len(norms)), np.log10(norms)
    slope, intercept = np.polyfit(k, logs, 1)
    residual = logs - (intercept + slope * k)
    return float(10 ** slope), float(1 - residual.var() / logs.var())
