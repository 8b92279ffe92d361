"""Derive coders for dataclass records, hand them to Beam, and group by a record key safely.

Run it: ``python examples/registry_pipeline.py`` (the DirectRunner, a few seconds).

1. coderkit's registry derives a coder for ``Sale`` and its ``StoreKey`` key from the
   type annotations alone: no coder is written by hand.
2. ``coders.beam.install()`` makes Beam use those coders wherever a PCollection is
   typed ``Sale`` or keyed by ``StoreKey`` (Beam would otherwise pickle them).
3. ``validate_pipeline`` checks every grouping's key before anything runs; a second,
   deliberately wrong pipeline shows what it reports for float keys.
4. ``DeterministicGroupByKey`` groups the sales by store, after proving at
   construction that the key coder is deterministic.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import typing

# Beam warns on import that optional Google Cloud clients are missing; this demo does not use them.
logging.getLogger().addFilter(lambda record: "apitools not found" not in record.getMessage())

import apache_beam as beam  # noqa: E402
from apache_beam.coders import typecoders  # noqa: E402

import coders  # noqa: E402
from coders.beam import DeterministicGroupByKey, install, validate_pipeline  # noqa: E402


class Region(enum.Enum):
    NORTH = "north"
    SOUTH = "south"


@dataclasses.dataclass(frozen=True)
class StoreKey:
    region: Region
    store_id: int


@dataclasses.dataclass(frozen=True)
class Sale:
    store: StoreKey
    sku: str
    quantity: int
    unit_price_cents: int
    coupon: str | None = None
    tags: typing.Tuple[str, ...] = ()


SALES = [
    Sale(StoreKey(Region.NORTH, 1), "apple", 3, 50),
    Sale(StoreKey(Region.NORTH, 1), "pear", 1, 80, coupon="SPRING"),
    Sale(StoreKey(Region.SOUTH, 7), "apple", 10, 45, tags=("bulk",)),
    Sale(StoreKey(Region.NORTH, 2), "plum", 4, 30),
    Sale(StoreKey(Region.SOUTH, 7), "pear", 2, 80),
]


def print_revenue(rows) -> None:
    """Runs inside the pipeline, once, on the collected (store, cents) pairs."""
    for store, cents in sorted(rows, key=lambda r: (r[0].region.value, r[0].store_id)):
        print(f"   {store.region.value:>5} store {store.store_id}: {cents / 100:8.2f}")


def build_revenue_pipeline(p: beam.Pipeline) -> DeterministicGroupByKey:
    group = DeterministicGroupByKey()
    (
        p
        | "Sales" >> beam.Create(SALES).with_output_types(Sale)
        | "KeyByStore"
        >> beam.Map(lambda s: (s.store, s.quantity * s.unit_price_cents)).with_output_types(typing.Tuple[StoreKey, int])
        | "GroupByStore" >> group
        | "Revenue" >> beam.MapTuple(lambda store, cents: (store, sum(cents)))
        | "Collect" >> beam.combiners.ToList()
        | "Print" >> beam.Map(print_revenue)
    )
    return group


def main() -> None:
    print("1. Coders derived by the registry")
    print(f"   Sale     -> {coders.get_coder(Sale)!r}")
    print(
        f"   StoreKey -> {coders.get_coder(StoreKey)!r}  deterministic={coders.get_coder(StoreKey).is_deterministic()}"
    )
    sale = SALES[1]
    print(f"   {sale} encodes to {len(coders.get_coder(Sale).encode(sale))} bytes")

    print("\n2. Before install(), Beam codes Sale with", typecoders.registry.get_coder(Sale))
    install()
    print("   after install(), Beam codes Sale with", typecoders.registry.get_coder(Sale))

    print("\n3. Key validation before running")
    wrong = beam.Pipeline(runner="DirectRunner")
    wrong | "Prices" >> beam.Create([(0.0, "a"), (-0.0, "b")]) | "GroupByPrice" >> beam.GroupByKey()
    for finding in validate_pipeline(wrong):
        print(f"   a pipeline grouping by float: {finding.label}: {finding.reason[:110]}...")

    p = beam.Pipeline(runner="DirectRunner")
    group = build_revenue_pipeline(p)
    findings = validate_pipeline(p)
    print(f"   the revenue pipeline: {len(findings)} finding(s)")

    print("\n4. Revenue per store (DeterministicGroupByKey on StoreKey, on the DirectRunner)")
    p.run().wait_until_finish()
    print(f"   key coder DeterministicGroupByKey verified and shuffled with: {group.key_coder!r}")


if __name__ == "__main__":
    main()
