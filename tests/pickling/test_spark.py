"""pickling.spark: PySpark saveAsPickleFile output, read and written without Spark, checked against real Spark."""

from __future__ import annotations

import collections
import datetime
import decimal
import importlib.util
import os
import pickle
import subprocess
import sys
from pathlib import Path

import cloudpickle
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coders import DecodeError
from pickling import spark
from pickling.spark import (
    PickleFileDecoder,
    SafeUnpickler,
    UnsafeGlobalError,
    java_serialize_byte_arrays,
    split_java_byte_arrays,
)

_spec = importlib.util.spec_from_file_location("spark_fixtures", Path(__file__).with_name("spark_fixtures.py"))
spark_fixtures = importlib.util.module_from_spec(_spec)
sys.modules["spark_fixtures"] = spark_fixtures
_spec.loader.exec_module(spark_fixtures)

REPO = Path(__file__).resolve().parents[2]


def typed(values):
    """Values with their types and reprs, so 1 == 1.0 == True and -0.0 == 0.0 do not hide a change."""
    return [(type(v).__name__, repr(v)) for v in values]


# ----------------------------------------------------------------------------------------------
# Java serialization of byte[][]
# ----------------------------------------------------------------------------------------------

# What ObjectOutputStream wrote for new byte[][]{ {1,2}, {}, {3} } (the layout Spark's saveAsObjectFile
# files hold; checked against real files below).
JAVA_3 = bytes.fromhex(
    "aced0005"
    "7572"
    "0003"
    "5b5b42"
    "4bfd19156767db37"
    "02"
    "0000"
    "78"
    "70"
    "00000003"
    "7572"
    "0002"
    "5b42"
    "acf317f8060854e0"
    "02"
    "0000"
    "78"
    "70"
    "00000002"
    "0102"
    "7571"
    "007e0002"
    "00000000"
    "7571"
    "007e0002"
    "00000001"
    "03"
)


def test_java_serialization_bytes_are_exactly_what_object_output_stream_writes():
    assert java_serialize_byte_arrays([b"\x01\x02", b"", b"\x03"]) == JAVA_3
    assert [bytes(c) for c in split_java_byte_arrays(JAVA_3)] == [b"\x01\x02", b"", b"\x03"]


def test_java_empty_outer_array():
    data = java_serialize_byte_arrays([])
    assert data == bytes.fromhex("aced0005757200035b5b424bfd19156767db37020000787000000000")
    assert split_java_byte_arrays(data) == []


def test_java_reference_to_an_earlier_array_repeats_it():
    # element 1 is TC_REFERENCE to handle 0x7e0003 (element 0): Java shares the object
    data = bytes.fromhex(
        "aced0005"
        "7572"
        "0003"
        "5b5b42"
        "4bfd19156767db37"
        "02"
        "0000"
        "78"
        "70"
        "00000002"
        "7572"
        "0002"
        "5b42"
        "acf317f8060854e0"
        "02"
        "0000"
        "78"
        "70"
        "00000002"
        "0102"
        "71"
        "007e0003"
    )
    assert [bytes(c) for c in split_java_byte_arrays(data)] == [b"\x01\x02", b"\x01\x02"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=12))
def test_java_serialization_round_trips(chunks):
    data = java_serialize_byte_arrays(chunks)
    assert [bytes(c) for c in split_java_byte_arrays(data)] == chunks


def decode_error(value) -> str:
    with pytest.raises(DecodeError) as info:
        PickleFileDecoder().decode(value, "f.bin", 3, 120)
    assert info.value.offset == 120
    assert "f.bin: SequenceFile record 3" in str(info.value)
    return str(info.value)


def test_every_truncation_of_the_java_stream_is_a_decode_error_with_file_and_offset():
    value = java_serialize_byte_arrays([pickle.dumps([1, 2]), pickle.dumps(["x"])])
    for cut in range(len(value)):
        message = decode_error(value[:cut])
        assert "byte" in message


P = [pickle.dumps([1, 2], protocol=5), pickle.dumps([], protocol=5), pickle.dumps(["x"], protocol=5)]
HEAD = bytes.fromhex("aced0005757200035b5b424bfd19156767db37020000787000000003")
NEW_B = bytes.fromhex("757200025b42acf317f8060854e00200007870")
REF_B = bytes.fromhex("7571007e0002")


def n32(n):
    return n.to_bytes(4, "big", signed=True)


E0, E1, E2 = NEW_B + n32(len(P[0])) + P[0], REF_B + n32(len(P[1])) + P[1], REF_B + n32(len(P[2])) + P[2]


def test_decoder_reads_the_three_element_stream():
    assert java_serialize_byte_arrays(P) == HEAD + E0 + E1 + E2
    assert PickleFileDecoder().decode(HEAD + E0 + E1 + E2) == [1, 2, "x"]


@pytest.mark.parametrize(
    "value, expected",
    [
        (b"\x00\x01\x02\x03rest", "not a Java serialization stream (magic 00010203, expected aced0005)"),
        (HEAD + E0 + E1 + E2 + b"\x00", "1 trailing byte(s) after the byte[][] object"),
        ((HEAD + E0 + E1 + E2).replace(b"[[B", b"[[I"), "expected an array of class '[[B' (byte[][]), found '[[I'"),
        (HEAD + E0 + b"\x70" + E2, "element 1 of the byte[][] is null"),
        (HEAD + NEW_B + n32(2**31 - 1) + P[0], "byte[] of length 2147483647 runs past the end"),
        (HEAD + E0 + REF_B + n32(10**6) + P[1] + E2, "byte[] of length 1000000 runs past the end"),
        (HEAD + E0 + REF_B + n32(len(P[1]) - 3) + P[1] + E2, "expected a byte[] element (TC_ARRAY 0x75), found"),
        (HEAD + E0 + E1 + REF_B + n32(len(P[2]) + 1) + P[2], f"byte[] of length {len(P[2]) + 1} runs past the end"),
        (
            HEAD + E0 + bytes.fromhex("7571007e0009") + n32(len(P[1])) + P[1] + E2,
            "TC_REFERENCE to handle 0x7e0009 is not a class descriptor",
        ),
        (HEAD + E0 + b"\x71\x00\x7e\x00\x00" + E2, "TC_REFERENCE to handle 0x7e0000 is not a byte[]"),
        (HEAD + E0 + b"\x77" + E2, "expected a byte[] element (TC_ARRAY 0x75), found 0x77"),
        (HEAD + E0 + E1, "truncated: byte[][] declares 3 element(s), found 2"),
    ],
)
def test_malformed_java_streams_say_what_is_wrong(value, expected):
    assert expected in decode_error(value)


def test_a_batch_that_does_not_unpickle_names_the_batch():
    value = java_serialize_byte_arrays([pickle.dumps([1]), b"\x80\x05garbage"])
    message = decode_error(value)
    assert "pickled batch 1 (9 bytes) does not load: UnpicklingError" in message


def test_a_batch_that_is_not_a_list_is_refused():
    value = java_serialize_byte_arrays([pickle.dumps({"a": 1})])
    assert "pickled batch 0 is a dict, expected the list PySpark's BatchedSerializer writes" in decode_error(value)


def test_a_value_that_is_not_bytes_is_refused():
    assert "has a value of type str, expected the bytes of a BytesWritable" in decode_error("text")


# ----------------------------------------------------------------------------------------------
# Safe mode
# ----------------------------------------------------------------------------------------------

SAFE_VALUES = [
    1,
    2.5,
    "s",
    b"b",
    bytearray(b"ba"),
    None,
    True,
    3j,
    (1,),
    [1],
    {"a": 1},
    {1},
    frozenset({2}),
    range(3),
    slice(1, 2),
    collections.OrderedDict(a=1),
    collections.defaultdict(list, a=[1]),
    collections.deque([1, 2]),
    collections.Counter("aab"),
    datetime.datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=datetime.UTC),
    datetime.date(2020, 1, 1),
    datetime.time(1, 2),
    datetime.timedelta(3),
    decimal.Decimal("-1.50"),
    Ellipsis,
]


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_safe_unpickler_loads_plain_data_in_every_protocol(protocol):
    data = pickle.dumps(SAFE_VALUES, protocol=protocol)
    loaded = SafeUnpickler(__import__("io").BytesIO(data)).load()
    assert typed(loaded) == typed(SAFE_VALUES)


class Custom:
    def __init__(self, x):
        self.x = x

    def __eq__(self, other):
        return type(other) is Custom and other.x == self.x


def _safe_decode(objects, allow=()):
    value = java_serialize_byte_arrays([cloudpickle.dumps(objects, protocol=5)])
    return PickleFileDecoder(safe=True, allow=allow).decode(value, "part-00007", 2, 999)


@pytest.mark.parametrize("evil", [eval, exec, getattr, __import__, open, os.system, type, compile])
def test_safe_mode_blocks_code_running_globals(evil):
    class Evil:
        def __reduce__(self):
            return (evil, ("1",))

    with pytest.raises(UnsafeGlobalError) as info:
        _safe_decode([Evil()])
    err = info.value
    assert isinstance(err, pickle.UnpicklingError)
    name = f"{evil.__module__}.{evil.__name__}"
    assert err.global_name == name
    assert str(err) == (
        f"safe mode blocked global '{name}' in part-00007, SequenceFile record 2 at byte offset 999: "
        f"unpickling it could run code. If you trust this file, allow it with allow=['{name}'] "
        f"(or allow=['{evil.__module__.split('.')[0]}.*']), or load with safe=False (CLI: --trust)"
    )


def test_safe_mode_allowlist_exact_and_wildcard():
    objs = [Custom(1), Custom(2)]
    name = f"{Custom.__module__}.Custom"
    with pytest.raises(UnsafeGlobalError, match=f"blocked global '{name}'"):
        _safe_decode(objs)
    assert _safe_decode(objs, allow=[name]) == objs
    assert _safe_decode(objs, allow=[Custom.__module__ + ".*"]) == objs
    with pytest.raises(UnsafeGlobalError):
        _safe_decode(objs, allow=["other.*"])


def test_safe_mode_blocks_classes_pickled_by_value():
    def make():
        class Local:
            pass

        return Local()

    with pytest.raises(UnsafeGlobalError, match="blocked global 'cloudpickle.cloudpickle._"):
        _safe_decode([make()])


def test_bad_allow_patterns_are_refused():
    with pytest.raises(ValueError, match="use safe=False instead"):
        PickleFileDecoder(safe=True, allow=["*"])
    with pytest.raises(ValueError, match="allow entries are 'module.name' or 'module.\\*' strings, got 3"):
        PickleFileDecoder(safe=True, allow=[3])
    with pytest.raises(ValueError, match="only applies with safe=True"):
        PickleFileDecoder(safe=False, allow=["a.b"])


def test_unsafe_global_error_pickles():
    err = UnsafeGlobalError("os", "system", file="f", record=1, offset=2)
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.global_name == "os.system"


def test_restore_namedtuple_shim_matches_pyspark():
    p = spark.restore_namedtuple("Point", ("x", "y"), (1, 2))
    q = spark.restore_namedtuple("Point", ("x", "y"), (3, 4))
    assert p == (1, 2) and p.x == 1 and type(p).__name__ == "Point" and type(p) is type(q)
    assert type(p)._fields == ("x", "y")
    again = pickle.loads(pickle.dumps(p))  # re-picklable by reference to restore_namedtuple
    assert again == p and type(again) is type(p)


# ----------------------------------------------------------------------------------------------
# Files written by real PySpark
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spark_files(spark_context, tmp_path_factory):
    return spark_fixtures.write_spark_pickle_files(spark_context, tmp_path_factory.mktemp("spark-pickle"))


SPARK_PLAIN = [
    "batch1",
    "batch3",
    "batch10",
    "batch_default",
    "batch_auto",
    "empty_rdd",
    "empty_partitions",
    "many_records",
] + [f"{c}_{k}" for c in ("GzipCodec", "DefaultCodec", "BZip2Codec") for k in ("BLOCK", "RECORD")]


@pytest.mark.spark
@pytest.mark.parametrize("name", SPARK_PLAIN)
def test_reads_saveAsPickleFile_output_exactly(spark_files, name):
    path, expected = spark_files[name]
    assert typed(spark.load(path)) == typed(expected)
    assert typed(spark.iter_records(path)) == typed(expected)
    assert typed(spark.load(path, safe=True)) == typed(expected)  # plain data needs no allowlist


@pytest.mark.spark
def test_compressed_fixtures_really_are_compressed(spark_files):
    from coders.hadoop import SequenceFileReader

    for codec in ("GzipCodec", "DefaultCodec", "BZip2Codec"):
        for kind in ("BLOCK", "RECORD"):
            path, _ = spark_files[f"{codec}_{kind}"]
            with SequenceFileReader(spark.part_files(path)[0]) as reader:
                assert reader.compression == kind.lower()
                assert reader.codec_class == f"org.apache.hadoop.io.compress.{codec}"


@pytest.mark.spark
def test_reads_single_part_files_and_skips_bookkeeping(spark_files):
    path, expected = spark_files["batch3"]
    parts = spark.part_files(path)
    assert [os.path.basename(p) for p in parts] == ["part-00000", "part-00001", "part-00002"]
    assert [obj for p in parts for obj in spark.load(p)] == expected
    assert os.path.exists(os.path.join(path, "_SUCCESS"))


@pytest.mark.spark
def test_class_pickled_by_value_loads_with_standalone_cloudpickle(spark_files):
    path, expected = spark_files["by_value"]
    loaded = spark.load(path)
    assert loaded == expected
    assert loaded[0].describe() == "0 EUR"
    assert type(loaded[0]) is type(loaded[4])  # one class, not one per batch
    assert loaded[5].left == 1 and type(loaded[5])._fields == ("left", "right")
    with pytest.raises(UnsafeGlobalError, match="blocked global 'pyspark.cloudpickle.cloudpickle._"):
        spark.load(path, safe=True)


@pytest.mark.spark
def test_namedtuple_patch_file_loads_safely(spark_files):
    path, expected = spark_files["namedtuple_patch"]
    raw = b"".join(Path(p).read_bytes() for p in spark.part_files(path))
    assert b"pyspark.serializers" in raw and b"_restore" in raw  # the patch really was on
    for loaded in (spark.load(path), spark.load(path, safe=True)):
        assert loaded == expected
        assert type(loaded[0]).__name__ == "Point" and type(loaded[0])._fields == ("x", "label")
        assert loaded[3].label == "p3"


@pytest.mark.spark
def test_dataframe_rows_load_as_spark_rows(spark_files):
    path, expected = spark_files["sql_rows"]
    raw = b"".join(Path(p).read_bytes() for p in spark.part_files(path))
    assert b"_create_row" in raw
    for loaded in (spark.load(path), spark.load(path, safe=True)):
        assert loaded == expected
        row = loaded[2]
        assert type(row) is spark.SparkRow and row.name == "n2" and row["id"] == 2 and row.inner.x == 2
        assert repr(row) == "Row(id=2, name='n2', inner=Row(x=2, tags=[2, 2]))"
        assert row.asDict() == {"id": 2, "name": "n2", "inner": (2, [2, 2])}
        assert row.asDict(recursive=True) == {"id": 2, "name": "n2", "inner": {"x": 2, "tags": [2, 2]}}
        with pytest.raises(AttributeError, match="Row has no field 'nope' \\(fields: id, name, inner\\)"):
            row.nope
    # re-pickled rows stay rows, also in safe mode
    again = pickle.dumps(loaded)
    assert spark.SafeUnpickler(__import__("io").BytesIO(again)).load() == expected


BLOCKED_PYSPARK = """
import sys
sys.modules["pyspark"] = None  # importing pyspark now fails
from pickling import spark
for safe in (False, True):
    objs = spark.load(sys.argv[1], safe=safe)
    print(repr([(type(o).__name__, tuple(o), o._fields) for o in objs]))
objs = spark.load(sys.argv[2])
print(repr([(type(o).__name__, o.describe()) for o in objs[:5]]))
print(repr(spark.load(sys.argv[3], safe=True)))
try:
    import pyspark
except ImportError as e:
    print("blocked:", isinstance(e, ImportError))
"""


@pytest.mark.spark
def test_files_load_without_pyspark_installed(spark_files):
    nt_path, expected = spark_files["namedtuple_patch"]
    by_value_path, _ = spark_files["by_value"]
    rows_path, _ = spark_files["sql_rows"]
    out = subprocess.run(
        [sys.executable, "-c", BLOCKED_PYSPARK, nt_path, by_value_path, rows_path],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    want = repr([("Point", tuple(p), ("x", "label")) for p in expected])
    assert lines[0] == want and lines[1] == want
    assert lines[2] == repr([("Money", f"{i} EUR") for i in range(5)])
    assert (
        lines[3]
        == "[" + ", ".join(f"Row(id={i}, name='n{i}', inner=Row(x={i}, tags=[{i}, {i}]))" for i in range(5)) + "]"
    )
    assert lines[4] == "blocked: True"


# ----------------------------------------------------------------------------------------------
# Files coderkit writes, read by real PySpark
# ----------------------------------------------------------------------------------------------


@pytest.mark.spark
def test_spark_reads_what_dump_writes(spark_context, tmp_path):
    data = spark_fixtures.MIXED
    cases = {
        "b1": dict(batch_size=1),
        "b3": dict(batch_size=3),
        "b10": dict(),
        "gzip_block": dict(batch_size=4, compression="block", codec="gzip"),
        "deflate_record": dict(batch_size=2, compression="record", codec="default"),
    }
    for name, kwargs in cases.items():
        spark.dump(data, tmp_path / name, **kwargs)
        assert sorted(os.listdir(tmp_path / name)) == ["_SUCCESS", "part-00000"]
        assert typed(spark.load(tmp_path / name)) == typed(data)
    paths = ",".join(str(tmp_path / n) for n in cases)
    # one Spark job reads all five outputs (pickleFile takes a comma-separated list, in that order)
    got = spark_context.pickleFile(paths).collect()
    assert typed(got) == typed(data) * len(cases)


@pytest.mark.spark
def test_spark_reads_dump_of_empty_and_by_value_objects(spark_context, tmp_path):
    Money, Pair = spark_fixtures.make_local_classes()
    objs = [Money(i, "USD") for i in range(12)] + [Pair(1, 2)]
    spark.dump(objs, tmp_path / "objs", batch_size=5)
    spark.dump([], tmp_path / "empty")
    spark.dump(range(25), tmp_path / "single.seq", batch_size=3, directory=False)
    got = (
        spark_context.pickleFile(f"{tmp_path / 'objs'},{tmp_path / 'empty'},{tmp_path / 'single.seq'}")
        .map(lambda o: (type(o).__name__, o.describe() if hasattr(o, "describe") else o))
        .collect()
    )
    assert got == [("Money", f"{i} USD") for i in range(12)] + [("Pair", (1, 2))] + [("int", i) for i in range(25)]


def test_dump_refuses_to_overwrite_and_checks_arguments(tmp_path):
    spark.dump([1], tmp_path / "out")
    with pytest.raises(FileExistsError, match="already exists .*overwrite=True"):
        spark.dump([2], tmp_path / "out")
    spark.dump([2, 3], tmp_path / "out", overwrite=True)
    assert spark.load(tmp_path / "out") == [2, 3]
    (tmp_path / "out" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="holds more than a pickle-file output \\(notes.txt\\): refusing"):
        spark.dump([4], tmp_path / "out", overwrite=True)
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        spark.dump([1], tmp_path / "x", batch_size=0)


def test_dump_groups_ten_batches_per_record_like_spark(tmp_path):
    spark.dump(range(205), tmp_path / "out", batch_size=2)
    sizes = [len(objs) for objs in spark.iter_batches(tmp_path / "out")]
    assert sizes == [20] * 10 + [5]  # 103 batches -> records of 10, 10, ..., 3 batches


def test_directory_with_a_subdirectory_is_an_error(tmp_path):
    spark.dump([1], tmp_path / "out")
    (tmp_path / "out" / "nested").mkdir()
    with pytest.raises(IsADirectoryError, match="nested' is a directory inside the SequenceFile directory"):
        spark.load(tmp_path / "out")
    with pytest.raises(FileNotFoundError, match="no such file or directory"):
        spark.load(tmp_path / "missing")


# ----------------------------------------------------------------------------------------------
# coderkit spark-pickle dump
# ----------------------------------------------------------------------------------------------


def run_cli(argv, capsys):
    from pickling.cli import main

    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_prints_json_lines_with_a_repr_wrapper_for_non_json_values(tmp_path, capsys):
    objs = [
        1,
        1.0,
        True,
        None,
        "s",
        [1, [2]],
        {"a": {"b": 2}},
        (1, 2),
        b"x",
        {1: 2},
        float("nan"),
        {"$repr": "fake"},
        datetime.date(2020, 1, 1),
        [(3,)],
    ]
    spark.dump(objs, tmp_path / "out", batch_size=4)
    code, out, err = run_cli(["spark-pickle", "dump", str(tmp_path / "out")], capsys)
    assert code == 0 and err == ""
    assert out.splitlines() == [
        "1",
        "1.0",
        "true",
        "null",
        '"s"',
        "[1, [2]]",
        '{"a": {"b": 2}}',
        '{"$type": "tuple", "$repr": "(1, 2)"}',
        '{"$type": "bytes", "$repr": "b\'x\'"}',
        '{"$type": "dict", "$repr": "{1: 2}"}',
        '{"$type": "float", "$repr": "nan"}',
        '{"$type": "dict", "$repr": "{\'$repr\': \'fake\'}"}',
        '{"$type": "datetime.date", "$repr": "datetime.date(2020, 1, 1)"}',
        '[{"$type": "tuple", "$repr": "(3,)"}]',
    ]


def test_cli_limit(tmp_path, capsys):
    spark.dump(range(100), tmp_path / "out", batch_size=7)
    code, out, _ = run_cli(["spark-pickle", "dump", str(tmp_path / "out"), "--limit", "12"], capsys)
    assert code == 0 and out.split() == [str(i) for i in range(12)]
    code, out, _ = run_cli(["spark-pickle", "dump", str(tmp_path / "out"), "--limit", "0"], capsys)
    assert code == 0 and out == ""


def test_cli_is_safe_unless_trusted(tmp_path, capsys):
    spark.dump([Custom(5)], tmp_path / "out")
    name = f"{Custom.__module__}.Custom"
    code, out, err = run_cli(["spark-pickle", "dump", str(tmp_path / "out")], capsys)
    assert code == 1 and out == ""
    assert f"safe mode blocked global '{name}' in {tmp_path / 'out' / 'part-00000'}, SequenceFile record 0" in err
    assert "--trust" in err
    code, out, err = run_cli(["spark-pickle", "dump", str(tmp_path / "out"), "--allow", name], capsys)
    assert code == 0 and f'"$type": "{name}"' in out
    code, out, err = run_cli(["spark-pickle", "dump", str(tmp_path / "out"), "--trust"], capsys)
    assert code == 0 and f'"$type": "{name}"' in out


def test_cli_reports_missing_paths_and_malformed_files(tmp_path, capsys):
    code, _, err = run_cli(["spark-pickle", "dump", str(tmp_path / "nope")], capsys)
    assert code == 2 and "no such file or directory" in err
    from coders.hadoop import SequenceFileWriter

    with SequenceFileWriter(str(tmp_path / "bad"), spark.NULL_WRITABLE, spark.BYTES_WRITABLE) as w:
        w.append(None, b"\xac\xed\x00\x05\x75")
    code, _, err = run_cli(["spark-pickle", "dump", str(tmp_path / "bad")], capsys)
    assert code == 1 and "malformed file" in err and "SequenceFile record 0" in err


PTY_RUN = """
import os, pty, sys, subprocess
master, slave = pty.openpty()
p = subprocess.run([sys.executable, "-m", "pickling.cli", "spark-pickle", "dump", sys.argv[1]],
                   stdout=subprocess.PIPE, stderr=slave)
os.close(slave)
err = os.read(master, 65536).decode()
print(repr(err))
"""


def test_cli_progress_bar_only_on_a_terminal(tmp_path):
    spark.dump(range(50), tmp_path / "out")
    plain = subprocess.run(
        [sys.executable, "-m", "pickling.cli", "spark-pickle", "dump", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert plain.returncode == 0 and plain.stderr == "" and len(plain.stdout.split()) == 50
    tty = subprocess.run(
        [sys.executable, "-c", PTY_RUN, str(tmp_path / "out")], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert "100.0% 50 records" in tty.stdout and "[####" in tty.stdout


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers() | st.text(max_size=5), max_size=6), max_size=12), st.data())
def test_fused_decoder_agrees_with_the_reference_split(batches, data):
    value = java_serialize_byte_arrays([pickle.dumps(b, protocol=5) for b in batches])
    if batches and data.draw(st.booleans()):
        # make the last element a back-reference to the first array (handle 0x7e0003): Java's shared object
        cut = value.rindex(b"\x75\x71\x00\x7e\x00\x02") if len(batches) > 1 else None
        if cut is not None:
            value = value[:cut] + b"\x71\x00\x7e\x00\x03"
            batches = batches[:-1] + [batches[0]]
    reference = [obj for chunk in split_java_byte_arrays(value) for obj in pickle.loads(chunk)]
    assert PickleFileDecoder().decode(value) == reference == [obj for b in batches for obj in b]


def test_part_files_are_in_partition_order_not_string_order(tmp_path):
    for name in ("part-100000", "part-99999", "part-00002", "_SUCCESS", ".part-00002.crc", "_temporary"):
        (tmp_path / name).write_bytes(b"")
    assert [os.path.basename(p) for p in spark.part_files(tmp_path)] == ["part-00002", "part-99999", "part-100000"]


def test_cli_without_an_action_prints_help(capsys):
    code, out, err = run_cli(["spark-pickle"], capsys)
    assert code == 2 and "dump" in err and out == ""


def test_a_value_that_is_not_a_bytes_writable_is_refused(tmp_path):
    from coders.hadoop import SequenceFileWriter

    value = java_serialize_byte_arrays([pickle.dumps([1])])
    with SequenceFileWriter(str(tmp_path / "bad"), spark.NULL_WRITABLE, spark.BYTES_WRITABLE) as w:
        w.append_raw(b"", len(value).to_bytes(4, "big") + value)
        w.append_raw(b"", (len(value) + 5).to_bytes(4, "big") + value)  # declares more bytes than it has
    with pytest.raises(
        DecodeError,
        match="bad: SequenceFile record 1: not a NullWritable key and a BytesWritable "
        f"value \\(0 key byte\\(s\\); {len(value) + 4} value bytes declaring "
        f"{len(value) + 5}\\)",
    ):
        spark.load(tmp_path / "bad")


@pytest.mark.parametrize(
    "name, reason",
    [
        ("codecs.lookup", "it resolves to an object of module '_codecs', outside the allowed modules"),
        ("JSONDecoder.__init__", "a dunder attribute is never allowed by a wildcard"),
    ],
)
def test_a_wildcard_does_not_reach_through_the_module(name, reason):
    # protocol 4 STACK_GLOBAL 'json' + dotted name: what an attacker would use to escape 'json.*'
    evil = b"\x80\x04\x8c\x04json\x94\x8c" + bytes([len(name)]) + name.encode() + b"\x94\x93\x94."
    value = java_serialize_byte_arrays([evil])
    with pytest.raises(UnsafeGlobalError) as info:
        PickleFileDecoder(safe=True, allow=["json.*"]).decode(value, "f", 0, 0)
    assert f"blocked global 'json.{name}' in f, SequenceFile record 0 at byte offset 0: {reason}" in str(info.value)
    assert pickle.loads(pickle.dumps(info.value)).reason == reason
    import json

    assert PickleFileDecoder(safe=True, allow=["json.*"]).decode(
        java_serialize_byte_arrays([pickle.dumps([json.JSONDecoder], protocol=4)])
    ) == [json.JSONDecoder]


def test_every_truncation_of_a_part_file_is_a_decode_error(tmp_path):
    spark.dump([{"a": i, "b": [i] * 3} for i in range(30)], tmp_path / "out", batch_size=4)
    data = (tmp_path / "out" / "part-00000").read_bytes()
    whole = spark.load(tmp_path / "out")
    cut_file = tmp_path / "cut"
    for cut in range(len(data)):
        cut_file.write_bytes(data[:cut])
        try:
            got = spark.load(cut_file)
        except DecodeError as e:
            assert str(cut_file) in str(e) and e.offset is not None, (cut, str(e))
        else:
            # only a cut exactly between records (or after the header) reads cleanly: a prefix of the objects
            assert got == whole[: len(got)] and len(got) % 4 == 0, cut


def test_dump_names_the_object_that_does_not_pickle_and_writes_nothing(tmp_path):
    import threading

    objs = [1, 2, 3, threading.Lock(), 5]
    with pytest.raises(pickle.PicklingError, match="dump: object 3 \\(_thread.lock <unlocked _thread.lock object"):
        spark.dump(objs, tmp_path / "out", batch_size=2)
    assert os.listdir(tmp_path / "out") == []  # no part file, no _SUCCESS
