"""ProtoCoder: Beam's ProtoCoder bytes for any generated message class, honest determinism, safe decoding."""

from __future__ import annotations

import pickle
import random
import subprocess
import sys

import apache_beam.coders.coders as beam
import pytest
from apache_beam.portability.api import beam_runner_api_pb2, schema_pb2
from google.protobuf import descriptor_pb2, struct_pb2, timestamp_pb2, wrappers_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import coders
from coders import DecodeError, EncodeError, NonDeterministicCoderError
from coders.beam import from_beam, to_beam
from coders.proto import ProtoCoder, nondeterministic_fields, protobuf_rule
from coders.streams import varint64_bytes
from coders.testing import assert_picklable, assert_roundtrip, strategy_for

TS = ProtoCoder(timestamp_pb2.Timestamp)
STRUCT = ProtoCoder(struct_pb2.Struct)
SCHEMA = ProtoCoder(schema_pb2.Schema)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


def a_struct(**items) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(items)
    return s


def a_schema() -> schema_pb2.Schema:
    return schema_pb2.Schema(
        id="orders-v1",
        fields=[
            schema_pb2.Field(name="id", type=schema_pb2.FieldType(atomic_type=schema_pb2.INT64)),
            schema_pb2.Field(
                name="tags",
                type=schema_pb2.FieldType(
                    nullable=True,
                    array_type=schema_pb2.ArrayType(element_type=schema_pb2.FieldType(atomic_type=schema_pb2.STRING)),
                ),
            ),
        ],
    )


# ---- exact bytes ---------------------------------------------------------------------------------


def test_timestamp_bytes_are_the_protobuf_wire_bytes_and_eleven_bytes_for_a_real_instant():
    assert TS.encode(timestamp_pb2.Timestamp(seconds=1, nanos=5)).hex(" ") == "08 01 10 05"
    assert TS.encode_nested(timestamp_pb2.Timestamp(seconds=1, nanos=5)).hex(" ") == "04 08 01 10 05"
    assert TS.encode(timestamp_pb2.Timestamp()) == b""
    assert TS.encode_nested(timestamp_pb2.Timestamp()) == b"\x00"
    now = timestamp_pb2.Timestamp(seconds=1_700_000_000, nanos=123_456_789)
    assert TS.encode(now).hex(" ") == "08 80 e2 cf aa 06 10 95 9a ef 3a"
    assert len(TS.encode(now)) == 11
    assert len(pickle.dumps(now)) > 5 * 11  # what the registry's pickle fallback cost before


def test_decoded_messages_are_new_equal_messages_of_the_class():
    for coder, value in [
        (TS, timestamp_pb2.Timestamp(seconds=-62135596800, nanos=999_999_999)),
        (STRUCT, a_struct(a=1.5, b="x", c=True, d=None, e=[1, "two"], f={"g": {"h": []}})),
        (SCHEMA, a_schema()),
        (ProtoCoder(wrappers_pb2.DoubleValue), wrappers_pb2.DoubleValue(value=-0.0)),
        (ProtoCoder(wrappers_pb2.DoubleValue), wrappers_pb2.DoubleValue(value=float("nan"))),
    ]:
        assert_roundtrip(coder, value)
        back = coder.decode(coder.encode(value))
        assert type(back) is type(value) and back == value and back is not value


def test_negative_zero_and_zero_are_different_messages_with_different_bytes():
    zero, negative = wrappers_pb2.DoubleValue(value=0.0), wrappers_pb2.DoubleValue(value=-0.0)
    coder = ProtoCoder(wrappers_pb2.DoubleValue)
    assert zero != negative
    assert coder.encode(zero) == b""
    assert coder.encode(negative).hex(" ") == "09 00 00 00 00 00 00 00 80"


def test_nested_messages_sit_in_a_tuple_and_a_list():
    pair = coders.TupleCoder(TS, coders.StrUtf8Coder())
    value = (timestamp_pb2.Timestamp(seconds=1, nanos=5), "k")
    assert pair.encode(value).hex(" ") == "04 08 01 10 05 6b"
    assert_roundtrip(pair, value)
    assert_roundtrip(coders.ListCoder(STRUCT.as_deterministic_coder()), [a_struct(a=1), struct_pb2.Struct()])


# ---- against Beam: both directions, both contexts ----------------------------------------------------


def beam_pairs():
    struct_value = a_struct(z=1, a="x", m={"k": [True, None]})
    return [
        (TS, beam.ProtoCoder(timestamp_pb2.Timestamp), timestamp_pb2.Timestamp(seconds=1_700_000_000, nanos=7)),
        (TS, beam.ProtoCoder(timestamp_pb2.Timestamp), timestamp_pb2.Timestamp()),
        (STRUCT, beam.ProtoCoder(struct_pb2.Struct), struct_value),
        (
            STRUCT.as_deterministic_coder(),
            beam.DeterministicProtoCoder(struct_pb2.Struct),
            struct_value,
        ),
        (SCHEMA, beam.ProtoCoder(schema_pb2.Schema), a_schema()),
    ]


@pytest.mark.parametrize("ours, theirs, value", beam_pairs())
def test_bytes_match_beams_proto_coders_both_ways_in_both_contexts(ours, theirs, value):
    impl = theirs.get_impl()
    assert ours.encode(value) == theirs.encode(value)
    assert ours.encode_nested(value) == impl.encode_nested(value)
    assert ours.decode(theirs.encode(value)) == value
    assert ours.decode_nested(impl.encode_nested(value)) == value
    assert theirs.decode(ours.encode(value)) == value
    assert impl.decode_nested(ours.encode_nested(value)) == value


@SETTINGS
@given(data=st.data())
def test_generated_messages_match_beam_byte_for_byte(data):
    for ours, theirs in [
        (SCHEMA, beam.ProtoCoder(schema_pb2.Schema)),
        (STRUCT.as_deterministic_coder(), beam.DeterministicProtoCoder(struct_pb2.Struct)),
        (TS, beam.ProtoCoder(timestamp_pb2.Timestamp)),
    ]:
        value = data.draw(strategy_for(ours))
        assert ours.encode(value) == theirs.encode(value)
        assert ours.encode_nested(value) == theirs.get_impl().encode_nested(value)
        assert theirs.decode(ours.encode(value)) == value
        assert_roundtrip(ours, value)


def test_to_beam_and_from_beam_map_to_beams_proto_coders():
    assert to_beam(TS) == beam.ProtoCoder(timestamp_pb2.Timestamp)
    assert type(to_beam(TS)) is beam.ProtoCoder
    deterministic = to_beam(STRUCT.as_deterministic_coder())
    assert type(deterministic) is beam.DeterministicProtoCoder
    assert deterministic.proto_message_type is struct_pb2.Struct
    assert from_beam(beam.ProtoCoder(schema_pb2.Schema)) == SCHEMA
    assert from_beam(beam.DeterministicProtoCoder(struct_pb2.Struct)) == ProtoCoder(
        struct_pb2.Struct, deterministic=True
    )
    assert from_beam(beam.TupleCoder([beam.ProtoCoder(timestamp_pb2.Timestamp), beam.VarIntCoder()])) == (
        coders.TupleCoder(TS, coders.VarIntCoder())
    )


# ---- determinism -----------------------------------------------------------------------------------


def test_a_message_type_without_maps_or_extensions_is_deterministic():
    for coder in (TS, SCHEMA, ProtoCoder(wrappers_pb2.StringValue)):
        assert coder.is_deterministic()
        assert coder.as_deterministic_coder() is coder


def test_a_map_field_makes_it_non_deterministic_with_its_path_and_the_fix():
    assert not STRUCT.is_deterministic()
    with pytest.raises(NonDeterministicCoderError) as info:
        STRUCT.verify_deterministic()
    text = str(info.value)
    assert (
        "google.protobuf.Struct.fields is a map field (its entries are written in hash order), "
        "so equal messages can serialize to different bytes" in text
    )
    assert "ProtoCoder(cls, deterministic=True)" in text
    assert STRUCT.as_deterministic_coder() == ProtoCoder(struct_pb2.Struct, deterministic=True)
    assert STRUCT.as_deterministic_coder().is_deterministic()


def test_maps_are_found_at_any_depth_and_through_recursive_types():
    # Value -> struct_value (Struct) -> fields (map); ListValue -> values (Value) -> ... the same map.
    assert nondeterministic_fields(struct_pb2.Value.DESCRIPTOR) == [
        ("google.protobuf.Value.struct_value.fields", "a map field (its entries are written in hash order)")
    ]
    assert nondeterministic_fields(struct_pb2.ListValue.DESCRIPTOR) == [
        ("google.protobuf.ListValue.values.struct_value.fields", "a map field (its entries are written in hash order)")
    ]
    pipeline = [path for path, _ in nondeterministic_fields(beam_runner_api_pb2.Pipeline.DESCRIPTOR)]
    assert "org.apache.beam.model.pipeline.v1.Pipeline.components.transforms" in pipeline
    assert not ProtoCoder(beam_runner_api_pb2.Pipeline).is_deterministic()


def test_extensions_are_written_in_the_order_set_so_extendable_types_are_not_deterministic():
    first = descriptor_pb2.EnumValueOptions()
    first.Extensions[beam_runner_api_pb2.beam_urn] = "x"
    first.Extensions[beam_runner_api_pb2.beam_constant] = "y"
    second = descriptor_pb2.EnumValueOptions()
    second.Extensions[beam_runner_api_pb2.beam_constant] = "y"
    second.Extensions[beam_runner_api_pb2.beam_urn] = "x"
    coder = ProtoCoder(descriptor_pb2.EnumValueOptions)
    assert first == second and coder.encode(first) != coder.encode(second)
    assert [i.reason for i in coder.determinism_issues()] == [
        "google.protobuf.EnumValueOptions is a message type with extension ranges (extensions are written in "
        "the order they were set), so equal messages can serialize to different bytes",
        "google.protobuf.EnumValueOptions.features is a google.protobuf.FeatureSet, a type with extension ranges "
        "(extensions are written in the order they were set), so equal messages can serialize to different bytes",
    ]
    deterministic = coder.as_deterministic_coder()
    assert deterministic.encode(first) == deterministic.encode(second)
    assert deterministic.encode(first) == beam.DeterministicProtoCoder(descriptor_pb2.EnumValueOptions).encode(second)


def test_the_deterministic_variant_gives_equal_maps_equal_bytes():
    one, two = struct_pb2.Struct(), struct_pb2.Struct()
    for key in ("b", "a", "c", "zz", "k0"):
        one[key] = key
    for key in ("k0", "zz", "c", "a", "b"):
        two[key] = key
    assert one == two
    deterministic = STRUCT.as_deterministic_coder()
    assert deterministic.encode(one) == deterministic.encode(two)
    assert deterministic.encode_nested(one) == deterministic.encode_nested(two)


# ---- errors ------------------------------------------------------------------------------------------


def test_a_message_of_another_class_or_a_non_message_is_an_encode_error_naming_both():
    with pytest.raises(EncodeError) as info:
        TS.encode(struct_pb2.Struct())
    assert str(info.value).startswith(
        "ProtoCoder expected a google.protobuf.timestamp_pb2.Timestamp message, got Struct"
    )
    assert "coders.get_coder(type(message))" in str(info.value)
    with pytest.raises(EncodeError, match="expected a google.protobuf.timestamp_pb2.Timestamp message, got dict"):
        TS.encode_nested({"seconds": 1})


def test_the_constructor_takes_only_a_concrete_message_class():
    from google.protobuf import message

    for bad in (message.Message, dict, timestamp_pb2.Timestamp(), "Timestamp"):
        with pytest.raises(TypeError, match="ProtoCoder takes a generated protobuf message class"):
            ProtoCoder(bad)


def test_invalid_bytes_are_a_decode_error_naming_the_message_type():
    with pytest.raises(DecodeError, match="not a valid google.protobuf.Timestamp message"):
        TS.decode(b"\x08")  # a varint field with no varint
    with pytest.raises(DecodeError, match="not a valid google.protobuf.Struct message"):
        STRUCT.decode(b"\x0a\x05\x0a")  # a length beyond the end
    with pytest.raises(DecodeError):
        TS.decode_nested(b"\x05\x08\x01")  # the length prefix claims more than there is
    with pytest.raises(DecodeError, match="trailing data"):
        TS.decode_nested(b"\x00\x00")


def test_a_message_nested_past_protobufs_limit_is_a_decode_error():
    data = b""
    for _ in range(150):  # ListValue.values[0] (field 1) -> Value.list_value (field 6): 300 levels, past 100
        value = b"\x32" + varint64_bytes(len(data)) + data
        data = b"\x0a" + varint64_bytes(len(value)) + value
    with pytest.raises(DecodeError, match="not a valid google.protobuf.ListValue message"):
        ProtoCoder(struct_pb2.ListValue).decode(data)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.binary(max_size=64), nested=st.booleans())
def test_random_bytes_decode_or_raise_only_decode_error(data, nested):
    for coder in (TS, STRUCT, SCHEMA):
        try:
            (coder.decode_nested if nested else coder.decode)(data)
        except DecodeError:
            pass


def test_mutated_bytes_decode_or_raise_only_decode_error():
    rng = random.Random(9)
    samples = [(TS, timestamp_pb2.Timestamp(seconds=1_700_000_000, nanos=7)), (SCHEMA, a_schema())]
    samples.append((STRUCT, a_struct(a=1.5, b="x", c=[1, {"d": None}])))
    for coder, value in samples:
        for encoded in (coder.encode(value), coder.encode_nested(value)):
            for _ in range(300):
                data = bytearray(encoded)
                for _ in range(rng.randint(1, 3)):
                    data[rng.randrange(len(data))] = rng.randrange(256)
                cut = bytes(data[: rng.randint(0, len(data))]) if rng.random() < 0.3 else bytes(data)
                for decode in (coder.decode, coder.decode_nested):
                    try:
                        decode(cut)
                    except DecodeError:
                        pass


# ---- structure, pickling, registry -------------------------------------------------------------------


def test_equality_repr_type_hint_and_pickling():
    assert ProtoCoder(timestamp_pb2.Timestamp) == TS and hash(TS) == hash(ProtoCoder(timestamp_pb2.Timestamp))
    assert TS != STRUCT and STRUCT.as_deterministic_coder() != STRUCT
    assert repr(TS) == "ProtoCoder[Timestamp]"
    assert repr(STRUCT.as_deterministic_coder()) == "ProtoCoder[Struct, deterministic=True]"
    assert TS.to_type_hint() is timestamp_pb2.Timestamp
    assert_picklable(STRUCT.as_deterministic_coder(), a_struct(a=1))
    # Beam's generated classes name a module that cannot be imported; the coder pickles by the generated
    # module that defines the message's file, and its full name.
    assert schema_pb2.Schema.__module__ == "org.apache.beam.model.pipeline.v1.schema_pb2"
    assert pickle.loads(pickle.dumps(SCHEMA)) == SCHEMA
    assert pickle.loads(pickle.dumps(TS)) == TS


def test_the_registry_gives_protocoder_for_message_classes():
    assert coders.get_coder(timestamp_pb2.Timestamp) == TS
    assert coders.get_coder(schema_pb2.Schema) == SCHEMA
    registry = coders.CoderRegistry()
    assert registry.get_coder(dict[str, struct_pb2.Struct]).components()[1] == STRUCT
    from google.protobuf import message

    assert protobuf_rule(message.Message, registry, None) is None
    assert protobuf_rule(int, registry, None) is None


def test_coderkit_never_imports_protobuf_itself():
    script = (
        "import sys, coders, coders.proto\n"
        "from coders.proto import protobuf_rule\n"
        "for hint in (int, list[str], dict[str, float]): coders.get_coder(hint)\n"
        "assert protobuf_rule(int, coders.registry, None) is None\n"
        "print(sorted(m for m in sys.modules if m.startswith('google')))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_generated_values_round_trip_for_a_map_heavy_type():
    @SETTINGS
    @given(value=strategy_for(STRUCT.as_deterministic_coder()))
    def check(value):
        assert_roundtrip(STRUCT.as_deterministic_coder(), value)

    check()


def test_a_pickled_coder_loads_in_a_fresh_interpreter_that_never_imported_the_message_module():
    script = (
        "import pickle, sys\n"
        "coder = pickle.loads(sys.stdin.buffer.read())\n"
        "print(coder, coder.message_type.DESCRIPTOR.full_name, coder.decode(bytes.fromhex('12026964')).id)\n"
    )
    data = pickle.dumps(SCHEMA.as_deterministic_coder())
    result = subprocess.run([sys.executable, "-c", script], input=data, capture_output=True, check=True)
    assert result.stdout.decode().split() == ["ProtoCoder[Schema]", "org.apache.beam.model.pipeline.v1.Schema", "id"]
