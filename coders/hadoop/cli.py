"""``coderkit seqfile info|dump``: look inside SequenceFiles without Spark or Java.

* ``coderkit seqfile info PATH``: per file, the header (classes, compression, codec,
  metadata, sync marker), the record count and the sync entries' offsets.
* ``coderkit seqfile dump PATH [--limit N] [--raw] [--positions]``: one JSON object per
  record on stdout: ``{"key": ..., "value": ...}``. bytes become ``{"$base64": "..."}``,
  non-finite floats ``{"$float": "NaN"}`` (or ``"Infinity"``, ``"-Infinity"``), a dict
  whose keys are not all str, or has a key starting with ``$``, ``{"$map": [[key, value], ...]}``,
  and a value JSON has no form for (from a user's coder: a set, a datetime ...)
  ``{"$type": "module.Name", "$repr": "..."}``; so no two values print the same. A
  progress bar goes to stderr when it is a terminal and the input is large.

Exit codes: 0 done, 1 the data is corrupt or names a class with no coder, 2 bad usage.
"""

from __future__ import annotations

import base64
import json
import math
import os
import sys
import time

from ..errors import CoderNotFoundError, DecodeError
from .sequencefile import SequenceFileReader, list_part_files

__all__ = ["ProgressBar", "empty_directory_note", "register", "stdout_closed", "to_json_value"]

PROGRESS_MIN_BYTES = 8 * 1024 * 1024


def register(subparsers) -> None:
    """Add ``seqfile info`` and ``seqfile dump`` to the ``coderkit`` command."""
    parser = subparsers.add_parser(
        "seqfile",
        help="inspect Hadoop SequenceFiles (info, dump)",
        description="Inspect Hadoop SequenceFiles without Spark or Java.",
    )
    sub = parser.add_subparsers(dest="seqfile_command", metavar="ACTION")
    parser.set_defaults(func=lambda args: (parser.print_help(sys.stderr), 2)[1])

    info = sub.add_parser("info", help="header, classes, codec, metadata, record count and sync markers")
    info.add_argument("path", help="a SequenceFile or a directory of part files")
    info.add_argument("--json", action="store_true", help="print one JSON object per file")
    info.set_defaults(func=run_info)

    dump = sub.add_parser("dump", help="records as JSON lines on stdout")
    dump.add_argument("path", help="a SequenceFile or a directory of part files")
    dump.add_argument("--limit", type=int, default=None, help="stop after this many records")
    dump.add_argument(
        "--raw",
        action="store_true",
        help="print the serialized key and value bytes instead of decoding them (any class)",
    )
    dump.add_argument("--positions", action="store_true", help="add each record's file and byte offset")
    dump.add_argument("--no-progress", action="store_true", help="never draw the progress bar")
    dump.set_defaults(func=run_dump)


def _parts(path: str) -> list[str] | None:
    try:
        parts = list_part_files(path)
    except OSError as e:  # missing path, a subdirectory among the parts
        print(f"coderkit seqfile: {e}", file=sys.stderr)
        return None
    if not parts:  # an empty output, or a job that has not committed its parts: say so, not silence
        print(empty_directory_note("coderkit seqfile", path), file=sys.stderr)
    return parts


def empty_directory_note(command: str, path: str) -> str:
    """What to say about a directory without part files (only ``_*``/``.*`` entries, or nothing)."""
    hidden = sorted(os.listdir(path)) if os.path.isdir(path) else []
    unfinished = (
        " (a _temporary directory: the job may not have committed its output yet)" if "_temporary" in hidden else ""
    )
    listed = f"; it holds only {', '.join(hidden)}" if hidden else "; it is empty"
    return f"{command}: note: no part files in {path!r}{listed}{unfinished}"


def stdout_closed() -> int:
    """The reader of our output went away (``| head``): stop quietly, as a Unix filter does."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not fail again
    except (OSError, ValueError, AttributeError):
        pass
    return 0


def _fail(e: Exception) -> int:
    print(f"coderkit seqfile: error: {e}", file=sys.stderr)
    if isinstance(e, CoderNotFoundError):
        print("coderkit seqfile: hint: `coderkit seqfile dump --raw` prints the bytes of any class", file=sys.stderr)
    return 1


def run_info(args) -> int:
    parts = _parts(args.path)
    if parts is None:
        return 2
    try:
        for part in parts:
            with SequenceFileReader(part, raw=True) as reader:
                info = reader.header()
                syncs = reader.sync_offsets()
                info["records"] = reader.count_records()
                info["sync_markers"] = len(syncs)
                info["sync_offsets"] = syncs
            if args.json:
                print(json.dumps(info, ensure_ascii=False))
            else:
                _print_info(info)
            sys.stdout.flush()
    except BrokenPipeError:
        return stdout_closed()
    except (DecodeError, CoderNotFoundError, OSError) as e:
        return _fail(e)
    return 0


def _print_info(info: dict) -> None:
    shown = info["sync_offsets"][:10]
    more = f" ... ({len(info['sync_offsets']) - 10} more)" if len(info["sync_offsets"]) > 10 else ""
    lines = [
        f"{info['path']}",
        f"  size:         {info['size']} bytes (header {info['header_end']} bytes)",
        f"  version:      {info['version']}",
        f"  key class:    {info['key_class']}",
        f"  value class:  {info['value_class']}",
        f"  compression:  {info['compression']}" + (f" ({info['codec_class']})" if info["codec_class"] else ""),
        f"  sync marker:  {info['sync']}",
        f"  records:      {info['records']}",
        f"  sync entries: {info['sync_markers']}" + (f" at {', '.join(map(str, shown))}{more}" if shown else ""),
        "  metadata:" + ("" if info["metadata"] else "     (none)"),
    ]
    lines += [f"    {k}: {v}" for k, v in info["metadata"].items()]
    print("\n".join(lines))


def to_json_value(value):
    """A decoded Writable value as something ``json.dumps`` writes without ambiguity (see the
    module docstring): a string never prints like a float or a wrapper, a dict never like bytes."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {"$float": "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: to_json_value(v) for k, v in value.items()}
        return {"$map": [[to_json_value(k), to_json_value(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    kind = type(value)
    return {"$type": f"{kind.__module__}.{kind.__qualname__}", "$repr": repr(value)}


class ProgressBar:
    """A one-line progress bar (bytes done of ``total``, records so far), redrawn at most ten
    times a second; the CLIs draw it on stderr only when that is a terminal."""

    def __init__(self, total: int, stream):
        self.total = max(total, 1)
        self.stream = stream
        self.last = 0.0

    def update(self, done: int, records: int, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < 0.1:
            return
        self.last = now
        frac = min(done / self.total, 1.0)
        bar = "#" * int(frac * 30)
        self.stream.write(f"\r[{bar:<30}] {frac:6.1%} {records} records")
        self.stream.flush()

    def finish(self, records: int) -> None:
        self.update(self.total, records, force=True)
        self.stream.write("\n")
        self.stream.flush()


def run_dump(args) -> int:
    if args.limit is not None and args.limit < 0:
        print("coderkit seqfile: --limit must be 0 or more", file=sys.stderr)
        return 2
    parts = _parts(args.path)
    if parts is None:
        return 2
    total = sum(os.path.getsize(p) for p in parts)
    progress = None
    if not args.no_progress and total >= PROGRESS_MIN_BYTES and sys.stderr.isatty():
        progress = ProgressBar(total, sys.stderr)
    out = sys.stdout
    count = 0
    done_before = 0
    try:
        for part in parts:
            if args.limit is not None and count >= args.limit:
                break
            with SequenceFileReader(part, raw=args.raw) as reader:
                for position, key, value in reader.records_with_positions():
                    if args.limit is not None and count >= args.limit:
                        break
                    record = {"key": to_json_value(key), "value": to_json_value(value)}
                    if args.positions:
                        record = {"file": part, "position": position, **record}
                    out.write(json.dumps(record, ensure_ascii=False, allow_nan=False))
                    out.write("\n")
                    count += 1
                    if progress is not None:
                        progress.update(done_before + position, count)
            done_before += os.path.getsize(part)
        out.flush()
    except BrokenPipeError:
        return stdout_closed()
    except (DecodeError, CoderNotFoundError, OSError) as e:
        out.flush()
        return _fail(e)
    finally:
        if progress is not None:
            progress.finish(count)
    return 0
