"""Reading a 200,000-record, multi-part PySpark pickle file: coderkit vs sparkpickle vs the unpickling limit.

Each file is written once with real PySpark (``saveAsPickleFile``, default batch size 10,
4 partitions) into ``benchmarks/_data/`` (ignored by git) and reused while present. Two
record shapes, because the two targets pull opposite ways: a reader's cost is per batch
(framing) plus per record (unpickling), so small records make the framing overhead
visible against the limit, and large ones hide sparkpickle's per-batch overhead:

* ``pairs``: ``(i, "user-<i>")`` tuples;
* ``rows``: ``(i, "user-<i>", i * 0.25, {"bucket": i % 7})`` tuples.

Three readers are timed over each:

* coderkit: ``pickling.spark.load(directory)``;
* sparkpickle (PyPI): ``sparkpickle.load(f)`` on each part file;
* the limit: plain ``pickle.loads`` over the batches already extracted into memory
  (no file, no SequenceFile or Java framing), which no reader can beat.

Every reader's output is checked equal to the others' before timing.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks.common import Table, ops_per_second, parse_args

DATA_DIR = Path(__file__).resolve().parent / "_data"
RECORDS = 200_000
PARTS = 4

_WRITER = r"""
import os, sys
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
from pyspark import SparkConf, SparkContext
conf = SparkConf().setMaster("local[2]").setAppName("coderkit-bench").set("spark.ui.enabled", "false")
sc = SparkContext.getOrCreate(conf)
sc.setLogLevel("ERROR")
n, parts, path, shape = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
if shape == "pairs":
    make = lambda i: (i, "user-%d" % i)
else:
    make = lambda i: (i, "user-%d" % i, i * 0.25, {"bucket": i % 7})
sc.parallelize(range(n), parts).map(make).saveAsPickleFile(path)
sc.stop()
"""


SHAPES = {
    "pairs": lambda i: (i, f"user-{i}"),
    "rows": lambda i: (i, f"user-{i}", i * 0.25, {"bucket": i % 7}),
}


def spark_pickle_dir(records: int, shape: str) -> Path:
    """The benchmark input, written by real PySpark unless already present and complete."""
    path = DATA_DIR / f"spark_pickle_{shape}_{records}x{PARTS}"
    if (path / "_SUCCESS").exists():
        return path
    shutil.rmtree(path, ignore_errors=True)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    print(f"writing {path} with PySpark (once)...", file=sys.stderr, flush=True)
    subprocess.run(
        [sys.executable, "-c", _WRITER, str(records), str(PARTS), str(path), shape],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return path


def extract_payloads(path: Path) -> list[bytes]:
    """Every pickled batch of the file, as bytes in memory (what the limit unpickles)."""
    from pickling import spark

    payloads = []
    for file in spark.part_files(path):
        for value, _, _ in spark.iter_values(file):
            payloads.extend(bytes(chunk) for chunk in spark.split_java_byte_arrays(value))
    return payloads


def bench_shape(shape: str, records: int, repeat: int, table: Table) -> None:
    import sparkpickle

    from pickling import spark

    path = spark_pickle_dir(records, shape)
    parts = spark.part_files(path)
    payloads = extract_payloads(path)

    def read_coderkit():
        return spark.load(path)

    def read_sparkpickle():
        out = []
        for part in parts:
            with open(part, "rb") as f:
                out += sparkpickle.load(f)
        return out

    def read_limit():
        out = []
        for payload in payloads:
            out += pickle.loads(payload)
        return out

    make = SHAPES[shape]
    expected = [make(i) for i in range(records)]
    for name, fn in (("coderkit", read_coderkit), ("sparkpickle", read_sparkpickle), ("pickle.loads", read_limit)):
        if fn() != expected:
            raise AssertionError(f"{name} read something other than the {records} records PySpark wrote")

    size = sum(os.path.getsize(p) for p in parts) / 1e6
    ours = ops_per_second(read_coderkit, records, repeat=repeat)
    peer = ops_per_second(read_sparkpickle, records, repeat=repeat)
    limit = ops_per_second(read_limit, records, repeat=repeat)
    note = f"{len(parts)} parts, {size:.1f} MB, {len(payloads)} batches"
    table.add(f"{shape}: coderkit vs sparkpickle", ours, peer, target=5.0, note=note)
    table.add(f"{shape}: coderkit vs pickle.loads limit", ours, limit, target=0.8)


def main(argv=None) -> None:
    args = parse_args(argv, __doc__.splitlines()[0])
    records = 20_000 if args.quick else RECORDS
    table = Table(
        f"Reading a {records}-record PySpark saveAsPickleFile output (records/s)", ours="coderkit", peer="peer"
    )
    for shape in SHAPES:
        bench_shape(shape, records, args.repeat, table)
    table.print()


if __name__ == "__main__":
    main(sys.argv[1:])
