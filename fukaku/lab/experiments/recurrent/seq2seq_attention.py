"""Without attention an encoder–decoder's accuracy falls as the sequences grow; with attention it holds
(seed 001 §9.3, seed 002 ch. 3; Bahdanau, Cho & Bengio 2015; Luong, Pham & Manning 2015)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import nn
from fukaku.datasets.sequence import reverse_task
from fukaku.models.rnn import Seq2Seq, Seq2SeqAttention

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._training import adam_steps
from ....ops._parallel import blas_threads

SYMBOLS = 8                     # data symbols 1 … 8 (reverse_task's ids); 0 is its blank, 9 its go marker
GO = SYMBOLS + 1                # the decoder's start token
VOCAB = SYMBOLS + 2             # one vocabulary for source and target: blank, the symbols, go
EMBED, BATCH, LR, CLIP = 16, 64, 1e-2, 1.0   # Adam, the rate annealed to 0 (cosine); gradients clipped to norm 1
TEST = 500                      # held-out sequences per length
QUICK = {"lengths": (5, 10, 20), "hidden": 32, "steps": 150}
FULL = {"lengths": (5, 10, 20, 40), "hidden": 64, "steps": 1000}
ALIGNED = 0.5                   # the heat-maps' claim: most of the weight within one position of the mirrored one
HOLDS = 0.9                     # "accuracy holds": per-symbol accuracy with attention at least this at every length
CHANCE = 1 / SYMBOLS
MODELS = ("without attention", "with attention")


def reversal(n: int, length: int, seed: int) -> tuple[fk.Tensor, fk.Tensor, fk.Tensor]:
    """``n`` random sequences of ``length`` symbols and their reversals, from :func:`reverse_task`.

    Returns ``(source (n, length), decoder input (n, length), target (n, length))`` int64: the decoder reads
    the go token, then the target shifted right (teacher forcing)."""
    x, y = reverse_task(n, length, num_symbols=SYMBOLS, seed=seed, return_tensors=False)
    source, target = x[:, :length], y[:, length + 1:]           # reverse_task's input symbols, their reversal
    decoder_in = np.concatenate([np.full((n, 1), GO), target[:, :-1]], axis=1)
    return fk.tensor(source), fk.tensor(decoder_in), fk.tensor(target)


def build(attention: bool, hidden: int) -> Seq2Seq:
    """The encoder–decoder: embedding → bidirectional GRU encoder (H per direction) → GRU decoder of 2H started
    from the encoder's final state; with attention, Luong's global "general" attention over the encoder's
    states (the same model otherwise)."""
    options = dict(embedding_dim=EMBED, hidden_size=hidden, cell="gru", bidirectional=True, bos_token=GO)
    if attention:
        return Seq2SeqAttention(VOCAB, VOCAB, attention="general", **options)
    return Seq2Seq(VOCAB, VOCAB, **options)


def train(model: Seq2Seq, length: int, steps: int, seed: int) -> np.ndarray:
    """``steps`` Adam steps on fresh mini-batches of reversals (teacher forcing); returns the losses."""
    source, decoder_in, target = reversal(BATCH * steps, length, seed)
    loss_fn = nn.CrossEntropyLoss()

    def batch_loss(step: int) -> fk.Tensor:
        batch = slice(step * BATCH, (step + 1) * BATCH)
        return loss_fn(model(source[batch], decoder_in[batch]).reshape(-1, VOCAB), target[batch].reshape(-1))

    return adam_steps(model, batch_loss, steps, LR, CLIP)


def evaluate(model: Seq2Seq, source: fk.Tensor, target: fk.Tensor) -> tuple[np.ndarray, np.ndarray | None]:
    """Greedy decoding of ``source`` (each produced symbol fed back): whether each output symbol is right
    ``(n, length)``, and the attention weights ``(n, length, length)`` (None without attention)."""
    length = source.shape[1]
    if isinstance(model, Seq2SeqAttention):
        tokens, weights = model.greedy_decode(source, length, return_attention=True)
        weights = weights.numpy()
    else:
        tokens, weights = model.greedy_decode(source, length), None
    return tokens.numpy() == target.numpy(), weights


def mirror_mass(weights: np.ndarray) -> float:
    """The mean attention weight that output i puts within one position of source position length − 1 − i, the
    symbol it must produce (1 for attention on the reversal's alignment). Within one position, not exactly on
    it: a bidirectional encoder's state also holds its neighbours' symbols, and the learned alignment may
    shift by one."""
    length = weights.shape[1]
    offset = np.arange(length)[None, :] - (length - 1 - np.arange(length))[:, None]   # (output i, source j)
    return float((weights * (np.abs(offset) <= 1)).sum(axis=2).mean())


def uniform_mirror_mass(length: int) -> float:
    """:func:`mirror_mass` of uniform attention, 1/length on every source position: (3·length − 2) / length²."""
    return (3 * length - 2) / length ** 2


class Seq2SeqAttentionVsLength(Experiment, id="seq2seq-attention",
                               source="seed 001 §9.3, seed 002 ch. 3; Bahdanau et al. 2015, Luong et al. 2015"):
    """Attention keeps an encoder–decoder accurate on long sequences.

    An encoder–decoder compresses the input sequence into the encoder's final state, which starts the decoder;
    this one fixed-size vector loses information as the sequence grows, and attention — a weighted sum of all
    the encoder's states at each output step — repairs it (seed 001 §9.3; seed 002 ch. 3: seq2seq with LSTM
    loses information on long sentences). Measured on reversing random sequences of 8 symbols, lengths 5, 10
    and 20 in the quick run (5 to 40 in the full run), with the same bidirectional-GRU encoder–decoder with
    and without Luong's global attention, the same training steps for both: without attention the held-out
    per-symbol accuracy (greedy decoding) never rises from one length to the next and ends lower at the
    longest than at the shortest (a model that reverses the short sequences perfectly may tie there); with
    attention it stays ≥ 0.9 at every length and is above the model without attention at the longest, where
    its heat-map puts most of the weight (> 0.5) within one position of the mirrored source position, the
    symbol each output copies.
    """

    def measure(self, ctx: Context) -> Measurement:
        config = QUICK if ctx.quick else FULL
        hidden, steps = config["hidden"], config["steps"]
        accuracy = {name: {} for name in MODELS}
        sequences = {name: {} for name in MODELS}
        seconds = {name: {} for name in MODELS}
        losses, mirror, maps, parameters = {}, {}, {}, {}
        for k, length in enumerate(config["lengths"]):
            source, _, target = reversal(TEST, length, ctx.seed + 1000 + k)   # held out: other draws
            for attention, name in zip((False, True), MODELS):
                fk.manual_seed(ctx.seed)
                model = build(attention, hidden)
                parameters[name] = sum(p.numel() for p in model.parameters())
                start = time.perf_counter()
                with blas_threads(1):          # small GEMMs: a second BLAS thread costs more than it gives
                    losses[name, length] = train(model, length, steps, ctx.seed + k)
                    right, weights = evaluate(model, source, target)
                seconds[name][str(length)] = round(time.perf_counter() - start, 1)
                accuracy[name][str(length)] = float(right.mean())
                sequences[name][str(length)] = float(right.all(axis=1).mean())
                if weights is not None:
                    mirror[str(length)] = mirror_mass(weights)
                    maps[length] = (source[0].numpy(), weights[0])
        return Measurement(
            values={"task": f"reverse {SYMBOLS}-symbol sequences; {TEST} held-out sequences per length",
                    "lengths": list(config["lengths"]),
                    "GRU hidden size per encoder direction (decoder 2H), embedding": [hidden, EMBED],
                    "parameters": parameters,
                    "Adam steps, batch": [steps, BATCH],
                    "chance accuracy": CHANCE,
                    "held-out per-symbol accuracy": accuracy,
                    "held-out whole-sequence accuracy": sequences,
                    "attention weight within one position of the mirrored source position (mean)": mirror,
                    "final training loss (mean of the last 20 steps)": {
                        name: {str(length): float(losses[name, length][-20:].mean()) for length in config["lengths"]}
                        for name in MODELS},
                    "seconds (train + decode)": seconds},
            plot_data={"maps": maps})

    def checks(self, m: dict) -> list[Check]:
        accuracy, lengths = m["held-out per-symbol accuracy"], m["lengths"]
        plain, attended = accuracy["without attention"], accuracy["with attention"]
        longest = lengths[-1]
        mirror = m["attention weight within one position of the mirrored source position (mean)"]
        checks = [Check(f"without attention: accuracy at length {b}, vs at length {a}", plain[str(b)], "≤",
                        plain[str(a)])
                  for a, b in zip(lengths, lengths[1:])]
        checks.append(Check(f"without attention: accuracy at length {longest}, vs at length {lengths[0]}",
                            plain[str(longest)], "<", plain[str(lengths[0])]))
        checks += [Check(f"with attention: accuracy at length {n}", attended[str(n)], "≥", HOLDS)
                   for n in lengths]
        checks.append(Check(f"at length {longest}: accuracy with attention, vs without", attended[str(longest)], ">",
                            plain[str(longest)]))
        checks.append(Check(f"with attention at length {longest}: weight within one position of the mirrored one",
                            mirror[str(longest)], ">", ALIGNED))
        return checks

    summary_template = """At length {longest}: accuracy {attended_longest:.3f} with attention, {plain_longest:.3f}
        without. Per-symbol accuracy on held-out reversals (greedy decoding; chance {m[chance accuracy]:.3f}) at
        lengths {lengths}: without attention {plain}, with attention {attended}; whole sequences right: without
        {plain_seq}, with {attended_seq}. Both are the same bidirectional-GRU encoder–decoder (hidden {hidden} per
        direction; {plain_parameters:,} parameters without attention, {attended_parameters:,} with), trained for
        {m[Adam steps, batch][0]} Adam steps of {m[Adam steps, batch][1]} sequences at each length. The decoder
        without attention must rebuild every symbol from the encoder's final state, and the longer the sequence
        the less of it fits; with attention, output i looks up source position length − 1 − i (mean weight
        within one position of it: {mirror}; uniform attention would give {uniform}), so length hardly
        matters."""

    def summary_values(self, m: dict) -> dict:
        lengths = m["lengths"]

        def row(values: dict) -> str:
            return ", ".join(f"{values[str(n)]:.3f}" for n in lengths)

        accuracy, sequences = m["held-out per-symbol accuracy"], m["held-out whole-sequence accuracy"]
        mirror = m["attention weight within one position of the mirrored source position (mean)"]
        longest = lengths[-1]
        return {"longest": longest, "lengths": ", ".join(map(str, lengths)),
                "attended_longest": accuracy["with attention"][str(longest)],
                "plain_longest": accuracy["without attention"][str(longest)],
                "hidden": m["GRU hidden size per encoder direction (decoder 2H), embedding"][0],
                "plain_parameters": m["parameters"]["without attention"],
                "attended_parameters": m["parameters"]["with attention"],
                "plain": row(accuracy["without attention"]), "attended": row(accuracy["with attention"]),
                "plain_seq": row(sequences["without attention"]), "attended_seq": row(sequences["with attention"]),
                "mirror": ", ".join(f"{mirror[str(n)]:.2f} at {n}" for n in lengths),
                "uniform": ", ".join(f"{uniform_mirror_mass(n):.2f}" for n in lengths)}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        values, d = measurement.values, measurement.plot_data
        lengths = values["lengths"]
        shown = (lengths[0], lengths[-1])

        def draw(fig):
            left, right = fig.subfigures(1, 2, width_ratios=[1, 1.6])
            ax = left.subplots()
            for name, style in zip(MODELS, ("--o", "-o")):
                ax.plot(lengths, [values["held-out per-symbol accuracy"][name][str(n)] for n in lengths], style,
                        label=name)
            ax.axhline(CHANCE, color="#999", linewidth=0.8, linestyle=":", label="chance")
            ax.set_xlabel("sequence length")
            ax.set_ylabel("held-out per-symbol accuracy")
            ax.set_ylim(0, 1.02)
            ax.set_xticks(lengths)
            ax.legend(fontsize=8)
            axes = right.subplots(1, len(shown))
            for ax, length in zip(axes, shown):
                source, weights = d["maps"][length]
                ax.imshow(weights, cmap="viridis", vmin=0, vmax=1, aspect="auto")
                ax.set_xticks(range(length))
                ax.set_xticklabels([str(s) for s in source], fontsize=6 if length > 10 else 8)
                ax.set_yticks(range(length))
                ax.set_yticklabels([str(s) for s in source[::-1]], fontsize=6 if length > 10 else 8)
                ax.set_xlabel("source symbol")
                ax.set_title(f"length {length}", fontsize=9)
            axes[0].set_ylabel("output step (the reversed source)")
            right.suptitle("attention weights of one held-out sequence", fontsize=9)

        return save_figure(ctx, self.id, draw, figsize=(12, 4.5))
