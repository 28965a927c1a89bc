"""``fukaku train vae`` and ``fukaku sample`` for VAE checkpoints (seed 000 §6.5).

    fukaku train vae --data digits|mnist [--latent 2] [--hidden 256] [--likelihood bernoulli|gaussian]
                     [--epochs N] [--batch-size 128] [--lr 1e-3] [--k 100] [--seed S] [--root DIR] [--save CKPT]
    fukaku sample CKPT [--n 64] [--out grid.png] [--nrow R] [--seed S]

Training: the images (pixels in [0, 1]; digits split 80/20 by --seed, MNIST as ``fukaku train mlp`` takes it)
train a :class:`fukaku.models.VAE` by Adam on shuffled mini-batches, minimising −ELBO; each epoch prints the
training loss and the test ELBO (nats per image). At the end the test ELBO and the importance-sampled log p(x)
with --k samples (on at most 1,000 test images) are printed, and ``--save`` writes the checkpoint
(``fukaku.save``, no pickle): ``config`` (``model: "vae"``, the sizes, the likelihood, the image shape, the
options), ``model`` (the state dict) and ``results``. ``fukaku sample`` decodes --n draws z ~ N(0, I) into E[x | z]
and writes them as one image grid (``fukaku.vision.utils.save_image``).
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
from .models.generative import VAE
from .ops._parallel import blas_threads
from .serialization import load, save
from .tensor import Generator, from_numpy

DATA = ("digits", "mnist")
LIKELIHOODS = ("bernoulli", "gaussian")
DEFAULTS = {"latent": 2, "hidden": "256", "likelihood": "bernoulli", "epochs": 30, "batch_size": 128, "lr": 1e-3,
            "k": 100}
EVALUATED = 1000   # test images the final importance-sampled log p(x) is measured on, at most


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


def load_vae(path: str) -> tuple[VAE, dict]:
    """The VAE and the configuration of a checkpoint written by ``fukaku train vae``."""
    if not os.path.isfile(os.path.expanduser(path)):
        raise UsageError(f"no such checkpoint {path!r}")
    state = load(os.path.expanduser(path))
    config = state.get("config", {}) if isinstance(state, dict) else {}
    if config.get("model") != "vae":
        kind = config.get("model", "no model named in its config")
        raise UsageError(f"{path} is not a checkpoint of `fukaku train vae` ({kind}); fukaku sample draws from VAEs")
    try:
        model = VAE(config["in_features"], config["latent"], config["hidden"], likelihood=config["likelihood"])
        model.load_state_dict(state["model"])
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{path} is not a usable checkpoint of `fukaku train vae`: {exc}") from None
    model.eval()
    return model, config


def cmd_sample(args) -> int:
    """``fukaku sample``: decode --n draws of z ~ N(0, I) and write them as one grid image."""
    from .vision.utils import save_image

    if args.n < 1:
        raise UsageError(f"--n must be >= 1, got {args.n}")
    if args.nrow is not None and args.nrow < 1:
        raise UsageError(f"--nrow must be >= 1, got {args.nrow}")
    model, config = load_vae(args.checkpoint)
    generator = None if args.seed is None else Generator().manual_seed(args.seed)
    with no_grad():
        images = model.sample(args.n, generator).clamp(0, 1)
    images = images.reshape(args.n, *config["image_shape"])
    nrow = args.nrow or math.ceil(math.sqrt(args.n))
    save_image(images, os.path.expanduser(args.out), nrow=nrow)
    print(f"wrote {args.out}: {args.n} samples of {args.checkpoint} ({config['data']}, {config['latent']}-D latent), "
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


def sample_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fukaku sample", description="Draw --n samples from a VAE checkpoint of `fukaku train vae`: z ~ N(0, I) "
        "decoded into E[x | z], written as one grid image (PNG).",
        epilog="Example: fukaku sample vae.pt --n 64 --out grid.png")
    p.add_argument("checkpoint", metavar="CKPT", help="a checkpoint of fukaku train vae")
    p.add_argument("--n", type=int, default=64, metavar="N", help="samples (default: 64)")
    p.add_argument("--out", default="samples.png", metavar="PATH", help="the image to write (default: samples.png)")
    p.add_argument("--nrow", type=int, default=None, metavar="R", help="images per row (default: about √n)")
    p.add_argument("--seed", type=int, default=None, metavar="S", help="seed of the draws (default: random)")
    p.set_defaults(handler=cmd_sample, command="sample")
    return p


def main(argv: list[str]) -> int:
    """``fukaku train vae ...`` or ``fukaku sample ...`` (``argv`` as given to ``fukaku``)."""
    parser, rest = (train_vae_parser(), argv[2:]) if argv[0] == "train" else (sample_parser(), argv[1:])
    try:
        args = parser.parse_args(rest)
    except SystemExit as exc:
        return int(exc.code or 0)
    return _handle(args)


__all__ = ["cmd_train_vae", "cmd_sample", "evaluate_elbo", "load_vae", "train_vae_parser", "sample_parser", "main"]
