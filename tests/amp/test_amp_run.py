"""``fukaku run`` on an unmodified PyTorch mixed-precision training loop (torch.autocast + torch.amp.GradScaler +
clipping after unscale_): the same program under PyTorch and under fukaku ends at the same loss and weights."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]

# The weights and data come from NumPy, so that both libraries start alike; the rest is the PyTorch AMP recipe.
PROGRAM = """
import json
import numpy as np
import torch
from torch import nn

rng = np.random.default_rng(0)
x = torch.from_numpy(rng.standard_normal((64, 10)).astype(np.float32))
y = torch.from_numpy(rng.integers(0, 3, 64))
model = nn.Sequential({layers})
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy((0.3 * rng.standard_normal(tuple(p.shape))).astype(np.float32)))
optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 12, growth_interval=5)
loss_fn = nn.CrossEntropyLoss()
losses, dtypes = [], set()
for step in range(15):
    optimizer.zero_grad()
    with torch.autocast(device_type="cpu", dtype=torch.{dtype}):
        out = model(x)
        loss = loss_fn(out, y)
    dtypes.add(str(out.dtype).split(".")[-1])
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(optimizer)
    scaler.update()
    losses.append(loss.item())
print(json.dumps({{"losses": losses, "scale": scaler.get_scale(), "dtypes": sorted(dtypes),
                  "grad": str(model[0].weight.grad.dtype).split(".")[-1],
                  "weights": [p.detach().numpy().tolist() for p in model.parameters()]}}))
"""

def _outcome(command: list[str], cwd: Path) -> dict:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("dtype,layers", [
    ("float16", "nn.Linear(10, 3)"),
    ("bfloat16", "nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 3)"),
], ids=["float16-linear", "bfloat16-mlp"])
def test_a_pytorch_amp_loop_runs_unmodified_on_fukaku(tmp_path, dtype, layers):
    script = tmp_path / "train_amp.py"
    script.write_text(textwrap.dedent(PROGRAM.format(layers=layers, dtype=dtype)))
    ours = _outcome([sys.executable, "-m", "fukaku", "run", str(script)], ROOT)
    theirs = _outcome([sys.executable, str(script)], ROOT)
    assert ours["dtypes"] == theirs["dtypes"] == [dtype] and ours["grad"] == theirs["grad"] == "float32"
    assert ours["scale"] == theirs["scale"]
    tolerance = 2e-2 if dtype == "bfloat16" else 3e-3
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=tolerance, atol=tolerance)
    assert ours["losses"][-1] < 0.8 * ours["losses"][0]  # it trains
    for a, b in zip(ours["weights"], theirs["weights"], strict=True):
        np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance)
