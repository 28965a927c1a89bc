"""fukaku.utils.graph: the graph model, its DOT and text renderings (parsed, node by node and edge by
edge), draw's SVG output and its text fallback, atomic writes, and `fukaku graph` against the
closed-form chain rule of seed 003's example."""
import importlib.util
import math
import os
import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

import fukaku as fk
from fukaku.cli import main
from fukaku.utils import graph

_NODE_LINE = re.compile(r'^  (n\d+) \[label="((?:[^"\\]|\\.)*)", fillcolor=(\w+)\]$')
_EDGE_LINE = re.compile(r"^  (n\d+) -> (n\d+)$")
_NEEDS_GRAPHVIZ = pytest.mark.skipif(
    not graph.graphviz_available(),
    reason="SVG needs the graphviz Python package and the dot program (pip install graphviz; apt-get install graphviz)")


def _parse_dot(source: str) -> tuple[dict[str, tuple[list[str], str]], Counter]:
    """{node id: (label lines, fill colour)} and the multiset of edges as (source label, target label)."""
    lines = source.splitlines()
    assert lines[0] == "digraph backward_graph {" and lines[-1] == "}"
    nodes, edges = {}, []
    for line in lines[2:-1]:
        if node := _NODE_LINE.match(line):
            nodes[node[1]] = (node[2].split("\\n"), node[3])
        else:
            edge = _EDGE_LINE.match(line)
            assert edge, f"neither a node nor an edge line: {line!r}"
            edges.append((edge[1], edge[2]))
    return nodes, Counter((nodes[a][0][0], nodes[b][0][0]) for a, b in edges)


def _broadcast_example():
    """out = sum(a * b + c): a named (2, 3) leaf, an unnamed (3,) leaf, and a constant c (not drawn)."""
    a = fk.randn(2, 3, requires_grad=True)
    b = fk.randn(3, requires_grad=True)
    out = (a * b + fk.ones(2, 3)).sum()
    return out, {"a": a}


def _closed_form(x1: float, x2: float, x3: float) -> dict[str, float]:
    """Seed 003's chain rule for f(x1, x2) = x1 x2 and g(z, x3) = tanh(z + x3): dy/dz = 1 - tanh^2(z + x3)."""
    dy_dz = 1.0 - math.tanh(x1 * x2 + x3) ** 2
    return {"x1": x2 * dy_dz, "x2": x1 * dy_dz, "x3": dy_dz}


def test_dot_has_exactly_the_ops_leaves_and_edges():
    out, params = _broadcast_example()
    nodes, edges = _parse_dot(graph.to_dot(out, params))
    assert sorted(nodes.values()) == sorted([
        (["output", "()  float32"], "darkolivegreen1"), (["Sum"], "lightgrey"), (["Add"], "lightgrey"),
        (["Mul"], "lightgrey"), (["a", "(2, 3)  float32"], "lightblue"), (["(3,)  float32"], "lightblue")])
    assert edges == Counter({("Sum", "output"): 1, ("Add", "Sum"): 1, ("Mul", "Add"): 1, ("a", "Mul"): 1,
                             ("(3,)  float32", "Mul"): 1})


def test_text_is_the_tree_from_the_output_to_the_leaves():
    out, params = _broadcast_example()
    assert graph.to_text(out, params).splitlines() == [
        "output  ()  float32",
        "└─ Sum",
        "   └─ Add",
        "      └─ Mul",
        "         ├─ a  (2, 3)  float32",
        "         └─ (3,)  float32",
    ]


def test_shared_nodes_appear_once_with_one_edge_per_use():
    x = fk.randn(3, requires_grad=True)
    square = x * x
    out = (square + square).sum()
    g = graph.build_graph(out, {"x": x, "square": square})
    assert [(n.kind, n.label, n.produces) for n in g.nodes] == [
        ("output", "output", ""), ("op", "Sum", ""), ("op", "Add", ""), ("op", "Mul", "square"), ("leaf", "x", "")]
    _, edges = _parse_dot(graph.to_dot(g))
    assert edges == Counter({("Sum", "output"): 1, ("Add", "Sum"): 1, ("Mul", "Add"): 2, ("x", "Mul"): 2})
    assert graph.to_text(g).splitlines() == [
        "output  ()  float32",
        "└─ Sum",
        "   └─ Add",
        "      ├─ Mul  → square",
        "      │  ├─ x  (3,)  float32",
        "      │  └─ x  (3,)  float32",
        "      └─ Mul  → square  (shown above)",
    ]


def test_module_parameters_are_named_like_torchviz():
    linear = fk.nn.Linear(3, 2)
    out = linear(fk.randn(4, 3)).relu().mean()
    nodes, _ = _parse_dot(graph.to_dot(out, dict(linear.named_parameters())))
    leaves = sorted(lines for lines, fill in nodes.values() if fill == "lightblue")
    assert leaves == [["bias", "(2,)  float32"], ["weight", "(2, 3)  float32"]]


def test_seed003_gradients_shown_on_the_leaves_match_the_chain_rule():
    y, params = graph.seed003_example()
    y.backward(retain_graph=True)
    expected = _closed_form(**graph.SEED003_INPUTS)
    nodes, edges = _parse_dot(graph.to_dot(y, params))
    shown = {lines[0]: float(lines[2].removeprefix("grad ")) for lines, fill in nodes.values() if fill == "lightblue"}
    assert shown.keys() == expected.keys()
    for name, value in expected.items():
        assert shown[name] == pytest.approx(value, abs=5e-5)  # printed with 4 decimals
        assert params[name].grad.item() == pytest.approx(value, rel=1e-12)
    assert edges == Counter({("HyperbolicTangent", "y"): 1, ("Add", "HyperbolicTangent"): 1, ("Mul", "Add"): 1,
                             ("x3", "Add"): 1, ("x1", "Mul"): 1, ("x2", "Mul"): 1})
    assert (["Mul", "→ z"], "lightgrey") in nodes.values()


def test_seed003_example_keeps_float64_inputs_exact():
    point = {"x1": 0.1, "x2": -0.7, "x3": 0.3}  # none of them exact in float32
    y, params = graph.seed003_example(**point)
    y.backward()
    assert {name: params[name].grad.item() for name in point} == pytest.approx(_closed_form(**point), rel=1e-14)


def test_the_lab_experiment_fails_when_backprop_breaks_the_chain_rule(monkeypatch, tmp_path):
    from fukaku.lab.experiments.graphs.computational_graph import ComputationalGraph
    from fukaku.lab.registry import Context
    from fukaku.ops.elementwise import HyperbolicTangent

    result = ComputationalGraph().run(Context(tmp_path, quick=True))
    assert result.holds, result.failed
    assert all(p.is_file() for p in result.figures)
    monkeypatch.setattr(HyperbolicTangent, "derivative", lambda self: 1.0 - self.output)  # tanh′ without the square
    broken = ComputationalGraph().run(Context(tmp_path, quick=True))
    assert [check.name for check in broken.failed] == ["max |gradient shown in the drawing − chain rule by hand|"]


def test_a_deep_chain_is_walked_without_recursion():
    x = fk.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5000):  # deeper than Python's recursion limit
        y = y * 1.0
    g = graph.build_graph(y, {"x": x})
    assert len(g.nodes) == 5002 and len(g.edges) == 5001
    assert g.nodes[-1].label == "x"


def test_errors_name_the_problem_and_the_fix():
    with pytest.raises(ValueError, match="requires_grad=True"):
        graph.build_graph(fk.ones(3).sum())
    y, params = graph.seed003_example()
    y.backward()
    with pytest.raises(RuntimeError, match=r"freed by backward\(\).*retain_graph=True"):
        graph.to_text(y, params)
    with pytest.raises(ValueError, match="svg, dot, text"):
        graph.draw(y, "unused.png", format="png")


# ----------------------------------------------------------------------------------------- draw
def _without_dot(monkeypatch):
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)


def _without_package(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "graphviz" else real_find_spec(name, *args))
    monkeypatch.setitem(sys.modules, "graphviz", None)  # `import graphviz` raises ImportError


@pytest.mark.parametrize("remove", [_without_dot, _without_package], ids=["no-dot-program", "no-python-package"])
def test_draw_falls_back_to_text_without_graphviz(remove, monkeypatch, tmp_path):
    remove(monkeypatch)
    assert not graph.graphviz_available()
    y, params = graph.seed003_example()
    written = graph.draw(y, tmp_path / "seed003.svg", params)
    assert written == tmp_path / "seed003.txt"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seed003.txt"]
    assert written.read_text(encoding="utf-8") == graph.to_text(y, params)
    with pytest.raises(ImportError, match="pip install graphviz"):
        graph.draw(y, tmp_path / "explicit.svg", params, format="svg")


@pytest.mark.parametrize("fmt,render", [("dot", graph.to_dot), ("text", graph.to_text)])
def test_draw_writes_the_asked_format_to_the_given_path(fmt, render, tmp_path):
    out, params = _broadcast_example()
    written = graph.draw(out, tmp_path / "graph.out", params, format=fmt)
    assert written == tmp_path / "graph.out"
    assert written.read_text(encoding="utf-8") == render(out, params)


@_NEEDS_GRAPHVIZ
def test_draw_writes_svg_with_every_node_and_edge(tmp_path):
    y, params = graph.seed003_example()
    written = graph.draw(y, tmp_path / "seed003.svg", params)
    assert written == tmp_path / "seed003.svg"
    svg = ET.parse(written).getroot()
    ns = {"svg": "http://www.w3.org/2000/svg"}
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    titles = {cls: sorted(g.find("svg:title", ns).text for g in svg.iter("{http://www.w3.org/2000/svg}g")
                          if g.get("class") == cls) for cls in ("node", "edge")}
    dot_nodes, _ = _parse_dot(graph.to_dot(y, params))
    assert titles["node"] == sorted(dot_nodes)
    dot_edges = [line.strip().replace(" ", "") for line in graph.to_dot(y, params).splitlines() if "->" in line]
    assert titles["edge"] == sorted(dot_edges)
    texts = Counter(" ".join(t.text.split()) for t in svg.iter("{http://www.w3.org/2000/svg}text"))  # nbsp → space
    assert texts == Counter({"x1": 1, "x2": 1, "x3": 1, "y": 1, "() float64": 4, "Mul": 1, "→ z": 1, "Add": 1,
                             "HyperbolicTangent": 1})


def test_a_failed_write_leaves_no_partial_file(monkeypatch, tmp_path):
    out, params = _broadcast_example()
    existing = tmp_path / "kept.txt"
    existing.write_text("an earlier drawing\n", encoding="utf-8")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    for target in (existing, tmp_path / "new.txt"):
        with pytest.raises(OSError, match="No space left"):
            graph.draw(out, target, params, format="text")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.txt"]  # no temporary file, no new file
    assert existing.read_text(encoding="utf-8") == "an earlier drawing\n"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        graph.draw(out, tmp_path / "missing" / "g.txt", params, format="text")


# ----------------------------------------------------------------------------------------- CLI
def test_fukaku_graph_prints_the_tree_and_the_chain_rule_gradients(tmp_path, capsys):
    target = tmp_path / "g.txt"
    assert main(["graph", "--format", "text", "--out", str(target)]) == 0
    out = capsys.readouterr().out
    printed = {m[1]: float(m[2]) for m in re.finditer(r"^  dy/d(x\d) = .* = (\S+)$", out, re.MULTILINE)}
    expected = _closed_form(**graph.SEED003_INPUTS)
    assert printed.keys() == expected.keys()
    for name, value in expected.items():
        assert printed[name] == pytest.approx(value, rel=1e-5)  # printed to 6 significant digits
    assert target.read_text(encoding="utf-8") in out
    assert f"wrote {target}" in out


def test_fukaku_graph_says_when_it_fell_back_to_text(monkeypatch, tmp_path, capsys):
    _without_dot(monkeypatch)
    monkeypatch.chdir(tmp_path)
    assert main(["graph"]) == 0
    assert "wrote seed003-graph.txt (text: SVG needs" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["seed003-graph.txt"]
    assert main(["graph", "--format", "svg"]) == 1
    assert "pip install graphviz" in capsys.readouterr().err


def test_fukaku_graph_help(capsys):
    assert main(["graph", "--help"]) == 0
    out = capsys.readouterr().out
    for word in ("--out", "--format", "svg", "dot", "text", "seed 003"):
        assert word in out
