# %% [markdown]
# # A convolutional network on digits
#
# A convolution layer slides a small filter over the image and computes, at every position, the weighted
# sum of the pixels under it (seed 004 §3.3; seed 000 §6.2). The same few weights are reused at every
# position, so a convolution detects a pattern wherever it occurs, with far fewer parameters than a fully
# connected layer; pooling then keeps the strongest response of each small neighbourhood and halves the
# resolution. On an H × W input a k × k filter with padding p and stride s gives an output of
# ⌊(H + 2p − k)/s⌋ + 1 rows.
#
# The data are scikit-learn's 8 × 8 handwritten digits (1,797 images), which ship with scikit-learn: no
# download. The layers are PyTorch's: `nn.Conv2d`, `nn.MaxPool2d`, `nn.Flatten`, NCHW images.
# %% [markdown] ja
# # 手書き数字の畳み込みニューラルネットワーク
#
# 畳み込み層は小さなフィルタを画像の上で滑らせ、各位置でその下の画素の重み付き和を計算します
# （seed 004 §3.3、seed 000 §6.2）。同じ少数の重みをすべての位置で使い回すので、畳み込みはパターンが
# どこに現れても検出でき、全結合層よりはるかに少ないパラメータで済みます。続くプーリングは小さな近傍
# ごとに最も強い応答だけを残し、解像度を半分にします。H × W の入力に対して、パディング p、ストライド s の
# k × k フィルタの出力は ⌊(H + 2p − k)/s⌋ + 1 行になります。
#
# データは scikit-learn に同梱されている 8 × 8 の手書き数字（1,797 枚）で、ダウンロードは不要です。層は
# PyTorch と同じ `nn.Conv2d`、`nn.MaxPool2d`、`nn.Flatten` で、画像は NCHW 形式です。

# %%
import matplotlib.pyplot as plt
import numpy as np

import fukaku as fk
from fukaku import nn, optim
from fukaku.datasets import digits, holdout_split
from fukaku.models import MLP
from fukaku.train import evaluate, fit
from fukaku.utils.data import DataLoader, TensorDataset

fk.manual_seed(0)
images, labels = digits(flatten=False)                      # (1797, 8, 8) in [0, 1], labels (1797,)
x_train, y_train, x_test, y_test = holdout_split(images.unsqueeze(1), labels, test_fraction=0.3, seed=0)
print("train", tuple(x_train.shape), " test", tuple(x_test.shape))

# %% [markdown]
# ## The network
#
# Two blocks of 3 × 3 convolution (padding 1 keeps the size: ⌊(8 + 2 − 3)/1⌋ + 1 = 8), ReLU and 2 × 2 max
# pooling take the 8 × 8 image to 16 maps of 2 × 2, and a linear layer scores the ten classes.
# %% [markdown] ja
# ## ネットワーク
#
# 3 × 3 の畳み込み（パディング 1 で大きさは変わりません: ⌊(8 + 2 − 3)/1⌋ + 1 = 8）、ReLU、2 × 2 の
# 最大値プーリングからなるブロック 2 つで、8 × 8 の画像は 2 × 2 のマップ 16 枚になり、最後の線形層が
# 10 クラスのスコアを出します。

# %%
cnn = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),     # 8 × 8 → 8 maps of 4 × 4
                    nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # → 16 maps of 2 × 2
                    nn.Flatten(), nn.Linear(16 * 2 * 2, 10))
with fk.no_grad():
    probe = x_train[:1]
    for layer in cnn:
        probe = layer(probe)
        print(f"{type(layer).__name__:10s} → {tuple(probe.shape)}")
print("parameters:", sum(p.numel() for p in cnn.parameters()))

# %% [markdown]
# ## Training with `fit`
#
# `fukaku.train.fit` runs the usual loop — mini-batches from a `DataLoader`, the cross-entropy loss
# function, `backward`, an Adam step — and evaluates the held-out images after every epoch. For comparison,
# a multilayer perceptron that sees the 64 pixels as an unordered vector trains with the same settings.
# %% [markdown] ja
# ## `fit` による学習
#
# `fukaku.train.fit` はいつものループ（`DataLoader` からのミニバッチ、交差エントロピーの損失関数、
# `backward`、Adam の 1 ステップ）を実行し、各エポックの後にテスト用の画像で評価します。比較のため、
# 64 個の画素を順序のないベクトルとして見る多層パーセプトロンも同じ設定で学習させます。

# %%
def train(model: nn.Module, x: fk.Tensor, x_held_out: fk.Tensor, epochs: int = 15):
    loader = DataLoader(TensorDataset(x, y_train), batch_size=32, shuffle=True, generator=np.random.default_rng(0))
    held_out = DataLoader(TensorDataset(x_held_out, y_test), batch_size=256)
    return fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=3e-3), loader, held_out,
               epochs=epochs, quiet=True)


cnn_history = train(cnn, x_train, x_test)
mlp = MLP([64, 32, 10])
mlp_history = train(mlp, x_train.flatten(1), x_test.flatten(1))
for name, model, history in (("CNN", cnn, cnn_history), ("MLP", mlp, mlp_history)):
    print(f"{name}: {sum(p.numel() for p in model.parameters()):5d} parameters, "
          f"test accuracy {history.val_accuracy[-1]:.3f}")

# %% [markdown]
# ## What the first layer learned
#
# The figure shows the eight 3 × 3 filters of the first convolution, the eight feature maps they produce
# for one test digit (after ReLU), the test accuracy per epoch of both networks, and some test digits with
# the CNN's prediction (red when wrong).
# %% [markdown] ja
# ## 第 1 層が学習したもの
#
# 図は、最初の畳み込み層の 8 個の 3 × 3 フィルタ、1 枚のテスト画像に対してそれらが作る 8 枚の特徴マップ
# （ReLU の後）、両ネットワークのエポックごとのテスト精度、そしていくつかのテスト画像と CNN の予測
# （誤りは赤）を示します。

# %%
cnn.eval()
with fk.no_grad():
    predictions = cnn(x_test).argmax(1).numpy()
    maps = cnn[1](cnn[0](x_test[:1]))[0].numpy()           # conv → ReLU on the first test digit: (8, 8, 8)
filters = cnn[0].weight.detach().numpy()[:, 0]              # (8, 3, 3)
print("test accuracy:", evaluate(cnn, nn.CrossEntropyLoss(), DataLoader(TensorDataset(x_test, y_test),
                                                                         batch_size=256))["accuracy"])

fig = plt.figure(figsize=(12, 6.5))
grid = fig.add_gridspec(4, 8)
for i in range(8):
    ax = fig.add_subplot(grid[0, i])
    ax.imshow(filters[i], cmap="RdBu_r", vmin=-np.abs(filters).max(), vmax=np.abs(filters).max())
    ax.set_title(f"filter {i}", fontsize=8)
    ax.axis("off")
    ax = fig.add_subplot(grid[1, i])
    ax.imshow(maps[i], cmap="gray")
    ax.set_title(f"map {i}", fontsize=8)
    ax.axis("off")
curve = fig.add_subplot(grid[2:, :4])
curve.plot(range(1, len(cnn_history.val_accuracy) + 1), cnn_history.val_accuracy, "o-", label="CNN")
curve.plot(range(1, len(mlp_history.val_accuracy) + 1), mlp_history.val_accuracy, "s--", label="MLP [64, 32, 10]")
curve.set_xlabel("epoch")
curve.set_ylabel("test accuracy")
curve.legend(loc="lower right")
for k in range(8):
    ax = fig.add_subplot(grid[2 + k // 4, 4 + k % 4])
    ax.imshow(x_test[k, 0].numpy(), cmap="gray_r")
    ok = predictions[k] == y_test[k].item()
    ax.set_title(f"predicted {predictions[k]}", fontsize=8, color="black" if ok else "red")
    ax.axis("off")
fig.tight_layout()
plt.show()
