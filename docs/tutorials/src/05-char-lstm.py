# %% [markdown]
# # A character-level LSTM on 吾輩は猫である
#
# A language model reads a text one character at a time and predicts the next one. An Elman network
# carries a hidden state from step to step, but its gradient through time is a product of many Jacobians and
# vanishes; the LSTM (seed 000 §6.1.7, seed 004 §3.4.2) adds a cell state that is updated additively,
# c_t = f_t ∘ c_{t−1} + i_t ∘ g_t, with forget, input and output gates deciding what to keep, write and show.
#
# `fukaku.models.rnn.CharLM` is embedding → `nn.LSTM` → linear layer, trained on next-character
# cross-entropy (in nats per character). The text is Natsume Sōseki's novel, `neko.txt` in the shared data
# directory, when it is there; otherwise a short passage written for this tutorial, embedded below, so the
# notebook runs anywhere.
# %% [markdown] ja
# # 『吾輩は猫である』を文字単位の LSTM で学習する
#
# 言語モデルは文章を 1 文字ずつ読み、次の文字を予測します。Elman ネットワークは隠れ状態を時刻から時刻へ
# 受け渡しますが、時間方向の勾配は多くのヤコビ行列の積になり、消失してしまいます（勾配消失）。LSTM
# （seed 000 §6.1.7、seed 004 §3.4.2）はセル状態を加えて、c_t = f_t ∘ c_{t−1} + i_t ∘ g_t のように足し算で
# 更新し、忘却ゲート・入力ゲート・出力ゲートが何を残し、何を書き込み、何を出力するかを決めます。
#
# `fukaku.models.rnn.CharLM` は埋め込み → `nn.LSTM` → 線形層からなり、次の文字の交差エントロピー
# （1 文字あたりのナット）で学習します。テキストは共有データディレクトリに `neko.txt`（夏目漱石の小説）が
# あればそれを使い、なければこのチュートリアルのために書いた短い文章（下に埋め込み）を使うので、
# どこでも実行できます。

# %%
import matplotlib.pyplot as plt
import numpy as np

import fukaku as fk
from fukaku import nn, optim
from fukaku.datasets import next_token_windows, shared_data_dir
from fukaku.models.rnn import CharLM

# Written for this tutorial (not from the novel): used when ../shared/data/text/neko.txt is absent.
PASSAGE = """吾輩は研究室に住む猫である。名前はまだ付けてもらえない。
毎朝、学生がやって来て計算機の前に座る。吾輩はその膝の上で丸くなり、画面に流れる数字を眺めている。
数字は損失というものだそうだ。学生は損失が下がると喜び、下がらないと頭をかかえる。
学習率を大きくすると損失は暴れ、小さくすると眠ったように動かない。吾輩にはどちらも面白い。
ある日、学生は層を深くした。すると勾配が消えてしまい、ネットワークは何も覚えなくなった。
吾輩は窓の外の雀を見ながら、深ければよいというものでもないと思った。
学生は次に、忘却ゲートのついた記憶のセルを使うことにした。これなら昔のことも忘れにくいという。
吾輩も昨日の煮干しのことはよく覚えている。猫にもゲートがあるのかもしれない。
夕方になると、学生は文章を一文字ずつ機械に読ませ、次の文字を当てさせる。
はじめは同じ文字ばかり並べていた機械が、やがて吾輩の名前のない身の上を語り始めた。
吾輩は少し誇らしく、少し落ち着かない気持ちで、膝の上から画面をのぞきこんだ。
"""

root = shared_data_dir()
neko = None if root is None else root / "text" / "neko.txt"
if neko is not None and neko.is_file():
    text, source = neko.read_text(encoding="utf-8")[:60_000], "neko.txt, first 60,000 characters"
else:
    text, source = PASSAGE, "the embedded passage (neko.txt is absent)"
print(f"text: {source}; {len(text):,} characters, {len(set(text))} distinct")

# %% [markdown]
# ## Data: next-character windows
#
# The last fifth of the text is held out. Training windows of 48 characters start at every position; the
# target is the same window shifted by one character. The unigram entropy of the training text — the loss
# of the best model that ignores context — is the number the LSTM has to beat.
# %% [markdown] ja
# ## データ: 次の文字を当てる窓
#
# テキストの最後の 2 割は評価用に取っておきます。訓練用の 48 文字の窓はすべての位置から始め、目標は
# 1 文字ずらした同じ窓です。訓練テキストのユニグラムエントロピー（文脈を無視する最良のモデルの損失）が、
# LSTM が下回るべき値です。

# %%
fk.manual_seed(0)
rng = np.random.default_rng(0)
model = CharLM(vocab=CharLM.build_vocab(text), embedding_dim=32, hidden_size=128, num_layers=1, cell="lstm")
ids = model.encode(text).numpy()
split = int(len(ids) * 0.8)
seq_len = 48
inputs, targets = next_token_windows(ids[:split], seq_len, stride=1)
held_in, held_target = next_token_windows(ids[split:], min(seq_len, len(ids) - split - 1))
counts = np.bincount(ids[:split], minlength=model.vocab_size)
p = counts[counts > 0] / counts.sum()
unigram = float(-(p * np.log(p)).sum())
print(f"{len(inputs):,} training windows, {len(held_in)} held-out windows; unigram entropy {unigram:.3f} nats/char")

# %% [markdown]
# ## Training
#
# Adam at learning rate 0.01 on random batches of 32 windows, with the gradient norm clipped at 5 — the
# usual guard against the exploding gradients of recurrent networks.
# %% [markdown] ja
# ## 学習
#
# 32 窓のランダムなミニバッチに対して学習率 0.01 の Adam を使い、勾配のノルムを 5 で切り詰めます
# （リカレントネットワークの勾配爆発に対するいつもの対策です）。

# %%
loss_fn = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=1e-2)


def held_out_loss() -> float:
    model.eval()
    with fk.no_grad():
        logits, _ = model(held_in)
        loss = loss_fn(logits.reshape(-1, model.vocab_size), held_target.reshape(-1)).item()
    model.train()
    return loss


train_curve, held_out_curve = [], []
for step in range(1, 301):
    batch = rng.integers(0, len(inputs), 32)
    logits, _ = model(inputs[batch])
    loss = loss_fn(logits.reshape(-1, model.vocab_size), targets[batch].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    optimizer.step()
    train_curve.append(loss.item())
    if step % 50 == 0:
        held_out_curve.append((step, held_out_loss()))
        print(f"step {step}: train {np.mean(train_curve[-50:]):.3f}, held out {held_out_curve[-1][1]:.3f} nats/char")

# %% [markdown]
# ## Sampling
#
# `generate` feeds the model its own samples. The temperature T divides the logits before the softmax:
# T → 0 is the greedy choice, larger T gives more varied, less faithful text.
# %% [markdown] ja
# ## サンプリング
#
# `generate` はモデル自身が出力した文字を次の入力として与えます。温度 T はソフトマックスの前にロジットを
# 割る値で、T → 0 は貪欲な選択、T が大きいほど多様で、元の文章からは離れた文章になります。

# %% [markdown]
# How well did it learn? On the novel, the held-out loss ends below the unigram entropy: the LSTM uses the
# context. On the short embedded passage the training loss drops far below the held-out loss: a few hundred
# characters are memorised, not generalised — overfitting, seed 004 §3.6.3.
# %% [markdown] ja
# どれだけ学習できたでしょうか。小説では評価用テキストの損失がユニグラムエントロピーを下回ります。
# LSTM が文脈を使っているということです。短い埋め込みの文章では、訓練の損失が評価用の損失よりはるかに
# 小さくなります。数百文字は汎化されずに暗記されるだけです。これが過学習です（seed 004 §3.6.3）。

# %%
final_train, final_held_out = np.mean(train_curve[-50:]), held_out_curve[-1][1]
print(f"held-out loss {final_held_out:.3f} vs unigram entropy {unigram:.3f}: "
      f"{'below' if final_held_out < unigram else 'not below'} it; "
      f"gap to the training loss {final_held_out - final_train:.3f} nats/char")

# %%
for temperature in (0.0, 0.6, 1.0):
    print(f"T = {temperature}:", model.generate("吾輩は", 60, temperature=temperature, seed=0).replace("\n", " "))

# %%
fig, ax = plt.subplots(figsize=(7, 3.8))
ax.plot(range(1, len(train_curve) + 1), train_curve, alpha=0.5, label="training batches")
ax.plot(*zip(*held_out_curve), "o-", label="held-out text")
ax.axhline(unigram, color="gray", linestyle="--", label="unigram entropy (no context)")
ax.set_xlabel("Adam step")
ax.set_ylabel("cross-entropy (nats/char)")
ax.set_title(f"CharLM, LSTM 128 units: {source}", fontsize=9)
ax.legend(loc="upper right")
plt.show()
