"""Hostile and damaged CIFAR batches (issue 8, issue 9): 300 seeded mutations of valid batch files must
each load exactly what a reference reads from the same bytes, or raise ``DatasetFormatError`` naming
the file, and nothing else: within a time limit, a memory budget, running no code and importing no
module.

The valid files are written four ways (Python 2's cPickle layout of the real batches, and
``pickle.dumps`` at protocols 2, 4 and 5). The mutations: truncation, bit flips, inserted and
deleted bytes, an opcode's argument set to edge values (lengths of 2³¹ − 1 or 2⁶⁴ − 1, huge
shapes), opcodes swapped for other opcodes, globals swapped for ``os.system`` and friends, payload
objects whose ``__reduce__`` runs a shell command, dtypes swapped (object, void, unicode …), shapes
changed, and chunks of the file spliced elsewhere. Variant ``i`` depends only on ``(SEED, i)``.

The reference is ``pickle.loads`` with an unpickler that finds only NumPy's reconstruction
functions; it runs only on files the loader accepted (which therefore hold nothing else).
"""
from __future__ import annotations

import importlib.util
import io
import os
import pickle
import pickletools
import sys
import time
import tracemalloc
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

import fukaku.datasets as D
from fukaku.vision.datasets import read_cifar_batch


def _load(name: str):
    path = Path(__file__).resolve().parents[1] / "vision" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"fuzz_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cf = _load("cifar_files")
SEED = 0
N_VARIANTS = 300
FORMATS = ("py2", "p2", "p4", "p5")
MUTATIONS = ("truncate", "flip", "insert", "delete", "field", "opcode", "global", "payload", "dtype", "shape",
             "splice")
TIME_LIMIT = 2.0  # seconds per file (a valid one takes milliseconds)
EDGE = (0, 1, 2, 3, 255, 256, 3071, 3072, 65535, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 63 - 1, 2 ** 64 - 1)
HOSTILE_GLOBALS = (b"os\nsystem\n", b"posix\nsystem\n", b"builtins\neval\n", b"subprocess\nPopen\n",
                   b"numpy\nload\n", b"__builtin__\nexec\n", b"numpy.testing\n_private\n")
DTYPES = (b"O8", b"V8", b"U3", b"S4", b"M8", b"c16", b"f8", b"i8", b"b1", b"u2", b"O", b"f16")
LOADED, REJECTED = "loaded", "rejected"


def base_file(fmt: str) -> tuple[bytes, np.ndarray, list[int]]:
    data, labels = cf.random_batch(3, seed=FORMATS.index(fmt))
    entries = cf.batch_entries(data, labels)
    payload = cf.py2_pickle(entries) if fmt == "py2" else pickle.dumps(entries, protocol=int(fmt[1]))
    return payload, data, labels


class _Shell:
    """An object whose unpickling runs a shell command that creates ``marker``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def _opcode_positions(payload: bytes) -> list[tuple[int, int]]:
    """(position, argument length) of each opcode of a valid pickle."""
    ops = list(pickletools.genops(payload))
    return [(pos, (ops[k + 1][2] if k + 1 < len(ops) else len(payload)) - pos - 1) for k, (_, _, pos) in enumerate(ops)]


def variant(i: int, marker: Path) -> tuple[str, str, bytes]:
    """Variant ``i``: (format, mutation, bytes)."""
    rng = np.random.default_rng([SEED, i])
    fmt, kind = FORMATS[i % len(FORMATS)], MUTATIONS[(i // len(FORMATS)) % len(MUTATIONS)]
    payload, data, labels = base_file(fmt)
    b = bytearray(payload)
    n = len(b)
    if kind == "truncate":
        b = b[:int(rng.integers(0, n))]
    elif kind == "flip":
        for _ in range(int(rng.integers(1, 9))):
            b[int(rng.integers(0, n))] ^= 1 << int(rng.integers(0, 8))
    elif kind == "insert":
        at = int(rng.integers(0, n + 1))
        b[at:at] = rng.integers(0, 256, int(rng.integers(1, 17)), dtype=np.uint8).tobytes()
    elif kind == "delete":
        at = int(rng.integers(0, n))
        del b[at:at + int(rng.integers(1, 17))]
    elif kind == "field":  # an opcode's argument bytes set to an edge value
        positions = [(p, k) for p, k in _opcode_positions(payload) if 1 <= k <= 8]
        pos, size = positions[int(rng.integers(0, len(positions)))]
        value = int(EDGE[int(rng.integers(0, len(EDGE)))]) % (1 << (8 * size))
        b[pos + 1:pos + 1 + size] = value.to_bytes(size, "little")
    elif kind == "opcode":
        positions = _opcode_positions(payload)
        pos, _ = positions[int(rng.integers(0, len(positions)))]
        b[pos] = int(rng.integers(0, 256))
    elif kind == "global":
        names = [b"numpy\ndtype\n", b"numpy\nndarray\n", b"numpy.core.multiarray\n_reconstruct\n",
                 b"numpy._core.multiarray\n_reconstruct\n"]
        hostile = HOSTILE_GLOBALS[int(rng.integers(0, len(HOSTILE_GLOBALS)))]
        for name in names:
            b = b.replace(name, hostile)
        if b == bytearray(payload):  # protocol 4/5: names are pushed as texts
            for name in (b"numpy", b"_frombuffer", b"dtype"):
                b = b.replace(b"\x8c" + bytes([len(name)]) + name, b"\x8c\x02os" if name == b"numpy" else
                              b"\x8c\x06system")
    elif kind == "payload":
        entries = cf.batch_entries(data, labels)
        entries[b"filenames"] = [_Shell(str(marker))]
        b = bytearray(pickle.dumps(entries, protocol=[2, 3, 4, 5][int(rng.integers(0, 4))]))
    elif kind == "dtype":
        new = DTYPES[int(rng.integers(0, len(DTYPES)))]
        b = b.replace(b"u1", new[:2].ljust(2, b"8")) if len(new) <= 2 else b.replace(b"\x02\x00\x00\x00u1", b"\x03\x00\x00\x00" + new)
    elif kind == "shape":  # the array's row count or width set to an edge value
        value = int(EDGE[int(rng.integers(0, len(EDGE)))])
        target = b"K\x03M\x00\x0c" if b"K\x03M\x00\x0c" in b else b"K\x03M\x00\x0c"
        width = value if rng.random() < 0.5 else 3072
        rows = 3 if width != 3072 else value
        encode = (lambda v: b"K" + bytes([v]) if v < 256 else b"M" + v.to_bytes(2, "little") if v < 65536
                  else b"J" + (v % 2 ** 32).to_bytes(4, "little") if v < 2 ** 32 else b"\x8a\x09" + v.to_bytes(9, "little"))
        b = b.replace(target, encode(rows) + encode(width), 1)
    elif kind == "splice":
        start, length = int(rng.integers(0, n)), int(rng.integers(1, 64))
        chunk = b[start:start + length]
        at = int(rng.integers(0, n))
        b[at:at] = chunk
    return fmt, kind, bytes(b)


class _Finder(pickle.Unpickler):
    """The reference: real unpickling with only NumPy's reconstruction functions findable."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.numeric", "_frombuffer"),
               ("numpy._core.numeric", "_frombuffer"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return super().find_class(module.replace("numpy.core", "numpy._core"), name)


def reference(payload: bytes) -> tuple[np.ndarray, list[int]] | None:
    """What the bytes hold as a CIFAR batch per the reference unpickler, or None if they do not."""
    try:
        with warnings.catch_warnings():  # NumPy 2.4 deprecates the integer flags Python 2 pickles hold
            warnings.simplefilter("ignore")
            value = _Finder(io.BytesIO(payload), encoding="bytes").load()
    except Exception:  # noqa: BLE001 - anything the reference refuses is "not a batch"
        return None
    if not isinstance(value, dict):
        return None
    value = {k.decode("latin-1") if isinstance(k, bytes) else k: v for k, v in value.items()}
    data, labels = value.get("data"), value.get("labels")
    if (not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072
            or not isinstance(labels, list) or len(labels) != len(data)
            or not all(type(v) is int and 0 <= v < 10 for v in labels)):
        return None
    return data, labels


def judge(path: Path, payload: bytes, loader=read_cifar_batch) -> tuple[str, str]:
    """(outcome class, detail) of loading ``payload`` from ``path``."""
    path.write_bytes(payload)
    modules = set(sys.modules)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        got = loader(path)
        outcome = None
    except D.DatasetFormatError as e:
        got, outcome = None, (REJECTED, str(e)) if str(path) in str(e) else ("unnamed", str(e))
    except Exception as e:  # noqa: BLE001 - the class under test
        got, outcome = None, ("unrelated", f"{type(e).__name__}: {e}")
    finally:
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    budget = (4 << 20) + 64 * len(payload)
    if elapsed > TIME_LIMIT:
        return "slow", f"{elapsed:.1f} s"
    if peak > budget:
        return "memory", f"peak {peak} bytes > budget {budget}"
    new = set(sys.modules) - modules
    if new:
        return "imported", ", ".join(sorted(new))
    if outcome is not None:
        return outcome
    ref = reference(payload)
    if ref is None:
        return "mismatch", "loaded a file the reference does not read as a CIFAR batch"
    data, labels = got
    want = ref[0].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    if data.shape != want.shape or not np.array_equal(data, want) or labels.tolist() != ref[1]:
        return "mismatch", "loaded other values than the reference reads"
    return LOADED, ""


def fuzz(directory: Path, n: int = N_VARIANTS, loader=read_cifar_batch) -> tuple[Counter, list, Path]:
    marker = directory / "code-ran"
    counts, bad = Counter(), []
    for i in range(n):
        fmt, kind, payload = variant(i, marker)
        cls, detail = judge(directory / f"batch_{i}", payload, loader)
        counts[cls] += 1
        if cls not in (LOADED, REJECTED):
            bad.append(f"variant {i} ({fmt}, {kind}): {cls}: {detail[:300]}")
    return counts, bad, marker


def test_mutated_batches_load_exactly_or_raise_the_documented_error(tmp_path):
    counts, bad, marker = fuzz(tmp_path)
    assert not bad, f"{len(bad)} of {N_VARIANTS} variants went wrong:\n" + "\n".join(bad[:10])
    assert not marker.exists(), "a payload ran"
    assert sum(counts.values()) == N_VARIANTS
    # neither side is vacuous: mutations that keep a batch valid load, most are refused
    assert counts[LOADED] >= 15 and counts[REJECTED] >= N_VARIANTS // 2, counts


def test_every_mutation_and_format_occurs():
    seen = {(FORMATS[i % len(FORMATS)], MUTATIONS[(i // len(FORMATS)) % len(MUTATIONS)]) for i in range(N_VARIANTS)}
    assert seen == {(f, m) for f in FORMATS for m in MUTATIONS}


def test_the_judge_catches_a_loader_that_goes_wrong(tmp_path):
    """The oracle is not vacuous: pickle.load (runs the payload, imports modules), a loader of
    zeros, one raising something else, and one whose error forgets the file are each caught."""
    marker = tmp_path / "code-ran"
    payload_variant = next(i for i in range(N_VARIANTS) if MUTATIONS[(i // len(FORMATS)) % len(MUTATIONS)] == "payload")
    _, _, hostile = variant(payload_variant, marker)

    def unsafe(path):
        with open(path, "rb") as f:
            return pickle.load(f, encoding="bytes")
    cls, _ = judge(tmp_path / "a", hostile, unsafe)
    assert cls in ("unrelated", "imported", "mismatch") and marker.exists()
    valid, data, _ = base_file("py2")
    assert judge(tmp_path / "b", valid)[0] == LOADED
    assert judge(tmp_path / "b", valid, lambda p: (np.zeros((3, 32, 32, 3), np.uint8), np.zeros(3, int)))[0] == "mismatch"

    def wrong_error(path):
        raise KeyError("data")

    def unnamed(path):
        raise D.DatasetFormatError("bad file")
    assert judge(tmp_path / "b", valid, wrong_error)[0] == "unrelated"
    assert judge(tmp_path / "b", valid, unnamed)[0] == "unnamed"


if __name__ == "__main__":  # the long run: python tests/fuzz/test_fuzz_cifar.py [N]
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        total = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
        found, problems, ran = fuzz(Path(d), total)
        print(dict(found), "payload ran" if ran.exists() else "no payload ran")
        print("\n".join(problems[:20]))
        sys.exit(1 if problems or ran.exists() else 0)
