"""DeterministicGroupByKey: construction-time refusal with label, key type, reason, path and fix; runtime key checks."""

from __future__ import annotations

import sys
import typing
from pathlib import Path

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.typehints import typehints as th
from hypothesis import given, settings
from hypothesis import strategies as st

import coders as c
from coders.base import Coder
from coders.beam import DeterministicGroupByKey, KeyCheckError
from coders.beam.gbk import resolve_key_coder

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pipeline_types as pt


def grouped_sorted(pcoll):
    return pcoll | "Sorted" >> beam.MapTuple(lambda k, vs: (k, sorted(vs)))


# ----------------------------------------------------------------------------- grouping


@pytest.mark.pipeline
def test_float_keys_minus_zero_and_zero_group_together_where_beam_splits_them():
    data = [(-0.0, "a"), (0.0, "b"), (2.5, "c")]
    with beam.Pipeline(runner="DirectRunner") as p:
        ours = grouped_sorted(p | "Ours" >> beam.Create(data) | DeterministicGroupByKey())
        assert_that(ours, equal_to([(0.0, ["a", "b"]), (2.5, ["c"])]), label="Ours")
        beams = p | "Beams" >> beam.Create(data) | beam.GroupByKey() | beam.MapTuple(lambda k, vs: (str(k), sorted(vs)))
        # Beam's FloatCoder says it is deterministic, yet the equal keys land in two groups.
        assert_that(beams, equal_to([("-0.0", ["a"]), ("0.0", ["b"]), ("2.5", ["c"])]), label="Beams")


@pytest.mark.pipeline
def test_record_keys_group_like_groupbykey_and_output_is_typed():
    with beam.Pipeline(runner="DirectRunner") as p:
        keyed = (
            p
            | beam.Create(pt.sample_orders()).with_output_types(pt.Order)
            | beam.Map(lambda o: (o.customer, o.order_id)).with_output_types(typing.Tuple[pt.CustomerKey, int])
        )
        grouped = keyed | "G" >> DeterministicGroupByKey()
        assert grouped.element_type == th.Tuple[pt.CustomerKey, th.Iterable[int]]
        assert_that(
            grouped_sorted(grouped),
            equal_to([(pt.CustomerKey("north", 1), [1, 2, 5]), (pt.CustomerKey("south", 2), [3, 4])]),
        )


# ----------------------------------------------------------------------------- construction-time refusal


def test_a_key_type_only_pickle_can_code_is_refused_before_data_moves():
    p = beam.Pipeline(runner="DirectRunner")
    keyed = p | beam.Create([(pt.Opaque(1), "x")]).with_output_types(typing.Tuple[pt.Opaque, str])
    with pytest.warns(c.FallbackCoderWarning), pytest.raises(c.NonDeterministicCoderError) as info:
        keyed | "GroupOpaque" >> DeterministicGroupByKey(registry=c.CoderRegistry())
    text = str(info.value)
    assert "DeterministicGroupByKey 'GroupOpaque'" in text
    assert "(key type `Opaque`)" in text
    assert "PickleCoder" in text and "Fix:" in text


def test_a_record_with_a_pickled_field_names_the_field_path():
    p = beam.Pipeline(runner="DirectRunner")
    keyed = p | beam.Create([]).with_output_types(typing.Tuple[pt.WithOpaque, int])
    with pytest.warns(c.FallbackCoderWarning), pytest.raises(c.NonDeterministicCoderError) as info:
        keyed | "GroupByRecord" >> DeterministicGroupByKey(registry=c.CoderRegistry())
    assert "'GroupByRecord'" in str(info.value)
    assert "WithOpaque.blob" in str(info.value)


@pytest.mark.parametrize("element_type", [typing.Tuple[typing.Any, str], typing.Any], ids=["Any key", "untyped"])
def test_an_unknown_key_type_is_refused_with_how_to_declare_it(element_type):
    p = beam.Pipeline(runner="DirectRunner")
    keyed = p | beam.Create([(1, "a")]).with_output_types(element_type)
    with pytest.raises(c.NonDeterministicCoderError) as info:
        keyed | "Group" >> DeterministicGroupByKey()
    text = str(info.value)
    assert "DeterministicGroupByKey 'Group' (key type `Any`)" in text
    assert "the key type is unknown (Any)" in text and "1, 1.0 and True" in text
    assert ".with_output_types(typing.Tuple[KeyType, ValueType])" in text and "check_keys=True" in text


def test_a_union_of_numeric_key_types_is_refused_where_create_infers_one():
    p = beam.Pipeline(runner="DirectRunner")
    keyed = p | beam.Create([(1, "a"), (1.5, "b")])  # Beam infers the key type Union[float, int]
    with pytest.raises(c.NonDeterministicCoderError) as info:
        keyed | "Mixed" >> DeterministicGroupByKey()
    text = str(info.value)
    assert "DeterministicGroupByKey 'Mixed'" in text and "compare equal across types (1 == 1.0 == True)" in text
    assert "Fix: convert keys to one type before grouping" in text


def test_a_numeric_union_inside_a_record_key_names_its_path():
    p = beam.Pipeline(runner="DirectRunner")
    keyed = p | beam.Create([]).with_output_types(typing.Tuple[pt.Measure, int])
    with pytest.raises(
        c.NonDeterministicCoderError, match=r"Measure\.value -> UnionCoder: the union of (int, float|float, int) holds"
    ):
        keyed | "ByMeasure" >> DeterministicGroupByKey()


def test_decimal_keys_are_refused_because_the_scale_is_in_the_bytes():
    import decimal

    p = beam.Pipeline(runner="DirectRunner")
    keyed = p | beam.Create([]).with_output_types(typing.Tuple[decimal.Decimal, int])
    with pytest.raises(c.NonDeterministicCoderError) as info:
        keyed | "ByPrice" >> DeterministicGroupByKey()
    assert "Decimal('1.0') == Decimal('1.00') but the scale is part of the bytes" in str(info.value)
    assert "d.normalize()" in str(info.value)


def test_input_that_is_not_pairs_is_refused_like_groupbykey_does():
    p = beam.Pipeline(runner="DirectRunner")
    words = p | beam.Create(["a", "b"])
    with pytest.raises(
        ValueError, match=r"Input to 'Words' must be compatible with KV\[Any, Any\]. Found <class 'str'>"
    ):
        words | "Words" >> DeterministicGroupByKey()


def test_the_label_is_the_full_label_inside_a_composite():
    class Outer(beam.PTransform):
        def expand(self, pcoll):
            return pcoll | "Inner" >> DeterministicGroupByKey()

    p = beam.Pipeline(runner="DirectRunner")
    keyed = p | beam.Create([]).with_output_types(typing.Tuple[typing.Any, int])
    with pytest.raises(c.NonDeterministicCoderError, match="'Outer/Inner'"):
        keyed | "Outer" >> Outer()


# ----------------------------------------------------------------------------- runtime key checks


def run_expecting_key_error(keys, element_type, registry=None):
    with pytest.raises(Exception) as info, beam.Pipeline(runner="DirectRunner") as p:
        (
            p
            | beam.Create([(k, i) for i, k in enumerate(keys)]).with_output_types(element_type)
            | "Checked" >> DeterministicGroupByKey(check_keys=True, registry=registry)
        )
    assert "KeyCheckError" in str(info.value) or isinstance(info.value, KeyCheckError)
    return str(info.value)


@pytest.mark.pipeline
def test_check_keys_fails_on_equal_any_keys_with_different_bytes():
    text = run_expecting_key_error([1, 1.0, True], typing.Tuple[typing.Any, int])
    assert "Checked: key" in text
    assert "are equal but encode to different bytes" in text and "Fix: convert keys to one type" in text


@pytest.mark.pipeline
def test_check_keys_fails_when_decoding_changes_the_key_type():
    text = run_expecting_key_error([np.float64(1.5)], typing.Tuple[float, int])
    assert "decoding changes a type (the key: float64 became float)" in text


class _StrippingCoder(Coder):
    """A deliberately lossy str coder: decoding strips spaces, so a key's bytes change on re-encoding."""

    def encode_to(self, value, out, nested):
        c.StrUtf8Coder().encode_to(value, out, nested)

    def decode_from(self, data, pos, nested):
        value, pos = c.StrUtf8Coder().decode_from(data, pos, nested)
        return value.strip(), pos


@pytest.mark.pipeline
def test_check_keys_fails_when_bytes_change_on_re_encoding():
    lossy = c.CoderRegistry()
    lossy.register_coder(str, _StrippingCoder())
    text = run_expecting_key_error(["a "], typing.Tuple[str, int], registry=lossy)
    assert "bytes change on re-encoding" in text
    assert "is not equal to the original" in text


@pytest.mark.pipeline
def test_check_keys_passes_good_keys_through():
    with beam.Pipeline(runner="DirectRunner") as p:
        out = grouped_sorted(p | beam.Create([("a", 1), ("b", 2), ("a", 3)]) | DeterministicGroupByKey(check_keys=True))
        assert_that(out, equal_to([("a", [1, 3]), ("b", [2])]))


def test_key_check_error_pickles_with_its_message():
    import pickle

    err = KeyCheckError("G", 1.0, ["problem one"])
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and "G: key 1.0 of type `float`" in str(err)


# ----------------------------------------------------------------------------- the law the key coder must keep


def _equal_twin(value):
    """An equal value built differently: -0.0 for 0.0, dicts and sets filled in reverse order."""
    if isinstance(value, float):
        return -0.0 if value == 0.0 else float(value)
    if isinstance(value, tuple):
        return tuple(_equal_twin(v) for v in value)
    if isinstance(value, dict):
        return {k: _equal_twin(v) for k, v in reversed(list(value.items()))}
    if isinstance(value, frozenset):
        twin = set()
        for v in sorted(value, reverse=True):
            twin.add(v)
        return frozenset(twin)
    return value


FLOATS = st.floats(allow_nan=False) | st.sampled_from([0.0, -0.0])
KEY_CASES = [
    (float, FLOATS),
    (typing.Tuple[float, str], st.tuples(FLOATS, st.text(max_size=5))),
    (typing.Optional[float], st.none() | FLOATS),
    (typing.FrozenSet[str], st.frozensets(st.text(max_size=4), max_size=6)),
    (typing.Dict[str, float], st.dictionaries(st.text(max_size=4), FLOATS, max_size=5)),
]


@pytest.mark.parametrize("hint, values", KEY_CASES, ids=[str(h) for h, _ in KEY_CASES])
def test_equal_keys_get_equal_bytes_under_the_resolved_key_coder(hint, values):
    coder = resolve_key_coder(hint, "Law")
    assert coder.is_deterministic()

    @settings(max_examples=60, deadline=None)
    @given(values)
    def law(key):
        twin = _equal_twin(key)
        assert twin == key
        assert coder.encode(twin) == coder.encode(key)
        assert coder.decode(coder.encode(key)) == key

    law()
