"""scikit-learn's bundled 8×8 handwritten digits (1,797 images, 10 classes; UCI optdigits test
set), shipped with scikit-learn, so no download. scikit-learn is an optional extra."""
from __future__ import annotations

import numpy as np

from ._common import out


def digits(flatten: bool = True, normalize: bool = True, return_tensors: bool = True):
    """The 8×8 digits.

    Args:
        flatten: images ``(1797, 64)``; False gives ``(1797, 8, 8)``.
        normalize: float32 pixels in [0, 1] (the stored 0–16 counts / 16); False keeps 0–16 as float32.
        return_tensors: fukaku Tensors (True) or NumPy arrays.

    Returns:
        ``(images, labels (1797,) int64)``.

    Raises:
        ImportError: scikit-learn is not installed (``pip install 'fukaku[datasets]'`` or
            ``pip install scikit-learn``).
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise ImportError("digits() needs scikit-learn, which ships the 8×8 digits; install it with "
                          "`pip install scikit-learn` (or the fukaku extra: pip install 'fukaku[datasets]')") from e
    bunch = load_digits()
    x = bunch.images.astype(np.float32)  # (1797, 8, 8), values 0..16
    if normalize:
        x /= 16.0
    if flatten:
        x = x.reshape(len(x), -1)
    return out((x, bunch.target.astype(np.int64)), return_tensors)
