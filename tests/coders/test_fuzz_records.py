"""Fuzz: random and mutated bytes into every decoder of records, enums, unions and pickle coders.

The only exception a decoder may raise is coders.DecodeError (no IndexError, MemoryError,
RecursionError, hang or crash); when decoding succeeds, the value re-encodes.
"""

from __future__ import annotations

import dataclasses
import enum
import sys
from typing import NamedTuple, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coders import (
    BooleanCoder,
    CloudpickleCoder,
    DecodeError,
    EnumCoder,
    FloatCoder,
    ListCoder,
    MapCoder,
    NoneCoder,
    NullableCoder,
    PickleCoder,
    RecordCoder,
    SetCoder,
    StrUtf8Coder,
    UnionCoder,
    VarIntCoder,
)


class Suit(enum.Enum):
    HEARTS = "h"
    SPADES = "s"


class Mode(enum.Flag):
    READ = 1
    WRITE = 2
    EXEC = 4


class Pair(NamedTuple):
    left: int
    right: str


@dataclasses.dataclass(frozen=True)
class Item:
    name: str
    price: float
    suit: Suit
    tags: frozenset
    note: Optional[str] = None


@dataclasses.dataclass
class Tree:
    label: str
    kids: list
    meta: dict


def item_coder():
    return RecordCoder(
        Item,
        [
            ("name", StrUtf8Coder()),
            ("price", FloatCoder()),
            ("suit", EnumCoder(Suit)),
            ("tags", SetCoder(VarIntCoder(), frozen=True)),
            ("note", NullableCoder(StrUtf8Coder())),
        ],
    )


def tree_coder():
    tree = RecordCoder.deferred(Tree)
    return tree.set_fields(
        [
            ("label", StrUtf8Coder()),
            ("kids", ListCoder(tree)),
            ("meta", MapCoder(StrUtf8Coder(), VarIntCoder())),
        ]
    )


def union_coder():
    return UnionCoder(
        [
            (int, VarIntCoder()),
            (bool, BooleanCoder()),
            (str, StrUtf8Coder()),
            (None, NoneCoder()),
            (Pair, RecordCoder(Pair, [("left", VarIntCoder()), ("right", StrUtf8Coder())])),
            (Suit, EnumCoder(Suit)),
        ]
    )


# (name, coder, sample values whose encodings seed the mutations)
SUBJECTS = [
    ("enum", EnumCoder(Suit), [Suit.HEARTS, Suit.SPADES]),
    ("flag", EnumCoder(Mode), [Mode.READ | Mode.EXEC, Mode(0), Mode.WRITE]),
    (
        "record",
        item_coder(),
        [Item("a", 1.5, Suit.SPADES, frozenset({1, 300}), "n"), Item("", -0.0, Suit.HEARTS, frozenset())],
    ),
    ("namedtuple", RecordCoder(Pair, [("left", VarIntCoder()), ("right", StrUtf8Coder())]), [Pair(-5, "xy")]),
    ("recursive", tree_coder(), [Tree("r", [Tree("a", [], {"k": 1}), Tree("b", [Tree("c", [], {})], {})], {"x": -1})]),
    ("union", union_coder(), [7, True, "s", None, Pair(1, "p"), Suit.HEARTS]),
    ("pickle", PickleCoder(), [[1, "a", (2.5, None)], {"k": b"v"}]),
    ("cloudpickle", CloudpickleCoder(), [[1, "a", (2.5, None)], {"k": b"v"}]),
]
SUBJECT_IDS = [s[0] for s in SUBJECTS]


def decode_only_decode_error(coder, data: bytes) -> None:
    for decode, encode in ((coder.decode, coder.encode), (coder.decode_nested, coder.encode_nested)):
        try:
            value = decode(data)
        except DecodeError:
            continue
        encode(value)  # what decodes must encode again


@st.composite
def mutated(draw, seeds: list[bytes]):
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "extend"]))
        if kind in ("flip", "set", "delete") and not data:
            kind = "insert"
        if kind == "flip":
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set":
            i = draw(st.integers(0, len(data) - 1))
            data[i] = draw(st.sampled_from([0x00, 0x7F, 0x80, 0xFF, 0x01, 0x7C]))
        elif kind == "insert":
            i = draw(st.integers(0, len(data)))
            data[i:i] = draw(st.binary(min_size=1, max_size=4))
        elif kind == "delete":
            i = draw(st.integers(0, len(data) - 1))
            del data[i : i + draw(st.integers(1, 3))]
        elif kind == "truncate":
            del data[draw(st.integers(0, len(data))) :]
        else:
            data += draw(st.binary(min_size=1, max_size=6))
    return bytes(data)


@pytest.mark.parametrize("name,coder,samples", SUBJECTS, ids=SUBJECT_IDS)
def test_random_bytes_raise_only_decode_error(name, coder, samples):
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.binary(max_size=48))
    def check(data):
        decode_only_decode_error(coder, data)

    check()


@pytest.mark.parametrize("name,coder,samples", SUBJECTS, ids=SUBJECT_IDS)
def test_mutated_encodings_raise_only_decode_error(name, coder, samples):
    seeds = [coder.encode(v) for v in samples] + [coder.encode_nested(v) for v in samples]

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(mutated(seeds))
    def check(data):
        decode_only_decode_error(coder, data)

    check()


@pytest.mark.parametrize("name,coder,samples", SUBJECTS, ids=SUBJECT_IDS)
def test_every_truncation_of_a_nested_encoding_is_decode_error(name, coder, samples):
    for value in samples:
        data = coder.encode_nested(value)
        for end in range(len(data)):
            with pytest.raises(DecodeError):
                coder.decode_nested(data[:end])


def test_hostile_counts_do_not_allocate():
    # a list of two billion trees claimed in five bytes
    with pytest.raises(DecodeError):
        tree_coder().decode(b"\x01r\x7f\xff\xff\xff\x00")
    # a name length of 2**62
    with pytest.raises(DecodeError, match="remain"):
        EnumCoder(Suit).decode_nested(b"\x80\x80\x80\x80\x80\x80\x80\x80\x40")


def nested_tree(depth: int) -> Tree:
    """A chain of ``depth`` single-child trees above one leaf."""
    tree = Tree("a", [], {})
    for _ in range(depth):
        tree = Tree("a", [tree], {})
    return tree


def nested_tree_bytes(depth: int) -> bytes:
    """``nested_tree(depth)`` encoded, spelled out: each level a label and a one-tree list, then the
    leaf with an empty list, then every level's empty map."""
    return (
        b"".join(b"\x01a\x00\x00\x00\x01" for _ in range(depth))
        + b"\x01a\x00\x00\x00\x00"
        + b"\x00\x00\x00\x00" * (depth + 1)
    )


def test_deep_nesting_is_decode_error_not_recursion_crash():
    # the bytes are well formed: at a depth the interpreter allows they decode to the exact tree
    assert tree_coder().encode(nested_tree(50)) == nested_tree_bytes(50)
    assert tree_coder().decode(nested_tree_bytes(50)) == nested_tree(50)
    # 5000 nested single-child lists of trees: deeper than the interpreter allows
    data = nested_tree_bytes(5000)
    with pytest.raises(DecodeError) as info:
        tree_coder().decode(data)
    # a DecodeError (not a RecursionError, not a value) that names the limit and how to raise it
    assert str(info.value).startswith(
        "the encoded value is nested too deeply to decode: its depth reached Python's recursion limit "
        f"(sys.getrecursionlimit() = {sys.getrecursionlimit()}). Fix: raise Python's recursion limit"
    )
