"""The generated (fused) codecs agree with the reference composition: same bytes, values and errors."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import pickle
import typing

import cloudpickle
import dill
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import coders
from coders import fused
from coders.base import Coder
from coders.collections import IterableCoder, ListCoder, MapCoder, SetCoder, TupleCoder, TupleSequenceCoder
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
from coders.records import RecordCoder
from coders.wrappers import LengthPrefixCoder, NullableCoder

I, S, F, B = VarIntCoder(), StrUtf8Coder(), FloatCoder(), BytesCoder()
UTC = datetime.UTC


@dataclasses.dataclass
class Order:
    order_id: int
    customer: str
    amount: float
    paid: bool


class Point(typing.NamedTuple):
    x: int
    y: typing.Optional[str]


@dataclasses.dataclass
class Node:
    label: str
    children: list


ORDER = RecordCoder(Order, [("order_id", I), ("customer", S), ("amount", F), ("paid", BooleanCoder())])
POINT = RecordCoder(Point, [("x", I), ("y", NullableCoder(S))])
NODE = RecordCoder.deferred(Node)
NODE.set_fields([("label", S), ("children", ListCoder(NODE))])


def strategy(coder: Coder):
    """Valid values for the coders used here (exact types only)."""
    t = type(coder)
    leaf = {
        VarIntCoder: st.integers(-(2**63), 2**63 - 1),
        StrUtf8Coder: st.text(max_size=20),
        BytesCoder: st.binary(max_size=20),
        FloatCoder: st.floats(allow_nan=False),
        CanonicalFloatCoder: st.floats(allow_nan=False).filter(lambda x: x != 0.0),
        BooleanCoder: st.booleans(),
        NoneCoder: st.none(),
        DecimalCoder: st.decimals(allow_nan=False, allow_infinity=False, places=3),
        TimestampCoder: st.datetimes(timezones=st.just(UTC)).map(
            lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
        ),
    }
    if t in leaf:
        return leaf[t]
    if t is TupleCoder:
        return st.tuples(*(strategy(c) for c in coder.component_coders))
    if t is ListCoder or t is IterableCoder:
        return st.lists(strategy(coder.element_coder), max_size=5)
    if t is TupleSequenceCoder:
        return st.lists(strategy(coder.element_coder), max_size=5).map(tuple)
    if t is MapCoder:
        return st.dictionaries(strategy(coder.key_coder), strategy(coder.value_coder), max_size=4)
    if t is SetCoder:
        return st.sets(strategy(coder.element_coder), max_size=4)
    if t is NullableCoder:
        return st.none() | strategy(coder.value_coder)
    if t is LengthPrefixCoder:
        return strategy(coder.value_coder)
    if coder is ORDER:
        return st.builds(Order, strategy(I), strategy(S), strategy(F), st.booleans())
    if coder is POINT:
        return st.builds(Point, strategy(I), st.none() | strategy(S))
    if coder is NODE:
        return st.recursive(
            st.builds(Node, strategy(S), st.just([])),
            lambda kids: st.builds(Node, strategy(S), st.lists(kids, max_size=3)),
            max_leaves=6,
        )
    raise AssertionError(f"no strategy for {coder!r}")


TREES = [
    TupleCoder(I, S, F),
    TupleCoder(B, I),
    TupleCoder(S, B),
    TupleCoder(),
    TupleCoder(NoneCoder(), BooleanCoder()),
    TupleCoder(I, TupleCoder(S, TupleCoder(F, B))),
    ListCoder(I),
    ListCoder(F),
    IterableCoder(F),
    TupleSequenceCoder(F),
    ListCoder(S),
    ListCoder(NoneCoder()),
    ListCoder(ListCoder(B)),
    IterableCoder(TupleCoder(S, I)),
    TupleSequenceCoder(CanonicalFloatCoder()),
    MapCoder(S, I),
    MapCoder(I, ListCoder(NullableCoder(S))),
    MapCoder(S, MapCoder(S, F, deterministic=True)),
    TupleCoder(NullableCoder(I), NullableCoder(NullableCoder(S)), NullableCoder(TupleCoder(B, B))),
    TupleCoder(DecimalCoder(), TimestampCoder(), SetCoder(I, deterministic=True), LengthPrefixCoder(S)),
    TupleCoder(I, DecimalCoder()),
    ORDER,
    POINT,
    NODE,
    ListCoder(ORDER),
    MapCoder(S, POINT),
    TupleCoder(NODE, I),
]
IDS = [repr(t) for t in TREES]


_CODECS: dict[int, fused.FusedCodec] = {}


def codec_of(coder):
    """One generated codec per tree for the whole module (generating compiles source)."""
    if id(coder) not in _CODECS:
        _CODECS[id(coder)] = fused.codec_for(coder)
    return _CODECS[id(coder)]


def reference_encode(coder, value, nested):
    out = bytearray()
    coder.encode_to(value, out, nested)
    return bytes(out)


def reference_decode(coder, data, nested):
    return (Coder.decode_nested if nested else Coder.decode)(coder, data)


def outcome(fn, *args):
    """('ok', repr(value)) or (error type, message): what a call did, for comparing two paths.

    The repr stands for the value so that NaN compares equal to itself and types must match.
    """
    try:
        return ("ok", repr(fn(*args)))
    except (coders.EncodeError, coders.DecodeError) as e:
        return (type(e).__name__, str(e))


@pytest.mark.parametrize("coder", TREES, ids=IDS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fused_bytes_and_values_equal_the_reference(coder, data):
    codec = codec_of(coder)
    assert codec is not None
    value = data.draw(strategy(coder))
    for nested in (False, True):
        expected = reference_encode(coder, value, nested)
        raw_encode = codec.raw_encode_nested if nested else codec.raw_encode
        raw_decode = codec.raw_decode_nested if nested else codec.raw_decode
        public_encode = coder.encode_nested if nested else coder.encode
        public_decode = coder.decode_nested if nested else coder.decode
        # the generated functions alone (no fallback) handle every exact-typed value ...
        assert raw_encode(value) == expected
        back, end = raw_decode(expected)
        assert end == len(expected)
        assert back == reference_decode(coder, expected, nested) == value
        # ... and the public methods (fused with fallback) agree too
        assert public_encode(value) == expected
        assert public_decode(expected) == value


@pytest.mark.parametrize("coder", TREES, ids=IDS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), cut=st.integers(0, 50), flip=st.integers(0, 255), at=st.integers(0, 50), nested=st.booleans())
def test_fused_decode_errors_equal_the_reference(coder, data, cut, flip, at, nested):
    value = data.draw(strategy(coder))
    good = reference_encode(coder, value, nested)
    candidates = [good[:cut], good + bytes([flip]), bytes([flip]) + good]
    if good:
        mutated = bytearray(good)
        mutated[at % len(good)] ^= flip
        candidates.append(bytes(mutated))
    codec = codec_of(coder)
    public = codec.decode_nested if nested else codec.decode
    for bad in candidates:
        assert outcome(public, bad) == outcome(reference_decode, coder, bad, nested)


BAD_VALUES = [
    (TupleCoder(I, S), (1, b"x"), "[1]"),
    (TupleCoder(I, S), (1,), "expected a tuple of 2 components"),
    (TupleCoder(I, S), [1, "a"], "tuple(x)"),
    (TupleCoder(I, S), (True, "a"), "bool"),
    (TupleCoder(I, S), (2**63, "a"), "int64"),
    (TupleCoder(I, S), (1, "\ud800"), "lone surrogate"),
    (TupleCoder(F, BooleanCoder()), (1, True), "pass float(x)"),
    (TupleCoder(F, BooleanCoder()), (1.0, 1), "BooleanCoder expected bool"),
    (ListCoder(I), [1, 2, "x"], "[2]"),
    (ListCoder(I), (1, 2), "ListCoder expected a list"),
    (MapCoder(S, I), {"k": "v"}, "['k']"),
    (MapCoder(S, I), {1: 1}, "<key 1>"),
    (TupleCoder(NullableCoder(I), NoneCoder()), (None, 0), "NoneCoder expected None"),
    (ORDER, Order(1, "a", 2, True), "pass float(x)"),
    (ORDER, Point(1, "a"), "Order"),
    (ListCoder(ORDER), [Order(1, "a", 2.0, "yes")], "[0]"),
    (NODE, Node("a", [Node("b", ["c"])]), "children"),
]


@pytest.mark.parametrize("coder, value, fragment", BAD_VALUES, ids=lambda x: repr(x)[:40])
def test_fused_encode_errors_equal_the_reference(coder, value, fragment):
    codec = fused.codec_for(coder)
    for nested in (False, True):
        public = codec.encode_nested if nested else codec.encode
        theirs = outcome(reference_encode, coder, value, nested)
        assert theirs[0] == "EncodeError" and fragment in theirs[1], theirs
        assert outcome(public, value) == theirs
        assert outcome(coder.encode_nested if nested else coder.encode, value) == theirs


@pytest.mark.parametrize(
    "values",
    [
        [],
        [0],
        [1, 127, 5],
        list(range(200)),
        [16383, 0],
        [16384, 1],
        [-1, 2],
        [True, 1],
        [1, 2.0],
        [2**63],
        list(range(0, 10**6, 997)),
    ],
)
def test_lists_of_ints_agree_with_the_reference(values):
    coder = ListCoder(I)
    codec = codec_of(coder)
    for nested in (False, True):
        theirs = outcome(reference_encode, coder, values, nested)
        assert outcome(codec.encode_nested if nested else codec.encode, values) == theirs
        if theirs[0] == "ok":
            raw = (codec.raw_encode_nested if nested else codec.raw_encode)(values)
            assert raw == reference_encode(coder, values, nested)
            assert (codec.raw_decode_nested if nested else codec.raw_decode)(raw) == (values, len(raw))


@pytest.mark.parametrize(
    "values",
    [
        [],
        [0.0, -0.0, float("inf")],
        [1.5] * 100,
        [1.0, 2],
        [1.0, True],
        [float("nan")],
        [0.5] * 40 + [1],
        [0.5] * 40 + [None],
    ],
)
def test_whole_list_fast_paths_for_floats_agree_with_the_reference(values):
    coder = ListCoder(F)
    codec = codec_of(coder)
    theirs = outcome(reference_encode, coder, values, False)
    assert outcome(codec.encode, values) == theirs
    if theirs[0] == "ok":
        raw = codec.raw_encode(values)
        assert raw == reference_encode(coder, values, False)
        assert repr(codec.raw_decode(raw)[0]) == repr(values)


def test_inexact_types_take_the_reference_path_and_still_encode():
    class MyStr(str):
        pass

    coder = TupleCoder(S, ListCoder(I), IterableCoder(I), MapCoder(S, I))
    import collections

    value = (MyStr("a"), [1], (x for x in [2, 3]), collections.OrderedDict(a=1))
    expected = reference_encode(coder, (MyStr("a"), [1], (x for x in [2, 3]), collections.OrderedDict(a=1)), False)
    assert coder.encode(value) == expected
    assert coder.decode(expected) == ("a", [1], [2, 3], {"a": 1})


def test_decode_of_bytearray_and_memoryview_and_beams_unknown_length_form():
    coder = TupleCoder(I, IterableCoder(S))
    data = bytes.fromhex("05" + "ffffffff" + "02" + "0161" + "0162" + "00")
    assert coder.decode(data) == (5, ["a", "b"])
    assert coder.decode(bytearray(data)) == (5, ["a", "b"])
    assert coder.decode(memoryview(data)) == (5, ["a", "b"])
    with pytest.raises(TypeError, match="takes bytes"):
        coder.decode("05")


def test_hostile_counts_fail_fast_through_the_fused_path():
    for coder in (
        ListCoder(I),
        ListCoder(NoneCoder()),
        MapCoder(S, NoneCoder()),
        TupleCoder(I, ListCoder(TupleCoder())),
    ):
        data = (b"\x01" if isinstance(coder, TupleCoder) else b"") + bytes.fromhex("7fffffff")
        with pytest.raises(coders.DecodeError, match="remain|limit"):
            coder.decode(data)


def test_source_is_printable_and_names_the_helpers():
    source = fused.source_for(TupleCoder(I, S, F))
    assert "def encode(value):" in source and "def decode(data):" in source
    assert "_VT[" in source and ".encode()" in source and "_ud(data, pos)" in source
    compile(source, "<test>", "exec")
    assert fused.codec_for(TupleCoder(I, S)).source == fused.source_for(TupleCoder(I, S))


def test_roots_that_do_not_fuse():
    assert fused.codec_for(I) is None
    assert fused.codec_for(MapCoder(S, I, deterministic=True)) is None
    assert fused.codec_for(SetCoder(I)) is None


def test_trees_deeper_than_python_allows_fall_back_to_the_reference():
    coder = I
    for _ in range(30):
        coder = ListCoder(coder)
    assert fused.codec_for(coder) is None
    value = 7
    for _ in range(30):
        value = [value]
    assert coder.decode(coder.encode(value)) == value


@pytest.mark.parametrize(
    "dumps, loads",
    [(pickle.dumps, pickle.loads), (cloudpickle.dumps, cloudpickle.loads), (dill.dumps, dill.loads)],
    ids=["pickle", "cloudpickle", "dill"],
)
def test_coders_with_installed_codecs_pickle_without_them(dumps, loads):
    coder = TupleCoder(I, MapCoder(S, ListCoder(F)))
    value = (1, {"a": [1.5]})
    data = coder.encode(value)
    assert "encode" in coder.__dict__  # the generated entry points are installed on the instance
    back = loads(dumps(coder))
    assert "encode" not in back.__dict__ and back == coder
    assert back.decode(data) == value and back.encode(value) == data
    codec = loads(dumps(fused.codec_for(coder)))
    assert codec.encode(value) == data


def test_record_codec_contract_used_by_records_module():
    codec = fused.codec_for(ORDER)
    value = Order(1, "x", 2.5, False)
    data = codec.encode(value)
    assert data == reference_encode(ORDER, value, False)
    assert codec.decode(data) == value and type(codec.decode(data)) is Order
    assert codec.decode_nested(codec.encode_nested(value)) == value
    with pytest.raises(coders.DecodeError, match="trailing data"):
        codec.decode(data + b"\x00")
    assert fused.codec_for(POINT).decode(fused.codec_for(POINT).encode(Point(3, None))) == Point(3, None)


def test_decimal_in_a_fused_tree_goes_through_its_own_coder():
    coder = TupleCoder(I, DecimalCoder())
    value = (1, decimal.Decimal("1." + "3" * 40))
    assert coder.decode(coder.encode(value)) == value
