"""CIFAR python-version files for the tests, written two independent ways:

- :func:`py2_pickle`: the bytes Python 2's cPickle writes at protocol 2, as the real batches hold
  them (a dict of ``str`` keys, the array through ``numpy.core.multiarray._reconstruct`` with its
  data as one BINSTRING, lists appended in runs of 1,000, every object memoised with BINPUT),
  emitted opcode by opcode from the pickle format description;
- ``pickle.dumps`` of the torchvision dict layout at protocols 2 to 5 (Python 3 and NumPy 2's own
  reductions: ``_codecs.encode``, ``_frombuffer`` with an in-band buffer, frames, MEMOIZE).
"""
from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np

CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


class _Py2Writer:
    def __init__(self) -> None:
        self.out = bytearray(b"\x80\x02")
        self.memo = 0

    def put(self) -> None:
        self.memo += 1
        self.out += b"q" + bytes([self.memo]) if self.memo < 256 else b"r" + struct.pack("<I", self.memo)

    def string(self, s: bytes) -> None:  # Python 2 str
        self.out += (b"U" + bytes([len(s)]) if len(s) < 256 else b"T" + struct.pack("<i", len(s))) + s
        self.put()

    def int(self, v: int) -> None:
        if 0 <= v < 256:
            self.out += b"K" + bytes([v])
        elif 0 <= v < 65536:
            self.out += b"M" + struct.pack("<H", v)
        else:
            self.out += b"J" + struct.pack("<i", v)

    def list(self, items, emit) -> None:
        self.out += b"]"
        self.put()
        for start in range(0, len(items), 1000):
            self.out += b"("
            for item in items[start:start + 1000]:
                emit(item)
            self.out += b"e"

    def array(self, a: np.ndarray) -> None:
        self.out += b"cnumpy.core.multiarray\n_reconstruct\n"
        self.put()
        self.out += b"cnumpy\nndarray\n"
        self.put()
        self.out += b"K\x00\x85"
        self.put()
        self.string(b"b")
        self.out += b"\x87"
        self.put()
        self.out += b"R"
        self.put()
        self.out += b"(K\x01"
        for d in a.shape:
            self.int(d)
        self.out += {1: b"\x85", 2: b"\x86", 3: b"\x87"}[a.ndim]
        self.put()
        self.out += b"cnumpy\ndtype\n"
        self.put()
        self.string(a.dtype.str[1:].encode())
        self.out += b"K\x00K\x01\x87"
        self.put()
        self.out += b"R"
        self.put()
        self.out += b"(K\x03"
        self.string(a.dtype.str[0].encode())
        self.out += b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t"
        self.put()
        self.out += b"b\x89"
        self.string(a.tobytes())
        self.out += b"t"
        self.put()
        self.out += b"b"


def py2_pickle(entries: dict) -> bytes:
    """A dict of bytes keys to bytes, ints, lists of ints or bytes, and uint8 arrays, pickled as
    Python 2's cPickle (protocol 2) pickles such a dict of ``str``."""
    w = _Py2Writer()
    w.out += b"}"
    w.put()
    w.out += b"("
    for key, value in entries.items():
        w.string(key)
        if isinstance(value, np.ndarray):
            w.array(value)
        elif isinstance(value, bytes):
            w.string(value)
        elif isinstance(value, int):
            w.int(value)
        elif all(isinstance(v, int) for v in value):
            w.list(value, w.int)
        else:
            w.list(value, w.string)
    w.out += b"u."
    return bytes(w.out)


def batch_entries(data: np.ndarray, labels: list[int], key: bytes = b"labels", label: bytes = b"batch") -> dict:
    return {b"batch_label": label, key: labels, b"data": data,
            b"filenames": [f"img_{i:05d}.png".encode() for i in range(len(labels))]}


def random_batch(n: int, seed: int, classes: int = 10) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 3072), dtype=np.uint8), rng.integers(0, classes, n).tolist()


def write_cifar10(root: Path, n: int = 6, style: str = "py2", protocol: int = 2) -> dict[str, tuple]:
    """A CIFAR-10 folder under ``root``: five training batches and a test batch of ``n`` images each,
    and the meta file; returns ``{file name: (data, labels)}``."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for k, name in enumerate(["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5",
                              "test_batch"]):
        data, labels = random_batch(n, k)
        entries = batch_entries(data, labels, label=name.encode())
        payload = py2_pickle(entries) if style == "py2" else pickle.dumps(entries, protocol=protocol)
        (folder / name).write_bytes(payload)
        written[name] = (data, labels)
    meta = {b"num_cases_per_batch": n, b"label_names": [s.encode() for s in CIFAR10_NAMES], b"num_vis": 3072}
    (folder / "batches.meta").write_bytes(py2_pickle(meta) if style == "py2" else pickle.dumps(meta, protocol))
    return written
