"""The ``fukaku`` command: help everywhere, train (with a checkpoint checked against an independent
re-evaluation), data fetch (from file:// mirrors the test writes, never the network), info, lab
delegation, and the errors a user can make."""
import gzip
import hashlib
import subprocess
import sys
import warnings

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
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, _, err = run(["train", "linreg", "--data", "reg-plane", "--optimizer", "sgd", "--lr", "5", "--epochs",
                            "3", "--quiet"], capsys)
    assert code == 1 and "diverged" in err and "lower --lr" in err
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]


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


# ---------------------------------------------------------------------------- options refused
@pytest.mark.parametrize("extra,message", [
    (["--momentum", "0.9"], "--momentum applies to sgd and rmsprop only, not adam; its momentum is set with --betas"),
    (["--optimizer", "adagrad", "--momentum", "0.9"], "--momentum applies to sgd and rmsprop only, not adagrad"),
    (["--optimizer", "sgd", "--betas", "0.9,0.99"], "--betas applies to adam and adamw only, not sgd; use --momentum"),
    (["--optimizer", "sgd", "--momentum", "1"], "--momentum must be in [0, 1), got 1.0"),
    (["--betas", "0.9,1.0"], "--betas must be two numbers in [0, 1), got 0.9,1.0"),
    (["--betas", "0.9"], "--betas takes two comma-separated numbers"),
    (["--lr", "-0.1"], "--lr must be a finite number > 0, got -0.1"),
    (["--lr", "nan"], "--lr must be a finite number > 0, got nan"),
    (["--dropout", "1"], "--dropout must be in [0, 1), got 1.0"),
    (["--dropout", "-0.5"], "--dropout must be in [0, 1), got -0.5"),
    (["--batch-size", "0"], "--batch-size must be >= 1, got 0"),
    (["--epochs", "-3"], "--epochs must be >= 1, got -3"),
    (["--weight-decay=-1e-4"], "--weight-decay must be a finite number >= 0, got -0.0001"),
    (["--seed", "-1"], "--seed must be >= 0, got -1"),
    (["--noise", "0.1"], "--noise applies to the Playground sets (circle, xor, gauss, spiral, reg-plane, reg-gauss) "
                         "only, not digits"),
    (["--root", "."], "--root applies to --data mnist and cifar10 only, not digits"),
    (["--resume"], "--resume needs --save PATH"),
])
def test_options_that_do_not_apply_or_are_out_of_range_are_refused(extra, message, capsys):
    code, out, err = run(["train", "mlp", "--data", "digits", *extra], capsys)
    assert code == 2 and message in err and out == ""


@pytest.mark.parametrize("argv,message", [
    (["train", "mlp", "--data", "circle", "--noise", "0.6"], "--noise must be in [0, 0.5], got 0.6"),
    (["train", "mlp", "--data", "circle", "--noise", "-0.1"], "--noise must be in [0, 0.5], got -0.1"),
    (["train", "logreg", "--data", "digits", "--hidden", "16"], "--hidden applies to mlp only, not logreg"),
    (["train", "linreg", "--data", "reg-plane", "--batchnorm"], "--batchnorm applies to mlp only, not linreg"),
    (["train", "perceptron", "--data", "gauss", "--optimizer", "sgd"], "--optimizer does not apply to the perceptron"),
    (["train", "perceptron", "--data", "gauss", "--batch-size", "8"], "--batch-size does not apply to the perceptron"),
    (["train", "perceptron", "--data", "gauss", "--save", "p.npz", "--resume"],
     "--resume does not apply to the perceptron"),
])
def test_model_and_data_options_are_refused_where_they_do_not_apply(argv, message, capsys):
    code, out, err = run(argv, capsys)
    assert code == 2 and message in err and out == ""


def test_help_states_the_ranges(capsys):
    code, out, _ = run(["train", "--help"], capsys)
    text = " ".join(out.split())
    for phrase in ("momentum in [0, 1)", "each in [0, 1)", "noise in [0, 0.5]", "dropout probability in [0, 1)",
                   "mini-batch size, >= 1", "--resume"):
        assert phrase in text, phrase


# ---------------------------------------------------------------------------- divergence, Ctrl-C, resume
def test_divergence_stops_at_the_first_non_finite_loss_in_one_line_without_numpy_warnings():
    """A real process, so stderr is what a user sees (no pytest warning capture in between)."""
    done = subprocess.run([sys.executable, "-m", "fukaku", "train", "linreg", "--data", "reg-plane", "--optimizer",
                           "sgd", "--lr", "5", "--epochs", "3"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "RuntimeWarning" not in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    line = done.stderr.strip()
    assert line.startswith("fukaku train: training diverged: the loss is inf at epoch 1/3, batch ")
    assert "at lr 5; lower --lr (e.g. --lr 0.5)" in line


def _digits_run(path, *extra):
    return ["train", "mlp", "--data", "digits", "--hidden", "16", "--epochs", "4", "--seed", "3", "--optimizer",
            "sgd", "--momentum", "0.9", "--dropout", "0.1", "--save", str(path), *extra]


def test_ctrl_c_keeps_the_last_finished_epoch_and_resume_continues_exactly(tmp_path, capsys, monkeypatch):
    code, _, _ = run(_digits_run(tmp_path / "ref.npz"), capsys)
    assert code == 0
    reference = fk.load(tmp_path / "ref.npz")

    steps = [0]
    real_step = fk.optim.SGD.step

    def step_then_ctrl_c(self, *args, **kwargs):
        steps[0] += 1
        if steps[0] == 45 * 2 + 10:  # 45 batches an epoch: Ctrl-C in the 10th batch of epoch 3
            raise KeyboardInterrupt
        return real_step(self, *args, **kwargs)

    path = tmp_path / "run.npz"
    with monkeypatch.context() as m:
        m.setattr(fk.optim.SGD, "step", step_then_ctrl_c)
        code, out, err = run(_digits_run(path), capsys)
    assert code == 130
    assert err == f"fukaku train: interrupted after 2 of 4 epochs; {path} keeps epoch 2: run the same command with " \
                  "--resume to continue\n"
    assert "epoch 2/4" in out and "epoch 3/4" not in out
    assert fk.load(path)["epoch"] == 2

    fk.manual_seed(1234)  # another process: another global RNG state
    code, out, err = run(_digits_run(path, "--resume"), capsys)
    assert code == 0, err
    assert f"resuming {path} after epoch 2 of 4" in out and "epoch 3/4" in out and "epoch 1/4" not in out
    resumed = fk.load(path)
    assert resumed["epoch"] == 4
    for key, value in reference["model"].items():
        np.testing.assert_array_equal(value.numpy(), resumed["model"][key].numpy(), err_msg=key)
    assert resumed["results"]["test_accuracy"] == reference["results"]["test_accuracy"]
    assert resumed["history"]["history"]["loss"] == reference["history"]["history"]["loss"]

    # a finished run resumes to more epochs; other options are refused, naming what differs
    code, out, _ = run(_digits_run(path, "--resume")[:-3] + ["--epochs", "5", "--save", str(path), "--resume"], capsys)
    assert code == 0 and "after epoch 4 of 5" in out and fk.load(path)["epoch"] == 5
    code, _, err = run(_digits_run(path, "--resume", "--lr", "0.05"), capsys)
    assert code == 2 and "lr: 0.1 there, 0.05 now" in err and "only --epochs may change" in err
    fk.save({"model": {}}, tmp_path / "other.npz")
    code, _, err = run(_digits_run(tmp_path / "other.npz", "--resume"), capsys)
    assert code == 2 and "not a resumable checkpoint" in err
    code, out, _ = run(_digits_run(tmp_path / "new.npz", "--resume"), capsys)
    assert code == 0 and "does not exist yet: starting at epoch 1" in out


def test_ctrl_c_without_save_and_before_any_epoch(tmp_path, capsys, monkeypatch):
    def ctrl_c(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(fk.optim.Adam, "step", ctrl_c)
    code, _, err = run(["train", "mlp", "--data", "digits", "--epochs", "2"], capsys)
    assert code == 130 and err == ("fukaku train: interrupted after 0 of 2 epochs; nothing saved (--save PATH keeps a "
                                   "resumable checkpoint of every finished epoch)\n")
    old = tmp_path / "old.npz"
    fk.save({"kept": fk.ones(1)}, old)
    code, _, err = run(["train", "mlp", "--data", "digits", "--epochs", "2", "--save", str(old)], capsys)
    assert code == 130 and err.endswith(f"nothing was saved to {old}\n") and "kept" in fk.load(old)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_sigint_to_the_process_exits_130_with_one_line(tmp_path):
    import signal

    path = tmp_path / "run.npz"
    # the default SIGINT disposition in the child: a background job started by a non-interactive shell (as CI may
    # run) inherits SIGINT ignored, and Python then installs no KeyboardInterrupt handler
    proc = subprocess.Popen([sys.executable, "-m", "fukaku", "train", "mlp", "--data", "digits", "--hidden", "8",
                             "--epochs", "100000", "--save", str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        for line in proc.stdout:
            if line.startswith("epoch 2/"):
                proc.send_signal(signal.SIGINT)
                break
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("fukaku train: interrupted after ") and "--resume" in err
    assert fk.load(path)["epoch"] >= 1


# ---------------------------------------------------------------------------- MNIST splits
def _idx(path, magic: int, array: np.ndarray) -> None:
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def _fake_mnist(folder, prefix: str, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    _idx(folder / f"{prefix}-images-idx3-ubyte", 0x0803, rng.integers(0, 256, (n, 28, 28)))
    _idx(folder / f"{prefix}-labels-idx1-ubyte", 0x0801, rng.integers(0, 10, n))


def test_mnist_uses_the_training_set_when_it_has_been_fetched(tmp_path, capsys):
    _fake_mnist(tmp_path, "train", 96, 0)
    _fake_mnist(tmp_path, "t10k", 40, 1)
    code, out, err = run(["train", "logreg", "--data", "mnist", "--root", str(tmp_path), "--epochs", "1",
                          "--batch-size", "32", "--quiet"], capsys)
    assert code == 0, err
    assert "mnist: 96 train / 40 test samples (MNIST training set train-*, test set t10k-*)" in out
    assert "not been fetched" not in out


def test_mnist_without_the_training_set_splits_t10k_and_says_so(tmp_path, capsys):
    _fake_mnist(tmp_path, "t10k", 10000, 1)
    code, out, err = run(["train", "logreg", "--data", "mnist", "--root", str(tmp_path), "--epochs", "1",
                          "--batch-size", "1000", "--quiet"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("mnist: the training set (train-images-idx3-ubyte) has not been fetched")
    assert "`fukaku data fetch mnist`" in lines[0]
    assert lines[1] == "mnist: 8,000 train / 2,000 test samples (MNIST t10k, first 8,000 train / last 2,000 test)"


def test_lenet_trains_on_mnist_images_and_resumes(tmp_path, capsys):
    _fake_mnist(tmp_path, "train", 64, 0)
    _fake_mnist(tmp_path, "t10k", 32, 1)
    ckpt = tmp_path / "lenet.pt"
    argv = ["train", "lenet", "--data", "mnist", "--root", str(tmp_path), "--batch-size", "32", "--quiet",
            "--save", str(ckpt)]
    code, out, err = run([*argv, "--epochs", "1"], capsys)
    assert code == 0, err
    assert "LeNet5 (num_classes=10, in_channels=1, input_size=28" in out and "61,706 parameters" in out
    state = fk.load(ckpt)
    assert state["model"]["features.0.weight"].shape == (6, 1, 5, 5) and state["epoch"] == 1
    code, out, err = run([*argv, "--epochs", "2", "--resume"], capsys)
    assert code == 0, err
    assert "resuming" in out and fk.load(ckpt)["epoch"] == 2


def test_resnet20_trains_on_cifar10_batches(tmp_path, capsys):
    from vision.cifar_files import write_cifar10

    write_cifar10(tmp_path, n=8)
    code, out, err = run(["train", "resnet20", "--data", "cifar10", "--root", str(tmp_path), "--epochs", "1",
                          "--batch-size", "16", "--quiet"], capsys)
    assert code == 0, err
    assert "cifar10: 40 train / 8 test samples" in out and "ResNet" in out and "test accuracy" in out


@pytest.mark.parametrize("argv,message", [
    (["train", "lenet", "--data", "digits"], "lenet needs images of at least 28x28 pixels"),
    (["train", "resnet20", "--data", "spiral"], "resnet20 is a convolutional network for images"),
    (["train", "lenet", "--data", "mnist", "--hidden", "8"], "--hidden applies to mlp only, not lenet"),
])
def test_cnn_models_refuse_what_does_not_apply(argv, message, capsys):
    code, out, err = run(argv, capsys)
    assert code == 2 and message in err and out == ""


def test_missing_cifar10_names_the_places_and_the_download(tmp_path, capsys):
    code, out, err = run(["train", "resnet20", "--data", "cifar10", "--root", str(tmp_path)], capsys)
    assert code == 2 and str(tmp_path) in err and "download=True" in err
