"""The ``fukaku`` command: help everywhere, train (with a checkpoint checked against an independent
re-evaluation), data fetch (from file:// mirrors the test writes, never the network), info, lab
delegation, and the errors a user can make."""
import gzip
import hashlib
import subprocess
import sys

import numpy as np
import pytest

import fukaku as fk
from fukaku.cli import main
from fukaku.models import MLP


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv,expected", [
    (["--help"], ["train", "lab", "data", "info"]),
    (["train", "--help"], ["MODEL", "--data", "--epochs", "--lr", "--batch-size", "--optimizer", "--seed", "--save",
                            "digits", "mnist", "spiral", "perceptron"]),
    (["data", "--help"], ["fetch"]),
    (["data", "fetch", "--help"], ["NAME", "--root", "MD5"]),
    (["info", "--help"], ["BLAS"]),
    (["lab", "--help"], ["fukaku lab", "run"]),
])
def test_help_everywhere(argv, expected, capsys):
    code, out, _ = run(argv, capsys)
    assert code == 0
    for word in expected:
        assert word in out


def test_usage_errors_exit_2(capsys):
    assert run([], capsys)[0] == 2
    code, _, err = run(["train", "mlp"], capsys)
    assert code == 2 and "--data" in err
    code, _, err = run(["train", "resnet", "--data", "digits"], capsys)
    assert code == 2 and "invalid choice" in err
    code, _, err = run(["train", "perceptron", "--data", "digits"], capsys)
    assert code == 2 and "two classes" in err
    code, _, err = run(["train", "linreg", "--data", "circle"], capsys)
    assert code == 2 and "regression" in err
    code, _, err = run(["train", "mlp", "--data", "digits", "--hidden", "12,x"], capsys)
    assert code == 2 and "comma-separated" in err
    code, _, err = run(["train", "mlp", "--data", "digits", "--epochs", "0"], capsys)
    assert code == 2 and "--epochs must be >= 1" in err


def test_save_path_is_checked_before_training(tmp_path, capsys):
    code, out, err = run(["train", "mlp", "--data", "digits", "--save", str(tmp_path / "model.pt")], capsys)
    assert code == 2 and ".safetensors or .npz" in err and "train" not in out
    code, _, err = run(["train", "mlp", "--data", "digits", "--save", str(tmp_path / "missing" / "m.npz")], capsys)
    assert code == 2 and "does not exist" in err


def test_train_mlp_writes_a_checkpoint_that_reproduces_the_reported_accuracy(tmp_path, capsys):
    path = tmp_path / "mlp.npz"
    code, out, _ = run(["train", "mlp", "--data", "digits", "--epochs", "3", "--hidden", "32", "--seed", "1",
                        "--save", str(path)], capsys)
    assert code == 0, out
    assert "1,437 train / 360 test" in out and "epoch 3/3" in out and f"saved {path}" in out
    ckpt = fk.load(path)
    config = ckpt["config"]
    assert config["sizes"] == [64, 32, 10] and config["data"] == "digits" and ckpt["epoch"] == 3
    assert set(ckpt["optimizer"]) == {"state", "param_groups"}
    model = MLP(config["sizes"], activation=config["activation"])
    model.load_state_dict(ckpt["model"])
    # re-evaluate independently: scikit-learn's digits, the same 80/20 permutation (seed 1)
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    test = np.random.default_rng(1).permutation(len(x))[-360:]
    with fk.no_grad():
        pred = model(fk.tensor((x[test] / 16).astype(np.float32))).argmax(dim=1).numpy()
    accuracy = np.mean(pred == y[test])
    assert accuracy == pytest.approx(ckpt["results"]["test_accuracy"], abs=1e-12)
    assert f"test accuracy {accuracy:.4f}" in out


def test_train_perceptron_and_linear_models(tmp_path, capsys):
    code, out, _ = run(["train", "perceptron", "--data", "gauss", "--save", str(tmp_path / "p.npz")], capsys)
    assert code == 0 and "converged after" in out and "test accuracy 1.0000" in out
    assert fk.load(tmp_path / "p.npz")["results"]["converged"]
    code, out, _ = run(["train", "perceptron", "--data", "xor", "--epochs", "5"], capsys)
    assert code == 0 and "did not converge after 5 epoch(s)" in out
    code, out, _ = run(["train", "logreg", "--data", "gauss", "--epochs", "3", "--quiet"], capsys)
    assert code == 0 and "test accuracy" in out and "epoch 1/3" not in out
    code, out, _ = run(["train", "linreg", "--data", "reg-plane", "--epochs", "20", "--optimizer", "sgd", "--quiet"],
                       capsys)
    test_loss = float(out.rsplit("test loss ", 1)[1])
    assert code == 0 and test_loss < 1e-6  # reg-plane without noise is exactly linear


def test_divergence_is_reported(capsys):
    with np.errstate(all="ignore"):
        code, _, err = run(["train", "linreg", "--data", "reg-plane", "--optimizer", "sgd", "--lr", "5", "--epochs",
                            "3", "--quiet"], capsys)
    assert code == 1 and "diverged" in err and "lower --lr" in err


def test_missing_mnist_names_the_place(tmp_path, capsys):
    code, _, err = run(["train", "mlp", "--data", "mnist", "--root", str(tmp_path)], capsys)
    assert code == 1 and str(tmp_path) in err


def _idx_gz(path, payload: bytes) -> str:
    path.write_bytes(gzip.compress(payload))
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_data_fetch_from_a_file_mirror(tmp_path, capsys, monkeypatch):
    from fukaku.datasets import RESOURCES

    mirror = tmp_path / "mirror"
    mirror.mkdir()
    labels = np.arange(3, dtype=np.uint8)
    md5 = _idx_gz(mirror / "t10k-labels-idx1-ubyte.gz", b"\x00\x00\x08\x01" + (3).to_bytes(4, "big") + labels.tobytes())
    monkeypatch.setitem(RESOURCES, "mnist", RESOURCES["mnist"]._replace(mirrors=(mirror.as_uri() + "/",),
                                                                        files={"t10k-labels-idx1-ubyte.gz": md5}))
    dest = tmp_path / "data"
    code, out, _ = run(["data", "fetch", "mnist", "--root", str(dest)], capsys)
    assert code == 0 and "MD5 ok" in out and str(dest) in out
    assert (dest / "t10k-labels-idx1-ubyte.gz").read_bytes() == (mirror / "t10k-labels-idx1-ubyte.gz").read_bytes()
    # a mirror serving a different file: refused, nothing written
    other = tmp_path / "other"
    other.mkdir()
    _idx_gz(other / "t10k-labels-idx1-ubyte.gz", b"corrupt")
    argv = ["data", "fetch", "mnist", "--root", str(tmp_path / "data2"), "--mirror", other.as_uri()]
    code, _, err = run(argv, capsys)
    assert code == 1 and "t10k-labels-idx1-ubyte.gz" in err
    assert not (tmp_path / "data2" / "t10k-labels-idx1-ubyte.gz").exists()


def test_info(capsys):
    code, out, _ = run(["info"], capsys)
    assert code == 0
    assert f"numpy: {np.__version__}" in out and f"fukaku: {fk.__version__}" in out
    assert "blas" in out and "cpus:" in out


def test_lab_is_delegated(capsys):
    from fukaku.lab import list_experiments

    code, out, _ = run(["lab", "list"], capsys)
    assert code == 0
    for experiment in list_experiments():
        assert experiment.id in out
    code, _, err = run(["lab", "run"], capsys)
    assert code == 2 and "--all" in err


def test_python_dash_m_fukaku():
    done = subprocess.run([sys.executable, "-m", "fukaku", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"fukaku {fk.__version__}"
