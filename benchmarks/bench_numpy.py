"""coderkit's numpy coders against pickle protocol 5, side by side in one process.

The headline case is a 1,000,000-element float64 array: NumpyArrayCoder writes a small header
and the raw buffer, pickle protocol 5 writes its opcodes and the same buffer in-band, and each
decode copies the buffer once into memory the array owns, so both are bounded by two 8 MB
copies into fresh memory (page faults included) and the target is parity (>= 1.0). The rows
below split encode and decode, then a Fortran-ordered array (C order on the wire: a transposing
copy on our side, where pickle writes the Fortran buffer as it is) and ``zero_copy=True``
(decode is a read-only view of the input bytes, no copy). A second table codes
100,000 ``numpy.int64`` scalars one by one, as keys of a DeterministicGroupByKey are.

Before timing, every case checks that both sides give back exactly the value (dtype, shape,
every bit, numpy type): a fast coder that changes a value is worthless, so a mismatch stops it.
"""

from __future__ import annotations

import pickle
from typing import Callable, Sequence

import numpy as np

from coders.arrays import NumpyArrayCoder, NumpyScalarCoder
from coders.testing import first_difference

from .common import Table, compare_rates, parse_args

FULL_SIZES = {"array": 1_000_000, "rounds": 20, "scalars": 100_000}
QUICK_SIZES = {"array": 1_000_000, "rounds": 3, "scalars": 10_000}


def pickle5_dumps(value) -> bytes:
    return pickle.dumps(value, protocol=5)


def check_exact(label: str, value, encode: Callable, decode: Callable) -> None:
    back = decode(encode(value))
    found = first_difference(value, back)
    if found:
        raise AssertionError(f"{label} does not round-trip exactly: {found}")


def repeated(fn: Callable[[], object], rounds: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(rounds):
            fn()

    return run


def array_cases(sizes) -> list[tuple[str, object, NumpyArrayCoder, float | None]]:
    rng = np.random.default_rng(1)
    values = rng.standard_normal(sizes["array"])
    values[:4] = [np.nan, -0.0, np.inf, 5e-324]
    fortran = np.asfortranarray(values.reshape(1000, -1))
    return [
        ("1M float64: encode+decode", values, NumpyArrayCoder(), 1.0),
        ("1M float64, Fortran order: encode+decode", fortran, NumpyArrayCoder(), None),
        ("1M float64, zero_copy=True: encode+decode", values, NumpyArrayCoder(zero_copy=True), None),
    ]


def main(argv: Sequence[str] | None = None) -> tuple[Table, Table]:
    args = parse_args(argv, description=__doc__.splitlines()[0])
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    rounds = sizes["rounds"]
    table = Table(
        "numpy arrays: coderkit NumpyArrayCoder vs pickle protocol 5 (in-band), operations per second",
        ours="coderkit",
        peer="pickle5",
    )
    for name, value, coder, target in array_cases(sizes):
        check_exact(f"{coder!r} on {name}", value, coder.encode, coder.decode)
        check_exact(f"pickle 5 on {name}", value, pickle5_dumps, pickle.loads)
        ours_bytes, peer_bytes = coder.encode(value), pickle5_dumps(value)
        note = f"{len(ours_bytes) - value.nbytes} vs {len(peer_bytes) - value.nbytes} bytes beyond the buffer"
        rates = compare_rates(
            repeated(lambda c=coder, v=value: c.decode(c.encode(v)), rounds),
            repeated(lambda v=value: pickle.loads(pickle5_dumps(v)), rounds),
            rounds,
            repeat=args.repeat,
            warmup=3,  # let the allocator settle on 8 MB buffers before either side is timed
        )
        table.add(name, *rates, target, note=note)
        base = name.split(":")[0]
        table.add(
            f"{base}: encode",
            *compare_rates(
                repeated(lambda c=coder, v=value: c.encode(v), rounds),
                repeated(lambda v=value: pickle5_dumps(v), rounds),
                rounds,
                repeat=args.repeat,
            ),
        )
        table.add(
            f"{base}: decode",
            *compare_rates(
                repeated(lambda c=coder, b=ours_bytes: c.decode(b), rounds),
                repeated(lambda b=peer_bytes: pickle.loads(b), rounds),
                rounds,
                repeat=args.repeat,
            ),
        )
    table.print()
    print()

    scalars = Table(
        "numpy scalars one by one: NumpyScalarCoder vs pickle protocol 5, values per second",
        ours="coderkit",
        peer="pickle5",
    )
    n = sizes["scalars"]
    rng = np.random.default_rng(2)
    for label, scalar_type, values in [
        ("numpy.int64 (a key)", np.int64, [np.int64(x) for x in rng.integers(-(2**40), 2**40, n)]),
        ("numpy.float64, canonical", np.float64, [np.float64(x) for x in rng.standard_normal(n)]),
    ]:
        coder = NumpyScalarCoder(scalar_type)
        if scalar_type is np.float64:
            coder = coder.as_deterministic_coder()
        for v in values[:1000]:
            check_exact(f"{coder!r}", v, coder.encode, coder.decode)
            check_exact("pickle 5", v, pickle5_dumps, pickle.loads)
        encode, decode = coder.encode, coder.decode
        scalars.add(
            f"{label}: encode+decode",
            *compare_rates(
                lambda vs=values, decode=decode, encode=encode: [decode(encode(v)) for v in vs],
                lambda vs=values: [pickle.loads(pickle5_dumps(v)) for v in vs],
                n,
                repeat=args.repeat,
            ),
            note=f"{len(coder.encode(values[0]))} vs {len(pickle5_dumps(values[0]))} bytes",
        )
    scalars.print()
    return table, scalars


if __name__ == "__main__":
    main(__import__("sys").argv[1:])
