"""``Optimizer``: the base class of fukaku's optimizers, with ``torch.optim.Optimizer``'s API.

A training step is "forward → loss → backward → optimizer step" (seed 003): ``loss.backward()``
fills each parameter's ``.grad``, then ``optimizer.step()`` moves the parameters — gradient
descent θ ← θ − η∇L and its variants (seed 004 §3.6.1: Adagrad, Adadelta, Adam).

The base class holds what every optimizer shares:

- ``param_groups``: a list of dicts, each with its ``'params'`` and its own options (``lr``,
  ``weight_decay`` …); options a group leaves out come from ``defaults``;
- ``state``: per-parameter buffers (momentum, moment estimates …), keyed by the parameter;
- ``state_dict()`` / ``load_state_dict()`` in PyTorch's layout, so optimizer state moves between
  the two libraries: ``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``;
- ``zero_grad(set_to_none=True)`` and ``step(closure=None)``.

Updates are vectorised array operations on ``p._data`` in place, in the parameter's array module
(``xp = array_module(p._data)``: NumPy today), outside the graph as under ``torch.no_grad()``;
each bumps the parameter's version counter, as every in-place op does, so a backward pass that
saved the old value raises instead of returning a wrong gradient.
"""
from __future__ import annotations

import copy
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .. import dtypes
from ..autograd.grad_mode import enable_grad
from ..backends import array_module, default_module
from ..errors import ShapeError
from ..tensor import Tensor, bump_version, wrap

ParamsT = Iterable[Tensor] | Iterable[tuple[str, Tensor]] | Iterable[dict[str, Any]]


def _as_index(key, what: str) -> int:
    """A parameter index from a state dict; checkpoint formats with string keys give "0", "1" …"""
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return int(key)
    if isinstance(key, str) and key.isdigit():
        return int(key)
    raise TypeError(f"load_state_dict: {what} must be integer parameter indices, got {key!r}")


def effective_grad(p: np.ndarray, g: np.ndarray, weight_decay: float, maximize: bool) -> np.ndarray:
    """The gradient an update uses: ``−g`` when maximizing, plus the L2 term ``weight_decay·p``.

    The L2 penalty λ/2‖w‖² added to the loss contributes λw to its gradient (seed 000 §6.1.4 writes
    the penalty as λ‖w‖², whose gradient is 2λw: pass ``weight_decay = 2λ`` to reproduce it).
    May return ``g`` itself: callers never write into the result, so ``.grad`` stays intact.
    """
    if weight_decay != 0:
        out = p * weight_decay
        if maximize:
            out -= g
        else:
            out += g
        return out
    return -g if maximize else g


def init_state(state: dict, p: Tensor, *buffers: str) -> None:
    """A parameter's state on its first step: a float32 ``step`` counter (as torch keeps it) and a
    zero buffer shaped like the parameter for each name in ``buffers``.

    The counter lives in host memory whatever holds the parameter (as torch keeps it on the CPU):
    updates read it as a Python float every step."""
    state["step"] = wrap(default_module().zeros((), np.float32))
    xp = array_module(p._data)
    for name in buffers:
        state[name] = wrap(xp.zeros_like(p._data))


def check_nonnegative(owner: str, options: dict, *names: str) -> None:
    """Raise ``ValueError`` naming the option when one of ``names`` is negative (or NaN)."""
    for name in names:
        value = options[name]
        if not value >= 0:
            raise ValueError(f"{owner}: invalid {name} {value!r}: expected a value >= 0")


class Optimizer:
    """Base class. A subclass passes its ``defaults`` and implements ``_update_group``.

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs (``model.named_parameters()``;
    the names are kept as ``'param_names'``), or of dicts each defining a parameter group::

        SGD([{'params': model.body.parameters()},
             {'params': model.head.parameters(), 'lr': 1e-3}], lr=1e-2, momentum=0.9)
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self._validate(self.defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params should be an iterable of Tensors or dicts, but got a "
                            "single Tensor; pass [tensor] or model.parameters()")
        if isinstance(params, set):
            raise TypeError(f"{type(self).__name__}: parameters must be given in an ordered collection (list, "
                            "tuple, generator); the order of a set changes between runs. Use a list instead")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list (did the model "
                             "register its parameters as nn.Parameter?)")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ to override
    def _validate(self, options: dict[str, Any]) -> None:
        """Check a group's options (raise ``ValueError`` naming the bad one). Override to add checks."""
        check_nonnegative(type(self).__name__, options, "lr")

    def _update_group(self, group: dict[str, Any], params: list[Tensor], grads: list[np.ndarray]) -> None:
        """Update every parameter of ``group`` that has a gradient (``grads[i]`` is ``params[i].grad._data``)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _update_group")

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (e.g. unfreezing layers while fine-tuning)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"add_param_group: param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("add_param_group: the group has no 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("add_param_group: parameters must be given in an ordered collection (list, tuple, "
                            "generator); the order of a set changes between runs. Use a list instead")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        group = dict(param_group)
        group["params"] = params
        if names:
            if len(names) != len(params):
                raise ValueError("add_param_group: give all parameters with names ((name, tensor) pairs) or none")
            group["param_names"] = names
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"add_param_group: optimizer can only optimize Tensors, but parameter {i} is a "
                                f"{type(p).__name__}")
            if not (dtypes.is_floating_point(p._data.dtype) or p._data.dtype.kind == "c"):
                raise TypeError(f"add_param_group: parameter {i} has dtype {p._data.dtype}; only floating-point "
                                "tensors can be optimized")
            if p.grad_fn is not None:
                raise ValueError(f"add_param_group: can't optimize a non-leaf Tensor (parameter {i} was produced by "
                                 f"an op: {type(p.grad_fn).__name__}); optimize the leaf it was computed from")
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._validate(group)
        if len({id(p) for p in params}) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; each is updated once "
                          "per occurrence", stacklevel=2)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("add_param_group: some parameters appear in more than one parameter group")
        if self.param_groups and ("param_names" in group) != ("param_names" in self.param_groups[0]):
            raise ValueError("add_param_group: all param groups should be with names or all without; cannot add a "
                             f"group {'with' if 'param_names' in group else 'without'} names")
        self.param_groups.append(group)

    # ------------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients: drop them (``None``, the default) or fill them with zeros in place.

        With ``None`` an optimizer skips a parameter that gets no new gradient; with zeros it still
        updates it (momentum and weight decay keep acting), as in PyTorch.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    g = p.grad
                    g.detach_()  # a gradient built with create_graph=True leaves its graph
                    g._data[...] = 0
                    bump_version(g)

    def step(self, closure: Callable[[], Any] | None = None):
        """One update of every parameter that has a ``.grad``. ``closure`` re-evaluates the model
        (with grad mode on) and returns the loss, which ``step`` returns."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        # Gather and check every gradient first: a bad one must not leave half the model updated.
        work = []
        for gi, group in enumerate(self.param_groups):
            params, grads = [], []
            for pi, p in enumerate(group["params"]):
                if p.grad is None:
                    continue
                g = p.grad._data
                if g.shape != p._data.shape:
                    raise ShapeError(f"{type(self).__name__}.step: parameter {pi} of group {gi} has shape "
                                     f"{tuple(p._data.shape)} but its .grad has shape {tuple(g.shape)}; a gradient "
                                     "must have its parameter's shape")
                if g.dtype != p._data.dtype:
                    raise TypeError(f"{type(self).__name__}.step: parameter {pi} of group {gi} is {p._data.dtype} "
                                    f"but its .grad is {g.dtype}; cast the gradient to the parameter's dtype")
                params.append(p)
                grads.append(g)
            if params:
                work.append((group, params, grads))
        for group, params, grads in work:
            self._update_group(group, params, grads)
        return loss

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: {name: tensor}}, 'param_groups': [{option: value, 'params': [index]}]}``.

        Parameters are numbered in the order of the groups, as in PyTorch, so the two libraries can
        load each other's optimizer state. Tensors are returned by reference, not copied.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        params = {id(p): p for group in self.param_groups for p in group["params"]}
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in params and s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load state saved by ``state_dict()`` — fukaku's or PyTorch's (torch tensors are converted).

        The groups must have the same sizes as this optimizer's. Floating-point state is cast to its
        parameter's dtype and copied; ``step`` counters stay float32 as in PyTorch. Everything is
        checked before anything changes, so a bad state dict leaves the optimizer as it was.
        """
        for key in ("state", "param_groups"):
            if key not in state_dict:
                raise KeyError(f"load_state_dict: the state dict has no {key!r} entry (expected keys 'state' and "
                               "'param_groups', as returned by Optimizer.state_dict())")
        saved_groups = copy.deepcopy(list(state_dict["param_groups"]))
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"load_state_dict: loaded state dict has {len(saved_groups)} parameter groups, the "
                             f"optimizer has {len(self.param_groups)}")
        id_map: dict[int, Tensor] = {}
        for gi, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            indices = [_as_index(i, "'params' entries") for i in saved["params"]]
            if len(indices) != len(group["params"]):
                raise ValueError(f"load_state_dict: loaded parameter group {gi} has {len(indices)} parameters, the "
                                 f"optimizer's group {gi} has {len(group['params'])}")
            id_map.update(zip(indices, group["params"]))
            saved["params"] = indices
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, values in state_dict["state"].items():
            index = _as_index(key, "'state' keys")
            if index not in id_map:
                raise KeyError(f"load_state_dict: 'state' has an entry for parameter {index}, but the param groups "
                               f"list parameters {sorted(id_map)}")
            param = id_map[index]
            state[param] = {name: _cast_state(param, index, name, value) for name, value in values.items()}
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            for name, default in self.defaults.items():
                saved.setdefault(name, default)
            self._validate(saved)
            new_groups.append(saved)
        self.state = state
        self.param_groups = new_groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"


def _cast_state(param: Tensor, index: int, name: str, value):
    """One state entry as a fukaku tensor owned by the optimizer (other values are kept as they are)."""
    if name == "step":  # a host-side float32 0-d counter, as PyTorch keeps it whatever the parameter dtype
        host = default_module()
        arr = value._data if isinstance(value, Tensor) else host.asarray(value)
        if arr.size != 1:
            raise ShapeError(f"load_state_dict: state[{index}]['step'] must be a single number, got shape {arr.shape}")
        return wrap(host.array(arr.reshape(()), dtype=np.float32))
    xp = array_module(param._data)
    if isinstance(value, Tensor):
        arr = value._data
    elif isinstance(value, np.ndarray) or (hasattr(value, "__array__") and not isinstance(value, np.generic)):
        arr = xp.asarray(value)  # e.g. a torch tensor from torch's state_dict()
    else:
        return value
    if arr.shape != param._data.shape:
        raise ShapeError(f"load_state_dict: state[{index}][{name!r}] has shape {tuple(arr.shape)} but parameter "
                         f"{index} has shape {tuple(param._data.shape)}")
    dtype = param._data.dtype if dtypes.is_floating_point(arr.dtype) or arr.dtype.kind == "c" else arr.dtype
    return wrap(xp.array(arr, dtype=dtype, copy=True))
