"""The datetime family through real DirectRunner pipelines after ``coders.beam.install()``: a record with
aware and naive ``datetime.now()`` values, a date, a time and a timedelta passes exactly through Create, Map
and DeterministicGroupByKey on ``(date, store_id)`` keys, in process and on worker processes."""

from __future__ import annotations

import dataclasses
import datetime
import os
import sys
import typing
import zoneinfo
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners import pipeline_context
from apache_beam.testing.util import assert_that

import coders
from coders.beam import DeterministicGroupByKey, install, to_beam, uninstall
from coders.temporal import DateCoder, DateTimeCoder
from coders.testing import first_difference

HERE = Path(__file__).resolve().parent
MULTI = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


@dataclasses.dataclass(frozen=True)
class Visit:
    """One shop visit: every member of the datetime family a pipeline carries."""

    store_id: int
    seen_at: datetime.datetime  # aware, in the store's zone
    logged_at: datetime.datetime  # naive, as a legacy system writes it
    day: datetime.date
    opens: datetime.time
    stayed: datetime.timedelta


def sample_visits() -> list[Visit]:
    now = datetime.datetime.now(BERLIN)  # microseconds and a zone: what coderkit used to refuse or flatten
    naive = datetime.datetime.now()
    ambiguous = datetime.datetime(2024, 10, 27, 2, 30, 0, 1, fold=1, tzinfo=BERLIN)  # the repeated hour
    return [
        Visit(1, now, naive, datetime.date(2024, 5, 1), datetime.time(9, 0), datetime.timedelta(minutes=12)),
        Visit(
            1,
            now.astimezone(datetime.UTC),
            naive.replace(fold=1),
            datetime.date(2024, 5, 1),
            datetime.time(9, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=5, seconds=30))),
            datetime.timedelta(microseconds=1),
        ),
        Visit(
            2, ambiguous, naive, datetime.date(2024, 5, 1), datetime.time(23, 59, 59, 999999), datetime.timedelta.max
        ),
        Visit(1, now, naive, datetime.date(2024, 5, 2), datetime.time(0), -datetime.timedelta(days=3, microseconds=7)),
    ]


def exactly(expected):
    """An assert_that matcher comparing with coders.testing's exact comparison (zones and fold included)."""

    def check(actual):
        found = first_difference(sorted(expected, key=repr), sorted(actual, key=repr))
        assert found is None, found

    return check


def build(p, visits):
    created = p | "Visits" >> beam.Create(visits).with_output_types(Visit)
    passed = created | "Same" >> beam.Map(lambda v: v).with_output_types(Visit)
    assert_that(passed, exactly(visits), label="PassExactly")
    grouped = (
        passed
        | "ByDayAndStore"
        >> beam.Map(lambda v: ((v.day, v.store_id), v)).with_output_types(
            typing.Tuple[typing.Tuple[datetime.date, int], Visit]
        )
        | "Group" >> DeterministicGroupByKey(check_keys=True)
        | "Sorted" >> beam.MapTuple(lambda key, vs: (key, sorted(vs, key=repr)))
    )
    expected: dict = {}
    for v in visits:
        expected.setdefault((v.day, v.store_id), []).append(v)
    assert_that(grouped, exactly([(k, sorted(vs, key=repr)) for k, vs in expected.items()]), label="GroupExactly")


@pytest.fixture
def installed():
    install()
    yield
    uninstall()


@pytest.mark.pipeline
def test_visits_use_the_exact_coders_and_keys_are_deterministic(installed):
    p = beam.Pipeline(runner="DirectRunner")
    build(p, sample_visits())
    proto = p.to_runner_api()
    context = pipeline_context.PipelineContext(proto.components)
    by_label = {
        t.unique_name: context.coders.get_by_id(proto.components.pcollections[pc].coder_id)
        for t in proto.components.transforms.values()
        for pc in t.outputs.values()
    }
    assert by_label["Visits"] == to_beam(coders.get_coder(Visit))
    record = coders.get_coder(Visit)
    assert dict(record.labelled_components())[".seen_at"] == DateTimeCoder()
    assert dict(record.labelled_components())[".day"] == DateCoder()
    key = coders.get_coder(typing.Tuple[datetime.date, int])
    assert key.is_deterministic() and key.components() == (DateCoder(), coders.get_coder(int))
    p.run().wait_until_finish()


@pytest.mark.pipeline
def test_visits_pass_exactly_on_two_worker_processes(installed, monkeypatch):
    # workers are new interpreters: they import this module by name to rebuild Visit
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])))
    assert sys.modules[Visit.__module__].__file__ == __file__
    p = beam.Pipeline(runner="DirectRunner", options=PipelineOptions(MULTI))
    build(p, sample_visits())
    p.run().wait_until_finish()
