"""Define-then-run against define-by-run (issue 16 item 1): a training step eager, traced, and in PyTorch.

Each case is one training step — forward, cross-entropy, backward, optimizer step — timed three ways in one
run, interleaved so that load on the machine slows all alike (``bench_cnn``'s helpers), median of
``--repeats`` after a warm-up:

* ``eager``: fukaku's define-by-run step (the graph built and walked on every call);
* ``traced``: the same step through ``fukaku.jit.trace`` (traced once; each call replays the recorded backward
  program — see docs/jit.md for what is recorded and what runs again), its forward pass eager;
* ``static``: the step traced as above, calling a traced loss function (model and cross-entropy): each call
  replays the forward program and then the backward program; the optimizer runs eagerly;
* ``torch``: the same network in PyTorch, eager.

Cases: the MLPs of the lab's ``define-then-run`` experiment (two hidden ReLU layers of ``width`` units, batch
64, Adam) from tiny to large — ``mlp-16``, ``mlp-128``, ``mlp-512``, ``mlp-2048`` — and ``gpt-mini``: the GPT of
the lab's quick ``gpt-char-language-model`` run (2 layers, d_model 64, 4 heads, context 64, batch 16, character
vocabulary 65, AdamW), PyTorch's twin from tests/models/test_gpt.py with the same weights.

Usage: ``python benchmarks/bench_jit.py [--repeats 21] [--threads 1] [--case mlp-16]``.
"""
from __future__ import annotations

import argparse

import numpy as np
# benchmarks/ is on the path when a script runs
from bench_cnn import _import, interleaved_medians, machine_line
from bench_transformer import _twin

MLP_WIDTHS = (16, 128, 512, 2048)
CASES = (*(f"mlp-{w}" for w in MLP_WIDTHS), "gpt-mini")
GPT_LAYERS, GPT_D_MODEL, GPT_HEADS, GPT_CONTEXT, GPT_BATCH, GPT_VOCAB = 2, 64, 4, 64, 16, 65


def case_steps(lib, case: str, seed: int = 0, static: bool = False):
    """``(step, batch, parameters, loss)``: a training step of ``case`` in ``lib`` taking ``*batch``; with
    ``static`` (fukaku only) its loss function is traced on the batch (a forward program) and returned as
    ``loss`` (None otherwise)."""
    import fukaku
    from fukaku.lab.experiments.graphs.define_then_run import batches, mlp, training_step

    rng = np.random.default_rng(seed)
    if case.startswith("mlp-"):
        width = int(case.split("-")[1])
        model = mlp(lib, width, seed)
        batch = batches(lib, width, 1, rng)[0]
        loss = fukaku.jit.trace(lambda x, y: lib.nn.functional.cross_entropy(model(x), y), batch) if static else None
        return training_step(lib, model, loss), batch, sum(p.numel() for p in model.parameters()), loss
    from fukaku.models import GPT

    fukaku.manual_seed(seed)
    model = GPT(vocab_size=GPT_VOCAB, context_length=GPT_CONTEXT, n_layer=GPT_LAYERS, n_head=GPT_HEADS,
                d_model=GPT_D_MODEL)
    if lib is not fukaku:
        model, _ = _twin(lib, model)
    optimizer = lib.optim.AdamW(model.parameters(), lr=2e-3)
    text = rng.integers(0, GPT_VOCAB, (GPT_BATCH, GPT_CONTEXT + 1))
    batch = (lib.tensor(text[:, :-1]), lib.tensor(text[:, 1:]))

    def loss_fn(x, y):
        return lib.nn.functional.cross_entropy(model(x).reshape(-1, GPT_VOCAB), y.reshape(-1))

    traced_loss = fukaku.jit.trace(loss_fn, batch) if static else None
    loss_fn = traced_loss or loss_fn

    def step(x, y):
        optimizer.zero_grad()
        loss = loss_fn(x, y)
        loss.backward()
        optimizer.step()
        return loss

    return step, batch, sum(p.numel() for p in model.parameters()), traced_loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--threads", type=int, default=1, help="torch's intra-op threads, fukaku's and BLAS's")
    parser.add_argument("--case", choices=[*CASES, "all"], default="all")
    args = parser.parse_args()
    torch, fukaku = _import("torch", args.threads), _import("fukaku", args.threads)
    print(machine_line(torch))
    print("| case | parameters | eager ms | traced ms | static ms | torch ms | eager / static | static / torch | "
          "forward ops | backward nodes flat / by rule |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for case in CASES if args.case == "all" else (args.case,):
        eager, batch, parameters, _ = case_steps(fukaku, case)
        step, _, _, _ = case_steps(fukaku, case)
        traced = fukaku.jit.trace(step, batch)
        static_step, _, _, loss = case_steps(fukaku, case, static=True)
        static = fukaku.jit.trace(static_step, batch)
        forward_ops = len(loss.forward_program.ops)
        program = static.backward_programs[0]
        theirs, torch_batch, _, _ = case_steps(torch, case)
        ms = interleaved_medians({"eager": lambda: eager(*batch), "traced": lambda: traced(*batch),
                                  "static": lambda: static(*batch), "torch": lambda: theirs(*torch_batch)},
                                 args.repeats)
        print(f"| {case} | {parameters:,} | {ms['eager']:.3f} | {ms['traced']:.3f} | {ms['static']:.3f} | "
              f"{ms['torch']:.3f} | {ms['eager'] / ms['static']:.2f} | {ms['static'] / ms['torch']:.2f} | "
              f"{forward_ops} | {program.flat_nodes} / {program.rule_nodes} |", flush=True)


if __name__ == "__main__":
    main()
