"""Learning-rate schedules with ``torch.optim.lr_scheduler``'s names, arithmetic and state dicts.

Seed 003 names three schedules: step decay (×0.1 at milestones: :class:`StepLR`,
:class:`MultiStepLR`), linear warm-up (~5 epochs or ~1000 iterations: :class:`LinearLR`) and
warm-up followed by cosine annealing (:class:`SequentialLR` of :class:`LinearLR` and
:class:`CosineAnnealingLR`). Also :class:`ExponentialLR`, :class:`LambdaLR` and
:class:`ReduceLROnPlateau` (decay when a validation metric stops improving).

A scheduler writes ``group['lr']`` of its optimizer's param groups; call ``scheduler.step()`` once
per epoch (or iteration) *after* ``optimizer.step()``. Creating it records each group's
``'initial_lr'`` and applies the schedule's value for epoch 0.

Like PyTorch, ``step()`` updates the rate recursively from the current ``group['lr']`` (the
"chainable" form: other changes to the rate compose with the schedule), and switches to the
closed form only where PyTorch does (``SequentialLR`` at a milestone), so the sequences agree with
PyTorch's to the last bits.
"""
from __future__ import annotations

import math
import types
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from .optimizer import Optimizer

__all__ = ["LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
           "SequentialLR", "ReduceLROnPlateau"]

# Bookkeeping flags in PyTorch's scheduler state dicts that carry no state between steps.
_TORCH_FLAGS = frozenset({"_is_initial", "_get_lr_called_within_step"})


def _check_keys(owner: str, state_dict: dict[str, Any], keys: Iterable[str]) -> None:
    keys = set(keys)
    missing = sorted(keys - state_dict.keys())
    unexpected = sorted(set(state_dict) - keys - _TORCH_FLAGS)
    if missing or unexpected:
        raise KeyError(f"{owner}.load_state_dict: missing keys {missing}, unexpected keys {unexpected}; pass the "
                       f"dict returned by {owner}.state_dict()")


def _check_per_group(owner: str, name: str, values, optimizer: Optimizer) -> None:
    if len(values) != len(optimizer.param_groups):
        raise ValueError(f"{owner}.load_state_dict: {name!r} has {len(values)} entries but the optimizer has "
                         f"{len(optimizer.param_groups)} param groups")


class LRScheduler:
    """Base class: a subclass computes the next rates in ``get_lr()`` from ``last_epoch``.

    ``last_epoch`` is the index of the last epoch stepped (-1 before the first); give another value
    only to resume, with ``'initial_lr'`` already in the param groups.
    """

    _hyper: tuple[str, ...] = ()  # a subclass's options, saved in its state dict
    _is_initial = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: {type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{type(self).__name__}: param_groups[{i}] has no 'initial_lr', needed to resume "
                                   f"with last_epoch={last_epoch}; load the optimizer's state dict first, or start "
                                   "with last_epoch=-1")
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """Set the rates for epoch 0 (``last_epoch`` -1 → 0)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The rates for epoch ``last_epoch`` (already advanced), one per param group."""
        raise NotImplementedError(f"{type(self).__name__} must implement get_lr")

    def get_last_lr(self) -> list[float]:
        """The rates the last ``step()`` set, one per param group."""
        return list(self._last_lr)

    def _group_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def step(self) -> None:
        """Advance one epoch and write the new rates into the optimizer's param groups."""
        self._step_count += 1
        self._update_lr()

    def _update_lr(self, epoch: int | None = None) -> None:
        """Advance by one (``epoch=None``, recursive form) or jump to ``epoch`` (closed form, if any)."""
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed = getattr(self, "_get_closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = self._group_lrs()

    def _state_keys(self) -> tuple[str, ...]:
        return ("base_lrs", "last_epoch", "_step_count", "_last_lr", *self._hyper)

    def state_dict(self) -> dict[str, Any]:
        """The schedule's state with PyTorch's key names (not the optimizer: save that separately)."""
        return {key: _copy(getattr(self, key)) for key in self._state_keys()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state from ``state_dict()`` (fukaku's or PyTorch's). Checked before anything changes."""
        self._check_state(state_dict)
        self._assign_state(state_dict)

    def _check_state(self, state_dict: dict[str, Any]) -> None:
        """Raise if ``state_dict`` does not fit this scheduler; changes nothing."""
        name = type(self).__name__
        keys = self._state_keys()
        _check_keys(name, state_dict, keys)
        for key in ("base_lrs", "_last_lr"):
            if key in keys:
                _check_per_group(name, key, state_dict[key], self.optimizer)

    def _assign_state(self, state_dict: dict[str, Any]) -> None:
        for key in self._state_keys():
            setattr(self, key, _copy(state_dict[key]))

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._hyper)
        return f"{type(self).__name__}({options}{', ' if options else ''}last_epoch={self.last_epoch})"


def _copy(value):
    """Lists and dicts in a state dict are copied, so the saved dict and the scheduler don't alias."""
    if isinstance(value, Counter):
        return Counter(value)
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


class LambdaLR(LRScheduler):
    """``lr = initial_lr · lr_lambda(epoch)``; one function for all groups or a list, one per group.

    Functions and lambdas are not saved in the state dict; callable objects save their ``__dict__``.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(f"LambdaLR: expected {len(optimizer.param_groups)} lr_lambdas (one per param group), "
                                 f"got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"LambdaLR: lr_lambda should be a function of the epoch, got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base_lr * fn(self.last_epoch) for fn, base_lr in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self) -> dict[str, Any]:
        state = {key: _copy(getattr(self, key)) for key in super()._state_keys()}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else dict(fn.__dict__)
                               for fn in self.lr_lambdas]
        return state

    def _state_keys(self) -> tuple[str, ...]:
        return (*super()._state_keys(), "lr_lambdas")

    def _check_state(self, state_dict: dict[str, Any]) -> None:
        super()._check_state(state_dict)
        _check_per_group("LambdaLR", "lr_lambdas", state_dict["lr_lambdas"], self.optimizer)

    def _assign_state(self, state_dict: dict[str, Any]) -> None:
        for key in super()._state_keys():
            setattr(self, key, _copy(state_dict[key]))
        for fn, attrs in zip(self.lr_lambdas, state_dict["lr_lambdas"]):
            if attrs is not None:
                fn.__dict__.update(attrs)


class StepLR(LRScheduler):
    """Step decay (seed 003): ``lr = initial_lr · gamma^⌊epoch / step_size⌋``."""

    _hyper = ("step_size", "gamma")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        if int(step_size) != step_size or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        self.step_size = int(step_size)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Step decay at given epochs (seed 003, "×0.1 at milestones"): ``lr`` is multiplied by ``gamma``
    at each milestone (``gamma^n`` at an epoch listed n times)."""

    _hyper = ("milestones", "gamma")

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return self._group_lrs()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._group_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        milestones = sorted(self.milestones.elements())
        return [base_lr * self.gamma ** bisect_right(milestones, self.last_epoch) for base_lr in self.base_lrs]

    def _assign_state(self, state_dict: dict[str, Any]) -> None:
        super()._assign_state(state_dict)
        self.milestones = Counter(self.milestones)  # a checkpoint may give a plain dict


class ExponentialLR(LRScheduler):
    """``lr = initial_lr · gamma^epoch``."""

    _hyper = ("gamma",)

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """Linear warm-up (seed 003): the factor on ``initial_lr`` goes linearly from ``start_factor`` at
    epoch 0 to ``end_factor`` at ``total_iters``, then stays."""

    _hyper = ("start_factor", "end_factor", "total_iters")

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1) -> None:
        if not 0 < start_factor <= 1.0:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor!r}")
        if not 0 <= end_factor <= 1.0:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor!r}")
        if int(total_iters) != total_iters or total_iters < 1:
            raise ValueError(f"LinearLR: total_iters must be a positive integer, got {total_iters!r}")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = int(total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._group_lrs()]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._group_lrs()
        # ratio of consecutive factors f(e)/f(e−1), f(e) = start + (end − start)·e/T
        span = self.end_factor - self.start_factor
        ratio = 1.0 + span / (self.total_iters * self.start_factor + (self.last_epoch - 1) * span)
        return [lr * ratio for lr in self._group_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        span = self.end_factor - self.start_factor
        return [base_lr * (self.start_factor + span * min(self.total_iters, self.last_epoch) / self.total_iters)
                for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing (SGDR without restarts; seed 003, after warm-up):

        lr = eta_min + (initial_lr − eta_min)·(1 + cos(π·epoch / T_max)) / 2

    computed, as in PyTorch, by the recursion lr_e = eta_min + (lr_{e−1} − eta_min)·c_e / c_{e−1}
    with c_e = 1 + cos(π·e/T_max), which equals the closed form while nothing else changes the rate.
    Past ``T_max`` the rate rises again along the cosine (period 2·T_max).
    """

    _hyper = ("T_max", "eta_min")

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,  # noqa: N803 (torch's name)
                 last_epoch: int = -1) -> None:
        if not T_max > 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be > 0, got {T_max!r}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        e, t_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._group_lrs()
        if (e - 1 - t_max) % (2 * t_max) == 0:  # c_{e−1} = 0 at the bottom of the cosine: add the increment
            return [lr + (base_lr - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
                    for base_lr, lr in zip(self.base_lrs, self._group_lrs())]
        ratio = (1 + math.cos(math.pi * e / t_max)) / (1 + math.cos(math.pi * (e - 1) / t_max))
        return [ratio * (lr - eta_min) + eta_min for lr in self._group_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


class SequentialLR(LRScheduler):
    """Run ``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]`` (restarted at its epoch 0) …

    Warm-up then cosine (seed 003)::

        warmup = LinearLR(opt, start_factor=0.1, total_iters=5)
        cosine = CosineAnnealingLR(opt, T_max=95)
        sched = SequentialLR(opt, [warmup, cosine], milestones=[5])
    """

    def __init__(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler], milestones: Sequence[int],
                 last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"SequentialLR: {type(optimizer).__name__} is not an Optimizer")
        if len(schedulers) < 1:
            raise ValueError("SequentialLR expects at least one scheduler, got none")
        for i, scheduler in enumerate(schedulers):
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(f"SequentialLR: scheduler {i} is a ReduceLROnPlateau, which needs a metric in step(); "
                                 "it cannot be sequenced")
            if not isinstance(scheduler, LRScheduler):
                raise TypeError(f"SequentialLR: scheduler {i} is a {type(scheduler).__name__}, not an LRScheduler")
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"SequentialLR: scheduler {i} ({type(scheduler).__name__}) belongs to another "
                                 "optimizer; all schedulers must wrap the same one")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: expected {len(schedulers) - 1} milestones (one fewer than schedulers), "
                             f"got {len(milestones)}")
        if list(milestones) != sorted(milestones):
            raise ValueError(f"SequentialLR: milestones must be increasing, got {list(milestones)}")
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # Creating each scheduler applied its epoch 0; undo that and start the first one afresh.
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in self._schedulers:
            scheduler.last_epoch -= 1
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = self._schedulers[idx].get_last_lr()

    def step(self) -> None:
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)  # the next schedule starts at its own epoch 0 (closed form)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def _state_keys(self) -> tuple[str, ...]:
        return ("_milestones", "last_epoch", "_last_lr", "_schedulers")

    def state_dict(self) -> dict[str, Any]:
        state = {key: _copy(getattr(self, key)) for key in ("_milestones", "last_epoch", "_last_lr")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def _check_state(self, state_dict: dict[str, Any]) -> None:
        _check_keys("SequentialLR", state_dict, self._state_keys())
        saved = state_dict["_schedulers"]
        if len(saved) != len(self._schedulers):
            raise ValueError(f"SequentialLR.load_state_dict: '_schedulers' has {len(saved)} state dicts, this "
                             f"SequentialLR has {len(self._schedulers)} schedulers")
        for scheduler, sub in zip(self._schedulers, saved):
            scheduler._check_state(sub)

    def _assign_state(self, state_dict: dict[str, Any]) -> None:
        for key in ("_milestones", "last_epoch", "_last_lr"):
            setattr(self, key, _copy(state_dict[key]))
        for scheduler, sub in zip(self._schedulers, state_dict["_schedulers"]):
            scheduler._assign_state(sub)


class ReduceLROnPlateau(LRScheduler):
    """Multiply the rate by ``factor`` when a metric has not improved for ``patience`` epochs.

    ``step(metric)`` after each validation. Improvement means, for ``mode='min'``, a value below
    ``best·(1 − threshold)`` (``threshold_mode='rel'``) or ``best − threshold`` (``'abs'``); for
    ``'max'`` the mirror image. After a reduction, ``cooldown`` epochs pass before bad epochs count
    again; the rate never drops below ``min_lr``, and changes smaller than ``eps`` are skipped.
    """

    _hyper = ("factor", "min_lrs", "default_min_lr", "patience", "cooldown", "eps", "mode", "threshold",
              "threshold_mode", "mode_worse", "best", "cooldown_counter", "num_bad_epochs")

    def __init__(self, optimizer: Optimizer, mode: Literal["min", "max"] = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: Literal["rel", "abs"] = "rel",
                 cooldown: int = 0, min_lr: Sequence[float] | float = 0, eps: float = 1e-8) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau: {type(optimizer).__name__} is not an Optimizer")
        if not factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor should be < 1.0, got {factor!r}")
        self.factor = factor
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(f"ReduceLROnPlateau: expected {len(optimizer.param_groups)} min_lrs (one per param "
                                 f"group), got {len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = self._group_lrs()
        self._init_is_better(mode, threshold, threshold_mode)
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def _init_is_better(self, mode: str, threshold: float, threshold_mode: str) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min":
            return a < (best * (1.0 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold)
        return a > (best * (self.threshold + 1.0) if self.threshold_mode == "rel" else best + self.threshold)

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def step(self, metrics) -> None:  # type: ignore[override]
        """Record one epoch's ``metrics`` (a number or one-element tensor) and reduce the rate if due."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown are ignored
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._group_lrs()

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"ReduceLROnPlateau: the optimizer has {len(groups)} param groups but min_lr was "
                                   f"given for {len(self.min_lrs)} (a group was added since); set .min_lrs to match")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    def _state_keys(self) -> tuple[str, ...]:
        return ("last_epoch", "_last_lr", *self._hyper)

    def _check_state(self, state_dict: dict[str, Any]) -> None:
        super()._check_state(state_dict)
        if state_dict["mode"] not in ("min", "max") or state_dict["threshold_mode"] not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau.load_state_dict: mode must be 'min' or 'max' and threshold_mode "
                             f"'rel' or 'abs', got {state_dict['mode']!r} and {state_dict['threshold_mode']!r}")
