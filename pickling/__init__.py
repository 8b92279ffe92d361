"""coderkit's pickling tools: pick a pickler by name, find every reason an object will not
pickle (with the path to the culprit and the fix), check a whole Beam pipeline, and read
PySpark pickle files.

Names are loaded on first use, so ``import pickling`` never imports apache_beam. Type checkers
read the same names from the ``TYPE_CHECKING`` imports below, so a user's mypy or pyright sees their
real types; a test keeps those imports and ``_LAZY`` in step.
"""

from __future__ import annotations

import importlib
import typing
from typing import Any

if typing.TYPE_CHECKING:
    from .backends import BACKENDS, dumps, loads
    from .check import assert_picklable, backend_differences, check_many, check_picklable, compare_backends
    from .pipeline import check_pipeline
    from .report import Leaf, PicklabilityReport, Problem, UnpicklableError

_LAZY = {
    "dumps": ".backends",
    "loads": ".backends",
    "BACKENDS": ".backends",
    "check_picklable": ".check",
    "assert_picklable": ".check",
    "check_many": ".check",
    "compare_backends": ".check",
    "backend_differences": ".check",
    "PicklabilityReport": ".report",
    "Problem": ".report",
    "Leaf": ".report",
    "UnpicklableError": ".report",
    "check_pipeline": ".pipeline",
}
_SUBMODULES = {"backends", "check", "report", "pipeline", "spark", "spark_beam", "cli", "pytest_plugin"}

# Spelled out (not built from _LAZY) so type checkers and linters can read it; a test keeps them in step.
__all__ = [
    "BACKENDS",
    "Leaf",
    "PicklabilityReport",
    "Problem",
    "UnpicklableError",
    "assert_picklable",
    "backend_differences",
    "check_many",
    "check_picklable",
    "check_pipeline",
    "compare_backends",
    "dumps",
    "loads",
]


def __getattr__(name: str) -> Any:
    # Any: to a type checker only the submodules reach here (every lazy name is imported above).
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'pickling' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)
