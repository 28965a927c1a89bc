"""``fukaku.save`` / ``fukaku.load``: what ``torch.save`` and ``torch.load`` store, without pickle's risks.

**What can be saved**: what PyTorch programs pass to ``torch.save`` — a model's ``state_dict()``, an
optimizer's (int keys, ``param_groups``), a scheduler's, a checkpoint dict of those with the epoch,
the losses and ``fukaku.get_rng_state()``, a Tensor, a NumPy array, a list of tensors, and a whole
:class:`~fukaku.nn.Module` (``torch.save(model, f)``). Precisely: dicts (``OrderedDict`` too),
lists, tuples, sets and frozensets; Tensors and Parameters; NumPy arrays (bool, integer, floating
— bfloat16 included — and complex), scalars and dtypes; Python ``bool``, ``int``, ``float``,
``complex``, ``str``, ``bytes`` and ``None``; fukaku dtypes, devices and sizes (``fukaku.Size``);
Modules; and functions or classes held as values (a module's activation function), which are
stored as their qualified name only. ``f`` is a path of any name (``model.pt``, ``ckpt.pth``,
``run``) or a binary file object.

**How**: ``save`` splits the object in two. Every array goes into the file as a typed binary
entry; the rest — the tree, each array replaced by a reference to its entry — becomes a JSON
document. A Tensor, array or Module met twice (tied weights, a shared block) is stored once and
comes back as one object. A Module is stored as its class's qualified name and its state: its
``__dict__`` (submodules, parameters, buffers, plain attributes); its constructor is not run,
neither when saving nor when loading.

**Formats**: fukaku's container is NumPy's ``.npz`` (a zip of ``.npy`` files, one per array, plus
the JSON as the ``uint8`` entry ``__fukaku_structure__`` and the digest as ``__fukaku_digest__``);
``numpy.load(f, allow_pickle=False)`` opens it (a bfloat16 array is stored as its ``uint16`` bits,
marked in the JSON). Every path that does not end in ``.safetensors`` gets it, and so does a file
object. A path ending in ``.safetensors`` gets the Hugging Face format (written and read by fukaku
itself: no package needed) with the JSON and the digest in the header's ``__metadata__``; arrays
are named by their path in the tree, so a state dict (a flat ``{name: tensor}`` dict) is a plain
safetensors file with PyTorch's key names that ``safetensors.torch.load_file`` reads as a torch
state dict. ``load`` tells the format from the file's first bytes, never from its name. A
safetensors or npz file written by another program loads as a flat dict of Tensors. A file
written by ``torch.save`` (a zip of pickles, or a bare pickle) is refused with the line that
converts it to safetensors: fukaku never unpickles.

**bfloat16, float16, float8**: float16 (``F16``) tensors load as float16 and bfloat16 (``BF16``,
as ``safetensors.torch.save_file`` writes a torch bfloat16 state dict) as ``fukaku.bfloat16``
through the optional ``ml_dtypes`` package (``pip install 'fukaku[bfloat16]'``); without it they
load as float32 (exactly: every bfloat16 is a float32), with a warning naming them. float8 and
the smaller float formats (``F8_E4M3``, ``F8_E5M2``, ``F4`` …) are refused with a
:class:`CheckpointError` saying "unsupported dtype float8_e4m3fn" and how to convert them.

**Integrity**: every file ``save`` writes (format version 3) carries a SHA-256 digest of its JSON
and of each array's name, dtype, shape and bytes. ``load`` recomputes it and raises
:class:`CheckpointError` ("... is corrupt: its contents do not match the SHA-256 digest ...") when
anything differs: a flipped bit, a renamed entry, a dtype changed from F32 to I32. The digest
detects damage, not tampering (whoever edits a file can recompute it); what a file can make
``load`` do is bounded by the rules below whatever its digest. Files of versions 1 and 2 (before
the digest) and files of other programs still load, checked as everything is.

**Hostile files**: whatever bytes ``f`` holds, ``load`` returns or raises :class:`CheckpointError`
(or :class:`UnsafeLoadError`) naming the file and what is wrong — never another exception, never a
hang or an allocation the file cannot justify. Declared sizes are checked before anything is
allocated: a ``.npy`` entry's shape and dtype must account for exactly its bytes, a stored zip
entry lies within the file, a deflated one inflates to at most 1032 times its compressed size and
4 GiB and is inflated only up to its declared size, entries may not overlap; a safetensors header
is at most 100 MB and within the file, and its tensors' byte ranges must tile the data exactly,
each ``prod(shape) * itemsize`` bytes. Entries are read as bool, integer, floating or complex
arrays only (string, bytes, datetime, object, structured and void dtypes are refused), with at
most 32 dimensions; bool entries must hold 0s and 1s. Zip entries must be stored or deflated
(what ``np.savez`` and ``np.savez_compressed`` write) and not encrypted. JSON (the structure, a
safetensors header) is at most 200 levels deep, has no repeated keys, and may not use ``NaN``.

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
or a function ``(tensor, "cpu") -> tensor or None``. Tensors are saved from host memory (a GPU
tensor is copied to the host first) and load on the CPU; ``map_location="cuda"`` places them on
the GPU instead, and a device fukaku does not have raises :class:`fukaku.DeviceError`.

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

import ast
import errno
import functools
import hashlib
import io
import json
import math
import os
import pickle  # for its exception class only: fukaku never pickles or unpickles
import re
import reprlib
import struct
import sys
import types
import warnings
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import IO, Any, NamedTuple

import numpy as np

from . import dtypes
from ._atomic import atomic_write
from ._device import CPU, check_device, device, place
from .tensor import Size, Tensor, wrap

__all__ = ["save", "load", "CheckpointError", "UnsafeLoadError", "safe_globals", "add_safe_globals",
           "get_safe_globals", "clear_safe_globals"]

# 3 added the SHA-256 digest and bfloat16 entries ("view"); 2 added sets, complex, bytes, dtypes,
# devices, modules, globals and shared objects
_FORMAT_VERSION = 3
_READABLE_VERSIONS = (1, 2, 3)
_DIGESTED_SINCE = 3  # files of this format version and later must carry a digest
_STRUCTURE_KEY = "__fukaku_structure__"  # the JSON entry of an .npz and the metadata key of a .safetensors
_DIGEST_KEY = "__fukaku_digest__"  # the digest's entry / metadata key: "sha256:" and 64 hex digits
_RESERVED_NAMES = frozenset({_STRUCTURE_KEY, _DIGEST_KEY, "__metadata__"})  # never an array's name
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")

# the limits of what load reads (see "Hostile files" in the module docstring)
_MAX_DEPTH = 200  # JSON levels of a structure; a real checkpoint has fewer than 50
_MAX_DIMS = 32  # every NumPy supports 32 dimensions (NumPy 2 allows 64)
_MAX_HEADER_BYTES = 100_000_000  # a safetensors header (the safetensors library's own limit)
_MAX_NPY_HEADER = 65_535  # a .npy header (NumPy itself reads at most 10,000 bytes)
_DEFLATE_MAX_RATIO = 1032  # deflate's largest ratio of inflated to compressed bytes
_MAX_INFLATED_BYTES = 1 << 32  # one deflated zip entry
_CHUNK = 1 << 24  # bytes read at a time
# what zipfile raises on a damaged archive (NotImplementedError: a feature it lacks, such as "zip file version 10.9")
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, OverflowError, zlib.error,
               struct.error, NotImplementedError)

# the array dtypes a checkpoint holds, by their .npy description: bool, integers, float16/32/64 and
# complex64/128, either byte order (bfloat16 is stored as its uint16 bits)
_ARRAY_DTYPES = {f"{order}{code}": np.dtype(f"{order}{code}")
                 for code in ("b1", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8", "c8", "c16")
                 for order in ("<", ">", "|") if (order == "|") <= (code in ("b1", "i1", "u1"))}
# safetensors' dtype codes -> how fukaku reads their bytes (BF16: as uint16 bits, then see _bfloat16)
_SAFETENSORS_DTYPES = {"BOOL": np.dtype("|b1"), "U8": np.dtype("|u1"), "I8": np.dtype("|i1"),
                       "I16": np.dtype("<i2"), "U16": np.dtype("<u2"), "I32": np.dtype("<i4"),
                       "U32": np.dtype("<u4"), "I64": np.dtype("<i8"), "U64": np.dtype("<u8"),
                       "F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8"),
                       "C64": np.dtype("<c8"), "BF16": np.dtype("<u2")}
# what save writes: every code but C64 (older safetensors readers lack it) and BF16 (written for bfloat16)
_SAFETENSORS_CODES = {dt.str: code for code, dt in _SAFETENSORS_DTYPES.items() if code not in ("C64", "BF16")}
# safetensors codes of dtypes fukaku has no arrays for -> PyTorch's (and ml_dtypes') name of the dtype
_UNSUPPORTED_DTYPES = {"F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2", "F8_E4M3FNUZ": "float8_e4m3fnuz",
                       "F8_E5M2FNUZ": "float8_e5m2fnuz", "F8_E8M0": "float8_e8m0fnu", "F4": "float4_e2m1fn_x2",
                       "F6_E2M3": "float6_e2m3fn", "F6_E3M2": "float6_e3m2fn"}


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
#       (with "view": "bfloat16" when the entry is a uint16 array of bfloat16 bits: npz only, since 3)
#   {"tuple": [node, ...]}  {"set": [...]}  {"frozenset": [...]}
#   {"dict": [[key, value], ...]}  ("ordered": true for an OrderedDict)
#   {"float": "nan" | "inf" | "-inf"}  {"complex": [real, imag]}     (strict JSON has no non-finite numbers)
#   {"dtype": "float32"}  {"np_dtype": "<u2"}  {"device": "cpu"}  {"size": [2, 3]}   (fukaku.Size)
#   {"module": ["pkg.mod", "Qualname"], "state": {"dict": ...}}    a whole Module: its class and __dict__
#   {"global": ["pkg.mod", "Qualname"]}                            a function or class held as a value
#   {"alias": n}   the n-th tensor, array or module met so far (in the order the tree is written)
# Dicts are lists of pairs because JSON object keys are strings and optimizer state has int keys.
_MODIFIERS = frozenset({"requires_grad", "ordered", "parameter", "state", "view"})
_CONTAINERS = {"tuple": tuple, "set": set, "frozenset": frozenset}


class _Encoder:
    def __init__(self, save_format: str) -> None:
        self.format = save_format
        self.arrays: dict[str, np.ndarray] = {}
        self._open: set[int] = set()  # ids of the containers on the current path, to refuse cycles
        self._shared: dict[int, tuple[object, int]] = {}  # id -> (object, index): the tensors, arrays, modules met

    def array(self, tag: str, arr: np.ndarray, where: list) -> dict:
        """The node ``{tag: entry}`` of a new array entry (with ``"view": "bfloat16"`` for bfloat16 in npz)."""
        bfloat16 = _is_bfloat16(arr.dtype)
        if not bfloat16 and arr.dtype.str not in _ARRAY_DTYPES:
            why = "which only pickle can store" if arr.dtype.hasobject else "which a checkpoint does not hold"
            raise TypeError(f"fukaku.save: the array at {_where(where)} has dtype {arr.dtype}, {why}; a checkpoint "
                            "holds bool, integer, floating (bfloat16 included) and complex arrays: convert it (text "
                            "goes in as Python str)")
        view = None
        if self.format == "safetensors":
            if not bfloat16 and arr.dtype.newbyteorder("<").str not in _SAFETENSORS_CODES:
                raise TypeError(f"fukaku.save: safetensors cannot store dtype {arr.dtype} (the array at "
                                f"{_where(where)}); save to a path not ending in .safetensors (fukaku's npz "
                                "container) instead")
            if not bfloat16:  # safetensors is little-endian (bfloat16 arrays are in the machine's order already)
                arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        elif bfloat16:  # .npy has no bfloat16: its bits go in as uint16, and the node says how to read them
            arr, view = arr.view(np.uint16), "bfloat16"
        base = ".".join(map(str, where)) or "root"
        name, i = base, 1
        while name in self.arrays or name in _RESERVED_NAMES:
            name, i = f"{base}#{i}", i + 1
        self.arrays[name] = arr
        return {tag: name, "view": view} if view else {tag: name}

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
            return self.array("bytes", np.frombuffer(obj, dtype=np.uint8), where)
        if isinstance(obj, Tensor):
            out = self.seen(obj)
            if out is None:
                out = self.array("tensor", place(obj._data, CPU), where)  # a GPU tensor: its host copy
                if obj.requires_grad:
                    out["requires_grad"] = True
                if _is_parameter(obj):
                    out["parameter"] = True
            return out
        if isinstance(obj, np.ndarray):
            return self.seen(obj) or self.array("ndarray", obj, where)
        if isinstance(obj, np.generic):
            return self.array("scalar", np.asarray(obj), where)
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
        self.bfloat16: list[str] = []  # the entries read as bfloat16 (for the warning without ml_dtypes)

    def fail(self, detail: str) -> CheckpointError:
        return _corrupt(self.name, detail)

    def entry(self, node: dict, tag: str) -> np.ndarray:
        """The array entry ``node[tag]`` names (read as bfloat16 when the node says so), used once only."""
        name = node[tag]
        if not isinstance(name, str) or name not in self.arrays:
            raise self.fail(f"the structure refers to an array entry {reprlib.repr(name)} that the file does not "
                            "contain")
        if name in self.used:
            raise self.fail(f"the array entry {reprlib.repr(name)} is referred to twice")
        self.used.add(name)
        arr, view = self.arrays[name], node.get("view")
        if view is None:
            return arr
        if view != "bfloat16" or arr.dtype.str != "<u2":
            raise self.fail(f"the entry {reprlib.repr(name)} of dtype {arr.dtype} cannot be viewed as "
                            f"{reprlib.repr(view)} (only uint16 entries as 'bfloat16')")
        self.bfloat16.append(name)
        return _bfloat16(arr)

    def node(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.node(n) for n in node]
        if not isinstance(node, dict):
            raise self.fail(f"unexpected JSON value {reprlib.repr(node)}")
        tags = [k for k in node if k not in _MODIFIERS]
        if len(tags) != 1:
            raise self.fail(f"a node must have exactly one tag, got keys {sorted(node)}")
        tag, value = tags[0], node[tags[0]]
        if tag == "tensor":
            t = self.place(wrap(self.entry(node, tag)))
            try:
                if node.get("parameter"):
                    t = _parameter(t, bool(node.get("requires_grad")))
                elif node.get("requires_grad"):
                    t.requires_grad_(True)
            except (RuntimeError, TypeError, ValueError) as e:  # e.g. an integer tensor that requires grad
                raise self.fail(f"the tensor entry {reprlib.repr(value)}: {e}") from None
            self.shared.append(t)
            return t
        if tag == "ndarray":
            self.shared.append(self.entry(node, tag))
            return self.shared[-1]
        if tag == "scalar":
            arr = self.entry(node, tag)
            if arr.ndim != 0:
                raise self.fail(f"the scalar entry {reprlib.repr(value)} has shape {arr.shape}, expected ()")
            return arr[()]
        if tag == "bytes":
            arr = self.entry(node, tag)
            if arr.dtype != np.uint8 or arr.ndim != 1:
                raise self.fail(f"the bytes entry {reprlib.repr(value)} has dtype {arr.dtype} and shape {arr.shape}")
            return arr.tobytes()
        if tag == "float":
            if value not in ("nan", "inf", "-inf"):
                raise self.fail(f"bad non-finite float {reprlib.repr(value)}")
            return float(value)
        if tag == "complex" and isinstance(value, list) and len(value) == 2:
            parts = [self.node(v) for v in value]
            if not all(type(p) in (int, float) for p in parts):  # type(): a loaded module's __class__ may run code
                raise self.fail(f"bad complex number {reprlib.repr(value)}")
            return complex(*parts)
        if tag in _CONTAINERS and isinstance(value, list):
            items = [self.node(n) for n in value]
            if tag == "tuple":
                return tuple(items)
            return _CONTAINERS[tag](self.hashable(item, f"a {tag} member") for item in items)
        if tag == "dict" and isinstance(value, list):
            return self.mapping(value, OrderedDict() if node.get("ordered") else {})
        if tag == "dtype":
            table = _dtype_table()[1]
            if not isinstance(value, str) or value not in table:
                raise self.fail(f"unknown fukaku dtype {reprlib.repr(value)}")
            return table[value]
        if tag == "np_dtype" and isinstance(value, str) and len(value) <= 64:  # what save writes: dtype.str
            try:
                dt = np.dtype(value)
            except (TypeError, ValueError, SyntaxError):
                raise self.fail(f"bad NumPy dtype {reprlib.repr(value)}") from None
            if dt.hasobject:
                raise self.fail(f"NumPy dtype {reprlib.repr(value)} holds Python objects")
            if dt.fields is not None or dt.subdtype is not None:
                raise self.fail(f"NumPy dtype {reprlib.repr(value)} is structured or a sub-array (save writes neither)")
            return dt
        if tag == "size" and isinstance(value, list) and all(type(n) is int and n >= 0 for n in value):
            return Size(value)
        if tag == "device" and isinstance(value, str) and len(value) <= 64:
            try:
                return device(value)
            except (RuntimeError, ValueError):  # ValueError: an index of thousands of digits
                raise self.fail(f"bad device {reprlib.repr(value)}") from None
        if tag == "module":
            return self.module(self.found[_key(value, self.name)], node.get("state"))
        if tag == "global":
            return self.found[_key(value, self.name)]
        if tag == "alias" and isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(self.shared):
            return self.shared[value]
        raise self.fail(f"unknown or malformed node {{{reprlib.repr(tag)}: ...}}")

    def mapping(self, pairs: list, out: dict) -> dict:
        for pair in pairs:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise self.fail(f"a dict item must be a [key, value] pair, got {reprlib.repr(pair)}")
            key = self.hashable(self.node(pair[0]), "the dict key")
            out[key] = self.node(pair[1])
        return out

    def hashable(self, value, what: str):
        """``value``, checked to be hashable without running a Module's code (a module, even inside a
        tuple, is refused: its class's ``__hash__`` or ``__eq__`` would run)."""
        pending = [value]
        while pending:
            item = pending.pop()
            if issubclass(type(item), (tuple, frozenset)):  # never isinstance: it reads a module's __class__
                pending.extend(item)
            elif issubclass(type(item), _module_class()):
                raise self.fail(f"{what} is a {type(item).__qualname__} module")
        try:
            hash(value)
        except TypeError:
            raise self.fail(f"{what} is not hashable (an unhashable {type(value).__name__})") from None
        return value

    def module(self, cls: type, state):
        """``object.__new__(cls)``, Module's own defaults, then the saved ``__dict__``: no code of ``cls`` runs."""
        if not (isinstance(state, dict) and list(state) == ["dict"] and isinstance(state["dict"], list)):
            raise self.fail(f"the state of a {cls.__qualname__} module must be a dict node")
        obj = object.__new__(cls)
        _module_class().__init__(obj)  # defaults for attributes newer than the file
        self.shared.append(obj)  # before the state, which may refer back to the module
        attributes = self.mapping(state["dict"], {})
        bad = [k for k in attributes if type(k) is not str]
        stores = [attributes.get(k) for k in ("_parameters", "_buffers", "_modules")]
        if bad or not all(type(store) in (dict, OrderedDict) for store in stores):
            raise self.fail(f"the state of a {cls.__qualname__} module lacks _parameters, _buffers or _modules, "
                            f"or has non-string attribute names {bad[:3]}")
        object.__getattribute__(obj, "__dict__").update(attributes)  # no __getattribute__ of cls runs
        return obj


def _key(value, name: str) -> str:
    """``module.Qualname`` from a node's ``["module", "Qualname"]``."""
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) and v for v in value)):
        raise _corrupt(name, "a class or function must be named as [module, qualified name], got "
                             + reprlib.repr(value))
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
def _mover(location):
    """The function that moves a loaded tensor to ``location`` (a device, a string, or a torch.device),
    checked by fukaku's one device check."""
    target = check_device(location if isinstance(location, device) else device(str(location)),
                          "fukaku.load(map_location=...)")
    if target is CPU:
        return _unchanged
    return lambda t: wrap(place(t._data, target))


def _placement(map_location):
    """A function applied to each loaded tensor: the move map_location asks for (fukaku's tensors
    were saved from host memory, location 'cpu'), or map_location itself when it is a function."""
    if map_location is None:
        return _unchanged
    if isinstance(map_location, dict):  # {saved location: target}: fukaku's tensors were saved on 'cpu'
        for saved, target in map_location.items():
            if str(saved).partition(":")[0] == "cpu":
                return _mover(target)
        return _unchanged
    if callable(map_location) and not isinstance(map_location, (str, type, device)):
        def mapped(t: Tensor) -> Tensor:
            out = map_location(t, "cpu")
            if out is None:
                return t
            if not isinstance(out, Tensor):
                raise TypeError(f"fukaku.load: map_location returned a {type(out).__name__}; it must return a "
                                "Tensor or None")
            return out
        return mapped
    return _mover(map_location)


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

    Tensors, arrays and NumPy scalars keep their dtype and shape (bfloat16 included); dicts keep
    their key types (``int`` keys stay ints) and order; tuples stay tuples; a tensor that requires
    grad comes back requiring grad, a ``Parameter`` as a ``Parameter``; an object met twice comes
    back as one. The file carries a SHA-256 digest of its contents, which :func:`load` checks.

    The structure is checked before the file is touched, so an unsupported object raises
    ``TypeError`` (``ValueError`` for a cycle, or nesting deeper than :func:`load` reads) and
    leaves an existing file at ``f`` as it was. Writes to a path are atomic.

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
    root = encoder.node(obj, [])
    if _too_deep(root):
        raise ValueError(f"fukaku.save: the object is nested more than {_MAX_DEPTH} levels deep (counted as JSON "
                         "levels: a dict takes three), more than fukaku.load reads; flatten it")
    structure = json.dumps({"fukaku": _FORMAT_VERSION, "root": root}, allow_nan=False, separators=(",", ":"))
    digest = _digest(encoder.arrays, {key: _label(arr) for key, arr in encoder.arrays.items()},
                     structure.encode("utf-8"))
    write = _write_npz if save_format == "npz" else _write_safetensors
    if not _is_path(f):
        write(f, encoder.arrays, structure, digest)
        if hasattr(f, "flush"):
            f.flush()
        return
    with atomic_write(f, op="fukaku.save") as fh:
        write(fh, encoder.arrays, structure, digest)


def _write_npz(fh, arrays: dict[str, np.ndarray], structure: str, digest: str) -> None:
    # np.savez's own loop, written out so that an entry may be called anything (np.savez takes
    # names as keyword arguments, which clash with its own ``allow_pickle``) and pickle is refused
    with zipfile.ZipFile(fh, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        entries = {_STRUCTURE_KEY: np.frombuffer(structure.encode("utf-8"), dtype=np.uint8),
                   _DIGEST_KEY: np.frombuffer(digest.encode("ascii"), dtype=np.uint8), **arrays}
        for name, arr in entries.items():
            with zf.open(name + ".npy", mode="w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.asanyarray(arr), allow_pickle=False)


def _write_safetensors(fh, arrays: dict[str, np.ndarray], structure: str, digest: str) -> None:
    """The safetensors format, written as its specification says: the header's length (8 bytes, little
    endian), the JSON header (padded with spaces to a multiple of 8), then each tensor's bytes, the
    widest dtypes first (as the safetensors library orders them, so that each tensor is aligned)."""
    header: dict[str, Any] = {"__metadata__": {"format": "np", _STRUCTURE_KEY: structure, _DIGEST_KEY: digest}}
    order = sorted(arrays, key=lambda key: (-arrays[key].dtype.itemsize, key))
    offset = 0
    for key in order:
        arr = arrays[key]
        code = "BF16" if _is_bfloat16(arr.dtype) else _SAFETENSORS_CODES[arr.dtype.str]
        header[key] = {"dtype": code, "shape": list(arr.shape), "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    fh.write(len(text).to_bytes(8, "little"))
    fh.write(text)
    for key in order:
        fh.write(_flat_bytes(arrays[key]))


# ---------------------------------------------------------------------- the digest and bfloat16
def _is_bfloat16(dt: np.dtype) -> bool:
    """Whether ``dt`` is ml_dtypes' bfloat16 (told by name: ml_dtypes is imported only by fukaku.bfloat16)."""
    return dt.kind == "V" and dt.name == "bfloat16"


def _label(arr: np.ndarray) -> str:
    """An array's dtype as the digest names it: its ``.npy`` description (``'<f4'``), or ``'bfloat16'``."""
    return "bfloat16" if _is_bfloat16(arr.dtype) else arr.dtype.str


def _flat_bytes(arr: np.ndarray) -> np.ndarray:
    """The array's bytes in C order, as a flat uint8 array (a view when it is C-contiguous already)."""
    return np.ascontiguousarray(arr).reshape(-1).view(np.uint8)


def _digest(arrays: dict[str, np.ndarray], labels: dict[str, str], structure: bytes) -> str:
    """``"sha256:<hex>"`` of the structure and of every array's name, dtype label, shape and C-order bytes
    (names sorted; every part length-prefixed, so that no two different contents hash alike)."""
    h = hashlib.sha256(b"fukaku checkpoint digest 1\n")

    def part(data) -> None:
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)

    part(structure)
    for key in sorted(arrays):
        arr = arrays[key]
        part(json.dumps([key, labels[key], list(arr.shape)]).encode("utf-8"))
        part(_flat_bytes(arr))
    return "sha256:" + h.hexdigest()


def _bfloat16_numpy() -> np.dtype | None:
    """NumPy's bfloat16 dtype (ml_dtypes'), or None when the optional package is missing."""
    try:
        return dtypes.bfloat16.dtype
    except dtypes.DTypeUnavailableError:
        return None


def _bfloat16(bits: np.ndarray) -> np.ndarray:
    """A uint16 array of bfloat16 bits as a bfloat16 array, or as float32 without ml_dtypes (exact:
    a bfloat16 is the upper half of the float32 of the same value)."""
    bf16 = _bfloat16_numpy()
    if bf16 is not None:
        return bits.view(bf16)
    return (bits.astype(np.uint32) << 16).view(np.float32)


def _warn_bfloat16(name: str, keys: list[str]) -> None:
    if keys and _bfloat16_numpy() is None:
        listed = ", ".join(map(repr, keys[:5])) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
        warnings.warn(f"fukaku.load: {name!r} holds bfloat16 tensors ({listed}), loaded as float32 because the "
                      "optional ml_dtypes package is not installed (pip install 'fukaku[bfloat16]' keeps them "
                      "bfloat16)", stacklevel=3)


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
    keyed by entry name — e.g. a torch state dict saved with ``safetensors.torch.save_file``, its
    bfloat16 tensors as ``fukaku.bfloat16`` (float32, with a warning, without ``ml_dtypes``).

    Raises ``FileNotFoundError`` for a missing file (and ``OSError`` for one that cannot be read, as
    ``open`` does); :class:`UnsafeLoadError` for a class or function that is not allowed (naming each
    and how to allow it); :class:`CheckpointError` (a ``ValueError``) naming the file for whatever
    else its bytes hold: truncated, corrupt (its digest does not match), not a checkpoint, beyond the
    limits in the module docstring, a dtype fukaku lacks (float8), or a ``torch.save`` pickle (with
    the line that converts it to safetensors).

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
            contents = _read(fh, os.fstat(fh.fileno()).st_size, str(name))
    elif hasattr(f, "read"):
        data = f.read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("fukaku.load: the file object returned text; open it in binary mode ('rb')")
        data = bytes(data)
        name = str(getattr(f, "name", "<file object>"))
        contents = _read(io.BytesIO(data), len(data), name)
    else:
        raise TypeError(f"fukaku.load: f must be a path (str or os.PathLike) or a binary file object with read(), "
                        f"got {type(f).__name__}")
    name = str(name)
    if contents.digest is not None:
        _verify(contents, name)
    arrays = dict(contents.arrays)
    for key in contents.bfloat16:
        arrays[key] = _bfloat16(arrays[key])
    _warn_bfloat16(name, list(contents.bfloat16))
    if contents.structure is None:
        return {key: place(wrap(arr)) for key, arr in arrays.items()}
    doc = _parse_json(contents.structure, name, "structure")
    if not (isinstance(doc, dict) and set(doc) == {"fukaku", "root"}):
        raise _corrupt(name, "its structure lacks the 'fukaku' version and 'root' entries")
    version = doc["fukaku"]
    if type(version) is not int or version not in _READABLE_VERSIONS:
        raise _corrupt(name, f"format version {reprlib.repr(version)}; this fukaku reads versions {_READABLE_VERSIONS}")
    if version >= _DIGESTED_SINCE and contents.digest is None:
        raise _corrupt(name, f"it lacks the digest that every file of format version {version} carries")
    if _too_deep(doc["root"]):
        raise _corrupt(name, f"its structure is nested more than {_MAX_DEPTH} levels deep")
    found = _resolve_names(doc["root"], weights_only is not False, name)
    decoder = _Decoder(arrays, name, found, place)
    obj = decoder.node(doc["root"])
    _warn_bfloat16(name, decoder.bfloat16)
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


class _Contents(NamedTuple):
    """What a file holds, before its structure is decoded."""

    arrays: dict[str, np.ndarray]  # entry name -> array (a BF16 safetensors tensor as its uint16 bits)
    labels: dict[str, str]  # entry name -> its dtype as the digest names it (see _label)
    structure: bytes | None  # the JSON, None in a file of another program
    digest: str | None  # as stored, None in a file without one
    bfloat16: tuple[str, ...] = ()  # the entries that hold bfloat16 bits


def _verify(contents: _Contents, name: str) -> None:
    if contents.structure is None:
        raise _corrupt(name, "it carries a digest but no structure (a renamed entry?)")
    if not _DIGEST.fullmatch(contents.digest):
        raise _corrupt(name, f"its digest {contents.digest[:80]!r} is not 'sha256:' and 64 hex digits")
    if _digest(contents.arrays, contents.labels, contents.structure) != contents.digest:
        raise CheckpointError(
            f"fukaku.load: {name!r} is corrupt: its contents do not match the SHA-256 digest it was saved with "
            "(a changed byte, a renamed entry, a changed dtype or shape); restore it from a copy")


def _duplicate_keys_refused(pairs: list) -> dict:
    out = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def _no_constants(word: str):
    raise ValueError(f"{word} is not JSON")


def _parse_json(text: bytes | str, name: str, what: str):
    """Strict JSON: UTF-8, no repeated keys, no NaN or Infinity; nesting is bounded by the parser's
    recursion check (then by :func:`_too_deep`)."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return json.loads(text, object_pairs_hook=_duplicate_keys_refused, parse_constant=_no_constants)
    except RecursionError:
        raise _corrupt(name, f"its {what} is nested too deeply") from None
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError, an integer of too many digits, ...
        raise _corrupt(name, f"its {what} is not valid JSON ({e})") from None


def _too_deep(tree) -> bool:
    """Whether the JSON ``tree`` nests lists and objects more than ``_MAX_DEPTH`` levels (no recursion)."""
    pending = [(tree, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, (list, dict)):
            if depth > _MAX_DEPTH:
                return True
            pending.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return False


def _read(fh: IO[bytes], size: int, name: str) -> _Contents:
    """The arrays, structure and digest of a file, by its first bytes."""
    head = fh.read(16)
    fh.seek(0)
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):  # a zip: fukaku's npz container, or torch.save's
        return _read_npz(fh, size, name)
    if head[:6] == b"\x93NUMPY":
        raise CheckpointError(f"fukaku.load: {name!r} is one NumPy array (numpy.save's .npy format), not a "
                              f"checkpoint: read it with numpy.load({name!r}, allow_pickle=False) and pass it to "
                              "fukaku.tensor")
    if len(head) >= 9 and head[8:9] == b"{":  # 8-byte header length, then the JSON header
        return _read_safetensors(fh, size, name)
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise _torch_file(name, "is a pickle (torch.save's legacy format)")
    if not head:
        raise _corrupt(name, "the file is empty")
    raise _corrupt(name, f"it is neither fukaku's npz container nor a safetensors file (it starts with {head[:8]!r})")


def _read_into(fh: IO[bytes], n: int) -> np.ndarray:
    """Exactly ``n`` bytes of ``fh`` as a new (writable) uint8 array; EOFError when it has fewer. The
    caller has checked ``n`` against the file, so allocating it is justified."""
    buf = np.empty(n, np.uint8)
    view, pos = memoryview(buf), 0
    while pos < n:
        got = fh.readinto(view[pos:pos + _CHUNK])
        if not got:
            raise EOFError(f"{n - pos} of the {n} bytes expected are missing")
        pos += got
    return buf


def _nbytes(shape, itemsize: int) -> int | None:
    """The bytes of an array of ``shape``, or None when NumPy could not index it (the product of its
    nonzero sizes overflows)."""
    if math.prod(n for n in shape if n) * itemsize > np.iinfo(np.intp).max:
        return None
    return math.prod(shape) * itemsize


def _valid_shape(shape) -> bool:
    return len(shape) <= _MAX_DIMS and all(type(n) is int and n >= 0 for n in shape)


def _bools_checked(arr: np.ndarray, name: str, what: str) -> np.ndarray:
    """``arr``, after checking that a bool array holds only the bytes 0 and 1."""
    if arr.dtype.kind == "b" and arr.size and arr.view(np.uint8).max() > 1:
        raise _corrupt(name, f"{what} is a bool array holding bytes other than 0 and 1")
    return arr


def _read_npz(fh: IO[bytes], size: int, name: str) -> _Contents:
    try:
        with zipfile.ZipFile(fh) as zf:
            if any(n == "data.pkl" or n.endswith("/data.pkl") for n in zf.namelist()):
                raise _torch_file(name, "was written by torch.save (a zip of pickles)")
            arrays = {}
            for info in _npz_members(zf, size, name):
                arrays[info.filename[:-4]] = _read_npy(zf, info, fh, name)
    except _ZIP_ERRORS as e:
        if isinstance(e, CheckpointError):
            raise
        raise _corrupt(name, f"{type(e).__name__}: {e}") from e
    labels = {key: _label(arr) for key, arr in arrays.items()}
    special = {}
    for key in (_STRUCTURE_KEY, _DIGEST_KEY):
        raw = arrays.pop(key, None)
        labels.pop(key, None)
        if raw is not None and (raw.dtype != np.uint8 or raw.ndim != 1):
            raise _corrupt(name, f"its entry {key!r} has dtype {raw.dtype} and shape {raw.shape}, expected uint8 (n,)")
        special[key] = None if raw is None else raw.tobytes()
    digest = special[_DIGEST_KEY]
    return _Contents(arrays, labels, special[_STRUCTURE_KEY], None if digest is None else digest.decode("latin-1"))


def _npz_members(zf: zipfile.ZipFile, size: int, name: str) -> list[zipfile.ZipInfo]:
    """The archive's entries, after checking what zipfile would otherwise trip over or allocate: .npy
    names, each once; stored or deflated, not encrypted; sizes the file can hold; no overlaps."""
    infos, seen = zf.infolist(), set()
    for info in infos:
        member = info.filename
        problem = None
        if member in seen:
            problem = "appears twice"
        elif not member.endswith(".npy"):
            problem = "is not a .npy array"
        elif info.flag_bits & 0x61:  # 0x01 encrypted, 0x20 patched data, 0x40 strong encryption
            problem = f"is encrypted or patched (zip flags {info.flag_bits:#06x}), which fukaku does not read"
        elif info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            problem = (f"uses compression method {info.compress_type}; fukaku reads stored and deflated entries "
                       "(what np.savez and np.savez_compressed write)")
        elif not 0 <= info.header_offset < size or info.compress_size > size:
            problem = f"lies outside the file ({size} bytes)"
        elif info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            problem = f"is stored, yet declares {info.file_size} bytes in {info.compress_size}"
        elif info.file_size > min(_DEFLATE_MAX_RATIO * info.compress_size + 1024, _MAX_INFLATED_BYTES):
            problem = (f"declares {info.file_size} bytes inflated from {info.compress_size}, beyond deflate's "
                       f"{_DEFLATE_MAX_RATIO}:1 or fukaku's cap of {_MAX_INFLATED_BYTES} bytes")
        if problem:
            raise _corrupt(name, f"its entry {member!r} {problem}")
        seen.add(member)
    ordered = sorted(infos, key=lambda i: i.header_offset)
    for this, following in zip(ordered, [*ordered[1:], None]):
        # a local header (30 bytes and the name), then the data: each entry must end before the next
        # begins (entries sharing bytes would let a small file declare any number of big arrays)
        encoding = "utf-8" if this.flag_bits & 0x800 else "cp437"
        end = this.header_offset + 30 + len(this.orig_filename.encode(encoding)) + this.compress_size
        if end > (zf.start_dir if following is None else following.header_offset):
            raise _corrupt(name, f"its entry {this.filename!r} overlaps the "
                                 f"{'central directory' if following is None else repr(following.filename)}")
    return infos


class _NpyHeader(NamedTuple):
    raw: bytes  # the header's bytes (magic, version, length and the dict), for the CRC-32
    nbytes: int  # the data's bytes: exactly the rest of the entry
    dtype: np.dtype
    shape: tuple[int, ...]
    fortran_order: bool


def _read_npy(zf: zipfile.ZipFile, info: zipfile.ZipInfo, fh: IO[bytes], name: str) -> np.ndarray:
    """One ``.npy`` entry of the archive, read as its format description says, its header checked before
    anything is allocated (see :func:`_npy_header`), then its CRC-32."""
    member = info.filename

    def bad(detail: str) -> CheckpointError:
        return _corrupt(name, f"its entry {member!r} {detail}")

    stored = info.compress_type == zipfile.ZIP_STORED
    with zf.open(info) as entry:  # zipfile checks the local header, and inflates
        header = _npy_header(entry, info.file_size, bad)
        data = None if stored else _read_into(entry, header.nbytes)  # read to its end: zipfile checks the CRC-32
    if stored:  # the bytes straight from the file into the array (no copy through zipfile), then the CRC-32
        fh.seek(info.header_offset)
        local = fh.read(30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise bad("has no local header")
        fh.seek(info.header_offset + 30 + sum(struct.unpack("<HH", local[26:30])) + len(header.raw))
        data = _read_into(fh, header.nbytes)
        if zlib.crc32(data, zlib.crc32(header.raw)) != info.CRC:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {member!r}")
    arr = data.view(header.dtype).reshape(header.shape, order="F" if header.fortran_order else "C")
    return _bools_checked(arr, name, f"its entry {member!r}")


def _npy_header(entry: IO[bytes], file_size: int, bad) -> _NpyHeader:
    """A .npy header: the magic, a known version, a bounded length, and a dict of ``descr`` (a dtype of
    ``_ARRAY_DTYPES``), ``fortran_order`` and ``shape`` whose data is exactly the rest of the entry's
    ``file_size`` bytes. ``bad(detail)`` makes the error."""
    prefix = entry.read(8)
    if len(prefix) < 8 or prefix[:6] != b"\x93NUMPY":
        raise bad("is not a .npy array (no \\x93NUMPY magic)")
    version = (prefix[6], prefix[7])
    if version not in ((1, 0), (2, 0), (3, 0)):
        raise bad(f"has .npy format version {version[0]}.{version[1]} (fukaku reads 1.0, 2.0 and 3.0)")
    width = 2 if version == (1, 0) else 4
    field = entry.read(width)
    if len(field) < width:
        raise bad("ends inside its header")
    length = int.from_bytes(field, "little")
    start = 8 + width + length
    if length > _MAX_NPY_HEADER or start > file_size:
        raise bad(f"declares a {length}-byte header in {file_size} bytes (at most {_MAX_NPY_HEADER})")
    text = entry.read(length)
    if len(text) < length:
        raise bad("ends inside its header")
    try:
        header = ast.literal_eval(text.decode("utf-8" if version == (3, 0) else "latin-1"))
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError) as e:
        raise bad(f"has an unreadable header ({type(e).__name__})") from None
    if not (isinstance(header, dict) and set(header) == {"descr", "fortran_order", "shape"}):
        raise bad("has a header that is not {'descr': ..., 'fortran_order': ..., 'shape': ...}")
    descr, fortran, shape = header["descr"], header["fortran_order"], header["shape"]
    dt = _ARRAY_DTYPES.get(descr) if isinstance(descr, str) else None
    if dt is None:
        raise bad(f"has dtype {str(descr)[:80]!r}; a checkpoint holds bool, integer, floating and complex arrays "
                  "only (string, bytes, datetime, object, structured and void dtypes are refused)")
    if type(fortran) is not bool or not (isinstance(shape, tuple) and _valid_shape(shape)):
        raise bad(f"has a malformed header (fortran_order {fortran!r}, shape {str(shape)[:80]})")
    nbytes = _nbytes(shape, dt.itemsize)
    if nbytes is None or start + nbytes != file_size:
        raise bad(f"declares shape {shape} of {dt} ({'too many' if nbytes is None else nbytes} bytes), but holds "
                  f"{file_size - start} bytes of data")
    return _NpyHeader(prefix + field + text, nbytes, dt, shape, fortran)


def _read_safetensors(fh: IO[bytes], size: int, name: str) -> _Contents:
    """A safetensors file, read as its specification says: the header's length, the JSON header
    ``{name: {"dtype", "shape", "data_offsets"}, "__metadata__": {str: str}}``, then the tensors, whose
    byte ranges must tile the rest of the file exactly."""
    length = int.from_bytes(fh.read(8), "little")
    if length > min(size - 8, _MAX_HEADER_BYTES):
        raise _corrupt(name, f"its safetensors header declares {length} bytes; the file holds {size - 8} after "
                             f"the length (and fukaku reads at most {_MAX_HEADER_BYTES})")
    header = _parse_json(fh.read(length), name, "safetensors header")
    if not isinstance(header, dict):
        raise _corrupt(name, "its safetensors header is not a JSON object")
    metadata = header.pop("__metadata__", {})
    metadata = {} if metadata is None else metadata
    if not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        raise _corrupt(name, "its __metadata__ is not an object of strings")
    entries, unsupported = [], []
    for key, info in header.items():
        if not (isinstance(info, dict) and {"dtype", "shape", "data_offsets"} <= set(info)):
            raise _corrupt(name, f"the tensor {reprlib.repr(key)} lacks dtype, shape or data_offsets")
        code, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if not isinstance(code, str):
            raise _corrupt(name, f"the tensor {reprlib.repr(key)} has the dtype {reprlib.repr(code)}, not a string")
        if code in _UNSUPPORTED_DTYPES:
            unsupported.append((key, code))
            continue
        dt = _SAFETENSORS_DTYPES.get(code)
        if dt is None:
            raise _corrupt(name, f"the tensor {reprlib.repr(key)} has the unknown dtype {str(code)[:40]!r}")
        if not (isinstance(shape, list) and _valid_shape(shape)):
            raise _corrupt(name, f"the tensor {reprlib.repr(key)} has the malformed shape {str(shape)[:80]}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets)
                and 0 <= offsets[0] <= offsets[1]):
            raise _corrupt(name, f"the tensor {reprlib.repr(key)} has the malformed data_offsets {str(offsets)[:80]}")
        nbytes = _nbytes(shape, dt.itemsize)
        if nbytes != offsets[1] - offsets[0]:
            raise _corrupt(name, f"the tensor {reprlib.repr(key)} of shape {shape} and dtype {code} takes "
                                 f"{'too many' if nbytes is None else nbytes} bytes, but its data_offsets "
                                 f"{offsets} span {offsets[1] - offsets[0]}")
        entries.append((offsets[0], offsets[1], key, code, dt, shape))
    if unsupported:
        listed = ", ".join(f"{reprlib.repr(key)} ({_UNSUPPORTED_DTYPES[code]}, safetensors {code})"
                           for key, code in unsupported[:5])
        raise CheckpointError(
            f"fukaku.load: {name!r} holds tensors of an unsupported dtype {_UNSUPPORTED_DTYPES[unsupported[0][1]]} "
            f"— {listed}; fukaku has no float8 or smaller float dtypes. Convert them where PyTorch is installed: "
            "`sd = safetensors.torch.load_file(path); safetensors.torch.save_file({k: v.float() if "
            "v.element_size() == 1 and v.is_floating_point() else v for k, v in sd.items()}, path2)`")
    expected, data_size = 0, size - 8 - length
    for begin, end, key, *_ in sorted(entries, key=lambda e: (e[0], e[1])):
        if begin != expected:
            raise _corrupt(name, f"its tensors' byte ranges do not tile the data: {reprlib.repr(key)} starts at "
                                 f"{begin}, where {expected} was expected")
        expected = end
    if expected != data_size:
        raise _corrupt(name, f"its tensors take {expected} bytes, but the file holds {data_size} after the header")
    arrays, labels, bfloat16 = {}, {}, []
    for begin, _, key, code, dt, shape in sorted(entries, key=lambda e: e[2]):  # by name, as safetensors lists them
        fh.seek(8 + length + begin)
        arrays[key] = _bools_checked(_read_into(fh, dt.itemsize * math.prod(shape)).view(dt).reshape(shape), name,
                                     f"the tensor {reprlib.repr(key)}")
        labels[key] = "bfloat16" if code == "BF16" else dt.str
        if code == "BF16":
            bfloat16.append(key)
    structure, digest = metadata.get(_STRUCTURE_KEY), metadata.get(_DIGEST_KEY)
    if structure is not None:
        try:
            structure = structure.encode("utf-8")
        except UnicodeEncodeError:  # JSON may spell a lone surrogate ("\ud800"), which UTF-8 cannot
            raise _corrupt(name, "its structure is not valid UTF-8") from None
    return _Contents(arrays, labels, structure, digest, tuple(bfloat16))
