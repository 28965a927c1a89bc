"""Recurrent layers (seed 000 §6.1.7, seed 002 ch. 2–4, seed 004 §3.4) under PyTorch's names and layouts.

``RNN`` (Elman, tanh or ReLU), ``LSTM`` (with ``proj_size``), ``GRU`` and their one-step cells. The
parameters are PyTorch's: per layer k and direction ``weight_ih_l{k}{_reverse}`` (gate_size × input),
``weight_hh_l{k}`` (gate_size × hidden or proj), ``bias_ih_l{k}``, ``bias_hh_l{k}`` and, for an LSTM
with ``proj_size``, ``weight_hr_l{k}`` (proj × hidden), gates stacked LSTM i, f, g, o and GRU r, z, n,
all initialised U(−1/√H, 1/√H) — so state dicts move both ways with PyTorch.

The layers run on :func:`fukaku.nn.functional.recurrent.recurrent`: one fused graph node per layer
and direction (input projection in one GEMM, one GEMM per step, BPTT in NumPy). A backward with
``create_graph=True`` (double backward) recomputes each layer as a graph of cell ops to differentiate it
(slower, any order); under forward-mode AD, or with ``layer.fused = False`` (fukaku's own attribute,
default True), the layers run that composed graph from the start.
"""
from __future__ import annotations

import math
import numbers
import warnings

from ...backends import array_module
from ...errors import ShapeError
from ...ops._util import fmt
from ...ops.shape import cat
from ...ops.recurrent import SwapLeadingDims, gru_cell, lstm_cell, rnn_relu_cell, rnn_tanh_cell
from ...tensor import Tensor, empty, zeros
from .. import init
from ..functional.recurrent import recurrent
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module
from .utils import factory_kwargs

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _check_int(value, name: str, layer: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{layer}: {name} should be of type int, got: {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{layer}: {name} must be {'greater than zero' if minimum == 1 else f'>= {minimum}'}, "
                         f"got {value}")
    return int(value)


class RNNBase(Module):
    """The machinery of :class:`RNN`, :class:`LSTM` and :class:`GRU` (PyTorch's ``nn.RNNBase``).

    Args:
        mode: ``"RNN_TANH"``, ``"RNN_RELU"``, ``"LSTM"`` or ``"GRU"``.
        input_size, hidden_size: features of x and of h.
        num_layers: stacked layers; layer k > 0 reads the outputs of layer k − 1.
        bias: whether the layers have ``bias_ih``/``bias_hh``.
        batch_first: input and output are (B, T, ·) instead of (T, B, ·) (states stay (L·D, B, ·)).
        dropout: dropout on the outputs of every layer but the last, in training.
        bidirectional: a second pass from t = T−1 down to 0 per layer, outputs concatenated.
        proj_size: LSTM only: h = W_hr (o ⊙ tanh c), of size ``proj_size`` < ``hidden_size``.

    ``fused`` (an attribute, not an argument; fukaku's, default True): False runs the recurrence as a graph
    of tensor ops (one cell per step) instead of one fused node per layer and direction — slower; the
    results and every derivative are the same.
    """

    fused: bool = True

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None) -> None:
        super().__init__()
        name = type(self).__name__
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                          stacklevel=2)
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: {type(batch_first).__name__}")
        self.mode = mode
        self.input_size = _check_int(input_size, "input_size", name, 1)
        self.hidden_size = _check_int(hidden_size, "hidden_size", name, 1)
        self.num_layers = _check_int(num_layers, "num_layers", name, 1)
        self.proj_size = _check_int(proj_size, "proj_size", name, 0)
        if self.proj_size >= self.hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        factory = factory_kwargs(device, dtype, name)
        gate_size = _GATES[mode] * hidden_size
        real_hidden = self.proj_size if self.proj_size > 0 else hidden_size
        D = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            for direction in range(D):
                layer_input = input_size if layer == 0 else real_hidden * D
                shapes = [(gate_size, layer_input), (gate_size, real_hidden)]
                names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    shapes += [(gate_size,), (gate_size,)]
                    names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if self.proj_size > 0:
                    shapes += [(self.proj_size, hidden_size)]
                    names += ["weight_hr_l{}{}"]
                suffix = "_reverse" if direction == 1 else ""
                names = [n.format(layer, suffix) for n in names]
                for n, shape in zip(names, shapes):
                    setattr(self, n, Parameter(empty(*shape, **factory)))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    # -- PyTorch's API around the weights --------------------------------------------------
    @property
    def _flat_weights(self) -> list[Parameter]:
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters per layer and direction: ``[[w_ih, w_hh, b_ih, b_hh(, w_hr)], …]``."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """Accepted for PyTorch's programs; a no-op (as PyTorch on the CPU): the weights are used as they are."""

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(−1/√hidden_size, 1/√hidden_size), as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # -- forward ---------------------------------------------------------------------------
    def _kernel_mode(self) -> str:
        """The mode the fused node runs (GRU's textbook variant overrides it)."""
        return self.mode

    def _state_sizes(self) -> tuple[int, int]:
        """(size of h, size of c)."""
        return (self.proj_size or self.hidden_size), self.hidden_size

    def _check_state(self, state: Tensor, expected: tuple[int, ...], what: str, batched: bool) -> None:
        if tuple(state.shape) != expected:
            shown = expected if batched else (expected[0], expected[2])
            raise ShapeError(
                f"{type(self).__name__}: expected {what} of shape {fmt(shown)} (num_layers * num_directions, "
                f"{'batch, ' if batched else ''}{'proj_size' if what == 'h_0' and self.proj_size else 'hidden_size'}), "
                f"got {fmt(tuple(state.shape) if batched else (state.shape[0], state.shape[2]))}; pass a state "
                "of that shape, or None for zeros")

    def forward(self, input, hx=None):
        name = type(self).__name__
        lstm = self.mode == "LSTM"
        D = 2 if self.bidirectional else 1
        L = self.num_layers
        h_size, c_size = self._state_sizes()
        batch_sizes = sorted_indices = unsorted_indices = None
        if isinstance(input, PackedSequence):
            data, batch_sizes_t, sorted_indices, unsorted_indices = input
            batch_sizes = [int(b) for b in batch_sizes_t.tolist()]
            x, gather = _padded_from_packed(data, batch_sizes)
            batched = True
        else:
            if not isinstance(input, Tensor):
                raise TypeError(f"{name}: expected a Tensor or a PackedSequence as input, got {type(input).__name__}")
            if input.ndim not in (2, 3):
                raise ShapeError(f"{name}: expected a 2-d (unbatched, L × input_size) or 3-d input, got shape "
                                 f"{fmt(input.shape)}")
            batched = input.ndim == 3
            x = input if batched else input.unsqueeze(1)
            if batched and self.batch_first:
                x = x.transpose(0, 1)
        if x.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: input of shape {fmt(input.shape if isinstance(input, Tensor) else x.shape)} "
                             f"has {x.shape[-1]} features in its last dim, but the layer was built with "
                             f"input_size={self.input_size}; pass inputs (…, {self.input_size}) or build "
                             f"{name}({x.shape[-1]}, …)")
        weights = self.all_weights
        w0 = weights[0][0]
        if x.dtype != w0.dtype:
            raise ValueError(f"{name}: input dtype ({x.dtype}) does not match weight dtype ({w0.dtype}). Convert "
                             f"input: input.to({w0.dtype}), or convert model: model.to({x.dtype})")
        B = x.shape[1]
        h0 = c0 = None
        if hx is not None:
            h0, c0 = (hx if lstm else (hx, None))
            if lstm and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                raise TypeError(f"{name}: hx must be a tuple (h_0, c_0)")
            states = [h0] + ([c0] if lstm else [])
            for s in states:
                if s.ndim != (3 if batched else 2):
                    raise ShapeError(f"{name}: for {'batched 3-D' if batched else 'unbatched 2-D'} input, hx should "
                                     f"also be {3 if batched else 2}-D but got shape {fmt(s.shape)}")
            if not batched:
                h0 = h0.unsqueeze(1)
                c0 = c0.unsqueeze(1) if lstm else None
            self._check_state(h0, (L * D, B, h_size), "h_0", batched)
            if lstm:
                self._check_state(c0, (L * D, B, c_size), "c_0", batched)
            if sorted_indices is not None:
                h0 = h0.index_select(1, sorted_indices)
                c0 = c0.index_select(1, sorted_indices) if lstm else None
        if h0 is None:
            h0 = zeros(L * D, B, h_size, dtype=x.dtype, device=x.device)
        if lstm and c0 is None:
            c0 = zeros(L * D, B, c_size, dtype=x.dtype, device=x.device)
        out, h_n, c_n = recurrent(x, h0, c0 if lstm else None, weights, self._kernel_mode(), self.bias, L,
                                  self.dropout, self.training, self.bidirectional, batch_sizes, self.fused)
        if batch_sizes is not None:
            if unsorted_indices is not None:
                h_n = h_n.index_select(1, unsorted_indices)
                c_n = c_n.index_select(1, unsorted_indices) if lstm else None
            output = PackedSequence(out.reshape(-1, out.shape[-1])[gather], batch_sizes_t, sorted_indices,
                                    unsorted_indices)
        else:
            if not batched:
                out, h_n = out.squeeze(1), h_n.squeeze(1)
                c_n = c_n.squeeze(1) if lstm else None
            elif self.batch_first:
                out = SwapLeadingDims.apply(out)  # contiguous: later products on it stay on BLAS
            output = out
        return output, ((h_n, c_n) if lstm else h_n)


def _padded_from_packed(data: Tensor, batch_sizes: list[int]) -> tuple[Tensor, Tensor]:
    """The padded (T, B, ·) batch of a packed ``data`` (Σ batch_sizes, ·), and the index of each packed row
    in the flattened (T·B) padded batch (to pack the outputs again)."""
    xp = array_module(data._data)
    T, B = len(batch_sizes), batch_sizes[0]
    sizes = xp.asarray(batch_sizes)
    valid = xp.arange(B)[None, :] < sizes[:, None]           # (T, B)
    gather = xp.flatnonzero(valid.reshape(-1))                 # packed row j sits at flat position gather[j]
    source = xp.full(T * B, data.shape[0], dtype=xp.int64)     # padded positions read a zero row
    source[gather] = xp.arange(data.shape[0])
    padded_rows = cat([data, zeros(1, data.shape[1], dtype=data.dtype, device=data.device)], 0)[Tensor(source)]
    return padded_rows.reshape(T, B, data.shape[1]), Tensor(gather)


class RNN(RNNBase):
    """The Elman network (seed 000 §6.1.7): h_t = act(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh).

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False,
    dropout=0.0, bidirectional=False)``; ``nonlinearity`` is ``'tanh'`` or ``'relu'``.

    Shape: input (T, B, input_size) (or (B, T, ·) with batch_first, or unbatched (T, input_size), or a
    PackedSequence), h_0 (num_layers · D, B, hidden_size) → output (T, B, D · hidden_size), h_n like h_0.

    Example::

        rnn = nn.RNN(10, 20, num_layers=2)
        output, h_n = rnn(fukaku.randn(5, 3, 10))      # (5, 3, 20), (2, 3, 20)
    """

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory (seed 002 ch. 4, seed 004 §3.4), PyTorch's equations and layout.

    i, f, g, o = σ, σ, tanh, σ of (W_ih x_t + b_ih + W_hh h_{t−1} + b_hh) (stacked in that order);
    c_t = f ⊙ c_{t−1} + i ⊙ g;  h_t = o ⊙ tanh(c_t), or W_hr (o ⊙ tanh c_t) with ``proj_size > 0``.

    ``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0)``. Shape: input (T, B, input_size), (h_0, c_0) of shapes
    (L · D, B, proj_size or hidden_size), (L · D, B, hidden_size) → output (T, B, D · (proj_size or
    hidden_size)), (h_n, c_n).

    Example::

        lstm = nn.LSTM(10, 20, batch_first=True)
        output, (h_n, c_n) = lstm(fukaku.randn(3, 5, 10))   # (3, 5, 20), (1, 3, 20), (1, 3, 20)
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit (seed 004 §3.4, Cho et al. 2014), PyTorch's equations and layout by default.

    r, z = σ(W_i{r,z} x_t + b_i{r,z} + W_h{r,z} h_{t−1} + b_h{r,z});  h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}, with

    * ``reset_after=True`` (the default, PyTorch's and cuDNN's):
      n = tanh(W_in x_t + b_in + r ⊙ (W_hn h_{t−1} + b_hn))
      — the reset gate scales the recurrent product;
    * ``reset_after=False`` (the textbook's, seed 004, as in Cho et al. 2014): n = tanh(W_in x_t + b_in +
      W_hn (r ⊙ h_{t−1}) + b_hn) — the reset gate scales the state before the product. Same parameters
      (names and shapes), a different function; PyTorch has no such option. The textbook's single
      candidate bias b is b_in + b_hn here (the same family of functions).

    Both interpolate the same way, h_t = (1 − z) ⊙ candidate + z ⊙ h_{t−1} (seed 004 writes it so too, with
    z_t = σ(W_z x + U_z h + b_z)): the reset gate's place is the only difference.

    Shape as :class:`RNN`. ``GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False, reset_after=True)``.
    """

    def __init__(self, *args, reset_after: bool = True, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)
        self.reset_after = bool(reset_after)

    def _kernel_mode(self) -> str:
        return "GRU" if self.reset_after else "GRU_TEXTBOOK"

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.reset_after else s + ", reset_after=False"


# ----------------------------------------------------------------------------- cells
class RNNCellBase(Module):
    """Parameters of the one-step cells: ``weight_ih`` (gates · H, input_size), ``weight_hh`` (gates · H, H),
    ``bias_ih``, ``bias_hh`` (gates · H), all U(−1/√H, 1/√H) as PyTorch."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None,
                 dtype=None) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = _check_int(input_size, "input_size", name, 1)
        self.hidden_size = _check_int(hidden_size, "hidden_size", name, 1)
        self.bias = bias
        factory = factory_kwargs(device, dtype, name)
        self.weight_ih = Parameter(empty(num_chunks * hidden_size, input_size, **factory))
        self.weight_hh = Parameter(empty(num_chunks * hidden_size, hidden_size, **factory))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, **factory))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _prepare(self, input: Tensor, hx, lstm: bool = False):
        """(batched input, batched state(s), whether the input was batched), with shape checks."""
        name = type(self).__name__
        if not isinstance(input, Tensor) or input.ndim not in (1, 2):
            raise ShapeError(f"{name}: Expected input to be 1D or 2D, got "
                             f"{input.ndim if isinstance(input, Tensor) else type(input).__name__}D instead")
        if input.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: input of shape {fmt(input.shape)} has {input.shape[-1]} features, but the cell "
                             f"was built with input_size={self.input_size}; pass inputs (…, {self.input_size})")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        B = x.shape[0]
        expected = (B, self.hidden_size)
        if hx is None:
            h = zeros(*expected, dtype=x.dtype, device=x.device)
            return x, ((h, zeros(*expected, dtype=x.dtype, device=x.device)) if lstm else h), batched
        states = list(hx) if lstm else [hx]
        out = []
        for which, s in zip(("h", "c"), states):
            if s.ndim != (2 if batched else 1):
                raise ShapeError(f"{name}: {'batched 2-D' if batched else 'unbatched 1-D'} input expects a "
                                 f"{2 if batched else 1}-D hidden state {which}, got shape {fmt(s.shape)}")
            s = s if batched else s.unsqueeze(0)
            if tuple(s.shape) != expected:
                raise ShapeError(f"{name}: hidden state {which} of shape {fmt(s.shape)} does not match the input "
                                 f"{fmt(input.shape)}: expected {fmt(expected if batched else expected[1:])} "
                                 f"({'batch, ' if batched else ''}hidden_size={self.hidden_size})")
            out.append(s)
        return x, (tuple(out) if lstm else out[0]), batched


class RNNCell(RNNCellBase):
    """One Elman step: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu). Input (B, I) or (I,), hx (B, H)
    or (H,) (zeros when None) → h' of hx's shape."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, h, batched = self._prepare(input, hx)
        cell = rnn_tanh_cell if self.nonlinearity == "tanh" else rnn_relu_cell
        out = cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o): input (B, I) or (I,), hx = (h, c) each (B, H) (zeros when None)
    → (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx=None) -> tuple[Tensor, Tensor]:
        x, state, batched = self._prepare(input, hx, lstm=True)
        h, c = lstm_cell(x, state, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n): input (B, I) or (I,), hx (B, H) (zeros when None) → h'.

    ``reset_after=True`` (default) is PyTorch's n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn));
    ``reset_after=False`` the textbook's (seed 004) n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn), see :class:`GRU`.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None,
                 reset_after: bool = True) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)
        self.reset_after = bool(reset_after)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, h, batched = self._prepare(input, hx)
        out = gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh,
                       textbook=not self.reset_after)
        return out if batched else out.squeeze(0)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.reset_after else s + ", reset_after=False"

