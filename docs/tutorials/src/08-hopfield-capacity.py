# %% [markdown]
# # The Hopfield network and its capacity
#
# The Amari–Hopfield associative memory (seed 000 §6.1.6) has N units x_i ∈ {−1, +1} connected by symmetric
# weights. The Hebb rule stores P patterns ξ^μ in the weights, w_ij = (1/N) Σ_μ ξ_i^μ ξ_j^μ with w_ii = 0.
# Recall starts from a probe and updates one unit at a time, x_i ← sgn(Σ_j w_ij x_j). Each update can only
# lower the energy E(x) = −½ Σ_ij w_ij x_i x_j, so the state rolls down to a local minimum — ideally the
# stored pattern nearest to the probe.
#
# The memory has a capacity: while the load α = P/N stays below α_c ≈ 0.138 the stored patterns are
# (nearly) fixed points; above it, recall collapses into spurious "spin-glass" states.
# `fukaku.models.energy` has the network (`HopfieldNetwork`) and vectorised functions (`hebbian_weights`,
# `hopfield_recall`, `overlap`) that run many networks at once.
# %% [markdown] ja
# # ホップフィールドネットワークとその記憶容量
#
# Amari–Hopfield の連想記憶モデル（seed 000 §6.1.6）は、対称な重みで結ばれた N 個のユニット
# x_i ∈ {−1, +1} からなります。Hebb 則は P 個のパターン ξ^μ を重み w_ij = (1/N) Σ_μ ξ_i^μ ξ_j^μ
# （w_ii = 0）に記憶させます。想起はある入力（プローブ）から始めて、ユニットを 1 つずつ
# x_i ← sgn(Σ_j w_ij x_j) で更新します。更新のたびにエネルギー関数 E(x) = −½ Σ_ij w_ij x_i x_j は
# 下がるだけなので、状態は局所最小点へと転がり落ちます。理想的には、プローブに最も近い記憶パターンです。
#
# この記憶には容量があります。負荷 α = P/N が α_c ≈ 0.138 より小さいうちは記憶パターンが（ほぼ）不動点に
# なりますが、それを超えると想起は誤った記憶（スピングラス状態）へと崩れます。`fukaku.models.energy` には
# ネットワーク（`HopfieldNetwork`）と、多数のネットワークを一度に動かすベクトル化された関数
# （`hebbian_weights`、`hopfield_recall`、`overlap`）があります。

# %%
import matplotlib.pyplot as plt
import numpy as np

from fukaku.models.energy import HopfieldNetwork, hebbian_weights, hopfield_recall, overlap

rng = np.random.default_rng(0)

# %% [markdown]
# ## Storing pictures and completing them
#
# Three 10 × 10 pictures (N = 100 units, α = 0.03) drawn with NumPy. Each probe flips 30 % of a picture's
# pixels; recall runs the one-unit-at-a-time dynamics and records the energy after every update.
# %% [markdown] ja
# ## 画像を記憶させ、欠けた画像を補完する
#
# NumPy で描いた 3 枚の 10 × 10 の画像を記憶させます（N = 100 ユニット、α = 0.03）。各プローブでは画像の
# 画素の 30 % を反転させます。想起ではユニットを 1 つずつ更新し、更新のたびにエネルギーを記録します。

# %%
row, col = np.mgrid[:10, :10]
pictures = np.stack([np.abs(row - col) <= 1,                               # a diagonal band
                     (np.abs(row - 4.5) + np.abs(col - 4.5)) <= 4,         # a diamond
                     (row < 5) ^ (col < 5)])                               # a checker of four squares
patterns = np.where(pictures, 1.0, -1.0).reshape(3, 100)
net = HopfieldNetwork(100).store(patterns)

flips = rng.random((3, 100)) < 0.3
probes = np.where(flips, -patterns, patterns)
result = hopfield_recall(net.weight, probes, sweeps=10, block_size=1, generator=rng, track_energy=True)
print("overlap m = ξ·x/N of each probe:   ", overlap(patterns, probes).numpy().round(2))
print("overlap after recall:             ", overlap(patterns, result.states).numpy().round(2))
never_rose = bool(np.all(np.diff(result.energies, axis=0) <= 1e-12))
print(f"converged after {result.sweeps} sweeps; the energy never rose: {never_rose}")

# %% [markdown]
# ## The capacity, measured
#
# For each load α we store P = αN random patterns in independent networks, start the dynamics at every
# stored pattern and measure the final overlap with it. All networks and all patterns of one α run in one
# batched call.
# %% [markdown] ja
# ## 記憶容量を測る
#
# 各負荷 α について、独立なネットワークに P = αN 個のランダムなパターンを記憶させ、記憶した各パターンから
# ダイナミクスを始めて、最後の状態とのオーバーラップを測ります。1 つの α のすべてのネットワークと
# パターンを、1 回のバッチ化された呼び出しで計算します。

# %%
alphas = np.round(np.arange(0.06, 0.241, 0.02), 2)
curves = {}
for n, networks in ((200, 6), (400, 3)):
    means = []
    for alpha in alphas:
        xi = rng.choice(np.array([-1.0, 1.0]), size=(networks, round(alpha * n), n))
        final = hopfield_recall(hebbian_weights(xi), xi, sweeps=20, block_size=n // 20, generator=rng)
        means.append(overlap(xi, final.states).numpy().mean())
    curves[n] = np.array(means)
    print(f"N = {n}: mean final overlap", "  ".join(f"α={a:.2f}: {m:.3f}" for a, m in zip(alphas, curves[n])))

# %% [markdown]
# The figure: the stored pictures, the corrupted probes and what recall made of them; the energy during
# recall; and the final overlap against the load, which stays near 1 below α_c ≈ 0.138 and drops above it
# (more sharply for the larger network).
# %% [markdown] ja
# 図は、記憶した画像、壊したプローブと想起の結果、想起中のエネルギー、そして負荷に対する最終的な
# オーバーラップです。オーバーラップは α_c ≈ 0.138 より下では 1 に近く、それを超えると下がります
# （大きなネットワークほど急激に）。

# %%
fig = plt.figure(figsize=(13, 4.2))
grid = fig.add_gridspec(3, 6)
for k, (name, images) in enumerate((("stored", patterns), ("probe", probes), ("recalled", result.states.numpy()))):
    for p in range(3):
        ax = fig.add_subplot(grid[p, k])
        ax.imshow(images[p].reshape(10, 10), cmap="gray_r", vmin=-1, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        if p == 0:
            ax.set_title(name, fontsize=9)
energy = fig.add_subplot(grid[:, 3])
energy.plot(result.energies, label=["band", "diamond", "checker"])
energy.legend(fontsize=8)
energy.set_xlabel("single-unit update")
energy.set_ylabel("energy E(x)")
energy.set_title("energy during recall", fontsize=9)
capacity = fig.add_subplot(grid[:, 4:])
for n, m in curves.items():
    capacity.plot(alphas, m, "o-", label=f"N = {n}")
capacity.axvline(0.138, color="gray", linestyle="--", label="α_c ≈ 0.138")
capacity.set_xlabel("load α = P / N")
capacity.set_ylabel("mean final overlap m")
capacity.set_title("capacity", fontsize=9)
capacity.legend(loc="lower left")
fig.tight_layout()
plt.show()
