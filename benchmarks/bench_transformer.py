"""GPT-mini and tokenizer speed against PyTorch CPU (issue 11 acceptance), in one run, same weights for both.

Cases, each timed as the median of ``--repeats`` after a warm-up, fukaku and torch interleaved so that a busy
machine slows both alike (``bench_cnn``'s helpers):

* ``gpt-step``: one AdamW training step of GPT-mini — 6 layers, d_model 256, 8 heads, context 128, batch 32,
  character vocabulary (65) — forward, cross-entropy, backward, step (target: ≤ 1.5× PyTorch's time);
* ``generate-cache`` / ``generate-full``: greedy generation of 112 tokens after a 16-token prompt (batch 1,
  within the context) with the KV cache, and recomputing the whole prefix at every step; tokens/s.
  fukaku runs ``fukaku.models.GPT.generate``; torch runs the same model written in PyTorch (the twin of
  tests/models/test_gpt.py, the same state dict) with its own cache of concatenated keys and values;
* ``bpe``: fukaku.text's byte-level BPE trained to 4,000 tokens on tiny-shakespeare (one run: seconds) and its
  encoding throughput (MB/s, median of 3); skipped with a message when the text is absent.

Peak memory is measured per library in a fresh subprocess (``--memory-of``), as in ``bench_cnn.py``.

Usage: ``python benchmarks/bench_transformer.py [--repeats 5] [--threads 2] [--case gpt-step] [--profile gpt-step]``.
"""
from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np
# benchmarks/ is on the path when a script runs; the repository root for the torch twin in tests/
from bench_cnn import _import, compared, handled_aside, machine_line, parse_options

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYERS, D_MODEL, HEADS, CONTEXT, BATCH, VOCAB = 6, 256, 8, 128, 32, 65
PROMPT, NEW = 16, 112
CASES = ("gpt-step", "generate-cache", "generate-full")
TEXT = os.path.join(ROOT, "..", "shared", "data", "text", "tinyshakespeare.txt")


def _twin(torch, fk_model):
    """The PyTorch twin of a fukaku GPT, with its state dict."""
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    from tests.models.test_gpt import TorchGPT, torch_greedy

    twin = TorchGPT(fk_model.config)
    twin.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in fk_model.state_dict().items()})
    return twin, torch_greedy


def step_runner(lib, case: str, seed: int = 0):
    """A closure running one step of ``case`` in ``lib``; both libraries start from the same weights and data."""
    import fukaku
    from fukaku.models import GPT

    fukaku.manual_seed(seed)
    model = GPT(vocab_size=VOCAB, context_length=CONTEXT, n_layer=LAYERS, n_head=HEADS, d_model=D_MODEL)
    rng = np.random.default_rng(seed)
    if lib is not fukaku:
        model, torch_greedy = _twin(lib, model)
    if case == "gpt-step":
        text = rng.integers(0, VOCAB, (BATCH, CONTEXT + 1))
        inputs, targets = lib.tensor(text[:, :-1]), lib.tensor(text[:, 1:])
        opt = lib.optim.AdamW(model.parameters(), lr=2e-3)

        def train_step() -> None:
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(inputs).reshape(-1, VOCAB), targets.reshape(-1))
            loss.backward()
            opt.step()

        return train_step
    prompt = rng.integers(0, VOCAB, (1, PROMPT))
    cache = case == "generate-cache"
    if lib is fukaku:
        return lambda: model.generate(fukaku.tensor(prompt), NEW, temperature=0, use_cache=cache)
    return lambda: torch_greedy(model, lib.tensor(prompt), NEW, use_cache=cache)


def bpe_numbers(path: str = TEXT) -> dict | None:
    """Seconds to train a 4,000-token BPE on tiny-shakespeare, and encoding MB/s; None without the text."""
    if not os.path.isfile(path):
        return None
    from fukaku.text import train_tokenizer

    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    start = time.perf_counter()
    tok = train_tokenizer("bpe:4000", text)
    train_s = time.perf_counter() - start
    times = []
    for _ in range(3):
        start = time.perf_counter()
        ids = tok.encode(text)
        times.append(time.perf_counter() - start)
    megabytes = len(text.encode("utf-8")) / 1e6
    return {"train_s": train_s, "encode_mb_s": megabytes / statistics.median(times),
            "chars_per_token": len(text) / len(ids), "round_trip": tok.decode(ids) == text}


def main() -> None:
    args = parse_options(__doc__, CASES, repeats=5, extra_cases=("bpe",))
    cases = list(CASES) if args.case == "all" else [c for c in CASES if c == args.case]
    if handled_aside(args, step_runner, cases):
        return

    print(machine_line(_import("torch", args.threads)))
    if cases:
        print("| case | fukaku ms | torch ms | ratio | fukaku tokens/s | torch tokens/s | peak extra MiB fukaku | torch |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for case, ours, theirs, memory in compared(step_runner, cases, args.repeats, args.threads, __file__,
                                               memory=not args.no_memory):
        tokens = BATCH * CONTEXT if case == "gpt-step" else NEW
        print(f"| {case} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f} | {tokens / ours * 1e3:,.0f} | "
              f"{tokens / theirs * 1e3:,.0f} | {memory['fukaku']:.0f} | {memory['torch']:.0f} |", flush=True)
    if args.case in ("bpe", "all"):
        bpe = bpe_numbers()
        if bpe is None:
            print(f"bpe: skipped, {TEXT} is absent (the shared data directory)")
        else:
            print(f"bpe: 4,000 tokens trained on tiny-shakespeare in {bpe['train_s']:.1f} s (target ≤ 60 s); encoding "
                  f"{bpe['encode_mb_s']:.2f} MB/s (target ≥ 1), {bpe['chars_per_token']:.2f} characters/token, "
                  f"round trip {'exact' if bpe['round_trip'] else 'BROKEN'}", flush=True)


if __name__ == "__main__":
    main()
