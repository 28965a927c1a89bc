"""GPT-mini (fukaku/models/transformer/gpt.py), the KV cache (fukaku/nn/modules/kv_cache.py) and the samplers
(fukaku/models/transformer/sampling.py) against independent oracles: the same model written in PyTorch with the
same state dict (logits and every gradient), full recomputation for the cache, closed forms for the parameter
count, exact distributions for the samplers; and a few-shot prompt on a synthetic mapping task."""
from __future__ import annotations


import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku import nn
from fukaku.models import GPT, GPTConfig, nucleus_filter, sample_tokens
from tests.conformance import assert_close
from tests.nn.test_positional import _torch_rope, _torch_sinusoidal


# ------------------------------------------------------------------------------ the PyTorch twin
class TorchGPT(torch.nn.Module):
    """The same architecture in PyTorch, with the same state-dict keys."""

    def __init__(self, c: GPTConfig):
        super().__init__()
        tnn = torch.nn
        self.c = c
        self.wte = tnn.Embedding(c.vocab_size, c.d_model)
        if c.positional == "learned":
            self.wpe = tnn.Embedding(c.context_length, c.d_model)
        self.blocks = tnn.ModuleList()
        for _ in range(c.n_layer):
            block = tnn.Module()
            block.ln_1, block.ln_2 = tnn.LayerNorm(c.d_model, bias=c.bias), tnn.LayerNorm(c.d_model, bias=c.bias)
            block.attn = tnn.Module()
            block.attn.qkv = tnn.Linear(c.d_model, 3 * c.d_model, bias=c.bias)
            block.attn.proj = tnn.Linear(c.d_model, c.d_model, bias=c.bias)
            block.mlp = tnn.Module()
            block.mlp.fc = tnn.Linear(c.d_model, c.mlp_ratio * c.d_model, bias=c.bias)
            block.mlp.proj = tnn.Linear(c.mlp_ratio * c.d_model, c.d_model, bias=c.bias)
            self.blocks.append(block)
        self.ln_f = tnn.LayerNorm(c.d_model, bias=c.bias)
        self.lm_head = tnn.Linear(c.d_model, c.vocab_size, bias=False)
        if c.tie_weights:
            self.lm_head.weight = self.wte.weight

    def forward(self, idx, cache: list | None = None):
        """Logits of ids ``(N, T)``; ``cache`` (a list, empty at first) keeps each layer's keys and values."""
        c, (n, t) = self.c, idx.shape
        past = cache[0][0].shape[2] if cache else 0
        h = self.wte(idx)
        if c.positional == "learned":
            h = h + self.wpe(torch.arange(past, past + t, device=idx.device))
        elif c.positional == "sinusoidal":
            h = h + _torch_sinusoidal(c.context_length, c.d_model)[past:past + t].to(h)
        hd = c.d_model // c.n_head
        for i, b in enumerate(self.blocks):
            q, k, v = b.attn.qkv(b.ln_1(h)).split(c.d_model, dim=2)
            q, k, v = (z.view(n, t, c.n_head, hd).transpose(1, 2) for z in (q, k, v))
            if c.positional == "rope":
                q, k = _torch_rope(q, past), _torch_rope(k, past)
            if cache is not None:
                if len(cache) > i:
                    k, v = torch.cat([cache[i][0], k], 2), torch.cat([cache[i][1], v], 2)
                    cache[i] = (k, v)
                else:
                    cache.append((k, v))
            mask = torch.ones(t, past + t, dtype=torch.bool, device=idx.device).tril(past)
            y = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            h = h + b.attn.proj(y.transpose(1, 2).reshape(n, t, c.d_model))
            h = h + b.mlp.proj(torch.nn.functional.gelu(b.mlp.fc(b.ln_2(h))))
        return self.lm_head(self.ln_f(h))


@torch.no_grad()
def torch_greedy(model: TorchGPT, ids: torch.Tensor, new: int, use_cache: bool = True) -> torch.Tensor:
    """Greedy decoding with the twin, incremental with a cache or recomputing the prefix (within the context)."""
    cache = [] if use_cache else None
    logits = model(ids, cache)[:, -1]
    for i in range(new):
        nxt = logits.argmax(-1, keepdim=True)
        ids = torch.cat([ids, nxt], 1)
        if i < new - 1:
            logits = (model(nxt, cache) if use_cache else model(ids))[:, -1]
    return ids


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny ops: torch's second intra-op thread only waits (greedy decoding took 3.5 s instead of 0.02 s on a
    busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _twins(dtype=torch.float64, **sizes):
    fk.manual_seed(0)
    model = GPT(**{"vocab_size": 11, "context_length": 16, "n_layer": 2, "n_head": 2, "d_model": 8, **sizes})
    model = model.double() if dtype == torch.float64 else model
    twin = TorchGPT(model.config).to(dtype)
    twin.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    return model, twin


@pytest.mark.parametrize("sizes", [{}, {"positional": "sinusoidal"}, {"positional": "rope", "tie_weights": False},
                                   {"bias": False}])
def test_logits_and_gradients_match_the_torch_twin(sizes):
    model, twin = _twins(**sizes)
    assert sorted(model.state_dict()) == sorted(twin.state_dict())
    ids = np.random.default_rng(0).integers(0, 11, (3, 10))
    logits = model(fk.tensor(ids))
    want = twin(torch.from_numpy(ids))
    assert_close(logits, want, np.float64, "logits")
    targets = np.random.default_rng(1).integers(0, 11, (3, 10))
    nn.functional.cross_entropy(logits.reshape(-1, 11), fk.tensor(targets).reshape(-1)).backward()
    torch.nn.functional.cross_entropy(want.reshape(-1, 11), torch.from_numpy(targets).reshape(-1)).backward()
    grads = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        assert_close(p.grad, grads[name].grad, np.float64, name)


def test_float32_forward_matches_torch():
    model, twin = _twins(torch.float32)
    ids = np.random.default_rng(2).integers(0, 11, (2, 16))
    assert_close(model(fk.tensor(ids)), twin(torch.from_numpy(ids)), np.float32, "logits")


def test_tied_head_shares_the_embedding_and_the_init_is_gpt2s():
    fk.manual_seed(0)
    model = GPT(vocab_size=50, n_layer=8, d_model=64, n_head=4)
    assert model.lm_head.weight is model.wte.weight
    untied = GPT(vocab_size=50, n_layer=8, d_model=64, n_head=4, tie_weights=False)
    assert untied.num_parameters() == model.num_parameters() + 50 * 64
    # per block 12d² + 13d, the embeddings (V + context)·d, the final LayerNorm 2d (seed 000 §6.4's count)
    assert model.num_parameters() == 8 * (12 * 64 ** 2 + 13 * 64) + (50 + 128) * 64 + 2 * 64
    stds = {name: float(p.std()) for name, p in model.named_parameters() if p.ndim == 2}
    assert stds["wte.weight"] == pytest.approx(0.02, rel=0.1)
    assert stds["blocks.0.mlp.proj.weight"] == pytest.approx(0.02 / 4, rel=0.1)  # 1/√(2·8)


def test_causality_later_tokens_do_not_change_earlier_logits():
    model, _ = _twins()
    ids = fk.tensor(np.random.default_rng(3).integers(0, 11, (2, 12)))
    other = ids.clone()
    other[:, 7:] = (other[:, 7:] + 1) % 11
    a, b = model(ids).detach().numpy(), model(other).detach().numpy()
    np.testing.assert_array_equal(a[:, :7], b[:, :7])
    assert np.abs(a[:, 7:] - b[:, 7:]).max() > 1e-6


# ------------------------------------------------------------------------------ the KV cache
@pytest.mark.parametrize("positional", ["learned", "sinusoidal", "rope"])
def test_cached_decoding_equals_full_recomputation(positional):
    model, _ = _twins(positional=positional)
    ids = fk.tensor(np.random.default_rng(4).integers(0, 11, (2, 14)))
    full = model(ids).detach().numpy()
    cache = model.new_cache()
    with fk.no_grad():
        parts = [model(ids[:, :5], cache), model(ids[:, 5:6], cache), model(ids[:, 6:9], cache)]
        parts += [model(ids[:, t:t + 1], cache) for t in range(9, 14)]
    np.testing.assert_allclose(np.concatenate([p.numpy() for p in parts], 1), full, atol=1e-12)
    assert len(cache) == 14


def test_cache_with_gradients_keeps_the_graph():
    model, _ = _twins()
    ids = fk.tensor(np.random.default_rng(5).integers(0, 11, (1, 6)))
    cache = model.new_cache()
    loss = model(ids[:, :4], cache).sum() + model(ids[:, 4:], cache).sum()
    loss.backward()
    want = {n: p.grad.numpy().copy() for n, p in model.named_parameters()}
    model.zero_grad()
    model(ids).sum().backward()
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), want[name], atol=1e-10, err_msg=name)


def test_a_prefix_cached_without_gradients_joins_a_step_with_gradients():
    model, _ = _twins()
    ids = fk.tensor(np.random.default_rng(6).integers(0, 11, (1, 6)))
    cache = model.new_cache()
    with fk.no_grad():
        model(ids[:, :4], cache)
    model(ids[:, 4:], cache).sum().backward()  # the cached prefix is a constant, the new positions are not
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    with fk.no_grad():
        want = model(ids)[:, 4:].numpy()
    np.testing.assert_allclose(model(ids[:, 4:], _prefilled(model, ids[:, :4])).detach().numpy(), want, atol=1e-12)


def _prefilled(model: GPT, prefix: fk.Tensor) -> nn.KVCache:
    cache = model.new_cache()
    with fk.no_grad():
        model(prefix, cache)
    return cache


def test_generation_with_and_without_cache_gives_the_same_tokens():
    model, _ = _twins()
    prompt = [1, 2, 3]
    for kw in ({"temperature": 0}, {"temperature": 0.9, "top_k": 5, "seed": 3}, {"top_p": 0.8, "seed": 4}):
        a = model.generate(prompt, 20, **kw)  # 23 > context 16: the window slides after 16
        b = model.generate(prompt, 20, use_cache=False, **kw)
        assert a.shape == (23,) and a.tolist()[:3] == prompt
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("positional", ["learned", "rope"])
def test_greedy_generation_matches_the_torch_twin_with_and_without_cache(positional):
    model, twin = _twins(positional=positional)
    prompt = np.array([[3, 1, 4], [1, 5, 9]])
    want = torch_greedy(twin, torch.from_numpy(prompt), 12).numpy()
    np.testing.assert_array_equal(torch_greedy(twin, torch.from_numpy(prompt), 12, use_cache=False).numpy(), want)
    np.testing.assert_array_equal(model.generate(fk.tensor(prompt), 12, temperature=0).numpy(), want)


def test_greedy_generation_follows_the_argmax_of_the_full_model():
    model, _ = _twins()
    out = model.generate(fk.tensor([[4, 5], [6, 7]]), 6, temperature=0)
    with fk.no_grad():
        logits = model(out[:, :-1])
    np.testing.assert_array_equal(logits[:, 1:].argmax(-1).numpy(), out[:, 2:].numpy())


def test_kv_cache_errors_and_growth():
    cache = nn.KVCache(1, max_len=40)
    for t in range(35):
        k, v = cache.update(0, fk.full((1, 2, 1, 3), float(t)), fk.full((1, 2, 1, 3), -float(t)))
    assert k.shape == (1, 2, 35, 3) and k[0, 0, :, 0].tolist() == list(range(35))
    with pytest.raises(fk.ShapeError, match=r"35 cached \+ 6 new positions exceed max_len=40"):
        cache.update(0, fk.zeros(1, 2, 6, 3), fk.zeros(1, 2, 6, 3))
    with pytest.raises(fk.ShapeError, match="reset"):
        cache.update(0, fk.zeros(2, 2, 1, 3), fk.zeros(2, 2, 1, 3))
    cache.reset()
    assert len(cache) == 0


# ------------------------------------------------------------------------------ bad input
def test_bad_prompts_and_inputs_are_refused_clearly():
    model, _ = _twins()
    with pytest.raises(ValueError, match=r"token id 11, outside the vocabulary \[0, 11\)"):
        model.generate([1, 11], 3)
    with pytest.raises(ValueError, match=r"token id -1"):
        model(fk.tensor([[0, -1]]))
    with pytest.raises(fk.ShapeError, match=r"17 tokens exceed the context of 16 tokens; crop it"):
        model.generate(list(range(11)) + [0] * 6, 3)
    with pytest.raises(ValueError, match="prompt must be 1 to 16 token ids"):
        model.generate([], 3)
    with pytest.raises(ValueError, match="not divisible by n_head"):
        GPT(vocab_size=5, d_model=10, n_head=4)
    with pytest.raises(ValueError, match="top_p must be in"):
        model.generate([1], 2, top_p=0)


# ------------------------------------------------------------------------------ samplers
def test_nucleus_keeps_the_smallest_set_reaching_top_p():
    probs = np.array([[0.5, 0.05, 0.3, 0.15], [0.25, 0.25, 0.25, 0.25]])
    logits = fk.tensor(np.log(probs))
    kept = np.isfinite(nucleus_filter(logits, 0.75).numpy())
    np.testing.assert_array_equal(kept, [[True, False, True, False], [True, True, True, False]])
    kept = np.isfinite(nucleus_filter(logits, 0.85).numpy())
    np.testing.assert_array_equal(kept[0], [True, False, True, True])
    assert np.isfinite(nucleus_filter(logits, 0.1).numpy()).sum(1).tolist() == [1, 1]  # the top token stays
    # after top-k = 2 the first row is {0.5, 0.3} renormalised to {0.625, 0.375}: 0.6 needs the first only
    kept = np.isfinite(nucleus_filter(logits, 0.6, top_k=2).numpy())
    np.testing.assert_array_equal(kept[0], [True, False, False, False])


def test_sampled_frequencies_follow_the_truncated_distribution():
    probs = np.array([0.5, 0.05, 0.3, 0.15])
    logits = fk.tensor(np.log(np.tile(probs, (20000, 1))))
    ids = sample_tokens(logits, top_p=0.9, generator=fk.Generator().manual_seed(0)).numpy()
    freq = np.bincount(ids, minlength=4) / len(ids)
    np.testing.assert_allclose(freq, [0.5 / 0.95, 0, 0.3 / 0.95, 0.15 / 0.95], atol=0.015)
    hot = sample_tokens(logits[:1], temperature=0).numpy()
    assert hot.tolist() == [0]
