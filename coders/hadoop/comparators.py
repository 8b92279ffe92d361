"""Hadoop's raw comparators: order Writables by their encoded bytes, without building the values.

Each function takes two complete encodings (bytes, bytearray or memoryview) and
returns -1, 0 or 1, exactly as the matching ``WritableComparator`` in
``org.apache.hadoop.io`` orders them (that is how a MapReduce shuffle sorts keys):

* IntWritable, LongWritable, VIntWritable, VLongWritable: signed numeric order.
* Text: unsigned lexicographic order of the UTF-8 bytes after the VInt length; this is
  code-point order, the same as Python's ``str`` order (not Java's UTF-16 ``String`` order).
* BytesWritable: unsigned lexicographic order of the bytes after the int32 length,
  a proper prefix first.
* BooleanWritable: false before true.
* FloatWritable, DoubleWritable: Java's ``Float.compare`` / ``Double.compare``: -0.0
  sorts before 0.0, NaN sorts after +infinity and equals every NaN.

A truncated or malformed encoding raises :class:`coders.DecodeError`.
"""

from __future__ import annotations

import math
import struct

from ..errors import DecodeError
from .javaio import decode_vlong_size, read_vlong

__all__ = [
    "compare_boolean",
    "compare_bytes_writable",
    "compare_double",
    "compare_float",
    "compare_int",
    "compare_long",
    "compare_text",
    "compare_vint",
    "compare_vlong",
    "java_float_compare",
]

_FLOAT32 = struct.Struct(">f")
_FLOAT64 = struct.Struct(">d")


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def _check(data, n: int, what: str) -> None:
    if len(data) < n:
        raise DecodeError(f"{what}: encoding has {len(data)} byte(s), needs at least {n}", offset=0)


def _signed_fixed(a, b, n: int, what: str) -> int:
    _check(a, n, what)
    _check(b, n, what)
    # flipping the sign bit turns two's complement order into unsigned byte order
    ka = bytes((a[0] ^ 0x80,)) + bytes(a[1:n])
    kb = bytes((b[0] ^ 0x80,)) + bytes(b[1:n])
    return (ka > kb) - (ka < kb)


def compare_int(a, b) -> int:
    """IntWritable.Comparator: signed order of two 4-byte big-endian ints."""
    return _signed_fixed(a, b, 4, "IntWritable")


def compare_long(a, b) -> int:
    """LongWritable.Comparator: signed order of two 8-byte big-endian longs."""
    return _signed_fixed(a, b, 8, "LongWritable")


def compare_vlong(a, b) -> int:
    """VLongWritable: signed order of two zero-compressed VLongs."""
    return _sign(read_vlong(a, 0)[0] - read_vlong(b, 0)[0])


def compare_vint(a, b) -> int:
    """VIntWritable: signed order of two zero-compressed VInts."""
    return compare_vlong(a, b)


def _vlong_prefix_size(data, what: str) -> int:
    _check(data, 1, what)
    return decode_vlong_size(data[0])


def compare_text(a, b) -> int:
    """Text.Comparator: unsigned byte order of the UTF-8 bytes after each VInt length."""
    na = _vlong_prefix_size(a, "Text")
    nb = _vlong_prefix_size(b, "Text")
    _check(a, na, "Text")
    _check(b, nb, "Text")
    ka, kb = bytes(a[na:]), bytes(b[nb:])
    return (ka > kb) - (ka < kb)


def compare_bytes_writable(a, b) -> int:
    """BytesWritable.Comparator: unsigned byte order of the bytes after each int32 length."""
    _check(a, 4, "BytesWritable")
    _check(b, 4, "BytesWritable")
    ka, kb = bytes(a[4:]), bytes(b[4:])
    return (ka > kb) - (ka < kb)


def compare_boolean(a, b) -> int:
    """BooleanWritable.Comparator: false (0) before true (non-zero)."""
    _check(a, 1, "BooleanWritable")
    _check(b, 1, "BooleanWritable")
    return _sign((a[0] != 0) - (b[0] != 0))


def java_float_compare(x: float, y: float) -> int:
    """Java's ``Float.compare`` / ``Double.compare``: numeric order, except -0.0 < 0.0 and
    NaN greater than everything else and equal to itself."""
    if x < y:
        return -1
    if x > y:
        return 1
    x_nan, y_nan = x != x, y != y
    if x_nan or y_nan:
        return (x_nan > y_nan) - (x_nan < y_nan)
    if x == 0.0:
        sx, sy = math.copysign(1.0, x), math.copysign(1.0, y)
        return (sx > sy) - (sx < sy)
    return 0


def compare_float(a, b) -> int:
    """FloatWritable.Comparator: ``Float.compare`` of the two 4-byte floats."""
    _check(a, 4, "FloatWritable")
    _check(b, 4, "FloatWritable")
    return java_float_compare(_FLOAT32.unpack_from(a, 0)[0], _FLOAT32.unpack_from(b, 0)[0])


def compare_double(a, b) -> int:
    """DoubleWritable.Comparator: ``Double.compare`` of the two 8-byte doubles."""
    _check(a, 8, "DoubleWritable")
    _check(b, 8, "DoubleWritable")
    return java_float_compare(_FLOAT64.unpack_from(a, 0)[0], _FLOAT64.unpack_from(b, 0)[0])
