# %% [markdown]
# # The Playground exercise in code
#
# Seed 003 sends its readers to TensorFlow Playground: train a small network on 2-D points and watch the
# decision boundary. Its steps: (1) one hidden layer with the *linear* activation on the circle data set;
# (2) more linear units and layers; (3) a nonlinear activation (ReLU, tanh, sigmoid); (4) the spiral,
# tuned for the lowest test loss.
#
# `fukaku.playground` replays the Playground with its own settings — mini-batch SGD at learning rate 0.03,
# batches of 10, half of the points for training, a tanh output unit, targets ±1 and the loss
# ½(output − target)², weights U(−0.5, 0.5) and biases 0.1. `fukaku playground --open` runs the same
# sessions in the browser; here we drive them from Python.
# %% [markdown] ja
# # Playground の演習をコードで
#
# seed 003 は読者に TensorFlow Playground を勧めています。2 次元の点で小さなネットワークを学習させ、
# 決定境界を観察する演習です。手順は、(1) circle データに対して *linear*（線形）活性化関数の隠れ層を 1 層、
# (2) 線形のユニットや層を増やす、(3) 非線形の活性化関数（ReLU、tanh、シグモイド）にする、
# (4) spiral でテスト損失が最小になるよう調整する、の 4 つです。
#
# `fukaku.playground` は Playground をその設定のまま再現します。学習率 0.03・バッチサイズ 10 の
# ミニバッチ SGD、点の半分を訓練に使用、出力ユニットは tanh、目標値は ±1、損失関数は
# ½(出力 − 目標)²、重みは U(−0.5, 0.5)、バイアスは 0.1 です。`fukaku playground --open` で同じ学習を
# ブラウザで動かせますが、ここでは Python から操作します。

# %%
import matplotlib.pyplot as plt
from fukaku.playground import PlaygroundConfig, Session

EPOCHS = 100   # passes over the 250 training points: 2,500 SGD steps


def run(**settings) -> Session:
    """Train one Playground setup (the Playground's defaults for everything not given) and report it."""
    session = Session(PlaygroundConfig(**settings))
    session.step(EPOCHS)
    train, test = session.losses()
    print(f"{settings}: train loss {train:.3f}, test loss {test:.3f}")
    return session

# %% [markdown]
# ## Steps 1 and 2: linear units cannot separate a disc from a ring
#
# Without a nonlinearity every layer is a linear map, and a composition of linear maps is one linear map:
# the output is tanh of a linear function of (x₁, x₂), whose boundary is a straight line. The test loss stays
# near 0.5, the loss of answering 0 everywhere, however many linear units and layers we add.
# %% [markdown] ja
# ## 手順 1 と 2: 線形のユニットでは円板と外側の輪を分けられない
#
# 非線形性がなければ各層は線形写像であり、線形写像の合成は 1 つの線形写像です。出力は (x₁, x₂) の
# 線形関数の tanh になり、その境界は直線です。線形のユニットや層をいくら増やしても、テスト損失は
# どこでも 0 と答えたときの損失 0.5 の近くにとどまります。

# %%
sessions = {"step 1: linear [4]": run(hidden=(4,), activation="linear"),
            "step 2: linear [8, 8]": run(hidden=(8, 8), activation="linear")}

# %% [markdown]
# ## Step 3: a nonlinear activation function
#
# With tanh or ReLU units the hidden layer bends the boundary around the disc and the test loss falls close
# to 0. The Playground also shows a second cure: give the linear network the features x₁² and x₂² — the
# circle is linear in them.
# %% [markdown] ja
# ## 手順 3: 非線形の活性化関数
#
# tanh や ReLU のユニットを使うと、隠れ層が境界を円板のまわりに曲げ、テスト損失は 0 近くまで下がります。
# Playground はもう 1 つの解決策も示しています。線形のネットワークに特徴量 x₁² と x₂² を与えることです。
# 円はこれらの特徴量については線形です。

# %%
sessions["step 3: tanh [4]"] = run(hidden=(4,), activation="tanh")
sessions["step 3: relu [4]"] = run(hidden=(4,), activation="relu")
sessions["linear [4] on x₁², x₂²"] = run(hidden=(4,), activation="linear", features=("x1^2", "x2^2"))

# %% [markdown]
# ## Step 4: the spiral
#
# Two interleaved spirals need a deeper network. Three ReLU layers of 8 units with a larger learning rate
# (0.1) reach a low test loss within the same number of epochs.
# %% [markdown] ja
# ## 手順 4: spiral
#
# 互いに巻きついた 2 本の渦巻きには、より深いネットワークが必要です。8 ユニットの ReLU 層を 3 層にし、
# 学習率を大きく（0.1）すると、同じエポック数で低いテスト損失に届きます。

# %%
sessions["step 4: spiral relu [8, 8, 8]"] = run(dataset="spiral", hidden=(8, 8, 8), activation="relu",
                                                learning_rate=0.1)

# %% [markdown]
# Each panel is the network's output over the input square [−6, 6]² (blue for +1, red for −1) with the
# test points on top, the Playground's picture; the last panel is the test loss per epoch.
# %% [markdown] ja
# 各パネルは入力の正方形 [−6, 6]² 上のネットワークの出力（+1 が青、−1 が赤）にテスト点を重ねたもので、
# Playground の画面に相当する図です。最後のパネルはエポックごとのテスト損失です。

# %%
fig, axes = plt.subplots(2, 4, figsize=(13, 6.6))
for ax, (name, session) in zip(axes.flat, sessions.items()):
    _, output = session.maps()                   # (100, 100): x₁ left to right, x₂ from +6 down to −6
    ax.imshow(output, extent=(-6, 6, -6, 6), cmap="RdBu", vmin=-1, vmax=1)
    points, labels = session.x_test, session.y_test[:, 0]
    ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="RdBu", vmin=-1.5, vmax=1.5, s=7,
               edgecolors="black", linewidths=0.3)
    ax.set_title(f"{name}\ntest loss {session.losses()[1]:.3f}", fontsize=9)
    ax.set_xticks([-6, 0, 6])
    ax.set_yticks([-6, 0, 6])
curves = axes.flat[len(sessions)]
for name, session in sessions.items():
    curves.plot(session.test_loss, label=name)
curves.set_xlabel("epoch")
curves.set_ylabel("test loss ½(out − target)²")
curves.legend(fontsize=6, loc="upper right")
for ax in axes.flat[len(sessions) + 1:]:
    ax.remove()
fig.tight_layout()
plt.show()
