"""Protobuf messages, Arrow tables and pandas DataFrames in real Beam pipelines (DirectRunner) after
``coders.beam.install()``: they pass exactly (same class, equal values, a DataFrame's dtypes and index),
a record with protobuf fields travels in coderkit's record coder, and protobuf Timestamp keys group
exactly. A record holding a DataFrame and a Table travels in coderkit's coders. Run in process and
once on two worker processes.

The types live in this module, which workers import from PYTHONPATH (this directory).
"""

import dataclasses
import os
import typing
from pathlib import Path

import apache_beam as beam
import pandas as pd
import pyarrow as pa
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to
from google.protobuf import struct_pb2, timestamp_pb2

import coders
from coders.arrow import ArrowTableCoder, DataFrameCoder
from coders.beam import CoderkitBeamCoder, DeterministicGroupByKey, install, to_beam, uninstall
from coders.proto import ProtoCoder

HERE = Path(__file__).resolve().parent
MULTI = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]


@dataclasses.dataclass
class Event:
    at: timestamp_pb2.Timestamp
    payload: struct_pb2.Struct
    note: str = ""


@dataclasses.dataclass
class Snapshot:
    name: str
    frame: pd.DataFrame
    table: pa.Table


def a_struct(**items) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(items)
    return s


T1, T2 = timestamp_pb2.Timestamp(seconds=1_700_000_000, nanos=5), timestamp_pb2.Timestamp(seconds=1)
EVENTS = [
    Event(T1, a_struct(n=1, tags=["a", "b"])),
    Event(T2, a_struct(n=2, nested={"x": None}), note="late"),
    Event(timestamp_pb2.Timestamp(seconds=1_700_000_000, nanos=5), a_struct(n=3)),
]
ROWS = pd.Index(["r1", "r2"], name="row")
FRAME = pd.DataFrame(
    {
        "store": pd.Series(["north", None], dtype=object, index=ROWS),
        "cents": pd.array([100, None], dtype="Int64"),
        "at": pd.to_datetime(["2024-01-01 10:00", "2024-01-02 11:30"]).tz_localize("Europe/Berlin"),
        "kind": pd.Categorical(["a", "b"]),
    },
    index=ROWS,
)
TABLE = pa.table({"id": [1, 2], "name": ["x", None]}, metadata={"source": "pipeline"})


def exact(x):
    """A hashable picture of an element: its class and its exact bytes or values (so equal_to can compare)."""
    if isinstance(x, Event):
        return ("Event", exact(x.at), exact(x.payload), x.note)
    if isinstance(x, (timestamp_pb2.Timestamp, struct_pb2.Struct)):
        return (type(x).__name__, x.SerializeToString(deterministic=True))
    raise TypeError(type(x))


def frame_difference(back) -> str:
    """'same' when ``back`` is exactly FRAME (class, values, dtypes, index), else what differed."""
    if type(back) is not pd.DataFrame:
        return f"type {type(back).__name__}"
    if list(back.dtypes) != list(FRAME.dtypes):
        return f"dtypes {list(back.dtypes)}"
    if not (back.equals(FRAME) and back.index.equals(FRAME.index) and back.index.name == FRAME.index.name):
        return f"values {back!r}"
    if [type(v) for v in back["store"]] != [str, type(None)]:
        return "object column values changed type"
    return "same"


def table_difference(back) -> str:
    return "same" if type(back) is pa.Table and back.equals(TABLE, check_metadata=True) else repr(back)


def build(p):
    events = p | "CreateEvents" >> beam.Create(EVENTS).with_output_types(Event) | "ShuffleEvents" >> beam.Reshuffle()
    assert_that(events | "ExactEvents" >> beam.Map(exact), equal_to([exact(e) for e in EVENTS]), label="Events")

    counts = (
        events
        | "Key" >> beam.Map(lambda e: (e.at, 1)).with_output_types(typing.Tuple[timestamp_pb2.Timestamp, int])
        | "Group" >> DeterministicGroupByKey()
        | "Count" >> beam.MapTuple(lambda at, ones: (type(at).__name__, at.seconds, at.nanos, sum(ones)))
    )
    assert_that(counts, equal_to([("Timestamp", 1_700_000_000, 5, 2), ("Timestamp", 1, 0, 1)]), label="Counts")

    snapshots = (
        p
        | "CreateSnapshots" >> beam.Create([Snapshot("s", FRAME, TABLE)]).with_output_types(Snapshot)
        | "ShuffleSnapshots" >> beam.Reshuffle()
        | "CheckSnapshots" >> beam.Map(lambda s: (s.name, frame_difference(s.frame), table_difference(s.table)))
    )
    assert_that(snapshots, equal_to([("s", "same", "same")]), label="Snapshots")

    # A DataFrame or Table element of its own: Beam picks its coder (install() takes over record types only).
    frames = (
        p
        | "CreateFrame" >> beam.Create([FRAME]).with_output_types(pd.DataFrame)
        | "ShuffleFrame" >> beam.Reshuffle()
        | "CheckFrame" >> beam.Map(frame_difference)
    )
    assert_that(frames, equal_to(["same"]), label="Frames")


@pytest.fixture
def installed():
    install()
    yield
    uninstall()


def test_install_gives_beam_coderkits_coders_for_these_types(installed):
    from apache_beam.coders import typecoders

    assert typecoders.registry.get_coder(timestamp_pb2.Timestamp) == beam.coders.ProtoCoder(timestamp_pb2.Timestamp)
    assert coders.get_coder(timestamp_pb2.Timestamp) == ProtoCoder(timestamp_pb2.Timestamp)
    event = typecoders.registry.get_coder(Event)
    assert isinstance(event, CoderkitBeamCoder) and event == to_beam(coders.get_coder(Event))
    assert [c for _, c in event.coder.labelled_components()][:2] == [
        ProtoCoder(timestamp_pb2.Timestamp),
        ProtoCoder(struct_pb2.Struct),
    ]
    snapshot = typecoders.registry.get_coder(Snapshot)
    assert isinstance(snapshot, CoderkitBeamCoder)
    assert [c for _, c in snapshot.coder.labelled_components()][1:] == [DataFrameCoder(), ArrowTableCoder()]


@pytest.mark.pipeline
def test_protobuf_arrow_and_pandas_pass_exactly_in_process(installed):
    p = beam.Pipeline(runner="DirectRunner")
    build(p)
    p.run().wait_until_finish()


@pytest.mark.pipeline
def test_protobuf_arrow_and_pandas_pass_exactly_on_two_worker_processes(installed, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])))
    p = beam.Pipeline(runner="DirectRunner", options=PipelineOptions(MULTI))
    build(p)
    p.run().wait_until_finish()
