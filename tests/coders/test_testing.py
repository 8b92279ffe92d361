"""The test kit's own tests: every assertion passes on a good coder and fails, saying what differed,
on a deliberately broken one."""

from __future__ import annotations

import dataclasses
import decimal
import enum
import math
import re
import struct
import typing

import pytest

from coders import Coder
from coders.collections import IterableCoder, ListCoder, MapCoder, SetCoder, TupleCoder, TupleSequenceCoder
from coders.dynamic import AnyCoder
from coders.pickle import CloudpickleCoder, PickleCoder
from coders.primitives import (
    BooleanCoder,
    BytesCoder,
    CanonicalFloatCoder,
    DecimalCoder,
    FloatCoder,
    NoneCoder,
    StrUtf8Coder,
    TimestampCoder,
    VarIntCoder,
)
from coders.records import EnumCoder, RecordCoder, UnionCoder
from coders.streams import read_length_prefixed, read_varint64, write_varint64
from coders.testing import (  # the kit's NaN-aware == and its typed variant
    CoderAssertions,
    _same_types,
    _values_equal,
    assert_consistent_with_equals,
    assert_deterministic,
    assert_encodes_to,
    assert_fully_compliant,
    assert_matches_beam,
    assert_non_deterministic,
    assert_not_fallback,
    assert_picklable,
    assert_rejects_truncated,
    assert_roundtrip,
    assert_size_estimate,
    first_difference,
    register_strategy,
    strategy_for,
)
from coders.wrappers import LengthPrefixCoder, NullableCoder

# ---- small coders written for these tests: a good one of each shape, and broken ones -------------


class IntCoder(Coder):
    """Good: a varint int (the same bytes in both contexts)."""

    def encode_to(self, value, out, nested):
        if type(value) is not int:
            raise self._encode_error(value, "int")
        write_varint64(out, value)

    def decode_from(self, data, pos, nested):
        return read_varint64(data, pos)


class TextCoder(Coder):
    """Good: UTF-8, length-prefixed when nested."""

    def encode_to(self, value, out, nested):
        raw = value.encode("utf-8")
        if nested:
            write_varint64(out, len(raw))
        out += raw

    def decode_from(self, data, pos, nested):
        if nested:
            raw, pos = read_length_prefixed(data, pos)
        else:
            raw, pos = bytes(data[pos:]), len(data)
        return raw.decode("utf-8"), pos


class PairCoder(Coder):
    """Good: a 2-tuple of two component coders, both nested."""

    def __init__(self, first, second):
        self.first, self.second = first, second

    def labelled_components(self):
        return [("[0]", self.first), ("[1]", self.second)]

    def encode_to(self, value, out, nested):
        self.first.encode_to(value[0], out, True)
        self.second.encode_to(value[1], out, True)

    def decode_from(self, data, pos, nested):
        a, pos = self.first.decode_from(data, pos, True)
        b, pos = self.second.decode_from(data, pos, True)
        return (a, b), pos


class InsertionOrderMapCoder(Coder):
    """A str -> int map written in insertion order; honest about it (not deterministic)."""

    honest = True

    def encode_to(self, value, out, nested):
        write_varint64(out, len(value))
        for k, v in value.items():
            TextCoder().encode_to(k, out, True)
            write_varint64(out, v)

    def decode_from(self, data, pos, nested):
        n, pos = read_varint64(data, pos)
        result = {}
        for _ in range(n):
            k, pos = TextCoder().decode_from(data, pos, True)
            result[k], pos = read_varint64(data, pos)
        return result, pos

    def own_determinism_issues(self):
        if self.honest:
            return [("dict entries are written in insertion order", "sort the keys")]
        return []


class LyingMapCoder(InsertionOrderMapCoder):
    """Broken: writes insertion order yet claims to be deterministic."""

    honest = False


class DropsByteCoder(TextCoder):
    """Broken: the nested encoding loses the last byte of the string."""

    def encode_to(self, value, out, nested):
        raw = value.encode("utf-8")
        if nested:
            raw = raw[:-1]
            write_varint64(out, len(raw))
        out += raw


class FloatToIntCoder(Coder):
    """Broken: a double that decodes integral values as int (1.0 comes back as 1)."""

    def encode_to(self, value, out, nested):
        out += struct.pack(">d", value)

    def decode_from(self, data, pos, nested):
        (value,) = struct.unpack_from(">d", data, pos)
        return (int(value) if value.is_integer() else value), pos + 8


class WildEstimateCoder(TextCoder):
    """Broken: estimate_size is a megabyte whatever the value."""

    def estimate_size(self, value, nested=False):
        return 1_000_000


class BoolEstimateCoder(TextCoder):
    """Broken: estimate_size returns a bool."""

    def estimate_size(self, value, nested=False):
        return True


class UnpicklableCoder(TextCoder):
    """Broken: holds a generator, which no pickler can serialize."""

    def __init__(self):
        self.pending = (i for i in range(3))

    def _params(self):
        return ()


class GreedyNestedCoder(TextCoder):
    """Broken: ignores the nested context and reads to the end of the buffer."""

    def encode_to(self, value, out, nested):
        out += value.encode("utf-8")

    def decode_from(self, data, pos, nested):
        return bytes(data[pos:]).decode("utf-8", "replace"), len(data)


class CaseFoldingCoder(TextCoder):
    """Broken: lower-cases, so unequal strings share bytes."""

    def encode_to(self, value, out, nested):
        super().encode_to(value.lower(), out, nested)


class FastPathDisagreesCoder(TextCoder):
    """Broken: the overridden fast ``encode`` writes other bytes than the reference ``encode_to``."""

    def encode(self, value):
        return value.encode("latin-1")


class BytesOnlyDecodeCoder(TextCoder):
    """Broken: decodes with ``bytes.decode``, which a memoryview does not have."""

    def decode_from(self, data, pos, nested):
        if nested:
            n, pos = read_varint64(data, pos)
            return data[pos : pos + n].decode("utf-8"), pos + n
        return data[pos:].decode("utf-8"), len(data)


class RaisingDecodeCoder(TextCoder):
    """Broken: truncated input raises something other than DecodeError (bypassing the base's wrapping)."""

    def decode_nested(self, data):
        if len(data) < 2:
            raise IndexError("index out of range")
        return super().decode_nested(data)


# ---- assert_roundtrip ---------------------------------------------------------------------------


def test_roundtrip_passes_on_good_coders():
    assert_roundtrip(IntCoder(), 0, 1, -1, 2**63 - 1, -(2**63))
    assert_roundtrip(TextCoder(), "", "héllo", "x" * 300)
    assert_roundtrip(PairCoder(IntCoder(), TextCoder()), (1, "a"), (-5, ""))


def test_roundtrip_fails_when_a_byte_is_dropped():
    with pytest.raises(AssertionError) as info:
        assert_roundtrip(DropsByteCoder(), "abc")
    message = str(info.value)
    assert "value changed in a round trip in the nested context" in message
    assert "'abc' (type str)" in message and "'ab' (type str)" in message
    assert "[3 bytes] 02 61 62" in message  # the hex of the bytes that were written
    assert "DropsByteCoder" in message


def test_roundtrip_fails_when_1_0_becomes_1():
    with pytest.raises(AssertionError, match=r"type changed from float to int \(1.0 became 1\)") as info:
        assert_roundtrip(FloatToIntCoder(), 1.5, 1.0)
    message = str(info.value)
    assert "outer context" in message
    assert "original: 1.0 (type float)" in message and "decoded:  1 (type int)" in message
    assert "3f f0 00 00 00 00 00 00" in message


def test_roundtrip_names_the_path_inside_a_container():
    with pytest.raises(AssertionError, match=r"value\[1\]: type changed from float to int"):
        assert_roundtrip(PairCoder(TextCoder(), FloatToIntCoder()), ("a", 2.0))


def test_roundtrip_fails_when_nested_decode_eats_the_following_bytes():
    with pytest.raises(AssertionError) as info:
        assert_roundtrip(GreedyNestedCoder(), "abc")
    message = str(info.value)
    assert "decode_nested_at" in message and "expected 6" in message and "ate into the bytes after it" in message


def test_roundtrip_fails_when_fast_path_and_reference_disagree():
    with pytest.raises(AssertionError, match="the public encode method and encode_to disagree") as info:
        assert_roundtrip(FastPathDisagreesCoder(), "é")
    assert "e9" in str(info.value) and "c3 a9" in str(info.value)


def test_roundtrip_fails_when_decode_refuses_a_memoryview():
    with pytest.raises(
        AssertionError,
        match=r"decoding the same bytes given as a memoryview raised DecodeError: "
        r"malformed input \(AttributeError: 'memoryview' object has no attribute 'decode'\)",
    ):
        assert_roundtrip(BytesOnlyDecodeCoder(), "abc")


class WrongHintCoder(TextCoder):
    """Broken: decodes str but declares int as its type hint (a registry would trust it)."""

    def to_type_hint(self):
        return typing.List[int]


def test_roundtrip_checks_the_decoded_value_against_to_type_hint():
    with pytest.raises(
        AssertionError, match=r"the decoded value is a str but the coder's to_type_hint\(\) is typing.List\[int\]"
    ):
        assert_roundtrip(WrongHintCoder(), "abc")


def test_roundtrip_wraps_an_encode_failure_with_the_value_and_coder():
    with pytest.raises(AssertionError, match=r"encoding 'x' \(type str\) raised EncodeError: IntCoder expected int"):
        assert_roundtrip(IntCoder(), "x")


def test_roundtrip_needs_a_value():
    with pytest.raises(TypeError, match="at least one value"):
        assert_roundtrip(IntCoder())


# ---- first_difference: the notion of "exactly equal" --------------------------------------------


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (1, 1.0, "type changed from int to float"),
        (1, True, "type changed from int to bool"),
        (0.0, -0.0, "float 0.0 became -0.0"),
        ([1, 2], [1, 2, 3], "length 2 became 3"),
        ((1, [2.0]), (1, [2]), r"value[1][0]: type changed from float to int"),
        ({"a": 1}, {"a": 1.0}, "value['a']: type changed from int to float"),
        ({1: "x"}, {1.0: "x"}, "value key 1: type changed from int to float"),
        ({1, 2}, {1, 3}, "element 2 is missing"),
        (decimal.Decimal("1.0"), decimal.Decimal("1.00"), "different exponent"),
    ],
)
def test_first_difference_finds_type_and_value_changes(a, b, expected):
    found = first_difference(a, b)
    assert found is not None and expected in found, found


def test_value_equality_for_consistency_is_nan_aware_and_type_aware_on_request():
    # == at every depth, with NaN equal to NaN: what "equal values" means for determinism.
    assert _values_equal({"k": [math.nan, -0.0]}, {"k": [float("nan"), 0.0]})
    assert _values_equal((1, 2.0), (1.0, 2))
    assert not _values_equal([1], (1,))
    # The same, but types must also match (1 and 1.0 are equal yet a coder may keep them apart).
    assert _same_types([0.0, math.nan], [-0.0, float("nan")])
    assert not _same_types((1, 2.0), (1.0, 2))


def test_first_difference_treats_nan_as_equal_to_itself_and_ignores_dict_order():
    assert first_difference(math.nan, float("nan")) is None
    assert first_difference([math.nan, {"k": math.nan}], [math.nan, {"k": math.nan}]) is None
    assert first_difference({"a": 1, "b": 2}, {"b": 2, "a": 1}) is None
    assert first_difference({math.nan: 1}, {math.nan: 1}) is None


def test_first_difference_compares_dataclasses_field_by_field():
    @dataclasses.dataclass
    class Point:
        x: int
        y: float

    assert first_difference(Point(1, 2.0), Point(1, 2.0)) is None
    assert first_difference(Point(1, 2.0), Point(1, 2)) == "value.y: type changed from float to int (2.0 became 2)"


# ---- assert_encodes_to --------------------------------------------------------------------------


def test_encodes_to_passes_on_the_exact_bytes_in_each_context():
    assert_encodes_to(TextCoder(), "ab", b"ab")
    assert_encodes_to(TextCoder(), "ab", b"\x02ab", nested=True)
    assert_encodes_to(IntCoder(), -1, b"\xff" * 9 + b"\x01")


def test_encodes_to_fails_with_both_hex_strings_and_the_offset():
    with pytest.raises(AssertionError) as info:
        assert_encodes_to(TextCoder(), "ab", b"\x02ac", nested=True)
    message = str(info.value)
    assert "'ab' (type str) encoded to unexpected bytes in the nested context" in message
    assert re.search(r"expected: +\[3 bytes\] 02 61 63", message)
    assert re.search(r"actual: +\[3 bytes\] 02 61 62", message)
    assert "first difference at byte offset 2" in message


# ---- determinism --------------------------------------------------------------------------------


def test_deterministic_passes_and_catches_a_coder_that_lies():
    assert_deterministic(TextCoder(), "a")
    assert_deterministic(PairCoder(IntCoder(), TextCoder()), (1, "x"))
    with pytest.raises(AssertionError) as info:
        assert_deterministic(LyingMapCoder(), {"a": 1, "b": 2})
    message = str(info.value)
    assert (
        "a deterministic coder gave different bytes for a copy with dicts and sets filled in reverse order" in message
    )
    assert "first difference at byte offset 2" in message


def test_deterministic_fails_on_a_non_deterministic_coder_listing_the_reason_with_its_path():
    with pytest.raises(AssertionError) as info:
        assert_deterministic(PairCoder(IntCoder(), InsertionOrderMapCoder()))
    assert (
        "PairCoder[1] -> InsertionOrderMapCoder: dict entries are written in insertion order. Fix: sort the keys"
        in str(info.value)
    )


def test_non_deterministic_passes_and_checks_the_reason():
    assert_non_deterministic(InsertionOrderMapCoder())
    assert_non_deterministic(PairCoder(IntCoder(), InsertionOrderMapCoder()), reason_contains="insertion order")
    with pytest.raises(AssertionError, match="no determinism reason mentions 'NaN'"):
        assert_non_deterministic(InsertionOrderMapCoder(), reason_contains="NaN")
    with pytest.raises(AssertionError, match="expected a non-deterministic coder, but it reports itself deterministic"):
        assert_non_deterministic(TextCoder())


def test_consistent_with_equals():
    assert_consistent_with_equals(TextCoder(), "a", "a")
    assert_consistent_with_equals(TextCoder(), "a", "A")
    with pytest.raises(AssertionError, match="unequal values encode to the same bytes") as info:
        assert_consistent_with_equals(CaseFoldingCoder(), "a", "A")
    assert "bytes of both: [1 bytes] 61" in str(info.value)
    with pytest.raises(AssertionError, match="equal values encode to different bytes") as info:
        assert_consistent_with_equals(InsertionOrderMapCoder(), {"a": 1, "b": 2}, {"b": 2, "a": 1})
    assert "first difference at byte offset 2" in str(info.value)


# ---- size estimates -----------------------------------------------------------------------------


def test_size_estimate_passes_and_catches_wild_estimates():
    assert_size_estimate(TextCoder(), "hello")
    with pytest.raises(AssertionError) as info:
        assert_size_estimate(WildEstimateCoder(), "hello")
    assert "estimate_size is wildly off: estimated 1000000 bytes, actual 5 (allowed 0..36)" in str(info.value)
    with pytest.raises(AssertionError, match=r"estimate_size returned True \(type bool\); expected a non-negative int"):
        assert_size_estimate(BoolEstimateCoder(), "x")


def test_roundtrip_includes_the_size_check():
    with pytest.raises(AssertionError, match="wildly off"):
        assert_roundtrip(WildEstimateCoder(), "x")


# ---- pickling -----------------------------------------------------------------------------------


def test_picklable_passes_and_names_the_backend_that_fails():
    assert_picklable(PairCoder(IntCoder(), TextCoder()), (1, "a"))
    with pytest.raises(
        AssertionError, match=r"the coder does not survive pickle: TypeError: cannot pickle 'generator' object"
    ):
        assert_picklable(UnpicklableCoder())


# ---- truncation ---------------------------------------------------------------------------------


def test_rejects_truncated():
    assert_rejects_truncated(PairCoder(IntCoder(), TextCoder()), (300, "abc"))
    with pytest.raises(AssertionError, match="a truncated encoding raised IndexError instead of coders.DecodeError"):
        assert_rejects_truncated(RaisingDecodeCoder(), "abc")
    with pytest.raises(AssertionError, match=r"a truncated encoding decoded without error to '' \(type str\)"):
        assert_rejects_truncated(GreedyNestedCoder(), "abc")


# ---- the fluent form and the all-in-one check ---------------------------------------------------


def test_fluent_assertions_chain_and_fail_like_the_functions():
    pair = PairCoder(IntCoder(), TextCoder())
    result = (
        CoderAssertions(pair)
        .roundtrips((1, "a"))
        .encodes((1, "a"), b"\x01\x01a")
        .is_deterministic((1, "a"))
        .is_consistent_with_equals((1, "a"), (2, "a"))
        .estimates_size((1, "a"))
        .is_picklable()
        .rejects_truncated((1, "a"))
    )
    assert isinstance(result, CoderAssertions)
    with pytest.raises(AssertionError, match="type changed from float to int"):
        CoderAssertions(FloatToIntCoder()).roundtrips(2.0)
    with pytest.raises(TypeError, match="CoderAssertions takes a coders.Coder, not int"):
        CoderAssertions(3)


def test_fully_compliant_on_self_made_coders():
    assert_fully_compliant(PairCoder(IntCoder(), TextCoder()), [(1, "a"), (1, "a"), (2, ""), (-7, "ü" * 40)])
    with pytest.raises(AssertionError, match="equal values encode to different bytes|different bytes for a copy"):
        assert_fully_compliant(LyingMapCoder(), [{"a": 1, "b": 2}])


# ---- strategies ---------------------------------------------------------------------------------


def test_register_strategy_teaches_strategy_for_a_new_coder():
    from hypothesis import given, settings

    class SmallIntCoder(IntCoder):
        pass

    register_strategy(SmallIntCoder, lambda coder, component, st: st.integers(0, 10))
    register_strategy(PairCoder, lambda coder, component, st: st.tuples(*(component(c) for c in coder.components())))
    coder = PairCoder(SmallIntCoder(), SmallIntCoder())

    @settings(max_examples=30, deadline=None)
    @given(strategy_for(coder))
    def check(value):
        assert 0 <= value[0] <= 10 and 0 <= value[1] <= 10
        assert_roundtrip(coder, value)

    check()
    with pytest.raises(TypeError, match=r"register_strategy takes a Coder subclass, not <class 'int'>"):
        register_strategy(int, lambda *a: None)


# ---- with coderkit's primitive and wrapper coders ------------------------------------------------


def test_roundtrip_of_special_floats_keeps_nan_and_the_sign_of_zero():
    assert_roundtrip(FloatCoder(), math.nan, -0.0, 0.0, math.inf, -math.inf, 5e-324, 1.0)


def test_canonical_float_coder_fails_the_exact_roundtrip_of_negative_zero_as_it_should():
    with pytest.raises(AssertionError, match=r"float -0.0 became 0.0"):
        assert_roundtrip(CanonicalFloatCoder(), -0.0)
    assert_consistent_with_equals(CanonicalFloatCoder(), 0.0, -0.0)
    assert_consistent_with_equals(CanonicalFloatCoder(), math.nan, -math.nan)
    with pytest.raises(AssertionError, match="equal values encode to different bytes"):
        assert_consistent_with_equals(FloatCoder(), 0.0, -0.0)
    assert_non_deterministic(FloatCoder(), reason_contains="-0.0")


class NineByteEstimateFloatCoder(FloatCoder):
    """Broken: a fixed-width coder whose estimate is one byte off."""

    def estimate_size(self, value, nested=False):
        return 9


def test_a_fixed_width_estimate_must_be_exact():
    assert_size_estimate(FloatCoder(), 1.5)
    with pytest.raises(
        AssertionError, match="estimate_size of a fixed-width coder must be exact: estimated 9 bytes, actual 8"
    ):
        assert_size_estimate(NineByteEstimateFloatCoder(), 1.5)


@pytest.mark.parametrize(
    "ours, beam_name, values",
    [
        (VarIntCoder(), "VarIntCoder", [0, 1, 127, 128, -1, 2**63 - 1, -(2**63)]),
        (StrUtf8Coder(), "StrUtf8Coder", ["", "a", "héllo wörld", "x" * 200]),
        (BytesCoder(), "BytesCoder", [b"", b"\x00\xff", b"y" * 300]),
        (FloatCoder(), "FloatCoder", [0.0, -0.0, 1.5, math.inf]),
        (BooleanCoder(), "BooleanCoder", [True, False]),
    ],
)
def test_encodes_to_agrees_with_beam_in_both_contexts(ours, beam_name, values):
    from apache_beam.coders import coders as beam_coders

    beam = getattr(beam_coders, beam_name)()
    for value in values:
        assert_encodes_to(ours, value, beam.encode(value))
        assert_encodes_to(ours, value, beam.get_impl().encode_nested(value), nested=True)


def test_matches_beam_passes_on_shared_formats_and_shows_both_byte_strings_otherwise():
    from apache_beam.coders import coders as beam

    assert_matches_beam(
        TupleCoder(VarIntCoder(), StrUtf8Coder(), FloatCoder()),
        beam.TupleCoder([beam.VarIntCoder(), beam.StrUtf8Coder(), beam.FloatCoder()]),
        (1, "a", 2.5),
        (-(2**63), "", -0.0),
    )
    CoderAssertions(MapCoder(StrUtf8Coder(), NullableCoder(VarIntCoder()))).matches_beam(
        beam.MapCoder(beam.StrUtf8Coder(), beam.NullableCoder(beam.VarIntCoder())), {"a": None, "b": 3}, {}
    )
    with pytest.raises(AssertionError) as info:
        assert_matches_beam(DropsByteCoder(), beam.StrUtf8Coder(), "abc")
    message = str(info.value)
    assert "'abc' (type str) encodes differently from Beam's StrUtf8Coder in the nested context" in message
    assert re.search(r"beam: +\[4 bytes\] 03 61 62 63", message) and re.search(r"ours: +\[3 bytes\] 02 61 62", message)
    # Same bytes, but Beam's VarIntCoder reads True back as 1: the type change is reported.
    with pytest.raises(
        AssertionError,
        match=r"Beam's VarIntCoder decodes our bytes to a different value in the outer "
        r"context(.|\n)*type changed from bool to int \(True became 1\)",
    ):
        assert_matches_beam(BooleanCoder(), beam.VarIntCoder(), True)


def test_wrappers_roundtrip_and_pass_the_full_check():
    assert_fully_compliant(NullableCoder(StrUtf8Coder()), [None, "", "x", "x"])
    assert_fully_compliant(LengthPrefixCoder(VarIntCoder()), [0, 300, -5])
    assert_fully_compliant(NullableCoder(FloatCoder()), [None, 1.0, -0.0, math.nan])


def test_strategies_generate_valid_values_for_primitives_and_wrappers():
    from hypothesis import given, settings

    coders_under_test = [
        VarIntCoder(),
        StrUtf8Coder(),
        BytesCoder(),
        FloatCoder(),
        CanonicalFloatCoder(),
        BooleanCoder(),
        NoneCoder(),
        TimestampCoder(),
        TimestampCoder(as_beam_timestamp=True),
        DecimalCoder(),
        NullableCoder(DecimalCoder()),
        LengthPrefixCoder(StrUtf8Coder()),
    ]
    for coder in coders_under_test:

        @settings(max_examples=40, deadline=None)
        @given(value=strategy_for(coder))
        def check(value, coder):
            assert_roundtrip(coder, value)

        check(coder=coder)


def test_strategy_for_an_unknown_coder_names_the_fix():
    class Mystery(TextCoder):
        pass

    with pytest.raises(
        TypeError,
        match=r"strategy_for does not know how to generate values for Mystery .*register_strategy\(Mystery, factory\)",
    ):
        strategy_for(Mystery())


# ---- with coderkit's composite coders --------------------------------------------------------------


class Color(enum.Enum):
    RED = 1
    GREEN = "g"


@dataclasses.dataclass(frozen=True)
class Item:
    sku: str
    price: float
    tags: frozenset


class Pair(typing.NamedTuple):
    left: int
    right: typing.Optional[str]


@dataclasses.dataclass
class Node:
    label: str
    children: list


ITEM = RecordCoder(
    Item,
    [
        ("sku", StrUtf8Coder()),
        ("price", FloatCoder()),
        ("tags", SetCoder(StrUtf8Coder(), frozen=True, deterministic=True)),
    ],
)
PAIR = RecordCoder(Pair, [("left", VarIntCoder()), ("right", NullableCoder(StrUtf8Coder()))])
NODE = RecordCoder.deferred(Node)
NODE.set_fields([("label", StrUtf8Coder()), ("children", ListCoder(NODE))])


@dataclasses.dataclass
class Branch:
    left: typing.Optional[Branch]
    right: typing.Optional[Branch]
    by_name: dict


BRANCH = RecordCoder.deferred(Branch)
BRANCH.set_fields(
    [
        ("left", NullableCoder(BRANCH)),
        ("right", NullableCoder(BRANCH)),
        ("by_name", MapCoder(StrUtf8Coder(), BRANCH, deterministic=True)),
    ]
)

COMPOSITES = [
    TupleCoder(VarIntCoder(), StrUtf8Coder(), FloatCoder()),
    TupleSequenceCoder(BooleanCoder()),
    ListCoder(NullableCoder(VarIntCoder())),
    IterableCoder(BytesCoder()),
    MapCoder(StrUtf8Coder(), ListCoder(FloatCoder())),
    MapCoder(VarIntCoder(), StrUtf8Coder(), deterministic=True),
    SetCoder(StrUtf8Coder()),
    SetCoder(VarIntCoder(), frozen=True, deterministic=True),
    EnumCoder(Color),
    ITEM,
    PAIR,
    NODE,
    BRANCH,
    UnionCoder([(int, VarIntCoder()), (str, StrUtf8Coder()), (None, NoneCoder()), (Item, ITEM)]),
    MapCoder(EnumCoder(Color), TupleCoder(TimestampCoder(), DecimalCoder())),
    AnyCoder(),
    AnyCoder(deterministic=True),
    PickleCoder(),
]


@pytest.mark.parametrize("coder", COMPOSITES, ids=repr)
def test_strategy_values_roundtrip_through_composite_coders(coder):
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(strategy_for(coder))
    def check(value):
        assert_roundtrip(coder, value)

    check()


def test_recursive_record_strategy_builds_trees():
    from hypothesis import find

    deep = find(strategy_for(NODE), lambda n: any(c.children for c in n.children))
    assert isinstance(deep, Node) and isinstance(deep.children[0].children[0], Node)


def test_record_roundtrip_names_the_field_that_changed():
    broken = RecordCoder(Pair, [("left", VarIntCoder()), ("right", NullableCoder(DropsByteCoder()))])
    with pytest.raises(AssertionError, match=r"value.right: 'abc' became 'ab'"):
        assert_roundtrip(broken, Pair(1, "abc"))


def test_fully_compliant_on_records_and_containers():
    assert_fully_compliant(
        ITEM,
        [
            Item("a", 1.0, frozenset()),
            Item("a", 1.0, frozenset()),
            Item("b", -0.0, frozenset({"x", "y"})),
            Item("c", math.nan, frozenset({"z"})),
        ],
    )
    assert_fully_compliant(PAIR, [Pair(1, None), Pair(1, "x"), Pair(-(2**63), "")])
    assert_fully_compliant(NODE, [Node("root", [Node("a", []), Node("b", [Node("c", [])])])])
    # Not deterministic itself; its deterministic variant (sorted entries) is checked instead.
    assert_fully_compliant(MapCoder(StrUtf8Coder(), VarIntCoder()), [{"a": 1, "b": 2}, {"b": 2, "a": 1}, {}])
    # 1, 1.0 and True are equal but AnyCoder rightly keeps their types apart: those pairs are not compared.
    assert_fully_compliant(AnyCoder(), [1, 1.0, True, "1", (1, [2.0]), {"k": {1, 2}}, None, 2**70])
    # Its deterministic variant refuses (EncodeError) what AnyCoder would pickle; the rest is still checked.
    import fractions

    assert_fully_compliant(AnyCoder(), [fractions.Fraction(1, 3), {"b": 1, "a": 2}, {"a": 2, "b": 1}])


class IntifyingVariantCoder(FloatToIntCoder):
    """Broken: exact itself, not deterministic, and its deterministic variant turns 1.0 into 1."""

    def decode_from(self, data, pos, nested):
        (value,) = struct.unpack_from(">d", data, pos)
        return value, pos + 8

    def own_determinism_issues(self):
        return [("the sign of zero", None)]

    def as_deterministic_coder(self, context=None):
        return FloatToIntCoder()


def test_fully_compliant_checks_the_deterministic_variant_keeps_types():
    with pytest.raises(
        AssertionError,
        match=r"the deterministic variant does not round-trip 1.0 \(type float\)"
        r"(.|\n)*type changed from float to int",
    ):
        assert_fully_compliant(IntifyingVariantCoder(), [1.5, 1.0])


def test_deterministic_catches_insertion_ordered_maps_and_names_the_path():
    coder = TupleCoder(VarIntCoder(), MapCoder(StrUtf8Coder(), VarIntCoder()))
    assert_non_deterministic(coder, reason_contains="insertion")
    with pytest.raises(AssertionError, match=r"TupleCoder\[1\] -> MapCoder: a dict is written in its iteration"):
        assert_deterministic(coder)
    assert_deterministic(coder.as_deterministic_coder(), (1, {"a": 1, "b": 2}))


def test_not_fallback_names_every_path_to_a_pickle_coder():
    assert_not_fallback(TupleCoder(VarIntCoder(), ITEM))
    coder = TupleCoder(PickleCoder(), MapCoder(StrUtf8Coder(), ListCoder(CloudpickleCoder())))
    with pytest.raises(AssertionError) as info:
        assert_not_fallback(coder)
    message = str(info.value)
    assert "falls back to pickle in 2 place(s)" in message
    assert "TupleCoder[0]: PickleCoder" in message
    assert "TupleCoder[1].value.element: CloudpickleCoder" in message
    assert "Fix: give that type a coder with coders.register_coder" in message
    with pytest.raises(AssertionError, match="falls back to pickle"):
        assert_fully_compliant(ListCoder(PickleCoder()), [[1, "x"]])
    assert_fully_compliant(ListCoder(PickleCoder()), [[1, "x"], [2.5]], allow_fallback=True)


def test_picklable_checks_real_coders_with_every_backend():
    assert_picklable(NODE, Node("r", [Node("c", [])]))
    assert_picklable(UnionCoder([(int, VarIntCoder()), (str, StrUtf8Coder())]), 1, "x")


def test_picklable_explains_a_class_that_dill_rebuilds_by_value():
    import sys

    main = sys.modules["__main__"]
    Reading = dataclasses.make_dataclass("Reading", [("sensor", str)], frozen=True)
    Reading.__module__ = "__main__"  # plain pickle finds it by name; dill copies __main__ classes by value
    main.Reading = Reading
    try:
        with pytest.raises(AssertionError) as info:
            assert_picklable(RecordCoder(Reading, [("sensor", StrUtf8Coder())]))
    finally:
        del main.Reading
    message = str(info.value)
    assert "the dill copy of the coder is not equal to it" in message
    assert "dill rebuilt class __main__.Reading by value (RecordCoder.cls)" in message
    assert "Fix: define Reading in an importable module" in message


DETERMINISTIC = [c for c in COMPOSITES if c.is_deterministic()] + [
    c.as_deterministic_coder() for c in COMPOSITES if not c.is_deterministic() and not isinstance(c, PickleCoder)
]


@pytest.mark.parametrize("coder", DETERMINISTIC, ids=repr)
def test_property_deterministic_coders_are_consistent_with_equals(coder):
    from hypothesis import HealthCheck, given, settings

    values = strategy_for(coder)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(values, values)
    def check(a, b):
        assert_deterministic(coder, a)
        if _values_equal(a, b) and not _same_types(a, b):
            return  # equal across types (1 == 1.0 == True): a coder may keep them apart
        assert_consistent_with_equals(coder, a, b)

    check()


def test_the_kit_imports_and_works_without_hypothesis():
    import subprocess
    import sys

    script = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "from coders.testing import assert_roundtrip, strategy_for\n"
        "from coders.primitives import VarIntCoder\n"
        "assert_roundtrip(VarIntCoder(), 1, -1)\n"
        "try:\n"
        "    strategy_for(VarIntCoder())\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "strategy_for needs hypothesis" in done.stdout and "Fix: pip install hypothesis" in done.stdout


# ---- datetimes and times: the zone, the UTC offset and fold count, not only == ------------------------------


def test_assert_roundtrip_fails_when_a_datetime_comes_back_in_another_zone():
    import datetime
    import zoneinfo

    berlin = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
    # TimestampCoder keeps the instant only: the decoded value == the original, in UTC
    assert TimestampCoder().decode(TimestampCoder().encode(berlin)) == berlin
    with pytest.raises(AssertionError) as caught:
        assert_roundtrip(TimestampCoder(), berlin)
    assert (
        "difference: value: zone changed from zoneinfo.ZoneInfo(key='Europe/Berlin') to datetime.timezone.utc"
        in str(caught.value)
    )


def test_first_difference_compares_zone_offset_and_fold_of_datetimes_and_times():
    import datetime
    import zoneinfo

    plus2 = datetime.timezone(datetime.timedelta(hours=2))
    named = datetime.timezone(datetime.timedelta(hours=2), "CEST")
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    dt = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=berlin)
    assert first_difference(dt, dt.replace(tzinfo=plus2)) == (
        "value: zone changed from zoneinfo.ZoneInfo(key='Europe/Berlin') to "
        "datetime.timezone(datetime.timedelta(seconds=7200)) (datetime.datetime(2024, 5, 1, 12, 0, "
        "tzinfo=zoneinfo.ZoneInfo(key='Europe/Berlin')) became datetime.datetime(2024, 5, 1, 12, 0, "
        "tzinfo=datetime.timezone(datetime.timedelta(seconds=7200))))"
    )
    assert "zone changed from datetime.timezone(datetime.timedelta(seconds=7200)) to datetime.timezone(" in (
        first_difference(dt.replace(tzinfo=plus2), dt.replace(tzinfo=named))
    )
    naive = datetime.datetime(2024, 10, 27, 2, 30)
    assert naive == naive.replace(fold=1)
    assert first_difference([naive], [naive.replace(fold=1)]).startswith("value[0]: fold changed from 0 to 1")
    assert first_difference(datetime.time(1, tzinfo=plus2), datetime.time(1)).startswith(
        "value: zone changed from datetime.timezone(datetime.timedelta(seconds=7200)) to no zone (naive)"
    )
    # the same zone by key (an uncached ZoneInfo), by offset and name: no difference
    assert first_difference(dt, dt.replace(tzinfo=zoneinfo.ZoneInfo.no_cache("Europe/Berlin"))) is None
    assert (
        first_difference(dt.replace(tzinfo=named), dt.replace(tzinfo=datetime.timezone(plus2.utcoffset(None), "CEST")))
        is None
    )
    # a plain == difference is still reported as such
    assert first_difference(dt, dt + datetime.timedelta(microseconds=1)).startswith(
        "value: datetime.datetime(2024, 5, 1"
    )


# ---- numpy, pandas and pyarrow values: compared by their own exact rules ----------------------------------


def test_object_arrays_compare_element_by_element_and_name_the_index():
    import numpy as np

    value = np.array([["a", 1], [None, (2.0,)]], dtype=object)
    # distinct arrays holding equal objects (their buffers hold different pointers) are equal
    assert first_difference(value, value.copy()) is None
    scalar, other = np.empty((), dtype=object), np.empty((), dtype=object)
    scalar[()], other[()] = {"k": [1]}, {"k": [1]}
    assert first_difference(scalar, other) is None
    other[()] = {"k": [True]}
    assert first_difference(scalar, other) == "value[()]['k'][0]: type changed from int to bool (1 became True)"
    changed = value.copy()
    changed[1, 1] = (2,)
    assert first_difference(value, changed) == "value[1, 1][0]: type changed from float to int (2.0 became 2)"
    changed = value.copy()
    changed[0, 0] = "b"
    assert first_difference(value, changed) == "value[0, 0]: 'a' became 'b'"
    assert first_difference(np.array(["a"], dtype=object), np.array(["a"])).startswith(
        "value: dtype changed from object to <U1"
    )
    assert first_difference(value, value.reshape(4)).startswith("value: shape changed from (2, 2) to (4,)")


def test_assert_roundtrip_passes_an_exact_object_array_coder():
    import numpy as np

    from coders.arrays import NumpyArrayCoder

    value = np.empty((2, 2), dtype=object)
    value[:] = [["a", "bc"], ["", "é"]]
    assert_roundtrip(NumpyArrayCoder(element_coder=StrUtf8Coder()), value)


def test_plain_arrays_compare_dtype_shape_and_every_bit_naming_the_first_element():
    import numpy as np

    assert first_difference(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.5, 3.0])) == (
        "value[1]: np.float64(2.0) became np.float64(2.5) (array([1., 2., 3.]) became array([1. , 2.5, 3. ]))"
    )
    assert first_difference(np.array([1, 2], "<i4"), np.array([1, 2], ">i4")).startswith(
        "value: dtype changed from int32 to >i4"
    )
    assert first_difference(np.arange(6).reshape(2, 3), np.arange(6).reshape(3, 2)).startswith(
        "value: shape changed from (2, 3) to (3, 2)"
    )
    assert first_difference(np.float64(-0.0), np.float64(0.0)) == "value: np.float64(-0.0) became np.float64(0.0)"
    assert first_difference(np.array([np.nan, -0.0]), np.array([np.nan, -0.0])) is None


def a_frame():
    import pandas as pd

    index = pd.Index([10, 20], name="id")
    frame = pd.DataFrame(
        {"n": [1, 2], "s": ["x", "y"], "o": pd.Series([1, None], dtype=object, index=index), "f": [0.5, -0.0]},
        index=index,
    )
    frame.attrs["source"] = "test"
    return frame


def test_equal_dataframes_and_series_pass():
    import pandas as pd

    assert first_difference(a_frame(), a_frame()) is None
    assert first_difference(pd.Series([1.5, None], name="s"), pd.Series([1.5, None], name="s")) is None
    assert first_difference(pd.DataFrame(), pd.DataFrame()) is None


def test_a_dataframe_whose_dtype_changed_is_reported_by_column():
    frame = a_frame()
    assert frame.equals(frame.astype({"n": "Int64"})) is False  # pandas agrees here, but says nothing of where
    assert first_difference(frame, frame.astype({"n": "Int64"})) == "value['n']: dtype changed from int64 to Int64"
    assert (
        first_difference(frame, frame.astype({"f": "float32"})) == "value['f']: dtype changed from float64 to float32"
    )


def test_a_dataframe_whose_index_changed_is_reported():
    import pandas as pd

    frame = a_frame()
    assert first_difference(frame, frame.rename_axis("key")) == "value.index: names changed from ['id'] to ['key']"
    plain = pd.DataFrame({"a": [1, 2]})
    assert first_difference(plain, plain.set_axis(pd.Index([0, 1]))) == (
        "value.index: index type changed from pandas.RangeIndex to pandas.Index ([0, 1] became [0, 1])"
    )
    numbered = plain.set_axis(pd.Index([0, 1]))
    assert (
        first_difference(numbered, plain.set_axis(pd.Index([0, 2]))) == "value.index[1]: np.int64(1) became np.int64(2)"
    )


def test_dataframe_values_labels_and_attrs_that_equals_misses():
    import pandas as pd

    frame = a_frame()
    changed = frame.copy()
    changed["o"] = pd.Series([1.0, None], dtype=object, index=frame.index)
    assert frame.equals(changed)  # pandas takes 1 and 1.0 as equal in an object column
    assert first_difference(frame, changed) == "value['o'].iloc[0]: type changed from int to float (1 became 1.0)"
    changed = frame.copy()
    changed["f"] = [0.5, 0.0]
    assert frame.equals(changed)  # and -0.0 as 0.0
    assert first_difference(frame, changed) == (
        "value['f'].iloc[1]: np.float64(-0.0) became np.float64(0.0) (the sign of zero changed)"
    )
    changed = frame.copy()
    changed.loc[20, "s"] = "z"
    assert first_difference(frame, changed) == "value['s'].iloc[1]: 'y' became 'z'"
    changed = frame.copy()
    changed.attrs["source"] = "prod"
    assert first_difference(frame, changed) == "value.attrs['source']: 'test' became 'prod'"
    assert first_difference(frame, frame.rename(columns={"s": "t"})) == "value.columns[1]: 's' became 't'"


def test_series_name_and_values():
    import pandas as pd

    series = pd.Series([1, 2], name="s")
    assert first_difference(series, series.rename("t")) == "value.name: 's' became 't'"
    assert first_difference(series, pd.Series([1, 3], name="s")) == "value.iloc[1]: np.int64(2) became np.int64(3)"


def a_table():
    import pyarrow as pa

    schema = pa.schema(
        [pa.field("id", pa.int64(), metadata={"doc": "order id"}), ("x", pa.float64())], metadata={"source": "test"}
    )
    return pa.table({"id": [1, 2], "x": [float("nan"), -0.0]}, schema=schema)


def test_equal_tables_and_batches_pass_even_holding_nan():
    table = a_table()
    assert not table.equals(a_table())  # Arrow's equals: a NaN differs from itself
    assert first_difference(table, a_table()) is None
    assert first_difference(table.to_batches()[0], a_table().to_batches()[0]) is None


def test_a_table_whose_schema_metadata_changed_is_reported():
    import pyarrow as pa

    table = a_table()
    changed = table.replace_schema_metadata({"source": "prod"})
    assert table.num_rows == changed.num_rows and table.schema.equals(changed.schema)  # == and equals() miss it
    assert first_difference(table, changed) == "value.schema.metadata: {b'source': b'test'} became {b'source': b'prod'}"
    assert first_difference(table.to_batches()[0], table.to_batches()[0].replace_schema_metadata(None)) == (
        "value.schema.metadata: {b'source': b'test'} became None"
    )
    plain_id = table.cast(table.schema.set(0, pa.field("id", pa.int64())))
    assert first_difference(table, plain_id) == "value.schema.field('id').metadata: {b'doc': b'order id'} became None"


def test_a_table_whose_field_or_values_changed_is_reported():
    import pyarrow as pa

    table = a_table()
    narrow = table.cast(table.schema.set(0, pa.field("id", pa.int32(), metadata={"doc": "order id"})))
    assert (
        first_difference(table, narrow)
        == "value.schema.field('id'): pyarrow.Field<id: int64> became pyarrow.Field<id: int32>"
    )
    other = pa.table({"id": [1, 3], "x": [float("nan"), -0.0]}, schema=table.schema)
    assert first_difference(table, other) == "value.column('id')[1]: 2 became 3"
    zero = pa.table({"id": [1, 2], "x": [float("nan"), 0.0]}, schema=table.schema)
    assert first_difference(table, zero) == "value.column('x')[1]: float -0.0 became 0.0"
    assert first_difference(table, table.rename_columns(["id", "y"])) == (
        "value: columns changed from ['id', 'x'] to ['id', 'y']"
    )


def test_the_kit_never_imports_numpy_pandas_or_pyarrow_itself():
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from coders.testing import assert_roundtrip, first_difference\n"
        "from coders.primitives import VarIntCoder\n"
        "assert_roundtrip(VarIntCoder(), 1)\n"
        "assert first_difference([{'a': object()}], [{'a': 1}]) is not None\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'pandas', 'pyarrow')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
