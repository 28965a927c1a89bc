"""The backend seam (fukaku/backends): routing arrays to their module, and proof that fukaku uses it.

Three layers of checks:

- the accessor itself: ``array_module`` answers NumPy for NumPy input, a registered module for
  arrays of a registered type; a registered device (``register_device``) serves its arrays and
  copies them to and from the host (the GPU backend is tested in tests/backends/);
- end to end: a recording stand-in for NumPy, registered for an ``ndarray`` subclass, is consulted
  when a small network runs forward and backward on arrays of that subclass, and the numbers are
  those of the plain NumPy run;
- the source: in ops/, nn/, optim/ and autograd/ NumPy is named only for what the seam rule allows
  (dtypes and dtype queries, ``errstate``, shape arithmetic, constants); every array creation or
  computation goes through ``xp = array_module(...)``.
"""
from __future__ import annotations

import io
import re
import tokenize
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import fukaku
import fukaku.nn.functional as F
from fukaku.backends import array_module, default_module, register_backend, registered_backends, unregister_backend
from fukaku.tensor import wrap


class TracedArray(np.ndarray):
    """An ndarray that NumPy treats as its own (ufuncs keep the subclass) but the seam can tell apart."""


class RecordingNumpy:
    """A stand-in array module: NumPy itself, counting every attribute an op asks it for."""

    def __init__(self) -> None:
        self.lookups: Counter[str] = Counter()

    def __getattr__(self, name: str):
        self.lookups[name] += 1
        return getattr(np, name)


@pytest.fixture
def recording_backend():
    """``RecordingNumpy`` registered for ``TracedArray``, unregistered afterwards so no state leaks."""
    module = RecordingNumpy()
    register_backend(TracedArray, module)
    yield module
    unregister_backend(TracedArray)


# ----------------------------------------------------------------------------- the accessor
@pytest.mark.parametrize("args", [(np.ones(3),), (np.float32(1.5),), (2.0,), (), (np.ones(2), 3, None)],
                         ids=["ndarray", "numpy scalar", "python scalar", "no arguments", "mixed"])
def test_array_module_is_numpy_for_numpy_input(args):
    assert array_module(*args) is np


def test_default_module_is_numpy():
    assert default_module() is np


def test_registered_type_routes_to_its_module(recording_backend):
    traced = np.ones(3).view(TracedArray)
    assert array_module(traced) is recording_backend
    assert array_module(np.ones(3), traced) is recording_backend  # any registered input decides
    assert array_module(np.ones(3)) is np
    assert (TracedArray, recording_backend) in registered_backends()


def test_register_again_replaces_the_module(recording_backend):
    other = RecordingNumpy()
    register_backend(TracedArray, other)
    assert array_module(np.ones(1).view(TracedArray)) is other
    assert [t for t, _ in registered_backends()].count(TracedArray) == 1


def test_unregister_restores_numpy(recording_backend):
    unregister_backend(TracedArray)
    assert array_module(np.ones(3).view(TracedArray)) is np
    unregister_backend(TracedArray)  # unregistering twice is a no-op


def test_register_rejects_a_non_class():
    before = registered_backends()  # () here; CuPy's entry on a machine with a GPU
    with pytest.raises(TypeError, match="must be a class"):
        register_backend(np.ones(3), np)
    assert registered_backends() == before


# ----------------------------------------------------------------------------- devices
def test_a_registered_device_serves_its_arrays_and_copies_both_ways():
    from fukaku.backends import (DEVICE_MODULES, device_module, device_of_array, register_device, to_device, to_host,
                                 unregister_device)

    from backends.standin import HostDeviceArray, StandInCupy

    previous = DEVICE_MODULES.get("cuda")
    module = StandInCupy()
    register_device("cuda", module)
    try:
        assert device_module("cuda") is module and device_module("mps") is None
        host = np.arange(3.0)
        on = to_device(host, "cuda", 0)
        assert type(on) is HostDeviceArray and on is not host and array_module(on) is module
        assert device_of_array(on) == ("cuda", 0) and device_of_array(host) is None
        assert to_device(on, "cuda", 0) is on  # already there: no copy
        back = to_host(on)
        assert type(back) is np.ndarray and back.tolist() == [0.0, 1.0, 2.0] and to_host(host) is host
    finally:
        unregister_device("cuda")
        if previous is not None:
            register_device("cuda", previous)
    assert array_module(on) is np and device_of_array(on) is None  # unregistered: an ndarray again


def test_register_device_rejects_a_non_string_type():
    from fukaku.backends import register_device

    with pytest.raises(TypeError, match="device type string"):
        register_device(None, np)


# ----------------------------------------------------------------------------- end to end
def _linear_relu_cross_entropy(as_array):
    """Loss and gradients of cross_entropy(relu(x Wᵀ + b), t), every input array passed through ``as_array``."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    t = np.array([0, 2, 1, 2, 0], dtype=np.int64)
    leaves = [wrap(as_array(a)).requires_grad_() for a in (x, w, b)]
    loss = F.cross_entropy(F.relu(F.linear(*leaves)), wrap(as_array(t)))
    loss.backward()
    return [np.asarray(loss.data.numpy())] + [np.asarray(leaf.grad.data.numpy()) for leaf in leaves]


def test_forward_and_backward_go_through_the_registered_module(recording_backend):
    plain = _linear_relu_cross_entropy(lambda a: a)
    assert not recording_backend.lookups, "plain NumPy arrays were routed to the registered module"
    traced = _linear_relu_cross_entropy(lambda a: a.view(TracedArray))
    # The ops read the module of their inputs; a single lookup proves the seam is wired from the
    # tensors to the ops. (Not every op sees a TracedArray: NumPy functions such as asarray return
    # a plain ndarray, after which the plain module answers, as it should.)
    assert sum(recording_backend.lookups.values()) > 0, "no op asked array_module for the traced arrays' module"
    for got, want in zip(traced, plain):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("make_optimizer", [
    lambda ps: fukaku.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    lambda ps: fukaku.optim.Adam(ps, lr=0.1, amsgrad=True),
    lambda ps: fukaku.optim.AdamW(ps, lr=0.1),
    lambda ps: fukaku.optim.RMSprop(ps, lr=0.1, momentum=0.9, centered=True),
    lambda ps: fukaku.optim.Adagrad(ps, lr=0.1),
    lambda ps: fukaku.optim.Adadelta(ps, lr=0.1),
], ids=["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"])
def test_optimizer_steps_go_through_the_registered_module(recording_backend, make_optimizer):
    def two_steps(as_array):
        rng = np.random.default_rng(1)
        params = [wrap(as_array(rng.standard_normal(shape))).requires_grad_() for shape in [(3, 2), ()]]
        optimizer = make_optimizer(params)
        for _ in range(2):
            for p in params:
                p.grad = wrap(as_array(rng.standard_normal(p.shape)))
            optimizer.step()
        return [np.asarray(p.data.numpy()) for p in params]

    plain = two_steps(lambda a: a)
    traced = two_steps(lambda a: np.asarray(a).view(TracedArray))
    assert sum(recording_backend.lookups.values()) > 0, "the update never asked for the parameters' array module"
    for got, want in zip(traced, plain):
        np.testing.assert_array_equal(got, want)


# ----------------------------------------------------------------------------- the source
# What NumPy may still be named for in the packages below (the seam rule of issue 6): dtype
# objects and dtype queries, errstate, pure shape arithmetic, constants, the Generator type and
# linalg.LinAlgError.
ALLOWED = frozenset({
    "float16", "float32", "float64", "int32", "int64", "bool_", "dtype", "result_type", "promote_types",
    "can_cast", "issubdtype", "finfo", "iinfo", "integer", "floating", "number", "generic", "ndarray",
    "errstate", "broadcast_shapes", "inf", "nan", "pi", "newaxis", "random.Generator",
})
SCANNED = ("ops", "nn", "optim", "autograd")
PACKAGE = Path(fukaku.__file__).parent
NUMPY_NAME = re.compile(r"\b(?:np|numpy)\s*\.\s*(\w+(?:\s*\.\s*\w+)*)")
# comments and string literals (docstrings, messages; on Python ≥ 3.12 an f-string's literal text
# is its own token type, its {expressions} stay code)
SKIPPED_TOKENS = {tokenize.COMMENT, tokenize.STRING, tokenize.NL, tokenize.NEWLINE,
                  getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}


def _code_lines(path: Path) -> dict[int, str]:
    """Each line's code with comments, strings and docstrings removed (line number → text)."""
    lines: dict[int, list[str]] = {}
    for tok in tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline):
        if tok.type not in SKIPPED_TOKENS:
            lines.setdefault(tok.start[0], []).append(tok.string)
    return {n: " ".join(parts) for n, parts in lines.items()}


def _allowed(dotted: str) -> bool:
    # np.linalg.LinAlgError: the exception NumPy and CuPy both raise (CuPy has no cupy.linalg.LinAlgError)
    return dotted.split(".", 1)[0] in ALLOWED or dotted.startswith(("random.Generator", "linalg.LinAlgError"))


def seam_violations(root: Path = PACKAGE) -> list[str]:
    """``file:line: names`` for every NumPy name outside the allowlist in the scanned packages."""
    found = []
    for package in SCANNED:
        for path in sorted((root / package).rglob("*.py")):
            for n, code in sorted(_code_lines(path).items()):
                if code.startswith(("import ", "from ")):
                    continue  # `import numpy as np` names the library, not an array function
                names = [re.sub(r"\s+", "", m) for m in NUMPY_NAME.findall(code)]
                bad = sorted({name for name in names if not _allowed(name)})
                if bad:
                    found.append(f"{path.relative_to(root.parent)}:{n}: {', '.join('np.' + b for b in bad)}")
    return found


def test_scanner_sees_code_but_not_comments_or_strings(tmp_path):
    package = tmp_path / "fukaku"
    for name in SCANNED:
        (package / name).mkdir(parents=True)
    (package / "ops" / "sample.py").write_text(
        '"""Docstring mentioning np.exp."""\n'
        "import numpy as np\n"
        "x = np.exp(1.0)  # comment naming np.log\n"
        "y = np.zeros((2,), np.float32) + np.linalg.norm(x)\n"
        "z: np.ndarray = np.asarray(x, dtype=np.dtype('f4'))\n"
        "s = 'np.sum in a string'\n"
        "ok = np.finfo(np.float32).eps * np.inf\n"
        "g: np.random.Generator | None = None\n"
        "r = np.random.default_rng(0)\n")
    assert seam_violations(package) == [
        "fukaku/ops/sample.py:3: np.exp",
        "fukaku/ops/sample.py:4: np.linalg.norm, np.zeros",
        "fukaku/ops/sample.py:5: np.asarray",
        "fukaku/ops/sample.py:9: np.random.default_rng",
    ]


def test_numpy_is_named_only_where_the_seam_rule_allows():
    found = seam_violations()
    if found:
        pytest.fail(f"{len(found)} line(s) call NumPy directly instead of through the backend seam; write "
                    "`xp = array_module(x._data)` (fukaku.backends) once per function and call `xp.<name>` "
                    "(default_module() when no input array exists):\n" + "\n".join(found), pytrace=False)
