"""T5-style text-to-text: one Transformer encoder–decoder learns three tasks at once, the task named by a prefix
in the input text, and greedy decoding answers each (seed 001 §9.4)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import optim
from fukaku.models.transformer import TASKS, TextToText, synthetic_examples

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ....ops._parallel import blas_threads

QUICK = {"steps": 400, "lengths": (2, 3), "d_model": 32, "lr": 5e-3, "test": 300}
FULL = {"steps": 4000, "lengths": (2, 4), "d_model": 64, "lr": 3e-3, "test": 1000}
BATCH = 64
SOLVED = 0.8    # exact-match accuracy of every task


def train(config: dict, seed: int) -> tuple[TextToText, list[float]]:
    """TextToText (2 pre-LN layers each side) trained by Adam on a stream mixing the three tasks."""
    rng = np.random.default_rng(seed)
    fk.manual_seed(seed)
    model = TextToText(d_model=config["d_model"], nhead=4, num_layers=2, max_len=16)
    adam, losses = optim.Adam(model.parameters(), lr=config["lr"]), []
    schedule = optim.lr_scheduler.CosineAnnealingLR(adam, config["steps"])
    for _ in range(config["steps"]):
        texts, targets = zip(*synthetic_examples(BATCH, rng, lengths=config["lengths"]))
        loss = model.loss(texts, targets)
        adam.zero_grad()
        loss.backward()
        adam.step()
        schedule.step()
        losses.append(float(loss))
    return model, losses


def same_digits_other_task(model: TextToText, digits: list[str]) -> float:
    """The share of digit strings (whose reversal and sorting differ) that get both answers right when only the
    prefix changes: "reverse: 312" → "213" and "sort: 312" → "123"."""
    digits = [d for d in digits if d[::-1] != "".join(sorted(d))]
    answers = model.generate([f"reverse: {d}" for d in digits] + [f"sort: {d}" for d in digits])
    reverse, ordered = answers[:len(digits)], answers[len(digits):]
    return float(np.mean([r == d[::-1] and s == "".join(sorted(d)) for d, r, s in zip(digits, reverse, ordered)]))


class T5TextToText(Experiment, id="t5-text-to-text", source="seed 001 §9.4 (T5); Raffel et al. 2020"):
    """One T5-style model solves three tasks named by a prefix.

    T5 casts every task as text to text: one encoder–decoder reads "task instruction + input" and writes the
    output (seed 001 §9.4). Trained on one stream mixing "reverse: 3141" → "1413", "sort: 3141" → "1134" and
    "add: 27+38" → "65" (digit strings of 2–3 characters in the quick run, 2–4 in the full run), a character-level
    Transformer encoder–decoder answers fresh inputs of every task by greedy decoding at least 80 % exactly, and
    the prefix alone decides the task: the same digits under "reverse:" and "sort:" get both answers right.
    """

    def measure(self, ctx: Context) -> Measurement:
        with blas_threads(1):   # small products: a second BLAS thread only waits (and spins on a busy machine)
            return self._measure(ctx)

    def _measure(self, ctx: Context) -> Measurement:
        config = QUICK if ctx.quick else FULL
        model, losses = train(config, ctx.seed)
        rng = np.random.default_rng(ctx.seed + 10 ** 6)
        test = synthetic_examples(config["test"], rng, lengths=config["lengths"])
        answers = model.generate([text for text, _ in test])
        accuracy = {task: float(np.mean([a == target for (text, target), a in zip(test, answers)
                                         if text.startswith(task + ":")])) for task in TASKS}
        digits = [text.split(": ")[1] for text, _ in test if not text.startswith("add")]
        examples = {text: answer for (text, _), answer in list(zip(test, answers))[:6]}
        return Measurement(values={
            "tasks": list(TASKS), "digit-string lengths": list(config["lengths"]),
            "Adam steps, batch, d_model": [config["steps"], BATCH, config["d_model"]],
            "parameters": sum(p.numel() for p in model.parameters()),
            "exact-match accuracy by task": accuracy,
            "same digits, prefix changed: both answers right": same_digits_other_task(model, digits),
            "loss, first and last 20 steps": [float(np.mean(losses[:20])), float(np.mean(losses[-20:]))],
            "examples (input → greedy answer)": examples},
            plot_data={"losses": losses})

    def checks(self, m: dict) -> list[Check]:
        accuracy = m["exact-match accuracy by task"]
        return [*(Check(f"{task}: exact-match accuracy", accuracy[task], "≥", SOLVED) for task in TASKS),
                Check("the prefix decides the task: same digits, both answers right",
                      m["same digits, prefix changed: both answers right"], "≥", SOLVED)]

    summary_template = """One model: reverse {rev:.1%}, sort {sort:.1%}, add {add:.1%} exactly right.
        A character-level Transformer encoder–decoder ({m[parameters]:,} parameters) trained for {steps} steps on a
        mixed stream of the three tasks answers fresh inputs by greedy decoding; changing only the prefix of the
        same digits from "reverse:" to "sort:" gives both right answers for
        {m[same digits, prefix changed: both answers right]:.1%} of them. The loss fell from {first:.2f} to
        {last:.3f}."""

    def summary_values(self, m: dict) -> dict:
        accuracy = m["exact-match accuracy by task"]
        first, last = m["loss, first and last 20 steps"]
        return {"rev": accuracy["reverse"], "sort": accuracy["sort"], "add": accuracy["add"],
                "steps": m["Adam steps, batch, d_model"][0], "first": first, "last": last}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        losses = np.array(measurement.plot_data["losses"])

        def draw(fig):
            ax = fig.subplots()
            ax.plot(np.arange(1, len(losses) + 1), losses, color="#46c")
            ax.set_yscale("log")
            ax.set(xlabel="Adam step", ylabel="cross-entropy per target character",
                   title="text-to-text: reverse, sort and add in one model")

        return save_figure(ctx, self.id, draw)
