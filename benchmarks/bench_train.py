"""Training speed against PyTorch CPU: one epoch of MLP training, same model, batch size and
optimizer, in one run (issue 3 acceptance), plus the DataLoader's own overhead.

Cases: digits (1,437 training images of 8×8, MLP 64-128-10) and MNIST-8k (the first 8,000
images of the shared MNIST test set, MLP 784-256-256-10; skipped when ../shared/data is absent).
Batch 64, Adam(lr=1e-3), cross-entropy. Each number is the median of ``--repeats`` epochs.
Usage: ``python benchmarks/bench_train.py [--repeats 5]``.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np


def _median(fn, repeats: int) -> float:
    fn()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _model(lib, sizes):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(lib.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(lib.nn.ReLU())
    return lib.nn.Sequential(*layers)


def epoch_runner(lib, loader_mod, x: np.ndarray, y: np.ndarray, sizes, batch_size: int, seed: int = 0):
    """A closure that trains one epoch; the model starts from the same weights in both libraries."""
    lib.manual_seed(seed)
    model = _model(lib, sizes)
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.uniform(-0.1, 0.1, tuple(p.shape)).astype(np.float32)))
    loss_fn = lib.nn.CrossEntropyLoss()
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    dataset = loader_mod.TensorDataset(lib.tensor(x), lib.tensor(y))
    loader = loader_mod.DataLoader(dataset, batch_size=batch_size, shuffle=True)

    def train_epoch():
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()

    def loader_epoch():
        for _ in loader:
            pass

    return train_epoch, loader_epoch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()

    import torch
    import torch.utils.data as torch_data

    import fukaku
    import fukaku.utils.data as fk_data
    from fukaku import datasets

    torch.set_num_threads(os.cpu_count() or 1)
    cases = []
    x, y = datasets.digits(return_tensors=False)
    n_train = int(0.8 * len(y))
    cases.append(("digits, MLP 64-128-10", x[:n_train].astype(np.float32), y[:n_train].astype(np.int64), [64, 128, 10]))
    try:
        split = datasets.mnist_split(return_tensors=False)
        cases.append(("MNIST-8k, MLP 784-256-256-10", split.x_train.astype(np.float32),
                      split.y_train.astype(np.int64), [784, 256, 256, 10]))
    except (FileNotFoundError, OSError) as exc:
        print(f"(MNIST skipped: {exc})")

    print(f"# bench_train — {platform.machine()}, {os.cpu_count()} cores, NumPy {np.__version__}, "
          f"PyTorch {torch.__version__}, batch {args.batch_size}, Adam, {time.strftime('%Y-%m-%d')}\n")
    print("| case | fukaku | PyTorch | ratio (ours / PyTorch) |")
    print("|---|---|---|---|")
    for name, xs, ys, sizes in cases:
        ours_train, ours_load = epoch_runner(fukaku, fk_data, xs, ys, sizes, args.batch_size)
        theirs_train, theirs_load = epoch_runner(torch, torch_data, xs, ys, sizes, args.batch_size)
        t_ours, t_theirs = _median(ours_train, args.repeats), _median(theirs_train, args.repeats)
        print(f"| {name}: training epoch | {t_ours * 1e3:.1f} ms | {t_theirs * 1e3:.1f} ms | {t_ours / t_theirs:.2f} |")
        l_ours, l_theirs = _median(ours_load, args.repeats), _median(theirs_load, args.repeats)
        print(f"| {name}: DataLoader alone (shuffled epoch) | {l_ours * 1e3:.1f} ms | {l_theirs * 1e3:.1f} ms | "
              f"{l_ours / l_theirs:.2f} |")


if __name__ == "__main__":
    main()
