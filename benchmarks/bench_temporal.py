"""The datetime family: a record with datetime, date and timedelta fields, coderkit vs pickle and Beam.

The record is what a pipeline shuffles by the million (a worker's shift: an id, when it started, the
day it counts for, how long it lasted). coderkit codes it with the registry's derived coder
(``RecordCoder`` over ``DateTimeCoder``, ``DateCoder``, ``TimeDeltaCoder``); the peers are
``pickle`` protocol 5, and Beam's ``FastPrimitivesCoder`` (what Beam gives a dataclass: it pickles
the datetimes). Two cases: datetimes in UTC, and in a ``ZoneInfo`` zone (the key is written).

Exactness first: every side must give back each value exactly (zone, fold and all, by
``coders.testing.first_difference``) before anything is timed. Targets: at least 1.0x pickle.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import pickle
import random
import zoneinfo
from typing import Any, Callable, Sequence

import coders
from coders.testing import first_difference

from .common import Table, compare_rates, parse_args

FULL_SIZE = 50_000
QUICK_SIZE = 5_000


@dataclasses.dataclass(frozen=True)
class Shift:
    """One worker's shift."""

    worker_id: int
    started: datetime.datetime
    day: datetime.date
    length: datetime.timedelta


def make_shifts(n: int, zone: datetime.tzinfo, rng: random.Random) -> list[Shift]:
    """Aware start times with microseconds over a year, in ``zone``; days and lengths to match."""
    base = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    out = []
    for _ in range(n):
        started = (base + datetime.timedelta(microseconds=rng.randrange(365 * 86_400_000_000))).astimezone(zone)
        length = datetime.timedelta(seconds=rng.randrange(1_800, 43_200), microseconds=rng.randrange(1_000_000))
        out.append(Shift(rng.randrange(1 << 20), started, started.date(), length))
    return out


class WrongOutput(AssertionError):
    """A benchmarked side gave back a value that is not exactly the one it was given."""


def check_exact(label: str, encode: Callable, decode: Callable, data: Sequence[Any]) -> None:
    for i, value in enumerate(data):
        found = first_difference(value, decode(encode(value)))
        if found:
            raise WrongOutput(f"{label}: element {i} does not round-trip exactly: {found}")


def roundtrips(encode: Callable, decode: Callable, data: Sequence[Any]) -> Callable[[], list]:
    def run() -> list:
        return [decode(encode(v)) for v in data]

    return run


def pickle5() -> tuple[Callable, Callable]:
    def dumps(value, _dumps=pickle.dumps):
        return _dumps(value, protocol=5)

    return dumps, pickle.loads


def beam_fast_primitives() -> tuple[Callable, Callable]:
    logging.getLogger("apache_beam.coders.coder_impl").setLevel(logging.ERROR)
    from apache_beam.coders import coders as bc

    impl = bc.FastPrimitivesCoder().get_impl()
    return impl.encode, impl.decode


def main(argv: Sequence[str] | None = None) -> Table:
    args = parse_args(argv, description=__doc__.splitlines()[0])
    n = QUICK_SIZE if args.quick else FULL_SIZE
    ours = coders.get_coder(Shift)
    peers = {"pickle protocol 5": pickle5(), "Beam FastPrimitivesCoder": beam_fast_primitives()}
    table = Table(
        f"{n:,} Shift(int, datetime, date, timedelta) records: encode+decode round trips per second",
        ours="coderkit",
        peer="peer",
    )
    rng = random.Random(20260509)
    for zone_name, zone in (("UTC", datetime.UTC), ("Europe/Berlin", zoneinfo.ZoneInfo("Europe/Berlin"))):
        data = make_shifts(n, zone, rng)
        check_exact(f"coderkit ({zone_name})", ours.encode, ours.decode, data)
        ours_size = sum(len(ours.encode(v)) for v in data) / n
        for peer_name, (encode, decode) in peers.items():
            check_exact(f"{peer_name} ({zone_name})", encode, decode, data)
            peer_size = sum(len(encode(v)) for v in data) / n
            rates = compare_rates(
                roundtrips(ours.encode, ours.decode, data), roundtrips(encode, decode, data), n, repeat=args.repeat
            )
            table.add(
                f"{zone_name} datetimes vs {peer_name}",
                *rates,
                1.0 if peer_name.startswith("pickle") else None,
                note=f"{ours_size:.0f} vs {peer_size:.0f} bytes",
            )
    table.print()
    return table


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
