"""``coderkit check`` and ``coderkit doctor``: the checker for CI, as a command.

* ``coderkit check MODULE:ATTR ...`` imports each object and checks it.
* ``coderkit doctor PATH.py[:FUNCTION]`` builds the file's pipelines without running
  them (see :mod:`pickling.loader`) and prints the ``check_pipeline`` report.

Exit status: 0 clean, 1 problems found (errors; warnings too with ``--strict``),
2 usage or import error, with a message saying what could not be loaded and why.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import shlex
import sys
from typing import Any, Iterator
from xml.sax.saxutils import escape, quoteattr

from .backends import BACKENDS
from .report import PicklabilityReport

__all__ = ["register", "render"]

_COMPARE_WITH = ("beam:cloudpickle", "beam:dill", "cloudpickle", "dill", "pickle")


def register(subparsers) -> None:
    check = subparsers.add_parser(
        "check",
        help="check that objects pickle (MODULE:ATTR ...)",
        description="Check that each object pickles, with the path to every culprit and the fix.",
    )
    check.add_argument(
        "targets",
        nargs="+",
        metavar="MODULE:ATTR",
        help="an importable object, e.g. my_pipeline.fns:MyDoFn or pkg.mod:make_fn()",
    )
    _common_options(check)
    check.set_defaults(func=_run_check)

    doctor = subparsers.add_parser(
        "doctor",
        help="check every fn, key and coder of a pipeline file, without running it",
        description="Build the pipelines of PATH.py (or the one FUNCTION returns) without running them, "
        "and report every fn that will not pickle, every grouping whose keys are not "
        "deterministic, and every PCollection that falls back to pickle.",
    )
    doctor.add_argument("target", metavar="PATH.py[:FUNCTION]")
    doctor.add_argument(
        "--pipeline-args",
        default="",
        metavar="'ARGS'",
        help="arguments for the file's own parser, as one quoted string (its sys.argv[1:])",
    )
    _common_options(doctor)
    doctor.set_defaults(func=_run_doctor)


def _common_options(parser) -> None:
    parser.add_argument("--format", choices=("text", "json", "junit"), default="text")
    parser.add_argument(
        "--backend",
        choices=(*BACKENDS, "all"),
        default=None,
        help="the pickler to check with (default: the one Beam will use); 'all' checks "
        "with Beam's and compares the others, like --compare",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also say which problems the other picklers would have (stdlib pickle is what multiprocessing uses)",
    )
    parser.add_argument(
        "--fresh-interpreter", action="store_true", help="also unpickle in a new Python process, as a worker would"
    )
    parser.add_argument(
        "--strict", action="store_true", help="warnings fail too (exit 1), and keys of unknown type are errors"
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show the log lines of Beam and of the checked code on stderr (they are dropped otherwise)",
    )


def _fail_usage(message: str) -> int:
    print(f"coderkit: {message}", file=sys.stderr)
    return 2


def _load_object(target: str) -> Any:
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"{target!r} is not MODULE:ATTR (for example my_pkg.fns:MyDoFn)")
    call = attr.endswith("()")
    attr = attr[:-2] if call else attr
    if "." not in sys.path and "" not in sys.path:
        sys.path.insert(0, "")
    module = importlib.import_module(module_name)
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"{module_name} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj() if call else obj


def _comparison_mode(args) -> None:
    """``--backend all`` is the comparison mode: check with Beam's pickler, compare the rest."""
    if args.backend == "all":
        args.backend, args.compare = None, True


def _run_check(args) -> int:
    _comparison_mode(args)
    from .check import check_many

    objects = []
    for target in args.targets:
        try:
            objects.append((target, _load_object(target)))
        except Exception as e:  # an import error in the user's module is a usage error here
            return _fail_usage(f"cannot load {target}: {type(e).__name__}: {e}")
    reports = check_many(objects, backend=args.backend, fresh_interpreter=args.fresh_interpreter)
    report = PicklabilityReport.merge(reports, backend=reports[0].backend)
    comparison = (
        _compare(
            lambda backend: PicklabilityReport.merge(
                check_many(objects, backend=backend, fresh_interpreter=False), backend=backend
            ),
            report,
        )
        if args.compare
        else None
    )
    return _finish(report, args, comparison, name="coderkit check")


@contextlib.contextmanager
def _report_only_on_stdout(verbose: bool) -> Iterator[None]:
    """While the checked code runs: its prints go to stderr, and log lines (Beam's ``apitools not found``,
    the script's own ``logging.info``) go to stderr with ``--verbose`` and nowhere otherwise, so stdout
    carries the report alone (valid JSON or JUnit XML with ``--format``)."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    handler: logging.Handler = logging.NullHandler()
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
    root.handlers = [handler]  # a handler on root also stops logging.warning() from calling basicConfig()
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        root.handlers = saved_handlers
        root.setLevel(saved_level)


def _run_doctor(args) -> int:
    with _report_only_on_stdout(args.verbose):
        outcome = _doctor_report(args)
    if isinstance(outcome, int):
        return outcome
    report, comparison = outcome
    return _finish(report, args, comparison, name=f"coderkit doctor {args.target}")


def _doctor_report(args) -> int | tuple[PicklabilityReport, list[str] | None]:
    """The doctor's report (and the comparison with other picklers), or an exit status for a usage error."""
    _comparison_mode(args)
    from .loader import LoadError, load_pipelines
    from .pipeline import check_pipeline

    try:
        loaded = load_pipelines(args.target, argv=shlex.split(args.pipeline_args))
    except LoadError as e:
        return _fail_usage(str(e))
    with loaded:
        if loaded.after_run_error:
            print(f"coderkit: note: {loaded.after_run_error}", file=sys.stderr)
        if not loaded.pipelines:
            return _fail_usage(
                f"{args.target} built no beam.Pipeline (name the function that builds it: "
                f"{args.target.split(':')[0]}:FUNCTION)"
            )
        # the file's own directory is on sys.path here, but not on a worker
        exclude = [loaded.directory]
        report = PicklabilityReport.merge(
            [
                check_pipeline(
                    p,
                    backend=args.backend,
                    fresh_interpreter=args.fresh_interpreter,
                    strict=args.strict,
                    exclude_paths=exclude,
                )
                for p in loaded.pipelines
            ]
        )
        report.root = args.target
        comparison = None
        if args.compare:
            comparison = _compare(
                lambda backend: PicklabilityReport.merge(
                    [
                        check_pipeline(p, backend=backend, check_keys=False, check_fallbacks=False)
                        for p in loaded.pipelines
                    ],
                    backend=backend,
                ),
                report,
            )
    return report, comparison


def _compare(check_with, report: PicklabilityReport) -> list[str]:
    """Which problems depend on the pickler: the chosen one against every other."""
    from .check import backend_differences

    reports = {report.backend: report}
    for backend in _COMPARE_WITH:
        if backend != report.backend:
            reports[backend] = check_with(backend)
    return backend_differences(reports)


def _finish(report: PicklabilityReport, args, comparison, *, name: str) -> int:
    sys.stdout.write(render(report, args.format, comparison=comparison, name=name, strict=args.strict))
    failed = not report.ok or (args.strict and report.warnings)
    return 1 if failed else 0


def render(
    report: PicklabilityReport, fmt: str, *, comparison=None, name: str = "coderkit", strict: bool = False
) -> str:
    """The report as text, JSON or JUnit XML (one testcase per checked label; with ``strict``,
    warnings are JUnit failures too, as they fail the exit status)."""
    if fmt == "json":
        data = report.to_dict()
        if comparison is not None:
            data["other_backends"] = comparison
        return json.dumps(data, indent=2, default=str) + "\n"
    if fmt == "junit":
        return _junit(report, name, strict=strict)
    text = str(report)
    if comparison is not None:
        lines = ["", "under other picklers:"]
        lines += [f"  {line}" for line in comparison] or ["  every pickler gives the same verdicts"]
        text += "\n" + "\n".join(lines)
    return text + "\n"


def _junit(report: PicklabilityReport, name: str, *, strict: bool = False) -> str:
    by_label: dict[str, list] = {}
    for problem in report.problems:
        by_label.setdefault(problem.label or report.root or "object", []).append(problem)
    cases = []
    failures = 0  # failing testcases, not problems: a JUnit reader expects failures <= tests
    for label, problems in by_label.items():
        failing = [p for p in problems if p.severity == "error" or strict]
        passing = [p for p in problems if not (p.severity == "error" or strict)]
        body = ""
        if failing:  # one <failure> per testcase (the JUnit schema's limit), listing every problem
            first = failing[0]
            message = f"{first.path}: {first.error}" + (f" (and {len(failing) - 1} more)" if len(failing) > 1 else "")
            body = (
                f"<failure message={quoteattr(message)} type={quoteattr(first.kind)}>"
                f"{escape(chr(10).join(map(str, failing)))}</failure>"
            )
            failures += 1
        if passing:
            body += f"<system-err>{escape(chr(10).join(map(str, passing)))}</system-err>"
        cases.append(f'  <testcase classname="coderkit" name={quoteattr(label)}>{body}</testcase>')
    if not cases:
        cases.append(f'  <testcase classname="coderkit" name={quoteattr(report.root or "all")}/>')
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n'
        f'<testsuite name={quoteattr(name)} tests="{len(cases)}" failures="{failures}" errors="0">\n'
        + "\n".join(cases)
        + "\n</testsuite>\n"
    )
