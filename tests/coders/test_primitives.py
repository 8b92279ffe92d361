"""Primitive and wrapper coders: exact bytes as data, round trips of edge values, errors with their messages."""

from __future__ import annotations

import datetime
import decimal
import math
import pickle
import struct

import cloudpickle
import dill
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import coders
from coders.primitives import (
    BooleanCoder,
    BytesCoder,
    CanonicalDecimalCoder,
    CanonicalFloatCoder,
    DecimalCoder,
    FloatCoder,
    NoneCoder,
    StrUtf8Coder,
    TimestampCoder,
    VarIntCoder,
)
from coders.wrappers import LengthPrefixCoder, NullableCoder

UTC = datetime.UTC
D = decimal.Decimal

# (coder, value, outer hex, nested hex): the wire format, written down once.
EXACT_BYTES = [
    (BytesCoder(), b"", "", "00"),
    (BytesCoder(), b"ab", "6162", "026162"),
    (BytesCoder(), b"x" * 128, "78" * 128, "8001" + "78" * 128),
    (StrUtf8Coder(), "", "", "00"),
    (StrUtf8Coder(), "abc", "616263", "03616263"),
    (StrUtf8Coder(), "é", "c3a9", "02c3a9"),
    (StrUtf8Coder(), "\U0001f600", "f09f9880", "04f09f9880"),
    (VarIntCoder(), 0, "00", "00"),
    (VarIntCoder(), 1, "01", "01"),
    (VarIntCoder(), 127, "7f", "7f"),
    (VarIntCoder(), 128, "8001", "8001"),
    (VarIntCoder(), 300, "ac02", "ac02"),
    (VarIntCoder(), -1, "ffffffffffffffffff01", "ffffffffffffffffff01"),
    (VarIntCoder(), 2**63 - 1, "ffffffffffffffff7f", "ffffffffffffffff7f"),
    (VarIntCoder(), -(2**63), "80808080808080808001", "80808080808080808001"),
    (FloatCoder(), 0.0, "0000000000000000", "0000000000000000"),
    (FloatCoder(), -0.0, "8000000000000000", "8000000000000000"),
    (FloatCoder(), 1.5, "3ff8000000000000", "3ff8000000000000"),
    (FloatCoder(), math.inf, "7ff0000000000000", "7ff0000000000000"),
    (FloatCoder(), -math.inf, "fff0000000000000", "fff0000000000000"),
    (CanonicalFloatCoder(), -0.0, "0000000000000000", "0000000000000000"),
    (CanonicalFloatCoder(), 1.5, "3ff8000000000000", "3ff8000000000000"),
    (BooleanCoder(), False, "00", "00"),
    (BooleanCoder(), True, "01", "01"),
    (NoneCoder(), None, "", ""),
    (TimestampCoder(), datetime.datetime(1970, 1, 1, tzinfo=UTC), "8000000000000000", "8000000000000000"),
    (
        TimestampCoder(),
        datetime.datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=UTC),
        "8000000000000001",
        "8000000000000001",
    ),
    (
        TimestampCoder(),
        datetime.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
        "7fffffffffffffff",
        "7fffffffffffffff",
    ),
    (DecimalCoder(), D("0"), "0000", "000100"),
    (DecimalCoder(), D("1.23"), "027b", "02017b"),
    (DecimalCoder(), D("-1.5"), "01f1", "0101f1"),
    (DecimalCoder(), D("128"), "000080", "00020080"),
    (DecimalCoder(), D("-128"), "0080", "000180"),
    (DecimalCoder(), D("1E+5"), "fbffffffffffffffff0101", "fbffffffffffffffff010101"),
    (NullableCoder(VarIntCoder()), None, "00", "00"),
    (NullableCoder(VarIntCoder()), 5, "0105", "0105"),
    (NullableCoder(StrUtf8Coder()), "ab", "016162", "01026162"),
    (LengthPrefixCoder(StrUtf8Coder()), "ab", "026162", "026162"),
    (LengthPrefixCoder(VarIntCoder()), 300, "02ac02", "02ac02"),
]


def _id(case):
    return f"{case[0]!r}-{case[1]!r}"[:60]


@pytest.mark.parametrize("case", EXACT_BYTES, ids=_id)
def test_exact_bytes_in_both_contexts(case):
    coder, value, outer, nested = case
    assert coder.encode(value).hex() == outer
    assert coder.encode_nested(value).hex() == nested
    # the reference path (encode_to) agrees with any fast path
    for ctx, expected in ((False, outer), (True, nested)):
        out = bytearray()
        coder.encode_to(value, out, ctx)
        assert out.hex() == expected
    assert coder.decode(bytes.fromhex(outer)) == value
    assert coder.decode_nested(bytes.fromhex(nested)) == value
    assert coder.decode_from(bytes.fromhex(nested) + b"\xff", 0, True) == (value, len(nested) // 2)
    assert coder.estimate_size(value) == len(outer) // 2
    assert coder.estimate_size(value, nested=True) == len(nested) // 2


EDGE_VALUES = [
    (VarIntCoder(), [0, 1, -1, 127, 128, 16383, 16384, 2**31, -(2**31), 2**63 - 1, -(2**63), 2**62]),
    (StrUtf8Coder(), ["", "a", "x" * 127, "x" * 128, "x" * 70000, "\U0010ffff", "ß\u20ac\U0001f600", "\x00"]),
    (BytesCoder(), [b"", b"\x00", b"\xff" * 200, bytes(range(256))]),
    (FloatCoder(), [0.0, -0.0, 5e-324, 1.7976931348623157e308, math.inf, -math.inf, 0.1]),
    (BooleanCoder(), [True, False]),
    (NoneCoder(), [None]),
    (DecimalCoder(), [D("0.000"), D("-0"), D("1" * 60 + ".5"), D("-" + "9" * 40), D("1E-30"), D("123E+45"), D("0.1")]),
    (NullableCoder(NullableCoder(VarIntCoder())), [None, 0, 7]),
]


@pytest.mark.parametrize("coder, values", EDGE_VALUES, ids=[repr(c) for c, _ in EDGE_VALUES])
def test_edge_values_round_trip_exactly(coder, values):
    for value in values:
        for encode, decode in ((coder.encode, coder.decode), (coder.encode_nested, coder.decode_nested)):
            back = decode(encode(value))
            assert back == value and type(back) is type(value)
            if isinstance(value, float):
                assert math.copysign(1, back) == math.copysign(1, value)
            if isinstance(value, D):
                assert back.as_tuple()[1:] == value.as_tuple()[1:]


def test_decimal_beyond_28_digits_is_exact():
    value = D("3.14159265358979323846264338327950288419716939937510")
    assert DecimalCoder().decode(DecimalCoder().encode(value)).as_tuple() == value.as_tuple()


def test_float_nan_payload_survives_and_canonical_float_unifies_nans():
    payload_nan = struct.unpack(">d", bytes.fromhex("7ff0000000000123"))[0]
    assert FloatCoder().encode(payload_nan).hex() == "7ff0000000000123"
    assert math.isnan(FloatCoder().decode(FloatCoder().encode(payload_nan)))
    assert CanonicalFloatCoder().encode(payload_nan).hex() == "7ff8000000000000"
    assert CanonicalFloatCoder().encode(-math.nan).hex() == "7ff8000000000000"


@given(st.floats(allow_nan=False))
@settings(max_examples=100)
def test_canonical_float_matches_float_except_negative_zero(x):
    if x == 0.0:
        assert CanonicalFloatCoder().encode(x) == FloatCoder().encode(0.0)
    else:
        assert CanonicalFloatCoder().encode(x) == FloatCoder().encode(x)
    assert FloatCoder().decode(CanonicalFloatCoder().encode(x)) == x


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
@settings(max_examples=200)
def test_varint_fast_path_matches_reference(n):
    out = bytearray()
    VarIntCoder().encode_to(n, out, False)
    assert VarIntCoder().encode(n) == bytes(out)
    assert VarIntCoder().decode(bytes(out)) == n
    assert VarIntCoder().decode_from(bytes(out), 0, False) == (n, len(out))
    assert VarIntCoder().estimate_size(n) == len(out)


def test_varint_fast_paths_at_every_power_of_two_boundary():
    from coders.streams import read_varint64, varint64_bytes

    coder = VarIntCoder()
    for k in range(64):
        for n in (2**k - 1, 2**k, 2**k + 1, -(2**k) - 1, -(2**k), -(2**k) + 1):
            if -(2**63) <= n < 2**63:
                raw = varint64_bytes(n)
                assert coder.encode(n) == raw and coder.decode(raw) == n
                assert read_varint64(raw, 0) == (n, len(raw))
            else:
                with pytest.raises(coders.EncodeError, match="int64"):
                    coder.encode(n)


def test_varint_decoder_accepts_non_minimal_encodings_like_the_reference():
    # Beam's reader and ours accept a zero high group (0x80 0x00 is 0); both paths agree.
    for raw in ("8000", "808000", "ff7f", "ff8000"):
        data = bytes.fromhex(raw)
        assert VarIntCoder().decode(data) == VarIntCoder().decode_from(data, 0, False)[0]


@given(st.text())
@settings(max_examples=100)
def test_str_round_trip_and_size(s):
    c = StrUtf8Coder()
    assert c.decode(c.encode(s)) == s
    assert c.decode_nested(c.encode_nested(s)) == s
    assert c.estimate_size(s, True) == len(c.encode_nested(s))


# ---- timestamps ---------------------------------------------------------------------------------


def test_timestamp_accepts_any_zone_and_decodes_to_utc():
    tz = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
    dt = datetime.datetime(2024, 2, 29, 12, 0, 0, 123000, tzinfo=tz)
    back = TimestampCoder().decode(TimestampCoder().encode(dt))
    assert back == dt and back.tzinfo is UTC


def test_timestamp_beam_variant_decodes_to_beam_timestamp():
    from apache_beam.utils.timestamp import Timestamp

    ts = Timestamp(micros=1_700_000_000_123_000)
    coder = TimestampCoder(as_beam_timestamp=True)
    back = coder.decode(coder.encode(ts))
    assert isinstance(back, Timestamp) and back == ts
    assert coder.to_type_hint() is Timestamp
    assert repr(coder) == "TimestampCoder[as_beam_timestamp=True]"
    assert coder != TimestampCoder()


def test_timestamp_extremes_of_datetime_round_trip():
    for dt in (datetime.datetime(1, 1, 1, tzinfo=UTC), datetime.datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)):
        assert TimestampCoder().decode(TimestampCoder().encode(dt)) == dt


def test_timestamp_outside_datetime_range_is_a_decode_error():
    data = struct.pack(">q", (300_000_000_000_000 - (1 << 63)))
    with pytest.raises(coders.DecodeError, match="outside the years datetime can hold"):
        TimestampCoder().decode(data)
    assert TimestampCoder(as_beam_timestamp=True).decode(data).micros == 300_000_000_000_000 * 1000


# ---- errors ------------------------------------------------------------------------------------

ENCODE_ERRORS = [
    (VarIntCoder(), "1", ["VarIntCoder", "int", "'1'", "int(x)"]),
    (VarIntCoder(), 1.5, ["VarIntCoder", "float", "1.5"]),
    (VarIntCoder(), None, ["VarIntCoder", "NoneType"]),
    (VarIntCoder(), True, ["bool", "True would decode as 1", "BooleanCoder"]),
    (VarIntCoder(), 2**63, ["int64", "9223372036854775808", "[-2**63, 2**63 - 1]", "Fix"]),
    (VarIntCoder(), 2**64, ["int64", "18446744073709551616"]),
    (VarIntCoder(), -(2**63) - 1, ["int64"]),
    (StrUtf8Coder(), b"abc", ["StrUtf8Coder", "bytes", ".decode('utf-8')"]),
    (StrUtf8Coder(), "a\ud800b", ["lone surrogate", "index 1"]),
    (StrUtf8Coder(), 5, ["StrUtf8Coder expected str", "int"]),
    (BytesCoder(), "abc", ["BytesCoder expected bytes", "str"]),
    (BytesCoder(), bytearray(b"a"), ["bytearray", "bytes(x)"]),
    (FloatCoder(), 1, ["FloatCoder", "int", "pass float(x)"]),
    (FloatCoder(), True, ["FloatCoder", "bool", "pass float(x)"]),
    (FloatCoder(), "1.0", ["FloatCoder expected float"]),
    (CanonicalFloatCoder(), 1, ["pass float(x)"]),
    (BooleanCoder(), 1, ["BooleanCoder expected bool", "bool(x)"]),
    (BooleanCoder(), None, ["BooleanCoder expected bool"]),
    (NoneCoder(), 0, ["NoneCoder expected None", "NullableCoder"]),
    (TimestampCoder(), datetime.datetime(2020, 1, 1), ["aware datetime", "naive", "tzinfo"]),
    (
        TimestampCoder(),
        datetime.datetime(2020, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        ["millisecond precision", "1 extra microseconds"],
    ),
    (TimestampCoder(), 12345, ["aware datetime or an object with integer .micros"]),
    (DecimalCoder(), D("NaN"), ["finite Decimal", "NaN"]),
    (DecimalCoder(), D("-Infinity"), ["finite Decimal"]),
    (DecimalCoder(), 1.5, ["decimal.Decimal"]),
    (NullableCoder(VarIntCoder()), "x", ["VarIntCoder expected int"]),
    (LengthPrefixCoder(VarIntCoder()), "x", ["VarIntCoder expected int"]),
]


@pytest.mark.parametrize("coder, value, fragments", ENCODE_ERRORS, ids=lambda x: repr(x)[:40])
def test_encode_errors_say_what_and_how_to_fix(coder, value, fragments):
    for method in (coder.encode, coder.encode_nested, lambda v: coder.encode_to(v, bytearray(), True)):
        with pytest.raises(coders.EncodeError) as info:
            method(value)
        message = str(info.value)
        for fragment in fragments:
            assert fragment in message, (fragment, message)
        assert info.value.coder is not None


def test_timestamp_refuses_beam_timestamp_with_sub_millisecond_precision():
    from apache_beam.utils.timestamp import Timestamp

    with pytest.raises(coders.EncodeError, match="millisecond precision"):
        TimestampCoder().encode(Timestamp(micros=1001))


DECODE_ERRORS = [
    (VarIntCoder(), "", "truncated input"),
    (VarIntCoder(), "80", "truncated varint"),
    (VarIntCoder(), "ff" * 11, "over-long varint"),
    (VarIntCoder(), "0101", "trailing data"),
    (StrUtf8Coder(), "ff", "invalid UTF-8"),
    (StrUtf8Coder(), "61ed", "invalid UTF-8"),
    (FloatCoder(), "0000", "a double needs 8 bytes"),
    (FloatCoder(), "00" * 9, "trailing data"),
    (BooleanCoder(), "02", "invalid bool byte 0x02"),
    (BooleanCoder(), "", "expected a bool byte"),
    (NoneCoder(), "00", "trailing data"),
    (TimestampCoder(), "0000", "a timestamp needs 8 bytes"),
    (DecimalCoder(), "00", "empty"),
    (NullableCoder(VarIntCoder()), "02", "invalid null indicator 0x02"),
    (NullableCoder(VarIntCoder()), "", "null indicator"),
    (LengthPrefixCoder(VarIntCoder()), "050101", "only 2 remain"),
    (LengthPrefixCoder(VarIntCoder()), "020101", "left inside the prefixed bytes"),
]


@pytest.mark.parametrize("coder, hexdata, fragment", DECODE_ERRORS, ids=lambda x: repr(x)[:40])
def test_malformed_bytes_raise_decode_error(coder, hexdata, fragment):
    with pytest.raises(coders.DecodeError) as info:
        coder.decode(bytes.fromhex(hexdata))
    assert fragment in str(info.value)


DECODE_ERRORS_NESTED = [
    (BytesCoder(), "05616263", "length prefix says 5 bytes but only 3 remain", 0),
    (StrUtf8Coder(), "0261ff", "invalid UTF-8", 2),
    (StrUtf8Coder(), "ffffffffffffffff3f", "length prefix says", 0),
    (BytesCoder(), "ffffffffffffffffff01", "negative length", 0),
    (DecimalCoder(), "0005", "only 0 remain", 1),
]


@pytest.mark.parametrize("coder, hexdata, fragment, offset", DECODE_ERRORS_NESTED, ids=lambda x: repr(x)[:40])
def test_nested_decode_errors_carry_the_offset(coder, hexdata, fragment, offset):
    with pytest.raises(coders.DecodeError) as info:
        coder.decode_nested(bytes.fromhex(hexdata))
    assert fragment in str(info.value)
    assert info.value.offset == offset


def test_decode_accepts_bytearray_and_memoryview():
    for coder, value in ((StrUtf8Coder(), "é"), (VarIntCoder(), 300), (FloatCoder(), 2.5), (BytesCoder(), b"q")):
        data = coder.encode(value)
        assert coder.decode(bytearray(data)) == value
        assert coder.decode(memoryview(data)) == value
        assert coder.decode_nested(memoryview(coder.encode_nested(value))) == value


def test_length_prefix_error_offsets_are_relative_to_the_whole_input():
    with pytest.raises(coders.DecodeError) as info:
        LengthPrefixCoder(StrUtf8Coder()).decode(bytes.fromhex("0361ff62"))
    assert info.value.offset == 2


# ---- determinism, hints, structure, pickling -------------------------------------------------


def test_float_determinism_issue_and_canonical_variant():
    assert not FloatCoder().is_deterministic()
    (issue,) = FloatCoder().determinism_issues()
    assert "-0.0 == 0.0" in issue.reason and "NaN" in issue.reason and "CanonicalFloatCoder" in issue.fix
    assert FloatCoder().as_deterministic_coder() == CanonicalFloatCoder()
    assert CanonicalFloatCoder().is_deterministic()
    for c in (
        VarIntCoder(),
        StrUtf8Coder(),
        BytesCoder(),
        BooleanCoder(),
        NoneCoder(),
        TimestampCoder(),
        CanonicalDecimalCoder(),
    ):
        assert c.is_deterministic() and c.as_deterministic_coder() is c


def test_nullable_determinism_path_and_variant():
    coder = NullableCoder(FloatCoder())
    (issue,) = coder.determinism_issues()
    assert issue.path == "NullableCoder.value"
    assert coder.as_deterministic_coder() == NullableCoder(CanonicalFloatCoder())
    assert LengthPrefixCoder(FloatCoder()).as_deterministic_coder() == LengthPrefixCoder(CanonicalFloatCoder())


def test_type_hints():
    import typing

    assert VarIntCoder().to_type_hint() is int
    assert StrUtf8Coder().to_type_hint() is str
    assert BytesCoder().to_type_hint() is bytes
    assert FloatCoder().to_type_hint() is float
    assert BooleanCoder().to_type_hint() is bool
    assert NoneCoder().to_type_hint() is type(None)
    assert TimestampCoder().to_type_hint() is datetime.datetime
    assert DecimalCoder().to_type_hint() is D
    assert NullableCoder(VarIntCoder()).to_type_hint() == typing.Optional[int]
    assert LengthPrefixCoder(StrUtf8Coder()).to_type_hint() is str


def test_structure_equality_and_repr():
    assert VarIntCoder() == VarIntCoder() and hash(VarIntCoder()) == hash(VarIntCoder())
    assert FloatCoder() != CanonicalFloatCoder()
    assert repr(NullableCoder(StrUtf8Coder())) == "NullableCoder[StrUtf8Coder]"
    assert repr(LengthPrefixCoder(VarIntCoder())) == "LengthPrefixCoder[VarIntCoder]"
    with pytest.raises(TypeError, match="takes a coders.Coder"):
        NullableCoder(int)


ALL_PRIMITIVES = [
    BytesCoder(),
    StrUtf8Coder(),
    VarIntCoder(),
    FloatCoder(),
    CanonicalFloatCoder(),
    BooleanCoder(),
    NoneCoder(),
    TimestampCoder(),
    TimestampCoder(as_beam_timestamp=True),
    DecimalCoder(),
    NullableCoder(VarIntCoder()),
    LengthPrefixCoder(StrUtf8Coder()),
]


@pytest.mark.parametrize(
    "dumps, loads",
    [(pickle.dumps, pickle.loads), (cloudpickle.dumps, cloudpickle.loads), (dill.dumps, dill.loads)],
    ids=["pickle", "cloudpickle", "dill"],
)
@pytest.mark.parametrize("coder", ALL_PRIMITIVES, ids=repr)
def test_every_coder_pickles(coder, dumps, loads):
    back = loads(dumps(coder))
    assert back == coder and type(back) is type(coder)


def test_decimal_coder_reports_scale_hazard_and_canonical_variant_makes_equal_decimals_equal_bytes():
    import decimal

    from coders import CanonicalDecimalCoder, DecimalCoder, NonDeterministicCoderError

    D = decimal.Decimal
    coder = DecimalCoder()
    assert coder.encode(D("1.0")) != coder.encode(D("1.00"))
    with pytest.raises(NonDeterministicCoderError, match=r"Decimal\('1.0'\) == Decimal\('1.00'\)"):
        coder.verify_deterministic()
    canonical = coder.as_deterministic_coder()
    assert canonical == CanonicalDecimalCoder() and canonical.is_deterministic()
    for equal in (["1", "1.0", "1.00", "1.000"], ["0", "-0.00", "0E+3"], ["120", "1.2E+2", "120.00"]):
        assert len({canonical.encode(D(v)) for v in equal}) == 1, equal
        for v in equal:
            assert canonical.decode(canonical.encode(D(v))) == D(v)
            assert coder.decode(canonical.encode(D(v))) == D(v)  # DecimalCoder reads the canonical bytes
            assert canonical.decode_nested(canonical.encode_nested(D(v))) == D(v)
    # every digit survives: 40 significant digits, trailing zeros only removed
    long = D("1234567890123456789012345678901234567890.5000")
    assert canonical.decode(canonical.encode(long)) == long
    assert str(canonical.decode(canonical.encode(long))) == "1234567890123456789012345678901234567890.5"
