"""``fukaku run SCRIPT [ARGS]`` (or ``python -m fukaku.run SCRIPT [ARGS]``): run an unmodified PyTorch
program on fukaku.

For the program's process only, ``import torch`` and every ``torch.<submodule>`` import resolve to
fukaku's module of the same path — ``torch.nn.modules.linear`` is ``fukaku.nn.modules.linear``,
``torch.utils.data`` is ``fukaku.utils.data`` — and ``torchvision`` to ``fukaku.vision`` once it
exists. Nothing is installed or patched beyond that process: the program runs as ``python SCRIPT``
would run it (``__name__ == "__main__"``, ``sys.argv``, its directory first on ``sys.path``).

A torch module fukaku lacks still imports (``import torch.onnx`` succeeds), so a program that only
imports it runs. Using a name fukaku lacks stops the program with one line that names it and the
line of the program that used it — ``fukaku has no torch.onnx.export (main.py:42)`` — instead of a
deep traceback; ``hasattr`` and ``getattr(..., default)`` still answer as usual, since a missing name
is an ``AttributeError``.

Under ``mpirun -n N fukaku run train.py`` a PyTorch DDP program finds ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK`` (and, unused by fukaku, ``MASTER_ADDR``/``MASTER_PORT``) in its environment as torchrun
would set them, taken from MPI's; a rank whose program fails ends the whole job.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import os
import runpy
import sys
import traceback
import types
from collections.abc import Sequence
from pathlib import Path

# the module names a PyTorch program imports, and fukaku's module at the same path
ALIASES = {"torch": "fukaku", "torchvision": "fukaku.vision"}
_PACKAGE_DIR = str(Path(__file__).resolve().parent)


class MissingModule(types.ModuleType):
    """A torch module fukaku does not have: importing it succeeds, using any name in it fails with
    :class:`MissingName`."""

    def __init__(self, torch_name: str) -> None:
        super().__init__(torch_name)
        self.__path__ = []  # a package, so `import torch.onnx.utils` also resolves (to another MissingModule)

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # dunder probes (copy, pickle, inspect) get the ordinary answer
        raise MissingName(f"{self.__name__}.{name}")


class MissingName(AttributeError):
    """A name a PyTorch program used that fukaku does not have (``torch.onnx.export``)."""

    def __init__(self, torch_name: str) -> None:
        super().__init__(f"fukaku has no {torch_name}")
        self.torch_name = torch_name


class _Alias(importlib.abc.Loader):
    """Loads ``torch.x.y`` as the already importable ``fukaku.x.y`` (the same module object)."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec):
        try:
            return importlib.import_module(self.target)
        except ModuleNotFoundError as exc:
            if exc.name is None or not (self.target == exc.name or self.target.startswith(exc.name + ".")):
                raise  # fukaku's module exists but needs something missing (an optional extra): say so
            return MissingModule(spec.name)

    def exec_module(self, module) -> None:
        """The module is fukaku's, already executed: nothing runs again."""


class TorchAliasFinder(importlib.abc.MetaPathFinder):
    """The import hook: the first finder asked, it answers for ``torch``, ``torchvision`` and their submodules."""

    def find_spec(self, fullname: str, path=None, target=None):
        root, dot, rest = fullname.partition(".")
        if root not in ALIASES:
            return None
        return importlib.util.spec_from_loader(fullname, _Alias(ALIASES[root] + dot + rest))


def install() -> TorchAliasFinder:
    """Resolve ``torch`` imports to fukaku in this process from now on (also when a real torch is installed)."""
    for name in [n for n in sys.modules if n.partition(".")[0] in ALIASES]:
        del sys.modules[name]  # a torch imported earlier would shadow the aliases
    finder = TorchAliasFinder()
    sys.meta_path.insert(0, finder)
    return finder


def torch_name(exc: AttributeError) -> str | None:
    """The torch name behind an ``AttributeError`` on one of fukaku's modules or objects, else None (a bug
    of the program itself, reported as Python reports it)."""
    if isinstance(exc, MissingName):
        return exc.torch_name
    obj, name = getattr(exc, "obj", None), getattr(exc, "name", None)
    if name is None or obj is None:
        return None
    if isinstance(obj, types.ModuleType):
        module = obj.__name__
        return f"torch{module[len('fukaku'):]}.{name}" if module.partition(".")[0] == "fukaku" else None
    cls = obj if isinstance(obj, type) else type(obj)
    if cls.__module__.partition(".")[0] != "fukaku":
        return None  # e.g. an attribute missing on the program's own Module subclass: its own typo
    owner = "torch.Tensor" if cls.__module__ == "fukaku.tensor" else \
        f"torch{cls.__module__[len('fukaku'):]}.{cls.__qualname__}"
    return f"{owner}.{name}"


def where(exc: BaseException) -> str:
    """``file.py:42``: the innermost line of the traceback outside fukaku and Python's import machinery."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(_PACKAGE_DIR) and not f.filename.startswith("<frozen")
              and Path(f.filename).name != "runpy.py"]
    return f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"


def run(script: str | os.PathLike, args: Sequence[str] = ()) -> int:
    """Run ``script`` with ``args`` as a PyTorch program on fukaku; returns its exit status."""
    path = Path(script)
    if not path.is_file():
        print(f"fukaku run: no such file: {script}", file=sys.stderr)
        return 2
    install()
    launched = _set_rank_environment()
    sys.argv = [str(path), *args]
    sys.path.insert(0, str(path.resolve().parent))
    status = _run_path(path)
    if launched:
        from .distributed.distributed_c10d import abort_job_if_failed

        abort_job_if_failed(status, f"fukaku run {path.name}")
    return status


def _run_path(path: Path) -> int:
    try:
        runpy.run_path(str(path), run_name="__main__")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except AttributeError as exc:
        missing = torch_name(exc)
        if missing is None:
            raise
        print(f"fukaku has no {missing} ({where(exc)})", file=sys.stderr)
        return 1
    return 0


def _set_rank_environment() -> bool:
    """Under an MPI launcher, set torchrun's variables the program may read (RANK, WORLD_SIZE, LOCAL_RANK,
    LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT) where they are absent; whether the process was launched so."""
    from .distributed.distributed_c10d import mpi_launch

    launch = mpi_launch()
    if launch is None:
        return False
    rank, size, local = launch
    local_size = os.environ.get("OMPI_COMM_WORLD_LOCAL_SIZE") or os.environ.get("MPI_LOCALNRANKS") or str(size)
    for name, value in (("RANK", rank), ("WORLD_SIZE", size), ("LOCAL_RANK", local), ("LOCAL_WORLD_SIZE", local_size),
                        ("MASTER_ADDR", "localhost"), ("MASTER_PORT", "29500")):
        os.environ.setdefault(name, str(value))
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m fukaku.run SCRIPT [ARGS]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: fukaku run SCRIPT [ARGS...]\n\n" + __doc__.split("\n\n")[1], file=sys.stderr)
        return 0 if argv else 2
    return run(argv[0], argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
