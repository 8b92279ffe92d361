"""``coderkit compat snapshot|check``: the evolution check of ``coders.compat`` for CI.

* ``coderkit compat snapshot MODULE:QUALNAME [--format record|row] [-o FILE]`` prints (or writes,
  atomically) the snapshot of the coder for a type, or of a coder object the module defines.
* ``coderkit compat check SNAPSHOT MODULE:QUALNAME [--format record|row] [--json]`` prints the
  verdict and every problem (field path, reason, fix).

Exit codes: 0 identical or compatible (or the snapshot written), 1 incompatible, 2 a usage error, a
module that fails to import, or a snapshot file that is missing or corrupt (one line, no traceback).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from typing import Any

_PROG = "coderkit compat"


def _fail(message: str) -> int:
    print(f"{_PROG}: {message}", file=sys.stderr)
    return 2


def _load_target(target: str) -> Any:
    """The object at ``MODULE:QUALNAME`` (a type, or a coder), importing the module from the current directory too."""
    module_name, sep, qualname = target.partition(":")
    if not sep or not module_name or not qualname:
        raise ValueError(f"{target!r} is not MODULE:QUALNAME (for example shop.models:Order)")
    if "" not in sys.path and "." not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, "")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as e:  # the user's module failing to import is their error to read, not a traceback
        raise ValueError(f"cannot import {module_name}: {type(e).__name__}: {e}") from None
    for part in qualname.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"{module_name} has no attribute {qualname!r}")
        obj = getattr(obj, part)
    return obj


def _coder_of(target: str, record_format: str | None):
    """The coder ``target`` names (a coder object as it is, a type through the registry); ValueError says why not."""
    from coders import compat
    from coders.errors import CoderError

    obj = _load_target(target)
    try:
        return compat.coder_for(obj, record_format)
    except (CoderError, TypeError, ValueError) as e:
        raise ValueError(f"cannot build a coder for {target}: {e}") from None


def run_snapshot(args) -> int:
    from coders import compat

    try:
        coder = _coder_of(args.target, args.format)
        snap = compat.snapshot(coder)
    except ValueError as e:
        return _fail(str(e))
    text = compat.dumps(snap)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        compat.write_atomically(args.output, text)
    except OSError as e:
        return _fail(f"cannot write {args.output!r}: {e.strerror or e}")
    print(f"{_PROG}: wrote the snapshot of {args.target} to {args.output}", file=sys.stderr)
    return 0


def run_check(args) -> int:
    from coders import compat

    try:
        old = compat.load_snapshot(args.snapshot)
    except compat.SnapshotError as e:
        return _fail(f"{args.snapshot}: {e}")
    try:
        report = compat.check(old, _coder_of(args.target, args.format))
    except compat.SnapshotError as e:  # a ref naming nothing: found only while comparing
        return _fail(f"{args.snapshot}: {e}")
    except ValueError as e:
        return _fail(str(e))
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(f"{args.target} against {args.snapshot}: {report}")
    return 0 if report.ok else 1


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "compat",
        help="check that new code reads the bytes old code wrote",
        description="Snapshot a coder's wire format, and check new code against a committed snapshot.",
    )
    parser.set_defaults(func=lambda args: (parser.print_help(sys.stderr), 2)[1])
    commands = parser.add_subparsers(dest="compat_command", metavar="ACTION")
    formats = ("record", "row")

    snap = commands.add_parser(
        "snapshot",
        help="print or write the snapshot of a type's coder",
        description="Describe the coder of MODULE:QUALNAME (a type, or a coder object) and its wire format as JSON.",
    )
    snap.add_argument("target", metavar="MODULE:QUALNAME", help="the type (or coder) whose coder to describe")
    snap.add_argument("--format", choices=formats, default=None, help="the record format the registry derives")
    snap.add_argument("-o", "--output", metavar="FILE", default=None, help="write here (atomically), not stdout")
    snap.set_defaults(func=run_snapshot)

    chk = commands.add_parser(
        "check",
        help="check a type's coder against a snapshot",
        description="Exit 0 when the coder of MODULE:QUALNAME reads every byte string the snapshotted coder "
        "wrote (identical or compatible), 1 when it does not (every problem with its field path and fix), "
        "2 on a usage or import error or a corrupt snapshot.",
    )
    chk.add_argument("snapshot", metavar="SNAPSHOT", help="a snapshot file written by `coderkit compat snapshot`")
    chk.add_argument("target", metavar="MODULE:QUALNAME", help="the new type (or coder)")
    chk.add_argument("--format", choices=formats, default=None, help="the record format the registry derives")
    chk.add_argument("--json", action="store_true", help="print the report as JSON")
    chk.set_defaults(func=run_check)
