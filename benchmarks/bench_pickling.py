"""check_picklable against a bare Beam pickler.dumps of the same objects, and the cost of the
fresh-interpreter round trip for 50 objects.

Cases:

* a DoFn with 1,000 attributes (ints, strings, small lists and dicts, a nested config
  object): ``check_picklable`` with its in-process round trip, and without it, vs Beam's
  ``pickler.dumps`` (bz2 + base64 included, as Beam does at ``beam.ParDo``);
* the same DoFn with three sockets among its attributes: the checker finds all three with
  their paths; Beam's ``pickler.dumps`` raises at the first, with no path;
* 50 objects (DoFns and lambdas) checked by ``check_many(..., fresh_interpreter=True)``,
  whose round trip runs in one new Python process, vs the floor: starting a Python process
  that imports apache_beam and unpickles the same 50 payloads.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time

from .common import Table, best_time, parse_args


def _make_dofn_class():
    import apache_beam as beam

    class Settings:
        def __init__(self):
            self.retries = 3
            self.endpoints = ["a", "b"]

    class WideDoFn(beam.DoFn):
        def __init__(self, n):
            for i in range(n):
                kind = i % 4
                value = (
                    i
                    if kind == 0
                    else f"value-{i}"
                    if kind == 1
                    else [i, i + 1, str(i)]
                    if kind == 2
                    else {"k": i, "s": str(i)}
                )
                setattr(self, f"attr_{i}", value)
            self.settings = Settings()

        def process(self, element):
            yield element

    return WideDoFn


def main(argv=None) -> None:
    args = parse_args(argv, __doc__.splitlines()[0])
    logging.getLogger().setLevel(logging.ERROR)
    from apache_beam.internal import pickler

    from pickling.backends import get_backend
    from pickling.check import check_many, check_picklable

    WideDoFn = _make_dofn_class()
    n_attrs = 200 if args.quick else 1_000
    dofn = WideDoFn(n_attrs)
    table = Table(
        f"check_picklable vs Beam pickler.dumps, DoFn with {n_attrs:,} attributes",
        ours="check_picklable",
        peer="pickler.dumps",
    )

    ours = best_time(lambda: check_picklable(dofn), repeat=args.repeat)
    ours_no_rt = best_time(lambda: check_picklable(dofn, roundtrip=False), repeat=args.repeat)
    peer = best_time(lambda: pickler.dumps(dofn), repeat=args.repeat)
    table.add("clean DoFn, with in-process round trip", 1 / ours, 1 / peer)
    table.add("clean DoFn, roundtrip=False", 1 / ours_no_rt, 1 / peer)

    socks = [socket.socket() for _ in range(3)]
    try:
        bad = WideDoFn(n_attrs)
        for i, s in enumerate(socks):
            setattr(bad, f"conn_{i}", s)

        def beam_first_error():
            try:
                pickler.dumps(bad)
            except TypeError:
                return
            raise AssertionError("Beam pickled a socket")

        report = check_picklable(bad)
        found = sorted(p.path for p in report.errors)
        ours_bad = best_time(lambda: check_picklable(bad), repeat=args.repeat)
        peer_bad = best_time(beam_first_error, repeat=args.repeat)
        table.add(
            "3 sockets: all found vs first error",
            1 / ours_bad,
            1 / peer_bad,
            note=f"found {len(found)}: {', '.join(found)}",
        )
    finally:
        for s in socks:
            s.close()
    table.print()

    # -- fresh interpreter: 50 objects, one process -------------------------------------
    count = 50
    objects = {}
    for i in range(count):
        objects[f"t{i}"] = WideDoFn(20) if i % 2 else (lambda x, i=i: x + i)
    backend = get_backend("beam")
    payloads = [backend.raw_dumps(o) for o in objects.values()]

    def fresh():
        reports = check_many(objects, fresh_interpreter=True)
        assert all(r.ok for r in reports), [str(r) for r in reports if not r.ok][:1]

    def floor():
        script = (
            "import pickle, sys\nimport apache_beam\n"
            "from apache_beam.internal import cloudpickle_pickler as p\n"
            "for data in pickle.load(sys.stdin.buffer):\n    p._loads(data)\n"
        )
        subprocess.run(
            [sys.executable, "-I", "-c", script],
            input=__import__("pickle").dumps(payloads),
            check=True,
            capture_output=True,
            env={"PATH": os.environ["PATH"]},
        )

    repeat = 1 if args.quick else min(args.repeat, 3)
    ours_fresh = best_time(fresh, repeat=repeat, warmup=0)
    floor_fresh = best_time(floor, repeat=repeat, warmup=0)
    start = time.perf_counter()
    check_many(objects)
    in_process = time.perf_counter() - start
    fresh_table = Table(
        f"{count} objects checked with the fresh-interpreter round trip (one process)",
        ours="check_many",
        peer="bare process",
    )
    fresh_table.add("objects per second, whole check", count / ours_fresh, count / floor_fresh)
    fresh_table.print()
    print(
        f"wall time: check_many(fresh_interpreter=True) {ours_fresh:.2f} s for {count} objects "
        f"(in-process part alone {in_process:.2f} s); a bare Python process importing Beam "
        f"and unpickling the same payloads {floor_fresh:.2f} s "
        f"(ratio {ours_fresh / floor_fresh:.2f}x)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
