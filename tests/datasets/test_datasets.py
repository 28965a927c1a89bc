"""fukaku.datasets: the Playground generators' distributions (seed 003), IDX reading and its
errors, the verified downloader on a local file:// mirror (never the network), sequence tasks
against independently computed targets, the text corpus, digits and the shared MNIST/text data."""
import gzip
import hashlib
import struct
import sys
import tracemalloc
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import fukaku as fk
import fukaku.datasets as D

SHARED = D.shared_data_dir()
# tests/conftest.py: skipped without these shared files, failed without them when CI=true
needs_shared = pytest.mark.shared_data("mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz")


def _np(*arrays):
    return [a.numpy() for a in arrays]


# ------------------------------------------------------------------ Playground (seed 003)
def test_circle_radii_labels_and_balance():
    x, y = _np(*D.classify_circle(20000, noise=0.0, seed=0))
    assert x.shape == (20000, 2) and x.dtype == np.float32 and y.dtype == np.float32
    r = np.hypot(x[:, 0], x[:, 1])
    pos, neg = y == 1, y == -1
    assert pos.sum() == neg.sum() == 10000
    assert r[pos].min() >= 0 and r[pos].max() < 2.5 and r[neg].min() >= 3.5 - 1e-5 and r[neg].max() <= 5 + 1e-5
    # r itself is uniform (not the area): U(0, 2.5) has mean 1.25 and variance 2.5²/12
    assert abs(r[pos].mean() - 1.25) < 0.02 and abs(r[pos].var() - 2.5 ** 2 / 12) < 0.02
    assert abs(r[neg].mean() - 4.25) < 0.02 and abs(r[neg].var() - 1.5 ** 2 / 12) < 0.01
    angle = np.arctan2(x[:, 0], x[:, 1])  # x = r sin(a), y = r cos(a): uniform angle, mean ~ 0
    assert abs(angle.mean()) < 0.05 and abs(angle.var() - np.pi ** 2 / 3) < 0.05


def test_circle_noise_flips_labels_at_the_rate_of_the_playground_rule():
    n, noise = 40000, 0.3
    x, y = _np(*D.classify_circle(n, noise=noise, seed=1))
    clean = np.where(np.hypot(x[:, 0], x[:, 1]) < 2.5, 1.0, -1.0)
    flipped = (y != clean).mean()
    # independent Monte Carlo of the rule: a point at radius r is labelled by r + U(-5, 5)·noise per axis
    rng = np.random.default_rng(99)
    m = 400000
    r = np.concatenate([rng.uniform(0, 2.5, m // 2), rng.uniform(3.5, 5, m // 2)])
    a = rng.uniform(0, 2 * np.pi, m)
    px, py = r * np.sin(a) + rng.uniform(-5, 5, m) * noise, r * np.cos(a) + rng.uniform(-5, 5, m) * noise
    expected = ((np.hypot(px, py) < 2.5) != (r < 2.5)).mean()
    assert expected > 0.05 and abs(flipped - expected) < 0.006


def test_xor_margins_and_labels():
    x, y = _np(*D.classify_xor(20000, noise=0.0, seed=2))
    ax = np.abs(x)
    assert ax.min() > 0.3 - 1e-6 and ax.max() <= 5.3 + 1e-5
    np.testing.assert_array_equal(y, np.where(x[:, 0] * x[:, 1] >= 0, 1.0, -1.0))
    quadrant = (x[:, 0] > 0) * 2 + (x[:, 1] > 0)
    assert np.all(np.abs(np.bincount(quadrant) / 20000 - 0.25) < 0.02)
    # |x| - 0.3 ~ U(0, 5): mean 2.5
    assert abs((ax - 0.3).mean() - 2.5) < 0.05
    _, y_noisy = _np(*D.classify_xor(20000, noise=0.5, seed=2))
    assert 0.05 < (y_noisy != np.where(x[:, 0] * x[:, 1] >= 0, 1.0, -1.0)).mean() < 0.5


@pytest.mark.parametrize("noise", [0.0, 0.2, 0.5])
def test_gauss_means_and_variance(noise):
    x, y = _np(*D.classify_gauss(40000, noise=noise, seed=3))
    variance = 0.5 + noise * 3.5 / 0.5  # the Playground's scale: noise 0 -> 0.5, noise 0.5 -> 4
    for label, centre in ((1, 2.0), (-1, -2.0)):
        pts = x[y == label]
        assert len(pts) == 20000
        np.testing.assert_allclose(pts.mean(axis=0), [centre, centre], atol=4 * np.sqrt(variance / 20000))
        np.testing.assert_allclose(pts.var(axis=0), [variance, variance], rtol=0.04)
        assert abs(np.corrcoef(pts.T)[0, 1]) < 0.03


def test_spiral_geometry():
    n = 500
    x, y = _np(*D.classify_spiral(n, noise=0.0, seed=4))
    half = n // 2
    i = np.arange(half)
    r, t = 5 * i / half, 1.75 * 2 * np.pi * i / half
    np.testing.assert_allclose(x[:half], np.stack([r * np.sin(t), r * np.cos(t)], 1), atol=1e-5)
    np.testing.assert_allclose(x[half:], -x[:half], atol=1e-5)  # Δ = π: the other arm, point-reflected
    assert (y[:half] == 1).all() and (y[half:] == -1).all()
    xn, _ = _np(*D.classify_spiral(n, noise=0.4, seed=4))
    dev = np.abs(xn - x)
    assert dev.max() <= 0.4 + 1e-5 and dev.mean() > 0.15  # U(-1, 1)·noise: mean |dev| = 0.2


def test_regression_sets():
    x, y = _np(*D.regress_plane(5000, noise=0.0, seed=5))
    assert np.abs(x).max() <= 6
    np.testing.assert_allclose(y, (x[:, 0] + x[:, 1]) / 10, atol=1e-6)
    xn, yn = _np(*D.regress_plane(5000, noise=0.3, seed=5))
    assert 0.05 < np.abs(yn - (xn[:, 0] + xn[:, 1]) / 10).mean() < 0.2
    x, y = _np(*D.regress_gaussian(400, noise=0.0, seed=6))
    centres = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]
    for (px, py), label in zip(x.astype(np.float64), y):  # the Playground's loop, point by point
        best = 0.0
        for cx, cy, sign in centres:
            value = sign * min(1.0, max(0.0, 1 - np.hypot(px - cx, py - cy) / 2))
            if abs(value) > abs(best):
                best = value
        assert label == pytest.approx(best, abs=1e-5)
    assert (y > 0.5).any() and (y < -0.5).any()


def test_generators_are_reproducible():
    for name, gen in D.GENERATORS.items():
        a, b, c = gen(100, 0.1, seed=7), gen(100, 0.1, seed=7), gen(100, 0.1, seed=8)
        np.testing.assert_array_equal(a[0].numpy(), b[0].numpy(), err_msg=name)
        if name != "spiral":  # the spiral at noise 0.1 differs only by the noise, still differs
            assert not np.array_equal(a[0].numpy(), c[0].numpy()), name
        fk.manual_seed(3)
        d = gen(50, 0.1)
        fk.manual_seed(3)
        np.testing.assert_array_equal(d[0].numpy(), gen(50, 0.1)[0].numpy(), err_msg=name)


def test_playground_split_and_labels():
    s = D.playground("xor", n=500, noise=0.1, seed=0)
    assert [tuple(a.shape) for a in s] == [(250, 2), (250,), (250, 2), (250,)]
    full_x, full_y = _np(*D.classify_xor(500, 0.1, seed=np.random.default_rng(0)))
    both = np.concatenate([s.x_train.numpy(), s.x_test.numpy()])
    assert sorted(map(tuple, both)) == sorted(map(tuple, full_x))  # a shuffle of the generated set
    s2 = D.playground("circle", n=500, test_fraction=0.2, seed=1, return_tensors=False)
    assert len(s2.x_train) == 400 and len(s2.x_test) == 100 and isinstance(s2.x_train, np.ndarray)
    assert abs((s2.y_train == 1).mean() - 0.5) < 0.1  # shuffled, not class-sorted
    np.testing.assert_array_equal(D.binary_labels(fk.tensor([1.0, -1.0, 1.0])).numpy(), [1, 0, 1])
    assert D.binary_labels(np.array([-1.0])).dtype == np.int64
    with pytest.raises(ValueError, match="choose one of circle, xor"):
        D.playground("moons")
    with pytest.raises(ValueError, match="noise must be >= 0"):
        D.classify_circle(10, noise=-0.1)


def test_holdout_split_sizes():
    x, y = np.arange(1797), np.arange(1797)
    s = D.holdout_split(x, y, 0.2, seed=0)
    assert len(s.x_test) == 360 and len(s.x_train) == 1437  # ceil(359.4), like scikit-learn
    assert sorted(np.concatenate([s.x_train, s.x_test]).tolist()) == list(range(1797))
    np.testing.assert_array_equal(s.x_train, s.y_train)
    t = D.holdout_split(x, y, 0.3, shuffle=False)
    np.testing.assert_array_equal(t.x_test, np.arange(1797 - 540, 1797))


# ------------------------------------------------------------------ IDX files
def _idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    """IDX written from the format description, independently of the reader."""
    be = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    head = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return head + array.astype(be).tobytes()


def _write(path: Path, data: bytes, gz: bool = False) -> Path:
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def _fake_mnist(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("code, dtype", [(0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16), (0x0C, np.int32),
                                         (0x0D, np.float32), (0x0E, np.float64)])
def test_read_idx_all_types(tmp_path, gz, code, dtype):
    arr = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == np.uint8:
        arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    got = D.read_idx(_write(tmp_path / "a.idx", _idx_bytes(arr, code), gz))
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative
    np.testing.assert_array_equal(got, arr)


def test_read_idx_errors_name_the_file_and_the_problem(tmp_path):
    images, _ = _fake_mnist(3)
    good = _idx_bytes(images)
    p = _write(tmp_path / "cut-idx3-ubyte", good[:-100])
    with pytest.raises(D.IDXFormatError, match=rf"{p}.*truncated.*need {3 * 784} data bytes, got {3 * 784 - 100}"):
        D.read_idx(p)
    p = _write(tmp_path / "cut.gz", good[:-100], gz=True)
    with pytest.raises(D.IDXFormatError, match=rf"{p}.*truncated.*got {3 * 784 - 100}"):
        D.read_idx(p)
    p = _write(tmp_path / "torn.gz", gzip.compress(good)[:-30])
    with pytest.raises(D.IDXFormatError, match=rf"{p}.*gzip stream is truncated or corrupt"):
        D.read_idx(p)
    p = _write(tmp_path / "magic", b"\x12\x34" + good[2:])
    with pytest.raises(D.IDXFormatError, match=rf"{p}.*bad magic number 0x1234"):
        D.read_idx(p)
    p = _write(tmp_path / "type", good[:2] + b"\x07" + good[3:])
    with pytest.raises(D.IDXFormatError, match="unknown element type 0x07"):
        D.read_idx(p)
    p = _write(tmp_path / "extra", good + b"\x00")
    with pytest.raises(D.IDXFormatError, match="trailing bytes"):
        D.read_idx(p)
    p = _write(tmp_path / "head", good[:9])
    with pytest.raises(D.IDXFormatError, match="truncated header: expected 16 bytes"):
        D.read_idx(p)
    p = _write(tmp_path / "huge", bytes([0, 0, 8, 3]) + struct.pack(">III", 2 ** 32 - 1, 2 ** 32 - 1, 2 ** 32 - 1))
    with pytest.raises(D.IDXFormatError, match="truncated"):
        D.read_idx(p)


def _traced_peak(fn) -> int:
    """Peak traced memory (bytes) while ``fn()`` runs; what it raises propagates."""
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def _peak_of_refusal(fn, error, match) -> int:
    def run():
        with pytest.raises(error, match=match):
            fn()
    return _traced_peak(run)


def test_errors_form_one_documented_family():
    assert issubclass(D.IDXFormatError, D.DatasetFormatError) and issubclass(D.DatasetFormatError, ValueError)
    assert D.MAX_IDX_BYTES == 2 ** 31 and D.MAX_TEXT_BYTES == 2 ** 30
    assert {"DatasetFormatError", "MAX_IDX_BYTES", "MAX_TEXT_BYTES"} <= set(D.__all__)


def test_read_idx_checks_declared_sizes_before_allocating(tmp_path):
    # a raw file of 3 GiB (sparse: no disk used) whose header is right: over the cap, refused unread
    p = tmp_path / "big-idx3-ubyte"
    with open(p, "wb") as f:
        f.write(bytes([0, 0, 8, 2]) + struct.pack(">II", 3, 1 << 30))
        f.truncate(12 + 3 * (1 << 30))
    assert _peak_of_refusal(lambda: D.read_idx(p), D.IDXFormatError,
                            rf"{p}: dimensions 3×1073741824 of uint8 declare 3221225472 data bytes, more than "
                            "max_bytes=2147483648; pass a larger max_bytes=") < 1e6
    images, _ = _fake_mnist(3)
    p = _write(tmp_path / "small", _idx_bytes(images))
    with pytest.raises(D.IDXFormatError, match="declare 2352 data bytes, more than max_bytes=2351"):
        D.read_idx(p, max_bytes=3 * 784 - 1)
    np.testing.assert_array_equal(D.read_idx(p, max_bytes=3 * 784), images)
    # a 1 kB gzip file cannot hold 100 MB: deflate expands at most 1032:1, so it is refused unread
    p = _write(tmp_path / "claims.gz", bytes([0, 0, 8, 2]) + struct.pack(">II", 100, 1 << 20) + bytes(1000), gz=True)
    assert _peak_of_refusal(lambda: D.read_idx(p), D.IDXFormatError,
                            rf"{p}: truncated or corrupt: dimensions 100×1048576 of uint8 need 104857600 data bytes, "
                            r"but a gzip file of \d+ bytes inflates to at most") < 1e6


def test_read_idx_dimension_edge_cases(tmp_path):
    p = _write(tmp_path / "d33", bytes([0, 0, 8, 33]) + struct.pack(">33I", *[1] * 33) + b"\x07")
    with pytest.raises(D.IDXFormatError, match=rf"{p}: magic number 0x00000821 declares 33 dimensions; an IDX file has "
                                               "1 to 32"):
        D.read_idx(p)
    p = _write(tmp_path / "d0", bytes([0, 0, 8, 0]))
    with pytest.raises(D.IDXFormatError, match="declares 0 dimensions"):
        D.read_idx(p)
    p = _write(tmp_path / "d32", bytes([0, 0, 8, 32]) + struct.pack(">32I", *[1] * 32) + b"\x07")
    assert D.read_idx(p).shape == (1,) * 32 and D.read_idx(p).item() == 7
    # no elements, but sizes NumPy cannot shape: refused, not a NumPy ValueError
    p = _write(tmp_path / "overflow", bytes([0, 0, 0x0E, 3]) + struct.pack(">III", 0, 2 ** 32 - 1, 2 ** 32 - 1))
    with pytest.raises(D.IDXFormatError, match="dimensions 0×4294967295×4294967295 are too large for an array, even "
                                               "with no elements"):
        D.read_idx(p)
    empty = D.read_idx(_write(tmp_path / "empty.gz", bytes([0, 0, 0x0B, 2]) + struct.pack(">II", 0, 5), gz=True))
    assert empty.shape == (0, 5) and empty.dtype == np.int16


def test_read_idx_gzip_streams_as_gzip_readers_take_them(tmp_path):
    images, _ = _fake_mnist(2)
    good = _idx_bytes(images)
    # several members are one stream; zero padding after the last is skipped; FNAME headers are fine
    members = gzip.compress(good[:100]) + gzip.compress(good[100:1000]) + gzip.compress(good[1000:])
    np.testing.assert_array_equal(D.read_idx(_write(tmp_path / "members.gz", members)), images)
    np.testing.assert_array_equal(D.read_idx(_write(tmp_path / "pad.gz", gzip.compress(good) + bytes(512))), images)
    named = tmp_path / "named.gz"
    with open(named, "wb") as raw, gzip.GzipFile(filename="t10k-images-idx3-ubyte", fileobj=raw, mode="wb") as f:
        f.write(good)
    assert named.read_bytes()[3] == 0x08  # the FNAME flag
    np.testing.assert_array_equal(D.read_idx(named), images)
    z = gzip.compress(good)
    for name, data, match in (
            ("junk.gz", z + b"junk", "gzip stream is truncated or corrupt"),
            ("crc.gz", z[:-8] + b"\x00" * 4 + z[-4:], "truncated or corrupt.*CRC"),
            ("more.gz", z + gzip.compress(b"x"), "inflates to more than the 1584 bytes its header declares"),
            ("method.gz", z[:2] + b"\x09" + z[3:], "truncated or corrupt"),
            ("flags.gz", z[:3] + b"\x04" + z[4:], "truncated or corrupt")):
        p = _write(tmp_path / name, data)
        with pytest.raises(D.IDXFormatError, match=rf"{p}.*{match}"):
            D.read_idx(p)


def _mnist_dir(root: Path, n_train=5, n_test=4, gz=True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    for prefix, n, seed in (("train", n_train, 0), ("t10k", n_test, 1)):
        images, labels = _fake_mnist(n, seed)
        _write(root / f"{prefix}-images-idx3-ubyte{suffix}", _idx_bytes(images), gz)
        _write(root / f"{prefix}-labels-idx1-ubyte{suffix}", _idx_bytes(labels), gz)
    return root


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reads_generated_files(tmp_path, gz):
    root = _mnist_dir(tmp_path / "m", gz=gz)
    x, y = D.mnist(root, train=True)
    images, labels = _fake_mnist(5, 0)
    assert x.shape == (5, 28, 28) and x.dtype == fk.float32 and y.dtype == fk.int64
    np.testing.assert_allclose(x.numpy(), images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y.numpy(), labels)
    raw, _ = D.mnist(root, train=False, normalize=False, flatten=True, return_tensors=False)
    assert raw.shape == (4, 784) and raw.dtype == np.uint8
    np.testing.assert_array_equal(raw, _fake_mnist(4, 1)[0].reshape(4, -1))
    s = D.mnist_split(root, n_train=3, n_test=1)
    np.testing.assert_array_equal(s.y_train.numpy(), _fake_mnist(4, 1)[1][:3])
    np.testing.assert_array_equal(s.y_test.numpy(), _fake_mnist(4, 1)[1][3:])
    with pytest.raises(ValueError, match="at most the 4 images"):
        D.mnist_split(root, n_train=3, n_test=2)


def test_mnist_rejects_inconsistent_files(tmp_path):
    root = _mnist_dir(tmp_path / "m", gz=False)
    _write(root / "t10k-labels-idx1-ubyte", _idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(D.IDXFormatError, match=rf"mnist in {root}: t10k-images-idx3-ubyte has 4 images but "
                                               "t10k-labels-idx1-ubyte has 3 labels"):
        D.mnist(root, train=False)
    _write(root / "t10k-labels-idx1-ubyte", _idx_bytes(np.array([0, 1, 12, 3], np.uint8)))
    with pytest.raises(D.IDXFormatError, match="label 12 is outside"):
        D.mnist(root, train=False)
    _write(root / "t10k-labels-idx1-ubyte", _idx_bytes(np.zeros((4, 1), np.uint8)))
    with pytest.raises(D.IDXFormatError, match="expected labels"):
        D.mnist(root, train=False)
    (root / "train-images-idx3-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.*only the test set"):
        D.mnist(root, train=True)


# ------------------------------------------------------------------ fetch from a file:// mirror
def _mirror(tmp_path: Path):
    mirror = _mnist_dir(tmp_path / "mirror", n_train=6, n_test=2, gz=True)
    sums = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in sorted(mirror.iterdir())}
    return mirror, sums


def test_fetch_downloads_verifies_and_skips_present_files(tmp_path):
    mirror, sums = _mirror(tmp_path)
    root = tmp_path / "data" / "mnist"
    lines = []
    paths = D.fetch("mnist", root, mirrors=[tmp_path.as_uri() + "/missing/", mirror.as_uri()], checksums=sums,
                    log=lines.append)
    assert sorted(paths) == sorted(sums)
    for name in sums:
        assert (root / name).read_bytes() == (mirror / name).read_bytes()
    assert sum("downloaded" in line for line in lines) == 4
    assert sorted(p.name for p in root.iterdir()) == sorted(sums)  # no temporary files left
    x, y = D.mnist(root, train=True)
    assert x.shape == (6, 28, 28)
    lines.clear()
    D.fetch("mnist", root, mirrors=["file:///nonexistent/"], checksums=sums, log=lines.append)  # nothing to get
    assert all("present, MD5 ok" in line for line in lines) and len(lines) == 4
    # a damaged local copy is replaced by a verified one
    (root / "t10k-labels-idx1-ubyte.gz").write_bytes(b"garbage")
    lines.clear()
    D.fetch("mnist", root, mirrors=[mirror.as_uri()], checksums=sums, log=lines.append)
    assert (root / "t10k-labels-idx1-ubyte.gz").read_bytes() == (mirror / "t10k-labels-idx1-ubyte.gz").read_bytes()
    assert any("MD5 is wrong" in line for line in lines)


def test_fetch_md5_mismatch_names_the_file_and_leaves_nothing(tmp_path):
    mirror, sums = _mirror(tmp_path)
    bad = dict(sums)
    bad["t10k-images-idx3-ubyte.gz"] = "0" * 32
    root = tmp_path / "fresh" / "mnist"
    with pytest.raises(D.FetchError, match=r"t10k-images-idx3-ubyte\.gz.*MD5 mismatch: expected 0{32}, got "
                                           + sums["t10k-images-idx3-ubyte.gz"]) as info:
        D.fetch("mnist", root, mirrors=[mirror.as_uri()], checksums={"t10k-images-idx3-ubyte.gz": "0" * 32})
    assert str(mirror) in str(info.value)
    assert not root.exists()  # created by fetch, empty after the failure, removed
    root.mkdir(parents=True)
    with pytest.raises(D.FetchError):
        D.fetch("mnist", root, mirrors=[mirror.as_uri()], checksums=bad)
    # files verified before the failure stay; the failing one and every temporary file are gone
    left = sorted(p.name for p in root.iterdir())
    assert "t10k-images-idx3-ubyte.gz" not in left and not any(name.endswith(".part") for name in left)
    for name in left:
        assert hashlib.md5((root / name).read_bytes()).hexdigest() == sums[name]


def test_fetch_tables_and_argument_checks(tmp_path):
    assert D.RESOURCES["mnist"].files["t10k-images-idx3-ubyte.gz"] == "9fb629c4189551a2d022fa330f9573f3"
    assert set(D.RESOURCES["fashion-mnist"].files) == set(D.RESOURCES["mnist"].files)
    with pytest.raises(ValueError, match="choose one of mnist, fashion-mnist"):
        D.fetch("cifar10", tmp_path)
    with pytest.raises(ValueError, match="mirrors is empty"):
        D.fetch("mnist", tmp_path, mirrors=[])


@needs_shared
def test_shared_mnist_files_match_the_published_checksums():
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert D.md5sum(SHARED / "mnist" / name) == D.RESOURCES["mnist"].files[name]


# ------------------------------------------------------------------ sequence tasks
def test_adding_problem_targets():
    x, y = _np(*D.adding_problem(500, 30, seed=0))
    assert x.shape == (500, 30, 2) and y.shape == (500, 1)
    values, markers = x[..., 0], x[..., 1]
    assert values.min() >= 0 and values.max() < 1
    assert set(np.unique(markers)) == {0.0, 1.0}
    for row in range(500):
        where = np.flatnonzero(markers[row])
        assert len(where) == 2 and where[0] < 15 <= where[1]
        assert y[row, 0] == pytest.approx(values[row, where].sum(), abs=1e-6)
    assert abs(((y - 1) ** 2).mean() - 1 / 6) < 0.03  # the predict-the-mean baseline


@pytest.mark.parametrize("reverse", [False, True])
def test_copy_and_reverse_tasks(reverse):
    task = D.reverse_task if reverse else D.copy_task
    x, y = _np(*task(20, 5, num_symbols=4, delay=3, seed=1))
    assert x.shape == y.shape == (20, 2 * 5 + 3 + 1) and x.dtype == np.int64
    for row in range(20):
        symbols = list(x[row, :5])
        assert all(1 <= s <= 4 for s in symbols)
        assert list(x[row, 5:]) == [0, 0, 0, 5] + [0] * 5
        assert list(y[row]) == [0] * 9 + (symbols[::-1] if reverse else symbols)


def test_noisy_sine_targets_and_noise_level():
    x, y = _np(*D.noisy_sine(64, 50, period=16.0, noise=0.0, seed=2))
    assert x.shape == y.shape == (64, 50, 1)
    np.testing.assert_array_equal(y[:, :-1], x[:, 1:])
    s = np.concatenate([x[:, :, 0], y[:, -1:, 0]], axis=1).astype(np.float64)
    c = np.cos(2 * np.pi / 16)
    # a pure sine obeys s[t+1] = 2cos(ω) s[t] − s[t−1]
    np.testing.assert_allclose(s[:, 2:], 2 * c * s[:, 1:-1] - s[:, :-2], atol=1e-5)
    assert np.abs(s).max() <= 1 + 1e-6 and np.abs(s).max() > 0.99
    xn, _ = _np(*D.noisy_sine(400, 200, period=16.0, noise=0.2, seed=2))
    sn = xn[:, :, 0].astype(np.float64)
    resid = sn[:, 2:] - 2 * c * sn[:, 1:-1] + sn[:, :-2]  # only noise left: variance σ²(2 + 4cos²ω)
    assert resid.var() == pytest.approx(0.2 ** 2 * (2 + 4 * c ** 2), rel=0.03)


def test_sequence_tasks_are_seeded():
    for task in (lambda s: D.adding_problem(4, 6, seed=s), lambda s: D.copy_task(4, 6, seed=s),
                 lambda s: D.noisy_sine(4, 6, seed=s)):
        np.testing.assert_array_equal(task(3)[0].numpy(), task(3)[0].numpy())
        assert not np.array_equal(task(3)[0].numpy(), task(4)[0].numpy())
    with pytest.raises(ValueError, match="T must be an integer >= 2"):
        D.adding_problem(3, 1)


# ------------------------------------------------------------------ text corpus
def test_char_corpus_vocab_round_trip_and_unk():
    text = "hello world, hello fukaku"
    c = D.TextCorpus(text)
    counts = Counter(text)
    expected = sorted(counts, key=lambda ch: (-counts[ch], ch))
    assert c.vocab.itos == [D.UNK, *expected]
    assert c.decode(c.ids) == text and len(c) == len(text)
    assert c.vocab.stoi["l"] == 1  # the most frequent character
    ids = c.encode("hold!").tolist()
    assert ids[-1] == c.vocab.unk_index == 0 and c.decode(ids) == "hold" + D.UNK
    assert c.encode("").shape == (0,)


def test_word_corpus_min_freq_max_vocab_and_lower():
    text = "The cat sat . the cat ran . A dog sat"
    c = D.TextCorpus(text, level="word", lower=True, min_freq=2)
    assert c.vocab.itos == [D.UNK, ".", "cat", "sat", "the"]
    assert c.decode(c.encode("the cat sat on a mat")) == f"the cat sat {D.UNK} {D.UNK} {D.UNK}"
    small = D.TextCorpus(text, level="word", max_vocab=3)
    assert len(small.vocab) == 3 and small.vocab.itos[1:] == [".", "cat"]
    with pytest.raises(IndexError, match=r"ids must be in \[0, 3\)"):
        small.decode([5])
    with pytest.raises(ValueError, match="level must be"):
        D.TextCorpus(text, level="byte")


def test_next_token_windows():
    ids = np.arange(23)
    x, y = D.next_token_windows(ids, 5)
    assert x.shape == (4, 5)
    np.testing.assert_array_equal(x.numpy(), np.arange(20).reshape(4, 5))
    np.testing.assert_array_equal(y.numpy(), x.numpy() + 1)
    x2, y2 = D.next_token_windows(ids, 5, stride=2, return_tensors=False)
    assert len(x2) == (23 - 5 - 1) // 2 + 1 and x2[3, 0] == 6 and y2[-1, -1] == x2[-1, -1] + 1
    with pytest.raises(ValueError, match="too few"):
        D.next_token_windows(np.arange(5), 5)


def test_corpus_from_file(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("ねこ ねこ いぬ\n", encoding="utf-8")
    c = D.TextCorpus(p)
    assert c.decode(c.ids) == "ねこ ねこ いぬ\n" and c.vocab.itos[1] in ("ね", "こ", " ")
    assert D.TextCorpus.from_file(str(p), level="word").vocab.itos == [D.UNK, "ねこ", "いぬ"]


def test_corpus_file_errors_name_the_file(tmp_path):
    p = _write(tmp_path / "latin1.txt", "café au lait".encode("latin-1"))
    with pytest.raises(D.DatasetFormatError, match=rf"text file {p}: not UTF-8: invalid continuation byte at byte 3 "
                                                   r"\(0xe9\); re-encode the file as UTF-8"):
        D.TextCorpus(p)
    p = _write(tmp_path / "surrogate.txt", b"ab\xed\xa0\x80")  # UTF-8 has no surrogates
    with pytest.raises(D.DatasetFormatError, match=rf"{p}: not UTF-8.*at byte 2"):
        D.TextCorpus(p, level="word")
    for name, data in (("empty.txt", b""), ("blank.txt", b" \r\n\t\x0b")):
        p = _write(tmp_path / name, data)
        with pytest.raises(D.DatasetFormatError, match=rf"TextCorpus: text file {p}: the text has no tokens"):
            D.TextCorpus(p, level="word")
    p = _write(tmp_path / "ten.txt", b"0123456789")
    with pytest.raises(D.DatasetFormatError, match=rf"{p}: 10 bytes, more than max_bytes=9"):
        D.TextCorpus(p, max_bytes=9)
    assert len(D.TextCorpus(p, max_bytes=10)) == 10
    with pytest.raises(ValueError, match="max_bytes must be an integer >= 0"):
        D.TextCorpus(p, max_bytes=-1)
    with pytest.raises(D.DatasetFormatError, match="^TextCorpus: the text has no tokens$"):
        D.TextCorpus("")


def test_corpus_file_newlines_and_odd_characters(tmp_path):
    data = "a\r\nb\rc\n\x00d\x00 e\x00 \ufeffé".encode("utf-8")
    p = _write(tmp_path / "odd.txt", data)
    c = D.TextCorpus(p)
    assert c.decode(c.ids) == p.read_text(encoding="utf-8") == "a\nb\nc\n\x00d\x00 e\x00 \ufeffé"  # as open() reads it
    w = D.TextCorpus(p, level="word")
    # words keep NUL characters (a fixed-width NumPy string array would drop the trailing ones)
    assert w.decode(w.ids) == "a b c \x00d\x00 e\x00 \ufeffé" and len(w.vocab) == 7


def test_word_corpus_memory_follows_the_file_not_its_longest_word(tmp_path):
    # one 1 MB word among 300,000 short ones: as a fixed-width string array this needs 1.2 TB
    p = _write(tmp_path / "long-word.txt", b"x" * 1_000_000 + b" a b" * 150_000)
    holder = []
    peak = _traced_peak(lambda: holder.append(D.TextCorpus(p, level="word")))
    c = holder[0]
    assert len(c) == 300_001 and c.vocab.itos == [D.UNK, "a", "b", "x" * 1_000_000]
    assert c.ids[:3].tolist() == [3, 1, 2]
    assert peak < 40e6, f"peak {peak / 1e6:.0f} MB"


@pytest.mark.shared_data("text/tinyshakespeare.txt", "text/neko.txt")
def test_tinyshakespeare_and_neko():
    text = (SHARED / "text" / "tinyshakespeare.txt").read_text(encoding="utf-8")
    c = D.TextCorpus(text)
    assert len(c) == 1115394 and len(c.vocab) == len(set(text)) + 1 == 66
    assert c.decode(c.ids) == text
    x, y = c.windows(128)
    np.testing.assert_array_equal(x.numpy()[:, 1:], y.numpy()[:, :-1])
    neko = (SHARED / "text" / "neko.txt").read_text(encoding="utf-8")
    n = D.TextCorpus.from_file(SHARED / "text" / "neko.txt", max_vocab=500)
    counts = Counter(neko)
    top = [ch for ch, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:499]]
    assert n.vocab.itos[1:] == top
    assert "吾輩は猫である" in D.TextCorpus(neko).decode(D.TextCorpus(neko).ids[:200])
    unk_share = (n.ids == 0).mean()
    assert unk_share == pytest.approx(1 - sum(counts[ch] for ch in top) / len(neko))


# ------------------------------------------------------------------ digits, shared MNIST
def test_digits_match_scikit_learn():
    sk = pytest.importorskip("sklearn.datasets", reason="scikit-learn (optional extra) is not installed")
    bunch = sk.load_digits()
    x, y = D.digits()
    assert x.shape == (1797, 64) and x.dtype == fk.float32 and y.dtype == fk.int64
    np.testing.assert_allclose(x.numpy(), bunch.data / 16.0, rtol=1e-6)
    np.testing.assert_array_equal(y.numpy(), bunch.target)
    raw, _ = D.digits(flatten=False, normalize=False, return_tensors=False)
    assert raw.shape == (1797, 8, 8) and raw.max() == 16


def test_digits_without_scikit_learn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # makes the import fail
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        D.digits()


@needs_shared
def test_shared_mnist_test_set_and_8k_2k_split():
    x, y = D.mnist(SHARED / "mnist", train=False, normalize=False, return_tensors=False)
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]  # the well-known first t10k labels
    assert np.bincount(y).sum() == 10000 and np.bincount(y).min() > 850
    s = D.mnist_split(SHARED / "mnist")
    assert s.x_train.shape == (8000, 784) and s.x_test.shape == (2000, 784)
    np.testing.assert_array_equal(s.y_train.numpy(), y[:8000])
    np.testing.assert_array_equal(s.y_test.numpy(), y[8000:])
    np.testing.assert_allclose(s.x_test.numpy()[0], x[8000].reshape(-1) / 255.0, rtol=1e-6)


@needs_shared
def test_mnist_default_root_finds_the_shared_data(monkeypatch):
    monkeypatch.setenv("FUKAKU_DATA", str(SHARED))
    x, _ = D.mnist(train=False)
    assert x.shape == (10000, 28, 28)


def test_mnist_without_data_says_where_it_looked(monkeypatch, tmp_path):
    import fukaku.datasets._idx as idx
    monkeypatch.setattr(idx, "candidate_dirs", lambda name: [tmp_path / "a" / name, tmp_path / "b" / name])
    with pytest.raises(FileNotFoundError, match=rf"looked in {tmp_path}/a/mnist, {tmp_path}/b/mnist.*"
                                                "fukaku data fetch mnist"):
        D.mnist(train=False)
    _mnist_dir(tmp_path / "b" / "mnist")
    assert D.mnist(train=False)[0].shape == (4, 28, 28)


def test_candidate_dirs_honour_fukaku_data(monkeypatch, tmp_path):
    monkeypatch.setenv("FUKAKU_DATA", str(tmp_path))
    assert D._common.candidate_dirs("mnist")[0] == tmp_path / "mnist"
    assert D.download_root() == tmp_path
    monkeypatch.delenv("FUKAKU_DATA")
    assert D.download_root() == Path.home() / ".cache" / "fukaku" / "data"
