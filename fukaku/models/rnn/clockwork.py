"""The Clockwork RNN (Koutník, Greff, Gomez and Schmidhuber, "A Clockwork RNN", ICML 2014), the
recurrent network of seed 002 ch. 4's fighting-game agent.

An Elman network h_t = f(W_h h_{t−1} + W_x x_t + b) whose hidden units are split into g modules of
equal size with clock periods T_1, …, T_g (by default 1, 2, 4, …, 2^{g−1}):

- at step t (counted from 0, so every module runs at the first step) module i runs only when
  t mod T_i = 0; a module that does not run keeps its previous state exactly;
- module i reads the state of module j only when T_j ≥ T_i: slow modules feed fast ones, never the
  reverse. With the modules in order of increasing period — the paper's order — W_h is
  *block-upper-triangular*: row block i (the inputs of module i) is zero left of the diagonal
  block, ``W_h[i-block, j-block] = 0`` for j < i. Unsorted periods are allowed; the rule "j feeds i
  iff T_j ≥ T_i" decides, and equal periods feed each other.

The slow modules therefore change rarely and hold long-range information, while the fast ones
follow the input; the paper reports it beats an Elman network of the same size on long-period
signals (sequence generation, TIMIT) at fewer operations per step.

The computation here is vectorised over modules: the input projection of all steps is one GEMM;
each step is one GEMM of the whole state with the masked W_h, the nonlinearity, and a ``where``
that keeps the inactive units (a step where no module runs is skipped). The update of inactive
units is computed and thrown away — simpler and, for small g, not slower than gathering the active
rows.

Parameters (PyTorch's ``nn.RNNCell`` names): ``weight_ih`` (H, input_size), ``weight_hh`` (H, H),
``bias_ih`` and ``bias_hh`` (H,). The block structure is the buffer ``recurrent_mask`` (H, H; 1
where j feeds i), applied in every forward pass, so entries outside it get no gradient and have no
effect; they are zero after initialisation.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..._device import place
from ...autograd.grad_mode import no_grad
from ...backends import default_module
from ...errors import ShapeError
from ...nn import functional as F
from ...nn import init
from ...nn.modules.module import Module
from ...nn.modules.utils import check_size, factory_kwargs
from ...nn.parameter import Parameter
from ...ops.activation import relu
from ...ops.elementwise import tanh, where
from ...ops.shape import stack
from ...tensor import Tensor, empty, wrap, zeros

__all__ = ["ClockworkRNN"]

_NONLINEARITIES = {"tanh": tanh, "relu": relu}


class ClockworkRNN(Module):
    """A Clockwork RNN layer: hidden units in modules that run at their own clock periods.

    Args:
        input_size: features of x_t.
        hidden_size: H, the number of hidden units; split into ``len(periods)`` equal modules.
        periods: the clock period of each module (positive ints, e.g. ``[1, 2, 4, 8]``), or an int g
            for the exponential periods 1, 2, 4, …, 2^{g−1} (default 4 modules).
        nonlinearity: ``'tanh'`` (default) or ``'relu'``.
        bias: add ``bias_ih + bias_hh``.
        batch_first: input and output are ``(N, T, *)`` instead of ``(T, N, *)``.

    Shape:
        input: ``(T, N, input_size)`` (``(N, T, input_size)`` with ``batch_first``) or unbatched
        ``(T, input_size)``; ``hx``: ``(1, N, H)`` or ``(1, H)``, zeros when None.
        output: ``(output, h_n)`` as ``nn.RNN``'s: the state at every step ``(T, N, H)`` (``(N, T, H)``
        with ``batch_first``; ``(T, H)`` unbatched) and the last state ``(1, N, H)`` (``(1, H)``).

    ``forward(input, hx=None, t0=0)``: ``t0`` is the clock reading of the first step, so a sequence
    run in chunks (truncated BPTT) keeps its phase: pass ``t0`` = the number of steps already run
    (or use chunks that are a multiple of the largest period).

    Example::

        >>> cw = ClockworkRNN(1, 32, periods=[1, 2, 4, 8])     # 4 modules of 8 units
        >>> out, h_n = cw(fukaku.randn(100, 5, 1))
        >>> out.shape, h_n.shape
        (fukaku.Size([100, 5, 32]), fukaku.Size([1, 5, 32]))
    """

    def __init__(self, input_size: int, hidden_size: int, periods: int | Sequence[int] = 4,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False, device=None,
                 dtype=None) -> None:
        super().__init__()
        name = "ClockworkRNN"
        self.input_size = check_size(input_size, "input_size", name)
        self.hidden_size = check_size(hidden_size, "hidden_size", name, minimum=1)
        if isinstance(periods, int) and not isinstance(periods, bool):
            if periods < 1:
                raise ValueError(f"{name}: the number of modules must be ≥ 1, got periods={periods}")
            periods = [2 ** i for i in range(periods)]
        periods = [int(p) for p in periods]
        if not periods or any(p < 1 for p in periods):
            raise ValueError(f"{name}: periods must be positive ints, got {periods}")
        if self.hidden_size % len(periods):
            raise ValueError(f"{name}: hidden_size={self.hidden_size} does not split into {len(periods)} equal "
                             f"modules (periods {periods}); choose a hidden_size divisible by {len(periods)}")
        if nonlinearity not in _NONLINEARITIES:
            raise ValueError(f"{name}: unknown nonlinearity {nonlinearity!r}; choose 'tanh' or 'relu'")
        self.periods, self.nonlinearity, self.batch_first = tuple(periods), nonlinearity, bool(batch_first)
        self.module_size = self.hidden_size // len(periods)
        xp = default_module()
        unit_periods = xp.repeat(xp.asarray(periods, dtype=np.int64), self.module_size)  # (H,)
        self._unit_periods = unit_periods
        factory = factory_kwargs(device, dtype, name)
        # j feeds i iff T_j ≥ T_i: row i (the receiving unit), column j (the sending unit)
        mask = (unit_periods[None, :] >= unit_periods[:, None]).astype(factory["dtype"])
        self.register_buffer("recurrent_mask", wrap(place(mask, factory["device"])), persistent=False)
        h = self.hidden_size
        self.weight_ih = Parameter(empty(h, self.input_size, **factory))
        self.weight_hh = Parameter(empty(h, h, **factory))
        if bias:
            self.bias_ih = Parameter(empty(h, **factory))
            self.bias_hh = Parameter(empty(h, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(−1/√H, 1/√H) for every parameter, as ``nn.RNN``; then W_h's masked-out entries set to 0."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)
        with no_grad():
            self.weight_hh.mul_(self.recurrent_mask)

    def active(self, steps: int, t0: int = 0) -> Tensor:
        """The bool ``(steps, H)`` table of which units run at steps t0 … t0 + steps − 1."""
        t = default_module().arange(t0, t0 + steps)
        return wrap(t[:, None] % self._unit_periods[None, :] == 0)

    def forward(self, input: Tensor, hx: Tensor | None = None, t0: int = 0) -> tuple[Tensor, Tensor]:
        name = "ClockworkRNN"
        if input.ndim not in (2, 3):
            raise ShapeError(f"{name}: expected a 2-d (unbatched) or 3-d input, got shape {tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: input has {input.shape[-1]} features (shape {tuple(input.shape)}), but the "
                             f"layer was built with input_size={self.input_size}")
        batched = input.ndim == 3
        x = input if not batched else (input.transpose(0, 1) if self.batch_first else input)
        if not batched:
            x = x.unsqueeze(1)
        steps, batch = x.shape[0], x.shape[1]
        want = (1, batch, self.hidden_size) if batched else (1, self.hidden_size)
        if hx is None:
            h = zeros(batch, self.hidden_size, dtype=x.dtype, device=x.device)
        else:
            if tuple(hx.shape) != want:
                raise ShapeError(f"{name}: expected hx of shape {want}, got {tuple(hx.shape)} (input shape "
                                 f"{tuple(input.shape)}, batch_first={self.batch_first})")
            h = hx.reshape(batch, self.hidden_size)
        bias = None if self.bias_ih is None else self.bias_ih + self.bias_hh
        xw = F.linear(x, self.weight_ih, bias)  # the input projection of every step: one GEMM
        w_hh_t = (self.weight_hh * self.recurrent_mask).t()
        f = _NONLINEARITIES[self.nonlinearity]
        active = self.active(steps, t0)
        runs = active._data.any(axis=1)
        every = active._data.all(axis=1)
        outs = []
        for t, x_t in enumerate(xw.unbind(0)):
            if runs[t]:
                new = f(x_t + h @ w_hh_t)  # one GEMM for all modules
                h = new if every[t] else where(active[t], new, h)  # inactive units keep their state
            outs.append(h)
        output = stack(outs)
        h_n = h.unsqueeze(0)
        if not batched:
            return output.squeeze(1), h_n.squeeze(1)
        return (output.transpose(0, 1) if self.batch_first else output), h_n

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}, periods={list(self.periods)}"
        if self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        if self.bias_ih is None:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        return s
