"""Exports of a trained playground network, built in memory (nothing is written on the server): a
fukaku checkpoint (``fukaku.load`` reads it: ``{"config": …, "state_dict": …}``) and an equivalent
PyTorch script that rebuilds the network with the trained weights written in (run it with
``fukaku run`` or with PyTorch)."""
from __future__ import annotations

import io
import json

from ..serialization import save
from .session import Session

_FEATURE_CODE = {"x1": "x1", "x2": "x2", "x1^2": "x1 * x1", "x2^2": "x2 * x2", "x1*x2": "x1 * x2",
                 "sin(x1)": "torch.sin(x1)", "sin(x2)": "torch.sin(x2)"}


def checkpoint_bytes(session: Session) -> bytes:
    """The session's network as a fukaku checkpoint (npz container), in memory."""
    with session.lock:
        buffer = io.BytesIO()
        save({"config": json.dumps(session.config.to_dict()), "epoch": session.epoch,
              "state_dict": session.model.state_dict()}, buffer)
        return buffer.getvalue()


def script_text(session: Session) -> str:
    """A PyTorch program that builds the same network with the trained weights and prints its output at a
    few points. ``build()`` returns the model; ``FEATURES`` lists its inputs."""
    with session.lock:
        c, state = session.config, session.model.state_dict()
        modules = [m for m in session.model][1:]
        lines = []
        for m in modules:
            kind = type(m).__name__
            if kind == "Linear":
                lines.append(f"nn.Linear({m.in_features}, {m.out_features})")
            elif kind == "BatchNorm1d":
                lines.append(f"nn.BatchNorm1d({m.num_features})")
            elif kind == "Dropout":
                lines.append(f"nn.Dropout({m.p!r})")
            else:  # an activation with PyTorch's defaults, under the same name
                lines.append(f"nn.{kind}()")
        weights = {k: v.numpy().tolist() for k, v in state.items()}
        features = ", ".join(_FEATURE_CODE[f] for f in c.features)
        layers = ",\n        ".join(["Features()", *lines])
        return f'''"""The network trained in fukaku's playground, as a PyTorch program (run: fukaku run THIS.py, or python).

Setup: {json.dumps(c.to_dict())}
Trained for {session.epoch} epochs; test loss 1/2(out - target)^2 = {session.test_loss[-1]:.6f}.
"""
import torch
from torch import nn

FEATURES = {list(c.features)!r}


class Features(nn.Module):
    """The playground's input features of points (N, 2): {", ".join(c.features)}."""

    def forward(self, x):
        x1, x2 = x[:, 0], x[:, 1]
        return torch.stack([{features}], dim=1)


def build():
    """The network with its trained weights, in eval mode."""
    model = nn.Sequential(
        {layers},
    )
    state = {{k: torch.tensor(v) for k, v in WEIGHTS.items()}}
    model.load_state_dict(state)
    return model.eval()


WEIGHTS = {json.dumps(weights)}


if __name__ == "__main__":
    model = build()
    points = torch.tensor([[-6.0, -6.0], [0.0, 0.0], [2.5, -1.0], [6.0, 6.0]])
    with torch.no_grad():
        for p, out in zip(points.tolist(), model(points)[:, 0].tolist()):
            print(f"output at {{p}}: {{out:+.6f}}")
'''


__all__ = ["checkpoint_bytes", "script_text"]
