"""The ``coderkit`` command: one entry point, subcommands contributed by the modules that own them.

Each module in ``_COMMAND_MODULES`` defines ``register(subparsers)``, adding its
subparsers with ``set_defaults(func=handler)``; a handler takes the parsed args and
returns the exit code (0 clean, 1 problems found, 2 usage or import error).
"""

from __future__ import annotations

import argparse
import importlib
import sys

_COMMAND_MODULES = (
    "pickling.doctor_cli",  # coderkit check, coderkit doctor
    "coders.hadoop.cli",  # coderkit seqfile info|dump
    "pickling.spark_cli",  # coderkit spark-pickle dump
    "pickling.compat_cli",  # coderkit compat snapshot|check
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coderkit",
        description="Serialization checks and Hadoop/Spark file tools for data pipelines.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if not (name == e.name or name.startswith(f"{e.name}.")):
                raise  # a real missing dependency inside the module: say so
            continue  # that subcommand's module is not part of this build
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
