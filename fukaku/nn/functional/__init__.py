"""``fukaku.nn.functional``: stateless functions with ``torch.nn.functional``'s names, by family.

Every layer of :mod:`fukaku.nn` is a thin Module over one of these functions: the Module holds the
parameters and buffers, the function checks its arguments and calls the graph nodes of
:mod:`fukaku.ops`. One file per family, as in the capability map: ``activation``, ``linear``,
``dropout``, ``normalization``, ``sparse``, ``loss``, ``distance``.
"""
from ...ops.elementwise import sigmoid, tanh
from ...ops.shape import pad
from .activation import (celu, celu_, elu, elu_, gelu, glu, gumbel_softmax, hardsigmoid, hardswish, hardtanh, hardtanh_,
                         leaky_relu, leaky_relu_, log_softmax, logsigmoid, mish, prelu, relu, relu6, relu_, selu, selu_,
                         silu, softmax, softmin, softplus, softsign, step, tanhshrink, threshold, threshold_)
from .attention import multi_head_attention_forward, scaled_dot_product_attention
from .conv import conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d, fold, unfold
from .distance import cosine_similarity, pairwise_distance
from .dropout import dropout, dropout1d, dropout2d, dropout3d
from .linear import bilinear, linear
from .loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cosine_embedding_loss, cross_entropy,
                   gaussian_nll_loss, hinge_embedding_loss, huber_loss, kl_div, l1_loss, margin_ranking_loss, mse_loss,
                   multi_margin_loss, nll_loss, poisson_nll_loss, smooth_l1_loss, soft_margin_loss, triplet_margin_loss)
from .normalization import (batch_norm, group_norm, instance_norm, layer_norm, local_response_norm,
                            normalize)
from .pooling import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d, adaptive_max_pool1d_with_indices,
                      adaptive_max_pool2d, adaptive_max_pool2d_with_indices, avg_pool1d, avg_pool2d, max_pool1d,
                      max_pool1d_with_indices, max_pool2d, max_pool2d_with_indices, max_unpool1d, max_unpool2d)
from .sparse import embedding, embedding_bag, one_hot
from .vision import (channel_shuffle, interpolate, pixel_shuffle, pixel_unshuffle, upsample, upsample_bilinear,
                     upsample_nearest)

__all__ = ["linear", "bilinear", "step", "prelu", "dropout", "batch_norm", "layer_norm", "normalize", "embedding",
           "embedding_bag", "one_hot",
           "relu", "relu6", "hardtanh", "hardsigmoid", "hardswish", "leaky_relu", "elu", "selu", "celu", "silu", "mish",
           "gelu", "softplus", "softsign", "logsigmoid", "tanhshrink", "threshold", "glu", "sigmoid", "tanh",
           "softmax", "softmin", "log_softmax", "gumbel_softmax",
           "relu_", "hardtanh_", "leaky_relu_", "elu_", "selu_", "celu_", "threshold_",
           "pad", "cosine_similarity", "pairwise_distance",
           "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "poisson_nll_loss", "gaussian_nll_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "soft_margin_loss", "cross_entropy", "nll_loss",
           "kl_div", "multi_margin_loss", "hinge_embedding_loss", "margin_ranking_loss", "cosine_embedding_loss",
           "triplet_margin_loss",
           "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "unfold", "fold",
           "dropout1d", "dropout2d", "dropout3d", "group_norm", "instance_norm", "local_response_norm",
           "interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle", "pixel_unshuffle",
           "channel_shuffle",
           "max_pool1d", "max_pool2d", "max_pool1d_with_indices", "max_pool2d_with_indices", "avg_pool1d", "avg_pool2d",
           "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices", "max_unpool1d", "max_unpool2d",
           "scaled_dot_product_attention", "multi_head_attention_forward"]
