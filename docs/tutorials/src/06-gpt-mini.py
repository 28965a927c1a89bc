# %% [markdown]
# # GPT-mini: a decoder-only Transformer
#
# GPT (seed 000 §6.4; seed 001 §9.4) is a stack of Transformer decoder blocks trained on one task: predict
# the next token. Each block is causal multi-head self-attention followed by a two-layer MLP, each with a
# residual connection and a LayerNorm before it (pre-LN). Self-attention lets every position read every
# earlier position in one step, softmax(QKᵀ/√d_k + mask)V, where the causal mask sets the scores of later
# positions to −∞; so one forward pass trains the predictions at all T positions at once.
#
# `fukaku.models.transformer.GPT` is GPT-2's architecture at any size. Here it is tiny — 2 blocks, width 64,
# 4 heads — and learns characters of English text: tiny-shakespeare from the shared data when present, else
# the help texts that ship with every Python installation (`pydoc_data`).
# %% [markdown] ja
# # GPT-mini: デコーダのみの Transformer
#
# GPT（seed 000 §6.4、seed 001 §9.4）は Transformer のデコーダブロックを積み重ね、次のトークンを予測する
# という 1 つのタスクで事前学習したモデルです。各ブロックは因果的なマルチヘッド自己注意と 2 層の MLP から
# なり、それぞれに残差接続と、その前の LayerNorm（pre-LN）があります。自己注意では各位置がそれ以前の
# すべての位置を 1 ステップで参照します: softmax(QKᵀ/√d_k + マスク)V。因果マスクは後ろの位置のスコアを
# −∞ にするので、1 回の順伝播で T 個すべての位置の予測を同時に学習できます。
#
# `fukaku.models.transformer.GPT` は任意の大きさの GPT-2 の構造です。ここではごく小さく（2 ブロック、
# 幅 64、4 ヘッド）、英語の文章を文字単位で学習します。共有データに tiny-shakespeare があればそれを、
# なければ Python に必ず同梱されているヘルプのテキスト（`pydoc_data`）を使います。

# %%
import matplotlib.pyplot as plt
import numpy as np

import fukaku as fk
from fukaku import nn, optim
from fukaku.datasets import TextCorpus, next_token_windows, shared_data_dir
from fukaku.models.transformer import GPT

root = shared_data_dir()
shakespeare = None if root is None else root / "text" / "tinyshakespeare.txt"
if shakespeare is not None and shakespeare.is_file():
    text, source = shakespeare.read_text(encoding="utf-8")[:100_000], "tiny-shakespeare"
else:
    from pydoc_data.topics import topics
    text, source = "\n".join(topics[key] for key in sorted(topics))[:100_000], "Python's help topics"
corpus = TextCorpus(text, level="char")
ids = corpus.ids
split = int(len(ids) * 0.9)
print(f"{source}: {len(ids):,} characters, vocabulary {len(corpus.vocab)}")

# %% [markdown]
# ## The model
# %% [markdown] ja
# ## モデル

# %%
fk.manual_seed(0)
context = 32
model = GPT(vocab_size=len(corpus.vocab), context_length=context, n_layer=2, n_head=4, d_model=64)
print(model.config)
print(f"{model.num_parameters():,} parameters (the output layer shares the token embedding's weight)")

# %% [markdown]
# ## Training on next-character prediction
#
# AdamW, random batches of 16 windows of 32 characters, the gradient norm clipped at 1. The loss is the
# cross-entropy of all 32 next-character predictions of every window.
# %% [markdown] ja
# ## 次の文字の予測による学習
#
# AdamW を使い、32 文字の窓 16 個のランダムなミニバッチで、勾配のノルムを 1 で切り詰めます。損失は各窓の
# 32 個すべての「次の文字」の予測の交差エントロピーです。

# %%
inputs, targets = next_token_windows(ids[:split], context, stride=1)
held_in, held_target = next_token_windows(ids[split:], context)
held_in, held_target = held_in[:64], held_target[:64]
counts = np.bincount(ids[:split], minlength=len(corpus.vocab))
p = counts[counts > 0] / counts.sum()
unigram = float(-(p * np.log(p)).sum())

loss_fn = nn.CrossEntropyLoss()
optimizer = optim.AdamW(model.parameters(), lr=3e-3)
rng = np.random.default_rng(0)
curve, held_out = [], []
for step in range(1, 151):
    batch = rng.integers(0, len(inputs), 16)
    logits = model(inputs[batch])                                        # (16, 32, V)
    loss = loss_fn(logits.reshape(-1, logits.shape[-1]), targets[batch].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    curve.append(loss.item())
    if step % 50 == 0:
        model.eval()
        with fk.no_grad():
            logits = model(held_in)
            held_out.append((step, loss_fn(logits.reshape(-1, logits.shape[-1]), held_target.reshape(-1)).item()))
        model.train()
        print(f"step {step}: train {np.mean(curve[-50:]):.3f}, held out {held_out[-1][1]:.3f} nats/char "
              f"(unigram entropy {unigram:.3f})")

# %% [markdown]
# ## Generation, with and without the KV cache
#
# `generate` samples one character at a time. With `use_cache=True` every block keeps the keys and values of
# the positions it has seen, so a step runs only the new position through the network; greedy decoding
# (temperature 0) gives the same text either way.
# %% [markdown] ja
# ## 生成: KV キャッシュあり・なし
#
# `generate` は 1 文字ずつサンプリングします。`use_cache=True` では各ブロックがそれまでの位置のキーと
# バリューを保持するので、1 ステップで新しい位置だけをネットワークに通せば済みます。貪欲な復号
# （温度 0）では、どちらでも同じ文章になります。

# %%
prompt = corpus.encode("The ", return_tensors=True)
cached = model.generate(prompt, 80, temperature=0, use_cache=True)
recomputed = model.generate(prompt, 80, temperature=0, use_cache=False)
print("same tokens with and without the cache:", bool((cached == recomputed).all()))
print("greedy:          ", repr(corpus.decode(cached)))
print("T = 0.8, top-p 0.95:", repr(corpus.decode(model.generate(prompt, 80, temperature=0.8, top_p=0.95, seed=0))))

# %% [markdown]
# ## The causal mask, seen from outside
#
# Change the input character at position s and record which output positions change: only t ≥ s may. One
# batch holds the original window and its 32 one-character edits; the model is switched to float64 first.
# %% [markdown] ja
# ## 外から見た因果マスク
#
# 位置 s の入力文字を変えて、どの出力位置が変わるかを記録します。変わってよいのは t ≥ s だけです。
# 1 つのバッチに元の窓と、1 文字ずつ変えた 32 個の窓を入れます。その前にモデルを float64 に切り替えます。

# %%
window = held_in[0]
edited = window.expand(context + 1, context).clone()                  # 33 copies of the window
positions = fk.arange(context)
edited[positions + 1, positions] = (window + 1) % len(corpus.vocab)      # row s + 1 edits position s
model.eval().double()          # float64, so that rounding (~1e-7 in float32) cannot blur the picture
with fk.no_grad():
    logits = model(edited)
changed = ((logits[1:] - logits[:1]).abs().amax(-1) > 1e-9).numpy()      # changed[s, t]: did output t change?
print("an edit at s changed an output t < s:", bool(np.tril(changed, -1).any()))
print("an edit at s changed the output t = s:", bool(np.diag(changed).all()))

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
left.plot(range(1, len(curve) + 1), curve, alpha=0.5, label="training batches")
left.plot(*zip(*held_out), "o-", label="held-out text")
left.axhline(unigram, color="gray", linestyle="--", label="unigram entropy")
left.set_xlabel("AdamW step")
left.set_ylabel("cross-entropy (nats/char)")
left.set_title(f"GPT-mini on {source}", fontsize=10)
left.legend(loc="upper right")
right.imshow(changed.T, cmap="Greys", origin="upper")
right.set_xlabel("edited input position s")
right.set_ylabel("output position t")
right.set_title("outputs changed by an edit (black)", fontsize=10)
fig.tight_layout()
plt.show()
