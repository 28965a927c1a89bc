"""The empirical NTK of an MLP with 10⁴ parameters on 100 inputs (issue 15: ≤ 10 s here; both autodiff modes agree).

Case ``mlp-10k``: ``fukaku.models.MLP([10, 96, 96, 1])`` (10,465 parameters, ReLU) and 100 random inputs; the
100 × 100 kernel K = J Jᵀ from the per-example Jacobians J (100 × 10,465) by ``fukaku.theory.ntk.empirical_ntk`` in
reverse mode (one backward pass per output gives every Linear layer's sensitivities for all examples at once) and
in forward mode (tangents on the Linear layers' units, the batch tiled so that one pass serves many units), against torch.func's
``vmap(jacrev(functional_call))`` on the same weights for reference (``vmap(jacfwd(...))`` would push all 10⁴
tangents through all 100 examples at once: 38 GB, more than this machine has). Timed as
the median of ``--repeats`` runs after a warm-up, every variant interleaved so that load on the machine slows all
alike; the kernels are compared too.

Usage: ``python benchmarks/bench_ntk.py [--repeats 5] [--threads 2] [--dtype float32|float64]``.
"""
from __future__ import annotations

import argparse

import numpy as np
from bench_cnn import _import, interleaved_medians, machine_line

SIZES, INPUTS = [10, 96, 96, 1], 100
LIMIT_MS = 10_000.0                      # the acceptance: ≤ 10 s


def kernels(fukaku, torch, dtype: str):
    """{variant: a function computing the NTK as a NumPy array}, all on the same weights and inputs."""
    from torch.func import functional_call, jacrev, vmap

    from fukaku.theory.ntk import empirical_ntk

    fukaku.manual_seed(0)
    model = fukaku.models.MLP(SIZES, dtype=getattr(fukaku, dtype))
    x_np = np.random.default_rng(1).normal(size=(INPUTS, SIZES[0])).astype(dtype)
    x = fukaku.tensor(x_np)
    layers = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
    twin = torch.nn.Sequential(*layers[:-1]).to(getattr(torch, dtype))
    twin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    params = {k: v.detach() for k, v in twin.named_parameters()}
    tx = torch.tensor(x_np)

    def torch_ntk():
        def one(p, xi):
            return functional_call(twin, p, (xi[None],))[0]

        jac = vmap(jacrev(one), (None, 0))(params, tx)
        flat = torch.cat([j.reshape(INPUTS, -1) for j in jac.values()], 1)
        return (flat @ flat.T).numpy()

    return {"fukaku reverse": lambda: empirical_ntk(model, x, mode="reverse").numpy(),
            "fukaku forward": lambda: empirical_ntk(model, x, mode="forward").numpy(),
            "torch.func jacrev": torch_ntk}, model.num_parameters()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="torch's intra-op threads, fukaku's and BLAS's")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    args = parser.parse_args()
    torch, fukaku = _import("torch", args.threads), _import("fukaku", args.threads)
    variants, count = kernels(fukaku, torch, args.dtype)
    print(machine_line(torch))
    print(f"case mlp-10k: MLP {SIZES} ({count:,} parameters), {INPUTS} inputs, {args.dtype}, "
          f"median of {args.repeats} runs")
    results = {name: fn() for name, fn in variants.items()}
    reference = results["torch.func jacrev"]
    medians = interleaved_medians(variants, args.repeats)
    print("| variant | ms | × torch.func jacrev | max |K − K_torch| / max |K_torch| | within 10 s |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, ms in medians.items():
        gap = float(np.abs(results[name] - reference).max() / np.abs(reference).max())
        print(f"| {name} | {ms:.0f} | {ms / medians['torch.func jacrev']:.2f} | {gap:.1e} | "
              f"{'yes' if ms <= LIMIT_MS else 'NO'} |", flush=True)


if __name__ == "__main__":
    main()
