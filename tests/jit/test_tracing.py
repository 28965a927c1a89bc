"""fukaku.jit.trace: a traced step leaves bitwise what eager steps leave, refuses value-dependent
steps, and replays its backward pass from the recorded program.

The oracle is eager mode itself, run on a twin model built from the same seed: the acceptance line
of issue 16 asks for identical parameters, so every comparison here is bitwise (``array_equal``).
"""
from __future__ import annotations

import numpy as np
import pytest

import fukaku
import fukaku.jit as jit
import fukaku.nn as nn
import fukaku.nn.functional as F
from fukaku.autograd import engine
from fukaku.autograd.function import Function
from fukaku.models.transformer import GPT

STEPS = 15


def batches(n: int, shape=(32, 8), classes=4, seed=0) -> list[tuple[fukaku.Tensor, fukaku.Tensor]]:
    rng = np.random.default_rng(seed)
    return [(fukaku.tensor(rng.standard_normal(shape).astype(np.float32)),
             fukaku.tensor(rng.integers(0, classes, shape[0]))) for _ in range(n)]


def mlp(seed: int, dropout: float = 0.0) -> nn.Module:
    fukaku.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 16), nn.Tanh(),
                         nn.Linear(16, 4))


def training_step(model: nn.Module, optimizer, loss_fn=F.cross_entropy):
    def step(x, y):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss
    return step


def eager_and_traced(make_model, make_optimizer, data, loss_fn=F.cross_entropy, rng_seed=7):
    """Run ``data`` through an eager step and through a traced twin (traced on the first batch);
    return both models and both loss sequences."""
    eager_model = make_model()
    eager = training_step(eager_model, make_optimizer(eager_model), loss_fn)
    fukaku.manual_seed(rng_seed)
    eager_losses = [eager(x, y).detach().numpy().copy() for x, y in data]
    traced_model = make_model()
    step = training_step(traced_model, make_optimizer(traced_model), loss_fn)
    fukaku.manual_seed(rng_seed)
    traced = jit.trace(step, data[0])  # the trace runs the first step
    traced_losses = [eager_losses[0]] + [traced(x, y).detach().numpy().copy() for x, y in data[1:]]
    return eager_model, traced_model, eager_losses, traced_losses, traced


def assert_same_parameters(a: nn.Module, b: nn.Module) -> None:
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy()), f"parameter {name} differs"


@pytest.mark.parametrize("make_optimizer", [
    lambda m: fukaku.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda m: fukaku.optim.Adam(m.parameters(), lr=1e-2),
], ids=["sgd-nesterov", "adam"])
def test_mlp_training_steps_leave_bitwise_the_eager_parameters(make_optimizer):
    eager, traced_model, eager_losses, traced_losses, traced = eager_and_traced(lambda: mlp(0), make_optimizer,
                                                                               batches(STEPS))
    assert_same_parameters(eager, traced_model)
    assert all(np.array_equal(a, b) for a, b in zip(eager_losses, traced_losses))
    program = traced.backward_programs[0]
    assert isinstance(program, jit.BackwardProgram) and program.flat_nodes >= 3  # the Linear layers' vjps


@pytest.mark.parametrize("dropout", [0.0, 0.1])
def test_gpt_mini_adamw_steps_leave_bitwise_the_eager_parameters(dropout):
    vocab, context = 24, 12
    rng = np.random.default_rng(1)
    data = [(fukaku.tensor(rng.integers(0, vocab, (4, context))), fukaku.tensor(rng.integers(0, vocab, (4, context))))
            for _ in range(10)]

    def make_model():
        fukaku.manual_seed(3)
        return GPT(vocab_size=vocab, context_length=context, n_layer=2, n_head=2, d_model=32, dropout=dropout)

    def loss_fn(logits, y):
        return F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))

    eager, traced_model, eager_losses, traced_losses, traced = eager_and_traced(
        make_model, lambda m: fukaku.optim.AdamW(m.parameters(), lr=3e-3, weight_decay=0.1), data, loss_fn)
    assert_same_parameters(eager, traced_model)
    assert all(np.array_equal(a, b) for a, b in zip(eager_losses, traced_losses))
    assert traced.backward_programs[0].in_place_ops > 0  # the residual stream's gradient sums


def test_dropout_draws_fresh_masks_from_fukakus_generator_as_eager_does():
    data = batches(1) * 6  # the same batch every step: only the masks make the losses differ
    eager, traced_model, eager_losses, traced_losses, _ = eager_and_traced(
        lambda: mlp(0, dropout=0.5), lambda m: fukaku.optim.SGD(m.parameters(), lr=0.0), data, rng_seed=11)
    assert all(np.array_equal(a, b) for a, b in zip(eager_losses, traced_losses))
    assert len({float(v) for v in traced_losses}) == len(traced_losses)  # not the traced mask again
    assert_same_parameters(eager, traced_model)


@pytest.mark.parametrize("read, call", [
    (lambda loss: loss.item(), "item()"),
    (lambda loss: bool(loss > 1), "bool(tensor)"),
    (lambda loss: float(loss), "float(tensor)"),
    (lambda loss: loss.tolist(), "tolist()"),
    (lambda loss: int(loss), "int(tensor)"),
    (lambda loss: loss.detach().numpy(), "numpy()"),
    (lambda loss: np.asarray(loss.detach()), "numpy.asarray(tensor)"),
    (lambda loss: [1, 2, 3][(loss > 0).long()], "a tensor used as an index"),
])
def test_a_step_that_reads_a_tensor_value_is_refused(read, call):
    model = mlp(0)
    optimizer = fukaku.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        if read(loss):  # data-dependent control flow
            loss = loss * 2
        loss.backward()
        optimizer.step()
        return loss

    with pytest.raises(jit.TracingError, match=r"reads a tensor's value.*" + call.replace("(", r"\(").replace(")", r"\)")):
        jit.trace(step, batches(1)[0])


def test_a_call_with_other_shapes_or_dtypes_is_refused_with_the_traced_ones():
    model = mlp(0)
    traced = jit.trace(training_step(model, fukaku.optim.SGD(model.parameters(), lr=0.1)), batches(1)[0])
    x, y = batches(1, shape=(16, 8))[0]
    with pytest.raises(fukaku.ShapeError, match=r"input 0 .* shape \(16, 8\).*traced with shape \(32, 8\)"):
        traced(x, y)
    x, y = batches(1)[0]
    with pytest.raises(TypeError, match="input 0 .*float64.*traced with .*float32"):
        traced(x.double(), y)
    with pytest.raises(TypeError, match="traced with 2 input"):
        traced(x)


def test_a_replay_walks_no_graph_and_replays_flat_vjps_without_ops(monkeypatch):
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    optimizer = fukaku.optim.SGD(model.parameters(), lr=0.1)
    step = training_step(model, optimizer, lambda out, y: F.mse_loss(out, F.one_hot(y, 4).float()))
    data = batches(3)
    traced = jit.trace(step, data[0])
    program = traced.backward_programs[0]
    assert program.rule_nodes == 0  # every vjp here is array code over the nodes' saved arrays

    counts = {"apply": 0, "walk": 0}
    apply = Function.__dict__["apply"].__func__
    walk = engine._backpropagate

    def counting_apply(cls, *args, **kwargs):
        counts["apply"] += 1
        return apply(cls, *args, **kwargs)

    def counting_walk(*args, **kwargs):
        counts["walk"] += 1
        return walk(*args, **kwargs)

    def counted(run) -> dict:
        counts.update(apply=0, walk=0)
        with monkeypatch.context() as patch:
            patch.setattr(Function, "apply", classmethod(counting_apply))
            patch.setattr(engine, "_backpropagate", counting_walk)
            run()
        return dict(counts)

    eager = counted(lambda: step(*data[1]))
    forward = counted(lambda: F.mse_loss(model(data[1][0]), F.one_hot(data[1][1], 4).float()))
    replay = counted(lambda: traced(*data[2]))
    assert eager["walk"] == 1 and replay["walk"] == 0
    assert replay["apply"] == forward["apply"] < eager["apply"]  # the backward made no op and no Tensor op


def test_a_call_that_builds_another_graph_is_refused():
    model = mlp(0)
    optimizer = fukaku.optim.SGD(model.parameters(), lr=0.1)
    use_square = [False]

    def step(x, y):
        optimizer.zero_grad()
        out = model(x)
        if use_square[0]:  # a branch on a Python value: the trace cannot see it
            out = out * out
        loss = F.cross_entropy(out, y)
        loss.backward()
        optimizer.step()
        return loss

    data = batches(2)
    traced = jit.trace(step, data[0])
    use_square[0] = True
    with pytest.raises(jit.TracingError, match="different graph"):
        traced(*data[1])


def test_backward_passes_the_program_cannot_describe_run_in_the_engine():
    """A gradient penalty (``autograd.grad`` with create_graph runs eagerly on every call), a leaf hook, and a
    ``backward(inputs=...)`` the program does not describe (the engine runs it): still bitwise eager."""
    def make_model():
        model = mlp(4)
        model[0].weight.register_hook(lambda g: g * 0.5)
        return model

    def penalised(out, y):
        return F.cross_entropy(out, y)

    data = batches(6)

    def run(trace: bool):
        model = make_model()
        optimizer = fukaku.optim.Adam(model.parameters(), lr=1e-2)

        def step(x, y):
            optimizer.zero_grad()
            x = x.detach().requires_grad_()
            loss = penalised(model(x), y)
            (gx,) = fukaku.autograd.grad(loss, x, create_graph=True)
            total = loss + (gx * gx).sum()
            total.backward(inputs=list(model.parameters()))
            optimizer.step()
            return total

        if not trace:
            return model, [step(x, y).detach().numpy().copy() for x, y in data], None
        traced = jit.trace(step, data[0])
        return model, [traced(x, y).detach().numpy().copy() for x, y in data[1:]], traced

    eager_model, eager_losses, _ = run(False)
    traced_model, traced_losses, traced = run(True)
    assert_same_parameters(eager_model, traced_model)
    assert all(np.array_equal(a, b) for a, b in zip(eager_losses[1:], traced_losses))
    (program,) = traced.backward_programs
    assert not isinstance(program, jit.BackwardProgram) and "inputs=" in program.why


def test_several_backward_passes_and_shared_parameters_are_replayed_in_order():
    """Two losses backpropagated one after the other into the same parameters (gradients accumulate),
    and a layer used twice (its gradient is a sum the program keeps in the engine's order)."""
    def run(trace: bool):
        fukaku.manual_seed(9)
        shared = nn.Linear(8, 8)
        head = nn.Linear(8, 4)
        optimizer = fukaku.optim.SGD([*shared.parameters(), *head.parameters()], lr=0.05, momentum=0.5)

        def step(x, y):
            optimizer.zero_grad()
            h = shared(fukaku.tanh(shared(x)))
            first = F.cross_entropy(head(h), y)
            first.backward(retain_graph=True)
            second = (h * h).mean()
            second.backward()
            optimizer.step()
            return first + second

        data = batches(8)
        if not trace:
            return [step(*b).detach().numpy().copy() for b in data], [shared, head]
        traced = jit.trace(step, data[0])
        assert len(traced.backward_programs) == 2
        return [None] + [traced(*b).detach().numpy().copy() for b in data[1:]], [shared, head]

    eager_losses, eager_layers = run(False)
    traced_losses, traced_layers = run(True)
    for a, b in zip(eager_layers, traced_layers):
        assert_same_parameters(a, b)
    assert all(np.array_equal(a, b) for a, b in zip(eager_losses[1:], traced_losses[1:]))


def test_trace_takes_tensors_only():
    with pytest.raises(TypeError, match="example input 1 must be a Tensor"):
        jit.trace(lambda x, n: x * n, (fukaku.ones(2), 3))


def test_a_parameter_hook_runs_on_every_replayed_backward():
    def make_model():
        model = mlp(5)
        model[0].weight.register_hook(lambda g: g * 0.5)
        return model

    eager, traced_model, eager_losses, traced_losses, traced = eager_and_traced(
        make_model, lambda m: fukaku.optim.SGD(m.parameters(), lr=0.1), batches(6))
    assert isinstance(traced.backward_programs[0], jit.BackwardProgram)
    assert_same_parameters(eager, traced_model)


def test_values_a_rule_reads_from_its_node_follow_each_call():
    """Numbers and indices that change with the data reach the backward pass through the node: the mean
    over the targets not ignored (a different count per batch: cross-entropy's scale) and rows picked by
    an index tensor. The replay reads them from each call's node, never the traced ones."""
    rng = np.random.default_rng(3)
    data = []
    for _ in range(6):
        y = rng.integers(0, 4, 32)
        y[rng.random(32) < rng.uniform(0.1, 0.6)] = -100  # ignore_index: how many varies by batch
        data.append((fukaku.tensor(rng.standard_normal((32, 8)).astype(np.float32)), fukaku.tensor(y),
                     fukaku.tensor(rng.integers(0, 32, 20))))

    def run(trace: bool):
        model = mlp(6)
        optimizer = fukaku.optim.SGD(model.parameters(), lr=0.5)

        def step(x, y, rows):
            optimizer.zero_grad()
            out = model(x)
            loss = F.cross_entropy(out, y, ignore_index=-100) + out[rows].square().mean()
            loss.backward()
            optimizer.step()
            return loss

        if not trace:
            return model, [step(*b).detach().numpy().copy() for b in data]
        traced = jit.trace(step, data[0])
        assert traced.backward_programs[0].rule_nodes == 0
        return model, [None] + [traced(*b).detach().numpy().copy() for b in data[1:]]

    eager_model, eager_losses = run(False)
    traced_model, traced_losses = run(True)
    assert_same_parameters(eager_model, traced_model)
    assert all(np.array_equal(a, b) for a, b in zip(eager_losses[1:], traced_losses[1:]))


class _ScaledByMean(Function):
    """y = x · mean(x), with a rule that treats mean(x) as a constant: a number the rule computes from the
    data with NumPy, which a list of ops would freeze at the traced value."""

    def forward(self, x):
        self.save(x)
        return x._data * x._data.mean()

    def vjp(self, grad):
        (x,) = self.saved
        return grad * float(x._data.mean())


def test_a_function_defined_outside_fukaku_is_replayed_by_its_rule():
    data = batches(6)

    def run(trace: bool):
        model = mlp(8)
        optimizer = fukaku.optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            optimizer.zero_grad()
            loss = F.cross_entropy(_ScaledByMean.apply(model(x)), y)
            loss.backward()
            optimizer.step()
            return loss

        if not trace:
            return model, [step(*b) for b in data]
        traced = jit.trace(step, data[0])
        assert traced.backward_programs[0].rule_nodes == 1
        return model, [traced(*b) for b in data[1:]]

    eager_model, _ = run(False)
    traced_model, _ = run(True)
    assert_same_parameters(eager_model, traced_model)


def test_a_replay_refuses_a_saved_tensor_modified_in_place_as_the_engine_does():
    model = nn.Sequential(nn.Linear(8, 4))
    optimizer = fukaku.optim.SGD(model.parameters(), lr=0.1)
    modify = [False]

    def step(x, y):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        if modify[0]:  # a Python flag: the graph is the same, but a tensor the backward needs has changed
            with fukaku.no_grad():
                model[0].weight.mul_(2.0)
        loss.backward()
        optimizer.step()
        return loss

    data = batches(2)
    traced = jit.trace(step, data[0])
    assert traced.backward_programs[0].rule_nodes == 0
    modify[0] = True
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        step(*data[1])
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        traced(*data[1])


def test_an_intermediate_shape_that_depends_on_the_data_is_refused_naming_the_node_and_shapes():
    """``y[y > 0].mean()``: the count of positives is the shape of the masked tensor, so a call with another
    count cannot replay the traced program (it raised NumPy's broadcast error from IndexAccumulate)."""
    weight = fukaku.ones(8, requires_grad=True)

    def step(x):
        y = x * weight
        loss = y[y > 0].mean()
        loss.backward()
        return loss

    signs = np.array([1, -1, 1, -1, 1, -1, 1, -1], dtype=np.float32)  # four positives
    traced = jit.trace(step, fukaku.tensor(signs))
    traced(fukaku.tensor(-signs))  # another four: the same shapes, replayed
    assert np.array_equal(weight.grad.numpy(), np.full(8, 0.25, np.float32))  # x/4 where x > 0, from each call
    with pytest.raises(jit.TracingError, match=r"Mean .* has in_shape \(5,\) here, \(4,\) when traced.*trace the step "
                                               r"again.*or run it eagerly"):
        traced(fukaku.tensor(np.abs(signs) * np.array([1, 1, 1, 1, 1, -1, -1, -1], np.float32)))


def test_a_temporary_whose_memory_another_array_shares_is_not_written_in_place():
    """The in-place plan counts arrays by the owner of their memory: a large result of the caching allocator is a
    view of its buffer, so a reshape of it points at the buffer, not at the result, and must still keep the result
    from being overwritten while the reshape is read later."""
    from fukaku.backends import caching_allocator
    from fukaku.jit.program import _Op, _plan_in_place
    from fukaku.ops.elementwise import Add, Mul, Neg

    rng = np.random.default_rng(0)
    made = caching_allocator.empty((256, 512), np.float32)  # the temporary: on a buffer of the cache
    made[...] = rng.standard_normal(made.shape)
    assert made.base is not None
    arrays = [made, made.reshape(-1), rng.standard_normal((256, 512)).astype(np.float32), made * 2,
              rng.standard_normal((256, 512)).astype(np.float32), made.copy(), made.reshape(-1) * 3]
    tensors = [fukaku.tensor(a) for a in arrays]

    def op(cls, ins, out, **params):
        return _Op(cls, params, {}, [tensors[i] for i in ins], list(ins), out)

    # the op making slot 1 stands for a reshape: only the arrays' memory matters to the plan
    ops = [op(Mul, (4, 5), 0), op(Neg, (0,), 1), op(Add, (0, 2), 3), op(Mul, (1, 2), 6)]
    assert _plan_in_place([("op", o) for o in ops], ops, arrays) == 0  # the reshape (slot 1) is read after the add
    alone = [ops[0], ops[2]]
    assert _plan_in_place([("op", o) for o in alone], alone, [a if i != 1 else None for i, a in enumerate(arrays)]) == 1
