"""Protocol Buffers messages, in Beam's ``ProtoCoder`` bytes.

A message of one generated class is its protobuf wire bytes (``SerializePartialToString()``):
the whole string in the outer context, a varint length and then those bytes in the nested
context, exactly what Beam's ``ProtoCoder`` writes. The bytes do not name the class, so the
coder holds it. A ``google.protobuf.Timestamp`` is 11 bytes this way (92 pickled).

Plain serialization writes map entries and extensions in the order the runtime happens to
hold them, so two equal messages can encode apart; ``DeterministicProtoCoder``'s bytes
(``deterministic=True``: map entries and extensions sorted) are the deterministic variant.

coderkit never imports protobuf itself: ``protobuf_rule`` applies only when
``google.protobuf`` is already imported, and the coder reaches the library through the
user's message class.
"""

from __future__ import annotations

import sys
from typing import Any

from .base import Coder
from .errors import DecodeError
from .naming import type_name
from .streams import read_length_prefixed, write_varint64

__all__ = ["ProtoCoder", "nondeterministic_fields", "protobuf_rule"]

#: Depth to which ``value_strategy`` fills message fields (recursive types such as Struct stop there).
_STRATEGY_DEPTH = 2


def _message_base():
    """``google.protobuf.message.Message`` when protobuf is imported, else None."""
    module = sys.modules.get("google.protobuf.message")
    return getattr(module, "Message", None)


def is_message_class(hint: Any) -> bool:
    """True for a concrete generated message class (not ``Message`` itself)."""
    base = _message_base()
    return base is not None and isinstance(hint, type) and issubclass(hint, base) and hint is not base


def _is_repeated(field) -> bool:
    repeated = getattr(field, "is_repeated", None)
    if repeated is not None:
        return bool(repeated)
    return field.label == field.LABEL_REPEATED


def _is_map(field) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def nondeterministic_fields(descriptor) -> list[tuple[str, str]]:
    """``(path, what)`` for every place in a message type whose plain serialization depends on
    insertion order: map fields and extension ranges, at any depth (recursive types visited once)."""
    found: list[tuple[str, str]] = []
    seen: set[str] = set()

    def walk(desc, path: str) -> None:
        if desc.full_name in seen:
            return
        seen.add(desc.full_name)
        if desc.extension_ranges:
            kind = "a message type" if path == desc.full_name else f"a {desc.full_name}, a type"
            what = f"{kind} with extension ranges (extensions are written in the order they were set)"
            found.append((path, what))
        for field in desc.fields:
            if field.message_type is None:
                continue
            where = f"{path}.{field.name}"
            if _is_map(field):
                found.append((where, "a map field (its entries are written in hash order)"))
                value_type = field.message_type.fields_by_name["value"].message_type
                if value_type is not None:
                    walk(value_type, where + "[...]")
            else:
                walk(field.message_type, where)

    walk(descriptor, descriptor.full_name)
    return found


class ProtoCoder(Coder):
    """Messages of one protobuf class, as Beam's ``ProtoCoder`` (or ``DeterministicProtoCoder``) writes them.

    Outer: ``message.SerializePartialToString()``; nested: a varint byte length, then those bytes.
    ``Timestamp(seconds=1, nanos=5)`` -> ``08 01 10 05`` (nested ``04 08 01 10 05``). Decoding parses
    into a new message of the class (a missing proto2 required field is kept missing, as Beam does).

    Deterministic when the message type has no map field and no extension range at any depth (equal
    messages then serialize to equal bytes; unknown fields take part in equality, so they are no
    exception). Otherwise ``as_deterministic_coder()`` gives ``ProtoCoder(cls, deterministic=True)``,
    which serializes with ``deterministic=True`` (map entries and extensions sorted): the bytes of
    Beam's ``DeterministicProtoCoder``.
    """

    beam_coder = "ProtoCoder"
    beam_decodes = ("DeterministicProtoCoder",)

    def __init__(self, message_type: type, deterministic: bool = False):
        if not is_message_class(message_type):
            raise TypeError(
                f"ProtoCoder takes a generated protobuf message class, not {type_name(message_type)}. "
                "Fix: pass the class of your messages, e.g. ProtoCoder(timestamp_pb2.Timestamp)"
            )
        self.message_type = message_type
        self.deterministic = bool(deterministic)

    # ---- declared facts ------------------------------------------------------------------

    def beam_mapping(self) -> str:
        return "DeterministicProtoCoder" if self.deterministic else "ProtoCoder"

    def beam_args(self, components: list) -> list:
        return [self.message_type]

    @classmethod
    def from_beam_coder(cls, beam_coder, components: list) -> Coder:
        deterministic = type(beam_coder).__name__ == "DeterministicProtoCoder"
        return cls(beam_coder.proto_message_type, deterministic=deterministic)

    def value_strategy(self, child, st):
        return _message_strategy(self.message_type.DESCRIPTOR, st, 0)

    def min_nested_size(self) -> int:
        return 1

    # ---- bytes ---------------------------------------------------------------------------

    def encode_to(self, value, out: bytearray, nested: bool) -> None:
        if not isinstance(value, self.message_type):
            raise self._encode_error(
                value,
                f"a {self.message_type.__module__}.{self.message_type.__qualname__} message",
                fix="pass a message of that class, or use the coder of your message's class: "
                "coders.get_coder(type(message))",
            )
        data = value.SerializePartialToString(deterministic=self.deterministic)
        if nested:
            write_varint64(out, len(data))
        out += data

    def decode_from(self, data, pos: int, nested: bool):
        if nested:
            raw, pos = read_length_prefixed(data, pos, f"{self.message_type.__name__} message")
        else:
            raw, pos = bytes(data[pos:]), len(data)
        message = self.message_type()
        try:
            message.ParseFromString(raw)
        except Exception as e:  # protobuf's DecodeError, or a RuntimeError for a too-deep message
            raise DecodeError(
                f"not a valid {self.message_type.DESCRIPTOR.full_name} message: {type(e).__name__}: {e}",
                offset=pos - len(raw),
            ) from None
        return message, pos

    # ---- determinism, typing, structure ----------------------------------------------------

    def own_determinism_issues(self):
        if self.deterministic:
            return []
        fix = "use ProtoCoder(cls, deterministic=True) (coder.as_deterministic_coder()), Beam's DeterministicProtoCoder"
        return [
            (f"{path} is {what}, so equal messages can serialize to different bytes", fix)
            for path, what in nondeterministic_fields(self.message_type.DESCRIPTOR)
        ]

    def as_deterministic_coder(self, context=None):
        if self.deterministic or not nondeterministic_fields(self.message_type.DESCRIPTOR):
            return self
        return ProtoCoder(self.message_type, deterministic=True)

    def to_type_hint(self):
        return self.message_type

    def _params(self):
        return (self.message_type, self.deterministic)

    def _repr_args(self):
        args = [self.message_type.__name__]
        return args + ["deterministic=True"] if self.deterministic else args

    def __reduce__(self):
        # By the generated module and the message's full name: some generated classes (Beam's own) carry a
        # __module__ that cannot be imported, so pickling the class itself fails on the worker.
        module, name = _class_address(self.message_type)
        return (_protocoder, (module, name, self.deterministic))


def _class_address(cls: type) -> tuple[str | None, str]:
    """The importable generated module that defines ``cls``'s file (None if not found) and its full name."""
    file = cls.DESCRIPTOR.file
    declared = sys.modules.get(cls.__module__)
    if getattr(declared, "DESCRIPTOR", None) is file:
        return cls.__module__, cls.DESCRIPTOR.full_name
    for name, module in list(sys.modules.items()):
        if getattr(module, "DESCRIPTOR", None) is file:
            return name, cls.DESCRIPTOR.full_name
    return None, cls.DESCRIPTOR.full_name


def _protocoder(module: str | None, full_name: str, deterministic: bool) -> ProtoCoder:
    """Rebuild a pickled ProtoCoder: import the generated module, then find the class by its full name."""
    import importlib

    from google.protobuf import descriptor_pool, message_factory

    if module is not None:
        importlib.import_module(module)
    descriptor = descriptor_pool.Default().FindMessageTypeByName(full_name)
    return ProtoCoder(message_factory.GetMessageClass(descriptor), deterministic)


# ------------------------------------------------------------------------------- test values


def _scalar_strategy(field, st):
    fd = type(field)
    cpp = field.cpp_type
    if cpp == fd.CPPTYPE_INT32:
        return st.integers(-(2**31), 2**31 - 1)
    if cpp == fd.CPPTYPE_INT64:
        return st.integers(-(2**63), 2**63 - 1)
    if cpp == fd.CPPTYPE_UINT32:
        return st.integers(0, 2**32 - 1)
    if cpp == fd.CPPTYPE_UINT64:
        return st.integers(0, 2**64 - 1)
    if cpp == fd.CPPTYPE_DOUBLE:
        return st.floats()
    if cpp == fd.CPPTYPE_FLOAT:
        return st.floats(width=32)
    if cpp == fd.CPPTYPE_BOOL:
        return st.booleans()
    if cpp == fd.CPPTYPE_ENUM:
        return st.sampled_from([v.number for v in field.enum_type.values])
    if field.type == fd.TYPE_BYTES:
        return st.binary(max_size=8)
    return st.text(max_size=8)


def _message_strategy(descriptor, st, depth: int):
    """Messages of ``descriptor``'s class with some fields set (messages below ``_STRATEGY_DEPTH`` only)."""
    from google.protobuf import message_factory

    cls = message_factory.GetMessageClass(descriptor)
    parts = {}
    for field in descriptor.fields:
        if field.message_type is not None and depth >= _STRATEGY_DEPTH:
            continue
        if _is_map(field):
            key = _scalar_strategy(field.message_type.fields_by_name["key"], st)
            value_field = field.message_type.fields_by_name["value"]
            value = (
                _message_strategy(value_field.message_type, st, depth + 1)
                if value_field.message_type is not None
                else _scalar_strategy(value_field, st)
            )
            one = st.dictionaries(key, value, max_size=3)
        elif field.message_type is not None:
            one = _message_strategy(field.message_type, st, depth + 1)
        else:
            one = _scalar_strategy(field, st)
        if _is_repeated(field) and not _is_map(field):
            one = st.lists(one, max_size=3)
        parts[field.name] = st.none() | one
    return st.fixed_dictionaries(parts).map(lambda values: _build(cls, descriptor, values))


def _build(cls, descriptor, values: dict):
    message = cls()
    for name, value in values.items():
        if value is None:
            continue
        field = descriptor.fields_by_name[name]
        if _is_map(field):
            target = getattr(message, name)
            for k, v in value.items():
                if field.message_type.fields_by_name["value"].message_type is not None:
                    target[k].CopyFrom(v)
                else:
                    target[k] = v
        elif _is_repeated(field):
            getattr(message, name).extend(value)
        elif field.message_type is not None:
            getattr(message, name).CopyFrom(value)
        else:
            setattr(message, name, value)
    return message


# ------------------------------------------------------------------------------------ registry


def protobuf_rule(hint, registry, context):
    """A generated protobuf message class (``google.protobuf`` already imported): ``ProtoCoder(cls)``."""
    return ProtoCoder(hint) if is_message_class(hint) else None
