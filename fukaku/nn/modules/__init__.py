"""The layers of :mod:`fukaku.nn`, one file per family under PyTorch's file names.

``fukaku.nn.modules.linear.Linear`` is ``fukaku.nn.Linear``, as ``torch.nn.modules.linear.Linear``
is ``torch.nn.Linear`` — programs that name the full path (allowlists for loading checkpoints,
isinstance checks) work unchanged.
"""
from .activation import (CELU, ELU, GELU, GLU, SELU, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid,
                         LogSoftmax, Mish, PReLU, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Softmin, Softplus, Softsign,
                         Step, Swish, Tanh, Tanhshrink, Threshold)
from .batchnorm import BatchNorm1d
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .distance import CosineSimilarity, PairwiseDistance
from .dropout import Dropout
from .flatten import Flatten, Unflatten
from .linear import Bilinear, Identity, Linear
from .loss import (BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, CrossEntropyLoss, GaussianNLLLoss,
                   HingeEmbeddingLoss, HuberLoss, KLDivLoss, L1Loss, MarginRankingLoss, MSELoss, MultiMarginLoss,
                   NLLLoss, PoissonNLLLoss, SmoothL1Loss, SoftMarginLoss, TripletMarginLoss)
from .module import Module
from .normalization import LayerNorm
from .residual import Residual
from .sparse import Embedding, EmbeddingBag

__all__ = ["Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
           "Linear", "Bilinear", "Identity", "Flatten", "Unflatten",
           "Step", "Sigmoid", "Tanh", "ReLU", "ReLU6", "Hardtanh", "Hardsigmoid", "Hardswish", "LeakyReLU", "PReLU",
           "ELU", "SELU", "CELU", "SiLU", "Swish", "Mish", "GELU", "Softplus", "Softsign", "LogSigmoid", "Tanhshrink",
           "Threshold", "GLU", "Softmax", "Softmin", "LogSoftmax",
           "PairwiseDistance", "CosineSimilarity", "Dropout", "BatchNorm1d", "LayerNorm", "Embedding", "EmbeddingBag", "Residual",
           "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "PoissonNLLLoss", "GaussianNLLLoss", "BCELoss",
           "BCEWithLogitsLoss", "SoftMarginLoss", "CrossEntropyLoss", "NLLLoss", "KLDivLoss", "MultiMarginLoss",
           "HingeEmbeddingLoss", "MarginRankingLoss", "CosineEmbeddingLoss", "TripletMarginLoss"]
