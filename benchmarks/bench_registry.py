"""The cost of ``get_coder`` for a nested dataclass (cold and cached) vs Beam's registry, and AnyCoder vs Beam.

*Cold* makes a new ``CoderRegistry`` per call, so every call derives the whole coder
tree (rules, ``typing.get_type_hints`` for each class, one RecordCoder per class).
*Cached* asks the same registry again (one dict lookup). Beam's
``apache_beam.coders.registry.get_coder`` has no cache: every call converts the hint
and walks its registry, and for a dataclass it returns a generic coder (it does not
derive one per field), so it does less work than our cold path. The table says what
each side returned, so the comparison is read for what it is.

The second table is what ``Any`` resolves to: ``AnyCoder`` against Beam's compiled
``FastPrimitivesCoder`` on the same mixed values (encode then decode), after checking
that both write identical bytes for every value.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import logging
from typing import Dict, List, Tuple

from coders.dynamic import AnyCoder
from coders.typecoders import CoderRegistry

from .common import Table, ops_per_second, parse_args


class Status(enum.Enum):
    OPEN = "open"
    SHIPPED = "shipped"


@dataclasses.dataclass(frozen=True)
class Address:
    street: str
    city: str
    zip_code: int | None = None


@dataclasses.dataclass(frozen=True)
class LineItem:
    sku: str
    quantity: int
    unit_price: float


@dataclasses.dataclass
class Order:
    order_id: int
    customer: str
    shipping: Address
    billing: Address | None
    items: List[LineItem]
    status: Status
    attributes: Dict[str, str]
    placed_at: datetime.datetime
    dims: Tuple[float, float, float]


def main(argv=None) -> None:
    args = parse_args(argv, __doc__.splitlines()[0])
    logging.getLogger().setLevel(logging.ERROR)  # Beam logs optional-dependency notices on import
    from apache_beam.coders import registry as beam_registry

    calls = {
        "cold": 200 if args.quick else 2_000,
        "cached": 20_000 if args.quick else 200_000,
        "beam": 2_000 if args.quick else 20_000,
    }

    cached_registry = CoderRegistry(strict=True)
    ours_coder = cached_registry.get_coder(Order)
    beam_coder = beam_registry.get_coder(Order)

    def cold():
        for _ in range(calls["cold"]):
            CoderRegistry(strict=True).get_coder(Order)

    def cached():
        get = cached_registry.get_coder
        for _ in range(calls["cached"]):
            get(Order)

    def beam():
        get = beam_registry.get_coder
        for _ in range(calls["beam"]):
            get(Order)

    beam_rate = ops_per_second(beam, calls["beam"], repeat=args.repeat)
    cold_rate = ops_per_second(cold, calls["cold"], repeat=args.repeat)
    cached_rate = ops_per_second(cached, calls["cached"], repeat=args.repeat)

    table = Table(
        "get_coder(Order) for a nested dataclass (4 classes, 9 fields): calls per second", ours="coderkit", peer="beam"
    )
    table.add("cold (new registry each call)", cold_rate, beam_rate, note="derives the full RecordCoder tree")
    table.add("cached (same registry)", cached_rate, beam_rate, target=1.0)
    table.print()
    print(
        f"per call: coderkit cold {1e6 / cold_rate:.0f} us, cached {1e6 / cached_rate:.2f} us; "
        f"beam {1e6 / beam_rate:.1f} us (ratios: cold/beam {cold_rate / beam_rate:.4f}, "
        f"cached/beam {cached_rate / beam_rate:.1f})"
    )
    print(f"coderkit returns: {ours_coder!r}")
    print(f"beam returns:     {type(beam_coder).__name__} ({beam_coder!r})")
    any_coder_table(args)


def mixed_values(n: int) -> list:
    """Values an Any-typed field carries: ints, strings, floats, None, bools, nested lists, tuples, dicts."""
    return [(i, f"user-{i}", i * 1.5, [i, None, i % 2 == 0], {"k": i, "tag": "x"}) for i in range(n)]


def any_coder_table(args) -> None:
    from apache_beam.coders import FastPrimitivesCoder

    values = mixed_values(2_000 if args.quick else 20_000)
    ours, beam = AnyCoder(), FastPrimitivesCoder().get_impl()
    for v in values:
        data = ours.encode(v)
        if data != beam.encode(v) or ours.decode(data) != v:
            raise AssertionError(f"AnyCoder and Beam's FastPrimitivesCoder disagree on {v!r}")

    def round_trips(coder):
        encode, decode = coder.encode, coder.decode
        return lambda: [decode(encode(v)) for v in values]

    table = Table(
        "Any-typed values (5-tuples of int, str, float, list, dict): encode+decode per second",
        ours="AnyCoder",
        peer="beam FastPrimitives",
    )
    table.add(
        "mixed tuple",
        ops_per_second(round_trips(ours), len(values), repeat=args.repeat),
        ops_per_second(round_trips(beam), len(values), repeat=args.repeat),
        note="same bytes; Beam's is compiled (Cython)",
    )
    table.print()


if __name__ == "__main__":
    main()
