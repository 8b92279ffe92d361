"""coders.scalars: bytearray, complex, Fraction, pathlib paths, ipaddress values — exact, with their bytes."""

from __future__ import annotations

import fractions
import ipaddress
import math
import pathlib
import random
import re
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import coders
from coders import DecodeError, EncodeError
from coders.scalars import BytearrayCoder, ComplexCoder, FractionCoder, IPAddressCoder, PathCoder
from coders.testing import assert_deterministic, assert_picklable, assert_roundtrip, strategy_for

F = fractions.Fraction
ALL = [
    BytearrayCoder(),
    ComplexCoder(),
    ComplexCoder(deterministic=True),
    FractionCoder(),
    PathCoder(),
    PathCoder(deterministic=True),
    IPAddressCoder(),
]

EDGE_VALUES = [
    (BytearrayCoder(), [bytearray(), bytearray(b"\x00" * 300), bytearray(range(256))]),
    (
        ComplexCoder(),
        [
            0j,
            complex(-0.0, -0.0),
            complex(math.inf, -math.inf),
            complex(math.nan, 1),
            complex(5e-324, 1.7976931348623157e308),
        ],
    ),
    (FractionCoder(), [F(0), F(-1), F(2**63), F(-(2**200), 3**90), F(1, 2**64 - 1), F(-128, 1), F(127, 255)]),
    (
        PathCoder(),
        [
            pathlib.PurePosixPath(),
            pathlib.PurePosixPath("/"),
            pathlib.PurePosixPath("/é/ü x"),
            pathlib.PureWindowsPath("\\\\server\\share\\dir"),
            pathlib.PureWindowsPath("C:"),
            pathlib.Path("/tmp/x"),
        ],
    ),
    (
        IPAddressCoder(),
        [
            ipaddress.IPv4Address(0),
            ipaddress.IPv4Address(2**32 - 1),
            ipaddress.IPv6Address(2**128 - 1),
            ipaddress.IPv4Network("0.0.0.0/0"),
            ipaddress.IPv6Network("::/0"),
            ipaddress.IPv4Interface("10.1.2.3/32"),
            ipaddress.IPv6Interface("fe80::1%eth0/64"),
        ],
    ),
]


@pytest.mark.parametrize(("coder", "values"), EDGE_VALUES, ids=lambda x: repr(x)[:30])
def test_edge_values_round_trip_exactly_in_both_contexts(coder, values):
    assert_roundtrip(coder, *values)


def test_exact_bytes():
    assert ComplexCoder().encode(complex(1.5, -2.0)) == struct.pack(">dd", 1.5, -2.0)
    assert FractionCoder().encode(F(-3, 4)).hex() == "01fd0104"
    assert FractionCoder().encode(F(128)).hex() == "0200800101"  # 128 needs a sign byte
    assert PathCoder().encode_nested(pathlib.PurePosixPath("a")).hex() == "000161"
    assert IPAddressCoder().encode(ipaddress.IPv4Network("10.0.0.0/8")).hex() == "020a00000008"
    assert BytearrayCoder().encode_nested(bytearray(b"ab")) == coders.BytesCoder().encode_nested(b"ab")


def test_the_class_comes_back_and_equal_values_of_other_classes_do_not_mix():
    win, posix = pathlib.PureWindowsPath("a"), pathlib.PurePosixPath("a")
    assert type(PathCoder().decode(PathCoder().encode(win))) is pathlib.PureWindowsPath
    assert PathCoder().encode(win) != PathCoder().encode(posix)
    iface = ipaddress.IPv4Interface("10.0.0.1/8")
    assert type(IPAddressCoder().decode(IPAddressCoder().encode(iface))) is ipaddress.IPv4Interface
    scoped = ipaddress.IPv6Address("fe80::1%eth0")
    back = IPAddressCoder().decode(IPAddressCoder().encode(scoped))
    assert back == scoped and back.scope_id == "eth0"


@pytest.mark.parametrize(
    ("coder", "value", "message"),
    [
        (BytearrayCoder(), b"ab", "BytearrayCoder expected bytearray, got bytes b'ab'"),
        (ComplexCoder(), 1.0, "ComplexCoder expected complex, got float 1.0"),
        (ComplexCoder(lenient=True), "1j", "ComplexCoder expected complex, got str '1j'"),
        (ComplexCoder(lenient=True), 2**53 + 1, "an integer a double holds exactly"),
        (FractionCoder(), 1, "FractionCoder expected fractions.Fraction, got int 1"),
        (FractionCoder(), 0.5, "FractionCoder expected fractions.Fraction, got float 0.5"),
        (PathCoder(), "/a", "PathCoder expected a pathlib path"),
        (PathCoder(), pathlib.PurePosixPath("\udcff"), "a lone surrogate at index 0"),
        (IPAddressCoder(), "10.0.0.1", "IPAddressCoder expected an ipaddress address"),
    ],
)
def test_other_values_are_refused_with_the_fix(coder, value, message):
    with pytest.raises(EncodeError, match=re.escape(message)) as info:
        coder.encode(value)
    assert "Fix:" in str(info.value)


def test_lenient_complex_takes_floats_and_ints_as_the_registry_builds_it():
    coder = coders.CoderRegistry().get_coder(complex)
    assert coder == ComplexCoder(lenient=True)
    assert coder.decode(coder.encode(3)) == 3 + 0j
    assert coder.encode(2.5) == coder.encode(2.5 + 0j)


@pytest.mark.parametrize(
    ("coder", "hexdata", "message"),
    [
        (FractionCoder(), "01010100", "Fraction denominator 0 is not positive"),
        (FractionCoder(), "010101ff", "Fraction denominator -1 is not positive"),
        (FractionCoder(), "01020104", "Fraction 2/4 is not in lowest terms"),
        (FractionCoder(), "0200010101", "2 bytes where the minimal form takes fewer"),
        (FractionCoder(), "000101", "empty"),
        (FractionCoder(), "ff0f", "length"),
        (PathCoder(), "04", "invalid path flavour byte 0x04"),
        (PathCoder(), "03433a", "WindowsPath cannot be created on this system"),
        (PathCoder(), "00ff", "invalid UTF-8 in path"),
        (IPAddressCoder(), "06", "invalid IP address kind byte 0x06"),
        (IPAddressCoder(), "020a00000121", "IP prefix length 33 is over 32"),
        (IPAddressCoder(), "020a00000104", "invalid IPv4Network"),
        (IPAddressCoder(), "01" + "00" * 16 + "012f", "invalid IPv6 scope id"),
        (ComplexCoder(), "00" * 15, "complex"),
    ],
)
def test_bad_bytes_are_a_decode_error_that_says_why(coder, hexdata, message):
    with pytest.raises(DecodeError, match=re.escape(message)):
        coder.decode(bytes.fromhex(hexdata))


def test_registry_rule_and_its_hints():
    registry = coders.CoderRegistry()
    assert registry.get_coder(bytearray) == BytearrayCoder()
    assert registry.get_coder(fractions.Fraction) == FractionCoder()
    for hint in (pathlib.PurePath, pathlib.Path, pathlib.PurePosixPath, pathlib.PureWindowsPath, pathlib.PosixPath):
        assert registry.get_coder(hint) == PathCoder()
    for hint in (ipaddress.IPv4Address, ipaddress.IPv6Network, ipaddress.IPv4Interface):
        assert registry.get_coder(hint) == IPAddressCoder()
    assert registry.fallbacks_in(tuple[fractions.Fraction, pathlib.Path, bytearray]) == []


def test_determinism_is_stated_and_the_variants_are_deterministic():
    assert BytearrayCoder().is_deterministic() and FractionCoder().is_deterministic()
    assert IPAddressCoder().is_deterministic()
    assert not ComplexCoder().is_deterministic()
    assert not PathCoder().is_deterministic()
    assert ComplexCoder().as_deterministic_coder() == ComplexCoder(deterministic=True)
    assert PathCoder().as_deterministic_coder() == PathCoder(deterministic=True)
    assert_deterministic(ComplexCoder(deterministic=True), complex(-0.0, math.nan), 0j)
    key = PathCoder(deterministic=True)
    assert key.encode(pathlib.PureWindowsPath("C:/A")) == key.encode(pathlib.PureWindowsPath("c:\\a"))
    assert FractionCoder().encode(F(2, 4)) == FractionCoder().encode(F(1, 2))
    # a Fraction key in a deterministic tuple key
    assert coders.get_coder(tuple[fractions.Fraction, int]).is_deterministic()


def test_pickling_and_equality_include_the_parameters():
    for coder in ALL:
        assert_picklable(coder)
    assert ComplexCoder() != ComplexCoder(deterministic=True) != ComplexCoder(lenient=True)
    assert repr(ComplexCoder(deterministic=True, lenient=True)) == "ComplexCoder[deterministic=True, lenient=True]"


@pytest.mark.parametrize("coder", ALL, ids=repr)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_generated_values_round_trip(coder, data):
    assert_roundtrip(coder, data.draw(strategy_for(coder)))


@given(st.fractions())
def test_every_fraction_round_trips_and_equal_fractions_give_equal_bytes(value):
    coder = FractionCoder()
    assert coder.decode(coder.encode(value)) == value
    assert coder.encode(F(value.numerator * 3, value.denominator * 3)) == coder.encode(value)


@pytest.mark.parametrize("coder", ALL, ids=repr)
def test_random_and_mutated_bytes_raise_only_decode_error(coder):
    rng = random.Random(9)
    samples = [coder.encode_nested(v) for v in strategy_examples(coder)]
    for _ in range(1500):
        if samples and rng.random() < 0.7:
            data = bytearray(rng.choice(samples))
            for _ in range(rng.randint(1, 3)):
                if data and rng.random() < 0.5:
                    data[rng.randrange(len(data))] = rng.randrange(256)
                elif data:
                    del data[rng.randrange(len(data)) :]
                else:
                    data.append(rng.randrange(256))
            data = bytes(data)
        else:
            data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 24)))
        for decode in (coder.decode, coder.decode_nested):
            try:
                decode(data)
            except DecodeError:
                pass


def strategy_examples(coder) -> list:
    return [v for c, values in EDGE_VALUES if type(c) is type(coder) for v in values if _encodable(coder, v)]


def _encodable(coder, value) -> bool:
    try:
        coder.encode(value)
    except EncodeError:
        return False
    return True
