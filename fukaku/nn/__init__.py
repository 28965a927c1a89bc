"""Neural-network building blocks with ``torch.nn``'s names (seed 000 §6.1.1–6.1.4)."""
from . import functional, init, utils
from .activation import (ELU, GELU, PReLU, ReLU, LeakyReLU, LogSoftmax, Sigmoid, SiLU, Softmax, Softplus, Step,
                         Swish, Tanh)
from .containers import ModuleDict, ModuleList, Sequential
from .dropout import Dropout
from .linear import Flatten, Identity, Linear, Unflatten
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HingeEmbeddingLoss, HuberLoss, KLDivLoss, L1Loss,
                   MSELoss, MultiMarginLoss, NLLLoss)
from .module import Module
from .normalization import BatchNorm1d, LayerNorm
from .parameter import Parameter
from .residual import Residual
from .sparse import Embedding

__all__ = ["functional", "init", "utils", "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict",
           "Linear", "Identity", "Flatten", "Unflatten",
           "Step", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "PReLU", "ELU", "SiLU", "Swish", "GELU", "Softplus",
           "Softmax", "LogSoftmax",
           "Dropout", "BatchNorm1d", "LayerNorm", "Embedding", "Residual",
           "MSELoss", "L1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss", "KLDivLoss",
           "MultiMarginLoss", "HingeEmbeddingLoss"]
