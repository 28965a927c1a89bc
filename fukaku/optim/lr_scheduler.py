"""Learning-rate schedules with ``torch.optim.lr_scheduler``'s names, arithmetic and state dicts.

Seed 003 names three schedules: step decay (×0.1 at milestones: :class:`StepLR`,
:class:`MultiStepLR`), linear warm-up (~5 epochs or ~1000 iterations: :class:`LinearLR`) and
warm-up followed by cosine annealing (:class:`SequentialLR` of :class:`LinearLR` and
:class:`CosineAnnealingLR`). Also :class:`ExponentialLR`, :class:`LambdaLR`, :class:`ConstantLR`,
:class:`PolynomialLR`, :class:`ReduceLROnPlateau` (decay when a validation metric stops improving),
SGDR's :class:`CosineAnnealingWarmRestarts`, and the per-batch cyclical schedules
:class:`CyclicLR` and :class:`OneCycleLR`, which also cycle the momentum (SGD's ``momentum`` or
Adam's β₁) against the rate.

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

from .._checks import check_int
from .optimizer import Optimizer

__all__ = ["LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ConstantLR", "ExponentialLR", "CosineAnnealingLR",
           "LinearLR", "PolynomialLR", "SequentialLR", "ReduceLROnPlateau", "CosineAnnealingWarmRestarts", "CyclicLR",
           "OneCycleLR"]

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


def _per_group(owner: str, name: str, optimizer: Optimizer, value) -> list:
    """One value for each param group: ``value`` repeated, or a list/tuple of exactly one per group."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{owner}: expected {len(optimizer.param_groups)} values of {name} (one per param "
                             f"group), got {len(value)}")
        return list(value)
    return [value] * len(optimizer.param_groups)


def _callable_state(fn) -> dict[str, Any] | None:
    """What a state dict keeps of a user function: a callable object's attributes; nothing of a
    function or lambda (its code cannot be saved), as PyTorch does."""
    return None if fn is None or isinstance(fn, types.FunctionType) else dict(fn.__dict__)


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
        state["lr_lambdas"] = [_callable_state(fn) for fn in self.lr_lambdas]
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


class ConstantLR(LRScheduler):
    """``lr = initial_lr · factor`` until epoch ``total_iters``, then ``initial_lr`` (a constant warm-up).

    Chainable as in PyTorch: epoch 0 multiplies the current rate by ``factor``, epoch ``total_iters``
    divides it by ``factor`` again; other changes to the rate in between are kept.
    """

    _hyper = ("factor", "total_iters")

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        if not 0 <= factor <= 1.0:
            raise ValueError(f"ConstantLR: the constant multiplicative factor must be in [0, 1], got {factor!r}")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._group_lrs()]
        if self.last_epoch != self.total_iters:
            return self._group_lrs()
        return [lr * (1.0 / self.factor) for lr in self._group_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base_lr in self.base_lrs]


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


class PolynomialLR(LRScheduler):
    """Polynomial decay to 0 at ``total_iters``: ``lr = initial_lr · (1 − epoch / total_iters)^power``
    (``power=1``: linear), then 0.

    Chainable as in PyTorch: each step multiplies the current rate by the ratio of consecutive
    factors, ((1 − e/T) / (1 − (e − 1)/T))^power.
    """

    _hyper = ("total_iters", "power")

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1) -> None:
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._group_lrs()
        e, t = self.last_epoch, self.total_iters
        decay_factor = ((1.0 - e / t) / (1.0 - (e - 1) / t)) ** self.power
        return [lr * decay_factor for lr in self._group_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
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


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov and Hutter, 2017): cosine annealing restarted every ``T_i`` epochs,
    ``T_0`` first, then each period ``T_mult`` times longer:

        lr = eta_min + (initial_lr − eta_min)·(1 + cos(π·T_cur / T_i)) / 2

    where ``T_cur`` counts the epochs since the last restart. ``step(epoch)`` jumps to ``epoch``,
    which may be fractional, so the schedule can advance per batch::

        for epoch in range(20):
            for i, batch in enumerate(loader):
                ...
                scheduler.step(epoch + i / len(loader))

    Without an argument, ``step()`` continues from the last epoch (``step(26); step()`` is epoch 27).
    """

    _hyper = ("T_0", "T_i", "T_mult", "eta_min", "T_cur")

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1,  # noqa: N803 (torch's names)
                 eta_min: float = 0.0, last_epoch: int = -1) -> None:
        check_int(T_0, "T_0", "CosineAnnealingWarmRestarts")
        check_int(T_mult, "T_mult", "CosineAnnealingWarmRestarts")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(f"CosineAnnealingWarmRestarts: eta_min must be a float or int, got {eta_min!r} of type "
                             f"{type(eta_min).__name__}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base_lr in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:  # type: ignore[override]
        """Advance one epoch, or jump to ``epoch`` (≥ 0, fractional allowed). As in PyTorch, this
        schedule does not count its steps (``_step_count`` stays 0)."""
        self._update_lr(epoch)

    def _update_lr(self, epoch: float | None = None) -> None:
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:  # a restart
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        elif epoch < 0:
            raise ValueError(f"CosineAnnealingWarmRestarts.step: epoch must be >= 0, got {epoch!r}")
        elif epoch >= self.T_0:
            if self.T_mult == 1:
                self.T_cur = epoch % self.T_0
            else:  # n restarts so far: T_0·(T_mult^n − 1)/(T_mult − 1) ≤ epoch
                n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
                self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                self.T_i = self.T_0 * self.T_mult ** n
        else:
            self.T_i = self.T_0
            self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = self._group_lrs()


def _init_momentum(owner: str, optimizer: Optimizer, base_momentum, max_momentum,
                   last_epoch: int) -> tuple[bool, list[float], list[float]]:
    """For a schedule that cycles the momentum: whether the optimizer's momentum is β₁ of its
    ``betas`` (Adam and its variants) rather than ``momentum`` (SGD, RMSprop), and the per-group
    bounds. Starting afresh, each group gets its ``max_momentum`` and records both bounds."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(f"{owner}: cycle_momentum=True needs an optimizer with a momentum or beta1 option (SGD, "
                         f"RMSprop, Adam …); {type(optimizer).__name__} has neither: pass cycle_momentum=False")
    use_beta1 = "betas" in optimizer.defaults
    base_momentums = _per_group(owner, "base_momentum", optimizer, base_momentum)
    max_momentums = _per_group(owner, "max_momentum", optimizer, max_momentum)
    if last_epoch == -1:
        for m_momentum, b_momentum, group in zip(max_momentums, base_momentums, optimizer.param_groups):
            _set_momentum(group, use_beta1, m_momentum)
            group["max_momentum"] = m_momentum
            group["base_momentum"] = b_momentum
    return use_beta1, base_momentums, max_momentums


def _set_momentum(group: dict[str, Any], use_beta1: bool, momentum: float) -> None:
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith, 2017): the rate goes from ``base_lr`` up to ``max_lr`` in
    ``step_size_up`` steps and back down in ``step_size_down`` (default: the same), and again.
    Call ``step()`` after every batch.

    The amplitude ``max_lr − base_lr`` is scaled by ``scale_fn``: ``mode='triangular'`` keeps it,
    ``'triangular2'`` halves it every cycle, ``'exp_range'`` multiplies it by ``gamma^iteration``;
    a ``scale_fn`` of your own replaces the mode and is evaluated on the cycle number
    (``scale_mode='cycle'``) or the iteration (``'iterations'``). With ``cycle_momentum`` (default)
    the momentum moves the opposite way, from ``max_momentum`` at ``base_lr`` to ``base_momentum``
    at ``max_lr`` (SGD's ``momentum`` or Adam's β₁).

    Example::

        >>> opt = fk.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> sched = fk.optim.lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=10)
    """

    _hyper = ("max_lrs", "total_size", "step_ratio", "mode", "gamma", "scale_mode", "cycle_momentum")

    def __init__(self, optimizer: Optimizer, base_lr: float | list[float], max_lr: float | list[float],
                 step_size_up: int = 2000, step_size_down: int | None = None,
                 mode: Literal["triangular", "triangular2", "exp_range"] = "triangular", gamma: float = 1.0,
                 scale_fn: Callable[[float], float] | None = None,
                 scale_mode: Literal["cycle", "iterations"] = "cycle", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.8, max_momentum: float | list[float] = 0.9,
                 last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"CyclicLR: {type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        base_lrs = _per_group("CyclicLR", "base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        self.max_lrs = _per_group("CyclicLR", "max_lr", optimizer, max_lr)
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        if not (up > 0 and down >= 0):
            raise ValueError(f"CyclicLR: step_size_up must be > 0 and step_size_down >= 0, got {step_size_up!r} "
                             f"and {step_size_down!r}")
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if scale_fn is None and mode not in ("triangular", "triangular2", "exp_range"):
            raise ValueError(f"CyclicLR: mode must be 'triangular', 'triangular2' or 'exp_range' (or give a "
                             f"scale_fn), got {mode!r}")
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"CyclicLR: scale_mode must be 'cycle' or 'iterations', got {scale_mode!r}")
        if scale_fn is not None and not callable(scale_fn):
            raise TypeError(f"CyclicLR: scale_fn should be a function of one number, got {type(scale_fn).__name__}")
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_mode()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1, self.base_momentums, self.max_momentums = _init_momentum(
                "CyclicLR", optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_mode(self) -> None:
        """A built-in mode decides what its scale function is evaluated on."""
        if self._scale_fn_custom is None:
            self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"

    def scale_fn(self, x: float) -> float:
        """The amplitude's scale at cycle (or iteration) ``x``: the user's function or the mode's."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self) -> list[float]:
        """The rates at batch ``last_epoch``; with ``cycle_momentum``, also sets each group's momentum."""
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle  # position in the cycle, in [0, 1)
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base_lr + (max_lr - base_lr) * scale_factor * scale
               for base_lr, max_lr in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, base_m, max_m in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                _set_momentum(group, self.use_beta1, max_m - (max_m - base_m) * scale_factor * scale)
        return lrs

    def _state_keys(self) -> tuple[str, ...]:
        momentum = ("use_beta1", "base_momentums", "max_momentums") if self.cycle_momentum else ()
        return (*super()._state_keys(), *momentum, "_scale_fn_custom")

    def state_dict(self) -> dict[str, Any]:
        state = {key: _copy(getattr(self, key)) for key in self._state_keys() if key != "_scale_fn_custom"}
        state["_scale_fn_custom"] = _callable_state(self._scale_fn_custom)
        return state

    def _check_state(self, state_dict: dict[str, Any]) -> None:
        super()._check_state(state_dict)
        for key in ("max_lrs", "base_momentums", "max_momentums"):
            if key in state_dict:
                _check_per_group("CyclicLR", key, state_dict[key], self.optimizer)

    def _assign_state(self, state_dict: dict[str, Any]) -> None:
        for key in self._state_keys():
            if key != "_scale_fn_custom":
                setattr(self, key, _copy(state_dict[key]))
        attrs = state_dict["_scale_fn_custom"]
        if attrs is not None and self._scale_fn_custom is not None:
            self._scale_fn_custom.__dict__.update(attrs)
        self._init_scale_mode()


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith and Topin, 2019): over ``total_steps`` batches the rate rises from
    ``max_lr / div_factor`` to ``max_lr`` (the first ``pct_start`` of the steps), then anneals to
    ``max_lr / (div_factor · final_div_factor)``; ``three_phase=True`` comes back down to the
    initial rate symmetrically first and anneals to the minimum in a third phase (the paper's
    schedule). Annealing is cosine (``anneal_strategy='cos'``) or linear. With ``cycle_momentum``
    the momentum (SGD's ``momentum`` or Adam's β₁) moves the opposite way, between
    ``max_momentum`` and ``base_momentum``. Call ``step()`` after every batch; stepping more than
    ``total_steps`` times raises.

    ``total_steps`` may instead be given as ``epochs`` and ``steps_per_epoch``. Not chainable: the
    rates are computed from the param groups' ``initial_lr``, ``max_lr`` and ``min_lr``.

    Example::

        >>> sched = fk.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, epochs=10, steps_per_epoch=len(loader))
    """

    _hyper = ("total_steps", "cycle_momentum")

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float], total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: Literal["cos", "linear"] = "cos", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.85, max_momentum: float | list[float] = 0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"OneCycleLR: {type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if total_steps is not None:
            check_int(total_steps, "total_steps", "OneCycleLR")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            check_int(epochs, "epochs", "OneCycleLR")
            check_int(steps_per_epoch, "steps_per_epoch", "OneCycleLR")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("OneCycleLR: give total_steps, or epochs and steps_per_epoch (total_steps = "
                             "epochs · steps_per_epoch)")
        if not (isinstance(pct_start, (float, int)) and not isinstance(pct_start, bool) and 0 <= pct_start <= 1):
            raise ValueError(f"OneCycleLR: pct_start must be a number in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        warmup_end = float(pct_start * self.total_steps) - 1
        up = dict(end_step=warmup_end, start_lr="initial_lr", end_lr="max_lr", start_momentum="max_momentum",
                  end_momentum="base_momentum")
        if three_phase:
            self._schedule_phases = [
                up,
                dict(end_step=float(2 * pct_start * self.total_steps) - 2, start_lr="max_lr", end_lr="initial_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum"),
                dict(end_step=self.total_steps - 1, start_lr="initial_lr", end_lr="min_lr",
                     start_momentum="max_momentum", end_momentum="max_momentum"),
            ]
        else:
            self._schedule_phases = [
                up,
                dict(end_step=self.total_steps - 1, start_lr="max_lr", end_lr="min_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum"),
            ]
        self._anneal_func_type = anneal_strategy
        max_lrs = _per_group("OneCycleLR", "max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for lr, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = lr / div_factor
                group["max_lr"] = lr
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _init_momentum("OneCycleLR", optimizer, base_momentum, max_momentum, last_epoch)[0]
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _annealing_cos(start: float, end: float, pct: float) -> float:
        """From ``start`` (pct 0) to ``end`` (pct 1) along half a cosine."""
        cos_out = math.cos(math.pi * pct) + 1
        return end + (start - end) / 2.0 * cos_out

    @staticmethod
    def _annealing_linear(start: float, end: float, pct: float) -> float:
        """From ``start`` (pct 0) to ``end`` (pct 1) along a straight line."""
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        """The rates at batch ``last_epoch``; with ``cycle_momentum``, also sets each group's momentum."""
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {step_num} times, but total_steps is {self.total_steps}; "
                             "create the scheduler with total_steps (or epochs and steps_per_epoch) covering the "
                             "whole run")
        anneal = self._annealing_cos if self._anneal_func_type == "cos" else self._annealing_linear
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step_num <= end_step or i == len(self._schedule_phases) - 1:
                    pct = (step_num - start_step) / (end_step - start_step)
                    lrs.append(anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
                    if self.cycle_momentum:
                        momentum = anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
                        _set_momentum(group, self.use_beta1, momentum)
                    break
                start_step = phase["end_step"]
        return lrs

    def _state_keys(self) -> tuple[str, ...]:
        return (*super()._state_keys(), "_schedule_phases", "_anneal_func_type",
                *(("use_beta1",) if self.cycle_momentum else ()))

    def _check_state(self, state_dict: dict[str, Any]) -> None:
        super()._check_state(state_dict)
        if state_dict["_anneal_func_type"] not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR.load_state_dict: '_anneal_func_type' must be 'cos' or 'linear', got "
                             f"{state_dict['_anneal_func_type']!r}")

