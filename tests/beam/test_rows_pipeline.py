"""Records as Beam's standard rows in real pipelines (DirectRunner) after ``install(record_format="row")``.

The PCollections carry Beam's ``beam:coder:row:v1`` in the pipeline proto, and elements come back
as the user's own classes (not generated ``BeamSchema_`` classes), tuple fields as tuples, through
a shuffle and a GroupByKey on a row key; in process and once on two worker processes (which import
``coders.beam.rows`` through ``--beam_plugins`` and these types from PYTHONPATH).
"""

import dataclasses
import os
from pathlib import Path
from typing import NamedTuple, Optional, Tuple

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to

from coders import RowCoder
from coders.beam import install, uninstall
from coders.beam.rows import CoderkitRowCoder

HERE = Path(__file__).resolve().parent
MULTI = ["--direct_running_mode=multi_processing", "--direct_num_workers=2", "--beam_plugins=coders.beam.rows"]


class Store(NamedTuple):
    region: str
    number: int


@dataclasses.dataclass
class Sale:
    store: Store
    skus: Tuple[str, ...]
    amount: int
    note: Optional[str] = None


SALES = [
    Sale(Store("eu", 1), ("a", "b"), 5),
    Sale(Store("eu", 1), (), 7, "refund"),
    Sale(Store("us", 2), ("c",), 11),
]


def describe(sale):
    """What a worker sees: the classes, not just equal values."""
    return (type(sale).__name__, type(sale.store).__name__, type(sale.skus).__name__, sale)


def by_store(pair):
    store, sales = pair
    return (type(store).__name__, store, sorted(s.amount for s in sales))


@pytest.fixture
def rows_installed():
    hook = install(record_format="row")
    yield hook
    uninstall()


@pytest.fixture
def worker_path(monkeypatch):
    """Workers are new interpreters: let them import this module and coderkit."""
    paths = [str(HERE), str(HERE.parents[1]), os.environ.get("PYTHONPATH")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, paths)))


def run(options):
    with beam.Pipeline(runner="DirectRunner", options=PipelineOptions(options)) as p:
        sales = p | beam.Create(SALES).with_output_types(Sale) | beam.Reshuffle()
        assert_that(sales | "Describe" >> beam.Map(describe), equal_to([describe(s) for s in SALES]), label="Sales")
        grouped = (
            sales
            | beam.Map(lambda s: (s.store, s)).with_output_types(Tuple[Store, Sale])
            | beam.GroupByKey()
            | beam.Map(by_store)
        )
        expected = [("Store", Store("eu", 1), [5, 7]), ("Store", Store("us", 2), [11])]
        assert_that(grouped, equal_to(expected), label="Grouped")
        proto = p.to_runner_api()
    return proto


def test_rows_keep_the_users_class_and_tuples_in_process(rows_installed):
    assert rows_installed.registry.record_format == "row"
    assert beam.coders.registry.get_coder(Sale) == CoderkitRowCoder(RowCoder(Sale))
    proto = run([])
    rows = [c for c in proto.components.coders.values() if c.spec.urn == "beam:coder:row:v1"]
    assert {RowCoder(Sale).schema.SerializeToString()} <= {c.spec.payload for c in rows}


def test_rows_keep_the_users_class_on_worker_processes(rows_installed, worker_path):
    assert Sale.__module__ in ("test_rows_pipeline", "tests.beam.test_rows_pipeline")
    run(MULTI)
