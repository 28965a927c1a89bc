"""Random numbers (fukaku/_generator.py, random.py, the sampling functions of tensor.py): Generator
determinism and independence, states and fork_rng as in torch, generator= on every sampling
function, and the new samplers — multinomial and bernoulli checked statistically (chi-square with
fixed seeds and generous thresholds), logspace, randint_like, normal, dropout — plus inference_mode."""
from __future__ import annotations

import copy
import itertools
import math
import pickle

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku import nn


def chi_square_fits(counts, expected) -> bool:
    """Pearson's statistic over the cells with a nonzero expectation, against a generous bound
    (df + 6·sqrt(2·df): beyond four standard deviations of the chi-square distribution)."""
    counts, expected = np.asarray(counts, float).ravel(), np.asarray(expected, float).ravel()
    keep = expected > 0
    assert counts[~keep].sum() == 0, "a cell of probability zero was drawn"
    stat = (((counts - expected) ** 2)[keep] / expected[keep]).sum()
    df = keep.sum() - 1
    return stat <= df + 6 * math.sqrt(2 * df)


# ----------------------------------------------------------------------------- generators and seeds
def test_manual_seed_returns_the_default_generator_as_torch():
    g = fk.manual_seed(3)
    assert g is fk.default_generator and isinstance(g, fk.Generator)
    assert torch.manual_seed(3) is torch.default_generator
    assert g.initial_seed() == fk.initial_seed() == fk.random.initial_seed() == 3


def test_new_generators_start_from_torchs_default_seed():
    assert fk.Generator().initial_seed() == torch.Generator().initial_seed()
    assert fk.Generator().device == fk.device("cpu") and str(torch.Generator().device) == "cpu"


@pytest.mark.parametrize("seed", [-1, 0, 2 ** 64 - 1, -2 ** 63, 1.0, True])
def test_seed_values_are_taken_as_torch_takes_them(seed):
    assert fk.manual_seed(seed).initial_seed() == torch.manual_seed(seed).initial_seed()
    if isinstance(seed, int) and not isinstance(seed, bool):
        assert fk.Generator().manual_seed(seed).initial_seed() == torch.Generator().manual_seed(seed).initial_seed()
    else:  # a Generator's own manual_seed wants an int
        with pytest.raises(RuntimeError):
            torch.Generator().manual_seed(seed)
        with pytest.raises(RuntimeError, match="expected a long"):
            fk.Generator().manual_seed(seed)


@pytest.mark.parametrize("seed", [2 ** 64, -2 ** 63 - 1])
def test_out_of_range_seeds_raise_as_torch(seed):
    with pytest.raises(ValueError):
        torch.manual_seed(seed)
    with pytest.raises(ValueError, match="out of range"):
        fk.manual_seed(seed)


def test_seed_draws_a_fresh_seed_and_reports_it():
    s = fk.seed()
    assert isinstance(s, int) and 0 <= s < 2 ** 64 and fk.initial_seed() == s
    a = fk.rand(4)
    fk.manual_seed(s)
    np.testing.assert_array_equal(fk.rand(4).numpy(), a.numpy())


def test_the_stream_is_numpys_pcg64_for_the_seed():
    """fukaku keeps its NumPy stream: rand after manual_seed(s) is default_rng(s).random."""
    fk.manual_seed(123)
    np.testing.assert_array_equal(fk.rand(5, dtype=fk.float64).numpy(), np.random.default_rng(123).random(5))


def test_same_seed_same_stream_and_generators_are_independent():
    g1, g2 = fk.Generator().manual_seed(7), fk.Generator().manual_seed(7)
    fk.manual_seed(0)
    before = fk.get_rng_state()
    a = [fk.rand(3, generator=g1), fk.randn(3, generator=g1), fk.randint(0, 9, (3,), generator=g1)]
    b = [fk.rand(3, generator=g2), fk.randn(3, generator=g2), fk.randint(0, 9, (3,), generator=g2)]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    np.testing.assert_array_equal(fk.get_rng_state().numpy(), before.numpy())  # the default stream did not move
    assert not np.array_equal(fk.rand(3, generator=fk.Generator().manual_seed(8)).numpy(), a[0].numpy())


SAMPLERS = {
    "rand": lambda g: fk.rand(4, generator=g), "randn": lambda g: fk.randn(2, 2, generator=g),
    "randint": lambda g: fk.randint(0, 100, (4,), generator=g), "randperm": lambda g: fk.randperm(10, generator=g),
    "normal": lambda g: fk.normal(1.0, 2.0, (4,), generator=g),
    "normal(tensor)": lambda g: fk.normal(fk.zeros(4), fk.ones(4), generator=g),
    "rand_like": lambda g: fk.rand_like(fk.ones(4), generator=g),
    "randn_like": lambda g: fk.randn_like(fk.ones(4), generator=g),
    "randint_like": lambda g: fk.randint_like(fk.ones(4), 100, generator=g),
    "multinomial": lambda g: fk.multinomial(fk.ones(10), 4, generator=g),
    "multinomial(replacement)": lambda g: fk.multinomial(fk.ones(10), 4, True, generator=g),
    "bernoulli": lambda g: fk.bernoulli(fk.full((8,), 0.5), generator=g),
}


@pytest.mark.parametrize("name", SAMPLERS)
def test_every_sampler_takes_a_generator(name):
    fk.manual_seed(0)
    default_state = fk.get_rng_state()
    first = SAMPLERS[name](fk.Generator().manual_seed(11))
    again = SAMPLERS[name](fk.Generator().manual_seed(11))
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    np.testing.assert_array_equal(fk.get_rng_state().numpy(), default_state.numpy())
    fk.manual_seed(11)  # with no generator: the default one, which gives the same stream for the same seed
    np.testing.assert_array_equal(SAMPLERS[name](None).numpy(), first.numpy())
    with pytest.raises(TypeError, match="generator must be a fukaku.Generator"):
        SAMPLERS[name](3)


def test_a_generator_is_a_numpy_generator_for_code_that_wants_one():
    w1, w2 = fk.empty(3, 4), fk.empty(3, 4)
    nn.init.uniform_(w1, generator=fk.Generator().manual_seed(5))
    nn.init.uniform_(w2, generator=fk.Generator().manual_seed(5))
    np.testing.assert_array_equal(w1.numpy(), w2.numpy())
    assert isinstance(fk.Generator(), np.random.Generator)


# ----------------------------------------------------------------------------- states
def test_get_and_set_state_restore_the_stream():
    g = fk.Generator().manual_seed(42)
    state = g.get_state()
    assert state.dtype is fk.uint8 and state.ndim == 1  # a ByteTensor, as torch's
    a = fk.randn(5, generator=g)
    g.manual_seed(1)
    assert g.set_state(state) is g and g.initial_seed() == 42
    np.testing.assert_array_equal(fk.randn(5, generator=g).numpy(), a.numpy())
    fk.manual_seed(3)
    saved = fk.get_rng_state()
    b = fk.rand(4)
    fk.set_rng_state(saved)
    np.testing.assert_array_equal(fk.rand(4).numpy(), b.numpy())


def test_bad_states_raise_torchs_error_types():
    g, tg = fk.Generator(), torch.Generator()
    for ours, theirs in [(fk.zeros(3, dtype=fk.uint8), torch.zeros(3, dtype=torch.uint8)), ([1], [1]),
                         (fk.zeros(45), torch.zeros(5056))]:
        with pytest.raises(Exception) as want:
            tg.set_state(theirs)
        with pytest.raises(want.type):
            g.set_state(ours)


def test_a_numpy_state_dict_from_fukaku_0_1_is_still_accepted():
    g = fk.Generator()
    g.set_state(np.random.default_rng(9).bit_generator.state)
    np.testing.assert_array_equal(g.random(3), np.random.default_rng(9).random(3))


def test_generators_copy_and_pickle_with_their_stream():
    g = fk.Generator().manual_seed(5)
    for twin in (copy.deepcopy(g), pickle.loads(pickle.dumps(g))):
        assert isinstance(twin, fk.Generator) and twin.initial_seed() == 5
        np.testing.assert_array_equal(fk.rand(3, generator=twin).numpy(), fk.rand(3, generator=copy.deepcopy(g)).numpy())


def test_fork_rng_restores_the_state_as_torch():
    for lib in (fk, torch):
        lib.manual_seed(0)
        with lib.random.fork_rng():
            inside = lib.rand(3)
        after = lib.rand(3)
        np.testing.assert_array_equal(inside.numpy(), after.numpy())  # the fork's draws did not advance it
        with lib.random.fork_rng(enabled=False):
            lib.rand(3)
        assert not np.array_equal(lib.rand(3).numpy(), after.numpy())
    with pytest.raises(fk.DeviceError):
        with fk.random.fork_rng(devices=["cuda:0"]):
            pass


def test_random_module_has_torchs_names():
    for name in ("manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "fork_rng"):
        assert callable(getattr(fk.random, name)) and hasattr(torch.random, name)
    assert fk.random.manual_seed is fk.manual_seed and fk.random.get_rng_state is fk.get_rng_state


# ----------------------------------------------------------------------------- samplers: shapes, dtypes, errors
@pytest.mark.parametrize("make", [
    lambda L: L.randint(10, (3,)), lambda L: L.randint(2, 10, (2, 3), dtype=L.float32), lambda L: L.randperm(5),
    lambda L: L.randperm(3, dtype=L.float32), lambda L: L.randint_like(L.zeros(2), 5),
    lambda L: L.randint_like(L.zeros(2, dtype=L.int32), 3, 5), lambda L: L.normal(L.zeros(2, 1), L.ones(3)),
    lambda L: L.normal(0.0, L.ones(3)), lambda L: L.normal(L.zeros(3, dtype=L.float64), 2.0),
    lambda L: L.multinomial(L.ones(5), 2), lambda L: L.multinomial(L.ones(3, 4), 6, True),
    lambda L: L.multinomial(L.ones(0, 3), 1), lambda L: L.bernoulli(L.zeros(2, dtype=L.float64)),
    lambda L: L.bernoulli(L.zeros(2), 0.5), lambda L: L.rand(2, dtype=L.float64), lambda L: L.randn(0, 3),
], ids=lambda make: "")
def test_shapes_and_dtypes_match_torch(make):
    ours, ref = make(fk), make(torch)
    assert tuple(ours.shape) == tuple(ref.shape)
    assert str(ours.dtype).removeprefix("fukaku.") == str(ref.dtype).removeprefix("torch.")


@pytest.mark.parametrize("call", [
    lambda L: L.rand(2, dtype=L.int64), lambda L: L.randn(2, dtype=L.int64), lambda L: L.randint(5, 5, (2,)),
    lambda L: L.normal(0.0, -1.0, (2,)), lambda L: L.multinomial(L.tensor([0.2, 0.8]), 3),
    lambda L: L.multinomial(L.tensor([-1.0, 2.0]), 1), lambda L: L.multinomial(L.zeros(2), 1),
    lambda L: L.multinomial(L.ones(2, 2, 2), 1), lambda L: L.multinomial(L.ones(2), 0),
    lambda L: L.multinomial(L.tensor([1, 2]), 1), lambda L: L.multinomial(L.tensor([float("nan"), 1.0]), 1),
    lambda L: L.multinomial(L.tensor([float("inf"), 1.0]), 1), lambda L: L.bernoulli(L.tensor([1.5])),
    lambda L: L.bernoulli(L.zeros(2), 1.5), lambda L: L.bernoulli(L.zeros(2, dtype=L.int64)),
], ids=lambda call: "")
def test_errors_have_torchs_types(call):
    with pytest.raises(Exception) as want:
        call(torch)
    with pytest.raises(want.type):
        call(fk)


def test_randint_and_randint_like_stay_in_range():
    g = fk.Generator().manual_seed(0)
    r = fk.randint(-3, 4, (10_000,), generator=g).numpy()
    assert r.min() == -3 and r.max() == 3
    s = fk.randint_like(fk.zeros(10_000, dtype=fk.int32), 2, 5, generator=g)
    assert s.dtype is fk.int32 and set(np.unique(s.numpy())) == {2, 3, 4}
    assert sorted(fk.randperm(50, generator=g).tolist()) == list(range(50))


def test_logspace_matches_torch():
    for args, kwargs in [((0, 2, 3), {}), ((-1, 1, 5), {"base": 2}), ((0, 2, 3), {"dtype": "int64"}),
                         ((1, 3, 4), {"dtype": "float64", "base": 3.0})]:
        ours = fk.logspace(*args, **{k: (getattr(fk, v) if k == "dtype" else v) for k, v in kwargs.items()})
        ref = torch.logspace(*args, **{k: (getattr(torch, v) if k == "dtype" else v) for k, v in kwargs.items()})
        assert str(ours.dtype).removeprefix("fukaku.") == str(ref.dtype).removeprefix("torch.")
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6)


def test_normal_overloads_have_the_right_moments():
    g = fk.Generator().manual_seed(0)
    means, stds = fk.tensor([-5.0, 0.0, 5.0]), fk.tensor([0.5, 1.0, 2.0])
    x = fk.normal(means.expand(20_000, 3), stds.expand(20_000, 3), generator=g).numpy()
    np.testing.assert_allclose(x.mean(axis=0), [-5, 0, 5], atol=0.05)
    np.testing.assert_allclose(x.std(axis=0), [0.5, 1.0, 2.0], rtol=0.03)
    assert fk.normal(fk.zeros(3, requires_grad=True), 1.0).requires_grad is False


# ----------------------------------------------------------------------------- multinomial, statistically
PROBS = np.array([0.1, 0.0, 0.25, 0.05, 0.6])


def test_multinomial_with_replacement_follows_the_weights():
    g = fk.Generator().manual_seed(1)
    draws = fk.multinomial(fk.tensor(PROBS * 7.0), 20_000, replacement=True, generator=g).numpy()  # unnormalised
    assert draws.dtype == np.int64 and draws.shape == (20_000,)
    assert chi_square_fits(np.bincount(draws, minlength=5), 20_000 * PROBS)


def test_multinomial_rows_are_separate_distributions():
    rows = np.array([PROBS, PROBS[::-1], [0.0, 0.0, 1.0, 0.0, 0.0], np.full(5, 0.2)])
    draws = fk.multinomial(fk.tensor(rows, dtype=fk.float64), 10_000, True, generator=fk.Generator().manual_seed(2))
    assert draws.shape == (4, 10_000)
    for row, got in zip(rows, draws.numpy()):
        assert chi_square_fits(np.bincount(got, minlength=5), 10_000 * row / row.sum())


def test_multinomial_without_replacement_draws_in_sequence():
    """The first two draws follow P(i, j) = p_i · p_j / (1 − p_i), as drawing one after another."""
    p = np.array([0.5, 0.3, 0.15, 0.05])
    draws = fk.multinomial(fk.tensor(p).expand(30_000, 4), 2, generator=fk.Generator().manual_seed(3)).numpy()
    assert (draws[:, 0] != draws[:, 1]).all()
    counts = np.zeros((4, 4))
    np.add.at(counts, (draws[:, 0], draws[:, 1]), 1)
    expected = np.array([[p[i] * p[j] / (1 - p[i]) if i != j else 0.0 for j in range(4)] for i in range(4)])
    assert chi_square_fits(counts, 30_000 * expected)


def test_multinomial_without_replacement_uses_zero_weights_last_as_torch():
    p = [0.0, 1.0, 0.0, 3.0]
    for _ in range(20):
        got = fk.multinomial(fk.tensor(p), 4).tolist()
        assert sorted(got) == [0, 1, 2, 3] and set(got[:2]) == {1, 3}
    assert fk.multinomial(fk.tensor([0.0, 1.0, 0.0]), 2).tolist()[0] == torch.multinomial(
        torch.tensor([0.0, 1.0, 0.0]), 2).tolist()[0] == 1
    assert fk.multinomial(fk.tensor([0.0, 1.0, 0.0]), 50, replacement=True).tolist() == [1] * 50


def test_tensor_methods_for_multinomial_and_bernoulli():
    fk.manual_seed(4)
    a = fk.ones(3).multinomial(2)
    fk.manual_seed(4)
    np.testing.assert_array_equal(a.numpy(), fk.multinomial(fk.ones(3), 2).numpy())
    assert fk.zeros(3).bernoulli().tolist() == [0.0, 0.0, 0.0]


# ----------------------------------------------------------------------------- bernoulli, statistically
def test_bernoulli_follows_each_elements_probability():
    p = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    g = fk.Generator().manual_seed(5)
    x = fk.bernoulli(fk.tensor(p, dtype=fk.float64).expand(20_000, 5), generator=g)
    assert x.dtype is fk.float64 and set(np.unique(x.numpy())) <= {0.0, 1.0}
    ones = x.numpy().sum(axis=0)
    assert ones[0] == 0 and ones[-1] == 20_000
    for k, q in zip(ones[1:-1], p[1:-1]):
        assert chi_square_fits([k, 20_000 - k], [20_000 * q, 20_000 * (1 - q)])
    y = fk.bernoulli(fk.zeros(40_000), 0.3, generator=g).numpy()
    assert chi_square_fits([y.sum(), 40_000 - y.sum()], [12_000, 28_000])


# ----------------------------------------------------------------------------- dropout and inference_mode
def test_dropout_is_torchs_function():
    assert fk.dropout is fk.nn.functional.dropout
    x = fk.ones(20_000)
    y = fk.dropout(x, 0.25, True).numpy()
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    assert chi_square_fits([(y == 0).sum(), (y != 0).sum()], [5_000, 15_000])
    assert fk.dropout(x, 0.25, False) is x
    assert torch.dropout(torch.ones(3), 0.5, False).tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError):
        fk.dropout(x, 1.5, True)


def test_inference_mode_as_context_and_decorator_like_torch():
    x = fk.ones(2, requires_grad=True)
    with fk.inference_mode():
        assert (x * 2).requires_grad is False
        assert fk.is_inference_mode_enabled() and not fk.is_grad_enabled()
    assert fk.is_grad_enabled() and not fk.is_inference_mode_enabled()

    for lib in (fk, torch):
        @lib.inference_mode
        def bare():
            return lib.is_inference_mode_enabled(), lib.is_grad_enabled()

        @lib.inference_mode()
        def called():
            return lib.is_inference_mode_enabled(), lib.is_grad_enabled()

        assert bare() == called() == (True, False)
        with lib.no_grad():
            with lib.inference_mode(False):
                assert (lib.is_inference_mode_enabled(), lib.is_grad_enabled()) == (False, True)
            assert not lib.is_grad_enabled()


# ----------------------------------------------------------------------------- all the functions, one seed
def test_every_sampler_repeats_under_manual_seed():
    def draw_all():
        return [f(None).numpy() for f in SAMPLERS.values()]

    fk.manual_seed(2024)
    first = draw_all()
    fk.manual_seed(2024)
    for a, b in itertools.zip_longest(first, draw_all()):
        np.testing.assert_array_equal(a, b)
