"""What every benchmark module shares: argument parsing, best-of-N timing, and the results table.

A benchmark module ``benchmarks/bench_<topic>.py`` defines ``main(argv=None)``, parses its
arguments with :func:`parse_args` (so ``--quick`` means the same everywhere), measures
each case for coderkit and for the peer with :func:`ops_per_second`, and prints a
:class:`Table`. Timing is wall-clock with ``time.perf_counter``: the best of several
repeats after a warm-up, because the minimum is the run least disturbed by the rest of
the machine (the best estimate of what the code itself costs).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from typing import Callable, Sequence, TextIO

__all__ = ["Row", "Table", "best_time", "compare_rates", "ops_per_second", "parse_args"]


def parse_args(argv: Sequence[str] | None, description: str) -> argparse.Namespace:
    """Parse a benchmark module's arguments: ``--quick`` (small sizes) and ``--repeat N``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="shrink sizes for a fast smoke run")
    parser.add_argument("--repeat", type=int, default=None, help="timed repeats per case (best is kept)")
    args = parser.parse_args(list(argv) if argv is not None else [])
    if args.repeat is None:
        args.repeat = 2 if args.quick else 5
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def best_time(fn: Callable[[], object], repeat: int = 5, warmup: int = 1) -> float:
    """The shortest of ``repeat`` timed calls of ``fn()`` in seconds, after ``warmup`` untimed calls.

    The garbage collector is paused during each timed call (and run between calls) so a
    collection triggered by one side's garbage is not billed to the other.
    """
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, got {repeat}")
    for _ in range(warmup):
        fn()
    best = float("inf")
    enabled = gc.isenabled()
    try:
        for _ in range(repeat):
            gc.collect()
            gc.disable()
            start = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - start
            if enabled:
                gc.enable()
            best = min(best, elapsed)
    finally:
        if enabled:
            gc.enable()
    return best


def ops_per_second(fn: Callable[[], object], ops: int, repeat: int = 5, warmup: int = 1) -> float:
    """Operations per second of ``fn()``, which performs ``ops`` operations per call (best of ``repeat``)."""
    seconds = best_time(fn, repeat=repeat, warmup=warmup)
    return ops / seconds if seconds > 0 else float("inf")


def _timed(fn: Callable[[], object]) -> float:
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()


def compare_rates(
    ours: Callable[[], object], peer: Callable[[], object], ops: int, repeat: int = 5, warmup: int = 1
) -> tuple[float, float]:
    """Operations per second of ``ours`` and ``peer`` (each doing ``ops`` operations per call).

    The two are timed alternately, one repeat each in turn, and the best of each kept: on
    a shared machine a burst of load then hits both sides alike instead of one whole side.
    """
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, got {repeat}")
    for _ in range(warmup):
        ours()
        peer()
    best_ours = best_peer = float("inf")
    for _ in range(repeat):
        best_ours = min(best_ours, _timed(ours))
        best_peer = min(best_peer, _timed(peer))
    return (ops / best_ours if best_ours > 0 else float("inf"), ops / best_peer if best_peer > 0 else float("inf"))


class Row:
    """One case: our rate, the peer's rate, and optionally the ratio we aim for."""

    __slots__ = ("case", "ours", "peer", "target", "note")

    def __init__(self, case: str, ours: float, peer: float, target: float | None = None, note: str = ""):
        self.case, self.ours, self.peer, self.target, self.note = case, ours, peer, target, note

    @property
    def ratio(self) -> float:
        return self.ours / self.peer if self.peer else float("inf")

    @property
    def meets_target(self) -> bool | None:
        return None if self.target is None else self.ratio >= self.target


def _rate(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e3:
        return f"{value / 1e3:.1f}k"
    return f"{value:.1f}"


class Table:
    """Rows of (case, ours ops/s, peer ops/s, ratio ours/peer, target) printed as aligned text."""

    def __init__(self, title: str, ours: str = "ours", peer: str = "peer"):
        self.title, self.ours_label, self.peer_label = title, ours, peer
        self.rows: list[Row] = []

    def add(self, case: str, ours: float, peer: float, target: float | None = None, note: str = "") -> Row:
        row = Row(case, ours, peer, target, note)
        self.rows.append(row)
        return row

    def render(self) -> str:
        header = ["case", f"{self.ours_label} ops/s", f"{self.peer_label} ops/s", "ratio ours/peer", "target", "status"]
        lines = []
        for r in self.rows:
            status = "" if r.target is None else ("ok" if r.meets_target else "BELOW TARGET")
            if r.note:
                status = f"{status} ({r.note})" if status else r.note
            lines.append(
                [
                    r.case,
                    _rate(r.ours),
                    _rate(r.peer),
                    f"{r.ratio:.2f}",
                    "" if r.target is None else f">={r.target:.1f}",
                    status,
                ]
            )
        widths = [max(len(x[i]) for x in [header] + lines) for i in range(len(header))]
        aligns = ["<", ">", ">", ">", "<", "<"]

        def fmt(cells):
            return "  ".join(f"{c:{a}{w}}" for c, a, w in zip(cells, aligns, widths)).rstrip()

        rule = "-" * len(fmt(header))
        return "\n".join([self.title, rule, fmt(header), rule, *(fmt(x) for x in lines), rule])

    def print(self, file: TextIO | None = None) -> None:
        print(self.render(), file=file or sys.stdout, flush=True)
