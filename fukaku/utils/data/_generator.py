"""Which NumPy generator a sampler or split draws from.

fukaku's random numbers come from one NumPy ``Generator`` (:func:`fukaku.default_generator`,
reseeded by :func:`fukaku.manual_seed`). Data utilities accept ``generator=`` as that kind of
``Generator``, or an int seed (a private generator seeded once, so successive epochs differ but a
run repeats), or ``None``: draw from fukaku's default generator *at the time of drawing*, so
``fukaku.manual_seed`` called after building a DataLoader still makes its shuffles repeatable.
"""
from __future__ import annotations

import numbers

import numpy as np

from ...tensor import default_generator

GeneratorLike = np.random.Generator | int | None


def as_generator(generator: GeneratorLike, where: str) -> np.random.Generator | None:
    """Normalise ``generator=``: a Generator is kept, an int seeds a new one, None stays None."""
    if generator is None or isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    raise TypeError(f"{where}: generator must be a numpy.random.Generator, an int seed or None, "
                    f"got {type(generator).__name__}")


def draw_from(generator: np.random.Generator | None) -> np.random.Generator:
    """The generator to draw from now (fukaku's default one when none was given)."""
    return default_generator() if generator is None else generator
