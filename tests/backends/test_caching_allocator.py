"""fukaku.backends.caching_allocator: a large array's memory is handed out again only once no array refers to it,
the cache stays under its limit, and ops that take their outputs from it give the same numbers step after step."""
from __future__ import annotations

import gc
import threading

import numpy as np
import pytest

import fukaku as fk
from fukaku.backends import caching_allocator as cache

BIG = (512, 1024)  # 2 MiB of float32: above MIN_BYTES


@pytest.fixture(autouse=True)
def empty_cache_around():
    cache.empty_cache()
    yield
    gc.collect()
    cache.empty_cache()


def test_memory_is_reused_only_after_every_view_of_it_is_gone():
    a = cache.empty(BIG, np.float32)
    buffer = id(a.base)
    view = a[::2, 3:]
    del a
    b = cache.empty(BIG, np.float32)
    assert id(b.base) != buffer  # the view still reads that memory
    b.fill(1.0)
    del view
    c = cache.empty(BIG, np.float32)
    assert id(c.base) == buffer
    assert c.shape == BIG and c.dtype == np.float32 and c.flags.c_contiguous and c.flags.writeable


def test_a_buffer_serves_any_shape_and_dtype_of_its_size():
    a = cache.empty(BIG, np.float32)
    buffer = id(a.base)
    del a
    b = cache.empty((1024, 256), np.float64)
    assert id(b.base) == buffer and b.dtype == np.float64 and b.shape == (1024, 256)


def test_small_and_object_arrays_are_numpys_own():
    small = cache.empty((8, 8), np.float32)
    assert small.base is None and cache.cached_bytes() == 0
    objects = cache.empty((300, 300), object)
    assert objects.dtype == object and cache.cached_bytes() == 0


def test_other_array_modules_use_their_own_empty():
    calls = []

    class Module:
        @staticmethod
        def empty(shape, dtype):
            calls.append((shape, dtype))
            return "device array"

    assert cache.empty(BIG, np.float32, Module) == "device array"
    assert calls == [(BIG, np.dtype(np.float32))] and cache.cached_bytes() == 0


def test_the_limit_drops_free_buffers_and_never_holds_more(monkeypatch):
    nbytes = 512 * 1024 * 4
    monkeypatch.setattr(cache, "LIMIT", 2 * nbytes)
    first, second = cache.empty(BIG, np.float32), cache.empty(BIG, np.float32)
    assert cache.cached_bytes() == 2 * nbytes
    third = cache.empty(BIG, np.float32)  # the cache is full of arrays in use: NumPy's own
    assert third.base is None and cache.cached_bytes() == 2 * nbytes
    del first, second
    other = cache.empty((2 * 512, 1024), np.float32)  # another size: the free buffers make room for it
    assert cache.cached_bytes() == 2 * nbytes and other.base is not None


def test_empty_cache_releases_only_free_buffers():
    kept, dropped = cache.empty(BIG, np.float32), cache.empty(BIG, np.float32)
    del dropped
    cache.empty_cache()
    assert cache.cached_bytes() == kept.nbytes
    kept[...] = 2.0  # still valid memory
    assert float(kept.sum()) == 2.0 * kept.size


def test_threads_never_get_the_same_buffer():
    held, errors = [], []

    def grab():
        try:
            for _ in range(20):
                a = cache.empty(BIG, np.float32)
                a.fill(threading.get_ident() % 1000)
                held.append(a)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=grab) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({id(a.base) for a in held}) == len(held) == 80


def test_training_steps_reusing_memory_match_torch():
    """Three SGD steps of conv-BN-ReLU-residual blocks, whose activations and gradients come from the cache (and
    are reused from the second step on), give torch's parameters."""
    torch = pytest.importorskip("torch")

    def build(lib):
        nn = lib.nn
        lib.manual_seed(0)

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv, self.bn = nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)

            def forward(self, x):
                return (self.bn(self.conv(x)) + x).relu()

        return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), Block(), Block(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                             nn.Linear(8, 4))

    ours, theirs = build(fk), build(torch)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 3, 32, 32)).astype(np.float32)  # 32·8·32·32 floats: 1 MiB activations
    y = rng.integers(0, 4, 32)
    for model, lib in ((ours, fk), (theirs, torch)):
        opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        for _ in range(3):
            opt.zero_grad()
            lib.nn.functional.cross_entropy(model(lib.tensor(x)), lib.tensor(y)).backward()
            opt.step()
    assert cache.cached_bytes() > 0
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters(), strict=True):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-4, atol=1e-5, err_msg=name)


def test_the_default_limit_is_2_gib_or_an_eighth_of_the_memory(monkeypatch):
    import os

    page = os.sysconf("SC_PAGE_SIZE")
    monkeypatch.setattr(os, "sysconf", lambda name: {"SC_PAGE_SIZE": page, "SC_PHYS_PAGES": (8 << 30) // page}[name])
    assert cache._default_limit() == 1 << 30  # a laptop with 8 GiB
    monkeypatch.setattr(os, "sysconf", lambda name: {"SC_PAGE_SIZE": page, "SC_PHYS_PAGES": (64 << 30) // page}[name])
    assert cache._default_limit() == 2 << 30
