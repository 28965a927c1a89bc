# %% [markdown]
# # Generative models: a VAE and a diffusion model
#
# Seed 000 §6.5 sorts generative models by how they represent the data distribution p(x). Two of them here:
#
# - The **variational autoencoder** (VAE) has a latent variable z ~ N(0, I) and a decoder p(x | z). An
#   encoder q(z | x) = N(μ(x), σ²(x)) approximates the posterior, and training maximises the evidence lower
#   bound ELBO(x) = E_q[log p(x | z)] − KL(q(z | x) ‖ N(0, I)) ≤ log p(x), with z = μ + σ ∘ ε (the
#   reparameterisation) so that the gradient flows through the sample.
# - The **diffusion model** (DDPM) destroys data with a fixed forward process that adds Gaussian noise over
#   T steps, x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, and learns the reverse: a network ε_θ(x_t, t) predicts the noise
#   (loss ‖ε − ε_θ‖²), and sampling starts from pure noise and removes it step by step.
#
# `fukaku.models.generative` has both: `VAE`, and `DDPM` with a `NoiseSchedule` and the noise network
# `EpsilonMLP`.
# %% [markdown] ja
# # 生成モデル: VAE と拡散モデル
#
# seed 000 §6.5 は、データ分布 p(x) をどう表すかで生成モデルを分類しています。ここではそのうち 2 つを扱います。
#
# - **変分オートエンコーダ（VAE）** は潜在変数 z ~ N(0, I) とデコーダ p(x | z) を持ちます。エンコーダ
#   q(z | x) = N(μ(x), σ²(x)) が事後分布を近似し、学習では証拠下界
#   ELBO(x) = E_q[log p(x | z)] − KL(q(z | x) ‖ N(0, I)) ≤ log p(x) を最大化します。z = μ + σ ∘ ε
#   （再パラメータ化）とすることで、勾配がサンプルを通って流れます。
# - **拡散モデル（DDPM）** は、T ステップかけてガウスノイズを加える固定の拡散過程
#   x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε でデータを壊し、その逆を学習します。ネットワーク ε_θ(x_t, t) がノイズを
#   予測し（損失 ‖ε − ε_θ‖²）、サンプリングは純粋なノイズから始めて 1 ステップずつノイズを取り除きます。
#
# `fukaku.models.generative` には両方があります。`VAE` と、`NoiseSchedule` およびノイズを予測する
# ネットワーク `EpsilonMLP` を使う `DDPM` です。

# %%
import matplotlib.pyplot as plt
import numpy as np

import fukaku as fk
from fukaku import optim
from fukaku.datasets import digits
from fukaku.models.generative import DDPM, VAE, EpsilonMLP, NoiseSchedule
from fukaku.utils.data import DataLoader, TensorDataset
from fukaku.vision.utils import make_grid

# %% [markdown]
# ## A VAE on the 8 × 8 digits
#
# Pixels in [0, 1] with a Bernoulli decoder (its outputs are logits), a two-dimensional latent space so that
# it can be drawn, one hidden layer of 128 units. `vae.loss(x)` is −ELBO averaged over the batch, in nats.
# %% [markdown] ja
# ## 8 × 8 の手書き数字の VAE
#
# 画素は [0, 1] で、デコーダはベルヌーイ分布（出力はロジット）、描けるように潜在空間は 2 次元、隠れ層は
# 128 ユニットの 1 層です。`vae.loss(x)` はバッチ平均の −ELBO（単位はナット）です。

# %%
fk.manual_seed(0)                                               # the weights and the reparameterisation noise
images, labels = digits()                                       # (1797, 64) in [0, 1]
vae = VAE(64, latent_features=2, hidden=(128,))
optimizer = optim.Adam(vae.parameters(), lr=3e-3)
loader = DataLoader(TensorDataset(images), batch_size=128, shuffle=True, generator=np.random.default_rng(0))
for epoch in range(1, 31):
    total = 0.0
    for (x,) in loader:
        loss = vae.loss(x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(x)
    if epoch % 10 == 0:
        print(f"epoch {epoch}: −ELBO {total / len(images):.2f} nats per image")

vae.eval()
with fk.no_grad():
    elbo = vae.elbo(images[:200]).mean().item()
    log_px = vae.log_likelihood(images[:200], k=100).mean().item()
print(f"first 200 images: ELBO {elbo:.2f} ≤ importance-sampled log p(x) {log_px:.2f} nats (k = 100)")

# %% [markdown]
# ## A DDPM on a ring of eight Gaussians
#
# The data are 2-D points from eight Gaussians on a ring, drawn fresh for every batch. The forward process
# has T = 100 steps with the linear β schedule; `ddpm.loss(x0)` draws t and ε and returns ‖ε − ε_θ(x_t, t)‖²
# averaged. The data and the diffusion noise come from separate generators.
# %% [markdown] ja
# ## 環状に並んだ 8 つのガウス分布の DDPM
#
# データは円周上に並んだ 8 つのガウス分布から取った 2 次元の点で、バッチごとに新しく生成します。拡散過程は
# 線形の β スケジュールで T = 100 ステップです。`ddpm.loss(x0)` は t と ε を引き、‖ε − ε_θ(x_t, t)‖² の
# 平均を返します。データと拡散のノイズは別々の乱数生成器から取ります。

# %%
centres = 1.4 * np.stack([np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)], axis=1)
data_rng = np.random.default_rng(0)


def ring(n: int) -> fk.Tensor:
    return fk.tensor((centres[data_rng.integers(0, 8, n)] + 0.07 * data_rng.normal(size=(n, 2))).astype(np.float32))


noise = fk.Generator().manual_seed(1)
ddpm = DDPM(EpsilonMLP(dim=2, hidden=128), NoiseSchedule.linear(100))
optimizer = optim.Adam(ddpm.parameters(), lr=2e-3)
schedule = optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / 1000)   # decay to 0: a sharper fit
losses = []
for step in range(1000):
    loss = ddpm.loss(ring(256), generator=noise)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    schedule.step()
    losses.append(loss.item())
print(f"noise-prediction loss: first 100 steps {np.mean(losses[:100]):.3f}, last 100 {np.mean(losses[-100:]):.3f}")

samples = ddpm.sample(1000, generator=noise).numpy()                 # ancestral sampling: 100 network passes


def distances(points: np.ndarray) -> np.ndarray:
    """Each point's distance to the nearest of the eight centres, and which centre that is."""
    d = np.linalg.norm(points[:, None] - centres[None], axis=-1)
    return d.min(1), d.argmin(1)


(sample_distance, mode), (data_distance, _) = distances(samples), distances(ring(1000).numpy())
print(f"median distance to the nearest centre: samples {np.median(sample_distance):.3f}, "
      f"data {np.median(data_distance):.3f}")
print("samples per mode:", np.bincount(mode, minlength=8))

# %% [markdown]
# The samples lie on the ring and cover all eight modes, but they are blurrier than the data. Is that the
# sampler or the network? For this data the best possible noise predictor is known in closed form: the
# minimiser of ‖ε − ε_θ(x_t, t)‖² is ε*(x_t, t) = −√(1 − ᾱ_t) ∇log p_t(x_t), and p_t, the data blurred by
# the forward process, is again a mixture of eight Gaussians. Plugged into the same `DDPM`, it shows what
# ancestral sampling gives with a perfect network: samples as sharp as the data, so the blur comes from the
# small network's approximation of ε*.
# %% [markdown] ja
# サンプルはリング上にあり 8 つのモードをすべて覆っていますが、データよりぼやけています。原因はサンプリング
# でしょうか、それともネットワークでしょうか。このデータでは最良のノイズ予測器が閉じた式で分かります。
# ‖ε − ε_θ(x_t, t)‖² を最小にするのは ε*(x_t, t) = −√(1 − ᾱ_t) ∇log p_t(x_t) で、拡散過程でぼかした
# データの分布 p_t もまた 8 つのガウス分布の混合です。これを同じ `DDPM` に組み込むと、完全なネットワークで
# 祖先サンプリングを行った場合の結果が分かります。サンプルはデータと同じくらい鋭くなるので、ぼやけの原因は
# 小さなネットワークによる ε* の近似にあります。

# %%
class ExactNoise(fk.nn.Module):
    """ε*(x_t, t) of the eight-Gaussian ring (variance 0.07² around each centre), in NumPy."""

    dim = 2

    def forward(self, x: fk.Tensor, t: fk.Tensor) -> fk.Tensor:
        alpha_bar = ddpm.schedule.alpha_bars[t.numpy()][:, None, None]
        variance = alpha_bar * 0.07 ** 2 + 1 - alpha_bar                    # of each blurred component
        towards = np.sqrt(alpha_bar) * centres[None] - x.numpy()[:, None]      # (N, 8, 2)
        log_w = -(towards ** 2).sum(-1, keepdims=True) / (2 * variance)
        weights = np.exp(log_w - log_w.max(1, keepdims=True))
        weights /= weights.sum(1, keepdims=True)                             # p(component | x_t)
        score = (weights * towards / variance).sum(1)                         # ∇ log p_t(x_t)
        return fk.tensor(-np.sqrt(1 - alpha_bar[:, 0]) * score, dtype=fk.float32)


exact = DDPM(ExactNoise(), ddpm.schedule).sample(1000, generator=noise).numpy()
print(f"median distance to the nearest centre: exact ε* {np.median(distances(exact)[0]):.3f}, "
      f"trained ε_θ {np.median(sample_distance):.3f}, data {np.median(data_distance):.3f}")

# %% [markdown]
# The figure: the VAE's latent means of the digits coloured by class, images decoded from a grid of z,
# the forward process noising the ring, and the DDPM's samples (trained network, exact ε*) over the data.
# %% [markdown] ja
# 図は、数字の潜在変数の平均 μ をクラスごとに色分けしたもの、z の格子からデコードした画像、リングに
# ノイズを加えていく拡散過程、そして DDPM のサンプル（学習したネットワークと厳密な ε*）をデータに
# 重ねたものです。

# %%
with fk.no_grad():
    mu, _ = vae.encode(images)
    z = fk.tensor(np.stack(np.meshgrid(np.linspace(-2, 2, 10), np.linspace(2, -2, 10)), -1).reshape(-1, 2),
                  dtype=fk.float32)
    decoded = vae.mean(z).reshape(-1, 1, 8, 8)
tiles = make_grid(decoded, nrow=10, padding=1, pad_value=0.0).numpy()[0]

x0 = ring(1000)
fig, axes = plt.subplots(1, 6, figsize=(19, 3.6))
points = axes[0].scatter(*mu.numpy().T, c=labels.numpy(), cmap="tab10", s=4)
axes[0].set_title("VAE: latent μ of each digit")
fig.colorbar(points, ax=axes[0], ticks=range(10))
axes[1].imshow(tiles, cmap="gray_r")
axes[1].set_title("decoded from z ∈ [−2, 2]²")
axes[1].axis("off")
for ax, t in ((axes[2], 10), (axes[3], 40)):
    step = fk.full((1000,), t, dtype=fk.int64)
    xt = ddpm.schedule.q_sample(x0, step, fk.randn(1000, 2, generator=noise)).numpy()
    ax.scatter(*xt.T, s=2, color="gray")
    ax.set_title(f"forward process, t = {t}")
axes[4].scatter(*x0.numpy().T, s=2, label="data", color="gray")
axes[4].scatter(*samples.T, s=2, label="DDPM samples", color="tab:red")
axes[4].set_title("reverse process: trained ε_θ")
axes[4].legend(loc="center", markerscale=4, fontsize=8)
axes[5].scatter(*x0.numpy().T, s=2, color="gray")
axes[5].scatter(*exact.T, s=2, color="tab:green")
axes[5].set_title("reverse process: exact ε*")
for ax in axes[2:]:
    ax.set_xlim(-3, 3)
    ax.set_ylim(-3, 3)
    ax.set_aspect("equal")
fig.tight_layout()
plt.show()
