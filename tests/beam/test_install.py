"""install(): Beam uses coderkit's coders for record types, on real DirectRunner pipelines, and nothing else changes."""

from __future__ import annotations

import dataclasses
import os
import sys
import typing
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.coders import typecoders
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners import pipeline_context
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.typehints import typehints as th

import coders as c
from coders.beam import CoderkitBeamCoder, DeterministicGroupByKey, install, installed_registry, to_beam, uninstall
from coders.typecoders import registry as default_registry

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import pipeline_types as pt  # noqa: E402

MULTI = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]


@pytest.fixture
def installed():
    hook = install()
    yield hook
    uninstall()


@pytest.fixture
def worker_path(monkeypatch):
    """Multi-processing workers are new interpreters: let them import pipeline_types."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])))


def beam_coder(hint):
    return typecoders.registry.get_coder(hint)


# ----------------------------------------------------------------------------- which hints


def test_record_types_get_coderkits_coder_and_uninstall_restores_beams(installed):
    for cls in (pt.Order, pt.CustomerKey, pt.Status, pt.Sku):
        assert beam_coder(cls) == to_beam(c.get_coder(cls))
        assert isinstance(beam_coder(cls), CoderkitBeamCoder)
    assert beam_coder(th.Tuple[pt.CustomerKey, pt.Order]) == beam.coders.TupleCoder(
        [to_beam(c.get_coder(pt.CustomerKey)), to_beam(c.get_coder(pt.Order))]
    )
    assert beam_coder(th.Optional[pt.Sku]) == beam.coders.NullableCoder(to_beam(c.get_coder(pt.Sku)))
    assert installed_registry() is default_registry
    uninstall()
    assert installed_registry() is None
    assert beam_coder(pt.Order) == beam.coders.FastPrimitivesCoder()


def test_what_beam_codes_itself_is_left_alone(installed):
    assert beam_coder(int) == beam.coders.VarIntCoder()
    assert beam_coder(str) == beam.coders.StrUtf8Coder()
    assert beam_coder(bytes) == beam.coders.BytesCoder()
    assert beam_coder(float) == beam.coders.FloatCoder() and type(beam_coder(float)) is beam.coders.FloatCoder
    assert beam_coder(th.Any) == beam.coders.FastPrimitivesCoder()
    assert beam_coder(object) == beam.coders.FastPrimitivesCoder()
    assert beam_coder(th.Union[int, str]) == beam.coders.FastPrimitivesCoder()
    assert beam_coder(th.Set[int]) == beam.coders.FastPrimitivesCoder()
    assert beam_coder(th.Tuple[str, int]) == beam.coders.TupleCoder(
        [beam.coders.StrUtf8Coder(), beam.coders.VarIntCoder()]
    )
    from apache_beam.utils.timestamp import Timestamp

    assert beam_coder(Timestamp) == beam.coders.FastPrimitivesCoder()


def test_record_that_would_need_pickle_stays_with_beam(installed):
    assert beam_coder(pt.WithOpaque) == beam.coders.FastPrimitivesCoder()
    assert beam_coder(pt.Opaque) == beam.coders.FastPrimitivesCoder()


def test_a_beam_registration_wins(installed):
    @dataclasses.dataclass(frozen=True)
    class Registered:
        x: int

    typecoders.registry.register_coder(Registered, beam.coders.PickleCoder)
    try:
        assert beam_coder(Registered) == beam.coders.PickleCoder()
    finally:
        del typecoders.registry._coders[Registered]
        typecoders.registry.custom_types.remove(Registered)


def test_registering_coderkit_per_type_in_beams_own_registry_works_without_install():
    @dataclasses.dataclass(frozen=True)
    class PerType:
        x: int
        tags: typing.FrozenSet[str]

    typecoders.registry.register_coder(PerType, CoderkitBeamCoder)
    try:
        coder = beam_coder(PerType)
        assert coder == to_beam(c.get_coder(PerType))
        value = PerType(3, frozenset({"a", "b"}))
        assert coder.decode(coder.encode(value)) == value
        assert not coder.is_deterministic()  # a frozenset field: iteration order
        assert coder.as_deterministic_coder("G").is_deterministic()
    finally:
        del typecoders.registry._coders[PerType]
        typecoders.registry.custom_types.remove(PerType)


def test_main_types_which_beam_looks_up_by_name_are_found(installed, monkeypatch):
    @dataclasses.dataclass(frozen=True)
    class Local:
        x: int

    Local.__module__ = "__main__"
    Local.__qualname__ = Local.__name__ = "D2InstallLocal"
    monkeypatch.setattr(sys.modules["__main__"], "D2InstallLocal", Local, raising=False)
    coder = beam_coder(Local)
    assert isinstance(coder, CoderkitBeamCoder) and coder.coder.cls is Local


def test_install_uses_the_given_registry_and_is_idempotent():
    mine = c.CoderRegistry()
    mine.register_coder(
        pt.Sku, c.RecordCoder(pt.Sku, [("code", c.StrUtf8Coder()), ("size", c.NullableCoder(c.VarIntCoder()))])
    )
    beams_own = typecoders.registry._fallback_coder
    try:
        first = install()
        assert install(mine) is first and installed_registry() is mine
        assert beam_coder(pt.Sku).coder is mine.get_coder(pt.Sku)
        typecoders.registry.register_fallback_coder(beam.coders.PickleCoder)  # someone stacks on top of ours
        uninstall()
        assert beam_coder(pt.Sku) == beam.coders.PickleCoder()  # theirs stays
        assert first not in typecoders.registry._fallback_coder._coders[1]._coders  # ours is cut out
    finally:
        uninstall()
        typecoders.registry._fallback_coder = beams_own
    assert beam_coder(pt.Sku) == beam.coders.FastPrimitivesCoder()


# ----------------------------------------------------------------------------- real pipelines

NORTH, SOUTH, EAST = pt.CustomerKey("north", 1), pt.CustomerKey("south", 2), pt.CustomerKey("east", 3)


def build_orders_pipeline(p):
    """GroupByKey on NamedTuple keys, on Enum keys and on dataclass keys; CoGroupByKey on NamedTuple keys;
    DeterministicGroupByKey with its runtime key check (its DoFns and coder travel to the workers)."""
    orders = p | "Orders" >> beam.Create(pt.sample_orders()).with_output_types(pt.Order)
    by_customer = orders | "ByCustomer" >> beam.Map(lambda o: (o.customer, o)).with_output_types(
        typing.Tuple[pt.CustomerKey, pt.Order]
    )
    grouped = (
        by_customer
        | "GroupByCustomer" >> beam.GroupByKey()
        | "Ids" >> beam.MapTuple(lambda k, os_: (k, sorted(o.order_id for o in os_)))
    )
    assert_that(grouped, equal_to([(NORTH, [1, 2, 5]), (SOUTH, [3, 4])]), label="CheckCustomers")

    by_status = (
        orders
        | "ByStatus" >> beam.Map(lambda o: (o.status, o.amount_cents)).with_output_types(typing.Tuple[pt.Status, int])
        | "GroupByStatus" >> beam.GroupByKey()
        | "Sum" >> beam.MapTuple(lambda k, v: (k, sum(v)))
    )
    assert_that(
        by_status,
        equal_to([(pt.Status.NEW, 1250), (pt.Status.PAID, 5474), (pt.Status.SHIPPED, 10)]),
        label="CheckStatus",
    )

    by_sku = (
        orders
        | "BySku" >> beam.Map(lambda o: (o.sku, o)).with_output_types(typing.Tuple[pt.Sku, pt.Order])
        | "GroupBySku" >> beam.GroupByKey()
        | "SkuIds" >> beam.MapTuple(lambda k, os_: (k, sorted(o.order_id for o in os_)))
    )
    assert_that(
        by_sku, equal_to([(pt.Sku("A", 10), [1, 3, 5]), (pt.Sku("B"), [2]), (pt.Sku("C", 2), [4])]), label="CheckSku"
    )

    checked = (
        orders
        | "ByCustomerAgain"
        >> beam.Map(lambda o: (o.customer, o.amount_cents)).with_output_types(typing.Tuple[pt.CustomerKey, int])
        | "CheckedGroup" >> DeterministicGroupByKey(check_keys=True)
        | "Total" >> beam.MapTuple(lambda k, v: (k, sum(v)))
    )
    assert_that(checked, equal_to([(NORTH, 1724), (SOUTH, 5010)]), label="CheckChecked")

    names = (
        p
        | "Customers" >> beam.Create(pt.sample_customers()).with_output_types(pt.Customer)
        | "ByKey" >> beam.Map(lambda cu: (cu.key, cu)).with_output_types(typing.Tuple[pt.CustomerKey, pt.Customer])
    )
    joined = (
        {"orders": by_customer, "customers": names}
        | "Join" >> beam.CoGroupByKey()
        | "Shape"
        >> beam.MapTuple(lambda k, d: (k, sorted(o.order_id for o in d["orders"]), [cu.name for cu in d["customers"]]))
    )
    assert_that(
        joined,
        equal_to([(NORTH, [1, 2, 5], ["Ada"]), (SOUTH, [3, 4], ["Grace"]), (EAST, [], ["Edsger"])]),
        label="CheckJoin",
    )


def pcollection_coders(pipeline) -> dict[str, object]:
    """The coder Beam recorded in the pipeline proto for each PCollection, by producing transform label."""
    proto = pipeline.to_runner_api()
    context = pipeline_context.PipelineContext(proto.components)
    out = {}
    for transform in proto.components.transforms.values():
        for pcoll_id in transform.outputs.values():
            pcoll = proto.components.pcollections[pcoll_id]
            out[transform.unique_name] = context.coders.get_by_id(pcoll.coder_id)
    return out


def assert_coderkit_coders_used(pipeline):
    found = pcollection_coders(pipeline)
    order = to_beam(c.get_coder(pt.Order))
    assert found["Orders"] == order
    assert found["ByCustomer"] == beam.coders.TupleCoder([to_beam(c.get_coder(pt.CustomerKey)), order])
    assert found["ByStatus"] == beam.coders.TupleCoder([to_beam(c.get_coder(pt.Status)), beam.coders.VarIntCoder()])
    assert found["BySku"].key_coder() == to_beam(c.get_coder(pt.Sku))
    # the Union-typed values CoGroupByKey tags internally stay Beam's; their keys are ours
    tagged = [coder for label, coder in found.items() if label.startswith("Join/") and label.endswith("/Flatten")]
    assert tagged and all(t.key_coder() == to_beam(c.get_coder(pt.CustomerKey)) for t in tagged)
    assert all(t.value_coder() == beam.coders.FastPrimitivesCoder() for t in tagged)


@pytest.mark.pipeline
def test_records_group_and_join_in_process_with_coderkits_coders(installed):
    p = beam.Pipeline(runner="DirectRunner")
    build_orders_pipeline(p)
    assert_coderkit_coders_used(p)
    p.run().wait_until_finish()


@pytest.mark.pipeline
def test_records_group_and_join_on_two_worker_processes(installed, worker_path):
    p = beam.Pipeline(runner="DirectRunner", options=PipelineOptions(MULTI))
    build_orders_pipeline(p)
    assert_coderkit_coders_used(p)
    p.run().wait_until_finish()


@pytest.mark.pipeline
def test_pipeline_proto_round_trip_keeps_coderkits_coder(installed):
    p = beam.Pipeline(runner="DirectRunner")
    build_orders_pipeline(p)
    proto = p.to_runner_api()
    again = beam.Pipeline.from_runner_api(proto, p.runner, p._options).to_runner_api()
    context = pipeline_context.PipelineContext(again.components)
    kept = {context.coders.get_by_id(pc.coder_id) for pc in again.components.pcollections.values()}
    assert to_beam(c.get_coder(pt.Order)) in kept


@pytest.mark.pipeline
def test_plain_pipelines_still_work_after_install(installed):
    with beam.Pipeline(runner="DirectRunner") as p:
        words = p | "Words" >> beam.Create(["a b", "b c b", ""])
        counts = words | beam.FlatMap(str.split) | beam.Map(lambda w: (w, 1)) | beam.CombinePerKey(sum)
        assert_that(counts, equal_to([("a", 1), ("b", 3), ("c", 1)]), label="WordCount")
        left = p | "L" >> beam.Create([(1, "x"), (2, "y"), (1.5, "z")])
        right = p | "R" >> beam.Create([(1, 10), (3, 30)])
        joined = (
            {"l": left, "r": right}
            | beam.CoGroupByKey()
            | beam.MapTuple(lambda k, d: (k, sorted(d["l"]), sorted(d["r"])))
        )
        assert_that(joined, equal_to([(1, ["x"], [10]), (2, ["y"], []), (1.5, ["z"], []), (3, [], [30])]), label="Join")
        # Beam's schema transforms on a NamedTuple PCollection (which install() now codes) still work
        keys = p | "Keys" >> beam.Create([NORTH, pt.CustomerKey("north", 5), SOUTH]).with_output_types(pt.CustomerKey)
        totals = keys | beam.GroupBy("region").aggregate_field("customer_id", sum, "total")
        assert_that(
            totals | beam.Map(lambda r: (r.region, r.total)),
            equal_to([("north", 6), ("south", 2)]),
            label="SchemaGroupBy",
        )
        regions = keys | beam.Select("region") | "Region" >> beam.Map(lambda r: r.region)
        assert_that(regions, equal_to(["north", "north", "south"]), label="Select")


@pytest.mark.pipeline
def test_the_registry_pipeline_example_runs_and_prints_the_revenue():
    import subprocess

    example = HERE.parent.parent / "examples" / "registry_pipeline.py"
    done = subprocess.run([sys.executable, str(example)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "after install(), Beam codes Sale with CoderkitBeamCoder[RecordCoder[Sale" in out
    assert "GroupByPrice: FloatCoder -> FloatCoder: -0.0 == 0.0" in out
    assert "the revenue pipeline: 0 finding(s)" in out
    assert [line.strip() for line in out.splitlines() if " store " in line and ":" in line and "key" not in line] == [
        "north store 1:     2.30",
        "north store 2:     1.20",
        "south store 7:     6.10",
    ]


def test_install_stays_the_function_whatever_the_import_order():
    # the submodule is coders.beam.installation, so importing it (uninstall does) never shadows install()
    import subprocess
    import sys

    code = (
        "import coders.beam.installation\n"
        "from coders.beam import uninstall\n"
        "import coders.beam\n"
        "uninstall()\n"
        "assert callable(coders.beam.install) and coders.beam.install.__module__ == 'coders.beam.installation'\n"
        "coders.beam.install(); coders.beam.uninstall()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
