"""fukaku.optim.LBFGS against torch.optim.LBFGS: trajectories of step(closure) with and without the
strong-Wolfe line search, on a Rosenbrock chain and a least-squares problem, float32 and float64;
state dicts both ways; closures using fukaku's own autograd; errors.

The closures compute loss and gradient in NumPy from each library's *own* current parameters (the
same code for both), so the comparison does not depend on either autograd, and any difference in
an iteration (direction, step length, line-search decision) compounds over the steps.
"""
import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku import optim
from fukaku.optim.lbfgs import _cubic_interpolate, _strong_wolfe

SHAPES = [(4,), (2, 2)]
TOL = {np.float64: dict(rtol=0, atol=1e-8), np.float32: dict(rtol=0, atol=1e-5)}


def rosenbrock(z):
    """Σ 100·(z_{i+1} − z_i²)² + (1 − z_i)² over the flattened parameters, and its gradient."""
    a, b = z[:-1], z[1:]
    loss = (100 * (b - a * a) ** 2 + (1 - a) ** 2).sum()
    grad = np.zeros_like(z)
    grad[:-1] = -400 * a * (b - a * a) - 2 * (1 - a)
    grad[1:] += 200 * (b - a * a)
    return loss, grad


class LeastSquares:
    """½·mean((X·w − y)²) with w the flattened parameters (an over-determined, well-posed system)."""

    def __init__(self, n=8):
        rng = np.random.default_rng(7)
        self.X = rng.normal(size=(30, n))
        self.y = self.X @ rng.normal(size=n) + 0.1 * rng.normal(size=30)

    def __call__(self, z):
        X, y = self.X.astype(z.dtype), self.y.astype(z.dtype)
        r = X @ z - y
        return 0.5 * (r * r).mean(), X.T @ r / len(y)


PROBLEMS = {"rosenbrock": rosenbrock, "least-squares": LeastSquares()}
START = {"rosenbrock": [np.array([-1.2, 1.0, -0.5, 0.3]), np.array([[0.8, 1.1], [-0.3, 0.5]])],
         "least-squares": [np.array([0.5, -1.0, 2.0, 0.0]), np.array([[1.0, -0.5], [0.3, 0.2]])]}

CASES = [
    ("rosenbrock", dict(lr=0.1)),
    ("rosenbrock", dict(lr=0.2, history_size=3, max_iter=6)),
    ("rosenbrock", dict(line_search_fn="strong_wolfe")),
    ("rosenbrock", dict(line_search_fn="strong_wolfe", history_size=2, max_iter=7, max_eval=9)),
    ("rosenbrock", dict(line_search_fn="strong_wolfe", lr=0.5, tolerance_change=1e-5)),
    ("least-squares", dict()),
    ("least-squares", dict(max_iter=1, lr=0.5)),  # one iteration a step: plain gradient descent first
    ("least-squares", dict(max_iter=4, history_size=2)),
    ("least-squares", dict(line_search_fn="strong_wolfe")),
    ("least-squares", dict(line_search_fn="strong_wolfe", max_iter=3, tolerance_grad=1e-3)),
]


def _ids(case):
    problem, kw = case
    return problem + "(" + ",".join(f"{k}={v}" for k, v in kw.items()) + ")"


def make(lib, problem, kw, dtype, start=None):
    """Parameters, optimizer and closure of one library; the closure counts its calls."""
    init = start if start is not None else START[problem]
    f = PROBLEMS[problem]
    if lib == "fk":
        params = [fk.tensor(x.astype(dtype), requires_grad=True) for x in init]
        opt = optim.LBFGS(params, **kw)
        arr, to_lib = (lambda p: p.data.numpy()), fk.tensor
    else:
        params = [torch.tensor(x.astype(dtype), requires_grad=True) for x in init]
        opt = torch.optim.LBFGS(params, **kw)
        arr, to_lib = (lambda p: p.detach().numpy()), torch.tensor
    calls = []

    def closure():
        opt.zero_grad()
        z = np.concatenate([arr(p).reshape(-1) for p in params])
        loss, grad = f(z)
        offset = 0
        for p in params:
            n = arr(p).size
            p.grad = to_lib(grad[offset:offset + n].reshape(arr(p).shape).astype(dtype))
            offset += n
        calls.append(1)
        return to_lib(np.asarray(loss, dtype=dtype))

    return params, opt, closure, calls


def values(params):
    return [p.data.numpy() if isinstance(p, fk.Tensor) else p.detach().numpy() for p in params]


def run(problem, kw, dtype, steps, fk_side=None, th_side=None):
    fk_side = fk_side or make("fk", problem, kw, dtype)
    th_side = th_side or make("th", problem, kw, dtype)
    losses, calls = [], (len(fk_side[3]), len(th_side[3]))
    for _ in range(steps):
        loss_fk, loss_th = fk_side[1].step(fk_side[2]), th_side[1].step(th_side[2])
        assert isinstance(loss_fk, fk.Tensor)
        losses.append((loss_fk.item(), loss_th.item()))
        for a, b in zip(values(fk_side[0]), values(th_side[0])):
            assert a.dtype == np.dtype(dtype)
            np.testing.assert_allclose(a, b, **TOL[dtype])
        assert fk_side[1].state_dict()["state"][0].keys() == th_side[1].state_dict()["state"][0].keys()
    assert len(fk_side[3]) - calls[0] == len(th_side[3]) - calls[1]  # the same number of closure evaluations
    return losses, fk_side, th_side


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_trajectory_matches_torch(case, dtype):
    problem, kw = case
    # In float32 the two libraries round dot products and sums differently in the last bit (torch
    # calls MKL, NumPy OpenBLAS); along Rosenbrock's curved valley such differences grow ~10⁴-fold
    # over a hundred iterations, so float32 follows one step (up to 20 iterations) there.
    steps = 1 if dtype == np.float32 and problem == "rosenbrock" else 10
    losses, (_, fk_opt, _, _), (_, th_opt, _, _) = run(problem, kw, dtype, steps)
    tol = 1e-8 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(*zip(*losses), rtol=tol, atol=tol)
    final = PROBLEMS[problem](np.concatenate([v.reshape(-1) for v in values(fk_opt.param_groups[0]["params"])]))[0]
    assert final < 0.5 * losses[0][0]  # not vacuous: it did optimize
    fk_state, th_state = fk_opt.state_dict()["state"][0], th_opt.state_dict()["state"][0]
    assert fk_state.keys() == th_state.keys()
    assert fk_state["func_evals"] == th_state["func_evals"] and fk_state["n_iter"] == th_state["n_iter"]
    assert len(fk_state["old_dirs"]) == len(th_state["old_dirs"]) <= kw.get("history_size", 100)


def test_strong_wolfe_reaches_the_minimum_of_rosenbrock():
    # From the classic start (−1.2, 1) in every pair; START[0] = −1.2 alone ends in the chain's other,
    # local minimum near z₀ = −1 (the trajectory tests follow torch there).
    start = [np.array([-1.2, 1.0, -1.2, 1.0]), np.array([[-1.2, 1.0], [-1.2, 1.0]])]
    params, opt, closure, calls = make("fk", "rosenbrock", dict(line_search_fn="strong_wolfe"), np.float64, start)
    for _ in range(10):
        opt.step(closure)
    np.testing.assert_allclose(np.concatenate([p.data.numpy().reshape(-1) for p in params]), 1.0, atol=1e-5)
    assert len(calls) < 200


def test_least_squares_solution_equals_lstsq():
    ls = PROBLEMS["least-squares"]
    kw = dict(line_search_fn="strong_wolfe", tolerance_grad=1e-13, tolerance_change=1e-15)
    params, opt, closure, _ = make("fk", "least-squares", kw, np.float64)
    opt.step(closure)
    z = np.concatenate([p.data.numpy().reshape(-1) for p in params])
    np.testing.assert_allclose(z, np.linalg.lstsq(ls.X, ls.y, rcond=None)[0], atol=1e-10)


def test_cubic_interpolate_finds_the_minimum_of_a_cubic():
    # f(x) = (x − 1)³ − 3(x − 1) + 2 has its local minimum at x = 2; from values and slopes at 0 and 3
    f = lambda x: (x - 1) ** 3 - 3 * (x - 1) + 2  # noqa: E731
    df = lambda x: 3 * (x - 1) ** 2 - 3  # noqa: E731
    assert _cubic_interpolate(0.0, f(0.0), np.float64(df(0.0)), 3.0, f(3.0), np.float64(df(3.0))) == pytest.approx(2.0)
    assert _cubic_interpolate(3.0, f(3.0), np.float64(df(3.0)), 0.0, f(0.0), np.float64(df(0.0))) == pytest.approx(2.0)
    # clamped to the bounds; the midpoint of the bounds where the cubic has no minimum
    assert _cubic_interpolate(0.0, f(0.0), np.float64(df(0.0)), 3.0, f(3.0), np.float64(df(3.0)),
                              bounds=(0.0, 1.5)) == 1.5
    assert _cubic_interpolate(0.0, 0.0, np.float64(2.0), 1.0, 1.0, np.float64(2.0), bounds=(0.0, 4.0)) == 2.0


def test_cubic_interpolate_equals_torchs():
    from torch.optim.lbfgs import _cubic_interpolate as torch_cubic

    rng = np.random.default_rng(0)
    for x1, f1, g1, x2, f2, g2 in rng.normal(size=(200, 6)):
        bounds = (min(x1, x2) - 0.5, max(x1, x2) + 0.5) if rng.random() < 0.5 else None
        mine = _cubic_interpolate(x1, f1, np.float64(g1), x2, f2, np.float64(g2), bounds)
        theirs = torch_cubic(x1, f1, torch.tensor(g1), x2, f2, torch.tensor(g2), bounds)
        assert float(mine) == pytest.approx(float(theirs), rel=1e-12, abs=1e-15)  # torch's sqrt: ≤ 1 ulp off


def wiggly(z):
    """A non-convex sum of sines and cubes: cubic interpolation fits it poorly, so the line search
    brackets, zooms and guards against trial points at the bracket's ends."""
    return (np.sin(3 * z) + 0.1 * z * z + 0.5 * np.abs(z) ** 3).sum(), 3 * np.cos(3 * z) + 0.2 * z + 1.5 * z * np.abs(z)


def log_cosh(z):
    """Σ log cosh(8z) + z²/1000, written without overflow: nearly |8z| away from 0, so the cubic
    interpolation lands near the ends of the bracket and the zoom's guards move it inward."""
    a = np.abs(8 * z)
    return (a + np.log1p(np.exp(-2 * a)) - np.log(2)).sum() + 0.001 * (z * z).sum(), 8 * np.tanh(8 * z) + 0.002 * z


def double_well(z):
    """Σ z⁴ − z² + eᶻ/10: two wells per coordinate, so steps overshoot and get extrapolated."""
    return (z ** 4 - z ** 2 + 0.1 * np.exp(z)).sum(), 4 * z ** 3 - 2 * z + 0.1 * np.exp(z)


def line_searches(n=240, seed=5):
    """Line-search problems: (f, x, t0, d, max_ls) with d a descent direction at x."""
    rng = np.random.default_rng(seed)
    functions = (wiggly, rosenbrock, log_cosh, double_well)
    for trial in range(n):
        f = functions[trial % len(functions)]
        x = rng.uniform(-2, 2, 6)
        g0 = f(x)[1]
        d = -g0 if rng.random() < 0.5 else rng.normal(size=6) - g0  # steepest descent or a perturbed one
        if g0.dot(d) >= 0:
            d = -g0
        yield f, x, float(rng.choice([1e-3, 0.1, 1.0, 10.0])), d, int(rng.choice([3, 25]))


def test_strong_wolfe_line_search_equals_torchs():
    from torch.optim.lbfgs import _strong_wolfe as torch_strong_wolfe

    outcomes = set()
    for f, x, t0, d, max_ls in line_searches():
        f0, g0 = f(x)
        mine = _strong_wolfe(lambda x, t, d: f(x + t * d), x, t0, d, f0, g0, g0.dot(d), max_ls=max_ls)
        theirs = torch_strong_wolfe(lambda x, t, d: tuple(torch.as_tensor(v) for v in f(x + float(t) * d.numpy())),
                                    x, t0, torch.tensor(d), f0, torch.tensor(g0), torch.tensor(g0.dot(d)),
                                    max_ls=max_ls)
        assert mine[3] == theirs[3]  # the same number of evaluations
        assert float(mine[2]) == pytest.approx(float(theirs[2]), rel=1e-9)  # the same step
        assert float(mine[0]) == pytest.approx(float(theirs[0]), rel=1e-9, abs=1e-12)
        np.testing.assert_allclose(mine[1], theirs[1].numpy(), rtol=1e-9, atol=1e-12)
        outcomes.add((mine[3], float(mine[2]) == t0))
    assert len(outcomes) > 8  # from accepting t0 at once to long zooms


def _to_torch(value):
    if isinstance(value, fk.Tensor):
        return torch.tensor(value.numpy())
    if isinstance(value, list):
        return [_to_torch(v) for v in value]
    return value


@pytest.mark.parametrize("direction", ["fukaku->torch", "torch->fukaku"])
@pytest.mark.parametrize("case", [CASES[1], CASES[3], ("least-squares", dict(line_search_fn="strong_wolfe"))],
                         ids=_ids)
def test_state_dict_round_trip_mid_trajectory(case, direction):
    problem, kw = case
    _, fk_side, th_side = run(problem, kw, np.float64, steps=2)
    fk_sd, th_sd = fk_side[1].state_dict(), th_side[1].state_dict()
    assert fk_sd["param_groups"] == th_sd["param_groups"]
    for k, v in th_sd["state"][0].items():  # the same history, under the same names
        mine = fk_sd["state"][0][k]
        if isinstance(v, list):
            assert len(mine) == len(v)
            for a, b in zip(mine, v):
                assert (a is None) == (b is None)
                if b is not None:
                    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-7, atol=1e-9)
        elif isinstance(v, torch.Tensor):
            np.testing.assert_allclose(mine.numpy(), v.numpy(), rtol=1e-7, atol=1e-9)
        else:
            assert mine == pytest.approx(v, rel=1e-7, abs=1e-9)
    # A fresh optimizer of the other library, on copies of the current weights, resumes.
    if direction == "fukaku->torch":
        resumed = make("th", problem, kw, np.float64, start=values(fk_side[0]))
        resumed[1].load_state_dict({"state": {0: {k: _to_torch(v) for k, v in fk_sd["state"][0].items()}},
                                    "param_groups": fk_sd["param_groups"]})
        run(problem, kw, np.float64, 3, fk_side=fk_side, th_side=resumed)
    else:
        resumed = make("fk", problem, kw, np.float64, start=values(th_side[0]))
        resumed[1].load_state_dict(th_sd)
        state = resumed[1].state[resumed[0][0]]
        assert isinstance(state["d"], fk.Tensor) and all(isinstance(y, fk.Tensor) for y in state["old_dirs"])
        assert not np.shares_memory(state["d"].numpy(), th_sd["state"][0]["d"].numpy())  # copied, not aliased
        run(problem, kw, np.float64, 3, fk_side=resumed, th_side=th_side)


def test_state_survives_a_checkpoint_file(tmp_path):
    # the history (lists of tensors, None entries, Python numbers) goes through fk.save / fk.load
    kw = dict(line_search_fn="strong_wolfe", history_size=3)
    straight, resumed = make("fk", "rosenbrock", kw, np.float64), make("fk", "rosenbrock", kw, np.float64)
    for side in (straight, resumed):
        side[1].step(side[2])
    fk.save({"optimizer": resumed[1].state_dict()}, tmp_path / "ckpt.safetensors")
    fresh = make("fk", "rosenbrock", kw, np.float64, start=values(resumed[0]))
    fresh[1].load_state_dict(fk.load(tmp_path / "ckpt.safetensors")["optimizer"])
    for _ in range(2):
        straight[1].step(straight[2])
        fresh[1].step(fresh[2])
    for a, b in zip(values(straight[0]), values(fresh[0])):
        np.testing.assert_array_equal(a, b)


def test_closure_with_fukaku_autograd_matches_torch():
    # End to end: a tanh regression fitted with each library's own backward and the line search.
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(20, 3)), rng.normal(size=(20, 1))
    init = [rng.normal(size=(3, 4)) * 0.5, np.zeros(4), rng.normal(size=(4, 1)) * 0.5]
    results = []
    for lib, T, mod in (("fk", fk.tensor, optim), ("th", torch.tensor, torch.optim)):
        params = [T(w, requires_grad=True) for w in init]
        opt = mod.LBFGS(params, line_search_fn="strong_wolfe", max_iter=10)
        x, y = T(X), T(Y)

        def closure():
            opt.zero_grad()
            w1, b1, w2 = params
            loss = (((x @ w1 + b1).tanh() @ w2 - y) ** 2).mean()
            loss.backward()
            return loss

        with (fk.no_grad() if lib == "fk" else torch.no_grad()):  # step turns grad mode on for the closure
            losses = [opt.step(closure).item() for _ in range(4)]
        results.append((losses, values(params)))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-8)
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-8)
    assert results[0][0][-1] < results[0][0][0]


def test_a_parameter_without_gradient_counts_as_zero_and_stays():
    a = fk.tensor([3.0, -1.0], requires_grad=True)
    frozen = fk.tensor([5.0], requires_grad=True)
    opt = optim.LBFGS([a, frozen], line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = ((a - 1.0) ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    np.testing.assert_allclose(a.data.numpy(), [1.0, 1.0], atol=1e-6)
    assert frozen.tolist() == [5.0] and frozen.grad is None


def test_an_optimal_start_returns_at_once():
    params, opt, closure, calls = make("fk", "least-squares", dict(tolerance_grad=1e9), np.float64)
    before = values(params)
    loss = opt.step(closure)
    assert len(calls) == 1 and opt.state[params[0]] == {"func_evals": 1, "n_iter": 0}
    assert loss.item() == pytest.approx(PROBLEMS["least-squares"](np.concatenate([b.reshape(-1) for b in before]))[0])
    for a, b in zip(values(params), before):
        np.testing.assert_array_equal(a, b)


def test_defaults_and_param_group_layout_match_torch():
    p, q = fk.tensor([1.0], requires_grad=True), torch.tensor([1.0], requires_grad=True)
    mine, theirs = optim.LBFGS([p], max_iter=8), torch.optim.LBFGS([q], max_iter=8)
    assert mine.state_dict()["param_groups"] == theirs.state_dict()["param_groups"]  # max_eval = 8·5//4 = 10


@pytest.mark.parametrize("make_opt, error, match", [
    (lambda p: optim.LBFGS([p], lr=-1), ValueError, "invalid lr"),
    (lambda p: optim.LBFGS([p], line_search_fn="armijo"), ValueError, "strong_wolfe"),
    (lambda p: optim.LBFGS([p], history_size=0), ValueError, "history_size"),
    (lambda p: optim.LBFGS([{"params": [p]}, {"params": [fk.tensor([1.0], requires_grad=True)]}]), ValueError,
     "per-parameter options"),
])
def test_invalid_arguments(make_opt, error, match):
    with pytest.raises(error, match=match):
        make_opt(fk.tensor([1.0, 2.0], requires_grad=True))


def test_bad_state_dicts_are_refused_and_change_nothing():
    params, opt, closure, _ = make("fk", "least-squares", dict(history_size=3), np.float64)
    opt.step(closure)
    good = opt.state_dict()
    before = {k: (v.numpy().copy() if isinstance(v, fk.Tensor) else v) for k, v in good["state"][0].items()
              if not isinstance(v, list)}
    with pytest.raises(KeyError, match="'param_groups'"):
        opt.load_state_dict({"state": good["state"]})
    with pytest.raises(KeyError, match="parameter 7"):
        opt.load_state_dict({"state": {7: good["state"][0]}, "param_groups": good["param_groups"]})
    with pytest.raises(TypeError, match="'d'"):
        opt.load_state_dict({"state": {0: {**good["state"][0], "d": np.array(["a", "b"])}},
                             "param_groups": good["param_groups"]})
    state = opt.state[params[0]]
    for k, v in before.items():
        np.testing.assert_array_equal(state[k].numpy() if isinstance(state[k], fk.Tensor) else state[k], v)


def test_step_needs_a_closure_and_a_single_group():
    p = fk.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.LBFGS([p])
    with pytest.raises(TypeError, match="closure"):
        opt.step()
    with pytest.raises(ValueError, match="per-parameter options"):
        opt.add_param_group({"params": [fk.tensor([1.0], requires_grad=True)]})
    assert len(opt.param_groups) == 1
