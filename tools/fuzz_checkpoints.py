#!/usr/bin/env python3
"""Fuzz ``fukaku.load`` with hostile checkpoint files and count the outcomes (issue 8).

    .venv/bin/python tools/fuzz_checkpoints.py                    # the long run: 2,000 variants per format
    .venv/bin/python tools/fuzz_checkpoints.py -n 500 --seed 7 --format safetensors --show 3

Each variant is a file made from a valid one by a seeded mutation. Formats:

  npz                  a file fukaku.save wrote (its npz container), mutated: truncation, bit flips,
                       inserted / deleted bytes; zip fields (compression method, flags — encrypted
                       included —, sizes and zip64 sizes, name and extra lengths, offsets, CRC, the end
                       record); the .npy entries re-zipped with their header edited (shape, dtype,
                       fortran order, version, length), their data changed, entries dropped, doubled,
                       renamed or added; the structure JSON replaced (deeply nested, invalid); and
                       meaning-keeping rewrites that must load: deflated, reordered, commented, .npy 2.0
  safetensors          a .safetensors file fukaku.save wrote, mutated: the generic mutations on the
                       whole file and on the data only; the header length; the header's dtype strings,
                       shapes, offsets, key names, tensors added or removed, its metadata (structure,
                       digest), repeated keys, deep nesting; and meaning-keeping rewrites (key order,
                       padding, extra metadata)
  fileobj              either of those, mutated the same ways, loaded from a binary file object
  npz-foreign          an .npz of numpy.savez / savez_compressed (no structure, no digest), mutated
  safetensors-foreign  a state dict written by safetensors.torch.save_file (float32, float16,
                       bfloat16, integers, bool), mutated
  crafted              fukaku files whose structure JSON is rewritten the way an attacker would, with
                       the digest recomputed (the digest detects damage, not intent): classes and
                       functions named as modules or values (os.system, builtins.eval, subprocess.Popen,
                       a Module subclass whose every method records a call ...), modules as dict keys,
                       nesting up to and past the limit, any node replaced by a hostile one, the version
                       changed; loaded with and without weights_only, with and without an allowlist

Variant ``i`` of a format depends only on ``(seed, format, i)``; ``tests/fuzz/test_fuzz_checkpoints.py``
runs the first few hundred of each. Every outcome falls in one class:

  loaded         a file fukaku wrote: the object saved, bit for bit (types, dtypes, shapes, key types,
                 shared objects); a file of another program: exactly what the reference reads
                 (numpy.lib.format for .npy entries, the safetensors library for safetensors); a
                 crafted file: data only (nothing the allowlist does not allow)
  rejected       CheckpointError (or UnsafeLoadError) naming the file, for a file whose meaning the
                 mutation changed or that the reference finds invalid or beyond a documented limit
  altered        it loaded something else than the above (the silent corruption issue 8 is about)
  refused-valid  it refused a file the reference reads, or a meaning-keeping rewrite, or a crafted
                 file within the limits
  unnamed        the documented error, but its message does not name the file
  unrelated      any other exception
  payload        something named in the file ran: the audit hook saw a process, an import, code
                 executed or a file written during the load, or a recording function or method ran
  unsafe         a crafted file loaded an object that is not data (a callable or module not allowed)
  slow           it took longer than the time limit (a hang)
  memory         its peak of traced memory passed a base (4 MiB) plus 64 bytes per byte of the file plus
                 what its deflated entries may declare within deflate's ratio

Only ``loaded`` and ``rejected`` are correct; the script exits 1 when any other class occurs.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import io
import json
import re
import struct
import sys
import tempfile
import time
import tracemalloc
import warnings
import zipfile
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fuzz_loaders  # noqa: E402  (the dataset fuzzer: its byte mutations, its counting and command line)
from fuzz_loaders import GENERIC, Outcome, _pos, tally  # noqa: E402

import fukaku as fk  # noqa: E402
from fukaku import nn  # noqa: E402
from fukaku.serialization import CheckpointError, safe_globals  # noqa: E402

LOADED, REJECTED = "loaded", "rejected"
BAD = ("altered", "refused-valid", "unnamed", "unrelated", "payload", "unsafe", "slow", "memory")
CLASSES = (LOADED, REJECTED, *BAD)
FORMATS = ("npz", "safetensors", "fileobj", "npz-foreign", "safetensors-foreign", "crafted")

# the documented limits (fukaku/serialization.py), as the reference readers apply them
MAX_DIMS, MAX_DEPTH, MAX_NPY_HEADER = 32, 200, 65_535
ARRAY_DTYPES = {np.dtype(f"{order}{code}").str
                for code in ("b1", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8", "c8", "c16")
                for order in "<>"}
UNSUPPORTED = "unsupported"  # what a reference returns for a valid file holding a dtype fukaku lacks
FLOAT8 = ("F8_E4M3", "F8_E5M2", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2")
SPECIAL = ("__fukaku_structure__", "__fukaku_digest__")


# ------------------------------------------------------------------ payload detection
@dataclass
class _Watch:
    active: bool = False
    events: list = field(default_factory=list)
    calls: list = field(default_factory=list)


WATCH = _Watch()
# audit events that must not happen while a checkpoint loads (open() for writing is checked separately)
FORBIDDEN = ("os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "os.kill", "os.remove",
             "os.rename", "os.rmdir", "os.putenv", "os.chmod", "subprocess.", "exec", "import", "ctypes.",
             "socket.", "pickle.find_class", "marshal.load", "builtins.input", "shutil.", "urllib.", "webbrowser.")
WRITE_FLAGS = 0o1 | 0o2 | 0o100 | 0o1000 | 0o2000  # O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND


def _audit(event: str, args: tuple) -> None:
    if not WATCH.active:
        return
    if event == "open":
        mode, flags = (args + (None, None))[1:3]
        writes = isinstance(mode, str) and any(c in mode for c in "wax+")
        if writes or (isinstance(flags, int) and flags & WRITE_FLAGS):
            WATCH.events.append(f"open {args[0]!r} for writing")
    elif event.startswith(FORBIDDEN):
        WATCH.events.append(event)


sys.addaudithook(_audit)  # for the process's lifetime, but it records only while a load is watched


def payload(*args, **kwargs):
    """Stands for the function an attacker names: if a load ever called it, WATCH.calls would say so."""
    WATCH.calls.append(("payload", args))


class Trap(nn.Module):
    """A Module subclass whose every hook into Python records a call: loading it (allowlisted, or with
    weights_only=False) must run none of them (fukaku rebuilds a module without its class's code)."""

    def __new__(cls, *args, **kwargs):
        WATCH.calls.append(("Trap.__new__", args))
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        WATCH.calls.append(("Trap.__init__", args))
        super().__init__()

    def __setstate__(self, state):
        WATCH.calls.append(("Trap.__setstate__", state))

    def __setattr__(self, name, value):
        WATCH.calls.append(("Trap.__setattr__", name))
        super().__setattr__(name, value)

    def __getattribute__(self, name):
        WATCH.calls.append(("Trap.__getattribute__", name))
        return super().__getattribute__(name)

    def __hash__(self):
        WATCH.calls.append(("Trap.__hash__", ()))
        return 0

    def __eq__(self, other):
        WATCH.calls.append(("Trap.__eq__", ()))
        return True


# ------------------------------------------------------------------ the files mutated
def _tensor(rng: np.random.Generator, dtype: str, shape: tuple) -> fk.Tensor:
    values = rng.normal(0, 3, shape)
    if dtype == "bfloat16":
        return fk.tensor(values.astype(np.float32)).to(fk.bfloat16)
    if dtype == "bool":
        return fk.tensor(values > 0)
    return fk.tensor(values.astype(dtype))


SHAPES = ((), (0,), (3,), (2, 3), (4, 0, 2), (1, 1, 5), (7,))
TENSOR_DTYPES = ("float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool")


def fukaku_object(j: int, fmt: str):
    """Base object ``j``: a state dict, or a checkpoint dict of nearly every kind of value save takes."""
    rng = np.random.default_rng([91, j])

    def state(n: int) -> OrderedDict:
        return OrderedDict((f"layers.{i}.{'weight' if i % 2 else 'bias'}",
                            _tensor(rng, TENSOR_DTYPES[int(rng.integers(len(TENSOR_DTYPES)))],
                                    SHAPES[int(rng.integers(len(SHAPES)))])) for i in range(n))

    if j % 2 == 0:
        return state(int(rng.integers(2, 7)))
    shared = _tensor(rng, "float32", (2, 2))
    fortran = np.asfortranarray(rng.integers(-9, 9, (3, 2)).astype(">i4"))
    obj = {"model": state(3),
           "optimizer": {"state": {0: {"step": fk.tensor(3.0), "exp_avg": _tensor(rng, "float32", (3,))}},
                         "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0], "foreach": None}]},
           "epoch": int(rng.integers(100)), "losses": [0.5, float("nan"), float("inf"), -0.0, 1e-310],
           "name": "run ünï 🐈", "raw": rng.bytes(5), "big": 2 ** 100 + j, "np": [fortran, np.arange(4.0)],
           "scalar": np.float32(1.5), "dtype": fk.float64, "np_dtype": np.dtype("<M8[s]"), "size": fk.Size([2, 3]),
           "device": fk.device("cpu"), "set": {1, "a", (2, 3)}, "frozen": frozenset({-1.5}), "complex": 1 + 2j,
           "param": nn.Parameter(_tensor(rng, "float32", (2,))), "grad": fk.ones(2, requires_grad=True),
           "shared": [shared, shared], "keys": {(1, "a"): 1, 2.5: 2, None: 3, True: 4}}
    if fmt == "npz":
        obj["np"].append(np.array([1 - 2j], np.complex64))  # safetensors has no complex arrays
    return obj


N_BASES = 8


@functools.cache
def fukaku_base(j: int, fmt: str) -> bytes:
    """The bytes fukaku.save writes for base object ``j`` in ``fmt`` ("npz" or "safetensors")."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("base.safetensors" if fmt == "safetensors" else "base.pt")
        fk.save(fukaku_object(j, fmt), path)
        return path.read_bytes()


@functools.cache
def module_base(fmt: str) -> bytes:
    """A whole Module (it needs the allowlist) in ``fmt``."""
    fk.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.BatchNorm1d(4))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("m.safetensors" if fmt == "safetensors" else "m.pt")
        fk.save(model, path)
        return path.read_bytes()


MODULE_CLASSES = (nn.Sequential, nn.Linear, nn.ReLU, nn.BatchNorm1d)
FOREIGN_NP_DTYPES = ("<f4", "<f8", "<f2", "<i8", ">i4", "|u1", "|i1", "<u2", "|b1", "<c8", ">f8")


@functools.cache
def npz_foreign_base(j: int) -> bytes:
    """An .npz of numpy.savez (odd ``j``: savez_compressed): arrays of every dtype, byte order, memory order."""
    rng = np.random.default_rng([92, j])
    arrays = {}
    for i in range(int(rng.integers(1, 6))):
        dtype = np.dtype(FOREIGN_NP_DTYPES[int(rng.integers(len(FOREIGN_NP_DTYPES)))])
        arr = rng.normal(0, 50, SHAPES[int(rng.integers(len(SHAPES)))])
        arr = (arr > 0) if dtype.kind == "b" else arr.astype(dtype)
        arrays[f"array_{i}" if i % 3 else f"w.{i}"] = np.asfortranarray(arr) if arr.ndim == 2 and i % 2 else arr
    buf = io.BytesIO()
    (np.savez_compressed if j % 2 else np.savez)(buf, **arrays)
    return buf.getvalue()


@functools.cache
def safetensors_foreign_base(j: int) -> bytes:
    """A state dict as PyTorch writes it with safetensors.torch: float32, float16, bfloat16, integers, bool."""
    import safetensors.torch
    import torch
    g = torch.Generator().manual_seed(j)
    state = {"weight": torch.randn(3, 4, generator=g), "half": torch.randn(5, generator=g).half(),
             "bf16": torch.randn(2, 3, generator=g).bfloat16(), "steps": torch.randint(-9, 9, (3,), generator=g),
             "mask": torch.rand(4, generator=g) > 0.5, "byte": torch.randint(0, 255, (2, 2), generator=g).byte(),
             "scalar": torch.tensor(2.5, dtype=torch.float64), "empty": torch.zeros(0, 3)}
    keep = sorted(state)[j % 3:]  # different subsets
    return safetensors.torch.save({k: state[k] for k in keep}, metadata={"format": "pt"} if j % 2 else None)


# ------------------------------------------------------------------ independent readers and writers
def split_safetensors(data: bytes) -> tuple[dict, bytes]:
    """The header (a dict, in file order) and the data of a valid safetensors file."""
    n = struct.unpack_from("<Q", data)[0]
    return json.loads(data[8:8 + n], object_pairs_hook=OrderedDict), data[8 + n:]


def join_safetensors(header: dict | str | bytes, body: bytes, pad: bool = True) -> bytes:
    text = header if isinstance(header, bytes) else (
        header if isinstance(header, str) else json.dumps(header, separators=(",", ":"))).encode("utf-8")
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


def zip_entries(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(info.filename, zf.read(info)) for info in zf.infolist()]


def rezip(entries: list[tuple[str, bytes]], compression: int = zipfile.ZIP_STORED, comment: bytes = b"") -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name"
        with zipfile.ZipFile(buf, "w", compression=compression) as zf:
            for name, raw in entries:
                zf.writestr(name, raw)
            zf.comment = comment
    return buf.getvalue()


def split_npy(raw: bytes) -> tuple[tuple[int, int], str, bytes]:
    """(version, header text, data) of a .npy entry, from its format description."""
    version = (raw[6], raw[7])
    width = 2 if version == (1, 0) else 4
    n = int.from_bytes(raw[8:8 + width], "little")
    return version, raw[8 + width:8 + width + n].decode("latin-1"), raw[8 + width + n:]


def join_npy(version: tuple[int, int], header: str, data: bytes, length: int | None = None) -> bytes:
    width = 2 if version == (1, 0) else 4
    text = header.encode("latin-1", "replace")
    size = len(text) if length is None else length
    return b"\x93NUMPY" + bytes(version) + (size % 256 ** width).to_bytes(width, "little") + text + data


def npy_header(descr: str, fortran, shape) -> str:
    return f"{{'descr': {descr!r}, 'fortran_order': {fortran!r}, 'shape': {shape!r}, }}".ljust(118) + "\n"


def digest(structure: bytes, arrays: dict[str, tuple[str, tuple, bytes]]) -> str:
    """The digest of docs/checkpoints.md, written from its description: SHA-256 of a prefix, then the
    structure and each array's JSON [name, dtype, shape] and bytes (names sorted), each part preceded
    by its length as 8 little-endian bytes."""
    h = hashlib.sha256(b"fukaku checkpoint digest 1\n")
    for part in [structure, *(p for name in sorted(arrays) for p in (
            json.dumps([name, arrays[name][0], list(arrays[name][1])]).encode(), arrays[name][2]))]:
        h.update(struct.pack("<Q", len(part)) + part)
    return "sha256:" + h.hexdigest()


SAFETENSORS_LABELS = {"BOOL": "|b1", "U8": "|u1", "I8": "|i1", "I16": "<i2", "U16": "<u2", "I32": "<i4", "U32": "<u4",
                      "I64": "<i8", "U64": "<u8", "F16": "<f2", "F32": "<f4", "F64": "<f8", "C64": "<c8",
                      "BF16": "bfloat16"}


def rebuild(data: bytes, structure: str, extra: dict | None = None) -> bytes:
    """A fukaku file (npz or safetensors, as ``data``) with another structure and its digest recomputed."""
    if data[:2] == b"PK":
        entries = [(n, raw) for n, raw in zip_entries(data) if n[:-4] not in SPECIAL]
        arrays = {}
        for n, raw in entries:
            arr = np.lib.format.read_array(io.BytesIO(raw), allow_pickle=False)
            arrays[n[:-4]] = (arr.dtype.str, arr.shape, np.ascontiguousarray(arr).tobytes())
        text = structure.encode("utf-8")
        special = [(f"{SPECIAL[0]}.npy", _npy_bytes(np.frombuffer(text, np.uint8))),
                   (f"{SPECIAL[1]}.npy", _npy_bytes(np.frombuffer(digest(text, arrays).encode(), np.uint8)))]
        return rezip(special + entries)
    header, body = split_safetensors(data)
    arrays = {k: (SAFETENSORS_LABELS[v["dtype"]], tuple(v["shape"]), body[v["data_offsets"][0]:v["data_offsets"][1]])
              for k, v in header.items() if k != "__metadata__"}
    header["__metadata__"] = {**header.get("__metadata__", {}), SPECIAL[0]: structure,
                              SPECIAL[1]: digest(structure.encode("utf-8"), arrays), **(extra or {})}
    return join_safetensors(header, body)


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def structure_of(data: bytes) -> dict:
    if data[:2] == b"PK":
        return json.loads(split_npy(dict(zip_entries(data))[f"{SPECIAL[0]}.npy"])[2])
    return json.loads(split_safetensors(data)[0]["__metadata__"][SPECIAL[0]])


# ------------------------------------------------------------------ reference readers (the oracle)
def reference_npz(data: bytes) -> dict | None:
    """What an .npz of another program holds, read with zipfile and NumPy's own .npy header reader,
    within fukaku's documented limits; None when it is not one."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            names = [i.filename for i in infos]
            if len(set(names)) != len(names) or any(not n.endswith(".npy") or n[:-4] in SPECIAL for n in names):
                return None
            if any(i.flag_bits & 0x61 or i.compress_type not in (0, 8) for i in infos):
                return None
            if any(i.file_size > min(1032 * i.compress_size + 1024, 1 << 32) for i in infos):
                return None  # beyond deflate's ratio or fukaku's cap
            if any(i.compress_size > len(data) or (i.compress_type == 0 and i.file_size != i.compress_size)
                   for i in infos):
                return None  # an entry that does not lie within the file (zipfile reads by the other size)
            ends = [(i.header_offset, i.header_offset + 30 + len(i.orig_filename.encode(
                "utf-8" if i.flag_bits & 0x800 else "cp437")) + i.compress_size) for i in infos]
            starts = sorted(start for start, _ in ends) + [zf.start_dir]
            if any(end > min(s for s in starts if s > start) for start, end in ends):
                return None  # entries that overlap each other or the central directory (zipfile does not mind)
            out = {}
            for info in infos:
                raw = zf.read(info)  # all of it: checks the CRC-32
                if len(raw) != info.file_size:  # zipfile itself does not check
                    return None
                out[info.filename[:-4]] = ("", _reference_npy(raw))
            return out
    except Exception:  # noqa: BLE001  (the reference only needs to know that it is not a valid file)
        return None


def _reference_npy(raw: bytes) -> np.ndarray:
    """A .npy entry through NumPy's header reader, within the documented dtypes and dimensions; raises
    for anything else."""
    f = io.BytesIO(raw)
    version = np.lib.format.read_magic(f)
    read_header = getattr(np.lib.format, "_read_array_header", None)
    if read_header is None:
        from numpy.lib._format_impl import _read_array_header as read_header  # NumPy 2
    shape, fortran, dtype = read_header(f, version, max_header_size=MAX_NPY_HEADER + 1)
    if dtype.str not in ARRAY_DTYPES or dtype.fields is not None or dtype.subdtype is not None or len(shape) > MAX_DIMS:
        raise ValueError("beyond the documented dtypes or dimensions")
    count = int(np.prod(shape, dtype=object))
    if len(raw) - f.tell() != count * dtype.itemsize:
        raise ValueError("data of another length than the header declares")
    arr = np.frombuffer(raw, dtype, count, offset=f.tell()).reshape(shape, order="F" if fortran else "C")
    if dtype.kind == "b" and arr.size and np.frombuffer(raw, np.uint8, offset=f.tell()).max() > 1:
        raise ValueError("a bool array holding other bytes than 0 and 1")
    return arr


def reference_safetensors(data: bytes) -> dict | str | None:
    """What a safetensors file holds according to the safetensors library (the format's reference
    implementation, through PyTorch), within fukaku's documented limits; ``UNSUPPORTED`` for a valid
    file with float8 tensors; None when it is not one."""
    import safetensors.torch
    import torch
    try:
        tensors = safetensors.torch.load(data)
        n = struct.unpack_from("<Q", data)[0]
        header = json.loads(data[8:8 + n].decode("utf-8"), object_pairs_hook=_no_repeats,
                            parse_constant=_no_constant)
    except Exception:  # noqa: BLE001
        return None
    if not isinstance(header, dict):
        return None
    metadata = header.get("__metadata__") or {}
    if any(key in metadata for key in SPECIAL):
        return None  # a fukaku file (or a foreign file edited to look like one): not a plain foreign file
    infos = {k: v for k, v in header.items() if k != "__metadata__"}
    if any(len(v["shape"]) > MAX_DIMS for v in infos.values()):
        return None
    if any(v["dtype"] in FLOAT8 for v in infos.values()):
        return UNSUPPORTED
    out = {}
    for key, t in tensors.items():
        if t.dtype == torch.bfloat16:
            out[key] = ("bfloat16", t.view(torch.int16).numpy().view(np.uint16))
        else:
            out[key] = ("", t.numpy())
        if t.dtype == torch.bool and t.numel() and t.view(torch.uint8).max() > 1:
            return None
    return out


def _no_repeats(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("repeated key")
    return dict(pairs)


def _no_constant(word):
    raise ValueError(word)


# ------------------------------------------------------------------ comparing what loaded
def _bits(a: np.ndarray) -> bytes:
    """An array's values as little-endian C-order bytes (NaN payloads and -0.0 included)."""
    if a.dtype.kind in "biufc" and a.dtype.byteorder == ">":
        a = a.astype(a.dtype.newbyteorder("<"))
    return np.ascontiguousarray(a).tobytes()


def _same_array(a: np.ndarray, b: np.ndarray, exact_dtype: bool) -> bool:
    dtype_same = a.dtype.str == b.dtype.str if exact_dtype else a.dtype.name == b.dtype.name
    return dtype_same and a.shape == b.shape and _bits(a) == _bits(b)


def differ(expected, got, exact_dtype: bool = True) -> str:
    """'' when ``got`` is ``expected`` as fk.load must return it, else where and how it differs. Shared
    objects must stay shared (and distinct ones distinct)."""
    pairs: dict[int, int] = {}
    pending = [(expected, got, "root")]
    while pending:
        a, b, where = pending.pop()
        t = type(a)
        if isinstance(a, (fk.Tensor, np.ndarray)):
            if pairs.setdefault(id(a), id(b)) != id(b):
                return f"{where}: a shared object came back as two"
        if isinstance(a, fk.Tensor):
            if type(b) is not t or a.dtype is not b.dtype or a.requires_grad != b.requires_grad \
                    or not _same_array(a._data, b._data, exact_dtype):
                return f"{where}: tensor {b!r:.120} instead of {a!r:.120}"
        elif isinstance(a, np.ndarray):
            if type(b) is not np.ndarray or not _same_array(a, b, exact_dtype):
                return f"{where}: array {b!r:.120} instead of {a!r:.120}"
        elif isinstance(a, np.generic):
            if type(b) is not t or not _same_array(np.asarray(a), np.asarray(b), True):
                return f"{where}: {b!r} instead of {a!r}"
        elif isinstance(a, dict):
            if type(b) is not t or [(type(k), k) for k in a] != [(type(k), k) for k in b]:
                return f"{where}: keys {list(b)[:6]} instead of {list(a)[:6]}"
            pending.extend((a[k], b[k], f"{where}[{k!r}]") for k in a)
        elif isinstance(a, (list, tuple)):
            if type(b) is not t or len(a) != len(b):
                return f"{where}: {type(b).__name__} of {len(b) if hasattr(b, '__len__') else '?'} items"
            pending.extend((x, y, f"{where}[{i}]") for i, (x, y) in enumerate(zip(a, b, strict=True)))
        elif isinstance(a, float):
            if type(b) is not float or struct.pack("<d", a) != struct.pack("<d", b):
                return f"{where}: {b!r} instead of {a!r}"
        elif isinstance(a, complex):
            if type(b) is not complex or struct.pack("<dd", a.real, a.imag) != struct.pack("<dd", b.real, b.imag):
                return f"{where}: {b!r} instead of {a!r}"
        elif type(b) is not t or a != b:
            return f"{where}: {b!r:.120} instead of {a!r:.120}"
    return ""


def _data_only(obj, allowed: tuple, weights_only: bool) -> str:
    """'' when ``obj`` holds data only: no callable or module that the allowlist (or weights_only=False,
    for imported Module classes) does not allow. Looks at types only: no method of a loaded object runs."""
    plain = (type(None), bool, int, float, complex, str, bytes, fk.Tensor, nn.Parameter, np.ndarray, fk.Size,
             fk.device, type(fk.float32))
    pending = [obj]
    while pending:
        x = pending.pop()
        t = type(x)
        if t in (dict, OrderedDict):
            pending.extend(x.keys())
            pending.extend(x.values())
        elif t in (list, tuple, set, frozenset):
            pending.extend(x)
        elif t in plain or issubclass(t, (np.generic, np.dtype, type(fk.float32))):
            continue
        elif issubclass(t, nn.Module):
            if t not in allowed and weights_only:
                return f"a {t.__qualname__} module that is not allowed"
        elif not any(x is a for a in allowed):
            return f"a {t.__name__} ({x!r:.80})"
    return ""


# ------------------------------------------------------------------ mutations
Mutation = Callable[[np.random.Generator, bytes], bytes]


def _choice(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _signatures(data: bytes, sig: bytes) -> list[int]:
    out, at = [], data.find(sig)
    while at >= 0:
        out.append(at)
        at = data.find(sig, at + 1)
    return out


def _set_field(data: bytes, at: int, width: int, value: int) -> bytes:
    if at < 0 or at + width > len(data):
        return data
    return data[:at] + (value % 256 ** width).to_bytes(width, "little") + data[at + width:]


# a zip field: (record signature, offset in the record, width)
ZIP_FIELDS = {
    "method": [(b"PK\x03\x04", 8, 2), (b"PK\x01\x02", 10, 2)],
    "flags": [(b"PK\x03\x04", 6, 2), (b"PK\x01\x02", 8, 2)],
    "sizes": [(b"PK\x03\x04", 18, 4), (b"PK\x03\x04", 22, 4), (b"PK\x01\x02", 20, 4), (b"PK\x01\x02", 24, 4)],
    "name length": [(b"PK\x03\x04", 26, 2), (b"PK\x01\x02", 28, 2)],
    "extra length": [(b"PK\x03\x04", 28, 2), (b"PK\x01\x02", 30, 2), (b"PK\x01\x02", 32, 2)],
    "offset": [(b"PK\x01\x02", 42, 4)],
    "crc": [(b"PK\x03\x04", 14, 4), (b"PK\x01\x02", 16, 4)],
    "end record": [(b"PK\x05\x06", 8, 2), (b"PK\x05\x06", 10, 2), (b"PK\x05\x06", 12, 4), (b"PK\x05\x06", 16, 4),
                   (b"PK\x05\x06", 20, 2), (b"PK\x06\x06", 32, 8), (b"PK\x06\x06", 40, 8), (b"PK\x06\x06", 48, 8)],
}
EDGE = (0, 1, 2, 7, 255, 256, 0xFFFF, 0xFFFFFFFF, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 1, 2 ** 40, 2 ** 63 - 1)


def _zip_field(kind: str) -> Mutation:
    def mutate(rng, b):
        sig, offset, width = _choice(rng, ZIP_FIELDS[kind])
        places = _signatures(b, sig)
        if not places:
            return b
        both = kind in ("method", "flags") and rng.random() < 0.5  # local and central headers alike
        old = int.from_bytes(b[places[0] + offset:places[0] + offset + width], "little")
        if kind == "method":
            value = int(_choice(rng, (1, 6, 8, 9, 12, 14, 19, 93, 95, 98, 99, 255, int(rng.integers(65536)))))
        elif kind == "flags":
            value = int(_choice(rng, (0x1, 0x8, 0x20, 0x40, 0x41, 0x800, 0x801, int(rng.integers(65536)))))
        else:
            value = int(_choice(rng, (*EDGE, old + 1, old - 1, old * 2, old + int(rng.integers(1, 64)))))
        chosen = places if both else [_choice(rng, places)]
        for at in chosen:
            b = _set_field(b, at + offset, width, value)
        if both:
            other = _choice(rng, ZIP_FIELDS[kind])
            for at in _signatures(b, other[0]):
                b = _set_field(b, at + other[1], other[2], value)
        return b
    return mutate


def m_zip64_sizes(rng, b):
    """A size in a zip64 extra field (id 0x0001) set to an edge value: a 1 TiB entry, say."""
    places = _signatures(b, b"\x01\x00\x10\x00") + _signatures(b, b"\x01\x00\x18\x00")
    if not places:
        return b
    at = _choice(rng, places) + 4 + 8 * int(rng.integers(2))
    return _set_field(b, at, 8, int(_choice(rng, (*EDGE, 2 ** 40 + 128, 2 ** 64 - 1))))


def m_zip_rename(rng, b):
    """One entry renamed in its local and central headers alike (the same length: the zip stays valid)."""
    entries = zip_entries(b)
    name = _choice(rng, [n for n, _ in entries]).encode()
    new = bytearray(name)
    new[int(rng.integers(len(new)))] = int(_choice(rng, list(b"abcxyz_.019")))
    return b.replace(name, bytes(new))


def _npz_entry_edit(edit: Callable[[np.random.Generator, str, bytes], bytes | None]) -> Mutation:
    """Re-zip the archive with one .npy entry edited (CRC and sizes right: only the .npy is wrong)."""
    def mutate(rng, b):
        entries = zip_entries(b)
        candidates = [i for i, (n, _) in enumerate(entries) if n[:-4] not in SPECIAL] or list(range(len(entries)))
        if not candidates:
            return b
        i = _choice(rng, candidates)
        raw = edit(rng, entries[i][0], entries[i][1])
        if raw is not None:
            entries[i] = (entries[i][0], raw)
        return rezip(entries)
    return mutate


def _header_parts(raw: bytes):
    version, text, data = split_npy(raw)
    d = ast.literal_eval(text)
    return version, d, data


def e_shape(rng, name, raw):
    version, d, data = _header_parts(raw)
    shape = d["shape"]
    new = _choice(rng, [tuple(reversed(shape)), (*shape, 1), shape[:-1], tuple(s + 1 for s in shape), (2 ** 40,),
                        (0, 2 ** 62, 2 ** 62), (-1,), (1,) * 33, (1,) * 32 + shape, ((2,),), (1.5,), "3", None,
                        (len(data),), (len(data) // max(1, np.dtype(d["descr"]).itemsize),)])
    return join_npy(version, npy_header(d["descr"], d["fortran_order"], new), data)


def e_descr(rng, name, raw):
    version, d, data = _header_parts(raw)
    new = _choice(rng, ["<i4", "<f4", "<f8", ">f4", "<u4", "|b1", "<U1", "|S4", "|O", "<M8[s]", "<m8[D]", "|V4",
                        "<f16", "<c32", "bfloat16", "f4,i4", [("a", "<f4")], ("<f4", (2,)), "<i2", "|u1", "", 5])
    return join_npy(version, npy_header(new, d["fortran_order"], d["shape"]), data)


def e_fortran(rng, name, raw):
    version, d, data = _header_parts(raw)
    new = _choice(rng, [not d["fortran_order"], 1, "True", None])
    return join_npy(version, npy_header(d["descr"], new, d["shape"]), data)


def e_header(rng, name, raw):
    version, text, data = split_npy(raw)
    choice = int(rng.integers(9))
    if choice == 0:
        return join_npy(version, text.replace("'shape'", "'shap'"), data)
    if choice == 1:
        return join_npy(version, text.replace("}", "'extra': 1, }"), data)
    if choice == 2:
        return join_npy(version, text[:int(rng.integers(len(text)))], data)
    if choice == 3:
        return join_npy(version, text, data, length=int(_choice(rng, (0, 1, len(text) + 1, 65535, 2 ** 31))))
    if choice == 4:
        return join_npy(version, "(" * 500 + ")" * 500, data)
    if choice == 5:
        return join_npy(version, "__import__('os').system('true')", data)
    if choice == 6:
        return join_npy((int(_choice(rng, (0, 4, 255))), 0), text, data)
    if choice == 7:
        return b"\x93NUMPX" + raw[6:]
    return join_npy(version, "{'descr': '<f4', 'fortran_order': False, 'shape': (" + "9" * 5000 + ",), }", data)


def e_data(rng, name, raw):
    version, text, data = split_npy(raw)
    choice = int(rng.integers(4))
    if choice == 0 and data:
        at = _pos(rng, data)
        return join_npy(version, text, data[:at] + bytes([data[at] ^ (1 << int(rng.integers(8)))]) + data[at + 1:])
    if choice == 1:
        return join_npy(version, text, data[:-1])
    if choice == 2:
        return join_npy(version, text, data + b"\x00" * int(rng.integers(1, 9)))
    return join_npy(version, text, bytes([2]) * len(data))  # a bool array of 2s, a float array of odd values


def e_pickle(rng, name, raw):
    """An object array (a pickle inside the .npy): it must be refused without unpickling."""
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.array([payload, Trap], dtype=object), allow_pickle=True)
    return buf.getvalue()


def _npz_archive(edit: Callable[[np.random.Generator, list], list | bytes]) -> Mutation:
    def mutate(rng, b):
        out = edit(rng, zip_entries(b))
        return out if isinstance(out, bytes) else rezip(out)
    return mutate


def a_drop(rng, entries):
    del entries[int(rng.integers(len(entries)))]
    return entries


def a_double(rng, entries):
    return [*entries, entries[int(rng.integers(len(entries)))]]


def a_add(rng, entries):
    name = _choice(rng, ["extra.npy", "notes.txt", "dir/", "archive/data.pkl", "__fukaku_digest__.npy", "a.npy"])
    return [*entries, (name, _npy_bytes(np.arange(3, dtype=np.float32)))]


def a_structure(rng, entries):
    """The structure entry replaced (its digest no longer matches): deeply nested, invalid, or empty."""
    depth = int(_choice(rng, (201, 1000, 100_000)))
    text = _choice(rng, [b'{"fukaku":3,"root":' + b"[" * depth + b"]" * depth + b"}", b"\xff\xfe{", b"{}", b"null",
                         b'{"fukaku":3,"root":NaN}', b'{"fukaku":3,"fukaku":3,"root":1}'])
    return [(n, _npy_bytes(np.frombuffer(text, np.uint8)) if n[:-4] == SPECIAL[0] else raw) for n, raw in entries]


def a_deflate(rng, entries):
    return rezip(entries, zipfile.ZIP_DEFLATED)


def a_other_compression(rng, entries):
    return rezip(entries, _choice(rng, [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]))


def a_reorder(rng, entries):
    return [entries[int(i)] for i in rng.permutation(len(entries))]


def a_comment(rng, entries):
    return rezip(entries, comment=rng.bytes(int(rng.integers(1, 200))))


def a_npy2(rng, entries):
    out = []
    for n, raw in entries:
        version, text, data = split_npy(raw)
        out.append((n, join_npy((2, 0), text, data)))
    return out


NPZ_MUTATIONS: dict[str, Mutation] = {
    **GENERIC,
    **{f"zip {kind}": _zip_field(kind) for kind in ZIP_FIELDS}, "zip zip64 sizes": m_zip64_sizes,
    "zip rename": m_zip_rename,
    "npy shape": _npz_entry_edit(e_shape), "npy dtype": _npz_entry_edit(e_descr),
    "npy fortran": _npz_entry_edit(e_fortran), "npy header": _npz_entry_edit(e_header),
    "npy data": _npz_entry_edit(e_data), "npy pickle": _npz_entry_edit(e_pickle),
    "entry dropped": _npz_archive(a_drop), "entry doubled": _npz_archive(a_double),
    "entry added": _npz_archive(a_add), "structure replaced": _npz_archive(a_structure),
    "bzip2 or lzma": _npz_archive(a_other_compression),
    "deflated (valid)": _npz_archive(a_deflate), "reordered (valid)": _npz_archive(a_reorder),
    "zip comment (valid)": _npz_archive(a_comment), ".npy 2.0 (valid)": _npz_archive(a_npy2),
    "identity (valid)": lambda rng, b: b,
}


def _safetensors_edit(edit: Callable[[np.random.Generator, OrderedDict, bytes], bytes | None]) -> Mutation:
    def mutate(rng, b):
        header, body = split_safetensors(b)
        out = edit(rng, header, body)
        return join_safetensors(header, body) if out is None else out
    return mutate


def _tensor_key(rng, header) -> str | None:
    keys = [k for k in header if k != "__metadata__"]
    return _choice(rng, keys) if keys else None


def s_dtype(rng, header, body):
    key = _tensor_key(rng, header)
    if key:
        header[key]["dtype"] = _choice(rng, ["F32", "I32", "U32", "F16", "BF16", "I16", "U16", "F64", "I64", "U64",
                                             "U8", "I8", "BOOL", "C64", "F8_E4M3", "F8_E5M2", "F4", "X", "", "f32",
                                             3, None, ["F32"]])


def s_shape(rng, header, body):
    key = _tensor_key(rng, header)
    if key:
        shape = header[key]["shape"]
        header[key]["shape"] = _choice(rng, [shape[::-1], [*shape, 1], shape[:-1], [s + 1 for s in shape], [],
                                             [-1], [1.5], [[2]], [1] * 33, [2 ** 62, 2 ** 62, 0], [2 ** 40], "3",
                                             None, [True], [2 ** 64]])


def s_offsets(rng, header, body):
    key = _tensor_key(rng, header)
    if key:
        b, e = header[key]["data_offsets"]
        other = header[_tensor_key(rng, header)]["data_offsets"]
        k = int(rng.integers(1, 9))
        header[key]["data_offsets"] = _choice(rng, [[b + k, e + k], [b - k, e - k], [b, e + 1], [b, e - 1], [e, b],
                                                    [-1, e], [b, 2 ** 64], [b, e, 0], ["0", e], list(other), [0, 0],
                                                    [b, len(body) + k], [0.0, e], None])


def s_rename(rng, header, body):
    key = _tensor_key(rng, header)
    if key:
        new = key[:-1] + _choice(rng, list("abxz_.0")) if key else "x"
        header[new if new not in header else new + "!"] = header.pop(key)


def s_delete(rng, header, body):
    key = _tensor_key(rng, header)
    if key:
        del header[key]


def s_add(rng, header, body):
    n = len(body)
    header[_choice(rng, ["extra", "__fukaku_digest__", "x"])] = {"dtype": "F32", "shape": [1],
                                                                "data_offsets": _choice(rng, [[n, n + 4], [0, 4]])}
    if rng.random() < 0.5:
        return join_safetensors(header, body + rng.bytes(4))
    return None


def s_metadata(rng, header, body):
    meta = header.setdefault("__metadata__", {})
    choice = int(rng.integers(9))
    if choice == 0:
        del header["__metadata__"]
    elif choice == 1:
        meta.pop(SPECIAL[0], None)
    elif choice == 2:
        meta.pop(SPECIAL[1], None)
    elif choice == 3 and SPECIAL[1] in meta:
        d = meta[SPECIAL[1]]
        at = int(rng.integers(7, len(d)))
        meta[SPECIAL[1]] = d[:at] + ("0" if d[at] != "0" else "1") + d[at + 1:]
    elif choice == 4:
        depth = int(_choice(rng, (201, 5000)))
        meta[SPECIAL[0]] = '{"fukaku":3,"root":' + "[" * depth + "]" * depth + "}"
    elif choice == 5:
        meta["number"] = 5
    elif choice == 6:
        header["__metadata__"] = _choice(rng, [[], "x", {"a": {"b": [1]}}])
    elif choice == 7:
        meta[SPECIAL[0]] = _choice(rng, ["", "null", "[]", '{"fukaku":3}', "\ud800"])
    else:
        meta[SPECIAL[1]] = _choice(rng, ["", "sha256:", "md5:00", "sha256:" + "g" * 64, None])


def s_text(rng, header, body):
    """Edits of the header's text: a repeated key, deep nesting, NaN, trailing garbage, not an object."""
    text = json.dumps(header, separators=(",", ":"))
    key = _tensor_key(rng, header) or "x"
    depth = int(_choice(rng, (100, 201, 10_000, 200_000)))
    new = _choice(rng, [
        "{" + json.dumps(key) + ":" + json.dumps(header.get(key)) + "," + text[1:],  # the key twice
        '{"deep":' + "[" * depth + "]" * depth + "," + text[1:],
        '{"deep":' + '{"a":' * depth + "1" + "}" * depth + "," + text[1:],
        text.replace("]", ",NaN]", 1), text + "xyz", "[" + text + "]", "\ufeff" + text, text[:-1],
        text.replace('"', "'", 2), ])
    return join_safetensors(new.encode("utf-8", "replace"), body, pad=bool(rng.integers(2)))


def s_length(rng, header, body):
    text = json.dumps(header, separators=(",", ":")).encode()
    n = len(text) + (-len(text) % 8)
    value = int(_choice(rng, (0, 1, n - 1, n + 1, n - 8, n + 8, n + len(body), n + len(body) + 1, 2 ** 31, 2 ** 32,
                              2 ** 63, 2 ** 64 - 1, 100_000_001)))
    return struct.pack("<Q", value) + join_safetensors(header, body)[8:]


def s_body(rng, header, body):
    """A generic mutation of the tensors' bytes only (the header intact)."""
    if not body:
        return None
    kind = _choice(rng, ["flip-bits", "set-bytes", "truncate", "append", "delete", "insert"])
    return join_safetensors(header, GENERIC[kind](rng, body))


def s_padding(rng, header, body):
    text = json.dumps(header, separators=(",", ":")) + " " * int(rng.integers(0, 40))
    return join_safetensors(text, body, pad=False)


def s_order(rng, header, body):
    keys = list(header)
    return join_safetensors({keys[int(i)]: header[keys[int(i)]] for i in rng.permutation(len(keys))}, body)


def s_extra_metadata(rng, header, body):
    header.setdefault("__metadata__", {})["note"] = "written by someone else"


SAFETENSORS_MUTATIONS: dict[str, Mutation] = {
    **GENERIC, "header length": _safetensors_edit(s_length), "dtype": _safetensors_edit(s_dtype),
    "shape": _safetensors_edit(s_shape), "data_offsets": _safetensors_edit(s_offsets),
    "key renamed": _safetensors_edit(s_rename), "tensor removed": _safetensors_edit(s_delete),
    "tensor added": _safetensors_edit(s_add), "metadata": _safetensors_edit(s_metadata),
    "header text": _safetensors_edit(s_text), "data bytes": _safetensors_edit(s_body),
    "header padding (valid)": _safetensors_edit(s_padding), "key order (valid)": _safetensors_edit(s_order),
    "extra metadata (valid)": _safetensors_edit(s_extra_metadata), "identity (valid)": lambda rng, b: b,
}

# ------------------------------------------------------------------ crafted structures
# [module, qualified name] pairs an attacker names; __name__ is this tool ("fuzz_checkpoints" or "__main__")
CALLABLES = [["posix", "system"], ["os", "system"], ["builtins", "eval"], ["builtins", "exec"],
             ["builtins", "__import__"], ["subprocess", "Popen"], ["importlib", "import_module"], ["numpy", "load"],
             ["fukaku.serialization", "save"], [__name__, "payload"], [__name__, "Trap"],
             ["fukaku.nn.modules.linear", "Linear"], ["shutil", "rmtree"], ["os", "remove"]]
MODULE_STATE = {"dict": [["_parameters", {"dict": []}], ["_buffers", {"dict": []}], ["_modules", {"dict": []}],
                         ["cmd", f"touch {Path(tempfile.gettempdir()) / 'fukaku-fuzz-pwned'}"]]}


DEEP = {"list": ("[", "]"), "dict": ('{"dict":[["k",', "]]}"), "tuple": ('{"tuple":[', "]}")}  # as text


def _nested(depth: int, kind: str):
    node = 0
    for _ in range(depth):
        node = [node] if kind == "list" else {"dict": [["k", node]]} if kind == "dict" else {"tuple": [node]}
    return node


def _json_depth(node) -> int:
    deepest, pending = 0, [(node, 1)]
    while pending:
        x, d = pending.pop()
        if isinstance(x, (list, dict)):
            deepest = max(deepest, d)
            pending.extend((c, d + 1) for c in (x.values() if isinstance(x, dict) else x))
    return deepest


def hostile_node(rng: np.random.Generator, entries: list[str]):
    """A node an attacker might put anywhere in a structure."""
    entry = _choice(rng, [*entries, "missing", 5, None]) if entries else "missing"
    return _choice(rng, [
        {"module": _choice(rng, CALLABLES), "state": MODULE_STATE}, {"global": _choice(rng, CALLABLES)},
        {"module": "os.system"}, {"global": ["os"]}, {"tensor": entry}, {"ndarray": entry}, {"scalar": entry},
        {"bytes": entry}, {"tensor": entry, "view": _choice(rng, ["bfloat16", "float8", 1])},
        {"tensor": entry, "requires_grad": True, "parameter": True}, {"alias": int(rng.integers(-2, 5))},
        {"alias": True}, {"np_dtype": _choice(rng, ["O", "<U3", "f4,i4", "V8", "(2,)i4", "M8[Y]", 5, "x" * 300,
                                                    "<f4," * 20_000, "(99999999999,)f8"])},
        {"dtype": _choice(rng, ["bfloat16", "float99", "dtype", "__class__", ["float32"]])},
        {"size": _choice(rng, [[-1], [1.5], [2 ** 70], "3", [True]])}, {"float": _choice(rng, ["nan", "1e999", 1])},
        {"complex": _choice(rng, [[1, 2], [True, 1], [{"float": "nan"}, 0], [1]])}, {"set": [[1]]},
        {"frozenset": [{"tuple": [1, [2]]}]}, {"dict": [[[1], 2]]}, {"dict": [["a"]]}, {"dict": "x"},
        {"device": _choice(rng, ["cpu", "cuda:1", "tpu", "", 3, "cuda:" + "9" * 5000])},
        {"tensor": entry, "ndarray": entry},
        {"bogus": 1}, {}, 2 ** 70, "x" * 1000, -0.0, [1, [2, [3]]], {"tuple": [{"module": [__name__, "Trap"],
                                                                              "state": MODULE_STATE}]},
        {"dict": [[{"module": [__name__, "Trap"], "state": MODULE_STATE}, 1]]},
        {"set": [{"module": [__name__, "Trap"], "state": MODULE_STATE}]},
        {"module": [__name__, "Trap"], "state": {"dict": [["_parameters", {"dict": []}], ["_buffers", {"dict": []}],
                                                          ["_modules", {"dict": []}], ["forward", {"global": [
                                                              __name__, "payload"]}]]}},
    ])


def _positions(root) -> list[tuple]:
    """Every (container, key) of the tree, found without recursion."""
    out, pending = [], [root]
    while pending:
        node = pending.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in items:
            out.append((node, key))
            pending.append(child)
    return out


def crafted_variant(rng: np.random.Generator, i: int) -> Variant:
    """A fukaku file with a rewritten structure and a recomputed digest, and how to load it."""
    fmt = _choice(rng, ["npz", "safetensors"])
    kinds = ["deep (valid)", "too deep", "callable as module", "callable as value", "module as key",
             "hostile node", "hostile node", "version", "allowlisted module (valid)"]
    kind = kinds[i % len(kinds)]
    j = int(rng.integers(N_BASES))
    module = kind == "allowlisted module (valid)" or (kind != "deep (valid)" and rng.random() < 0.2)
    base = module_base(fmt) if module else fukaku_base(j, fmt)
    doc = structure_of(base)
    suffix = ".safetensors" if fmt == "safetensors" else ".pt"
    entries = sorted(set(_entries_named(doc["root"])))
    allow: tuple = _choice(rng, [(), (), (Trap,), (payload, Trap, *MODULE_CLASSES), MODULE_CLASSES])
    weights_only, expected, must_reject = bool(rng.integers(2)), None, False
    if kind == "deep (valid)":
        deep = _nested(int(rng.integers(10, MAX_DEPTH - _json_depth(doc["root"]) - 4)), "list")
        doc["root"] = {"tuple": [doc["root"], deep]}
        expected = (deep,)  # checked for its second part; the first is the base object
    elif kind == "too deep":
        depth, nest = int(_choice(rng, (MAX_DEPTH + 1, 500, 5000, 100_000))), _choice(rng, list(DEEP))
        doc["root"] = {"tuple": [doc["root"], "__DEEP__"]}
        opening, closing = DEEP[nest]
        text = json.dumps(doc, separators=(",", ":")).replace('"__DEEP__"', opening * depth + "0" + closing * depth)
        return Variant(kind, rebuild(base, text), suffix, weights_only=weights_only, allow=allow, must_reject=True,
                       crafted=True)
    elif kind == "callable as module":
        doc["root"] = {"tuple": [doc["root"], {"module": _choice(rng, CALLABLES), "state": MODULE_STATE}]}
    elif kind == "callable as value":
        doc["root"] = {"tuple": [doc["root"], {"global": _choice(rng, CALLABLES)}]}
    elif kind == "module as key":
        allow = (Trap, *allow)
        key = {"module": [__name__, "Trap"], "state": MODULE_STATE}
        doc["root"] = {"tuple": [doc["root"], _choice(rng, [{"dict": [[key, 1]]}, {"set": [key]},
                                                           {"frozenset": [{"tuple": [1, key]}]}])]}
        must_reject = True
    elif kind.startswith("hostile node"):
        places = _positions(doc)
        for _ in range(int(rng.integers(1, 4))):
            container, key = places[int(rng.integers(len(places)))]
            container[key] = hostile_node(rng, entries)
    elif kind == "version":
        doc["fukaku"] = _choice(rng, [1, 2, 4, "3", 3.0, True, None, -1, 2 ** 70])
    else:
        allow = MODULE_CLASSES
    return Variant(kind, rebuild(base, json.dumps(doc, separators=(",", ":"))), suffix, expected=expected,
                   weights_only=weights_only, allow=allow, must_reject=must_reject, crafted=True)


def _entries_named(root) -> list[str]:
    names = []
    for container, key in _positions(root):
        if key in ("tensor", "ndarray", "scalar", "bytes") and isinstance(container, dict):
            names.append(container[key])
    return [n for n in names if isinstance(n, str)]


# ------------------------------------------------------------------ variants
@dataclass
class Variant:
    """One hostile file and how to load and judge it."""

    kind: str
    data: bytes
    suffix: str  # of the file's name
    expected: object = None  # a file fukaku wrote: the object it holds
    fukaku_written: bool = False  # judge against ``expected`` (else: the reference readers)
    exact_dtype: bool = True  # npz keeps byte orders; safetensors is little-endian
    source: str = "path"  # "path", or "stream" (an io.BytesIO) / "named stream" (one with a name)
    weights_only: bool = True
    allow: tuple = ()  # allowlisted for the load
    must_reject: bool = False  # beyond a documented limit
    crafted: bool = False

    @property
    def meaning_kept(self) -> bool:
        return self.kind.endswith("(valid)")


def variant(fmt: str, i: int, seed: int = 0) -> Variant:
    """Variant ``i`` of ``fmt``: the mutation kinds in turn, their parameters drawn from a generator
    seeded with ``(seed, format, i)``."""
    rng = np.random.default_rng([seed, FORMATS.index(fmt), i])
    if fmt == "crafted":
        return crafted_variant(rng, i)
    inner = fmt if fmt != "fileobj" else _choice(rng, ["npz", "safetensors"])
    table = NPZ_MUTATIONS if inner.startswith("npz") else SAFETENSORS_MUTATIONS
    kind = list(table)[i % len(table)]
    j = int(rng.integers(N_BASES))
    if inner == "npz-foreign":
        base, expected = npz_foreign_base(j), None
    elif inner == "safetensors-foreign":
        base, expected = safetensors_foreign_base(j), None
    else:
        base, expected = fukaku_base(j, inner), fukaku_object(j, inner)
    data = table[kind](rng, base)
    source = "path" if fmt != "fileobj" else _choice(rng, ["stream", "named stream"])
    return Variant(kind, data, ".safetensors" if inner.startswith("safetensors") else ".pt", expected=expected,
                   fukaku_written=expected is not None, exact_dtype=inner == "npz", source=source)


# ------------------------------------------------------------------ running and judging
class _NamedStream(io.BytesIO):
    name = "fuzz-stream.bin"


def fukaku_marked(data: bytes) -> bool:
    """Whether a file still has fukaku's structure or digest (or cannot be parsed enough to tell). One
    without either — its manifest removed, a coordinated edit no corruption makes — is a plain file of
    another program, and judged as one."""
    try:
        if data[:2] == b"PK":
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                return any(n[:-4] in SPECIAL for n in zf.namelist())
        header, _ = split_safetensors(data)
        return any(key in (header.get("__metadata__") or {}) for key in SPECIAL)
    except Exception:  # noqa: BLE001
        return True


def declared_bytes(data: bytes) -> int:
    """What the deflated entries of a zip may inflate to, as far as deflate's ratio allows: memory a
    loader may spend on a small file (zero for anything else)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return sum(min(i.file_size, 1032 * i.compress_size + 1024) for i in zf.infolist()
                       if i.compress_type == zipfile.ZIP_DEFLATED)
    except Exception:  # noqa: BLE001
        return 0


def _judge_error(v: Variant, error: BaseException, name: str, valid: bool) -> Outcome:
    if not isinstance(error, CheckpointError):
        return Outcome("unrelated", v.kind, f"{type(error).__name__}: {error}"[:300])
    if name not in str(error):
        return Outcome("unnamed", v.kind, str(error)[:300])
    if valid:
        return Outcome("refused-valid", v.kind, str(error)[:300])
    return Outcome(REJECTED, v.kind)


def _judge_foreign(v: Variant, result) -> str:
    ref = (reference_npz if v.data[:2] == b"PK" else reference_safetensors)(v.data)
    if not isinstance(ref, dict):
        return "loaded a file the reference finds invalid or beyond a documented limit"
    ordered = v.data[:2] == b"PK"  # an npz keeps the zip's order; safetensors lists tensors by name
    if not isinstance(result, dict) or (list(result) != list(ref) if ordered else set(result) != set(ref)):
        return f"loaded keys {list(result)[:6]}, the reference {list(ref)[:6]}"
    for key, (label, arr) in ref.items():
        t = result[key]
        if type(t) is not fk.Tensor:
            return f"{key!r} is a {type(t).__name__}"
        got = t._data
        if label == "bfloat16":
            if got.dtype.name != "bfloat16" or got.shape != arr.shape or got.view(np.uint16).tobytes() != arr.tobytes():
                return f"{key!r}: bfloat16 {got.dtype}{got.shape} differs"
        elif not _same_array(arr, got, True):
            return f"{key!r}: {got.dtype}{got.shape} instead of {arr.dtype}{arr.shape} (or other values)"
    return ""


def run_variant(v: Variant, directory: Path, time_limit: float = 2.0, memory_base: int | None = 4 << 20) -> Outcome:
    """Write the variant's file into ``directory``, load it as the variant says, and judge the outcome."""
    for old in directory.iterdir():
        old.unlink()
    path = directory / f"checkpoint{v.suffix}"
    path.write_bytes(v.data)
    marker = Path(tempfile.gettempdir()) / "fukaku-fuzz-pwned"
    if v.source == "path":
        target, name = path, str(path)
    else:
        target = _NamedStream(v.data) if v.source == "named stream" else io.BytesIO(v.data)
        name = _NamedStream.name if v.source == "named stream" else "<file object>"
    events_before, calls_before = len(WATCH.events), len(WATCH.calls)
    if memory_base is not None:
        tracemalloc.start()
    start = time.perf_counter()
    result, error = None, None
    try:
        with warnings.catch_warnings(), safe_globals(list(v.allow)):
            warnings.simplefilter("ignore")
            WATCH.active = True
            try:
                result = fk.load(target, weights_only=v.weights_only)
            finally:
                WATCH.active = False
    except Exception as e:  # noqa: BLE001  (judged below)
        error = e
    finally:
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] if memory_base is not None else 0
        if memory_base is not None:
            tracemalloc.stop()
    ran = WATCH.events[events_before:] + WATCH.calls[calls_before:]
    if ran or marker.exists():
        return Outcome("payload", v.kind, f"{ran[:3]}{' and the marker file' if marker.exists() else ''}")
    if seconds > time_limit:
        return Outcome("slow", v.kind, f"{seconds:.2f} s")
    budget = (memory_base or 0) + 64 * len(v.data) + 3 * declared_bytes(v.data)
    if memory_base is not None and peak > budget:
        return Outcome("memory", v.kind, f"peak {peak / 2 ** 20:.1f} MiB, budget {budget / 2 ** 20:.1f} MiB")
    if v.crafted:
        valid = v.meaning_kept
        if error is not None:
            return _judge_error(v, error, name, valid)
        if v.must_reject:
            return Outcome("altered", v.kind, "loaded a file beyond a documented limit")
        why = _data_only(result, v.allow, v.weights_only)
        if why:
            return Outcome("unsafe", v.kind, why)
        if v.expected is not None and differ(v.expected, result[1:]):
            return Outcome("altered", v.kind, differ(v.expected, result[1:]))
        return Outcome(LOADED, v.kind)
    if v.fukaku_written and fukaku_marked(v.data):
        if error is not None:
            return _judge_error(v, error, name, v.meaning_kept)
        why = differ(v.expected, result, v.exact_dtype)
        return Outcome("altered", v.kind, why) if why else Outcome(LOADED, v.kind)
    if error is not None:
        ref = (reference_npz if v.data[:2] == b"PK" else reference_safetensors)(v.data)
        return _judge_error(v, error, name, isinstance(ref, dict))
    why = _judge_foreign(v, result)
    return Outcome("altered", v.kind, why) if why else Outcome(LOADED, v.kind)


def warm_up() -> None:
    """Load a file of each kind once, unwatched: the imports a first load makes are not payloads."""
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("npz", "safetensors"):
            run_variant(Variant("warm-up", fukaku_base(0, fmt), ".pt"), Path(tmp), memory_base=None)
        with safe_globals(list(MODULE_CLASSES)):
            fk.load(io.BytesIO(module_base("npz")))
        fk.load(io.BytesIO(safetensors_foreign_base(0)))
        reference_safetensors(safetensors_foreign_base(0))


def fuzz(fmt: str, n: int, seed: int = 0, directory: Path | None = None, time_limit: float = 2.0,
         memory_base: int | None = 4 << 20) -> tuple[Counter, list[Outcome], Counter]:
    """Run variants ``0 .. n-1`` of ``fmt``; return the counts per class, the bad outcomes, and the
    counts per mutation kind."""
    warm_up()
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(directory or tmp) / re.sub(r"\W", "_", fmt)
        where.mkdir(parents=True, exist_ok=True)

        def one(i: int) -> tuple[str, Outcome]:
            v = variant(fmt, i, seed)
            return v.kind, run_variant(v, where, time_limit, memory_base)
        return tally(n, one, BAD)


def main(argv: list[str] | None = None) -> int:
    return fuzz_loaders.main(argv, doc=__doc__, formats=FORMATS, classes=CLASSES, bad_classes=BAD, run=fuzz,
                             default_variants=2000)


if __name__ == "__main__":
    sys.exit(main())
