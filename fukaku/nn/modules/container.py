"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict`` of modules; ``ParameterList`` and
``ParameterDict`` of parameters (their state-dict keys are ``0``, ``1``, … and the dict's keys)."""
from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping

from ...tensor import Tensor
from ..parameter import Parameter
from .module import Module


class Sequential(Module):
    """Modules applied in order: ``Sequential(Linear(2, 8), ReLU(), Linear(8, 1))``.

    Children are named ``0``, ``1``, … (or by an OrderedDict), as in torch, so state-dict keys match.
    """

    def __init__(self, *args) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, mod in args[0].items():
                self.add_module(name, mod)
        else:
            for i, mod in enumerate(args):
                self.add_module(str(i), mod)

    def forward(self, input):
        for mod in self._modules.values():
            input = mod(input)
        return input

    def __getitem__(self, idx):
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(items[idx]))
        return items[idx][1]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self._modules)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (``0``, ``1``, … in the state dict)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        for mod in modules or ():
            self.append(mod)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    def __getitem__(self, idx):
        items = list(self._modules.values())
        return ModuleList(items[idx]) if isinstance(idx, slice) else items[idx]

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[idx]
        self.add_module(key, module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


class ModuleDict(Module):
    """A dict of modules whose parameters are registered under their keys."""

    def __init__(self, modules=None) -> None:
        super().__init__()
        for name, mod in (dict(modules) if modules else {}).items():
            self.add_module(name, mod)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()


def _entry_line(key, value) -> str:
    """torch's one-line description of a ParameterList/ParameterDict entry:
    ``(0): Parameter containing: [fukaku.float32 of size 3x4]``."""
    if not isinstance(value, Tensor):
        return f"  ({key}): Object of type: {type(value).__name__}"
    kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
    size = "x".join(str(n) for n in value.shape)
    dtype = str(value.dtype)
    dtype = dtype if dtype.startswith("fukaku.") else f"fukaku.{dtype}"
    return f"  ({key}): {kind} containing: [{dtype} of size {size}]"


class _ParameterContainer(Module):
    """What ParameterList and ParameterDict share: entries are attributes named by their key (so
    they land in ``_parameters`` and the state dict under that key, as in torch), a plain tensor
    becomes a :class:`Parameter`, and the repr lists every entry on its own line."""

    def _put(self, name: str, value) -> None:
        if isinstance(value, Tensor) and not isinstance(value, Parameter):
            value = Parameter(value)
        if "." in name or name == "":
            raise KeyError(f"{type(self).__name__}: key {name!r} can't be empty or contain \".\" (it names the "
                           "parameter in the state dict)")
        if isinstance(value, Parameter):
            self.__dict__.pop(name, None)
            self._parameters[name] = value
        else:  # any other object is kept as a plain attribute, as torch does
            self._parameters.pop(name, None)
            object.__setattr__(self, name, value)

    def _get(self, name: str):
        if name in self._parameters:
            return self._parameters[name]
        return self.__dict__[name]

    def _drop(self, name: str) -> None:
        if name in self._parameters:
            del self._parameters[name]
        else:
            del self.__dict__[name]

    def _lines(self) -> list[str]:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return "\n".join(self._lines())

    def __repr__(self) -> str:
        lines = self._lines()
        if not lines:
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"{type(self).__name__} should not be called.")


class ParameterList(_ParameterContainer):
    """A list of parameters registered under ``0``, ``1``, … (their state-dict keys, as in torch).

    Tensors appended are wrapped in :class:`Parameter`; indexing, slicing (a new ParameterList),
    ``append``, ``extend``, ``+=``, ``len`` and iteration work as on a list.

    Example::

        >>> biases = nn.ParameterList(fk.zeros(n) for n in (8, 4))
        >>> list(nn.Module.state_dict(biases))   # ['0', '1']
    """

    def __init__(self, values: Iterable | None = None) -> None:
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def _index(self, idx) -> str:
        idx = operator.index(idx)
        if not -len(self) <= idx < len(self):
            raise IndexError(f"ParameterList: index {idx} is out of range for a list of {len(self)}")
        return str(idx % len(self))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(self[i] for i in range(*idx.indices(len(self))))
        return self._get(self._index(idx))

    def __setitem__(self, idx: int, param) -> None:
        self._put(self._index(idx), param)

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator:
        return (self[i] for i in range(len(self)))

    def __iadd__(self, parameters: Iterable) -> ParameterList:
        return self.extend(parameters)

    def append(self, value) -> ParameterList:
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values: Iterable) -> ParameterList:
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got {type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def _lines(self) -> list[str]:
        return [_entry_line(i, p) for i, p in enumerate(self)]


class ParameterDict(_ParameterContainer):
    """A dict of parameters registered under their (string) keys, which are their state-dict keys.

    Tensors stored are wrapped in :class:`Parameter`. The dict methods work (``keys``, ``items``,
    ``values``, ``update``, ``pop``, ``get``, ``setdefault``, ``|``…); as in torch, ``update`` with a
    plain dict (not an OrderedDict or ParameterDict) inserts its keys in sorted order.
    """

    def __init__(self, parameters=None) -> None:
        super().__init__()
        self._keys: dict[str, None] = {}
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _key(key) -> str:
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: a key must be a string (it names the parameter in the state dict), "
                            f"got {type(key).__name__}")
        return key

    def __getitem__(self, key: str):
        if self._key(key) not in self._keys:
            raise KeyError(key)
        return self._get(key)

    def __setitem__(self, key: str, value) -> None:
        self._put(self._key(key), value)
        self._keys[key] = None

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        self._drop(key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __reversed__(self) -> Iterator[str]:
        return reversed(self._keys)

    def __contains__(self, key) -> bool:
        return key in self._keys

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((k, self[k]) for k in self._keys)

    def values(self):
        return (self[k] for k in self._keys)

    def get(self, key: str, default=None):
        return self[key] if key in self else default

    def setdefault(self, key: str, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key: str):
        value = self[key]
        del self[key]
        return value

    def popitem(self) -> tuple:
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def clear(self) -> None:
        for key in list(self._keys):
            del self[key]

    def copy(self) -> ParameterDict:
        return ParameterDict(OrderedDict(self.items()))

    def fromkeys(self, keys: Iterable[str], default=None) -> ParameterDict:
        return ParameterDict((k, default) for k in keys)

    def update(self, parameters) -> None:
        if not isinstance(parameters, Iterable):
            raise TypeError("ParameterDict.update should be called with an iterable of key/value pairs, but got "
                            f"{type(parameters).__name__}")
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = list(parameters.items())
        elif isinstance(parameters, Mapping):
            pairs = sorted(parameters.items())  # torch's order for a plain dict
        else:
            pairs = []
            for j, pair in enumerate(parameters):
                if not isinstance(pair, Iterable) or isinstance(pair, (str, Tensor)) or len(pair) != 2:
                    raise ValueError(f"ParameterDict.update: sequence element #{j} should be a (key, value) pair, "
                                     f"got {pair!r}")
                pairs.append(tuple(pair))
        for key, value in pairs:
            self[key] = value

    def __or__(self, other: ParameterDict) -> ParameterDict:
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other: ParameterDict) -> ParameterDict:
        merged = other.copy()
        merged.update(self)
        return merged

    def __ior__(self, other: ParameterDict) -> ParameterDict:
        self.update(other)
        return self

    def _lines(self) -> list[str]:
        return [_entry_line(k, p) for k, p in self.items()]
