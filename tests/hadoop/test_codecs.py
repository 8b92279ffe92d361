"""Hadoop codecs: bytes identical to Hadoop 3.5's for small inputs, round trips, corrupt data -> DecodeError."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coders import DecodeError
from coders.hadoop import CODECS, codec_by_name

HELLO = b"hello hello hello hello"
# CompressionCodec.createOutputStream(...).write(HELLO); finish() in Hadoop 3.5 (Spark 4's jars)
HADOOP_BYTES = {
    ("default", b""): "789c030000000001",
    ("default", HELLO): "789ccb48cdc9c957c8402701680308b1",
    ("gzip", b""): "1f8b080000000000000003000000000000000000",
    ("gzip", HELLO): "1f8b0800000000000000cb48cdc9c957c8402701e3513d8d17000000",
    ("bzip2", b""): "425a683917724538509000000000",
    ("bzip2", HELLO): "425a683931415926535902f8b0bd000003910040000244a00030cd00548696719b38a3c5dc914e142400be2c2f40",
    ("snappy", b""): "00000000",
    ("snappy", HELLO): "000000170000000b171468656c6c6f20420600",
    ("lz4", b""): "00000000",
    ("lz4", HELLO): "000000170000000f6868656c6c6f2006005068656c6c6f",
}


@pytest.mark.parametrize("name,data", sorted(HADOOP_BYTES), ids=lambda x: x if isinstance(x, str) else len(x))
def test_same_bytes_as_hadoop(name, data):
    expected = bytes.fromhex(HADOOP_BYTES[name, data])
    assert codec_by_name(name).compress(data) == expected
    assert codec_by_name(name).decompress(expected) == data


@pytest.mark.parametrize("name", sorted(CODECS))
def test_round_trip_large_and_empty(name):
    codec = codec_by_name(name)
    for data in (b"", HELLO, os.urandom(300_000) + b"z" * 500_000):
        assert codec.decompress(codec.compress(data)) == data


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(CODECS)), st.binary(max_size=2000))
def test_round_trip_property(name, data):
    codec = codec_by_name(name)
    assert codec.decompress(codec.compress(data)) == data


def test_block_framing_of_a_write_larger_than_the_codec_limit():
    snappy = codec_by_name("snappy")
    data = b"abc" * 100_000  # 300,000 bytes > 218,422, SnappyCodec's input limit
    out = snappy.compress(data)
    assert out[:4] == (300_000).to_bytes(4, "big")
    assert out[-4:] == b"\x00\x00\x00\x00"  # Hadoop's finish() ends such a stream with an empty frame
    assert snappy.decompress(out) == data


@pytest.mark.parametrize("name", sorted(CODECS))
def test_corrupt_and_truncated_data_raise_decode_error(name):
    codec = codec_by_name(name)
    good = codec.compress(HELLO * 20)
    with pytest.raises(DecodeError, match=name):
        codec.decompress(good[: len(good) // 2])
    with pytest.raises(DecodeError, match=name):
        codec.decompress(b"")
    corrupt = bytearray(good)
    for i in range(len(corrupt) // 2, len(corrupt)):
        corrupt[i] ^= 0x5A
    try:
        result = codec.decompress(bytes(corrupt))
    except DecodeError as e:
        assert name in str(e)
    else:  # a codec without a checksum may decode garbage, but never silently the original
        assert result != HELLO * 20


@pytest.mark.parametrize(
    "bad,message",
    [
        ("0000000500000003000102", r"snappy codec: corrupt snappy block|more than the 5 bytes"),
        ("00000005", "promises 5 bytes but the compressed data ends"),
        ("00000005000000ff00", "runs past the end"),
        ("0000000000", "after the empty end frame"),
        ("000000", "truncated block length"),
    ],
)
def test_snappy_framing_errors(bad, message):
    with pytest.raises(DecodeError, match=message):
        codec_by_name("snappy").decompress(bytes.fromhex(bad))


def test_trailing_garbage_after_zlib_stream():
    codec = codec_by_name("default")
    with pytest.raises(DecodeError, match="after the end of the zlib stream"):
        codec.decompress(codec.compress(b"x") + b"junk")


def test_unknown_codec_lists_choices():
    with pytest.raises(ValueError, match="unknown codec 'brotli'; choose one of default, deflate, gzip"):
        codec_by_name("brotli")
    assert codec_by_name("org.apache.hadoop.io.compress.Lz4Codec").name == "lz4"
