"""Generative models' training steps against PyTorch CPU (issue 13: ≤ 1.5× PyTorch's time), in one run.

Cases, each one Adam step (forward, loss, backward, update), timed as the median of ``--repeats`` after a
warm-up, fukaku and torch interleaved (``bench_cnn``'s helpers):

* ``ddpm-step``: the class-conditional DDPM of the ``diffusion-digits`` experiment — the ε-MLP (64 → 256,
  two residual blocks, time and label codes) on a batch of 128 8×8 digits, L_simple at random steps of a
  T = 100 cosine schedule; torch runs its twin (tests/models/generative/test_diffusion.py, same weights);
* ``vae-step``: the VAE of PyTorch's classic example (784 → 400 → 20 latent → 400 → 784, ReLU, Bernoulli
  decoder, −ELBO with the closed-form KL) on a batch of 128 MNIST-sized vectors; torch runs the same layers;
* ``realnvp-step``: Real NVP with Glow steps (8 couplings of 64 units) on a batch of 256 2-D points,
  −log p(x).

Peak memory per library in a fresh subprocess (``--memory-of``), as in ``bench_cnn.py``.

Usage: ``python benchmarks/bench_generative.py [--repeats 7] [--threads 2] [--case ddpm-step]``.
"""
from __future__ import annotations

import os
import sys

import numpy as np
from bench_cnn import _import, compared, handled_aside, machine_line, parse_options

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = ("ddpm-step", "vae-step", "realnvp-step")
T = 100


def _torch_ddpm_twin(torch, model):
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    from tests.models.generative.test_diffusion import TorchEpsilonMLP

    twin = TorchEpsilonMLP(64, 256, 2, num_classes=10)
    twin.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    return twin


def ddpm_step(lib, rng):
    import fukaku
    from fukaku.models.generative.diffusion import DDPM, EpsilonMLP, NoiseSchedule

    fukaku.manual_seed(0)
    model, schedule = EpsilonMLP(64, 256, 2, num_classes=10), NoiseSchedule.cosine(T)
    x, y = rng.uniform(-1, 1, (128, 64)).astype(np.float32), rng.integers(0, 10, 128)
    if lib is fukaku:
        ddpm = DDPM(model, schedule, p_uncond=0.1)
        opt = fukaku.optim.Adam(ddpm.parameters(), lr=1e-3)
        inputs, labels = fukaku.tensor(x), fukaku.tensor(y)
        return lambda: _adam(opt, lambda: ddpm.loss(inputs, labels))
    torch = lib
    twin = _torch_ddpm_twin(torch, model)
    opt = torch.optim.Adam(twin.parameters(), lr=1e-3)
    sqrt_a = torch.tensor(np.sqrt(schedule.alpha_bars), dtype=torch.float32)
    sqrt_1ma = torch.tensor(np.sqrt(1 - schedule.alpha_bars), dtype=torch.float32)
    inputs, labels = torch.tensor(x), torch.tensor(y)

    def loss():
        t = torch.randint(0, T, (128,))
        noise = torch.randn(128, 64)
        dropped = torch.where(torch.rand(128) < 0.1, torch.full((128,), 10), labels)
        x_t = sqrt_a[t][:, None] * inputs + sqrt_1ma[t][:, None] * noise
        return ((noise - twin(x_t, t, dropped)) ** 2).mean()

    return lambda: _adam(opt, loss)


def vae_step(lib, rng):
    import fukaku

    x = (rng.uniform(0, 1, (128, 784)) > 0.7).astype(np.float32)
    if lib is fukaku:
        from fukaku.models.generative.vae import VAE

        fukaku.manual_seed(0)
        vae = VAE(784, 20, hidden=(400,))
        opt = fukaku.optim.Adam(vae.parameters(), lr=1e-3)
        inputs = fukaku.tensor(x)
        return lambda: _adam(opt, lambda: vae.loss(inputs))
    torch = lib
    nn, F = torch.nn, torch.nn.functional
    torch.manual_seed(0)
    encoder = nn.Sequential(nn.Linear(784, 400), nn.ReLU(), nn.Linear(400, 40))
    decoder = nn.Sequential(nn.Linear(20, 400), nn.ReLU(), nn.Linear(400, 784))
    opt = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=1e-3)
    inputs = torch.tensor(x)

    def loss():
        mu, logvar = encoder(inputs).chunk(2, dim=1)
        z = mu + (0.5 * logvar).exp() * torch.randn_like(mu)
        reconstruction = F.binary_cross_entropy_with_logits(decoder(z), inputs, reduction="none").sum(1)
        kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(1)
        return (reconstruction + kl).mean()

    return lambda: _adam(opt, loss)


def realnvp_step(lib, rng):
    import fukaku

    x = rng.normal(size=(256, 2)).astype(np.float32)
    if lib is not fukaku:
        return None   # no PyTorch twin: fukaku's own time is reported
    from fukaku.models.generative.flows import RealNVP

    fukaku.manual_seed(0)
    flow = RealNVP(2, 8, 64)
    opt = fukaku.optim.Adam(flow.parameters(), lr=1e-3)
    inputs = fukaku.tensor(x)
    return lambda: _adam(opt, lambda: -flow.log_prob(inputs).mean())


def _adam(opt, loss_fn) -> None:
    opt.zero_grad()
    loss_fn().backward()
    opt.step()


def step_runner(lib, case: str, seed: int = 0):
    """A closure running one training step of ``case`` in ``lib`` (same data, same initial weights)."""
    return {"ddpm-step": ddpm_step, "vae-step": vae_step, "realnvp-step": realnvp_step}[case](
        lib, np.random.default_rng(seed))


def main() -> None:
    args = parse_options(__doc__, CASES, repeats=7)
    compared_cases = [c for c in (CASES if args.case == "all" else [args.case]) if c != "realnvp-step"]
    if handled_aside(args, step_runner, compared_cases or list(CASES)):
        return
    print(machine_line(_import("torch", args.threads)))
    print("| case | fukaku ms | torch ms | ratio (target ≤ 1.5) | peak extra MiB fukaku | torch |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for case, ours, theirs, memory in compared(step_runner, compared_cases, args.repeats, args.threads, __file__,
                                               memory=not args.no_memory):
        print(f"| {case} | {ours:.2f} | {theirs:.2f} | {ours / theirs:.2f} | {memory['fukaku']:.0f} | "
              f"{memory['torch']:.0f} |", flush=True)
    if args.case in ("realnvp-step", "all"):
        from bench_core import _median_time

        step = step_runner(_import("fukaku", args.threads), "realnvp-step")
        print(f"| realnvp-step (fukaku only) | {_median_time(step, 5, args.repeats) * 1e3:.2f} | – | – | – | – |")


if __name__ == "__main__":
    main()
