"""coderkit's coders: Beam-wire-compatible coders, a type-to-coder registry, and their errors.

Names are loaded on first use, so ``import coders`` stays cheap and never imports
apache_beam (``coders.beam`` does, when you use it). Type checkers read the same names from the
``TYPE_CHECKING`` imports below, so a user's mypy or pyright sees their real types; a test keeps
those imports and ``_LAZY`` in step.
"""

from __future__ import annotations

import importlib
import typing
from typing import Any

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

if typing.TYPE_CHECKING:
    from .arrays import NumpyArrayCoder, NumpyScalarCoder
    from .collections import IterableCoder, ListCoder, MapCoder, SetCoder, TupleCoder, TupleSequenceCoder
    from .dynamic import AnyCoder
    from .pickle import CloudpickleCoder, PickleCoder
    from .primitives import (
        BooleanCoder,
        BytesCoder,
        CanonicalDecimalCoder,
        CanonicalFloatCoder,
        DecimalCoder,
        FloatCoder,
        NoneCoder,
        StrUtf8Coder,
        TimestampCoder,
        UUIDCoder,
        VarIntCoder,
    )
    from .proto import ProtoCoder
    from .records import BeamRowCoder, EnumCoder, RecordCoder, TypedDictCoder, UnionCoder
    from .rows import RowCoder
    from .scalars import BytearrayCoder, ComplexCoder, FractionCoder, IPAddressCoder, PathCoder
    from .temporal import (
        CanonicalDateTimeCoder,
        CanonicalTimeCoder,
        DateCoder,
        DateTimeCoder,
        PandasTimestampCoder,
        TimeCoder,
        TimeDeltaCoder,
    )
    from .typecoders import CoderRegistry, get_coder, register_coder, registry
    from .wrappers import LengthPrefixCoder, NullableCoder, XmapCoder

# public name -> module that defines it (relative to this package)
_LAZY = {
    # the standard library's smaller value types
    "BytearrayCoder": ".scalars",
    "ComplexCoder": ".scalars",
    "FractionCoder": ".scalars",
    "IPAddressCoder": ".scalars",
    "PathCoder": ".scalars",
    # the datetime family (pandas imported only through the user's values)
    "DateTimeCoder": ".temporal",
    "CanonicalDateTimeCoder": ".temporal",
    "DateCoder": ".temporal",
    "TimeCoder": ".temporal",
    "CanonicalTimeCoder": ".temporal",
    "TimeDeltaCoder": ".temporal",
    "PandasTimestampCoder": ".temporal",
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
    "RowCoder": ".rows",
    "UnionCoder": ".records",
    "TypedDictCoder": ".records",
    "BeamRowCoder": ".records",
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
    # numpy arrays and scalars (numpy imported only through the user's values)
    "NumpyArrayCoder": ".arrays",
    "NumpyScalarCoder": ".arrays",
    # protobuf messages (protobuf imported only through the user's message class)
    "ProtoCoder": ".proto",
}
_SUBMODULES = {
    "arrays",
    "rows",
    "temporal",
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
    "proto",
    "arrow",
    "compat",
}

# Spelled out (not built from _LAZY) so type checkers and linters can read it; a test keeps them in step.
__all__ = [
    "AnyCoder",
    "BeamRowCoder",
    "BooleanCoder",
    "BytearrayCoder",
    "BytesCoder",
    "CanonicalDateTimeCoder",
    "CanonicalDecimalCoder",
    "CanonicalFloatCoder",
    "CanonicalTimeCoder",
    "CloudpickleCoder",
    "Coder",
    "CoderError",
    "CoderNotFoundError",
    "CoderRegistry",
    "ComplexCoder",
    "DateCoder",
    "DateTimeCoder",
    "DecimalCoder",
    "DecodeError",
    "DeterminismIssue",
    "EncodeError",
    "EnumCoder",
    "FallbackCoderWarning",
    "FloatCoder",
    "FractionCoder",
    "IPAddressCoder",
    "IterableCoder",
    "LengthPrefixCoder",
    "ListCoder",
    "MapCoder",
    "NonDeterministicCoderError",
    "NoneCoder",
    "NullableCoder",
    "NumpyArrayCoder",
    "NumpyScalarCoder",
    "PandasTimestampCoder",
    "PathCoder",
    "PickleCoder",
    "ProtoCoder",
    "RecordCoder",
    "RowCoder",
    "SetCoder",
    "StrUtf8Coder",
    "TimeCoder",
    "TimeDeltaCoder",
    "TimestampCoder",
    "TupleCoder",
    "TupleSequenceCoder",
    "TypedDictCoder",
    "UUIDCoder",
    "UnionCoder",
    "VarIntCoder",
    "XmapCoder",
    "get_coder",
    "register_coder",
    "registry",
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
    raise AttributeError(f"module 'coders' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)
