"""The affine map y = x Wᵀ + b as one graph node (seed 000 §6.1.2)."""
from __future__ import annotations

from ..autograd.function import Function
from ..backends import array_module
from ._util import in_float32_if_bfloat16
from .linalg import matmul
from .shape import broadcast_to, reshape


# ----------------------------------------------------------------------------- linear (seed 000 §6.1.2)
def _affine(a, w, b=None):
    """a Wᵀ (+ b) on arrays."""
    xp = array_module(a, w)
    if a.ndim > 2 and a.flags.c_contiguous:  # (…, in) as one matrix: one GEMM, not a batch of small ones
        out = xp.matmul(a.reshape(-1, a.shape[-1]), w.T).reshape(a.shape[:-1] + (w.shape[0],))
    else:
        out = xp.matmul(a, w.T)
    if b is not None:
        out += b  # out is a fresh array
    return out


class Affine(Function):
    """The node of :func:`fukaku.nn.functional.linear`: y = x Wᵀ (+ b) as one node of the graph (a composition of transpose, matmul and add would
    record three, and the per-node cost dominates small layers).

    vjp: ∂L/∂x = G W, ∂L/∂W = Gᵀ x (over all leading dims), ∂L/∂b = Σ G (seed 000 §6.1.2:
    ∇_W L = δ hᵀ, ∇_b L = δ). jvp: ẋ Wᵀ + x Ẇᵀ + ḃ. Both are written with tensor ops, so they
    are differentiable again.
    """

    def forward(self, x, w, b=None):
        self.save(x, w)
        arrays = (x._data, w._data) if b is None else (x._data, w._data, b._data)
        # bfloat16 runs in float32, the bias added before the one rounding, as torch's addmm
        return in_float32_if_bfloat16(_affine, *arrays)

    def vjp(self, grad):
        x, w = self.saved
        needs = self.needs_input_grad
        gx = None
        if needs[0]:
            gx = matmul(grad, w) if grad.ndim <= 2 else reshape(matmul(reshape(grad, (-1, w.shape[0])), w),
                                                                 grad.shape[:-1] + (w.shape[1],))
        gw = None
        if needs[1]:
            g2 = grad if grad.ndim == 2 else reshape(grad, (-1, w.shape[0]))
            x2 = x if x.ndim == 2 else reshape(x, (-1, w.shape[1]))
            gw = matmul(g2.mT, x2)
        if len(needs) == 2:
            return gx, gw
        gb = None
        if needs[2]:
            gb = grad if grad.ndim == 1 else grad.sum(tuple(range(grad.ndim - 1)))
        return gx, gw, gb

    def jvp(self, dx, dw, db=None):
        x, w = self.saved
        out = matmul(dx, w.mT) if dx is not None else None
        if dw is not None:
            term = matmul(x, dw.mT)
            out = term if out is None else out + term
        if db is not None:
            out = broadcast_to(db, x.shape[:-1] + (w.shape[0],)) if out is None else out + db
        return out
