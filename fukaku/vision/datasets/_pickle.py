"""Read the pickles of CIFAR's python-version batches without running any of them.

``pickle.load`` executes a program: a pickle may name any importable callable and call it with any
arguments (``os.system`` included). CIFAR's batches are pickles (written by Python 2's cPickle,
protocol 2: a dict of byte strings, a list of ints, a list of byte strings, and a NumPy array
saved through ``numpy.core.multiarray._reconstruct``). This module is a small interpreter of the
pickle opcodes those files use, in which a global is only a name, never imported:

- data opcodes build plain values: dicts, lists, tuples, ints, floats, bools, None, byte strings
  (Python 2 ``str``, read as ``bytes`` like ``pickle.load(encoding="bytes")``), text, the memo;
- four globals are understood *as descriptions*, not called: ``numpy.dtype`` (only bool, integer
  and float dtypes, checked against a fixed pattern), an array from ``_reconstruct`` + its
  ``__setstate__`` tuple, an array from ``_frombuffer`` (NumPy ≥ 1.16, protocol 5), and
  ``_codecs.encode(text, "latin1")`` (how Python 3 writes bytes at protocol 2); an array is made
  by copying the declared bytes after checking that shape × itemsize equals their length;
- every other global, opcode, object dtype or protocol-5 out-of-band buffer is refused.

Every problem is a :class:`~fukaku.datasets.DatasetFormatError` naming the file and the byte
offset. Nothing recurses, every length is checked against the bytes left before anything is
allocated, the file itself is capped at ``max_bytes`` and the number of opcodes at
``MAX_PICKLE_OPS``, so time and memory are bounded by the file's size.
"""
from __future__ import annotations

import math
import os
import re
import struct
from pathlib import Path
from typing import Any

import numpy as np

from ...datasets import DatasetFormatError
from ...datasets._common import regular_file_size

MAX_PICKLE_BYTES = 1 << 30
"""Default cap on a pickle file's size (1 GiB; CIFAR-100's training file, the largest, is 155 MB)."""

MAX_PICKLE_OPS = 2_000_000
"""Cap on the opcodes one file may hold (CIFAR-100's training file has about 300,000)."""

_MAX_DIMS = 32
_MAX_ARRAY_BYTES = 1 << 62  # NumPy's limit on an array's extent (intp), kept clear of
_GLOBALS = {  # (module, name) -> what it is understood as; nothing is ever imported
    ("numpy.core.multiarray", "_reconstruct"): "reconstruct", ("numpy._core.multiarray", "_reconstruct"): "reconstruct",
    ("numpy", "ndarray"): "ndarray", ("numpy", "dtype"): "dtype",
    ("numpy.core.numeric", "_frombuffer"): "frombuffer", ("numpy._core.numeric", "_frombuffer"): "frombuffer",
    ("_codecs", "encode"): "encode",
}
_DTYPE = re.compile(r"[biuf][1248]")  # bool, signed, unsigned, float of a fixed size
_STR_TYPES = (bytes, str)


def _is(value: Any, *options) -> bool:
    """``value in options`` for a plain str, bytes or int only (an array would compare elementwise)."""
    return type(value) in (str, bytes, int) and value in options


class _Global:
    """A global the file names: only a name."""

    __slots__ = ("kind", "name")

    def __init__(self, kind: str, name: str) -> None:
        self.kind, self.name = kind, name


class _Pending:
    """The result of ``dtype(...)`` or ``_reconstruct(...)`` before its BUILD gives the state."""

    __slots__ = ("kind", "arg", "value")

    def __init__(self, kind: str, arg: Any = None) -> None:
        self.kind, self.arg, self.value = kind, arg, None


class _Parser:
    def __init__(self, data: bytes, where: str) -> None:
        self.data, self.where = memoryview(data), where
        self.pos = 0
        self.stack: list = []
        self.marks: list[list] = []
        self.memo: dict[int, Any] = {}

    # ------------------------------------------------------------------ reading
    def fail(self, what: str) -> DatasetFormatError:
        return DatasetFormatError(f"{self.where}: {what} (at byte {self.pos}); the file is not a CIFAR batch as "
                                  "its python version is written, or it is damaged: download it again")

    def take(self, n: int, what: str) -> memoryview:
        if n < 0 or n > len(self.data) - self.pos:
            raise self.fail(f"{what} declares {n} bytes but {len(self.data) - self.pos} remain")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def uint(self, size: int, what: str) -> int:
        return int.from_bytes(self.take(size, what), "little")

    def line(self, what: str) -> str:
        end = bytes(self.data[self.pos:self.pos + 257]).find(b"\n")
        if end < 0:
            raise self.fail(f"{what} is not a line of at most 256 bytes")
        text = bytes(self.take(end + 1, what)[:-1])
        try:
            return text.decode("ascii")
        except UnicodeDecodeError:
            raise self.fail(f"{what} is not ASCII") from None

    def text(self, n: int, what: str) -> str:
        try:
            return str(self.take(n, what), "utf-8", "surrogatepass")
        except UnicodeDecodeError as e:
            raise self.fail(f"{what} is not valid UTF-8 ({e.reason})") from None

    # ------------------------------------------------------------------ the stack
    def pop(self, what: str) -> Any:
        if not self.stack:
            raise self.fail(f"{what} finds the stack empty")
        return self.stack.pop()

    def pop_mark(self, what: str) -> list:
        if not self.marks:
            raise self.fail(f"{what} has no MARK to close")
        items, self.stack = self.stack, self.marks.pop()
        return items

    def top(self, kind: type, what: str) -> Any:
        if not self.stack or not isinstance(self.stack[-1], kind):
            got = type(self.stack[-1]).__name__ if self.stack else "an empty stack"
            raise self.fail(f"{what} needs a {kind.__name__} below it, found {got}")
        return self.stack[-1]

    def key(self, k: Any, what: str) -> Any:
        if not isinstance(k, (bytes, str, int, float, bool, type(None))):
            raise self.fail(f"{what}: a dict key of type {type(k).__name__}")
        return k

    # ------------------------------------------------------------------ the program
    def run(self) -> Any:
        ops = 0
        n = len(self.data)
        while self.pos < n:
            ops += 1
            if ops > MAX_PICKLE_OPS:
                raise self.fail(f"more than {MAX_PICKLE_OPS} opcodes")
            code = self.data[self.pos]
            self.pos += 1
            handler = _HANDLERS.get(code)
            if handler is None:
                raise self.fail(f"opcode 0x{code:02x} ({_OPNAMES.get(code, 'unknown')}) is not allowed: it is "
                                "not one CIFAR's batches use")
            if handler(self) is _STOP:
                if self.pos != n:
                    raise self.fail(f"{n - self.pos} bytes follow the pickle's STOP")
                return self.result
        raise self.fail("the pickle ends without STOP (truncated?)")

    def op_proto(self):
        version = self.uint(1, "PROTO")
        if not 2 <= version <= 5:
            raise self.fail(f"pickle protocol {version}; CIFAR's batches use 2 (files re-saved by Python 3: 2 to 5)")

    def op_frame(self):
        size = self.uint(8, "FRAME")
        if size > len(self.data) - self.pos:
            raise self.fail(f"FRAME declares {size} bytes but {len(self.data) - self.pos} remain")

    def op_stop(self):
        if self.marks or len(self.stack) != 1:
            raise self.fail(f"STOP with {len(self.stack)} values on the stack and {len(self.marks)} open MARKs")
        self.result = self.stack.pop()
        return _STOP

    def op_mark(self):
        self.marks.append(self.stack)
        self.stack = []

    def push(self, value) -> None:
        self.stack.append(value)

    def op_int(self, size: int, signed: bool):
        self.push(int.from_bytes(self.take(size, "an integer"), "little", signed=signed))

    def op_long(self, size_bytes: int):
        size = self.uint(size_bytes, "LONG")
        if size > 64:
            raise self.fail(f"an integer of {size} bytes")
        self.push(int.from_bytes(self.take(size, "LONG"), "little", signed=True))

    def op_float(self):
        self.push(struct.unpack(">d", self.take(8, "BINFLOAT"))[0])

    def op_bytes(self, size_bytes: int, signed: bool = False):
        size = int.from_bytes(self.take(size_bytes, "a byte string's length"), "little", signed=signed)
        self.push(bytes(self.take(size, "a byte string")))

    def op_text(self, size_bytes: int):
        self.push(self.text(self.uint(size_bytes, "a text's length"), "a text"))

    def op_tuple(self, n: int):
        if len(self.stack) < n:
            raise self.fail(f"TUPLE{n} finds {len(self.stack)} values")
        items = self.stack[len(self.stack) - n:]
        del self.stack[len(self.stack) - n:]
        self.push(tuple(items))

    def op_collect(self, kind: type):
        items = self.pop_mark(kind.__name__.upper())
        if kind is dict:
            if len(items) % 2:
                raise self.fail("DICT with an odd number of items")
            self.push({self.key(items[i], "DICT"): items[i + 1] for i in range(0, len(items), 2)})
        else:
            self.push(kind(items))

    def op_append(self, many: bool):
        items = self.pop_mark("APPENDS") if many else [self.pop("APPEND")]
        self.top(list, "APPEND").extend(items)

    def op_setitem(self, many: bool):
        if many:
            items = self.pop_mark("SETITEMS")
        else:
            value = self.pop("SETITEM")
            items = [self.pop("SETITEM"), value]
        if len(items) % 2:
            raise self.fail("SETITEMS with an odd number of items")
        target = self.top(dict, "SETITEMS")
        for i in range(0, len(items), 2):
            target[self.key(items[i], "SETITEMS")] = items[i + 1]

    def op_put(self, size: int | None):
        index = len(self.memo) if size is None else self.uint(size, "PUT")
        if not self.stack:
            raise self.fail("PUT finds the stack empty")
        self.memo[index] = self.stack[-1]

    def op_get(self, size: int):
        index = self.uint(size, "GET")
        if index not in self.memo:
            raise self.fail(f"GET of memo entry {index}, which was never PUT")
        self.push(self.memo[index])

    def op_global(self, stacked: bool):
        if stacked:
            name, module = self.pop("STACK_GLOBAL"), self.pop("STACK_GLOBAL")
            if not isinstance(name, str) or not isinstance(module, str):
                raise self.fail("STACK_GLOBAL of values that are not texts")
        else:
            module, name = self.line("GLOBAL's module"), self.line("GLOBAL's name")
        kind = _GLOBALS.get((module, name))
        if kind is None:
            raise self.fail(f"the pickle refers to {module[:80]}.{name[:80]}; only NumPy's array and dtype "
                            "reconstruction is understood (nothing is imported or called)")
        self.push(_Global(kind, f"{module}.{name}"))

    def op_reduce(self):
        args, func = self.pop("REDUCE"), self.pop("REDUCE")
        if not isinstance(func, _Global) or not isinstance(args, tuple):
            raise self.fail("REDUCE of something that is not an understood global and its argument tuple")
        self.push(_REDUCERS.get(func.kind, _refuse_call)(self, func, args))

    def op_build(self):
        state = self.pop("BUILD")
        target = self.top(_Pending, "BUILD")
        if target.value is not None:
            raise self.fail(f"BUILD of a {target.kind} that is already built")
        target.value = (_build_dtype if target.kind == "dtype" else _build_array)(self, target.arg, state)

    # ------------------------------------------------------------------ values
    def resolved(self, value: Any, what: str) -> Any:
        if isinstance(value, _Pending):
            if value.value is None:
                raise self.fail(f"{what}: a {value.kind} used before its state was set")
            return value.value
        return value


_STOP = object()


def _refuse_call(p: _Parser, func: _Global, args: tuple):
    raise p.fail(f"{func.name} is not a callable this reader evaluates")


def _reduce_reconstruct(p: _Parser, func: _Global, args: tuple) -> _Pending:
    if (len(args) != 3 or not isinstance(args[0], _Global) or args[0].kind != "ndarray" or type(args[1]) is not tuple
            or len(args[1]) != 1 or not _is(args[1][0], 0) or not _is(args[2], "b", b"b")):
        raise p.fail("_reconstruct with arguments other than (numpy.ndarray, (0,), 'b'), the ones NumPy writes")
    return _Pending("array")


def _reduce_dtype(p: _Parser, func: _Global, args: tuple) -> _Pending:
    if len(args) != 3 or not isinstance(args[0], _STR_TYPES):
        raise p.fail("numpy.dtype with arguments other than (typestring, align, copy)")
    code = args[0].decode("latin-1") if isinstance(args[0], bytes) else args[0]
    if not _DTYPE.fullmatch(code):
        raise p.fail(f"dtype {code[:20]!r}: only bool, integer and float dtypes are allowed")
    return _Pending("dtype", code)


def _reduce_encode(p: _Parser, func: _Global, args: tuple) -> bytes:
    if len(args) != 2 or not isinstance(args[0], str) or not _is(args[1], "latin1", "latin-1"):
        raise p.fail("_codecs.encode with arguments other than (text, 'latin1')")
    try:
        return args[0].encode("latin-1")
    except UnicodeEncodeError:
        raise p.fail("_codecs.encode of text outside latin-1") from None


def _shape(p: _Parser, shape: Any) -> tuple[int, ...]:
    if (not isinstance(shape, tuple) or len(shape) > _MAX_DIMS
            or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)):
        raise p.fail(f"an array shape that is not a tuple of at most {_MAX_DIMS} non-negative ints")
    return shape


def _array(p: _Parser, raw: Any, dtype: Any, shape: tuple[int, ...], fortran: bool) -> np.ndarray:
    if not isinstance(dtype, np.dtype):
        raise p.fail("an array whose dtype is not a dtype")
    if isinstance(raw, str):  # a Python 2 str read as text: its code points are the bytes
        raw = _reduce_encode(p, None, (raw, "latin1"))
    if not isinstance(raw, (bytes, bytearray)):
        raise p.fail("an array whose data is not a byte string")
    count = math.prod(shape)
    if math.prod(d for d in shape if d) * dtype.itemsize > _MAX_ARRAY_BYTES:
        raise p.fail(f"an array of shape {shape} and dtype {dtype}: too large, even with no elements")
    if count * dtype.itemsize != len(raw):
        raise p.fail(f"an array of shape {shape} and dtype {dtype} needs {count * dtype.itemsize} bytes, its data "
                     f"holds {len(raw)}")
    return np.frombuffer(raw, dtype=dtype, count=count).reshape(shape, order="F" if fortran else "C")


def _reduce_frombuffer(p: _Parser, func: _Global, args: tuple) -> np.ndarray:
    if len(args) != 4 or not _is(args[3], "C", "F"):
        raise p.fail("_frombuffer with arguments other than (buffer, dtype, shape, order)")
    return _array(p, args[0], p.resolved(args[1], "_frombuffer"), _shape(p, args[2]), args[3] == "F")


def _build_dtype(p: _Parser, code: str, state: Any) -> np.dtype:
    if (not isinstance(state, tuple) or len(state) not in (8, 9) or not _is(state[0], 3, 4)
            or not _is(state[1], "<", ">", "|", "=", b"<", b">", b"|", b"=")
            or any(v is not None for v in state[2:5]) or not _is(state[7], 0)
            or (len(state) == 9 and state[8] is not None)):
        raise p.fail(f"the state of dtype {code!r} is not that of a plain numeric dtype")
    order = state[1].decode("ascii") if isinstance(state[1], bytes) else state[1]
    dtype = np.dtype(code)
    return dtype.newbyteorder(order) if order in "<>" and dtype.itemsize > 1 else dtype


def _build_array(p: _Parser, _arg: Any, state: Any) -> np.ndarray:
    if isinstance(state, tuple) and len(state) == 5 and _is(state[0], 1):
        state = state[1:]
    if not isinstance(state, tuple) or len(state) != 4 or type(state[2]) not in (bool, int):
        raise p.fail("an array state other than (version, shape, dtype, is_fortran, data)")
    shape, dtype, fortran, raw = state
    return _array(p, raw, p.resolved(dtype, "an array's dtype"), _shape(p, shape), bool(fortran))


_REDUCERS = {"reconstruct": _reduce_reconstruct, "dtype": _reduce_dtype, "encode": _reduce_encode,
             "frombuffer": _reduce_frombuffer}
_HANDLERS = {
    0x80: _Parser.op_proto, 0x95: _Parser.op_frame, ord("."): _Parser.op_stop, ord("("): _Parser.op_mark,
    ord("}"): lambda p: p.push({}), ord("]"): lambda p: p.push([]), ord(")"): lambda p: p.push(()),
    ord("N"): lambda p: p.push(None), 0x88: lambda p: p.push(True), 0x89: lambda p: p.push(False),
    ord("J"): lambda p: p.op_int(4, True), ord("K"): lambda p: p.op_int(1, False),
    ord("M"): lambda p: p.op_int(2, False), 0x8A: lambda p: p.op_long(1), 0x8B: lambda p: p.op_long(4),
    ord("G"): _Parser.op_float,
    ord("U"): lambda p: p.op_bytes(1), ord("T"): lambda p: p.op_bytes(4, signed=True),
    ord("C"): lambda p: p.op_bytes(1), ord("B"): lambda p: p.op_bytes(4), 0x8E: lambda p: p.op_bytes(8),
    0x96: lambda p: p.op_bytes(8),  # BYTEARRAY8: only ever array data here, read as bytes
    0x8C: lambda p: p.op_text(1), ord("X"): lambda p: p.op_text(4), 0x8D: lambda p: p.op_text(8),
    ord("t"): lambda p: p.op_collect(tuple), ord("l"): lambda p: p.op_collect(list),
    ord("d"): lambda p: p.op_collect(dict),
    0x85: lambda p: p.op_tuple(1), 0x86: lambda p: p.op_tuple(2), 0x87: lambda p: p.op_tuple(3),
    ord("a"): lambda p: p.op_append(False), ord("e"): lambda p: p.op_append(True),
    ord("s"): lambda p: p.op_setitem(False), ord("u"): lambda p: p.op_setitem(True),
    ord("q"): lambda p: p.op_put(1), ord("r"): lambda p: p.op_put(4), 0x94: lambda p: p.op_put(None),
    ord("h"): lambda p: p.op_get(1), ord("j"): lambda p: p.op_get(4),
    ord("c"): lambda p: p.op_global(False), 0x93: lambda p: p.op_global(True),
    ord("R"): _Parser.op_reduce, ord("b"): _Parser.op_build,
}
# names for the refusal message of the opcodes not handled (from the pickle format's opcode table)
_OPNAMES = {ord("I"): "INT", ord("L"): "LONG", ord("S"): "STRING", ord("V"): "UNICODE", ord("F"): "FLOAT",
            ord("p"): "PUT", ord("g"): "GET", ord("0"): "POP", ord("1"): "POP_MARK", ord("2"): "DUP",
            ord("i"): "INST", ord("o"): "OBJ", 0x81: "NEWOBJ", 0x92: "NEWOBJ_EX", ord("P"): "PERSID",
            ord("Q"): "BINPERSID", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x8F: "EMPTY_SET", 0x90: "ADDITEMS",
            0x91: "FROZENSET", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER"}


def _resolve_all(p: _Parser, value: Any) -> Any:
    """The top-level value with built placeholders replaced, one level into dicts, lists and tuples
    (the depth of CIFAR's layout; nothing deeper is visited, so nesting cannot recurse)."""
    def one(v):
        return p.resolved(v, "the result")
    value = one(value)
    if isinstance(value, dict):
        return {k: one(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(one(v) for v in value)
    return value


def load_plain_pickle(path: str | os.PathLike, *, max_bytes: int = MAX_PICKLE_BYTES) -> Any:
    """The value a pickle of plain data holds (dicts, lists, tuples, numbers, bytes, text, and
    NumPy arrays of numeric dtypes), read without executing it.

    Byte strings of Python 2 come back as ``bytes`` (``pickle.load(encoding="bytes")``); arrays are
    read-only views of the data read. Placeholders below the first level of containers are not
    resolved: CIFAR's layout has none there.

    Raises:
        DatasetFormatError: anything else in the file, a file larger than ``max_bytes``, or bytes
            that are not a complete pickle; the message names the file and the byte offset.
        OSError: the file is missing or cannot be read.
    """
    path = Path(path)
    with open(path, "rb") as f:
        size = regular_file_size(f)
        if size is not None and size > max_bytes:
            raise DatasetFormatError(f"pickle file {path}: {size} bytes, more than max_bytes={max_bytes}")
        # read what the file holds, never a buffer of the cap's size (a pipe: a MiB at a time)
        chunks, total = [], 0
        while total <= max_bytes:
            chunk = f.read(min((size if size is not None else 1 << 20) + 1, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if len(data) > max_bytes:
        raise DatasetFormatError(f"pickle file {path}: more than max_bytes={max_bytes} bytes")
    parser = _Parser(data, f"pickle file {path}")
    return _resolve_all(parser, parser.run())
