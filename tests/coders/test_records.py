"""EnumCoder, RecordCoder and UnionCoder: exact bytes, round trips, errors, determinism, recursion, pickling."""

from __future__ import annotations

import collections
import dataclasses
import enum
import linecache
import pickle
import typing
from typing import NamedTuple, Optional

import cloudpickle
import dill
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coders import (
    BooleanCoder,
    DecodeError,
    EncodeError,
    EnumCoder,
    FloatCoder,
    ListCoder,
    NonDeterministicCoderError,
    NoneCoder,
    NullableCoder,
    PickleCoder,
    RecordCoder,
    SetCoder,
    StrUtf8Coder,
    UnionCoder,
    VarIntCoder,
)

# ------------------------------------------------------------------------------- test types


class Color(enum.Enum):
    RED = 1
    GREEN = 2
    BLUE = 3


class ColorReordered(enum.Enum):  # the same names, another order and other values
    BLUE = 10
    GREEN = 20
    RED = 30


class Renamed(enum.Enum):
    CRIMSON = 1
    RED = 1  # noqa: PIE796 -- alias kept after a rename: old data still decodes


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class OtherLevel(enum.IntEnum):
    LOW = 1


class Perm(enum.Flag):
    R = 4
    W = 2
    X = 1


class Bits(enum.IntFlag):
    A = 1
    B = 2


class Point(NamedTuple):
    x: int
    y: int


PairNT = collections.namedtuple("PairNT", ["name", "count"])


@dataclasses.dataclass(frozen=True)
class Order:
    id: int
    tags: frozenset


@dataclasses.dataclass
class Customer:
    name: str
    email: Optional[str] = None
    orders: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Derived:
    """``total`` is init=False and computed in __post_init__, which also counts constructions."""

    a: int
    b: int
    total: int = dataclasses.field(init=False)
    constructed: typing.ClassVar[int] = 0

    def __post_init__(self):
        Derived.constructed += 1
        self.total = self.a + self.b


@dataclasses.dataclass(frozen=True)
class Normalising:
    """__post_init__ would alter a stored value: decoding must not run it."""

    name: str

    def __post_init__(self):
        object.__setattr__(self, "name", self.name.upper() + "!")


@dataclasses.dataclass(slots=True)
class Slotted:
    a: int
    b: str


@dataclasses.dataclass
class Node:
    value: int
    children: list


@dataclasses.dataclass
class TaggedNode:
    tags: set
    children: list


@dataclasses.dataclass
class Empty:
    pass


@dataclasses.dataclass(frozen=True)
class SubOrder(Order):
    pass


@dataclasses.dataclass
class WithBlob:
    id: int
    blob: object


class Greeting(enum.Enum):
    CAFÉ = 1  # a two-byte UTF-8 letter: a cut can fall inside it


@dataclasses.dataclass
class Paint:
    """Its last field is an Enum, so in the outer context the member name runs to the end of the data."""

    name: str
    color: Color


def order_coder():
    return RecordCoder(Order, [("id", VarIntCoder()), ("tags", SetCoder(StrUtf8Coder(), frozen=True))])


def node_coder():
    node = RecordCoder.deferred(Node)
    return node.set_fields([("value", VarIntCoder()), ("children", ListCoder(node))])


def tagged_node_coder():
    node = RecordCoder.deferred(TaggedNode)
    return node.set_fields([("tags", SetCoder(StrUtf8Coder())), ("children", ListCoder(node))])


def customer_coder():
    return RecordCoder(
        Customer,
        [
            ("name", StrUtf8Coder()),
            ("email", NullableCoder(StrUtf8Coder())),
            ("orders", ListCoder(order_coder())),
        ],
    )


def plain(method, coder, arg):
    """The reference path: the readable encode_to/decode_from, bypassing the C codec of the public methods."""
    nested = method.endswith("nested")
    if method.startswith("encode"):
        out = bytearray()
        type(coder).encode_to(coder, arg, out, nested)
        return bytes(out)
    value, pos = type(coder).decode_from(coder, arg, 0, nested)
    assert pos == len(arg)
    return value


def check_roundtrip(coder, value, outer_hex=None, nested_hex=None):
    outer, nested = coder.encode(value), coder.encode_nested(value)
    assert outer == plain("encode", coder, value)
    assert nested == plain("encode_nested", coder, value)
    if outer_hex is not None:
        assert outer.hex(" ") == outer_hex
    if nested_hex is not None:
        assert nested.hex(" ") == nested_hex
    for decoded in (
        coder.decode(outer),
        coder.decode_nested(nested),
        plain("decode", coder, outer),
        plain("decode_nested", coder, nested),
    ):
        assert decoded == value and type(decoded) is type(value)
    assert coder.estimate_size(value) == len(outer)
    assert coder.estimate_size(value, nested=True) == len(nested)
    # nested bytes are self-delimiting: a value decodes from the front of a longer buffer
    assert coder.decode_nested_at(nested + b"\xff\xff", 0) == (value, len(nested))
    return outer, nested


def all_picklers():
    return [pickle, cloudpickle, dill]


# ====================================================================================== enums

ENUM_CASES = [
    # coder, value, outer hex, nested hex
    (EnumCoder(Color), Color.RED, "52 45 44", "03 52 45 44"),
    (EnumCoder(Color), Color.GREEN, "47 52 45 45 4e", "05 47 52 45 45 4e"),
    (EnumCoder(Level), Level.HIGH, "48 49 47 48", "04 48 49 47 48"),
    (EnumCoder(Perm), Perm.R, "52", "01 52"),
    (EnumCoder(Perm), Perm.R | Perm.X, "52 7c 58", "03 52 7c 58"),
    (EnumCoder(Perm), Perm(0), "", "00"),
    (EnumCoder(Bits), Bits.A | Bits.B, "41 7c 42", "03 41 7c 42"),
]


@pytest.mark.parametrize("coder,value,outer_hex,nested_hex", ENUM_CASES)
def test_enum_exact_bytes_and_roundtrip(coder, value, outer_hex, nested_hex):
    check_roundtrip(coder, value, outer_hex, nested_hex)
    assert coder.decode(coder.encode(value)) is value or isinstance(value, enum.Flag)


def test_enum_bytes_equal_str_coder_of_the_name():
    for member in Color:
        assert EnumCoder(Color).encode(member) == StrUtf8Coder().encode(member.name)
        assert EnumCoder(Color).encode_nested(member) == StrUtf8Coder().encode_nested(member.name)


def test_enum_survives_reordering_of_members():
    data = EnumCoder(Color).encode_nested(Color.BLUE)
    assert EnumCoder(ColorReordered).decode_nested(data) is ColorReordered.BLUE


def test_enum_alias_decodes_old_name_and_encodes_canonical():
    assert EnumCoder(Renamed).decode(b"RED") is Renamed.CRIMSON
    assert EnumCoder(Renamed).encode(Renamed.RED) == b"CRIMSON"


def test_enum_unknown_name_is_decode_error_naming_enum_and_name():
    with pytest.raises(DecodeError) as info:
        EnumCoder(Color).decode_nested(b"\x06PURPLE")
    message = str(info.value)
    assert "'PURPLE'" in message and "Color" in message and "RED, GREEN, BLUE" in message
    assert info.value.offset == 0


def test_enum_invalid_utf8_and_truncation_are_decode_errors():
    with pytest.raises(DecodeError, match="not valid UTF-8"):
        EnumCoder(Color).decode(b"\xff\xfe")
    with pytest.raises(DecodeError, match="only 2 remain"):
        EnumCoder(Color).decode_nested(b"\x05RE")


def paint_coder():
    return RecordCoder(Paint, [("name", StrUtf8Coder()), ("color", EnumCoder(Color))])


def test_record_truncated_inside_its_last_field_an_enum_says_truncated_and_where():
    data = paint_coder().encode(Paint("x", Color.GREEN))
    assert data.hex(" ") == "01 78 47 52 45 45 4e"
    with pytest.raises(DecodeError) as info:
        paint_coder().decode(data[:5])  # cut inside GREEN
    assert str(info.value) == (
        "truncated input: the data ends inside a Color member name ('GRE' is the start of GREEN), "
        "at byte offset 5, while decoding color, with RecordCoder[Paint, name=StrUtf8Coder, color=EnumCoder[Color]]"
    )
    assert info.value.offset == 5 and info.value.path == (".color",)
    with pytest.raises(DecodeError) as info:
        paint_coder().decode(data[:2])  # cut before the name
    assert info.value.reason == "truncated input: expected a Color member name, found end of data"
    assert info.value.offset == 2 and info.value.path == (".color",)


@pytest.mark.parametrize(
    "coder,data,reason,offset",
    [
        (EnumCoder(Color), b"BL", "the data ends inside a Color member name ('BL' is the start of BLUE)", 2),
        (EnumCoder(Color), b"", "expected a Color member name, found end of data", 0),
        (EnumCoder(Renamed), b"R", "the data ends inside a Renamed member name ('R' is the start of RED)", 1),
        (
            EnumCoder(Greeting),
            "CAFÉ".encode()[:4],
            "the data ends inside a Greeting member name ('CAF' is the start of CAFÉ)",
            4,
        ),
        (EnumCoder(Perm), b"R|", "the data ends inside a Perm member name ('R|' is the start of R|W, R|X)", 2),
    ],
)
def test_outer_enum_name_cut_short_is_truncated_input(coder, data, reason, offset):
    # outer context: the name runs to the end of the data, so a proper prefix of a member name means a cut
    with pytest.raises(DecodeError) as info:
        coder.decode(data)
    assert info.value.reason == "truncated input: " + reason
    assert info.value.offset == offset


def test_a_complete_unknown_enum_name_still_says_different_version():
    # nested, the length prefix says the name is whole; outer, "REDDISH" is the start of no member
    for decode, data in ((EnumCoder(Color).decode_nested, b"\x03GRE"), (EnumCoder(Color).decode, b"REDDISH")):
        name = data.lstrip(b"\x03").decode()
        with pytest.raises(DecodeError) as info:
            decode(data)
        assert info.value.reason == (
            f"unknown member name {name!r} for enum Color (known: RED, GREEN, BLUE); the data was written with a "
            "different version of Color: add the member back, or an alias"
        )
        assert info.value.offset == 0
    assert EnumCoder(Perm).decode(b"") is Perm(0)  # the empty flag is whole, not cut


def test_enum_refuses_raw_value_of_int_enum():
    with pytest.raises(EncodeError) as info:
        EnumCoder(Level).encode(2)
    message = str(info.value)
    assert "a member of Level" in message and "pass the member <Level.HIGH: 2> instead of its raw value" in message


def test_enum_refuses_member_of_another_enum():
    with pytest.raises(EncodeError) as info:
        EnumCoder(Level).encode(OtherLevel.LOW)
    assert "OtherLevel" in str(info.value) and "member of Level" in str(info.value)
    with pytest.raises(EncodeError, match="a member of Color"):
        EnumCoder(Color).encode("RED")


def test_flag_with_unnamed_bits_is_encode_error():
    with pytest.raises(EncodeError, match="bits no member names"):
        EnumCoder(Bits).encode(Bits(8))


def test_enum_constructor_rejects_non_enum():
    with pytest.raises(TypeError, match="enum.Enum subclass"):
        EnumCoder(int)


def test_enum_coder_protocol():
    coder = EnumCoder(Color)
    assert coder.is_deterministic()
    assert coder.to_type_hint() is Color
    assert coder == EnumCoder(Color) and hash(coder) == hash(EnumCoder(Color))
    assert coder != EnumCoder(ColorReordered)
    assert repr(coder) == "EnumCoder[Color]"
    assert coder.min_nested_size() == 1


@pytest.mark.parametrize("pickler", all_picklers(), ids=lambda m: m.__name__)
def test_enum_coder_pickles_by_reference(pickler):
    data = pickler.dumps(EnumCoder(Color))
    assert b"Color" in data and b"RED" not in data  # the class by name, no tables
    restored = pickler.loads(data)
    assert restored == EnumCoder(Color)
    assert restored.decode(b"BLUE") is Color.BLUE


# ==================================================================================== records


def test_namedtuple_bytes_equal_beam_tuple_coder():
    from apache_beam import coders as beam_coders

    ours = RecordCoder(Point, [("x", VarIntCoder()), ("y", VarIntCoder())])
    beam = beam_coders.TupleCoder([beam_coders.VarIntCoder(), beam_coders.VarIntCoder()])
    for p in [Point(1, 2), Point(-1, 300), Point(0, 0)]:
        assert ours.encode(p) == beam.encode(tuple(p))
        assert ours.encode_nested(p) == beam.get_impl().encode_nested(tuple(p))
    pair = RecordCoder(PairNT, [("name", StrUtf8Coder()), ("count", VarIntCoder())])
    beam_pair = beam_coders.TupleCoder([beam_coders.StrUtf8Coder(), beam_coders.VarIntCoder()])
    assert pair.encode(PairNT("ab", 5)) == beam_pair.encode(("ab", 5))


RECORD_CASES = [
    (lambda: RecordCoder(Point, [("x", VarIntCoder()), ("y", VarIntCoder())]), Point(1, 2), "01 02", "01 02"),
    (
        lambda: RecordCoder(PairNT, [("name", StrUtf8Coder()), ("count", VarIntCoder())]),
        PairNT("ab", 3),
        "02 61 62 03",
        "02 61 62 03",
    ),
    # last field takes the record's context: outer "ab" has no length prefix
    (
        lambda: RecordCoder(Slotted, [("a", VarIntCoder()), ("b", StrUtf8Coder())]),
        Slotted(7, "ab"),
        "07 61 62",
        "07 02 61 62",
    ),
    (order_coder, Order(5, frozenset({"x"})), "05 00 00 00 01 01 78", "05 00 00 00 01 01 78"),
    (
        customer_coder,
        Customer("al", None, [Order(1, frozenset())]),
        "02 61 6c 00 00 00 00 01 01 00 00 00 00",
        "02 61 6c 00 00 00 00 01 01 00 00 00 00",
    ),
    (
        customer_coder,
        Customer("al", "a@b"),
        "02 61 6c 01 03 61 40 62 00 00 00 00",
        "02 61 6c 01 03 61 40 62 00 00 00 00",
    ),
    (lambda: RecordCoder(Empty, []), Empty(), "", ""),
    (node_coder, Node(1, [Node(2, [])]), "01 00 00 00 01 02 00 00 00 00", "01 00 00 00 01 02 00 00 00 00"),
]


@pytest.mark.parametrize("make,value,outer_hex,nested_hex", RECORD_CASES)
def test_record_exact_bytes_and_roundtrip(make, value, outer_hex, nested_hex):
    check_roundtrip(make(), value, outer_hex, nested_hex)


def test_frozen_dataclass_roundtrip_keeps_type_and_equality():
    coder = order_coder()
    value = Order(42, frozenset({"a", "b"}))
    decoded = coder.decode(coder.encode(value))
    assert decoded == value and type(decoded) is Order
    with pytest.raises(dataclasses.FrozenInstanceError):
        decoded.id = 1  # still frozen


def test_init_false_field_is_stored_and_init_is_not_rerun():
    coder = RecordCoder(Derived, [("a", VarIntCoder()), ("b", VarIntCoder()), ("total", VarIntCoder())])
    value = Derived(2, 3)
    value.total = 100  # changed after construction: must survive
    before = Derived.constructed
    decoded = coder.decode(coder.encode(value))
    assert Derived.constructed == before
    assert (decoded.a, decoded.b, decoded.total) == (2, 3, 100) and decoded == value


def test_post_init_normalisation_is_not_applied_twice():
    coder = RecordCoder(Normalising, [("name", StrUtf8Coder())])
    value = Normalising("ab")
    assert value.name == "AB!"
    assert coder.decode(coder.encode(value)).name == "AB!"


def test_defaults_and_optional_fields():
    coder = customer_coder()
    check_roundtrip(coder, Customer("bo"))
    check_roundtrip(coder, Customer("bo", "bo@example.com", [Order(1, frozenset({"t"})), Order(2, frozenset())]))


def test_nested_records_roundtrip():
    inner = RecordCoder(Point, [("x", VarIntCoder()), ("y", VarIntCoder())])
    outer = RecordCoder(PairNT, [("name", inner), ("count", ListCoder(inner))])
    check_roundtrip(outer, PairNT(Point(1, 2), [Point(3, 4), Point(-5, 6)]))


def test_from_fields_and_attributes():
    coder = order_coder()
    assert coder.cls is Order
    assert coder.field_names == ("id", "tags")
    assert coder.field_coders == (VarIntCoder(), SetCoder(StrUtf8Coder(), frozen=True))
    assert coder.from_fields((1, frozenset())) == Order(1, frozenset())
    point = RecordCoder(Point, [("x", VarIntCoder()), ("y", VarIntCoder())]).from_fields([3, 4])
    assert point == Point(3, 4) and type(point) is Point
    with pytest.raises(TypeError, match=r"Order has 2 fields \['id', 'tags'\], got 1 values"):
        coder.from_fields((1,))
    assert coder.to_type_hint() is Order


def test_encode_error_names_class_field_and_fix():
    with pytest.raises(EncodeError) as info:
        order_coder().encode(Order("x", frozenset()))
    message = str(info.value)
    assert "Order.id" in message and "value.id" in message
    assert "expected int" in message and "Fix:" in message
    assert info.value.path == (".id",)


def test_encode_error_path_through_nested_records():
    with pytest.raises(EncodeError) as info:
        customer_coder().encode(Customer("al", None, [Order(1, frozenset()), Order(2, frozenset({3}))]))
    message = str(info.value)
    # a set has no index: its element is named by value
    assert info.value.path == (".orders", "[1]", ".tags", "<element 3>")
    assert message == (
        "at value.orders[1].tags<element 3>: field Order.tags: StrUtf8Coder expected str, got int 3 "
        "(coder StrUtf8Coder). Fix: pass str(x)"
    )


def test_value_of_another_class_names_both_classes():
    with pytest.raises(EncodeError) as info:
        order_coder().encode(Point(1, 2))
    message = str(info.value)
    assert "Order" in message and "Point" in message and "Fix:" in message
    with pytest.raises(EncodeError, match="subclass of Order"):
        order_coder().encode(SubOrder(1, frozenset()))
    with pytest.raises(EncodeError, match="an instance of Point"):
        RecordCoder(Point, [("x", VarIntCoder()), ("y", VarIntCoder())]).encode((1, 2))


def test_unset_field_is_encode_error():
    value = object.__new__(Derived)
    value.a = 1
    coder = RecordCoder(Derived, [("a", VarIntCoder()), ("b", VarIntCoder()), ("total", VarIntCoder())])
    with pytest.raises(EncodeError, match=r"field Derived.b is not set") as info:
        coder.encode(value)
    assert info.value.path == (".b",)


def test_constructor_checks_fields_against_the_class():
    with pytest.raises(TypeError, match=r"missing \['tags'\]"):
        RecordCoder(Order, [("id", VarIntCoder())])
    with pytest.raises(TypeError, match=r"not fields of the class \['extra'\]"):
        RecordCoder(Order, [("id", VarIntCoder()), ("tags", SetCoder(StrUtf8Coder())), ("extra", VarIntCoder())])
    with pytest.raises(TypeError, match="order differs"):
        RecordCoder(Order, [("tags", SetCoder(StrUtf8Coder())), ("id", VarIntCoder())])
    with pytest.raises(TypeError, match="expected a coders.Coder, got int"):
        RecordCoder(Point, [("x", VarIntCoder()), ("y", 5)])
    with pytest.raises(TypeError, match="dataclass or a NamedTuple"):
        RecordCoder(dict, [])


def test_decode_errors_carry_field_path_and_offset():
    coder = order_coder()
    with pytest.raises(DecodeError) as info:
        coder.decode(bytes.fromhex("05 00 00 00 02 01 78"))
    assert "tags" in str(info.value)
    assert info.value.path[0] == ".tags"
    with pytest.raises(DecodeError, match="trailing data"):
        RecordCoder(Point, [("x", VarIntCoder()), ("y", VarIntCoder())]).decode(b"\x01\x02\x03")
    with pytest.raises(DecodeError):
        RecordCoder(Point, [("x", VarIntCoder()), ("y", VarIntCoder())]).decode(b"\x01")


def test_record_determinism_reports_field_path():
    coder = RecordCoder(Order, [("id", VarIntCoder()), ("tags", SetCoder(StrUtf8Coder(), frozen=True))])
    assert not coder.is_deterministic()
    assert coder.path_name() == "Order"
    with pytest.raises(NonDeterministicCoderError) as info:
        coder.verify_deterministic()
    assert "Order.tags -> SetCoder:" in str(info.value)
    fixed = coder.as_deterministic_coder()
    assert fixed.is_deterministic() and type(fixed) is RecordCoder and fixed.cls is Order
    assert fixed.field_coders[1] == SetCoder(StrUtf8Coder(), frozen=True, deterministic=True)
    assert fixed.as_deterministic_coder() is fixed
    check_roundtrip(fixed, Order(1, frozenset({"b", "a"})))
    assert fixed.encode(Order(1, frozenset({"b", "a"}))) == fixed.encode(Order(1, frozenset({"a", "b"})))


def test_record_that_cannot_be_made_deterministic_lists_the_culprit():
    coder = RecordCoder(WithBlob, [("id", VarIntCoder()), ("blob", PickleCoder())])
    with pytest.raises(NonDeterministicCoderError) as info:
        coder.as_deterministic_coder(context="GroupByKey key")
    message = str(info.value)
    assert "WithBlob.blob -> PickleCoder" in message and "GroupByKey key" in message
    assert [i.path for i in info.value.issues] == ["WithBlob.blob"]


def test_record_labelled_components_and_repr():
    coder = order_coder()
    assert [label for label, _ in coder.labelled_components()] == [".id", ".tags"]
    assert repr(coder) == "RecordCoder[Order, id=VarIntCoder, tags=SetCoder[StrUtf8Coder, frozen=True]]"


def test_record_equality_and_hash_by_structure():
    assert order_coder() == order_coder() and hash(order_coder()) == hash(order_coder())
    assert order_coder() != RecordCoder(Order, [("id", VarIntCoder()), ("tags", SetCoder(StrUtf8Coder()))])
    assert RecordCoder(Empty, []) != RecordCoder.deferred(Empty)


@pytest.mark.parametrize("pickler", all_picklers(), ids=lambda m: m.__name__)
def test_record_coder_pickles(pickler):
    coder = customer_coder()
    value = Customer("al", "x@y", [Order(1, frozenset({"a"}))])
    coder.encode(value)  # bind the public methods first: they must not be part of the pickled state
    assert "encode" in coder.__dict__
    restored = pickler.loads(pickler.dumps(coder))
    assert restored == coder
    assert restored.decode(coder.encode(value)) == value
    assert not set(coder.__getstate__()) & {"encode", "decode", "encode_nested", "decode_nested"}


# ----------------------------------------------------------------------------------- recursion


def test_recursive_tree_roundtrip():
    coder = node_coder()
    tree = Node(1, [Node(2, []), Node(3, [Node(4, [Node(5, [])])])])
    check_roundtrip(coder, tree)


def test_recursive_coder_eq_hash_repr_terminate():
    a, b = node_coder(), node_coder()
    assert a == b and hash(a) == hash(b)
    assert a != tagged_node_coder()
    assert repr(a) == "RecordCoder[Node, value=VarIntCoder, children=ListCoder[Node[...]]]"
    assert a.is_deterministic()
    assert list(a.walk()) == [a, VarIntCoder(), a.field_coders[1]]


def test_recursive_coder_determinism_and_rebuild():
    coder = tagged_node_coder()
    with pytest.raises(NonDeterministicCoderError) as info:
        coder.verify_deterministic()
    assert [i.path for i in info.value.issues] == ["TaggedNode.tags"]
    fixed = coder.as_deterministic_coder()
    assert fixed.is_deterministic()
    # the rebuilt coder is recursive too: its list's element is itself
    assert fixed.field_coders[1].element_coder is fixed
    tree = TaggedNode({"b", "a"}, [TaggedNode({"c"}, [])])
    check_roundtrip(fixed, tree)


@pytest.mark.parametrize("pickler", all_picklers(), ids=lambda m: m.__name__)
def test_recursive_coder_pickles(pickler):
    coder = node_coder()
    restored = pickler.loads(pickler.dumps(coder))
    assert restored.field_coders[1].element_coder is restored
    assert restored == coder
    tree = Node(1, [Node(2, [Node(3, [])])])
    assert restored.decode(coder.encode(tree)) == tree


def test_deferred_coder_set_fields_once():
    coder = node_coder()
    with pytest.raises(ValueError, match="already set"):
        coder.set_fields([("value", VarIntCoder()), ("children", ListCoder(coder))])
    assert repr(RecordCoder.deferred(Node)) == "RecordCoder[Node, <fields not set>]"


def test_min_nested_size_terminates_on_recursion():
    assert node_coder().min_nested_size() == 1 + 4
    assert order_coder().min_nested_size() == 1 + 4


# ===================================================================================== unions


def mixed_union():
    return UnionCoder([(int, VarIntCoder()), (bool, BooleanCoder()), (str, StrUtf8Coder()), (None, NoneCoder())])


UNION_CASES = [
    (5, "00 05", "00 05"),
    (-1, "00 ff ff ff ff ff ff ff ff ff 01", "00 ff ff ff ff ff ff ff ff ff 01"),
    (True, "01 01", "01 01"),
    (False, "01 00", "01 00"),
    ("hi", "02 68 69", "02 02 68 69"),
    (None, "03", "03"),
]


@pytest.mark.parametrize("value,outer_hex,nested_hex", UNION_CASES)
def test_union_exact_bytes(value, outer_hex, nested_hex):
    check_roundtrip(mixed_union(), value, outer_hex, nested_hex)


def test_union_bool_never_taken_as_int():
    only_int = UnionCoder([(int, VarIntCoder()), (str, StrUtf8Coder())])
    with pytest.raises(EncodeError) as info:
        only_int.encode(True)
    assert "int, str" in str(info.value) and "Fix:" in str(info.value)


def test_union_isinstance_fallback_in_order():
    union = UnionCoder([(Color, EnumCoder(Color)), (enum.Enum, PickleCoder())])
    assert union.encode(Color.RED) == b"\x00RED"
    assert union.encode(Level.LOW)[:1] == b"\x01"
    assert union.decode(union.encode(Level.LOW)) is Level.LOW


def test_union_of_records():
    union = UnionCoder(
        [(Point, RecordCoder(Point, [("x", VarIntCoder()), ("y", VarIntCoder())])), (Order, order_coder())]
    )
    check_roundtrip(union, Point(1, 2), "00 01 02", "00 01 02")
    check_roundtrip(union, Order(3, frozenset()), "01 03 00 00 00 00", "01 03 00 00 00 00")
    assert [label for label, _ in union.labelled_components()] == ["<Point>", "<Order>"]


def test_union_no_member_fits():
    with pytest.raises(EncodeError) as info:
        mixed_union().encode(1.5)
    assert "int, bool, str, None" in str(info.value) and "float" in str(info.value)


def test_union_member_error_carries_label():
    union = UnionCoder([(Order, order_coder())])
    with pytest.raises(EncodeError) as info:
        union.encode(Order("x", frozenset()))
    assert info.value.path == ("<Order>", ".id")


def test_union_unknown_tag_is_decode_error_with_offset():
    with pytest.raises(DecodeError) as info:
        mixed_union().decode(b"\x07")
    assert "unknown union tag 7" in str(info.value) and info.value.offset == 0
    record = RecordCoder(PairNT, [("name", VarIntCoder()), ("count", mixed_union())])
    with pytest.raises(DecodeError) as info:
        record.decode(b"\x01\x09")
    assert info.value.offset == 1 and info.value.path == (".count",)


def test_union_determinism_and_rebuild():
    union = UnionCoder([(int, VarIntCoder()), (float, FloatCoder()), (set, SetCoder(VarIntCoder()))])
    with pytest.raises(NonDeterministicCoderError) as info:
        union.verify_deterministic()
    paths = {i.path for i in info.value.issues}
    assert "UnionCoder<set>" in paths
    fixed = union.as_deterministic_coder()
    assert fixed.is_deterministic() and fixed.member_types == (int, float, set)
    already = mixed_union()
    assert already.is_deterministic() and already.as_deterministic_coder() is already
    with pytest.raises(NonDeterministicCoderError) as info:
        UnionCoder([(int, VarIntCoder()), (object, PickleCoder())]).as_deterministic_coder()
    assert [i.path for i in info.value.issues] == ["UnionCoder<object>"]


def test_union_protocol_and_construction_errors():
    union = mixed_union()
    assert union.to_type_hint() == typing.Union[int, bool, str, None]
    assert union == mixed_union() and hash(union) == hash(mixed_union())
    assert repr(union) == "UnionCoder[int: VarIntCoder, bool: BooleanCoder, str: StrUtf8Coder, None: NoneCoder]"
    assert UnionCoder([(list[int], ListCoder(VarIntCoder()))]).encode([1]) == bytes.fromhex("00 00000001 01")
    with pytest.raises(TypeError, match="two members for int"):
        UnionCoder([(int, VarIntCoder()), (int, VarIntCoder())])
    with pytest.raises(TypeError, match="at least one"):
        UnionCoder([])
    with pytest.raises(TypeError, match="must be classes"):
        UnionCoder([(typing.Literal[1], VarIntCoder())])


@pytest.mark.parametrize("pickler", all_picklers(), ids=lambda m: m.__name__)
def test_union_pickles(pickler):
    union = UnionCoder([(None, NoneCoder()), (Node, node_coder()), (Color, EnumCoder(Color))])
    restored = pickler.loads(pickler.dumps(union))
    assert restored == union
    for value in [None, Node(1, [Node(2, [])]), Color.GREEN]:
        assert restored.decode(union.encode(value)) == value


# ============================================================================ property tests

orders = st.builds(Order, st.integers(-(2**63), 2**63 - 1), st.frozensets(st.text(max_size=5), max_size=4))
customers = st.builds(Customer, st.text(max_size=8), st.none() | st.text(max_size=8), st.lists(orders, max_size=3))
trees = st.recursive(
    st.builds(Node, st.integers(-(2**63), 2**63 - 1), st.just([])),
    lambda kids: st.builds(Node, st.integers(0, 1000), st.lists(kids, max_size=3)),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(customers)
def test_property_customer_roundtrip(value):
    check_roundtrip(customer_coder(), value)


@settings(max_examples=40, deadline=None)
@given(trees)
def test_property_tree_roundtrip(value):
    check_roundtrip(node_coder(), value)


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.integers(-(2**63), 2**63 - 1), st.booleans(), st.text(max_size=8), st.none()))
def test_property_union_roundtrip_keeps_type(value):
    check_roundtrip(mixed_union(), value)


@settings(max_examples=40, deadline=None)
@given(st.frozensets(st.text(max_size=4), max_size=6))
def test_property_deterministic_record_bytes_ignore_set_order(tags):
    coder = order_coder().as_deterministic_coder()
    shuffled = frozenset(sorted(tags, reverse=True))
    assert coder.encode(Order(1, tags)) == coder.encode(Order(1, shuffled))


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(list(Perm)), st.sampled_from(list(Perm)))
def test_property_flag_combinations_roundtrip(a, b):
    check_roundtrip(EnumCoder(Perm), a | b)


# ========================================================================= docs/wire-format.md

WIRE_DOC = __import__("pathlib").Path(__file__).resolve().parents[2] / "docs" / "wire-format.md"
ROW = __import__("re").compile(
    r"^\| `(?P<coder>[^`]+)` \| `(?P<value>[^`]+)` \| (?P<outer>[0-9a-f ]+|\(empty\)) \| "
    r"(?P<nested>[0-9a-f ]+|\(empty\)) \|$"
)


def wire_doc_rows():
    return [m.groupdict() for line in WIRE_DOC.read_text().splitlines() if (m := ROW.match(line))]


def wire_doc_namespace():
    import datetime
    import decimal
    import pathlib
    import uuid

    from google.protobuf import struct_pb2, timestamp_pb2

    import coders.collections
    import coders.dynamic
    import coders.primitives
    from coders.primitives import UUIDCoder

    namespace = {
        "struct_pb2": struct_pb2,
        "timestamp_pb2": timestamp_pb2,
        "__name__": __name__,
        "np": __import__("numpy"),  # docs/wire-format.md's numpy rows
        "TypedDict": typing.TypedDict,  # docs/wire-format.md's TypedDict example
        "beam": __import__("apache_beam"),  # docs/wire-format.md's beam.Row rows
        "datetime": datetime,
        "decimal": decimal,
        "enum": enum,
        "dataclasses": dataclasses,
        "NamedTuple": NamedTuple,
        "uuid": uuid,
        "zoneinfo": __import__("zoneinfo"),  # docs/wire-format.md's datetime rows
        "pd": __import__("pandas"),  # docs/wire-format.md's pandas.Timestamp rows
        "pathlib": pathlib,
        "fractions": __import__("fractions"),  # docs/wire-format.md's coders.scalars rows
        "ipaddress": __import__("ipaddress"),
        "UUIDCoder": UUIDCoder,
    }
    for module in (coders, coders.primitives, coders.collections, coders.dynamic):
        namespace.update({name: getattr(module, name) for name in module.__all__})
    text = WIRE_DOC.read_text()
    block = text.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(block, str(WIRE_DOC), "exec", dont_inherit=True), namespace)  # the doc's own example types
    return namespace


def _hex(text: str) -> bytes:
    return b"" if text == "(empty)" else bytes.fromhex(text)


def test_wire_format_doc_examples():
    namespace = wire_doc_namespace()
    rows = wire_doc_rows()
    assert len(rows) >= 40
    for row in rows:
        coder = eval(row["coder"], namespace)
        value = eval(row["value"], namespace)
        where = f"{row['coder']} / {row['value']}"
        assert coder.encode(value) == _hex(row["outer"]), where
        assert coder.encode_nested(value) == _hex(row["nested"]), where
        for decoded in (coder.decode(_hex(row["outer"])), coder.decode_nested(_hex(row["nested"]))):
            same = decoded == value or (decoded != decoded and value != value)  # NaN
            assert same and type(decoded) is type(value), where


def test_wire_format_doc_covers_every_coder_and_urn():
    text = WIRE_DOC.read_text()
    documented = {row["coder"].split("(", 1)[0] for row in wire_doc_rows()}
    every = {
        "BytesCoder",
        "StrUtf8Coder",
        "VarIntCoder",
        "FloatCoder",
        "CanonicalFloatCoder",
        "BooleanCoder",
        "NoneCoder",
        "TimestampCoder",
        "DecimalCoder",
        "NullableCoder",
        "LengthPrefixCoder",
        "TupleCoder",
        "TupleSequenceCoder",
        "ListCoder",
        "IterableCoder",
        "MapCoder",
        "SetCoder",
        "EnumCoder",
        "RecordCoder",
        "UnionCoder",
        "PickleCoder",
        "CloudpickleCoder",
        "AnyCoder",
        "UUIDCoder",
    }
    assert every <= documented, every - documented
    for urn in ("bytes", "varint", "double", "bool", "string_utf8", "kv", "iterable", "nullable", "length_prefix"):
        assert f"`beam:coder:{urn}:v1`" in text
    assert "deterministic ordering rule" in text


def test_wire_format_doc_unknown_length_iterable_example():
    from coders import IterableCoder

    text = WIRE_DOC.read_text()
    assert "`IterableCoder(VarIntCoder()).encode(iter([1, 2]))` is `ff ff ff ff 02 01 02 00`" in text
    data = IterableCoder(VarIntCoder()).encode(iter([1, 2]))
    assert data.hex(" ") == "ff ff ff ff 02 01 02 00"
    assert IterableCoder(VarIntCoder()).decode(data) == [1, 2]


def test_wire_format_doc_beam_standard_coders_match_beam():
    """Rows whose coder maps to a Beam standard coder give Beam's bytes (both contexts)."""
    from apache_beam.coders import coders as beam

    namespace = wire_doc_namespace()
    beam_for = {
        "BytesCoder()": beam.BytesCoder(),
        "StrUtf8Coder()": beam.StrUtf8Coder(),
        "VarIntCoder()": beam.VarIntCoder(),
        "FloatCoder()": beam.FloatCoder(),
        "BooleanCoder()": beam.BooleanCoder(),
        "TimestampCoder()": beam.TimestampCoder(),
        "NullableCoder(StrUtf8Coder())": beam.NullableCoder(beam.StrUtf8Coder()),
        "LengthPrefixCoder(StrUtf8Coder())": beam.LengthPrefixCoder(beam.StrUtf8Coder()),
        "TupleCoder(VarIntCoder(), StrUtf8Coder())": beam.TupleCoder([beam.VarIntCoder(), beam.StrUtf8Coder()]),
        "ListCoder(VarIntCoder())": beam.ListCoder(beam.VarIntCoder()),
        "IterableCoder(StrUtf8Coder())": beam.IterableCoder(beam.StrUtf8Coder()),
        "MapCoder(StrUtf8Coder(), VarIntCoder())": beam.MapCoder(beam.StrUtf8Coder(), beam.VarIntCoder()),
        "TupleSequenceCoder(VarIntCoder())": beam.TupleSequenceCoder(beam.VarIntCoder()),
        "DecimalCoder()": beam.DecimalCoder(),
    }
    checked = 0
    for row in wire_doc_rows():
        peer = beam_for.get(row["coder"])
        if peer is None:
            continue
        value = eval(row["value"], namespace)
        if row["coder"] == "TimestampCoder()":
            from apache_beam.utils.timestamp import Timestamp

            value = Timestamp.from_utc_datetime(value)
        assert peer.encode(value) == _hex(row["outer"]), row
        assert peer.get_impl().encode_nested(value) == _hex(row["nested"]), row
        checked += 1
    assert checked >= 15


@dataclasses.dataclass
class Husband:
    name: str
    wife: object


@dataclasses.dataclass
class Wife:
    name: str
    husband: Optional[Husband]


def test_mutually_recursive_records_with_a_direct_deferred_field():
    husband = RecordCoder.deferred(Husband)
    wife = RecordCoder(Wife, [("name", StrUtf8Coder()), ("husband", NullableCoder(husband))])
    with pytest.raises(RuntimeError, match="call set_fields"):
        husband.encode(Husband("h", Wife("w", None)))
    husband.set_fields([("name", StrUtf8Coder()), ("wife", wife)])  # wife's field set before husband was filled
    value = Husband("h", Wife("w", Husband("h2", Wife("w2", None))))
    check_roundtrip(husband, value)
    both = RecordCoder.deferred(Wife)
    outer = RecordCoder(Husband, [("name", StrUtf8Coder()), ("wife", both)])  # a direct deferred field
    both.set_fields([("name", StrUtf8Coder()), ("husband", NullableCoder(outer))])
    check_roundtrip(
        outer,
        Husband("a", Wife("b", Husband("c", Wife("d", None)))),
    )


def _error_of(fn, *args):
    try:
        fn(*args)
    except Exception as e:
        return type(e), str(e), getattr(e, "path", None), getattr(e, "offset", None)
    return None


@pytest.mark.parametrize(
    "make,bad_value,bad_bytes",
    [
        (order_coder, Order("x", frozenset()), bytes.fromhex("05 00 00 00 02 01 78")),
        (customer_coder, Customer("a", 5), bytes.fromhex("02 61 6c 07")),
        (lambda: RecordCoder(Point, [("x", VarIntCoder()), ("y", VarIntCoder())]), Point(1, 2**70), b"\x01\x80"),
        (lambda: RecordCoder(Slotted, [("a", VarIntCoder()), ("b", StrUtf8Coder())]), Slotted(1, b"x"), b"\x01\xff"),
    ],
)
def test_generated_and_reference_paths_raise_the_same_errors(make, bad_value, bad_bytes):
    coder = make()
    for nested in (False, True):
        generated = _error_of(coder.encode_to, bad_value, bytearray(), nested)
        reference = _error_of(type(coder).encode_to, coder, bad_value, bytearray(), nested)
        assert generated is not None and generated == reference
        generated = _error_of(coder.decode_from, bad_bytes, 0, nested)
        reference = _error_of(type(coder).decode_from, coder, bad_bytes, 0, nested)
        assert generated is not None and generated == reference
    assert _error_of(coder.encode, bad_value)[0] is EncodeError
    assert _error_of(coder.decode, bad_bytes)[0] is DecodeError


def test_generated_source_is_in_linecache_so_tracebacks_show_the_generated_line():
    import traceback

    from_fields = order_coder().from_fields
    filename = from_fields.__code__.co_filename
    source = "".join(linecache.getlines(filename))
    assert filename.startswith("<coderkit RecordCoder.from_fields for Order ") and "def from_fields(values):" in source
    with pytest.raises(TypeError) as info:
        from_fields((1,))
    shown = "".join(traceback.format_exception(info.value))
    assert f'File "{filename}", line' in shown
    assert "raise count_error(values) from None" in shown


class Reading(NamedTuple):
    sensor: str
    value: float = 0.0
    unit: Optional[str] = None


Span = collections.namedtuple("Span", ["start", "end"], defaults=[None])


def test_namedtuples_with_defaults_and_fields_given_as_a_dict():
    coder = RecordCoder(
        Reading, {"sensor": StrUtf8Coder(), "value": FloatCoder(), "unit": NullableCoder(StrUtf8Coder())}
    )
    assert coder.field_names == ("sensor", "value", "unit")
    check_roundtrip(coder, Reading("t1"), "02 74 31 00 00 00 00 00 00 00 00 00", "02 74 31 00 00 00 00 00 00 00 00 00")
    check_roundtrip(coder, Reading("t1", 2.5, "C"))
    span = RecordCoder(Span, [("start", VarIntCoder()), ("end", NullableCoder(VarIntCoder()))])
    check_roundtrip(span, Span(1), "01 00", "01 00")
    check_roundtrip(span, Span(1, 5), "01 01 05", "01 01 05")


@dataclasses.dataclass(frozen=True, slots=True)
class FrozenSlotted:
    key: str
    weight: float = 1.0


def test_frozen_slotted_dataclass_and_copies():
    import copy

    coder = RecordCoder(FrozenSlotted, [("key", StrUtf8Coder()), ("weight", FloatCoder())])
    value = FrozenSlotted("k", 0.5)
    check_roundtrip(coder, value, "01 6b 3f e0 00 00 00 00 00 00", "01 6b 3f e0 00 00 00 00 00 00")
    assert not hasattr(coder.decode(coder.encode(value)), "__dict__")
    for clone in (copy.copy(coder), copy.deepcopy(coder), copy.deepcopy(node_coder())):
        assert clone == clone and clone.is_deterministic() == (clone.cls is Node)
    tree_clone = copy.deepcopy(node_coder())
    assert tree_clone.field_coders[1].element_coder is tree_clone
    check_roundtrip(tree_clone, Node(1, [Node(2, [])]))


@dataclasses.dataclass
class Audited:
    """A class whose __setattr__ must not run on decode (it would record or refuse the value)."""

    name: str
    log: typing.ClassVar[list] = []

    def __setattr__(self, key, value):
        Audited.log.append(key)
        object.__setattr__(self, key, value)


def test_decoding_runs_no_setattr_of_the_class_and_plain_classes_get_plain_stores():
    coder = RecordCoder(Audited, [("name", StrUtf8Coder())])
    data = coder.encode(Audited("x"))
    Audited.log.clear()
    decoded = coder.decode(data)
    assert Audited.log == [] and decoded.name == "x" and type(decoded) is Audited
    assert coder._build_kind == "dict"
    assert customer_coder()._build_kind == "attr" and order_coder()._build_kind == "dict"
    assert RecordCoder(Slotted, [("a", VarIntCoder()), ("b", StrUtf8Coder())])._build_kind == "setattr"
    source = "".join(linecache.getlines(customer_coder().from_fields.__code__.co_filename))
    assert "obj.name, obj.email, obj.orders, = values" in source
