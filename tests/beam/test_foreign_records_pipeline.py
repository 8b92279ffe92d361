"""Records from other libraries in real Beam pipelines (DirectRunner) after ``coders.beam.install()``:
pydantic models, attrs classes, msgspec Structs, TypedDicts and beam.Row pass exactly (same class,
equal values, a TypedDict's missing key still missing), and DeterministicGroupByKey groups frozen
pydantic keys exactly. Run in process and once on two worker processes.

The types live in this module, which workers import from PYTHONPATH (this directory).
"""

import os
import typing
from pathlib import Path
from typing import NotRequired, Optional, TypedDict

import apache_beam as beam
import attrs
import msgspec
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to
from pydantic import BaseModel, ConfigDict

import coders
from coders.beam import DeterministicGroupByKey, install, to_beam, uninstall

HERE = Path(__file__).resolve().parent
MULTI = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]


class StoreKey(BaseModel):
    model_config = ConfigDict(frozen=True)
    region: str
    store: int


class Line(BaseModel):
    sku: str
    qty: int
    note: Optional[str] = None


class Sale(BaseModel):
    key: StoreKey
    lines: list[Line]
    cents: int


@attrs.frozen
class Coupon:
    code: str
    pct: int = 10


class Visit(msgspec.Struct, frozen=True, array_like=True):
    user: str
    pages: tuple[str, ...] = ()


class Review(TypedDict):
    title: str
    stars: NotRequired[int]


NORTH, SOUTH = StoreKey(region="north", store=1), StoreKey(region="south", store=2)
SALES = [
    Sale(key=NORTH, lines=[Line(sku="a", qty=1)], cents=100),
    Sale(key=SOUTH, lines=[Line(sku="b", qty=2, note="gift")], cents=250),
    Sale(key=NORTH, lines=[], cents=7),
]
COUPONS = [Coupon("X"), Coupon("Y", 50)]
VISITS = [Visit("u1", ("home", "cart")), Visit("u2")]
REVIEWS = [Review(title="ok"), Review(title="great", stars=5)]
ROWS = [beam.Row(b=1, a="x"), beam.Row(a="y", b=2)]


def exact(x):
    """The element with its class and, for dicts and Rows, its keys in order (so equal_to sees them)."""
    if isinstance(x, dict):
        return ("dict", tuple(x.items()))
    if isinstance(x, beam.Row):
        return ("Row", tuple(x.as_dict().items()))
    return (type(x).__qualname__, x)


def build(p):
    def passes(label, values, hint):
        out = p | f"Create{label}" >> beam.Create(values).with_output_types(hint)
        out = out | f"Shuffle{label}" >> beam.Reshuffle()
        assert_that(out | f"Exact{label}" >> beam.Map(exact), equal_to([exact(v) for v in values]), label=label)

    passes("Sales", SALES, Sale)
    passes("Coupons", COUPONS, Coupon)
    passes("Visits", VISITS, Visit)
    passes("Reviews", REVIEWS, Review)
    # Rows made by a Map declared beam.Row keep each row's names and order (beam.Create would turn
    # them into Beam's inferred schema type, one field order for all)
    rows = (
        p
        | "CreateRowDicts" >> beam.Create([r.as_dict() for r in ROWS])
        | "ToRows" >> beam.Map(lambda d: beam.Row(**d)).with_output_types(beam.Row)
        | "ShuffleRows" >> beam.Reshuffle()
    )
    assert_that(rows | "ExactRows" >> beam.Map(exact), equal_to([exact(r) for r in ROWS]), label="Rows")

    totals = (
        p
        | "CreateKeyed" >> beam.Create(SALES).with_output_types(Sale)
        | "Key" >> beam.Map(lambda s: (s.key, s.cents)).with_output_types(typing.Tuple[StoreKey, int])
        | "Group" >> DeterministicGroupByKey(check_keys=True)
        | "Sum" >> beam.MapTuple(lambda k, v: (type(k).__name__, k, sum(v)))
    )
    assert_that(totals, equal_to([("StoreKey", NORTH, 107), ("StoreKey", SOUTH, 250)]), label="Totals")


@pytest.fixture
def installed():
    install()
    yield
    uninstall()


def test_install_gives_beam_coderkits_coders_for_these_types(installed):
    from apache_beam.coders import typecoders

    for cls in (Sale, StoreKey, Coupon, Visit, Review, beam.Row):
        assert typecoders.registry.get_coder(cls) == to_beam(coders.get_coder(cls))
    assert coders.get_coder(beam.Row) == coders.BeamRowCoder()


@pytest.mark.pipeline
def test_foreign_records_pass_exactly_in_process(installed):
    p = beam.Pipeline(runner="DirectRunner")
    build(p)
    p.run().wait_until_finish()


@pytest.mark.pipeline
def test_foreign_records_pass_exactly_on_two_worker_processes(installed, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])))
    p = beam.Pipeline(runner="DirectRunner", options=PipelineOptions(MULTI))
    build(p)
    p.run().wait_until_finish()
