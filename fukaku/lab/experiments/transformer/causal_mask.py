"""The causal mask makes a decoder autoregressive: output t depends on tokens 1…t only, so changing future tokens
leaves earlier outputs unchanged (seed 000 §6.3, its fourth check; seed 001 §9.4, masked self-attention)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import nn

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

BATCH, LENGTH, D_MODEL, HEADS, LAYERS = 4, 16, 32, 4, 3
CUTS = (0, 5, 10, 14)  # tokens after position t are replaced, for each t here
EXACT = 1e-12


def decoder_stack() -> nn.Module:
    """A decoder-only (GPT-style) stack: pre-LN encoder layers used with the causal mask, float64, no dropout."""
    layer = nn.TransformerEncoderLayer(D_MODEL, HEADS, 4 * D_MODEL, dropout=0.0, batch_first=True, norm_first=True)
    return nn.TransformerEncoder(layer, LAYERS, nn.LayerNorm(D_MODEL), enable_nested_tensor=False).double().eval()


class CausalMask(Experiment, id="causal-mask-hides-future", source="seed 000 §6.3, seed 001 §9.4"):
    """With the causal mask, changing future tokens leaves earlier outputs unchanged.

    Masked self-attention lets position t attend to positions ≤ t only (−∞ logits above the diagonal, weight 0
    after the softmax), and everything else in a Transformer layer acts position by position, so in a stack of
    such layers output t is a function of tokens 1…t. Replacing every token after t leaves outputs 1…t exactly
    unchanged (float64: ≤ 1e-12) and the gradient of output t with respect to any later token is 0, while the
    later outputs do change. Without the mask, the same replacement changes the earlier outputs too.
    """

    def measure(self, ctx: Context) -> Measurement:
        fk.manual_seed(ctx.seed)
        rng = ctx.rng()
        stack = decoder_stack()
        mask = nn.Transformer.generate_square_subsequent_mask(LENGTH, dtype=fk.float64)
        x = rng.standard_normal((BATCH, LENGTH, D_MODEL))
        earlier, later, unmasked = {}, {}, {}
        with fk.no_grad():
            out = stack(fk.tensor(x), mask=mask).numpy()
            free = stack(fk.tensor(x)).numpy()
            for t in CUTS:
                y = x.copy()
                y[:, t + 1:] = rng.standard_normal((BATCH, LENGTH - t - 1, D_MODEL))
                out_y = stack(fk.tensor(y), mask=mask).numpy()
                earlier[t] = float(np.abs(out_y[:, :t + 1] - out[:, :t + 1]).max())
                later[t] = float(np.abs(out_y[:, t + 1:] - out[:, t + 1:]).max())
                unmasked[t] = float(np.abs(stack(fk.tensor(y)).numpy()[:, :t + 1] - free[:, :t + 1]).max())
        # ‖∂ (w · output t) / ∂ token s‖ for the first sample and a fixed random w (the plain sum of a LayerNorm's
        # output is constant, its gradient 0)
        influence = np.zeros((LENGTH, LENGTH))
        w = fk.tensor(rng.standard_normal(D_MODEL))
        xt = fk.tensor(x[:1], requires_grad=True)
        outputs = stack(xt, mask=mask)
        for t in range(LENGTH):
            (g,) = fk.autograd.grad((outputs[0, t] * w).sum(), xt, retain_graph=True)
            influence[t] = np.linalg.norm(g.numpy()[0], axis=-1)
        future = influence[np.triu_indices(LENGTH, 1)]
        return Measurement(values={
            "max |Δ output ≤ t| when tokens > t change, by t": earlier,
            "max |Δ output > t|, by t": later,
            "without the mask: max |Δ output ≤ t|, by t": unmasked,
            "largest ‖∂ output t / ∂ token s‖ with s > t": float(future.max()),
            "smallest ‖∂ output t / ∂ token t‖": float(np.diag(influence).min())},
            plot_data={"influence": influence})

    def checks(self, m: dict) -> list[Check]:
        return [Check("max |Δ earlier outputs| over the cuts", max(m["max |Δ output ≤ t| when tokens > t change, by t"]
                                                                   .values()), "≤", EXACT),
                Check("largest ‖∂ output t / ∂ later token‖", m["largest ‖∂ output t / ∂ token s‖ with s > t"], "≤",
                      EXACT),
                Check("the later outputs do change: smallest max |Δ output > t|",
                      min(m["max |Δ output > t|, by t"].values()), ">", 1e-3),
                Check("without the mask the earlier outputs change: smallest max |Δ|",
                      min(m["without the mask: max |Δ output ≤ t|, by t"].values()), ">", 1e-3)]

    summary_template = """Future tokens changed, earlier outputs moved by ≤ {earlier:.1e}; ∂out_t/∂x_(s>t) = {grad:.0e}.
        In a {layers}-layer pre-LN stack with the causal mask, replacing the tokens after t = {cuts} leaves
        outputs 1…t unchanged to float64 rounding while the later outputs change by up to {later:.2f}; the
        gradient of each output with respect to any later token is {grad:.0e} (to its own token at least
        {m[smallest ‖∂ output t / ∂ token t‖]:.2f}). Without the mask the same change moves the earlier outputs by
        at least {free:.2f}."""

    def summary_values(self, m: dict) -> dict:
        return {"earlier": max(m["max |Δ output ≤ t| when tokens > t change, by t"].values()),
                "grad": m["largest ‖∂ output t / ∂ token s‖ with s > t"], "layers": LAYERS,
                "cuts": ", ".join(map(str, CUTS)), "later": max(m["max |Δ output > t|, by t"].values()),
                "free": min(m["without the mask: max |Δ output ≤ t|, by t"].values())}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        influence = measurement.plot_data["influence"]

        def draw(fig):
            ax = fig.subplots()
            image = ax.imshow(influence, cmap="magma")
            ax.set(xlabel="token s", ylabel="output t", title="‖∂ output t / ∂ token s‖ with the causal mask")
            fig.colorbar(image, ax=ax)
        return save_figure(ctx, self.id, draw, figsize=(5, 4.2))
