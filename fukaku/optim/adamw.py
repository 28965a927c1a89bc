"""AdamW (Loshchilov and Hutter, 2019), as ``torch.optim.AdamW``: Adam with decoupled weight decay.

    θ ← θ − η·λ·θ       then Adam's update with the plain gradient (m, v never see λθ)

Erratum C19 of seed 000: the L2 penalty λ‖θ‖² of §6.1.4 (``Adam(weight_decay=λ)``) is not this.
With Adam the penalty's gradient is rescaled by 1/√v̂ like the rest of the gradient, so it decays
coordinates unevenly; AdamW shrinks every coordinate by the same factor 1 − ηλ per step. They agree
only for plain SGD, where both give θ ← (1 − ηλ)θ − η∇L.
"""
from __future__ import annotations

from typing import Any

from .adam import Adam
from .optimizer import ParamsT


class AdamW(Adam):
    """``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
    maximize=False)``. Same state as :class:`Adam`; groups always have ``decoupled_weight_decay=True``."""

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # an Adam state dict loaded here still decays the AdamW way
            group["decoupled_weight_decay"] = True
