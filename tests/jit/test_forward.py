"""fukaku.jit.trace of a function that calls no backward(): its forward pass replayed as a static program.

The oracle is eager mode on a twin model built from the same seed (bitwise: issue 16 asks for identical
parameters), and the refusals: whatever a program would get wrong (a value computed from the data outside
the ops, a random draw, a modified buffer) makes the trace fall back to eager calls and say why.
"""
from __future__ import annotations

import numpy as np
import pytest

import fukaku
import fukaku.jit as jit
import fukaku.nn as nn
import fukaku.nn.functional as F
from fukaku.autograd.function import Function
from fukaku.models.cnn import LeNet5
from fukaku.models.transformer import GPT
from tests.jit.test_tracing import assert_same_parameters, batches, mlp


def twins(make_model, make_optimizer, loss_fn, data):
    """Train an eager model and a twin whose loss is a traced function on ``data``; return both models."""
    eager_model, traced_model = make_model(), make_model()
    eager_opt, traced_opt = make_optimizer(eager_model), make_optimizer(traced_model)
    traced = jit.trace(lambda x, y: loss_fn(traced_model, x, y), data[0])
    assert traced.forward_program is not None, traced.why
    loss_fn(eager_model, *data[0])  # the trace ran the function once (BatchNorm counted that batch): so does eager
    for i, (x, y) in enumerate(data):
        for opt, loss_of in ((eager_opt, lambda: loss_fn(eager_model, x, y)), (traced_opt, lambda: traced(x, y))):
            fukaku.manual_seed(100 + i)  # the same dropout masks for both twins
            opt.zero_grad()
            loss_of().backward()
            opt.step()
    return eager_model, traced_model, traced


def classify(model, x, y):
    return F.cross_entropy(model(x), y)


def test_an_mlp_trained_through_a_traced_loss_ends_bitwise_as_eager():
    eager, traced_model, traced = twins(lambda: mlp(0), lambda m: fukaku.optim.Adam(m.parameters(), lr=1e-2),
                                        classify, batches(8))
    assert_same_parameters(eager, traced_model)
    names = [op.cls.__name__ for op in traced.forward_program.ops]
    assert names.count("Affine") == 3 and names[-1] == "SoftmaxCrossEntropy"


@pytest.mark.parametrize("dropout", [0.0, 0.1])
def test_gpt_mini_trained_through_a_traced_loss_ends_bitwise_as_eager(dropout):
    def make():
        fukaku.manual_seed(3)
        return GPT(vocab_size=17, context_length=16, n_layer=2, n_head=2, d_model=16, dropout=dropout)

    rng = np.random.default_rng(0)
    text = [rng.integers(0, 17, (4, 17)) for _ in range(4)]
    data = [(fukaku.tensor(t[:, :-1]), fukaku.tensor(t[:, 1:])) for t in text]
    eager, traced_model, _ = twins(make, lambda m: fukaku.optim.AdamW(m.parameters(), lr=1e-2),
                                   lambda m, x, y: F.cross_entropy(m(x).reshape(-1, 17), y.reshape(-1)), data)
    assert_same_parameters(eager, traced_model)


def test_cross_entropy_recounts_ignored_targets_on_every_call():
    """The mean divides by the number of targets that are not ignore_index: a program made of ops that take the
    targets as an input counts them again on each call."""
    model = mlp(1)
    loss = jit.trace(lambda x, y: F.cross_entropy(model(x), y, ignore_index=2, label_smoothing=0.1), batches(1)[0])
    assert loss.forward_program is not None, loss.why
    for x, y in batches(4, seed=5):
        y = fukaku.tensor(np.where(np.arange(32) < int(np.random.default_rng(0).integers(1, 30)), 2, y.numpy()))
        expected = F.cross_entropy(model(x), y, ignore_index=2, label_smoothing=0.1)
        assert np.array_equal(loss(x, y).detach().numpy(), expected.detach().numpy())


def test_an_inference_function_replays_without_a_graph():
    model = mlp(2)
    model.eval()

    def infer(x):
        with fukaku.no_grad():
            return F.softmax(model(x), dim=-1)

    data = batches(3)
    traced = jit.trace(infer, data[0][0])
    assert traced.forward_program is not None and traced.backward_programs == []
    for x, _ in data[1:]:
        out = traced(x)
        assert out.grad_fn is None and np.array_equal(out.numpy(), infer(x).numpy())


def test_a_replayed_call_links_a_graph_the_engine_walks_as_eagerly():
    """retain_graph, create_graph (a gradient penalty) and an input that requires grad work as in eager mode."""
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))

    def critic(x):
        return model(x).sum()

    x0 = fukaku.randn(5, 4, requires_grad=True)
    traced = jit.trace(critic, x0)
    x = fukaku.randn(5, 4, requires_grad=True)
    results = []
    for f in (critic, traced):
        out = f(x)
        (gx,) = fukaku.autograd.grad(out, x, create_graph=True)
        penalty = (gx * gx).sum()
        penalty.backward(retain_graph=True)
        results.append([gx.detach().numpy().copy()] + grads(model))
        penalty.backward()  # the retained graph, walked again
        results.append(grads(model))
        model.zero_grad()
    assert results[0][-1] is None  # the last bias does not change ∂out/∂x
    for eager, replayed in zip(results[:2], results[2:]):
        assert all((a is None and b is None) or np.array_equal(a, b) for a, b in zip(eager, replayed))


def grads(model: nn.Module) -> list:
    return [None if p.grad is None else p.grad.numpy().copy() for p in model.parameters()]


def test_a_traced_loss_inside_a_traced_step_replays_both_programs():
    """The forward program makes the graph, the step's backward program walks it, the optimizer runs eagerly."""
    data = batches(6)
    models = []
    for trace in (False, True):
        model = mlp(4)
        optimizer = fukaku.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        loss_fn = jit.trace(lambda x, y, m=model: classify(m, x, y), data[0]) if trace else \
            (lambda x, y, m=model: classify(m, x, y))

        def step(x, y, loss_fn=loss_fn, optimizer=optimizer):
            optimizer.zero_grad()
            loss = loss_fn(x, y)
            loss.backward()
            optimizer.step()
            return loss

        run = jit.trace(step, data[0]) if trace else step  # a trace runs the step's first call
        if not trace:
            step(*data[0])
        for x, y in data[1:]:
            run(x, y)
        models.append(model)
    assert run.backward_programs[0].flat_nodes > 0 and run.backward_programs[0].rule_nodes == 0
    assert_same_parameters(*models)


def test_dropout_draws_a_fresh_mask_on_every_replayed_call_in_eager_order():
    """The mask is drawn inside the dropout op (and the attention op), so a replay draws it as eager mode does."""
    eager_model, traced_model = mlp(0, dropout=0.5), mlp(0, dropout=0.5)
    data = batches(1) * 5  # the same batch every call: only the masks make the losses differ
    traced = jit.trace(lambda x, y: classify(traced_model, x, y), data[0])
    assert traced.forward_program is not None, traced.why
    losses = []
    for f in (lambda x, y: classify(eager_model, x, y), traced):
        fukaku.manual_seed(11)
        losses.append([f(x, y).item() for x, y in data])
    assert losses[0] == losses[1] and len(set(losses[1])) == len(data)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_in_training_updates_its_running_statistics_on_every_replayed_call(momentum):
    """The running statistics and num_batches_tracked are updated inside the normalisation op (momentum=None: the
    cumulative average, read from the count inside the op), so a replay updates them as eager mode does."""
    def make():
        fukaku.manual_seed(0)
        return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4, momentum=momentum), nn.ReLU(),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 4))

    rng = np.random.default_rng(1)
    data = [(_f32(rng, 6, 3, 8, 8), fukaku.tensor(rng.integers(0, 4, 6))) for _ in range(5)]
    eager, traced_model, traced = twins(make, lambda m: fukaku.optim.SGD(m.parameters(), lr=0.1, momentum=0.9),
                                        classify, data)
    assert_same_parameters(eager, traced_model)
    for (name, a), (_, b) in zip(eager.named_buffers(), traced_model.named_buffers()):
        assert np.array_equal(a.numpy(), b.numpy()), name
    assert int(traced_model[1].num_batches_tracked) == len(data) + 1  # the trace's call, and one per step


def test_a_call_that_modifies_a_buffer_outside_the_ops_runs_eagerly_and_says_why():
    """A counter buffer advanced by the module's Python would not be advanced by a program: the trace keeps
    running the function eagerly, and each call is exact."""
    model = Counting()
    traced = jit.trace(lambda x: model(x), batches(1)[0][0])
    assert traced.forward_program is None and "existed before it" in traced.why
    x = batches(1, seed=9)[0][0]
    assert np.array_equal(traced(x).detach().numpy(), model(x).detach().numpy())
    assert model.calls.item() == 3.0


class Counting(nn.Module):
    """A layer that counts its calls in a buffer, in place (as BatchNorm's ``num_batches_tracked``)."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(8, 8)
        self.register_buffer("calls", fukaku.zeros(()))

    def forward(self, x):
        with fukaku.no_grad():
            self.calls.add_(1.0)
        return self.layer(x)


def test_a_tensor_modified_in_place_outside_the_ops_is_not_made_static():
    layer = nn.Linear(8, 8)

    def f(x):
        h = layer(x)
        with fukaku.no_grad():
            h.mul_(2.0)
        return h.tanh()

    traced = jit.trace(f, batches(1)[0][0])
    assert traced.forward_program is None and "modified in place" in traced.why


def test_a_random_draw_in_the_function_is_not_kept():
    traced = jit.trace(lambda x: x + fukaku.randn(32, 8), batches(1)[0][0])
    assert traced.forward_program is None and "drawn at random" in traced.why


def test_constants_made_from_python_values_are_kept():
    traced = jit.trace(lambda x: x * 2.0 + fukaku.arange(8).float() + fukaku.ones(32, 8), batches(1)[0][0])
    assert traced.forward_program is not None
    x = batches(1, seed=3)[0][0]
    assert np.array_equal(traced(x).numpy(), (x * 2.0 + fukaku.arange(8).float() + fukaku.ones(32, 8)).numpy())


def test_a_call_in_another_grad_mode_runs_eagerly_and_a_frozen_parameter_is_refused():
    model = mlp(5)
    x = batches(1)[0][0]
    traced = jit.trace(lambda x: model(x), x)
    with fukaku.no_grad():
        out = traced(x)
    assert out.grad_fn is None and np.array_equal(out.numpy(), model(x).detach().numpy())
    model[0].weight.requires_grad_(False)
    with pytest.raises(jit.TracingError, match="requires_grad=False now"):
        traced(x)


def test_the_replayed_forward_builds_no_module_call_and_no_functional_call(monkeypatch):
    """What a replay runs: the recorded ops' forward, nothing above them."""
    model = mlp(6)
    traced = jit.trace(lambda x: model(x), batches(1)[0][0])
    calls = []
    monkeypatch.setattr(nn.Linear, "forward", lambda self, x: calls.append(self))
    applied = []
    monkeypatch.setattr(Function, "apply", classmethod(lambda cls, *a, **k: applied.append(cls)))
    out = traced(batches(1, seed=1)[0][0])
    assert calls == [] and applied == [] and out.grad_fn is not None


def test_one_forward_program_replays_in_several_threads_at_once():
    import threading

    model = mlp(7)
    model.eval()
    traced = jit.trace(lambda x: model(x), batches(1)[0][0])
    inputs = [x for x, _ in batches(8, seed=2)]
    expected = [model(x).detach().numpy() for x in inputs]
    failures = []

    def run(offset: int) -> None:
        for i in range(40):
            k = (i + offset) % len(inputs)
            if not np.array_equal(traced(inputs[k]).detach().numpy(), expected[k]):
                failures.append(k)

    threads = [threading.Thread(target=run, args=(offset,)) for offset in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_replayed_programs_hold_no_more_memory_than_the_eager_step():
    """Each program drops an array once no later op reads it, as eager mode frees it: a traced step's peak memory
    is the eager step's (a backward program that kept every gradient to the end of the pass peaked 57 % higher)."""
    import tracemalloc

    from fukaku.backends import caching_allocator

    rng = np.random.default_rng(0)
    text = rng.integers(0, 65, (16, 65))
    batch = (fukaku.tensor(text[:, :-1]), fukaku.tensor(text[:, 1:]))
    peaks = {}
    for kind in ("eager", "backward program", "both programs"):
        fukaku.manual_seed(0)
        model = GPT(vocab_size=65, context_length=64, n_layer=2, n_head=4, d_model=64)
        optimizer = fukaku.optim.AdamW(model.parameters(), lr=1e-3)
        loss_fn = lambda x, y, m=model: F.cross_entropy(m(x).reshape(-1, 65), y.reshape(-1))  # noqa: E731
        if kind == "both programs":
            loss_fn = jit.trace(loss_fn, batch)

        def step(x, y, loss_fn=loss_fn, optimizer=optimizer):
            optimizer.zero_grad()
            loss = loss_fn(x, y)
            loss.backward()
            optimizer.step()

        run = step if kind == "eager" else jit.trace(step, batch)
        for _ in range(2):
            run(*batch)
        caching_allocator.empty_cache()
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            run(*batch)
            peaks[kind] = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
    assert peaks["backward program"] <= 1.05 * peaks["eager"], peaks
    assert peaks["both programs"] <= 1.05 * peaks["eager"], peaks


def _f32(rng, *shape):
    return fukaku.tensor(rng.standard_normal(shape).astype(np.float32))


MODULES = {
    "lenet (max pooling)": (LeNet5, lambda rng: (_f32(rng, 4, 1, 28, 28),)),
    "lstm": (lambda: nn.LSTM(8, 16, num_layers=2, batch_first=True), lambda rng: (_f32(rng, 4, 7, 8),)),
    "transformer encoder": (lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0,
                                                                                     batch_first=True), 2),
                            lambda rng: (_f32(rng, 3, 5, 16),)),
    "transposed conv, upsampling, group norm": (
        lambda: nn.Sequential(nn.ConvTranspose2d(3, 4, 3, stride=2), nn.Upsample(scale_factor=2, mode="bilinear"),
                              nn.GroupNorm(2, 4), nn.GELU()), lambda rng: (_f32(rng, 2, 3, 8, 8),)),
    "embedding, layer norm": (lambda: nn.Sequential(nn.Embedding(10, 8), nn.LayerNorm(8), nn.Linear(8, 3)),
                              lambda rng: (fukaku.tensor(rng.integers(0, 10, (4, 6))),)),
}


@pytest.mark.parametrize("name", list(MODULES))
def test_layers_trace_to_programs_whose_outputs_and_gradients_are_eagers(name):
    make, inputs = MODULES[name]
    fukaku.manual_seed(0)
    model = make()
    model.eval()
    rng = np.random.default_rng(0)
    traced = jit.trace(model, inputs(rng))
    assert traced.forward_program is not None, traced.why
    x = inputs(rng)
    results = []
    for f in (model, traced):
        out = f(*x)
        out = out[0] if isinstance(out, tuple) else out
        (out * out).sum().backward()
        results.append([out.detach().numpy().copy()] + grads(model))
        model.zero_grad()
    assert all(np.array_equal(a, b) for a, b in zip(*results))


def test_inputs_sharing_one_array_make_no_program():
    x = batches(1)[0][0]
    traced = jit.trace(lambda a, b: a * 2.0 + b, (x, x))
    assert traced.forward_program is None and "share one array" in traced.why
    y = batches(1, seed=4)[0][0]
    assert np.array_equal(traced(x, y).numpy(), (x * 2.0 + y).numpy())


def test_a_replayed_embedding_refuses_indices_out_of_range_as_eagerly():
    """The range check is the lookup op's own, so a replay runs it: a negative index would otherwise wrap."""
    table = nn.Embedding(5, 3)
    traced = jit.trace(table, fukaku.tensor([[1, 2]]))
    assert traced.forward_program is not None
    for bad in ([[7, 2]], [[-1, 2]]):
        for f in (table, traced):
            with pytest.raises(IndexError, match="index out of range"):
                f(fukaku.tensor(bad))


def test_graph_lists_the_recorded_program():
    """``traced.graph`` (and ``.code``, PyTorch's names) shows the forward program one op per line, or for a step
    its backward programs."""
    model = mlp(8)
    loss = jit.trace(lambda x, y: classify(model, x, y), batches(1)[0])
    lines = loss.graph.splitlines()
    assert [line.split(" = ")[1].split("(")[0] for line in lines if "(%" in line] == \
        ["Affine", "Relu", "Affine", "HyperbolicTangent", "Affine", "SoftmaxCrossEntropy"]  # Dropout(0.0) is the identity
    assert lines[0].startswith("%0 = input 0: (32, 8)") and lines[-1].startswith("return %") and loss.code == loss.graph
    optimizer = fukaku.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        optimizer.zero_grad()
        loss(x, y).backward()
        optimizer.step()

    assert "backward() 0: program of 6 flat nodes, 0 by rule" in jit.trace(step, batches(1)[0]).graph
