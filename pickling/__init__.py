"""coderkit's pickling tools: pick a pickler by name, find every reason an object will not
pickle (with the path to the culprit and the fix), check a whole Beam pipeline, and read
PySpark pickle files.

Names are loaded on first use, so ``import pickling`` never imports apache_beam.
"""

from __future__ import annotations

import importlib

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
_SUBMODULES = {"backends", "check", "report", "pipeline", "spark", "cli", "pytest_plugin"}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'pickling' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)
