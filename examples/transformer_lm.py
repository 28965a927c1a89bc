"""A character language model with nn.TransformerEncoder, written the way PyTorch's tutorials write it: a
PositionalEncoding module with a sinusoid buffer, a causal mask from
nn.Transformer.generate_square_subsequent_mask, batches cut from one long token stream, Adam with gradient
clipping, a validation loss, then greedy generation from a prompt. A PyTorch program: `python
transformer_lm.py` on PyTorch, or `fukaku run transformer_lm.py` on fukaku.

The text is made here (counting in words: "one two three ... one two three four ..."), so the model has
something regular to learn in a few seconds on a CPU.
"""
import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

WORDS = "zero one two three four five six seven eight nine".split()


def counting_text(lines: int) -> str:
    """Line k counts from zero up to k mod 10, in words: a regular text a small model learns quickly."""
    return "".join(" ".join(WORDS[:k % 10 + 1]) + ".\n" for k in range(lines))


class PositionalEncoding(nn.Module):
    """The sinusoids of Vaswani et al. (2017), added to the embeddings, with dropout."""

    def __init__(self, d_model: int, dropout: float = 0.1, max_len: int = 512):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):  # x: (seq_len, batch, d_model)
        return self.dropout(x + self.pe[:x.size(0)])


class TransformerModel(nn.Module):
    def __init__(self, ntoken: int, d_model: int, nhead: int, d_hid: int, nlayers: int, dropout: float = 0.1):
        super().__init__()
        self.pos_encoder = PositionalEncoding(d_model, dropout)
        layer = nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout)
        self.transformer_encoder = nn.TransformerEncoder(layer, nlayers, enable_nested_tensor=False)
        self.embedding = nn.Embedding(ntoken, d_model)
        self.d_model = d_model
        self.linear = nn.Linear(d_model, ntoken)
        self.init_weights()

    def init_weights(self):
        initrange = 0.1
        self.embedding.weight.data.uniform_(-initrange, initrange)
        self.linear.bias.data.zero_()
        self.linear.weight.data.uniform_(-initrange, initrange)

    def forward(self, src, src_mask=None):  # src: (seq_len, batch) -> (seq_len, batch, ntoken)
        src = self.embedding(src) * math.sqrt(self.d_model)
        src = self.pos_encoder(src)
        if src_mask is None:
            src_mask = nn.Transformer.generate_square_subsequent_mask(len(src))
        output = self.transformer_encoder(src, src_mask, is_causal=True)
        return self.linear(output)


def batchify(data, bsz: int):
    """The token stream as bsz columns: (len // bsz, bsz)."""
    seq_len = data.size(0) // bsz
    return data[:seq_len * bsz].view(bsz, seq_len).t().contiguous()


def get_batch(source, i: int, bptt: int):
    seq_len = min(bptt, len(source) - 1 - i)
    return source[i:i + seq_len], source[i + 1:i + 1 + seq_len].reshape(-1)


def evaluate(model, data, bptt: int, ntokens: int) -> float:
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, data.size(0) - 1, bptt):
            inputs, targets = get_batch(data, i, bptt)
            output = model(inputs)
            total += len(inputs) * F.cross_entropy(output.view(-1, ntokens), targets).item()
    return total / (len(data) - 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--bptt", type=int, default=32)
    args = parser.parse_args()
    torch.manual_seed(0)

    text = counting_text(400)
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    split = int(0.9 * len(ids))
    train_data, val_data = batchify(ids[:split], 16), batchify(ids[split:], 4)

    ntokens = len(chars)
    model = TransformerModel(ntokens, d_model=64, nhead=4, d_hid=128, nlayers=2, dropout=0.1)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1, gamma=0.7)
    for epoch in range(1, args.epochs + 1):
        model.train()
        for i in range(0, train_data.size(0) - 1, args.bptt):
            inputs, targets = get_batch(train_data, i, args.bptt)
            output = model(inputs)
            loss = F.cross_entropy(output.view(-1, ntokens), targets)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            optimizer.step()
        scheduler.step()
        val = evaluate(model, val_data, args.bptt, ntokens)
        print(f"epoch {epoch}: validation loss {val:.3f} (perplexity {math.exp(val):.2f})")

    model.eval()
    prompt = torch.tensor([stoi[c] for c in "zero one two"], dtype=torch.long).unsqueeze(1)
    with torch.no_grad():
        for _ in range(20):
            logits = model(prompt[-args.bptt:])
            prompt = torch.cat([prompt, logits[-1].argmax(dim=-1, keepdim=True)])
    print("sample:", repr("".join(chars[i] for i in prompt.squeeze(1).tolist())))
    print(f"final loss {val:.4f}")


if __name__ == "__main__":
    main()
