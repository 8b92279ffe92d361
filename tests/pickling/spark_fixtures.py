"""Real PySpark pickle files for the tests: written once per session by the shared SparkContext.

Functions here run on Spark's Python workers, which cannot import this file by name,
so the module registers itself with PySpark's cloudpickle to be pickled by value.
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import decimal
import os
import sys

COMPRESS = "mapreduce.output.fileoutputformat.compress"
COMPRESS_CODEC = "mapreduce.output.fileoutputformat.compress.codec"
COMPRESS_TYPE = "mapreduce.output.fileoutputformat.compress.type"

# values whose exact type and sign matter: 1 vs 1.0 vs True, -0.0, big ints, bytes vs str
MIXED = [
    0,
    1,
    -1,
    2**70,
    -(2**63),
    1.0,
    -0.0,
    1e300,
    True,
    False,
    None,
    "",
    "héllo ✓",
    b"\x00\xff",
    (1, "a"),
    [1, [2, 3]],
    {"k": [1, 2]},
    {1, 2},
    frozenset({"x"}),
    3 + 4j,
    decimal.Decimal("1.10"),
    datetime.datetime(2024, 2, 29, 12, 30, 1, 5),
    datetime.date(2020, 1, 1),
    datetime.timedelta(days=1, microseconds=3),
    collections.OrderedDict([("b", 1), ("a", 2)]),
    bytearray(b"ba"),
] + [{"id": i, "name": f"row{i}", "score": i / 4} for i in range(40)]


def _register_by_value() -> None:
    from pyspark import cloudpickle as spark_cloudpickle

    module = sys.modules[__name__]
    if module.__name__ not in getattr(spark_cloudpickle.cloudpickle, "_PICKLE_BY_VALUE_MODULES", ()):
        spark_cloudpickle.register_pickle_by_value(module)


@contextlib.contextmanager
def hadoop_output_compression(sc, codec: str, kind: str):
    """Turn on Hadoop output compression for saveAsPickleFile inside the block."""
    conf = sc._jsc.hadoopConfiguration()
    conf.set(COMPRESS, "true")
    conf.set(COMPRESS_CODEC, f"org.apache.hadoop.io.compress.{codec}")
    conf.set(COMPRESS_TYPE, kind)
    try:
        yield
    finally:
        for key in (COMPRESS, COMPRESS_CODEC, COMPRESS_TYPE):
            conf.unset(key)


@contextlib.contextmanager
def worker_env(sc, name: str, value: str):
    """Set an environment variable for the Python workers of jobs started inside the block."""
    sc.environment[name] = value
    try:
        yield
    finally:
        del sc.environment[name]


def make_patched_namedtuple(i):
    """Runs on a worker: with PYSPARK_ENABLE_NAMEDTUPLE_PATCH=1 PySpark pickles this via _restore."""
    import collections as c

    Point = c.namedtuple("Point", "x label")
    return Point(i, f"p{i}")


def make_local_classes():
    """A class and a namedtuple defined in a function: cloudpickle must pickle them by value."""

    class Money:
        def __init__(self, amount, currency):
            self.amount = amount
            self.currency = currency

        def describe(self):
            return f"{self.amount} {self.currency}"

        def __eq__(self, other):
            return type(other).__name__ == type(self).__name__ and (self.amount, self.currency) == (
                other.amount,
                other.currency,
            )

        def __repr__(self):
            return f"Money({self.amount!r}, {self.currency!r})"

    Pair = collections.namedtuple("Pair", "left right")
    return Money, Pair


def write_spark_pickle_files(sc, root) -> dict:
    """Write every fixture with real PySpark; return ``{name: (path, expected objects)}``."""
    _register_by_value()
    root = str(root)
    files: dict = {}

    def save(name, rdd, expected, *args):
        path = os.path.join(root, name)
        rdd.saveAsPickleFile(path, *args)
        files[name] = (path, expected)

    for batch in (1, 3, 10):
        save(f"batch{batch}", sc.parallelize(MIXED, 3), MIXED, batch)
    save("batch_default", sc.parallelize(MIXED, 2), MIXED)
    save("batch_auto", sc.parallelize(range(3000), 2), list(range(3000)), 0)  # AutoBatchedSerializer
    save("empty_rdd", sc.parallelize([], 2), [])
    save("empty_partitions", sc.parallelize([7, 8], 5), [7, 8])  # 5 partitions, 3 of them empty
    save("many_records", sc.parallelize(range(2000), 2), list(range(2000)), 1)  # 100 SequenceFile records

    for codec in ("GzipCodec", "DefaultCodec", "BZip2Codec"):
        for kind in ("BLOCK", "RECORD"):
            with hadoop_output_compression(sc, codec, kind):
                save(f"{codec}_{kind}", sc.parallelize(MIXED, 2), MIXED, 3)

    Money, Pair = make_local_classes()
    by_value = [Money(i, "EUR") for i in range(5)] + [Pair(1, "a"), Pair([2], None)]
    save("by_value", sc.parallelize(by_value, 2), by_value, 2)

    from pyspark.sql import Row

    rows = [Row(id=i, name=f"n{i}", inner=Row(x=i, tags=[i, i])) for i in range(5)]
    save("sql_rows", sc.parallelize(rows, 2), [(i, f"n{i}", (i, [i, i])) for i in range(5)], 2)

    with worker_env(sc, "PYSPARK_ENABLE_NAMEDTUPLE_PATCH", "1"):
        points = [(i, f"p{i}") for i in range(7)]
        save("namedtuple_patch", sc.parallelize(range(7), 2).map(make_patched_namedtuple), points, 2)
    return files
