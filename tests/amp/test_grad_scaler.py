"""fukaku.amp.GradScaler against torch.amp.GradScaler("cpu") driven with the same gradients: the scale's
trajectory, the skipped steps, the parameters, unscale_ before clipping, state dicts, misuse."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku.amp import GradScaler

OPTIMIZERS = {"SGD": dict(lr=0.1, momentum=0.9), "Adam": dict(lr=1e-2), "AdamW": dict(lr=1e-2, weight_decay=0.1)}


def _twins(seed: int = 0):
    """Two parameters of each library with equal values, in two param groups."""
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(4).astype(np.float32)]
    ours = [fk.tensor(v, requires_grad=True) for v in values]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    return ours, theirs


def _set_grads(ours, theirs, grads, scalers=()) -> None:
    """Give both libraries' parameters these gradients, as a backward of ``scaler.scale(loss)`` would."""
    for scaler in scalers:
        scaler.scale(fk.zeros(()) if isinstance(scaler, GradScaler) else torch.zeros(()))
    for p, q, g in zip(ours, theirs, grads, strict=True):
        p.grad, q.grad = fk.tensor(g.copy()), torch.tensor(g.copy())


def _gradients(rng, step: int, scale: float, bad_steps: dict[int, float]) -> list[np.ndarray]:
    """Scaled gradients; at a bad step, one entry is inf or NaN (an overflowed float16 backward)."""
    grads = [(rng.standard_normal((3, 4)) * scale).astype(np.float32), (rng.standard_normal(4) * scale).astype(np.float32)]
    if step in bad_steps:
        grads[step % 2].flat[step % 4] = bad_steps[step]
    return grads


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_scale_trajectory_skipped_steps_and_parameters_match_torch(name):
    ours, theirs = _twins()
    options = OPTIMIZERS[name]
    opt = getattr(fk.optim, name)([{"params": ours[:1]}, {"params": ours[1:], "lr": options["lr"] / 2}], **options)
    ref = getattr(torch.optim, name)([{"params": theirs[:1]}, {"params": theirs[1:], "lr": options["lr"] / 2}],
                                     **options)
    settings = dict(init_scale=2.0 ** 10, growth_factor=2.0, backoff_factor=0.5, growth_interval=3)
    scaler, ref_scaler = GradScaler("cpu", **settings), torch.amp.GradScaler("cpu", **settings)
    rng = np.random.default_rng(1)
    bad = {2: np.inf, 3: -np.inf, 7: np.nan, 13: np.inf}
    scales, skipped = [], []
    for step in range(16):
        _set_grads(ours, theirs, _gradients(rng, step, scaler.get_scale(), bad), (scaler, ref_scaler))
        result, expected = scaler.step(opt), ref_scaler.step(ref)
        assert (result is None) == (expected is None)
        skipped.append(step in bad)
        scaler.update()
        ref_scaler.update()
        scales.append(scaler.get_scale())
        assert scaler.get_scale() == ref_scaler.get_scale(), f"step {step}"
        assert scaler._get_growth_tracker() == ref_scaler._get_growth_tracker()
        for p, q in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert len(set(scales)) > 2  # it both grew and backed off


def test_a_skipped_step_leaves_parameters_and_optimizer_state_alone():
    ours, _ = _twins()
    opt = fk.optim.Adam(ours, lr=0.1)
    before = [p.detach().numpy().copy() for p in ours]
    scaler = GradScaler("cpu", init_scale=8.0)
    scaler.scale(fk.zeros(()))
    ours[0].grad, ours[1].grad = fk.full((3, 4), np.nan), fk.ones(4)
    assert scaler.step(opt) is None
    scaler.update()
    assert scaler.get_scale() == 4.0 and not opt.state
    for p, b in zip(ours, before, strict=True):
        np.testing.assert_array_equal(p.detach().numpy(), b)


def test_unscale_then_clip_as_torch():
    ours, theirs = _twins()
    opt, ref = fk.optim.SGD(ours, lr=0.5), torch.optim.SGD(theirs, lr=0.5)
    scaler, ref_scaler = GradScaler("cpu", init_scale=2.0 ** 8), torch.amp.GradScaler("cpu", init_scale=2.0 ** 8)
    _set_grads(ours, theirs, _gradients(np.random.default_rng(2), 0, 2.0 ** 8, {}), (scaler, ref_scaler))
    scaler.unscale_(opt)
    ref_scaler.unscale_(ref)
    norm = fk.nn.utils.clip_grad_norm_(ours, 0.5)
    ref_norm = torch.nn.utils.clip_grad_norm_(theirs, 0.5)
    np.testing.assert_allclose(norm.item(), ref_norm.item(), rtol=1e-6)
    scaler.step(opt)
    ref_scaler.step(ref)
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-6, atol=1e-7)


def test_scale_multiplies_the_loss_and_backward_gives_scaled_gradients():
    w = fk.tensor([1.0, -2.0], requires_grad=True)
    scaler = GradScaler("cpu", init_scale=1024.0)
    loss = (w * w).sum()
    scaled = scaler.scale(loss)
    assert scaled.dtype is fk.float32 and scaled.item() == 1024.0 * loss.item()
    scaled.backward()
    np.testing.assert_array_equal(w.grad.numpy(), 1024.0 * 2 * np.array([1.0, -2.0], np.float32))
    pair = scaler.scale([loss, loss * 2])
    assert isinstance(pair, list) and pair[1].item() == 2048.0 * loss.item()


def test_two_optimizers_share_one_update():
    (a, b), _ = _twins()
    opt_a, opt_b = fk.optim.SGD([a], lr=0.1), fk.optim.SGD([b], lr=0.1)
    scaler = GradScaler("cpu", init_scale=4.0)
    scaler.scale(fk.zeros(()))
    a.grad, b.grad = fk.ones(3, 4), fk.full((4,), np.inf)
    scaler.step(opt_a)
    assert scaler.step(opt_b) is None
    assert not np.array_equal(a.detach().numpy(), _twins()[0][0].detach().numpy())  # opt_a stepped, opt_b did not
    scaler.update()
    assert scaler.get_scale() == 2.0  # one optimizer's inf backs the scale off for all


def test_state_dict_round_trips_between_fukaku_and_torch():
    scaler = GradScaler("cpu", init_scale=512.0, growth_interval=5)
    p = fk.zeros(2, requires_grad=True)
    opt = fk.optim.SGD([p], lr=0.1)
    for _ in range(3):
        scaler.scale(fk.zeros(()))
        p.grad = fk.ones(2)
        scaler.step(opt)
        scaler.update()
    state = scaler.state_dict()
    ref = torch.amp.GradScaler("cpu")
    ref.load_state_dict(state)
    assert ref.state_dict() == state == {"scale": 512.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                                         "growth_interval": 5, "_growth_tracker": 3}
    restored = GradScaler("cpu")
    restored.load_state_dict(ref.state_dict())
    assert restored.state_dict() == state
    assert pickle.loads(pickle.dumps(restored)).state_dict() == state
    with pytest.raises(RuntimeError, match="empty"):
        restored.load_state_dict({})


def test_misuse_raises_as_torch():
    p = fk.zeros(2, requires_grad=True)
    opt = fk.optim.SGD([p], lr=0.1)
    scaler = GradScaler("cpu")
    with pytest.raises(RuntimeError, match="before scale"):
        scaler.step(opt)
    scaler.scale(fk.zeros(()))
    p.grad = fk.ones(2)
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="already called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="already called"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match="after step"):
        scaler.unscale_(opt)
    scaler.update()
    with pytest.raises(RuntimeError, match="no inf checks"):
        scaler.update()
    p.grad = fk.ones(2, dtype=fk.float16)
    with pytest.raises(ValueError, match="float16 gradients"):
        scaler.unscale_(opt)
    with pytest.raises(ValueError, match="growth_factor"):
        GradScaler("cpu", growth_factor=1.0)


def test_disabled_scaler_passes_through():
    p = fk.zeros(2, requires_grad=True)
    opt = fk.optim.SGD([p], lr=1.0)
    scaler = GradScaler("cpu", enabled=False)
    loss = (p + 1).sum()
    assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    p.grad = fk.ones(2)
    scaler.step(opt)
    scaler.update()
    np.testing.assert_array_equal(p.detach().numpy(), [-1.0, -1.0])
    with pytest.warns(UserWarning, match="CUDA is not available"):
        assert not GradScaler("cuda").is_enabled()


def test_update_with_a_new_scale():
    scaler = GradScaler("cpu")
    scaler.scale(fk.zeros(()))
    scaler.update(128.0)
    assert scaler.get_scale() == 128.0
    scaler.update(fk.tensor(64.0))
    assert scaler.get_scale() == 64.0


def test_a_float16_gradient_raises_before_any_gradient_is_unscaled_as_torch():
    ours = [fk.zeros(3, requires_grad=True), fk.zeros(3, dtype=fk.float16, requires_grad=True)]
    theirs = [torch.zeros(3, requires_grad=True), torch.zeros(3, dtype=torch.float16, requires_grad=True)]
    scaler, ref_scaler = GradScaler("cpu", init_scale=4.0), torch.amp.GradScaler("cpu", init_scale=4.0)
    opt, ref = fk.optim.SGD(ours, lr=1.0), torch.optim.SGD(theirs, lr=1.0)
    scaler.scale(fk.zeros(()))
    ref_scaler.scale(torch.zeros(()))
    ours[0].grad, theirs[0].grad = fk.full((3,), 8.0), torch.full((3,), 8.0)
    ours[1].grad, theirs[1].grad = fk.ones(3, dtype=fk.float16), torch.ones(3, dtype=torch.float16)
    with pytest.raises(ValueError, match="float16"):
        scaler.unscale_(opt)
    with pytest.raises(ValueError, match="FP16"):
        ref_scaler.unscale_(ref)
    assert ours[0].grad.numpy().tolist() == theirs[0].grad.tolist() == [8.0] * 3  # nothing divided yet
    ours[1].grad = theirs[1].grad = None
    scaler.unscale_(opt)  # the retry divides once
    ref_scaler.unscale_(ref)
    assert ours[0].grad.numpy().tolist() == theirs[0].grad.tolist() == [2.0] * 3
