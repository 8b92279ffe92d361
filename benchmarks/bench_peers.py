"""coderkit against the fastest Python serializers, in one process: msgspec, orjson, Beam, pickle.

Issue 11's table: encode+decode round trips per second of
* 50,000 frozen dataclass records (int, str, float, bool, tuple of str): coderkit's RecordCoder vs
  msgspec's typed msgpack (an Encoder and a Decoder(type=Record)), Beam's coder for the type, pickle;
* 200,000 ``(int, str, float)`` tuples: TupleCoder vs msgspec (Decoder(type=tuple[int, str, float]));
* 50,000 JSON-like ``dict[str, Any]`` rows: AnyCoder vs msgspec (untyped), orjson, Beam's
  FastPrimitivesCoder (whose bytes AnyCoder writes) and pickle.

Every side is checked exact first (types included: 1, 1.0 and True stay apart), and AnyCoder's bytes
must equal Beam's FastPrimitivesCoder's. Each row is coderkit vs one peer; the ratio is ours/peer.
"""

from __future__ import annotations

import dataclasses
import logging
import pickle
import random
from typing import Any, Sequence

from coders import AnyCoder, BooleanCoder, FloatCoder, RecordCoder, StrUtf8Coder, TupleCoder, VarIntCoder
from coders.accel.codec import public_method
from coders.collections import TupleSequenceCoder
from coders.testing import first_difference

from .bench_coders import make_json_rows
from .common import Table, compare_rates, parse_args

FULL = {"records": 50_000, "tuples": 200_000, "rows": 50_000}
QUICK = {name: n // 10 for name, n in FULL.items()}


@dataclasses.dataclass(frozen=True)
class Record:
    id: int
    name: str
    score: float
    active: bool
    tags: tuple[str, ...]


def make_records(n: int, rng: random.Random) -> list[Record]:
    return [
        Record(
            i, f"name-{rng.randrange(10_000)}", rng.random() * 1e3, rng.random() < 0.5, ("a", "bc")[: rng.randrange(3)]
        )
        for i in range(n)
    ]


def make_tuples(n: int, rng: random.Random) -> list[tuple[int, str, float]]:
    return [(rng.randrange(-(10**9), 10**9), f"s{rng.randrange(1000)}", rng.random()) for _ in range(n)]


def roundtrip(encode, decode, values):
    def run():
        for v in values:
            decode(encode(v))

    return run


def check(name: str, encode, decode, values) -> None:
    for v in values[:2000]:
        back = decode(encode(v))
        diff = first_difference(v, back)
        if diff is not None:
            raise AssertionError(f"{name} does not round-trip exactly: {diff}")


def main(argv: Sequence[str] | None = None) -> Table:
    args = parse_args(argv, description=__doc__.splitlines()[0])
    sizes = QUICK if args.quick else FULL
    logging.getLogger().setLevel(logging.ERROR)
    import apache_beam.coders as bc
    import msgspec
    import orjson
    from apache_beam.coders import typecoders

    rng = random.Random(20261202)
    table = Table(
        "coderkit vs the fastest Python serializers: encode+decode round trips per second", "coderkit", "peer"
    )
    peers: list[tuple[str, Any, Any, list, Any]] = []  # (case, our encode/decode, peer encode/decode)

    records = make_records(sizes["records"], rng)
    ours = RecordCoder(
        Record,
        [
            ("id", VarIntCoder()),
            ("name", StrUtf8Coder()),
            ("score", FloatCoder()),
            ("active", BooleanCoder()),
            ("tags", TupleSequenceCoder(StrUtf8Coder())),
        ],
    )
    mp_enc, mp_dec = msgspec.msgpack.Encoder(), msgspec.msgpack.Decoder(Record)
    beam_impl = typecoders.registry.get_coder(Record).get_impl()
    for peer, enc, dec, target in (
        ("msgspec typed msgpack", mp_enc.encode, mp_dec.decode, 1.0),
        (f"Beam {type(beam_impl).__name__}", beam_impl.encode, beam_impl.decode, None),
        ("pickle p5", lambda v: pickle.dumps(v, 5), pickle.loads, None),
    ):
        peers.append(
            (
                f"{len(records):,} records vs {peer}",
                (public_method(ours, "encode"), public_method(ours, "decode")),
                (enc, dec),
                records,
                target,
            )
        )

    tuples = make_tuples(sizes["tuples"], rng)
    tuple_coder = TupleCoder(VarIntCoder(), StrUtf8Coder(), FloatCoder())
    td = msgspec.msgpack.Decoder(tuple[int, str, float])
    beam_tuple = bc.TupleCoder([bc.VarIntCoder(), bc.StrUtf8Coder(), bc.FloatCoder()]).get_impl()
    for peer, enc, dec, target in (
        ("msgspec typed msgpack", mp_enc.encode, td.decode, 1.0),
        ("Beam TupleCoder", beam_tuple.encode, beam_tuple.decode, None),
        ("pickle p5", lambda v: pickle.dumps(v, 5), pickle.loads, None),
    ):
        peers.append(
            (
                f"{len(tuples):,} (int, str, float) vs {peer}",
                (public_method(tuple_coder, "encode"), public_method(tuple_coder, "decode")),
                (enc, dec),
                tuples,
                target,
            )
        )

    rows = make_json_rows(sizes["rows"], rng)
    any_coder = AnyCoder()
    fast = bc.FastPrimitivesCoder().get_impl()
    if any(any_coder.encode(r) != fast.encode(r) for r in rows[:2000]):
        raise AssertionError("AnyCoder's bytes differ from Beam's FastPrimitivesCoder's")
    untyped = msgspec.msgpack.Decoder()
    for peer, enc, dec, target in (
        ("Beam FastPrimitivesCoder", fast.encode, fast.decode, 2.0),
        ("msgspec msgpack", mp_enc.encode, untyped.decode, 0.7),
        ("orjson", orjson.dumps, orjson.loads, None),
        ("pickle p5", lambda v: pickle.dumps(v, 5), pickle.loads, None),
    ):
        peers.append(
            (
                f"{len(rows):,} dict[str, Any] rows vs {peer}",
                (public_method(any_coder, "encode"), public_method(any_coder, "decode")),
                (enc, dec),
                rows,
                target,
            )
        )

    for case, (oe, od), (pe, pd), values, target in peers:
        check(f"coderkit ({case})", oe, od, values)
        check(case, pe, pd, values)
        ours_rate, peer_rate = compare_rates(
            roundtrip(oe, od, values), roundtrip(pe, pd, values), len(values), args.repeat
        )
        table.add(case, ours_rate, peer_rate, target)
    table.print()
    return table


if __name__ == "__main__":
    main()
