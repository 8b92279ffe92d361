"""to_beam / from_beam: byte-identical standard coders, the wrapper's two contexts, determinism, pickling, protos."""

from __future__ import annotations

import dataclasses
import datetime
import pickle
import sys

import apache_beam.coders as bc
import cloudpickle
import pytest
from apache_beam.coders import coders as beam_coders_module
from apache_beam.portability import python_urns
from apache_beam.runners import pipeline_context
from apache_beam.utils.timestamp import Timestamp
from hypothesis import given, settings
from hypothesis import strategies as st

import coders as c
from coders.beam import CoderkitBeamCoder, from_beam, to_beam
from coders.beam.adapter import NonDeterministicBeamFloatCoder
from coders.collections import TupleSequenceCoder


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    label: str


POINT = c.RecordCoder(Point, [("x", c.VarIntCoder()), ("label", c.StrUtf8Coder())])

# (our coder, the Beam coder to_beam must give, sample values)
STANDARD = [
    (c.BytesCoder(), bc.BytesCoder(), [b"", b"\x00\xff", b"x" * 300]),
    (c.StrUtf8Coder(), bc.StrUtf8Coder(), ["", "héllo", "日本" * 70]),
    (c.VarIntCoder(), bc.VarIntCoder(), [0, 1, -1, 127, 128, 2**63 - 1, -(2**63)]),
    (c.FloatCoder(), NonDeterministicBeamFloatCoder(), [0.0, -0.0, 1.5, float("inf"), -2.5e300]),
    (c.BooleanCoder(), bc.BooleanCoder(), [True, False]),
    (
        c.TimestampCoder(as_beam_timestamp=True),
        bc.TimestampCoder(),
        [Timestamp(0), Timestamp(micros=-5000), Timestamp(1_700_000_000)],
    ),
    (
        c.TupleCoder(c.VarIntCoder(), c.StrUtf8Coder()),
        bc.TupleCoder([bc.VarIntCoder(), bc.StrUtf8Coder()]),
        [(1, "a"), (-7, "")],
    ),
    (
        c.TupleCoder(c.BytesCoder(), c.FloatCoder(), c.BooleanCoder()),
        bc.TupleCoder([bc.BytesCoder(), NonDeterministicBeamFloatCoder(), bc.BooleanCoder()]),
        [(b"k", 2.0, True)],
    ),
    (c.IterableCoder(c.StrUtf8Coder()), bc.IterableCoder(bc.StrUtf8Coder()), [[], ["a", "bb"]]),
    (c.ListCoder(c.VarIntCoder()), bc.ListCoder(bc.VarIntCoder()), [[], [1, 2, 300]]),
    (c.NullableCoder(c.StrUtf8Coder()), bc.NullableCoder(bc.StrUtf8Coder()), [None, "x"]),
    (c.LengthPrefixCoder(c.VarIntCoder()), beam_coders_module.LengthPrefixCoder(bc.VarIntCoder()), [0, 300]),
    (TupleSequenceCoder(c.VarIntCoder()), bc.TupleSequenceCoder(bc.VarIntCoder()), [(), (1, 2, 3)]),
]


@pytest.mark.parametrize("ours, beams, values", STANDARD, ids=[repr(s[0]) for s in STANDARD])
def test_standard_coders_map_to_beams_and_write_the_same_bytes(ours, beams, values):
    mapped = to_beam(ours)
    assert mapped == beams and type(mapped) is type(beams)
    for v in values:
        assert mapped.encode(v) == ours.encode(v)
        assert mapped.get_impl().encode_nested(v) == ours.encode_nested(v)
        assert mapped.decode(ours.encode(v)) == v
    assert from_beam(mapped) == ours


def test_beams_decimal_coder_converts_to_ours_with_the_same_bytes():
    import decimal

    ours = from_beam(bc.DecimalCoder())
    assert ours == c.DecimalCoder()
    for text in ["0", "1.50", "-123.456", "1E+5", "0.000001", "12345678901234567890.1"]:
        d = decimal.Decimal(text)
        assert ours.encode(d) == bc.DecimalCoder().encode(d)
        assert ours.encode_nested(d) == bc.DecimalCoder().get_impl().encode_nested(d)
    # the other way it stays wrapped: Beam's DecimalCoder has no URN to gain and coderkit's refuses more
    assert to_beam(c.DecimalCoder()) == CoderkitBeamCoder(c.DecimalCoder())


def test_standard_coders_get_standard_urns_in_the_proto():
    context = pipeline_context.PipelineContext()
    kv = to_beam(c.TupleCoder(c.StrUtf8Coder(), c.IterableCoder(c.VarIntCoder())))
    proto = kv.to_runner_api(context)
    assert proto.spec.urn == "beam:coder:kv:v1"
    urns = {context.coders[cid].to_runner_api(context).spec.urn for cid in proto.component_coder_ids}
    assert urns == {"beam:coder:string_utf8:v1", "beam:coder:iterable:v1"}
    assert to_beam(c.FloatCoder()).to_runner_api(context).spec.urn == "beam:coder:double:v1"


def test_float_keeps_coderkit_determinism_and_offers_the_canonical_variant():
    mapped = to_beam(c.FloatCoder())
    assert not mapped.is_deterministic()  # Beam's own FloatCoder says True, though -0.0 == 0.0
    assert bc.FloatCoder().is_deterministic()
    det = mapped.as_deterministic_coder("GroupByKey")
    assert det == CoderkitBeamCoder(c.CanonicalFloatCoder(lenient=True)) and det.is_deterministic()
    assert det.encode(-0.0) == det.encode(0.0) == bytes(8)
    assert det.encode(1.5) == mapped.encode(1.5)


@pytest.mark.parametrize(
    "ours",
    [
        c.CanonicalFloatCoder(),
        c.NoneCoder(),
        c.TimestampCoder(),
        c.DecimalCoder(),
        POINT,
        c.MapCoder(c.StrUtf8Coder(), c.VarIntCoder()),
        c.SetCoder(c.VarIntCoder(), frozen=True),
        c.PickleCoder(),
    ],
    ids=repr,
)
def test_other_coders_are_wrapped(ours):
    mapped = to_beam(ours)
    assert mapped == CoderkitBeamCoder(ours)
    assert from_beam(mapped) == ours
    assert mapped.to_type_hint() == ours.to_type_hint()
    assert mapped.is_deterministic() == ours.is_deterministic()


def test_wrapper_outer_bytes_are_ours_and_nested_bytes_are_length_prefixed():
    mapped = to_beam(POINT)
    p = Point(300, "héllo")
    outer = POINT.encode(p)
    assert mapped.encode(p) == outer
    assert mapped.get_impl().encode_nested(p) == bytes([len(outer)]) + outer
    assert mapped.decode(outer) == p
    assert mapped.get_impl().decode_nested(bytes([len(outer)]) + outer) == p
    assert mapped.estimate_size(p) == len(outer)
    assert mapped.get_impl().estimate_size(p, nested=True) == len(outer) + 1


def test_wrapper_inside_beams_kv_coder_round_trips():
    kv = to_beam(c.TupleCoder(POINT, c.ListCoder(POINT)))
    assert isinstance(kv, bc.TupleCoder) and kv.is_kv_coder()
    assert kv.key_coder() == CoderkitBeamCoder(POINT)
    value = (Point(1, "a"), [Point(2, "b"), Point(-3, "")])
    data = kv.encode(value)
    assert kv.decode(data) == value
    # Beam's decode_all over a stream of nested values: each wrapped value finds its own end.
    impl = kv.get_impl()
    assert list(impl.decode_all(impl.encode_all([value, value]))) == [value, value]


def test_wrapper_decode_errors_are_coderkit_decode_errors():
    mapped = to_beam(POINT)
    with pytest.raises(c.DecodeError, match="trailing data"):
        mapped.get_impl().decode_nested(b"\x01\x00\x00")
    with pytest.raises(c.DecodeError):
        mapped.decode(b"\x80")


def test_wrapper_encode_errors_name_the_field():
    with pytest.raises(c.EncodeError, match=r"\.x") as info:
        to_beam(POINT).encode(Point("nope", "a"))
    assert "VarIntCoder" in str(info.value)


def test_as_deterministic_coder_returns_the_wrapped_deterministic_variant():
    maps = c.MapCoder(c.StrUtf8Coder(), c.VarIntCoder())
    det = to_beam(maps).as_deterministic_coder("Group")
    assert det == to_beam(maps.as_deterministic_coder()) and det.is_deterministic()
    assert det.encode({"b": 1, "a": 2}) == det.encode({"a": 2, "b": 1})


def test_as_deterministic_coder_refusal_is_a_value_error_with_our_reasons():
    with pytest.raises(ValueError) as info:
        to_beam(c.PickleCoder()).as_deterministic_coder("MyGroup", "beam's generic message")
    assert isinstance(info.value, c.NonDeterministicCoderError)
    assert "key coder of MyGroup" in str(info.value)
    assert "PickleCoder" in str(info.value)


def test_beams_tuple_coder_asks_the_wrapper_for_its_deterministic_variant():
    kv = to_beam(c.TupleCoder(c.MapCoder(c.StrUtf8Coder(), c.VarIntCoder()), c.VarIntCoder()))
    assert not kv.is_deterministic()
    det = kv.as_deterministic_coder("G")
    assert det.is_deterministic()


@pytest.mark.parametrize("dumps, loads", [(pickle.dumps, pickle.loads), (cloudpickle.dumps, cloudpickle.loads)])
def test_wrapper_pickles_without_its_impl(dumps, loads):
    mapped = to_beam(POINT)
    mapped.get_impl().encode_nested(Point(1, "a"))  # builds the impl
    assert hasattr(mapped, "_impl")
    copy = loads(dumps(mapped))
    assert copy == mapped and copy.decode(mapped.encode(Point(1, "a"))) == Point(1, "a")


def test_wrapper_survives_beams_proto_round_trip_through_the_pickled_coder_urn():
    coder = to_beam(c.TupleCoder(POINT, c.VarIntCoder()))
    context = pipeline_context.PipelineContext()
    cid = context.coders.get_id(coder)
    proto = context.to_runner_api()
    key_id = proto.coders[cid].component_coder_ids[0]
    assert proto.coders[key_id].spec.urn == python_urns.PICKLED_CODER
    back = pipeline_context.PipelineContext(proto).coders.get_by_id(cid)
    assert back == coder
    assert back.decode(coder.encode((Point(5, "z"), 9))) == (Point(5, "z"), 9)


def test_from_beam_refuses_coders_without_an_equivalent_and_says_where():
    with pytest.raises(c.CoderNotFoundError, match="FastPrimitivesCoder.*no byte-identical coderkit coder.*Fix"):
        from_beam(bc.FastPrimitivesCoder())
    with pytest.raises(c.CoderNotFoundError, match=r"inside TupleCoder\[VarIntCoder, PickleCoder\]"):
        from_beam(bc.TupleCoder([bc.VarIntCoder(), bc.PickleCoder()]))
    with pytest.raises(TypeError, match="from_beam takes an apache_beam.coders.Coder"):
        from_beam(42)


def test_to_beam_refuses_non_coders_with_the_fix():
    with pytest.raises(TypeError, match="coders.get_coder"):
        to_beam(int)
    assert to_beam(bc.VarIntCoder()) == bc.VarIntCoder()


RECORDS = st.tuples(st.integers(-(2**63), 2**63 - 1), st.text(), st.floats(allow_nan=False), st.binary())


@settings(max_examples=150, deadline=None)
@given(RECORDS)
def test_mapped_tuple_coder_writes_our_bytes_in_both_contexts(value):
    ours = c.TupleCoder(c.VarIntCoder(), c.StrUtf8Coder(), c.FloatCoder(), c.BytesCoder())
    mapped = to_beam(ours)
    assert mapped.encode(value) == ours.encode(value)
    assert mapped.get_impl().encode_nested(value) == ours.encode_nested(value)
    assert mapped.decode(mapped.encode(value)) == value


@settings(max_examples=100, deadline=None)
@given(st.lists(st.builds(Point, st.integers(-(2**63), 2**63 - 1), st.text())))
def test_wrapped_records_round_trip_through_beams_iterable_coder(points):
    mapped = to_beam(c.IterableCoder(POINT))
    assert list(mapped.decode(mapped.encode(points))) == points
    assert mapped.get_impl().decode_nested(mapped.get_impl().encode_nested(points)) == points


def test_timestamp_decodes_to_beams_timestamp():
    ts = to_beam(c.TimestampCoder(as_beam_timestamp=True))
    new_year_2020 = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    assert ts.decode(c.TimestampCoder().encode(new_year_2020)) == Timestamp.of(1577836800)


# ----------------------------------------------------------------------------- the package


def test_import_coders_never_imports_beam_but_coders_beam_does():
    import subprocess

    code = (
        "import sys, coders; coders.get_coder(int); coders.VarIntCoder().encode(1); "
        "assert 'apache_beam' not in sys.modules, 'coders imported apache_beam'; "
        "import coders.beam; assert 'apache_beam' in sys.modules; print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_coders_beam_exports_lazily_by_name():
    import coders.beam as cb

    for name in [
        "to_beam",
        "from_beam",
        "CoderkitBeamCoder",
        "install",
        "uninstall",
        "installed_registry",
        "DeterministicGroupByKey",
        "KeyCheckError",
        "validate_pipeline",
        "KeyFinding",
    ]:
        assert getattr(cb, name).__module__.startswith("coders.beam.")
    for name in [
        "ReadFromSequenceFile",
        "WriteToSequenceFile",
        "SequenceFileSource",
        "SequenceFileSink",
    ]:
        assert name in cb.__all__ and name in dir(cb)
    for moved in ["ReadFromSparkPickleFile", "SparkPickleFileSource"]:  # pickling's layer: pickling.spark_beam
        assert moved not in cb.__all__ and not hasattr(cb, moved)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        cb.nope
    assert c.beam is cb


def test_deterministic_beam_float_keys_take_ints_as_floats():
    from coders.beam.adapter import NonDeterministicBeamFloatCoder

    keys = NonDeterministicBeamFloatCoder().as_deterministic_coder("G")
    assert keys.encode(1) == keys.encode(1.0) == bytes.fromhex("3ff0000000000000")
    assert keys.encode(-0.0) == keys.encode(0.0)


def test_a_wrapped_coders_beam_impl_calls_the_bound_method_itself():
    import dataclasses

    from coders import accel

    @dataclasses.dataclass(frozen=True)
    class Line:
        sku: str
        qty: int

    coder = c.RecordCoder(Line, [("sku", c.StrUtf8Coder()), ("qty", c.VarIntCoder())])
    impl = to_beam(coder).get_impl()
    assert impl.encode(Line("a", 2)) == b"\x01a\x02" and impl.decode(b"\x01a\x02") == Line("a", 2)
    if accel.ENABLED:  # one C call per value: no Python wrapper between Beam's impl and the codec
        assert isinstance(impl._encode.__self__, accel.Codec) and isinstance(impl._decode.__self__, accel.Codec)
