"""Optimizers and learning-rate schedules with ``torch.optim``'s names, options and state dicts.

Gradient descent and its variants (seed 003; seed 004 §3.6.1): :class:`SGD` (momentum, Nesterov),
:class:`Adagrad`, :class:`Adadelta`, :class:`RMSprop`, :class:`Adam` and :class:`AdamW`;
schedules in :mod:`fukaku.optim.lr_scheduler`.
"""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "lr_scheduler"]
