"""numpy through real DirectRunner pipelines after ``coders.beam.install()``: records carrying arrays
(Fortran-ordered, big-endian, 0-d, empty, datetime64) and numpy scalars pass exactly, and
DeterministicGroupByKey groups ``numpy.int64`` keys exactly and gives them back as ``numpy.int64``,
in process and on worker processes."""

from __future__ import annotations

import dataclasses
import os
import sys
import typing
from pathlib import Path

import apache_beam as beam
import numpy as np
import numpy.typing as npt
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners import pipeline_context
from apache_beam.testing.util import assert_that

import coders
from coders.arrays import NumpyArrayCoder, NumpyScalarCoder
from coders.beam import DeterministicGroupByKey, install, to_beam, uninstall
from coders.testing import first_difference

HERE = Path(__file__).resolve().parent
MULTI = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]


@dataclasses.dataclass
class Reading:
    """One batch of samples from a sensor, as a numeric pipeline carries it."""

    sensor: np.int64
    samples: npt.NDArray[np.float64]
    flags: np.ndarray
    taken: np.datetime64
    gain: np.float32


def sample_readings() -> list[Reading]:
    return [
        Reading(
            np.int64(7),
            np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3)),
            np.array([True, False]),
            np.datetime64("2024-05-01T12:00:00.123456789"),
            np.float32(-0.0),
        ),
        Reading(
            np.int64(7),
            np.array([np.nan, -0.0, np.inf], dtype=">f8"),
            np.array(["a", "bc"]),
            np.datetime64("NaT"),
            np.float32(1.5),
        ),
        Reading(
            np.int64(-2), np.zeros((0, 4)), np.array(3, dtype=np.int16), np.datetime64("2024-05-02"), np.float32(0)
        ),
        Reading(
            np.int64(2**40),
            np.arange(10.0)[::3],
            np.array([b"x"]),
            np.datetime64(1, "Y"),
            np.float32(np.inf),
        ),
    ]


def exactly(expected):
    """An assert_that matcher comparing with coders.testing's exact comparison (dtype, shape, bits, types)."""

    def check(actual):
        found = first_difference(sorted(expected, key=repr), sorted(actual, key=repr))
        assert found is None, found

    return check


def build(p, readings):
    created = p | "Readings" >> beam.Create(readings).with_output_types(Reading)
    passed = created | "Same" >> beam.Map(lambda r: r).with_output_types(Reading)
    assert_that(passed, exactly(readings), label="PassExactly")
    grouped = (
        passed
        | "BySensor" >> beam.Map(lambda r: (r.sensor, r)).with_output_types(typing.Tuple[np.int64, Reading])
        | "Group" >> DeterministicGroupByKey(check_keys=True)
        | "Sorted" >> beam.MapTuple(lambda key, rs: (key, sorted(rs, key=repr)))
    )
    expected: dict = {}
    for r in readings:
        expected.setdefault(int(r.sensor), []).append(r)
    assert_that(
        grouped,
        exactly([(np.int64(k), sorted(rs, key=repr)) for k, rs in expected.items()]),
        label="GroupExactly",
    )
    arrays = (
        passed
        | "Samples" >> beam.Map(lambda r: r.samples).with_output_types(np.ndarray)
        | "Reshuffle" >> beam.Reshuffle()
    )
    assert_that(arrays, exactly([r.samples for r in readings]), label="ArraysExactly")


@pytest.fixture
def installed():
    install()
    yield
    uninstall()


@pytest.mark.pipeline
def test_readings_use_the_numpy_coders_and_numpy_keys_group_exactly(installed):
    p = beam.Pipeline(runner="DirectRunner")
    build(p, sample_readings())
    proto = p.to_runner_api()
    context = pipeline_context.PipelineContext(proto.components)
    by_label = {
        t.unique_name: context.coders.get_by_id(proto.components.pcollections[pc].coder_id)
        for t in proto.components.transforms.values()
        for pc in t.outputs.values()
    }
    record = coders.get_coder(Reading)
    assert by_label["Readings"] == to_beam(record)
    fields = dict(record.labelled_components())
    assert fields[".samples"] == NumpyArrayCoder(np.float64)
    assert fields[".flags"] == NumpyArrayCoder()
    assert fields[".sensor"] == NumpyScalarCoder(np.int64)
    p.run().wait_until_finish()


@pytest.mark.pipeline
def test_numpy_keys_group_exactly_on_two_worker_processes(installed, monkeypatch):
    # workers are new interpreters: they import this module by name to rebuild Reading
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])))
    assert sys.modules[Reading.__module__].__file__ == __file__
    p = beam.Pipeline(runner="DirectRunner", options=PipelineOptions(MULTI))
    build(p, sample_readings())
    p.run().wait_until_finish()


def test_the_key_coder_is_the_deterministic_numpy_one():
    p = beam.Pipeline(runner="DirectRunner")
    group = DeterministicGroupByKey()
    _ = p | beam.Create([(np.int64(1), "a")]).with_output_types(typing.Tuple[np.int64, str]) | "Group" >> group
    assert group.key_coder == NumpyScalarCoder(np.int64)
    assert group.key_coder.is_deterministic()
