"""SequenceFile writer + reader in pure Python: round trips in every mode, splits, positions, corruption."""

from __future__ import annotations

import inspect
import io
import itertools
import os
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import coders
from coders.hadoop import (
    CODECS,
    READ_BUFFER_SIZE,
    BytesWritableCoder,
    NullWritableCoder,
    SequenceFileReader,
    SequenceFileWriter,
    TextCoder,
    list_part_files,
    read_sequence_file,
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
    path = write(tmp_path / "f.seq", recs, compression, codec, metadata={"b": "2", "a": "é"}, block_size=20_000)
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
    expected = (
        b"SEQ\x06"
        + b"\x19org.apache.hadoop.io.Text"
        + b"\x21org.apache.hadoop.io.LongWritable"
        + b"\x01\x01"
        + b"\x29org.apache.hadoop.io.compress.SnappyCodec"
        + b"\x00\x00\x00\x01\x01k\x01v"
        + SYNC
    )
    assert data == expected


def test_uncompressed_record_bytes_exactly(tmp_path):
    path = write(tmp_path / "r.seq", [("a", 1)], sync=SYNC)
    data = open(path, "rb").read()
    body = data[len(data) - 18 :]
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
    (d / "_temporary").mkdir()
    assert len(list_part_files(d)) == 3
    (d / "year=2024").mkdir()
    with pytest.raises(IsADirectoryError, match="year=2024' is a directory inside the SequenceFile directory"):
        list_part_files(d)
    with pytest.raises(FileNotFoundError, match="no such file or directory"):
        list_part_files(tmp_path / "missing")


def test_read_sequence_file_states_the_readers_keyword_parameters():
    params = inspect.signature(read_sequence_file).parameters
    reader = inspect.signature(SequenceFileReader).parameters
    assert list(params) == ["path", "start", "end", "raw", "key_coder", "value_coder", "registry", "buffer_size"]
    assert list(params) == list(reader)
    for name in list(params)[1:]:
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY, name
        assert (params[name].default, params[name].annotation) == (reader[name].default, reader[name].annotation)
    assert params["buffer_size"].default == READ_BUFFER_SIZE == 256 * 1024
    # what help() and signature-based tools show
    assert str(inspect.signature(read_sequence_file)) == (
        "(path, *, start: 'int' = 0, end: 'int | None' = None, raw: 'bool' = False, "
        "key_coder: 'Coder | None' = None, value_coder: 'Coder | None' = None, "
        "registry: 'WritableRegistry | None' = None, buffer_size: 'int' = 262144) -> 'Iterator[tuple[Any, Any]]'"
    )


def test_read_sequence_file_passes_each_option_to_every_part(tmp_path):
    d = tmp_path / "out"
    d.mkdir()
    write(d / "part-00000", [("a", 1)])
    write(d / "part-00001", [("b", 2)])
    assert list(read_sequence_file(d, raw=True)) == [
        (b"\x01a", (1).to_bytes(8, "big")),
        (b"\x01b", (2).to_bytes(8, "big")),
    ]
    assert list(read_sequence_file(d, end=1)) == []  # each file's first record is past byte 1
    assert list(read_sequence_file(d, buffer_size=3)) == [("a", 1), ("b", 2)]
    with pytest.raises(TypeError, match="unexpected keyword argument 'compression'"):
        list(read_sequence_file(d, compression="block"))


# ---- positions, sync entries and splits ----------------------------------------------------------


def small_sync_file(path, compression="none", codec=None, n=2000):
    recs = [(f"k{i}-" + "v" * (i % 50), i) for i in range(n)]
    with SequenceFileWriter(
        path,
        "Text",
        "LongWritable",
        compression=compression,
        codec=codec,
        sync_interval=1000,
        block_size=3000,
        sync=SYNC,
    ) as w:
        for k, v in recs:
            w.append(k, v)
    return recs


@pytest.mark.parametrize("compression,codec", [("none", None), ("record", "snappy"), ("block", "default")])
def test_positions_point_at_sync_entries_or_record_headers(tmp_path, compression, codec):
    path = tmp_path / "p.seq"
    recs = small_sync_file(path, compression, codec)
    data = open(path, "rb").read()
    with SequenceFileReader(path) as r:
        syncs = r.sync_offsets()
        got = list(r.positioned_records())
        assert [(x.key, x.value) for x in got] == recs
        positions = [x.position for x in got]
        assert positions == sorted(positions) and positions[0] == r.header_end
        # split points: the first record (after the header's sync marker) and every record after a sync entry
        assert [x.position for x in got if x.at_sync] == sorted({r.header_end, *syncs})
        assert got[0].at_sync
        assert len(syncs) > 5
        for x in got:
            field = struct.unpack(">i", data[x.position : x.position + 4])[0]
            if x.at_sync and x.position != r.header_end:
                assert data[x.position : x.position + 20] == b"\xff\xff\xff\xff" + SYNC
            elif compression != "block":
                assert field >= 0  # a record length
        assert list(r.records_with_positions())[:3] == [(x.position, x.key, x.value) for x in got[:3]]


@pytest.mark.parametrize("compression,codec", [("none", None), ("record", "gzip"), ("block", "lz4")])
def test_splits_that_tile_the_file_read_every_record_once(tmp_path, compression, codec):
    import random

    path = tmp_path / "s.seq"
    recs = small_sync_file(path, compression, codec)
    size = os.path.getsize(path)
    rng = random.Random(3)
    for _ in range(15):
        cuts = sorted({0, size, *(rng.randrange(size) for _ in range(rng.randrange(1, 12)))})
        got = []
        for a, b in itertools.pairwise(cuts):
            with SequenceFileReader(path, start=a, end=b) as r:
                got += list(r)
        assert got == recs, cuts
    # a split boundary exactly on a sync entry: that record belongs to the next split
    with SequenceFileReader(path) as r:
        s = r.sync_offsets()[2]
        first = list(r.records_with_positions(0, s))
        second = list(r.records_with_positions(s, size))
    assert first[-1][0] < s and second[0][0] == s
    assert [(k, v) for _, k, v in first + second] == recs
    # a boundary inside the header: the first record belongs to the range that holds header_end, once
    # (Hadoop's own record reader would read it in both ranges)
    with SequenceFileReader(path) as r:
        inside = r.header_end // 2
        assert list(r.records_with_positions(0, inside)) == []
        assert [(k, v) for _, k, v in r.records_with_positions(inside, size)] == recs
        assert [(k, v) for _, k, v in r.records_with_positions(0, r.header_end)] == []
        assert next(iter(r.records_with_positions(r.header_end, r.header_end + 1)))[0] == r.header_end


def test_seek_to_sync(tmp_path):
    path = tmp_path / "s.seq"
    small_sync_file(path)
    with SequenceFileReader(path) as r:
        syncs = r.sync_offsets()
        assert r.seek_to_sync(0) == r.header_end
        assert r.seek_to_sync(r.header_end) == syncs[0]  # Hadoop's Reader.sync: at the header end, scan on
        for s in syncs:
            assert r.seek_to_sync(s) == s
            assert r.seek_to_sync(s - 1) == s
        assert r.seek_to_sync(syncs[-1] + 1) == r.size
        assert r.seek_to_sync(r.size + 100) == r.size


def file_with_known_syncs(path, n=150, sync_interval=300):
    """An uncompressed file whose sync gaps (about 320 bytes) exceed the small read windows below, and the
    offsets of its sync entries as the writer put them: an append that grew the file by more than its
    record wrote a sync entry first, at the position before the append."""
    syncs = []
    with SequenceFileWriter(path, "Text", "LongWritable", sync_interval=sync_interval, sync=SYNC) as w:
        for i in range(n):
            key = f"key-{i}"
            before = w.position
            w.append(key, i)
            record = 4 + 4 + len(TextCoder().encode(key)) + 8
            grew = w.position - before
            assert grew in (record, record + 20)
            if grew > record:
                syncs.append(before)
    return syncs


# windows smaller than a sync entry, exactly one, one more, and up to just under the gap between entries
SMALL_BUFFERS = [1, 7, 19, 20, 21, 33, 64, 100, 299]


@pytest.mark.parametrize("buffer_size", SMALL_BUFFERS)
def test_seek_to_sync_finds_entries_across_read_window_edges(tmp_path, buffer_size):
    path = tmp_path / "gaps.seq"
    syncs = file_with_known_syncs(path)
    size = os.path.getsize(path)
    assert len(syncs) >= 8 and min(b - a for a, b in itertools.pairwise(syncs)) > max(SMALL_BUFFERS)
    with SequenceFileReader(path, buffer_size=buffer_size) as r:
        assert r.sync_offsets() == syncs
        for offset in range(r.header_end, size + 2):
            # from every offset, so that each entry lies across a window edge for some starting points
            want = next((s for s in syncs if s >= offset), size)
            assert r.seek_to_sync(offset) == want, offset
        assert r.seek_to_sync(r.header_end - 1) == r.header_end


@pytest.mark.parametrize("buffer_size", [1, 20, 21, 64])
def test_splits_read_with_small_windows_read_every_record_once(tmp_path, buffer_size):
    path = tmp_path / "gaps.seq"
    syncs = file_with_known_syncs(path)
    want = [(f"key-{i}", i) for i in range(150)]
    size = os.path.getsize(path)
    with SequenceFileReader(path, buffer_size=buffer_size) as r:
        for step in (37, 320, 1000):
            got = []
            for a in range(0, size, step):
                got += [(k, v) for _, k, v in r.records_with_positions(a, a + step)]
            assert got == want, step
        # a range starting just past a sync entry begins at the next one
        assert next(r.records_with_positions(syncs[2] + 1, size))[0] == syncs[3]


def test_sync_entries_every_sync_interval_like_hadoop(tmp_path):
    path = tmp_path / "d.seq"
    recs = [(f"key{i}", i) for i in range(20_000)]
    write(path, recs)  # default SYNC_INTERVAL = 102,400
    with SequenceFileReader(path) as r:
        syncs = r.sync_offsets()
    # Hadoop writes a sync before the first record at or beyond lastSync + 102,400 (see test_spark.py)
    assert len(syncs) == os.path.getsize(path) // 102_400
    gaps = [b - a for a, b in itertools.pairwise(syncs)]
    assert all(102_400 + 20 <= g < 102_400 + 20 + 30 for g in gaps)


# ---- bounded memory ------------------------------------------------------------------------------


class CountingFile(io.RawIOBase):
    """A file that records how much each read asks for."""

    def __init__(self, path):
        self.f = open(path, "rb")
        self.sizes = []

    def readable(self):
        return True

    def seekable(self):
        return True

    def read(self, n=-1):
        self.sizes.append(n)
        assert n != -1, "the reader asked for the whole file"
        return self.f.read(n)

    def seek(self, offset, whence=0):
        return self.f.seek(offset, whence)

    def tell(self):
        return self.f.tell()

    def close(self):
        self.f.close()


@pytest.mark.parametrize("compression,codec", [("none", None), ("block", "snappy")])
def test_reader_never_reads_the_whole_file(tmp_path, compression, codec):
    path = tmp_path / "big.seq"
    values = [os.urandom(3000) for _ in range(4000)]  # incompressible: the file stays ~12 MB
    with SequenceFileWriter(
        path, "LongWritable", "BytesWritable", compression=compression, codec=codec, block_size=100_000
    ) as w:
        for i, value in enumerate(values):
            w.append(i, value)
    size = os.path.getsize(path)
    f = CountingFile(path)
    with SequenceFileReader(f, buffer_size=64 * 1024) as r:
        n = 0
        for k, v in r:
            assert v == values[n] and k == n
            n += 1
    assert n == 4000
    assert max(f.sizes) <= 256 * 1024 < size // 20
    # and reading the first records touches only the start of the file
    f2 = CountingFile(path)
    with SequenceFileReader(f2, buffer_size=64 * 1024) as r:
        it = iter(r)
        for _ in range(10):
            next(it)
    assert sum(f2.sizes) <= 512 * 1024


# ---- corrupt input --------------------------------------------------------------------------------


def corrupt(path, offset, new_bytes):
    data = bytearray(open(path, "rb").read())
    data[offset : offset + len(new_bytes)] = new_bytes
    open(path, "wb").write(bytes(data))


def read_all(path):
    with SequenceFileReader(path) as r:
        return list(r)


def test_bad_magic_and_version(tmp_path):
    p = tmp_path / "x.seq"
    p.write_bytes(b"PAR1" + b"\x00" * 40)
    with pytest.raises(
        coders.DecodeError, match=r"x\.seq: not a SequenceFile: starts with b'PAR', expected b'SEQ', at byte offset 0"
    ):
        read_all(p)
    write(p, records(3))
    corrupt(p, 3, b"\x05")
    with pytest.raises(coders.DecodeError, match=r"unsupported SequenceFile version 5.*at byte offset 3"):
        read_all(p)
    p.write_bytes(b"SE")
    with pytest.raises(coders.DecodeError, match="not a SequenceFile: only 2 bytes"):
        read_all(p)


def test_unknown_codec_class(tmp_path):
    p = tmp_path / "c.seq"
    write(p, records(3), "record", "lz4")
    data = open(p, "rb").read().replace(b"compress.Lz4Codec", b"compress.XyzCodec")
    p.write_bytes(data)
    with pytest.raises(
        coders.DecodeError, match=r"unsupported compression codec 'org\.apache\.hadoop\.io\.compress\.XyzCodec'"
    ):
        read_all(p)


@pytest.mark.parametrize("compression,codec", [("none", None), ("record", "default"), ("block", "gzip")])
def test_every_truncation_is_an_error_or_a_clean_record_boundary(tmp_path, compression, codec):
    full = tmp_path / "full.seq"
    recs = small_sync_file(full, compression, codec, n=60)
    data = open(full, "rb").read()
    with SequenceFileReader(full) as r:
        header_end = r.header_end
        boundaries = {x.position for x in r.positioned_records()}
    boundaries.add(len(data))
    for n in range(len(data)):
        try:
            with SequenceFileReader(io.BytesIO(data[:n])) as r:
                got = list(r)
        except coders.DecodeError as e:
            assert e.offset is not None and 0 <= e.offset <= n
            continue
        # only a cut exactly between records (or sync entries) reads cleanly: a prefix of the records
        assert n >= header_end and got == recs[: len(got)], n
        assert n in boundaries or n - 20 in boundaries or n == header_end, n


def test_length_beyond_end_of_file(tmp_path):
    p = tmp_path / "l.seq"
    write(p, records(5), sync=SYNC)
    with SequenceFileReader(p) as r:
        first = r.header_end
    corrupt(p, first, struct.pack(">i", 10_000))
    with pytest.raises(
        coders.DecodeError, match=rf"l\.seq: record length 10000 runs past the end of the file.*at byte offset {first}"
    ):
        read_all(p)
    corrupt(p, first, struct.pack(">ii", 5, 9))
    with pytest.raises(coders.DecodeError, match="corrupt record header: record length 5, key length 9"):
        read_all(p)


CORRUPT_SYNC_MODES = [("none", None), ("record", "snappy"), ("block", "default")]


def corrupt_third_sync(path, compression, codec):
    """A file of every mode whose third sync entry has one wrong marker byte; returns its sync offsets."""
    small_sync_file(path, compression, codec)
    with SequenceFileReader(path) as r:
        syncs = r.sync_offsets()
    assert len(syncs) >= 5
    corrupt(path, syncs[2] + 10, b"\xee")  # marker byte 6 (0x06 in SYNC)
    return syncs


def mismatch_message(path, sync_at):
    return (
        f"{path}: sync marker mismatch: found 000102030405ee0708090a0b0c0d0e0f, the header's is "
        f"000102030405060708090a0b0c0d0e0f (the file is corrupt), at byte offset {sync_at + 4}"
    )


@pytest.mark.parametrize("compression,codec", CORRUPT_SYNC_MODES)
def test_sync_marker_mismatch_in_every_mode_when_reading_and_skimming(tmp_path, compression, codec):
    p = tmp_path / f"{compression}.seq"
    syncs = corrupt_third_sync(p, compression, codec)
    for read in (list, SequenceFileReader.sync_offsets, SequenceFileReader.count_records):  # decode, skim, skim
        with SequenceFileReader(p) as r, pytest.raises(coders.DecodeError) as info:
            read(r)
        assert str(info.value) == mismatch_message(p, syncs[2])
        assert info.value.offset == syncs[2] + 4


@pytest.mark.parametrize("compression,codec", CORRUPT_SYNC_MODES)
def test_sync_marker_mismatch_after_a_seek(tmp_path, compression, codec):
    p = tmp_path / f"{compression}.seq"
    syncs = corrupt_third_sync(p, compression, codec)
    size = os.path.getsize(p)
    with SequenceFileReader(p) as r:
        # the split before the bad entry reaches it and says so
        with pytest.raises(coders.DecodeError) as info:
            list(r.records_with_positions(syncs[1], syncs[2]))
        assert str(info.value) == mismatch_message(p, syncs[2])
        # seeking never takes a wrong marker for a sync entry: from the bad one it goes on to the next
        assert r.seek_to_sync(syncs[2]) == syncs[3]
        assert next(r.records_with_positions(syncs[2], size))[0] == syncs[3]
        # and a seek that lands before the bad entry reads up to it, then fails there
        with pytest.raises(coders.DecodeError) as info:
            list(r.records_with_positions(syncs[0] + 1, size))
        assert str(info.value) == mismatch_message(p, syncs[2])


def test_block_sync_mismatch_and_length_mismatch(tmp_path):
    p = tmp_path / "b.seq"
    small_sync_file(p, "block", "default")
    with SequenceFileReader(p) as r:
        first = r.sync_offsets()[0]
    corrupt(p, first, b"\x00\x00\x00\x05")
    with pytest.raises(
        coders.DecodeError, match=rf"expected a sync entry \(-1\) before a block, found 5.*offset {first}"
    ):
        read_all(p)


def test_codec_failure_names_file_and_offset(tmp_path):
    p = tmp_path / "z.seq"
    write(p, [("a", 1), ("b", 2)], "record", "default", sync=SYNC)
    with SequenceFileReader(p) as r:
        first = r.header_end
    corrupt(p, first + 8 + 2 + 2, b"\xff\xff\xff")  # inside the first compressed value
    with pytest.raises(
        coders.DecodeError,
        match=rf"z\.seq: cannot decompress the value of the record at byte offset {first}: default codec",
    ):
        read_all(p)


def test_undecodable_value_names_the_class_and_record(tmp_path):
    p = tmp_path / "u.seq"
    with SequenceFileWriter(p, "Text", "BooleanWritable", sync=SYNC) as w:
        w.append("a", True)
    with SequenceFileReader(p) as r:
        first = r.header_end
    corrupt(p, first + 10, b"\x07")
    with pytest.raises(
        coders.DecodeError,
        match=rf"cannot decode the value \(org\.apache\.hadoop\.io\.BooleanWritable\) of the record at byte offset "
        rf"{first}: BooleanWritable byte is 0x07",
    ):
        read_all(p)


@pytest.mark.parametrize(
    "compression,codec", [("none", None), ("record", "lz4"), ("block", "snappy"), ("block", "bzip2")]
)
def test_random_corruption_never_escapes_as_another_error(tmp_path, compression, codec):
    import random

    full = tmp_path / "f.seq"
    small_sync_file(full, compression, codec, n=300)
    data = open(full, "rb").read()
    rng = random.Random(compression + str(codec))
    p = tmp_path / "g.seq"
    for _ in range(60):
        damaged = bytearray(data)
        for _ in range(rng.randrange(1, 4)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        p.write_bytes(bytes(damaged))
        try:
            read_all(p)
        except (coders.DecodeError, coders.CoderNotFoundError):
            pass  # a damaged class name is an unknown class; anything else (IndexError, MemoryError ...) fails


# ---- the writer -------------------------------------------------------------------------------------


def test_exception_inside_with_leaves_no_file(tmp_path):
    p = tmp_path / "w.seq"
    with pytest.raises(RuntimeError), SequenceFileWriter(p, "Text", "LongWritable") as w:
        w.append("a", 1)
        raise RuntimeError("boom")
    assert os.listdir(tmp_path) == []


def test_failed_rewrite_keeps_the_old_file(tmp_path):
    p = tmp_path / "w.seq"
    write(p, [("old", 1)])
    with (
        pytest.raises(coders.EncodeError, match=r"at value\(value of record 1\): LongWritableCoder expected an int"),
        SequenceFileWriter(p, "Text", "LongWritable") as w,
    ):
        w.append("new", 1)
        w.append("bad", "not an int")
    assert read_all(p) == [("old", 1)]
    assert os.listdir(tmp_path) == ["w.seq"]


def test_temp_file_is_hidden_until_close(tmp_path):
    p = tmp_path / "w.seq"
    w = SequenceFileWriter(p, "Text", "LongWritable")
    w.append("a", 1)
    (tmp_name,) = os.listdir(tmp_path)
    assert tmp_name.startswith(".w.seq.") and list_part_files(tmp_path) == []
    w.close()
    assert os.listdir(tmp_path) == ["w.seq"]
    with pytest.raises(ValueError, match="is closed"):
        w.append("b", 2)


def test_writer_argument_errors(tmp_path):
    p = tmp_path / "w.seq"
    with pytest.raises(ValueError, match="compression must be one of none, record, block"):
        SequenceFileWriter(p, "Text", "Text", compression="fast")
    with pytest.raises(ValueError, match="codec='snappy' given with compression='none'"):
        SequenceFileWriter(p, "Text", "Text", codec="snappy")
    SequenceFileWriter(p, "Text", "Text", codec="default").abort()  # the documented default is harmless
    with pytest.raises(coders.CoderNotFoundError, match="com.example.Nope"):
        SequenceFileWriter(p, "Text", "com.example.Nope")
    with pytest.raises(TypeError, match="metadata keys and values must be str"):
        SequenceFileWriter(p, "Text", "Text", metadata={"a": 1})
    assert os.listdir(tmp_path) == []


def test_raw_append_and_raw_read(tmp_path):
    p = tmp_path / "r.seq"
    with SequenceFileWriter(p, NullWritableCoder(), BytesWritableCoder(), compression="block", codec="zstd") as w:
        w.append_raw(b"", b"\x00\x00\x00\x03abc")
        w.append(None, b"de")
    assert read_all(p) == [(None, b"abc"), (None, b"de")]
    with SequenceFileReader(p, raw=True) as r:
        assert list(r) == [(b"", b"\x00\x00\x00\x03abc"), (b"", b"\x00\x00\x00\x02de")]


def test_empty_files_in_every_mode(tmp_path):
    for compression, codec in MODES:
        p = tmp_path / f"e-{compression}-{codec}.seq"
        write(p, [], compression, codec)
        with SequenceFileReader(p) as r:
            assert list(r) == [] and r.sync_offsets() == [] and r.count_records() == 0
            assert r.size == r.header_end


def test_reads_from_an_open_file_object(tmp_path):
    p = write(tmp_path / "o.seq", records(50))
    with open(p, "rb") as f:
        assert list(SequenceFileReader(f)) == records(50)
    assert list(SequenceFileReader(io.BytesIO(open(p, "rb").read()))) == records(50)


# ---- the laws, as properties ------------------------------------------------------------------------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    recs=st.lists(st.tuples(st.text(max_size=40), st.binary(max_size=300)), max_size=120),
    mode=st.sampled_from(MODES),
    sync_interval=st.integers(50, 3000),
    block_size=st.integers(1, 4000),
    cuts=st.lists(st.floats(0, 1), max_size=6),
)
def test_any_records_any_mode_any_tiling_read_back_exactly(recs, mode, sync_interval, block_size, cuts):
    import tempfile

    compression, codec = mode
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "p.seq")
        with SequenceFileWriter(
            path,
            "Text",
            "BytesWritable",
            compression=compression,
            codec=codec,
            sync_interval=sync_interval,
            block_size=block_size,
        ) as w:
            for k, v in recs:
                w.append(k, v)
        size = os.path.getsize(path)
        bounds = sorted({0, size, *(int(c * size) for c in cuts)})
        got = []
        with SequenceFileReader(path) as r:
            assert list(r) == recs
            assert r.count_records() == len(recs)
            for a, b in itertools.pairwise(bounds):
                got += [(k, v) for _, k, v in r.records_with_positions(a, b)]
        assert got == recs


def test_a_crashed_writer_never_leaves_a_file_under_the_final_name(tmp_path):
    import subprocess
    import sys

    final = tmp_path / "crash.seq"
    script = (
        "import os, sys\n"
        "from coders.hadoop import SequenceFileWriter\n"
        "w = SequenceFileWriter(sys.argv[1], 'Text', 'LongWritable')\n"
        "for i in range(200_000):\n"
        "    w.append('k%d' % i, i)\n"
        "os._exit(3)  # dies before close(): no exception handler, no finaliser runs\n"
    )
    assert subprocess.run([sys.executable, "-c", script, str(final)]).returncode == 3
    assert not final.exists()
    leftovers = os.listdir(tmp_path)
    assert len(leftovers) == 1 and leftovers[0].startswith(".crash.seq.") and leftovers[0].endswith(".tmp")
    assert list_part_files(tmp_path) == []  # a reader of the directory never sees the half-written file
