"""Hostile files for the dataset loaders (issue 8): IDX files raw and gzip'd, MNIST directories and
text corpora must load exactly what an independent reference reads from their bytes, or raise
``DatasetFormatError`` naming the file, and nothing else; within a memory budget and without hanging.

The seeded variants come from tools/fuzz_loaders.py (``python tools/fuzz_loaders.py`` is the long
run: thousands per format); Hypothesis adds arbitrary and structured bytes; and the gzip bomb of
the acceptance criteria (a 1 MB file declaring 5 labels that inflates to 1 GiB) is refused in under
a second with under 50 MB of traced memory.
"""
import gzip
import importlib.util
import struct
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fukaku.datasets as D


def _load_tool():
    path = Path(__file__).resolve().parents[2] / "tools" / "fuzz_loaders.py"
    spec = importlib.util.spec_from_file_location("fuzz_loaders", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


fuzz = _load_tool()
N_VARIANTS = 300  # per format; the tool's default run is 3,000
# deterministic: the same examples every run, no example database written into the checkout
SETTINGS = settings(max_examples=150, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _check(fmt: str, files: dict[str, bytes], where: Path) -> str:
    where.mkdir(exist_ok=True)
    outcome = fuzz.run_variant(fmt, fuzz.Variant("hypothesis", files), where)
    assert outcome.cls in (fuzz.LOADED, fuzz.REJECTED), f"{outcome.cls}: {outcome.detail} for {files!r:.300}"
    return outcome.cls


# ------------------------------------------------------------------ seeded variants
@pytest.mark.parametrize("fmt", fuzz.FORMATS)
def test_seeded_variants_load_exactly_or_raise_the_documented_error(fmt, tmp_path):
    counts, bad, kinds = fuzz.fuzz(fmt, N_VARIANTS, seed=0, directory=tmp_path)
    assert not bad, f"{len(bad)} of {N_VARIANTS} {fmt} variants went wrong:\n" + "\n".join(
        f"  {o.cls}: {o.kind}: {o.detail}" for o in bad[:10])
    assert sum(counts.values()) == N_VARIANTS
    # neither side is vacuous: plenty of valid files load and plenty of broken ones are refused
    assert counts[fuzz.LOADED] >= N_VARIANTS // 10 and counts[fuzz.REJECTED] >= N_VARIANTS // 4, counts
    expected_kinds = {"idx": fuzz.IDX_MUTATIONS, "idx-gz": fuzz.GZ_MUTATIONS}.get(
        fmt, fuzz.TEXT_MUTATIONS if fmt.startswith("text") else None)
    if expected_kinds is not None:
        assert set(kinds) == set(expected_kinds)  # every mutation ran


def test_the_judge_catches_a_loader_that_goes_wrong(tmp_path, monkeypatch):
    """The fuzz oracle is not vacuous: a reader that loads garbage, refuses a valid file, raises
    something else, or forgets the file name is caught in each case."""
    good = fuzz.Variant("valid", {"a.idx": fuzz.idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3))})
    bad = fuzz.Variant("cut", {"a.idx": good.files["a.idx"][:-1]})
    monkeypatch.setattr(D, "read_idx", lambda path: np.zeros((2, 3), np.uint8))
    assert fuzz.run_variant("idx", good, tmp_path).cls == "mismatch"
    assert fuzz.run_variant("idx", bad, tmp_path).cls == "mismatch"

    def refuse(path):
        raise D.IDXFormatError(f"IDX file {path}: no")
    monkeypatch.setattr(D, "read_idx", refuse)
    assert fuzz.run_variant("idx", good, tmp_path).cls == "refused-valid"
    assert fuzz.run_variant("idx", bad, tmp_path).cls == fuzz.REJECTED
    monkeypatch.setattr(D, "read_idx", lambda path: np.frombuffer(b"", np.int16, count=1))
    assert fuzz.run_variant("idx", bad, tmp_path).cls == "unrelated"
    monkeypatch.setattr(D, "read_idx", lambda path: (_ for _ in ()).throw(D.IDXFormatError("truncated")))
    assert fuzz.run_variant("idx", bad, tmp_path).cls == "unnamed"
    monkeypatch.setattr(D, "read_idx", lambda path: np.ones(10 << 20, np.uint8))  # 10 MiB for a 14-byte file
    assert fuzz.run_variant("idx", good, tmp_path).cls == "memory"


# ------------------------------------------------------------------ Hypothesis
@SETTINGS
@given(data=st.one_of(st.binary(max_size=300),
                      st.binary(max_size=300).map(lambda b: b"\x1f\x8b" + b),
                      st.binary(max_size=300).map(gzip.compress)))
def test_any_bytes_as_idx(workdir, data):
    _check("idx", {"any.idx": data}, workdir / "bytes")


@st.composite
def idx_files(draw):
    """IDX files near the valid ones: any type byte (mostly known), 0 to 6 dimensions (sizes mostly
    small, sometimes huge), a data section of the declared length give or take a few bytes, raw or
    gzip'd (maybe with bytes after the member)."""
    code = draw(st.one_of(st.sampled_from(sorted(fuzz.IDX_TYPES)), st.integers(0, 255)))
    ndim = draw(st.one_of(st.integers(0, 4), st.integers(0, 255)))
    dims = draw(st.lists(st.one_of(st.integers(0, 5), st.sampled_from(fuzz.EDGE_SIZES)),
                         min_size=min(ndim, 6), max_size=min(ndim, 6)))
    itemsize = np.dtype(fuzz.IDX_TYPES.get(code, ">u1")).itemsize
    n = int(np.prod(dims, dtype=object)) * itemsize
    n = min(n, 4096) + draw(st.sampled_from([0, 0, 0, -1, 1, -itemsize, 3]))
    data = bytes([0, 0, code, ndim]) + struct.pack(f">{len(dims)}I", *dims) + draw(
        st.binary(min_size=max(n, 0), max_size=max(n, 0)))
    if draw(st.booleans()):
        data = gzip.compress(data, mtime=0) + draw(st.sampled_from([b"", b"\x00" * 4, b"junk", gzip.compress(b"x")]))
    return data


@SETTINGS
@given(data=idx_files())
def test_structured_idx_files(workdir, data):
    _check("idx", {"near.idx": data}, workdir / "structured")


@SETTINGS
@given(data=st.one_of(st.binary(max_size=300), st.text(max_size=200).map(lambda t: t.encode("utf-8"))),
       level=st.sampled_from(["char", "word"]))
def test_any_bytes_as_text(workdir, data, level):
    _check(f"text-{level}", {"corpus.txt": data}, workdir / "text")


# ------------------------------------------------------------------ the gzip bomb
def test_bomb_builder_writes_a_real_gzip_bomb(tmp_path):
    """The builder's file is a valid gzip stream (CRC and length right) that inflates to the IDX
    header of 5 labels and then zeros, so refusing the big one below is the reader's doing."""
    path = tmp_path / "small-bomb.gz"
    size = fuzz.write_gzip_bomb(path, labels=5, inflated=8 << 20, piece=1 << 20)
    inflated = gzip.decompress(path.read_bytes())
    assert inflated[:13] == bytes([0, 0, 8, 1, 0, 0, 0, 5, 0, 1, 2, 3, 4])
    assert len(inflated) == 13 + 8 * (1 << 20)
    assert inflated.count(0) == len(inflated) - 7  # only the type 8, ndim 1, size 5 and labels 1-4 are not zero
    assert size < len(inflated) // 500  # deflate squeezes zeros about 1000:1
    assert D.read_idx(_write(tmp_path / "labels", inflated[:13])).tolist() == [0, 1, 2, 3, 4]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_gzip_bomb_is_refused_in_under_a_second_and_50_MB(tmp_path):
    """Issue 8's acceptance: a ~1 MB gzip whose header declares 5 labels but inflates to 1 GiB (the
    old reader inflated all of it first: 2.1 GB peak, 6-11 s)."""
    root = tmp_path / "mnist"
    root.mkdir()
    bomb = root / "t10k-labels-idx1-ubyte.gz"
    size = fuzz.write_gzip_bomb(bomb, labels=5, inflated=1 << 30)
    assert 0.9e6 < size < 1.2e6
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(D.IDXFormatError, match=rf"{bomb}: inflates to more than the 13 bytes its header declares"):
        D.read_idx(bomb)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seconds < 1.0, f"{seconds:.2f} s"
    assert peak < 50e6, f"peak {peak / 1e6:.1f} MB"
    # through mnist() as well: five valid images beside the bomb
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    (root / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(fuzz.idx_bytes(images)))
    start = time.perf_counter()
    with pytest.raises(D.DatasetFormatError, match="inflates to more than"):
        D.mnist(root, train=False)
    assert time.perf_counter() - start < 1.0
