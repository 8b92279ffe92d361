"""coders.compat: snapshots are stable data, and every verdict is true to the bytes.

The evolution table below is the specification: each case is an old type and a new one (two
classes with the same module and name, as a redeploy sees them) and the verdict. The
differential tests encode with the old coder and decode with the new one: for every case
judged compatible, hypothesis-generated old values must decode, in both contexts, to the value
the new type holds (same fields by name, a new field at its default or None); for every case
judged incompatible, the case's witness value must fail to decode or decode to another value.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import math
import os
import subprocess
import sys
import typing
from typing import Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

import pytest
from hypothesis import HealthCheck, given, settings

import coders
from coders import compat
from coders.base import Coder
from coders.errors import DecodeError
from coders.primitives import (
    CanonicalDecimalCoder,
    CanonicalFloatCoder,
    DecimalCoder,
    FloatCoder,
    StrUtf8Coder,
    TimestampCoder,
    VarIntCoder,
)
from coders.testing import strategy_for

# ============================================================================ building versions


def rec(name: str, fields, module: str = "shop", namedtuple: bool = False):
    """A record class named ``module.name``: two versions made here look to coderkit like one class redeployed."""
    if namedtuple:
        cls = typing.NamedTuple(name, [(f[0], f[1]) for f in fields])
    else:
        cls = dataclasses.make_dataclass(name, fields)
    cls.__module__ = module
    return cls


def enum_of(name: str, members, module: str = "shop", flag: bool = False):
    base = enum.Flag if flag else enum.Enum
    cls = base(name, members)
    cls.__module__ = module
    return cls


def row(cls) -> coders.RowCoder:
    return coders.RowCoder(cls)


# ============================================================================ "the same value"


def _is_record(value) -> bool:
    return dataclasses.is_dataclass(value) or (isinstance(value, tuple) and hasattr(type(value), "_fields"))


def _field_defaults(cls) -> dict:
    if dataclasses.is_dataclass(cls):
        out = {}
        for f in dataclasses.fields(cls):
            if f.default is not dataclasses.MISSING:
                out[f.name] = f.default
        return out
    return dict(getattr(cls, "_field_defaults", {}))


def _optional(cls, name) -> bool:
    if dataclasses.is_dataclass(cls):
        hint = {f.name: f.type for f in dataclasses.fields(cls)}[name]
    else:
        hint = typing.get_type_hints(cls)[name]
    return typing.get_origin(hint) is typing.Union and type(None) in typing.get_args(hint)


def same_value(old, new) -> bool:
    """Is ``new`` the value the new type holds for ``old``? Records by field name (a new field at its
    default, or None when Optional), enum members by name (an alias counts), sequences element-wise
    whatever their class, everything else equal with the same type (floats by their bits)."""
    if _is_record(new):
        if not _is_record(old):
            return False
        names = [f.name for f in dataclasses.fields(new)] if dataclasses.is_dataclass(new) else list(new._fields)
        defaults = _field_defaults(type(new))
        for name in names:
            got = getattr(new, name)
            if hasattr(old, name):
                if got is None and not _optional(type(new), name):
                    return False  # None in a field whose type does not allow it
                if not same_value(getattr(old, name), got):
                    return False
            elif not (got == defaults.get(name, object()) or (got is None and _optional(type(new), name))):
                return False
        return True
    if isinstance(new, enum.Enum):
        if not isinstance(old, enum.Enum):
            return False
        if isinstance(new, enum.Flag):
            return old.name == new.name or (old.value == 0 and new.value == 0)
        return new is type(new).__members__.get(old.name)
    if isinstance(new, (set, frozenset)):
        return isinstance(old, (set, frozenset)) and set(old) == set(new)
    if isinstance(new, (list, tuple)) and not _is_record(new):
        return (
            isinstance(old, (list, tuple, set, frozenset))
            and len(old) == len(new)
            and all(same_value(a, b) for a, b in zip(old, new))
        )
    if isinstance(new, dict):
        return isinstance(old, dict) and old.keys() == new.keys() and all(same_value(old[k], new[k]) for k in old)
    if isinstance(new, float):
        if type(old) is not float:
            return False
        if math.isnan(old) or math.isnan(new):
            return math.isnan(old) and math.isnan(new)
        return old == new and math.copysign(1, old) == math.copysign(1, new)
    if isinstance(new, decimal.Decimal):
        return isinstance(old, decimal.Decimal) and old == new
    if isinstance(old, datetime.datetime) != isinstance(new, datetime.datetime):
        a, b = (old, new) if isinstance(old, datetime.datetime) else (new, old)
        return (a - _EPOCH) // datetime.timedelta(microseconds=1) == b.micros
    return type(old) is type(new) and old == new


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def read_with_new(old_coder: Coder, new_coder: Coder, value, nested: bool):
    """Encode with the old coder, decode with the new: ("ok", decoded) or ("error", DecodeError)."""
    data = old_coder.encode_nested(value) if nested else old_coder.encode(value)
    try:
        return "ok", (new_coder.decode_nested(data) if nested else new_coder.decode(data))
    except DecodeError as e:
        return "error", e


def reads_the_same(old_coder, new_coder, value) -> bool:
    """True when both contexts decode ``value``'s old bytes to the value the new type holds."""
    for nested in (False, True):
        outcome, decoded = read_with_new(old_coder, new_coder, value, nested)
        if outcome != "ok" or not same_value(value, decoded):
            return False
    return True


# ============================================================================ the evolution table

Item = rec("Item", [("sku", str), ("qty", int)])
Color = enum_of("Color", ["RED", "GREEN"])
Perm = enum_of("Perm", ["R", "W"], flag=True)


def _color_with_alias():
    cls = enum.Enum("Color", {"CRIMSON": 1, "GREEN": 2, "RED": 1})  # RED kept as an alias of CRIMSON
    cls.__module__ = "shop"
    return cls


@dataclasses.dataclass
class Case:
    id: str
    old: typing.Callable[[], Coder]
    new: typing.Callable[[], Coder]
    verdict: str
    witness: typing.Callable[[], typing.Any] | None = None  # an old value the new coder cannot read the same
    paths: tuple[str, ...] = ()  # the problems' paths, when incompatible


def _r(fields, name="Order", **kw):
    return lambda: coders.get_coder(rec(name, fields, **kw))


CASES = [
    # ---- the record format: positional, no names, no count
    Case(
        "same fields", _r([("id", int), ("items", List[Item])]), _r([("id", int), ("items", List[Item])]), "identical"
    ),
    Case(
        "list to tuple",
        _r([("id", int), ("tags", List[str])]),
        _r([("id", int), ("tags", Tuple[str, ...])]),
        "compatible",
    ),
    Case("tuple to list", _r([("tags", Tuple[int, ...])]), _r([("tags", List[int])]), "compatible"),
    Case("set to frozenset", _r([("tags", Set[int])]), _r([("tags", FrozenSet[int])]), "compatible"),
    Case("set to list", _r([("tags", Set[int])]), _r([("tags", List[int])]), "compatible"),
    Case(
        "list to set",
        _r([("tags", List[int])]),
        _r([("tags", Set[int])]),
        "incompatible",
        lambda: ([1, 1],),
        ("Order.tags",),
    ),
    Case(
        "field appended",
        _r([("id", int)]),
        _r([("id", int), ("note", Optional[str], None)]),
        "incompatible",
        lambda: (7,),
        ("Order.note",),
    ),
    Case(
        "field removed",
        _r([("id", int), ("note", str)]),
        _r([("id", int)]),
        "incompatible",
        lambda: (7, "x"),
        ("Order.note",),
    ),
    Case(
        "field renamed",
        _r([("id", int), ("qty", int)]),
        _r([("id", int), ("count", int)]),
        "incompatible",
        lambda: (1, 2),
        ("Order.count",),
    ),
    Case(
        "fields reordered",
        _r([("id", int), ("sku", str)]),
        _r([("sku", str), ("id", int)]),
        "incompatible",
        lambda: (1, "a"),
        ("Order",),
    ),
    Case(
        "widened to Optional",
        _r([("id", int), ("qty", int)]),
        _r([("id", int), ("qty", Optional[int])]),
        "incompatible",
        lambda: (1, 2),
        ("Order.qty",),
    ),
    Case(
        "narrowed from Optional",
        _r([("id", int), ("qty", Optional[int])]),
        _r([("id", int), ("qty", int)]),
        "incompatible",
        lambda: (1, None),
        ("Order.qty",),
    ),
    Case(
        "field type changed",
        _r([("id", int), ("qty", int)]),
        _r([("id", int), ("qty", str)]),
        "incompatible",
        lambda: (1, 300),
        ("Order.qty",),
    ),
    Case(
        "nested field type changed",
        _r([("id", int), ("items", List[Item])]),
        _r([("id", int), ("items", List[rec("Item", [("sku", bytes), ("qty", int)])])]),
        "incompatible",
        lambda: (1, [Item("\u00e9", 1)]),
        ("Order.items[].sku",),
    ),
    Case("class moved to another module", _r([("id", int)]), _r([("id", int)], module="shop.v2"), "compatible"),
    Case(
        "dataclass to NamedTuple",
        _r([("id", int), ("sku", str)]),
        _r([("id", int), ("sku", str)], namedtuple=True),
        "identical",
    ),
    # ---- enums: members travel by name
    Case(
        "enum member added", _r([("c", Color)]), _r([("c", enum_of("Color", ["RED", "GREEN", "BLUE"]))]), "compatible"
    ),
    Case("enum members reordered", _r([("c", Color)]), _r([("c", enum_of("Color", ["GREEN", "RED"]))]), "compatible"),
    Case(
        "enum member removed",
        _r([("c", Color)]),
        _r([("c", enum_of("Color", ["GREEN"]))]),
        "incompatible",
        lambda: (Color.RED,),
        ("Order.c",),
    ),
    Case(
        "enum member renamed, old name kept as an alias",
        _r([("c", Color)]),
        lambda: coders.get_coder(rec("Order", [("c", _color_with_alias())])),
        "compatible",
    ),
    Case(
        "flag member added", _r([("p", Perm)]), _r([("p", enum_of("Perm", ["R", "W", "X"], flag=True))]), "compatible"
    ),
    Case(
        "flag no longer a flag",
        _r([("p", Perm)]),
        _r([("p", enum_of("Perm", ["R", "W"]))]),
        "incompatible",
        lambda: (Perm.R | Perm.W,),
        ("Order.p",),
    ),
    # ---- unions: the tag is the member's position
    Case(
        "union member appended",
        _r([("v", typing.Union[int, str])]),
        _r([("v", typing.Union[int, str, bytes])]),
        "compatible",
    ),
    Case(
        "union members swapped",
        _r([("v", typing.Union[int, str])]),
        _r([("v", typing.Union[str, int])]),
        "incompatible",
        lambda: (5,),
        ("Order.v<int>", "Order.v<str>"),
    ),
    Case(
        "union member removed",
        _r([("v", typing.Union[int, str])]),
        _r([("v", int)]),
        "incompatible",
        lambda: (5,),
        ("Order.v",),
    ),
    # ---- same bytes, other options
    Case(
        "map value list to tuple",
        _r([("m", Dict[str, List[int]])]),
        _r([("m", Dict[str, Tuple[int, ...]])]),
        "compatible",
    ),
    Case(
        "map key type changed",
        _r([("m", Dict[str, int])]),
        _r([("m", Dict[bytes, int])]),
        "incompatible",
        lambda: ({"\u00e9": 1},),
        ("Order.m{key}",),
    ),
    Case("float to canonical float", lambda: FloatCoder(), lambda: CanonicalFloatCoder(), "compatible"),
    Case("canonical float to float", lambda: CanonicalFloatCoder(), lambda: FloatCoder(), "compatible"),
    Case("decimal to canonical decimal", lambda: DecimalCoder(), lambda: CanonicalDecimalCoder(), "compatible"),
    Case("canonical decimal to decimal", lambda: CanonicalDecimalCoder(), lambda: DecimalCoder(), "compatible"),
    Case("int made lenient", lambda: VarIntCoder(), lambda: VarIntCoder(lenient=True), "compatible"),
    Case("str made exact", lambda: StrUtf8Coder(lenient=True), lambda: StrUtf8Coder(), "compatible"),
    Case(
        "map made deterministic",
        lambda: coders.MapCoder(StrUtf8Coder(), VarIntCoder()),
        lambda: coders.MapCoder(StrUtf8Coder(), VarIntCoder(), deterministic=True),
        "compatible",
    ),
    Case(
        "any made deterministic", lambda: coders.AnyCoder(), lambda: coders.AnyCoder(deterministic=True), "compatible"
    ),
    Case(
        "datetime to Beam timestamp",
        lambda: TimestampCoder(),
        lambda: TimestampCoder(as_beam_timestamp=True),
        "compatible",
    ),
    Case(
        "tuple arity changed",
        lambda: coders.TupleCoder(VarIntCoder(), VarIntCoder()),
        lambda: coders.TupleCoder(VarIntCoder(), VarIntCoder(), VarIntCoder()),
        "incompatible",
        lambda: (1, 2),
        ("value",),
    ),
    Case(
        "int to float",
        lambda: VarIntCoder(),
        lambda: FloatCoder(),
        "incompatible",
        lambda: 1,
        ("value",),
    ),
]
_CASES_BY_ID = {c.id: c for c in CASES}


def _witness(case: Case, old_coder: Coder):
    value = case.witness()
    if isinstance(old_coder, coders.RecordCoder) and isinstance(value, tuple):
        return old_coder.from_fields(value)
    return value


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_the_verdict_of_each_evolution(case):
    report = compat.check(compat.snapshot(case.old()), case.new())
    assert report.verdict == case.verdict, str(report)
    assert report.ok == (case.verdict != "incompatible")
    assert tuple(p.path for p in report.problems) == case.paths, str(report)
    for problem in report.problems:
        assert problem.reason.endswith(problem.fix) and ". Fix: " in problem.reason
    if case.verdict == "compatible":
        assert report.changes, "a compatible verdict names what changed"


_READABLE = [c for c in CASES if c.verdict != "incompatible"]
_UNREADABLE = [c for c in CASES if c.verdict == "incompatible"]


@pytest.mark.parametrize("case", _READABLE, ids=lambda c: c.id)
def test_compatible_means_the_new_coder_reads_every_old_value(case):
    old_coder, new_coder = case.old(), case.new()

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(strategy_for(old_coder))
    def reads(value):
        for nested in (False, True):
            outcome, decoded = read_with_new(old_coder, new_coder, value, nested)
            assert outcome == "ok", f"{case.id}: {value!r} ({'nested' if nested else 'outer'}): {decoded}"
            assert same_value(value, decoded), f"{case.id}: {value!r} came back as {decoded!r}"

    reads()


@pytest.mark.parametrize("case", _UNREADABLE, ids=lambda c: c.id)
def test_incompatible_means_an_old_value_fails_or_changes(case):
    old_coder, new_coder = case.old(), case.new()
    value = _witness(case, old_coder)
    assert not reads_the_same(old_coder, new_coder, value), f"{case.id}: {value!r} still reads the same"


def test_the_table_covers_every_rule_both_ways():
    verdicts = {c.verdict for c in CASES}
    assert verdicts == {"identical", "compatible", "incompatible"}
    assert len(_READABLE) >= 20 and len(_UNREADABLE) >= 15


# ============================================================================ the row format


def _row_case(old_fields, new_fields, name="Event"):
    return lambda: row(rec(name, old_fields)), lambda: row(rec(name, new_fields))


ROW_CASES = [
    ("same fields", [("id", int), ("name", str)], [("id", int), ("name", str)], "identical", None, ()),
    ("nullable field appended", [("id", int)], [("id", int), ("note", Optional[str], None)], "compatible", None, ()),
    (
        "two nullable fields appended",
        [("id", int)],
        [("id", int), ("a", Optional[int], None), ("b", Optional[str], None)],
        "compatible",
        None,
        (),
    ),
    (
        "widened to nullable",
        [("id", int), ("name", str)],
        [("id", int), ("name", Optional[str])],
        "compatible",
        None,
        (),
    ),
    ("list to tuple in a row", [("ids", List[int])], [("ids", Tuple[int, ...])], "compatible", None, ()),
    ("defaulted field appended", [("id", int)], [("id", int), ("qty", int, 0)], "compatible", None, ()),
    (
        "field appended without a default",
        [("id", int)],
        [("id", int), ("qty", int)],
        "incompatible",
        (1,),
        ("Event.qty",),
    ),
    (
        "narrowed from nullable",
        [("id", int), ("name", Optional[str])],
        [("id", int), ("name", str)],
        "incompatible",
        (1, None),
        ("Event.name",),
    ),
    ("trailing field removed", [("id", int), ("name", str)], [("id", int)], "incompatible", (1, "x"), ("Event.name",)),
    (
        "field renamed",
        [("id", int), ("name", str)],
        [("id", int), ("title", str)],
        "incompatible",
        (1, "x"),
        ("Event.title",),
    ),
    (
        "fields reordered",
        [("id", int), ("name", str)],
        [("name", str), ("id", int)],
        "incompatible",
        (1, "x"),
        ("Event.name",),
    ),
    (
        "field inserted before another",
        [("id", int), ("name", str)],
        [("id", int), ("note", Optional[str]), ("name", str)],
        "incompatible",
        (1, "x"),
        ("Event.note",),
    ),
    (
        "field type changed",
        [("id", int), ("n", int)],
        [("id", int), ("n", str)],
        "incompatible",
        (1, 300),
        ("Event.n",),
    ),
]


@pytest.mark.parametrize("case", ROW_CASES, ids=lambda c: c[0])
def test_row_format_verdicts_are_true_to_the_bytes(case):
    name, old_fields, new_fields, verdict, witness, paths = case
    old_coder, new_coder = row(rec("Event", old_fields)), row(rec("Event", new_fields))
    snap = compat.snapshot(old_coder)
    assert snap["root"]["format"] == "row"
    assert [f["name"] for f in snap["root"]["fields"]] == [f[0] for f in old_fields]
    report = compat.check(snap, new_coder)
    assert report.verdict == verdict, str(report)
    assert tuple(p.path for p in report.problems) == paths, str(report)
    if verdict == "incompatible":
        assert not reads_the_same(old_coder, new_coder, old_coder.cls(*witness)), name
        return

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(strategy_for(old_coder))
    def reads(value):
        assert reads_the_same(old_coder, new_coder, value), f"{name}: {value!r}"

    reads()


def test_a_removed_row_field_reads_only_when_the_row_is_the_outermost_value():
    """Why a removed row field is incompatible: the row decoder has no coder for its bytes, so it skips
    them only at the end of an outer value; inside a KV (as in every shuffle and state) decoding fails."""
    old = row(rec("Event", [("id", int), ("n", int)]))
    new = row(rec("Event", [("id", int)]))
    assert new.decode(old.encode(old.cls(1, 2))) == new.cls(1)
    pair_old, pair_new = coders.TupleCoder(old, VarIntCoder()), coders.TupleCoder(new, VarIntCoder())
    with pytest.raises(DecodeError, match="cannot be skipped inside a nested value"):
        pair_new.decode(pair_old.encode((old.cls(1, 2), 99)))
    nullable = row(rec("Event", [("id", int), ("n", Optional[int])]))
    pair_nullable = coders.TupleCoder(nullable, VarIntCoder())
    assert pair_new.decode(pair_nullable.encode((nullable.cls(1, None), 99))) == (new.cls(1), 99)  # null: skipped
    assert compat.check(compat.snapshot(nullable), new).verdict == "incompatible"  # old data may hold a value


def test_a_row_snapshot_names_nullability_and_defaults_in_schema_order():
    Event = rec("Event", [("id", int), ("tags", Optional[List[str]]), ("n", int, 0)])
    snap = compat.snapshot(Event, record_format="row")
    exact = {"lenient": False}
    assert snap["root"] == {
        "coder": "RowCoder",
        "format": "row",
        "type": "shop.Event",
        "fields": [
            {"name": "id", "coder": {"coder": "VarIntCoder", "params": exact}, "nullable": False},
            {
                "name": "tags",
                "coder": {
                    "coder": "ListCoder",
                    "params": {"lenient": True},
                    "components": [{"label": ".element", "coder": {"coder": "StrUtf8Coder", "params": exact}}],
                },
                "nullable": True,
            },
            {"name": "n", "coder": {"coder": "VarIntCoder", "params": exact}, "nullable": False, "default": True},
        ],
    }
    assert compat.check(snap, coders.RowCoder(Event)).verdict == "identical"
    assert compat.check(snap, Event).verdict == "incompatible"  # the default registry derives a record


def test_switching_between_record_and_row_format_is_incompatible():
    Event = rec("Event", [("id", int)])
    report = compat.check(compat.snapshot(coders.get_coder(Event)), row(Event))
    assert report.verdict == "incompatible"
    [problem] = report.problems
    assert problem.path == "Event" and "record format changed from record to row" in problem.reason
    assert "record_format='record'" in problem.fix


# ============================================================================ snapshots


def test_a_snapshot_is_exact_json_data():
    Order = rec("Order", [("id", int), ("items", List[Item]), ("color", Optional[Color])])
    snap = compat.snapshot(Order)
    assert json.loads(json.dumps(snap)) == snap
    lenient = {"lenient": True}
    assert snap == {
        "coderkit_snapshot": 1,
        "root": {
            "coder": "RecordCoder",
            "format": "record",
            "type": "shop.Order",
            "fields": [
                {"name": "id", "coder": {"coder": "VarIntCoder", "params": lenient}},
                {
                    "name": "items",
                    "coder": {
                        "coder": "ListCoder",
                        "params": lenient,
                        "components": [
                            {
                                "label": ".element",
                                "coder": {
                                    "coder": "RecordCoder",
                                    "format": "record",
                                    "type": "shop.Item",
                                    "fields": [
                                        {"name": "sku", "coder": {"coder": "StrUtf8Coder", "params": lenient}},
                                        {"name": "qty", "coder": {"coder": "VarIntCoder", "params": lenient}},
                                    ],
                                },
                            }
                        ],
                    },
                },
                {
                    "name": "color",
                    "coder": {
                        "coder": "NullableCoder",
                        "components": [
                            {
                                "label": ".value",
                                "coder": {"coder": "EnumCoder", "type": "shop.Color", "members": ["RED", "GREEN"]},
                            }
                        ],
                    },
                },
            ],
        },
    }


def test_a_recursive_type_snapshots_finitely_and_checks():
    @dataclasses.dataclass
    class Node:
        value: int
        children: List[Node]

    snap = compat.snapshot(Node)
    children = snap["root"]["fields"][1]["coder"]
    assert children["components"][0]["coder"] == {
        "ref": f"{__name__}.test_a_recursive_type_snapshots_finitely_and_checks.<locals>.Node"
    }
    assert compat.check(snap, Node).verdict == "identical"
    assert compat.check(json.loads(json.dumps(snap)), Node).verdict == "identical"

    @dataclasses.dataclass
    class Node2:
        value: int
        children: Tuple[Node2, ...]

    report = compat.check(snap, Node2)
    assert report.verdict == "compatible", str(report)
    assert [c.path for c in report.changes] == ["Node2", "Node2.children"]


def test_enum_snapshots_list_aliases_and_flags():
    snap = compat.snapshot(coders.EnumCoder(_color_with_alias()))
    assert snap["root"] == {
        "coder": "EnumCoder",
        "type": "shop.Color",
        "members": ["CRIMSON", "GREEN"],
        "aliases": ["RED"],
    }
    assert compat.snapshot(coders.EnumCoder(Perm))["root"]["flag"] is True


def test_parameters_are_named_plain_data_never_reprs():
    def from_text(s):
        return s

    x = coders.XmapCoder(StrUtf8Coder(), from_text, str, deterministic=True)
    node = compat.snapshot(x)["root"]
    assert node["params"] == {
        "from_inner": f"{__name__}.test_parameters_are_named_plain_data_never_reprs.<locals>.from_text",
        "to_inner": "str",
        "type_hint": "Any",
        "deterministic": True,
    }
    assert "0x" not in json.dumps(compat.snapshot(coders.AnyCoder()))


def test_a_changed_parameter_of_an_unknown_kind_is_incompatible_conservatively():
    old = coders.XmapCoder(StrUtf8Coder(), str.upper, str)
    new = coders.XmapCoder(StrUtf8Coder(), str.lower, str)
    report = compat.check(compat.snapshot(old), new)
    assert report.verdict == "incompatible"
    assert "cannot tell whether it still reads the old bytes" in report.problems[0].reason


MODULE_V1 = """
import dataclasses, enum
from typing import List, Optional

class Color(enum.Enum):
    RED = 1
    GREEN = 2

@dataclasses.dataclass(frozen=True)
class Item:
    sku: str
    qty: int

@dataclasses.dataclass
class Order:
    id: int
    items: List[Item]
    color: Optional[Color]
    total: float
"""


def _run(code: str, path, *args) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(path), os.getcwd()]), PYTHONHASHSEED="random")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120)


def test_a_snapshot_is_the_same_in_another_process(tmp_path):
    (tmp_path / "shop_models.py").write_text(MODULE_V1)
    code = (
        "import json; from coders import compat; import shop_models as m; print(json.dumps(compat.snapshot(m.Order)))"
    )
    first, second = _run(code, tmp_path), _run(code, tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    sys.path.insert(0, str(tmp_path))
    try:
        import shop_models

        assert json.loads(first.stdout) == compat.snapshot(shop_models.Order)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("shop_models", None)


REDEPLOYS = [
    # (new module text, verdict): each runs against MODULE_V1's bytes in a fresh interpreter
    (MODULE_V1, "identical"),
    (MODULE_V1.replace("items: List[Item]", "items: tuple[Item, ...]"), "compatible"),
    (MODULE_V1.replace("    GREEN = 2", "    GREEN = 2\n    BLUE = 3"), "compatible"),
    (MODULE_V1.replace("    total: float", "    total: float\n    note: Optional[str] = None"), "incompatible"),
    (MODULE_V1.replace("    GREEN = 2", ""), "incompatible"),
    (MODULE_V1.replace("    qty: int", "    qty: Optional[int]"), "incompatible"),
    (MODULE_V1.replace("    sku: str\n    qty: int", "    qty: int\n    sku: str"), "incompatible"),
]

_WRITE_OLD = """
import json, sys
from coders import compat, get_coder
from shop_models import Color, Item, Order
coder = get_coder(Order)
values = [
    Order(1, [Item("a", 1), Item("b", 2)], Color.GREEN, 2.5),
    Order(2, [], None, -0.0),
    Order(3, [Item("x" * 300, 1 << 40)], Color.RED, float("inf")),
]
print(json.dumps({
    "snapshot": compat.snapshot(Order),
    "outer": [coder.encode(v).hex() for v in values],
    "nested": [coder.encode_nested(v).hex() for v in values],
}))
"""

_READ_NEW = """
import importlib, json, sys
from coders import compat, get_coder
from coders.errors import DecodeError
old = json.loads(open(sys.argv[1]).read())
results = []
for directory in sys.argv[2:]:  # each directory holds one new version of shop_models
    sys.modules.pop("shop_models", None)
    sys.path.insert(0, directory)
    Order = importlib.import_module("shop_models").Order
    sys.path.remove(directory)
    report = compat.check(old["snapshot"], Order)
    coder = get_coder(Order)
    read = []
    for outer, nested in zip(old["outer"], old["nested"]):
        try:
            a, b = coder.decode(bytes.fromhex(outer)), coder.decode_nested(bytes.fromhex(nested))
            read.append(repr(a) == repr(b) and "ok:" + repr(a))
        except DecodeError as e:
            read.append("error: " + str(e))
    results.append({"verdict": report.verdict, "read": read})
print(json.dumps(results))
"""


def _sequences_alike(text):
    """A repr with tuples and lists written alike (a list read back as a tuple is the same value here)."""
    return text and text.replace(",)", ")").replace("(", "[").replace(")", "]")


def test_every_redeploy_in_a_fresh_interpreter_matches_its_verdict(tmp_path):
    """The realistic redeploy: the old code writes in one interpreter, the new code (same module name) checks
    and reads in another. Compatible: every old value decodes to the same field values (repr, a list and a
    tuple alike); incompatible: one fails or reads differently."""
    old_dir = tmp_path / "old"
    old_dir.mkdir()
    (old_dir / "shop_models.py").write_text(MODULE_V1)
    written = _run(_WRITE_OLD, old_dir)
    assert written.returncode == 0, written.stderr
    (tmp_path / "old.json").write_text(written.stdout)
    directories = []
    for i, (module, _) in enumerate(REDEPLOYS):
        directories.append(tmp_path / f"new{i}")
        directories[-1].mkdir()
        (directories[-1] / "shop_models.py").write_text(module)
    result = _run(_READ_NEW, tmp_path / "none", str(tmp_path / "old.json"), *map(str, directories))
    assert result.returncode == 0, result.stderr
    outcomes = json.loads(result.stdout)
    baseline = outcomes[0]["read"]
    assert all(r.startswith("ok:") for r in baseline)
    for i, ((_, verdict), outcome) in enumerate(zip(REDEPLOYS, outcomes)):
        assert outcome["verdict"] == verdict, (i, outcome)
        same = [_sequences_alike(r) for r in outcome["read"]] == [_sequences_alike(r) for r in baseline]
        assert same == (verdict != "incompatible"), (i, outcome["read"])


# ============================================================================ errors and report


def test_a_corrupt_snapshot_is_a_snapshot_error_naming_the_fix(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(compat.SnapshotError, match="not valid JSON"):
        compat.check(str(bad), int)
    with pytest.raises(compat.SnapshotError, match="not a coderkit snapshot"):
        compat.check({"root": 1}, int)
    with pytest.raises(compat.SnapshotError, match="newer than this coderkit reads"):
        compat.check({"coderkit_snapshot": 99, "root": {"coder": "VarIntCoder"}}, int)
    with pytest.raises(compat.SnapshotError, match=r"at root: fields\[0\] has no coder"):
        compat.check({"coderkit_snapshot": 1, "root": {"coder": "RecordCoder", "fields": [{"name": "x"}]}}, int)
    with pytest.raises(compat.SnapshotError, match="cannot read the snapshot"):
        compat.check(str(tmp_path / "missing.json"), int)


def test_the_report_reads_as_text_and_as_json():
    case = _CASES_BY_ID["field renamed"]
    report = compat.check(compat.snapshot(case.old()), case.new())
    text = str(report)
    assert text.startswith("verdict: incompatible\n1 problem(s)")
    assert "Order.count: field 'qty' was renamed to 'count'" in text and "Fix: keep the field's name 'qty'" in text
    data = report.to_dict()
    assert data["verdict"] == "incompatible" and data["ok"] is False
    assert data["problems"][0]["path"] == "Order.count" and data["problems"][0]["fix"].startswith("keep the field's")


def test_record_format_applies_to_types_not_coders():
    with pytest.raises(ValueError, match="pass the type instead"):
        compat.snapshot(VarIntCoder(), record_format="row")
    with pytest.raises(ValueError, match="must be one of"):
        compat.snapshot(int, record_format="columns")


# ============================================================================ the test kit


def test_assert_compatible_writes_a_missing_snapshot_and_says_so(tmp_path, monkeypatch):
    from coders.testing import assert_compatible

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("CODERKIT_UPDATE_SNAPSHOTS", raising=False)
    path = tmp_path / "snapshots" / "order.json"
    Order = rec("Order", [("id", int), ("tags", List[str])])
    with pytest.warns(UserWarning, match="wrote the compatibility snapshot .*order.json.* commit it"):
        assert_compatible(Order, path)
    assert json.loads(path.read_text()) == compat.snapshot(Order)
    assert assert_compatible(Order, path).verdict == "identical"
    assert assert_compatible(rec("Order", [("id", int), ("tags", Tuple[str, ...])]), path).verdict == "compatible"
    with pytest.raises(AssertionError) as failure:
        assert_compatible(rec("Order", [("id", int), ("tags", List[str]), ("n", int)]), path)
    message = str(failure.value)
    assert "cannot read the bytes the coder in" in message and "Order.n: field 'n' was added" in message
    assert "CODERKIT_UPDATE_SNAPSHOTS=1" in message


def test_assert_compatible_never_writes_in_ci_and_updates_on_request(tmp_path, monkeypatch):
    from coders.testing import assert_compatible

    path = tmp_path / "order.json"
    Order = rec("Order", [("id", int)])
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("CODERKIT_UPDATE_SNAPSHOTS", raising=False)
    with pytest.raises(AssertionError, match="is missing, and CI never writes one"):
        assert_compatible(Order, path)
    assert not path.exists()
    monkeypatch.setenv("CODERKIT_UPDATE_SNAPSHOTS", "1")
    assert_compatible(Order, path)
    monkeypatch.delenv("CODERKIT_UPDATE_SNAPSHOTS")
    assert_compatible(Order, path)
    path.write_text("{broken")
    with pytest.raises(AssertionError, match="not valid JSON.*restore it from version control"):
        assert_compatible(Order, path)
    assert [p.name for p in tmp_path.iterdir()] == ["order.json"]  # no temporary files left behind


def test_golden_files_are_written_on_purpose_and_read_back(tmp_path, monkeypatch):
    from coders.testing import assert_decodes_golden, write_golden

    monkeypatch.delenv("CODERKIT_UPDATE_SNAPSHOTS", raising=False)
    path = tmp_path / "order.golden.json"
    Order = rec("Order", [("id", int), ("tags", List[str])])
    values = [Order(1, ["a"]), Order(-5, [])]
    with pytest.raises(AssertionError, match=r"is missing\. Fix: write it once with coders\.testing\.write_golden"):
        assert_decodes_golden(coders.get_coder(Order), path, values)
    write_golden(coders.get_coder(Order), path, values)
    doc = json.loads(path.read_text())
    assert [v["outer"] for v in doc["values"]] == ["01000000010161", "fbffffffffffffffff0100000000"]
    assert_decodes_golden(coders.get_coder(Order), path, values)
    New = rec("Order", [("id", int), ("tags", Tuple[str, ...])])
    assert_decodes_golden(coders.get_coder(New), path, [New(1, ("a",)), New(-5, ())])
    with pytest.raises(AssertionError) as failure:
        assert_decodes_golden(coders.get_coder(rec("Order", [("id", str), ("tags", List[str])])), path, values)
    assert "value 0 (outer): DecodeError" in str(failure.value) and "keep the old coder for old data" in str(
        failure.value
    )
    with pytest.raises(AssertionError, match="holds 2 value"):
        assert_decodes_golden(coders.get_coder(Order), path, values[:1])


def test_decimal_and_timestamp_cases_generate_edge_values():
    """The leaf cases above run hypothesis over their full range; these are the edges named."""
    for old, new, value in [
        (FloatCoder(), CanonicalFloatCoder(), -0.0),
        (FloatCoder(), CanonicalFloatCoder(), float("nan")),
        (DecimalCoder(), CanonicalDecimalCoder(), decimal.Decimal("1.500")),
        (CanonicalDecimalCoder(), DecimalCoder(), decimal.Decimal("-0")),
        (
            TimestampCoder(),
            TimestampCoder(as_beam_timestamp=True),
            datetime.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=datetime.UTC),
        ),
    ]:
        outcome, decoded = read_with_new(old, new, value, True)
        assert outcome == "ok", decoded


def test_iterable_hint_coder_reads_as_list():
    old = coders.get_coder(rec("Batch", [("xs", Iterable[int])]))
    new = coders.get_coder(rec("Batch", [("xs", List[int])]))
    report = compat.check(compat.snapshot(old), new)
    assert report.verdict == "compatible", str(report)
    assert reads_the_same(old, new, old.from_fields(([1, 2, 3],)))


# ============================================================================ the docs page

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "compat.md")


def test_the_worked_example_in_docs_compat_runs_as_written():
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    blocks = [part.split("```", 1)[0] for part in text.split("```python\n")[1:]]
    assert len(blocks) == 4
    module = type(sys)("compat_doc")  # the doc's classes live in a module of their own, as a user's do
    sys.modules["compat_doc"] = module
    try:
        exec(compile("\n".join(blocks), DOC, "exec", dont_inherit=True), module.__dict__)
    finally:
        del sys.modules["compat_doc"]
    assert module.__dict__["report"].verdict == "compatible"


class _Celsius(Coder):
    """A user's coder that describes itself (``snapshot_node``): its scale is part of its wire format."""

    def __init__(self, scale: int):
        self.scale = scale

    def snapshot_node(self, child):
        return {"coder": "shop.Celsius", "params": {"scale": self.scale}}

    def _params(self):
        return (self.scale,)


def test_a_coder_that_describes_itself_is_compared_by_its_own_node():
    assert compat.snapshot(_Celsius(10))["root"] == {"coder": "shop.Celsius", "params": {"scale": 10}}
    assert compat.check(compat.snapshot(_Celsius(10)), _Celsius(10)).verdict == "identical"
    report = compat.check(compat.snapshot(_Celsius(10)), _Celsius(100))
    assert report.verdict == "incompatible"
    assert report.problems[0].what == (
        "shop.Celsius's parameters changed from {'scale': 10} to {'scale': 100}, and coderkit cannot tell whether "
        "it still reads the old bytes"
    )
