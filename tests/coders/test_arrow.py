"""Arrow tables, record batches and pandas DataFrames through the Arrow IPC stream format."""

from __future__ import annotations

import datetime
import decimal
import json
import pickle
import random
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import coders
from coders import DecodeError, EncodeError, NonDeterministicCoderError
from coders.arrow import (
    PANDAS_FIXUPS_KEY,
    ArrowRecordBatchCoder,
    ArrowTableCoder,
    DataFrameCoder,
    arrow_rule,
    pandas_dataframe_rule,
)
from coders.streams import varint64_bytes
from coders.testing import assert_roundtrip, strategy_for

TABLE, BATCH, FRAME = ArrowTableCoder(), ArrowRecordBatchCoder(), DataFrameCoder()
EOS = bytes.fromhex("ffffffff00000000")
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def a_table() -> pa.Table:
    schema = pa.schema(
        [
            pa.field("id", pa.int64(), metadata={"doc": "order id"}),
            ("name", pa.string()),
            ("when", pa.timestamp("us", tz="Europe/Berlin")),
            ("tags", pa.list_(pa.string())),
            ("color", pa.dictionary(pa.int8(), pa.string())),
            ("point", pa.struct([("x", pa.float64()), ("y", pa.float64())])),
        ],
        metadata={"source": "test", "version": "3"},
    )
    rows = [
        {"id": 1, "name": "a", "when": datetime.datetime(2024, 1, 1), "tags": ["x"], "color": "red", "point": None},
        {"id": None, "name": None, "when": None, "tags": [], "color": "blue", "point": {"x": -0.0, "y": 1.5}},
    ]
    first = pa.Table.from_pylist(rows, schema=schema)
    return pa.concat_tables([first, first.slice(1)])  # two chunks


def same_chunks(a: pa.Table, b: pa.Table) -> bool:
    # a table without rows may come back without chunks (Arrow writes no batch for its empty chunk)
    return a.num_rows == 0 or [c.num_chunks for c in a.columns] == [c.num_chunks for c in b.columns]


# ---- tables and batches ------------------------------------------------------------------------------


def test_a_table_comes_back_equal_with_schema_and_field_metadata_and_its_chunks():
    table = a_table()
    assert table.column("id").num_chunks == 2
    assert_roundtrip(TABLE, table)  # equal with check_metadata, in both contexts
    for back in (TABLE.decode(TABLE.encode(table)), TABLE.decode_nested(TABLE.encode_nested(table))):
        assert same_chunks(table, back)
        assert back.schema.metadata == {b"source": b"test", b"version": b"3"}
        assert back.schema.field("id").metadata == {b"doc": b"order id"}
        assert back.column("when").type == pa.timestamp("us", tz="Europe/Berlin")


def test_empty_tables_and_a_table_inside_a_tuple():
    assert_roundtrip(TABLE, pa.table({"a": pa.array([], pa.int8())}), pa.table({}))
    pair = coders.TupleCoder(coders.StrUtf8Coder(), TABLE)
    assert_roundtrip(pair, ("k", a_table()))
    key, back = pair.decode(pair.encode(("k", a_table())))
    assert key == "k" and same_chunks(a_table(), back)


def test_the_framing_is_arrows_ipc_stream_and_nested_adds_a_varint_length():
    table = a_table()
    outer = TABLE.encode(table)
    assert outer[:4] == b"\xff\xff\xff\xff"
    metadata_length = int.from_bytes(outer[4:8], "little")
    assert metadata_length > 0 and metadata_length % 8 == 0
    assert outer.endswith(EOS)
    assert TABLE.encode_nested(table) == varint64_bytes(len(outer)) + outer
    reader = pa.ipc.MessageReader.open_stream(pa.BufferReader(outer))
    kinds = []
    while True:
        try:
            kinds.append(reader.read_next_message().type)
        except StopIteration:
            break
    # the schema, the dictionary of the dictionary column, then one batch per chunk
    assert kinds == ["schema", "dictionary", "record batch", "record batch"]
    tiny = TABLE.encode(pa.table({"a": pa.array([1], pa.int8())}))
    assert len(tiny) == 288 and tiny[:8].hex(" ") == "ff ff ff ff 78 00 00 00" and tiny.endswith(EOS)


def test_a_record_batch_comes_back_equal_with_its_metadata():
    assert_roundtrip(BATCH, a_table().combine_chunks().to_batches()[0])


def test_a_batch_stream_must_hold_exactly_one_batch():
    with pytest.raises(DecodeError, match="the stream holds 2 record batches, not 1"):
        BATCH.decode(TABLE.encode(a_table()))
    with pytest.raises(DecodeError, match="the stream holds 0 record batches, not 1"):
        BATCH.decode(TABLE.encode(pa.table({"a": pa.array([], pa.int8())}).slice(0, 0).combine_chunks()[:0]))


def test_bytes_after_the_end_of_stream_marker_are_refused():
    data = TABLE.encode(a_table())
    with pytest.raises(DecodeError, match=r"2 byte\(s\) after the end-of-stream marker"):
        TABLE.decode(data + b"\x00\x01")
    nested = varint64_bytes(len(data) + 1) + data + b"\x00"
    with pytest.raises(DecodeError, match=r"1 byte\(s\) after the end-of-stream marker"):
        TABLE.decode_nested(nested)


def test_values_of_the_wrong_type_are_encode_errors():
    with pytest.raises(EncodeError, match="ArrowTableCoder expected a pyarrow.Table, got RecordBatch"):
        TABLE.encode(a_table().to_batches()[0])
    with pytest.raises(EncodeError, match="ArrowRecordBatchCoder expected a pyarrow.RecordBatch, got Table"):
        BATCH.encode(a_table())
    with pytest.raises(EncodeError, match="DataFrameCoder expected a pandas.DataFrame, got Series"):
        FRAME.encode(pd.Series([1]))


@SETTINGS
@given(data=st.data())
def test_generated_tables_and_batches_round_trip(data):
    table = data.draw(strategy_for(TABLE))
    assert_roundtrip(TABLE, table)
    assert same_chunks(table, TABLE.decode(TABLE.encode(table)))
    assert same_chunks(table, TABLE.decode_nested(TABLE.encode_nested(table)))
    assert_roundtrip(BATCH, data.draw(strategy_for(BATCH)))


# ---- DataFrames ----------------------------------------------------------------------------------------


FRAMES = {
    "numbers": pd.DataFrame({"i": [1, 2, 3], "f": [1.5, np.nan, -0.0], "b": [True, False, True]}),
    "small ints": pd.DataFrame({"u": np.array([1, 255], np.uint8), "f": np.array([1.5, 2], np.float32)}),
    "strings": pd.DataFrame({"s": ["x", None, "z"]}),
    "object strings": pd.DataFrame({"s": pd.Series(["x", None], dtype=object)}),
    "object ints": pd.DataFrame({"n": pd.Series([1, None, 2**62], dtype=object)}),
    "object floats": pd.DataFrame({"x": pd.Series([1.5, -0.0, None], dtype=object)}),
    "object bytes": pd.DataFrame({"b": pd.Series([b"\x00", b"y"], dtype=object)}),
    "python strings": pd.DataFrame({"s": pd.array(["x", None], dtype="string[python]")}),
    "arrow strings": pd.DataFrame({"s": pd.array(["x", None], dtype="string[pyarrow]")}),
    "nullable": pd.DataFrame(
        {
            "i": pd.array([1, None], dtype="Int64"),
            "b": pd.array([True, None], dtype="boolean"),
            "f": pd.array([1.5, None], dtype="Float64"),
        }
    ),
    "times": pd.DataFrame(
        {
            "ns": pd.to_datetime(["2020-01-01 00:00:00.000000001", "2021-06-01 00:00:00.000000000"]),
            "berlin": pd.to_datetime(["2020-01-01", "2020-07-01"]).tz_localize("Europe/Berlin"),
            "delta": pd.to_timedelta([1, 2], unit="s"),
        }
    ),
    "categories": pd.DataFrame({"c": pd.Categorical(["x", "y", "x"], ordered=True)}),
    "named index": pd.DataFrame({"a": [1, 2]}, index=pd.Index(["r1", "r2"], name="key")),
    "range index": pd.DataFrame({"a": [1, 2]}, index=pd.RangeIndex(5, 9, 2, name="r")),
    "multi index": pd.DataFrame({"a": [1, 2]}, index=pd.MultiIndex.from_tuples([(1, "x"), (2, "y")], names=["i", "j"])),
    "date index": pd.DataFrame({"a": [1, 2]}, index=pd.date_range("2020-01-01", periods=2, freq="D")),
    "periods and intervals": pd.DataFrame(
        {"p": pd.period_range("2020-01", periods=2, freq="M"), "v": pd.interval_range(0, 2)}
    ),
    "empty": pd.DataFrame(),
    "no rows": pd.DataFrame({"a": pd.Series([], dtype="int32")}),
}


@pytest.mark.parametrize("name", list(FRAMES))
def test_dataframes_come_back_equal_with_the_same_dtypes_and_index(name):
    assert_roundtrip(FRAME, FRAMES[name])  # equals, dtypes, index (class, names), column labels, attrs


def test_object_columns_give_back_the_same_python_objects():
    frame = pd.DataFrame(
        {
            "s": pd.Series(["x", None], dtype=object),
            "n": pd.Series([2**62, None], dtype=object),
            "f": pd.Series([-0.0, 1.5], dtype=object),
        }
    )
    assert_roundtrip(FRAME, frame)  # each object compared with its type: 2**62 stays an int, -0.0 keeps its sign
    back = FRAME.decode(FRAME.encode(frame))
    assert back.dtypes.tolist() == [np.dtype(object)] * 3
    assert [type(v) for v in back["s"]] == [str, type(None)]
    assert [type(v) for v in back["n"]] == [int, type(None)] and back["n"][0] == 2**62
    assert str(back["f"][0]) == "-0.0"


def test_attrs_survive():
    frame = pd.DataFrame({"a": [1]})
    frame.attrs["source"] = "test"
    assert_roundtrip(FRAME, frame)
    assert FRAME.decode(FRAME.encode(frame)).attrs == {"source": "test"}


@pytest.mark.parametrize(
    "frame, message",
    [
        (
            pd.DataFrame({"a": pd.Series([1, "x"], dtype=object)}),
            "at value['a']: DataFrameCoder: object column 'a' mixes int, str values, which Arrow cannot hold in one "
            "column (coder DataFrameCoder). Fix: convert the column to a typed dtype (df['a'].astype(...)) or "
            "register coders.PickleCoder()",
        ),
        (
            pd.DataFrame({"d": pd.Series([decimal.Decimal("1.50")], dtype=object)}),
            "object column 'd' holds decimal.Decimal values, which Arrow would give back as other objects",
        ),
        (
            pd.DataFrame({"l": pd.Series([[1], [2]], dtype=object)}),
            "object column 'l' holds builtins.list values",
        ),
        (
            pd.DataFrame({"x": pd.Series([1.5, float("nan")], dtype=object)}),
            "object column 'x' holds NaN, which Arrow writes as null and gives back as None",
        ),
        (
            pd.DataFrame([[1, 2]], columns=["a", "a"]),
            "DataFrameCoder cannot write this DataFrame through Arrow: ValueError: Duplicate column names",
        ),
        (
            pd.DataFrame({"c": np.array([1j])}),
            "DataFrameCoder cannot write this DataFrame through Arrow: ArrowNotImplementedError",
        ),
    ],
)
def test_what_arrow_cannot_give_back_exactly_is_an_encode_error_naming_the_column(frame, message):
    with pytest.raises(EncodeError) as info:
        FRAME.encode(frame)
    assert message in str(info.value)
    assert "Fix: " in str(info.value)


def test_a_hostile_fixup_entry_is_a_decode_error():
    table = pa.Table.from_pandas(pd.DataFrame({"a": [1, 2]}))
    for entry, message in [
        (b"[1]", "malformed coderkit.pandas metadata"),
        (b'{"7": "object"}', "coderkit.pandas names column 7, out of range"),
        (b'{"0": "eval"}', "unknown column fix-up 'eval'"),
        (b"{not json", "JSONDecodeError"),
    ]:
        hostile = table.replace_schema_metadata({**table.schema.metadata, PANDAS_FIXUPS_KEY: entry})
        with pytest.raises(DecodeError, match=message):
            FRAME.decode(TABLE.encode(hostile))


@SETTINGS
@given(data=st.data())
def test_generated_dataframes_round_trip(data):
    assert_roundtrip(FRAME, data.draw(strategy_for(FRAME)))


# ---- hostile bytes -------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.binary(max_size=96), nested=st.booleans())
def test_random_bytes_raise_only_decode_error(data, nested):
    for coder in (TABLE, BATCH, FRAME):
        with pytest.raises(DecodeError):
            (coder.decode_nested if nested else coder.decode)(b"\xff\xff\xff\xff" + data)
        try:
            (coder.decode_nested if nested else coder.decode)(data)
        except DecodeError:
            pass


def test_mutated_and_truncated_streams_raise_only_decode_error():
    rng = random.Random(9)
    samples = [
        (TABLE, a_table()),
        (BATCH, a_table().combine_chunks().to_batches()[0]),
        (FRAME, FRAMES["numbers"]),
        (FRAME, FRAMES["object ints"]),
    ]
    decoded = 0
    for coder, value in samples:
        encoded = coder.encode(value)
        for _ in range(250):
            data = bytearray(encoded)
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            if rng.random() < 0.3:
                data = data[: rng.randrange(len(data))]
            try:
                coder.decode(bytes(data))
                decoded += 1
            except DecodeError:
                pass
    assert decoded > 0  # some mutations land in values and still decode: the test reaches the values


def test_a_huge_claimed_metadata_length_is_a_decode_error_without_allocating_it():
    with pytest.raises(DecodeError, match="not a valid Arrow IPC stream of a Table"):
        TABLE.decode(b"\xff\xff\xff\xff\xf0\xff\xff\x7f" + b"\x00" * 16)
    with pytest.raises(DecodeError):
        TABLE.decode_nested(varint64_bytes(2**40) + b"\xff\xff\xff\xff")


# ---- determinism, structure, registry --------------------------------------------------------------------


def test_not_deterministic_with_the_reason_and_the_fix():
    for coder in (TABLE, BATCH, FRAME):
        assert not coder.is_deterministic()
        with pytest.raises(NonDeterministicCoderError) as info:
            coder.as_deterministic_coder()
        text = str(info.value)
        assert "equal tables can encode apart: the IPC stream writes the chunk layout and the bytes under null" in text
        assert "key by column values (a tuple of scalars) rather than by a whole table" in text
    one_chunk = a_table().combine_chunks()
    assert one_chunk.equals(a_table()) and TABLE.encode(one_chunk) != TABLE.encode(a_table())


def test_equality_type_hints_and_pickling():
    assert ArrowTableCoder() == TABLE and TABLE != BATCH and hash(ArrowTableCoder()) == hash(TABLE)
    assert (TABLE.to_type_hint(), BATCH.to_type_hint(), FRAME.to_type_hint()) == (
        pa.Table,
        pa.RecordBatch,
        pd.DataFrame,
    )
    for coder in (TABLE, BATCH, FRAME):
        assert pickle.loads(pickle.dumps(coder)) == coder
    assert repr(FRAME) == "DataFrameCoder"


def test_the_registry_gives_the_arrow_coders():
    assert coders.get_coder(pa.Table) == TABLE
    assert coders.get_coder(pa.RecordBatch) == BATCH
    assert coders.get_coder(pd.DataFrame) == FRAME
    assert coders.get_coder(dict[str, pa.Table]).components()[1] == TABLE
    assert arrow_rule(pd.DataFrame, coders.registry, None) is None
    assert pandas_dataframe_rule(pa.Table, coders.registry, None) is None
    assert arrow_rule(None, coders.registry, None) is None


def test_coderkit_never_imports_pyarrow_or_pandas_itself():
    script = (
        "import sys, coders, coders.arrow\n"
        "from coders.arrow import arrow_rule, pandas_dataframe_rule\n"
        "for hint in (int, list[str], dict[str, float]): coders.get_coder(hint)\n"
        "assert arrow_rule(int, coders.registry, None) is None\n"
        "assert pandas_dataframe_rule(int, coders.registry, None) is None\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyarrow', 'pandas', 'numpy')))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_fixups_are_recorded_only_for_the_columns_that_need_them():
    frame = pd.DataFrame({"i": [1], "o": pd.Series(["x"], dtype=object), "p": pd.array(["y"], dtype="string[python]")})
    table = pa.ipc.open_stream(FRAME.encode(frame)).read_all()
    assert json.loads(table.schema.metadata[PANDAS_FIXUPS_KEY]) == {"1": "object", "2": "string[python]"}
    assert PANDAS_FIXUPS_KEY not in pa.ipc.open_stream(FRAME.encode(FRAMES["numbers"])).read_all().schema.metadata
