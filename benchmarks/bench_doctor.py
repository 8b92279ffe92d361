"""check_pipeline on a 50-transform pipeline, with the fresh-interpreter round trip.

Target (issue 4): the whole check, fresh interpreter included, in under 2 seconds. The
peer is what Beam itself does for the same pipeline: ``pickler.roundtrip`` of every fn
at construction, which finds at most the first problem and says nothing about keys,
coders or the worker's environment.
"""

from __future__ import annotations

import functools
import time

import apache_beam as beam
from apache_beam.internal import pickler

from benchmarks.common import parse_args
from pickling.loader import deferred_pickling_checks
from pickling.pipeline import check_pipeline, pipeline_fns


class Enrich(beam.DoFn):
    def __init__(self, table, columns):
        self.table = table
        self.columns = columns
        self.client = None

    def setup(self):
        self.client = object()

    def process(self, x):
        yield x


def scale(x, factor):
    return x * factor


def build(n_transforms: int = 50) -> beam.Pipeline:
    p = beam.Pipeline()
    with deferred_pickling_checks():
        pcoll = p | beam.Create(list(range(100)))
        lookup = {f"k{i}": i for i in range(1000)}
        for i in range(n_transforms - 2):
            kind = i % 4
            if kind == 0:
                pcoll = pcoll | f"Enrich{i}" >> beam.ParDo(Enrich(f"table{i}", [f"c{j}" for j in range(20)]))
            elif kind == 1:
                pcoll = pcoll | f"Scale{i}" >> beam.Map(functools.partial(scale, factor=i))
            elif kind == 2:
                pcoll = pcoll | f"Lookup{i}" >> beam.Map(lambda x, i=i: x + lookup.get(f"k{i}", 0))
            else:
                pcoll = pcoll | f"Keep{i}" >> beam.Filter(lambda x: x >= 0)
        (
            pcoll
            | "Key" >> beam.Map(lambda x: (str(x % 7), x)).with_output_types(tuple[str, int])
            | "Sum" >> beam.CombinePerKey(sum)
        )
    return p


def main(argv=None) -> None:
    args = parse_args(argv, __doc__.splitlines()[0])
    n = 20 if args.quick else 50
    p = build(n)
    fns = [obj for _, _, obj in pipeline_fns(p)]

    start = time.perf_counter()
    report = check_pipeline(p, fresh_interpreter=True)
    cold = time.perf_counter() - start
    assert report.ok, str(report)

    warm = min(_timed(lambda: check_pipeline(p, fresh_interpreter=True)) for _ in range(args.repeat))
    in_process = min(_timed(lambda: check_pipeline(p)) for _ in range(args.repeat))
    beam_only = min(_timed(lambda: [pickler.roundtrip(fn) for fn in fns]) for _ in range(args.repeat))

    print(f"check_pipeline on a {n}-transform pipeline ({report.checked} user fns, {report.size_bytes} bytes pickled)")
    print(f"  {'case':<44} {'seconds':>9}")
    print(f"  {'fresh interpreter, first run (cold)':<44} {cold:>9.3f}")
    print(
        f"  {'fresh interpreter, best of ' + str(args.repeat):<44} {warm:>9.3f}   target < 2.0 s: "
        f"{'met' if warm < 2.0 else 'NOT met'}"
    )
    print(f"  {'in process only':<44} {in_process:>9.3f}")
    print(
        f"  {'Beam construction check (roundtrip each fn)':<44} {beam_only:>9.3f}   "
        f"ratio coderkit(in process)/Beam = {in_process / beam_only:.1f}x the time"
    )


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
