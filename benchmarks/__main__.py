"""Run every benchmark: ``python -m benchmarks [--quick] [--repeat N] [FILTER ...]``.

Each ``benchmarks/bench_*.py`` module is imported in name order and its ``main(argv)``
called with the options given here (``--quick``, ``--repeat``). A FILTER runs only the
modules whose name contains it (``python -m benchmarks coders`` runs bench_coders).
A module that fails is reported and the others still run; the exit status says whether
any failed.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
import traceback
from pathlib import Path


def discover() -> list[str]:
    """The names of the bench_* modules next to this file, in name order."""
    here = Path(__file__).resolve().parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument(
        "filters", nargs="*", metavar="FILTER", help="run only modules whose name contains one of these"
    )
    parser.add_argument("--quick", action="store_true", help="shrink sizes for a fast smoke run")
    parser.add_argument("--repeat", type=int, help="timed repeats per case (the best is kept)")
    args = parser.parse_args(argv)

    names = [n for n in discover() if not args.filters or any(f in n for f in args.filters)]
    if not names:
        parser.error(f"no benchmark module matches {args.filters} (available: {', '.join(discover())})")
    forwarded = (["--quick"] if args.quick else []) + (["--repeat", str(args.repeat)] if args.repeat else [])

    failed = []
    for name in names:
        print(f"\n=== {name} {' '.join(forwarded)}".rstrip(), flush=True)
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"{__package__ or 'benchmarks'}.{name}")
            module.main(forwarded)
        except Exception:
            traceback.print_exc()
            failed.append(name)
        print(f"({name} took {time.perf_counter() - start:.1f} s)", flush=True)
    if failed:
        print(f"\nFAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
