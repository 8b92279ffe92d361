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
import numbers
import operator
import uuid

from . import accel
from .base import WRAPPED, Coder
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


def _read_length(data, pos: int, what: str) -> tuple[int, int]:
    """Read a varint byte length at ``pos`` and check it against the bytes that remain."""
    n, after = read_varint64(data, pos)
    if n < 0:
        raise DecodeError(f"{what}: negative length {n}", offset=pos)
    if after + n > len(data):
        raise DecodeError(f"{what}: length prefix says {n} bytes but only {len(data) - after} remain", offset=pos)
    return n, after


def positive_zero(x: float) -> float:
    """``x`` with ``-0.0`` turned into ``0.0`` (what a canonical float encoding writes)."""
    return 0.0 if x == 0.0 else x


class _Primitive(Coder):
    """Shared behaviour of the leaf coders: no components, deterministic unless they say otherwise."""

    #: Fewest bytes one nested value takes (a length prefix or a tag at least); collection decoders
    #: use it to bound hostile counts. Fixed-width coders take their width.
    MIN_NESTED_SIZE = 1

    def min_nested_size(self) -> int:
        return self.MIN_NESTED_SIZE if self.fixed_width is None else self.fixed_width

    def __reduce__(self):
        return (type(self), self._params())


class _LenientOption:
    """The ``lenient`` parameter of FloatCoder, VarIntCoder and StrUtf8Coder (their class docstrings say what
    each then accepts). Exact by default; the registry builds lenient coders for ``float``, ``int`` and ``str``
    hints, so values a type checker accepts for the hint encode (the narrowing is in docs/registry.md)."""

    lenient = False

    def __init__(self, lenient: bool = False):
        self.lenient = bool(lenient)

    def _params(self):
        return (self.lenient,)

    def _repr_args(self):
        return ["lenient=True"] if self.lenient else []


# ---------------------------------------------------------------------------------------- bytes


class BytesCoder(_Primitive):
    """``bytes`` as themselves. Outer: the raw bytes. Nested: varint length, then the bytes.

    Only ``bytes`` is accepted: a ``bytearray`` or ``memoryview`` would come back as
    ``bytes``, a different type (pass ``bytes(x)``). Deterministic.
    """

    beam_coder = "BytesCoder"

    def accel_node(self, child):
        return ("bytes",)

    def value_strategy(self, child, st):
        return st.binary(max_size=64)

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
            return varint64_bytes(len(value)) + value
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


class StrUtf8Coder(_LenientOption, _Primitive):
    """``str`` as UTF-8. Outer: the UTF-8 bytes. Nested: varint byte length, then the bytes.

    Only ``str`` itself is accepted: a subclass (a ``str``-mixin Enum member) would decode as
    plain ``str``. ``StrUtf8Coder(lenient=True)`` (what the registry builds for ``str``) accepts
    subclasses and writes their text, decoding as ``str``. ``bytes`` are refused (Beam's would
    fail late or mangle them), and so are strings holding lone surrogates, which have no UTF-8
    encoding. Decoding checks the UTF-8. Deterministic.
    """

    beam_coder = "StrUtf8Coder"

    def accel_node(self, child):
        return ("str",)

    def value_strategy(self, child, st):
        # hypothesis never generates lone surrogates (category Cs) by default: they are not valid UTF-8.
        return st.text(max_size=32)

    def encode_to(self, value, out, nested):
        raw = self._utf8(value)
        if nested:
            write_varint64(out, len(raw))
        out += raw

    def _utf8(self, value) -> bytes:
        if type(value) is not str:
            if not isinstance(value, str):
                raise self._encode_error(
                    value,
                    "str",
                    "pass a str; decode bytes with .decode('utf-8') first"
                    if isinstance(value, (bytes, bytearray))
                    else "pass str(x)",
                )
            if not self.lenient:
                raise self._encode_error(
                    value,
                    f"str (the subclass {type(value).__name__} would decode as plain str)",
                    "pass str(x), use EnumCoder for enums, or StrUtf8Coder(lenient=True) to write subclasses "
                    "as their text",
                )
        try:
            return str.encode(value, "utf-8")  # str's own text, even if a subclass overrides encode
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
        return varint64_bytes(len(raw)) + raw

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
        n = len(value) if str.isascii(value) else len(str.encode(value, "utf-8", "surrogatepass"))
        return n + varint64_size(n) if nested else n

    def to_type_hint(self):
        return str


# ------------------------------------------------------------------------------------------ int


class VarIntCoder(_LenientOption, _Primitive):
    """A signed 64-bit ``int`` as Beam's varint (two's complement, 7 bits a byte, little end first).

    The same bytes in both contexts. Only ``int`` itself is accepted: ``True`` would
    come back as ``1``, an IntEnum as a plain int, ``1.0`` or ``"1"`` are not ints; and
    values outside [-2**63, 2**63 - 1] do not fit the wire format. ``VarIntCoder(lenient=True)``
    (what the registry builds for ``int``) also accepts every ``numbers.Integral`` (``bool``, an
    IntEnum member, ``numpy.int64``) and writes ``operator.index(x)``, the same varint; they decode
    as ``int``. Deterministic.
    """

    beam_coder = "VarIntCoder"

    def accel_node(self, child):
        return ("varint",)

    def value_strategy(self, child, st):
        return st.integers(min_value=INT64_MIN, max_value=INT64_MAX)

    def encode_to(self, value, out, nested):
        number = value if type(value) is int else self._as_int(value)
        if not INT64_MIN <= number <= INT64_MAX:
            raise self._out_of_range(value)
        write_varint64(out, number)

    def _as_int(self, value) -> int:
        # numbers.Integral covers bool, int subclasses and numpy's integers without importing numpy.
        if self.lenient and isinstance(value, numbers.Integral):
            return operator.index(value)
        raise self._not_int(value)

    def decode_from(self, data, pos, nested):
        return read_varint64(data, pos)

    def _not_int(self, value):
        if isinstance(value, bool):
            return self._encode_error(
                value,
                "int (bool is refused: True would decode as 1)",
                "use BooleanCoder for bools, pass int(x), or VarIntCoder(lenient=True) to write bools as ints",
            )
        if isinstance(value, numbers.Integral):
            return self._encode_error(
                value,
                f"int (the integer type {type(value).__name__} would decode as plain int)",
                "pass int(x), use EnumCoder for enums, or VarIntCoder(lenient=True) to write any integer as int",
            )
        return self._encode_error(value, "int", "pass int(x) if the conversion is intended")

    def _out_of_range(self, value):
        return self._encode_error(
            value,
            "an int in the int64 range [-2**63, 2**63 - 1]",
            "use DecimalCoder or a PickleCoder for larger integers, or reduce the value",
        )

    # The public methods (VarInt bytes do not depend on the context); replaced below by C methods
    # when the accelerator is built, which hand anything unusual to these.
    def encode(self, value):
        if type(value) is int and INT64_MIN <= value <= INT64_MAX:
            return varint64_bytes(value)
        return Coder.encode(self, value)

    def decode(self, data):
        return self._decode_all(data, False)

    encode_nested = encode
    decode_nested = decode

    def estimate_size(self, value, nested=False):
        return varint64_size(value if type(value) is int else self._as_int(value))

    def to_type_hint(self):
        return int


# The Python methods stay reachable (tests run them beside the C ones on the same values).
VarIntCoder.python_encode, VarIntCoder.python_decode = VarIntCoder.encode, VarIntCoder.decode
if accel.ENABLED:
    VarIntCoder.encode, VarIntCoder.decode = accel.varint_methods(VarIntCoder, VarIntCoder.encode, VarIntCoder.decode)
    VarIntCoder.encode_nested, VarIntCoder.decode_nested = VarIntCoder.encode, VarIntCoder.decode


# ---------------------------------------------------------------------------------------- float


class FloatCoder(_LenientOption, _Primitive):
    """A ``float`` as an IEEE 754 big-endian double (8 bytes, both contexts), like Beam's FloatCoder.

    ``int`` and ``bool`` are refused (``1`` would come back as ``1.0``); float
    subclasses such as ``numpy.float64`` are accepted and decode as ``float``. NaN
    payloads survive the round trip. ``FloatCoder(lenient=True)`` (what the registry builds
    for ``float``, the numeric tower's ``int`` included) also accepts every ``numbers.Integral``
    (``int``, ``bool``, ``numpy.int64``) a double holds exactly and writes ``float(x)``, so ``5``
    decodes as ``5.0``; an int a double would round (beyond 2**53) is still refused. Not
    deterministic: ``-0.0 == 0.0`` but their bytes differ, and NaN never equals itself;
    ``as_deterministic_coder()`` gives :class:`CanonicalFloatCoder`.
    """

    beam_coder = "FloatCoder"
    fixed_width = 8

    def accel_node(self, child):
        return ("float",)

    def value_strategy(self, child, st):
        return st.floats(allow_nan=True, allow_infinity=True)

    def encode_to(self, value, out, nested):
        out += DOUBLE_BE.pack(value if type(value) is float else self._as_float(value))

    def _as_float(self, value) -> float:
        if isinstance(value, float):
            return value
        if not (self.lenient and isinstance(value, numbers.Integral)):
            raise self._not_float(value)
        number = operator.index(value)
        try:
            wide = float(number)
        except OverflowError:
            wide = None
        if wide is None or int(wide) != number:
            raise self._encode_error(
                value,
                "a float, or an integer a double holds exactly (this one would be rounded)",
                "pass float(x) if rounding is intended, or give the field an int or Decimal type",
            )
        return wide

    def _not_float(self, value):
        if isinstance(value, numbers.Integral):
            return self._encode_error(
                value,
                f"float ({type(value).__name__} would decode as float, a different value type)",
                "pass float(x), or FloatCoder(lenient=True) to write integers as floats",
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
        return CanonicalFloatCoder(self.lenient)

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


def canonical_double(value: float, _pack=DOUBLE_BE.pack) -> bytes:
    """The canonical 8 bytes of a float: every NaN as 7ff8000000000000, -0.0 as 0.0, else big-endian.
    The one home of the rule (CanonicalFloatCoder and AnyCoder's deterministic mode write it)."""
    if value != value:
        return _CANONICAL_NAN
    if value == 0.0:
        return _POSITIVE_ZERO
    return _pack(value)


class CanonicalFloatCoder(FloatCoder):
    """FloatCoder's deterministic variant: ``-0.0`` is written as ``0.0`` and every NaN as 7ff8000000000000.

    Every other float gives FloatCoder's bytes, so either coder decodes the other's
    output. Equal floats (and all NaNs) now give equal bytes, at the cost of the sign
    of zero and the NaN payload, which is why it is opt-in. Deterministic.
    """

    beam_coder = WRAPPED  # Beam has no canonical float coder

    def accel_node(self, child):
        return ("cfloat",)

    def value_strategy(self, child, st):
        # -0.0 is written as 0.0 by design (equal values, equal bytes): generate 0.0 only.
        return st.floats(allow_nan=True, allow_infinity=True).map(positive_zero)

    def encode_to(self, value, out, nested):
        out += self._canonical(value if type(value) is float else self._as_float(value))

    _canonical = staticmethod(canonical_double)

    def own_determinism_issues(self):
        return []

    def as_deterministic_coder(self, context=None):
        return self

    def encode(self, value):
        if type(value) is float:
            return canonical_double(value)
        out = bytearray()
        self.encode_to(value, out, False)
        return bytes(out)

    encode_nested = encode


# ----------------------------------------------------------------------------------------- bool


class BooleanCoder(_Primitive):
    """A ``bool`` as one byte, 0x00 or 0x01 (both contexts), like Beam's BooleanCoder.

    Only ``bool`` is accepted (``1`` or ``"yes"`` would come back as ``True``); only
    0x00 and 0x01 decode. Deterministic.
    """

    beam_coder = "BooleanCoder"
    fixed_width = 1

    def accel_node(self, child):
        return ("bool",)

    def value_strategy(self, child, st):
        return st.booleans()

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
    decode because each element takes no bytes (see ``coders.collections``). Deterministic.
    """

    beam_coder = WRAPPED  # Beam has no None coder

    fixed_width = 0

    def accel_node(self, child):
        return ("none",)

    def value_strategy(self, child, st):
        return st.none()

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
# datetime's own range, in milliseconds since the epoch (for generated test values).
_MIN_DATETIME_MS = -62135596800000  # 0001-01-01T00:00:00Z
_MAX_DATETIME_MS = 253402300799999  # 9999-12-31T23:59:59.999Z
_SIGN_BIT = 1 << 63


class TimestampCoder(_Primitive):
    """An instant as Beam's TimestampCoder: milliseconds since the epoch, shifted by 2**63, big-endian int64.

    The shift (flipping the sign bit) makes the bytes sort in time order. 8 bytes in
    both contexts. Accepts an aware ``datetime`` or anything with an integer
    ``.micros`` (Beam's ``Timestamp``). Naive datetimes are refused (their instant is
    unknown) and so are values with sub-millisecond precision (Beam silently drops
    the microseconds; this coder refuses). The zone is not stored: decoding gives an
    aware UTC ``datetime`` equal to the input, or a Beam ``Timestamp`` with
    ``as_beam_timestamp=True``. Deterministic (the instant, not the zone, is written).

    The registry gives it to Beam's ``Timestamp`` only; ``datetime.datetime`` gets the exact
    ``coders.temporal.DateTimeCoder``. With ``as_beam_timestamp=True`` it reads every Beam timestamp,
    ``MIN_TIMESTAMP`` and ``MAX_TIMESTAMP`` included (as datetimes those lie outside years 1-9999).
    """

    beam_coder = "TimestampCoder"
    fixed_width = 8

    def beam_mapping(self) -> str:
        # Beam's TimestampCoder decodes to its Timestamp: byte-identical, but only that value type.
        return self.beam_coder if self.as_beam_timestamp else WRAPPED

    @classmethod
    def from_beam_components(cls, components):
        return cls(as_beam_timestamp=True)

    def value_strategy(self, child, st):
        millis = st.integers(min_value=_MIN_DATETIME_MS, max_value=_MAX_DATETIME_MS)
        if self.as_beam_timestamp:
            from apache_beam.utils.timestamp import Timestamp

            return millis.map(lambda ms: Timestamp(micros=ms * 1000))
        # Aware UTC datetimes, the values it gives back: any other zone comes back as the same instant in
        # UTC, which the exact test kit reports as a changed zone (DateTimeCoder keeps zones).
        return millis.map(lambda ms: _EPOCH + datetime.timedelta(milliseconds=ms))

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
                "Beam's MIN_TIMESTAMP and MAX_TIMESTAMP are such values; decode with "
                "TimestampCoder(as_beam_timestamp=True) to read it",
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
    Not deterministic: ``Decimal('1.0') == Decimal('1.00')`` but the scale is in the bytes.

    Beam's DecimalCoder decodes these bytes (and ``from_beam`` maps it here), but ``to_beam``
    wraps this coder: Beam's rounds values beyond 28 digits, which this one keeps.
    """

    beam_coder = WRAPPED
    beam_decodes = ("DecimalCoder",)
    MIN_NESTED_SIZE = 2

    def value_strategy(self, child, st):
        return st.decimals(allow_nan=False, allow_infinity=False, places=None)

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


def _without_trailing_zeros(value: decimal.Decimal) -> decimal.Decimal:
    """``value`` with its trailing zeros moved into the exponent (exact at any precision); 0 for any zero."""
    sign, digits, exponent = value.as_tuple()
    if not any(digits):
        return decimal.Decimal(0)
    while digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    return decimal.Decimal((sign, digits, exponent))


class CanonicalDecimalCoder(DecimalCoder):
    """DecimalCoder's deterministic variant: each value is written with its trailing zeros removed.

    ``Decimal('1.00')`` is written as ``Decimal('1')`` (scale 0, unscaled 1) and every
    zero as scale 0, so equal decimals give equal bytes; the bytes are DecimalCoder's
    (and Beam's) for the canonical value, so either coder decodes the other's output.
    The exponent is the price, which is why it is opt-in (exact digits are never lost). Deterministic.
    """

    beam_decodes = ()

    def value_strategy(self, child, st):
        # the values this coder gives back: trailing zeros stripped, every zero as plain 0
        return super().value_strategy(child, st).map(_without_trailing_zeros)

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

    beam_coder = WRAPPED  # Beam has no UUID coder

    fixed_width = 16

    def value_strategy(self, child, st):
        return st.uuids()

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

    def estimate_size(self, value, nested: bool = False) -> int:
        return 16

    def to_type_hint(self):
        return uuid.UUID
