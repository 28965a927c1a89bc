# %% [markdown]
# # The neural tangent kernel and double descent
#
# Two results of the theory of deep learning, seed 000 §6.1.8 and §6.1.9.
#
# **The neural tangent kernel.** Gradient descent on the parameters θ moves the output at x by
# ∇_θf(x)·Δθ, so how training on one point changes the output at another is governed by the kernel
# K(x, x′) = ∇_θf(x)·∇_θf(x′). In the infinite-width limit (with the NTK parameterisation) K is the same
# for every random initialisation and stays constant during training; the network then trains like its
# linearisation, and gradient flow on ½‖f(X) − y‖² has the closed form
# f_t(x) = f_0(x) + K(x, X) K(X, X)⁻¹ (I − e^{−ηK(X, X)t}) (y − f_0(X)) (as corrected by erratum C4).
#
# **Double descent.** The classical picture says test error rises once a model has more parameters than it
# needs. Past the interpolation threshold (as many parameters as training points, where the model can fit
# every point and also fits the noise) the test error falls again, because among all the interpolating
# solutions the minimum-norm one is chosen.
#
# `fukaku.theory.ntk` and `fukaku.theory.double_descent` implement both.
# %% [markdown] ja
# # ニューラルタンジェントカーネルと二重降下現象
#
# 深層学習の理論から 2 つの結果を扱います（seed 000 §6.1.8 と §6.1.9）。
#
# **ニューラルタンジェントカーネル（NTK）。** パラメータ θ に対する勾配降下法は、x での出力を
# ∇_θf(x)·Δθ だけ動かします。したがって、ある点での学習が別の点の出力をどう変えるかはカーネル
# K(x, x′) = ∇_θf(x)·∇_θf(x′) で決まります。無限幅極限（NTK パラメータ化）では K はどのランダムな初期化でも
# 同じになり、学習中も一定です。このときネットワークは線形化したモデルと同じように学習し、
# ½‖f(X) − y‖² 上の勾配流は閉じた式
# f_t(x) = f_0(x) + K(x, X) K(X, X)⁻¹ (I − e^{−ηK(X, X)t}) (y − f_0(X)) で表されます（正誤表 C4 で訂正した式）。
#
# **二重降下現象。** 古典的な描像では、モデルのパラメータ数が必要以上に増えるとテスト誤差は上がります。
# しかし補間境界（パラメータ数が訓練点の数と等しく、すべての点に、つまりノイズにまで当てはめられる点）を
# 越えると、テスト誤差は再び下がります。すべての点を補間する解のうち、ノルム最小の解が選ばれるためです。
#
# `fukaku.theory.ntk` と `fukaku.theory.double_descent` が両方を実装しています。

# %%
import matplotlib.pyplot as plt
import numpy as np

import fukaku as fk
from fukaku import optim
from fukaku.theory.double_descent import linear_double_descent
from fukaku.theory.ntk import empirical_ntk, gradient_flow_prediction, ntk_kernel, ntk_mlp

fk.manual_seed(0)
angles = np.linspace(0, 2 * np.pi, 8, endpoint=False) + 0.2
x = fk.tensor(np.stack([np.cos(angles), np.sin(angles)], 1))             # 8 points on the unit circle, float64
y = fk.tensor(np.sin(2 * angles)[:, None])
test_angles = np.linspace(0, 2 * np.pi, 200)
x_test = fk.tensor(np.stack([np.cos(test_angles), np.sin(test_angles)], 1))

# %% [markdown]
# ## The empirical NTK approaches its infinite-width limit
#
# `empirical_ntk(net, x)` is ∇_θf(X) ∇_θf(X)ᵀ for a concrete network; `ntk_kernel(x, depth=1)` the analytic
# limit for one hidden ReLU layer of infinite width. Their relative difference shrinks as the width grows.
# %% [markdown] ja
# ## 経験的 NTK は無限幅の極限に近づく
#
# `empirical_ntk(net, x)` は具体的なネットワークの ∇_θf(X) ∇_θf(X)ᵀ、`ntk_kernel(x, depth=1)` は無限幅の
# ReLU 隠れ層 1 層についての解析的な極限です。幅を大きくすると、両者の相対的な差は小さくなります。

# %%
theta = ntk_kernel(x, depth=1)
widths = [64, 256, 1024, 4096]
gaps = []
for width in widths:
    runs = [(empirical_ntk(ntk_mlp([2, width, 1], dtype=fk.float64), x) - theta).norm() / theta.norm()
            for _ in range(10)]
    gaps.append(np.mean([r.item() for r in runs]))
    print(f"width {width:5d}: ‖K − Θ‖ / ‖Θ‖ = {gaps[-1]:.3f} (mean of 10 networks)")
slope = np.polyfit(np.log(widths), np.log(gaps), 1)[0]
print(f"slope on log–log axes: {slope:.2f} (the fluctuations of K fall as 1/√width: −0.5)")

# %% [markdown]
# ## A wide network trains like kernel regression with its initial NTK
#
# Gradient descent with a small step on a network of width 4096, compared with the closed-form gradient
# flow computed from the kernel at initialisation alone.
# %% [markdown] ja
# ## 幅の広いネットワークは初期 NTK によるカーネル回帰のように学習する
#
# 幅 4096 のネットワークを小さなステップの勾配降下法で学習させ、初期化時のカーネルだけから計算した
# 勾配流の閉じた式と比べます。

# %%
net = ntk_mlp([2, 4096, 1], dtype=fk.float64)
kernel, kernel_test = empirical_ntk(net, x), empirical_ntk(net, x_test, x)
with fk.no_grad():
    f0, f0_test = net(x), net(x_test)
lr, steps = 0.1, 300
optimizer = optim.SGD(net.parameters(), lr=lr)
for _ in range(steps):
    optimizer.zero_grad()
    (0.5 * ((net(x) - y) ** 2).sum()).backward()
    optimizer.step()
with fk.no_grad():
    trained = net(x_test).numpy()[:, 0]
predicted = gradient_flow_prediction(kernel, y, t=steps, lr=lr, f0_train=f0, kernel_test=kernel_test,
                                     f0_test=f0_test).numpy()[:, 0]
print(f"training loss after {steps} steps: {0.5 * ((net(x) - y) ** 2).sum().item():.2e}")
print(f"max |trained network − NTK prediction| on the circle: {np.abs(trained - predicted).max():.4f} "
      f"(outputs range {np.ptp(trained):.2f})")

# %% [markdown]
# ## Double descent in linear regression
#
# The "prefix" model of Belkin, Hsu & Xu: n = 40 training points with D = 120 Gaussian features, a signal
# on the first 20, label noise σ = 0.5; the learner fits the minimum-norm least-squares solution X⁺y on the
# first p features. The median test error over 30 training sets peaks at p = n, then falls; the dashed line is
# the closed form of the expected error (`sweep.expected`, from `prefix_model_risk`), infinite at the threshold
# itself.
# %% [markdown] ja
# ## 線形回帰における二重降下現象
#
# Belkin, Hsu & Xu の「prefix」モデルです。訓練点は n = 40、ガウス分布に従う特徴量は D = 120 個で、信号は
# 最初の 20 個にあり、ラベルノイズは σ = 0.5 です。学習器は最初の p 個の特徴量に対して最小ノルムの
# 最小二乗解 X⁺y を求めます。30 組の訓練データでのテスト誤差の中央値は p = n で最大になり、その後
# 下がります。破線は期待誤差の閉じた式（`prefix_model_risk` による `sweep.expected`）で、補間境界そのものでは無限大です。

# %%
n, depth, sigma = 40, 120, 0.5
beta = np.zeros(depth)
beta[:20] = np.random.default_rng(0).standard_normal(20)
beta /= np.linalg.norm(beta)
ps = np.arange(2, depth + 1, 2)
sweep = linear_double_descent(n, ps, beta, [sigma], trials=30, rng=np.random.default_rng(1))[sigma]
for p in (10, 30, 40, 50, 80, 120):
    i = int(np.nonzero(ps == p)[0][0])
    print(f"p = {p:3d}: median test MSE {sweep.median_test_mse[i]:8.3f}   closed form {sweep.expected[i]:8.3f}   "
          f"median train MSE {np.median(sweep.train_mse[:, i]):.3f}")

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
axes[0].loglog(widths, gaps, "o-", label="measured")
axes[0].loglog(widths, gaps[0] * (np.array(widths) / widths[0]) ** -0.5, "k--", label="∝ width^−½")
axes[0].set_xlabel("hidden width")
axes[0].set_ylabel("‖K − Θ‖ / ‖Θ‖")
axes[0].set_title("empirical NTK → infinite-width NTK")
axes[0].legend()
axes[1].plot(test_angles, trained, label="trained network (width 4096)")
axes[1].plot(test_angles, predicted, "--", label="NTK gradient-flow prediction")
axes[1].plot(angles, y.numpy()[:, 0], "ko", label="training points")
axes[1].set_xlabel("angle of x on the unit circle")
axes[1].set_ylabel("f(x)")
axes[1].set_title(f"after {steps} steps of gradient descent")
axes[1].legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=2)   # below: no curve hidden
axes[2].semilogy(ps, sweep.median_test_mse, "o-", markersize=3, label="median test MSE")
axes[2].semilogy(ps, np.where(np.isfinite(sweep.expected), sweep.expected, np.nan), "k--",
                 label="closed form (∞ next to p = n)")
axes[2].axvline(n, color="gray", linestyle=":", label="p = n (interpolation threshold)")
axes[2].set_xlabel("features used p")
axes[2].set_ylabel("test MSE")
axes[2].set_title(f"double descent, n = {n}, σ = {sigma}")
axes[2].legend(fontsize=8)
fig.tight_layout()
plt.show()
