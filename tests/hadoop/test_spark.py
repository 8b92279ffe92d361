"""Both directions against real Spark/Hadoop (local PySpark, Java 17, Hadoop 3.5 jars).

* Files Spark writes with ``saveAsSequenceFile`` / ``saveAsHadoopFile`` (every Writable
  PySpark produces, every codec Spark has, record and block compression, several parts)
  are read exactly.
* Files coderkit writes (every compression mode and codec Hadoop can read) are read
  back exactly by ``sc.sequenceFile``.
* Hadoop's own ``SequenceFile.Writer`` and coderkit's writer give byte-identical files
  for the same records and sync marker (so sync entries and blocks sit where Hadoop
  puts them), Hadoop's ``Reader.sync`` and ``seek_to_sync`` agree, and Writable bytes and
  raw comparisons agree with the Java classes on many values.

One SparkContext for the session; each fixture is built by as few Spark jobs as possible.
"""

from __future__ import annotations

import os
import random

import pytest

from coders.hadoop import (
    BooleanWritableCoder,
    BytesWritableCoder,
    DoubleWritableCoder,
    FloatWritableCoder,
    IntWritableCoder,
    LongWritableCoder,
    MapWritableCoder,
    NullWritableCoder,
    SequenceFileReader,
    SequenceFileWriter,
    SortedMapWritableCoder,
    TextCoder,
    VIntWritableCoder,
    VLongWritableCoder,
    read_sequence_file,
)
from tests.hadoop.values import exact

pytestmark = pytest.mark.spark

IO = "org.apache.hadoop.io."
SPARK_CODECS = {  # coderkit name -> Hadoop class; ZStandardCodec needs libhadoop, which Spark does not ship
    "default": "org.apache.hadoop.io.compress.DefaultCodec",
    "deflate": "org.apache.hadoop.io.compress.DeflateCodec",
    "gzip": "org.apache.hadoop.io.compress.GzipCodec",
    "bzip2": "org.apache.hadoop.io.compress.BZip2Codec",
    "snappy": "org.apache.hadoop.io.compress.SnappyCodec",
    "lz4": "org.apache.hadoop.io.compress.Lz4Codec",
}


def read_dir(path):
    return list(read_sequence_file(path))


def header(path):
    from coders.hadoop import list_part_files

    with SequenceFileReader(list_part_files(path)[0], raw=True) as r:
        return r.key_class, r.value_class, r.compression, r.codec


# ---- Spark writes, coderkit reads ------------------------------------------------------------

PLAIN_CASES = {
    # name: (pairs, expected key class, expected value class)
    "text_int": ([(f"k{i}", i - 50) for i in range(100)], "Text", "IntWritable"),
    "long_double": (
        [(2**40 + i, i / 7.0) for i in range(100)] + [(-(2**62), -0.0), (2**62, float("inf"))],
        "LongWritable",
        "DoubleWritable",
    ),
    "bool_bytes": (
        [(i % 2 == 0, bytearray(os.urandom(i % 17))) for i in range(60)],
        "BooleanWritable",
        "BytesWritable",
    ),
    "null_text": ([(None, f"välue ✓ 𝄞 {i}") for i in range(40)], "NullWritable", "Text"),
    "text_map": ([(f"m{i}", {"a": i, "b": "x" * i, "c": 1.5}) for i in range(20)], "Text", "MapWritable"),
}


@pytest.fixture(scope="module")
def spark_written(spark_context, tmp_path_factory):
    sc = spark_context
    root = tmp_path_factory.mktemp("spark_written")
    paths = {}
    for name, (pairs, _, _) in PLAIN_CASES.items():
        paths[name] = str(root / name)
        sc.parallelize(pairs, 3 if name == "text_int" else 1).saveAsSequenceFile(paths[name])
    pairs = [(f"key-{i:05d}", i * 3) for i in range(800)]
    for codec, cls in SPARK_CODECS.items():
        for kind in ("RECORD", "BLOCK"):
            path = str(root / f"{codec}_{kind}")
            # (saveAsSequenceFile's compressionCodecClass always means BLOCK: set the job conf instead)
            sc.parallelize(pairs, 1).saveAsHadoopFile(
                path,
                "org.apache.hadoop.mapred.SequenceFileOutputFormat",
                conf={
                    "mapreduce.output.fileoutputformat.compress": "true",
                    "mapreduce.output.fileoutputformat.compress.codec": cls,
                    "mapreduce.output.fileoutputformat.compress.type": kind,
                },
            )
            paths[(codec, kind)] = path
    return paths, pairs


@pytest.mark.parametrize("name", sorted(PLAIN_CASES))
def test_reads_every_writable_pyspark_writes(spark_written, name):
    paths, _ = spark_written
    pairs, key_class, value_class = PLAIN_CASES[name]
    path = paths[name]
    assert header(path)[:3] == (IO + key_class, IO + value_class, "none")
    parts = sorted(p for p in os.listdir(path) if p.startswith("part-"))
    assert len(parts) == (3 if name == "text_int" else 1) and os.path.exists(os.path.join(path, "_SUCCESS"))
    got = read_dir(path)
    expected = [(k, bytes(v) if isinstance(v, bytearray) else v) for k, v in pairs]
    assert exact(got) == exact(expected)  # part order restores the RDD order; types and float bits too


@pytest.mark.parametrize("codec", sorted(SPARK_CODECS))
@pytest.mark.parametrize("kind", ["RECORD", "BLOCK"])
def test_reads_every_codec_spark_writes(spark_written, codec, kind):
    paths, pairs = spark_written
    path = paths[(codec, kind)]
    assert header(path) == (IO + "Text", IO + "IntWritable", kind.lower(), codec)
    assert read_dir(path) == pairs


# ---- coderkit writes, Spark reads --------------------------------------------------------------


def test_spark_reads_what_coderkit_writes_in_every_mode(spark_context, tmp_path):
    sc = spark_context
    modes = [("none", None)] + [(c, n) for c in ("record", "block") for n in SPARK_CODECS]
    expected = []
    paths = []
    for compression, codec in modes:
        tag = f"{compression}-{codec}"
        path = str(tmp_path / f"{tag}.seq")
        pairs = [(f"{tag}/{i}", i * 1_000_003 - 2**40) for i in range(2500)]
        # a small block size and sync interval give many blocks and sync entries per file
        with SequenceFileWriter(
            path, "Text", "LongWritable", compression=compression, codec=codec, block_size=10_000, sync_interval=2_000
        ) as w:
            for k, v in pairs:
                w.append(k, v)
        expected += pairs
        paths.append(path)
    got = sc.sequenceFile(",".join(paths)).collect()
    assert sorted(got) == sorted(expected)
    assert len(got) == len(expected)


def test_spark_reads_every_writable_coderkit_writes(spark_context, tmp_path):
    sc = spark_context
    cases = [
        ("Text", "IntWritable", [("a", 1), ("é𝄞", -(2**31)), ("", 2**31 - 1)]),
        ("LongWritable", "DoubleWritable", [(2**63 - 1, 1.5), (-(2**63), -0.0), (0, float("inf"))]),
        ("BooleanWritable", "BytesWritable", [(True, b"\x00\xff"), (False, b"")]),
        ("NullWritable", "Text", [(None, "x"), (None, "y")]),
        ("Text", "MapWritable", [("m", {"a": 1, "b": "s", "c": 2.5, "d": None, "e": True, "f": {"g": b"\x01"}})]),
    ]
    for i, (kc, vc, pairs) in enumerate(cases):
        path = str(tmp_path / f"w{i}.seq")
        with SequenceFileWriter(path, kc, vc) as w:
            for k, v in pairs:
                w.append(k, v)
        got = sc.sequenceFile(path).collect()
        if vc == "BytesWritable":
            got = [(k, bytes(v)) for k, v in got]
        if vc == "MapWritable":
            got = [(k, {mk: (bytes(mv) if isinstance(mv, bytearray) else mv) for mk, mv in v.items()}) for k, v in got]
            got[0][1]["f"] = {k: bytes(v) for k, v in got[0][1]["f"].items()}
        assert exact(got) == exact(pairs), (kc, vc)  # -0.0 comes back as -0.0


# ---- Hadoop's own writer, reader and Writables via the JVM ------------------------------------


@pytest.fixture(scope="module")
def jvm(spark_context):
    return spark_context._jvm


def _java_class(jvm, name):
    return jvm.java.lang.Class.forName(name)


def _hadoop_write(sc, path, pairs, compression, codec_class):
    jvm, gw = sc._jvm, sc._gateway
    sf = jvm.org.apache.hadoop.io.SequenceFile
    writer_cls = sf.Writer
    opts = gw.new_array(jvm.org.apache.hadoop.io.SequenceFile.Writer.Option, 4)
    opts[0] = writer_cls.file(jvm.org.apache.hadoop.fs.Path(path))
    opts[1] = writer_cls.keyClass(_java_class(jvm, IO + "Text"))
    opts[2] = writer_cls.valueClass(_java_class(jvm, IO + "LongWritable"))
    kind = getattr(sf.CompressionType, compression.upper())
    conf = sc._jsc.hadoopConfiguration()
    if codec_class:
        codec = jvm.org.apache.hadoop.util.ReflectionUtils.newInstance(_java_class(jvm, codec_class), conf)
        opts[3] = writer_cls.compression(kind, codec)
    else:
        opts[3] = writer_cls.compression(kind)
    w = sf.createWriter(conf, opts)
    text, long_ = jvm.org.apache.hadoop.io.Text, jvm.org.apache.hadoop.io.LongWritable
    for k, v in pairs:
        w.append(text(k), long_(v))
    w.close()


@pytest.mark.parametrize(
    "compression,codec",
    [
        ("none", None),
        ("record", "default"),
        ("record", "gzip"),
        ("block", "default"),
        ("block", "lz4"),
        ("record", "lz4"),
        ("record", "snappy"),
        ("block", "deflate"),
    ],
)
def test_byte_identical_to_hadoop_writer(spark_context, tmp_path, compression, codec):
    """Same records + same sync marker -> the same file: header, sync entries and blocks as Hadoop writes."""
    # ~1.2 MB of records: several sync entries uncompressed, two 1 MB blocks block-compressed
    pairs = [(f"key{i}-" + "x" * (i % 900), i * 1_000_003) for i in range(2_600)]
    theirs = str(tmp_path / "hadoop.seq")
    _hadoop_write(spark_context, theirs, pairs, compression, SPARK_CODECS.get(codec))
    with SequenceFileReader(theirs) as r:
        sync = r.sync
        assert list(r) == pairs
        their_syncs = r.sync_offsets()
    ours = str(tmp_path / "ours.seq")
    with SequenceFileWriter(ours, "Text", "LongWritable", compression=compression, codec=codec, sync=sync) as w:
        for k, v in pairs:
            w.append(k, v)
    assert open(ours, "rb").read() == open(theirs, "rb").read()
    assert len(their_syncs) >= 2


@pytest.mark.parametrize("codec", ["bzip2", "snappy"])
def test_codecs_whose_compressors_differ_give_the_same_structure(spark_context, tmp_path, codec):
    """Java's bzip2 and snappy-java emit other (equally valid) compressed bytes than libbz2 and cramjam
    for large inputs, so only the header and the block structure can match Hadoop's exactly."""
    pairs = [(f"key{i}-" + "x" * (i % 900), i) for i in range(2_600)]
    theirs, ours = str(tmp_path / "hadoop.seq"), str(tmp_path / "ours.seq")
    _hadoop_write(spark_context, theirs, pairs, "block", SPARK_CODECS[codec])
    with SequenceFileReader(theirs) as r:
        assert list(r) == pairs
        sync, header_end = r.sync, r.header_end
        their_blocks = [rec.position for rec in r.positioned_records() if rec.at_sync]
    with SequenceFileWriter(ours, "Text", "LongWritable", compression="block", codec=codec, sync=sync) as w:
        for k, v in pairs:
            w.append(k, v)
    with SequenceFileReader(ours) as r:
        assert list(r) == pairs
        assert len(r.sync_offsets()) == len(their_blocks) == 2
        assert r.sync_offsets()[0] == their_blocks[0] == header_end
    assert open(ours, "rb").read()[:header_end] == open(theirs, "rb").read()[:header_end]


def test_seek_to_sync_agrees_with_hadoop_reader(spark_context, tmp_path):
    jvm = spark_context._jvm
    pairs = [(f"key{i}-" + "y" * (i % 700), i) for i in range(2_000)]
    path = str(tmp_path / "s.seq")
    _hadoop_write(spark_context, path, pairs, "none", None)
    conf = spark_context._jsc.hadoopConfiguration()
    opts = spark_context._gateway.new_array(jvm.org.apache.hadoop.io.SequenceFile.Reader.Option, 1)
    opts[0] = jvm.org.apache.hadoop.io.SequenceFile.Reader.file(jvm.org.apache.hadoop.fs.Path(path))
    jreader = jvm.org.apache.hadoop.io.SequenceFile.Reader(conf, opts)
    with SequenceFileReader(path) as r:
        size = r.size
        offsets = [0, 5, r.header_end, r.header_end + 1] + [random.Random(7).randrange(size) for _ in range(15)]
        for offset in offsets:
            jreader.sync(offset)
            assert r.seek_to_sync(offset) == jreader.getPosition(), offset
    jreader.close()


def _java_bytes(jvm, writable) -> bytes:
    bos = jvm.java.io.ByteArrayOutputStream()
    dos = jvm.java.io.DataOutputStream(bos)
    writable.write(dos)
    dos.flush()
    return bytes(bos.toByteArray())


def test_writable_bytes_match_java(jvm):
    rng = random.Random(5)
    io = jvm.org.apache.hadoop.io
    ints = [0, 1, -1, 127, 128, -112, -113, 163, 255, 256, -129, 2**31 - 1, -(2**31)] + [
        rng.randrange(-(2**31), 2**31) for _ in range(20)
    ]
    longs = ints + [2**63 - 1, -(2**63), 2**40, -(2**40)] + [rng.randrange(-(2**63), 2**63) for _ in range(20)]
    checks = []
    checks += [(IntWritableCoder(), v, io.IntWritable(v)) for v in ints]
    checks += [(VIntWritableCoder(), v, io.VIntWritable(v)) for v in ints]
    checks += [(LongWritableCoder(), v, io.LongWritable(v)) for v in longs]
    checks += [(VLongWritableCoder(), v, io.VLongWritable(v)) for v in longs]
    for text in ["", "a", "é", "𝄞", "\x00", "x" * 200, "日本語テキスト"]:
        checks.append((TextCoder(), text, io.Text(text)))
    for data in [b"", b"\x00", bytes(range(256))]:
        checks.append((BytesWritableCoder(), data, io.BytesWritable(bytearray(data))))
    checks += [(BooleanWritableCoder(), b, io.BooleanWritable(b)) for b in (True, False)]
    for f in [0.0, -0.0, 1.5, float("inf"), float("-inf"), float("nan"), 3.4028234663852886e38, 1.401298464324817e-45]:
        checks.append((FloatWritableCoder(), f, io.FloatWritable(f)))
    for d in [0.0, -0.0, 0.1, float("nan"), 1e308, -5e-324]:
        checks.append((DoubleWritableCoder(), d, io.DoubleWritable(d)))
    checks.append((NullWritableCoder(), None, io.NullWritable.get()))
    for coder, value, writable in checks:
        assert coder.encode(value) == _java_bytes(jvm, writable), (coder, value)


def test_map_writable_bytes_match_java(jvm):
    io = jvm.org.apache.hadoop.io
    m = io.MapWritable()
    m.put(io.Text("a"), io.IntWritable(5))
    m.put(io.Text("b"), io.LongWritable(2**40))
    java = _java_bytes(jvm, m)
    # Java's HashMap order is its own; decoding is order-free and re-encoding in that order is exact
    decoded = MapWritableCoder().decode(java)
    assert decoded == {"a": 5, "b": 2**40}
    assert MapWritableCoder().encode(dict(decoded)) == java
    # SortedMapWritable: a TreeMap, so the bytes are fixed by the keys' order
    sm = io.SortedMapWritable()
    for k, v in [("b", 1), ("é", 2), ("a", 3)]:
        sm.put(io.Text(k), io.IntWritable(v))
    assert SortedMapWritableCoder().encode({"b": 1, "é": 2, "a": 3}) == _java_bytes(jvm, sm)
    assert list(SortedMapWritableCoder().decode(_java_bytes(jvm, sm))) == ["a", "b", "é"]


def test_raw_comparators_match_java(jvm):
    rng = random.Random(11)
    io = jvm.org.apache.hadoop.io
    comparator = io.WritableComparator.get

    def compare(cls, a: bytes, b: bytes) -> int:
        c = comparator(_java_class(jvm, IO + cls))
        r = c.compare(bytearray(a), 0, len(a), bytearray(b), 0, len(b))
        return (r > 0) - (r < 0)

    floats = [0.0, -0.0, 1.0, -1.0, float("inf"), float("-inf"), float("nan"), 0.5, -2.5]
    cases = [
        ("IntWritable", IntWritableCoder(), [rng.randrange(-(2**31), 2**31) for _ in range(6)] + [0, -1]),
        ("LongWritable", LongWritableCoder(), [rng.randrange(-(2**63), 2**63) for _ in range(6)] + [0, -1]),
        ("VLongWritable", VLongWritableCoder(), [0, -1, 127, 128, -113, 2**40, -(2**40)]),
        ("Text", TextCoder(), ["", "a", "ab", "b", "é", "\uffff", "𝄞", "Z"]),
        ("BytesWritable", BytesWritableCoder(), [b"", b"\x00", b"\xff", b"\x00\x01", b"\x7f"]),
        ("BooleanWritable", BooleanWritableCoder(), [True, False]),
        ("FloatWritable", FloatWritableCoder(), floats),
        ("DoubleWritable", DoubleWritableCoder(), floats),
    ]
    for cls, coder, values in cases:
        encoded = [coder.encode(v) for v in values]
        for a in encoded:
            for b in encoded:
                assert coder.compare_encoded(a, b) == compare(cls, a, b), (cls, a.hex(), b.hex())
