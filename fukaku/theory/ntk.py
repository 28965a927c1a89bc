"""The neural tangent kernel and its infinite-width limits (seed 000 §6.1.8, erratum C4).

For a network f(x; θ) with k outputs the *empirical* NTK is K(x, x') = ∇_θ f(x)ᵀ ∇_θ f(x'), built here from
the per-example Jacobians J(x) = ∂f(x)/∂θ (shape ``(n, k, |θ|)``):

- :func:`per_example_jacobian` in either autodiff mode. Both use the structure of ``nn.Linear`` (y = s·x Wᵀ + b,
  s = 1, or σ_w/√in in the NTK parameterisation): ∂f_i/∂W_ab = ∂f_i/∂y_ia · s·x_ib exactly, so a layer's block
  is its inputs times the sensitivities ∂f_i/∂y_i of its outputs. Reverse mode runs the model once on the
  batch and gets the sensitivities of every Linear layer, for all examples at once, from one backward pass per
  output (examples are independent: the gradient of Σ_i f_ic reaching y_i comes from f_ic alone); any other
  parameter gets one backward pass per output row (one example, one output) with a one-hot ``grad_outputs``.
  Forward mode puts a tangent on one unit a of a Linear layer's output for every example at once, which gives
  ∂f_i/∂y_ia, with the batch tiled so that one forward pass serves many units; any other parameter gets the
  textbook's forward mode, one jvp per element (seed 000 §6.1.2: |θ| passes).
- :func:`empirical_ntk`: ``(n1, n2)`` (the trace over outputs, Σ_c ∇f_c(x)ᵀ∇f_c(x'), which for one output is
  the NTK itself) or the full ``(n1, n2, k, k)`` block.

At infinite width in the NTK parameterisation (``nn.Linear(..., parameterization="ntk")``, :func:`ntk_mlp`) the
NTK is deterministic and constant in training, and the outputs at initialisation are a Gaussian process with
the NNGP kernel: :func:`nngp_kernel` and :func:`ntk_kernel` compute both for fully connected ReLU (Cho & Saul's
arc-cosine recursion) and erf (Williams' arcsin formula) networks. Training then is kernel regression:
:func:`gradient_flow_prediction` is the corrected closed form of erratum C4 for gradient flow on ½‖f(X) − y‖²,

    f_t(x) = f_0(x) + K(x, X) K(X, X)⁻¹ (I − e^{−η K(X, X) t}) (y − f_0(X)),

and :class:`LinearizedModel` is the model that closed form describes exactly: f_lin(x) = f_0(x) + ∇_θ f_0(x)·(θ − θ_0),
trainable by any optimizer.

The examples of a batch are taken to be independent (no batch statistics in training mode), as a
per-example Jacobian presumes, and the model deterministic (dropout off: ``model.eval()``).
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from .. import nn
from ..autograd import forward_ad
from ..autograd.engine import grad as _grad
from ..autograd.functional import jacobian
from ..autograd.grad_mode import enable_grad, no_grad
from ..backends import array_module
from ..dtypes import get_default_dtype
from ..nn.modules.linear import Linear
from ..ops import erf
from ..tensor import Tensor, as_tensor, wrap

__all__ = ["per_example_jacobian", "empirical_ntk", "nngp_kernel", "ntk_kernel", "ntk_mlp", "LinearizedModel",
           "linearize", "gradient_flow_prediction"]

_MODES = ("reverse", "forward")
_ACTIVATIONS = ("relu", "erf")
_TILE_ELEMENTS = 1 << 22  # the widest activation of a tiled forward pass holds at most this many numbers


# ----------------------------------------------------------------------------- parameters as inputs
def _parameters(model: nn.Module) -> list[Tensor]:
    params = [p for _, p in model.named_parameters()]
    if not params:
        raise ValueError(f"{type(model).__name__} has no parameters to differentiate")
    return params


@contextmanager
def _swapped(model: nn.Module, params: Sequence[Tensor], replacements: Sequence[Tensor]) -> Iterator[None]:
    """Run ``model`` with each parameter in ``params`` replaced by the tensor at the same place in
    ``replacements`` (everywhere it is registered, so shared parameters stay shared); restored on exit."""
    by_id = {id(p): r for p, r in zip(params, replacements)}
    undo = []
    for module in model.modules():
        for name, p in module._parameters.items():
            if p is not None and id(p) in by_id:
                undo.append((module, name, p))
                module._parameters[name] = by_id[id(p)]
    try:
        yield
    finally:
        for module, name, p in undo:
            module._parameters[name] = p


def _rows(out: Tensor, n: int, op: str) -> Tensor:
    """The model's output as ``(n, k)``: one row per example, its outputs flattened."""
    if out.ndim == 0 or out.shape[0] != n:
        raise ValueError(f"{op}: the model must return one row per example, (n, …) with n = {n}; "
                         f"got shape {tuple(out.shape)}")
    return out.reshape(n, -1)


def _check_input(x, op: str) -> Tensor:
    x = as_tensor(x)
    if x.ndim == 0:
        raise ValueError(f"{op}: inputs must have a batch dimension, got a 0-d tensor")
    return x.detach()


def _check_mode(mode: str, op: str) -> None:
    if mode not in _MODES:
        raise ValueError(f"{op}: mode must be 'reverse' or 'forward', got {mode!r}")


# ----------------------------------------------------------------------------- per-example Jacobians
def per_example_jacobian(model: nn.Module, x: Tensor, mode: str = "reverse") -> Tensor:
    """∂f(x_i)/∂θ for every example: shape ``(n, k, |θ|)``.

    Args:
        model: any fukaku model mapping a batch ``(n, …)`` to ``(n, …)`` (the outputs of an example are
            flattened to k numbers). θ is ``model.parameters()`` in order, each flattened row-major.
        x: the batch ``(n, …)``.
        mode: ``"reverse"`` (backward passes: one per output for the ``nn.Linear`` layers, one per example and
            output for any other parameter) or ``"forward"`` (tangents pushed forward: one tiled pass per few
            units of each ``nn.Linear``, one pass per element of any other parameter). Both give the same
            matrix. The Linear shortcut applies to a layer that runs once per forward, on a ``(n, in)`` batch,
            whose weight and bias the model uses nowhere else (the recorded graph tells) and whose output is not
            modified in place; others take the general path.

    Example:
        >>> model = fk.models.MLP([3, 16, 1])
        >>> per_example_jacobian(model, fk.randn(5, 3)).shape
        fukaku.Size([5, 1, 81])
    """
    blocks = _jacobian_blocks(model, x, mode, "per_example_jacobian")
    return wrap(array_module(blocks[0]).concatenate(blocks, axis=2))


def _jacobian_blocks(model: nn.Module, x: Tensor, mode: str, op: str) -> list:
    """The per-example Jacobian as one array ``(n, k, p.numel())`` per parameter p."""
    _check_mode(mode, op)
    x = _check_input(x, op)
    return (_reverse_blocks if mode == "reverse" else _forward_blocks)(model, x, _parameters(model))


def _reverse_blocks(model: nn.Module, x: Tensor, params: list[Tensor]) -> list:
    """Reverse mode. The Linear layers that :func:`_traced_forward` finds: one backward pass per output c with
    ``grad_outputs`` = 1 on column c gives ∂f_ic/∂y_i at each layer's output y for every example at once
    (examples are independent), and ∂f_ic/∂W = s·(∂f_ic/∂y_i) x_iᵀ. Any other parameter: one backward pass per
    output row (example i, output c) with a one-hot ``grad_outputs``."""
    n = x.shape[0]
    leaves = [p.detach().requires_grad_(True) for p in params]
    with _swapped(model, params, leaves):
        out, fast = _traced_forward(model, x)
        index = {id(t): i for i, t in enumerate(leaves)}
        owned = [(index[id(layer.weight)], None if layer.bias is None else index[id(layer.bias)])
                 for layer, _, _ in fast]
    k = out.shape[1]
    xp = array_module(out._data)
    dtype = out._data.dtype
    blocks: list = [None] * len(params)
    if not out.requires_grad:  # the output does not depend on θ
        return [xp.zeros((n, k, p.numel()), dtype=dtype) for p in params]
    if fast:
        sens = [xp.zeros((n, k, layer.out_features), dtype=dtype) for layer, _, _ in fast]
        column = xp.zeros((n, k), dtype=dtype)
        for c in range(k):
            column[:, c] = 1
            grads = _grad((out,), [y for _, _, y in fast], (wrap(column.copy()),), retain_graph=True,
                          allow_unused=True)
            column[:, c] = 0
            for s, g in zip(sens, grads):
                if g is not None:
                    s[:, c] = g._data
        for (layer, a, _), s, (iw, ib) in zip(fast, sens, owned):
            blocks[iw], bias = _linear_blocks(layer, a, s)
            if ib is not None:
                blocks[ib] = bias
    rest = [i for i, b in enumerate(blocks) if b is None]
    for i, block in zip(rest, _general_blocks(model, x, [params[i] for i in rest], "rev")):
        blocks[i] = block.astype(dtype, copy=False)
    return blocks


def _general_blocks(model: nn.Module, x: Tensor, params: list[Tensor], mode: str) -> list:
    """The blocks ``(n, k, p.numel())`` of parameters no shortcut covers, by
    :func:`fukaku.autograd.functional.jacobian`: one backward pass per output element (``mode="rev"``: example i,
    output c) or one jvp per parameter element (``"fwd"``: the textbook's cost of forward mode)."""
    if not params:
        return []
    n = x.shape[0]

    def rows(*replacements: Tensor) -> Tensor:
        with _swapped(model, params, replacements):
            return _rows(model(x), n, "per_example_jacobian")

    jac = jacobian(rows, tuple(p.detach() for p in params), mode=mode)
    return [j._data.reshape(j.shape[0], j.shape[1], -1) for j in jac]


def _linear_blocks(layer: Linear, inputs: Tensor, sens):
    """The Jacobian blocks ``(n, k, out·in)`` of the weight and ``(n, k, out)`` of the bias of a Linear layer that
    computed y = s_w·x Wᵀ + s_b·b on the batch ``inputs``, from ``sens`` ``(n, k, out)`` = ∂f_ic/∂y_ia:
    ∂f_ic/∂W_ab = s_w·sens_ica·x_ib and ∂f_ic/∂b_a = s_b·sens_ica (s = 1, or σ_w/√in and σ_b in the NTK
    parameterisation)."""
    s_w, s_b = layer.parameter_scales()
    xp = array_module(sens)
    n, k, _ = sens.shape
    a = inputs._data.astype(sens.dtype, copy=False)
    return (xp.einsum("ica,ib->icab", sens, a).reshape(n, k, -1) * s_w,
            None if layer.bias is None else sens * s_b)


def _traced_forward(model: nn.Module, x: Tensor) -> tuple[Tensor, list]:
    """Run the model once, recording the graph; return its output rows and ``(layer, input, output)`` for each
    ``nn.Linear`` that a shortcut is exact for: its forward is Linear's own, it ran once, on an ``(n, in)``
    batch, nothing modified its output in place afterwards (an in-place ReLU would), and the graph uses its
    weight and bias nowhere else (not shared with another layer, not read directly by the model's forward)."""
    n = x.shape[0]
    calls: dict[int, list] = {}
    linears = [m for m in model.modules() if isinstance(m, Linear) and type(m).forward is Linear.forward]

    def record(module, args, output):
        calls.setdefault(id(module), []).append((args[0], output, output._version.value))

    removers = [layer.register_forward_hook(record) for layer in linears]
    try:
        with enable_grad():
            out = _rows(model(x), n, "per_example_jacobian")
    finally:
        for remove in removers:
            remove()
    uses = _leaf_uses(out)
    fast = []
    for layer in linears:
        seen = calls.get(id(layer), [])
        if len(seen) != 1:
            continue
        a, y, version = seen[0]
        own = [p for p in (layer.weight, layer.bias) if p is not None]
        if (a.ndim == 2 and a.shape[0] == n and y._version.value == version
                and all(uses.get(id(p), 0) == 1 for p in own)):
            fast.append((layer, a.detach(), y))
    return out, fast


def _leaf_uses(out: Tensor) -> dict[int, int]:
    """How many recorded edges of ``out``'s graph end at each leaf (by id): a Linear layer's weight and bias are
    used once, by its own forward, unless the model also uses them elsewhere (shared, or read directly)."""
    uses: dict[int, int] = {}
    stack, seen = [out.grad_fn], set()
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        for producer in fn.next_functions:
            if isinstance(producer, Tensor):
                uses[id(producer)] = uses.get(id(producer), 0) + 1
            else:
                stack.append(producer)
    return uses


def _forward_blocks(model: nn.Module, x: Tensor, params: list[Tensor]) -> list:
    """Forward mode: the Linear layers of :func:`_traced_forward` by :func:`_unit_sensitivities`; any other
    parameter by one jvp per element."""
    out, fast = _traced_forward(model, x)
    k = out.shape[1]
    dtype = out._data.dtype
    blocks: dict[int, object] = {}
    xp = array_module(out._data)
    for layer, inputs, _ in fast:
        sens = xp.transpose(_unit_sensitivities(model, x, layer, k), (1, 2, 0))  # (n, k, m): ∂f_ic/∂y_ia
        blocks[id(layer.weight)], bias = _linear_blocks(layer, inputs, sens.astype(dtype, copy=False))
        if bias is not None:
            blocks[id(layer.bias)] = bias
    rest = [p for p in params if id(p) not in blocks]
    for p, block in zip(rest, _general_blocks(model, x, rest, "fwd")):
        blocks[id(p)] = block.astype(dtype, copy=False)
    return [blocks[id(p)] for p in params]


def _unit_sensitivities(model: nn.Module, x: Tensor, layer: Linear, k: int):
    """∂f(x_i)_c/∂y_ia for every unit a of ``layer``'s output y, by forward mode: the batch is tiled U times
    and copy u carries the tangent e_a on unit a_u of y, so one pass serves U units."""
    n, m = x.shape[0], layer.out_features
    xp = array_module(x._data)
    widest = max([mod.out_features for mod in model.modules() if isinstance(mod, Linear)] + [m, x[0].numel()])
    per_pass = max(1, min(m, _TILE_ELEMENTS // max(1, n * widest)))
    result = None
    for start in range(0, m, per_pass):
        chunk = xp.arange(start, min(m, start + per_pass))
        u = len(chunk)
        tiled = wrap(xp.concatenate([x._data] * u, axis=0)) if u > 1 else x
        def inject(mod, args, output, chunk=chunk, u=u):
            tangent = xp.zeros((u, n, m), dtype=output._data.dtype)
            tangent[xp.arange(u), :, chunk] = 1
            return forward_ad.make_dual(output, wrap(tangent.reshape(u * n, m)))

        remove = layer.register_forward_hook(inject)
        try:
            with no_grad(), forward_ad.dual_level():
                out = _rows(model(tiled), u * n, "per_example_jacobian")
                tangent = forward_ad.unpack_dual(out).tangent
                t = (xp.zeros(out.shape, dtype=out._data.dtype) if tangent is None
                     else tangent._data.reshape(u * n, -1))
        finally:
            remove()
        if result is None:
            result = xp.zeros((m, n, k), dtype=t.dtype)
        result[start:start + u] = t.reshape(u, n, k)
    return result


# ----------------------------------------------------------------------------- the empirical NTK
def empirical_ntk(model: nn.Module, x1: Tensor, x2: Tensor | None = None, mode: str = "reverse",
                  block: str = "trace") -> Tensor:
    """The empirical neural tangent kernel K(x, x') = ∇_θ f(x)ᵀ ∇_θ f(x') (seed 000 §6.1.8).

    Args:
        model: any fukaku model ``(n, …) → (n, …)``, k outputs per example.
        x1: ``(n1, …)``; x2: ``(n2, …)``, default ``x1``.
        mode: ``"reverse"`` or ``"forward"`` (:func:`per_example_jacobian`); the kernels agree.
        block: ``"trace"`` gives ``(n1, n2)``, Σ_c ∇f_c(x)·∇f_c(x') (for one output the NTK itself; at infinite
            width the full block tends to Θ·I_k, so the trace to k·Θ); ``"full"`` gives ``(n1, n2, k, k)``,
            entry ``[i, j, c, d]`` = ∇f_c(x_i)·∇f_d(x'_j).

    Example:
        >>> model = ntk_mlp([2, 512, 1])
        >>> empirical_ntk(model, fk.randn(4, 2)).shape
        fukaku.Size([4, 4])
    """
    if block not in ("trace", "full"):
        raise ValueError(f"empirical_ntk: block must be 'trace' or 'full', got {block!r}")
    j1 = _jacobian_blocks(model, x1, mode, "empirical_ntk")
    j2 = j1 if x2 is None else _jacobian_blocks(model, x2, mode, "empirical_ntk")
    xp = array_module(j1[0])
    kernel = 0
    for a, b in zip(j1, j2):  # block by block: the whole Jacobian is never concatenated
        if block == "trace":
            kernel = kernel + a.reshape(a.shape[0], -1) @ b.reshape(b.shape[0], -1).T
        else:
            kernel = kernel + xp.einsum("icp,jdp->ijcd", a, b)
    return wrap(kernel)


# ----------------------------------------------------------------------------- infinite width
def _relu_moments(xp, s11, s22, s12):
    """E[relu(u)relu(v)] and E[relu′(u)relu′(v)] for (u, v) ~ N(0, [[s11, s12], [s12, s22]]) (Cho & Saul)."""
    norm = xp.sqrt(s11 * s22)
    cos = xp.clip(s12 / xp.maximum(norm, 1e-300), -1.0, 1.0)
    theta = xp.arccos(cos)
    return (norm / (2 * math.pi) * (xp.sin(theta) + (math.pi - theta) * cos),
            (math.pi - theta) / (2 * math.pi))


def _erf_moments(xp, s11, s22, s12):
    """E[erf(u)erf(v)] = (2/π) arcsin(2 s12/√((1+2 s11)(1+2 s22))) (Williams) and
    E[erf′(u)erf′(v)] = (4/π)/√((1+2 s11)(1+2 s22) − 4 s12²)."""
    prod = (1 + 2 * s11) * (1 + 2 * s22)
    return (2 / math.pi * xp.arcsin(xp.clip(2 * s12 / xp.sqrt(prod), -1.0, 1.0)),
            4 / math.pi / xp.sqrt(xp.maximum(prod - 4 * s12 ** 2, 1e-300)))


def _kernels(x1, x2, depth: int, activation: str, weight_variance: float, bias_variance: float, op: str):
    """(NNGP, NTK) of the output of a fully connected network with ``depth`` hidden layers."""
    if activation not in _ACTIVATIONS:
        raise ValueError(f"{op}: activation must be 'relu' or 'erf', got {activation!r}")
    if int(depth) != depth or depth < 0:
        raise ValueError(f"{op}: depth (the number of hidden layers) must be an integer ≥ 0, got {depth!r}")
    if weight_variance <= 0 or bias_variance < 0:
        raise ValueError(f"{op}: need weight_variance > 0 and bias_variance ≥ 0, "
                         f"got {weight_variance} and {bias_variance}")
    a = as_tensor(x1)
    b = a if x2 is None else as_tensor(x2)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"{op}: inputs must be (n1, d) and (n2, d), got {tuple(a.shape)} and {tuple(b.shape)}")
    dtype = a.dtype if a.dtype.kind == "f" else get_default_dtype()
    xa, xb = a._data.astype("float64"), b._data.astype("float64")
    xp = array_module(xa)
    moments = _relu_moments if activation == "relu" else _erf_moments
    d = xa.shape[1]
    # layer 1: Σ¹(x, x') = σ_w² x·x'/d + σ_b², Θ¹ = Σ¹
    cross = weight_variance * (xa @ xb.T) / d + bias_variance
    qa = weight_variance * (xa * xa).sum(1) / d + bias_variance
    qb = weight_variance * (xb * xb).sum(1) / d + bias_variance
    ntk = cross
    for _ in range(int(depth)):
        e_cross, de_cross = moments(xp, qa[:, None], qb[None, :], cross)
        e_a, _ = moments(xp, qa, qa, qa)
        e_b, _ = moments(xp, qb, qb, qb)
        cross = weight_variance * e_cross + bias_variance
        ntk = cross + weight_variance * de_cross * ntk
        qa, qb = weight_variance * e_a + bias_variance, weight_variance * e_b + bias_variance
    return wrap(cross.astype(dtype.dtype)), wrap(ntk.astype(dtype.dtype))


def nngp_kernel(x1: Tensor, x2: Tensor | None = None, depth: int = 1, activation: str = "relu",
                weight_variance: float = 1.0, bias_variance: float = 1.0) -> Tensor:
    """The NNGP kernel Σ(x, x') = E[f(x) f(x')] of a fully connected network at initialisation, infinite width.

    The network (:func:`ntk_mlp`, NTK or standard parameterisation alike) has ``depth`` hidden layers:
    h¹ = σ_w/√d · W¹x + σ_b b¹, h^{l+1} = σ_w/√n_l · W^{l+1} φ(h^l) + σ_b b^{l+1}, W, b ~ N(0, 1), output h^{depth+1}.
    Then Σ¹ = σ_w² x·x'/d + σ_b² and Σ^{l+1} = σ_w² E[φ(u)φ(v)] + σ_b², (u, v) ~ N(0, Σ^l) — for ReLU the
    arc-cosine kernel of Cho & Saul, √(Σ_xx Σ_x'x')/(2π)·(sin θ + (π − θ) cos θ) with cos θ the correlation; for
    erf Williams' (2/π) arcsin(2Σ_xx'/√((1 + 2Σ_xx)(1 + 2Σ_x'x'))). Each output is a Gaussian process with this
    covariance (seed 000 §6.1.8).

    Args:
        x1: ``(n1, d)``; x2: ``(n2, d)``, default ``x1``.
        depth: the number of hidden layers (0: a linear model).
        activation: ``"relu"`` or ``"erf"``.
        weight_variance: σ_w²; bias_variance: σ_b².

    Returns:
        ``(n1, n2)``, in the inputs' floating dtype (computed in float64).

    Example:
        >>> nngp_kernel(fk.tensor([[1.0, 0.0]]), depth=1, weight_variance=2.0, bias_variance=0.0)
        tensor([[1.]])
    """
    return _kernels(x1, x2, depth, activation, weight_variance, bias_variance, "nngp_kernel")[0]


def ntk_kernel(x1: Tensor, x2: Tensor | None = None, depth: int = 1, activation: str = "relu",
               weight_variance: float = 1.0, bias_variance: float = 1.0) -> Tensor:
    """The infinite-width neural tangent kernel Θ(x, x') of the network of :func:`nngp_kernel` in the NTK
    parameterisation (seed 000 §6.1.8): Θ¹ = Σ¹ and Θ^{l+1} = Σ^{l+1} + σ_w² E[φ′(u)φ′(v)] Θ^l, (u, v) ~ N(0, Σ^l);
    E[relu′ relu′] = (π − θ)/(2π), E[erf′ erf′] = (4/π)/√((1 + 2Σ_xx)(1 + 2Σ_x'x') − 4Σ_xx'²).

    The empirical NTK of :func:`ntk_mlp` with the same arguments tends to this as the width grows (per
    output: the full ``(k, k)`` block tends to this times the identity).

    Returns:
        ``(n1, n2)``; arguments as :func:`nngp_kernel`.
    """
    return _kernels(x1, x2, depth, activation, weight_variance, bias_variance, "ntk_kernel")[1]


class _Erf(nn.Module):
    """erf elementwise: the activation of Williams' closed-form NNGP kernel."""

    def forward(self, input: Tensor) -> Tensor:
        return erf(input)


def ntk_mlp(sizes: Sequence[int], activation: str = "relu", weight_variance: float = 1.0,
            bias_variance: float = 1.0, dtype=None) -> nn.Sequential:
    """A fully connected network in the NTK parameterisation: ``Linear(parameterization="ntk")`` layers with
    σ_w = √weight_variance and σ_b = √bias_variance, ReLU or erf between them — the network whose infinite-width
    kernels :func:`nngp_kernel` and :func:`ntk_kernel` compute with ``depth = len(sizes) − 2`` and the same
    arguments.

    Example:
        >>> model = ntk_mlp([2, 1024, 1024, 1], "erf", weight_variance=2.0, bias_variance=0.1)
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"ntk_mlp: activation must be 'relu' or 'erf', got {activation!r}")
    if len(sizes) < 2:
        raise ValueError(f"ntk_mlp: sizes needs the input and output widths at least, got {list(sizes)}")
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i:
            layers.append(nn.ReLU() if activation == "relu" else _Erf())
        layers.append(Linear(fan_in, fan_out, dtype=dtype, parameterization="ntk",
                             sigma_w=math.sqrt(weight_variance), sigma_b=math.sqrt(bias_variance)))
    return nn.Sequential(*layers)


# ----------------------------------------------------------------------------- linearisation and gradient flow
class LinearizedModel(nn.Module):
    """f_lin(x; θ) = f(x; θ_0) + ∇_θ f(x; θ_0)·(θ − θ_0): the first-order Taylor model of ``model`` around its
    current parameters θ_0 (seed 000 §6.1.8), computed by one forward-mode pass (a jvp with tangent θ − θ_0).

    Its parameters θ start at θ_0 (copies: ``model`` itself is left alone) and train with any fukaku optimizer;
    gradient flow on ½‖f_lin(X) − y‖² follows :func:`gradient_flow_prediction` with the empirical NTK at θ_0
    exactly. θ_0 is kept as buffers ``initial.0``, ``initial.1``, … in parameter order. ``model`` is not a
    submodule (its parameters are θ_0, not trained), so ``train()``/``eval()`` of this module leave its mode alone.

    Example:
        >>> lin = LinearizedModel(ntk_mlp([2, 256, 1]))
        >>> opt = fk.optim.SGD(lin.parameters(), lr=0.1)
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        object.__setattr__(self, "model", model)  # not a submodule: its parameters are θ_0, not trained
        originals = _parameters(model)
        object.__setattr__(self, "_originals", originals)
        self.params = nn.ParameterList([nn.Parameter(p.detach().clone()) for p in originals])
        self.initial = nn.Module()
        for i, p in enumerate(originals):
            self.initial.register_buffer(str(i), p.detach().clone())

    def forward(self, input: Tensor) -> Tensor:
        initial = [self.initial._buffers[str(i)] for i in range(len(self._originals))]
        with forward_ad.dual_level():
            duals = [forward_ad.make_dual(p0, p - p0) for p0, p in zip(initial, self.params)]
            with _swapped(self.model, self._originals, duals):
                out = self.model(input)
            primal, tangent = forward_ad.unpack_dual(out)
            primal = primal.detach()
            return primal if tangent is None else primal + tangent


def linearize(model: nn.Module) -> LinearizedModel:
    """``LinearizedModel(model)``: the linearisation around ``model``'s current parameters, as a trainable module
    (``torch.func.linearize(f, x)`` is another thing: the output and jvp function of f at fixed inputs)."""
    return LinearizedModel(model)


def gradient_flow_prediction(kernel_train: Tensor, targets: Tensor, t: float, lr: float = 1.0,
                             f0_train: Tensor | None = None, kernel_test: Tensor | None = None,
                             f0_test: Tensor | None = None) -> Tensor:
    """The outputs after gradient flow for time t on ½‖f(X) − y‖² with learning rate η, by the NTK
    (seed 000 §6.1.8 as corrected by erratum C4):

        f_t(x) = f_0(x) + K(x, X) K(X, X)⁻¹ (I − e^{−η K(X, X) t}) (y − f_0(X)).

    With a constant kernel (the linearised model, or infinite width) this is exact; t steps of gradient descent
    with step η approach it as η → 0. K(X, X)⁻¹(I − e^{−ηKt}) is formed from the eigendecomposition of the
    symmetric K(X, X) as V diag((1 − e^{−ηλt})/λ) Vᵀ, whose λ → 0 limit ηt is taken where λ vanishes, so a
    singular kernel is fine.

    Args:
        kernel_train: K(X, X) ``(n, n)``, symmetric positive semi-definite.
        targets: y ``(n,)`` or ``(n, k)`` (each output column evolves under the same kernel).
        t: the time (the number of steps for gradient descent with step ``lr``); lr: η.
        f0_train: f_0(X), like ``targets``; default 0.
        kernel_test: K(x, X) ``(m, n)`` to predict at test points; default: predict at X itself.
        f0_test: f_0(x) ``(m,)`` or ``(m, k)``; default 0.

    Returns:
        f_t at the test points ``(m, …)``, or at X ``(n, …)`` without ``kernel_test``.
    """
    k = as_tensor(kernel_train)._data
    if k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise ValueError(f"gradient_flow_prediction: kernel_train must be square (n, n), got {k.shape}")
    n = k.shape[0]
    y = as_tensor(targets)._data
    if y.shape[0] != n:
        raise ValueError(f"gradient_flow_prediction: targets {y.shape} need n = {n} rows to match kernel_train")
    xp = array_module(k)
    dtype = k.dtype if k.dtype.kind == "f" else get_default_dtype().dtype
    y2 = y.reshape(n, -1).astype(dtype)
    f0 = xp.zeros_like(y2) if f0_train is None else as_tensor(f0_train)._data.reshape(n, -1).astype(dtype)
    lam, v = xp.linalg.eigh((k + k.T) / 2)
    decay = lr * t
    with_lam = -xp.expm1(-decay * lam) / xp.where(lam == 0, 1.0, lam)
    factor = xp.where(xp.abs(lam) * decay < 1e-12, decay, with_lam)  # (1 − e^{−ηλt})/λ → ηt as λ → 0
    coef = v @ (factor[:, None] * (v.T @ (y2 - f0)))  # K⁻¹(I − e^{−ηKt})(y − f0)
    if kernel_test is None:
        out = f0 + k @ coef
    else:
        kt = as_tensor(kernel_test)._data.astype(dtype)
        if kt.ndim != 2 or kt.shape[1] != n:
            raise ValueError(f"gradient_flow_prediction: kernel_test must be (m, {n}), got {kt.shape}")
        m = kt.shape[0]
        base = xp.zeros((m, y2.shape[1]), dtype) if f0_test is None else as_tensor(f0_test)._data.reshape(m, -1)
        out = base + kt @ coef
    return wrap(out.reshape(out.shape[:1] + y.shape[1:]).astype(dtype))
