"""Per-op speed of the convolution family against PyTorch CPU: forward + backward of one layer.

Cases: the two convolutions of issue 9's small CNN (1→32 on 28×28 with the input constant, as a first
layer; 32→64 on 14×14), the convolutions of a CIFAR ResNet-20 at batch 64 (3×3 at 16, 32 and 64
channels, a stride-2 3×3 and a stride-2 1×1 projection), a depthwise 3×3, a transposed 2×2 stride-2
convolution (U-Net's up path) and a reflection pad. Each timing is the median of ``--repeats`` runs,
fukaku and torch interleaved in one process so that a busy machine slows both alike; the table gives
the ratio ours / PyTorch. ``--profile CASE`` prints cProfile's top functions for one fukaku case.

Usage: ``python benchmarks/bench_conv_ops.py [--repeats 15] [--threads 2] [--profile small-conv2]``.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats

import numpy as np
from bench_cnn import interleaved_medians  # benchmarks/ is on the path when a script runs

# name: (F function, input shape, weight shape, keyword arguments, whether the input needs a gradient)
CASES = {
    "small-conv1": ("conv2d", (128, 1, 28, 28), (32, 1, 3, 3), dict(padding=1), False),
    "small-conv2": ("conv2d", (128, 32, 14, 14), (64, 32, 3, 3), dict(padding=1), True),
    "resnet-16": ("conv2d", (64, 16, 32, 32), (16, 16, 3, 3), dict(padding=1), True),
    "resnet-32": ("conv2d", (64, 32, 16, 16), (32, 32, 3, 3), dict(padding=1), True),
    "resnet-64": ("conv2d", (64, 64, 8, 8), (64, 64, 3, 3), dict(padding=1), True),
    "resnet-down": ("conv2d", (64, 16, 32, 32), (32, 16, 3, 3), dict(stride=2, padding=1), True),
    "resnet-1x1-down": ("conv2d", (64, 16, 32, 32), (32, 16, 1, 1), dict(stride=2), True),
    "depthwise": ("conv2d", (64, 32, 16, 16), (32, 1, 3, 3), dict(padding=1, groups=32), True),
    "transposed-up": ("conv_transpose2d", (32, 64, 16, 16), (64, 32, 2, 2), dict(stride=2), True),
    "reflect-pad": ("pad", (64, 32, 32, 32), None, dict(pad=(1, 1, 1, 1), mode="reflect"), True),
}


def runner(lib, case: str):
    """One forward + backward of ``case`` in ``lib`` (torch or fukaku: the same code)."""
    fn_name, x_shape, w_shape, kw, input_grad = CASES[case]
    F = lib.nn.functional
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal(x_shape).astype(np.float32), requires_grad=input_grad)
    if w_shape is None:
        def forward():
            return F.pad(x, kw["pad"], mode=kw["mode"])
    else:
        w = lib.tensor((rng.standard_normal(w_shape) * 0.1).astype(np.float32), requires_grad=True)
        b = lib.tensor(rng.standard_normal(w_shape[1] if fn_name == "conv_transpose2d" else w_shape[0])
                       .astype(np.float32), requires_grad=True)

        def forward():
            return getattr(F, fn_name)(x, w, b, **kw)
    grad = lib.tensor(rng.standard_normal(tuple(forward().shape)).astype(np.float32))

    def step():
        forward().backward(grad)
    return step


def blas_summary() -> str:
    """NumPy's BLAS, its kernel family and threads (threadpoolctl, when installed): OpenBLAS may run AVX2
    ("Haswell") kernels on a CPU it does not know, at half the speed its AVX-512 kernels reach there
    (``OPENBLAS_CORETYPE=SkylakeX`` in the environment, before NumPy loads, picks those)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS unknown (no threadpoolctl)"
    libs = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return ", ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture', '?')} kernels, "
                     f"{i.get('num_threads')} threads)" for i in libs) or "no BLAS found"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2, help="torch's intra-op threads")
    parser.add_argument("--case", choices=[*CASES, "all"], default="all")
    parser.add_argument("--profile", choices=list(CASES), help="profile fukaku on this case instead")
    args = parser.parse_args()
    import torch

    import fukaku
    torch.set_num_threads(args.threads)
    if args.profile:
        step = runner(fukaku, args.profile)
        step()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.repeats):
            step()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(12)
        return
    print(f"# {platform.machine()} {os.cpu_count()} cores, NumPy {np.__version__} on {blas_summary()}, torch "
          f"{torch.__version__} ({torch.get_num_threads()} threads), load average {os.getloadavg()[0]:.1f}")
    print("| case (forward + backward) | fukaku ms | torch ms | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for case in (CASES if args.case == "all" else [args.case]):
        medians = interleaved_medians({"fukaku": runner(fukaku, case), "torch": runner(torch, case)}, args.repeats)
        ours, theirs = medians["fukaku"], medians["torch"]
        print(f"| {case} | {ours:.2f} | {theirs:.2f} | {ours / theirs:.2f} |", flush=True)


if __name__ == "__main__":
    main()
