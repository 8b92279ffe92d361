"""coderkit's RowCoder against Apache Beam's compiled RowCoder, on the same records, in one process.

Both write Beam's ``beam:coder:row:v1`` bytes for the same schema: coderkit decodes to the user's own
NamedTuple (the list field as a list, as declared), Beam to a generated ``BeamSchema_`` class. Beam is
built from coderkit's ``.schema`` (the schema Beam itself infers for the class) and called through its
impl (``get_impl().encode/decode``, its fastest public path). Before timing, every record is checked:
our bytes equal Beam's in both contexts, each side decodes the other's bytes to the same field values,
and ours decodes to the user's class. A mismatch stops the benchmark. Target: at least 1.5x Beam's
round trips.

A last line, for reference, times coderkit's RecordCoder for the same class (its own format, run by
the C accelerator, which RowCoder does not use yet) against the same Beam row round trips.
"""

import logging  # no "from __future__ import annotations": Beam infers the schema from Event's real hints
import random
from typing import Callable, List, NamedTuple, Optional, Sequence

from coders import RowCoder, get_coder
from coders.testing import first_difference

from .common import Table, compare_rates, parse_args

FULL_SIZE = 50_000
QUICK_SIZE = 5_000
TARGET = 1.5


class Event(NamedTuple):
    """A typical event row: ids, a name, a measure, a flag, an optional referrer and a short list."""

    event_id: int
    user: str
    score: float
    active: bool
    referrer: Optional[str]
    items: List[int]


def make_events(n: int, rng: random.Random) -> list[Event]:
    """Seeded events: varints of 1 to 10 bytes, short names (some non-ASCII), about a third without
    a referrer, zero to five items."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    events = []
    for i in range(n):
        user = "".join(rng.choices(alphabet, k=rng.randrange(4, 16))) + ("é" if i % 25 == 0 else "")
        events.append(
            Event(
                event_id=rng.randrange(-(1 << 63), 1 << 63) if i % 10 == 0 else rng.randrange(1 << 32),
                user=user,
                score=rng.uniform(-1e6, 1e6),
                active=rng.random() < 0.5,
                referrer=None if rng.random() < 0.35 else f"https://example.com/{rng.randrange(10_000)}",
                items=[rng.randrange(1 << 20) for _ in range(rng.randrange(0, 6))],
            )
        )
    return events


class WrongOutput(AssertionError):
    """A benchmarked coder produced bytes or values it should not have."""


def check_exact(ours: RowCoder, beam_impl, events: Sequence[Event]) -> None:
    """Byte identity with Beam (outer and nested), and each side reading the other's bytes exactly."""
    for i, event in enumerate(events):
        mine, theirs = ours.encode(event), beam_impl.encode(event)
        if mine != theirs:
            raise WrongOutput(f"element {i} {event!r}: ours {mine.hex(' ')} but Beam {theirs.hex(' ')}")
        if ours.encode_nested(event) != beam_impl.encode_nested(event):
            raise WrongOutput(f"element {i} {event!r}: nested bytes differ from Beam's")
        decoded = ours.decode(theirs)
        if type(decoded) is not Event or first_difference(event, decoded):
            raise WrongOutput(f"element {i}: ours decoded Beam's bytes to {decoded!r}, not {event!r}")
        beams = beam_impl.decode(mine)
        if tuple(beams) != tuple(event):
            raise WrongOutput(f"element {i}: Beam decoded our bytes to {beams!r}, not {event!r}")


def roundtrips(encode: Callable, decode: Callable, data: Sequence) -> Callable[[], list]:
    def run() -> list:
        return [decode(encode(v)) for v in data]

    return run


def encodes(encode: Callable, data: Sequence) -> Callable[[], list]:
    def run() -> list:
        return [encode(v) for v in data]

    return run


def decodes(decode: Callable, encoded: Sequence[bytes]) -> Callable[[], list]:
    def run() -> list:
        return [decode(b) for b in encoded]

    return run


def main(argv: Sequence[str] | None = None) -> Table:
    args = parse_args(argv, description=__doc__.splitlines()[0])
    logging.getLogger("apache_beam").setLevel(logging.ERROR)
    from apache_beam.coders.row_coder import RowCoder as BeamRowCoder

    n = QUICK_SIZE if args.quick else FULL_SIZE
    events = make_events(n, random.Random(20261202))
    ours = RowCoder(Event)
    beam_coder = BeamRowCoder(ours.schema)
    inferred = BeamRowCoder.from_type_hint(Event, None).schema
    if [(f.name, f.type) for f in inferred.fields] != [(f.name, f.type) for f in ours.schema.fields]:
        raise WrongOutput(f"RowCoder(Event).schema is not the schema Beam infers:\n{ours.schema}\nvs\n{inferred}")
    impl = beam_coder.get_impl()
    check_exact(ours, impl, events)

    table = Table(
        f"coderkit RowCoder vs apache_beam compiled RowCoder ({type(impl).__name__}), same bytes, "
        f"{n:,} Event rows (int, str, float, bool, Optional[str], List[int]): values per second",
        ours="coderkit",
        peer="beam",
    )
    ours_bytes, beam_bytes = [ours.encode(e) for e in events], [impl.encode(e) for e in events]
    cases = [
        (
            "round trip (encode + decode)",
            roundtrips(ours.encode, ours.decode, events),
            roundtrips(impl.encode, impl.decode, events),
            TARGET,
        ),
        ("encode", encodes(ours.encode, events), encodes(impl.encode, events), None),
        ("decode", decodes(ours.decode, ours_bytes), decodes(impl.decode, beam_bytes), None),
    ]
    for name, mine, theirs, target in cases:
        table.add(name, *compare_rates(mine, theirs, n, repeat=args.repeat), target, note="bytes = Beam's")
    record = get_coder(Event)
    for event in events:
        if record.decode(record.encode(event)) != event:
            raise WrongOutput(f"RecordCoder(Event) does not round-trip {event!r}")
    rates = compare_rates(
        roundtrips(record.encode, record.decode, events), roundtrips(impl.encode, impl.decode, events), n, args.repeat
    )
    table.add("reference: RecordCoder round trip", *rates, note="own format, C accelerator")
    table.print()
    row = table.rows[0]
    print(f"round-trip ratio coderkit/Beam: {row.ratio:.2f}x (target >= {TARGET}x)", flush=True)
    return table


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
