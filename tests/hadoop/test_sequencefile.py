"""SequenceFile writer + reader in pure Python: round trips in every mode, splits, positions, corruption."""

from __future__ import annotations

import io
import os
import struct

import pytest

import coders
from coders.hadoop import (
    CODECS, BytesWritableCoder, NullWritableCoder, SequenceFileReader, SequenceFileWriter,
    list_part_files, read_sequence_file,
)

MODES = [("none", None)] + [(c, n) for c in ("record", "block") for n in CODECS]
SYNC = bytes(range(16))


def records(n):
    return [(f"key-{i}", i * 1_000_003 - 7) for i in range(n)]


def write(path, recs, compression="none", codec=None, **kw):
    with SequenceFileWriter(path, "Text", "LongWritable", compression=compression, codec=codec, **kw) as w:
        for k, v in recs:
            w.append(k, v)
    return path


@pytest.mark.parametrize("compression,codec", MODES)
def test_round_trip_every_mode_and_codec(tmp_path, compression, codec):
    recs = records(3000)
    path = write(tmp_path / "f.seq", recs, compression, codec, metadata={"b": "2", "a": "é"},
                 block_size=20_000)
    with SequenceFileReader(path) as r:
        assert list(r) == recs
        assert (r.key_class, r.value_class) == ("org.apache.hadoop.io.Text", "org.apache.hadoop.io.LongWritable")
        assert r.compression == compression
        assert r.codec == codec
        assert r.metadata == {"a": "é", "b": "2"}
        assert len(r.sync) == 16
        assert r.count_records() == 3000


def test_header_bytes_exactly(tmp_path):
    path = write(tmp_path / "h.seq", [], "block", "snappy", metadata={"k": "v"}, sync=SYNC)
    data = open(path, "rb").read()
    expected = (b"SEQ\x06" + b"\x19org.apache.hadoop.io.Text" + b"\x21org.apache.hadoop.io.LongWritable"
                + b"\x01\x01" + b"\x29org.apache.hadoop.io.compress.SnappyCodec"
                + b"\x00\x00\x00\x01\x01k\x01v" + SYNC)
    assert data == expected


def test_uncompressed_record_bytes_exactly(tmp_path):
    path = write(tmp_path / "r.seq", [("a", 1)], sync=SYNC)
    data = open(path, "rb").read()
    body = data[len(data) - 18:]
    # record length 10 (key 2 + value 8), key length 2, Text "a", LongWritable 1
    assert body == struct.pack(">ii", 10, 2) + b"\x01a" + (1).to_bytes(8, "big")


def test_reads_directory_in_part_order_skipping_markers(tmp_path):
    d = tmp_path / "out"
    d.mkdir()
    write(d / "part-00010", [("c", 3)])
    write(d / "part-00002", [("b", 2)])
    write(d / "part-00001", [("a", 1)])
    (d / "_SUCCESS").write_bytes(b"")
    (d / "_metadata").write_bytes(b"junk")
    (d / ".part-00001.crc").write_bytes(b"junk")
    assert [os.path.basename(p) for p in list_part_files(d)] == ["part-00001", "part-00002", "part-00010"]
    assert list(read_sequence_file(d)) == [("a", 1), ("b", 2), ("c", 3)]
