"""Raw comparators: comparing encodings agrees with comparing values in Hadoop's order (property tests)."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coders import DecodeError
from coders.hadoop import (
    BooleanWritableCoder,
    BytesWritableCoder,
    DoubleWritableCoder,
    FloatWritableCoder,
    IntWritableCoder,
    LongWritableCoder,
    TextCoder,
    VIntWritableCoder,
    VLongWritableCoder,
    java_float_compare,
)


def sign(x):
    return (x > 0) - (x < 0)


float32s = st.floats(width=32)
CASES = [
    (IntWritableCoder(), st.integers(-(2**31), 2**31 - 1)),
    (LongWritableCoder(), st.integers(-(2**63), 2**63 - 1)),
    (VIntWritableCoder(), st.integers(-(2**31), 2**31 - 1)),
    (VLongWritableCoder(), st.integers(-(2**63), 2**63 - 1)),
    (TextCoder(), st.text()),
    (BytesWritableCoder(), st.binary()),
    (BooleanWritableCoder(), st.booleans()),
    (FloatWritableCoder(), float32s),
    (DoubleWritableCoder(), st.floats()),
]


@pytest.mark.parametrize("coder,values", CASES, ids=lambda x: type(x).__name__)
def test_compare_encoded_agrees_with_value_order(coder, values):
    @settings(max_examples=200, deadline=None)
    @given(values, values)
    def check(x, y):
        a, b = coder.encode(x), coder.encode(y)
        got = coder.compare_encoded(a, b)
        assert got == coder.compare_values(x, y)
        assert coder.compare_encoded(b, a) == -got  # antisymmetric
        assert coder.compare_encoded(a, a) == 0

    check()


@pytest.mark.parametrize("coder,values", CASES[:7], ids=lambda x: type(x).__name__)
def test_value_order_is_python_order_for_non_floats(coder, values):
    @settings(max_examples=100, deadline=None)
    @given(values, values)
    def check(x, y):
        assert coder.compare_encoded(coder.encode(x), coder.encode(y)) == sign((x > y) - (x < y))

    check()


def test_text_orders_by_code_point_not_utf16():
    # Java's String.compareTo puts U+FFFF after U+1D11E (surrogates 0xD834 < 0xFFFF); Text does not
    t = TextCoder()
    assert t.compare_encoded(t.encode("\uffff"), t.encode("𝄞")) == -1
    # a longer text with a shared prefix sorts after, even when its length prefix is bigger
    assert t.compare_encoded(t.encode("a" * 200), t.encode("b")) == -1


def test_float_order_is_javas():
    values = [float("-inf"), -1.0, -0.0, 0.0, 1e-300, 1.0, float("inf"), float("nan")]
    d = DoubleWritableCoder()
    for i, x in enumerate(values):
        for j, y in enumerate(values):
            assert java_float_compare(x, y) == sign(i - j)
            assert d.compare_encoded(d.encode(x), d.encode(y)) == sign(i - j)
    # every NaN is equal to every other, whatever its bits
    other_nan = struct.pack(">d", float("nan"))[:-1] + b"\x01"
    assert math.isnan(d.decode(other_nan))
    assert d.compare_encoded(other_nan, d.encode(float("nan"))) == 0


def test_bytes_writable_shorter_prefix_first():
    b = BytesWritableCoder()
    assert b.compare_encoded(b.encode(b"ab"), b.encode(b"abc")) == -1
    assert b.compare_encoded(b.encode(b"\xff"), b.encode(b"\x00\x00")) == 1  # unsigned bytes


@pytest.mark.parametrize(
    "coder,short",
    [
        (IntWritableCoder(), b"\x00"),
        (LongWritableCoder(), b"\x00" * 7),
        (TextCoder(), b""),
        (BytesWritableCoder(), b"\x00"),
        (DoubleWritableCoder(), b"\x00"),
        (VLongWritableCoder(), b"\x8f"),
    ],
)
def test_truncated_encodings_raise(coder, short):
    with pytest.raises(DecodeError):
        coder.compare_encoded(short, coder.encode(coder.decode(coder.encode(_sample(coder)))))


def _sample(coder):
    return {TextCoder: "a", BytesWritableCoder: b"a", DoubleWritableCoder: 1.0}.get(type(coder), 1)
