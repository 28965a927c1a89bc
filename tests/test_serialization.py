"""fukaku.save / fukaku.load: exact round trips, no pickle, atomic writes, clear errors on bad files."""
import base64
import io
import json
import os
import pickle
import signal
import subprocess
import sys
import time
import zipfile
import zlib
from collections import Counter, OrderedDict

import numpy as np
import pytest
import torch

import fukaku as fk
import fukaku.nn.functional as F
from fukaku import nn, optim
from fukaku._device import DeviceError
from fukaku.serialization import (CheckpointError, UnsafeLoadError, add_safe_globals, clear_safe_globals,
                                  get_safe_globals, safe_globals)

FORMATS = ["npz", "safetensors"]  # fukaku reads and writes both itself (tests that use the safetensors package
# itself, as the reference, import it with pytest.importorskip)


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
        "rng": fk.get_rng_state(),
        "big_ints": [2**127 + 5, -(2**100)],  # PCG64's state is 128-bit Python ints
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
        "empty_containers": [[], (), {}, set(), frozenset()],
        "sets": ({1, "a", (2, 3)}, frozenset({-1.5})),
        "complex": [1 + 2j, complex(0.0, float("inf"))],
        "bytes": [b"\x00\xffabc", b""],
        "dtypes_as_values": [fk.float64, fk.int64, fk.float32, np.dtype(">u2"), np.dtype("<M8[s]")],
        "devices": [fk.device("cpu"), fk.device("cuda", 1)], "shape": fk.zeros(2, 3).shape,
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
    expected["big_endian"] = obj["big_endian"] if fmt == "npz" else obj["big_endian"].astype("<i4")
    assert_same(expected, back)
    assert type(back["model"]) is OrderedDict and type(back["optimizer"]["param_groups"][0]["betas"]) is tuple
    assert list(back["optimizer"]["state"]) == [0, 1]
    assert back["dtypes_as_values"][0] is fk.float64 and back["dtypes_as_values"][2] is fk.float32
    assert type(back["param"]) is nn.Parameter  # as torch.load gives a Parameter back
    assert type(back["shape"]) is fk.Size and back["devices"][1] == fk.device("cuda:1")
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
    # and the other way: a file written by torch's safetensors loads as a flat state dict, value for value
    with torch.no_grad():
        for p in tmodel.parameters():
            p.mul_(-2.5).add_(0.125)  # other values than fukaku's model holds
    st_torch.save_file(tmodel.state_dict(), tmp_path / "t.safetensors")
    back = fk.load(tmp_path / "t.safetensors")
    assert set(back) == set(tmodel.state_dict())
    for key, value in tmodel.state_dict().items():
        assert back[key].dtype == fk.float32 and tuple(back[key].shape) == tuple(value.shape), key
        np.testing.assert_array_equal(back[key].numpy(), value.numpy(), err_msg=key)
    model.load_state_dict(back)
    np.testing.assert_allclose(model(fk.tensor(x)).data.numpy(), tmodel(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-6)


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
    assert structure["fukaku"] == 3


def test_safetensors_bytes_are_the_header_and_the_tensors_only(tmp_path):
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
    with pytest.raises(TypeError, match=r"slice.*\['b'\]\[0\]"):
        fk.save({"a": 1, "b": [slice(2)]}, path)
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
    z = np.array([1 + 2j], dtype=np.complex64)
    with pytest.raises(TypeError, match=r"complex64.*npz container"):
        fk.save(z, tmp_path / "z.safetensors")
    fk.save(z, tmp_path / "z.npz")
    assert_same(z, fk.load(tmp_path / "z.npz"))


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
    with open(path, "wb") as fh:  # np.savez would append .npz to any other name
        np.savez(fh, **entries)


@pytest.mark.parametrize("structure, arrays, message", [
    ({"fukaku": 1, "root": {"tensor": "w"}}, {}, "does not contain"),
    ({"fukaku": 1, "root": {"dict": [["a", {"tensor": "w"}]]}}, {"w": np.ones(2), "x": np.ones(2)}, "not part"),
    ({"fukaku": 1, "root": {"bogus": [1]}}, {}, "unknown or malformed"),
    ({"fukaku": 2, "root": {"alias": 0}}, {}, "unknown or malformed"),
    ({"fukaku": 2, "root": {"dtype": "float99"}}, {}, "unknown fukaku dtype"),
    ({"fukaku": 2, "root": {"np_dtype": "O"}}, {}, "holds Python objects"),
    ({"fukaku": 2, "root": {"set": [[1]]}}, {}, "unhashable"),
    ({"fukaku": 2, "root": {"module": "nn.Linear", "state": {"dict": []}}}, {}, r"\[module, qualified name\]"),
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


@pytest.mark.parametrize("savez", [np.savez, np.savez_compressed])
def test_foreign_npz_without_structure_loads_as_a_flat_dict_of_tensors(tmp_path, savez):
    rng = np.random.default_rng(4)
    arrays = {"weight": rng.standard_normal((3, 2)).astype(np.float32), "bias": rng.standard_normal(2),
              "big_endian": np.arange(-3, 3, dtype=">i4"), "fortran": np.asfortranarray(rng.standard_normal((2, 3))),
              "mask": np.array([True, False, True]), "scalar": np.array(7, np.int16), "empty": np.zeros((0, 2))}
    savez(tmp_path / "w.npz", **arrays)
    back = fk.load(tmp_path / "w.npz")
    assert list(back) == list(arrays)
    for key, arr in arrays.items():
        assert type(back[key]) is fk.Tensor and back[key]._data.dtype == arr.dtype and back[key].shape == arr.shape
        np.testing.assert_array_equal(back[key]._data, arr, err_msg=key)


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


# A process that imports fukaku once, then on each "go" forks a writer that saves NEW_CHECKPOINT to the
# path and exits, and reports its pid; on "reap" it waits for that writer and reports how it ended. The
# writer is reaped only when the test says so, so its pid stays its own (a zombie at worst) until then.
WRITERS = """
import os, signal, sys
import numpy as np
import fukaku as fk
path = sys.argv[1]
new = {"epoch": 2, "w": np.full(200_000, 2.0, np.float64),
       "parts": [np.full(100, i, np.float32) for i in range(100)]}
for line in sys.stdin:
    if line.strip() == "go":
        pid = os.fork()
        if pid == 0:
            fk.save(new, path)
            os._exit(0)
        print(pid, flush=True)
    else:
        status = os.waitpid(pid, 0)[1]
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        print("killed" if killed else f"exited {os.waitstatus_to_exitcode(status)}", flush=True)
"""


def _is_new_checkpoint(back) -> bool:
    return (back["epoch"] == 2 and back["w"].shape == (200_000,) and bool(np.all(back["w"] == 2.0))
            and [float(p.mean()) for p in back["parts"]] == list(range(100)))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forks the writers (POSIX)")
@pytest.mark.parametrize("fmt", FORMATS)
def test_writers_killed_at_random_moments_leave_the_old_file_or_the_complete_new_one(tmp_path, fmt):
    """30 writers (up to 90 until 5 kills land mid-write), each SIGKILLed from outside after a random
    delay across the length of a save: each time the checkpoint is byte for byte the old file or the
    complete new one (digest-valid: fk.load checks it), never a mixture or a truncated file; and many
    of the kills land mid-write. (Three writers first run to the end: the new version they leave is
    checked the same way.)"""
    path = tmp_path / f"ckpt.{fmt}"
    fk.save({"epoch": 1, "w": np.ones(200_000, np.float64), "parts": [np.zeros(3, np.float32)]}, path)
    old = path.read_bytes()
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    zygote = subprocess.Popen([sys.executable, "-c", WRITERS, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env)

    def writer(delay: float | None) -> tuple[str, float]:
        zygote.stdin.write("go\n")
        zygote.stdin.flush()
        pid, start = int(zygote.stdout.readline()), time.perf_counter()
        if delay is not None:
            time.sleep(delay)
            os.kill(pid, signal.SIGKILL)  # not reaped yet: the pid is still the writer's
        zygote.stdin.write("reap\n")
        zygote.stdin.flush()
        return zygote.stdout.readline().strip(), time.perf_counter() - start

    rng = np.random.default_rng(8)
    outcomes = Counter()
    try:
        took = sorted(writer(None)[1] for _ in range(3))[1]  # how long one save takes here, now
        assert _is_new_checkpoint(fk.load(path))
        for attempt in range(90):  # 30 kills, more while fewer than 5 landed mid-write (a busy machine's timing)
            if attempt >= 30 and outcomes["old, killed mid-write"] >= 5:
                break
            path.write_bytes(old)
            for leftover in tmp_path.glob(f".{path.name}.*.tmp"):
                leftover.unlink()
            ended, _ = writer(float(rng.uniform(0, 1.2 * took)))
            assert ended in ("killed", "exited 0"), ended
            mid_write = ended == "killed" and any(tmp_path.glob(f".{path.name}.*.tmp"))
            assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".tmp")) == [path.name]
            if path.read_bytes() == old:
                outcomes["old, killed mid-write" if mid_write else "old"] += 1
            else:
                assert _is_new_checkpoint(fk.load(path)), ended  # fk.load verifies the digest
                outcomes["new"] += 1
    finally:
        zygote.stdin.close()
        zygote.kill()
        zygote.wait(timeout=30)
        zygote.stdout.close()
    assert outcomes["old, killed mid-write"] >= 5, outcomes  # the kills did land inside writes


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


# ---------------------------------------------------------------------- any name, file objects, format by content
@pytest.mark.parametrize("name", ["model.pt", "ckpt.pth", "run", "weights.json", "c.npz"])
def test_any_file_name_gets_the_npz_container(tmp_path, name):
    obj = nested_object()
    fk.save(obj, tmp_path / name)
    assert_same(obj, fk.load(tmp_path / name))
    assert_same(obj, fk.load(str(tmp_path / name)))
    with zipfile.ZipFile(tmp_path / name) as zf:
        assert all(entry.endswith(".npy") for entry in zf.namelist())
    with np.load(tmp_path / name, allow_pickle=False) as npz:
        assert "__fukaku_structure__" in npz.files


def test_file_objects_are_written_and_read_from_their_position(tmp_path):
    obj = nested_object()
    buffer = io.BytesIO()
    fk.save(obj, buffer)
    buffer.seek(0)
    assert_same(obj, fk.load(buffer))
    with open(tmp_path / "c.pt", "wb") as fh:
        fh.write(b"a header of the caller's")
        fk.save(obj, fh)
    with open(tmp_path / "c.pt", "rb") as fh:
        fh.seek(len(b"a header of the caller's"))
        assert_same(obj, fk.load(fh))


def test_text_mode_files_and_other_objects_are_refused(tmp_path):
    with open(tmp_path / "t.txt", "w") as fh, pytest.raises(TypeError, match="binary mode"):
        fk.save({}, fh)
    (tmp_path / "t.txt").write_text("text")
    with open(tmp_path / "t.txt") as fh, pytest.raises(TypeError, match="binary mode"):
        fk.load(fh)
    with pytest.raises(TypeError, match="path .* or a binary file object"):
        fk.save({}, 3)
    with pytest.raises(TypeError, match="path .* or a binary file object"):
        fk.load(3)


def test_the_format_is_read_from_the_content_not_the_name(tmp_path):
    state = OrderedDict(weight=fk.randn(2, 3), bias=fk.zeros(2))
    fk.save(state, tmp_path / "m.safetensors")
    (tmp_path / "m.pt").write_bytes((tmp_path / "m.safetensors").read_bytes())
    assert_same(state, fk.load(tmp_path / "m.pt"))
    assert_same(state, fk.load(io.BytesIO((tmp_path / "m.safetensors").read_bytes())))
    buffer = io.BytesIO()
    fk.save(state, buffer)  # the npz container, under a .safetensors name
    (tmp_path / "n.safetensors").write_bytes(buffer.getvalue())
    assert_same(state, fk.load(tmp_path / "n.safetensors"))
    (tmp_path / "junk.pt").write_bytes(b"\x01\x02 not a checkpoint")
    with pytest.raises(CheckpointError, match=r"junk\.pt.*neither"):
        fk.load(tmp_path / "junk.pt")


def test_a_flat_state_dict_to_a_safetensors_path_is_plain_safetensors(tmp_path):
    st_torch = pytest.importorskip("safetensors.torch")
    state = OrderedDict([("layer.weight", fk.randn(2, 3)), ("layer.bias", fk.zeros(2, dtype=fk.float64))])
    fk.save(state, tmp_path / "m.safetensors")
    back = st_torch.load_file(tmp_path / "m.safetensors")
    assert set(back) == set(state)
    for key, value in state.items():
        np.testing.assert_array_equal(back[key].numpy(), value.numpy())
        assert str(back[key].dtype) == f"torch.{np.dtype(value.dtype).name}"


class Evil:
    """Pickles to a call of open(marker, 'w'): the file appears if the pickle is ever loaded."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "legacy pickle"])
def test_a_torch_save_file_is_refused_with_how_to_convert_it_and_never_unpickled(tmp_path, zipped):
    marker = tmp_path / "pwned"
    torch.save({"weight": torch.ones(2), "payload": Evil(marker)}, tmp_path / "m.pt",
               _use_new_zipfile_serialization=zipped)
    with pytest.raises(CheckpointError, match=r"m\.pt.*(torch\.save|pickle).*safetensors\.torch\.save_file"):
        fk.load(tmp_path / "m.pt")
    with pytest.raises(CheckpointError, match="never unpickles"):
        fk.load(io.BytesIO((tmp_path / "m.pt").read_bytes()))
    assert not marker.exists()


# ---------------------------------------------------------------------- what PyTorch programs save
def _skeleton(obj):
    """The shape of a loaded object with torch's and fukaku's types named alike: what torch.load gives
    back for a torch object and fukaku.load for the same object built with fukaku must match."""
    if isinstance(obj, (torch.Tensor, fk.Tensor)):
        kind = "parameter" if isinstance(obj, (torch.nn.Parameter, nn.Parameter)) else "tensor"
        return (kind, str(obj.dtype).rsplit(".", 1)[-1], tuple(obj.shape), obj.requires_grad)
    if isinstance(obj, (torch.dtype, np.dtype, type(fk.float32))):
        return ("dtype", str(obj).rsplit(".", 1)[-1])
    if isinstance(obj, (torch.device, fk.device)):
        return ("device", str(obj))
    if isinstance(obj, dict):
        return (type(obj).__name__, [(type(k).__name__, k, _skeleton(v)) for k, v in obj.items()])
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [_skeleton(v) for v in obj])
    return (type(obj).__name__, obj)


def _checkpoint(lib, Parameter):
    return {
        "model": OrderedDict([("0.weight", lib.ones(3, 2)), ("0.bias", lib.zeros(3, dtype=lib.float64))]),
        "optimizer": {"state": {0: {"step": lib.tensor(3.0), "exp_avg": lib.ones(3, 2)}},
                      "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1], "foreach": None}]},
        "epoch": 7, "losses": [0.9, 0.5, 0.25], "best": lib.tensor(0.25, dtype=lib.float64),
        "tensors": [lib.zeros(2, dtype=lib.int64), lib.ones(1, requires_grad=True)],
        "param": Parameter(lib.ones(2)), "frozen": Parameter(lib.ones(2), requires_grad=False),
        "dtype": lib.float64, "seen": {1, 2}, "z": 1 + 2j, "raw": b"\x00\x01", "nothing": None, "name": "run-3",
        "device": lib.device("cpu"), "gpu": lib.device("cuda", 0), "shape": lib.zeros(2, 3).shape,
    }


def test_checkpoint_dicts_come_back_as_torch_load_gives_them_back(tmp_path):
    torch.save(_checkpoint(torch, torch.nn.Parameter), tmp_path / "t.pt")
    expected = _skeleton(torch.load(tmp_path / "t.pt", weights_only=True))
    fk.save(_checkpoint(fk, nn.Parameter), tmp_path / "f.pt")
    assert _skeleton(fk.load(tmp_path / "f.pt")) == expected


def test_a_numpy_array_and_a_list_of_tensors(tmp_path):
    arr = np.arange(6.0).reshape(2, 3)
    fk.save(arr, tmp_path / "a.pt")
    assert_same(arr, fk.load(tmp_path / "a.pt"))
    tensors = [fk.randn(2), fk.arange(3), fk.ones(1, 1, dtype=fk.float64)]
    fk.save(tensors, tmp_path / "l.pt")
    assert_same(tensors, fk.load(tmp_path / "l.pt"))


def test_an_object_met_twice_comes_back_as_one(tmp_path):
    t, arr = fk.randn(3), np.ones(2)
    fk.save({"a": [t, arr], "b": (t, arr), "c": t.detach()}, tmp_path / "s.pt")
    back = fk.load(tmp_path / "s.pt")
    assert back["a"][0] is back["b"][0] and back["a"][1] is back["b"][1]
    assert back["c"] is not back["a"][0]  # another Tensor object: stored twice, as torch shares storage only
    np.testing.assert_array_equal(back["c"].numpy(), t.numpy())


# ---------------------------------------------------------------------- whole modules and the allowlist
class Block(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.enc = nn.Linear(n, 2 * n)
        self.dec = nn.Linear(2 * n, n, bias=False)
        self.dec.weight = nn.Parameter(fk.randn(n, 2 * n))
        self.register_buffer("scale", fk.full((n,), 0.5))
        self.register_buffer("cache", fk.zeros(1), persistent=False)
        self.act = F.relu  # a function held as a value: saved as its name
        self.width, self.note, self.dtype = n, {"kind": "block", "sizes": (n, 2 * n)}, fk.float64

    def forward(self, x):
        return self.dec(self.act(self.enc(x))) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block(3)
        self.again = self.block  # a shared submodule
        self.head = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3))
        self.tied = self.head[0]  # the same Linear again
        self.proj = nn.Linear(3, 4, bias=False)
        self.proj.weight = self.head[0].weight  # a tied weight

    def forward(self, x):
        return self.head(self.block(x)) + self.again(x)


NET_GLOBALS = [Net, Block, nn.Linear, nn.Sequential, nn.Tanh, F.relu]


def test_a_whole_module_needs_its_classes_allowlisted(tmp_path):
    fk.manual_seed(0)
    model = Net().eval()
    fk.save(model, tmp_path / "model.pt")
    with pytest.raises(UnsafeLoadError, match=r"model\.pt.*Net.*Block.*Linear.*relu.*safe_globals\(\[") as err:
        fk.load(tmp_path / "model.pt")
    with pytest.raises(UnsafeLoadError):
        fk.load(tmp_path / "model.pt", weights_only=None)  # None means the default, True, as in torch
    assert isinstance(err.value, pickle.UnpicklingError)  # what torch.load(weights_only=True) raises
    with pytest.raises(UnsafeLoadError, match="Sequential, Tanh"):  # every class missing is named at once
        with safe_globals([Net, Block, nn.Linear, F.relu]):
            fk.load(tmp_path / "model.pt")
    before = get_safe_globals()
    with safe_globals(NET_GLOBALS):
        back = fk.load(tmp_path / "model.pt")
    assert get_safe_globals() == before
    x = fk.randn(5, 3)
    np.testing.assert_array_equal(back(x).detach().numpy(), model(x).detach().numpy())
    assert type(back) is Net and type(back.head) is nn.Sequential and not back.training
    assert back.again is back.block and back.tied is back.head[0] and back.proj.weight is back.head[0].weight
    assert len(list(back.parameters())) == len(list(model.parameters()))
    assert back.block.act is F.relu and back.block.note == {"kind": "block", "sizes": (3, 6)}
    assert back.block.dtype is fk.float64 and back.block.width == 3
    assert list(back.state_dict()) == list(model.state_dict()) and "block.cache" not in back.state_dict()
    assert all(type(p) is nn.Parameter and p.requires_grad for p in back.parameters())
    assert repr(back) == repr(model)


def test_a_loaded_module_trains_like_the_original(tmp_path):
    fk.manual_seed(1)
    model = Net()
    fk.save(model, tmp_path / "model.pt")
    with safe_globals(NET_GLOBALS):
        copy = fk.load(tmp_path / "model.pt")
    x, y = fk.randn(8, 3), fk.randn(8, 3)
    for m in (model, copy):
        opt = optim.SGD(m.parameters(), lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            ((m(x) - y) ** 2).mean().backward()
            opt.step()
    for (name, p), q in zip(model.named_parameters(), copy.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy(), err_msg=name)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_whole_module_in_either_format(tmp_path, fmt):
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.BatchNorm1d(3))
    model(fk.randn(4, 2))  # running statistics move
    fk.save(model, tmp_path / f"m.{fmt}")
    with safe_globals([nn.Sequential, nn.Linear, nn.ReLU, nn.BatchNorm1d]):
        back = fk.load(tmp_path / f"m.{fmt}")
    assert_same(model.state_dict(), back.state_dict())


def test_weights_only_false_finds_imported_module_classes_and_nothing_else(tmp_path):
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    fk.save(model, tmp_path / "m.pt")
    back = fk.load(tmp_path / "m.pt", weights_only=False)
    assert_same(model.state_dict(), back.state_dict())

    class Local(nn.Module):  # not reachable by name from sys.modules
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(1, 1)

    fk.save(Local(), tmp_path / "local.pt")
    with pytest.raises(UnsafeLoadError, match=r"Local.*imported"):
        fk.load(tmp_path / "local.pt", weights_only=False)
    with safe_globals([Local]):
        assert type(fk.load(tmp_path / "local.pt", weights_only=False)) is Local
    fk.save({"act": F.relu}, tmp_path / "f.pt")  # functions need the allowlist whatever weights_only says
    with pytest.raises(UnsafeLoadError, match="relu"):
        fk.load(tmp_path / "f.pt", weights_only=False)
    with safe_globals([F.relu]):
        assert fk.load(tmp_path / "f.pt")["act"] is F.relu


def test_whole_torch_and_fukaku_modules_are_refused_alike(tmp_path):
    torch.save(torch.nn.Linear(2, 2), tmp_path / "t.pt")
    with pytest.raises(pickle.UnpicklingError, match="Linear"):
        torch.load(tmp_path / "t.pt", weights_only=True)
    fk.save(nn.Linear(2, 2), tmp_path / "f.pt")
    with pytest.raises(pickle.UnpicklingError, match="Linear"):
        fk.load(tmp_path / "f.pt", weights_only=True)


def test_the_allowlist_functions_behave_as_torchs():
    from torch import serialization as ts

    def names(entries):
        return sorted((e[1] if isinstance(e, tuple) else f"{e.__module__}.{e.__qualname__}")
                      .replace("torch.nn", "NN").replace("fukaku.nn", "NN") for e in entries)

    torch_before, fk_before = ts.get_safe_globals(), get_safe_globals()
    try:
        results = []
        for lib, linear, relu in ((ts, torch.nn.Linear, torch.nn.ReLU), (fk.serialization, nn.Linear, nn.ReLU)):
            lib.clear_safe_globals()
            steps = []
            lib.add_safe_globals([linear, linear])
            steps.append(names(lib.get_safe_globals()))
            with lib.safe_globals([relu, (relu, "renamed.ReLU")]):
                steps.append(names(lib.get_safe_globals()))
            steps.append(names(lib.get_safe_globals()))
            lib.clear_safe_globals()
            steps.append(names(lib.get_safe_globals()))
            with pytest.raises(TypeError):
                lib.add_safe_globals(linear)  # a list is required
            results.append(steps)
        assert results[0] == results[1]
    finally:
        ts.clear_safe_globals()
        ts.add_safe_globals(torch_before)
        clear_safe_globals()
        add_safe_globals(fk_before)


def test_an_allowlisted_pair_names_a_class_that_moved(tmp_path):
    fk.save(nn.Linear(2, 2), tmp_path / "m.pt")
    structure = json.loads(np.load(tmp_path / "m.pt")["__fukaku_structure__"].tobytes())
    structure["root"]["module"] = ["old.place", "Dense"]
    structure["fukaku"] = 2  # an edited structure without its digest: a version-2 file
    _npz_with_structure(tmp_path / "moved.pt", structure, **{k: v for k, v in np.load(tmp_path / "m.pt").items()
                                                             if not k.startswith("__fukaku_")})
    with pytest.raises(UnsafeLoadError, match=r"old\.place\.Dense"):
        fk.load(tmp_path / "moved.pt")
    with safe_globals([(nn.Linear, "old.place.Dense")]):
        assert type(fk.load(tmp_path / "moved.pt")) is nn.Linear


def test_what_cannot_be_named_is_refused_at_save(tmp_path):
    model = nn.Linear(2, 2)
    model.register_forward_hook(lambda m, i, o: None)
    with pytest.raises(TypeError, match=r"lambda at \['_forward_hooks'\]\[0\].*hook"):
        fk.save(model, tmp_path / "m.pt")
    with pytest.raises(TypeError, match="cannot save a Generator"):
        fk.save({"rng": np.random.default_rng()}, tmp_path / "m.pt")
    assert not (tmp_path / "m.pt").exists()


# ---------------------------------------------------------------------- a crafted file never runs code
CALLS = []


def record_call(*args, **kwargs):
    """Stands for a payload: if a load ever called what the file names, CALLS would say so."""
    CALLS.append((args, kwargs))


CALLABLES = [[os.system.__module__, "system"], ["builtins", "eval"], ["builtins", "exec"], ["subprocess", "Popen"],
             [os.remove.__module__, "remove"], [__name__, "record_call"]]


@pytest.mark.parametrize("weights_only", [True, False])
@pytest.mark.parametrize("named", CALLABLES, ids=lambda n: ".".join(n))
def test_a_file_naming_a_callable_as_a_module_class_is_refused_and_runs_nothing(tmp_path, named, weights_only):
    marker = tmp_path / "pwned"
    payload = {"dict": [["_parameters", {"dict": []}], ["_buffers", {"dict": []}], ["_modules", {"dict": []}],
                        ["args", f"touch {marker}"], ["path", str(marker)]]}
    _npz_with_structure(tmp_path / "evil.pt", {"fukaku": 2, "root": {"module": named, "state": payload}})
    _npz_with_structure(tmp_path / "evil_value.pt", {"fukaku": 2, "root": {"dict": [["f", {"global": named}]]}})
    with pytest.raises(UnsafeLoadError, match=r"evil\.pt.*" + ".".join(named).replace(".", r"\.")):
        fk.load(tmp_path / "evil.pt", weights_only=weights_only)
    with pytest.raises(UnsafeLoadError, match=r"evil_value\.pt.*function or class held as a value"):
        fk.load(tmp_path / "evil_value.pt", weights_only=weights_only)
    # even allowlisted, a callable is never called: only Module subclasses are restored as modules
    target = record_call if named[1] == "record_call" else eval(f"__import__('{named[0]}').{named[1]}")
    with safe_globals([target]):
        with pytest.raises(UnsafeLoadError, match="not a subclass of fukaku.nn.Module"):
            fk.load(tmp_path / "evil.pt", weights_only=weights_only)
        assert fk.load(tmp_path / "evil_value.pt", weights_only=weights_only) == {"f": target}
    assert CALLS == [] and not marker.exists()


def test_an_allowlisted_module_class_gets_data_not_code(tmp_path):
    """A file may give an allowed class any state, but a callable inside it must be allowed too."""
    state = {"dict": [["_parameters", {"dict": []}], ["_buffers", {"dict": []}], ["_modules", {"dict": []}],
                      ["forward", {"global": [__name__, "record_call"]}]]}
    _npz_with_structure(tmp_path / "evil.pt", {"fukaku": 2, "root": {"module": [__name__, "Net"], "state": state}})
    with safe_globals([Net]), pytest.raises(UnsafeLoadError, match="record_call"):
        fk.load(tmp_path / "evil.pt")
    _npz_with_structure(tmp_path / "bad.pt",
                        {"fukaku": 2, "root": {"module": [__name__, "Net"], "state": {"dict": []}}})
    with safe_globals([Net]), pytest.raises(CheckpointError, match="lacks _parameters"):
        fk.load(tmp_path / "bad.pt")
    assert CALLS == []


# ---------------------------------------------------------------------- map_location
@pytest.mark.parametrize("location", [None, "cpu", "cpu:0", torch.device("cpu"), fk.device("cpu"), {"cuda:0": "cpu"},
                                      {"cpu": "cpu"}, lambda storage, loc: storage, lambda storage, loc: None],
                         ids=["none", "cpu", "cpu:0", "torch.device", "fk.device", "cuda-to-cpu", "cpu-to-cpu", "fn",
                              "fn-none"])
def test_map_location_to_the_cpu(tmp_path, location):
    state = {"w": fk.randn(2, 2), "p": nn.Parameter(fk.ones(1))}
    fk.save(state, tmp_path / "c.pt")
    back = fk.load(tmp_path / "c.pt", map_location=location)
    assert_same(state, back)


def test_map_location_as_a_function_sees_every_tensor(tmp_path):
    fk.save({"w": fk.ones(2), "p": nn.Parameter(fk.ones(1)), "n": [1]}, tmp_path / "c.pt")
    seen = []
    back = fk.load(tmp_path / "c.pt", lambda t, loc: seen.append(loc) or t * 2)
    assert seen == ["cpu", "cpu"] and back["w"].tolist() == [2.0, 2.0] and type(back["p"]) is nn.Parameter
    assert back["p"].tolist() == [2.0] and back["n"] == [1]


@pytest.mark.parametrize("location", ["cuda", "cuda:1", torch.device("cuda", 0), fk.device("cuda"), {"cpu": "cuda:0"},
                                      "mps", "meta", lambda storage, loc: storage.cuda()],
                         ids=["cuda", "cuda:1", "torch.device", "fk.device", "dict", "mps", "meta", "fn"])
def test_map_location_to_a_gpu_gives_the_no_gpu_error(tmp_path, location):
    fk.save({"w": fk.ones(1)}, tmp_path / "c.pt")
    with pytest.raises(DeviceError, match="is not available: fukaku has no"):
        fk.load(tmp_path / "c.pt", map_location=location)


# ---------------------------------------------------------------------- float16, bfloat16, float8 (issue 8)
TORCH_STATE = {"weight": lambda: torch.randn(3, 4), "half": lambda: torch.randn(5).half(),
               "bf16": lambda: (torch.randn(2, 3) * 1e3).bfloat16(),
               "bf16_scalar": lambda: torch.tensor(-0.0).bfloat16(),
               "steps": lambda: torch.randint(-9, 9, (3,)), "mask": lambda: torch.rand(4) > 0.5,
               "byte": lambda: torch.randint(0, 255, (2, 2)).byte(), "double": lambda: torch.randn(2).double(),
               "empty": lambda: torch.zeros(0, 3), "special": lambda: torch.tensor([float("nan"), float("inf"), -0.0])}


def _torch_state():
    torch.manual_seed(5)
    return {key: make() for key, make in TORCH_STATE.items()}


def _bits(t):
    """A torch tensor's or fukaku tensor's values as raw bytes, its dtype's name and its shape."""
    if isinstance(t, torch.Tensor):
        arr = t.view(torch.int16).numpy() if t.dtype == torch.bfloat16 else t.numpy()
        return str(t.dtype).rsplit(".", 1)[-1], tuple(t.shape), arr.tobytes()
    return str(t.dtype).rsplit(".", 1)[-1], tuple(t.shape), t._data.tobytes()


def test_torch_written_safetensors_load_value_for_value_bfloat16_and_float16_included(tmp_path):
    """What safetensors.torch.save_file writes loads bit for bit: bfloat16 as fukaku.bfloat16 (ml_dtypes),
    float16 as float16, and the rest; and what fukaku saves torch reads back the same way."""
    st_torch = pytest.importorskip("safetensors.torch")
    state = _torch_state()
    st_torch.save_file(state, tmp_path / "t.safetensors")
    back = fk.load(tmp_path / "t.safetensors")
    assert sorted(back) == sorted(state)
    assert back["bf16"].dtype is fk.bfloat16 and back["half"].dtype is fk.float16
    assert {key: _bits(t) for key, t in back.items()} == {key: _bits(t) for key, t in state.items()}
    fk.save(back, tmp_path / "f.safetensors")  # and back to torch: BF16 stays BF16
    again = st_torch.load_file(tmp_path / "f.safetensors")
    assert {key: _bits(t) for key, t in again.items()} == {key: _bits(t) for key, t in state.items()}


def test_without_ml_dtypes_bfloat16_loads_as_float32_with_a_warning(tmp_path, monkeypatch):
    st_torch = pytest.importorskip("safetensors.torch")
    state = _torch_state()
    st_torch.save_file(state, tmp_path / "t.safetensors")
    fk.save({"w": fk.tensor([1.5, -3.0]).to(fk.bfloat16)}, tmp_path / "f.pt")
    monkeypatch.setattr(fk.serialization, "_bfloat16_numpy", lambda: None)  # as if ml_dtypes were missing
    with pytest.warns(UserWarning, match=r"t\.safetensors.*'bf16', 'bf16_scalar'.*float32.*ml_dtypes"):
        back = fk.load(tmp_path / "t.safetensors")
    for key in ("bf16", "bf16_scalar"):
        assert back[key].dtype is fk.float32
        np.testing.assert_array_equal(back[key].numpy(), state[key].float().numpy())  # exact: bf16 ⊂ float32
    assert np.signbit(back["bf16_scalar"].numpy())
    with pytest.warns(UserWarning, match=r"f\.pt.*'w'"):
        assert fk.load(tmp_path / "f.pt")["w"].tolist() == [1.5, -3.0]


@pytest.mark.parametrize("fmt", FORMATS)
def test_bfloat16_tensors_arrays_and_scalars_round_trip(tmp_path, fmt):
    t = (fk.randn(3, 2) * 100).to(fk.bfloat16)
    obj = {"t": t, "p": nn.Parameter(fk.ones(2, dtype=fk.bfloat16)), "arr": np.asarray(t._data[1]),
           "scalar": t._data[0, 0], "empty": fk.zeros(0, dtype=fk.bfloat16)}
    fk.save(obj, tmp_path / f"b.{fmt}")
    back = fk.load(tmp_path / f"b.{fmt}")
    assert back["t"].dtype is fk.bfloat16 and type(back["p"]) is nn.Parameter and back["p"].dtype is fk.bfloat16
    for key in ("t", "p", "empty"):
        assert back[key].shape == obj[key].shape and back[key]._data.tobytes() == obj[key]._data.tobytes()
    assert back["arr"].dtype == t._data.dtype and back["arr"].tobytes() == obj["arr"].tobytes()
    assert back["scalar"].dtype == t._data.dtype and back["scalar"] == obj["scalar"]


@pytest.mark.parametrize("dtype, name", [("float8_e4m3fn", "F8_E4M3"), ("float8_e5m2", "F8_E5M2")])
def test_float8_is_refused_as_an_unsupported_dtype(tmp_path, dtype, name):
    st_torch = pytest.importorskip("safetensors.torch")
    st_torch.save_file({"w": torch.ones(3).to(getattr(torch, dtype)), "b": torch.ones(2)}, tmp_path / "q.safetensors")
    with pytest.raises(CheckpointError, match=rf"q\.safetensors.*unsupported dtype {dtype}.*'w'.*{name}.*\.float\(\)"):
        fk.load(tmp_path / "q.safetensors")


# ---------------------------------------------------------------------- the digest (issue 8)
def _flip(raw: bytes, at: int) -> bytes:
    return raw[:at] + bytes([raw[at] ^ 0x10]) + raw[at + 1:]


def _safetensors_header(raw: bytes) -> tuple[dict, bytes]:
    n = int.from_bytes(raw[:8], "little")
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def _safetensors_bytes(header: dict, body: bytes) -> bytes:
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + body


def _rezip(raw: bytes, edit) -> bytes:
    """The npz container with each entry's bytes passed through ``edit(name, bytes)``, CRCs recomputed."""
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        entries = [(name, zf.read(name)) for name in zf.namelist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in entries:
            new = edit(name, data)
            if new is not None:
                zf.writestr(new[0], new[1])
    return buffer.getvalue()


STATE = OrderedDict([("layer.weight", fk.arange(12, dtype=fk.float32).reshape(3, 4) / 8),
                     ("layer.bias", fk.tensor([1.0, -2.0, 3.0]))])


def test_safetensors_digest_catches_a_flipped_byte_a_renamed_key_and_a_changed_dtype(tmp_path):
    fk.save(STATE, tmp_path / "m.safetensors")
    raw = (tmp_path / "m.safetensors").read_bytes()
    header, body = _safetensors_header(raw)
    assert header["__metadata__"]["__fukaku_digest__"].startswith("sha256:")
    renamed = dict(header)
    renamed["layer.weigth"] = renamed.pop("layer.weight")
    retyped = json.loads(json.dumps(header))
    retyped["layer.bias"]["dtype"] = "I32"  # F32 -> I32: same size, other values
    reshaped = json.loads(json.dumps(header))
    reshaped["layer.weight"]["shape"] = [4, 3]
    for what, data in [("a flipped body byte", _flip(raw, len(raw) - 5)), ("a renamed key", _safetensors_bytes(
            renamed, body)), ("a dtype F32 -> I32", _safetensors_bytes(retyped, body)),
                       ("a shape", _safetensors_bytes(reshaped, body))]:
        (tmp_path / "bad.safetensors").write_bytes(data)
        with pytest.raises(CheckpointError, match=r"bad\.safetensors' is corrupt: .*SHA-256 digest"):
            fk.load(tmp_path / "bad.safetensors")
    # without the digest (a plain file of another program), the same edits load: safetensors has no checksum
    plain = json.loads(json.dumps(retyped))
    del plain["__metadata__"]
    assert fk.load(io.BytesIO(_safetensors_bytes(plain, body)))["layer.bias"].dtype == fk.int32


def test_npz_digest_catches_edits_that_keep_the_zip_valid(tmp_path):
    fk.save({"state": STATE, "epoch": 3}, tmp_path / "c.pt")
    raw = (tmp_path / "c.pt").read_bytes()

    def data_flip(name, data):
        return (name, _flip(data, len(data) - 3) if name == "state.layer.weight.npy" else data)

    def renamed(name, data):
        return (name.replace("layer.bias", "layer.bais"), data)

    def retyped(name, data):
        return (name, data.replace(b"'<f4'", b"'<i4'") if name == "state.layer.bias.npy" else data)

    def structure(name, data):
        return (name, data.replace(b'"epoch",3', b'"epoch",4'))

    for edit in (data_flip, renamed, retyped, structure):
        (tmp_path / "bad.pt").write_bytes(_rezip(raw, edit))  # CRCs right: only the digest can tell
        with pytest.raises(CheckpointError, match=r"bad\.pt' is corrupt: .*SHA-256 digest"):
            fk.load(tmp_path / "bad.pt")
    (tmp_path / "ok.pt").write_bytes(_rezip(raw, lambda name, data: (name, data)))  # rewritten, same meaning
    assert fk.load(tmp_path / "ok.pt")["epoch"] == 3
    no_digest = _rezip(raw, lambda name, data: None if name == "__fukaku_digest__.npy" else (name, data))
    with pytest.raises(CheckpointError, match="lacks the digest that every file of format version 3 carries"):
        fk.load(io.BytesIO(no_digest))


V2_FILES = {  # written by fukaku.save before format version 3 (commit ae163c7), zlib-compressed, base64
    "npz": (
        "eNq9Vs9rE0EUnvSH/XGQUjzU4mFdD7GwXdLaSonS9qSHouTiQUpYJtlJsybZ3c7uWmIbCKWHHouiVPDQg/g3iAoe7P9RD4LgQfoHCPpmdibNLG"
        "lNbXDIZjJv3vfmfbvve9ncSv/ANIrHdfRy3fnwW4wJdAVZVimq4EpkBSGNimFEiWWZrl9PoTF02Bej5Pzi4aMHuccp9BRtpm0SFGk6q6W3opm0"
        "oaVLHg0pdi2P2oTZ7+FqQMAelLFPYH1zfiFjTBlaQ/vnMbqpx7nq2VlDp54X6tlN3XaKMK+u6jXPJlXdaLNkzA3irJVDZgyJG3hUz8ZuZmurkT"
        "eYY8HBQUc3vsGdCq7pRjWrgMNimQQWsC1WiN0BdIpjI583dH57YJGFu014WM8PnZrzjFAl9SDEIWm3ZNRd4isHt4KYHAh5cxc4kn/gGB9TXLPW"
        "qBf5QHS1LVgVTs6YmZmWF9vP5Dk0xhLfK5Z1Y67loZwtLDol65FDgfAaxYKgEW+SENidMKZ4gwUo1EMSAJ4tub1U9XAYP4XIrxJIbsachxW3g6"
        "PjlsCRu9ph3Y9vD/+RjX1uz8WBajiosE3XxpTiOnswzMJuRSOnqGH0DXor1TAOalCLQ+pgX/jLuaMO7pbmutLBrKHduqAO4iyai/C1hNAyXE24"
        "DpZUbk8O79yX3MbauLGKlsz2hPfe2cwWumR2MV4tZsef4/lrgtGN98dVyUhrMeosN8lwV6B3z2TodMfwovyA4ZDIQ2X25fvRO8lsEph11rPktC"
        "NwO72oxx5wghpcVvlsLT6/JvmMAB/eBs73SLqWUw+KrsklpFJ4Xdg4khSGgAK0KUlgWzhtox78L/aCQEpN/efVj3mZ+jDTCXS/8+Ve+G+5p0AJ"
        "qb7pfvUNhb1xsGsCnYxmin2f9r6SjMI6+77o2eNKlMv9qEOfT+JZ99wTnXFMwf9ow8temkSzTrUrSlxT0J8G0F/7VjIa6w47Qu+TSrRXg+iMXp"
        "GMw1QpsxpR4pQuoRONJmFMCduiZIYU2BQshS6SIFaDEjSsgL4BSFZkbmXwEuIew+gXPN8D7voHWPmlHA=="),
    "safetensors": (
        "eNqFU1GK2zAQzUJhr1H0LYzX65jgj3bZj0KhsF/9io2Z2OPEJLZcSWZJg2GP0iP0Br1Kj9AjdCTFG2fdpCKORzPvPY1mxj/fzew6sCyrUUMBGr"
        "KMxQdWClmDZjFrWsYpWnZb2HaZ0rLLdSfRoNghYc6fsDjgCZNCaDLJXVS5sZbLhNWiwF3C+LnX956xWm+0C2hslJAUOsK9U7hPuYWvKlAXwS7o"
        "oKvGa7o6W4HON6gyLSHfYnGBegncpyndR8gCpdnGdG108qLVVV19Rzm5ktKg8Y3Xn2CwnaTyKulZCbqPg1ES9meObUFCna2l6FpThuW57M5k43"
        "v+3QlrUX5qJY4a2Ip8Q+7whJrkMnipmfitqyQVZS1hKAE/AlCb+4+qIuHZSa32GpVVsi4XLXcC9NC9rt2hSfvOm5u9jVlC1ZSG4CiF3rdDMZ0Z"
        "H7FROMjWoLYO0hQgJexdY63XFK5nPb/aZzPoVp1m+XMU0qCrDZjdMuXMfguiLBVqRR6fL9JXOTdxY/qnM3ow5S94EI4F3HyfSdwHYwl+PxUJQh"
        "7aNP49MpfVplLhgs8DI2UbeiWPKXUe8Mg3VGrxmPh1cZ0X+TyyR5oWjYmPT09f/kOlI6l8/Xu3bmfj9eeXe//+6N4vH+iP7Ad6Xuj5YewHZ9Nz"
        "czP7C12Rl1A="),
}


def test_files_of_format_version_2_still_load(tmp_path):
    """Files written by fukaku.save before the digest (format version 2) load as they did."""
    expected = {"model": OrderedDict([("0.weight", fk.arange(6, dtype=fk.float32).reshape(2, 3) / 4),
                                      ("0.bias", fk.tensor([-1.0, 0.5], dtype=fk.float64)),
                                      ("bn.num_batches_tracked", fk.tensor(7))]),
                "optimizer": {"state": {0: {"step": fk.tensor(3.0)}}, "param_groups": [{"lr": 0.01, "params": [0]}]},
                "epoch": 4, "param": nn.Parameter(fk.ones(2)), "raw": b"\x00\x01", "floats": (1.5, float("inf")),
                "dtype": fk.float64, "mask": np.array([True, False])}
    for fmt, text in V2_FILES.items():
        raw = zlib.decompress(base64.b64decode("".join(text)))
        assert b"__fukaku_digest__" not in raw
        (tmp_path / f"v2.{fmt}").write_bytes(raw)
        assert_same(expected, fk.load(tmp_path / f"v2.{fmt}"))


# ---------------------------------------------------------------------- hostile files (issue 8's audit)
def _npz(entries: dict, method: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _npy(header: str, data: bytes = b"") -> bytes:
    text = header.encode("latin-1")
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + data


def _central(raw: bytes, offset: int, value: int, width: int = 2) -> bytes:
    """Set a field of every central directory header (offset from its signature)."""
    out, at = bytearray(raw), raw.find(b"PK\x01\x02")
    while at >= 0:
        out[at + offset:at + offset + width] = value.to_bytes(width, "little")
        at = raw.find(b"PK\x01\x02", at + 1)
    return bytes(out)


def _audit_cases():
    """The audit's findings, each as a file: what fukaku.load raised before, and what it says now."""
    buffer = io.BytesIO()
    fk.save({"w": fk.ones(3)}, buffer)
    good = buffer.getvalue()
    npy_bytes = io.BytesIO()
    np.save(npy_bytes, np.ones(3))
    deep = b'{"fukaku":3,"root":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    header = '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"x":' + "[" * 100_000 + "]" * 100_000 + "}"
    return {
        "bzip2 method (OSError: Invalid data stream)": (_central(good, 10, 12), "compression method 12"),
        "unknown method (NotImplementedError)": (_central(good, 10, 77), "compression method 77"),
        "encrypted flag (RuntimeError)": (_central(good, 8, 1), "encrypted"),
        "a 1 TiB array (MemoryError)": (_npz({"w.npy": _npy("{'descr': '<f4', 'fortran_order': False, "
                                                            "'shape': (274877906944,), }", b"\0" * 16)}),
                                        r"declares shape \(274877906944,\)"),
        "a 1 TiB zip entry": (_central(good, 24, 2 ** 32 - 2, 4), "stored, yet declares|beyond deflate"),
        "a plain .npy renamed .npz (TypeError)": (npy_bytes.getvalue(), "one NumPy array"),
        "deeply nested structure JSON (RecursionError)": (_npz({"__fukaku_structure__.npy": _npy(
            f"{{'descr': '|u1', 'fortran_order': False, 'shape': ({len(deep)},), }}", deep)}), "nested too deeply"),
        "a string entry ('<U3' loaded)": (_npz({"w.npy": _npy("{'descr': '<U3', 'fortran_order': False, "
                                                             "'shape': (1,), }", "abc".encode("utf-32-le"))}),
                                          "dtype '<U3'.*refused"),
        "a pickled entry": (_npz({"w.npy": _npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }",
                                                pickle.dumps([1]))}), "dtype '|O'"),
        "a datetime entry": (_npz({"w.npy": _npy("{'descr': '<M8[s]', 'fortran_order': False, 'shape': (1,), }",
                                                 bytes(8))}), "dtype '<M8"),
        "a structured entry": (_npz({"w.npy": _npy("{'descr': [('a', '<f4')], 'fortran_order': False, "
                                                   "'shape': (1,), }", bytes(4))}), r"dtype \"\[\('a'"),
        "a bool entry holding 2": (_npz({"w.npy": _npy("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }",
                                                       b"\x01\x02")}), "bytes other than 0 and 1"),
        "deeply nested safetensors header (RecursionError)": (len(header).to_bytes(8, "little") + header.encode()
                                                              + bytes(4), "nested too deeply"),
        "safetensors offsets out of range": (_safetensors_bytes({"w": {"dtype": "F32", "shape": [2],
                                                                       "data_offsets": [0, 8]}}, bytes(4)),
                                             "take 8 bytes, but the file holds 4"),
        "safetensors overlapping tensors": (_safetensors_bytes({"a": {"dtype": "F32", "shape": [1], "data_offsets":
                                                                      [0, 4]}, "b": {"dtype": "F32", "shape": [1],
                                                                                     "data_offsets": [0, 4]}},
                                                               bytes(8)), "do not tile the data"),
        "a safetensors header longer than the file": (b"\xff" * 7 + b"\x7f{", "header declares"),
    }


@pytest.mark.parametrize("case", list(_audit_cases()))
def test_the_audits_hostile_files_raise_checkpoint_errors_naming_the_file(tmp_path, case):
    data, message = _audit_cases()[case]
    (tmp_path / "hostile.npz").write_bytes(data)
    with pytest.raises(CheckpointError, match=rf"hostile\.npz.*({message})"):
        fk.load(tmp_path / "hostile.npz")
    with pytest.raises(CheckpointError, match=rf"<file object>.*({message})"):
        fk.load(io.BytesIO(data))


@pytest.mark.parametrize("dtype", ["<U3", "S3", "M8[s]", "m8[D]", "V4", "f4,i4", np.longdouble])
def test_arrays_of_other_dtypes_are_refused_at_save(tmp_path, dtype):
    with pytest.raises(TypeError, match="dtype .* a checkpoint holds bool, integer, floating"):
        fk.save({"a": np.zeros(2, dtype=dtype)}, tmp_path / "c.pt")
    assert not (tmp_path / "c.pt").exists()


def test_nesting_is_bounded_alike_at_save_and_load(tmp_path):
    deep = 0
    for _ in range(190):
        deep = [deep]
    fk.save(deep, tmp_path / "deep.pt")  # 190 levels: within the 200 that load reads
    back = fk.load(tmp_path / "deep.pt")
    for _ in range(190):
        back = back[0]
    assert back == 0
    with pytest.raises(ValueError, match="nested more than 200 levels"):
        fk.save([deep] * 1 + [[[[[[[[[[[deep]]]]]]]]]]], tmp_path / "deeper.pt")


class Recorder(nn.Module):
    """A Module whose every hook into Python records a call: loading it must run none of them."""

    calls: list = []

    def __init__(self):
        Recorder.calls.append("__init__")
        super().__init__()
        self.lin = nn.Linear(2, 2)

    def __setstate__(self, state):
        Recorder.calls.append("__setstate__")

    def __setattr__(self, name, value):
        Recorder.calls.append("__setattr__")
        super().__setattr__(name, value)

    def __getattribute__(self, name):
        Recorder.calls.append("__getattribute__")
        return super().__getattribute__(name)

    def __hash__(self):
        Recorder.calls.append("__hash__")
        return 0

    def __eq__(self, other):
        Recorder.calls.append("__eq__")
        return True


def test_loading_a_module_runs_none_of_its_classs_code(tmp_path):
    fk.save({"m": Recorder()}, tmp_path / "r.pt")
    Recorder.calls.clear()
    with safe_globals([Recorder, nn.Linear]):
        back = fk.load(tmp_path / "r.pt")
    assert Recorder.calls == []
    assert type(back["m"]) is Recorder and type(object.__getattribute__(back["m"], "_modules")["lin"]) is nn.Linear
    # a module as a dict key or set member would run its __hash__ and __eq__: refused
    structure = json.loads(np.load(tmp_path / "r.pt")["__fukaku_structure__"].tobytes())
    module = structure["root"]["dict"][0][1]
    for root in ({"dict": [[module, 1]]}, {"set": [module]}, {"frozenset": [{"tuple": [1, module]}]},
                 {"complex": [module, 1]}):
        _npz_with_structure(tmp_path / "key.pt", {"fukaku": 2, "root": root},
                            **{k: v for k, v in np.load(tmp_path / "r.pt").items() if not k.startswith("__fukaku_")})
        with safe_globals([Recorder, nn.Linear]), pytest.raises(CheckpointError, match=r"key\.pt.*(Recorder module|"
                                                                                      "bad complex)"):
            fk.load(tmp_path / "key.pt", weights_only=False)
    assert Recorder.calls == []
