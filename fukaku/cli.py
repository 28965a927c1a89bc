"""The ``fukaku`` command.

    fukaku train MODEL --data DATASET [--epochs N] [--lr LR] [--batch-size B] [--optimizer NAME]
                 [--seed S] [--save PATH [--resume]] [--hidden 128,64] [--activation relu] ...
    fukaku train char-lstm --data text:PATH [--hidden 256] [--layers 2] [--seq-len 100] [--epochs N] ...
    fukaku train gpt --data text:PATH [--tokenizer char|bpe:4000] [--layers 4] [--minutes 15] ...  (cli_gpt.py)
    fukaku generate CHECKPOINT [--prompt TEXT] [--temperature 0.8] [--top-k K] [--top-p P] [--length N] [--seed S]
    fukaku lab list | run ID... | --all [--quick] [--out DIR]
    fukaku data fetch mnist|fashion-mnist [--root DIR]
    fukaku graph [--out PATH] [--format svg|dot|text]
    fukaku run SCRIPT [ARGS...]
    fukaku info

``main(argv)`` returns the exit status (0 success, 1 failure, 2 usage error, 130 interrupted by
Ctrl-C), so tests call it directly; the console script and ``python -m fukaku`` pass it to ``SystemExit``.
"""
from __future__ import annotations

import argparse
import contextlib
import math
import os
import platform
import sys
import time
from collections.abc import Sequence
import dataclasses
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from . import __version__, datasets, from_numpy, manual_seed, models, nn, optim, tensor
from . import distributed as dist
from .datasets import FetchError, fetch
from .serialization import load, save
from .train import (Callback, NonFiniteLossError, _format_logs, accuracy, binary_accuracy_with_logits, evaluate,
                    fit)
from .utils import graph
from .utils.data import DataLoader, RandomSampler, TensorDataset
from .utils.data.distributed import DistributedSampler

CNN_MODELS = ("lenet", "resnet20", "resnet56", "resnet110")  # fukaku.models.cnn; they take (N, C, H, W) images
MODELS = ("mlp", "logreg", "linreg", "perceptron", *CNN_MODELS)
IMAGE_SETS = ("digits", "mnist", "cifar10")
CLASSIFY_SETS = ("circle", "xor", "gauss", "spiral")
REGRESS_SETS = ("reg-plane", "reg-gauss")
DATASETS = IMAGE_SETS + CLASSIFY_SETS + REGRESS_SETS
OPTIMIZERS = {"sgd": 0.1, "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3, "adagrad": 1e-2, "adadelta": 1.0}
MOMENTUM_OPTIMIZERS = ("sgd", "rmsprop")
BETAS_OPTIMIZERS = ("adam", "adamw")
INTERRUPTED = 130  # the shell's status for a program ended by SIGINT (128 + 2)
DEFAULT_EPOCHS = {"mlp": 30, "logreg": 50, "linreg": 50, "perceptron": 100, "lenet": 10, "resnet20": 30,
                  "resnet56": 30, "resnet110": 30}
# CIFAR-10's per-channel mean and standard deviation over the training set (the usual normalisation)
CIFAR10_MEAN, CIFAR10_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
# Where a model wants another default step: one convex layer takes 10x larger adaptive steps (softmax
# regression on digits: 95.3% after 50 epochs at 1e-3, 97.8% at 1e-2), and least squares on the
# Playground's inputs (|x| <= 6, so L = 2λ_max(X̃ᵀX̃)/N ≈ 50) diverges under plain SGD at 0.1.
MODEL_LR = {("logreg", "adam"): 1e-2, ("logreg", "adamw"): 1e-2, ("logreg", "rmsprop"): 1e-2,
            ("linreg", "sgd"): 1e-2}


def default_lr(model: str, optimizer: str) -> float:
    """The learning rate ``fukaku train`` uses when ``--lr`` is not given."""
    return 1.0 if model == "perceptron" else MODEL_LR.get((model, optimizer), OPTIMIZERS[optimizer])


class UsageError(ValueError):
    """A combination of options that cannot work; reported with exit status 2."""


# ---------------------------------------------------------------------------- data
@dataclass
class Data:
    """A train/test split as NumPy arrays, and what kind of task it is."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int  # 0 for regression
    split: str        # how train and test were made, for the report line
    note: str = ""    # a line to print before it (a fallback taken)
    image_shape: tuple[int, int, int] | None = None  # (C, H, W) of each flattened row, for image sets

    def as_images(self) -> Data:
        """The same split with each row reshaped to ``image_shape``, for a convolutional network."""
        shape = self.image_shape
        return dataclasses.replace(self, x_train=self.x_train.reshape(-1, *shape),
                                   x_test=self.x_test.reshape(-1, *shape))


def load_data(name: str, seed: int, root: str | None = None, noise: float = 0.0) -> Data:
    """``digits``: 80/20 shuffled split (``seed``); ``mnist``: the 60,000 training images and the 10,000
    t10k test images when the training files are there (``fukaku data fetch mnist``), else the t10k set
    alone, first 8,000 train / last 2,000 test (``Data.note`` says so); Playground sets: 500 points
    (1,200 for regression), 50/50 split as the Playground."""
    if name == "digits":
        x, y = datasets.digits(return_tensors=False)
        split = datasets.holdout_split(x, y, test_fraction=0.2, seed=seed)
        return Data(name, *split, num_classes=10, split=f"80/20 shuffled split, seed {seed}", image_shape=(1, 8, 8))
    if name == "mnist":
        try:
            x_train, y_train = datasets.mnist(root, train=True, flatten=True, return_tensors=False)
        except FileNotFoundError:
            split = datasets.mnist_split(root, n_train=8000, n_test=2000, return_tensors=False)
            return Data(name, *split, num_classes=10, split="MNIST t10k, first 8,000 train / last 2,000 test",
                        image_shape=(1, 28, 28), note="mnist: the training set (train-images-idx3-ubyte) has not been fetched, so the 10,000 "
                        "test images are split 8,000 train / 2,000 test; `fukaku data fetch mnist` gets the 60,000 "
                        "training images")
        x_test, y_test = datasets.mnist(root, train=False, flatten=True, return_tensors=False)
        return Data(name, x_train, y_train, x_test, y_test, num_classes=10,
                    split="MNIST training set train-*, test set t10k-*", image_shape=(1, 28, 28))
    if name == "cifar10":
        return _cifar10(root)
    if name in CLASSIFY_SETS + REGRESS_SETS:
        regress = name in REGRESS_SETS
        split = datasets.playground(name, n=1200 if regress else 500, noise=noise, seed=seed, test_fraction=0.5,
                                    return_tensors=False)
        if regress:
            return Data(name, *split, num_classes=0, split=f"Playground 50/50 split, noise {noise}, seed {seed}")
        ytr, yte = datasets.binary_labels(split.y_train), datasets.binary_labels(split.y_test)  # ±1 → {0, 1}
        return Data(name, split.x_train, ytr, split.x_test, yte, num_classes=2,
                    split=f"Playground 50/50 split, noise {noise}, seed {seed}")
    raise UsageError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")


def _cifar10(root: str | None) -> Data:
    """CIFAR-10's 50,000 training and 10,000 test images, standardised per channel, rows in (C, H, W)
    order; looked up in ``root``, else in ``$FUKAKU_DATA/cifar10``, ``../shared/data/cifar10`` and
    ``~/.cache/fukaku/data/cifar10`` (each holding ``cifar-10-batches-py/``)."""
    from .datasets._common import candidate_dirs
    from .vision.datasets import CIFAR10

    roots = [Path(root).expanduser()] if root else candidate_dirs("cifar10")
    names = [n for n, _ in CIFAR10.train_list + CIFAR10.test_list] + [CIFAR10.meta["filename"]]
    found = next((r for r in roots if all((r / CIFAR10.base_folder / n).is_file() for n in names)), None)
    if found is None:
        raise UsageError(f"cifar10: no cifar-10-batches-py/ with the six batches and batches.meta in "
                         f"{', '.join(map(str, roots))}; download it once with fukaku.vision.datasets.CIFAR10(ROOT, "
                         "download=True) and pass --root ROOT")
    mean, std = (np.array(v, np.float32).reshape(1, 3, 1, 1) for v in (CIFAR10_MEAN, CIFAR10_STD))

    def split(train: bool) -> tuple[np.ndarray, np.ndarray]:
        ds = CIFAR10(str(found), train=train)
        images = (ds.data.transpose(0, 3, 1, 2).astype(np.float32) / 255 - mean) / std  # NHWC uint8 → NCHW
        return images.reshape(len(images), -1), np.asarray(ds.targets, dtype=np.int64)

    return Data("cifar10", *split(True), *split(False), num_classes=10, image_shape=(3, 32, 32),
                split=f"CIFAR-10 data_batch_1-5 / test_batch ({found}), standardised per channel")


# ---------------------------------------------------------------------------- train
def _hidden(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--hidden takes comma-separated widths like 128,64, got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"--hidden widths must be >= 1, got {text!r}")
    return sizes


def _betas(text: str) -> tuple[float, float]:
    try:
        betas = tuple(float(s) for s in text.split(","))
    except ValueError:
        betas = ()
    if len(betas) != 2:
        raise argparse.ArgumentTypeError(f"--betas takes two comma-separated numbers like 0.9,0.999, got {text!r}")
    return betas


def _check_save_path(path: str) -> None:
    """Refuse a checkpoint path that cannot be written before spending time on training."""
    parent = Path(path).expanduser().resolve().parent
    if not parent.is_dir():
        raise UsageError(f"--save {path!r}: the directory {str(parent)!r} does not exist")


def _check_combination(model: str, data: str) -> None:
    if model == "linreg" and data not in REGRESS_SETS:
        raise UsageError(f"linreg is a regression model; use a regression data set ({', '.join(REGRESS_SETS)})")
    if model in ("logreg", "perceptron") and data in REGRESS_SETS:
        raise UsageError(f"{model} is a classifier; {data} is a regression data set")
    if model in CNN_MODELS and data not in IMAGE_SETS:
        raise UsageError(f"{model} is a convolutional network for images; use an image data set "
                         f"({', '.join(IMAGE_SETS)})")
    if model == "lenet" and data == "digits":
        raise UsageError("lenet needs images of at least 28x28 pixels (its two 5x5 convolutions and 2x2 poolings leave "
                         "nothing of 8x8 digits); use --data mnist or cifar10, or mlp / logreg for digits")
    if model == "perceptron" and data in IMAGE_SETS:
        raise UsageError(f"the perceptron separates two classes and {data} has 10; use a two-class set "
                         f"({', '.join(CLASSIFY_SETS)}), or mlp / logreg for {data}")


def _build(args, data: Data):
    """The model, the loss, the metrics, and the targets transformed for that loss."""
    d = data.x_train.shape[1]
    ytr, yte = data.y_train, data.y_test
    if data.num_classes == 0:  # regression: one output, MSE on targets (N, 1)
        out = 1
        ytr, yte = ytr.reshape(-1, 1).astype(np.float32), yte.reshape(-1, 1).astype(np.float32)
        loss, metrics = nn.MSELoss(), ()
    else:
        out = data.num_classes
        loss, metrics = nn.CrossEntropyLoss(), (accuracy,)
    if args.model == "lenet":
        channels, side, _ = data.image_shape
        model = models.LeNet5(num_classes=out, in_channels=channels, input_size=side)
    elif args.model in CNN_MODELS:  # the CIFAR ResNets
        model = getattr(models, args.model)(num_classes=out, in_channels=data.image_shape[0])
    elif args.model == "mlp":
        model = models.MLP([d, *args.hidden, out], activation=args.activation, dropout=args.dropout,
                           batchnorm=args.batchnorm)
    elif args.model == "linreg":
        model = models.LinearRegression(d, 1)
    else:  # logreg
        model = models.LogisticRegression(d, data.num_classes)
        if data.num_classes == 2:  # one sigmoid neuron: logit (N,), BCE on float 0/1 targets
            ytr, yte = ytr.astype(np.float32), yte.astype(np.float32)
            loss, metrics = nn.BCEWithLogitsLoss(), (binary_accuracy_with_logits,)
    return model, loss, metrics, ytr, yte


def _describe(model) -> str:
    if isinstance(model, models.MLP):
        extras = [str(model.activation)]
        if model.batchnorm:
            extras.append("batchnorm")
        if model.dropout:
            extras.append(f"dropout {model.dropout}")
        return f"MLP {'-'.join(map(str, model.sizes))} ({', '.join(extras)})"
    if isinstance(model, (models.LeNet5, models.ResNet)):  # their full repr runs to dozens of lines
        return f"{type(model).__name__} ({model.extra_repr()})" if model.extra_repr() else type(model).__name__
    return repr(model)


def _train_perceptron(args, data: Data) -> tuple[dict, dict]:
    model = models.Perceptron(data.x_train.shape[1])
    lr = default_lr("perceptron", args.optimizer) if args.lr is None else args.lr
    began = time.perf_counter()
    fit = model.fit(data.x_train, 2 * data.y_train - 1, max_epochs=args.epochs, lr=lr, shuffle=True, seed=args.seed)
    seconds = time.perf_counter() - began
    test_acc = float(np.mean(model(tensor(data.x_test)).numpy() == 2 * data.y_test - 1))
    print(f"Perceptron on {data.name}: {'converged' if fit.converged else 'did not converge'} after {fit.epochs} "
          f"epoch(s), {fit.updates} update(s) (η = {lr})")
    results = {"test_accuracy": test_acc, "seconds": seconds, "updates": fit.updates, "epochs": fit.epochs,
               "converged": fit.converged}
    checkpoint = {"model": model.state_dict(), "epoch": fit.epochs,
                  "config": {"model": "perceptron", "in_features": model.in_features}}
    return results, checkpoint


class Interrupted(Exception):
    """Ctrl-C during ``fukaku train``; the message says what was kept. Reported in one line, exit status 130."""


def _file_id(path: str | None) -> tuple | None:
    """What identifies a file's current version (an atomic write replaces the inode), or None."""
    try:
        st = os.stat(path)
    except (OSError, TypeError):
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def _config(args, data: Data, model, lr: float) -> dict:
    """The run's configuration as the checkpoint keeps it: the model (to rebuild it), the data and the
    training options (a resumed run must use the same; only --epochs may change)."""
    config = {"model": args.model, "in_features": int(data.x_train.shape[1]),
              "out_features": int(data.num_classes or 1)}
    if args.model == "mlp":
        config.update(sizes=list(model.sizes), activation=args.activation, dropout=args.dropout,
                      batchnorm=args.batchnorm)
    config.update(data=args.data, split=data.split, seed=args.seed, optimizer=args.optimizer, lr=lr,
                  batch_size=args.batch_size, weight_decay=args.weight_decay)
    if args.optimizer in MOMENTUM_OPTIMIZERS:
        config["momentum"] = args.momentum
    if args.optimizer in BETAS_OPTIMIZERS:
        config["betas"] = list(args.betas)
    if args.data in CLASSIFY_SETS + REGRESS_SETS:
        config["noise"] = args.noise
    return config


def _resume_point(path: str, shown: str, config: dict) -> int | None:
    """The epochs done in the checkpoint ``path`` that ``--resume`` continues (None: no file yet);
    refuses a file that is not a ``fukaku train`` checkpoint or was written with other options."""
    if not os.path.exists(path):
        return None
    try:
        state = load(path)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--resume: cannot read {shown}: {exc}") from None
    if not (isinstance(state, dict) and isinstance(state.get("config"), dict) and "stopped" in state
            and "loader_generators" in state):
        raise UsageError(f"--resume: {shown} is not a resumable checkpoint of `fukaku train` (another program's, "
                         "or one written before checkpoints were resumable); leave out --resume to start afresh "
                         "(the file is then overwritten)")
    saved = state["config"]
    differ = [k for k in dict.fromkeys([*saved, *config]) if saved.get(k) != config.get(k)]
    if differ:
        what = "; ".join(f"{k.replace('_', '-')}: {saved.get(k)!r} there, {config.get(k)!r} now" for k in differ)
        raise UsageError(f"--resume: {shown} was written by a run with other options ({what}); resume with that "
                         "run's options (only --epochs may change), or leave out --resume to start afresh")
    return int(state["epoch"])


def _print_resume_point(args, done: int | None) -> None:
    """With --resume: say where the run continues (``done`` epochs finished; None: no checkpoint yet)."""
    if args.resume and done is None:
        print(f"{args.save} does not exist yet: starting at epoch 1")
    elif args.resume:
        print(f"resuming {args.save} after epoch {done} of {args.epochs}"
              + ("; nothing left to train (raise --epochs to train more)" if done >= args.epochs else ""))


def _kept(path: str | None, shown: str | None, before: tuple | None, resume: bool, hint: bool = True) -> str:
    """What the checkpoint holds after a run ended early, as the end of a one-line message (``hint``:
    with how to continue it)."""
    if path is None:
        return "nothing saved (--save PATH keeps a resumable checkpoint of every finished epoch)"
    if _file_id(path) != before or (resume and before is not None):
        try:
            done = int(load(path)["epoch"])
        except (OSError, ValueError, KeyError, TypeError):
            return f"{shown} could not be read back"
        return f"{shown} keeps epoch {done}" + (": run the same command with --resume to continue" if hint else "")
    return f"nothing was saved to {shown}"


def _train_gradient(args, data: Data) -> dict:
    manual_seed(args.seed)  # weights and dropout masks
    model, loss_fn, metrics, ytr, yte = _build(args, data)
    lr = default_lr(args.model, args.optimizer) if args.lr is None else args.lr
    opt_cls = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop,
               "adagrad": optim.Adagrad, "adadelta": optim.Adadelta}[args.optimizer]
    options = ({"momentum": args.momentum} if args.optimizer in MOMENTUM_OPTIMIZERS else
               {"betas": args.betas} if args.optimizer in BETAS_OPTIMIZERS else {})
    optimizer = opt_cls(model.parameters(), lr=lr, weight_decay=args.weight_decay, **options)
    generator = np.random.default_rng(args.seed)  # the shuffle order of every epoch
    train_set, ranks = TensorDataset(data.x_train, ytr), _data_parallel_ranks(args)
    if ranks is None:
        train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, generator=generator)
    else:  # each rank a share of every global batch; the generator only keeps the checkpoint's layout
        train_loader = DataLoader(train_set, batch_size=args.batch_size // ranks, generator=generator,
                                  sampler=DistributedSampler(train_set, seed=args.seed))
    test_loader = DataLoader(TensorDataset(data.x_test, yte), batch_size=1024)
    config = _config(args, data, model, lr)
    path = os.path.expanduser(args.save) if args.save else None
    done = _resume_point(path, args.save, config) if args.resume else None
    print(f"{_describe(model)}, {model.num_parameters():,} parameters; {args.optimizer} lr {lr}, batch "
          f"{args.batch_size}, {args.epochs} epochs")
    _print_resume_point(args, done)
    # the same callbacks in every run (a resumed run must have those of the run it continues); the
    # lines are printed when no progress bar is drawn (output is not a terminal)
    lines = _EpochLines(args.epochs, show=not (args.quiet or sys.stderr.isatty()))
    if ranks is not None:
        print(f"data-parallel on {ranks} process{'es' if ranks > 1 else ''} (mpirun): {args.batch_size // ranks} "
              "samples per process and batch; rank 0 reports its share's training loss and writes the checkpoint")
        model = nn.parallel.DistributedDataParallel(model)
    began = time.perf_counter()
    history = _fit_reported(args, path, lr, lines, model, loss_fn, optimizer, train_loader, metrics=metrics,
                            checkpoint_extra=None if path is None else {"config": config})
    seconds = time.perf_counter() - began
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # a test loss of inf is reported as such
        test = evaluate(model, loss_fn, test_loader, metrics)
    results = {"seconds": seconds, "train_loss": history.history["loss"][-1], "test_loss": test["loss"]}
    if "accuracy" in test:
        results["test_accuracy"] = test["accuracy"]
    if path is not None and _rank() == 0:  # fit's last checkpoint, with the results: still resumable
        checkpoint = load(path)
        checkpoint["results"] = results
        save(checkpoint, path)
    return results


def _fit_reported(args, path: str | None, lr: float, lines: _EpochLines, model, loss_fn, optimizer, train_loader,
                  val_loader=None, **options):
    """``fit`` for ``args.epochs`` epochs, checkpointing to ``path`` (resuming with ``--resume``), with the
    ``lines`` callback; Ctrl-C and a diverging loss become one-line errors saying what was kept."""
    before = _file_id(path)
    try:
        return fit(model, loss_fn, optimizer, train_loader, val_loader, epochs=args.epochs, quiet=args.quiet,
                   callbacks=[lines], checkpoint=path, resume=args.resume, **options)
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted after {lines.finished} of {args.epochs} epochs; "
                          f"{_kept(path, args.save, before, args.resume)}") from None
    except NonFiniteLossError as exc:
        batch = f"batch {exc.batch + 1}" + (f"/{exc.batches}" if exc.batches else "")
        kept = "" if path is None else f"; {_kept(path, args.save, before, args.resume, hint=False)}"
        raise FloatingPointError(f"training diverged: the loss is {exc.loss} at epoch {exc.epoch + 1}/{exc.epochs}, "
                                 f"{batch}, at lr {lr:g}; lower --lr (e.g. --lr {lr / 10:g}){kept}") from None


class _EpochLines(Callback):
    """One line per epoch on stdout when ``show`` (no progress bar is drawn: output is not a terminal);
    counts the finished epochs either way (kept in the checkpoint, so a resumed run counts on)."""

    def __init__(self, epochs: int, show: bool = True) -> None:
        self.epochs, self.show, self.finished = epochs, show, 0

    def on_epoch_end(self, epoch, logs, model) -> bool:
        self.finished = epoch + 1
        if self.show:
            print(f"epoch {epoch + 1}/{self.epochs}  {_format_logs(logs)}  ({logs['time']:.2f} s)", flush=True)
        return False

    def state_dict(self) -> dict:
        return {"finished": self.finished}

    def load_state_dict(self, state: dict) -> None:
        self.finished = int(state["finished"])


def _check_options(args) -> None:
    """Refuse an option that does not apply to the model, the optimizer or the data, or is outside its
    range (each message names the option and what is valid); then fill in the defaults."""
    def given(name: str) -> bool:
        return getattr(args, name) is not None

    if args.model == "perceptron":
        for option in ("optimizer", "batch_size", "momentum", "betas", "weight_decay"):
            if given(option):
                raise UsageError(f"--{option.replace('_', '-')} does not apply to the perceptron, which learns by "
                                 "its error-correction rule one sample at a time (its options: --epochs, --lr, "
                                 "--seed, --save)")
        if args.resume:
            raise UsageError("--resume does not apply to the perceptron (its training takes a moment and is not "
                             "checkpointed); leave out --resume")
    if args.model != "mlp":
        for option in ("hidden", "activation", "dropout", "batchnorm"):
            if given(option):
                raise UsageError(f"--{option} applies to mlp only, not {args.model}")
    optimizer = args.optimizer or "adam"
    if given("momentum") and optimizer not in MOMENTUM_OPTIMIZERS:
        raise UsageError(f"--momentum applies to {' and '.join(MOMENTUM_OPTIMIZERS)} only, not {optimizer}"
                         + ("; its momentum is set with --betas" if optimizer in BETAS_OPTIMIZERS else ""))
    if given("betas") and optimizer not in BETAS_OPTIMIZERS:
        raise UsageError(f"--betas applies to {' and '.join(BETAS_OPTIMIZERS)} only, not {optimizer}"
                         + ("; use --momentum" if optimizer in MOMENTUM_OPTIMIZERS else ""))
    if given("noise") and args.data not in CLASSIFY_SETS + REGRESS_SETS:
        raise UsageError(f"--noise applies to the Playground sets ({', '.join(CLASSIFY_SETS + REGRESS_SETS)}) only, "
                         f"not {args.data}")
    if given("root") and args.data not in ("mnist", "cifar10"):
        raise UsageError(f"--root applies to --data mnist and cifar10 only, not {args.data}")
    if args.resume and not args.save:
        raise UsageError("--resume needs --save PATH, the checkpoint to continue from")

    def finite(x: float) -> bool:
        return math.isfinite(x)

    ranges = (("epochs", ">= 1", lambda v: v >= 1), ("batch_size", ">= 1", lambda v: v >= 1),
              ("lr", "a finite number > 0", lambda v: finite(v) and v > 0),
              ("momentum", "in [0, 1)", lambda v: 0 <= v < 1),
              ("betas", "two numbers in [0, 1)", lambda v: all(0 <= b < 1 for b in v)),
              ("weight_decay", "a finite number >= 0", lambda v: finite(v) and v >= 0),
              ("dropout", "in [0, 1)", lambda v: 0 <= v < 1), ("noise", "in [0, 0.5]", lambda v: 0 <= v <= 0.5),
              ("seed", ">= 0", lambda v: v >= 0))
    for name, valid, ok in ranges:
        value = getattr(args, name)
        if value is not None and not ok(value):
            shown = ",".join(map(str, value)) if isinstance(value, tuple) else value
            raise UsageError(f"--{name.replace('_', '-')} must be {valid}, got {shown}")
    defaults = {"optimizer": optimizer, "epochs": DEFAULT_EPOCHS[args.model], "batch_size": 32, "momentum": 0.0,
                "betas": (0.9, 0.999), "weight_decay": 0.0, "hidden": [128], "activation": "relu", "dropout": 0.0,
                "batchnorm": False, "noise": 0.0}
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)


def _rank() -> int:
    return dist.get_rank() if dist.is_initialized() else 0


def _data_parallel_ranks(args) -> int | None:
    """Under ``mpirun -n N``: join the N processes (MPI), check that --batch-size divides among them, and
    return N; None for a run in one process started without mpirun."""
    if dist.distributed_c10d.mpi_launch() is None:
        return None
    if not dist.is_initialized():
        dist.init_process_group("mpi")
    ranks = dist.get_world_size()
    if args.batch_size % ranks:
        raise UsageError(f"--batch-size {args.batch_size} is the global batch and must divide among the {ranks} "
                         f"processes of mpirun; use a multiple of {ranks}")
    return ranks


def cmd_train(args) -> int:
    """``fukaku train``; under ``mpirun -n N`` data-parallel, with rank 0 alone printing and saving."""
    launch = dist.distributed_c10d.mpi_launch()
    if launch is None or launch[0] == 0:
        return _cmd_train(args)
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        return _cmd_train(args)


def _cmd_train(args) -> int:
    _check_options(args)
    _check_combination(args.model, args.data)
    if args.save:
        _check_save_path(args.save)
    data = load_data(args.data, args.seed, args.root, args.noise)
    if args.model in CNN_MODELS:
        data = data.as_images()
    if data.note:
        print(data.note)
    print(f"{data.name}: {len(data.x_train):,} train / {len(data.x_test):,} test samples ({data.split})")
    if args.model == "perceptron":
        try:
            results, checkpoint = _train_perceptron(args, data)
        except KeyboardInterrupt:
            raise Interrupted("interrupted; nothing saved (the perceptron's training is not checkpointed)") from None
    else:
        results, checkpoint = _train_gradient(args, data), None
    parts = [f"trained in {results['seconds']:.1f} s"]
    if "test_accuracy" in results:
        parts.append(f"test accuracy {results['test_accuracy']:.4f}")
    if "test_loss" in results:
        parts.append(f"test loss {results['test_loss']:.4g}")
    print("; ".join(parts))
    if args.save:
        if checkpoint is not None and _rank() == 0:  # the perceptron's; fit wrote the others' after every epoch
            checkpoint["config"].update(data=args.data, seed=args.seed)
            checkpoint["results"] = results
            save(checkpoint, os.path.expanduser(args.save))
        print(f"saved {args.save}")
    return 0


# ---------------------------------------------------------------------------- char-lstm and generate
CHAR_LSTM_DEFAULTS = {"hidden": 256, "layers": 2, "embedding": 64, "seq_len": 100, "batch_size": 64, "epochs": 6,
                      "lr": 2e-3, "clip": 5.0, "dropout": 0.0, "val_fraction": 0.1}


class _NextCharLogits(models.rnn.CharLM):
    """The character LM as ``fit`` trains it: ids ``(N, T)`` → logits ``(N, T, V)`` (the state is dropped;
    every window starts from zeros). Its state dict is the CharLM's."""

    def forward(self, input):
        return super().forward(input)[0]


def _next_char_loss(logits, target):
    """Mean cross-entropy of the next character, in nats/char."""
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))


class _ClipThenStep:
    """An optimizer whose ``step()`` first clips the gradients' total 2-norm to ``max_norm`` (against the
    exploding gradients of recurrent networks, seed 000 §6.1.7); everything else is the optimizer's."""

    def __init__(self, optimizer, max_norm: float) -> None:
        self.optimizer, self.max_norm = optimizer, max_norm
        self.params = [p for group in optimizer.param_groups for p in group["params"]]

    def step(self) -> None:
        nn.utils.clip_grad_norm_(self.params, self.max_norm)
        self.optimizer.step()

    def __getattr__(self, name: str):
        return getattr(self.optimizer, name)


class _CharEpochLines(_EpochLines):
    """One line per epoch with the validation loss in nats/char (when no progress bar is drawn)."""

    def on_epoch_end(self, epoch, logs, model) -> bool:
        self.finished = epoch + 1
        if self.show:
            print(f"epoch {epoch + 1}/{self.epochs}  train {logs['loss']:.4f}  val {logs['val_loss']:.4f} nats/char  "
                  f"({logs['time']:.1f} s)", flush=True)
        return False


def _text_path(spec: str) -> str:
    if not spec.startswith("text:") or len(spec) == len("text:"):
        raise UsageError(f"--data {spec!r}: char-lstm and gpt train on a UTF-8 text file given as text:PATH, e.g. "
                         "--data text:../shared/data/text/tinyshakespeare.txt")
    path = os.path.expanduser(spec[len("text:"):])
    if not os.path.isfile(path):
        raise UsageError(f"--data {spec!r}: no such file {path!r}")
    return path


#: Ranges shared by the options of `train char-lstm` and `train gpt`: (what the message says, the test).
AT_LEAST_ONE = (">= 1", lambda v: v >= 1)
POSITIVE = ("a finite number > 0", lambda v: math.isfinite(v) and v > 0)


def check_options(args, ranges, defaults: dict) -> None:
    """Check each ``(option, valid, ok)`` of ``ranges`` that was given (the message names the option and what it
    must be), then set the options left out to ``defaults``."""
    for name, valid, ok in ranges:
        value = getattr(args, name)
        if value is not None and not ok(value):
            raise UsageError(f"--{name.replace('_', '-')} must be {valid}, got {value}")
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)


def _char_lstm_options(args) -> None:
    """Check the ranges of char-lstm's options (each message names the option), then fill in the defaults."""
    ranges = (*[(name, *AT_LEAST_ONE) for name in ("hidden", "layers", "embedding", "seq_len", "batch_size", "epochs",
                                                    "steps")],
              ("lr", *POSITIVE),
              ("clip", "a finite number >= 0 (0: no clipping)", lambda v: math.isfinite(v) and v >= 0),
              ("dropout", "in [0, 1)", lambda v: 0 <= v < 1), ("val_fraction", "in (0, 0.5]", lambda v: 0 < v <= 0.5),
              ("seed", ">= 0", lambda v: v >= 0), ("sample", ">= 0", lambda v: v >= 0))
    check_options(args, ranges, CHAR_LSTM_DEFAULTS)
    if args.resume and not args.save:
        raise UsageError("--resume needs --save PATH, the checkpoint to continue from")


def cmd_train_char_lstm(args) -> int:
    """``fukaku train char-lstm``: a character language model (embedding → LSTM layers → linear) trained
    on windows of ``seq_len`` characters at random offsets of the first part of the text, validated
    on the rest; the loss is in nats per character."""
    _char_lstm_options(args)
    path = _text_path(args.data)
    if args.save:
        _check_save_path(args.save)
    corpus = datasets.TextCorpus.from_file(path, level="char")
    vocab = "".join(corpus.vocab.itos[1:])  # every character occurs, so UNK (id 0) never does
    ids = corpus.ids - 1
    n_val = max(int(len(ids) * args.val_fraction), args.seq_len + 1)
    train_ids, val_ids = ids[:-n_val], ids[-n_val:]
    if len(train_ids) < args.seq_len + 1:
        raise UsageError(f"{path}: {len(ids)} characters are too few for --seq-len {args.seq_len} with a validation "
                         f"part of {n_val}; use a longer text or a smaller --seq-len")
    window = np.lib.stride_tricks.sliding_window_view
    train_set = TensorDataset(from_numpy(window(train_ids[:-1], args.seq_len)),  # every offset, not copied
                              from_numpy(window(train_ids[1:], args.seq_len)))
    val_x, val_y = datasets.next_token_windows(val_ids, args.seq_len, return_tensors=False)
    steps = args.steps or max(1, len(train_ids) // (args.seq_len * args.batch_size))
    generator = np.random.default_rng(args.seed)  # the offsets of every epoch
    sampler = RandomSampler(train_set, num_samples=steps * args.batch_size, generator=generator)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, sampler=sampler)
    val_loader = DataLoader(TensorDataset(val_x, val_y), batch_size=256)
    manual_seed(args.seed)
    model = _NextCharLogits(vocab=vocab, embedding_dim=args.embedding, hidden_size=args.hidden,
                            num_layers=args.layers, cell="lstm", dropout=args.dropout)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    if args.clip:
        optimizer = _ClipThenStep(optimizer, args.clip)
    config = {"model": "char-lstm", "lm": model.config, "data": os.path.abspath(path),
              "val_fraction": args.val_fraction, "seq_len": args.seq_len, "batch_size": args.batch_size, "steps": steps, "lr": args.lr, "clip": args.clip,
              "seed": args.seed}
    save_path = os.path.expanduser(args.save) if args.save else None
    done = _resume_point(save_path, args.save, config) if args.resume else None
    print(f"{path}: {len(ids):,} characters, {len(vocab)} distinct; {len(train_ids):,} train / {len(val_ids):,} "
          "validation (the last part)")
    print(f"char-LSTM {args.layers}x{args.hidden} (embedding {args.embedding}), {model.num_parameters():,} parameters; "
          f"adam lr {args.lr}, clip {args.clip or 'off'}, batch {args.batch_size} x {args.seq_len} characters, "
          f"{steps} steps per epoch, {args.epochs} epochs")
    _print_resume_point(args, done)
    lines = _CharEpochLines(args.epochs, show=not (args.quiet or sys.stderr.isatty()))
    began = time.perf_counter()
    history = _fit_reported(args, save_path, args.lr, lines, model, _next_char_loss, optimizer, train_loader,
                            val_loader, metrics=(), checkpoint_extra=None if save_path is None else {"config": config})
    seconds = time.perf_counter() - began
    val = history.history["val_loss"][-1] if history.history.get("val_loss") else float("nan")
    results = {"seconds": seconds, "train_loss": history.history["loss"][-1] if history.history.get("loss") else
               float("nan"), "val_loss": val}
    print(f"trained in {seconds:.1f} s; validation {val:.4f} nats/char ({val / math.log(2):.3f} bits/char)")
    if save_path is not None:
        checkpoint = load(save_path)
        checkpoint["results"] = results
        save(checkpoint, save_path)
        print(f"saved {args.save}; sample from it with: fukaku generate {args.save} --prompt TEXT")
    if args.sample:
        lm = models.rnn.CharLM.from_config(model.config)  # the plain CharLM, whose forward keeps the state
        lm.load_state_dict(model.state_dict())
        print(lm.generate(vocab[0], args.sample, temperature=0.8, seed=args.seed))
    return 0


def cmd_generate(args) -> int:
    """``fukaku generate CHECKPOINT``: continue a prompt with a character LM saved by ``fukaku train char-lstm``."""
    if not os.path.isfile(args.checkpoint):
        raise UsageError(f"no such checkpoint {args.checkpoint!r}")
    try:
        state = load(args.checkpoint)  # tensors, numbers and strings only: nothing in the file is executed
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {args.checkpoint}: {exc}") from None
    config = state.get("config") if isinstance(state, dict) else None
    if isinstance(config, dict) and config.get("model") == "gpt" and "model" in state:
        from .cli_gpt import generate_gpt
        return generate_gpt(args, state)
    if args.top_p is not None:
        raise UsageError("--top-p applies to GPT checkpoints (fukaku train gpt) only")
    if not (isinstance(config, dict) and config.get("model") == "char-lstm" and "model" in state):
        raise UsageError(f"{args.checkpoint} is not a checkpoint of `fukaku train char-lstm` (it has no character "
                         "model and vocabulary)")
    model = models.rnn.CharLM.from_config(config["lm"])
    model.load_state_dict(state["model"])
    prompt = args.prompt if args.prompt is not None else model.vocab[0]
    if not prompt:
        raise UsageError("--prompt is empty; give at least one character")
    unknown = sorted(set(prompt) - set(model.vocab))
    if unknown:
        raise UsageError(f"--prompt has characters the model never saw in training: {''.join(unknown)!r}; its "
                         f"vocabulary has {len(model.vocab)} characters — leave those out")
    if not args.temperature >= 0:
        raise UsageError(f"--temperature must be >= 0 (0: always the most likely character), got {args.temperature}")
    if args.top_k is not None and not 1 <= args.top_k <= len(model.vocab):
        raise UsageError(f"--top-k must be between 1 and the vocabulary size {len(model.vocab)}, got {args.top_k}")
    if args.length < 0:
        raise UsageError(f"--length must be >= 0, got {args.length}")
    print(model.generate(prompt, args.length, temperature=args.temperature, top_k=args.top_k, seed=args.seed))
    return 0


def _char_lstm_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fukaku train char-lstm",
        description="Train a character language model (embedding -> LSTM layers -> linear; "
        "fukaku.models.rnn.CharLM) on a UTF-8 text: next-character cross-entropy on windows of --seq-len characters "
        "at random offsets of the first part of the text (Adam, gradient clipping), the validation loss in "
        "nats/char on the last part after every epoch. Progress bar on a terminal, else one line per epoch; "
        "checkpoints and --resume as `fukaku train`. The vocabulary travels in the checkpoint.",
        epilog="Examples: fukaku train char-lstm --data text:../shared/data/text/tinyshakespeare.txt --save "
        "shakespeare.pt; fukaku generate shakespeare.pt --prompt 'ROMEO:' --temperature 0.8")
    d = CHAR_LSTM_DEFAULTS
    p.add_argument("--data", required=True, metavar="text:PATH", help="the UTF-8 text file to learn")
    p.add_argument("--hidden", type=int, default=None, metavar="H", help=f"LSTM hidden size (default: {d['hidden']})")
    p.add_argument("--layers", type=int, default=None, metavar="L", help=f"LSTM layers (default: {d['layers']})")
    p.add_argument("--embedding", type=int, default=None, metavar="E",
                   help=f"character embedding size (default: {d['embedding']})")
    p.add_argument("--seq-len", type=int, default=None, metavar="T",
                   help=f"characters per training window (back-propagation through T steps; default: {d['seq_len']})")
    p.add_argument("--batch-size", type=int, default=None, metavar="B", help=f"windows per step (default: "
                   f"{d['batch_size']})")
    p.add_argument("--epochs", type=int, default=None, metavar="N", help=f"epochs (default: {d['epochs']})")
    p.add_argument("--steps", type=int, default=None, metavar="S",
                   help="optimizer steps per epoch (default: one pass, train characters / (B x T))")
    p.add_argument("--lr", type=float, default=None, metavar="LR", help=f"Adam's learning rate (default: {d['lr']})")
    p.add_argument("--clip", type=float, default=None, metavar="C",
                   help=f"clip the gradients' total 2-norm to C, 0 for none (default: {d['clip']})")
    p.add_argument("--dropout", type=float, default=None, metavar="P",
                   help=f"dropout between LSTM layers and before the output (default: {d['dropout']})")
    p.add_argument("--val-fraction", type=float, default=None, metavar="F",
                   help=f"the last fraction of the text held out for validation (default: {d['val_fraction']})")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seeds the weights and the offsets (default: 0)")
    p.add_argument("--save", metavar="PATH", help="checkpoint after every epoch (model, vocabulary, optimizer, "
                   "everything to resume); sample from it with fukaku generate PATH")
    p.add_argument("--resume", action="store_true", help="continue the run checkpointed in --save PATH; the other "
                   "options must be that run's (only --epochs may change)")
    p.add_argument("--sample", type=int, default=0, metavar="N",
                   help="print N characters sampled (temperature 0.8) at the end (default: 0)")
    p.add_argument("--quiet", action="store_true", help="no per-epoch output")
    p.set_defaults(handler=cmd_train_char_lstm, command="train")
    return p


# ---------------------------------------------------------------------------- lab, data, info
def cmd_lab(argv: Sequence[str]) -> int:
    from .lab import cli_main

    return cli_main(list(argv))


def cmd_data_fetch(args) -> int:
    try:
        paths = fetch(args.name, args.root, mirrors=args.mirror or None, log=print)
    except FetchError as exc:
        print(f"fukaku data fetch: {exc}", file=sys.stderr)
        return 1
    print(f"{args.name}: {len(paths)} file(s) in {next(iter(paths.values())).parent}")
    return 0


def _seed003_inputs() -> str:
    return ", ".join(f"{name} = {value:g}" for name, value in graph.SEED003_INPUTS.items())


def cmd_graph(args) -> int:
    """Seed 003's computational graph: draw it, print it, and print the gradients backpropagation gives."""
    y, params = graph.seed003_example()
    y.backward(retain_graph=True)  # keep the graph, to draw it with the gradients on its leaves
    out = args.out or "seed003-graph" + graph.SUFFIXES[args.format or "svg"]
    written = graph.draw(y, os.path.expanduser(out), params, format=args.format)
    print(f"seed 003: {graph.SEED003_FUNCTIONS}, at {_seed003_inputs()}")
    print(f"y = {y.item():.6g}\n")
    print(graph.to_text(y, params))
    print("gradients by backpropagation (the chain rule, node by node):")
    for name in graph.SEED003_INPUTS:
        print(f"  dy/d{name} = {graph.SEED003_CHAIN_RULE[name]} = {params[name].grad.item():.6g}")
    fell_back = args.format is None and written.suffix != graph.SUFFIXES["svg"]
    print(f"\nwrote {written}" + (" (text: SVG needs pip install graphviz and apt-get install graphviz)"
                                  if fell_back else ""))
    return 0


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def info_lines() -> list[str]:
    """Versions, the BLAS NumPy uses and the thread counts, one ``key: value`` a line."""
    lines = [f"fukaku: {__version__}", f"python: {platform.python_version()} ({sys.executable})",
             f"platform: {platform.platform()}", f"numpy: {np.__version__}"]
    optional = {d: _version(d) for d in ("scipy", "scikit-learn", "torch", "matplotlib", "safetensors", "tqdm",
                                         "threadpoolctl")}
    lines.append("optional: " + ", ".join(f"{d} {v}" if v else f"{d} (not installed)" for d, v in optional.items()))
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        lines.append(f"blas (numpy build): {blas.get('name')} {blas.get('version', '')}".rstrip())
    except (TypeError, KeyError):  # NumPy < 1.26 has no mode='dicts'
        lines.append("blas (numpy build): unknown (numpy.show_config() prints it)")
    if optional["threadpoolctl"]:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                lines.append(f"blas (loaded): {pool.get('internal_api')} {pool.get('version')}, "
                             f"{pool.get('num_threads')} thread(s), {pool.get('filepath')}")
    env = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
           if k in os.environ}
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines.append(f"cpus: {os.cpu_count()} ({usable} usable by this process)"
                 + (", " + ", ".join(f"{k}={v}" for k, v in env.items()) if env else ""))
    return lines


def cmd_info(args) -> int:
    print("\n".join(info_lines()))
    return 0


# ---------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fukaku", description="fukaku (深く): a deep-learning framework on NumPy with PyTorch's API, and a lab "
        "that checks the textbook's claims.",
        epilog="Run `fukaku COMMAND --help` for a command's options.")
    parser.add_argument("--version", action="version", version=f"fukaku {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{train,generate,lab,data,graph,run,info}")

    t = sub.add_parser(
        "train", help="train a model on a data set and report its test accuracy",
        description="Train MODEL on DATASET and report the test accuracy (test loss for regression). "
        "mlp, logreg, linreg and the convolutional networks (lenet, resnet20/56/110) learn by mini-batch gradient "
        "descent (fukaku.train.fit); the perceptron by its "
        "error-correction rule (seed 000 §6.1.1).",
        epilog="Data: digits = scikit-learn's 8x8 digits, 80/20 shuffled split by --seed; mnist = the 60,000 MNIST "
        "training images and the 10,000 test images when the training files have been fetched (`fukaku data fetch "
        "mnist`), else the t10k set alone, first 8,000 images train / last 2,000 test (looked up in --root, "
        "$FUKAKU_DATA/mnist, ../shared/data/mnist or ~/.cache/fukaku/data/mnist); cifar10 = CIFAR-10's "
        "cifar-10-batches-py/ (50,000 train / 10,000 test, standardised per channel; looked up the same way); circle, xor, gauss, spiral (two "
        "classes) and reg-plane, reg-gauss (regression) = the TensorFlow Playground's sets, 50/50 split. "
        "Options that do not apply to the model, optimizer or data are refused, as are values outside their range "
        "(exit status 2). Ctrl-C stops with exit status 130; with --save the checkpoint keeps the last finished "
        "epoch and --resume continues it exactly. "
        "Examples: fukaku train mlp --data digits --epochs 30 --save mlp.npz; fukaku train lenet --data mnist; "
        "fukaku train resnet20 --data cifar10 --save resnet20.pt. "
        "A character language model on a text file: fukaku train char-lstm --data text:PATH (its options: "
        "fukaku train char-lstm --help); GPT-mini: fukaku train gpt --data text:PATH (fukaku train gpt --help). "
        "Generative models on images: fukaku train vae|ddpm|gan|realnvp|rbm --data digits|mnist (each with --help), "
        "then fukaku sample CKPT --n 64 --out grid.png")
    t.add_argument("model", choices=MODELS, metavar="MODEL",
                   help="mlp (multilayer perceptron), logreg (logistic / softmax regression), linreg (linear "
                   "regression), perceptron (two classes), lenet (LeNet-5: mnist, cifar10), resnet20, resnet56, "
                   "resnet110 (the CIFAR ResNets of He et al. 2016; any image set)")
    t.add_argument("--data", required=True, choices=DATASETS, metavar="DATASET", help=", ".join(DATASETS))
    t.add_argument("--epochs", type=int, default=None, metavar="N",
                   help="passes over the training set, >= 1 (default: " +
                   ", ".join(f"{m} {e}" for m, e in DEFAULT_EPOCHS.items()) + "; the perceptron stops earlier "
                   "once an epoch makes no mistake)")
    t.add_argument("--lr", type=float, default=None, metavar="LR",
                   help="learning rate, > 0 (default by optimizer: "
                   + ", ".join(f"{o} {v:g}" for o, v in OPTIMIZERS.items())
                   + "; except " + ", ".join(f"{m}+{o} {v:g}" for (m, o), v in MODEL_LR.items())
                   + "; the perceptron's η: 1)")
    t.add_argument("--batch-size", type=int, default=None, metavar="B", help="mini-batch size, >= 1 (default: 32)")
    t.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default=None, help="default: adam")
    t.add_argument("--momentum", type=float, default=None, metavar="M",
                   help="sgd and rmsprop only: momentum in [0, 1) (default: 0)")
    t.add_argument("--betas", type=_betas, default=None, metavar="B1,B2",
                   help="adam and adamw only: the decay rates of the moment estimates, each in [0, 1) "
                   "(default: 0.9,0.999)")
    t.add_argument("--weight-decay", type=float, default=None, metavar="W",
                   help="the optimizer's weight_decay, >= 0 (default: 0)")
    t.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seeds the split, the weights, the shuffling and dropout (default: 0)")
    t.add_argument("--save", metavar="PATH", help="write a checkpoint (.npz or .safetensors) after every epoch, "
                   "atomically: model and optimizer state, epoch, configuration, everything needed to resume, and "
                   "at the end the results; load it with fukaku.load(PATH)")
    t.add_argument("--resume", action="store_true",
                   help="continue the run checkpointed in --save PATH (interrupted, or to train more --epochs) "
                   "exactly where it stopped; the other options must be that run's. Starts afresh when PATH does "
                   "not exist yet")
    t.add_argument("--hidden", type=_hidden, default=None, metavar="W1,W2",
                   help="mlp only: hidden widths, comma-separated (default: 128)")
    t.add_argument("--activation", default=None,
                   choices=("relu", "tanh", "sigmoid", "leaky_relu", "elu", "gelu", "silu", "softplus"),
                   help="mlp only: hidden activation (default: relu)")
    t.add_argument("--dropout", type=float, default=None, metavar="P",
                   help="mlp only: dropout probability in [0, 1) (default: 0)")
    t.add_argument("--batchnorm", action="store_true", default=None,
                   help="mlp only: BatchNorm1d after each hidden linear layer")
    t.add_argument("--root", metavar="DIR", help="mnist and cifar10 only: directory with the MNIST IDX files, or "
                   "the one holding cifar-10-batches-py/")
    t.add_argument("--noise", type=float, default=None,
                   help="Playground sets only: noise in [0, 0.5], the Playground's Noise slider / 100 (default: 0)")
    t.add_argument("--quiet", action="store_true", help="no per-epoch output")
    t.set_defaults(handler=cmd_train)

    gen = sub.add_parser(
        "generate", help="continue a prompt with a language model saved by `fukaku train char-lstm` or `train gpt`",
        description="Load CHECKPOINT (written by `fukaku train char-lstm --save`; read with fukaku.load, which "
        "executes nothing from the file), feed it the prompt and print the prompt followed by --length sampled "
        "characters: each drawn from softmax(logits / temperature) over the --top-k most likely ones. A prompt "
        "character the model never saw in training is refused (exit status 2), naming it.",
        epilog="Example: fukaku generate neko.pt --prompt 吾輩は --temperature 0.8 --length 300 --seed 1")
    gen.add_argument("checkpoint", metavar="CHECKPOINT", help="a checkpoint of fukaku train char-lstm")
    gen.add_argument("--prompt", default=None, metavar="TEXT",
                     help="the text to continue (default: the most frequent character of the training text)")
    gen.add_argument("--temperature", type=float, default=0.8, metavar="T",
                     help="lower is more conservative, 0 always takes the most likely character (default: 0.8)")
    gen.add_argument("--top-k", type=int, default=None, metavar="K",
                     help="sample among the K most likely characters only (default: all)")
    gen.add_argument("--top-p", type=float, default=None, metavar="P",
                     help="GPT only: sample among the fewest most likely tokens whose probability sums to P "
                     "(default: all)")
    gen.add_argument("--length", type=int, default=500, metavar="N", help="characters to add (default: 500)")
    gen.add_argument("--seed", type=int, default=None, metavar="S", help="seed of the sampling (default: random)")
    gen.set_defaults(handler=cmd_generate)

    # `fukaku lab ...` is handed to fukaku.lab.cli_main before parsing; this entry lists it in --help.
    sub.add_parser("lab", add_help=False, help="run the textbook's claims as experiments (fukaku lab --help)",
                   description="See `fukaku lab --help`.")

    d = sub.add_parser("data", help="download data sets", description="Manage data sets.")
    dsub = d.add_subparsers(dest="data_command", metavar="{fetch}")
    f = dsub.add_parser("fetch", help="download a data set and verify its MD5 checksums",
                        description="Download NAME's IDX files from the canonical sources (trying mirrors in turn), "
                        "verify each file's MD5 and write it atomically. Files already present with the right MD5 "
                        "are kept.")
    f.add_argument("name", choices=("mnist", "fashion-mnist"), metavar="NAME", help="mnist or fashion-mnist")
    f.add_argument("--root", metavar="DIR", help="destination (default: $FUKAKU_DATA/NAME, else "
                   "~/.cache/fukaku/data/NAME)")
    f.add_argument("--mirror", action="append", metavar="URL",
                   help="base URL to try instead of the built-in mirrors (repeatable; http(s):// or file://)")
    f.set_defaults(handler=cmd_data_fetch)
    d.set_defaults(handler=lambda args: _missing_subcommand(d))
    from .text.cli import add_parser as add_tokenizer_parser  # `fukaku tokenizer train|encode|decode`
    add_tokenizer_parser(sub)
    from .text.word2vec_cli import add_parser as add_word2vec_parser  # `fukaku word2vec train|similar`
    add_word2vec_parser(sub)
    from .playground.cli import add_parser as add_playground_parser  # `fukaku playground`
    add_playground_parser(sub)

    g = sub.add_parser(
        "graph", help="draw seed 003's computational graph and its gradients",
        description=f"Build seed 003's worked example {graph.SEED003_FUNCTIONS}, at {_seed003_inputs()}; "
        "backpropagate; print the graph as text with the gradients dy/dx1, dy/dx2, dy/dx3; and draw it "
        "(fukaku.utils.graph.draw, like torchviz).",
        epilog="SVG needs the graphviz Python package (pip install graphviz, or the 'graph' extra) and the dot "
        "program (apt-get install graphviz); without them the drawing falls back to text. "
        "Example: fukaku graph --out graph.svg")
    g.add_argument("--out", metavar="PATH", help="file to write (default: seed003-graph.svg, .dot or .txt by format)")
    g.add_argument("--format", choices=graph.FORMATS, default=None,
                   help="svg, dot (Graphviz source) or text (default: svg when graphviz is installed, else text)")
    g.set_defaults(handler=cmd_graph)

    # `fukaku sample ...` is handed to fukaku.cli_generative.main before parsing; this entry lists it in --help.
    sub.add_parser("sample", add_help=False, help="draw samples of a generative model saved by `fukaku train "
                   "vae|ddpm|gan|realnvp|rbm` as an image grid", description="See `fukaku sample --help`.")

    # `fukaku run ...` is handed to fukaku.run.main before parsing; this entry lists it in --help.
    sub.add_parser("run", add_help=False, help="run an unmodified PyTorch program on fukaku (fukaku run SCRIPT)",
                   description="See `fukaku run --help`.")

    i = sub.add_parser("info", help="versions, BLAS and threads",
                       description="Print the versions of fukaku, Python, NumPy and the optional packages, the BLAS "
                       "library NumPy uses and the number of threads.")
    i.set_defaults(handler=cmd_info)
    return parser


def _missing_subcommand(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``fukaku`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "lab":
        return cmd_lab(argv[1:])
    if argv[:2] in (["train", "char-lstm"], ["train", "gpt"]):  # own options (text data, sizes), own parser
        from .cli_gpt import gpt_parser
        parser = _char_lstm_parser() if argv[1] == "char-lstm" else gpt_parser()
        try:
            args = parser.parse_args(argv[2:])
        except SystemExit as exc:
            return int(exc.code or 0)
        return _handle(args)
    if (argv[:1] == ["train"] and argv[1:2] in (["vae"], ["ddpm"], ["gan"], ["realnvp"], ["rbm"])) or argv[:1] == ["sample"]:
        # the generative models' own parsers (cli_generative.py)
        from .cli_generative import main as generative_main
        return generative_main(argv)
    if argv and argv[0] == "run":  # the program's own arguments follow: none of them is fukaku's
        from .run import main as run_main

        return run_main(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors: argparse has printed the message
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return _handle(args)


def _handle(args) -> int:
    """Run a parsed command's handler; errors become one line on stderr and the exit status. Under mpirun a
    rank that fails ends every rank (the others may be waiting for it in an all-reduce)."""
    status = _handled(args)
    dist.distributed_c10d.abort_job_if_failed(status, f"fukaku {args.command}")
    return status


def _handled(args) -> int:
    try:
        return args.handler(args)
    except UsageError as exc:
        print(f"fukaku {args.command}: {exc}", file=sys.stderr)
        return 2
    except Interrupted as exc:  # Ctrl-C in training: one line saying what was kept
        print(f"fukaku {args.command}: {exc}", file=sys.stderr)
        return INTERRUPTED
    except KeyboardInterrupt:
        print(f"fukaku {args.command}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except (OSError, ValueError, ImportError, FloatingPointError) as exc:  # missing data, absent extras, divergence
        print(f"fukaku {args.command}: {exc}", file=sys.stderr)
        return 1


__all__ = ["main", "build_parser", "load_data", "info_lines"]
