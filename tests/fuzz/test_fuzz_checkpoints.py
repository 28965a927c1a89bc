"""Hostile files for ``fukaku.load`` (issue 8): whatever bytes a checkpoint holds, it loads exactly
what it holds — the object fukaku saved, or what an independent reader finds in a file of another
program — or raises ``CheckpointError`` naming the file; never another exception, never an altered
object, never code named in the file; within a memory budget and without hanging.

The seeded variants come from tools/fuzz_checkpoints.py (``python tools/fuzz_checkpoints.py`` is the
long run: 2,000 per format); Hypothesis adds arbitrary bytes, safetensors headers, .npy headers and
structure trees near the valid ones.
"""
import importlib.util
import io
import json
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fukaku as fk
import fukaku.serialization as serialization
from fukaku.serialization import CheckpointError


def _load_tool():
    path = Path(__file__).resolve().parents[2] / "tools" / "fuzz_checkpoints.py"
    spec = importlib.util.spec_from_file_location("fuzz_checkpoints", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs; Trap is found by name
    spec.loader.exec_module(module)
    return module


fuzz = _load_tool()
N_VARIANTS = {"npz": 300, "safetensors": 300, "fileobj": 200, "npz-foreign": 200, "safetensors-foreign": 200,
              "crafted": 180}  # the tool's default run is 2,000 of each
KINDS = {"npz": fuzz.NPZ_MUTATIONS, "safetensors": fuzz.SAFETENSORS_MUTATIONS, "npz-foreign": fuzz.NPZ_MUTATIONS,
         "safetensors-foreign": fuzz.SAFETENSORS_MUTATIONS}
# deterministic: the same examples every run, no example database written into the checkout
SETTINGS = settings(max_examples=120, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    fuzz.warm_up()  # the imports a first load makes (ml_dtypes for bfloat16) are not the file's doing
    return tmp_path_factory.mktemp("fuzz")


def _check(v, where: Path) -> str:
    where.mkdir(exist_ok=True)
    outcome = fuzz.run_variant(v, where)
    assert outcome.cls in (fuzz.LOADED, fuzz.REJECTED), f"{outcome.cls}: {outcome.detail} for {v.data!r:.300}"
    return outcome.cls


# ------------------------------------------------------------------ seeded variants
@pytest.mark.parametrize("fmt", fuzz.FORMATS)
def test_seeded_variants_load_exactly_or_raise_the_documented_error(fmt, tmp_path):
    n = N_VARIANTS[fmt]
    counts, bad, kinds = fuzz.fuzz(fmt, n, seed=0, directory=tmp_path)
    assert not bad, f"{len(bad)} of {n} {fmt} variants went wrong:\n" + "\n".join(
        f"  {o.cls}: {o.kind}: {o.detail}" for o in bad[:10])
    assert sum(counts.values()) == n
    # neither side is vacuous: plenty of files load and plenty are refused
    assert counts[fuzz.LOADED] >= n // 10 and counts[fuzz.REJECTED] >= n // 4, counts
    if fmt in KINDS:
        assert set(kinds) == set(KINDS[fmt])  # every mutation ran


def test_the_judge_catches_a_loader_that_goes_wrong(tmp_path, monkeypatch):
    """The oracle is not vacuous: a loader that skips the digest, loads a corrupt file, refuses a valid
    one, raises something else or forgets the file's name, runs what a file names, returns what is not
    data, or allocates without bound is caught in each case."""
    good = fuzz.Variant("identity (valid)", fuzz.fukaku_base(1, "npz"), ".pt", expected=fuzz.fukaku_object(1, "npz"),
                        fukaku_written=True)
    flipped = fuzz.NPZ_MUTATIONS["npy data"](np.random.default_rng(3), good.data)  # CRC right, digest wrong
    bad = fuzz.Variant("npy data", flipped, ".pt", expected=good.expected, fukaku_written=True)
    assert fuzz.run_variant(good, tmp_path).cls == fuzz.LOADED
    assert fuzz.run_variant(bad, tmp_path).cls == fuzz.REJECTED
    monkeypatch.setattr(serialization, "_verify", lambda contents, name: None)  # a loader without the digest
    assert fuzz.run_variant(bad, tmp_path).cls == "altered"
    monkeypatch.undo()

    real_load = fk.load

    def refuse(f, **kwargs):
        raise CheckpointError(f"fukaku.load: {f} is bad")
    monkeypatch.setattr(fk, "load", refuse)
    assert fuzz.run_variant(good, tmp_path).cls == "refused-valid"
    monkeypatch.setattr(fk, "load", lambda f, **kwargs: (_ for _ in ()).throw(CheckpointError("no name")))
    assert fuzz.run_variant(bad, tmp_path).cls == "unnamed"
    monkeypatch.setattr(fk, "load", lambda f, **kwargs: (_ for _ in ()).throw(RecursionError("deep")))
    assert fuzz.run_variant(bad, tmp_path).cls == "unrelated"
    monkeypatch.setattr(fk, "load", lambda f, **kwargs: fuzz.payload(f) or real_load(f, **kwargs))
    assert fuzz.run_variant(good, tmp_path).cls == "payload"
    monkeypatch.setattr(fk, "load", lambda f, **kwargs: __import__("os").system("true") and None)
    assert fuzz.run_variant(good, tmp_path).cls == "payload"
    crafted = fuzz.variant("crafted", 3)  # "callable as value"
    monkeypatch.setattr(fk, "load", lambda f, **kwargs: (1, fuzz.payload))
    assert fuzz.run_variant(crafted, tmp_path).cls == "unsafe"
    monkeypatch.setattr(fk, "load", lambda f, **kwargs: np.ones(10 << 20, np.uint8) and real_load(f, **kwargs))
    assert fuzz.run_variant(good, tmp_path).cls == "memory"
    foreign = fuzz.Variant("flip", fuzz.npz_foreign_base(0), ".npz")
    monkeypatch.setattr(fk, "load", lambda f, **kwargs: {k: v * 0 for k, v in real_load(f, **kwargs).items()})
    assert fuzz.run_variant(foreign, tmp_path).cls == "altered"  # a foreign file read as zeros


# ------------------------------------------------------------------ Hypothesis
@SETTINGS
@given(data=st.one_of(st.binary(max_size=400),
                      st.binary(max_size=400).map(lambda b: b"PK\x03\x04" + b),
                      st.binary(max_size=400).map(lambda b: b"\x93NUMPY" + b),
                      st.binary(max_size=400).map(lambda b: struct.pack("<Q", len(b)) + b"{" + b),
                      st.binary(max_size=300).map(lambda b: struct.pack("<Q", min(len(b), 40)) + b'{"a":' + b)))
def test_any_bytes(workdir, data):
    """Any bytes: data loaded (nothing callable), or CheckpointError naming the file."""
    _check(fuzz.Variant("hypothesis", data, ".pt", crafted=True, weights_only=bool(len(data) % 2)), workdir / "bytes")


CODES = ["F32", "F16", "BF16", "I64", "I32", "U8", "BOOL", "F64", "U16", "C64", "F8_E4M3", "X"]


@st.composite
def safetensors_files(draw):
    """Safetensors files near the valid ones: 0 to 3 tensors of any dtype code, small shapes (now and then
    a negative or huge size), offsets that tile the data or miss by a little, data of the declared length
    or not, a repeated key or an odd metadata now and then."""
    header, offset, body = {}, 0, b""
    for i in range(draw(st.integers(0, 3))):
        code = draw(st.sampled_from(CODES))
        shape = draw(st.lists(st.integers(0, 4) if draw(st.integers(0, 9)) else st.sampled_from([-1, 2 ** 40]),
                              max_size=3))
        itemsize = {"F64": 8, "I64": 8, "C64": 8, "F32": 4, "I32": 4, "F16": 2, "BF16": 2, "U16": 2}.get(code, 1)
        size = max(0, int(np.prod(shape, dtype=object))) * itemsize if all(s >= 0 for s in shape) else 4
        size = min(size, 256)
        begin = offset + draw(st.sampled_from([0] * 8 + [1, -1]))
        end = begin + size + draw(st.sampled_from([0] * 8 + [1, -2]))
        header[draw(st.sampled_from(["w", "b", f"t{i}", "a.b"]))] = {"dtype": code, "shape": shape,
                                                                   "data_offsets": [begin, end]}
        body += draw(st.binary(min_size=size, max_size=size))
        offset += size
    if draw(st.booleans()):
        header["__metadata__"] = draw(st.sampled_from([{"format": "pt"}, {}, {"n": 1}, [], None]))
    text = json.dumps(header, separators=(",", ":"))
    if header and draw(st.integers(0, 9)) == 0:
        first = next(iter(header))
        text = "{" + json.dumps(first) + ":" + json.dumps(header[first]) + "," + text[1:]  # a repeated key
    data = struct.pack("<Q", len(text)) + text.encode() + body + draw(st.sampled_from([b""] * 8 + [b"\x00", b"xyz"]))
    return data


@SETTINGS
@given(data=safetensors_files())
def test_safetensors_files_of_other_programs(workdir, data):
    """Loaded exactly as the safetensors library reads them (bit for bit, bfloat16 included), or refused."""
    _check(fuzz.Variant("hypothesis", data, ".safetensors"), workdir / "safetensors")


DESCRS = ["<f4", ">f8", "|u1", "|b1", "<i8", "<c8", "<f2", "<U3", "|S2", "|O", "<M8[s]", "|V4", "<f16", "f4,i4"]


@st.composite
def npz_files(draw):
    """An .npz of one or two .npy entries whose headers are near the valid ones: any dtype (also the
    refused ones), C or Fortran order, small shapes, data of the declared length give or take a byte,
    stored or deflated, or a header that is not a dict of the three keys."""
    entries = []
    for i in range(draw(st.integers(1, 2))):
        descr = draw(st.sampled_from(DESCRS))
        shape = tuple(draw(st.lists(st.integers(0, 3), max_size=3)))
        try:
            itemsize = np.dtype(descr).itemsize
        except TypeError:
            itemsize = 1
        n = int(np.prod(shape)) * itemsize + draw(st.sampled_from([0] * 6 + [-1, 1]))
        header = fuzz.npy_header(descr, draw(st.booleans()), shape)
        if draw(st.integers(0, 9)) == 0:
            header = draw(st.sampled_from(["{}", "{'descr': '<f4'}", "[1, 2]", "{'descr': '<f4', "
                                           "'fortran_order': False, 'shape': (2,), 'x': 1}"]))
        entries.append((f"a{i}.npy", fuzz.join_npy((1, 0), header, draw(st.binary(min_size=max(n, 0),
                                                                                    max_size=max(n, 0))))))
    return fuzz.rezip(entries, draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])))


@SETTINGS
@given(data=npz_files())
def test_npz_files_of_other_programs(workdir, data):
    """Loaded exactly as NumPy's own .npy reader reads them, within the documented dtypes, or refused."""
    _check(fuzz.Variant("hypothesis", data, ".npz"), workdir / "npz")


def _leaves(entries):
    return st.one_of(st.none(), st.booleans(), st.integers(-5, 2 ** 70), st.floats(allow_nan=False),
                     st.text(max_size=5),
                     st.sampled_from([{"tensor": e} for e in entries] + [{"alias": 0}, {"float": "nan"}]),
                     st.sampled_from(fuzz.CALLABLES).map(lambda c: {"global": c}),
                     st.sampled_from(fuzz.CALLABLES).map(lambda c: {"module": c, "state": fuzz.MODULE_STATE}))


def _trees(entries):
    return st.recursive(_leaves(entries), lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.lists(inner, max_size=3).map(lambda xs: {"tuple": xs}),
        st.lists(inner, max_size=3).map(lambda xs: {"set": xs}),
        st.lists(st.tuples(inner, inner).map(list), max_size=3).map(lambda xs: {"dict": xs})), max_leaves=12)


BASE = fuzz.fukaku_base(0, "npz")
BASE_ROOT = fuzz.structure_of(BASE)["root"]


@SETTINGS
@given(tree=_trees(["missing", "root"]), weights_only=st.booleans(), fmt=st.sampled_from(["npz", "safetensors"]))
def test_crafted_structures_run_nothing(workdir, tree, weights_only, fmt):
    """A structure written by an attacker, digest recomputed: data loaded, or refused; nothing it names
    runs, whether weights_only or not."""
    base = fuzz.fukaku_base(0, fmt)
    doc = {"fukaku": 3, "root": {"tuple": [fuzz.structure_of(base)["root"], tree]}}
    data = fuzz.rebuild(base, json.dumps(doc))
    suffix = ".safetensors" if fmt == "safetensors" else ".pt"
    _check(fuzz.Variant("hypothesis", data, suffix, crafted=True, weights_only=weights_only), workdir / "crafted")


def test_the_tool_writes_the_digest_load_checks():
    """The tool's digest (written from docs/checkpoints.md) is the one fukaku writes: the crafted files
    above are digest-valid, so what refuses them is the structure's rules, not the digest."""
    doc = fuzz.structure_of(BASE)
    rebuilt = fuzz.rebuild(BASE, json.dumps(doc, separators=(",", ":")))
    assert fuzz.differ(fuzz.fukaku_object(0, "npz"), fk.load(io.BytesIO(rebuilt))) == ""
    tampered = fuzz.rebuild(BASE, json.dumps(doc, separators=(",", ":"))).replace(b'"fukaku":3', b'"fukaku":2')
    with pytest.raises(CheckpointError):  # an edit after the digest was computed
        fk.load(io.BytesIO(tampered))
