"""Argument checks shared across fukaku, so that every API refuses a bad count with the same words."""
from __future__ import annotations

import numpy as np


def check_int(value, name: str, where: str, minimum: int = 1, why: str = "") -> int:
    """``value`` as an int; a ValueError naming ``where`` and ``name`` for a bool, a non-integer or a value below
    ``minimum`` (``why``, when given, is said after the requirement: what the number counts).

    Examples:
        >>> check_int(3, "epochs", "DBN.pretrain")
        3
        >>> check_int(0, "epochs", "DBN.pretrain")
        Traceback (most recent call last):
        ValueError: DBN.pretrain: epochs must be a positive integer, got 0
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        need = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{where}: {name} must be {need}{why}, got {value!r}")
    return int(value)
