"""AnyCoder: exact type-tagged round trips, Beam's FastPrimitivesCoder bytes, and the deterministic variant."""

from __future__ import annotations

import enum
import math
import pickle
from collections import OrderedDict
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coders import DecodeError, EncodeError, NonDeterministicCoderError
from coders import testing as kit
from coders.dynamic import AnyCoder


class Shade(enum.IntEnum):
    LIGHT = 1


def same(a, b) -> bool:
    """Equal and of the same type at every level (1 vs 1.0 vs True are different here); NaN equals NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


# ---- the tag table, as data: (value, outer bytes) ------------------------------------------

TAGGED = [
    (None, "00"),
    (0, "01 00"),
    (1, "01 01"),
    (-1, "01 ff ff ff ff ff ff ff ff ff 01"),
    (2**63 - 1, "01 ff ff ff ff ff ff ff ff 7f"),
    (2**63, "14 09 00 80 00 00 00 00 00 00 00"),
    (-(2**63) - 1, "14 09 ff 7f ff ff ff ff ff ff ff"),
    (-(2**71), "14 09 80 00 00 00 00 00 00 00 00"),
    (2**71 - 1, "14 09 7f ff ff ff ff ff ff ff ff"),
    (2**71, "14 0a 00 80 00 00 00 00 00 00 00 00"),
    (1.0, "02 3f f0 00 00 00 00 00 00"),
    (-0.0, "02 80 00 00 00 00 00 00 00"),
    (True, "09 01"),
    (False, "09 00"),
    (b"ab", "03 61 62"),
    ("hé", "04 68 c3 a9"),
    ([1, "a"], "05 02 01 01 04 01 61"),
    ((1,), "06 01 01 01"),
    ({1: b""}, "07 01 01 01 03 00"),
    ({7}, "08 01 01 07"),
    (frozenset({7}), "15 01 01 07"),
]


@pytest.mark.parametrize("value, hexbytes", TAGGED, ids=[repr(v) for v, _ in TAGGED])
def test_tag_table_bytes_and_exact_round_trip(value, hexbytes):
    coder = AnyCoder()
    assert coder.encode(value).hex(" ") == hexbytes
    assert same(coder.decode(coder.encode(value)), value)
    assert same(coder.decode_nested(coder.encode_nested(value)), value)


def test_one_one_point_oh_and_true_keep_their_types():
    coder = AnyCoder()
    decoded = coder.decode(coder.encode([1, 1.0, True, (1, 1.0, True)]))
    assert [type(x) for x in decoded[:3]] == [int, float, bool]
    assert [type(x) for x in decoded[3]] == [int, float, bool]


def test_nested_context_length_prefixes_bytes_and_str():
    assert AnyCoder().encode_nested(b"ab").hex(" ") == "03 02 61 62"
    assert AnyCoder().encode_nested("ab").hex(" ") == "04 02 61 62"


# ---- differential against Beam's FastPrimitivesCoder ---------------------------------------

beam_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.binary(max_size=8)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=4).map(tuple)
        | st.dictionaries(st.integers(-5, 5) | st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(beam_values)
def test_bytes_equal_beams_fast_primitives_coder_in_both_contexts(value):
    from apache_beam.coders import FastPrimitivesCoder

    beam = FastPrimitivesCoder()
    assert AnyCoder().encode(value) == beam.encode(value)
    assert AnyCoder().encode_nested(value) == beam.get_impl().encode_nested(value)
    assert same(beam.decode(AnyCoder().encode(value)), value)


exact_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.binary(max_size=8) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=4).map(tuple)
        | st.dictionaries(st.integers() | st.text(max_size=3), inner, max_size=3)
        | st.frozensets(st.integers() | st.text(max_size=3), max_size=3)
        | st.sets(st.integers(), max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(exact_values)
def test_exact_round_trip_with_types_in_both_contexts(value):
    coder = AnyCoder()
    assert same(coder.decode(coder.encode(value)), value)
    assert same(coder.decode_nested(coder.encode_nested(value)), value)
    det = coder.as_deterministic_coder()
    data = det.encode(value)
    back = det.decode(data)
    assert det.encode(back) == data  # stable: the canonical form re-encodes to the same bytes
    assert same(coder.decode(coder.encode(back)), back)
    assert _types(back) == _types(value)


def _types(v):
    if isinstance(v, (list, tuple)):
        return (type(v), [_types(x) for x in v])
    if isinstance(v, dict):
        return (dict, sorted((repr(k), _types(x)) for k, x in v.items()))
    return type(v)


def test_other_types_go_through_the_pickle_fallback_and_keep_their_type():
    coder = AnyCoder()
    for value in [Decimal("1.5"), Shade.LIGHT, OrderedDict(a=1), 3 + 4j]:
        data = coder.encode(value)
        assert data[0] == 0xFF
        back = coder.decode(data)
        assert back == value and type(back) is type(value)
        assert coder.decode_nested(coder.encode_nested(value)) == value


# ---- determinism -----------------------------------------------------------------------------


def test_any_coder_is_not_deterministic_and_says_why():
    coder = AnyCoder()
    assert not coder.is_deterministic()
    with pytest.raises(NonDeterministicCoderError, match="iteration order.*pickled"):
        coder.verify_deterministic()
    det = coder.as_deterministic_coder()
    assert det == AnyCoder(deterministic=True) and repr(det) == "AnyCoder[deterministic]"
    assert det.is_deterministic() and det.as_deterministic_coder() is det
    assert AnyCoder() != det and hash(AnyCoder()) == hash(AnyCoder())


def test_deterministic_variant_orders_dicts_and_sets_by_encoded_bytes():
    det = AnyCoder(deterministic=True)
    a = {"b": 1, "a": 2, 3: None}
    b = {3: None, "a": 2, "b": 1}
    assert det.encode(a) == det.encode(b)
    assert AnyCoder().encode(a) != AnyCoder().encode(b)
    assert det.encode({"x", "y", "z"}) == det.encode({"z", "y", "x"})
    assert det.encode(frozenset({1, 2, 3})) == det.encode(frozenset({3, 2, 1}))
    # tag byte, count, then each element nested in byte order: 01 01 < 01 02 < 01 03
    assert det.encode({3, 1, 2}).hex(" ") == "08 03 01 01 01 02 01 03"


def test_deterministic_variant_canonicalises_zero_and_nan():
    det = AnyCoder(deterministic=True)
    assert det.encode(-0.0) == det.encode(0.0) == bytes.fromhex("02" + "00" * 8)
    quiet = float("nan")
    other_payload = __import__("struct").unpack(">d", bytes.fromhex("7ff0000000000001"))[0]
    assert det.encode(quiet) == det.encode(other_payload) == bytes.fromhex("02 7ff8000000000000")


def test_deterministic_variant_refuses_pickled_values_naming_type_path_and_fix():
    det = AnyCoder(deterministic=True)
    with pytest.raises(EncodeError) as info:
        det.encode({"k": [1, Decimal("2")]})
    err = info.value
    assert err.path == ("['k']", "[1]")
    text = str(err)
    assert "at value['k'][1]" in text
    assert "`decimal.Decimal`" in text and "pickled" in text
    assert "Fix:" in text and "register_coder(Decimal, coder)" in text
    with pytest.raises(EncodeError, match=r"<element .*`.*Shade`"):
        det.encode(frozenset({Shade.LIGHT}))
    with pytest.raises(EncodeError, match=r"at value<key <Shade.LIGHT: 1>>: "):
        det.encode({Shade.LIGHT: 1})


def test_unencodable_str_is_an_encode_error():
    with pytest.raises(EncodeError, match="UTF-8.*Fix: remove the unpaired surrogate"):
        AnyCoder().encode(["ok", "\ud800"])


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "expected an AnyCoder type tag"),
        (b"\x42", "unknown AnyCoder type tag 0x42"),
        (b"\x02\x00", "float: need 8 bytes"),
        (b"\x09\x02", "bool byte must be 0x00 or 0x01"),
        (b"\x05\xff\xff\xff\xff\x0f", "element count .* is impossible"),
        (b"\x05\x02\x01\x01", "expected an AnyCoder type tag"),
        (b"\x05\x01\x01", "expected a varint, found end of data"),
        (b"\x04\xff", "invalid UTF-8"),
        (b"\x07\x01\x05\x00\x00", "not hashable"),
    ],
)
def test_malformed_bytes_raise_decode_error(data, message):
    with pytest.raises(DecodeError, match=message):
        AnyCoder().decode(data)


def test_any_coder_pickles_and_keeps_its_variant():
    for coder, value in ((AnyCoder(), {1: Decimal("3")}), (AnyCoder(deterministic=True), {1: 2})):
        back = pickle.loads(pickle.dumps(coder))
        assert back == coder and back.deterministic is coder.deterministic
        assert back.encode(value) == coder.encode(value)
        assert same(back.decode(back.encode(value)), value)
    # the restored deterministic variant still refuses a value it could only pickle
    with pytest.raises(EncodeError, match=r"AnyCoder\(deterministic=True\) cannot encode a `decimal.Decimal`"):
        pickle.loads(pickle.dumps(AnyCoder(deterministic=True))).encode({1: Decimal("3")})


def test_hostile_nesting_is_a_decode_error_and_a_cycle_an_encode_error():
    with pytest.raises(DecodeError, match=r"nested too deeply to decode.*sys.setrecursionlimit"):
        AnyCoder().decode(b"\x05\x01" * 50_000 + b"\x00")
    cyclic = [1]
    cyclic.append(cyclic)
    with pytest.raises(EncodeError, match="or contains itself.*Fix: break any cycle"):
        AnyCoder().encode(cyclic)


@pytest.mark.parametrize("value", [v for v, _ in TAGGED], ids=[repr(v) for v, _ in TAGGED])
def test_the_coder_kit_round_trip_holds_for_every_tag(value):
    # both contexts, decoding from bytes, bytearray and memoryview, decode_nested_at, size estimate
    kit.assert_roundtrip(AnyCoder(), value)
    is_negative_zero = isinstance(value, float) and math.copysign(1.0, value) < 0 and value == 0.0
    if not is_negative_zero:  # the deterministic variant writes -0.0 as 0.0 (tested above)
        kit.assert_roundtrip(AnyCoder(deterministic=True), value)


def test_the_coder_kit_sees_the_deterministic_variant_as_deterministic_and_matches_beam():
    from apache_beam.coders import FastPrimitivesCoder

    kit.assert_deterministic(AnyCoder(deterministic=True), {"b": 1, "a": {2, 3}}, frozenset({"x", "y"}))
    kit.assert_non_deterministic(AnyCoder(), reason_contains="iteration order")
    kit.assert_matches_beam(
        AnyCoder(), FastPrimitivesCoder(), 1, "s", b"b", 2.5, None, True, [1, (2, "x")], {"k": [None]}
    )
    kit.assert_picklable(AnyCoder(), 1, {"k": (1.5, None)})


@settings(max_examples=300, deadline=None)
@given(exact_values, st.data())
def test_mutated_or_truncated_bytes_decode_or_raise_decode_error_only(value, data):
    coder = AnyCoder()
    nested = data.draw(st.booleans())
    encoded = bytearray(coder.encode_nested(value) if nested else coder.encode(value))
    if encoded:
        cut = data.draw(st.integers(0, len(encoded)))
        flips = data.draw(st.lists(st.tuples(st.integers(0, len(encoded) - 1), st.integers(0, 0xFE)), max_size=3))
        for at, byte in flips:
            encoded[at] = byte  # never 0xFF: that tag hands the rest to pickle, which is not for hostile bytes
        encoded = encoded[:cut] if data.draw(st.booleans()) else encoded
    try:
        (coder.decode_nested if nested else coder.decode)(bytes(encoded))
    except DecodeError:
        pass
