# %% [markdown]
# # Tensors and automatic differentiation
#
# fukaku's `Tensor` is a NumPy array that can remember how it was computed. Every operation on a tensor
# with `requires_grad=True` adds a node to a graph that is built as the code runs (define-by-run, the
# "dynamic computational graph" of seed 000 §6.1.2). Calling `backward()` walks that graph from the
# result back to the inputs and applies the chain rule at every node: reverse-mode automatic
# differentiation, which is backpropagation written once for every model.
#
# The API is PyTorch's: `fk.tensor`, `fk.randn`, `x.sum(dim=0)`, `y.backward()`, `x.grad`, `fk.no_grad()`.
# %% [markdown] ja
# # テンソルと自動微分
#
# fukaku の `Tensor` は、自分がどう計算されたかを覚えている NumPy 配列です。`requires_grad=True` の
# テンソルに演算を行うたびに、コードの実行と同時に計算グラフへノードが追加されます（define-by-run、
# seed 000 §6.1.2 の「動的計算グラフ」）。`backward()` を呼ぶと、このグラフを結果から入力へとたどり、
# 各ノードで連鎖律を適用します。これがリバースモードの自動微分であり、あらゆるモデルに共通に一度だけ
# 書かれた誤差逆伝播法です。
#
# API は PyTorch と同じです: `fk.tensor`、`fk.randn`、`x.sum(dim=0)`、`y.backward()`、`x.grad`、`fk.no_grad()`。

# %%
import matplotlib.pyplot as plt
import numpy as np

import fukaku as fk

fk.manual_seed(0)                  # every random draw below is reproducible
np.set_printoptions(precision=4)

# %% [markdown]
# ## Tensors
#
# Creation functions, dtypes and broadcasting follow PyTorch: the default dtype is `float32`, and a
# `(2, 2)` matrix plus a `(2,)` vector adds the vector to every row.
# %% [markdown] ja
# ## テンソル
#
# 生成関数、dtype、ブロードキャストは PyTorch と同じです。既定の dtype は `float32` で、`(2, 2)` の行列に
# `(2,)` のベクトルを足すと、ベクトルが各行に加えられます。

# %%
a = fk.tensor([[1.0, 2.0], [3.0, 4.0]])
b = fk.tensor([10.0, 20.0])
print(a + b)
print("dtype:", a.dtype, " shape:", tuple(a.shape))
print("column sums:", a.sum(dim=0))
print("int64 + float → ", (fk.ones(2, dtype=fk.int64) + 0.5).dtype)
print("as a NumPy array:", (a @ a).numpy())

# %% [markdown]
# ## Gradients by reverse mode
#
# Take L = Σ (w·x)² for a fixed x. By hand, ∂L/∂w_i = 2 (w·x) x_i. `L.backward()` stores exactly that in
# `w.grad`; `grad_fn` names the last operation of the graph.
# %% [markdown] ja
# ## リバースモードによる勾配
#
# 固定した x に対して L = Σ (w·x)² を考えます。手で微分すると ∂L/∂w_i = 2 (w·x) x_i です。
# `L.backward()` はまさにこの値を `w.grad` に格納します。`grad_fn` はグラフの最後の演算の名前です。

# %%
x = fk.randn(3, 4)
w = fk.randn(4, requires_grad=True)
loss = ((x @ w) ** 2).sum()
print("loss:", loss.item(), " grad_fn:", loss.grad_fn)
loss.backward()
by_hand = 2 * (x.numpy() @ w.detach().numpy()) @ x.numpy()
print("autograd:", w.grad.numpy())
print("by hand: ", by_hand)
print("max difference:", np.abs(w.grad.numpy() - by_hand).max())

# %% [markdown]
# ## Forward mode and higher derivatives
#
# Forward mode pushes a tangent (a direction) through each operation's jvp rule alongside the values:
# one pass gives a directional derivative. Because fukaku's backward rules are themselves written with
# tensor operations, `fk.autograd.grad(..., create_graph=True)` gives a gradient that can be
# differentiated again.
# %% [markdown] ja
# ## フォワードモードと高階微分
#
# フォワードモードでは、値と一緒に接ベクトル（方向）を各演算の jvp 規則に通して前向きに伝えます。
# 1 回の計算で方向微分が得られます。fukaku の逆伝播の規則はそれ自体がテンソル演算で書かれているので、
# `fk.autograd.grad(..., create_graph=True)` で得た勾配をもう一度微分できます。

# %%
from fukaku.autograd.functional import jvp

value, tangent = jvp(lambda t: t.sin(), (fk.tensor([0.0, 1.0]),), (fk.tensor([1.0, 1.0]),))
print("sin(x):", value, " d/dx sin(x) = cos(x):", tangent)

t = fk.linspace(-3.0, 3.0, 201, dtype=fk.float64, requires_grad=True)
y = t.tanh()
(first,) = fk.autograd.grad(y.sum(), t, create_graph=True)   # d tanh / dt, still part of a graph
(second,) = fk.autograd.grad(first.sum(), t)                   # d² tanh / dt²
closed_first = 1 - np.tanh(t.detach().numpy()) ** 2
closed_second = -2 * np.tanh(t.detach().numpy()) * closed_first
print("max |error| of the 1st derivative:", np.abs(first.detach().numpy() - closed_first).max())
print("max |error| of the 2nd derivative:", np.abs(second.numpy() - closed_second).max())

# %% [markdown]
# The figure shows tanh and the two derivatives autograd computed (lines) on top of the closed forms
# 1 − tanh² and −2 tanh (1 − tanh²) (dots). The derivative of tanh is at most 1 and vanishes for large
# |t|: the root of the vanishing gradient of seed 000 §6.1.3.
# %% [markdown] ja
# 図は tanh と、自動微分で求めた 2 つの導関数（線）を、閉じた式 1 − tanh² と −2 tanh (1 − tanh²)（点）に
# 重ねたものです。tanh の導関数は最大でも 1 で、|t| が大きいと 0 に近づきます。これが seed 000 §6.1.3 の
# 勾配消失の原因です。

# %%
grid = t.detach().numpy()
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(grid, y.detach().numpy(), label="tanh(t)")
ax.plot(grid, first.detach().numpy(), label="d/dt (autograd)")
ax.plot(grid, second.numpy(), label="d²/dt² (autograd)")
ax.plot(grid[::10], closed_first[::10], "k.", label="closed forms")
ax.plot(grid[::10], closed_second[::10], "k.")
ax.set_xlabel("t")
ax.set_ylabel("value")
ax.legend(loc="upper left", fontsize=8)
ax.grid(alpha=0.3)
plt.show()
