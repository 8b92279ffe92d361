"""Writable coders: exact bytes as Hadoop writes them, round trips, typed errors for bad values and bytes.

The expected bytes in the tables come from Hadoop 3.5's own ``write()`` (see
test_spark.py, which re-derives many of them from the JVM on every run).
"""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import coders
from coders import DecodeError, EncodeError
from coders.hadoop import (
    ArrayWritableCoder,
    BooleanWritableCoder,
    BytesWritableCoder,
    DoubleWritableCoder,
    FloatWritableCoder,
    IntWritableCoder,
    LongWritableCoder,
    MapWritableCoder,
    MD5HashCoder,
    NullWritableCoder,
    SortedMapWritableCoder,
    TextCoder,
    TypedWritable,
    VIntWritableCoder,
    VLongWritableCoder,
    writable_registry,
)
from coders.hadoop.javaio import (
    decode_vlong_size,
    read_java_utf,
    read_vlong,
    vlong_size,
    write_java_utf,
    write_vlong,
)
from tests.hadoop.values import exact

EXACT = [
    # (coder, value, hex of Hadoop's bytes)
    (IntWritableCoder(), 0, "00000000"),
    (IntWritableCoder(), -1, "ffffffff"),
    (IntWritableCoder(), 2**31 - 1, "7fffffff"),
    (LongWritableCoder(), 1, "0000000000000001"),
    (LongWritableCoder(), -(2**63), "8000000000000000"),
    (VIntWritableCoder(), 0, "00"),
    (VIntWritableCoder(), 127, "7f"),
    (VIntWritableCoder(), -112, "90"),
    (VIntWritableCoder(), 163, "8fa3"),
    (VIntWritableCoder(), 128, "8f80"),
    (VIntWritableCoder(), -113, "8770"),
    (VIntWritableCoder(), 256, "8e0100"),
    (VIntWritableCoder(), 2**31 - 1, "8c7fffffff"),
    (VIntWritableCoder(), -(2**31), "847fffffff"),
    (VLongWritableCoder(), 2**63 - 1, "887fffffffffffffff"),
    (VLongWritableCoder(), -(2**63), "807fffffffffffffff"),
    (TextCoder(), "", "00"),
    (TextCoder(), "abc", "03616263"),
    (TextCoder(), "é𝄞", "06c3a9f09d849e"),
    (TextCoder(), "x" * 200, "8fc8" + "78" * 200),
    (BytesWritableCoder(), b"", "00000000"),
    (BytesWritableCoder(), b"\x00\xff", "0000000200ff"),
    (NullWritableCoder(), None, ""),
    (BooleanWritableCoder(), True, "01"),
    (BooleanWritableCoder(), False, "00"),
    (FloatWritableCoder(), 1.5, "3fc00000"),
    (FloatWritableCoder(), -0.0, "80000000"),
    (FloatWritableCoder(), float("nan"), "7fc00000"),
    (DoubleWritableCoder(), 0.1, "3fb999999999999a"),
    (DoubleWritableCoder(), -0.0, "8000000000000000"),
    (DoubleWritableCoder(), float("-inf"), "fff0000000000000"),
    (DoubleWritableCoder(), float("nan"), "7ff8000000000000"),
    (MD5HashCoder(), bytes(range(16)), bytes(range(16)).hex()),
    (ArrayWritableCoder(TextCoder()), ["a", "bc"], "00000002" + "0161" + "026263"),
    (ArrayWritableCoder(IntWritableCoder()), [], "00000000"),
    # MapWritable bytes from Hadoop: {Text a: IntWritable 5, Text b: MD5Hash zeros}
    (
        MapWritableCoder(),
        {"a": 5, "b": TypedWritable("org.apache.hadoop.io.MD5Hash", bytes(16))},
        "00000000028c016185000000058c016288" + "00" * 16,
    ),
]


def test_exact_tells_the_float_sign_the_nan_and_the_type_apart():
    assert exact(-0.0) != exact(0.0) and exact(1) != exact(True) != exact(1.0)
    assert exact(float("nan")) == exact(float("nan")) == (float, "7ff8000000000000")
    assert exact({"a": [-0.0]}) != exact({"a": [0.0]})


@pytest.mark.parametrize("coder,value,hexbytes", EXACT, ids=lambda x: repr(x)[:40])
def test_exact_bytes(coder, value, hexbytes):
    data = bytes.fromhex(hexbytes)
    assert coder.encode(value) == data
    assert coder.encode_nested(value) == data  # Writables are self-delimiting: both contexts agree
    decoded = coder.decode(data)
    expected = value.value if isinstance(value, TypedWritable) else value
    if isinstance(value, dict):
        expected = {k: (v.value if isinstance(v, TypedWritable) else v) for k, v in value.items()}
    assert exact(decoded) == exact(expected)
    assert coder.estimate_size(value) == len(data)


def test_vlong_table_of_boundaries():
    # every boundary between encoded sizes, both signs
    for nbytes in range(1, 9):
        for value in (1 << (8 * nbytes - 1), (1 << (8 * nbytes)) - 1):
            for v in (value, ~value):
                if -(2**63) <= v < 2**63:
                    out = bytearray()
                    write_vlong(out, v)
                    assert read_vlong(bytes(out), 0) == (v, len(out))
                    assert decode_vlong_size(out[0]) == len(out) == vlong_size(v)


@settings(max_examples=300)
@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_vlong_round_trip(value):
    assert VLongWritableCoder().decode(VLongWritableCoder().encode(value)) == value


@settings(max_examples=100)
@given(st.text())
def test_text_round_trip(value):
    assert TextCoder().decode(TextCoder().encode(value)) == value


@settings(max_examples=100)
@given(
    st.dictionaries(
        st.one_of(st.text(max_size=5), st.integers(-(2**63), 2**63 - 1)),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-(2**63), 2**63 - 1),
            st.floats(allow_nan=False),
            st.text(max_size=5),
            st.binary(max_size=5),
        ),
        max_size=6,
    )
)
def test_map_writable_round_trip(value):
    if len({(type(k) is bool, k) for k in value}) != len(value):
        return
    assert exact(MapWritableCoder().decode(MapWritableCoder().encode(value))) == exact(
        value
    )  # types and float signs too


def test_map_writable_custom_class_gets_table_entry():
    reg = writable_registry.child()
    reg.register("com.example.Point", ArrayWritableCoder(IntWritableCoder()))
    coder = MapWritableCoder(registry=reg)
    data = coder.encode({"p": TypedWritable("com.example.Point", [1, 2])})
    # one custom class: id 1 named with writeUTF, then the entry using id 1
    assert data[:21] == b"\x01\x01\x00\x11com.example.Point"
    assert data[21:] == bytes.fromhex("000000018c017001000000020000000100000002")
    assert coder.decode(data) == {"p": [1, 2]}
    with pytest.raises(DecodeError, match=r"com\.example\.Point.*register_writable\('com\.example\.Point'"):
        MapWritableCoder().decode(data)


def test_java_utf_round_trip_and_modified_encoding():
    out = bytearray()
    write_java_utf(out, "a\x00𝄞")
    assert bytes(out) == bytes.fromhex("000961c080eda0b4edb49e")
    assert read_java_utf(bytes(out), 0) == ("a\x00𝄞", len(out))


# ---- values a coder cannot encode ----------------------------------------------------------


@pytest.mark.parametrize(
    "coder,value,message",
    [
        (IntWritableCoder(), 2**31, r"IntWritableCoder expected an int in \[-2147483648, 2147483647\].*LongWritable"),
        (IntWritableCoder(), True, "expected an int, got bool"),
        (LongWritableCoder(), "1", "expected an int, got str"),
        (VIntWritableCoder(), -(2**31) - 1, "VLongWritable"),
        (TextCoder(), b"x", "expected a str, got bytes"),
        (TextCoder(), "\ud800", "lone surrogate at index 0"),
        (BytesWritableCoder(), "x", "expected bytes"),
        (NullWritableCoder(), 0, "expected None"),
        (BooleanWritableCoder(), 1, "ints are not booleans"),
        (FloatWritableCoder(), 0.1, "float32 holds exactly.*allow_rounding=True"),
        (FloatWritableCoder(), 1e300, "float32 range"),
        (MD5HashCoder(), b"short", "16 bytes"),
    ],
)
def test_encode_errors_name_coder_value_and_fix(coder, value, message):
    with pytest.raises(EncodeError, match=message):
        coder.encode(value)


def test_float_rounding_on_request():
    assert FloatWritableCoder(allow_rounding=True).decode(
        FloatWritableCoder(allow_rounding=True).encode(0.1)
    ) == pytest.approx(0.1, rel=1e-7)


def test_nested_encode_errors_carry_the_path():
    with pytest.raises(EncodeError, match=r"at value\[1\]"):
        ArrayWritableCoder(IntWritableCoder()).encode([1, "x"])
    with pytest.raises(EncodeError, match=r"at value\['k'\]: .*TypedWritable"):
        MapWritableCoder().encode({"k": [1]})


# ---- malformed bytes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "coder,hexbytes,message,offset",
    [
        (IntWritableCoder(), "000000", "truncated IntWritable", 0),
        (LongWritableCoder(), "00", "truncated LongWritable", 0),
        (VLongWritableCoder(), "8f", r"truncated VLong: prefix byte 0x8f announces 1 byte", 0),
        (VLongWritableCoder(), "8f05", "non-minimal VLong: 5 takes 1 byte", 0),
        (VIntWritableCoder(), "8b0100000000", "too long to fit in an int", 0),
        (TextCoder(), "05616263", "Text: length says 5 bytes but only 3 remain", 0),
        (TextCoder(), "02c328", "invalid UTF-8", 1),
        (TextCoder(), "0161ff", "trailing data: 1 byte", 2),
        (BytesWritableCoder(), "ffffffff", "negative length -1", 0),
        (BytesWritableCoder(), "7fffffff00", "length says 2147483647 bytes but only 1 remain", 0),
        (BooleanWritableCoder(), "02", "expected 0x00 or 0x01", 0),
        (ArrayWritableCoder(LongWritableCoder()), "7fffffff", "cannot fit in the 0 bytes", 0),
        (ArrayWritableCoder(NullWritableCoder()), "7fffffff", "cannot fit", 0),
        (MapWritableCoder(), "ff", "negative custom class count -1", 0),
        (MapWritableCoder(), "0000000001" + "0500", "class id 5 is neither predefined", 5),
        (MapWritableCoder(), "000000000a", "10 entries cannot fit", 1),
        (MapWritableCoder(), "00000000028c0161857fffffff8c01618500000001", "two keys equal to 'a'", 13),
        (MapWritableCoder(), "00000000018700000000008c0161", "unhashable dict", 5),
    ],
)
def test_malformed_bytes_raise_decode_error_with_offset(coder, hexbytes, message, offset):
    with pytest.raises(DecodeError, match=message) as info:
        coder.decode(bytes.fromhex(hexbytes))
    assert info.value.offset == offset


def test_coders_are_equal_by_structure_hashable_and_picklable():
    assert TextCoder() == TextCoder() and hash(TextCoder()) == hash(TextCoder())
    assert ArrayWritableCoder(TextCoder()) != ArrayWritableCoder(IntWritableCoder())
    assert FloatWritableCoder() != FloatWritableCoder(allow_rounding=True)
    for coder in (TextCoder(), ArrayWritableCoder(LongWritableCoder()), MapWritableCoder(), FloatWritableCoder(True)):
        assert pickle.loads(pickle.dumps(coder)) == coder


def test_determinism_reasons():
    assert TextCoder().is_deterministic() and LongWritableCoder().is_deterministic()
    assert not DoubleWritableCoder().is_deterministic()
    with pytest.raises(coders.NonDeterministicCoderError, match="-0.0 == 0.0"):
        DoubleWritableCoder().verify_deterministic()
    issues = ArrayWritableCoder(MapWritableCoder()).determinism_issues()
    assert [i.path for i in issues] == ["ArrayWritableCoder[*]"]
    assert "insertion order" in issues[0].reason


# ---- the specialised public methods give the same bytes as the encode_to/decode_from reference ----


def _reference_encode(coder, value):
    out = bytearray()
    coder.encode_to(value, out, False)
    return bytes(out)


def _reference_decode(coder, data):
    value, pos = coder.decode_from(data, 0, False)
    assert pos == len(data)
    return value


FAST_PATHS = [
    (IntWritableCoder(), st.integers(-(2**31), 2**31 - 1)),
    (LongWritableCoder(), st.integers(-(2**63), 2**63 - 1)),
    (TextCoder(), st.text(max_size=300)),
    (BytesWritableCoder(), st.binary(max_size=300)),
    (NullWritableCoder(), st.none()),
    (DoubleWritableCoder(), st.floats(allow_nan=False)),
    (FloatWritableCoder(), st.floats(width=32, allow_nan=False)),
]


@pytest.mark.parametrize("coder,values", FAST_PATHS, ids=lambda x: type(x).__name__)
def test_fast_paths_agree_with_the_reference(coder, values):
    @settings(max_examples=100, deadline=None)
    @given(values)
    def check(value):
        data = coder.encode(value)
        assert data == _reference_encode(coder, value)
        decoded = coder.decode(data)
        assert exact(decoded) == exact(_reference_decode(coder, data)) == exact(value)  # -0.0 stays -0.0

    check()


@pytest.mark.parametrize(
    "coder,data",
    [
        (LongWritableCoder(), b"\x00" * 9),
        (TextCoder(), b"\x02a"),
        (BytesWritableCoder(), b"\x00\x00\x00\x05ab"),
        (NullWritableCoder(), b"\x00"),
    ],
)
def test_fast_paths_fall_back_to_the_checked_path_on_bad_bytes(coder, data):
    with pytest.raises(DecodeError):
        coder.decode(data)


def test_map_writable_coder_with_its_own_registry_pickles():
    reg = writable_registry.child()
    reg.register("com.example.Point", ArrayWritableCoder(IntWritableCoder()))
    coder = MapWritableCoder(registry=reg)
    clone = pickle.loads(pickle.dumps(coder))
    data = coder.encode({"p": TypedWritable("com.example.Point", [1])})
    assert clone.decode(data) == {"p": [1]}


def test_sorted_map_writable_sorts_keys_in_hadoop_order():
    coder = SortedMapWritableCoder()
    data = coder.encode({"b": 1, "é": 2, "a": 3})
    assert data == bytes.fromhex("00000000038c016185000000038c016285000000018c02c3a98500000002")
    assert list(coder.decode(data).items()) == [("a", 3), ("b", 1), ("é", 2)]
    ints = coder.decode(coder.encode({5: "x", -3: "y"}))
    assert list(ints) == [-3, 5]
    with pytest.raises(EncodeError, match="keys of one Writable class"):
        coder.encode({"a": 1, 2: 3})
    with pytest.raises(EncodeError, match="ordered Writable"):
        coder.encode({(1, 2): 1})
    assert not coder.is_deterministic()


KIT_CASES = [
    (IntWritableCoder(), [0, -1, 2**31 - 1]),
    (LongWritableCoder(), [0, -(2**63)]),
    (VIntWritableCoder(), [163, -113]),
    (VLongWritableCoder(), [2**62, -5]),
    (TextCoder(), ["", "é𝄞", "x" * 300]),
    (BytesWritableCoder(), [b"", b"ab"]),
    (NullWritableCoder(), [None]),
    (BooleanWritableCoder(), [True, False]),
    (FloatWritableCoder(), [1.5, -0.0]),
    (DoubleWritableCoder(), [0.1, float("inf")]),
    (MD5HashCoder(), [bytes(16)]),
    (ArrayWritableCoder(TextCoder()), [["a", "b"], []]),
    (MapWritableCoder(), [{"a": 1, 2: None, "m": {"x": b"y"}}]),
    (SortedMapWritableCoder(), [{"a": 1, "b": 2.5}]),
]


@pytest.mark.parametrize("coder,values", KIT_CASES, ids=lambda x: repr(x)[:30])
def test_the_shared_coder_kit_accepts_every_writable_coder(coder, values):
    from coders import testing as kit

    kit.assert_roundtrip(coder, *values)


CANONICAL = [
    IntWritableCoder(),
    LongWritableCoder(),
    VIntWritableCoder(),
    VLongWritableCoder(),
    TextCoder(),
    BytesWritableCoder(),
    NullWritableCoder(),
    BooleanWritableCoder(),
    MD5HashCoder(),
    ArrayWritableCoder(VLongWritableCoder()),
    ArrayWritableCoder(TextCoder()),
]


@pytest.mark.parametrize("coder", CANONICAL, ids=repr)
def test_any_bytes_decode_to_their_only_encoding_or_raise(coder):
    """Decoding is strict: bytes either raise DecodeError or are exactly the encoding of what they decode to."""

    @settings(max_examples=150, deadline=None)
    @given(st.binary(max_size=24))
    def check(data):
        try:
            value = coder.decode(data)
        except DecodeError:
            return
        assert coder.encode(value) == data

    check()
