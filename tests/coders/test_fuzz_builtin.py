"""Bad bytes never crash: every decoder, fed random or mutated input, returns a value or raises DecodeError.

No IndexError, MemoryError, struct.error, hang or huge allocation; hostile counts and
lengths fail fast.
"""

from __future__ import annotations

import datetime
import decimal
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import coders
from coders.collections import IterableCoder, ListCoder, MapCoder, SetCoder, TupleCoder, TupleSequenceCoder
from coders.primitives import (
    BooleanCoder,
    BytesCoder,
    CanonicalFloatCoder,
    DecimalCoder,
    FloatCoder,
    NoneCoder,
    StrUtf8Coder,
    TimestampCoder,
    VarIntCoder,
)
from coders.streams import varint64_bytes
from coders.wrappers import LengthPrefixCoder, NullableCoder

UTC = datetime.UTC
I, S = VarIntCoder(), StrUtf8Coder()

# (coder, a few valid values to mutate)
CODERS = [
    (BytesCoder(), [b"", b"abc", b"\x00" * 130]),
    (S, ["", "héllo", "\U0001f600" * 3]),
    (I, [0, 127, 300, -1, 2**63 - 1]),
    (FloatCoder(), [0.0, -1.5, float("inf")]),
    (CanonicalFloatCoder(), [2.5]),
    (BooleanCoder(), [True, False]),
    (NoneCoder(), [None]),
    (TimestampCoder(), [datetime.datetime(2020, 5, 17, 1, 2, 3, 4000, tzinfo=UTC)]),
    (TimestampCoder(as_beam_timestamp=True), []),
    (DecimalCoder(), [decimal.Decimal("3.14"), decimal.Decimal("-1E+20")]),
    (NullableCoder(S), [None, "x"]),
    (LengthPrefixCoder(TupleCoder(I, S)), [(1, "ab")]),
    (TupleCoder(I, S, FloatCoder()), [(1, "a", 2.0)]),
    (TupleCoder(), [()]),
    (ListCoder(S), [["a", "bc"], []]),
    (ListCoder(NoneCoder()), [[None, None]]),
    (ListCoder(TupleCoder()), [[(), ()]]),
    (IterableCoder(I), [[1, 2, 3]]),
    (TupleSequenceCoder(BooleanCoder()), [(True, False)]),
    (MapCoder(S, ListCoder(I)), [{"a": [1], "b": []}]),
    (MapCoder(I, NoneCoder(), deterministic=True), [{1: None, 2: None}]),
    (SetCoder(S, deterministic=True), [{"a", "b"}]),
    (SetCoder(I, frozen=True), [frozenset({1, 2})]),
    (
        TupleCoder(BytesCoder(), ListCoder(NullableCoder(S)), MapCoder(I, TupleCoder(BooleanCoder(), DecimalCoder()))),
        [(b"k", ["a", None], {1: (True, decimal.Decimal("0.5"))})],
    ),
]
IDS = [repr(c) for c, _ in CODERS]


def _decode_or_decode_error(coder, data: bytes) -> None:
    for decode in (coder.decode, coder.decode_nested):
        try:
            decode(data)
        except coders.DecodeError as e:
            assert e.offset is None or 0 <= e.offset <= len(data), (e.offset, len(data))


@pytest.mark.parametrize("coder, _values", CODERS, ids=IDS)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=64))
def test_random_bytes_give_a_value_or_decode_error(coder, _values, data):
    _decode_or_decode_error(coder, data)


mutations = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10_000), st.integers(1, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 10_000), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.integers(0, 255)),
    st.tuples(st.just("delete"), st.integers(0, 10_000), st.just(0)),
    st.tuples(st.just("append"), st.integers(0, 10_000), st.integers(0, 255)),
    st.tuples(st.just("set"), st.integers(0, 10_000), st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0xFF])),
)


def _mutate(data: bytes, ops) -> bytes:
    buf = bytearray(data)
    for kind, where, byte in ops:
        i = where % (len(buf) + 1)
        if kind == "flip" and buf:
            buf[i % len(buf)] ^= byte
        elif kind == "truncate":
            del buf[i:]
        elif kind == "insert":
            buf.insert(i, byte)
        elif kind == "delete" and buf:
            del buf[i % len(buf)]
        elif kind == "append":
            buf.append(byte)
        elif kind == "set" and buf:
            buf[i % len(buf)] = byte
    return bytes(buf)


MUTABLE = [(c, v) for c, vs in CODERS for v in vs]


@pytest.mark.parametrize("coder, value", MUTABLE, ids=[f"{c!r}-{v!r}"[:50] for c, v in MUTABLE])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(mutations, min_size=1, max_size=4), nested=st.booleans())
def test_mutated_valid_encodings_give_a_value_or_decode_error(coder, value, ops, nested):
    valid = coder.encode_nested(value) if nested else coder.encode(value)
    _decode_or_decode_error(coder, _mutate(valid, ops))


HOSTILE_COUNT = bytes.fromhex("7fffffff")
HOSTILE_LENGTH = varint64_bytes(2**62)


@pytest.mark.parametrize(
    "coder, data",
    [
        (ListCoder(I), HOSTILE_COUNT),
        (ListCoder(NoneCoder()), HOSTILE_COUNT),
        (IterableCoder(S), HOSTILE_COUNT + b"\x01a"),
        (TupleSequenceCoder(TupleCoder()), HOSTILE_COUNT),
        (MapCoder(S, I), HOSTILE_COUNT),
        (MapCoder(NoneCoder(), NoneCoder()), HOSTILE_COUNT),
        (SetCoder(I), HOSTILE_COUNT),
        (IterableCoder(I), bytes.fromhex("ffffffff") + HOSTILE_LENGTH),
        (IterableCoder(NoneCoder()), bytes.fromhex("ffffffff") + HOSTILE_LENGTH),
        (BytesCoder(), HOSTILE_LENGTH),
        (S, HOSTILE_LENGTH + b"abc"),
        (LengthPrefixCoder(BytesCoder()), HOSTILE_LENGTH),
        (DecimalCoder(), b"\x00" + HOSTILE_LENGTH),
        (ListCoder(BytesCoder()), bytes.fromhex("00000001") + HOSTILE_LENGTH),
    ],
    ids=lambda x: repr(x)[:40],
)
def test_hostile_counts_and_lengths_are_refused_before_allocating(coder, data):
    # the claimed 2**31 elements or 2**62 bytes are never allocated: the count is checked against the
    # bytes that remain first (what this guards is memory, so memory is what it measures)
    tracemalloc.start()
    try:
        with pytest.raises(coders.DecodeError) as info:
            coder.decode_nested(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "remain" in str(info.value) or "limit" in str(info.value)
    assert peak < 1 << 20, f"{peak:,} bytes allocated while refusing a hostile count"
