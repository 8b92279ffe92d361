"""``check_pipeline``: one report for everything in a built Beam pipeline that will fail on the workers.

It visits every transform of a built (not run) pipeline and checks:

* every user fn: each DoFn, each CombineFn, the callables of Map/FlatMap/Filter and
  the extra arguments passed to them, with the pickler the pipeline's options select
  (``--pickle_library``), through :func:`pickling.check.check_many` (so every
  fresh-interpreter round trip shares one process);
* every grouping's keys, through :func:`coders.beam.validate_pipeline` (non-deterministic
  key coders, pickle fallbacks, keys that lose equality on a round trip);
* every PCollection whose declared element type contains a class that Beam will encode
  by pickling it (slow, and not deterministic), as a warning.

Each problem is labelled with the full label of its transform. Beam's own internal fns
(defined in ``apache_beam``) are not checked unless ``include_internal=True``.
"""

from __future__ import annotations

import functools
import types
import typing
from typing import Any

from .check import check_many
from .report import ERROR, WARNING, PicklabilityReport, Problem

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
    **check_options,
) -> PicklabilityReport:
    """Check every fn, key and element coder of a built pipeline; one report, labelled by transform.

    ``backend`` defaults to the pickler the pipeline's own options select (Beam's
    cloudpickle, or dill with ``--pickle_library=dill``). Other keyword arguments go to
    :func:`pickling.check.check_many` (size thresholds, ``exclude_paths`` ...).
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
    if check_keys:
        for problem in _key_problems(pipeline, registry):
            merged.add(problem)
    if check_fallbacks:
        for problem in _fallback_problems(pipeline):
            merged.add(problem)
    return merged


def _key_problems(pipeline, registry) -> list[Problem]:
    from coders.beam import validate_pipeline

    problems = []
    for finding in validate_pipeline(pipeline, registry=registry):
        reason, _, inline_fix = finding.reason.partition(" Fix: ")
        problems.append(
            Problem(
                path=f"{finding.transform} key",
                type_name=_type_name(finding.key_type),
                error=reason,
                advice=finding.fix or inline_fix or "key this grouping by a type with a deterministic coder",
                severity=ERROR,
                label=finding.label,
                kind="key",
            )
        )
    return problems


def _fallback_problems(pipeline) -> list[Problem]:
    """A warning for each (producing transform, class) whose values Beam will pickle."""
    from apache_beam.coders import typecoders
    from apache_beam.pipeline import PipelineVisitor

    from coders.beam.gbk import _to_typing

    problems: list[Problem] = []
    checked: set[Any] = set()  # each class once, at the first transform that produces it

    class Visitor(PipelineVisitor):
        def visit_transform(self, applied):
            if not include_producer(applied):
                return
            for tag, pcoll in applied.outputs.items():
                hint = _to_typing(getattr(pcoll, "element_type", None))
                for cls in _leaf_classes(hint):
                    if cls in checked:
                        continue
                    checked.add(cls)
                    coder = typecoders.registry.get_coder(cls)
                    if _pickles(coder):
                        problems.append(
                            Problem(
                                path=f"output {tag}" if tag not in (None, "None") else "output",
                                type_name=_type_name(cls),
                                error=(
                                    f"{_what(hint, cls)} encoded by Beam with {type(coder).__name__}, which "
                                    "pickles each value: slow, and not deterministic"
                                ),
                                advice=_fallback_advice(cls),
                                severity=WARNING,
                                label=applied.full_label,
                                kind="fallback",
                            )
                        )

    def include_producer(applied) -> bool:
        """Outputs of the user's own fns; Beam's internal transforms are not the user's to fix."""
        fn = getattr(applied.transform, "fn", None)
        if not applied.outputs or fn is None:
            return False
        user_fn = getattr(fn, "_fn", None) if type(fn).__name__ in _CALLABLE_WRAPPERS else fn
        return not _is_beam_internal(_unwrap_beam_wrapper(user_fn))

    pipeline.visit(Visitor())
    return problems


def _what(hint, cls: type) -> str:
    if hint is cls:
        return f"elements of type {_type_name(cls)} are"
    return f"elements of type {_type_name(hint)} contain {_type_name(cls)} values,"


def _fallback_advice(cls: type) -> str:
    from coders.typecoders import registry

    if not registry.fallbacks_in(cls):
        return (
            f"coderkit derives an exact coder for {cls.__name__}: call coders.beam.install() before "
            "building the pipeline (it registers coderkit's coders with Beam)"
        )
    return (
        f"register a coder (coders.register_coder({cls.__name__}, coder)) and call coders.beam.install(); "
        f"if {cls.__name__} is your own class, making it a dataclass or NamedTuple lets coderkit derive one"
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


def _type_name(hint) -> str:
    from coders.naming import type_name

    return type_name(hint)
