"""Core-engine speed against PyTorch CPU, in one run (issue: core engine acceptance).

(a) per-op overhead: forward + backward of one op on 64-element tensors (add, mul, tanh, 8×8 matmul);
(b) one full training step of an MLP 784-256-256-10 on a batch of 128 with plain SGD, written with
    raw tensors in the same code for both libraries (they share the API).

Each timing is the median of ``--repeats`` runs of ``--number`` calls. Prints a Markdown table
with the ratio ours / PyTorch. Usage: ``python benchmarks/bench_core.py [--repeats 7]``.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np


def _median_time(fn, number: int, repeats: int) -> float:
    fn()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


def op_cases(lib):
    rng = np.random.default_rng(0)
    a = lib.tensor(rng.standard_normal(64).astype(np.float32), requires_grad=True)
    b = lib.tensor(rng.standard_normal(64).astype(np.float32), requires_grad=True)
    m1 = lib.tensor(rng.standard_normal((8, 8)).astype(np.float32), requires_grad=True)
    m2 = lib.tensor(rng.standard_normal((8, 8)).astype(np.float32), requires_grad=True)
    ones = lib.ones(64)
    ones88 = lib.ones(8, 8)

    def run(make, seed):
        def step():
            out = make()
            out.backward(seed)
        return step

    return {
        "add (64)": run(lambda: a + b, ones),
        "mul (64)": run(lambda: a * b, ones),
        "tanh (64)": run(lambda: a.tanh(), ones),
        "matmul (8×8)": run(lambda: m1 @ m2, ones88),
    }


def mlp_step(lib, batch: int = 128):
    rng = np.random.default_rng(0)
    sizes = [784, 256, 256, 10]
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        w = (rng.uniform(-1, 1, (fan_in, fan_out)) / np.sqrt(fan_in)).astype(np.float32)
        params += [lib.tensor(w, requires_grad=True), lib.zeros(fan_out, requires_grad=True)]
    x = lib.tensor(rng.standard_normal((batch, 784)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 10, batch))
    rows = lib.arange(batch)
    lr = 0.01

    def step():
        h = x
        for k in range(0, len(params) - 2, 2):
            h = (h @ params[k] + params[k + 1]).relu()
        logits = h @ params[-2] + params[-1]
        loss = -logits.log_softmax(dim=1)[rows, y].mean()
        for p in params:
            p.grad = None
        loss.backward()
        with lib.no_grad():
            for p in params:
                p.sub_(lr * p.grad)
        return loss

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    import torch

    import fukaku

    torch.set_num_threads(os.cpu_count() or 1)
    print(f"# bench_core — {platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"NumPy {np.__version__}, PyTorch {torch.__version__}, {time.strftime('%Y-%m-%d')}\n")
    print("| case | fukaku | PyTorch | ratio (ours / PyTorch) |")
    print("|---|---|---|---|")
    ours_ops, theirs_ops = op_cases(fukaku), op_cases(torch)
    for name in ours_ops:
        t_ours = _median_time(ours_ops[name], 2000, args.repeats)
        t_theirs = _median_time(theirs_ops[name], 2000, args.repeats)
        print(f"| {name}, forward + backward | {t_ours * 1e6:.1f} µs | {t_theirs * 1e6:.1f} µs | {t_ours / t_theirs:.2f} |")
    t_ours = _median_time(mlp_step(fukaku), 50, args.repeats)
    t_theirs = _median_time(mlp_step(torch), 50, args.repeats)
    print(f"| MLP 784-256-256-10, batch 128, SGD step | {t_ours * 1e3:.2f} ms | {t_theirs * 1e3:.2f} ms | "
          f"{t_ours / t_theirs:.2f} |")


if __name__ == "__main__":
    main()
