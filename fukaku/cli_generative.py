"""``fukaku train vae|ddpm|gan|realnvp`` and ``fukaku sample`` for their checkpoints (seed 000 §6.5).

    fukaku train vae --data digits|mnist [--latent 2] [--hidden 256] [--likelihood bernoulli|gaussian]
                     [--epochs N] [--batch-size 128] [--lr 1e-3] [--k 100] [--seed S] [--root DIR] [--save CKPT]
    fukaku train ddpm|gan|realnvp --data digits|mnist [--steps N] [--batch-size B] [--lr LR] [--seed S]
                     [--root DIR] [--save CKPT] (and each model's own sizes: --help)
    fukaku sample CKPT [--n 64] [--out grid.png] [--nrow R] [--seed S] [--label L] [--guidance W] [--ddim-steps S]

The DDPM is class-conditional (an :class:`~fukaku.models.EpsilonMLP` on the flattened images scaled to
[−1, 1], labels dropped with probability --p-uncond so that one network also serves classifier-free
guidance); the GAN is a DCGAN; the Real NVP models the images dequantised (uniform noise of one grey
level) in logit space and reports the test negative log-likelihood in bits per pixel.

Training: the images (pixels in [0, 1]; digits split 80/20 by --seed, MNIST as ``fukaku train mlp`` takes it)
train a :class:`fukaku.models.VAE` by Adam on shuffled mini-batches, minimising −ELBO; each epoch prints the
training loss and the test ELBO (nats per image). At the end the test ELBO and the importance-sampled log p(x)
with --k samples (on at most 1,000 test images) are printed, and ``--save`` writes the checkpoint
(``fukaku.save``, no pickle): ``config`` (``model: "vae"``, the sizes, the likelihood, the image shape, the
options), ``model`` (the state dict) and ``results``. ``fukaku sample`` decodes --n draws z ~ N(0, I) into E[x | z]
and writes them as one image grid (``fukaku.vision.utils.save_image``); for the other models it draws from the
DDPM (ancestral, or DDIM with --ddim-steps; --label picks the class, else the classes in turn; --guidance
w), from the GAN's generator, or through the flow backwards. Each checkpoint names its model in ``config``.
"""
from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np

from . import manual_seed, optim
from .autograd.grad_mode import no_grad
from .cli import AT_LEAST_ONE, POSITIVE, UsageError, _check_save_path, _handle, check_options, load_data
from .models.energy import RBM
from .models.generative import (DDPM, VAE, DCGANDiscriminator, DCGANGenerator, EpsilonMLP, NoiseSchedule, RealNVP,
                                gan_step)
from .nn.modules.module import Module
from .ops._parallel import blas_threads
from .ops.elementwise import _sigmoid
from .serialization import load, save
from .tensor import Generator, from_numpy, randn, tensor

DATA = ("digits", "mnist")
LIKELIHOODS = ("bernoulli", "gaussian")
DEFAULTS = {"latent": 2, "hidden": "256", "likelihood": "bernoulli", "epochs": 30, "batch_size": 128, "lr": 1e-3,
            "k": 100}
EVALUATED = 1000   # test images the final importance-sampled log p(x) is measured on, at most
MODELS = ("vae", "ddpm", "gan", "realnvp", "rbm")
STEPPED = {   # the step-trained models: their own options and defaults (the shared ones: steps, batch_size, lr)
    "ddpm": {"steps": 4000, "batch_size": 128, "lr": 1e-3, "hidden": 256, "blocks": 3, "diffusion_steps": 200,
             "p_uncond": 0.1},
    "gan": {"steps": 4000, "batch_size": 64, "lr": 2e-3, "latent": 32, "channels": 32},
    "realnvp": {"steps": 4000, "batch_size": 128, "lr": 1e-3, "hidden": 256, "couplings": 8},
    "rbm": {"steps": 4000, "batch_size": 100, "lr": 0.05, "hidden": 128, "k": 1},
}
RBM_GIBBS_STEPS = 1000   # Gibbs sweeps before an RBM sample is shown
LOGIT_ALPHA = 0.05   # the flow models logit(α + (1 − 2α)·x): pixels kept off 0 and 1
REPORTS = 10         # progress lines over a step-trained run


def _hidden(text: str) -> list[int]:
    try:
        widths = [int(w) for w in text.split(",") if w.strip()]
    except ValueError:
        widths = []
    if not widths or min(widths) < 1:
        raise UsageError(f"--hidden takes comma-separated widths >= 1 like 256 or 512,256, got {text!r}")
    return widths


def _options(args) -> None:
    ranges = (*[(name, *AT_LEAST_ONE) for name in ("latent", "epochs", "batch_size", "k")], ("lr", *POSITIVE),
              ("seed", ">= 0", lambda v: v >= 0))
    check_options(args, ranges, DEFAULTS)
    args.hidden = _hidden(args.hidden)


def evaluate_elbo(model: VAE, x: np.ndarray, seed: int, batch: int = 1000) -> float:
    """The mean ELBO (nats per image) of ``x``, one z per image (seeded)."""
    generator, total = Generator().manual_seed(seed), 0.0
    with no_grad():
        for i in range(0, len(x), batch):
            total += model.elbo(from_numpy(x[i:i + batch]), generator).sum().item()
    return total / len(x)


def cmd_train_vae(args) -> int:
    """``fukaku train vae``: see the module's docstring. The VAE's GEMMs are small: one BLAS thread runs them
    fastest (a second thread only waits, and on a busy machine spins)."""
    _options(args)
    with blas_threads(1):
        return _train_vae(args)


def _train_vae(args) -> int:
    if args.save:
        _check_save_path(args.save)
    data = load_data(args.data, args.seed, args.root)
    if data.note:
        print(data.note, flush=True)
    x_train, x_test = data.x_train.astype(np.float32), data.x_test.astype(np.float32)
    manual_seed(args.seed)
    model = VAE(x_train.shape[1], args.latent, args.hidden, likelihood=args.likelihood)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    print(f"{args.data}: {len(x_train):,} train / {len(x_test):,} test images ({data.split}); VAE {x_train.shape[1]} → "
          f"{','.join(map(str, args.hidden))} → {args.latent}-D latent, {args.likelihood} decoder, "
          f"{model.num_parameters():,} parameters; Adam lr {args.lr:g}, batch {args.batch_size}, {args.epochs} epochs",
          flush=True)
    rng = np.random.default_rng(args.seed)
    train = from_numpy(x_train)
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        order, total = rng.permutation(len(x_train)), 0.0
        for i in range(0, len(order), args.batch_size):
            batch = train[from_numpy(order[i:i + args.batch_size])]
            loss = model.loss(batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        if not math.isfinite(total):
            raise FloatingPointError(f"the training loss became {total} in epoch {epoch}; lower --lr")
        model.eval()
        if not args.quiet:
            print(f"epoch {epoch:3d}  train −ELBO {total / len(x_train):.3f}  test ELBO "
                  f"{evaluate_elbo(model, x_test, args.seed):.3f} nats/image  ({time.perf_counter() - start:.1f} s)",
                  flush=True)
    seconds = time.perf_counter() - start
    elbo = evaluate_elbo(model, x_test, args.seed)
    shown = x_test[:EVALUATED]
    with no_grad():
        log_px = model.log_likelihood(from_numpy(shown), args.k, Generator().manual_seed(args.seed)).mean().item()
    print(f"trained in {seconds:.1f} s; test ELBO {elbo:.3f} nats/image; importance-sampled log p(x) "
          f"{log_px:.3f} nats/image (k = {args.k}, {len(shown):,} test images)", flush=True)
    if args.save:
        config = {"model": "vae", "in_features": int(x_train.shape[1]), "latent": args.latent,
                  "hidden": list(args.hidden), "likelihood": args.likelihood, "data": args.data,
                  "image_shape": list(data.image_shape), "epochs": args.epochs, "batch_size": args.batch_size,
                  "lr": args.lr, "seed": args.seed}
        results = {"seconds": seconds, "test_elbo": elbo, "test_log_px": log_px, "k": args.k}
        save({"config": config, "model": model.state_dict(), "results": results}, os.path.expanduser(args.save))
        print(f"saved {args.save}; draw samples with: fukaku sample {args.save} --n 64 --out grid.png")
    return 0


def build(config: dict) -> Module:
    """The model a checkpoint's ``config`` describes (its weights not yet loaded); for a GAN, the generator."""
    kind = config["model"]
    if kind == "vae":
        return VAE(config["in_features"], config["latent"], config["hidden"], likelihood=config["likelihood"])
    if kind == "ddpm":
        return DDPM(EpsilonMLP(config["in_features"], config["hidden"], config["blocks"],
                               num_classes=config["num_classes"]),
                    NoiseSchedule.cosine(config["diffusion_steps"]), config["p_uncond"])
    if kind == "gan":
        return DCGANGenerator(config["latent"], config["image_shape"][-1], config["channels"],
                              config["image_shape"][0])
    if kind == "realnvp":
        return RealNVP(config["in_features"], config["couplings"], config["hidden"])
    if kind == "rbm":
        return RBM(config["in_features"], config["hidden"])
    raise KeyError(f"model {kind!r}")


def load_checkpoint(path: str) -> tuple[Module, dict]:
    """The model and the configuration of a checkpoint written by ``fukaku train vae|ddpm|gan|realnvp``."""
    if not os.path.isfile(os.path.expanduser(path)):
        raise UsageError(f"no such checkpoint {path!r}")
    state = load(os.path.expanduser(path))
    config = state.get("config", {}) if isinstance(state, dict) else {}
    if config.get("model") not in MODELS:
        kind = config.get("model", "no model named in its config")
        raise UsageError(f"{path} is not a checkpoint of `fukaku train {'|'.join(MODELS)}` ({kind}); fukaku sample "
                         "draws from those")
    try:
        model = build(config)
        model.load_state_dict(state["model"])
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{path} is not a usable checkpoint of `fukaku train {config['model']}`: {exc}") from None
    model.eval()
    return model, config


def grey_levels(data: str) -> int:
    """How many grey levels the data's pixels take: 17 for the digits (0 … 16), 256 for MNIST."""
    return 17 if data == "digits" else 256


def to_logit_space(x: np.ndarray, levels: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Dequantised pixels in logit space, y = logit(α + (1 − 2α)·(x·(levels − 1) + u)/levels) with u ~ U(0, 1),
    and log|dy/dx| per image: the flow's density of y becomes one of the continuous pixels."""
    v = (x * (levels - 1) + rng.uniform(size=x.shape)) / levels
    s = LOGIT_ALPHA + (1 - 2 * LOGIT_ALPHA) * v
    log_s, log_1ms = np.log(s), np.log1p(-s)
    y = log_s - log_1ms
    log_det = (np.log(1 - 2 * LOGIT_ALPHA) - log_s - log_1ms).sum(1)
    return y.astype(np.float32), log_det


def from_logit_space(y: np.ndarray) -> np.ndarray:
    """The inverse of :func:`to_logit_space` (without the dequantisation noise): pixels in [0, 1]."""
    return (_sigmoid(y) - LOGIT_ALPHA) / (1 - 2 * LOGIT_ALPHA)


def bits_per_pixel(flow: RealNVP, x: np.ndarray, levels: int, seed: int, batch: int = 1000) -> float:
    """The flow's negative log-likelihood of the discrete images x, in bits per pixel: the dequantised bound
    −E[log p(y) + log|dy/dv|] + D log(levels), over D ln 2."""
    rng, total = np.random.default_rng(seed), 0.0
    with no_grad():
        for i in range(0, len(x), batch):
            y, log_det = to_logit_space(x[i:i + batch], levels, rng)
            total += float((flow.log_prob(from_numpy(y)).numpy() + log_det).sum())
    d = x.shape[1]
    return (-total / len(x) + d * math.log(levels)) / (d * math.log(2))


def cmd_train_stepped(args) -> int:
    """``fukaku train ddpm|gan|realnvp``: Adam steps on random mini-batches (one BLAS thread: small GEMMs)."""
    kind, d = args.model, STEPPED[args.model]
    special = {"lr": POSITIVE, "p_uncond": ("in [0, 1)", lambda v: 0 <= v < 1)}
    check_options(args, [(name, *special.get(name, AT_LEAST_ONE)) for name in d] + [("seed", ">= 0", lambda v: v >= 0)],
                  d)
    if args.save:
        _check_save_path(args.save)
    data = load_data(args.data, args.seed, args.root)
    if data.note:
        print(data.note, flush=True)
    x_train, x_test = data.x_train, data.x_test
    manual_seed(args.seed)
    config = {"model": kind, "in_features": int(x_train.shape[1]), "data": args.data,
              "image_shape": list(data.image_shape), "seed": args.seed,
              **{name: getattr(args, name) for name in d}, "num_classes": data.num_classes}
    with blas_threads(1):
        model, step, describe, finish = TRAINERS[kind](args, config, data)
        print(f"{args.data}: {len(x_train):,} train / {len(x_test):,} test images; {describe}; "
              f"{sum(p.numel() for p in model.parameters()):,} parameters; Adam lr {args.lr:g}, batch "
              f"{args.batch_size}, {args.steps} steps", flush=True)
        rng, start, window = np.random.default_rng(args.seed), time.perf_counter(), []
        for i in range(1, args.steps + 1):
            window.append(step(rng.integers(0, len(x_train), args.batch_size)))
            if not np.isfinite(window[-1]).all():
                raise FloatingPointError(f"the training loss became {window[-1]} at step {i}; lower --lr")
            if not args.quiet and i % max(1, args.steps // REPORTS) == 0:
                print(f"step {i:6d}  loss {np.mean(window, axis=0).round(4).tolist()}  "
                      f"({time.perf_counter() - start:.1f} s)", flush=True)
                window = []
        model.eval()
        results = {"seconds": time.perf_counter() - start, **finish()}
    print(f"trained in {results['seconds']:.1f} s; " + "; ".join(f"{k.replace('_', ' ')} {v:.4f}"
                                                               for k, v in results.items() if k != "seconds"))
    if args.save:
        save({"config": config, "model": model.state_dict(), "results": results}, os.path.expanduser(args.save))
        print(f"saved {args.save}; draw samples with: fukaku sample {args.save} --n 64 --out grid.png")
    return 0


def _ddpm(args, config: dict, data):
    """The DDPM, one step on a batch of indices (its loss), its description, and the final test L_simple."""
    x, y = data.x_train.astype(np.float32), data.y_train
    model = build(config)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    decay = optim.lr_scheduler.LambdaLR(opt, lambda i: 1 - i / args.steps)
    generator, pixels, labels = Generator().manual_seed(args.seed + 1), from_numpy(x * 2 - 1), from_numpy(y)

    def step(batch: np.ndarray) -> float:
        index = from_numpy(batch)
        loss = model.loss(pixels[index], labels[index], generator=generator)
        opt.zero_grad()
        loss.backward()
        opt.step()
        decay.step()
        return float(loss)

    def finish() -> dict:
        with no_grad():
            loss = model.loss(from_numpy(data.x_test.astype(np.float32) * 2 - 1), from_numpy(data.y_test),
                              generator=Generator().manual_seed(args.seed + 2))
        return {"test_L_simple": float(loss)}

    describe = (f"class-conditional DDPM, ε-MLP {args.hidden} units × {args.blocks} blocks, cosine schedule "
                f"T = {args.diffusion_steps}, labels dropped {args.p_uncond:g}")
    return model, step, describe, finish


def _gan(args, config: dict, data):
    """The DCGAN's generator, one step of the game on a batch of indices (D's and G's losses), its description."""
    x = data.x_train.astype(np.float32)
    side, channels = config["image_shape"][-1], config["image_shape"][0]
    if side % 4:
        raise UsageError(f"the DCGAN needs images whose side is a multiple of 4, got {side}")
    G, D = build(config), DCGANDiscriminator(side, args.channels, channels)
    opt_g = optim.Adam(G.parameters(), lr=args.lr, betas=(0.5, 0.999))
    opt_d = optim.Adam(D.parameters(), lr=args.lr, betas=(0.5, 0.999))
    generator, images = Generator().manual_seed(args.seed + 1), from_numpy(x.reshape(-1, *config["image_shape"]))

    seen: list[tuple[float, float]] = []

    def step(batch: np.ndarray) -> list[float]:
        z = randn(len(batch), args.latent, generator=generator)
        seen.append(gan_step(G, D, opt_g, opt_d, images[from_numpy(batch)], z))
        return list(seen[-1])

    def finish() -> dict:
        d_loss, g_loss = np.mean(seen[-100:], axis=0)
        return {"D_loss_over_the_last_100_steps": float(d_loss), "G_loss_over_the_last_100_steps": float(g_loss)}

    describe = f"DCGAN, {args.latent}-D noise, {args.channels} channels, non-saturating loss (losses: D, G)"
    return G, step, describe, finish


def _realnvp(args, config: dict, data):
    """The flow, one maximum-likelihood step on a batch of indices, its description, and the test bits per pixel."""
    x, x_test = data.x_train.astype(np.float32), data.x_test.astype(np.float32)
    flow, levels = build(config), grey_levels(args.data)
    opt = optim.Adam(flow.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed + 1)

    def step(batch: np.ndarray) -> float:
        y_batch, log_det = to_logit_space(x[batch], levels, rng)
        loss = -(flow.log_prob(from_numpy(y_batch)) + from_numpy(log_det.astype(np.float32))).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return float(loss)

    def finish() -> dict:
        flow.eval()
        return {"test_bits_per_pixel": bits_per_pixel(flow, x_test, levels, args.seed)}

    describe = (f"Real NVP, {args.couplings} Glow steps of {args.hidden} units, dequantised pixels in logit space "
                f"(loss: nats per image)")
    return flow, step, describe, finish


def _rbm(args, config: dict, data):
    """The RBM (seed 000 §6.1.6) on binarised pixels (> 0.5), one CD-k step on a batch of indices (its
    reconstruction error), its description, and the test reconstruction error and free-energy gap."""
    binary = (data.x_train > 0.5).astype(np.float32)
    rbm = build(config)

    def step(batch: np.ndarray) -> float:
        return rbm.cd_step(from_numpy(binary[batch]), lr=args.lr, k=args.k)

    def finish() -> dict:
        test = from_numpy((data.x_test > 0.5).astype(np.float32))
        with no_grad():
            gap = float(rbm.free_energy(test).mean()) - float(rbm.free_energy(from_numpy(binary)).mean())
        return {"test_reconstruction_error": rbm.reconstruction_error(test), "free_energy_gap_test_minus_train": gap}

    describe = f"Bernoulli RBM, {args.hidden} hidden units, CD-{args.k} on binarised pixels (loss: reconstruction error)"
    return rbm, step, describe, finish


TRAINERS = {"ddpm": _ddpm, "gan": _gan, "realnvp": _realnvp, "rbm": _rbm}


def draw(model: Module, config: dict, n: int, generator: Generator | None, args) -> np.ndarray:
    """n samples of a loaded checkpoint's model as flattened images in [0, 1], (n, pixels)."""
    kind = config["model"]
    if kind != "ddpm" and (args.label is not None or args.guidance or args.ddim_steps is not None):
        raise UsageError(f"--label, --guidance and --ddim-steps are for DDPM checkpoints; {args.checkpoint} holds a "
                         f"{kind}")
    with no_grad():
        if kind == "vae":
            return model.sample(n, generator).numpy()
        if kind == "gan":
            return model(randn(n, config["latent"], generator=generator)).numpy().reshape(n, -1)
        if kind == "realnvp":
            return from_logit_space(model.sample(n, generator).numpy())
        if kind == "rbm":   # P(v = 1 | h) after a long Gibbs chain, shown as grey levels
            return model.sample(n, steps=RBM_GIBBS_STEPS, generator=generator).numpy()
        classes = config["num_classes"]
        if args.label is not None and not 0 <= args.label < classes:
            raise UsageError(f"--label must be a class from 0 to {classes - 1}, got {args.label}")
        if args.guidance < 0:
            raise UsageError(f"--guidance must be >= 0, got {args.guidance}")
        labels = tensor(np.full(n, args.label) if args.label is not None else np.arange(n) % classes)
        if args.ddim_steps is None:
            x = model.sample(n, y=labels, guidance=args.guidance, generator=generator)
        elif not 1 <= args.ddim_steps <= config["diffusion_steps"]:
            raise UsageError(f"--ddim-steps must be 1 to {config['diffusion_steps']} (the model's T), got "
                             f"{args.ddim_steps}")
        else:
            x = model.sample_ddim(n, steps=args.ddim_steps, y=labels, guidance=args.guidance, generator=generator)
        return (x.numpy() + 1) / 2


def cmd_sample(args) -> int:
    """``fukaku sample``: draw --n samples of a checkpoint's model and write them as one grid image."""
    from .vision.utils import save_image

    if args.n < 1:
        raise UsageError(f"--n must be >= 1, got {args.n}")
    if args.nrow is not None and args.nrow < 1:
        raise UsageError(f"--nrow must be >= 1, got {args.nrow}")
    model, config = load_checkpoint(args.checkpoint)
    generator = None if args.seed is None else Generator().manual_seed(args.seed)
    images = from_numpy(np.clip(draw(model, config, args.n, generator, args), 0, 1).astype(np.float32))
    images = images.reshape(args.n, *config["image_shape"])
    nrow = args.nrow or math.ceil(math.sqrt(args.n))
    save_image(images, os.path.expanduser(args.out), nrow=nrow)
    print(f"wrote {args.out}: {args.n} samples of {args.checkpoint} ({config['model']}, {config['data']}), "
          f"{nrow} per row")
    return 0


def train_vae_parser() -> argparse.ArgumentParser:
    d = DEFAULTS
    p = argparse.ArgumentParser(
        prog="fukaku train vae",
        description="Train a variational autoencoder (fukaku.models.VAE, seed 000 §6.5: Gaussian encoder, "
        "reparameterisation, Bernoulli or Gaussian decoder, closed-form KL) on images by maximising the ELBO; "
        "report the test ELBO every epoch and, at the end, the importance-sampled log p(x).",
        epilog="Data: digits = scikit-learn's 8x8 digits, 80/20 split by --seed; mnist = as `fukaku train mlp` "
        "(--root or the usual places). Example: fukaku train vae --data digits --epochs 30 --save vae.pt; "
        "fukaku sample vae.pt --n 64 --out grid.png")
    p.add_argument("--data", required=True, choices=DATA, metavar="DATASET", help=", ".join(DATA))
    p.add_argument("--latent", type=int, default=None, metavar="L", help=f"latent dimensions (default: {d['latent']})")
    p.add_argument("--hidden", default=None, metavar="W1,W2",
                   help=f"the encoder's hidden widths, mirrored by the decoder (default: {d['hidden']})")
    p.add_argument("--likelihood", choices=LIKELIHOODS, default=None,
                   help=f"the decoder's p(x | z) (default: {d['likelihood']})")
    p.add_argument("--epochs", type=int, default=None, metavar="N",
                   help=f"passes over the data (default: {d['epochs']})")
    p.add_argument("--batch-size", type=int, default=None, metavar="B", help=f"images per step (default: "
                   f"{d['batch_size']})")
    p.add_argument("--lr", type=float, default=None, metavar="LR", help=f"Adam's learning rate (default: {d['lr']:g})")
    p.add_argument("--k", type=int, default=None, metavar="K",
                   help=f"importance samples of the final log p(x) estimate (default: {d['k']})")
    p.add_argument("--root", metavar="DIR", help="mnist only: the directory with the MNIST IDX files")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seeds the split, weights and noise (default: 0)")
    p.add_argument("--save", metavar="CKPT", help="write the checkpoint (config, weights, results) at the end")
    p.add_argument("--quiet", action="store_true", help="no per-epoch output")
    p.set_defaults(handler=cmd_train_vae, command="train")
    return p


OPTION_HELP = {"steps": "Adam steps", "batch_size": "images per step", "lr": "Adam's learning rate",
               "hidden": "units per layer of the network", "blocks": "residual blocks of the ε-MLP",
               "diffusion_steps": "T, the noising steps", "p_uncond": "share of labels dropped (classifier-free guidance)",
               "latent": "noise dimensions of the generator", "channels": "channels of the DCGAN's hidden maps",
               "couplings": "coupling layers (Glow steps)", "k": "Gibbs steps of contrastive divergence (CD-k)"}
DESCRIPTIONS = {
    "ddpm": "Train a class-conditional denoising diffusion model (fukaku.models.DDPM, seed 000 §6.5) on images: "
            "L_simple with labels dropped for classifier-free guidance; report the test L_simple.",
    "gan": "Train a DCGAN (fukaku.models.DCGANGenerator/DCGANDiscriminator, seed 000 §6.5) on images with the "
           "non-saturating loss; the checkpoint holds the generator.",
    "realnvp": "Train Real NVP (fukaku.models.RealNVP with Glow steps, seed 000 §6.5) on dequantised images in "
               "logit space by exact maximum likelihood; report the test negative log-likelihood in bits per pixel.",
    "rbm": "Train a Bernoulli restricted Boltzmann machine (fukaku.models.RBM, seed 000 §6.1.6) on binarised images "
           "by contrastive divergence; report the test reconstruction error and the free-energy gap."}


def train_stepped_parser(kind: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"fukaku train {kind}", description=DESCRIPTIONS[kind],
        epilog=f"Example: fukaku train {kind} --data digits --save {kind}.pt; fukaku sample {kind}.pt --n 64 "
        "--out grid.png")
    p.add_argument("--data", required=True, choices=DATA, metavar="DATASET", help=", ".join(DATA))
    for name, default in STEPPED[kind].items():
        p.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=None, metavar=name.upper(),
                       help=f"{OPTION_HELP[name]} (default: {default:g})")
    p.add_argument("--root", metavar="DIR", help="mnist only: the directory with the MNIST IDX files")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seeds the split, weights and noise (default: 0)")
    p.add_argument("--save", metavar="CKPT", help="write the checkpoint (config, weights, results) at the end")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(handler=cmd_train_stepped, command="train", model=kind)
    return p


def sample_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fukaku sample", description="Draw --n samples from a checkpoint of `fukaku train vae|ddpm|gan|realnvp` "
        "and write them as one grid image (PNG): the VAE decodes z ~ N(0, I) into E[x | z], the DDPM samples "
        "ancestrally (or by DDIM), the GAN runs its generator, the flow runs backwards.",
        epilog="Example: fukaku sample ddpm.pt --n 64 --label 3 --guidance 1 --out threes.png")
    p.add_argument("checkpoint", metavar="CKPT", help="a checkpoint of fukaku train vae, ddpm, gan or realnvp")
    p.add_argument("--n", type=int, default=64, metavar="N", help="samples (default: 64)")
    p.add_argument("--out", default="samples.png", metavar="PATH", help="the image to write (default: samples.png)")
    p.add_argument("--nrow", type=int, default=None, metavar="R", help="images per row (default: about √n)")
    p.add_argument("--seed", type=int, default=None, metavar="S", help="seed of the draws (default: random)")
    p.add_argument("--label", type=int, default=None, metavar="L",
                   help="DDPM: the class to draw (default: the classes in turn)")
    p.add_argument("--guidance", type=float, default=0.0, metavar="W",
                   help="DDPM: classifier-free guidance strength w (default: 0)")
    p.add_argument("--ddim-steps", type=int, default=None, metavar="S",
                   help="DDPM: sample by DDIM in S steps instead of T ancestral ones")
    p.set_defaults(handler=cmd_sample, command="sample")
    return p


def main(argv: list[str]) -> int:
    """``fukaku train vae|ddpm|gan|realnvp ...`` or ``fukaku sample ...`` (``argv`` as given to ``fukaku``)."""
    if argv[0] == "train":
        parser, rest = (train_vae_parser() if argv[1] == "vae" else train_stepped_parser(argv[1])), argv[2:]
    else:
        parser, rest = sample_parser(), argv[1:]
    try:
        args = parser.parse_args(rest)
    except SystemExit as exc:
        return int(exc.code or 0)
    return _handle(args)


__all__ = ["cmd_train_vae", "cmd_train_stepped", "cmd_sample", "evaluate_elbo", "build", "load_checkpoint", "draw",
           "grey_levels",
           "bits_per_pixel", "to_logit_space", "from_logit_space", "train_vae_parser", "train_stepped_parser",
           "sample_parser", "main"]
