"""Coders for user-defined types: enums, records (dataclasses, NamedTuples, pydantic models, attrs
classes, msgspec Structs, TypedDicts, ``beam.Row``) and unions.

These are coderkit's own formats (Beam has no standard coder for them); each is
described byte by byte in its class docstring and in docs/wire-format.md.

* ``EnumCoder``: the member's NAME, written like ``StrUtf8Coder`` writes a string
  (outer: the UTF-8 bytes; nested: varint length, then the bytes). Names survive a
  reordering of the members and adding new ones; numbers would not.
* ``RecordCoder``: the fields in declaration order, each with its own coder, like
  Beam's ``TupleCoder`` (every field nested, except the last which takes the
  record's own context). No type tag: the coder knows the class.
* ``TypedDictCoder``: a presence bitmap of the optional keys (when there are any), then the
  present keys' values in declaration order, ``RecordCoder``'s convention.
* ``BeamRowCoder``: the field count and names, then the values (a Row has no class to hold them).
* ``UnionCoder``: a varint tag (the member's index), then that member's encoding in
  the union's context.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import keyword
import linecache
import operator
import sys
import threading
import typing
from collections.abc import Mapping
from typing import Any, Iterable, Sequence

from .accel.codec import PUBLIC_METHODS, Accelerated
from .base import _MALFORMED, WRAPPED, Coder, min_nested_size, width_of_all
from .errors import DecodeError, EncodeError, NonDeterministicCoderError
from .naming import short_repr, type_name
from .streams import read_exact, read_length_prefixed, read_varint64, varint64_size, write_varint64

__all__ = [
    "BeamRowCoder",
    "EnumCoder",
    "RecordCoder",
    "TypedDictCoder",
    "UnionCoder",
    "generic_record",
    "is_attrs_class",
    "is_beam_row_class",
    "is_msgspec_struct_class",
    "is_namedtuple_class",
    "is_pydantic_model_class",
    "is_record_class",
    "is_typeddict_class",
    "record_field_names",
    "record_mutability",
    "substitute_type_vars",
]

# Records being rebuilt by as_deterministic_coder in this thread: id(original) -> new deferred coder.
# A recursive record meets itself while rebuilding its fields and must get the placeholder back.
_rebuilding = threading.local()


def _rebuild_map() -> dict:
    m = getattr(_rebuilding, "map", None)
    if m is None:
        m = _rebuilding.map = {}
    return m


def _deterministic_fields(coder, segment_of, context):
    """``coder`` (a record or TypedDict coder: ``cls``, ``field_names``, ``field_coders``, ``deferred``,
    ``set_fields``) rebuilt from its fields' deterministic variants; a recursive one meets its own
    placeholder. Raises with every field that has none, each at ``segment_of(name)``."""
    building = _rebuild_map()
    placeholder = building.get(id(coder))
    if placeholder is not None:
        return placeholder
    if coder.is_deterministic():
        return coder
    new = type(coder).deferred(coder.cls)
    building[id(coder)] = new
    try:
        fixed, failed = [], []
        for name, field_coder in zip(coder.field_names, coder.field_coders):
            try:
                fixed.append((name, field_coder.as_deterministic_coder(context)))
            except NonDeterministicCoderError:
                failed.append(segment_of(name))
        if failed:
            raise NonDeterministicCoderError(coder, _issues_under(coder, failed), context=context)
        return new.set_fields(fixed)
    finally:
        del building[id(coder)]


def substitute_type_vars(hint, mapping: dict):
    """``hint`` with its type variables replaced from ``mapping`` (``list[T]`` -> ``list[int]``)."""
    if not mapping:
        return hint
    if isinstance(hint, typing.TypeVar):
        return mapping.get(hint, hint)
    params = getattr(hint, "__parameters__", ())
    if params and typing.get_origin(hint) is not None:
        try:
            return hint[tuple(mapping.get(p, p) for p in params)]
        except TypeError:
            return hint
    return hint


def generic_record(hint, predicate):
    """``(cls, typevar -> argument)`` when ``hint`` is a record class or a parameterised generic record."""
    if isinstance(hint, type) and predicate(hint):
        return hint, {}
    origin = typing.get_origin(hint)
    if isinstance(origin, type) and predicate(origin):
        params = getattr(origin, "__parameters__", ())
        return origin, dict(zip(params, typing.get_args(hint)))
    return None


def _issues_under(coder: Coder, segments: Iterable[str]) -> list:
    """The determinism issues of ``coder`` whose path goes through one of the given child segments."""
    root = coder.path_name()
    prefixes = [root + seg for seg in segments]
    out = []
    for issue in coder.determinism_issues():
        for p in prefixes:
            if issue.path == p or (issue.path.startswith(p) and issue.path[len(p)] in ".[<"):
                out.append(issue)
                break
    return out


# ==================================================================================== enums


class EnumCoder(Coder):
    """An ``enum.Enum`` (also ``IntEnum``, ``Flag``, ``IntFlag``) member, encoded by its name.

    Bytes: the member's name as UTF-8, exactly as ``StrUtf8Coder`` writes a string:
    outer context, the bytes alone; nested context, a varint byte count first.
    ``Color.RED`` -> outer ``52 45 44``, nested ``03 52 45 44``.

    Why the name: it is stable when members are reordered or added (a position or a
    ``auto()`` value is not), it is readable in a hex dump, and it works for members
    whose values are not encodable (tuples, objects). Decoding looks the name up in
    ``__members__``, so an alias kept after a rename (``CRIMSON = 1; RED = 1``) still
    decodes old data. An unknown name is a DecodeError naming the enum and the name.

    Flags: a combination is written as Python names it, the member names joined by
    ``|`` in definition order (``"R|G"``); the empty flag (value 0, no member named
    for it) is the empty string. A flag value with bits no member names cannot be
    written by name and is an EncodeError.

    Only members of exactly this enum are accepted: the raw value (``1`` for an
    ``IntEnum`` member) or a member of another enum is an EncodeError, because
    decoding would return something that is not the value given. Deterministic.
    """

    beam_coder = WRAPPED  # Beam has no enum coder

    def value_strategy(self, child, st):
        return st.sampled_from(list(self.enum_cls))

    def __init__(self, enum_cls: type[enum.Enum]):
        if not (isinstance(enum_cls, type) and issubclass(enum_cls, enum.Enum)):
            raise TypeError(f"EnumCoder takes an enum.Enum subclass, not {enum_cls!r}")
        self.enum_cls = enum_cls
        self._setup()

    def _setup(self) -> None:
        cls = self.enum_cls
        self._is_flag = issubclass(cls, enum.Flag)
        # member -> UTF-8 name (canonical members only; flag combinations are computed)
        self._encoded = {m: m.name.encode("utf-8") for m in cls.__members__.values()}
        # UTF-8 name (aliases included) -> member
        self._by_name = {name.encode("utf-8"): m for name, m in cls.__members__.items()}

    def __reduce__(self):
        # By reference to the enum class; the lookup tables are rebuilt on load.
        return (EnumCoder, (self.enum_cls,))

    # ---- bytes ----

    def encode_to(self, value, out: bytearray, nested: bool) -> None:
        if type(value) is not self.enum_cls:
            raise self._not_a_member(value)
        raw = self._encoded.get(value)
        if raw is None:
            raw = self._flag_name(value)
        if nested:
            write_varint64(out, len(raw))
        out += raw

    def decode_from(self, data, pos: int, nested: bool):
        start = pos
        if nested:
            raw, pos = read_length_prefixed(data, pos, f"{self.enum_cls.__qualname__} member name")
        else:
            raw = bytes(data[pos:])
            pos = len(data)
        member = self._by_name.get(raw)
        if member is None:
            member = self._decode_unlisted(raw, start, outer=not nested)
        return member, pos

    def _flag_name(self, value) -> bytes:
        name = value.name
        if name is None and value.value == 0:
            return b""
        members = self.enum_cls.__members__
        if name is None or any(part not in members for part in name.split("|")):
            raise self._encode_error(
                value,
                f"a {self.enum_cls.__qualname__} value made of named members",
                fix="only combine named flag members; bits no member names cannot be encoded by name",
            )
        return name.encode("utf-8")

    def _decode_unlisted(self, raw: bytes, offset: int, outer: bool = False):
        cls = self.enum_cls
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            if outer:
                self._raise_if_cut(raw, offset)
            raise DecodeError(
                f"{cls.__qualname__} member name is not valid UTF-8 ({e.reason})", offset=offset
            ) from None
        if self._is_flag:
            if name == "":
                return cls(0)
            parts = name.split("|")
            if all(p in cls.__members__ for p in parts):
                result = cls(0)
                for p in parts:
                    result |= cls.__members__[p]
                return result
        if outer:
            self._raise_if_cut(raw, offset)
        known = ", ".join(cls.__members__)
        raise DecodeError(
            f"unknown member name {name!r} for enum {cls.__qualname__} (known: {known}); the data was "
            f"written with a different version of {cls.__qualname__}: add the member back, or an alias",
            offset=offset,
        )

    def _raise_if_cut(self, raw: bytes, offset: int) -> None:
        """Outer context, ``raw`` runs to the end of the data: if it is the start of a member name
        (for a flag, of its last ``|`` part), the data was cut short, not written by another version."""
        head, bar, last = raw.rpartition(b"|") if self._is_flag else (b"", b"", raw)
        parts = head.split(b"|") if bar else []
        if not all(p in self._by_name for p in parts):
            return
        names = [(head + bar + n).decode("utf-8") for n in self._by_name if n.startswith(last) and n not in parts]
        if not names or last in self._by_name:
            return
        what = f"{self.enum_cls.__qualname__} member name"
        if not raw:
            raise DecodeError(f"truncated input: expected a {what}, found end of data", offset=offset)
        shown = raw.decode("utf-8", "ignore")
        listed = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise DecodeError(
            f"truncated input: the data ends inside a {what} ({shown!r} is the start of {listed})",
            offset=offset + len(raw),
        )

    def _not_a_member(self, value) -> EncodeError:
        cls = self.enum_cls
        if isinstance(value, enum.Enum):
            return self._encode_error(
                value,
                f"a member of {cls.__qualname__}",
                fix=f"{value!r} is a member of {type(value).__qualname__}; use a coder for that enum, "
                f"or a UnionCoder of both enums",
            )
        try:
            member = cls(value)
        except Exception:
            member = None
        if member is not None:
            return self._encode_error(
                value,
                f"a member of {cls.__qualname__}",
                fix=f"pass the member {member!r} instead of its raw value (it would decode as the member)",
            )
        return self._encode_error(value, f"a member of {cls.__qualname__}")

    # ---- the rest of the coder protocol ----

    def estimate_size(self, value, nested: bool = False) -> int:
        raw = self._encoded.get(value) if type(value) is self.enum_cls else None
        if raw is None:
            return super().estimate_size(value, nested)
        return len(raw) + (varint64_size(len(raw)) if nested else 0)

    def min_nested_size(self) -> int:
        return 1  # the varint length of the name

    def to_type_hint(self):
        return self.enum_cls

    def _params(self) -> tuple:
        return (self.enum_cls,)

    def _repr_args(self) -> list[str]:
        return [self.enum_cls.__qualname__]


# ================================================================================== records


def is_namedtuple_class(cls) -> bool:
    """A ``typing.NamedTuple`` or ``collections.namedtuple`` class (coderkit's one test for it)."""
    return isinstance(cls, type) and issubclass(cls, tuple) and isinstance(getattr(cls, "_fields", None), tuple)


# Records from other libraries are recognised through the library's module only when it is already
# imported (the user's class proves it): coderkit never imports pydantic, attrs or msgspec itself.


def _loaded(module: str, name: str):
    mod = sys.modules.get(module)
    return getattr(mod, name, None) if mod is not None else None


def is_pydantic_model_class(cls) -> bool:
    """A pydantic v2 ``BaseModel`` subclass (``RootModel`` included), recognised without importing pydantic."""
    base = _loaded("pydantic.main", "BaseModel")
    return base is not None and isinstance(cls, type) and issubclass(cls, base) and cls is not base


def is_attrs_class(cls) -> bool:
    """A class made by attrs (``attrs.define``, ``frozen``, ``attr.s``), recognised without importing attrs."""
    return isinstance(cls, type) and isinstance(cls.__dict__.get("__attrs_attrs__"), tuple)


def is_msgspec_struct_class(cls) -> bool:
    """A ``msgspec.Struct`` subclass, recognised without importing msgspec."""
    base = _loaded("msgspec", "Struct")
    return base is not None and isinstance(cls, type) and issubclass(cls, base) and cls is not base


def is_typeddict_class(cls) -> bool:
    """A ``TypedDict`` class (``typing`` or ``typing_extensions``; total or not)."""
    return (
        isinstance(cls, type)
        and issubclass(cls, dict)
        and isinstance(getattr(cls, "__required_keys__", None), frozenset)
        and isinstance(getattr(cls, "__optional_keys__", None), frozenset)
    )


def is_beam_row_class(cls) -> bool:
    """Beam's ``beam.Row`` (``apache_beam.pvalue.Row``), recognised by module and name."""
    return isinstance(cls, type) and cls.__name__ == "Row" and cls.__module__ == "apache_beam.pvalue"


def is_record_class(cls) -> bool:
    """A class RecordCoder takes (coderkit's one test for it): a dataclass (pydantic dataclasses
    included), a NamedTuple, a pydantic model, an attrs class or a msgspec Struct."""
    if not isinstance(cls, type):
        return False
    return (
        dataclasses.is_dataclass(cls)
        or is_namedtuple_class(cls)
        or is_pydantic_model_class(cls)
        or is_attrs_class(cls)
        or is_msgspec_struct_class(cls)
    )


def _record_kind(cls) -> str:
    if isinstance(cls, type) and dataclasses.is_dataclass(cls):
        return "dataclass"
    if is_namedtuple_class(cls):
        return "namedtuple"
    if is_pydantic_model_class(cls):
        if cls.model_config.get("extra") == "allow":
            raise TypeError(
                f"RecordCoder cannot keep the extra fields of the pydantic model {cls.__qualname__} "
                f"(model_config extra='allow' stores undeclared values it would lose); declare them as fields, "
                f"use extra='ignore' or 'forbid', or register a coder (coders.register_coder)"
            )
        return "pydantic"
    if is_attrs_class(cls):
        return "attrs"
    if is_msgspec_struct_class(cls):
        return "msgspec"
    raise TypeError(
        f"RecordCoder takes a dataclass or a NamedTuple class (or a pydantic model, attrs class or msgspec Struct), "
        f"not {cls!r}; register a coder for other classes (coders.register_coder)"
    )


def _declared_fields(cls, kind: str) -> tuple[str, ...]:
    if kind == "namedtuple":
        return tuple(cls._fields)
    if kind == "pydantic":
        return tuple(cls.model_fields)
    if kind == "attrs":
        return tuple(a.name for a in cls.__attrs_attrs__)
    if kind == "msgspec":
        return tuple(cls.__struct_fields__)
    return tuple(f.name for f in dataclasses.fields(cls))


def record_field_names(cls) -> tuple[str, ...] | None:
    """The stored fields of a record class RecordCoder takes, in declaration order; None for other classes."""
    try:
        return _declared_fields(cls, _record_kind(cls))
    except TypeError:
        return None


def record_mutability(cls) -> tuple[str, str] | None:
    """``(what, fix)`` when instances of the record class can change after they are made (a mutable
    dataclass, pydantic model, attrs class or msgspec Struct), else None (frozen, or a NamedTuple)."""
    if not isinstance(cls, type):
        return None
    if dataclasses.is_dataclass(cls):
        params = getattr(cls, "__dataclass_params__", None)
        if params is not None and not params.frozen:
            return "a mutable dataclass (frozen=False)", "@dataclass(frozen=True)"
        return None
    if is_pydantic_model_class(cls):
        if not cls.model_config.get("frozen"):
            return "a mutable pydantic model (frozen=False)", "model_config = ConfigDict(frozen=True)"
        return None
    if is_attrs_class(cls):
        props = getattr(cls, "__attrs_props__", None)
        frozen = (
            props.is_frozen if props is not None else getattr(cls.__setattr__, "__name__", "") == "_frozen_setattrs"
        )
        return None if frozen else ("a mutable attrs class", "@attrs.frozen (or @attrs.define(frozen=True))")
    if is_msgspec_struct_class(cls):
        if not cls.__struct_config__.frozen:
            return "a mutable msgspec Struct", f"class {cls.__name__}(msgspec.Struct, frozen=True)"
        return None
    return None


def _builder_kind(kind: str, cls, names) -> str:
    """How decoding sets the fields of a new instance, fastest first:

    * ``tuple``: a NamedTuple, ``tuple.__new__(cls, values)``;
    * ``pydantic``: a pydantic model, as ``model_construct`` builds one (no validation): ``object.__new__``,
      its ``__dict__`` set to the fields, every field in ``model_fields_set``, no extra, private
      attributes at their defaults; ``model_post_init`` is not run;
    * ``call``: a msgspec Struct, ``cls(**fields)``: a Struct's ``__init__`` never validates (it only
      stores, then runs ``__post_init__`` as msgspec's own decoders do), and no other way makes one;
    * ``attr``: no ``__setattr__`` of its own (a plain, non-frozen dataclass): ordinary
      attribute stores, which also keep CPython's compact instance layout (fast reads later);
    * ``dict``: a frozen dataclass or attrs class (its ``__setattr__`` raises): the values are written
      straight into the instance ``__dict__``, 4x faster than ``object.__setattr__`` per field (reads on
      such instances are slightly slower afterwards, as CPython then keeps a real dict);
    * ``setattr``: slots or data descriptors (attrs' default slotted classes), which only
      ``object.__setattr__`` fills correctly, bypassing attrs' validators and converters.
    """
    if kind == "namedtuple":
        return "tuple"
    if kind == "pydantic":
        return "pydantic"
    if kind == "msgspec":
        return "call"
    if any(hasattr(type(inspect.getattr_static(cls, name, None)), "__set__") for name in names):
        return "setattr"
    if cls.__setattr__ is object.__setattr__ and all(
        name.isidentifier() and not keyword.iskeyword(name) for name in names
    ):
        return "attr"
    return "dict"


_PYDANTIC_SLOTS = ("__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")


def _slot_setter(cls, name: str):
    """``setter(obj, value)`` for a slot of ``cls``: its descriptor's ``__set__``, else ``object.__setattr__``."""
    setter = getattr(inspect.getattr_static(cls, name, None), "__set__", None)
    return setter if setter is not None else lambda obj, value: object.__setattr__(obj, name, value)


def _pydantic_private_init(cls):
    """None when the model has no private attributes, else ``init(obj)`` that fills ``__pydantic_private__``
    with their defaults (factories called) exactly as pydantic's ``__init__`` and ``model_construct`` do."""
    if not getattr(cls, "__private_attributes__", None):
        return None
    init = _loaded("pydantic._internal._model_construction", "init_private_attributes")
    if init is not None:
        return lambda obj: init(obj, None)
    undefined = _loaded("pydantic_core", "PydanticUndefined")

    def init_private(obj):
        private = {}
        for name, attribute in type(obj).__private_attributes__.items():
            default = attribute.get_default(call_default_factory=True)
            if default is not undefined:
                private[name] = default
        object.__setattr__(obj, "__pydantic_private__", private)

    return init_private


@functools.lru_cache(maxsize=1024)
def _compiled(source: str, name: str):
    """The code object for generated source, registered with ``linecache`` so a traceback through it
    shows the generated line. Cached: compiling is most of what building a record coder costs, and
    every registry deriving the same class generates the same source."""
    filename = f"<coderkit {name} {abs(hash(source)):x}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    return compile(source, filename, "exec")


def _make_from_fields(build: str, cls, names):
    """Generate ``from_fields(values) -> instance`` for one record class, without calling ``__init__``.

    ``values`` holds the field values in declaration order; a wrong count is a TypeError.
    """
    n = len(names)

    def count_error(values):
        got = f"{len(values)} values" if hasattr(values, "__len__") else repr(values)
        return TypeError(f"{cls.__qualname__} has {n} fields {list(names)}, got {got}")

    lines = ["def from_fields(values):"]
    unpack = (
        [
            "    try:",
            f"        {''.join(f'v{i}, ' for i in range(n))}= values",
            "    except (ValueError, TypeError):",
            "        raise count_error(values) from None",
        ]
        if n
        else ["    if len(values) != 0:", "        raise count_error(values)"]
    )
    private = slots = None
    if build == "pydantic":
        # model_construct without validation or model_post_init (kept in step with pydantic's own)
        private = _pydantic_private_init(cls)
        # BaseModel's slots are set through their descriptors (a third faster than object.__setattr__)
        slots = {name: _slot_setter(cls, name) for name in _PYDANTIC_SLOTS}
        lines += unpack + ["    obj = new(cls)", "    d = obj.__dict__"]
        lines += [f"    d[{name!r}] = v{i}" for i, name in enumerate(names)]
        lines += [
            f"    set_fields_set(obj, {{{', '.join(map(repr, names))}}})" if n else "    set_fields_set(obj, set())"
        ]
        if not cls.__pydantic_root_model__:
            lines += ["    set_extra(obj, None)", "    set_private(obj, None)"]
            if private is not None:
                lines += ["    private(obj)"]
        lines += ["    return obj"]
    elif build == "call":
        lines += unpack + [f"    return cls({', '.join(f'{name}=v{i}' for i, name in enumerate(names))})"]
    elif build == "tuple":
        lines += [
            f"    if len(values) != {n}:",
            "        raise count_error(values)",
            "    return tuple_new(cls, values)",
        ]
    elif build == "setattr" or n == 0:
        lines += [f"    if len(values) != {n}:", "        raise count_error(values)", "    obj = new(cls)"]
        lines += [f"    setattr_(obj, {name!r}, values[{i}])" for i, name in enumerate(names)]
        lines += ["    return obj"]
    elif build == "attr":
        targets = ", ".join(f"obj.{name}" for name in names)
        lines += [
            "    obj = new(cls)",
            "    try:",
            f"        {targets}, = values",
            "    except (ValueError, TypeError):",
            "        raise count_error(values) from None",
            "    return obj",
        ]
    else:
        targets = ", ".join(f"d[{name!r}]" for name in names)
        # The unpacking checks the count before assigning anything.
        lines += [
            "    obj = new(cls)",
            "    d = obj.__dict__",
            "    try:",
            f"        {targets}, = values",
            "    except (ValueError, TypeError):",
            "        raise count_error(values) from None",
            "    return obj",
        ]
    namespace = {
        "new": object.__new__,
        "tuple_new": tuple.__new__,
        "setattr_": object.__setattr__,
        "cls": cls,
        "count_error": count_error,
        "private": private,
    }
    if slots is not None:
        namespace.update(
            set_fields_set=slots["__pydantic_fields_set__"],
            set_extra=slots["__pydantic_extra__"],
            set_private=slots["__pydantic_private__"],
        )
    exec(_compiled("\n".join(lines) + "\n", f"RecordCoder.from_fields for {cls.__qualname__}"), namespace)
    return namespace["from_fields"]


def _encoder_of(coder: Coder):
    """``coder.encode_to`` to call from a record's field loop. A deferred record whose fields are not
    set yet gets its methods replaced by set_fields, so it is looked up at call time instead."""
    if isinstance(coder, RecordCoder) and not coder._fields_set:
        return lambda value, out, nested: coder.encode_to(value, out, nested)
    return coder.encode_to


def _decoder_of(coder: Coder):
    """``coder.decode_from`` to call from a record's field loop (late-bound like ``_encoder_of``)."""
    if isinstance(coder, RecordCoder) and not coder._fields_set:
        return lambda data, pos, nested: coder.decode_from(data, pos, nested)
    return coder.decode_from


class RecordCoder(Accelerated, Coder):
    """A dataclass or NamedTuple (``typing.NamedTuple`` or ``collections.namedtuple``), a pydantic v2
    model or pydantic dataclass, an attrs class or a msgspec Struct.

    Bytes: each field's encoding in declaration order, with no tag, count or names;
    every field is in the nested context except the last, which takes the record's
    own context (Beam's ``TupleCoder`` convention, so a NamedTuple's bytes equal
    Beam's ``TupleCoder`` of the same component coders). A record with no fields is
    zero bytes. ``Point(x=1, y=2)`` with two VarIntCoders -> ``01 02``.

    ``fields`` is a sequence of ``(name, coder)`` and must name every field of the
    class, in declaration order (every ``dataclasses.fields`` entry, including
    ``init=False`` ones; every NamedTuple ``_fields`` entry; pydantic's ``model_fields``;
    ``attrs.fields`` by attribute name; msgspec's ``__struct_fields__``). Only those fields
    are stored: other instance attributes (a cached_property's value, pydantic private
    attributes, which come back at their defaults) are not.

    Encoding takes exactly ``cls``: an instance of a subclass or of another class is
    an EncodeError naming both classes (decoding would give back the wrong type).

    Decoding rebuilds the same class without calling ``__init__``/``__post_init__``
    or ``__new__``, so validation or normalisation in them cannot reject or alter a
    stored value, and frozen dataclasses and ``init=False`` fields work: a NamedTuple
    is made with ``tuple.__new__(cls, values)``; a dataclass with ``object.__new__``,
    then its fields stored without running any ``__setattr__`` of the class (plain
    stores when it has none, straight into ``__dict__`` when it is frozen,
    ``object.__setattr__`` for slots and descriptors; see ``_builder_kind``). A pydantic
    model is built as ``model_construct`` builds one (no validator runs, every field counts
    as set in ``model_fields_set``; pydantic's ``==`` ignores that set); an attrs class like a
    dataclass (its validators and converters do not run); a msgspec Struct by ``cls(**fields)``
    (a Struct's ``__init__`` never validates; its ``__post_init__`` runs, as with msgspec's decoders).

    Deterministic exactly when every field coder is (a mutable record is still a poor key:
    ``coders.determinism.coder_key_hazards`` says so). For recursive types (a tree
    ``Node`` whose ``children`` are ``list[Node]``) make the coder first with
    ``RecordCoder.deferred(Node)`` and fill it with ``set_fields`` once its field
    coders (which refer to it) exist.

    Speed: ``encode_to``/``decode_from`` are the readable reference; the public methods run
    the whole tree in the C accelerator when it is built (``coders.accel``), which hands
    whatever it does not handle to the reference.
    """

    beam_coder = WRAPPED  # Beam's RowCoder writes a different layout

    # ---- construction ----

    def __init__(self, cls: type, fields: Iterable[tuple[str, Coder]]):
        self._init_empty(cls)
        self.set_fields(fields)

    @classmethod
    def deferred(cls, record_cls: type) -> RecordCoder:
        """An empty coder for ``record_cls`` to refer to before its fields exist; call ``set_fields`` next."""
        self = cls.__new__(cls)
        self._init_empty(record_cls)
        return self

    def _init_empty(self, cls) -> None:
        self._kind = _record_kind(cls)
        self.cls = cls
        self.field_names: tuple[str, ...] = ()
        self.field_coders: tuple[Coder, ...] = ()
        self._fields_set = False
        self._setup()

    def set_fields(self, fields: Iterable[tuple[str, Coder]]) -> RecordCoder:
        """Give a deferred coder its ``(name, coder)`` fields (pairs or a dict); once only, before first use.

        Returns self, so ``RecordCoder.deferred(Node).set_fields(...)`` reads as one expression.
        """
        if self._fields_set:
            raise ValueError(f"{self.path_name()}: RecordCoder fields are already set; set_fields runs once")
        if isinstance(fields, Mapping):
            fields = fields.items()
        pairs = []
        for item in fields:
            try:
                name, coder = item
            except (TypeError, ValueError):
                raise TypeError(f"RecordCoder fields are (name, coder) pairs, got {item!r}") from None
            if not isinstance(name, str):
                raise TypeError(f"RecordCoder field name must be a str, got {name!r}")
            if not isinstance(coder, Coder):
                raise TypeError(
                    f"field {self.cls.__qualname__}.{name}: expected a coders.Coder, got {type(coder).__name__} "
                    f"{coder!r}"
                )
            pairs.append((name, coder))
        names = tuple(n for n, _ in pairs)
        declared = _declared_fields(self.cls, self._kind)
        if names != declared:
            missing = [n for n in declared if n not in names]
            extra = [n for n in names if n not in declared]
            details = []
            if missing:
                details.append(f"missing {missing}")
            if extra:
                details.append(f"not fields of the class {extra}")
            if not details:
                details.append(f"order differs (declared order {list(declared)})")
            raise TypeError(
                f"RecordCoder for {self.cls.__qualname__}: fields {list(names)} do not match the class's fields "
                f"{list(declared)}: {'; '.join(details)}. Give one (name, coder) per field, in declaration order"
            )
        self.field_names = names
        self.field_coders = tuple(c for _, c in pairs)
        self._fields_set = True
        self._setup()
        return self

    def _setup(self) -> None:
        """Derive the hot-path helpers from cls, field_names and field_coders (also after unpickling)."""
        names = self.field_names
        n = len(names)
        coders = self.field_coders
        # (method, context) per field: every field nested, except the last in an outer record.
        self._nested_enc = tuple((_encoder_of(c), True) for c in coders)
        self._outer_enc = tuple((_encoder_of(c), i < n - 1) for i, c in enumerate(coders))
        self._nested_dec = tuple((_decoder_of(c), True) for c in coders)
        self._outer_dec = tuple((_decoder_of(c), i < n - 1) for i, c in enumerate(coders))
        for name in ("encode_to", "decode_from", *PUBLIC_METHODS):
            self.__dict__.pop(name, None)  # undo a previous setup's bound methods
        self._build_kind = _builder_kind(self._kind, self.cls, names)
        # from_fields is per instance: generated for this class (also what the C accelerator calls)
        self.from_fields = self._build = _make_from_fields(self._build_kind, self.cls, names)
        if self._kind == "namedtuple":
            self._values_of = None  # the record is its own tuple of values
        elif n == 0:
            self._values_of = lambda value: ()
        elif n == 1:
            getter = operator.attrgetter(names[0])
            self._values_of = lambda value: (getter(value),)
        else:
            self._values_of = operator.attrgetter(*names)
        if not self._fields_set:
            self.encode_to = self.decode_from = self._fields_not_set

    def _fields_not_set(self, *args):
        raise RuntimeError(
            f"RecordCoder for {self.cls.__qualname__} was made with RecordCoder.deferred and its fields are "
            f"not set yet: call set_fields([(name, coder), ...]) before encoding or decoding"
        )

    def __getstate__(self):
        # Only the definition: the derived helpers (and the bound codec) are rebuilt on load.
        return {
            "cls": self.cls,
            "field_names": self.field_names,
            "field_coders": self.field_coders,
            "_fields_set": self._fields_set,
        }

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._kind = _record_kind(self.cls)
        self._setup()

    # ---- building instances ----

    def from_fields(self, values: Sequence[Any]):
        """An instance of ``cls`` from its field values in declaration order, built without ``__init__``.

        (Replaced per instance by a function generated for the class; this is its specification.)
        """
        return self._build(values)

    # ---- bytes: the reference (plain composition) path ----

    def encode_to(self, value, out: bytearray, nested: bool) -> None:
        """The reference encoder (a loop over the fields); the C accelerator's ``record`` node writes the
        same bytes, and tests/coders/test_speedups.py checks both agree."""
        if type(value) is not self.cls:
            raise self._wrong_class(value)
        if self._values_of is None:
            values = value
        else:
            try:
                values = self._values_of(value)
            except AttributeError as e:
                self._encode_failure(value, 0, e)
        i = 0
        try:
            for encode, field_nested in self._nested_enc if nested else self._outer_enc:
                encode(values[i], out, field_nested)
                i += 1
        except Exception as e:
            self._encode_failure(value, i, e)

    def decode_from(self, data, pos: int, nested: bool):
        """The reference decoder (a loop over the fields); the C ``record`` node reads the same bytes."""
        values = []
        append = values.append
        try:
            for decode, field_nested in self._nested_dec if nested else self._outer_dec:
                value, pos = decode(data, pos, field_nested)  # pos stays at the field's start on failure
                append(value)
        except Exception as e:
            self._decode_failure(len(values), pos, e)
        return self._build(values), pos

    def _encode_failure(self, value, i: int, exc: Exception):
        """Raise the EncodeError for field ``i`` failing with ``exc`` (path ``.field``, class named, fix)."""
        if isinstance(exc, EncodeError):
            raise self._field_error(exc, i) from None
        if isinstance(exc, AttributeError) and not all(hasattr(value, n) for n in self.field_names):
            raise self._missing_field(value) from None
        if isinstance(exc, (TypeError, ValueError, OverflowError, AttributeError)):
            field = getattr(value, self.field_names[i], None)
            err = EncodeError(f"{type(exc).__name__}: {exc}", coder=self.field_coders[i], value=field)
            raise self._field_error(err, i) from exc
        raise exc

    def _decode_failure(self, i: int, pos: int, exc: Exception):
        """Raise the DecodeError for field ``i`` (starting at ``pos``) failing with ``exc``."""
        if isinstance(exc, DecodeError):
            raise exc.with_path("." + self.field_names[i]) from None
        if isinstance(exc, RecursionError):  # the public method names the depth limit once, at the top
            raise exc
        if isinstance(exc, _MALFORMED):
            raise DecodeError(
                f"malformed input ({type(exc).__name__}: {exc})", offset=pos, coder=self.field_coders[i]
            ).with_path("." + self.field_names[i]) from exc
        raise exc

    def _wrong_class(self, value) -> EncodeError:
        name = self.cls.__qualname__
        if isinstance(value, self.cls):
            fix = (
                f"{type(value).__qualname__} is a subclass of {name}: give it its own coder "
                f"(decoding as {name} would lose the subclass), or a UnionCoder of both"
            )
        else:
            fix = (
                f"encode an instance of {name} (this coder is for {name} only), or use a UnionCoder with a "
                f"member for {type(value).__qualname__}"
            )
        return self._encode_error(value, f"an instance of {name} (not {type(value).__qualname__})", fix=fix)

    def _missing_field(self, value) -> EncodeError:
        for name in self.field_names:
            if not hasattr(value, name):
                err = EncodeError(
                    f"field {self.cls.__qualname__}.{name} is not set on the instance",
                    coder=self,
                    value=value,
                    fix="set it in __init__/__post_init__ or give it a default",
                )
                return err.with_path("." + name)
        return EncodeError(
            f"reading the fields of {self.cls.__qualname__} raised AttributeError", coder=self, value=value
        )

    def _field_error(self, err: EncodeError, i: int) -> EncodeError:
        name = self.field_names[i]
        if not getattr(err, "_record_field_named", False):
            # The innermost record names its class and field once: "field Order.id: ...".
            err._record_field_named = True
            err.reason = f"field {self.cls.__qualname__}.{name}: {err.reason}"
            if err.fix is None:
                err.fix = (
                    f"give {self.cls.__qualname__}.{name} a value {type(self.field_coders[i]).__name__} "
                    f"encodes ({type_name(self.field_coders[i].to_type_hint())}), or declare the field "
                    f"with the type it really holds"
                )
        return err.with_path("." + name)

    # ---- the rest of the coder protocol ----

    def estimate_size(self, value, nested: bool = False) -> int:
        if type(value) is not self.cls:
            return super().estimate_size(value, nested)
        values = value if self._values_of is None else self._values_of(value)
        plan = self._nested_enc if nested else self._outer_enc
        return sum(c.estimate_size(v, field_nested) for c, v, (_, field_nested) in zip(self.field_coders, values, plan))

    def min_nested_size(self) -> int:
        return sum(min_nested_size(c) for c in self.field_coders)

    def labelled_components(self) -> list[tuple[str, Coder]]:
        return [("." + n, c) for n, c in zip(self.field_names, self.field_coders)]

    def accel_node(self, child):
        if not self._fields_set:  # deferred: its fields may still change, so it is called, not inlined
            return super().accel_node(child)
        fields = tuple(child(c) for c in self.field_coders)
        return ("record", self.cls, tuple(self.field_names), self.from_fields, self._kind == "namedtuple", fields)

    def value_strategy(self, child, st):
        return st.tuples(*(child(c) for c in self.field_coders)).map(self.from_fields)

    def nested_width(self):
        return width_of_all(self.field_coders) if self._fields_set else None

    def path_name(self) -> str:
        return self.cls.__name__

    def to_type_hint(self):
        return self.cls

    def _params(self) -> tuple:
        return (self.cls, self._fields_set)

    def _repr_args(self) -> list[str]:
        args = [self.cls.__qualname__]
        if not self._fields_set:
            return args + ["<fields not set>"]
        return args + [f"{n}={c!r}" for n, c in zip(self.field_names, self.field_coders)]

    def as_deterministic_coder(self, context: str | None = None) -> Coder:
        """This record with every field coder replaced by its deterministic variant (self if already)."""
        return _deterministic_fields(self, lambda name: "." + name, context)


# ============================================================================== TypedDict


class TypedDictCoder(Coder):
    """A ``TypedDict`` value (a plain dict): its keys' values in declaration order, a missing key kept missing.

    Bytes: when the TypedDict has optional keys (``total=False`` or ``NotRequired``), first a presence
    bitmap of ``ceil(k / 8)`` bytes for its ``k`` optional keys in declaration order (bit ``i % 8``,
    least significant first, of byte ``i // 8`` set when optional key ``i`` is present; unused bits 0).
    Then the value of every present key in declaration order, each by its key's coder, every one
    nested except the last present one, which takes the dict's own context (Beam's ``TupleCoder``
    convention). With no optional keys there is no bitmap, so the bytes equal ``RecordCoder``'s for
    the same fields. No names and no count: the coder knows the keys.

    Encoding takes a ``dict`` holding every required key and no undeclared key (an undeclared key
    would be lost: EncodeError naming it). Decoding gives a plain ``dict`` with the keys in
    declaration order. Deterministic exactly when every key's coder is (the bytes follow the
    declaration order, not the dict's insertion order); a dict key is still mutable and unhashable.
    """

    beam_coder = WRAPPED  # Beam has no TypedDict coder

    def __init__(self, cls: type, fields: Iterable[tuple[str, Coder]]):
        self._init_empty(cls)
        self.set_fields(fields)

    @classmethod
    def deferred(cls, typeddict_cls: type) -> TypedDictCoder:
        """An empty coder for a recursive TypedDict to refer to; call ``set_fields`` next."""
        self = cls.__new__(cls)
        self._init_empty(typeddict_cls)
        return self

    def _init_empty(self, cls) -> None:
        if not is_typeddict_class(cls):
            raise TypeError(f"TypedDictCoder takes a TypedDict class, not {cls!r}")
        self.cls = cls
        self.field_names: tuple[str, ...] = ()
        self.field_coders: tuple[Coder, ...] = ()
        self._fields_set = False
        self._setup()

    def set_fields(self, fields: Iterable[tuple[str, Coder]]) -> TypedDictCoder:
        """Give the coder one ``(key, coder)`` per key of the TypedDict, in declaration order; returns self."""
        if self._fields_set:
            raise ValueError(f"{self.path_name()}: TypedDictCoder fields are already set; set_fields runs once")
        pairs = list(fields.items() if isinstance(fields, Mapping) else fields)
        declared = tuple(self.cls.__annotations__)
        names = tuple(n for n, _ in pairs)
        if names != declared:
            raise TypeError(
                f"TypedDictCoder for {self.cls.__qualname__}: keys {list(names)} do not match the TypedDict's keys "
                f"{list(declared)}; give one (key, coder) per key, in declaration order"
            )
        for name, coder in pairs:
            if not isinstance(coder, Coder):
                raise TypeError(
                    f"key {self.cls.__qualname__}[{name!r}]: expected a coders.Coder, got {type(coder).__name__}"
                )
        self.field_names = names
        self.field_coders = tuple(c for _, c in pairs)
        self._fields_set = True
        self._setup()
        return self

    def _setup(self) -> None:
        optional = self.cls.__optional_keys__
        self._optional = tuple(n for n in self.field_names if n in optional)
        self._required = tuple(n for n in self.field_names if n not in optional)
        self._bit = {n: i for i, n in enumerate(self._optional)}
        self._bitmap_size = (len(self._optional) + 7) // 8
        self._declared = frozenset(self.field_names)

    def __getstate__(self):
        return {
            "cls": self.cls,
            "field_names": self.field_names,
            "field_coders": self.field_coders,
            "_fields_set": self._fields_set,
        }

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._setup()

    def _check_set(self) -> None:
        if not self._fields_set:
            raise RuntimeError(
                f"TypedDictCoder for {self.cls.__qualname__} was made with deferred() and its fields are not set "
                f"yet: call set_fields([(key, coder), ...]) first"
            )

    # ---- bytes ----

    def encode_to(self, value, out: bytearray, nested: bool) -> None:
        self._check_set()
        if type(value) is not dict:
            raise self._encode_error(
                value,
                f"a dict (the values of the TypedDict {self.cls.__qualname__})",
                fix="pass a plain dict with the TypedDict's keys",
            )
        if not self._declared.issuperset(value):
            extra = [k for k in value if k not in self._declared]
            raise self._encode_error(
                value,
                f"a dict with only the keys of {self.cls.__qualname__} ({', '.join(map(repr, self.field_names))})",
                fix=f"remove the undeclared key(s) {short_repr(extra, 80)} (they would be lost), or declare them "
                f"in {self.cls.__qualname__}",
            )
        for name in self._required:
            if name not in value:
                err = EncodeError(
                    f"required key {name!r} of {self.cls.__qualname__} is missing",
                    coder=self,
                    value=value,
                    fix=f"set value[{name!r}], or declare it NotRequired[...] (or the TypedDict total=False)",
                )
                raise err.with_path(f"[{name!r}]")
        if self._bitmap_size:
            bits = 0
            for name in self._optional:
                if name in value:
                    bits |= 1 << self._bit[name]
            out += bits.to_bytes(self._bitmap_size, "little")
        present = [(n, c) for n, c in zip(self.field_names, self.field_coders) if n in value]
        last = len(present) - 1
        for i, (name, coder) in enumerate(present):
            try:
                coder.encode_to(value[name], out, nested or i < last)
            except EncodeError as e:
                raise e.with_path(f"[{name!r}]") from None
            except (TypeError, ValueError, OverflowError, AttributeError) as e:
                err = EncodeError(f"{type(e).__name__}: {e}", coder=coder, value=value[name])
                raise err.with_path(f"[{name!r}]") from e

    def decode_from(self, data, pos: int, nested: bool):
        self._check_set()
        present = self.field_names
        if self._bitmap_size:
            raw, pos_after = read_exact(data, pos, self._bitmap_size, f"{self.cls.__qualname__} presence bitmap")
            bits = int.from_bytes(raw, "little")
            if bits >> len(self._optional):
                raise DecodeError(
                    f"{self.cls.__qualname__} presence bitmap {raw.hex(' ')} sets bits past its "
                    f"{len(self._optional)} optional key(s)",
                    offset=pos,
                )
            pos = pos_after
            present = tuple(n for n in self.field_names if n not in self._bit or bits >> self._bit[n] & 1)
        coders = dict(zip(self.field_names, self.field_coders))
        result = {}
        last = len(present) - 1
        for i, name in enumerate(present):
            try:
                result[name], pos = coders[name].decode_from(data, pos, nested or i < last)
            except DecodeError as e:
                raise e.with_path(f"[{name!r}]") from None
            except RecursionError:
                raise
            except _MALFORMED as e:
                raise DecodeError(
                    f"malformed input ({type(e).__name__}: {e})", offset=pos, coder=coders[name]
                ).with_path(f"[{name!r}]") from e
        return result, pos

    # ---- the rest of the coder protocol ----

    def min_nested_size(self) -> int:
        coders = dict(zip(self.field_names, self.field_coders))
        return self._bitmap_size + sum(min_nested_size(coders[n]) for n in self._required)

    def labelled_components(self) -> list[tuple[str, Coder]]:
        return [(f"[{n!r}]", c) for n, c in zip(self.field_names, self.field_coders)]

    def value_strategy(self, child, st):
        coders = dict(zip(self.field_names, self.field_coders))
        return st.fixed_dictionaries(
            {n: child(coders[n]) for n in self._required}, optional={n: child(coders[n]) for n in self._optional}
        ).map(lambda d: {n: d[n] for n in self.field_names if n in d})

    def path_name(self) -> str:
        return self.cls.__name__

    def to_type_hint(self):
        return self.cls

    def _params(self) -> tuple:
        return (self.cls, self._fields_set)

    def _repr_args(self) -> list[str]:
        args = [self.cls.__qualname__]
        if not self._fields_set:
            return args + ["<fields not set>"]
        return args + [f"{n}{'?' if n in self._bit else ''}={c!r}" for n, c in zip(self.field_names, self.field_coders)]

    def as_deterministic_coder(self, context: str | None = None) -> Coder:
        """This TypedDict coder with every key's coder made deterministic (self if already)."""
        return _deterministic_fields(self, lambda name: f"[{name!r}]", context)


# ================================================================================ beam.Row


def _beam_row_class():
    from apache_beam.pvalue import Row  # the coder is only ever given Rows, so Beam is installed

    return Row


class BeamRowCoder(Coder):
    """A ``beam.Row`` (``apache_beam.pvalue.Row``) with its field names, their order and values.

    A Row has no class of its own to hold its schema, so the names travel with every value.
    Bytes: ``varint(n)`` fields; the ``n`` names, each as a nested ``StrUtf8Coder`` writes it
    (varint byte count, UTF-8); then the ``n`` values, each by ``value_coder`` (``AnyCoder()`` by
    default, type-tagged), every one nested except the last, which takes the row's own context.
    ``Row(a=1)`` -> outer ``01 01 61 01 01`` (AnyCoder: tag 01, varint 1). Decoding refuses a name given twice.

    Deterministic exactly when ``value_coder`` is: the default ``AnyCoder()`` is not (floats'
    sign of zero, dict order); ``as_deterministic_coder()`` gives ``BeamRowCoder(AnyCoder(deterministic=True))``.
    Rows themselves are mutable and unhashable (Beam's ``__hash__`` raises), so they make poor keys.
    Beam's own ``RowCoder`` needs a schema fixed per PCollection; this coder needs none.
    """

    beam_coder = WRAPPED  # Beam's RowCoder writes a schema'd layout without names

    def __init__(self, value_coder: Coder | None = None):
        if value_coder is None:
            from .dynamic import AnyCoder

            value_coder = AnyCoder()
        if not isinstance(value_coder, Coder):
            raise TypeError(f"BeamRowCoder takes a coders.Coder for the values, not {type(value_coder).__name__}")
        self.value_coder = value_coder

    def encode_to(self, value, out: bytearray, nested: bool) -> None:
        if not is_beam_row_class(type(value)):
            raise self._encode_error(value, "a beam.Row", fix="build the element with beam.Row(name=value, ...)")
        items = list(value.__dict__.items())
        write_varint64(out, len(items))
        for name, _ in items:
            if type(name) is not str:
                raise self._encode_error(value, "a beam.Row whose field names are str")
            raw = name.encode("utf-8")
            write_varint64(out, len(raw))
            out += raw
        encode, last = self.value_coder.encode_to, len(items) - 1
        for i, (name, field) in enumerate(items):
            try:
                encode(field, out, nested or i < last)
            except EncodeError as e:
                raise e.with_path("." + name) from None

    def decode_from(self, data, pos: int, nested: bool):
        start = pos
        n, pos = read_varint64(data, pos)
        if not 0 <= n <= len(data) - pos:  # each name takes at least its length byte
            raise DecodeError(f"beam.Row field count {n} exceeds the {len(data) - pos} bytes left", offset=start)
        names = []
        for _ in range(n):
            at = pos
            raw, pos = read_length_prefixed(data, pos, "beam.Row field name")
            try:
                name = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise DecodeError(f"beam.Row field name is not valid UTF-8 ({e.reason})", offset=at) from None
            names.append(name)
        if len(set(names)) != n:
            raise DecodeError(f"beam.Row field names repeat: {names}", offset=start)
        decode, last, fields = self.value_coder.decode_from, n - 1, {}
        for i, name in enumerate(names):
            try:
                fields[name], pos = decode(data, pos, nested or i < last)
            except DecodeError as e:
                raise e.with_path("." + name) from None
        row = object.__new__(_beam_row_class())
        row.__dict__.update(fields)
        return row, pos

    def min_nested_size(self) -> int:
        return 1

    def labelled_components(self) -> list[tuple[str, Coder]]:
        return [("<value>", self.value_coder)]

    def value_strategy(self, child, st):
        names = st.lists(st.text(min_size=1, max_size=8), max_size=4, unique=True)

        def rows(ns):
            def build(values):
                row = object.__new__(_beam_row_class())
                row.__dict__.update(zip(ns, values))
                return row

            # plain values, not child(value_coder): Row.__eq__ compares with ==, so a NaN inside never equals
            values = st.one_of(
                st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.text(max_size=8), st.binary(max_size=8)
            )
            return st.tuples(*(values for _ in ns)).map(build)

        return names.flatmap(rows)

    def to_type_hint(self):
        try:
            return _beam_row_class()
        except ImportError:
            return typing.Any

    def as_deterministic_coder(self, context: str | None = None) -> Coder:
        """``BeamRowCoder`` of the value coder's deterministic variant (self if already deterministic)."""
        if self.is_deterministic():
            return self
        return BeamRowCoder(self.value_coder.as_deterministic_coder(context))


# =================================================================================== unions


def _runtime_class(hint) -> type:
    if hint is None:
        return type(None)
    if isinstance(hint, type) and not typing.get_args(hint):
        return hint
    origin = typing.get_origin(hint)
    if isinstance(origin, type):
        return origin
    raise TypeError(f"UnionCoder member types must be classes (or None, or a generic like list[int]), not {hint!r}")


class UnionCoder(Coder):
    """A value of one of several types: a varint tag (the member's index), then that member's encoding.

    Bytes: ``varint(index)`` followed by the member coder's bytes in the union's own
    context. ``UnionCoder([(int, VarIntCoder()), (str, StrUtf8Coder())])``: ``5`` ->
    ``00 05``; ``"hi"`` -> outer ``01 68 69``, nested ``01 02 68 69``.

    ``members`` is a sequence of ``(type, coder)``; the type may be ``None`` for
    ``NoneType`` or a generic alias such as ``list[int]`` (matched by its origin).
    The member for a value is the one whose type is exactly ``type(value)``, else the
    first whose type the value is an instance of, in order (``bool`` never falls back
    to an ``int`` member: ``True`` would come back as ``1``). Tags are positions, so
    add members at the end to keep old data readable. Deterministic exactly when
    every member coder is.
    """

    beam_coder = WRAPPED  # Beam has no union coder

    def __init__(self, members: Iterable[tuple[Any, Coder]]):
        hints, coders, runtime = [], [], []
        for item in members:
            try:
                hint, coder = item
            except (TypeError, ValueError):
                raise TypeError(f"UnionCoder members are (type, coder) pairs, got {item!r}") from None
            if not isinstance(coder, Coder):
                raise TypeError(
                    f"UnionCoder member {type_name(hint)}: expected a coders.Coder, got "
                    f"{type(coder).__name__} {coder!r}"
                )
            rt = _runtime_class(hint)
            if rt in runtime:
                raise TypeError(f"UnionCoder: two members for {type_name(rt)}; each type may appear once")
            hints.append(hint)
            coders.append(coder)
            runtime.append(rt)
        if not coders:
            raise TypeError("UnionCoder needs at least one (type, coder) member")
        self.member_types = tuple(hints)
        self.member_coders = tuple(coders)
        self._setup()

    def _setup(self) -> None:
        self._classes = tuple(_runtime_class(h) for h in self.member_types)
        self._exact = {c: i for i, c in enumerate(self._classes)}
        self._labels = tuple(f"<{type_name(h)}>" for h in self.member_types)
        self._encoders = tuple(c.encode_to for c in self.member_coders)
        self._decoders = tuple(c.decode_from for c in self.member_coders)

    def __getstate__(self):
        return {"member_types": self.member_types, "member_coders": self.member_coders}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._setup()

    def member_index(self, value) -> int:
        """The tag ``value`` is written with, or EncodeError listing the member types."""
        i = self._exact.get(type(value))
        if i is not None:
            return i
        for i, cls in enumerate(self._classes):
            if isinstance(value, cls) and not (cls is int and isinstance(value, bool)):
                return i
        listed = ", ".join(type_name(h) for h in self.member_types)
        raise self._encode_error(
            value,
            f"a value of one of its member types ({listed})",
            fix=f"add a ({type(value).__qualname__}, coder) member, or convert the value",
        )

    def encode_to(self, value, out: bytearray, nested: bool) -> None:
        i = self._exact.get(type(value))
        if i is None:
            i = self.member_index(value)
        write_varint64(out, i)
        try:
            self._encoders[i](value, out, nested)
        except EncodeError as e:
            raise e.with_path(self._labels[i]) from None

    def decode_from(self, data, pos: int, nested: bool):
        start = pos
        tag, pos = read_varint64(data, pos)
        if not 0 <= tag < len(self._decoders):
            raise DecodeError(
                f"unknown union tag {tag}: this union has {len(self._decoders)} members (tags 0.."
                f"{len(self._decoders) - 1}: {', '.join(self._labels)}); the data was written with more members",
                offset=start,
            )
        try:
            return self._decoders[tag](data, pos, nested)
        except DecodeError as e:
            raise e.with_path(self._labels[tag]) from None

    def estimate_size(self, value, nested: bool = False) -> int:
        i = self.member_index(value)
        return varint64_size(i) + self.member_coders[i].estimate_size(value, nested)

    def min_nested_size(self) -> int:
        return 1 + min(min_nested_size(c) for c in self.member_coders)

    def labelled_components(self) -> list[tuple[str, Coder]]:
        return list(zip(self._labels, self.member_coders))

    def value_strategy(self, child, st):
        return st.one_of(*(child(member) for member in self.member_coders))

    def to_type_hint(self):
        hints = tuple(type(None) if h is None else h for h in self.member_types)
        return hints[0] if len(hints) == 1 else typing.Union[hints]

    def _params(self) -> tuple:
        return (self.member_types,)

    def _repr_args(self) -> list[str]:
        return [f"{label[1:-1]}: {c!r}" for label, c in zip(self._labels, self.member_coders)]

    def as_deterministic_coder(self, context: str | None = None) -> Coder:
        """This union with every member coder replaced by its deterministic variant (self if already)."""
        if self.is_deterministic():
            return self
        fixed, failed = [], []
        for hint, label, coder in zip(self.member_types, self._labels, self.member_coders):
            try:
                fixed.append((hint, coder.as_deterministic_coder(context)))
            except NonDeterministicCoderError:
                failed.append(label)
        if failed:
            raise NonDeterministicCoderError(self, _issues_under(self, failed), context=context)
        return UnionCoder(fixed)
