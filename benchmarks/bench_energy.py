"""The RBM's contrastive-divergence epoch against PyTorch CPU (issue 14: ≤ 1.5× PyTorch's time), in one run.

Case ``rbm-cd1-epoch``: one epoch of CD-1 on binarised MNIST-8k (the first 8,000 t10k images, pixels > 0.5; random
binary images of the same size when the MNIST files are absent, said in the output), 784 visible and 500 hidden
units, batches of 100: per batch the reconstruction error, then the CD-1 update of W, b, c with P(h | v) in place of
h on both sides (``fukaku.models.RBM.cd_step``). torch runs the same arithmetic with its own tensors. Timed as the
median of ``--repeats`` epochs after a warm-up, fukaku and torch interleaved (``bench_cnn``'s helpers).

Usage: ``python benchmarks/bench_energy.py [--repeats 5] [--threads 2]``.
"""
from __future__ import annotations

import numpy as np
from bench_cnn import _import, compared, handled_aside, machine_line, parse_options

CASES = ("rbm-cd1-epoch",)
HIDDEN, BATCH, LR = 500, 100, 0.05


def binarised_mnist() -> tuple[np.ndarray, str]:
    """(8,000 × 784 binary images, where they came from)."""
    from fukaku import datasets

    try:
        x, _, _, _ = datasets.mnist_split(n_train=8000, n_test=2000, return_tensors=False)
        return (x > 0.5).astype(np.float32), "binarised MNIST-8k"
    except FileNotFoundError:
        rng = np.random.default_rng(0)
        return (rng.random((8000, 784)) < 0.13).astype(np.float32), "random binary images (MNIST files absent)"


def step_runner(lib, case: str, seed: int = 0):
    """One CD-1 epoch of ``lib`` over the same data from the same initial weights."""
    import fukaku
    from fukaku.models.energy import RBM

    data, _ = binarised_mnist()
    batches = np.array_split(np.arange(len(data)), len(data) // BATCH)
    fukaku.manual_seed(seed)
    rbm = RBM(data.shape[1], HIDDEN, generator=fukaku.Generator().manual_seed(seed))
    if lib is fukaku:
        tensors = [fukaku.tensor(data[b]) for b in batches]
        return lambda: [rbm.cd_step(v, lr=LR) for v in tensors]
    torch = lib
    w = torch.tensor(rbm.weight.detach().numpy().copy())
    b, c = torch.zeros(data.shape[1]), torch.zeros(HIDDEN)
    tensors = [torch.tensor(data[idx]) for idx in batches]
    generator = torch.Generator().manual_seed(seed)

    def cd1(v0) -> float:
        error = float(((v0 - torch.sigmoid(torch.sigmoid(v0 @ w + c) @ w.T + b)) ** 2).mean())
        ph0 = torch.sigmoid(v0 @ w + c)
        h0 = (torch.rand(ph0.shape, generator=generator) < ph0).to(v0.dtype)
        pv1 = torch.sigmoid(h0 @ w.T + b)
        v1 = (torch.rand(pv1.shape, generator=generator) < pv1).to(v0.dtype)
        ph1 = torch.sigmoid(v1 @ w + c)
        w.add_((v0.T @ ph0 - v1.T @ ph1) / len(v0), alpha=LR)
        b.add_((v0 - v1).mean(0), alpha=LR)
        c.add_((ph0 - ph1).mean(0), alpha=LR)
        return error

    return lambda: [cd1(v) for v in tensors]


def main() -> None:
    args = parse_options(__doc__, CASES, repeats=5)
    if handled_aside(args, step_runner, list(CASES)):
        return
    print(machine_line(_import("torch", args.threads)))
    print(f"data: {binarised_mnist()[1]}; {HIDDEN} hidden units, batches of {BATCH}")
    print("| case | fukaku ms | torch ms | ratio (target ≤ 1.5) | peak extra MiB fukaku | torch |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for case, ours, theirs, memory in compared(step_runner, list(CASES), args.repeats, args.threads, __file__,
                                               memory=not args.no_memory):
        print(f"| {case} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f} | {memory['fukaku']:.0f} | "
              f"{memory['torch']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
