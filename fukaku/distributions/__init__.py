"""Probability distributions with PyTorch's names and semantics: ``fukaku.distributions`` is
``torch.distributions``.

A distribution object holds its parameters as tensors and answers ``sample``, ``rsample``,
``log_prob``, ``cdf``/``icdf`` (where defined), ``entropy``, ``mean``, ``mode``, ``variance`` and
``stddev``; ``batch_shape`` is the shape of the batch of independent distributions it holds and
``event_shape`` the shape of one draw, so ``sample((n,))`` has shape ``(n, *batch_shape,
*event_shape)``. ``rsample`` draws by reparameterisation (a differentiable function of the parameters
and of parameter-free noise, seed 000 §6.5), so a loss on its draws backpropagates into the
parameters; ``sample`` draws outside the graph. Draws come from fukaku's default generator
(``fukaku.manual_seed`` makes them repeat), not from PyTorch's stream.

What is here, each in the file PyTorch uses for it:

- distributions: :class:`Normal`, :class:`Bernoulli` (``probs`` or ``logits``), :class:`Categorical`,
  :class:`OneHotCategorical` (and ``OneHotCategoricalStraightThrough``), :class:`MultivariateNormal`
  (``covariance_matrix``, ``precision_matrix`` or ``scale_tril``), :class:`Independent`,
  :class:`Uniform`, :class:`Gamma`, :class:`Beta`, :class:`Dirichlet`, :class:`RelaxedBernoulli`
  and :class:`RelaxedOneHotCategorical` (Concrete / Gumbel-softmax; their logit- and log-space
  cores ``relaxed_bernoulli.LogitRelaxedBernoulli`` and ``relaxed_categorical.ExpRelaxedCategorical``),
  :class:`TransformedDistribution`;
- ``transforms``: ``ExpTransform``, ``AffineTransform``, ``SigmoidTransform``, ``TanhTransform``,
  ``SoftmaxTransform``, ``ComposeTransform`` … with ``.inv`` and ``log_abs_det_jacobian``;
- ``constraints``: ``real``, ``positive``, ``simplex``, ``interval(a, b)`` … — with
  ``validate_args`` (on by default, as in PyTorch), a parameter outside its constraint or a value
  outside the support raises ValueError naming the distribution, the argument and the constraint;
- :func:`kl_divergence` and :func:`register_kl`, with closed forms for Normal, Bernoulli,
  Categorical, OneHotCategorical, MultivariateNormal, Independent, Uniform, Beta, Gamma, Dirichlet
  and TransformedDistribution pairs.

Gamma, Beta and Dirichlet ``rsample`` are differentiable by implicit reparameterisation (Figurnov et
al. 2018): the gradient of a Gamma(α) draw z is −(∂F/∂α)/p(z) with F the regularised incomplete gamma
function, to first order (as in PyTorch); Dirichlet and Beta draws are normalised Gamma draws.

Example::

    >>> import fukaku as fk
    >>> from fukaku.distributions import Normal, kl_divergence
    >>> mu = fk.zeros(2, requires_grad=True)
    >>> q = Normal(mu, fk.ones(2))
    >>> z = q.rsample()                                  # differentiable in mu
    >>> kl_divergence(q, Normal(0.0, 1.0)).sum().backward()
"""
from . import constraints, transforms
from .bernoulli import Bernoulli
from .beta import Beta
from .categorical import Categorical
from .dirichlet import Dirichlet
from .distribution import Distribution
from .gamma import Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .relaxed_bernoulli import RelaxedBernoulli
from .relaxed_categorical import RelaxedOneHotCategorical
from .transformed_distribution import TransformedDistribution
from .transforms import (AbsTransform, AffineTransform, ComposeTransform, ExpTransform, PowerTransform,
                         SigmoidTransform, SoftmaxTransform, TanhTransform, Transform, identity_transform)
from .uniform import Uniform

__all__ = ["AbsTransform", "AffineTransform", "Bernoulli", "Beta", "Categorical", "ComposeTransform", "Dirichlet",
           "Distribution", "ExpTransform", "Gamma", "Independent", "MultivariateNormal", "Normal", "OneHotCategorical", "OneHotCategoricalStraightThrough", "PowerTransform",
           "RelaxedBernoulli", "RelaxedOneHotCategorical", "SigmoidTransform", "SoftmaxTransform", "TanhTransform",
           "Transform", "TransformedDistribution", "Uniform", "constraints", "identity_transform", "kl_divergence",
           "register_kl", "transforms"]
