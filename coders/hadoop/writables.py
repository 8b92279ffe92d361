"""Coders byte-compatible with Hadoop's Writables (``org.apache.hadoop.io``).

Each coder states its wire format next to its code, as Hadoop's ``write`` /
``readFields`` pair does. Every Writable is self-delimiting, so the outer and nested
contexts give the same bytes. Values decode to plain Python: Text to ``str``,
Int/Long/VInt/VLong to ``int``, Float/Double to ``float``, Boolean to ``bool``,
BytesWritable and MD5Hash to ``bytes``, NullWritable to ``None``, ArrayWritable to
``list`` and MapWritable to ``dict``.

Every coder has ``hadoop_class`` (the Java class name a SequenceFile header names)
and the ordered ones have ``compare_encoded(a, b)`` (Hadoop's raw comparator, see
:mod:`coders.hadoop.comparators`) and ``compare_values(x, y)`` (the same order on
decoded values).

Strictness: decoding never accepts what Hadoop's writer cannot produce when that
would make ``encode(decode(b)) != b``: a non-minimal VInt/VLong, a boolean byte other
than 0 or 1 and invalid UTF-8 in a Text all raise :class:`coders.DecodeError`.
"""

from __future__ import annotations

import functools
import math
import struct
from typing import Any, NamedTuple

from ..base import Coder
from ..errors import DecodeError, EncodeError
from . import comparators as _cmp
from .classes import writable_registry
from .javaio import read_java_utf, read_vlong, vlong_size, write_java_utf, write_vlong

__all__ = [
    "ArrayWritableCoder",
    "BooleanWritableCoder",
    "BytesWritableCoder",
    "DoubleWritableCoder",
    "FloatWritableCoder",
    "IntWritableCoder",
    "LongWritableCoder",
    "MD5HashCoder",
    "MapWritableCoder",
    "NullWritableCoder",
    "SortedMapWritableCoder",
    "TextCoder",
    "TypedWritable",
    "VIntWritableCoder",
    "VLongWritableCoder",
    "WritableCoder",
]

_INT32 = struct.Struct(">i")
_INT64 = struct.Struct(">q")
_FLOAT32 = struct.Struct(">f")
_FLOAT64 = struct.Struct(">d")
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

# Java's floatToIntBits / doubleToLongBits write every NaN as the canonical one.
_FLOAT_NAN = bytes.fromhex("7fc00000")
_DOUBLE_NAN = bytes.fromhex("7ff8000000000000")


def _need(data, pos: int, n: int, what: str) -> None:
    if pos + n > len(data):
        raise DecodeError(f"truncated {what}: need {n} bytes but only {max(len(data) - pos, 0)} remain", offset=pos)


# ---- the Writable coders -------------------------------------------------------------------


class WritableCoder(Coder):
    """Base of the Writable coders: Writables are self-delimiting, so both contexts agree."""

    hadoop_class: str = ""
    #: the fewest bytes one value takes (bounds hostile element counts)
    min_size: int = 1

    def path_name(self) -> str:
        return type(self).__name__

    def _params(self) -> tuple:
        return (self.hadoop_class,)


class _OrderedWritable(WritableCoder):
    """A WritableComparable: has Hadoop's raw comparator and the matching value order."""

    _raw_compare = None  # set per subclass to a function of comparators

    def compare_encoded(self, a, b) -> int:
        """Hadoop's raw comparator on two encodings: -1, 0 or 1, without building the values."""
        return type(self)._raw_compare(a, b)

    def compare_values(self, x, y) -> int:
        """Hadoop's ``compareTo`` on decoded values: -1, 0 or 1."""
        return (x > y) - (x < y)


def _check_int(coder, value, fix: str | None) -> None:
    """Refuse a non-int (bool included: it would come back as 0/1) or an int outside the coder's range."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise coder._encode_error(value, "an int")
    if not coder._lo <= value <= coder._hi:
        raise coder._encode_error(value, f"an int in [{coder._lo}, {coder._hi}]", fix=fix)


class _StructWritable(_OrderedWritable):
    """A fixed-width Writable: one ``struct`` format in both contexts (no length prefix)."""

    _struct: struct.Struct

    def decode_from(self, data, pos, nested):
        size = self._struct.size
        _need(data, pos, size, self.hadoop_class.rsplit(".", 1)[-1])
        return self._struct.unpack_from(data, pos)[0], pos + size

    def decode(self, data):
        if len(data) == self._struct.size and isinstance(data, (bytes, bytearray)):
            return self._struct.unpack(data)[0]
        return super().decode(data)

    def estimate_size(self, value, nested=False):
        return self._struct.size


class _FixedIntWritable(_StructWritable):
    _lo: int
    _hi: int

    def encode_to(self, value, out, nested):
        _check_int(self, value, "use LongWritable or VLongWritable for wider values")
        out += self._struct.pack(value)

    def encode(self, value):
        if type(value) is int and self._lo <= value <= self._hi:
            return self._struct.pack(value)
        return super().encode(value)

    def to_type_hint(self):
        return int


class IntWritableCoder(_FixedIntWritable):
    """IntWritable: 4 bytes, big-endian two's complement (``DataOutput.writeInt``)."""

    hadoop_class = "org.apache.hadoop.io.IntWritable"
    min_size = 4
    _struct, _lo, _hi = _INT32, INT32_MIN, INT32_MAX
    _raw_compare = staticmethod(_cmp.compare_int)


class LongWritableCoder(_FixedIntWritable):
    """LongWritable: 8 bytes, big-endian two's complement (``DataOutput.writeLong``)."""

    hadoop_class = "org.apache.hadoop.io.LongWritable"
    min_size = 8
    _struct, _lo, _hi = _INT64, INT64_MIN, INT64_MAX
    _raw_compare = staticmethod(_cmp.compare_long)


class _VarWritable(_OrderedWritable):
    _lo: int
    _hi: int

    def encode_to(self, value, out, nested):
        _check_int(self, value, "use VLongWritable for values beyond int32" if self._hi == INT32_MAX else None)
        write_vlong(out, value)

    def decode_from(self, data, pos, nested):
        value, end = read_vlong(data, pos)
        if not self._lo <= value <= self._hi:
            raise DecodeError(f"value {value} too long to fit in an int ({type(self).__name__})", offset=pos)
        return value, end

    def to_type_hint(self):
        return int

    def estimate_size(self, value, nested=False):
        return vlong_size(value)


class VIntWritableCoder(_VarWritable):
    """VIntWritable: ``WritableUtils.writeVInt`` (the VLong encoding, int32 range)."""

    hadoop_class = "org.apache.hadoop.io.VIntWritable"
    _lo, _hi = INT32_MIN, INT32_MAX
    _raw_compare = staticmethod(_cmp.compare_vint)


class VLongWritableCoder(_VarWritable):
    """VLongWritable: ``WritableUtils.writeVLong`` (one byte for -112..127, else prefix + big-endian bytes)."""

    hadoop_class = "org.apache.hadoop.io.VLongWritable"
    _lo, _hi = INT64_MIN, INT64_MAX
    _raw_compare = staticmethod(_cmp.compare_vlong)


class TextCoder(_OrderedWritable):
    """Text: VInt byte length, then the UTF-8 bytes. Ordered by unsigned bytes (= code points)."""

    hadoop_class = "org.apache.hadoop.io.Text"
    _raw_compare = staticmethod(_cmp.compare_text)

    def encode_to(self, value, out, nested):
        if not isinstance(value, str):
            raise self._encode_error(value, "a str")
        try:
            data = value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise self._encode_error(
                value, "a str encodable as UTF-8", fix=f"remove the lone surrogate at index {e.start}"
            ) from None
        write_vlong(out, len(data))
        out += data

    def decode_from(self, data, pos, nested):
        n, start = read_vlong(data, pos)
        if n < 0 or n > INT32_MAX:
            raise DecodeError(f"Text length {n} is negative or beyond int32", offset=pos)
        end = start + n
        if end > len(data):
            raise DecodeError(f"Text: length says {n} bytes but only {len(data) - start} remain", offset=pos)
        try:
            return str(data[start:end], "utf-8"), end
        except UnicodeDecodeError as e:
            raise DecodeError(
                f"Text holds invalid UTF-8 ({e.reason} at byte {e.start} of the text)", offset=start + e.start
            ) from None

    def decode(self, data):
        # fast path for the hot case: a whole Text buffer with a one-byte length
        if isinstance(data, (bytes, bytearray)) and data and data[0] < 0x80 and data[0] + 1 == len(data):
            try:
                return str(data[1:], "utf-8")
            except UnicodeDecodeError:
                pass  # the general path reports it with the offset
        return super().decode(data)

    def encode(self, value):
        if type(value) is str:
            try:
                data = value.encode("utf-8")
            except UnicodeEncodeError:
                return super().encode(value)  # reports the lone surrogate
            n = len(data)
            if n < 128:
                return bytes((n,)) + data
        return super().encode(value)

    def to_type_hint(self):
        return str

    def compare_values(self, x, y):
        # Python compares str by code point, which is the order of their UTF-8 bytes.
        return (x > y) - (x < y)


class BytesWritableCoder(_OrderedWritable):
    """BytesWritable: int32 byte length, then the bytes. Ordered by unsigned bytes, shorter first on a tie."""

    hadoop_class = "org.apache.hadoop.io.BytesWritable"
    min_size = 4
    _raw_compare = staticmethod(_cmp.compare_bytes_writable)

    def encode_to(self, value, out, nested):
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise self._encode_error(value, "bytes, bytearray or memoryview")
        n = len(value) if not isinstance(value, memoryview) else value.nbytes
        if n > INT32_MAX:
            raise self._encode_error(value, "at most 2**31-1 bytes")
        out += _INT32.pack(n)
        out += value

    def decode(self, data):
        if isinstance(data, (bytes, bytearray)) and len(data) >= 4 and int.from_bytes(data[:4], "big") == len(data) - 4:
            return bytes(data[4:])
        return super().decode(data)

    def encode(self, value):
        if type(value) is bytes and len(value) <= INT32_MAX:
            return _INT32.pack(len(value)) + value
        return super().encode(value)

    def decode_from(self, data, pos, nested):
        _need(data, pos, 4, "BytesWritable length")
        n = _INT32.unpack_from(data, pos)[0]
        if n < 0:
            raise DecodeError(f"BytesWritable: negative length {n}", offset=pos)
        start = pos + 4
        if start + n > len(data):
            raise DecodeError(f"BytesWritable: length says {n} bytes but only {len(data) - start} remain", offset=pos)
        return bytes(data[start : start + n]), start + n

    def to_type_hint(self):
        return bytes


class NullWritableCoder(WritableCoder):
    """NullWritable: no bytes at all; decodes to None."""

    hadoop_class = "org.apache.hadoop.io.NullWritable"
    min_size = 0

    def encode_to(self, value, out, nested):
        if value is not None:
            raise self._encode_error(value, "None")

    def decode_from(self, data, pos, nested):
        return None, pos

    def decode(self, data):
        if isinstance(data, (bytes, bytearray)) and not data:
            return None
        return super().decode(data)

    def to_type_hint(self):
        return type(None)

    def compare_encoded(self, a, b) -> int:
        """Every NullWritable is equal (Hadoop's NullWritable.Comparator)."""
        return 0

    def compare_values(self, x, y) -> int:
        return 0


class BooleanWritableCoder(_OrderedWritable):
    """BooleanWritable: one byte, 1 for true and 0 for false; false sorts first."""

    hadoop_class = "org.apache.hadoop.io.BooleanWritable"
    _raw_compare = staticmethod(_cmp.compare_boolean)

    def encode_to(self, value, out, nested):
        if type(value) is not bool:
            raise self._encode_error(value, "a bool", fix="pass True or False (ints are not booleans)")
        out.append(1 if value else 0)

    def decode_from(self, data, pos, nested):
        _need(data, pos, 1, "BooleanWritable")
        b = data[pos]
        if b > 1:
            raise DecodeError(f"BooleanWritable byte is {b:#04x}, expected 0x00 or 0x01", offset=pos)
        return b == 1, pos + 1

    def to_type_hint(self):
        return bool


class _FloatingWritable(_StructWritable):
    _nan: bytes
    _exactly: str

    def own_determinism_issues(self):
        return [
            (
                "-0.0 == 0.0 but they encode differently",
                "normalise -0.0 to 0.0 before encoding, or key on a Text or LongWritable",
            )
        ]

    def to_type_hint(self):
        return float

    def compare_values(self, x, y):
        return _cmp.java_float_compare(x, y)


class FloatWritableCoder(_FloatingWritable):
    """FloatWritable: 4-byte IEEE-754 big-endian (``writeFloat``, NaN written as ``7fc00000``).

    A Python float that float32 cannot hold exactly is refused (that would silently
    change it) unless ``allow_rounding=True``.
    Order: Java's ``Float.compare`` (-0.0 < 0.0; NaN above +inf and equal to itself).
    """

    hadoop_class = "org.apache.hadoop.io.FloatWritable"
    min_size = 4
    _struct = _FLOAT32
    _raw_compare = staticmethod(_cmp.compare_float)

    def __init__(self, allow_rounding: bool = False):
        self.allow_rounding = allow_rounding

    def _params(self):
        return (self.hadoop_class, self.allow_rounding)

    def _repr_args(self):
        return ["allow_rounding=True"] if self.allow_rounding else []

    def encode_to(self, value, out, nested):
        if not isinstance(value, (float, int)) or isinstance(value, bool):
            raise self._encode_error(value, "a float")
        if math.isnan(value):
            out += _FLOAT_NAN
            return
        try:
            packed = _FLOAT32.pack(value)
        except OverflowError:
            raise self._encode_error(
                value, "a float within float32 range", fix="use DoubleWritable for wider values"
            ) from None
        if not self.allow_rounding and _FLOAT32.unpack(packed)[0] != value:
            raise self._encode_error(
                value,
                "a float that float32 holds exactly",
                fix="use DoubleWritable, or FloatWritableCoder(allow_rounding=True)",
            )
        out += packed


class DoubleWritableCoder(_FloatingWritable):
    """DoubleWritable: 8-byte IEEE-754 big-endian (``writeDouble``, NaN written as ``7ff8000000000000``).

    Order: Java's ``Double.compare`` (-0.0 < 0.0; NaN above +inf and equal to itself).
    """

    hadoop_class = "org.apache.hadoop.io.DoubleWritable"
    min_size = 8
    _struct = _FLOAT64
    _raw_compare = staticmethod(_cmp.compare_double)

    def encode_to(self, value, out, nested):
        if not isinstance(value, (float, int)) or isinstance(value, bool):
            raise self._encode_error(value, "a float")
        if value != value:
            out += _DOUBLE_NAN
            return
        try:
            out += _FLOAT64.pack(value)
        except OverflowError:
            raise self._encode_error(value, "a float within double range") from None


class MD5HashCoder(WritableCoder):
    """MD5Hash: the 16 digest bytes, no length."""

    hadoop_class = "org.apache.hadoop.io.MD5Hash"
    min_size = 16

    def encode_to(self, value, out, nested):
        if not isinstance(value, (bytes, bytearray)) or len(value) != 16:
            raise self._encode_error(value, "16 bytes (an MD5 digest)")
        out += value

    def decode_from(self, data, pos, nested):
        _need(data, pos, 16, "MD5Hash")
        return bytes(data[pos : pos + 16]), pos + 16

    def to_type_hint(self):
        return bytes


# ---- containers ---------------------------------------------------------------------------

# A hostile count of zero-byte elements (NullWritable) would otherwise build a huge list.
_MAX_ZERO_SIZE_ELEMENTS = 1 << 24


class ArrayWritableCoder(WritableCoder):
    """ArrayWritable(element class): int32 count, then each element's bytes (no class names:
    the element class is fixed by the ArrayWritable subclass). Decodes to a list."""

    hadoop_class = "org.apache.hadoop.io.ArrayWritable"
    min_size = 4

    def __init__(self, element_coder: Coder, hadoop_class: str | None = None):
        if not isinstance(element_coder, Coder):
            raise TypeError(f"ArrayWritableCoder takes an element coder, not {type(element_coder).__name__}")
        self.element_coder = element_coder
        if hadoop_class is not None:
            self.hadoop_class = hadoop_class

    def labelled_components(self):
        return [("[*]", self.element_coder)]

    def encode_to(self, value, out, nested):
        if not isinstance(value, (list, tuple)):
            raise self._encode_error(value, "a list or tuple")
        out += _INT32.pack(len(value))
        element = self.element_coder
        for i, item in enumerate(value):
            try:
                element.encode_to(item, out, True)
            except EncodeError as e:
                raise e.with_path(f"[{i}]")

    def decode_from(self, data, pos, nested):
        _need(data, pos, 4, "ArrayWritable length")
        n = _INT32.unpack_from(data, pos)[0]
        if n < 0:
            raise DecodeError(f"ArrayWritable: negative element count {n}", offset=pos)
        element = self.element_coder
        min_size = getattr(element, "min_size", 1)
        remaining = len(data) - pos - 4
        if (min_size and n * min_size > remaining) or (not min_size and n > _MAX_ZERO_SIZE_ELEMENTS):
            raise DecodeError(
                f"ArrayWritable: {n} elements cannot fit in the {remaining} bytes that remain", offset=pos
            )
        pos += 4
        items = []
        for i in range(n):
            try:
                item, pos = element.decode_from(data, pos, True)
            except DecodeError as e:
                raise e.with_path(f"[{i}]")
            items.append(item)
        return items, pos

    def to_type_hint(self):
        return list

    def _params(self):
        return (self.hadoop_class,)


class TypedWritable(NamedTuple):
    """A value with the Hadoop class to write it as, for a MapWritable entry whose class
    cannot be inferred from the Python type (FloatWritable, VLongWritable, a custom class)."""

    hadoop_class: str
    value: Any


# AbstractMapWritable's predefined class ids (signed bytes); custom classes get 1, 2, ...
MAP_WRITABLE_CLASS_IDS = {
    "org.apache.hadoop.io.ArrayWritable": -127,
    "org.apache.hadoop.io.BooleanWritable": -126,
    "org.apache.hadoop.io.BytesWritable": -125,
    "org.apache.hadoop.io.FloatWritable": -124,
    "org.apache.hadoop.io.IntWritable": -123,
    "org.apache.hadoop.io.LongWritable": -122,
    "org.apache.hadoop.io.MapWritable": -121,
    "org.apache.hadoop.io.MD5Hash": -120,
    "org.apache.hadoop.io.NullWritable": -119,
    "org.apache.hadoop.io.ObjectWritable": -118,
    "org.apache.hadoop.io.SortedMapWritable": -117,
    "org.apache.hadoop.io.Text": -116,
    "org.apache.hadoop.io.TwoDArrayWritable": -115,
    "org.apache.hadoop.io.VIntWritable": -114,
    "org.apache.hadoop.io.VLongWritable": -113,
}
_CLASS_BY_PREDEFINED_ID = {v: k for k, v in MAP_WRITABLE_CLASS_IDS.items()}


def _infer_class(value) -> str:
    """The Writable a plain Python value is written as inside a MapWritable (PySpark's choices)."""
    if value is None:
        return "org.apache.hadoop.io.NullWritable"
    if type(value) is bool:
        return "org.apache.hadoop.io.BooleanWritable"
    if isinstance(value, int):
        return (
            "org.apache.hadoop.io.IntWritable"
            if INT32_MIN <= value <= INT32_MAX
            else "org.apache.hadoop.io.LongWritable"
        )
    if isinstance(value, float):
        return "org.apache.hadoop.io.DoubleWritable"
    if isinstance(value, str):
        return "org.apache.hadoop.io.Text"
    if isinstance(value, (bytes, bytearray)):
        return "org.apache.hadoop.io.BytesWritable"
    if isinstance(value, dict):
        return "org.apache.hadoop.io.MapWritable"
    raise TypeError(type(value).__name__)


class MapWritableCoder(WritableCoder):
    """MapWritable: AbstractMapWritable's class table, then the entries, each tagged by class id.

    Bytes: signed byte ``n`` (custom classes), then ``n`` times (byte id, ``writeUTF``
    class name); int32 entry count; per entry: key class id byte, key bytes, value class
    id byte, value bytes. Predefined ids (-127..-113) cover Hadoop's own Writables;
    other classes get ids 1, 2, ... in order of first use and are looked up by name in
    ``registry`` (default: :data:`coders.hadoop.classes.writable_registry`).

    Encoding infers the class from the Python type (None->NullWritable, bool->Boolean,
    int->IntWritable when it fits in int32 else LongWritable, float->DoubleWritable,
    str->Text, bytes->BytesWritable, dict->MapWritable); wrap a value in
    :class:`TypedWritable` to choose another class. Hadoop keeps the entries in a HashMap,
    so the coder is not deterministic (bytes follow the dict's insertion order).
    """

    hadoop_class = "org.apache.hadoop.io.MapWritable"
    min_size = 5

    def __init__(self, registry=None):
        self.registry = registry

    def _registry(self):
        return self.registry if self.registry is not None else writable_registry

    def _params(self):
        return (self.hadoop_class, id(self.registry) if self.registry is not None else None)

    def own_determinism_issues(self):
        return [
            (
                "MapWritable entries follow the dict's insertion order (Hadoop keeps them in a HashMap)",
                "key on a Text or LongWritable instead of a MapWritable",
            )
        ]

    def to_type_hint(self):
        return dict

    def encode_to(self, value, out, nested):
        if not isinstance(value, dict):
            raise self._encode_error(value, "a dict")
        registry = self._registry()
        custom: dict[str, int] = {}
        body = bytearray(_INT32.pack(len(value)))

        def class_id(name: str) -> int:
            if name in MAP_WRITABLE_CLASS_IDS:
                return MAP_WRITABLE_CLASS_IDS[name]
            if name not in custom:
                if len(custom) >= 127:
                    raise self._encode_error(value, "at most 127 distinct non-Hadoop classes")
                custom[name] = len(custom) + 1
            return custom[name]

        def put(item, where: str) -> None:
            if isinstance(item, TypedWritable):
                name, item = item.hadoop_class, item.value
            else:
                try:
                    name = _infer_class(item)
                except TypeError:
                    raise self._encode_error(
                        item,
                        "None, bool, int, float, str, bytes, dict or TypedWritable",
                        fix="wrap the value in coders.hadoop.TypedWritable(hadoop_class, value)",
                    ).with_path(where) from None
            coder = registry.coder_for(name)
            body.append(class_id(name) & 0xFF)
            try:
                coder.encode_to(item, body, True)
            except EncodeError as e:
                raise e.with_path(where)

        for key, item in value.items():
            put(key, f"[{key!r}](key)")
            put(item, f"[{key!r}]")
        out.append(len(custom))
        for name, ident in custom.items():
            out.append(ident)
            write_java_utf(out, name)
        out += body

    def decode_from(self, data, pos, nested):
        registry = self._registry()
        _need(data, pos, 1, "MapWritable class count")
        n_custom = data[pos]
        if n_custom > 127:
            raise DecodeError(f"MapWritable: negative custom class count {n_custom - 256}", offset=pos)
        pos += 1
        classes = dict(_CLASS_BY_PREDEFINED_ID)
        for _ in range(n_custom):
            _need(data, pos, 1, "MapWritable class id")
            ident = data[pos] - 256 if data[pos] > 127 else data[pos]
            name, pos = read_java_utf(data, pos + 1)
            classes[ident] = name
        _need(data, pos, 4, "MapWritable entry count")
        count = _INT32.unpack_from(data, pos)[0]
        if count < 0 or count * 2 > len(data) - pos - 4:
            raise DecodeError(
                f"MapWritable: {count} entries cannot fit in the {len(data) - pos - 4} bytes that remain", offset=pos
            )
        pos += 4

        def take(where: str):
            nonlocal pos
            _need(data, pos, 1, "MapWritable class id")
            ident = data[pos] - 256 if data[pos] > 127 else data[pos]
            name = classes.get(ident)
            if name is None:
                raise DecodeError(
                    f"MapWritable: class id {ident} is neither predefined nor in the map's class table", offset=pos
                ).with_path(where)
            try:
                coder = registry.coder_for(name)
            except LookupError as e:
                raise DecodeError(
                    f"MapWritable names class {name!r} (id {ident}) that has no coder: {e}", offset=pos
                ).with_path(where) from None
            try:
                item, pos = coder.decode_from(data, pos + 1, True)
            except DecodeError as e:
                raise e.with_path(where)
            return item

        result: dict = {}
        for i in range(count):
            entry_at = pos
            key = take(f"[entry {i}](key)")
            try:
                hash(key)
            except TypeError:
                raise DecodeError(
                    f"MapWritable key decodes to an unhashable {type(key).__name__}", offset=entry_at
                ).with_path(f"[entry {i}](key)") from None
            if key in result:
                raise DecodeError(
                    f"MapWritable has two keys equal to {key!r} in Python (for example IntWritable 1 "
                    "and LongWritable 1); decoding them into one dict would drop one",
                    offset=entry_at,
                ).with_path(f"[entry {i}](key)")
            result[key] = take(f"[{key!r}]")
        return result, pos


class SortedMapWritableCoder(MapWritableCoder):
    """SortedMapWritable: MapWritable's bytes, with the entries in key order (a Java TreeMap).

    Encoding sorts the entries in Hadoop's order for the key class (every key must be of
    one ordered Writable class, as a TreeMap needs); decoding keeps the file's order.
    """

    hadoop_class = "org.apache.hadoop.io.SortedMapWritable"

    def own_determinism_issues(self):
        return [
            (
                "value classes are chosen per value at run time, and a float -0.0 equals 0.0 but encodes differently",
                "key on a Text or LongWritable instead of a SortedMapWritable",
            )
        ]

    def encode_to(self, value, out, nested):
        if not isinstance(value, dict):
            raise self._encode_error(value, "a dict")
        registry = self._registry()
        names = set()
        for key in value:
            names.add(key.hadoop_class if isinstance(key, TypedWritable) else _safe_infer(key))
        if len(names) > 1:
            raise self._encode_error(
                value,
                "keys of one Writable class (a TreeMap compares them with each other)",
                fix=f"the keys are of {', '.join(sorted(map(str, names)))}",
            )
        if value:
            (name,) = names
            try:
                key_coder = registry.coder_for(name) if name else None
            except LookupError:
                key_coder = None
            compare = getattr(key_coder, "compare_values", None)
            if compare is None:
                raise self._encode_error(
                    value, "keys of an ordered Writable class", fix="use Text, IntWritable, LongWritable ... keys"
                )
            plain = lambda k: k.value if isinstance(k, TypedWritable) else k  # noqa: E731
            keys = sorted(value, key=functools.cmp_to_key(lambda a, b: compare(plain(a), plain(b))))
            value = {k: value[k] for k in keys}
        super().encode_to(value, out, nested)


def _safe_infer(value) -> str:
    try:
        return _infer_class(value)
    except TypeError:
        return ""


# Hadoop's own Writables, registered under their Java class names in the process-wide registry
# (a coder instance where one serves every use, the class itself where each use builds its own).
for _coder in (
    IntWritableCoder(),
    LongWritableCoder(),
    VIntWritableCoder(),
    VLongWritableCoder(),
    TextCoder(),
    BytesWritableCoder(),
    NullWritableCoder(),
    BooleanWritableCoder(),
    FloatWritableCoder(),
    DoubleWritableCoder(),
    MD5HashCoder(),
    MapWritableCoder,
    SortedMapWritableCoder,
):
    writable_registry.register(_coder.hadoop_class, _coder)
del _coder
