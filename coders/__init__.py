"""coderkit's coders: Beam-wire-compatible coders, a type-to-coder registry, and their errors.

Names are loaded on first use, so ``import coders`` stays cheap and never imports
apache_beam (``coders.beam`` does, when you use it).
"""

from __future__ import annotations

import importlib

from .base import Coder
from .errors import (
    CoderError,
    CoderNotFoundError,
    DecodeError,
    DeterminismIssue,
    EncodeError,
    FallbackCoderWarning,
    NonDeterministicCoderError,
)

# public name -> module that defines it (relative to this package)
_LAZY = {
    # primitives
    "BytesCoder": ".primitives",
    "StrUtf8Coder": ".primitives",
    "VarIntCoder": ".primitives",
    "FloatCoder": ".primitives",
    "CanonicalFloatCoder": ".primitives",
    "BooleanCoder": ".primitives",
    "NoneCoder": ".primitives",
    "TimestampCoder": ".primitives",
    "DecimalCoder": ".primitives",
    "CanonicalDecimalCoder": ".primitives",
    # wrappers
    "NullableCoder": ".wrappers",
    "LengthPrefixCoder": ".wrappers",
    "XmapCoder": ".wrappers",
    # collections
    "TupleCoder": ".collections",
    "TupleSequenceCoder": ".collections",
    "ListCoder": ".collections",
    "IterableCoder": ".collections",
    "MapCoder": ".collections",
    "SetCoder": ".collections",
    # records, enums, unions
    "EnumCoder": ".records",
    "RecordCoder": ".records",
    "UnionCoder": ".records",
    # pickle fallbacks
    "PickleCoder": ".pickle",
    "CloudpickleCoder": ".pickle",
    # registry
    "CoderRegistry": ".typecoders",
    "registry": ".typecoders",
    "get_coder": ".typecoders",
    "register_coder": ".typecoders",
    "UUIDCoder": ".primitives",
    "AnyCoder": ".dynamic",
}
_SUBMODULES = {
    "testing",
    "beam",
    "hadoop",
    "typecoders",
    "naming",
    "primitives",
    "collections",
    "records",
    "pickle",
    "wrappers",
    "streams",
    "dynamic",
    "determinism",
    "accel",
}

__all__ = [
    "Coder",
    "CoderError",
    "CoderNotFoundError",
    "DecodeError",
    "DeterminismIssue",
    "EncodeError",
    "FallbackCoderWarning",
    "NonDeterministicCoderError",
    *sorted(_LAZY),
]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'coders' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)
