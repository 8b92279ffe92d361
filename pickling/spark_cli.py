"""``coderkit spark-pickle dump PATH``: print a PySpark pickle file as JSON lines, safely by default.

Each object becomes one JSON line. JSON-native values (None, bool, int, finite float,
str, lists, and dicts with str keys) are written as themselves, recursively; anything
else (a tuple, bytes, a set, a datetime, a dict with non-str keys, NaN, an instance)
is written as the wrapper ``{"$type": "<module.qualname>", "$repr": "<repr(value)>"}``
so nothing is silently changed into something that looks the same.

The file is unpickled in safe mode (see :mod:`pickling.spark`) unless ``--trust`` is
given; ``--allow mypkg.MyClass`` / ``--allow 'mypkg.*'`` widens safe mode. A blocked
global exits 1 with the message; a malformed file exits 1 with the file and offset.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

from coders.errors import DecodeError
from coders.hadoop.cli import ProgressBar, empty_directory_note, stdout_closed

WRAPPER_KEYS = ("$type", "$repr")


def to_json_value(value):
    """``value`` as JSON-native data, with anything JSON cannot hold exactly in the ``$repr`` wrapper."""
    kind = type(value)
    if value is None or kind is bool or kind is int or kind is str:
        return value
    if kind is float:
        return value if math.isfinite(value) else _wrap(value)
    if kind is list:
        return [to_json_value(v) for v in value]
    if kind is dict and all(type(k) is str for k in value) and not any(k in WRAPPER_KEYS for k in value):
        return {k: to_json_value(v) for k, v in value.items()}
    return _wrap(value)


def _wrap(value) -> dict:
    kind = type(value)
    module = kind.__module__
    name = kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"
    return {"$type": name, "$repr": repr(value)}


def run_dump(args) -> int:
    from pickling import spark

    try:
        decoder = spark.PickleFileDecoder(safe=not args.trust, allow=args.allow if not args.trust else ())
        files = spark.part_files(args.path)
    except (ValueError, OSError) as e:
        print(f"coderkit spark-pickle dump: {e}", file=sys.stderr)
        return 2
    if not files:
        print(empty_directory_note("coderkit spark-pickle dump", os.fspath(args.path)), file=sys.stderr)
    progress = ProgressBar(sum(os.path.getsize(f) for f in files), sys.stderr) if sys.stderr.isatty() else None
    out = sys.stdout
    count = 0
    done_before = 0  # bytes of the files already finished
    limit = args.limit
    try:
        for file in files:
            if limit is not None and count >= limit:
                break
            for value, number, position in spark.iter_values(file):
                for obj in decoder.decode(value, file, number, position):
                    if limit is not None and count >= limit:
                        break
                    out.write(json.dumps(to_json_value(obj), ensure_ascii=False))
                    out.write("\n")
                    count += 1
                if progress is not None:
                    progress.update(done_before + position, count)
                if limit is not None and count >= limit:
                    break
            done_before += os.path.getsize(file)
        out.flush()
    except spark.UnsafeGlobalError as e:
        print(f"coderkit spark-pickle dump: {e}", file=sys.stderr)
        return 1
    except DecodeError as e:
        print(f"coderkit spark-pickle dump: {_decode_failure(e)}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `| head`: the reader has all it wants
        return stdout_closed()
    except OSError as e:  # a part file unreadable or gone while reading
        out.flush()
        print(f"coderkit spark-pickle dump: cannot read: {e}", file=sys.stderr)
        return 1
    finally:
        if progress is not None:
            progress.finish(count)
    return 0


def _decode_failure(e: DecodeError) -> str:
    """What went wrong, and the fix: a class the file names that this Python cannot import is
    not a malformed file (the bytes are fine; the code that defines them is missing here)."""
    cause = e.__cause__
    if isinstance(cause, ImportError):
        module = getattr(cause, "name", None) or "a module"
        return (
            f"cannot load: {e}. The file refers to {module!r}, which this Python cannot import: "
            f"install it or add it to PYTHONPATH, then run again"
        )
    if isinstance(cause, AttributeError):
        return (
            f"cannot load: {e}. The file refers to a class or function this Python's version of its "
            f"module does not define: use the code the file was written with"
        )
    return f"malformed file: {e}"


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"--limit must be >= 0, got {value}")
    return value


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "spark-pickle",
        help="read PySpark saveAsPickleFile output",
        description="Read PySpark RDD.saveAsPickleFile output without Spark.",
    )
    commands = parser.add_subparsers(dest="spark_pickle_command", metavar="ACTION")
    parser.set_defaults(func=lambda args: (parser.print_help(sys.stderr), 2)[1])
    dump = commands.add_parser(
        "dump",
        help="print the objects as JSON lines",
        description="Print every object of a pickle file or directory as one JSON line. Values JSON cannot hold "
        'exactly are written as {"$type": ..., "$repr": ...}. Reads in safe mode unless --trust.',
    )
    dump.add_argument("path", metavar="PATH", help="a part file or a saveAsPickleFile output directory")
    dump.add_argument("--limit", type=_non_negative, default=None, help="print at most N objects")
    dump.add_argument(
        "--trust",
        action="store_true",
        help="unpickle with every global allowed (runs code from the file: only for files you trust)",
    )
    dump.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="PATTERN",
        help="also allow this global in safe mode: module.Name or 'module.*' (repeatable)",
    )
    dump.set_defaults(func=run_dump)
