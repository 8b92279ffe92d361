"""No leaks on the accelerated path: a million round trips per accelerated coder, memory flat.

tracemalloc sees every allocation the C extension makes through Python's allocators (its output
buffers, every object it builds). After a warm-up, the memory still allocated must not grow with
the number of round trips: a leak of even one small object per call would show as tens of MB here.
Malformed input and the fallback to the reference path are exercised too, since error paths are
where references are most often dropped.
"""

from __future__ import annotations

import dataclasses
import gc
import tracemalloc

import pytest

from coders import AnyCoder, DecodeError, EncodeError, MapCoder, RecordCoder, TupleCoder
from coders.collections import ListCoder
from coders.primitives import FloatCoder, StrUtf8Coder, VarIntCoder

ROUND_TRIPS = 1_000_000
GROWTH_LIMIT = 256 * 1024  # bytes; a one-object-per-call leak would be > 50 MB


@dataclasses.dataclass(frozen=True)
class Reading:
    sensor: str
    value: float
    count: int


CASES = [
    ("VarIntCoder", VarIntCoder(), -123456789),
    ("TupleCoder", TupleCoder(VarIntCoder(), StrUtf8Coder(), FloatCoder()), (7, "héllo", 2.5)),
    ("ListCoder", ListCoder(StrUtf8Coder()), ["a", "bc", "déf"]),
    ("MapCoder", MapCoder(StrUtf8Coder(), VarIntCoder()), {"clicks": 3, "views": 900}),
    (
        "RecordCoder",
        RecordCoder(Reading, [("sensor", StrUtf8Coder()), ("value", FloatCoder()), ("count", VarIntCoder())]),
        Reading("t1", -0.5, 42),
    ),
    ("AnyCoder", AnyCoder(), {"id": 1, "tags": ["x", "y"], "geo": {"zip": 12345}, "ok": True, "none": None}),
]


def allocated_after(fn, rounds: int) -> int:
    for _ in range(rounds):
        fn()
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


@pytest.mark.parametrize("name, coder, value", CASES, ids=[c[0] for c in CASES])
def test_a_million_round_trips_leave_memory_flat(name, coder, value):
    encode, decode = coder.encode, coder.decode
    data = encode(value)
    assert decode(data) == value
    bad = data[:-1]  # truncated: declined by C, a DecodeError from the reference

    def once():
        decode(encode(value))

    def failing():
        try:
            decode(bad)
        except DecodeError:
            pass

    tracemalloc.start()
    try:
        baseline = allocated_after(once, 10_000)
        after = allocated_after(once, ROUND_TRIPS)
        after_errors = allocated_after(failing, 20_000)
    finally:
        tracemalloc.stop()
    assert after - baseline < GROWTH_LIMIT, f"{name}: {after - baseline:,} bytes more after {ROUND_TRIPS:,} round trips"
    assert after_errors - baseline < GROWTH_LIMIT, f"{name}: {after_errors - baseline:,} bytes more after errors"


def test_values_the_c_path_declines_leave_memory_flat():
    coder = TupleCoder(VarIntCoder(), StrUtf8Coder())

    def refused():
        try:
            coder.encode((True, "a"))  # a bool for an int: declined in C, refused by the reference
        except EncodeError:
            pass

    tracemalloc.start()
    try:
        baseline = allocated_after(refused, 5_000)
        after = allocated_after(refused, 100_000)
    finally:
        tracemalloc.stop()
    assert after - baseline < GROWTH_LIMIT
