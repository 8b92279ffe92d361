"""Coders for user-defined types: enums, records (dataclasses and NamedTuples) and unions.

These are coderkit's own formats (Beam has no standard coder for them); each is
described byte by byte in its class docstring and in docs/wire-format.md.

* ``EnumCoder``: the member's NAME, written like ``StrUtf8Coder`` writes a string
  (outer: the UTF-8 bytes; nested: varint length, then the bytes). Names survive a
  reordering of the members and adding new ones; numbers would not.
* ``RecordCoder``: the fields in declaration order, each with its own coder, like
  Beam's ``TupleCoder`` (every field nested, except the last which takes the
  record's own context). No type tag: the coder knows the class.
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
import threading
import typing
from collections.abc import Mapping
from typing import Any, Iterable, Sequence

from .accel.codec import PUBLIC_METHODS, Accelerated
from .base import _MALFORMED, WRAPPED, Coder, min_nested_size, width_of_all
from .errors import DecodeError, EncodeError, NonDeterministicCoderError
from .naming import type_name
from .streams import read_length_prefixed, read_varint64, varint64_size, write_varint64

__all__ = ["EnumCoder", "RecordCoder", "UnionCoder", "is_namedtuple_class", "is_record_class"]

# Records being rebuilt by as_deterministic_coder in this thread: id(original) -> new deferred coder.
# A recursive record meets itself while rebuilding its fields and must get the placeholder back.
_rebuilding = threading.local()


def _rebuild_map() -> dict:
    m = getattr(_rebuilding, "map", None)
    if m is None:
        m = _rebuilding.map = {}
    return m


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


def is_record_class(cls) -> bool:
    """A class RecordCoder takes: a dataclass or a NamedTuple (coderkit's one test for it)."""
    return (isinstance(cls, type) and dataclasses.is_dataclass(cls)) or is_namedtuple_class(cls)


def _record_kind(cls) -> str:
    if isinstance(cls, type) and dataclasses.is_dataclass(cls):
        return "dataclass"
    if is_namedtuple_class(cls):
        return "namedtuple"
    raise TypeError(
        f"RecordCoder takes a dataclass or a NamedTuple class, not {cls!r}; "
        f"register a coder for other classes (coders.register_coder)"
    )


def _declared_fields(cls, kind: str) -> tuple[str, ...]:
    if kind == "namedtuple":
        return tuple(cls._fields)
    return tuple(f.name for f in dataclasses.fields(cls))


def _builder_kind(kind: str, cls, names) -> str:
    """How decoding sets the fields of a new instance, fastest first:

    * ``tuple``: a NamedTuple, ``tuple.__new__(cls, values)``;
    * ``attr``: no ``__setattr__`` of its own (a plain, non-frozen dataclass): ordinary
      attribute stores, which also keep CPython's compact instance layout (fast reads later);
    * ``dict``: a frozen dataclass (its ``__setattr__`` raises): the values are written straight
      into the instance ``__dict__``, 4x faster than ``object.__setattr__`` per field (reads on
      such instances are slightly slower afterwards, as CPython then keeps a real dict);
    * ``setattr``: slots or data descriptors, which only ``object.__setattr__`` fills correctly.
    """
    if kind == "namedtuple":
        return "tuple"
    if any(hasattr(type(inspect.getattr_static(cls, name, None)), "__set__") for name in names):
        return "setattr"
    if cls.__setattr__ is object.__setattr__ and all(
        name.isidentifier() and not keyword.iskeyword(name) for name in names
    ):
        return "attr"
    return "dict"


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
    if build == "tuple":
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
    }
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
    """A dataclass or NamedTuple (``typing.NamedTuple`` or ``collections.namedtuple``).

    Bytes: each field's encoding in declaration order, with no tag, count or names;
    every field is in the nested context except the last, which takes the record's
    own context (Beam's ``TupleCoder`` convention, so a NamedTuple's bytes equal
    Beam's ``TupleCoder`` of the same component coders). A record with no fields is
    zero bytes. ``Point(x=1, y=2)`` with two VarIntCoders -> ``01 02``.

    ``fields`` is a sequence of ``(name, coder)`` and must name every field of the
    class, in declaration order (every ``dataclasses.fields`` entry, including
    ``init=False`` ones; every NamedTuple ``_fields`` entry). Only those fields are
    stored: other instance attributes (a cached_property's value) are not.

    Encoding takes exactly ``cls``: an instance of a subclass or of another class is
    an EncodeError naming both classes (decoding would give back the wrong type).

    Decoding rebuilds the same class without calling ``__init__``/``__post_init__``
    or ``__new__``, so validation or normalisation in them cannot reject or alter a
    stored value, and frozen dataclasses and ``init=False`` fields work: a NamedTuple
    is made with ``tuple.__new__(cls, values)``; a dataclass with ``object.__new__``,
    then its fields stored without running any ``__setattr__`` of the class (plain
    stores when it has none, straight into ``__dict__`` when it is frozen,
    ``object.__setattr__`` for slots and descriptors; see ``_builder_kind``).

    Deterministic exactly when every field coder is. For recursive types (a tree
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
        """The reference encoder (a loop over the fields). ``_setup`` shadows it per instance with
        a generated, unrolled equivalent (``_compile_codec``); tests check both give the same bytes."""
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
        """The reference decoder (a loop over the fields); shadowed per instance like ``encode_to``."""
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
        building = _rebuild_map()
        placeholder = building.get(id(self))
        if placeholder is not None:
            return placeholder
        if self.is_deterministic():
            return self
        new = RecordCoder.deferred(self.cls)
        building[id(self)] = new
        try:
            fixed, failed = [], []
            for name, coder in zip(self.field_names, self.field_coders):
                try:
                    fixed.append((name, coder.as_deterministic_coder(context)))
                except NonDeterministicCoderError:
                    failed.append("." + name)
            if failed:
                raise NonDeterministicCoderError(self, _issues_under(self, failed), context=context)
            return new.set_fields(fixed)
        finally:
            del building[id(self)]


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
