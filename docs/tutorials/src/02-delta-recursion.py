# %% [markdown]
# # The δ-recursion by hand, and autograd
#
# Seed 000 §6.1.2 derives backpropagation for a multilayer perceptron with layers
# a⁽ˡ⁾ = W⁽ˡ⁾h⁽ˡ⁻¹⁾ + b⁽ˡ⁾, h⁽ˡ⁾ = φ(a⁽ˡ⁾). With the error term δ⁽ˡ⁾ = ∂L/∂a⁽ˡ⁾:
#
# - δ⁽ᴸ⁾ = ∇_{h⁽ᴸ⁾}L ∘ φ'(a⁽ᴸ⁾) at the output layer,
# - δ⁽ˡ⁾ = ((W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾) ∘ φ'(a⁽ˡ⁾) going back one layer at a time,
# - ∇_{W⁽ˡ⁾}L = δ⁽ˡ⁾ (h⁽ˡ⁻¹⁾)ᵀ and ∇_{b⁽ˡ⁾}L = δ⁽ˡ⁾.
#
# `fukaku.models.ManualMLP` runs exactly these lines in NumPy, with no autograd. Here we give it the weights
# of a `fukaku.models.MLP`, compute the gradients both ways and check them against finite differences.
# %% [markdown] ja
# # δ の漸化式を手で、そして自動微分で
#
# seed 000 §6.1.2 は、層 a⁽ˡ⁾ = W⁽ˡ⁾h⁽ˡ⁻¹⁾ + b⁽ˡ⁾, h⁽ˡ⁾ = φ(a⁽ˡ⁾) からなる多層パーセプトロンについて
# 誤差逆伝播法を導きます。誤差項（デルタ）δ⁽ˡ⁾ = ∂L/∂a⁽ˡ⁾ を使うと:
#
# - 出力層では δ⁽ᴸ⁾ = ∇_{h⁽ᴸ⁾}L ∘ φ'(a⁽ᴸ⁾)、
# - 1 層ずつ入力側へ戻りながら δ⁽ˡ⁾ = ((W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾) ∘ φ'(a⁽ˡ⁾)、
# - ∇_{W⁽ˡ⁾}L = δ⁽ˡ⁾ (h⁽ˡ⁻¹⁾)ᵀ、∇_{b⁽ˡ⁾}L = δ⁽ˡ⁾。
#
# `fukaku.models.ManualMLP` は、自動微分を使わずにこの式をそのまま NumPy で実行します。ここでは
# `fukaku.models.MLP` の重みを渡し、両方の方法で勾配を計算して、数値微分（有限差分）とも照合します。

# %%
import matplotlib.pyplot as plt
import numpy as np

import fukaku as fk
import fukaku.nn.functional as F
from fukaku.models import MLP, ManualMLP

fk.manual_seed(0)
images, labels = fk.datasets.digits()          # scikit-learn's 8×8 digits, shipped with it: (1797, 64)
x, y = images[:256].to(fk.float64), labels[:256]
print("inputs", tuple(x.shape), "labels", tuple(y.shape))

# %% [markdown]
# ## The same network, two backward passes
#
# The loss is softmax cross-entropy averaged over the batch. A softmax couples its outputs, so the manual
# network ends in the identity and receives the fused output gradient (softmax(a⁽ᴸ⁾) − onehot(y)) / N as
# ∇_{h⁽ᴸ⁾}L.
# %% [markdown] ja
# ## 同じネットワーク、2 通りの逆伝播
#
# 損失関数はバッチ平均のソフトマックス交差エントロピーです。ソフトマックスは出力どうしを結びつけるので、
# 手計算のネットワークは恒等関数で終わり、∇_{h⁽ᴸ⁾}L として融合した出力側の勾配
# (softmax(a⁽ᴸ⁾) − onehot(y)) / N を受け取ります。

# %%
def output_gradient(logits: np.ndarray) -> np.ndarray:
    """∇_{h⁽ᴸ⁾}L of the mean softmax cross-entropy: (softmax(logits) − onehot(y)) / N."""
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    return (probs - np.eye(10)[y.numpy()]) / len(y)


mlp = MLP([64, 32, 32, 10], activation="tanh", dtype=fk.float64)
manual = ManualMLP.from_mlp(mlp)

loss = F.cross_entropy(mlp(x), y)               # autograd: build the graph, walk it back
loss.backward()
autograd_grads = [(layer.weight.grad.numpy(), layer.bias.grad.numpy()) for layer in mlp.linear_layers()]

logits = manual(x.numpy())                      # by hand: forward keeps every a⁽ˡ⁾ and h⁽ˡ⁾ ...
manual_grads = manual.backward(output_gradient(logits))   # ... and backward runs the δ-recursion

for l, ((gw_a, gb_a), (gw_m, gb_m)) in enumerate(zip(autograd_grads, manual_grads), 1):
    print(f"layer {l}: W {gw_a.shape}  max|autograd − δ-recursion| = {np.abs(gw_a - gw_m).max():.2e} (W), "
          f"{np.abs(gb_a - gb_m).max():.2e} (b)")

# %% [markdown]
# ## A third, independent check: finite differences
#
# A central difference (L(w + ε) − L(w − ε)) / 2ε in float64 for a few weights of the first layer, the
# layer the recursion reaches last.
# %% [markdown] ja
# ## 3 つ目の独立な確認: 有限差分
#
# 再帰が最後に到達する第 1 層のいくつかの重みについて、float64 の中心差分 (L(w + ε) − L(w − ε)) / 2ε を
# 計算します。

# %%
def cross_entropy(logits: np.ndarray) -> float:
    """The mean softmax cross-entropy of ``logits`` against y, in NumPy."""
    shifted = logits - logits.max(1, keepdims=True)
    return float(np.mean(np.log(np.exp(shifted).sum(1)) - shifted[np.arange(len(y)), y.numpy()]))


def manual_loss(net: ManualMLP) -> float:
    return cross_entropy(net(x.numpy()))


eps, rng = 1e-6, np.random.default_rng(0)
for i, j in zip(rng.integers(0, 32, 4), rng.integers(0, 64, 4)):
    original = manual.weights[0][i, j]
    manual.weights[0][i, j] = original + eps
    plus = manual_loss(manual)
    manual.weights[0][i, j] = original - eps
    minus = manual_loss(manual)
    manual.weights[0][i, j] = original
    print(f"W1[{i:2d},{j:2d}]: finite difference {(plus - minus) / (2 * eps):+.8f}   "
          f"δ-recursion {manual_grads[0][0][i, j]:+.8f}   autograd {autograd_grads[0][0][i, j]:+.8f}")

# %% [markdown]
# ## Training with either gradient
#
# Plain gradient descent with learning rate 0.5 for 150 steps, once with the δ-recursion's gradients
# (NumPy updates of `manual.weights`) and once with autograd and `fukaku.optim.SGD`. Starting from the same
# weights, the two loss curves coincide to rounding.
# %% [markdown] ja
# ## どちらの勾配でも学習できる
#
# 学習率 0.5 の単純な勾配降下法を 150 ステップ、δ の漸化式による勾配（`manual.weights` の NumPy による
# 更新）と、自動微分と `fukaku.optim.SGD` の両方で行います。同じ重みから始めると、2 本の損失の曲線は
# 丸め誤差の範囲で一致します。

# %%
lr, steps = 0.5, 150
manual = ManualMLP.from_mlp(mlp)
optimizer = fk.optim.SGD(mlp.parameters(), lr=lr)
curves = {"δ-recursion (NumPy)": [], "autograd + optim.SGD": []}
for step in range(steps):
    logits = manual(x.numpy())                      # forward keeps a⁽ˡ⁾ and h⁽ˡ⁾ for backward
    curves["δ-recursion (NumPy)"].append(cross_entropy(logits))
    grads = manual.backward(output_gradient(logits))
    for (w, b), (gw, gb) in zip(zip(manual.weights, manual.biases), grads):
        w -= lr * gw
        b -= lr * gb
    optimizer.zero_grad()
    loss = F.cross_entropy(mlp(x), y)
    curves["autograd + optim.SGD"].append(loss.item())
    loss.backward()
    optimizer.step()
gap = np.abs(np.subtract(*curves.values())).max()
print(f"final loss {curves['autograd + optim.SGD'][-1]:.4f}; largest gap between the curves {gap:.1e}")

# %% [markdown]
# ## What the recursion says about depth
#
# Each step back multiplies δ by Wᵀ and by φ'(a). The sigmoid's derivative is at most 1/4, so through a
# deep sigmoid network the gradients of the first layers shrink layer after layer — the vanishing gradient
# (seed 000 §6.1.3). ReLU's derivative is 1 wherever the unit is active, so its gradients shrink far less
# (what is left comes from the small initial weights).
# %% [markdown] ja
# ## 漸化式が深さについて教えること
#
# 1 層戻るたびに δ には Wᵀ と φ'(a) が掛かります。シグモイド関数の導関数は最大でも 1/4 なので、深い
# シグモイドのネットワークでは入力側の層の勾配が 1 層ごとに小さくなります。これが勾配消失
# （seed 000 §6.1.3）です。一方 ReLU の導関数はユニットが活性なところで 1 なので、勾配の減衰ははるかに
# 小さくなります（残る減衰は小さな初期重みによるものです）。

# %%
norms = {}
for activation in ("sigmoid", "relu"):
    deep = ManualMLP([64] + [64] * 10 + [10], activation=activation, seed=0)
    grads = deep.backward(output_gradient(deep(x.numpy())))
    norms[activation] = [np.linalg.norm(gw) for gw, _ in grads]
    print(f"{activation:8s} ‖∇W⁽¹⁾‖ / ‖∇W⁽¹¹⁾‖ = {norms[activation][0] / norms[activation][-1]:.1e}")

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
for name, curve in curves.items():
    left.plot(curve, label=name, linestyle="-" if "NumPy" in name else "--")
left.set_xlabel("gradient-descent step")
left.set_ylabel("cross-entropy loss")
left.set_title("same weights, same gradients")
left.legend()
for activation, values in norms.items():
    right.semilogy(range(1, len(values) + 1), values, "o-", label=activation)
right.set_xlabel("layer l (1 = input side)")
right.set_ylabel("‖∇W⁽ˡ⁾ L‖")
right.set_title("gradient size per layer, 11 layers")
right.legend()
fig.tight_layout()
plt.show()
