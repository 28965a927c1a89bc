"""``fukaku.nn.functional``: stateless functions with ``torch.nn.functional``'s names, by family.

Every layer of :mod:`fukaku.nn` is a thin Module over one of these functions: the Module holds the
parameters and buffers, the function checks its arguments and calls the graph nodes of
:mod:`fukaku.ops`. One file per family, as in the capability map: ``activation``, ``linear``,
``dropout``, ``normalization``, ``sparse``, ``loss``, ``distance``.
"""
from ...ops.elementwise import sigmoid, tanh
from ...ops.shape import pad
from .activation import elu, gelu, leaky_relu, log_softmax, prelu, relu, silu, softmax, softplus, step
from .distance import cosine_similarity, pairwise_distance
from .dropout import dropout
from .linear import linear
from .loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, hinge_embedding_loss,
                   huber_loss, kl_div, l1_loss, mse_loss, multi_margin_loss, nll_loss)
from .normalization import batch_norm, layer_norm
from .sparse import embedding, one_hot

__all__ = ["linear", "step", "prelu", "dropout", "batch_norm", "layer_norm", "embedding",
           "elu", "gelu", "leaky_relu", "log_softmax", "one_hot", "relu", "silu", "softmax", "softplus",
           "sigmoid", "tanh", "pad", "cosine_similarity", "pairwise_distance",
           "mse_loss", "l1_loss", "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "cross_entropy", "nll_loss", "kl_div", "multi_margin_loss", "hinge_embedding_loss"]
