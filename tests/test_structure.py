"""The package's structure as tests: imports run one way, public names are unambiguous, and layers
sit under PyTorch's file names.

Layers, lowest first. A module may import its own layer and the ones below it, never one above:

0. ``fukaku.dtypes``, ``fukaku.errors``, ``fukaku.backends``, ``fukaku.tensor``,
   ``fukaku.serialization`` (it writes and reads tensors and needs nothing else), and the private
   top-level helpers ``fukaku._<name>`` (such as ``_atomic``, atomic file writes): any layer may use
   them, so they may use nothing above layer 0;
1. ``fukaku.autograd``;
2. ``fukaku.ops`` (the graph nodes) and ``fukaku.distributed`` (collectives on tensors' arrays, over MPI: the
   data-parallel module of ``fukaku.nn.parallel`` and the sampler of ``fukaku.utils.data`` build on it);
3. ``fukaku.nn``;
4. ``fukaku.optim``, ``fukaku.train``, ``fukaku.datasets`` and ``fukaku.utils`` — ``fukaku.utils.graph``
   included: it draws graphs the layers below build and is used by lab/cli, while nothing below
   may depend on a drawing tool;
5. ``fukaku.models``, ``fukaku.lab``, ``fukaku.cli``, ``fukaku.demo``, ``fukaku.__main__``,
   ``fukaku.theory``, and every top-level family added later (a ``fukaku.vision``-like package with
   its datasets, transforms and models sits here: it builds on the whole stack, and no core layer
   may import a domain package).

The package root ``fukaku/__init__.py`` assembles the public API from all layers: it is exempt as an
importer, and as an import target it counts as layer 5 (``from fukaku import X`` inside a lower
layer would pull every layer in). Imports under ``if TYPE_CHECKING:`` never run and are not counted;
imports inside functions (deliberately deferred) are not module-level and are not counted either.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import torch

import fukaku
import fukaku.nn
import fukaku.nn.functional
import fukaku.nn.modules
import fukaku.ops
import fukaku.optim
from fukaku.autograd import Function

PACKAGE_DIR = Path(fukaku.__file__).parent

LAYER = {
    "fukaku.dtypes": 0, "fukaku.errors": 0, "fukaku.backends": 0, "fukaku.tensor": 0, "fukaku.serialization": 0,
    "fukaku.autograd": 1,
    "fukaku.ops": 2, "fukaku.distributed": 2,
    "fukaku.nn": 3,
    "fukaku.optim": 4, "fukaku.train": 4, "fukaku.datasets": 4, "fukaku.utils": 4,
}
TOP_LAYER = 5  # models, lab, cli, demo, __main__, theory, later families, and the root as a target


# ----------------------------------------------------------------------------- a. imports run one way
def layer_of(module: str) -> int:
    """The layer of a module of fukaku, by its longest listed prefix (private top-level helpers: 0;
    unlisted families: the top)."""
    parts = module.split(".")
    for n in range(len(parts), 1, -1):
        if ".".join(parts[:n]) in LAYER:
            return LAYER[".".join(parts[:n])]
    is_private_helper = len(parts) > 1 and parts[1].startswith("_") and not parts[1].startswith("__")
    return 0 if is_private_helper else TOP_LAYER


def package_modules() -> dict[str, Path]:
    """Every module of fukaku by dotted name (a package by its ``__init__.py``)."""
    modules = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return getattr(test, "id", None) == "TYPE_CHECKING" or getattr(test, "attr", None) == "TYPE_CHECKING"


def module_level_imports(tree: ast.Module):
    """The import statements that run when the module is imported: top-level ones, and those inside
    top-level ``if``/``try``/``with`` blocks; not inside functions or classes, nor ``if TYPE_CHECKING:``."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stack.extend(child for child in ast.iter_child_nodes(node)
                         if isinstance(child, (ast.stmt, ast.excepthandler)))


def imported_modules(node: ast.Import | ast.ImportFrom, importer: str, is_package: bool,
                     known: set[str]) -> list[str]:
    """The fukaku modules an import statement names, relative imports resolved: ``from .x import y``
    names ``<package>.x.y`` when that is a module, else ``<package>.x``."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = importer.split(".") if is_package else importer.split(".")[:-1]
            anchor = ".".join(package[:len(package) - (node.level - 1)])
            base = f"{anchor}.{base}" if base else anchor
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
    return [name for name in names if name == "fukaku" or name.startswith("fukaku.")]


def upward_imports() -> list[str]:
    """Every module-level import from a lower layer into a higher one, as ``file:line: a (L) -> b (L)``."""
    modules = package_modules()
    known = set(modules)
    found = []
    for importer, path in modules.items():
        if importer == "fukaku":
            continue  # the root assembles the public API from every layer
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in module_level_imports(tree):
            for target in imported_modules(node, importer, path.name == "__init__.py", known):
                src, dst = layer_of(importer), TOP_LAYER if target == "fukaku" else layer_of(target)
                if dst > src:
                    found.append(f"{path.relative_to(PACKAGE_DIR.parent)}:{node.lineno}: "
                                 f"{importer} (layer {src}) imports {target} (layer {dst})")
    return sorted(set(found))


def test_import_resolution():
    """The resolver on known statements, so that an empty list of violations means something."""
    known = {"fukaku.ops", "fukaku.ops.linear", "fukaku.nn", "fukaku.nn.modules", "fukaku.nn.modules.linear"}

    def resolve(source: str, importer: str, is_package: bool = False) -> list[str]:
        return imported_modules(ast.parse(source).body[0], importer, is_package, known)

    assert resolve("from ...ops import linear", "fukaku.nn.modules.linear") == ["fukaku.ops.linear"]
    assert resolve("from ...ops.linear import Affine", "fukaku.nn.modules.linear") == ["fukaku.ops.linear"]
    assert resolve("from .linear import Linear", "fukaku.nn.modules", is_package=True) == ["fukaku.nn.modules.linear"]
    assert resolve("from .. import Tensor", "fukaku.ops.linear") == ["fukaku"]
    assert resolve("import fukaku.nn.modules as m", "fukaku.lab.runner") == ["fukaku.nn.modules"]
    assert resolve("import numpy as np", "fukaku.tensor") == []
    tree = ast.parse("import a\nif X:\n    import b\ntry:\n    import c\nexcept E:\n    import d\n"
                     "if TYPE_CHECKING:\n    import e\ndef f():\n    import g\nclass C:\n    import h\n")
    assert sorted(alias.name for node in module_level_imports(tree) for alias in node.names) == ["a", "b", "c", "d"]
    assert layer_of("fukaku.utils.graph") == 4 and layer_of("fukaku.vision.transforms") == TOP_LAYER
    assert layer_of("fukaku._atomic") == 0 and layer_of("fukaku.__main__") == TOP_LAYER
    assert "fukaku/tensor.py" in str(package_modules()["fukaku.tensor"])


def test_module_level_imports_run_one_way():
    violations = upward_imports()
    assert not violations, "module-level imports from a lower layer into a higher one:\n" + "\n".join(violations)


# ----------------------------------------------------------------------------- b. one object per name
def submodules(package) -> list:
    """The package and every module under it, imported."""
    prefix = package.__name__ + "."
    return [package, *(importlib.import_module(info.name) for info in pkgutil.walk_packages(package.__path__, prefix))]


def classes_defined_under(package, base: type) -> dict[str, str]:
    """The subclasses of ``base`` defined in ``package``'s modules: name -> dotted path."""
    return {cls.__name__: f"{cls.__module__}.{cls.__qualname__}" for module in submodules(package)
            for cls in vars(module).values()
            if inspect.isclass(cls) and issubclass(cls, base) and cls.__module__.startswith(package.__name__)}


def public_objects(namespace) -> dict[str, object]:
    """The classes and functions of fukaku a namespace offers under public names. Modules do not count,
    nor what a module merely imports from NumPy or the standard library (``np``, ``Sequence``)."""
    return {name: obj for name, obj in vars(namespace).items()
            if not name.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
            and getattr(obj, "__module__", "").startswith("fukaku")}


def test_graph_nodes_are_named_apart_from_layers():
    nodes, layers = classes_defined_under(fukaku.ops, Function), classes_defined_under(fukaku.nn, fukaku.nn.Module)
    assert nodes and layers
    shared = sorted(f"{name}: graph node {nodes[name]}, layer {layers[name]}" for name in nodes.keys() & layers.keys())
    assert not shared, "graph nodes named like nn layers:\n" + "\n".join(shared)


def test_a_public_name_means_one_object():
    ops_families = [m for m in submodules(fukaku.ops)[1:] if not m.__name__.rsplit(".", 1)[1].startswith("_")]
    seen: dict[str, dict[int, str]] = {}  # name -> id(object) -> the first place it is found under that name
    for namespace in [fukaku, fukaku.nn, fukaku.nn.functional, fukaku.optim, *ops_families]:
        for name, obj in public_objects(namespace).items():
            place = f"{namespace.__name__}.{name} = {obj.__module__}.{obj.__qualname__}"
            seen.setdefault(name, {}).setdefault(id(obj), place)
    clashes = sorted(f"{name}: " + "; ".join(places.values()) for name, places in seen.items() if len(places) > 1)
    assert not clashes, "one public name for different objects:\n" + "\n".join(clashes)


# ----------------------------------------------------------------------------- c. PyTorch's file names
def test_layers_resolve_under_pytorchs_file_names():
    shared = [name for name in fukaku.nn.modules.__all__ if hasattr(torch.nn, name)]
    assert len(shared) > 20, shared
    misplaced = []
    for name in shared:
        torch_module = getattr(torch.nn, name).__module__  # e.g. torch.nn.modules.linear
        ours = "fukaku" + torch_module.removeprefix("torch")
        try:
            found = getattr(importlib.import_module(ours), name, None)
        except ImportError:
            found = None
        if found is not getattr(fukaku.nn, name):
            misplaced.append(f"{ours}.{name} is not fukaku.nn.{name} (torch: {torch_module}.{name})")
    assert not misplaced, "\n".join(misplaced)


def test_functional_names_resolve():
    missing = [name for name in fukaku.nn.functional.__all__ if not hasattr(fukaku.nn.functional, name)]
    assert not missing, f"fukaku.nn.functional.__all__ names what it lacks: {missing}"
