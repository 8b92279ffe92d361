"""AnyCoder: a type-tagged coder for values typed ``Any``, in the spirit of Beam's FastPrimitivesCoder.

Every value starts with one tag byte saying its type, then the value. For the types
Beam's ``FastPrimitivesCoder`` codes directly, the tags and bytes are the same as
Beam's, in both contexts:

====  =========  =====================================================================
tag   type       bytes after the tag
====  =========  =====================================================================
0x00  None       nothing
0x01  int        varint64 (ints within int64)
0x02  float      8-byte big-endian IEEE double
0x03  bytes      outer: the raw bytes; nested: varint length + bytes
0x04  str        UTF-8, framed like bytes
0x05  list       varint count, then each element nested (tag + value)
0x06  tuple      as list
0x07  dict       varint count, then key, value (each nested) per entry, in iteration order
0x08  set        varint count, then each element nested, in iteration order
0x09  bool       one byte, 0x00 or 0x01
0x14  int        (coderkit) beyond int64: varint n, then n bytes of minimal big-endian
                 two's complement (Beam pickles these instead)
0x15  frozenset  (coderkit) as set (Beam pickles these)
0xFF  other      the value through ``PickleCoder`` (dill), in the same context
====  =========  =====================================================================

Types are matched exactly (``type(v) is int``): a subclass of int or str (an IntEnum,
a NewType'd str subclass) is pickled, so it decodes as itself instead of silently
becoming a plain int or str. 1, 1.0 and True therefore round-trip with their types.

``AnyCoder()`` is not deterministic: dicts and sets are written in iteration order,
-0.0 and 0.0 differ, and pickle bytes are not stable. ``as_deterministic_coder()``
returns ``AnyCoder(deterministic=True)``, which writes the same tags but orders dict
entries and set elements by their encoded bytes, writes -0.0 as 0.0 and every NaN as
the canonical quiet NaN, and refuses (``EncodeError`` naming the type, the path inside
the value and the fix) any value that would need the pickle fallback. It still writes
1, 1.0 and True differently: they compare equal, so use a concretely typed key, or let
``coders.determinism.KeyConsistencyChecker`` catch the mix at run time.
"""

from __future__ import annotations

import typing
from typing import Any

from .accel.codec import Accelerated
from .base import WRAPPED, Coder, any_value_strategy
from .errors import DecodeError, EncodeError
from .primitives import canonical_double
from .streams import (
    DOUBLE_BE,
    INT64_MAX,
    INT64_MIN,
    read_exact,
    read_length_prefixed,
    read_varint64,
    write_varint64,
)

__all__ = ["AnyCoder"]

NONE_TAG = 0x00
INT_TAG = 0x01
FLOAT_TAG = 0x02
BYTES_TAG = 0x03
STR_TAG = 0x04
LIST_TAG = 0x05
TUPLE_TAG = 0x06
DICT_TAG = 0x07
SET_TAG = 0x08
BOOL_TAG = 0x09
BIG_INT_TAG = 0x14
FROZENSET_TAG = 0x15
PICKLE_TAG = 0xFF

_SMALL_INTS = [bytes((INT_TAG, i)) for i in range(128)]  # tag + varint of 0..127

_PICKLE_FIX = (
    "give the value a concrete type the registry can code (a dataclass, NamedTuple or Enum, "
    "or register_coder({name}, coder)) and use get_coder({name}) instead of Any"
)


def _pickle_coder():
    # Imported on first use: the pickle family is a sibling module, and most values never need it.
    from .pickle import PickleCoder

    return PickleCoder()


class AnyCoder(Accelerated, Coder):
    """Codes None, bool, int, float, str, bytes, tuple, list, dict, set and frozenset by tag; pickles the rest.

    The tag table is in the module docstring. Each type has an ``_encode_<type>`` and a
    ``_decode_<type>`` method; ``_setup`` builds the type -> encoder and tag -> decoder
    tables the hot path dispatches through.

    Not deterministic (dict and set order, -0.0, pickled objects); ``as_deterministic_coder()`` gives the
    deterministic mode, which orders dicts and sets, writes canonical floats and refuses what it would pickle.
    """

    beam_coder = WRAPPED  # Beam's FastPrimitivesCoder shares the tags, but pickles other objects its own way

    def __init__(self, deterministic: bool = False):
        self.deterministic = bool(deterministic)
        self._setup()

    def _setup(self) -> None:
        self._pickle = None
        float_encoder = self._encode_float_canonical if self.deterministic else self._encode_float
        self._encoders = {
            type(None): self._encode_none,
            int: self._encode_int,
            float: float_encoder,
            str: self._encode_str,
            bytes: self._encode_bytes,
            bool: self._encode_bool,
            list: self._encode_list,
            tuple: self._encode_tuple,
            dict: self._encode_dict_sorted if self.deterministic else self._encode_dict,
            set: self._encode_set,
            frozenset: self._encode_frozenset,
        }
        decoders = [None] * 256
        for tag, method in (
            (NONE_TAG, self._decode_none),
            (INT_TAG, self._decode_int),
            (FLOAT_TAG, self._decode_float),
            (BYTES_TAG, self._decode_bytes),
            (STR_TAG, self._decode_str),
            (LIST_TAG, self._decode_list),
            (TUPLE_TAG, self._decode_tuple),
            (DICT_TAG, self._decode_dict),
            (SET_TAG, self._decode_set),
            (BOOL_TAG, self._decode_bool),
            (BIG_INT_TAG, self._decode_big_int),
            (FROZENSET_TAG, self._decode_frozenset),
            (PICKLE_TAG, self._decode_pickled),
        ):
            decoders[tag] = method
        self._decoders = decoders

    # ---- encode ----------------------------------------------------------------------------

    def encode_to(self, value: Any, out: bytearray, nested: bool) -> None:
        encoder = self._encoders.get(type(value))
        if encoder is None:
            self._encode_other(value, out, nested)
        else:
            encoder(value, out, nested)

    def _encode_none(self, value, out, nested):
        out.append(NONE_TAG)

    def _encode_int(self, value, out, nested):
        if INT64_MIN <= value <= INT64_MAX:
            out.append(INT_TAG)
            write_varint64(out, value)
        else:
            out.append(BIG_INT_TAG)
            n = ((value if value >= 0 else ~value).bit_length() + 8) // 8  # minimal, with the sign bit
            write_varint64(out, n)
            out += value.to_bytes(n, "big", signed=True)

    def _encode_float(self, value, out, nested, _pack=DOUBLE_BE.pack):
        out.append(FLOAT_TAG)
        out += _pack(value)

    def _encode_float_canonical(self, value, out, nested):
        out.append(FLOAT_TAG)
        out += canonical_double(value)

    def _encode_str(self, value, out, nested):
        out.append(STR_TAG)
        try:
            data = value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise self._encode_error(
                value,
                f"a str encodable as UTF-8 ({e.reason} at index {e.start})",
                fix="remove the unpaired surrogate, or pass bytes",
            ) from None
        if nested:
            write_varint64(out, len(data))
        out += data

    def _encode_bytes(self, value, out, nested):
        out.append(BYTES_TAG)
        if nested:
            write_varint64(out, len(value))
        out += value

    def _encode_bool(self, value, out, nested):
        out.append(BOOL_TAG)
        out.append(1 if value else 0)

    def _encode_items(self, tag, value, out):
        out.append(tag)
        write_varint64(out, len(value))
        encoders = self._encoders
        i = 0
        try:
            for i, element in enumerate(value):  # noqa: B007 (i names the failing element in the error path)
                t = type(element)
                if t is int and 0 <= element < 128:  # the commonest element, inlined: tag + one varint byte
                    out += _SMALL_INTS[element]
                    continue
                encoder = encoders.get(t)
                if encoder is None:
                    self._encode_other(element, out, True)
                else:
                    encoder(element, out, True)
        except EncodeError as err:
            raise err.with_path(f"[{i}]")

    def _encode_list(self, value, out, nested):
        self._encode_items(LIST_TAG, value, out)

    def _encode_tuple(self, value, out, nested):
        self._encode_items(TUPLE_TAG, value, out)

    def _encode_dict(self, value, out, nested):
        out.append(DICT_TAG)
        write_varint64(out, len(value))
        for k, v in value.items():
            self._encode_into(k, out, f"<key {k!r}>")
            self._encode_into(v, out, f"[{k!r}]")

    def _encode_dict_sorted(self, value, out, nested):
        out.append(DICT_TAG)
        write_varint64(out, len(value))
        entries = sorted(((self._encode_part(k, f"<key {k!r}>"), k, v) for k, v in value.items()), key=lambda e: e[0])
        for key_bytes, k, v in entries:
            out += key_bytes
            self._encode_into(v, out, f"[{k!r}]")

    def _encode_set(self, value, out, nested):
        self._encode_elements(SET_TAG, value, out)

    def _encode_frozenset(self, value, out, nested):
        self._encode_elements(FROZENSET_TAG, value, out)

    def _encode_elements(self, tag, value, out):
        out.append(tag)
        write_varint64(out, len(value))
        if self.deterministic:
            for part in sorted(self._encode_part(e, f"<element {e!r}>") for e in value):
                out += part
        else:
            for e in value:
                self._encode_into(e, out, f"<element {e!r}>")

    def _encode_other(self, value, out, nested):
        if self.deterministic:
            t = type(value)
            name = t.__qualname__
            raise EncodeError(
                f"AnyCoder(deterministic=True) cannot encode a `{t.__module__}.{name}` deterministically: "
                f"only None, bool, int, float, str, bytes, tuple, list, dict, set and frozenset have a "
                f"deterministic encoding, and other values would be pickled, whose bytes are not stable",
                coder=self,
                value=value,
                fix=_PICKLE_FIX.format(name=name),
            )
        out.append(PICKLE_TAG)
        self._pickler().encode_to(value, out, nested)

    def _encode_into(self, value: Any, out: bytearray, segment: str) -> None:
        try:
            self.encode_to(value, out, True)
        except EncodeError as err:
            raise err.with_path(segment)

    def _encode_part(self, value: Any, segment: str) -> bytes:
        part = bytearray()
        self._encode_into(value, part, segment)
        return bytes(part)

    def _pickler(self):
        if self._pickle is None:
            self._pickle = _pickle_coder()
        return self._pickle

    # ---- decode ----------------------------------------------------------------------------

    def decode_from(self, data, pos: int, nested: bool) -> tuple[Any, int]:
        try:
            tag = data[pos]
        except IndexError:
            raise DecodeError("truncated input: expected an AnyCoder type tag, found end of data", offset=pos) from None
        decoder = self._decoders[tag]
        if decoder is None:
            raise DecodeError(f"unknown AnyCoder type tag 0x{tag:02x}", offset=pos)
        return decoder(data, pos + 1, nested)

    def _decode_none(self, data, pos, nested):
        return None, pos

    def _decode_int(self, data, pos, nested):
        try:
            b = data[pos]
        except IndexError:
            raise DecodeError("truncated input: expected a varint, found end of data", offset=pos) from None
        if b < 0x80:
            return b, pos + 1
        return read_varint64(data, pos)

    def _decode_float(self, data, pos, nested, _unpack=DOUBLE_BE.unpack_from):
        if pos + 8 > len(data):
            raise DecodeError(f"float: need 8 bytes but only {max(len(data) - pos, 0)} remain", offset=pos)
        return _unpack(data, pos)[0], pos + 8

    def _raw(self, data, pos, nested, what):
        if nested:
            return read_length_prefixed(data, pos, what)
        return bytes(data[pos:]), len(data)

    def _decode_bytes(self, data, pos, nested):
        return self._raw(data, pos, nested, "bytes")

    def _decode_str(self, data, pos, nested):
        raw, end = self._raw(data, pos, nested, "str")
        try:
            return raw.decode("utf-8"), end
        except UnicodeDecodeError as e:
            raise DecodeError(f"invalid UTF-8 in str ({e.reason})", offset=pos) from None

    def _decode_bool(self, data, pos, nested):
        raw, pos = read_exact(data, pos, 1, "bool")
        if raw[0] > 1:
            raise DecodeError(f"bool byte must be 0x00 or 0x01, got 0x{raw[0]:02x}", offset=pos - 1)
        return raw[0] == 1, pos

    def _decode_items(self, data, pos):
        count, pos = self._read_count(data, pos)
        items = []
        decoders = self._decoders
        last = len(data) - 1
        for i in range(count):
            try:
                tag = data[pos]
                if tag == INT_TAG and pos < last and data[pos + 1] < 0x80:  # a one-byte int, inlined
                    items.append(data[pos + 1])
                    pos += 2
                    continue
                decoder = decoders[tag]
                if decoder is None:
                    raise DecodeError(f"unknown AnyCoder type tag 0x{data[pos]:02x}", offset=pos)
                item, pos = decoder(data, pos + 1, True)
            except IndexError:
                raise DecodeError(
                    "truncated input: expected an AnyCoder type tag, found end of data", offset=pos, path=(f"[{i}]",)
                ) from None
            except DecodeError as err:
                raise err.with_path(f"[{i}]")
            items.append(item)
        return items, pos

    def _decode_list(self, data, pos, nested):
        return self._decode_items(data, pos)

    def _decode_tuple(self, data, pos, nested):
        items, pos = self._decode_items(data, pos)
        return tuple(items), pos

    def _decode_set(self, data, pos, nested, kind=set):
        start = pos
        items, pos = self._decode_items(data, pos)
        try:
            return kind(items), pos
        except TypeError as e:
            raise DecodeError(f"set element is not hashable ({e})", offset=start) from None

    def _decode_frozenset(self, data, pos, nested):
        return self._decode_set(data, pos, nested, frozenset)

    def _decode_dict(self, data, pos, nested):
        start = pos
        count, pos = self._read_count(data, pos)
        result = {}
        for _ in range(count):
            k, pos = self.decode_from(data, pos, True)
            try:
                v, pos = self.decode_from(data, pos, True)
                result[k] = v
            except DecodeError as err:
                raise err.with_path(f"[{k!r}]")
            except TypeError as e:
                raise DecodeError(f"dict key is not hashable ({e})", offset=start) from None
        return result, pos

    def _decode_big_int(self, data, pos, nested):
        raw, pos = read_length_prefixed(data, pos, "big int")
        return int.from_bytes(raw, "big", signed=True), pos

    def _decode_pickled(self, data, pos, nested):
        return self._pickler().decode_from(data, pos, nested)

    @staticmethod
    def _read_count(data, pos: int) -> tuple[int, int]:
        start = pos
        count, pos = read_varint64(data, pos)
        # Every element takes at least one byte: a count beyond what remains is hostile or truncated.
        if count < 0 or count > len(data) - pos:
            raise DecodeError(f"element count {count} is impossible with {len(data) - pos} bytes left", offset=start)
        return count, pos

    # ---- determinism, structure ----------------------------------------------------------

    def own_determinism_issues(self) -> list[tuple[str, str | None]]:
        if self.deterministic:
            return []
        return [
            (
                "values typed Any are coded by their runtime type: dict entries and set elements are written "
                "in iteration order, -0.0 and 0.0 encode differently, and objects of other types are pickled, "
                "whose bytes are not stable",
                "give the key a concrete type (get_coder(MyKey)), or use as_deterministic_coder(), which orders "
                "dicts and sets, canonicalises floats and refuses values it would pickle",
            )
        ]

    def as_deterministic_coder(self, context: str | None = None) -> Coder:
        return self if self.deterministic else AnyCoder(deterministic=True)

    def value_strategy(self, child, st):
        return any_value_strategy(st, canonical_floats=self.deterministic)

    def accel_node(self, child):
        if self.deterministic:  # dicts and sets sorted by their encoded bytes: the reference path does it
            return super().accel_node(child)
        return ("any",)

    def _params(self) -> tuple:
        return (self.deterministic,)

    def _repr_args(self) -> list[str]:
        return ["deterministic"] if self.deterministic else []

    def to_type_hint(self) -> Any:
        return typing.Any

    def __getstate__(self):
        return {"deterministic": self.deterministic}  # not the bound methods (PUBLIC_METHODS) or tables

    def __setstate__(self, state):
        self.deterministic = state["deterministic"]
        self._setup()
