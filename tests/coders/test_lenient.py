"""Lenient coders: the values a type checker accepts for a hint encode with Beam's bytes and narrow as documented.

The registry builds ``FloatCoder(lenient=True)``, ``VarIntCoder(lenient=True)``,
``StrUtf8Coder(lenient=True)`` and ``ListCoder(element, lenient=True)`` for ``float``, ``int``, ``str`` and
``list[T]`` hints; the plain coders stay exact. docs/registry.md's "Narrowing" table is checked here row by row.
"""

from __future__ import annotations

import collections
import enum
import pickle
import re
import struct
import typing
from pathlib import Path

import numpy as np
import pytest
from apache_beam.coders import coders as beam_coders
from hypothesis import given
from hypothesis import strategies as st

import coders
from coders import (
    CanonicalFloatCoder,
    EncodeError,
    FloatCoder,
    ListCoder,
    NullableCoder,
    StrUtf8Coder,
    TupleCoder,
    VarIntCoder,
)
from coders.accel import spec
from coders.testing import assert_picklable, assert_roundtrip

DOCS = Path(__file__).resolve().parents[2] / "docs" / "registry.md"


class Color(str, enum.Enum):  # noqa: UP042 (a str-mixin Enum, as many users write them)
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Shade(enum.StrEnum):
    DARK = "dark"


class Name(str):
    pass


LENIENT = [FloatCoder(lenient=True), VarIntCoder(lenient=True), StrUtf8Coder(lenient=True)]


# ---- the registry builds the lenient coders; the classes stay exact by default ------------------------------


def test_the_registry_builds_lenient_coders_for_float_int_str_and_list_hints():
    registry = coders.CoderRegistry()
    assert registry.get_coder(float) == FloatCoder(lenient=True)
    assert registry.get_coder(int) == VarIntCoder(lenient=True)
    assert registry.get_coder(str) == StrUtf8Coder(lenient=True)
    assert registry.get_coder(bool) == coders.BooleanCoder()
    assert registry.get_coder(list[str]) == ListCoder(StrUtf8Coder(lenient=True), lenient=True)
    assert registry.get_coder(typing.Sequence[int]) == ListCoder(VarIntCoder(lenient=True), lenient=True)
    assert coders.get_coder(float) == FloatCoder(lenient=True)


@pytest.mark.parametrize(
    ("coder", "value", "message"),
    [
        (FloatCoder(), 1, "FloatCoder expected float (int would decode as float, a different value type), got int 1"),
        (FloatCoder(), True, "FloatCoder expected float (bool would decode as float"),
        (CanonicalFloatCoder(), 1, "CanonicalFloatCoder expected float (int would decode as float"),
        (VarIntCoder(), True, "VarIntCoder expected int (bool is refused: True would decode as 1)"),
        (VarIntCoder(), np.int64(3), "VarIntCoder expected int (the integer type int64 would decode as plain int)"),
        (VarIntCoder(), Level.HIGH, "VarIntCoder expected int (the integer type Level would decode as plain int)"),
        (StrUtf8Coder(), Color.RED, "StrUtf8Coder expected str (the subclass Color would decode as plain str)"),
        (StrUtf8Coder(), Name("a"), "StrUtf8Coder expected str (the subclass Name would decode as plain str)"),
        (ListCoder(StrUtf8Coder()), ("a",), "ListCoder expected a list, got tuple ('a',)"),
    ],
)
def test_the_plain_coders_stay_exact_and_name_the_lenient_opt_in(coder, value, message):
    with pytest.raises(EncodeError, match=re.escape(message)) as info:
        coder.encode(value)
    assert "lenient=True" in str(info.value)


# ---- bytes: Beam's, for the narrowed value -----------------------------------------------------------------

# (lenient coder, value a type checker accepts, outer hex, what decoding gives)
NARROWING = [
    (FloatCoder(lenient=True), 5, "4014000000000000", 5.0),
    (FloatCoder(lenient=True), -0, "0000000000000000", 0.0),
    (FloatCoder(lenient=True), True, "3ff0000000000000", 1.0),
    (FloatCoder(lenient=True), np.int64(3), "4008000000000000", 3.0),
    (FloatCoder(lenient=True), 2**53, "4340000000000000", 9007199254740992.0),
    (CanonicalFloatCoder(lenient=True), 0, "0000000000000000", 0.0),
    (VarIntCoder(lenient=True), True, "01", 1),
    (VarIntCoder(lenient=True), False, "00", 0),
    (VarIntCoder(lenient=True), np.int64(3), "03", 3),
    (VarIntCoder(lenient=True), np.int64(-1), "ffffffffffffffffff01", -1),
    (VarIntCoder(lenient=True), np.uint8(200), "c801", 200),
    (VarIntCoder(lenient=True), Level.HIGH, "03", 3),
    (StrUtf8Coder(lenient=True), Color.RED, "726564", "red"),
    (StrUtf8Coder(lenient=True), Shade.DARK, "6461726b", "dark"),
    (StrUtf8Coder(lenient=True), Name("é"), "c3a9", "é"),
    (ListCoder(StrUtf8Coder(lenient=True), lenient=True), ("a", "b"), "0000000201610162", ["a", "b"]),
    (ListCoder(VarIntCoder(lenient=True), lenient=True), range(2), "000000020001", [0, 1]),
    (ListCoder(VarIntCoder(lenient=True), lenient=True), collections.deque([7]), "0000000107", [7]),
]


@pytest.mark.parametrize(("coder", "value", "outer", "decoded"), NARROWING)
def test_valid_values_encode_with_the_bytes_of_the_narrowed_value_and_decode_to_it(coder, value, outer, decoded):
    assert coder.encode(value).hex() == outer
    back = coder.decode(bytes.fromhex(outer))
    assert back == decoded and type(back) is type(decoded)
    # the bytes are exactly those of the narrowed value, in both contexts, on the exact coder too
    exact = type(coder)(*coder.components())
    assert coder.encode_nested(value) == exact.encode_nested(decoded)
    assert coder.estimate_size(value) == len(bytes.fromhex(outer))


@pytest.mark.parametrize(
    ("coder", "value", "beam"),
    [
        (FloatCoder(lenient=True), 5, beam_coders.FloatCoder()),
        (FloatCoder(lenient=True), np.int64(-7), beam_coders.FloatCoder()),
        (VarIntCoder(lenient=True), np.int64(300), beam_coders.VarIntCoder()),
        (VarIntCoder(lenient=True), True, beam_coders.VarIntCoder()),
        (StrUtf8Coder(lenient=True), Color.RED, beam_coders.StrUtf8Coder()),
        (
            ListCoder(StrUtf8Coder(lenient=True), lenient=True),
            ("x", "yz"),
            beam_coders.ListCoder(beam_coders.StrUtf8Coder()),
        ),
    ],
)
def test_the_bytes_are_beams_for_the_same_value(coder, value, beam):
    assert coder.encode(value) == beam.encode(value)
    assert coder.encode_nested(value) == beam.get_impl().encode_nested(value)


def test_docs_narrowing_table_matches_the_coders():
    """Each row of docs/registry.md's Narrowing table is executed: hint, value, what comes back."""
    text = DOCS.read_text()
    section = text.split("## Narrowing", 1)[1].split("\n#", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert len(rows) >= 8
    namespace = {"np": np, "Color": Color, "Level": Level, "collections": collections, "typing": typing}
    for row in rows:
        hint_src, value_src, back_src = (cell.strip().strip("`") for cell in row.strip("|").split("|")[:3])
        hint = eval(hint_src, namespace)  # the docs' own table
        value = eval(value_src, namespace)
        expected = eval(back_src, namespace)
        coder = coders.CoderRegistry().get_coder(hint)
        back = coder.decode(coder.encode(value))
        assert back == expected and type(back) is type(expected), row


# ---- still refused: values not valid for the hint ----------------------------------------------------------


@pytest.mark.parametrize(
    ("coder", "value", "message"),
    [
        (FloatCoder(lenient=True), "1.5", "FloatCoder expected float, got str '1.5'"),
        (FloatCoder(lenient=True), 2**53 + 1, "an integer a double holds exactly (this one would be rounded)"),
        (FloatCoder(lenient=True), 10**400, "an integer a double holds exactly"),
        (FloatCoder(lenient=True), np.bool_(True), "FloatCoder expected float, got bool np.True_"),
        (VarIntCoder(lenient=True), 1.5, "VarIntCoder expected int, got float 1.5"),
        (VarIntCoder(lenient=True), np.float64(2.0), "VarIntCoder expected int, got float64"),
        (VarIntCoder(lenient=True), "3", "VarIntCoder expected int, got str '3'"),
        (VarIntCoder(lenient=True), np.uint64(2**64 - 1), "an int in the int64 range"),
        (VarIntCoder(lenient=True), 2**63, "an int in the int64 range"),
        (StrUtf8Coder(lenient=True), b"a", "StrUtf8Coder expected str, got bytes b'a'"),
        (StrUtf8Coder(lenient=True), Name("\ud800"), "is a lone surrogate"),
        (ListCoder(StrUtf8Coder(lenient=True), lenient=True), "ab", "expected a list or another sequence"),
        (ListCoder(StrUtf8Coder(lenient=True), lenient=True), {"a"}, "expected a list or another sequence"),
        (ListCoder(StrUtf8Coder(lenient=True), lenient=True), b"ab", "expected a list or another sequence"),
    ],
)
def test_values_not_valid_for_the_hint_keep_the_clear_error(coder, value, message):
    with pytest.raises(EncodeError, match=re.escape(message)):
        coder.encode(value)


def test_errors_inside_a_record_name_the_path_and_the_fix():
    import dataclasses

    @dataclasses.dataclass
    class Reading:
        value: float
        tags: list[str]

    coder = coders.CoderRegistry().get_coder(Reading)
    assert coder.decode(coder.encode(Reading(5, ("a",)))) == Reading(5.0, ["a"])
    with pytest.raises(EncodeError) as info:
        coder.encode(Reading(1.0, ("a", 2)))
    message = str(info.value)
    assert message.startswith("at value.tags[1]: field ")
    assert "Reading.tags: StrUtf8Coder expected str, got int 2 (coder StrUtf8Coder[lenient=True])" in message
    assert "Fix: pass str(x)" in message


# ---- structure: equality, repr, pickling, determinism, the accelerator --------------------------------------


def test_lenient_is_part_of_equality_hash_repr_and_pickling():
    for exact, lenient in [
        (FloatCoder(), FloatCoder(lenient=True)),
        (CanonicalFloatCoder(), CanonicalFloatCoder(lenient=True)),
        (VarIntCoder(), VarIntCoder(lenient=True)),
        (StrUtf8Coder(), StrUtf8Coder(lenient=True)),
        (ListCoder(VarIntCoder()), ListCoder(VarIntCoder(), lenient=True)),
    ]:
        assert exact != lenient and lenient == type(lenient)(*lenient.components(), lenient=True)
        assert hash(lenient) == hash(type(lenient)(*lenient.components(), lenient=True))
        assert repr(lenient).endswith("lenient=True]")
        assert "lenient" not in repr(exact)
        assert pickle.loads(pickle.dumps(lenient)) == lenient
        assert pickle.loads(pickle.dumps(exact)) == exact
        assert_picklable(lenient)


def test_determinism_is_unchanged_and_the_deterministic_variant_stays_lenient():
    assert VarIntCoder(lenient=True).is_deterministic()
    assert StrUtf8Coder(lenient=True).is_deterministic()
    assert not FloatCoder(lenient=True).is_deterministic()
    assert FloatCoder(lenient=True).as_deterministic_coder() == CanonicalFloatCoder(lenient=True)
    lists = ListCoder(FloatCoder(lenient=True), lenient=True).as_deterministic_coder()
    assert lists == ListCoder(CanonicalFloatCoder(lenient=True), lenient=True)
    assert lists.encode((0, -0.0)) == bytes.fromhex("00000002" + "00" * 16)
    # an int and the equal float give the same bytes: keys group as Python's == says
    key = TupleCoder(VarIntCoder(lenient=True), CanonicalFloatCoder(lenient=True))
    assert key.encode((True, 1)) == key.encode((1, 1.0))


def test_the_accelerator_declares_the_exact_kinds_and_hands_other_values_to_the_reference():
    """The C nodes stay exact (they decline a tuple, an int in a float field ...); the reference then
    accepts the value, so the C path never accepts what the reference refuses."""
    coder = TupleCoder(
        FloatCoder(lenient=True), VarIntCoder(lenient=True), ListCoder(StrUtf8Coder(lenient=True), lenient=True)
    )
    assert spec.spec_of(coder)[0] == "tuple"
    assert [node[0] for node in spec.spec_of(coder)[1]] == ["float", "varint", "list"]
    value = (5, np.int64(3), (Color.RED, "b"))
    expected = coders.Coder.encode(coder, value)
    assert coder.encode(value) == expected == coder.encode((5.0, 3, ["red", "b"]))
    assert coder.decode(expected) == (5.0, 3, ["red", "b"])
    with pytest.raises(EncodeError, match=re.escape("at value[1]: VarIntCoder expected int, got float 1.5")):
        coder.encode((5, 1.5, []))
    with pytest.raises(EncodeError, match=re.escape("at value[0]: FloatCoder expected a float, or an integer")):
        NullableCoder(coder).encode((2**60 + 1, 1, []))


@given(st.integers(min_value=-(2**53), max_value=2**53))
def test_every_int_a_double_holds_round_trips_as_its_float(n):
    coder = FloatCoder(lenient=True)
    assert coder.encode(n) == struct.pack(">d", n)
    assert coder.decode(coder.encode(n)) == float(n)


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_numpy_int64_writes_the_varint_of_its_value(n):
    assert VarIntCoder(lenient=True).encode(np.int64(n)) == VarIntCoder().encode(n)


@given(st.lists(st.text(max_size=8), max_size=5))
def test_a_tuple_writes_the_bytes_of_its_list(items):
    coder = ListCoder(StrUtf8Coder(lenient=True), lenient=True)
    assert coder.encode(tuple(items)) == coder.encode(items)
    assert coder.decode(coder.encode(tuple(items))) == items


def test_lenient_coders_round_trip_their_own_values():
    for coder in LENIENT:
        assert_roundtrip(coder, *{float: [0.0, -1.5], int: [0, -(2**63)], str: ["", "é"]}[coder.to_type_hint()])
