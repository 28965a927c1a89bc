"""Kullback–Leibler divergence KL(p ‖ q) with closed forms registered per pair of distribution types, as
``torch.distributions.kl``.

``kl_divergence(p, q)`` looks up the most specific function registered with :func:`register_kl` for
``(type(p), type(q))`` (by their method resolution orders; a tie between two candidates is warned about
and the first by ``p``'s order is used) and raises NotImplementedError when none fits.

KL(p ‖ q) = E_p[log p(x) − log q(x)] ≥ 0, zero only when p = q; it is the term of the VAE's ELBO that
keeps the encoder's posterior close to the prior (seed 000 §6.5).
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from functools import total_ordering

from ..ops.activation import softplus
from ..linalg import solve
from ..ops.elementwise import digamma, lgamma, log, where
from ..tensor import Tensor, full_like
from ..ops.shape import broadcast_shapes
from .bernoulli import Bernoulli
from .beta import Beta
from .categorical import Categorical
from .dirichlet import Dirichlet
from .distribution import Distribution
from .gamma import Gamma
from .independent import Independent
from .multivariate_normal import MultivariateNormal, batch_mahalanobis, half_log_det
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .transformed_distribution import TransformedDistribution
from .uniform import Uniform
from .utils import sum_rightmost

__all__ = ["register_kl", "kl_divergence"]

_KL_REGISTRY: dict[tuple[type, type], Callable] = {}
_KL_MEMOIZE: dict[tuple[type, type], Callable] = {}


def register_kl(type_p: type, type_q: type) -> Callable[[Callable], Callable]:
    """Decorator: register ``fn(p, q)`` as KL(p ‖ q) for ``p`` an instance of ``type_p`` and ``q`` of ``type_q``.

    Example::

        @register_kl(Normal, Normal)
        def kl_normal_normal(p, q):
            ...
    """
    for t in (type_p, type_q):
        if not (isinstance(t, type) and issubclass(t, Distribution)):
            raise TypeError(f"register_kl: expected a subclass of Distribution, got {t!r}")

    def decorator(fn: Callable) -> Callable:
        _KL_REGISTRY[type_p, type_q] = fn
        _KL_MEMOIZE.clear()  # a new registration may be more specific than a remembered choice
        return fn

    return decorator


@total_ordering
class _Match:
    """A registered pair, ordered by how close each type is to the query's (its MRO position)."""

    def __init__(self, *types: type) -> None:
        self.types = types

    def __eq__(self, other) -> bool:
        return self.types == other.types

    def __le__(self, other) -> bool:
        for x, y in zip(self.types, other.types):
            if not issubclass(x, y):
                return False
            if x is not y:
                break
        return True


def _dispatch_kl(type_p: type, type_q: type) -> Callable | None:
    """The most specific registered function for the pair, or None."""
    matches = [(p, q) for p, q in _KL_REGISTRY if issubclass(type_p, p) and issubclass(type_q, q)]
    if not matches:
        return None
    left_p, left_q = min(_Match(*m) for m in matches).types
    right_q, right_p = min(_Match(q, p) for p, q in matches).types
    left, right = _KL_REGISTRY[left_p, left_q], _KL_REGISTRY[right_p, right_q]
    if left is not right:
        warnings.warn(f"Ambiguous kl_divergence({type_p.__name__}, {type_q.__name__}). Please register_kl"
                      f"({left_p.__name__}, {right_q.__name__})", RuntimeWarning, stacklevel=3)
    return left


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p ‖ q), of the batch shape of ``p`` and ``q`` broadcast.

    Raises:
        NotImplementedError: no closed form is registered for the pair of types.

    Example::

        >>> kl_divergence(Normal(0.0, 1.0), Normal(1.0, 1.0))
        tensor(0.5000)
    """
    key = (type(p), type(q))
    try:
        fn = _KL_MEMOIZE[key]
    except KeyError:
        fn = _KL_MEMOIZE[key] = _dispatch_kl(*key)
    if fn is None:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type {type(p).__name__} and "
                                  f"q type {type(q).__name__}; register one with register_kl")
    return fn(p, q)


def _infinite_like(t: Tensor) -> Tensor:
    return full_like(t, math.inf)


# ----------------------------------------------------------------------------- closed forms
@register_kl(Normal, Normal)
def _kl_normal_normal(p: Normal, q: Normal) -> Tensor:
    """½(σp²/σq² + (μp − μq)²/σq² − 1 − log σp²/σq²)."""
    var_ratio = (p.scale / q.scale).pow(2)
    t1 = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + t1 - 1 - log(var_ratio))


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    """p log(p/q) + (1 − p) log((1 − p)/(1 − q)), in logits; +inf where q puts no mass on p's outcome."""
    t1 = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    t1 = where(p.probs == 0, 0 * t1, where(q.probs == 0, _infinite_like(t1), t1))
    t2 = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    t2 = where(p.probs == 1, 0 * t2, where(q.probs == 1, _infinite_like(t2), t2))
    return t1 + t2


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p: Categorical, q: Categorical) -> Tensor:
    """Σᵢ pᵢ (log pᵢ − log qᵢ): +inf where qᵢ = 0 < pᵢ, and terms with pᵢ = 0 count 0."""
    t = p.probs * (p.logits - q.logits)
    p_zero, q_zero = (p.probs == 0).expand_as(t), (q.probs == 0).expand_as(t)
    t = where(p_zero, 0 * t, where(q_zero, _infinite_like(t), t))
    return t.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical_onehotcategorical(p: OneHotCategorical, q: OneHotCategorical) -> Tensor:
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Independent, Independent)
def _kl_independent_independent(p: Independent, q: Independent) -> Tensor:
    """The base distributions' KL summed over the reinterpreted dims (which must agree)."""
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError(f"KL between Independent distributions with different reinterpreted_batch_ndims "
                                  f"({p.reinterpreted_batch_ndims} and {q.reinterpreted_batch_ndims})")
    return sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p: Uniform, q: Uniform) -> Tensor:
    """log((q.high − q.low)/(p.high − p.low)), +inf unless p's interval lies inside q's."""
    result = log((q.high - q.low) / (p.high - p.low))
    outside = (q.low > p.low) | (q.high < p.high)
    return where(outside, _infinite_like(result), result)



@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_multivariatenormal_multivariatenormal(p: MultivariateNormal, q: MultivariateNormal) -> Tensor:
    """½(tr(Σq⁻¹Σp) + (μq − μp)ᵀΣq⁻¹(μq − μp) − n + log det Σq − log det Σp), from the Cholesky factors:
    tr(Σq⁻¹Σp) = ‖Lq⁻¹Lp‖²_F."""
    if p.event_shape != q.event_shape:
        raise ValueError(f"KL-divergence between two MultivariateNormals with different event shapes "
                         f"({tuple(p.event_shape)} and {tuple(q.event_shape)}) cannot be computed")
    lp, lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    n = p.event_shape[0]
    batch = tuple(broadcast_shapes(tuple(lq.shape[:-2]), tuple(lp.shape[:-2])))
    ratio = solve(lq.tril().expand(batch + (n, n)), lp.expand(batch + (n, n)))
    trace = (ratio * ratio).sum((-2, -1))
    mahalanobis = batch_mahalanobis(lq, q.loc - p.loc)
    return half_log_det(lq) - half_log_det(lp) + 0.5 * (trace + mahalanobis - n)


@register_kl(Beta, Beta)
def _kl_beta_beta(p: Beta, q: Beta) -> Tensor:
    """log B(αq, βq) − log B(αp, βp) + (αp − αq)ψ(αp) + (βp − βq)ψ(βp) + (αq − αp + βq − βp)ψ(αp + βp)."""
    a1, b1, a2, b2 = p.concentration1, p.concentration0, q.concentration1, q.concentration0
    sum1, sum2 = a1 + b1, a2 + b2
    t1 = lgamma(a2) + lgamma(b2) + lgamma(sum1)
    t2 = lgamma(a1) + lgamma(b1) + lgamma(sum2)
    return t1 - t2 + (a1 - a2) * digamma(a1) + (b1 - b2) * digamma(b1) + (sum2 - sum1) * digamma(sum1)


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p: Gamma, q: Gamma) -> Tensor:
    """αq log(βp/βq) + log Γ(αq) − log Γ(αp) + (αp − αq)ψ(αp) + (βq − βp)αp/βp."""
    t1 = q.concentration * log(p.rate / q.rate)
    t2 = lgamma(q.concentration) - lgamma(p.concentration)
    t3 = (p.concentration - q.concentration) * digamma(p.concentration)
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p: Dirichlet, q: Dirichlet) -> Tensor:
    """log Γ(αp₀) − log Γ(αq₀) − Σᵢ(log Γ(αpᵢ) − log Γ(αqᵢ)) + Σᵢ(αpᵢ − αqᵢ)(ψ(αpᵢ) − ψ(αp₀))."""
    cp, cq = p.concentration, q.concentration
    sum_p, sum_q = cp.sum(-1), cq.sum(-1)
    t1 = lgamma(sum_p) - lgamma(sum_q)
    t2 = (lgamma(cp) - lgamma(cq)).sum(-1)
    t3 = ((cp - cq) * (digamma(cp) - digamma(sum_p).unsqueeze(-1))).sum(-1)
    return t1 - t2 + t3


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p: TransformedDistribution, q: TransformedDistribution) -> Tensor:
    """KL is invariant under a shared bijection: the KL of the base distributions, when the transforms
    and event shapes agree."""
    if p.transforms != q.transforms:
        raise NotImplementedError("KL between TransformedDistributions with different transforms is not implemented")
    if p.event_shape != q.event_shape:
        raise NotImplementedError("KL between TransformedDistributions with different event shapes is not implemented")
    return kl_divergence(p.base_dist, q.base_dist)
