"""CartPole-v1: the NumPy twin steps exactly as gymnasium's vectorised CartPole-v1, and without gymnasium the
error names the extra to install."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from fukaku.rl import CartPoleTwin, cartpole_expert, make_cartpole, require_gymnasium


def test_twin_follows_gymnasium_step_for_step():
    pytest.importorskip("gymnasium")
    gym_env, twin = make_cartpole(32), CartPoleTwin(32)
    a, _ = gym_env.reset(seed=7)
    b, _ = twin.reset(seed=7)
    np.testing.assert_array_equal(a, b)               # the same initial draw for the same seed
    rng = np.random.default_rng(0)
    alive = np.ones(32, dtype=bool)
    for _ in range(60):
        actions = rng.integers(0, 2, 32)
        got, want = twin.step(actions), gym_env.step(actions)
        np.testing.assert_allclose(got[0][alive], want[0][alive], rtol=1e-6, atol=1e-6)   # float32 observations
        for k in (1, 2, 3):
            np.testing.assert_array_equal(got[k][alive], want[k][alive])
        alive &= ~(want[2] | want[3])                  # after its end gymnasium resets an environment itself
    assert 0 < alive.sum() < 32


def test_time_limit_truncates_at_500_steps():
    twin = CartPoleTwin(4)
    obs, _ = twin.reset(seed=0)
    for step in range(1, 501):
        obs, reward, terminated, truncated, _ = twin.step(cartpole_expert(obs))
        assert not terminated.any() and truncated.all() == (step == 500)


def test_missing_gymnasium_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "gymnasium", None)   # import gymnasium now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'fukaku\[rl\]'"):
        require_gymnasium()
    with pytest.raises(ImportError, match=r"fukaku\[rl\]"):
        make_cartpole(2)
    assert isinstance(make_cartpole(2, backend="auto"), CartPoleTwin)
    with pytest.raises(ValueError, match="backend"):
        make_cartpole(2, backend="mujoco")
