"""The accelerated path's contract (coders.accel.codec and coders.accel.spec), on whichever path is in use.

test_speedups.py compares the C codecs with the reference value by value; this module checks
what holds on both paths: which roots get a codec, how the public methods are bound, that a
coder pickles without its codec, that deep trees and inexact types take the reference path,
and that the spec comes from each coder's own ``accel_node`` declaration.
"""

from __future__ import annotations

import collections
import dataclasses
import decimal
import pickle
from typing import Optional

import cloudpickle
import dill
import pytest

import coders
from coders import accel
from coders.accel.codec import codec_for
from coders.accel.spec import spec_of
from coders.base import Coder
from coders.collections import IterableCoder, ListCoder, MapCoder, SetCoder, TupleCoder
from coders.primitives import DecimalCoder, FloatCoder, NoneCoder, StrUtf8Coder, VarIntCoder
from coders.records import RecordCoder

I, S, F = VarIntCoder(), StrUtf8Coder(), FloatCoder()


@dataclasses.dataclass
class Node:
    label: str
    next: Optional[Node] = None


def node_coder() -> RecordCoder:
    coder = RecordCoder.deferred(Node)
    return coder.set_fields([("label", S), ("next", coders.NullableCoder(coder))])


def test_the_spec_is_built_from_each_coders_declaration():
    assert spec_of(TupleCoder(I, S, F)) == ("tuple", (("varint",), ("str",), ("float",)))
    assert spec_of(ListCoder(I)) == ("list", ("varint",), 1)
    assert spec_of(MapCoder(S, F)) == ("map", ("str",), ("float",), 9)
    generic = spec_of(TupleCoder(DecimalCoder()))[1][0]
    assert generic[0] == "generic" and generic[3].__self__ == DecimalCoder()


def test_a_recursive_record_is_a_ref_to_its_own_node():
    spec = spec_of(node_coder())
    kind, cls, names, _build, is_tuple, fields = spec
    assert (kind, cls, names, is_tuple) == ("record", Node, ("label", "next"), False)
    assert fields == (("str",), ("nullable", ("ref", 0)))


def test_a_users_coder_is_a_generic_call():
    class Upper(Coder):
        def encode_to(self, value, out, nested):
            S.encode_to(value.upper(), out, nested)

        def decode_from(self, data, pos, nested):
            return S.decode_from(data, pos, nested)

    coder = TupleCoder(I, Upper())
    assert spec_of(coder)[1][1][0] == "generic"
    assert coder.encode((1, "ab")) == b"\x01AB"
    assert coder.decode(b"\x01AB") == (1, "AB")


def test_roots_without_components_or_with_their_own_order_get_no_codec():
    assert codec_for(I) is None
    assert codec_for(MapCoder(S, I, deterministic=True)) is None
    assert codec_for(SetCoder(I)) is None


def test_public_methods_are_bound_on_first_use():
    coder = TupleCoder(I, S)
    assert "encode" not in coder.__dict__
    assert coder.encode((1, "a")) == b"\x01a"
    bound = coder.__dict__["encode"]
    if accel.ENABLED:
        assert isinstance(bound.__self__, accel.Codec)
    else:
        assert bound.__func__ is Coder.encode and bound.__self__ is coder


@pytest.mark.parametrize(
    "dumps, loads",
    [(pickle.dumps, pickle.loads), (cloudpickle.dumps, cloudpickle.loads), (dill.dumps, dill.loads)],
    ids=["pickle", "cloudpickle", "dill"],
)
def test_coders_with_bound_methods_pickle_without_them(dumps, loads):
    coder = TupleCoder(I, MapCoder(S, ListCoder(F)))
    value = (1, {"a": [1.5]})
    data = coder.encode(value)
    assert "encode" in coder.__dict__
    back = loads(dumps(coder))
    assert "encode" not in back.__dict__ and back == coder
    assert back.decode(data) == value and back.encode(value) == data
    record = node_coder()
    record.encode(Node("a"))
    assert "encode" not in loads(dumps(record)).__dict__


def test_inexact_types_take_the_reference_path_and_still_encode():
    class MyStr(str):
        pass

    # a str subclass needs the lenient StrUtf8Coder (what the registry builds for str); the plain one is exact
    coder = TupleCoder(StrUtf8Coder(lenient=True), ListCoder(I), IterableCoder(I), MapCoder(S, I))
    value = (MyStr("a"), [1], (x for x in [2, 3]), collections.OrderedDict(a=1))
    expected = Coder.encode(coder, (MyStr("a"), [1], (x for x in [2, 3]), collections.OrderedDict(a=1)))
    assert coder.encode(value) == expected
    back = coder.decode(expected)
    assert back == ("a", [1], [2, 3], {"a": 1}) and type(back[0]) is str
    plain = TupleCoder(S, ListCoder(I), IterableCoder(I), MapCoder(S, I))
    with pytest.raises(coders.EncodeError, match=r"at value\[0\]: StrUtf8Coder expected str .*got MyStr 'a'"):
        plain.encode((MyStr("a"), [1], [2, 3], {"a": 1}))


def test_decode_of_bytearray_and_memoryview_and_beams_unknown_length_form():
    coder = TupleCoder(I, IterableCoder(S))
    data = bytes.fromhex("05" + "ffffffff" + "02" + "0161" + "0162" + "00")
    assert coder.decode(data) == (5, ["a", "b"])
    assert coder.decode(bytearray(data)) == (5, ["a", "b"])
    assert coder.decode(memoryview(data)) == (5, ["a", "b"])
    with pytest.raises(TypeError, match="takes bytes"):
        coder.decode("05")


def test_hostile_counts_fail_fast():
    for coder in (
        ListCoder(I),
        ListCoder(NoneCoder()),
        MapCoder(S, NoneCoder()),
        TupleCoder(I, ListCoder(TupleCoder())),
    ):
        data = (b"\x01" if isinstance(coder, TupleCoder) else b"") + bytes.fromhex("7fffffff")
        with pytest.raises(coders.DecodeError, match="remain|limit"):
            coder.decode(data)


def test_trees_deeper_than_the_extension_takes_use_the_reference():
    coder = I
    for _ in range(250):
        coder = ListCoder(coder)
    assert codec_for(coder) is None
    value = 7
    for _ in range(250):
        value = [value]
    assert coder.decode(coder.encode(value)) == value


def test_decimal_in_a_tree_goes_through_its_own_coder():
    coder = TupleCoder(I, DecimalCoder())
    value = (1, decimal.Decimal("1." + "3" * 40))
    assert coder.decode(coder.encode(value)) == value
