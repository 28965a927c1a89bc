"""A key–value cache for incremental decoding with causal self-attention (seed 000 §6.4).

A decoder that generates token t+1 attends from it to the keys and values of positions 0 … t. Those of
positions 0 … t−1 were already computed at earlier steps and do not change (the causal mask keeps every
position blind to later ones), so each layer keeps them: a step computes the query, key and value of the
one new position, appends key and value to the cache and attends over the whole cache — O(t) work per
token instead of the O(t²) of running the model over the whole prefix again, with the same output.

:class:`KVCache` holds, per layer, keys and values ``(N, heads, length, head_dim)``. Without gradients
they are written in place into buffers that grow by doubling (a view up to the filled length is
returned, nothing is copied per step); with gradients (a cache used while training) they are joined with
``cat`` so that back-propagation reaches every cached key and value.
"""
from __future__ import annotations

from ...autograd.grad_mode import is_grad_enabled
from ...backends import array_module
from ...errors import ShapeError
from ...ops.shape import cat
from ...tensor import Tensor, wrap


class KVCache:
    """``KVCache(num_layers)``: the keys and values of past positions of each attention layer.

    ``update(layer, key, value)`` appends ``key``, ``value`` ``(N, heads, T, head_dim)`` to layer
    ``layer``'s cache and returns the keys and values of every position so far, ``(N, heads, length, head_dim)``.
    ``length(layer=0)`` is the number of positions cached in a layer — the position offset of the next
    input (for positional encodings and the causal mask). ``max_len`` (optional) bounds it: appending
    past it is a ShapeError naming the lengths. ``reset()`` empties the cache.

    Examples::

        >>> cache = nn.KVCache(num_layers=2)
        >>> k, v = cache.update(0, fukaku.zeros(1, 4, 3, 8), fukaku.zeros(1, 4, 3, 8))
        >>> cache.length(0), tuple(k.shape)
        (3, (1, 4, 3, 8))
    """

    def __init__(self, num_layers: int, max_len: int | None = None) -> None:
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"KVCache: num_layers must be an integer >= 1, got {num_layers!r}")
        self.num_layers, self.max_len = num_layers, max_len
        self.reset()

    def reset(self) -> None:
        """Forget every cached position."""
        self._keys: list = [None] * self.num_layers    # arrays (N, H, capacity, D), or tensors (graph mode)
        self._values: list = [None] * self.num_layers
        self._lengths = [0] * self.num_layers

    def length(self, layer: int = 0) -> int:
        """Positions cached in ``layer``."""
        return self._lengths[layer]

    def __len__(self) -> int:
        return self._lengths[0]

    def update(self, layer: int, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor]:
        if key.ndim != 4 or tuple(key.shape) != tuple(value.shape):
            raise ShapeError(f"KVCache.update: expected key and value of one shape (N, heads, T, head_dim), got "
                             f"{tuple(key.shape)} and {tuple(value.shape)}")
        past, new = self._lengths[layer], key.shape[2]
        if self.max_len is not None and past + new > self.max_len:
            raise ShapeError(f"KVCache.update: {past} cached + {new} new positions exceed max_len={self.max_len}; "
                             "reset() the cache or crop the sequence to the model's context")
        stored = self._keys[layer]
        if past and tuple(stored.shape[:2]) + tuple(stored.shape[3:]) != tuple(key.shape[:2]) + tuple(key.shape[3:]):
            raise ShapeError(f"KVCache.update: layer {layer} caches (N, heads, ·, head_dim) = "
                             f"{tuple(stored.shape[:2]) + ('·',) + tuple(stored.shape[3:])}, got {tuple(key.shape)}; "
                             "reset() the cache for a new batch")
        self._lengths[layer] = past + new
        if is_grad_enabled() and (key.requires_grad or value.requires_grad) or isinstance(stored, Tensor):
            if past:  # graph mode: keep tensors, joined with cat (differentiable)
                key, value = cat([self._cached(self._keys, layer, past), key], 2), \
                    cat([self._cached(self._values, layer, past), value], 2)
            self._keys[layer], self._values[layer] = key, value
            return key, value
        return self._write(self._keys, layer, past, key), self._write(self._values, layer, past, value)

    @staticmethod
    def _cached(store: list, layer: int, past: int) -> Tensor:
        """The cached positions of a layer as a tensor (buffers filled without gradients become constants)."""
        stored = store[layer]
        return stored if isinstance(stored, Tensor) else wrap(stored[:, :, :past].copy())

    def _write(self, store: list, layer: int, past: int, x: Tensor) -> Tensor:
        """Write ``x`` at positions ``past …`` of the layer's buffer (grown by doubling) and return the
        filled part as a view."""
        end = past + x.shape[2]
        buf = store[layer]
        if buf is None or buf.shape[2] < end or buf.dtype != x._data.dtype:
            xp = array_module(x._data)
            grown = xp.empty(tuple(x.shape[:2]) + (max(end, 2 * (0 if buf is None else buf.shape[2]), 16),) + tuple(x.shape[3:]),
                             dtype=x._data.dtype)
            if past:
                grown[:, :, :past] = buf[:, :, :past]
            store[layer] = buf = grown
        buf[:, :, past:end] = x._data
        return wrap(buf[:, :, :end])

    def __repr__(self) -> str:
        return f"KVCache(num_layers={self.num_layers}, length={len(self)})"


__all__ = ["KVCache"]
