"""GPU training steps: fukaku on CuPy against PyTorch CUDA eager (issue 16, item 3; target ≤ 2× PyTorch's time).

Cases, same weights and data for both libraries, each timed as the median of ``--repeats`` steps after a
warm-up, fukaku and torch interleaved, every step bracketed by a device synchronisation (GPU kernels run
asynchronously: without it a step would be timed when its kernels are queued, not when they finish):

* ``gpt-step``: one AdamW step of GPT-mini (bench_transformer.py's: 6 layers, d_model 256, 8 heads,
  context 128, batch 32, vocabulary 65), forward, cross-entropy, backward, step;
* ``resnet20-step``: one SGD + momentum step of the CIFAR ResNet-20 (bench_cnn.py's), batch 128, 3×32×32.

Without a GPU visible to both CuPy and PyTorch it prints why and exits 0 (a skip, not a failure).
``--standin`` runs the same code on tests/backends/standin.py's stand-in GPU with small sizes and PyTorch on
the CPU: a dry run of the script itself on a machine without a GPU (its times mean nothing).

``--profile FILE`` also writes where fukaku's host time goes (cProfile of ``--repeats`` synchronised steps of each
case, the top functions by own and by cumulative time): on a GPU a step is slow either in its kernels or in
the Python that launches them, and this tells which.

Usage: ``python benchmarks/bench_gpu.py [--repeats 10] [--case gpt-step] [--json results.json] [--profile FILE]
[--standin]``.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time

import numpy as np
# benchmarks/ is on the path when a script runs
from bench_cnn import resnet20
from bench_transformer import _twin

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = ("gpt-step", "resnet20-step")
# (GPT layers, d_model, heads, context, batch, vocabulary; ResNet batch): the real sizes and the dry run's
SIZES = {"gpu": ((6, 256, 8, 128, 32, 65), 128), "standin": ((1, 16, 2, 8, 2, 11), 2)}


def gpt_step(lib, device: str, size: tuple, seed: int = 0):
    """A closure running one GPT-mini AdamW step on ``device`` in ``lib`` (the weights made by fukaku)."""
    import fukaku
    from fukaku.models import GPT

    layers, d_model, heads, context, batch, vocab = size
    fukaku.manual_seed(seed)
    model = GPT(vocab_size=vocab, context_length=context, n_layer=layers, n_head=heads, d_model=d_model)
    if lib is not fukaku:
        model, _ = _twin(lib, model)
    model.to(device)
    text = np.random.default_rng(seed).integers(0, vocab, (batch, context + 1))
    inputs, targets = lib.tensor(text[:, :-1], device=device), lib.tensor(text[:, 1:], device=device)
    opt = lib.optim.AdamW(model.parameters(), lr=2e-3)

    def step() -> None:
        opt.zero_grad()
        loss = lib.nn.functional.cross_entropy(model(inputs).reshape(-1, vocab), targets.reshape(-1))
        loss.backward()
        opt.step()

    return step


def resnet20_step(lib, device: str, batch: int, seed: int = 0):
    """A closure running one ResNet-20 SGD + momentum step on ``device`` in ``lib`` (bench_cnn's network)."""
    lib.manual_seed(seed)
    model = resnet20(lib)
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.uniform(-0.1, 0.1, tuple(p.shape)).astype(np.float32)))
    model.to(device).train()
    x = lib.tensor(rng.standard_normal((batch, 3, 32, 32)).astype(np.float32), device=device)
    y = lib.tensor(rng.integers(0, 10, batch), device=device)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step() -> None:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    return step


def synchronized_median(steps: dict, syncs: dict, repeats: int, warmup: int = 3) -> tuple[dict, dict]:
    """The median milliseconds of each step, each bracketed by its library's device synchronisation, the
    libraries in turn (after ``warmup`` steps each: kernel compilation, memory pools); and the median time the
    host took to return from the step before that synchronisation (its Python and launches, plus any wait for
    the device inside the step): when it is close to the whole step's, the step is bound by the host."""
    times: dict[str, list[float]] = {name: [] for name in steps}
    issued: dict[str, list[float]] = {name: [] for name in steps}
    for name, step in steps.items():
        for _ in range(warmup):
            step()
        syncs[name]()
    for _ in range(repeats):
        for name, step in steps.items():
            syncs[name]()
            start = time.perf_counter()
            step()
            issued[name].append(time.perf_counter() - start)
            syncs[name]()
            times[name].append(time.perf_counter() - start)
    median_ms = {name: statistics.median(t) * 1e3 for name, t in times.items()}
    return median_ms, {name: statistics.median(t) * 1e3 for name, t in issued.items()}


def host_profile(case: str, step, sync, repeats: int) -> str:
    """cProfile's report of ``repeats`` synchronised calls of ``step``: the top 25 functions by own time, then
    by cumulative time."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeats):
        step()
        sync()
    profiler.disable()
    report = io.StringIO()
    stats = pstats.Stats(profiler, stream=report).strip_dirs()
    report.write(f"## {case}: {repeats} steps\n")
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(25)
    return report.getvalue()


def why_no_gpu(fukaku, torch) -> str | None:
    """Why the comparison cannot run here (None when both libraries see a GPU)."""
    if not fukaku.cuda.is_available():
        from fukaku.backends.cupy_backend import unavailable_reason

        return f"fukaku sees no GPU: {unavailable_reason()}"
    if not torch.cuda.is_available():
        return "PyTorch sees no GPU (a CPU-only torch build, or no driver)"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--case", choices=[*CASES, "all"], default="all")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--profile", help="also write a host-time profile of fukaku's steps to this file")
    parser.add_argument("--standin", action="store_true", help="dry run on the stand-in GPU (times mean nothing)")
    args = parser.parse_args()

    import torch

    import fukaku

    if args.standin:
        sys.path.insert(0, os.path.join(ROOT, "tests"))
        from backends.standin import StandInCupy

        fukaku.backends.register_device("cuda", StandInCupy())
    reason = why_no_gpu(fukaku, torch) if not args.standin else None
    if reason is not None:
        print(f"bench_gpu: skipped: {reason}")
        return
    target = "standin" if args.standin else "gpu"
    torch_device = "cpu" if args.standin else "cuda"
    syncs = {"fukaku": fukaku.cuda.synchronize,
             "torch": torch.cuda.synchronize if torch_device == "cuda" else (lambda: None)}
    gpt_size, resnet_batch = SIZES[target]
    runners = {"gpt-step": lambda lib, dev: gpt_step(lib, dev, gpt_size),
               "resnet20-step": lambda lib, dev: resnet20_step(lib, dev, resnet_batch)}
    device_name = torch.cuda.get_device_name() if torch_device == "cuda" else "stand-in"
    print(f"# {device_name}; fukaku on {'CuPy ' + fukaku.backends.device_module('cuda').__version__}, "
          f"torch {torch.__version__} on {torch_device}")
    print("| case | fukaku ms | fukaku host ms | torch ms | torch host ms | ratio | target ≤ 2× |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    results, profiles = [], []
    for case in (CASES if args.case == "all" else (args.case,)):
        steps = {"fukaku": runners[case](fukaku, "cuda"), "torch": runners[case](torch, torch_device)}
        medians, host = synchronized_median(steps, syncs, args.repeats)
        ratio = medians["fukaku"] / medians["torch"]
        results.append({"case": case, "fukaku_ms": medians["fukaku"], "fukaku_host_ms": host["fukaku"],
                         "torch_ms": medians["torch"], "torch_host_ms": host["torch"], "ratio": ratio,
                         "device": device_name, "standin": args.standin})
        verdict = "n/a (stand-in)" if args.standin else "met" if ratio <= 2 else "not met"
        print(f"| {case} | {medians['fukaku']:.2f} | {host['fukaku']:.2f} | {medians['torch']:.2f} | "
              f"{host['torch']:.2f} | {ratio:.2f} | {verdict} |", flush=True)
        if args.profile:
            profiles.append(host_profile(case, steps["fukaku"], syncs["fukaku"], args.repeats))
    if args.profile:
        with open(args.profile, "w", encoding="utf-8") as f:
            f.write("\n".join(profiles))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
