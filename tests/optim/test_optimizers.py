"""fukaku.optim against torch.optim: parameter trajectories, param groups, state dicts both ways,
zero_grad, closures, errors; and nn.utils.clip_grad_norm_ / clip_grad_value_ against torch.

Trajectories: both libraries start from the same weights; at every step each computes the gradient
of the same loss from *its own* current weights (NumPy closed form, so the check does not depend
on either autograd), plus a fixed random perturbation whose size varies from step to step (so
amsgrad's running maximum matters). Any difference in an update therefore compounds over the steps.
"""
import math
import warnings

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku import optim
from fukaku.nn.utils import clip_grad_norm_, clip_grad_value_

SHAPES = [(4, 3), (3,), (2, 2, 2), ()]
STEPS = 20
TOL = {np.float64: dict(rtol=0, atol=1e-10), np.float32: dict(rtol=0, atol=1e-4)}

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=1.0)),  # the velocity keeps the first gradient, decaying
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, weight_decay=1.0)),  # a decay of exactly 1 is still a decay
    ("SGD", dict(lr=0.05, momentum=0.5, weight_decay=0.2, nesterov=True)),
    ("SGD", dict(lr=0.02, momentum=0.9, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, eps=1e-3, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.5, eps=1e-3)),
    ("Adadelta", dict(weight_decay=0.1, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.5, eps=1e-3)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.1, betas=(0.5, 0.9), eps=1e-3)),
    ("Adam", dict(lr=0.1, weight_decay=0.1)),
    ("Adam", dict(lr=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.1, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.1, weight_decay=0.1)),
    ("AdamW", dict(lr=0.1, weight_decay=1.0)),
    ("AdamW", dict(lr=0.1, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.1, betas=(0.8, 0.99), weight_decay=0.3, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.1, betas=(0.3, 0.9), eps=1e-3)),  # 1 − β₁ ≥ 0.5: torch's lerp from the other end
    ("Adamax", dict(lr=0.05, weight_decay=0.1, foreach=False)),
    ("Adamax", dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.1, momentum_decay=0.05)),
    ("NAdam", dict(lr=0.1, betas=(0.3, 0.9), eps=1e-3)),
    ("NAdam", dict(lr=0.1, weight_decay=0.1)),
    ("NAdam", dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True, maximize=True, foreach=False)),
    ("RAdam", dict()),  # ρₜ > 5 from step 6 on: both branches
    ("RAdam", dict(lr=0.1, betas=(0.5, 0.9))),
    ("RAdam", dict(lr=0.1, betas=(0.9, 0.99), eps=1e-3, weight_decay=0.1)),
    ("RAdam", dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True, maximize=True, capturable=False)),
]


def _ids(case):
    name, kw = case
    return name + "(" + ",".join(f"{k}={v}" for k, v in kw.items()) + ")"


class Problem:
    """Loss L(θ) = Σ_i ½‖a_i ⊙ θ_i‖² + Σ sin(θ_i) (+ per-step noise in the gradient)."""

    def __init__(self, seed=0, shapes=SHAPES):
        rng = np.random.default_rng(seed)
        self.init = [rng.normal(size=s) for s in shapes]
        self.scale = [rng.uniform(0.5, 2.0, size=s) for s in shapes]
        self.noise = [[rng.normal(size=s) * rng.choice([3.0, 0.05, 1.0]) for s in shapes] for _ in range(2 * STEPS)]

    def grads(self, params: list[np.ndarray], t: int) -> list[np.ndarray]:
        return [a * a * p + np.cos(p) + n for p, a, n in zip(params, self.scale, self.noise[t])]


def make_pair(name, kw, dtype, problem, groups=None):
    fk_params = [fk.tensor(x.astype(dtype), requires_grad=True) for x in problem.init]
    th_params = [torch.tensor(x.astype(dtype), requires_grad=True) for x in problem.init]

    def arrange(params):
        return [{**g, "params": [params[i] for i in g["params"]]} for g in groups] if groups else params

    return (fk_params, getattr(optim, name)(arrange(fk_params), **kw),
            th_params, getattr(torch.optim, name)(arrange(th_params), **kw))


def set_grads(problem, t, fk_params, th_params, skip=()):
    dtype = fk_params[0].data.numpy().dtype
    for i, (g_fk, g_th) in enumerate(zip(problem.grads([p.data.numpy() for p in fk_params], t),
                                         problem.grads([p.detach().numpy() for p in th_params], t))):
        if i in skip:  # this parameter gets no gradient this step: both libraries skip it
            fk_params[i].grad, th_params[i].grad = None, None
        else:
            fk_params[i].grad = fk.tensor(g_fk.astype(dtype))
            th_params[i].grad = torch.tensor(g_th.astype(dtype))


def run(problem, fk_params, fk_opt, th_params, th_opt, steps, start=0):
    for t in range(start, start + steps):
        set_grads(problem, t, fk_params, th_params, skip=(1,) if t == 3 else ())
        fk_opt.step()
        th_opt.step()


def assert_same(fk_params, th_params, dtype):
    for a, b in zip(fk_params, th_params):
        assert a.data.numpy().dtype == np.dtype(dtype)
        np.testing.assert_allclose(a.data.numpy(), b.detach().numpy(), **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_trajectory_matches_torch(case, dtype):
    name, kw = case
    problem = Problem()
    fk_params, fk_opt, th_params, th_opt = make_pair(name, kw, dtype, problem)
    run(problem, fk_params, fk_opt, th_params, th_opt, STEPS)
    assert_same(fk_params, th_params, dtype)
    moved = max(np.abs(p.data.numpy() - x).max() for p, x in zip(fk_params, problem.init))
    assert moved > 1e-3  # the check is not vacuous: the parameters did move


def test_mlp_trained_with_each_library_autograd_matches_torch():
    # End to end: gradients from fukaku's own backward on a small tanh MLP, Adam with amsgrad.
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(16, 5)), rng.normal(size=(16, 2))
    init = [rng.normal(size=(5, 8)) * 0.5, np.zeros(8), rng.normal(size=(8, 2)) * 0.5, np.zeros(2)]
    fk_p = [fk.tensor(w, requires_grad=True) for w in init]
    th_p = [torch.tensor(w, requires_grad=True) for w in init]
    fk_opt = optim.Adam(fk_p, lr=0.05, amsgrad=True, weight_decay=1e-3)
    th_opt = torch.optim.Adam(th_p, lr=0.05, amsgrad=True, weight_decay=1e-3)
    for lib, params, opt in (("fk", fk_p, fk_opt), ("th", th_p, th_opt)):
        T = fk.tensor if lib == "fk" else torch.tensor
        x, y = T(X), T(Y)
        for _ in range(STEPS):
            opt.zero_grad()
            w1, b1, w2, b2 = params
            loss = ((((x @ w1 + b1).tanh() @ w2 + b2) - y) ** 2).mean()
            loss.backward()
            opt.step()
    assert_same(fk_p, th_p, np.float64)


def test_param_groups_with_their_own_options():
    problem = Problem(seed=2)
    groups = [{"params": [0, 2], "lr": 0.3, "momentum": 0.9}, {"params": [1], "nesterov": True, "momentum": 0.5},
              {"params": [3], "weight_decay": 0.5}]
    fk_params, fk_opt, th_params, th_opt = make_pair("SGD", dict(lr=0.01), np.float64, problem, groups)
    assert [g["lr"] for g in fk_opt.param_groups] == [0.3, 0.01, 0.01]
    assert fk_opt.param_groups[2]["momentum"] == 0 and fk_opt.param_groups[1]["nesterov"] is True
    run(problem, fk_params, fk_opt, th_params, th_opt, STEPS)
    assert_same(fk_params, th_params, np.float64)


def test_add_param_group_later_and_per_group_lr_change():
    problem = Problem(seed=3)
    fk_params, fk_opt, th_params, th_opt = make_pair("Adam", dict(lr=0.01), np.float64, problem,
                                                     [{"params": [0, 1]}])
    run(problem, fk_params, fk_opt, th_params, th_opt, 3)
    fk_opt.add_param_group({"params": fk_params[2:], "lr": 0.2, "betas": (0.5, 0.6)})
    th_opt.add_param_group({"params": th_params[2:], "lr": 0.2, "betas": (0.5, 0.6)})
    fk_opt.param_groups[0]["lr"] = th_opt.param_groups[0]["lr"] = 0.05
    run(problem, fk_params, fk_opt, th_params, th_opt, STEPS, start=3)
    assert_same(fk_params, th_params, np.float64)


def _to_torch(state_dict):
    """A fukaku optimizer state dict with torch tensors in place of fukaku tensors."""
    return {"state": {i: {k: torch.tensor(v.numpy()) if isinstance(v, fk.Tensor) else v for k, v in s.items()}
                      for i, s in state_dict["state"].items()},
            "param_groups": state_dict["param_groups"]}


TORCH_ONLY_OPTIONS = {"foreach", "fused", "capturable", "differentiable"}  # device/kernel choices


@pytest.mark.parametrize("direction", ["fukaku->torch", "torch->fukaku"])
@pytest.mark.parametrize("case", [c for c in CASES if c[1]], ids=_ids)
def test_state_dict_round_trip_mid_trajectory(case, direction):
    name, kw = case
    problem = Problem(seed=4)
    groups = [{"params": [0, 1], "lr": 0.02}, {"params": [2, 3]}]
    fk_params, fk_opt, th_params, th_opt = make_pair(name, kw, np.float64, problem, groups)
    run(problem, fk_params, fk_opt, th_params, th_opt, 5)

    fk_sd, th_sd = fk_opt.state_dict(), th_opt.state_dict()
    assert fk_sd["state"].keys() == th_sd["state"].keys()
    for i in th_sd["state"]:  # same buffers under the same names, same values
        assert fk_sd["state"][i].keys() == th_sd["state"][i].keys()
        for k, v in th_sd["state"][i].items():
            np.testing.assert_allclose(fk_sd["state"][i][k].numpy(), v.numpy(), rtol=0, atol=1e-10)
    for g_fk, g_th in zip(fk_sd["param_groups"], th_sd["param_groups"]):
        assert set(g_th) - set(g_fk) <= TORCH_ONLY_OPTIONS
        assert {k: g_th[k] for k in g_fk} == g_fk

    # A fresh optimizer (on copies of the current weights) loads the other library's state dict.
    if direction == "fukaku->torch":
        params = [torch.tensor(p.data.numpy().copy(), requires_grad=True) for p in fk_params]
        resumed = getattr(torch.optim, name)([{"params": params[:2]}, {"params": params[2:]}], **kw)
        resumed.load_state_dict(_to_torch(fk_sd))
        run(problem, fk_params, fk_opt, params, resumed, 5, start=5)
        assert_same(fk_params, params, np.float64)
    else:
        params = [fk.tensor(p.detach().numpy().copy(), requires_grad=True) for p in th_params]
        resumed = getattr(optim, name)([{"params": params[:2]}, {"params": params[2:]}], **kw)
        resumed.load_state_dict(th_sd)
        assert resumed.param_groups[0]["lr"] == 0.02
        run(problem, params, resumed, th_params, th_opt, 5, start=5)
        assert_same(params, th_params, np.float64)


def test_loaded_state_is_copied_and_cast_to_the_parameter_dtype():
    p = fk.tensor(np.zeros(3, np.float32), requires_grad=True)
    opt = optim.Adam([p])
    exp_avg = torch.ones(3, dtype=torch.float64)
    sd = {"state": {0: {"step": torch.tensor(4.0), "exp_avg": exp_avg, "exp_avg_sq": torch.ones(3)}},
          "param_groups": [{**opt.state_dict()["param_groups"][0], "lr": 0.5}]}
    opt.load_state_dict(sd)
    s = opt.state[p]
    assert s["exp_avg"].dtype == np.float32 and s["step"].dtype == np.float32 and float(s["step"]) == 4.0
    exp_avg.fill_(7.0)
    assert s["exp_avg"].numpy().tolist() == [1.0, 1.0, 1.0]  # not aliased with the source
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["params"][0] is p


def test_adamw_keeps_decoupled_decay_when_loading_an_adam_state_dict():
    p = fk.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.AdamW([p])
    opt.load_state_dict(optim.Adam([fk.tensor([0.0, 0.0], requires_grad=True)]).state_dict())
    assert opt.param_groups[0]["decoupled_weight_decay"] is True


def test_adam_l2_penalty_differs_from_adamw_decoupled_decay():
    # Erratum C19 (seed 000): an L2 penalty inside Adam is rescaled by 1/√v̂; AdamW's decay is not.
    # With a zero loss gradient, Adam's decay step is lr·sign(θ) (a normalised step, the same for every
    # coordinate), AdamW's is lr·λ·θ (proportional to θ).
    theta = np.array([0.1, 10.0])
    a = fk.tensor(theta, requires_grad=True)
    w = fk.tensor(theta, requires_grad=True)
    adam, adamw = optim.Adam([a], lr=0.01, weight_decay=0.1), optim.AdamW([w], lr=0.01, weight_decay=0.1)
    for t, opt in ((a, adam), (w, adamw)):
        t.grad = fk.zeros(2, dtype=fk.float64)
        opt.step()
    np.testing.assert_allclose(theta - a.data.numpy(), [0.01, 0.01], rtol=1e-6)
    np.testing.assert_allclose(theta - w.data.numpy(), 0.01 * 0.1 * theta, rtol=1e-12)


def test_zero_grad_none_or_zeros_and_its_effect_matches_torch():
    problem = Problem(seed=5)
    fk_params, fk_opt, th_params, th_opt = make_pair("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.1),
                                                     np.float64, problem)
    run(problem, fk_params, fk_opt, th_params, th_opt, 3)
    grad0 = fk_params[0].grad
    fk_opt.zero_grad(set_to_none=False)
    th_opt.zero_grad(set_to_none=False)
    assert fk_params[0].grad is grad0 and not grad0.numpy().any()  # zeroed in place
    fk_opt.step()  # zero gradients still move the parameters (momentum, weight decay)
    th_opt.step()
    assert_same(fk_params, th_params, np.float64)
    before = [p.data.numpy().copy() for p in fk_params]
    fk_opt.zero_grad()
    th_opt.zero_grad()
    assert all(p.grad is None for p in fk_params)
    fk_opt.step()  # no gradient at all: nothing moves
    th_opt.step()
    for p, b in zip(fk_params, before):
        np.testing.assert_array_equal(p.data.numpy(), b)
    assert_same(fk_params, th_params, np.float64)


def test_step_with_closure_returns_the_loss():
    w = fk.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with fk.no_grad():  # step turns grad mode on for the closure
        loss = opt.step(closure)
    assert loss.item() == 5.0
    np.testing.assert_allclose(w.data.numpy(), [0.5, -1.0])  # w − 0.25·2w


def test_step_updates_in_place_and_bumps_the_version():
    w = fk.tensor([1.0, 2.0], requires_grad=True)
    data, version = w.data.numpy(), w._version.value
    y = w * w  # saves w for its backward
    opt = optim.SGD([w], lr=0.1)
    w.grad = fk.tensor([1.0, 1.0])
    opt.step()
    assert w.data.numpy() is data and w._version.value == version + 1
    with pytest.raises(RuntimeError):
        y.sum().backward()  # w changed after y saved it: the gradient would be wrong


def test_named_parameters_keep_their_names():
    a, b = fk.tensor([1.0], requires_grad=True), fk.tensor([2.0], requires_grad=True)
    opt = optim.SGD([("layer.weight", a), ("layer.bias", b)], lr=0.1)
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["layer.weight", "layer.bias"]
    assert all(x is y for x, y in zip(opt.param_groups[0]["params"], [a, b], strict=True))


def test_repr_lists_groups_and_options():
    text = repr(optim.SGD([fk.tensor([1.0], requires_grad=True)], lr=0.5))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "lr: 0.5" in text


@pytest.mark.parametrize("make, match", [
    (lambda p: optim.SGD([], lr=0.1), "empty parameter list"),
    (lambda p: optim.SGD(p, lr=0.1), "single Tensor"),
    (lambda p: optim.SGD([p], lr=-1.0), "invalid lr"),
    (lambda p: optim.SGD([p], lr=0.1, nesterov=True), "Nesterov"),
    (lambda p: optim.SGD([{"params": [p], "momentum": -0.5}], lr=0.1), "invalid momentum"),
    (lambda p: optim.Adam([p], betas=(0.9, 1.0)), "beta parameter at index 1"),
    (lambda p: optim.AdamW([p], eps=-1e-8), "invalid eps"),
    (lambda p: optim.Adadelta([p], rho=1.5), "rho"),
    (lambda p: optim.RMSprop([p], alpha=-0.1), "invalid alpha"),
    (lambda p: optim.Adagrad([p], lr_decay=-1), "invalid lr_decay"),
    (lambda p: optim.SGD([p * 2], lr=0.1), "non-leaf"),
    (lambda p: optim.SGD([p.detach().numpy()], lr=0.1), "only optimize Tensors"),
    (lambda p: optim.SGD([fk.tensor([1, 2])], lr=0.1), "floating-point"),
    (lambda p: optim.SGD({p}, lr=0.1), "ordered collection"),
    (lambda p: optim.Adamax([p], lr=-0.1), "invalid lr"),
    (lambda p: optim.Adamax([p], betas=(1.0, 0.9)), "Adamax: invalid beta parameter at index 0"),
    (lambda p: optim.NAdam([p], momentum_decay=-1), "NAdam: invalid momentum_decay"),
    (lambda p: optim.NAdam([p], weight_decay=-1), "invalid weight_decay"),
    (lambda p: optim.RAdam([p], eps=-1), "RAdam: invalid eps"),
    (lambda p: optim.RAdam([p], betas=(0.9, 1.5)), "beta parameter at index 1"),
    (lambda p: optim.RAdam([p], differentiable=True), "differentiable=True"),
    (lambda p: optim.Adamax([{"params": [p], "differentiable": True}]), "differentiable=True"),
])
def test_invalid_arguments_get_helpful_errors(make, match):
    p = fk.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises((ValueError, TypeError), match=match):
        make(p)


@pytest.mark.parametrize("name", ["Adamax", "NAdam", "RAdam"])
def test_adam_variants_have_torchs_defaults_and_group_layout(name):
    # the same options, defaults included (foreach, capturable, differentiable kept as torch keeps them)
    a, b = fk.tensor([1.0], requires_grad=True), torch.tensor([1.0], requires_grad=True)
    assert getattr(optim, name)([a]).param_groups[0].keys() - {"params"} == \
        getattr(torch.optim, name)([b]).param_groups[0].keys() - {"params"}
    assert {k: v for k, v in getattr(optim, name)([a]).state_dict()["param_groups"][0].items()} == \
        getattr(torch.optim, name)([b]).state_dict()["param_groups"][0]


def test_nadam_loaded_mu_product_takes_the_parameter_dtype_as_in_torch():
    p = fk.tensor(np.zeros(2), requires_grad=True)
    opt = optim.NAdam([p])
    p.grad = fk.ones(2, dtype=fk.float64)
    opt.step()
    assert opt.state[p]["mu_product"].dtype == np.float32  # a fresh product is float32, like torch's
    opt.load_state_dict(opt.state_dict())
    assert opt.state[p]["mu_product"].dtype == np.float64 and opt.state[p]["step"].dtype == np.float32
    bad = opt.state_dict()
    bad["state"][0] = {**bad["state"][0], "mu_product": np.ones(3)}
    with pytest.raises(fk.ShapeError, match="mu_product"):
        opt.load_state_dict(bad)


def test_a_parameter_in_two_groups_is_refused():
    p = fk.tensor([1.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [p]})
    assert len(opt.param_groups) == 1


def test_a_bad_gradient_leaves_every_parameter_untouched():
    a, b = fk.tensor([1.0, 2.0], requires_grad=True), fk.tensor([3.0, 4.0], requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad, b.grad = fk.tensor([1.0, 1.0], dtype=fk.float32), fk.tensor([1.0, 1.0, 1.0], dtype=fk.float32)
    with pytest.raises(fk.ShapeError, match=r"parameter 1 of group 0 has shape \(2,\) but its .grad has shape \(3,\)"):
        opt.step()
    assert a.tolist() == [1.0, 2.0] and not opt.state


def test_bad_state_dicts_are_refused_and_change_nothing():
    p = fk.tensor(np.zeros(3), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = fk.ones(3, dtype=fk.float64)
    opt.step()
    good = opt.state_dict()
    before = {k: v.numpy().copy() for k, v in opt.state[p].items()}
    wrong_shape = {"state": {0: {**good["state"][0], "exp_avg": fk.zeros(4)}}, "param_groups": good["param_groups"]}
    with pytest.raises(fk.ShapeError,
                       match=r"state\[0\]\['exp_avg'\] has shape \(4,\) but parameter 0 has shape \(3,\)"):
        opt.load_state_dict(wrong_shape)
    with pytest.raises(ValueError, match="2 parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": good["param_groups"] * 2})
    with pytest.raises(ValueError, match="group 0 has 2 parameters"):
        opt.load_state_dict({"state": {}, "param_groups": [{**good["param_groups"][0], "params": [0, 1]}]})
    with pytest.raises(KeyError, match="parameter 5"):
        opt.load_state_dict({"state": {5: good["state"][0]}, "param_groups": good["param_groups"]})
    with pytest.raises(KeyError, match="'param_groups'"):
        opt.load_state_dict({"state": {}})
    with pytest.raises(ValueError, match="invalid lr"):
        opt.load_state_dict({"state": {}, "param_groups": [{**good["param_groups"][0], "lr": -1}]})
    assert opt.param_groups[0]["lr"] == 0.1
    for k, v in opt.state[p].items():
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_state_dict_keys_may_be_strings_from_a_checkpoint():
    p = fk.tensor(np.zeros(2), requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    sd = {"state": {"0": {"momentum_buffer": np.array([1.0, 2.0])}},
          "param_groups": [{**opt.state_dict()["param_groups"][0], "params": np.array([0])}]}
    opt.load_state_dict(sd)
    assert opt.state[p]["momentum_buffer"].tolist() == [1.0, 2.0]


# ---------------------------------------------------------------------- gradient clipping
def _clip_pair(dtype, seed=0):
    rng = np.random.default_rng(seed)
    grads = [rng.normal(size=s) * 3 for s in [(5, 4), (4,), (3, 2, 2)]]
    fk_p = [fk.zeros(*g.shape, dtype=dtype, requires_grad=True) for g in grads]
    th_p = [torch.zeros(*g.shape, dtype=torch.float64 if dtype == fk.float64 else torch.float32, requires_grad=True)
            for g in grads]
    for a, b, g in zip(fk_p, th_p, grads):
        a.grad, b.grad = fk.tensor(g.astype(dtype)), torch.tensor(g.astype(dtype))
    return fk_p, th_p


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 0.0, 3.5, -math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e4])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, dtype):
    fk_p, th_p = _clip_pair(dtype)
    fk_p[1].grad = th_p[1].grad = None  # parameters without a gradient are skipped
    total_fk = clip_grad_norm_(fk_p, max_norm, norm_type)
    total_th = torch.nn.utils.clip_grad_norm_(th_p, max_norm, norm_type)
    tol = TOL[dtype] if dtype == np.float32 else dict(rtol=1e-12, atol=0)
    assert total_fk.dtype == np.dtype(dtype) and total_fk.shape == ()
    np.testing.assert_allclose(total_fk.item(), total_th.item(), **tol)
    for a, b in zip(fk_p, th_p):
        assert (a.grad is None) == (b.grad is None)
        if a.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **tol)


def test_clip_grad_norm_result_has_the_requested_norm():
    fk_p, _ = _clip_pair(np.float64)
    total = clip_grad_norm_(fk_p, 1.0).item()
    after = math.sqrt(sum((p.grad.numpy() ** 2).sum() for p in fk_p))
    assert total > 1.0 and after == pytest.approx(1.0 / (1 + 1e-6 / total), rel=1e-12)


def test_clip_grad_norm_nonfinite_and_empty():
    p = fk.tensor([1.0, 2.0], requires_grad=True)
    p.grad = fk.tensor([math.inf, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert p.grad.tolist() == [math.inf, 1.0]
    assert clip_grad_norm_([], 1.0).item() == 0.0
    q = fk.tensor([3.0, 4.0], requires_grad=True)
    q.grad = fk.tensor([3.0, 4.0])
    assert clip_grad_norm_(q, 10.0).item() == 5.0  # a single tensor works too


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clip_grad_value_matches_torch(dtype):
    fk_p, th_p = _clip_pair(dtype, seed=1)
    assert clip_grad_value_(fk_p, 1.5) is None
    torch.nn.utils.clip_grad_value_(th_p, 1.5)
    for a, b in zip(fk_p, th_p):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
        assert np.abs(a.grad.numpy()).max() <= 1.5


def test_clip_then_step_is_the_usual_training_step():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning on the normal path
        fk_p, th_p = _clip_pair(np.float64, seed=2)
        fk_opt, th_opt = optim.SGD(fk_p, lr=0.1, momentum=0.9), torch.optim.SGD(th_p, lr=0.1, momentum=0.9)
        clip_grad_norm_(fk_p, 1.0)
        torch.nn.utils.clip_grad_norm_(th_p, 1.0)
        fk_opt.step()
        th_opt.step()
    assert_same(fk_p, th_p, np.float64)
