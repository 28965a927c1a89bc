"""fukaku.models.generative's autoencoders against independent oracles: the sparsity penalties against
hand-computed values and torch.distributions' Bernoulli KL, the models' losses and gradients against the same
networks in PyTorch (same state dict), the contractive penalty against torch.func.jacrev and the closed form for
sigmoid codes, the corruptions by their statistics, and the state dict's round trip through fukaku.save/load."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as tF

import fukaku as fk
from conformance import assert_close, check
from fukaku.models.generative import (Autoencoder, ContractiveAutoencoder, DenoisingAutoencoder, SparseAutoencoder,
                                      contractive_penalty, corrupt, kl_sparsity, l1_sparsity,
                                      sigmoid_contractive_penalty)
from models.test_cnn import one_torch_thread  # noqa: F401 (autouse fixture: one torch thread)


def _data(n: int = 12, d: int = 10, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, (n, d))


def twin(model, hidden: str = "relu", code=None, out=None) -> tnn.Module:
    """The torch twin of an Autoencoder: ``encoder`` and ``decoder`` Sequentials of Linear/activation with the
    same keys, loaded with ``model``'s weights."""
    acts = {"relu": tnn.ReLU, "tanh": tnn.Tanh, "identity": tnn.Identity, "sigmoid": tnn.Sigmoid}

    def mlp(sizes, final):
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(tnn.Linear(a, b, dtype=torch.float64))
            if i < len(sizes) - 2:
                layers.append(acts[hidden]())
        if final is not None:
            layers.append(acts[final]())
        return tnn.Sequential(*layers)

    ref = tnn.Module()
    ref.encoder, ref.decoder = mlp(model.sizes, code), mlp(model.sizes[::-1], out)
    state = model.state_dict()
    assert list(state) == list(ref.state_dict())
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in state.items()})
    return ref


def _grads(model) -> dict:
    return {name: p.grad for name, p in model.named_parameters()}


def compare_loss(model, ref, x: np.ndarray, torch_loss) -> None:
    """The model's loss and every parameter's gradient against ``torch_loss(ref, x)``."""
    loss = model.loss(fk.tensor(x))
    loss.backward()
    want = torch_loss(ref, torch.tensor(x))
    want.backward()
    assert_close(loss, want, what="loss")
    for name, p in ref.named_parameters():
        assert_close(_grads(model)[name], p.grad, what=f"gradient of {name}")


# ----------------------------------------------------------------------------- sparsity penalties
def test_kl_sparsity_matches_hand_computed_values():
    codes = np.array([[0.1, 0.5, 0.0], [0.0, 0.5, 0.4]])              # column means 0.05, 0.5, 0.2
    rho = 0.05
    want = sum(rho * math.log(rho / m) + (1 - rho) * math.log((1 - rho) / (1 - m)) for m in (0.05, 0.5, 0.2))
    assert kl_sparsity(fk.tensor(codes), rho).item() == pytest.approx(want, rel=1e-12)
    # by hand: 0.05 ln 0.1 + 0.95 ln 1.9 = 0.49463 (ĥ = 0.5), 0.05 ln 0.25 + 0.95 ln(0.95/0.8) = 0.09394 (ĥ = 0.2),
    # and 0 for the column at ρ
    assert want == pytest.approx(0.49463 + 0.09394, abs=1e-5)


@pytest.mark.parametrize("rho", [0.05, 0.3])
def test_kl_sparsity_is_zero_at_rho_and_positive_elsewhere(rho):
    means = np.linspace(0.01, 0.99, 99)
    values = np.array([kl_sparsity(fk.full((4, 1), float(m), dtype=fk.float64), rho).item() for m in means])
    assert kl_sparsity(fk.full((4, 3), rho, dtype=fk.float64), rho).item() == pytest.approx(0.0, abs=1e-15)
    far = np.abs(means - rho) > 1e-9
    assert (values[far] > 0).all()
    assert np.argmin(values) == np.argmin(np.abs(means - rho))


def test_kl_sparsity_against_torch_bernoulli_kl_with_derivatives():
    codes = np.random.default_rng(1).uniform(0.02, 0.9, (6, 4))
    rho = 0.05

    def torch_kl(c):
        return torch.distributions.kl_divergence(torch.distributions.Bernoulli(probs=torch.full((4,), rho,
                                                                                             dtype=c.dtype)),
                                                 torch.distributions.Bernoulli(probs=c.mean(0))).sum()

    check(lambda c: kl_sparsity(c, rho), torch_kl, [codes], jvp=False)


def test_l1_sparsity_is_the_batch_mean_of_the_l1_norm():
    codes = np.array([[1.0, -2.0, 0.0], [0.5, 0.5, -3.0]])
    assert l1_sparsity(fk.tensor(codes)).item() == pytest.approx((3.0 + 4.0) / 2)


def test_penalties_refuse_a_non_batch_and_a_bad_rho():
    with pytest.raises(fk.ShapeError, match="kl_sparsity"):
        kl_sparsity(fk.rand(5))
    with pytest.raises(ValueError, match="rho"):
        kl_sparsity(fk.rand(3, 2), rho=1.5)


# ----------------------------------------------------------------------------- models against PyTorch
@pytest.mark.parametrize("sizes, hidden", [([10, 3], "identity"), ([10, 6, 3], "relu"), ([10, 6, 4, 2], "tanh")])
def test_autoencoder_loss_and_gradients_match_torch(sizes, hidden):
    fk.manual_seed(0)
    model = Autoencoder(sizes, activation=hidden, dtype=fk.float64)
    ref = twin(model, hidden)
    x = _data()
    compare_loss(model, ref, x, lambda r, t: ((r.decoder(r.encoder(t)) - t) ** 2).sum(1).mean())
    assert tuple(model.encode(fk.tensor(x)).shape) == (12, sizes[-1])
    assert tuple(model(fk.tensor(x)).shape) == (12, 10)


def test_bce_autoencoder_outputs_probabilities_and_sums_the_cross_entropy():
    fk.manual_seed(1)
    model = Autoencoder([10, 5, 3], reconstruction="bce", dtype=fk.float64)
    ref = twin(model)
    x = _data()
    compare_loss(model, ref, x, lambda r, t: tF.binary_cross_entropy_with_logits(r.decoder(r.encoder(t)), t,
                                                                                    reduction="sum") / len(t))
    assert_close(model(fk.tensor(x)), torch.sigmoid(ref.decoder(ref.encoder(torch.tensor(x)))))


@pytest.mark.parametrize("penalty", ["kl", "l1"])
def test_sparse_autoencoder_loss_is_reconstruction_plus_weighted_penalty(penalty):
    fk.manual_seed(2)
    model = SparseAutoencoder([10, 16], penalty=penalty, weight=0.7, rho=0.05, dtype=fk.float64)
    ref = twin(model, code="sigmoid" if penalty == "kl" else None)
    if penalty == "l1":
        ref.encoder.append(tnn.ReLU())

    def torch_loss(r, t):
        h = r.encoder(t)
        if penalty == "kl":
            m = h.mean(0)
            omega = (0.05 * torch.log(0.05 / m) + 0.95 * torch.log(0.95 / (1 - m))).sum()
        else:
            omega = h.abs().sum(1).mean()
        return ((r.decoder(h) - t) ** 2).sum(1).mean() + 0.7 * omega

    compare_loss(model, ref, _data(), torch_loss)


def test_sparse_kl_needs_sigmoid_codes():
    with pytest.raises(ValueError, match="sigmoid"):
        SparseAutoencoder([10, 16], penalty="kl", code_activation="tanh")
    with pytest.raises(ValueError, match="penalty"):
        SparseAutoencoder([10, 16], penalty="l2")


# ----------------------------------------------------------------------------- denoising
def test_masking_noise_zeroes_the_given_share_and_is_reproducible():
    x = fk.ones(200, 50, dtype=fk.float64)
    a = corrupt(x, "mask", 0.3, generator=fk.Generator().manual_seed(5))
    b = corrupt(x, "mask", 0.3, generator=fk.Generator().manual_seed(5))
    assert fk.equal(a, b)
    zeroed = float((a == 0).to(fk.float64).mean())
    assert zeroed == pytest.approx(0.3, abs=0.02)                       # 10,000 draws: sd 0.0046
    assert set(np.unique(a.numpy())) <= {0.0, 1.0}


def test_gaussian_noise_has_the_given_sd():
    x = fk.zeros(100, 100, dtype=fk.float64)
    noise = corrupt(x, "gaussian", 0.4, generator=fk.Generator().manual_seed(0)).numpy()
    assert noise.std() == pytest.approx(0.4, rel=0.03) and abs(noise.mean()) < 0.02
    with pytest.raises(ValueError, match="noise"):
        corrupt(x, "salt", 0.1)
    with pytest.raises(ValueError, match="masking probability"):
        corrupt(x, "mask", 1.0)


def test_denoising_loss_reconstructs_the_clean_input_from_the_corrupted_one():
    fk.manual_seed(3)
    model = DenoisingAutoencoder([10, 6], noise="mask", level=0.5, generator=fk.Generator().manual_seed(7),
                                 dtype=fk.float64)
    ref = twin(model)
    x = _data()
    noisy = corrupt(fk.tensor(x), "mask", 0.5, generator=fk.Generator().manual_seed(7)).numpy()
    compare_loss(model, ref, x, lambda r, t: ((r.decoder(r.encoder(torch.tensor(noisy))) - t) ** 2).sum(1).mean())
    assert_close(model(fk.tensor(x)), ref.decoder(ref.encoder(torch.tensor(x))))   # forward does not corrupt


# ----------------------------------------------------------------------------- contractive
def _torch_jacobian_penalty(encoder: tnn.Module, x: torch.Tensor) -> torch.Tensor:
    jac = torch.vmap(torch.func.jacrev(encoder))(x)                     # (N, k, d)
    return (jac ** 2).sum() / len(x)


@pytest.mark.parametrize("sizes, hidden", [([10, 4], "relu"), ([10, 7, 4], "tanh")])
def test_contractive_penalty_matches_torch_jacrev_and_its_gradient(sizes, hidden):
    fk.manual_seed(4)
    model = ContractiveAutoencoder(sizes, weight=0.3, activation=hidden, dtype=fk.float64)
    ref = twin(model, hidden, code="sigmoid")
    x = _data()
    assert_close(contractive_penalty(model.encoder, fk.tensor(x)), _torch_jacobian_penalty(ref.encoder,
                                                                                           torch.tensor(x)))
    compare_loss(model, ref, x, lambda r, t: ((r.decoder(r.encoder(t)) - t) ** 2).sum(1).mean()
                 + 0.3 * _torch_jacobian_penalty(r.encoder, t))


def test_contractive_penalty_against_finite_differences():
    fk.manual_seed(5)
    encoder = ContractiveAutoencoder([5, 6, 3], activation="tanh", dtype=fk.float64).encoder
    x = _data(4, 5)
    h, eps = 1e-6, np.eye(5)
    with fk.no_grad():
        f = lambda a: encoder(fk.tensor(a)).numpy()                                     # noqa: E731
        jac = np.stack([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in eps], axis=2)   # (N, k, d)
        value = contractive_penalty(encoder, fk.tensor(x))
    assert not value.requires_grad                                       # under no_grad: the value only
    assert value.item() == pytest.approx((jac ** 2).sum() / len(x), rel=1e-7)


def test_sigmoid_closed_form_agrees_with_double_backward():
    fk.manual_seed(6)
    by_autograd = ContractiveAutoencoder([10, 5], weight=1.0, dtype=fk.float64)
    closed = ContractiveAutoencoder([10, 5], weight=1.0, method="closed_form", dtype=fk.float64)
    closed.load_state_dict(by_autograd.state_dict())
    x = fk.tensor(_data())
    assert_close(sigmoid_contractive_penalty(by_autograd.encoder[0], x), contractive_penalty(by_autograd.encoder, x))
    a, b = by_autograd.loss(x), closed.loss(x)
    a.backward(), b.backward()
    assert_close(a, b.detach())
    for (name, p), q in zip(by_autograd.named_parameters(), closed.parameters()):
        assert_close(p.grad, q.grad, what=name)
    with pytest.raises(ValueError, match="one sigmoid layer"):
        ContractiveAutoencoder([10, 6, 5], method="closed_form")


# ----------------------------------------------------------------------------- state and errors
@pytest.mark.parametrize("make", [lambda: Autoencoder([10, 6, 3]), lambda: SparseAutoencoder([10, 20], penalty="l1"),
                                  lambda: DenoisingAutoencoder([10, 4], noise="gaussian", level=0.2),
                                  lambda: ContractiveAutoencoder([10, 4])])
def test_state_dict_round_trip(make, tmp_path):
    fk.manual_seed(8)
    model, other = make(), make()
    fk.save(model.state_dict(), tmp_path / "ae.pt")
    other.load_state_dict(fk.load(tmp_path / "ae.pt"))
    x = fk.rand(5, 10)
    assert fk.equal(model(x), other(x))
    assert list(model.state_dict())[:2] == ["encoder.0.weight", "encoder.0.bias"]


def test_errors_name_the_model_and_the_fix():
    model = Autoencoder([10, 3])
    with pytest.raises(fk.ShapeError, match=r"Autoencoder.loss: input must have shape \(N, 10\).*\(4, 9\)"):
        model.loss(fk.rand(4, 9))
    with pytest.raises(ValueError, match="at least 2 entries"):
        Autoencoder([10])
    with pytest.raises(ValueError, match="output_activation=None"):
        Autoencoder([10, 3], reconstruction="bce", output_activation="sigmoid")
