"""fukaku.save / fukaku.load: exact round trips, no pickle, atomic writes, clear errors on bad files."""
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku import nn, optim
from fukaku.serialization import CheckpointError

FORMATS = ["npz", pytest.param("safetensors", marks=pytest.mark.skipif(
    importlib.util.find_spec("safetensors") is None, reason="safetensors (optional extra) not installed"))]


def assert_same(a, b, where="root"):
    """Deep equality that also checks types, dtypes, shapes and dict key types and order."""
    assert type(a) is type(b) or (isinstance(a, fk.Tensor) and type(b) is fk.Tensor), (where, type(a), type(b))
    if isinstance(a, fk.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad, where
        np.testing.assert_array_equal(a.data.numpy(), b.data.numpy())
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, np.generic):
        assert a.dtype == b.dtype and (a == b or (np.isnan(a) and np.isnan(b))), where
    elif isinstance(a, dict):
        assert list(a) == list(b) and [type(k) for k in a] == [type(k) for k in b], where
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, where


def nested_object():
    fk.manual_seed(3)
    big_endian = np.arange(4, dtype=">i4")
    return {
        "model": OrderedDict([("0.weight", fk.randn(3, 2)), ("0.bias", fk.zeros(3, dtype=fk.float64)),
                              ("bn.num_batches_tracked", fk.tensor(7))]),
        "optimizer": {"state": {0: {"step": fk.tensor(3.0), "exp_avg": fk.ones(3, 2)}, 1: {"step": fk.tensor(3.0)}},
                      "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1], "amsgrad": False,
                                        "foreach": None}]},
        "epoch": 4,
        "rng": fk.get_rng_state(),  # PCG64: 128-bit Python ints
        "mt19937": np.random.MT19937(5).state,  # holds a uint32 key array
        "dtypes": [np.arange(5, dtype=dt) for dt in (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32,
                                                      np.int64, np.uint64, np.float16, np.float32, np.float64)],
        "bools": np.array([[True, False]]),
        "zero_d": np.array(2.5), "empty": np.zeros((0, 3), np.float32),
        "strided": np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2],  # not contiguous
        "big_endian": big_endian,
        "np_scalars": (np.float32(1.5), np.int64(-2), np.bool_(True)),
        "floats": [0.1, -0.0, float("inf"), float("-inf"), float("nan"), 1e-310],
        "grad_leaf": fk.ones(2, requires_grad=True),
        "param": nn.Parameter(fk.ones(2)),
        "keys": {(1, "a"): "tuple key", 2.5: "float key", None: "none key", True: "bool key", "s": "ünïcødé"},
        "empty_containers": [[], (), {}],
        # entry names are paths joined by '.': these collide with each other and with the structure entry
        "a.b": fk.zeros(1), "a": {"b": fk.ones(1)}, "__fukaku_structure__": fk.full((1,), 2.0),
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_keeps_values_types_dtypes_and_key_types(tmp_path, fmt):
    obj = nested_object()
    path = tmp_path / f"ckpt.{fmt}"
    fk.save(obj, path)
    back = fk.load(path)
    expected = dict(obj)
    expected["param"] = fk.Tensor(obj["param"].data.numpy(), requires_grad=True)  # a Parameter comes back as a Tensor
    expected["big_endian"] = obj["big_endian"] if fmt == "npz" else obj["big_endian"].astype("<i4")
    assert_same(expected, back)
    assert type(back["model"]) is OrderedDict and type(back["optimizer"]["param_groups"][0]["betas"]) is tuple
    assert list(back["optimizer"]["state"]) == [0, 1]
    assert back["rng"]["state"]["state"] == obj["rng"]["state"]["state"]
    back["model"]["0.weight"].data.numpy()[...] += 1  # loaded arrays are writable (optimizer state is updated in place)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_single_tensor_and_plain_values_round_trip(tmp_path, fmt):
    for obj in (fk.arange(6).reshape(2, 3), 3, "text", None, [1, [2, (3,)]]):
        fk.save(obj, tmp_path / f"x.{fmt}")
        assert_same(obj, fk.load(tmp_path / f"x.{fmt}"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_training_continues_identically_after_saving_model_and_optimizer(tmp_path, fmt):
    def make():
        fk.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
        return model, optim.Adam(model.parameters(), lr=0.01, amsgrad=True)

    x, y = fk.randn(16, 4), fk.randint(0, 3, (16,))
    loss_fn = nn.CrossEntropyLoss()

    def step(model, opt):
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    model, opt = make()
    for _ in range(3):
        step(model, opt)
    fk.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, tmp_path / f"c.{fmt}")
    model2, opt2 = make()
    state = fk.load(tmp_path / f"c.{fmt}")
    model2.load_state_dict(state["model"])
    opt2.load_state_dict(state["optimizer"])
    for _ in range(3):
        step(model, opt)
        step(model2, opt2)
    for p, q in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(p.data.numpy(), q.data.numpy())


def test_safetensors_state_dict_has_torch_key_names_and_loads_into_torch(tmp_path):
    st_torch = pytest.importorskip("safetensors.torch")
    fk.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))
    fk.save(model.state_dict(), tmp_path / "m.safetensors")
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2))
    tmodel.load_state_dict(st_torch.load_file(tmp_path / "m.safetensors"))  # strict: same keys and shapes
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(tmodel(torch.from_numpy(x)).detach().numpy(), model(fk.tensor(x)).data.numpy(), rtol=1e-6)
    # and the other way: a file written by torch's safetensors loads as a flat state dict
    st_torch.save_file(tmodel.state_dict(), tmp_path / "t.safetensors")
    model.load_state_dict(fk.load(tmp_path / "t.safetensors"))


# ---------------------------------------------------------------------- no pickle
def test_npz_opens_with_allow_pickle_false_and_holds_only_npy_entries(tmp_path):
    path = tmp_path / "c.npz"
    fk.save(nested_object(), path)
    with zipfile.ZipFile(path) as zf:
        assert all(name.endswith(".npy") for name in zf.namelist())
    with np.load(path, allow_pickle=False) as npz:
        for key in npz.files:
            assert npz[key].dtype != object
        structure = json.loads(npz["__fukaku_structure__"].tobytes())
    assert structure["fukaku"] == 1


def test_safetensors_bytes_are_the_header_and_the_tensors_only(tmp_path):
    pytest.importorskip("safetensors")
    path = tmp_path / "c.safetensors"
    fk.save(nested_object(), path)
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
    assert 8 + n + max(ends) == len(raw)  # every byte is the JSON header or a tensor's data
    json.loads(header["__metadata__"]["__fukaku_structure__"])


MARKER_PICKLE = """
import pickle, sys, numpy as np
class Evil:
    def __reduce__(self):
        return (open, (sys.argv[2], "w"))
np.savez(sys.argv[1], payload=np.array([Evil()], dtype=object))
"""


def test_a_pickled_entry_is_refused_and_never_executed(tmp_path):
    path, marker = tmp_path / "evil.npz", tmp_path / "pwned"
    subprocess.run([sys.executable, "-c", MARKER_PICKLE, str(path), str(marker)], check=True)
    assert not marker.exists()
    with pytest.raises(CheckpointError, match="evil.npz"):
        fk.load(path)
    assert not marker.exists()


# ---------------------------------------------------------------------- what cannot be saved
@pytest.mark.parametrize("fmt", FORMATS)
def test_unsupported_objects_raise_before_the_file_is_touched(tmp_path, fmt):
    path = tmp_path / f"c.{fmt}"
    fk.save({"v": 1}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"set.*\['b'\]\[0\]"):
        fk.save({"a": 1, "b": [{1, 2}]}, path)
    with pytest.raises(TypeError, match="dtype object"):
        fk.save(np.array([None]), path)
    with pytest.raises(TypeError, match="dict key"):
        fk.save({frozenset(): 1}, path)
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        fk.save(loop, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == [path.name]


def test_complex_arrays_need_npz(tmp_path):
    pytest.importorskip("safetensors")
    z = np.array([1 + 2j], dtype=np.complex64)
    with pytest.raises(TypeError, match=r"complex64.*\.npz"):
        fk.save(z, tmp_path / "z.safetensors")
    fk.save(z, tmp_path / "z.npz")
    assert_same(z, fk.load(tmp_path / "z.npz"))


@pytest.mark.parametrize("name", ["model.pt", "model.pth", "model", "model.json"])
def test_unknown_suffix_is_refused_with_the_supported_ones(tmp_path, name):
    with pytest.raises(ValueError, match=r"\.safetensors or \.npz"):
        fk.save({}, tmp_path / name)
    with pytest.raises(ValueError, match=r"\.safetensors or \.npz"):
        fk.load(tmp_path / name)


def test_file_objects_are_refused():
    with pytest.raises(TypeError, match="path"):
        fk.save({}, open(os.devnull, "wb"))


def test_missing_file_and_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        fk.load(tmp_path / "nope.npz")
    with pytest.raises(FileNotFoundError, match="no_dir"):
        fk.save({}, tmp_path / "no_dir" / "c.npz")


# ---------------------------------------------------------------------- corrupt files
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("cut", [0.5, 0.99, 10, 0])
def test_truncated_file_gives_an_error_naming_it(tmp_path, fmt, cut):
    path = tmp_path / f"ckpt.{fmt}"
    fk.save(nested_object(), path)
    raw = path.read_bytes()
    keep = int(len(raw) * cut) if isinstance(cut, float) else cut
    path.write_bytes(raw[:keep])
    with pytest.raises(CheckpointError, match=f"ckpt.{fmt}"):
        fk.load(path)


def test_flipped_byte_in_npz_data_fails_its_crc(tmp_path):
    path = tmp_path / "c.npz"
    fk.save({"w": np.zeros(1000, np.float32)}, path)
    raw = bytearray(path.read_bytes())
    at = raw.index(b"\x00" * 400) + 200  # inside the array's data
    raw[at] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match=r"c\.npz.*CRC"):
        fk.load(path)


def _npz_with_structure(path, structure, **arrays):
    entries = {"__fukaku_structure__": np.frombuffer(json.dumps(structure).encode(), np.uint8), **arrays}
    np.savez(path, **entries)


@pytest.mark.parametrize("structure, arrays, message", [
    ({"fukaku": 1, "root": {"tensor": "w"}}, {}, "does not contain"),
    ({"fukaku": 1, "root": {"dict": [["a", {"tensor": "w"}]]}}, {"w": np.ones(2), "x": np.ones(2)}, "not part"),
    ({"fukaku": 1, "root": {"set": [1]}}, {}, "unknown or malformed"),
    ({"fukaku": 1, "root": {"dict": [["a"]]}}, {}, r"\[key, value\] pair"),
    ({"fukaku": 1, "root": {"dict": [[[1], 2]]}}, {}, "not hashable"),
    ({"fukaku": 99, "root": None}, {}, "version 99"),
    ({"root": None}, {}, "lacks"),
    ({"fukaku": 1, "root": {"tensor": "w", "ndarray": "w"}}, {"w": np.ones(2)}, "exactly one tag"),
])
def test_bad_structure_is_reported(tmp_path, structure, arrays, message):
    path = tmp_path / "bad.npz"
    _npz_with_structure(path, structure, **arrays)
    with pytest.raises(CheckpointError, match=f"bad.npz.*{message}"):
        fk.load(path)


def test_foreign_npz_without_structure_loads_as_a_flat_dict_of_tensors(tmp_path):
    np.savez(tmp_path / "w.npz", weight=np.eye(2, dtype=np.float32), bias=np.zeros(2))
    back = fk.load(tmp_path / "w.npz")
    assert set(back) == {"weight", "bias"} and isinstance(back["weight"], fk.Tensor)
    assert back["weight"].dtype == np.float32 and back["bias"].dtype == np.float64


# ---------------------------------------------------------------------- atomic writes
CHILD = """
import os, signal, sys, time
import numpy as np
import fukaku as fk
path, mode = sys.argv[1], sys.argv[2]
new = {"epoch": 2, "w": np.full(4_000_000, 2.0, np.float64),
       "parts": [np.full(1000, i, np.float32) for i in range(200)]}
if mode == "half":
    # SIGKILL this process once half of the file's bytes are written: a crash in the middle of a write
    real_fdopen = os.fdopen
    class Dying:
        def __init__(self, f):
            self.f, self.written = f, 0
        def write(self, b):
            room = 17_000_000 - self.written
            if len(b) >= room:
                self.f.write(memoryview(b)[:room])
                self.f.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            self.written += len(b)
            return self.f.write(b)
        def __getattr__(self, name):
            return getattr(self.f, name)
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            self.f.close()
    os.fdopen = lambda fd, *a, **k: Dying(real_fdopen(fd, *a, **k))
elif mode == "before_rename":
    os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
print("ready", flush=True)
if mode == "loop":
    while True:
        fk.save(new, path)
fk.save(new, path)
print("survived", flush=True)
"""


def _old_checkpoint(path):
    fk.save({"epoch": 1, "w": np.ones(4_000_000, np.float64), "parts": [np.zeros(3, np.float32)]}, path)
    return path.read_bytes()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("mode", ["half", "before_rename"])
def test_writer_killed_mid_save_leaves_previous_checkpoint_intact(tmp_path, fmt, mode):
    path = tmp_path / f"ckpt.{fmt}"
    before = _old_checkpoint(path)
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path), mode], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert "survived" not in proc.stdout
    leftovers = [p for p in os.listdir(tmp_path) if p != path.name]
    assert len(leftovers) == 1 and leftovers[0].startswith(f".{path.name}.") and leftovers[0].endswith(".tmp")
    if mode == "half":  # the temporary file really is half-written
        assert 16_000_000 < os.path.getsize(tmp_path / leftovers[0]) <= 17_000_000  # of ~33 MB
    assert path.read_bytes() == before
    back = fk.load(path)
    assert back["epoch"] == 1 and back["w"].sum() == 4_000_000


@pytest.mark.parametrize("fmt", FORMATS)
def test_writer_killed_at_an_arbitrary_moment_leaves_a_loadable_checkpoint(tmp_path, fmt):
    """A real SIGKILL from outside while the child saves over and over: whatever moment it lands
    at, the checkpoint is one of the complete versions, never a mixture or a truncated file."""
    path = tmp_path / f"ckpt.{fmt}"
    _old_checkpoint(path)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), "loop"], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 20
        while not any(p.endswith(".tmp") for p in os.listdir(tmp_path)):  # wait until a write is under way
            assert time.monotonic() < deadline, "the writer never made a temporary file"
            time.sleep(0.001)
    finally:
        child.kill()  # SIGKILL, also when the wait above failed
        child.wait(timeout=30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    back = fk.load(path)
    assert back["epoch"] in (1, 2)
    assert np.all(back["w"] == back["epoch"])


def test_an_exception_during_the_write_removes_the_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    before = _old_checkpoint(path)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", broken)
    with pytest.raises(OSError, match="disk full"):
        fk.save({"w": np.ones(3)}, path)
    assert os.listdir(tmp_path) == ["c.npz"] and path.read_bytes() == before


def test_save_replaces_an_existing_file_and_keeps_no_temporaries(tmp_path):
    path = tmp_path / "c.npz"
    for i in range(3):
        fk.save({"i": i}, path)
    assert fk.load(path) == {"i": 2} and os.listdir(tmp_path) == ["c.npz"]


def test_top_level_export():
    assert fk.save is fk.serialization.save and "save" in fk.__all__ and "load" in fk.__all__
