"""Automatic differentiation: reverse mode (backward, grad), forward mode (dual tensors, jvp),
function transforms, gradcheck and anomaly detection. See seed 000 §6.1.2."""
from . import forward_ad, functional
from .anomaly import detect_anomaly, set_detect_anomaly
from .engine import backward, grad
from .function import Function
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled

__all__ = ["Function", "backward", "grad", "forward_ad", "functional", "gradcheck", "gradgradcheck",
           "GradcheckError", "detect_anomaly", "set_detect_anomaly", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled"]
