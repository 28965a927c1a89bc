"""fukaku.jit and threads: a trace or a traced step installs its hooks in the calling thread only.

Each test pauses one thread inside a trace or a traced step (an ``Event`` makes the interleaving
certain, not a matter of the scheduler) while another thread runs eager fukaku code, whose results
must be bitwise those of the same code run alone; the traced step must still replay bitwise eager.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

import fukaku
import fukaku.jit as jit
import fukaku.nn as nn
from fukaku.ops.elementwise import Mul

TIMEOUT = 60  # seconds a paused thread waits: a deadlock fails the test instead of hanging it


def model(seed: int) -> nn.Module:
    fukaku.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 1))


def gradients(net: nn.Module) -> list[np.ndarray]:
    return [p.grad.numpy().copy() for p in net.parameters()]


def eager_gradients(net: nn.Module, x: fukaku.Tensor) -> list[np.ndarray]:
    net.zero_grad()
    net(x).square().mean().backward()
    return gradients(net)


class Paused:
    """Runs ``target`` in a thread that stops at :meth:`pause` until the test calls :meth:`resume`."""

    def __init__(self, target: Callable[[Paused], object]) -> None:
        self.reached, self.released = threading.Event(), threading.Event()
        self.result: object = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(target,))

    def _run(self, target) -> None:
        try:
            self.result = target(self)
        except BaseException as e:  # handed to the test thread
            self.error = e

    def pause(self) -> None:
        self.reached.set()
        assert self.released.wait(TIMEOUT), "the test never resumed the paused thread"

    def start(self) -> Paused:
        self.thread.start()
        assert self.reached.wait(TIMEOUT), "the thread never reached its pause"
        return self

    def finish(self) -> object:
        self.released.set()
        self.thread.join(TIMEOUT)
        if self.error is not None:
            raise self.error
        return self.result


def test_eager_backward_and_value_reads_in_another_thread_are_untouched_by_a_running_trace():
    x = fukaku.randn(16, 8)
    other = model(1)
    expected = eager_gradients(other, x)
    traced_net, eager_net = model(0), model(0)

    def step(inputs, pause):
        loss = traced_net(inputs).square().mean()
        pause()  # inside trace(): the value-read hook is installed in the tracing thread (later calls pass)
        loss.backward()
        return loss

    def tracing(thread: Paused):
        return jit.trace(lambda inputs: step(inputs, thread.pause), x)

    paused = Paused(tracing).start()
    try:
        got = eager_gradients(other, x)   # backward: the engine, not the recorder
        value = other(x).sum().item()     # a value read in this thread is not the traced step's
    finally:
        traced = paused.finish()
    assert all(np.array_equal(a, b) for a, b in zip(got, expected))
    assert value == other(x).sum().item()
    assert isinstance(traced.backward_programs[0], jit.BackwardProgram)
    x2 = fukaku.randn(16, 8)
    traced_net.zero_grad()
    traced(x2)
    assert all(np.array_equal(a, b) for a, b in zip(gradients(traced_net), eager_gradients(eager_net, x2)))


def test_a_backward_being_recorded_leaves_another_threads_ops_and_backward_alone():
    """The recorder sees every op applied while it records a backward pass: those of its own thread only."""
    x = fukaku.randn(16, 8)
    other = model(1)
    expected = eager_gradients(other, x)
    traced_net, eager_net = model(0), model(0)

    def tracing(thread: Paused):
        traced_net[0].weight.register_hook(lambda g: thread.pause())  # runs while the backward is recorded
        return jit.trace(lambda inputs: traced_net(inputs).square().mean().backward(), x)

    paused = Paused(tracing).start()
    try:
        got = eager_gradients(other, x)
    finally:
        traced = paused.finish()
    assert all(np.array_equal(a, b) for a, b in zip(got, expected))
    (program,) = traced.backward_programs
    assert isinstance(program, jit.BackwardProgram) and program.rule_nodes == 0
    eager_net[0].weight.register_hook(lambda g: None)
    for inputs in (fukaku.randn(16, 8), fukaku.randn(16, 8)):
        traced_net.zero_grad()
        traced(inputs)
        assert all(np.array_equal(a, b) for a, b in zip(gradients(traced_net), eager_gradients(eager_net, inputs)))


def test_eager_backward_in_another_thread_runs_the_engine_while_a_traced_step_replays():
    x = fukaku.randn(16, 8)
    other = model(1)
    expected = eager_gradients(other, x)
    traced_net, eager_net = model(0), model(0)
    pause: list[Callable[[], None]] = [lambda: None]

    def step(inputs):
        traced_net.zero_grad()
        loss = traced_net(inputs).square().mean()
        pause[0]()  # inside the traced call: its backward hook is installed in this thread
        loss.backward()
        return loss

    traced = jit.trace(step, x)
    x2 = fukaku.randn(16, 8)

    def replaying(thread: Paused):
        pause[0] = thread.pause
        return traced(x2)

    paused = Paused(replaying).start()
    try:
        got = eager_gradients(other, x)
    finally:
        paused.finish()
    assert all(np.array_equal(a, b) for a, b in zip(got, expected))
    assert all(np.array_equal(a, b) for a, b in zip(gradients(traced_net), eager_gradients(eager_net, x2)))


def test_an_autocast_region_open_in_another_thread_does_not_change_the_trace():
    x = fukaku.randn(16, 8)
    traced_net, eager_net = model(0), model(0)

    def autocasting(thread: Paused):
        with fukaku.autocast("cpu"):
            thread.pause()

    paused = Paused(autocasting).start()
    try:
        traced = jit.trace(lambda inputs: traced_net(inputs).square().mean().backward(), x)
        traced_net.zero_grad()
        traced(x)
    finally:
        paused.finish()
    assert isinstance(traced.backward_programs[0], jit.BackwardProgram)  # not "autocast": that is this thread's
    assert all(np.array_equal(a, b) for a, b in zip(gradients(traced_net), eager_gradients(eager_net, x)))


def test_one_traced_step_called_from_two_threads_at_once_replays_each_call_exactly(monkeypatch):
    """A program's replay fills reused input tensors before each op: a second thread's call of the same step
    waits for the first one's replay instead of filling them under it (the first is paused inside an op's
    forward, its inputs in place). A step with no shared state gives each thread eager's input gradient."""
    net = model(0)
    for p in net.parameters():
        p.requires_grad_(False)

    def input_gradient(inputs):
        inputs = inputs.detach().requires_grad_()
        net(inputs).square().sum().backward()
        return inputs.grad

    first, second = fukaku.randn(4, 8), fukaku.randn(4, 8)
    expected = [input_gradient(x).numpy().copy() for x in (first, second)]
    traced = jit.trace(input_gradient, first)
    forward = Mul.forward
    replaying: list[Paused] = []

    def pausing_forward(self, *inputs):
        if replaying and threading.current_thread() is replaying[0].thread and not replaying[0].reached.is_set():
            replaying[0].pause()  # the replay's reused inputs hold this call's arrays now
        return forward(self, *inputs)

    monkeypatch.setattr(Mul, "forward", pausing_forward)
    replaying.append(Paused(lambda thread: traced(first).numpy().copy()))
    replaying[0].start()
    results: list[np.ndarray] = []
    other = threading.Thread(target=lambda: results.append(traced(second).numpy().copy()))
    other.start()
    other.join(1.0)  # its replay waits for the paused one (given a second to run over it, were it not to)
    got_first = replaying[0].finish()
    other.join(TIMEOUT)
    assert np.array_equal(got_first, expected[0]) and np.array_equal(results[0], expected[1])
