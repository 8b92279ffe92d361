"""RowCoder: Beam's portable row format (``beam:coder:row:v1``) for a record class, decoding to that class.

Beam's ``RowCoder`` is the coder portable runners, Beam SQL, the DataFrame API and
cross-language transforms read. Beam infers a schema for a dataclass or NamedTuple, but
decodes rows into a generated ``BeamSchema_...`` class (tuples come back as lists).
``RowCoder(T)`` writes the same bytes for the schema Beam infers for ``T`` and decodes into
``T`` itself, each field as its declared type.

Bytes of a row (both contexts: a row is self-delimiting):

* varint: the number of fields;
* varint: the null bitmap's length, 0 when no field is None, else ``ceil(fields / 8)``,
  followed by that many bytes, bit ``i % 8`` of byte ``i // 8`` set when field ``i`` is None;
* each field that is not None, nested, with its field type's coder: INT64 varint, DOUBLE
  big-endian, STRING and BYTES length-prefixed, BOOLEAN one byte, ARRAY int32 count then the
  elements, MAP int32 count then key and value, ROW a nested row; logical types as their
  representation (``micros_instant``: a row of seconds and micros; ``date``: varint days
  since 1970-01-01; ``decimal``: Beam's DecimalCoder).

Apache Beam is imported only for ``.schema`` (Beam's ``schema_pb2.Schema``) and by
``coders.beam``; encoding and decoding never need it.
"""

from __future__ import annotations

import collections.abc as abc
import dataclasses
import datetime
import decimal
import hashlib
import importlib
import operator
import sys
import threading
import typing
import uuid
from typing import Any, ClassVar

from .accel.codec import PUBLIC_METHODS, Accelerated
from .base import _MALFORMED, Coder
from .collections import IterableCoder, ListCoder, MapCoder, SetCoder, TupleSequenceCoder
from .errors import DecodeError, EncodeError, NonDeterministicCoderError
from .naming import type_name
from .primitives import BooleanCoder, BytesCoder, DecimalCoder, FloatCoder, StrUtf8Coder, VarIntCoder
from .records import (
    _builder_kind,
    _declared_fields,
    _make_from_fields,
    _record_kind,
    generic_record,
    is_record_class,
    substitute_type_vars,
)
from .streams import read_exact, read_varint64, write_varint64
from .wrappers import NullableCoder

__all__ = ["PYTHON_TYPE_OPTION", "RowCoder", "row_coder_or_none"]

#: Schema option naming the Python class a row decodes to (``module:qualname``), so a worker that
#: imports ``coders.beam`` rebuilds this coder from the schema alone. Runners ignore unknown options.
PYTHON_TYPE_OPTION = "coderkit:python_type"

MICROS_INSTANT_URN = "beam:logical_type:micros_instant:v1"
DATE_URN = "beam:logical_type:date:v1"
DECIMAL_URN = "beam:logical_type:decimal:v1"

_EPOCH_DATE = datetime.date(1970, 1, 1)
_building = threading.local()


# =============================================================================== field types


@dataclasses.dataclass(frozen=True)
class FieldType:
    """One field type of a Beam schema, as coderkit keeps it (``to_proto`` gives Beam's ``FieldType``).

    ``kind`` is ``atomic`` (``atomic`` names it: INT64, DOUBLE, STRING, BYTES, BOOLEAN), ``array``,
    ``map``, ``row`` (``row`` is the nested RowCoder) or ``logical`` (``urn``, ``representation``).
    """

    kind: str
    nullable: bool = False
    atomic: str | None = None
    element: FieldType | None = None
    key: FieldType | None = None
    value: FieldType | None = None
    row: Any = None
    urn: str | None = None
    representation: FieldType | None = None

    def to_proto(self):
        from apache_beam.portability.api import schema_pb2

        if self.kind == "atomic":
            proto = schema_pb2.FieldType(atomic_type=getattr(schema_pb2, self.atomic))
        elif self.kind == "array":
            proto = schema_pb2.FieldType(array_type=schema_pb2.ArrayType(element_type=self.element.to_proto()))
        elif self.kind == "map":
            proto = schema_pb2.FieldType(
                map_type=schema_pb2.MapType(key_type=self.key.to_proto(), value_type=self.value.to_proto())
            )
        elif self.kind == "row":
            proto = schema_pb2.FieldType(row_type=schema_pb2.RowType(schema=self.row.schema))
        else:
            proto = schema_pb2.FieldType(
                logical_type=schema_pb2.LogicalType(urn=self.urn, representation=self.representation.to_proto())
            )
        if self.nullable:
            proto.nullable = True
        return proto

    def describe(self) -> str:
        """Stable text for this type (schema ids come from it)."""
        null = "?" if self.nullable else ""
        if self.kind == "atomic":
            return self.atomic + null
        if self.kind == "array":
            return f"ARRAY<{self.element.describe()}>{null}"
        if self.kind == "map":
            return f"MAP<{self.key.describe()},{self.value.describe()}>{null}"
        if self.kind == "row":
            return f"ROW<{self.row._describe_fields()}>{null}"
        return f"LOGICAL<{self.urn},{self.representation.describe()}>{null}"


def _atomic(name: str) -> FieldType:
    return FieldType("atomic", atomic=name)


_ATOMIC = {
    int: ("INT64", VarIntCoder),
    float: ("DOUBLE", FloatCoder),
    str: ("STRING", StrUtf8Coder),
    bytes: ("BYTES", BytesCoder),
    bool: ("BOOLEAN", BooleanCoder),
}


class _FieldError(TypeError):
    """A field type RowCoder cannot write as Beam does; the message says which and the fix."""


def _is_beam_timestamp(hint) -> bool:
    return isinstance(hint, type) and hint.__name__ == "Timestamp" and hint.__module__ == "apache_beam.utils.timestamp"


def _optional_arg(hint):
    """``X`` for ``Optional[X]`` (``Union[X, None]``, ``X | None``), else None."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or (sys.version_info >= (3, 10) and origin is __import__("types").UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(hint)) == 2:
            return args[0]
        raise _FieldError(
            f"`{type_name(hint)}` is a union; a Beam schema field has one type (Optional[X] is the only union)"
        )
    return None


_SEQUENCES = (list, abc.Sequence, abc.MutableSequence)
_SETS = {set: False, frozenset: True, abc.Set: True, abc.MutableSet: False}
_ITERABLES = (abc.Iterable, abc.Collection)
_MAPPINGS = (dict, abc.Mapping, abc.MutableMapping)


def _field(hint, where: str) -> tuple[FieldType, Coder]:
    """The Beam field type and the (non-null) coder for a field declared as ``hint``."""
    inner = _optional_arg(hint)
    if inner is not None:
        ftype, coder = _field(inner, where)
        return dataclasses.replace(ftype, nullable=True), coder
    if typing.get_origin(hint) is typing.Annotated:
        return _field(typing.get_args(hint)[0], where)
    if isinstance(hint, type) and hint in _ATOMIC:
        name, coder_cls = _ATOMIC[hint]
        return _atomic(name), coder_cls()
    if (isinstance(hint, type) and is_record_class(hint)) or is_record_class(typing.get_origin(hint)):
        row = RowCoder(hint)
        return FieldType("row", row=row), row
    if hint is decimal.Decimal:
        return FieldType("logical", urn=DECIMAL_URN, representation=_atomic("BYTES")), DecimalCoder()
    if hint is datetime.date:
        return FieldType("logical", urn=DATE_URN, representation=_atomic("INT64")), _DateCoder()
    if _is_beam_timestamp(hint):
        return FieldType("logical", urn=MICROS_INSTANT_URN, representation=_MICROS_REPR), _MicrosInstantCoder()
    origin = typing.get_origin(hint) or hint
    args = typing.get_args(hint)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            element, coder = _element(args[0], where)
            return FieldType("array", element=element), TupleSequenceCoder(coder)
        raise _FieldError(
            f"`{type_name(hint)}` is a fixed-length tuple; a Beam schema has no such field type (Beam would "
            f"write it as an array of its first type). Declare Tuple[X, ...] or a nested record"
        )
    if args and origin in _MAPPINGS:
        key, key_coder = _element(args[0], where)
        value, value_coder = _element(args[1], where)
        return FieldType("map", key=key, value=value), MapCoder(key_coder, value_coder)
    if args and isinstance(origin, type) and (origin in _SEQUENCES or origin in _SETS or origin in _ITERABLES):
        element, coder = _element(args[0], where)
        if origin in _SEQUENCES:
            return FieldType("array", element=element), ListCoder(coder, lenient=True)
        if origin in _SETS:
            return FieldType("array", element=element), SetCoder(coder, frozen=_SETS[origin])
        return FieldType("array", element=element), IterableCoder(coder)
    raise _FieldError(
        f"`{type_name(hint)}` has no Beam schema field type (Beam would pickle it as pythonsdk_any, which "
        f"no runner or other SDK reads). Use int, float, str, bytes, bool, Decimal, datetime.date, Beam's "
        f"Timestamp, a list/tuple/set/dict of those, Optional, or a nested record"
    )


def _element(hint, where: str) -> tuple[FieldType, Coder]:
    """An array element, map key or map value: a nullable one carries its own NullableCoder (no bitmap)."""
    ftype, coder = _field(hint, where)
    return ftype, NullableCoder(coder) if ftype.nullable else coder


# ========================================================================== logical types


class _MicrosInstantCoder(Coder):
    """Beam's ``Timestamp`` as ``beam:logical_type:micros_instant:v1``: a row of two INT64 fields,
    ``seconds`` (floor of micros / 10**6) and ``micros`` (the rest, 0..999999): ``02 00`` then two varints.
    Deterministic."""

    def value_strategy(self, child, st):
        from apache_beam.utils.timestamp import Timestamp

        return st.integers(min_value=-(10**17), max_value=10**17).map(lambda m: Timestamp(micros=m))

    def encode_to(self, value, out, nested):
        micros = getattr(value, "micros", None)
        if type(micros) is not int or not _is_beam_timestamp(type(value)):
            raise self._encode_error(value, "a Beam Timestamp (apache_beam.utils.timestamp.Timestamp)")
        seconds, rest = divmod(micros, 1_000_000)
        out += b"\x02\x00"
        write_varint64(out, seconds)
        write_varint64(out, rest)

    def decode_from(self, data, pos, nested):
        values, pos = _MICROS_LAYOUT.decode_values(data, pos, nested)
        seconds, micros = values
        if seconds is None or micros is None:
            raise DecodeError("micros_instant: seconds and micros may not be null", offset=pos)
        from apache_beam.utils.timestamp import Timestamp

        return Timestamp(seconds=seconds, micros=micros), pos

    def min_nested_size(self) -> int:
        return 4

    def to_type_hint(self):
        from apache_beam.utils.timestamp import Timestamp

        return Timestamp


class _DateCoder(Coder):
    """``datetime.date`` as ``beam:logical_type:date:v1``: days since 1970-01-01 as a varint. Deterministic."""

    def value_strategy(self, child, st):
        return st.dates()

    def encode_to(self, value, out, nested):
        if type(value) is not datetime.date:
            raise self._encode_error(value, "a datetime.date (not a datetime)", "pass value.date() for a datetime")
        write_varint64(out, (value - _EPOCH_DATE).days)

    def decode_from(self, data, pos, nested):
        start = pos
        days, pos = read_varint64(data, pos)
        try:
            return _EPOCH_DATE + datetime.timedelta(days=days), pos
        except OverflowError:
            raise DecodeError(f"date: {days} days from 1970-01-01 is outside years 1-9999", offset=start) from None

    def min_nested_size(self) -> int:
        return 1

    def to_type_hint(self):
        return datetime.date


# ================================================================================ the layout


class _Layout:
    """The row bytes for a list of fields: count, null bitmap, present fields. Shared by RowCoder and
    the micros_instant representation."""

    def __init__(self, names, coders, nullable, defaults=None):
        self.names = tuple(names)
        self.coders = tuple(coders)
        self.nullable = tuple(nullable)
        self.defaults = defaults or (None,) * len(self.names)
        self.n = len(self.names)
        self.mask_len = (self.n + 7) // 8
        self.encoders = tuple(c.encode_to for c in self.coders)
        self.decoders = tuple(c.decode_from for c in self.coders)

    def encode_values(self, values, out: bytearray, owner: Coder) -> None:
        n = self.n
        write_varint64(out, n)
        mask = None
        for i, v in enumerate(values):
            if v is None:
                if not self.nullable[i]:
                    err = EncodeError(
                        f"field {self.names[i]} is None but not nullable in the row schema",
                        coder=owner,
                        value=None,
                        fix=f"declare it Optional[...] (a nullable schema field), or give {self.names[i]} a value",
                    )
                    raise err.with_path("." + self.names[i])
                if mask is None:
                    mask = bytearray(self.mask_len)
                mask[i >> 3] |= 1 << (i & 7)
        if mask is None:
            out.append(0)
        else:
            write_varint64(out, len(mask))
            out += mask
        i = 0
        try:
            for i, encode in enumerate(self.encoders):
                v = values[i]
                if v is not None:
                    encode(v, out, True)
        except EncodeError as e:
            raise e.with_path("." + self.names[i]) from None
        except (TypeError, ValueError, OverflowError, AttributeError) as e:
            err = EncodeError(f"{type(e).__name__}: {e}", coder=self.coders[i], value=values[i])
            raise err.with_path("." + self.names[i]) from e

    def decode_values(self, data, pos: int, nested: bool) -> tuple[list, int]:
        start = pos
        count, pos = read_varint64(data, pos)
        if count < 0:
            raise DecodeError(f"row: negative field count {count}", offset=start)
        mask_at = pos
        mask_len, pos = read_varint64(data, pos)
        if mask_len < 0:
            raise DecodeError(f"row: negative null bitmap length {mask_len}", offset=mask_at)
        mask, pos = read_exact(data, pos, mask_len, "row null bitmap") if mask_len else (b"", pos)
        n = self.n
        values: list = []
        i = 0
        try:
            for i in range(min(n, count)):
                if i >> 3 < mask_len and mask[i >> 3] >> (i & 7) & 1:
                    if not self.nullable[i]:
                        raise DecodeError(
                            f"row: field {self.names[i]} is marked null but is not nullable in the schema",
                            offset=mask_at,
                        )
                    values.append(None)
                else:
                    v, pos = self.decoders[i](data, pos, True)
                    values.append(v)
        except DecodeError as e:
            raise e.with_path("." + self.names[i]) from None
        except RecursionError:
            raise
        except _MALFORMED as e:
            raise DecodeError(f"malformed input ({type(e).__name__}: {e})", offset=pos).with_path(
                "." + self.names[i]
            ) from e
        for i in range(count, n):  # written before these fields existed: defaults, else None
            default = self.defaults[i]
            if default is not None:
                values.append(default())
            elif self.nullable[i]:
                values.append(None)
            else:
                raise DecodeError(
                    f"row: the data has {count} field(s) but field {self.names[i]} (#{i}) is neither nullable "
                    f"nor defaulted, so it cannot be filled; make it Optional or give it a default",
                    offset=start,
                )
        if count > n:
            pos = self._skip_extra(data, pos, count, mask, nested, start)
        return values, pos

    def _skip_extra(self, data, pos, count, mask, nested, start) -> int:
        """Fields written after this schema's last one (a newer writer): null ones take no bytes; other
        bytes can only be skipped in the outer context, where they run to the end (as Beam does)."""
        n = self.n
        if count <= len(mask) * 8 and all(mask[i >> 3] >> (i & 7) & 1 for i in range(n, count)):
            return pos
        if not nested:
            return len(data)
        raise DecodeError(
            f"row: the data has {count} fields but this schema has {n}; the extra fields' bytes cannot be "
            f"skipped inside a nested value. Decode with the type that wrote them",
            offset=start,
        )


_MICROS_LAYOUT = _Layout(("seconds", "micros"), (VarIntCoder(), VarIntCoder()), (False, False))


def _micros_repr() -> FieldType:
    return FieldType("row", row=_MicrosRepresentation())


class _MicrosRepresentation:
    """The representation row of micros_instant (its schema, and field types for stream readers)."""

    field_types = (FieldType("atomic", atomic="INT64"), FieldType("atomic", atomic="INT64"))

    @property
    def schema(self):
        from apache_beam.portability.api import schema_pb2

        int64 = schema_pb2.FieldType(atomic_type=schema_pb2.INT64)
        fields = [schema_pb2.Field(name="seconds", type=int64), schema_pb2.Field(name="micros", type=int64)]
        schema = schema_pb2.Schema(fields=fields)
        schema.id = str(uuid.uuid5(uuid.NAMESPACE_URL, "coderkit:" + self._describe_fields()))
        return schema

    def _describe_fields(self) -> str:
        return "seconds:INT64,micros:INT64"


_MICROS_REPR = _micros_repr()


# ============================================================================ record fields


def _type_hints(cls) -> dict[str, Any]:
    module = sys.modules.get(getattr(cls, "__module__", "") or "")
    globalns = dict(vars(module)) if module is not None else {}
    try:
        return typing.get_type_hints(cls, globalns=globalns, localns={cls.__name__: cls}, include_extras=True)
    except Exception as e:
        raise TypeError(
            f"RowCoder({cls.__qualname__}): its annotations cannot be evaluated ({type(e).__name__}: {e}); "
            f"define every type the fields name at module level"
        ) from None


def _field_hints(cls, kind: str, names) -> list:
    if kind == "pydantic":
        return [cls.model_fields[n].annotation for n in names]
    if kind == "attrs":
        hints = _type_hints(cls)
        return [hints.get(a.name, a.type) for a in cls.__attrs_attrs__]
    hints = _type_hints(cls)
    return [hints.get(n, typing.Any) for n in names]


def _defaults(cls, kind: str, names) -> tuple:
    """Per field, a function giving its default for rows written before the field existed (or None)."""
    out = []
    for name in names:
        make = None
        if kind == "dataclass":
            f = {f.name: f for f in dataclasses.fields(cls)}[name]
            if f.default is not dataclasses.MISSING:
                make = (lambda v: lambda: v)(f.default)
            elif f.default_factory is not dataclasses.MISSING:
                make = f.default_factory
        elif kind == "namedtuple":
            if name in cls._field_defaults:
                make = (lambda v: lambda: v)(cls._field_defaults[name])
        elif kind == "pydantic":
            info = cls.model_fields[name]
            if info.default_factory is not None or not info.is_required():
                make = (lambda i: lambda: i.get_default(call_default_factory=True))(info)
        elif kind == "attrs":
            a = {a.name: a for a in cls.__attrs_attrs__}[name]
            factory = getattr(a.default, "factory", None)
            if factory is not None and not getattr(a.default, "takes_self", False):
                make = factory
            elif a.default is not None and factory is None and type(a.default).__name__ != "_Nothing":
                make = (lambda v: lambda: v)(a.default)
        elif kind == "msgspec":
            defaults = dict(zip(cls.__struct_fields__[-len(cls.__struct_defaults__) :], cls.__struct_defaults__))
            if name in defaults:
                d = defaults[name]
                factory = getattr(d, "factory", None) if type(d).__name__ == "Factory" else None
                make = factory if factory is not None else (lambda v: lambda: v)(d)
        out.append(make)
    return tuple(out)


# ================================================================================ RowCoder


class RowCoder(Accelerated, Coder):
    """A record (dataclass, NamedTuple, pydantic model, attrs class, msgspec Struct) as Beam's row.

    Bytes: Beam's ``RowCoder`` (``beam:coder:row:v1``) for the schema Beam infers for the class
    (see the module docstring): a varint field count, a null bitmap, then each field that is not
    None with its field type's coder; the same bytes in both contexts. ``Point(x=1, y=2)`` with two
    ``int`` fields -> ``02 00 01 02``.

    ``.schema`` is that schema (Beam's ``schema_pb2.Schema``: the fields, types and nullability
    Beam infers; a stable id; a ``coderkit:python_type`` option naming the class), and
    ``coders.beam.to_beam`` gives Beam's RowCoder for it. Decoding builds the class itself without
    ``__init__`` (as ``RecordCoder`` does), each field as declared: ``Tuple[int, ...]`` a tuple,
    ``Set[str]`` a set, a nested record its own class.

    Evolution, as Beam's row reader: a row written with fewer fields fills the missing ones with
    their defaults (or None when nullable); extra trailing fields are skipped when they are null
    or the row is the outer value.

    Deterministic exactly when every field coder is (floats, dicts, sets and decimals are not;
    ``as_deterministic_coder`` gives canonical variants whose bytes Beam still reads).
    """

    beam_coder = "RowCoder"
    python_type_option: ClassVar[str] = PYTHON_TYPE_OPTION

    def __init__(self, record_type):
        cls, mapping = generic_record(record_type, is_record_class) or (record_type, None)
        try:
            self._kind = _record_kind(cls)
        except TypeError:
            raise TypeError(
                f"RowCoder takes a dataclass, NamedTuple, pydantic model, attrs class or msgspec Struct, not "
                f"{record_type!r}"
            ) from None
        self.record_type = record_type
        self.cls = cls
        names = _declared_fields(cls, self._kind)
        hints = _field_hints(cls, self._kind, names)
        if mapping:
            hints = [substitute_type_vars(h, mapping) for h in hints]
        stack = getattr(_building, "stack", None)
        if stack is None:
            stack = _building.stack = []
        if cls in stack:
            raise TypeError(
                f"RowCoder({stack[0].__qualname__}): {cls.__qualname__} contains itself; a Beam schema cannot be "
                f"recursive. Use RecordCoder (coders.get_coder) for recursive types"
            )
        stack.append(cls)
        try:
            types, coders = [], []
            for name, hint in zip(names, hints):
                try:
                    ftype, coder = _field(hint, name)
                except _FieldError as e:
                    raise TypeError(f"RowCoder({cls.__qualname__}): field {name}: {e}") from None
                types.append(ftype)
                coders.append(coder)
        finally:
            stack.pop()
        self.field_names = tuple(names)
        self.field_types = tuple(types)
        self.field_coders = tuple(coders)
        self._defaults = _defaults(cls, self._kind, names)
        self._canonical = False  # True for the as_deterministic_coder variant
        self._setup()

    def _setup(self) -> None:
        names = self.field_names
        for name in PUBLIC_METHODS:
            self.__dict__.pop(name, None)  # methods bound to another instance's codec (a copied __dict__)
        self._layout = _Layout(names, self.field_coders, [t.nullable for t in self.field_types], self._defaults)
        self.from_fields = _make_from_fields(_builder_kind(self._kind, self.cls, names), self.cls, names)
        if self._kind == "namedtuple":
            self._values_of = tuple
        elif not names:
            self._values_of = lambda value: ()
        elif len(names) == 1:
            getter = operator.attrgetter(names[0])
            self._values_of = lambda value: (getter(value),)
        else:
            self._values_of = operator.attrgetter(*names)
        self._schema = None

    def _with_field_coders(self, coders) -> RowCoder:
        new = object.__new__(RowCoder)
        new.__dict__.update(self.__dict__)
        new.field_coders = tuple(coders)
        new._canonical = True
        new._setup()
        return new

    def __reduce__(self):
        # By reference to the class: the field coders are derived again on load.
        return (_rebuild, (self.record_type, self._canonical))

    # ---- bytes ----

    def encode_to(self, value, out: bytearray, nested: bool) -> None:
        if type(value) is not self.cls:
            raise self._encode_error(
                value,
                f"an instance of {self.cls.__qualname__}",
                f"encode a {self.cls.__qualname__} (this coder is for that class only)",
            )
        try:
            values = self._values_of(value)
        except AttributeError as e:
            raise self._encode_error(value, f"a {self.cls.__qualname__} with every field set ({e})") from None
        try:
            self._layout.encode_values(values, out, self)
        except EncodeError as e:
            if e.fix is None:
                e.fix = f"give {self.cls.__qualname__} field values of their declared types"
            raise

    def decode_from(self, data, pos: int, nested: bool):
        values, pos = self._layout.decode_values(data, pos, nested)
        return self.from_fields(values), pos

    def accel_node(self, child):
        nullable = bytes(int(t.nullable) for t in self.field_types)
        fields = tuple(child(c) for c in self.field_coders)
        return ("row", self.cls, self.field_names, self.from_fields, self._kind == "namedtuple", nullable, fields)

    # ---- schema ----

    def _describe_fields(self) -> str:
        return ",".join(f"{n}:{t.describe()}" for n, t in zip(self.field_names, self.field_types))

    @property
    def schema(self):
        """Beam's ``schema_pb2.Schema`` for the class (a fresh copy; imports Beam's protos)."""
        from apache_beam.portability.api import schema_pb2

        if self._schema is None:
            fields = [schema_pb2.Field(name=n, type=t.to_proto()) for n, t in zip(self.field_names, self.field_types)]
            python_type = f"{self.cls.__module__}:{self.cls.__qualname__}"
            option = schema_pb2.Option(
                name=PYTHON_TYPE_OPTION,
                type=schema_pb2.FieldType(atomic_type=schema_pb2.STRING),
                value=schema_pb2.FieldValue(atomic_value=schema_pb2.AtomicTypeValue(string=python_type)),
            )
            schema = schema_pb2.Schema(fields=fields, options=[option])
            digest = hashlib.sha256(f"{python_type}|{self._describe_fields()}".encode()).hexdigest()
            schema.id = str(uuid.uuid5(uuid.NAMESPACE_URL, "coderkit:" + digest))
            self._schema = schema.SerializeToString()
        out = schema_pb2.Schema()
        out.ParseFromString(self._schema)
        return out

    @classmethod
    def from_schema(cls, schema) -> RowCoder | None:
        """The RowCoder for a Beam schema that names its class (``coderkit:python_type``) when the class
        imports and its schema has the same fields, else None."""
        ref = next((o.value.atomic_value.string for o in schema.options if o.name == PYTHON_TYPE_OPTION), None)
        if not ref or ":" not in ref:
            return None
        module_name, _, qualname = ref.partition(":")
        try:
            target: Any = importlib.import_module(module_name)
            for part in qualname.split("."):
                target = getattr(target, part)
            coder = cls(target)
        except Exception:
            return None
        return coder if same_fields(coder.schema, schema) else None

    # ---- the rest of the coder protocol ----

    def min_nested_size(self) -> int:
        return 2

    def labelled_components(self) -> list[tuple[str, Coder]]:
        return [("." + n, c) for n, c in zip(self.field_names, self.field_coders)]

    def value_strategy(self, child, st):
        parts = [
            (child(c) | st.none()) if t.nullable else child(c) for c, t in zip(self.field_coders, self.field_types)
        ]
        return st.tuples(*parts).map(self.from_fields)

    def path_name(self) -> str:
        return self.cls.__name__

    def to_type_hint(self):
        return self.record_type

    def beam_args(self, components: list) -> list:
        return [self]

    @classmethod
    def from_beam_coder(cls, beam_coder, components):
        ours = getattr(beam_coder, "coder", None)
        if isinstance(ours, RowCoder):
            return ours
        found = cls.from_schema(beam_coder.schema)
        if found is None:
            from .errors import CoderNotFoundError

            raise CoderNotFoundError(
                f"Beam's RowCoder for schema {beam_coder.schema.id!r} names no importable class with the same "
                f"fields, so coderkit cannot tell which class its rows decode to. Fix: use coders.RowCoder("
                f"YourClass) for the class the rows hold",
                types=(type(beam_coder),),
            )
        return found

    def _params(self) -> tuple:
        return (self.record_type,)

    def _repr_args(self) -> list[str]:
        return [type_name(self.record_type)] + [f"{n}={c!r}" for n, c in zip(self.field_names, self.field_coders)]

    def as_deterministic_coder(self, context: str | None = None) -> Coder:
        """This row with every field coder replaced by its deterministic variant (bytes Beam still reads)."""
        if self.is_deterministic():
            return self
        fixed, failed = [], []
        for name, coder in zip(self.field_names, self.field_coders):
            try:
                fixed.append(coder.as_deterministic_coder(context))
            except NonDeterministicCoderError:
                failed.append(name)
        if failed:
            self.verify_deterministic(context)
        return self._with_field_coders(fixed)


def _rebuild(record_type, deterministic: bool) -> RowCoder:
    coder = RowCoder(record_type)
    return coder.as_deterministic_coder() if deterministic else coder


def same_fields(a, b) -> bool:
    """Two Beam schemas with the same fields (names, types, nullability, nested rows), ids and options aside."""
    if len(a.fields) != len(b.fields):
        return False
    return all(x.name == y.name and _same_type(x.type, y.type) for x, y in zip(a.fields, b.fields))


def _same_type(a, b) -> bool:
    if a.nullable != b.nullable or a.WhichOneof("type_info") != b.WhichOneof("type_info"):
        return False
    kind = a.WhichOneof("type_info")
    if kind == "atomic_type":
        return a.atomic_type == b.atomic_type
    if kind == "array_type":
        return _same_type(a.array_type.element_type, b.array_type.element_type)
    if kind == "iterable_type":
        return _same_type(a.iterable_type.element_type, b.iterable_type.element_type)
    if kind == "map_type":
        return _same_type(a.map_type.key_type, b.map_type.key_type) and _same_type(
            a.map_type.value_type, b.map_type.value_type
        )
    if kind == "row_type":
        return same_fields(a.row_type.schema, b.row_type.schema)
    if kind == "logical_type":
        la, lb = a.logical_type, b.logical_type
        if la.urn != lb.urn or la.HasField("representation") != lb.HasField("representation"):
            return False
        return not la.HasField("representation") or _same_type(la.representation, lb.representation)
    return False


def row_coder_or_none(record_type) -> RowCoder | None:
    """``RowCoder(record_type)``, or None when a field has no Beam schema type (the registry then keeps
    ``RecordCoder``: ``CoderRegistry(record_format="row")``)."""
    try:
        return RowCoder(record_type)
    except TypeError:
        return None
