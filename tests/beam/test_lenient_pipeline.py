"""install() never turns a working pipeline into a failing one: values valid for their hints pass a real
DirectRunner pipeline after ``coders.beam.install()`` and come out narrowed as docs/registry.md says
(an int in a float field as a float, numpy and bool integers in an int field as ints, a tuple in a
``list[str]`` field as a list), in process and on worker processes."""

from __future__ import annotations

import dataclasses
import enum
import os
import sys
from pathlib import Path

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that

import coders
from coders.beam import install, to_beam, uninstall, validate_pipeline
from coders.testing import first_difference

HERE = Path(__file__).resolve().parent
MULTI = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]


class Unit(str, enum.Enum):  # noqa: UP042 (a str-mixin Enum, as many users write them)
    KG = "kg"


@dataclasses.dataclass
class Reading:
    sensor: str
    value: float
    count: int
    tags: list[str]


def valid_readings() -> list[Reading]:
    """Values a type checker accepts for the hints, each of which install() used to refuse."""
    return [
        Reading("a", 5, np.int64(3), ("x", "y")),  # int in float, numpy int in int, tuple in list[str]
        Reading(Unit.KG, np.int64(-2), True, ["z"]),  # str-mixin Enum in str, numpy int in float, bool in int
        Reading("c", 1.5, 7, []),  # exact values, unchanged
    ]


# What comes out: the hint's own types (docs/registry.md, Narrowing).
NARROWED = [
    Reading("a", 5.0, 3, ["x", "y"]),
    Reading("kg", -2.0, 1, ["z"]),
    Reading("c", 1.5, 7, []),
]


def exactly(expected):
    """An assert_that matcher comparing values and their types all the way down."""

    def check(actual):
        found = first_difference(sorted(expected, key=repr), sorted(actual, key=repr))
        assert found is None, found

    return check


def build(p):
    readings = p | "Readings" >> beam.Create(valid_readings()).with_output_types(Reading)
    passed = readings | "Same" >> beam.Map(lambda r: r).with_output_types(Reading)
    assert_that(passed, exactly(NARROWED))


@pytest.fixture
def installed():
    install()
    yield
    uninstall()


@pytest.mark.pipeline
def test_valid_values_pass_in_process_and_come_out_narrowed(installed):
    p = beam.Pipeline(runner="DirectRunner")
    build(p)
    assert validate_pipeline(p) == []
    coder = coders.get_coder(Reading)
    assert dict(coder.labelled_components())[".value"] == coders.FloatCoder(lenient=True)
    assert to_beam(coder).encode(valid_readings()[0]) == to_beam(coder).encode(NARROWED[0])
    p.run().wait_until_finish()


@pytest.mark.pipeline
def test_valid_values_pass_on_two_worker_processes(installed, monkeypatch):
    # workers are new interpreters: they import this module by name to rebuild Reading
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])))
    assert sys.modules[Reading.__module__].__file__ == __file__
    p = beam.Pipeline(runner="DirectRunner", options=PipelineOptions(MULTI))
    build(p)
    p.run().wait_until_finish()


def test_values_not_valid_for_the_hint_are_named_before_the_run(installed):
    # a record type: Beam's Create encodes its values at construction, so the clear error comes at once
    p = beam.Pipeline(runner="DirectRunner")
    with pytest.raises(coders.EncodeError, match=r"at value\.tags\[1\]: field .*StrUtf8Coder expected str, got int 3"):
        p | "Readings" >> beam.Create([Reading("a", 1.0, 2, ["x", 3])]).with_output_types(Reading)
    # Beam's own types: validate_pipeline warns before the run (Beam's VarIntCoder would truncate 1.5)
    p = beam.Pipeline(runner="DirectRunner")
    p | "Ints" >> beam.Create([1, 1.5]).with_output_types(int)
    p | "Floats" >> beam.Create([1, np.int64(2), 2.5]).with_output_types(float)
    [finding] = validate_pipeline(p)
    assert (finding.label, finding.rule, finding.severity, finding.transform) == (
        "Ints",
        "create_values_rule",
        "warning",
        "Create",
    )
    assert finding.reason == (
        "1 of the 2 values of this Create do not fit its declared type `int`: value 1: VarIntCoder expected int, "
        "got float 1.5 (coder VarIntCoder[lenient=True]). Fix: pass int(x) if the conversion is intended"
    )
    assert str(finding).startswith("Ints (Create, element type `int`, coder VarIntCoder[lenient=True]): 1 of the 2")
    assert [f.severity for f in validate_pipeline(p, strict=True)] == ["error"]
