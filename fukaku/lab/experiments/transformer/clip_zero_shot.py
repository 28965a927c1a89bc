"""CLIP-mini: the symmetric InfoNCE loss at initialisation is ≈ 2 log N in the text's form, and after contrastive
training on paired synthetic images and captions the model classifies images zero-shot from class prompts, ahead
of linear CCA on the same pairs (seed 000 §6.5, CLIP and CCA)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import optim
from fukaku.models import MLP
from fukaku.models.transformer import CCA, CLIP, TextEncoder, clip_loss
from fukaku.nn import functional as F

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ....ops._parallel import blas_threads

COLOURS = {"red": (1.0, 0.0, 0.0), "green": (0.0, 1.0, 0.0), "blue": (0.0, 0.0, 1.0), "yellow": (1.0, 1.0, 0.0)}
SHAPE_NAMES = ("circle", "square", "cross", "bar")
WORDS = ("<pad>", "a", "photo", "of", *COLOURS, *SHAPE_NAMES)
CLASSES = [(c, s) for c in COLOURS for s in SHAPE_NAMES]       # 16 classes: a colour and a shape
HELD_OUT = [CLASSES[5 * i] for i in range(4)]                   # never paired in training (red circle, …)
NOISE = 0.5           # pixel noise of the 8×8 RGB images
BATCH = 64            # N, the pairs of a batch
QUICK = {"steps": 300, "seeds": 1, "test": 2000}
FULL = {"steps": 1500, "seeds": 3, "test": 10000}
LR = 3e-3
INIT_BATCHES = 8      # random batches (and initialisations) the loss at initialisation is averaged over
CLOSE_TO_2LOGN = 0.02  # |L / 2 log N − 1| at τ = 1
SPREAD_EXPLAINS = 0.1  # |L − (2 log N + v)| / L at CLIP's τ = 0.07, v the variance of a row of logits
ZERO_SHOT = 0.9        # zero-shot accuracy on the 12 seen combinations among all 16 prompts
UNSEEN = 0.8           # zero-shot accuracy on the held-out combinations among their 4 prompts (chance 0.25)


def shape_masks() -> dict[str, np.ndarray]:
    """The four 8×8 shapes: a disk, a hollow square, a plus, a diagonal bar."""
    y, x = np.mgrid[:8, :8] - 3.5
    return {"circle": x ** 2 + y ** 2 <= 9,
            "square": (np.maximum(abs(x), abs(y)) <= 2.5) & (np.maximum(abs(x), abs(y)) > 1.5),
            "cross": (abs(x) <= 0.5) | (abs(y) <= 0.5),
            "bar": abs(x - y) <= 1}


def prompt(colour: str, shape: str) -> list[int]:
    """The caption and class prompt "a photo of a <colour> <shape>", as token ids."""
    return [WORDS.index(w) for w in ("a", "photo", "of", "a", colour, shape)]


def paired_data(classes: list, n: int, rng: np.random.Generator) -> tuple[fk.Tensor, fk.Tensor, np.ndarray]:
    """``n`` pairs drawn from ``classes``: an 8×8 RGB image of the shape in the colour, shifted by up to a pixel,
    plus noise (flattened to 192 values), and its caption. Returns images, captions and class indices into
    :data:`CLASSES`."""
    masks = shape_masks()
    pick = rng.integers(0, len(classes), n)
    colour = np.array([COLOURS[classes[i][0]] for i in pick])                   # (n, 3)
    mask = np.array([masks[classes[i][1]] for i in pick], dtype=float)          # (n, 8, 8)
    shifts = rng.integers(-1, 2, (n, 2))
    rows = (np.arange(8)[None, :] - shifts[:, :1]) % 8
    cols = (np.arange(8)[None, :] - shifts[:, 1:]) % 8
    mask = mask[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
    images = colour[:, :, None, None] * mask[:, None] + NOISE * rng.standard_normal((n, 3, 8, 8))
    captions = np.array([prompt(*classes[i]) for i in pick])
    labels = np.array([CLASSES.index(classes[i]) for i in pick])
    return fk.tensor(images.reshape(n, -1), dtype=fk.float32), fk.tensor(captions), labels


def bag_of_words(captions: fk.Tensor) -> fk.Tensor:
    """Word counts of the colour and shape words (the linear view of a caption that CCA takes)."""
    ids = captions.numpy()
    return fk.tensor(np.stack([np.bincount(row, minlength=len(WORDS))[4:] for row in ids]).astype(float))


def make_clip() -> CLIP:
    """An MLP image encoder (192 → 128 → 64) and a bag-of-embeddings text encoder (64), joined in 32 dimensions."""
    return CLIP(MLP([192, 128, 64]), TextEncoder(len(WORDS), 64), 64, 64, 32)


def loss_at_initialisation(seed: int) -> dict[str, float]:
    """The symmetric InfoNCE at initialisation, the text's form (sum), over random batches of N = 64 pairs, at
    CLIP's τ = 0.07 and at τ = 1, with v the mean variance of a row (and column) of logits at τ = 0.07."""
    rng, out = np.random.default_rng(seed), {"τ = 0.07": [], "τ = 1": [], "v": []}
    for b in range(INIT_BATCHES):
        fk.manual_seed(seed + b)
        model = make_clip()
        images, captions, _ = paired_data(CLASSES, BATCH, rng)
        with fk.no_grad():
            logits, _ = model(images, captions)
            out["τ = 0.07"].append(float(clip_loss(logits, "sum")))
            out["v"].append(float((logits.var(1).mean() + logits.var(0).mean()) / 2))
            model.logit_scale.fill_(0.0)
            out["τ = 1"].append(float(clip_loss(model(images, captions)[0], "sum")))
    return {k: float(np.mean(v)) for k, v in out.items()}


def train_clip(steps: int, seed: int) -> tuple[CLIP, list[float]]:
    """CLIP-mini trained by Adam on batches of pairs from the 12 classes that are not held out."""
    fk.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model, seen = make_clip(), [c for c in CLASSES if c not in HELD_OUT]
    adam, losses = optim.Adam(model.parameters(), lr=LR), []
    for _ in range(steps):
        images, captions, _ = paired_data(seen, BATCH, rng)
        loss = clip_loss(model(images, captions)[0])
        adam.zero_grad()
        loss.backward()
        adam.step()
        losses.append(float(loss))
    return model, losses


def accuracies(scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Zero-shot accuracies from image-by-prompt scores (n, 16): over all classes, on the classes seen in training,
    on the held-out ones, and on the held-out ones choosing among their 4 prompts only."""
    held = [CLASSES.index(c) for c in HELD_OUT]
    unseen = np.isin(labels, held)
    right = scores.argmax(1) == labels
    among_held = np.array(held)[scores[:, held].argmax(1)] == labels
    return {"all 16 classes": float(right.mean()), "seen combinations": float(right[~unseen].mean()),
            "held-out combinations (16 prompts)": float(right[unseen].mean()),
            "held-out combinations (their 4 prompts)": float(among_held[unseen].mean())}


def cca_scores(seed: int, test_images: fk.Tensor, prompts: fk.Tensor) -> tuple[np.ndarray, list[float]]:
    """Linear CCA between the images and the captions' word counts, fitted on pairs of the seen classes; the
    score of an image and a prompt is the cosine of their canonical variates."""
    images, captions, _ = paired_data([c for c in CLASSES if c not in HELD_OUT], 4000, np.random.default_rng(seed))
    cca = CCA(n_components=len(WORDS) - 4 - 2, regularization=1e-3).fit(images.double(), bag_of_words(captions))
    u = F.normalize(cca.transform(test_images.double()), dim=1)
    v = F.normalize(cca.transform(images[:len(prompts)].double(), bag_of_words(prompts))[1], dim=1)
    return (u @ v.mT).numpy(), cca.correlations_.tolist()


class CLIPZeroShot(Experiment, id="clip-zero-shot", source="seed 000 §6.5 (CLIP and CCA), erratum C6"):
    """CLIP's loss starts at ≈ 2 log N and training gives zero-shot classification.

    CLIP trains an image and a text encoder so that the cosine similarity s_ij / τ picks the true pair of a
    batch of N in both directions (symmetric InfoNCE, seed 000 §6.5). Written as the text does, the sum of
    the two cross-entropies, the loss at random initialisation is ≈ 2 log N, since every pair is about as
    similar as every other (CLIP itself averages the two, ≈ log N: erratum C6). After training on synthetic
    8×8 images of 4 shapes in 4 colours paired with captions ("a photo of a red circle"; 4 of the 16
    combinations never shown), the model classifies images zero-shot by the most similar of the 16 class
    prompts: at least 90 % right on the 12 combinations seen in pairs, at least 80 % on the held-out
    combinations among their four prompts, and ahead of linear CCA (the text's "CLIP as extended CCA") fitted
    on the same pairs. (A batch holds several pairs of the same class, so the trained loss stays above 0.)
    """

    def measure(self, ctx: Context) -> Measurement:
        with blas_threads(1):   # small products: a second BLAS thread only waits (and spins on a busy machine)
            return self._measure(ctx)

    def _measure(self, ctx: Context) -> Measurement:
        config = QUICK if ctx.quick else FULL
        n, log_n = BATCH, math.log(BATCH)
        init = loss_at_initialisation(ctx.seed)
        prompts = fk.tensor(np.array([prompt(*c) for c in CLASSES]))
        clip_runs, cca_runs, curves, temperatures = [], [], [], []
        for s in range(config["seeds"]):
            model, losses = train_clip(config["steps"], ctx.seed + s)
            images, _, labels = paired_data(CLASSES, config["test"], np.random.default_rng(ctx.seed + 10 ** 6 + s))
            with fk.no_grad():
                scores = (model.encode_image(images) @ model.encode_text(prompts).mT).numpy()
            clip_runs.append(accuracies(scores, labels))
            cca, correlations = cca_scores(ctx.seed + s, images, prompts)
            cca_runs.append(accuracies(cca, labels))
            curves.append(losses)
            temperatures.append(float(1 / model.scale()))
        mean = lambda runs: {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}  # noqa: E731
        return Measurement(values={
            "batch N": n, "2 log N": 2 * log_n, "log N": log_n,
            "loss at initialisation, text's form (sum), τ = 1": init["τ = 1"],
            "loss at initialisation, text's form (sum), τ = 0.07": init["τ = 0.07"],
            "CLIP's form (½ of the sum) at initialisation, τ = 0.07": init["τ = 0.07"] / 2,
            "variance v of a row of logits at initialisation, τ = 0.07": init["v"],
            "2 log N + v": 2 * log_n + init["v"],
            "training: Adam steps, seeds, test images": [config["steps"], config["seeds"], config["test"]],
            "CLIP's loss (½ of the sum) over the last 50 steps": float(np.mean([c[-50:] for c in curves])),
            "learned temperature τ": float(np.mean(temperatures)),
            "CLIP zero-shot accuracy": mean(clip_runs), "CCA accuracy": mean(cca_runs),
            "CCA canonical correlations (last seed)": [round(c, 4) for c in correlations],
            "chance": {"16 classes": 1 / 16, "4 prompts": 1 / 4}},
            plot_data={"curves": curves})

    def checks(self, m: dict) -> list[Check]:
        two_log_n = m["2 log N"]
        sum_07 = m["loss at initialisation, text's form (sum), τ = 0.07"]
        clip, cca = m["CLIP zero-shot accuracy"], m["CCA accuracy"]
        return [Check("loss at initialisation (τ = 1): |L / 2 log N − 1|",
                      abs(m["loss at initialisation, text's form (sum), τ = 1"] / two_log_n - 1), "≤",
                      CLOSE_TO_2LOGN),
                Check("at CLIP's τ = 0.07: |L − (2 log N + v)| / L, the spread of the logits explains the excess",
                      abs(sum_07 - m["2 log N + v"]) / sum_07, "≤", SPREAD_EXPLAINS),
                Check("trained: CLIP's loss, last 50 steps, vs ½ log N (at initialisation: ≈ log N)",
                      m["CLIP's loss (½ of the sum) over the last 50 steps"], "<", m["log N"] / 2),
                Check("zero-shot accuracy, seen combinations among the 16 prompts", clip["seen combinations"], "≥",
                      ZERO_SHOT),
                Check("zero-shot accuracy, held-out combinations among their 4 prompts",
                      clip["held-out combinations (their 4 prompts)"], "≥", UNSEEN),
                Check("CLIP vs linear CCA, accuracy on the seen combinations", clip["seen combinations"], ">",
                      cca["seen combinations"])]

    summary_template = """Initial loss {init1:.3f} ≈ 2 log N = {m[2 log N]:.3f}; zero-shot {seen:.1%} (CCA {cca:.1%}).
        The symmetric InfoNCE in the text's form (two cross-entropies added) is {init1:.3f} at initialisation with
        τ = 1 for N = {m[batch N]}, against 2 log N = {m[2 log N]:.3f}; at CLIP's initial τ = 0.07 the logits
        spread (variance {v:.2f}) and it is {init07:.3f} ≈ 2 log N + v = {m[2 log N + v]:.3f}; CLIP's own form
        (½, erratum C6) is half of these, ≈ log N. After {steps} Adam steps the loss is {final:.3f} and
        τ = {tau:.4f};
        the zero-shot accuracy among the 16 class prompts is {seen:.1%} on the 12 combinations seen in pairs
        (chance 6.2 %; {zs:.1%} over all 16 classes), {held:.1%} on the 4 held-out combinations among their
        prompts (chance 25 %), against linear CCA's {cca:.1%} and {cca_held:.1%}."""

    def summary_values(self, m: dict) -> dict:
        clip, cca = m["CLIP zero-shot accuracy"], m["CCA accuracy"]
        return {"init1": m["loss at initialisation, text's form (sum), τ = 1"],
                "init07": m["loss at initialisation, text's form (sum), τ = 0.07"],
                "v": m["variance v of a row of logits at initialisation, τ = 0.07"],
                "steps": m["training: Adam steps, seeds, test images"][0],
                "final": m["CLIP's loss (½ of the sum) over the last 50 steps"], "tau": m["learned temperature τ"],
                "zs": clip["all 16 classes"], "held": clip["held-out combinations (their 4 prompts)"],
                "seen": clip["seen combinations"], "cca": cca["seen combinations"],
                "cca_held": cca["held-out combinations (their 4 prompts)"]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        m, curves = measurement.values, measurement.plot_data["curves"]

        def draw(fig):
            left, right = fig.subplots(1, 2)
            for curve in curves:
                left.plot(np.arange(1, len(curve) + 1), curve, color="#46c", alpha=0.7)
            left.axhline(m["log N"], color="#999", ls="--", label="log N (CLIP's ½ form at τ = 1)")
            left.set(xlabel="Adam step", ylabel="½(L_i→t + L_t→i)", title="CLIP-mini training")
            left.legend(fontsize=8)
            names = list(m["CLIP zero-shot accuracy"])
            index = np.arange(len(names))
            right.bar(index - 0.2, [m["CLIP zero-shot accuracy"][k] for k in names], 0.4, label="CLIP", color="#46c")
            right.bar(index + 0.2, [m["CCA accuracy"][k] for k in names], 0.4, label="linear CCA", color="#d64")
            right.set_xticks(index, [k.replace(" (", "\n(") for k in names], fontsize=7)
            right.set(ylabel="zero-shot accuracy", ylim=(0, 1), title="classification by class prompts")
            right.legend(fontsize=8)

        return save_figure(ctx, self.id, draw, figsize=(11, 4))
