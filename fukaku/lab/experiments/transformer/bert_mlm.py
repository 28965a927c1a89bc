"""BERT-mini learns masked-token prediction from context: after MLM pre-training (15 % chosen, 80/10/10, the loss
on the chosen positions only) it fills in masked words of a small synthetic language far better than the
frequency baseline (seed 000 §6.4, seed 001 §9.4)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import optim
from fukaku.models.transformer import BertForPreTraining, mask_tokens

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ....ops._parallel import blas_threads

SPECIALS = ("[PAD]", "[CLS]", "[SEP]", "[MASK]")
PAD, CLS, SEP, MASK = range(4)
NOUNS = {"singular": ("cat", "dog", "bird", "child"), "plural": ("cats", "dogs", "birds", "children")}
VERBS = {"eat": ("apples", "bread", "fish"), "read": ("books", "letters", "poems"), "see": ("trees", "stars", "boats")}
ADJECTIVES = ("small", "big", "old", "young")
WORDS = (*SPECIALS, "the", *ADJECTIVES, *NOUNS["singular"], *NOUNS["plural"],
         *VERBS, *(v + "s" for v in VERBS), *(o for objects in VERBS.values() for o in objects), ".")
LENGTH = 9            # [CLS] the adj noun verb the object . [SEP]
QUICK = {"steps": 300, "sentences": 20000, "d_model": 32, "layers": 2}
FULL = {"steps": 2000, "sentences": 20000, "d_model": 64, "layers": 4}
BATCH, LR = 64, 3e-3
BETTER = 2.0          # BERT's masked-token accuracy is at least this many times the frequency baseline's


def sentences(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` sentences "[CLS] the <adjective> <noun> <verb> the <object> . [SEP]" as ids (n, 9): the verb agrees
    in number with the noun (eats / eat), and the object belongs to the verb (eat → apples, bread, fish)."""
    index = {w: i for i, w in enumerate(WORDS)}
    number = rng.integers(0, 2, n)
    noun = rng.integers(0, 4, n)
    verb = rng.integers(0, len(VERBS), n)
    obj = rng.integers(0, 3, n)
    adjective = rng.integers(0, len(ADJECTIVES), n)
    verbs = list(VERBS)
    rows = [[CLS, index["the"], index[ADJECTIVES[a]],
             index[NOUNS["plural" if p else "singular"][k]],
             index[verbs[v] if p else verbs[v] + "s"], index["the"], index[VERBS[verbs[v]][o]], index["."], SEP]
            for p, k, v, o, a in zip(number, noun, verb, obj, adjective)]
    return np.array(rows, dtype=np.int64)


def context_bound(labels: np.ndarray) -> float:
    """The best accuracy any predictor can reach on these masked positions if it knew every other token: 1 where
    the rest of the sentence fixes the token ("the", ".", the verb's number and meaning from the noun and object),
    else the chance of guessing among what the grammar allows (an adjective 1/4, a noun 1/4, an object 1/3).
    (With several masks in one sentence it is lower still; this is the upper bound for a single mask.)"""
    chosen = labels != -100
    position = np.broadcast_to(np.arange(LENGTH), labels.shape)[chosen]
    odds = {2: 1 / len(ADJECTIVES), 3: 1 / 4, 6: 1 / 3}
    return float(np.mean([odds.get(int(p), 1.0) for p in position]))


class BertMLM(Experiment, id="bert-mlm", source="seed 000 §6.4, seed 001 §9.4"):
    """BERT-mini predicts masked tokens from their context.

    BERT is pre-trained by masking tokens and predicting them from both sides: the loss is
    −Σ_{masked} log P(x_i | x_\\i), on the masked positions only (seed 000 §6.4). On a synthetic language
    ("the small cat eats the fish ."; the verb agrees with the noun, the object belongs to the verb) a 2-layer
    BERT-mini trained with 15 % of the tokens chosen (80 % [MASK], 10 % a random token, 10 % unchanged)
    predicts the masked tokens of fresh sentences at least twice as accurately as the frequency baseline, which
    always answers the most frequent token, and not above the bound the grammar sets.
    """

    def measure(self, ctx: Context) -> Measurement:
        with blas_threads(1):   # small products: a second BLAS thread only waits (and spins on a busy machine)
            return self._measure(ctx)

    def _measure(self, ctx: Context) -> Measurement:
        config = QUICK if ctx.quick else FULL
        rng = np.random.default_rng(ctx.seed)
        corpus = sentences(config["sentences"], rng)
        fk.manual_seed(ctx.seed)
        model = BertForPreTraining(len(WORDS), d_model=config["d_model"], nhead=4, num_layers=config["layers"],
                                   max_len=LENGTH, dropout=0.0)
        adam = optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
        generator = fk.Generator().manual_seed(ctx.seed)
        losses, shares = [], []
        for _ in range(config["steps"]):
            batch = fk.tensor(corpus[rng.integers(0, len(corpus), BATCH)])
            inputs, labels = mask_tokens(batch, len(WORDS), MASK, special_ids=(PAD, CLS, SEP), generator=generator)
            shares.append(float((labels != -100).to(fk.float64).mean()))
            loss = BertForPreTraining.loss(model(inputs)[0], labels)
            adam.zero_grad()
            loss.backward()
            adam.step()
            losses.append(float(loss))
        test = fk.tensor(sentences(2000, np.random.default_rng(ctx.seed + 10 ** 6)))
        inputs, labels = mask_tokens(test, len(WORDS), MASK, special_ids=(PAD, CLS, SEP), generator=generator)
        with fk.no_grad():
            predicted = model(inputs)[0].argmax(-1).numpy()
        y, x = labels.numpy(), inputs.numpy()
        chosen = (y != -100) & (x == MASK)             # the positions that read [MASK]: the token is hidden
        counts = np.bincount(corpus[:, 1:-1].ravel(), minlength=len(WORDS))   # the training tokens, specials out
        baseline = float((y[chosen] == counts.argmax()).mean())
        accuracy = float((predicted[chosen] == y[chosen]).mean())
        every = y != -100
        return Measurement(values={
            "vocabulary, sentence length": [len(WORDS), LENGTH],
            "training: sentences, Adam steps, batch, d_model, layers": [config["sentences"], config["steps"], BATCH,
                                                                       config["d_model"], config["layers"]],
            "share of tokens chosen for the loss (incl. specials, never chosen)": float(np.mean(shares)),
            "share chosen among maskable tokens": float(np.mean(shares)) * LENGTH / (LENGTH - 2),
            "masked positions tested": int(chosen.sum()),
            "MLM accuracy on the [MASK] positions": accuracy,
            "MLM accuracy on every chosen position (10 % of them left unchanged)":
                float((predicted[every] == y[every]).mean()),
            "frequency baseline accuracy (always the most frequent token)": baseline,
            "most frequent token": WORDS[int(counts.argmax())],
            "bound set by the grammar (single mask)": context_bound(np.where(chosen, y, -100)),
            "MLM loss, first and last 20 steps": [float(np.mean(losses[:20])), float(np.mean(losses[-20:]))]},
            plot_data={"losses": losses})

    def checks(self, m: dict) -> list[Check]:
        accuracy = m["MLM accuracy on the [MASK] positions"]
        baseline = m["frequency baseline accuracy (always the most frequent token)"]
        return [Check("about 15 % of the maskable tokens chosen", abs(m["share chosen among maskable tokens"] - 0.15),
                      "≤", 0.01),
                Check("MLM accuracy / frequency baseline", accuracy / baseline, "≥", BETTER),
                Check("MLM accuracy vs the grammar's bound", accuracy, "≤",
                      m["bound set by the grammar (single mask)"] + 0.02)]

    summary_template = """BERT-mini fills in {acc:.1%} of masked tokens; the frequency baseline {base:.1%}.
        After {steps} AdamW steps of masked-language-model training ({share:.1%} of the maskable tokens chosen,
        80/10/10), BERT-mini predicts {acc:.1%} of the {m[masked positions tested]} masked tokens of fresh
        sentences, against {base:.1%} for always answering "{m[most frequent token]}" and a bound of
        {m[bound set by the grammar (single mask)]:.1%} that the grammar leaves (adjectives, nouns and objects are
        free choices). The MLM loss fell from {first:.2f} to {last:.2f}."""

    def summary_values(self, m: dict) -> dict:
        first, last = m["MLM loss, first and last 20 steps"]
        return {"acc": m["MLM accuracy on the [MASK] positions"],
                "base": m["frequency baseline accuracy (always the most frequent token)"],
                "steps": m["training: sentences, Adam steps, batch, d_model, layers"][1],
                "share": m["share chosen among maskable tokens"], "first": first, "last": last}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        losses = np.array(measurement.plot_data["losses"])

        def draw(fig):
            ax = fig.subplots()
            ax.plot(np.arange(1, len(losses) + 1), losses, color="#46c", alpha=0.4)
            window = min(20, len(losses))
            ax.plot(np.arange(window, len(losses) + 1), np.convolve(losses, np.ones(window) / window, "valid"),
                    color="#46c", label=f"moving average of {window}")
            ax.set(xlabel="AdamW step", ylabel="MLM loss (masked positions only)", title="BERT-mini pre-training")
            ax.legend(fontsize=8)

        return save_figure(ctx, self.id, draw)
