"""numpy coders: exact arrays and scalars, refusals with their fix, hostile headers, registry rules."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import tracemalloc
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import coders
from coders import DecodeError, EncodeError, NonDeterministicCoderError
from coders.arrays import NumpyArrayCoder, NumpyScalarCoder, dtype_text_problem
from coders.primitives import FloatCoder, StrUtf8Coder, VarIntCoder
from coders.streams import varint64_bytes
from coders.testing import (
    assert_deterministic,
    assert_encodes_to,
    assert_non_deterministic,
    assert_picklable,
    assert_roundtrip,
    first_difference,
    strategy_for,
)
from coders.typecoders import CoderRegistry

ARRAY = NumpyArrayCoder()


def nan_with_payload(bits: int) -> np.float64:
    return np.frombuffer(bits.to_bytes(8, "little"), "<f8")[0]


# ---- arrays: every dtype family, exact --------------------------------------------------------------

EDGE_ARRAYS = [
    np.arange(12, dtype=np.float64).reshape(3, 4),
    np.array([0.0, -0.0, np.inf, -np.inf, np.nan, nan_with_payload(0x7FF8000000000123), 5e-324]),
    np.array([-(2**63), 2**63 - 1], dtype=np.int64),
    np.array([0, 2**64 - 1], dtype=np.uint64),
    np.array([-128, 127], dtype=np.int8),
    np.array([1, 2], dtype=">i4"),  # big-endian stays big-endian
    np.array([1.5], dtype=">f8"),
    np.array([0.5, -0.0], dtype=np.float16),
    np.array([1 + 2j, np.nan - 0j], dtype=np.complex64),
    np.array([1 + 2j], dtype=np.complex128),
    np.array([True, False, True]),
    np.array(["2020-01-01", "NaT", "1677-09-22"], dtype="datetime64[D]"),
    np.array(["2262-04-11T23:47:16.854775807"], dtype="datetime64[ns]"),
    np.array([1, -5, "NaT"], dtype="timedelta64[2s]"),
    np.array(["NaT"], dtype="datetime64"),  # generic unit
    np.array([b"ab", b"", b"a\x00"]),  # fixed-width bytes
    np.array(["hé", "", "𝄞"]),  # fixed-width unicode (UCS-4)
    np.array(7, dtype=np.int32),  # 0-d
    np.array("x"),  # 0-d unicode
    np.zeros((0,)),
    np.zeros((3, 0, 2), dtype=np.int16),
    np.zeros((0,), dtype="U5"),
    np.asfortranarray(np.arange(6, dtype=np.int64).reshape(2, 3)),
    np.arange(20, dtype=np.float32).reshape(4, 5)[::2, 1::2],  # strided view
    np.arange(24).reshape(2, 3, 4).transpose(2, 0, 1),
    np.zeros((1,) * 10, dtype=np.uint8),
]


@pytest.mark.parametrize("value", EDGE_ARRAYS, ids=lambda a: f"{a.dtype.str}{a.shape}")
def test_edge_arrays_round_trip_exactly(value):
    assert_roundtrip(ARRAY, value)
    back = ARRAY.decode(ARRAY.encode(value))
    assert back.dtype == value.dtype and back.dtype.str == value.dtype.str and back.shape == value.shape
    assert back.tobytes() == value.tobytes()  # every bit: NaN payloads, -0.0, padding of S/U
    assert back.flags.c_contiguous


def test_fortran_and_strided_arrays_go_over_the_wire_in_c_order():
    fortran = np.asfortranarray(np.arange(6, dtype="<i2").reshape(2, 3))
    expected = bytes.fromhex("03 3c 69 32 02 02 03") + np.arange(6, dtype="<i2").tobytes()
    assert_encodes_to(ARRAY, fortran, expected)
    assert ARRAY.encode(fortran) == ARRAY.encode(np.ascontiguousarray(fortran))
    strided = np.arange(10, dtype=np.uint8)[::3]
    assert ARRAY.encode(strided) == bytes.fromhex("03 7c 75 31 01 04 00 03 06 09")


def test_header_bytes_are_the_documented_ones():
    assert ARRAY.encode(np.array([[7]], dtype=">i2")) == bytes.fromhex("03 3e 69 32 02 01 01 00 07")
    assert ARRAY.encode(np.array(3, dtype=np.int32)) == bytes.fromhex("03 3c 69 34 00 03 00 00 00")
    big = np.zeros(300, dtype=np.uint8)
    assert ARRAY.encode(big)[:7] == bytes.fromhex("03 7c 75 31 01 ac 02")
    assert ARRAY.encode_nested(big) == ARRAY.encode(big)  # the header delimits the value
    assert ARRAY.estimate_size(big) == 7 + 300


def test_decoded_arrays_own_writable_memory_by_default():
    value = np.arange(4.0)
    data = ARRAY.encode(value)
    back = ARRAY.decode(data)
    assert back.flags.writeable and (back.flags.owndata or back.base.flags.owndata)
    back[0] = 99.0  # a DoFn that changes its input in place keeps working
    assert ARRAY.decode(data)[0] == 0.0


def test_zero_copy_views_the_input_bytes_read_only():
    coder = NumpyArrayCoder(zero_copy=True)
    data = coder.encode(np.arange(4.0))
    back = coder.decode(data)
    assert not back.flags.writeable
    header_size = len(data) - back.nbytes
    assert np.frombuffer(data, np.uint8).ctypes.data + header_size == back.ctypes.data  # no copy: inside `data`
    with pytest.raises(ValueError, match="read-only"):
        back[0] = 1.0


def test_zero_copy_still_copies_a_mutable_input_buffer():
    coder = NumpyArrayCoder(zero_copy=True)
    buffer = bytearray(coder.encode(np.arange(4.0)))
    back = coder.decode(buffer)
    buffer[-8:] = bytes(8)  # the caller reuses its buffer
    assert back.tolist() == [0.0, 1.0, 2.0, 3.0] and not back.flags.writeable
    assert coder.decode(memoryview(bytes(buffer))).tolist() == [0.0, 1.0, 2.0, 0.0]


# ---- arrays: refusals ---------------------------------------------------------------------------------


def test_object_arrays_are_refused_with_the_dtype_and_the_fix():
    with pytest.raises(EncodeError) as e:
        ARRAY.encode(np.array([{"a": 1}, None], dtype=object))
    message = str(e.value)
    assert "dtype object" in message and "will not pickle silently" in message
    assert "NumpyArrayCoder(element_coder=" in message and "arr.astype(" in message


def test_object_arrays_with_an_element_coder_round_trip():
    coder = NumpyArrayCoder(element_coder=StrUtf8Coder())
    value = np.empty((2, 2), dtype=object)
    value[:] = [["a", "bc"], ["", "é"]]
    assert_roundtrip(coder, value, np.empty((0, 3), dtype=object))  # dtype, shape, each element and its type
    assert coder.encode(value) == bytes.fromhex("02 7c 4f 02 02 02 01 61 02 62 63 00 02 c3 a9")
    assert coder.decode(coder.encode(value)).dtype == np.dtype(object)
    # plain dtypes still go raw through the same coder
    assert_roundtrip(coder, np.arange(3))
    with pytest.raises(EncodeError, match="StrUtf8Coder expected str, got int"):
        coder.encode(np.array([1], dtype=object))


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (np.zeros(2, dtype=[("a", "<i4"), ("b", "<f8")]), "structured (void) dtypes are not coded"),
        (np.zeros(2, dtype="V4"), "structured (void) dtypes are not coded"),
        (np.zeros(2, dtype=np.longdouble), "'f' dtype of 16 bytes is not coded"),
        (np.zeros(2, dtype=np.clongdouble), "'c' dtype of 32 bytes is not coded"),
        (np.array(["a"], dtype=np.dtypes.StringDType()), "is not one NumpyArrayCoder codes"),
    ],
)
def test_dtypes_without_a_portable_buffer_are_refused(value, fragment):
    with pytest.raises(EncodeError) as e:
        ARRAY.encode(value)
    assert fragment in str(e.value) and "Fix: convert it to a plain dtype" in str(e.value)


def test_non_arrays_and_subclasses_are_refused():
    with pytest.raises(EncodeError, match=r"expected a numpy.ndarray, got list \[1, 2\].*numpy.asarray"):
        ARRAY.encode([1, 2])
    with pytest.raises(EncodeError, match="the subclass MaskedArray would decode as a plain ndarray"):
        ARRAY.encode(np.ma.masked_array([1, 2], mask=[0, 1]))


def test_a_scalar_type_from_the_hint_refuses_other_element_types():
    coder = NumpyArrayCoder(np.float64)
    assert_roundtrip(coder, np.arange(3.0), np.array([1.0], dtype=">f8"))
    with pytest.raises(EncodeError) as e:
        coder.encode(np.arange(3))
    assert "an array of numpy.float64 elements (its hint), not of dtype int64" in str(e.value)
    assert "arr.astype(numpy.float64)" in str(e.value)
    assert_roundtrip(NumpyArrayCoder(np.floating), np.arange(2, dtype=np.float16))


# ---- arrays: hostile headers ------------------------------------------------------------------------------


def header(dtype: bytes, *dims: int, ndim: int | None = None) -> bytes:
    n = len(dims) if ndim is None else ndim
    return varint64_bytes(len(dtype)) + dtype + varint64_bytes(n) + b"".join(varint64_bytes(d) for d in dims)


HOSTILE = [
    (header(b"<f8", 2**62) + bytes(16), "is larger than any array can be"),
    (header(b"<f8", 2**40) + bytes(16), "needs 8796093022208 bytes of elements but 16 remain"),
    (header(b"<f8", 2**40, 2**40), "is larger than any array can be"),
    (header(b"<f8", 0, 2**40, 2**40), "is larger than any array can be"),
    (header(b"|u1", 2**31, 2**31, 2**31), "is larger than any array can be"),
    (header(b"<f8", -1), "negative dimension -1"),
    (header(b"<f8", ndim=65) + bytes(65), "ndim 65 is outside 0..64"),
    (header(b"<f8", ndim=-1), "ndim -1 is outside 0..64"),
    (header(b"<f8", 3) + bytes(16), "needs 24 bytes of elements but 16 remain"),
    (header(b"<f8", 1) + bytes(9), "needs 8 bytes of elements but 9 remain"),  # outer: exactly
    (header(b"|O", 1) + b"\x00", "object array (dtype '|O'), which this coder has no element_coder for"),
    (header(b"O", 1), "dtype 'O' is not one NumpyArrayCoder codes"),
    (header(b"<f16", 1) + bytes(16), "'f' dtype of 16 bytes is not coded"),
    (header(b"|V8", 1) + bytes(8), "dtype '|V8' is not one NumpyArrayCoder codes"),
    (header(b"<i3", 1) + bytes(3), "'i' dtype of 3 bytes is not coded"),
    (header(b"|f8", 1) + bytes(8), "byte order '|' does not fit a 8-byte element"),
    (header(b"<b1", 1) + bytes(1), "byte order '<' does not fit a 1-byte element"),
    (header(b"|S0", 1), "a 'S' dtype needs 1 to 2147483647 bytes per element"),
    (header(b"<U9999999999", 0), "a 'U' dtype needs 1 to 2147483647 bytes per element"),
    (header(b"int64", 1) + bytes(8), "dtype 'int64' is not one NumpyArrayCoder codes"),
    (header(b"<M8[1D]", 1) + bytes(8), "is not canonical (numpy writes it '<M8[D]')"),
    (header(b"<M8[fortnight]", 1) + bytes(8), "is not one NumpyArrayCoder codes"),
    (header(b"__import__('os').system('x')"), "numpy dtype: length 28 is outside 0..24"),
    (header(b"(2,)<i4", 1) + bytes(8), "dtype '(2,)<i4' is not one NumpyArrayCoder codes"),
    (header(b"{'names':[]}", 0), "is not one NumpyArrayCoder codes"),
    (header(b"<f\xc3\xa9", 1), "is not ASCII"),
    (varint64_bytes(2**40) + b"<f8", "numpy dtype: length 1099511627776 is outside 0..24"),
    (b"\x03<f", "numpy dtype: need 3 bytes but only 2 remain"),
    (b"", "truncated input: expected a varint"),
]


@pytest.mark.parametrize(("data", "fragment"), HOSTILE, ids=lambda x: x.hex()[:24] if isinstance(x, bytes) else "")
def test_hostile_headers_raise_decode_error_without_allocating(data, fragment):
    tracemalloc.start()
    try:
        with pytest.raises(DecodeError) as e:
            ARRAY.decode(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert fragment in str(e.value)
    assert peak < 1 << 20  # nothing near what the header claims


def test_hostile_object_array_counts_are_bounded_by_the_bytes():
    coder = NumpyArrayCoder(element_coder=StrUtf8Coder())
    with pytest.raises(DecodeError, match=r"1099511627776 elements cannot fit in the 1 bytes that remain"):
        coder.decode(header(b"|O", 2**40) + b"\x00")
    nones = NumpyArrayCoder(element_coder=coders.NoneCoder())
    assert nones.decode(header(b"|O", 3)).tolist() == [None, None, None]
    with pytest.raises(DecodeError, match="elements cannot fit"):
        nones.decode(header(b"|O", 2**21))


def test_the_dtype_allowlist_is_text_only():
    assert dtype_text_problem("<f8") is None and dtype_text_problem("<M8[25ns]") is None
    assert dtype_text_problem("|S3") is None and dtype_text_problem(">U1") is None
    for odd in ("f8", "<f8 ", "<f8\n", "=f8", "<c4", "<u16", "|O", "|V0", "<M8[]", "<M8[D", "<m4[s]", "S", "<U"):
        assert dtype_text_problem(odd) is not None, odd


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.binary(max_size=64))
def test_random_bytes_raise_only_decode_error(data):
    for coder in (ARRAY, NumpyArrayCoder(element_coder=VarIntCoder()), NumpyScalarCoder(np.datetime64)):
        for decode in (coder.decode, coder.decode_nested):
            try:
                decode(data)
            except DecodeError:
                pass


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=st.sampled_from(EDGE_ARRAYS), index=st.integers(0, 40), byte=st.integers(0, 255), cut=st.booleans())
def test_mutated_encodings_decode_or_raise_decode_error(value, index, byte, cut):
    data = bytearray(ARRAY.encode(value))
    if data:
        data[index % len(data)] = byte
    if cut:
        data = data[: index % (len(data) + 1)]
    try:
        back = ARRAY.decode(bytes(data))
    except DecodeError:
        return
    assert isinstance(back, np.ndarray)


# ---- arrays: generated values, determinism, pickling ------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_generated_arrays_round_trip(data):
    for coder in (ARRAY, NumpyArrayCoder(np.integer), NumpyArrayCoder(np.datetime64, zero_copy=True)):
        assert_roundtrip(coder, data.draw(strategy_for(coder)))
    objects = NumpyArrayCoder(element_coder=VarIntCoder())
    assert_roundtrip(objects, data.draw(strategy_for(objects)))


def test_arrays_are_not_deterministic_and_say_how_to_key():
    assert_non_deterministic(ARRAY, "unhashable")
    with pytest.raises(NonDeterministicCoderError, match=r"arr.tobytes\(\)"):
        ARRAY.as_deterministic_coder()


def test_array_coders_pickle_and_compare_by_parameters():
    assert_picklable(ARRAY, np.arange(3))
    assert_picklable(NumpyArrayCoder(np.float64, element_coder=StrUtf8Coder(), zero_copy=True), np.arange(2.0))
    assert NumpyArrayCoder(np.float64) == NumpyArrayCoder(np.float64) != NumpyArrayCoder()
    assert NumpyArrayCoder(zero_copy=True) != ARRAY
    assert repr(NumpyArrayCoder(np.float64, zero_copy=True)) == "NumpyArrayCoder[numpy.float64, zero_copy=True]"


def test_to_beam_carries_arrays_exactly():
    from coders.beam import to_beam

    value = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    beam_coder = to_beam(ARRAY)
    for back in (beam_coder.decode(beam_coder.encode(value)),):
        assert first_difference(value, back) is None


# ---- scalars ----------------------------------------------------------------------------------------------

SCALARS = [
    (np.int64, [np.int64(0), np.int64(-(2**63)), np.int64(2**63 - 1)]),
    (np.int8, [np.int8(-128), np.int8(127)]),
    (np.uint64, [np.uint64(2**64 - 1)]),
    (np.int32, [np.int32(-7)]),
    (np.bool_, [np.True_, np.False_]),
    (np.float64, [np.float64(-0.0), np.float64("inf"), nan_with_payload(0x7FF8000000000123), np.float64(5e-324)]),
    (np.float32, [np.float32(1.5), np.float32(-0.0), np.float32("nan")]),
    (np.float16, [np.float16(65504), np.float16(-0.0)]),
    (np.complex128, [np.complex128(1 - 2j), np.complex128(complex(-0.0, np.nan))]),
    (np.complex64, [np.complex64(3j)]),
    (
        np.datetime64,
        [np.datetime64("2020-01-01"), np.datetime64("NaT"), np.datetime64(5, "25ns"), np.datetime64(1, "Y")],
    ),
    (np.timedelta64, [np.timedelta64(90, "s"), np.timedelta64("NaT"), np.timedelta64(-3, "W")]),
    (np.longlong, [np.longlong(5)]),
]


@pytest.mark.parametrize(("scalar_type", "values"), SCALARS, ids=lambda x: getattr(x, "__name__", ""))
def test_scalars_round_trip_as_their_numpy_type(scalar_type, values):
    coder = NumpyScalarCoder(scalar_type)
    assert_roundtrip(coder, *values)
    for value in values:
        back = coder.decode(coder.encode(value))
        assert type(back) is scalar_type and back.tobytes() == value.tobytes()
        if scalar_type in (np.datetime64, np.timedelta64):
            assert np.datetime_data(back.dtype) == np.datetime_data(value.dtype)


def test_scalar_bytes_are_big_endian_values():
    assert_encodes_to(NumpyScalarCoder(np.int32), np.int32(-7), bytes.fromhex("ff ff ff f9"))
    assert_encodes_to(NumpyScalarCoder(np.uint16), np.uint16(258), bytes.fromhex("01 02"), nested=True)
    assert_encodes_to(
        NumpyScalarCoder(np.complex128), np.complex128(1 + 2j), bytes.fromhex("3ff0" + "00" * 6 + "4000" + "00" * 6)
    )
    value = np.float64(0.1)
    assert NumpyScalarCoder(np.float64).encode(value) == FloatCoder().encode(float(value))
    assert_encodes_to(
        NumpyScalarCoder(np.datetime64), np.datetime64(5, "25ns"), bytes.fromhex("04 32 35 6e 73") + bytes(7) + b"\x05"
    )
    assert_encodes_to(NumpyScalarCoder(np.datetime64), np.datetime64("NaT"), bytes.fromhex("00 80") + bytes(7))


def test_scalars_of_another_type_are_refused():
    coder = NumpyScalarCoder(np.int64)
    with pytest.raises(EncodeError, match=r"expected numpy.int64, got int 3.*Fix: pass numpy.int64\(x\)"):
        coder.encode(3)
    with pytest.raises(EncodeError, match="expected numpy.int64, got int32"):
        coder.encode(np.int32(3))
    for unsupported in (np.str_, np.void, np.object_, np.longdouble, int):
        with pytest.raises(TypeError, match="NumpyScalarCoder"):
            NumpyScalarCoder(unsupported)


def test_integer_and_bool_scalars_are_deterministic():
    assert_deterministic(NumpyScalarCoder(np.int64), np.int64(3), np.int64(-1))
    assert_deterministic(NumpyScalarCoder(np.uint8), np.uint8(255))
    assert_deterministic(NumpyScalarCoder(np.bool_), np.True_)
    assert NumpyScalarCoder(np.int64).as_deterministic_coder() == NumpyScalarCoder(np.int64)


@pytest.mark.parametrize("scalar_type", [np.float64, np.float32, np.float16, np.complex64])
def test_float_scalars_get_the_canonical_variant(scalar_type):
    plain = NumpyScalarCoder(scalar_type)
    assert_non_deterministic(plain, "-0.0 == 0.0")
    canonical = plain.as_deterministic_coder()
    assert canonical == NumpyScalarCoder(scalar_type, canonical=True)
    assert canonical.is_deterministic() and canonical.as_deterministic_coder() is canonical
    assert canonical.encode(scalar_type(-0.0)) == canonical.encode(scalar_type(0.0)) == bytes(plain.fixed_width)
    quiet = canonical.encode(scalar_type("nan"))
    payload = np.frombuffer(np.float64(np.nan).tobytes()[:-1] + b"\xff", "<f8")[0]  # a NaN with the sign set
    assert canonical.encode(scalar_type(payload)) == quiet
    assert canonical.decode(canonical.encode(scalar_type(2.5))) == scalar_type(2.5)


def test_canonical_nans_are_those_of_canonical_float_coder():
    assert NumpyScalarCoder(np.float64, canonical=True).encode(np.float64("nan")) == bytes.fromhex("7ff8000000000000")
    assert NumpyScalarCoder(np.float32, canonical=True).encode(np.float32("nan")) == bytes.fromhex("7fc00000")
    assert NumpyScalarCoder(np.float16, canonical=True).encode(np.float16("nan")) == bytes.fromhex("7e00")
    assert NumpyScalarCoder(np.complex64, canonical=True).encode(np.complex64(complex(np.nan, -0.0))) == bytes.fromhex(
        "7fc00000 00000000"
    )


def test_datetime_scalars_are_not_deterministic_and_have_no_variant():
    coder = NumpyScalarCoder(np.datetime64)
    assert_non_deterministic(coder, "different units")
    with pytest.raises(NonDeterministicCoderError, match=r"astype\('datetime64\[s\]'\)"):
        coder.as_deterministic_coder()


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"\x05hours" + bytes(8), "unit 'hours' is not a known unit"),
        (b"\x02[D" + bytes(8), "unit '[D' is not a known unit"),
        (b"\x01D" + bytes(7), "needs 8 bytes but 7 remain"),
        (b"\x02" + "é".encode() + bytes(8), "is not ASCII"),
        (b"\x01s" + bytes(9), "trailing data: 1 byte(s) left"),
    ],
)
def test_hostile_datetime_scalar_bytes_raise_decode_error(data, fragment):
    with pytest.raises(DecodeError, match=fragment.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        NumpyScalarCoder(np.datetime64).decode(data)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_generated_scalars_round_trip(data):
    for scalar_type, _ in SCALARS:
        plain = NumpyScalarCoder(scalar_type)
        for coder in [plain] + ([plain.as_deterministic_coder()] if plain.kind in "fc" else []):
            assert_roundtrip(coder, data.draw(strategy_for(coder)))


def test_scalar_coders_pickle():
    assert_picklable(NumpyScalarCoder(np.int64), np.int64(3))
    assert_picklable(NumpyScalarCoder(np.float32, canonical=True), np.float32(1.5))
    assert_picklable(NumpyScalarCoder(np.datetime64), np.datetime64("2020-01-01"))


# ---- registry ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Frame:
    name: str
    pixels: npt.NDArray[np.uint8]
    weights: np.ndarray
    count: np.int64
    score: np.float32


def test_registry_rules_give_the_numpy_coders():
    registry = CoderRegistry(strict=True)
    assert registry.get_coder(np.ndarray) == NumpyArrayCoder()
    assert registry.get_coder(npt.NDArray[np.float64]) == NumpyArrayCoder(np.float64)
    assert registry.get_coder(npt.NDArray[Any]) == NumpyArrayCoder()
    assert registry.get_coder(np.ndarray[tuple[int], np.dtype[np.int8]]) == NumpyArrayCoder(np.int8)
    assert registry.get_coder(np.int64) == NumpyScalarCoder(np.int64)
    assert registry.get_coder(np.bool_) == NumpyScalarCoder(np.bool_)
    assert registry.get_coder(np.datetime64) == NumpyScalarCoder(np.datetime64)
    for abstract in (np.integer, np.floating, np.generic, np.str_):
        with pytest.raises(coders.CoderNotFoundError):
            registry.get_coder(abstract)


def test_records_carrying_arrays_and_scalars_round_trip():
    coder = CoderRegistry(strict=True).get_coder(Frame)
    value = Frame(
        "a", np.arange(6, dtype=np.uint8).reshape(2, 3), np.asfortranarray(np.eye(2)), np.int64(7), np.float32(0.5)
    )
    back = coder.decode(coder.encode(value))
    assert first_difference(value, back) is None
    with pytest.raises(EncodeError, match=r"numpy.uint8 elements \(its hint\)") as e:
        coder.encode(dataclasses.replace(value, pixels=np.zeros(2)))
    assert "pixels" in str(e.value)


def test_numpy_integer_keys_get_a_deterministic_coder_of_the_same_type():
    from coders.beam.gbk import resolve_key_coder

    assert resolve_key_coder(np.int64, "G") == NumpyScalarCoder(np.int64)
    assert resolve_key_coder(tuple[np.int32, str], "G").decode(
        resolve_key_coder(tuple[np.int32, str], "G").encode((np.int32(3), "a"))
    ) == (np.int32(3), "a")
    assert resolve_key_coder(np.float64, "G") == NumpyScalarCoder(np.float64, canonical=True)


def test_the_rules_stay_silent_and_coders_never_import_numpy_until_the_user_does():
    script = (
        "import sys, coders, coders.arrays, coders.typecoders\n"
        "from coders.arrays import numpy_array_rule, numpy_scalar_rule\n"
        "assert numpy_array_rule(list, None, None) is None and numpy_scalar_rule(int, None, None) is None\n"
        "coders.get_coder(int); coders.NumpyArrayCoder(); coders.NumpyArrayCoder().to_type_hint()\n"
        "print('numpy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
