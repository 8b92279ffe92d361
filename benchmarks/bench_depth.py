"""Deep values: how long coderkit takes to answer for a recursive record 200 to 50,000 deep, beside pickle.

A linked list of dataclasses (``Link(value, next)``) is encoded and its bytes decoded. Shallow chains
round-trip; chains past Python's recursion limit end in coderkit's EncodeError/DecodeError naming the
limit, and in pickle's RecursionError. Either way the answer must come at once (the accelerated path
used to re-run the reference at every level and never finish at 1,000 deep): the table shows answers
per second for each side and what each answered.
"""

from __future__ import annotations

import dataclasses
import pickle
from typing import Optional, Sequence

import coders
from coders.streams import varint64_bytes

from .common import Table, compare_rates, parse_args


@dataclasses.dataclass
class Link:
    value: int
    next: Optional[Link] = None


def chain(depth: int) -> Link | None:
    head = None
    for i in range(depth):
        head = Link(i, head)
    return head


def chain_bytes(depth: int) -> bytes:
    return b"".join(varint64_bytes(v) + (b"\x01" if v else b"\x00") for v in range(depth - 1, -1, -1))


def answer(fn) -> str:
    """What one run of ``fn`` answered (a round trip, or which error)."""
    result = fn()
    return " / ".join(result) if isinstance(result, list) else result


def coderkit_answer(coder, value, data):
    """Encode ``value`` and decode ``data``; the depth errors are answers too. Returns the round trip."""

    def run():
        outcome = []
        for step, arg, error in ((coder.encode, value, coders.EncodeError), (coder.decode, data, coders.DecodeError)):
            try:
                step(arg)
                outcome.append("ok")
            except error:
                outcome.append(error.__name__)
        return outcome

    return run


def pickle_answer(value):
    def run():
        try:
            pickle.loads(pickle.dumps(value, 5))
        except RecursionError:
            return "RecursionError"
        return "ok"

    return run


def main(argv: Sequence[str] | None = None) -> Table:
    args = parse_args(argv, description=__doc__.splitlines()[0])
    coder = coders.CoderRegistry().get_coder(Link)
    table = Table("deep recursive records: answers per second (a round trip, or the error)", "coderkit", "pickle p5")
    for depth in (200, 1_000, 10_000, 50_000):
        value, data = chain(depth), chain_bytes(depth)

        ours, peer = coderkit_answer(coder, value, data), pickle_answer(value)
        said = f"coderkit: {answer(ours)}; pickle: {answer(peer)}"
        ours_rate, peer_rate = compare_rates(ours, peer, 1, repeat=args.repeat)
        table.add(f"{depth:,} deep", ours_rate, peer_rate, note=said)
    table.print()
    return table


if __name__ == "__main__":
    main()
