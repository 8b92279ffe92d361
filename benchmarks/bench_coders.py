"""coderkit's coders against Apache Beam's compiled (Cython) coders, side by side in one process.

Each case times encode-then-decode round trips over the same data for both, alternating
between the two so machine load hits both alike, and reports round trips per second and
the ratio ours/Beam; a second table splits encode and decode. Beam is called through its coder *impl*
(``beam_coder.get_impl().encode``), its fastest public path. Before timing, every case
checks that both sides round-trip the data exactly and, where the wire format is shared,
that our bytes equal Beam's for every element: a fast coder that writes the wrong bytes
is worthless, so a mismatch stops the benchmark.

Targets (printed beside the ratio): at least 1.0 for tuples and records, where a
coder-per-type can beat Beam's generic paths, and 0.5 for single primitives, where Beam
runs compiled code and we run Python.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from typing import Any, Callable, Sequence

from coders import AnyCoder, BooleanCoder, FloatCoder, MapCoder, RecordCoder, StrUtf8Coder, TupleCoder, VarIntCoder
from coders.testing import first_difference

from .common import Table, compare_rates, parse_args

FULL_SIZES = {
    "ints": 1_000_000,
    "strings": 1_000_000,
    "tuples": 200_000,
    "records": 50_000,
    "maps": 200_000,
    "rows": 50_000,
}
QUICK_SIZES = {name: max(n // 20, 2_500) for name, n in FULL_SIZES.items()}


@dataclasses.dataclass(frozen=True)
class Order:
    """A small frozen record: what a pipeline keys or shuffles by the million."""

    order_id: int
    customer: str
    amount: float
    paid: bool


# ---- data (seeded, so every run measures the same values) ---------------------------------------


def make_ints(n: int, rng: random.Random) -> list[int]:
    """Mostly small counters and ids (1-3 varint bytes), some large and negative values (up to 10)."""
    out = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.6:
            out.append(rng.randrange(0, 1 << 14))
        elif roll < 0.9:
            out.append(rng.randrange(0, 1 << 40))
        else:
            out.append(rng.randrange(-(1 << 63), 1 << 63))
    return out


def make_strings(n: int, rng: random.Random) -> list[str]:
    """Short identifiers, 4 to 24 characters, a few with non-ASCII letters."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-_"
    out = []
    for i in range(n):
        s = "".join(rng.choices(alphabet, k=rng.randrange(4, 25)))
        out.append(s + "é" if i % 20 == 0 else s)
    return out


def make_tuples(n: int, rng: random.Random) -> list[tuple[int, str, float]]:
    ints, strings = make_ints(n, rng), make_strings(n, rng)
    return [(ints[i], strings[i], rng.uniform(-1e6, 1e6)) for i in range(n)]


def make_records(n: int, rng: random.Random) -> list[Order]:
    strings = make_strings(n, rng)
    return [
        Order(rng.randrange(0, 1 << 32), strings[i], round(rng.uniform(0, 1e4), 2), rng.random() < 0.7)
        for i in range(n)
    ]


def make_json_rows(n: int, rng: random.Random) -> list[dict[str, Any]]:
    """JSON-like rows, the shape of a BigQuery or JSON element: 8 keys of ints, str, float, bool, None,
    a list and a nested dict."""
    return [
        {
            "id": i,
            "user": f"user-{rng.randrange(10_000)}",
            "score": rng.random() * 100,
            "active": rng.random() < 0.5,
            "referrer": None,
            "tags": [f"t{rng.randrange(50)}" for _ in range(rng.randrange(0, 4))],
            "geo": {"country": rng.choice(["DE", "US", "IN", "BR"]), "zip": rng.randrange(10_000, 99_999)},
            "visits": rng.randrange(0, 1_000),
        }
        for i in range(n)
    ]


def make_maps(n: int, rng: random.Random) -> list[dict[str, int]]:
    keys = ["clicks", "views", "carts", "orders", "refunds", "visits", "shares", "likes"]
    return [{k: rng.randrange(0, 100_000) for k in rng.sample(keys, rng.randrange(1, 6))} for _ in range(n)]


# ---- correctness before speed -------------------------------------------------------------------


class WrongOutput(AssertionError):
    """A benchmarked coder produced bytes or values it should not have."""


def check_roundtrip(label: str, encode: Callable, decode: Callable, data: Sequence[Any]) -> None:
    for i, value in enumerate(data):
        decoded = decode(encode(value))
        found = first_difference(value, decoded)
        if found:
            raise WrongOutput(f"{label}: element {i} does not round-trip: {found}")


def check_same_bytes(label: str, ours: Callable, beams: Callable, data: Sequence[Any]) -> None:
    for i, value in enumerate(data):
        a, b = ours(value), beams(value)
        if a != b:
            raise WrongOutput(f"{label}: element {i} {value!r}: ours {a.hex(' ')} but Beam {b.hex(' ')}")


def roundtrips(encode: Callable, decode: Callable, data: Sequence[Any]) -> Callable[[], list]:
    """A function doing one encode+decode round trip per element, with no per-call attribute lookups."""

    def run() -> list:
        return [decode(encode(v)) for v in data]

    return run


# ---- the cases ----------------------------------------------------------------------------------


def beam_coders():
    # Beam logs a warning the first time its deterministic fallback meets a dataclass; not news here.
    logging.getLogger("apache_beam.coders.coder_impl").setLevel(logging.ERROR)
    from apache_beam.coders import coders as bc
    from apache_beam.coders.typecoders import registry as beam_registry

    return bc, beam_registry


def cases(sizes: dict[str, int]):
    """(name, target, ours coder, Beam coder, data, shared wire format?) for every case."""
    bc, beam_registry = beam_coders()
    rng = random.Random(20261129)
    order_coder = RecordCoder(
        Order,
        [("order_id", VarIntCoder()), ("customer", StrUtf8Coder()), ("amount", FloatCoder()), ("paid", BooleanCoder())],
    )
    records = make_records(sizes["records"], rng)
    beam_default = beam_registry.get_coder(Order)
    return [
        (
            f"{sizes['ints']:,} ints VarIntCoder",
            0.5,
            VarIntCoder(),
            bc.VarIntCoder(),
            make_ints(sizes["ints"], rng),
            True,
        ),
        (
            f"{sizes['strings']:,} short str StrUtf8Coder",
            0.5,
            StrUtf8Coder(),
            bc.StrUtf8Coder(),
            make_strings(sizes["strings"], rng),
            True,
        ),
        (
            f"{sizes['tuples']:,} (int, str, float) TupleCoder",
            1.0,
            TupleCoder(VarIntCoder(), StrUtf8Coder(), FloatCoder()),
            bc.TupleCoder([bc.VarIntCoder(), bc.StrUtf8Coder(), bc.FloatCoder()]),
            make_tuples(sizes["tuples"], rng),
            True,
        ),
        (
            f"{sizes['records']:,} records vs Beam deterministic fallback",
            1.0,
            order_coder,
            bc.FastPrimitivesCoder().as_deterministic_coder("bench"),
            records,
            False,
        ),
        (
            f"{sizes['records']:,} records vs Beam registry's {type(beam_default).__name__}",
            1.0,
            order_coder,
            beam_default,
            records,
            False,
        ),
        (
            f"{sizes['maps']:,} dict[str, int] MapCoder",
            1.0,
            MapCoder(StrUtf8Coder(), VarIntCoder()),
            bc.MapCoder(bc.StrUtf8Coder(), bc.VarIntCoder()),
            make_maps(sizes["maps"], rng),
            True,
        ),
        (
            f"{sizes['rows']:,} JSON-like dict[str, Any] rows AnyCoder",
            2.0,
            AnyCoder(),
            bc.FastPrimitivesCoder(),
            make_json_rows(sizes["rows"], rng),
            True,
        ),
    ]


def encodes(encode: Callable, data: Sequence[Any]) -> Callable[[], list]:
    def run() -> list:
        return [encode(v) for v in data]

    return run


def decodes(decode: Callable, encoded: Sequence[bytes]) -> Callable[[], list]:
    def run() -> list:
        return [decode(b) for b in encoded]

    return run


def main(argv: Sequence[str] | None = None) -> tuple[Table, Table]:
    args = parse_args(argv, description=__doc__.splitlines()[0])
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    table = Table(
        "coderkit coders vs apache_beam compiled coders: encode+decode round trips per second",
        ours="coderkit",
        peer="beam",
    )
    split = Table(
        "where the time goes: encode alone and decode alone (same data, values per second)",
        ours="coderkit",
        peer="beam",
    )
    for name, target, ours, beam, data, shared_format in cases(sizes):
        impl = beam.get_impl()
        check_roundtrip(f"coderkit {name}", ours.encode, ours.decode, data)
        check_roundtrip(f"beam {name}", impl.encode, impl.decode, data)
        if shared_format:
            check_same_bytes(name, ours.encode, impl.encode, data)
            check_same_bytes(name + " (nested)", ours.encode_nested, impl.encode_nested, data)
        n = len(data)
        rates = compare_rates(
            roundtrips(ours.encode, ours.decode, data),
            roundtrips(impl.encode, impl.decode, data),
            n,
            repeat=args.repeat,
        )
        table.add(name, *rates, target, note="bytes = Beam's" if shared_format else "own format")
        ours_bytes, beam_bytes = [ours.encode(v) for v in data], [impl.encode(v) for v in data]
        split.add(
            f"{name}: encode",
            *compare_rates(encodes(ours.encode, data), encodes(impl.encode, data), n, repeat=args.repeat),
        )
        split.add(
            f"{name}: decode",
            *compare_rates(decodes(ours.decode, ours_bytes), decodes(impl.decode, beam_bytes), n, repeat=args.repeat),
        )
    table.print()
    print()
    split.print()
    return table, split


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
