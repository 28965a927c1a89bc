"""A deep network as a chain of Hamiltonians (seed 002 ch. 5): binary hidden layers h_1, …, h_L and a
binary output d, each layer in the external field of the one below, H_k = −(𝕁_{k−1} h_{k−1} + J_{k−1})·h_k
(h_0 = x). Given h_{k−1} the units of h_k are independent with p(h_k,j = 1) = σ(β (𝕁h + J)_j).

The exact output ⟨d⟩ averages over every hidden configuration. The mean-field approximation replaces each
layer by its mean, ⟨h_k⟩ = σ(𝕁_{k−1}⟨h_{k−1}⟩ + J_{k−1}): exactly an MLP with sigmoid activations. Here
both are computed — the exact one by enumerating the 2^H states of each (small) hidden layer, vectorised
as products of transition matrices — so the gap between them can be measured.
"""
from __future__ import annotations

from collections.abc import Sequence

from ..models.energy.boltzmann import binary_states
from ..nn.functional import logsigmoid, sigmoid
from ..nn.modules.linear import Linear
from ..ops.elementwise import exp
from ..tensor import Tensor, as_tensor
from .boltzmann import float_tensor

__all__ = ["mean_field_forward", "exact_forward", "MAX_HIDDEN_STATES"]

MAX_HIDDEN_STATES = 2 ** 12   # at most this many configurations in one hidden layer (12 units)


def _params(layer) -> tuple[Tensor, Tensor]:
    if isinstance(layer, Linear):
        if layer.bias is None:
            raise ValueError("mean_field: each Linear layer needs a bias (J in the Hamiltonian)")
        return layer.weight, layer.bias
    weight, bias = layer
    return weight, bias


def mean_field_forward(x, layers: Sequence) -> Tensor:
    """The mean-field output: ⟨h_k⟩ = σ(𝕁_{k−1}⟨h_{k−1}⟩ + J_{k−1}) layer after layer, ⟨d⟩ last — an MLP
    with sigmoids (differentiable in the input and the parameters).

    Args:
        x: the input, shape (N, in_features).
        layers: the Hamiltonians' couplings as ``nn.Linear`` modules (or ``(weight, bias)`` pairs in the
            same layout, weight (out, in)), first hidden layer first, the output layer last.

    Shape:
        (N, out_features of the last layer).
    """
    h = float_tensor(x)
    for layer in layers:
        weight, bias = _params(layer)
        h = sigmoid(h @ weight.T + bias)
    return h


def exact_forward(x, layers: Sequence) -> Tensor:
    """The exact output ⟨d⟩ = Σ_{h_1…h_L} p(h_1|x) … p(h_L|h_{L−1}) σ(𝕁_L h_L + J_L), by enumeration.

    The distribution over the 2^{H_1} states of the first hidden layer is propagated through the
    2^{H_k} × 2^{H_{k+1}} transition matrices of the next ones (which do not depend on x), then the output
    layer's mean is averaged over the last: a few matrix products, differentiable like the mean-field one.

    Args:
        x, layers: as in :func:`mean_field_forward` (at least two layers: one hidden layer and the
            output); each hidden layer has at most 12 units.

    Shape:
        (N, out_features of the last layer).
    """
    params = [_params(layer) for layer in layers]
    if len(params) < 2:
        raise ValueError("exact_forward: needs at least one hidden layer and an output layer (2 layers), "
                         f"got {len(params)}; with no hidden layer exact and mean-field are the same σ(𝕁x + J)")
    hidden = [w.shape[0] for w, _ in params[:-1]]
    if max(2 ** h for h in hidden) > MAX_HIDDEN_STATES:
        raise ValueError(f"exact_forward: hidden layers of {hidden} units; enumeration needs ≤ 12 units "
                         "per hidden layer (use mean_field_forward for wider ones)")
    xt = float_tensor(x)
    dtype = params[0][0].dtype
    states = [as_tensor(binary_states(h)).to(dtype) for h in hidden]      # (2^H, H), one row per state

    def log_conditional(field: Tensor, s: Tensor) -> Tensor:
        """log p(h = s | field) for every row of ``field`` (…, H) and every state s: (…, 2^H)."""
        return logsigmoid(field) @ s.T + logsigmoid(-field) @ (1 - s).T

    weight, bias = params[0]
    prob = exp(log_conditional(xt @ weight.T + bias, states[0]))           # (N, 2^{H_1})
    for k in range(1, len(hidden)):
        weight, bias = params[k]
        transition = exp(log_conditional(states[k - 1] @ weight.T + bias, states[k]))   # (2^{H_k}, 2^{H_k+1})
        prob = prob @ transition
    weight, bias = params[-1]
    return prob @ sigmoid(states[-1] @ weight.T + bias)
