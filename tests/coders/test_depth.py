"""Deep values: exact results or a named limit, on both paths, with no path tried twice.

A recursive record 10,000 or 50,000 deep used to make the accelerated path spin (each level's
fallback re-ran the levels below it). Now the C path follows recursion itself up to the recursion
limit and hands deeper values to the reference path once; the reference path turns Python's
RecursionError into an EncodeError/DecodeError that names the limit and how to raise it.
How long that takes is measured in benchmarks/bench_depth.py, beside pickle.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Optional

import pytest

import coders
from coders import AnyCoder, DecodeError, EncodeError
from coders.base import Coder


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
    """The outer encoding of chain(depth) written by hand: each value's varint, then 01 while a next follows."""
    from coders.streams import varint64_bytes

    values = range(depth - 1, -1, -1)
    return b"".join(varint64_bytes(v) + (b"\x01" if v else b"\x00") for v in values)


def same_chain(a: Link | None, b: Link | None) -> bool:
    while a is not None and b is not None:
        if type(a) is not type(b) or a.value != b.value:
            return False
        a, b = a.next, b.next
    return a is None and b is None


@pytest.fixture(params=["public", "reference"])
def path(request):
    """The public methods (the C codec when built) or the reference composition alone."""
    coder = coders.CoderRegistry().get_coder(Link)
    if request.param == "public":
        return coder.encode, coder.decode
    return (lambda v: Coder.encode(coder, v)), (lambda d: Coder.decode(coder, d))


def test_chain_bytes_are_the_coders_bytes():
    coder = coders.CoderRegistry().get_coder(Link)
    for depth in (1, 2, 130, 200):
        assert Coder.encode(coder, chain(depth)) == chain_bytes(depth)


@pytest.mark.parametrize("depth", [1, 50, 200])
def test_a_200_deep_record_round_trips_on_every_path(path, depth):
    encode, decode = path
    data = encode(chain(depth))
    assert data == chain_bytes(depth)
    assert same_chain(decode(data), chain(depth))


@pytest.mark.parametrize("depth", [10_000, 50_000])
def test_a_value_deeper_than_the_recursion_limit_is_an_error_naming_it(path, depth):
    encode, decode = path
    value, data = chain(depth), chain_bytes(depth)
    limit = f"sys.getrecursionlimit() = {sys.getrecursionlimit()}"
    with pytest.raises(EncodeError) as encoding:
        encode(value)
    with pytest.raises(DecodeError) as decoding:
        decode(data)
    for error in (encoding.value, decoding.value):
        assert "nested too deeply" in str(error) and limit in str(error)
        assert "sys.setrecursionlimit(n)" in str(error)


def test_a_value_too_deep_for_c_is_encoded_by_the_reference_path_once():
    # Counts calls, not seconds: the old fallback re-ran the reference at every level (a call count
    # growing with the square of the depth, and beyond); the reference path runs once, so the record's
    # encode_to runs at most once per level it reaches before the recursion limit.
    coder = coders.CoderRegistry().get_coder(Link)
    calls = [0]
    reference = coder.encode_to

    def counting(value, out, nested):
        calls[0] += 1
        return reference(value, out, nested)

    coder.encode_to = counting
    with pytest.raises(EncodeError, match="nested too deeply"):
        coder.encode(chain(10_000))
    assert 0 < calls[0] <= sys.getrecursionlimit()


def test_a_raised_recursion_limit_lets_10_000_deep_values_round_trip(path):
    encode, decode = path
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)
    try:
        data = encode(chain(10_000))
        back = decode(data)
    finally:
        sys.setrecursionlimit(old)
    assert data == chain_bytes(10_000)
    assert same_chain(back, chain(10_000))


def test_any_coder_on_a_5000_deep_list_is_an_encode_error():
    deep: list = []
    inner = deep
    for _ in range(5000):
        inner.append([])
        inner = inner[0]
    with pytest.raises(EncodeError, match=r"nested too deeply to encode.*\(sys.getrecursionlimit\(\) = "):
        AnyCoder().encode(deep)
    with pytest.raises(DecodeError, match="nested too deeply to decode"):
        AnyCoder().decode(b"\x05\x01" * 5000 + b"\x00")
