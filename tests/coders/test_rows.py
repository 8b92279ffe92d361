"""RowCoder: Beam's row bytes and schema for a record class, decoded to that class.

(No ``from __future__ import annotations`` here: Beam's schema inference reads annotations
unevaluated, and the test compares against it.)

Differential tests run every field type both ways against Beam's own RowCoder (built from our
schema), in both contexts, on hypothesis values; the schema is compared with the one Beam infers.
"""

import dataclasses
import datetime
import decimal
import random
import typing
from typing import Dict, FrozenSet, List, NamedTuple, Optional, Sequence, Set, Tuple

import attrs
import msgspec
import pydantic
import pytest
from apache_beam.coders.row_coder import RowCoder as BeamRowCoder
from apache_beam.portability.api import schema_pb2
from apache_beam.runners import pipeline_context
from apache_beam.typehints import schemas
from apache_beam.utils.timestamp import Timestamp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coders import CoderNotFoundError, CoderRegistry, DecodeError, EncodeError, RecordCoder, RowCoder
from coders.beam import from_beam, to_beam
from coders.beam.rows import CoderkitRowCoder
from coders.rows import PYTHON_TYPE_OPTION, same_fields
from coders.testing import assert_picklable, assert_roundtrip, strategy_for


class Point(NamedTuple):
    x: int
    y: int


class Inner(NamedTuple):
    a: int
    b: Optional[str]


class Everything(NamedTuple):
    i: int
    f: float
    s: str
    by: bytes
    bo: bool
    oi: Optional[int]
    li: List[Optional[int]]
    tu: Tuple[str, ...]
    sq: Sequence[float]
    d: Dict[str, int]
    n: Inner
    on: Optional[Inner]
    ts: Timestamp
    dec: decimal.Decimal
    day: datetime.date


@dataclasses.dataclass
class Order:
    id: int
    tags: Tuple[str, ...]
    note: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class Frozen:
    id: int
    items: List[Point]


class Wide(NamedTuple):
    f0: Optional[int]
    f1: Optional[int]
    f2: Optional[int]
    f3: Optional[int]
    f4: Optional[int]
    f5: Optional[int]
    f6: Optional[int]
    f7: Optional[int]
    f8: Optional[int]


class Empty(NamedTuple):
    pass


class Sets(NamedTuple):
    s: Set[int]
    fs: FrozenSet[str]


class PydanticRow(pydantic.BaseModel):
    id: int
    tags: Tuple[str, ...]
    note: Optional[str] = None


@attrs.frozen
class AttrsRow:
    id: int
    tags: Tuple[str, ...]


class MsgspecRow(msgspec.Struct, frozen=True):
    id: int
    tags: Tuple[str, ...]


SAMPLE = Everything(
    1, 2.5, "hi", b"\x00", True, None, [1, None], ("a",), [0.5], {"b": 1, "a": 2}, Inner(3, None), Inner(4, "x"),
    Timestamp(micros=-1_500_001), decimal.Decimal("1.50"), datetime.date(2000, 1, 2),
)  # fmt: skip


class OrderV1(NamedTuple):
    id: int


class OrderV2(NamedTuple):
    id: int
    note: Optional[str]
    qty: int = 1


class Node(NamedTuple):
    children: List["Node"]


# ------------------------------------------------------------------------------ helpers


def _bare(schema: schema_pb2.Schema) -> schema_pb2.Schema:
    """The schema without ids and options (nested ones too): what Beam's inference and ours share."""
    out = schema_pb2.Schema()
    out.CopyFrom(schema)

    def strip(s):
        s.id = ""
        del s.options[:]
        for f in s.fields:
            strip_type(f.type)

    def strip_type(t):
        kind = t.WhichOneof("type_info")
        if kind == "row_type":
            strip(t.row_type.schema)
        elif kind == "array_type":
            strip_type(t.array_type.element_type)
        elif kind == "map_type":
            strip_type(t.map_type.key_type)
            strip_type(t.map_type.value_type)
        elif kind == "logical_type" and t.logical_type.HasField("representation"):
            strip_type(t.logical_type.representation)

    strip(out)
    return out


def _plain(value):
    """A value as Beam's RowCoder gives it back: rows as field tuples, sequences and sets as lists."""
    if hasattr(value, "_fields") or dataclasses.is_dataclass(value):
        names = value._fields if hasattr(value, "_fields") else [f.name for f in dataclasses.fields(value)]
        return tuple(_plain(getattr(value, n)) for n in names)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _beam_decimals():
    # Beam's DecimalCoder rounds past 28 digits; keep the values it reads exactly
    return st.decimals(allow_nan=False, allow_infinity=False).filter(
        lambda d: len(d.as_tuple().digits) <= 28 and -10_000 < d.as_tuple().exponent < 10_000
    )


# ------------------------------------------------------------------------------ schema


def test_schema_is_the_one_beam_infers_for_every_field_type():
    ours = RowCoder(Everything).schema
    beams = schemas.named_tuple_to_schema(Everything)
    assert _bare(ours) == _bare(beams)
    assert same_fields(ours, beams)
    assert [f.name for f in ours.fields] == list(Everything._fields)
    assert [f.type.nullable for f in ours.fields] == [
        False, False, False, False, False, True, False, False, False, False, False, True, False, False, False
    ]  # fmt: skip
    assert ours.fields[11].type.row_type.schema.fields[1].type.nullable
    assert ours.fields[12].type.logical_type.urn == "beam:logical_type:micros_instant:v1"
    assert ours.fields[13].type.logical_type.urn == "beam:logical_type:decimal:v1"
    assert ours.fields[14].type.logical_type.urn == "beam:logical_type:date:v1"


def test_schema_of_a_dataclass_matches_beams_and_is_stable():
    ours = RowCoder(Order).schema
    assert _bare(ours) == _bare(schemas.typing_to_runner_api(Order).row_type.schema)
    assert ours.id == RowCoder(Order).schema.id  # derived from the class and its fields, not random
    assert ours.id != RowCoder(Point).schema.id
    (option,) = ours.options
    assert option.name == PYTHON_TYPE_OPTION
    assert option.value.atomic_value.string == f"{__name__}:Order"


# ------------------------------------------------------------------------------ bytes


@pytest.mark.parametrize(
    ("coder", "value", "hex_"),
    [
        (RowCoder(Point), Point(1, 2), "02000102"),
        (RowCoder(Empty), Empty(), "0000"),
        (RowCoder(Inner), Inner(5, None), "02010205"),
        (RowCoder(Inner), Inner(-1, "hi"), "0200ffffffffffffffffff01026869"),
        (RowCoder(Order), Order(7, ("a", "b")), "030104070000000201610162"),
    ],
)
def test_exact_bytes_in_both_contexts(coder, value, hex_):
    assert coder.encode(value).hex() == hex_
    assert coder.encode_nested(value).hex() == hex_
    assert coder.decode(bytes.fromhex(hex_)) == value


def test_null_bitmap_spans_bytes_past_eight_fields():
    value = Wide(None, 1, None, None, None, None, None, None, None)
    assert RowCoder(Wide).encode(value).hex() == "0902fd0101"
    assert RowCoder(Wide).decode(bytes.fromhex("0902fd0101")) == value


def test_decodes_to_the_users_own_class_with_declared_field_types():
    assert_roundtrip(RowCoder(Order), Order(7, ("a", "b")), Order(8, (), "n"))
    value = RowCoder(Order).decode(RowCoder(Order).encode(Order(7, ("a",))))
    assert type(value) is Order and type(value.tags) is tuple
    frozen = Frozen(1, [Point(1, 2)])
    back = RowCoder(Frozen).decode(RowCoder(Frozen).encode(frozen))
    assert back == frozen and type(back.items[0]) is Point
    sets = RowCoder(Sets).decode(RowCoder(Sets).encode(Sets({1, 2}, frozenset({"a"}))))
    assert type(sets.s) is set and type(sets.fs) is frozenset


@pytest.mark.parametrize(
    "value",
    [PydanticRow(id=1, tags=("a",), note="x"), AttrsRow(2, ("b", "c")), MsgspecRow(3, ())],
    ids=["pydantic", "attrs", "msgspec"],
)
def test_record_libraries_decode_to_their_class(value):
    coder = RowCoder(type(value))
    back = coder.decode(coder.encode(value))
    assert type(back) is type(value) and back == value and type(back.tags) is tuple
    # Beam reads the same bytes with the same schema
    assert _plain(BeamRowCoder(coder.schema).decode(coder.encode(value))) == (
        tuple(_plain(getattr(value, n)) for n in coder.field_names)
    )


# ------------------------------------------------------------------------------ differential

FIELD_CASES = {
    "int": (int, st.integers(-(2**63), 2**63 - 1)),
    "float": (float, st.floats(allow_nan=False)),
    "str": (str, st.text(max_size=20)),
    "bytes": (bytes, st.binary(max_size=20)),
    "bool": (bool, st.booleans()),
    "optional": (Optional[int], st.none() | st.integers(-5, 5)),
    "list": (List[Optional[str]], st.lists(st.none() | st.text(max_size=5), max_size=4)),
    "tuple": (Tuple[int, ...], st.lists(st.integers(-9, 9), max_size=4).map(tuple)),
    "sequence": (Sequence[bytes], st.lists(st.binary(max_size=4), max_size=4)),
    "dict": (
        Dict[str, Optional[float]],
        st.dictionaries(st.text(max_size=4), st.none() | st.floats(allow_nan=False), max_size=3),
    ),
    "row": (Inner, st.builds(Inner, st.integers(-9, 9), st.none() | st.text(max_size=4))),
    "timestamp": (Timestamp, st.integers(-(10**15), 10**15).map(lambda m: Timestamp(micros=m))),
    "decimal": (decimal.Decimal, _beam_decimals()),
    "date": (datetime.date, st.dates()),
}

_ROW_CLASSES = {
    name: NamedTuple(f"Row_{name}", [("k", int), ("v", hint), ("w", Optional[hint])])
    for name, (hint, _) in FIELD_CASES.items()
}
for _cls in _ROW_CLASSES.values():
    globals()[_cls.__name__] = _cls
    _cls.__module__ = __name__


@pytest.mark.parametrize("name", list(FIELD_CASES))
def test_every_field_type_both_ways_against_beams_row_coder(name):
    cls = _ROW_CLASSES[name]
    ours = RowCoder(cls)
    beam = BeamRowCoder(ours.schema)
    values = FIELD_CASES[name][1]

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.builds(cls, st.integers(-9, 9), values, st.none() | values))
    def check(value):
        for encoded_ours, encoded_beam in (
            (ours.encode(value), beam.encode(value)),
            (ours.encode_nested(value), beam.get_impl().encode_nested(value)),
        ):
            if name not in ("dict", "float") or _no_negative_zero(value):
                assert encoded_ours == encoded_beam
            assert ours.decode(encoded_beam) == value  # we read Beam's bytes
            assert _plain(beam.decode(encoded_ours)) == _plain(value)  # Beam reads ours

    check()


def _no_negative_zero(value) -> bool:
    return "-0.0" not in repr(value)


def _beam_reads_exactly(v) -> bool:
    """No NaN (it never equals itself) and decimals within Beam's 28 digits."""
    digits, exponent = len(v.dec.as_tuple().digits), v.dec.as_tuple().exponent
    return v.f == v.f and all(x == x for x in v.sq) and digits <= 28 and -10_000 < exponent < 10_000


def test_hypothesis_values_of_the_whole_record_round_trip_and_match_beam():
    ours = RowCoder(Everything)
    beam = BeamRowCoder(ours.schema)

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(strategy_for(ours).filter(_beam_reads_exactly))
    def check(value):
        assert_roundtrip(ours, value)
        assert _plain(beam.decode(ours.encode(value))) == _plain(value)
        assert ours.decode(beam.encode(value)) == value

    check()


# ------------------------------------------------------------------------------ evolution


def test_rows_written_with_fewer_fields_fill_defaults_and_none():
    old = RowCoder(OrderV1).encode(OrderV1(5))
    assert RowCoder(OrderV2).decode(old) == OrderV2(5, None, 1)
    assert RowCoder(OrderV2).decode_nested(old) == OrderV2(5, None, 1)


def test_extra_trailing_fields_are_skipped_when_null_or_outer():
    assert RowCoder(OrderV1).decode(RowCoder(OrderV2).encode(OrderV2(5, "n", 3))) == OrderV1(5)
    # two extra fields, both null: no bytes to skip, so a nested row reads too (count 3, bitmap 0b110)
    assert RowCoder(OrderV1).decode_nested(bytes.fromhex("03010605")) == OrderV1(5)
    with pytest.raises(DecodeError, match="extra fields' bytes cannot be skipped inside a nested value"):
        RowCoder(OrderV1).decode_nested(RowCoder(OrderV2).encode(OrderV2(5, "n", 3)))


def test_a_missing_field_without_default_or_null_is_a_decode_error():
    with pytest.raises(DecodeError, match=r"field y \(#1\) is neither nullable nor defaulted"):
        RowCoder(Point).decode(bytes.fromhex("010001"))


# ------------------------------------------------------------------------------ errors


def test_none_in_a_field_that_is_not_optional_names_the_field_and_the_fix():
    with pytest.raises(EncodeError, match=r"field y is None but not nullable") as info:
        RowCoder(Point).encode(Point(1, None))
    assert "Optional" in str(info.value)
    assert ".y" in str(info.value)


def test_a_null_bit_on_a_field_that_is_not_nullable_is_a_decode_error():
    with pytest.raises(DecodeError, match="field x is marked null but is not nullable"):
        RowCoder(Point).decode(bytes.fromhex("02010102"))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ([("u", typing.Union[int, str])], "is a union"),
        ([("a", typing.Any)], "has no Beam schema field type"),
        ([("t", Tuple[int, str])], "fixed-length tuple"),
        ([("l", list)], "has no Beam schema field type"),
    ],
)
def test_fields_without_a_beam_schema_type_are_refused_with_the_field_named(fields, message):
    cls = NamedTuple("Bad", fields)
    with pytest.raises(TypeError, match=rf"RowCoder\(Bad\): field {fields[0][0]}: .*{message}"):
        RowCoder(cls)


def test_recursive_records_are_refused():
    with pytest.raises(TypeError, match="contains itself; a Beam schema cannot be recursive"):
        RowCoder(Node)


def test_wrong_class_is_an_encode_error():
    with pytest.raises(EncodeError, match="expected an instance of Point"):
        RowCoder(Point).encode((1, 2))


def test_bad_bytes_only_raise_decode_error():
    coder = RowCoder(Everything)
    rng = random.Random(7)
    good = coder.encode(SAMPLE)
    for _ in range(1000):
        data = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        blobs = [bytes(data), bytes(data[: rng.randrange(len(data))]), rng.randbytes(rng.randint(0, 40))]
        for blob in blobs:
            for decode in (coder.decode, coder.decode_nested):
                try:
                    decode(blob)
                except DecodeError:
                    pass


# ------------------------------------------------------------------------------ determinism


def test_determinism_is_reported_as_for_records():
    assert RowCoder(Point).is_deterministic()
    paths = [issue.path for issue in RowCoder(Everything).determinism_issues()]
    assert paths == ["Everything.f", "Everything.sq.element", "Everything.d", "Everything.dec"]
    canonical = RowCoder(Everything).as_deterministic_coder()
    assert canonical.is_deterministic()
    assert canonical.field_names == Everything._fields
    # equal dicts in another order give the same bytes, which are still Beam's row bytes
    sample = SAMPLE._replace(dec=decimal.Decimal("1.5"))
    assert canonical.encode(sample) == canonical.encode(sample._replace(d={"a": 2, "b": 1}))
    assert canonical.encode(SAMPLE) == canonical.encode(sample)
    assert _plain(BeamRowCoder(canonical.schema).decode(canonical.encode(sample)))[9] == {"a": 2, "b": 1}
    assert_picklable(canonical, sample)


def test_picklable():
    assert_picklable(RowCoder(Everything), SAMPLE)
    assert_picklable(RowCoder(Order), Order(1, ("a",)))


# ------------------------------------------------------------------------------ to_beam / from_beam


def test_to_beam_is_beams_row_coder_with_the_standard_urn_schema_and_bytes():
    ours = RowCoder(Order)
    beam = to_beam(ours)
    assert isinstance(beam, BeamRowCoder) and type(beam) is CoderkitRowCoder
    assert beam.schema == ours.schema
    context = pipeline_context.PipelineContext()
    proto = beam.to_runner_api(context)
    assert proto.spec.urn == "beam:coder:row:v1"
    assert proto.component_coder_ids == []
    value = Order(1, ("a", "b"), None)
    assert beam.encode(value) == ours.encode(value) == BeamRowCoder(ours.schema).encode(value)
    # a worker rebuilds it from the proto alone, and rows come back as Order with tuples
    rebuilt = BeamRowCoder.from_runner_api(proto, context)
    assert type(rebuilt) is CoderkitRowCoder
    assert rebuilt.decode(beam.encode(value)) == value and type(rebuilt.decode(beam.encode(value)).tags) is tuple
    assert from_beam(beam) is ours
    assert from_beam(rebuilt) == ours
    assert from_beam(BeamRowCoder(ours.schema)) == ours


def test_to_beam_reports_coderkit_determinism():
    beam = to_beam(RowCoder(Everything))
    assert not beam.is_deterministic()
    fixed = beam.as_deterministic_coder("GroupByKey")
    assert isinstance(fixed, CoderkitRowCoder) and fixed.is_deterministic()


def test_from_beam_of_a_schema_naming_no_class_says_what_to_do():
    schema = schemas.named_fields_to_schema([("x", int)])
    with pytest.raises(CoderNotFoundError, match=r"use coders.RowCoder\(YourClass\)"):
        from_beam(BeamRowCoder(schema))


def test_schemas_naming_no_class_stay_beams():
    schema = schemas.named_fields_to_schema([("x", int)])
    context = pipeline_context.PipelineContext()
    rebuilt = BeamRowCoder.from_runner_api(BeamRowCoder(schema).to_runner_api(context), context)
    assert type(rebuilt) is BeamRowCoder


def test_rows_nested_in_beam_streams_decode_one_by_one():
    from apache_beam.coders import coders as beam_coders

    row = to_beam(RowCoder(Everything))
    values = [SAMPLE, SAMPLE._replace(on=None, li=[]), SAMPLE._replace(d={}, tu=("x", "y"))]
    iterable = beam_coders.IterableCoder(row)
    assert iterable.decode(iterable.encode(values)) == values
    kv = beam_coders.TupleCoder([row, beam_coders.VarIntCoder()])
    assert kv.decode(kv.encode((values[0], 7))) == (values[0], 7)


# ------------------------------------------------------------------------------ registry


def test_registry_record_format_row_derives_row_coders():
    rows = CoderRegistry(record_format="row")
    assert rows.get_coder(Order) == RowCoder(Order)
    assert rows.get_coder(List[Point]).element_coder == RowCoder(Point)
    assert type(CoderRegistry().get_coder(Order)) is RecordCoder
    # a record with a field no Beam schema type describes stays a RecordCoder
    assert type(rows.get_coder(Node)) is RecordCoder


def test_registry_record_format_is_checked():
    with pytest.raises(ValueError, match="use 'record'"):
        CoderRegistry(record_format="rows")
