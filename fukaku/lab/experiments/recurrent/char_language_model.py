"""A character-level LSTM language model learns English (tiny-shakespeare) and Japanese (neko.txt) text beyond
character frequencies (seed 000 §6.1.7, seed 001 §9.3, seed 004 §3.4; Karpathy's char-rnn)."""
from __future__ import annotations

import math
from contextlib import nullcontext
from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import datasets, nn
from fukaku.datasets.text import TextCorpus, windows_at
from fukaku.models.rnn import CharLM

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._training import validated_steps
from ....ops._parallel import blas_threads

# name → (file under the shared data's text/, the prompt of the sample); tiny-shakespeare falls back to FALLBACK
CORPORA = {"tiny-shakespeare": ("tinyshakespeare.txt", "ROMEO:"), "neko": ("neko.txt", "吾輩は")}
FALLBACK = "Python help topics"   # pydoc_data's English text, installed with Python, when tiny-shakespeare is absent
PROMPTS = {name: prompt for name, (_, prompt) in CORPORA.items()} | {FALLBACK: "The "}
VALIDATION = 0.1                  # the last tenth of each text is held out
VALIDATION_CHUNK = 64             # held-out windows scored at once (a multiple of it is held out)
QUICK = {"layers": 1, "hidden": 128, "embedding": 32, "seq_len": 64, "batch": 32, "steps": 60, "lr": 1e-2,
         "max_vocab": 512, "evaluate_every": 10, "validation_windows": 64}
FULL = {"layers": 2, "hidden": 256, "embedding": 64, "seq_len": 100, "batch": 32, "steps": 1000, "lr": 6e-3,
        "max_vocab": None, "evaluate_every": 100, "validation_windows": 256}
CLIP = 5.0
BIGRAM_WEIGHT = 0.9               # the bigram baseline: 0.9 · p(c | previous c) + 0.1 · p(c) (add-one smoothed)
SAMPLE_CHARS, TEMPERATURE = 200, 0.8
UNIGRAM = "unigram entropy of the training text"
BIGRAM = "held-out bigram cross-entropy"


def find_corpora() -> tuple[dict[str, str], dict[str, str]]:
    """The texts to model, by name, and the corpora skipped with the reason.

    tiny-shakespeare and neko.txt come from the shared data (``$FUKAKU_DATA`` or ``../shared/data``, under
    ``text/``); without tiny-shakespeare the English text is pydoc_data's help topics (always installed with
    Python), so the experiment still measures; without neko.txt the Japanese part is skipped."""
    root = datasets.shared_data_dir()
    texts, skipped = {}, {}
    for name, (filename, _) in CORPORA.items():
        path = None if root is None else root / "text" / filename
        if path is not None and path.is_file():
            texts[name] = path.read_text(encoding="utf-8")
            continue
        where = "no shared data directory ($FUKAKU_DATA or ../shared/data)" if root is None else f"no {path}"
        if name == "tiny-shakespeare":
            from pydoc_data.topics import topics
            texts[FALLBACK] = "\n".join(topics[key] for key in sorted(topics))
            skipped[name] = f"{where}: the English text is Python's help topics (pydoc_data) instead"
        else:
            skipped[name] = f"{where}: skipped"
    return texts, skipped


def entropy(counts: np.ndarray) -> float:
    """The entropy in nats of the distribution ``counts / counts.sum()``."""
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def baselines(train: np.ndarray, valid: np.ndarray, vocab: int) -> dict[str, float]:
    """What the model must beat, in nats/char: the unigram entropy of the training text (the loss of the best
    model that ignores context, on its own text), and the cross-entropy on the held-out text of a bigram model
    fitted on the training text, 0.9 · p(c_t | c_{t−1}) + 0.1 · p(c_t) (add-one smoothed unigram)."""
    unigram = np.bincount(train, minlength=vocab)
    smoothed = (unigram + 1) / (unigram.sum() + vocab)
    previous, nxt = valid[:-1], valid[1:]
    pair_ids, pair_counts = np.unique(train[:-1] * vocab + train[1:], return_counts=True)  # sparse pair table
    where = np.searchsorted(pair_ids, previous * vocab + nxt)
    found = (where < len(pair_ids)) & (pair_ids[np.minimum(where, len(pair_ids) - 1)] == previous * vocab + nxt)
    pair = np.where(found, pair_counts[np.minimum(where, len(pair_ids) - 1)], 0)
    rows = np.bincount(train[:-1], minlength=vocab)[previous]
    p = BIGRAM_WEIGHT * pair / np.maximum(rows, 1) + (1 - BIGRAM_WEIGHT) * smoothed[nxt]
    return {UNIGRAM: entropy(unigram), BIGRAM: float(-np.log(p).mean())}


def windows(ids: np.ndarray, starts: np.ndarray, seq_len: int) -> fk.Tensor:
    """The windows ``ids[s : s + seq_len + 1]`` for each start s, ``(len(starts), seq_len + 1)``."""
    return fk.tensor(windows_at(ids, starts, seq_len + 1))


def loss_on(model: CharLM, batch: fk.Tensor, loss_fn) -> fk.Tensor:
    """Next-character cross-entropy (nats/char) of ``model`` on windows ``(N, seq_len + 1)``."""
    logits, _ = model(batch[:, :-1])
    return loss_fn(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))


def train_char_lm(text: str, config: dict, prompt: str, seed: int) -> dict:
    """Train a :class:`CharLM` on the first 90% of ``text``; return its curves, held-out loss, baselines, sample."""
    corpus = TextCorpus(text, level="char", max_vocab=config["max_vocab"])
    ids = corpus.ids
    split = int(len(ids) * (1 - VALIDATION))
    train, valid = ids[:split], ids[split:]
    vocab, seq_len = len(corpus.vocab), config["seq_len"]
    rng = np.random.default_rng(seed)
    count = min(config["validation_windows"], (len(valid) - 1) // seq_len)
    if count > VALIDATION_CHUNK:
        count -= count % VALIDATION_CHUNK
    held_out = windows(valid, np.arange(count) * seq_len, seq_len)   # non-overlapping, from the held-out start
    fk.manual_seed(seed)
    model = CharLM(vocab, config["embedding"], config["hidden"], config["layers"], cell="lstm")
    loss_fn = nn.CrossEntropyLoss()

    def batch_loss(step: int) -> fk.Tensor:
        return loss_on(model, windows(train, rng.integers(0, len(train) - seq_len - 1, config["batch"]), seq_len),
                       loss_fn)

    def held_out_loss() -> float:
        model.eval()
        with fk.no_grad():                   # in chunks of equal size: the logits of all windows at once are big
            chunks = [loss_on(model, chunk, loss_fn).item() for chunk in held_out.split(VALIDATION_CHUNK)]
        model.train()
        return float(np.mean(chunks))

    curve, checkpoints, seconds = validated_steps(model, batch_loss, config["steps"], config["lr"], CLIP,
                                                  config["evaluate_every"], held_out_loss)
    sample = model.generate(corpus.encode(prompt, return_tensors=True), SAMPLE_CHARS, temperature=TEMPERATURE,
                            seed=seed)
    return {"characters": len(ids), "vocabulary": vocab, "unknown": float((ids == corpus.vocab.unk_index).mean()),
            "validation": checkpoints[-1][1], "baselines": baselines(train, valid, vocab), "curve": curve,
            "checkpoints": checkpoints, "sample": corpus.decode(sample), "seconds": seconds,
            "parameters": sum(p.numel() for p in model.parameters())}


class CharLanguageModel(Experiment, id="char-language-model",
                        source="seed 000 §6.1.7, seed 001 §9.3, seed 004 §3.4; Karpathy 2015 (char-rnn)"):
    """A character LSTM predicts text better than character frequencies do.

    An LSTM reading a text one character at a time and trained to predict the next one learns more than
    how often each character occurs (seed 000 §6.1.7 and seed 004 §3.4: the LSTM's cell carries context; seed
    001 §9.3: recurrent networks over text). Measured on tiny-shakespeare (English) and neko.txt (Natsume
    Sōseki's 吾輩は猫である, Japanese, a few thousand distinct characters), each split 90% training / 10%
    held out: the held-out loss in nats per character ends below the unigram entropy of the training text —
    the loss of the best context-free model — after a short run (60 steps of a 1-layer LSTM, characters
    outside the 512 most frequent as one unknown symbol, in the quick run), and in the full run (2 layers of
    256, 1,000 steps, every character) also below a held-out bigram model's cross-entropy. A corpus whose
    file is absent is skipped and said so; without tiny-shakespeare, Python's help topics stand in for it.
    """

    def measure(self, ctx: Context) -> Measurement:
        config = QUICK if ctx.quick else FULL
        texts, skipped = find_corpora()
        with blas_threads(1) if ctx.quick else nullcontext():   # the quick run's GEMMs are small
            runs = {name: train_char_lm(text, config, PROMPTS[name], ctx.seed) for name, text in texts.items()}
        claimed = [UNIGRAM] if ctx.quick else [UNIGRAM, BIGRAM]
        return Measurement(
            values={"corpora": list(runs), "skipped": skipped,
                    "LSTM layers, hidden, embedding": [config["layers"], config["hidden"], config["embedding"]],
                    "Adam steps, batch, sequence length": [config["steps"], config["batch"], config["seq_len"]],
                    "vocabulary cap (rarer characters become <unk>)": config["max_vocab"] or "none",
                    "characters": {name: run["characters"] for name, run in runs.items()},
                    "vocabulary": {name: run["vocabulary"] for name, run in runs.items()},
                    "share of characters that are <unk>": {name: run["unknown"] for name, run in runs.items()},
                    "parameters": {name: run["parameters"] for name, run in runs.items()},
                    "held-out loss (nats/char)": {name: run["validation"] for name, run in runs.items()},
                    "baselines (nats/char)": {name: run["baselines"] for name, run in runs.items()},
                    "baselines claimed beaten": claimed,
                    "initial held-out loss (≈ ln V, a uniform guess)": {
                        name: run["checkpoints"][0][1] for name, run in runs.items()},
                    f"sample ({SAMPLE_CHARS} characters, temperature {TEMPERATURE})": {
                        name: run["sample"] for name, run in runs.items()},
                    "seconds to train": {name: round(run["seconds"], 1) for name, run in runs.items()}},
            plot_data={"runs": runs})

    def checks(self, m: dict) -> list[Check]:
        loss, bars = m["held-out loss (nats/char)"], m["baselines (nats/char)"]
        return [Check(f"{name}: held-out loss, vs the {baseline}", loss[name], "<", bars[name][baseline])
                for name in m["corpora"] for baseline in m["baselines claimed beaten"]]

    summary_template = """{headline}. After {steps} Adam steps (batches of {batch} windows of {seq_len}
        characters) of a {layers}-layer LSTM with {hidden} units, the held-out loss per character is {details}.
        {skipped}Samples: {samples}"""

    def summary_values(self, m: dict) -> dict:
        loss, bars = m["held-out loss (nats/char)"], m["baselines (nats/char)"]
        headline = "Held-out vs unigram entropy: " + ", ".join(
            f"{name} {loss[name]:.2f} vs {bars[name][UNIGRAM]:.2f}" for name in m["corpora"]) + " nats/char"
        details = "; ".join(
            f"{name} ({m['characters'][name]:,} characters, {m['vocabulary'][name]:,} symbols, "
            f"{m['share of characters that are <unk>'][name]:.1%} of them <unk>): "
            f"{loss[name]:.3f}, from {m['initial held-out loss (≈ ln V, a uniform guess)'][name]:.2f} "
            f"(unigram entropy {bars[name][UNIGRAM]:.3f}, held-out bigram {bars[name][BIGRAM]:.3f})"
            for name in m["corpora"])
        skipped = "".join(f"{name}: {reason}. " for name, reason in m["skipped"].items())
        samples = " | ".join(f"{name}: {text!r}" for name, text in
                             m[f"sample ({SAMPLE_CHARS} characters, temperature {TEMPERATURE})"].items())
        steps, batch, seq_len = m["Adam steps, batch, sequence length"]
        layers, hidden, _ = m["LSTM layers, hidden, embedding"]
        return {"headline": headline, "details": details, "skipped": skipped, "samples": samples, "steps": steps,
                "batch": batch, "seq_len": seq_len, "layers": layers, "hidden": hidden}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        runs = measurement.plot_data["runs"]

        def draw(fig):
            axes = np.atleast_1d(fig.subplots(1, len(runs)))
            for ax, (name, run) in zip(axes, runs.items()):
                curve = run["curve"]
                ax.plot(np.arange(1, len(curve) + 1), curve, color="#46c", linewidth=0.8, alpha=0.6,
                        label="training (mini-batch)")
                steps, values = zip(*run["checkpoints"])
                ax.plot(steps, values, "o-", color="#d64", markersize=3, label="held out")
                for (label, value), style in zip(run["baselines"].items(), (":", "--")):
                    ax.axhline(value, color="#555", linewidth=0.9, linestyle=style, label=label)
                ax.set_ylim(0, math.log(run["vocabulary"]) * 1.05)
                ax.set_xlabel("Adam step")
                ax.set_title(name, fontsize=9)
                ax.legend(fontsize=7)
            axes[0].set_ylabel("cross-entropy (nats/char)")

        return save_figure(ctx, self.id, draw, figsize=(5 * len(runs), 4))
