"""The C accelerator (coders.accel._speedups) against coderkit's own pure-Python path, in one process.

The same cases as bench_coders (and the PySpark pickle-file reader of bench_spark_pickle),
each timed twice: through the public methods, which use the C code when it is built, and
through the pure-Python path a machine without the extension runs (VarIntCoder's Python
methods, the reference composition of the coder tree, the Python batch loop of
pickling.spark). The ratio is the speed-up
the extension buys; both sides are checked to give the same bytes and values first.
Run with CODERKIT_PURE_PYTHON=1 it says the accelerator is off and times nothing.
"""

from __future__ import annotations

import types
from typing import Sequence

from coders import accel as speedups
from coders import primitives
from coders.accel.codec import codec_for
from coders.base import Coder

from .bench_coders import FULL_SIZES, QUICK_SIZES, cases, check_roundtrip, roundtrips
from .common import Table, compare_rates, parse_args


def pure_methods(coder):
    """The pure-Python (encode, decode) that the C code replaced for ``coder``, or None."""
    if type(coder) is primitives.VarIntCoder:
        return (
            types.MethodType(primitives.VarIntCoder.python_encode, coder),
            types.MethodType(primitives.VarIntCoder.python_decode, coder),
        )
    if codec_for(coder) is not None:
        return types.MethodType(Coder.encode, coder), types.MethodType(Coder.decode, coder)
    return None


def bench_spark(quick: bool, repeat: int, table: Table) -> None:
    from pickling import spark

    from .bench_spark_pickle import RECORDS, spark_pickle_dir

    path = spark_pickle_dir(20_000 if quick else RECORDS, "pairs")
    saved = spark._load_spark_batches, spark._contains

    def with_c():
        spark._load_spark_batches, spark._contains = saved
        return spark.load(path)

    def pure():
        spark._load_spark_batches, spark._contains = None, (lambda value, needle: needle in value)
        try:
            return spark.load(path)
        finally:
            spark._load_spark_batches, spark._contains = saved

    n = len(with_c())
    if with_c() != pure():
        raise AssertionError("pickling.spark.load read different records with and without the C loop")
    table.add(f"{n:,} records: pickling.spark.load (pairs)", *compare_rates(with_c, pure, n, repeat=repeat))


def main(argv: Sequence[str] | None = None) -> Table:
    args = parse_args(argv, description=__doc__.splitlines()[0])
    table = Table(
        "coderkit with its C accelerator vs its pure-Python path: round trips per second", ours="C", peer="pure Python"
    )
    if not speedups.ENABLED:
        print(f"the C accelerator is off ({speedups.REASON}): nothing to compare")
        return table
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    for name, _target, ours, _beam, data, _shared in cases(sizes):
        pure = pure_methods(ours)
        if pure is None:
            continue  # not accelerated (StrUtf8Coder is as fast in Python)
        check_roundtrip(f"C {name}", ours.encode, ours.decode, data)
        check_roundtrip(f"pure {name}", *pure, data)
        if [ours.encode(v) for v in data] != [pure[0](v) for v in data]:
            raise AssertionError(f"{name}: the C and pure-Python paths wrote different bytes")
        table.add(
            name,
            *compare_rates(
                roundtrips(ours.encode, ours.decode, data), roundtrips(*pure, data), len(data), repeat=args.repeat
            ),
        )
    bench_spark(args.quick, args.repeat, table)
    table.print()
    return table


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
