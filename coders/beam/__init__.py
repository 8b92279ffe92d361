"""coderkit inside Apache Beam: coder conversion, registry installation, key validation, file sources.

Importing this package imports apache_beam (``import coders`` alone never does).
Names load on first use from the submodule that defines them:

* ``to_beam`` / ``from_beam`` / ``CoderkitBeamCoder``: :mod:`coders.beam.adapter`
* ``install`` / ``uninstall``: :mod:`coders.beam.installation` (a module named install would shadow
  the function once imported)
* ``DeterministicGroupByKey``: :mod:`coders.beam.gbk`
* ``validate_pipeline`` / ``KeyFinding``: :mod:`coders.beam.validate`
* ``ReadFromSequenceFile`` / ``WriteToSequenceFile`` and their ``SequenceFileSource`` /
  ``SequenceFileSink``: :mod:`coders.beam.sources` (the PySpark pickle-file source is
  :mod:`pickling.spark_beam`: reading a pickle file is unpickling, which is pickling's layer)
"""

from __future__ import annotations

import importlib

import apache_beam  # noqa: F401  (this package is the part of coderkit that needs Beam)

_LAZY = {
    "to_beam": ".adapter",
    "from_beam": ".adapter",
    "CoderkitBeamCoder": ".adapter",
    "install": ".installation",
    "uninstall": ".installation",
    "installed_registry": ".installation",
    "DeterministicGroupByKey": ".gbk",
    "KeyCheckError": ".gbk",
    "validate_pipeline": ".validate",
    "KeyFinding": ".validate",
    "ReadFromSequenceFile": ".sources",
    "WriteToSequenceFile": ".sources",
    "SequenceFileSource": ".sources",
    "SequenceFileSink": ".sources",
}

__all__ = [
    "CoderkitBeamCoder",
    "DeterministicGroupByKey",
    "KeyCheckError",
    "KeyFinding",
    "ReadFromSequenceFile",
    "SequenceFileSink",
    "SequenceFileSource",
    "WriteToSequenceFile",
    "from_beam",
    "install",
    "installed_registry",
    "to_beam",
    "uninstall",
    "validate_pipeline",
]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'coders.beam' has no attribute {name!r}")
    try:
        submodule = importlib.import_module(module, __name__)
    except ModuleNotFoundError as err:
        if err.name != f"{__name__}{module}":
            raise
        raise AttributeError(
            f"coders.beam.{name} lives in coders.beam{module}, which is not installed in this copy of coderkit"
        ) from err
    value = getattr(submodule, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
