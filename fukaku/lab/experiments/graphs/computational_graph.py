"""Seed 003's computational graph y = g(f(x₁, x₂), x₃): autograd records it, fukaku.utils.graph draws it,
and the gradients the drawing shows are checked against the chain rule worked by hand.

The seed keeps f and g abstract; :func:`fukaku.utils.graph.seed003_example` makes them explicit:
z = f(x₁, x₂) = x₁x₂ and y = g(z, x₃) = tanh(z + x₃). By hand, ∂z/∂x₁ = x₂, ∂z/∂x₂ = x₁ and
∂y/∂z = ∂y/∂x₃ = 1 − tanh²(z + x₃), so the chain rule gives ∂y/∂x₁ = x₂(1 − y²), ∂y/∂x₂ = x₁(1 − y²),
∂y/∂x₃ = 1 − y². Those closed forms are evaluated here with Python's math module, independently of
fukaku, at the seed example's inputs and at random ones.
"""
from __future__ import annotations

import math
from pathlib import Path

from ....utils.graph import SEED003_INPUTS, build_graph, draw, graphviz_available, seed003_example, to_text
from ...plotting import available, save_figure
from ...registry import Check, Context, Experiment, Measurement

# The structure y = g(f(x1, x2), x3) prescribes: f is one Mul node fed by x1 and x2 (its output is z),
# g adds x3 to z and applies tanh, and tanh's output is y. Edges run from an input to its consumer.
_SEED_EDGES = ("x1→Mul", "x2→Mul", "Mul→Add", "x3→Add", "Add→HyperbolicTangent", "HyperbolicTangent→y")
# float64 on values of order 1: autograd and the closed form round differently by a few ulps at most.
_TOLERANCE = 1e-12


def _chain_rule_by_hand(x1: float, x2: float, x3: float) -> dict[str, float]:
    """Seed 003's chain rule for this f and g, in closed form: ∂y/∂xᵢ = (∂z/∂xᵢ)(∂y/∂z), ∂y/∂x₃ direct."""
    dy_dz = 1.0 - math.tanh(x1 * x2 + x3) ** 2
    return {"x1": x2 * dy_dz, "x2": x1 * dy_dz, "x3": dy_dz}


def _edges(edges) -> str:
    """Edges as ``source→consumer`` labels, sorted, so that two graphs compare as text."""
    return ", ".join(sorted(edges))


def _recorded_edges(graph) -> list[str]:
    labels = {node.id: node.label for node in graph.nodes}
    return [f"{labels[src]}→{labels[dst]}" for src, dst in graph.edges]


class ComputationalGraph(Experiment, id="computational-graph", source="seed 003 (computational graph)"):
    """Backpropagation is the chain rule on the computational graph.

    The composite y = g(f(x₁, x₂), x₃) is a graph of single-function nodes, and backpropagation through it
    gives ∂y/∂x₁ = (∂z/∂x₁)(∂y/∂z) and ∂y/∂x₂ = (∂z/∂x₂)(∂y/∂z) through z = f(x₁, x₂), and ∂y/∂x₃
    directly.
    """

    def measure(self, ctx: Context) -> Measurement:
        seed_point = tuple(SEED003_INPUTS.values())
        random_points = ctx.rng().uniform(-2.0, 2.0, (8 if ctx.quick else 200, 3)).tolist()
        points = [seed_point] + [tuple(p) for p in random_points]
        vs_hand = vs_factors = 0.0
        for point in points:
            y, params = seed003_example(*point)
            params["z"].retain_grad()  # backprop's ∂y/∂z, the upstream factor of the chain rule
            y.backward(retain_graph=True)  # keep the graph: it is drawn with the gradients
            graph = build_graph(y, params)
            shown = {node.label: node.grad.item() for node in graph.nodes if node.kind == "leaf"}
            hand = _chain_rule_by_hand(*point)
            dy_dz = params["z"].grad.item()
            local = {"x1": point[1], "x2": point[0], "x3": 1.0}  # ∂z/∂x₁, ∂z/∂x₂; x₃ enters after z: ∂(z+x₃)/∂x₃
            vs_hand = max(vs_hand, *(abs(shown[n] - hand[n]) for n in hand))
            vs_factors = max(vs_factors, *(abs(params[n].grad.item() - local[n] * dy_dz) for n in hand))
            if point == seed_point:
                seed = {"graph": graph, "y": y, "params": params, "shown": shown, "hand": hand}
        return Measurement(
            values={"inputs (x1, x2, x3)": list(seed_point), "y": seed["y"].item(),
                    "dy/dx shown in the drawing": [seed["shown"][n] for n in SEED003_INPUTS],
                    "dy/dx by the chain rule by hand": [seed["hand"][n] for n in SEED003_INPUTS],
                    "recorded graph (edges)": _edges(_recorded_edges(seed["graph"])),
                    "points compared": len(points),
                    "max |drawn gradient − chain rule by hand|": vs_hand,
                    "max |backprop − (∂z/∂xᵢ)·(backprop's ∂y/∂z)|": vs_factors},
            plot_data={"y": seed["y"], "params": seed["params"]})

    def checks(self, m: dict) -> list[Check]:
        return [Check("the recorded graph is y = g(f(x1, x2), x3)", m["recorded graph (edges)"], "=",
                      _edges(_SEED_EDGES)),
                Check("max |gradient shown in the drawing − chain rule by hand|",
                      m["max |drawn gradient − chain rule by hand|"], "≤", _TOLERANCE),
                Check("max |backprop − (∂z/∂xᵢ)·(backprop's ∂y/∂z)|",
                      m["max |backprop − (∂z/∂xᵢ)·(backprop's ∂y/∂z)|"], "≤", _TOLERANCE)]

    summary_template = """Over {m[points compared]} points the drawn gradients match the chain rule by hand to
        {m[max |drawn gradient − chain rule by hand|]:.1e}. The graph autograd records for y = tanh(x1·x2 + x3)
        is {m[recorded graph (edges)]}; at (x1, x2, x3) = {point} its drawing shows dy/dx = ({gradients}), and
        each gradient is the local derivative ∂z/∂xᵢ times the ∂y/∂z that backpropagation brought to z."""

    def summary_values(self, m: dict) -> dict:
        return {"point": tuple(m["inputs (x1, x2, x3)"]),
                "gradients": ", ".join(f"{g:.6g}" for g in m["dy/dx shown in the drawing"])}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        if not available():  # the lab draws figures only with its plotting extra; the report says so
            return []
        y, params = measurement.plot_data["y"], measurement.plot_data["params"]
        if graphviz_available():
            return [draw(y, ctx.figure_path(self.id).with_suffix(".svg"), params)]
        tree = to_text(y, params)  # no graphviz: the text drawing, as a picture
        return save_figure(ctx, self.id, lambda fig: fig.text(0.02, 0.96, tree, family="monospace", va="top"),
                           figsize=(6.4, 2.6))
