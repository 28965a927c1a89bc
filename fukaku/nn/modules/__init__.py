"""The layers of :mod:`fukaku.nn`, one file per family under PyTorch's file names.

``fukaku.nn.modules.linear.Linear`` is ``fukaku.nn.Linear``, as ``torch.nn.modules.linear.Linear``
is ``torch.nn.Linear`` — programs that name the full path (allowlists for loading checkpoints,
isinstance checks) work unchanged.
"""
from .activation import (ELU, GELU, LeakyReLU, LogSoftmax, PReLU, ReLU, Sigmoid, SiLU, Softmax, Softplus, Step, Swish,
                         Tanh)
from .batchnorm import BatchNorm1d
from .container import ModuleDict, ModuleList, Sequential
from .dropout import Dropout
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HingeEmbeddingLoss, HuberLoss, KLDivLoss, L1Loss,
                   MSELoss, MultiMarginLoss, NLLLoss)
from .module import Module
from .normalization import LayerNorm
from .residual import Residual
from .sparse import Embedding

__all__ = ["Module", "Sequential", "ModuleList", "ModuleDict",
           "Linear", "Identity", "Flatten", "Unflatten",
           "Step", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "PReLU", "ELU", "SiLU", "Swish", "GELU", "Softplus",
           "Softmax", "LogSoftmax",
           "Dropout", "BatchNorm1d", "LayerNorm", "Embedding", "Residual",
           "MSELoss", "L1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss", "KLDivLoss",
           "MultiMarginLoss", "HingeEmbeddingLoss"]
