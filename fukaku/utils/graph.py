"""See the backward graph of a result: what ``torchviz.make_dot`` does for PyTorch (seed 003).

Seed 003 teaches a network as a *computational graph*: single-function nodes joined by edges,
the whole model a composite function, and backpropagation the chain rule applied node by node.
Autograd records exactly that graph while the forward pass runs: ``y.grad_fn`` is the op that made
``y``, and each op's ``next_functions`` points at the ops (or leaf tensors) that made its inputs.
This module walks it once into a :class:`Graph` and renders the graph three ways:

* :func:`to_dot` — Graphviz's DOT source (plain text, no dependency);
* :func:`to_text` — an indented tree for a terminal (no dependency);
* :func:`draw` — a file: SVG through the ``graphviz`` Python package and the ``dot`` program when
  both are installed (``pip install graphviz`` or the ``graph`` extra; ``apt-get install
  graphviz``), else the text tree.

Leaves are named from ``params``, as in torchviz's ``make_dot(y, params=dict(model.named_parameters()))``;
a named non-leaf tensor (``z`` below) names the op that produced it. Once ``backward`` has run, the
leaves' gradients are shown too. ``backward`` frees the graph unless ``retain_graph=True``, so draw
before it, or back-propagate with ``retain_graph=True`` to see the gradients in the drawing.

Examples::

    >>> import fukaku as fk
    >>> from fukaku.utils.graph import draw, to_text
    >>> w = fk.tensor([[1.0, 2.0]], requires_grad=True)
    >>> x = fk.tensor([[3.0], [4.0]])
    >>> loss = (w @ x).tanh().sum()
    >>> print(to_text(loss, params={"w": w}))  # doctest: +SKIP
    output  ()  float32
    └─ Sum
       └─ HyperbolicTangent
          └─ MatMul
             └─ w  (1, 2)  float32
    >>> draw(loss, "loss.svg", params={"w": w})  # doctest: +SKIP
    PosixPath('loss.svg')
"""
from __future__ import annotations

import importlib.util
import os
import shutil
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._atomic import atomic_write
from ..autograd.function import Function
from ..tensor import Tensor, tensor

FORMATS = ("svg", "dot", "text")
SUFFIXES = {"svg": ".svg", "dot": ".dot", "text": ".txt"}
# Node colours as torchviz draws them: ops grey, leaves blue, the result green.
_FILL = {"op": "lightgrey", "leaf": "lightblue", "output": "darkolivegreen1"}


@dataclass(frozen=True, eq=False)  # eq=False: a node is itself, and its gradient array has no truth value
class Node:
    """One vertex: an op (``kind="op"``), a leaf tensor (``"leaf"``) or the drawn result (``"output"``).

    ``label`` is the op's name (``"Mul"``) or the tensor's name ("" for an unnamed leaf); an op
    that produced a named tensor carries that name in ``produces``. Tensors carry ``shape`` and
    ``dtype``; a leaf that has a ``.grad`` carries a copy of it in ``grad``.
    """

    id: str
    kind: str
    label: str
    produces: str = ""
    shape: tuple[int, ...] | None = None
    dtype: str = ""
    grad: np.ndarray | None = None


@dataclass(frozen=True)
class Graph:
    """The backward graph of one tensor, in data-flow order.

    ``edges`` run ``(source id, consumer id)`` from each input to the op that used it, and from the
    last op to the output; an op that uses one input twice (``x * x``) has two edges from it.
    ``nodes[0]`` is the output.
    """

    nodes: tuple[Node, ...]
    edges: tuple[tuple[str, str], ...]


def build_graph(output: Tensor, params: Mapping[str, Tensor] | None = None, *, grads: bool = True) -> Graph:
    """Walk ``output``'s recorded graph (iteratively, so deep chains are fine) into a :class:`Graph`.

    Args:
        output: the result to draw; it must have been computed from tensors that require grad.
        params: names for tensors: leaves (parameters, inputs), the output, or intermediate
            results (which then name the op that produced them).
        grads: include each leaf's ``.grad`` when it has one.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"graph: expected a fukaku Tensor to draw, got {type(output).__name__}")
    if output.grad_fn is None and not output.requires_grad:
        raise ValueError(
            f"graph: the tensor (shape {tuple(output.shape)}) has no recorded graph: nothing was computed from a "
            "tensor with requires_grad=True, or the forward pass ran inside fukaku.no_grad(). Create the inputs "
            "with requires_grad=True to record the graph")
    names = {id(t): name for name, t in (params or {}).items()}
    produced = {t.grad_fn: name for name, t in (params or {}).items() if t.grad_fn is not None and t is not output}
    nodes = [_tensor_node("n0", "output", names.get(id(output), "output"), output, grads and output.grad_fn is None)]
    if output.grad_fn is None:  # a leaf drawn on its own
        return Graph(tuple(nodes), ())
    edges: list[tuple[str, str]] = []
    ids: dict[int, str] = {}  # id(op or leaf) -> node id

    def add(source: Function | Tensor) -> bool:
        """Give ``source`` a node the first time it is reached; True when it is new."""
        if id(source) in ids:
            return False
        ids[id(source)] = node = f"n{len(ids) + 1}"
        if isinstance(source, Function):
            nodes.append(Node(node, "op", source.name, produces=produced.get(source, "")))
        else:
            nodes.append(_tensor_node(node, "leaf", names.get(id(source), ""), source, grads))
        return True

    add(output.grad_fn)
    edges.append((ids[id(output.grad_fn)], "n0"))
    pending = deque([output.grad_fn])
    while pending:  # breadth-first: nodes are numbered from the output towards the leaves
        fn = pending.popleft()
        if fn._released:
            raise RuntimeError(
                f"graph: the backward graph was freed by backward() (at {fn.name}). Draw it before calling "
                "backward(), or call backward(retain_graph=True) to draw it with the gradients")
        for source in fn.next_functions:
            if source is None:  # an input that does not require grad (a constant)
                continue
            if add(source) and isinstance(source, Function):
                pending.append(source)
            edges.append((ids[id(source)], ids[id(fn)]))
    return Graph(tuple(nodes), tuple(edges))


def _tensor_node(node_id: str, kind: str, name: str, t: Tensor, with_grad: bool) -> Node:
    grad = t.grad.numpy().copy() if with_grad and t.grad is not None else None
    return Node(node_id, kind, name, shape=tuple(t.shape), dtype=np.dtype(t.dtype).name, grad=grad)


def _as_graph(source: Graph | Tensor, params: Mapping[str, Tensor] | None) -> Graph:
    return source if isinstance(source, Graph) else build_graph(source, params)


def _format_grad(grad: np.ndarray) -> str:
    """A gradient on one line; arrays of more than 6 values are elided as NumPy prints them."""
    return " ".join(np.array2string(grad, precision=4, threshold=6, separator=", ").split())


def _describe(node: Node) -> list[str]:
    """The lines of a node's label: its name or op, then shape and dtype, then the gradient."""
    if node.kind == "op":
        return [node.label] + ([f"→ {node.produces}"] if node.produces else [])
    lines = [node.label] if node.label else []
    lines.append(f"{node.shape}  {node.dtype}")
    if node.grad is not None:
        lines.append(f"grad {_format_grad(node.grad)}")
    return lines


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(source: Graph | Tensor, params: Mapping[str, Tensor] | None = None) -> str:
    """Graphviz DOT source of the graph: one ``nK [label=...]`` line per node, one ``nA -> nB`` per edge.

    Leaves sit at the top and the output at the bottom, as torchviz draws them. Render it with
    ``dot -Tsvg``, or use :func:`draw`.
    """
    graph = _as_graph(source, params)
    lines = ["digraph backward_graph {",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11]']
    for node in graph.nodes:
        label = _dot_string("\n".join(_describe(node))).replace("\n", "\\n")
        lines.append(f"  {node.id} [label={label}, fillcolor={_FILL[node.kind]}]")
    lines.extend(f"  {src} -> {dst}" for src, dst in graph.edges)
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_text(source: Graph | Tensor, params: Mapping[str, Tensor] | None = None) -> str:
    """The graph as an indented tree, from the output down to the leaves.

    Each line is a node: an op's name (with ``→ name`` when it produced a named tensor), or a
    tensor's name, shape, dtype and gradient. A node reached a second time (a result used twice)
    is printed once in full and then as ``(shown above)``.
    """
    graph = _as_graph(source, params)
    by_id = {node.id: node for node in graph.nodes}
    inputs: dict[str, list[str]] = {node.id: [] for node in graph.nodes}
    for src, dst in graph.edges:
        inputs[dst].append(src)
    lines: list[str] = []
    shown: set[str] = set()
    pending = [("n0", "", "")]  # (node, its line's prefix, its inputs' prefix): a stack, no recursion
    while pending:
        node_id, prefix, inner = pending.pop()
        text = "  ".join(_describe(by_id[node_id]))
        if node_id in shown and inputs[node_id]:
            lines.append(f"{prefix}{text}  (shown above)")
            continue
        shown.add(node_id)
        lines.append(prefix + text)
        last = len(inputs[node_id]) - 1
        for position in range(last, -1, -1):  # pushed last to first, so the first input is printed first
            branch, through = ("└─ ", "   ") if position == last else ("├─ ", "│  ")
            pending.append((inputs[node_id][position], inner + branch, inner + through))
    return "\n".join(lines) + "\n"


def graphviz_available() -> bool:
    """Whether :func:`draw` can write SVG: the ``graphviz`` Python package and the ``dot`` program."""
    return importlib.util.find_spec("graphviz") is not None and shutil.which("dot") is not None


def _render_svg(dot_source: str) -> bytes:
    import graphviz  # optional: only SVG output needs it

    return graphviz.Source(dot_source).pipe(format="svg")


def draw(output: Tensor, path: str | os.PathLike, params: Mapping[str, Tensor] | None = None, *,
         format: str | None = None) -> Path:  # noqa: A002  (torchviz/graphviz call it format)
    """Write the backward graph of ``output`` to a file; return the path written.

    Args:
        output: the result whose graph to draw.
        path: where to write it.
        params: names for tensors, as in :func:`build_graph`.
        format: ``"svg"``, ``"dot"`` or ``"text"``, written to ``path`` as given. ``None`` (the
            default) writes SVG when :func:`graphviz_available`, and otherwise the text tree to
            ``path`` with the suffix ``.txt`` — the returned path says which was written.

    The file is written atomically: a failure leaves no partial file, and an existing file at the
    path intact.
    """
    if format is None:
        format = "svg" if graphviz_available() else "text"
        path = Path(path) if format == "svg" else Path(path).with_suffix(SUFFIXES["text"])
    elif format not in FORMATS:
        raise ValueError(f"graph.draw: format must be one of {', '.join(FORMATS)}, got {format!r}")
    elif format == "svg" and not graphviz_available():
        raise ImportError("graph.draw: SVG needs the graphviz Python package and the dot program (pip install "
                          "graphviz; apt-get install graphviz, or graphviz.org/download); or pass format='text' "
                          "or format='dot'")
    path = Path(path)
    graph = build_graph(output, params)
    if format == "text":
        data = to_text(graph).encode("utf-8")
    elif format == "dot":
        data = to_dot(graph).encode("utf-8")
    else:
        data = _render_svg(to_dot(graph))
    with atomic_write(path, op="graph.draw") as fh:
        fh.write(data)
    return path


# --------------------------------------------------------------------------- seed 003's worked example
SEED003_INPUTS = {"x1": 0.5, "x2": -1.5, "x3": 1.0}
SEED003_FUNCTIONS = "y = g(f(x1, x2), x3) with z = f(x1, x2) = x1 * x2 and g(z, x3) = tanh(z + x3)"
# The chain rule of seed 003 for this f and g (tanh' = 1 - tanh^2), to print beside each gradient.
SEED003_CHAIN_RULE = {"x1": "(dz/dx1)(dy/dz) = x2 * (1 - y^2)", "x2": "(dz/dx2)(dy/dz) = x1 * (1 - y^2)",
                      "x3": "1 - y^2"}


def seed003_example(x1: float = SEED003_INPUTS["x1"], x2: float = SEED003_INPUTS["x2"],
                    x3: float = SEED003_INPUTS["x3"]) -> tuple[Tensor, dict[str, Tensor]]:
    """Seed 003's computational graph ``y = g(f(x1, x2), x3)`` with ``z = f(x1, x2)``, in float64.

    The seed keeps f and g abstract (each a differentiable function of two inputs); this example
    makes them explicit: ``f(x1, x2) = x1 · x2`` (one node, Mul) and ``g(z, x3) = tanh(z + x3)``
    (two nodes, Add then HyperbolicTangent: autograd records elementary ops, and the chain rule
    runs through each). The default inputs are ``x1 = 0.5, x2 = -1.5, x3 = 1``.

    Returns:
        ``(y, params)``: the result and the names ``x1, x2, x3`` (leaves), ``z`` and ``y``.
    """
    # np.float64(value): a NumPy float64 keeps every digit, where a Python float passes through the default dtype
    leaves = {name: tensor(np.float64(value), requires_grad=True)
              for name, value in (("x1", x1), ("x2", x2), ("x3", x3))}
    z = leaves["x1"] * leaves["x2"]
    y = (z + leaves["x3"]).tanh()
    return y, {**leaves, "z": z, "y": y}


__all__ = ["Node", "Graph", "build_graph", "to_dot", "to_text", "draw", "graphviz_available", "FORMATS", "SUFFIXES",
           "seed003_example", "SEED003_INPUTS", "SEED003_FUNCTIONS", "SEED003_CHAIN_RULE"]
