"""The repository's ``tools/*.py`` scripts as modules for the documentation tests (they are scripts, not a
package): ``load_tool("build_docs")`` loads ``tools/build_docs.py`` once, as ``fukaku_tools_build_docs``,
so the fixtures and the tests share one module."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load_tool(name: str) -> ModuleType:
    """``tools/<name>.py``, loaded on the first call and registered in ``sys.modules`` (dataclasses look a
    module up there while a class is built)."""
    module_name = f"fukaku_tools_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]  # a later call reports the same error, not a half-run module
        raise
    return module
