"""``Module``: the base class of layers and models (parameters, submodules, buffers, modes,
state dicts), with PyTorch's names and key layout so weights move between the two."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np

from ... import dtypes
from ..._device import check_cuda_device, parse_to, place
from ...backends import array_module
from ...errors import StateDictError
from ...tensor import Tensor, bump_version, wrap
from ..parameter import Parameter


class IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Subclass it, create parameters and submodules in ``__init__``, compute in ``forward``.

    Attributes that are :class:`Parameter`, :class:`Module` or registered buffers are tracked, so
    ``parameters()``, ``state_dict()``, ``train()``/``eval()`` and ``zero_grad()`` see them.
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", [])
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {name!r} before Module.__init__() call: call super().__init__() first")
        params, buffers, modules = self._parameters, self._buffers, self._modules
        if isinstance(value, (Parameter, Module)):
            for store in (params, buffers, modules):
                store.pop(name, None)
            self.__dict__.pop(name, None)
            (params if isinstance(value, Parameter) else modules)[name] = value
            return
        for store, kind in ((params, "parameter"), (modules, "module"), (buffers, "buffer")):
            if name in store:
                allowed = value is None or (store is buffers and isinstance(value, Tensor))
                if not allowed:
                    raise TypeError(f"cannot assign {type(value).__name__} as {kind} {name!r} of "
                                    f"{type(self).__name__}; wrap it in nn.Parameter or assign None")
                store[name] = value
                return
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, got {type(param).__name__}")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A tensor that is state but not learnable (e.g. BatchNorm's running mean)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, got {type(tensor).__name__}")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        mod = self
        for part in filter(None, target.split(".")):
            if part not in mod._modules:
                raise AttributeError(f"{type(mod).__name__} has no submodule {part!r} (looking up {target!r})")
            mod = mod._modules[part]
        return mod

    def get_parameter(self, target: str) -> Parameter:
        owner, _, name = target.rpartition(".")
        mod = self.get_submodule(owner)
        if name not in mod._parameters:
            raise AttributeError(f"{type(mod).__name__} has no parameter {name!r}")
        return mod._parameters[name]

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo: set | None = None, prefix: str = "") -> Iterator[tuple[str, Module]]:
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, mod in self._modules.items():
            if mod is not None:
                yield from mod.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, mod in self._modules.items():
            if mod is not None and id(mod) not in seen:
                seen.add(id(mod))
                yield name, mod

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, store: str, prefix: str, recurse: bool):
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_prefix, mod in mods:
            for name, value in getattr(mod, store).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active, BatchNorm uses batch statistics); returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad = wrap(array_module(p.grad._data).zeros_like(p.grad._data))

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every submodule (children first) and on self, e.g. for initialisation."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self, *args, **kwargs) -> Module:
        """Cast the floating-point and complex parameters and buffers (and their ``.grad``) to a dtype,
        in place; returns the module. Takes ``Tensor.to``'s forms: ``to(dtype)``, ``to(device)``,
        ``to(device, dtype)``, ``to(tensor)``, keywords ``dtype=``, ``device=``, ``non_blocking=``.

        The dtype must be floating point or complex (TypeError otherwise, as in PyTorch). A device moves
        every parameter and buffer (and ``.grad``) there, in place, so optimizers keep their references:
        the CPU, or a CUDA device when ``fukaku.cuda.is_available()`` (others raise
        :class:`fukaku.DeviceError`).
        """
        device, dtype, _, _ = parse_to(args, kwargs, f"{type(self).__name__}.to")
        if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
            raise TypeError(f"{type(self).__name__}.to: only floating-point or complex dtypes are accepted for a "
                            f"module's parameters, got {dtype}")
        # every new array is made before any is assigned: a transfer or cast that fails midway (out of
        # GPU memory) leaves the whole module where it was, not half moved
        moved = []
        for t in list(self.parameters()) + list(self.buffers()):
            arrays = [t._data, None if t.grad is None else t.grad._data]
            if device is not None:
                arrays = [None if a is None else place(a, device) for a in arrays]
            if dtype is not None and (t.dtype.is_floating_point or t.dtype.is_complex):
                arrays = [None if a is None else a.astype(dtype) for a in arrays]
            moved.append((t, *arrays))
        for t, data, grad in moved:
            t._data = data
            if grad is not None and grad is not t.grad._data:
                t.grad = wrap(grad)
        return self

    def cpu(self) -> Module:
        """Move every parameter and buffer to host memory, in place; returns the module."""
        return self.to("cpu")

    def cuda(self, device=None) -> Module:
        """Move every parameter and buffer to a CUDA device (the current one unless given), in place;
        returns the module. Without a GPU it raises :class:`fukaku.DeviceError`; a device of another type
        (``'cpu'``) raises RuntimeError, as in PyTorch."""
        return self.to(check_cuda_device(device, f"{type(self).__name__}.cuda"))

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    def half(self) -> Module:
        return self.to(np.float16)

    def bfloat16(self) -> Module:
        """Parameters and buffers in bfloat16 (needs the optional ml_dtypes package: ``fukaku[bfloat16]``)."""
        return self.to(dtypes.bfloat16)

    # ------------------------------------------------------------------ calling
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        out = self.forward(*args, **kwargs)
        for hook in self._forward_hooks:
            result = hook(self, args, out)
            if result is not None:
                out = result
        return out

    def register_forward_hook(self, hook: Callable) -> Callable[[], None]:
        """``hook(module, inputs, output)`` after each forward; returns a function that removes it."""
        self._forward_hooks.append(hook)
        return lambda: self._forward_hooks.remove(hook)

    # ------------------------------------------------------------------ state dict
    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """Parameters and persistent buffers by dotted name (``0.weight``, ``bn.running_mean``)."""
        out = OrderedDict() if destination is None else destination
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                out[prefix + name] = b if keep_vars else b.detach()
        for name, mod in self._modules.items():
            if mod is not None:
                mod.state_dict(out, prefix + name + ".", keep_vars)
        return out

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values into this module's parameters and buffers.

        Every shape is checked before anything is copied, so a bad state dict leaves the module
        untouched. ``strict=True`` also refuses missing and unexpected keys. Values of another numeric
        dtype are cast to the parameter's or buffer's own, as ``torch``'s ``copy_`` does (a float64
        ``num_batches_tracked`` loads into the int64 buffer).
        """
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        incoming = {}  # key -> the array to copy in, in the module of the tensor it replaces
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            arr = place(value._data, target.device) if isinstance(value, Tensor) else \
                array_module(target._data).asarray(value)
            incoming[key] = arr
            if arr.shape != target._data.shape:
                problems.append(f"size mismatch for {key}: copying a param with shape {tuple(arr.shape)}, "
                                f"the shape in the current model is {tuple(target._data.shape)}")
            elif not (arr.dtype.kind in "biufc" or dtypes.is_bfloat16(arr.dtype)):  # numeric ones are cast on copy
                problems.append(f"dtype mismatch for {key}: got {arr.dtype}, which is not numeric; the model has "
                                f"{target._data.dtype}")
        if strict and (missing or unexpected):
            if missing:
                problems.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing))
            if unexpected:
                problems.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected))
        if problems:
            msg = f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(problems)
            raise StateDictError(msg)
        for key, arr in incoming.items():
            target = own[key]
            target._data[...] = arr.astype(target._data.dtype, copy=False)
            bump_version(target)
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ repr
    def extra_repr(self) -> str:
        return ""

    def num_parameters(self) -> int:
        """The number of parameter elements (fukaku's; a layer such as ``PReLU`` has a
        ``num_parameters`` setting of PyTorch's that takes this name)."""
        return _parameter_count(self)

    def __repr__(self) -> str:
        extra = self.extra_repr()
        children = [(n, m) for n, m in self._modules.items() if m is not None]
        if not children:
            return f"{type(self).__name__}({extra})"
        lines = [f"{type(self).__name__}({extra}" if extra else f"{type(self).__name__}("]
        for name, mod in children:
            body = repr(mod).replace("\n", "\n  ")
            count = _parameter_count(mod)
            leaf = not any(m is not None for m in mod._modules.values())  # containers state their own total
            lines.append(f"  ({name}): {body}" + (f"  # {count:,} params" if count and leaf else ""))
        lines.append(f")  # {_parameter_count(self):,} params in all")
        return "\n".join(lines)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))


def _parameter_count(module: Module) -> int:
    return sum(p.numel() for p in module.parameters())
