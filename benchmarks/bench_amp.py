"""Mixed precision's accuracy parity (issue 16 item 2): a small CNN and a GPT-mini trained in float32 and under
``fukaku.autocast`` + ``GradScaler``, from the same initial weights and batches; final loss and accuracy of both.

* ``cnn``: two 3×3 convolutions (8 and 16 channels, ReLU, 2×2 max-pooling) and a linear classifier on the 8×8
  digits of ``fukaku.datasets.digits()`` (1,437 training images, 360 held out), Adam, batch 64; accuracy on the
  held-out images.
* ``gpt``: ``fukaku.models.GPT`` (2 layers, d_model 32, 2 heads, context 16) on arithmetic sequences — token
  t+1 = token t + k (mod 16), k drawn per sequence — so that every position after the first is predictable from
  the two before it; AdamW, batch 32; next-token accuracy on held-out sequences, first position excluded.

The device is CUDA when ``fukaku.cuda.is_available()`` (autocast dtype float16), else the CPU (bfloat16, or
``--dtype float16``). On the CPU NumPy computes the half-precision ops in float32 and rounds their inputs and
results (see docs/amp.md): the numbers measure the rounding's effect on training, not a speed-up.

Usage: ``python benchmarks/bench_amp.py [--steps 300] [--gpt-steps 300] [--dtype bfloat16] [--case cnn]``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import fukaku as fk
import fukaku.nn.functional as F
from fukaku import nn

VOCAB, CONTEXT = 16, 16


def _device_and_dtype(requested: str | None) -> tuple[str, fk.dtype]:
    if fk.cuda.is_available():
        return "cuda", getattr(fk, requested or "float16")
    return "cpu", getattr(fk, requested or "bfloat16")


def _cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(16 * 2 * 2, 10))


def _digits():
    x, y = fk.datasets.digits()
    x = x.reshape(-1, 1, 8, 8)
    return (x[:1437], y[:1437]), (x[1437:], y[1437:])


def _sequences(rng, n: int):
    start = rng.integers(0, VOCAB, (n, 1))
    step = rng.integers(1, VOCAB, (n, 1))
    tokens = (start + step * np.arange(CONTEXT + 1)) % VOCAB
    return fk.tensor(tokens[:, :-1]), fk.tensor(tokens[:, 1:])


def _batches(case: str, steps: int, seed: int):
    """The training batches and the held-out set of ``case``, the same for every precision."""
    rng = np.random.default_rng(seed)
    if case == "cnn":
        (x, y), held_out = _digits()
        order = [rng.choice(len(y), 64, replace=False) for _ in range(steps)]
        return [(x[fk.tensor(i)], y[fk.tensor(i)]) for i in order], held_out
    return [_sequences(rng, 32) for _ in range(steps)], _sequences(rng, 256)


def _model(case: str, seed: int) -> nn.Module:
    fk.manual_seed(seed)
    if case == "cnn":
        return _cnn()
    from fukaku.models import GPT

    return GPT(vocab_size=VOCAB, context_length=CONTEXT, n_layer=2, n_head=2, d_model=32)


def _loss_and_accuracy(case: str, logits, target):
    if case == "cnn":
        return F.cross_entropy(logits, target), (logits.argmax(1) == target).float().mean().item()
    loss = F.cross_entropy(logits.reshape(-1, VOCAB), target.reshape(-1))
    hits = (logits[:, 1:].argmax(-1) == target[:, 1:]).float().mean().item()  # position 0 cannot be predicted
    return loss, hits


def train(case: str, steps: int, device: str, low: fk.dtype | None, seed: int = 0) -> dict:
    """Train ``case`` for ``steps`` steps, in float32 (``low=None``) or under autocast(``low``) with a GradScaler."""
    batches, (x_test, y_test) = _batches(case, steps, seed)
    model = _model(case, seed).to(device)
    opt = (fk.optim.Adam(model.parameters(), lr=3e-3) if case == "cnn"
           else fk.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01))
    scaler = fk.amp.GradScaler(device, enabled=low is not None)
    skipped = 0
    start = time.perf_counter()
    for x, y in batches:
        x, y = x.to(device), y.to(device)
        opt.zero_grad()
        with fk.autocast(device, dtype=low, enabled=low is not None):
            loss, _ = _loss_and_accuracy(case, model(x), y)
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scale = scaler.get_scale()
        scaler.step(opt)
        scaler.update()
        skipped += scaler.get_scale() < scale  # the scale backs off exactly when a step was skipped
    seconds = time.perf_counter() - start
    model.eval()
    with fk.no_grad(), fk.autocast(device, dtype=low, enabled=low is not None):
        test_loss, accuracy = _loss_and_accuracy(case, model(x_test.to(device)), y_test.to(device))
    return {"train_loss": loss.item(), "test_loss": test_loss.item(), "accuracy": accuracy, "seconds": seconds,
            "scale": scaler.get_scale(), "skipped": int(skipped)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="CNN training steps")
    parser.add_argument("--gpt-steps", type=int, default=300, help="GPT-mini training steps")
    parser.add_argument("--dtype", choices=("bfloat16", "float16"), default=None,
                        help="autocast dtype (default: float16 on CUDA, bfloat16 on the CPU)")
    parser.add_argument("--case", choices=("cnn", "gpt"), action="append", help="run only these (repeatable)")
    args = parser.parse_args()
    device, low = _device_and_dtype(args.dtype)
    print(f"device {device}, autocast dtype {low}")
    print(f"{'case':<5} {'precision':<18} {'train loss':>10} {'test loss':>10} {'accuracy':>9} {'skipped':>8} "
          f"{'seconds':>8}")
    for case in args.case or ("cnn", "gpt"):
        steps = args.steps if case == "cnn" else args.gpt_steps
        for name, dtype in (("float32", None), (f"autocast {str(low).removeprefix('fukaku.')}", low)):
            r = train(case, steps, device, dtype)
            print(f"{case:<5} {name:<18} {r['train_loss']:>10.4f} {r['test_loss']:>10.4f} {r['accuracy']:>9.3f} "
                  f"{r['skipped']:>8} {r['seconds']:>8.1f}")


if __name__ == "__main__":
    main()
