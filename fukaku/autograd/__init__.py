"""Automatic differentiation: reverse mode (backward, grad), forward mode (dual tensors, jvp),
function transforms, gradcheck and anomaly detection. See seed 000 §6.1.2.

Reading order: ``scalar`` (the whole reverse-mode idea on Python floats, ``scalar.Value``), then
``function`` (an op: forward + vjp + jvp) and ``engine`` (the same backward loop on tensors).
"""
from . import forward_ad, functional, scalar
from .anomaly import detect_anomaly, set_detect_anomaly
from .engine import backward, grad
from .function import Function
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled

__all__ = ["Function", "backward", "grad", "forward_ad", "functional", "scalar", "gradcheck",
           "gradgradcheck", "GradcheckError", "detect_anomaly", "set_detect_anomaly", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled"]
