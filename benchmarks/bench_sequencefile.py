"""SequenceFile throughput: write and read 100,000 Text/LongWritable records, uncompressed and block-compressed.

There is no in-process peer (no other Python library reads SequenceFiles), so the peer
for reading is Spark itself: ``sc.sequenceFile(path).count()`` on the same file in a
local PySpark started in a subprocess (its JVM start-up is not timed; the job includes
Spark turning each record into Python objects, as ours does). Writing has no peer and
prints figures only. ``--quick`` uses 20,000 records and skips Spark.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile

from benchmarks.common import Table, best_time, parse_args
from coders.hadoop import SequenceFileReader, SequenceFileWriter

MODES = [("none", None), ("block", "default"), ("block", "snappy"), ("record", "default")]

_SPARK_READER = r"""
import json, os, sys, time
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
from pyspark import SparkConf, SparkContext
sc = SparkContext.getOrCreate(SparkConf().setMaster("local[1]").setAppName("coderkit-bench")
                              .set("spark.ui.enabled", "false"))
sc.setLogLevel("ERROR")
repeat = int(sys.argv[1])
result = {}
for path in sys.argv[2:]:
    sc.sequenceFile(path).count()  # warm-up
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        n = sc.sequenceFile(path).count()
        best = min(best, time.perf_counter() - start)
    result[path] = [n, best]
sc.stop()
print("RESULT " + json.dumps(result))
"""


def records(n: int):
    return [(f"user-{i:08d}@example.com", i * 7919) for i in range(n)]


def write_file(path: str, recs, compression, codec) -> None:
    with SequenceFileWriter(path, "Text", "LongWritable", compression=compression, codec=codec) as w:
        append = w.append
        for k, v in recs:
            append(k, v)


def read_file(path: str) -> int:
    n = 0
    with SequenceFileReader(path) as r:
        for _ in r:
            n += 1
    return n


def spark_read_seconds(paths: list[str], repeat: int) -> dict[str, float]:
    """Best ``sc.sequenceFile(path).count()`` time per path, or {} when Spark cannot start."""
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _SPARK_READER, str(repeat), *paths], capture_output=True, text=True, timeout=600
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"(Spark peer not run: {e})")
        return {}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return {p: t for p, (n, t) in json.loads(line[7:]).items()}
    print(f"(Spark peer failed: {proc.stderr.strip().splitlines()[-1:] if proc.stderr else proc.returncode})")
    return {}


def main(argv=None) -> None:
    args = parse_args(argv, __doc__.splitlines()[0])
    n = 20_000 if args.quick else 100_000
    recs = records(n)
    with tempfile.TemporaryDirectory(prefix="coderkit-bench-seq-") as tmp:
        rows = []
        paths = {}
        for compression, codec in MODES:
            path = os.path.join(tmp, f"{compression}-{codec}.seq")
            paths[compression, codec] = path
            write_s = best_time(functools.partial(write_file, path, recs, compression, codec), repeat=args.repeat)
            size = os.path.getsize(path)
            assert read_file(path) == n
            read_s = best_time(functools.partial(read_file, path), repeat=args.repeat)
            rows.append((compression, codec, size, write_s, read_s))

        print(f"SequenceFile Text/LongWritable, {n:,} records (coderkit, best of {args.repeat})")
        header = (
            f"{'mode':<16} {'file MB':>8} {'write rec/s':>12} {'write MB/s':>11} {'read rec/s':>11} {'read MB/s':>10}"
        )
        print("-" * len(header))
        print(header)
        print("-" * len(header))
        for compression, codec, size, write_s, read_s in rows:
            mb = size / 1e6
            print(
                f"{compression + (f'/{codec}' if codec else ''):<16} {mb:>8.2f} {n / write_s:>12,.0f} "
                f"{mb / write_s:>11.1f} {n / read_s:>11,.0f} {mb / read_s:>10.1f}"
            )
        print("-" * len(header))

        if args.quick:
            print("(--quick: Spark peer skipped)")
            return
        spark = spark_read_seconds(list(paths.values()), args.repeat)
        if spark:
            table = Table(
                f"Reading {n:,} records into Python: coderkit vs Spark sc.sequenceFile().count()",
                ours="coderkit rec",
                peer="spark rec",
            )
            for compression, codec, _size, _write_s, read_s in rows:
                t = spark.get(paths[compression, codec])
                if t:
                    table.add(f"read {compression}" + (f"/{codec}" if codec else ""), n / read_s, n / t)
            table.print()


if __name__ == "__main__":
    main(sys.argv[1:])
