"""``fukaku.save`` / ``fukaku.load``: checkpoints as safetensors or npz files, never pickle.

A checkpoint is a nested structure — a model's ``state_dict()``, an optimizer's (int keys,
``param_groups``), a scheduler's, the epoch, ``fukaku.get_rng_state()`` — made of dicts, lists,
tuples, Tensors, NumPy arrays and scalars, Python scalars, strings and None. ``save`` splits it in
two: every array goes into the file as a typed binary entry, and the rest (the tree, with each
array replaced by a reference to its entry) becomes a JSON document. Loading therefore runs no
code from the file: unlike ``torch.load`` on a pickle, a checkpoint from an untrusted source can
at worst fail to load.

The path's suffix picks the format:

* ``.safetensors`` — the Hugging Face format (needs the optional ``safetensors`` package). The
  JSON goes into the header's metadata. Arrays are named by their path in the tree, so a model
  state dict saved alone has PyTorch's key names (``0.weight``) and
  ``safetensors.torch.load_file`` reads it as a torch state dict.
* ``.npz`` — NumPy's zip of ``.npy`` files (NumPy only); the JSON is an extra ``uint8`` entry.
  ``numpy.load(path, allow_pickle=False)`` opens it.

Writes are atomic: the file is written under a temporary name in the target's directory,
flushed to disk (fsync), then renamed over the target (``os.replace``). A writer killed half-way
leaves the previous checkpoint intact (and at most an orphaned ``.<name>.*.tmp`` file).
"""
from __future__ import annotations

import errno
import json
import math
import os
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np

from ._atomic import atomic_write
from .tensor import Tensor, wrap

__all__ = ["save", "load", "CheckpointError"]

_FORMAT_VERSION = 1
_STRUCTURE_KEY = "__fukaku_structure__"  # the JSON entry of an .npz and the metadata key of a .safetensors
_SUFFIXES = (".safetensors", ".npz")
# the dtypes safetensors defines (it has no complex, string or object types)
_SAFETENSORS_DTYPES = frozenset(np.dtype(t) for t in (np.bool_, np.uint8, np.int8, np.int16, np.uint16, np.int32,
                                                      np.uint32, np.int64, np.uint64, np.float16, np.float32,
                                                      np.float64))


class CheckpointError(ValueError):
    """A file that ``fukaku.load`` cannot read as a checkpoint (truncated, corrupt, or not one)."""


def _format_of(path: str | os.PathLike, op: str) -> str:
    """'safetensors' or 'npz' from the suffix; a clear error for anything else."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"fukaku.{op}: expected a file path (str or os.PathLike), got {type(path).__name__}; "
                        "file objects are not accepted because writes go through a temporary file and a rename")
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise ValueError(f"fukaku.{op}: cannot tell the format of {os.fspath(path)!r} from its suffix {suffix!r}; "
                         "use a path ending in .safetensors or .npz (fukaku never pickles, so .pt/.pth are not used)")
    return suffix[1:]


# ---------------------------------------------------------------------- structure <-> JSON
# A node of the JSON tree is a JSON scalar (str, int, bool, null, finite float), a JSON array
# (a Python list), or an object with exactly one tag:
#   {"tensor": entry}  {"ndarray": entry}  {"scalar": entry}   an array entry of the file
#   {"tuple": [node, ...]}  {"dict": [[key, value], ...]}      ("ordered": true for an OrderedDict)
#   {"float": "nan" | "inf" | "-inf"}                           (strict JSON has no non-finite numbers)
# Dicts are lists of pairs because JSON object keys are strings and optimizer state has int keys.

class _Encoder:
    def __init__(self, save_format: str) -> None:
        self.format = save_format
        self.arrays: dict[str, np.ndarray] = {}
        self._open: set[int] = set()  # ids of the containers on the current path, to refuse cycles

    def entry(self, arr: np.ndarray, where: list) -> str:
        if arr.dtype.hasobject:
            raise TypeError(f"fukaku.save: the array at {_where(where)} has dtype object, which only pickle can "
                            "store; convert it to a numeric dtype")
        if self.format == "safetensors":
            if arr.dtype.newbyteorder("=") not in _SAFETENSORS_DTYPES:
                raise TypeError(f"fukaku.save: safetensors cannot store dtype {arr.dtype} (the array at "
                                f"{_where(where)}); save to a .npz path instead")
            # safetensors writes the raw buffer: it must be C-contiguous and little-endian
            # (np.ascontiguousarray would turn a 0-d array into shape (1,))
            arr = arr.astype(arr.dtype.newbyteorder("<"), order="C", copy=False)
        base = ".".join(map(str, where)) or "root"
        name, i = base, 1
        while name in self.arrays or name == _STRUCTURE_KEY:
            name, i = f"{base}#{i}", i + 1
        self.arrays[name] = arr
        return name

    def node(self, obj, where: list):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)  # an IntEnum becomes its value
        if isinstance(obj, float):
            return float(obj) if math.isfinite(obj) else {"float": repr(float(obj))}
        if isinstance(obj, Tensor):
            out = {"tensor": self.entry(obj._data, where)}
            if obj.requires_grad:
                out["requires_grad"] = True
            return out
        if isinstance(obj, np.ndarray):
            return {"ndarray": self.entry(obj, where)}
        if isinstance(obj, np.generic):
            return {"scalar": self.entry(np.asarray(obj), where)}
        if isinstance(obj, (dict, list, tuple)):
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
                return {"tuple": items} if isinstance(obj, tuple) else items
            finally:
                self._open.discard(id(obj))
        raise TypeError(f"fukaku.save: cannot save a {type(obj).__name__} (at {_where(where)}); a checkpoint holds "
                        "dicts, lists, tuples, Tensors, NumPy arrays and scalars, Python scalars, strings and None")

    def key(self, key, where: list):
        if key is None or isinstance(key, (bool, int, float, str)):
            return self.node(key, where)
        if isinstance(key, tuple):
            return {"tuple": [self.key(k, where) for k in key]}
        raise TypeError(f"fukaku.save: dict key {key!r} of type {type(key).__name__} at {_where(where)} cannot be "
                        "saved; keys must be str, int, float, bool, None or tuples of those")


def _where(path: list) -> str:
    return "the top level" if not path else "".join(f"[{p!r}]" for p in path)


class _Decoder:
    def __init__(self, arrays: dict[str, np.ndarray], name: str) -> None:
        self.arrays = arrays
        self.used: set[str] = set()
        self.name = name

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
        tags = [k for k in node if k not in ("requires_grad", "ordered")]
        if len(tags) != 1:
            raise self.fail(f"a node must have exactly one tag, got keys {sorted(node)}")
        tag, value = tags[0], node[tags[0]]
        if tag == "tensor":
            t = wrap(self.entry(value))
            if node.get("requires_grad"):
                t.requires_grad_(True)
            return t
        if tag == "ndarray":
            return self.entry(value)
        if tag == "scalar":
            arr = self.entry(value)
            if arr.ndim != 0:
                raise self.fail(f"the scalar entry {value!r} has shape {arr.shape}, expected ()")
            return arr[()]
        if tag == "float":
            if value not in ("nan", "inf", "-inf"):
                raise self.fail(f"bad non-finite float {value!r}")
            return float(value)
        if tag == "tuple" and isinstance(value, list):
            return tuple(self.node(n) for n in value)
        if tag == "dict" and isinstance(value, list):
            out = OrderedDict() if node.get("ordered") else {}
            for pair in value:
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise self.fail(f"a dict item must be a [key, value] pair, got {pair!r}")
                key = self.node(pair[0])
                try:
                    hash(key)
                except TypeError:
                    raise self.fail(f"the dict key {key!r} is not hashable") from None
                out[key] = self.node(pair[1])
            return out
        raise self.fail(f"unknown or malformed node {{{tag!r}: ...}}")


# ---------------------------------------------------------------------- writing
def save(obj, f: str | os.PathLike) -> None:
    """Save ``obj`` (a nested structure, e.g. a checkpoint dict) to ``f``, atomically.

    ``f`` must end in ``.safetensors`` or ``.npz``. Tensors, arrays and NumPy scalars keep their
    dtype and shape; dicts keep their key types (``int`` keys stay ints) and order; tuples stay
    tuples. A Tensor that requires grad comes back requiring grad; a ``Parameter`` comes back as a
    plain Tensor (load it into a module with ``load_state_dict``).

    The structure is checked before the file is touched, so an unsupported object raises
    ``TypeError`` and leaves an existing file at ``f`` as it was.
    """
    save_format = _format_of(f, "save")
    encoder = _Encoder(save_format)
    structure = json.dumps({"fukaku": _FORMAT_VERSION, "root": encoder.node(obj, [])}, allow_nan=False,
                           separators=(",", ":"))
    with atomic_write(f, op="fukaku.save") as fh:
        if save_format == "npz":
            _write_npz(fh, encoder.arrays, structure)
        else:
            _write_safetensors(fh, encoder.arrays, structure)


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
        raise ImportError(f"fukaku.{op}: .safetensors files need the optional 'safetensors' package "
                          "(pip install safetensors), or use a .npz path") from e
    return safetensors, safetensors.numpy


# ---------------------------------------------------------------------- reading
def load(f: str | os.PathLike):
    """Load what :func:`save` wrote to ``f`` (``.safetensors`` or ``.npz``).

    Tensors come back as :class:`fukaku.Tensor`, arrays as ``numpy.ndarray``. A safetensors or npz
    file written by another program (no fukaku structure inside) loads as a flat dict of Tensors
    keyed by entry name — e.g. a torch state dict saved with ``safetensors.torch.save_file``.

    Raises ``FileNotFoundError`` for a missing file and :class:`CheckpointError` (a ``ValueError``)
    naming the file for one that is truncated, corrupt or not a checkpoint.
    """
    load_format = _format_of(f, "load")
    name = os.fspath(f)
    if not os.path.isfile(name):
        raise FileNotFoundError(errno.ENOENT, "fukaku.load: no such checkpoint file", name)
    arrays, structure = (_read_npz if load_format == "npz" else _read_safetensors)(name)
    if structure is None:
        return {key: wrap(arr) for key, arr in arrays.items()}
    try:
        doc = json.loads(structure)
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise _corrupt(name, f"its structure is not valid JSON ({e})") from None
    if not (isinstance(doc, dict) and set(doc) == {"fukaku", "root"}):
        raise _corrupt(name, "its structure lacks the 'fukaku' version and 'root' entries")
    if doc["fukaku"] != _FORMAT_VERSION:
        raise _corrupt(name, f"format version {doc['fukaku']!r}; this fukaku reads version {_FORMAT_VERSION}")
    decoder = _Decoder(arrays, name)
    try:
        obj = decoder.node(doc["root"])
    except RecursionError:
        raise _corrupt(name, "its structure is nested too deeply") from None
    unused = sorted(set(arrays) - decoder.used)
    if unused:
        raise _corrupt(name, f"array entries {unused[:5]} are not part of its structure")
    return obj


def _corrupt(name: str, detail: str) -> CheckpointError:
    return CheckpointError(f"fukaku.load: {name!r} is truncated, corrupt or not a fukaku checkpoint: {detail}")


def _read_npz(name: str) -> tuple[dict[str, np.ndarray], bytes | None]:
    try:
        with np.load(name, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}  # reading each entry checks its CRC
    except (zipfile.BadZipFile, EOFError, ValueError, KeyError) as e:
        raise _corrupt(name, f"{type(e).__name__}: {e}") from e
    raw = arrays.pop(_STRUCTURE_KEY, None)
    if raw is None:
        return arrays, None
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise _corrupt(name, f"its structure entry has dtype {raw.dtype} and shape {raw.shape}, expected uint8 (n,)")
    return arrays, raw.tobytes()  # json.loads decodes (and checks) the UTF-8


def _read_safetensors(name: str) -> tuple[dict[str, np.ndarray], str | None]:
    safetensors, _ = _safetensors("load")
    try:
        with safetensors.safe_open(name, framework="np") as st:
            metadata = st.metadata() or {}
            arrays = {key: st.get_tensor(key) for key in st.keys()}
    except safetensors.SafetensorError as e:
        raise _corrupt(name, str(e)) from e
    return arrays, metadata.get(_STRUCTURE_KEY)
