"""fukaku.models.generative.diffusion: schedules against their closed forms, the time embedding against a
PyTorch transcription, L_simple against a hand computation with the same draws, and the samplers against
the exact noise predictor of Gaussian and point-mixture data (so the samplers are checked apart from
any training)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku import nn
from fukaku.models.generative.diffusion import DDPM, EpsilonMLP, NoiseSchedule, timestep_embedding


def test_schedules_follow_their_closed_forms():
    linear = NoiseSchedule.linear(1000)
    assert linear.betas[0] == pytest.approx(1e-4) and linear.betas[-1] == pytest.approx(0.02)
    product = np.ones(1000)
    for t in range(1000):   # ᾱ_t = Π_{s≤t} (1 − β_s), erratum C5
        product[t] = (product[t - 1] if t else 1.0) * (1 - linear.betas[t])
    np.testing.assert_allclose(linear.alpha_bars, product, rtol=1e-12)
    assert NoiseSchedule.linear(100).betas[-1] == pytest.approx(0.2)   # scaled by 1000/T
    cosine, s = NoiseSchedule.cosine(200), 0.008
    f = np.cos((np.arange(201) / 200 + s) / (1 + s) * math.pi / 2) ** 2
    np.testing.assert_allclose(cosine.alpha_bars[:-5], (f[1:] / f[0])[:-5], rtol=1e-9)   # unclipped part


@pytest.mark.parametrize("betas", [[], [0.1, 1.0], [[0.1]], [-0.1]])
def test_schedule_refuses_bad_betas(betas):
    with pytest.raises(ValueError, match="NoiseSchedule: betas"):
        NoiseSchedule(betas)


def test_q_sample_is_the_closed_form_and_q_step_one_step():
    s = NoiseSchedule.cosine(50)
    x0, noise = fk.randn(6, 3), fk.randn(6, 3)
    t = fk.tensor([0, 3, 10, 20, 40, 49])
    a = s.alpha_bars[t.numpy()][:, None]
    np.testing.assert_allclose(s.q_sample(x0, t, noise).numpy(), np.sqrt(a) * x0.numpy() + np.sqrt(1 - a) * noise.numpy(),
                               rtol=1e-5, atol=1e-6)
    b = s.betas[t.numpy()][:, None]
    np.testing.assert_allclose(s.q_step(x0, t, noise).numpy(), np.sqrt(1 - b) * x0.numpy() + np.sqrt(b) * noise.numpy(),
                               rtol=1e-5, atol=1e-6)
    at_zero = s.q_sample(x0, fk.zeros(6, dtype=fk.int64), noise)   # t = 0 is one step: equals q_step from x0
    np.testing.assert_allclose(at_zero.numpy(), s.q_step(x0, fk.zeros(6, dtype=fk.int64), noise).numpy(), rtol=1e-6)


def test_timestep_embedding_matches_a_pytorch_transcription():
    t = torch.tensor([0, 1, 7, 99, 999])
    half = 8
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    angles = t.float()[:, None] * freqs[None]
    expected = torch.cat([torch.cos(angles), torch.sin(angles)], dim=1)
    np.testing.assert_allclose(timestep_embedding(fk.tensor(t.numpy()), 16).numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="positive even"):
        timestep_embedding(fk.tensor([1]), 7)


def test_loss_is_l_simple_with_the_same_draws():
    fk.manual_seed(0)
    ddpm = DDPM(EpsilonMLP(3, 16, blocks=1), NoiseSchedule.linear(40))
    x0 = fk.randn(8, 3)
    loss = ddpm.loss(x0, generator=fk.Generator().manual_seed(5))
    replay = fk.Generator().manual_seed(5)   # the same draws, in the same order: t, then ε
    t = fk.randint(0, 40, (8,), generator=replay)
    noise = fk.randn(8, 3, generator=replay)
    a = ddpm.schedule.alpha_bars[t.numpy()][:, None]
    x_t = fk.tensor((np.sqrt(a) * x0.numpy() + np.sqrt(1 - a) * noise.numpy()).astype(np.float32))
    expected = ((noise.numpy() - ddpm.model(x_t, t).detach().numpy()) ** 2).mean()
    assert float(loss) == pytest.approx(float(expected), rel=1e-5)
    loss.backward()
    assert all(p.grad is not None for p in ddpm.parameters())


def test_conditional_model_and_guidance_formula():
    fk.manual_seed(1)
    model = EpsilonMLP(2, 16, blocks=1, num_classes=3)
    ddpm = DDPM(model, NoiseSchedule.linear(20), p_uncond=0.5)
    x, t, y = fk.randn(4, 2), fk.tensor([0, 5, 10, 19]), fk.tensor([0, 1, 2, 1])
    assert ddpm.loss(x, y).dim() == 0
    with fk.no_grad():
        conditional, unconditional = model(x, t, y), model(x, t, fk.full((4,), 3, dtype=fk.int64))
        np.testing.assert_allclose(model(x, t).numpy(), unconditional.numpy())   # no label: the null label
        guided = ddpm.guided_eps(x, t, y, 2.0)
        np.testing.assert_allclose(guided.numpy(), (3 * conditional - 2 * unconditional).numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ddpm.guided_eps(x, t, y, 0.0).numpy(), conditional.numpy())
    with pytest.raises(ValueError, match="one label per sample"):
        ddpm.sample(5, y=y)
    with pytest.raises(ValueError, match="p_uncond"):
        DDPM(model, NoiseSchedule.linear(20), p_uncond=1.0)


class ExactGaussianNoise(nn.Module):
    """The best noise predictor for data N(μ, s² I): E[ε | x_t] = √(1 − ᾱ)(x_t − √ᾱ μ)/(ᾱ s² + 1 − ᾱ)."""

    num_classes = None

    def __init__(self, schedule: NoiseSchedule, mu: float, s: float, dim: int = 2) -> None:
        super().__init__()
        self.schedule, self.mu, self.s, self.dim = schedule, mu, s, dim

    def forward(self, x, t):
        a = self.schedule.alpha_bars[t.numpy()][:, None]
        eps = np.sqrt(1 - a) * (x.numpy() - np.sqrt(a) * self.mu) / (a * self.s ** 2 + 1 - a)
        return fk.tensor(eps.astype(np.float32))


@pytest.mark.parametrize("sampler", ["ancestral", "ddim", "ddim-stochastic"])
def test_samplers_with_the_exact_predictor_reproduce_gaussian_data(sampler):
    schedule = NoiseSchedule.linear(200)
    ddpm = DDPM(ExactGaussianNoise(schedule, mu=1.5, s=0.5), schedule)
    g = fk.Generator().manual_seed(3)
    n = 4000
    x = {"ancestral": lambda: ddpm.sample(n, generator=g),
         "ddim": lambda: ddpm.sample_ddim(n, steps=50, generator=g),
         "ddim-stochastic": lambda: ddpm.sample_ddim(n, steps=100, eta=1.0, generator=g)}[sampler]().numpy()
    se = 0.5 / math.sqrt(n)
    assert np.abs(x.mean(0) - 1.5).max() < 5 * se
    assert np.abs(x.std(0) - 0.5).max() < 5 * 0.5 / math.sqrt(2 * n) + 0.01


def test_ddim_with_eta_zero_is_deterministic_given_the_start():
    schedule = NoiseSchedule.cosine(100)
    ddpm = DDPM(ExactGaussianNoise(schedule, mu=0.0, s=1.0), schedule)
    a = ddpm.sample_ddim(16, steps=10, generator=fk.Generator().manual_seed(4))
    b = ddpm.sample_ddim(16, steps=10, generator=fk.Generator().manual_seed(4))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(ValueError, match="steps must be"):
        ddpm.sample_ddim(4, steps=101)


def test_sample_needs_a_shape_when_the_model_has_no_dim():
    class Bare(nn.Module):
        def forward(self, x, t):
            return x

    with pytest.raises(ValueError, match="full shape"):
        DDPM(Bare(), NoiseSchedule.linear(10)).sample(3)
    assert DDPM(Bare(), NoiseSchedule.linear(10)).sample((3, 1, 4, 4)).shape == (3, 1, 4, 4)


class TorchEpsilonMLP(torch.nn.Module):
    """EpsilonMLP written in PyTorch, parameter for parameter (the same state-dict keys): the oracle of the
    conformance test below and the twin that benchmarks/bench_generative.py times."""

    def __init__(self, dim: int, hidden: int, blocks: int, time_dim: int = 32, num_classes: int | None = None,
                 fourier_features: int = 0) -> None:
        super().__init__()
        nn_ = torch.nn
        self.time_dim, self.num_classes = time_dim, num_classes
        if fourier_features:
            self.register_buffer("fourier", torch.zeros(dim, fourier_features))  # loaded from fukaku's
        self.fourier_features = fourier_features
        self.time = nn_.Sequential(nn_.Linear(time_dim, hidden), nn_.SiLU(), nn_.Linear(hidden, hidden))
        self.label = None if num_classes is None else nn_.Embedding(num_classes + 1, hidden)
        self.input = nn_.Linear(dim + 2 * fourier_features, hidden)
        self.blocks = nn_.ModuleList(nn_.Sequential(nn_.SiLU(), nn_.Linear(hidden, hidden), nn_.SiLU(),
                                                    nn_.Linear(hidden, hidden)) for _ in range(blocks))
        self.out = nn_.Sequential(nn_.SiLU(), nn_.Linear(hidden, dim))

    def forward(self, x, t, y=None):
        half = self.time_dim // 2
        freqs = torch.exp(torch.arange(half, dtype=torch.float32) * (-math.log(10000.0) / half))
        angles = t.float()[:, None] * freqs[None]
        code = self.time(torch.cat([torch.cos(angles), torch.sin(angles)], dim=1))
        if self.label is not None:
            code = code + self.label(torch.full((len(x),), self.num_classes) if y is None else y)
        if self.fourier_features:
            z = x @ self.fourier
            x = torch.cat([x, torch.sin(z), torch.cos(z)], dim=1)
        h = self.input(x)
        for block in self.blocks:
            h = h + block(h + code)
        return self.out(h)


@pytest.mark.parametrize("fourier_features", [0, 6])
def test_epsilon_mlp_matches_its_pytorch_twin(fourier_features):
    fk.manual_seed(6)
    ours = EpsilonMLP(5, 24, blocks=2, num_classes=3, fourier_features=fourier_features, fourier_scale=2.0)
    twin = TorchEpsilonMLP(5, 24, 2, num_classes=3, fourier_features=fourier_features)
    twin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(7, 5)).astype(np.float32)
    t, y = np.array([0, 3, 9, 20, 50, 99, 1]), np.array([0, 1, 2, 3, 1, 0, 2])
    out = ours(fk.tensor(x, requires_grad=True), fk.tensor(t), fk.tensor(y))
    expected = twin(torch.tensor(x), torch.tensor(t), torch.tensor(y))
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-4, atol=1e-5)
    (out ** 2).sum().backward()
    (expected ** 2).sum().backward()
    grads = dict(twin.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[name].grad.numpy(), rtol=1e-3, atol=1e-5, err_msg=name)


def test_fourier_features_are_a_fixed_buffer_of_the_asked_scale():
    fk.manual_seed(0)
    model = EpsilonMLP(2, 16, blocks=1, fourier_features=4000, fourier_scale=3.0)
    b = model.state_dict()["fourier"].numpy()
    assert b.shape == (2, 4000) and abs(b.std() - 3.0) < 0.1
    assert "fourier" not in dict(model.named_parameters()) and "fourier_features=4000" in repr(model)
    assert EpsilonMLP(2, 16).input.in_features == 2 and model.input.in_features == 2 + 2 * 4000
    with pytest.raises(ValueError, match="fourier_features must be >= 0"):
        EpsilonMLP(2, fourier_features=-1)
