"""Recurrent-layer speed against PyTorch CPU (issue 10 acceptance), in one run, same code for both.

Cases, each timed as the median of ``--repeats`` after a warm-up, fukaku and torch interleaved so
that a busy machine slows both alike:

* ``lstm``: ``nn.LSTM(128, 256)`` on a sequence of 100 steps, batch 64: forward + backward
  (target: ≤ 1.5× PyTorch's time);
* ``gru``: ``nn.GRU(128, 256)``, the same;
* ``char-lm``: one Adam training step of a character language model — Embedding(65, 128) → 2-layer
  LSTM(256) → Linear(256, 65), cross-entropy over 100 steps × batch 64 — reported in tokens/s.

The models are written once against the PyTorch API and built with ``lib = torch`` and
``lib = fukaku``. Peak memory is measured per library in a fresh subprocess (``--memory-of``), as
in ``bench_cnn.py``, whose timing and memory helpers this script reuses.

Usage: ``python benchmarks/bench_rnn.py [--repeats 7] [--threads 2] [--case lstm] [--profile lstm]``.
"""
from __future__ import annotations


import numpy as np
# benchmarks/ is on the path when a script runs
from bench_cnn import _import, compared, handled_aside, machine_line, parse_options

SEQ, BATCH, INPUT, HIDDEN, VOCAB = 100, 64, 128, 256, 65
CASES = ("lstm", "gru", "char-lm")


def _uniform_(lib, model, rng) -> None:
    """The same weights in both libraries: U(−0.1, 0.1) from one NumPy generator."""
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.uniform(-0.1, 0.1, tuple(p.shape)).astype(np.float32)))


def step_runner(lib, case: str, seed: int = 0):
    """A closure running one step of ``case`` in ``lib``; both libraries start from the same weights and data."""
    lib.manual_seed(seed)
    rng = np.random.default_rng(seed)
    nn = lib.nn
    if case in ("lstm", "gru"):
        layer = (nn.LSTM if case == "lstm" else nn.GRU)(INPUT, HIDDEN)
        _uniform_(lib, layer, rng)
        x = lib.tensor(rng.standard_normal((SEQ, BATCH, INPUT)).astype(np.float32), requires_grad=True)
        up = lib.tensor(rng.standard_normal((SEQ, BATCH, HIDDEN)).astype(np.float32))

        def step() -> None:
            layer.zero_grad()
            x.grad = None
            out, _ = layer(x)
            out.backward(up)

        return step

    class CharLM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(VOCAB, INPUT)
            self.lstm = nn.LSTM(INPUT, HIDDEN, num_layers=2, batch_first=True)
            self.head = nn.Linear(HIDDEN, VOCAB)

        def forward(self, tokens):
            out, _ = self.lstm(self.embed(tokens))
            return self.head(out)

    model = CharLM()
    _uniform_(lib, model, rng)
    text = rng.integers(0, VOCAB, (BATCH, SEQ + 1))
    inputs, targets = lib.tensor(text[:, :-1]), lib.tensor(text[:, 1:])
    opt = lib.optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()

    def train_step() -> None:
        opt.zero_grad()
        loss = loss_fn(model(inputs).reshape(-1, VOCAB), targets.reshape(-1))
        loss.backward()
        opt.step()

    return train_step


def main() -> None:
    args = parse_options(__doc__, CASES, repeats=7)
    cases = list(CASES) if args.case == "all" else [args.case]
    if handled_aside(args, step_runner, cases, top=15):
        return

    print(machine_line(_import("torch", args.threads)))
    print("| case | fukaku ms | torch ms | ratio | fukaku tokens/s | torch tokens/s | peak extra MiB fukaku | torch |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    tokens = SEQ * BATCH
    for case, ours, theirs, memory in compared(step_runner, cases, args.repeats, args.threads, __file__,
                                               memory=not args.no_memory):
        print(f"| {case} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f} | {tokens / ours * 1e3:,.0f} | "
              f"{tokens / theirs * 1e3:,.0f} | {memory['fukaku']:.0f} | {memory['torch']:.0f} |", flush=True)

if __name__ == "__main__":
    main()
