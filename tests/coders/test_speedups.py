"""The C accelerator (coders.accel._speedups) against the pure-Python reference: same bytes, values and errors.

The extension must be built and in use here (so a build that silently failed is noticed).
Every accelerated entry point is checked differentially: VarIntCoder's C encode/decode
against its Python methods and the reference composition, and the C coder
trees (``coders.accel.codec.codec_for``) against ``Coder.encode``/``Coder.decode`` on valid
values, wrong values, valid bytes and random or mutated bytes. ``raw_*`` (the C path
without its fallback) must either decline or agree. Finally a subprocess with
``CODERKIT_PURE_PYTHON=1`` runs the same samples on the pure-Python path and must print
exactly what this process computes with C.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import gc
import json
import os
import pickle
import random
import subprocess
import sys
import typing
import weakref
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coders import accel as speedups
from coders.accel.codec import codec_for
from coders.base import Coder
from coders.collections import IterableCoder, ListCoder, MapCoder, SetCoder, TupleCoder, TupleSequenceCoder
from coders.dynamic import AnyCoder
from coders.errors import DecodeError, EncodeError
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
from coders.records import EnumCoder, RecordCoder
from coders.rows import RowCoder
from coders.testing import first_difference, strategy_for
from coders.wrappers import LengthPrefixCoder, NullableCoder

I, S, F, B = VarIntCoder(), StrUtf8Coder(), FloatCoder(), BytesCoder()
UTC = datetime.UTC
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@dataclasses.dataclass(frozen=True)
class Order:
    order_id: int
    customer: str
    amount: float
    paid: bool


@dataclasses.dataclass
class Line:
    sku: typing.Optional[str]
    qty: int
    prices: list


class Point(typing.NamedTuple):
    x: int
    y: typing.Optional[str]


@dataclasses.dataclass
class Tree:
    label: str
    children: list


class Color(enum.Enum):
    RED = 1
    GREEN = 2


ORDER = RecordCoder(Order, [("order_id", I), ("customer", S), ("amount", F), ("paid", BooleanCoder())])
LINE = RecordCoder(Line, [("sku", NullableCoder(S)), ("qty", I), ("prices", ListCoder(CanonicalFloatCoder()))])
POINT = RecordCoder(Point, [("x", I), ("y", NullableCoder(S))])
TREE = RecordCoder.deferred(Tree)
TREE.set_fields([("label", S), ("children", ListCoder(TREE))])


@dataclasses.dataclass(frozen=True)
class Event:
    id: int
    name: str
    note: typing.Optional[str]
    scores: typing.List[int]
    where: typing.Optional[Point]


TREES = [
    TupleCoder(I, S, F),
    TupleCoder(B, I),
    TupleCoder(),
    TupleCoder(NoneCoder(), BooleanCoder(), CanonicalFloatCoder()),
    TupleCoder(I, TupleCoder(S, TupleCoder(F, B))),
    ListCoder(I),
    ListCoder(NoneCoder()),
    ListCoder(ListCoder(B)),
    IterableCoder(TupleCoder(S, I)),
    TupleSequenceCoder(F),
    MapCoder(S, I),
    MapCoder(I, NoneCoder()),
    MapCoder(S, MapCoder(S, F, deterministic=True)),
    TupleCoder(NullableCoder(I), NullableCoder(NullableCoder(S)), NullableCoder(TupleCoder(B, B))),
    TupleCoder(
        DecimalCoder(), TimestampCoder(), SetCoder(I, deterministic=True), LengthPrefixCoder(S), EnumCoder(Color)
    ),
    ORDER,
    LINE,
    POINT,
    TREE,
    ListCoder(ORDER),
    MapCoder(S, POINT),
    TupleCoder(TREE, I),
    # added after the trees sample_cases() names by position
    AnyCoder(),
    TupleCoder(I, AnyCoder()),
    MapCoder(S, AnyCoder()),
    RowCoder(Order),
    RowCoder(Point),
    RowCoder(Event),
    ListCoder(RowCoder(Event)),
]
IDS = [repr(t) for t in TREES]

FAST = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def accelerated(coder):
    """The (outer, nested) C codecs of a composite coder."""
    codec = codec_for(coder)
    assert codec is not None, f"{coder!r} has no C codec"
    return codec.outer, codec.nested


def takes_any(coder) -> bool:
    return any(isinstance(c, AnyCoder) for c in coder.walk())


_STRATEGIES: dict[int, object] = {}


def strategy_of(coder):
    """strategy_for(coder), built once per coder (hypothesis wants the same strategy object across the
    runs of one test: st.recursive keeps state)."""
    if id(coder) not in _STRATEGIES:
        _STRATEGIES[id(coder)] = strategy_for(coder)
    return _STRATEGIES[id(coder)]


def outcome(fn, *args):
    """What a call gives: ('ok', type, value) or ('error', type, message)."""
    try:
        result = fn(*args)
    except Exception as e:
        return ("error", type(e), str(e))
    return ("ok", type(result), result)


def assert_same(got, expected, what):
    assert got[:2] == expected[:2], f"{what}: {got!r} != {expected!r}"
    if got[0] == "error":
        assert got[2] == expected[2], f"{what}: message {got[2]!r} != {expected[2]!r}"
    else:
        diff = first_difference(expected[2], got[2])
        assert diff is None and repr(got[2]) == repr(expected[2]), f"{what}: {diff or (got[2], expected[2])}"


def mutations(data: bytes, rng: random.Random):
    """Truncations, flipped and inserted bytes, and random garbage near the valid encoding."""
    out = [data[:k] for k in range(len(data))][:12] + [data + b"\x00", data + bytes([rng.randrange(256)])]
    for _ in range(12):
        if data:
            b = bytearray(data)
            b[rng.randrange(len(b))] = rng.randrange(256)
            out.append(bytes(b))
            b = bytearray(data)
            b.insert(rng.randrange(len(b) + 1), rng.randrange(256))
            out.append(bytes(b))
        out.append(bytes(rng.randrange(256) for _ in range(rng.randrange(16))))
    return out


# ---------------------------------------------------------------------------- the build itself


def test_extension_is_built_and_enabled():
    assert speedups.ENABLED, f"coders.accel._speedups is not in use: {speedups.REASON}"
    assert speedups.REASON == "enabled"
    assert type(VarIntCoder.__dict__["encode"]).__name__ == "method_descriptor"
    assert VarIntCoder.encode.__qualname__ == "VarIntCoder.encode"
    with pytest.raises(TypeError):  # bound like a method of the class: self must be a VarIntCoder
        VarIntCoder.encode(StrUtf8Coder(), 1)
    assert VarIntCoder.encode_nested is VarIntCoder.encode
    pair = TupleCoder(I, S)
    outer, nested = accelerated(pair)
    assert isinstance(outer, speedups.Codec) and isinstance(nested, speedups.Codec)
    assert pair.encode((1, "a")) == b"\x01a"
    # bound on the instance: one C call per value, no Python wrapper in between
    assert isinstance(pair.__dict__["encode"].__self__, speedups.Codec)
    assert isinstance(pair.__dict__["decode_nested"].__self__, speedups.Codec)


def test_pure_python_switch_in_a_fresh_interpreter():
    env = dict(os.environ, CODERKIT_PURE_PYTHON="1")
    code = (
        "import coders.accel as s, coders, coders.primitives as p\n"
        "c = coders.TupleCoder(coders.VarIntCoder(), coders.StrUtf8Coder())\n"
        "from coders.accel.codec import codec_for\n"
        "print(s.ENABLED, s.REASON, codec_for(c), p.VarIntCoder.encode is p.VarIntCoder.python_encode)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "disabled", "by", "CODERKIT_PURE_PYTHON=1", "None", "True"]


# ---------------------------------------------------------------------------- VarIntCoder


def wrong_ints():
    return st.one_of(
        st.integers(INT64_MAX + 1, 2**80),
        st.integers(-(2**80), INT64_MIN - 1),
        st.booleans(),
        st.floats(),
        st.text(max_size=3),
        st.none(),
        st.binary(max_size=3),
        st.sampled_from([enum.IntEnum("N", "A B").A, decimal.Decimal(1), 1 + 0j]),
    )


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.integers(INT64_MIN, INT64_MAX), st.integers(-300, 300), wrong_ints()))
def test_varint_encode_matches_the_python_paths(value):
    c = VarIntCoder()
    reference = outcome(Coder.encode, c, value)
    assert_same(outcome(c.encode, value), reference, "C encode vs reference")
    assert_same(outcome(c.encode_nested, value), outcome(Coder.encode_nested, c, value), "C encode_nested")
    assert_same(outcome(VarIntCoder.python_encode, c, value), reference, "Python fast path vs reference")
    if reference[0] == "error":
        assert reference[1] is EncodeError
        with pytest.raises(EncodeError) as info:
            c.encode(value)
        assert info.value.coder is c  # the error names this coder instance, not a stand-in


def varint_bytes():
    valid = st.integers(INT64_MIN, INT64_MAX).map(VarIntCoder().encode)
    return st.one_of(
        valid,
        st.binary(max_size=12),
        valid.map(lambda b: b + b"\x00"),
        valid.map(lambda b: b[:-1]),
        st.integers(0, 2**70).map(
            lambda v: bytes(
                ((v >> (7 * i)) & 0x7F) | (0x80 if v >> (7 * (i + 1)) else 0)
                for i in range(max(1, (v.bit_length() + 6) // 7))
            )
        ),
        st.sampled_from(
            [
                b"\x80\x00",
                b"\xff" * 9 + b"\x01",
                b"\xff" * 9 + b"\x02",
                b"\xff" * 10 + b"\x00",
                b"\x80" * 9 + b"\x00",
                b"\x80" * 10,
            ]
        ),
    )


@settings(max_examples=400, deadline=None)
@given(varint_bytes())
def test_varint_decode_matches_the_reference(data):
    c = VarIntCoder()
    reference = outcome(Coder.decode, c, data)
    python_decode = VarIntCoder.python_decode.__get__(c)  # the pure-Python path's method, tested here too
    for fn in (c.decode, c.decode_nested, python_decode):
        got = outcome(fn, data)
        assert_same(got, reference, f"decode of {data.hex()} by {fn!r}")
        assert got[0] == "ok" or got[1] is DecodeError
    for wrapped in (bytearray(data), memoryview(data)):
        assert_same(outcome(c.decode, wrapped), outcome(Coder.decode, c, wrapped), "C decode of a buffer")


def test_varint_decode_refuses_non_bytes_like_the_reference():
    c = VarIntCoder()
    assert_same(outcome(c.decode, "01"), outcome(Coder.decode, c, "01"), "str input")
    assert outcome(c.decode, "01")[1] is TypeError


# ---------------------------------------------------------------------------- coder trees


@pytest.mark.parametrize("coder", TREES, ids=IDS)
@FAST
@given(data=st.data())
def test_tree_valid_values_give_the_reference_bytes_and_values(coder, data):
    value = data.draw(strategy_of(coder))
    outer, nested = accelerated(coder)
    for codec, is_nested in ((outer, False), (nested, True)):
        encode_ref = Coder.encode_nested if is_nested else Coder.encode
        decode_ref = Coder.decode_nested if is_nested else Coder.decode
        expected = encode_ref(coder, value)
        assert codec.encode(value) == expected
        assert_same(outcome(codec.decode, expected), outcome(decode_ref, coder, expected), "decode of valid bytes")
        if takes_any(coder):  # a big int or a pickled object inside is the reference path's by design
            raw = outcome(codec.raw_encode, value)
            assert (raw[0] == "ok" and raw[2] == expected) or raw[1] is speedups.Unhandled
            raw = outcome(codec.raw_decode, expected)
            if raw[1] is not speedups.Unhandled:
                assert_same(raw, outcome(decode_ref, coder, expected), "the C path alone")
            continue
        # valid values and their bytes never need the fallback
        assert codec.raw_encode(value) == expected, "the C path alone wrote other bytes"
        assert_same(outcome(codec.raw_decode, expected), outcome(decode_ref, coder, expected), "the C path alone")


def near_misses():
    """Plausible wrong values: other types, bools for ints, floats for ints, nested wrong shapes."""
    leaf = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**65), 2**65),
        st.floats(),
        st.text(max_size=5),
        st.binary(max_size=5),
        st.just("\ud800"),
        st.sampled_from([Color.RED, decimal.Decimal("1.5")]),
    )
    return st.recursive(
        leaf,
        lambda kids: st.one_of(
            st.lists(kids, max_size=3),
            st.tuples(kids),
            st.tuples(kids, kids),
            st.tuples(kids, kids, kids),
            st.dictionaries(st.text(max_size=3) | st.integers(0, 5), kids, max_size=3),
        ),
        max_leaves=8,
    )


@pytest.mark.parametrize("coder", TREES, ids=IDS)
@FAST
@given(value=near_misses())
def test_tree_wrong_values_give_the_reference_errors(coder, value):
    outer, nested = accelerated(coder)
    for codec, reference in ((outer, Coder.encode), (nested, Coder.encode_nested)):
        expected = outcome(reference, coder, value)
        assert_same(outcome(codec.encode, value), expected, "C encode")
        raw = outcome(codec.raw_encode, value)
        if raw[0] == "ok":
            assert expected[0] == "ok" and raw[2] == expected[2]


def test_subclasses_that_change_iteration_go_to_the_reference():
    class Backwards(tuple):
        def __iter__(self):
            return iter(tuple(tuple.__iter__(self))[::-1])

    class Shorter(list):
        def __len__(self):
            return 0

    pair, ints = TupleCoder(I, I), ListCoder(I)
    assert pair.encode(Backwards((1, 2))) == Coder.encode(pair, Backwards((1, 2))) == b"\x02\x01"
    assert ints.encode(Shorter([1, 2])) == Coder.encode(ints, Shorter([1, 2]))
    with pytest.raises(speedups.Unhandled):
        accelerated(pair)[0].raw_encode(Backwards((1, 2)))
    assert accelerated(pair)[0].raw_encode(Point(1, 2)) == b"\x01\x02"  # a NamedTuple iterates as a tuple


# A mutated count makes a list of zero-width elements a million Nones long in both paths (slow,
# not interesting): test_zero_width_limit_matches_the_collections_module covers that tree instead.
FUZZ_TREES = [t for t in TREES if t != ListCoder(NoneCoder())]


@pytest.mark.parametrize("coder", FUZZ_TREES, ids=[repr(t) for t in FUZZ_TREES])
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), seed=st.integers(0, 2**32))
def test_tree_fuzzed_bytes_give_the_reference_outcome(coder, data, seed):
    value = data.draw(strategy_of(coder))
    rng = random.Random(seed)
    outer, nested = accelerated(coder)
    for codec, encode_ref, decode_ref in (
        (outer, Coder.encode, Coder.decode),
        (nested, Coder.encode_nested, Coder.decode_nested),
    ):
        for bad in mutations(encode_ref(coder, value), rng):
            expected = outcome(decode_ref, coder, bad)
            got = outcome(codec.decode, bad)
            assert_same(got, expected, f"decode of {bad.hex()}")
            assert got[0] == "ok" or got[1] is DecodeError
            raw = outcome(codec.raw_decode, bad)
            if raw[0] == "ok":
                assert_same(raw, expected, f"the C path alone on {bad.hex()}")


def test_hostile_counts_do_not_allocate():
    ints, maps, nones = ListCoder(I), MapCoder(S, I), ListCoder(NoneCoder())
    for coder, data in (
        (ints, b"\x7f\xff\xff\xff\x01"),
        (maps, b"\x7f\xff\xff\xff"),
        (nones, b"\x7f\xff\xff\xff"),
        (TupleCoder(S, I), b"\xff\xff\xff\xff\x0f"),
        (TupleCoder(B, I), b"\x80" * 9 + b"\x01"),
    ):
        with pytest.raises(speedups.Unhandled):
            accelerated(coder)[0].raw_decode(data)
        with pytest.raises(DecodeError):
            coder.decode(data)


def test_zero_width_limit_matches_the_collections_module():
    from coders.accel import _speedups
    from coders.collections import ZERO_WIDTH_LIMIT

    assert _speedups.ZERO_WIDTH_LIMIT == ZERO_WIDTH_LIMIT
    nones = ListCoder(NoneCoder())
    assert accelerated(nones)[0].raw_decode(b"\x00\x00\x00\x03") == [None] * 3
    over = (ZERO_WIDTH_LIMIT + 1).to_bytes(4, "big")
    with pytest.raises(speedups.Unhandled):
        accelerated(nones)[0].raw_decode(over)
    with pytest.raises(DecodeError, match="over the limit"):
        nones.decode(over)


def test_codec_releases_its_coder():
    coder = TupleCoder(I, ListCoder(S))
    assert coder.encode((1, ["a"])) == b"\x01\x00\x00\x00\x01\x01a"
    ref = weakref.ref(coder)
    del coder
    gc.collect()
    assert ref() is None, "the C codec keeps its coder alive (tp_traverse/tp_clear)"


def test_bad_specs_are_refused_without_crashing():
    def fallback(x):
        return x

    for spec, error in (
        (("nope",), ValueError),
        ("varint", TypeError),
        ((), TypeError),
        (("tuple", [("varint",)]), TypeError),
        (("list", ("varint",)), TypeError),
        (("record", Order, ("a",), fallback, False, ()), ValueError),
    ):
        with pytest.raises(error):
            speedups.Codec(spec, False, fallback, fallback)
    blank = speedups.Codec.__new__(speedups.Codec)
    with pytest.raises(RuntimeError, match="before __init__"):
        blank.encode(1)


def test_fallback_errors_keep_their_paths():
    coder = ListCoder(ORDER)
    with pytest.raises(EncodeError) as info:
        coder.encode([Order(1, "a", 1.0, True), Order(2, "b", 2, False)])
    assert str(info.value) == outcome(Coder.encode, coder, [Order(1, "a", 1.0, True), Order(2, "b", 2, False)])[2]
    assert "[1].amount" in str(info.value)


# ---------------------------------------------------------------------------- PySpark pickle files


def spark_value(batches, base: int = 0) -> bytes:
    from pickling.spark import java_serialize_byte_arrays

    framed = java_serialize_byte_arrays(
        [pickle.dumps(b, protocol=4) if not isinstance(b, bytes) else b for b in batches]
    )
    return (len(framed).to_bytes(4, "big") + framed) if base else framed


def spark_outcome(monkeypatch, value, base, accelerated_loop: bool, safe: bool = False):
    from pickling import spark

    monkeypatch.setattr(spark, "_load_spark_batches", speedups.load_spark_batches if accelerated_loop else None)
    out: list = []
    result = outcome(spark.PickleFileDecoder(safe=safe).decode_into, value, out, "part-0", 7, 99, base)
    return result[:2] + ((out,) if result[0] == "ok" else result[2:])


def test_spark_loop_in_c_is_in_use_and_loads_spark_framing():
    from pickling import spark

    assert spark._load_spark_batches is speedups.load_spark_batches
    value = spark_value([[1, 2], [], ["a"]])
    out: list = []
    args = (spark._SPARK_HEAD, spark._SPARK_FIRST, spark._SPARK_REF)
    assert speedups.load_spark_batches(value, 0, pickle.loads, out, *args) == (3, 3, len(value), None)
    assert out == [1, 2, "a"]
    # not Spark's header: nothing loaded, the count unknown
    assert speedups.load_spark_batches(b"\x00" * 60, 0, pickle.loads, out, *args) == (0, 0, 60, None)
    # a batch that is not a list is handed back; one that does not load stops the loop before it
    assert speedups.load_spark_batches(spark_value([[1], (2,)]), 0, pickle.loads, [], *args)[::3] == (1, (2,))
    assert speedups.load_spark_batches(spark_value([[1], b"junk"]), 0, pickle.loads, [], *args)[::3] == (1, None)
    # a length past the end is clipped like a slice; pos then lies past the end
    cut = value[:-1]
    assert speedups.load_spark_batches(cut, 0, lambda chunk: [len(chunk)], [], *args)[1:3] == (3, len(value))

    def interrupted(chunk):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        speedups.load_spark_batches(value, 0, interrupted, [], *args)


@settings(max_examples=300, deadline=None)
@given(hay=st.binary(max_size=40), needle=st.binary(max_size=4), cut=st.integers(0, 40))
def test_contains_is_the_in_operator(hay, needle, cut):
    planted = hay[:cut] + needle + hay[cut:]
    for data in (hay, planted, bytearray(planted), memoryview(hay)):
        assert speedups.contains(data, needle) is (needle in bytes(data))
    assert speedups.contains(b"..pyspark", b"pyspark") and not speedups.contains(b"pyspar", b"pyspark")


def test_spark_loop_in_c_refuses_wrong_arguments():
    with pytest.raises(TypeError, match="load_spark_batches"):
        speedups.load_spark_batches(b"", 0, pickle.loads, (), b"", b"", b"")
    with pytest.raises(TypeError):
        speedups.load_spark_batches("text", 0, pickle.loads, [], b"", b"", b"")
    for base in (-1, 10**6):  # outside the data: nothing loaded
        assert speedups.load_spark_batches(b"abc", base, pickle.loads, [], b"a", b"b", b"c") == (0, 0, 3, None)


def spark_batches():
    leaf = st.one_of(st.integers(), st.text(max_size=5), st.none(), st.floats(allow_nan=False))
    good = st.lists(st.lists(leaf, max_size=4), min_size=0, max_size=5)
    odd = st.sampled_from([(1, 2), {"a": 1}, 5, b"not a pickle", b""])
    return st.lists(st.one_of(st.lists(leaf, max_size=4), odd), max_size=5) | good


@settings(
    max_examples=int(os.environ.get("SPEEDUPS_EXAMPLES", 60)), deadline=None, suppress_health_check=list(HealthCheck)
)
@given(batches=spark_batches(), base=st.sampled_from([0, 4]), seed=st.integers(0, 2**32), safe=st.booleans())
def test_spark_loop_in_c_gives_the_python_loops_outcome(monkeypatch, batches, base, seed, safe):
    value = spark_value(batches, base)
    rng = random.Random(seed)
    for data in [value, bytearray(value)] + mutations(value, rng)[-12:] + [value[: len(value) - rng.randrange(1, 12)]]:
        expected = spark_outcome(monkeypatch, data, base, False, safe)
        got = spark_outcome(monkeypatch, data, base, True, safe)
        assert got[:2] == expected[:2], (got, expected)
        if got[0] == "error":
            assert got[2] == expected[2]
            assert got[1] is DecodeError
        else:
            assert repr(got[2]) == repr(expected[2])  # (a mutated float may be NaN)


# ---------------------------------------------------------------------------- both paths, one sample


def sample_cases() -> list[tuple[str, object, str, object]]:
    """(coder name, coder, method, argument) for a fixed sample of good and bad inputs."""
    rng = random.Random(20261129)
    cases = []
    named = {  # by position in TREES: new trees go at its end
        "I": I,
        "ORDER": ORDER,
        "LINE": LINE,
        "POINT": POINT,
        "TREE": TREE,
        "tuple": TREES[0],
        "map": TREES[10],
        "nullables": TREES[13],
        "generic": TREES[14],
        "lists": TREES[7],
    }
    values = {
        "I": [0, 1, 127, 128, -1, INT64_MAX, INT64_MIN, 2**63, True, 1.5, "1"],
        "ORDER": [Order(i, f"c{i}é", i * 0.5, i % 2 == 0) for i in range(5)] + [Order("x", "a", 1.0, True), (1, 2)],
        "LINE": [Line(None, 3, [1.5, -0.0, float("nan")]), Line("a", 2**40, []), Line("a", 1, (1.0,))],
        "POINT": [Point(1, None), Point(-5, "y"), (1, None), Point(1, 2)],
        "TREE": [Tree("r", [Tree("a", []), Tree("b", [Tree("c", [])])]), Tree("r", [1])],
        "tuple": [(rng.randrange(INT64_MIN, INT64_MAX), "s" * rng.randrange(200), rng.random()) for _ in range(5)]
        + [(1, "a"), (1, b"a", 1.0), [1, "a", 1.0]],
        "map": [{"a": 1, "b": -2}, {}, {"a": True}, {1: 1}],
        "nullables": [(None, None, None), (5, "x", (b"a", b"b")), (5, "x", (b"a", "b"))],
        "generic": [
            (decimal.Decimal("1.25"), datetime.datetime(2020, 1, 1, tzinfo=UTC), {1, 2}, "lp", Color.GREEN),
            (1.5, datetime.datetime(2020, 1, 1, tzinfo=UTC), {1}, "lp", Color.RED),
        ],
        "lists": [[[b"a"], []], [[b"a", "b"]], [(b"a",)]],
    }
    for name, items in values.items():
        coder = named[name]
        for value in items:
            cases.append((name, coder, "encode", value))
            cases.append((name, coder, "encode_nested", value))
            try:
                data = Coder.encode(coder, value)
            except Exception:
                continue
            for bad in [data] + mutations(data, rng)[:10]:
                cases.append((name, coder, "decode", bad))
    return cases


def run_sample() -> list[str]:
    """Each case's outcome as text (hex for bytes, repr for values, type and message for errors)."""
    lines = []
    for name, coder, method, arg in sample_cases():
        kind, typ, result = outcome(getattr(coder, method), arg)
        shown = result.hex() if isinstance(result, bytes) else repr(result)
        lines.append(f"{name}.{method}: {kind} {typ.__name__} {shown}")
    return lines


def test_pure_python_path_gives_the_same_outcomes_as_c():
    env = dict(os.environ, CODERKIT_PURE_PYTHON="1")
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve())],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["enabled"] is False
    ours = run_sample()
    assert len(report["lines"]) == len(ours) > 200
    for pure, c in zip(report["lines"], ours):
        assert pure == c


if __name__ == "__main__":  # the pure-Python side of the test above
    print(json.dumps({"enabled": speedups.ENABLED, "lines": run_sample()}))
