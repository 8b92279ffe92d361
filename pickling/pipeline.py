"""``check_pipeline``: one report for everything in a built Beam pipeline that will fail on the workers.

It visits every transform of a built (not run) pipeline and checks:

* every user fn: each DoFn, each CombineFn, the callables of Map/FlatMap/Filter and
  the extra arguments passed to them, with the pickler the pipeline's options select
  (``--pickle_library``), through :func:`pickling.check.check_many` (so every
  fresh-interpreter round trip shares one process);
* every grouping's keys, through :func:`coders.beam.validate_pipeline` (non-deterministic
  key coders, pickle fallbacks, keys that lose equality on a round trip), one finding per
  grouping with every reason (Beam's view and coderkit's); a key of unknown type is a
  warning (an error with ``strict``), since most pipelines never declare one;
* every class defined in ``__main__`` that Beam will encode by pickling it: a worker has no
  ``__main__.Cls`` under Beam's default pickler (cloudpickle), so encoding such values there
  fails. It is confirmed the way a worker loads it (a fresh interpreter that gets the class
  from Beam's pickler, and the main session when ``save_main_session`` restores one). Values
  that reach a grouping are always encoded: an error; elsewhere only when the runner does
  not fuse the steps: a warning. Fallbacks for importable classes are pickled by reference
  and work, so they are not reported.

Each problem is labelled with the full label of its transform. Beam's own internal fns
(defined in ``apache_beam``) are not checked unless ``include_internal=True``.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
import types
import typing
from typing import Any

from coders.naming import type_name

from .check import check_many
from .report import ERROR, WARNING, Leaf, PicklabilityReport, Problem

__all__ = ["check_pipeline", "pipeline_fns"]

_NATIVE = (int, float, str, bytes, bool, type(None), complex, bytearray)


def pipeline_fns(pipeline, *, include_internal: bool = False) -> list[tuple[str, str, Any]]:
    """``(label, root name, object)`` for every user object a worker will unpickle, outermost first."""
    from apache_beam.pipeline import PipelineVisitor

    found: list[tuple[str, str, Any]] = []
    seen: set[int] = set()

    def add(label: str, root: str, obj: Any) -> None:
        if obj is None or id(obj) in seen:
            return
        seen.add(id(obj))
        if not include_internal and _is_beam_internal(obj):
            return
        found.append((label, root, obj))

    def collect(applied) -> None:
        transform = applied.transform
        fn = getattr(transform, "fn", None)
        if fn is None:
            return
        label = applied.full_label
        user_fn = getattr(fn, "_fn", None) if type(fn).__name__ in _CALLABLE_WRAPPERS else None
        if user_fn is not None:
            user_fn = _unwrap_beam_wrapper(user_fn)
            add(label, _callable_name(user_fn), user_fn)
        else:
            add(label, type(fn).__name__, fn)
        for name in ("args", "kwargs"):
            extra = getattr(transform, name, None)
            if extra:
                add(label, name, extra)

    class Visitor(PipelineVisitor):
        def enter_composite_transform(self, applied):
            collect(applied)

        def visit_transform(self, applied):
            collect(applied)

    pipeline.visit(Visitor())
    return found


_CALLABLE_WRAPPERS = {"CallableWrapperDoFn", "CallableWrapperCombineFn"}


def _unwrap_beam_wrapper(fn):
    """The user's callable inside the lambda Beam wraps it in (``Map`` and ``Filter`` do)."""
    seen: set[int] = set()
    while isinstance(fn, types.FunctionType) and _is_beam_internal(fn) and id(fn) not in seen:
        seen.add(id(fn))
        inner = getattr(fn, "_argspec_fn", None)
        if inner is None:
            captured = [_cell(c) for c in (fn.__closure__ or ()) if callable(_cell(c))]
            inner = captured[0] if len(captured) == 1 else None
        if inner is None:
            break
        fn = inner
    return fn


def _cell(cell):
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return None


def _callable_name(fn) -> str:
    name = getattr(fn, "__name__", None)
    return name if name and name != "<lambda>" else ("lambda" if name else type(fn).__name__)


def _is_beam_internal(obj) -> bool:
    """True for fns Beam itself defines (Create's lambdas, Reshuffle's DoFns): not the user's to fix."""
    if isinstance(obj, (dict, list, tuple)):
        return False
    target = obj.func if isinstance(obj, functools.partial) else obj
    if isinstance(target, (types.FunctionType, types.MethodType, types.BuiltinFunctionType, type)):
        module = getattr(target, "__module__", None) or ""
    else:
        module = type(target).__module__
    return module == "apache_beam" or module.startswith("apache_beam.")


def _pickle_library(pipeline) -> str | None:
    from apache_beam.options.pipeline_options import SetupOptions

    options = getattr(pipeline, "_options", None)
    if options is None:
        return None
    library = options.view_as(SetupOptions).pickle_library
    return None if library in (None, "default") else library


def check_pipeline(
    pipeline,
    *,
    backend: str | None = None,
    fresh_interpreter: bool = False,
    include_internal: bool = False,
    check_keys: bool = True,
    check_fallbacks: bool = True,
    registry=None,
    strict: bool = False,
    **check_options,
) -> PicklabilityReport:
    """Check every fn, key and element coder of a built pipeline; one report, labelled by transform.

    ``backend`` defaults to the pickler the pipeline's own options select (Beam's
    cloudpickle, or dill with ``--pickle_library=dill``). ``strict`` makes a key of unknown
    type an error. Other keyword arguments go to :func:`pickling.check.check_many` (size
    thresholds, ``exclude_paths`` ...).
    """
    pickle_library = None
    if backend is None:
        backend, pickle_library = "beam", _pickle_library(pipeline)
    targets = pipeline_fns(pipeline, include_internal=include_internal)
    reports = check_many(
        [(label, obj) for label, _, obj in targets],
        backend=backend,
        pickle_library=pickle_library,
        fresh_interpreter=fresh_interpreter,
        root_names=[root for _, root, _ in targets],
        **check_options,
    )
    merged = PicklabilityReport.merge(reports, label=None, backend=reports[0].backend if reports else backend)
    merged.root = "pipeline"
    merged.checked = len(targets)
    key_classes: set[type] = set()
    if check_keys:
        for problem, classes in _key_problems(pipeline, registry, strict):
            merged.add(problem)
            key_classes.update(classes)
    if check_fallbacks:
        for problem in _fallback_problems(pipeline, reported=key_classes):
            merged.add(problem)
    return merged


_VIEW = {"beam_coder_rule": "Beam", "main_class_rule": "Beam", "coderkit_rule": "coderkit"}


def _key_problems(pipeline, registry, strict: bool) -> list[tuple[Problem, list[type]]]:
    """One problem per grouping (Beam's view and coderkit's of the same key are one finding, every reason
    listed), with the ``__main__`` classes it already reports."""
    from coders.beam import validate_pipeline
    from coders.beam.validate import _classes_in

    by_label: dict[str, list] = {}
    for finding in validate_pipeline(pipeline, registry=registry, strict=strict):
        by_label.setdefault(finding.label, []).append(finding)
    out = []
    for label, findings in by_label.items():
        first = findings[0]
        path = f"{first.transform} key"
        reasons, fixes = [], []
        for finding in findings:
            reason, _, inline_fix = finding.reason.partition(" Fix: ")
            reasons.append((finding, reason))
            fix = finding.fix or inline_fix
            if fix and fix not in fixes:
                fixes.append(fix)
        leaves = []
        if len(reasons) > 1:
            leaves = [
                Leaf(
                    f"{path} ({_VIEW.get(f.rule, 'Beam')}'s view)" if f.rule in _VIEW else path,
                    type_name(f.key_type),
                    r,
                )
                for f, r in reasons
            ]
        problem = Problem(
            path=path,
            type_name=type_name(first.key_type),
            error=reasons[0][1] if len(reasons) == 1 else f"{len(reasons)} reasons, each listed below",
            advice="; or ".join(fixes) or "key this grouping by a type with a deterministic coder",
            severity=ERROR if any(f.severity == ERROR for f in findings) else WARNING,
            label=label,
            kind="key",
            leaves=leaves,
        )
        main_classes = [c for f in findings if f.rule == "main_class_rule" for c in _classes_in(f.key_type)]
        out.append((problem, main_classes))
    return out


def _fallback_problems(pipeline, reported: set[type] = frozenset()) -> list[Problem]:
    """A problem for each ``__main__`` class whose values Beam will pickle, where a worker cannot pickle it.

    An error when its values reach a grouping (they are always encoded there), a warning when they only
    flow between fns the runner may fuse. Classes a key finding already reports are left to it.
    """
    from apache_beam.coders import typecoders
    from apache_beam.pipeline import PipelineVisitor

    from coders.beam.gbk import _to_typing
    from coders.beam.validate import _grouping_kind, runtime_type, workers_rebuild_main

    grouped: set[int] = set()  # PCollections that feed a grouping

    class Consumers(PipelineVisitor):
        def enter_composite_transform(self, applied):
            self.visit_transform(applied)

        def visit_transform(self, applied):
            if _grouping_kind(applied.transform) is not None:
                grouped.update(id(pc) for pc in applied.inputs)

    pipeline.visit(Consumers())
    found: dict[type, list] = {}  # class -> [label, tag, hint, coder, reaches a grouping]

    class Producers(PipelineVisitor):
        def visit_transform(self, applied):
            if not include_producer(applied):
                return
            for tag, pcoll in applied.outputs.items():
                hint = runtime_type(_to_typing(getattr(pcoll, "element_type", None)))
                for cls in _leaf_classes(hint):
                    if cls.__module__ != "__main__" or cls in reported:
                        continue
                    coder = typecoders.registry.get_coder(cls)
                    if not _pickles(coder):
                        continue
                    entry = found.get(cls)
                    if entry is None or (id(pcoll) in grouped and not entry[4]):
                        found[cls] = [applied.full_label, tag, hint, coder, id(pcoll) in grouped]

    def include_producer(applied) -> bool:
        """Outputs of the user's own fns; Beam's internal transforms are not the user's to fix."""
        fn = getattr(applied.transform, "fn", None)
        if not applied.outputs or fn is None:
            return False
        user_fn = getattr(fn, "_fn", None) if type(fn).__name__ in _CALLABLE_WRAPPERS else fn
        return not _is_beam_internal(_unwrap_beam_wrapper(user_fn))

    pipeline.visit(Producers())
    if not found or workers_rebuild_main(pipeline):  # dill with save_main_session: workers get __main__ back
        return []
    failures = _worker_pickle_errors(list(found), _pickle_library(pipeline))
    problems = []
    for cls, (label, tag, hint, coder, reaches_grouping) in found.items():
        error = failures.get(cls)
        if error is None:  # the worker could pickle it after all
            continue
        where = (
            "they reach a grouping, where every value is encoded"
            if reaches_grouping
            else "this fails wherever the runner encodes them (a step it does not fuse, a side input, a reshuffle)"
        )
        problems.append(
            Problem(
                path=f"output {tag}" if tag not in (None, "None") else "output",
                type_name=type_name(cls),
                error=(
                    f"{_what(hint, cls)} encoded by Beam with {type(coder).__name__}, which pickles them by "
                    f"reference, and a worker cannot: {error}; {where}"
                ),
                advice=_fallback_advice(cls),
                severity=ERROR if reaches_grouping else WARNING,
                label=label,
                kind="fallback",
            )
        )
    return problems


_WORKER_SCRIPT = """
import json, pickle, sys
from apache_beam.internal import pickler
library, payloads = json.load(sys.stdin)
pickler.set_library(library)
errors = []
for payload in payloads:
    try:
        pickle.dumps(pickler.loads(bytes.fromhex(payload)), pickle.HIGHEST_PROTOCOL)
        errors.append(None)
    except Exception as e:
        errors.append(f"{type(e).__name__}: {e}")
print(json.dumps(errors))
"""


def _worker_pickle_errors(classes: list[type], pickle_library: str | None) -> dict[type, str]:
    """What a worker says when it pickles each class the way Beam's pickle fallback does (by reference).

    The classes travel as they reach a worker (by value, in Beam's pickler, inside the fns
    that use them) into a fresh interpreter that does not run the pipeline's ``__main__``.
    """
    from apache_beam.internal import pickler

    library = pickle_library or "cloudpickle"
    previous = pickler.desired_pickle_lib
    with tempfile.TemporaryDirectory() as tmp:
        try:
            pickler.set_library(library)
            payloads = [pickler.dumps(cls).hex() for cls in classes]
        finally:
            pickler.desired_pickle_lib = previous
        result = subprocess.run(
            [sys.executable, "-c", _WORKER_SCRIPT],
            input=json.dumps([library, payloads]),
            capture_output=True,
            text=True,
            cwd=tmp,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))},
            timeout=300,
        )
    if result.returncode != 0:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return dict.fromkeys(classes, f"a fresh interpreter could not load it ({tail})")
    return {cls: error for cls, error in zip(classes, json.loads(result.stdout.splitlines()[-1])) if error}


def _what(hint, cls: type) -> str:
    if hint is cls:
        return f"elements of type {type_name(cls)} are"
    return f"elements of type {type_name(hint)} contain {type_name(cls)} values,"


def _fallback_advice(cls: type) -> str:
    from coders.typecoders import registry

    move = f"move {cls.__name__} into a module the workers can import"
    if not registry.fallbacks_in(cls):
        return (
            f"{move}, or call coders.beam.install() before building the pipeline: coderkit derives an exact coder "
            f"for {cls.__name__} and registers it with Beam, so nothing is pickled"
        )
    return (
        f"{move}, or register a coder (coders.register_coder({cls.__name__}, coder)) and call "
        f"coders.beam.install(); making {cls.__name__} a dataclass or NamedTuple lets coderkit derive one"
    )


def _leaf_classes(hint) -> list[type]:
    out: list[type] = []

    def walk(h) -> None:
        if h is typing.Any or h is None:
            return
        args = typing.get_args(h)
        if args:
            for a in args:
                if a is not Ellipsis:
                    walk(a)
            return
        if (
            isinstance(h, type)
            and not issubclass(h, _NATIVE)
            and h not in (tuple, list, dict, set, frozenset)
            and h not in out
            and h.__module__ != "typing"
        ):
            out.append(h)

    walk(hint)
    return out


def _pickles(coder) -> bool:
    """Beam's own pickling coders, or coderkit's Beam wrapper around a coderkit pickle fallback."""
    from coders.beam.adapter import CoderkitBeamCoder
    from coders.beam.validate import beam_coder_pickles
    from coders.pickle import CloudpickleCoder, PickleCoder

    if isinstance(coder, CoderkitBeamCoder):
        return any(isinstance(c, (PickleCoder, CloudpickleCoder)) for c in coder.coder.walk())
    return beam_coder_pickles(coder)
