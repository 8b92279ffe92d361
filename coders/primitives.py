"""Coders for single values: bytes, str, int, float, bool, None, timestamps, decimals.

Every coder here writes exactly the bytes Apache Beam's coder of the same name
writes, in both contexts (see ``coders.base`` for *outer* vs *nested*), except
``NoneCoder`` and ``CanonicalFloatCoder``, which are coderkit's own and documented
below. Where Beam is lossy or lenient (it encodes ``True`` with its int coder, rounds
decimals, truncates sub-millisecond timestamps) these coders refuse the value with an
:class:`coders.EncodeError` that says why and how to fix it, because a value that
comes back different is a bug even when nothing crashes.

Each class has a readable ``encode_to``/``decode_from`` pair (the reference) and
overrides the public ``encode``/``decode``/``encode_nested``/``decode_nested`` with a
specialised fast path that falls back to the reference for anything unusual; tests
check that both give the same bytes and the same errors.
"""

from __future__ import annotations

import datetime
import decimal
import uuid

from . import accel as speedups
from .base import Coder
from .errors import DecodeError
from .streams import (
    DOUBLE_BE,
    INT64_BE,
    INT64_MAX,
    INT64_MIN,
    read_exact,
    read_length_prefixed,
    read_varint64,
    varint64_bytes,
    varint64_size,
    write_varint64,
)

__all__ = [
    "BooleanCoder",
    "BytesCoder",
    "CanonicalDecimalCoder",
    "CanonicalFloatCoder",
    "DecimalCoder",
    "FloatCoder",
    "NoneCoder",
    "StrUtf8Coder",
    "TimestampCoder",
    "UUIDCoder",
    "VarIntCoder",
]

# bytes((i,)) for every byte value: one-byte varints and length prefixes without allocation.
_BYTE = tuple(bytes((i,)) for i in range(256))


def _generate_varint_readers():
    """Straight-line (unrolled) varint readers for a position inside a buffer.

    ``read_varint(data, pos)`` returns ``(value, new_pos)``; ``read_varint_rest(data, pos, r)``
    continues a varint whose first three bytes (21 bits, in ``r``) were already read and
    ``pos`` is at its fourth byte (generated code inlines the first three). Both raise
    IndexError (truncated) or ValueError (over-long, beyond 64 bits) on bad input; callers
    fall back to ``streams.read_varint64`` for the precise DecodeError.
    """
    lines = [
        "def read_varint(data, pos):",
        "    b = data[pos]",
        "    if b < 0x80:",
        "        return b, pos + 1",
        "    r = b & 0x7F",
    ]
    for i in range(1, 9):
        lines += [
            f"    b = data[pos + {i}]",
            "    if b < 0x80:",
            f"        return r | (b << {7 * i}), pos + {i + 1}",
            f"    r |= (b & 0x7F) << {7 * i}",
        ]
    lines += [
        "    b = data[pos + 9]",
        "    if b > 1:",
        "        raise ValueError('over-long varint or beyond 64 bits')",
        "    if b:",
        "        r -= 0x8000000000000000",
        "    return r, pos + 10",
        "",
    ]
    # The rest in 21-bit groups of small ints, so only the final combination is big-int arithmetic.
    lines += [
        "def read_varint_rest(data, pos, r):",
        "    b = data[pos]",
        "    if b < 0x80:",
        "        return r | b << 21, pos + 1",
        "    c = data[pos + 1]",
        "    if c < 0x80:",
        "        return r | ((b & 0x7F) | c << 7) << 21, pos + 2",
        "    d = data[pos + 2]",
        "    if d < 0x80:",
        "        return r | ((b & 0x7F) | (c & 0x7F) << 7 | d << 14) << 21, pos + 3",
        "    r |= ((b & 0x7F) | (c & 0x7F) << 7 | (d & 0x7F) << 14) << 21",
        "    e = data[pos + 3]",
        "    if e < 0x80:",
        "        return r | e << 42, pos + 4",
        "    f = data[pos + 4]",
        "    if f < 0x80:",
        "        return r | ((e & 0x7F) | f << 7) << 42, pos + 5",
        "    g = data[pos + 5]",
        "    if g < 0x80:",
        "        return r | ((e & 0x7F) | (f & 0x7F) << 7 | g << 14) << 42, pos + 6",
        "    h = data[pos + 6]",
        "    if h > 1:",
        "        raise ValueError('over-long varint or beyond 64 bits')",
        "    r |= ((e & 0x7F) | (f & 0x7F) << 7 | (g & 0x7F) << 14) << 42",
        "    return (r - 0x8000000000000000 if h else r), pos + 7",
    ]
    namespace: dict = {}
    exec(compile("\n".join(lines), "<coderkit varint readers>", "exec"), namespace)
    return namespace["read_varint"], namespace["read_varint_rest"]


_read_varint_fast, _read_varint_rest = _generate_varint_readers()

# Every varint of one or two bytes (0 .. 2**14 - 1), precomputed both ways: most ints,
# lengths and counts are small, and a table lookup beats any arithmetic in Python.
VARINT_TABLE = tuple(varint64_bytes(i) for i in range(1 << 14))
_VARINT_VALUES = {raw: i for i, raw in enumerate(VARINT_TABLE)}


# The low 14 bits of a longer varint: two bytes, both with the continuation bit set.
_VARINT_CHUNK = tuple(bytes(((x & 0x7F) | 0x80, (x >> 7) | 0x80)) for x in range(1 << 14))


def _chunked_varint_lines(v: str, pad: str) -> list[str]:
    """Source returning the varint of int ``v`` in 14-bit table chunks, or falling through when out of range."""

    def chunks(count: int, last: str) -> str:
        parts = [f"VC[({v} >> {14 * i}) & 0x3FFF]" if i else f"VC[{v} & 0x3FFF]" for i in range(count)]
        parts.append(f"VT[{last}]")
        return " + ".join(parts) if count < 3 else f"b''.join(({', '.join(parts)}))"

    lines = [f"{pad}if {v} >= 0:", f"{pad}    if {v} < 16384:", f"{pad}        return VT[{v}]"]
    for count in range(1, 4):  # values below 2**(14 * (count + 1)), the last chunk whole from the table
        lines += [
            f"{pad}    if {v} < {1 << (14 * (count + 1))}:",
            f"{pad}        return {chunks(count, f'{v} >> {14 * count}')}",
        ]
    lines += [
        f"{pad}    if {v} < 0x8000000000000000:",
        f"{pad}        return {chunks(4, f'{v} >> 56')}",
        f"{pad}elif {v} >= -0x8000000000000000:",
        f"{pad}    {v} += 0x10000000000000000",
        f"{pad}    return {chunks(4, f'{v} >> 56')}",
    ]
    return lines


def _varint_decode_lines(pad: str, keyword: str = "if") -> list[str]:
    """Source decoding the whole bytes object ``data`` of length ``n`` (3..10) as one varint, or falling through.

    The bytes are unpacked into small ints (cheap), their continuation bits checked, and
    their 7-bit groups gathered 28 bits at a time so big-int arithmetic happens only once.
    """
    lines = [f"{pad}{keyword} n > 5:"]
    for n in (10, 6, 7, 8, 9, 3, 4, 5):
        if n == 3:
            lines.append(f"{pad}else:")
        inner = pad + "    "
        names = [f"a{i}" for i in range(n)]
        cont = " and ".join([f"{a} > 127" for a in names[:-1]] + [f"{names[-1]} < {2 if n == 10 else 128}"])

        def group(items, shift0=0):
            return " | ".join(f"({a} & 127) << {7 * (i)}" if i else f"({a} & 127)" for i, a in enumerate(items))

        low = group(names[:4]) if n > 4 else group(names[:-1]) + f" | {names[-1]} << {7 * (n - 1)}"
        if n <= 4:
            value = low
        elif n <= 8:
            high = (
                group(names[4:-1]) + (" | " if n > 5 else "") + f"{names[-1]} << {7 * (n - 5)}" if n > 5 else names[-1]
            )
            value = f"({low}) | ({high}) << 28"
        else:
            mid = group(names[4:8])
            top = f"{names[8]}" if n == 9 else f"({names[8]} & 127) | {names[9]} << 7"
            value = f"({low}) | ({mid}) << 28 | ({top}) << 56"
        lines += [f"{inner}if n == {n}:", f"{inner}    {', '.join(names)}, = data", f"{inner}    if {cont}:"]
        if n == 10:
            lines += [f"{inner}        v = {value}", f"{inner}        return v - 0x10000000000000000 if a9 else v"]
        else:
            lines.append(f"{inner}        return {value}")
    return lines


def _generate_whole_varint_methods():
    """VarIntCoder's public encode/decode for a whole value, unrolled and table driven.

    encode: 0 .. 2**14 - 1 from a table; larger values as 14-bit chunks from a second
    table (continuation bits already set), the last chunk from the first.
    decode: the inverse table for one and two bytes; longer inputs per length, unpacked
    into small ints. Anything else (wrong type, out of range, malformed) takes the slow,
    precise path, which raises the EncodeError/DecodeError.
    """
    enc = ["def encode(self, value):", "    if type(value) is int:"] + _chunked_varint_lines("value", "        ")
    enc += ["        raise self._out_of_range(value)", "    raise self._not_int(value)"]
    dec = [
        "def decode(self, data):",
        "    if type(data) is bytes:",
        "        n = len(data)",
        "        if n < 3:",
        "            v = TABLE_GET(data)",
        "            if v is not None:",
        "                return v",
    ]
    dec += _varint_decode_lines("        ", keyword="elif")
    dec.append("    return self._decode_all(data, False)")
    vb = ["def varint_or_none(value):"] + _chunked_varint_lines("value", "    ") + ["    return None"]
    namespace = {"VT": VARINT_TABLE, "VC": _VARINT_CHUNK, "TABLE_GET": _VARINT_VALUES.get}
    exec(compile("\n".join(enc + [""] + dec + [""] + vb), "<coderkit VarIntCoder fast paths>", "exec"), namespace)
    return namespace["encode"], namespace["decode"], namespace["varint_or_none"]


_whole_varint_encode, _whole_varint_decode, _varint_or_none = _generate_whole_varint_methods()


def _read_length(data, pos: int, what: str) -> tuple[int, int]:
    """Read a varint byte length at ``pos`` and check it against the bytes that remain."""
    n, after = read_varint64(data, pos)
    if n < 0:
        raise DecodeError(f"{what}: negative length {n}", offset=pos)
    if after + n > len(data):
        raise DecodeError(f"{what}: length prefix says {n} bytes but only {len(data) - after} remain", offset=pos)
    return n, after


class _Primitive(Coder):
    """Shared behaviour of the leaf coders: no components, deterministic unless they say otherwise."""

    #: Fewest bytes one nested value takes; collection decoders use it to bound hostile counts.
    MIN_NESTED_SIZE = 1
    #: Bytes every value takes in both contexts, for fixed-width coders (None when it varies).
    FIXED_SIZE = None

    def min_nested_size(self) -> int:
        return self.MIN_NESTED_SIZE

    def __reduce__(self):
        return (type(self), self._params())


# ---------------------------------------------------------------------------------------- bytes


class BytesCoder(_Primitive):
    """``bytes`` as themselves. Outer: the raw bytes. Nested: varint length, then the bytes.

    Only ``bytes`` is accepted: a ``bytearray`` or ``memoryview`` would come back as
    ``bytes``, a different type (pass ``bytes(x)``).
    """

    def encode_to(self, value, out, nested):
        if type(value) is not bytes:
            raise self._not_bytes(value)
        if nested:
            write_varint64(out, len(value))
        out += value

    def decode_from(self, data, pos, nested):
        if not nested:
            return bytes(data[pos:]), len(data)
        n, pos = _read_length(data, pos, "bytes")
        end = pos + n
        return bytes(data[pos:end]), end

    def _not_bytes(self, value):
        return self._encode_error(
            value, "bytes", "pass bytes(x); bytearray, memoryview and str are not converted silently"
        )

    # fast paths
    def encode(self, value):
        if type(value) is bytes:
            return value
        raise self._not_bytes(value)

    def encode_nested(self, value):
        if type(value) is bytes:
            n = len(value)
            if n < 0x80:
                return _BYTE[n] + value
            return _varint_or_none(n) + value
        raise self._not_bytes(value)

    def decode(self, data):
        if type(data) is bytes:
            return data
        return self._decode_all(data, False)

    def estimate_size(self, value, nested=False):
        n = len(value)
        return n + varint64_size(n) if nested else n

    def to_type_hint(self):
        return bytes


# ------------------------------------------------------------------------------------------ str


class StrUtf8Coder(_Primitive):
    """``str`` as UTF-8. Outer: the UTF-8 bytes. Nested: varint byte length, then the bytes.

    ``bytes`` are refused (Beam's would fail late or mangle them), and so are strings
    holding lone surrogates, which have no UTF-8 encoding. Decoding checks the UTF-8.
    """

    def encode_to(self, value, out, nested):
        raw = self._utf8(value)
        if nested:
            write_varint64(out, len(raw))
        out += raw

    def _utf8(self, value) -> bytes:
        if type(value) is not str and not isinstance(value, str):
            raise self._encode_error(
                value,
                "str",
                "pass a str; decode bytes with .decode('utf-8') first"
                if isinstance(value, (bytes, bytearray))
                else "pass str(x)",
            )
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise self._encode_error(
                value,
                f"a str encodable as UTF-8 (character {value[e.start]!r} at index {e.start} is a lone surrogate)",
                "remove the surrogate, or encode with 'surrogatepass' and use BytesCoder",
            ) from None

    def decode_from(self, data, pos, nested):
        if nested:
            n, pos = _read_length(data, pos, "str")
            end = pos + n
        else:
            end = len(data)
        try:
            return str(data[pos:end], "utf-8"), end
        except UnicodeDecodeError as e:
            raise DecodeError(f"invalid UTF-8 in str: {e.reason}", offset=pos + e.start) from None

    # fast paths
    def encode(self, value):
        if type(value) is str:
            try:
                return value.encode()
            except UnicodeEncodeError:
                pass
        return self._utf8(value)

    def encode_nested(self, value):
        if type(value) is str:
            try:
                raw = value.encode()
            except UnicodeEncodeError:
                raw = self._utf8(value)
        else:
            raw = self._utf8(value)
        n = len(raw)
        if n < 0x80:
            return _BYTE[n] + raw
        return _varint_or_none(n) + raw

    def decode(self, data):
        if type(data) is bytes:
            try:
                return data.decode()
            except UnicodeDecodeError:
                pass
        return self._decode_all(data, False)

    def decode_nested(self, data):
        if type(data) is bytes and data:
            n = data[0]
            if n < 0x80 and len(data) == n + 1:
                try:
                    return data[1:].decode()
                except UnicodeDecodeError:
                    pass
        return self._decode_all(data, True)

    def estimate_size(self, value, nested=False):
        # One UTF-8 byte per ASCII char, at most 4 per char: exact for ASCII without encoding.
        n = len(value) if value.isascii() else len(value.encode("utf-8", "surrogatepass"))
        return n + varint64_size(n) if nested else n

    def to_type_hint(self):
        return str


# ------------------------------------------------------------------------------------------ int


class VarIntCoder(_Primitive):
    """A signed 64-bit ``int`` as Beam's varint (two's complement, 7 bits a byte, little end first).

    The same bytes in both contexts. Only ``int`` itself is accepted: ``True`` would
    come back as ``1``, an IntEnum as a plain int, ``1.0`` or ``"1"`` are not ints; and
    values outside [-2**63, 2**63 - 1] do not fit the wire format.
    """

    def encode_to(self, value, out, nested):
        if type(value) is not int:
            raise self._not_int(value)
        if not INT64_MIN <= value <= INT64_MAX:
            raise self._out_of_range(value)
        write_varint64(out, value)

    def decode_from(self, data, pos, nested):
        return read_varint64(data, pos)

    def _not_int(self, value):
        if isinstance(value, bool):
            return self._encode_error(
                value, "int (bool is refused: True would decode as 1)", "use BooleanCoder for bools, or pass int(x)"
            )
        if isinstance(value, int):
            return self._encode_error(
                value,
                f"int (the subclass {type(value).__name__} would decode as plain int)",
                "pass int(x), or use EnumCoder for enums",
            )
        return self._encode_error(value, "int", "pass int(x) if the conversion is intended")

    def _out_of_range(self, value):
        return self._encode_error(
            value,
            "an int in the int64 range [-2**63, 2**63 - 1]",
            "use DecimalCoder or a PickleCoder for larger integers, or reduce the value",
        )

    # fast paths (VarInt bytes do not depend on the context), generated above; replaced below by
    # C methods when the accelerator is built (coders.speedups). Both hand anything unusual to the
    # reference path, so bytes, values and errors are the same.
    encode = encode_nested = _whole_varint_encode
    decode = decode_nested = _whole_varint_decode

    def estimate_size(self, value, nested=False):
        return varint64_size(value)

    def to_type_hint(self):
        return int


if speedups.ENABLED:
    VarIntCoder.encode, VarIntCoder.decode = speedups.varint_methods(
        VarIntCoder, _whole_varint_encode, _whole_varint_decode
    )
    VarIntCoder.encode_nested, VarIntCoder.decode_nested = VarIntCoder.encode, VarIntCoder.decode


# ---------------------------------------------------------------------------------------- float


class FloatCoder(_Primitive):
    """A ``float`` as an IEEE 754 big-endian double (8 bytes, both contexts), like Beam's FloatCoder.

    ``int`` and ``bool`` are refused (``1`` would come back as ``1.0``); float
    subclasses such as ``numpy.float64`` are accepted and decode as ``float``. NaN
    payloads survive the round trip. Not deterministic: ``-0.0 == 0.0`` but their
    bytes differ, and NaN never equals itself; ``as_deterministic_coder()`` gives
    :class:`CanonicalFloatCoder`.
    """

    MIN_NESTED_SIZE = 8
    FIXED_SIZE = 8

    def encode_to(self, value, out, nested):
        if type(value) is not float and not self._accepts(value):
            raise self._not_float(value)
        out += DOUBLE_BE.pack(value)

    @staticmethod
    def _accepts(value) -> bool:
        return isinstance(value, float)

    def _not_float(self, value):
        if isinstance(value, (int, bool)):
            return self._encode_error(
                value, f"float ({type(value).__name__} would decode as float, a different value type)", "pass float(x)"
            )
        return self._encode_error(value, "float", "pass float(x) if the conversion is intended")

    def decode_from(self, data, pos, nested):
        if pos + 8 > len(data):
            raise DecodeError(f"truncated input: a double needs 8 bytes but {len(data) - pos} remain", offset=pos)
        return DOUBLE_BE.unpack_from(data, pos)[0], pos + 8

    def own_determinism_issues(self):
        return [
            (
                "-0.0 == 0.0 but their bytes differ, and NaN never equals itself (NaN payloads give different bytes)",
                "use CanonicalFloatCoder (as_deterministic_coder()), which writes 0.0 for -0.0 and one canonical NaN",
            )
        ]

    def as_deterministic_coder(self, context=None):
        return CanonicalFloatCoder()

    # fast paths
    def encode(self, value, _pack=DOUBLE_BE.pack):
        if type(value) is float:
            return _pack(value)
        out = bytearray()
        self.encode_to(value, out, False)
        return bytes(out)

    encode_nested = encode

    def decode(self, data, _unpack=DOUBLE_BE.unpack):
        if type(data) is bytes and len(data) == 8:
            return _unpack(data)[0]
        return self._decode_all(data, False)

    decode_nested = decode

    def estimate_size(self, value, nested=False):
        return 8

    def to_type_hint(self):
        return float


_CANONICAL_NAN = bytes.fromhex("7ff8000000000000")
_POSITIVE_ZERO = bytes(8)


class CanonicalFloatCoder(FloatCoder):
    """FloatCoder's deterministic variant: ``-0.0`` is written as ``0.0`` and every NaN as 7ff8000000000000.

    Every other float gives FloatCoder's bytes, so either coder decodes the other's
    output. Equal floats (and all NaNs) now give equal bytes, at the cost of the sign
    of zero and the NaN payload, which is why it is opt-in.
    """

    def encode_to(self, value, out, nested):
        if type(value) is not float and not self._accepts(value):
            raise self._not_float(value)
        out += self._canonical(value)

    @staticmethod
    def _canonical(value, _pack=DOUBLE_BE.pack) -> bytes:
        if value != value:
            return _CANONICAL_NAN
        if value == 0.0:
            return _POSITIVE_ZERO
        return _pack(value)

    def own_determinism_issues(self):
        return []

    def as_deterministic_coder(self, context=None):
        return self

    def encode(self, value, _pack=DOUBLE_BE.pack):
        if type(value) is float:
            if value != value:
                return _CANONICAL_NAN
            if value == 0.0:
                return _POSITIVE_ZERO
            return _pack(value)
        out = bytearray()
        self.encode_to(value, out, False)
        return bytes(out)

    encode_nested = encode


# ----------------------------------------------------------------------------------------- bool


class BooleanCoder(_Primitive):
    """A ``bool`` as one byte, 0x00 or 0x01 (both contexts), like Beam's BooleanCoder.

    Only ``bool`` is accepted (``1`` or ``"yes"`` would come back as ``True``); only
    0x00 and 0x01 decode.
    """

    FIXED_SIZE = 1

    def encode_to(self, value, out, nested):
        if value is True:
            out.append(1)
        elif value is False:
            out.append(0)
        else:
            raise self._not_bool(value)

    def _not_bool(self, value):
        return self._encode_error(value, "bool", "pass bool(x) if truthiness is what you mean")

    def decode_from(self, data, pos, nested):
        if pos >= len(data):
            raise DecodeError("truncated input: expected a bool byte, found end of data", offset=pos)
        b = data[pos]
        if b == 1:
            return True, pos + 1
        if b == 0:
            return False, pos + 1
        raise DecodeError(f"invalid bool byte 0x{b:02x}: expected 0x00 or 0x01", offset=pos)

    def encode(self, value):
        if value is True:
            return b"\x01"
        if value is False:
            return b"\x00"
        raise self._not_bool(value)

    encode_nested = encode

    def decode(self, data):
        if data == b"\x01":
            return True
        if data == b"\x00":
            return False
        return self._decode_all(data, False)

    decode_nested = decode

    def estimate_size(self, value, nested=False):
        return 1

    def to_type_hint(self):
        return bool


# ----------------------------------------------------------------------------------------- None


class NoneCoder(_Primitive):
    """``None`` as zero bytes in both contexts (coderkit's own; Beam has no such coder).

    Anything but ``None`` is refused. Collections of NoneCoder elements are bounded on
    decode because each element takes no bytes (see ``coders.collections``).
    """

    MIN_NESTED_SIZE = 0
    FIXED_SIZE = 0

    def encode_to(self, value, out, nested):
        if value is not None:
            raise self._encode_error(value, "None", "use NullableCoder(inner) for values that may be None")

    def decode_from(self, data, pos, nested):
        return None, pos

    def encode(self, value):
        if value is None:
            return b""
        return super().encode(value)

    encode_nested = encode

    def estimate_size(self, value, nested=False):
        return 0

    def to_type_hint(self):
        return type(None)


# ------------------------------------------------------------------------------------ timestamp

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_SIGN_BIT = 1 << 63


class TimestampCoder(_Primitive):
    """An instant as Beam's TimestampCoder: milliseconds since the epoch, shifted by 2**63, big-endian int64.

    The shift (flipping the sign bit) makes the bytes sort in time order. 8 bytes in
    both contexts. Accepts an aware ``datetime`` or anything with an integer
    ``.micros`` (Beam's ``Timestamp``). Naive datetimes are refused (their instant is
    unknown) and so are values with sub-millisecond precision (Beam silently drops
    the microseconds; this coder refuses). The zone is not stored: decoding gives an
    aware UTC ``datetime`` equal to the input, or a Beam ``Timestamp`` with
    ``as_beam_timestamp=True``.
    """

    MIN_NESTED_SIZE = 8
    FIXED_SIZE = 8

    def __init__(self, as_beam_timestamp: bool = False):
        self.as_beam_timestamp = bool(as_beam_timestamp)

    def _params(self):
        return (self.as_beam_timestamp,)

    def _repr_args(self):
        return ["as_beam_timestamp=True"] if self.as_beam_timestamp else []

    def _micros(self, value) -> int:
        if isinstance(value, datetime.datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                raise self._encode_error(
                    value,
                    "an aware datetime (a naive datetime is no particular instant)",
                    "attach a zone, e.g. dt.replace(tzinfo=datetime.timezone.utc)",
                )
            delta = value - _EPOCH
            return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        try:
            micros = value.micros
        except AttributeError:
            micros = None
        except ValueError as e:  # a Beam Timestamp with nanosecond precision
            raise self._encode_error(
                value, f"a timestamp with at most microsecond precision ({e})", "truncate it to milliseconds first"
            ) from None
        if type(micros) is not int:
            raise self._encode_error(value, "an aware datetime or an object with integer .micros (a Beam Timestamp)")
        return micros

    def encode_to(self, value, out, nested):
        micros = self._micros(value)
        millis, rest = divmod(micros, 1000)
        if rest:
            raise self._encode_error(
                value,
                f"a timestamp with millisecond precision (it has {rest} extra microseconds, "
                "which the wire format cannot hold)",
                "truncate to milliseconds first, e.g. dt.replace(microsecond=dt.microsecond // 1000 * 1000)",
            )
        if not INT64_MIN <= millis <= INT64_MAX:
            raise self._encode_error(value, "a timestamp within int64 milliseconds of the epoch")
        out += INT64_BE.pack(millis - _SIGN_BIT if millis >= 0 else millis + _SIGN_BIT)

    def decode_from(self, data, pos, nested):
        if pos + 8 > len(data):
            raise DecodeError(f"truncated input: a timestamp needs 8 bytes but {len(data) - pos} remain", offset=pos)
        shifted = INT64_BE.unpack_from(data, pos)[0]
        millis = shifted + _SIGN_BIT if shifted < 0 else shifted - _SIGN_BIT
        if self.as_beam_timestamp:
            from apache_beam.utils.timestamp import Timestamp

            return Timestamp(micros=millis * 1000), pos + 8
        try:
            return _EPOCH + datetime.timedelta(milliseconds=millis), pos + 8
        except OverflowError:
            raise DecodeError(
                f"timestamp {millis} ms since the epoch is outside the years datetime can hold (1-9999); "
                "decode with TimestampCoder(as_beam_timestamp=True) to read it",
                offset=pos,
            ) from None

    def estimate_size(self, value, nested=False):
        return 8

    def to_type_hint(self):
        if self.as_beam_timestamp:
            from apache_beam.utils.timestamp import Timestamp

            return Timestamp
        return datetime.datetime


# -------------------------------------------------------------------------------------- decimal


class DecimalCoder(_Primitive):
    """A ``decimal.Decimal`` as Beam's DecimalCoder (Java's BigDecimalCoder).

    Bytes: the scale (minus the exponent) as a varint, then the unscaled integer as
    Java's ``BigInteger.toByteArray()`` (minimal two's complement, big-endian), which
    is length-prefixed (varint) only in the nested context.

    Exact both ways: the unscaled integer comes from the digit tuple, and decoding
    rebuilds the Decimal from its digits, so values beyond 28 digits survive (Beam's
    decoder rounds them to its context precision). NaN and infinities are refused;
    ``-0`` is written as ``0`` (they are equal, and the wire format has no signed zero).
    """

    MIN_NESTED_SIZE = 2

    def _parts(self, value) -> tuple[int, int]:
        if not isinstance(value, decimal.Decimal):
            raise self._encode_error(value, "decimal.Decimal", "pass decimal.Decimal(str(x))")
        if not value.is_finite():
            raise self._encode_error(
                value,
                "a finite Decimal (NaN and Infinity have no encoding)",
                "map them to None and use NullableCoder(DecimalCoder())",
            )
        sign, digits, exponent = value.as_tuple()
        unscaled = int(decimal.Decimal((sign, digits, 0)))
        scale = -exponent
        if not INT64_MIN <= scale <= INT64_MAX:
            raise self._encode_error(value, "a Decimal whose exponent fits in int64")
        return scale, unscaled

    @staticmethod
    def _bigint_bytes(value: int) -> bytes:
        if value < 0:
            length = ((value + 1).bit_length() + 8) // 8
        else:
            length = (value.bit_length() + 8) // 8
        return value.to_bytes(length, "big", signed=True)

    def encode_to(self, value, out, nested):
        scale, unscaled = self._parts(value)
        raw = self._bigint_bytes(unscaled)
        write_varint64(out, scale)
        if nested:
            write_varint64(out, len(raw))
        out += raw

    def decode_from(self, data, pos, nested):
        scale_at = pos
        scale, pos = read_varint64(data, pos)
        start = pos
        if nested:
            raw, pos = read_length_prefixed(data, pos, "decimal unscaled value")
        else:
            raw, pos = bytes(data[pos:]), len(data)
        if not raw:
            raise DecodeError("decimal unscaled value: empty (a BigInteger has at least one byte)", offset=start)
        unscaled = int.from_bytes(raw, "big", signed=True)
        sign, digits, _ = decimal.Decimal(unscaled).as_tuple()
        try:
            return decimal.Decimal((sign, digits, -scale)), pos
        except decimal.InvalidOperation:
            raise DecodeError(
                f"decimal scale {scale} is beyond the exponents Python's Decimal can hold", offset=scale_at
            ) from None

    def estimate_size(self, value, nested=False):
        scale, unscaled = self._parts(value)
        n = ((unscaled + 1 if unscaled < 0 else unscaled).bit_length() + 8) // 8
        return varint64_size(scale) + n + (varint64_size(n) if nested else 0)

    def to_type_hint(self):
        return decimal.Decimal

    def own_determinism_issues(self):
        return [
            (
                "Decimal('1.0') == Decimal('1.00') but their scales differ, so equal decimals can give different bytes",
                "use CanonicalDecimalCoder (as_deterministic_coder()), which writes each value with its "
                "trailing zeros removed",
            )
        ]

    def as_deterministic_coder(self, context=None):
        return CanonicalDecimalCoder()


class CanonicalDecimalCoder(DecimalCoder):
    """DecimalCoder's deterministic variant: each value is written with its trailing zeros removed.

    ``Decimal('1.00')`` is written as ``Decimal('1')`` (scale 0, unscaled 1) and every
    zero as scale 0, so equal decimals give equal bytes; the bytes are DecimalCoder's
    (and Beam's) for the canonical value, so either coder decodes the other's output.
    The exponent is the price, which is why it is opt-in (exact digits are never lost).
    """

    def _parts(self, value) -> tuple[int, int]:
        scale, unscaled = super()._parts(value)
        if unscaled == 0:
            return 0, 0
        while unscaled % 10 == 0:
            unscaled //= 10
            scale -= 1
        return scale, unscaled

    def own_determinism_issues(self):
        return []

    def as_deterministic_coder(self, context=None):
        return self


class UUIDCoder(_Primitive):
    """``uuid.UUID`` as its 16 bytes (``UUID.bytes``, big-endian), in both contexts; deterministic.

    ``UUID("12345678-1234-5678-1234-567812345678")`` -> ``12 34 56 78 12 34 56 78 12 34 56 78 12 34 56 78``.
    """

    def encode_to(self, value, out: bytearray, nested: bool) -> None:
        if type(value) is not uuid.UUID:
            raise self._encode_error(value, "a uuid.UUID", fix="pass uuid.UUID(...) or register a coder for the type")
        out += value.bytes

    def decode_from(self, data, pos: int, nested: bool):
        start = pos
        raw, pos = read_exact(data, pos, 16, "UUID")
        if not nested and pos != len(data):
            raise DecodeError(f"UUID: expected exactly 16 bytes, got {len(data) - start}", offset=start)
        return uuid.UUID(bytes=raw), pos

    FIXED_SIZE = 16

    def estimate_size(self, value, nested: bool = False) -> int:
        return 16

    def to_type_hint(self):
        return uuid.UUID
