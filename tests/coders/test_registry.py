"""The registry: every hint resolves to the expected coder, registrations, the fallback warning, strict mode.

This module starts with ``from __future__ import annotations`` on purpose: every
dataclass and NamedTuple below has string annotations that the registry must resolve
in this module (``typing.get_type_hints``), including recursive ones.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import decimal
import enum
import re
import subprocess
import sys
import types
import typing
import uuid
import warnings
from pathlib import Path
from typing import (
    AbstractSet,
    Annotated,
    Any,
    Dict,
    FrozenSet,
    Generic,
    Iterable,
    List,
    Mapping,
    NamedTuple,
    NewType,
    Optional,
    Sequence,
    Set,
    Tuple,
    TypeVar,
    Union,
)

import pytest

import coders
from coders import CoderNotFoundError, FallbackCoderWarning, NonDeterministicCoderError
from coders.collections import IterableCoder, ListCoder, MapCoder, SetCoder, TupleCoder, TupleSequenceCoder
from coders.dynamic import AnyCoder
from coders.naming import type_name
from coders.pickle import PickleCoder
from coders.primitives import (
    BooleanCoder,
    BytesCoder,
    DecimalCoder,
    FloatCoder,
    NoneCoder,
    StrUtf8Coder,
    TimestampCoder,
    UUIDCoder,
    VarIntCoder,
)
from coders.records import EnumCoder, RecordCoder, UnionCoder
from coders.scalars import BytearrayCoder
from coders.temporal import DateCoder, DateTimeCoder, TimeCoder, TimeDeltaCoder
from coders.typecoders import CoderRegistry
from coders.wrappers import NullableCoder

ROOT = Path(__file__).resolve().parents[2]


# ---- types used below (module level, string annotations) ------------------------------------


class Color(enum.Enum):
    RED = "r"
    GREEN = "g"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Point(NamedTuple):
    x: int
    y: float


Pair = collections.namedtuple("Pair", "left right")


@dataclasses.dataclass(frozen=True)
class Address:
    street: str
    zip_code: Optional[int] = None


@dataclasses.dataclass
class Customer:
    name: str
    address: Address
    color: Color = Color.RED
    scores: Dict[str, List[float]] = dataclasses.field(default_factory=dict)
    nickname: str | None = None


@dataclasses.dataclass(frozen=True)
class Tagged:
    id: int
    tags: Set[str]


@dataclasses.dataclass
class Node:
    value: int
    children: list[Node] = dataclasses.field(default_factory=list)
    parent_label: Optional[str] = None


class Blob:
    """A plain class: no rule knows it, so it falls back to pickle."""

    def __init__(self, data=b""):
        self.data = data

    def __eq__(self, other):
        return isinstance(other, Blob) and other.data == self.data

    __hash__ = None


class Opaque:
    pass


@dataclasses.dataclass
class Order:
    id: int
    payload: Blob
    extras: List[Opaque] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Dangling:
    ref: MissingName  # noqa: F821 - deliberately undefined


T = TypeVar("T")
UserId = NewType("UserId", int)


@dataclasses.dataclass
class Box(Generic[T]):
    item: T
    label: str = ""


class MyBox(Generic[T]):
    def __init__(self, item):
        self.item = item

    def __eq__(self, other):
        return type(other) is type(self) and other.item == self.item


class MyBoxCoder(coders.Coder):
    """A user coder for MyBox[T]: the item's coder, nothing else."""

    def __init__(self, item_coder):
        self.item_coder = item_coder

    def encode_to(self, value, out, nested):
        self.item_coder.encode_to(value.item, out, nested)

    def decode_from(self, data, pos, nested):
        item, pos = self.item_coder.decode_from(data, pos, nested)
        return MyBox(item), pos

    def labelled_components(self):
        return [(".item", self.item_coder)]


class Animal:
    def __init__(self, name):
        self.name = name

    def __eq__(self, other):
        return isinstance(other, Animal) and other.name == self.name


class Dog(Animal):
    pass


class Puppy(Dog):
    pass


class AnimalCoder(coders.Coder):
    """Codes any Animal by its name (decodes to Animal)."""

    def encode_to(self, value, out, nested):
        StrUtf8Coder().encode_to(value.name, out, nested)

    def decode_from(self, data, pos, nested):
        name, pos = StrUtf8Coder().decode_from(data, pos, nested)
        return Animal(name), pos


# ---- every hint resolves to the expected coder and round-trips -----------------------------


def _address():
    return RecordCoder(
        Address, [("street", StrUtf8Coder(lenient=True)), ("zip_code", NullableCoder(VarIntCoder(lenient=True)))]
    )


RESOLUTIONS = [
    (int, VarIntCoder(lenient=True), [0, -1, 2**63 - 1]),
    (float, FloatCoder(lenient=True), [1.5, -0.0]),
    (str, StrUtf8Coder(lenient=True), ["", "héllo"]),
    (bytes, BytesCoder(), [b"", b"\x00\xff"]),
    (bool, BooleanCoder(), [True, False]),
    (None, NoneCoder(), [None]),
    (type(None), NoneCoder(), [None]),
    (Any, AnyCoder(), [1, 1.0, True, {"a": [None]}]),
    (object, AnyCoder(), [("x", 2)]),
    (Optional[int], NullableCoder(VarIntCoder(lenient=True)), [None, 5]),
    (int | None, NullableCoder(VarIntCoder(lenient=True)), [None, 5]),
    (
        Optional[Union[int, str]],
        NullableCoder(UnionCoder([(int, VarIntCoder(lenient=True)), (str, StrUtf8Coder(lenient=True))])),
        [None, 1, "a"],
    ),
    (Union[int, str], UnionCoder([(int, VarIntCoder(lenient=True)), (str, StrUtf8Coder(lenient=True))]), [3, "three"]),
    (int | str, UnionCoder([(int, VarIntCoder(lenient=True)), (str, StrUtf8Coder(lenient=True))]), [3, "three"]),
    (Tuple[int, str], TupleCoder(VarIntCoder(lenient=True), StrUtf8Coder(lenient=True)), [(1, "a")]),
    (tuple[int, str], TupleCoder(VarIntCoder(lenient=True), StrUtf8Coder(lenient=True)), [(1, "a")]),
    (tuple[()], TupleCoder(), [()]),
    (Tuple[int, ...], TupleSequenceCoder(VarIntCoder(lenient=True)), [(), (1, 2, 3)]),
    (tuple[int, ...], TupleSequenceCoder(VarIntCoder(lenient=True)), [(1, 2)]),
    (tuple, TupleSequenceCoder(AnyCoder()), [(1, "a", 2.0)]),
    (Tuple, TupleSequenceCoder(AnyCoder()), [(1,)]),
    (List[int], ListCoder(VarIntCoder(lenient=True), lenient=True), [[], [1, 2]]),
    (list[int], ListCoder(VarIntCoder(lenient=True), lenient=True), [[3]]),
    (list, ListCoder(AnyCoder(), lenient=True), [[1, "a"]]),
    (List, ListCoder(AnyCoder(), lenient=True), [[1.0]]),
    (Sequence[str], ListCoder(StrUtf8Coder(lenient=True), lenient=True), [["a", "b"]]),
    (Iterable[int], IterableCoder(VarIntCoder(lenient=True)), [[1, 2, 3]]),
    (typing.Collection[int], IterableCoder(VarIntCoder(lenient=True)), [[4]]),
    (Dict[str, int], MapCoder(StrUtf8Coder(lenient=True), VarIntCoder(lenient=True)), [{}, {"a": 1}]),
    (dict[str, int], MapCoder(StrUtf8Coder(lenient=True), VarIntCoder(lenient=True)), [{"b": 2}]),
    (Mapping[str, int], MapCoder(StrUtf8Coder(lenient=True), VarIntCoder(lenient=True)), [{"c": 3}]),
    (dict, MapCoder(AnyCoder(), AnyCoder()), [{1: "x"}]),
    (typing.MutableMapping[str, bytes], MapCoder(StrUtf8Coder(lenient=True), BytesCoder()), [{"m": b"1"}]),
    (typing.MutableSequence[int], ListCoder(VarIntCoder(lenient=True), lenient=True), [[1]]),
    (Set[int], SetCoder(VarIntCoder(lenient=True)), [set(), {1, 2}]),
    (set[str], SetCoder(StrUtf8Coder(lenient=True)), [{"a"}]),
    (AbstractSet[int], SetCoder(VarIntCoder(lenient=True)), [{5}]),
    (typing.MutableSet[int], SetCoder(VarIntCoder(lenient=True)), [{6}]),
    (set, SetCoder(AnyCoder()), [{1, "a"}]),
    (FrozenSet[int], SetCoder(VarIntCoder(lenient=True), frozen=True), [frozenset({1, 2})]),
    (frozenset[str], SetCoder(StrUtf8Coder(lenient=True), frozen=True), [frozenset({"z"})]),
    (Color, EnumCoder(Color), [Color.RED, Color.GREEN]),
    (Level, EnumCoder(Level), [Level.HIGH]),
    (Point, RecordCoder(Point, [("x", VarIntCoder(lenient=True)), ("y", FloatCoder(lenient=True))]), [Point(1, 2.5)]),
    (Pair, RecordCoder(Pair, [("left", AnyCoder()), ("right", AnyCoder())]), [Pair(1, "b")]),
    (Address, _address(), [Address("Main St"), Address("Elm", 12345)]),
    (
        Customer,
        RecordCoder(
            Customer,
            [
                ("name", StrUtf8Coder(lenient=True)),
                ("address", _address()),
                ("color", EnumCoder(Color)),
                ("scores", MapCoder(StrUtf8Coder(lenient=True), ListCoder(FloatCoder(lenient=True), lenient=True))),
                ("nickname", NullableCoder(StrUtf8Coder(lenient=True))),
            ],
        ),
        [Customer("ann", Address("x"), Color.GREEN, {"m": [1.0, 2.0]}, "a"), Customer("bob", Address("y", 1))],
    ),
    (
        Box[int],
        RecordCoder(Box, [("item", VarIntCoder(lenient=True)), ("label", StrUtf8Coder(lenient=True))]),
        [Box(7, "seven")],
    ),
    (Box, RecordCoder(Box, [("item", AnyCoder()), ("label", StrUtf8Coder(lenient=True))]), [Box("any", "")]),
    (UserId, VarIntCoder(lenient=True), [UserId(42)]),
    (Annotated[str, "meta"], StrUtf8Coder(lenient=True), ["annotated"]),
    (typing.Literal["open", "closed"], StrUtf8Coder(lenient=True), ["open"]),
    (
        typing.Literal[1, "x", None],
        NullableCoder(UnionCoder([(int, VarIntCoder(lenient=True)), (str, StrUtf8Coder(lenient=True))])),
        [1, "x", None],
    ),
    (typing.Literal[Color.RED], EnumCoder(Color), [Color.RED]),
    (T, AnyCoder(), [[1, "x"]]),
    (TypeVar("N", bound=int), VarIntCoder(lenient=True), [9]),
    (
        datetime.datetime,
        DateTimeCoder(),
        [
            datetime.datetime(2024, 1, 2, 3, 4, 5, 678901),
            datetime.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.UTC),
            datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
        ],
    ),
    (datetime.date, DateCoder(), [datetime.date(2024, 2, 29)]),
    (datetime.time, TimeCoder(), [datetime.time(23, 59, 59, 999999)]),
    (datetime.timedelta, TimeDeltaCoder(), [datetime.timedelta(days=-3, microseconds=5)]),
    (decimal.Decimal, DecimalCoder(), [decimal.Decimal("-12.3400")]),
    (uuid.UUID, UUIDCoder(), [uuid.UUID("12345678-1234-5678-1234-567812345678")]),
    (
        Dict[str, List[Optional[Point]]],
        MapCoder(
            StrUtf8Coder(lenient=True),
            ListCoder(
                NullableCoder(RecordCoder(Point, [("x", VarIntCoder(lenient=True)), ("y", FloatCoder(lenient=True))])),
                lenient=True,
            ),
        ),
        [{"k": [None, Point(0, 0.0)]}],
    ),
]


@pytest.mark.parametrize("hint, expected, values", RESOLUTIONS, ids=[type_name(h) for h, _, _ in RESOLUTIONS])
def test_hint_resolves_to_expected_coder_and_round_trips(hint, expected, values):
    registry = CoderRegistry(strict=True)
    coder = registry.get_coder(hint)
    assert coder == expected, f"{type_name(hint)}: got {coder!r}, expected {expected!r}"
    assert repr(coder) == repr(expected)
    for value in values:
        assert coder.decode(coder.encode(value)) == value
        assert coder.decode_nested(coder.encode_nested(value)) == value


def test_beam_timestamp_is_recognised_by_name():
    from apache_beam.utils.timestamp import Timestamp

    coder = CoderRegistry().get_coder(Timestamp)
    assert coder == TimestampCoder(as_beam_timestamp=True)
    value = Timestamp(micros=1_700_000_000_123_000)
    assert coder.decode(coder.encode(value)) == value


def test_registry_modules_import_without_apache_beam_and_coders_registry_is_always_the_default_registry():
    # `coders.registry` means one thing whatever the import order: the default CoderRegistry.
    code = """
import sys
import coders.typecoders
import coders
first = coders.registry
assert isinstance(first, coders.CoderRegistry), first
assert first is coders.typecoders.registry
import coders.determinism, coders.dynamic
assert coders.registry is first
assert coders.registry.get_coder(dict[str, list[int]]) == coders.MapCoder(
    coders.StrUtf8Coder(lenient=True), coders.ListCoder(coders.VarIntCoder(lenient=True), lenient=True))
assert 'apache_beam' not in sys.modules, 'apache_beam was imported'
try:
    import coders.registry
except ModuleNotFoundError:
    pass
else:
    raise AssertionError('coders.registry must not be a module')
assert isinstance(coders.registry, coders.CoderRegistry)
"""
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_uuid_coder_bytes_are_the_16_uuid_bytes_in_both_contexts():
    value = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert UUIDCoder().encode(value) == UUIDCoder().encode_nested(value) == value.bytes
    assert UUIDCoder().is_deterministic()
    with pytest.raises(coders.DecodeError, match="UUID: need 16 bytes"):
        UUIDCoder().decode(b"\x00" * 15)
    with pytest.raises(coders.DecodeError, match="trailing data|exactly 16 bytes"):
        UUIDCoder().decode(b"\x00" * 17)
    with pytest.raises(coders.EncodeError, match="expected a uuid.UUID, got str"):
        UUIDCoder().encode(str(value))


# ---- recursive and future-annotation records ---------------------------------------------------


def test_recursive_dataclass_resolves_to_a_self_referencing_record_coder():
    coder = CoderRegistry(strict=True).get_coder(Node)
    assert isinstance(coder, RecordCoder) and coder.cls is Node
    assert coder.field_names == ("value", "children", "parent_label")
    children = coder.field_coders[1]
    assert isinstance(children, ListCoder) and children.components()[0] is coder
    tree = Node(1, [Node(2, [Node(4)], "one"), Node(3)])
    assert coder.decode(coder.encode(tree)) == tree
    assert "Node[...]" in repr(coder)


def test_string_annotations_are_resolved_in_the_defining_module():
    # Every annotation in this module is a string (from __future__ import annotations).
    assert isinstance(Customer.__dataclass_fields__["scores"].type, str)
    coder = CoderRegistry(strict=True).get_coder(Customer)
    assert coder.field_coders[3] == MapCoder(
        StrUtf8Coder(lenient=True), ListCoder(FloatCoder(lenient=True), lenient=True)
    )


def test_a_name_that_cannot_be_resolved_falls_back_and_says_so():
    registry = CoderRegistry()
    with pytest.warns(FallbackCoderWarning) as caught:
        coder = registry.get_coder(Dangling)
    assert coder.field_coders[0] == PickleCoder()
    message = str(caught[0].message)
    assert "the forward reference `MissingName`, which could not be resolved" in message
    assert "field `ref` of `Dangling`" in message


# ---- registrations -------------------------------------------------------------------------------


def test_registered_instance_wins_over_the_built_in_rules():
    registry = CoderRegistry()
    registry.register_coder(int, FloatCoder())
    assert registry.get_coder(int) == FloatCoder()
    assert registry.get_coder(List[int]) == ListCoder(FloatCoder(), lenient=True)


def test_registered_factory_for_a_generic_is_called_with_the_component_coders():
    registry = CoderRegistry(strict=True)
    calls = []

    def factory(item_coder):
        calls.append(item_coder)
        return MyBoxCoder(item_coder)

    registry.register_coder(MyBox, factory)
    coder = registry.get_coder(MyBox[int])
    assert calls == [VarIntCoder(lenient=True)]
    assert isinstance(coder, MyBoxCoder) and coder.item_coder == VarIntCoder(lenient=True)
    assert coder.decode(coder.encode(MyBox(5))) == MyBox(5)
    assert registry.get_coder(MyBox[List[str]]).item_coder == ListCoder(StrUtf8Coder(lenient=True), lenient=True)
    # bare generic: one AnyCoder per type parameter
    assert registry.get_coder(MyBox).item_coder == AnyCoder()
    # a Coder class is a factory too
    registry.register_coder(uuid.UUID, UUIDCoder)
    assert registry.get_coder(uuid.UUID) == UUIDCoder()


def test_subclasses_resolve_to_the_nearest_registered_base_unless_registered_themselves():
    registry = CoderRegistry(strict=True)
    registry.register_coder(Animal, AnimalCoder())
    assert isinstance(registry.get_coder(Dog), AnimalCoder)
    assert isinstance(registry.get_coder(Puppy), AnimalCoder)
    registry.register_coder(Dog, StrUtf8Coder())
    assert registry.get_coder(Puppy) == StrUtf8Coder()  # Dog is nearer than Animal in the MRO
    assert isinstance(registry.get_coder(Animal), AnimalCoder)


def test_a_builtin_registration_does_not_take_over_its_subclasses():
    registry = CoderRegistry(strict=True)
    registry.register_coder(int, FloatCoder())
    assert registry.get_coder(bool) == BooleanCoder()
    assert registry.get_coder(Level) == EnumCoder(Level)
    registry.register_coder(list, lambda element: IterableCoder(element))
    assert registry.get_coder(List[str]) == IterableCoder(StrUtf8Coder(lenient=True))


def test_an_optional_field_is_named_as_the_field():
    @dataclasses.dataclass
    class Local:
        maybe: Optional[Blob]

    with pytest.warns(FallbackCoderWarning, match=r"no coder for `Blob` \(field `maybe` of `Local`\)"):
        CoderRegistry().get_coder(Local)


def test_registries_are_independent():
    mine, other = CoderRegistry(), CoderRegistry()
    mine.register_coder(Blob, BytesCoder())
    assert mine.get_coder(Blob) == BytesCoder()
    with pytest.warns(FallbackCoderWarning):
        assert other.get_coder(Blob) == PickleCoder()
    assert Blob not in coders.registry._registrations


def test_cache_returns_the_same_coder_and_register_coder_clears_it():
    registry = CoderRegistry()
    first = registry.get_coder(Dict[str, Point])
    assert registry.get_coder(Dict[str, Point]) is first
    registry.register_coder(Point, BytesCoder())
    assert registry.get_coder(Dict[str, Point]) == MapCoder(StrUtf8Coder(lenient=True), BytesCoder())


@pytest.mark.parametrize(
    "bad, message",
    [
        (42, "takes a coders.Coder instance or a factory that returns one, not int 42"),
        (str, "not type <class 'str'>"),
    ],
)
def test_register_coder_rejects_what_is_not_a_coder_or_factory(bad, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        CoderRegistry().register_coder(Blob, bad)


def test_a_factory_that_returns_no_coder_is_named_in_the_error():
    registry = CoderRegistry()
    registry.register_coder(MyBox, lambda item: "not a coder")
    with pytest.raises(
        TypeError,
        match=r"the factory registered for `MyBox` returned str 'not a coder' for "
        r"`MyBox\[int\]`, not a coders.Coder",
    ):
        registry.get_coder(MyBox[int])


def test_module_level_functions_use_the_default_registry():
    from coders import registry

    assert isinstance(registry, CoderRegistry)
    assert coders.get_coder(List[int]) == ListCoder(VarIntCoder(lenient=True), lenient=True)
    assert registry.get_coder(Point) == CoderRegistry().get_coder(Point)


# ---- the fallback warning -------------------------------------------------------------------------


def test_fallback_warning_names_type_where_slowness_and_fix_and_points_at_the_caller():
    registry = CoderRegistry()
    with pytest.warns(FallbackCoderWarning) as caught:
        coder = registry.get_coder(Order)
    assert coder.field_coders[1] == PickleCoder()
    assert coder.field_coders[2] == ListCoder(PickleCoder(), lenient=True)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2
    blob, opaque = messages
    assert "no coder for `Blob` (field `payload` of `Order`)" in blob
    assert "PickleCoder (dill), which is slow and not deterministic" in blob
    assert "Fix: register a coder with coders.register_coder(Blob, coder)" in blob
    assert "or make Blob a dataclass or NamedTuple" in blob
    assert "no coder for `Opaque` (element of `List[Opaque]`, in field `extras` of `Order`)" in opaque
    assert all(w.filename == __file__ for w in caught)


def test_fallback_at_the_top_level_says_so():
    with pytest.warns(FallbackCoderWarning, match=r"no coder for `Blob` \(the top-level type\)"):
        CoderRegistry().get_coder(Blob)


def test_fallback_warns_once_per_type_per_registry():
    registry = CoderRegistry()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        registry.get_coder(Blob)
        registry.get_coder(List[Blob])
        registry.get_coder(Dict[str, Blob])
        registry.register_coder(Point, BytesCoder())  # clears the cache, not the once-per-type memory
        registry.get_coder(Blob)
        CoderRegistry().get_coder(Blob)  # another registry warns on its own
    assert [str(w.message).split(" (")[0] for w in caught] == ["no coder for `Blob`"] * 2


# The warn-once rule, one direction per test: once per type per registry, wherever and however
# often the type is met, whatever clears the cache, from any thread.


@dataclasses.dataclass
class TwoBlobs:
    first: Blob
    second: Optional[Blob] = None
    more: List[Blob] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class BlobTree:
    payload: Blob
    kids: List[BlobTree] = dataclasses.field(default_factory=list)


class MetByTwoRegistries:
    """Met only by the test below, in a new registry and in the default one."""


def fallback_warnings(action) -> list[str]:
    """What ``action()`` warns, each as its first clause (the type and where it was met); Python's own
    once-per-line filter is off, so every warning the registry emits is seen."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action()
    assert all(w.category is FallbackCoderWarning for w in caught)
    return [str(w.message).split(";")[0] for w in caught]


def test_the_same_type_warns_once_in_one_registry_however_often_and_wherever_it_is_met():
    registry = CoderRegistry()
    assert fallback_warnings(lambda: registry.get_coder(Blob)) == ["no coder for `Blob` (the top-level type)"]
    later = {}

    def meet_it_again():
        for hint in (Blob, List[Blob], Dict[str, Blob], Optional[Blob], Tuple[int, Blob], TwoBlobs):
            later[hint] = registry.get_coder(hint)

    assert fallback_warnings(meet_it_again) == []
    # still the pickle fallback each time: silence is the warn-once memory, not a coder found
    assert later[List[Blob]] == ListCoder(PickleCoder(), lenient=True)
    assert later[TwoBlobs].field_coders[0] == PickleCoder()


def test_a_second_type_warns_after_the_first():
    registry = CoderRegistry()
    assert fallback_warnings(lambda: registry.get_coder(Blob)) == ["no coder for `Blob` (the top-level type)"]
    assert fallback_warnings(lambda: registry.get_coder(Opaque)) == ["no coder for `Opaque` (the top-level type)"]
    assert fallback_warnings(lambda: registry.get_coder(Tuple[Opaque, Blob])) == []
    # two new types in one hint: one warning each, in the order they are met
    assert fallback_warnings(lambda: CoderRegistry().get_coder(Tuple[Opaque, List[Blob]])) == [
        "no coder for `Opaque` (item 0 of `Tuple[Opaque, List[Blob]]`)",
        "no coder for `Blob` (element of `List[Blob]`, in item 1 of `Tuple[Opaque, List[Blob]]`)",
    ]


def test_a_second_independent_registry_warns_on_its_own():
    first, second = CoderRegistry(), CoderRegistry()
    assert fallback_warnings(lambda: first.get_coder(Blob)) == ["no coder for `Blob` (the top-level type)"]
    assert fallback_warnings(lambda: second.get_coder(List[Blob])) == ["no coder for `Blob` (element of `List[Blob]`)"]
    # and the second one's warning did not reset the first one's memory
    assert fallback_warnings(lambda: first.get_coder(List[Blob])) == []
    # the default registry is one more independent registry
    top = "no coder for `MetByTwoRegistries` (the top-level type)"
    assert fallback_warnings(lambda: CoderRegistry().get_coder(MetByTwoRegistries)) == [top]
    assert fallback_warnings(lambda: coders.get_coder(MetByTwoRegistries)) == [top]
    assert fallback_warnings(lambda: CoderRegistry().get_coder(MetByTwoRegistries)) == [top]


def test_nested_uses_of_one_type_in_one_hint_warn_once_naming_the_first_place():
    hint = Tuple[Blob, List[Blob], Dict[str, Blob]]
    assert fallback_warnings(lambda: CoderRegistry().get_coder(hint)) == [
        "no coder for `Blob` (item 0 of `Tuple[Blob, List[Blob], Dict[str, Blob]]`)"
    ]
    assert fallback_warnings(lambda: CoderRegistry().get_coder(TwoBlobs)) == [
        "no coder for `Blob` (field `first` of `TwoBlobs`)"
    ]
    # a recursive record meets its field's type at every level it resolves
    assert fallback_warnings(lambda: CoderRegistry().get_coder(BlobTree)) == [
        "no coder for `Blob` (field `payload` of `BlobTree`)"
    ]


@pytest.mark.parametrize(
    "clear",
    [
        lambda r: r.register_coder(Point, BytesCoder()),
        lambda r: r.clear_cache(),
        lambda r: r.add_rule(lambda hint, registry, context: None),
        lambda r: setattr(r, "strict", False),
    ],
    ids=["register_coder", "clear_cache", "add_rule", "strict"],
)
def test_clearing_the_cache_keeps_the_warn_once_memory(clear):
    registry = CoderRegistry()
    assert fallback_warnings(lambda: registry.get_coder(Blob)) == ["no coder for `Blob` (the top-level type)"]
    first = registry.get_coder(Blob)
    clear(registry)
    again = []
    assert fallback_warnings(lambda: again.append(registry.get_coder(Blob))) == []
    # resolved again (a new fallback coder, not the cached one), and still not warned
    assert again[0] == PickleCoder() and again[0] is not first


def test_registering_the_type_itself_ends_the_fallback_without_a_warning():
    registry = CoderRegistry()
    assert fallback_warnings(lambda: registry.get_coder(Blob)) == ["no coder for `Blob` (the top-level type)"]
    registry.register_coder(Blob, BytesCoder())
    found = []
    assert fallback_warnings(lambda: found.append(registry.get_coder(List[Blob]))) == []
    assert found == [ListCoder(BytesCoder(), lenient=True)]


def test_threads_warn_once_per_type_per_registry():
    import threading
    import time

    registries = [CoderRegistry(), CoderRegistry()]
    # every thread resolves its own hint (no cache hit), so each one reaches the warn-once check
    hints = [Blob, List[Blob], Dict[str, Blob], Optional[Blob], Tuple[Blob, Opaque], List[Opaque], Order, TwoBlobs]
    jobs = [(r, h) for r in registries for h in hints]
    barrier = threading.Barrier(len(jobs))
    caught, failures = [], []

    def slow_record(message, category, filename, lineno, file=None, line=None):
        # a slow warning handler widens any gap between "not warned yet?" and "warned": two threads
        # that both pass the check would both be recorded here
        caught.append(str(message).split(" (")[0])
        time.sleep(0.005)

    def work(registry, hint):
        barrier.wait()
        try:
            registry.get_coder(hint)
        except Exception as e:  # reported after the join, with the other threads done
            failures.append(e)

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = slow_record
        threads = [threading.Thread(target=work, args=job) for job in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert failures == []
    assert sorted(caught) == ["no coder for `Blob`"] * 2 + ["no coder for `Opaque`"] * 2


def test_warning_filters_can_silence_the_fallback_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=FallbackCoderWarning)
        assert CoderRegistry().get_coder(Blob) == PickleCoder()
    assert caught == []


def test_warning_filters_can_escalate_the_fallback_warning_to_an_error():
    registry = CoderRegistry()
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackCoderWarning)
        with pytest.raises(FallbackCoderWarning, match="field `payload` of `Order`"):
            registry.get_coder(Order)
        # escalated, so not marked as warned: it raises again
        with pytest.raises(FallbackCoderWarning):
            registry.get_coder(Order)


# ---- strict mode -----------------------------------------------------------------------------------


def test_strict_registry_raises_once_naming_every_type_and_where():
    registry = CoderRegistry(strict=True)
    with pytest.raises(CoderNotFoundError) as info:
        registry.get_coder(Tuple[Order, Blob])
    err = info.value
    assert err.types == (Blob, Opaque)
    text = str(err)
    assert "strict registry: no coder for 2 type(s) in `Tuple[Order, Blob]`" in text
    assert "`Blob` (field `payload` of `Order`, in item 0 of `Tuple[Order, Blob]`)" in text
    assert "`Opaque` (element of `List[Opaque]`, in field `extras` of `Order`, in item 0 of" in text
    assert "`Blob` (item 1 of `Tuple[Order, Blob]`)" in text
    assert "Fix: register a coder for each with coders.register_coder(T, coder)" in text


def test_strict_can_be_switched_at_runtime():
    registry = CoderRegistry()
    with pytest.warns(FallbackCoderWarning):
        registry.get_coder(Blob)
    registry.strict = True
    with pytest.raises(CoderNotFoundError, match="`Blob` \\(the top-level type\\)"):
        registry.get_coder(Blob)  # the cached fallback was cleared
    registry.strict = False
    assert registry.get_coder(Blob) == PickleCoder()


def test_the_default_registry_is_switchable_through_the_package():
    registry = coders.registry
    assert registry.strict is False
    registry.strict = True
    try:
        with pytest.raises(CoderNotFoundError):
            coders.get_coder(Opaque)
    finally:
        registry.strict = False
    assert coders.get_coder(Opaque) == PickleCoder()


# ---- determinism of derived coders --------------------------------------------------------------------


def test_derived_coders_are_deterministic_exactly_when_their_parts_are():
    registry = CoderRegistry(strict=True)
    assert registry.get_coder(Address).is_deterministic()
    assert registry.get_coder(Tuple[int, str, Color]).is_deterministic()
    assert registry.get_coder(Point).is_deterministic() is False  # y: float
    tagged = registry.get_coder(Tagged)
    assert not tagged.is_deterministic()
    with pytest.raises(NonDeterministicCoderError) as info:
        tagged.verify_deterministic()
    assert "Tagged.tags -> SetCoder: a set is written in iteration order" in str(info.value)
    fixed = tagged.as_deterministic_coder()
    assert fixed.is_deterministic()
    value = Tagged(1, {"b", "a", "c"})
    assert fixed.decode(fixed.encode(value)) == value


def test_customer_reports_every_nondeterministic_path():
    issues = CoderRegistry(strict=True).get_coder(Customer).determinism_issues()
    by_path = sorted((i.path, type(i.coder).__name__) for i in issues)
    assert len(by_path) == 2
    assert by_path[0] == ("Customer.scores", "MapCoder")
    assert by_path[1][0].startswith("Customer.scores.value") and by_path[1][1] == "FloatCoder"


# ---- docs/registry.md lists the rules, in order ------------------------------------------------------------


def test_docs_list_every_rule_in_registry_order_and_nothing_else():
    text = (ROOT / "docs" / "registry.md").read_text()
    doc = text.split("## How a hint is resolved", 1)[1].split("\n## ", 1)[0]
    names = [rule.__name__ for rule in CoderRegistry().rules]
    documented = re.findall(r"^\d+\. `(\w+)`", doc, flags=re.MULTILINE)
    assert documented == names
    mentioned = set(re.findall(r"\b(\w+_rule)\b", doc))
    assert mentioned == set(names)


# ---- property: values of a hint round-trip through its derived coder ------------------------------------

PROPERTY_HINTS = [
    Address,
    Tuple[int, str],
    Dict[str, List[Optional[int]]],
    Color,
    Tagged,
    FrozenSet[str],
    Union[int, str, None],
    Node,
    Box[str],
    Tuple[bytes, ...],
]


def _ints_fit_int64(value) -> bool:
    if isinstance(value, (bool, enum.Enum)):
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(_ints_fit_int64(v) for v in value)
    if isinstance(value, dict):
        return all(_ints_fit_int64(k) and _ints_fit_int64(v) for k, v in value.items())
    if dataclasses.is_dataclass(value):
        return all(_ints_fit_int64(getattr(value, f.name)) for f in dataclasses.fields(value))
    return True


@pytest.mark.parametrize("hint", PROPERTY_HINTS, ids=[type_name(h) for h in PROPERTY_HINTS])
def test_values_generated_from_the_hint_round_trip_exactly(hint):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    coder = CoderRegistry(strict=True).get_coder(hint)
    if hint is Node:
        leaf = st.builds(Node, st.integers(-5, 5), st.just([]), st.none() | st.text(max_size=3))
        strategy = leaf.map(lambda n: Node(1, [n, Node(2, [n])]))
    elif hint == Box[str]:
        strategy = st.builds(Box, st.text(max_size=5), st.text(max_size=5))
    else:
        strategy = st.from_type(hint)

    @settings(max_examples=25, deadline=None)
    @given(strategy)
    def round_trip(value):
        if not _ints_fit_int64(value):  # Python ints are unbounded; VarIntCoder (Beam's) is int64
            with pytest.raises(coders.EncodeError, match=r"int64 range"):
                coder.encode(value)
            return
        for encode, decode in ((coder.encode, coder.decode), (coder.encode_nested, coder.decode_nested)):
            back = decode(encode(value))
            assert back == value and type(back) is type(value)

    round_trip()


# ---- sharing and the fallback-free component cache ------------------------------------------------------


def test_a_type_met_twice_in_one_hint_gets_one_shared_coder():
    coder = CoderRegistry(strict=True).get_coder(Tuple[Address, List[Address], Optional[Address]])
    first, in_list, optional = coder.components()
    assert in_list.components()[0] is first and optional.components()[0] is first


def test_cached_components_never_hide_a_fallback():
    registry = CoderRegistry()
    with pytest.warns(FallbackCoderWarning):
        registry.get_coder(Order)
    # fallbacks_in resolves again and still sees both pickled types, without warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = registry.fallbacks_in(Dict[str, Order])
    assert found == [
        (Blob, "field `payload` of `Order`, in value of `Dict[str, Order]`"),
        (Opaque, "element of `List[Opaque]`, in field `extras` of `Order`, in value of `Dict[str, Order]`"),
    ]
    assert registry.fallbacks_in(Dict[str, Address]) == []


def test_is_registered_sees_base_classes():
    registry = CoderRegistry()
    assert not registry.is_registered(Dog)
    registry.register_coder(Animal, AnimalCoder())
    assert registry.is_registered(Dog) and registry.is_registered(Animal) and not registry.is_registered(Blob)


@pytest.mark.parametrize(
    "hint",
    [
        collections.OrderedDict,
        typing.OrderedDict[str, int],
        collections.Counter,
        typing.DefaultDict[str, int],
    ],
)
def test_types_a_builtin_rule_would_change_fall_back_instead(hint):
    with pytest.warns(
        FallbackCoderWarning, match=re.escape(f"no coder for `{type_name(hint)}` (the top-level type)")
    ) as caught:
        assert CoderRegistry().get_coder(hint) == PickleCoder()
    # a standard-library type cannot be made a dataclass: the fix offered is a registration only
    assert str(caught[0].message).endswith(
        f"Fix: register a coder with coders.register_coder({type_name(hint)}, coder) (or a factory)."
    )


def test_bytearray_gets_its_own_coder_not_the_bytes_rule_or_the_fallback():
    # bytes' coder would decode a bytearray as bytes; scalar_rule gives bytearray its own coder
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackCoderWarning)
        coder = CoderRegistry(strict=True).get_coder(bytearray)
    assert coder == BytearrayCoder() and repr(coder) == repr(BytearrayCoder())
    value = bytearray(b"\x00\xff")
    assert coder.encode(value) == BytesCoder().encode(b"\x00\xff") == b"\x00\xff"
    assert coder.encode_nested(value) == b"\x02\x00\xff"
    for back in (coder.decode(coder.encode(value)), coder.decode_nested(coder.encode_nested(value))):
        assert back == value and type(back) is bytearray


# ---- the default registry's warning, threads, pickled coders ------------------------------------------------


class OnlyForTheDefaultRegistry:
    """Met only by the test below, so the default registry's once-per-type memory is fresh."""


def test_module_level_get_coder_warning_points_at_the_caller():
    with pytest.warns(FallbackCoderWarning, match="`OnlyForTheDefaultRegistry` \\(the top-level type\\)") as caught:
        coders.get_coder(OnlyForTheDefaultRegistry)
    assert caught[0].filename == __file__


def test_concurrent_get_coder_gives_one_coder_and_one_warning():
    import threading

    registry = CoderRegistry()
    results, barrier = [], threading.Barrier(6)

    def work():
        barrier.wait()
        results.append(registry.get_coder(Order))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        threads = [threading.Thread(target=work) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(results) == 6 and all(r is results[0] for r in results)
    assert sorted(str(w.message).split(" (")[0] for w in caught) == ["no coder for `Blob`", "no coder for `Opaque`"]


@pytest.mark.parametrize("hint", [Node, Customer, Dict[str, Tagged], Optional[Union[int, str]], uuid.UUID, Any])
def test_derived_coders_pickle_and_still_work(hint):
    import pickle

    coder = CoderRegistry(strict=True).get_coder(hint)
    back = pickle.loads(pickle.dumps(coder))
    assert back == coder and hash(back) == hash(coder)
    sample = {
        Node: Node(1, [Node(2)]),
        Customer: Customer("c", Address("s", 1)),
        Dict[str, Tagged]: {"t": Tagged(1, {"x"})},
        Optional[Union[int, str]]: "u",
        uuid.UUID: uuid.UUID(int=7),
        Any: (1, "a"),
    }[hint]
    assert back.decode(coder.encode(sample)) == sample


def test_unions_that_typing_calls_equal_keep_their_own_member_order():
    # Union[int, float] == Union[float, int] in typing, but tags are member positions.
    registry = CoderRegistry(strict=True)
    first = registry.get_coder(Union[float, int])
    second = registry.get_coder(Union[int, float])
    assert [t for t, _ in zip(first.member_types, first.member_coders)] == [float, int]
    assert [t for t, _ in zip(second.member_types, second.member_coders)] == [int, float]
    assert second.encode(5) == b"\x00\x05"
    inside = registry.get_coder(Tuple[Union[int, float], Union[float, int]])
    assert [c.member_types for c in inside.components()] == [(int, float), (float, int)]


def test_quoted_names_inside_generics_resolve_without_the_future_import(monkeypatch):
    import textwrap
    import types as pytypes

    source = textwrap.dedent("""
        import dataclasses, typing

        @dataclasses.dataclass
        class Tree:
            label: str
            kids: list["Tree"]
            index: typing.Dict[str, "Tree"]
            parent: typing.Optional["Tree"] = None
    """)
    module = pytypes.ModuleType("d1_quoted_models")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(source, "<d1_quoted_models>", "exec"), module.__dict__)
    tree_cls = module.Tree
    coder = CoderRegistry(strict=True).get_coder(tree_cls)
    kids, index, parent = coder.field_coders[1:]
    assert kids.components()[0] is coder and index.components()[1] is coder
    assert parent.components()[0] is coder
    leaf = tree_cls("leaf", [], {})
    root = tree_cls("root", [leaf], {"l": leaf})
    assert coder.decode(coder.encode(root)) == root


BEAM_DERIVED = [
    (int, [0, -7, 2**40]),
    (float, [0.5, -0.0]),
    (str, ["", "héllo"]),
    (bytes, [b"\x00\x01"]),
    (bool, [True, False]),
    (Tuple[int, str], [(1, "a"), (-1, "")]),
    (List[int], [[], [1, 300]]),
    (Iterable[str], [["a", "bc"]]),
    (Dict[str, int], [{}, {"a": 1, "b": 2}]),
    (Optional[int], [None, 5]),
    (Tuple[Optional[str], List[Tuple[int, bytes]]], [(None, [(1, b"x")]), ("s", [])]),
]


@pytest.mark.parametrize("hint, values", BEAM_DERIVED, ids=[type_name(h) for h, _ in BEAM_DERIVED])
def test_where_beams_registry_derives_a_coder_our_bytes_are_beams(hint, values):
    from apache_beam.coders import registry as beam_registry
    from apache_beam.typehints.native_type_compatibility import convert_to_beam_type

    ours = CoderRegistry(strict=True).get_coder(hint)
    beam = beam_registry.get_coder(convert_to_beam_type(hint))
    assert type(beam).__name__ != "FastPrimitivesCoder", f"Beam derives no coder for {hint}"
    for value in values:
        assert ours.encode(value) == beam.encode(value), (hint, value)
        assert ours.encode_nested(value) == beam.get_impl().encode_nested(value), (hint, value)
        assert beam.decode(ours.encode(value)) == value


# ---- property: a derived coder is deterministic exactly when every part is ---------------------------------


def _hint_trees():
    from hypothesis import strategies as st

    leaves = st.sampled_from(
        [
            (int, True),
            (str, True),
            (bytes, True),
            (bool, True),
            (Color, True),
            (Address, True),
            (float, False),
            (Any, False),
            (Point, False),
        ]
    )

    def extend(children):
        return st.one_of(
            children.map(lambda c: (List[c[0]], c[1])),
            children.map(lambda c: (Optional[c[0]], c[1])),
            children.map(lambda c: (Tuple[c[0], ...], c[1])),
            st.tuples(children, children).map(lambda p: (Tuple[p[0][0], p[1][0]], p[0][1] and p[1][1])),
            children.map(lambda c: (Dict[str, c[0]], False)),
            children.map(lambda c: (FrozenSet[c[0]], False)),
        )

    return st.recursive(leaves, extend, max_leaves=4)


def test_derived_coders_are_deterministic_exactly_when_every_part_is_property():
    from hypothesis import given, settings

    registry = CoderRegistry(strict=True)

    @settings(max_examples=60, deadline=None)
    @given(_hint_trees())
    def check(tree):
        hint, deterministic = tree
        coder = registry.get_coder(hint)
        assert coder.is_deterministic() is deterministic, (type_name(hint), coder.determinism_issues())
        fixed = coder.as_deterministic_coder()
        assert fixed.is_deterministic(), (type_name(hint), fixed.determinism_issues())

    check()


def test_the_docs_first_example_runs_and_its_coder_is_the_one_shown():
    text = (ROOT / "docs" / "registry.md").read_text()
    block = re.findall(r"```python\n(.*?)```", text, re.S)[0]
    module = types.ModuleType("docs_registry_example")  # dataclasses look their module up by name
    sys.modules[module.__name__] = module
    try:
        exec(compile(block, "docs/registry.md", "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    namespace = module.__dict__
    shown = re.search(r"^# (RecordCoder\[.*\])$", block, re.M).group(1)
    assert repr(namespace["coder"]) == shown
    assert namespace["coder"].decode(namespace["coder"].encode(namespace["Address"]("Main St", 12345))) == namespace[
        "Address"
    ]("Main St", 12345)
