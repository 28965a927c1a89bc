"""fukaku.optim.lr_scheduler against torch.optim.lr_scheduler: the learning-rate sequences, and the
momentum (SGD's ``momentum``, Adam's β₁) the cyclical schedules set (exactly: both do the same float
arithmetic in Python), state dicts both ways, use with an optimizer, errors."""
import math

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku import optim
from fukaku.optim import lr_scheduler as fk_sched

th_sched = torch.optim.lr_scheduler
EPOCHS = 40
LRS = (0.1, 0.05)  # two param groups with their own rates


class Warmup:
    """A callable object for LambdaLR: its attributes go into the state dict (a lambda's cannot)."""

    def __init__(self, epochs):
        self.epochs = epochs

    def __call__(self, e):
        return min(1.0, (e + 1) / self.epochs)


class Halving:
    """A callable object for CyclicLR's scale_fn (saved in the state dict, as Warmup is)."""

    def __init__(self, base):
        self.base = base

    def __call__(self, x):
        return self.base ** (x - 1)


def build(lib, make, optimizer="SGD"):
    """An optimizer (SGD unless named) over two param groups and the scheduler ``make(module, optimizer)`` builds."""
    T, optim_module, sched_module = (fk.tensor, optim, fk_sched) if lib == "fk" else (torch.tensor, torch.optim,
                                                                                         th_sched)
    params = [T([1.0, 2.0], requires_grad=True), T([3.0], requires_grad=True)]
    opt = getattr(optim_module, optimizer)([{"params": [params[0]], "lr": LRS[0]},
                                            {"params": [params[1]], "lr": LRS[1]}], lr=1.0)
    return opt, make(sched_module, opt)


def _state(sched, opt):
    """What a step sets: the scheduler's last rates, and each group's rate and momentum (or betas)."""
    return sched.get_last_lr() + [(g["lr"], g.get("momentum"), g.get("betas")) for g in opt.param_groups]


def sequence(opt, sched, epochs, metrics=None):
    """The rates (and momentum) after creation and after each step (optimizer.step() first, as a
    training loop does)."""
    out = [_state(sched, opt)]
    for e in range(epochs):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[e])
        out.append(_state(sched, opt))
    return out


SCHEDULES = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=0.01),  # past T_max it rises again
    "CosineAnnealingLR-eta0": lambda m, o: m.CosineAnnealingLR(o, T_max=10),
    "LinearLR-warmup": lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=5),
    "LinearLR-decay": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.2, total_iters=4),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e),
    "LambdaLR-per-group": lambda m, o: m.LambdaLR(o, [lambda e: 1 / (e + 1), Warmup(6)]),
    "SequentialLR-warmup-cosine": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=5), m.CosineAnnealingLR(o, T_max=30, eta_min=1e-4)],
        milestones=[5]),
    "SequentialLR-three": lambda m, o: m.SequentialLR(
        o, [m.ExponentialLR(o, gamma=0.8), m.StepLR(o, step_size=2, gamma=0.5), m.CosineAnnealingLR(o, T_max=6)],
        milestones=[3, 8]),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=4),
    "ConstantLR-default": lambda m, o: m.ConstantLR(o),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=12, power=2.0),  # reaches 0, then stays
    "PolynomialLR-linear": lambda m, o: m.PolynomialLR(o, total_iters=30),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5, eta_min=0.01),
    "CosineAnnealingWarmRestarts-T_mult": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    "OneCycleLR-cos": lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=EPOCHS),  # momentum too
    "OneCycleLR-linear-three-phase": lambda m, o: m.OneCycleLR(
        o, max_lr=0.8, epochs=8, steps_per_epoch=5, pct_start=0.25, anneal_strategy="linear", three_phase=True,
        base_momentum=[0.8, 0.7], max_momentum=0.9, div_factor=10.0, final_div_factor=100.0),
    "OneCycleLR-no-momentum": lambda m, o: m.OneCycleLR(o, max_lr=0.3, total_steps=EPOCHS + 5, pct_start=0.4,
                                                        cycle_momentum=False, three_phase=True),
    "CyclicLR-triangular": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=4,
                                                   step_size_down=6),
    "CyclicLR-triangular2": lambda m, o: m.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.5, step_size_up=3,
                                                    mode="triangular2", base_momentum=0.5, max_momentum=[0.9, 0.95]),
    "CyclicLR-exp_range": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.3, step_size_up=5, mode="exp_range",
                                                  gamma=0.95, cycle_momentum=False),
    "CyclicLR-scale_fn-cycle": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.3, step_size_up=2, step_size_down=3,
                                                       scale_fn=Halving(0.7)),
    "CyclicLR-scale_fn-iterations": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.3, step_size_up=4,
                                                            scale_fn=lambda x: 1 / (1 + 0.1 * x),
                                                            scale_mode="iterations"),
    "SequentialLR-constant-then-warm-restarts": lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.1, total_iters=3), m.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2)],
        milestones=[3]),
    "SequentialLR-closed-forms": lambda m, o: m.SequentialLR(  # ConstantLR and PolynomialLR start at a milestone
        o, [m.ExponentialLR(o, gamma=0.9), m.ConstantLR(o, factor=0.4, total_iters=3),
            m.PolynomialLR(o, total_iters=9, power=1.5)], milestones=[3, 10]),
    "SequentialLR-warmup-polynomial": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.2, total_iters=4), m.PolynomialLR(o, total_iters=20, power=0.5)],
        milestones=[4]),
}


@pytest.mark.parametrize("name", SCHEDULES)
def test_lr_sequence_equals_torch(name):
    fk_seq = sequence(*build("fk", SCHEDULES[name]), EPOCHS)
    th_seq = sequence(*build("th", SCHEDULES[name]), EPOCHS)
    assert fk_seq == th_seq
    # the schedule does change the rate (ConstantLR has just two values)
    assert len({tuple(s) for s in fk_seq}) > (1 if name.startswith("ConstantLR") else 3)


def test_warmup_then_cosine_has_the_textbook_shape():
    # Closed forms (seed 003): linear warm-up from 0.1·η to η over 5 epochs, then η·(1 + cos(π·e/30))/2.
    opt, sched = build("fk", lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=5), m.CosineAnnealingLR(o, T_max=30)], milestones=[5]))
    lrs = [row[0] for row in sequence(opt, sched, 35)]
    expected = [0.1 * (0.1 + 0.9 * e / 5) for e in range(5)] + [0.1 * (1 + math.cos(math.pi * e / 30)) / 2
                                                                  for e in range(31)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12, atol=1e-15)


PLATEAU = {
    "min-rel": dict(),
    "min-abs-patience": dict(threshold=0.05, threshold_mode="abs", patience=2, factor=0.5),
    "max-rel-cooldown": dict(mode="max", patience=1, cooldown=2, factor=0.3),
    "max-abs-min_lr-list": dict(mode="max", threshold=0.1, threshold_mode="abs", patience=0, min_lr=[0.02, 0.001]),
    "min-eps": dict(patience=0, factor=0.9, eps=0.004),
}


@pytest.mark.parametrize("name", PLATEAU)
def test_reduce_lr_on_plateau_equals_torch(name):
    rng = np.random.default_rng(0)
    metrics = list(np.concatenate([np.linspace(1.0, 0.5, 10), 0.5 + rng.normal(0, 0.05, EPOCHS - 10)]))
    kw = PLATEAU[name]
    fk_seq = sequence(*build("fk", lambda m, o: m.ReduceLROnPlateau(o, **kw)), EPOCHS, metrics)
    th_seq = sequence(*build("th", lambda m, o: m.ReduceLROnPlateau(o, **kw)), EPOCHS, metrics)
    assert fk_seq == th_seq
    assert fk_seq[-1] != fk_seq[0]  # the plateau did reduce the rate


def test_reduce_lr_on_plateau_accepts_a_tensor_metric():
    opt, sched = build("fk", lambda m, o: m.ReduceLROnPlateau(o, patience=0))
    sched.step(fk.tensor(1.0))
    sched.step(fk.tensor([2.0]))
    assert sched.get_last_lr() == [0.1 * 0.1, 0.05 * 0.1]


@pytest.mark.parametrize("direction", ["fukaku->torch", "torch->fukaku"])
@pytest.mark.parametrize("name", [*SCHEDULES, "ReduceLROnPlateau"])
def test_state_dict_round_trip_mid_schedule(name, direction):
    make = SCHEDULES.get(name, lambda m, o: m.ReduceLROnPlateau(o, patience=1, cooldown=1))
    metrics = [1.0, 0.9, 0.95, 0.97, 0.99, 0.8, 0.85, 0.9, 0.91, 0.92] * 2
    step_args = metrics if name == "ReduceLROnPlateau" else None
    src_lib, dst_lib = ("fk", "th") if direction == "fukaku->torch" else ("th", "fk")
    src_opt, src = build(src_lib, make)
    sequence(src_opt, src, 7, step_args)
    # Resume: a fresh optimizer and scheduler of the other library load both state dicts.
    dst_opt, dst = build(dst_lib, make)
    opt_sd = src_opt.state_dict()
    dst_opt.load_state_dict(opt_sd)
    dst.load_state_dict(src.state_dict())
    rest = None if step_args is None else step_args[7:]
    assert sequence(src_opt, src, 12, rest) == sequence(dst_opt, dst, 12, rest)


def test_state_dict_uses_torch_key_names():
    for name, make in [*SCHEDULES.items(), ("ReduceLROnPlateau", lambda m, o: m.ReduceLROnPlateau(o))]:
        fk_keys = set(build("fk", make)[1].state_dict())
        th_keys = set(build("th", make)[1].state_dict())
        assert fk_keys == th_keys - {"_is_initial", "_get_lr_called_within_step"}, name


def test_lambda_state_saves_callable_objects_only():
    opt, sched = build("fk", SCHEDULES["LambdaLR-per-group"])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [None, {"epochs": 6}]
    sd["lr_lambdas"][1]["epochs"] = 3
    opt2, sched2 = build("fk", SCHEDULES["LambdaLR-per-group"])
    sched2.load_state_dict(sd)
    assert sched2.lr_lambdas[1].epochs == 3


def test_scheduler_drives_the_optimizer_like_torch():
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(3, 2))
    a, b = fk.tensor(w0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    fk_opt, th_opt = optim.SGD([a], lr=0.5, momentum=0.9), torch.optim.SGD([b], lr=0.5, momentum=0.9)
    fk_s = fk_sched.StepLR(fk_opt, step_size=2, gamma=0.3)
    th_s = th_sched.StepLR(th_opt, step_size=2, gamma=0.3)
    for _ in range(10):
        g = rng.normal(size=(3, 2))
        a.grad, b.grad = fk.tensor(g + a.data.numpy()), torch.tensor(g + b.detach().numpy())
        fk_opt.step()
        th_opt.step()
        fk_s.step()
        th_s.step()
    np.testing.assert_allclose(a.data.numpy(), b.detach().numpy(), rtol=0, atol=1e-12)


def test_resuming_needs_initial_lr():
    opt, _ = build("fk", lambda m, o: None)
    with pytest.raises(KeyError, match="initial_lr"):
        fk_sched.StepLR(opt, step_size=2, last_epoch=4)
    seqs = []
    for lib in ("fk", "th"):  # resuming at epoch 3 continues as PyTorch does
        opt, _ = build(lib, SCHEDULES["CosineAnnealingLR"])
        module = fk_sched if lib == "fk" else th_sched
        seqs.append(sequence(opt, module.CosineAnnealingLR(opt, T_max=7, eta_min=0.01, last_epoch=3), 10))
    assert seqs[0] == seqs[1]


@pytest.mark.parametrize("make, error, match", [
    (lambda o: fk_sched.StepLR(object(), step_size=2), TypeError, "not an Optimizer"),
    (lambda o: fk_sched.StepLR(o, step_size=0), ValueError, "step_size"),
    (lambda o: fk_sched.LinearLR(o, start_factor=0.0), ValueError, "start_factor"),
    (lambda o: fk_sched.LinearLR(o, end_factor=1.5), ValueError, "end_factor"),
    (lambda o: fk_sched.CosineAnnealingLR(o, T_max=0), ValueError, "T_max"),
    (lambda o: fk_sched.LambdaLR(o, [lambda e: 1.0]), ValueError, "expected 2 lr_lambdas"),
    (lambda o: fk_sched.LambdaLR(o, 0.5), TypeError, "function"),
    (lambda o: fk_sched.ReduceLROnPlateau(o, factor=1.0), ValueError, "factor"),
    (lambda o: fk_sched.ReduceLROnPlateau(o, mode="up"), ValueError, "mode"),
    (lambda o: fk_sched.ReduceLROnPlateau(o, threshold_mode="pct"), ValueError, "threshold_mode"),
    (lambda o: fk_sched.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "min_lrs"),
    (lambda o: fk_sched.SequentialLR(o, [fk_sched.ExponentialLR(o, 0.9)], milestones=[3]), ValueError,
     "expected 0 milestones"),
    (lambda o: fk_sched.SequentialLR(o, [fk_sched.ExponentialLR(o, 0.9), fk_sched.StepLR(o, 2),
                                         fk_sched.StepLR(o, 3)], milestones=[5, 2]), ValueError, "increasing"),
    (lambda o: fk_sched.SequentialLR(o, [fk_sched.ExponentialLR(o, 0.9), fk_sched.ReduceLROnPlateau(o)],
                                     milestones=[2]), ValueError, "ReduceLROnPlateau"),
    (lambda o: fk_sched.ConstantLR(o, factor=1.5), ValueError, "factor"),
    (lambda o: fk_sched.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "T_0"),
    (lambda o: fk_sched.CosineAnnealingWarmRestarts(o, T_0=2.5), ValueError, "T_0"),
    (lambda o: fk_sched.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0), ValueError, "T_mult"),
    (lambda o: fk_sched.CosineAnnealingWarmRestarts(o, T_0=2, eta_min="0"), ValueError, "eta_min"),
    (lambda o: fk_sched.CosineAnnealingWarmRestarts(o, T_0=2).step(-1), ValueError, "epoch must be >= 0"),
    (lambda o: fk_sched.OneCycleLR(o, max_lr=0.1), ValueError, "total_steps, or epochs and steps_per_epoch"),
    (lambda o: fk_sched.OneCycleLR(o, max_lr=0.1, total_steps=0), ValueError, "total_steps"),
    (lambda o: fk_sched.OneCycleLR(o, max_lr=0.1, epochs=2, steps_per_epoch=-1), ValueError, "steps_per_epoch"),
    (lambda o: fk_sched.OneCycleLR(o, max_lr=0.1, total_steps=9, pct_start=1.5), ValueError, "pct_start"),
    (lambda o: fk_sched.OneCycleLR(o, max_lr=0.1, total_steps=9, anneal_strategy="exp"), ValueError,
     "anneal_strategy"),
    (lambda o: fk_sched.OneCycleLR(o, max_lr=[0.1], total_steps=9), ValueError, "expected 2 values of max_lr"),
    (lambda o: fk_sched.OneCycleLR(o, max_lr=0.1, total_steps=9, base_momentum=[0.8, 0.8, 0.8]), ValueError,
     "expected 2 values of base_momentum"),
    (lambda o: fk_sched.CyclicLR(o, 0.01, 0.1, mode="sine"), ValueError, "mode"),
    (lambda o: fk_sched.CyclicLR(o, 0.01, 0.1, scale_fn=0.5), TypeError, "scale_fn"),
    (lambda o: fk_sched.CyclicLR(object(), 0.01, 0.1), TypeError, "not an Optimizer"),
    (lambda o: fk_sched.OneCycleLR(object(), 0.1, total_steps=3), TypeError, "not an Optimizer"),
    (lambda o: fk_sched.CyclicLR(o, 0.01, 0.1, scale_mode="epochs"), ValueError, "scale_mode"),
    (lambda o: fk_sched.CyclicLR(o, [0.01], 0.1), ValueError, "expected 2 values of base_lr"),
    (lambda o: fk_sched.CyclicLR(o, 0.01, 0.1, step_size_up=0), ValueError, "step_size_up"),
    (lambda o: fk_sched.CyclicLR(optim.Adagrad([fk.tensor([1.0], requires_grad=True)]), 0.01, 0.1), ValueError,
     "cycle_momentum"),
    (lambda o: fk_sched.OneCycleLR(optim.Adagrad([fk.tensor([1.0], requires_grad=True)]), 0.1, total_steps=5),
     ValueError, "cycle_momentum"),
])
def test_invalid_arguments(make, error, match):
    opt, _ = build("fk", lambda m, o: None)
    with pytest.raises(error, match=match):
        make(opt)


def test_sequential_refuses_a_scheduler_of_another_optimizer():
    opt1, s1 = build("fk", SCHEDULES["ExponentialLR"])
    opt2, s2 = build("fk", SCHEDULES["StepLR"])
    with pytest.raises(ValueError, match="another optimizer"):
        fk_sched.SequentialLR(opt1, [s1, s2], milestones=[3])


def test_bad_state_dicts_are_refused_and_change_nothing():
    opt, sched = build("fk", SCHEDULES["SequentialLR-warmup-cosine"])
    sequence(opt, sched, 3)
    before = sched.state_dict()
    broken = sched.state_dict()
    broken["_schedulers"][1] = {k: v for k, v in broken["_schedulers"][1].items() if k != "T_max"}
    broken["last_epoch"] = 99
    with pytest.raises(KeyError, match=r"CosineAnnealingLR.load_state_dict: missing keys \['T_max'\]"):
        sched.load_state_dict(broken)
    assert sched.state_dict() == before
    step = fk_sched.StepLR(opt, step_size=2)
    with pytest.raises(ValueError, match="'base_lrs' has 1 entries but the optimizer has 2"):
        step.load_state_dict({**step.state_dict(), "base_lrs": [0.1]})
    with pytest.raises(KeyError, match=r"unexpected keys \['bogus'\]"):
        step.load_state_dict({**step.state_dict(), "bogus": 1})
    plateau = fk_sched.ReduceLROnPlateau(opt)
    with pytest.raises(ValueError, match="mode"):
        plateau.load_state_dict({**plateau.state_dict(), "mode": "sideways"})
    assert plateau.mode == "min"


def test_state_dict_is_a_copy():
    opt, sched = build("fk", SCHEDULES["MultiStepLR"])
    sd = sched.state_dict()
    sd["base_lrs"][0] = 123.0
    sd["milestones"][2] = 7
    assert sched.base_lrs[0] == 0.1 and sched.milestones[2] == 1


# ---------------------------------------------------------------------- the new schedules in detail
@pytest.mark.parametrize("optimizer", ["Adam", "NAdam", "RMSprop"])
@pytest.mark.parametrize("name", ["OneCycleLR-cos", "OneCycleLR-linear-three-phase", "CyclicLR-triangular2"])
def test_momentum_cycling_with_betas_or_momentum_equals_torch(name, optimizer):
    # Adam-like optimizers cycle β₁ (betas[0]; β₂ stays), RMSprop its momentum
    fk_seq = sequence(*build("fk", SCHEDULES[name], optimizer), EPOCHS)
    th_seq = sequence(*build("th", SCHEDULES[name], optimizer), EPOCHS)
    assert fk_seq == th_seq
    key = 2 if optimizer != "RMSprop" else 1
    first = {row[2][key][0] if key == 2 else row[2][key] for row in fk_seq}
    assert len(first) > 5  # the momentum does move
    if key == 2:
        assert {row[2][key][1] for row in fk_seq} == {0.999}


@pytest.mark.parametrize("name, optimizer", [("OneCycleLR-cos", "SGD"), ("CyclicLR-triangular", "Adam"),
                                             ("OneCycleLR-linear-three-phase", "RAdam")])
def test_cycled_momentum_drives_the_optimizer_like_torch(name, optimizer):
    rng = np.random.default_rng(1)
    grads = rng.normal(size=(EPOCHS, 3))
    results = []
    for lib, T in (("fk", fk.tensor), ("th", torch.tensor)):
        opt, sched = build(lib, SCHEDULES[name], optimizer)
        params = [p for g in opt.param_groups for p in g["params"]]
        for g in grads:
            g = g.astype(np.float32)
            params[0].grad, params[1].grad = T(g[:2] + np.float32(0.1) * np.float32(params[0].tolist())), T(g[2:])
            opt.step()
            sched.step()
        results.append([np.array(p.tolist()) for p in params])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)  # float32 parameters


def test_one_cycle_has_the_policy_shape():
    # Closed form (Smith and Topin): cosine from max_lr/25 up to max_lr over steps 0…9, then down to
    # max_lr/25/1e4 over steps 9…19; the momentum mirrors it between 0.95 and 0.85.
    opt, sched = build("fk", lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=20, pct_start=0.5))
    rows = sequence(opt, sched, 19)
    t = np.arange(20)
    up = np.where(t <= 9, t / 9, 1.0)
    down = np.where(t <= 9, 0.0, (t - 9) / 10)
    cos = lambda a, b, pct: b + (a - b) * (1 + np.cos(np.pi * pct)) / 2  # noqa: E731
    for group, max_lr in enumerate((1.0, 0.5)):
        lr = np.where(t <= 9, cos(max_lr / 25, max_lr, up), cos(max_lr, max_lr / 25 / 1e4, down))
        momentum = np.where(t <= 9, cos(0.95, 0.85, up), cos(0.85, 0.95, down))
        np.testing.assert_allclose([r[group] for r in rows], lr, rtol=1e-12)
        np.testing.assert_allclose([r[2 + group][1] for r in rows], momentum, rtol=1e-12)


def test_one_cycle_refuses_to_step_past_total_steps():
    for module, lib in ((fk_sched, "fk"), (th_sched, "th")):
        opt, sched = build(lib, lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=3))
        for _ in range(3):
            sched.step()
        with pytest.raises(ValueError, match="(?i)tried to step 4 times"):
            sched.step()


@pytest.mark.parametrize("T_mult", [1, 2, 3])
def test_warm_restarts_with_fractional_epochs_equals_torch(T_mult):
    iters = 7  # batches per epoch: step(epoch + i / iters) after each
    seqs = []
    for lib in ("fk", "th"):
        opt, sched = build(lib, lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=T_mult, eta_min=0.001))
        rows = []
        for epoch in range(12):
            for i in range(iters):
                sched.step(epoch + i / iters)
                rows.append((sched.get_last_lr(), sched.last_epoch, sched.T_i, sched.T_cur))
        seqs.append(rows)
    assert seqs[0] == seqs[1]
    assert len({row[2] for row in seqs[0]}) == (1 if T_mult == 1 else 3)  # restarts lengthen the period


def test_warm_restarts_step_and_step_epoch_interleave_like_torch():
    seqs = []
    for lib in ("fk", "th"):
        opt, sched = build(lib, SCHEDULES["CosineAnnealingWarmRestarts-T_mult"])
        rows = []
        for _ in range(5):
            sched.step()
        sched.step(26)  # a jump: then step() continues from epoch 27
        for _ in range(4):
            sched.step()
            rows.append((sched.get_last_lr(), sched.last_epoch, sched.T_i, sched.T_cur))
        sched.step(2.5)  # back into the first period
        rows.append((sched.get_last_lr(), sched.last_epoch, sched.T_i, sched.T_cur, sched.state_dict()["_step_count"]))
        seqs.append(rows)
    assert seqs[0] == seqs[1]
    assert seqs[0][0][1] == 27


def test_cyclic_scale_fn_object_is_saved_and_restored():
    opt, sched = build("fk", SCHEDULES["CyclicLR-scale_fn-cycle"])
    sd = sched.state_dict()
    assert sd["_scale_fn_custom"] == {"base": 0.7} and sched.scale_fn(3) == pytest.approx(0.49)
    sd["_scale_fn_custom"]["base"] = 0.5
    opt2, sched2 = build("fk", SCHEDULES["CyclicLR-scale_fn-cycle"])
    sched2.load_state_dict(sd)
    assert sched2._scale_fn_custom.base == 0.5 and sched.scale_fn(3) == pytest.approx(0.49)
    lambda_sd = build("fk", SCHEDULES["CyclicLR-scale_fn-iterations"])[1].state_dict()
    assert lambda_sd["_scale_fn_custom"] is None and lambda_sd["scale_mode"] == "iterations"
