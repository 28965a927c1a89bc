"""The gamma distribution Gamma(concentration α, rate β), as ``torch.distributions.Gamma``."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..autograd import forward_ad, is_grad_enabled
from ..ops import _gamma
from ..ops.elementwise import digamma, lgamma, log, xlogy
from ..tensor import Size, Tensor, default_generator, wrap
from . import constraints
from .distribution import Distribution
from .utils import batch_shape_of, broadcast_all

__all__ = ["Gamma"]


def _differentiated(x: Tensor) -> bool:
    """Whether a derivative with respect to ``x`` is being taken: reverse mode (it requires grad, with
    grad mode on) or forward mode (it carries a tangent)."""
    return (x.requires_grad and is_grad_enabled()) or forward_ad.unpack_dual(x).tangent is not None


def _first_order(value, tangents: list[tuple[Tensor, object]]) -> Tensor:
    """A tensor equal to the array ``value`` whose first derivative with respect to each tensor ``x`` of
    ``tangents`` is the array ``d`` paired with it: ``value + Σ d·(x − x.detach())`` (the added terms
    are exactly 0, so the value is unchanged). Gradients and tangents flow; second derivatives of the
    implicit part are 0 (PyTorch does not give them either)."""
    out = wrap(value)
    for x, d in tangents:
        if _differentiated(x):
            out = out + wrap(d.astype(value.dtype, copy=False)) * (x - x.detach())
    return out


def standard_gamma(concentration: Tensor) -> Tensor:
    """One Gamma(α, 1) draw per entry of ``concentration``, from fukaku's default generator, differentiable
    in α by implicit reparameterisation: dz/dα = −(∂P(α, z)/∂α) / p(z; α), P the regularised incomplete
    gamma function (Figurnov, Mohamed and Mnih 2018). Draws are at least the dtype's ``tiny``."""
    alpha = concentration.detach().numpy()
    tiny = dtypes.finfo(concentration.dtype).tiny
    z = np.asarray(default_generator.standard_gamma(alpha.astype(np.float64))).astype(alpha.dtype).clip(min=tiny)
    if not _differentiated(concentration):  # sample(): no gradient to prepare
        return wrap(z)
    return _first_order(z, [(concentration, _gamma.standard_gamma_grad(alpha, z))])


class Gamma(Distribution):
    """The gamma distribution with shape ``concentration`` α > 0 and ``rate`` β > 0: density
    β^α x^(α−1) e^(−βx) / Γ(α) on x > 0, mean α/β, variance α/β².

    Args:
        concentration: α, the shape.
        rate: β, the inverse scale.
        validate_args: see :class:`Distribution`.

    ``rsample`` is differentiable in α (implicit reparameterisation, first order) and in β (z/β).

    Example::

        >>> Gamma(fukaku.tensor(2.0), fukaku.tensor(1.0)).log_prob(fukaku.tensor(1.0))   # log e⁻¹
        tensor(-1.)
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration: Tensor | float, rate: Tensor | float, validate_args: bool | None = None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(batch_shape_of(self.concentration, concentration, rate), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Gamma:
        new = self._get_checked_instance(Gamma, _instance)
        batch_shape = Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        return self._expanded(new, batch_shape)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=Size()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        c, r = self.concentration, self.rate
        return xlogy(c, r) + xlogy(c - 1, value) - r * value - lgamma(c)

    def cdf(self, value: Tensor) -> Tensor:
        """P(α, βx), the regularised incomplete gamma function; differentiable to first order in x, β and α
        (∂P/∂α by :func:`fukaku.ops._gamma.gammainc_grad_a`)."""
        if self._validate_args:
            self._validate_sample(value)
        x = self.rate * value
        c = self.concentration.expand(x.shape)
        a, xv = c.detach().numpy().astype(np.float64), x.detach().numpy().astype(np.float64)
        inside = xv > 0
        safe = np.where(inside, xv, 1.0)
        density = np.where(inside, np.exp((a - 1) * np.log(safe) - safe - _gamma.lgamma(a)), 0.0)  # p(βx; α)
        tangents = [(x, density)]
        if _differentiated(c):
            tangents.append((c, np.where(inside, _gamma.gammainc_grad_a(a, safe), 0.0)))   # no 0/0 where p underflows
        return _first_order(_gamma.gammainc(a, xv).astype(x.detach().numpy().dtype), tangents)

    def entropy(self) -> Tensor:
        c = self.concentration
        return c - log(self.rate) + lgamma(c) + (1.0 - c) * digamma(c)
