"""Container coders: exact bytes as data, contexts, determinism paths, hostile counts, errors with paths."""

from __future__ import annotations

import pickle
import typing

import cloudpickle
import dill
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import coders
from coders.collections import (
    ZERO_WIDTH_LIMIT,
    IterableCoder,
    ListCoder,
    MapCoder,
    SetCoder,
    TupleCoder,
    TupleSequenceCoder,
)
from coders.primitives import (
    BooleanCoder,
    BytesCoder,
    CanonicalFloatCoder,
    FloatCoder,
    NoneCoder,
    StrUtf8Coder,
    VarIntCoder,
)
from coders.wrappers import LengthPrefixCoder, NullableCoder

I, S, F, B = VarIntCoder(), StrUtf8Coder(), FloatCoder(), BytesCoder()

# (coder, value, outer hex, nested hex)
EXACT_BYTES = [
    (TupleCoder(), (), "", ""),
    (TupleCoder(I, S), (1, "ab"), "016162", "01026162"),
    (TupleCoder(S, I), ("ab", 1), "02616201", "02616201"),
    (TupleCoder(S, S), ("a", "b"), "016162", "01610162"),
    (TupleCoder(I, TupleCoder(S, B)), (2, ("a", b"z")), "0201617a", "020161017a"),
    (ListCoder(I), [], "00000000", "00000000"),
    (ListCoder(I), [1, 300], "0000000201ac02", "0000000201ac02"),
    (ListCoder(S), ["a", ""], "00000002016100", "00000002016100"),
    (IterableCoder(I), [5], "0000000105", "0000000105"),
    (TupleSequenceCoder(I), (1, 2), "000000020102", "000000020102"),
    (ListCoder(NoneCoder()), [None, None], "00000002", "00000002"),
    (MapCoder(S, I), {}, "00000000", "00000000"),
    (MapCoder(S, I), {"a": 1, "b": 2}, "00000002016101016202", "00000002016101016202"),
    (MapCoder(S, I, deterministic=True), {"b": 2, "a": 1}, "00000002016101016202", "00000002016101016202"),
    (MapCoder(I, ListCoder(I)), {1: [2]}, "000000010100000001" + "02", "000000010100000001" + "02"),
    (SetCoder(I, deterministic=True), {300, 1, 2}, "000000030102ac02", "000000030102ac02"),
    (SetCoder(S, frozen=True, deterministic=True), frozenset({"b", "a"}), "0000000201610162", "0000000201610162"),
    (NullableCoder(TupleCoder(I, S)), (1, "a"), "010161", "01010161"),
    (LengthPrefixCoder(TupleCoder(I, S)), (1, "a"), "020161", "020161"),
]


@pytest.mark.parametrize("case", EXACT_BYTES, ids=lambda c: f"{c[0]!r}-{c[1]!r}"[:60])
def test_exact_bytes_in_both_contexts(case):
    coder, value, outer, nested = case
    assert coder.encode(value).hex() == outer
    assert coder.encode_nested(value).hex() == nested
    for ctx, expected in ((False, outer), (True, nested)):
        out = bytearray()
        coder.encode_to(value, out, ctx)
        assert out.hex() == expected
    assert coder.decode(bytes.fromhex(outer)) == value
    assert coder.decode_nested(bytes.fromhex(nested)) == value
    assert coder.estimate_size(value) == len(outer) // 2
    assert coder.estimate_size(value, nested=True) == len(nested) // 2


def test_deterministic_map_orders_by_encoded_key_bytes_not_python_order():
    # Python orders -1 < 2; their varint bytes order 2 (0x02) before -1 (0xff...).
    coder = MapCoder(I, I, deterministic=True)
    assert coder.encode({-1: 0, 2: 0}).hex() == "00000002" + "0200" + "ffffffffffffffffff01" + "00"
    assert coder.encode({-1: 0, 2: 0}) == coder.encode({2: 0, -1: 0})


def test_iterable_without_len_uses_beams_unknown_length_form():
    coder = IterableCoder(I)
    assert coder.encode(iter([1, 2, 3])).hex() == "ffffffff" + "03" + "010203" + "00"
    assert coder.encode(iter([])).hex() == "ffffffff00"
    assert coder.decode(bytes.fromhex("ffffffff0201020103" + "00")) == [1, 2, 3]
    big = coder.encode(x for x in range(40000))
    assert coder.decode(big) == list(range(40000))


def test_very_long_collections_round_trip():
    values = list(range(-50000, 50000))
    assert ListCoder(I).decode(ListCoder(I).encode(values)) == values
    mapping = {str(i): float(i) for i in range(20000)}
    assert MapCoder(S, F).decode(MapCoder(S, F).encode(mapping)) == mapping


def test_tuple_last_component_takes_the_outer_context():
    coder = TupleCoder(B, B)
    assert coder.encode((b"a", b"bc")).hex() == "01616263"
    assert coder.encode_nested((b"a", b"bc")).hex() == "0161026263"


# ---- errors -----------------------------------------------------------------------------------

ENCODE_ERRORS = [
    (TupleCoder(I, S), (1, b"x"), ["at value[1]", "StrUtf8Coder expected str"]),
    (TupleCoder(I, S), (1,), ["expected a tuple of 2 components", "this one has 1"]),
    (TupleCoder(I, S), [1, "a"], ["a tuple of 2 components", "list", "tuple(x)"]),
    (TupleCoder(I, TupleCoder(I, I)), (1, (2, "3")), ["at value[1][1]", "VarIntCoder expected int"]),
    (ListCoder(I), [1, 2, "x"], ["at value[2]", "VarIntCoder"]),
    (ListCoder(I), (1, 2), ["ListCoder expected a list", "TupleSequenceCoder"]),
    (TupleSequenceCoder(I), [1], ["expected a tuple"]),
    (IterableCoder(S), "abc", ["not str", "list(x)"]),
    (IterableCoder(S), {"a": 1}, ["mapping"]),
    (IterableCoder(I), 5, ["an iterable"]),
    (MapCoder(S, I), {"k": "v"}, ["at value['k']", "VarIntCoder expected int"]),
    (MapCoder(S, I, deterministic=True), {"k": "v"}, ["at value['k']"]),
    (MapCoder(S, I), {1: 1}, ["<key 1>", "StrUtf8Coder expected str"]),
    (MapCoder(S, I), [("a", 1)], ["MapCoder expected a mapping", "dict(x)"]),
    (SetCoder(I), {"x"}, ["<element 'x'>"]),
    (SetCoder(I, deterministic=True), {"x"}, ["<element 'x'>"]),
    (SetCoder(I), frozenset({1}), ["expected a set", "frozen=True"]),
    (SetCoder(I, frozen=True), {1}, ["expected a frozenset"]),
    (NullableCoder(TupleCoder(I)), ("x",), ["at value[0]"]),
]


@pytest.mark.parametrize("coder, value, fragments", ENCODE_ERRORS, ids=lambda x: repr(x)[:40])
def test_encode_errors_carry_the_path(coder, value, fragments):
    for method in (coder.encode, coder.encode_nested):
        with pytest.raises(coders.EncodeError) as info:
            method(value)
        message = str(info.value)
        for fragment in fragments:
            assert fragment in message, (fragment, message)


DECODE_ERRORS = [
    (ListCoder(I), "7fffffff", "count 2147483647 needs at least 2147483647 bytes but only 0 remain"),
    (ListCoder(NoneCoder()), "7fffffff", f"over the limit of {ZERO_WIDTH_LIMIT}"),
    (ListCoder(TupleCoder()), "7fffffff", "over the limit"),
    (ListCoder(I), "fffffffe", "negative count -2"),
    (ListCoder(I), "ffffffff", "expected a varint"),
    (ListCoder(I), "ffffffff0101", "expected a varint"),
    (ListCoder(I), "ffffffff7f01", "count 127 needs at least 127 bytes"),
    (ListCoder(I), "ffffffff01", "count 1 needs at least 1 bytes but only 0 remain"),
    (ListCoder(I), "ffffffffffffffffffffffffff01", "block count -1 marks a state-backed iterable"),
    (ListCoder(I), "000000", "count needs 4 bytes"),
    (ListCoder(S), "000000020161", "while decoding [1]"),
    (MapCoder(S, I), "80000000", "negative entry count"),
    (MapCoder(S, I), "00000002016101016102", "repeated key 'a'"),
    (MapCoder(S, I), "000000010161", "while decoding ['a']"),
    (MapCoder(S, I), "7fffffff", "needs at least"),
    (SetCoder(I), "000000020101", "repeated element"),
    (TupleCoder(I, I), "01", "while decoding [1]"),
    (TupleCoder(I, S), "01ff", "invalid UTF-8"),
    (TupleCoder(I, I), "010203", "trailing data"),
]


@pytest.mark.parametrize("coder, hexdata, fragment", DECODE_ERRORS, ids=lambda x: repr(x)[:40])
def test_malformed_bytes_raise_decode_error(coder, hexdata, fragment):
    with pytest.raises(coders.DecodeError) as info:
        coder.decode(bytes.fromhex(hexdata))
    assert fragment in str(info.value), str(info.value)


def test_generator_errors_carry_the_index():
    with pytest.raises(coders.EncodeError, match=r"at value\[1\]"):
        IterableCoder(I).encode(iter([1, "x"]))


def test_hostile_zero_width_blocks_are_bounded_across_blocks():
    block = bytes.fromhex("feff3f")  # varint 1048574
    data = bytes.fromhex("ffffffff") + block * 3 + b"\x00"
    with pytest.raises(coders.DecodeError, match="over the limit"):
        ListCoder(NoneCoder()).decode(data)


def test_zero_width_lists_up_to_the_limit_decode():
    assert ListCoder(NoneCoder()).decode(ListCoder(NoneCoder()).encode([None] * 1000)) == [None] * 1000


# ---- determinism ------------------------------------------------------------------------------


def test_verify_deterministic_points_at_the_map_and_its_float_values():
    coder = TupleCoder(I, MapCoder(S, F))
    with pytest.raises(coders.NonDeterministicCoderError) as info:
        coder.verify_deterministic()
    paths = [issue.path for issue in info.value.issues]
    assert paths == ["TupleCoder[1]", "TupleCoder[1].value"]
    message = str(info.value)
    assert "TupleCoder[1] -> MapCoder" in message and "deterministic=True" in message
    assert "TupleCoder[1].value -> FloatCoder" in message and "CanonicalFloatCoder" in message


def test_as_deterministic_coder_rebuilds_from_components():
    coder = TupleCoder(I, MapCoder(S, F), ListCoder(F), SetCoder(S), NullableCoder(F))
    det = coder.as_deterministic_coder()
    assert det == TupleCoder(
        I,
        MapCoder(S, CanonicalFloatCoder(), deterministic=True),
        ListCoder(CanonicalFloatCoder()),
        SetCoder(S, deterministic=True),
        NullableCoder(CanonicalFloatCoder()),
    )
    assert det.is_deterministic()
    assert TupleCoder(I, S).as_deterministic_coder() == TupleCoder(I, S)


class _NeverDeterministic(coders.Coder):
    """A component with no deterministic variant (stands in for a pickle coder)."""

    def encode_to(self, value, out, nested):
        out += b"?"

    def decode_from(self, data, pos, nested):
        return None, pos + 1

    def own_determinism_issues(self):
        return [("pickled bytes vary", "register a real coder")]


def test_as_deterministic_coder_names_the_component_that_cannot_be():
    coder = TupleCoder(I, ListCoder(_NeverDeterministic()), MapCoder(S, F))
    with pytest.raises(coders.NonDeterministicCoderError) as info:
        coder.as_deterministic_coder()
    assert [i.path for i in info.value.issues] == ["TupleCoder[1].element"]
    assert "pickled bytes vary" in str(info.value)


def test_iterable_of_non_deterministic_element_is_non_deterministic_through_the_path():
    (issue,) = IterableCoder(F).determinism_issues()
    assert issue.path == "IterableCoder.element"
    (issue,) = SetCoder(S, deterministic=True).determinism_issues() or [None]
    assert issue is None
    (issue,) = SetCoder(S).determinism_issues()
    assert issue.path == "SetCoder" and "hash" in issue.reason


@given(st.dictionaries(st.text(max_size=5), st.integers(-(2**63), 2**63 - 1), max_size=8))
@settings(max_examples=60)
def test_deterministic_map_bytes_do_not_depend_on_insertion_order(d):
    coder = MapCoder(S, I, deterministic=True)
    reordered = dict(reversed(list(d.items())))
    assert coder.encode(d) == coder.encode(reordered)
    assert coder.decode(coder.encode(d)) == d


@given(st.frozensets(st.text(max_size=4), max_size=8))
@settings(max_examples=60)
def test_deterministic_set_round_trip(s):
    coder = SetCoder(S, frozen=True, deterministic=True)
    assert coder.decode(coder.encode(s)) == s
    assert coder.encode(s) == coder.encode(frozenset(sorted(s, reverse=True)))


# ---- hints, structure, pickling -----------------------------------------------------------------


def test_type_hints():
    assert TupleCoder(I, S).to_type_hint() == typing.Tuple[int, str]
    assert TupleCoder().to_type_hint() == typing.Tuple[()]
    assert ListCoder(I).to_type_hint() == typing.List[int]
    assert IterableCoder(S).to_type_hint() == typing.Iterable[str]
    assert TupleSequenceCoder(I).to_type_hint() == typing.Tuple[int, ...]
    assert MapCoder(S, ListCoder(F)).to_type_hint() == typing.Dict[str, typing.List[float]]
    assert SetCoder(I).to_type_hint() == typing.Set[int]
    assert SetCoder(I, frozen=True).to_type_hint() == typing.FrozenSet[int]
    assert NullableCoder(TupleCoder(I, BooleanCoder())).to_type_hint() == typing.Optional[typing.Tuple[int, bool]]


def test_repr_shows_the_tree():
    assert repr(TupleCoder(I, S)) == "TupleCoder[VarIntCoder, StrUtf8Coder]"
    assert (
        repr(MapCoder(S, ListCoder(I), deterministic=True))
        == "MapCoder[StrUtf8Coder, ListCoder[VarIntCoder], deterministic=True]"
    )
    assert repr(SetCoder(S, frozen=True)) == "SetCoder[StrUtf8Coder, frozen=True]"
    assert TupleCoder(I, S) == TupleCoder([I, S])
    assert MapCoder(S, I) != MapCoder(S, I, deterministic=True)
    with pytest.raises(TypeError, match="takes coders.Coder components"):
        TupleCoder(I, int)


def test_estimate_size_is_cheap_for_fixed_width_elements():
    assert ListCoder(F).estimate_size([1.0] * 1000) == 4 + 8000
    assert MapCoder(BooleanCoder(), F).estimate_size({True: 1.0}) == 13
    assert IterableCoder(I).estimate_size(iter([1, 2])) == 4  # a one-shot iterable is not consumed


ALL = [
    TupleCoder(I, S),
    TupleCoder(),
    ListCoder(F),
    IterableCoder(S),
    TupleSequenceCoder(I),
    MapCoder(S, I),
    MapCoder(S, I, deterministic=True),
    SetCoder(S),
    SetCoder(I, frozen=True, deterministic=True),
    TupleCoder(I, MapCoder(S, NullableCoder(ListCoder(F)))),
]


@pytest.mark.parametrize(
    "dumps, loads",
    [(pickle.dumps, pickle.loads), (cloudpickle.dumps, cloudpickle.loads), (dill.dumps, dill.loads)],
    ids=["pickle", "cloudpickle", "dill"],
)
@pytest.mark.parametrize("coder", ALL, ids=repr)
def test_every_coder_pickles_even_after_use(coder, dumps, loads):
    sample = {
        TupleCoder: None,
        ListCoder: [1.0],
        IterableCoder: ["a"],
        TupleSequenceCoder: (1,),
        MapCoder: {"a": 1},
        SetCoder: None,
    }.get(type(coder))
    if sample is not None:
        coder.decode(coder.encode(sample))  # builds any cached generated codec
    back = loads(dumps(coder))
    assert back == coder and type(back) is type(coder)
    if sample is not None:
        assert back.encode(sample) == coder.encode(sample)
