"""Random number generators: ``fukaku.Generator`` (PyTorch's ``torch.Generator``) and the default one.

A :class:`Generator` *is* a NumPy ``numpy.random.Generator`` on the PCG64 bit generator, with
PyTorch's methods added (``manual_seed``, ``seed``, ``initial_seed``, ``get_state``, ``set_state``,
``device``): every fukaku function that draws takes ``generator=`` and draws from it, and code that
expects a NumPy generator (``nn.init``, samplers) accepts it as it is. The numbers are NumPy's
PCG64 stream for the seed (``manual_seed(s)`` then ``rand`` draws what ``np.random.default_rng(s)``
draws), not PyTorch's Mersenne Twister numbers.

Like PyTorch, a new generator and the default one start from PyTorch's fixed default (the value
67280421310721), so an unseeded program repeats its draws; :func:`seed` reseeds from the operating
system's entropy.
"""
from __future__ import annotations

import os

import numpy as np

from . import _device, backends

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
           "set_rng_state", "resolve_generator"]

DEFAULT_SEED = 67280421310721  # PyTorch's default_rng_seed_val
_STATE_BYTES = 45  # initial seed (8), PCG64 state (16) and increment (16), has_uint32 (1), uinteger (4)


def _seed_value(seed) -> int:
    """``seed`` as PyTorch takes it: an int in [-2**63, 2**64); negatives wrap around 2**64."""
    value = int(seed)
    if not -2 ** 63 <= value < 2 ** 64:
        raise ValueError(f"manual_seed: seed {value} is out of range: a seed is a 64-bit integer in [-2**63, 2**64)")
    return value % 2 ** 64


class Generator(np.random.Generator):
    """A random number generator, as ``torch.Generator``; pass it as ``generator=`` to any sampling
    function for a stream of its own.

    Args:
        device: where it generates: ``'cpu'`` (others raise :class:`fukaku.DeviceError`; a GPU draws
            from its own generator, seeded by ``fukaku.manual_seed``).

    Example::

        >>> g = fukaku.Generator().manual_seed(0)
        >>> a = fukaku.rand(3, generator=g)
        >>> b = fukaku.rand(3, generator=fukaku.Generator().manual_seed(0))
        >>> bool((a == b).all())
        True
    """

    __slots__ = ("_seed",)

    def __init__(self, device="cpu") -> None:
        if _device.check_device(device, "Generator") is not _device.CPU:
            raise _device.DeviceError(f"Generator(device='{device}'): fukaku's generators draw on the CPU; GPU tensors "
                                      "draw from the GPU's own generator (seed it with fukaku.manual_seed or "
                                      "fukaku.cuda.manual_seed)")
        super().__init__(np.random.PCG64(DEFAULT_SEED))
        self._seed = DEFAULT_SEED

    @property
    def device(self) -> _device.device:
        return _device.CPU

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from ``seed`` (an int in [-2**63, 2**64)); returns the generator."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        value = _seed_value(seed)
        self.bit_generator.state = np.random.PCG64(value).state
        self._seed = value
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy; returns the new seed."""
        value = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(value)
        return value

    def initial_seed(self) -> int:
        """The seed the stream last started from."""
        return self._seed

    def get_state(self):
        """The generator's state as a uint8 tensor, for :meth:`set_state` (as ``torch.Generator.get_state``)."""
        from .tensor import wrap  # deferred: tensor.py imports this module

        state = self.bit_generator.state
        raw = b"".join((self._seed.to_bytes(8, "little"), state["state"]["state"].to_bytes(16, "little"),
                        state["state"]["inc"].to_bytes(16, "little"), bytes([state["has_uint32"]]),
                        state["uinteger"].to_bytes(4, "little")))
        return wrap(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state) -> Generator:
        """Restore a state from :meth:`get_state` (a uint8 tensor); the NumPy state dict that fukaku
        0.1's ``get_rng_state`` returned is accepted too. Returns the generator."""
        if isinstance(new_state, dict):
            self.bit_generator.state = new_state
            return self
        data = getattr(new_state, "_data", None)
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8:
            what = type(new_state).__name__ if data is None else f"a tensor of dtype {new_state.dtype}"
            raise TypeError(f"set_state(): expected a uint8 tensor from get_state(), got {what}")
        if data.size != _STATE_BYTES:
            raise RuntimeError(f"set_state(): expected a generator state of {_STATE_BYTES} bytes (from get_state()), "
                               f"got {data.size}")
        raw = data.reshape(-1).tobytes()
        self.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": int.from_bytes(raw[8:24], "little"), "inc": int.from_bytes(raw[24:40], "little")},
            "has_uint32": raw[40], "uinteger": int.from_bytes(raw[41:45], "little")}
        self._seed = int.from_bytes(raw[:8], "little")
        return self

    def __call__(self) -> Generator:
        """The generator itself: lets code written as ``default_generator()`` (fukaku 0.1, where it
        was a function) keep working."""
        return self

    def __repr__(self) -> str:
        return f"fukaku.Generator(device='cpu', initial_seed={self._seed})"

    __str__ = __repr__

    def __reduce__(self):
        return (_restore, (self._seed, self.bit_generator.state))


def _restore(seed: int, state: dict) -> Generator:
    g = Generator()
    g.bit_generator.state = state
    g._seed = seed
    return g


default_generator = Generator()


def resolve_generator(generator, op: str) -> np.random.Generator:
    """Internal API: the generator a sampling function draws from — ``generator`` when given (a
    :class:`Generator`, or any NumPy ``Generator``), the default generator for None.

    Raises TypeError naming ``op`` for anything else.
    """
    if generator is None:
        return default_generator
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"{op}: generator must be a fukaku.Generator, got {type(generator).__name__}")


def manual_seed(seed) -> Generator:
    """Seed the default generator (rand, randn, randint, dropout, init …); returns it, as torch does.
    Like ``torch.manual_seed``, it takes anything ``int()`` accepts (``1.0``, ``True``), and seeds the
    GPUs' generators too when a GPU is in use."""
    generator = default_generator.manual_seed(int(seed))
    backends.seed_devices(generator.initial_seed())
    return generator


def seed() -> int:
    """Reseed the default generator from the operating system's entropy; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the default generator last started from."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state as a uint8 tensor (for :func:`set_rng_state`)."""
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    """Restore the default generator's state from :func:`get_rng_state`."""
    default_generator.set_state(new_state)
