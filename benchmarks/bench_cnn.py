"""CNN training speed against PyTorch CPU (issue 9 acceptance), in one run, same code for both.

Two cases, each one SGD training step (forward, cross-entropy, backward, update), median of
``--repeats`` after a warm-up, fukaku and torch interleaved so that a busy machine slows both:

* ``small``: conv(1→32, 3, pad 1)-ReLU-maxpool 2-conv(32→64, 3, pad 1)-ReLU-maxpool 2-fc 128-fc 10,
  batch 128 of 1×28×28 (MNIST-sized);
* ``resnet20``: the CIFAR ResNet-20 of He et al. 2016 §4.2 (3 stages of 3 BasicBlocks, 16/32/64
  channels, 1×1-conv projection where the shape changes), batch 64 of 3×32×32.

The networks are written once below against the PyTorch API (``lib.nn.Conv2d`` …) and built with
``lib = torch`` and ``lib = fukaku``: the benchmark is also a check that the same program runs on
both. Peak memory is measured per library in a fresh subprocess (``--memory-of``): the peak
resident set size (``VmHWM``, reset before the steps) during the steps minus the resident size just before them.

Usage: ``python benchmarks/bench_cnn.py [--repeats 7] [--threads 2] [--case small]``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

CASES = {"small": (128, (1, 28, 28)), "resnet20": (64, (3, 32, 32))}


def small_cnn(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def resnet20(lib):
    nn = lib.nn

    class BasicBlock(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = (nn.Sequential() if stride == 1 and cin == cout else
                             nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)))

        def forward(self, x):
            out = self.bn1(self.conv1(x)).relu()
            return (self.bn2(self.conv2(out)) + self.shortcut(x)).relu()

    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for cout, stride in ((16, 1), (32, 2), (64, 2)):
        for block in range(3):
            layers.append(BasicBlock(cin, cout, stride if block == 0 else 1))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


NETS = {"small": small_cnn, "resnet20": resnet20}


def step_runner(lib, case: str, seed: int = 0):
    """A closure running one training step of ``case``; both libraries start from the same weights and data."""
    lib.manual_seed(seed)
    model = NETS[case](lib)
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.uniform(-0.1, 0.1, tuple(p.shape)).astype(np.float32)))
    batch, shape = CASES[case]
    x = lib.tensor(rng.standard_normal((batch, *shape)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 10, batch))
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = lib.nn.CrossEntropyLoss()
    model.train()

    def step() -> float:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return float(loss.item())

    return step


def interleaved_medians(steps: dict, repeats: int) -> dict[str, float]:
    """The median milliseconds of each step, the steps run in turn (each warmed up once first: first-call
    allocations and caches), so that load on the machine slows every library alike."""
    times: dict[str, list[float]] = {name: [] for name in steps}
    for step in steps.values():
        step()
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) * 1e3 for name, t in times.items()}


def _rss_kib() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def memory_of(name: str, case: str, threads: int, steps: int = 3, runner=None) -> dict:
    """Peak extra memory of ``steps`` training steps of one library, in this (fresh) process; ``runner``
    (default: this script's ``step_runner``) makes the step from the library and the case."""
    lib = _import(name, threads)
    step = (runner or step_runner)(lib, case)
    before = _rss_kib()
    # ru_maxrss survives fork and exec (it would report the parent's peak): reset the high-water mark
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    for _ in range(steps):
        step()
    return {"library": name, "case": case, "peak_extra_mib": (_peak_rss_kib() - before) / 1024}


def _peak_rss_kib() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))


def _import(name: str, threads: int):
    if name == "torch":
        import torch
        torch.set_num_threads(threads)
        return torch
    import fukaku
    fukaku.set_num_threads(threads)
    return fukaku


def _measure_memory(case: str, threads: int, script: str = __file__) -> dict[str, float]:
    """Each library's :func:`memory_of` from ``script --memory-of NAME`` in a fresh subprocess."""
    out = {}
    for name in ("fukaku", "torch"):
        result = subprocess.run([sys.executable, script, "--memory-of", name, "--case", case,
                                 "--threads", str(threads)], capture_output=True, text=True, check=True)
        out[name] = json.loads(result.stdout)["peak_extra_mib"]
    return out


def machine_line(torch) -> str:
    """The line that heads a results table: the machine, Python, NumPy, torch and its threads."""
    return (f"# {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, NumPy "
            f"{np.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads)")


def compared(runner, cases, repeats: int, threads: int, script: str = __file__, memory: bool = True):
    """For each case, ``(case, fukaku ms, torch ms, {library: peak extra MiB})``: the interleaved medians of
    ``runner(lib, case)``'s steps, and each library's memory from ``script --memory-of`` (nan without
    ``memory``)."""
    torch, fukaku = _import("torch", threads), _import("fukaku", threads)
    for case in cases:
        medians = interleaved_medians({"fukaku": runner(fukaku, case), "torch": runner(torch, case)}, repeats)
        peak = _measure_memory(case, threads, script) if memory else {"fukaku": float("nan"), "torch": float("nan")}
        yield case, medians["fukaku"], medians["torch"], peak


def parse_options(doc: str, cases, repeats: int, extra_cases: tuple[str, ...] = ()) -> argparse.Namespace:
    """The options every benchmark script takes: --repeats, --threads, --case (one of ``cases``,
    ``extra_cases`` or all), --profile CASE, --no-memory, and the hidden --memory-of of its subprocesses."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=repeats)
    parser.add_argument("--threads", type=int, default=2, help="torch's intra-op threads, fukaku's and BLAS's")
    parser.add_argument("--case", choices=[*cases, *extra_cases, "all"], default="all")
    parser.add_argument("--profile", choices=cases, help="print cProfile's top functions for one fukaku case")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    parser.add_argument("--memory-of", choices=["fukaku", "torch"], help=argparse.SUPPRESS)
    return parser.parse_args()


def handled_aside(args: argparse.Namespace, runner, cases: list[str], top: int = 20) -> bool:
    """Run what is not a comparison — ``--memory-of`` (print one library's peak memory as JSON) or ``--profile``
    (cProfile's ``top`` functions over 3 fukaku steps); True when one of them ran."""
    if args.memory_of:
        print(json.dumps(memory_of(args.memory_of, cases[0], args.threads, runner=runner)))
        return True
    if args.profile:
        import cProfile
        import pstats
        step = runner(_import("fukaku", args.threads), args.profile)
        step()
        profile = cProfile.Profile()
        profile.runcall(lambda: [step() for _ in range(3)])
        pstats.Stats(profile).sort_stats("tottime").print_stats(top)
        return True
    return False


def main() -> None:
    args = parse_options(__doc__, CASES, repeats=7)
    cases = list(CASES) if args.case == "all" else [args.case]
    if handled_aside(args, step_runner, cases):
        return

    print(machine_line(_import("torch", args.threads)))
    print("| case | fukaku ms | torch ms | ratio | peak extra MiB fukaku | torch |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for case, ours, theirs, memory in compared(step_runner, cases, args.repeats, args.threads,
                                               memory=not args.no_memory):
        print(f"| {case} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f} | {memory['fukaku']:.0f} | "
              f"{memory['torch']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
