"""``fukaku train gpt`` and ``fukaku generate`` for GPT checkpoints.

    fukaku train gpt --data text:PATH [--tokenizer char|bpe:4000] [--layers 4] [--d-model 128] [--heads 4]
                     [--context 128] [--batch-size 32] [--lr 2e-3] [--minutes M | --steps S] [--save CKPT] [--seed S]
                     [--threads N]
    fukaku generate CKPT --prompt TEXT [--temperature T] [--top-k K] [--top-p P] [--length N] [--seed S]

Training: the text's first 90% (``--val-fraction``) trains, the rest validates. A tokenizer from
:mod:`fukaku.text` is trained on the training part; each step draws ``--batch-size`` windows of
``--context + 1`` tokens at random offsets and minimises the next-token cross-entropy with AdamW (learning
rate warmed up over the first 100 steps, then cosine-decayed to a tenth by the end of the budget; gradient
norm clipped at 1). The validation loss is printed every ``--eval-every`` seconds (on a fixed sample of
windows) and at the end (over the whole validation part), in nats per token and nats per character
(= per token × tokens / characters of the validation text, so tokenizers compare).

The checkpoint (``fukaku.save``, no pickle) holds ``config`` (``model: "gpt"``, the GPTConfig, the tokenizer
as a JSON string, the training options), ``model`` (the state dict) and ``results``.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import numpy as np

from . import manual_seed, nn, optim
from .cli import AT_LEAST_ONE, POSITIVE, UsageError, _check_save_path, _text_path, check_options
from .datasets.text import MAX_TEXT_BYTES, _read_text, windows_at
from .models.rnn._util import inference
from .models.transformer import GPT, GPTConfig
from .ops import _parallel
from .ops._parallel import get_num_threads
from .serialization import save
from .tensor import from_numpy

DEFAULTS = {"tokenizer": "char", "layers": 4, "d_model": 128, "heads": 4, "context": 128, "batch_size": 32,
            "lr": 2e-3, "minutes": 15.0, "dropout": 0.0, "weight_decay": 0.01, "val_fraction": 0.1,
            "eval_every": 60.0}
WARMUP_STEPS = 100        # linear warm-up of the learning rate
FINAL_LR_FRACTION = 0.1   # the cosine schedule ends at this fraction of --lr
CLIP = 1.0                # gradient-norm clipping
EVAL_WINDOWS = 256        # windows of the fixed validation sample used between the reports


def _text(spec: str) -> tuple[str, str]:
    """The path and the text of ``--data text:PATH`` (UTF-8, at most MAX_TEXT_BYTES, as the other text commands)."""
    path = _text_path(spec)
    return path, _read_text(Path(path), MAX_TEXT_BYTES)


def _options(args) -> None:
    ranges = (*[(name, *AT_LEAST_ONE) for name in ("layers", "d_model", "heads", "context", "batch_size", "steps",
                                                    "threads")],
              ("lr", *POSITIVE), ("minutes", *POSITIVE),
              ("dropout", "in [0, 1)", lambda v: 0 <= v < 1), ("weight_decay", ">= 0", lambda v: v >= 0),
              ("val_fraction", "in (0, 0.5]", lambda v: 0 < v <= 0.5), ("eval_every", "> 0", lambda v: v > 0),
              ("seed", ">= 0", lambda v: v >= 0), ("sample", ">= 0", lambda v: v >= 0))
    if args.steps is not None and args.minutes is not None:
        raise UsageError("give --minutes or --steps, not both (the length of the run)")
    check_options(args, ranges, {name: value for name, value in DEFAULTS.items()
                                 if not (name == "minutes" and args.steps is not None)})
    if args.d_model % args.heads:
        raise UsageError(f"--d-model {args.d_model} must be divisible by --heads {args.heads}")


def _windows(ids: np.ndarray, starts: np.ndarray, length: int) -> tuple:
    """Inputs ``ids[s : s + length]`` and targets ``ids[s + 1 : s + length + 1]`` for each start, as tensors."""
    block = windows_at(ids, starts, length + 1)
    return from_numpy(block[:, :-1]), from_numpy(block[:, 1:])


def evaluate_nats(model: GPT, ids: np.ndarray, context: int, starts: np.ndarray | None = None,
                  batch_size: int = 64) -> float:
    """Mean next-token cross-entropy (nats/token) of ``model`` on ``ids``: over the windows beginning at
    ``starts``, or (None) over consecutive non-overlapping windows that cover every token once."""
    if starts is None:
        starts = np.arange(0, len(ids) - 1 - context + 1, context)
        if not len(starts):
            starts = np.array([0])
            context = len(ids) - 1
    total, count = 0.0, 0
    with inference(model):
        for i in range(0, len(starts), batch_size):
            x, y = _windows(ids, starts[i:i + batch_size], context)
            logits = model(x)
            loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum")
            total, count = total + float(loss), count + y.numel()
    return total / count


def _lr_at(args, step: int, progress: float) -> float:
    warm = min(1.0, (step + 1) / WARMUP_STEPS)
    cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return args.lr * warm * (FINAL_LR_FRACTION + (1 - FINAL_LR_FRACTION) * cosine)


def cmd_train_gpt(args) -> int:
    """``fukaku train gpt``: GPT-mini (fukaku.models.GPT) on a text file; see the module's docstring."""
    _options(args)
    if args.threads is None:
        return _train_gpt(args)
    get_num_threads()  # finds the BLAS libraries that threadpoolctl, when installed, controls
    if not _parallel.Threads.blas:
        raise UsageError("--threads needs the threadpoolctl package (pip install threadpoolctl)")
    with _parallel.blas_threads(args.threads):
        return _train_gpt(args)


def _train_gpt(args) -> int:
    path, text = _text(args.data)
    if args.save:
        _check_save_path(args.save)
    from .text import train_tokenizer

    n_val_chars = int(len(text) * args.val_fraction)
    train_text, val_text = text[:-n_val_chars] if n_val_chars else text, text[-n_val_chars:] if n_val_chars else ""
    began = time.perf_counter()
    try:
        # characters: the whole text's (a character first seen in the validation part is still a token);
        # subwords are learned from the training part only
        tokenizer = train_tokenizer(args.tokenizer, text if args.tokenizer == "char" else train_text)
    except ValueError as exc:
        raise UsageError(f"--tokenizer {args.tokenizer!r}: {exc}") from None
    train_ids = np.asarray(tokenizer.encode(train_text), dtype=np.int64)
    val_ids = np.asarray(tokenizer.encode(val_text), dtype=np.int64)
    if min(len(train_ids), len(val_ids)) < args.context + 2:
        raise UsageError(f"{path}: {len(train_ids)} training and {len(val_ids)} validation tokens are too few for "
                         f"--context {args.context}; use a longer text, a smaller --context or a larger "
                         "--val-fraction")
    chars_per_token = len(val_text) / len(val_ids)
    print(f"{path}: {len(text):,} characters; tokenizer {args.tokenizer} ({tokenizer.vocab_size} tokens, "
          f"{len(train_ids) / len(train_text):.3f} tokens/char, {time.perf_counter() - began:.1f} s); "
          f"{len(train_ids):,} train / {len(val_ids):,} validation tokens (the last {args.val_fraction:.0%})",
          flush=True)
    manual_seed(args.seed)
    config = GPTConfig(vocab_size=tokenizer.vocab_size, context_length=args.context, n_layer=args.layers,
                       n_head=args.heads, d_model=args.d_model, dropout=args.dropout)
    model = GPT(config)
    decay = [p for p in model.parameters() if p.ndim >= 2]
    rest = [p for p in model.parameters() if p.ndim < 2]
    optimizer = optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": rest, "weight_decay": 0.0}], lr=args.lr)
    budget = f"{args.steps} steps" if args.steps else f"{args.minutes:g} minutes"
    print(f"GPT {args.layers} layers, d_model {args.d_model}, {args.heads} heads, context {args.context}: "
          f"{model.num_parameters():,} parameters; AdamW lr {args.lr:g} (warm-up {WARMUP_STEPS} steps, cosine to "
          f"{FINAL_LR_FRACTION:g}x), weight decay {args.weight_decay:g}, batch {args.batch_size}; {budget}", flush=True)
    rng = np.random.default_rng(args.seed)
    eval_starts = rng.integers(0, len(val_ids) - args.context - 1, min(EVAL_WINDOWS, len(val_ids) // 2))
    per_char = lambda nats: nats / chars_per_token  # noqa: E731  (nats/token → nats/char)
    curve, step, losses = [], 0, []
    seconds = args.minutes * 60 if args.steps is None else None
    start = last_report = time.perf_counter()
    model.train()
    while True:
        elapsed = time.perf_counter() - start
        progress = step / args.steps if args.steps else elapsed / seconds
        if progress >= 1:
            break
        for group in optimizer.param_groups:
            group["lr"] = _lr_at(args, step, progress)
        x, y = _windows(train_ids, rng.integers(0, len(train_ids) - args.context - 1, args.batch_size), args.context)
        logits = model(x)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        optimizer.step()
        losses.append(float(loss))
        if not math.isfinite(losses[-1]):
            raise FloatingPointError(f"the training loss became {losses[-1]} at step {step}; lower --lr")
        step += 1
        now = time.perf_counter()
        if now - last_report >= args.eval_every:
            last_report = now
            val = evaluate_nats(model, val_ids, args.context, eval_starts)
            train = float(np.mean(losses[-50:]))
            curve.append({"step": step, "seconds": now - start, "train": train, "val": val})
            if not args.quiet:
                print(f"step {step:6d}  {(now - start) / 60:5.1f} min  train {train:.4f}  val {val:.4f} nats/token "
                      f"= {per_char(val):.4f} nats/char", flush=True)
    trained = time.perf_counter() - start
    val = evaluate_nats(model, val_ids, args.context)
    curve.append({"step": step, "seconds": trained, "train": float(np.mean(losses[-50:])),
                  "val": evaluate_nats(model, val_ids, args.context, eval_starts)})
    print(f"trained {step} steps in {trained / 60:.1f} min ({1e3 * trained / max(step, 1):.0f} ms/step); validation "
          f"(all {len(val_ids):,} tokens) {val:.4f} nats/token = {per_char(val):.4f} nats/char "
          f"({per_char(val) / math.log(2):.3f} bits/char)", flush=True)
    results = {"steps": step, "seconds": trained, "val_nats_per_token": val, "val_nats_per_char": per_char(val),
               "curve": json.dumps(curve)}
    if args.save:
        checkpoint_config = {"model": "gpt", "gpt": config.to_dict(), "tokenizer": json.dumps(tokenizer.to_dict()),
                             "tokenizer_spec": args.tokenizer, "data": os.path.abspath(path),
                             "val_fraction": args.val_fraction, "batch_size": args.batch_size, "lr": args.lr,
                             "weight_decay": args.weight_decay, "seed": args.seed}
        save({"config": checkpoint_config, "model": model.state_dict(), "results": results},
             os.path.expanduser(args.save))
        print(f"saved {args.save}; sample from it with: fukaku generate {args.save} --prompt TEXT")
    if args.sample:
        prompt = val_text[:1]
        ids = model.generate(tokenizer.encode(prompt), args.sample, temperature=0.8, seed=args.seed)
        print(tokenizer.decode(ids.tolist()))
    return 0


def load_gpt(state: dict, where: str):
    """The model and tokenizer of a checkpoint written by ``fukaku train gpt`` (loaded by ``fukaku.load``)."""
    from .text import TokenizerFormatError, from_dict

    config = state["config"]
    try:
        model = GPT.from_config(config["gpt"])
        model.load_state_dict(state["model"])
        tokenizer = from_dict(json.loads(config["tokenizer"]), source=f"{where}'s tokenizer")
    except (KeyError, TypeError, json.JSONDecodeError, TokenizerFormatError) as exc:
        raise UsageError(f"{where} is not a usable checkpoint of `fukaku train gpt`: {exc}") from None
    return model, tokenizer


def generate_gpt(args, state: dict) -> int:
    """``fukaku generate`` for a GPT checkpoint: encode the prompt, continue it, print the text."""
    model, tokenizer = load_gpt(state, args.checkpoint)
    c = model.config
    prompt = args.prompt if args.prompt is not None else "\n"
    if not prompt:
        raise UsageError("--prompt is empty; give at least one character")
    try:
        ids = tokenizer.encode(prompt)
    except ValueError as exc:
        raise UsageError(f"--prompt cannot be encoded by the checkpoint's tokenizer: {exc}") from None
    if not ids:
        raise UsageError("--prompt encodes to no tokens; give at least one character the tokenizer knows")
    if len(ids) > c.context_length:
        raise UsageError(f"--prompt is {len(ids)} tokens, longer than the model's context of {c.context_length}; "
                         "shorten it")
    if not args.temperature >= 0:
        raise UsageError(f"--temperature must be >= 0 (0: always the most likely token), got {args.temperature}")
    if args.top_k is not None and not 1 <= args.top_k <= c.vocab_size:
        raise UsageError(f"--top-k must be between 1 and the vocabulary size {c.vocab_size}, got {args.top_k}")
    if args.top_p is not None and not 0 < args.top_p <= 1:
        raise UsageError(f"--top-p must be in (0, 1], got {args.top_p}")
    if args.length < 0:
        raise UsageError(f"--length must be >= 0, got {args.length}")
    out = model.generate(ids, args.length, temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                         seed=args.seed)
    print(tokenizer.decode(out.tolist()))
    return 0


def gpt_parser() -> argparse.ArgumentParser:
    d = DEFAULTS
    p = argparse.ArgumentParser(
        prog="fukaku train gpt",
        description="Train GPT-mini (fukaku.models.GPT: token and position embeddings, pre-LN causal Transformer "
        "blocks, tied output layer) on a UTF-8 text: next-token cross-entropy on windows of --context tokens at "
        "random offsets of the first 90% of the text, AdamW with warm-up and cosine decay over the budget "
        "(--minutes or --steps); the validation loss on the last 10% in nats/token and nats/char every "
        "--eval-every seconds and at the end. The tokenizer travels in the checkpoint.",
        epilog="Example: fukaku train gpt --data text:../shared/data/text/tinyshakespeare.txt --minutes 15 --save "
        "gpt.pt; fukaku generate gpt.pt --prompt 'ROMEO:' --top-p 0.9")
    p.add_argument("--data", required=True, metavar="text:PATH", help="the UTF-8 text file to learn")
    p.add_argument("--tokenizer", default=None, metavar="SPEC",
                   help=f"char, bpe:N, words:N, wordpiece:N or unigram:N (fukaku.text; default: {d['tokenizer']})")
    p.add_argument("--layers", type=int, default=None, metavar="L", help=f"Transformer blocks (default: {d['layers']})")
    p.add_argument("--d-model", type=int, default=None, metavar="D", help=f"model width (default: {d['d_model']})")
    p.add_argument("--heads", type=int, default=None, metavar="H", help=f"attention heads (default: {d['heads']})")
    p.add_argument("--context", type=int, default=None, metavar="T", help=f"context length in tokens (default: "
                   f"{d['context']})")
    p.add_argument("--batch-size", type=int, default=None, metavar="B", help=f"windows per step (default: "
                   f"{d['batch_size']})")
    p.add_argument("--lr", type=float, default=None, metavar="LR", help=f"AdamW's peak learning rate (default: "
                   f"{d['lr']:g})")
    p.add_argument("--weight-decay", type=float, default=None, metavar="W",
                   help=f"AdamW's weight decay on the weight matrices (default: {d['weight_decay']:g})")
    p.add_argument("--dropout", type=float, default=None, metavar="P", help=f"dropout (default: {d['dropout']:g})")
    p.add_argument("--minutes", type=float, default=None, metavar="M",
                   help=f"train for M minutes of wall time (default: {d['minutes']:g})")
    p.add_argument("--steps", type=int, default=None, metavar="S", help="train for S steps instead")
    p.add_argument("--val-fraction", type=float, default=None, metavar="F",
                   help=f"the last fraction of the text held out (default: {d['val_fraction']:g})")
    p.add_argument("--eval-every", type=float, default=None, metavar="SEC",
                   help=f"seconds between validation reports (default: {d['eval_every']:g})")
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help="BLAS threads (default: NumPy's; on a busy machine 1 can be several times faster, as "
                   "spinning BLAS threads wait for cores that others hold)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seeds the weights and the windows (default: 0)")
    p.add_argument("--save", metavar="CKPT", help="write the checkpoint (config, weights, tokenizer) at the end")
    p.add_argument("--sample", type=int, default=0, metavar="N",
                   help="print N tokens sampled (temperature 0.8) at the end (default: 0)")
    p.add_argument("--quiet", action="store_true", help="no periodic reports")
    p.set_defaults(handler=cmd_train_gpt, command="train")
    return p


__all__ = ["cmd_train_gpt", "generate_gpt", "load_gpt", "gpt_parser", "evaluate_nats"]
