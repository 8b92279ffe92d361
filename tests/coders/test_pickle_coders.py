"""PickleCoder (dill) and CloudpickleCoder: framing, round trips, errors, non-determinism, Beam interop."""

from __future__ import annotations

import collections
import dataclasses
import datetime
import decimal
import pickle

import cloudpickle
import dill
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coders import CloudpickleCoder, DecodeError, EncodeError, NonDeterministicCoderError, PickleCoder
from coders.pickle import PICKLE_NOT_DETERMINISTIC, PICKLE_PROTOCOL

CODERS = [PickleCoder(), CloudpickleCoder()]
ids = lambda c: type(c).__name__  # noqa: E731


@dataclasses.dataclass
class Thing:
    name: str
    sizes: list


VALUES = [
    None,
    0,
    -(2**70),
    1.5,
    float("-inf"),
    "text ü",
    b"\x00\xff",
    [1, [2, 3]],
    (1, "a"),
    {"k": {1, 2}},
    frozenset({1}),
    Thing("t", [1, 2]),
    datetime.date(2024, 1, 2),
    decimal.Decimal("1.10"),
    collections.OrderedDict(a=1),
    b"x" * 300,
]


@pytest.mark.parametrize("coder", CODERS, ids=ids)
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_roundtrip_both_contexts(coder, value):
    outer, nested = coder.encode(value), coder.encode_nested(value)
    assert coder.decode(outer) == value and type(coder.decode(outer)) is type(value)
    assert coder.decode_nested(nested) == value
    assert coder.estimate_size(value) == len(outer)
    assert coder.estimate_size(value, nested=True) == len(nested)


@pytest.mark.parametrize("coder", CODERS, ids=ids)
def test_exact_bytes_outer_is_the_pickle_nested_is_varint_length_prefixed(coder):
    # PROTO 5, NONE, STOP
    assert coder.encode(None).hex(" ") == "80 05 4e 2e"
    assert coder.encode_nested(None).hex(" ") == "04 80 05 4e 2e"
    big = coder.encode(b"x" * 300)
    nested = coder.encode_nested(b"x" * 300)
    assert len(big) > 127 and nested[:2] == bytes([(len(big) & 0x7F) | 0x80, len(big) >> 7])
    assert nested[2:] == big
    assert big[:2] == bytes([0x80, PICKLE_PROTOCOL])


def test_pickle_coder_is_dill_and_cloudpickle_coder_is_cloudpickle():
    value = {"a": [1, 2]}
    assert PickleCoder().encode(value) == dill.dumps(value, protocol=5)
    assert CloudpickleCoder().encode(value) == cloudpickle.dumps(value, protocol=5)


@pytest.mark.parametrize("coder", CODERS, ids=ids)
def test_functions_and_lambdas(coder):
    offset = 10
    fn = coder.decode(coder.encode(lambda x: x + offset))
    assert fn(1) == 11


@pytest.mark.parametrize("coder", CODERS, ids=ids)
def test_interop_with_beam_pickle_framing(coder):
    from apache_beam import coders as beam_coders

    beam = beam_coders.PickleCoder()
    value = {"a": (1, 2.5)}
    assert coder.decode(beam.encode(value)) == value
    assert coder.decode_nested(beam.get_impl().encode_nested(value)) == value
    assert beam.get_impl().decode_nested(coder.encode_nested(value)) == value


@pytest.mark.parametrize("coder", CODERS, ids=ids)
def test_unpicklable_value_is_encode_error_with_fix(coder):
    with pytest.raises(EncodeError) as info:
        coder.encode({"items": (x for x in range(3))})
    message = str(info.value)
    assert "generator" in message and "Fix:" in message and type(coder).__name__ in message
    with pytest.raises(EncodeError):
        coder.encode_nested(x for x in range(3))


@pytest.mark.parametrize("coder", CODERS, ids=ids)
@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"garbage",
        b"\x80\x05K",
        b"\x80\x05\x95\xff\xff\xff\xff\xff\xff\xff\x7f",
        b"\x80\x05cno_such_module_xyz\nthing\n.",
        b"\x80\x05]\x94(K\x01e",
    ],
)
def test_garbage_is_decode_error(coder, data):
    with pytest.raises(DecodeError) as info:
        coder.decode(data)
    assert "could not unpickle" in str(info.value) and info.value.offset == 0


@pytest.mark.parametrize("coder", CODERS, ids=ids)
def test_bytes_after_the_pickle_are_a_decode_error_not_silently_ignored(coder):
    # pickle.loads stops at the STOP opcode and ignores the rest; a coder must not
    data = coder.encode([1, 2])
    with pytest.raises(DecodeError, match=r"^3 unexpected byte\(s\) after the end of the .* pickle") as info:
        coder.decode(data + b"xyz")
    assert info.value.offset == len(data)
    big = coder.encode(list(range(50_000)))  # several frames: the checked path
    assert coder.decode(big) == list(range(50_000))
    with pytest.raises(DecodeError, match="^1 unexpected byte"):
        coder.decode(big + b".")
    nested = coder.encode_nested([1, 2])  # one length byte, then the pickle
    longer = bytes([nested[0] + 2]) + nested[1:] + b"zz"
    with pytest.raises(DecodeError, match="after the end of the") as info:
        coder.decode_nested(longer)
    assert info.value.offset == len(nested)


@pytest.mark.parametrize("coder", CODERS, ids=ids)
def test_nested_length_errors(coder):
    with pytest.raises(DecodeError, match="only 2 remain"):
        coder.decode_nested(b"\x05\x80\x05")
    with pytest.raises(DecodeError, match="truncated"):
        coder.decode_nested(b"\x85")


@pytest.mark.parametrize("coder", CODERS, ids=ids)
def test_never_deterministic_with_reason_and_fix(coder):
    assert not coder.is_deterministic()
    (issue,) = coder.determinism_issues()
    assert issue.reason == PICKLE_NOT_DETERMINISTIC
    for word in ("memo", "iteration order", "by value", "protocol"):
        assert word in issue.reason
    with pytest.raises(NonDeterministicCoderError) as info:
        coder.as_deterministic_coder(context="key of GroupByKey 'Count'")
    message = str(info.value)
    assert "key of GroupByKey 'Count'" in message and "register" in message and "dataclass" in message


def test_equal_values_can_pickle_to_different_bytes():
    # the reason the coders are not deterministic, demonstrated: sharing changes the bytes
    shared = [1, 2]
    a = [shared, shared]
    b = [[1, 2], [1, 2]]
    assert a == b
    for coder in CODERS:
        assert coder.encode(a) != coder.encode(b)


def test_equal_sets_can_pickle_to_different_bytes():
    # the other reason, iteration order: 1 and 9 share a slot in a small set's table, so the one added first
    # is iterated first and pickled first
    a, b = {1, 9}, {9, 1}
    assert a == b and list(a) == [1, 9] and list(b) == [9, 1]
    for coder in CODERS:
        assert coder.encode(a) != coder.encode(b)
        assert coder.decode(coder.encode(b)) == a


@pytest.mark.parametrize("coder", CODERS, ids=ids)
@pytest.mark.parametrize("pickler", [pickle, cloudpickle, dill], ids=lambda m: m.__name__)
def test_coders_pickle(coder, pickler):
    restored = pickler.loads(pickler.dumps(coder))
    assert restored == coder and hash(restored) == hash(coder)
    assert restored.decode(coder.encode([1, "a"])) == [1, "a"]


def test_protocol_and_repr():
    assert repr(PickleCoder()) == "PickleCoder" and repr(CloudpickleCoder()) == "CloudpickleCoder"
    assert PickleCoder() != CloudpickleCoder()
    assert pickle.HIGHEST_PROTOCOL >= PICKLE_PROTOCOL == 5


def test_docstrings_warn_about_untrusted_data():
    import coders.pickle as module

    assert "arbitrary code" in module.__doc__ and "never bytes from users" in module.__doc__
    for cls in (PickleCoder, CloudpickleCoder):
        assert "arbitrary code" in cls.__doc__


json_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=5)
    | st.binary(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3) | st.tuples(inner, inner)
    ),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None)
@given(json_like)
def test_property_roundtrip(value):
    for coder in CODERS:
        assert coder.decode(coder.encode(value)) == value
        assert coder.decode_nested(coder.encode_nested(value)) == value


def test_importing_the_module_does_not_import_the_picklers():
    import subprocess
    import sys

    code = "import sys, coders.pickle; print('dill' in sys.modules, 'cloudpickle' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
