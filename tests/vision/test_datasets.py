"""fukaku.vision.datasets: MNIST from tiny IDX files (and the shared t10k files), CIFAR batches written
by Python 2's cPickle layout and by real ``pickle.dump`` at every protocol, hostile pickles that must
be refused without running, verified downloads from local ``file://`` mirrors (never the network),
and ImageFolder on a folder of PNGs."""
from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import os
import pickle
import struct
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import fukaku as fk
import fukaku.datasets as D
from fukaku.utils.data import DataLoader
from fukaku.vision import datasets, transforms
from fukaku.vision.datasets._pickle import load_plain_pickle


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cf = _load("cifar_files")


# ------------------------------------------------------------------ MNIST
def idx(array: np.ndarray) -> bytes:
    """An IDX file from the format description: 00 00 08 ndim, big-endian sizes, the bytes."""
    return bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_mnist(raw: Path, n_train: int = 5, n_test: int = 3, gz: bool = False) -> dict:
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    written = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        for stem, array in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
            payload = idx(array)
            if gz:
                (raw / f"{stem}.gz").write_bytes(gzip.compress(payload, mtime=0))
            else:
                (raw / stem).write_bytes(payload)
        written[prefix] = (images, labels)
    return written


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reads_torchvisions_layout(tmp_path, gz):
    written = write_mnist(tmp_path / "MNIST" / "raw", gz=gz)
    train = datasets.MNIST(tmp_path, train=True)
    images, labels = written["train"]
    assert train.data.dtype == fk.uint8 and tuple(train.data.shape) == (5, 28, 28)
    assert train.targets.dtype == fk.int64
    np.testing.assert_array_equal(train.data.numpy(), images)
    np.testing.assert_array_equal(train.targets.numpy(), labels)
    image, label = train[3]
    assert isinstance(image, Image.Image) and image.mode == "L" and type(label) is int and label == labels[3]
    np.testing.assert_array_equal(np.asarray(image), images[3])
    test = datasets.MNIST(str(tmp_path), train=False, transform=transforms.ToTensor(),
                          target_transform=lambda y: y + 100)
    x, y = test[1]
    assert len(test) == 3 and tuple(x.shape) == (1, 28, 28) and y == written["t10k"][1][1] + 100
    np.testing.assert_array_equal(x.numpy()[0], written["t10k"][0][1].astype(np.float32) / np.float32(255))
    assert test.class_to_idx["7 - seven"] == 7 and test.raw_folder == os.path.join(str(tmp_path), "MNIST", "raw")
    text = repr(test)
    assert text.startswith("Dataset MNIST\n    Number of datapoints: 3\n") and "Split: Test" in text and "ToTensor()" in text


def test_mnist_batches_through_a_dataloader(tmp_path):
    write_mnist(tmp_path / "FashionMNIST" / "raw", n_train=7)
    data = datasets.FashionMNIST(tmp_path, transform=transforms.Compose([
        transforms.ToTensor(), transforms.Normalize((0.2860,), (0.3530,))]))
    assert data.classes[0] == "T-shirt/top" and data.class_to_idx["Ankle boot"] == 9
    x, y = next(iter(DataLoader(data, batch_size=4)))
    assert tuple(x.shape) == (4, 1, 28, 28) and x.dtype == fk.float32 and y.dtype == fk.int64
    np.testing.assert_allclose(x.numpy()[2, 0], (data.data.numpy()[2] / np.float32(255) - np.float32(0.2860))
                               / np.float32(0.3530), rtol=1e-6)


def test_mnist_missing_files_say_where_and_how(tmp_path):
    with pytest.raises(RuntimeError, match=r"MNIST needs .*MNIST.raw.train-images-idx3-ubyte\[\.gz\], "
                                           r".*MNIST.raw.train-labels-idx1-ubyte\[\.gz\]\. You can use download=True"):
        datasets.MNIST(tmp_path)
    write_mnist(tmp_path / "MNIST" / "raw")
    (tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(RuntimeError, match="t10k-labels-idx1-ubyte"):
        datasets.MNIST(tmp_path, train=False)


def test_mnist_damaged_file_is_a_format_error_naming_it(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_mnist(raw)
    labels = raw / "train-labels-idx1-ubyte"
    labels.write_bytes(labels.read_bytes()[:-1])
    with pytest.raises(D.DatasetFormatError, match=str(labels.name)):
        datasets.MNIST(tmp_path)


def _mirror(tmp_path: Path) -> tuple[str, list[tuple[str, str]], dict]:
    """A local mirror of gzip'd MNIST files and their MD5s."""
    source = tmp_path / "mirror"
    written = write_mnist(source, gz=True)
    resources = [(p.name, hashlib.md5(p.read_bytes()).hexdigest()) for p in sorted(source.iterdir())]
    return source.as_uri() + "/", resources, written


def test_mnist_download_goes_through_the_verified_fetcher(tmp_path, monkeypatch, capsys):
    url, resources, written = _mirror(tmp_path)
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["file:///nonexistent/", url])
    monkeypatch.setattr(datasets.MNIST, "resources", resources)
    data = datasets.MNIST(tmp_path / "root", train=False, download=True)
    np.testing.assert_array_equal(data.data.numpy(), written["t10k"][0])
    assert sorted(os.listdir(data.raw_folder)) == sorted(name for name, _ in resources)
    assert "MD5 ok" in capsys.readouterr().out
    # a mirror serving other bytes: nothing is kept, the error names the file
    monkeypatch.setattr(datasets.MNIST, "resources", [(n, "0" * 32) for n, _ in resources])
    with pytest.raises(D.FetchError, match="MD5 mismatch"):
        datasets.MNIST(tmp_path / "other", download=True)
    assert not any((tmp_path / "other" / "MNIST" / "raw").iterdir())


@pytest.mark.shared_data("mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz")
def test_mnist_on_the_shared_test_set(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (raw / name).symlink_to(D.shared_data_dir() / "mnist" / name)
    test = datasets.MNIST(tmp_path, train=False, transform=transforms.ToTensor())
    images, labels = D.mnist(D.shared_data_dir() / "mnist", train=False, normalize=False, return_tensors=False)
    assert len(test) == 10000 and tuple(test.data.shape) == (10000, 28, 28)
    np.testing.assert_array_equal(test.data.numpy(), images)
    np.testing.assert_array_equal(test.targets.numpy(), labels)
    assert np.bincount(labels).min() > 800  # every digit is there
    x, y = test[9999]
    assert y == labels[-1]
    np.testing.assert_array_equal(x.numpy()[0], images[-1] / np.float32(255))


# ------------------------------------------------------------------ CIFAR
def _expected(written: dict, names: list[str]) -> tuple[np.ndarray, list[int]]:
    data = np.concatenate([written[n][0] for n in names]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return data, [t for n in names for t in written[n][1]]


@pytest.mark.parametrize("style, protocol", [("py2", 2), ("dump", 2), ("dump", 3), ("dump", 4), ("dump", 5)])
def test_cifar10_reads_the_batches(tmp_path, style, protocol):
    written = cf.write_cifar10(tmp_path, n=4, style=style, protocol=protocol)
    train = datasets.CIFAR10(tmp_path, train=True)
    data, targets = _expected(written, [f"data_batch_{k}" for k in range(1, 6)])
    assert isinstance(train.data, np.ndarray) and train.data.dtype == np.uint8 and train.data.shape == (20, 32, 32, 3)
    np.testing.assert_array_equal(train.data, data)
    assert train.targets == targets and all(type(t) is int for t in train.targets)
    assert train.classes == cf.CIFAR10_NAMES and train.class_to_idx["truck"] == 9
    image, label = train[5]
    assert isinstance(image, Image.Image) and image.mode == "RGB" and label == targets[5]
    np.testing.assert_array_equal(np.asarray(image), data[5])
    test = datasets.CIFAR10(tmp_path, train=False, transform=transforms.ToTensor())
    x, y = test[2]
    want, want_targets = _expected(written, ["test_batch"])
    assert len(test) == 4 and y == want_targets[2]
    # the file's layout: 1,024 red values, then green, then blue, each row by row
    np.testing.assert_array_equal(x.numpy(), written["test_batch"][0][2].reshape(3, 32, 32) / np.float32(255))


def test_cifar100_uses_fine_labels(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    data, fine = cf.random_batch(5, 1, classes=100)
    entries = cf.batch_entries(data, fine, key=b"fine_labels")
    entries[b"coarse_labels"] = [f // 5 for f in fine]
    (folder / "train").write_bytes(cf.py2_pickle(entries))
    (folder / "test").write_bytes(cf.py2_pickle(entries))
    names = [f"class{i}".encode() for i in range(100)]
    (folder / "meta").write_bytes(cf.py2_pickle({b"fine_label_names": names, b"coarse_label_names": names[:20]}))
    train = datasets.CIFAR100(tmp_path)
    assert train.targets == fine and train.classes[99] == "class99"


def test_cifar_missing_files_and_bad_contents(tmp_path):
    with pytest.raises(RuntimeError, match=r"CIFAR10 needs .*data_batch_1.*download=True"):
        datasets.CIFAR10(tmp_path)
    written = cf.write_cifar10(tmp_path, n=3)
    folder = tmp_path / "cifar-10-batches-py"
    data, labels = written["test_batch"]
    cases = {
        "labels range over \\[0, 10\\]": cf.batch_entries(data, [0, 10, 1]),
        "3 images but 2 labels": cf.batch_entries(data, [0, 1]),
        "'data' is a uint8 array of shape \\(3, 3071\\)": cf.batch_entries(data[:, :-1].copy(), labels),
        "'labels' is not a list of ints": cf.batch_entries(data, [b"a", b"b", b"c"]),
        "no 'data' entry": {b"labels": labels},
    }
    for message, entries in cases.items():
        (folder / "test_batch").write_bytes(cf.py2_pickle(entries))
        with pytest.raises(D.DatasetFormatError, match=f"{folder / 'test_batch'}.*{message}"):
            datasets.CIFAR10(tmp_path, train=False)
    (folder / "test_batch").write_bytes(pickle.dumps({b"data": data.astype(np.int16), b"labels": labels}))
    with pytest.raises(D.DatasetFormatError, match="'data' is a int16 array"):
        datasets.CIFAR10(tmp_path, train=False)


def _tarball(tmp_path: Path, members: dict[str, bytes]) -> Path:
    path = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path


def test_cifar_download_verifies_and_unpacks_safely(tmp_path, monkeypatch):
    source = tmp_path / "source"
    cf.write_cifar10(source, n=2)
    members = {f"cifar-10-batches-py/{p.name}": p.read_bytes() for p in (source / "cifar-10-batches-py").iterdir()}
    archive = _tarball(tmp_path / "mirror" if (tmp_path / "mirror").mkdir() is None else tmp_path, members)
    monkeypatch.setattr(datasets.CIFAR10, "url", archive.as_uri())
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", hashlib.md5(archive.read_bytes()).hexdigest())
    data = datasets.CIFAR10(tmp_path / "root", download=True)
    assert data.data.shape == (10, 32, 32, 3) and (tmp_path / "root" / "cifar-10-python.tar.gz").is_file()
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", "0" * 32)
    with pytest.raises(D.FetchError, match="MD5 mismatch"):
        datasets.CIFAR10(tmp_path / "elsewhere", download=True)
    assert not (tmp_path / "elsewhere" / "cifar-10-python.tar.gz").exists()
    # an archive whose member climbs out of the destination is refused by the tar filter
    evil = _tarball(tmp_path / "evil" if (tmp_path / "evil").mkdir() is None else tmp_path,
                    {"../escaped.txt": b"x", **members})
    monkeypatch.setattr(datasets.CIFAR10, "url", evil.as_uri())
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", hashlib.md5(evil.read_bytes()).hexdigest())
    with pytest.raises(tarfile.FilterError):
        datasets.CIFAR10(tmp_path / "victim" / "root", download=True)
    assert not (tmp_path / "victim" / "escaped.txt").exists()


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def _bad(tmp_path: Path, payload: bytes, name: str = "test_batch") -> Path:
    path = tmp_path / name
    path.write_bytes(payload)
    return path


def _frombuffer(buffer_ops: bytes, shape_ops: bytes) -> bytes:
    """A pickle of ``_frombuffer(buffer, dtype('u1'), (a, b), 'C')``, written opcode by opcode."""
    dtype = (b"cnumpy\ndtype\nX\x02\x00\x00\x00u1\x89\x88\x87R(K\x03X\x01\x00\x00\x00|NNN"
             b"J\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb")
    return (b"\x80\x02cnumpy._core.numeric\n_frombuffer\n(" + buffer_ops + dtype + shape_ops
            + b"\x86X\x01\x00\x00\x00CtR.")


def test_hostile_pickles_are_refused_without_running(tmp_path):
    marker = tmp_path / "ran"
    data, labels = cf.random_batch(2, 0)
    payloads = {
        "refers to (posix|os).system": pickle.dumps({b"data": data, b"labels": labels, b"x": _RunsCode(marker)}),
        "refers to builtins.eval": b"\x80\x02cbuiltins\neval\nX\x04\x00\x00\x003**3\x85R.",
        "only bool, integer and float dtypes": pickle.dumps({b"data": np.array([1, "a"], dtype=object)}, protocol=2),
        r"opcode 0x70 \(PUT\) is not allowed": pickle.dumps({b"labels": [1]}, protocol=0),
        "dtype 'V1': only bool, integer and float": pickle.dumps(np.zeros(2, dtype=[("a", "u1")]), protocol=2),
        "not that of a plain numeric dtype": b"\x80\x02cnumpy\ndtype\nX\x02\x00\x00\x00u1\x89\x88\x87R(K\x03X\x01\x00"
                                             b"\x00\x00|NX\x01\x00\x00\x00aNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb.",
        "ends without STOP": pickle.dumps({b"data": data}, protocol=2)[:-1],
        "FRAME declares 6297 bytes but 6296 remain": pickle.dumps({b"data": data}, protocol=4)[:-1],
        "declares 1152921504606846976 bytes": b"\x80\x04\x8e" + (2 ** 60).to_bytes(8, "little") + b"\x00" * 16,
        "bytes follow the pickle's STOP": pickle.dumps({}) + b"junk",
        "GET of memo entry 7": b"\x80\x02h\x07.",
        "needs 6 bytes, its data holds 5": _frombuffer(b"C\x05abcde", b"K\x02K\x03"),
    }
    for message, payload in payloads.items():
        path = _bad(tmp_path, payload)
        with pytest.raises(D.DatasetFormatError, match=f"{path}.*({message})"):
            load_plain_pickle(path)
    assert not marker.exists()
    # the same file under a CIFAR folder: the dataset refuses it with the same error
    cf.write_cifar10(tmp_path, n=2)
    _bad(tmp_path / "cifar-10-batches-py", payloads["refers to (posix|os).system"])
    with pytest.raises(D.DatasetFormatError, match="nothing is imported or called"):
        datasets.CIFAR10(tmp_path, train=False)
    assert not marker.exists()


def test_pickle_reader_limits_do_not_recurse_or_allocate(tmp_path):
    deep = b"\x80\x02" + b"]" * 200_000 + b"a" * 199_999 + b"."  # 200,000 nested lists
    value = load_plain_pickle(_bad(tmp_path, deep))
    assert isinstance(value, list) and len(value) == 1
    huge = b"\x80\x02" + b"T" + (2 ** 31 - 1).to_bytes(4, "little") + b"x" * 10 + b"."
    with pytest.raises(D.DatasetFormatError, match="declares 2147483647 bytes but 11 remain"):
        load_plain_pickle(_bad(tmp_path, huge))
    with pytest.raises(D.DatasetFormatError, match="more than max_bytes=10"):
        load_plain_pickle(_bad(tmp_path, pickle.dumps(list(range(10)))), max_bytes=10)
    shape = _frombuffer(b"C\x00", b"K\x00\x8a\x09" + (2 ** 63).to_bytes(9, "little"))
    with pytest.raises(D.DatasetFormatError, match="too large, even with no elements"):
        load_plain_pickle(_bad(tmp_path, shape))


# ------------------------------------------------------------------ ImageFolder
def _png(path: Path, color: tuple[int, int, int], mode: str = "RGB") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, (3, 2), color if mode == "RGB" else color[0]).save(path)


def test_image_folder_classes_samples_and_loading(tmp_path):
    _png(tmp_path / "dog" / "b.png", (1, 2, 3))
    _png(tmp_path / "dog" / "nested" / "a.PNG", (4, 5, 6))
    _png(tmp_path / "cat" / "z.png", (7, 8, 9), mode="L")
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    (tmp_path / "readme.md").write_text("not a class")
    data = datasets.ImageFolder(tmp_path, transform=transforms.PILToTensor(), target_transform=lambda t: -t)
    assert data.classes == ["cat", "dog"] and data.class_to_idx == {"cat": 0, "dog": 1}
    assert data.samples == [(str(tmp_path / "cat" / "z.png"), 0), (str(tmp_path / "dog" / "b.png"), 1),
                            (str(tmp_path / "dog" / "nested" / "a.PNG"), 1)]
    assert data.targets == [0, 1, 1] and data.imgs is data.samples and len(data) == 3
    x, y = data[0]  # a grey PNG is converted to RGB
    assert y == 0 and x.numpy().tolist() == [[[7] * 3] * 2] * 3
    x, y = data[2]
    assert y == -1 and x.numpy()[:, 0, 0].tolist() == [4, 5, 6]
    only_png = datasets.ImageFolder(tmp_path, is_valid_file=lambda p: p.endswith("b.png") or p.endswith("z.png"))
    assert [Path(p).name for p, _ in only_png.samples] == ["z.png", "b.png"]
    folder = datasets.DatasetFolder(tmp_path, loader=lambda p: Path(p).read_bytes()[:4], extensions=(".txt",),
                                    allow_empty=True)
    assert folder.samples == [(str(tmp_path / "cat" / "notes.txt"), 0)] and folder[0][0] == b"not "


def test_image_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        datasets.ImageFolder(tmp_path)
    _png(tmp_path / "a" / "x.png", (0, 0, 0))
    (tmp_path / "b").mkdir()
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes b. Supported extensions"):
        datasets.ImageFolder(tmp_path)
    assert len(datasets.ImageFolder(tmp_path, allow_empty=True)) == 1
    with pytest.raises(ValueError, match="Both extensions and is_valid_file"):
        datasets.DatasetFolder(tmp_path, loader=print, extensions=(".png",), is_valid_file=bool)
    (tmp_path / "b" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    data = datasets.ImageFolder(tmp_path)
    with pytest.raises(datasets.ImageFileError, match="broken.png") as caught:
        data[1]
    assert isinstance(caught.value, OSError) and isinstance(caught.value, D.DatasetFormatError)


def test_vision_dataset_transforms_arguments():
    with pytest.raises(ValueError, match="Only transforms or transform/target_transform"):
        datasets.VisionDataset("x", transforms=lambda a, b: (a, b), transform=abs)
    both = datasets.StandardTransform(abs, lambda t: t * 2)
    assert both(-3, 4) == (3, 8)
    assert datasets.VisionDataset("~/data").root == os.path.expanduser("~/data")


def test_importing_vision_needs_no_torchvision():
    assert "torchvision" not in sys.modules
