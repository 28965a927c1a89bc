"""``fukaku.save`` / ``fukaku.load``: what ``torch.save`` and ``torch.load`` store, without pickle's risks.

**What can be saved**: what PyTorch programs pass to ``torch.save`` — a model's ``state_dict()``, an
optimizer's (int keys, ``param_groups``), a scheduler's, a checkpoint dict of those with the epoch,
the losses and ``fukaku.get_rng_state()``, a Tensor, a NumPy array, a list of tensors, and a whole
:class:`~fukaku.nn.Module` (``torch.save(model, f)``). Precisely: dicts (``OrderedDict`` too),
lists, tuples, sets and frozensets; Tensors and Parameters; NumPy arrays, scalars and dtypes;
Python ``bool``, ``int``, ``float``, ``complex``, ``str``, ``bytes`` and ``None``; fukaku dtypes,
devices and sizes (``fukaku.Size``); Modules; and functions or classes held as values (a module's
activation function), which are stored as their qualified name only. ``f`` is a path of any name
(``model.pt``, ``ckpt.pth``, ``run``) or a binary file object.

**How**: ``save`` splits the object in two. Every array goes into the file as a typed binary
entry; the rest — the tree, each array replaced by a reference to its entry — becomes a JSON
document. A Tensor, array or Module met twice (tied weights, a shared block) is stored once and
comes back as one object. A Module is stored as its class's qualified name and its state: its
``__dict__`` (submodules, parameters, buffers, plain attributes); its constructor is not run,
neither when saving nor when loading.

**Formats**: fukaku's container is NumPy's ``.npz`` (a zip of ``.npy`` files, one per array, plus
the JSON as the ``uint8`` entry ``__fukaku_structure__``); ``numpy.load(f, allow_pickle=False)``
opens it. Every path that does not end in ``.safetensors`` gets it, and so does a file object. A
path ending in ``.safetensors`` gets the Hugging Face format (the optional ``safetensors``
package, ``pip install fukaku[io]``) with the JSON in the header's metadata; arrays are named by
their path in the tree, so a state dict (a flat ``{name: tensor}`` dict) is a plain safetensors file
with PyTorch's key names that ``safetensors.torch.load_file`` reads as a torch state dict.
``load`` tells the format from the file's first bytes, never from its name. A safetensors or npz
file written by another program loads as a flat dict of Tensors. A file written by ``torch.save``
(a zip of pickles, or a bare pickle) is refused with the line that converts it to safetensors:
fukaku never unpickles.

**Loading is weights-only**, as ``torch.load`` is by default since PyTorch 2.6, and has no
unpickler to get wrong: the JSON is data, and the only things ``load`` constructs by default are
tensors, Parameters, arrays, containers, numbers, strings, bytes, None, fukaku and NumPy dtypes,
devices and sizes. A Module comes back only when its class is allowlisted — with PyTorch's
names: the :class:`safe_globals` context manager, :func:`add_safe_globals`,
:func:`get_safe_globals`, :func:`clear_safe_globals`. The file's class names are looked up in the
allowlist by qualified name (``module.Qualname``) as dictionary keys: nothing named in the file is
imported or called. The module is rebuilt as ``object.__new__(cls)``, fukaku's own ``Module``
defaults, then its saved state (no ``__init__``, ``__new__`` or ``__setstate__`` of the class
runs). A function or class held as a value comes back as the allowlisted object itself, never
called. Anything else is refused with :class:`UnsafeLoadError` (a :class:`CheckpointError` and a
``pickle.UnpicklingError``, which is what ``torch.load`` raises) naming every class to allow.

``load(f, weights_only=False)`` also accepts the Module subclasses that the program has already
imported, found by name in ``sys.modules`` (as a trusted ``torch.load(weights_only=False)`` loads
a pickled model). It still executes no code from the file: nothing is imported, no function named
in the file is called, and functions held as values still need the allowlist. The worst a file
from an untrusted source can do is fail to load, or give an imported Module class odd attribute
values.

``map_location`` is accepted as in ``torch.load``: a device, a string, a ``{saved: target}`` dict
or a function ``(tensor, "cpu") -> tensor or None``. fukaku computes on the CPU, so anything
mapping to another device raises the no-GPU error.

Writes to a path are atomic: the file is written under a temporary name in the target's directory,
flushed to disk (fsync), then renamed over the target (``os.replace``). A writer killed half-way
leaves the previous checkpoint intact (and at most an orphaned ``.<name>.*.tmp`` file). A file
object is written directly, from its current position.

Examples::

    >>> fk.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, "ckpt.pt")
    >>> state = fk.load("ckpt.pt")                       # no allowlist needed: tensors and data only
    >>> fk.save(model, "model.pt")                       # a whole Module
    >>> with fk.serialization.safe_globals([Net, fk.nn.Linear, fk.nn.ReLU]):
    ...     model = fk.load("model.pt")
"""
from __future__ import annotations

import errno
import functools
import io
import json
import math
import os
import pickle  # for its exception class only: fukaku never pickles or unpickles
import sys
import types
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import IO, Any

import numpy as np

from . import dtypes
from ._atomic import atomic_write
from ._device import check_device, device
from .tensor import Size, Tensor, wrap

__all__ = ["save", "load", "CheckpointError", "UnsafeLoadError", "safe_globals", "add_safe_globals",
           "get_safe_globals", "clear_safe_globals"]

_FORMAT_VERSION = 2  # 2 added sets, complex, bytes, dtypes, devices, modules, globals and shared objects
_READABLE_VERSIONS = (1, 2)
_STRUCTURE_KEY = "__fukaku_structure__"  # the JSON entry of an .npz and the metadata key of a .safetensors
# the dtypes safetensors defines (it has no complex, string or object types)
_SAFETENSORS_DTYPES = frozenset(np.dtype(t) for t in (np.bool_, np.uint8, np.int8, np.int16, np.uint16, np.int32,
                                                      np.uint32, np.int64, np.uint64, np.float16, np.float32,
                                                      np.float64))


class CheckpointError(ValueError):
    """A file that ``fukaku.load`` cannot read as a checkpoint (truncated, corrupt, or not one)."""


class UnsafeLoadError(CheckpointError, pickle.UnpicklingError):
    """A checkpoint that asks ``fukaku.load`` for a class or function it may not construct.

    Also a ``pickle.UnpicklingError``, what ``torch.load(weights_only=True)`` raises in that case.
    """


# ---------------------------------------------------------------------- the allowlist
_safe_globals: list = []  # what add_safe_globals was given: objects, or (object, "module.Qualname") pairs


def _allowed_as(entry) -> tuple[str | None, Any]:
    """The name an allowlist entry allows and the object it stands for: an ``(object,
    "module.Qualname")`` pair's name, else the object's own ``module.Qualname`` (None without one)."""
    if isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], str):
        return entry[1], entry[0]
    module, qualname = getattr(entry, "__module__", None), getattr(entry, "__qualname__", None)
    return (f"{module}.{qualname}" if isinstance(module, str) and isinstance(qualname, str) else None), entry


def add_safe_globals(safe_globals: list) -> None:
    """Allow :func:`load` to rebuild these classes (and return these functions) by name, as
    ``torch.serialization.add_safe_globals``.

    Args:
        safe_globals: classes or functions; an ``(object, "module.Qualname")`` pair allows the object
            under a name other than its own (a class that moved since the file was written).

    Example::

        >>> fukaku.serialization.add_safe_globals([Net, fukaku.nn.Linear])
        >>> model = fukaku.load("model.pt")
    """
    if not isinstance(safe_globals, (list, tuple)):
        raise TypeError(f"add_safe_globals: expected a list of classes or functions, got {type(safe_globals).__name__}")
    for entry in safe_globals:
        if _allowed_as(entry)[0] is None:
            raise TypeError(f"add_safe_globals: {entry!r} is neither a class or function (with __module__ and "
                            "__qualname__) nor an (object, 'module.Qualname') pair")
    _safe_globals.extend(entry for entry in dict.fromkeys(safe_globals) if entry not in _safe_globals)


def get_safe_globals() -> list:
    """What :func:`add_safe_globals` (and open :class:`safe_globals` blocks) allowed, in order."""
    return list(_safe_globals)


def clear_safe_globals() -> None:
    """Forget every allowed class and function."""
    _safe_globals.clear()


class safe_globals:  # noqa: N801  (PyTorch's name: used as `with safe_globals([...]):`)
    """Allow classes and functions for :func:`load` inside a ``with`` block (``torch.serialization.safe_globals``).

    Example::

        >>> with fukaku.serialization.safe_globals([Net, fukaku.nn.Linear, fukaku.nn.ReLU]):
        ...     model = fukaku.load("model.pt")
    """

    def __init__(self, safe_globals: list) -> None:
        self.safe_globals = safe_globals

    def __enter__(self) -> None:
        self._before = get_safe_globals()
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc) -> None:
        _safe_globals[:] = self._before


def _allowed() -> dict[str, Any]:
    """The allowlist by qualified name."""
    return dict(_allowed_as(entry) for entry in _safe_globals)


# ---------------------------------------------------------------------- what nodes stand for
def _module_class() -> type:
    from .nn.modules.module import Module  # deferred: nn is a layer above this one (tests/test_structure.py)
    return Module


def _parameter(data: Tensor, requires_grad: bool) -> Tensor:
    from .nn.parameter import Parameter  # deferred, as above
    return Parameter(data, requires_grad=requires_grad)


def _is_parameter(t: Tensor) -> bool:
    from .nn.parameter import Parameter  # deferred, as above
    return isinstance(t, Parameter)


@functools.cache
def _dtype_table() -> tuple[dict[int, str], dict[str, Any]]:
    """fukaku's dtype objects: id -> the first name :mod:`fukaku.dtypes` gives it, and name -> object."""
    kinds = (np.dtype, type(dtypes.float32))
    by_name = {name: value for name, value in vars(dtypes).items()
               if not name.startswith("_") and isinstance(value, kinds)}
    by_id: dict[int, str] = {}
    for name, value in by_name.items():
        by_id.setdefault(id(value), name)
    return by_id, by_name


# ---------------------------------------------------------------------- structure <-> JSON
# A node of the JSON tree is a JSON scalar (str, int, bool, null, finite float), a JSON array
# (a Python list), or an object with exactly one tag (and the modifiers in _MODIFIERS):
#   {"tensor": entry}  ("requires_grad": true, "parameter": true)   an array entry of the file
#   {"ndarray": entry}  {"scalar": entry}  {"bytes": entry}
#   {"tuple": [node, ...]}  {"set": [...]}  {"frozenset": [...]}
#   {"dict": [[key, value], ...]}  ("ordered": true for an OrderedDict)
#   {"float": "nan" | "inf" | "-inf"}  {"complex": [real, imag]}     (strict JSON has no non-finite numbers)
#   {"dtype": "float32"}  {"np_dtype": "<u2"}  {"device": "cpu"}  {"size": [2, 3]}   (fukaku.Size)
#   {"module": ["pkg.mod", "Qualname"], "state": {"dict": ...}}    a whole Module: its class and __dict__
#   {"global": ["pkg.mod", "Qualname"]}                            a function or class held as a value
#   {"alias": n}   the n-th tensor, array or module met so far (in the order the tree is written)
# Dicts are lists of pairs because JSON object keys are strings and optimizer state has int keys.
_MODIFIERS = frozenset({"requires_grad", "ordered", "parameter", "state"})
_CONTAINERS = {"tuple": tuple, "set": set, "frozenset": frozenset}


class _Encoder:
    def __init__(self, save_format: str) -> None:
        self.format = save_format
        self.arrays: dict[str, np.ndarray] = {}
        self._open: set[int] = set()  # ids of the containers on the current path, to refuse cycles
        self._shared: dict[int, tuple[object, int]] = {}  # id -> (object, index): the tensors, arrays, modules met

    def entry(self, arr: np.ndarray, where: list) -> str:
        if arr.dtype.hasobject:
            raise TypeError(f"fukaku.save: the array at {_where(where)} has dtype object, which only pickle can "
                            "store; convert it to a numeric dtype")
        if self.format == "safetensors":
            if arr.dtype.newbyteorder("=") not in _SAFETENSORS_DTYPES:
                raise TypeError(f"fukaku.save: safetensors cannot store dtype {arr.dtype} (the array at "
                                f"{_where(where)}); save to a path not ending in .safetensors (fukaku's npz "
                                "container) instead")
            # safetensors writes the raw buffer: it must be C-contiguous and little-endian
            # (np.ascontiguousarray would turn a 0-d array into shape (1,))
            arr = arr.astype(arr.dtype.newbyteorder("<"), order="C", copy=False)
        base = ".".join(map(str, where)) or "root"
        name, i = base, 1
        while name in self.arrays or name == _STRUCTURE_KEY:
            name, i = f"{base}#{i}", i + 1
        self.arrays[name] = arr
        return name

    def seen(self, obj) -> dict | None:
        """``{"alias": n}`` when ``obj`` was met before; otherwise remember it and return None."""
        met = self._shared.get(id(obj))
        if met is not None:
            return {"alias": met[1]}
        self._shared[id(obj)] = (obj, len(self._shared))
        return None

    def node(self, obj, where: list):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)  # an IntEnum becomes its value
        if isinstance(obj, float):
            return float(obj) if math.isfinite(obj) else {"float": repr(float(obj))}
        if isinstance(obj, complex):
            return {"complex": [self.node(obj.real, where), self.node(obj.imag, where)]}
        if isinstance(obj, bytes):
            return {"bytes": self.entry(np.frombuffer(obj, dtype=np.uint8), where)}
        if isinstance(obj, Tensor):
            out = self.seen(obj)
            if out is None:
                out = {"tensor": self.entry(obj._data, where)}
                if obj.requires_grad:
                    out["requires_grad"] = True
                if _is_parameter(obj):
                    out["parameter"] = True
            return out
        if isinstance(obj, np.ndarray):
            return self.seen(obj) or {"ndarray": self.entry(obj, where)}
        if isinstance(obj, np.generic):
            return {"scalar": self.entry(np.asarray(obj), where)}
        if isinstance(obj, Size):
            return {"size": [int(n) for n in obj]}
        if isinstance(obj, (dict, list, tuple, set, frozenset)):
            return self.container(obj, where)
        if isinstance(obj, (np.dtype, type(dtypes.float32))):
            return self.dtype(obj, where)
        if isinstance(obj, _module_class()):
            out = self.seen(obj)  # before the state: a module may (indirectly) hold itself
            return out or {"module": _name_pair(type(obj)), "state": self.node(dict(vars(obj)), where)}
        if isinstance(obj, device):
            return {"device": str(obj)}
        if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
            pair = _name_pair(obj)
            if not isinstance(pair[0], str) or "<lambda>" in pair[1]:
                raise TypeError(f"fukaku.save: the {'lambda' if '<lambda>' in pair[1] else 'function'} at "
                                f"{_where(where)} has no name to be saved under; use a function defined with def "
                                "at a module's top level (or remove it, e.g. a hook, before saving)")
            return {"global": pair}
        raise TypeError(f"fukaku.save: cannot save a {type(obj).__name__} (at {_where(where)}); a checkpoint holds "
                        "dicts, lists, tuples, sets, Tensors, NumPy arrays, scalars and dtypes, Python scalars, "
                        "strings, bytes, None, fukaku dtypes and devices, nn.Modules, and named functions or classes")

    def container(self, obj, where: list):
        if id(obj) in self._open:
            raise ValueError(f"fukaku.save: the object at {_where(where)} contains itself; cycles cannot be saved")
        self._open.add(id(obj))
        try:
            if isinstance(obj, dict):
                out = {"dict": [[self.key(k, where), self.node(v, [*where, k])] for k, v in obj.items()]}
                if isinstance(obj, OrderedDict):
                    out["ordered"] = True
                return out
            items = [self.node(v, [*where, i]) for i, v in enumerate(obj)]
            if isinstance(obj, list):
                return items
            return {"tuple" if isinstance(obj, tuple) else "set" if isinstance(obj, set) else "frozenset": items}
        finally:
            self._open.discard(id(obj))

    def dtype(self, obj, where: list):
        name = _dtype_table()[0].get(id(obj))
        if name is not None:
            return {"dtype": name}
        if not isinstance(obj, np.dtype) or obj.hasobject or obj.fields is not None or obj.subdtype is not None:
            raise TypeError(f"fukaku.save: the dtype {obj} at {_where(where)} cannot be saved (object, structured "
                            "and sub-array dtypes are not)")
        return {"np_dtype": obj.str}

    def key(self, key, where: list):
        if key is None or isinstance(key, (bool, int, float, str)):
            return self.node(key, where)
        if isinstance(key, tuple):
            return {"tuple": [self.key(k, where) for k in key]}
        raise TypeError(f"fukaku.save: dict key {key!r} of type {type(key).__name__} at {_where(where)} cannot be "
                        "saved; keys must be str, int, float, bool, None or tuples of those")


def _name_pair(obj) -> list:
    """``[module, qualified name]`` of a class or function, as the structure names it."""
    return [getattr(obj, "__module__", None), getattr(obj, "__qualname__", type(obj).__name__)]


def _where(path: list) -> str:
    return "the top level" if not path else "".join(f"[{p!r}]" for p in path)


class _Decoder:
    def __init__(self, arrays: dict[str, np.ndarray], name: str, found: dict[str, Any], place) -> None:
        self.arrays = arrays
        self.used: set[str] = set()
        self.name = name
        self.found = found  # "module.Qualname" -> the allowed class or function (see _resolve_names)
        self.place = place  # map_location applied to each tensor
        self.shared: list = []  # tensors, arrays and modules in the order met, for {"alias": n}

    def fail(self, detail: str) -> CheckpointError:
        return _corrupt(self.name, detail)

    def entry(self, name) -> np.ndarray:
        if not isinstance(name, str) or name not in self.arrays:
            raise self.fail(f"the structure refers to an array entry {name!r} that the file does not contain")
        if name in self.used:
            raise self.fail(f"the array entry {name!r} is referred to twice")
        self.used.add(name)
        return self.arrays[name]

    def node(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.node(n) for n in node]
        if not isinstance(node, dict):
            raise self.fail(f"unexpected JSON value {node!r}")
        tags = [k for k in node if k not in _MODIFIERS]
        if len(tags) != 1:
            raise self.fail(f"a node must have exactly one tag, got keys {sorted(node)}")
        tag, value = tags[0], node[tags[0]]
        if tag == "tensor":
            t = self.place(wrap(self.entry(value)))
            try:
                if node.get("parameter"):
                    t = _parameter(t, bool(node.get("requires_grad")))
                elif node.get("requires_grad"):
                    t.requires_grad_(True)
            except (RuntimeError, TypeError, ValueError) as e:  # e.g. an integer tensor that requires grad
                raise self.fail(f"the tensor entry {value!r}: {e}") from None
            self.shared.append(t)
            return t
        if tag == "ndarray":
            self.shared.append(self.entry(value))
            return self.shared[-1]
        if tag == "scalar":
            arr = self.entry(value)
            if arr.ndim != 0:
                raise self.fail(f"the scalar entry {value!r} has shape {arr.shape}, expected ()")
            return arr[()]
        if tag == "bytes":
            arr = self.entry(value)
            if arr.dtype != np.uint8 or arr.ndim != 1:
                raise self.fail(f"the bytes entry {value!r} has dtype {arr.dtype} and shape {arr.shape}")
            return arr.tobytes()
        if tag == "float":
            if value not in ("nan", "inf", "-inf"):
                raise self.fail(f"bad non-finite float {value!r}")
            return float(value)
        if tag == "complex" and isinstance(value, list) and len(value) == 2:
            parts = [self.node(v) for v in value]
            if not all(isinstance(p, (int, float)) and not isinstance(p, bool) for p in parts):
                raise self.fail(f"bad complex number {value!r}")
            return complex(*parts)
        if tag in _CONTAINERS and isinstance(value, list):
            items = [self.node(n) for n in value]
            try:
                return _CONTAINERS[tag](items)
            except TypeError:
                raise self.fail(f"a {tag} holds an unhashable item") from None
        if tag == "dict" and isinstance(value, list):
            return self.mapping(value, OrderedDict() if node.get("ordered") else {})
        if tag == "dtype":
            table = _dtype_table()[1]
            if not isinstance(value, str) or value not in table:
                raise self.fail(f"unknown fukaku dtype {value!r}")
            return table[value]
        if tag == "np_dtype" and isinstance(value, str):
            try:
                dt = np.dtype(value)
            except (TypeError, ValueError, SyntaxError):
                raise self.fail(f"bad NumPy dtype {value!r}") from None
            if dt.hasobject:
                raise self.fail(f"NumPy dtype {value!r} holds Python objects")
            return dt
        if tag == "size" and isinstance(value, list) and all(type(n) is int and n >= 0 for n in value):
            return Size(value)
        if tag == "device" and isinstance(value, str):
            try:
                return device(value)
            except RuntimeError:
                raise self.fail(f"bad device {value!r}") from None
        if tag == "module":
            return self.module(self.found[_key(value, self.name)], node.get("state"))
        if tag == "global":
            return self.found[_key(value, self.name)]
        if tag == "alias" and isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(self.shared):
            return self.shared[value]
        raise self.fail(f"unknown or malformed node {{{tag!r}: ...}}")

    def mapping(self, pairs: list, out: dict) -> dict:
        for pair in pairs:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise self.fail(f"a dict item must be a [key, value] pair, got {pair!r}")
            key = self.node(pair[0])
            try:
                hash(key)
            except TypeError:
                raise self.fail(f"the dict key {key!r} is not hashable") from None
            out[key] = self.node(pair[1])
        return out

    def module(self, cls: type, state):
        """``object.__new__(cls)``, Module's own defaults, then the saved ``__dict__``: no code of ``cls`` runs."""
        if not (isinstance(state, dict) and list(state) == ["dict"] and isinstance(state["dict"], list)):
            raise self.fail(f"the state of a {cls.__qualname__} module must be a dict node")
        obj = object.__new__(cls)
        _module_class().__init__(obj)  # defaults for attributes newer than the file
        self.shared.append(obj)  # before the state, which may refer back to the module
        attributes = self.mapping(state["dict"], {})
        bad = [k for k in attributes if not isinstance(k, str)]
        if bad or not all(isinstance(attributes.get(k), dict) for k in ("_parameters", "_buffers", "_modules")):
            raise self.fail(f"the state of a {cls.__qualname__} module lacks _parameters, _buffers or _modules, "
                            f"or has non-string attribute names {bad[:3]}")
        obj.__dict__.update(attributes)
        return obj


def _key(value, name: str) -> str:
    """``module.Qualname`` from a node's ``["module", "Qualname"]``."""
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) and v for v in value)):
        raise _corrupt(name, f"a class or function must be named as [module, qualified name], got {value!r}")
    return ".".join(value)


def _named_in(root, name: str) -> dict[str, str]:
    """Every class or function the structure names: ``module.Qualname`` -> "module" or "global"."""
    found: dict[str, str] = {}
    pending = [root]
    while pending:  # a stack, no recursion: the tree comes from the file and may be deep
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(reversed(node))  # in the order they are written, for the error message
        elif isinstance(node, dict):
            for kind in ("module", "global"):
                if kind in node:  # a class both held as a value and the class of a module counts as the latter
                    key = _key(node[kind], name)
                    found[key] = "module" if "module" in (kind, found.get(key)) else kind
            pending.extend(reversed(node.values()))
    return found


def _imported_class(qualified: str) -> type | None:
    """A class the program has already imported, found from ``sys.modules`` through the
    ``__dict__`` of modules and classes only (no import, no ``__getattr__``, no descriptor runs:
    even ``isinstance`` is avoided, as it may read ``__class__``); None when there is none."""
    parts = qualified.split(".")
    for split in range(len(parts) - 1, 0, -1):  # the longest prefix that is an imported module
        obj = sys.modules.get(".".join(parts[:split]))
        if obj is None:
            continue
        for part in parts[split:]:
            if issubclass(type(obj), types.ModuleType):
                obj = object.__getattribute__(obj, "__dict__").get(part)
            elif issubclass(type(obj), type):
                obj = type.__getattribute__(obj, "__dict__").get(part)
            else:
                return None
        return obj if issubclass(type(obj), type) else None
    return None


def _resolve_names(root, weights_only: bool, name: str) -> dict[str, Any]:
    """The class or function for each name in the structure, or one :class:`UnsafeLoadError` listing
    every name that may not be used, and how to allow it."""
    allowed, module_base = _allowed(), _module_class()
    found, refused, not_modules = {}, {}, []
    for qualified, kind in _named_in(root, name).items():
        obj = allowed.get(qualified)
        if obj is None and kind == "module" and not weights_only:
            obj = _imported_class(qualified)
        if obj is None:
            refused[qualified] = "a Module's class" if kind == "module" else "a function or class held as a value"
        elif kind == "module" and not (isinstance(obj, type) and issubclass(obj, module_base)):
            not_modules.append(qualified)
        else:
            found[qualified] = obj
    if not_modules:
        raise UnsafeLoadError(
            f"fukaku.load: {name!r} names {', '.join(not_modules)} as the class of a module, which is not a "
            "subclass of fukaku.nn.Module: fukaku.load restores modules only, and never calls what a file names")
    if refused:
        listed = ", ".join(f"{q} ({what})" for q, what in refused.items())
        short = ", ".join(q.rsplit(".", 1)[-1] for q in refused)
        if not weights_only:
            why = ("; weights_only=False finds Module classes only among the modules this program has already "
                   "imported (fukaku.load imports nothing), and functions always need the allowlist")
        elif "a Module's class" in refused.values():
            why = " (or load with weights_only=False to accept Module classes this program has imported)"
        else:
            why = ""
        raise UnsafeLoadError(
            f"fukaku.load: {name!r} needs {listed}, which loading constructs only when allowed{why}. If you trust "
            f"this file, allow them: `with fukaku.serialization.safe_globals([{short}]): fukaku.load(...)`, or "
            f"fukaku.serialization.add_safe_globals([{short}]) once. Saving model.state_dict() rather than the model "
            "needs no allowlist")
    return found


# ---------------------------------------------------------------------- devices
def _require_cpu(location) -> None:
    """Refuse any device but the CPU with fukaku's no-GPU error (a device, a string, or a torch.device)."""
    check_device(location if isinstance(location, device) else device(str(location)), "fukaku.load(map_location=...)")


def _placement(map_location):
    """A function applied to each loaded tensor (map_location as a function), after checking that
    every other form of map_location maps fukaku's tensors (saved on 'cpu') to the CPU."""
    if map_location is None:
        return _unchanged
    if isinstance(map_location, dict):  # {saved location: target}: fukaku's tensors were saved on 'cpu'
        for saved, target in map_location.items():
            if str(saved).partition(":")[0] == "cpu":
                _require_cpu(target)
        return _unchanged
    if callable(map_location) and not isinstance(map_location, (str, type, device)):
        def place(t: Tensor) -> Tensor:
            out = map_location(t, "cpu")
            if out is None:
                return t
            if not isinstance(out, Tensor):
                raise TypeError(f"fukaku.load: map_location returned a {type(out).__name__}; it must return a "
                                "Tensor or None")
            return out
        return place
    _require_cpu(map_location)
    return _unchanged


def _unchanged(t: Tensor) -> Tensor:
    return t


# ---------------------------------------------------------------------- writing
def _is_path(f) -> bool:
    return isinstance(f, (str, os.PathLike))


def save(obj, f: str | os.PathLike | IO[bytes]) -> None:
    """Save ``obj`` (a state dict, a checkpoint dict, a tensor, a whole Module ...) to ``f``.

    Args:
        obj: what ``torch.save`` is given in PyTorch programs; see the module docstring for the
            exact list (no pickle: arbitrary objects are refused with the path to the one at fault).
        f: a path of any name — ``.safetensors`` gives a safetensors file, anything else fukaku's
            npz container — or a binary file object (npz container, written from its position).

    Tensors, arrays and NumPy scalars keep their dtype and shape; dicts keep their key types
    (``int`` keys stay ints) and order; tuples stay tuples; a tensor that requires grad comes back
    requiring grad, a ``Parameter`` as a ``Parameter``; an object met twice comes back as one.

    The structure is checked before the file is touched, so an unsupported object raises
    ``TypeError`` and leaves an existing file at ``f`` as it was. Writes to a path are atomic.

    Example::

        >>> fk.save({"model": model.state_dict(), "epoch": 3}, "ckpt.pt")
        >>> buffer = io.BytesIO(); fk.save(model.state_dict(), buffer)
    """
    if _is_path(f):
        save_format = "safetensors" if Path(f).suffix.lower() == ".safetensors" else "npz"
    elif hasattr(f, "write"):
        if isinstance(f, io.TextIOBase):
            raise TypeError("fukaku.save: the file object is open in text mode; open it in binary mode ('wb')")
        save_format = "npz"
    else:
        raise TypeError(f"fukaku.save: f must be a path (str or os.PathLike) or a binary file object with write(), "
                        f"got {type(f).__name__}")
    encoder = _Encoder(save_format)
    structure = json.dumps({"fukaku": _FORMAT_VERSION, "root": encoder.node(obj, [])}, allow_nan=False,
                           separators=(",", ":"))
    write = _write_npz if save_format == "npz" else _write_safetensors
    if not _is_path(f):
        write(f, encoder.arrays, structure)
        if hasattr(f, "flush"):
            f.flush()
        return
    with atomic_write(f, op="fukaku.save") as fh:
        write(fh, encoder.arrays, structure)


def _write_npz(fh, arrays: dict[str, np.ndarray], structure: str) -> None:
    # np.savez's own loop, written out so that an entry may be called anything (np.savez takes
    # names as keyword arguments, which clash with its own ``allow_pickle``) and pickle is refused
    with zipfile.ZipFile(fh, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        entries = {_STRUCTURE_KEY: np.frombuffer(structure.encode("utf-8"), dtype=np.uint8), **arrays}
        for name, arr in entries.items():
            with zf.open(name + ".npy", mode="w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.asanyarray(arr), allow_pickle=False)


def _write_safetensors(fh, arrays: dict[str, np.ndarray], structure: str) -> None:
    st_numpy = _safetensors("save")[1]
    fh.write(st_numpy.save(arrays, metadata={"format": "np", _STRUCTURE_KEY: structure}))


def _safetensors(op: str):
    try:
        import safetensors
        import safetensors.numpy
    except ImportError as e:
        hint = "or save to a path not ending in .safetensors (fukaku's npz container)" if op == "save" else \
            "to read a safetensors file"
        raise ImportError(f"fukaku.{op}: .safetensors files need the optional 'safetensors' package "
                          f"(pip install safetensors, or the extra fukaku[io]), {hint}") from e
    return safetensors, safetensors.numpy


# ---------------------------------------------------------------------- reading
def load(f: str | os.PathLike | IO[bytes], map_location=None, *, weights_only: bool | None = True,
         mmap: bool | None = None):
    """Load what :func:`save` wrote (or a safetensors / npz file of another program) from ``f``.

    Args:
        f: a path (any name: the format is read from the file's first bytes) or a binary file object.
        map_location: as ``torch.load``'s — ``"cpu"``, a device, a ``{saved: target}`` dict, or a
            function ``(tensor, "cpu") -> tensor or None`` called on each tensor. fukaku computes on
            the CPU: anything that maps to another device raises fukaku's no-GPU error.
        weights_only: True (the default, as PyTorch's since 2.6) constructs only tensors, arrays,
            containers, numbers, strings, None, dtypes and devices — plus the classes and functions
            allowlisted with :class:`safe_globals` / :func:`add_safe_globals`. False also accepts
            Module classes the program has already imported. Neither executes code from the file:
            nothing it names is imported or called (see the module docstring).
        mmap: accepted for ``torch.load`` compatibility; the arrays are read into memory.

    Tensors come back as :class:`fukaku.Tensor`, arrays as ``numpy.ndarray``. A safetensors or npz
    file written by another program (no fukaku structure inside) loads as a flat dict of Tensors
    keyed by entry name — e.g. a torch state dict saved with ``safetensors.torch.save_file``.

    Raises ``FileNotFoundError`` for a missing file; :class:`UnsafeLoadError` for a class or
    function that is not allowed (naming each and how to allow it); :class:`CheckpointError` (a
    ``ValueError``) naming the file for one that is truncated, corrupt, not a checkpoint, or a
    ``torch.save`` pickle (with the line that converts it to safetensors).

    Example::

        >>> state = fk.load("ckpt.pt")
        >>> model.load_state_dict(state["model"])
    """
    place = _placement(map_location)
    if _is_path(f):
        name = os.fspath(f)
        if not os.path.isfile(name):
            raise FileNotFoundError(errno.ENOENT, "fukaku.load: no such checkpoint file", name)
        with open(name, "rb") as fh:
            head = fh.read(16)
        source: str | io.BytesIO = name
    elif hasattr(f, "read"):
        data = f.read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("fukaku.load: the file object returned text; open it in binary mode ('rb')")
        name = str(getattr(f, "name", "<file object>"))
        source, head = io.BytesIO(bytes(data)), bytes(data[:16])
    else:
        raise TypeError(f"fukaku.load: f must be a path (str or os.PathLike) or a binary file object with read(), "
                        f"got {type(f).__name__}")
    arrays, structure = _read(source, head, name)
    if structure is None:
        return {key: place(wrap(arr)) for key, arr in arrays.items()}
    try:
        doc = json.loads(structure)
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise _corrupt(name, f"its structure is not valid JSON ({e})") from None
    if not (isinstance(doc, dict) and set(doc) == {"fukaku", "root"}):
        raise _corrupt(name, "its structure lacks the 'fukaku' version and 'root' entries")
    if doc["fukaku"] not in _READABLE_VERSIONS:
        raise _corrupt(name, f"format version {doc['fukaku']!r}; this fukaku reads versions {_READABLE_VERSIONS}")
    found = _resolve_names(doc["root"], weights_only is not False, name)
    decoder = _Decoder(arrays, name, found, place)
    try:
        obj = decoder.node(doc["root"])
    except RecursionError:
        raise _corrupt(name, "its structure is nested too deeply") from None
    unused = sorted(set(arrays) - decoder.used)
    if unused:
        raise _corrupt(name, f"array entries {unused[:5]} are not part of its structure")
    return obj


def _torch_file(name: str, what: str) -> CheckpointError:
    return CheckpointError(
        f"fukaku.load: {name!r} {what}; fukaku never unpickles. Convert it once where PyTorch is installed: "
        f"`import torch, safetensors.torch; safetensors.torch.save_file(torch.load({name!r}, weights_only=True), "
        "'model.safetensors')` (for a state dict; for a whole model, save its state_dict()), then "
        "fukaku.load('model.safetensors')")


def _corrupt(name: str, detail: str) -> CheckpointError:
    return CheckpointError(f"fukaku.load: {name!r} is truncated, corrupt or not a fukaku checkpoint: {detail}")


def _read(source: str | io.BytesIO, head: bytes, name: str) -> tuple[dict[str, np.ndarray], bytes | str | None]:
    """The arrays and the JSON structure (None in a file of another program), by the file's first bytes."""
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):  # a zip: fukaku's npz container, or torch.save's
        return _read_npz(source, name)
    if len(head) >= 9 and head[8:9] == b"{":  # 8-byte header length, then the JSON header
        return _read_safetensors(source, name)
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise _torch_file(name, "is a pickle (torch.save's legacy format)")
    if not head:
        raise _corrupt(name, "the file is empty")
    raise _corrupt(name, f"it is neither fukaku's npz container nor a safetensors file (it starts with {head[:8]!r})")


def _read_npz(source: str | io.BytesIO, name: str) -> tuple[dict[str, np.ndarray], bytes | None]:
    try:
        with np.load(source, allow_pickle=False) as npz:
            if any(n == "data.pkl" or n.endswith("/data.pkl") for n in npz.zip.namelist()):
                raise _torch_file(name, "was written by torch.save (a zip of pickles)")
            arrays = {key: npz[key] for key in npz.files}  # reading each entry checks its CRC
    except (zipfile.BadZipFile, EOFError, ValueError, KeyError, OSError) as e:
        if isinstance(e, CheckpointError):
            raise
        raise _corrupt(name, f"{type(e).__name__}: {e}") from e
    not_arrays = [key for key, value in arrays.items() if not isinstance(value, np.ndarray)]
    if not_arrays:
        raise _corrupt(name, f"its entries {not_arrays[:5]} are not .npy arrays")
    raw = arrays.pop(_STRUCTURE_KEY, None)
    if raw is None:
        return arrays, None
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise _corrupt(name, f"its structure entry has dtype {raw.dtype} and shape {raw.shape}, expected uint8 (n,)")
    return arrays, raw.tobytes()  # json.loads decodes (and checks) the UTF-8


def _read_safetensors(source: str | io.BytesIO, name: str) -> tuple[dict[str, np.ndarray], str | None]:
    safetensors, st_numpy = _safetensors("load")
    try:
        if isinstance(source, str):
            with safetensors.safe_open(source, framework="np") as st:
                metadata = st.metadata() or {}
                arrays = {key: st.get_tensor(key) for key in st.keys()}
        else:
            data = source.getvalue()
            arrays = st_numpy.load(data)
            size = int.from_bytes(data[:8], "little")
            metadata = json.loads(data[8:8 + size]).get("__metadata__") or {}
    except (safetensors.SafetensorError, ValueError) as e:
        raise _corrupt(name, str(e)) from e
    return arrays, metadata.get(_STRUCTURE_KEY)
