"""The parameter count of a Transformer from its configuration: ≈ 110M for BERT-base, ≈ 175B for GPT-3 (seed 000
§6.4), the closed form checked against the modules themselves."""
from __future__ import annotations

from pathlib import Path

from fukaku import nn
from fukaku.models.transformer import (BERT_BASE, GPT, GPT3, BertForPreTraining, GPTConfig, TransformerConfig,
                                       parameter_count)

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

SMALL = ((50, 16, 2, 4), (97, 32, 3, 4), (200, 24, 1, 2))   # (V, d, layers, heads) of the modules counted
PUBLISHED = {"BERT-base": 110e6, "GPT-3": 175e9}
WITHIN = 0.01   # the closed form is within 1 % of the published round numbers


def counted(module: nn.Module) -> int:
    """The distinct parameters of a module (a tied weight once), as ``sum(p.numel() for p in m.parameters())``."""
    return sum(p.numel() for p in module.parameters())


def module_counts(vocab: int, d: int, layers: int, heads: int) -> dict[str, tuple[int, int]]:
    """Name → (counted in the module, closed form) for BERT-mini with its pre-training heads, GPT-mini and an
    ``nn.Transformer`` encoder–decoder of these sizes."""
    positions = 32
    bert = BertForPreTraining(vocab, d_model=d, nhead=heads, num_layers=layers, max_len=positions)
    bert_config = TransformerConfig(vocab, d, layers, max_positions=positions, type_vocab_size=2,
                                    embedding_norm=True, pooler=True, mlm_head=True, nsp_head=True, head_bias=True)
    gpt = GPT(GPTConfig(vocab, context_length=positions, n_layer=layers, n_head=heads, d_model=d))
    gpt_config = TransformerConfig(vocab, d, layers, max_positions=positions, final_norm=True)
    transformer = nn.Transformer(d, heads, layers, layers, 4 * d, batch_first=True)
    transformer_config = TransformerConfig(0, d, layers, num_decoder_layers=layers, final_norm=True)  # no embeddings
    return {"BERT-mini (MLM + NSP heads)": (counted(bert), parameter_count(bert_config)["total"]),
            "GPT-mini (tied head)": (counted(gpt), parameter_count(gpt_config)["total"]),
            "nn.Transformer": (counted(transformer), parameter_count(transformer_config)["total"])}


class ParameterCounts(Experiment, id="transformer-parameter-counts", source="seed 000 §6.4"):
    """BERT-base has ≈ 110M parameters and GPT-3 ≈ 175B.

    The text gives the scale of the two models (seed 000 §6.4: BERT-base 110M, GPT-3 175B). A layer of width d
    with a 4d feed-forward holds 12d² + 13d parameters (attention 4d² + 4d, feed-forward 8d² + 5d, two
    LayerNorms 4d); embeddings, positions, BERT's segments and pooler, and the final LayerNorm come on top, and
    a tied output head adds nothing. The closed form gives BERT-base's configuration (12 layers, d = 768,
    V = 30,522, 512 positions) and GPT-3's (96 layers, d = 12,288, V = 50,257, 2,048 positions) within 1 % of
    the published figures, and equals the count of the modules themselves (BERT-mini with its MLM and NSP
    heads, GPT-mini, nn.Transformer) for small configurations.
    """

    def measure(self, ctx: Context) -> Measurement:
        bert, gpt3 = parameter_count(BERT_BASE), parameter_count(GPT3)
        rows = {f"V = {v}, d = {d}, {layers} layers": module_counts(v, d, layers, heads)
                for v, d, layers, heads in SMALL}
        worst = max(abs(c - f) for row in rows.values() for c, f in row.values())
        return Measurement(values={
            "BERT-base parts": bert, "GPT-3 parts": gpt3,
            "BERT-base total": bert["total"], "GPT-3 total": gpt3["total"],
            "BERT-base / 110M": bert["total"] / PUBLISHED["BERT-base"],
            "GPT-3 / 175B": gpt3["total"] / PUBLISHED["GPT-3"],
            "share of GPT-3 in its layers": gpt3["layers"] / gpt3["total"],
            "share of BERT-base in its embeddings": (bert["token embeddings"] + bert["position embeddings"]
                                                     + bert["segment embeddings"]) / bert["total"],
            "small configurations: (counted, closed form)": {name: {k: list(v) for k, v in row.items()}
                                                            for name, row in rows.items()},
            "largest |counted − closed form|": worst})

    def checks(self, m: dict) -> list[Check]:
        return [Check("BERT-base: |count / 110M − 1|", abs(m["BERT-base / 110M"] - 1), "≤", WITHIN),
                Check("GPT-3: |count / 175B − 1|", abs(m["GPT-3 / 175B"] - 1), "≤", WITHIN),
                Check("modules vs closed form: largest |counted − closed form|",
                      m["largest |counted − closed form|"], "=", 0)]

    summary_template = """BERT-base {m[BERT-base total]:,} (≈ 110M), GPT-3 {m[GPT-3 total]:,} (≈ 175B).
        BERT-base's configuration with its pooler counts {m[BERT-base total]:,} parameters
        ({m[BERT-base / 110M]:.4f} × 110M; {emb:.1%} of them in the embeddings); GPT-3's counts
        {m[GPT-3 total]:,} ({m[GPT-3 / 175B]:.4f} × 175B; {layers:.1%} in its 96 layers). For BERT-mini, GPT-mini
        and nn.Transformer of small sizes the modules hold exactly the closed form's count (largest difference
        {m[largest |counted − closed form|]})."""

    def summary_values(self, m: dict) -> dict:
        return {"emb": m["share of BERT-base in its embeddings"], "layers": m["share of GPT-3 in its layers"]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        m = measurement.values

        def draw(fig):
            axes = fig.subplots(1, 2)
            for ax, name in zip(axes, ("BERT-base", "GPT-3")):
                parts = {k: v for k, v in m[f"{name} parts"].items() if k != "total" and v}
                ax.barh(list(parts), list(parts.values()), color="#46c")
                ax.set_xscale("log")
                ax.set(xlabel="parameters", title=f"{name}: {m[f'{name} total']:,}")
                ax.tick_params(axis="y", labelsize=7)

        return save_figure(ctx, self.id, draw, figsize=(11, 3.5))
