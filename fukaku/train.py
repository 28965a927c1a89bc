"""The training loop: ``fit``, ``evaluate``, metrics, callbacks and resumable checkpoints.

Training (seed 003; seed 000 §6.1.2) repeats, for every mini-batch of every epoch,

    optimizer.zero_grad(); out = model(x); loss = loss_fn(out, y); loss.backward(); optimizer.step()

— forward pass, loss, backward pass, gradient step — with the data reshuffled every epoch by the
DataLoader. After each epoch ``fit`` evaluates on the validation set, steps the learning-rate
schedule (or after every batch: ``scheduler_step="batch"``), logs to a TensorBoard ``writer``, lets
the callbacks decide whether to stop (early stopping, seed 000 §6.1.4: "stop after ``patience``
checks without validation improvement; keep the best model"), and can write a checkpoint from which
an interrupted run (Ctrl-C, a crash) resumes to exactly the parameters it would have reached. A
loss that turns NaN or infinite stops training at that batch with a :class:`NonFiniteLossError`.

Epochs are numbered from 0 in ``History.epoch`` and in callbacks, as in Keras.

Resuming a run::

    hist = fit(model, loss_fn, opt, loader, val_loader, epochs=50, scheduler=sched,
               checkpoint="run.safetensors", resume=True)

writes ``run.safetensors`` after every epoch (model, optimizer, scheduler, callbacks, history,
fukaku's RNG state and the train loader's shuffle generator). Run the same line again after a
crash — in a new process, with the model, optimizer, scheduler and loaders built the same way —
and it continues after the last completed epoch; the final parameters equal those of a run that
was never interrupted. When the file does not exist yet, training starts from epoch 0.

Data-parallel training (``mpirun -n N``, a :class:`~fukaku.nn.parallel.DistributedDataParallel` model and
a :class:`~fukaku.utils.data.distributed.DistributedSampler`): ``fit`` calls the sampler's ``set_epoch``
at every epoch, only rank 0 writes the checkpoint, and it holds the bare model's keys (no ``module.``),
so it resumes on any number of processes, one included.
"""
from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from . import distributed as dist
from .autograd import no_grad
from .errors import ShapeError
from .nn.modules.module import Module
from .nn.parallel import DistributedDataParallel
from .optim.lr_scheduler import ReduceLROnPlateau
from .serialization import load, save
from .tensor import Tensor, get_rng_state, set_rng_state
from .tensor import tensor as _copy_tensor

__all__ = ["fit", "evaluate", "History", "Callback", "EarlyStopping", "ModelCheckpoint", "NonFiniteLossError",
           "accuracy", "binary_accuracy_with_logits"]

Metric = Callable[[Tensor, Tensor], float]
_RESERVED_LOGS = ("loss", "lr", "time")


# ---------------------------------------------------------------------- metrics
def _arrays(output: Tensor, target: Tensor, name: str) -> tuple[np.ndarray, np.ndarray]:
    out = output._data if isinstance(output, Tensor) else np.asarray(output)
    tgt = target._data if isinstance(target, Tensor) else np.asarray(target)
    if out.ndim == 0 or tgt.ndim == 0 or out.shape[0] != tgt.shape[0]:
        raise ShapeError(f"{name}: output {tuple(out.shape)} and target {tuple(tgt.shape)} must both have the batch "
                         "dimension N first")
    return out, tgt


def _binary(out: np.ndarray, tgt: np.ndarray, threshold: float, name: str) -> float:
    if out.size != out.shape[0] or tgt.size != tgt.shape[0]:
        raise ShapeError(f"{name}: binary accuracy needs output (N,) or (N, 1) and target (N,) or (N, 1), got "
                         f"{tuple(out.shape)} and {tuple(tgt.shape)}")
    # target >= 0.5 reads labels 0/1, False/True and -1/+1 alike
    return float(np.mean((out.reshape(-1) >= threshold) == (tgt.reshape(-1) >= 0.5)))


def accuracy(output: Tensor, target: Tensor) -> float:
    """Fraction of correctly classified samples (seed 004 §3.2 output heads).

    * multi-class: ``output (N, C, ...)`` scores, logits or probabilities (class dimension 1, as in
      ``CrossEntropyLoss``); the prediction is the argmax. ``target (N, ...)`` class indices, or
      ``(N, C, ...)`` class probabilities (compared by their argmax).
    * binary, one sigmoid unit: ``output (N,)`` or ``(N, 1)`` probabilities, class 1 when
      ``output >= 0.5``; ``target`` labels 0/1 (or -1/+1, or bool). For a single *logit*
      (``BCEWithLogitsLoss``) use :func:`binary_accuracy_with_logits`.
    """
    out, tgt = _arrays(output, target, "accuracy")
    if out.ndim >= 2 and out.shape[1] > 1:
        pred = out.argmax(axis=1)
        if tgt.shape == out.shape:
            tgt = tgt.argmax(axis=1)
        if tgt.shape != pred.shape:
            raise ShapeError(f"accuracy: output {tuple(out.shape)} has {out.shape[1]} classes along dim 1, so target "
                             f"must be class indices {tuple(pred.shape)} or probabilities {tuple(out.shape)}, got "
                             f"{tuple(tgt.shape)}")
        return float(np.mean(pred == tgt))
    return _binary(out, tgt, 0.5, "accuracy")


def binary_accuracy_with_logits(output: Tensor, target: Tensor) -> float:
    """Accuracy of one logit per sample: class 1 when ``output >= 0`` (σ(z) >= 0.5).

    ``output (N,)`` or ``(N, 1)``; ``target`` 0/1, -1/+1 or bool. Also right for a tanh output
    trained on ±1 labels (TensorFlow Playground, seed 003). Recorded under the name "accuracy".
    """
    out, tgt = _arrays(output, target, "binary_accuracy_with_logits")
    return _binary(out, tgt, 0.0, "binary_accuracy_with_logits")


accuracy.name = "accuracy"
binary_accuracy_with_logits.name = "accuracy"


def _metric_names(metrics: Sequence[Metric]) -> list[tuple[str, Metric]]:
    named = []
    for fn in metrics:
        if not callable(fn):
            raise TypeError(f"metrics: expected functions (output, target) -> float, got {type(fn).__name__}")
        name = getattr(fn, "name", None) or getattr(fn, "__name__", None)
        if not name or name == "<lambda>":
            raise ValueError("metrics: each metric needs a name for the history; set fn.name = '...' "
                             "or use a def")
        if name in _RESERVED_LOGS or name in (n for n, _ in named):
            raise ValueError(f"metrics: the name {name!r} is used twice or is reserved ({', '.join(_RESERVED_LOGS)})")
        named.append((name, fn))
    return named


class _Means:
    """Running means of per-batch values, weighted by batch size (so they equal per-sample means)."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self.count = 0

    def update(self, n: int, values: dict[str, float]) -> None:
        self.count += n
        for key, value in values.items():
            self.totals[key] = self.totals.get(key, 0.0) + n * value

    def means(self) -> dict[str, float]:
        return {key: total / self.count for key, total in self.totals.items()}


# ---------------------------------------------------------------------- one pass over a loader
def _unpack(batch, where: str) -> tuple:
    if not (isinstance(batch, (list, tuple)) and len(batch) == 2):
        raise TypeError(f"{where}: each batch must be a pair (inputs, target), as a DataLoader over a "
                        f"TensorDataset(x, y) yields; got {type(batch).__name__}"
                        + (f" of length {len(batch)}" if isinstance(batch, (list, tuple)) else ""))
    return batch[0], batch[1]


def _batch_size(x, y) -> int:
    for t in (y, x):
        shape = getattr(t, "shape", None)
        if shape:
            return int(shape[0])
    return len(y)


def _loss_value(loss, where: str) -> float:
    if not isinstance(loss, Tensor) or loss.numel() != 1:
        shape = tuple(loss.shape) if isinstance(loss, Tensor) else type(loss).__name__
        raise ShapeError(f"{where}: loss_fn must return a one-element Tensor, got {shape}; use reduction='mean'")
    return loss.item()


def evaluate(model: Module, loss_fn: Callable | None, loader: Iterable,
             metrics: Sequence[Metric] = (accuracy,)) -> dict[str, float]:
    """Mean loss and metrics of ``model`` over ``loader``, in eval mode and without the graph.

    Returns ``{'loss': ..., 'accuracy': ...}`` (no 'loss' when ``loss_fn`` is None), means over
    samples. Every module's train/eval mode is restored afterwards.
    """
    named = _metric_names(metrics)
    modes = [(m, m.training) for m in model.modules()]
    model.eval()  # dropout off, BatchNorm on running statistics (seed 000 §6.1.4)
    meter = _Means()
    try:
        with no_grad():
            for batch in loader:
                x, y = _unpack(batch, "evaluate")
                out = model(x)
                values = {} if loss_fn is None else {"loss": _loss_value(loss_fn(out, y), "evaluate")}
                values.update((name, float(fn(out, y))) for name, fn in named)
                meter.update(_batch_size(x, y), values)
    finally:
        for m, mode in modes:
            m.training = mode
    if meter.count == 0:
        raise ValueError("evaluate: the loader yielded no batches")
    return meter.means()


# ---------------------------------------------------------------------- history and progress
class History:
    """What :func:`fit` recorded, one value per epoch: ``history.history['val_loss']`` or
    ``history.val_loss``. Keys: ``loss``, each metric, ``val_loss`` and ``val_<metric>`` (with a
    validation loader), ``lr`` (group 0's learning rate during the epoch) and ``time`` (seconds)."""

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __getattr__(self, name: str):
        if name.startswith("_") or name in ("history", "epoch"):
            raise AttributeError(name)
        try:
            return self.history[name]
        except KeyError:
            raise AttributeError(f"History has no {name!r}; recorded: {', '.join(self.history)}") from None

    def state_dict(self) -> dict:
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.epoch = [int(e) for e in state["epoch"]]
        self.history = {k: [float(x) for x in v] for k, v in state["history"].items()}

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


_SHORT_NAMES = {"accuracy": "acc"}
_VALUE_WIDTH = 8


def _label(key: str) -> str:
    """A logged key as the progress line names it: ``loss`` → ``train loss``, ``val_accuracy`` → ``val acc``."""
    split, name = ("val", key[4:]) if key.startswith("val_") else ("train", key)
    return f"{split} {_SHORT_NAMES.get(name, name)}"


def _fixed(value: float, width: int = _VALUE_WIDTH) -> str:
    """``value`` in exactly ``width`` characters (right-aligned): four decimals while they fit and the
    value is not tiny, else scientific notation with as many digits as fit."""
    value = float(value)
    if not math.isfinite(value):
        return str(value).rjust(width)
    if value == 0 or abs(value) >= 1e-3:
        text = f"{value:.4f}"
        if len(text) <= width:
            return text.rjust(width)
    for digits in (2, 1, 0):
        text = f"{value:.{digits}e}"
        if len(text) <= width:
            return text.rjust(width)
    return text  # beyond ±1e±99 with a sign: one character more


def _format_logs(logs: dict[str, float]) -> str:
    """The logs of a progress line in fixed-width columns: ``train loss   0.6931  train acc   0.5000``."""
    return "  ".join(f"{_label(k)} {_fixed(v)}" for k, v in logs.items() if k not in ("lr", "time"))


class _Progress:
    """One progress line per epoch on stderr: tqdm's bar when tqdm is installed, else a plain
    carriage-return line, redrawn at most ten times a second. Every field has a fixed width (the
    batch count padded to the total's digits, each value in :func:`_fixed`'s columns, no rate), so
    the columns stand still while the numbers change."""

    def __init__(self, desc: str, total: int | None) -> None:
        try:
            from tqdm import tqdm
        except ImportError:
            tqdm = None
        self.digits = len(str(total)) if total else 0
        self.bar = None
        if tqdm is not None:
            bar_format = None if not total else (
                "{desc}: {percentage:3.0f}%|{bar}| {n_fmt:>" + str(self.digits)
                + "}/{total_fmt} [{elapsed}<{remaining:>5}{postfix}]")
            self.bar = tqdm(total=total, desc=desc, unit="batch", file=sys.stderr, leave=True, dynamic_ncols=True,
                            bar_format=bar_format)
        self.desc, self.total, self.done, self.last = desc, total, 0, 0.0

    def update(self, logs: dict[str, float]) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.set_postfix_str(_format_logs(logs), refresh=False)
            self.bar.update(1)
        elif time.perf_counter() - self.last > 0.1:
            self._line(logs, end="")

    def close(self, logs: dict[str, float]) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(_format_logs(logs), refresh=True)
            self.bar.close()
        else:
            self._line(logs, end="\n")

    def abandon(self) -> None:
        """End the line where it stands (training was interrupted), so what is printed next starts a line."""
        if self.bar is not None:
            self.bar.close()
        elif self.done:
            sys.stderr.write("\n")
            sys.stderr.flush()

    def _line(self, logs: dict[str, float], end: str) -> None:
        self.last = time.perf_counter()
        count = f"{self.done:>{self.digits}}/{self.total}" if self.total else str(self.done)
        sys.stderr.write(f"\r{self.desc} {count}  {_format_logs(logs)}\x1b[K{end}")  # \x1b[K clears the rest
        sys.stderr.flush()


# ---------------------------------------------------------------------- callbacks
class Callback:
    """Base class of fit's callbacks. Override the hooks you need; ``state_dict`` and
    ``load_state_dict`` let a checkpoint resume a callback's counters."""

    def on_train_begin(self, model: Module) -> None:
        """Called once before the first epoch (also when resuming, before the state is loaded)."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float], model: Module) -> bool:
        """Called after each epoch with its logs; return True to stop training."""
        return False

    def on_train_end(self, model: Module) -> None:
        """Called once when training ends, by exhausting the epochs or by a callback's stop."""

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        if state:
            raise ValueError(f"{type(self).__name__}.load_state_dict: this callback keeps no state, "
                             f"got {sorted(state)}")


class _Monitor:
    """The best value seen of one logged quantity, and whether a new value improves on it."""

    def __init__(self, owner: str, monitor: str, mode: str, min_delta: float) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"{owner}: mode must be 'min' or 'max', got {mode!r}")
        if not min_delta >= 0:
            raise ValueError(f"{owner}: min_delta must be >= 0, got {min_delta!r}")
        self.owner, self.monitor, self.mode, self.min_delta = owner, monitor, mode, float(min_delta)
        self.best = math.inf if mode == "min" else -math.inf

    def value(self, logs: dict[str, float]) -> float:
        if self.monitor not in logs:
            hint = " (pass val_loader to fit to get val_* values)" if self.monitor.startswith("val_") else ""
            raise KeyError(f"{self.owner}: monitored {self.monitor!r} is not among the logged values "
                           f"{', '.join(logs)}{hint}")
        return logs[self.monitor]

    def improves(self, value: float) -> bool:
        # NaN never improves
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(Callback):
    """Stop after ``patience`` epochs without improvement of ``monitor``; keep the best model
    (seed 000 §6.1.4).

    An epoch improves when its value beats the best so far by more than ``min_delta`` (lower for
    ``mode='min'``, higher for ``'max'``). With ``restore_best=True`` the weights of the best
    epoch (a copy of the state dict, taken when it was reached) are loaded back into the model when
    training ends, whether it stopped early or ran out of epochs. After fit: ``best``,
    ``best_epoch``, ``stopped_epoch`` (None when it did not stop).
    """

    def __init__(self, patience: int = 5, monitor: str = "val_loss", min_delta: float = 0.0, mode: str = "min",
                 restore_best: bool = True) -> None:
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(f"EarlyStopping: patience must be an int >= 1 (epochs without improvement), got "
                             f"{patience!r}")
        self.patience = patience
        self.restore_best = restore_best
        self._monitor = _Monitor("EarlyStopping", monitor, mode, min_delta)
        self.on_train_begin(None)

    @property
    def best(self) -> float:
        return self._monitor.best

    def on_train_begin(self, model: Module | None) -> None:
        self._monitor.best = math.inf if self._monitor.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None
        self.best_state: dict[str, Tensor] | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, float], model: Module) -> bool:
        value = self._monitor.value(logs)
        if self._monitor.improves(value):
            self._monitor.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_state = {k: _copy_tensor(v) for k, v in model.state_dict().items()}
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def on_train_end(self, model: Module) -> None:
        if self.restore_best and self.best_state is not None:
            model.load_state_dict(self.best_state)

    def state_dict(self) -> dict:
        return {"best": self._monitor.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "stopped_epoch": self.stopped_epoch, "best_state": self.best_state}

    def load_state_dict(self, state: dict) -> None:
        self._monitor.best = float(state["best"])
        self.best_epoch, self.wait = state["best_epoch"], int(state["wait"])
        self.stopped_epoch, self.best_state = state["stopped_epoch"], state["best_state"]


class ModelCheckpoint(Callback):
    """Save ``model.state_dict()`` with :func:`fukaku.save` after each epoch, or only when
    ``monitor`` improves (``save_best_only=True``).

    ``path`` (any name; see :func:`fukaku.save` for the formats) may hold ``str.format`` fields filled from
    the epoch's logs and ``epoch`` (counted from 1, as in Keras):
    ``"ckpt/model-{epoch:03d}-{val_loss:.3f}.npz"``.
    """

    def __init__(self, path: str | os.PathLike, monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "min") -> None:
        _check_path(path, "ModelCheckpoint")
        self.path = os.fspath(path)
        self.save_best_only = save_best_only
        self._monitor = _Monitor("ModelCheckpoint", monitor, mode, 0.0)
        self.last_saved: str | None = None

    def on_train_begin(self, model: Module) -> None:
        self._monitor.best = math.inf if self._monitor.mode == "min" else -math.inf

    def on_epoch_end(self, epoch: int, logs: dict[str, float], model: Module) -> bool:
        if self.save_best_only:
            value = self._monitor.value(logs)
            if not self._monitor.improves(value):
                return False
            self._monitor.best = value
        path = self.path.format(epoch=epoch + 1, **logs)
        save(model.state_dict(), path)
        self.last_saved = path
        return False

    def state_dict(self) -> dict:
        return {"best": self._monitor.best, "last_saved": self.last_saved}

    def load_state_dict(self, state: dict) -> None:
        self._monitor.best, self.last_saved = float(state["best"]), state["last_saved"]


# ---------------------------------------------------------------------- resumable state
def _loader_generators(loader) -> list[np.random.Generator]:
    """The NumPy generators that shuffle ``loader`` (a DataLoader's own and its sampler's).

    A loader without one shuffles from fukaku's default generator, which the checkpoint keeps anyway.
    """
    found: list[np.random.Generator] = []
    for owner in (loader, getattr(loader, "sampler", None)):
        gen = getattr(owner, "generator", None)
        if isinstance(gen, np.random.Generator) and all(gen is not g for g in found):
            found.append(gen)
    return found


_STATE_KEYS = frozenset({"epoch", "stopped", "model", "optimizer", "scheduler", "callbacks", "history", "rng",
                         "loader_generators"})


def _training_state(epochs_done: int, stopped: bool, model, optimizer, scheduler, callbacks, history,
                    loader) -> dict:
    return {"epoch": epochs_done, "stopped": stopped, "model": _bare(model).state_dict(),
            "optimizer": optimizer.state_dict(), "scheduler": None if scheduler is None else scheduler.state_dict(),
            "callbacks": [{"type": type(cb).__name__, "state": cb.state_dict()} for cb in callbacks],
            "history": history.state_dict(), "rng": get_rng_state(),
            "loader_generators": [g.bit_generator.state for g in _loader_generators(loader)]}


def _restore_training_state(path: str, model, optimizer, scheduler, callbacks, history, loader) -> tuple[int, bool]:
    """Load a checkpoint written by fit into the run's objects; (epochs done, stopped early)."""
    state = load(path)
    keys = _STATE_KEYS
    if not isinstance(state, dict) or not keys <= set(state):
        found = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"fit(resume=True): {path!r} is not a checkpoint written by fit (expected keys "
                         f"{sorted(keys)}, found {found}); to start afresh, delete it or pass resume=False")
    saved_cbs = [c["type"] for c in state["callbacks"]]
    if saved_cbs != [type(cb).__name__ for cb in callbacks]:
        raise ValueError(f"fit(resume=True): {path!r} was written with callbacks {saved_cbs}, this run has "
                         f"{[type(cb).__name__ for cb in callbacks]}; pass the same callbacks in the same order")
    if (state["scheduler"] is None) != (scheduler is None):
        raise ValueError(f"fit(resume=True): {path!r} was written {'without' if state['scheduler'] is None else 'with'}"
                         f" a scheduler, this run has {'one' if scheduler is not None else 'none'}")
    gens = _loader_generators(loader)
    if len(gens) != len(state["loader_generators"]):
        raise ValueError(f"fit(resume=True): {path!r} holds {len(state['loader_generators'])} shuffle generator "
                         f"state(s), the train loader has {len(gens)}; build the loader as in the first run")
    # a checkpoint that does not fit this run (another architecture, other parameter groups) must
    # leave the model, optimizer and scheduler as they were
    model = _bare(model)
    backup = ({k: _copy_tensor(v) for k, v in model.state_dict().items()}, optimizer.state_dict(),
              None if scheduler is None else scheduler.state_dict())
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
    except Exception:
        model.load_state_dict(backup[0])
        optimizer.load_state_dict(backup[1])
        if scheduler is not None:
            scheduler.load_state_dict(backup[2])
        raise
    for cb, saved in zip(callbacks, state["callbacks"]):
        cb.load_state_dict(saved["state"])
    history.load_state_dict(state["history"])
    set_rng_state(state["rng"])
    for gen, gen_state in zip(gens, state["loader_generators"]):
        gen.bit_generator.state = gen_state
    return int(state["epoch"]), bool(state["stopped"])


def _bare(model):
    """The model whose state a checkpoint keeps: a data-parallel wrapper's module, so that the checkpoint
    resumes on any number of processes."""
    return model.module if isinstance(model, DistributedDataParallel) else model


def _writes_checkpoints() -> bool:
    """Rank 0 writes the checkpoints of data-parallel training (every rank holds the same state)."""
    return not dist.is_initialized() or dist.get_rank() == 0


# ---------------------------------------------------------------------- fit
def fit(model: Module, loss_fn: Callable, optimizer, train_loader: Iterable, val_loader: Iterable | None = None,
        epochs: int = 1, scheduler=None, callbacks: Sequence[Callback] = (), metrics: Sequence[Metric] = (accuracy,),
        quiet: bool = False, checkpoint: str | os.PathLike | None = None, resume: bool = False,
        scheduler_monitor: str | None = None, scheduler_step: str = "epoch", writer=None,
        stop_on_nonfinite: bool = True, checkpoint_extra: dict | None = None) -> History:
    """Train ``model`` for ``epochs`` epochs over ``train_loader``; return the :class:`History`.

    Args:
        model: the network; ``model(x)`` gives the output for a batch ``x``.
        loss_fn: ``loss_fn(output, target)`` -> one-element Tensor, a mean over the batch
            (e.g. ``nn.CrossEntropyLoss()``); the epoch's loss is the mean over samples.
        optimizer: e.g. ``optim.SGD(model.parameters(), lr=0.1)``.
        train_loader, val_loader: iterables of ``(inputs, target)`` batches (DataLoaders). The
            validation set is evaluated after every epoch (eval mode, no graph).
        epochs: the total number of epochs (a resumed run counts the epochs already done).
        scheduler: an ``optim.lr_scheduler`` schedule. ``ReduceLROnPlateau`` is stepped once per
            epoch with the ``scheduler_monitor`` value (default ``'val_loss'``, or ``'loss'``
            without a validation loader).
        scheduler_step: ``"epoch"`` (default): ``scheduler.step()`` after every epoch, as in
            PyTorch's loop for StepLR, CosineAnnealingLR ...; ``"batch"``: after every
            ``optimizer.step()``, as PyTorch programs step ``OneCycleLR`` and ``CyclicLR`` (their
            ``total_steps`` / ``step_size_up`` count batches). ``History.lr`` records the rate at
            the start of each epoch either way.
        callbacks: :class:`Callback` s, e.g. ``[EarlyStopping(patience=5)]``.
        metrics: functions ``(output, target) -> float`` with a ``name``; default ``[accuracy]``.
            Pass ``()`` for regression.
        quiet: no progress bar. The bar (tqdm when installed) is drawn only when stderr is a terminal.
        checkpoint: a path (any name, as :func:`fukaku.save`) written atomically after every epoch with
            everything needed to resume (an interrupted run keeps the last finished epoch's).
        resume: continue from ``checkpoint`` when that file exists (see the module docstring).
        writer: a ``fukaku.utils.tensorboard.SummaryWriter`` (or anything with
            ``add_scalar(tag, value, step)``): after every epoch each logged value is written
            with the epoch (counted from 0) as its step, under ``loss/train``, ``loss/val``,
            ``<metric>/train``, ``<metric>/val`` and ``lr``.
        stop_on_nonfinite: stop at the first batch whose loss is NaN or infinite, before its
            backward pass, with a :class:`NonFiniteLossError` naming the epoch, the batch and the
            value (Keras's TerminateOnNaN); NumPy's overflow warnings set to ``'warn'`` are
            silenced while training, since this error reports their consequence. False trains on.
        checkpoint_extra: entries stored in every checkpoint beside fit's own (e.g. the run's
            configuration); ``fukaku.load(checkpoint)[key]`` reads them back.

    Raises:
        NonFiniteLossError: the loss became NaN or infinite (with ``stop_on_nonfinite``).
        KeyboardInterrupt: passed on as it comes (Ctrl-C); the checkpoint holds the last finished epoch.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be an int >= 0, got {epochs!r}")
    if isinstance(callbacks, Callback):
        raise TypeError("fit: callbacks must be a list of Callbacks, e.g. callbacks=[EarlyStopping(patience=5)]")
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"fit: callbacks must be Callback instances, got {type(cb).__name__}")
    named = _metric_names(metrics)
    if checkpoint is not None:
        _check_path(checkpoint, "fit")
    elif resume:
        raise ValueError("fit: resume=True needs checkpoint=PATH, the file to resume from")
    if checkpoint_extra is not None:
        clash = sorted(set(checkpoint_extra) & _STATE_KEYS) if isinstance(checkpoint_extra, dict) else None
        if clash is None or clash:
            raise ValueError("fit: checkpoint_extra must be a dict whose keys are not fit's own ("
                             + ", ".join(sorted(_STATE_KEYS)) + ")"
                             + (f"; got {clash}" if clash else f"; got {type(checkpoint_extra).__name__}"))
    if scheduler_step not in ("epoch", "batch"):
        raise ValueError(f"fit: scheduler_step must be 'epoch' or 'batch', got {scheduler_step!r}")
    if scheduler_monitor is None:
        scheduler_monitor = "val_loss" if val_loader is not None else "loss"
    plateau = isinstance(scheduler, ReduceLROnPlateau)
    if plateau and scheduler_step == "batch":
        raise ValueError("fit: ReduceLROnPlateau is stepped with an epoch's monitored value; use "
                         "scheduler_step='epoch'")
    per_batch = scheduler is not None and scheduler_step == "batch"
    if writer is not None and not callable(getattr(writer, "add_scalar", None)):
        raise TypeError(f"fit: writer must have add_scalar(tag, value, step), like "
                        f"fukaku.utils.tensorboard.SummaryWriter; got {type(writer).__name__}")
    show = not quiet and sys.stderr is not None and sys.stderr.isatty()

    history = History()
    for cb in callbacks:
        cb.on_train_begin(model)
    start, stopped = 0, False
    if resume and os.path.exists(checkpoint):
        start, stopped = _restore_training_state(os.fspath(checkpoint), model, optimizer, scheduler, callbacks,
                                                 history, train_loader)

    total = _len_or_none(train_loader)
    epoch = start
    while epoch < epochs and not stopped:
        began = time.perf_counter()
        lr = float(optimizer.param_groups[0]["lr"])
        if callable(getattr(getattr(train_loader, "sampler", None), "set_epoch", None)):
            train_loader.sampler.set_epoch(epoch)  # DistributedSampler: each epoch's order, on every rank
        model.train()
        meter = _Means()
        bar = _Progress(f"Epoch {epoch + 1:>{len(str(epochs))}}/{epochs}", total) if show else None
        try:
            with _quiet_overflow(stop_on_nonfinite):
                for index, batch in enumerate(train_loader):
                    x, y = _unpack(batch, "fit")
                    optimizer.zero_grad()
                    out = model(x)
                    loss = loss_fn(out, y)
                    values = {"loss": _loss_value(loss, "fit")}
                    if stop_on_nonfinite and not math.isfinite(values["loss"]):
                        raise NonFiniteLossError(epoch, epochs, index, total, values["loss"], lr)
                    loss.backward()
                    optimizer.step()
                    if per_batch:
                        scheduler.step()
                    detached = out.detach()
                    values.update((name, float(fn(detached, y))) for name, fn in named)
                    meter.update(_batch_size(x, y), values)
                    if bar is not None:
                        bar.update(meter.means())
                if meter.count == 0:
                    raise ValueError("fit: train_loader yielded no batches (a dataset smaller than batch_size with "
                                     "drop_last=True?)")
                logs = meter.means()
                if val_loader is not None:
                    logs.update((f"val_{k}", v) for k, v in evaluate(model, loss_fn, val_loader, metrics).items())
            logs["lr"] = lr
            logs["time"] = time.perf_counter() - began
        except BaseException:  # an error or Ctrl-C: end the bar's line, so the message starts its own
            if bar is not None:
                bar.abandon()
            raise
        if bar is not None:
            bar.close(logs)
        history.append(epoch, logs)
        if writer is not None:
            _write_scalars(writer, epoch, logs)
        if scheduler is not None and not per_batch:
            if plateau:
                if scheduler_monitor not in logs:
                    raise KeyError(f"fit: ReduceLROnPlateau monitors {scheduler_monitor!r}, which is not among the "
                                   f"logged values {', '.join(logs)}; set scheduler_monitor")
                scheduler.step(logs[scheduler_monitor])
            else:
                scheduler.step()
        # every callback sees the epoch (none is skipped because an earlier one asked to stop)
        stopped = any([cb.on_epoch_end(epoch, logs, model) for cb in callbacks])
        if checkpoint is not None and _writes_checkpoints():
            state = _training_state(epoch + 1, stopped, model, optimizer, scheduler, callbacks, history, train_loader)
            save({**state, **(checkpoint_extra or {})}, checkpoint)
        epoch += 1
    for cb in callbacks:
        cb.on_train_end(model)
    return history


class NonFiniteLossError(FloatingPointError):
    """:func:`fit` met a NaN or infinite loss. ``epoch`` and ``batch`` count from 0 (as
    ``History.epoch``); ``loss`` is the value, ``lr`` group 0's learning rate in that epoch."""

    def __init__(self, epoch: int, epochs: int, batch: int, batches: int | None, loss: float, lr: float) -> None:
        self.epoch, self.epochs, self.batch, self.batches, self.loss, self.lr = epoch, epochs, batch, batches, loss, lr
        of = f"/{batches}" if batches else ""
        super().__init__(f"fit: the loss is {loss} at epoch {epoch + 1}/{epochs}, batch {batch + 1}{of}; training "
                         f"stopped there (the parameters are those after the previous batch). A diverging loss "
                         f"usually means too large a step: lower the learning rate (now {lr:g})")


def _quiet_overflow(enabled: bool):
    """NumPy's floating-point warnings off where they are set to 'warn' (a setting of 'raise' is kept)."""
    if not enabled:
        return contextlib.nullcontext()
    current = np.geterr()
    return np.errstate(**{k: "ignore" for k in ("over", "invalid", "divide") if current[k] == "warn"})


def _write_scalars(writer, epoch: int, logs: dict[str, float]) -> None:
    for key, value in logs.items():
        if key == "time":
            continue
        tag = key if key == "lr" else (f"{key[4:]}/val" if key.startswith("val_") else f"{key}/train")
        writer.add_scalar(tag, value, epoch)
    if callable(getattr(writer, "flush", None)):
        writer.flush()


def _len_or_none(loader) -> int | None:
    try:
        return len(loader)
    except TypeError:
        return None


def _check_path(path, op: str) -> None:
    """A checkpoint path is a str or os.PathLike (any file name: :func:`fukaku.save` picks the format)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{op}: the checkpoint path must be a str or os.PathLike, got {type(path).__name__}")
