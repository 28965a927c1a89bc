"""Optimizers and learning-rate schedules with ``torch.optim``'s names, options and state dicts.

Gradient descent and its variants (seed 003; seed 004 §3.6.1): :class:`SGD` (momentum, Nesterov),
:class:`Adagrad`, :class:`Adadelta`, :class:`RMSprop`, :class:`Adam` and :class:`AdamW`, and the
Adam variants :class:`Adamax`, :class:`NAdam` and :class:`RAdam`; the quasi-Newton :class:`LBFGS`
(``step(closure)``, optional strong-Wolfe line search); schedules in :mod:`fukaku.optim.lr_scheduler`.
"""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "LBFGS",
           "lr_scheduler"]
