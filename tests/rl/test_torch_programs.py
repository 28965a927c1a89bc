"""An unmodified PyTorch REINFORCE program (torch.distributions.Categorical, a gymnasium environment) runs on
fukaku through ``fukaku run`` and learns, and runs on PyTorch itself: the names line up."""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = textwrap.dedent('''\
    import gymnasium as gym
    import torch
    from torch import nn, optim
    from torch.distributions import Categorical

    torch.manual_seed(0)
    env = gym.make("CartPole-v1")
    policy = nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 2))
    optimizer = optim.Adam(policy.parameters(), lr=0.02)
    lengths = []
    for episode in range(100):
        obs, _ = env.reset(seed=episode)
        log_probs, rewards, done = [], [], False
        while not done:
            dist = Categorical(logits=policy(torch.as_tensor(obs)))
            action = dist.sample()
            obs, reward, terminated, truncated, _ = env.step(action.item())
            log_probs.append(dist.log_prob(action))
            rewards.append(reward)
            done = terminated or truncated
        returns, g = [], 0.0
        for r in reversed(rewards):
            g = r + 0.99 * g
            returns.insert(0, g)
        returns = torch.tensor(returns)
        returns = (returns - returns.mean()) / (returns.std() + 1e-8)
        loss = -(torch.stack(log_probs) * returns).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lengths.append(len(rewards))
    print(f"first 20 episodes {sum(lengths[:20]) / 20:.1f} last 20 episodes {sum(lengths[-20:]) / 20:.1f}")
''')


@pytest.mark.parametrize("on", ["fukaku", "torch"])
def test_a_pytorch_reinforce_program_runs_and_learns(on, tmp_path):
    pytest.importorskip("gymnasium")
    path = tmp_path / "reinforce.py"
    path.write_text(PROGRAM)
    command = [sys.executable, "-m", "fukaku", "run", str(path)] if on == "fukaku" else [sys.executable, str(path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    first, last = map(float, re.search(r"first 20 episodes ([0-9.]+) last 20 episodes ([0-9.]+)", done.stdout).groups())
    assert last > 2 * first, done.stdout
