"""``fukaku.nn.functional``: stateless functions with ``torch.nn.functional``'s names."""
from ..ops.activation import elu, gelu, leaky_relu, log_softmax, one_hot, relu, silu, softmax, softplus
from ..ops.elementwise import sigmoid, tanh
from ..ops.shape import pad

__all__ = ["elu", "gelu", "leaky_relu", "log_softmax", "one_hot", "relu", "silu", "softmax", "softplus",
           "sigmoid", "tanh", "pad"]
