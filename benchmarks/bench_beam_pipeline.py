"""A 50,000-record GroupByKey pipeline on the DirectRunner: Beam's default coders vs coderkit's after install().

The same pipeline runs twice in this process: records are generated inside the
pipeline (typed ``Sale``), keyed by a frozen-dataclass ``StoreKey`` and grouped, and
the group sizes are summed. With Beam's default coders both key and value go through
FastPrimitivesCoder (the key through its deterministic variant, which writes the
pickled class into every key); after ``coders.beam.install()`` both are coderkit's
derived record coders.

Reported: wall time of the whole run (records per second, best of the repeats) and
the bytes shuffled: the encoded size of every element entering the GroupByKey, with
the KV coder each run's GroupByKey used (key coder made deterministic, as the runner
does), summed over all records.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import typing

from .common import Table, best_time, parse_args

RECORDS = 50_000
CHUNK = 1_000


class Channel(enum.Enum):
    WEB = "web"
    STORE = "store"
    PHONE = "phone"


@dataclasses.dataclass(frozen=True)
class StoreKey:
    region: str
    store_id: int


@dataclasses.dataclass(frozen=True)
class Sale:
    sale_id: int
    store: StoreKey
    sku: str
    quantity: int
    unit_price_cents: int
    channel: Channel
    coupon: str | None = None


_REGIONS = ("north", "south", "east", "west")


def make_sales(chunk: int, size: int = CHUNK) -> list[Sale]:
    """Deterministic records: chunk ``chunk`` of the data set."""
    out = []
    for i in range(chunk * size, (chunk + 1) * size):
        out.append(
            Sale(
                sale_id=i,
                store=StoreKey(_REGIONS[i % 4], i % 97),
                sku=f"sku-{i % 1013:04d}",
                quantity=1 + i % 7,
                unit_price_cents=99 + (i * 37) % 5000,
                channel=(Channel.WEB, Channel.STORE, Channel.PHONE)[i % 3],
                coupon="SPRING" if i % 11 == 0 else None,
            )
        )
    return out


def build(p, records: int):
    import apache_beam as beam

    chunks = max(1, records // CHUNK)
    size = records // chunks
    keyed = (
        p
        | "Chunks" >> beam.Create(list(range(chunks)))
        | "Generate" >> beam.FlatMap(make_sales, size).with_output_types(Sale)
        | "KeyByStore" >> beam.Map(lambda s: (s.store, s)).with_output_types(typing.Tuple[StoreKey, Sale])
    )
    (
        keyed
        | "Group" >> beam.GroupByKey()
        | "Sizes" >> beam.MapTuple(lambda k, sales: sum(1 for _ in sales))
        | "Total" >> beam.CombineGlobally(sum)
    )
    return keyed


def run_once(records: int) -> None:
    import apache_beam as beam

    p = beam.Pipeline(runner="DirectRunner")
    build(p, records)
    p.run().wait_until_finish()


def shuffle_coder():
    """The KV coder the GroupByKey input uses under the current Beam registry (key made deterministic)."""
    import apache_beam as beam
    from apache_beam.coders import typecoders

    key = typecoders.registry.get_coder(StoreKey).as_deterministic_coder("Group")
    value = typecoders.registry.get_coder(Sale)
    return beam.coders.TupleCoder([key, value])


def shuffled_bytes(coder, records: int) -> int:
    impl = coder.get_impl()
    total = 0
    chunks = max(1, records // CHUNK)
    for chunk in range(chunks):
        for sale in make_sales(chunk, records // chunks):
            total += len(impl.encode_nested((sale.store, sale)))
    return total


def main(argv=None) -> None:
    args = parse_args(argv, __doc__.splitlines()[0])
    logging.getLogger().setLevel(logging.ERROR)  # Beam logs its runner choice and optional dependencies
    from coders.beam import install, uninstall

    records = 5_000 if args.quick else RECORDS
    repeat = 1 if args.quick else min(args.repeat, 3)

    uninstall()
    beam_coder = shuffle_coder()
    beam_seconds = best_time(lambda: run_once(records), repeat=repeat, warmup=0)
    beam_bytes = shuffled_bytes(beam_coder, records)

    install()
    try:
        ours_coder = shuffle_coder()
        ours_seconds = best_time(lambda: run_once(records), repeat=repeat, warmup=0)
        ours_bytes = shuffled_bytes(ours_coder, records)
    finally:
        uninstall()

    table = Table(
        f"GroupByKey of {records:,} Sale records by StoreKey on the DirectRunner (in-process)",
        ours="coderkit",
        peer="Beam default",
    )
    table.add("records/s, whole pipeline", records / ours_seconds, records / beam_seconds)
    table.print()
    print(
        f"wall time: coderkit {ours_seconds:.2f} s, Beam default {beam_seconds:.2f} s "
        f"(Beam/coderkit {beam_seconds / ours_seconds:.2f}x)"
    )
    print(
        f"bytes shuffled: coderkit {ours_bytes:,} ({ours_bytes / records:.1f} per record), "
        f"Beam default {beam_bytes:,} ({beam_bytes / records:.1f} per record); "
        f"coderkit/Beam {ours_bytes / beam_bytes:.2f}"
    )
    print(f"coders: coderkit {ours_coder!r}\n        Beam     {beam_coder!r}")


if __name__ == "__main__":
    main()
