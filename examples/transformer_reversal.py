"""Sequence to sequence with nn.Transformer, the way PyTorch's translation tutorial writes it: token and
positional embeddings, padding masks (src_key_padding_mask, tgt_key_padding_mask, memory_key_padding_mask),
a causal target mask from nn.Transformer.generate_square_subsequent_mask, teacher forcing with a shifted target,
cross-entropy that ignores padding, and greedy decoding with model.encode / model.decode. The "translation" is
reversal of digit strings of varying length. A PyTorch program: `python transformer_reversal.py` on PyTorch,
or `fukaku run transformer_reversal.py` on fukaku.
"""
import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

PAD, BOS, EOS = 0, 1, 2
DIGITS = 10  # tokens 3 .. 12 are the digits 0 .. 9
VOCAB = 3 + DIGITS


def make_pairs(count: int, generator, min_len: int = 2, max_len: int = 6):
    """Random digit strings and their reversals, padded: src (count, max_len), tgt (count, max_len + 2)."""
    lengths = torch.randint(min_len, max_len + 1, (count,), generator=generator)
    src = torch.full((count, max_len), PAD, dtype=torch.long)
    tgt = torch.full((count, max_len + 2), PAD, dtype=torch.long)
    for row, n in enumerate(lengths.tolist()):
        digits = torch.randint(3, VOCAB, (n,), generator=generator)
        src[row, :n] = digits
        tgt[row, 0] = BOS
        tgt[row, 1:n + 1] = digits.flip(0)
        tgt[row, n + 1] = EOS
    return src, tgt


class PositionalEncoding(nn.Module):
    def __init__(self, d_model: int, max_len: int = 64):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(1, max_len, d_model)
        pe[0, :, 0::2] = torch.sin(position * div_term)
        pe[0, :, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):  # (batch, seq, d_model)
        return x + self.pe[:, :x.size(1)]


class Seq2SeqTransformer(nn.Module):
    def __init__(self, d_model: int = 64, nhead: int = 4, layers: int = 2, d_ff: int = 128):
        super().__init__()
        self.transformer = nn.Transformer(d_model=d_model, nhead=nhead, num_encoder_layers=layers,
                                          num_decoder_layers=layers, dim_feedforward=d_ff, dropout=0.0,
                                          batch_first=True)
        self.embed = nn.Embedding(VOCAB, d_model)
        self.position = PositionalEncoding(d_model)
        self.generator = nn.Linear(d_model, VOCAB)
        self.scale = math.sqrt(d_model)

    def embed_tokens(self, tokens):
        return self.position(self.embed(tokens) * self.scale)

    def forward(self, src, tgt_in):
        tgt_mask = nn.Transformer.generate_square_subsequent_mask(tgt_in.size(1)).bool()  # True: masked
        out = self.transformer(self.embed_tokens(src), self.embed_tokens(tgt_in), tgt_mask=tgt_mask,
                               src_key_padding_mask=src == PAD, tgt_key_padding_mask=tgt_in == PAD,
                               memory_key_padding_mask=src == PAD)
        return self.generator(out)

    @torch.no_grad()
    def greedy(self, src, max_len: int):
        memory = self.transformer.encoder(self.embed_tokens(src), src_key_padding_mask=src == PAD)
        ys = torch.full((src.size(0), 1), BOS, dtype=torch.long)
        for _ in range(max_len):
            mask = nn.Transformer.generate_square_subsequent_mask(ys.size(1)).bool()
            out = self.transformer.decoder(self.embed_tokens(ys), memory, tgt_mask=mask,
                                           memory_key_padding_mask=src == PAD)
            ys = torch.cat([ys, self.generator(out[:, -1]).argmax(-1, keepdim=True)], dim=1)
        return ys


def exact_match(model, src, tgt) -> float:
    """Share of sequences whose greedy decoding equals the reversed string up to and including EOS."""
    ys = model.greedy(src, tgt.size(1) - 1)
    right = ((ys == tgt) | (tgt == PAD)).all(dim=1)
    return right.float().mean().item()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=600)
    args = parser.parse_args()
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    test_src, test_tgt = make_pairs(200, generator)

    model = Seq2SeqTransformer()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    for step in range(1, args.steps + 1):
        src, tgt = make_pairs(64, generator)
        logits = model(src, tgt[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), tgt[:, 1:].reshape(-1), ignore_index=PAD)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 100 == 0:
            print(f"step {step}: loss {loss.item():.4f}")
    model.eval()
    print(f"final accuracy {100 * exact_match(model, test_src, test_tgt):.1f}")
    print(f"final loss {loss.item():.4f}")


if __name__ == "__main__":
    main()
