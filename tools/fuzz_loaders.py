#!/usr/bin/env python3
"""Fuzz fukaku's dataset loaders with hostile files and count the outcomes (issue 8).

    .venv/bin/python tools/fuzz_loaders.py                    # the long run: 3,000 variants per format
    .venv/bin/python tools/fuzz_loaders.py -n 500 --seed 7 --format idx-gz --show 3

Each variant is a file (or, for ``mnist``, a directory of two files) made from a valid one by a seeded
mutation: truncation, bit flips, inserted or deleted bytes, header fields set to edge values (huge
sizes, zero, too many dimensions), wrong magic numbers, gzip streams torn, flagged, padded, split
into members or inflating far past their header (small gzip bombs), invalid UTF-8, long words.
Variant ``i`` of a format depends only on ``(seed, format, i)``, so a run is reproducible and
``tests/fuzz/test_fuzz_datasets.py`` runs the first few hundred of each format.

Every outcome is judged against an independent reference reader written from the format description
(IDX: ``gzip.decompress`` and ``struct``; text: ``bytes.decode`` and ``str.split``) that says what the
file holds, and falls in one class:

  loaded         the loader returned exactly what the reference reads from the same bytes
  rejected       it raised the documented error (DatasetFormatError), naming the file, and the
                 reference finds the file invalid or beyond a documented limit
  mismatch       it loaded something else than the reference reads, or loaded an invalid file
  refused-valid  it raised the documented error for a file the reference reads
  unnamed        the documented error, but its message does not name the file
  unrelated      any other exception (the bug class issue 8 is about)
  slow           it took longer than the time limit (a hang)
  memory         its peak of traced memory (tracemalloc) passed the variant's budget: a base (4 MiB)
                 plus 64 bytes per byte of the files plus 10 per byte of data the IDX headers declare
                 within what the file can hold (an allocation that follows a stream, not its header)

Only ``loaded`` and ``rejected`` are correct; the script exits 1 when any other class occurs.
"""
from __future__ import annotations

import argparse
import gzip
import io
import re
import struct
import sys
import tempfile
import time
import tracemalloc
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import fukaku.datasets as D

LOADED, REJECTED = "loaded", "rejected"
BAD = ("mismatch", "refused-valid", "unnamed", "unrelated", "slow", "memory")
CLASSES = (LOADED, REJECTED, *BAD)
FORMATS = ("idx", "idx-gz", "mnist", "text-char", "text-word")

# the IDX format description: element type code -> big-endian dtype
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
MAX_DIMS = 32  # fukaku's documented limit on an IDX file's dimensions
EDGE_SIZES = (0, 1, 2, 3, 7, 255, 256, 65535, 65536, 2 ** 24, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1)


# ------------------------------------------------------------------ building files
def idx_bytes(array: np.ndarray, code: int | None = None) -> bytes:
    """An IDX file written from the format description, independently of fukaku's reader."""
    if code is None:
        code = next(c for c, t in IDX_TYPES.items() if np.dtype(t).newbyteorder("=") == array.dtype)
    head = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return head + array.astype(IDX_TYPES[code]).tobytes()


def gzip_bytes(data: bytes, level: int = 6, name: str | None = None) -> bytes:
    """A one-member gzip stream of ``data`` (with the FNAME field when ``name`` is given)."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename=name or "", fileobj=buf, mode="wb", compresslevel=level, mtime=0) as f:
        f.write(data)
    return buf.getvalue()


def write_gzip_bomb(path: str | Path, labels: int = 5, inflated: int = 1 << 30, piece: int = 1 << 20) -> int:
    """Write a gzip file whose IDX header declares ``labels`` labels (magic 0x00000801) but whose one
    member inflates to ``inflated`` bytes or a little more (the header and labels, then ``piece``s of
    zeros); return the file's size.

    Streamed: the zeros are deflated a ``piece`` at a time with a full flush after each, which makes
    every piece's compressed bytes the same, so 1 GiB costs one MiB of compression and a CRC pass,
    never the inflated stream in memory. The CRC-32 and length fields are right: ``gzip.decompress``
    accepts the file (after inflating all of it). 1 GiB gives a file of about 1.06 MB.
    """
    first = struct.pack(">BBBBI", 0, 0, 0x08, 1, labels) + bytes(i % 10 for i in range(labels))
    zeros = bytes(piece)
    count = max(0, -(-(inflated - len(first)) // piece))
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS, 9)
    crc = zlib.crc32(first)
    with open(path, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00" + bytes(4) + b"\x02\xff")  # magic, deflate, no flags, mtime 0, best, unknown OS
        f.write(deflate.compress(first) + deflate.flush(zlib.Z_FULL_FLUSH))
        block, repeats = b"", False
        for _ in range(count):
            if not repeats:  # a full flush resets the compressor: once a piece's bytes repeat, they always do
                new = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
                block, repeats = new, new == block
            f.write(block)
            crc = zlib.crc32(zeros, crc)
        f.write(deflate.flush())
        f.write(struct.pack("<II", crc, (len(first) + count * piece) & 0xFFFFFFFF))
        return f.tell()


# ------------------------------------------------------------------ reference readers (the oracle)
def reference_idx(data: bytes, max_bytes: int = D.MAX_IDX_BYTES) -> np.ndarray | None:
    """What an IDX file holds according to the format description and fukaku's documented limits
    (at most ``MAX_DIMS`` dimensions, ``max_bytes`` of data, an array NumPy can shape), or None."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)  # one-shot: fine for the small variants made here
        except Exception:  # noqa: BLE001  (the reference only needs to know that it is not gzip)
            return None
    if len(data) < 4 or data[0] or data[1] or data[2] not in IDX_TYPES or not 1 <= data[3] <= MAX_DIMS:
        return None
    ndim, dtype = data[3], np.dtype(IDX_TYPES[data[2]])
    if len(data) < 4 + 4 * ndim:
        return None
    dims = struct.unpack_from(f">{ndim}I", data, 4)
    size = int(np.prod(dims, dtype=object)) * dtype.itemsize
    nonzero = int(np.prod([d for d in dims if d] or [1], dtype=object)) * dtype.itemsize
    if size != len(data) - 4 - 4 * ndim or size > max_bytes or nonzero > np.iinfo(np.intp).max:
        return None
    return np.frombuffer(data, dtype, offset=4 + 4 * ndim).reshape(dims).astype(dtype.newbyteorder("="))


def reference_mnist(images: bytes, labels: bytes) -> tuple[np.ndarray, np.ndarray] | None:
    """The (uint8 images, int64 labels) of an MNIST pair, or None when the pair is not valid MNIST."""
    x, y = reference_idx(images), reference_idx(labels)
    if x is None or y is None or x.dtype != np.uint8 or y.dtype != np.uint8 or x.ndim != 3 or y.ndim != 1:
        return None
    if len(x) != len(y) or (y.size and y.max() > 9):
        return None
    return x, y.astype(np.int64)


def reference_text(data: bytes, level: str) -> list[str] | None:
    """The tokens of a UTF-8 text file (newlines translated as open() does), or None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    tokens = list(text) if level == "char" else text.split()
    return tokens or None


def declared_bytes(data: bytes) -> int:
    """The data size an IDX file's header declares, when the file could hold it (raw: its size;
    gzip: 1032 times its size, deflate's largest ratio); else 0. What a reader may allocate."""
    limit = len(data)
    if data[:2] == b"\x1f\x8b":
        limit *= 1032
        try:
            data = zlib.decompressobj(31).decompress(data, 4 + 4 * 255)  # the header only: bounded
        except zlib.error:
            return 0
    if len(data) < 4 or data[2] not in IDX_TYPES or not 1 <= data[3] <= MAX_DIMS or len(data) < 4 + 4 * data[3]:
        return 0
    dims = struct.unpack_from(f">{data[3]}I", data, 4)
    size = int(np.prod(dims, dtype=object)) * np.dtype(IDX_TYPES[data[2]]).itemsize
    return size if size <= limit else 0


def memory_budget(v: Variant, base: int) -> int:
    """The traced memory a correct loader may peak at on variant ``v`` (see the module docstring)."""
    return base + sum(64 * len(b) + 10 * declared_bytes(b) for b in v.files.values())


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()  # NaN payloads included


# ------------------------------------------------------------------ mutations
Mutation = Callable[[np.random.Generator, bytes], bytes]


def _pos(rng: np.random.Generator, data: bytes, end: bool = False) -> int:
    return int(rng.integers(0, len(data) + (1 if end else 0))) if data or end else 0


def m_truncate(rng, b):
    return b[:_pos(rng, b, end=True)]


def m_flip_bits(rng, b):
    out = bytearray(b)
    for _ in range(int(rng.integers(1, 9)) if out else 0):
        out[_pos(rng, b)] ^= 1 << int(rng.integers(8))
    return bytes(out)


def m_set_bytes(rng, b):
    out = bytearray(b)
    for _ in range(int(rng.integers(1, 9)) if out else 0):
        out[_pos(rng, b)] = int(rng.integers(256))
    return bytes(out)


def m_insert(rng, b):
    at = _pos(rng, b, end=True)
    return b[:at] + rng.bytes(int(rng.integers(1, 65))) + b[at:]


def m_delete(rng, b):
    at = _pos(rng, b, end=True)
    return b[:at] + b[at + int(rng.integers(1, 65)):]


def m_duplicate(rng, b):
    at = _pos(rng, b, end=True)
    return b[:at] + b[at:at + int(rng.integers(1, 129))] + b[at:]


def m_append(rng, b):
    return b + rng.bytes(int(rng.integers(1, 257)))


def m_garbage(rng, b):
    return rng.bytes(int(rng.integers(0, 513)))


GENERIC: dict[str, Mutation] = {"truncate": m_truncate, "flip-bits": m_flip_bits, "set-bytes": m_set_bytes,
                                "insert": m_insert, "delete": m_delete, "duplicate": m_duplicate,
                                "append": m_append, "garbage": m_garbage}


def _ndim(b: bytes) -> int:
    return b[3] if len(b) > 3 else 0


def m_type(rng, b):
    code = int(rng.choice([*IDX_TYPES, int(rng.integers(256))]))
    return b[:2] + bytes([code]) + b[3:] if len(b) >= 4 else b


def m_ndim(rng, b):
    ndim = int(rng.choice([0, max(0, _ndim(b) - 1), min(255, _ndim(b) + 1), MAX_DIMS, MAX_DIMS + 1, 64, 65, 255,
                           int(rng.integers(256))]))
    return b[:3] + bytes([ndim]) + b[4:] if len(b) >= 4 else b


def m_dim(rng, b):
    """One declared size set to an edge value (0, 2**31, 2**32 - 1, ...) or nudged by one."""
    nd = min(_ndim(b), (len(b) - 4) // 4)
    if nd <= 0:
        return b
    i = int(rng.integers(nd))
    old = struct.unpack_from(">I", b, 4 + 4 * i)[0]
    new = int(rng.choice([*EDGE_SIZES, (old + 1) % 2 ** 32, (old - 1) % 2 ** 32, int(rng.integers(2 ** 32))]))
    return b[:4 + 4 * i] + struct.pack(">I", new) + b[8 + 4 * i:]


def m_huge(rng, b):
    """Every declared size huge: a header that promises terabytes (or more than NumPy can shape)."""
    nd = min(_ndim(b), (len(b) - 4) // 4)
    sizes = [int(rng.choice([2 ** 31, 2 ** 32 - 1, int(rng.integers(2 ** 20, 2 ** 32))])) for _ in range(nd)]
    if nd > 1 and rng.random() < 0.3:
        sizes[int(rng.integers(nd))] = 0  # zero elements, but sizes whose product overflows
    return b[:4] + struct.pack(f">{nd}I", *sizes) + b[4 + 4 * nd:]


def m_magic(rng, b):
    return bytes([int(rng.integers(1, 256)), int(rng.integers(256))]) + b[2:]


def m_reshape(rng, b):
    """A valid file: the same data under permuted dimensions (it must load)."""
    nd = min(_ndim(b), (len(b) - 4) // 4)
    dims = list(struct.unpack_from(f">{nd}I", b, 4))
    rng.shuffle(dims)
    return b[:4] + struct.pack(f">{nd}I", *dims) + b[4 + 4 * nd:]


def m_retype(rng, b):
    """A valid file: the data section as bytes (type 0x08, one dimension): it must load as such."""
    if len(b) < 4 or b[2] not in IDX_TYPES or len(b) < 4 + 4 * b[3]:
        return b
    data = b[4 + 4 * b[3]:]
    return bytes([0, 0, 0x08, 1]) + struct.pack(">I", len(data)) + data


def m_identity(rng, b):
    return b


IDX_MUTATIONS: dict[str, Mutation] = {**GENERIC, "type": m_type, "ndim": m_ndim, "dim": m_dim, "dim-2": m_dim,
                                      "huge-dims": m_huge, "wrong-magic": m_magic, "reshape (valid)": m_reshape,
                                      "retype (valid)": m_retype, "identity (valid)": m_identity}


def _gz_flags(rng, inner):
    """FTEXT/FHCRC/FEXTRA/FNAME/FCOMMENT/reserved flag bits set on a stream that has none of the fields."""
    z = gzip_bytes(inner)
    return z[:3] + bytes([int(rng.integers(1, 256))]) + z[4:]


def _gz_method(rng, inner):
    z = gzip_bytes(inner)
    return z[:2] + bytes([int(rng.choice([0, 1, 7, 9, 12, 255]))]) + z[3:]


def _gz_trailer(rng, inner):
    z = bytearray(gzip_bytes(inner))
    z[len(z) - 1 - int(rng.integers(8))] ^= 1 << int(rng.integers(8))
    return bytes(z)


def _gz_members(rng, inner):
    """Valid: the stream split into several gzip members (concatenated members are one file)."""
    cuts = sorted(int(c) for c in rng.integers(0, len(inner) + 1, int(rng.integers(1, 4))))
    parts = [inner[a:b] for a, b in zip([0, *cuts], [*cuts, len(inner)], strict=True)]
    return b"".join(gzip_bytes(p, level=int(rng.integers(0, 10))) for p in parts)


def _gz_padding(rng, inner):
    """Valid: zero padding after the member (gzip readers skip it)."""
    return gzip_bytes(inner) + bytes(int(rng.integers(1, 600)))


def _gz_trailing(rng, inner):
    """A second member with data past what the header declares, or non-gzip bytes after the member."""
    junk = rng.bytes(int(rng.integers(1, 100)))
    return gzip_bytes(inner) + (gzip_bytes(junk) if rng.random() < 0.5 else junk)


def _gz_bomb(rng, inner):
    """A small gzip bomb: the header's data, then 8 to 24 MiB of zeros in the same member."""
    return gzip_bytes(inner + bytes(int(rng.integers(8, 25)) << 20), level=9)


def _gz_named(rng, inner):
    """Valid: the FNAME header field (as `gzip file.idx` writes it)."""
    return gzip_bytes(inner, name="train-images-idx3-ubyte")


def _gz_compressed(mutation: Mutation) -> Callable[[np.random.Generator, bytes], bytes]:
    def mutate(rng, inner):
        return mutation(rng, gzip_bytes(inner, level=int(rng.integers(0, 10))))
    return mutate


def _gz_inner(mutation: Mutation) -> Callable[[np.random.Generator, bytes], bytes]:
    def mutate(rng, inner):
        return gzip_bytes(mutation(rng, inner), level=int(rng.integers(0, 10)))
    return mutate


def _gz_random(rng, inner):
    return b"\x1f\x8b" + rng.bytes(int(rng.integers(0, 200)))


# gzip variants take the *inner* IDX bytes and return the file's bytes
GZ_MUTATIONS: dict[str, Mutation] = {
    **{f"gz {k}": _gz_compressed(m) for k, m in GENERIC.items() if k not in ("garbage",)},
    **{f"inner {k}": _gz_inner(m) for k, m in IDX_MUTATIONS.items()},
    "gz flags": _gz_flags, "gz method": _gz_method, "gz trailer": _gz_trailer, "gz members (valid)": _gz_members,
    "gz zero padding (valid)": _gz_padding, "gz trailing data": _gz_trailing, "gz bomb": _gz_bomb,
    "gz fname (valid)": _gz_named, "gz random": _gz_random}

BAD_UTF8 = (b"\x80", b"\xbf", b"\xc0\xaf", b"\xc1\xbf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xed\xbf\xbf",
            b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xf8\x88\x80\x80\x80", b"\xfe", b"\xff", b"\xe3\x81",
            b"\xf0\x9f\x98")


def t_bad_utf8(rng, b):
    at = _pos(rng, b, end=True)
    return b[:at] + BAD_UTF8[int(rng.integers(len(BAD_UTF8)))] + b[at:]


def t_cut_utf8(rng, b):
    """Cut inside a multi-byte character when there is one."""
    starts = [i for i, c in enumerate(b) if c >= 0xC0]
    return b[:starts[int(rng.integers(len(starts)))] + 1] if starts else b[:-1]


def t_bom(rng, b):
    return b"\xef\xbb\xbf" + b


def t_whitespace(rng, b):
    return bytes(rng.choice(list(b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"), int(rng.integers(0, 40))).astype(np.uint8))


def t_empty(rng, b):
    return b""


def t_long_word(rng, b):
    """One long word among many short ones (a fixed-width string array would need terabytes)."""
    return b"x" * int(rng.integers(1, 200_000)) + b" a" * int(rng.integers(1, 20_000)) + b


def t_newlines(rng, b):
    return b.replace(b" ", [b"\r\n", b"\r", b"\n\r", "\x85".encode(), "\u2028".encode()][int(rng.integers(5))])


def t_random_text(rng, b):
    """Valid UTF-8: random code points from every plane, surrogates excepted (they have no UTF-8)."""
    cps = rng.integers(0, 0x110000, int(rng.integers(1, 300)))
    cps = np.where((cps >= 0xD800) & (cps < 0xE000), cps - 0x800, cps)
    return "".join(map(chr, cps.tolist())).encode("utf-8")


def t_nul(rng, b):
    at = _pos(rng, b, end=True)
    return b[:at] + b"\x00" * int(rng.integers(1, 4)) + b[at:]


TEXT_MUTATIONS: dict[str, Mutation] = {**GENERIC, "bad utf-8": t_bad_utf8, "cut utf-8": t_cut_utf8, "bom": t_bom,
                                       "whitespace only": t_whitespace, "empty": t_empty, "long word": t_long_word,
                                       "newlines": t_newlines, "random text (valid)": t_random_text, "nul": t_nul,
                                       "identity (valid)": m_identity}

TEXTS = ("The cat sat . the cat ran . A dog sat <unk> on the mat\n",
         "吾輩は猫である。名前はまだ無い。\r\nどこで生れたかとんと見当がつかぬ。",
         "naïve café — 🐈 emoji, tabs\tand\x00nul", "a", "x y")


def _idx_base(rng: np.random.Generator) -> bytes:
    code = int(rng.choice(list(IDX_TYPES)))
    shape = tuple(int(s) for s in rng.integers(0, 6, int(rng.integers(1, 5))))
    values = rng.integers(-300, 300, shape) if code != 0x08 else rng.integers(0, 256, shape)
    return idx_bytes(values.astype(np.dtype(IDX_TYPES[code]).newbyteorder("=")), code)


def _mnist_base(rng: np.random.Generator, n: int) -> tuple[bytes, bytes]:
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    return idx_bytes(images), idx_bytes(labels)


@dataclass
class Variant:
    """One hostile input: the mutation's name and the bytes of each file (by name)."""

    kind: str
    files: dict[str, bytes]


def variant(fmt: str, i: int, seed: int = 0) -> Variant:
    """Variant ``i`` of format ``fmt``: the mutation kinds in turn, their parameters drawn from a
    generator seeded with ``(seed, format, i)``."""
    rng = np.random.default_rng([seed, FORMATS.index(fmt), i])
    if fmt == "idx":
        kind = list(IDX_MUTATIONS)[i % len(IDX_MUTATIONS)]
        return Variant(kind, {"data.idx": IDX_MUTATIONS[kind](rng, _idx_base(rng))})
    if fmt == "idx-gz":
        kind = list(GZ_MUTATIONS)[i % len(GZ_MUTATIONS)]
        return Variant(kind, {"data.idx.gz": GZ_MUTATIONS[kind](rng, _idx_base(rng))})
    if fmt == "mnist":
        images, labels = _mnist_base(rng, int(rng.integers(0, 5)))
        cross = ("labels 10-255", "fewer labels", "images as labels", "labels as images", "valid pair")
        kinds = [*(f"images: {k}" for k in IDX_MUTATIONS), *(f"labels: {k}" for k in IDX_MUTATIONS), *cross]
        kind = kinds[i % len(kinds)]
        if kind == "labels 10-255":
            labels = labels[:8] + bytes(int(v) for v in rng.integers(10, 256, len(labels) - 8))
        elif kind == "fewer labels":
            labels = idx_bytes(rng.integers(0, 10, max(0, (len(images) - 16) // 784 - 1), dtype=np.uint8))
        elif kind == "images as labels":
            labels = images
        elif kind == "labels as images":
            images = labels
        elif kind != "valid pair":
            which, name = kind.split(": ", 1)
            if which == "images":
                images = IDX_MUTATIONS[name](rng, images)
            else:
                labels = IDX_MUTATIONS[name](rng, labels)
        gz = rng.random() < 0.5
        suffix = ".gz" if gz else ""
        return Variant(kind + (" (gz)" if gz else ""),
                       {f"t10k-images-idx3-ubyte{suffix}": gzip_bytes(images) if gz else images,
                        f"t10k-labels-idx1-ubyte{suffix}": gzip_bytes(labels) if gz else labels})
    if fmt in ("text-char", "text-word"):
        kind = list(TEXT_MUTATIONS)[i % len(TEXT_MUTATIONS)]
        base = TEXTS[int(rng.integers(len(TEXTS)))].encode("utf-8")
        return Variant(kind, {"corpus.txt": TEXT_MUTATIONS[kind](rng, base)})
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


# ------------------------------------------------------------------ running and judging
@dataclass
class Outcome:
    """What one variant did: its class, and for the bad classes what went wrong."""

    cls: str
    kind: str
    detail: str = ""


def _load(fmt: str, directory: Path, paths: list[Path]):
    if fmt in ("idx", "idx-gz"):
        return D.read_idx(paths[0])
    if fmt == "mnist":
        return D.mnist(directory, train=False, normalize=False, return_tensors=False)
    return D.TextCorpus(paths[0], level=fmt.split("-")[1])


def _judge_loaded(fmt: str, v: Variant, result) -> str:
    """'' when ``result`` is exactly what the reference reads from the variant's bytes, else why not."""
    data = list(v.files.values())
    if fmt in ("idx", "idx-gz"):
        ref = reference_idx(data[0])
        if ref is None:
            return f"loaded {result.dtype}{result.shape} from a file the reference finds invalid"
        return "" if _same(result, ref) else f"loaded {result.dtype}{result.shape}, reference {ref.dtype}{ref.shape}"
    if fmt == "mnist":
        ref = reference_mnist(*data)
        if ref is None:
            return "loaded a pair the reference finds invalid"
        return "" if _same(result[0], ref[0]) and _same(result[1], ref[1]) else "loaded other arrays"
    level = fmt.split("-")[1]
    tokens = reference_text(data[0], level)
    if tokens is None:
        return "loaded a text the reference finds invalid"
    expected = "".join(tokens) if level == "char" else " ".join(tokens)
    if result.decode(result.ids) != expected or len(result) != len(tokens):
        return "the corpus does not decode to the text"
    counts = Counter(tokens)
    itos = result.vocab.itos
    if itos[0] != D.UNK or set(itos[1:]) != set(counts) - {D.UNK} or len(set(itos)) != len(itos):
        return "the vocabulary is not the text's distinct tokens"
    freq = [counts[t] for t in itos[1:]]
    return "" if freq == sorted(freq, reverse=True) else "the vocabulary is not ordered by frequency"


def _valid(fmt: str, v: Variant) -> bool:
    data = list(v.files.values())
    if fmt in ("idx", "idx-gz"):
        return reference_idx(data[0]) is not None
    if fmt == "mnist":
        return reference_mnist(*data) is not None
    return reference_text(data[0], fmt.split("-")[1]) is not None


def run_variant(fmt: str, v: Variant, directory: Path, time_limit: float = 2.0,
                memory_base: int | None = 4 << 20) -> Outcome:
    """Write the variant's files into ``directory``, load them, and judge the outcome.

    ``memory_base``: the base of the memory budget (:func:`memory_budget`); None: memory not measured."""
    for old in directory.iterdir():
        old.unlink()
    paths = []
    for name, data in v.files.items():
        paths.append(directory / name)
        paths[-1].write_bytes(data)
    if memory_base is not None:
        tracemalloc.start()
    start = time.perf_counter()
    try:
        result, error = _load(fmt, directory, paths), None
    except D.DatasetFormatError as e:
        result, error = None, e
    except Exception as e:  # noqa: BLE001  (the class this tool exists to find)
        return Outcome("unrelated", v.kind, f"{type(e).__name__}: {e}"[:300])
    finally:
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] if memory_base is not None else 0
        if memory_base is not None:
            tracemalloc.stop()
    if seconds > time_limit:
        return Outcome("slow", v.kind, f"{seconds:.2f} s")
    if memory_base is not None and peak > memory_budget(v, memory_base):
        return Outcome("memory", v.kind, f"peak {peak / 2 ** 20:.1f} MiB, budget "
                                         f"{memory_budget(v, memory_base) / 2 ** 20:.1f} MiB")
    if error is not None:
        named = any(str(p) in str(error) for p in paths) or (fmt == "mnist" and str(directory) in str(error))
        if not named:
            return Outcome("unnamed", v.kind, str(error)[:300])
        return Outcome(REJECTED, v.kind) if not _valid(fmt, v) else Outcome("refused-valid", v.kind, str(error)[:300])
    why = _judge_loaded(fmt, v, result)
    return Outcome("mismatch", v.kind, why) if why else Outcome(LOADED, v.kind)


def fuzz(fmt: str, n: int, seed: int = 0, directory: Path | None = None, time_limit: float = 2.0,
         memory_base: int | None = 4 << 20) -> tuple[Counter, list[Outcome], Counter]:
    """Run variants ``0 .. n-1`` of ``fmt``; return the counts per class, the bad outcomes, and the
    counts per mutation kind."""
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(directory or tmp) / re.sub(r"\W", "_", fmt)
        where.mkdir(parents=True, exist_ok=True)

        def one(i: int) -> tuple[str, Outcome]:
            v = variant(fmt, i, seed)
            return v.kind.removesuffix(" (gz)"), run_variant(fmt, v, where, time_limit, memory_base)
        return tally(n, one, BAD)


def tally(n: int, one: Callable[[int], tuple[str, Outcome]], bad_classes: tuple[str, ...]
          ) -> tuple[Counter, list[Outcome], Counter]:
    """Run ``one(i)`` (variant ``i``: its mutation kind and outcome) for ``i`` in ``0 .. n-1``; return the
    counts per class, the outcomes of ``bad_classes`` (their detail prefixed with the variant), and the
    counts per mutation kind. tools/fuzz_checkpoints.py counts with it too."""
    counts, kinds, bad = Counter(), Counter(), []
    for i in range(n):
        kind, outcome = one(i)
        counts[outcome.cls] += 1
        kinds[kind] += 1
        if outcome.cls in bad_classes:
            outcome.detail = f"variant {i}: {outcome.detail}"
            bad.append(outcome)
    return counts, bad, kinds


def main(argv: list[str] | None = None, *, doc: str | None = None, formats: tuple[str, ...] = FORMATS,
         classes: tuple[str, ...] = CLASSES, bad_classes: tuple[str, ...] = BAD, run: Callable = fuzz,
         default_variants: int = 3000) -> int:
    """The command line (the keywords let tools/fuzz_checkpoints.py run its own formats through it):
    runs each format's variants and prints a table of the outcome classes; 1 when a bad class occurred."""
    parser = argparse.ArgumentParser(description=(doc or __doc__).split("\n\n")[0])
    parser.add_argument("-n", "--variants", type=int, default=default_variants,
                        help=f"variants per format (default {default_variants})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", choices=formats, action="append", help="one format (repeatable); default all")
    parser.add_argument("--time-limit", type=float, default=2.0, help="seconds a load may take (default 2)")
    parser.add_argument("--memory-base-mib", type=float, default=4.0,
                        help="base of each load's memory budget (default 4 MiB; 0: memory not measured, faster)")
    parser.add_argument("--show", type=int, default=5, help="bad outcomes printed per format")
    args = parser.parse_args(argv)
    base = int(args.memory_base_mib * 2 ** 20) or None
    total, width = Counter(), max(10, *map(len, formats))
    print(f"{'format':<{width}} {'variants':>8}  " + "  ".join(f"{c:>{max(len(c), 6)}}" for c in classes)
          + "  seconds")
    for fmt in args.format or formats:
        start = time.perf_counter()
        counts, bad, _ = run(fmt, args.variants, args.seed, time_limit=args.time_limit, memory_base=base)
        total += counts
        print(f"{fmt:<{width}} {args.variants:>8}  " + "  ".join(f"{counts[c]:>{max(len(c), 6)}}" for c in classes)
              + f"  {time.perf_counter() - start:7.1f}", flush=True)
        for outcome in bad[:args.show]:
            print(f"    {outcome.cls}: {outcome.kind}: {outcome.detail}")
    n = sum(total.values())
    print(f"{'all':<{width}} {n:>8}  " + "  ".join(f"{total[c]:>{max(len(c), 6)}}" for c in classes))
    return 1 if any(total[c] for c in bad_classes) else 0


if __name__ == "__main__":
    sys.exit(main())
