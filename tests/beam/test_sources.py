"""coders.beam.sources (SequenceFile source and sink) and pickling.spark_beam (the PySpark pickle-file
source built on it): sources split at sync markers, and the sink."""

from __future__ import annotations

import glob
import os

import apache_beam as beam
import pytest
from apache_beam.io import source_test_utils
from apache_beam.io.range_trackers import OffsetRangeTracker
from apache_beam.testing.util import assert_that, equal_to

from coders.beam.sources import ReadFromSequenceFile, SequenceFileSink, SequenceFileSource, WriteToSequenceFile
from coders.hadoop import LongWritableCoder, SequenceFileReader, SequenceFileWriter, TextCoder
from pickling import spark
from pickling.spark import BYTES_WRITABLE, NULL_WRITABLE, UnsafeGlobalError, java_serialize_byte_arrays
from pickling.spark_beam import ReadFromSparkPickleFile, SparkPickleFileSource

RECORDS = [(f"key-{i:03d}", i * 1000 - 7) for i in range(40)]


def write_seqfile(path, records=RECORDS, **options):
    with SequenceFileWriter(
        str(path), "org.apache.hadoop.io.Text", "org.apache.hadoop.io.LongWritable", **options
    ) as w:
        for k, v in records:
            w.append(k, v)
    return str(path)


LAYOUTS = {
    "uncompressed": dict(sync_interval=80),
    "record": dict(compression="record", codec="default", sync_interval=80),
    "block": dict(compression="block", codec="gzip", block_size=60),
}


@pytest.fixture(params=sorted(LAYOUTS))
def seqfile(request, tmp_path):
    path = write_seqfile(tmp_path / f"{request.param}.seq", **LAYOUTS[request.param])
    with SequenceFileReader(path) as r:
        syncs = r.sync_offsets()
    assert len(syncs) >= 8, "the test needs a multi-block file"
    return path


def single_file(source):
    """The one-file source inside a FileBasedSource (what a runner reads a bundle with)."""
    (split,) = list(source.split(desired_bundle_size=float("inf")))
    return split.source


def split_point_positions(path):
    with SequenceFileReader(path) as r:
        return [rec.position for rec in r.positioned_records() if rec.at_sync or rec.position == r.header_end]


def test_reads_every_record(seqfile):
    assert source_test_utils.read_from_source(SequenceFileSource(seqfile)) == RECORDS


def test_ranges_start_at_the_first_split_point_at_or_after_their_start(seqfile):
    points = split_point_positions(seqfile)
    size = os.path.getsize(seqfile)
    source = single_file(SequenceFileSource(seqfile))
    for a in range(0, size, 7):
        for b in (a + 1, a + 37, a + 150, size):
            got = source_test_utils.read_from_source(source, a, b)
            firsts = [p for p in points if a <= p < b]
            if not firsts:
                assert got == [], (a, b)
                continue
            # the range holds exactly the records from its first split point to the first split point >= b
            start_index = points.index(firsts[0])
            stop = next((p for p in points if p >= b), None)
            want = records_between(seqfile, points[start_index], stop)
            assert got == want, (a, b)


def records_between(path, start, stop):
    with SequenceFileReader(path) as r:
        return [
            (rec.key, rec.value)
            for rec in r.positioned_records()
            if rec.position >= start and (stop is None or rec.position < stop)
        ]


def test_ranges_that_tile_the_file_read_each_record_once(seqfile):
    size = os.path.getsize(seqfile)
    source = single_file(SequenceFileSource(seqfile))
    for step in (1, 13, 64, 200):
        got = []
        for a in range(0, size, step):
            got += source_test_utils.read_from_source(source, a, min(a + step, size))
        assert got == RECORDS, step


def test_initial_splits_equal_the_whole_file(seqfile):
    source = SequenceFileSource(seqfile)
    splits = list(source.split(desired_bundle_size=120))
    assert len(splits) >= 3
    source_test_utils.assert_sources_equal_reference_source(
        (source, None, None), [(s.source, s.start_position, s.stop_position) for s in splits]
    )


class KeysOfTextFiles(SequenceFileSource):
    """A format stored in SequenceFiles, built the way pickling.spark_beam builds its source."""

    def check_header(self, file_name, reader):
        if reader.key_class != "org.apache.hadoop.io.Text":
            raise ValueError(f"{file_name}: keys are {reader.key_class}, not Text")

    def elements(self, file_name, reader, record):
        return [record.key] if record.value % 3 == 0 else []  # a record gives zero or one element


def test_a_subclass_changes_the_elements_through_the_public_hooks_and_keeps_the_splits(seqfile, tmp_path):
    source = KeysOfTextFiles(seqfile)
    want = [k for k, v in RECORDS if v % 3 == 0]
    assert 0 < len(want) < len(RECORDS)
    assert source_test_utils.read_from_source(source) == want
    size = os.path.getsize(seqfile)
    one = single_file(source)
    assert [k for a in range(0, size, 50) for k in source_test_utils.read_from_source(one, a, a + 50)] == want
    other = tmp_path / "long-keys.seq"
    with SequenceFileWriter(other, "LongWritable", "LongWritable") as w:
        w.append(1, 1)
    with pytest.raises(ValueError, match=r"long-keys.seq: keys are org.apache.hadoop.io.LongWritable, not Text"):
        source_test_utils.read_from_source(KeysOfTextFiles(str(other)))


def test_dynamic_splitting_exhaustive(tmp_path):
    path = write_seqfile(tmp_path / "small.seq", RECORDS[:14], sync_interval=40)
    source = single_file(SequenceFileSource(path))
    source_test_utils.assert_split_at_fraction_exhaustive(source, perform_multi_threaded_test=False)


def test_dynamic_splitting_exhaustive_block_compressed(tmp_path):
    path = write_seqfile(tmp_path / "blocks.seq", RECORDS[:14], compression="block", codec="default", block_size=30)
    source = single_file(SequenceFileSource(path))
    source_test_utils.assert_split_at_fraction_exhaustive(source, perform_multi_threaded_test=False)


def test_split_points_are_claimed_and_records_between_are_not(tmp_path):
    path = write_seqfile(tmp_path / "f.seq", RECORDS[:20], sync_interval=60)
    points = split_point_positions(path)
    source = single_file(SequenceFileSource(path))
    tracker = OffsetRangeTracker(0, os.path.getsize(path))
    claimed = []
    original = tracker.try_claim

    def spy(position):
        claimed.append(position)
        return original(position)

    tracker.try_claim = spy
    assert list(source.read(tracker)) == RECORDS[:20]
    assert claimed == points
    # a split proposed at a position already consumed is refused; one ahead is accepted
    tracker2 = OffsetRangeTracker(0, os.path.getsize(path))
    reader = source.read(tracker2)
    next(reader)
    assert tracker2.try_split(points[0]) is None
    assert tracker2.try_split(points[3]) is not None
    assert list(reader) == records_between(path, 0, points[3])[1:]


def test_a_directory_means_its_part_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    write_seqfile(out / "part-00000", RECORDS[:10])
    write_seqfile(out / "part-00001", RECORDS[10:])
    (out / "_SUCCESS").write_bytes(b"")
    (out / ".part-00000.crc").write_bytes(b"crc")
    got = source_test_utils.read_from_source(SequenceFileSource(str(out)))
    assert sorted(got) == RECORDS


# ----------------------------------------------------------------------------------------------
# PySpark pickle files
# ----------------------------------------------------------------------------------------------


def write_pickle_file(path, objects, batch_size=3, **options):
    """A saveAsPickleFile-shaped SequenceFile with many sync markers (spark.dump keeps Hadoop's interval)."""
    import cloudpickle

    batches = [cloudpickle.dumps(objects[i : i + batch_size], protocol=5) for i in range(0, len(objects), batch_size)]
    with SequenceFileWriter(str(path), NULL_WRITABLE, BYTES_WRITABLE, **options) as w:
        for i in range(0, len(batches), 2):
            w.append(None, java_serialize_byte_arrays(batches[i : i + 2]))
    return str(path)


OBJECTS = [{"id": i, "tags": ("a", i)} for i in range(60)]


@pytest.mark.parametrize("options", [dict(sync_interval=100), dict(compression="block", codec="bzip2", block_size=150)])
def test_spark_pickle_source_splits(tmp_path, options):
    path = write_pickle_file(tmp_path / "p.seq", OBJECTS, **options)
    assert spark.load(path) == OBJECTS
    source = SparkPickleFileSource(path)
    assert source_test_utils.read_from_source(source) == OBJECTS
    splits = list(source.split(desired_bundle_size=200))
    assert len(splits) >= 3
    source_test_utils.assert_sources_equal_reference_source(
        (source, None, None), [(s.source, s.start_position, s.stop_position) for s in splits]
    )


def test_spark_pickle_source_dynamic_splitting_exhaustive(tmp_path):
    path = write_pickle_file(tmp_path / "p.seq", OBJECTS[:16], batch_size=2, sync_interval=60)
    source = single_file(SparkPickleFileSource(path))
    source_test_utils.assert_split_at_fraction_exhaustive(source, perform_multi_threaded_test=False)


class Thing:
    def __init__(self, n):
        self.n = n


def test_spark_pickle_source_safe_mode(tmp_path):
    path = write_pickle_file(tmp_path / "p.seq", [1, Thing(2)])
    with pytest.raises(UnsafeGlobalError, match=f"blocked global '{Thing.__module__}.Thing' in .*p.seq"):
        source_test_utils.read_from_source(SparkPickleFileSource(path, safe=True))
    got = source_test_utils.read_from_source(SparkPickleFileSource(path, safe=True, allow=[f"{Thing.__module__}.*"]))
    assert got[0] == 1 and got[1].n == 2
    with pytest.raises(ValueError, match="use safe=False instead"):
        SparkPickleFileSource(path, safe=True, allow=["*"])


def test_spark_pickle_source_refuses_other_sequence_files(tmp_path):
    path = write_seqfile(tmp_path / "t.seq", RECORDS[:3])
    with pytest.raises(
        Exception,
        match="is a SequenceFile of \\(org.apache.hadoop.io.Text, "
        "org.apache.hadoop.io.LongWritable\\), not a PySpark pickle file",
    ):
        source_test_utils.read_from_source(SparkPickleFileSource(path))


# ----------------------------------------------------------------------------------------------
# Sink and pipelines
# ----------------------------------------------------------------------------------------------


def test_sink_checks_its_classes_at_construction(tmp_path):
    with pytest.raises(Exception, match="com.example.Nope"):
        SequenceFileSink(str(tmp_path / "out"), "com.example.Nope", "Text")
    with pytest.raises(ValueError, match="compression must be one of"):
        SequenceFileSink(str(tmp_path / "out"), "Text", "Text", compression="zip")
    sink = SequenceFileSink(str(tmp_path / "out"), TextCoder(), "org.apache.hadoop.io.LongWritable")
    assert (sink.key_class, sink.value_class) == ("org.apache.hadoop.io.Text", "org.apache.hadoop.io.LongWritable")
    assert os.listdir(tmp_path) == []  # the check leaves nothing behind


def test_sink_refuses_elements_that_are_not_pairs(tmp_path):
    sink = SequenceFileSink(str(tmp_path / "out"), "Text", "Text")
    handle = sink.open(str(tmp_path / "tmp-shard"))
    with pytest.raises(TypeError, match="WriteToSequenceFile takes \\(key, value\\) pairs, got str 'oops'"):
        sink.write_record(handle, "oops")
    handle.abort()


@pytest.mark.pipeline
def test_pipeline_reads_transforms_and_writes_sequence_files(tmp_path):
    src = write_seqfile(tmp_path / "in.seq", RECORDS, compression="block", codec="default", block_size=100)
    prefix = str(tmp_path / "out" / "result")
    with beam.Pipeline("DirectRunner") as p:
        pairs = p | ReadFromSequenceFile(src)
        doubled = pairs | beam.Map(lambda kv: (kv[0].upper(), kv[1] * 2))
        assert_that(doubled, equal_to([(k.upper(), v * 2) for k, v in RECORDS]))
        doubled | WriteToSequenceFile(
            prefix,
            TextCoder(),
            LongWritableCoder(),
            num_shards=2,
            compression="record",
            codec="gzip",
            metadata={"made-by": "coderkit"},
        )
    shards = sorted(glob.glob(prefix + "-*"))
    assert [os.path.basename(s) for s in shards] == ["result-00000-of-00002", "result-00001-of-00002"]
    got = []
    for shard in shards:
        with SequenceFileReader(shard) as r:
            assert (r.key_class, r.value_class, r.compression, r.codec, r.metadata) == (
                "org.apache.hadoop.io.Text",
                "org.apache.hadoop.io.LongWritable",
                "record",
                "gzip",
                {"made-by": "coderkit"},
            )
            got += list(r)
    assert sorted(got) == sorted((k.upper(), v * 2) for k, v in RECORDS)


@pytest.mark.pipeline
def test_pipeline_reads_a_pickle_directory(tmp_path):
    spark.dump(OBJECTS, tmp_path / "pickles", batch_size=4)
    with beam.Pipeline("DirectRunner") as p:
        ids = p | ReadFromSparkPickleFile(str(tmp_path / "pickles"), safe=True) | beam.Map(lambda o: o["id"])
        assert_that(ids, equal_to(list(range(60))))


@pytest.mark.spark
@pytest.mark.pipeline
def test_pipeline_reads_real_spark_output_split_at_its_sync_markers(spark_context, tmp_path):
    out = str(tmp_path / "spark")
    rows = [f"{i:06d}" + "x" * 60 for i in range(6000)]
    spark_context.parallelize(rows, 2).saveAsPickleFile(out, 1)  # ~230 KB per part: 2 sync markers each
    parts = spark.part_files(out)
    for part in parts:
        with SequenceFileReader(part) as r:
            assert len(r.sync_offsets()) >= 2
    source = SparkPickleFileSource(out)
    splits = list(source.split(desired_bundle_size=100_000))
    assert len(splits) >= 4
    source_test_utils.assert_sources_equal_reference_source(
        (source, None, None), [(s.source, s.start_position, s.stop_position) for s in splits]
    )
    with beam.Pipeline("DirectRunner") as p:
        got = p | ReadFromSparkPickleFile(out, safe=True)
        assert_that(got, equal_to(rows))


def test_raw_mode_yields_the_serialized_bytes(tmp_path):
    path = write_seqfile(tmp_path / "f.seq", RECORDS[:5], sync_interval=40)
    got = source_test_utils.read_from_source(SequenceFileSource(path, raw=True))
    assert got == [(TextCoder().encode(k), LongWritableCoder().encode(v)) for k, v in RECORDS[:5]]


@pytest.mark.parametrize("options", [dict(sync_interval=40), dict(compression="block", codec="default", block_size=30)])
def test_dynamic_splitting_concurrent_with_reading(tmp_path, options):
    path = write_seqfile(tmp_path / "small.seq", RECORDS[:8], **options)
    source_test_utils.assert_split_at_fraction_exhaustive(
        single_file(SequenceFileSource(path)), perform_multi_threaded_test=True
    )
